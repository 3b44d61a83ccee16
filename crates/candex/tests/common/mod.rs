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
    command.arg("serve").args(["--listen", "127.0.0.1:0"]).args(args);
    start_command(command, args.contains(&"--demo"))
}

/// Starts a prepared `candex serve …` command (logging at info, stdout and stderr read here)
/// and waits (up to 60 s) for its "listening" line, and with `demo` its banner too.
pub fn start_command(mut command: Command, demo: bool) -> Server {
    let child = command
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

/// The status code of `GET {base}/healthz`, over a plain socket.
pub fn healthz(base: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(addr).expect("connect");
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(socket, "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read the answer");
    answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("not HTTP: {answer:?}"))
}

/// A `candex serve --demo` whose log goes to a file (`dir/serve.log`), so that a test can search
/// it afterwards; killed and reaped when dropped.
pub struct LoggedServer {
    pub child: Child,
    pub base: String,
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `candex serve --demo` on `dir/candex.db` with `RUST_LOG=rust_log`, its output appended
/// to `dir/serve.log`, and waits (up to 60 s) for its listening line and demo banner.
pub fn serve_logged(dir: &std::path::Path, rust_log: &str) -> LoggedServer {
    let log_path = dir.join("serve.log");
    let start_len = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).unwrap();
    let db = format!("sqlite://{}", dir.join("candex.db").display());
    let child = Command::new(env!("CARGO_BIN_EXE_candex"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--database", &db])
        .env("RUST_LOG", rust_log)
        .env_remove("CANDEX_DATABASE")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start candex");
    let mut server = LoggedServer { child, base: String::new() };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read(&log_path).unwrap();
        let text = String::from_utf8_lossy(&text[usize::try_from(start_len).unwrap()..]).into_owned();
        if let Some(rest) = text.split("candex is listening on http://").nth(1) {
            let addr: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':').collect();
            if text.contains("GraphQL explorer:") {
                server.base = format!("http://{addr}");
                return server;
            }
        }
        assert!(server.child.try_wait().unwrap().is_none(), "candex exited at start:\n{text}");
        assert!(std::time::Instant::now() < deadline, "candex did not start:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file under `dir`, recursively (none when it does not exist).
pub fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
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
#[allow(unused_imports)] // not every test binary that includes this module asks for tokens
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
