//! Screening questionnaires end to end: posted with a job ad (ids generated), answered with an
//! application (validated against the job ad's questionnaire, all or nothing), read back
//! through SEEK's documented `seekQuestionnaireSubmission` query with exact scores, and
//! authorised like the job ad.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_codes, minimal_application, TestApp, TestPartner, SUBMISSION_SELECTION};

/// SEEK's documented submission selection (spec §6), verbatim, inside `candidateProfile`.
fn submission_query() -> String {
    ["query ($id: String!) {\n  candidateProfile(id: $id) {\n    ", SUBMISSION_SELECTION, "\n  }\n}"].concat()
}

/// Which choices a submission marks selected, per question (in component order).
const SELECTED_QUERY: &str = r#"query ($id: String!) {
  candidateProfile(id: $id) {
    seekQuestionnaireSubmission {
      questionnaire { components { ... on ApplicationQuestion { responseChoice { text selectedIndicator } } } }
      responses { ... on ApplicationQuestionResponse {
        component { applicationLibraryQuestion { id { value } } responseChoice { text selectedIndicator } }
        answers { choice { selectedIndicator } } } }
    }
  }
}"#;

const QUESTIONNAIRE_QUERY: &str = r#"query ($id: String!) {
  applicationQuestionnaire(id: $id) {
    id { value }
    hirer { id { value } name }
    components {
      id { value } componentTypeCode value
      ... on ApplicationPrivacyConsent { privacyPolicyUrl { url } descriptionHtml }
      ... on ApplicationQuestion { questionHtml responseTypeCode sourceCode
        responseChoice { id { value } text value preferredIndicator selectedIndicator } }
    }
  }
}"#;

/// A consent, a free-text, a single-select and a multi-select question.
fn full_questionnaire() -> Value {
    json!({"components": [
        {"componentTypeCode": "PrivacyConsent", "value": "consent-1", "privacyPolicyUrl": "https://acme.example/privacy",
         "descriptionHtml": "Do you agree to the privacy policy?"},
        {"componentTypeCode": "Question", "value": "why", "questionHtml": "<p>Why do you want this job?</p>",
         "responseTypeCode": "FreeText"},
        {"componentTypeCode": "Question", "questionHtml": "Do you hold a driver's licence?", "responseTypeCode": "SingleSelect",
         "responseChoice": [{"text": "Yes", "value": "y", "preferredIndicator": true}, {"text": "No", "preferredIndicator": false}]},
        {"componentTypeCode": "Question", "value": "days", "questionHtml": "Which days can you work?", "responseTypeCode": "MultiSelect",
         "responseChoice": [{"text": "Monday", "preferredIndicator": true}, {"text": "Tuesday", "preferredIndicator": true},
                            {"text": "Sunday", "value": "sun", "preferredIndicator": false}]}
    ]})
}

