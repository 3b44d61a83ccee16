//! `GET`/`HEAD /{anzPublicTest|anz|scheme}/applications/{profile}/attachments/{attachment}`:
//! attachment downloads, streamed from blob storage, with RFC 6266 `Content-Disposition`,
//! validators, and single byte ranges.
//!
//! A caller without access gets exactly the answer of a missing attachment (404, same body and
//! headers), so attachment ids of other hirers cannot be probed.

use std::ops::Range;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use candex_domain::{AttachmentId, CandidateProfileId, HirerId, IdKind, RelationshipSet, RelationshipType, Scheme};
use candex_store::{AttachmentAccess, AttachmentStore, PartyStore, StoreResult};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::auth::tokens::{TokenKind, VerifiedToken};
use crate::state::AppState;

/// The browser-token scope that allows downloads, as SEEK names it.
pub const DOWNLOAD_SCOPE: &str = "download:candidate-profile-attachments";

/// The body of every 404, for missing and inaccessible attachments alike.
const NOT_FOUND_BODY: &str = r#"{"code":"NOT_FOUND","message":"attachment not found"}"#;

/// The first path segment of attachment URLs for `scheme`, following SEEK's URLs:
/// `anzPublicTest` for `seekAnzPublicTest`, `anz` for `seekAnz`, else the scheme itself.
pub fn scheme_segment(scheme: &Scheme) -> &str {
    match scheme.as_str() {
        "seekAnzPublicTest" => "anzPublicTest",
        "seekAnz" => "anz",
        other => other,
    }
}

/// The route pattern of attachment downloads for `scheme`.
pub fn route_path(scheme: &Scheme) -> String {
    format!("/{}/applications/{{profile}}/attachments/{{attachment}}", scheme_segment(scheme))
}

/// The absolute download URL of an attachment (SEEK's shape).
pub fn attachment_url(
    public_url: &str,
    scheme: &Scheme,
    profile_id: &CandidateProfileId,
    attachment_id: &AttachmentId,
) -> String {
    format!(
        "{}/{}/applications/{}/attachments/{}",
        public_url.trim_end_matches('/'),
        scheme_segment(scheme),
        profile_id.value_segment(),
        attachment_id.value_segment()
    )
}

/// Whether `token` may download an attachment of `hirer_id`, given the relationships the
/// token's partner holds with that hirer: a partner token needs `ApplicationExport`; a browser
/// token must also be bound to that hirer and carry [`DOWNLOAD_SCOPE`].
pub fn may_download(token: &VerifiedToken, hirer_id: &HirerId, relationships: RelationshipSet) -> bool {
    let related = relationships.contains(RelationshipType::ApplicationExport);
    match token.kind {
        TokenKind::Partner => related,
        TokenKind::Browser => related && token.hirer_id.as_ref() == Some(hirer_id) && token.has_scope(DOWNLOAD_SCOPE),
    }
}

/// `Content-Disposition: attachment` with an ASCII `filename` fallback (quotes, backslashes
/// and control characters replaced) and the exact name as RFC 5987 `filename*`.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{}", utf8_percent_encode(filename, ATTR_CHAR))
}

/// Everything but RFC 5987 `attr-char` is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// What a `Range` header asks of a `size`-byte file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: the whole file (absent, malformed, several ranges, or not bytes).
    Full,
    /// One satisfiable range, end exclusive.
    Partial(Range<u64>),
    /// A well-formed range that misses the file: 416.
    Unsatisfiable,
}

/// Parses a `Range` header: one range, `a-b`, `a-` or `-n` (RFC 9110 §14.1.2).
pub fn parse_range(value: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    match (num(first), num(last), last.trim().is_empty()) {
        (Some(start), _, true) => {
            if start < size {
                RangeRequest::Partial(start..size)
            } else {
                RangeRequest::Unsatisfiable
            }
        }
        (Some(start), Some(end), false) if start <= end => {
            if start < size {
                RangeRequest::Partial(start..end.saturating_add(1).min(size))
            } else {
                RangeRequest::Unsatisfiable
            }
        }
        (None, Some(suffix), false) if first.trim().is_empty() => {
            if suffix == 0 || size == 0 {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial(size.saturating_sub(suffix)..size)
            }
        }
        _ => RangeRequest::Full,
    }
}

