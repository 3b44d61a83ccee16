//! Sinks: where exported profiles go. Each sink makes one profile's commit atomic in its own way
//! and records it in the [`State`] at the point where the export is durable:
//! * [`dir::DirSink`]: `DIR/<hirer>/<position>/<profile>/` with `profile.json`, `manifest.json` and
//!   `attachments/`, staged in a private folder and renamed into place whole;
//! * [`ndjson::NdjsonSink`]: one line per profile, in a file (uncommitted tails truncated on
//!   restart) or on stdout, with attachment files content-addressed in a folder beside it;
//! * [`sql::SqlSink`]: `candex_profiles`, `candex_candidates` and `candex_attachments` tables in
//!   SQLite or PostgreSQL, one transaction per profile, files content-addressed beside it.
//!
//! Each sink also carries out erasures ([`Sink::erase`]): the candidate's profiles, rows and
//! files are removed first, and the erasure is recorded in the state only then, so a crash
//! leaves the erasure pending and the rerun repeats it (harmlessly: what is gone stays gone).

pub mod dir;
pub mod ndjson;
pub mod sql;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::files::{create_private_dir, sync_dir, sync_file, sync_parent};
use crate::names::safe_name;
use crate::state::KnownProfile;
use crate::{ExportError, State};

/// Where a profile belongs: ids from the profile itself (falling back to the event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileMeta {
    /// `CandidateProfile.profileId`.
    pub profile_id: String,
    /// The hirer: the job ad's first position organisation, else the event's `hirerId`.
    pub hirer_id: String,
    /// The job ad (`associatedPositionProfile.profileId`), when known.
    pub position_id: Option<String>,
    /// The event's `candidateId`, when known.
    pub candidate_id: Option<String>,
    /// The event that asked for this export.
    pub event_id: String,
}

/// One downloaded attachment, described for the manifest.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchedAttachment {
    /// `Attachment.id`.
    pub id: Option<String>,
    /// `seekRoleCode` (`Resume`, `CoverLetter`, `SelectionCriteria`, null, or newer codes).
    pub seek_role_code: Option<String>,
    /// `descriptions`.
    pub descriptions: Vec<String>,
    /// The sanitised, unique file name it is stored under.
    pub file_name: String,
    /// The name from `Content-Disposition`, unsanitised.
    pub original_filename: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// Bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// The attachment URL it was fetched from.
    pub source_url: String,
    /// When it was fetched (RFC 3339).
    pub fetched_at: String,
    /// Where the file is, relative to the sink's file folder (sinks with a blob folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// The downloaded file inside the staging folder.
    #[serde(skip)]
    pub staged: PathBuf,
}

/// A fully fetched profile, ready to commit.
#[derive(Debug, Clone)]
pub struct Export {
    /// Where it belongs.
    pub meta: ProfileMeta,
    /// The `candidateProfile` object exactly as received (bytes and key order).
    pub raw: Box<serde_json::value::RawValue>,
    /// The same, decoded.
    pub profile: candex_client::ops::CandidateProfile,
    /// Its attachments, downloaded into `staging`.
    pub attachments: Vec<FetchedAttachment>,
    /// The staging folder from [`Sink::staging`].
    pub staging: PathBuf,
    /// When the export was made (RFC 3339).
    pub exported_at: String,
}

/// A `CandidateErased` event to carry out: remove every export of the candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The event (marked done in the state once the erasure is durable).
    pub event_id: String,
    /// The erased candidate.
    pub candidate_id: String,
    /// The candidate's applications this exporter has seen, with where each went.
    pub profiles: Vec<KnownProfile>,
}

impl Erasure {
    /// How many of the profiles were exported (and so are removed).
    pub fn exported(&self) -> u64 {
        self.profiles.iter().filter(|p| p.location.is_some()).count() as u64
    }

    /// Whether an export line or row of `profile_id` filed under `candidate_id` is the
    /// erased candidate's.
    pub fn covers(&self, profile_id: Option<&str>, candidate_id: Option<&str>) -> bool {
        candidate_id == Some(self.candidate_id.as_str())
            || profile_id.is_some_and(|id| self.profiles.iter().any(|p| p.profile_id == id))
    }
}

/// A destination for exported profiles.
#[async_trait::async_trait]
pub trait Sink: Send + Sync {
    /// For logs: what and where.
    fn describe(&self) -> String;

