//! `State`: the exporter's durable memory in one SQLite file — the inbox of events (deduplicated
//! by event id, from polling and webhooks alike), the events cursor per scheme, what was exported
//! where, the candidates erased (so an erasure is done once and their later applications are
//! not exported), and small sink bookkeeping. Every change is one transaction, fsynced before it
//! returns.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::files::touch_private;
use crate::ExportError;

/// The layout version this build writes; a newer file is refused rather than misread.
/// 2: erasures (`erased`, inbox rows of type `CandidateErased` are due work).
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS cursors (
    scheme_id TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    type_code TEXT NOT NULL,
    profile_id TEXT,
    candidate_id TEXT,
    hirer_id TEXT,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at TEXT,
    last_error TEXT,
    received_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS inbox_work ON inbox (status, seq);
CREATE TABLE IF NOT EXISTS exported (
    profile_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    location TEXT NOT NULL,
    exported_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_candidate ON inbox (candidate_id) WHERE candidate_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS erased (
    candidate_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    profiles INTEGER NOT NULL,
    erased_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// The event type whose profile is exported; everything else is recorded and skipped, except
/// [`CANDIDATE_ERASED`].
pub const APPLICATION_CREATED: &str = "CandidateApplicationCreated";

/// candex's extension event: a candidate was erased, and its exported profiles are removed.
pub const CANDIDATE_ERASED: &str = "CandidateErased";

/// How an event reached the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The `events` stream.
    Poll,
    /// A webhook request.
    Webhook,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Poll => "poll",
            Source::Webhook => "webhook",
        }
    }
}

/// An event as it enters the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEvent {
    /// Event id (the deduplication key).
    pub event_id: String,
    /// `typeCode` (webhook `type`).
    pub type_code: String,
    /// `candidateApplicationProfileId`, for application events.
    pub profile_id: Option<String>,
    /// `candidateId`, for application events.
    pub candidate_id: Option<String>,
    /// `hirerId`, when the source carried it.
    pub hirer_id: Option<String>,
}

impl InboxEvent {
    /// From a polled `events` node.
    pub fn from_node(node: &candex_client::ops::Event) -> Option<Self> {
        let event_id = node.id();
        if event_id.is_empty() {
            return None;
        }
        Some(Self {
            event_id: event_id.to_owned(),
            type_code: node.type_code.clone().unwrap_or_default(),
            profile_id: node.candidate_application_profile_id.clone(),
            candidate_id: node.candidate_id.clone(),
            hirer_id: node.hirer_id.clone(),
        })
    }

    /// From a webhook body event.
    pub fn from_webhook(event: &candex_client::WebhookEvent) -> Option<Self> {
        if event.id.is_empty() {
            return None;
        }
        Some(Self {
            event_id: event.id.clone(),
            type_code: event.type_code.clone(),
            profile_id: event.candidate_application_profile_id.clone(),
            candidate_id: event.candidate_id.clone(),
            hirer_id: event.hirer_id.clone(),
        })
    }

    fn is_export(&self) -> bool {
        self.type_code == APPLICATION_CREATED && self.profile_id.as_deref().is_some_and(|p| !p.is_empty())
    }

    fn is_erasure(&self) -> bool {
        self.type_code == CANDIDATE_ERASED && self.candidate_id.as_deref().is_some_and(|c| !c.is_empty())
    }
}

/// An inbox event waiting to be exported (or, for `CandidateErased`, carried out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Inbox order.
    pub seq: i64,
    /// Event id.
    pub event_id: String,
    /// `CandidateApplicationCreated` or `CandidateErased`.
    pub type_code: String,
    /// The profile to export (empty for an erasure).
    pub profile_id: String,
    /// `candidateId` from the event, if any.
    pub candidate_id: Option<String>,
    /// `hirerId` from the event, if any.
    pub hirer_id: Option<String>,
    /// Attempts before this one.
    pub attempts: i64,
}

