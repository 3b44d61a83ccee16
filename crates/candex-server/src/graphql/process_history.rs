//! Candidate process history: the `candidateProcessHistoryItem` query and the create, update
//! and delete mutations, merged into the roots, and the page behind
//! `CandidateProfile.seekProcessHistory`.
//!
//! SEEK records process history on uploaded (proactive sourcing) candidates only and answers
//! `seekProcessHistory: null` for applications. Every candex profile is an application, so by
//! default candex behaves exactly so: nothing is readable, and a create is refused with
//! `BAD_USER_INPUT` on `/input/candidateProfile/profileId` after its input was validated and
//! the caller authorised. With `--process-history-on-applications` (the documented extension)
//! partners with `ApplicationExport` on the profile's hirer record, read, change and delete
//! items on application profiles. Partner tokens only. Every input is bounded
//! (`candex_domain::process`); an item that is unknown, of a hirer without the relationship's
//! profile, or hidden because the extension is off, is refused like a missing one
//! (`FORBIDDEN` only where `candidateProfile` itself would answer it: an existing profile of a
//! hirer the partner may not export from).

use std::sync::Arc;

use async_graphql::{Context, Object};
use candex_domain::person::{Address, AddressComponent, Communication, Email, GeoLocation, Phone};
use candex_domain::process::{self as rules, ProcessAction, ProcessDetails, ProcessParty, SpecifiedPerson};
use candex_domain::snapshot::Organization;
use candex_domain::time::now_ms;
use candex_domain::{CandidateProfileId, IdKind, ObjectId, PositionProfileId, RelationshipType};
use candex_store::{
    NewProcessHistoryItem, ProcessHistoryItem, ProcessHistoryUpdate, ProcessHistoryWrite, ProfileView, StoreError,
};

use super::access::Access;
use super::error::{bad_user_input, internal};
use super::prefetch::Prefetched;
use super::relay::{page, Page, PageInfo};
use super::seq_paging::{decode_cursor, encode_cursor};
use super::types::process::*;
use super::types::profile::CandidateProfile;
use super::webhook_rules::Invalid;
use super::SchemaContext;

const ITEM: &str = "/input/candidateProcessHistoryItem";
const PROFILE_ID: &str = "/input/candidateProfile/profileId";
/// Longest text of a short field (names, codes, email addresses), in characters.
const MAX_TEXT: usize = candex_domain::input::MAX_SHORT_TEXT;

fn context<'a>(ctx: &'a Context<'_>) -> (&'a SchemaContext, &'a Access) {
    (ctx.data_unchecked::<SchemaContext>(), ctx.data_unchecked::<Access>())
}

fn no_such_item(pointer: &str) -> async_graphql::Error {
    bad_user_input(pointer, "no such candidate process history item")
}

/// The relationship process history on an application profile needs: the one that exports it.
const NEEDS: &[RelationshipType] = &[RelationshipType::ApplicationExport];

/// Reads an item the caller may see, with its profile: `None` when unknown or while the
/// extension is off; `FORBIDDEN` without the relationship.
async fn visible_item(
    ctx: &Context<'_>,
    id: &ObjectId,
) -> async_graphql::Result<Option<(ProcessHistoryItem, Arc<ProfileView>)>> {
    let (sc, access) = context(ctx);
    if !sc.process_history_on_applications {
        return Ok(None);
    }
    let Some(item) = sc.store.get_process_history_item(id).await.map_err(internal)? else { return Ok(None) };
    access.require(&item.hirer_id, NEEDS, "candidate process history item").await?;
    let Some(profile) = sc.store.get_profile(&item.profile_id).await.map_err(internal)? else { return Ok(None) };
    Ok(Some((item, Arc::new(profile))))
}

/// The process history query merged into [`super::Query`].
#[derive(Default)]
pub struct ProcessHistoryQueries;

