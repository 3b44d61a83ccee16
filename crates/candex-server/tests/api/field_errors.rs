//! Field errors null the field, as GraphQL §6.4.4 and SEEK do: the key is present and `null`,
//! the error names its path and code, and sibling data is intact (root fields, aliases, and
//! profiles nested in an events page after a relationship was narrowed).

use serde_json::{json, Value};

use crate::helpers::TestApp;

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
