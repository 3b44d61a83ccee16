//! `DirSink`: `DIR/<hirer>/<position>/<profile>/{profile.json, manifest.json, attachments/}`.
//! A profile is assembled in `DIR/.candex/staging/<profile>` and renamed into place whole, so a
//! profile folder is either complete or absent; exports commit in groups, made durable with one
//! file-system sync before and one after the renames; a re-export replaces the folder, and an
//! erasure moves the candidate's folders out of the tree (one rename each) and deletes them.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{
    blocking, remove_staging, staging_in, tidy_staging, Erasure, Export, FetchedAttachment, ProfileMeta, Sink,
};
#[cfg(target_os = "linux")]
use crate::files::sync_filesystem;
use crate::files::{create_private_dir, remove_dir_if_exists, sync_dir, sync_file, sync_parent, write_private};
use crate::names::safe_name;
use crate::{ExportError, State};

/// Folder name used when the profile names no job ad.
pub const NO_POSITION: &str = "no-position";

/// The folder-tree sink.
#[derive(Debug)]
pub struct DirSink {
    root: PathBuf,
    staging_root: PathBuf,
}

/// `manifest.json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    #[serde(flatten)]
    meta: &'a ProfileMeta,
    exported_at: &'a str,
    attachments: Vec<ManifestEntry<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestEntry<'a> {
    /// `attachments/<file name>`, relative to the profile folder.
    path: String,
    #[serde(flatten)]
    attachment: &'a FetchedAttachment,
}

impl DirSink {
    /// Opens (creating, owner-only) the folder and clears what an interrupted replacement left.
    pub fn open(root: &Path) -> Result<DirSink, ExportError> {
        create_private_dir(root)?;
        let staging_root = root.join(".candex").join("staging");
        create_private_dir(&staging_root)?;
        // A crash during a replacement can leave the previous folder parked as `*.old`.
        if let Ok(entries) = std::fs::read_dir(&staging_root) {
            for entry in entries.flatten() {
                if entry.path().extension().is_some_and(|e| e == "old") {
                    remove_dir_if_exists(&entry.path())?;
                }
            }
        }
        Ok(DirSink { root: root.to_path_buf(), staging_root })
    }

    /// `<hirer>/<position>/<profile>`, each part a safe name.
    pub fn relative_location(meta: &ProfileMeta) -> PathBuf {
        let position = meta.position_id.as_deref().unwrap_or(NO_POSITION);
        PathBuf::from(safe_name(&meta.hirer_id, "unknown-hirer"))
            .join(safe_name(position, NO_POSITION))
            .join(safe_name(&meta.profile_id, "profile"))
    }

    /// Commits a group: each export is laid out in its staging folder, the file system is synced
    /// once, the folders are moved into place, and it is synced once more; only then does the
    /// state record them. A folder is in the tree only once everything in it is durable, so a
    /// crash leaves each profile's folder complete or absent (or the previous export), and the
    /// events not yet recorded are exported again by the next run. Returns each export's folder
    /// (relative to the root) or why it failed.
    fn commit_group_blocking(&self, exports: &[Export]) -> Vec<Result<PathBuf, ExportError>> {
        let sync = Sync::for_group(exports.len());
        let mut outcomes: Vec<Result<PathBuf, ExportError>> =
            exports.iter().map(|export| Self::assemble(export, sync).map(|()| PathBuf::new())).collect();
        if let Err(e) = self.sync(&self.staging_root, sync) {
            return fail_all(outcomes, &e);
        }
        let mut parked = Vec::new();
        for (export, outcome) in exports.iter().zip(&mut outcomes) {
            if outcome.is_ok() {
                *outcome = self.publish(export, &mut parked, sync);
            }
        }
        if let Err(e) = self.sync(&self.root, sync) {
            return fail_all(outcomes, &e);
        }
        // The earlier exports these replaced; a crash before this leaves them parked in the
        // staging area, and `open` deletes them.
        for old in parked {
            if let Err(e) = remove_dir_if_exists(&old) {
                tracing::warn!(error = %e, "could not delete a replaced export; the next run deletes it");
            }
        }
        outcomes
    }

