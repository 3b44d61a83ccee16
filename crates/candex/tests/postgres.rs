//! candex past one machine: two `candex serve` processes on one PostgreSQL database share the
//! work. 1,000 ingests spread over both, one instance is killed (SIGKILL) halfway, and every
//! acknowledged application's event still reaches the receiver, with under 1% duplicates.
//! Skipped (and says so) when `CANDEX_TEST_POSTGRES_URL` is not set.

mod common;

use std::time::Duration;

use candex_store_postgres::scratch::ScratchDatabase;
use common::{post_json, start, token, MiniReceiver};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_database_and_survive_losing_one() {
    let Some(db) = ScratchDatabase::from_env().await else { return };
    let db_url = db.url();
    let blobs = tempfile::tempdir().unwrap();
    let blobs_dir = blobs.path().to_str().unwrap().to_owned();
    let args = [
        "--database",
        db_url.as_str(),
        "--blobs",
        blobs_dir.as_str(),
        "--operator-key",
        "k",
        // Behind one load balancer every instance has the same public URL: the token audience.
        "--public-url",
        "https://candex.example.com",
        "--allow-private-webhook-targets",
        "--webhook-timeout-ms",
        "1000",
        "--webhook-retry-base-ms",
        "50",
        "--webhook-retry-max-secs",
        "1",
    ];
    let mut a = start(&args);
    let b = start(&args);
    let client = reqwest::Client::new();
    let op = |base: &str, path: &str| format!("{base}/operator/v1{path}");

    let (_, hirer) = post_json(&client, &op(&a.base, "/hirers"), Some("k"), &json!({"name": "Acme"})).await;
    let (_, partner) = post_json(&client, &op(&b.base, "/partners"), Some("k"), &json!({"name": "ATS"})).await;
    let rel = client
        .put(op(
            &a.base,
            &format!("/partners/{}/relationships/{}", partner["id"].as_str().unwrap(), hirer["id"].as_str().unwrap()),
        ))
        .bearer_auth("k")
        .json(&json!({"relationshipTypeCodes": ["ApplicationExport"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(rel.status(), 200);
    let (_, position) = post_json(
        &client,
        &op(&b.base, "/positions"),
        Some("k"),
        &json!({"hirerId": hirer["id"], "positionTitle": "Role"}),
    )
    .await;

    // A token from one instance works on the other: the signing key lives in the database.
    let (id, secret) = (partner["clientId"].as_str().unwrap(), partner["clientSecret"].as_str().unwrap());
    let token_a = token(&client, &a.base, id, secret).await;
    let receiver = MiniReceiver::start_answering(true).await;
    let (_, created) = post_json(
        &client,
        &format!("{}/graphql", b.base),
        Some(&token_a),
        &json!({"query": "mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) {
            __typename } }", "variables": {"i": {"webhookSubscription": {
            "eventTypeCode": "CandidateApplicationCreated", "schemeId": "seekAnzPublicTest", "url": receiver.url,
            "maxEventsPerAttempt": 5, "signingAlgorithmCode": "SeekHmacSha512", "secret": "0123456789abcdef0123"}}}}),
    )
    .await;
    assert_eq!(
        created["data"]["createWebhookSubscription"]["__typename"], "CreateWebhookSubscriptionPayload_Success",
        "{created}"
    );

    // 1,000 applications, alternating instances, 8 at a time; instance A dies at 500.
    let mut acknowledged = Vec::new();
    let mut a_alive = true;
    for chunk in 0..125 {
        if chunk == 63 {
            a.child.kill().expect("SIGKILL instance A");
            a.child.wait().unwrap();
            a_alive = false;
        }
        let requests = (0..8).map(|k| {
            let i = chunk * 8 + k;
            let base = if a_alive && i % 2 == 0 { a.base.clone() } else { b.base.clone() };
            let body = json!({"positionProfileId": position["id"], "candidate": {"person": {
                "name": {"given": format!("P{i}")}, "communication": {"email": [{"address": format!("p{i}@example.com")}]}}}});
            let client = client.clone();
            async move { post_json(&client, &op(&base, "/applications"), Some("k"), &body).await }
        });
        for (status, created) in futures::future::join_all(requests).await {
            assert_eq!(status, 201, "{created}");
            acknowledged.push(created["candidateProfileId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(acknowledged.len(), 1000);

    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let delivered = receiver.delivered();
        if acknowledged.iter().all(|id| delivered.contains(id)) {
            break;
        }
        let missing = acknowledged.iter().filter(|id| !delivered.contains(*id)).count();
        assert!(std::time::Instant::now() < deadline, "{missing} of 1000 events never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deliveries = receiver.deliveries();
    let duplicates = deliveries - 1000;
    println!(
        "two instances on PostgreSQL, one killed at 500 of 1000 ingests: 1000 events delivered with {deliveries} \
         deliveries ({:.1}% duplicates)",
        duplicates as f64 / 10.0
    );
    assert!(duplicates < 10, "{duplicates} duplicates is 1% or more");

    // The surviving instance serves every profile, whichever instance stored it.
    let token_b = token(&client, &b.base, id, secret).await;
    let (_, r) = post_json(
        &client,
        &format!("{}/graphql", b.base),
        Some(&token_b),
        &json!({"query": "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }",
                "variables": {"id": acknowledged[0]}}),
    )
    .await;
    assert_eq!(r["data"]["candidateProfile"]["profileId"]["value"], Value::from(acknowledged[0].as_str()));
    drop(b);
    drop(db);
}
