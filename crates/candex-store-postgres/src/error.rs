//! The one mapping from sqlx errors to `StoreError`. PostgreSQL names the violated constraint
//! itself, and the migrations give every constraint the SQLite backend's name, so conflicts
//! carry the same names on both backends.

use candex_store::StoreError;
use sqlx::error::{DatabaseError, ErrorKind};

/// SQLite does not say which foreign key failed and reports every one under this name; it is
/// kept here so that both backends answer alike. The store checks every reference it is
/// handed before writing (and answers `NotFound`), so this only surfaces on a race with a
/// deletion.
pub(crate) const UNNAMED_FOREIGN_KEY: &str = "foreign_key";

/// SQLSTATE classes (first two characters) that mean the database cannot be used right now
/// rather than that the statement is wrong: connection exceptions, insufficient resources.
const TRANSIENT_CLASSES: &[&str] = &["08", "53"];

/// Single SQLSTATEs of the same kind: admin/crash/cannot-connect-now shutdowns, and the
/// serialization failures and deadlocks a retry resolves.
const TRANSIENT_CODES: &[&str] = &["57P01", "57P02", "57P03", "40001", "40P01"];

/// Maps a driver error to `StoreError`; every query of this crate goes through here.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) => {
            if let Some(conflict) = conflict(db.as_ref()) {
                return conflict;
            }
            if db.code().is_some_and(|code| is_transient(&code)) {
                StoreError::Unavailable(Box::new(err))
            } else {
                StoreError::Other(Box::new(err))
            }
        }
        _ => candex_store::driver::connection_err(err),
    }
}

/// `Conflict` for a uniqueness violation (named by its constraint) or a foreign-key one.
fn conflict(db: &dyn DatabaseError) -> Option<StoreError> {
    match db.kind() {
        ErrorKind::UniqueViolation => db.constraint().map(|name| StoreError::Conflict { constraint: name.to_owned() }),
        ErrorKind::ForeignKeyViolation => Some(StoreError::Conflict { constraint: UNNAMED_FOREIGN_KEY.to_owned() }),
        _ => None,
    }
}

/// Whether a SQLSTATE says "try again later".
fn is_transient(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code) || TRANSIENT_CLASSES.iter().any(|class| code.starts_with(class))
}

/// `StoreError::Other` for a stored value that does not decode (shared by every backend).
pub(crate) use candex_store::rows::corrupt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_sqlstates_are_recognised() {
        for code in ["08006", "08001", "53300", "53100", "57P01", "57P03", "40001", "40P01"] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23505", "23503", "42P01", "57014", "40002", "22P02"] {
            assert!(!is_transient(code), "{code}");
        }
    }

    #[test]
    fn pool_and_io_failures_are_unavailable() {
        assert!(matches!(map_err(sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
        assert!(matches!(map_err(sqlx::Error::PoolClosed), StoreError::Unavailable(_)));
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(matches!(map_err(sqlx::Error::Io(refused)), StoreError::Unavailable(_)));
        assert!(matches!(map_err(sqlx::Error::RowNotFound), StoreError::Other(_)));
    }
}
