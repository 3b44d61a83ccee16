//! Hirers, partners and relationships: their SQL is shared (`candex_store::PartyStore`); SQLite
//! needs no row lock, its one writer serialises every write transaction.

use candex_store::PartySql;

use crate::SqliteStore;

impl PartySql for SqliteStore {
    const LOCK_PARTNER: &'static str = "select 1 from partners where id = $1";
}
