//! Records the store reads and writes. Plain data; identifiers are minted by callers.

use std::sync::Arc;

use candex_domain::position::PositionDetails;
use candex_domain::questionnaire::{ComponentResponse, Questionnaire};
use candex_domain::snapshot::CandidateSource;
use candex_domain::{
    AttachmentId, CandidateId, CandidateProfileId, HirerId, ObjectId, PartnerId, Person, PositionOpeningId,
    PositionProfileId, RelationshipSet, RelationshipType, Snapshot,
};
use chrono::{DateTime, Utc};

/// A hirer to create.
#[derive(Debug, Clone)]
pub struct NewHirer {
    /// Minted id.
    pub id: HirerId,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A hirer (`HiringOrganization`).
#[derive(Debug, Clone, PartialEq)]
pub struct Hirer {
    /// The hirer's id.
    pub id: HirerId,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A partner to create.
#[derive(Debug, Clone)]
pub struct NewPartner {
    /// Minted id.
    pub id: PartnerId,
    /// Display name.
    pub name: String,
    /// Public client id.
    pub client_id: String,
    /// SHA-256 of the client secret, lowercase hex. The secret itself is never stored.
    pub client_secret_hash: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A partner (an ATS).
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    /// The partner's id.
    pub id: PartnerId,
    /// Display name.
    pub name: String,
    /// Public client id.
    pub client_id: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A partner with its secret hashes, for verifying client credentials.
#[derive(Debug, Clone)]
pub struct PartnerCredentials {
    /// The partner.
    pub partner: Partner,
    /// SHA-256 of the client secret, lowercase hex.
    pub client_secret_hash: String,
    /// SHA-256 of the previous client secret during a rotation: valid beside the current one
    /// until it is retired.
    pub previous_client_secret_hash: Option<String>,
}

/// What a partner holds with one hirer, read with the object it guards: its relationships
/// and the time before which its tokens are revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartnerGrant {
    /// The relationships the partner holds with the hirer (empty when none).
    pub relationships: RelationshipSet,
    /// Tokens issued to the partner before this time are revoked.
    pub tokens_not_before: Option<DateTime<Utc>>,
}

/// Sort key of a hirer in relationship listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HirerKey {
    /// Hirer name (primary order).
    pub name: String,
    /// Hirer id (tie break).
    pub id: HirerId,
}

/// A page request over the hirers related to a partner.
#[derive(Debug, Clone)]
pub struct RelatedHirersQuery {
    /// The partner.
    pub partner_id: PartnerId,
    /// Case-insensitive substring of the name.
    pub name_search: Option<String>,
    /// Keep hirers where the partner holds at least one of these; empty keeps all.
    pub types: Vec<RelationshipType>,
    /// Only keys strictly after this one.
    pub after: Option<HirerKey>,
    /// Only keys strictly before this one.
    pub before: Option<HirerKey>,
    /// At most this many rows.
    pub limit: u32,
    /// Take rows from the end of the range (for `last`); the result is still ascending.
    pub from_end: bool,
    /// Only this hirer (a browser token's bound hirer); `None` lists every related hirer.
    pub only_hirer: Option<HirerId>,
}

/// A hirer with the relationships the asking partner holds with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedHirer {
    /// The hirer.
    pub hirer: Hirer,
    /// Relationships held.
    pub relationships: RelationshipSet,
}

/// Whether a job ad takes applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionStatus {
    /// Open for applications.
    Open,
    /// Closed; existing applications stay readable.
    Closed,
}

impl PositionStatus {
    /// Storage code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    /// Parses a storage code.
    pub fn from_code(code: &str) -> Self {
        if code == "closed" {
            Self::Closed
        } else {
            Self::Open
        }
    }
}

/// A job ad to create.
#[derive(Debug, Clone)]
pub struct NewPosition {
    /// Minted position profile id.
    pub profile_id: PositionProfileId,
    /// Minted position opening id.
    pub opening_id: PositionOpeningId,
    /// The hirer.
    pub hirer_id: HirerId,
    /// Job title.
    pub title: String,
    /// Public URL of the ad.
    pub position_uri: String,
    /// Hirer's own reference.
    pub seek_hirer_job_reference: Option<String>,
    /// Optional details.
    pub details: PositionDetails,
    /// Minted id for the location, when one is given.
    pub location_id: Option<ObjectId>,
    /// Minted id for the job category, when one is given.
    pub job_category_id: Option<ObjectId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The screening questionnaire (ids minted), stored in the same transaction.
    pub questionnaire: Option<Questionnaire>,
    /// Minted id of its `PositionProfilePosted` event (stamped `created_at`).
    pub event_id: ObjectId,
}

