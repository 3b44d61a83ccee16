//! Managing webhook subscriptions through GraphQL: create (with conflicts), list, update,
//! delete and replay; input validation with SEEK's JSON pointers; secrets that never come
//! back; the SSRF guard on targets; browser tokens refused; another partner's subscription
//! reading and writing exactly like a missing one.

use std::time::Duration;

use candex_server::webhooks::WebhookSettings;
use candex_testkit::receiver::{Behaviour, Receiver};
use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp, TestPartner};

const SCHEME: &str = "seekAnzPublicTest";
const SECRET: &str = "correct-horse-battery-staple-42";
const TARGET: &str = "http://127.0.0.1:9/hooks";

const FIELDS: &str = "id { value } url eventTypeCode schemeId hirerId { value } hirer { id { value } }
  maxEventsPerAttempt signingAlgorithmCode createDateTime updateDateTime";

fn create_query() -> String {
    format!(
        "mutation($input: CreateWebhookSubscriptionInput!) {{ createWebhookSubscription(input: $input) {{
          __typename
          ... on CreateWebhookSubscriptionPayload_Success {{ webhookSubscription {{ {FIELDS} }} }}
          ... on CreateWebhookSubscriptionPayload_Conflict {{ conflictingWebhookSubscription {{ {FIELDS} }} }} }} }}"
    )
}

fn update_delivery_query() -> String {
    format!(
        "mutation($input: UpdateWebhookSubscriptionDeliveryConfigurationInput!) {{
          updateWebhookSubscriptionDeliveryConfiguration(input: $input) {{
          __typename
          ... on UpdateWebhookSubscriptionDeliveryConfigurationPayload_Success {{ webhookSubscription {{ {FIELDS} }} }}
          ... on UpdateWebhookSubscriptionDeliveryConfigurationPayload_Conflict {{
            conflictingWebhookSubscription {{ {FIELDS} }} }} }} }}"
    )
}

fn update_signing_query() -> String {
    format!(
        "mutation($input: UpdateWebhookSubscriptionSigningConfigurationInput!) {{
          updateWebhookSubscriptionSigningConfiguration(input: $input) {{ webhookSubscription {{ {FIELDS} }} }} }}"
    )
}

fn delete_query() -> String {
    format!(
        "mutation($input: DeleteWebhookSubscriptionInput!) {{
          deleteWebhookSubscription(input: $input) {{ webhookSubscription {{ {FIELDS} }} }} }}"
    )
}

const REPLAY: &str = "mutation($input: ReplayWebhookSubscriptionInput!) {
  replayWebhookSubscription(input: $input) { webhookSubscription { id { value } } } }";

const GET: &str = "query($id: String!) { webhookSubscription(id: $id) {
  id { value } url maxEventsPerAttempt signingAlgorithmCode updateDateTime } }";

const LIST: &str = "query($filter: WebhookSubscriptionsFilterInput, $first: Int, $after: String) {
  webhookSubscriptions(schemeId: \"seekAnzPublicTest\", filter: $filter, first: $first, after: $after) {
    edges { cursor node { id { value } eventTypeCode url } } pageInfo { hasNextPage endCursor } } }";

struct World {
    app: TestApp,
    partner: TestPartner,
    token: String,
    hirer: String,
    /// Every response seen, as text, to look for the secret in.
    seen: std::sync::Mutex<String>,
}

/// A partner with `ApplicationExport` on one hirer; private targets allowed, no dispatcher.
async fn world() -> World {
    world_with(WebhookSettings { allow_private_targets: true, dispatch: false, ..WebhookSettings::default() }).await
}

async fn world_with(webhooks: WebhookSettings) -> World {
    let app = TestApp::spawn_with(|s| candex_server::Settings { webhooks, ..s }).await;
    let partner = app.create_partner("ATS").await;
    let hirer = app.create_hirer("Acme").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let token = app.token(&partner).await;
    World { app, partner, token, hirer, seen: Default::default() }
}

