//! Decoding stored rows into records, shared by every SQL backend.
//!
//! A backend implements [`Columns`] (typed column access on its driver's row type, with its own
//! error mapping); the mappers here, generic over it, then read the columns its statements
//! select. The column lists are exported macros (`candidate_columns!`, `position_columns!`, …)
//! rather than consts so that `concat!` builds whole statements at compile time, and so that
//! every backend selects exactly the aliases the mappers read. Values are stored alike on every backend:
//! times as unix milliseconds, structured values as JSON text, ids as text.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use candex_domain::questionnaire::Questionnaire;
use candex_domain::{
    DeliveryCode, EventType, Identifier, ObjectId, RelationshipSet, RelationshipType, SigningAlgorithm,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::{
    ApplicationSummary, Attachment, Candidate, Event, Hirer, NewAttachment, Partner, PartnerCredentials, PartnerGrant,
    Position, PositionStatus, ProfileView, RelatedHirer, Replay, ReplayRequest, SecretKind, SigningKey, StoreError,
    StoreResult, StoredSecret, WebhookAttemptRecord, WebhookRequestRecord, WebhookSubscription,
};

// --- decoding -------------------------------------------------------------------------------

/// A stored value that does not decode: a bug or a hand-edited database.
#[derive(Debug, thiserror::Error)]
#[error("stored {what} does not decode: {detail}")]
pub struct CorruptValue {
    what: &'static str,
    detail: String,
}

/// `StoreError::Other` for a stored value that does not decode.
pub fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Other(Box::new(CorruptValue { what, detail: detail.to_string() }))
}

/// A stored time (unix milliseconds) read back.
pub fn time(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt("timestamp", ms))
}

/// A stored JSON value read back.
pub fn from_json<T: DeserializeOwned>(what: &'static str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// How a backend reads typed columns from its driver's row type, mapping the driver's errors.
/// Implemented by a marker type of the backend rather than by the row type: the row type and
/// this trait are both foreign to the backend crate, which the orphan rule does not allow.
pub trait Columns {
    /// The driver's row type.
    type Row: Send + Sync;
    /// A text column.
    fn text(row: &Self::Row, column: &str) -> StoreResult<String>;
    /// A nullable text column.
    fn opt_text(row: &Self::Row, column: &str) -> StoreResult<Option<String>>;
    /// An integer column.
    fn int(row: &Self::Row, column: &str) -> StoreResult<i64>;
    /// A nullable integer column.
    fn opt_int(row: &Self::Row, column: &str) -> StoreResult<Option<i64>>;
    /// A nullable boolean column, in whatever form the backend stores booleans.
    fn opt_bool(row: &Self::Row, column: &str) -> StoreResult<Option<bool>>;
    /// A binary column.
    fn bytes(row: &Self::Row, column: &str) -> StoreResult<Vec<u8>>;
}

/// A row of backend `B` with typed column access that decodes the stored forms, so row
/// mappers read as plain field lists.
pub struct StoredRow<'r, B: Columns>(&'r B::Row);

impl<B: Columns> Clone for StoredRow<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Columns> Copy for StoredRow<'_, B> {}

impl<'r, B: Columns> StoredRow<'r, B> {
    /// Wraps one of the backend's rows.
    pub fn new(row: &'r B::Row) -> Self {
        Self(row)
    }
    /// A text column.
    pub fn text(self, column: &str) -> StoreResult<String> {
        B::text(self.0, column)
    }
    /// A nullable text column.
    pub fn opt_text(self, column: &str) -> StoreResult<Option<String>> {
        B::opt_text(self.0, column)
    }
    /// An integer column.
    pub fn int(self, column: &str) -> StoreResult<i64> {
        B::int(self.0, column)
    }
    /// A nullable integer column.
    pub fn opt_int(self, column: &str) -> StoreResult<Option<i64>> {
        B::opt_int(self.0, column)
    }
    /// A nullable boolean column.
    pub fn opt_bool(self, column: &str) -> StoreResult<Option<bool>> {
        B::opt_bool(self.0, column)
    }
    /// A binary column.
    pub fn bytes(self, column: &str) -> StoreResult<Vec<u8>> {
        B::bytes(self.0, column)
    }
    /// An id column, as the identifier type the caller expects (plain or typed).
    pub fn id<I: Identifier>(self, column: &str) -> StoreResult<I> {
        self.text(column).map(I::from_trusted)
    }
    /// A nullable id column.
    pub fn opt_id<I: Identifier>(self, column: &str) -> StoreResult<Option<I>> {
        Ok(self.opt_text(column)?.map(I::from_trusted))
    }
    /// A time column.
    pub fn time(self, column: &str) -> StoreResult<DateTime<Utc>> {
        time(self.int(column)?)
    }
    /// A nullable time column.
    pub fn opt_time(self, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.opt_int(column)?.map(time).transpose()
    }
    /// A JSON column.
    pub fn json<T: DeserializeOwned>(self, column: &'static str) -> StoreResult<T> {
        from_json(column, &self.text(column)?)
    }
}

