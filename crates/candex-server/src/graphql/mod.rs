//! The SEEK-compatible GraphQL API: schema construction, the `/graphql` handler (token →
//! [`access::Access`]) and the explorer page.

pub mod access;
pub mod doc_cache;
pub mod error;
pub mod mutation;
pub mod prefetch;
pub mod query;
pub mod query_events;
pub mod relay;
pub mod scalars;
pub mod seq_paging;
pub mod types;
pub mod webhook_rules;

use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use async_graphql::{EmptySubscription, MergedObject, Schema};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse};
use candex_domain::Scheme;
use candex_store::Store;

use crate::state::AppState;

/// The schema type.
pub type CandexSchema = Schema<Query, mutation::Mutation, EmptySubscription>;

/// The query root: the export reads, and the event and webhook reads.
#[derive(Default, MergedObject)]
pub struct Query(query::Query, query_events::EventQueries);

/// Deepest query accepted; SEEK's documented queries need about 8 levels, introspection 13.
pub const MAX_DEPTH: usize = 16;
/// Most complex query accepted (one point per field; lists and connections multiplied by the
/// items they may return). The full documented profile query is ~120, so a page of 100 events
/// with each application fetched inline (as SEEK suggests) is ~12,000. Store reads stay
/// bounded apart from this: lists of profiles load in one statement each
/// ([`prefetch`]), and nested list loads are capped per request.
pub const MAX_COMPLEXITY: usize = 20_000;

/// The query of SEEK's "Exporting candidate profiles" page, verbatim (its indentation
/// included): the contract the demo prints and the tests run.
pub const SEED_QUERY: &str = include_str!("seed_query.graphql");

/// Data every resolver may read.
pub struct SchemaContext {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Identifier scheme.
    pub scheme: Scheme,
    /// Public base URL without trailing slash.
    pub public_url: String,
    /// SSRF policy for webhook subscription targets.
    pub webhook_targets: crate::webhooks::ssrf::TargetPolicy,
    /// Wakes the webhook dispatcher after a replay queues work.
    pub dispatcher: crate::webhooks::Waker,
}

/// Builds the schema; the only constructor, shared by the server, tests and SDL export.
pub fn build_schema(context: SchemaContext) -> CandexSchema {
    Schema::build(Query::default(), mutation::Mutation, EmptySubscription)
        .data(context)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema's SDL, for compatibility checks.
pub fn sdl() -> String {
    Schema::build(Query::default(), mutation::Mutation, EmptySubscription).finish().sdl()
}

/// `POST /graphql`: verifies the bearer token (if any) once, then executes.
pub async fn graphql_handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let caller = match crate::auth::bearer_token(&headers) {
        None => Err(access::AuthProblem::Missing),
        Some(token) => state.tokens.verify(token).map_err(access::AuthProblem::Token),
    };
    let access = access::Access::new(caller, state.store.clone());
    let mut request = request.into_inner().data(access).data(prefetch::Prefetched::default());
    state.docs.prepare(&mut request);
    state.schema.execute(request).await.into()
}

/// `GET /graphql`: the GraphiQL explorer.
pub async fn explorer() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").title("candex GraphQL explorer").finish())
}