/// Inbox totals by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Application and erasure events not yet done (including failures due for a retry).
    pub pending: u64,
    /// Exported.
    pub done: u64,
    /// Failed at the last attempt (retried).
    pub failed: u64,
    /// Rejected for good (profile gone or forbidden); retried only when asked.
    pub rejected: u64,
    /// Events of other types (recorded, nothing to export), and applications of erased
    /// candidates.
    pub skipped: u64,
}

/// A candidate's applications as this exporter knows them, for an erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownProfile {
    /// The profile.
    pub profile_id: String,
    /// Where its export went (`exported.location`), if it was exported.
    pub location: Option<String>,
}

/// The state file. Cheap to clone; the first clone's owner holds the file's lock for its life.
#[derive(Debug, Clone)]
pub struct State {
    pool: SqlitePool,
    _lock: std::sync::Arc<std::fs::File>,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Backoff before retrying a failed export in long-running modes: 30 s doubling, at most 1 h.
pub fn retry_delay(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    Duration::from_secs(30u64.saturating_mul(1 << exp)).min(Duration::from_secs(3600))
}

impl State {
    /// Opens (creating, owner-only) the state file at `path`.
    pub async fn open(path: &Path) -> Result<State, ExportError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::create_private_dir(parent)?;
        }
        touch_private(path)?;
        let lock = lock(path)?;
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(ExportError::state)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            // 512 KiB of page cache per connection (SQLite's default is 2 MiB): enough for the
            // interior pages of a million-row inbox, and it keeps the exporter's memory flat
            // however large the state grows.
            .pragma("cache_size", "-512");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| ExportError::Config(format!("cannot open the export state {}: {e}", path.display())))?;
        let version: i64 =
            sqlx::query_scalar("PRAGMA user_version").fetch_one(&pool).await.map_err(ExportError::state)?;
        if version > SCHEMA_VERSION {
            return Err(ExportError::Config(format!(
                "the export state {} was written by a newer candex (layout {version}); upgrade candex",
                path.display()
            )));
        }
        sqlx::raw_sql(SCHEMA).execute(&pool).await.map_err(ExportError::state)?;
        sqlx::raw_sql(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .execute(&pool)
            .await
            .map_err(ExportError::state)?;
        Ok(State { pool, _lock: std::sync::Arc::new(lock) })
    }

    /// The persisted events cursor for `scheme_id`.
    pub async fn cursor(&self, scheme_id: &str) -> Result<Option<String>, ExportError> {
        sqlx::query_scalar("SELECT cursor FROM cursors WHERE scheme_id = ?")
            .bind(scheme_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(ExportError::state)
    }

    /// Records a page of polled events and the cursor after it, together: a crash leaves either
    /// both or neither. Returns how many events were new.
    pub async fn save_page(
        &self,
        scheme_id: &str,
        events: &[InboxEvent],
        cursor: Option<&str>,
    ) -> Result<u64, ExportError> {
        let mut tx = self.pool.begin().await.map_err(ExportError::state)?;
        let new = insert_events(&mut tx, events, Source::Poll).await?;
        if let Some(cursor) = cursor {
            sqlx::query(
                "INSERT INTO cursors (scheme_id, cursor, updated_at) VALUES (?, ?, ?) \
                 ON CONFLICT (scheme_id) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            )
            .bind(scheme_id)
            .bind(cursor)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(ExportError::state)?;
        }
        tx.commit().await.map_err(ExportError::state)?;
        Ok(new)
    }

    /// Records webhook events (duplicates of known event ids are ignored). Returns how many were new.
    pub async fn enqueue(&self, events: &[InboxEvent]) -> Result<u64, ExportError> {
        let mut tx = self.pool.begin().await.map_err(ExportError::state)?;
        let new = insert_events(&mut tx, events, Source::Webhook).await?;
        tx.commit().await.map_err(ExportError::state)?;
        Ok(new)
    }

    /// Up to `limit` events due for export after inbox position `after_seq`, in inbox order.
    pub async fn due(&self, after_seq: i64, limit: i64) -> Result<Vec<Pending>, ExportError> {
        // One ordered range read per status on `inbox_work (status, seq)`, merged: with `OR`
        // SQLite read every due row after `after_seq` and sorted them for each batch, so a
        // 100k backlog cost quadratic time and a sorter's worth of memory per batch.
        let rows = sqlx::query(
            "SELECT seq, event_id, type_code, profile_id, candidate_id, hirer_id, attempts FROM ( \
               SELECT * FROM (SELECT seq, event_id, type_code, profile_id, candidate_id, hirer_id, attempts FROM inbox \
                              WHERE status = 'pending' AND seq > ?1 ORDER BY seq LIMIT ?3) \
               UNION ALL \
               SELECT * FROM (SELECT seq, event_id, type_code, profile_id, candidate_id, hirer_id, attempts FROM inbox \
                              WHERE status = 'failed' AND seq > ?1 AND retry_at <= ?2 ORDER BY seq LIMIT ?3) \
             ) ORDER BY seq LIMIT ?3",
        )
        .bind(after_seq)
        .bind(now())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(ExportError::state)?;
        rows.into_iter()
            .map(|r| {
                Ok(Pending {
                    seq: r.try_get("seq")?,
                    event_id: r.try_get("event_id")?,
                    type_code: r.try_get("type_code")?,
                    profile_id: r.try_get::<Option<String>, _>("profile_id")?.unwrap_or_default(),
                    candidate_id: r.try_get("candidate_id")?,
                    hirer_id: r.try_get("hirer_id")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(ExportError::state)
    }

    /// Makes every failed export due now (a new run retries what the last one could not do).
    pub async fn retry_failed_now(&self) -> Result<u64, ExportError> {
        let done = sqlx::query("UPDATE inbox SET retry_at = ? WHERE status = 'failed'")
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(ExportError::state)?;
        Ok(done.rows_affected())
    }

    /// Marks an event exported and records where its profile went.
    pub async fn finish(&self, event_id: &str, profile_id: &str, location: &str) -> Result<(), ExportError> {
        self.finish_with(event_id, profile_id, location, None).await
    }

    /// [`State::finish`] for a group of `(event, profile, location)` in one transaction (one
    /// fsync for the group: the folder sink's group commit).
    pub async fn finish_many<L: AsRef<str>>(&self, exports: &[(&str, &str, L)]) -> Result<(), ExportError> {
        if exports.is_empty() {
            return Ok(());
        }
        let at = now();
        let mut tx = self.pool.begin().await.map_err(ExportError::state)?;
        for (event_id, profile_id, location) in exports {
            record_export(&mut tx, &at, event_id, profile_id, location.as_ref()).await?;
        }
        tx.commit().await.map_err(ExportError::state)
    }

    /// [`State::finish`] plus a sink bookkeeping value (`meta[key] = value`) in the same transaction.
    pub async fn finish_with(
        &self,
        event_id: &str,
        profile_id: &str,
        location: &str,
        meta: Option<(&str, &str)>,
    ) -> Result<(), ExportError> {
        let at = now();
        let mut tx = self.pool.begin().await.map_err(ExportError::state)?;
        record_export(&mut tx, &at, event_id, profile_id, location).await?;
        if let Some((key, value)) = meta {
            set_meta(&mut tx, key, value).await?;
        }
        tx.commit().await.map_err(ExportError::state)
    }

    /// Records a failed attempt; the event is due again after [`retry_delay`].
    pub async fn fail(&self, event_id: &str, error: &str) -> Result<(), ExportError> {
        let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM inbox WHERE event_id = ?")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(ExportError::state)?
            .unwrap_or(0)
            + 1;
        let retry_at = Utc::now() + chrono::Duration::from_std(retry_delay(attempts)).unwrap_or_default();
        sqlx::query(
            "UPDATE inbox SET status = 'failed', attempts = ?, last_error = ?, retry_at = ? WHERE event_id = ?",
        )
        .bind(attempts)
        .bind(error)
        .bind(retry_at.to_rfc3339_opts(SecondsFormat::Micros, true))
        .bind(event_id)
        .execute(&self.pool)
        .await
        .map_err(ExportError::state)?;
        Ok(())
    }

    /// Records an export that retrying cannot fix (the profile is gone, or reading it is
    /// forbidden): it is kept, with the reason, but not retried until [`State::requeue_rejected`].
    pub async fn reject(&self, event_id: &str, error: &str) -> Result<(), ExportError> {
        sqlx::query(
            "UPDATE inbox SET status = 'rejected', attempts = attempts + 1, last_error = ?, retry_at = NULL \
             WHERE event_id = ?",
        )
        .bind(error)
        .bind(event_id)
        .execute(&self.pool)
        .await
        .map_err(ExportError::state)?;
        Ok(())
    }

    /// Makes rejected exports due again (e.g. after a hirer restored the relationship).
    pub async fn requeue_rejected(&self) -> Result<u64, ExportError> {
        let done = sqlx::query("UPDATE inbox SET status = 'pending' WHERE status = 'rejected'")
            .execute(&self.pool)
            .await
            .map_err(ExportError::state)?;
        Ok(done.rows_affected())
    }

    /// How many exports [`Self::due`] would hand out now (pending, and failures due for a
    /// retry): what a pass has to do, for the progress bar.
    pub async fn count_due(&self) -> Result<u64, ExportError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM inbox WHERE status = 'pending') \
                  + (SELECT COUNT(*) FROM inbox WHERE status = 'failed' AND retry_at <= ?)",
        )
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(ExportError::state)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Inbox totals.
    pub async fn counts(&self) -> Result<Counts, ExportError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM inbox GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(ExportError::state)?;
        let mut counts = Counts::default();
        for row in rows {
            let status: String = row.try_get("status").map_err(ExportError::state)?;
            let n = u64::try_from(row.try_get::<i64, _>("n").map_err(ExportError::state)?).unwrap_or(0);
            match status.as_str() {
                "pending" => counts.pending += n,
                "done" => counts.done += n,
                "failed" => counts.failed += n,
                "rejected" => counts.rejected += n,
                _ => counts.skipped += n,
            }
        }
        Ok(counts)
    }

    /// Whether `candidate_id` was erased (an erasure event was carried out).
    pub async fn is_erased(&self, candidate_id: &str) -> Result<bool, ExportError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM erased WHERE candidate_id = ?")
            .bind(candidate_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(ExportError::state)?;
        Ok(found.is_some())
    }

    /// Marks an application event of an erased candidate skipped: it is never exported.
    pub async fn skip_erased(&self, event_id: &str) -> Result<(), ExportError> {
        sqlx::query(
            "UPDATE inbox SET status = 'erased', finished_at = ?, last_error = NULL, retry_at = NULL \
             WHERE event_id = ?",
        )
        .bind(now())
        .bind(event_id)
        .execute(&self.pool)
        .await
        .map_err(ExportError::state)?;
        Ok(())
    }

    /// The candidate's applications this exporter has seen (by the `candidateId` of their
    /// events), each with where it was exported, if it was. One candidate has few.
    pub async fn profiles_of(&self, candidate_id: &str) -> Result<Vec<KnownProfile>, ExportError> {
        let rows = sqlx::query(
            "SELECT DISTINCT i.profile_id AS profile_id, x.location AS location FROM inbox i \
             LEFT JOIN exported x ON x.profile_id = i.profile_id \
             WHERE i.candidate_id = ? AND i.type_code = ? AND i.profile_id IS NOT NULL ORDER BY i.profile_id",
        )
        .bind(candidate_id)
        .bind(APPLICATION_CREATED)
        .fetch_all(&self.pool)
        .await
        .map_err(ExportError::state)?;
        rows.iter()
            .map(|r| Ok(KnownProfile { profile_id: r.try_get("profile_id")?, location: r.try_get("location")? }))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(ExportError::state)
    }

    /// Records a carried-out erasure in one transaction: the event done, the candidate erased
    /// (with how many exported profiles were removed), the profiles' export records and every
    /// pending event of the candidate's applications dropped, and an optional sink value
    /// (`meta[key] = value`, or the key removed when the value is `None`).
    pub async fn finish_erasure(
        &self,
        event_id: &str,
        candidate_id: &str,
        profiles: &[KnownProfile],
        removed: u64,
        meta: &[(&str, Option<&str>)],
    ) -> Result<(), ExportError> {
        let at = now();
        let mut tx = self.pool.begin().await.map_err(ExportError::state)?;
        sqlx::query(
            "UPDATE inbox SET status = 'done', finished_at = ?, last_error = NULL, retry_at = NULL WHERE event_id = ?",
        )
        .bind(&at)
        .bind(event_id)
        .execute(&mut *tx)
        .await
        .map_err(ExportError::state)?;
        sqlx::query(
            "INSERT INTO erased (candidate_id, event_id, profiles, erased_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (candidate_id) DO UPDATE SET event_id = excluded.event_id, \
             profiles = erased.profiles + excluded.profiles, erased_at = excluded.erased_at",
        )
        .bind(candidate_id)
        .bind(event_id)
        .bind(i64::try_from(removed).unwrap_or(i64::MAX))
        .bind(&at)
        .execute(&mut *tx)
        .await
        .map_err(ExportError::state)?;
        sqlx::query(
            "UPDATE inbox SET status = 'erased', finished_at = ?, retry_at = NULL \
             WHERE candidate_id = ? AND type_code = ? AND status IN ('pending', 'failed', 'rejected')",
        )
        .bind(&at)
        .bind(candidate_id)
        .bind(APPLICATION_CREATED)
        .execute(&mut *tx)
        .await
        .map_err(ExportError::state)?;
        for profile in profiles {
            sqlx::query("DELETE FROM exported WHERE profile_id = ?")
                .bind(&profile.profile_id)
                .execute(&mut *tx)
                .await
                .map_err(ExportError::state)?;
        }
        update_meta(&mut tx, meta).await?;
        tx.commit().await.map_err(ExportError::state)
    }

    /// Sets (`Some`) or removes (`None`) sink bookkeeping values, together.
    pub async fn update_meta(&self, meta: &[(&str, Option<&str>)]) -> Result<(), ExportError> {
        let mut tx = self.pool.begin().await.map_err(ExportError::state)?;
        update_meta(&mut tx, meta).await?;
        tx.commit().await.map_err(ExportError::state)
    }

    /// Where `profile_id` was last exported, if it was.
    pub async fn exported_location(&self, profile_id: &str) -> Result<Option<String>, ExportError> {
        sqlx::query_scalar("SELECT location FROM exported WHERE profile_id = ?")
            .bind(profile_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(ExportError::state)
    }

    /// A sink bookkeeping value.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, ExportError> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(ExportError::state)
    }

    /// Sets a sink bookkeeping value.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), ExportError> {
        let mut tx = self.pool.begin().await.map_err(ExportError::state)?;
        set_meta(&mut tx, key, value).await?;
        tx.commit().await.map_err(ExportError::state)
    }

    /// Closes the file cleanly (checkpoints the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Takes `<state>.lock` so two exporters never share one state (and output): they would
/// delete each other's staging folders. The OS releases it when the process ends, even on SIGKILL.
fn lock(path: &Path) -> Result<std::fs::File, ExportError> {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    let lock_path = path.with_file_name(name);
    touch_private(&lock_path)?;
    let file = std::fs::OpenOptions::new().write(true).open(&lock_path).map_err(|e| ExportError::io(&lock_path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ExportError::Config(format!(
            "another candex export is using the state {} (and its output); stop it first, or give this \
             one its own --out and --state",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(ExportError::io(&lock_path, e)),
    }
}

/// Marks `event_id` done and records where `profile_id` was exported, inside `tx`.
async fn record_export(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    at: &str,
    event_id: &str,
    profile_id: &str,
    location: &str,
) -> Result<(), ExportError> {
    sqlx::query(
        "UPDATE inbox SET status = 'done', finished_at = ?, last_error = NULL, retry_at = NULL \
         WHERE event_id = ?",
    )
    .bind(at)
    .bind(event_id)
    .execute(&mut **tx)
    .await
    .map_err(ExportError::state)?;
    sqlx::query(
        "INSERT INTO exported (profile_id, event_id, location, exported_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (profile_id) DO UPDATE SET event_id = excluded.event_id, location = excluded.location, \
         exported_at = excluded.exported_at",
    )
    .bind(profile_id)
    .bind(event_id)
    .bind(location)
    .bind(at)
    .execute(&mut **tx)
    .await
    .map_err(ExportError::state)?;
    Ok(())
}

async fn set_meta(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, key: &str, value: &str) -> Result<(), ExportError> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await
        .map_err(ExportError::state)?;
    Ok(())
}

async fn update_meta(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    meta: &[(&str, Option<&str>)],
) -> Result<(), ExportError> {
    for (key, value) in meta {
        match value {
            Some(value) => set_meta(tx, key, value).await?,
            None => {
                sqlx::query("DELETE FROM meta WHERE key = ?")
                    .bind(key)
                    .execute(&mut **tx)
                    .await
                    .map_err(ExportError::state)?;
            }
        }
    }
    Ok(())
}

async fn insert_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    events: &[InboxEvent],
    source: Source,
) -> Result<u64, ExportError> {
    let at = now();
    let mut new = 0;
    for event in events {
        let status = if event.is_export() || event.is_erasure() { "pending" } else { "skipped" };
        let done = sqlx::query(
            "INSERT INTO inbox (event_id, type_code, profile_id, candidate_id, hirer_id, source, status, received_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&event.event_id)
        .bind(&event.type_code)
        .bind(&event.profile_id)
        .bind(&event.candidate_id)
        .bind(&event.hirer_id)
        .bind(source.as_str())
        .bind(status)
        .bind(&at)
        .execute(&mut **tx)
        .await
        .map_err(ExportError::state)?;
        new += done.rows_affected();
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, profile: &str) -> InboxEvent {
        InboxEvent {
            event_id: id.into(),
            type_code: APPLICATION_CREATED.into(),
            profile_id: Some(profile.into()),
            candidate_id: None,
            hirer_id: None,
        }
    }

    #[tokio::test]
    async fn events_are_deduplicated_by_id_and_the_cursor_moves_with_the_page() {
        let dir = tempfile::tempdir().expect("dir");
        let state = State::open(&dir.path().join("state.db")).await.expect("open");
        assert_eq!(state.cursor("s").await.expect("cursor"), None);
        let other = InboxEvent {
            event_id: "e0".into(),
            type_code: "PositionProfilePosted".into(),
            profile_id: None,
            candidate_id: None,
            hirer_id: None,
        };
        let new = state.save_page("s", &[other, app("e1", "p1"), app("e2", "p2")], Some("c1")).await.expect("save");
        assert_eq!(new, 3);
        assert_eq!(state.cursor("s").await.expect("cursor").as_deref(), Some("c1"));
        // The same events again through a webhook: nothing new.
        assert_eq!(state.enqueue(&[app("e1", "p1"), app("e3", "p3")]).await.expect("enqueue"), 1);
        let due = state.due(0, 10).await.expect("due");
        assert_eq!(due.iter().map(|p| p.event_id.as_str()).collect::<Vec<_>>(), ["e1", "e2", "e3"]);
        state.finish("e1", "p1", "x").await.expect("finish");
        state.fail("e2", "boom").await.expect("fail");
        let due = state.due(0, 10).await.expect("due");
        assert_eq!(due.iter().map(|p| p.event_id.as_str()).collect::<Vec<_>>(), ["e3"]);
        assert_eq!(state.retry_failed_now().await.expect("retry"), 1);
        let due = state.due(0, 10).await.expect("due");
        assert_eq!(due.iter().map(|p| p.event_id.as_str()).collect::<Vec<_>>(), ["e2", "e3"]);
        assert_eq!(due[0].attempts, 1);
        let counts = state.counts().await.expect("counts");
        assert_eq!(counts, Counts { pending: 1, done: 1, failed: 1, rejected: 0, skipped: 1 });
        state.reject("e3", "gone").await.expect("reject");
        assert_eq!(state.due(0, 10).await.expect("due").len(), 1, "rejected exports are not retried");
        assert_eq!(state.requeue_rejected().await.expect("requeue"), 1);
        assert_eq!(state.due(0, 10).await.expect("due").len(), 2);
        assert_eq!(state.exported_location("p1").await.expect("loc").as_deref(), Some("x"));
    }

    #[tokio::test]
    async fn an_erasure_is_due_work_and_settles_the_candidates_applications() {
        let dir = tempfile::tempdir().expect("dir");
        let state = State::open(&dir.path().join("state.db")).await.expect("open");
        let mut applied = app("e1", "p1");
        applied.candidate_id = Some("c".into());
        let mut pending = app("e2", "p2");
        pending.candidate_id = Some("c".into());
        let erased = InboxEvent {
            event_id: "x".into(),
            type_code: CANDIDATE_ERASED.into(),
            profile_id: None,
            candidate_id: Some("c".into()),
            hirer_id: Some("h".into()),
        };
        state.save_page("s", &[applied, pending, erased], Some("c1")).await.expect("save");
        state.finish("e1", "p1", "somewhere").await.expect("finish");
        let due = state.due(0, 10).await.expect("due");
        assert_eq!(
            due.iter().map(|p| p.type_code.as_str()).collect::<Vec<_>>(),
            [APPLICATION_CREATED, CANDIDATE_ERASED]
        );
        let profiles = state.profiles_of("c").await.expect("profiles");
        assert_eq!(
            profiles,
            [
                KnownProfile { profile_id: "p1".into(), location: Some("somewhere".into()) },
                KnownProfile { profile_id: "p2".into(), location: None },
            ]
        );
        assert!(!state.is_erased("c").await.expect("erased"));
        state.finish_erasure("x", "c", &profiles, 1, &[]).await.expect("finish erasure");
        assert!(state.is_erased("c").await.expect("erased"));
        assert!(state.due(0, 10).await.expect("due").is_empty(), "the pending application is settled too");
        assert_eq!(state.exported_location("p1").await.expect("loc"), None);
        assert_eq!(state.counts().await.expect("counts"), Counts { done: 2, skipped: 1, ..Counts::default() });
    }

    #[tokio::test]
    async fn due_batches_merge_pending_and_retryable_failures_in_inbox_order() {
        let dir = tempfile::tempdir().expect("dir");
        let state = State::open(&dir.path().join("state.db")).await.expect("open");
        let events: Vec<InboxEvent> = (0..700).map(|i| app(&format!("e{i:03}"), &format!("p{i:03}"))).collect();
        state.save_page("s", &events, Some("c")).await.expect("save");
        // Every third fails (due again after retry_failed_now), every seventh is done, every
        // eleventh rejected: a batch is the due events in inbox order whatever their status.
        let mut expected = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let id = e.event_id.as_str();
            if i % 7 == 0 {
                state.finish(id, "p", "x").await.expect("finish");
            } else if i % 11 == 0 {
                state.reject(id, "gone").await.expect("reject");
            } else {
                if i % 3 == 0 {
                    state.fail(id, "boom").await.expect("fail");
                }
                expected.push(id.to_owned());
            }
        }
        let (mut seen, mut after) = (Vec::new(), 0);
        let not_yet = state.due(0, 1000).await.expect("due");
        assert!(not_yet.iter().all(|p| p.attempts == 0), "failures wait for their retry time");
        state.retry_failed_now().await.expect("retry");
        loop {
            let batch = state.due(after, 100).await.expect("due");
            assert!(batch.len() <= 100);
            let Some(last) = batch.last() else { break };
            assert!(batch.windows(2).all(|w| w[0].seq < w[1].seq), "a batch is in inbox order");
            after = last.seq;
            seen.extend(batch.into_iter().map(|p| p.event_id));
        }
        assert_eq!(seen, expected);
    }

    #[test]
    fn documented_webhook_bodies_decode_with_and_without_hirer_id() {
        // SEEK's documented example (signed subscription), plus an older shape without `hirerId`
        // or `url` and with `expireDateTime`, and an event type this build does not know.
        let signed = br#"{"events":[{"id":"seekAnzPublicTest:event:events:5cKZnRzXas97fyUAhpiAV1",
            "type":"CandidateApplicationCreated","createDateTime":"2019-09-13T22:16:10.593Z",
            "candidateApplicationProfileId":"seekAnzPublicTest:candidateProfile:apply:7DtW6Q68gk2R4okNGhvg1Y",
            "candidateId":"seekAnzPublicTest:candidate:feed:5PGXAHysiXhtA9JUqhyM8hhzMuWMPA",
            "hirerId":"seekAnzPublicTest:organization:seek:93WyyF1h"}],
            "subscriptionId":"seekAnzPublicTest:webhookSubscription:events:BoJiJ9ZWFVgejLXLJxUnvL",
            "url":"https://example.com/webhook"}"#;
        let body = candex_client::WebhookBody::parse(signed).expect("decodes");
        let event = InboxEvent::from_webhook(&body.events[0]).expect("has an id");
        assert!(event.is_export());
        assert_eq!(event.hirer_id.as_deref(), Some("seekAnzPublicTest:organization:seek:93WyyF1h"));
        assert_eq!(
            event.profile_id.as_deref(),
            Some("seekAnzPublicTest:candidateProfile:apply:7DtW6Q68gk2R4okNGhvg1Y")
        );

        let older = br#"{"events":[{"id":"e2","type":"CandidateApplicationCreated",
            "createDateTime":"2019-09-13T22:16:10.593Z","candidateApplicationProfileId":"p2","candidateId":"c2",
            "expireDateTime":"2019-10-13T22:16:10.593Z"},
            {"id":"e3","type":"SomethingNew","createDateTime":"2030-01-01T00:00:00Z"}],
            "subscriptionId":"s"}"#;
        let body = candex_client::WebhookBody::parse(older).expect("decodes");
        let events: Vec<_> = body.events.iter().filter_map(InboxEvent::from_webhook).collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].hirer_id, None);
        assert!(events[0].is_export());
        assert!(!events[1].is_export(), "unknown types are recorded, not exported");
    }

    #[tokio::test]
    async fn state_survives_reopening() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("nested/state.db");
        let state = State::open(&path).await.expect("open");
        state.save_page("s", &[app("e1", "p1")], Some("c9")).await.expect("save");
        state.close().await;
        drop(state);
        let state = State::open(&path).await.expect("reopen");
        assert_eq!(state.cursor("s").await.expect("cursor").as_deref(), Some("c9"));
        assert_eq!(state.due(0, 10).await.expect("due").len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
    }

    #[tokio::test]
    async fn one_state_serves_one_exporter_at_a_time() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("state.db");
        let first = State::open(&path).await.expect("open");
        let second = State::open(&path).await.expect_err("refused while the first is open");
        assert!(second.is_config() && second.to_string().contains("another candex export"), "{second}");
        first.close().await;
        drop(first);
        State::open(&path).await.expect("free again");
    }

    #[test]
    fn retry_delay_doubles_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::from_secs(30));
        assert_eq!(retry_delay(2), Duration::from_secs(60));
        assert_eq!(retry_delay(100), Duration::from_secs(3600));
    }
}
