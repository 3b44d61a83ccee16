//! `candex serve` as a process: the demo works as the README says, and an acknowledged ingest
//! survives SIGKILL. Servers bind 127.0.0.1:0 and report their port in the startup log.

mod common;

use std::time::Duration;

use candex_testkit::receiver::{Behaviour, Receiver};
use candex_testkit::Operator;
use common::{delivered, post_json, start, token};
use serde_json::{json, Value};

async fn run_attachments(client: &reqwest::Client, base: &str, token: &str, profile_id: &str) -> (u16, Value) {
    let query = "query ($id: String!) { candidateProfile(id: $id) { attachments { url seekRoleCode } } }";
    post_json(
        client,
        &format!("{base}/graphql"),
        Some(token),
        &json!({"query": query, "variables": {"id": profile_id}}),
    )
    .await
}

fn banner_values(out: &str, key: &str) -> Vec<String> {
    out.lines().filter_map(|l| l.trim().strip_prefix(key)).map(|v| v.trim().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_credentials_that_run_the_seed_query() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let server = start(&["--demo", "--database", &db]);
    // The banner names the credentials and a profile id; use them as a new user would.
    let out = server.stdout.clone();
    let (ids, secrets) = (banner_values(&out, "client_id"), banner_values(&out, "client_secret"));
    assert_eq!((ids.len(), secrets.len()), (2, 2), "{out}");
    let profile_id =
        out.split("\"id\":\"").nth(1).and_then(|s| s.split('"').next()).expect("profile id in the curl").to_owned();
    assert!(out.contains("demo-operator-key"));
    let client = reqwest::Client::new();
    let query = candex_server::graphql::SEED_QUERY;
    let run = |token: String| {
        let client = client.clone();
        let url = format!("{}/graphql", server.base);
        let profile_id = profile_id.clone();
        async move {
            post_json(&client, &url, Some(&token), &json!({"query": query, "variables": {"id": profile_id}})).await
        }
    };
    let (status, r) = run(token(&client, &server.base, &ids[0], &secrets[0]).await).await;
    assert_eq!(status, 200);
    assert!(r.get("errors").is_none(), "{r}");
    let p = &r["data"]["candidateProfile"];
    assert_eq!(p["profileId"]["value"], profile_id);
    for key in ["employment", "education", "certifications", "qualifications"] {
        assert!(!p[key].as_array().unwrap().is_empty(), "the demo's first profile has {key}: {p}");
    }
    assert!(!p["candidate"]["person"]["communication"]["phone"].as_array().unwrap().is_empty());
    // The other demo partner has no ApplicationExport with this hirer: FORBIDDEN.
    let (_, r) = run(token(&client, &server.base, &ids[1], &secrets[1]).await).await;
    assert_eq!(r["data"]["candidateProfile"], Value::Null);
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // The README's walk uses these literal values; keep it true.
    let readme = include_str!("../../../README.md");
    for value in ids.iter().chain(&secrets).chain([&profile_id]) {
        assert!(readme.contains(value.as_str()), "README.md does not show the demo's {value}");
    }
    let hirers: Value = client
        .get(format!("{}/operator/v1/hirers", server.base))
        .bearer_auth("demo-operator-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, r) =
        run_attachments(&client, &server.base, &token(&client, &server.base, &ids[0], &secrets[0]).await, &profile_id)
            .await;
    let resume =
        r["data"]["candidateProfile"]["attachments"][0]["url"].as_str().expect("the first demo profile has a resume");
    let resume_path = resume.strip_prefix(&server.base).expect("absolute URL on the server");
    assert!(readme.contains(resume_path), "README.md does not show the demo resume's URL {resume_path}");
    let acme = hirers.as_array().unwrap().iter().find(|h| h["name"] == "Acme Recruitment Pty Ltd").expect("Acme");
    assert!(readme.contains(acme["id"].as_str().unwrap()), "README.md does not show Acme's id");
    drop(server);

    // A restart with --demo recognises the loaded demo and prints the same credentials.
    let again = start(&["--demo", "--database", &db]);
    assert!(again.stdout.contains("already loaded"), "{}", again.stdout);
    assert!(again.stdout.contains(&secrets[0]));
    assert!(again.stdout.contains(&profile_id));
}

/// Without a master key `serve` refuses to start and says how to make one; `--demo` makes one
/// beside its database, owner-only, and says where.
#[test]
fn serve_needs_a_master_key_outside_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("prod.db").display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_candex"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .env_remove("CANDEX_MASTER_KEY")
        .env_remove("CANDEX_MASTER_KEY_FILE")
        .output()
        .expect("run candex");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no master key configured"), "{stderr}");
    assert!(
        stderr.contains("candex admin master-key generate --out") && stderr.contains("--master-key-file"),
        "{stderr}"
    );

    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let server = start(&["--demo", "--database", &db]);
    let key = dir.path().join("demo.db.master-key");
    assert!(key.exists(), "{}", server.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_ingests_survive_sigkill_and_their_events_are_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("durable.db").display());
    let args = [
        "--database",
        db.as_str(),
        "--operator-key",
        "k",
        "--allow-private-webhook-targets",
        "--webhook-timeout-ms",
        "1000",
        "--webhook-retry-base-ms",
        "50",
        "--webhook-retry-max-secs",
        "1",
    ];
    // The partner's webhook receiver is down (500) until the server has been killed.
    let receiver = Receiver::start(|_| Behaviour::Status(500)).await;
    let mut server = start(&args);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let operator = Operator::new(&base, "k");
    let hirer = operator.create_hirer("Acme").await;
    let partner = operator.create_partner("ATS").await;
    operator.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = operator.post_position(json!({"hirerId": hirer, "positionTitle": "Role"})).await;
    let token0 = token(&client, &base, &partner.client_id, &partner.client_secret).await;
    let (_, created) = post_json(
        &client,
        &format!("{base}/graphql"),
        Some(&token0),
        &json!({"query": "mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) {
            __typename } }", "variables": {"i": {"webhookSubscription": {
            "eventTypeCode": "CandidateApplicationCreated", "schemeId": "seekAnzPublicTest", "url": receiver.url,
            "signingAlgorithmCode": "SeekHmacSha512", "secret": "0123456789abcdef0123"}}}}),
    )
    .await;
    assert_eq!(created["data"]["createWebhookSubscription"]["__typename"], "CreateWebhookSubscriptionPayload_Success");
    let mut acknowledged = Vec::new();
    for i in 0..25 {
        let body = json!({"positionProfileId": position["id"], "candidate": {"person": {
            "name": {"given": format!("P{i}")}, "communication": {"email": [{"address": format!("p{i}@example.com")}]}}}});
        let (status, created) = operator.ingest(body).await;
        assert_eq!(status, 201, "{created}");
        acknowledged.push(created["candidateProfileId"].as_str().unwrap().to_owned());
    }

    // SIGKILL: no shutdown hook runs, nothing is flushed on the way out.
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    drop(server);

    assert!(delivered(&receiver).is_empty(), "nothing was acknowledged before the kill");
    receiver.set(|_| Behaviour::Status(200));
    let server = start(&args);
    let token = token(&client, &server.base, &partner.client_id, &partner.client_secret).await;
    for id in &acknowledged {
        let (_, r) = post_json(
            &client,
            &format!("{}/graphql", server.base),
            Some(&token),
            &json!({"query": "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }", "variables": {"id": id}}),
        )
        .await;
        assert_eq!(r["data"]["candidateProfile"]["profileId"]["value"], json!(id), "lost after SIGKILL: {r}");
    }
    // The restarted server delivers the events queued before the kill.
    let arrived = receiver
        .poll(Duration::from_secs(60), |_| {
            let delivered = delivered(&receiver);
            acknowledged.iter().all(|id| delivered.contains_key(id))
        })
        .await;
    assert!(arrived, "undelivered after restart: {} of 25 arrived", delivered(&receiver).len());
}

