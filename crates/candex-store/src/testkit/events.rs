//! Stories about the event outbox and webhook delivery: which partner streams an event
//! enters, stream paging and filters, subscriptions, the dispatcher's claims and outcomes,
//! delivery diagnostics, replays and retention.
//!
//! The claim is global (it leases due subscriptions of every partner), so on a shared database
//! a story sees other stories' subscriptions in its claims: it only ever looks at the batches
//! of its own subscriptions, and claims with a clock that moves past every lease it took
//! before, so that its own subscriptions leased as a side effect are free again.

use std::cell::Cell;

use candex_domain::time::now_ms;
use candex_domain::{
    CandidateId, DeliveryCode, EventType, HirerId, IdKind, ObjectId, PartnerId, RelationshipType, Scheme,
    SigningAlgorithm,
};
use chrono::{DateTime, Duration, Utc};

use super::{
    application, assert_not_found, at, hirer, new_id, new_position, open_position, partner, person, stamp, t, tag,
};
use crate::{
    AttemptsOf, DeliveryBatch, DeliveryClaim, DeliveryOutcome, Event, EventStamp, EventsQuery, NewApplicationRecord,
    NewReplay, NewWebhookSubscription, Position, PurgedEvents, Replay, ReplayRequest, ReplaysQuery, SeqPage, Store,
    SubscriptionWrite, SubscriptionsQuery, TimeWindow, WebhookAttemptRecord, WebhookAttemptsQuery,
    WebhookRequestRecord, WebhookRequestsQuery, WebhookSubscription,
};

use EventType::{
    CandidateApplicationCreated as Applied, CandidateErased as Erased, HirerRelationshipChanged as Related,
    PositionProfileClosed as Closed, PositionProfilePosted as Posted,
};
use RelationshipType::{ApplicationExport as Export, JobPosting as Posting};

/// How long the stories' claims lease a subscription.
const LEASE: Duration = Duration::minutes(1);

// --- helpers ------------------------------------------------------------------------------

/// A stamp with a fresh id at `at`.
fn stamp_at(at: DateTime<Utc>) -> EventStamp {
    EventStamp { id: new_id(IdKind::Event), at }
}

/// An application by a person unique to `tag` and `n`, applied and stamped at `at`.
fn app_at(position: &Position, tag: &str, n: usize, at: DateTime<Utc>) -> NewApplicationRecord {
    let mut app = application(position, person(&format!("Eve Ent{n}"), &format!("eve{n}.{tag}@example.com")), at);
    app.event = stamp_at(at);
    app
}

/// The event an application emits, as its partners read it (`seq` aside).
fn applied_event(app: &NewApplicationRecord, hirer_id: &HirerId, candidate_id: &CandidateId) -> Event {
    Event {
        seq: 0,
        id: app.event.id.clone(),
        event_type: Applied,
        hirer_id: hirer_id.clone(),
        created_at: app.event.at,
        candidate_profile_id: Some(app.profile_id.clone()),
        candidate_id: Some(candidate_id.clone()),
        position_profile_id: None,
    }
}

/// A job ad event (`Posted` or `Closed`) as partners read it (`seq` aside).
fn position_event(event_type: EventType, stamp: &EventStamp, position: &Position) -> Event {
    Event {
        seq: 0,
        id: stamp.id.clone(),
        event_type,
        hirer_id: position.hirer_id.clone(),
        created_at: stamp.at,
        candidate_profile_id: None,
        candidate_id: None,
        position_profile_id: Some(position.profile_id.clone()),
    }
}

/// A `HirerRelationshipChanged` event as partners read it (`seq` aside).
fn related_event(stamp: &EventStamp, hirer_id: &HirerId) -> Event {
    Event {
        seq: 0,
        id: stamp.id.clone(),
        event_type: Related,
        hirer_id: hirer_id.clone(),
        created_at: stamp.at,
        candidate_profile_id: None,
        candidate_id: None,
        position_profile_id: None,
    }
}

/// Panics unless `actual` lists exactly `expected` (compared without `seq`), in that order,
/// with strictly ascending sequence numbers.
#[track_caller]
fn assert_events(actual: &[Event], expected: &[Event], what: &str) {
    let unsequenced: Vec<Event> = actual.iter().map(|e| Event { seq: 0, ..e.clone() }).collect();
    let expected: Vec<Event> = expected.iter().map(|e| Event { seq: 0, ..e.clone() }).collect();
    assert_eq!(unsequenced, expected, "{what}");
    assert!(actual.windows(2).all(|w| w[0].seq < w[1].seq), "{what}: ascending sequence numbers");
}

fn ids(events: &[Event]) -> Vec<ObjectId> {
    events.iter().map(|e| e.id.clone()).collect()
}

fn page(limit: u32) -> SeqPage {
    SeqPage { after: None, before: None, limit, from_end: false }
}

fn events_query(partner_id: &PartnerId) -> EventsQuery {
    EventsQuery {
        partner_id: partner_id.clone(),
        page: page(1000),
        window: TimeWindow::default(),
        types: vec![],
        subscription: None,
    }
}

async fn events(store: &dyn Store, query: &EventsQuery) -> Vec<Event> {
    store.page_events(query).await.expect("page events")
}

/// A partner's whole stream (the stories' partners hold far fewer than 1000 events).
async fn stream(store: &dyn Store, partner_id: &PartnerId) -> Vec<Event> {
    events(store, &events_query(partner_id)).await
}

/// The events of a partner's stream queued for a subscription, optionally only those
/// delivered or not.
async fn queued(store: &dyn Store, partner_id: &PartnerId, sub: &ObjectId, delivered: Option<bool>) -> Vec<Event> {
    let query = EventsQuery { subscription: Some((sub.clone(), delivered)), ..events_query(partner_id) };
    events(store, &query).await
}

/// Follows a partner's stream: each call returns what entered it since the previous call.
struct Watch {
    partner_id: PartnerId,
    seen: Option<i64>,
}

impl Watch {
    fn new(partner_id: &PartnerId) -> Watch {
        Watch { partner_id: partner_id.clone(), seen: None }
    }

    async fn fresh(&mut self, store: &dyn Store) -> Vec<Event> {
        let mut query = events_query(&self.partner_id);
        query.page.after = self.seen;
        let fresh = events(store, &query).await;
        if let Some(last) = fresh.last() {
            self.seen = Some(last.seq);
        }
        fresh
    }
}

/// A signed partner-wide (or hirer-scoped) subscription in the default scheme.
fn subscription(
    partner_id: &PartnerId,
    event_type: EventType,
    url: &str,
    hirer_id: Option<&HirerId>,
    max_events_per_attempt: u8,
    created_at: DateTime<Utc>,
) -> NewWebhookSubscription {
    NewWebhookSubscription {
        id: new_id(IdKind::WebhookSubscription),
        partner_id: partner_id.clone(),
        scheme_id: Scheme::DEFAULT.to_owned(),
        event_type,
        url: url.to_owned(),
        hirer_id: hirer_id.cloned(),
        max_events_per_attempt,
        signing_algorithm: SigningAlgorithm::SeekHmacSha512,
        secret: Some(format!("whsec-{}-0123456789", tag())),
        created_at,
    }
}

/// The subscription a create stores.
fn written(new: &NewWebhookSubscription, seq: i64) -> WebhookSubscription {
    WebhookSubscription {
        seq,
        id: new.id.clone(),
        partner_id: new.partner_id.clone(),
        scheme_id: new.scheme_id.clone(),
        event_type: new.event_type,
        url: new.url.clone(),
        hirer_id: new.hirer_id.clone(),
        max_events_per_attempt: new.max_events_per_attempt,
        signing_algorithm: new.signing_algorithm,
        created_at: new.created_at,
        updated_at: new.created_at,
    }
}

/// Creates a subscription, which must be written.
async fn subscribe(store: &dyn Store, new: NewWebhookSubscription) -> WebhookSubscription {
    match store.create_webhook_subscription(new.clone()).await.expect("create subscription") {
        SubscriptionWrite::Written(s) => {
            assert_eq!(s, written(&new, s.seq), "the subscription reads back as created");
            s
        }
        other => panic!("expected the subscription to be written, got {other:?}"),
    }
}

/// Claims due deliveries as `owner` at `now`.
async fn claim_all(store: &dyn Store, owner: &str, now: DateTime<Utc>) -> Vec<DeliveryBatch> {
    let claim = DeliveryClaim { owner: owner.to_owned(), now, lease_until: now + LEASE, max_subscriptions: 10_000 };
    store.claim_webhook_deliveries(&claim).await.expect("claim deliveries")
}

/// The one batch of `sub` in a claim, if any.
#[track_caller]
fn batch_of(batches: &[DeliveryBatch], sub: &ObjectId) -> Option<DeliveryBatch> {
    let mut mine = batches.iter().filter(|b| &b.subscription.id == sub);
    let batch = mine.next().cloned();
    assert!(mine.next().is_none(), "one batch per subscription in a claim");
    batch
}

async fn claim_of(store: &dyn Store, owner: &str, now: DateTime<Utc>, sub: &ObjectId) -> Option<DeliveryBatch> {
    batch_of(&claim_all(store, owner, now).await, sub)
}

