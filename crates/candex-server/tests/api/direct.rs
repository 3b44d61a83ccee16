//! The direct `candidateProfile` writer (`graphql::direct`) answers byte for byte as the
//! GraphQL executor does: for every field it writes, with aliases and `__typename` at every
//! level, over profiles holding every kind of value (nulls, empty and long lists, escapes,
//! non-ASCII text). And it answers only the happy path: every refusal comes from the executor,
//! and so does a questionnaire submission that is not null.

use serde_json::{json, Value};

use crate::helpers::{TestApp, SEED_QUERY};

/// Every field the direct writer writes, each with `__typename` beside it, and aliases.
const ALL_FIELDS: &str = r#"query Everything($id: String!) {
  profile: candidateProfile(id: $id) {
    __typename
    profileId { __typename value }
    createDateTime
    updateDateTime
    candidate {
      __typename
      documentId { value }
      seekPrimaryEmailAddress
      person {
        __typename
        name { __typename given family formattedName }
        communication {
          __typename phone { __typename formattedNumber } email { __typename address } seekDoNotContactIndicator
          address {
            __typename line city postalCode countryCode formattedAddress
            countrySubDivisions { __typename type value } extendedLines { t: type value }
          }
        }
      }
    }
    associatedPositionProfile {
      __typename
      positionOrganizations { __typename id { value } name }
      positionUri
      positionTitle
      profileId { value }
      seekHirerJobReference
      seekTypeCode
    }
    employment {
      __typename
      organization { __typename name }
      positionHistories { __typename title start end current descriptions }
    }
    education {
      __typename
      institution { name }
      educationDegrees { __typename name degreeGrantedStatus date }
      descriptions
    }
    certifications {
      __typename
      name
      issued
      issueDate
      effectiveTimePeriod { __typename validTo }
      issuingAuthority { __typename name }
      descriptions
    }
    qualifications { __typename competencyName }
    candidateSources { __typename name type }
    positionPreferences { locations { referenceLocation { city } } }
    seekActions { code }
    renamed: profileId { v: value }
    attachments { __typename id { __typename value } url seekRoleCode descriptions }
    seekQuestionnaireSubmission { __typename score questionnaire { id { value } } }
  }
}"#;

/// `candex export`'s query (candex-client's `CANDIDATE_PROFILE_QUERY`).
const EXPORTER_QUERY: &str = include_str!("../../../candex-client/graphql/candidate_profile.graphql");

fn rich_application(position: &str) -> Value {
    json!({
        "positionProfileId": position,
        "candidate": {"person": {
            "name": {"given": "Zoë \"Z\" O'Brien", "family": "Ñúñez\\Back"},
            "communication": {
                "email": [{"address": "zoe@example.com"}, {"address": "z.o+tag@example.org"}],
                "phone": [{"formattedNumber": "+61 (0)2 5550 1234"}],
                "address": [
                    {"formattedAddress": "1 Rue de l'Église, 75001 Paris", "countryCode": "FR"},
                    {"line": "3/12 \"High\" St", "city": "Melbourne", "postalCode": "3000", "countryCode": "AU",
                     "countrySubDivisions": [{"type": "State", "value": "VIC"}],
                     "extendedLines": [{"type": "Unit", "value": "3"}, {"type": "Building", "value": "Tower Ü"}]}
                ]
            }
        }},
        "employment": [
            {"organization": {"name": "Ünïcode & <Co> \u{1F600}"}, "positionHistories": [
                {"title": "Lead\tengineer", "start": "2015-05", "end": "2018-03", "current": false,
                 "descriptions": ["line one\nline two", "a \"quoted\" \\ backslash", "</script>"]},
                {"title": "Head", "start": "2018-04", "current": true},
                {"title": "Advisor", "start": "2019"}]},
            {"organization": {"name": "Second"}, "positionHistories": []}
        ],
        "education": [
            {"institution": {"name": "Université"}, "educationDegrees": [
                {"name": "BSc", "degreeGrantedStatus": "Granted", "date": "2016-10"},
                {"name": "MSc", "degreeGrantedStatus": "InProgress"}], "descriptions": ["Dean's list"]},
            {"institution": {"name": "Night school"}}
        ],
        "certifications": [
            {"name": "Check", "issued": "2021-01", "effectiveTimePeriod": {"validTo": "2023-01"},
             "issuingAuthority": {"name": "Police"}, "descriptions": ["passed"]},
            {"name": "Licence", "effectiveTimePeriod": {}},
            {"name": "Bare"}
        ],
        "qualifications": [{"competencyName": "Customer service"}, {"competencyName": "日本語"}],
        "attachments": [
            {"file": "resume", "seekRoleCode": "Resume", "descriptions": ["My \"CV\"", "Lebenslauf für Zoë"]},
            {"file": "letter", "seekRoleCode": null}
        ]
    })
}

