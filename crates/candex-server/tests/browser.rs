//! The explorer and the operator API reference in a real headless Chromium (Debian's
//! `chromium` package), driven by `tests/browser/explorer.mjs` over the DevTools protocol with
//! every host but 127.0.0.1 unresolvable: the pages load offline, report no CSP violation, the
//! token form gets a partner token, and the seed query answers the profile (checked in the DOM
//! and in the network response).
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

#[tokio::test]
async fn the_explorer_gets_a_token_and_runs_the_seed_query_offline_in_chromium() {
    if let Some(why) = missing_tools() {
        let required = std::env::var("CANDEX_TEST_BROWSER").is_ok_and(|v| v == "required");
        assert!(!required, "CANDEX_TEST_BROWSER=required, but {why}");
        println!("skipped: the headless browser check needs chromium and node: {why}");
        return;
    }
    let server = TestServer::spawn().await;
    let hirer = server.create_hirer("Browser Pty Ltd").await;
    let partner = server.create_partner("Browser ATS").await;
    server.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = server.create_position(&hirer, "Front-end developer").await;
    let (profile, _) = server.apply(&position, "robin@example.com").await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/explorer.mjs");
    let mut child = tokio::process::Command::new("node");
    child
        .args(["--experimental-websocket", script, &server.base, &partner.client_id, &partner.client_secret, &profile])
        .env("CANDEX_TEST_CHROMIUM", chromium())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), child.output())
        .await
        .expect("the browser check finished within 90 s")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser check failed:\n{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("a JSON summary");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["profile"], profile.as_str());
    assert!(summary["operations"].as_u64().unwrap() >= 10, "{summary}");
}
