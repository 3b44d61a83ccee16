//! Field errors null the field, as GraphQL §6.4.4 and SEEK do: the key is present and `null`,
//! the error names its path and code, and sibling data is intact (root fields, aliases,
//! `Candidate.profiles`, and profiles and job ads nested in an events page after a
//! relationship was narrowed). Request errors carry no `data` key at all. The process history
//! resolvers' field errors are in `process_history.rs`.

use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp};

const PROFILE: &str = "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }";

fn error_at<'a>(response: &'a Value, path: &Value) -> &'a Value {
    response["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| &e["path"] == path))
        .unwrap_or_else(|| panic!("no error at {path}: {response}"))
}

#[tokio::test]
async fn a_forbidden_or_invalid_root_field_is_null_beside_its_siblings() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Nulls Pty Ltd").await;
    let exporter = app.create_partner("Exporter ATS").await;
    let poster = app.create_partner("Poster ATS").await;
    app.relate(&exporter, &hirer, &["ApplicationExport"]).await;
    app.relate(&poster, &hirer, &["JobPosting"]).await;
    let position = app.create_position(&hirer, "Barista").await;
    let (profile, _) = app.apply(&position, "ana@example.com").await;
    let (exporter, poster) = (app.token(&exporter).await, app.token(&poster).await);

    // Alone: data holds the key, null.
    let r = app.graphql(Some(&poster), PROFILE, json!({"id": profile})).await;
    assert_eq!(r["data"], json!({"candidateProfile": null}), "{r}");
    assert_eq!(error_at(&r, &json!(["candidateProfile"]))["extensions"]["code"], "FORBIDDEN");

    // Beside another root field.
    let query = "query ($id: String!) { version candidateProfile(id: $id) { profileId { value } } }";
    let r = app.graphql(Some(&poster), query, json!({"id": profile})).await;
    assert!(r["data"]["version"].is_string(), "{r}");
    assert_eq!(r["data"]["candidateProfile"], Value::Null);
    assert!(r["data"].as_object().unwrap().contains_key("candidateProfile"), "{r}");

    // An alias with a malformed id beside a good alias.
    let query = "query ($id: String!) { good: candidateProfile(id: $id) { profileId { value } } \
                 bad: candidateProfile(id: \"nonsense\") { profileId { value } } }";
    let r = app.graphql(Some(&exporter), query, json!({"id": profile})).await;
    assert_eq!(r["data"]["good"]["profileId"]["value"], profile, "{r}");
    assert!(r["data"].as_object().unwrap().contains_key("bad") && r["data"]["bad"].is_null(), "{r}");
    assert_eq!(error_at(&r, &json!(["bad"]))["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn profiles_in_an_events_page_are_null_once_the_relationship_is_narrowed() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Narrowed Pty Ltd").await;
    let partner = app.create_partner("Narrowed ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport", "JobPosting"]).await;
    let position = app.create_position(&hirer, "Barista").await;
    for i in 0..3 {
        app.apply(&position, &format!("c{i}@example.com")).await;
    }
    let token = app.token(&partner).await;
    // JobPosting alone still shows the events, but not the applications.
    app.relate(&partner, &hirer, &["JobPosting"]).await;
    let query = r#"{ events(schemeId: "seekAnzPublicTest", first: 100) { edges { node {
        id { value }
        ... on CandidateApplicationCreatedEvent {
          candidateApplicationProfileId
          candidateApplicationProfile { profileId { value } }
          candidate { documentId { value } }
        } } } } }"#;
    let r = app.graphql(Some(&token), query, json!({})).await;
    let nodes: Vec<&Value> = r["data"]["events"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n.get("candidateApplicationProfileId").is_some())
        .collect();
    assert_eq!(nodes.len(), 3, "{r}");
    for node in nodes {
        let node = node.as_object().unwrap();
        for key in ["candidateApplicationProfile", "candidate"] {
            assert!(node.contains_key(key) && node[key].is_null(), "{key} in {node:?}");
        }
        assert!(node["id"]["value"].is_string());
    }
    let codes: Vec<&str> =
        r["errors"].as_array().unwrap().iter().filter_map(|e| e["extensions"]["code"].as_str()).collect();
    assert!(codes.iter().all(|c| *c == "FORBIDDEN") && codes.len() == 6, "{codes:?}");
}

