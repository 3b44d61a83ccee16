//! Credentials (issue 16): secrets sealed at rest with the master key, client-secret rotation
//! with an overlap, token revocation seen at once by another instance on the same database,
//! and signing-key rotation that never brings a retired key back.

use candex_server::auth::master_key::MasterKey;
use candex_server::auth::tokens;
use candex_server::Settings;
use candex_server::{webhooks::WebhookSettings, Application};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{backend, error_codes, minimal_application, TestApp, SIGNING_KEY};

const WEBHOOK_SECRET: &str = "webhook-marker-Zq8JmX2p-secret";

fn private_targets(settings: Settings) -> Settings {
    Settings {
        webhooks: WebhookSettings { allow_private_targets: true, dispatch: false, ..WebhookSettings::default() },
        ..settings
    }
}

/// The stored form of a column, as bytes, on either backend.
fn as_bytes(column: &str, text: bool) -> String {
    match (backend(), text) {
        ("postgres", true) => format!("convert_to({column}, 'UTF8')"),
        ("postgres", false) => column.to_owned(),
        _ => format!("cast({column} as blob)"),
    }
}

async fn subscribe(app: &TestApp, token: &str) -> String {
    let res = app
        .graphql(
            Some(token),
            "mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) {
               ... on CreateWebhookSubscriptionPayload_Success { webhookSubscription { id { value } } } } }",
            json!({"i": {"webhookSubscription": {"eventTypeCode": "CandidateApplicationCreated",
                "schemeId": "seekAnzPublicTest", "url": "http://127.0.0.1:9/hook",
                "signingAlgorithmCode": "SeekHmacSha512", "secret": WEBHOOK_SECRET}}}),
        )
        .await;
    res["data"]["createWebhookSubscription"]["webhookSubscription"]["id"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{res}"))
        .to_owned()
}

#[tokio::test]
async fn a_copied_database_holds_no_usable_secret_without_the_master_key() {
    let app = TestApp::spawn_with(private_targets).await;
    let partner = app.create_partner("ATS").await;
    let token = app.token(&partner).await;
    subscribe(&app, &token).await;

    // What a thief reads: sealed values only, naming the master key's id, never the secrets.
    let master = MasterKey::from_bytes(&candex_testkit::MASTER_KEY).unwrap();
    let keys = app.texts(&format!("select {} from signing_keys", as_bytes("secret", false))).await;
    let hooks = app.texts(&format!("select {} from webhook_subscriptions", as_bytes("secret", true))).await;
    assert_eq!((keys.len(), hooks.len()), (1, 1));
    for sealed in keys.iter().chain(&hooks) {
        assert!(sealed.starts_with(&format!("cdxk1.{}.", master.id())), "{sealed}");
        assert!(!sealed.contains(WEBHOOK_SECRET) && !sealed.contains(&"*".repeat(32)), "{sealed}");
    }
    if backend() == "sqlite" {
        // Every byte of the database files: neither the webhook secret nor the signing key
        // ([42; 32] is 32 '*').
        let file = app.db_url.trim_start_matches("sqlite://").to_owned();
        for path in [file.clone(), format!("{file}-wal")] {
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let hay = String::from_utf8_lossy(&bytes);
            assert!(!hay.contains(WEBHOOK_SECRET), "webhook secret in {path}");
            assert!(!bytes.windows(32).any(|w| w == [42u8; 32]), "signing key in {path}");
        }
    }

    // The database with another master key: refused at start, saying why.
    let (other, _) = MasterKey::generate();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = Settings {
        master_key: other.clone(),
        tokens: candex_server::config::TokenSettings {
            signing_key: None,
            ..candex_testkit::test_settings(app.blobs_dir.clone()).tokens
        },
        ..candex_testkit::test_settings(app.blobs_dir.clone())
    };
    let refused = match Application::build(settings, app.store.clone(), listener).await {
        Ok(_) => panic!("a server started on the database with another master key"),
        Err(e) => format!("{e:#}"),
    };
    assert!(refused.contains(&format!("sealed with master key {}", master.id())), "{refused}");
    assert!(refused.contains(other.id()) && refused.contains("--master-key-file"), "{refused}");
}

