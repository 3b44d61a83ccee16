//! Field-level validation errors keyed by JSON pointer, shared by every input boundary.

use std::collections::BTreeMap;

/// Validation failures, each keyed by the JSON pointer (RFC 6901) of the offending field,
/// e.g. `/candidate/person/communication/email/0/address`. Ordered for stable output.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// An empty set of errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding a single error.
    pub fn single(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(pointer, message);
        errors
    }

    /// Records an error; the first message for a pointer wins.
    pub fn add(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.entry(pointer.into()).or_insert_with(|| message.into());
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of invalid fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over `(pointer, message)` pairs in pointer order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `Ok(value)` when no error was recorded, the errors otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (pointer, message) in self.iter() {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            let shown = if pointer.is_empty() { "/" } else { pointer };
            write!(f, "{shown}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// Escapes one JSON pointer reference token (RFC 6901 §3).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_message_for_a_pointer_wins_and_display_lists_all() {
        let mut e = FieldErrors::new();
        e.add("/b", "second field");
        e.add("/a", "first");
        e.add("/a", "ignored");
        assert_eq!(e.len(), 2);
        assert_eq!(e.to_string(), "/a: first; /b: second field");
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
    }
}
