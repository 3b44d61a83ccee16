//! Candidate process history: `CandidateProcessHistoryItem` and its connection (reachable from
//! `CandidateProfile.seekProcessHistory` and `candidateProcessHistoryItem`), and the inputs
//! and payloads of the three process history mutations, named exactly as in SEEK's schema
//! (`CreateCandidateProcessHistoryItem_CandidateProcessHistoryItemInput`, `…Payload_Success`, …).

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, SimpleObject, Union};
use candex_domain::process::ProcessDetails;
use candex_store::{ProcessHistoryItem, ProfileView};

use super::common::{ObjectIdentifier, Organization, WebUrl};
use super::person::{PersonName, SpecifiedPerson};
use super::position::PositionProfile;
use super::profile::{CandidateProcessAction, CandidateProfile};
use crate::graphql::error::internal;
use crate::graphql::relay::PageInfo;
use crate::graphql::scalars::DateTime;
use crate::graphql::SchemaContext;

/// `CandidateProcessHistoryItemConnection`.
#[derive(SimpleObject)]
pub struct CandidateProcessHistoryItemConnection {
    /// Edges.
    pub edges: Vec<CandidateProcessHistoryItemEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// `CandidateProcessHistoryItemEdge`.
#[derive(SimpleObject)]
pub struct CandidateProcessHistoryItemEdge {
    /// Cursor.
    pub cursor: String,
    /// The item.
    pub node: CandidateProcessHistoryItem,
}

/// `CandidateProcessHistoryItem`: one recorded item, with the profile it is about (already
/// read and authorised by whoever built it).
pub struct CandidateProcessHistoryItem {
    item: ProcessHistoryItem,
    profile: Arc<ProfileView>,
}

impl CandidateProcessHistoryItem {
    /// An item of `profile`.
    pub fn new(item: ProcessHistoryItem, profile: Arc<ProfileView>) -> Self {
        Self { item, profile }
    }

    fn details(&self) -> &ProcessDetails {
        &self.item.details
    }
}

#[Object]
impl CandidateProcessHistoryItem {
    async fn action(&self) -> CandidateProcessAction {
        let a = &self.details().action;
        CandidateProcessAction {
            code: a.code.clone(),
            description: a.description.clone(),
            name: a.name.clone(),
            seek_url: a.seek_url.clone().map(|url| WebUrl { url }),
        }
    }

    async fn action_date(&self) -> DateTime {
        DateTime(self.item.action_date)
    }

    async fn candidate_profile(&self) -> CandidateProfile {
        CandidateProfile(Arc::clone(&self.profile))
    }

    async fn id(&self) -> ObjectIdentifier {
        (&self.item.id).into()
    }

