//! Static browser files embedded in the binary and served from `/assets/`: the explorer's
//! vendored GraphiQL and React (`assets/vendor/`, written by `assets/vendor.sh` at pinned
//! versions with checksums) and candex's own page script and styles. Nothing is loaded from
//! another origin, so the pages work offline and under a strict Content-Security-Policy.
//!
//! Each file is served under a name carrying the first 16 hex digits of its SHA-256
//! (`graphiql.min.1a2b….js`), so a response may be cached for a year: a new build with
//! different content has a different name.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// `Cache-Control` of hashed assets.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Content-Security-Policy` of candex's HTML pages: scripts, styles, fonts and fetches from
/// this origin only (fonts and images also as `data:` URLs, which GraphiQL's stylesheet
/// embeds), no inline scripts, no framing, no plugins, no form posts elsewhere. Inline
/// *styles* are allowed: GraphiQL's dialogs inject a `<style>` element when they open
/// (react-style-singleton, whose nonce the UMD build cannot be given). Loading the explorer,
/// getting a token and running a query report no violation even under `style-src 'self'`
/// (tried with the browser check).
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// One embedded file.
pub struct Asset {
    /// Name without the hash (`graphiql.min.js`).
    pub name: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $path:literal, $type:expr) => {
        Asset { name: $name, content_type: $type, bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), $path)) }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every embedded file.
static FILES: [Asset; 6] = [
    asset!("react.production.min.js", "/assets/vendor/react.production.min.js", JS),
    asset!("react-dom.production.min.js", "/assets/vendor/react-dom.production.min.js", JS),
    asset!("graphiql.min.js", "/assets/vendor/graphiql.min.js", JS),
    asset!("graphiql.min.css", "/assets/vendor/graphiql.min.css", CSS),
    asset!("explorer.js", "/assets/explorer.js", JS),
    asset!("pages.css", "/assets/pages.css", CSS),
];

/// The files with their hashed names, computed once.
static HASHED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|asset| {
            let digest = hex::encode(&Sha256::digest(asset.bytes)[..8]);
            let hashed = match asset.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{digest}.{ext}"),
                None => format!("{}.{digest}", asset.name),
            };
            (hashed, asset)
        })
        .collect()
});

/// The URL path (`/assets/<hashed name>`) of the embedded file `name`.
///
/// # Panics
/// If no file is called `name`: a programming error caught by every test that renders a page.
pub fn url(name: &str) -> String {
    let (hashed, _) = HASHED.iter().find(|(_, a)| a.name == name).unwrap_or_else(|| panic!("no asset {name}"));
    format!("/assets/{hashed}")
}

/// `GET /assets/{file}`: an embedded file by its hashed name, cacheable for a year; anything
/// else is 404.
pub async fn serve(Path(file): Path<String>) -> Response {
    let Some((_, asset)) = HASHED.iter().find(|(hashed, _)| *hashed == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        asset.bytes,
    )
        .into_response()
}

/// An HTML page with candex's security headers: the strict CSP, no sniffing, no referrer,
/// and revalidation on every load (the page names the current assets).
pub fn html_page(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ],
        body,
    )
        .into_response()
}

/// `text` escaped for HTML text and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` as JSON safe inside `<script type="application/json">`: `<`, `>` and `&` are
/// written as `\u` escapes, so the text can never close the element.
pub fn json_data_block(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_hashed_url_and_the_vendored_files_match_their_checksums() {
        for asset in &FILES {
            assert!(url(asset.name).starts_with("/assets/"));
        }
        let sums = include_str!("../../assets/vendor/SHA256SUMS");
        for line in sums.lines() {
            let (sum, name) = line.split_once("  ").expect("sha256sum format");
            if let Some(asset) = FILES.iter().find(|a| a.name == name) {
                assert_eq!(hex::encode(Sha256::digest(asset.bytes)), sum, "{name} differs from SHA256SUMS");
            }
        }
    }

    #[test]
    fn data_blocks_cannot_close_their_element() {
        let block = json_data_block(&serde_json::json!({"q": "</script><script>alert(1)</script>"}));
        assert!(!block.contains('<'));
        let back: serde_json::Value = serde_json::from_str(&block).unwrap();
        assert_eq!(back["q"], "</script><script>alert(1)</script>");
    }
}
