//! Against a small axum stub: 503-then-200 backoff with `Retry-After`, `UNAUTHENTICATED` retried once,
//! 401 retried once, headers on every call, partial data with field errors, and a resume answered with 200.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use candex_client::{Client, ClientConfig, ClientError, GraphqlResponse};
use serde_json::{json, Value};

/// One scripted answer: status, extra headers, JSON body.
type Answer = (u16, Vec<(&'static str, &'static str)>, Value);

#[derive(Default)]
struct Stub {
    tokens: AtomicU64,
    graphql: AtomicU64,
    /// What the n-th GraphQL call answers (beyond the list: the last entry).
    script: Mutex<Vec<Answer>>,
    headers: Mutex<Vec<HeaderMap>>,
}

async fn token(State(stub): State<Arc<Stub>>, Json(body): Json<Value>) -> Response {
    let n = stub.tokens.fetch_add(1, Ordering::SeqCst) + 1;
    assert_eq!(body["grant_type"], "client_credentials");
    assert_eq!(body["audience"], "http://stub");
    if body["client_secret"] != "s3cret" {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client", "error_description": "bad secret"})))
            .into_response();
    }
    Json(json!({"access_token": format!("token-{n}"), "expires_in": 1800, "token_type": "Bearer"})).into_response()
}

async fn graphql(State(stub): State<Arc<Stub>>, headers: HeaderMap) -> Response {
    let n = stub.graphql.fetch_add(1, Ordering::SeqCst) as usize;
    stub.headers.lock().expect("lock").push(headers);
    let script = stub.script.lock().expect("lock");
    let (status, extra, body) = script.get(n).or(script.last()).cloned().expect("script");
    let mut res = (StatusCode::from_u16(status).expect("status"), Json(body)).into_response();
    for (k, v) in extra {
        res.headers_mut().insert(k, v.parse().expect("header"));
    }
    res
}

async fn file(headers: HeaderMap) -> Response {
    // Ignores Range on purpose: the client must start over on a 200.
    assert!(headers.get("authorization").is_some());
    ([("content-type", "text/plain"), ("content-disposition", "attachment; filename=\"notes.txt\"")], "hello world")
        .into_response()
}

async fn spawn(script: Vec<Answer>, secret: &str) -> (Client, Arc<Stub>) {
    let stub = Arc::new(Stub { script: Mutex::new(script), ..Stub::default() });
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/graphql", post(graphql))
        .route("/file", get(file))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let config = ClientConfig::builder("id", secret)
        .server(format!("http://{addr}"))
        .audience("http://stub")
        .user_agent("stub-test/0.1")
        .backoff_base(Duration::from_millis(20))
        .build();
    (Client::new(config).expect("client"), stub)
}

fn ok(data: Value) -> Answer {
    (200, vec![], json!({"data": data}))
}