    /// The job ad the item concerns: the profile's own job ad is already in memory; another
    /// job ad of the same hirer (the store keeps items to their profile's hirer) is one read.
    async fn position_profile(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PositionProfile>> {
        let Some(id) = &self.item.position_profile_id else { return Ok(None) };
        if *id == self.profile.position.profile_id {
            return Ok(Some(PositionProfile::posted(Arc::clone(&self.profile.position))));
        }
        let store = &ctx.data_unchecked::<SchemaContext>().store;
        let position = store.get_position(id).await.map_err(internal)?;
        Ok(position.filter(|p| p.hirer_id == *self.profile.hirer_id()).map(|p| PositionProfile::posted(Arc::new(p))))
    }

    async fn primary_parties(&self) -> Vec<CandidateProcessParty> {
        self.details()
            .primary_parties
            .iter()
            .map(|p| CandidateProcessParty {
                organization: p.organization.as_ref().map(Into::into),
                person: p.person.as_ref().map(|s| SpecifiedPerson {
                    communication: (&s.communication).into(),
                    name: PersonName::from(&s.name),
                    role_code: s.role_code.clone(),
                }),
            })
            .collect()
    }

    async fn seek_source(&self) -> Option<SeekProcessHistoryItemSource> {
        self.details().seek_source.clone().map(|name| SeekProcessHistoryItemSource { name })
    }

    async fn status(&self) -> Option<CandidateProcessStatus> {
        self.details().status.clone().map(|code| CandidateProcessStatus { code })
    }
}

/// `CandidateProcessParty`.
#[derive(Debug, Clone, SimpleObject)]
pub struct CandidateProcessParty {
    /// An organisation.
    pub organization: Option<Organization>,
    /// A person.
    pub person: Option<SpecifiedPerson>,
}

/// `CandidateProcessStatus`.
#[derive(Debug, Clone, SimpleObject)]
pub struct CandidateProcessStatus {
    /// Status code.
    pub code: String,
}

/// `SeekProcessHistoryItemSource`.
#[derive(Debug, Clone, SimpleObject)]
pub struct SeekProcessHistoryItemSource {
    /// Source name.
    pub name: String,
}

// --- inputs ---------------------------------------------------------------------------------

/// `CreateCandidateProcessHistoryItemInput`.
#[derive(Debug, InputObject)]
pub struct CreateCandidateProcessHistoryItemInput {
    /// The item to record.
    pub candidate_process_history_item: CreateCandidateProcessHistoryItemCandidateProcessHistoryItemInput,
    /// The profile it is about.
    pub candidate_profile: CreateCandidateProcessHistoryItemCandidateProfileInput,
}

/// `CreateCandidateProcessHistoryItem_CandidateProcessHistoryItemInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "CreateCandidateProcessHistoryItem_CandidateProcessHistoryItemInput")]
pub struct CreateCandidateProcessHistoryItemCandidateProcessHistoryItemInput {
    /// What happened.
    pub action: CandidateProcessActionInput,
    /// When.
    pub action_date: DateTime,
    /// The partner's key for retries, unique per profile.
    pub idempotency_id: String,
    /// The job ad it concerns.
    pub position_profile: Option<CandidateProcessHistoryItemPositionProfileInput>,
    /// The people and organisations involved.
    pub primary_parties: Vec<CandidateProcessPartyInput>,
    /// Source (required with a job ad).
    pub seek_source: Option<SeekProcessHistoryItemSourceInput>,
    /// Where the candidate stands.
    pub status: Option<CandidateProcessStatusInput>,
}

/// `CreateCandidateProcessHistoryItem_CandidateProfileInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "CreateCandidateProcessHistoryItem_CandidateProfileInput")]
pub struct CreateCandidateProcessHistoryItemCandidateProfileInput {
    /// The profile's id.
    pub profile_id: String,
}

/// `UpdateCandidateProcessHistoryItemInput`.
#[derive(Debug, InputObject)]
pub struct UpdateCandidateProcessHistoryItemInput {
    /// The change.
    pub candidate_process_history_item: UpdateCandidateProcessHistoryItemCandidateProcessHistoryItemInput,
}

/// `UpdateCandidateProcessHistoryItem_CandidateProcessHistoryItemInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "UpdateCandidateProcessHistoryItem_CandidateProcessHistoryItemInput")]
pub struct UpdateCandidateProcessHistoryItemCandidateProcessHistoryItemInput {
    /// What happened.
    pub action: CandidateProcessActionInput,
    /// When.
    pub action_date: DateTime,
    /// The item.
    pub id: String,
    /// The job ad it concerns.
    pub position_profile: Option<CandidateProcessHistoryItemPositionProfileInput>,
    /// The people and organisations involved.
    pub primary_parties: Vec<CandidateProcessPartyInput>,
    /// Source (required with a job ad).
    pub seek_source: Option<SeekProcessHistoryItemSourceInput>,
    /// Where the candidate stands.
    pub status: Option<CandidateProcessStatusInput>,
}

/// `DeleteCandidateProcessHistoryItemInput`.
#[derive(Debug, InputObject)]
pub struct DeleteCandidateProcessHistoryItemInput {
    /// The item.
    pub candidate_process_history_item: DeleteCandidateProcessHistoryItemCandidateProcessHistoryItemInput,
}

/// `DeleteCandidateProcessHistoryItem_CandidateProcessHistoryItemInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "DeleteCandidateProcessHistoryItem_CandidateProcessHistoryItemInput")]
pub struct DeleteCandidateProcessHistoryItemCandidateProcessHistoryItemInput {
    /// The item's id.
    pub id: String,
}

/// `CandidateProcessActionInput`.
#[derive(Debug, InputObject)]
pub struct CandidateProcessActionInput {
    /// One of SEEK's action codes.
    pub code: String,
    /// Description.
    pub description: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// A link.
    pub seek_url: Option<WebUrlInput>,
}

/// `WebUrlInput`.
#[derive(Debug, InputObject)]
pub struct WebUrlInput {
    /// An absolute http(s) URL.
    pub url: String,
}

/// `CandidateProcessHistoryItem_PositionProfileInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "CandidateProcessHistoryItem_PositionProfileInput")]
pub struct CandidateProcessHistoryItemPositionProfileInput {
    /// The job ad's id.
    pub profile_id: String,
}

/// `CandidateProcessPartyInput`: a person, an organisation, or both.
#[derive(Debug, InputObject)]
pub struct CandidateProcessPartyInput {
    /// An organisation.
    pub organization: Option<OrganizationInput>,
    /// A person.
    pub person: Option<SpecifiedPersonInput>,
}

/// `OrganizationInput`.
#[derive(Debug, InputObject)]
pub struct OrganizationInput {
    /// Its name.
    pub name: String,
}

/// `SpecifiedPersonInput`.
#[derive(Debug, InputObject)]
pub struct SpecifiedPersonInput {
    /// Contact details.
    pub communication: CommunicationInput,
    /// Name.
    pub name: PersonNameInput,
    /// Role code.
    pub role_code: Option<String>,
}

/// `PersonNameInput`.
#[derive(Debug, InputObject)]
pub struct PersonNameInput {
    /// Family name.
    pub family: Option<String>,
    /// Full name.
    pub formatted_name: String,
    /// Given name.
    pub given: Option<String>,
}

/// `CommunicationInput`.
#[derive(Debug, InputObject)]
pub struct CommunicationInput {
    /// Addresses.
    pub address: Option<Vec<AddressInput>>,
    /// Emails.
    pub email: Vec<EmailInput>,
    /// Phones.
    pub phone: Vec<PhoneInput>,
    /// Whether the person asked not to be contacted.
    pub seek_do_not_contact_indicator: Option<bool>,
}

/// `EmailInput`.
#[derive(Debug, InputObject)]
pub struct EmailInput {
    /// The address.
    pub address: String,
}

/// `PhoneInput`.
#[derive(Debug, InputObject)]
pub struct PhoneInput {
    /// The number.
    pub formatted_number: String,
}

/// `AddressInput`.
#[derive(Debug, InputObject)]
pub struct AddressInput {
    /// City.
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: String,
    /// States and regions.
    pub country_sub_divisions: Vec<AddressComponentInput>,
    /// Extra lines.
    pub extended_lines: Vec<AddressComponentInput>,
    /// The address on one line.
    pub formatted_address: Option<String>,
    /// Coordinates.
    pub geo_location: Option<GeoLocationInput>,
    /// Street line.
    pub line: Option<String>,
    /// Postal code.
    pub postal_code: String,
}

/// `AddressComponentInput`.
#[derive(Debug, InputObject)]
pub struct AddressComponentInput {
    /// Component type.
    #[graphql(name = "type")]
    pub kind: String,
    /// Component value.
    pub value: String,
}

/// `GeoLocationInput`.
#[derive(Debug, InputObject)]
pub struct GeoLocationInput {
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
}

/// `CandidateProcessStatusInput`.
#[derive(Debug, InputObject)]
pub struct CandidateProcessStatusInput {
    /// One of SEEK's status codes.
    pub code: String,
}

/// `SeekProcessHistoryItemSourceInput`.
#[derive(Debug, InputObject)]
pub struct SeekProcessHistoryItemSourceInput {
    /// Source name.
    pub name: String,
}

// --- payloads -------------------------------------------------------------------------------

/// `CreateCandidateProcessHistoryItemPayload`.
#[derive(Union)]
pub enum CreateCandidateProcessHistoryItemPayload {
    /// The profile already holds an item with this idempotency id.
    Conflict(CreateCandidateProcessHistoryItemPayloadConflict),
    /// Recorded.
    Success(CreateCandidateProcessHistoryItemPayloadSuccess),
}

/// `CreateCandidateProcessHistoryItemPayload_Conflict`.
#[derive(SimpleObject)]
#[graphql(name = "CreateCandidateProcessHistoryItemPayload_Conflict")]
pub struct CreateCandidateProcessHistoryItemPayloadConflict {
    /// The profile.
    pub candidate_profile: CandidateProfile,
    /// The item recorded earlier under the same idempotency id.
    pub conflicting_candidate_process_history_item: CandidateProcessHistoryItem,
}

/// `CreateCandidateProcessHistoryItemPayload_Success`.
#[derive(SimpleObject)]
#[graphql(name = "CreateCandidateProcessHistoryItemPayload_Success")]
pub struct CreateCandidateProcessHistoryItemPayloadSuccess {
    /// The new item.
    pub candidate_process_history_item: CandidateProcessHistoryItem,
    /// The profile.
    pub candidate_profile: CandidateProfile,
}

/// `UpdateCandidateProcessHistoryItemPayload`.
#[derive(SimpleObject)]
pub struct UpdateCandidateProcessHistoryItemPayload {
    /// The item as changed.
    pub candidate_process_history_item: CandidateProcessHistoryItem,
}

/// `DeleteCandidateProcessHistoryItemPayload`.
#[derive(SimpleObject)]
pub struct DeleteCandidateProcessHistoryItemPayload {
    /// The item as it was.
    pub candidate_process_history_item: CandidateProcessHistoryItem,
}
