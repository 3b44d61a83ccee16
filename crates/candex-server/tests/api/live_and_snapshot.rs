//! Live vs snapshot: `Candidate.person` follows later updates on every profile; employment,
//! education and the rest stay as they were at application time. Also candidate matching.

use serde_json::{json, Value};

use crate::helpers::{TestApp, TestPartner};

async fn setup() -> (TestApp, TestPartner, String, String) {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Role").await;
    (app, partner, hirer, position)
}

const Q: &str = r#"query ($id: String!) { candidateProfile(id: $id) {
  candidate { documentId { value } person { name { given family formattedName } communication { email { address } phone { formattedNumber } } } }
  employment { organization { name } positionHistories { title start } }
  education { institution { name } } } }"#;

#[tokio::test]
async fn updating_a_person_changes_earlier_profiles_person_but_not_their_snapshot() {
    let (app, partner, _hirer, position) = setup().await;
    let mut body = crate::helpers::minimal_application(&position, "ella@example.com");
    body["employment"] =
        json!([{"organization": {"name": "Swift Inc"}, "positionHistories": [{"title": "Rep", "start": "2015-05"}]}]);
    body["education"] = json!([{"institution": {"name": "Uni SA"}}]);
    let (status, created) = app.ingest(body).await;
    assert_eq!(status, 201, "{created}");
    let profile = created["candidateProfileId"].as_str().unwrap().to_owned();
    let candidate = created["candidateId"].as_str().unwrap().to_owned();
    let token = app.token(&partner).await;
    let before = app.graphql(Some(&token), Q, json!({"id": profile})).await;

    let (status, updated) = app
        .operator(
            reqwest::Method::PUT,
            &format!("/candidates/{candidate}/person"),
            Some(json!({"name": {"given": "Ella", "family": "Smith"}, "communication": {"email": [{"address": "ella@example.com"}], "phone": [{"formattedNumber": "0400 000 000"}]}})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let after = app.graphql(Some(&token), Q, json!({"id": profile})).await;

    let person = &after["data"]["candidateProfile"]["candidate"]["person"];
    assert_eq!(person["name"], json!({"given": "Ella", "family": "Smith", "formattedName": "Ella Smith"}));
    assert_eq!(person["communication"]["phone"], json!([{"formattedNumber": "0400 000 000"}]));
    let snapshot = |r: &Value| {
        (r["data"]["candidateProfile"]["employment"].clone(), r["data"]["candidateProfile"]["education"].clone())
    };
    assert_eq!(snapshot(&before), snapshot(&after));
    assert_eq!(after["data"]["candidateProfile"]["employment"][0]["organization"]["name"], "Swift Inc");
}

#[tokio::test]
async fn a_second_application_with_the_same_email_is_the_same_candidate_with_its_own_snapshot() {
    let (app, partner, hirer, position) = setup().await;
    let mut first = crate::helpers::minimal_application(&position, "Sam@Example.com");
    first["employment"] = json!([{"organization": {"name": "Old Co"}, "positionHistories": []}]);
    let (_, a) = app.ingest(first).await;
    let mut second = crate::helpers::minimal_application(&position, "sam@example.com");
    second["candidate"]["person"]["name"]["family"] = json!("Lee-Jones");
    second["employment"] = json!([{"organization": {"name": "New Co"}, "positionHistories": []}]);
    let (_, b) = app.ingest(second).await;
    assert_eq!(a["candidateId"], b["candidateId"], "matched on email, case-insensitively");
    assert_ne!(a["candidateProfileId"], b["candidateProfileId"]);

    let token = app.token(&partner).await;
    let ra = app.graphql(Some(&token), Q, json!({"id": a["candidateProfileId"]})).await;
    let rb = app.graphql(Some(&token), Q, json!({"id": b["candidateProfileId"]})).await;
    assert_eq!(ra["data"]["candidateProfile"]["employment"][0]["organization"]["name"], "Old Co");
    assert_eq!(rb["data"]["candidateProfile"]["employment"][0]["organization"]["name"], "New Co");
    // The person is live: the latest application's name shows on both.
    assert_eq!(ra["data"]["candidateProfile"]["candidate"]["person"]["name"]["family"], "Lee-Jones");

    // The same person at another hirer is another candidate.
    let other_hirer = app.create_hirer("Globex").await;
    let other_position = app.create_position(&other_hirer, "Role").await;
    let (_, c) = app.ingest(crate::helpers::minimal_application(&other_position, "sam@example.com")).await;
    assert_ne!(c["candidateId"], a["candidateId"]);
    let _ = hirer;
}