#[Object(name = "ProcessHistoryQueries")]
impl ProcessHistoryQueries {
    /// One process history item. Always null unless `--process-history-on-applications` is
    /// on (SEEK keeps process history for uploaded candidates only); then it needs
    /// `ApplicationExport` with the profile's hirer.
    async fn candidate_process_history_item(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<CandidateProcessHistoryItem>> {
        let (_, access) = context(ctx);
        access.partner()?;
        let id = ObjectId::parse_as(&id, IdKind::CandidateProcessHistoryItem)
            .map_err(|e| bad_user_input("/id", e.to_string()))?;
        Ok(visible_item(ctx, &id).await?.map(|(item, profile)| CandidateProcessHistoryItem::new(item, profile)))
    }
}

/// The process history mutations merged into [`super::Mutation`].
#[derive(Default)]
pub struct ProcessHistoryMutations;

#[Object(name = "ProcessHistoryMutations")]
impl ProcessHistoryMutations {
    /// Records an item on a candidate profile. A second create with the same `idempotencyId`
    /// on the profile answers `Conflict` naming the first item.
    async fn create_candidate_process_history_item(
        &self,
        ctx: &Context<'_>,
        input: CreateCandidateProcessHistoryItemInput,
    ) -> async_graphql::Result<CreateCandidateProcessHistoryItemPayload> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?.clone();
        let i = input.candidate_process_history_item;
        let mut invalid = Invalid::default();
        let profile_id = invalid.check(
            PROFILE_ID,
            CandidateProfileId::parse(input.candidate_profile.profile_id.trim()).map_err(|e| e.to_string()),
        );
        let key = invalid.check(&format!("{ITEM}/idempotencyId"), idempotency_id(&i.idempotency_id));
        let fields = Fields {
            action: i.action,
            position_profile: i.position_profile,
            primary_parties: i.primary_parties,
            seek_source: i.seek_source,
            status: i.status,
        };
        let written = fields.validate(&mut invalid);
        invalid.finish()?;
        let (Some(profile_id), Some(key), Some((details, position_profile_id))) = (profile_id, key, written) else {
            // Every refusal was reported by `invalid.finish()`; answer rather than panic.
            return Err(bad_user_input(ITEM, "is invalid"));
        };
        let Some((profile, grant)) =
            sc.store.get_profile_for_partner(&profile_id, &partner_id).await.map_err(internal)?
        else {
            return Err(bad_user_input(PROFILE_ID, "no such candidate profile"));
        };
        access.prime_grant(profile.hirer_id(), grant)?;
        access.require(profile.hirer_id(), NEEDS, "candidate profile").await?;
        if !sc.process_history_on_applications {
            return Err(bad_user_input(
                PROFILE_ID,
                "is an application: process history is recorded on uploaded candidate profiles only",
            ));
        }
        let new = NewProcessHistoryItem {
            id: ObjectId::mint(&sc.scheme, IdKind::CandidateProcessHistoryItem, &mut rand::thread_rng()),
            profile_id,
            partner_id,
            idempotency_id: key,
            action_date: i.action_date.0,
            position_profile_id,
            details,
            created_at: now_ms(),
        };
        let profile = Arc::new(profile);
        match sc.store.create_process_history_item(&new, rules::MAX_ITEMS_PER_PROFILE).await {
            Ok(ProcessHistoryWrite::Written(item)) => {
                tracing::info!(candidate_process_history_item.id = %item.id, "recorded process history item `{}`", item.id);
                Ok(CreateCandidateProcessHistoryItemPayload::Success(CreateCandidateProcessHistoryItemPayloadSuccess {
                    candidate_process_history_item: CandidateProcessHistoryItem::new(item, Arc::clone(&profile)),
                    candidate_profile: CandidateProfile(profile),
                }))
            }
            Ok(ProcessHistoryWrite::Conflict(item)) => Ok(CreateCandidateProcessHistoryItemPayload::Conflict(
                CreateCandidateProcessHistoryItemPayloadConflict {
                    conflicting_candidate_process_history_item: CandidateProcessHistoryItem::new(
                        item,
                        Arc::clone(&profile),
                    ),
                    candidate_profile: CandidateProfile(profile),
                },
            )),
            Err(e) => Err(write_error(e, PROFILE_ID)),
        }
    }

