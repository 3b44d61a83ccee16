//! What the process-level tests share: starting `candex serve` on 127.0.0.1:0 and reading its
//! port from the log, JSON requests, partner tokens, and a minimal webhook receiver.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

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

/// Starts `candex serve` and waits (up to 60 s) for its "listening" line.
pub fn start(args: &[&str]) -> Server {
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

pub async fn post_json(client: &reqwest::Client, url: &str, bearer: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = client.post(url).json(body);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.expect("request");
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

pub async fn token(client: &reqwest::Client, base: &str, id: &str, secret: &str) -> String {
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

/// A webhook receiver that answers 500 until `recover()`, then 200 and records the
/// `candidateApplicationProfileId`s it acknowledged.
pub struct MiniReceiver {
    pub url: String,
    ok: std::sync::Arc<std::sync::atomic::AtomicBool>,
    delivered: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl MiniReceiver {
    /// A receiver that fails (500) until `recover()`.
    pub async fn start() -> Self {
        Self::start_answering(false).await
    }

    /// A receiver that acknowledges from the start when `ok`.
    pub async fn start_answering(ok: bool) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let ok = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(ok));
        let delivered = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
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
                                let id = e["candidateApplicationProfileId"].as_str().unwrap_or_default().to_owned();
                                *d.entry(id).or_insert(0) += 1;
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

    pub fn recover(&self) {
        self.ok.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The profile ids of the events acknowledged.
    pub fn delivered(&self) -> std::collections::HashSet<String> {
        self.delivered.lock().unwrap().keys().cloned().collect()
    }

    /// How many event copies were acknowledged, duplicates included.
    pub fn deliveries(&self) -> usize {
        self.delivered.lock().unwrap().values().sum()
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
