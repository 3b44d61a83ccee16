//! The operator API: every route's success shape, every invalid input named by JSON pointer
//! with nothing stored, the OpenAPI document, health, the explorer, and GraphQL query limits.

use candex_domain::{IdKind, ObjectId};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{minimal_application, TestApp, OPERATOR_KEY, SEED_QUERY};

const UNKNOWN_POSITION: &str = "seekAnzPublicTest:positionProfile:jobAd:doesNotExist";
const UNKNOWN_HIRER: &str = "seekAnzPublicTest:organization:seek:doesNotExist";
const UNKNOWN_PARTNER: &str = "seekAnzPublicTest:partner:candex:doesNotExist";
const UNKNOWN_CANDIDATE: &str = "seekAnzPublicTest:candidate:feed:doesNotExist";

/// Asserts that no candidate and no profile exist, and the position lists no application.
async fn assert_nothing_stored(app: &TestApp, position: &str) {
    let id = candex_domain::PositionProfileId::parse(position).unwrap();
    let listed = app.store.page_position_applications(&id, None, 100).await.unwrap();
    assert!(listed.is_empty(), "applications were stored: {listed:?}");
    assert_eq!(app.count_rows("profiles").await, 0, "a profile was stored");
    assert_eq!(app.count_rows("candidates").await, 0, "a candidate was stored");
}

/// The pointers of a 422 body, sorted.
fn pointers(body: &Value) -> Vec<String> {
    let mut out: Vec<String> =
        body["invalidFields"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    out.sort();
    out
}

/// Asserts a 422 `BAD_USER_INPUT` response naming exactly `expected`.
fn assert_invalid(status: StatusCode, body: &Value, expected: &[&str]) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "BAD_USER_INPUT", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(pointers(body), expected, "{body}");
    for (pointer, message) in body["invalidFields"].as_object().unwrap() {
        assert!(message.as_str().is_some_and(|m| !m.is_empty()), "{pointer} has no message: {body}");
    }
}

/// A hirer with one open position: `(hirer id, position id)`.
async fn hirer_with_position(app: &TestApp) -> (String, String) {
    let hirer = app.create_hirer("Acme").await;
    let position = app.create_position(&hirer, "Barista").await;
    (hirer, position)
}

/// Sends a raw body to the operator API with the operator key.
async fn send_raw(app: &TestApp, path: &str, content_type: Option<&str>, body: Vec<u8>) -> (StatusCode, Value) {
    let mut req = app.client.post(format!("{}/operator/v1{path}", app.base)).bearer_auth(OPERATOR_KEY).body(body);
    if let Some(ct) = content_type {
        req = req.header(reqwest::header::CONTENT_TYPE, ct);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

// --- applications: validation ---------------------------------------------------------------

#[tokio::test]
async fn an_invalid_application_names_every_invalid_field_and_stores_nothing() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let body = json!({
        "positionProfileId": position,
        "candidate": {"person": {"name": {"given": "Sam"}, "communication": {"phone": [{"formattedNumber": "0400 000 000"}]}}},
        "employment": [{"organization": {"name": "Swift Inc"}, "positionHistories": [{"title": "Barista", "start": "2020-13"}]}],
        "education": [{"institution": {"name": "  "}}],
        "createDateTime": "yesterday"
    });

    // Act
    let (status, response) = app.ingest(body).await;

    // Assert
    assert_invalid(
        status,
        &response,
        &[
            "/candidate/person/communication/email",
            "/createDateTime",
            "/education/0/institution/name",
            "/employment/0/positionHistories/0/start",
        ],
    );
    assert_nothing_stored(&app, &position).await;
}

#[tokio::test]
async fn an_application_without_a_person_or_position_names_both() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;

    let (status, response) = app.ingest(json!({})).await;

    assert_invalid(status, &response, &["/candidate/person", "/positionProfileId"]);
    assert_nothing_stored(&app, &position).await;
}

