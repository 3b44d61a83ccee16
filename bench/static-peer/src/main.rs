//! The static bound of the `candidateProfile` benchmark: a bare hyper HTTP/1 server that reads
//! the POST body, takes `variables.id`, and answers with candex's own response for that id,
//! pre-serialised (loaded from an NDJSON file of `{"id": …, "body": …}` lines). It does no
//! authentication, no database and no GraphQL: what is left is the HTTP and JSON-parsing floor
//! that candex's figure is compared with.
//!
//! Usage: `candex-bench-static-peer ADDR RESPONSES.ndjson` (prints `static peer listening on
//! http://ADDR` when ready). It runs on one thread, like the other peers pinned to one core.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::BufRead;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;

#[derive(Deserialize)]
struct Line {
    id: String,
    body: Box<serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct GraphqlRequest {
    #[serde(default)]
    variables: Variables,
}

#[derive(Deserialize, Default)]
struct Variables {
    #[serde(default)]
    id: String,
}

const NOT_FOUND: &[u8] = br#"{"data":{"candidateProfile":null}}"#;

fn load(path: &str) -> Result<HashMap<String, Bytes>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut responses = HashMap::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{path}:{}: {e}", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(&line).map_err(|e| format!("{path}:{}: {e}", n + 1))?;
        responses.insert(parsed.id, Bytes::from(parsed.body.get().to_owned()));
    }
    Ok(responses)
}

async fn answer(
    req: Request<Incoming>,
    responses: Arc<HashMap<String, Bytes>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match req.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(status(StatusCode::BAD_REQUEST)),
    };
    let Ok(request) = serde_json::from_slice::<GraphqlRequest>(&body) else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    let bytes = responses.get(&request.variables.id).cloned().unwrap_or_else(|| Bytes::from_static(NOT_FOUND));
    let len = bytes.len();
    let mut res = Response::new(Full::new(bytes));
    res.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    res.headers_mut().insert(CONTENT_LENGTH, len.into());
    Ok(res)
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = code;
    res
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(path)) = (args.next(), args.next()) else {
        return Err("usage: candex-bench-static-peer ADDR RESPONSES.ndjson".into());
    };
    let responses = Arc::new(load(&path)?);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| format!("{addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        println!("static peer listening on http://{local} ({} responses)", responses.len());
        loop {
            let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let _ = stream.set_nodelay(true);
            let responses = responses.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| answer(req, responses.clone()));
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    })
}
