//! `SqlSink`: tables an ATS can query, in SQLite or PostgreSQL — `candex_profiles` (one row per
//! profile, the profile JSON as received), `candex_candidates` (latest contact details per
//! candidate) and `candex_attachments` (metadata; files content-addressed in a folder beside it).
//! One transaction per profile; a re-export replaces the profile's rows. An erasure deletes the
//! candidate's rows in all three tables in one transaction, and the attachment files no other
//! row uses.
//!
//! One implementation serves both databases through sqlx's `Any` driver: the statements are
//! portable (`$n` placeholders, `ON CONFLICT`), and only the profile column's type differs
//! (`JSONB` on PostgreSQL, `TEXT` on SQLite).

use std::path::{Path, PathBuf};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

use super::{
    blocking, move_to_blobs, remove_blob, remove_staging, sqlite_file, staging_in, tidy_staging, Erasure, Export,
    ProfileMeta, Sink,
};
use crate::files::{create_private_dir, touch_private};
use crate::{ExportError, State};

fn sink_err(source: sqlx::Error) -> ExportError {
    ExportError::Database { what: "SQL sink", source }
}

/// The SQL sink.
pub struct SqlSink {
    pool: AnyPool,
    postgres: bool,
    blobs: PathBuf,
    staging_root: PathBuf,
    label: String,
}

