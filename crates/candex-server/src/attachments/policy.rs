//! What files are accepted (by extension and content type), how large, and for how long they
//! are kept.

/// Default largest accepted file: 10 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Default retention after the job ad closes, as SEEK documents: 180 days.
pub const DEFAULT_RETENTION_DAYS: u32 = 180;

/// The file types SEEK documents, by extension: `(extension, content type, accepted aliases)`.
const KNOWN_TYPES: &[(&str, &str, &[&str])] = &[
    ("doc", "application/msword", &[]),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", &[]),
    ("rtf", "application/rtf", &["text/rtf"]),
    ("pdf", "application/pdf", &["application/x-pdf"]),
    ("txt", "text/plain", &[]),
];

/// One accepted file type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedType {
    /// Lowercase extension without the dot.
    pub extension: String,
    /// The content type stored and served.
    pub content_type: String,
}

/// The default `--orphan-grace-secs`: an hour, far longer than any upload.
pub const DEFAULT_ORPHAN_GRACE_SECS: u64 = 3600;

/// Attachment limits and retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentSettings {
    /// Largest accepted file in bytes.
    pub max_bytes: u64,
    /// Accepted types.
    pub types: Vec<AcceptedType>,
    /// Days attachments are kept after their job ad closes.
    pub retention_days: u32,
    /// How long an upload may take (its lease on its content, and its temporary file, are
    /// respected this long); the orphan sweep leaves younger blobs and temporary files alone.
    pub orphan_grace: std::time::Duration,
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            types: KNOWN_TYPES
                .iter()
                .map(|(ext, ct, _)| AcceptedType { extension: (*ext).to_owned(), content_type: (*ct).to_owned() })
                .collect(),
            retention_days: DEFAULT_RETENTION_DAYS,
            orphan_grace: std::time::Duration::from_secs(DEFAULT_ORPHAN_GRACE_SECS),
        }
    }
}

/// Parses `--attachment-types`: comma-separated extensions (`pdf,docx`), each either one SEEK
/// documents or given with its content type (`odt=application/vnd.oasis.opendocument.text`).
pub fn parse_types(list: &str) -> Result<Vec<AcceptedType>, String> {
    let mut types = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (ext, ct) = match item.split_once('=') {
            Some((ext, ct)) => {
                (ext.trim().trim_start_matches('.').to_ascii_lowercase(), ct.trim().to_ascii_lowercase())
            }
            None => {
                let ext = item.trim_start_matches('.').to_ascii_lowercase();
                let ct = KNOWN_TYPES.iter().find(|(e, _, _)| *e == ext).map(|(_, ct, _)| (*ct).to_owned()).ok_or_else(
                    || format!("unknown extension `{ext}`: give its content type, as in {ext}=type/subtype"),
                )?;
                (ext, ct)
            }
        };
        if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_alphanumeric()) || !ct.contains('/') {
            return Err(format!("`{item}` is not an extension or extension=type/subtype"));
        }
        types.push(AcceptedType { extension: ext, content_type: ct });
    }
    if types.is_empty() {
        return Err("at least one attachment type is required".into());
    }
    Ok(types)
}

impl AttachmentSettings {
    /// The content type to store for `filename` uploaded as `declared` (a part's or the
    /// operator's `Content-Type`; absent or `application/octet-stream` means "by extension"),
    /// or why the file is refused.
    pub fn resolve_type(&self, filename: &str, declared: Option<&str>) -> Result<String, String> {
        let accepted = || self.types.iter().map(|t| format!(".{}", t.extension)).collect::<Vec<_>>().join(", ");
        let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let declared = declared.map(|d| d.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        let by_type = |d: &str| {
            self.types.iter().find(|t| {
                t.content_type == d
                    || KNOWN_TYPES.iter().any(|(e, _, aliases)| *e == t.extension && aliases.contains(&d))
            })
        };
        // A name without an extension is judged by its declared content type alone.
        if ext.is_empty() || ext.len() > 8 || !ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return match declared.as_deref().and_then(by_type) {
                Some(t) => Ok(t.content_type.clone()),
                None => Err(format!(
                    "file type not accepted: the file name has no extension and its content type is not one of {}",
                    self.types.iter().map(|t| t.content_type.as_str()).collect::<Vec<_>>().join(", ")
                )),
            };
        }
        let Some(t) = self.types.iter().find(|t| t.extension == ext) else {
            return Err(format!("file type not accepted: the file name must end in one of {}", accepted()));
        };
        match declared.as_deref() {
            None | Some("") | Some("application/octet-stream") => Ok(t.content_type.clone()),
            Some(d) if d == t.content_type => Ok(t.content_type.clone()),
            Some(d) if KNOWN_TYPES.iter().any(|(e, _, aliases)| *e == ext && aliases.contains(&d)) => {
                Ok(t.content_type.clone())
            }
            Some(d) => Err(format!(
                "content type {d} is not accepted for a .{ext} file (expected {}); accepted files: {}",
                t.content_type,
                accepted()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_resolve_by_extension_and_content_type() {
        let s = AttachmentSettings::default();
        assert_eq!(s.resolve_type("CV.PDF", Some("application/pdf")).unwrap(), "application/pdf");
        assert_eq!(s.resolve_type("cv.pdf", None).unwrap(), "application/pdf");
        assert_eq!(s.resolve_type("a.txt", Some("text/plain; charset=utf-8")).unwrap(), "text/plain");
        assert_eq!(s.resolve_type("a.rtf", Some("text/rtf")).unwrap(), "application/rtf");
        assert!(s.resolve_type("a.exe", Some("application/pdf")).is_err());
        assert!(s.resolve_type("a.pdf", Some("image/png")).is_err());
        assert!(s.resolve_type("noext", None).is_err());
        assert_eq!(s.resolve_type("evil\r\nSet-Cookie: x", Some("text/plain")).unwrap(), "text/plain");
        assert!(s.resolve_type("noext", Some("image/png")).is_err());
    }

    #[test]
    fn type_lists_parse() {
        let t = parse_types("pdf, .TXT,odt=application/vnd.oasis.opendocument.text").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].content_type, "text/plain");
        assert!(parse_types("exe").is_err());
        assert!(parse_types("").is_err());
    }
}