#[tokio::test]
async fn plain_text_secrets_from_an_older_database_are_sealed_at_start() {
    let app = TestApp::spawn_with(private_targets).await;
    let partner = app.create_partner("ATS").await;
    let token = app.token(&partner).await;
    let subscription = subscribe(&app, &token).await;
    // As an older candex stored them: in plain text.
    let key = match backend() {
        "postgres" => format!("'\\x{}'::bytea", hex::encode(SIGNING_KEY)),
        _ => format!("x'{}'", hex::encode(SIGNING_KEY)),
    };
    app.execute_sql(&format!("update signing_keys set secret = {key}")).await;
    app.execute_sql(&format!("update webhook_subscriptions set secret = '{WEBHOOK_SECRET}'")).await;

    let second = app.beside(private_targets).await;
    let hooks = app.texts(&format!("select {} from webhook_subscriptions", as_bytes("secret", true))).await;
    let keys = app.texts(&format!("select {} from signing_keys", as_bytes("secret", false))).await;
    assert!(hooks.iter().chain(&keys).all(|v| v.starts_with("cdxk1.")), "{hooks:?} {keys:?}");
    // The key is the same key: a token signed before still works on the new instance, and the
    // webhook secret opens (the stored subscription's secret round-trips through sealing).
    let res = second
        .graphql(
            Some(&token),
            r#"{ webhookSubscriptions(schemeId: "seekAnzPublicTest", first: 1) { edges { node { id { value } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(res["data"]["webhookSubscriptions"]["edges"][0]["node"]["id"]["value"], subscription.as_str(), "{res}");
    let master = MasterKey::from_bytes(&candex_testkit::MASTER_KEY).unwrap();
    let opened = master
        .open(candex_server::auth::master_key::Purpose::WebhookSecret, &subscription, &hooks[0])
        .expect("opens with the master key");
    assert_eq!(opened.as_slice(), WEBHOOK_SECRET.as_bytes());
}

const PROFILE: &str = "query($id: String!) { candidateProfile(id: $id) { profileId { value } } }";
const HIRERS: &str =
    r#"{ hiringOrganizations(schemeId: "seekAnzPublicTest", first: 5) { edges { node { id { value } } } } }"#;

#[tokio::test]
async fn revoking_a_partners_tokens_takes_effect_at_once_on_another_instance() {
    let a = TestApp::spawn().await;
    let b = a.beside(|s| s).await;
    let hirer = a.create_hirer("Acme").await;
    let partner = a.create_partner("ATS").await;
    a.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = a.create_position(&hirer, "Role").await;
    let (_, applied) = a.ingest(minimal_application(&position, "ann@example.com")).await;
    let profile = applied["candidateProfileId"].as_str().unwrap().to_owned();
    let token = a.token(&partner).await;

    // The token works on both instances, for candidateProfile and other operations.
    for app in [&a, &b] {
        let res = app.graphql(Some(&token), PROFILE, json!({"id": profile})).await;
        assert_eq!(res["data"]["candidateProfile"]["profileId"]["value"], profile.as_str(), "{res}");
        let res = app.graphql(Some(&token), HIRERS, json!({})).await;
        assert!(res["errors"].is_null(), "{res}");
    }

    let (status, revoked) = a.operator(Method::POST, &format!("/partners/{}/tokens/revoke", partner.id), None).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["partnerId"], partner.id.as_str());

    // The other instance refuses the token on the very next request, whatever it asks.
    for app in [&b, &a] {
        let res = app.graphql(Some(&token), PROFILE, json!({"id": profile})).await;
        assert_eq!(error_codes(&res), ["UNAUTHENTICATED"], "{res}");
        assert!(res["data"].is_null(), "nothing of the profile leaves: {res}");
        let res = app.graphql(Some(&token), HIRERS, json!({})).await;
        assert_eq!(error_codes(&res), ["UNAUTHENTICATED"], "{res}");
        assert!(res["errors"][0]["message"].as_str().unwrap().contains("revoked"), "{res}");
        let res = app
            .graphql(
                Some(&token),
                "mutation { deleteWebhookSubscription(input: {webhookSubscription: {id: \"x\"}}) { __typename } }",
                json!({}),
            )
            .await;
        assert_eq!(error_codes(&res), ["UNAUTHENTICATED"], "mutations are checked before they run: {res}");
    }
    // A new token works at once.
    let fresh = b.token(&partner).await;
    let res = a.graphql(Some(&fresh), PROFILE, json!({"id": profile})).await;
    assert_eq!(res["data"]["candidateProfile"]["profileId"]["value"], profile.as_str(), "{res}");

    let (status, _) = a.operator(Method::POST, "/partners/nope/tokens/revoke", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn token_status(app: &TestApp, client_id: &str, secret: &str) -> StatusCode {
    let res = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .json(&json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}))
        .send()
        .await
        .unwrap();
    res.status()
}