// --- hirers and partners --------------------------------------------------------------------

/// A hirer from `id, name, created_at`.
pub fn hirer<B: Columns>(row: &B::Row) -> StoreResult<Hirer> {
    let row = StoredRow::<B>::new(row);
    Ok(Hirer { id: row.id("id")?, name: row.text("name")?, created_at: row.time("created_at")? })
}

/// A partner from `id, name, client_id, created_at`.
pub fn partner<B: Columns>(row: &B::Row) -> StoreResult<Partner> {
    let row = StoredRow::<B>::new(row);
    Ok(Partner {
        id: row.id("id")?,
        name: row.text("name")?,
        client_id: row.text("client_id")?,
        created_at: row.time("created_at")?,
    })
}

/// A partner's columns and its `client_secret_hash`.
pub fn partner_credentials<B: Columns>(row: &B::Row) -> StoreResult<PartnerCredentials> {
    let row = StoredRow::<B>::new(row);
    Ok(PartnerCredentials {
        partner: partner::<B>(row.0)?,
        client_secret_hash: row.text("client_secret_hash")?,
        previous_client_secret_hash: row.opt_text("previous_client_secret_hash")?,
    })
}

/// Parses a comma-separated list of stored type codes, as `group_concat` (SQLite) and
/// `string_agg(…, ',')` (PostgreSQL) return it.
pub fn relationship_set(codes: &str) -> RelationshipSet {
    codes.split(',').filter_map(RelationshipType::parse).collect()
}

/// A hirer's columns and its relationships aggregated as `type_codes`.
pub fn related_hirer<B: Columns>(row: &B::Row) -> StoreResult<RelatedHirer> {
    let row = StoredRow::<B>::new(row);
    Ok(RelatedHirer { hirer: hirer::<B>(row.0)?, relationships: relationship_set(&row.text("type_codes")?) })
}

// --- job ads --------------------------------------------------------------------------------

/// The columns [`position`] reads, from `positions pos join hirers h`.
#[macro_export]
macro_rules! position_columns {
    () => {
        "pos.profile_id as pos_profile_id, pos.opening_id as pos_opening_id, \
         pos.hirer_id as pos_hirer_id, h.name as pos_hirer_name, pos.title as pos_title, \
         pos.position_uri as pos_position_uri, \
         pos.seek_hirer_job_reference as pos_seek_hirer_job_reference, pos.details as pos_details, \
         pos.location_id as pos_location_id, pos.job_category_id as pos_job_category_id, \
         pos.status as pos_status, pos.created_at as pos_created_at, pos.closed_at as pos_closed_at, \
         pos.questionnaire as pos_questionnaire"
    };
}

/// Maps the columns of [`position_columns!`].
pub fn position<B: Columns>(row: &B::Row) -> StoreResult<Position> {
    let row = StoredRow::<B>::new(row);
    Ok(Position {
        profile_id: row.id("pos_profile_id")?,
        opening_id: row.id("pos_opening_id")?,
        hirer_id: row.id("pos_hirer_id")?,
        hirer_name: row.text("pos_hirer_name")?,
        title: row.text("pos_title")?,
        position_uri: row.text("pos_position_uri")?,
        seek_hirer_job_reference: row.opt_text("pos_seek_hirer_job_reference")?,
        details: row.json("pos_details")?,
        location_id: row.opt_id("pos_location_id")?,
        job_category_id: row.opt_id("pos_job_category_id")?,
        status: PositionStatus::from_code(&row.text("pos_status")?),
        created_at: row.time("pos_created_at")?,
        closed_at: row.opt_time("pos_closed_at")?,
        questionnaire: row
            .opt_text("pos_questionnaire")?
            .map(|text| from_json::<Questionnaire>("pos_questionnaire", &text).map(Arc::new))
            .transpose()?,
    })
}

/// The `questionnaire` column of a submission's job ad, which must be set.
pub fn submission_questionnaire<B: Columns>(row: &B::Row) -> StoreResult<Questionnaire> {
    let row = StoredRow::<B>::new(row);
    let text = row
        .opt_text("questionnaire")?
        .ok_or_else(|| corrupt("questionnaire", "a submission's job ad has no questionnaire"))?;
    from_json("questionnaire", &text)
}