/// Many failed fields in one selection: each is null, and the repair stays linear (one index
/// of the selection, not one scan per error).
#[tokio::test]
async fn many_failed_aliases_are_each_null() {
    let app = TestApp::spawn_with(|mut s| {
        s.rate_limits.anonymous_graphql_per_address = candex_server::config::Rate::UNLIMITED;
        s
    })
    .await;
    let aliases: Vec<String> =
        (0..900).map(|i| format!("p{i}: candidateProfile(id: \"nonsense\") {{ __typename }}")).collect();
    let query = format!("{{ {} }}", aliases.join(" "));
    let started = std::time::Instant::now();
    let r = app.graphql(None, &query, json!({})).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    let data = r["data"].as_object().unwrap_or_else(|| panic!("{}", &r.to_string()[..300]));
    assert_eq!(data.len(), 900);
    assert!(data.values().all(Value::is_null));
    assert_eq!(r["errors"].as_array().unwrap().len(), 900);
}

/// A failed field inside `Candidate.profiles` is non-null all the way up to the nullable
/// `candidateProfile`, which alone becomes null; a sibling `candidate` reading the same
/// profiles and the root `version` are intact.
#[tokio::test]
async fn a_failed_field_under_candidate_profiles_nulls_its_nearest_nullable_ancestor() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Profiles Pty Ltd").await;
    let partner = app.create_partner("Profiles ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Barista").await;
    let (first, candidate) = app.apply(&position, "pat@example.com").await;
    let (second, _) = app.apply(&position, "pat@example.com").await;
    let token = app.token(&partner).await;
    let query = r#"query ($id: String!, $cid: String!) {
      version
      candidate(id: $cid) { documentId { value } profiles { profileId { value } } }
      candidateProfile(id: $id) { profileId { value } candidate { profiles(last: 11) { profileId { value } } } }
    }"#;
    let r = app.graphql(Some(&token), query, json!({"id": first, "cid": candidate})).await;
    assert!(r["data"]["version"].is_string(), "{r}");
    let ids: Vec<&str> = r["data"]["candidate"]["profiles"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .filter_map(|p| p["profileId"]["value"].as_str())
        .collect();
    assert_eq!(ids, [first.as_str(), second.as_str()], "{r}");
    let data = r["data"].as_object().unwrap();
    assert!(data.contains_key("candidateProfile") && data["candidateProfile"].is_null(), "{r}");
    let error = error_at(&r, &json!(["candidateProfile", "candidate", "profiles"]));
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert!(error["extensions"]["invalidFields"]["/last"].is_string(), "{error}");
    assert_eq!(r["errors"].as_array().unwrap().len(), 1, "{r}");
}