#[tokio::test]
async fn an_unknown_field_is_named_by_its_own_pointer_with_the_field_in_the_message() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let mut body = minimal_application(&position, "sam@example.com");
    body["candidate"]["person"]["nickname"] = json!("Sammy");

    let (status, response) = app.ingest(body).await;

    assert_invalid(status, &response, &["/candidate/person/nickname"]);
    let message = response["invalidFields"]["/candidate/person/nickname"].as_str().unwrap();
    assert!(message.contains("nickname"), "{message}");
    assert_nothing_stored(&app, &position).await;
}

#[tokio::test]
async fn an_unknown_top_level_field_is_named_at_the_top_level() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let mut body = minimal_application(&position, "sam@example.com");
    body["educaton"] = json!([]);

    let (status, response) = app.ingest(body).await;

    assert_invalid(status, &response, &["/educaton"]);
    assert!(response["invalidFields"]["/educaton"].as_str().unwrap().contains("unknown field"), "{response}");
    assert_nothing_stored(&app, &position).await;
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_named_by_its_pointer() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let cases = [
        ("/employment/0/organization/name", json!({"employment": [{"organization": {"name": 5}}]})),
        (
            "/candidate/person/communication/email",
            json!({"candidate": {"person": {"communication": {"email": "a@b.io"}}}}),
        ),
        (
            "/employment/0/positionHistories/0/current",
            json!({"employment": [{"positionHistories": [{"current": "yes"}]}]}),
        ),
        ("/positionProfileId", json!({"positionProfileId": 42})),
    ];
    for (pointer, mut body) in cases {
        if body.get("positionProfileId").is_none() {
            body["positionProfileId"] = json!(position);
        }

        let (status, response) = app.ingest(body).await;

        assert_invalid(status, &response, &[pointer]);
    }
    assert_nothing_stored(&app, &position).await;
}

#[tokio::test]
async fn malformed_json_is_a_bad_request_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let valid = minimal_application(&position, "sam@example.com").to_string();
    let bodies = [
        valid[..valid.len() - 1].to_owned(),
        format!("{valid} trailing"),
        String::new(),
        "{'a': 1}".to_owned(),
        // Truncated after an unknown field or a wrong type: still a syntax error, not a 422.
        r#"{"educaton": ["#.to_owned(),
        r#"{"positionProfileId": 5, "candidate""#.to_owned(),
    ];
    for body in bodies {
        let (status, response) =
            send_raw(&app, "/applications", Some("application/json"), body.clone().into_bytes()).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {response}");
        assert_eq!(response["code"], "BAD_REQUEST", "{response}");
        assert!(response.get("invalidFields").is_none(), "{response}");
    }
    assert_nothing_stored(&app, &position).await;
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let valid = minimal_application(&position, "sam@example.com").to_string().into_bytes();
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let (status, response) = send_raw(&app, "/applications", content_type, valid.clone()).await;

        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}: {response}");
        assert_eq!(response["code"], "UNSUPPORTED_MEDIA_TYPE", "{response}");
    }
    // A JSON content type with parameters is still JSON.
    let (status, response) = send_raw(&app, "/applications", Some("application/json; charset=utf-8"), valid).await;
    assert_eq!(status, StatusCode::CREATED, "{response}");
}

#[tokio::test]
async fn an_oversized_body_is_refused_and_stores_nothing() {
    let app = TestApp::spawn_with(|mut s| {
        s.max_body_bytes = 64 * 1024;
        s
    })
    .await;
    let (_, position) = hirer_with_position(&app).await;
    let mut body = minimal_application(&position, "sam@example.com");
    body["employment"] = json!([{
        "organization": {"name": "Swift Inc"},
        "positionHistories": [{"title": "Barista", "start": "2020-01", "descriptions": ["x".repeat(100 * 1024)]}]
    }]);

    let (status, response) =
        send_raw(&app, "/applications", Some("application/json"), body.to_string().into_bytes()).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{response}");
    assert_eq!(response["code"], "PAYLOAD_TOO_LARGE");
    assert!(response.get("invalidFields").is_none(), "the body should not have been parsed: {response}");
    assert_nothing_stored(&app, &position).await;
}

// --- applications: positions ----------------------------------------------------------------

