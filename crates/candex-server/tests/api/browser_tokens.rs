//! Browser tokens: issued at `/auth/token` for one hirer the partner is related to, with known
//! scopes; accepted by `self`, `hiringOrganization(s)` and `positionProfile` for that hirer
//! only, and refused by partner-only operations.

use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp, TestPartner};

async fn browser_token(app: &TestApp, partner_token: &str, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/auth/token", app.base))
        .bearer_auth(partner_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

struct World {
    app: TestApp,
    partner: TestPartner,
    partner_token: String,
    acme: String,
    globex: String,
    acme_position: String,
    globex_position: String,
    acme_profile: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let acme = app.create_hirer("Acme").await;
    let globex = app.create_hirer("Globex").await;
    app.relate(&partner, &acme, &["ApplicationExport", "JobPosting"]).await;
    app.relate(&partner, &globex, &["ApplicationExport"]).await;
    let acme_position = app.create_position(&acme, "Barista").await;
    let globex_position = app.create_position(&globex, "Nurse").await;
    let (acme_profile, _) = app.apply(&acme_position, "a@example.com").await;
    let partner_token = app.token(&partner).await;
    World { app, partner, partner_token, acme, globex, acme_position, globex_position, acme_profile }
}

const ALL_SCOPES: &str = "query:organizations query:position-profiles download:candidate-profile-attachments";

#[tokio::test]
async fn a_partner_gets_a_browser_token_for_a_related_hirer_only() {
    let w = world().await;
    let (status, body) = browser_token(
        &w.app,
        &w.partner_token,
        json!({"hirerId": format!("  {}  ", w.acme), "scope": ALL_SCOPES, "userId": "317665"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["token_type"], "Bearer");

    let unrelated = w.app.create_hirer("Initech").await;
    let (status, body) =
        browser_token(&w.app, &w.partner_token, json!({"hirerId": unrelated, "scope": ALL_SCOPES, "userId": "1"}))
            .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")), "{body}");

    let (status, body) = browser_token(
        &w.app,
        &w.partner_token,
        json!({"hirerId": w.acme, "scope": "query:candidate-profiles", "userId": "1"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["invalidFields"]["/scope"].as_str().unwrap().contains("query:candidate-profiles"));

    let (status, body) = browser_token(&w.app, &w.partner_token, json!({"hirerId": "nope", "scope": ALL_SCOPES})).await;
    assert_eq!(status, 422);
    assert!(body["invalidFields"]["/hirerId"].is_string() && body["invalidFields"]["/userId"].is_string(), "{body}");

    let res = w
        .app
        .client
        .post(format!("{}/auth/token", w.app.base))
        .json(&json!({"hirerId": w.acme, "scope": ALL_SCOPES, "userId": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no partner token");
}

#[tokio::test]
async fn a_browser_token_cannot_issue_tokens() {
    let w = world().await;
    let (_, body) =
        browser_token(&w.app, &w.partner_token, json!({"hirerId": w.acme, "scope": ALL_SCOPES, "userId": "u"})).await;
    let browser = body["access_token"].as_str().unwrap().to_owned();
    let (status, _) =
        browser_token(&w.app, &browser, json!({"hirerId": w.acme, "scope": ALL_SCOPES, "userId": "u"})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn browser_tokens_are_refused_by_partner_only_operations() {
    let w = world().await;
    let (_, body) =
        browser_token(&w.app, &w.partner_token, json!({"hirerId": w.acme, "scope": ALL_SCOPES, "userId": "u"})).await;
    let browser = body["access_token"].as_str().unwrap();
    let r = w
        .app
        .graphql(
            Some(browser),
            "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }",
            json!({"id": w.acme_profile}),
        )
        .await;
    assert_eq!(r["data"]["candidateProfile"], Value::Null);
    assert_eq!(error_codes(&r), vec!["FORBIDDEN"]);
    let r = w
        .app
        .graphql(
            Some(browser),
            "query ($id: String!) { positionProfile(id: $id) { positionOpening { statusCode } } }",
            json!({"id": w.acme_position}),
        )
        .await;
    assert_eq!(error_codes(&r), vec!["FORBIDDEN"], "browser tokens do not reach position openings: {r}");
    // The partner token still reads everything.
    let r = w
        .app
        .graphql(
            Some(&w.partner_token),
            "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }",
            json!({"id": w.acme_profile}),
        )
        .await;
    assert_eq!(r["data"]["candidateProfile"]["profileId"]["value"], json!(w.acme_profile));
}

#[tokio::test]
async fn browser_tokens_read_organizations_and_job_ads_of_their_hirer_only() {
    let w = world().await;
    let (_, body) =
        browser_token(&w.app, &w.partner_token, json!({"hirerId": w.acme, "scope": ALL_SCOPES, "userId": "u"})).await;
    let browser = body["access_token"].as_str().unwrap();

    let me = w.app.graphql(Some(browser), "{ self { hirer { id { value } name } partner { name } } }", json!({})).await;
    assert_eq!(
        me["data"]["self"],
        json!({"hirer": {"id": {"value": w.acme}, "name": "Acme"}, "partner": {"name": "ATS"}})
    );

    let org = "query ($id: String!) { hiringOrganization(id: $id) { name } }";
    assert_eq!(
        w.app.graphql(Some(browser), org, json!({"id": w.acme})).await["data"]["hiringOrganization"]["name"],
        "Acme"
    );
    let other = w.app.graphql(Some(browser), org, json!({"id": w.globex})).await;
    assert_eq!(
        other["data"]["hiringOrganization"],
        Value::Null,
        "the partner is related to Globex, but the token is bound to Acme"
    );
    assert_eq!(error_codes(&other), vec!["FORBIDDEN"]);

    let list = w
        .app
        .graphql(
            Some(browser),
            r#"{ hiringOrganizations(schemeId: "seekAnzPublicTest") { edges { node { name } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(list["data"]["hiringOrganizations"]["edges"], json!([{"node": {"name": "Acme"}}]));

    let pp = "query ($id: String!) { positionProfile(id: $id) { positionTitle } }";
    assert_eq!(
        w.app.graphql(Some(browser), pp, json!({"id": w.acme_position})).await["data"]["positionProfile"]
            ["positionTitle"],
        "Barista"
    );
    let foreign = w.app.graphql(Some(browser), pp, json!({"id": w.globex_position})).await;
    assert_eq!(error_codes(&foreign), vec!["FORBIDDEN"]);
    let _ = &w.partner;
}

#[tokio::test]
async fn a_browser_token_without_the_scope_is_forbidden() {
    let w = world().await;
    let (_, body) = browser_token(
        &w.app,
        &w.partner_token,
        json!({"hirerId": w.acme, "scope": "query:organizations", "userId": "u"}),
    )
    .await;
    let browser = body["access_token"].as_str().unwrap();
    let r = w
        .app
        .graphql(
            Some(browser),
            "query ($id: String!) { positionProfile(id: $id) { positionTitle } }",
            json!({"id": w.acme_position}),
        )
        .await;
    assert_eq!(error_codes(&r), vec!["FORBIDDEN"]);
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("query:position-profiles"));
}

#[tokio::test]
async fn a_browser_token_stops_working_when_the_relationship_is_revoked() {
    let w = world().await;
    let (_, body) =
        browser_token(&w.app, &w.partner_token, json!({"hirerId": w.acme, "scope": ALL_SCOPES, "userId": "u"})).await;
    let browser = body["access_token"].as_str().unwrap().to_owned();
    w.app.relate(&w.partner, &w.acme, &[]).await;
    let r = w
        .app
        .graphql(Some(&browser), "query ($id: String!) { hiringOrganization(id: $id) { name } }", json!({"id": w.acme}))
        .await;
    assert_eq!(error_codes(&r), vec!["FORBIDDEN"]);
}

#[tokio::test]
async fn a_browser_token_for_one_hirer_cannot_download_another_hirers_attachment() {
    let w = world().await;
    let mut body = crate::helpers::minimal_application(&w.globex_position, "g@example.com");
    body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let (status, created) =
        w.app.ingest_multipart(body, vec![("cv", "globex cv.pdf", "application/pdf", b"%PDF globex".to_vec())]).await;
    assert_eq!(status, 201, "{created}");
    let r = w
        .app
        .graphql(
            Some(&w.partner_token),
            "query ($id: String!) { candidateProfile(id: $id) { attachments { url } } }",
            json!({"id": created["candidateProfileId"]}),
        )
        .await;
    let url = r["data"]["candidateProfile"]["attachments"][0]["url"].as_str().unwrap().to_owned();
    let scope = "download:candidate-profile-attachments";
    let (_, acme) =
        browser_token(&w.app, &w.partner_token, json!({"hirerId": w.acme, "scope": scope, "userId": "u"})).await;
    let (_, globex) =
        browser_token(&w.app, &w.partner_token, json!({"hirerId": w.globex, "scope": scope, "userId": "u"})).await;
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let res = w
            .app
            .client
            .request(method.clone(), &url)
            .bearer_auth(acme["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method}: Acme's browser token must not reach Globex's file");
        let res = w
            .app
            .client
            .request(method.clone(), &url)
            .bearer_auth(globex["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{method}: Globex's browser token reaches it");
    }
}
