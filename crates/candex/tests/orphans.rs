//! Orphans are collected: `candex serve` on one SQLite database is killed (`kill -9`) again and
//! again while concurrent multipart ingests stream their files in, then `candex admin purge
//! --orphan-grace-secs 0` runs with no server: no temporary file is left, every blob is
//! referenced by an attachment row, and every acknowledged (201) application still has all its
//! files, byte for byte.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use candex_testkit::{minimal_application, Operator};
use common::{files, serve_logged};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const OPERATOR_KEY: &str = "demo-operator-key";
/// Kill rounds.
const ROUNDS: usize = 10;
/// Ingests in flight at once.
const WORKERS: usize = 6;
/// Contents several applications share (each above one 1 MiB local part, so its upload is a
/// multipart write with a staging file).
const SHARED: usize = 3;
const SHARED_BYTES: usize = 1536 * 1024;
/// Sent in chunks of this size, one every `CHUNK_EVERY`, so that uploads are mid-stream when
/// the server is killed.
const CHUNK: usize = 128 * 1024;
const CHUNK_EVERY: Duration = Duration::from_millis(15);

fn database(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("candex.db").display())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A file part whose bytes trickle in.
fn trickled(name: &str, bytes: Bytes) -> reqwest::multipart::Part {
    let len = bytes.len() as u64;
    let chunks: Vec<Bytes> =
        (0..bytes.len()).step_by(CHUNK).map(|i| bytes.slice(i..(i + CHUNK).min(bytes.len()))).collect();
    let stream = futures::stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(CHUNK_EVERY).await;
        Ok::<_, std::io::Error>(chunk)
    });
    reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
        .file_name(name.to_owned())
        .mime_str("application/pdf")
        .expect("mime")
}

/// An acknowledged application: its profile id and its files (name → content hash).
type Acked = (String, BTreeMap<String, String>);

/// Sends applications one after another until the server goes away, recording those answered 201.
async fn ingest_until_killed(
    base: String,
    position: String,
    worker: usize,
    round: usize,
    shared: Arc<Vec<Bytes>>,
    acked: Arc<Mutex<Vec<Acked>>>,
) {
    let client = reqwest::Client::new();
    for n in 0.. {
        let own =
            Bytes::from(format!("%PDF-1.4 own file of worker {worker} round {round} #{n} {}", "o".repeat(300 * 1024)));
        let common = shared[(worker + n) % SHARED].clone();
        let mut body = minimal_application(&position, &format!("w{worker}.r{round}.n{n}@example.org"));
        body["attachments"] = json!([{"file": "own", "seekRoleCode": "Resume"}, {"file": "common"}]);
        let files = BTreeMap::from([
            (format!("own-{worker}-{round}-{n}.pdf"), sha256_hex(&own)),
            (format!("common-{}.pdf", (worker + n) % SHARED), sha256_hex(&common)),
        ]);
        let names: Vec<&String> = files.keys().collect();
        let (common_name, own_name) = (names[0].clone(), names[1].clone());
        let form = reqwest::multipart::Form::new()
            .part("application", reqwest::multipart::Part::text(body.to_string()).mime_str("application/json").unwrap())
            .part("own", trickled(&own_name, own))
            .part("common", trickled(&common_name, common));
        let sent = client
            .post(format!("{base}/operator/v1/applications"))
            .bearer_auth(OPERATOR_KEY)
            .multipart(form)
            .send()
            .await;
        let Ok(response) = sent else { return };
        let status = response.status();
        let Ok(answer) = response.json::<Value>().await else { return };
        assert_eq!(status, StatusCode::CREATED, "an ingest the server answered was refused: {answer}");
        let profile = answer["candidateProfileId"].as_str().expect("profile id").to_owned();
        acked.lock().unwrap().push((profile, files));
    }
}

