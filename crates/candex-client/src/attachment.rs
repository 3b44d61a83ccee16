//! Attachment downloads: streamed to `<dest>.part`, resumed with `Range`, hashed with SHA-256, fsynced and
//! renamed into place (or left unsynced for a caller that syncs many at once); the original file name
//! comes from RFC 6266 `Content-Disposition`.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::classify;
use crate::error::{describe, ClientError};
use crate::Client;

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Where the file now is (the `dest` given).
    pub path: PathBuf,
    /// The original file name from `Content-Disposition`, raw (not sanitised).
    pub filename: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the whole file.
    pub sha256: String,
    /// Bytes reused from an earlier `.part` (0 if the download started from scratch).
    pub resumed_from: u64,
}

/// Where [`Client::download`] stages `dest` until it is complete: `<dest>.part` beside it. A `.part`
/// left by an interrupted download is resumed by the next download to the same `dest`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}

/// The file name of an RFC 6266 `Content-Disposition` value: `filename*` (RFC 8187, percent-decoded)
/// preferred over `filename`. Returned raw; callers sanitise before using it as a path.
pub fn parse_content_disposition(value: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for (name, val) in params(value) {
        if name.eq_ignore_ascii_case("filename*") {
            if let Some(decoded) = decode_ext_value(&val) {
                extended = Some(decoded);
            }
        } else if name.eq_ignore_ascii_case("filename") {
            plain = Some(val);
        }
    }
    extended.or(plain).filter(|n| !n.is_empty())
}

/// `name=value` parameters after the disposition type; quoted strings unescaped.
fn params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    // Skip the disposition type.
    for c in chars.by_ref() {
        if c == ';' {
            break;
        }
    }
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ';') {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        if chars.peek() == Some(&';') {
            continue;
        }
        chars.next(); // '='
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => break,
                    c => val.push(c),
                }
            }
            while chars.peek().is_some_and(|c| *c != ';') {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ';' {
                    break;
                }
                val.push(c);
                chars.next();
            }
            val = val.trim_end().to_owned();
        }
        out.push((name.trim().to_owned(), val));
    }
    out
}

/// RFC 8187 `charset'lang'pct-encoded`.
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?;
    let _lang = parts.next()?;
    let encoded = parts.next()?;
    let bytes: Vec<u8> = percent_decode_str(encoded).collect();
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.into_iter().map(char::from).collect())
    } else {
        None
    }
}

/// `bytes START-END/TOTAL` → `(START, TOTAL)` (`TOTAL` `None` for `*`).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = if total.trim() == "*" { None } else { Some(total.trim().parse().ok()?) };
    Some((start.trim().parse().ok()?, total))
}

fn header_text(res: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn hash_prefix(path: &Path, hasher: &mut Sha256) -> Result<u64, ClientError> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| ClientError::io(path, e))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).await.map_err(|e| ClientError::io(path, e))?;
        if n == 0 {
            return Ok(total);
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
}

async fn remove_if_exists(path: &Path) -> Result<(), ClientError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ClientError::io(path, e)),
        _ => Ok(()),
    }
}

impl Client {
    /// Downloads `url` to `dest` with the partner token, streaming through `<dest>.part` (never holding the
    /// file in memory). An existing `.part` is resumed with `Range: bytes=N-` when the server answers 206 with
    /// a matching `Content-Range`; a 200 starts over. Interrupted bodies are resumed within the retry budget.
    pub async fn download(&self, url: &str, dest: &Path) -> Result<Downloaded, ClientError> {
        self.download_to(url, dest, Durability::Synced).await
    }

    /// [`Client::download`] without the fsyncs of the file and its folder: the bytes are complete when
    /// this returns but may not survive a crash until the caller syncs them. For callers that make many
    /// downloads durable at once (the exporter's group commit syncs its file system once per group).
    pub async fn download_unsynced(&self, url: &str, dest: &Path) -> Result<Downloaded, ClientError> {
        self.download_to(url, dest, Durability::Unsynced).await
    }

