//! `ClientError`: everything a call can fail with. Messages never carry tokens or secrets.

use crate::client::GraphqlError;

/// A failed client call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The configuration cannot build an HTTP client.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The token endpoint refused the credentials or request (4xx), e.g. `invalid_client`.
    #[error("token request rejected (HTTP {status}): {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    TokenRejected {
        /// HTTP status.
        status: u16,
        /// OAuth `error` code.
        error: String,
        /// OAuth `error_description`.
        description: Option<String>,
    },
    /// The token endpoint answered 200 with something that is not a token.
    #[error("token response unusable: {0}")]
    TokenResponse(String),
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
    /// A transport failure (connect, TLS, timeout, body read).
    #[error("HTTP transport error: {0}")]
    Transport(String),
    /// The response did not decode.
    #[error("could not decode response at {path}: {message}")]
    Decode {
        /// JSON path of the failure.
        path: String,
        /// What went wrong.
        message: String,
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
    /// A transport error, stripped of the URL (which never carries secrets here, but keeps messages short).
    pub(crate) fn transport(err: &reqwest::Error) -> Self {
        ClientError::Transport(describe(err))
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        ClientError::Io { path: path.display().to_string(), source }
    }
}

/// A reqwest error with its causes, without the URL.
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