// --- applications ---------------------------------------------------------------------------

/// The columns [`candidate`] reads, from `candidates c`.
#[macro_export]
macro_rules! candidate_columns {
    () => {
        "c.id as c_id, c.hirer_id as c_hirer_id, c.person as c_person, \
         c.created_at as c_created_at, c.updated_at as c_updated_at"
    };
}

/// Everything a `ProfileView` needs ([`ViewBuilder::view`]), from one row of profiles,
/// candidates, positions and hirers; the argument is the statement's `where` (and order) text.
#[macro_export]
macro_rules! profile_select {
    ($where_order:literal) => {
        $crate::profile_select!(columns: "", $where_order)
    };
    // `columns` adds columns (each starting with ", ") for the backend's own use.
    (columns: $columns:literal, $where_order:literal) => {
        concat!(
            "select p.profile_id, p.created_at, p.updated_at, p.snapshot, p.candidate_sources",
            $columns,
            ", ",
            $crate::candidate_columns!(),
            ", ",
            $crate::position_columns!(),
            " from profiles p
              join candidates c on c.id = p.candidate_id
              join positions pos on pos.profile_id = p.position_profile_id
              join hirers h on h.id = pos.hirer_id ",
            $where_order
        )
    };
}

/// A view (as [`ViewBuilder::view`]) with the relationships aggregated as `rel_codes` by
/// the backend's `get_profile_for_partner` statement (null when there are none).
pub fn view_with_relationships<B: Columns>(row: &B::Row) -> StoreResult<(ProfileView, PartnerGrant)> {
    Ok((ViewBuilder::default().view::<B>(row)?, partner_grant::<B>(row)?))
}

/// A partner's grant from a row with `rel_codes` (the relationship codes it holds with a
/// hirer, joined by commas; null when none) and its `tokens_not_before`.
pub fn partner_grant<B: Columns>(row: &B::Row) -> StoreResult<PartnerGrant> {
    let stored = StoredRow::<B>::new(row);
    let codes = stored.opt_text("rel_codes")?.unwrap_or_default();
    let tokens_not_before = stored.opt_time("tokens_not_before")?;
    Ok(PartnerGrant { relationships: relationship_set(&codes), tokens_not_before })
}

/// Maps the columns of [`candidate_columns!`].
pub fn candidate<B: Columns>(row: &B::Row) -> StoreResult<Candidate> {
    let row = StoredRow::<B>::new(row);
    Ok(Candidate {
        id: row.id("c_id")?,
        hirer_id: row.id("c_hirer_id")?,
        person: row.json("c_person")?,
        created_at: row.time("c_created_at")?,
        updated_at: row.time("c_updated_at")?,
    })
}

/// Builds views (from rows of [`profile_select!`]) that share one `Arc` per candidate and per
/// job ad, however many profiles refer to them.
#[derive(Default)]
pub struct ViewBuilder {
    candidates: HashMap<ObjectId, Arc<Candidate>>,
    positions: HashMap<ObjectId, Arc<Position>>,
}

impl ViewBuilder {
    /// The view of one row.
    pub fn view<B: Columns>(&mut self, row: &B::Row) -> StoreResult<ProfileView> {
        let (raw, row) = (row, StoredRow::<B>::new(row));
        let candidate = match self.candidates.entry(row.id("c_id")?) {
            Entry::Occupied(e) => Arc::clone(e.get()),
            Entry::Vacant(e) => Arc::clone(e.insert(Arc::new(candidate::<B>(raw)?))),
        };
        let position = match self.positions.entry(row.id("pos_profile_id")?) {
            Entry::Occupied(e) => Arc::clone(e.get()),
            Entry::Vacant(e) => Arc::clone(e.insert(Arc::new(position::<B>(raw)?))),
        };
        Ok(ProfileView {
            profile_id: row.id("profile_id")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            snapshot: Arc::new(row.json("snapshot")?),
            candidate_sources: row.json("candidate_sources")?,
            candidate,
            position,
        })
    }
}

/// An application of a job ad's page, from `seq, profile_id, candidate_id, created_at` and the
/// candidate's `formatted_name`.
pub fn application_summary<B: Columns>(row: &B::Row) -> StoreResult<ApplicationSummary> {
    let row = StoredRow::<B>::new(row);
    Ok(ApplicationSummary {
        seq: row.int("seq")?,
        profile_id: row.id("profile_id")?,
        candidate_id: row.id("candidate_id")?,
        formatted_name: row.text("formatted_name")?,
        created_at: row.time("created_at")?,
    })
}

