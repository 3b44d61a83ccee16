//! Client configuration: endpoints, credentials, identification, timeouts and the retry budget.

use std::time::Duration;

/// SEEK's GraphQL endpoint.
pub const SEEK_GRAPHQL_URL: &str = "https://graphql.seek.com/graphql";
/// SEEK's partner token endpoint.
pub const SEEK_TOKEN_URL: &str = "https://auth.seek.com/oauth/token";
/// SEEK's production token audience.
pub const SEEK_AUDIENCE: &str = "https://graphql.seek.com";

/// Where the client talks to and as whom. `Debug` never prints the secret.
///
/// Build one with [`ClientConfig::builder`] (or the [`seek`](Self::seek) and
/// [`for_server`](Self::for_server) shortcuts); the fields are public to read. New settings may be
/// added, so the struct cannot be written as a literal outside this crate.
#[derive(Clone)]
#[non_exhaustive]
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
    /// A builder for these credentials, pointing at SEEK until told otherwise
    /// ([`server`](ClientConfigBuilder::server) or the endpoint setters).
    pub fn builder(client_id: impl Into<String>, client_secret: impl Into<String>) -> ClientConfigBuilder {
        ClientConfigBuilder {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            server: None,
            graphql_url: None,
            token_url: None,
            audience: None,
            user_agent: concat!("candex-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_attempts: 4,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
        }
    }

    /// Points at SEEK with these credentials and the default settings.
    pub fn seek(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::builder(client_id, client_secret).build()
    }

    /// Points at a candex server with these credentials and the default settings; see
    /// [`ClientConfigBuilder::server`].
    pub fn for_server(base_url: &str, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::builder(client_id, client_secret).server(base_url).build()
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

/// Builds a [`ClientConfig`]; start with [`ClientConfig::builder`]. Setters may be called in any
/// order: an explicit endpoint or audience wins over the one [`server`](Self::server) derives.
/// `Debug` never prints the secret.
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientConfigBuilder {
    client_id: String,
    client_secret: String,
    server: Option<String>,
    graphql_url: Option<String>,
    token_url: Option<String>,
    audience: Option<String>,
    user_agent: String,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    connect_timeout: Duration,
    request_timeout: Duration,
    read_timeout: Duration,
}

impl ClientConfigBuilder {
    /// Talks to a candex server instead of SEEK: `{base_url}/graphql`, `{base_url}/oauth/token`, and
    /// the audience = the base URL without a trailing slash (candex's default audience is its public URL).
    pub fn server(mut self, base_url: impl AsRef<str>) -> Self {
        self.server = Some(base_url.as_ref().trim_end_matches('/').to_owned());
        self
    }

    /// The GraphQL endpoint (default SEEK's, [`SEEK_GRAPHQL_URL`], or the server's).
    pub fn graphql_url(mut self, url: impl Into<String>) -> Self {
        self.graphql_url = Some(url.into());
        self
    }

    /// The OAuth 2.0 client-credentials token endpoint (default SEEK's, [`SEEK_TOKEN_URL`], or the server's).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The token `audience` (default SEEK's production audience, [`SEEK_AUDIENCE`], or the server's URL).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The `User-Agent` sent on every request: identify your service and version
    /// (default `candex-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Most attempts for one call when the failure is transient (429/502/503/504, connection
    /// errors); default 4. [`Client::new`](crate::Client::new) refuses 0.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// First backoff delay, doubled each attempt, with jitter; default 250 ms.
    pub fn backoff_base(mut self, delay: Duration) -> Self {
        self.backoff_base = delay;
        self
    }

    /// Largest backoff delay, which also caps an honoured `Retry-After`; default 30 s.
    pub fn backoff_max(mut self, delay: Duration) -> Self {
        self.backoff_max = delay;
        self
    }

    /// Connect timeout; default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout for GraphQL and token calls; default 60 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Longest pause between body chunks of an attachment download; default 60 s.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The configuration. Nothing is checked here; [`Client::new`](crate::Client::new) refuses
    /// settings it cannot use.
    pub fn build(self) -> ClientConfig {
        let (graphql_url, token_url, audience) = match &self.server {
            Some(base) => (format!("{base}/graphql"), format!("{base}/oauth/token"), base.clone()),
            None => (SEEK_GRAPHQL_URL.to_owned(), SEEK_TOKEN_URL.to_owned(), SEEK_AUDIENCE.to_owned()),
        };
        ClientConfig {
            graphql_url: self.graphql_url.unwrap_or(graphql_url),
            token_url: self.token_url.unwrap_or(token_url),
            audience: self.audience.unwrap_or(audience),
            client_id: self.client_id,
            client_secret: self.client_secret,
            user_agent: self.user_agent,
            max_attempts: self.max_attempts,
            backoff_base: self.backoff_base,
            backoff_max: self.backoff_max,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            read_timeout: self.read_timeout,
        }
    }
}

impl std::fmt::Debug for ClientConfigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfigBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("server", &self.server)
            .field("graphql_url", &self.graphql_url)
            .field("token_url", &self.token_url)
            .field("audience", &self.audience)
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
        let text = format!("{:?}", ClientConfig::builder("id", "s3cret-value").server("http://x"));
        assert!(!text.contains("s3cret-value"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn builder_defaults_match_the_shortcuts() {
        let built = ClientConfig::builder("id", "s3cret").build();
        let seek = ClientConfig::seek("id", "s3cret");
        assert_eq!(format!("{built:?}"), format!("{seek:?}"));
        assert_eq!(built.client_secret, "s3cret");
        assert_eq!(seek.max_attempts, 4);
        assert_eq!(seek.backoff_base, Duration::from_millis(250));
        assert_eq!(seek.backoff_max, Duration::from_secs(30));
        assert_eq!(seek.connect_timeout, Duration::from_secs(10));
        assert_eq!(seek.request_timeout, Duration::from_secs(60));
        assert_eq!(seek.read_timeout, Duration::from_secs(60));
        assert!(seek.user_agent.starts_with("candex-client/"));
        let built = ClientConfig::builder("id", "s3cret").server("http://127.0.0.1:8080/").build();
        let server = ClientConfig::for_server("http://127.0.0.1:8080/", "id", "s3cret");
        assert_eq!(format!("{built:?}"), format!("{server:?}"));
    }

    #[test]
    fn builder_setters_win_in_any_order() {
        let c = ClientConfig::builder("id", "s3cret")
            .audience("https://aud")
            .server("http://h:1")
            .token_url("http://t/token")
            .user_agent("ats/2")
            .max_attempts(2)
            .backoff_base(Duration::from_millis(5))
            .backoff_max(Duration::from_secs(1))
            .connect_timeout(Duration::from_secs(2))
            .request_timeout(Duration::from_secs(3))
            .read_timeout(Duration::from_secs(4))
            .build();
        assert_eq!(c.graphql_url, "http://h:1/graphql");
        assert_eq!(c.token_url, "http://t/token");
        assert_eq!(c.audience, "https://aud");
        assert_eq!(c.client_id, "id");
        assert_eq!(c.user_agent, "ats/2");
        assert_eq!(c.max_attempts, 2);
        assert_eq!(c.backoff_base, Duration::from_millis(5));
        assert_eq!(c.backoff_max, Duration::from_secs(1));
        assert_eq!(c.connect_timeout, Duration::from_secs(2));
        assert_eq!(c.request_timeout, Duration::from_secs(3));
        assert_eq!(c.read_timeout, Duration::from_secs(4));
        let c = ClientConfig::builder("id", "s3cret").graphql_url("https://gql").build();
        assert_eq!(c.graphql_url, "https://gql");
        assert_eq!(c.token_url, SEEK_TOKEN_URL);
        assert_eq!(c.audience, SEEK_AUDIENCE);
    }
}
