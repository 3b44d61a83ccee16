//! The `Query` root: every read a partner makes, each authorised against the hirer
//! relationship of the object it reaches.

use std::sync::Arc;

use async_graphql::{Context, Object};
use base64::Engine;
use candex_domain::{HirerId, IdKind, Identifier, RelationshipType};
use candex_store::{HirerKey, RelatedHirersQuery};

use super::access::Access;
use super::error::{bad_user_input, internal};
use super::prefetch::Prefetched;
use super::relay::{page, Page, PageInfo};
use super::types::organization::{
    HiringOrganization, HiringOrganizationEdge, HiringOrganizationsConnection, HiringOrganizationsFilterInput,
    PartnerOrganization, SelfOrganizations,
};
use super::types::position::{PositionOpening, PositionProfile};
use super::types::profile::{Candidate, CandidateProfile};
use super::types::questionnaire::ApplicationQuestionnaire;
use super::SchemaContext;

/// The export reads of the query root (merged into [`super::Query`]).
#[derive(Default)]
pub struct Query;

fn parse_id<I: Identifier>(id: &str, kind: IdKind) -> async_graphql::Result<I> {
    I::parse_kind(id, kind).map_err(|e| bad_user_input("/id", e.to_string()))
}

fn context<'a>(ctx: &'a Context<'_>) -> (&'a SchemaContext, &'a Access) {
    (ctx.data_unchecked::<SchemaContext>(), ctx.data_unchecked::<Access>())
}

