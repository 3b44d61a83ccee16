//! The error-collecting walker every validation uses ([`Check`]), and display-name validation.

use super::{OrganizationInput, MAX_LIST, MAX_LONG_TEXT, MAX_SHORT_TEXT};
use crate::errors::FieldErrors;
use crate::id::{IdKind, Identifier};
use crate::snapshot::{HistoryDate, Organization};

/// Collects errors while walking input; every check records under a JSON pointer.
pub(super) struct Check {
    pub(super) errors: FieldErrors,
}

impl Check {
    pub(super) fn text(&mut self, ptr: &str, value: Option<String>, max: usize, required: bool) -> Option<String> {
        match value {
            None if required => {
                self.errors.add(ptr, "is required");
                None
            }
            None => None,
            Some(v) if v.trim().is_empty() => {
                self.errors.add(ptr, "must not be blank");
                None
            }
            Some(v) if v.chars().count() > max => {
                self.errors.add(ptr, format!("must be at most {max} characters"));
                None
            }
            Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') => {
                self.errors.add(ptr, "must not contain control characters");
                None
            }
            Some(v) => Some(v),
        }
    }

    pub(super) fn date(&mut self, ptr: &str, value: Option<String>, required: bool) -> Option<HistoryDate> {
        match value {
            None if required => {
                self.errors.add(ptr, "is required");
                None
            }
            None => None,
            Some(v) => HistoryDate::parse(&v).map_err(|e| self.errors.add(ptr, e)).ok(),
        }
    }

    pub(super) fn list_len<T>(&mut self, ptr: &str, list: &[T]) -> bool {
        if list.len() > MAX_LIST {
            self.errors.add(ptr, format!("must have at most {MAX_LIST} entries"));
            false
        } else {
            true
        }
    }

    pub(super) fn texts(&mut self, ptr: &str, values: Vec<String>) -> Vec<String> {
        if !self.list_len(ptr, &values) {
            return Vec::new();
        }
        values
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| self.text(&format!("{ptr}/{i}"), Some(v), MAX_LONG_TEXT, true))
            .collect()
    }

    pub(super) fn organization(
        &mut self,
        ptr: &str,
        org: Option<OrganizationInput>,
        required: bool,
    ) -> Option<Organization> {
        match org {
            None if required => {
                self.errors.add(ptr, "is required");
                None
            }
            None => None,
            Some(o) => {
                self.text(&format!("{ptr}/name"), o.name, MAX_SHORT_TEXT, true).map(|name| Organization { name })
            }
        }
    }

    pub(super) fn id<I: Identifier>(&mut self, ptr: &str, value: Option<String>, kind: IdKind) -> Option<I> {
        match value {
            None => {
                self.errors.add(ptr, "is required");
                None
            }
            Some(v) => I::parse_kind(v.trim(), kind).map_err(|e| self.errors.add(ptr, e.to_string())).ok(),
        }
    }
}

/// Validates a display name (hirers, partners).
pub fn validate_name(name: Option<String>) -> Result<String, FieldErrors> {
    let mut c = Check { errors: FieldErrors::new() };
    let name = c.text("/name", name, MAX_SHORT_TEXT, true);
    match name {
        Some(n) if c.errors.is_empty() => Ok(n),
        _ => Err(c.errors),
    }
}