#[tokio::test]
async fn an_application_to_an_unknown_position_is_refused_at_position_profile_id() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    for id in [UNKNOWN_POSITION, "seekAnzPublicTest:organization:seek:notAPosition", "garbage"] {
        let (status, response) = app.ingest(minimal_application(id, "sam@example.com")).await;

        assert_invalid(status, &response, &["/positionProfileId"]);
    }
    assert_nothing_stored(&app, &position).await;
}

#[tokio::test]
async fn closing_a_position_is_idempotent_and_a_closed_position_takes_no_applications() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let close = format!("/positions/{position}/close");

    // Act
    let (first_status, first) = app.operator(Method::POST, &close, None).await;
    let (second_status, second) = app.operator(Method::POST, &close, None).await;
    let (ingest_status, ingest) = app.ingest(minimal_application(&position, "sam@example.com")).await;

    // Assert
    assert_eq!(first_status, StatusCode::OK, "{first}");
    assert_eq!(first["statusCode"], "Closed", "{first}");
    assert!(first["closeDateTime"].is_string(), "{first}");
    assert_eq!(second_status, StatusCode::OK, "{second}");
    assert_eq!(second["statusCode"], "Closed", "{second}");
    assert_eq!(second["id"], position);
    assert_invalid(ingest_status, &ingest, &["/positionProfileId"]);
    assert!(ingest["invalidFields"]["/positionProfileId"].as_str().unwrap().contains("closed"), "{ingest}");
    assert_nothing_stored(&app, &position).await;
    let (status, read) = app.operator(Method::GET, &format!("/positions/{position}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["statusCode"], "Closed");
}

#[tokio::test]
async fn closing_an_unknown_position_is_not_found() {
    let app = TestApp::spawn().await;
    for id in [UNKNOWN_POSITION, "garbage"] {
        let (status, response) = app.operator(Method::POST, &format!("/positions/{id}/close"), None).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {response}");
        assert_eq!(response["code"], "NOT_FOUND");
    }
}

#[tokio::test]
async fn a_valid_application_is_created_with_its_ids() {
    let app = TestApp::spawn().await;
    let (hirer, position) = hirer_with_position(&app).await;

    let (status, response) = app.ingest(minimal_application(&position, "sam@example.com")).await;

    assert_eq!(status, StatusCode::CREATED, "{response}");
    assert_eq!(response["hirerId"], hirer);
    let profile = response["candidateProfileId"].as_str().unwrap();
    assert!(ObjectId::parse_as(profile, IdKind::CandidateProfile).is_ok(), "{profile}");
    let candidate = response["candidateId"].as_str().unwrap();
    assert!(ObjectId::parse_as(candidate, IdKind::Candidate).is_ok(), "{candidate}");
    assert!(response["createDateTime"].is_string());
    assert_eq!(app.count_rows("profiles").await, 1);
}

// --- hirers and partners --------------------------------------------------------------------

#[tokio::test]
async fn creating_a_hirer_returns_it_and_lists_it() {
    let app = TestApp::spawn().await;

    let (status, created) = app.operator(Method::POST, "/hirers", Some(json!({"name": "Acme Pty Ltd"}))).await;

    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(ObjectId::parse_as(id, IdKind::Organization).is_ok(), "{id}");
    assert_eq!(created["name"], "Acme Pty Ltd");
    assert!(created["createDateTime"].is_string(), "{created}");
    let (status, list) = app.operator(Method::GET, "/hirers", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([created]));
}

#[tokio::test]
async fn a_blank_or_missing_name_is_refused_at_name() {
    let app = TestApp::spawn().await;
    for path in ["/hirers", "/partners"] {
        for body in [json!({"name": "   "}), json!({}), json!({"name": ""}), json!({"name": null})] {
            let (status, response) = app.operator(Method::POST, path, Some(body.clone())).await;

            assert_invalid(status, &response, &["/name"]);
        }
        let (status, response) = app.operator(Method::POST, path, Some(json!({"name": 7}))).await;
        assert_invalid(status, &response, &["/name"]);
    }
    assert_eq!(app.operator(Method::GET, "/hirers", None).await.1, json!([]));
    assert_eq!(app.operator(Method::GET, "/partners", None).await.1, json!([]));
}

#[tokio::test]
async fn creating_a_partner_shows_its_secret_once_and_listing_never_does() {
    let app = TestApp::spawn().await;

    let (status, created) = app.operator(Method::POST, "/partners", Some(json!({"name": "Acme ATS"}))).await;

    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(ObjectId::parse_as(id, IdKind::Partner).is_ok(), "{id}");
    assert_eq!(created["name"], "Acme ATS");
    let client_id = created["clientId"].as_str().unwrap();
    let secret = created["clientSecret"].as_str().unwrap();
    assert!(!client_id.is_empty() && secret.len() >= 32, "{created}");
    let (status, list) = app.operator(Method::GET, "/partners", None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = list.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["clientId"], client_id);
    assert!(listed[0].get("clientSecret").is_none(), "{list}");
    assert!(!list.to_string().contains(secret), "the secret leaked: {list}");
}

// --- relationships --------------------------------------------------------------------------

#[tokio::test]
async fn setting_relationships_echoes_the_codes_in_canonical_order_and_an_empty_list_revokes() {
    // Arrange
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    let path = format!("/partners/{}/relationships/{hirer}", partner.id);
    let partner_id = candex_domain::PartnerId::parse(&partner.id).unwrap();
    let hirer_id = candex_domain::HirerId::parse(&hirer).unwrap();

    // Act
    let (status, set) = app
        .operator(
            Method::PUT,
            &path,
            Some(json!({"relationshipTypeCodes": ["ProactiveSourcing", "ApplicationExport", "ProactiveSourcing"]})),
        )
        .await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        set,
        json!({"partnerId": partner.id, "hirerId": hirer, "relationshipTypeCodes": ["ApplicationExport", "ProactiveSourcing"]})
    );
    assert_eq!(
        app.store.relationships(&partner_id, &hirer_id).await.unwrap().codes(),
        ["ApplicationExport", "ProactiveSourcing"]
    );

    let (status, revoked) = app.operator(Method::PUT, &path, Some(json!({"relationshipTypeCodes": []}))).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["relationshipTypeCodes"], json!([]));
    assert!(app.store.relationships(&partner_id, &hirer_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_relationship_code_is_named_by_its_index_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["JobPosting"]).await;
    let path = format!("/partners/{}/relationships/{hirer}", partner.id);

    let (status, response) = app
        .operator(
            Method::PUT,
            &path,
            Some(json!({"relationshipTypeCodes": ["ApplicationExport", "Foo", "applicationexport"]})),
        )
        .await;

    assert_invalid(status, &response, &["/relationshipTypeCodes/1", "/relationshipTypeCodes/2"]);
    let partner_id = candex_domain::PartnerId::parse(&partner.id).unwrap();
    let hirer_id = candex_domain::HirerId::parse(&hirer).unwrap();
    assert_eq!(app.store.relationships(&partner_id, &hirer_id).await.unwrap().codes(), ["JobPosting"]);

    let (status, response) = app.operator(Method::PUT, &path, Some(json!({}))).await;
    assert_invalid(status, &response, &["/relationshipTypeCodes"]);
}