/// A job ad with a questionnaire; returns the position response body.
async fn position_with(app: &TestApp, hirer: &str, questionnaire: Value) -> Value {
    let body = json!({"hirerId": hirer, "positionTitle": "Driver", "questionnaire": questionnaire});
    let (status, body) = app.operator(Method::POST, "/positions", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The id of component `n` of a position response.
fn component(position: &Value, n: usize) -> String {
    position["questionnaire"]["components"][n]["id"].as_str().expect("component id").to_owned()
}

/// The id of choice `k` of component `n` of a position response.
fn choice(position: &Value, n: usize, k: usize) -> String {
    position["questionnaire"]["components"][n]["responseChoice"][k]["id"].as_str().expect("choice id").to_owned()
}

/// Valid responses to [`full_questionnaire`]: consent, `text`, single choice `single`, multi
/// choices `multi`.
fn responses(position: &Value, text: &str, single: usize, multi: &[usize]) -> Value {
    let multi: Vec<Value> = multi.iter().map(|k| json!({"choiceId": choice(position, 3, *k)})).collect();
    json!([
        {"componentId": component(position, 0), "consentGivenIndicator": true},
        {"componentId": component(position, 1), "answers": [{"answer": text}]},
        {"componentId": component(position, 2), "answers": [{"choiceId": choice(position, 2, single)}]},
        {"componentId": component(position, 3), "answers": multi}
    ])
}

/// Applies to `position` with `responses`; returns the profile id.
async fn apply_with(app: &TestApp, position: &Value, email: &str, responses: Value) -> String {
    let mut body = minimal_application(position["id"].as_str().expect("position id"), email);
    body["questionnaireResponses"] = responses;
    let (status, body) = app.ingest(body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["candidateProfileId"].as_str().expect("profile id").to_owned()
}

/// A hirer, a partner with `ApplicationExport`, and its token.
async fn exporter(app: &TestApp) -> (String, TestPartner, String) {
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let token = app.token(&partner).await;
    (hirer, partner, token)
}

async fn submission(app: &TestApp, token: &str, profile: &str) -> Value {
    let r = app.graphql(Some(token), &submission_query(), json!({"id": profile})).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["candidateProfile"]["seekQuestionnaireSubmission"].clone()
}

fn has_kind(id: &str, kind: &str) -> bool {
    id.starts_with(&format!("seekAnzPublicTest:{kind}:seek:")) && id.len() > kind.len() + 30
}

#[tokio::test]
async fn a_position_with_a_questionnaire_gets_ids_for_it_every_component_and_every_choice() {
    // Arrange
    let app = TestApp::spawn().await;
    let (hirer, partner, _) = exporter(&app).await;
    app.relate(&partner, &hirer, &["JobPosting"]).await;
    let token = app.token(&partner).await;

    // Act
    let position = position_with(&app, &hirer, full_questionnaire()).await;

    // Assert: ids everywhere, all distinct, the rest as given.
    let q = &position["questionnaire"];
    let mut ids = vec![q["id"].as_str().unwrap().to_owned()];
    assert!(has_kind(&ids[0], "applicationQuestionnaire"), "{q}");
    for (n, c) in q["components"].as_array().unwrap().iter().enumerate() {
        assert!(has_kind(c["id"].as_str().unwrap(), "applicationQuestionnaireComponent"), "{c}");
        ids.push(component(&position, n));
        for (k, ch) in c["responseChoice"].as_array().into_iter().flatten().enumerate() {
            assert!(has_kind(ch["id"].as_str().unwrap(), "applicationQuestionChoice"), "{ch}");
            ids.push(choice(&position, n, k));
        }
    }
    assert_eq!(ids.len(), 1 + 4 + 5);
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len());
    assert_eq!(q["components"][0]["componentTypeCode"], "PrivacyConsent");
    assert_eq!(q["components"][0]["value"], "consent-1");
    assert_eq!(q["components"][2]["responseChoice"][0]["preferredIndicator"], true);
    assert_eq!(q["components"][3]["responseChoice"][2]["value"], "sun");

    let path = format!("/positions/{}", position["id"].as_str().unwrap());
    let (status, read) = app.operator(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["questionnaire"], *q, "GET returns the same questionnaire");

    // GraphQL: by id and through the job ad, identical.
    let by_id = app.graphql(Some(&token), QUESTIONNAIRE_QUERY, json!({"id": q["id"]})).await;
    assert!(by_id.get("errors").is_none(), "{by_id}");
    let gq = &by_id["data"]["applicationQuestionnaire"];
    assert_eq!(gq["id"]["value"], q["id"]);
    assert_eq!(gq["hirer"]["id"]["value"], hirer.as_str());
    let components = gq["components"].as_array().unwrap();
    assert_eq!(components.len(), 4);
    assert_eq!(components[0]["privacyPolicyUrl"]["url"], "https://acme.example/privacy");
    assert_eq!(components[1]["responseChoice"], Value::Null, "free text has no choice list");
    assert_eq!(components[2]["sourceCode"], "Custom");
    assert_eq!(components[2]["responseChoice"][0]["id"]["value"], choice(&position, 2, 0).as_str());
    assert_eq!(components[3]["responseChoice"][2]["selectedIndicator"], false);

    let via_ad = app
        .graphql(
            Some(&token),
            "query ($id: String!) { positionProfile(id: $id) { seekApplicationQuestionnaire { id { value } components { id { value } } } } }",
            json!({"id": position["id"]}),
        )
        .await;
    let ad_q = &via_ad["data"]["positionProfile"]["seekApplicationQuestionnaire"];
    assert_eq!(ad_q["id"]["value"], q["id"], "{via_ad}");
    assert_eq!(ad_q["components"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_job_ad_without_a_questionnaire_has_none_and_its_profiles_no_submission() {
    let app = TestApp::spawn().await;
    let (hirer, _, token) = exporter(&app).await;
    let position = app.create_position(&hirer, "Plain").await;
    let (profile, _) = app.apply(&position, "plain@example.com").await;

    let (_, read) = app.operator(Method::GET, &format!("/positions/{position}"), None).await;
    assert_eq!(read["questionnaire"], Value::Null);
    assert_eq!(submission(&app, &token, &profile).await, Value::Null);
    let r = app
        .graphql(
            Some(&token),
            "query ($id: String!) { candidateProfile(id: $id) { associatedPositionProfile { seekApplicationQuestionnaire { id { value } } } } }",
            json!({"id": profile}),
        )
        .await;
    assert_eq!(r["data"]["candidateProfile"]["associatedPositionProfile"]["seekApplicationQuestionnaire"], Value::Null);
}

#[tokio::test]
async fn the_documented_submission_query_returns_every_shape_and_exact_scores() {
    // Arrange
    let app = TestApp::spawn().await;
    let (hirer, _, token) = exporter(&app).await;
    let position = position_with(&app, &hirer, full_questionnaire()).await;
    let text = "  I like driving.\nAnd people.\n  ";

    // Act: preferred single choice (1); Monday (preferred) + Sunday (not) of {Monday, Tuesday} (0.5).
    let first = apply_with(&app, &position, "a@example.com", responses(&position, text, 0, &[0, 2])).await;
    // Not-preferred single choice (0); both preferred days (1).
    let second = apply_with(&app, &position, "b@example.com", responses(&position, "x", 1, &[1, 0])).await;
    // An application to the same ad without responses.
    let silent = apply_with(&app, &position, "c@example.com", Value::Null).await;

    // Assert
    let s = submission(&app, &token, &first).await;
    assert_eq!(s["questionnaire"]["id"]["value"], position["questionnaire"]["id"]);
    assert_eq!(s["score"], 0.75, "mean of 1 and 0.5 (free text unscored)");
    let r = s["responses"].as_array().unwrap();
    assert_eq!(r.len(), 4, "one response per component, in questionnaire order");
    let codes: Vec<&str> = r.iter().map(|x| x["componentTypeCode"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["PrivacyConsent", "Question", "Question", "Question"]);
    for (n, x) in r.iter().enumerate() {
        assert_eq!(x["component"]["id"]["value"], component(&position, n).as_str());
        assert_eq!(x["component"]["componentTypeCode"], codes[n]);
    }
    assert_eq!(r[0]["consentGivenIndicator"], true);
    assert_eq!(r[0]["component"]["value"], "consent-1");
    assert_eq!(r[0]["component"]["privacyPolicyUrl"]["url"], "https://acme.example/privacy");
    assert_eq!(r[0]["component"]["descriptionHtml"], "Do you agree to the privacy policy?");

    assert_eq!(r[1]["score"], Value::Null);
    assert_eq!(r[1]["component"]["responseTypeCode"], "FreeText");
    assert_eq!(r[1]["component"]["sourceCode"], "Custom");
    assert_eq!(r[1]["component"]["responseChoice"], Value::Null);
    assert_eq!(r[1]["answers"], json!([{"answer": text, "choice": null}]), "free text kept exactly");

    assert_eq!(r[2]["score"], 1.0);
    assert_eq!(r[2]["component"]["questionHtml"], "Do you hold a driver's licence?");
    assert_eq!(r[2]["component"]["responseChoice"].as_array().unwrap().len(), 2);
    assert_eq!(
        r[2]["answers"],
        json!([{"answer": "Yes", "choice": {"id": {"value": choice(&position, 2, 0)}, "text": "Yes", "value": "y", "preferredIndicator": true}}])
    );

    assert_eq!(r[3]["score"], 0.5, "one of two preferred days; a non-preferred day changes nothing");
    let answers: Vec<&str> =
        r[3]["answers"].as_array().unwrap().iter().map(|a| a["answer"].as_str().unwrap()).collect();
    assert_eq!(answers, vec!["Monday", "Sunday"]);
    assert_eq!(r[3]["answers"][1]["choice"]["preferredIndicator"], false);
    assert_eq!(r[3]["answers"][1]["choice"]["value"], "sun");

    let s2 = submission(&app, &token, &second).await;
    let scores: Vec<&Value> = s2["responses"].as_array().unwrap().iter().map(|x| &x["score"]).collect();
    assert_eq!(scores[1..], [&Value::Null, &json!(0.0), &json!(1.0)]);
    assert_eq!(s2["score"], 0.5);

    assert_eq!(submission(&app, &token, &silent).await, Value::Null, "no responses, no submission");

    // selectedIndicator: true exactly for the chosen choices, within each submission.
    let sel = app.graphql(Some(&token), SELECTED_QUERY, json!({"id": first})).await;
    assert!(sel.get("errors").is_none(), "{sel}");
    let sub = &sel["data"]["candidateProfile"]["seekQuestionnaireSubmission"];
    let flags = |v: &Value| -> Vec<bool> {
        v.as_array().unwrap().iter().map(|c| c["selectedIndicator"].as_bool().unwrap()).collect()
    };
    assert_eq!(flags(&sub["questionnaire"]["components"][2]["responseChoice"]), vec![true, false]);
    assert_eq!(flags(&sub["questionnaire"]["components"][3]["responseChoice"]), vec![true, false, true]);
    assert_eq!(flags(&sub["responses"][3]["component"]["responseChoice"]), vec![true, false, true]);
    assert_eq!(sub["responses"][2]["component"]["applicationLibraryQuestion"], Value::Null);
    assert_eq!(sub["responses"][2]["answers"][0]["choice"]["selectedIndicator"], true);
    let sel2 = app.graphql(Some(&token), SELECTED_QUERY, json!({"id": second})).await;
    let sub2 = &sel2["data"]["candidateProfile"]["seekQuestionnaireSubmission"];
    assert_eq!(flags(&sub2["questionnaire"]["components"][2]["responseChoice"]), vec![false, true]);
    assert_eq!(flags(&sub2["questionnaire"]["components"][3]["responseChoice"]), vec![true, true, false]);
}

#[tokio::test]
async fn a_submission_with_only_free_text_has_a_null_score() {
    let app = TestApp::spawn().await;
    let (hirer, _, token) = exporter(&app).await;
    let position = position_with(
        &app,
        &hirer,
        json!({"components": [
            {"componentTypeCode": "Question", "questionHtml": "Tell us about yourself", "responseTypeCode": "FreeText"},
            {"componentTypeCode": "PrivacyConsent", "privacyPolicyUrl": "http://acme.example/p"}
        ]}),
    )
    .await;
    let profile = apply_with(
        &app,
        &position,
        "free@example.com",
        json!([{"componentId": component(&position, 1), "consentGivenIndicator": false},
               {"componentId": component(&position, 0), "answers": [{"answer": "line 1\r\n\n  line 3 "}]}]),
    )
    .await;
    let s = submission(&app, &token, &profile).await;
    assert_eq!(s["score"], Value::Null);
    assert_eq!(s["responses"][0]["score"], Value::Null);
    assert_eq!(s["responses"][0]["answers"][0]["answer"], "line 1\r\n\n  line 3 ");
    assert_eq!(s["responses"][1]["consentGivenIndicator"], false);
    assert_eq!(s["responses"][1]["component"]["descriptionHtml"], Value::Null);
}

#[tokio::test]
async fn every_response_that_does_not_fit_the_questionnaire_is_named_and_nothing_is_stored() {
    // Arrange
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let position = position_with(&app, &hirer, full_questionnaire()).await;
    let plain = app.create_position(&hirer, "Plain").await;
    let valid = responses(&position, "ok", 0, &[0]);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut r = valid.clone();
        f(&mut r);
        r
    };
    let unknown_component = "seekAnzPublicTest:applicationQuestionnaireComponent:seek:nope";
    let unknown_choice = "seekAnzPublicTest:applicationQuestionChoice:seek:nope";
    let single_choice = choice(&position, 2, 0);
    let multi_choice = choice(&position, 3, 0);
    let cases: Vec<(&str, Value, Vec<&str>, Option<String>)> = vec![
        (
            "unknown component",
            with(&|r| r[0]["componentId"] = json!(unknown_component)),
            vec!["/questionnaireResponses", "/questionnaireResponses/0/componentId"],
            Some(component(&position, 0)),
        ),
        (
            "unknown choice",
            with(&|r| r[2]["answers"][0]["choiceId"] = json!(unknown_choice)),
            vec!["/questionnaireResponses/2/answers/0/choiceId"],
            None,
        ),
        (
            "a choice of another question",
            with(&|r| r[2]["answers"][0]["choiceId"] = json!(multi_choice)),
            vec!["/questionnaireResponses/2/answers/0/choiceId"],
            None,
        ),
        (
            "a choice for free text",
            with(&|r| r[1]["answers"] = json!([{"choiceId": single_choice}])),
            vec!["/questionnaireResponses/1/answers/0/choiceId"],
            None,
        ),
        (
            "free text for a select",
            with(&|r| r[2]["answers"] = json!([{"answer": "Yes"}])),
            vec!["/questionnaireResponses/2/answers/0/answer"],
            None,
        ),
        (
            "two answers to a single select",
            with(&|r| r[2]["answers"] = json!([{"choiceId": single_choice}, {"choiceId": choice(&position, 2, 1)}])),
            vec!["/questionnaireResponses/2/answers/1"],
            None,
        ),
        (
            "a duplicate choice in a multi select",
            with(&|r| r[3]["answers"] = json!([{"choiceId": multi_choice}, {"choiceId": multi_choice}])),
            vec!["/questionnaireResponses/3/answers/1/choiceId"],
            None,
        ),
        (
            "a duplicate component",
            with(&|r| {
                r.as_array_mut()
                    .unwrap()
                    .push(json!({"componentId": component(&position, 0), "consentGivenIndicator": false}))
            }),
            vec!["/questionnaireResponses/4/componentId"],
            None,
        ),
        (
            "a missing component",
            with(&|r| {
                r.as_array_mut().unwrap().remove(1);
            }),
            vec!["/questionnaireResponses"],
            Some(component(&position, 1)),
        ),
        (
            "an empty answer list",
            with(&|r| r[3]["answers"] = json!([])),
            vec!["/questionnaireResponses/3/answers"],
            None,
        ),
        (
            "a consent without consentGivenIndicator",
            with(&|r| r[0] = json!({"componentId": component(&position, 0)})),
            vec!["/questionnaireResponses/0/consentGivenIndicator"],
            None,
        ),
        ("no responses at all", json!([]), vec!["/questionnaireResponses"], Some(component(&position, 3))),
        (
            "a blank free-text answer",
            with(&|r| r[1]["answers"] = json!([{"answer": " \n "}])),
            vec!["/questionnaireResponses/1/answers/0/answer"],
            None,
        ),
    ];

    for (label, responses, expected, named) in cases {
        // Act
        let mut body = minimal_application(position["id"].as_str().unwrap(), "x@example.com");
        body["questionnaireResponses"] = responses;
        let (status, body) = app.ingest(body).await;

        // Assert
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body}");
        assert_eq!(body["code"], "BAD_USER_INPUT", "{label}: {body}");
        let mut pointers: Vec<String> = body["invalidFields"].as_object().unwrap().keys().cloned().collect();
        pointers.sort();
        assert_eq!(pointers, expected, "{label}: {body}");
        if let Some(id) = named {
            let message = body["invalidFields"]["/questionnaireResponses"].as_str().unwrap();
            assert!(message.contains(&id), "{label}: the missing component is named: {message}");
        }
    }

    // Responses to a job ad without a questionnaire.
    let mut body = minimal_application(&plain, "x@example.com");
    body["questionnaireResponses"] = valid.clone();
    let (status, body) = app.ingest(body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["invalidFields"].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["/questionnaireResponses"]);

    assert_eq!(app.count_rows("profiles").await, 0, "a profile was stored");
    assert_eq!(app.count_rows("candidates").await, 0, "a candidate was stored");
    assert_eq!(app.count_rows("questionnaire_submissions").await, 0, "responses were stored");

    // The same responses, valid, are accepted.
    apply_with(&app, &position, "ok@example.com", valid).await;
    assert_eq!(app.count_rows("questionnaire_submissions").await, 1);
}

#[tokio::test]
async fn an_invalid_questionnaire_names_each_field_and_stores_no_position() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let long = "x".repeat(1001);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"components": []}), vec!["/questionnaire/components"]),
        (json!({}), vec!["/questionnaire/components"]),
        (
            json!({"components": [
                {"componentTypeCode": "Survey"},
                {"componentTypeCode": "PrivacyConsent", "privacyPolicyUrl": "javascript:alert(1)"},
                {"componentTypeCode": "Question", "questionHtml": long, "responseTypeCode": "FreeText"},
                {"componentTypeCode": "Question", "questionHtml": "Pick", "responseTypeCode": "SingleSelect",
                 "responseChoice": [{"text": "Only", "preferredIndicator": true}]},
                {"componentTypeCode": "Question", "questionHtml": "Say", "responseTypeCode": "FreeText",
                 "responseChoice": [{"text": "A", "preferredIndicator": true}, {"text": "B", "preferredIndicator": false}]},
                {"componentTypeCode": "Question", "questionHtml": "Pick", "responseTypeCode": "MultiSelect"},
                {"componentTypeCode": "Question", "responseTypeCode": "Essay"}
            ]}),
            vec![
                "/questionnaire/components/0/componentTypeCode",
                "/questionnaire/components/1/privacyPolicyUrl",
                "/questionnaire/components/2/questionHtml",
                "/questionnaire/components/3/responseChoice",
                "/questionnaire/components/4/responseChoice",
                "/questionnaire/components/5/responseChoice",
                "/questionnaire/components/6/questionHtml",
                "/questionnaire/components/6/responseTypeCode",
            ],
        ),
    ];
    for (questionnaire, expected) in cases {
        let body = json!({"hirerId": hirer, "positionTitle": "Driver", "questionnaire": questionnaire});
        let (status, body) = app.operator(Method::POST, "/positions", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let mut pointers: Vec<String> = body["invalidFields"].as_object().unwrap().keys().cloned().collect();
        pointers.sort();
        assert_eq!(pointers, expected, "{body}");
    }
    assert_eq!(app.count_rows("positions").await, 0);
}