    /// A private folder for this profile's downloads, on the same file system as the final
    /// location. Partial downloads (`*.part`) from an interrupted run are kept for resuming;
    /// anything else left there is discarded.
    async fn staging(&self, meta: &ProfileMeta) -> Result<PathBuf, ExportError>;

    /// Makes the export durable and then records it in `state` (the event done, the profile's
    /// location). A crash at any point leaves either the old state or the new one.
    async fn commit(&self, export: Export, state: &State) -> Result<(), ExportError>;

    /// Commits a group of exports (of distinct profiles), as [`Sink::commit`] does each, and
    /// returns each one's outcome in order; `Err` only for a failure of the state that stops the
    /// run. The exports' downloads are not yet durable ([`Client::download_unsynced`]): the sink
    /// makes them so before recording anything. This default commits up to [`GROUP_COMMITS`] at
    /// once; a sink that can make a whole group durable at once (the folder sink) overrides it.
    ///
    /// [`Client::download_unsynced`]: candex_client::Client::download_unsynced
    async fn commit_group(
        &self,
        exports: Vec<Export>,
        state: &State,
    ) -> Result<Vec<Result<(), ExportError>>, ExportError> {
        use futures::stream::{self, StreamExt};
        let outcomes: Vec<_> =
            stream::iter(exports).map(|export| self.commit(export, state)).buffered(GROUP_COMMITS).collect().await;
        match outcomes.iter().position(|o| o.as_ref().is_err_and(ExportError::is_fatal)) {
            Some(fatal) => Err(outcomes
                .into_iter()
                .nth(fatal)
                .and_then(Result::err)
                .unwrap_or_else(|| ExportError::Unusable("a fatal commit error went missing".into()))),
            None => Ok(outcomes),
        }
    }

    /// Removes every export of an erased candidate (profiles, rows, attachment files no other
    /// export uses, staged downloads) and then records the erasure in `state`
    /// ([`State::finish_erasure`]). Called with no export in flight. Returns how many exported
    /// profiles were removed.
    async fn erase(&self, erasure: &Erasure, state: &State) -> Result<u64, ExportError>;

    /// Called when no export is in flight (end of a run): tidies empty staging folders.
    async fn tidy(&self) -> Result<(), ExportError> {
        Ok(())
    }
}

/// How many commits [`Sink::commit_group`]'s default runs at once (as many as the exports that
/// used to commit in parallel at the default `--concurrency`).
pub const GROUP_COMMITS: usize = 8;

/// The output format for `--out` paths (URLs choose SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A folder tree.
    Dir,
    /// Newline-delimited JSON.
    Ndjson,
}

/// A parsed `--out`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkSpec {
    /// A folder tree at this path.
    Dir(PathBuf),
    /// NDJSON to a file (or stdout when `None`), attachment files under `blobs`.
    Ndjson {
        /// The file; `None` is stdout.
        path: Option<PathBuf>,
        /// Attachment files.
        blobs: PathBuf,
    },
    /// SQL tables at `url` (`sqlite://` or `postgres://`), attachment files under `blobs`.
    Sql {
        /// The database URL.
        url: String,
        /// Attachment files.
        blobs: PathBuf,
    },
}

