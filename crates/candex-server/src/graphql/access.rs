//! Per-request authorisation: who is calling (partner token, or browser token bound to one
//! hirer with scopes), and which relationships they hold with each hirer (looked up once per
//! hirer per request). Every read of hirer data goes through here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use candex_domain::{HirerId, PartnerId, RelationshipSet, RelationshipType};
use candex_store::PartyStore;

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

/// The message for a revoked token.
pub const REVOKED: &str = "The access token was revoked; request a new one";

/// Most nested list loads (a connection or list field below the root) one request may make.
///
/// The complexity limit multiplies a connection's selection by its page size, but
/// async-graphql applies field complexities only to fields selected on object types: a field
/// selected on an interface (`Event.webhookAttempts` through `WebhookAttempt.event`) counts
/// once. This budget bounds the store reads such selections fan out to.
pub const MAX_NESTED_LOADS: u32 = 200;

/// Whether the caller's token was revoked, learnt once per request: from a read that carries
/// the partner's `tokens_not_before` anyway (candidateProfile's one statement), or else by the
/// request handler (see `graphql_handler`).
#[derive(Default)]
pub struct Revocation(std::sync::OnceLock<bool>);

impl Revocation {
    /// Records what a read found; the first answer wins.
    pub fn record(&self, revoked: bool) {
        let _first = self.0.set(revoked);
    }

    /// `Some(revoked)` once known.
    pub fn known(&self) -> Option<bool> {
        self.0.get().copied()
    }
}

/// The caller of one GraphQL request and its relationship cache.
pub struct Access {
    caller: Result<VerifiedToken, AuthProblem>,
    store: Arc<dyn PartyStore>,
    revocation: Arc<Revocation>,
    /// One cell per hirer: resolvers running concurrently for the same hirer (a page of
    /// events, say) wait for one lookup instead of each querying.
    cache: Mutex<HashMap<HirerId, Arc<OnceCell<RelationshipSet>>>>,
    nested_loads: AtomicU32,
}

impl Access {
    /// Builds the access context of one request.
    pub fn new(caller: Result<VerifiedToken, AuthProblem>, store: Arc<dyn PartyStore>) -> Self {
        Self {
            caller,
            store,
            revocation: Arc::default(),
            cache: Mutex::new(HashMap::new()),
            nested_loads: AtomicU32::new(0),
        }
    }

    /// What this request learnt about the token's revocation, shared with the handler.
    pub fn revocation(&self) -> Arc<Revocation> {
        self.revocation.clone()
    }

    /// Records a grant read with the object it guards (see
    /// `ApplicationStore::get_profile_for_partner`): its relationships with `hirer` (so
    /// [`Access::require`] needs no second read) and whether it revokes the caller's token,
    /// which is then refused (`UNAUTHENTICATED`).
    pub fn prime_grant(&self, hirer: &HirerId, grant: candex_store::PartnerGrant) -> async_graphql::Result<()> {
        let token = self.token()?;
        let revoked = token.is_revoked_by(grant.tokens_not_before);
        self.revocation.record(revoked);
        if revoked {
            return Err(unauthenticated(REVOKED));
        }
        self.prime(hirer, grant.relationships);
        Ok(())
    }

    /// Counts one nested list load; an error once the request made [`MAX_NESTED_LOADS`].
    pub fn charge_nested_load(&self) -> async_graphql::Result<()> {
        if self.nested_loads.fetch_add(1, Ordering::Relaxed) < MAX_NESTED_LOADS {
            Ok(())
        } else {
            Err(async_graphql::Error::new(format!(
                "Query is too complex: it loads more than {MAX_NESTED_LOADS} nested lists; request smaller pages"
            )))
        }
    }

    /// The verified token, or `UNAUTHENTICATED`.
    pub fn token(&self) -> async_graphql::Result<&VerifiedToken> {
        match &self.caller {
            Ok(token) => Ok(token),
            Err(AuthProblem::Missing) => {
                Err(unauthenticated("No access token was provided: send Authorization: Bearer <partner token>"))
            }
            Err(AuthProblem::Token(TokenError::Expired)) => {
                Err(unauthenticated("The access token is expired; request a new one"))
            }
            Err(AuthProblem::Token(TokenError::Invalid)) => Err(unauthenticated("The access token is invalid")),
        }
    }

    /// For partner-only operations: the calling partner; `FORBIDDEN` for browser tokens.
    pub fn partner(&self) -> async_graphql::Result<&PartnerId> {
        let token = self.token()?;
        if token.is_partner() {
            Ok(&token.partner_id)
        } else {
            Err(forbidden("This operation needs a partner token; browser tokens cannot use it"))
        }
    }

    /// For operations open to browser tokens with `scope`: the caller; `FORBIDDEN` for a
    /// browser token without that scope.
    pub fn caller(&self, scope: &str) -> async_graphql::Result<&VerifiedToken> {
        let token = self.token()?;
        if token.is_partner() || token.has_scope(scope) {
            Ok(token)
        } else {
            Err(forbidden(format!("This operation needs a browser token with the {scope} scope")))
        }
    }

    /// The hirer a browser token is bound to (`None` for partner tokens and failed auth).
    pub fn bound_hirer(&self) -> Option<&HirerId> {
        self.caller.as_ref().ok().and_then(|t| t.hirer_id.as_ref())
    }

    /// The relationships the caller holds with `hirer` (looked up once per request).
    pub async fn relationships(&self, hirer: &HirerId) -> async_graphql::Result<RelationshipSet> {
        let partner = &self.token()?.partner_id;
        let cell = self.cell(hirer);
        let set = cell.get_or_try_init(|| self.store.relationships(partner, hirer)).await.map_err(internal)?;
        Ok(*set)
    }

    /// Records relationships the caller's partner holds with `hirer`, read by the caller in the
    /// same statement as the object they guard (see
    /// `ApplicationStore::get_profile_for_partner`), so that [`Access::require`] needs no second
    /// read. A set already cached wins.
    pub fn prime(&self, hirer: &HirerId, set: RelationshipSet) {
        let _already_cached = self.cell(hirer).set(set);
    }

    /// The cache cell of `hirer`, created empty on first use.
    fn cell(&self, hirer: &HirerId) -> Arc<OnceCell<RelationshipSet>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(hirer.clone()).or_default().clone()
    }

    /// Succeeds when the caller holds any of `allowed` with `hirer` (and, for a browser token,
    /// `hirer` is the one it is bound to); `FORBIDDEN` otherwise.
    pub async fn require(
        &self,
        hirer: &HirerId,
        allowed: &[RelationshipType],
        what: &str,
    ) -> async_graphql::Result<RelationshipSet> {
        if self.bound_hirer().is_some_and(|bound| bound != hirer) {
            return Err(forbidden(format!(
                "Not authorised to access this {what}: the browser token is bound to another hirer"
            )));
        }
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
    pub async fn require_any(&self, hirer: &HirerId) -> async_graphql::Result<RelationshipSet> {
        self.require(hirer, &RelationshipType::ALL, "hirer").await
    }
}