/// A job ad: a position opening with its posted position profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// Position profile id (the job ad).
    pub profile_id: PositionProfileId,
    /// Position opening id.
    pub opening_id: PositionOpeningId,
    /// The hirer.
    pub hirer_id: HirerId,
    /// The hirer's name.
    pub hirer_name: String,
    /// Job title.
    pub title: String,
    /// Public URL of the ad.
    pub position_uri: String,
    /// Hirer's own reference.
    pub seek_hirer_job_reference: Option<String>,
    /// Optional details.
    pub details: PositionDetails,
    /// Location id, when a location is set.
    pub location_id: Option<ObjectId>,
    /// Job category id, when a category is set.
    pub job_category_id: Option<ObjectId>,
    /// Open or closed.
    pub status: PositionStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Closing time.
    pub closed_at: Option<DateTime<Utc>>,
    /// The screening questionnaire, read with the position in the same statement.
    pub questionnaire: Option<Arc<Questionnaire>>,
}

/// An application to store.
#[derive(Debug, Clone)]
pub struct NewApplicationRecord {
    /// Minted candidate profile id.
    pub profile_id: CandidateProfileId,
    /// Minted candidate id, used only when no candidate of the hirer has this email.
    pub candidate_id: CandidateId,
    /// The job ad.
    pub position_profile_id: PositionProfileId,
    /// Live person data (replaces the candidate's on a match).
    pub person: Person,
    /// Snapshot.
    pub snapshot: Snapshot,
    /// Sources.
    pub candidate_sources: Vec<CandidateSource>,
    /// Application time.
    pub created_at: DateTime<Utc>,
    /// Responses to the job ad's questionnaire, already matched against it and in its
    /// component order; `None` when none were given. The store refuses (`Rejected`) responses
    /// to a job ad without a questionnaire.
    pub questionnaire_responses: Option<Vec<ComponentResponse>>,
    /// Attachment rows, stored in the same transaction (their blobs are already written).
    pub attachments: Vec<NewAttachment>,
    /// Its `CandidateApplicationCreated` event. Stamped when stored, which is not
    /// `created_at` for imported applications.
    pub event: crate::EventStamp,
}

/// What storing an application produced.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestedApplication {
    /// The new profile.
    pub profile_id: CandidateProfileId,
    /// The candidate: new, or the existing one matched on email.
    pub candidate_id: CandidateId,
    /// The hirer of the job ad.
    pub hirer_id: HirerId,
    /// Application time.
    pub created_at: DateTime<Utc>,
}

/// A candidate: one per hirer and person, with live person data.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The candidate's id (`documentId`).
    pub id: CandidateId,
    /// The hirer this candidate belongs to.
    pub hirer_id: HirerId,
    /// Live person data.
    pub person: Person,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of the person data.
    pub updated_at: DateTime<Utc>,
}

/// A profile with everything `candidateProfile` needs, read in one round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileView {
    /// The profile's id.
    pub profile_id: CandidateProfileId,
    /// Application time.
    pub created_at: DateTime<Utc>,
    /// Last update of the profile.
    pub updated_at: DateTime<Utc>,
    /// Snapshot.
    pub snapshot: Arc<Snapshot>,
    /// Sources.
    pub candidate_sources: Vec<CandidateSource>,
    /// The live candidate.
    pub candidate: Arc<Candidate>,
    /// The job ad applied to.
    pub position: Arc<Position>,
}

impl ProfileView {
    /// The hirer the application belongs to.
    pub fn hirer_id(&self) -> &HirerId {
        &self.position.hirer_id
    }
}

/// One row of a job ad's application list.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationSummary {
    /// Ingest sequence, the paging key.
    pub seq: i64,
    /// The profile.
    pub profile_id: CandidateProfileId,
    /// The candidate.
    pub candidate_id: CandidateId,
    /// The candidate's current formatted name.
    pub formatted_name: String,
    /// Application time.
    pub created_at: DateTime<Utc>,
}

