//! The OpenAPI document of `/operator/v1`, generated from the handlers and types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::dto::*;
use super::routes;
use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(title = "candex operator API", description = "How a job board feeds candex: hirers, partners, relationships, job ads and applications. Authorise with `Authorization: Bearer <operator key>`."),
    paths(
        routes::create_hirer, routes::list_hirers, routes::create_partner, routes::list_partners,
        routes::set_relationships, routes::rotate_client_secret, routes::retire_client_secret, routes::revoke_tokens,
        routes::create_position, routes::list_positions, routes::get_position, routes::close_position,
        routes::list_applications, routes::list_process_history, routes::ingest_application, routes::update_person, routes::erase_candidate,
    ),
    components(schemas(ErrorBody, NameInput, RelationshipsInput, HirerResponse, PartnerResponse, RelationshipsResponse,
        PositionResponse, ApplicationResponse, CandidateResponse, ApplicationsPage, ApplicationListItem, ErasedResponse, ApplicationUpload,
        ProcessHistoryPage, ProcessHistoryItemResponse, ClientSecretResponse, RetiredSecretResponse, RevokedTokensResponse)),
    modifiers(&OperatorKey)
)]
struct OperatorApi;

struct OperatorKey;

impl Modify for OperatorKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "operator_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The generated document.
pub fn document() -> utoipa::openapi::OpenApi {
    OperatorApi::openapi()
}
