//! The SQL layer both backends share: statements written once with `$n` parameters (which
//! SQLite and PostgreSQL both accept), the values they bind, and the two traits a backend
//! implements to run them ([`Exec`] on its pools and transactions, [`SqlBackend`] on its
//! store). The area files of this crate implement each area trait once for every
//! `SqlBackend`; a backend supplies only what must differ (its dialect constants, locking).
//!
//! Statements are plain data ([`Stmt`]) rather than sqlx queries so that this crate needs no
//! database driver and the shared code needs none of sqlx's per-type trait bounds.

use std::borrow::Cow;
use std::future::Future;

use candex_domain::{
    AttachmentId, CandidateId, CandidateProfileId, EventType, HirerId, ObjectId, PartnerId, PositionOpeningId,
    PositionProfileId,
};
use chrono::{DateTime, Utc};

use crate::rows::Columns;
use crate::StoreResult;

/// One value bound to a statement parameter, in its stored form.
#[derive(Debug, Clone)]
pub enum Param<'a> {
    /// Text (ids, names, JSON).
    Str(&'a str),
    /// Text owned by the statement.
    String(String),
    /// Nullable text.
    OptStr(Option<&'a str>),
    /// Nullable text owned by the statement.
    OptString(Option<String>),
    /// An integer (times as unix milliseconds).
    Int(i64),
    /// A nullable integer.
    OptInt(Option<i64>),
    /// A boolean, in whatever form the backend stores booleans.
    Bool(bool),
    /// A nullable boolean.
    OptBool(Option<bool>),
    /// Binary data.
    Bytes(&'a [u8]),
    /// A list of text values for a membership test: PostgreSQL binds a `text[]` (`= any($n)`),
    /// SQLite a JSON array (`in (select value from json_each($n))`).
    Strs(Vec<&'a str>),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Str(v)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Str(v)
    }
}

impl From<String> for Param<'_> {
    fn from(v: String) -> Self {
        Param::String(v)
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::OptStr(v)
    }
}

impl<'a> From<Option<&'a String>> for Param<'a> {
    fn from(v: Option<&'a String>) -> Self {
        Param::OptStr(v.map(String::as_str))
    }
}

impl From<Option<String>> for Param<'_> {
    fn from(v: Option<String>) -> Self {
        Param::OptString(v)
    }
}

impl<'a> From<&'a ObjectId> for Param<'a> {
    fn from(v: &'a ObjectId) -> Self {
        Param::Str(v.as_str())
    }
}

impl<'a> From<Option<&'a ObjectId>> for Param<'a> {
    fn from(v: Option<&'a ObjectId>) -> Self {
        Param::OptStr(v.map(ObjectId::as_str))
    }
}

/// Typed identifiers bind as their text, alone, optional or as a list.
macro_rules! typed_id_params {
    ($($id:ty),*) => {$(
        impl<'a> From<&'a $id> for Param<'a> {
            fn from(v: &'a $id) -> Self {
                Param::Str(v.as_str())
            }
        }

        impl<'a> From<Option<&'a $id>> for Param<'a> {
            fn from(v: Option<&'a $id>) -> Self {
                Param::OptStr(v.map(|id| id.as_str()))
            }
        }

        impl<'a> From<&'a [$id]> for Param<'a> {
            fn from(v: &'a [$id]) -> Self {
                Param::Strs(v.iter().map(|id| id.as_str()).collect())
            }
        }
    )*};
}

typed_id_params!(
    HirerId,
    PartnerId,
    PositionOpeningId,
    PositionProfileId,
    CandidateId,
    CandidateProfileId,
    AttachmentId
);

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl From<u32> for Param<'_> {
    fn from(v: u32) -> Self {
        Param::Int(i64::from(v))
    }
}

impl From<u8> for Param<'_> {
    fn from(v: u8) -> Self {
        Param::Int(i64::from(v))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        Param::OptInt(v)
    }
}

impl From<bool> for Param<'_> {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}

impl From<Option<bool>> for Param<'_> {
    fn from(v: Option<bool>) -> Self {
        Param::OptBool(v)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(v: &'a [u8]) -> Self {
        Param::Bytes(v)
    }
}

/// Times are stored as unix milliseconds; domain times are already truncated to them.
impl From<DateTime<Utc>> for Param<'_> {
    fn from(v: DateTime<Utc>) -> Self {
        Param::Int(v.timestamp_millis())
    }
}

impl From<&DateTime<Utc>> for Param<'_> {
    fn from(v: &DateTime<Utc>) -> Self {
        Param::Int(v.timestamp_millis())
    }
}

impl From<Option<DateTime<Utc>>> for Param<'_> {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Param::OptInt(v.map(|t| t.timestamp_millis()))
    }
}

impl<'a> From<&'a [ObjectId]> for Param<'a> {
    fn from(v: &'a [ObjectId]) -> Self {
        Param::Strs(v.iter().map(ObjectId::as_str).collect())
    }
}