    /// Replaces an item's action, date, job ad, parties, source and status.
    async fn update_candidate_process_history_item(
        &self,
        ctx: &Context<'_>,
        input: UpdateCandidateProcessHistoryItemInput,
    ) -> async_graphql::Result<Option<UpdateCandidateProcessHistoryItemPayload>> {
        let (sc, access) = context(ctx);
        access.partner()?;
        let i = input.candidate_process_history_item;
        let id_ptr = format!("{ITEM}/id");
        let id =
            ObjectId::parse_as(i.id.trim(), IdKind::CandidateProcessHistoryItem).map_err(|_| no_such_item(&id_ptr))?;
        let mut invalid = Invalid::default();
        let fields = Fields {
            action: i.action,
            position_profile: i.position_profile,
            primary_parties: i.primary_parties,
            seek_source: i.seek_source,
            status: i.status,
        };
        let written = fields.validate(&mut invalid);
        invalid.finish()?;
        let Some((details, position_profile_id)) = written else {
            return Err(bad_user_input(ITEM, "is invalid"));
        };
        let (_, profile) = visible_item(ctx, &id).await?.ok_or_else(|| no_such_item(&id_ptr))?;
        let update =
            ProcessHistoryUpdate { action_date: i.action_date.0, position_profile_id, details, updated_at: now_ms() };
        let updated = match sc.store.update_process_history_item(&id, &update).await {
            Ok(updated) => updated.ok_or_else(|| no_such_item(&id_ptr))?,
            Err(e) => return Err(write_error(e, &id_ptr)),
        };
        tracing::info!(candidate_process_history_item.id = %id, "updated process history item `{id}`");
        Ok(Some(UpdateCandidateProcessHistoryItemPayload {
            candidate_process_history_item: CandidateProcessHistoryItem::new(updated, profile),
        }))
    }

    /// Deletes an item; the payload holds it as it was.
    async fn delete_candidate_process_history_item(
        &self,
        ctx: &Context<'_>,
        input: DeleteCandidateProcessHistoryItemInput,
    ) -> async_graphql::Result<Option<DeleteCandidateProcessHistoryItemPayload>> {
        let (sc, access) = context(ctx);
        access.partner()?;
        let id_ptr = format!("{ITEM}/id");
        let id =
            ObjectId::parse_as(input.candidate_process_history_item.id.trim(), IdKind::CandidateProcessHistoryItem)
                .map_err(|_| no_such_item(&id_ptr))?;
        let (_, profile) = visible_item(ctx, &id).await?.ok_or_else(|| no_such_item(&id_ptr))?;
        let deleted =
            sc.store.delete_process_history_item(&id).await.map_err(internal)?.ok_or_else(|| no_such_item(&id_ptr))?;
        tracing::info!(candidate_process_history_item.id = %id, "deleted process history item `{id}`");
        Ok(Some(DeleteCandidateProcessHistoryItemPayload {
            candidate_process_history_item: CandidateProcessHistoryItem::new(deleted, profile),
        }))
    }
}

/// The store's refusals of a write, as partner-safe input errors.
fn write_error(e: StoreError, missing_pointer: &str) -> async_graphql::Error {
    match e {
        StoreError::NotFound("position profile") => bad_user_input(
            &format!("{ITEM}/positionProfile/profileId"),
            "no such position profile of the candidate profile's hirer",
        ),
        StoreError::NotFound(_) => bad_user_input(missing_pointer, "no longer exists"),
        StoreError::Rejected(message) => bad_user_input(PROFILE_ID, message),
        e => internal(e),
    }
}

