//! Hirers, partners and relationships: their SQL is shared (`candex_store::PartyStore`);
//! PostgreSQL locks the partner's row while its relationships change.

use candex_store::PartySql;

use crate::PgStore;

impl PartySql for PgStore {
    const LOCK_PARTNER: &'static str = "select 1 from partners where id = $1 for no key update";
}