/// The files [`rich_application`] names.
fn rich_files() -> Vec<(&'static str, &'static str, &'static str, Vec<u8>)> {
    vec![
        ("resume", "Zoë résumé.pdf", "application/pdf", b"%PDF-1.4 resume".to_vec()),
        ("letter", "letter.txt", "text/plain", b"Dear hirer".to_vec()),
    ]
}

/// Status, content type and the exact body bytes of a GraphQL request.
async fn raw(app: &TestApp, token: &str, query: &str, variables: Value, accept: &str) -> (u16, String, String) {
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("accept", accept)
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("graphql request");
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, res.text().await.expect("body"))
}

/// `candex_graphql_direct_answers_total` now.
async fn direct_answers(app: &TestApp) -> u64 {
    let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("candex_graphql_direct_answers_total "))
        .map(|n| n.trim().parse::<f64>().expect("a number") as u64)
        .expect("the direct answers counter is exported")
}

/// The same answer: byte for byte where the executor writes fields in selection order. It
/// orders an object's fields as their resolvers finish (async-graphql resolves them at once),
/// so on PostgreSQL, where `attachments` awaits its read, that field can come after fields
/// selected later; the direct writer keeps the selection order, as the GraphQL spec has it.
/// There the answers must be the same JSON, and the direct one in selection order.
fn assert_same_answer(direct: &(u16, String, String), executor: &(u16, String, String), case: usize) {
    if crate::helpers::backend() == "sqlite" || direct == executor {
        assert_eq!(direct, executor, "case {case}: direct and executor differ");
        return;
    }
    assert_eq!((direct.0, &direct.1), (executor.0, &executor.1), "case {case}");
    let parse = |body: &str| serde_json::from_str::<Value>(body).expect("JSON");
    assert_eq!(parse(&direct.2), parse(&executor.2), "case {case}: direct and executor differ");
    // In selection order: `attachments` right after `renamed` or `qualifications`.
    if let Some(at) = direct.2.find("\"attachments\":") {
        let before = &direct.2[..at];
        assert!(
            before.ends_with("},") || before.ends_with("],"),
            "case {case}: {}",
            &direct.2[at.saturating_sub(80)..at]
        );
        assert!(!before.contains("\"seekQuestionnaireSubmission\""), "case {case}: attachments is selected first");
    }
}

#[tokio::test]
async fn direct_answers_are_the_executors_byte_for_byte() {
    // Arrange: a rich application, a minimal one, and one whose job ad has a reference.
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme \"Recruitment\" — Ünïcode").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Welder / Fitter").await;
    let (status, rich) = app.ingest_multipart(rich_application(&position), rich_files()).await;
    assert_eq!(status, 201, "{rich}");
    let rich = rich["candidateProfileId"].as_str().unwrap().to_owned();
    let (minimal, _) = app.apply(&position, "min@example.com").await;
    let token = app.token(&partner).await;

    let mut case = 0;
    for query in [SEED_QUERY, ALL_FIELDS, EXPORTER_QUERY] {
        for profile in [&rich, &minimal] {
            for accept in ["application/json", "application/graphql-response+json"] {
                case += 1;
                let variables = json!({"id": profile});
                // The first run validates the document strictly and keeps it.
                let first = raw(&app, &token, query, variables.clone(), accept).await;
                let before = direct_answers(&app).await;

                // Act: the kept document again (direct), and the executor's answer to the same
                // document under a text it has never seen (a trailing comment).
                let direct = raw(&app, &token, query, variables.clone(), accept).await;
                let answered_directly = direct_answers(&app).await - before;
                let executor = raw(&app, &token, &format!("{query}\n# executor {case}"), variables, accept).await;

                // Assert
                assert_eq!(answered_directly, 1, "the second run is answered directly");
                assert_same_answer(&direct, &executor, case);
                assert_same_answer(&first, &executor, case);
                assert!(!direct.2.contains("errors"), "{}", direct.2);
            }
        }
    }
    let body: Value = serde_json::from_str(&raw(&app, &token, ALL_FIELDS, json!({"id": rich}), "*/*").await.2).unwrap();
    let p = &body["data"]["profile"];
    assert_eq!(p["candidate"]["person"]["name"]["given"], "Zoë \"Z\" O'Brien");
    assert_eq!(p["employment"][0]["positionHistories"][1]["end"], Value::Null);
    assert_eq!(p["certifications"][2]["effectiveTimePeriod"], Value::Null);
    assert_eq!(p["renamed"]["v"], rich);
    assert_eq!(p["attachments"][0]["descriptions"][1], "Lebenslauf für Zoë");
    assert_eq!(p["attachments"][1]["seekRoleCode"], Value::Null);
    assert!(p["attachments"][1]["url"].as_str().unwrap().starts_with(&app.base), "{p}");
    assert_eq!(p["candidate"]["person"]["communication"]["address"][1]["extendedLines"][1]["t"], "Building");
    assert_eq!(p["seekQuestionnaireSubmission"], Value::Null);
}

