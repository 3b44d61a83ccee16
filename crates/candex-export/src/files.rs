//! Owner-only, crash-safe file operations: private folders and files, fsyncs of files and
//! folders, and one sync for a whole file system.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ExportError;

/// Creates `dir` and missing parents, readable by the owner only (candidate data is personal data).
pub fn create_private_dir(dir: &Path) -> Result<(), ExportError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| ExportError::io(dir, e))
}

/// Opens `path` for appending, creating it readable by the owner only.
pub fn open_private_append(path: &Path) -> Result<std::fs::File, ExportError> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true).read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| ExportError::io(path, e))
}

/// Creates an empty owner-only file if `path` does not exist (so tools that create it later,
/// like SQLite, keep those permissions).
pub fn touch_private(path: &Path) -> Result<(), ExportError> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop).map_err(|e| ExportError::io(path, e))
}

/// `path` with `.tmp` appended to its name.
pub fn temp_beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Fsyncs a folder so renames and creations inside it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<(), ExportError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| ExportError::io(dir, e))
}

/// Fsyncs a file's contents.
pub fn sync_file(path: &Path) -> Result<(), ExportError> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(|e| ExportError::io(path, e))
}

/// Makes everything written to the file system holding `path` durable with one `syncfs(2)`
/// (Linux): the group commit's one sync for a whole group's files, folders and renames, instead
/// of an fsync per file and folder. Since Linux 5.8 it reports write-back errors of any file on
/// that file system, so a failed write cannot pass unnoticed.
#[cfg(target_os = "linux")]
pub fn sync_filesystem(path: &Path) -> Result<(), ExportError> {
    let dir = std::fs::File::open(path).map_err(|e| ExportError::io(path, e))?;
    rustix::fs::syncfs(&dir).map_err(|e| ExportError::io(path, e.into()))
}

/// Writes a new owner-only file (no temp name: it is inside a private staging folder that is
/// published whole), fsynced only when `sync`.
pub fn write_private(path: &Path, bytes: &[u8], sync: bool) -> Result<(), ExportError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(path).and_then(|mut file| {
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        Ok(())
    });
    written.map_err(|e| ExportError::io(path, e))
}

/// Fsyncs the folder holding `path`.
pub fn sync_parent(path: &Path) -> Result<(), ExportError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

/// Removes a folder tree if it exists.
pub fn remove_dir_if_exists(dir: &Path) -> Result<(), ExportError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ExportError::io(dir, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_writes_replace_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("profile.json");
        write_private(&path, b"one, longer", true).expect("write");
        write_private(&path, b"two", false).expect("rewrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
    }

    #[cfg(unix)]
    #[test]
    fn files_and_folders_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let sub = dir.path().join("a/b");
        create_private_dir(&sub).expect("mkdir");
        let file = sub.join("x.json");
        write_private(&file, b"{}", true).expect("write");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&file), 0o600);
    }
}
