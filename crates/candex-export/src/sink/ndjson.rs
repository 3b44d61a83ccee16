//! `NdjsonSink`: one JSON line per exported profile (`profile` exactly as received, its ids and
//! its attachments' manifest entries), attachment files content-addressed in a folder beside it.
//!
//! In a file, each line is written, fsynced and recorded in the state (with the file's committed
//! length) under one lock; on restart anything past the committed length — a torn or unrecorded
//! line — is cut off, so the file never holds a partial or doubled line. On stdout a crash can
//! repeat the last lines (at-least-once); readers keep the last line per `profileId`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::sync::Mutex;

use super::{
    blocking, move_to_blobs, remove_blob, remove_staging, staging_in, tidy_staging, Erasure, Export, FetchedAttachment,
    ProfileMeta, Sink,
};
use crate::files::{create_private_dir, open_private_append, sync_parent, temp_beside, touch_private};
use crate::{ExportError, State};

const COMMITTED_KEY: &str = "ndjson_committed_bytes";
/// The length of a rewritten file (an erasure) about to replace the output: if a crash comes
/// between the rename and the state's update, the file of that length is the committed one.
const REWRITE_KEY: &str = "ndjson_rewrite_bytes";

/// What an erasure reads of a line: its ids and its attachment files (the profile is skipped).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineIds {
    #[serde(default)]
    profile_id: Option<String>,
    #[serde(default)]
    candidate_id: Option<String>,
    #[serde(default)]
    attachments: Vec<LineBlob>,
}

#[derive(serde::Deserialize)]
struct LineBlob {
    #[serde(default)]
    blob: Option<String>,
}

/// A tombstone line on stdout, where an erased profile's lines cannot be taken back.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tombstone<'a> {
    profile_id: &'a str,
    candidate_id: &'a str,
    event_id: &'a str,
    erased: bool,
}

/// Calls `each` with every line of `path` (without its newline), one line in memory at a time.
fn for_each_line(path: &Path, mut each: impl FnMut(&[u8]) -> Result<(), ExportError>) -> Result<(), ExportError> {
    let file = std::fs::File::open(path).map_err(|e| ExportError::io(path, e))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(|e| ExportError::io(path, e))? == 0 {
            return Ok(());
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        each(text)?;
    }
}

/// The ids of a line; a line that does not decode is kept as it is (it is not ours to judge).
fn line_ids(line: &[u8]) -> Option<LineIds> {
    serde_json::from_slice(line).ok()
}

/// Rewrites `path` without the erased candidate's lines into a file beside it (fsynced) and
/// returns it, its length, the profiles removed and the attachment files no kept line uses.
fn rewrite_without(path: &Path, erasure: &Erasure) -> Result<(PathBuf, u64, u64, BTreeSet<String>), ExportError> {
    // First pass: the removed lines' files (a handful).
    let mut dropped_blobs = BTreeSet::new();
    let mut dropped_profiles = BTreeSet::new();
    for_each_line(path, |line| {
        if let Some(ids) = line_ids(line).filter(|i| erasure.covers(i.profile_id.as_deref(), i.candidate_id.as_deref()))
        {
            dropped_profiles.insert(ids.profile_id.unwrap_or_default());
            dropped_blobs.extend(ids.attachments.into_iter().filter_map(|a| a.blob));
        }
        Ok(())
    })?;
    // Second pass: copy the kept lines, noting which of those files they still use.
    let temp = temp_beside(path);
    touch_private(&temp)?;
    let mut out = BufWriter::new(
        std::fs::OpenOptions::new().write(true).truncate(true).open(&temp).map_err(|e| ExportError::io(&temp, e))?,
    );
    let mut len = 0u64;
    let mut still_used = BTreeSet::new();
    for_each_line(path, |line| {
        let ids = line_ids(line);
        if ids.as_ref().is_some_and(|i| erasure.covers(i.profile_id.as_deref(), i.candidate_id.as_deref())) {
            return Ok(());
        }
        for blob in ids.into_iter().flat_map(|i| i.attachments).filter_map(|a| a.blob) {
            if dropped_blobs.contains(&blob) {
                still_used.insert(blob);
            }
        }
        out.write_all(line).and_then(|_| out.write_all(b"\n")).map_err(|e| ExportError::io(&temp, e))?;
        len += line.len() as u64 + 1;
        Ok(())
    })?;
    let file = out.into_inner().map_err(|e| ExportError::io(&temp, e.into_error()))?;
    file.sync_all().map_err(|e| ExportError::io(&temp, e))?;
    let unused = dropped_blobs.difference(&still_used).cloned().collect();
    Ok((temp, len, dropped_profiles.len() as u64, unused))
}