/// The outcome of sending `batch` with result `code` (status and latency follow from it).
fn outcome(
    owner: &str,
    batch: &DeliveryBatch,
    request_id: &str,
    code: DeliveryCode,
    created_at: DateTime<Utc>,
    retry_at: DateTime<Utc>,
) -> DeliveryOutcome {
    let (status_code, latency_ms) = match code {
        DeliveryCode::Success => (200, Some(80)),
        DeliveryCode::BadResponse => (503, Some(250)),
        DeliveryCode::InvalidUrl => (400, None),
        DeliveryCode::RequestTimeout => (504, None),
    };
    DeliveryOutcome {
        owner: owner.to_owned(),
        subscription_id: batch.subscription.id.clone(),
        request_id: request_id.to_owned(),
        status_code,
        code,
        latency_ms,
        created_at,
        attempts: batch.events.iter().map(|e| (new_id(IdKind::WebhookAttempt), e.seq)).collect(),
        retry_at,
    }
}

async fn record(store: &dyn Store, outcome: &DeliveryOutcome) {
    store.record_webhook_delivery(outcome).await.expect("record delivery");
}

/// The request record an outcome produces (`seq` aside).
fn request_record(o: &DeliveryOutcome, partner_id: &PartnerId, url: &str) -> WebhookRequestRecord {
    WebhookRequestRecord {
        seq: 0,
        request_id: o.request_id.clone(),
        partner_id: partner_id.clone(),
        subscription_id: o.subscription_id.clone(),
        url: url.to_owned(),
        status_code: o.status_code,
        code: o.code,
        latency_ms: o.latency_ms,
        created_at: o.created_at,
    }
}

#[track_caller]
fn assert_requests(actual: &[WebhookRequestRecord], expected: &[WebhookRequestRecord], what: &str) {
    let unsequenced: Vec<_> = actual.iter().map(|r| WebhookRequestRecord { seq: 0, ..r.clone() }).collect();
    assert_eq!(unsequenced, expected, "{what}");
    assert!(actual.windows(2).all(|w| w[0].seq < w[1].seq), "{what}: oldest first");
}

/// A dispatcher for stories that only need everything delivered: every claim happens ten
/// minutes after the previous one, past every lease and backoff it caused.
struct Dispatcher<'s> {
    store: &'s dyn Store,
    owner: String,
    clock: Cell<DateTime<Utc>>,
    requests: Cell<u32>,
}

impl<'s> Dispatcher<'s> {
    fn new(store: &'s dyn Store) -> Self {
        Dispatcher { store, owner: format!("instance-{}", tag()), clock: Cell::new(now_ms()), requests: Cell::new(0) }
    }

    fn tick(&self) -> DateTime<Utc> {
        let now = self.clock.get();
        self.clock.set(now + Duration::minutes(10));
        now
    }

    fn request_id(&self) -> String {
        self.requests.set(self.requests.get() + 1);
        format!("{}-req-{}", self.owner, self.requests.get())
    }

    async fn claim(&self, sub: &ObjectId) -> Option<DeliveryBatch> {
        claim_of(self.store, &self.owner, self.tick(), sub).await
    }

    /// Claims `sub` once and records `code` for its batch; the outcome, if there was a batch.
    async fn send(&self, sub: &ObjectId, code: DeliveryCode, created_at: DateTime<Utc>) -> Option<DeliveryOutcome> {
        let batch = self.claim(sub).await?;
        // Due again before the next claim (which comes ten minutes later).
        let retry_at = self.clock.get() - Duration::minutes(1);
        let o = outcome(&self.owner, &batch, &self.request_id(), code, created_at, retry_at);
        record(self.store, &o).await;
        Some(o)
    }

    /// Delivers everything pending for `sub`; the events delivered, in delivery order.
    async fn deliver_all(&self, sub: &ObjectId) -> Vec<Event> {
        let mut delivered = Vec::new();
        for _ in 0..100 {
            let Some(batch) = self.claim(sub).await else { return delivered };
            let o = outcome(&self.owner, &batch, &self.request_id(), DeliveryCode::Success, now_ms(), self.clock.get());
            record(self.store, &o).await;
            delivered.extend(batch.events);
        }
        panic!("subscription {sub} never ran out of pending events");
    }
}

// --- stories ------------------------------------------------------------------------------

/// An event enters the stream of every partner entitled to its type with its hirer when it is
/// created (and no other); `HirerRelationshipChanged` enters only the changed partner's stream
/// and only on a change; revoking later does not take events back.
pub async fn events_enter_the_streams_of_entitled_partners(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let elsewhere = hirer(store, &format!("{tag} elsewhere")).await;
    let a = partner(store, &format!("{tag} exporter")).await;
    let j = partner(store, &format!("{tag} poster")).await;
    let n = partner(store, &format!("{tag} unrelated")).await;
    let (mut wa, mut wj, mut wn) = (Watch::new(&a.id), Watch::new(&j.id), Watch::new(&n.id));

    let (sa, sj, sn) = (stamp(), stamp(), stamp());
    store.set_relationships(&a.id, &h.id, &[Export], &sa).await.expect("relate a");
    store.set_relationships(&j.id, &h.id, &[Posting], &sj).await.expect("relate j");
    store.set_relationships(&n.id, &elsewhere.id, &[Export, Posting], &sn).await.expect("relate n");
    assert_events(&wa.fresh(store).await, &[related_event(&sa, &h.id)], "a's first relationship");
    assert_events(&wj.fresh(store).await, &[related_event(&sj, &h.id)], "j's first relationship");
    assert_events(&wn.fresh(store).await, &[related_event(&sn, &elsewhere.id)], "n's first relationship");

    // Posted: partners with ApplicationExport or JobPosting with the hirer.
    let new = new_position(&h.id, "Barista", t(0));
    let posted_stamp = EventStamp { id: new.event_id.clone(), at: new.created_at };
    let pos = store.create_position(new).await.expect("create position");
    let posted = position_event(Posted, &posted_stamp, &pos);
    assert_events(&wa.fresh(store).await, std::slice::from_ref(&posted), "posted, to an exporter");
    assert_events(&wj.fresh(store).await, std::slice::from_ref(&posted), "posted, to a job poster");
    assert_events(&wn.fresh(store).await, &[], "posted, not to a partner of another hirer");
    let other_pos = open_position(store, &elsewhere.id, "Elsewhere").await;
    let theirs = wn.fresh(store).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!((theirs[0].event_type, &theirs[0].position_profile_id), (Posted, &Some(other_pos.profile_id.clone())));
    assert_events(&wa.fresh(store).await, &[], "another hirer's job ad");
    assert_events(&wj.fresh(store).await, &[], "another hirer's job ad");

    // Applications: ApplicationExport only.
    let apps = [app_at(&pos, &tag, 1, t(1000)), app_at(&pos, &tag, 2, t(2000))];
    let done = store.ingest_applications(&apps).await.expect("ingest");
    let applied: Vec<Event> =
        apps.iter().zip(&done).map(|(app, d)| applied_event(app, &h.id, &d.candidate_id)).collect();
    assert_events(&wa.fresh(store).await, &applied, "applications, to the exporter, in order");
    assert_events(&wj.fresh(store).await, &[], "applications, not to a job poster");
    assert_events(&wn.fresh(store).await, &[], "applications, not to a partner of another hirer");

    // Closed once.
    let closing = stamp();
    store.close_position(&pos.profile_id, &closing).await.expect("close");
    let closed = position_event(Closed, &closing, &pos);
    assert_events(&wa.fresh(store).await, std::slice::from_ref(&closed), "closed, to an exporter");
    assert_events(&wj.fresh(store).await, std::slice::from_ref(&closed), "closed, to a job poster");
    assert_events(&wn.fresh(store).await, &[], "closed, not to a partner of another hirer");
    let again = stamp();
    store.close_position(&pos.profile_id, &again).await.expect("close again");
    assert_events(&wa.fresh(store).await, &[], "closing a closed job ad emits nothing");
    assert_events(&wj.fresh(store).await, &[], "closing a closed job ad emits nothing");
    assert_eq!(store.get_event(&a.id, &again.id).await.expect("get"), None, "no event under the unused stamp");

    // Relationships: only on a change, only to the partner concerned.
    let same = stamp();
    store.set_relationships(&a.id, &h.id, &[Export, Export], &same).await.expect("same set");
    assert_events(&wa.fresh(store).await, &[], "setting the same relationships emits nothing");
    assert_eq!(store.get_event(&a.id, &same.id).await.expect("get"), None);
    let widened = stamp();
    store.set_relationships(&a.id, &h.id, &[Posting, Export], &widened).await.expect("widen");
    assert_events(&wa.fresh(store).await, &[related_event(&widened, &h.id)], "a changed set");
    assert_events(&wj.fresh(store).await, &[], "another partner's change");
    let joined = stamp();
    store.set_relationships(&a.id, &elsewhere.id, &[Export], &joined).await.expect("relate elsewhere");
    assert_events(&wa.fresh(store).await, &[related_event(&joined, &elsewhere.id)], "a new hirer");
    assert_events(&wn.fresh(store).await, &[], "n is related to that hirer, but did not change");

    // Entitlement counts when the event is created: after revoking ApplicationExport, a new
    // application is not in a's stream, and what was there stays.
    let revoked = stamp();
    store.set_relationships(&a.id, &h.id, &[Posting], &revoked).await.expect("revoke export");
    assert_events(&wa.fresh(store).await, &[related_event(&revoked, &h.id)], "the revocation");
    let open = open_position(store, &h.id, "Still open").await;
    assert_eq!(wa.fresh(store).await.len(), 1, "job postings still reach a");
    let late = app_at(&open, &tag, 3, t(3000));
    store.ingest_applications(std::slice::from_ref(&late)).await.expect("ingest late");
    assert_events(&wa.fresh(store).await, &[], "an application after the revocation");
    assert_eq!(store.get_event(&a.id, &late.event.id).await.expect("get"), None);
    let whole = stream(store, &a.id).await;
    for expected in applied.iter().chain([&posted, &closed]) {
        let kept = whole.iter().find(|e| e.id == expected.id).expect("earlier events stay in the stream");
        assert_eq!(&Event { seq: 0, ..kept.clone() }, expected);
    }

    // get_event: only through a stream holding the event.
    let first = store.get_event(&a.id, &applied[0].id).await.expect("get").expect("in a's stream");
    assert_eq!(Event { seq: 0, ..first.clone() }, applied[0]);
    assert!(whole.contains(&first), "the same event, sequence number included");
    assert_eq!(store.get_event(&j.id, &applied[0].id).await.expect("get"), None, "not in j's stream");
    assert_eq!(store.get_event(&n.id, &posted.id).await.expect("get"), None, "not in n's stream");
    let in_j = store.get_event(&j.id, &posted.id).await.expect("get").expect("in j's stream");
    assert_eq!(Event { seq: 0, ..in_j }, posted);
    assert_eq!(store.get_event(&a.id, &new_id(IdKind::Event)).await.expect("get"), None, "unknown event");
    assert_eq!(store.get_event(&new_id(IdKind::Partner), &posted.id).await.expect("get"), None, "unknown partner");
}

