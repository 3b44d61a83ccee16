//! HTTP handlers of `/operator/v1`: parse, call the service, shape the response. Every route
//! requires the operator key except the OpenAPI document and its reference page.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use base64::Engine;
use candex_domain::input::{ApplicationInput, PersonInput, PositionInput};
use candex_domain::FieldErrors;
use serde::Deserialize;

use super::dto::*;
use super::json::JsonBody;
use crate::auth::operator_key::Operator;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// The operator router, mounted at `/operator/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/reference", get(super::reference::reference))
        .route("/hirers", post(create_hirer).get(list_hirers))
        .route("/partners", post(create_partner).get(list_partners))
        .route("/partners/{partner_id}/relationships/{hirer_id}", put(set_relationships))
        .route("/partners/{partner_id}/client-secrets", post(rotate_client_secret))
        .route("/partners/{partner_id}/client-secrets/retire", post(retire_client_secret))
        .route("/partners/{partner_id}/tokens/revoke", post(revoke_tokens))
        .route("/positions", post(create_position).get(list_positions))
        .route("/positions/{id}", get(get_position))
        .route("/positions/{id}/close", post(close_position))
        .route("/positions/{id}/applications", get(list_applications))
        .route("/candidate-profiles/{id}/process-history", get(list_process_history))
        // The handler applies its own limits: 1 MiB for JSON, the attachment limits for multipart.
        .route("/applications", post(ingest_application).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/candidates/{candidate_id}/person", put(update_person))
        .route("/candidates/{candidate_id}", delete(erase_candidate))
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(super::openapi::document())
}

