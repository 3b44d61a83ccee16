//! Events of a partner's stream: the `Event` interface with SEEK's five object types and
//! candex's `CandidateErasedEvent` extension, and the `events` connection. Payload ids are always readable; the nested objects they name are
//! authorised again when read, against the relationships the partner holds *now*: without
//! them the field is null with `FORBIDDEN`.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Interface, Object, SimpleObject};
use candex_domain::{CandidateProfileId, EventType, ObjectId, RelationshipType};
use candex_store::AttemptsOf;

use super::common::ObjectIdentifier;
use super::organization::HiringOrganization;
use super::position::PostedPositionProfile;
use super::profile::{Candidate, CandidateProfile};
use super::webhook::{attempts_connection, related_hirer, WebhookAttemptsConnection, WebhookAttemptsFilterInput};
use crate::graphql::access::Access;
use crate::graphql::error::internal;
use crate::graphql::prefetch::Prefetched;
use crate::graphql::relay::PageInfo;
use crate::graphql::scalars::DateTime;
use crate::graphql::seq_paging::{connection_complexity, SeqPaging};
use crate::graphql::SchemaContext;

/// The `Event` interface.
#[expect(
    clippy::duplicated_attributes,
    reason = "async-graphql lists one `arg(name, ty)` per argument; equal `ty`s are not duplicates"
)]
#[derive(Interface)]
#[graphql(
    field(name = "create_date_time", ty = "DateTime"),
    field(name = "id", ty = "ObjectIdentifier"),
    field(name = "scheme_id", ty = "String"),
    field(name = "type_code", ty = "String"),
    field(
        name = "webhook_attempts",
        ty = "WebhookAttemptsConnection",
        arg(name = "after", ty = "Option<String>"),
        arg(name = "before", ty = "Option<String>"),
        arg(name = "filter", ty = "Option<WebhookAttemptsFilterInput>"),
        arg(name = "first", ty = "Option<i32>"),
        arg(name = "last", ty = "Option<i32>")
    )
)]
pub enum Event {
    /// A candidate applied.
    CandidateApplicationCreated(CandidateApplicationCreatedEvent),
    /// A profile was purchased (never produced by candex).
    CandidateProfilePurchased(CandidateProfilePurchasedEvent),
    /// A hirer changed its relationships with the partner.
    HirerRelationshipChanged(HirerRelationshipChangedEvent),
    /// A job ad was closed.
    PositionProfileClosed(PositionProfileClosedEvent),
    /// A job ad was posted.
    PositionProfilePosted(PositionProfilePostedEvent),
    /// candex extension: a candidate was erased.
    CandidateErased(CandidateErasedEvent),
}

impl Event {
    /// The object type of a stored event.
    pub fn new(event: Arc<candex_store::Event>) -> Self {
        match event.event_type {
            EventType::CandidateApplicationCreated => {
                Self::CandidateApplicationCreated(CandidateApplicationCreatedEvent(event))
            }
            EventType::CandidateProfilePurchased => {
                Self::CandidateProfilePurchased(CandidateProfilePurchasedEvent(event))
            }
            EventType::HirerRelationshipChanged => Self::HirerRelationshipChanged(HirerRelationshipChangedEvent(event)),
            EventType::PositionProfileClosed => Self::PositionProfileClosed(PositionProfileClosedEvent(event)),
            EventType::PositionProfilePosted => Self::PositionProfilePosted(PositionProfilePostedEvent(event)),
            EventType::CandidateErased => Self::CandidateErased(CandidateErasedEvent(event)),
        }
    }
}

fn context<'a>(ctx: &'a Context<'_>) -> (&'a SchemaContext, &'a Access) {
    (ctx.data_unchecked::<SchemaContext>(), ctx.data_unchecked::<Access>())
}

fn id_string(id: Option<&ObjectId>) -> String {
    id.map(ToString::to_string).unwrap_or_default()
}

/// `Event.webhookAttempts`: the event's attempts over the partner's subscriptions.
async fn webhook_attempts(
    ctx: &Context<'_>,
    event: &candex_store::Event,
    filter: Option<WebhookAttemptsFilterInput>,
    paging: SeqPaging,
) -> async_graphql::Result<WebhookAttemptsConnection> {
    ctx.data_unchecked::<Access>().charge_nested_load()?;
    attempts_connection(ctx, AttemptsOf::Event(event.seq), filter, paging).await
}