/// A page of `profile`'s items for `CandidateProfile.seekProcessHistory(after, first)`: default
/// 10, at most 20, in recording order.
pub async fn history_page(
    ctx: &Context<'_>,
    profile: &Arc<ProfileView>,
    after: Option<String>,
    first: Option<i32>,
) -> async_graphql::Result<CandidateProcessHistoryItemConnection> {
    let Page::First(limit) = page(first, None, rules::DEFAULT_PAGE, rules::MAX_PAGE)? else {
        return Err(bad_user_input("/first", "is required"));
    };
    let after = after.as_deref().map(|c| decode_cursor(c, "/after")).transpose()?;
    ctx.data_unchecked::<Access>().charge_nested_load()?;
    // A list of profiles (an events page, `Candidate.profiles`) loaded every first page ahead.
    let prefetched = match after {
        None => ctx.data_opt::<Prefetched>().and_then(|p| p.history(&profile.profile_id, limit + 1)),
        Some(_) => None,
    };
    let mut items = match prefetched {
        Some(items) => items,
        None => {
            let store = &ctx.data_unchecked::<SchemaContext>().store;
            store.page_process_history(&profile.profile_id, after, limit + 1).await.map_err(internal)?
        }
    };
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let edges: Vec<CandidateProcessHistoryItemEdge> = items
        .into_iter()
        .map(|item| CandidateProcessHistoryItemEdge {
            cursor: encode_cursor(item.seq),
            node: CandidateProcessHistoryItem::new(item, Arc::clone(profile)),
        })
        .collect();
    let page_info = PageInfo {
        has_next_page: more,
        has_previous_page: after.is_some(),
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    Ok(CandidateProcessHistoryItemConnection { edges, page_info })
}

/// The complexity of `seekProcessHistory(first)`: each of up to `first` items (default 10, at
/// most 20) costs its selection.
pub fn history_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let count = first.map_or(rules::DEFAULT_PAGE, |n| u32::try_from(n).unwrap_or(0).min(rules::MAX_PAGE));
    (count.max(1) as usize).saturating_mul(child_complexity).saturating_add(1)
}

// --- input rules ----------------------------------------------------------------------------

/// The fields a create and an update share.
struct Fields {
    action: CandidateProcessActionInput,
    position_profile: Option<CandidateProcessHistoryItemPositionProfileInput>,
    primary_parties: Vec<CandidateProcessPartyInput>,
    seek_source: Option<SeekProcessHistoryItemSourceInput>,
    status: Option<CandidateProcessStatusInput>,
}

impl Fields {
    /// The details and job ad id, or `None` with every refusal recorded in `invalid`.
    fn validate(self, invalid: &mut Invalid) -> Option<(ProcessDetails, Option<PositionProfileId>)> {
        let at = |field: &str| format!("{ITEM}/{field}");
        let a = self.action;
        let action_code = invalid.check(&at("action/code"), code(&a.code, &rules::ACTION_CODES));
        let name = invalid.check(&at("action/name"), opt_text(a.name, MAX_TEXT));
        let description = invalid.check(&at("action/description"), opt_text(a.description, rules::MAX_DESCRIPTION));
        let seek_url = invalid.check(&at("action/seekUrl/url"), a.seek_url.map(|u| web_url(&u.url)).transpose());
        let status =
            invalid.check(&at("status/code"), self.status.map(|s| code(&s.code, &rules::STATUS_CODES)).transpose());
        let seek_source =
            invalid.check(&at("seekSource/name"), self.seek_source.map(|s| text(s.name, MAX_TEXT)).transpose());
        let position = invalid.check(
            &at("positionProfile/profileId"),
            self.position_profile
                .map(|p| PositionProfileId::parse(p.profile_id.trim()).map_err(|e| e.to_string()))
                .transpose(),
        );
        if matches!((&position, &seek_source), (Some(Some(_)), Some(None))) {
            invalid.check::<()>(&at("seekSource"), Err("is required when positionProfile is given".to_owned()));
        }
        let parties = parties(invalid, &at("primaryParties"), self.primary_parties);
        let action = ProcessAction { code: action_code?, name: name?, description: description?, seek_url: seek_url? };
        Some((
            ProcessDetails { action, status: status?, primary_parties: parties?, seek_source: seek_source? },
            position?,
        ))
    }
}

