//! The connection-level front door under attack, over raw sockets: half-sent request heads,
//! idle connections, too many connections, idle keep-alive connections, a stalled request body
//! and a shutdown with a client still sending its head. Each test also checks that a
//! legitimate request on a fresh connection is served while the attack runs.

use std::net::SocketAddr;
use std::time::Duration;

use candex_server::config::HttpLimits;
use candex_server::{Application, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::helpers::TestApp;

/// Slack on top of a configured timeout before a test calls the server late.
const MARGIN: Duration = Duration::from_secs(5);
const HALF_HEAD: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n";
const FULL_REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

fn limits(adjust: impl FnOnce(HttpLimits) -> HttpLimits) -> impl FnOnce(Settings) -> Settings {
    move |s| Settings { http: adjust(HttpLimits::default()), ..s }
}

fn addr(app: &TestApp) -> SocketAddr {
    app.base.trim_start_matches("http://").parse().expect("base is http://ip:port")
}

/// `GET /healthz` on a fresh connection answers 200 within a second.
async fn assert_healthz_served(base: &str) {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(1)).build().expect("client");
    let started = Instant::now();
    let res = client.get(format!("{base}/healthz")).send().await.expect("healthz answered within 1 s");
    assert_eq!(res.status(), 200, "healthz during the attack");
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// Polls `GET /healthz` on fresh connections until it answers 200, for at most `within`.
async fn eventually_healthz_served(base: &str, within: Duration) {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(1)).build().expect("client");
    let deadline = Instant::now() + within;
    loop {
        match client.get(format!("{base}/healthz")).send().await {
            Ok(res) if res.status() == 200 => return,
            other => {
                assert!(Instant::now() < deadline, "healthz not served within {within:?}: {other:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connect_many(addr: SocketAddr, n: usize, send: &[u8]) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        if !send.is_empty() {
            stream.write_all(send).await.expect("send");
        }
        streams.push(stream);
    }
    streams
}

/// Whether the server closes `stream` (a read returns 0 or fails) before `deadline`; bytes the
/// server sends first (e.g. an error response) are skipped.
async fn closed_by(mut stream: TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// How many of `streams` the server has not closed by `deadline`.
async fn still_open(streams: Vec<TcpStream>, deadline: Instant) -> usize {
    let closed = futures::future::join_all(streams.into_iter().map(|s| closed_by(s, deadline))).await;
    closed.into_iter().filter(|closed| !closed).count()
}

/// Whether `stream` is still open: nothing to read and no end of stream, right now.
async fn is_open(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(20), stream.peek(&mut buf)).await.is_err()
}

/// Reads one HTTP/1.1 response with a `content-length` body: the head (lowercased) and body.
async fn read_response(stream: &mut TcpStream, within: Duration) -> (String, Vec<u8>) {
    let deadline = Instant::now() + within;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().expect("numeric content-length"))
                .expect("a content-length header");
            let body_start = end + 4;
            if data.len() >= body_start + length {
                assert_eq!(data.len(), body_start + length, "nothing after the body");
                return (head, data[body_start..].to_vec());
            }
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("response within the deadline")
            .expect("read the response");
        assert!(n > 0, "connection closed before a complete response: {:?}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn slowloris_connections_are_closed_at_the_header_read_timeout_and_others_are_served() {
    let timeout = Duration::from_secs(2);
    let app = TestApp::spawn_with(limits(|l| HttpLimits { header_read_timeout: timeout, ..l })).await;
    let attack = connect_many(addr(&app), 500, HALF_HEAD).await;
    let attack_started = Instant::now();

    assert_healthz_served(&app.base).await;

    let open = still_open(attack, attack_started + timeout + MARGIN).await;
    assert_eq!(open, 0, "half-sent heads still open after the header read timeout");
}

#[tokio::test]
async fn idle_connections_do_not_starve_the_server_and_are_closed() {
    let app = TestApp::spawn_with(limits(|l| HttpLimits {
        header_read_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(3),
        ..l
    }))
    .await;
    let attack = connect_many(addr(&app), 600, b"").await;
    let attack_started = Instant::now();

    assert_healthz_served(&app.base).await;

    let open = still_open(attack, attack_started + Duration::from_secs(2) + MARGIN).await;
    assert_eq!(open, 0, "silent connections still open after the header read timeout");
}

#[tokio::test]
async fn a_connection_beyond_the_limit_is_answered_503_and_closed() {
    let app = TestApp::spawn_with(limits(|l| HttpLimits {
        max_connections: 20,
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        ..l
    }))
    .await;
    let mut held = connect_many(addr(&app), 20, b"").await;

    let mut extra = TcpStream::connect(addr(&app)).await.expect("connect");
    extra.write_all(FULL_REQUEST).await.expect("send");
    let (head, body) = read_response(&mut extra, MARGIN).await;
    assert!(head.starts_with("http/1.1 503 service unavailable"), "{head}");
    assert!(head.contains("\r\nretry-after: 1"), "{head}");
    assert!(head.contains("\r\nconnection: close"), "{head}");
    assert!(!body.is_empty());
    assert!(closed_by(extra, Instant::now() + MARGIN).await, "a refused connection is closed");

    // A client library sees the same refusal while the limit is reached.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(MARGIN).build().expect("client");
    let refused = client.get(format!("{}/healthz", app.base)).send().await.expect("an answer");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));

    for stream in &mut held {
        assert!(is_open(stream).await, "held connections are kept");
    }
    drop(held);
    eventually_healthz_served(&app.base, MARGIN).await;
}

