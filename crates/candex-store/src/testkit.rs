//! The conformance kit every backend runs against itself (feature `testkit`).
//!
//! Each story is a public `async fn(&dyn Store)` that creates its own uniquely named data
//! (random ids, names carrying a random tag), so stories can run one by one on fresh
//! databases or all together on one shared database through [`run_all`]. Stories panic with
//! a message naming what went wrong, like any test. A backend runs them all with
//! [`conformance_tests!`](crate::conformance_tests).

mod applications;
mod attachments;
mod erasure;
mod events;
mod keys;
mod parties;
mod positions;
mod process_history;
mod questionnaires;

use candex_domain::person::{Communication, Email, PersonName};
use candex_domain::position::{NamedPlace, PositionDetails};
use candex_domain::snapshot::{
    CandidateSource, Certification, EducationAttendance, EducationDegree, EffectiveTimePeriod, EmployerHistory,
    Organization, PersonCompetency, PositionHistory,
};
use candex_domain::{HirerId, HistoryDate, IdKind, Identifier, ObjectId, Person, Scheme, Snapshot};
use chrono::{DateTime, Utc};

use crate::{Hirer, NewApplicationRecord, NewHirer, NewPartner, NewPosition, Partner, Position, Store, StoreError};

/// The stories, each after the module that holds it, in the order [`run_all`] runs them: the
/// one list the re-exports below, [`run_all`] and [`conformance_tests!`](crate::conformance_tests)
/// are generated from. A story left out of it is never re-exported, so the build warns that it
/// is unused.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_stories {
    (@with [reexport] $($module:ident::$story:ident),* $(,)?) => {
        $(pub use $module::$story;)*
    };
    (@with [run_all $store:expr] $($module:ident::$story:ident),* $(,)?) => {
        $($crate::testkit::$story($store).await;)*
    };
    (@with [tests $fresh:expr] $($module:ident::$story:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $story() {
                let Some(fresh) = ($fresh)().await else { return };
                $crate::testkit::$story($crate::testkit::FreshStore::store(&fresh)).await;
                $crate::testkit::FreshStore::finish(fresh).await;
            }
        )*

        #[tokio::test]
        async fn every_story_runs_twice_on_one_shared_database() {
            let Some(fresh) = ($fresh)().await else { return };
            $crate::testkit::run_all($crate::testkit::FreshStore::store(&fresh)).await;
            $crate::testkit::run_all($crate::testkit::FreshStore::store(&fresh)).await;
            $crate::testkit::FreshStore::finish(fresh).await;
        }
    };
    ($($mode:tt)*) => {
        $crate::__conformance_stories! {
            @with [$($mode)*]
            parties::hirers_round_trip_and_list,
            parties::partners_round_trip_and_credentials,
            parties::client_secret_rotation_and_token_revocation,
            parties::relationships_set_replace_and_revoke,
            parties::related_hirers_page_forward_and_backward,
            parties::related_hirers_filters_and_name_search,
            positions::positions_lifecycle,
            positions::public_url_is_recorded_and_replaced,
            applications::ingest_matches_candidates_per_hirer,
            applications::ingest_is_all_or_nothing,
            applications::get_profile_returns_what_was_ingested,
            applications::candidate_profiles_order_and_limit,
            applications::update_candidate_person_rules,
            applications::position_applications_paging,
            keys::signing_key_insert_if_absent,
            keys::signing_key_rotation_supersedes_and_retires,
            keys::stored_secrets_replace_only_unchanged_values,
            keys::timestamps_round_trip_exactly,
            questionnaires::questionnaire_position_round_trip,
            questionnaires::questionnaire_submission_round_trip,
            attachments::attachments_stored_with_their_application,
            attachments::attachment_retention_purge,
            attachments::blob_leases_guard_deletion,
            erasure::erasure_redacts_everything_personal,
            events::events_enter_the_streams_of_entitled_partners,
            events::event_paging_and_filters,
            events::webhook_subscriptions_lifecycle,
            events::delivery_claims_batches_leases_and_backoff,
            events::replays_requeue_and_are_recorded,
            events::event_retention_purge,
            process_history::process_history_lifecycle,
            process_history::erasure_deletes_process_history,
            events::erasure_reaches_partners_sent_or_entitled,
            events::event_stream_head_and_pool_stats,
        }
    };
}

