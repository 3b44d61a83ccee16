//! `DirSink`: `DIR/<hirer>/<position>/<profile>/{profile.json, manifest.json, attachments/}`.
//! A profile is assembled in `DIR/.candex/staging/<profile>` and renamed into place whole, so a
//! profile folder is either complete or absent; a re-export replaces the folder, and an erasure
//! moves the candidate's folders out of the tree (one rename each) and deletes them.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{
    blocking, remove_staging, staging_in, tidy_staging, Erasure, Export, FetchedAttachment, ProfileMeta, Sink,
};
use crate::files::{create_private_dir, remove_dir_if_exists, sync_dir, sync_parent, write_atomic};
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

    fn commit_blocking(&self, export: &Export) -> Result<PathBuf, ExportError> {
        let staging = &export.staging;
        let attachments_dir = staging.join("attachments");
        create_private_dir(&attachments_dir)?;
        let mut entries = Vec::with_capacity(export.attachments.len());
        for attachment in &export.attachments {
            let dest = attachments_dir.join(&attachment.file_name);
            std::fs::rename(&attachment.staged, &dest).map_err(|e| ExportError::io(&dest, e))?;
            entries.push(ManifestEntry { path: format!("attachments/{}", attachment.file_name), attachment });
        }
        sync_dir(&attachments_dir)?;
        let manifest = Manifest { meta: &export.meta, exported_at: &export.exported_at, attachments: entries };
        let manifest = serde_json::to_vec_pretty(&manifest).map_err(|e| ExportError::Unusable(e.to_string()))?;
        write_atomic(&staging.join("manifest.json"), &manifest)?;
        let mut profile = export.raw.get().as_bytes().to_vec();
        profile.push(b'\n');
        write_atomic(&staging.join("profile.json"), &profile)?;
        sync_dir(staging)?;

        let relative = Self::relative_location(&export.meta);
        let target = self.root.join(&relative);
        let parent = target.parent().unwrap_or(&self.root);
        create_private_dir(parent)?;
        if target.exists() {
            // A re-export (SEEK re-sends events when it fixes data): park the old folder, move
            // the new one in, then delete the old one. A crash in between leaves the event
            // pending, so the rerun completes it.
            let mut parked = staging.clone().into_os_string();
            parked.push(".old");
            let parked = PathBuf::from(parked);
            remove_dir_if_exists(&parked)?;
            std::fs::rename(&target, &parked).map_err(|e| ExportError::io(&target, e))?;
            std::fs::rename(staging, &target).map_err(|e| ExportError::io(&target, e))?;
            sync_parent(&target)?;
            remove_dir_if_exists(&parked)?;
        } else {
            std::fs::rename(staging, &target).map_err(|e| ExportError::io(&target, e))?;
            sync_parent(&target)?;
        }
        sync_dir(&self.staging_root)?;
        Ok(relative)
    }
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
        let sink = DirSink { root: self.root.clone(), staging_root: self.staging_root.clone() };
        let meta = export.meta.clone();
        let relative = tokio::task::spawn_blocking(move || sink.commit_blocking(&export))
            .await
            .map_err(|e| ExportError::Unusable(format!("commit task failed: {e}")))??;
        state.finish(&meta.event_id, &meta.profile_id, &relative.to_string_lossy()).await
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

    #[tokio::test]
    async fn a_re_export_replaces_the_folder_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path().join("out");
        let state = State::open(&root.join(".candex/state.db")).await.expect("state");
        let sink = DirSink::open(&root).expect("open");
        let meta = |event: &str| ProfileMeta {
            profile_id: "seekAnz:candidateProfile:apply:P".into(),
            hirer_id: "seekAnz:organization:seek:H".into(),
            position_id: Some("../../escape".into()),
            candidate_id: None,
            event_id: event.into(),
        };
        for (event, files) in [("e1", vec!["old.txt", "gone.txt"]), ("e2", vec!["new.txt"])] {
            let inbox = InboxEvent {
                event_id: event.into(),
                type_code: APPLICATION_CREATED.into(),
                profile_id: Some("seekAnz:candidateProfile:apply:P".into()),
                candidate_id: None,
                hirer_id: None,
            };
            state.enqueue(&[inbox]).await.expect("enqueue");
            let staging = sink.staging(&meta(event)).await.expect("staging");
            let attachments = files
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let staged = staging.join(format!("attachment-{i}"));
                    std::fs::write(&staged, name).expect("stage");
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
            let export = Export {
                meta: meta(event),
                raw: serde_json::value::RawValue::from_string(format!("{{\"event\":\"{event}\"}}")).expect("raw"),
                profile: Default::default(),
                attachments,
                staging,
                exported_at: String::new(),
            };
            sink.commit(export, &state).await.expect("commit");
        }
        let folder = root.join("seekAnz_organization_seek_H/_.._escape/seekAnz_candidateProfile_apply_P");
        let profile: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("profile.json")).expect("profile")).expect("json");
        assert_eq!(profile["event"], "e2");
        let names: Vec<_> = std::fs::read_dir(folder.join("attachments"))
            .expect("attachments")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        assert_eq!(names, ["new.txt"]);
        sink.tidy().await.expect("tidy");
        assert!(!root.join(".candex/staging").exists(), "staging left behind");
        assert_eq!(
            state.exported_location("seekAnz:candidateProfile:apply:P").await.expect("loc").as_deref(),
            Some("seekAnz_organization_seek_H/_.._escape/seekAnz_candidateProfile_apply_P")
        );
    }
}