#[tokio::test]
async fn relationships_of_an_unknown_partner_or_hirer_are_not_found() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    let cases = [
        (UNKNOWN_PARTNER.to_owned(), hirer.clone()),
        ("not-a-partner".to_owned(), hirer.clone()),
        (hirer.clone(), hirer.clone()),
        (partner.id.clone(), UNKNOWN_HIRER.to_owned()),
        (partner.id.clone(), "not-a-hirer".to_owned()),
        (partner.id.clone(), partner.id.clone()),
    ];
    for (p, h) in cases {
        let (status, response) = app
            .operator(
                Method::PUT,
                &format!("/partners/{p}/relationships/{h}"),
                Some(json!({"relationshipTypeCodes": ["ApplicationExport"]})),
            )
            .await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{p} / {h}: {response}");
        assert_eq!(response["code"], "NOT_FOUND", "{response}");
    }
    assert_eq!(app.count_rows("relationships").await, 0);
}

// --- positions ------------------------------------------------------------------------------

#[tokio::test]
async fn posting_a_position_returns_its_ids_and_a_default_uri_under_the_base_url() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;

    let (status, created) = app
        .operator(
            Method::POST,
            "/positions",
            Some(json!({
                "hirerId": hirer, "positionTitle": "Barista", "seekHirerJobReference": "REQ-9",
                "workTypeCode": "FullTime", "location": {"name": "Sydney", "countryCode": "AU"}
            })),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(ObjectId::parse_as(id, IdKind::PositionProfile).is_ok(), "{id}");
    let opening = created["positionOpeningId"].as_str().unwrap();
    assert!(ObjectId::parse_as(opening, IdKind::PositionOpening).is_ok(), "{opening}");
    assert_eq!(created["hirerId"], hirer);
    assert_eq!(created["positionTitle"], "Barista");
    assert_eq!(created["seekHirerJobReference"], "REQ-9");
    assert_eq!(created["statusCode"], "Active");
    assert_eq!(created["closeDateTime"], Value::Null);
    let uri = created["positionUri"].as_str().unwrap();
    assert!(uri.starts_with(&format!("{}/", app.base)), "{uri} is not under {}", app.base);

    let (status, read) = app.operator(Method::GET, &format!("/positions/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read, created);
}

#[tokio::test]
async fn an_explicit_position_uri_is_kept() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;

    let (status, created) = app
        .operator(
            Method::POST,
            "/positions",
            Some(json!({"hirerId": hirer, "positionTitle": "Barista", "positionUri": "https://jobs.example.com/1"})),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["positionUri"], "https://jobs.example.com/1");
}

#[tokio::test]
async fn an_invalid_position_names_each_invalid_field() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let cases = [
        (json!({"hirerId": UNKNOWN_HIRER, "positionTitle": "Barista"}), vec!["/hirerId"]),
        (json!({"hirerId": "garbage", "positionTitle": "Barista"}), vec!["/hirerId"]),
        (json!({"hirerId": hirer, "positionTitle": "Barista", "workTypeCode": "Sometimes"}), vec!["/workTypeCode"]),
        (
            json!({"hirerId": hirer, "positionTitle": " ", "positionUri": "ftp://x", "location": {"name": "Syd", "countryCode": "au"}}),
            vec!["/location/countryCode", "/positionTitle", "/positionUri"],
        ),
        (json!({}), vec!["/hirerId", "/positionTitle"]),
        (json!({"hirerId": hirer, "positionTitle": "Barista", "salary": 1}), vec!["/salary"]),
    ];
    for (body, expected) in cases {
        let (status, response) = app.operator(Method::POST, "/positions", Some(body)).await;

        assert_invalid(status, &response, &expected);
    }
    assert_eq!(app.count_rows("positions").await, 0);
}

