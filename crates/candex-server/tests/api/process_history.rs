//! Process history through real HTTP: by default exactly SEEK's behaviour for applications
//! (`seekProcessHistory` null, nothing readable, a create refused with `BAD_USER_INPUT`), and
//! with `process_history_on_applications` candex's extension: create (with its idempotency
//! conflict), read, page, update, delete, every write authorised against the profile's hirer,
//! bounded input named by JSON pointer, the operator API's read, and erasure.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp};

const CREATE: &str = r#"mutation ($input: CreateCandidateProcessHistoryItemInput!) {
  createCandidateProcessHistoryItem(input: $input) {
    __typename
    ... on CreateCandidateProcessHistoryItemPayload_Success {
      candidateProfile { profileId { value } }
      candidateProcessHistoryItem {
        id { value } actionDate
        action { code name description seekUrl { url } }
        status { code } seekSource { name }
        positionProfile { profileId { value } positionTitle }
        candidateProfile { profileId { value } }
        primaryParties { organization { name } person { name { formattedName given family } roleCode
          communication { email { address } phone { formattedNumber } address { city countryCode postalCode } } } }
      }
    }
    ... on CreateCandidateProcessHistoryItemPayload_Conflict {
      candidateProfile { profileId { value } }
      conflictingCandidateProcessHistoryItem { id { value } status { code } }
    }
  }
}"#;

const UPDATE: &str = r#"mutation ($input: UpdateCandidateProcessHistoryItemInput!) {
  updateCandidateProcessHistoryItem(input: $input) {
    candidateProcessHistoryItem { id { value } actionDate status { code } action { code } positionProfile { profileId { value } } }
  }
}"#;

const DELETE: &str = r#"mutation ($id: String!) {
  deleteCandidateProcessHistoryItem(input: {candidateProcessHistoryItem: {id: $id}}) {
    candidateProcessHistoryItem { id { value } status { code } }
  }
}"#;

const ITEM: &str = r#"query ($id: String!) {
  candidateProcessHistoryItem(id: $id) { id { value } status { code } candidateProfile { profileId { value } } }
}"#;

