//! Partner tokens: the token endpoint's request shapes and errors, and refusal of every kind
//! of bad token with `UNAUTHENTICATED`.

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp, SIGNING_KEY};

const VERSION: &str = "{ version }";

#[tokio::test]
async fn a_partner_gets_a_token_with_seeks_json_body_and_uses_it() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let res = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .json(&json!({"audience": app.base, "client_id": partner.client_id, "client_secret": partner.client_secret, "grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1800);
    let r = app.graphql(body["access_token"].as_str(), VERSION, json!({})).await;
    assert_eq!(r["data"]["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_form_body_and_http_basic_of_rfc_6749_are_accepted() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let form = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &partner.client_id),
            ("client_secret", &partner.client_secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let basic = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .basic_auth(&partner.client_id, Some(&partner.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
}

#[tokio::test]
async fn bad_token_requests_get_rfc_6749_errors() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let post = |body: Value| {
        let client = app.client.clone();
        let url = format!("{}/oauth/token", app.base);
        async move {
            let res = client.post(url).json(&body).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (s, b) = post(
        json!({"grant_type": "client_credentials", "client_id": partner.client_id, "client_secret": "cdxs_wrong"}),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    let (s, b) = post(
        json!({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": partner.client_secret}),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    let (s, b) =
        post(json!({"grant_type": "password", "client_id": partner.client_id, "client_secret": partner.client_secret}))
            .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (s, b) = post(json!({"grant_type": "client_credentials", "client_id": partner.client_id, "client_secret": partner.client_secret, "audience": "https://graphql.example.com"})).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    assert!(b["error_description"].as_str().unwrap().contains("audience"));
    let (s, b) = post(json!({"client_id": partner.client_id})).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
}

fn forge(header: &Header, claims: &Value, key: &[u8]) -> String {
    encode(header, claims, &EncodingKey::from_secret(key)).unwrap()
}

fn claims(app: &TestApp, sub: &str, exp_offset: i64, aud: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": app.base, "sub": sub, "aud": aud, "exp": now + exp_offset, "iat": now - 10, "nbf": now - 10, "jti": "t", "cdx_kind": "partner"})
}

#[tokio::test]
async fn expired_forged_wrong_audience_untyped_and_alg_none_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let mut typed = Header::new(Algorithm::HS256);
    typed.typ = Some("at+jwt".into());
    // A correctly forged token with the server's key is accepted: the harness is right.
    let good = forge(&typed, &claims(&app, &partner.id, 600, &app.base), &SIGNING_KEY);
    assert_eq!(app.graphql(Some(&good), VERSION, json!({})).await["data"]["version"], env!("CARGO_PKG_VERSION"));

    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let cases = [
        ("expired", forge(&typed, &claims(&app, &partner.id, -600, &app.base), &SIGNING_KEY)),
        ("forged signature", forge(&typed, &claims(&app, &partner.id, 600, &app.base), &[7; 32])),
        ("wrong audience", forge(&typed, &claims(&app, &partner.id, 600, "https://graphql.seek.com"), &SIGNING_KEY)),
        ("no typ", forge(&Header::new(Algorithm::HS256), &claims(&app, &partner.id, 600, &app.base), &SIGNING_KEY)),
        ("HS512", {
            let mut h = Header::new(Algorithm::HS512);
            h.typ = Some("at+jwt".into());
            forge(&h, &claims(&app, &partner.id, 600, &app.base), &SIGNING_KEY)
        }),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "at+jwt"})),
                b64(&claims(&app, &partner.id, 600, &app.base))
            ),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in cases {
        let r = app.graphql(Some(&token), VERSION, json!({})).await;
        assert_eq!(error_codes(&r), vec!["UNAUTHENTICATED"], "{what}: {r}");
        assert_eq!(r["data"], Value::Null, "{what}");
    }
    let r = app.graphql(None, VERSION, json!({})).await;
    assert_eq!(error_codes(&r), vec!["UNAUTHENTICATED"]);
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("No access token"));
    let expired = forge(&typed, &claims(&app, &partner.id, -600, &app.base), &SIGNING_KEY);
    let r = app.graphql(Some(&expired), VERSION, json!({})).await;
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("expired"), "{r}");
}

#[tokio::test]
async fn the_operator_api_refuses_missing_and_wrong_keys() {
    let app = TestApp::spawn().await;
    let url = format!("{}/operator/v1/hirers", app.base);
    let none = app.client.post(&url).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let wrong = app.client.post(&url).bearer_auth("not-the-key").json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "UNAUTHENTICATED");
    // A partner token is not an operator key.
    let partner = app.create_partner("ATS").await;
    let token = app.token(&partner).await;
    let as_partner = app.client.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(as_partner.status(), 401);
    assert!(app.store.list_hirers().await.unwrap().is_empty(), "nothing was created by refused calls");
}

#[tokio::test]
async fn the_signing_key_is_generated_once_and_kept_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let mut keys = Vec::new();
    let master = candex_server::auth::master_key::MasterKey::generate().0;
    for _ in 0..2 {
        let store: std::sync::Arc<dyn candex_store::KeyStore> =
            std::sync::Arc::new(candex_store_sqlite::SqliteStore::connect(&url).await.unwrap());
        let settings = candex_server::config::TokenSettings {
            issuer: Some("i".into()),
            audience: Some("a".into()),
            accepted_audiences: Vec::new(),
            lifetime: std::time::Duration::from_secs(60),
            signing_key: None,
        };
        let svc = candex_server::auth::tokens::TokenService::load(store, master.clone(), &settings, "http://x")
            .await
            .unwrap();
        let partner = candex_domain::PartnerId::parse("s:partner:candex:p").unwrap();
        keys.push(svc.issue_partner(&partner).unwrap().access_token);
        // Tokens issued before the restart still verify after it.
        if keys.len() == 2 {
            assert!(svc.verify(&keys[0]).is_ok());
        }
    }
}

/// An integration written for SEEK sends SEEK's audience (production or Playground): it gets a
/// token that works here, as does one naming this server's public URL; other audiences are
/// refused, and an empty accepted list leaves only the public URL.
#[tokio::test]
async fn seek_audiences_and_the_public_url_get_tokens_by_default() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("Audience ATS").await;
    let request = |app: &TestApp, audience: &str| {
        app.client.post(format!("{}/oauth/token", app.base)).json(&json!({
            "grant_type": "client_credentials", "client_id": partner.client_id,
            "client_secret": partner.client_secret, "audience": audience
        }))
    };
    let public = format!("{}/", app.base);
    for audience in ["https://graphql.seek.com", "https://test.graphql.seek.com", public.as_str()] {
        let res = request(&app, audience).send().await.unwrap();
        assert_eq!(res.status(), 200, "{audience}");
        let body: Value = res.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap();
        let version = app.graphql(Some(token), "{ version }", json!({})).await;
        assert!(version["data"]["version"].is_string(), "{audience}: {version}");
    }
    let res = request(&app, "https://graphql.seek.com.evil.example").send().await.unwrap();
    assert_eq!(res.status(), 400);

    let strict = TestApp::spawn_with(|mut s| {
        s.tokens.accepted_audiences.clear();
        s
    })
    .await;
    let partner = strict.create_partner("Strict ATS").await;
    let res = strict
        .client
        .post(format!("{}/oauth/token", strict.base))
        .json(&json!({"grant_type": "client_credentials", "client_id": partner.client_id,
            "client_secret": partner.client_secret, "audience": "https://graphql.seek.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}
