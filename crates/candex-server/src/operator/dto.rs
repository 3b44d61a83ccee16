//! Response and small request shapes of the operator API (JSON, camelCase like GraphQL).

use candex_domain::time::format_rfc3339_ms;
use candex_store::{ApplicationSummary, Candidate, Hirer, IngestedApplication, Partner, Position, PositionStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"name"}` for hirers and partners.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameInput {
    /// Display name.
    pub name: Option<String>,
}

/// `{"relationshipTypeCodes": [...]}`; an empty list revokes every relationship.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelationshipsInput {
    /// Any of `ApplicationExport`, `JobPosting`, `ProactiveSourcing`.
    pub relationship_type_codes: Option<Vec<String>>,
}

/// A hirer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HirerResponse {
    /// Hirer id (`HiringOrganization.id`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time (RFC 3339).
    pub create_date_time: String,
}

impl From<Hirer> for HirerResponse {
    fn from(h: Hirer) -> Self {
        Self { id: h.id.into_string(), name: h.name, create_date_time: format_rfc3339_ms(&h.created_at) }
    }
}

/// A partner (without its secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerResponse {
    /// Partner id.
    pub id: String,
    /// Name.
    pub name: String,
    /// OAuth client id.
    pub client_id: String,
    /// Creation time (RFC 3339).
    pub create_date_time: String,
    /// The client secret: present only in the response that created the partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl PartnerResponse {
    /// A partner as listed (no secret).
    pub fn from_partner(p: Partner, client_secret: Option<String>) -> Self {
        Self {
            id: p.id.into_string(),
            name: p.name,
            client_id: p.client_id,
            create_date_time: format_rfc3339_ms(&p.created_at),
            client_secret,
        }
    }
}

/// A partner's new client secret (shown only here) after a rotation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecretResponse {
    /// Partner id.
    pub partner_id: String,
    /// The new client secret. The previous one stays valid until it is retired.
    pub client_secret: String,
}

impl std::fmt::Debug for ClientSecretResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecretResponse").field("partner_id", &self.partner_id).finish_non_exhaustive()
    }
}

/// What retiring a partner's previous client secret did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetiredSecretResponse {
    /// Partner id.
    pub partner_id: String,
    /// Whether a previous secret was retired (false: there was none).
    pub retired: bool,
}

/// A partner's token revocation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedTokensResponse {
    /// Partner id.
    pub partner_id: String,
    /// Tokens issued before this time (RFC 3339) are refused on every instance.
    pub tokens_not_before: String,
}

/// The relationships a partner holds with a hirer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipsResponse {
    /// Partner id.
    pub partner_id: String,
    /// Hirer id.
    pub hirer_id: String,
    /// Relationships now held.
    pub relationship_type_codes: Vec<String>,
}

/// A job ad.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionResponse {
    /// Position profile id (the job ad; used to apply).
    pub id: String,
    /// Position opening id.
    pub position_opening_id: String,
    /// Hirer id.
    pub hirer_id: String,
    /// Job title.
    pub position_title: String,
    /// Public URL of the ad.
    pub position_uri: String,
    /// The hirer's reference.
    pub seek_hirer_job_reference: Option<String>,
    /// `Active` or `Closed`.
    pub status_code: &'static str,
    /// Optional details as given.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Creation time (RFC 3339).
    pub create_date_time: String,
    /// Closing time (RFC 3339), when closed.
    pub close_date_time: Option<String>,
    /// The screening questionnaire as given, with generated ids on the questionnaire, every
    /// component and every choice (the ids applications answer with); null when none.
    #[schema(value_type = Option<Object>)]
    pub questionnaire: Option<serde_json::Value>,
}

impl From<Position> for PositionResponse {
    fn from(p: Position) -> Self {
        Self {
            id: p.profile_id.into_string(),
            position_opening_id: p.opening_id.into_string(),
            hirer_id: p.hirer_id.into_string(),
            position_title: p.title,
            position_uri: p.position_uri,
            seek_hirer_job_reference: p.seek_hirer_job_reference,
            status_code: status_code(p.status),
            details: serde_json::to_value(&p.details).unwrap_or_default(),
            create_date_time: format_rfc3339_ms(&p.created_at),
            close_date_time: p.closed_at.as_ref().map(format_rfc3339_ms),
            questionnaire: p.questionnaire.as_deref().and_then(|q| serde_json::to_value(q).ok()),
        }
    }
}

/// SEEK's `PositionOpening.statusCode` for a status.
pub fn status_code(status: PositionStatus) -> &'static str {
    match status {
        PositionStatus::Open => "Active",
        PositionStatus::Closed => "Closed",
    }
}

/// An ingested application.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationResponse {
    /// The new profile (`candidateProfile(id)`).
    pub candidate_profile_id: String,
    /// The candidate (`candidate(id)`): new, or matched on email at this hirer.
    pub candidate_id: String,
    /// The hirer of the job ad.
    pub hirer_id: String,
    /// Application time (RFC 3339).
    pub create_date_time: String,
}

impl From<IngestedApplication> for ApplicationResponse {
    fn from(a: IngestedApplication) -> Self {
        Self {
            candidate_profile_id: a.profile_id.into_string(),
            candidate_id: a.candidate_id.into_string(),
            hirer_id: a.hirer_id.into_string(),
            create_date_time: format_rfc3339_ms(&a.created_at),
        }
    }
}

/// A candidate with its live person data.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CandidateResponse {
    /// Candidate id (`Candidate.documentId`).
    pub id: String,
    /// Hirer id.
    pub hirer_id: String,
    /// Live person data, with GraphQL field names.
    #[schema(value_type = Object)]
    pub person: serde_json::Value,
    /// Last update (RFC 3339).
    pub update_date_time: String,
}

impl From<Candidate> for CandidateResponse {
    fn from(c: Candidate) -> Self {
        Self {
            id: c.id.into_string(),
            hirer_id: c.hirer_id.into_string(),
            person: serde_json::to_value(&c.person).unwrap_or_default(),
            update_date_time: format_rfc3339_ms(&c.updated_at),
        }
    }
}

/// One application in a job ad's list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationListItem {
    /// Profile id.
    pub candidate_profile_id: String,
    /// Candidate id.
    pub candidate_id: String,
    /// The candidate's current name.
    pub formatted_name: String,
    /// Application time (RFC 3339).
    pub create_date_time: String,
}

impl From<&ApplicationSummary> for ApplicationListItem {
    fn from(a: &ApplicationSummary) -> Self {
        Self {
            candidate_profile_id: a.profile_id.to_string(),
            candidate_id: a.candidate_id.to_string(),
            formatted_name: a.formatted_name.clone(),
            create_date_time: format_rfc3339_ms(&a.created_at),
        }
    }
}

/// A page of applications.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationsPage {
    /// Applications in ingest order.
    pub applications: Vec<ApplicationListItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// What erasing a candidate did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErasedResponse {
    /// The erased candidate (the id stays valid).
    pub candidate_id: String,
    /// How many of its profiles were emptied.
    pub profiles: u64,
}

impl From<candex_store::ErasedCandidate> for ErasedResponse {
    fn from(e: candex_store::ErasedCandidate) -> Self {
        Self { candidate_id: e.candidate_id.into_string(), profiles: e.profiles }
    }
}

/// The multipart form of `POST /applications`: the JSON part `application` first, then one
/// file part per `attachments[].file` name (each with a filename and a content type).
#[derive(Debug, ToSchema)]
pub struct ApplicationUpload {
    /// The application JSON (as `ApplicationInput`), whose `attachments` name the file parts.
    #[schema(value_type = String, content_media_type = "application/json")]
    pub application: String,
    /// A file part, named as its `attachments[].file` entry says (repeat per file).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// One item of a candidate profile's process history, as the partner recorded it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessHistoryItemResponse {
    /// Item id (`candidateProcessHistoryItem(id)`).
    pub id: String,
    /// The partner that recorded it.
    pub partner_id: String,
    /// The partner's idempotency key.
    pub idempotency_id: String,
    /// When the action happened (RFC 3339).
    pub action_date: String,
    /// What happened: `{code, name, description, seekUrl}` (SEEK's action codes).
    #[schema(value_type = Object)]
    pub action: candex_domain::process::ProcessAction,
    /// Where the candidate stands (`HirerShortlist`, `Interview`, `Offer`, `Unsuccessful`, …).
    pub status: Option<String>,
    /// The job ad it concerns.
    pub position_profile_id: Option<String>,
    /// The people and organisations involved, in SEEK's `CandidateProcessParty` shape.
    #[schema(value_type = Vec<Object>)]
    pub primary_parties: Vec<candex_domain::process::ProcessParty>,
    /// Source name.
    pub seek_source: Option<String>,
    /// When it was recorded (RFC 3339).
    pub create_date_time: String,
    /// When it last changed (RFC 3339).
    pub update_date_time: String,
}

impl From<candex_store::ProcessHistoryItem> for ProcessHistoryItemResponse {
    fn from(i: candex_store::ProcessHistoryItem) -> Self {
        Self {
            id: i.id.into_string(),
            partner_id: i.partner_id.into_string(),
            idempotency_id: i.idempotency_id,
            action_date: format_rfc3339_ms(&i.action_date),
            action: i.details.action,
            status: i.details.status,
            position_profile_id: i.position_profile_id.map(candex_domain::PositionProfileId::into_string),
            primary_parties: i.details.primary_parties,
            seek_source: i.details.seek_source,
            create_date_time: format_rfc3339_ms(&i.created_at),
            update_date_time: format_rfc3339_ms(&i.updated_at),
        }
    }
}

/// A page of a candidate profile's process history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessHistoryPage {
    /// Items in recording order.
    pub items: Vec<ProcessHistoryItemResponse>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
