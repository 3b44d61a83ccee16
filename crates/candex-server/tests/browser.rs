//! candex in a real headless Chromium (Debian's `chromium` package), driven over the DevTools
//! protocol by the scripts in `tests/browser/` with every host but 127.0.0.1 unresolvable:
//! - the explorer and the operator API reference load offline and report no CSP violation;
//!   the token form gets a partner token and the seed query answers the profile (checked in
//!   the DOM and in the network response);
//! - a page of another origin (the partner's web app) uses a browser token to query
//!   `/graphql` and download an attachment, allowed by `--cors-allow-origin`, and is refused
//!   by the browser when its origin is not allowed.
//!
//! Skipped, saying so, when `chromium` (or `CANDEX_TEST_CHROMIUM`) or Node.js ≥ 20 is missing,
//! unless `CANDEX_TEST_BROWSER=required`.

use std::process::Command;
use std::time::Duration;

use candex_testkit::TestServer;

fn chromium() -> String {
    std::env::var("CANDEX_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned())
}

/// Why the browser check cannot run here, if it cannot.
fn missing_tools() -> Option<String> {
    let runs =
        |program: &str, args: &[&str]| Command::new(program).args(args).output().is_ok_and(|o| o.status.success());
    if !runs(&chromium(), &["--version"]) {
        return Some(format!("`{}` not found (apt-get install chromium, or set CANDEX_TEST_CHROMIUM)", chromium()));
    }
    if !runs("node", &["--experimental-websocket", "-e", "if (typeof WebSocket !== 'function') process.exit(1)"]) {
        return Some("Node.js with WebSocket (20 or later) not found".to_owned());
    }
    None
}

/// Runs `node --experimental-websocket tests/browser/<script> args…` and returns its stdout.
async fn run_script(script: &str, args: &[&str]) -> String {
    let path = format!("{}/tests/browser/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut child = tokio::process::Command::new("node");
    child
        .arg("--experimental-websocket")
        .arg(&path)
        .args(args)
        .env("CANDEX_TEST_CHROMIUM", chromium())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), child.output())
        .await
        .expect("the browser check finished within 90 s")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    stdout
}

/// Whether to skip, saying why; panics instead under `CANDEX_TEST_BROWSER=required`.
fn skip() -> bool {
    let Some(why) = missing_tools() else { return false };
    let required = std::env::var("CANDEX_TEST_BROWSER").is_ok_and(|v| v == "required");
    assert!(!required, "CANDEX_TEST_BROWSER=required, but {why}");
    println!("skipped: the headless browser check needs chromium and node: {why}");
    true
}

#[tokio::test]
async fn the_explorer_gets_a_token_and_runs_the_seed_query_offline_in_chromium() {
    if skip() {
        return;
    }
    let server = TestServer::spawn().await;
    let hirer = server.create_hirer("Browser Pty Ltd").await;
    let partner = server.create_partner("Browser ATS").await;
    server.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = server.create_position(&hirer, "Front-end developer").await;
    let (profile, _) = server.apply(&position, "robin@example.com").await;

    let stdout =
        run_script("explorer.mjs", &[&server.base, &partner.client_id, &partner.client_secret, &profile]).await;
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("a JSON summary");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["profile"], profile.as_str());
    assert!(summary["operations"].as_u64().unwrap() >= 10, "{summary}");
}

/// The partner web app: an HTML page and its script (`tests/browser/partner_app.js`) on
/// 127.0.0.1 at another port than candex, so another origin.
async fn partner_app() -> String {
    use axum::response::Html;
    let page = Html(r#"<!doctype html><html><body><pre id="out"></pre><script src="/app.js"></script></body></html>"#);
    let script = include_str!("browser/partner_app.js");
    let app = axum::Router::new()
        .route("/", axum::routing::get(move || async move { page }))
        .route("/app.js", axum::routing::get(move || async move { ([("content-type", "text/javascript")], script) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

/// A server allowing `origins`, with a hirer, a related partner, an application with a
/// resume, and a browser token for the hirer: `(server, browser token, attachment URL, resume)`.
async fn world_with_a_resume(origins: Vec<String>) -> (TestServer, String, String, Vec<u8>) {
    let server = TestServer::spawn_with(move |mut s| {
        s.cors_allowed_origins = origins;
        s
    })
    .await;
    let hirer = server.create_hirer("Cross Origin Pty Ltd").await;
    let partner = server.create_partner("Web ATS").await;
    server.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = server.create_position(&hirer, "Designer").await;
    let mut body = candex_testkit::minimal_application(&position, "sam@example.com");
    body["attachments"] = serde_json::json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let resume = b"%PDF-1.4\nSam's resume".to_vec();
    let (status, created) =
        server.ingest_multipart(body, vec![("cv", "Sam résumé.pdf", "application/pdf", resume.clone())]).await;
    assert_eq!(status, 201, "{created}");
    let partner_token = server.token(&partner).await;
    let answer: serde_json::Value = server
        .client
        .post(format!("{}/graphql", server.base))
        .bearer_auth(&partner_token)
        .json(&serde_json::json!({
            "query": "query ($id: String!) { candidateProfile(id: $id) { attachments { url } } }",
            "variables": {"id": created["candidateProfileId"]},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = answer["data"]["candidateProfile"]["attachments"][0]["url"].as_str().expect("attachment url").to_owned();
    let browser: serde_json::Value = server
        .client
        .post(format!("{}/auth/token", server.base))
        .bearer_auth(&partner_token)
        .json(&serde_json::json!({
            "hirerId": hirer,
            "scope": "query:organizations download:candidate-profile-attachments",
            "userId": "u-1",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = browser["access_token"].as_str().expect("browser token").to_owned();
    (server, token, url, resume)
}

async fn visit(origin: &str, server: &TestServer, token: &str, download: &str) -> serde_json::Value {
    let config =
        serde_json::json!({"graphql": format!("{}/graphql", server.base), "download": download, "token": token});
    let fragment: String = url::form_urlencoded::byte_serialize(config.to_string().as_bytes()).collect();
    let stdout = run_script("cross_origin.mjs", &[&format!("{origin}/#{}", fragment.replace('+', "%20"))]).await;
    serde_json::from_str(stdout.trim()).expect("the page's findings")
}

#[tokio::test]
async fn a_page_of_an_allowed_origin_queries_and_downloads_with_a_browser_token() {
    if skip() {
        return;
    }
    let origin = partner_app().await;
    let (server, token, download, resume) = world_with_a_resume(vec![origin.clone()]).await;
    let seen = visit(&origin, &server, &token, &download).await;
    assert_eq!(seen["graphql"]["status"], 200, "{seen}");
    assert_eq!(seen["graphql"]["body"]["data"]["self"]["hirer"]["name"], "Cross Origin Pty Ltd", "{seen}");
    assert_eq!(seen["download"]["status"], 200, "{seen}");
    assert_eq!(seen["download"]["size"], resume.len(), "{seen}");
    let disposition = seen["download"]["disposition"].as_str().expect("Content-Disposition readable by the page");
    assert!(disposition.starts_with("attachment") && disposition.contains("filename"), "{disposition}");

    // The same page, from an origin the server does not allow: the browser refuses both.
    let (server, token, download, _) = world_with_a_resume(vec!["https://another-app.example".into()]).await;
    let seen = visit(&origin, &server, &token, &download).await;
    assert!(seen["graphql"]["blocked"].as_str().is_some_and(|e| e.contains("Failed to fetch")), "{seen}");
    assert!(seen["download"]["blocked"].is_string(), "{seen}");
}