/// A stream pages forwards with `after` and backwards with `before`/`from_end` (each page
/// ascending), and filters by type, time window and subscription delivery state.
pub async fn event_paging_and_filters(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let p = partner(store, &format!("{tag} ATS")).await;
    let other = partner(store, &format!("{tag} other ATS")).await;
    // Subscribed first, so that events of other types would be queued if types were ignored.
    let url = format!("https://{tag}.example/events");
    let sub = subscribe(store, subscription(&p.id, Applied, &url, None, 10, t(0))).await;
    let theirs = subscribe(store, subscription(&other.id, Applied, &url, None, 10, t(0))).await;
    let related = stamp_at(t(-1000));
    store.set_relationships(&p.id, &h.id, &[Export], &related).await.expect("relate");
    store.set_relationships(&other.id, &h.id, &[Export], &stamp()).await.expect("relate other");
    let new = new_position(&h.id, "Paged", t(-500));
    let posted_stamp = EventStamp { id: new.event_id.clone(), at: new.created_at };
    let pos = store.create_position(new).await.expect("create position");

    // Applications k = 1..=25, stamped at t(k seconds).
    let apps: Vec<_> = (1..=25).map(|k| app_at(&pos, &tag, k, t(k as i64 * 1000))).collect();
    let done = store.ingest_applications(&apps).await.expect("ingest");
    let mut expected = vec![related_event(&related, &h.id), position_event(Posted, &posted_stamp, &pos)];
    expected.extend(apps.iter().zip(&done).map(|(app, d)| applied_event(app, &h.id, &d.candidate_id)));
    let all = stream(store, &p.id).await;
    assert_events(&all, &expected, "the whole stream");
    assert_eq!(all.len(), 27);
    let app_event = |k: usize| all[1 + k].clone();

    // Forward pages of 7.
    let mut query = events_query(&p.id);
    query.page.limit = 7;
    let mut pages = Vec::new();
    loop {
        let got = events(store, &query).await;
        let Some(last) = got.last() else { break };
        query.page.after = Some(last.seq);
        pages.push(got);
        assert!(pages.len() <= 5, "paging must end");
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![7, 7, 7, 6]);
    assert_eq!(pages.concat(), all, "forward pages cover the stream once, in order");

    // Backward pages of 7 from the end, each ascending.
    let mut query = events_query(&p.id);
    query.page = SeqPage { after: None, before: None, limit: 7, from_end: true };
    let mut end = all.len();
    loop {
        let got = events(store, &query).await;
        let Some(first) = got.first() else { break };
        let start = end.saturating_sub(7);
        assert_eq!(got, all[start..end], "a backward page, ascending");
        query.page.before = Some(first.seq);
        end = start;
    }
    assert_eq!(end, 0, "backward pages reach the start");

    // A range between two cursors, from either end.
    let mut query = events_query(&p.id);
    query.page.after = Some(all[3].seq);
    query.page.before = Some(all[10].seq);
    assert_eq!(events(store, &query).await, all[4..10]);
    query.page.limit = 2;
    assert_eq!(events(store, &query).await, all[4..6]);
    query.page.from_end = true;
    assert_eq!(events(store, &query).await, all[8..10]);
    query.page.limit = 0;
    assert!(events(store, &query).await.is_empty(), "limit 0 gives nothing");

    // Types.
    let mut query = events_query(&p.id);
    query.types = vec![Applied];
    assert_eq!(events(store, &query).await, all[2..]);
    query.types = vec![Posted, Related];
    assert_eq!(events(store, &query).await, all[..2]);
    query.types = vec![Closed];
    assert!(events(store, &query).await.is_empty());
    query.types = vec![Applied];
    query.page = SeqPage { after: None, before: None, limit: 3, from_end: true };
    assert_eq!(events(store, &query).await, all[24..], "types with paging");

    // Time window, both ends exclusive.
    let mut query = events_query(&p.id);
    query.window = TimeWindow { after: Some(t(5000)), before: Some(t(10_000)) };
    assert_eq!(events(store, &query).await, all[7..11], "applications 6 to 9");
    assert_eq!(all[7], app_event(6));
    query.window = TimeWindow { after: None, before: Some(t(0)) };
    assert_eq!(events(store, &query).await, all[..2], "before only");
    query.window = TimeWindow { after: Some(t(24_000)), before: None };
    assert_eq!(events(store, &query).await, all[26..], "after only");
    query.window = TimeWindow { after: Some(t(-1000)), before: Some(t(2000)) };
    query.types = vec![Posted, Applied];
    assert_eq!(events(store, &query).await, all[1..3], "window and types combine");

    // Subscription: deliver the oldest batch (10 applications), then filter.
    let dispatcher = Dispatcher::new(store);
    let batch = dispatcher.claim(&sub.id).await.expect("a batch");
    assert_eq!(batch.events, all[2..12], "the 10 oldest pending events");
    let o = outcome(&dispatcher.owner, &batch, &dispatcher.request_id(), DeliveryCode::Success, now_ms(), now_ms());
    record(store, &o).await;
    assert_eq!(queued(store, &p.id, &sub.id, Some(true)).await, all[2..12], "delivered");
    assert_eq!(queued(store, &p.id, &sub.id, Some(false)).await, all[12..], "not yet delivered");
    assert_eq!(queued(store, &p.id, &sub.id, None).await, all[2..], "every queued event");
    let mut query = events_query(&p.id);
    query.subscription = Some((sub.id.clone(), Some(false)));
    query.page = SeqPage { after: Some(all[20].seq), before: None, limit: 3, from_end: false };
    assert_eq!(events(store, &query).await, all[21..24], "subscription filter with paging");
    query.page = page(100);
    query.window = TimeWindow { after: Some(t(14_000)), before: Some(t(17_000)) };
    assert_eq!(events(store, &query).await, all[16..18], "subscription filter with a window");
    assert!(queued(store, &p.id, &theirs.id, None).await.is_empty(), "another partner's subscription");
    assert!(queued(store, &p.id, &new_id(IdKind::WebhookSubscription), None).await.is_empty(), "unknown");
    assert_eq!(queued(store, &other.id, &theirs.id, None).await.len(), 25, "the other partner's own queue");
}