#[Object(name = "ExportQueries")]
impl Query {
    /// A candidate profile (one application). Needs `ApplicationExport` with its hirer.
    async fn candidate_profile(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<CandidateProfile>> {
        let (sc, access) = context(ctx);
        let partner = access.partner()?;
        let id = parse_id(&id, IdKind::CandidateProfile)?;
        // The profile, the partner's relationships with its hirer and its token revocation
        // time in one statement (made already by the direct writer when it declined).
        let read_ahead = ctx.data_opt::<Prefetched>().and_then(|p| p.take_profile_for_partner(&id, partner));
        let found = match read_ahead {
            Some(found) => found,
            None => sc.store.get_profile_for_partner(&id, partner).await.map_err(internal)?,
        };
        let Some((profile, grant)) = found else {
            return Ok(None);
        };
        access.prime_grant(profile.hirer_id(), grant)?;
        access.require(profile.hirer_id(), &[RelationshipType::ApplicationExport], "candidate profile").await?;
        Ok(Some(CandidateProfile(Arc::new(profile))))
    }

    /// A candidate (one person at one hirer). Needs `ApplicationExport` with its hirer.
    async fn candidate(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<Option<Candidate>> {
        let (sc, access) = context(ctx);
        access.partner()?;
        let id = parse_id(&id, IdKind::Candidate)?;
        let Some(candidate) = sc.store.get_candidate(&id).await.map_err(internal)? else { return Ok(None) };
        access.require(&candidate.hirer_id, &[RelationshipType::ApplicationExport], "candidate").await?;
        Ok(Some(Candidate(Arc::new(candidate))))
    }

    /// A job ad. Needs `ApplicationExport` or `JobPosting` with its hirer.
    async fn position_profile(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<Option<PositionProfile>> {
        let (sc, access) = context(ctx);
        access.caller("query:position-profiles")?;
        let id = parse_id(&id, IdKind::PositionProfile)?;
        let Some(position) = sc.store.get_position(&id).await.map_err(internal)? else { return Ok(None) };
        access
            .require(
                &position.hirer_id,
                &[RelationshipType::ApplicationExport, RelationshipType::JobPosting],
                "position profile",
            )
            .await?;
        Ok(Some(PositionProfile::posted(Arc::new(position))))
    }

    /// A job ad's screening questionnaire. Needs `ApplicationExport` or `JobPosting` with its
    /// hirer, like `positionProfile`; browser tokens need `query:application-questionnaires`.
    async fn application_questionnaire(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<ApplicationQuestionnaire>> {
        let (sc, access) = context(ctx);
        access.caller("query:application-questionnaires")?;
        let id = parse_id(&id, IdKind::ApplicationQuestionnaire)?;
        let Some(position) = sc.store.get_position_by_questionnaire(&id).await.map_err(internal)? else {
            return Ok(None);
        };
        access
            .require(
                &position.hirer_id,
                &[RelationshipType::ApplicationExport, RelationshipType::JobPosting],
                "application questionnaire",
            )
            .await?;
        Ok(ApplicationQuestionnaire::of_position(&position))
    }

    /// A position opening. Needs `JobPosting` or `ProactiveSourcing` with its hirer, as at SEEK.
    async fn position_opening(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<Option<PositionOpening>> {
        let (sc, access) = context(ctx);
        access.partner()?;
        let id = parse_id(&id, IdKind::PositionOpening)?;
        let Some(position) = sc.store.get_position_by_opening(&id).await.map_err(internal)? else { return Ok(None) };
        access
            .require(
                &position.hirer_id,
                &[RelationshipType::JobPosting, RelationshipType::ProactiveSourcing],
                "position opening",
            )
            .await?;
        Ok(Some(PositionOpening(Arc::new(position))))
    }

    /// A hirer. Needs any relationship with it.
    async fn hiring_organization(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<HiringOrganization>> {
        let (sc, access) = context(ctx);
        access.caller("query:organizations")?;
        let id = parse_id(&id, IdKind::Organization)?;
        let Some(hirer) = sc.store.get_hirer(&id).await.map_err(internal)? else { return Ok(None) };
        let set = access.require_any(&hirer.id).await?;
        Ok(Some(HiringOrganization::with_relationships(hirer.id, hirer.name, set)))
    }

    /// The hirers the caller has a relationship with, by name; default 10, max 100 per page.
    #[allow(clippy::too_many_arguments)]
    async fn hiring_organizations(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        filter: Option<HiringOrganizationsFilterInput>,
        first: Option<i32>,
        last: Option<i32>,
        scheme_id: String,
    ) -> async_graphql::Result<HiringOrganizationsConnection> {
        let (sc, access) = context(ctx);
        let caller = access.caller("query:organizations")?;
        let (partner_id, only_hirer) = (caller.partner_id.clone(), caller.hirer_id.clone());
        if scheme_id != sc.scheme.as_str() {
            return Err(bad_user_input("/schemeId", format!("must be {}", sc.scheme)));
        }
        let page = page(first, last, 10, 100)?;
        let after = after.as_deref().map(|c| decode_cursor(c, "/after")).transpose()?;
        let before = before.as_deref().map(|c| decode_cursor(c, "/before")).transpose()?;
        let filter = filter.unwrap_or_default();
        let mut types = Vec::new();
        for (i, code) in filter.relationship_type_codes.unwrap_or_default().iter().enumerate() {
            let t = RelationshipType::parse(code).ok_or_else(|| {
                bad_user_input(&format!("/filter/relationshipTypeCodes/{i}"), "is not a known relationship type code")
            })?;
            types.push(t);
        }
        let (limit, from_end) = match page {
            Page::First(n) => (n, false),
            Page::Last(n) => (n, true),
        };
        let has_after = after.is_some();
        let query = RelatedHirersQuery {
            partner_id,
            name_search: filter.name_search.filter(|s| !s.trim().is_empty()),
            types,
            after,
            before: before.clone(),
            limit: limit + 1,
            from_end,
            only_hirer,
        };
        let mut rows = sc.store.page_related_hirers(&query).await.map_err(internal)?;
        let more = rows.len() > limit as usize;
        if more {
            if from_end {
                rows.remove(0);
            } else {
                rows.truncate(limit as usize);
            }
        }
        let edges: Vec<HiringOrganizationEdge> = rows
            .into_iter()
            .map(|r| HiringOrganizationEdge {
                cursor: encode_cursor(&r.hirer.name, &r.hirer.id),
                node: HiringOrganization::with_relationships(r.hirer.id, r.hirer.name, r.relationships),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: if from_end { before.is_some() } else { more },
            has_previous_page: if from_end { more } else { has_after },
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Ok(HiringOrganizationsConnection { edges, page_info })
    }

    /// The calling partner (and, for browser tokens, its hirer).
    #[graphql(name = "self")]
    async fn self_(&self, ctx: &Context<'_>) -> async_graphql::Result<SelfOrganizations> {
        let (sc, access) = context(ctx);
        let caller = access.caller("query:organizations")?;
        let partner = sc
            .store
            .get_partner(&caller.partner_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| super::error::unauthenticated("The access token's partner no longer exists"))?;
        // A browser token's bound hirer, while the partner still has a relationship with it.
        let hirer = match &caller.hirer_id {
            None => None,
            Some(id) => match sc.store.get_hirer(id).await.map_err(internal)? {
                Some(h) => {
                    let set = access.require_any(&h.id).await?;
                    Some(HiringOrganization::with_relationships(h.id, h.name, set))
                }
                None => None,
            },
        };
        Ok(SelfOrganizations {
            hirer,
            partner: PartnerOrganization { credential_self_service_approved_indicator: false, name: partner.name },
        })
    }

    /// The API version (candex's version).
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let (_, access) = context(ctx);
        access.token()?;
        Ok(env!("CARGO_PKG_VERSION").to_owned())
    }
}

fn encode_cursor(name: &str, id: &HirerId) -> String {
    let json = serde_json::json!([name, id.as_str()]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cursor: &str, pointer: &str) -> async_graphql::Result<HirerKey> {
    let bad = || bad_user_input(pointer, "is not a cursor returned by this field");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let (name, id): (String, String) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let id = HirerId::parse(&id).map_err(|_| bad())?;
    Ok(HirerKey { name, id })
}
