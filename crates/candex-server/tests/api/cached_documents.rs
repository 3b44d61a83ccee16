//! A document this server has validated before runs without the document-only validation rules
//! when its variables are proven of their declared types (`graphql::proven`). Every answer must
//! be the one a first, strictly validated run of the same document gives: the same data, the
//! same errors, messages, locations and codes, whatever the variables.

use serde_json::{json, Value};

use crate::helpers::TestApp;

const QUERY: &str = "query ($id: String!, $last: Int) {
  candidateProfile(id: $id) {
    profileId { value }
    candidate { profiles(last: $last) { profileId { value } } }
  }
}";

#[tokio::test]
async fn a_cached_document_answers_every_variable_as_a_fresh_one_does() {
    // Arrange: one application, and the document cached by a successful run.
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Welder").await;
    let (profile, _) = app.apply(&position, "a@example.com").await;
    let token = app.token(&partner).await;
    let first = app.graphql(Some(&token), QUERY, json!({"id": profile, "last": 2})).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(first["data"]["candidateProfile"]["profileId"]["value"], profile);

    let cases: Vec<Value> = vec![
        json!({"id": profile, "last": 2}),
        json!({"id": profile}),
        json!({"id": "seekAnzPublicTest:candidateProfile:apply:unknown"}),
        json!({"id": "not an id"}),
        json!({"id": profile, "last": 99}),
        json!({"id": profile, "last": -1}),
        json!({"id": 5}),
        json!({"id": null}),
        json!({}),
        json!({"id": true}),
        json!({"id": ["a"]}),
        json!({"id": {"value": "a"}}),
        json!({"id": profile, "last": "2"}),
        json!({"id": profile, "last": 1.5}),
        json!({"id": profile, "last": 2_147_483_648_i64}),
        json!({"id": profile, "last": null}),
        json!({"id": profile, "unknown": 1}),
    ];
    for (i, variables) in cases.into_iter().enumerate() {
        // Act: the cached text, and a text of its own (a trailing comment, so every location
        // is the same) that this server has never seen, so it is parsed and strictly validated.
        let cached = app.graphql(Some(&token), QUERY, variables.clone()).await;
        let fresh_text = format!("{QUERY}\n# fresh {i}");
        let fresh = app.graphql(Some(&token), &fresh_text, variables.clone()).await;

        // Assert
        assert_eq!(cached, fresh, "variables {variables}");
    }
}