    /// Lays out a staged export: its downloads moved into `attachments/`, `manifest.json` and
    /// `profile.json` written beside them (each fsynced as it is written when the group is not
    /// synced at once).
    fn assemble(export: &Export, sync: Sync) -> Result<(), ExportError> {
        let each = sync == Sync::Each;
        let staging = &export.staging;
        let attachments_dir = staging.join("attachments");
        create_private_dir(&attachments_dir)?;
        let mut entries = Vec::with_capacity(export.attachments.len());
        for attachment in &export.attachments {
            if each {
                sync_file(&attachment.staged)?;
            }
            let dest = attachments_dir.join(&attachment.file_name);
            std::fs::rename(&attachment.staged, &dest).map_err(|e| ExportError::io(&dest, e))?;
            entries.push(ManifestEntry { path: format!("attachments/{}", attachment.file_name), attachment });
        }
        let manifest = Manifest { meta: &export.meta, exported_at: &export.exported_at, attachments: entries };
        let manifest = serde_json::to_vec_pretty(&manifest).map_err(|e| ExportError::Unusable(e.to_string()))?;
        write_private(&staging.join("manifest.json"), &manifest, each)?;
        let mut profile = export.raw.get().as_bytes().to_vec();
        profile.push(b'\n');
        write_private(&staging.join("profile.json"), &profile, each)?;
        if each {
            sync_dir(&attachments_dir)?;
            sync_dir(staging)?;
        }
        Ok(())
    }

    /// Moves an assembled staging folder into place. A re-export (SEEK re-sends events when it
    /// fixes data) parks the earlier folder in the staging area first (added to `parked`, deleted
    /// once the move is durable), so the tree never shows a mix of the two.
    fn publish(&self, export: &Export, parked: &mut Vec<PathBuf>, sync: Sync) -> Result<PathBuf, ExportError> {
        let staging = &export.staging;
        let relative = Self::relative_location(&export.meta);
        let target = self.root.join(&relative);
        let parent = target.parent().unwrap_or(&self.root);
        create_private_dir(parent)?;
        if target.exists() {
            let mut old = staging.clone().into_os_string();
            old.push(".old");
            let old = PathBuf::from(old);
            remove_dir_if_exists(&old)?;
            std::fs::rename(&target, &old).map_err(|e| ExportError::io(&target, e))?;
            parked.push(old);
        }
        std::fs::rename(staging, &target).map_err(|e| ExportError::io(&target, e))?;
        if sync == Sync::Each {
            sync_parent(&target)?;
        }
        Ok(relative)
    }

    /// Makes the group's writes under `dir` durable: one `syncfs`; or, when each file and
    /// folder was fsynced as it was written, the staging area's entries.
    fn sync(&self, dir: &Path, sync: Sync) -> Result<(), ExportError> {
        match sync {
            #[cfg(target_os = "linux")]
            Sync::FileSystem => sync_filesystem(dir),
            _ => {
                let _ = dir;
                sync_dir(&self.staging_root)
            }
        }
    }
}

#[cfg(target_os = "linux")]
/// Groups of fewer exports than this are fsynced file by file: `syncfs` waits for every dirty
/// page of the file system, other programs' included, which on a busy volume can cost more
/// than the few fsyncs of a lone export (`candex export listen` between bursts).
const GROUP_SYNC_MIN: usize = 4;

/// How a group's writes are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    /// Each file and folder fsynced as it is written.
    Each,
    /// Once for the whole file system (`syncfs`, Linux), before the renames and after.
    #[cfg(target_os = "linux")]
    FileSystem,
}

impl Sync {
    fn for_group(len: usize) -> Sync {
        #[cfg(target_os = "linux")]
        if len >= GROUP_SYNC_MIN {
            return Sync::FileSystem;
        }
        let _ = len;
        Sync::Each
    }
}

/// Every export of the group that has not failed already fails with `e` (a failed sync: none of
/// them is known to be durable, so none is recorded, and each is retried).
fn fail_all(outcomes: Vec<Result<PathBuf, ExportError>>, e: &ExportError) -> Vec<Result<PathBuf, ExportError>> {
    let (path, kind, message) = match e {
        ExportError::Io { path, source } => (path.clone(), source.kind(), source.to_string()),
        other => (PathBuf::new(), std::io::ErrorKind::Other, other.to_string()),
    };
    outcomes
        .into_iter()
        .map(|outcome| outcome.and_then(|_| Err(ExportError::io(&path, std::io::Error::new(kind, message.clone())))))
        .collect()
}