/// An `idempotencyId`: not blank, at most 255 bytes, visible characters.
fn idempotency_id(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        Err("must not be blank".to_owned())
    } else if value.len() > rules::MAX_IDEMPOTENCY_ID_BYTES {
        Err(format!("must be at most {} bytes", rules::MAX_IDEMPOTENCY_ID_BYTES))
    } else if value.chars().any(char::is_control) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(value.to_owned())
    }
}

/// Text that is not blank, at most `max` characters, without control characters other than
/// line breaks and tabs; trimmed.
fn text(value: String, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Err("must not be blank".to_owned())
    } else if trimmed.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(trimmed.to_owned())
    }
}

fn opt_text(value: Option<String>, max: usize) -> Result<Option<String>, String> {
    value.map(|v| text(v, max)).transpose()
}

/// One of `codes`, exactly as SEEK spells it.
fn code(value: &str, codes: &[&str]) -> Result<String, String> {
    if codes.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(format!("must be one of {}", codes.join(", ")))
    }
}

/// An absolute http or https URL of at most 2,000 characters.
fn web_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.chars().count() > rules::MAX_URL {
        return Err(format!("must be at most {} characters", rules::MAX_URL));
    }
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(value.to_owned()),
        _ => Err("must be an absolute http or https URL".to_owned()),
    }
}

/// The primary parties: at most 10, each with a person or an organisation.
fn parties(invalid: &mut Invalid, ptr: &str, list: Vec<CandidateProcessPartyInput>) -> Option<Vec<ProcessParty>> {
    if list.len() > rules::MAX_PRIMARY_PARTIES {
        invalid.check::<()>(ptr, Err(format!("must have at most {} entries", rules::MAX_PRIMARY_PARTIES)));
        return None;
    }
    let before = invalid.count();
    let mut out = Vec::with_capacity(list.len());
    for (i, party) in list.into_iter().enumerate() {
        let ptr = format!("{ptr}/{i}");
        if party.organization.is_none() && party.person.is_none() {
            invalid.check::<()>(&ptr, Err("must give a person or an organization".to_owned()));
            continue;
        }
        let organization = party.organization.and_then(|o| {
            invalid.check(&format!("{ptr}/organization/name"), text(o.name, MAX_TEXT)).map(|name| Organization { name })
        });
        let person = party.person.and_then(|p| person(invalid, &format!("{ptr}/person"), p));
        out.push(ProcessParty { organization, person });
    }
    (invalid.count() == before).then_some(out)
}

/// At most [`rules::MAX_PARTY_CHANNELS`] entries in `list`.
fn bounded<T>(invalid: &mut Invalid, ptr: &str, list: Vec<T>) -> Vec<T> {
    if list.len() > rules::MAX_PARTY_CHANNELS {
        invalid.check::<()>(ptr, Err(format!("must have at most {} entries", rules::MAX_PARTY_CHANNELS)));
        Vec::new()
    } else {
        list
    }
}

