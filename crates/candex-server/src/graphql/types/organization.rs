//! Organisations: `HiringOrganization` (a hirer, with the caller's capabilities), its
//! connection types, and `SelfOrganizations` / `PartnerOrganization`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use candex_domain::{HirerId, RelationshipSet};

use super::common::ObjectIdentifier;
use crate::graphql::access::Access;
use crate::graphql::relay::PageInfo;

/// `HiringOrganization`: a hirer.
#[derive(Debug, Clone)]
pub struct HiringOrganization {
    id: HirerId,
    name: String,
    known_relationships: Option<RelationshipSet>,
}

impl HiringOrganization {
    /// A hirer whose capabilities are looked up when asked for.
    pub fn new(id: HirerId, name: String) -> Self {
        Self { id, name, known_relationships: None }
    }

    /// A hirer whose relationships with the caller are already known.
    pub fn with_relationships(id: HirerId, name: String, relationships: RelationshipSet) -> Self {
        Self { id, name, known_relationships: Some(relationships) }
    }
}

#[Object]
impl HiringOrganization {
    async fn id(&self) -> ObjectIdentifier {
        (&self.id).into()
    }

    async fn name(&self) -> String {
        self.name.clone()
    }

    async fn seek_anz_advertiser_id(&self) -> Option<i32> {
        None
    }

    /// The relationships the calling partner holds with this hirer.
    async fn seek_api_capabilities(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<HiringOrganizationApiCapabilities>> {
        let set = match self.known_relationships {
            Some(set) => set,
            None => ctx.data_unchecked::<Access>().relationships(&self.id).await?,
        };
        Ok(Some(HiringOrganizationApiCapabilities {
            application_method_codes: Vec::new(),
            relationship_type_codes: set.codes(),
        }))
    }
}

/// `HiringOrganizationApiCapabilities`.
#[derive(Debug, Clone, SimpleObject)]
pub struct HiringOrganizationApiCapabilities {
    /// Application methods (job posting; empty).
    pub application_method_codes: Vec<String>,
    /// Relationships the caller holds.
    pub relationship_type_codes: Vec<String>,
}

/// `HiringOrganizationEdge`.
#[derive(Debug, Clone, SimpleObject)]
pub struct HiringOrganizationEdge {
    /// Opaque cursor.
    pub cursor: String,
    /// The hirer.
    pub node: HiringOrganization,
}

/// `HiringOrganizationsConnection`.
#[derive(Debug, Clone, SimpleObject)]
pub struct HiringOrganizationsConnection {
    /// Edges in name order.
    pub edges: Vec<HiringOrganizationEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// `HiringOrganizationsFilterInput`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct HiringOrganizationsFilterInput {
    /// Case-insensitive substring of the name.
    pub name_search: Option<String>,
    /// Keep hirers with at least one of these relationships.
    pub relationship_type_codes: Option<Vec<String>>,
}

/// `SelfOrganizations`.
#[derive(Debug, Clone, SimpleObject)]
pub struct SelfOrganizations {
    /// The hirer a browser token is bound to; null for partner tokens.
    pub hirer: Option<HiringOrganization>,
    /// The calling partner.
    pub partner: PartnerOrganization,
}

/// `PartnerOrganization`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PartnerOrganization {
    /// Whether the partner may manage its own credentials (always false in candex).
    pub credential_self_service_approved_indicator: bool,
    /// Name.
    pub name: String,
}
