//! A 50 MiB attachment goes in and comes out streamed: the SHA-256 matches and the process's
//! peak resident memory grows far less than the file. Its own test binary, so that no other
//! test's allocations run in the same process while peak memory is measured (the server runs
//! in-process).

#[path = "api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use futures::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};

use helpers::{minimal_application, TestApp, OPERATOR_KEY};

const FILE_BYTES: usize = 50 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// `VmHWM` and `VmRSS` of this process in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn chunk(i: usize) -> bytes::Bytes {
    let mut c = vec![0u8; CHUNK];
    for (j, b) in c.iter_mut().enumerate() {
        *b = ((i * 31 + j * 7) % 251) as u8;
    }
    bytes::Bytes::from(c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mib_file_streams_in_and_out_with_flat_memory() {
    let app = TestApp::spawn_with(|mut s| {
        s.attachments.max_bytes = 60 * 1024 * 1024;
        s
    })
    .await;
    let hirer = app.create_hirer("Big Files Inc").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Archivist").await;
    let token = app.token(&partner).await;

    let mut expected = Sha256::new();
    for i in 0..FILE_BYTES / CHUNK {
        expected.update(chunk(i));
    }
    let expected = hex::encode(expected.finalize());

    // Warm up (pools, allocator arenas, TLS) with a small upload and download first.
    let mut body = minimal_application(&position, "warm@example.com");
    body["attachments"] = json!([{"file": "f", "seekRoleCode": "Resume"}]);
    let (status, _) =
        app.ingest_multipart(body, vec![("f", "warm.pdf", "application/pdf", vec![b'x'; 2 * CHUNK])]).await;
    assert_eq!(status, 201);

    // Reset the peak to the current resident size (Linux: "5" > clear_refs), then measure.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (hwm_before, rss_before) = memory_kib();

    let stream = futures::stream::iter((0..FILE_BYTES / CHUNK).map(|i| Ok::<_, std::io::Error>(chunk(i))));
    let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), FILE_BYTES as u64)
        .file_name("archive.pdf")
        .mime_str("application/pdf")
        .expect("mime");
    let mut body = minimal_application(&position, "big@example.com");
    body["attachments"] = json!([{"file": "big", "seekRoleCode": "Resume"}]);
    let form = reqwest::multipart::Form::new().text("application", body.to_string()).part("big", part);
    let res = app
        .client
        .post(format!("{}/operator/v1/applications", app.base))
        .bearer_auth(OPERATOR_KEY)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.expect("json");
    let profile = created["candidateProfileId"].as_str().expect("profile id");

    let r = app
        .graphql(
            Some(&token),
            "query($id: String!) { candidateProfile(id: $id) { attachments { url } } }",
            json!({"id": profile}),
        )
        .await;
    let url = r["data"]["candidateProfile"]["attachments"][0]["url"].as_str().expect("url").to_owned();
    let res = app.client.get(&url).bearer_auth(&token).send().await.expect("download");
    assert_eq!(res.status(), 200);
    assert_eq!(res.content_length(), Some(FILE_BYTES as u64));
    let mut hasher = Sha256::new();
    let mut received = 0usize;
    let mut body = res.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        received += chunk.len();
        hasher.update(&chunk);
    }
    assert_eq!(received, FILE_BYTES);
    assert_eq!(hex::encode(hasher.finalize()), expected, "downloaded bytes equal the uploaded ones");

    let (hwm_after, rss_after) = memory_kib();
    let growth_kib = hwm_after.saturating_sub(hwm_before.max(rss_before));
    println!(
        "50 MiB attachment round trip: peak RSS growth {:.1} MiB (VmHWM {hwm_before} -> {hwm_after} KiB, VmRSS {rss_before} -> {rss_after} KiB)",
        growth_kib as f64 / 1024.0
    );
    assert!(growth_kib < 25 * 1024, "peak RSS grew by {growth_kib} KiB for a 50 MiB file: something buffers it whole");
}
