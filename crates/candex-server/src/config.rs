//! Server settings: built by the binary from flags and `CANDEX_*` variables, or in code by tests.

use std::time::Duration;

use candex_domain::Scheme;
use sha2::{Digest, Sha256};

/// The `audience` values SEEK documents for its token endpoint: production and Playground.
pub const SEEK_AUDIENCES: [&str; 2] = ["https://graphql.seek.com", "https://test.graphql.seek.com"];

/// Everything the server needs besides its listener and store.
#[derive(Clone)]
pub struct Settings {
    /// Absolute base URL partners use (`https://candex.example.com`); `None` derives
    /// `http://<bound address>` once the listener is bound. Token audience and issuer default
    /// to it.
    pub public_url: Option<url::Url>,
    /// Identifier scheme for minted ids.
    pub scheme: Scheme,
    /// SHA-256 of the operator key; `None` disables the operator API (every call is 401).
    pub operator_key_hash: Option<[u8; 32]>,
    /// Partner token settings.
    pub tokens: TokenSettings,
    /// The key-encryption key that seals the secrets kept in the database (signing keys,
    /// webhook secrets). The binary always configures one; `Default` makes a random one, so
    /// that servers built in code never store a secret in plain text.
    pub master_key: crate::auth::master_key::MasterKey,
    /// Largest accepted request body in bytes (JSON).
    pub max_body_bytes: usize,
    /// Where attachment blobs live; `None` keeps them in memory (tests and embedding only:
    /// the binary always configures a location).
    pub blobs: Option<crate::storage::BlobLocation>,
    /// Attachment limits and retention.
    pub attachments: crate::attachments::AttachmentSettings,
    /// Webhook delivery, SSRF policy and event retention.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// Connection and request-time limits of the HTTP server.
    pub http: HttpLimits,
    /// What one GraphQL document may cost before it is parsed, validated or cached.
    pub graphql: GraphqlLimits,
    /// Request budgets per source address, client id and partner.
    pub rate_limits: RateLimits,
    /// Origins whose pages may call `/graphql` and download attachments with a browser token
    /// (CORS), as `scheme://host[:port]`, or `*` for any; empty (the default) allows none.
    pub cors_allowed_origins: Vec<String>,
    /// Let partners record process history on application profiles and read it back
    /// (`seekProcessHistory`, the operator API): candex's extension, off by default, when
    /// behaviour is exactly SEEK's (process history is for uploaded candidates only).
    pub process_history_on_applications: bool,
}

/// Connection and request-time limits of the HTTP server; every one bounds what a client
/// can hold without sending a complete request.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// Connections served at once; a connection beyond it is answered `503` and closed.
    pub max_connections: usize,
    /// Time a client has to send a complete request head, counted from the connection's
    /// start or the end of its previous response (so also HTTP/1's keep-alive idle limit).
    pub header_read_timeout: Duration,
    /// A connection (HTTP/1 or HTTP/2) with no request in flight and no bytes moving for
    /// this long is closed.
    pub idle_timeout: Duration,
    /// Longest a request may take, body reading and execution included; answered `408`.
    pub request_timeout: Duration,
    /// After a shutdown signal, how long in-flight requests may take before the remaining
    /// connections are dropped.
    pub shutdown_grace: Duration,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
        }
    }
}

/// Bounds on one GraphQL request, checked before the step they protect.
#[derive(Clone, Debug)]
pub struct GraphqlLimits {
    /// Longest query text in bytes (checked before lexing).
    pub max_query_bytes: usize,
    /// Most lexical tokens in the query text (checked before parsing).
    pub max_tokens: usize,
    /// Deepest nesting of `{`, `[` and `(` in the query text, and of arrays and objects in
    /// the request JSON (checked before parsing, so the parsers cannot overflow the stack).
    pub max_nesting: usize,
    /// Most fields, fragment spreads, inline fragments and directives in the document with
    /// every fragment spread expanded (checked before validation, with memoised fragments,
    /// so refusing a fan-out costs microseconds).
    pub max_selections: usize,
    /// Bytes of parsed documents kept for reuse (estimated); only documents that passed
    /// validation for an authenticated caller are kept.
    pub cache_bytes: usize,
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        Self {
            max_query_bytes: 64 * 1024,
            max_tokens: 10_000,
            max_nesting: 64,
            max_selections: 5_000,
            cache_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A token bucket: `per_second` requests on average, up to `burst` at once. A rate of zero
/// turns the limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per second; 0 = unlimited.
    pub per_second: u32,
    /// Requests allowed at once after a quiet period.
    pub burst: u32,
}

impl Rate {
    /// No limit.
    pub const UNLIMITED: Rate = Rate { per_second: 0, burst: 0 };