/// Subscriptions are unique per partner on (type, scheme, URL, hirer), read and list only for
/// their partner, update and delete without touching others.
pub async fn webhook_subscriptions_lifecycle(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let h2 = hirer(store, &format!("{tag} hirer two")).await;
    let p = partner(store, &format!("{tag} ATS")).await;
    let q = partner(store, &format!("{tag} other ATS")).await;
    let url = |name: &str| format!("https://{tag}.example/{name}");

    let first_new = subscription(&p.id, Applied, &url("one"), None, 10, t(0));
    let first = subscribe(store, first_new.clone()).await;
    assert_eq!(store.get_webhook_subscription(&p.id, &first.id).await.expect("get"), Some(first.clone()));

    // The same key again, whatever else differs: the first one, and nothing stored.
    let mut copy = subscription(&p.id, Applied, &url("one"), None, 3, t(500));
    copy.signing_algorithm = SigningAlgorithm::None;
    copy.secret = None;
    let write = store.create_webhook_subscription(copy.clone()).await.expect("create copy");
    assert_eq!(write, SubscriptionWrite::Conflict(first.clone()), "names the first");
    assert_eq!(store.get_webhook_subscription(&p.id, &copy.id).await.expect("get"), None);

    // Another partner may hold the identical key.
    let q_same = subscribe(store, subscription(&q.id, Applied, &url("one"), None, 10, t(0))).await;
    assert_ne!(q_same.seq, first.seq);

    // Every part of the key counts; a hirer-scoped subscription differs from a partner-wide one.
    let scoped = subscribe(store, subscription(&p.id, Applied, &url("one"), Some(&h.id), 10, t(1000))).await;
    let write = store
        .create_webhook_subscription(subscription(&p.id, Applied, &url("one"), Some(&h.id), 5, t(1500)))
        .await
        .expect("create scoped copy");
    assert_eq!(write, SubscriptionWrite::Conflict(scoped.clone()), "names the scoped one");
    let posted = subscribe(store, subscription(&p.id, Posted, &url("one"), None, 10, t(2000))).await;
    let two = subscribe(store, subscription(&p.id, Applied, &url("two"), None, 10, t(3000))).await;
    let scoped2 = subscribe(store, subscription(&p.id, Applied, &url("one"), Some(&h2.id), 1, t(4000))).await;
    let mut other_scheme_new = subscription(&p.id, Applied, &url("one"), None, 10, t(5000));
    other_scheme_new.scheme_id = "seekAnz".to_owned();
    let other_scheme = subscribe(store, other_scheme_new).await;

    assert_not_found(
        store
            .create_webhook_subscription(subscription(
                &p.id,
                Applied,
                &url("ghost"),
                Some(&new_id(IdKind::Organization)),
                10,
                t(0),
            ))
            .await,
        "hirer",
    );

    // Reads are per partner.
    assert_eq!(store.get_webhook_subscription(&q.id, &first.id).await.expect("get"), None, "another partner's");
    assert_eq!(store.get_webhook_subscription(&p.id, &q_same.id).await.expect("get"), None, "another partner's");
    assert_eq!(store.get_webhook_subscription(&p.id, &new_id(IdKind::WebhookSubscription)).await.expect("get"), None);

    // Listing: creation order, per scheme, with filters.
    let list = |f: &dyn Fn(&mut SubscriptionsQuery)| {
        let mut query = SubscriptionsQuery {
            partner_id: p.id.clone(),
            scheme_id: Scheme::DEFAULT.to_owned(),
            page: page(100),
            window: TimeWindow::default(),
            types: vec![],
            hirer_ids: vec![],
        };
        f(&mut query);
        async move { store.page_webhook_subscriptions(&query).await.expect("page subscriptions") }
    };
    let mine = vec![first.clone(), scoped.clone(), posted.clone(), two.clone(), scoped2.clone()];
    assert_eq!(list(&|_| {}).await, mine, "creation order, one scheme");
    assert_eq!(list(&|q| q.page.limit = 2).await, mine[..2]);
    assert_eq!(list(&|q| q.page = SeqPage { after: Some(scoped.seq), ..page(2) }).await, mine[2..4]);
    assert_eq!(list(&|q| q.page = SeqPage { after: Some(two.seq), ..page(2) }).await, mine[4..]);
    assert_eq!(list(&|q| q.page = SeqPage { from_end: true, ..page(2) }).await, mine[3..], "from the end, ascending");
    assert_eq!(list(&|q| q.page = SeqPage { before: Some(two.seq), from_end: true, ..page(2) }).await, mine[1..3]);
    assert_eq!(list(&|q| q.scheme_id = "seekAnz".to_owned()).await, vec![other_scheme.clone()]);
    assert_eq!(list(&|q| q.types = vec![Posted]).await, vec![posted.clone()]);
    assert!(list(&|q| q.types = vec![Closed, Related]).await.is_empty());
    assert_eq!(list(&|q| q.hirer_ids = vec![h.id.clone()]).await, vec![scoped.clone()]);
    assert_eq!(list(&|q| q.hirer_ids = vec![h2.id.clone(), h.id.clone()]).await, vec![scoped.clone(), scoped2.clone()]);
    assert_eq!(
        list(&|q| q.window = TimeWindow { after: Some(t(1000)), before: Some(t(4000)) }).await,
        vec![posted.clone(), two.clone()],
        "window, both ends exclusive"
    );
    let q_list = SubscriptionsQuery {
        partner_id: q.id.clone(),
        scheme_id: Scheme::DEFAULT.to_owned(),
        page: page(100),
        window: TimeWindow::default(),
        types: vec![],
        hirer_ids: vec![],
    };
    assert_eq!(store.page_webhook_subscriptions(&q_list).await.expect("page"), vec![q_same.clone()]);

    // Delivery settings: URL and max events; `None` keeps the max.
    let at1 = now_ms();
    let updated = store.update_webhook_subscription_delivery(&p.id, &first.id, &url("three"), Some(5), at1).await;
    let expected =
        WebhookSubscription { url: url("three"), max_events_per_attempt: 5, updated_at: at1, ..first.clone() };
    assert_eq!(updated.expect("update"), Some(SubscriptionWrite::Written(expected.clone())));
    assert_eq!(store.get_webhook_subscription(&p.id, &first.id).await.expect("get"), Some(expected.clone()));
    let at2 = at1 + Duration::seconds(1);
    let updated = store.update_webhook_subscription_delivery(&p.id, &first.id, &url("four"), None, at2).await;
    let expected = WebhookSubscription { url: url("four"), updated_at: at2, ..expected };
    assert_eq!(updated.expect("update"), Some(SubscriptionWrite::Written(expected.clone())), "None keeps the max");
    assert_eq!(store.get_webhook_subscription(&p.id, &first.id).await.expect("get"), Some(expected.clone()));

    // Into another subscription's key: a conflict naming it, and nothing changed.
    let clash = store.update_webhook_subscription_delivery(&p.id, &two.id, &url("four"), Some(2), at2).await;
    assert_eq!(clash.expect("update"), Some(SubscriptionWrite::Conflict(expected.clone())));
    assert_eq!(store.get_webhook_subscription(&p.id, &two.id).await.expect("get"), Some(two.clone()), "unchanged");
    // Another partner's identical key is no conflict; a hirer-scoped key is another key.
    let at3 = at2 + Duration::seconds(1);
    let back = store.update_webhook_subscription_delivery(&p.id, &first.id, &url("one"), None, at3).await;
    let expected = WebhookSubscription { url: url("one"), updated_at: at3, ..expected };
    assert_eq!(back.expect("update"), Some(SubscriptionWrite::Written(expected.clone())));

    // Signing.
    let at4 = at3 + Duration::seconds(1);
    let unsigned = store.update_webhook_subscription_signing(&p.id, &first.id, SigningAlgorithm::None, None, at4).await;
    let expected = WebhookSubscription { signing_algorithm: SigningAlgorithm::None, updated_at: at4, ..expected };
    assert_eq!(unsigned.expect("unsign"), Some(expected.clone()));
    assert_eq!(store.get_webhook_subscription(&p.id, &first.id).await.expect("get"), Some(expected.clone()));
    let at5 = at4 + Duration::seconds(1);
    let secret = format!("rotated-{tag}-secret");
    let signed = store
        .update_webhook_subscription_signing(&p.id, &first.id, SigningAlgorithm::SeekHmacSha512, Some(&secret), at5)
        .await;
    let expected =
        WebhookSubscription { signing_algorithm: SigningAlgorithm::SeekHmacSha512, updated_at: at5, ..expected };
    assert_eq!(signed.expect("sign"), Some(expected.clone()));
    assert_eq!(store.get_webhook_subscription(&p.id, &first.id).await.expect("get"), Some(expected.clone()));

    // Another partner can neither change nor delete it.
    let later = at5 + Duration::seconds(1);
    assert_eq!(
        store.update_webhook_subscription_delivery(&q.id, &first.id, &url("q"), Some(1), later).await.expect("q"),
        None
    );
    assert_eq!(
        store
            .update_webhook_subscription_signing(&q.id, &first.id, SigningAlgorithm::None, None, later)
            .await
            .expect("q"),
        None
    );
    assert_eq!(store.delete_webhook_subscription(&q.id, &first.id).await.expect("q delete"), None);
    assert_eq!(store.get_webhook_subscription(&p.id, &first.id).await.expect("get"), Some(expected.clone()));
    assert_eq!(
        store.update_webhook_subscription_delivery(&p.id, &q_same.id, &url("p"), None, later).await.expect("p"),
        None,
        "nor can the owner of a subscription with the same key"
    );
    assert_eq!(store.get_webhook_subscription(&q.id, &q_same.id).await.expect("get"), Some(q_same.clone()));

    // Delete: returns it; gone; the others stay; the key is free again.
    assert_eq!(store.delete_webhook_subscription(&p.id, &first.id).await.expect("delete"), Some(expected));
    assert_eq!(store.get_webhook_subscription(&p.id, &first.id).await.expect("get"), None);
    assert_eq!(store.delete_webhook_subscription(&p.id, &first.id).await.expect("delete again"), None);
    assert_eq!(list(&|_| {}).await, mine[1..], "the partner's other subscriptions remain");
    assert_eq!(store.get_webhook_subscription(&q.id, &q_same.id).await.expect("get"), Some(q_same));
    assert_eq!(
        store.update_webhook_subscription_delivery(&p.id, &first.id, &url("x"), None, later).await.expect("gone"),
        None
    );
    subscribe(store, NewWebhookSubscription { id: new_id(IdKind::WebhookSubscription), ..first_new }).await;
}

