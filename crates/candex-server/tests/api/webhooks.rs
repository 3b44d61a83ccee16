//! Webhook delivery end to end: the outbox, the dispatcher, signatures checked independently,
//! a chaos receiver, `Retry-After`, replays, and the delivery records partners read.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use candex_server::webhooks::{RetrySchedule, WebhookSettings};
use candex_testkit::receiver::{Behaviour, Receiver};
use hmac::{Hmac, Mac};
use rand::{Rng, SeedableRng};
use serde_json::json;
use sha2::{Sha256, Sha512};

use crate::helpers::TestApp;

const SECRET: &str = "a-webhook-secret-of-decent-length";

/// Fast settings: short timeout and backoff so failures retry within a test's patience.
fn fast_webhooks() -> WebhookSettings {
    WebhookSettings {
        allow_private_targets: true,
        timeout: Duration::from_millis(400),
        retry: RetrySchedule { base: Duration::from_millis(20), max: Duration::from_millis(200) },
        poll_interval: Duration::from_millis(50),
        ..WebhookSettings::default()
    }
}

struct World {
    app: TestApp,
    token: String,
    hirer: String,
    position: String,
}

async fn world() -> World {
    let app = TestApp::spawn_with(|s| candex_server::Settings { webhooks: fast_webhooks(), ..s }).await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Engineer").await;
    let token = app.token(&partner).await;
    World { app, token, hirer, position }
}

const CREATE: &str = "mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    __typename
    ... on CreateWebhookSubscriptionPayload_Success { webhookSubscription { id { value } } }
    ... on CreateWebhookSubscriptionPayload_Conflict { conflictingWebhookSubscription { id { value } } }
  }
}";

async fn subscribe(w: &World, url: &str, secret: Option<&str>, max_events: i32) -> String {
    let mut input = json!({
        "eventTypeCode": "CandidateApplicationCreated",
        "schemeId": "seekAnzPublicTest",
        "url": url,
        "maxEventsPerAttempt": max_events,
        "signingAlgorithmCode": if secret.is_some() { "SeekHmacSha512" } else { "None" },
    });
    if let Some(secret) = secret {
        input["secret"] = json!(secret);
    }
    let res = w.app.graphql(Some(&w.token), CREATE, json!({"input": {"webhookSubscription": input}})).await;
    let payload = &res["data"]["createWebhookSubscription"];
    assert_eq!(payload["__typename"], "CreateWebhookSubscriptionPayload_Success", "{res}");
    payload["webhookSubscription"]["id"]["value"].as_str().expect("subscription id").to_owned()
}