/// In a connection (a page of events): a failed field nested in each application, and a
/// forbidden job ad on each job ad event, are null at their own paths; the edges, their
/// cursors and each node's other fields are intact.
#[tokio::test]
async fn failed_fields_nested_in_an_events_page_are_null_at_their_paths() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Pages Pty Ltd").await;
    let partner = app.create_partner("Pages ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport", "JobPosting"]).await;
    let position = app.create_position(&hirer, "Barista").await;
    for i in 0..2 {
        app.apply(&position, &format!("p{i}@example.com")).await;
    }
    let token = app.token(&partner).await;
    let query = r#"{ events(schemeId: "seekAnzPublicTest", first: 100) { edges { cursor node {
        id { value } typeCode
        ... on CandidateApplicationCreatedEvent {
          candidateApplicationProfileId
          candidateApplicationProfile { profileId { value } candidate { profiles(last: 11) { profileId { value } } } }
        }
        ... on PositionProfilePostedEvent { positionProfileId positionProfile { positionTitle } }
    } } } }"#;

    // Every application's profile fails below it (a bad argument), so each is null.
    let r = app.graphql(Some(&token), query, json!({})).await;
    let edges = r["data"]["events"]["edges"].as_array().unwrap_or_else(|| panic!("{r}"));
    let mut expected_paths = Vec::new();
    let mut job_ads = 0;
    for (i, edge) in edges.iter().enumerate() {
        assert!(edge["cursor"].is_string() && edge["node"]["id"]["value"].is_string(), "{edge}");
        let node = edge["node"].as_object().unwrap();
        if node["typeCode"] == "CandidateApplicationCreated" {
            assert!(node["candidateApplicationProfileId"].is_string());
            assert!(node.contains_key("candidateApplicationProfile") && node["candidateApplicationProfile"].is_null());
            expected_paths.push(json!([
                "events",
                "edges",
                i,
                "node",
                "candidateApplicationProfile",
                "candidate",
                "profiles"
            ]));
        } else if node["typeCode"] == "PositionProfilePosted" {
            assert_eq!(node["positionProfile"]["positionTitle"], "Barista", "{edge}");
            job_ads += 1;
        }
    }
    assert_eq!((expected_paths.len(), job_ads), (2, 1), "{r}");
    for path in &expected_paths {
        assert_eq!(error_at(&r, path)["extensions"]["code"], "BAD_USER_INPUT");
    }

    // Narrowed to ProactiveSourcing: the job ad is forbidden, its event still listed.
    app.relate(&partner, &hirer, &["ProactiveSourcing"]).await;
    let query = r#"{ events(schemeId: "seekAnzPublicTest", first: 100) { edges { node {
        id { value }
        ... on PositionProfilePostedEvent { positionProfileId positionProfile { positionTitle } }
    } } } }"#;
    let r = app.graphql(Some(&token), query, json!({})).await;
    let edges = r["data"]["events"]["edges"].as_array().unwrap_or_else(|| panic!("{r}"));
    let (i, posted) = edges
        .iter()
        .enumerate()
        .find(|(_, e)| e["node"].get("positionProfileId").is_some())
        .unwrap_or_else(|| panic!("the job ad event is still listed: {r}"));
    assert_eq!(posted["node"]["positionProfileId"], position.as_str());
    assert!(
        posted["node"].as_object().unwrap().contains_key("positionProfile")
            && posted["node"]["positionProfile"].is_null()
    );
    assert_eq!(
        error_at(&r, &json!(["events", "edges", i, "node", "positionProfile"]))["extensions"]["code"],
        "FORBIDDEN"
    );
}

/// Request errors (parse, validation) were not executed: per the GraphQL-over-HTTP spec their
/// response has `errors` and no `data` key, under both media types (`200` for
/// `application/json`, `400` for `application/graphql-response+json`).
#[tokio::test]
async fn request_errors_have_no_data_key_under_either_media_type() {
    let app = TestApp::spawn().await;
    for (accept, status) in [("application/json", 200), ("application/graphql-response+json", 400)] {
        for (query, code) in [("{ version", "GRAPHQL_PARSE_FAILED"), ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED")] {
            let res = app
                .client
                .post(format!("{}/graphql", app.base))
                .header("accept", accept)
                .json(&json!({"query": query}))
                .send()
                .await
                .expect("request");
            assert_eq!(res.status().as_u16(), status, "{accept} {query}");
            assert_eq!(res.headers()["content-type"], accept);
            let body: Value = res.json().await.expect("json");
            let body_keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(body_keys, ["errors"], "{accept} {query}: {body}");
            assert_eq!(error_codes(&body), [code], "{body}");
        }
    }
    // An executed request whose root failed keeps `data` (null), as GraphQL requires.
    let r = app.graphql(None, "{ version }", json!({})).await;
    assert!(r.as_object().unwrap().contains_key("data"), "{r}");
    assert_eq!(error_codes(&r), ["UNAUTHENTICATED"]);
}