impl DirSink {
    /// Removes the erased candidate's profile folders: each is renamed out of the tree into the
    /// staging area (so no half-deleted folder is ever visible), the parent fsynced, then deleted.
    fn erase_blocking(root: &Path, staging_root: &Path, erasure: &Erasure) -> Result<(), ExportError> {
        remove_staging(staging_root, erasure)?;
        for profile in &erasure.profiles {
            let Some(location) = &profile.location else { continue };
            let target = root.join(location);
            if !target.starts_with(root) || target == root {
                continue;
            }
            let parked = staging_root.join(format!("{}.old", safe_name(&profile.profile_id, "profile")));
            remove_dir_if_exists(&parked)?;
            match std::fs::rename(&target, &parked) {
                Ok(()) => sync_parent(&target)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(ExportError::io(&target, e)),
            }
            remove_dir_if_exists(&parked)?;
        }
        sync_dir(staging_root)
    }
}

#[async_trait::async_trait]
impl Sink for DirSink {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    async fn staging(&self, meta: &ProfileMeta) -> Result<PathBuf, ExportError> {
        staging_in(&self.staging_root, &meta.profile_id).await
    }

    async fn commit(&self, export: Export, state: &State) -> Result<(), ExportError> {
        let mut outcomes = self.commit_group(vec![export], state).await?;
        outcomes.pop().unwrap_or_else(|| Err(ExportError::Unusable("the commit lost its export".into())))
    }

    async fn commit_group(
        &self,
        exports: Vec<Export>,
        state: &State,
    ) -> Result<Vec<Result<(), ExportError>>, ExportError> {
        let sink = DirSink { root: self.root.clone(), staging_root: self.staging_root.clone() };
        let (exports, outcomes) = tokio::task::spawn_blocking(move || {
            let outcomes = sink.commit_group_blocking(&exports);
            (exports, outcomes)
        })
        .await
        .map_err(|e| ExportError::Unusable(format!("commit task failed: {e}")))?;
        let done: Vec<_> = exports
            .iter()
            .zip(&outcomes)
            .filter_map(|(export, outcome)| {
                let relative = outcome.as_ref().ok()?;
                Some((export.meta.event_id.as_str(), export.meta.profile_id.as_str(), relative.to_string_lossy()))
            })
            .collect();
        state.finish_many(&done).await?;
        Ok(outcomes.into_iter().map(|o| o.map(drop)).collect())
    }

    async fn erase(&self, erasure: &Erasure, state: &State) -> Result<u64, ExportError> {
        let (root, staging_root, work) = (self.root.clone(), self.staging_root.clone(), erasure.clone());
        blocking(move || Self::erase_blocking(&root, &staging_root, &work)).await?;
        let removed = erasure.exported();
        state.finish_erasure(&erasure.event_id, &erasure.candidate_id, &erasure.profiles, removed, &[]).await?;
        Ok(removed)
    }