/// The 404 of a missing or inaccessible attachment: identical bytes in both cases.
fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        NOT_FOUND_BODY,
    )
        .into_response()
}

fn unauthenticated(message: &'static str) -> Response {
    crate::error::ApiError::Unauthenticated(message).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// What a download's authorisation read decided.
enum Decision {
    Download(Box<AttachmentAccess>),
    /// The partner's tokens were revoked after this one was issued.
    Revoked,
    NotFound,
}

/// Decides whether `token` may download attachment `id` now, from one read (the attachment
/// with the partner's grant for its hirer): not if the partner's tokens were revoked since
/// it was issued; otherwise only if the attachment exists, belongs to the profile whose value
/// segment is `profile`, its job ad did not close more than `retention` ago, and the caller
/// passes [`may_download`]. Every refusal but revocation is the same 404.
async fn decide<S>(
    store: &S,
    token: &VerifiedToken,
    id: &AttachmentId,
    profile: &str,
    retention: chrono::Duration,
) -> StoreResult<Decision>
where
    S: AttachmentStore + PartyStore + ?Sized,
{
    let Some((found, grant)) = store.get_attachment_for_partner(id, &token.partner_id).await? else {
        // No row carried the revocation time: a revoked token still gets its 401, not a 404.
        let not_before = store.partner_tokens_not_before(&token.partner_id).await?;
        return Ok(if token.is_revoked_by(not_before) { Decision::Revoked } else { Decision::NotFound });
    };
    if token.is_revoked_by(grant.tokens_not_before) {
        return Ok(Decision::Revoked);
    }
    if found.attachment.profile_id.value_segment() != profile
        || found.position_closed_at.is_some_and(|closed| closed + retention < chrono::Utc::now())
        || !may_download(token, &found.hirer_id, grant.relationships)
    {
        return Ok(Decision::NotFound);
    }
    Ok(Decision::Download(Box::new(found)))
}

/// The download handler for `GET` and `HEAD`.
pub async fn download(
    State(state): State<AppState>,
    method: Method,
    Path((profile, attachment)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = bearer(&headers) else {
        return unauthenticated("no access token: send Authorization: Bearer <partner or browser token>");
    };
    let token = match state.tokens.authenticate(token).await {
        Ok(token) => token,
        Err(e) => {
            state.metrics.token_verification_refused(e.reason());
            return unauthenticated("the access token is invalid or expired");
        }
    };
    if let Err(wait) = state.limiter.partner.check(&token.partner_id) {
        return crate::error::ApiError::RateLimited(wait).into_response();
    }
    let id =
        format!("{}:{}:{}:{attachment}", state.scheme, IdKind::Attachment.type_name(), IdKind::Attachment.namespace());
    let retention = chrono::Duration::days(i64::from(state.attachments.retention_days));
    let decision = match AttachmentId::parse(&id) {
        Ok(id) => decide(state.store.as_ref(), &token, &id, &profile, retention).await,
        // Not an attachment id at all: nothing to find, but a revoked token still gets its 401.
        Err(_) => state.store.partner_tokens_not_before(&token.partner_id).await.map(|not_before| {
            if token.is_revoked_by(not_before) {
                Decision::Revoked
            } else {
                Decision::NotFound
            }
        }),
    };
    let found = match decision {
        Ok(Decision::Download(found)) => *found,
        Ok(Decision::Revoked) => {
            state.metrics.token_verification_refused(crate::auth::tokens::REVOKED);
            return unauthenticated("the access token was revoked; request a new one");
        }
        Ok(Decision::NotFound) => return not_found(),
        Err(e) => {
            return crate::error::ApiError::from(crate::operator::service::ServiceError::Store(e)).into_response()
        }
    };

    let meta = &found.attachment.meta;
    let etag = format!("\"{}\"", meta.sha256);
    let mut out = HeaderMap::new();
    out.insert(header::CONTENT_TYPE, header_value(&meta.content_type));
    out.insert(header::CONTENT_DISPOSITION, header_value(&content_disposition(&meta.filename)));
    out.insert(header::LAST_MODIFIED, header_value(&httpdate::fmt_http_date(meta.uploaded_at.into())));
    out.insert(header::ETAG, header_value(&etag));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));

    let if_none_match = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        out.remove(header::CONTENT_TYPE);
        out.remove(header::CONTENT_DISPOSITION);
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }

    let size = meta.size;
    let (status, range) = match parse_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), size) {
        RangeRequest::Full => (StatusCode::OK, None),
        RangeRequest::Partial(r) => {
            out.insert(header::CONTENT_RANGE, header_value(&format!("bytes {}-{}/{size}", r.start, r.end - 1)));
            (StatusCode::PARTIAL_CONTENT, Some(r))
        }
        RangeRequest::Unsatisfiable => {
            out.insert(header::CONTENT_RANGE, header_value(&format!("bytes */{size}")));
            out.remove(header::CONTENT_DISPOSITION);
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            return (StatusCode::RANGE_NOT_SATISFIABLE, out).into_response();
        }
    };
    let length = range.as_ref().map_or(size, |r| r.end - r.start);
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if method == Method::HEAD || length == 0 {
        return (status, out, Body::empty()).into_response();
    }
    if let Some(bytes) = state.blobs.read_small(&meta.sha256, range.clone().unwrap_or(0..size)) {
        return (status, out, Body::from(bytes)).into_response();
    }
    match state.blobs.read(&meta.sha256, range).await {
        Ok(stream) => (status, out, Body::from_stream(stream)).into_response(),
        Err(e) => {
            tracing::warn!(attachment.id = %meta.id, "attachment blob unreadable");
            crate::error::ApiError::from(e).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Partial(0..4));
        assert_eq!(parse_range(Some("bytes=4-"), 10), Partial(4..10));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Partial(7..10));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Partial(0..10));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Partial(5..10));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=3-1"), 10), Full);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Full);
        assert_eq!(parse_range(Some("bytes=x-1"), 10), Full);
    }

    #[test]
    fn content_disposition_is_safe_and_exact() {
        assert_eq!(
            content_disposition("my cv.pdf"),
            "attachment; filename=\"my cv.pdf\"; filename*=UTF-8''my%20cv.pdf"
        );
        assert_eq!(
            content_disposition("Zoë \"the\" CV\\.pdf"),
            "attachment; filename=\"Zo_ _the_ CV_.pdf\"; filename*=UTF-8''Zo%C3%AB%20%22the%22%20CV%5C.pdf"
        );
        let evil = content_disposition("evil\r\nSet-Cookie: x");
        assert!(!evil.contains('\r') && !evil.contains('\n'), "{evil}");
        assert!(HeaderValue::from_str(&evil).is_ok());
    }

    #[test]
    fn urls_follow_seeks_shape() {
        let p = CandidateProfileId::parse("seekAnzPublicTest:candidateProfile:apply:4QM5").unwrap();
        let a = AttachmentId::parse("seekAnzPublicTest:attachment:apply:7wS9").unwrap();
        let scheme = Scheme::default();
        assert_eq!(
            attachment_url("https://x.example/", &scheme, &p, &a),
            "https://x.example/anzPublicTest/applications/4QM5/attachments/7wS9"
        );
        assert_eq!(scheme_segment(&Scheme::parse("seekAnz").unwrap()), "anz");
        assert_eq!(scheme_segment(&Scheme::parse("acme").unwrap()), "acme");
    }
}