    async fn download_to(&self, url: &str, dest: &Path, durability: Durability) -> Result<Downloaded, ClientError> {
        let part = part_path(dest);
        let max = self.config().max_attempts;
        let mut body_failures = 0u32;
        loop {
            let have = match tokio::fs::metadata(&part).await {
                Ok(m) => m.len(),
                Err(_) => 0,
            };
            let res = self
                .run(|token| async move {
                    let mut req = self.request(reqwest::Method::GET, url, &token);
                    if have > 0 {
                        req = req.header(RANGE, format!("bytes={have}-"));
                    }
                    classify(req.send().await, &token)
                })
                .await?;
            let status = res.status();
            let mut hasher = Sha256::new();
            let (file, mut written, expected_total) = match status {
                StatusCode::PARTIAL_CONTENT if have > 0 => {
                    let range = header_text(&res, CONTENT_RANGE).as_deref().and_then(parse_content_range);
                    match range {
                        Some((start, total)) if start == have => {
                            let prefix = hash_prefix(&part, &mut hasher).await?;
                            if prefix != have {
                                return Err(ClientError::Download("the .part file changed while resuming".into()));
                            }
                            let file = tokio::fs::OpenOptions::new()
                                .append(true)
                                .open(&part)
                                .await
                                .map_err(|e| ClientError::io(&part, e))?;
                            (file, have, total)
                        }
                        _ => {
                            // A range we did not ask for: start over rather than splice the wrong bytes.
                            remove_if_exists(&part).await?;
                            body_failures += 1;
                            if body_failures >= max {
                                return Err(ClientError::Download(
                                    "server answered Range with a mismatched Content-Range".into(),
                                ));
                            }
                            continue;
                        }
                    }
                }
                StatusCode::OK => {
                    let file = create_private(&part).await.map_err(|e| ClientError::io(&part, e))?;
                    let total = header_text(&res, CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
                    (file, 0, total)
                }
                StatusCode::RANGE_NOT_SATISFIABLE if have > 0 => {
                    remove_if_exists(&part).await?;
                    body_failures += 1;
                    if body_failures >= max {
                        return Err(ClientError::Download("server refused every Range".into()));
                    }
                    continue;
                }
                other => {
                    let body = res.text().await.unwrap_or_default();
                    return Err(ClientError::Status {
                        status: other.as_u16(),
                        what: "attachment download",
                        body: crate::error::snippet(&body, 200),
                    });
                }
            };
            // Chunks are gathered before each write: every write of a `tokio::fs::File` is a
            // trip to the blocking pool, and bodies arrive in chunks of a few KiB.
            let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
            let filename = header_text(&res, CONTENT_DISPOSITION).as_deref().and_then(parse_content_disposition);
            let content_type = header_text(&res, CONTENT_TYPE);
            let resumed_from = written;
            let mut res = res;
            let mut interrupted = None;
            loop {
                match res.chunk().await {
                    Ok(Some(chunk)) => {
                        file.write_all(&chunk).await.map_err(|e| ClientError::io(&part, e))?;
                        hasher.update(&chunk);
                        written += chunk.len() as u64;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        interrupted = Some((describe(&e), Some(e)));
                        break;
                    }
                }
            }
            file.flush().await.map_err(|e| ClientError::io(&part, e))?;
            if durability == Durability::Synced {
                file.get_ref().sync_all().await.map_err(|e| ClientError::io(&part, e))?;
            }
            drop(file);
            if interrupted.is_none() && expected_total.is_some_and(|t| t != written) {
                interrupted = Some((format!("body ended at {written} bytes of {}", expected_total.unwrap_or(0)), None));
            }
            if let Some((reason, source)) = interrupted {
                body_failures += 1;
                if body_failures >= max {
                    return Err(ClientError::RetriesExhausted { attempts: body_failures, last: reason, source });
                }
                self.note_retry();
                tokio::time::sleep(self.backoff(body_failures, None)).await;
                continue;
            }
            tokio::fs::rename(&part, dest).await.map_err(|e| ClientError::io(dest, e))?;
            if durability == Durability::Synced {
                sync_parent(dest).await;
            }
            return Ok(Downloaded {
                path: dest.to_path_buf(),
                filename,
                content_type,
                size: written,
                sha256: hex::encode(hasher.finalize()),
                resumed_from,
            });
        }
    }
}

/// Bytes gathered before each write to the file (per download in flight).
const WRITE_BUFFER: usize = 64 * 1024;

/// Whether a download is fsynced before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    Synced,
    Unsynced,
}

/// Creates (truncating) a file readable by the owner only: attachments are personal data.
async fn create_private(path: &Path) -> std::io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).await
}

/// Makes the rename durable (best effort; not every platform can fsync a directory).
async fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
        if let Ok(dir) = tokio::fs::File::open(parent).await {
            let _ = dir.sync_all().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_prefers_the_extended_name() {
        assert_eq!(
            parse_content_disposition(r#"attachment; filename="Zoe CV.pdf"; filename*=UTF-8''Zo%C3%AB%20CV.pdf"#),
            Some("Zoë CV.pdf".to_owned())
        );
        assert_eq!(
            parse_content_disposition(r#"attachment; filename*=utf-8'en'na%C3%AFve.txt; filename="naive.txt""#),
            Some("naïve.txt".to_owned())
        );
        assert_eq!(parse_content_disposition(r#"attachment; filename="a \"q\" b.pdf""#), Some(r#"a "q" b.pdf"#.into()));
        assert_eq!(parse_content_disposition("attachment; filename=plain.txt"), Some("plain.txt".into()));
        assert_eq!(parse_content_disposition("attachment; filename*=ISO-8859-1''caf%E9.txt"), Some("café.txt".into()));
        assert_eq!(parse_content_disposition("attachment"), None);
        assert_eq!(parse_content_disposition("inline; filename=\"x;y.pdf\""), Some("x;y.pdf".into()));
    }

    #[test]
    fn content_range_parses() {
        assert_eq!(parse_content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
    }

    #[test]
    fn part_path_appends() {
        assert_eq!(part_path(Path::new("/x/cv.pdf")), PathBuf::from("/x/cv.pdf.part"));
    }
}
