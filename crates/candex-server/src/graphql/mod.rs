//! The SEEK-compatible GraphQL API: schema construction, the `/graphql` handler (token →
//! [`access::Access`]) and the explorer page ([`explorer`]).

pub mod access;
pub mod direct;
pub mod doc_cache;
pub mod error;
pub mod explorer;
pub mod field_errors;
pub mod guard;
pub mod mutation;
pub mod prefetch;
pub mod process_history;
pub mod proven;
pub mod query;
pub mod query_events;
pub mod relay;
pub mod scalars;
pub mod seq_paging;
pub mod transport;
pub mod types;
pub mod webhook_rules;

use std::sync::Arc;

use async_graphql::{EmptySubscription, MergedObject, Schema};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use candex_domain::{PartnerId, Scheme};
use candex_store::Store;

use crate::auth::tokens::VerifiedToken;
use crate::state::AppState;
use transport::MediaType;

/// The schema type.
pub type CandexSchema = Schema<Query, Mutation, EmptySubscription>;

/// The query root: the export reads, the event and webhook reads, and process history.
#[derive(Default, MergedObject)]
pub struct Query(query::Query, query_events::EventQueries, process_history::ProcessHistoryQueries);

/// The mutation root: the webhook mutations and the process history mutations.
#[derive(Default, MergedObject)]
pub struct Mutation(mutation::Mutation, process_history::ProcessHistoryMutations);

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

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL and most clients send it: the default
/// limits must admit it (checked by the guard's and the API's tests).
pub const INTROSPECTION_QUERY: &str = include_str!("introspection_query.graphql");

/// Data every resolver may read.
#[derive(Clone)]
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
    /// Whether partners may record process history on application profiles (candex's
    /// extension; SEEK keeps process history for uploaded candidates only).
    pub process_history_on_applications: bool,
    /// Seals webhook secrets before they are stored.
    pub master_key: crate::auth::master_key::MasterKey,
}

/// Builds the schema; the only constructor, shared by the server, tests and SDL export.
pub fn build_schema(context: SchemaContext) -> CandexSchema {
    build_schema_validating(context, async_graphql::ValidationMode::Strict)
}

/// The schema that validates with `mode`: `Fast` only for documents [`proven`] valid.
pub fn build_schema_validating(context: SchemaContext, mode: async_graphql::ValidationMode) -> CandexSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .data(context)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .validation_mode(mode)
        .finish()
}

/// The schema's SDL, for compatibility checks.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).finish().sdl()
}

/// `POST /graphql`: verifies the bearer token (if any) once, takes one request from the
/// caller's budget, reads the body within its limit, and only then parses, measures,
/// validates and executes, each step bounded before it runs ([`guard`]). Each request is
/// counted by operation type, and its response's errors by code ([`crate::metrics`]).
pub async fn graphql_handler(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let mut operation_type = None;
    let response = handle(&state, request, &mut operation_type).await;
    state.metrics.graphql_request(operation_type, response.extensions().get());
    response
}