    async fn tidy(&self) -> Result<(), ExportError> {
        tidy_staging(&self.staging_root);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{InboxEvent, APPLICATION_CREATED};

    fn meta(profile: &str, event: &str) -> ProfileMeta {
        ProfileMeta {
            profile_id: format!("seekAnz:candidateProfile:apply:{profile}"),
            hirer_id: "seekAnz:organization:seek:H".into(),
            position_id: Some("../../escape".into()),
            candidate_id: None,
            event_id: event.into(),
        }
    }

    /// Enqueues `event` for `profile` and stages an export of it whose attachments are `files`
    /// (each file holding its own name; a name starting with `missing` is never written).
    async fn staged(sink: &DirSink, state: &State, profile: &str, event: &str, files: &[&str]) -> Export {
        let meta = meta(profile, event);
        let inbox = InboxEvent {
            event_id: event.into(),
            type_code: APPLICATION_CREATED.into(),
            profile_id: Some(meta.profile_id.clone()),
            candidate_id: None,
            hirer_id: None,
        };
        state.enqueue(&[inbox]).await.expect("enqueue");
        let staging = sink.staging(&meta).await.expect("staging");
        let attachments = files
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let staged = staging.join(format!("attachment-{i}"));
                if !name.starts_with("missing") {
                    std::fs::write(&staged, name).expect("stage");
                }
                FetchedAttachment {
                    id: None,
                    seek_role_code: None,
                    descriptions: vec![],
                    file_name: (*name).into(),
                    original_filename: None,
                    content_type: None,
                    size: name.len() as u64,
                    sha256: String::new(),
                    source_url: String::new(),
                    fetched_at: String::new(),
                    blob: None,
                    staged,
                }
            })
            .collect();
        Export {
            meta,
            raw: serde_json::value::RawValue::from_string(format!("{{\"event\":\"{event}\"}}")).expect("raw"),
            profile: Default::default(),
            attachments,
            staging,
            exported_at: String::new(),
        }
    }

    fn folder(root: &Path, profile: &str) -> PathBuf {
        root.join(format!("seekAnz_organization_seek_H/_.._escape/seekAnz_candidateProfile_apply_{profile}"))
    }

    fn event_of(folder: &Path) -> serde_json::Value {
        let profile: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("profile.json")).expect("profile")).expect("json");
        profile["event"].clone()
    }

    fn attachment_names(folder: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(folder.join("attachments"))
            .expect("attachments")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_re_export_replaces_the_folder_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path().join("out");
        let state = State::open(&root.join(".candex/state.db")).await.expect("state");
        let sink = DirSink::open(&root).expect("open");
        for (event, files) in [("e1", &["old.txt", "gone.txt"][..]), ("e2", &["new.txt"][..])] {
            let export = staged(&sink, &state, "P", event, files).await;
            sink.commit(export, &state).await.expect("commit");
        }
        let folder = folder(&root, "P");
        assert_eq!(event_of(&folder), "e2");
        assert_eq!(attachment_names(&folder), ["new.txt"]);
        sink.tidy().await.expect("tidy");
        assert!(!root.join(".candex/staging").exists(), "staging left behind");
        assert_eq!(
            state.exported_location("seekAnz:candidateProfile:apply:P").await.expect("loc").as_deref(),
            Some("seekAnz_organization_seek_H/_.._escape/seekAnz_candidateProfile_apply_P")
        );
    }

    #[tokio::test]
    async fn a_group_commits_together_and_a_failed_export_fails_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path().join("out");
        let state = State::open(&root.join(".candex/state.db")).await.expect("state");
        let sink = DirSink::open(&root).expect("open");
        let first = staged(&sink, &state, "A", "e1", &["first.txt"]).await;
        sink.commit(first, &state).await.expect("first export of A");

        // One group (synced at once: a lone export above is fsynced file by file): a re-export
        // of A, new profiles B and D, and C whose download went missing.
        let group = vec![
            staged(&sink, &state, "A", "e2", &["second.txt"]).await,
            staged(&sink, &state, "B", "e3", &["b1.txt", "b2.txt"]).await,
            staged(&sink, &state, "C", "e4", &["c.txt", "missing.txt"]).await,
            staged(&sink, &state, "D", "e5", &[]).await,
        ];
        let outcomes = sink.commit_group(group, &state).await.expect("the state did not fail");
        assert!(outcomes[0].is_ok() && outcomes[1].is_ok() && outcomes[3].is_ok(), "{outcomes:?}");
        match &outcomes[2] {
            Err(ExportError::Io { path, .. }) => assert!(path.ends_with("attachments/missing.txt"), "{path:?}"),
            other => panic!("C should fail on its missing file: {other:?}"),
        }

        assert_eq!(event_of(&folder(&root, "A")), "e2");
        assert_eq!(attachment_names(&folder(&root, "A")), ["second.txt"]);
        assert_eq!(event_of(&folder(&root, "B")), "e3");
        assert_eq!(attachment_names(&folder(&root, "B")), ["b1.txt", "b2.txt"]);
        assert!(!folder(&root, "C").exists(), "a failed export never appears in the tree");
        assert_eq!(event_of(&folder(&root, "D")), "e5");
        assert!(attachment_names(&folder(&root, "D")).is_empty());
        for (profile, recorded) in [("A", true), ("B", true), ("C", false), ("D", true)] {
            let location = state.exported_location(&format!("seekAnz:candidateProfile:apply:{profile}")).await;
            assert_eq!(location.expect("location").is_some(), recorded, "{profile}");
        }
        let counts = state.counts().await.expect("counts");
        assert_eq!((counts.done, counts.pending), (4, 1), "{counts:?}");
        let parked: Vec<_> = std::fs::read_dir(root.join(".candex/staging"))
            .expect("staging")
            .map(|e| e.expect("entry").file_name())
            .filter(|n| n.to_string_lossy().ends_with(".old"))
            .collect();
        assert!(parked.is_empty(), "the replaced export of A is deleted: {parked:?}");
    }
}