impl<'a> From<Vec<&'a str>> for Param<'a> {
    fn from(v: Vec<&'a str>) -> Self {
        Param::Strs(v)
    }
}

/// A statement and its parameters, `$1` first.
#[derive(Debug, Clone)]
pub struct Stmt<'a> {
    sql: Cow<'static, str>,
    params: Vec<Param<'a>>,
}

impl<'a> Stmt<'a> {
    /// A statement with no parameters bound yet.
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Self { sql: sql.into(), params: Vec::new() }
    }

    /// Binds the next parameter.
    #[must_use]
    pub fn bind(mut self, value: impl Into<Param<'a>>) -> Self {
        self.params.push(value.into());
        self
    }

    /// The text and the parameters, for the backend to hand to its driver.
    pub fn into_parts(self) -> (Cow<'static, str>, Vec<Param<'a>>) {
        (self.sql, self.params)
    }
}

/// `stmt!(sql, a, b)` is `Stmt::new(sql).bind(a).bind(b)`.
#[macro_export]
macro_rules! stmt {
    ($sql:expr $(, $param:expr)* $(,)?) => {
        $crate::sql::Stmt::new($sql)$(.bind($param))*
    };
}

/// Where statements run: a backend's pool (each statement on its own) or one of its
/// transactions. Errors are mapped to `StoreError` by the backend, once, here.
pub trait Exec: Send {
    /// The driver's row type.
    type Row: Send + Sync;

    /// Every row the statement returns.
    fn fetch_all<'a>(&'a mut self, stmt: Stmt<'a>) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send + 'a;

    /// The first row the statement returns, if any.
    fn fetch_optional<'a>(
        &'a mut self,
        stmt: Stmt<'a>,
    ) -> impl Future<Output = StoreResult<Option<Self::Row>>> + Send + 'a;

    /// Runs the statement; returns how many rows it changed.
    fn execute<'a>(&'a mut self, stmt: Stmt<'a>) -> impl Future<Output = StoreResult<u64>> + Send + 'a;

    /// Every row, each mapped by `map` (a `rows::…` mapper).
    fn all<'a, T: Send + 'a>(
        &'a mut self,
        stmt: Stmt<'a>,
        map: fn(&Self::Row) -> StoreResult<T>,
    ) -> impl Future<Output = StoreResult<Vec<T>>> + Send + 'a {
        async move { self.fetch_all(stmt).await?.iter().map(map).collect() }
    }

    /// The first row, if any, mapped by `map`.
    fn optional<'a, T: Send + 'a>(
        &'a mut self,
        stmt: Stmt<'a>,
        map: fn(&Self::Row) -> StoreResult<T>,
    ) -> impl Future<Output = StoreResult<Option<T>>> + Send + 'a {
        async move { self.fetch_optional(stmt).await?.as_ref().map(map).transpose() }
    }

    /// Whether the statement returns any row.
    fn exists<'a>(&'a mut self, stmt: Stmt<'a>) -> impl Future<Output = StoreResult<bool>> + Send + 'a {
        async move { Ok(self.fetch_optional(stmt).await?.is_some()) }
    }
}

/// A transaction of a backend: runs statements, then commits. Dropped without a commit, it
/// rolls back.
pub trait Transaction: Exec {
    /// Commits the transaction.
    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes `lock` for the rest of the transaction, where several instances share the
    /// database (PostgreSQL: an advisory lock). SQLite needs none: its one writer and
    /// `begin immediate` already serialise every write transaction.
    fn lock(&mut self, lock: Lock) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = lock;
        async { Ok(()) }
    }
}

/// What a write transaction may need to hold against other instances on one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// The event order: taken by every transaction that writes events, before it draws their
    /// `seq` and before any row lock, so event writers commit in `seq` order and acquire their
    /// locks in one order (no deadlock between, say, closing a job ad and applying to it).
    EventOrder,
    /// The first signing key, so instances starting together store exactly one.
    SigningKeys,
    /// Blob deletion against blob leases: held by every transaction that records a lease and
    /// by every blob deletion from its check to its commit, so no upload's claim on a content
    /// hash lands between a deletion's check and its deletion.
    Blobs,
}