#[tokio::test]
async fn backs_off_on_503_and_429_then_succeeds() {
    let (client, stub) = spawn(
        vec![
            (503, vec![("retry-after", "0")], json!({})),
            (429, vec![("retry-after", "1")], json!({})),
            (502, vec![], json!({})),
            ok(json!({"x": 1})),
        ],
        "s3cret",
    )
    .await;
    let start = Instant::now();
    let v: Value = client.graphql("{ x }", &json!({})).await.expect("eventually ok");
    assert_eq!(v, json!({"x": 1}));
    assert!(start.elapsed() >= Duration::from_secs(1), "Retry-After: 1 honoured");
    assert_eq!(stub.graphql.load(Ordering::SeqCst), 4);
    assert_eq!(client.retries(), 3);
    assert_eq!(stub.tokens.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let (client, stub) = spawn(vec![(503, vec![("retry-after", "0")], json!({}))], "s3cret").await;
    let err = client.graphql::<_, Value>("{ x }", &json!({})).await.expect_err("exhausted");
    assert!(matches!(err, ClientError::RetriesExhausted { attempts: 4, .. }), "{err:?}");
    assert_eq!(stub.graphql.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn unauthenticated_refetches_the_token_and_retries_once() {
    let unauth =
        json!({"errors": [{"message": "token expired", "path": ["x"], "extensions": {"code": "UNAUTHENTICATED"}}]});
    let (client, stub) = spawn(vec![(200, vec![], unauth.clone()), ok(json!({"x": 2}))], "s3cret").await;
    let v: Value = client.graphql("{ x }", &json!({})).await.expect("ok after one retry");
    assert_eq!(v, json!({"x": 2}));
    assert_eq!(stub.tokens.load(Ordering::SeqCst), 2);
    assert_eq!(client.retries(), 1);
    let headers = stub.headers.lock().expect("lock").clone();
    assert_eq!(headers[0]["authorization"], "Bearer token-1");
    assert_eq!(headers[1]["authorization"], "Bearer token-2");
    assert_eq!(headers[0]["user-agent"], "stub-test/0.1");
    assert_ne!(headers[0]["x-request-id"], headers[1]["x-request-id"]);
    assert_eq!(headers[0]["x-request-id"].len(), 36);

    // Always unauthenticated: exactly one retry, then a typed error.
    let (client, stub) = spawn(vec![(200, vec![], unauth)], "s3cret").await;
    let err = client.graphql::<_, Value>("{ x }", &json!({})).await.expect_err("still unauthenticated");
    assert!(matches!(&err, ClientError::Unauthenticated { message } if message == "token expired"), "{err:?}");
    assert_eq!(stub.graphql.load(Ordering::SeqCst), 2);
    assert_eq!(stub.tokens.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn http_401_is_retried_once_with_a_new_token() {
    let (client, stub) = spawn(vec![(401, vec![], json!({})), ok(json!({"x": 3}))], "s3cret").await;
    let v: Value = client.graphql("{ x }", &json!({})).await.expect("ok");
    assert_eq!(v["x"], 3);
    assert_eq!(stub.tokens.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn forbidden_is_never_retried_and_partial_data_is_kept() {
    let body = json!({"data": {"a": 1, "b": null},
        "errors": [{"message": "no relationship", "path": ["b"], "extensions": {"code": "FORBIDDEN"}}]});
    let (client, stub) = spawn(vec![(200, vec![], body)], "s3cret").await;
    let r: GraphqlResponse<Value> = client.graphql_response("{ a b }", &json!({})).await.expect("response");
    assert_eq!(r.data, Some(json!({"a": 1, "b": null})));
    assert_eq!(r.errors[0].code(), Some("FORBIDDEN"));
    let err = client.graphql::<_, Value>("{ a b }", &json!({})).await.expect_err("forbidden");
    assert!(matches!(&err, ClientError::Forbidden { path, .. } if path == &vec![json!("b")]), "{err:?}");
    assert_eq!(stub.graphql.load(Ordering::SeqCst), 2, "one request per call");
    assert_eq!(client.retries(), 0);
}

#[tokio::test]
async fn invalid_client_is_a_clear_error_without_the_secret() {
    let (client, _stub) = spawn(vec![ok(json!({}))], "wrong-secret-value").await;
    let err = client.graphql::<_, Value>("{ x }", &json!({})).await.expect_err("rejected");
    let text = err.to_string();
    assert!(text.contains("invalid_client") && text.contains("401"), "{text}");
    assert!(!text.contains("wrong-secret-value"));
}

#[tokio::test]
async fn a_resume_answered_with_200_starts_over() {
    let (client, _stub) = spawn(vec![ok(json!({}))], "s3cret").await;
    let dir = tempfile::tempdir().expect("dir");
    let dest = dir.path().join("f");
    std::fs::write(candex_client::part_path(&dest), b"garbage-garbage").expect("part");
    let url = client.config().graphql_url.replace("/graphql", "/file");
    let d = client.download(&url, &dest).await.expect("download");
    assert_eq!(d.resumed_from, 0);
    assert_eq!(std::fs::read(&dest).expect("read"), b"hello world");
    assert_eq!(d.filename.as_deref(), Some("notes.txt"));
}

/// A raw-TCP server: the first GET promises 20 bytes and sends 10 before closing; the second must ask for
/// `Range: bytes=10-` and gets a 206 with the rest.
#[tokio::test]
async fn an_interrupted_body_is_resumed_within_the_same_call() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (client, _stub) = spawn(vec![ok(json!({}))], "s3cret").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        let content = b"0123456789abcdefghij";
        for n in 0..2 {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let mut buf = vec![0u8; 4096];
            let len = sock.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..len]).to_lowercase();
            seen.lock().expect("lock").push(request.clone());
            let head = "content-type: application/pdf\r\ncontent-disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\r\nconnection: close\r\n";
            if n == 0 {
                let res = format!("HTTP/1.1 200 OK\r\ncontent-length: 20\r\n{head}\r\n");
                let _ = sock.write_all(res.as_bytes()).await;
                let _ = sock.write_all(&content[..10]).await;
            } else if request.contains("range: bytes=10-") {
                let res = format!(
                    "HTTP/1.1 206 Partial Content\r\ncontent-length: 10\r\ncontent-range: bytes 10-19/20\r\n{head}\r\n"
                );
                let _ = sock.write_all(res.as_bytes()).await;
                let _ = sock.write_all(&content[10..]).await;
            } else {
                let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
            }
            let _ = sock.shutdown().await;
        }
    });
    let dir = tempfile::tempdir().expect("dir");
    let dest = dir.path().join("r");
    let d = client.download(&format!("http://{addr}/a"), &dest).await.expect("download");
    assert_eq!(std::fs::read(&dest).expect("read"), b"0123456789abcdefghij");
    assert_eq!(d.size, 20);
    assert_eq!(d.resumed_from, 10);
    assert_eq!(d.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"0123456789abcdefghij")));
    assert_eq!(d.filename.as_deref(), Some("résumé.pdf"));
    assert_eq!(client.retries(), 1);
    let requests = requests.lock().expect("lock").clone();
    assert!(requests[0].contains("authorization: bearer token-1"), "{}", requests[0]);
    assert!(!requests[0].contains("range:"));
}

