//! Erased means unreadable: an application with a distinct marker in every field and file is
//! ingested into a real `candex serve` on SQLite, the candidate is erased, and no byte of the
//! database, its WAL, the blob folder or the server's log holds any marker any more: while
//! the server runs, after `kill -9`, and after a clean restart and shutdown. Before the
//! erasure, every marker is found, so the search is known to work.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use candex_testkit::{minimal_application, Operator};
use common::{files, serve_logged, LoggedServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

const OPERATOR_KEY: &str = "demo-operator-key";

/// A distinct marker per field and file of the application.
const MARKERS: [&str; 10] = [
    "MkGivenQx7",
    "MkFamilyQx7",
    "mkemailqx7@example.org",
    "0499 761 352",
    "MkAddressLineQx7",
    "MkCityQx7",
    "MkEmployerQx7",
    "MkAnswerQx7",
    "MkFileNameQx7",
    "MkFileContentQx7",
];

/// The markers found in any byte of any file under `dir`, each with the files holding it.
fn found(dir: &Path) -> Vec<(&'static str, Vec<String>)> {
    let contents: Vec<(PathBuf, Vec<u8>)> =
        files(dir).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    MARKERS
        .iter()
        .filter_map(|marker| {
            let holders: Vec<String> = contents
                .iter()
                .filter(|(_, bytes)| bytes.windows(marker.len()).any(|w| w == marker.as_bytes()))
                .map(|(path, _)| path.strip_prefix(dir).unwrap().display().to_string())
                .collect();
            (!holders.is_empty()).then_some((*marker, holders))
        })
        .collect()
}

fn sigterm_and_wait(server: &mut LoggedServer) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).stdout(Stdio::null()).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_candidate_leaves_no_byte_in_the_database_wal_blobs_or_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve_logged(dir.path(), "debug");
    let op = Operator::new(server.base.clone(), OPERATOR_KEY);

    // Arrange: a job ad with a free-text question, and an application carrying every marker.
    let hirer = op.create_hirer("Erasure Test Hirer").await;
    let position = op
        .post_position(json!({"hirerId": hirer, "positionTitle": "Archivist", "questionnaire": {"components": [
            {"componentTypeCode": "Question", "questionHtml": "Why?", "responseTypeCode": "FreeText"}]}}))
        .await;
    let position_id = position["id"].as_str().unwrap().to_owned();
    let question = position["questionnaire"]["components"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({
        "positionProfileId": position_id,
        "candidate": {"person": {
            "name": {"given": MARKERS[0], "family": MARKERS[1]},
            "communication": {
                "email": [{"address": MARKERS[2]}],
                "phone": [{"formattedNumber": MARKERS[3]}],
                "address": [{"line": MARKERS[4], "city": MARKERS[5], "countryCode": "AU"}]
            }
        }},
        "employment": [{"organization": {"name": MARKERS[6]}, "positionHistories": []}],
        "questionnaireResponses": [{"componentId": question, "answers": [{"answer": MARKERS[7]}]}],
        "attachments": [{"file": "cv", "seekRoleCode": "Resume"}]
    });
    let file_name = format!("{}.pdf", MARKERS[8]);
    let content = format!("%PDF-1.4 {} {}", MARKERS[9], "x".repeat(4096)).into_bytes();
    let (status, created) = op.ingest_multipart(body, vec![("cv", &file_name, "application/pdf", content)]).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let candidate = created["candidateId"].as_str().unwrap().to_owned();
    let before: Vec<&str> = found(dir.path()).into_iter().map(|(m, _)| m).collect();
    assert_eq!(before, MARKERS, "every marker is on disk before the erasure, so the search works");

    // Act
    let (status, erased) = op.request(Method::DELETE, &format!("/candidates/{candidate}"), None).await;
    assert_eq!(status, StatusCode::OK, "{erased}");

    // Assert: nothing while the server runs, nothing after kill -9, nothing after a clean
    // restart and shutdown.
    assert_eq!(found(dir.path()), vec![], "markers left after the erasure returned");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(found(dir.path()), vec![], "markers left after kill -9");
    let mut restarted = serve_logged(dir.path(), "debug");
    let op = Operator::new(restarted.base.clone(), OPERATOR_KEY);
    let (status, _) = op.request(Method::GET, "/hirers", None).await;
    assert_eq!(status, StatusCode::OK, "the restarted server answers");
    sigterm_and_wait(&mut restarted);
    assert_eq!(found(dir.path()), vec![], "markers left after a restart and a clean shutdown");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_and_blob_folder_are_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let server = serve_logged(dir.path(), "debug");
    let op = Operator::new(server.base.clone(), OPERATOR_KEY);
    let hirer = op.create_hirer("Modes").await;
    let position = op.create_position(&hirer, "Keeper").await;
    let mut body = minimal_application(&position, "modes@example.org");
    body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let (status, created) =
        op.ingest_multipart(body, vec![("cv", "cv.pdf", "application/pdf", b"%PDF modes".to_vec())]).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for name in ["candex.db", "candex.db-wal", "candex.db-shm"] {
        assert_eq!(mode(&dir.path().join(name)), 0o600, "{name}");
    }
    assert_eq!(mode(&dir.path().join("blobs")), 0o700, "the blob folder");
    drop(server);

    // An existing database readable by others is used, with a warning naming the fix.
    std::fs::set_permissions(dir.path().join("candex.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = serve_logged(dir.path(), "debug");
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(log.contains("can be read by other users (mode 644)") && log.contains("chmod 600"), "{log}");
    drop(server);
}