/// One line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line<'a> {
    #[serde(flatten)]
    meta: &'a ProfileMeta,
    exported_at: &'a str,
    profile: &'a serde_json::value::RawValue,
    attachments: &'a [FetchedAttachment],
}

enum Output {
    File { path: PathBuf, file: Option<std::fs::File>, len: u64 },
    Stdout,
}

/// The NDJSON sink.
pub struct NdjsonSink {
    output: Mutex<Output>,
    blobs: PathBuf,
    staging_root: PathBuf,
    label: String,
}

impl NdjsonSink {
    /// Opens `path` (stdout when `None`), cutting off anything past the committed length.
    pub async fn open(path: Option<&Path>, blobs: &Path, state: &State) -> Result<NdjsonSink, ExportError> {
        create_private_dir(blobs)?;
        let staging_root = blobs.join(".candex").join("staging");
        create_private_dir(&staging_root)?;
        let (output, label) = match path {
            None => (Output::Stdout, "NDJSON on stdout".to_owned()),
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    create_private_dir(parent)?;
                }
                let file = open_private_append(path)?;
                let actual = file.metadata().map_err(|e| ExportError::io(path, e))?.len();
                let mut committed = state.meta(COMMITTED_KEY).await?.and_then(|v| v.parse::<u64>().ok());
                let rewrite = state.meta(REWRITE_KEY).await?.and_then(|v| v.parse::<u64>().ok());
                if rewrite.is_some_and(|r| r == actual) && committed != Some(actual) {
                    // An erasure's rewrite replaced the file, then the run stopped before the
                    // state caught up: the rewritten file is the committed one (the erasure
                    // itself is still pending and is repeated).
                    committed = Some(actual);
                }
                if rewrite.is_some() {
                    state.update_meta(&[(REWRITE_KEY, None)]).await?;
                }
                let len = match committed {
                    // A state without a record (first run, or a file that predates it): append.
                    None => actual,
                    Some(c) if c == actual => c,
                    Some(c) if c < actual => {
                        tracing::warn!(
                            file = %path.display(),
                            dropped_bytes = actual - c,
                            "cutting off output an interrupted run wrote but did not record"
                        );
                        file.set_len(c).map_err(|e| ExportError::io(path, e))?;
                        file.sync_all().map_err(|e| ExportError::io(path, e))?;
                        c
                    }
                    Some(c) => {
                        return Err(ExportError::Config(format!(
                            "{} is shorter ({actual} bytes) than the export state records ({c} bytes): it was \
                             changed outside candex export; move it aside, or use a new --state to start over",
                            path.display()
                        )))
                    }
                };
                state.set_meta(COMMITTED_KEY, &len.to_string()).await?;
                (
                    Output::File { path: path.to_path_buf(), file: Some(file), len },
                    format!("NDJSON file {}", path.display()),
                )
            }
        };
        Ok(NdjsonSink { output: Mutex::new(output), blobs: blobs.to_path_buf(), staging_root, label })
    }
}

#[async_trait::async_trait]
impl Sink for NdjsonSink {
    fn describe(&self) -> String {
        format!("{} (files in {})", self.label, self.blobs.display())
    }

