//! `candex serve` under attack, as a process: each attack class of the front-door issue is
//! sent to a real server over real sockets, and each test asserts that the attack is answered
//! quickly with the documented error, that the process stays up, that a legitimate partner
//! query is answered within 1 s while the attack runs, and that the server's peak memory stays
//! under [`RSS_BOUND_MB`]. A crash (a stack overflow aborts the process) fails every check.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{post_json, start, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Peak resident memory the server may reach during any of these attacks (documented in
/// docs/operators.md).
const RSS_BOUND_MB: u64 = 150;

const CLIENT_ID: &str = "12gEPLw5XRCkCu8LoY4dz6";
const CLIENT_SECRET: &str = "cdxs_2jGJznYuK64VJuZ221MkZ2szaecprwNDSw53amH9JJgz";
const PROFILE_ID: &str = "seekAnzPublicTest:candidateProfile:apply:F4mqfuqFqqBn23GAoTWi4b";

struct Target {
    server: Server,
    client: reqwest::Client,
    token: String,
    _dir: tempfile::TempDir,
}

impl Target {
    /// A demo server with `extra` flags and a partner token.
    async fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("attack.db").display());
        let mut args = vec!["--demo", "--database", &db];
        args.extend_from_slice(extra);
        let server = start(&args);
        // Refusals are checked as application/graphql-response+json, whose request errors
        // are 400 (as application/json they would be 200, per GraphQL-over-HTTP).
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("accept", reqwest::header::HeaderValue::from_static("application/graphql-response+json"));
        let client =
            reqwest::Client::builder().default_headers(headers).timeout(Duration::from_secs(30)).build().unwrap();
        let token = common::token(&client, &server.base, CLIENT_ID, CLIENT_SECRET).await;
        Self { server, client, token, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    fn addr(&self) -> String {
        self.server.base.trim_start_matches("http://").to_owned()
    }

    /// Runs the seed query on a new connection and asserts it is answered correctly within 1 s.
    async fn assert_serves_partner(&self) {
        let fresh = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let started = Instant::now();
        let (status, body) = post_json(
            &fresh,
            &self.url("/graphql"),
            Some(&self.token),
            &json!({"query": candex_server::graphql::SEED_QUERY, "variables": {"id": PROFILE_ID}}),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["candidateProfile"]["profileId"]["value"], PROFILE_ID, "{body}");
        assert!(took < Duration::from_secs(1), "the partner query took {took:?} during the attack");
    }

    /// The server's peak resident memory so far, in MiB (VmHWM).
    fn peak_rss_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.server.child.id())).expect("proc status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kb / 1024
    }

    /// The process is still running and within the memory bound.
    fn assert_healthy(&mut self) {
        assert!(self.server.child.try_wait().unwrap().is_none(), "the server exited");
        let peak = self.peak_rss_mb();
        eprintln!("server peak RSS: {peak} MiB (bound {RSS_BOUND_MB} MiB)");
        assert!(peak < RSS_BOUND_MB, "peak RSS {peak} MiB ≥ {RSS_BOUND_MB} MiB");
    }

    /// Posts a raw GraphQL body without a token.
    async fn anonymous(&self, body: &Value) -> (u16, Value) {
        post_json(&self.client, &self.url("/graphql"), None, body).await
    }
}