#[tokio::test]
async fn reading_an_unknown_position_is_not_found() {
    let app = TestApp::spawn().await;
    for id in [UNKNOWN_POSITION, "garbage", UNKNOWN_HIRER] {
        let (status, response) = app.operator(Method::GET, &format!("/positions/{id}"), None).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {response}");
        assert_eq!(response["code"], "NOT_FOUND");
    }
}

// --- listing applications -------------------------------------------------------------------

#[tokio::test]
async fn a_positions_applications_page_in_ingest_order_until_next_cursor_is_absent() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let (_, other) = hirer_with_position(&app).await;
    let mut ingested = Vec::new();
    for i in 0..5 {
        ingested.push(app.apply(&position, &format!("person{i}@example.com")).await.0);
        app.apply(&other, &format!("other{i}@example.com")).await;
    }

    // Act
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(cursor) => format!("?limit=2&after={cursor}"),
            None => "?limit=2".to_owned(),
        };
        let (status, page) =
            app.operator(Method::GET, &format!("/positions/{position}/applications{query}"), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let items = page["applications"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        for item in items {
            assert_eq!(item["formattedName"], "Sam Lee", "{item}");
            assert!(item["candidateId"].is_string() && item["createDateTime"].is_string(), "{item}");
            seen.push(item["candidateProfileId"].as_str().unwrap().to_owned());
        }
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(cursor) => after = Some(cursor.to_owned()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }

    // Assert
    assert_eq!(seen, ingested);
    assert_eq!(pages, 3);
    let (_, all) = app.operator(Method::GET, &format!("/positions/{position}/applications"), None).await;
    let all: Vec<&str> =
        all["applications"].as_array().unwrap().iter().map(|a| a["candidateProfileId"].as_str().unwrap()).collect();
    assert_eq!(all, ingested);
}

#[tokio::test]
async fn a_full_last_page_has_no_next_cursor() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    for i in 0..2 {
        app.apply(&position, &format!("person{i}@example.com")).await;
    }

    let (status, page) = app.operator(Method::GET, &format!("/positions/{position}/applications?limit=2"), None).await;

    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["applications"].as_array().unwrap().len(), 2);
    assert!(page["nextCursor"].is_null(), "{page}");
}

