//! Per-request authorisation: who is calling, and which relationships they hold with each
//! hirer (looked up once per hirer per request). Every read of hirer data goes through here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use candex_domain::{ObjectId, RelationshipSet, RelationshipType};
use candex_store::Store;

use super::error::{forbidden, internal, unauthenticated};
use crate::auth::tokens::{TokenError, VerifiedToken};

/// Why a request has no usable caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProblem {
    /// No `Authorization: Bearer` header.
    Missing,
    /// The token was refused.
    Token(TokenError),
}

/// The caller of one GraphQL request and its relationship cache.
pub struct Access {
    caller: Result<VerifiedToken, AuthProblem>,
    store: Arc<dyn Store>,
    cache: Mutex<HashMap<ObjectId, RelationshipSet>>,
}

impl Access {
    /// Builds the access context of one request.
    pub fn new(caller: Result<VerifiedToken, AuthProblem>, store: Arc<dyn Store>) -> Self {
        Self { caller, store, cache: Mutex::new(HashMap::new()) }
    }

    /// The calling partner, or `UNAUTHENTICATED`.
    pub fn partner_id(&self) -> async_graphql::Result<&ObjectId> {
        match &self.caller {
            Ok(token) => Ok(&token.partner_id),
            Err(AuthProblem::Missing) => {
                Err(unauthenticated("No access token was provided: send Authorization: Bearer <partner token>"))
            }
            Err(AuthProblem::Token(TokenError::Expired)) => {
                Err(unauthenticated("The access token is expired; request a new one"))
            }
            Err(AuthProblem::Token(TokenError::Invalid)) => Err(unauthenticated("The access token is invalid")),
        }
    }

    /// The relationships the caller holds with `hirer` (cached for the request).
    pub async fn relationships(&self, hirer: &ObjectId) -> async_graphql::Result<RelationshipSet> {
        let partner = self.partner_id()?;
        if let Some(set) = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(hirer) {
            return Ok(*set);
        }
        let set = self.store.relationships(partner, hirer).await.map_err(internal)?;
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(hirer.clone(), set);
        Ok(set)
    }

    /// Succeeds when the caller holds any of `allowed` with `hirer`; `FORBIDDEN` otherwise.
    pub async fn require(
        &self,
        hirer: &ObjectId,
        allowed: &[RelationshipType],
        what: &str,
    ) -> async_graphql::Result<RelationshipSet> {
        let set = self.relationships(hirer).await?;
        if allowed.iter().any(|t| set.contains(*t)) {
            Ok(set)
        } else {
            let codes: Vec<&str> = allowed.iter().map(|t| t.code()).collect();
            Err(forbidden(format!(
                "Not authorised to access this {what}: the partner needs the {} relationship with its hirer",
                codes.join(" or ")
            )))
        }
    }

    /// Succeeds when the caller holds any relationship with `hirer`; `FORBIDDEN` otherwise.
    pub async fn require_any(&self, hirer: &ObjectId) -> async_graphql::Result<RelationshipSet> {
        self.require(hirer, &RelationshipType::ALL, "hirer").await
    }
}
