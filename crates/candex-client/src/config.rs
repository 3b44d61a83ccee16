//! Client configuration: endpoints, credentials, identification, timeouts and the retry budget.

use std::time::Duration;

/// SEEK's GraphQL endpoint.
pub const SEEK_GRAPHQL_URL: &str = "https://graphql.seek.com/graphql";
/// SEEK's partner token endpoint.
pub const SEEK_TOKEN_URL: &str = "https://auth.seek.com/oauth/token";
/// SEEK's production token audience.
pub const SEEK_AUDIENCE: &str = "https://graphql.seek.com";

/// Where the client talks to and as whom. `Debug` never prints the secret.
#[derive(Clone)]
pub struct ClientConfig {
    /// GraphQL endpoint.
    pub graphql_url: String,
    /// OAuth 2.0 client-credentials token endpoint.
    pub token_url: String,
    /// Token `audience`.
    pub audience: String,
    /// Partner client id.
    pub client_id: String,
    /// Partner client secret.
    pub client_secret: String,
    /// `User-Agent` sent on every request (identify your service and version).
    pub user_agent: String,
    /// Most attempts for one call when the failure is transient (429/502/503/504, connection errors).
    pub max_attempts: u32,
    /// First backoff delay; doubled each attempt, with jitter.
    pub backoff_base: Duration,
    /// Largest backoff delay (also caps an honoured `Retry-After`).
    pub backoff_max: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout for GraphQL and token calls.
    pub request_timeout: Duration,
    /// Longest pause between body chunks of an attachment download.
    pub read_timeout: Duration,
}

impl ClientConfig {
    /// Points at SEEK with these credentials.
    pub fn seek(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            graphql_url: SEEK_GRAPHQL_URL.to_owned(),
            token_url: SEEK_TOKEN_URL.to_owned(),
            audience: SEEK_AUDIENCE.to_owned(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            user_agent: concat!("candex-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_attempts: 4,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
        }
    }

    /// Points all three endpoints at a candex server: `{base}/graphql`, `{base}/oauth/token`, and the
    /// audience = the base URL without a trailing slash (candex's default audience is its public URL).
    pub fn for_server(base_url: &str, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        let base = base_url.trim_end_matches('/');
        Self {
            graphql_url: format!("{base}/graphql"),
            token_url: format!("{base}/oauth/token"),
            audience: base.to_owned(),
            ..Self::seek(client_id, client_secret)
        }
    }
}

impl Default for ClientConfig {
    /// SEEK's endpoints with empty credentials.
    fn default() -> Self {
        Self::seek("", "")
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("graphql_url", &self.graphql_url)
            .field("token_url", &self.token_url)
            .field("audience", &self.audience)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("user_agent", &self.user_agent)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("read_timeout", &self.read_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_server_points_everything_at_the_server() {
        let c = ClientConfig::for_server("http://127.0.0.1:8080/", "id", "s3cret");
        assert_eq!(c.graphql_url, "http://127.0.0.1:8080/graphql");
        assert_eq!(c.token_url, "http://127.0.0.1:8080/oauth/token");
        assert_eq!(c.audience, "http://127.0.0.1:8080");
        let d = ClientConfig::default();
        assert_eq!(d.graphql_url, SEEK_GRAPHQL_URL);
        assert_eq!(d.token_url, SEEK_TOKEN_URL);
        assert_eq!(d.audience, SEEK_AUDIENCE);
    }

    #[test]
    fn debug_redacts_the_secret() {
        let text = format!("{:?}", ClientConfig::seek("id", "s3cret-value"));
        assert!(!text.contains("s3cret-value"), "{text}");
        assert!(text.contains("<redacted>"));
    }
}
