//! Small shared types: `ObjectIdentifier`, `WebUrl`, `Organization`, `Email`.

use async_graphql::SimpleObject;
use candex_domain::ObjectId;

/// `ObjectIdentifier`: an opaque identifier.
#[derive(Debug, Clone, SimpleObject)]
pub struct ObjectIdentifier {
    /// The identifier string.
    pub value: String,
}

/// From any identifier, plain or typed.
impl<I: AsRef<ObjectId>> From<&I> for ObjectIdentifier {
    fn from(id: &I) -> Self {
        Self { value: id.as_ref().to_string() }
    }
}

/// `WebUrl`.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebUrl {
    /// The URL.
    pub url: String,
}

/// `Organization`: a named organisation.
#[derive(Debug, Clone, SimpleObject)]
pub struct Organization {
    /// Its name.
    pub name: String,
}

impl From<&candex_domain::snapshot::Organization> for Organization {
    fn from(o: &candex_domain::snapshot::Organization) -> Self {
        Self { name: o.name.clone() }
    }
}

/// `Email`.
#[derive(Debug, Clone, SimpleObject)]
pub struct Email {
    /// The address.
    pub address: String,
}
