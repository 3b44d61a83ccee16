//! Candidate process history (`CandidateProcessHistoryItem`): what a partner recorded about a
//! candidate's progress (shortlisted, interviewed, offered, …), with SEEK's code lists and the
//! bounds every recorded item keeps. Serialised with SEEK's GraphQL field names; this is also
//! the stored form (one JSON document per item).

use serde::{Deserialize, Serialize};

use crate::person::{Communication, PersonName};
use crate::snapshot::Organization;

/// SEEK's `CandidateProcessAction.code` values.
pub const ACTION_CODES: [&str; 11] = [
    "AgencySubmission",
    "CandidateWorkflowTransition",
    "Document",
    "Email",
    "Note",
    "PhoneCall",
    "PostPlacementActivity",
    "Screening",
    "StatusChange",
    "VerificationActivity",
    "Other",
];

/// SEEK's `CandidateProcessStatus.code` values.
pub const STATUS_CODES: [&str; 10] = [
    "AgencyShortlist",
    "AgencySubmission",
    "Application",
    "HirerShortlist",
    "Interview",
    "Offer",
    "ReferenceCheck",
    "Successful",
    "TestingOrQualificationsCheck",
    "Unsuccessful",
];

/// Most `primaryParties` of one item, as SEEK documents.
pub const MAX_PRIMARY_PARTIES: usize = 10;
/// Most emails, phones or addresses of one party's person.
pub const MAX_PARTY_CHANNELS: usize = 10;
/// Most items one candidate profile may hold; a create beyond it is refused.
pub const MAX_ITEMS_PER_PROFILE: u32 = 1_000;
/// Longest `idempotencyId`, in bytes (an identifier-sized key).
pub const MAX_IDEMPOTENCY_ID_BYTES: usize = 255;
/// Longest action description, in characters.
pub const MAX_DESCRIPTION: usize = 5_000;
/// Longest URL, in characters.
pub const MAX_URL: usize = 2_000;
/// Most items one page of `seekProcessHistory` returns, as SEEK documents.
pub const MAX_PAGE: u32 = 20;
/// Items a page of `seekProcessHistory` returns when `first` is omitted.
pub const DEFAULT_PAGE: u32 = 10;

/// What an item records besides its ids and date: everything a partner sent, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessDetails {
    /// What happened.
    pub action: ProcessAction,
    /// Where the candidate stands after it.
    pub status: Option<String>,
    /// The people and organisations involved (1 to [`MAX_PRIMARY_PARTIES`]).
    pub primary_parties: Vec<ProcessParty>,
    /// The SEEK source of the item (required with a job ad), by name.
    pub seek_source: Option<String>,
}

/// `CandidateProcessAction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessAction {
    /// One of [`ACTION_CODES`].
    pub code: String,
    /// A short name.
    pub name: Option<String>,
    /// A description.
    pub description: Option<String>,
    /// A link to the action.
    pub seek_url: Option<String>,
}

/// `CandidateProcessParty`: a person, an organisation, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessParty {
    /// The organisation.
    pub organization: Option<Organization>,
    /// The person.
    pub person: Option<SpecifiedPerson>,
}

/// `SpecifiedPerson`: a named contact (a recruiter, an interviewer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecifiedPerson {
    /// The name.
    pub name: PersonName,
    /// How to reach them.
    pub communication: Communication,
    /// Their role.
    pub role_code: Option<String>,
}
