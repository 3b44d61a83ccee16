//! Shared application state handed to every handler.

use std::sync::Arc;

use candex_domain::Scheme;
use candex_store::Store;

use crate::auth::tokens::TokenService;
use crate::graphql::CandexSchema;
use crate::operator::service::OperatorService;

/// State shared by all routes: one pointer, so the clone every request and layer takes is
/// one reference count (cloning each field was 2% of a `candidateProfile` request).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state of a server.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    /// The state to change before serving (copied if a clone is already out).
    pub fn make_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Clone)]
pub struct Shared {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Issues and verifies tokens.
    pub tokens: Arc<TokenService>,
    /// Operator use cases, shared with the CLI.
    pub operator: Arc<OperatorService>,
    /// SHA-256 of the operator key, when configured.
    pub operator_key_hash: Option<[u8; 32]>,
    /// The GraphQL schema.
    pub schema: CandexSchema,
    /// The same schema validating in fast mode, for documents that passed strict validation
    /// here before ([`crate::graphql::proven`]).
    pub proven_schema: CandexSchema,
    /// Parsed query documents, shared across requests.
    pub docs: Arc<crate::graphql::doc_cache::DocCache>,
    /// The schema's field types, to put `null` where fields failed.
    pub field_types: Arc<crate::graphql::field_errors::FieldTypes>,
    /// What one GraphQL request may cost.
    pub guard: Arc<crate::graphql::guard::Guard>,
    /// Request budgets per address, client id and partner.
    pub limiter: Arc<crate::http::rate_limit::RateLimiter>,
    /// Identifier scheme.
    pub scheme: Scheme,
    /// Public base URL without trailing slash.
    pub public_url: Arc<str>,
    /// Attachment blob storage.
    pub blobs: crate::storage::BlobStore,
    /// Attachment limits and retention.
    pub attachments: Arc<crate::attachments::AttachmentSettings>,
    /// Largest accepted JSON body in bytes.
    pub max_body_bytes: usize,
    /// The last readiness check, shared by `/readyz` callers.
    pub readiness: Arc<crate::http::readiness::Readiness>,
    /// What the GraphQL explorer page is prefilled with.
    pub explorer: Arc<crate::graphql::explorer::ExplorerSettings>,
    /// Every Prometheus series of the server (`GET /metrics`), shared with the dispatcher,
    /// the operator use cases and the router's HTTP layer.
    pub metrics: Arc<crate::metrics::Metrics>,
}
