//! Erasure reaches partners: erasing a candidate emits candex's `CandidateErased` extension
//! event, delivered by signed webhook only to subscriptions of that type of partners entitled
//! to the candidate's applications, and listed by `events` only when asked for, so a partner
//! that knows only SEEK's event types sees exactly SEEK's behaviour.

use std::time::Duration;

use candex_server::webhooks::{RetrySchedule, WebhookSettings};
use candex_testkit::receiver::{Behaviour, Receiver};
use candex_testkit::Partner;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha512;

use crate::helpers::TestApp;

const SECRET: &str = "an-erasure-webhook-secret";

const CREATE: &str = "mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    __typename
    ... on CreateWebhookSubscriptionPayload_Success { webhookSubscription { id { value } } }
  }
}";

const EVENTS: &str = r#"query($filter: EventsFilterInput) {
  events(schemeId: "seekAnzPublicTest", first: 100, filter: $filter) {
    edges { node { __typename id { value } typeCode
      ... on CandidateErasedEvent { candidateId hirerId } } }
  }
}"#;

const EVENT: &str = r#"query($id: String!) { event(id: $id) { __typename typeCode
  ... on CandidateErasedEvent { candidateId hirerId } } }"#;

async fn subscribe(app: &TestApp, token: &str, event_type: &str, url: &str) -> String {
    let input = json!({"webhookSubscription": {"eventTypeCode": event_type, "schemeId": "seekAnzPublicTest",
        "url": url, "signingAlgorithmCode": "SeekHmacSha512", "secret": SECRET}});
    let res = app.graphql(Some(token), CREATE, json!({"input": input})).await;
    let payload = &res["data"]["createWebhookSubscription"];
    assert_eq!(payload["__typename"], "CreateWebhookSubscriptionPayload_Success", "{res}");
    payload["webhookSubscription"]["id"]["value"].as_str().expect("id").to_owned()
}

async fn events(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let res = app.graphql(Some(token), EVENTS, json!({"filter": filter})).await;
    assert!(res["errors"].is_null(), "{res}");
    res["data"]["events"]["edges"].as_array().expect("edges").iter().map(|e| e["node"].clone()).collect()
}

fn types(nodes: &[Value]) -> Vec<&str> {
    nodes.iter().map(|n| n["typeCode"].as_str().expect("typeCode")).collect()
}