    async fn staging(&self, meta: &ProfileMeta) -> Result<PathBuf, ExportError> {
        staging_in(&self.staging_root, &meta.profile_id).await
    }

    async fn commit(&self, mut export: Export, state: &State) -> Result<(), ExportError> {
        move_to_blobs(&self.blobs, &mut export).await?;
        let line = Line {
            meta: &export.meta,
            exported_at: &export.exported_at,
            profile: &export.raw,
            attachments: &export.attachments,
        };
        let mut bytes = serde_json::to_vec(&line).map_err(|e| ExportError::Unusable(e.to_string()))?;
        bytes.push(b'\n');
        let meta = &export.meta;
        let mut output = self.output.lock().await;
        match &mut *output {
            Output::Stdout => {
                {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&bytes).and_then(|_| out.flush()).map_err(|e| ExportError::io("stdout", e))?;
                }
                state.finish(&meta.event_id, &meta.profile_id, "stdout").await
            }
            Output::File { path, file, len } => {
                let mut f =
                    file.take().ok_or_else(|| ExportError::Unusable("NDJSON file lost after an error".into()))?;
                let (start, line_len) = (*len, bytes.len() as u64);
                let path_for_task = path.clone();
                let (f, result) = tokio::task::spawn_blocking(move || {
                    let mut result = f.write_all(&bytes).and_then(|_| f.sync_data());
                    if result.is_err() {
                        // Cut a torn line off at once, so later lines do not follow garbage.
                        if let Err(e) = f.set_len(start).and_then(|_| f.sync_data()) {
                            result = Err(e);
                        }
                    }
                    (f, result.map_err(|e| ExportError::io(&path_for_task, e)))
                })
                .await
                .map_err(|e| ExportError::Unusable(format!("write task failed: {e}")))?;
                *file = Some(f);
                result?;
                let new_len = start + line_len;
                let location = format!("{}:{start}", path.display());
                let recorded = state
                    .finish_with(
                        &meta.event_id,
                        &meta.profile_id,
                        &location,
                        Some((COMMITTED_KEY, &new_len.to_string())),
                    )
                    .await;
                if let Err(e) = recorded {
                    // Unrecorded: take the line back so the file and the state agree.
                    if let Some(f) = file.as_ref() {
                        f.set_len(start).and_then(|_| f.sync_data()).map_err(|e| ExportError::io(&*path, e))?;
                    }
                    return Err(e);
                }
                *len = new_len;
                Ok(())
            }
        }
    }

    async fn erase(&self, erasure: &Erasure, state: &State) -> Result<u64, ExportError> {
        {
            let (root, work) = (self.staging_root.clone(), erasure.clone());
            blocking(move || remove_staging(&root, &work)).await?;
        }
        let mut output = self.output.lock().await;
        match &mut *output {
            Output::Stdout => {
                {
                    let mut out = std::io::stdout().lock();
                    for profile in erasure.profiles.iter().filter(|p| p.location.is_some()) {
                        let tombstone = Tombstone {
                            profile_id: &profile.profile_id,
                            candidate_id: &erasure.candidate_id,
                            event_id: &erasure.event_id,
                            erased: true,
                        };
                        let mut bytes =
                            serde_json::to_vec(&tombstone).map_err(|e| ExportError::Unusable(e.to_string()))?;
                        bytes.push(b'\n');
                        out.write_all(&bytes).map_err(|e| ExportError::io("stdout", e))?;
                    }
                    out.flush().map_err(|e| ExportError::io("stdout", e))?;
                }
                let removed = erasure.exported();
                state.finish_erasure(&erasure.event_id, &erasure.candidate_id, &erasure.profiles, removed, &[]).await?;
                Ok(removed)
            }
            Output::File { path, file, len } => {
                let (source, work) = (path.clone(), erasure.clone());
                let (temp, new_len, removed, unused) = blocking(move || rewrite_without(&source, &work)).await?;
                // The files first: a crash after this leaves lines naming missing files, but
                // only lines of the erased candidate, which the rerun removes.
                let (blobs, doomed) = (self.blobs.clone(), unused);
                blocking(move || doomed.iter().try_for_each(|b| remove_blob(&blobs, b).map(drop))).await?;
                state.set_meta(REWRITE_KEY, &new_len.to_string()).await?;
                let (target, handle) = (path.clone(), file.take());
                let reopened = blocking(move || {
                    drop(handle);
                    std::fs::rename(&temp, &target).map_err(|e| ExportError::io(&target, e))?;
                    sync_parent(&target)?;
                    open_private_append(&target)
                })
                .await?;
                *file = Some(reopened);
                *len = new_len;
                let committed = new_len.to_string();
                let meta = [(COMMITTED_KEY, Some(committed.as_str())), (REWRITE_KEY, None)];
                state
                    .finish_erasure(&erasure.event_id, &erasure.candidate_id, &erasure.profiles, removed, &meta)
                    .await?;
                Ok(removed)
            }
        }
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

    fn export(staging: PathBuf, n: usize) -> Export {
        Export {
            meta: ProfileMeta {
                profile_id: format!("p{n}"),
                hirer_id: "h".into(),
                position_id: None,
                candidate_id: None,
                event_id: format!("e{n}"),
            },
            raw: serde_json::value::RawValue::from_string(format!("{{\"profileId\":{{\"value\":\"p{n}\"}}}}"))
                .expect("raw"),
            profile: Default::default(),
            attachments: Vec::new(),
            staging,
            exported_at: "2026-11-29T00:00:00Z".into(),
        }
    }

    async fn commit(sink: &NdjsonSink, state: &State, n: usize) {
        let event = InboxEvent {
            event_id: format!("e{n}"),
            type_code: APPLICATION_CREATED.into(),
            profile_id: Some(format!("p{n}")),
            candidate_id: None,
            hirer_id: None,
        };
        state.enqueue(&[event]).await.expect("enqueue");
        let meta = export(PathBuf::new(), n).meta;
        let staging = sink.staging(&meta).await.expect("staging");
        sink.commit(export(staging, n), state).await.expect("commit");
    }

    #[tokio::test]
    async fn an_erasure_rewrites_the_file_without_the_candidates_lines_and_files() {
        use crate::state::KnownProfile;
        let dir = tempfile::tempdir().expect("dir");
        let (file, blobs) = (dir.path().join("out.ndjson"), dir.path().join("files"));
        let state = State::open(&dir.path().join("state.db")).await.expect("state");
        let sink = NdjsonSink::open(Some(&file), &blobs, &state).await.expect("open");
        // p1 and p2 are the erased candidate's (p2 by its candidateId only), p3 someone else's;
        // p1 and p3 share one file, p2 has its own.
        let (shared, own) = ("ab".repeat(32), "cd".repeat(32));
        for (n, candidate, sha) in [(1, "gone", &shared), (2, "gone", &own), (3, "kept", &shared)] {
            let event = InboxEvent {
                event_id: format!("e{n}"),
                type_code: APPLICATION_CREATED.into(),
                profile_id: Some(format!("p{n}")),
                candidate_id: Some(candidate.into()),
                hirer_id: None,
            };
            state.enqueue(&[event]).await.expect("enqueue");
            let mut export = export(sink.staging(&export(PathBuf::new(), n).meta).await.expect("staging"), n);
            export.meta.candidate_id = Some(candidate.into());
            let staged = export.staging.join("a");
            std::fs::write(&staged, sha.as_bytes()).expect("stage");
            export.attachments.push(FetchedAttachment {
                id: None,
                seek_role_code: None,
                descriptions: vec![],
                file_name: "a".into(),
                original_filename: None,
                content_type: None,
                size: 64,
                sha256: sha.clone(),
                source_url: String::new(),
                fetched_at: String::new(),
                blob: None,
                staged,
            });
            sink.commit(export, &state).await.expect("commit");
        }
        let erasure = Erasure {
            event_id: "erase".into(),
            candidate_id: "gone".into(),
            profiles: vec![KnownProfile { profile_id: "p1".into(), location: Some("x".into()) }],
        };
        assert_eq!(sink.erase(&erasure, &state).await.expect("erase"), 2, "p1 by id, p2 by candidate");
        let text = std::fs::read_to_string(&file).expect("read");
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"p3\"") && !text.contains("gone"), "{text}");
        assert!(blobs.join(format!("ab/{shared}")).exists(), "still used by p3");
        assert!(!blobs.join(format!("cd/{own}")).exists(), "used only by an erased line");
        assert!(state.is_erased("gone").await.expect("erased"));
        // The committed length followed the rewrite: appending and reopening agree.
        commit(&sink, &state, 4).await;
        drop(sink);
        NdjsonSink::open(Some(&file), &blobs, &state).await.expect("reopen");
        assert_eq!(std::fs::read_to_string(&file).expect("read").lines().count(), 2);
    }

    #[tokio::test]
    async fn a_rewrite_that_replaced_the_file_before_the_state_caught_up_is_accepted() {
        let dir = tempfile::tempdir().expect("dir");
        let (file, blobs) = (dir.path().join("out.ndjson"), dir.path().join("files"));
        let state = State::open(&dir.path().join("state.db")).await.expect("state");
        let sink = NdjsonSink::open(Some(&file), &blobs, &state).await.expect("open");
        commit(&sink, &state, 1).await;
        commit(&sink, &state, 2).await;
        drop(sink);
        // A crash right after an erasure's rename: the file is shorter than committed, but it
        // is exactly the announced rewrite.
        let first = std::fs::read_to_string(&file).expect("read").lines().next().expect("line").to_owned() + "\n";
        std::fs::write(&file, &first).expect("rewrite");
        state.set_meta(REWRITE_KEY, &first.len().to_string()).await.expect("announce");
        NdjsonSink::open(Some(&file), &blobs, &state).await.expect("accepted");
        assert_eq!(state.meta(COMMITTED_KEY).await.expect("meta"), Some(first.len().to_string()));
        assert_eq!(state.meta(REWRITE_KEY).await.expect("meta"), None);
    }

    #[tokio::test]
    async fn an_unrecorded_tail_is_cut_off_on_reopen() {
        let dir = tempfile::tempdir().expect("dir");
        let (file, blobs) = (dir.path().join("out.ndjson"), dir.path().join("files"));
        let state = State::open(&dir.path().join("state.db")).await.expect("state");
        let sink = NdjsonSink::open(Some(&file), &blobs, &state).await.expect("open");
        commit(&sink, &state, 1).await;
        commit(&sink, &state, 2).await;
        drop(sink);
        let good = std::fs::read_to_string(&file).expect("read");
        assert_eq!(good.lines().count(), 2);
        // A crash after writing (part of) a line but before recording it.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .and_then(|mut f| f.write_all(b"{\"profileId\":\"p3\",\"prof"))
            .expect("torn write");
        let sink = NdjsonSink::open(Some(&file), &blobs, &state).await.expect("reopen");
        assert_eq!(std::fs::read_to_string(&file).expect("read"), good);
        commit(&sink, &state, 3).await;
        let text = std::fs::read_to_string(&file).expect("read");
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
        drop(sink);
        // A file shorter than recorded was changed by someone else: refuse rather than guess.
        std::fs::write(&file, "").expect("truncate");
        let err = NdjsonSink::open(Some(&file), &blobs, &state).await.err().expect("refused");
        assert!(err.is_config(), "{err}");
    }
}