/// A key that signs partner and browser tokens.
///
/// Its life: it signs while current (`superseded_at` unset; one key at a time), then only
/// verifies until `retire_at`, then is retired: its secret is wiped and it never signs or
/// verifies again, but its row (and `kid`) stays so that it is recognised if offered again.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id (`kid` header).
    pub kid: String,
    /// Algorithm name, e.g. `HS256`.
    pub algorithm: String,
    /// The secret as stored: sealed by the server with the operator's master key (see
    /// `candex_server::auth::master_key`); empty once retired. The store never sees it
    /// in plain text, except in rows written before sealing, which the server seals at start.
    pub secret: Vec<u8>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When a newer key took over signing.
    pub superseded_at: Option<DateTime<Utc>>,
    /// Until when a superseded key still verifies.
    pub retire_at: Option<DateTime<Utc>>,
    /// When the key was retired (secret wiped).
    pub retired_at: Option<DateTime<Utc>>,
}

impl SigningKey {
    /// A new current key.
    pub fn new(kid: String, algorithm: String, secret: Vec<u8>, created_at: DateTime<Utc>) -> Self {
        Self { kid, algorithm, secret, created_at, superseded_at: None, retire_at: None, retired_at: None }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("superseded_at", &self.superseded_at)
            .field("retire_at", &self.retire_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Which kind of secret a [`StoredSecret`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// `signing_keys.secret`, row named by `kid`.
    SigningKey,
    /// `webhook_subscriptions.secret`, row named by the subscription id.
    WebhookSecret,
}

/// A secret as stored, for sealing plain-text rows and resealing under a new master key.
#[derive(Clone)]
pub struct StoredSecret {
    /// Which column.
    pub kind: SecretKind,
    /// The row: a signing key's `kid` or a subscription's id.
    pub row: String,
    /// The stored value (sealed, or plain text from before sealing).
    pub value: Vec<u8>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret").field("kind", &self.kind).field("row", &self.row).finish_non_exhaustive()
    }
}

/// A stored secret to replace, only if it still holds `old` (so a concurrent change wins).
#[derive(Clone)]
pub struct SecretUpdate {
    /// The secret as read.
    pub old: StoredSecret,
    /// Its new stored value.
    pub new: Vec<u8>,
}

impl std::fmt::Debug for SecretUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretUpdate").field("old", &self.old).finish_non_exhaustive()
    }
}

/// An attachment row to store with its application. The bytes live in blob storage under
/// their SHA-256; the row holds the metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    /// Minted attachment id.
    pub id: AttachmentId,
    /// SHA-256 of the content, lowercase hex (the blob's key).
    pub sha256: String,
    /// The original file name as the candidate uploaded it.
    pub filename: String,
    /// Media type, e.g. `application/pdf`.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// `Resume`, `CoverLetter`, `SelectionCriteria` or `None`.
    pub seek_role_code: Option<String>,
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// Upload time (`Last-Modified` of downloads).
    pub uploaded_at: DateTime<Utc>,
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// The profile (application) it belongs to.
    pub profile_id: CandidateProfileId,
    /// Everything stored about it.
    pub meta: NewAttachment,
}

/// An attachment with what a download needs to decide access and retention, read in one
/// statement.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentAccess {
    /// The attachment.
    pub attachment: Attachment,
    /// The hirer of the application.
    pub hirer_id: HirerId,
    /// When the job ad closed, if it did (attachments are kept for a while after).
    pub position_closed_at: Option<DateTime<Utc>>,
}

/// What a retention purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgedAttachments {
    /// Attachment rows deleted.
    pub rows: u64,
    /// Content hashes that no remaining row references: their blobs may be deleted.
    pub unreferenced_sha256: Vec<String>,
}

/// A lease an upload holds on a content hash from the moment its bytes are hashed until its
/// attachment row commits (or its request fails): while it is newer than the orphan grace, no
/// blob deletion deletes that content. Numbered by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobLeaseId(pub i64);

/// A candidate's questionnaire submission with the questionnaire it answers, read in one
/// statement.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionnaireSubmission {
    /// The questionnaire answered.
    pub questionnaire: Arc<Questionnaire>,
    /// The responses, in the questionnaire's component order.
    pub responses: Vec<ComponentResponse>,
}

/// What erasing a candidate did.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasedCandidate {
    /// The erased candidate (its id stays valid).
    pub candidate_id: CandidateId,
    /// How many profiles were emptied.
    pub profiles: u64,
    /// Content hashes no attachment row references any more: delete these blobs.
    pub unreferenced_blobs: Vec<String>,
}
