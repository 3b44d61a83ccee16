//! `candex serve` as a process: the demo works as the README says, and an acknowledged ingest
//! survives SIGKILL. Servers bind 127.0.0.1:0 and report their port in the startup log.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

struct Server {
    child: Child,
    base: String,
    stdout: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `candex serve` and waits (up to 60 s) for its "listening" line.
fn start(args: &[&str]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_candex"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "info")
        .env_remove("CANDEX_DATABASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start candex");
    // Owned by `Server` at once, so that a failed start still kills and reaps the child.
    let mut server = Server { child, base: String::new(), stdout: String::new() };
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = server.child.stderr.take().expect("stderr");
    let tx_err = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx_err.send(format!("E {line}"));
        }
    });
    let stdout = server.child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(format!("O {line}"));
        }
    });
    // With --demo, the banner on stdout must be complete too (the two pipes race).
    let demo = args.contains(&"--demo");
    let mut listening = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut out = String::new();
    let mut seen = String::new();
    loop {
        let remaining = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx.recv_timeout(remaining).unwrap_or_else(|_| panic!("candex did not start; output:\n{seen}"));
        seen.push_str(&line);
        seen.push('\n');
        if let Some(o) = line.strip_prefix("O ") {
            out.push_str(o);
            out.push('\n');
        }
        if let Some(rest) = line.split("candex is listening on http://").nth(1) {
            listening =
                Some(rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':').collect::<String>());
        }
        if let Some(addr) = &listening {
            if !demo || out.contains("GraphQL explorer:") {
                server.base = format!("http://{addr}");
                server.stdout = out;
                return server;
            }
        }
    }
}

async fn post_json(client: &reqwest::Client, url: &str, bearer: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = client.post(url).json(body);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.expect("request");
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn token(client: &reqwest::Client, base: &str, id: &str, secret: &str) -> String {
    let (status, body) = post_json(
        client,
        &format!("{base}/oauth/token"),
        None,
        &json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("access_token").to_owned()
}

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
    let receiver = MiniReceiver::start().await;
    let mut server = start(&args);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let op = |path: &str| format!("{base}/operator/v1{path}");
    let (_, hirer) = post_json(&client, &op("/hirers"), Some("k"), &json!({"name": "Acme"})).await;
    let (_, partner) = post_json(&client, &op("/partners"), Some("k"), &json!({"name": "ATS"})).await;
    let rel = client
        .put(op(&format!(
            "/partners/{}/relationships/{}",
            partner["id"].as_str().unwrap(),
            hirer["id"].as_str().unwrap()
        )))
        .bearer_auth("k")
        .json(&json!({"relationshipTypeCodes": ["ApplicationExport"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(rel.status(), 200);
    let (_, position) =
        post_json(&client, &op("/positions"), Some("k"), &json!({"hirerId": hirer["id"], "positionTitle": "Role"}))
            .await;
    let token0 =
        token(&client, &base, partner["clientId"].as_str().unwrap(), partner["clientSecret"].as_str().unwrap()).await;
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
        let (status, created) = post_json(&client, &op("/applications"), Some("k"), &body).await;
        assert_eq!(status, 201, "{created}");
        acknowledged.push(created["candidateProfileId"].as_str().unwrap().to_owned());
    }

    // SIGKILL: no shutdown hook runs, nothing is flushed on the way out.
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    drop(server);

    assert!(receiver.delivered().is_empty(), "nothing was acknowledged before the kill");
    receiver.recover();
    let server = start(&args);
    let token =
        token(&client, &server.base, partner["clientId"].as_str().unwrap(), partner["clientSecret"].as_str().unwrap())
            .await;
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
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let delivered = receiver.delivered();
        if acknowledged.iter().all(|id| delivered.contains(id)) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "undelivered after restart: {} of 25 arrived", delivered.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A webhook receiver that answers 500 until `recover()`, then 200 and records the
/// `candidateApplicationProfileId`s it acknowledged.
struct MiniReceiver {
    url: String,
    ok: std::sync::Arc<std::sync::atomic::AtomicBool>,
    delivered: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl MiniReceiver {
    async fn start() -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let ok = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let delivered = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let (ok2, delivered2) = (ok.clone(), delivered.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (ok, delivered) = (ok2.clone(), delivered2.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    loop {
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) else {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        while buf.len() < end + len {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let body: Value = serde_json::from_slice(&buf[end..end + len]).unwrap_or(Value::Null);
                        buf.drain(..end + len);
                        let status = if ok.load(std::sync::atomic::Ordering::SeqCst) {
                            let mut d = delivered.lock().unwrap();
                            for e in body["events"].as_array().into_iter().flatten() {
                                d.insert(e["candidateApplicationProfileId"].as_str().unwrap_or_default().to_owned());
                            }
                            200
                        } else {
                            500
                        };
                        let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, ok, delivered }
    }

    fn recover(&self) {
        self.ok.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn delivered(&self) -> std::collections::HashSet<String> {
        self.delivered.lock().unwrap().clone()
    }
}

#[test]
fn sigterm_shuts_the_server_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut server = start(&["--database", &db]);
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            assert!(exit.success(), "exit after SIGTERM: {exit:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "did not stop within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