/// Runs `attack` over and over on `workers` tasks until the returned guard stops it; the
/// attack returns whether its answer was the documented one, and any other answer is counted.
struct Attack {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    wrong: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Attack {
    fn launch<F, Fut>(workers: usize, attack: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = bool> + Send,
    {
        let (stop, sent, wrong) = (Arc::default(), Arc::default(), Arc::default());
        let attack = Arc::new(attack);
        let tasks = (0..workers)
            .map(|_| {
                let (stop, sent, wrong, attack) =
                    (Arc::clone(&stop), Arc::clone(&sent), Arc::clone(&wrong), attack.clone());
                tokio::spawn(async move {
                    while !AtomicBool::load(&stop, Ordering::Relaxed) {
                        let ok = attack().await;
                        AtomicUsize::fetch_add(&sent, 1, Ordering::Relaxed);
                        if !ok {
                            AtomicUsize::fetch_add(&wrong, 1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        Self { stop, sent, wrong, tasks }
    }

    /// Waits until at least `n` attack requests were answered (240 s at most: a debug build
    /// on a loaded 2-core machine answers a few per second; a server stuck on the attack
    /// answers none, and the partner checks between waits catch a starved one).
    async fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(240);
        while self.sent.load(Ordering::Relaxed) < n {
            assert!(
                Instant::now() < deadline,
                "only {} attack requests answered in 240 s",
                self.sent.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the attack; returns (answered, answered otherwise than documented).
    async fn stop(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("attack task");
        }
        (self.sent.load(Ordering::Relaxed), self.wrong.load(Ordering::Relaxed))
    }
}

fn code_of(body: &Value) -> (&str, &str) {
    let ext = &body["errors"][0]["extensions"];
    (ext["code"].as_str().unwrap_or_default(), ext["limit"].as_str().unwrap_or_default())
}

/// Deep lists, deep objects and a deep variable default in the query text, and deep variables
/// JSON: each used to overflow the parser's stack and abort the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_documents_are_refused_before_parsing() {
    let mut t = Target::start(&["--rate-anonymous-per-address", "0"]).await;
    let deep_list = format!("{{ version(x: {}1{}) }}", "[".repeat(2000), "]".repeat(2000));
    let deep_object = format!("{{ version(x: {}1{}) }}", "{a: ".repeat(1500), "}".repeat(1500));
    let deep_default = format!("query ($v: [Int] = {}1{}) {{ version }}", "[".repeat(2000), "]".repeat(2000));
    let deep_variables = json!({"query": "query ($v: String) { version }"});
    let mut deep_variables = serde_json::to_string(&deep_variables).unwrap();
    deep_variables.insert_str(
        deep_variables.len() - 1,
        &format!(",\"variables\":{{\"v\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000)),
    );
    for query in [&deep_list, &deep_object, &deep_default] {
        let started = Instant::now();
        let (status, body) = t.anonymous(&json!({"query": query})).await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(status, 400, "{body}");
        assert_eq!(code_of(&body), ("GRAPHQL_LIMIT_EXCEEDED", "nesting"), "{body}");
    }
    let res = t
        .client
        .post(t.url("/graphql"))
        .header("content-type", "application/json")
        .body(deep_variables)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code_of(&body), ("GRAPHQL_LIMIT_EXCEEDED", "nesting"), "{body}");

    let attack = {
        let (client, url) = (t.client.clone(), t.url("/graphql"));
        Attack::launch(4, move || {
            let (client, url, q) = (client.clone(), url.clone(), deep_list.clone());
            async move {
                let res = client.post(&url).json(&json!({"query": q})).send().await;
                matches!(res, Ok(r) if r.status() == 400)
            }
        })
    };
    attack.wait_for(50).await;
    for _ in 0..5 {
        t.assert_serves_partner().await;
    }
    let (sent, wrong) = attack.stop().await;
    assert_eq!(wrong, 0, "{wrong} of {sent} deep documents were not refused with 400");
    t.assert_healthy();
}

fn fan_out(n: usize) -> String {
    let mut q = String::from("query { ...F0 }\n");
    for i in 0..n {
        q.push_str(&format!("fragment F{i} on Query {{ ...F{j} ...F{j} }}\n", j = i + 1));
    }
    q.push_str(&format!("fragment F{n} on Query {{ version }}\n"));
    q
}

/// 2^30 fragment fan-out, with and without a token: refused in milliseconds, one per core
/// and more, while a partner is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragment_fan_out_is_refused_at_once() {
    let mut t = Target::start(&["--rate-anonymous-per-address", "0", "--rate-partner", "0"]).await;
    let query = fan_out(30);
    for bearer in [None, Some(t.token.as_str())] {
        let started = Instant::now();
        let (status, body) = post_json(&t.client, &t.url("/graphql"), bearer, &json!({"query": query})).await;
        assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
        assert_eq!(status, 400, "{body}");
        assert_eq!(code_of(&body), ("GRAPHQL_LIMIT_EXCEEDED", "selections"), "{body}");
    }
    // A cycle would be expanded up to async-graphql's recursion limit: refused as invalid.
    let cycle = "query { ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }";
    let (status, body) = t.anonymous(&json!({"query": cycle})).await;
    assert_eq!((status, code_of(&body).0), (400, "GRAPHQL_VALIDATION_FAILED"), "{body}");

    let attack = {
        let (client, url, token) = (t.client.clone(), t.url("/graphql"), t.token.clone());
        Attack::launch(4, move || {
            let (client, url, token, q) = (client.clone(), url.clone(), token.clone(), query.clone());
            async move {
                let res = client.post(&url).bearer_auth(token).json(&json!({"query": q})).send().await;
                matches!(res, Ok(r) if r.status() == 400)
            }
        })
    };
    attack.wait_for(100).await;
    for _ in 0..5 {
        t.assert_serves_partner().await;
    }
    let (sent, wrong) = attack.stop().await;
    assert_eq!(wrong, 0, "{wrong} of {sent} fan-outs were not refused");
    t.assert_healthy();
}

/// A 256 MiB body is refused from its Content-Length before it is read, and a chunked one as
/// soon as it passes the limit; multipart is refused outright.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_multipart_bodies_are_refused_while_reading() {
    // The anonymous budget is tested on its own; here it would answer some bodies 429.
    let mut t = Target::start(&["--rate-anonymous-per-address", "0"]).await;
    // Declared: answered 413 without the body being sent at all.
    let mut stream = tokio::net::TcpStream::connect(t.addr()).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        256u64 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_head(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Chunked, four at once: each refused once it passes the limit, memory stays flat.
    let attack = {
        let (client, url) = (t.client.clone(), t.url("/graphql"));
        Attack::launch(4, move || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let chunk = bytes::Bytes::from(vec![b' '; 1 << 20]);
                let body = futures::stream::iter((0..256).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
                let res = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(reqwest::Body::wrap_stream(body))
                    .send()
                    .await;
                // The server answers and closes mid-body; a client may see the 413 or, having
                // its write cut, an error. Either way nothing was buffered past the limit.
                let refused = match &res {
                    Ok(r) => r.status() == 413,
                    Err(e) => e.is_request() || e.is_body(),
                };
                if !refused {
                    eprintln!("a 256 MiB body was answered otherwise: {res:?}");
                }
                refused
            }
        })
    };
    attack.wait_for(8).await;
    for _ in 0..3 {
        t.assert_serves_partner().await;
    }
    let (sent, wrong) = attack.stop().await;
    assert_eq!(wrong, 0, "{wrong} of {sent} 256 MiB bodies were not refused");

    let res = t
        .client
        .post(t.url("/graphql"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    t.assert_healthy();
}

/// Reads an HTTP response head (up to the blank line) from `stream`, 10 s at most.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// 600 distinct 30 KB documents without a token, then 300 distinct ones with a token: none of
/// the first is cached (they are valid, but the caller is not authenticated), and the cache's
/// byte budget bounds the second. (`__typename` aliases keep each request cheap in a debug
/// build; what is measured is the document, not its fields.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_documents_do_not_grow_memory() {
    let mut t = Target::start(&["--rate-anonymous-per-address", "0", "--rate-partner", "0"]).await;
    let document = |i: usize| {
        let mut q = format!("query Q{i} {{ ");
        let mut n = 0;
        while q.len() < 30_000 {
            q.push_str(&format!("a{n}: __typename "));
            n += 1;
        }
        q.push('}');
        q
    };
    let attack = {
        let (client, url, token) = (t.client.clone(), t.url("/graphql"), t.token.clone());
        let next = Arc::new(AtomicUsize::new(0));
        Attack::launch(4, move || {
            let (client, url, token, next) = (client.clone(), url.clone(), token.clone(), next.clone());
            let i = next.fetch_add(1, Ordering::Relaxed);
            let query = document(i);
            let bearer = (i >= 600).then_some(token);
            async move {
                let mut req = client.post(&url).json(&json!({"query": query}));
                if let Some(b) = bearer {
                    req = req.bearer_auth(b);
                }
                let Ok(res) = req.send().await else { return false };
                let status = res.status().as_u16();
                let Ok(body) = res.json::<Value>().await else { return false };
                status == 200 && body["data"]["a0"] == "Query"
            }
        })
    };
    attack.wait_for(600).await;
    t.assert_serves_partner().await;
    attack.wait_for(900).await;
    t.assert_serves_partner().await;
    let (sent, wrong) = attack.stop().await;
    assert_eq!(wrong, 0, "{wrong} of {sent} documents were not answered as expected");
    t.assert_healthy();
}

/// Token guessing: each source address has a budget, and so has each client id, so spreading
/// guesses over addresses (127.0.0.x are all this machine) does not help. Anonymous GraphQL has
/// a per-address budget too. Refusals are 429 with Retry-After; a partner keeps being served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_guessing_and_anonymous_floods_are_rate_limited() {
    // Small budgets (bursts are five seconds' worth: 10, 5 and 10), and each phase's requests
    // sent at once: what gets through is then bounded by burst + rate × the phase's duration
    // however slowly a loaded machine answers, and far below what is sent.
    let mut t = Target::start(&[
        "--rate-token-per-address",
        "2",
        "--rate-token-per-client",
        "1",
        "--rate-anonymous-per-address",
        "2",
    ])
    .await;
    let within_budget = |allowed: usize, per_second: f64, started: Instant| {
        let bound = per_second * 5.0 + per_second * started.elapsed().as_secs_f64() + 1.0;
        assert!(allowed as f64 <= bound, "{allowed} allowed; the budget allows at most {bound:.0}");
    };
    let guess = |client: &reqwest::Client, secret: String| {
        client.post(t.url("/oauth/token")).json(&json!({
            "grant_type": "client_credentials", "client_id": "someone-else", "client_secret": secret
        }))
    };
    // One address: refused once its burst is spent.
    let started = Instant::now();
    let answers = futures::future::join_all((0..80).map(|i| guess(&t.client, format!("guess-{i}")).send())).await;
    let mut statuses = Vec::new();
    for res in answers {
        let res = res.unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry), "Retry-After {retry}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"], "temporarily_unavailable");
        }
    }
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    within_budget(statuses.iter().filter(|s| **s == 401).count(), 2.0, started);

    // Many addresses, one client id: the client id's budget stops them.
    let started = Instant::now();
    let guesses = (0..120u8).map(|i| {
        let local: std::net::IpAddr = format!("127.0.1.{}", i + 1).parse().unwrap();
        let client = reqwest::Client::builder().local_address(local).build().unwrap();
        let request = client.post(t.url("/oauth/token")).json(
            &json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": format!("guess-{i}")}),
        );
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(guesses).await;
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    within_budget(statuses.iter().filter(|s| **s == 401).count(), 1.0, started);

    // Anonymous GraphQL from one address: refused once its burst is spent, while the partner
    // (its own budget) is served.
    let started = Instant::now();
    let version = json!({"query": "{ version }"});
    let answers = futures::future::join_all((0..300).map(|_| t.anonymous(&version))).await;
    let mut served = 0;
    for (status, body) in &answers {
        if *status == 429 {
            assert_eq!(code_of(body).0, "RATE_LIMITED", "{body}");
        } else {
            assert_eq!(*status, 200, "{body}");
            served += 1;
        }
    }
    within_budget(served, 2.0, started);
    t.assert_serves_partner().await;
    t.assert_healthy();
}

/// SIGTERM while a client holds a half-sent request head: the server still exits, within its
/// shutdown grace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_half_sent_header_exits_within_the_grace() {
    let mut t = Target::start(&[
        "--shutdown-grace-secs",
        "2",
        "--header-read-timeout-secs",
        "600",
        "--idle-timeout-secs",
        "600",
    ])
    .await;
    let mut stalled = tokio::net::TcpStream::connect(t.addr()).await.unwrap();
    stalled.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Le").await.unwrap();
    // And one with a complete head but half its body.
    let mut half_body = tokio::net::TcpStream::connect(t.addr()).await.unwrap();
    half_body
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"qu",
        )
        .await
        .unwrap();
    t.assert_serves_partner().await;
    let pid = t.server.child.id().to_string();
    let started = Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = started + Duration::from_secs(10);
    loop {
        if let Some(status) = t.server.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit within 10 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() < Duration::from_secs(6), "exit took {:?}", started.elapsed());
    drop((stalled, half_body));
}

/// 600 idle connections and 400 slowloris heads at once (1,000 of the default 1,024
/// connections): a partner is served within 1 s throughout, every attacking connection is
/// closed by the header timeout, and memory stays bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slowloris_connections_are_shed() {
    let mut t = Target::start(&["--header-read-timeout-secs", "3"]).await;
    let mut held = Vec::new();
    for i in 0..1000 {
        let mut stream = tokio::net::TcpStream::connect(t.addr()).await.expect("connect");
        if i < 400 {
            // Slowloris: a head that never ends.
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: ").await.unwrap();
        }
        held.push(stream);
    }
    for _ in 0..3 {
        t.assert_serves_partner().await;
    }
    // Each is closed by the server within the header timeout plus a margin.
    let deadline = Instant::now() + Duration::from_secs(3 + 7);
    let closed = futures::future::join_all(held.into_iter().map(|mut s| async move {
        let mut buf = [0u8; 512];
        loop {
            match tokio::time::timeout_at(deadline.into(), s.read(&mut buf)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
            }
        }
    }))
    .await;
    let open = closed.iter().filter(|c| !**c).count();
    assert_eq!(open, 0, "{open} of {} attacking connections were still open after 10 s", closed.len());
    t.assert_serves_partner().await;
    t.assert_healthy();
}
