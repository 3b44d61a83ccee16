//! `candex-client`: a client for SEEK's application-export API that works against SEEK and candex alike.
//!
//! What it does for a partner's exporter:
//! * [`Client`] fetches and caches partner tokens (honouring each `expires_in`, refreshing early,
//!   one refresh shared by concurrent callers), sends `User-Agent` and a fresh `X-Request-Id` per call,
//!   retries once on `UNAUTHENTICATED`, never on `FORBIDDEN`, and backs off on 429/502/503/504 and
//!   connection errors (honouring `Retry-After`). [`ClientConfig::builder`] sets it up.
//! * [`ops`] holds the typed operations; the query text lives in `graphql/*.graphql`.
//! * [`EventsPager`] pages the `events` stream and hands back the cursor to persist.
//! * [`WebhookVerifier`] checks `Seek-Signature` and Standard Webhooks signatures in constant time;
//!   [`WebhookBody`] decodes webhook bodies leniently.
//! * [`Client::download`] streams an attachment to disk with `Range` resume, RFC 6266 file names and SHA-256.
//! * [`ClientError`] says what failed; the underlying error, if any, is its
//!   [`source`](std::error::Error::source).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use candex_client::{Client, ClientConfig, EventsPager, WebhookBody, WebhookVerifier};
//!
//! # async fn example(raw_body: &[u8], seek_signature: &str) -> Result<(), Box<dyn std::error::Error>> {
//! // A client for a candex server (leave out `.server(..)` to talk to SEEK).
//! let config = ClientConfig::builder("client-id", "client-secret")
//!     .server("http://127.0.0.1:8080")
//!     .user_agent("my-ats-exporter/1.0")
//!     .request_timeout(Duration::from_secs(30))
//!     .build();
//! let client = Client::new(config)?;
//!
//! // Page the events stream from the start, fetching each new application's profile.
//! let mut pager = EventsPager::new(client.clone(), "seekAnzPublicTest", None);
//! while let Some(page) = pager.next_page().await? {
//!     for edge in &page.events {
//!         if let Some(id) = edge.node.as_ref().and_then(|e| e.candidate_application_profile_id.as_deref()) {
//!             let profile = client.candidate_profile(id).await?;
//!             println!("{id}: {}", if profile.is_some() { "fetched" } else { "gone" });
//!         }
//!     }
//!     // Persist `page.cursor` here, once the page is processed.
//! }
//!
//! // In a webhook handler: check the signature over the raw bytes before parsing them.
//! let verifier = WebhookVerifier::new("the subscription secret");
//! verifier.verify_seek_signature(raw_body, seek_signature)?;
//! let body = WebhookBody::parse(raw_body)?;
//! println!("{} events", body.events.len());
//! # Ok(())
//! # }
//! ```
//!
//! Types are hand-written serde structs rather than `graphql_client`-generated ones: decoding must be
//! lenient (unknown fields ignored, unknown code values kept as strings, nulls where the schema promises
//! values tolerated), which generated code makes strict by design (closed enums, required fields), and the
//! selection is small enough to mirror by hand. The operations run against a real candex server in the
//! tests, and the server's own tests check its schema against SEEK's.

mod attachment;
mod client;
mod config;
mod error;
mod events;
pub mod ops;
mod token;
mod webhook;

pub use attachment::{parse_content_disposition, part_path, Downloaded};
pub use client::{Client, GraphqlError, GraphqlResponse};
pub use config::{ClientConfig, ClientConfigBuilder, SEEK_AUDIENCE, SEEK_GRAPHQL_URL, SEEK_TOKEN_URL};
pub use error::ClientError;
pub use events::{EventsPager, Page};
pub use webhook::{VerifyError, WebhookBody, WebhookEvent, WebhookVerifier};