    /// `per_second` sustained with a burst of `burst`.
    pub const fn new(per_second: u32, burst: u32) -> Self {
        Self { per_second, burst }
    }

    /// Whether this rate limits anything.
    pub fn is_limited(&self) -> bool {
        self.per_second > 0
    }
}

/// Request budgets. Exceeding one answers `429 Too Many Requests` with `Retry-After`.
#[derive(Clone, Debug)]
pub struct RateLimits {
    /// `POST /oauth/token` and `POST /auth/token` per source address.
    pub token_per_address: Rate,
    /// `POST /oauth/token` per client id (bounds secret guessing spread over addresses).
    pub token_per_client: Rate,
    /// `POST /graphql` without a valid token, per source address.
    pub anonymous_graphql_per_address: Rate,
    /// `POST /graphql` and attachment downloads per authenticated partner.
    pub partner: Rate,
    /// Take the client address from the last `X-Forwarded-For` entry (set when candex runs
    /// behind a reverse proxy that appends it); otherwise the TCP peer address is used.
    pub trust_forwarded_for: bool,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            token_per_address: Rate::new(10, 50),
            token_per_client: Rate::new(5, 25),
            anonymous_graphql_per_address: Rate::new(20, 100),
            partner: Rate::new(2_000, 10_000),
            trust_forwarded_for: false,
        }
    }
}

/// Partner token settings.
#[derive(Clone)]
pub struct TokenSettings {
    /// `iss` claim; defaults to the public URL.
    pub issuer: Option<String>,
    /// Accepted and issued `aud`; defaults to the public URL.
    pub audience: Option<String>,
    /// Further `audience` values a token request may name (SEEK's documented ones by
    /// default), so an integration written for SEEK needs no change; tokens are still issued
    /// for, and checked against, `audience`.
    pub accepted_audiences: Vec<String>,
    /// Token lifetime.
    pub lifetime: Duration,
    /// HMAC signing key to install as the current key (see `TokenService::load`); `None` uses
    /// the key stored in the database (generated on first start).
    pub signing_key: Option<Vec<u8>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: None,
            scheme: Scheme::default(),
            operator_key_hash: None,
            master_key: crate::auth::master_key::MasterKey::generate().0,
            tokens: TokenSettings {
                issuer: None,
                audience: None,
                accepted_audiences: SEEK_AUDIENCES.iter().map(|a| (*a).to_owned()).collect(),
                lifetime: Duration::from_secs(1800),
                signing_key: None,
            },
            max_body_bytes: 1024 * 1024,
            blobs: None,
            attachments: crate::attachments::AttachmentSettings::default(),
            webhooks: crate::webhooks::WebhookSettings::default(),
            http: HttpLimits::default(),
            graphql: GraphqlLimits::default(),
            rate_limits: RateLimits::default(),
            cors_allowed_origins: Vec::new(),
            process_history_on_applications: false,
        }
    }
}

impl Settings {
    /// Sets the operator key, keeping only its hash.
    pub fn with_operator_key(mut self, key: &str) -> Self {
        self.operator_key_hash = Some(Sha256::digest(key.as_bytes()).into());
        self
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("public_url", &self.public_url.as_ref().map(url::Url::as_str))
            .field("scheme", &self.scheme.as_str())
            .field("operator_key", &self.operator_key_hash.map(|_| "<configured>"))
            .field("master_key", &self.master_key)
            .field("token_lifetime_s", &self.tokens.lifetime.as_secs())
            .field("signing_key", &self.tokens.signing_key.as_ref().map(|_| "<configured>"))
            .field("blobs", &self.blobs.as_ref().map(ToString::to_string))
            .field("attachments", &self.attachments)
            .field("webhooks", &self.webhooks)
            .field("http", &self.http)
            .field("graphql", &self.graphql)
            .field("rate_limits", &self.rate_limits)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("process_history_on_applications", &self.process_history_on_applications)
            .finish()
    }
}