/// The handler's work; sets `operation_type` once the document is parsed.
async fn handle(
    state: &AppState,
    request: axum::extract::Request,
    operation_type: &mut Option<&'static str>,
) -> Response {
    let (parts, body) = request.into_parts();
    let media = MediaType::negotiate(&parts.headers);
    let caller = match crate::auth::bearer_token(&parts.headers) {
        None => Err(access::AuthProblem::Missing),
        Some(token) => state.tokens.authenticate(token).await.map_err(|e| {
            state.metrics.token_verification_refused(e.reason());
            access::AuthProblem::Token(e)
        }),
    };
    let budget = match &caller {
        Ok(token) => state.limiter.partner.check(&token.partner_id),
        Err(_) => match state.limiter.address_of(&parts) {
            Some(address) => state.limiter.anonymous_per_address.check(&address),
            None => Ok(()),
        },
    };
    if let Err(wait) = budget {
        return transport::too_many_requests(media, wait);
    }
    let request = match transport::read_request(state, &parts.headers, media, body).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let authenticated = caller.is_ok();
    let cached = if authenticated { state.docs.get(&request.query) } else { None };
    // A document validated here before, with variables proven of their declared types, skips
    // strict validation ([`proven`]); within what the direct writer covers it is answered from
    // the profile read without the executor, or (on any other outcome) by it ([`direct`]).
    let proven = cached.as_ref().is_some_and(|entry| {
        proven::variables_proven(&entry.doc, request.operation_name.as_deref(), &request.variables)
    });
    let mut read_ahead = None;
    if let (true, Some(entry), Ok(token)) = (proven, &cached, &caller) {
        match answer_directly(state, entry, token, &request).await {
            Some(direct::Outcome::Answered(body)) => {
                *operation_type = Some("query");
                state.metrics.graphql_direct_answer();
                return transport::respond_serialized(media, body);
            }
            Some(direct::Outcome::Declined(read)) => read_ahead = read,
            None => {}
        }
    }
    let partner = caller.as_ref().ok().map(|t| (t.partner_id.clone(), t.clone()));
    let access = access::Access::new(caller, state.store.clone());
    let revocation = access.revocation();
    let mut request = request.data(access).data(prefetch::Prefetched::with_profile_for_partner(read_ahead));
    // Parse and measure, or reuse a document this server already validated for a partner.
    let mutation;
    let schema = if proven { &state.proven_schema } else { &state.schema };
    let fresh = match cached {
        Some(entry) => {
            let doc = &entry.doc;
            *operation_type = Some(doc_operation_type(doc, request.operation_name.as_deref()));
            mutation = *operation_type == Some(MUTATION);
            request.set_parsed_query(doc.clone());
            None
        }
        None => match prepare(&state.guard, &request.query) {
            Ok((doc, tokens)) => {
                *operation_type = Some(doc_operation_type(&doc, request.operation_name.as_deref()));
                mutation = *operation_type == Some(MUTATION);
                // A copy to cache once validation passes: only for an authenticated caller.
                let keep = authenticated.then(|| (doc.clone(), tokens));
                request.set_parsed_query(doc);
                keep
            }
            Err(error) => return transport::request_error(media, error),
        },
    };
    // Kept for the cache and for the field-error repair (the request is consumed).
    let (query, operation_name) = (request.query.clone(), request.operation_name.clone());
    // A revoked token is refused on every request. A mutation is checked before it runs; a
    // query after (it changes nothing, and nothing leaves before the check), and only when
    // no read made for the query carried the answer already (candidateProfile's does).
    if let (true, Some((partner_id, token))) = (mutation, &partner) {
        match revoked(state, partner_id, token).await {
            Ok(false) => revocation.record(false),
            Ok(true) => return revoked_response(state, media),
            Err(response) => return response,
        }
    }
    let mut response = schema.execute(request).await;
    if let Some((partner_id, token)) = &partner {
        let is_revoked = match revocation.known() {
            Some(known) => known,
            None => match revoked(state, partner_id, token).await {
                Ok(known) => known,
                Err(response) => return response,
            },
        };
        if is_revoked {
            return revoked_response(state, media);
        }
    }
    if is_request_error(&response) {
        // Not executed (validation or a limit): a request error, with the status the
        // GraphQL-over-HTTP spec gives for the negotiated media type.
        label_request_errors(&mut response);
        return transport::respond(media, response, true);
    }
    if response.errors.iter().any(|e| !e.path.is_empty()) {
        // Field errors: async-graphql leaves failed fields out; put null where they failed.
        if let Ok(doc) = async_graphql::parser::parse_query(&query) {
            state.field_types.complete(&doc, operation_name.as_deref(), &mut response);
        }
    }
    if let Some((doc, tokens)) = fresh {
        state.docs.insert(&query, tokens, doc);
    }
    transport::respond(media, response, false)
}

