//! candex past one machine: two `candex serve` processes on one PostgreSQL database share the
//! work. 1,000 ingests spread over both, one instance is killed (SIGKILL) halfway, and every
//! acknowledged application's event still reaches the receiver, with under 1% duplicates.
//! Skipped (and says so) when `CANDEX_TEST_POSTGRES_URL` is not set.

mod common;

use std::time::Duration;

use candex_testkit::receiver::{Behaviour, Receiver};
use candex_testkit::{Operator, ScratchDatabase};
use common::{delivered, post_json, start, token};
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
    let (op_a, op_b) = (Operator::new(&a.base, "k"), Operator::new(&b.base, "k"));

    let hirer = op_a.create_hirer("Acme").await;
    let partner = op_b.create_partner("ATS").await;
    op_a.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = op_b.post_position(json!({"hirerId": hirer, "positionTitle": "Role"})).await;

    // A token from one instance works on the other: the signing key lives in the database.
    let (id, secret) = (partner.client_id.as_str(), partner.client_secret.as_str());
    let token_a = token(&client, &a.base, id, secret).await;
    let receiver = Receiver::start(|_| Behaviour::Status(200)).await;
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
            let operator = if a_alive && i % 2 == 0 { &op_a } else { &op_b };
            let body = json!({"positionProfileId": position["id"], "candidate": {"person": {
                "name": {"given": format!("P{i}")}, "communication": {"email": [{"address": format!("p{i}@example.com")}]}}}});
            operator.ingest(body)
        });
        for (status, created) in futures::future::join_all(requests).await {
            assert_eq!(status, 201, "{created}");
            acknowledged.push(created["candidateProfileId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(acknowledged.len(), 1000);

    let arrived = receiver
        .poll(Duration::from_secs(120), |_| {
            let delivered = delivered(&receiver);
            acknowledged.iter().all(|id| delivered.contains_key(id))
        })
        .await;
    let delivered = delivered(&receiver);
    let missing = acknowledged.iter().filter(|id| !delivered.contains_key(*id)).count();
    assert!(arrived, "{missing} of 1000 events never arrived");
    let deliveries: usize = delivered.values().sum();
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
