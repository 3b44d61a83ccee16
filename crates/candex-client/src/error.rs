//! `ClientError`: everything a call can fail with. Messages never carry tokens or secrets; the
//! underlying error (reqwest, serde_json, I/O), when there is one, stays reachable through
//! [`std::error::Error::source`].

use crate::client::GraphqlError;

/// The hint for a token endpoint that is not there: usually `--server` names the GraphQL URL.
const NO_TOKEN_ENDPOINT: &str = " (no token endpoint at that URL: the server URL is the server's base URL, e.g. \
https://candex.example.com, with GraphQL at /graphql and tokens at /oauth/token)";

/// A failed client call.
///
/// Messages are complete on their own (they include the cause's text; the only URL they name
/// is the configured token endpoint's, never a request's); the cause
/// itself, when there is one, is also kept as [`source`](std::error::Error::source) for callers that
/// inspect it (e.g. [`reqwest::Error::is_timeout`]). New variants may be added: match with a
/// wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The configuration cannot build an HTTP client, or the call's variables do not serialise.
    #[error("invalid client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
        /// The cause, when another library reported it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The token endpoint refused the credentials or request (4xx), e.g. `invalid_client`.
    #[error(
        "token request to {url} rejected (HTTP {status}): {error}{}{}",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default(),
        if *status == 404 { NO_TOKEN_ENDPOINT } else { "" }
    )]
    TokenRejected {
        /// The token endpoint called.
        url: String,
        /// HTTP status.
        status: u16,
        /// OAuth `error` code.
        error: String,
        /// OAuth `error_description`.
        description: Option<String>,
    },
    /// The token endpoint answered 200 with something that is not a token.
    #[error("token response unusable: {message}")]
    TokenResponse {
        /// What is wrong with it.
        message: String,
        /// The JSON error, when the body did not decode.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// Still unauthenticated after fetching a fresh token and retrying once.
    #[error("unauthenticated after retrying with a fresh token: {message}")]
    Unauthenticated {
        /// The server's message.
        message: String,
    },
    /// The token is valid but not authorised for this data (e.g. no hirer relationship). Never retried.
    #[error("forbidden: {message} (path {})", format_path(path))]
    Forbidden {
        /// The server's message (safe to show hirers).
        message: String,
        /// The GraphQL `path` of the denied field.
        path: Vec<serde_json::Value>,
    },
    /// Other GraphQL errors.
    #[error("GraphQL errors: {}", errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Graphql {
        /// The errors, in order.
        errors: Vec<GraphqlError>,
    },
    /// A transient failure persisted through every attempt.
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
        /// The last failure's transport error, when it was one (not for HTTP statuses).
        #[source]
        source: Option<reqwest::Error>,
    },
    /// An HTTP status the client does not handle.
    #[error("unexpected HTTP {status} from {what}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Which endpoint.
        what: &'static str,
        /// The start of the response body.
        body: String,
    },
    /// A transport failure (connect, TLS, timeout, body read) that is not worth retrying.
    #[error("HTTP transport error: {}", describe(.0))]
    Transport(#[source] reqwest::Error),
    /// The response did not decode.
    #[error("could not decode response at {path}: {message}")]
    Decode {
        /// JSON path of the failure.
        path: String,
        /// What went wrong.
        message: String,
        /// The JSON error, when there is one (not for a `data: null` without errors).
        #[source]
        source: Option<serde_json::Error>,
    },
    /// A server answered a ranged download inconsistently or the file is incomplete.
    #[error("download failed: {0}")]
    Download(String),
    /// A local file operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The events connection claimed more pages without giving a cursor.
    #[error("events page has hasNextPage=true but no endCursor")]
    MissingCursor,
}

fn format_path(path: &[serde_json::Value]) -> String {
    if path.is_empty() {
        return "-".to_owned();
    }
    path.iter()
        .map(|p| match p {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl ClientError {
    /// A configuration error without an underlying cause.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        ClientError::Config { message: message.into(), source: None }
    }

    /// A decode error from serde_json at `path` (the message repeats the cause's text).
    pub(crate) fn decode(path: impl Into<String>, source: serde_json::Error) -> Self {
        ClientError::Decode { path: path.into(), message: source.to_string(), source: Some(source) }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        ClientError::Io { path: path.display().to_string(), source }
    }
}

/// A reqwest error with its causes, without the URL (which never carries secrets here, but keeps
/// messages short).
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// At most `n` characters of a body, for error messages.
pub(crate) fn snippet(body: &str, n: usize) -> String {
    let mut out: String = body.chars().take(n).collect();
    if body.chars().count() > n {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn transport_errors_keep_the_reqwest_error_as_source() {
        let cause = reqwest::Client::new().get("not a url").build().expect_err("a relative URL does not build");
        let err = ClientError::Transport(cause);
        let source = err.source().expect("a source");
        assert!(source.downcast_ref::<reqwest::Error>().is_some(), "{source:?}");
        assert!(err.to_string().starts_with("HTTP transport error: request failed: "), "{err}");

        let cause = reqwest::Client::new().get("not a url").build().expect_err("a relative URL does not build");
        let err = ClientError::RetriesExhausted { attempts: 2, last: describe(&cause), source: Some(cause) };
        assert!(err.source().and_then(|s| s.downcast_ref::<reqwest::Error>()).is_some());
        let err = ClientError::RetriesExhausted { attempts: 2, last: "HTTP 503".to_owned(), source: None };
        assert!(err.source().is_none());
        assert_eq!(err.to_string(), "gave up after 2 attempts: HTTP 503");
    }

    #[test]
    fn decode_errors_keep_the_json_error_as_source() {
        let cause = serde_json::from_str::<u32>(r#""x""#).expect_err("not a number");
        let text = cause.to_string();
        let err = ClientError::decode("data.x", cause);
        let source = err.source().expect("a source");
        assert_eq!(source.downcast_ref::<serde_json::Error>().map(|e| e.to_string()), Some(text.clone()));
        assert_eq!(err.to_string(), format!("could not decode response at data.x: {text}"));

        let cause = serde_json::from_str::<serde_json::Value>("<html>").expect_err("not JSON");
        let err = ClientError::TokenResponse { message: format!("not JSON: {cause}"), source: Some(cause) };
        assert!(err.source().and_then(|s| s.downcast_ref::<serde_json::Error>()).is_some());
        assert!(ClientError::config("max_attempts must be at least 1").source().is_none());
    }
}