fn hex_hmac_sha512(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn an_ingest_is_delivered_signed_within_seconds_and_recorded() {
    let w = world().await;
    let receiver = Receiver::start(|_| Behaviour::Status(204)).await;
    let subscription = subscribe(&w, &receiver.url, Some(SECRET), 10).await;
    let (profile, candidate) = w.app.apply(&w.position, "sam@example.com").await;

    receiver.wait_for(Duration::from_secs(10), "the webhook", |r| !r.is_empty()).await;
    let got = &receiver.received()[0];

    // The signature, computed independently of candex's own code.
    assert_eq!(got.headers["seek-signature"], hex_hmac_sha512(SECRET.as_bytes(), &got.body));
    assert_eq!(got.headers["content-type"], "application/json");
    let request_id = got.headers["x-request-id"].clone();
    // Standard Webhooks: HMAC-SHA256 over "{id}.{timestamp}.{body}", base64.
    let (id, ts) = (&got.headers["webhook-id"], &got.headers["webhook-timestamp"]);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&got.body);
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(got.headers["webhook-signature"], expected);
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().expect("timestamp");
    assert!((0..60).contains(&age), "webhook-timestamp is {age} s old");

    // The body SEEK documents, keys and order included.
    let body = got.json();
    let text = String::from_utf8(got.body.clone()).unwrap();
    assert!(text.starts_with(r#"{"events":[{"id":"#), "{text}");
    assert_eq!(body["subscriptionId"], subscription.as_str());
    assert_eq!(body["url"], receiver.url.as_str());
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    let event = events[0].as_object().unwrap();
    let mut keys: Vec<&str> = event.keys().map(String::as_str).collect();
    keys.sort_by_key(|k| text.find(&format!("\"{k}\":")).expect("key in the raw body"));
    assert_eq!(keys, ["id", "type", "createDateTime", "candidateApplicationProfileId", "candidateId", "hirerId"]);
    assert_eq!(event["type"], "CandidateApplicationCreated");
    assert_eq!(event["candidateApplicationProfileId"], profile.as_str());
    assert_eq!(event["candidateId"], candidate.as_str());
    assert_eq!(event["hirerId"], w.hirer.as_str());
    assert!(event["id"].as_str().unwrap().starts_with("seekAnzPublicTest:event:events:"));
    chrono::DateTime::parse_from_rfc3339(event["createDateTime"].as_str().unwrap()).expect("RFC 3339 time");

    // The delivery shows in the partner's diagnostics once the dispatcher has recorded it,
    // which happens after the receiver answered: poll for it rather than race it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (res, edges) = loop {
        let res = w
            .app
            .graphql(
                Some(&w.token),
                "query($id: String!) { webhookRequestsForSubscription(subscriptionId: $id) { edges { node {
                    requestId statusCode descriptionCode latencyMs
                    attempts { event { id { value } } webhookSubscription { id { value } } }
                } } } }",
                json!({"id": subscription}),
            )
            .await;
        let edges = res["data"]["webhookRequestsForSubscription"]["edges"].as_array().expect("edges").clone();
        if !edges.is_empty() || std::time::Instant::now() > deadline {
            break (res, edges);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(edges.len(), 1, "{res}");
    let node = &edges[0]["node"];
    assert_eq!(node["requestId"], request_id.as_str());
    assert_eq!(node["statusCode"], 204);
    assert_eq!(node["descriptionCode"], "Success");
    assert!(node["latencyMs"].as_i64().is_some());
    assert_eq!(node["attempts"][0]["event"]["id"]["value"], event["id"]);

    // Delivered, so the undelivered view of the subscription's stream is empty.
    let res = w
        .app
        .graphql(
            Some(&w.token),
            "query($s: String!, $d: Boolean) { events(schemeId: \"seekAnzPublicTest\",
                filter: {subscriptionId: $s, deliveredIndicator: $d}) { edges { node { id { value } } } } }",
            json!({"s": subscription, "d": false}),
        )
        .await;
    assert_eq!(res["data"]["events"]["edges"], json!([]), "{res}");

    let metrics = w.app.client.get(format!("{}/metrics", w.app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"candex_webhook_requests_total{code="Success"} 1"#), "{metrics}");
    assert!(metrics.contains("candex_webhook_pending_deliveries 0"), "{metrics}");
}

#[tokio::test]
async fn unsigned_subscriptions_get_neither_signature_nor_hirer_id() {
    let w = world().await;
    let receiver = Receiver::start(|_| Behaviour::Status(200)).await;
    subscribe(&w, &receiver.url, None, 10).await;
    w.app.apply(&w.position, "kim@example.com").await;
    receiver.wait_for(Duration::from_secs(10), "the webhook", |r| !r.is_empty()).await;
    let got = &receiver.received()[0];
    assert!(!got.headers.contains_key("seek-signature"));
    assert!(!got.headers.contains_key("webhook-signature"));
    assert!(got.headers.contains_key("x-request-id"));
    assert!(got.json()["events"][0].get("hirerId").is_none(), "{}", got.json());
}

#[tokio::test]
async fn batches_respect_max_events_per_attempt() {
    let w = world().await;
    // Fail until every application is in, so the events accumulate and go out in batches.
    let receiver = Receiver::start(|_| Behaviour::Status(500)).await;
    subscribe(&w, &receiver.url, Some(SECRET), 3).await;
    for i in 0..7 {
        w.app.apply(&w.position, &format!("c{i}@example.com")).await;
    }
    receiver.set(|_| Behaviour::Status(200));
    receiver.wait_for(Duration::from_secs(10), "7 events", |_| receiver_acknowledged(&receiver) == 7).await;
    for r in receiver.received() {
        assert!(r.event_ids().len() <= 3, "a request carried {} events", r.event_ids().len());
    }
}

fn receiver_acknowledged(receiver: &Receiver) -> usize {
    receiver.acknowledged_counts().len()
}

#[tokio::test]
async fn retry_after_is_honoured_on_503() {
    let w = world().await;
    let receiver =
        Receiver::start(|n| if n == 0 { Behaviour::RetryAfter(503, 1) } else { Behaviour::Status(200) }).await;
    subscribe(&w, &receiver.url, Some(SECRET), 10).await;
    w.app.apply(&w.position, "ra@example.com").await;
    receiver.wait_for(Duration::from_secs(10), "the retry", |r| r.len() >= 2).await;
    let r = receiver.received();
    let gap = r[1].at - r[0].at;
    // The regular schedule would retry within 200 ms; Retry-After asked for a second.
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    assert_eq!(r[1].event_ids(), r[0].event_ids());
}

#[tokio::test]
async fn a_chaos_receiver_still_gets_every_one_of_1000_events() {
    let w = world().await;
    let hang = fast_webhooks().timeout * 2;
    // For its first 200 requests the receiver fails half the time (500), hangs past the
    // timeout or resets the connection; then it recovers.
    let receiver = Receiver::start(move |n| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
        if n >= 200 {
            return Behaviour::Status(200);
        }
        match rng.gen_range(0..100) {
            0..=49 => Behaviour::Status(500),
            50..=59 => Behaviour::Hang(hang),
            60..=69 => Behaviour::Reset,
            _ => Behaviour::Status(200),
        }
    })
    .await;
    subscribe(&w, &receiver.url, Some(SECRET), 10).await;

    // 1,000 applications through the operator API, 8 at a time.
    let mut profiles = HashSet::new();
    let emails: Vec<String> = (0..1000).map(|i| format!("chaos{i}@example.com")).collect();
    for chunk in emails.chunks(8) {
        let results = futures::future::join_all(chunk.iter().map(|e| w.app.apply(&w.position, e))).await;
        profiles.extend(results.into_iter().map(|(profile, _)| profile));
    }
    assert_eq!(profiles.len(), 1000);

    receiver
        .wait_for(Duration::from_secs(120), "all 1000 events acknowledged", |_| {
            receiver_acknowledged(&receiver) == 1000
        })
        .await;
    let received = receiver.received();
    let acknowledged: HashSet<String> = received
        .iter()
        .filter(|r| r.acknowledged())
        .flat_map(|r| r.json()["events"].as_array().unwrap().clone())
        .map(|e| e["candidateApplicationProfileId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(acknowledged, profiles, "every application's event was acknowledged");
    let deliveries: usize = receiver.acknowledged_counts().values().sum();
    // A receiver that processes before answering has also processed what it received in the
    // requests that then hung or were reset: the sender saw no answer and sends those again.
    let processed: usize = received
        .iter()
        .filter(|r| r.acknowledged() || matches!(r.behaviour, Behaviour::Hang(_) | Behaviour::Reset))
        .map(|r| r.event_ids().len())
        .sum();
    let count = |b: fn(&Behaviour) -> bool| received.iter().filter(|r| b(&r.behaviour)).count();
    println!(
        "chaos: {} requests ({} answered 500, {} hung past the timeout, {} reset); all 1000 events acknowledged; \
         {} acknowledged deliveries ({:.1}% duplicates among acknowledged); {} copies in requests that \
         were acknowledged, hung or reset: a {:.1}% duplicate rate for a receiver that processes before answering",
        received.len(),
        count(|b| *b == Behaviour::Status(500)),
        count(|b| matches!(b, Behaviour::Hang(_))),
        count(|b| *b == Behaviour::Reset),
        deliveries,
        (deliveries - 1000) as f64 / 10.0,
        processed,
        (processed - 1000) as f64 / 10.0,
    );
    // The server's own records agree: nothing left pending. The server records a delivery
    // after the receiver's answer reaches it, so the last ones may land a moment later.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let stats = w.app.store.webhook_queue_stats().await.expect("stats");
        if stats.pending == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} deliveries still pending after 30 s", stats.pending);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const REPLAY: &str = "mutation($input: ReplayWebhookSubscriptionInput!) {
  replayWebhookSubscription(input: $input) { webhookSubscription { id { value }
    webhookSubscriptionReplays { edges { node { statusCode request { typeCode } } } } } }
}";

#[tokio::test]
async fn replays_by_ids_and_by_range_redeliver() {
    let w = world().await;
    let receiver = Receiver::start(|_| Behaviour::Status(200)).await;
    let subscription = subscribe(&w, &receiver.url, Some(SECRET), 10).await;
    for i in 0..3 {
        w.app.apply(&w.position, &format!("r{i}@example.com")).await;
    }
    receiver.wait_for(Duration::from_secs(10), "3 events", |_| receiver_acknowledged(&receiver) == 3).await;
    let first: Vec<String> = receiver.received().iter().flat_map(|r| r.event_ids()).collect();
    let before = receiver.received().len();

    let res = w
        .app
        .graphql(
            Some(&w.token),
            REPLAY,
            json!({"input": {"webhookSubscription": {"id": subscription}, "eventIds": [first[0]]}}),
        )
        .await;
    assert!(res["errors"].is_null(), "{res}");
    receiver.wait_for(Duration::from_secs(10), "the replay by id", |r| r.len() > before).await;
    assert_eq!(receiver.received()[before].event_ids(), vec![first[0].clone()]);

    let before = receiver.received().len();
    let now = chrono::Utc::now();
    let res = w
        .app
        .graphql(
            Some(&w.token),
            REPLAY,
            json!({"input": {"webhookSubscription": {"id": subscription}, "filter": {
                "createdAfterDateTime": (now - chrono::Duration::hours(1)).to_rfc3339(),
                "createdBeforeDateTime": (now + chrono::Duration::minutes(1)).to_rfc3339(),
                "hirerId": w.hirer, "replayDeliveredEventsIndicator": true}}}),
        )
        .await;
    assert!(res["errors"].is_null(), "{res}");
    let replays = res["data"]["replayWebhookSubscription"]["webhookSubscription"]["webhookSubscriptionReplays"]
        ["edges"]
        .as_array()
        .expect("replays")
        .clone();
    let codes: Vec<&str> = replays.iter().map(|e| e["node"]["request"]["typeCode"].as_str().unwrap()).collect();
    assert_eq!(codes, ["IdReplayRequest", "RangeReplayRequest"]);
    receiver
        .wait_for(Duration::from_secs(10), "the replay by range", |r| {
            r[before..].iter().flat_map(|r| r.event_ids()).collect::<HashSet<_>>().len() == 3
        })
        .await;
    let again: HashSet<String> = receiver.received()[before..].iter().flat_map(|r| r.event_ids()).collect();
    assert_eq!(again, first.into_iter().collect::<HashSet<_>>());
}

#[tokio::test]
async fn every_failure_is_recorded_with_its_code_and_redirects_are_not_followed() {
    let w = world().await;
    let hang = fast_webhooks().timeout * 2;
    let script = [
        Behaviour::Status(302),
        Behaviour::Hang(hang),
        Behaviour::Reset,
        Behaviour::Status(500),
        Behaviour::Status(200),
    ];
    let receiver = Receiver::start(move |n| script.get(n).copied().unwrap_or(Behaviour::Status(200))).await;
    let subscription = subscribe(&w, &receiver.url, Some(SECRET), 10).await;
    w.app.apply(&w.position, "codes@example.com").await;
    receiver.wait_for(Duration::from_secs(20), "the fifth request", |r| r.len() >= 5).await;
    // The fifth request was acknowledged; its outcome is recorded right after.
    let query = "query($id: String!, $codes: [String!]) { webhookRequestsForSubscription(subscriptionId: $id,
        filter: {descriptionCodes: $codes}) { edges { node { statusCode descriptionCode latencyMs } } } }";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let nodes = loop {
        let res = w.app.graphql(Some(&w.token), query, json!({"id": subscription})).await;
        let nodes: Vec<(i64, String)> = res["data"]["webhookRequestsForSubscription"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| (e["node"]["statusCode"].as_i64().unwrap(), e["node"]["descriptionCode"].as_str().unwrap().into()))
            .collect();
        if nodes.len() >= 5 || tokio::time::Instant::now() > deadline {
            break nodes;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let expected =
        [(302, "BadResponse"), (504, "RequestTimeout"), (502, "BadResponse"), (500, "BadResponse"), (200, "Success")];
    assert_eq!(nodes, expected.map(|(s, c)| (s, c.to_owned())).to_vec());
    // The same event each time, and the receiver saw exactly one request per record: the 302
    // was not followed.
    let received = receiver.received();
    assert_eq!(received.len(), 5);
    assert!(received.iter().all(|r| r.event_ids() == received[0].event_ids()));

    let res = w.app.graphql(Some(&w.token), query, json!({"id": subscription, "codes": ["RequestTimeout"]})).await;
    let edges = res["data"]["webhookRequestsForSubscription"]["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len(), 1, "{res}");
    let latency = edges[0]["node"]["latencyMs"].as_i64().expect("latency");
    assert!(latency >= 390, "a timeout takes the whole timeout: {latency} ms");
}