/// A 206 whose `Content-Range` does not start where the `.part` ends is never spliced: the client starts over.
#[tokio::test]
async fn a_mismatched_content_range_starts_over() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (client, _stub) = spawn(vec![ok(json!({}))], "s3cret").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let content = b"0123456789abcdefghij";
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let mut buf = vec![0u8; 4096];
            let len = sock.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..len]).to_lowercase();
            let status = if request.contains("range:") { "206 Partial Content" } else { "200 OK" };
            let extra = if request.contains("range:") { "content-range: bytes 0-19/20\r\n" } else { "" };
            let res = format!("HTTP/1.1 {status}\r\ncontent-length: 20\r\n{extra}connection: close\r\n\r\n");
            let _ = sock.write_all(res.as_bytes()).await;
            let _ = sock.write_all(content).await;
            let _ = sock.shutdown().await;
        }
    });
    let dir = tempfile::tempdir().expect("dir");
    let dest = dir.path().join("m");
    std::fs::write(candex_client::part_path(&dest), b"XXXXX").expect("part");
    let d = client.download(&format!("http://{addr}/a"), &dest).await.expect("download");
    assert_eq!(std::fs::read(&dest).expect("read"), b"0123456789abcdefghij");
    assert_eq!(d.resumed_from, 0);
    assert_eq!(d.filename, None);
}

/// Data of the wrong shape fails with the JSON path, and the serde_json error stays reachable as the source.
#[tokio::test]
async fn decode_failures_keep_the_json_error_as_source() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Data {
        x: u32,
    }
    let (client, _stub) = spawn(vec![ok(json!({"x": "not a number"}))], "s3cret").await;
    let err = client.graphql::<_, Data>("{ x }", &json!({})).await.expect_err("undecodable");
    assert!(matches!(&err, ClientError::Decode { path, .. } if path == "x"), "{err:?}");
    let source = std::error::Error::source(&err).expect("a source");
    assert!(source.downcast_ref::<serde_json::Error>().is_some(), "{source:?}");
}

/// A server that refuses connections exhausts the attempts; the last reqwest error is the source.
#[tokio::test]
async fn connection_failures_keep_the_transport_error_as_source() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let config = ClientConfig::builder("id", "s3cret")
        .server(format!("http://{addr}"))
        .max_attempts(2)
        .backoff_base(Duration::from_millis(1))
        .build();
    let client = Client::new(config).expect("client");
    let err = client.graphql::<_, Value>("{ x }", &json!({})).await.expect_err("refused");
    assert!(matches!(err, ClientError::RetriesExhausted { attempts: 2, .. }), "{err:?}");
    let source = std::error::Error::source(&err).expect("a source");
    let reqwest_error = source.downcast_ref::<reqwest::Error>().expect("a reqwest error");
    assert!(reqwest_error.is_connect(), "{reqwest_error:?}");
}