fn schema(postgres: bool) -> String {
    let json = if postgres { "JSONB" } else { "TEXT" };
    format!(
        r#"
CREATE TABLE IF NOT EXISTS candex_profiles (
    profile_id TEXT PRIMARY KEY,
    hirer_id TEXT NOT NULL,
    position_id TEXT,
    candidate_id TEXT,
    event_id TEXT NOT NULL,
    seek_hirer_job_reference TEXT,
    given_name TEXT,
    family_name TEXT,
    email TEXT,
    created_at TEXT,
    exported_at TEXT NOT NULL,
    profile {json} NOT NULL
);
CREATE INDEX IF NOT EXISTS candex_profiles_hirer ON candex_profiles (hirer_id, position_id);
CREATE TABLE IF NOT EXISTS candex_candidates (
    candidate_id TEXT PRIMARY KEY,
    hirer_id TEXT NOT NULL,
    given_name TEXT,
    family_name TEXT,
    email TEXT,
    phone TEXT,
    latest_profile_id TEXT NOT NULL,
    latest_applied_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS candex_attachments (
    profile_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    attachment_id TEXT,
    seek_role_code TEXT,
    file_name TEXT NOT NULL,
    original_filename TEXT,
    content_type TEXT,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    blob_path TEXT NOT NULL,
    source_url TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (profile_id, ordinal)
);
"#
    )
}

impl SqlSink {
    /// Connects to `url` (creating a SQLite file, owner-only) and creates the tables if missing.
    pub async fn open(url: &str, blobs: &Path) -> Result<SqlSink, ExportError> {
        sqlx::any::install_default_drivers();
        let postgres = url.starts_with("postgres");
        if !postgres {
            let file = sqlite_file(url)?;
            if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_private_dir(parent)?;
            }
            touch_private(&file)?;
        }
        let options: AnyConnectOptions =
            url.parse().map_err(|e| ExportError::Config(format!("--out {}: {e}", redact(url))))?;
        let mut pool_options = AnyPoolOptions::new().max_connections(if postgres { 8 } else { 1 });
        if !postgres {
            // Per connection, so a replaced connection has them too. `secure_delete` zeroes
            // what an erasure deletes, so no erased value stays readable in the file.
            pool_options = pool_options.after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; \
                         PRAGMA secure_delete = ON",
                    )
                    .await
                    .map(drop)
                })
            });
        }
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(|e| ExportError::Config(format!("cannot open the sink {}: {e}", redact(url))))?;
        sqlx::raw_sql(&schema(postgres)).execute(&pool).await.map_err(sink_err)?;
        create_private_dir(blobs)?;
        let staging_root = blobs.join(".candex").join("staging");
        create_private_dir(&staging_root)?;
        let label = format!("{} (files in {})", redact(url), blobs.display());
        Ok(SqlSink { pool, postgres, blobs: blobs.to_path_buf(), staging_root, label })
    }

    async fn write_rows(&self, export: &Export) -> Result<(), sqlx::Error> {
        let meta = &export.meta;
        let profile = &export.profile;
        let person = profile.candidate.as_ref().and_then(|c| c.person.as_ref());
        let name = person.and_then(|p| p.name.as_ref());
        let communication = person.and_then(|p| p.communication.as_ref());
        let given = name.and_then(|n| n.given.clone());
        let family = name.and_then(|n| n.family.clone());
        let email = communication.and_then(|c| c.email.first()).and_then(|e| e.address.clone());
        let phone = communication.and_then(|c| c.phone.first()).and_then(|p| p.formatted_number.clone());
        let job_reference =
            profile.associated_position_profile.as_ref().and_then(|p| p.seek_hirer_job_reference.clone());
        let created = profile.create_date_time.clone();
        let json_param = if self.postgres { "CAST($12 AS JSONB)" } else { "$12" };
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO candex_profiles (profile_id, hirer_id, position_id, candidate_id, event_id, \
             seek_hirer_job_reference, given_name, family_name, email, created_at, exported_at, profile) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, {json_param}) \
             ON CONFLICT (profile_id) DO UPDATE SET hirer_id = excluded.hirer_id, position_id = excluded.position_id, \
             candidate_id = excluded.candidate_id, event_id = excluded.event_id, \
             seek_hirer_job_reference = excluded.seek_hirer_job_reference, given_name = excluded.given_name, \
             family_name = excluded.family_name, email = excluded.email, created_at = excluded.created_at, \
             exported_at = excluded.exported_at, profile = excluded.profile"
        ))
        .bind(&meta.profile_id)
        .bind(&meta.hirer_id)
        .bind(&meta.position_id)
        .bind(&meta.candidate_id)
        .bind(&meta.event_id)
        .bind(&job_reference)
        .bind(&given)
        .bind(&family)
        .bind(&email)
        .bind(&created)
        .bind(&export.exported_at)
        .bind(export.raw.get())
        .execute(&mut *tx)
        .await?;
        if let Some(candidate) = &meta.candidate_id {
            sqlx::query(
                // The person is live, so any export has current contact details; the latest
                // application is the one applied last, whatever order exports ran in.
                "INSERT INTO candex_candidates (candidate_id, hirer_id, given_name, family_name, email, phone, \
                 latest_profile_id, latest_applied_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (candidate_id) DO UPDATE SET hirer_id = excluded.hirer_id, \
                 given_name = excluded.given_name, family_name = excluded.family_name, email = excluded.email, \
                 phone = excluded.phone, updated_at = excluded.updated_at, \
                 latest_profile_id = CASE WHEN candex_candidates.latest_applied_at IS NULL \
                   OR excluded.latest_applied_at >= candex_candidates.latest_applied_at \
                   THEN excluded.latest_profile_id ELSE candex_candidates.latest_profile_id END, \
                 latest_applied_at = CASE WHEN candex_candidates.latest_applied_at IS NULL \
                   OR excluded.latest_applied_at >= candex_candidates.latest_applied_at \
                   THEN excluded.latest_applied_at ELSE candex_candidates.latest_applied_at END",
            )
            .bind(candidate)
            .bind(&meta.hirer_id)
            .bind(&given)
            .bind(&family)
            .bind(&email)
            .bind(&phone)
            .bind(&meta.profile_id)
            .bind(&created)
            .bind(&export.exported_at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM candex_attachments WHERE profile_id = $1")
            .bind(&meta.profile_id)
            .execute(&mut *tx)
            .await?;
        for (i, a) in export.attachments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO candex_attachments (profile_id, ordinal, attachment_id, seek_role_code, file_name, \
                 original_filename, content_type, size_bytes, sha256, blob_path, source_url, fetched_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&meta.profile_id)
            .bind(i64::try_from(i).unwrap_or(i64::MAX))
            .bind(&a.id)
            .bind(&a.seek_role_code)
            .bind(&a.file_name)
            .bind(&a.original_filename)
            .bind(&a.content_type)
            .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
            .bind(&a.sha256)
            .bind(a.blob.clone().unwrap_or_default())
            .bind(&a.source_url)
            .bind(&a.fetched_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}

impl SqlSink {
    /// Deletes the erased candidate's rows (its profiles by candidate or by id, their
    /// attachments, its candidate row) in one transaction, and the files only those rows used
    /// before it commits: a crash in between leaves rows naming missing files, but only rows of
    /// the erased candidate, which the rerun deletes. Returns how many profiles went.
    async fn erase_rows(&self, erasure: &Erasure) -> Result<u64, ExportError> {
        let mut tx = self.pool.begin().await.map_err(sink_err)?;
        let mut profiles: Vec<String> =
            sqlx::query_scalar("SELECT profile_id FROM candex_profiles WHERE candidate_id = $1")
                .bind(&erasure.candidate_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(sink_err)?;
        for known in &erasure.profiles {
            if !profiles.contains(&known.profile_id) {
                profiles.push(known.profile_id.clone());
            }
        }
        let mut blobs = Vec::new();
        let mut removed = 0;
        for profile in &profiles {
            let paths: Vec<String> =
                sqlx::query_scalar("SELECT blob_path FROM candex_attachments WHERE profile_id = $1")
                    .bind(profile)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(sink_err)?;
            blobs.extend(paths);
            sqlx::query("DELETE FROM candex_attachments WHERE profile_id = $1")
                .bind(profile)
                .execute(&mut *tx)
                .await
                .map_err(sink_err)?;
            removed += sqlx::query("DELETE FROM candex_profiles WHERE profile_id = $1")
                .bind(profile)
                .execute(&mut *tx)
                .await
                .map_err(sink_err)?
                .rows_affected();
        }
        sqlx::query("DELETE FROM candex_candidates WHERE candidate_id = $1")
            .bind(&erasure.candidate_id)
            .execute(&mut *tx)
            .await
            .map_err(sink_err)?;
        blobs.sort();
        blobs.dedup();
        let mut unused = Vec::new();
        for blob in blobs {
            let used: Option<i64> = sqlx::query_scalar("SELECT 1 FROM candex_attachments WHERE blob_path = $1 LIMIT 1")
                .bind(&blob)
                .fetch_optional(&mut *tx)
                .await
                .map_err(sink_err)?;
            if used.is_none() {
                unused.push(blob);
            }
        }
        let dir = self.blobs.clone();
        blocking(move || unused.iter().try_for_each(|b| remove_blob(&dir, b).map(drop))).await?;
        tx.commit().await.map_err(sink_err)?;
        if !self.postgres {
            // The write-ahead log still holds the pages as they were before (the rows as
            // written): copy the zeroed pages into the file and empty the log.
            sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await.map_err(sink_err)?;
        }
        Ok(removed)
    }
}

/// A database URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[async_trait::async_trait]
impl Sink for SqlSink {
    fn describe(&self) -> String {
        self.label.clone()
    }

    async fn staging(&self, meta: &ProfileMeta) -> Result<PathBuf, ExportError> {
        staging_in(&self.staging_root, &meta.profile_id).await
    }

    async fn commit(&self, mut export: Export, state: &State) -> Result<(), ExportError> {
        move_to_blobs(&self.blobs, &mut export).await?;
        self.write_rows(&export).await.map_err(sink_err)?;
        state.finish(&export.meta.event_id, &export.meta.profile_id, &export.meta.profile_id).await
    }

    async fn erase(&self, erasure: &Erasure, state: &State) -> Result<u64, ExportError> {
        let (root, work) = (self.staging_root.clone(), erasure.clone());
        blocking(move || remove_staging(&root, &work)).await?;
        let removed = self.erase_rows(erasure).await?;
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

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://ats:s3cret@db:5432/x"), "postgres://ats:***@db:5432/x");
        assert_eq!(redact("postgres://ats@db/x"), "postgres://ats@db/x");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