/// The job ad of a position event: needs `ApplicationExport` or `JobPosting` with its hirer now.
async fn position_profile(
    ctx: &Context<'_>,
    event: &candex_store::Event,
) -> async_graphql::Result<Option<PostedPositionProfile>> {
    let (sc, access) = context(ctx);
    let allowed = [RelationshipType::ApplicationExport, RelationshipType::JobPosting];
    access.require(&event.hirer_id, &allowed, "position profile").await?;
    let Some(id) = &event.position_profile_id else { return Ok(None) };
    if let Some(position) = ctx.data_opt::<Prefetched>().and_then(|p| p.position(id)) {
        return Ok(Some(PostedPositionProfile(position)));
    }
    let position = sc.store.get_position(id).await.map_err(internal)?;
    Ok(position.map(|p| PostedPositionProfile(Arc::new(p))))
}

/// A profile named by an event: needs `needs` with the event's hirer now.
async fn profile(
    ctx: &Context<'_>,
    event: &candex_store::Event,
    needs: RelationshipType,
) -> async_graphql::Result<Option<CandidateProfile>> {
    let (sc, access) = context(ctx);
    access.require(&event.hirer_id, &[needs], "candidate profile").await?;
    let Some(id) = &event.candidate_profile_id else { return Ok(None) };
    Ok(load_profile(ctx, sc, id).await?.map(CandidateProfile))
}

/// A profile from the page's prefetch, else from the store.
async fn load_profile(
    ctx: &Context<'_>,
    sc: &SchemaContext,
    id: &CandidateProfileId,
) -> async_graphql::Result<Option<Arc<candex_store::ProfileView>>> {
    if let Some(view) = ctx.data_opt::<Prefetched>().and_then(|p| p.profile(id)) {
        return Ok(Some(view));
    }
    Ok(sc.store.get_profile(id).await.map_err(internal)?.map(Arc::new))
}