#[tokio::test]
async fn bad_paging_parameters_are_named() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let cases = [
        ("limit=0", vec!["/limit"]),
        ("limit=201", vec!["/limit"]),
        ("limit=x", vec!["/limit"]),
        ("limit=-1", vec!["/limit"]),
        ("after=garbage!", vec!["/after"]),
        ("after=c2VxOng", vec!["/after"]), // "seq:x"
        ("limit=0&after=nope!", vec!["/after", "/limit"]),
    ];
    for (query, expected) in cases {
        let (status, response) =
            app.operator(Method::GET, &format!("/positions/{position}/applications?{query}"), None).await;

        assert_invalid(status, &response, &expected);
    }
    let (status, _) = app.operator(Method::GET, &format!("/positions/{position}/applications?limit=200"), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn listing_the_applications_of_an_unknown_position_is_not_found() {
    let app = TestApp::spawn().await;
    for id in [UNKNOWN_POSITION, "garbage"] {
        let (status, response) = app.operator(Method::GET, &format!("/positions/{id}/applications"), None).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {response}");
        assert_eq!(response["code"], "NOT_FOUND");
    }
}

// --- candidates -----------------------------------------------------------------------------

fn person(given: &str, email: &str) -> Value {
    json!({"name": {"given": given, "family": "Lee"}, "communication": {"email": [{"address": email}], "phone": [{"formattedNumber": "0400 111 222"}]}})
}

#[tokio::test]
async fn updating_a_person_is_visible_at_once() {
    // Arrange
    let app = TestApp::spawn().await;
    let (hirer, position) = hirer_with_position(&app).await;
    let (_, candidate) = app.apply(&position, "sam@example.com").await;

    // Act
    let (status, updated) = app
        .operator(
            Method::PUT,
            &format!("/candidates/{candidate}/person"),
            Some(person("Samantha", "samantha@example.com")),
        )
        .await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["id"], candidate);
    assert_eq!(updated["hirerId"], hirer);
    assert_eq!(updated["person"]["name"]["formattedName"], "Samantha Lee", "{updated}");
    let stored = app
        .store
        .get_candidate(&candex_domain::CandidateId::parse(&candidate).unwrap())
        .await
        .unwrap()
        .expect("candidate");
    assert_eq!(stored.person.name.formatted_name, "Samantha Lee");
    assert_eq!(stored.person.communication.email[0].address, "samantha@example.com");
    let (_, page) = app.operator(Method::GET, &format!("/positions/{position}/applications"), None).await;
    assert_eq!(page["applications"][0]["formattedName"], "Samantha Lee");
}

#[tokio::test]
async fn an_invalid_person_is_named_relative_to_the_person() {
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let (_, candidate) = app.apply(&position, "sam@example.com").await;
    let path = format!("/candidates/{candidate}/person");
    let cases = [
        (json!({"name": {"given": "Sam"}}), vec!["/communication/email"]),
        (
            json!({"name": {}, "communication": {"email": [{"address": "nope"}]}}),
            vec!["/communication/email/0/address", "/name/given"],
        ),
        (json!({"communication": {"email": [{"address": "a@b.io"}]}}), vec!["/name"]),
        (json!({"name": {"given": 5}}), vec!["/name/given"]),
        (json!({"name": {"given": "Sam"}, "age": 3}), vec!["/age"]),
    ];
    for (body, expected) in cases {
        let (status, response) = app.operator(Method::PUT, &path, Some(body)).await;

        assert_invalid(status, &response, &expected);
    }
    let stored = app
        .store
        .get_candidate(&candex_domain::CandidateId::parse(&candidate).unwrap())
        .await
        .unwrap()
        .expect("candidate");
    assert_eq!(stored.person.communication.email[0].address, "sam@example.com");
}