/// A SQL backend as the shared area implementations see it: where reads and writes run, how
/// a write transaction starts, and (through [`Columns`]) how its rows decode.
pub trait SqlBackend: Send + Sync + 'static {
    /// How the backend's rows decode, for the shared row mappers (`rows::hirer::<B::Db>`).
    type Db: Columns;
    /// A pool handle; each statement runs on its own.
    type Pool<'p>: Exec<Row = <Self::Db as Columns>::Row>
    where
        Self: 'p;
    /// A write transaction.
    type Tx: Transaction<Row = <Self::Db as Columns>::Row> + 'static;
    /// How rows of [`point_reader`](Self::point_reader) decode.
    type PointDb: Columns;
    /// Where the request path's point reads run ([`point_reader`](Self::point_reader)).
    type PointReader<'p>: Exec<Row = <Self::PointDb as Columns>::Row>
    where
        Self: 'p;

    /// A short name of the backend for logs and `/healthz` (`sqlite`, `postgres`).
    const NAME: &'static str;

    /// Where reads run.
    fn reader(&self) -> Self::Pool<'_>;

    /// Where the reads on every request's path run: a primary-key read or a few index rows
    /// (a profile with its partner's grant, an attachment, a partner's relationships or token
    /// revocation), never a scan. SQLite runs them on the calling thread (no hand-off to a
    /// connection's worker thread, which cost more than the read itself); PostgreSQL on
    /// [`reader`](Self::reader).
    fn point_reader(&self) -> Self::PointReader<'_>;

    /// Where single-statement writes run.
    fn writer(&self) -> Self::Pool<'_>;

    /// The occupancy of the backend's connection pools ([`Store::pool_stats`](crate::Store::pool_stats)).
    fn pool_stats(&self) -> Vec<crate::PoolStats>;

    /// The collation that orders text as bytes, after a column (` collate "C"` on PostgreSQL,
    /// whose default collation is the locale's; empty on SQLite, whose default is binary), so
    /// keyset pages and lists order alike on every backend.
    const BINARY: &'static str;

    /// A subquery over the values of a list parameter ([`Param::Strs`]) for `x in (…)`.
    fn list(param: &str) -> String;

    /// An aggregate joining the text values of `column` with commas.
    fn join_commas(column: &str) -> String;

    /// A literal substring test (`%` and `_` match only themselves).
    fn contains(haystack: &str, needle: &str) -> String;

    /// Writes an event inside its cause's transaction (the outbox): the event, its place in
    /// each entitled partner's stream (the partners holding one of the type's relationships
    /// with the hirer, plus [`Outbox::past_recipients_of`]'s, or `only_partner`), and a pending
    /// delivery for each matching subscription.
    /// Returns the event's `seq`.
    fn emit<'a>(tx: &'a mut Self::Tx, event: Outbox<'a>) -> impl Future<Output = StoreResult<i64>> + Send + 'a;

    /// Starts a write transaction. SQLite takes its write lock up front (`begin immediate`),
    /// so checks made inside cannot be invalidated before the writes; PostgreSQL starts an
    /// ordinary transaction and locks rows (or the event order) where a use case needs it.
    fn begin(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;

    /// Called after a transaction that erased personal data committed: makes the values it
    /// deleted or overwrote unrecoverable from the database's own files, as far as the backend
    /// can at once. SQLite checkpoints the WAL into the database file (where `secure_delete` has
    /// zeroed them) and truncates the WAL; PostgreSQL can do nothing cheap here: the old row
    /// versions stay in the table files until [`compact`](Self::compact).
    fn scrub(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Rewrites the tables that hold personal data, so that no erased value stays in the
    /// database's files (`candex admin purge --compact`). PostgreSQL: `VACUUM FULL`, which
    /// locks each table while it runs; SQLite: `VACUUM`, then [`scrub`](Self::scrub).
    fn compact(&self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The tables that hold a candidate's personal data, for [`SqlBackend::compact`].
pub const PERSONAL_DATA_TABLES: [&str; 5] =
    ["candidates", "profiles", "questionnaire_submissions", "process_history_items", "attachments"];

/// The rows of backend `B`.
pub type Row<B> = <<B as SqlBackend>::Db as Columns>::Row;

/// An event to write inside its cause's transaction ([`SqlBackend::emit`]).
#[derive(Debug, Clone, Copy)]
pub struct Outbox<'a> {
    /// The event's id.
    pub id: &'a ObjectId,
    /// What happened.
    pub event_type: EventType,
    /// The hirer it happened to.
    pub hirer_id: &'a HirerId,
    /// When.
    pub at: DateTime<Utc>,
    /// The profile it concerns, if any.
    pub candidate_profile_id: Option<&'a CandidateProfileId>,
    /// The candidate it concerns, if any.
    pub candidate_id: Option<&'a CandidateId>,
    /// The job ad it concerns, if any.
    pub position_profile_id: Option<&'a PositionProfileId>,
    /// The one partner whose stream gets it; `None` for every partner entitled by the event
    /// type's relationships.
    pub only_partner: Option<&'a PartnerId>,
}

impl<'a> Outbox<'a> {
    /// The candidate whose earlier `CandidateApplicationCreated` events also put partners in
    /// this event's audience: for `CandidateErased`, every partner that was sent one of the
    /// candidate's applications hears of the erasure, whatever relationship it holds now.
    /// `None` for every other type.
    pub fn past_recipients_of(&self) -> Option<&'a CandidateId> {
        (self.event_type == EventType::CandidateErased).then_some(self.candidate_id).flatten()
    }
}

/// A structured value as stored: JSON text (on PostgreSQL too: `jsonb` would reorder keys and
/// so store something other than what SQLite stores).
pub fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| crate::StoreError::Other(Box::new(e)))
}
