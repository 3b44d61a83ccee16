//! `ExportError`: what an export step can fail with, and which failures are configuration errors.

use std::path::{Path, PathBuf};

use candex_client::ClientError;

/// `ExportError::Database::what` of the export state.
const STATE_DB: &str = "export state";

/// A failed export step.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Bad flags, paths or credentials: fixing the command line is the only remedy.
    #[error("{0}")]
    Config(String),
    /// The API call failed (after the client's retries).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The profile does not exist for this partner (expired, erased, or never visible).
    #[error("profile {0} was not found (expired, erased, or not visible to this partner)")]
    NotFound(String),
    /// The server returned something the exporter cannot file.
    #[error("unusable response: {0}")]
    Unusable(String),
    /// A local file operation failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The export state or a SQL sink failed.
    #[error("database error ({what}): {source}")]
    Database {
        /// Which database.
        what: &'static str,
        /// The cause.
        source: sqlx::Error,
    },
}

impl ExportError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        ExportError::Io { path: path.as_ref().to_path_buf(), source }
    }

    /// A state-database error.
    pub fn state(source: sqlx::Error) -> Self {
        ExportError::Database { what: STATE_DB, source }
    }

    /// Whether the run must stop: retrying other events cannot help when the configuration is
    /// wrong or the export state itself fails. Everything else is one export's failure.
    pub fn is_fatal(&self) -> bool {
        self.is_config() || matches!(self, ExportError::Database { what: STATE_DB, .. })
    }

    /// Whether retrying cannot help until something changes on the server: the profile is gone,
    /// or the partner may not read it (e.g. the hirer ended the relationship).
    pub fn is_permanent(&self) -> bool {
        matches!(self, ExportError::NotFound(_) | ExportError::Client(ClientError::Forbidden { .. }))
    }

    /// Whether only a change of command line, credentials or configuration can fix this
    /// (exit code 2 rather than 1).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            ExportError::Config(_)
                | ExportError::Client(ClientError::Config { .. })
                | ExportError::Client(ClientError::TokenRejected { .. })
        )
    }
}
