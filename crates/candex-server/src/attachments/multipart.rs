//! `POST /operator/v1/applications` as `multipart/form-data`: a first part named
//! `application` with the application JSON, then one part per file, each named by an entry of
//! the JSON's `attachments[].file`. Files stream into blob storage as they arrive; a refused
//! request stores nothing and leaves no blob behind.

use axum::extract::Multipart;
use candex_domain::input::{ApplicationInput, AttachmentSource, MAX_ATTACHMENTS};
use candex_domain::FieldErrors;
use candex_store::IngestedApplication;

use crate::error::ApiError;
use crate::operator::json;
use crate::operator::service::ServiceError;
use crate::operator::uploads::{PreparedApplication, UploadedAttachment};
use crate::state::AppState;

/// The largest multipart body accepted: the JSON part plus the most files of the largest size
/// (with room for part headers).
pub fn body_limit(json_limit: usize, max_file_bytes: u64) -> usize {
    let files = (max_file_bytes.saturating_add(64 * 1024)).saturating_mul(MAX_ATTACHMENTS as u64);
    usize::try_from(files).unwrap_or(usize::MAX).saturating_add(json_limit)
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!("could not read the multipart body: {}", e.body_text()))
}

/// Reads the rest of the body, so that the client, still sending, reads the error answer
/// rather than a reset connection. Bounded by the body limit.
async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// Ingests one multipart application.
pub async fn ingest(state: &AppState, mut multipart: Multipart) -> Result<IngestedApplication, ApiError> {
    let mut uploads: Vec<UploadedAttachment> = Vec::new();
    let result = ingest_inner(state, &mut multipart, &mut uploads).await;
    if result.is_err() {
        state.operator.discard_uploads(&uploads).await;
        drain(&mut multipart).await;
    }
    result
}

async fn ingest_inner(
    state: &AppState,
    multipart: &mut Multipart,
    done: &mut Vec<UploadedAttachment>,
) -> Result<IngestedApplication, ApiError> {
    const FIRST: &str = "the first part of a multipart application must be named `application` and carry the \
                         application JSON; file parts follow it";
    let Some(mut first) = multipart.next_field().await.map_err(multipart_error)? else {
        return Err(ApiError::BadRequest(format!("the multipart body is empty: {FIRST}")));
    };
    if first.name() != Some("application") {
        let got = first.name().unwrap_or_default().to_owned();
        return Err(ApiError::BadRequest(format!("{FIRST} (the first part is named `{got}`)")));
    }
    let mut json_bytes = Vec::new();
    while let Some(chunk) = first.chunk().await.map_err(multipart_error)? {
        if json_bytes.len() + chunk.len() > state.max_body_bytes {
            return Err(ApiError::BodyTooLarge);
        }
        json_bytes.extend_from_slice(&chunk);
    }
    drop(first);
    let input: ApplicationInput = json::parse(&json_bytes)?;
    let app = state.operator.validate_application(input)?;

    let mut errors = FieldErrors::new();
    let mut names: Vec<(String, String)> = Vec::with_capacity(app.attachments.len());
    for (i, spec) in app.attachments.iter().enumerate() {
        match &spec.source {
            AttachmentSource::Part(name) => names.push((name.clone(), format!("/attachments/{i}/file"))),
            AttachmentSource::Path(_) => errors.add(
                format!("/attachments/{i}/path"),
                "`path` is for candex import; over HTTP name the multipart part carrying the file in `file`",
            ),
        }
    }
    errors.into_result(()).map_err(ApiError::Invalid)?;

    let mut slots: Vec<Option<UploadedAttachment>> = vec![None; app.attachments.len()];
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let Some(index) = names.iter().position(|(n, _)| *n == name) else {
            return Err(ApiError::Invalid(FieldErrors::single(
                "/attachments",
                format!("the part `{name}` is not referenced by any /attachments/N/file"),
            )));
        };
        let pointer = names[index].1.clone();
        if slots[index].is_some() {
            return Err(ApiError::Invalid(FieldErrors::single(pointer, format!("the part `{name}` was sent twice"))));
        }
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let mut pending = state.operator.begin_upload(
            &pointer,
            &app.attachments[index],
            file_name.as_deref(),
            content_type.as_deref(),
        )?;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => pending.write(chunk).await?,
                Ok(None) => break,
                Err(e) => {
                    pending.abort().await;
                    return Err(multipart_error(e));
                }
            }
        }
        let uploaded = pending.finish().await?;
        done.push(uploaded.clone());
        slots[index] = Some(uploaded);
    }
    let mut missing = FieldErrors::new();
    for ((name, pointer), slot) in names.iter().zip(&slots) {
        if slot.is_none() {
            missing.add(pointer, format!("no part named `{name}` was sent"));
        }
    }
    missing.into_result(()).map_err(ApiError::Invalid)?;
    let attachments = slots.into_iter().flatten().collect();
    let mut stored = state.operator.ingest_prepared(vec![PreparedApplication { app, attachments }]).await?;
    stored.pop().ok_or_else(|| {
        ApiError::from(ServiceError::Store(candex_store::StoreError::Rejected("nothing was stored".into())))
    })
}
