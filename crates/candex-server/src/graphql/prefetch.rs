//! Objects loaded ahead for one request. When a list of profiles is selected (a page of events
//! fetching each application inline, as SEEK suggests, or `Candidate.profiles`), the list
//! loads the profiles and, if selected, their attachments and questionnaire submissions in one
//! statement each, and (with process history on applications) the first page of their
//! `seekProcessHistory`; the nested resolvers read them from here instead of querying per
//! profile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{Context, Lookahead};
use candex_domain::{CandidateProfileId, PartnerId, PositionProfileId};
use candex_store::{
    Attachment, Event, PartnerGrant, Position, ProcessHistoryItem, ProfileView, QuestionnaireSubmission,
};

use super::error::internal;
use super::SchemaContext;

/// What was loaded ahead, by profile id; one per request.
#[derive(Default)]
pub struct Prefetched {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    profiles: HashMap<CandidateProfileId, Arc<ProfileView>>,
    positions: HashMap<PositionProfileId, Arc<Position>>,
    /// Every profile looked up has an entry, empty when it has no attachments.
    attachments: HashMap<CandidateProfileId, Vec<Attachment>>,
    /// Every profile looked up has an entry, `None` when it has no submission.
    submissions: HashMap<CandidateProfileId, Option<QuestionnaireSubmission>>,
    /// The first page of process history of every profile looked up, with the number of items
    /// asked for each (one more than the page, to tell whether more follow).
    histories: HashMap<CandidateProfileId, (u32, Vec<ProcessHistoryItem>)>,
    /// The read the direct writer made for this request before leaving it to the executor
    /// (`candidateProfile`'s own statement), so the resolver does not repeat it.
    for_partner: Option<ProfileForPartner>,
}

/// `Store::get_profile_for_partner`'s answer for one profile and partner.
pub struct ProfileForPartner {
    /// The profile asked for.
    pub profile_id: CandidateProfileId,
    /// The partner it was read for.
    pub partner_id: PartnerId,
    /// What the read found.
    pub found: Option<(ProfileView, PartnerGrant)>,
}

impl Prefetched {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Objects loaded ahead starting with the direct writer's profile read.
    pub fn with_profile_for_partner(read: Option<ProfileForPartner>) -> Self {
        let prefetched = Self::default();
        prefetched.inner().for_partner = read;
        prefetched
    }

    /// The direct writer's read of `profile_id` for `partner_id`, taken (once) by the
    /// `candidateProfile` resolver of the same request.
    pub fn take_profile_for_partner(
        &self,
        profile_id: &CandidateProfileId,
        partner_id: &PartnerId,
    ) -> Option<Option<(ProfileView, PartnerGrant)>> {
        let mut inner = self.inner();
        let read = inner.for_partner.as_ref()?;
        if &read.profile_id != profile_id || &read.partner_id != partner_id {
            return None;
        }
        inner.for_partner.take().map(|read| read.found)
    }

    /// A profile loaded ahead.
    pub fn profile(&self, id: &CandidateProfileId) -> Option<Arc<ProfileView>> {
        self.inner().profiles.get(id).cloned()
    }

    /// A job ad loaded ahead.
    pub fn position(&self, id: &PositionProfileId) -> Option<Arc<Position>> {
        self.inner().positions.get(id).cloned()
    }

    /// A profile's attachments, if they were loaded ahead.
    pub fn attachments(&self, profile_id: &CandidateProfileId) -> Option<Vec<Attachment>> {
        self.inner().attachments.get(profile_id).cloned()
    }

    /// The first `limit` items of a profile's process history, if loaded ahead with that limit.
    pub fn history(&self, profile_id: &CandidateProfileId, limit: u32) -> Option<Vec<ProcessHistoryItem>> {
        self.inner().histories.get(profile_id).filter(|(asked, _)| *asked == limit).map(|(_, items)| items.clone())
    }

    /// A profile's submission (`Some(None)`: loaded ahead, there is none).
    pub fn submission(&self, profile_id: &CandidateProfileId) -> Option<Option<QuestionnaireSubmission>> {
        self.inner().submissions.get(profile_id).cloned()
    }
}

/// Loads, in one statement each, what the `events` field's selection reaches: the profiles of
/// application events (`candidateApplicationProfile`, `candidate`) with their details, and the
/// job ads of position events (`positionProfile`). Authorisation is not decided here: the
/// nested resolvers still check the relationship before returning anything.
pub async fn event_objects(ctx: &Context<'_>, events: &[&Event]) -> async_graphql::Result<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    if node.field("positionProfile").exists() {
        event_positions(ctx, events).await?;
    }
    event_profiles(ctx, &node, events).await
}