fn hex_hmac_sha512(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn an_erasure_reaches_entitled_partners_that_subscribe_to_it_and_no_one_else() {
    let app = TestApp::spawn_with(|s| candex_server::Settings {
        webhooks: WebhookSettings {
            allow_private_targets: true,
            retry: RetrySchedule { base: Duration::from_millis(20), max: Duration::from_millis(200) },
            poll_interval: Duration::from_millis(50),
            ..WebhookSettings::default()
        },
        ..s
    })
    .await;
    let hirer = app.create_hirer("Acme").await;
    let (exporter, seek_only, poster): (Partner, Partner, Partner) = (
        app.create_partner("Erasing ATS").await,
        app.create_partner("SEEK-only ATS").await,
        app.create_partner("Poster").await,
    );
    app.relate(&exporter, &hirer, &["ApplicationExport"]).await;
    app.relate(&seek_only, &hirer, &["ApplicationExport"]).await;
    app.relate(&poster, &hirer, &["JobPosting"]).await;
    let (t_exporter, t_seek, t_poster) =
        (app.token(&exporter).await, app.token(&seek_only).await, app.token(&poster).await);

    let erasures = Receiver::start(|_| Behaviour::Status(204)).await;
    let seek_applications = Receiver::start(|_| Behaviour::Status(204)).await;
    let poster_erasures = Receiver::start(|_| Behaviour::Status(204)).await;
    let erasure_sub = subscribe(&app, &t_exporter, "CandidateErased", &erasures.url).await;
    let seek_sub = subscribe(&app, &t_seek, "CandidateApplicationCreated", &seek_applications.url).await;
    let poster_sub = subscribe(&app, &t_poster, "CandidateErased", &poster_erasures.url).await;

    let position = app.create_position(&hirer, "Engineer").await;
    let (_, candidate) = app.apply(&position, "gone@example.com").await;
    let (_, again) = app.apply(&position, "gone@example.com").await;
    assert_eq!(again, candidate);
    let (_, kept) = app.apply(&position, "kept@example.com").await;
    seek_applications
        .wait_for(Duration::from_secs(10), "three applications", |r| {
            r.iter().map(|got| got.json()["events"].as_array().map_or(0, Vec::len)).sum::<usize>() == 3
        })
        .await;

    let (status, body) = app.operator(Method::DELETE, &format!("/candidates/{candidate}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The subscribed, entitled partner gets one signed webhook naming the candidate.
    erasures.wait_for(Duration::from_secs(10), "the erasure webhook", |r| !r.is_empty()).await;
    let got = &erasures.received()[0];
    assert_eq!(got.headers["seek-signature"], hex_hmac_sha512(SECRET.as_bytes(), &got.body));
    let body = got.json();
    assert_eq!(body["subscriptionId"], erasure_sub.as_str());
    let sent = body["events"].as_array().expect("events");
    assert_eq!(sent.len(), 1, "{body}");
    let text = String::from_utf8(got.body.clone()).expect("utf-8");
    let mut keys: Vec<&str> = sent[0].as_object().expect("event").keys().map(String::as_str).collect();
    keys.sort_by_key(|k| text.find(&format!("\"{k}\":")).expect("key in the raw body"));
    assert_eq!(keys, ["id", "type", "createDateTime", "candidateId", "hirerId"], "ids only, no personal data");
    assert_eq!(sent[0]["type"], "CandidateErased");
    assert_eq!(sent[0]["candidateId"], candidate.as_str());
    assert_eq!(sent[0]["hirerId"], hirer.as_str());
    let event_id = sent[0]["id"].as_str().expect("event id").to_owned();

    // Deliveries are written with the erasure: nothing was queued for the job poster (not
    // entitled) or for SEEK's event type, so nothing can arrive later either.
    assert!(events(&app, &t_poster, json!({"subscriptionId": poster_sub})).await.is_empty());
    assert!(poster_erasures.received().is_empty());
    let seek_queue = events(&app, &t_seek, json!({"subscriptionId": seek_sub})).await;
    assert_eq!(types(&seek_queue), ["CandidateApplicationCreated"; 3], "SEEK's type only");

    // Polling: without eventTypeCodes, SEEK's stream exactly; the extension when asked for.
    for token in [&t_exporter, &t_seek] {
        let all = events(&app, token, json!({})).await;
        assert!(!types(&all).contains(&"CandidateErased"), "{all:?}");
        assert_eq!(types(&all).iter().filter(|t| **t == "CandidateApplicationCreated").count(), 3);
        let asked = events(&app, token, json!({"eventTypeCodes": ["CandidateErased"]})).await;
        assert_eq!(asked.len(), 1, "an entitled partner's stream has it: {asked:?}");
        assert_eq!(asked[0]["__typename"], "CandidateErasedEvent");
        assert_eq!(asked[0]["id"]["value"], event_id.as_str());
        assert_eq!(
            (asked[0]["candidateId"].as_str(), asked[0]["hirerId"].as_str()),
            (Some(&*candidate), Some(&*hirer))
        );
        let both =
            events(&app, token, json!({"eventTypeCodes": ["CandidateApplicationCreated", "CandidateErased"]})).await;
        assert_eq!(types(&both).last(), Some(&"CandidateErased"), "in stream order, after the applications");
        let one = app.graphql(Some(token), EVENT, json!({"id": event_id})).await;
        assert_eq!(one["data"]["event"]["__typename"], "CandidateErasedEvent", "{one}");
    }
    assert!(events(&app, &t_poster, json!({"eventTypeCodes": ["CandidateErased"]})).await.is_empty());
    let hidden = app.graphql(Some(&t_poster), EVENT, json!({"id": event_id})).await;
    assert_eq!(hidden["data"]["event"], Value::Null, "not in a job poster's stream: {hidden}");

    // The other candidate was not erased.
    let erased_ids: Vec<String> = events(&app, &t_exporter, json!({"eventTypeCodes": ["CandidateErased"]}))
        .await
        .iter()
        .map(|n| n["candidateId"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!erased_ids.contains(&kept));
}
