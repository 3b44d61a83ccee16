//! Server settings: built by the binary from flags and `CANDEX_*` variables, or in code by tests.

use std::time::Duration;

use candex_domain::Scheme;
use sha2::{Digest, Sha256};

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
    /// Largest accepted request body in bytes (JSON).
    pub max_body_bytes: usize,
    /// Where attachment blobs live; `None` keeps them in memory (tests and embedding only:
    /// the binary always configures a location).
    pub blobs: Option<crate::storage::BlobLocation>,
    /// Attachment limits and retention.
    pub attachments: crate::attachments::AttachmentSettings,
    /// Webhook delivery, SSRF policy and event retention.
    pub webhooks: crate::webhooks::WebhookSettings,
}

/// Partner token settings.
#[derive(Clone)]
pub struct TokenSettings {
    /// `iss` claim; defaults to the public URL.
    pub issuer: Option<String>,
    /// Accepted and issued `aud`; defaults to the public URL.
    pub audience: Option<String>,
    /// Token lifetime.
    pub lifetime: Duration,
    /// HMAC signing key; `None` uses the key stored in the database (generated on first start).
    pub signing_key: Option<Vec<u8>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: None,
            scheme: Scheme::default(),
            operator_key_hash: None,
            tokens: TokenSettings {
                issuer: None,
                audience: None,
                lifetime: Duration::from_secs(1800),
                signing_key: None,
            },
            max_body_bytes: 1024 * 1024,
            blobs: None,
            attachments: crate::attachments::AttachmentSettings::default(),
            webhooks: crate::webhooks::WebhookSettings::default(),
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
            .field("token_lifetime_s", &self.tokens.lifetime.as_secs())
            .field("signing_key", &self.tokens.signing_key.as_ref().map(|_| "<configured>"))
            .field("blobs", &self.blobs.as_ref().map(ToString::to_string))
            .field("attachments", &self.attachments)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}
