//! Storage errors, backend-agnostic: backends map their driver errors here exactly once.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A referenced object does not exist; names what was missing ("hirer").
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or reference constraint was violated; names the constraint, which is the
    /// same on every backend.
    #[error("conflict on {constraint}")]
    Conflict {
        /// The constraint's name, e.g. `candidates_hirer_email_key`.
        constraint: String,
    },
    /// The operation breaks a business rule (applying to a closed job ad).
    #[error("{0}")]
    Rejected(String),
    /// The database could not be reached or timed out.
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else the backend reported.
    #[error("database error")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}
