//! Safe file and folder names from untrusted text (attachment names, identifiers): no path
//! separators, no `.`/`..`, no control or bidi characters, no Windows reserved names, bounded length.

use std::collections::HashSet;

/// Longest name produced, in bytes (well under every common file system's 255).
pub const MAX_NAME_BYTES: usize = 150;

const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        // Zero-width and bidirectional formatting characters disguise names (e.g. "cv\u{202E}fdp.exe").
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A single path component made from `raw`; `fallback` (assumed safe) when nothing usable is left.
pub fn safe_name(raw: &str, fallback: &str) -> String {
    let replaced: String = raw.chars().map(|c| if unsafe_char(c) { '_' } else { c }).collect();
    // Leading dots hide files and make `.`/`..`; trailing dots and spaces are dropped by Windows.
    let trimmed = replaced.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() || trimmed.chars().all(|c| c == '_') {
        return fallback.to_owned();
    }
    let mut name = trimmed.to_owned();
    let stem = name.split('.').next().unwrap_or("").trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        name.insert(0, '_');
    }
    truncate(name)
}

/// Shortens to [`MAX_NAME_BYTES`] on a character boundary, keeping a short extension.
fn truncate(name: String) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if name.len() - i <= 16 && i > 0 => (&name[..i], &name[i..]),
        _ => (name.as_str(), ""),
    };
    let mut cut = MAX_NAME_BYTES - ext.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", stem[..cut].trim_end_matches(['.', ' ']))
}

/// `name`, or `stem (2).ext`, `stem (3).ext`, … if a name equal ignoring case is already taken;
/// records the result in `taken` (kept lowercase, so case-insensitive file systems agree).
pub fn unique_name(name: &str, taken: &mut HashSet<String>) -> String {
    let mut candidate = name.to_owned();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let mut n = 2;
    while taken.contains(&candidate.to_lowercase()) {
        candidate = truncate(format!("{stem} ({n}){ext}"));
        n += 1;
    }
    taken.insert(candidate.to_lowercase());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hostile_names_are_defused() {
        assert_eq!(safe_name("../../etc/passwd", "f"), "_.._etc_passwd");
        assert_eq!(safe_name("..", "f"), "f");
        assert_eq!(safe_name(".", "f"), "f");
        assert_eq!(safe_name("", "f"), "f");
        assert_eq!(safe_name("/", "f"), "f");
        assert_eq!(safe_name("a\\b/c", "f"), "a_b_c");
        assert_eq!(safe_name("cv\u{0}.pdf", "f"), "cv_.pdf");
        assert_eq!(safe_name("line\nbreak.txt", "f"), "line_break.txt");
        assert_eq!(safe_name("cv\u{202E}fdp.exe", "f"), "cv_fdp.exe");
        assert_eq!(safe_name("CON", "f"), "_CON");
        assert_eq!(safe_name("nul.txt", "f"), "_nul.txt");
        assert_eq!(safe_name("Com1 .pdf", "f"), "_Com1 .pdf");
        assert_eq!(safe_name("  .hidden ", "f"), "hidden");
        assert_eq!(safe_name("seekAnz:candidateProfile:apply:7Dt", "f"), "seekAnz_candidateProfile_apply_7Dt");
        assert_eq!(safe_name("Zoë CV.pdf", "f"), "Zoë CV.pdf");
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.pdf", "é".repeat(200));
        let name = safe_name(&long, "f");
        assert!(name.len() <= MAX_NAME_BYTES, "{}", name.len());
        assert!(name.ends_with(".pdf"));
    }

    #[test]
    fn duplicates_get_numbered_case_insensitively() {
        let mut taken = HashSet::new();
        assert_eq!(unique_name("CV.pdf", &mut taken), "CV.pdf");
        assert_eq!(unique_name("cv.pdf", &mut taken), "cv (2).pdf");
        assert_eq!(unique_name("CV.pdf", &mut taken), "CV (3).pdf");
        assert_eq!(unique_name("notes", &mut taken), "notes");
        assert_eq!(unique_name("notes", &mut taken), "notes (2)");
    }

    proptest! {
        #[test]
        fn any_name_stays_one_component_inside_the_folder(raw in any::<String>()) {
            let name = safe_name(&raw, "fallback");
            prop_assert!(!name.is_empty());
            prop_assert!(name.len() <= MAX_NAME_BYTES);
            prop_assert!(name != "." && name != "..");
            prop_assert!(!name.starts_with('.'));
            prop_assert!(!name.chars().any(unsafe_char));
            let path = std::path::Path::new("/out").join(&name);
            prop_assert_eq!(path.parent(), Some(std::path::Path::new("/out")));
            prop_assert_eq!(path.components().count(), 3);
        }
    }
}
