//! Attachment storage that cannot be reached: an S3 endpoint on a closed port (a stopped
//! S3-compatible server). Ingests with a file answer a clear `503` with a JSON body instead
//! of a panic, `/readyz` says the storage is unavailable while `/healthz` (liveness) stays
//! 200, and the start-up check names the storage. A working server is ready.
//!
//! Its own test binary because the S3 client reads `AWS_*` variables, which are set once here.

use std::sync::Once;
use std::time::{Duration, Instant};

use candex_server::storage::BlobLocation;
use candex_testkit::{minimal_application, TestServer};
use serde_json::{json, Value};

static AWS_ENV: Once = Once::new();

/// A bucket on an endpoint where nothing listens.
fn unreachable_s3() -> BlobLocation {
    AWS_ENV.call_once(|| {
        for (key, value) in [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            std::env::set_var(key, value);
        }
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    BlobLocation::parse("s3://candex-outage/blobs", Some(&endpoint)).unwrap()
}

async fn server_on_unreachable_s3() -> TestServer {
    let location = unreachable_s3();
    TestServer::spawn_with(move |mut s| {
        s.blobs = Some(location);
        s
    })
    .await
}

async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    let res = server.client.get(format!("{}{path}", server.base)).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn an_ingest_with_a_file_answers_503_with_a_json_error_when_storage_is_down() {
    let server = server_on_unreachable_s3().await;
    let hirer = server.create_hirer("Outage Pty Ltd").await;
    let position = server.create_position(&hirer, "Storage engineer").await;
    let mut body = minimal_application(&position, "casey@example.com");
    body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let started = Instant::now();
    let (status, error) =
        server.ingest_multipart(body, vec![("cv", "cv.pdf", "application/pdf", b"%PDF-1.4\nresume".to_vec())]).await;
    assert_eq!(status, 503, "{error}");
    assert_eq!(error["code"], "STORAGE_UNAVAILABLE", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("storage") && !message.contains("127.0.0.1"), "safe, clear message: {message}");
    assert!(started.elapsed() < Duration::from_secs(25), "answered before the request timeout");

    // Nothing half-done: the application was not recorded, and the server still serves.
    let (status, page) =
        server.request(reqwest::Method::GET, &format!("/positions/{position}/applications"), None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["applications"].as_array().map(Vec::len), Some(0), "{page}");
    // An application without files does not need the storage.
    let (status, res) = server.ingest(minimal_application(&position, "dana@example.com")).await;
    assert_eq!(status, 201, "{res}");
}

#[tokio::test]
async fn readyz_fails_while_storage_is_down_and_healthz_stays_live() {
    let server = server_on_unreachable_s3().await;
    let (status, report) = get(&server, "/readyz").await;
    assert_eq!(status, 503, "{report}");
    assert_eq!(report, json!({"status": "unavailable", "database": "ok", "storage": "unavailable"}));
    let (status, live) = get(&server, "/healthz").await;
    assert_eq!(status, 200, "{live}");
    // The scrape answers, and says which dependency is down.
    let res = server.client.get(format!("{}/metrics", server.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let metrics = res.text().await.unwrap();
    assert!(metrics.contains("candex_ready{dependency=\"storage\"} 0"), "{metrics}");
    assert!(metrics.contains("candex_ready{dependency=\"database\"} 1"), "{metrics}");
}

#[tokio::test]
async fn readyz_is_ok_when_database_and_storage_answer() {
    let server = TestServer::spawn().await;
    let (status, report) = get(&server, "/readyz").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report, json!({"status": "ok", "database": "ok", "storage": "ok"}));
}

#[tokio::test]
async fn the_start_up_check_names_the_unusable_storage() {
    let location = unreachable_s3();
    let database = candex_testkit::scratch_store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // Both servers open the same database, so they need the master key its secrets are sealed with.
    let master_key = candex_server::auth::master_key::MasterKey::from_bytes(&candex_testkit::MASTER_KEY).unwrap();
    let settings =
        candex_server::Settings { blobs: Some(location), master_key: master_key.clone(), ..Default::default() };
    let app = candex_server::Application::build(settings, database.store.clone(), listener).await.unwrap();
    let error = app.check_dependencies().await.unwrap_err().to_string();
    assert!(error.contains("attachment storage s3://candex-outage/blobs is not usable"), "{error}");

    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = candex_server::Settings {
        blobs: Some(BlobLocation::Local(dir.path().join("blobs"))),
        master_key,
        ..Default::default()
    };
    let app = candex_server::Application::build(settings, database.store.clone(), listener).await.unwrap();
    app.check_dependencies().await.expect("a writable folder passes");
    assert!(!dir.path().join("blobs/candex-probe").exists(), "the probe is removed");
}
