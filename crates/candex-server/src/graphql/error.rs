//! GraphQL error mapping: SEEK's `extensions.code` values, built in one place.

use async_graphql::ErrorExtensions;
use candex_store::StoreError;

/// Missing, expired or invalid token.
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// Valid token, no permission for this object.
pub const FORBIDDEN: &str = "FORBIDDEN";
/// Invalid input; carries `invalidFields`.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
/// A server fault; the message never carries details.
pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";

/// An `UNAUTHENTICATED` error.
pub fn unauthenticated(message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", UNAUTHENTICATED))
}

/// A `FORBIDDEN` error.
pub fn forbidden(message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", FORBIDDEN))
}

/// A `BAD_USER_INPUT` error naming one field by JSON pointer (relative to the field's arguments).
pub fn bad_user_input(pointer: &str, message: impl Into<String>) -> async_graphql::Error {
    bad_user_inputs(vec![(pointer.to_owned(), message.into())])
}

/// A `BAD_USER_INPUT` error naming every invalid field, `(JSON pointer, message)` in order.
pub fn bad_user_inputs(invalid: Vec<(String, String)>) -> async_graphql::Error {
    let message = invalid.iter().map(|(p, m)| format!("{p}: {m}")).collect::<Vec<_>>().join("; ");
    let mut fields = async_graphql::indexmap::IndexMap::new();
    for (pointer, message) in invalid {
        fields.insert(async_graphql::Name::new(pointer), async_graphql::Value::String(message));
    }
    async_graphql::Error::new(format!("Invalid argument {message}")).extend_with(move |_, e| {
        e.set("code", BAD_USER_INPUT);
        e.set("invalidFields", async_graphql::Value::Object(fields.clone()));
    })
}

/// An `INTERNAL_SERVER_ERROR`; the cause is logged here, once, and never returned.
pub fn internal(e: StoreError) -> async_graphql::Error {
    match &e {
        StoreError::Unavailable(_) => {
            tracing::warn!(error.cause_chain = ?e, "graphql request failed: database unavailable")
        }
        _ => tracing::error!(error.cause_chain = ?e, "graphql request failed: {e}"),
    }
    async_graphql::Error::new("Internal server error").extend_with(|_, e| e.set("code", INTERNAL_SERVER_ERROR))
}
