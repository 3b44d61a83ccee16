//! Readiness: whether the database and the attachment storage both answer. `GET /readyz`
//! reports it (503 while either is unusable), and `candex serve` runs the same checks before
//! it listens. `GET /healthz` is liveness only and never looks at either.
//!
//! Anyone on the listener may call `/readyz`, so a check runs at most once per
//! [`FRESH_FOR`]: concurrent and repeated calls share the last result, and each check is
//! bounded by [`CHECK_TIMEOUT`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use candex_store::Store;
use serde::Serialize;

use crate::state::AppState;
use crate::storage::BlobStore;

/// How long a result is reused.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// The longest one dependency's check may take before it counts as unavailable.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The state of one dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It answered.
    Ok,
    /// It failed or did not answer in time.
    Unavailable,
}

/// What `/readyz` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `ok` when both dependencies are.
    pub status: Status,
    /// The database.
    pub database: Status,
    /// The attachment storage.
    pub storage: Status,
}

/// Why a dependency is unusable, for the start-up check's message.
#[derive(Debug, thiserror::Error)]
pub enum Unready {
    /// The database failed.
    #[error("the database did not answer: {0}")]
    Database(String),
    /// The storage failed.
    #[error("attachment storage {location} is not usable: {cause}")]
    Storage {
        /// Where the blobs are.
        location: String,
        /// What failed.
        cause: String,
    },
}

/// Checks the database.
pub async fn check_database(store: &dyn Store) -> Result<(), Unready> {
    match tokio::time::timeout(CHECK_TIMEOUT, store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Unready::Database(e.to_string())),
        Err(_) => Err(Unready::Database(format!("no answer within {CHECK_TIMEOUT:?}"))),
    }
}

/// Checks the storage: a read, or with `write` a write, read and delete of a probe object.
pub async fn check_storage(blobs: &BlobStore, write: bool) -> Result<(), Unready> {
    let unready = |cause: String| Unready::Storage { location: blobs.location().to_owned(), cause };
    let check = async {
        if write {
            blobs.check_writable().await
        } else {
            blobs.check().await
        }
    };
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(unready(std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string))),
        Err(_) => Err(unready(format!("no answer within {CHECK_TIMEOUT:?}"))),
    }
}

/// The last result, shared by every caller.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, Report)>>,
}

impl Readiness {
    /// The current report, checked now unless a result younger than [`FRESH_FOR`] exists.
    pub async fn report(&self, store: &dyn Store, blobs: &BlobStore) -> Report {
        let mut last = self.last.lock().await;
        if let Some((at, report)) = last.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return report.clone();
            }
        }
        let (database, storage) = tokio::join!(check_database(store), check_storage(blobs, false));
        for problem in [database.as_ref().err(), storage.as_ref().err()].into_iter().flatten() {
            tracing::warn!("not ready: {problem}");
        }
        let status = |r: &Result<(), Unready>| if r.is_ok() { Status::Ok } else { Status::Unavailable };
        let report = Report {
            status: if database.is_ok() && storage.is_ok() { Status::Ok } else { Status::Unavailable },
            database: status(&database),
            storage: status(&storage),
        };
        *last = Some((Instant::now(), report.clone()));
        report
    }
}

/// `GET /readyz`: 200 when the database and the attachment storage answer, 503 otherwise,
/// with each one's status.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Report>) {
    let readiness: Arc<Readiness> = state.readiness.clone();
    let report = readiness.report(state.store.as_ref(), &state.blobs).await;
    let code = if report.status == Status::Ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(report))
}