/// Claims lease due subscriptions and hand out their oldest pending events in batches; a
/// failure backs off until `retry_at`, a success delivers; a lapsed lease passes to another
/// instance, whose lease the first one's late record does not release. Requests and attempts
/// are recorded for the owning partner's diagnostics.
pub async fn delivery_claims_batches_leases_and_backoff(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let p = partner(store, &format!("{tag} ATS")).await;
    let q = partner(store, &format!("{tag} other ATS")).await;
    store.set_relationships(&p.id, &h.id, &[Export], &stamp()).await.expect("relate");
    let pos = open_position(store, &h.id, "Courier").await;
    let url = format!("https://{tag}.example/hook");
    let mut new_sub = subscription(&p.id, Applied, &url, None, 3, t(0));
    let secret = format!("whsec-{tag}-claims");
    new_sub.secret = Some(secret.clone());
    let sub = subscribe(store, new_sub).await;

    let stats0 = store.webhook_queue_stats().await.expect("stats");
    let apps: Vec<_> = (1..=7).map(|k| app_at(&pos, &tag, k, t(k as i64 * 1000))).collect();
    store.ingest_applications(&apps).await.expect("ingest");
    // Created after the events: none of them is queued for it.
    let late = subscribe(store, subscription(&p.id, Applied, &format!("{url}/late"), None, 10, t(1))).await;
    let stats1 = store.webhook_queue_stats().await.expect("stats");
    assert_eq!(stats1.pending, stats0.pending + 7, "one pending delivery per event, for the earlier subscription");
    let mut query = events_query(&p.id);
    query.types = vec![Applied];
    let evs = events(store, &query).await;
    assert_eq!(ids(&evs), apps.iter().map(|a| a.event.id.clone()).collect::<Vec<_>>());
    assert_eq!(queued(store, &p.id, &sub.id, Some(false)).await, evs, "all pending");
    assert!(queued(store, &p.id, &late.id, None).await.is_empty(), "nothing queued for the later subscription");

    let (a, b, c) = (format!("a-{tag}"), format!("b-{tag}"), format!("c-{tag}"));
    let s = Duration::seconds;
    let m = Duration::minutes;
    let req = |n: u32| format!("{tag}-request-{n}");

    // A claim leases the subscription and hands out the 3 oldest events with the secret.
    let c0 = now_ms();
    let claimed = claim_all(store, &a, c0).await;
    assert!(batch_of(&claimed, &late.id).is_none(), "a subscription without pending events is not claimed");
    let first = batch_of(&claimed, &sub.id).expect("the due subscription is claimed");
    assert_eq!(first.subscription, sub);
    assert_eq!(first.secret.as_deref(), Some(secret.as_str()));
    assert_eq!(first.failures, 0);
    assert_eq!(first.events, evs[..3], "the 3 oldest events");
    assert!(claim_of(store, &b, c0 + s(30), &sub.id).await.is_none(), "leased: nobody else gets it");

    // A failure backs off until retry_at and counts.
    let r1 = outcome(&a, &first, &req(1), DeliveryCode::BadResponse, c0 + s(1), c0 + m(10));
    record(store, &r1).await;
    assert!(claim_of(store, &b, c0 + m(5), &sub.id).await.is_none(), "backing off until retry_at");
    assert_eq!(store.webhook_queue_stats().await.expect("stats").pending, stats1.pending, "a failure delivers nothing");
    let retry = claim_of(store, &a, c0 + m(11), &sub.id).await.expect("due again after retry_at");
    assert_eq!(retry.events, evs[..3], "the same events again");
    assert_eq!(retry.failures, 1, "one failure since the last success");

    // A success delivers them and releases the lease at once.
    let r2 = outcome(&a, &retry, &req(2), DeliveryCode::Success, c0 + m(11) + s(1), c0 + m(20));
    record(store, &r2).await;
    assert_eq!(store.webhook_queue_stats().await.expect("stats").pending, stats1.pending - 3, "3 delivered");
    assert_eq!(queued(store, &p.id, &sub.id, Some(true)).await, evs[..3]);
    assert_eq!(queued(store, &p.id, &sub.id, Some(false)).await, evs[3..]);

    // Requests record the URL at the time.
    let url2 = format!("{url}/moved");
    store
        .update_webhook_subscription_delivery(&p.id, &sub.id, &url2, None, now_ms())
        .await
        .expect("move")
        .expect("some");
    let moved = store.get_webhook_subscription(&p.id, &sub.id).await.expect("get").expect("some");

    let c1 = c0 + m(11) + s(2);
    let next = claim_of(store, &a, c1, &sub.id).await.expect("released by the success, within its lease");
    assert_eq!(next.events, evs[3..6], "the next 3");
    assert_eq!(next.failures, 0, "a success resets the failures");
    assert_eq!(next.subscription, moved);

    // A lapsed lease passes to another instance.
    assert!(claim_of(store, &b, c1 + s(30), &sub.id).await.is_none(), "still leased by a");
    let taken = claim_of(store, &b, c1 + m(2), &sub.id).await.expect("b takes the lapsed lease");
    assert_eq!(taken.events, evs[3..6]);
    // a's late record (with a retry time already past) does not release b's lease.
    let r3 = outcome(&a, &next, &req(3), DeliveryCode::RequestTimeout, c1 + s(1), c1);
    record(store, &r3).await;
    assert!(claim_of(store, &c, c1 + m(2) + s(30), &sub.id).await.is_none(), "b's lease holds");
    let r4 = outcome(&b, &taken, &req(4), DeliveryCode::Success, c1 + m(2) + s(10), c1 + m(30));
    record(store, &r4).await;
    assert_eq!(store.webhook_queue_stats().await.expect("stats").pending, stats1.pending - 6, "6 delivered");
    let last = claim_of(store, &c, c1 + m(2) + s(40), &sub.id).await.expect("b's success released its lease");
    assert_eq!(last.events, evs[6..], "the last one");
    assert_eq!(last.failures, 0);
    let r5 = outcome(&c, &last, &req(5), DeliveryCode::Success, c1 + m(2) + s(50), c1 + m(30));
    record(store, &r5).await;
    assert_eq!(store.webhook_queue_stats().await.expect("stats").pending, stats1.pending - 7, "all delivered");
    let drained = claim_all(store, &c, c1 + m(60)).await;
    assert!(batch_of(&drained, &sub.id).is_none(), "nothing left to claim");
    assert!(batch_of(&drained, &late.id).is_none(), "never anything for the later subscription");
    assert_eq!(queued(store, &p.id, &sub.id, Some(true)).await, evs, "all delivered");
    assert!(queued(store, &p.id, &late.id, None).await.is_empty());

    // Requests, oldest first, for the owning partner only.
    let expected = [
        request_record(&r1, &p.id, &url),
        request_record(&r2, &p.id, &url),
        request_record(&r3, &p.id, &url2),
        request_record(&r4, &p.id, &url2),
        request_record(&r5, &p.id, &url2),
    ];
    let requests_query = |partner_id: &PartnerId| WebhookRequestsQuery {
        partner_id: partner_id.clone(),
        subscription_id: sub.id.clone(),
        window: TimeWindow::default(),
        codes: vec![],
        page: page(100),
    };
    let requests = store.page_webhook_requests(&requests_query(&p.id)).await.expect("requests");
    assert_requests(&requests, &expected, "every request");
    let filtered = |f: &dyn Fn(&mut WebhookRequestsQuery)| {
        let mut query = requests_query(&p.id);
        f(&mut query);
        async move { store.page_webhook_requests(&query).await.expect("requests") }
    };
    let successes = vec![requests[1].clone(), requests[3].clone(), requests[4].clone()];
    assert_eq!(filtered(&|x| x.codes = vec![DeliveryCode::Success]).await, successes);
    let failed = vec![requests[0].clone(), requests[2].clone()];
    assert_eq!(filtered(&|x| x.codes = vec![DeliveryCode::BadResponse, DeliveryCode::RequestTimeout]).await, failed);
    assert!(filtered(&|x| x.codes = vec![DeliveryCode::InvalidUrl]).await.is_empty());
    assert_eq!(
        filtered(&|x| x.window = TimeWindow { after: Some(r1.created_at), before: Some(r4.created_at) }).await,
        requests[1..3]
    );
    assert_eq!(filtered(&|x| x.page = SeqPage { from_end: true, ..page(2) }).await, requests[3..]);
    assert_eq!(filtered(&|x| x.page = SeqPage { after: Some(requests[0].seq), ..page(2) }).await, requests[1..3]);
    assert!(store.page_webhook_requests(&requests_query(&q.id)).await.expect("q").is_empty(), "not q's");
    assert_eq!(store.get_webhook_request(&p.id, &req(3)).await.expect("get"), Some(requests[2].clone()));
    assert_eq!(store.get_webhook_request(&q.id, &req(3)).await.expect("get"), None, "not q's");
    assert_eq!(store.get_webhook_request(&p.id, &format!("{tag}-no-such-request")).await.expect("get"), None);

    // Attempts: per event over every request, and per request.
    let attempts_query = |partner_id: &PartnerId, of: AttemptsOf| WebhookAttemptsQuery {
        partner_id: partner_id.clone(),
        of,
        window: TimeWindow::default(),
        codes: vec![],
        page: page(100),
    };
    let attempts = |query: WebhookAttemptsQuery| async move {
        let found: Vec<WebhookAttemptRecord> = store.page_webhook_attempts(&query).await.expect("attempts");
        assert!(found.windows(2).all(|w| w[0].seq < w[1].seq), "attempts oldest first");
        found
    };
    let attempt_id = |o: &DeliveryOutcome, event: &Event| {
        o.attempts.iter().find(|(_, seq)| *seq == event.seq).map(|(id, _)| id.clone()).expect("attempted")
    };
    let of_first = attempts(attempts_query(&p.id, AttemptsOf::Event(evs[0].seq))).await;
    let summary = |list: &[WebhookAttemptRecord]| {
        list.iter().map(|a| (a.id.clone(), a.event.clone(), a.request.clone())).collect::<Vec<_>>()
    };
    assert_eq!(
        summary(&of_first),
        vec![
            (attempt_id(&r1, &evs[0]), evs[0].clone(), requests[0].clone()),
            (attempt_id(&r2, &evs[0]), evs[0].clone(), requests[1].clone()),
        ],
        "the first event's attempts: the failure, then the success"
    );
    let of_fourth = attempts(attempts_query(&p.id, AttemptsOf::Event(evs[3].seq))).await;
    assert_eq!(
        summary(&of_fourth),
        vec![
            (attempt_id(&r3, &evs[3]), evs[3].clone(), requests[2].clone()),
            (attempt_id(&r4, &evs[3]), evs[3].clone(), requests[3].clone()),
        ],
        "a's late attempt is recorded too"
    );
    let mut only_success = attempts_query(&p.id, AttemptsOf::Event(evs[0].seq));
    only_success.codes = vec![DeliveryCode::Success];
    assert_eq!(attempts(only_success).await, of_first[1..]);
    let of_r1 = attempts(attempts_query(&p.id, AttemptsOf::Request(req(1)))).await;
    assert_eq!(
        summary(&of_r1),
        evs[..3].iter().map(|e| (attempt_id(&r1, e), e.clone(), requests[0].clone())).collect::<Vec<_>>(),
        "a request's attempts, one per event of its batch"
    );
    let mut limited = attempts_query(&p.id, AttemptsOf::Request(req(1)));
    limited.page = SeqPage { from_end: true, ..page(1) };
    assert_eq!(attempts(limited).await, of_r1[2..]);
    assert!(attempts(attempts_query(&q.id, AttemptsOf::Event(evs[0].seq))).await.is_empty(), "not q's");
    assert!(attempts(attempts_query(&q.id, AttemptsOf::Request(req(1)))).await.is_empty(), "not q's");

    // The operator's view of recent requests.
    let failures = store.recent_webhook_requests(100, true).await.expect("recent failures");
    let names = |list: &[WebhookRequestRecord]| list.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>();
    let failure_ids = names(&failures);
    assert!(failure_ids.contains(&req(1)) && failure_ids.contains(&req(3)), "{failure_ids:?}");
    assert!(!failure_ids.contains(&req(2)) && !failure_ids.contains(&req(5)), "no successes: {failure_ids:?}");
    assert!(failures.iter().all(|r| r.code != DeliveryCode::Success));
    let recent = names(&store.recent_webhook_requests(100, false).await.expect("recent"));
    let position = |id: String| recent.iter().position(|r| *r == id).expect("recent holds it");
    assert!(position(req(5)) < position(req(4)) && position(req(4)) < position(req(1)), "newest first: {recent:?}");
}