#[tokio::test]
async fn a_questionnaire_submission_is_answered_by_the_executor() {
    // Arrange: a job ad with a questionnaire, one application answering it.
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let questionnaire = json!({"components": [
        {"componentTypeCode": "Question", "value": "why", "questionHtml": "<p>Why?</p>", "responseTypeCode": "FreeText"}
    ]});
    let position =
        app.post_position(json!({"hirerId": hirer, "positionTitle": "Driver", "questionnaire": questionnaire})).await;
    let component = position["questionnaire"]["components"][0]["id"].as_str().unwrap().to_owned();
    let mut body = crate::helpers::minimal_application(position["id"].as_str().unwrap(), "q@example.com");
    body["questionnaireResponses"] = json!([{"componentId": component, "answers": [{"answer": "Because"}]}]);
    let (status, created) = app.ingest(body).await;
    assert_eq!(status, 201, "{created}");
    let profile = created["candidateProfileId"].as_str().unwrap().to_owned();
    let token = app.token(&partner).await;

    for query in [ALL_FIELDS, EXPORTER_QUERY] {
        let variables = json!({"id": profile});
        let first = raw(&app, &token, query, variables.clone(), "application/json").await;
        let before = direct_answers(&app).await;

        // Act: the kept document again.
        let again = raw(&app, &token, query, variables, "application/json").await;

        // Assert: the executor answered, with the submission.
        assert_eq!(direct_answers(&app).await, before, "a submission is not written directly");
        // Executor both times: the same JSON (its field order can vary on PostgreSQL, see
        // `assert_same_answer`).
        let body: Value = serde_json::from_str(&again.2).unwrap();
        assert_eq!((again.0, &again.1, &body), (first.0, &first.1, &serde_json::from_str::<Value>(&first.2).unwrap()));
        let profile = body["data"].as_object().unwrap().values().next().unwrap();
        assert_eq!(
            profile["seekQuestionnaireSubmission"]["questionnaire"]["id"]["value"],
            position["questionnaire"]["id"]
        );
    }
}

#[tokio::test]
async fn every_refusal_and_miss_is_the_executors() {
    // Arrange: the seed query kept, then requests the direct writer must leave alone.
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let other_hirer = app.create_hirer("Elsewhere").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    app.relate(&partner, &other_hirer, &["JobPosting"]).await;
    let position = app.create_position(&hirer, "Welder").await;
    let foreign_position = app.create_position(&other_hirer, "Cook").await;
    let (profile, _) = app.apply(&position, "a@example.com").await;
    let (foreign, _) = app.apply(&foreign_position, "b@example.com").await;
    let token = app.token(&partner).await;
    let kept = app.graphql(Some(&token), SEED_QUERY, json!({"id": profile})).await;
    assert!(kept.get("errors").is_none(), "{kept}");
    let before = direct_answers(&app).await;

    // Act and assert: each answered as before, none directly.
    let unknown =
        app.graphql(Some(&token), SEED_QUERY, json!({"id": "seekAnzPublicTest:candidateProfile:apply:nope"})).await;
    assert_eq!(unknown, json!({"data": {"candidateProfile": null}}));
    let not_allowed = app.graphql(Some(&token), SEED_QUERY, json!({"id": foreign})).await;
    assert_eq!(crate::helpers::error_codes(&not_allowed), ["FORBIDDEN"], "{not_allowed}");
    let malformed = app.graphql(Some(&token), SEED_QUERY, json!({"id": "not an id"})).await;
    assert_eq!(crate::helpers::error_codes(&malformed), ["BAD_USER_INPUT"], "{malformed}");
    let missing = app.graphql(Some(&token), SEED_QUERY, json!({})).await;
    assert!(missing["errors"][0]["message"].as_str().unwrap().contains("id"), "{missing}");
    // Revoked tokens are refused at once (the grant read with the profile says so).
    let (status, _) =
        app.operator(reqwest::Method::POST, &format!("/partners/{}/tokens/revoke", partner.id), None).await;
    assert!(status.is_success(), "revoke: {status}");
    let revoked = app.graphql(Some(&token), SEED_QUERY, json!({"id": profile})).await;
    assert_eq!(crate::helpers::error_codes(&revoked), ["UNAUTHENTICATED"], "{revoked}");
    assert_eq!(direct_answers(&app).await, before, "none of these was answered directly");
}
