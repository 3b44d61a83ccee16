//! `Client`: authenticated GraphQL calls with SEEK's retry policy, and the shared request machinery.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{describe, snippet, ClientError};
use crate::token::TokenCache;
use crate::ClientConfig;

/// One entry of a GraphQL `errors` array. Unknown keys are ignored; `extensions` is kept whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphqlError {
    /// The message (safe to show hirers; log it in full).
    #[serde(default)]
    pub message: String,
    /// The path of the failed field, when field-level.
    #[serde(default)]
    pub path: Vec<serde_json::Value>,
    /// `extensions`, including `code`.
    #[serde(default)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl GraphqlError {
    /// `extensions.code`, e.g. `UNAUTHENTICATED`, `FORBIDDEN`, `BAD_USER_INPUT`; unknown codes pass through.
    pub fn code(&self) -> Option<&str> {
        self.extensions.get("code").and_then(|c| c.as_str())
    }
}

impl std::fmt::Display for GraphqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(code) = self.code() {
            write!(f, " [{code}]")?;
        }
        if !self.path.is_empty() {
            let path: Vec<String> =
                self.path.iter().map(|p| p.as_str().map(str::to_owned).unwrap_or_else(|| p.to_string())).collect();
            write!(f, " at {}", path.join("."))?;
        }
        Ok(())
    }
}

/// A GraphQL answer: data (possibly partial) and the errors beside it.
#[derive(Debug, Clone)]
pub struct GraphqlResponse<R> {
    /// `data`, when present and not null.
    pub data: Option<R>,
    /// `errors`, empty on full success.
    pub errors: Vec<GraphqlError>,
}

impl<R> GraphqlResponse<R> {
    /// The data if there were no errors; otherwise the first error as a typed [`ClientError`]
    /// (`FORBIDDEN` → [`ClientError::Forbidden`], `UNAUTHENTICATED` → [`ClientError::Unauthenticated`]).
    pub fn into_result(self) -> Result<R, ClientError> {
        if let Some(forbidden) = self.errors.iter().find(|e| e.code() == Some("FORBIDDEN")) {
            return Err(ClientError::Forbidden { message: forbidden.message.clone(), path: forbidden.path.clone() });
        }
        if let Some(unauth) = self.errors.iter().find(|e| e.code() == Some("UNAUTHENTICATED")) {
            return Err(ClientError::Unauthenticated { message: unauth.message.clone() });
        }
        if !self.errors.is_empty() {
            return Err(ClientError::Graphql { errors: self.errors });
        }
        self.data.ok_or_else(|| ClientError::Decode {
            path: "data".to_owned(),
            message: "null without errors".to_owned(),
            source: None,
        })
    }
}

#[derive(Deserialize)]
struct RawResponse {
    /// Kept as the server's text, so callers can decode it as typed data or keep it verbatim.
    #[serde(default)]
    data: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Serialize)]
struct RawRequest<'a, V> {
    query: &'a str,
    variables: &'a V,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) config: ClientConfig,
    pub(crate) tokens: TokenCache,
    retries: AtomicU64,
}

/// A SEEK API client. Cheap to clone; clones share the token cache and counters.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

/// Whether a failure is worth another attempt, and how long the server asked us to wait.
pub(crate) enum Attempt<T> {
    Done(T),
    Transient { reason: String, retry_after: Option<Duration>, source: Option<reqwest::Error> },
    Reauth { token: String, message: String },
    Fail(ClientError),
}

/// A fresh `X-Request-Id`: a random UUID v4 in its lowercase hyphenated form.
fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl<T> Attempt<T> {
    /// A transport failure worth another attempt; the error is kept as the eventual
    /// [`ClientError::RetriesExhausted`]'s source.
    pub(crate) fn transport(err: reqwest::Error) -> Self {
        Attempt::Transient { reason: describe(&err), retry_after: None, source: Some(err) }
    }
}

fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