/// The direct writer's outcome ([`direct`]) for a request whose document is `entry` and whose
/// variables are proven; `None` unless the document's plan runs the requested operation.
async fn answer_directly(
    state: &AppState,
    entry: &doc_cache::Cached,
    token: &VerifiedToken,
    request: &async_graphql::Request,
) -> Option<direct::Outcome> {
    let plan = entry.plan().filter(|plan| plan.runs(request.operation_name.as_deref()))?;
    Some(direct::answer(state, plan, token, &request.variables).await)
}

/// Whether the partner's tokens were revoked after `token` was issued: one primary-key read.
async fn revoked(state: &AppState, partner_id: &PartnerId, token: &VerifiedToken) -> Result<bool, Response> {
    match state.store.partner_tokens_not_before(partner_id).await {
        Ok(not_before) => Ok(token.is_revoked_by(not_before)),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "could not read the partner's token revocation");
            Err(crate::error::ApiError::from(crate::operator::service::ServiceError::Store(e)).into_response())
        }
    }
}

/// The whole answer to a request with a revoked token, counted as a refused token.
fn revoked_response(state: &AppState, media: MediaType) -> Response {
    state.metrics.token_verification_refused(crate::auth::tokens::REVOKED);
    let response =
        async_graphql::Response::from_errors(vec![guard::coded_error(access::REVOKED, error::UNAUTHENTICATED, None)]);
    transport::respond(media, response, false)
}

const MUTATION: &str = "mutation";

/// The type of operation the document runs (the named operation, or the only one): `query`,
/// `mutation` or `subscription`. Ambiguous without a name (async-graphql refuses it), it is a
/// mutation when any operation is, to be safe.
fn doc_operation_type(
    doc: &async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<&str>,
) -> &'static str {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let name = |ty: OperationType| match ty {
        OperationType::Query => "query",
        OperationType::Mutation => MUTATION,
        OperationType::Subscription => "subscription",
    };
    match &doc.operations {
        DocumentOperations::Single(op) => name(op.node.ty),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name_wanted) => ops.get(name_wanted).map_or("query", |op| name(op.node.ty)),
            None if ops.values().any(|op| op.node.ty == OperationType::Mutation) => MUTATION,
            None => ops.values().next().map_or("query", |op| name(op.node.ty)),
        },
    }
}

/// Scans, parses and measures `query`: a document within every limit, with its token count,
/// or the request error to answer.
fn prepare(
    guard: &guard::Guard,
    query: &str,
) -> Result<(async_graphql::parser::types::ExecutableDocument, usize), async_graphql::ServerError> {
    let shape = guard.check_text(query).map_err(guard::Refusal::into_server_error)?;
    let doc = async_graphql::parser::parse_query(query).map_err(|e| {
        let mut error = guard::coded_error(e.to_string(), guard::PARSE_FAILED, None);
        error.locations = e.positions().collect();
        error
    })?;
    guard.check_document(&doc).map_err(guard::Refusal::into_server_error)?;
    Ok((doc, shape.tokens))
}

/// A response with no data and only errors without a path: the request failed before
/// execution (validation, limits, an unknown operation).
fn is_request_error(response: &async_graphql::Response) -> bool {
    matches!(response.data, async_graphql::Value::Null)
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// Gives async-graphql's request errors a code: the depth and complexity limits
/// `GRAPHQL_LIMIT_EXCEEDED`, everything else `GRAPHQL_VALIDATION_FAILED`.
fn label_request_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
            continue;
        }
        let limit = match error.message.as_str() {
            "Query is nested too deep." => Some("depth"),
            "Query is too complex." => Some("complexity"),
            m if m.starts_with("The recursion depth of the query") => Some("depth"),
            m if m.starts_with("The number of directives on the field") => Some("directives"),
            _ => None,
        };
        error.extensions = Some(match limit {
            Some(limit) => guard::coded_extensions(guard::LIMIT_EXCEEDED, Some(limit)),
            None => guard::coded_extensions(guard::VALIDATION_FAILED, None),
        });
    }
}