/// One event object type: the common fields, then `$extra`.
macro_rules! event_object {
    ($(#[$meta:meta])* $ty:ident, { $($extra:tt)* }) => {
        $(#[$meta])*
        pub struct $ty(pub Arc<candex_store::Event>);

        #[Object]
        impl $ty {
            async fn create_date_time(&self) -> DateTime {
                DateTime(self.0.created_at)
            }

            async fn id(&self) -> ObjectIdentifier {
                (&self.0.id).into()
            }

            async fn scheme_id(&self) -> String {
                self.0.id.scheme().to_owned()
            }

            async fn type_code(&self) -> String {
                self.0.event_type.code().to_owned()
            }

            /// Every attempt to deliver this event, over the partner's subscriptions.
            #[graphql(complexity = "connection_complexity(first, last, child_complexity)")]
            async fn webhook_attempts(
                &self,
                ctx: &Context<'_>,
                after: Option<String>,
                before: Option<String>,
                filter: Option<WebhookAttemptsFilterInput>,
                first: Option<i32>,
                last: Option<i32>,
            ) -> async_graphql::Result<WebhookAttemptsConnection> {
                let paging = SeqPaging::new(first, last, after.as_deref(), before.as_deref())?;
                webhook_attempts(ctx, &self.0, filter, paging).await
            }

            $($extra)*
        }
    };
}

event_object!(
    /// `CandidateApplicationCreatedEvent`: a candidate applied to a job ad.
    CandidateApplicationCreatedEvent, {
    /// The candidate; needs `ApplicationExport` with the hirer.
    async fn candidate(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Candidate>> {
        let (sc, access) = context(ctx);
        access.require(&self.0.hirer_id, &[RelationshipType::ApplicationExport], "candidate").await?;
        // The application's profile carries its (live) candidate: prefetched with the page.
        if let Some(profile) = self.0.candidate_profile_id.as_ref().and_then(|id| {
            ctx.data_opt::<Prefetched>().and_then(|p| p.profile(id))
        }) {
            return Ok(Some(Candidate(profile.candidate.clone())));
        }
        let Some(id) = &self.0.candidate_id else { return Ok(None) };
        let found = sc.store.get_candidate(id).await.map_err(internal)?;
        Ok(found.map(|c| Candidate(Arc::new(c))))
    }

    /// The application; needs `ApplicationExport` with the hirer.
    async fn candidate_application_profile(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CandidateProfile>> {
        profile(ctx, &self.0, RelationshipType::ApplicationExport).await
    }

    async fn candidate_application_profile_id(&self) -> String {
        id_string(self.0.candidate_profile_id.as_deref())
    }

    async fn candidate_id(&self) -> String {
        id_string(self.0.candidate_id.as_deref())
    }
});

event_object!(
    /// `CandidateProfilePurchasedEvent`: in SEEK's schema; candex sells no profiles and never
    /// emits one.
    CandidateProfilePurchasedEvent, {
    /// The purchased profile; needs `ProactiveSourcing` with the hirer.
    async fn candidate_profile(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CandidateProfile>> {
        profile(ctx, &self.0, RelationshipType::ProactiveSourcing).await
    }

    async fn candidate_profile_id(&self) -> String {
        id_string(self.0.candidate_profile_id.as_deref())
    }
});

event_object!(
    /// `HirerRelationshipChangedEvent`: a hirer changed the relationships it grants the partner.
    HirerRelationshipChangedEvent, {
    /// The hirer, while the partner holds any relationship with it.
    async fn hirer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<HiringOrganization>> {
        related_hirer(ctx, &self.0.hirer_id).await
    }

    async fn hirer_id(&self) -> String {
        self.0.hirer_id.to_string()
    }
});

event_object!(
    /// `PositionProfileClosedEvent`: a job ad was closed.
    PositionProfileClosedEvent, {
    /// The job ad; needs `ApplicationExport` or `JobPosting` with its hirer.
    async fn position_profile(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PostedPositionProfile>> {
        position_profile(ctx, &self.0).await
    }

    async fn position_profile_id(&self) -> String {
        id_string(self.0.position_profile_id.as_deref())
    }
});

event_object!(
    /// `PositionProfilePostedEvent`: a job ad was posted.
    PositionProfilePostedEvent, {
    /// The job ad; needs `ApplicationExport` or `JobPosting` with its hirer.
    async fn position_profile(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PostedPositionProfile>> {
        position_profile(ctx, &self.0).await
    }

    async fn position_profile_id(&self) -> String {
        id_string(self.0.position_profile_id.as_deref())
    }
});

event_object!(
    /// `CandidateErasedEvent`, a candex extension (not in SEEK's schema): the operator erased
    /// a candidate. Delete every copy of the candidate's applications (each profile whose
    /// `candidate.documentId` or `CandidateApplicationCreated` event names `candidateId`).
    /// Its payload is ids only; the candidate itself reads as redacted.
    CandidateErasedEvent, {
    /// The erased candidate.
    async fn candidate_id(&self) -> String {
        id_string(self.0.candidate_id.as_deref())
    }

    /// The candidate's hirer.
    async fn hirer_id(&self) -> String {
        self.0.hirer_id.to_string()
    }
});

/// `EventEdge`.
#[derive(SimpleObject)]
pub struct EventEdge {
    /// Opaque cursor.
    pub cursor: String,
    /// The event.
    pub node: Event,
    /// When the event entered the stream.
    pub stream_date_time: DateTime,
}

/// `EventsConnection`.
#[derive(SimpleObject)]
pub struct EventsConnection {
    /// Edges in stream order.
    pub edges: Vec<EventEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// `EventsFilterInput`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct EventsFilterInput {
    /// Events after this stream time.
    pub after_date_time: Option<DateTime>,
    /// Events before this stream time.
    pub before_date_time: Option<DateTime>,
    /// With `subscriptionId`: only delivered (`true`) or undelivered (`false`) events.
    pub delivered_indicator: Option<bool>,
    /// Only these event types.
    pub event_type_codes: Option<Vec<String>>,
    /// Only events of this subscription.
    pub subscription_id: Option<String>,
}