/// Starts `candex serve` with stderr piped and `extra` arguments and environment, returns its
/// log lines up to and including the "listening" line (read within 60 s), and stops it.
fn startup_log(args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("logs.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_candex"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .args(args)
        .env_remove("CANDEX_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "info")
        // Outside --demo, serve needs a master key.
        .env("CANDEX_MASTER_KEY", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(candex_testkit::MASTER_KEY)
        })
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start candex");
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("candex is listening on")) {
        let remaining = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(remaining) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("candex did not start; log:\n{}", lines.join("\n"));
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn text_logs_to_a_pipe_carry_no_colour_codes() {
    let lines = startup_log(&[], &[]);
    assert!(lines.len() >= 2, "{lines:?}");
    for line in &lines {
        assert!(!line.contains("\x1b["), "ANSI escape in piped log: {line:?}");
        assert!(serde_json::from_str::<Value>(line).is_err(), "text, not JSON: {line}");
    }
}

#[test]
fn json_logs_are_one_object_per_line_by_flag_or_environment() {
    for (args, env) in [(&["--log-format", "json"][..], &[][..]), (&[][..], &[("CANDEX_LOG_FORMAT", "json")][..])] {
        let lines = startup_log(args, env);
        for line in &lines {
            assert!(!line.contains("\x1b["), "ANSI escape in JSON log: {line:?}");
            let object: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert!(object["timestamp"].is_string() && object["level"].is_string(), "{object}");
        }
        let listening = lines.last().unwrap();
        let object: Value = serde_json::from_str(listening).unwrap();
        assert_eq!(object["level"], "INFO");
        assert!(object["fields"]["message"].as_str().unwrap().starts_with("candex is listening on http://127.0.0.1:"));
    }
}

#[test]
fn serve_refuses_to_start_on_unusable_attachment_storage() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("refuse.db").display());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_candex"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .args(["--blobs", "s3://candex-stopped/blobs", "--blobs-endpoint", &endpoint])
        .envs([("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")])
        .env("CANDEX_MASTER_KEY", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(candex_testkit::MASTER_KEY)
        })
        .output()
        .expect("run candex");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to start: attachment storage s3://candex-stopped/blobs is not usable"),
        "{stderr}"
    );
    assert!(!stderr.contains("candex is listening"), "{stderr}");
}
