//! The event stream read by polling: `events` pages through every event exactly once in both
//! directions, filters by type and time, validates its arguments; `event(id)` reads nested
//! objects with the relationships the partner holds now; another partner's events look
//! missing; nested `webhookAttempts` fan-out is bounded.

use std::collections::HashSet;

use candex_server::graphql::access::MAX_NESTED_LOADS;
use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp, TestPartner};

const SCHEME: &str = "seekAnzPublicTest";

const PAGE: &str = r#"query($first: Int, $last: Int, $after: String, $before: String, $filter: EventsFilterInput) {
  events(schemeId: "seekAnzPublicTest", first: $first, last: $last, after: $after, before: $before, filter: $filter) {
    edges { cursor streamDateTime node { id { value } typeCode createDateTime schemeId
      ... on CandidateApplicationCreatedEvent { candidateApplicationProfileId } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

/// A partner related to one hirer with a job ad: the stream starts with
/// `HirerRelationshipChanged` and `PositionProfilePosted`.
struct World {
    app: TestApp,
    partner: TestPartner,
    token: String,
    hirer: String,
    position: String,
}

async fn world(codes: &[&str]) -> World {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let hirer = app.create_hirer("Acme").await;
    app.relate(&partner, &hirer, codes).await;
    let position = app.create_position(&hirer, "Engineer").await;
    let token = app.token(&partner).await;
    World { app, partner, token, hirer, position }
}

async fn page(w: &World, variables: Value) -> Value {
    let res = w.app.graphql(Some(&w.token), PAGE, variables).await;
    assert!(res["errors"].is_null(), "{res}");
    res["data"]["events"].clone()
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"].as_array().expect("edges").iter().map(|e| e["node"].clone()).collect()
}

fn ids(connection: &Value) -> Vec<String> {
    nodes(connection).iter().map(|n| n["id"]["value"].as_str().expect("id").to_owned()).collect()
}

#[tokio::test]
async fn events_page_through_262_events_each_exactly_once_in_both_directions() {
    let w = world(&["ApplicationExport"]).await;
    let mut profiles = Vec::new();
    for i in 0..260 {
        profiles.push(w.app.apply(&w.position, &format!("c{i}@example.com")).await.0);
    }

    // Forwards, 100 at a time, following endCursor.
    let (mut forward, mut after, mut pages) = (Vec::new(), Value::Null, 0);
    loop {
        let connection = page(&w, json!({"first": 100, "after": after})).await;
        pages += 1;
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], json!(pages > 1), "{connection}");
        forward.extend(nodes(&connection));
        if connection["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(forward.len(), 262);
    let forward_ids: Vec<&str> = forward.iter().map(|n| n["id"]["value"].as_str().unwrap()).collect();
    assert_eq!(forward_ids.iter().collect::<HashSet<_>>().len(), 262, "an event came twice");
    let types: Vec<&str> = forward.iter().take(2).map(|n| n["typeCode"].as_str().unwrap()).collect();
    assert_eq!(types, ["HirerRelationshipChanged", "PositionProfilePosted"]);
    let applied: Vec<&str> =
        forward[2..].iter().map(|n| n["candidateApplicationProfileId"].as_str().expect("profile id")).collect();
    assert_eq!(applied, profiles, "application events in ingest order");
    assert!(forward.iter().all(|n| n["schemeId"] == SCHEME && n["id"]["value"].as_str().unwrap().starts_with(SCHEME)));

    // Backwards, 100 at a time, following startCursor.
    let (mut backward, mut before) = (Vec::new(), Value::Null);
    loop {
        let connection = page(&w, json!({"last": 100, "before": before})).await;
        let mut chunk = ids(&connection);
        chunk.extend(backward);
        backward = chunk;
        if connection["pageInfo"]["hasPreviousPage"] == json!(false) {
            break;
        }
        before = connection["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, forward_ids);

    // A page between two cursors.
    let first = page(&w, json!({"first": 5})).await;
    let cursors: Vec<Value> = first["edges"].as_array().unwrap().iter().map(|e| e["cursor"].clone()).collect();
    let middle = page(&w, json!({"after": cursors[0], "before": cursors[4]})).await;
    assert_eq!(ids(&middle), forward_ids[1..4]);

    // The default page is 10.
    assert_eq!(ids(&page(&w, json!({})).await).len(), 10);
}

#[tokio::test]
async fn event_type_and_time_filters_narrow_the_stream() {
    let w = world(&["ApplicationExport"]).await;
    for i in 0..2 {
        w.app.apply(&w.position, &format!("early{i}@example.com")).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    for i in 0..3 {
        w.app.apply(&w.position, &format!("late{i}@example.com")).await;
    }

    let posted = page(&w, json!({"filter": {"eventTypeCodes": ["PositionProfilePosted"]}})).await;
    let posted_nodes = nodes(&posted);
    assert_eq!(posted_nodes.len(), 1);
    assert_eq!(posted_nodes[0]["typeCode"], "PositionProfilePosted");
    let applied = page(&w, json!({"filter": {"eventTypeCodes": ["CandidateApplicationCreated"]}})).await;
    assert_eq!(nodes(&applied).len(), 5);
    assert!(nodes(&applied).iter().all(|n| n["typeCode"] == "CandidateApplicationCreated"));
    let both = json!({"filter": {"eventTypeCodes": ["CandidateApplicationCreated", "PositionProfilePosted"]}});
    assert_eq!(nodes(&page(&w, both).await).len(), 6);

    // Stream time: the last early application splits the stream (both bounds exclusive).
    let all = page(&w, json!({})).await;
    let edges = all["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 7);
    let split = edges[3]["streamDateTime"].clone();
    assert_eq!(edges[3]["node"]["createDateTime"], split);
    let after = page(&w, json!({"filter": {"afterDateTime": split}})).await;
    assert_eq!(ids(&after), ids(&all)[4..]);
    let before = page(&w, json!({"filter": {"beforeDateTime": split}})).await;
    assert!(ids(&before).len() < 4 && ids(&before) == ids(&all)[..ids(&before).len()], "{before}");
}

#[tokio::test]
async fn events_arguments_are_validated() {
    let w = world(&["ApplicationExport"]).await;
    let bad = |query: &'static str, variables: Value, pointer: &'static str| {
        let w = &w;
        async move {
            let res = w.app.graphql(Some(&w.token), query, variables).await;
            assert_eq!(error_codes(&res), ["BAD_USER_INPUT"], "{res}");
            assert!(res["errors"][0]["extensions"]["invalidFields"][pointer].is_string(), "{pointer}: {res}");
        }
    };
    bad(PAGE, json!({"after": "not-a-cursor"}), "/after").await;
    bad(PAGE, json!({"before": "c2VxOng"}), "/before").await;
    bad(PAGE, json!({"first": 101}), "/first").await;
    bad(PAGE, json!({"first": 1, "last": 1}), "/last").await;
    bad(PAGE, json!({"filter": {"eventTypeCodes": ["CandidateApplicationUpdated"]}}), "/filter/eventTypeCodes/0").await;
    bad(PAGE, json!({"filter": {"deliveredIndicator": false}}), "/filter/deliveredIndicator").await;
    bad(PAGE, json!({"filter": {"subscriptionId": "nope"}}), "/filter/subscriptionId").await;
    bad(r#"{ events(schemeId: "seekAnz") { edges { cursor } } }"#, json!({}), "/schemeId").await;
    bad(r#"{ event(id: "nope") { id { value } } }"#, json!({}), "/id").await;
}

const EVENT: &str = r#"query($id: String!) {
  event(id: $id) {
    typeCode
    ... on CandidateApplicationCreatedEvent {
      candidateApplicationProfileId candidateId
      candidateApplicationProfile { profileId { value } }
      candidate { documentId { value } }
    }
    ... on HirerRelationshipChangedEvent { hirerId hirer { id { value } name } }
    ... on PositionProfilePostedEvent { positionProfileId positionProfile { positionTitle } }
  }
}"#;

fn error_paths(res: &Value) -> Vec<(String, String)> {
    res["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let path =
                        e["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap_or("#")).collect::<Vec<_>>();
                    (path.join("."), e["extensions"]["code"].as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_event_reads_its_objects_inline_until_the_relationship_is_revoked() {
    let w = world(&["ApplicationExport"]).await;
    let (profile, candidate) = w.app.apply(&w.position, "sam@example.com").await;
    let stream = ids(&page(&w, json!({})).await);
    let (changed, posted, applied) = (&stream[0], &stream[1], &stream[2]);

    let res = w.app.graphql(Some(&w.token), EVENT, json!({"id": applied})).await;
    assert!(res["errors"].is_null(), "{res}");
    let event = &res["data"]["event"];
    assert_eq!(event["typeCode"], "CandidateApplicationCreated");
    assert_eq!(event["candidateApplicationProfile"]["profileId"]["value"], profile.as_str());
    assert_eq!(event["candidate"]["documentId"]["value"], candidate.as_str());
    let res = w.app.graphql(Some(&w.token), EVENT, json!({"id": posted})).await;
    assert_eq!(res["data"]["event"]["positionProfileId"], w.position.as_str(), "{res}");
    assert_eq!(res["data"]["event"]["positionProfile"]["positionTitle"], "Engineer", "{res}");
    let res = w.app.graphql(Some(&w.token), EVENT, json!({"id": changed})).await;
    assert_eq!(res["data"]["event"]["hirer"]["id"]["value"], w.hirer.as_str(), "{res}");

    // Revoked: the ids stay readable, the objects they name are null with FORBIDDEN.
    w.app.relate(&w.partner, &w.hirer, &[]).await;
    let res = w.app.graphql(Some(&w.token), EVENT, json!({"id": applied})).await;
    let event = &res["data"]["event"];
    assert_eq!(event["candidateApplicationProfileId"], profile.as_str(), "{res}");
    assert_eq!(event["candidateId"], candidate.as_str(), "{res}");
    assert!(event["candidateApplicationProfile"].is_null() && event["candidate"].is_null(), "{res}");
    let mut paths = error_paths(&res);
    paths.sort();
    assert_eq!(
        paths,
        [
            ("event.candidate".to_owned(), "FORBIDDEN".to_owned()),
            ("event.candidateApplicationProfile".to_owned(), "FORBIDDEN".to_owned()),
        ]
    );
    let res = w.app.graphql(Some(&w.token), EVENT, json!({"id": posted})).await;
    assert!(res["data"]["event"]["positionProfile"].is_null(), "{res}");
    assert_eq!(error_paths(&res), [("event.positionProfile".to_owned(), "FORBIDDEN".to_owned())]);

    // The revocation is itself an event, whose hirer is no longer readable.
    let latest = page(&w, json!({"last": 1})).await;
    let revoked = &ids(&latest)[0];
    assert_eq!(nodes(&latest)[0]["typeCode"], "HirerRelationshipChanged");
    let res = w.app.graphql(Some(&w.token), EVENT, json!({"id": revoked})).await;
    assert_eq!(res["data"]["event"]["hirerId"], w.hirer.as_str(), "{res}");
    assert!(res["data"]["event"]["hirer"].is_null(), "{res}");
    assert_eq!(error_paths(&res), [("event.hirer".to_owned(), "FORBIDDEN".to_owned())]);
}

#[tokio::test]
async fn another_partners_events_look_missing() {
    let w = world(&["ApplicationExport"]).await;
    w.app.apply(&w.position, "sam@example.com").await;
    let mine = ids(&page(&w, json!({})).await);
    assert_eq!(mine.len(), 3);

    let other = w.app.create_partner("Other ATS").await;
    let other_hirer = w.app.create_hirer("Globex").await;
    w.app.relate(&other, &other_hirer, &["ApplicationExport", "JobPosting"]).await;
    let other_token = w.app.token(&other).await;
    let res = w
        .app
        .graphql(
            Some(&other_token),
            "{ events(schemeId: \"seekAnzPublicTest\", first: 100) { edges { node { id { value } } } } }",
            json!({}),
        )
        .await;
    let theirs = ids(&res["data"]["events"]);
    assert_eq!(theirs.len(), 1, "only its own relationship event: {res}");
    assert!(theirs.iter().all(|id| !mine.contains(id)));

    for id in &mine {
        let res = w.app.graphql(Some(&other_token), EVENT, json!({"id": id})).await;
        assert_eq!(res, json!({"data": {"event": null}}), "a foreign event looks missing");
        let res = w
            .app
            .graphql(
                Some(&other_token),
                "query($id: String!) { webhookAttemptsForEvent(eventId: $id) { edges { cursor } pageInfo { hasNextPage } } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(res["data"]["webhookAttemptsForEvent"]["edges"], json!([]), "{res}");
    }
    let unknown = format!("{SCHEME}:event:events:5cKZnRzXas97fyUAhpiAV1");
    assert_eq!(w.app.graphql(Some(&w.token), EVENT, json!({"id": unknown})).await, json!({"data": {"event": null}}));
}

#[tokio::test]
async fn nested_webhook_attempts_fan_out_is_bounded() {
    let w = world(&["ApplicationExport"]).await;
    for i in 0..70 {
        w.app.apply(&w.position, &format!("c{i}@example.com")).await;
    }
    let nested = |selection: &str| {
        format!(r#"{{ events(schemeId: "seekAnzPublicTest", first: 100) {{ edges {{ node {{ {selection} }} }} }} }}"#)
    };

    // On an object type the complexity limit multiplies the pages: 100 × 100 attempts is refused.
    let query = nested(
        "... on CandidateApplicationCreatedEvent { webhookAttempts(first: 100) { edges { node { id { value } } } } }",
    );
    let res = w.app.graphql_refused(Some(&w.token), &query, json!({})).await;
    assert!(res["errors"][0]["message"].as_str().unwrap_or_default().contains("complex"), "{res}");
    assert_eq!(res["errors"][0]["extensions"]["limit"], "complexity", "{res}");
    assert!(res["data"].is_null(), "{res}");

    // Selected on the interface, a page of attempts per event is fine…
    let query = nested("webhookAttempts(first: 5) { edges { cursor } }");
    let res = w.app.graphql(Some(&w.token), &query, json!({})).await;
    assert!(res["errors"].is_null(), "{res}");
    assert_eq!(res["data"]["events"]["edges"].as_array().unwrap().len(), 72);

    // …but no request loads more than MAX_NESTED_LOADS nested lists.
    let per_event = (MAX_NESTED_LOADS as usize).div_ceil(72) + 1;
    let aliases: String =
        (0..per_event).map(|i| format!("a{i}: webhookAttempts(first: 1) {{ edges {{ cursor }} }} ")).collect();
    let res = w.app.graphql(Some(&w.token), &nested(&aliases), json!({})).await;
    let messages: Vec<&str> =
        res["errors"].as_array().expect("errors").iter().filter_map(|e| e["message"].as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("nested lists")), "{res}");
}

#[tokio::test]
async fn a_page_of_100_events_can_fetch_each_profile_inline_with_the_documented_query() {
    let w = world(&["ApplicationExport"]).await;
    let mut profiles = Vec::new();
    for i in 0..30 {
        profiles.push(w.app.apply(&w.position, &format!("inline{i}@example.com")).await.0);
    }
    // SEEK's documented profile selection, verbatim, inside a page of 100 events.
    let query = crate::helpers::SEED_QUERY
        .replacen(
            "query ($id: String!) {",
            "{ events(schemeId: \"seekAnzPublicTest\", first: 100) { edges { node { \
             ... on CandidateApplicationCreatedEvent {",
            1,
        )
        .replacen("candidateProfile(id: $id)", "candidateApplicationProfile", 1)
        + "}}}}";
    let res = w.app.graphql(Some(&w.token), &query, json!({})).await;
    assert!(res["errors"].is_null(), "{res}");
    let inline: Vec<&str> = res["data"]["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["candidateApplicationProfile"]["profileId"]["value"].as_str())
        .collect();
    assert_eq!(inline, profiles.iter().map(String::as_str).collect::<Vec<_>>());
}