/// A party's person; `None` with every refusal recorded in `invalid`.
fn person(invalid: &mut Invalid, ptr: &str, p: SpecifiedPersonInput) -> Option<SpecifiedPerson> {
    let before = invalid.count();
    let formatted_name = invalid.check(&format!("{ptr}/name/formattedName"), text(p.name.formatted_name, MAX_TEXT));
    let given = invalid.check(&format!("{ptr}/name/given"), opt_text(p.name.given, MAX_TEXT)).flatten();
    let family = invalid.check(&format!("{ptr}/name/family"), opt_text(p.name.family, MAX_TEXT)).flatten();
    let role_code = invalid.check(&format!("{ptr}/roleCode"), opt_text(p.role_code, MAX_TEXT)).flatten();
    let c = p.communication;
    let comm = format!("{ptr}/communication");
    let mut communication =
        Communication { seek_do_not_contact_indicator: c.seek_do_not_contact_indicator, ..Communication::default() };
    for (i, e) in bounded(invalid, &format!("{comm}/email"), c.email).into_iter().enumerate() {
        let address = invalid.check(&format!("{comm}/email/{i}/address"), email_address(e.address));
        communication.email.extend(address.map(|address| Email { address }));
    }
    for (i, n) in bounded(invalid, &format!("{comm}/phone"), c.phone).into_iter().enumerate() {
        let number = invalid.check(&format!("{comm}/phone/{i}/formattedNumber"), text(n.formatted_number, 100));
        communication.phone.extend(number.map(|formatted_number| Phone { formatted_number }));
    }
    let addresses = bounded(invalid, &format!("{comm}/address"), c.address.unwrap_or_default());
    for (i, a) in addresses.into_iter().enumerate() {
        let p = format!("{comm}/address/{i}");
        let country_sub_divisions = components(invalid, &format!("{p}/countrySubDivisions"), a.country_sub_divisions);
        let extended_lines = components(invalid, &format!("{p}/extendedLines"), a.extended_lines);
        let geo_location = match a.geo_location {
            Some(g) if (-90.0..=90.0).contains(&g.latitude) && (-180.0..=180.0).contains(&g.longitude) => {
                Some(GeoLocation { latitude: g.latitude, longitude: g.longitude })
            }
            Some(_) => {
                let message = "must be a latitude and longitude in degrees".to_owned();
                invalid.check::<()>(&format!("{p}/geoLocation"), Err(message));
                None
            }
            None => None,
        };
        communication.address.push(Address {
            line: invalid.check(&format!("{p}/line"), opt_text(a.line, MAX_TEXT)).flatten(),
            city: invalid.check(&format!("{p}/city"), text(a.city, MAX_TEXT)),
            postal_code: invalid.check(&format!("{p}/postalCode"), text(a.postal_code, 20)),
            country_code: invalid.check(&format!("{p}/countryCode"), text(a.country_code, 2)),
            formatted_address: invalid
                .check(&format!("{p}/formattedAddress"), opt_text(a.formatted_address, MAX_TEXT))
                .flatten(),
            country_sub_divisions,
            extended_lines,
            geo_location,
        });
    }
    let name = candex_domain::person::PersonName { given, family, formatted_name: formatted_name? };
    (invalid.count() == before).then_some(SpecifiedPerson { name, communication, role_code })
}

/// Address components (`{type, value}`), at most [`rules::MAX_PARTY_CHANNELS`].
fn components(invalid: &mut Invalid, ptr: &str, list: Vec<AddressComponentInput>) -> Vec<AddressComponent> {
    let mut out = Vec::new();
    for (j, c) in bounded(invalid, ptr, list).into_iter().enumerate() {
        let kind = invalid.check(&format!("{ptr}/{j}/type"), text(c.kind, MAX_TEXT));
        let value = invalid.check(&format!("{ptr}/{j}/value"), text(c.value, MAX_TEXT));
        if let (Some(kind), Some(value)) = (kind, value) {
            out.push(AddressComponent { kind, value });
        }
    }
    out
}

/// An email address: at most 254 characters, something on each side of one `@`.
fn email_address(value: String) -> Result<String, String> {
    let value = text(value, 254)?;
    match value.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.contains(char::is_whitespace) =>
        {
            Ok(value)
        }
        _ => Err("must be an email address like name@example.com".to_owned()),
    }
}