// --- attachments ----------------------------------------------------------------------------

/// The columns [`attachment`] reads, from `attachments a`.
#[macro_export]
macro_rules! attachment_columns {
    () => {
        "a.id, a.profile_id, a.sha256, a.filename, a.content_type, a.size, a.seek_role_code, \
         a.descriptions, a.uploaded_at"
    };
}

/// Maps the columns of [`attachment_columns!`].
pub fn attachment<B: Columns>(row: &B::Row) -> StoreResult<Attachment> {
    let row = StoredRow::<B>::new(row);
    let size = row.int("size")?;
    Ok(Attachment {
        profile_id: row.id("profile_id")?,
        meta: NewAttachment {
            id: row.id("id")?,
            sha256: row.text("sha256")?,
            filename: row.text("filename")?,
            content_type: row.text("content_type")?,
            size: u64::try_from(size).map_err(|_| corrupt("attachment size", size))?,
            seek_role_code: row.opt_text("seek_role_code")?,
            descriptions: row.json("descriptions")?,
            uploaded_at: row.time("uploaded_at")?,
        },
    })
}

// --- signing keys ---------------------------------------------------------------------------

/// The columns [`signing_key`] reads.
pub const SIGNING_KEY_COLUMNS: &str = "kid, algorithm, secret, created_at, superseded_at, retire_at, retired_at";

/// A signing key from [`SIGNING_KEY_COLUMNS`].
pub fn signing_key<B: Columns>(row: &B::Row) -> StoreResult<SigningKey> {
    let row = StoredRow::<B>::new(row);
    Ok(SigningKey {
        kid: row.text("kid")?,
        algorithm: row.text("algorithm")?,
        secret: row.bytes("secret")?,
        created_at: row.time("created_at")?,
        superseded_at: row.opt_time("superseded_at")?,
        retire_at: row.opt_time("retire_at")?,
        retired_at: row.opt_time("retired_at")?,
    })
}

/// A signing key's stored secret from `kid, secret`.
pub fn signing_key_secret<B: Columns>(row: &B::Row) -> StoreResult<StoredSecret> {
    let row = StoredRow::<B>::new(row);
    Ok(StoredSecret { kind: SecretKind::SigningKey, row: row.text("kid")?, value: row.bytes("secret")? })
}

/// A webhook subscription's stored secret from `id, secret`.
pub fn webhook_secret<B: Columns>(row: &B::Row) -> StoreResult<StoredSecret> {
    let row = StoredRow::<B>::new(row);
    Ok(StoredSecret { kind: SecretKind::WebhookSecret, row: row.text("id")?, value: row.text("secret")?.into_bytes() })
}

// --- events and webhooks --------------------------------------------------------------------

/// The columns [`event`] reads, from `events e`.
#[macro_export]
macro_rules! event_columns {
    () => {
        "e.seq as e_seq, e.id as e_id, e.type_code as e_type_code, e.hirer_id as e_hirer_id, \
         e.created_at as e_created_at, e.candidate_profile_id as e_candidate_profile_id, \
         e.candidate_id as e_candidate_id, e.position_profile_id as e_position_profile_id"
    };
}

/// Maps the columns of [`event_columns!`].
pub fn event<B: Columns>(row: &B::Row) -> StoreResult<Event> {
    let row = StoredRow::<B>::new(row);
    let code = row.text("e_type_code")?;
    Ok(Event {
        seq: row.int("e_seq")?,
        id: row.id("e_id")?,
        event_type: EventType::parse(&code).ok_or_else(|| corrupt("event type", code))?,
        hirer_id: row.id("e_hirer_id")?,
        created_at: row.time("e_created_at")?,
        candidate_profile_id: row.opt_id("e_candidate_profile_id")?,
        candidate_id: row.opt_id("e_candidate_id")?,
        position_profile_id: row.opt_id("e_position_profile_id")?,
    })
}

/// The columns [`subscription`] reads, from `webhook_subscriptions s`.
#[macro_export]
macro_rules! subscription_columns {
    () => {
        "s.seq as s_seq, s.id as s_id, s.partner_id as s_partner_id, s.scheme_id as s_scheme_id, \
         s.event_type_code as s_event_type_code, s.url as s_url, s.hirer_id as s_hirer_id, \
         s.max_events_per_attempt as s_max_events, s.signing_algorithm as s_signing_algorithm, \
         s.created_at as s_created_at, s.updated_at as s_updated_at"
    };
}