impl SinkSpec {
    /// Parses `--out` (`-` is stdout; `sqlite://…`/`postgres://…` are SQL sinks; a `.ndjson` or
    /// `.jsonl` file or `--format ndjson` is NDJSON; anything else is a folder).
    pub fn parse(out: &str, format: Option<Format>, blobs: Option<PathBuf>) -> Result<SinkSpec, ExportError> {
        let out = out.trim();
        if out.is_empty() {
            return Err(ExportError::Config("--out is empty".into()));
        }
        let lower = out.to_ascii_lowercase();
        if lower.starts_with("sqlite:") || lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            if format.is_some() {
                return Err(ExportError::Config("--format applies to files and folders, not database URLs".into()));
            }
            let blobs = match blobs {
                Some(b) => b,
                None if lower.starts_with("sqlite:") => {
                    let file = sqlite_file(out)?;
                    with_suffix(&file, ".files")
                }
                None => {
                    return Err(ExportError::Config("a postgres:// sink needs --blobs DIR for attachment files".into()))
                }
            };
            return Ok(SinkSpec::Sql { url: out.to_owned(), blobs });
        }
        if out == "-" {
            return match format {
                Some(Format::Dir) => Err(ExportError::Config("--out - (stdout) is NDJSON only".into())),
                _ => Ok(SinkSpec::Ndjson {
                    path: None,
                    blobs: blobs.ok_or_else(|| {
                        ExportError::Config("--out - (stdout) needs --blobs DIR for attachment files".into())
                    })?,
                }),
            };
        }
        let path = PathBuf::from(out);
        let ndjson_ext = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ndjson") || e == "jsonl");
        match format {
            Some(Format::Ndjson) => {}
            Some(Format::Dir) if ndjson_ext => {
                return Err(ExportError::Config(format!("--format dir with a file name: {out}")));
            }
            Some(Format::Dir) => return Ok(SinkSpec::Dir(path)),
            None if ndjson_ext => {}
            None => return Ok(SinkSpec::Dir(path)),
        }
        let blobs = blobs.unwrap_or_else(|| with_suffix(&path, ".files"));
        Ok(SinkSpec::Ndjson { path: Some(path), blobs })
    }

    /// Where the export state lives unless `--state` says otherwise.
    pub fn default_state(&self) -> PathBuf {
        match self {
            SinkSpec::Dir(dir) => dir.join(".candex").join("state.db"),
            SinkSpec::Ndjson { path: Some(path), .. } => with_suffix(path, ".state.db"),
            SinkSpec::Ndjson { path: None, blobs } | SinkSpec::Sql { blobs, .. } => {
                blobs.join(".candex").join("state.db")
            }
        }
    }
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// The file of a `sqlite://FILE` URL.
pub(crate) fn sqlite_file(url: &str) -> Result<PathBuf, ExportError> {
    let rest = url.split_once(':').map(|(_, r)| r).unwrap_or("");
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let file = rest.split('?').next().unwrap_or("");
    if file.is_empty() || file == ":memory:" {
        return Err(ExportError::Config(format!("{url}: a sqlite:// sink needs a file, e.g. sqlite://export.db")));
    }
    Ok(PathBuf::from(file))
}

/// Opens the sink `spec` describes, creating what is missing.
pub async fn open_sink(spec: &SinkSpec, state: &State) -> Result<Arc<dyn Sink>, ExportError> {
    Ok(match spec {
        SinkSpec::Dir(dir) => Arc::new(dir::DirSink::open(dir)?),
        SinkSpec::Ndjson { path, blobs } => Arc::new(ndjson::NdjsonSink::open(path.as_deref(), blobs, state).await?),
        SinkSpec::Sql { url, blobs } => Arc::new(sql::SqlSink::open(url, blobs).await?),
    })
}

/// Prepares `root/<profile>` as a private staging folder, keeping `*.part` downloads only.
pub(crate) fn prepare_staging(root: &Path, profile_id: &str) -> Result<PathBuf, ExportError> {
    let dir = root.join(safe_name(profile_id, "profile"));
    create_private_dir(&dir)?;
    let entries = std::fs::read_dir(&dir).map_err(|e| ExportError::io(&dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ExportError::io(&dir, e))?;
        let path = entry.path();
        let keep =
            path.extension().is_some_and(|e| e == "part") && entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if keep {
            continue;
        }
        let removed = if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| ExportError::io(&path, e))?;
    }
    Ok(dir)
}

/// [`prepare_staging`] on the blocking pool: what every sink's [`Sink::staging`] does.
pub(crate) async fn staging_in(root: &Path, profile_id: &str) -> Result<PathBuf, ExportError> {
    let (root, profile) = (root.to_path_buf(), profile_id.to_owned());
    tokio::task::spawn_blocking(move || prepare_staging(&root, &profile))
        .await
        .map_err(|e| ExportError::Unusable(format!("staging task failed: {e}")))?
}

/// Moves an export's downloads into the content-addressed folder `blobs` (setting each
/// attachment's `blob`) and removes its staging folder: the first half of the NDJSON and SQL
/// sinks' commit.
pub(crate) async fn move_to_blobs(blobs: &Path, export: &mut Export) -> Result<(), ExportError> {
    let blobs = blobs.to_path_buf();
    let (attachments, staging) = (std::mem::take(&mut export.attachments), export.staging.clone());
    export.attachments = tokio::task::spawn_blocking(move || {
        let mut stored = attachments;
        for a in &mut stored {
            a.blob = Some(store_blob(&blobs, &a.staged, &a.sha256)?);
        }
        let _ = std::fs::remove_dir_all(&staging);
        Ok::<_, ExportError>(stored)
    })
    .await
    .map_err(|e| ExportError::Unusable(format!("commit task failed: {e}")))??;
    Ok(())
}

