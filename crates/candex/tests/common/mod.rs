//! What the process-level tests share: starting `candex serve` on 127.0.0.1:0 and reading its
//! port from the log, and JSON requests. Operator calls, partner tokens and the webhook
//! receiver come from candex-testkit.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub struct Server {
    pub child: Child,
    pub base: String,
    pub stdout: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The master key (base64 of 32 bytes) `start` gives servers started without `--demo`.
pub const TEST_MASTER_KEY: &str = "dGVzdC1tYXN0ZXIta2V5LW9mLTMyLWJ5dGVzLWV4YWM=";

/// Starts `candex serve` and waits (up to 60 s) for its "listening" line.
pub fn start(args: &[&str]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_candex"));
    command.env_remove("CANDEX_MASTER_KEY").env_remove("CANDEX_MASTER_KEY_FILE");
    // Outside --demo a master key is required: the tests' own unless they name one.
    if !args.iter().any(|a| *a == "--demo" || a.starts_with("--master-key")) {
        command.env("CANDEX_MASTER_KEY", TEST_MASTER_KEY);
    }
    let child = command
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

pub async fn post_json(client: &reqwest::Client, url: &str, bearer: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = client.post(url).json(body);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.expect("request");
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

/// A partner's access token from `{base}/oauth/token`.
pub use candex_testkit::partner_token as token;

/// The `candidateApplicationProfileId`s of the events `receiver` acknowledged, each with how
/// many times it was.
pub fn delivered(receiver: &candex_testkit::receiver::Receiver) -> std::collections::HashMap<String, usize> {
    receiver.acknowledged_counts_by("candidateApplicationProfileId")
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