impl World {
    async fn run(&self, token: &str, query: &str, variables: Value) -> Value {
        let res = self.app.graphql(Some(token), query, variables).await;
        self.seen.lock().unwrap().push_str(&res.to_string());
        res
    }

    async fn gql(&self, query: &str, variables: Value) -> Value {
        self.run(&self.token, query, variables).await
    }

    async fn create(&self, subscription: Value) -> Value {
        self.gql(&create_query(), json!({"input": {"webhookSubscription": subscription}})).await
    }

    /// Creates a subscription that must succeed; returns it.
    async fn created(&self, subscription: Value) -> Value {
        let res = self.create(subscription).await;
        let payload = &res["data"]["createWebhookSubscription"];
        assert_eq!(payload["__typename"], "CreateWebhookSubscriptionPayload_Success", "{res}");
        payload["webhookSubscription"].clone()
    }

    async fn listed(&self, filter: Value) -> Vec<String> {
        let res = self.gql(LIST, json!({"filter": filter, "first": 100})).await;
        assert!(res["errors"].is_null(), "{res}");
        res["data"]["webhookSubscriptions"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"]["value"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn signed(event_type: &str, url: &str) -> Value {
    json!({"eventTypeCode": event_type, "schemeId": SCHEME, "url": url,
        "signingAlgorithmCode": "SeekHmacSha512", "secret": SECRET})
}

fn id_of(subscription: &Value) -> String {
    subscription["id"]["value"].as_str().expect("subscription id").to_owned()
}

/// Asserts a single `BAD_USER_INPUT` naming exactly `pointers`; returns the messages.
fn refused(res: &Value, pointers: &[&str]) -> Vec<String> {
    assert_eq!(error_codes(res), ["BAD_USER_INPUT"], "{res}");
    let fields = res["errors"][0]["extensions"]["invalidFields"].as_object().expect("invalidFields");
    let mut named: Vec<&str> = fields.keys().map(String::as_str).collect();
    named.sort_unstable();
    let mut expected = pointers.to_vec();
    expected.sort_unstable();
    assert_eq!(named, expected, "{res}");
    fields.values().map(|m| m.as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn subscriptions_are_created_listed_updated_and_deleted_without_ever_showing_the_secret() {
    let w = world().await;
    let first = w.created(signed("CandidateApplicationCreated", TARGET)).await;
    let id = id_of(&first);
    assert!(id.starts_with("seekAnzPublicTest:webhookSubscription:events:"), "{id}");
    assert_eq!(first["url"], TARGET);
    assert_eq!(first["eventTypeCode"], "CandidateApplicationCreated");
    assert_eq!(first["schemeId"], SCHEME);
    assert_eq!(first["maxEventsPerAttempt"], 10, "the default");
    assert_eq!(first["signingAlgorithmCode"], "SeekHmacSha512");
    assert!(first["hirerId"].is_null() && first["hirer"].is_null());
    assert_eq!(first["createDateTime"], first["updateDateTime"]);

    // The same key again is a conflict naming the first; nothing new is stored.
    let res = w.create(signed("CandidateApplicationCreated", TARGET)).await;
    let payload = &res["data"]["createWebhookSubscription"];
    assert_eq!(payload["__typename"], "CreateWebhookSubscriptionPayload_Conflict", "{res}");
    assert_eq!(payload["conflictingWebhookSubscription"]["id"]["value"], id.as_str());

    // A padded hirer id is trimmed; the hirer is readable while related.
    let padded = format!("  {}\n", w.hirer);
    let second = w
        .created(json!({"eventTypeCode": "PositionProfilePosted", "schemeId": SCHEME, "url": TARGET,
            "signingAlgorithmCode": "None", "hirerId": padded, "maxEventsPerAttempt": 3}))
        .await;
    assert_eq!(second["hirerId"]["value"], w.hirer.as_str());
    assert_eq!(second["hirer"]["id"]["value"], w.hirer.as_str());
    assert_eq!(second["maxEventsPerAttempt"], 3);
    assert_eq!(second["signingAlgorithmCode"], "None");
    let third = w.created(signed("CandidateApplicationCreated", "http://127.0.0.1:9/other")).await;

    // Listing: creation order, filters, paging.
    let all = [id.clone(), id_of(&second), id_of(&third)];
    assert_eq!(w.listed(Value::Null).await, all);
    let applications = w.listed(json!({"eventTypeCodes": ["CandidateApplicationCreated"]})).await;
    assert_eq!(applications, [all[0].clone(), all[2].clone()]);
    assert_eq!(w.listed(json!({"hirerIds": [w.hirer]})).await, all[1..2]);
    assert_eq!(w.listed(json!({"afterDateTime": third["createDateTime"]})).await, Vec::<String>::new());
    let res = w.gql(LIST, json!({"first": 2})).await;
    assert_eq!(res["data"]["webhookSubscriptions"]["pageInfo"]["hasNextPage"], true, "{res}");
    let after = res["data"]["webhookSubscriptions"]["pageInfo"]["endCursor"].clone();
    let res = w.gql(LIST, json!({"first": 2, "after": after})).await;
    assert_eq!(res["data"]["webhookSubscriptions"]["edges"][0]["node"]["id"]["value"], all[2].as_str(), "{res}");

    // Delivery: a new URL and batch size; moving onto another subscription's key conflicts.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let input = json!({"webhookSubscription": {"id": id, "url": "http://127.0.0.1:9/moved", "maxEventsPerAttempt": 4}});
    let res = w.gql(&update_delivery_query(), json!({"input": input})).await;
    let payload = &res["data"]["updateWebhookSubscriptionDeliveryConfiguration"];
    assert_eq!(payload["__typename"], "UpdateWebhookSubscriptionDeliveryConfigurationPayload_Success", "{res}");
    let moved = &payload["webhookSubscription"];
    assert_eq!(moved["url"], "http://127.0.0.1:9/moved");
    assert_eq!(moved["maxEventsPerAttempt"], 4);
    assert_ne!(moved["updateDateTime"], first["updateDateTime"]);
    let input = json!({"webhookSubscription": {"id": id, "url": "http://127.0.0.1:9/other"}});
    let res = w.gql(&update_delivery_query(), json!({"input": input})).await;
    let payload = &res["data"]["updateWebhookSubscriptionDeliveryConfiguration"];
    assert_eq!(payload["__typename"], "UpdateWebhookSubscriptionDeliveryConfigurationPayload_Conflict", "{res}");
    assert_eq!(payload["conflictingWebhookSubscription"]["id"]["value"], all[2].as_str());

    // Signing: off, then on again with a new secret.
    let input = json!({"webhookSubscription": {"id": id, "signingAlgorithmCode": "None"}});
    let res = w.gql(&update_signing_query(), json!({"input": input})).await;
    let updated = &res["data"]["updateWebhookSubscriptionSigningConfiguration"]["webhookSubscription"];
    assert_eq!(updated["signingAlgorithmCode"], "None", "{res}");
    let input = json!({"webhookSubscription": {"id": id, "signingAlgorithmCode": "SeekHmacSha512", "secret": SECRET}});
    let res = w.gql(&update_signing_query(), json!({"input": input})).await;
    let updated = &res["data"]["updateWebhookSubscriptionSigningConfiguration"]["webhookSubscription"];
    assert_eq!(updated["signingAlgorithmCode"], "SeekHmacSha512", "{res}");
    assert_eq!(updated["url"], "http://127.0.0.1:9/moved", "signing leaves delivery alone");

    // Delete: the payload names it; it is gone; deleting again is refused.
    let input = json!({"webhookSubscription": {"id": id}});
    let res = w.gql(&delete_query(), json!({"input": input})).await;
    assert_eq!(res["data"]["deleteWebhookSubscription"]["webhookSubscription"]["id"]["value"], id.as_str(), "{res}");
    assert_eq!(w.listed(Value::Null).await, all[1..]);
    assert_eq!(w.gql(GET, json!({"id": id})).await, json!({"data": {"webhookSubscription": null}}));
    let res = w.gql(&delete_query(), json!({"input": input})).await;
    refused(&res, &["/input/webhookSubscription/id"]);

    // Every field of every response, searched for the secret.
    let seen = w.seen.lock().unwrap().clone();
    assert!(!seen.contains(SECRET), "the secret came back in a response");
    assert!(seen.contains("SeekHmacSha512"), "the responses were recorded");
}

#[tokio::test]
async fn subscription_input_is_validated_with_json_pointers() {
    let w = world().await;
    let sub = "/input/webhookSubscription";
    let secret_of = |s: &str| {
        json!({"eventTypeCode": "CandidateApplicationCreated", "schemeId": SCHEME, "url": TARGET,
            "signingAlgorithmCode": "SeekHmacSha512", "secret": s})
    };
    let fifteen = "x".repeat(15);
    let too_long = "é".repeat(128); // 128 characters, 256 bytes
    for secret in [fifteen.as_str(), too_long.as_str()] {
        let res = w.create(secret_of(secret)).await;
        let messages = refused(&res, &[&format!("{sub}/secret")]);
        assert!(!res.to_string().contains(secret), "the refused secret was echoed: {res}");
        assert!(messages[0].contains("16 characters") || messages[0].contains("255 UTF-8 bytes"), "{messages:?}");
    }
    assert!(w.create(secret_of(&"é".repeat(127))).await["errors"].is_null(), "254 bytes are fine");

    let mut missing = signed("CandidateApplicationCreated", TARGET);
    missing.as_object_mut().unwrap().remove("secret");
    refused(&w.create(missing).await, &[&format!("{sub}/secret")]);
    let mut unsigned_with_secret = signed("CandidateApplicationCreated", "http://127.0.0.1:9/u");
    unsigned_with_secret["signingAlgorithmCode"] = json!("None");
    refused(&w.create(unsigned_with_secret).await, &[&format!("{sub}/secret")]);

    // Several invalid fields are reported together.
    let res = w
        .create(json!({"eventTypeCode": "CandidateApplicationUpdated", "schemeId": "seekAnz", "url": "nope",
            "signingAlgorithmCode": "HmacSha256", "maxEventsPerAttempt": 11}))
        .await;
    refused(
        &res,
        &[
            &format!("{sub}/eventTypeCode"),
            &format!("{sub}/schemeId"),
            &format!("{sub}/url"),
            &format!("{sub}/signingAlgorithmCode"),
            &format!("{sub}/maxEventsPerAttempt"),
        ],
    );
    let mut zero = signed("CandidateApplicationCreated", "http://127.0.0.1:9/z");
    zero["maxEventsPerAttempt"] = json!(0);
    refused(&w.create(zero).await, &[&format!("{sub}/maxEventsPerAttempt")]);

    // A hirer without a relationship and an unknown hirer are refused alike.
    let unrelated = w.app.create_hirer("Globex").await;
    let unknown = format!("{SCHEME}:organization:seek:93WyyF1h");
    let mut messages = Vec::new();
    for hirer in [unrelated.as_str(), unknown.as_str()] {
        let mut input = signed("CandidateApplicationCreated", TARGET);
        input["hirerId"] = json!(hirer);
        messages.push(refused(&w.create(input).await, &[&format!("{sub}/hirerId")]));
    }
    assert_eq!(messages[0], ["no relationship with this hirer"]);
    assert_eq!(messages[0], messages[1]);

    // Unknown ids on update and delete.
    let unknown_sub = format!("{SCHEME}:webhookSubscription:events:BoJiJ9ZWFVgejLXLJxUnvL");
    let input = json!({"webhookSubscription": {"id": unknown_sub, "url": TARGET}});
    refused(&w.gql(&update_delivery_query(), json!({"input": input})).await, &[&format!("{sub}/id")]);

    assert_eq!(w.listed(Value::Null).await.len(), 1, "only the valid 254-byte one was stored");
    assert!(!w.seen.lock().unwrap().contains(SECRET));
}

#[tokio::test]
async fn a_subscription_hirer_is_hidden_once_the_relationship_is_revoked() {
    let w = world().await;
    let mut input = signed("CandidateApplicationCreated", TARGET);
    input["hirerId"] = json!(w.hirer);
    let id = id_of(&w.created(input).await);
    w.app.relate(&w.partner, &w.hirer, &[]).await;
    let res = w
        .gql(
            "query($id: String!) { webhookSubscription(id: $id) { hirerId { value } hirer { name } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(res["data"]["webhookSubscription"]["hirerId"]["value"], w.hirer.as_str(), "{res}");
    assert!(res["data"]["webhookSubscription"]["hirer"].is_null(), "{res}");
    assert_eq!(error_codes(&res), ["FORBIDDEN"]);
}

#[tokio::test]
async fn private_targets_are_refused_unless_the_server_allows_them() {
    let w = world_with(WebhookSettings { dispatch: false, ..WebhookSettings::default() }).await;
    let addresses = [
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://10.0.0.1/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[fe80::1]/x",
    ];
    for url in addresses {
        let messages =
            refused(&w.create(signed("CandidateApplicationCreated", url)).await, &["/input/webhookSubscription/url"]);
        assert!(messages[0].contains("--allow-private-webhook-targets"), "{url}: {messages:?}");
    }
    refused(
        &w.create(signed("CandidateApplicationCreated", "ftp://example.com/x")).await,
        &["/input/webhookSubscription/url"],
    );
    assert_eq!(w.listed(Value::Null).await, Vec::<String>::new(), "nothing was stored");

    // A host name that does not resolve now is accepted (DNS may be down; delivery checks
    // again), but an update cannot move the subscription onto a private address.
    let id = id_of(&w.created(signed("CandidateApplicationCreated", "http://candex-test.invalid/x")).await);
    let input = json!({"webhookSubscription": {"id": id, "url": "http://127.0.0.1:9/x"}});
    let messages =
        refused(&w.gql(&update_delivery_query(), json!({"input": input})).await, &["/input/webhookSubscription/url"]);
    assert!(messages[0].contains("--allow-private-webhook-targets"), "{messages:?}");

    // With the flag, loopback is accepted.
    let allowed = world().await;
    let id = id_of(&allowed.created(signed("CandidateApplicationCreated", "http://127.0.0.1:9/ok")).await);
    assert_eq!(allowed.listed(Value::Null).await, [id]);
}

#[tokio::test]
async fn browser_tokens_cannot_read_or_manage_webhooks() {
    let w = world().await;
    let res = w
        .app
        .client
        .post(format!("{}/auth/token", w.app.base))
        .bearer_auth(&w.token)
        .json(&json!({"hirerId": w.hirer, "scope": "query:organizations", "userId": "u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let browser = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let res = w
        .run(
            &browser,
            &create_query(),
            json!({"input": {"webhookSubscription": signed("CandidateApplicationCreated", TARGET)}}),
        )
        .await;
    assert_eq!(error_codes(&res), ["FORBIDDEN"], "{res}");
    let res = w.run(&browser, LIST, json!({})).await;
    assert_eq!(error_codes(&res), ["FORBIDDEN"], "{res}");
    let res = w.run(&browser, "{ events(schemeId: \"seekAnzPublicTest\") { edges { cursor } } }", json!({})).await;
    assert_eq!(error_codes(&res), ["FORBIDDEN"], "{res}");
    assert_eq!(w.listed(Value::Null).await, Vec::<String>::new());
}

#[tokio::test]
async fn replays_are_validated_recorded_and_readable() {
    let w = world().await;
    let position = w.app.create_position(&w.hirer, "Engineer").await;
    w.app.apply(&position, "sam@example.com").await;
    let id = id_of(&w.created(signed("CandidateApplicationCreated", TARGET)).await);
    let events = w
        .gql("{ events(schemeId: \"seekAnzPublicTest\", filter: {eventTypeCodes: [\"CandidateApplicationCreated\"]}) { edges { node { id { value } createDateTime } } } }", json!({}))
        .await;
    let event = events["data"]["events"]["edges"][0]["node"].clone();
    let event_id = event["id"]["value"].as_str().unwrap().to_owned();
    let subscription = json!({"id": id});
    let window = json!({"createdAfterDateTime": "2020-01-01T00:00:00.000Z", "createdBeforeDateTime": "2100-01-01T00:00:00.000Z",
        "replayDeliveredEventsIndicator": false});

    let bad = [
        (json!({"webhookSubscription": subscription}), "/input/eventIds"),
        (json!({"webhookSubscription": subscription, "eventIds": [event_id], "filter": window}), "/input/filter"),
        (json!({"webhookSubscription": subscription, "eventIds": []}), "/input/eventIds"),
        (json!({"webhookSubscription": subscription, "eventIds": vec![event_id.clone(); 101]}), "/input/eventIds"),
        (json!({"webhookSubscription": subscription, "eventIds": ["nope"]}), "/input/eventIds/0"),
        (
            json!({"webhookSubscription": subscription, "filter": {"createdAfterDateTime": "2030-01-01T00:00:00Z",
                "createdBeforeDateTime": "2020-01-01T00:00:00Z", "replayDeliveredEventsIndicator": false}}),
            "/input/filter/createdBeforeDateTime",
        ),
        (
            json!({"webhookSubscription": subscription, "filter": {"createdAfterDateTime": "2020-01-01T00:00:00Z",
                "createdBeforeDateTime": "2100-01-01T00:00:00Z", "replayDeliveredEventsIndicator": true}}),
            "/input/filter/hirerId",
        ),
        (
            json!({"webhookSubscription": {"id": format!("{SCHEME}:webhookSubscription:events:x")}, "eventIds": [event_id]}),
            "/input/webhookSubscription/id",
        ),
    ];
    for (input, pointer) in bad {
        refused(&w.gql(REPLAY, json!({"input": input})).await, &[pointer]);
    }

    let res = w.gql(REPLAY, json!({"input": {"webhookSubscription": subscription, "eventIds": [event_id]}})).await;
    assert_eq!(res["data"]["replayWebhookSubscription"]["webhookSubscription"]["id"]["value"], id.as_str(), "{res}");
    let mut delivered = window.clone();
    delivered["replayDeliveredEventsIndicator"] = json!(true);
    delivered["hirerId"] = json!(w.hirer);
    let res = w.gql(REPLAY, json!({"input": {"webhookSubscription": subscription, "filter": delivered}})).await;
    assert!(res["errors"].is_null(), "{res}");

    let res = w
        .gql(
            "query($id: String!) { webhookSubscription(id: $id) { webhookSubscriptionReplays { edges { node {
                id { value } statusCode webhookSubscription { id { value } }
                request { typeCode
                  ... on WebhookSubscriptionReplayByIdRequest { eventIds }
                  ... on WebhookSubscriptionReplayByRangeRequest { afterDateTime beforeDateTime replayDeliveredEventsIndicator hirer { id { value } } } }
            } } } } }",
            json!({"id": id}),
        )
        .await;
    let replays =
        res["data"]["webhookSubscription"]["webhookSubscriptionReplays"]["edges"].as_array().expect("edges").clone();
    assert_eq!(replays.len(), 2, "{res}");
    let (by_id, by_range) = (&replays[0]["node"], &replays[1]["node"]);
    assert_eq!(by_id["statusCode"], "Completed");
    assert_eq!(by_id["request"], json!({"typeCode": "IdReplayRequest", "eventIds": [event_id]}));
    assert_eq!(by_id["webhookSubscription"]["id"]["value"], id.as_str());
    assert_eq!(by_range["request"]["typeCode"], "RangeReplayRequest");
    assert_eq!(by_range["request"]["afterDateTime"], "2020-01-01T00:00:00.000Z");
    assert_eq!(by_range["request"]["replayDeliveredEventsIndicator"], true);
    assert_eq!(by_range["request"]["hirer"]["id"]["value"], w.hirer.as_str());

    let replay_id = by_id["id"]["value"].as_str().unwrap();
    let res = w
        .gql("query($id: String!) { webhookSubscriptionReplay(id: $id) { statusCode } }", json!({"id": replay_id}))
        .await;
    assert_eq!(res["data"]["webhookSubscriptionReplay"]["statusCode"], "Completed", "{res}");
    let res = w
        .gql("query($id: String!) { webhookSubscription(id: $id) { webhookSubscriptionReplays(filter: {statusCode: \"Running\"}) { edges { cursor } } } }", json!({"id": id}))
        .await;
    assert_eq!(res["data"]["webhookSubscription"]["webhookSubscriptionReplays"]["edges"], json!([]), "{res}");
}

#[tokio::test]
async fn another_partners_subscription_reads_and_writes_like_a_missing_one() {
    let w = world_with(WebhookSettings {
        allow_private_targets: true,
        poll_interval: Duration::from_millis(50),
        ..WebhookSettings::default()
    })
    .await;
    let receiver = Receiver::start(|_| Behaviour::Status(204)).await;
    let position = w.app.create_position(&w.hirer, "Engineer").await;
    let subscription = w.created(signed("CandidateApplicationCreated", &receiver.url)).await;
    let id = id_of(&subscription);
    w.app.apply(&position, "sam@example.com").await;
    receiver.wait_for(Duration::from_secs(10), "the delivery", |r| !r.is_empty()).await;
    let request_id = receiver.received()[0].headers["x-request-id"].clone();
    let before = w.gql(GET, json!({"id": id})).await;

    let other = w.app.create_partner("Other ATS").await;
    let globex = w.app.create_hirer("Globex").await;
    w.app.relate(&other, &globex, &["ApplicationExport"]).await;
    let other_token = w.app.token(&other).await;
    let sub = "/input/webhookSubscription";

    assert_eq!(w.run(&other_token, GET, json!({"id": id})).await, json!({"data": {"webhookSubscription": null}}));
    let res = w.run(&other_token, LIST, json!({})).await;
    assert_eq!(res["data"]["webhookSubscriptions"]["edges"], json!([]), "{res}");
    let res = w
        .run(
            &other_token,
            "query($id: String!) { webhookRequestsForSubscription(subscriptionId: $id) { edges { cursor } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(res["data"]["webhookRequestsForSubscription"]["edges"], json!([]), "{res}");
    let res = w
        .run(
            &other_token,
            "query($r: String!) { webhookRequest(requestId: $r, schemeId: \"seekAnzPublicTest\") { requestId } }",
            json!({"r": request_id}),
        )
        .await;
    assert_eq!(res, json!({"data": {"webhookRequest": null}}));
    let res = w
        .run(&other_token, "query($s: String!) { events(schemeId: \"seekAnzPublicTest\", filter: {subscriptionId: $s}) { edges { cursor } } }", json!({"s": id}))
        .await;
    assert_eq!(res["data"]["events"]["edges"], json!([]), "{res}");

    let attempts = [
        (
            update_delivery_query(),
            json!({"webhookSubscription": {"id": id, "url": "http://127.0.0.1:9/stolen", "maxEventsPerAttempt": 1}}),
        ),
        (update_signing_query(), json!({"webhookSubscription": {"id": id, "signingAlgorithmCode": "None"}})),
        (delete_query(), json!({"webhookSubscription": {"id": id}})),
        (
            REPLAY.to_owned(),
            json!({"webhookSubscription": {"id": id}, "eventIds": [format!("{SCHEME}:event:events:x")]}),
        ),
    ];
    for (query, input) in attempts {
        let res = w.run(&other_token, &query, json!({"input": input})).await;
        let messages = refused(&res, &[&format!("{sub}/id")]);
        assert_eq!(messages, ["no such webhook subscription"]);
    }
    assert_eq!(w.gql(GET, json!({"id": id})).await, before, "the subscription is unchanged");

    // Its owner sees the request.
    let res = w
        .gql("query($r: String!) { webhookRequest(requestId: $r, schemeId: \"seekAnzPublicTest\") { requestId webhookSubscription { id { value } } } }", json!({"r": request_id}))
        .await;
    assert_eq!(res["data"]["webhookRequest"]["webhookSubscription"]["id"]["value"], id.as_str(), "{res}");
}
