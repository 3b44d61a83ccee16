//! A webhook receiver on 127.0.0.1:0 speaking just enough HTTP/1.1 by hand to misbehave on
//! purpose: answer any status, hang past the sender's timeout, or reset the connection. It
//! records every request, and tests poll it for what arrived with a timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the receiver does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer with this status (and an empty body).
    Status(u16),
    /// Answer 429 or 503 with `Retry-After: n` seconds.
    RetryAfter(u16, u64),
    /// Read the request, then say nothing for this long and close.
    Hang(Duration),
    /// Read the request, then reset the connection (RST) without answering.
    Reset,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    /// The exact body bytes.
    pub body: Vec<u8>,
    /// What the receiver did with it.
    pub behaviour: Behaviour,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }

    /// Whether the receiver acknowledged it (2xx).
    pub fn acknowledged(&self) -> bool {
        matches!(self.behaviour, Behaviour::Status(s) if (200..300).contains(&s))
    }

    /// The event ids of the body.
    pub fn event_ids(&self) -> Vec<String> {
        self.json()["events"].as_array().expect("events").iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    }
}

type Decide = dyn Fn(usize) -> Behaviour + Send + Sync;

/// A running receiver.
pub struct Receiver {
    /// Where to send webhooks: `http://127.0.0.1:port/webhooks`.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    decide: Arc<Mutex<Arc<Decide>>>,
}

impl Receiver {
    /// Starts a receiver; `decide(n)` picks the behaviour for the n-th request (from 0).
    pub async fn start(decide: impl Fn(usize) -> Behaviour + Send + Sync + 'static) -> Receiver {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.expect("bind receiver"), decide)
    }

    /// Starts a receiver on a bound listener.
    pub fn start_on(listener: TcpListener, decide: impl Fn(usize) -> Behaviour + Send + Sync + 'static) -> Receiver {
        let url = format!("http://{}/webhooks", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let decide: Arc<Mutex<Arc<Decide>>> = Arc::new(Mutex::new(Arc::new(decide)));
        let (r, d) = (received.clone(), decide.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (r, d) = (r.clone(), d.clone());
                tokio::spawn(async move { serve_connection(stream, r, d).await });
            }
        });
        Receiver { url, received, decide }
    }

    /// Changes the behaviour from now on.
    pub fn set(&self, decide: impl Fn(usize) -> Behaviour + Send + Sync + 'static) {
        *self.decide.lock().unwrap() = Arc::new(decide);
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many times each event id was acknowledged.
    pub fn acknowledged_counts(&self) -> HashMap<String, usize> {
        self.acknowledged_counts_by("id")
    }

    /// How many times each value of the events' `field` (`candidateApplicationProfileId`, say)
    /// was acknowledged; events without it are not counted.
    pub fn acknowledged_counts_by(&self, field: &str) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for r in self.received().iter().filter(|r| r.acknowledged()) {
            for event in r.json()["events"].as_array().expect("events") {
                if let Some(value) = event[field].as_str() {
                    *counts.entry(value.to_owned()).or_insert(0) += 1;
                }
            }
        }
        counts
    }

    /// Polls every 20 ms until `done(&received)` holds; `false` when `timeout` passed first.
    pub async fn poll(&self, timeout: Duration, done: impl Fn(&[Received]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.received()) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls until `done(&received)` holds, failing the test after `timeout`, naming `what` it waited for.
    pub async fn wait_for(&self, timeout: Duration, what: &str, done: impl Fn(&[Received]) -> bool) {
        assert!(self.poll(timeout, done).await, "timed out after {timeout:?} waiting for {what}");
    }
}

async fn serve_connection(mut stream: TcpStream, received: Arc<Mutex<Vec<Received>>>, decide: Arc<Mutex<Arc<Decide>>>) {
    let mut buf = Vec::new();
    loop {
        // Headers.
        let header_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
        let headers: HashMap<String, String> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < header_end + length {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[header_end..header_end + length].to_vec();
        buf.drain(..header_end + length);
        let behaviour = {
            let mut all = received.lock().unwrap();
            let decide = decide.lock().unwrap().clone();
            let behaviour = decide(all.len());
            all.push(Received { headers, body, behaviour, at: std::time::Instant::now() });
            behaviour
        };
        match behaviour {
            Behaviour::Status(status) => {
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
            Behaviour::RetryAfter(status, secs) => {
                let answer = format!("HTTP/1.1 {status} X\r\nretry-after: {secs}\r\ncontent-length: 0\r\n\r\n");
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
            Behaviour::Hang(d) => {
                tokio::time::sleep(d).await;
                return;
            }
            Behaviour::Reset => {
                // A zero linger makes the close an RST; with zero it never blocks, which is
                // what the deprecation warns about.
                #[allow(deprecated)]
                let _ = stream.set_linger(Some(Duration::ZERO));
                return;
            }
        }
    }
}
