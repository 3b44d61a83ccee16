//! Transaction-scoped advisory locks: what serialises the writes that several candex
//! instances on one database could otherwise interleave (SQLite gets this from its single
//! writer). Each is held until its transaction commits or rolls back.

use candex_store::StoreResult;
use sqlx::{Postgres, Transaction};

use crate::error::map_err;

/// The event order: ASCII "candexev", the key `events::emit` takes before drawing an event's
/// `seq`, so that event-writing transactions commit in `seq` order. Writes that emit take it
/// first, before any row lock, so every emitter acquires its locks in the same order (no
/// deadlock between, say, closing a job ad and applying to it), and the sequence numbers they
/// draw on the way (a profile's `seq`) also follow commit order.
pub(crate) const EVENT_ORDER: i64 = 0x6361_6e64_6578_6576;

/// The first signing key: ASCII "candexsk".
pub(crate) const SIGNING_KEYS: i64 = 0x6361_6e64_6578_736b;

/// Blob deletion against blob leases: ASCII "candexbl" (see `migrations/0008_blob_leases.sql`).
pub(crate) const BLOBS: i64 = 0x6361_6e64_6578_626c;

/// Takes the advisory lock `key` for the rest of the transaction (again, if already held).
pub(crate) async fn lock(tx: &mut Transaction<'_, Postgres>, key: i64) -> StoreResult<()> {
    sqlx::query("select pg_advisory_xact_lock($1)").bind(key).execute(&mut **tx).await.map_err(map_err)?;
    Ok(())
}