#[tokio::test]
async fn updating_an_unknown_candidate_is_not_found() {
    let app = TestApp::spawn().await;
    for id in [UNKNOWN_CANDIDATE, "garbage", UNKNOWN_HIRER] {
        let (status, response) =
            app.operator(Method::PUT, &format!("/candidates/{id}/person"), Some(person("Sam", "s@example.com"))).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {response}");
        assert_eq!(response["code"], "NOT_FOUND");
    }
}

#[tokio::test]
async fn taking_another_candidates_first_email_at_the_same_hirer_is_a_conflict() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, position) = hirer_with_position(&app).await;
    let (_, sam) = app.apply(&position, "sam@example.com").await;
    let (_, alex) = app.apply(&position, "alex@example.com").await;
    let (_, elsewhere) = hirer_with_position(&app).await;
    let (_, sam_elsewhere) = app.apply(&elsewhere, "sam2@example.com").await;

    // Act
    let (status, response) =
        app.operator(Method::PUT, &format!("/candidates/{alex}/person"), Some(person("Alex", "SAM@example.com"))).await;

    // Assert
    assert_eq!(status, StatusCode::CONFLICT, "{response}");
    assert_eq!(response["code"], "CONFLICT");
    for (id, email) in [(&sam, "sam@example.com"), (&alex, "alex@example.com")] {
        let stored =
            app.store.get_candidate(&candex_domain::CandidateId::parse(id).unwrap()).await.unwrap().expect("candidate");
        assert_eq!(stored.person.communication.email[0].address, email);
        assert_eq!(stored.person.name.formatted_name, "Sam Lee");
    }
    // The same email at another hirer is no conflict.
    let (status, response) = app
        .operator(Method::PUT, &format!("/candidates/{sam_elsewhere}/person"), Some(person("Sam", "sam@example.com")))
        .await;
    assert_eq!(status, StatusCode::OK, "{response}");
}

// --- documents, health and explorer ---------------------------------------------------------

#[tokio::test]
async fn the_openapi_document_lists_every_operator_path_without_a_key() {
    let app = TestApp::spawn().await;

    let res = app.client.get(format!("{}/operator/v1/openapi.json", app.base)).send().await.unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.expect("valid JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/operator/v1/hirers",
        "/operator/v1/partners",
        "/operator/v1/partners/{partner_id}/relationships/{hirer_id}",
        "/operator/v1/positions",
        "/operator/v1/positions/{id}",
        "/operator/v1/positions/{id}/close",
        "/operator/v1/positions/{id}/applications",
        "/operator/v1/applications",
        "/operator/v1/candidates/{candidate_id}/person",
        "/operator/v1/candidate-profiles/{id}/process-history",
    ] {
        assert!(paths.contains_key(path), "{path} missing from {:?}", paths.keys().collect::<Vec<_>>());
    }
    let schemes = doc["components"]["securitySchemes"].as_object().expect("security schemes");
    assert!(
        schemes
            .values()
            .any(|s| s["type"] == "http" && s["scheme"].as_str().is_some_and(|v| v.eq_ignore_ascii_case("bearer"))),
        "{schemes:?}"
    );
    let history = &doc["components"]["schemas"]["ProcessHistoryItemResponse"];
    assert!(history["properties"]["status"].is_object(), "{history}");
    let application = &doc["components"]["schemas"]["ApplicationInput"];
    assert!(application["properties"]["positionProfileId"].is_object(), "{application}");
}

#[tokio::test]
async fn health_reports_the_database() {
    let app = TestApp::spawn().await;

    let res = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": "ok", "database": crate::helpers::backend()}));
}

#[tokio::test]
async fn the_graphql_explorer_is_served_to_browsers() {
    let app = TestApp::spawn().await;

    let res = app.client.get(format!("{}/graphql", app.base)).header("Accept", "text/html").send().await.unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = res.text().await.unwrap();
    assert!(html.to_ascii_lowercase().contains("<html") && html.contains("/graphql"), "{html}");
}