/// Create a hirer.
#[utoipa::path(post, path = "/operator/v1/hirers", request_body = NameInput, tag = "hirers",
    responses((status = 201, body = HirerResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn create_hirer(
    _: Operator,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<NameInput>,
) -> ApiResult<(StatusCode, Json<HirerResponse>)> {
    let hirer = state.operator.create_hirer(input.name).await?;
    tracing::info!(hirer.id = %hirer.id, "created hirer `{}`", hirer.id);
    Ok((StatusCode::CREATED, Json(hirer.into())))
}

/// List hirers by name.
#[utoipa::path(get, path = "/operator/v1/hirers", tag = "hirers",
    responses((status = 200, body = Vec<HirerResponse>), (status = 401, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn list_hirers(_: Operator, State(state): State<AppState>) -> ApiResult<Json<Vec<HirerResponse>>> {
    let hirers = state.store.list_hirers().await.map_err(store_err)?;
    Ok(Json(hirers.into_iter().map(Into::into).collect()))
}

/// Create a partner. The response is the only place the client secret ever appears.
#[utoipa::path(post, path = "/operator/v1/partners", request_body = NameInput, tag = "partners",
    responses((status = 201, body = PartnerResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn create_partner(
    _: Operator,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<NameInput>,
) -> ApiResult<(StatusCode, Json<PartnerResponse>)> {
    let created = state.operator.create_partner(input.name).await?;
    tracing::info!(partner.id = %created.partner.id, "created partner `{}`", created.partner.id);
    Ok((StatusCode::CREATED, Json(PartnerResponse::from_partner(created.partner, Some(created.client_secret)))))
}

/// List partners by name (without secrets).
#[utoipa::path(get, path = "/operator/v1/partners", tag = "partners",
    responses((status = 200, body = Vec<PartnerResponse>), (status = 401, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn list_partners(_: Operator, State(state): State<AppState>) -> ApiResult<Json<Vec<PartnerResponse>>> {
    let partners = state.store.list_partners().await.map_err(store_err)?;
    Ok(Json(partners.into_iter().map(|p| PartnerResponse::from_partner(p, None)).collect()))
}

/// Replace the relationships a partner holds with a hirer; an empty list revokes them all.
#[utoipa::path(put, path = "/operator/v1/partners/{partner_id}/relationships/{hirer_id}", tag = "partners",
    request_body = RelationshipsInput,
    params(("partner_id" = String, Path, description = "Partner id"), ("hirer_id" = String, Path, description = "Hirer id")),
    responses((status = 200, body = RelationshipsResponse), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn set_relationships(
    _: Operator,
    State(state): State<AppState>,
    Path((partner_id, hirer_id)): Path<(String, String)>,
    JsonBody(input): JsonBody<RelationshipsInput>,
) -> ApiResult<Json<RelationshipsResponse>> {
    let set = state.operator.set_relationships(&partner_id, &hirer_id, input.relationship_type_codes).await?;
    tracing::info!(partner.id = %partner_id, hirer.id = %hirer_id, codes = ?set.codes(), "set relationships of partner `{partner_id}`");
    Ok(Json(RelationshipsResponse { partner_id, hirer_id, relationship_type_codes: set.codes() }))
}

/// Rotate a partner's client secret: a new secret, returned only here; the previous one stays
/// valid until it is retired (at most two at a time: `409` until then).
#[utoipa::path(post, path = "/operator/v1/partners/{partner_id}/client-secrets", tag = "partners",
    params(("partner_id" = String, Path, description = "Partner id")),
    responses((status = 201, body = ClientSecretResponse), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn rotate_client_secret(
    _: Operator,
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
) -> ApiResult<(StatusCode, Json<ClientSecretResponse>)> {
    let client_secret = state.operator.rotate_client_secret(&partner_id).await?;
    tracing::info!(partner.id = %partner_id, "rotated the client secret of partner `{partner_id}`");
    Ok((StatusCode::CREATED, Json(ClientSecretResponse { partner_id, client_secret })))
}

/// Retire a partner's previous client secret: from now on only the newest one works. Tokens
/// already issued stay valid until they expire or are revoked.
#[utoipa::path(post, path = "/operator/v1/partners/{partner_id}/client-secrets/retire", tag = "partners",
    params(("partner_id" = String, Path, description = "Partner id")),
    responses((status = 200, body = RetiredSecretResponse), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn retire_client_secret(
    _: Operator,
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
) -> ApiResult<Json<RetiredSecretResponse>> {
    let retired = state.operator.retire_client_secret(&partner_id).await?;
    tracing::info!(partner.id = %partner_id, retired, "retired the previous client secret of partner `{partner_id}`");
    Ok(Json(RetiredSecretResponse { partner_id, retired }))
}

/// Revoke every token issued to a partner so far, on every instance at once; the partner
/// requests new ones with its client credentials.
#[utoipa::path(post, path = "/operator/v1/partners/{partner_id}/tokens/revoke", tag = "partners",
    params(("partner_id" = String, Path, description = "Partner id")),
    responses((status = 200, body = RevokedTokensResponse), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn revoke_tokens(
    _: Operator,
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
) -> ApiResult<Json<RevokedTokensResponse>> {
    let at = state.operator.revoke_tokens(&partner_id).await?;
    tracing::info!(partner.id = %partner_id, "revoked the tokens of partner `{partner_id}`");
    Ok(Json(RevokedTokensResponse { partner_id, tokens_not_before: candex_domain::time::format_rfc3339_ms(&at) }))
}

/// Post a job ad for a hirer.
#[utoipa::path(post, path = "/operator/v1/positions", request_body = PositionInput, tag = "positions",
    responses((status = 201, body = PositionResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn create_position(
    _: Operator,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<PositionInput>,
) -> ApiResult<(StatusCode, Json<PositionResponse>)> {
    let position = state.operator.create_position(input).await?;
    tracing::info!(position.id = %position.profile_id, "posted position profile `{}`", position.profile_id);
    Ok((StatusCode::CREATED, Json(position.into())))
}

/// Filter of `GET /positions`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PositionFilter {
    /// Only this hirer's job ads.
    pub hirer_id: Option<String>,
}

/// List job ads, newest first.
#[utoipa::path(get, path = "/operator/v1/positions", tag = "positions", params(PositionFilter),
    responses((status = 200, body = Vec<PositionResponse>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn list_positions(
    _: Operator,
    State(state): State<AppState>,
    filter: Result<Query<PositionFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<PositionResponse>>> {
    let Query(filter) = filter.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let hirer = filter
        .hirer_id
        .map(|h| candex_domain::HirerId::parse(&h))
        .transpose()
        .map_err(|e| ApiError::Invalid(FieldErrors::single("/hirerId", e.to_string())))?;
    let positions = state.store.list_positions(hirer.as_ref()).await.map_err(store_err)?;
    Ok(Json(positions.into_iter().map(Into::into).collect()))
}

/// Read a job ad.
#[utoipa::path(get, path = "/operator/v1/positions/{id}", tag = "positions",
    params(("id" = String, Path, description = "Position profile id")),
    responses((status = 200, body = PositionResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn get_position(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<PositionResponse>> {
    Ok(Json(state.operator.get_position(&id).await?.into()))
}

/// Close a job ad; it takes no more applications. Closing twice is harmless.
#[utoipa::path(post, path = "/operator/v1/positions/{id}/close", tag = "positions",
    params(("id" = String, Path, description = "Position profile id")),
    responses((status = 200, body = PositionResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn close_position(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<PositionResponse>> {
    let position = state.operator.close_position(&id).await?;
    tracing::info!(position.id = %position.profile_id, "closed position profile `{}`", position.profile_id);
    Ok(Json(position.into()))
}

/// Paging of `GET /positions/{id}/applications`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// `nextCursor` of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<String>,
}

/// List a job ad's applications in ingest order.
#[utoipa::path(get, path = "/operator/v1/positions/{id}/applications", tag = "positions",
    params(("id" = String, Path, description = "Position profile id"), PageParams),
    responses((status = 200, body = ApplicationsPage), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn list_applications(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Query<PageParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ApplicationsPage>> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let (limit, after) = page_params(&params)?;
    let mut rows = state.operator.list_applications(&id, after, limit + 1).await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_cursor(r.seq))
    } else {
        None
    };
    Ok(Json(ApplicationsPage { applications: rows.iter().map(Into::into).collect(), next_cursor }))
}

/// `limit` (1 to 200, default 50) and `after` of a page request, every problem named.
fn page_params(params: &PageParams) -> ApiResult<(u32, Option<i64>)> {
    let mut errors = FieldErrors::new();
    let limit = match params.limit.as_deref().map(str::parse::<u32>) {
        None => 50,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        Some(_) => {
            errors.add("/limit", "must be a whole number from 1 to 200");
            0
        }
    };
    let after = params.after.as_deref().map(decode_cursor).transpose().unwrap_or_else(|_| {
        errors.add("/after", "is not a cursor returned by this endpoint");
        None
    });
    errors.into_result((limit, after)).map_err(ApiError::Invalid)
}

/// List a candidate profile's process history (statuses such as shortlisted, interviewed,
/// offered, rejected) in recording order: what partners recorded on the application with
/// `--process-history-on-applications`, so a job board can show candidates where their
/// application stands. Empty unless the extension is (or was) on.
#[utoipa::path(get, path = "/operator/v1/candidate-profiles/{id}/process-history", tag = "applications",
    params(("id" = String, Path, description = "Candidate profile id"), PageParams),
    responses((status = 200, body = ProcessHistoryPage), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn list_process_history(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Query<PageParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ProcessHistoryPage>> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let (limit, after) = page_params(&params)?;
    let mut items = state.operator.list_process_history(&id, after, limit + 1).await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|i| encode_cursor(i.seq))
    } else {
        None
    };
    Ok(Json(ProcessHistoryPage { items: items.into_iter().map(Into::into).collect(), next_cursor }))
}

fn encode_cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, ()> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| ())?;
    let text = String::from_utf8(bytes).map_err(|_| ())?;
    text.strip_prefix("seq:").and_then(|n| n.parse().ok()).ok_or(())
}

/// Ingest one job application: JSON, or `multipart/form-data` with the JSON as a first part
/// named `application` followed by one part per attached file (each named by an entry of
/// `attachments[].file`). Stored atomically: an invalid application stores nothing (no file
/// either) and names every invalid field; a file over the size limit answers 413.
#[utoipa::path(post, path = "/operator/v1/applications", tag = "applications",
    request_body(content(
        (ApplicationInput = "application/json"),
        (ApplicationUpload = "multipart/form-data"),
    )),
    responses((status = 201, body = ApplicationResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn ingest_application(
    _: Operator,
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<ApplicationResponse>)> {
    use axum::extract::FromRequest;
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let limit = if is_multipart {
        crate::attachments::multipart::body_limit(state.max_body_bytes, state.attachments.max_bytes)
    } else {
        state.max_body_bytes
    };
    let req = req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    let stored = if is_multipart {
        let multipart = axum::extract::Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("could not read the multipart body: {}", e.body_text())))?;
        crate::attachments::multipart::ingest(&state, multipart).await?
    } else {
        let JsonBody(input) = JsonBody::<ApplicationInput>::from_request(req, &state).await?;
        state.operator.ingest(input).await?
    };
    tracing::info!(profile.id = %stored.profile_id, candidate.id = %stored.candidate_id,
        "ingested application `{}`", stored.profile_id);
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// Replace a candidate's live person data; every earlier profile shows the change.
#[utoipa::path(put, path = "/operator/v1/candidates/{candidate_id}/person", request_body = PersonInput, tag = "candidates",
    params(("candidate_id" = String, Path, description = "Candidate id")),
    responses((status = 200, body = CandidateResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn update_person(
    _: Operator,
    State(state): State<AppState>,
    Path(candidate_id): Path<String>,
    JsonBody(input): JsonBody<PersonInput>,
) -> ApiResult<Json<CandidateResponse>> {
    let candidate = state.operator.update_person(&candidate_id, input).await?;
    tracing::info!(candidate.id = %candidate.id, "updated person of candidate `{}`", candidate.id);
    Ok(Json(candidate.into()))
}

/// Erase a candidate as SEEK redacts deleted candidates: `formattedName` and `given` become
/// `redacted`, `family` null, contact details, histories, attachments (and their files) and
/// questionnaire answers are removed. Every identifier stays valid; erasing twice is harmless.
/// Partners that hold or may read the candidate's applications are told with a
/// `CandidateErased` event (a candex extension), written in the same transaction.
#[utoipa::path(delete, path = "/operator/v1/candidates/{candidate_id}", tag = "candidates",
    params(("candidate_id" = String, Path, description = "Candidate id")),
    responses((status = 200, body = ErasedResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("operator_key" = [])))]
pub async fn erase_candidate(
    _: Operator,
    State(state): State<AppState>,
    Path(candidate_id): Path<String>,
) -> ApiResult<Json<ErasedResponse>> {
    let erased = state.operator.erase_candidate(&candidate_id).await?;
    tracing::info!(candidate.id = %erased.candidate_id, profiles = erased.profiles, "erased candidate `{}`", erased.candidate_id);
    Ok(Json(erased.into()))
}

fn store_err(e: candex_store::StoreError) -> ApiError {
    super::service::ServiceError::Store(e).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Ok(42));
        assert!(decode_cursor("garbage!").is_err());
    }
}