/// Replays re-queue what they select of the partner's stream for the subscription (by id,
/// or by window with or without delivered events), and are recorded for their partner.
pub async fn replays_requeue_and_are_recorded(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let h2 = hirer(store, &format!("{tag} hirer two")).await;
    let h3 = hirer(store, &format!("{tag} hirer three")).await;
    let p = partner(store, &format!("{tag} ATS")).await;
    let q = partner(store, &format!("{tag} other ATS")).await;
    store.set_relationships(&p.id, &h.id, &[Export], &stamp()).await.expect("relate");
    store.set_relationships(&p.id, &h2.id, &[Export], &stamp()).await.expect("relate two");
    store.set_relationships(&q.id, &h3.id, &[Export], &stamp()).await.expect("relate q");
    let new = new_position(&h.id, "Replayed", t(0));
    let posted_id = new.event_id.clone();
    let pos = store.create_position(new).await.expect("create position");
    let pos2 = open_position(store, &h2.id, "Replayed two").await;
    let pos3 = open_position(store, &h3.id, "Theirs").await;

    // Before any subscription exists.
    let old = app_at(&pos, &tag, 0, t(1000));
    store.ingest_applications(std::slice::from_ref(&old)).await.expect("ingest old");

    let url = format!("https://{tag}.example/replays");
    let sub = subscribe(store, subscription(&p.id, Applied, &url, None, 10, t(0))).await;
    let scoped = subscribe(store, subscription(&p.id, Applied, &url, Some(&h2.id), 10, t(0))).await;
    let q_sub = subscribe(store, subscription(&q.id, Applied, &url, None, 10, t(0))).await;

    let (a1, a2, a3) = (app_at(&pos, &tag, 1, t(2000)), app_at(&pos, &tag, 2, t(3000)), app_at(&pos, &tag, 3, t(4000)));
    let b1 = app_at(&pos2, &tag, 4, t(5000));
    let q1 = app_at(&pos3, &tag, 5, t(3000));
    store.ingest_applications(&[a1.clone(), a2.clone(), a3.clone(), b1.clone(), q1.clone()]).await.expect("ingest");
    let event = |app: &NewApplicationRecord| {
        let id = app.event.id.clone();
        let partner_id = p.id.clone();
        async move { store.get_event(&partner_id, &id).await.expect("get").expect("in p's stream") }
    };
    let (e_old, e1, e2, e3, f1) =
        (event(&old).await, event(&a1).await, event(&a2).await, event(&a3).await, event(&b1).await);

    let d = Dispatcher::new(store);
    assert_eq!(d.deliver_all(&sub.id).await, vec![e1.clone(), e2.clone(), e3.clone(), f1.clone()], "not the old one");
    assert_eq!(d.deliver_all(&scoped.id).await, vec![f1.clone()], "only its hirer's");
    assert_eq!(d.deliver_all(&q_sub.id).await.len(), 1);
    assert!(queued(store, &p.id, &sub.id, Some(false)).await.is_empty(), "everything delivered");

    let replay = |sub: &ObjectId, request: ReplayRequest| NewReplay {
        id: new_id(IdKind::WebhookSubscriptionReplay),
        partner_id: p.id.clone(),
        subscription_id: sub.clone(),
        request,
        created_at: now_ms(),
    };

    // By id: exactly the given events of the partner that match the subscription.
    let by_id = replay(
        &sub.id,
        ReplayRequest::ById(vec![
            a1.event.id.clone(),
            a3.event.id.clone(),
            q1.event.id.clone(),
            posted_id.clone(),
            new_id(IdKind::Event),
        ]),
    );
    let r1 = store.replay_webhook_subscription(by_id.clone()).await.expect("replay by id");
    assert_eq!(r1.queued, 2, "another partner's, another type's and unknown ids are ignored");
    assert_eq!((&r1.id, &r1.subscription_id, &r1.request), (&by_id.id, &sub.id, &by_id.request));
    assert_eq!(r1.status, "Completed");
    assert_eq!((r1.created_at, r1.updated_at), (by_id.created_at, by_id.created_at));
    assert_eq!(queued(store, &p.id, &sub.id, Some(false)).await, vec![e1.clone(), e3.clone()], "re-queued");
    assert!(queued(store, &p.id, &scoped.id, Some(false)).await.is_empty(), "other subscriptions untouched");
    assert_eq!(d.deliver_all(&sub.id).await, vec![e1.clone(), e3.clone()]);
    let r2 = store
        .replay_webhook_subscription(replay(
            &scoped.id,
            ReplayRequest::ById(vec![a1.event.id.clone(), b1.event.id.clone()]),
        ))
        .await
        .expect("replay scoped");
    assert_eq!(r2.queued, 1, "a hirer-scoped subscription takes only its hirer's events");
    assert_eq!(d.deliver_all(&scoped.id).await, vec![f1.clone()]);

    // By range, undelivered only: delivered events stay delivered, an event that was never
    // queued (created before the subscription) is queued.
    let window = |after: i64, before: i64, hirer_id: Option<&HirerId>, replay_delivered: bool| ReplayRequest::ByRange {
        after: t(after),
        before: t(before),
        hirer_id: hirer_id.cloned(),
        replay_delivered,
    };
    let r3 = store.replay_webhook_subscription(replay(&sub.id, window(0, 10_000, None, false))).await.expect("range");
    assert_eq!(r3.queued, 1, "only the never-queued event");
    assert_eq!(queued(store, &p.id, &sub.id, Some(false)).await, vec![e_old.clone()]);
    assert_eq!(d.deliver_all(&sub.id).await, vec![e_old.clone()]);

    // By range with delivered events, one hirer, bounds exclusive: a1..a3 (not `old`, at the
    // lower bound; not b1, another hirer's).
    let r4 = store.replay_webhook_subscription(replay(&sub.id, window(1000, 10_000, Some(&h.id), true))).await;
    let r4 = r4.expect("range with delivered");
    assert_eq!(r4.queued, 3);
    assert_eq!(queued(store, &p.id, &sub.id, Some(false)).await, vec![e1.clone(), e2.clone(), e3.clone()]);
    assert_eq!(d.deliver_all(&sub.id).await, vec![e1.clone(), e2.clone(), e3.clone()]);
    let r5 = store.replay_webhook_subscription(replay(&sub.id, window(4000, 10_000, None, true))).await;
    let r5 = r5.expect("range, another window");
    assert_eq!(r5.queued, 1, "b1 alone in (4s, 10s)");
    assert_eq!(queued(store, &p.id, &sub.id, Some(false)).await, vec![f1.clone()]);
    assert_eq!(d.deliver_all(&sub.id).await, vec![f1.clone()]);

    // Unknown or another partner's subscription.
    let unknown = replay(&new_id(IdKind::WebhookSubscription), ReplayRequest::ById(vec![a1.event.id.clone()]));
    assert_not_found(store.replay_webhook_subscription(unknown.clone()).await, "webhook subscription");
    let foreign = replay(&q_sub.id, ReplayRequest::ById(vec![q1.event.id.clone()]));
    assert_not_found(store.replay_webhook_subscription(foreign.clone()).await, "webhook subscription");
    let q_foreign = NewReplay { partner_id: q.id.clone(), ..replay(&sub.id, window(0, 10_000, None, true)) };
    assert_not_found(store.replay_webhook_subscription(q_foreign.clone()).await, "webhook subscription");
    for refused in [&unknown, &foreign, &q_foreign] {
        assert_eq!(store.get_replay(&refused.partner_id, &refused.id).await.expect("get"), None, "not recorded");
    }
    assert!(queued(store, &p.id, &sub.id, Some(false)).await.is_empty(), "a refused replay queues nothing");

    // Recorded, for the partner only.
    assert_eq!(store.get_replay(&p.id, &r1.id).await.expect("get"), Some(r1.clone()));
    assert_eq!(store.get_replay(&p.id, &r4.id).await.expect("get"), Some(r4.clone()));
    assert_eq!(store.get_replay(&q.id, &r1.id).await.expect("get"), None, "not q's");
    assert_eq!(store.get_replay(&p.id, &new_id(IdKind::WebhookSubscriptionReplay)).await.expect("get"), None);
    let replays = |partner_id: &PartnerId, sub: &ObjectId, status: Option<&str>, page: SeqPage| {
        let query = ReplaysQuery {
            partner_id: partner_id.clone(),
            subscription_id: sub.clone(),
            status: status.map(str::to_owned),
            page,
        };
        async move { store.page_replays(&query).await.expect("page replays") }
    };
    let of_sub: Vec<Replay> = vec![r1.clone(), r3.clone(), r4.clone(), r5.clone()];
    assert_eq!(replays(&p.id, &sub.id, None, page(100)).await, of_sub, "creation order");
    assert!(of_sub.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(replays(&p.id, &scoped.id, None, page(100)).await, vec![r2.clone()]);
    assert_eq!(replays(&p.id, &sub.id, Some("Completed"), page(100)).await, of_sub);
    assert!(replays(&p.id, &sub.id, Some("Running"), page(100)).await.is_empty());
    assert_eq!(replays(&p.id, &sub.id, None, page(2)).await, of_sub[..2]);
    assert_eq!(replays(&p.id, &sub.id, None, SeqPage { after: Some(r3.seq), ..page(2) }).await, of_sub[2..]);
    assert_eq!(replays(&p.id, &sub.id, None, SeqPage { from_end: true, ..page(1) }).await, of_sub[3..]);
    assert!(replays(&q.id, &sub.id, None, page(100)).await.is_empty(), "not q's");
    assert!(replays(&p.id, &q_sub.id, None, page(100)).await.is_empty());
}

/// Retention deletes events (with their streams, deliveries and attempts), webhook requests
/// (with their attempts) and replays created before the cut-off, and keeps newer ones.
pub async fn event_retention_purge(store: &dyn Store) {
    let tag = tag();
    // 2001-01-01T00:00:00Z: far before anything other stories create.
    let y = |ms: i64| at(978_307_200_000 + ms);
    let h = hirer(store, &format!("{tag} hirer")).await;
    let p = partner(store, &format!("{tag} ATS")).await;
    let related = stamp_at(y(1000));
    store.set_relationships(&p.id, &h.id, &[Export], &related).await.expect("relate");
    let new = new_position(&h.id, "Ancient", y(1000));
    let posted_id = new.event_id.clone();
    let pos = store.create_position(new).await.expect("create position");
    let url = format!("https://{tag}.example/retention");
    let sub = subscribe(store, subscription(&p.id, Applied, &url, None, 2, y(0))).await;

    let (o1, o2) = (app_at(&pos, &tag, 1, y(1000)), app_at(&pos, &tag, 2, y(2000)));
    store.ingest_applications(&[o1.clone(), o2.clone()]).await.expect("ingest old");
    let d = Dispatcher::new(store);
    // Old requests: a failure, then a success, both in 2001.
    let old_failure = d.send(&sub.id, DeliveryCode::BadResponse, y(10_000)).await.expect("a batch");
    let old_success = d.send(&sub.id, DeliveryCode::Success, y(20_000)).await.expect("a batch again");
    assert_eq!(old_success.attempts.len(), 2);
    // A new one, of a new event.
    let n1 = app_at(&pos, &tag, 3, t(0));
    store.ingest_applications(std::slice::from_ref(&n1)).await.expect("ingest new");
    let new_success = d.send(&sub.id, DeliveryCode::Success, now_ms()).await.expect("the new event");
    // A new request attempting an old event, through an old replay.
    let old_replay = NewReplay {
        id: new_id(IdKind::WebhookSubscriptionReplay),
        partner_id: p.id.clone(),
        subscription_id: sub.id.clone(),
        request: ReplayRequest::ById(vec![o1.event.id.clone()]),
        created_at: y(30_000),
    };
    assert_eq!(store.replay_webhook_subscription(old_replay.clone()).await.expect("replay").queued, 1);
    let new_on_old = d.send(&sub.id, DeliveryCode::Success, now_ms()).await.expect("the replayed event");
    assert_eq!(new_on_old.attempts.len(), 1);
    let new_replay = NewReplay {
        id: new_id(IdKind::WebhookSubscriptionReplay),
        request: ReplayRequest::ByRange { after: t(-1), before: t(1), hirer_id: None, replay_delivered: false },
        created_at: now_ms(),
        ..old_replay.clone()
    };
    assert_eq!(store.replay_webhook_subscription(new_replay.clone()).await.expect("replay").queued, 0);
    // An old event and a new one left pending.
    let (o3, n2) = (app_at(&pos, &tag, 4, y(3000)), app_at(&pos, &tag, 5, t(1)));
    store.ingest_applications(&[o3.clone(), n2.clone()]).await.expect("ingest pending");
    let old_events =
        [related.id.clone(), posted_id.clone(), o1.event.id.clone(), o2.event.id.clone(), o3.event.id.clone()];
    let kept = store.get_event(&p.id, &n1.event.id).await.expect("get").expect("the new event");
    let pending = store.get_event(&p.id, &n2.event.id).await.expect("get").expect("the new pending event");

    // A cut-off at the oldest of these removes none of them (created exactly then is kept);
    // it also clears whatever older data a shared database holds.
    store.purge_events_before(y(1000)).await.expect("purge at the boundary");
    for id in &old_events {
        assert!(store.get_event(&p.id, id).await.expect("get").is_some(), "created at the cut-off: kept");
    }
    let before = store.webhook_queue_stats().await.expect("stats");
    assert_eq!(before.oldest_pending, Some(o3.event.at), "the pending 2001 event is the oldest");

    let purged = store.purge_events_before(y(86_400_000)).await.expect("purge");
    assert_eq!(purged, PurgedEvents { events: 5, requests: 2 }, "this story's 2001 events and requests");
    for id in &old_events {
        assert_eq!(store.get_event(&p.id, id).await.expect("get"), None, "an old event is gone");
    }
    assert_eq!(stream(store, &p.id).await, vec![kept.clone(), pending.clone()], "only the new events remain");
    let after = store.webhook_queue_stats().await.expect("stats");
    assert_eq!(after.pending, before.pending - 1, "the old pending delivery went with its event");
    let oldest = after.oldest_pending.expect("the new event is still pending");
    assert!(oldest > o3.event.at && oldest <= n2.event.at, "{oldest} after the purge");

    for gone in [&old_failure, &old_success] {
        assert_eq!(store.get_webhook_request(&p.id, &gone.request_id).await.expect("get"), None, "old request gone");
    }
    for stays in [&new_success, &new_on_old] {
        assert!(store.get_webhook_request(&p.id, &stays.request_id).await.expect("get").is_some(), "new request kept");
    }
    let attempts = |of: AttemptsOf| {
        let query = WebhookAttemptsQuery {
            partner_id: p.id.clone(),
            of,
            window: TimeWindow::default(),
            codes: vec![],
            page: page(100),
        };
        async move { store.page_webhook_attempts(&query).await.expect("attempts") }
    };
    assert!(attempts(AttemptsOf::Request(new_on_old.request_id.clone())).await.is_empty(), "its event is gone");
    assert!(attempts(AttemptsOf::Request(old_success.request_id.clone())).await.is_empty(), "its request is gone");
    let of_new = attempts(AttemptsOf::Request(new_success.request_id.clone())).await;
    assert_eq!(of_new.iter().map(|a| a.event.clone()).collect::<Vec<_>>(), vec![kept.clone()], "new attempts stay");
    assert_eq!(attempts(AttemptsOf::Event(kept.seq)).await, of_new);
    let requests = WebhookRequestsQuery {
        partner_id: p.id.clone(),
        subscription_id: sub.id.clone(),
        window: TimeWindow::default(),
        codes: vec![],
        page: page(100),
    };
    let left: Vec<String> =
        store.page_webhook_requests(&requests).await.expect("requests").into_iter().map(|r| r.request_id).collect();
    assert_eq!(left, vec![new_success.request_id.clone(), new_on_old.request_id.clone()]);

    assert_eq!(store.get_replay(&p.id, &old_replay.id).await.expect("get"), None, "old replay gone");
    assert!(store.get_replay(&p.id, &new_replay.id).await.expect("get").is_some(), "new replay kept");
    assert!(store.get_webhook_subscription(&p.id, &sub.id).await.expect("get").is_some(), "subscriptions stay");
    assert_eq!(queued(store, &p.id, &sub.id, None).await, vec![kept, pending], "only the new events' deliveries");

    let again = store.purge_events_before(y(86_400_000)).await.expect("purge again");
    assert_eq!(again, PurgedEvents::default(), "nothing older is left");
}

/// Erasing a candidate emits one `CandidateErased` event (the candidate's hirer and id, no
/// profile) in the erasure's transaction, into the stream of every partner holding
/// `ApplicationExport` with the hirer now and of every partner that was sent one of the
/// candidate's applications, whatever it holds now; not to job posters or partners of other
/// hirers. Only `CandidateErased` subscriptions queue it. An erasure that fails emits nothing.
pub async fn erasure_reaches_partners_sent_or_entitled(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} erasing hirer")).await;
    let elsewhere = hirer(store, &format!("{tag} other hirer")).await;
    let exporter = partner(store, &format!("{tag} exporter")).await;
    let former = partner(store, &format!("{tag} former exporter")).await;
    let newcomer = partner(store, &format!("{tag} new exporter")).await;
    let poster = partner(store, &format!("{tag} poster")).await;
    let stranger = partner(store, &format!("{tag} stranger")).await;
    for (p, hirer_id, types) in [
        (&exporter, &h.id, &[Export][..]),
        (&former, &h.id, &[Export][..]),
        (&poster, &h.id, &[Posting][..]),
        (&stranger, &elsewhere.id, &[Export][..]),
    ] {
        store.set_relationships(&p.id, hirer_id, types, &stamp()).await.expect("relate");
    }
    let erasures =
        subscribe(store, subscription(&exporter.id, Erased, "https://erased.example/", None, 10, t(0))).await;
    let applications =
        subscribe(store, subscription(&exporter.id, Applied, "https://applied.example/", None, 10, t(0))).await;
    let posters = subscribe(store, subscription(&poster.id, Erased, "https://poster.example/", None, 10, t(0))).await;

    let pos = open_position(store, &h.id, "Erasable").await;
    let (first, second) = (app_at(&pos, &tag, 1, t(1000)), app_at(&pos, &tag, 1, t(2000)));
    let kept = app_at(&pos, &tag, 2, t(3000));
    let done = store.ingest_applications(&[first, second, kept]).await.expect("ingest");
    let candidate = done[0].candidate_id.clone();
    assert_eq!(done[1].candidate_id, candidate, "one candidate, two applications");

    // `former` loses ApplicationExport after being sent the applications; `newcomer` gains it
    // after them. Both hold or may read copies, so both hear of the erasure.
    store.set_relationships(&former.id, &h.id, &[Posting], &stamp()).await.expect("revoke");
    store.set_relationships(&newcomer.id, &h.id, &[Export], &stamp()).await.expect("grant");

    let before: Vec<Event> = stream(store, &exporter.id).await;
    let erasing = stamp();
    store.erase_candidate(&candidate, &erasing).await.expect("erase");
    let expected = Event {
        seq: 0,
        id: erasing.id.clone(),
        event_type: Erased,
        hirer_id: h.id.clone(),
        created_at: erasing.at,
        candidate_profile_id: None,
        candidate_id: Some(candidate.clone()),
        position_profile_id: None,
    };
    for (p, what) in [(&exporter, "an exporter"), (&former, "a former exporter"), (&newcomer, "a new exporter")] {
        let event = store.get_event(&p.id, &erasing.id).await.expect("get").unwrap_or_else(|| panic!("{what} hears"));
        assert_eq!(Event { seq: 0, ..event }, expected, "{what}");
    }
    for (p, what) in [(&poster, "a job poster"), (&stranger, "another hirer's exporter")] {
        assert_eq!(store.get_event(&p.id, &erasing.id).await.expect("get"), None, "{what} does not hear");
    }
    let after = stream(store, &exporter.id).await;
    assert_eq!(&after[..before.len()], &before[..], "the stream only grows");
    assert_events(&after[before.len()..], std::slice::from_ref(&expected), "one event per erasure");

    // Delivery: the erasure subscription only.
    assert_events(
        &queued(store, &exporter.id, &erasures.id, Some(false)).await,
        std::slice::from_ref(&expected),
        "queued",
    );
    let applied_queue = queued(store, &exporter.id, &applications.id, None).await;
    assert!(applied_queue.iter().all(|e| e.event_type == Applied), "{applied_queue:?}");
    assert_eq!(applied_queue.len(), 3, "the three applications only");
    assert!(queued(store, &poster.id, &posters.id, None).await.is_empty(), "nothing for a job poster");

    // Type filters: asked for, it is listed; SEEK's types leave it out.
    let only = EventsQuery { types: vec![Erased], ..events_query(&exporter.id) };
    assert_events(&events(store, &only).await, std::slice::from_ref(&expected), "filtered to erasures");
    let seek = EventsQuery { types: EventType::SEEK.to_vec(), ..events_query(&exporter.id) };
    assert!(events(store, &seek).await.iter().all(|e| e.event_type != Erased), "SEEK's types only");

    // Erasing again tells the partners again; an unknown candidate emits nothing.
    let again = stamp();
    store.erase_candidate(&candidate, &again).await.expect("erase again");
    assert!(store.get_event(&exporter.id, &again.id).await.expect("get").is_some());
    let unknown = stamp();
    assert_not_found(store.erase_candidate(&new_id(IdKind::Candidate), &unknown).await, "candidate");
    assert_eq!(store.get_event(&exporter.id, &unknown.id).await.expect("get"), None);
}

/// The head of the event stream (for metrics) is the newest event, whoever's stream holds it;
/// pool statistics are consistent.
pub async fn event_stream_head_and_pool_stats(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let a = partner(store, &format!("{tag} exporter")).await;
    store.set_relationships(&a.id, &h.id, &[Export], &stamp()).await.expect("relate");
    let pos = open_position(store, &h.id, "Head").await;
    let at = now_ms();
    let app = app_at(&pos, &tag, 1, at);
    store.ingest_applications(std::slice::from_ref(&app)).await.expect("ingest");
    let event = store.get_event(&a.id, &app.event.id).await.expect("get").expect("in a's stream");
    let head = store.event_stream_head().await.expect("head");
    assert_eq!(head, crate::EventStreamHead { newest_seq: Some(event.seq), newest_at: Some(at) });

    let pools = store.pool_stats();
    assert!(!pools.is_empty());
    for pool in pools {
        assert!(pool.idle <= pool.open && pool.open <= pool.max && pool.max >= 1, "{pool:?}");
    }
}