/// Removes the staging folders of an erased candidate's profiles (partial downloads included).
pub(crate) fn remove_staging(root: &Path, erasure: &Erasure) -> Result<(), ExportError> {
    for profile in &erasure.profiles {
        crate::files::remove_dir_if_exists(&root.join(safe_name(&profile.profile_id, "profile")))?;
    }
    Ok(())
}

/// Deletes a content-addressed file (`blob` relative to `blobs`, as [`store_blob`] names it);
/// a missing one is fine. Anything not shaped like a blob path is left alone.
pub(crate) fn remove_blob(blobs: &Path, blob: &str) -> Result<bool, ExportError> {
    let shaped = blob.split_once('/').is_some_and(|(dir, name)| {
        dir.len() == 2 && name.len() >= 3 && name.starts_with(dir) && name.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if !shaped {
        return Ok(false);
    }
    let path = blobs.join(blob);
    match std::fs::remove_file(&path) {
        Ok(()) => {
            sync_parent(&path)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ExportError::io(&path, e)),
    }
}

/// Runs blocking erasure work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ExportError> + Send + 'static,
) -> Result<T, ExportError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ExportError::Unusable(format!("erasure task failed: {e}")))?
}

/// Removes the staging root if nothing is left in it.
pub(crate) fn tidy_staging(root: &Path) {
    if let Ok(mut entries) = std::fs::read_dir(root) {
        if entries.next().is_none() {
            let _ = std::fs::remove_dir(root);
        }
    }
}

/// Moves a staged file to `blobs/<sha[0..2]>/<sha>` (content-addressed: identical files are stored
/// once) and returns that path relative to `blobs`.
pub(crate) fn store_blob(blobs: &Path, staged: &Path, sha256: &str) -> Result<String, ExportError> {
    if sha256.len() < 3 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ExportError::Unusable(format!("not a SHA-256: {sha256:?}")));
    }
    let relative = format!("{}/{}", &sha256[..2], sha256);
    let dest = blobs.join(&relative);
    let parent = blobs.join(&sha256[..2]);
    create_private_dir(&parent)?;
    if dest.exists() {
        std::fs::remove_file(staged).map_err(|e| ExportError::io(staged, e))?;
    } else {
        // Downloads arrive unsynced (`Client::download_unsynced`): durable before it is filed.
        sync_file(staged)?;
        std::fs::rename(staged, &dest).map_err(|e| ExportError::io(&dest, e))?;
        sync_dir(&parent)?;
    }
    Ok(relative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_chooses_the_sink() {
        let dir = SinkSpec::parse("exports", None, None).expect("dir");
        assert_eq!(dir, SinkSpec::Dir("exports".into()));
        assert_eq!(dir.default_state(), PathBuf::from("exports/.candex/state.db"));
        let nd = SinkSpec::parse("out.ndjson", None, None).expect("ndjson");
        assert_eq!(nd, SinkSpec::Ndjson { path: Some("out.ndjson".into()), blobs: "out.ndjson.files".into() });
        assert_eq!(nd.default_state(), PathBuf::from("out.ndjson.state.db"));
        assert!(matches!(SinkSpec::parse("x", Some(Format::Ndjson), None), Ok(SinkSpec::Ndjson { .. })));
        assert!(SinkSpec::parse("-", None, None).is_err(), "stdout needs --blobs");
        assert!(matches!(SinkSpec::parse("-", None, Some("b".into())), Ok(SinkSpec::Ndjson { path: None, .. })));
        let sql = SinkSpec::parse("sqlite://ats.db", None, None).expect("sqlite");
        assert_eq!(sql, SinkSpec::Sql { url: "sqlite://ats.db".into(), blobs: "ats.db.files".into() });
        assert!(SinkSpec::parse("postgres://h/db", None, None).is_err(), "postgres needs --blobs");
        assert!(SinkSpec::parse("sqlite://:memory:", None, None).is_err());
        assert!(SinkSpec::parse("sqlite://x.db", Some(Format::Dir), None).is_err());
        assert!(SinkSpec::parse("  ", None, None).is_err());
    }
}
