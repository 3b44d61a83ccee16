//! One `candex serve` per SQLite file: an exclusive lock on `FILE.lock` beside the database,
//! which also says who holds it, so a second server refuses to start and names the first.
//!
//! The lock is the kernel's (`flock`), released when the process ends however it ends; the
//! file itself stays (deleting it on exit would let two servers lock two different files).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct ServeLock {
    file: File,
    path: PathBuf,
}

/// The lock file of the SQLite database at `database`.
pub fn path_for(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl ServeLock {
    /// Takes the lock of `database`, or says which server holds it.
    pub fn acquire(database: &Path) -> anyhow::Result<ServeLock> {
        let path = path_for(database);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() { "a process that is starting" } else { holder };
                anyhow::bail!(
                    "the database {} is already served by another candex serve ({holder}; lock file {}). Stop \
                     that server first, or give this one another --database (several servers can share a \
                     PostgreSQL database, not an SQLite file)",
                    database.display(),
                    path.display()
                );
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        let mut lock = ServeLock { file, path };
        lock.record(&format!("pid {}", std::process::id()))?;
        Ok(lock)
    }

    /// Records who holds the lock, for the message another server prints.
    pub fn record(&mut self, holder: &str) -> anyhow::Result<()> {
        let text = format!("{holder}, since {}\n", chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"));
        (|| {
            self.file.set_len(0)?;
            self.file.rewind()?;
            self.file.write_all(text.as_bytes())?;
            self.file.flush()
        })()
        .with_context(|| format!("cannot write the lock file {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let mut first = ServeLock::acquire(&db).unwrap();
        first.record("pid 1, listening on http://127.0.0.1:1").unwrap();
        let err = ServeLock::acquire(&db).unwrap_err().to_string();
        assert!(err.contains("pid 1, listening on http://127.0.0.1:1, since"), "{err}");
        assert!(err.contains("c.db.lock"), "{err}");
        drop(first);
        ServeLock::acquire(&db).expect("free again once the first is gone");
    }
}