const HISTORY: &str = r#"query ($id: String!, $after: String, $first: Int) {
  candidateProfile(id: $id) {
    profileId { value }
    seekProcessHistory(after: $after, first: $first) {
      edges { cursor node { id { value } status { code } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}"#;

/// The item SEEK's documentation describes: a status change by a recruiter.
fn item(key: &str, status: &str) -> Value {
    json!({
        "action": {"code": "StatusChange", "name": "Shortlisted", "description": "after the phone screen",
                   "seekUrl": {"url": "https://ats.example/candidates/1"}},
        "actionDate": "2024-05-01T09:30:00.000Z",
        "idempotencyId": key,
        "primaryParties": [{
            "organization": {"name": "Acme Recruiting"},
            "person": {
                "name": {"formattedName": "Rita Recruiter", "given": "Rita", "family": "Recruiter"},
                "roleCode": "Recruiter",
                "communication": {
                    "email": [{"address": "rita@acme.example"}],
                    "phone": [{"formattedNumber": "+61 400 000 000"}],
                    "address": [{"city": "Melbourne", "countryCode": "AU", "postalCode": "3000",
                                 "countrySubDivisions": [], "extendedLines": []}]
                }
            }
        }],
        "status": {"code": status}
    })
}

fn create_input(profile: &str, item: Value) -> Value {
    json!({"input": {"candidateProfile": {"profileId": profile}, "candidateProcessHistoryItem": item}})
}

struct World {
    app: TestApp,
    profile: String,
    candidate: String,
    position: String,
    exporter: String,
    poster: String,
}

async fn world(extension: bool) -> World {
    let app = TestApp::spawn_with(|mut s| {
        s.process_history_on_applications = extension;
        s
    })
    .await;
    let hirer = app.create_hirer("History Pty Ltd").await;
    let exporter = app.create_partner("Exporter ATS").await;
    let poster = app.create_partner("Poster ATS").await;
    app.relate(&exporter, &hirer, &["ApplicationExport"]).await;
    app.relate(&poster, &hirer, &["JobPosting"]).await;
    let position = app.create_position(&hirer, "Barista").await;
    let (profile, candidate) = app.apply(&position, "hana@example.com").await;
    let (exporter, poster) = (app.token(&exporter).await, app.token(&poster).await);
    World { app, profile, candidate, position, exporter, poster }
}

fn error_at<'a>(response: &'a Value, path: &Value) -> &'a Value {
    response["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| &e["path"] == path))
        .unwrap_or_else(|| panic!("no error at {path}: {response}"))
}

#[tokio::test]
async fn by_default_applications_have_no_process_history_as_at_seek() {
    let w = world(false).await;
    let r = w.app.graphql(Some(&w.exporter), HISTORY, json!({"id": w.profile})).await;
    assert_eq!(r["data"]["candidateProfile"]["profileId"]["value"], w.profile, "{r}");
    assert!(r["data"]["candidateProfile"]["seekProcessHistory"].is_null(), "{r}");
    assert!(r.get("errors").is_none(), "{r}");

    // A create is validated, authorised, then refused: the profile is an application.
    let r = w.app.graphql(Some(&w.exporter), CREATE, create_input(&w.profile, item("k1", "HirerShortlist"))).await;
    assert!(r["data"].is_null(), "the payload is non-null, so data is null: {r}");
    let error = error_at(&r, &json!(["createCandidateProcessHistoryItem"]));
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let message = error["extensions"]["invalidFields"]["/input/candidateProfile/profileId"].as_str().unwrap();
    assert!(message.contains("uploaded candidate"), "{message}");
    // Invalid input is still named first, and no relationship is still FORBIDDEN.
    let r = w.app.graphql(Some(&w.exporter), CREATE, create_input(&w.profile, item("k1", "Hired"))).await;
    assert!(error_at(&r, &json!(["createCandidateProcessHistoryItem"]))["extensions"]["invalidFields"]
        ["/input/candidateProcessHistoryItem/status/code"]
        .is_string());
    let r = w.app.graphql(Some(&w.poster), CREATE, create_input(&w.profile, item("k1", "Interview"))).await;
    assert_eq!(error_codes(&r), ["FORBIDDEN"], "{r}");
    assert_eq!(w.app.count_rows("process_history_items").await, 0);

    let r = w
        .app
        .graphql(Some(&w.exporter), ITEM, json!({"id": "seekAnzPublicTest:candidateProcessHistoryItem:seek:1"}))
        .await;
    assert_eq!(r["data"], json!({"candidateProcessHistoryItem": null}), "{r}");
}

#[tokio::test]
async fn the_extension_records_reads_pages_updates_and_deletes_history_on_applications() {
    let w = world(true).await;
    let mut first = item("interview-1", "HirerShortlist");
    first["positionProfile"] = json!({"profileId": w.position});
    first["seekSource"] = json!({"name": "SEEK"});
    let r = w.app.graphql(Some(&w.exporter), CREATE, create_input(&w.profile, first.clone())).await;
    let payload = &r["data"]["createCandidateProcessHistoryItem"];
    assert_eq!(payload["__typename"], "CreateCandidateProcessHistoryItemPayload_Success", "{r}");
    let created = &payload["candidateProcessHistoryItem"];
    let id = created["id"]["value"].as_str().unwrap().to_owned();
    assert!(id.starts_with("seekAnzPublicTest:candidateProcessHistoryItem:"), "{id}");
    assert_eq!(created["actionDate"], "2024-05-01T09:30:00.000Z");
    assert_eq!(
        created["action"],
        json!({"code": "StatusChange", "name": "Shortlisted", "description": "after the phone screen",
               "seekUrl": {"url": "https://ats.example/candidates/1"}})
    );
    assert_eq!(created["status"], json!({"code": "HirerShortlist"}));
    assert_eq!(created["seekSource"], json!({"name": "SEEK"}));
    assert_eq!(created["positionProfile"]["profileId"]["value"], w.position);
    assert_eq!(created["candidateProfile"]["profileId"]["value"], w.profile);
    let party = &created["primaryParties"][0];
    assert_eq!(party["organization"]["name"], "Acme Recruiting");
    assert_eq!(party["person"]["name"]["formattedName"], "Rita Recruiter");
    assert_eq!(party["person"]["communication"]["email"][0]["address"], "rita@acme.example");
    assert_eq!(party["person"]["communication"]["address"][0]["postalCode"], "3000");

    // A retry with the same idempotency id answers Conflict naming the first item.
    let r = w.app.graphql(Some(&w.exporter), CREATE, create_input(&w.profile, item("interview-1", "Offer"))).await;
    let payload = &r["data"]["createCandidateProcessHistoryItem"];
    assert_eq!(payload["__typename"], "CreateCandidateProcessHistoryItemPayload_Conflict", "{r}");
    assert_eq!(payload["conflictingCandidateProcessHistoryItem"]["id"]["value"], id.as_str());
    assert_eq!(payload["conflictingCandidateProcessHistoryItem"]["status"]["code"], "HirerShortlist");

    for (key, status) in [("interview-2", "Interview"), ("offer", "Offer")] {
        let r = w.app.graphql(Some(&w.exporter), CREATE, create_input(&w.profile, item(key, status))).await;
        assert_eq!(
            r["data"]["createCandidateProcessHistoryItem"]["__typename"],
            "CreateCandidateProcessHistoryItemPayload_Success",
            "{r}"
        );
    }

    // seekProcessHistory pages in recording order.
    let r = w.app.graphql(Some(&w.exporter), HISTORY, json!({"id": w.profile, "first": 2})).await;
    let history = &r["data"]["candidateProfile"]["seekProcessHistory"];
    let statuses = |h: &Value| -> Vec<String> {
        h["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["status"]["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(statuses(history), ["HirerShortlist", "Interview"], "{r}");
    assert_eq!(history["pageInfo"]["hasNextPage"], true);
    let after = history["pageInfo"]["endCursor"].clone();
    let r = w.app.graphql(Some(&w.exporter), HISTORY, json!({"id": w.profile, "first": 2, "after": after})).await;
    let history = &r["data"]["candidateProfile"]["seekProcessHistory"];
    assert_eq!(statuses(history), ["Offer"], "{r}");
    assert_eq!(history["pageInfo"]["hasNextPage"], false);
    assert_eq!(history["pageInfo"]["hasPreviousPage"], true);

    // Read one, then change it.
    let r = w.app.graphql(Some(&w.exporter), ITEM, json!({"id": id})).await;
    assert_eq!(r["data"]["candidateProcessHistoryItem"]["candidateProfile"]["profileId"]["value"], w.profile, "{r}");
    let mut change = item("ignored", "Unsuccessful");
    change.as_object_mut().unwrap().remove("idempotencyId");
    change["id"] = json!(id);
    change["actionDate"] = json!("2024-05-03T10:00:00.000Z");
    let r = w.app.graphql(Some(&w.exporter), UPDATE, json!({"input": {"candidateProcessHistoryItem": change}})).await;
    let updated = &r["data"]["updateCandidateProcessHistoryItem"]["candidateProcessHistoryItem"];
    assert_eq!(updated["status"]["code"], "Unsuccessful", "{r}");
    assert_eq!(updated["actionDate"], "2024-05-03T10:00:00.000Z");
    assert!(updated["positionProfile"].is_null(), "the job ad was left out of the update");

    // The operator API reads the application's history back.
    let (status, page) =
        w.app.operator(Method::GET, &format!("/candidate-profiles/{}/process-history?limit=2", w.profile), None).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["status"], "Unsuccessful");
    assert_eq!(items[0]["idempotencyId"], "interview-1");
    assert_eq!(items[0]["action"]["code"], "StatusChange");
    assert_eq!(items[0]["primaryParties"][0]["person"]["name"]["formattedName"], "Rita Recruiter");
    let next = page["nextCursor"].as_str().unwrap();
    let (_, rest) = w
        .app
        .operator(Method::GET, &format!("/candidate-profiles/{}/process-history?after={next}", w.profile), None)
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
    assert!(rest.get("nextCursor").is_none() || rest["nextCursor"].is_null());
    let (status, _) = w
        .app
        .operator(Method::GET, "/candidate-profiles/seekAnzPublicTest:candidateProfile:apply:x/process-history", None)
        .await;
    assert_eq!(status, 404);

    // Delete: the payload holds the item as it was; then it is gone.
    let r = w.app.graphql(Some(&w.exporter), DELETE, json!({"id": id})).await;
    assert_eq!(
        r["data"]["deleteCandidateProcessHistoryItem"]["candidateProcessHistoryItem"]["status"]["code"], "Unsuccessful",
        "{r}"
    );
    let r = w.app.graphql(Some(&w.exporter), ITEM, json!({"id": id})).await;
    assert_eq!(r["data"], json!({"candidateProcessHistoryItem": null}), "{r}");
    let r = w.app.graphql(Some(&w.exporter), DELETE, json!({"id": id})).await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");

    // Erasing the candidate deletes the rest.
    let (status, _) = w.app.operator(Method::DELETE, &format!("/candidates/{}", w.candidate), None).await;
    assert_eq!(status, 200);
    assert_eq!(w.app.count_rows("process_history_items").await, 0);
}

#[tokio::test]
async fn process_history_is_scoped_to_the_profiles_hirer_and_field_errors_null_the_field() {
    let w = world(true).await;
    let r = w.app.graphql(Some(&w.exporter), CREATE, create_input(&w.profile, item("k", "Interview"))).await;
    let id = r["data"]["createCandidateProcessHistoryItem"]["candidateProcessHistoryItem"]["id"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();

    // Without ApplicationExport: the read is null beside its siblings, with FORBIDDEN at its path.
    let query = "query ($id: String!) { version candidateProcessHistoryItem(id: $id) { id { value } } }";
    let r = w.app.graphql(Some(&w.poster), query, json!({"id": id})).await;
    assert!(r["data"]["version"].is_string(), "{r}");
    assert!(r["data"].as_object().unwrap().contains_key("candidateProcessHistoryItem"), "{r}");
    assert!(r["data"]["candidateProcessHistoryItem"].is_null());
    assert_eq!(error_at(&r, &json!(["candidateProcessHistoryItem"]))["extensions"]["code"], "FORBIDDEN");
    // ... and so are the writes; nothing changes.
    let mut change = item("x", "Offer");
    change.as_object_mut().unwrap().remove("idempotencyId");
    change["id"] = json!(id);
    let r = w.app.graphql(Some(&w.poster), UPDATE, json!({"input": {"candidateProcessHistoryItem": change}})).await;
    assert_eq!(r["data"], json!({"updateCandidateProcessHistoryItem": null}), "{r}");
    assert_eq!(error_at(&r, &json!(["updateCandidateProcessHistoryItem"]))["extensions"]["code"], "FORBIDDEN");
    let r = w.app.graphql(Some(&w.poster), DELETE, json!({"id": id})).await;
    assert_eq!(error_codes(&r), ["FORBIDDEN"], "{r}");
    let r = w.app.graphql(Some(&w.exporter), ITEM, json!({"id": id})).await;
    assert_eq!(r["data"]["candidateProcessHistoryItem"]["status"]["code"], "Interview", "unchanged: {r}");

    // A job ad of another hirer is refused like an unknown one.
    let other_hirer = w.app.create_hirer("Elsewhere Pty Ltd").await;
    let foreign_position = w.app.create_position(&other_hirer, "Chef").await;
    let mut foreign = item("foreign", "Interview");
    foreign["positionProfile"] = json!({"profileId": foreign_position});
    foreign["seekSource"] = json!({"name": "SEEK"});
    let r = w.app.graphql(Some(&w.exporter), CREATE, create_input(&w.profile, foreign)).await;
    let fields = &error_at(&r, &json!(["createCandidateProcessHistoryItem"]))["extensions"]["invalidFields"];
    assert!(fields["/input/candidateProcessHistoryItem/positionProfile/profileId"].is_string(), "{r}");

    // Bad input names every field; bounds hold.
    let mut bad = item("", "Hired");
    bad["action"]["code"] = json!("Teleported");
    bad["action"]["seekUrl"] = json!({"url": "javascript:alert(1)"});
    bad["action"]["description"] = json!("x".repeat(5_001));
    bad["primaryParties"] = json!(vec![json!({"organization": {"name": "Acme"}}); 11]);
    bad["positionProfile"] = json!({"profileId": w.position});
    let r = w.app.graphql(Some(&w.exporter), CREATE, create_input("not an id", bad)).await;
    let fields = error_at(&r, &json!(["createCandidateProcessHistoryItem"]))["extensions"]["invalidFields"]
        .as_object()
        .unwrap_or_else(|| panic!("{r}"))
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    let p = |s: &str| format!("/input/candidateProcessHistoryItem/{s}");
    for expected in [
        "/input/candidateProfile/profileId".to_owned(),
        p("idempotencyId"),
        p("action/code"),
        p("action/seekUrl/url"),
        p("action/description"),
        p("status/code"),
        p("primaryParties"),
        p("seekSource"),
    ] {
        assert!(fields.contains(&expected), "{expected} not in {fields:?}");
    }
    let mut empty_party = item("empty-party", "Interview");
    empty_party["primaryParties"] = json!([{}]);
    let r = w.app.graphql(Some(&w.exporter), CREATE, create_input(&w.profile, empty_party)).await;
    assert!(error_at(&r, &json!(["createCandidateProcessHistoryItem"]))["extensions"]["invalidFields"]
        ["/input/candidateProcessHistoryItem/primaryParties/0"]
        .is_string());

    // seekProcessHistory over its maximum page: that field is null, its siblings intact.
    let r = w.app.graphql(Some(&w.exporter), HISTORY, json!({"id": w.profile, "first": 21})).await;
    let profile = r["data"]["candidateProfile"].as_object().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(profile["profileId"]["value"], w.profile.as_str());
    assert!(profile.contains_key("seekProcessHistory") && profile["seekProcessHistory"].is_null(), "{r}");
    let error = error_at(&r, &json!(["candidateProfile", "seekProcessHistory"]));
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert!(error["extensions"]["invalidFields"]["/first"].is_string(), "{error}");
    // ... and inside Candidate.profiles, each profile's field is null at its own path.
    let query = r#"query ($id: String!) { candidateProfile(id: $id) { candidate { profiles {
        profileId { value } seekProcessHistory(first: 99) { edges { cursor } } } } } }"#;
    let r = w.app.graphql(Some(&w.exporter), query, json!({"id": w.profile})).await;
    let profiles = r["data"]["candidateProfile"]["candidate"]["profiles"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(profiles[0]["profileId"]["value"], w.profile.as_str());
    assert!(
        profiles[0].as_object().unwrap().contains_key("seekProcessHistory")
            && profiles[0]["seekProcessHistory"].is_null()
    );
    let path = json!(["candidateProfile", "candidate", "profiles", 0, "seekProcessHistory"]);
    assert_eq!(error_at(&r, &path)["extensions"]["code"], "BAD_USER_INPUT");
}