crate::__conformance_stories!(reexport);

/// Runs every story in turn on one store; they do not interfere with each other.
pub async fn run_all(store: &dyn Store) {
    store.ping().await.expect("ping");
    crate::__conformance_stories!(run_all store);
}

/// A backend's fresh store for one test of [`conformance_tests!`](crate::conformance_tests):
/// the store, and whatever must live as long as it (a temporary directory, a scratch database).
pub trait FreshStore: Sized {
    /// The store the stories run on.
    fn store(&self) -> &dyn Store;

    /// Runs after the stories passed, before `self` is dropped (closing pools, say); nothing
    /// by default.
    fn finish(self) -> impl std::future::Future<Output = ()> {
        async {}
    }
}

/// Generates a backend's conformance tests: one `#[tokio::test]` per story, named after it,
/// and `every_story_runs_twice_on_one_shared_database` running [`run_all`] twice on one store.
///
/// The argument is an async function (or closure) without arguments giving an
/// `Option<impl FreshStore>`: a fresh store per test, or `None` to pass without running
/// (PostgreSQL when no server is configured). The calling crate needs `tokio` (with the `macros`
/// and `rt` features) among its dev-dependencies.
///
/// ```ignore
/// candex_store::conformance_tests!(TestDb::fresh);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr $(,)?) => {
        $crate::__conformance_stories!(tests $fresh);
    };
}

/// Mints a fresh identifier of `kind`, as the plain or typed identifier the caller expects.
///
/// # Panics
/// When the caller expects a typed identifier of another kind.
pub fn new_id<I: Identifier>(kind: IdKind) -> I {
    I::mint_kind(&Scheme::default(), kind, &mut rand::thread_rng())
}

/// A short random tag that makes names unique to one story run.
pub fn tag() -> String {
    new_id::<ObjectId>(IdKind::Partner).value_segment().chars().take(10).collect()
}

/// The time `ms` milliseconds after the unix epoch (negative is before).
pub fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("time in range")
}

/// A time with a non-zero millisecond part: 2019-09-13T22:16:10.593Z plus `offset_ms`.
pub fn t(offset_ms: i64) -> DateTime<Utc> {
    at(1_568_412_970_593 + offset_ms)
}

/// Person data with one email, a phone and an address.
pub fn person(formatted_name: &str, email: &str) -> Person {
    Person {
        name: PersonName {
            given: formatted_name.split(' ').next().map(str::to_owned),
            family: formatted_name.split(' ').nth(1).map(str::to_owned),
            formatted_name: formatted_name.to_owned(),
        },
        communication: Communication {
            email: vec![Email { address: email.to_owned() }],
            phone: vec![candex_domain::person::Phone { formatted_number: "+61 400 000 000".to_owned() }],
            address: vec![candex_domain::person::Address {
                city: Some("Melbourne".to_owned()),
                country_code: Some("AU".to_owned()),
                ..Default::default()
            }],
            seek_do_not_contact_indicator: Some(false),
        },
    }
}

fn date(value: &str) -> HistoryDate {
    HistoryDate::parse(value).expect("valid history date")
}

/// A snapshot with several entries of every kind, labelled with `label`.
pub fn rich_snapshot(label: &str) -> Snapshot {
    let job = |title: &str, start: &str, end: Option<&str>| PositionHistory {
        title: format!("{title} ({label})"),
        start: date(start),
        end: end.map(date),
        current: Some(end.is_none()),
        descriptions: vec![format!("did {title} things")],
    };
    Snapshot {
        employment: vec![
            EmployerHistory {
                organization: Organization { name: format!("Swift Inc {label}") },
                position_histories: vec![job("Rep", "2015-05", Some("2018-03")), job("Lead", "2018-03", None)],
            },
            EmployerHistory {
                organization: Organization { name: "Acme".to_owned() },
                position_histories: vec![job("Intern", "2014", Some("2014-12-24"))],
            },
        ],
        education: vec![
            EducationAttendance {
                institution: Organization { name: "Uni of Melbourne".to_owned() },
                education_degrees: vec![EducationDegree {
                    name: "BSc".to_owned(),
                    degree_granted_status: "Granted".to_owned(),
                    date: Some(date("2014-11")),
                }],
                descriptions: vec![],
            },
            EducationAttendance {
                institution: Organization { name: "RMIT".to_owned() },
                education_degrees: vec![],
                descriptions: vec!["evening classes".to_owned()],
            },
        ],
        certifications: vec![Certification {
            name: "RSA".to_owned(),
            issued: Some(date("2016")),
            effective_time_period: Some(EffectiveTimePeriod { valid_to: Some(date("2026-01-31")) }),
            issuing_authority: Some(Organization { name: "Liquor VIC".to_owned() }),
            descriptions: vec![],
        }],
        qualifications: vec![
            PersonCompetency { competency_name: "Rust".to_owned() },
            PersonCompetency { competency_name: "SQL".to_owned() },
        ],
    }
}