#[tokio::test]
async fn questionnaires_and_submissions_are_authorised_like_their_hirer() {
    // Arrange
    let app = TestApp::spawn().await;
    let (hirer, _, token) = exporter(&app).await;
    let position = position_with(&app, &hirer, full_questionnaire()).await;
    let profile = apply_with(&app, &position, "a@example.com", responses(&position, "t", 0, &[0])).await;
    let stranger = app.create_partner("Other ATS").await;
    let stranger_token = app.token(&stranger).await;
    let questionnaire_id = position["questionnaire"]["id"].clone();

    // A partner without a relationship.
    let r = app.graphql(Some(&stranger_token), QUESTIONNAIRE_QUERY, json!({"id": questionnaire_id})).await;
    assert_eq!(error_codes(&r), vec!["FORBIDDEN"], "{r}");
    assert_eq!(r["data"]["applicationQuestionnaire"], Value::Null);
    let r = app.graphql(Some(&stranger_token), &submission_query(), json!({"id": profile})).await;
    assert_eq!(error_codes(&r), vec!["FORBIDDEN"], "{r}");
    assert_eq!(r["data"]["candidateProfile"], Value::Null);

    // No token at all.
    let r = app.graphql(None, QUESTIONNAIRE_QUERY, json!({"id": questionnaire_id})).await;
    assert_eq!(error_codes(&r), vec!["UNAUTHENTICATED"], "{r}");

    // Malformed and unknown ids.
    let r = app.graphql(Some(&token), QUESTIONNAIRE_QUERY, json!({"id": "not-an-id"})).await;
    assert_eq!(error_codes(&r), vec!["BAD_USER_INPUT"], "{r}");
    let r = app.graphql(Some(&token), QUESTIONNAIRE_QUERY, json!({"id": position["id"]})).await;
    assert_eq!(error_codes(&r), vec!["BAD_USER_INPUT"], "a position id is not a questionnaire id: {r}");
    let unknown = "seekAnzPublicTest:applicationQuestionnaire:seek:doesNotExist";
    let r = app.graphql(Some(&token), QUESTIONNAIRE_QUERY, json!({"id": unknown})).await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["applicationQuestionnaire"], Value::Null);

    // The related partner reads both.
    let r = app.graphql(Some(&token), QUESTIONNAIRE_QUERY, json!({"id": questionnaire_id})).await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["applicationQuestionnaire"]["id"]["value"], questionnaire_id);

    // JobPosting alone is enough for the questionnaire, not for the profile.
    let poster = app.create_partner("Poster").await;
    app.relate(&poster, &hirer, &["JobPosting"]).await;
    let poster_token = app.token(&poster).await;
    let r = app.graphql(Some(&poster_token), QUESTIONNAIRE_QUERY, json!({"id": questionnaire_id})).await;
    assert!(r.get("errors").is_none(), "{r}");
    let r = app.graphql(Some(&poster_token), &submission_query(), json!({"id": profile})).await;
    assert_eq!(error_codes(&r), vec!["FORBIDDEN"], "{r}");
}