/// Maps the columns of [`subscription_columns!`].
pub fn subscription<B: Columns>(row: &B::Row) -> StoreResult<WebhookSubscription> {
    let row = StoredRow::<B>::new(row);
    let event_type = row.text("s_event_type_code")?;
    let signing = row.text("s_signing_algorithm")?;
    Ok(WebhookSubscription {
        seq: row.int("s_seq")?,
        id: row.id("s_id")?,
        partner_id: row.id("s_partner_id")?,
        scheme_id: row.text("s_scheme_id")?,
        event_type: EventType::parse(&event_type).ok_or_else(|| corrupt("event type", event_type))?,
        url: row.text("s_url")?,
        hirer_id: row.opt_id("s_hirer_id")?,
        max_events_per_attempt: u8::try_from(row.int("s_max_events")?).map_err(|e| corrupt("max events", e))?,
        signing_algorithm: SigningAlgorithm::parse(&signing).ok_or_else(|| corrupt("signing algorithm", signing))?,
        created_at: row.time("s_created_at")?,
        updated_at: row.time("s_updated_at")?,
    })
}

/// The columns [`webhook_request`] reads, from `webhook_requests r`.
#[macro_export]
macro_rules! request_columns {
    () => {
        "r.seq as r_seq, r.request_id as r_request_id, r.partner_id as r_partner_id, \
         r.subscription_id as r_subscription_id, r.url as r_url, r.status_code as r_status_code, \
         r.description_code as r_description_code, r.latency_ms as r_latency_ms, r.created_at as r_created_at"
    };
}

/// Maps the columns of [`request_columns!`].
pub fn webhook_request<B: Columns>(row: &B::Row) -> StoreResult<WebhookRequestRecord> {
    let row = StoredRow::<B>::new(row);
    let code = row.text("r_description_code")?;
    let latency = row.opt_int("r_latency_ms")?;
    Ok(WebhookRequestRecord {
        seq: row.int("r_seq")?,
        request_id: row.text("r_request_id")?,
        partner_id: row.id("r_partner_id")?,
        subscription_id: row.id("r_subscription_id")?,
        url: row.text("r_url")?,
        status_code: u16::try_from(row.int("r_status_code")?).map_err(|e| corrupt("status code", e))?,
        code: DeliveryCode::parse(&code).ok_or_else(|| corrupt("description code", code))?,
        latency_ms: latency.map(|l| u32::try_from(l).unwrap_or(u32::MAX)),
        created_at: row.time("r_created_at")?,
    })
}

/// An attempt from `a_seq, a_id` with the columns of [`event_columns!`] and
/// [`request_columns!`].
pub fn webhook_attempt<B: Columns>(row: &B::Row) -> StoreResult<WebhookAttemptRecord> {
    let row = StoredRow::<B>::new(row);
    Ok(WebhookAttemptRecord {
        seq: row.int("a_seq")?,
        id: row.id("a_id")?,
        event: event::<B>(row.0)?,
        request: webhook_request::<B>(row.0)?,
    })
}

/// The columns [`replay`] reads, from `webhook_replays`.
pub const REPLAY_COLUMNS: &str = "seq, id, subscription_id, event_ids, after_at, before_at, hirer_id, \
                                  replay_delivered, status_code, queued, created_at, updated_at";

/// Maps the columns of [`REPLAY_COLUMNS`]. `event_ids` is the decoded `event_ids` column (the
/// events of a replay by id, `None` for one by range), which each backend stores in its own
/// form.
pub fn replay<B: Columns>(row: &B::Row, event_ids: Option<Vec<String>>) -> StoreResult<Replay> {
    let row = StoredRow::<B>::new(row);
    let request = match event_ids {
        Some(ids) => ReplayRequest::ById(ids.into_iter().map(ObjectId::from_trusted).collect()),
        None => ReplayRequest::ByRange {
            after: time(row.opt_int("after_at")?.ok_or_else(|| corrupt("replay", "no window"))?)?,
            before: time(row.opt_int("before_at")?.ok_or_else(|| corrupt("replay", "no window"))?)?,
            hirer_id: row.opt_id("hirer_id")?,
            replay_delivered: row.opt_bool("replay_delivered")?.unwrap_or(false),
        },
    };
    Ok(Replay {
        seq: row.int("seq")?,
        id: row.id("id")?,
        subscription_id: row.id("subscription_id")?,
        request,
        status: row.text("status_code")?,
        queued: u64::try_from(row.int("queued")?).unwrap_or_default(),
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}