#[tokio::test]
async fn client_secrets_rotate_with_an_overlap_until_the_old_one_is_retired() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let path = format!("/partners/{}/client-secrets", partner.id);
    let (status, rotated) = app.operator(Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new_secret = rotated["clientSecret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, partner.client_secret);

    // Both work during the changeover.
    assert_eq!(token_status(&app, &partner.client_id, &partner.client_secret).await, StatusCode::OK);
    assert_eq!(token_status(&app, &partner.client_id, &new_secret).await, StatusCode::OK);
    // No third secret before the old one is retired.
    let (status, body) = app.operator(Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, retired) = app.operator(Method::POST, &format!("{path}/retire"), None).await;
    assert_eq!((status, &retired["retired"]), (StatusCode::OK, &Value::Bool(true)), "{retired}");
    assert_eq!(token_status(&app, &partner.client_id, &partner.client_secret).await, StatusCode::UNAUTHORIZED);
    assert_eq!(token_status(&app, &partner.client_id, &new_secret).await, StatusCode::OK);
    let (status, retired) = app.operator(Method::POST, &format!("{path}/retire"), None).await;
    assert_eq!((status, &retired["retired"]), (StatusCode::OK, &Value::Bool(false)));

    // The served OpenAPI document has the routes.
    let (_, doc) = app.operator(Method::GET, "/openapi.json", None).await;
    for route in [
        "/operator/v1/partners/{partner_id}/client-secrets",
        "/operator/v1/partners/{partner_id}/client-secrets/retire",
        "/operator/v1/partners/{partner_id}/tokens/revoke",
    ] {
        assert!(doc["paths"][route]["post"].is_object(), "{route} missing from the OpenAPI document");
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn a_rotated_signing_key_only_verifies_until_retired_and_never_comes_back() {
    let a = TestApp::spawn().await;
    let hirer = a.create_hirer("Acme").await;
    let partner = a.create_partner("ATS").await;
    a.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let old_token = a.token(&partner).await;
    assert_eq!(kid_of(&old_token), tokens::configured_kid(&SIGNING_KEY));

    // `candex admin signing-key rotate`, as the store sees it.
    let master = MasterKey::from_bytes(&candex_testkit::MASTER_KEY).unwrap();
    let new_key = tokens::new_signing_key(&master);
    let new_kid = new_key.kid.clone();
    let retire_at = chrono::Utc::now() + chrono::Duration::hours(1);
    a.store.rotate_signing_key(new_key, retire_at).await.unwrap();

    // An instance started now (without --token-signing-key) signs with the new key and still
    // verifies tokens of the old one; the first instance learns the new key from a token.
    let unconfigured = |s: Settings| Settings {
        tokens: candex_server::config::TokenSettings { signing_key: None, ..s.tokens.clone() },
        ..s
    };
    let b = a.beside(unconfigured).await;
    let new_token = b.token(&partner).await;
    assert_eq!(kid_of(&new_token), new_kid);
    for (app, token) in [(&b, &old_token), (&a, &new_token), (&b, &new_token)] {
        let res = app.graphql(Some(token), HIRERS, json!({})).await;
        assert!(res["errors"].is_null(), "{res}");
    }

    // Configuring the rotated-out key again is refused: it never signs again.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused =
        match Application::build(candex_testkit::test_settings(a.blobs_dir.clone()), a.store.clone(), listener).await {
            Ok(_) => panic!("a rotated-out signing key was configured again"),
            Err(e) => format!("{e:#}"),
        };
    assert!(refused.contains("rotated out"), "{refused}");

    // Once its tokens have expired the old key is retired: no instance verifies it again,
    // with or without --token-signing-key.
    let retired = a.store.retire_signing_keys(retire_at).await.unwrap();
    assert_eq!(retired, [tokens::configured_kid(&SIGNING_KEY)]);
    let c = a.beside(unconfigured).await;
    let res = c.graphql(Some(&old_token), HIRERS, json!({})).await;
    assert_eq!(error_codes(&res), ["UNAUTHENTICATED"], "{res}");
    let res = c.graphql(Some(&new_token), HIRERS, json!({})).await;
    assert!(res["errors"].is_null(), "{res}");
}