/// The default sources of an application.
pub fn seek_sources() -> Vec<CandidateSource> {
    vec![CandidateSource { name: "SEEK".to_owned(), kind: "SeekApplication".to_owned() }]
}

/// Creates a hirer named `name`.
pub async fn hirer(store: &dyn Store, name: &str) -> Hirer {
    let new = NewHirer { id: new_id(IdKind::Organization), name: name.to_owned(), created_at: t(0) };
    store.create_hirer(new).await.expect("create hirer")
}

/// Creates a partner named `name` with a unique client id.
pub async fn partner(store: &dyn Store, name: &str) -> Partner {
    let new = NewPartner {
        id: new_id(IdKind::Partner),
        name: name.to_owned(),
        client_id: format!("client-{}", tag()),
        client_secret_hash: "ab".repeat(32),
        created_at: t(0),
    };
    store.create_partner(new).await.expect("create partner")
}

/// A job ad to create for `hirer_id`, with every optional field set.
pub fn new_position(hirer_id: &HirerId, title: &str, created_at: DateTime<Utc>) -> NewPosition {
    NewPosition {
        profile_id: new_id(IdKind::PositionProfile),
        opening_id: new_id(IdKind::PositionOpening),
        hirer_id: hirer_id.clone(),
        title: title.to_owned(),
        position_uri: format!("https://jobs.example/{}", tag()),
        seek_hirer_job_reference: Some(format!("REF-{}", tag())),
        details: PositionDetails {
            location: Some(NamedPlace { name: "Melbourne VIC 3000".to_owned(), country_code: "AU".to_owned() }),
            job_category_name: Some("Information & Communication Technology".to_owned()),
            work_type_code: Some("FullTime".to_owned()),
            advertisement_details: Some("<p>We are hiring</p>".to_owned()),
        },
        location_id: Some(new_id(IdKind::Location)),
        job_category_id: Some(new_id(IdKind::JobCategory)),
        created_at,
        questionnaire: None,
        event_id: new_id(IdKind::Event),
    }
}

/// Creates an open job ad for `hirer_id`.
pub async fn open_position(store: &dyn Store, hirer_id: &HirerId, title: &str) -> Position {
    store.create_position(new_position(hirer_id, title, t(0))).await.expect("create position")
}

/// An application of `person` to `position` at `created_at`, with fresh ids.
pub fn application(position: &Position, person: Person, created_at: DateTime<Utc>) -> NewApplicationRecord {
    NewApplicationRecord {
        profile_id: new_id(IdKind::CandidateProfile),
        candidate_id: new_id(IdKind::Candidate),
        position_profile_id: position.profile_id.clone(),
        snapshot: rich_snapshot(&person.name.formatted_name),
        person,
        candidate_sources: seek_sources(),
        created_at,
        questionnaire_responses: None,
        attachments: Vec::new(),
        event: stamp(),
    }
}

/// A fresh stamp for the event a write emits.
pub fn stamp() -> crate::EventStamp {
    crate::EventStamp { id: new_id(IdKind::Event), at: candex_domain::time::now_ms() }
}

/// Panics unless `result` is `NotFound(what)`.
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound(w)) if w == what => {}
        other => panic!("expected NotFound({what:?}), got {other:?}"),
    }
}

/// Panics unless `result` is `Conflict` on `constraint`.
#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, constraint: &str) {
    match result {
        Err(StoreError::Conflict { constraint: c }) if c == constraint => {}
        other => panic!("expected Conflict on {constraint:?}, got {other:?}"),
    }
}