// --- GraphQL limits -------------------------------------------------------------------------

fn full_profile_query() -> String {
    [
        r#"query ($id: String!) {
  candidateProfile(id: $id) {
    profileId { value }
    createDateTime
    candidate { person {
      name { given family }
      communication {
        address { formattedAddress countryCode }
        phone { formattedNumber }
        email { address } } } }
    associatedPositionProfile {
      seekHirerJobReference
      positionOrganizations { id { value } name }
      positionUri }
    employment { organization { name } positionHistories { start end title } }
    education { institution { name } educationDegrees { name degreeGrantedStatus date } descriptions }
    certifications { name issued effectiveTimePeriod { validTo } issuingAuthority { name } descriptions }
    qualifications { competencyName }
    attachments { descriptions seekRoleCode url }
    "#,
        crate::helpers::SUBMISSION_SELECTION,
        "\n  }\n}",
    ]
    .concat()
}

const INTROSPECTION_QUERY: &str =
    "{ __schema { types { name fields { name type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } } } }";

/// candidateProfile → candidate → profiles → candidate → … ten levels down.
fn abusive_query() -> String {
    let mut inner = "profileId { value }".to_owned();
    for level in (0..10).rev() {
        inner = if level % 2 == 0 { format!("candidate {{ {inner} }}") } else { format!("profiles {{ {inner} }}") };
    }
    format!("query ($id: String!) {{ candidateProfile(id: $id) {{ {inner} }} }}")
}

async fn exporting_app() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let (hirer, position) = hirer_with_position(&app).await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let (profile, _) = app.apply(&position, "sam@example.com").await;
    let token = app.token(&partner).await;
    (app, token, profile)
}

#[tokio::test]
async fn the_full_documented_profile_query_succeeds() {
    let (app, token, profile) = exporting_app().await;

    let response = app.graphql(Some(&token), &full_profile_query(), json!({"id": profile})).await;

    assert!(response.get("errors").is_none(), "{response}");
    let cp = &response["data"]["candidateProfile"];
    assert_eq!(cp["profileId"]["value"], profile);
    assert_eq!(cp["candidate"]["person"]["communication"]["email"][0]["address"], "sam@example.com");
    assert_eq!(cp["attachments"], json!([]));
    assert_eq!(cp["seekQuestionnaireSubmission"], Value::Null);
    let seed = app.graphql(Some(&token), SEED_QUERY, json!({"id": profile})).await;
    assert!(seed.get("errors").is_none(), "{seed}");
}

#[tokio::test]
async fn a_standard_introspection_query_succeeds() {
    let (app, token, _) = exporting_app().await;

    let response = app.graphql(Some(&token), INTROSPECTION_QUERY, json!({})).await;

    assert!(response.get("errors").is_none(), "{response}");
    let types = response["data"]["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "CandidateProfile"), "CandidateProfile missing");
}

#[tokio::test]
async fn an_abusively_nested_query_is_rejected_without_data() {
    // Arrange: a candidate with several profiles, so every `profiles` level fans out.
    let (app, token, profile) = exporting_app().await;
    let position = app.create_position(app.store.list_hirers().await.unwrap()[0].id.as_str(), "Second role").await;
    for _ in 0..3 {
        app.apply(&position, "sam@example.com").await;
    }
    let query = abusive_query();

    // Act
    let response = app.graphql_refused(Some(&token), &query, json!({"id": profile})).await;

    // Assert
    assert_eq!(response["errors"][0]["extensions"]["code"], "GRAPHQL_LIMIT_EXCEEDED", "{response}");
    let errors = response["errors"].as_array().unwrap_or_else(|| panic!("expected errors: {response}"));
    assert!(!errors.is_empty(), "{response}");
    let message = errors[0]["message"].as_str().unwrap_or_default().to_ascii_lowercase();
    assert!(message.contains("nested") || message.contains("complex") || message.contains("depth"), "{response}");
    assert!(
        response.get("data").is_none_or(Value::is_null),
        "an abusive query returned data: {}",
        &response.to_string()[..response.to_string().len().min(500)]
    );
}