async fn event_positions(ctx: &Context<'_>, events: &[&Event]) -> async_graphql::Result<()> {
    let Some(prefetched) = ctx.data_opt::<Prefetched>() else { return Ok(()) };
    let ids: Vec<PositionProfileId> = events.iter().filter_map(|e| e.position_profile_id.clone()).collect();
    if ids.len() < 2 {
        return Ok(());
    }
    let store = &ctx.data_unchecked::<SchemaContext>().store;
    let positions = store.get_positions(&ids).await.map_err(internal)?;
    let mut inner = prefetched.inner();
    for position in positions {
        inner.positions.insert(position.profile_id.clone(), Arc::new(position));
    }
    Ok(())
}

async fn event_profiles(ctx: &Context<'_>, node: &Lookahead<'_>, events: &[&Event]) -> async_graphql::Result<()> {
    let profile = node.field("candidateApplicationProfile");
    if !(profile.exists() || node.field("candidate").exists()) {
        return Ok(());
    }
    let Some(prefetched) = ctx.data_opt::<Prefetched>() else { return Ok(()) };
    let ids: Vec<CandidateProfileId> = events.iter().filter_map(|e| e.candidate_profile_id.clone()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let store = &ctx.data_unchecked::<SchemaContext>().store;
    let views = store.get_profiles(&ids).await.map_err(internal)?;
    {
        let mut inner = prefetched.inner();
        for view in views {
            inner.profiles.insert(view.profile_id.clone(), Arc::new(view));
        }
    }
    profile_details(ctx, &profile, &ids).await
}

/// Loads the attachments and questionnaire submissions of `profile_ids` in one statement each,
/// when `selection` (a `CandidateProfile` selection) asks for them.
pub async fn profile_details(
    ctx: &Context<'_>,
    selection: &Lookahead<'_>,
    profile_ids: &[CandidateProfileId],
) -> async_graphql::Result<()> {
    let Some(prefetched) = ctx.data_opt::<Prefetched>() else { return Ok(()) };
    if profile_ids.len() < 2 {
        // One profile costs one statement either way.
        return Ok(());
    }
    let store = &ctx.data_unchecked::<SchemaContext>().store;
    if selection.field("attachments").exists() {
        let mut by_profile: HashMap<CandidateProfileId, Vec<Attachment>> =
            profile_ids.iter().map(|id| (id.clone(), Vec::new())).collect();
        for attachment in store.attachments_of_profiles(profile_ids).await.map_err(internal)? {
            by_profile.entry(attachment.profile_id.clone()).or_default().push(attachment);
        }
        prefetched.inner().attachments.extend(by_profile);
    }
    if selection.field("seekQuestionnaireSubmission").exists() {
        let mut by_profile: HashMap<CandidateProfileId, Option<QuestionnaireSubmission>> =
            profile_ids.iter().map(|id| (id.clone(), None)).collect();
        for (id, submission) in store.questionnaire_submissions(profile_ids).await.map_err(internal)? {
            by_profile.insert(id, Some(submission));
        }
        prefetched.inner().submissions.extend(by_profile);
    }
    if let Some(limit) = first_history_page(ctx, selection) {
        let mut by_profile: HashMap<CandidateProfileId, (u32, Vec<ProcessHistoryItem>)> =
            profile_ids.iter().map(|id| (id.clone(), (limit, Vec::new()))).collect();
        for item in store.first_process_history_pages(profile_ids, limit).await.map_err(internal)? {
            by_profile.entry(item.profile_id.clone()).or_insert_with(|| (limit, Vec::new())).1.push(item);
        }
        prefetched.inner().histories.extend(by_profile);
    }
    Ok(())
}

/// How many items to load ahead per profile for `seekProcessHistory` (its `first`, plus one):
/// `None` unless the extension is on and every selection of the field asks for the same valid
/// first page (no `after`); anything else is left to the resolver, which also reports errors.
fn first_history_page(ctx: &Context<'_>, selection: &Lookahead<'_>) -> Option<u32> {
    use candex_domain::process::{DEFAULT_PAGE, MAX_PAGE};
    if !ctx.data_unchecked::<SchemaContext>().process_history_on_applications {
        return None;
    }
    let mut limit = None;
    for field in selection.field("seekProcessHistory").selection_fields() {
        let mut first = DEFAULT_PAGE;
        for (name, value) in field.arguments().ok()? {
            match (name.as_str(), value) {
                ("after", async_graphql::Value::Null) => {}
                ("first", async_graphql::Value::Number(n)) => {
                    first = n.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n <= MAX_PAGE)?;
                }
                ("first", async_graphql::Value::Null) => {}
                _ => return None,
            }
        }
        match limit {
            Some(l) if l != first + 1 => return None,
            _ => limit = Some(first + 1),
        }
    }
    limit
}
