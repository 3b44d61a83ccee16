-- Erasure events (candex extension): `CandidateErased` joins the event types, and events are
-- found by candidate, so that an erasure reaches every partner that was sent one of the
-- candidate's applications (`events_candidate_idx`).
--
-- SQLite cannot alter a CHECK constraint, and rebuilding `events` inside the transaction sqlx
-- runs a migration in is not possible without cascading deletes: `PRAGMA foreign_keys = OFF`
-- does nothing inside a transaction, so dropping the old table would delete every stream,
-- delivery and attempt row. The check is widened instead by editing its definition in the
-- schema, the procedure SQLite documents for loosening constraints that leaves the stored
-- format unchanged (https://www.sqlite.org/lang_altertable.html, "making other kinds of table
-- schema changes"): every existing row satisfies the wider check. `writable_schema = RESET`
-- reloads the schema on this connection, and the `create index` after it changes the schema
-- cookie, so every other connection reloads it too. A test checks the result with
-- `integrity_check` and that the old check still refuses unknown codes.

PRAGMA writable_schema = ON;

update sqlite_schema
set sql = replace(sql,
    '''PositionProfilePosted'', ''PositionProfileClosed'')',
    '''PositionProfilePosted'', ''PositionProfileClosed'', ''CandidateErased'')')
where type = 'table' and name = 'events';

PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;

-- An erasure finds the candidate's application events, and so the partners sent them.
create index events_candidate_idx on events (candidate_id) where candidate_id is not null;
