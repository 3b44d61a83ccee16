//! The parties area of the store: hirers, partners and the relationships between them.

use async_trait::async_trait;
use candex_domain::{ObjectId, RelationshipSet, RelationshipType};

use crate::*;

/// Hirers, partners and the relationships between them.
#[async_trait]
pub trait PartyStore: Send + Sync {
    /// Stores a new hirer.
    async fn create_hirer(&self, hirer: NewHirer) -> StoreResult<Hirer>;
    /// Reads one hirer.
    async fn get_hirer(&self, id: &ObjectId) -> StoreResult<Option<Hirer>>;
    /// Lists every hirer by name (operator use).
    async fn list_hirers(&self) -> StoreResult<Vec<Hirer>>;

    /// Stores a new partner with its hashed client secret.
    async fn create_partner(&self, partner: NewPartner) -> StoreResult<Partner>;
    /// Reads one partner.
    async fn get_partner(&self, id: &ObjectId) -> StoreResult<Option<Partner>>;
    /// Finds a partner and its secret hash by client id, for the token endpoint.
    async fn find_partner_credentials(&self, client_id: &str) -> StoreResult<Option<PartnerCredentials>>;
    /// Lists every partner by name (operator use).
    async fn list_partners(&self) -> StoreResult<Vec<Partner>>;
    /// Replaces the relationships a partner holds with a hirer; an empty list revokes all.
    /// `NotFound` when either side does not exist.
    ///
    /// When the set changes, the same transaction writes a `HirerRelationshipChanged` event
    /// (stamped `event`) into the partner's stream.
    async fn set_relationships(
        &self,
        partner_id: &ObjectId,
        hirer_id: &ObjectId,
        types: &[RelationshipType],
        event: &EventStamp,
    ) -> StoreResult<RelationshipSet>;
    /// The relationships a partner holds with one hirer (empty when none or unknown).
    async fn relationships(&self, partner_id: &ObjectId, hirer_id: &ObjectId) -> StoreResult<RelationshipSet>;
    /// One page of the hirers a partner has any relationship with, ordered by (name, id).
    async fn page_related_hirers(&self, query: &RelatedHirersQuery) -> StoreResult<Vec<RelatedHirer>>;
}