/// Files under `blobs/sha256/` no attachment row references (read with no server running).
async fn orphan_blobs(dir: &std::path::Path) -> usize {
    let pool = sqlx::SqlitePool::connect(&database(dir)).await.unwrap();
    let referenced: Vec<String> = sqlx::query_scalar("select sha256 from attachments").fetch_all(&pool).await.unwrap();
    pool.close().await;
    let referenced: std::collections::HashSet<String> = referenced.into_iter().collect();
    files(&dir.join("blobs").join("sha256"))
        .iter()
        .filter(|f| !referenced.contains(f.file_name().unwrap().to_str().unwrap()))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_ingest_then_a_purge_leaves_no_orphan_and_every_acknowledged_file() {
    let dir = tempfile::tempdir().unwrap();
    let shared: Arc<Vec<Bytes>> = Arc::new(
        (0..SHARED)
            .map(|i| {
                let mut bytes = format!("%PDF-1.4 shared {i} ").into_bytes();
                bytes.extend(
                    (0..SHARED_BYTES as u32)
                        .map(|b| (b.wrapping_mul(2_654_435_761).wrapping_add(i as u32) >> 24) as u8),
                );
                Bytes::from(bytes)
            })
            .collect(),
    );
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut position = String::new();
    // At least ROUNDS kills, and more (up to 3 × ROUNDS) until one has landed between a
    // file reaching its place and its application committing: where a kill lands is up to
    // the scheduler, and a run whose kills left no orphan would show nothing.
    let mut round = 0;
    while round < ROUNDS || (round < 3 * ROUNDS && orphan_blobs(dir.path()).await == 0) {
        let mut server = serve_logged(dir.path(), "info");
        if round == 0 {
            let op = Operator::new(server.base.clone(), OPERATOR_KEY);
            let hirer = op.create_hirer("Crash Test Hirer").await;
            position = op.create_position(&hirer, "Stuntperson").await;
        }
        let before = acked.lock().unwrap().len();
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                tokio::spawn(ingest_until_killed(
                    server.base.clone(),
                    position.clone(),
                    w,
                    round,
                    shared.clone(),
                    acked.clone(),
                ))
            })
            .collect();
        // Kill once this round has acknowledged a few ingests, while the others stream.
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().unwrap().len() < before + 2 {
            assert!(Instant::now() < deadline, "round {round}: no ingest acknowledged within 20 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // ... and while an upload has a staging file on disk (slow under load: wait for it).
        let staged = Instant::now() + Duration::from_secs(10);
        while files(&dir.path().join("blobs").join("tmp")).is_empty() && Instant::now() < staged {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for worker in workers {
            worker.await.unwrap();
        }
        round += 1;
    }
    assert!(orphan_blobs(dir.path()).await > 0, "{round} kills left no orphan file, so the test shows nothing");
    let acked = acked.lock().unwrap().clone();
    let blobs = dir.path().join("blobs");
    let leftover_tmp = files(&blobs.join("tmp")).len();
    assert!(leftover_tmp > 0, "the kills left no temporary file, so the test shows nothing");

    // The purge, with no server running.
    let out = Command::new(env!("CARGO_BIN_EXE_candex"))
        .args(["admin", "purge", "--database", &database(dir.path()), "--orphan-grace-secs", "0"])
        .env_remove("CANDEX_DATABASE")
        .stderr(Stdio::inherit())
        .output()
        .expect("run candex admin purge");
    assert!(out.status.success(), "purge failed: {}", String::from_utf8_lossy(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).expect("purge prints JSON");
    assert_eq!(report["tempFilesDeleted"].as_u64(), Some(leftover_tmp as u64), "{report}");
    assert!(report["orphanBlobsDeleted"].as_u64().unwrap_or(0) > 0, "the kills left no orphan blob: {report}");

    // No temporary file, and every blob referenced by an attachment row.
    assert_eq!(files(&blobs.join("tmp")), Vec::<PathBuf>::new(), "temporary files left");
    let pool = sqlx::SqlitePool::connect(&database(dir.path())).await.unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("select profile_id, filename, sha256 from attachments").fetch_all(&pool).await.unwrap();
    pool.close().await;
    let referenced: BTreeSet<&str> = rows.iter().map(|(_, _, sha)| sha.as_str()).collect();
    let stored: BTreeSet<String> =
        files(&blobs.join("sha256")).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    let unreferenced: Vec<&String> = stored.iter().filter(|s| !referenced.contains(s.as_str())).collect();
    assert_eq!(unreferenced, Vec::<&String>::new(), "blobs no attachment row references");

    // Every acknowledged application has all its files, whole.
    assert!(acked.len() >= 2 * ROUNDS, "{} acknowledged", acked.len());
    let mut by_profile: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for (profile, filename, sha) in &rows {
        by_profile.entry(profile.as_str()).or_default().insert(filename.clone(), sha.clone());
    }
    for (profile, files) in &acked {
        assert_eq!(by_profile.get(profile.as_str()), Some(files), "the rows of acknowledged {profile}");
        for sha in files.values() {
            let bytes = std::fs::read(blobs.join("sha256").join(sha)).unwrap_or_default();
            assert_eq!(sha256_hex(&bytes), *sha, "the blob of acknowledged {profile}");
        }
    }
}