impl Client {
    /// Builds a client (rustls, timeouts from the config). No request is sent yet.
    pub fn new(config: ClientConfig) -> Result<Client, ClientError> {
        if config.max_attempts == 0 {
            return Err(ClientError::config("max_attempts must be at least 1"));
        }
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .build()
            .map_err(|e| ClientError::Config { message: describe(&e), source: Some(Box::new(e)) })?;
        let tokens = TokenCache::new(http.clone(), &config);
        Ok(Client { inner: Arc::new(Inner { http, config, tokens, retries: AtomicU64::new(0) }) })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Retries performed so far (transient backoffs and token re-fetches after `UNAUTHENTICATED`/401).
    pub fn retries(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }

    pub(crate) fn note_retry(&self) {
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Token requests sent so far.
    pub fn token_requests(&self) -> u64 {
        self.inner.tokens.fetches()
    }

    /// Runs an operation and fails on any GraphQL error (see [`GraphqlResponse::into_result`]).
    pub async fn graphql<V: Serialize, R: DeserializeOwned>(
        &self,
        query: &str,
        variables: &V,
    ) -> Result<R, ClientError> {
        self.graphql_response(query, variables).await?.into_result()
    }

    /// Runs an operation and returns data and errors side by side (partial data with field errors).
    /// `UNAUTHENTICATED` (in the body or as HTTP 401) refetches the token and retries once; 429/502/503/504
    /// and connection errors back off; nothing else is retried.
    pub async fn graphql_response<V: Serialize, R: DeserializeOwned>(
        &self,
        query: &str,
        variables: &V,
    ) -> Result<GraphqlResponse<R>, ClientError> {
        let body = serde_json::to_vec(&RawRequest { query, variables }).map_err(|e| ClientError::Config {
            message: format!("variables do not serialise: {e}"),
            source: Some(Box::new(e)),
        })?;
        let timeout = self.inner.config.request_timeout;
        let body = &body;
        let raw = self
            .run(move |token| async move {
                let res = self
                    .request(reqwest::Method::POST, &self.inner.config.graphql_url, &token)
                    .header(CONTENT_TYPE, "application/json")
                    .timeout(timeout)
                    .body(body.clone())
                    .send()
                    .await;
                let res = match classify(res, &token) {
                    Attempt::Done(res) => res,
                    Attempt::Transient { reason, retry_after, source } => {
                        return Attempt::Transient { reason, retry_after, source }
                    }
                    Attempt::Reauth { token, message } => return Attempt::Reauth { token, message },
                    Attempt::Fail(e) => return Attempt::Fail(e),
                };
                let status = res.status();
                let text = match res.text().await {
                    Ok(text) => text,
                    Err(e) => return Attempt::transport(e),
                };
                let raw: RawResponse = match serde_json::from_str(&text) {
                    Ok(raw) => raw,
                    Err(_) if !status.is_success() => {
                        return Attempt::Fail(ClientError::Status {
                            status: status.as_u16(),
                            what: "GraphQL endpoint",
                            body: snippet(&text, 200),
                        })
                    }
                    Err(e) => return Attempt::Fail(ClientError::decode(".", e)),
                };
                if let Some(e) = raw.errors.iter().find(|e| e.code() == Some("UNAUTHENTICATED")) {
                    return Attempt::Reauth { token, message: e.message.clone() };
                }
                Attempt::Done(raw)
            })
            .await?;
        let data = match raw.data {
            None => None,
            Some(value) => match serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(value.get()))
            {
                Ok(data) => Some(data),
                // Errors explain a shape the type cannot hold (e.g. a denied non-null field): report them first.
                Err(_) if !raw.errors.is_empty() => {
                    return Err(GraphqlResponse::<()> { data: None, errors: raw.errors }
                        .into_result()
                        .err()
                        .unwrap_or(ClientError::Decode {
                            path: ".".to_owned(),
                            message: "undecodable data".to_owned(),
                            source: None,
                        }));
                }
                Err(e) => return Err(ClientError::decode(e.path().to_string(), e.into_inner())),
            },
        };
        Ok(GraphqlResponse { data, errors: raw.errors })
    }

    /// A request with `Authorization`, `User-Agent` and a fresh `X-Request-Id`.
    pub(crate) fn request(&self, method: reqwest::Method, url: &str, token: &str) -> RequestBuilder {
        self.inner
            .http
            .request(method, url)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(USER_AGENT, &self.inner.config.user_agent)
            .header("X-Request-Id", request_id())
    }

    /// Runs `attempt` with a token under the retry policy: one re-authentication, transient backoff.
    pub(crate) async fn run<T, F, Fut>(&self, mut attempt: F) -> Result<T, ClientError>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Attempt<T>>,
    {
        let max = self.inner.config.max_attempts;
        let mut transient_attempts = 0u32;
        let mut reauthed = false;
        loop {
            let outcome = match self.inner.tokens.get().await {
                Ok(token) => attempt(token).await,
                Err(ClientError::Transport(e)) => Attempt::transport(e),
                Err(ClientError::Status { status, what, body }) if status == 429 || status >= 500 => {
                    Attempt::Transient {
                        reason: format!("HTTP {status} from {what}: {body}"),
                        retry_after: None,
                        source: None,
                    }
                }
                Err(e) => Attempt::Fail(e),
            };
            match outcome {
                Attempt::Done(value) => return Ok(value),
                Attempt::Fail(e) => return Err(e),
                Attempt::Reauth { token, message } => {
                    if reauthed {
                        return Err(ClientError::Unauthenticated { message });
                    }
                    reauthed = true;
                    tracing::debug!(%message, "unauthenticated; fetching a new token and retrying once");
                    self.inner.tokens.invalidate(&token).await;
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                }
                Attempt::Transient { reason, retry_after, source } => {
                    transient_attempts += 1;
                    if transient_attempts >= max {
                        return Err(ClientError::RetriesExhausted {
                            attempts: transient_attempts,
                            last: reason,
                            source,
                        });
                    }
                    let delay = self.backoff(transient_attempts, retry_after);
                    tracing::debug!(%reason, ?delay, attempt = transient_attempts, "transient failure; backing off");
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Exponential backoff with equal jitter; a `Retry-After` is honoured (capped at `backoff_max`).
    pub(crate) fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let c = &self.inner.config;
        let exp = c.backoff_base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(c.backoff_max);
        let half = exp / 2;
        let jitter = half.mul_f64(rand::thread_rng().gen::<f64>());
        let computed = half + jitter;
        match retry_after {
            Some(ra) => ra.min(c.backoff_max),
            None => computed,
        }
    }
}

/// Sorts a sent request into done / transient / re-authenticate / fail by status and transport outcome.
pub(crate) fn classify(res: Result<Response, reqwest::Error>, token: &str) -> Attempt<Response> {
    match res {
        Err(e) => {
            if e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() {
                Attempt::transport(e)
            } else {
                Attempt::Fail(ClientError::Transport(e))
            }
        }
        Ok(res) if res.status() == StatusCode::UNAUTHORIZED => {
            Attempt::Reauth { token: token.to_owned(), message: "HTTP 401".to_owned() }
        }
        Ok(res) if is_transient_status(res.status()) => Attempt::Transient {
            reason: format!("HTTP {}", res.status().as_u16()),
            retry_after: retry_after(res.headers()),
            source: None,
        },
        Ok(res) => Attempt::Done(res),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4() {
        let a = request_id();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(a, a.to_lowercase());
        let parsed = uuid::Uuid::parse_str(&a).expect("a UUID");
        assert_eq!(parsed.get_version(), Some(uuid::Version::Random));
        assert_eq!(parsed.hyphenated().to_string(), a);
        assert_ne!(a, request_id());
    }

    #[test]
    fn into_result_types_forbidden() {
        let r: GraphqlResponse<()> = GraphqlResponse {
            data: None,
            errors: vec![GraphqlError {
                message: "no relationship".into(),
                path: vec!["candidateProfile".into()],
                extensions: serde_json::json!({"code": "FORBIDDEN"}).as_object().cloned().unwrap_or_default(),
            }],
        };
        match r.into_result() {
            Err(ClientError::Forbidden { message, path }) => {
                assert_eq!(message, "no relationship");
                assert_eq!(path, vec![serde_json::Value::from("candidateProfile")]);
            }
            other => panic!("{other:?}"),
        }
    }
}
