//! Blob deletion never races an upload of the same content: an erasure (whose blob deletion is
//! the one the retention purge and the orphan sweep use) that runs while another application
//! uploads identical content never leaves that application's row pointing at a missing blob.
//! On the backend `CANDEX_TEST_BACKEND` picks.

use std::sync::Arc;

use bytes::Bytes;
use candex_domain::input::{ApplicationInput, PositionInput};
use candex_server::attachments::AttachmentSettings;
use candex_server::operator::service::OperatorService;
use candex_server::operator::uploads::{PreparedApplication, UploadedAttachment};
use candex_server::storage::{BlobLocation, BlobStore};
use candex_testkit::{minimal_application, scratch_store};
use serde_json::json;

struct World {
    svc: Arc<OperatorService>,
    blobs: BlobStore,
    position: String,
    _dir: tempfile::TempDir,
    _store: candex_testkit::ScratchStore,
}

async fn world() -> World {
    let scratch = scratch_store().await;
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(&BlobLocation::Local(dir.path().join("blobs"))).unwrap();
    let svc = OperatorService::new(scratch.store.clone(), candex_domain::Scheme::default(), "http://127.0.0.1")
        .with_attachments(blobs.clone(), AttachmentSettings::default());
    let hirer = svc.create_hirer(Some("Race Hirer".into())).await.unwrap();
    let position = svc
        .create_position(PositionInput {
            hirer_id: Some(hirer.id.to_string()),
            position_title: Some("Racer".into()),
            ..PositionInput::default()
        })
        .await
        .unwrap();
    World { svc: Arc::new(svc), blobs, position: position.profile_id.to_string(), _dir: dir, _store: scratch }
}

/// Uploads `content` for a new application of `email`; returns the application and its file.
async fn upload(w: &World, email: &str, content: &[u8]) -> PreparedApplication {
    let mut body = minimal_application(&w.position, email);
    body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let input: ApplicationInput = serde_json::from_value(body).unwrap();
    let app = w.svc.validate_application(input).unwrap();
    let mut pending = w.svc.begin_upload("/attachments/0/file", &app.attachments[0], Some("cv.pdf"), None).unwrap();
    pending.write(Bytes::copy_from_slice(content)).await.unwrap();
    let uploaded: UploadedAttachment = pending.finish().await.unwrap();
    PreparedApplication { app, attachments: vec![uploaded] }
}

/// Ingests an uploaded application; returns its candidate id.
async fn ingest(w: &World, prepared: PreparedApplication) -> String {
    let stored = w.svc.ingest_prepared(vec![prepared]).await.unwrap();
    stored[0].candidate_id.to_string()
}

fn sha(content: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(content))
}

/// Step by step: an upload whose row is not committed yet keeps its content through an
/// erasure of the only row that referenced it; once its row commits, the row keeps it; once
/// that row is erased too, the blob goes.
#[tokio::test]
async fn a_leased_upload_keeps_its_content_through_an_erasure() {
    let w = world().await;
    let content = b"%PDF-1.4 the same file, twice".to_vec();
    let first = upload(&w, "first@example.org", &content).await;
    let first = ingest(&w, first).await;
    assert!(w.blobs.exists(&sha(&content)).await.unwrap());

    let second = upload(&w, "second@example.org", &content).await;
    w.svc.erase_candidate(&first).await.unwrap();
    assert!(w.blobs.exists(&sha(&content)).await.unwrap(), "the erasure deleted content an upload holds");
    let second = ingest(&w, second).await;
    assert!(w.blobs.exists(&sha(&content)).await.unwrap());

    w.svc.erase_candidate(&second).await.unwrap();
    assert!(!w.blobs.exists(&sha(&content)).await.unwrap(), "unreferenced and unleased: deleted");
}

/// Concurrently, many times: erasing the one application that references a content while
/// another application uploads and commits the same content never leaves the second one's
/// row without its blob.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn erasure_concurrent_with_an_upload_of_the_same_content_never_loses_the_blob() {
    let w = Arc::new(world().await);
    for i in 0..40 {
        let content = format!("%PDF-1.4 race round {i} {}", "r".repeat(i * 997)).into_bytes();
        let first = upload(&w, &format!("a{i}@example.org"), &content).await;
        let first = ingest(&w, first).await;
        let erase = {
            let w = w.clone();
            tokio::spawn(async move { w.svc.erase_candidate(&first).await.unwrap() })
        };
        let again = {
            let (w, content) = (w.clone(), content.clone());
            tokio::spawn(async move {
                let prepared = upload(&w, &format!("b{i}@example.org"), &content).await;
                ingest(&w, prepared).await
            })
        };
        erase.await.unwrap();
        again.await.unwrap();
        assert!(w.blobs.exists(&sha(&content)).await.unwrap(), "round {i}: a committed row points at a missing blob");
    }
}