#[tokio::test]
async fn an_http2_connection_that_never_sends_a_request_is_closed() {
    let timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(limits(|l| HttpLimits {
        header_read_timeout: timeout,
        idle_timeout: Duration::from_secs(60),
        ..l
    }))
    .await;
    let mut stream = TcpStream::connect(addr(&app)).await.expect("connect");
    // The h2c prior-knowledge preface and an empty SETTINGS frame, then silence.
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.expect("send preface");
    stream.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.expect("send settings");
    let sent = Instant::now();

    assert_healthz_served(&app.base).await;

    assert!(closed_by(stream, sent + timeout + MARGIN).await, "silent HTTP/2 connection not closed");
    assert!(sent.elapsed() >= timeout / 2, "closed after {:?}", sent.elapsed());
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_its_request() {
    let idle = Duration::from_secs(1);
    let app = TestApp::spawn_with(limits(|l| HttpLimits {
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: idle,
        ..l
    }))
    .await;
    let stream = TcpStream::connect(addr(&app)).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .expect("h2c handshake");
    let connection = tokio::spawn(connection);
    let request = hyper::Request::get(format!("{}/healthz", app.base))
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("an HTTP/2 answer");
    assert_eq!(response.status(), 200);
    let answered = Instant::now();

    assert_healthz_served(&app.base).await;

    tokio::time::timeout_at(answered + idle + MARGIN, connection)
        .await
        .expect("idle HTTP/2 connection closed by the server")
        .expect("connection task")
        .ok();
    assert!(answered.elapsed() >= idle / 2, "closed after {:?}", answered.elapsed());
}

/// A kept-alive connection that answered one request and then sits idle is closed by
/// `header_read_timeout` (HTTP/1's wait for the next head) or `idle_timeout`, the shorter.
async fn keep_alive_connection_is_closed_after(http: HttpLimits, expected: Duration) {
    let app = TestApp::spawn_with(limits(|_| http)).await;
    let mut stream = TcpStream::connect(addr(&app)).await.expect("connect");
    stream.write_all(FULL_REQUEST).await.expect("send");
    let (head, _) = read_response(&mut stream, MARGIN).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let answered = Instant::now();

    assert_healthz_served(&app.base).await;
    assert!(is_open(&mut stream).await, "kept alive after the response");

    assert!(closed_by(stream, answered + expected + MARGIN).await, "idle keep-alive connection not closed");
    // The server cannot have closed it before the limit (measured from after the response,
    // which the server finished writing earlier, hence the half).
    assert!(answered.elapsed() >= expected / 2, "closed after {:?}, limit {expected:?}", answered.elapsed());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_by_the_header_read_timeout() {
    let http = HttpLimits {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(60),
        ..HttpLimits::default()
    };
    keep_alive_connection_is_closed_after(http, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_by_the_idle_timeout() {
    let http = HttpLimits {
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(1),
        ..HttpLimits::default()
    };
    keep_alive_connection_is_closed_after(http, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_stalled_request_body_is_answered_408_at_the_request_timeout() {
    let timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(limits(|l| HttpLimits {
        request_timeout: timeout,
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        ..l
    }))
    .await;
    let mut stream = TcpStream::connect(addr(&app)).await.expect("connect");
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":")
        .await
        .expect("send");
    let sent = Instant::now();

    assert_healthz_served(&app.base).await;

    let (head, _) = read_response(&mut stream, timeout + MARGIN).await;
    assert!(head.starts_with("http/1.1 408"), "{head}");
    assert!(sent.elapsed() >= timeout / 2, "answered after {:?}", sent.elapsed());
}

#[tokio::test]
async fn shutdown_returns_within_the_grace_period_despite_a_half_sent_head() {
    let grace = Duration::from_secs(1);
    let database = candex_testkit::scratch_store().await;
    let settings = Settings {
        http: HttpLimits {
            header_read_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: grace,
            ..HttpLimits::default()
        },
        ..Settings::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let app = Application::build(settings, database.store.clone(), listener).await.expect("build app");
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let mut stalled = TcpStream::connect(addr).await.expect("connect");
    stalled.write_all(HALF_HEAD).await.expect("send");
    assert_healthz_served(&format!("http://{addr}")).await;
    assert!(is_open(&mut stalled).await, "the stalled client is still connected");

    let signalled = Instant::now();
    stop.send(()).expect("server running");
    let result = tokio::time::timeout(grace + Duration::from_secs(2), running)
        .await
        .expect("run_until_stopped returned within the grace period");
    result.expect("server task").expect("server stopped cleanly");
    assert!(signalled.elapsed() < grace + Duration::from_secs(2));
    assert!(closed_by(stalled, Instant::now() + MARGIN).await, "the stalled connection is dropped");
}

#[tokio::test]
async fn requests_carry_the_peer_address_for_per_address_budgets() {
    // Per-address budgets apply only when the router sees the TCP peer (`ConnectInfo`).
    let app = TestApp::spawn_with(|s| Settings {
        rate_limits: candex_server::config::RateLimits {
            anonymous_graphql_per_address: candex_server::config::Rate::new(1, 2),
            ..s.rate_limits
        },
        ..s
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let res = app
            .client
            .post(format!("{}/graphql", app.base))
            .json(&serde_json::json!({"query": "{ __typename }"}))
            .send()
            .await
            .expect("graphql answered");
        statuses.push(res.status().as_u16());
    }
    assert!(statuses.contains(&429), "an anonymous burst beyond the per-address budget: {statuses:?}");
}
