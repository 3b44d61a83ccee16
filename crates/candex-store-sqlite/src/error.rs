//! The one mapping from sqlx errors to `StoreError`, and the table naming SQLite's
//! uniqueness violations after the constraints of `migrations/0001_init.sql`.

use candex_store::StoreError;
use sqlx::error::ErrorKind;

/// SQLite reports a UNIQUE or PRIMARY KEY violation as "UNIQUE constraint failed: " followed
/// by the columns, never by the constraint's name. This table turns those column lists into
/// the names the migration gives the constraints, which PostgreSQL reports directly.
const UNIQUE_CONSTRAINTS: &[(&str, &str)] = &[
    ("hirers.id", "hirers_pkey"),
    ("partners.id", "partners_pkey"),
    ("partners.client_id", "partners_client_id_key"),
    ("relationships.partner_id, relationships.hirer_id, relationships.type_code", "relationships_pkey"),
    ("positions.profile_id", "positions_pkey"),
    ("positions.opening_id", "positions_opening_id_key"),
    ("candidates.id", "candidates_pkey"),
    ("candidates.hirer_id, candidates.email_key", "candidates_hirer_email_key"),
    ("profiles.seq", "profiles_pkey"),
    ("profiles.profile_id", "profiles_profile_id_key"),
    ("signing_keys.kid", "signing_keys_pkey"),
    ("positions.questionnaire_id", "positions_questionnaire_id_key"),
    ("questionnaire_submissions.profile_id", "questionnaire_submissions_pkey"),
    ("attachments.id", "attachments_pkey"),
    ("events.id", "events_id_key"),
    ("webhook_subscriptions.id", "webhook_subscriptions_id_key"),
    (
        "webhook_subscriptions.partner_id, webhook_subscriptions.event_type_code, webhook_subscriptions.scheme_id, \
         webhook_subscriptions.url, webhook_subscriptions.hirer_key",
        "webhook_subscriptions_key",
    ),
    ("webhook_requests.request_id", "webhook_requests_request_id_key"),
    ("webhook_attempts.id", "webhook_attempts_id_key"),
    ("webhook_replays.id", "webhook_replays_id_key"),
    ("process_history_items.seq", "process_history_items_pkey"),
    ("process_history_items.id", "process_history_items_id_key"),
    ("process_history_items.profile_id, process_history_items.idempotency_id", "process_history_items_idempotency_key"),
];

/// SQLite does not say which foreign key failed. The store checks every reference it is
/// handed before writing (and answers `NotFound`), so this only surfaces on a race with a
/// deletion; it is reported under this generic name.
pub(crate) const UNNAMED_FOREIGN_KEY: &str = "foreign_key";

const UNIQUE_PREFIX: &str = "UNIQUE constraint failed: ";

/// Primary result codes (the low byte of an extended code) that mean the database cannot be
/// used right now rather than that the statement is wrong: BUSY, LOCKED, IOERR, FULL, CANTOPEN.
const TRANSIENT_CODES: &[i64] = &[5, 6, 10, 13, 14];

/// Maps a driver error to `StoreError`; every query of this crate goes through here.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) => {
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    if let Some(constraint) = unique_constraint_name(db.message()) {
                        return StoreError::Conflict { constraint: constraint.to_owned() };
                    }
                }
                ErrorKind::ForeignKeyViolation => {
                    return StoreError::Conflict { constraint: UNNAMED_FOREIGN_KEY.to_owned() };
                }
                _ => {}
            }
            let primary = db.code().and_then(|c| c.parse::<i64>().ok()).map(|c| c & 0xff);
            if primary.is_some_and(|c| TRANSIENT_CODES.contains(&c)) {
                StoreError::Unavailable(Box::new(err))
            } else {
                StoreError::Other(Box::new(err))
            }
        }
        _ => candex_store::driver::connection_err(err),
    }
}

/// The constraint a "UNIQUE constraint failed: …" message names, if it is one of ours.
fn unique_constraint_name(message: &str) -> Option<&'static str> {
    let columns = message.strip_prefix(UNIQUE_PREFIX)?;
    UNIQUE_CONSTRAINTS.iter().find(|(cols, _)| *cols == columns).map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniqueness_messages_map_to_the_migration_constraint_names() {
        assert_eq!(
            unique_constraint_name("UNIQUE constraint failed: candidates.hirer_id, candidates.email_key"),
            Some("candidates_hirer_email_key")
        );
        assert_eq!(unique_constraint_name("UNIQUE constraint failed: hirers.id"), Some("hirers_pkey"));
        assert_eq!(unique_constraint_name("UNIQUE constraint failed: nope.x"), None);
        assert_eq!(unique_constraint_name("something else"), None);
    }

    #[test]
    fn pool_timeouts_are_unavailable() {
        assert!(matches!(map_err(sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
        assert!(matches!(map_err(sqlx::Error::RowNotFound), StoreError::Other(_)));
    }
}
