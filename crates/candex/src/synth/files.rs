//! The demo's attachments: small deterministic text and PDF documents derived from each
//! application's content.

use candex_domain::input::ApplicationInput;

/// A demo attachment: a small deterministic text or PDF document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFile {
    /// Original file name.
    pub filename: String,
    /// Media type.
    pub content_type: String,
    /// `Resume`, `CoverLetter`, `SelectionCriteria` or `None`.
    pub seek_role_code: Option<String>,
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// The content.
    pub bytes: Vec<u8>,
}

impl DemoFile {
    /// The `attachments[]` entry naming this file as multipart part `part`.
    pub fn input(&self, part: &str) -> candex_domain::input::AttachmentInput {
        candex_domain::input::AttachmentInput {
            file: Some(part.to_owned()),
            seek_role_code: self.seek_role_code.clone(),
            descriptions: self.descriptions.clone(),
            filename: Some(self.filename.clone()),
            content_type: Some(self.content_type.clone()),
            ..Default::default()
        }
    }
}

/// A minimal one-page PDF showing `lines` (valid structure, byte offsets computed).
pub fn tiny_pdf(lines: &[String]) -> Vec<u8> {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
    let mut text = String::from("BT /F1 11 Tf 56 780 Td 14 TL");
    for line in lines {
        text.push_str(&format!(" ({}) '", escape(line)));
    }
    text.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// The files of demo application `i`, derived from its content only (no random draws, so the
/// rest of the world is unchanged): most carry a resume (PDF or text), some a cover letter,
/// a few selection criteria.
pub(super) fn demo_files(i: usize, input: &ApplicationInput) -> Vec<DemoFile> {
    let name = input
        .candidate
        .as_ref()
        .and_then(|c| c.person.as_ref())
        .and_then(|p| p.name.as_ref())
        .and_then(|n| n.formatted_name.clone().or_else(|| n.given.clone()))
        .unwrap_or_else(|| format!("Applicant {i}"));
    let titles: Vec<String> = input
        .employment
        .iter()
        .flat_map(|e| e.position_histories.iter().filter_map(|h| h.title.clone()))
        .take(6)
        .collect();
    let file_stem = name.replace(' ', "_");
    let mut files = Vec::new();
    if i % 5 != 4 {
        let mut lines = vec![format!("{name} - Resume"), String::new(), "Experience".to_owned()];
        lines.extend(titles.iter().map(|t| format!("  - {t}")));
        if titles.is_empty() {
            lines.push("  - Eager to start my career".to_owned());
        }
        let (filename, content_type, bytes) = if matches!(i % 2, 0) {
            (format!("{file_stem}_Resume.pdf"), "application/pdf", tiny_pdf(&lines))
        } else {
            (format!("{file_stem} resume.txt"), "text/plain", (lines.join("\n") + "\n").into_bytes())
        };
        files.push(DemoFile {
            filename,
            content_type: content_type.to_owned(),
            seek_role_code: Some("Resume".to_owned()),
            descriptions: Vec::new(),
            bytes,
        });
    }
    if matches!(i % 3, 0) {
        let text = format!("Dear hiring manager,\n\nI would like to apply for this role.\n\nKind regards,\n{name}\n");
        files.push(DemoFile {
            filename: "Cover letter.txt".to_owned(),
            content_type: "text/plain".to_owned(),
            seek_role_code: Some("CoverLetter".to_owned()),
            descriptions: Vec::new(),
            bytes: text.into_bytes(),
        });
    }
    if matches!(i % 7, 0) {
        let lines = vec![format!("{name} - Selection criteria"), "1. Communication: strong".to_owned()];
        files.push(DemoFile {
            filename: "Selection criteria.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            seek_role_code: Some("SelectionCriteria".to_owned()),
            descriptions: vec!["Key selection criteria responses".to_owned()],
            bytes: tiny_pdf(&lines),
        });
    }
    files
}
