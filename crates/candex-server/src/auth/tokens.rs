//! Signed access tokens (JWT, HS256) for partners: issuing and verification following
//! RFC 8725 (one allowed algorithm, explicit `typ`, required `iss`/`aud`/`exp`/`sub`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use candex_domain::{HirerId, PartnerId};
use candex_store::{KeyStore, SigningKey};

use crate::auth::master_key::{MasterKey, Purpose};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::TokenSettings;

/// The explicit `typ` of candex access tokens (RFC 9068); tokens of any other type are refused.
pub const TOKEN_TYPE: &str = "at+jwt";
const ALGORITHM: Algorithm = Algorithm::HS256;
const MIN_KEY_BYTES: usize = 32;

/// What kind of caller a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A partner (client credentials grant): acts for every hirer it has a relationship with.
    Partner,
    /// A browser token (`POST /auth/token`): bound to one hirer and a set of scopes.
    Browser,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    #[serde(rename = "cdx_kind")]
    kind: TokenKind,
    /// Browser tokens: the hirer they are bound to.
    #[serde(rename = "cdx_hirer", default, skip_serializing_if = "Option::is_none")]
    hirer: Option<String>,
    /// Browser tokens: space-separated scopes (RFC 8693 `scope`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// Browser tokens: the partner's anonymous end-user id.
    #[serde(rename = "cdx_uid", default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    /// Issue time in milliseconds, so a revocation (`tokens_not_before`) divides tokens
    /// issued within one second; tokens without it count from `iat`.
    #[serde(rename = "cdx_iat_ms", default, skip_serializing_if = "Option::is_none")]
    issued_at_ms: Option<i64>,
}

/// Lifetime of browser tokens, as SEEK documents.
pub const BROWSER_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A verified token's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The partner the token was issued to.
    pub partner_id: PartnerId,
    /// The kind of token.
    pub kind: TokenKind,
    /// Browser tokens: the one hirer whose data they reach.
    pub hirer_id: Option<HirerId>,
    /// Browser tokens: the scopes granted.
    pub scopes: Vec<String>,
    /// When the token was issued (unix ms), for revocation checks.
    pub issued_at_ms: i64,
}

impl VerifiedToken {
    /// Whether a revocation at `not_before` covers this token (issued before it).
    pub fn is_revoked_by(&self, not_before: Option<chrono::DateTime<chrono::Utc>>) -> bool {
        not_before.is_some_and(|t| self.issued_at_ms < t.timestamp_millis())
    }

    /// True for partner tokens.
    pub fn is_partner(&self) -> bool {
        self.kind == TokenKind::Partner
    }

    /// True when a browser token carries `scope` (partner tokens carry no scopes).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Why a token was refused. Messages are safe to return to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its `exp`.
    #[error("access token is expired")]
    Expired,
    /// Bad signature, algorithm, type, audience, issuer or shape.
    #[error("access token is invalid")]
    Invalid,
}

/// The metrics reason of a token refused because its partner's tokens were revoked.
pub const REVOKED: &str = "revoked";

impl TokenError {
    /// The metrics reason: `expired` or `invalid`.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Invalid => "invalid",
        }
    }
}

/// A freshly issued token.
pub struct IssuedToken {
    /// The JWT.
    pub access_token: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// One key the service holds: a current key signs and verifies; a superseded one only
/// verifies, until its `retire_at`.
struct HeldKey {
    decoding: DecodingKey,
    /// When it stops verifying (`None`: the current key).
    retire_at: Option<i64>,
}

/// The keys the service holds, replaced whole on a refresh.
struct KeySet {
    kid: String,
    encoding: EncodingKey,
    verifying: HashMap<String, HeldKey>,
}

/// How often the service re-reads the keys from the database at most: a rotation made by
/// `candex admin signing-key rotate` (or another instance) signs here within this time, and
/// a token signed with a key not yet known here makes it look at once, at most this often.
pub const KEY_REFRESH: Duration = Duration::from_secs(5);

/// Issues and verifies tokens with the signing keys kept (sealed) in the database: the current
/// key signs, superseded keys verify until their tokens have expired, retired keys never.
pub struct TokenService {
    keys: RwLock<KeySet>,
    /// Where the keys come from and how they open; `None` for a service built from one key.
    source: Option<KeySource>,
    issuer: String,
    audience: String,
    /// Further `audience` values a token request may name (tokens are still for `audience`).
    accepted_audiences: Vec<String>,
    lifetime: Duration,
    validation: Validation,
    /// Tokens verified before, so a partner's next request skips the signature and claims.
    verified: VerifiedCache,
}

/// Most tokens [`VerifiedCache`] keeps; when full it starts over, so its memory is bounded
/// (a few hundred KiB) whatever tokens are presented. Only tokens that verified are kept.
const VERIFIED_TOKENS: usize = 1024;

/// Tokens that verified, by their exact text, with what verification found: a token is
/// verified once (signature, claims, issuer, audience) and checked again on each use only for
/// what time or a key rotation can change: its expiry (with the same leeway) and its key still
/// held and not retired. Tokens without a key id are never kept (they verify with whatever key
/// is current). Revocation is not decided here: every request still reads it from the
/// database.
#[derive(Default)]
struct VerifiedCache {
    tokens: std::sync::Mutex<HashMap<Box<str>, CachedToken>>,
}

struct CachedToken {
    token: VerifiedToken,
    /// The `exp` claim (unix seconds).
    exp: u64,
    kid: String,
}

impl VerifiedCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, CachedToken>> {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The verified token `text`, and its key id, if kept and not expired at `now` (unix
    /// seconds) as jsonwebtoken would decide with `leeway`.
    fn get(&self, text: &str, now: u64, leeway: u64) -> Option<(VerifiedToken, String)> {
        let tokens = self.lock();
        let cached = tokens.get(text)?;
        (cached.exp >= now.saturating_sub(leeway)).then(|| (cached.token.clone(), cached.kid.clone()))
    }

    fn insert(&self, text: &str, token: &VerifiedToken, exp: u64, kid: &str) {
        let mut tokens = self.lock();
        if tokens.len() >= VERIFIED_TOKENS {
            tokens.clear();
        }
        tokens.insert(text.into(), CachedToken { token: token.clone(), exp, kid: kid.to_owned() });
    }
}

struct KeySource {
    store: Arc<dyn KeyStore>,
    master: MasterKey,
    /// When the keys were last read for signing.
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
    /// When a token naming an unknown key last made the service read them.
    last_miss: tokio::sync::Mutex<Option<Instant>>,
}

/// How long a superseded key must keep verifying: the longest lifetime of any token it may
/// have signed (partner tokens, browser tokens), plus the time other instances may still sign
/// with it before they notice the rotation, plus the verification leeway.
pub fn verify_window(partner_lifetime: Duration) -> Duration {
    partner_lifetime.max(BROWSER_TOKEN_LIFETIME) + KEY_REFRESH * 2 + Duration::from_secs(LEEWAY_SECS)
}

const LEEWAY_SECS: u64 = 5;

/// The key id of a configured key: the first 8 bytes of its SHA-256, hex, so the same key
/// configured on every instance has one id.
pub fn configured_kid(key: &[u8]) -> String {
    hex::encode(&Sha256::digest(key)[..8])
}

/// A new random signing key, sealed with `master` for storage.
pub fn new_signing_key(master: &MasterKey) -> SigningKey {
    let mut secret = zeroize::Zeroizing::new(vec![0u8; MIN_KEY_BYTES]);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let mut kid = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut kid);
    let kid = hex::encode(kid);
    let sealed = master.seal(Purpose::SigningKey, &kid, &secret);
    SigningKey::new(kid, ALGORITHM_NAME.into(), sealed.into_bytes(), candex_domain::time::now_ms())
}

const ALGORITHM_NAME: &str = "HS256";

impl TokenService {
    /// Builds the service from the keys in the database, opened with `master`:
    ///
    /// - with a configured key (`--token-signing-key`): the key is installed in the database
    ///   as the current key (a rotation when another key was current, so tokens it signed keep
    ///   verifying until they expire); a key that was ever superseded or retired is refused,
    ///   so it never comes back;
    /// - without: the database's current key, or a new random key stored for every later start
    ///   and every other instance.
    pub async fn load(
        store: Arc<dyn KeyStore>,
        master: MasterKey,
        settings: &TokenSettings,
        public_url: &str,
    ) -> anyhow::Result<Self> {
        if let Some(key) = &settings.signing_key {
            install_configured_key(store.as_ref(), &master, key, settings.lifetime).await?;
        } else if store.signing_key().await.context("failed to read the token signing key")?.is_none() {
            store
                .insert_signing_key_if_absent(new_signing_key(&master))
                .await
                .context("failed to store the token signing key")?;
        }
        let keys = read_keys(store.as_ref(), &master).await?;
        let issuer = settings.issuer.clone().unwrap_or_else(|| public_url.to_owned());
        let audience = settings.audience.clone().unwrap_or_else(|| public_url.to_owned());
        let mut service = Self::with_keys(keys, issuer, audience, settings.lifetime);
        service.accepted_audiences = settings.accepted_audiences.clone();
        service.source = Some(KeySource {
            store,
            master,
            last_refresh: tokio::sync::Mutex::new(Some(Instant::now())),
            last_miss: tokio::sync::Mutex::new(None),
        });
        Ok(service)
    }

    /// Builds the service from one explicit key, never refreshed.
    pub fn new(secret: &[u8], kid: String, issuer: String, audience: String, lifetime: Duration) -> Self {
        let mut verifying = HashMap::new();
        verifying.insert(kid.clone(), HeldKey { decoding: DecodingKey::from_secret(secret), retire_at: None });
        let keys = KeySet { kid, encoding: EncodingKey::from_secret(secret), verifying };
        Self::with_keys(keys, issuer, audience, lifetime)
    }

    fn with_keys(keys: KeySet, issuer: String, audience: String, lifetime: Duration) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.set_audience(&[&audience]);
        validation.set_issuer(&[&issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            keys: RwLock::new(keys),
            source: None,
            issuer,
            audience,
            accepted_audiences: Vec::new(),
            lifetime,
            validation,
            verified: VerifiedCache::default(),
        }
    }

    /// Re-reads the keys from the database (and retires those due) when the last read is
    /// older than [`KEY_REFRESH`]; a failed read keeps the keys held and is logged.
    pub async fn refresh(&self) {
        let Some(source) = &self.source else { return };
        self.reload_if_due(source, &source.last_refresh).await;
    }

    /// As [`TokenService::refresh`], on its own clock: a token naming a key not held here.
    async fn refresh_for_unknown_key(&self) {
        let Some(source) = &self.source else { return };
        self.reload_if_due(source, &source.last_miss).await;
    }

    async fn reload_if_due(&self, source: &KeySource, clock: &tokio::sync::Mutex<Option<Instant>>) {
        let Ok(mut last) = clock.try_lock() else { return };
        if last.is_some_and(|at| at.elapsed() < KEY_REFRESH) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = source.store.retire_signing_keys(chrono::Utc::now()).await {
            tracing::warn!(error = %e, "could not retire expired signing keys");
        }
        match read_keys(source.store.as_ref(), &source.master).await {
            Ok(keys) => *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = keys,
            Err(e) => tracing::warn!(error = %e, "could not re-read the token signing keys; keeping those held"),
        }
    }

    /// The id of the key that signs now.
    pub fn current_kid(&self) -> String {
        self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).kid.clone()
    }

    /// Whether a token request may name `audience`: this server's own, or one of the accepted
    /// ones (SEEK's by default), ignoring a trailing slash.
    pub fn accepts_audience(&self, audience: &str) -> bool {
        let audience = audience.trim_end_matches('/');
        std::iter::once(&self.audience)
            .chain(&self.accepted_audiences)
            .any(|accepted| accepted.trim_end_matches('/') == audience)
    }

    /// The audience tokens are issued for and checked against.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Issues a partner token with the current key held (callers [`TokenService::refresh`]
    /// first, so a rotation made elsewhere signs here within [`KEY_REFRESH`]).
    pub fn issue_partner(&self, partner_id: &PartnerId) -> anyhow::Result<IssuedToken> {
        self.issue(partner_id, TokenKind::Partner, None, None, None, self.lifetime)
    }

    /// Issues a browser token bound to one hirer and a set of scopes. The caller has already
    /// checked the partner's relationship with the hirer and the scopes.
    pub fn issue_browser(
        &self,
        partner_id: &PartnerId,
        hirer_id: &HirerId,
        scopes: &[String],
        user_id: &str,
    ) -> anyhow::Result<IssuedToken> {
        let scope = Some(scopes.join(" "));
        let hirer = Some(hirer_id.to_string());
        self.issue(partner_id, TokenKind::Browser, hirer, scope, Some(user_id.to_owned()), BROWSER_TOKEN_LIFETIME)
    }

    fn issue(
        &self,
        partner_id: &PartnerId,
        kind: TokenKind,
        hirer: Option<String>,
        scope: Option<String>,
        user: Option<String>,
        lifetime: Duration,
    ) -> anyhow::Result<IssuedToken> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let now = now_ms.div_euclid(1000);
        let seconds = i64::try_from(lifetime.as_secs()).context("token lifetime too large")?;
        let mut jti = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut jti);
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: partner_id.to_string(),
            aud: self.audience.clone(),
            exp: now + seconds,
            iat: now,
            nbf: now,
            jti: bs58::encode(jti).into_string(),
            kind,
            hirer,
            scope,
            user,
            issued_at_ms: Some(now_ms),
        };
        let keys = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(TOKEN_TYPE.into());
        header.kid = Some(keys.kid.clone());
        let access_token = encode(&header, &claims, &keys.encoding).context("failed to sign a token")?;
        Ok(IssuedToken { access_token, expires_in: lifetime.as_secs() })
    }

    /// Verifies a token as [`TokenService::verify`] does; a token naming a key not held here
    /// (a rotation made elsewhere) makes the service re-read its keys first, at most every
    /// [`KEY_REFRESH`].
    pub async fn authenticate(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        match self.verify_with_known_key(token) {
            Err(Unknown::Key) => {
                self.refresh_for_unknown_key().await;
                self.verify_with_known_key(token).map_err(Unknown::into_error)
            }
            other => other.map_err(Unknown::into_error),
        }
    }

    /// Verifies a token: header type, algorithm and key first, then signature and claims.
    /// Only keys held and not retired verify: a superseded key until its `retire_at`.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.verify_with_known_key(token).map_err(Unknown::into_error)
    }

    fn verify_with_known_key(&self, token: &str) -> Result<VerifiedToken, Unknown> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some((verified, kid)) = self.verified.get(token, now, self.validation.leeway) {
            let keys = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            let held = keys.verifying.get(&kid).is_some_and(|key| {
                key.retire_at.is_none_or(|retire_at| chrono::Utc::now().timestamp_millis() < retire_at)
            });
            if held {
                return Ok(verified);
            }
        }
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != ALGORITHM || header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(TokenError::Invalid.into());
        }
        let keys = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Tokens from before key ids were sent name none: the current key is tried.
        let kid = header.kid.as_deref().unwrap_or(keys.kid.as_str());
        let key = keys.verifying.get(kid).ok_or(Unknown::Key)?;
        if key.retire_at.is_some_and(|retire_at| chrono::Utc::now().timestamp_millis() >= retire_at) {
            return Err(TokenError::Invalid.into());
        }
        let data = decode::<Claims>(token, &key.decoding, &self.validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        let claims = data.claims;
        let partner_id = PartnerId::parse(&claims.sub).map_err(|_| TokenError::Invalid)?;
        let hirer_id = claims.hirer.as_deref().map(HirerId::parse).transpose().map_err(|_| TokenError::Invalid)?;
        // A browser token must name its hirer; a partner token must not.
        if (claims.kind == TokenKind::Browser) != hirer_id.is_some() {
            return Err(TokenError::Invalid.into());
        }
        let scopes = claims.scope.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect();
        let issued_at_ms = claims.issued_at_ms.unwrap_or(claims.iat.saturating_mul(1000));
        let verified = VerifiedToken { partner_id, kind: claims.kind, hirer_id, scopes, issued_at_ms };
        if let (Some(kid), Ok(exp)) = (header.kid.as_deref(), u64::try_from(claims.exp)) {
            self.verified.insert(token, &verified, exp, kid);
        }
        Ok(verified)
    }
}

/// A verification failure, or a key this instance does not hold (yet).
enum Unknown {
    Key,
    Token(TokenError),
}

impl From<TokenError> for Unknown {
    fn from(e: TokenError) -> Self {
        Unknown::Token(e)
    }
}

impl Unknown {
    fn into_error(self) -> TokenError {
        match self {
            Unknown::Key => TokenError::Invalid,
            Unknown::Token(e) => e,
        }
    }
}

/// Installs a configured key as the current one (see [`TokenService::load`]).
async fn install_configured_key(
    store: &dyn KeyStore,
    master: &MasterKey,
    key: &[u8],
    lifetime: Duration,
) -> anyhow::Result<()> {
    anyhow::ensure!(key.len() >= MIN_KEY_BYTES, "the token signing key must be at least {MIN_KEY_BYTES} bytes");
    let kid = configured_kid(key);
    let keys = store.signing_keys().await.context("failed to read the token signing keys")?;
    if let Some(known) = keys.iter().find(|k| k.kid == kid) {
        anyhow::ensure!(
            known.superseded_at.is_none() && known.retired_at.is_none(),
            "the configured --token-signing-key (key id {kid}) was rotated out and may never sign again: remove \
             --token-signing-key / CANDEX_TOKEN_SIGNING_KEY (the database's current key then signs) or configure a \
             new key"
        );
        return Ok(());
    }
    let sealed = master.seal(Purpose::SigningKey, &kid, key);
    let new = SigningKey::new(kid.clone(), ALGORITHM_NAME.into(), sealed.into_bytes(), candex_domain::time::now_ms());
    let result = if keys.is_empty() {
        store.insert_signing_key_if_absent(new).await.map(|_| ())
    } else {
        let retire_at = chrono::Utc::now() + verify_window(lifetime);
        store.rotate_signing_key(new, retire_at).await.map(|_| ())
    };
    match result {
        Ok(()) => {}
        // Another instance configured with the same key installed it first.
        Err(candex_store::StoreError::Conflict { .. }) => {}
        Err(e) => return Err(anyhow::Error::new(e).context("failed to store the configured token signing key")),
    }
    let current = store.signing_key().await.context("failed to read the token signing key")?;
    anyhow::ensure!(
        current.is_some_and(|k| k.kid == kid),
        "another token signing key was installed at the same time as the configured one; start again"
    );
    Ok(())
}

/// Reads and opens every key that still verifies.
async fn read_keys(store: &dyn KeyStore, master: &MasterKey) -> anyhow::Result<KeySet> {
    let stored = store.signing_keys().await.context("failed to read the token signing keys")?;
    let now = chrono::Utc::now();
    let mut current = None;
    let mut verifying = HashMap::new();
    for key in stored {
        if key.retired_at.is_some() || key.retire_at.is_some_and(|at| at <= now) {
            continue;
        }
        anyhow::ensure!(key.algorithm == ALGORITHM_NAME, "unsupported stored signing key algorithm {}", key.algorithm);
        let sealed = std::str::from_utf8(&key.secret)
            .ok()
            .filter(|s| crate::auth::master_key::is_sealed(s.as_bytes()))
            .with_context(|| format!("the token signing key {} is not sealed; start with a master key", key.kid))?;
        let secret = master
            .open(Purpose::SigningKey, &key.kid, sealed)
            .with_context(|| format!("cannot open the token signing key {} kept in the database", key.kid))?;
        if key.superseded_at.is_none() && current.is_none() {
            current = Some((key.kid.clone(), EncodingKey::from_secret(&secret)));
        }
        let retire_at = if key.superseded_at.is_none() { None } else { key.retire_at.map(|t| t.timestamp_millis()) };
        verifying.insert(key.kid, HeldKey { decoding: DecodingKey::from_secret(&secret), retire_at });
    }
    let (kid, encoding) = current.context("the database holds no current token signing key")?;
    Ok(KeySet { kid, encoding, verifying })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn service(key: &[u8], aud: &str) -> TokenService {
        TokenService::new(key, "k1".into(), "https://iss".into(), aud.into(), Duration::from_secs(60))
    }

    fn partner() -> PartnerId {
        PartnerId::parse("seekAnzPublicTest:partner:candex:abc").unwrap()
    }

    #[test]
    fn issued_tokens_verify() {
        let s = service(&[7; 32], "https://aud");
        let t = s.issue_partner(&partner()).unwrap();
        assert_eq!(t.expires_in, 60);
        assert_eq!(s.verify(&t.access_token).unwrap().partner_id, partner());
    }

    #[test]
    fn tokens_signed_with_another_key_or_for_another_audience_are_invalid() {
        let t = service(&[8; 32], "https://aud").issue_partner(&partner()).unwrap();
        assert_eq!(service(&[7; 32], "https://aud").verify(&t.access_token), Err(TokenError::Invalid));
        let t = service(&[7; 32], "https://other").issue_partner(&partner()).unwrap();
        assert_eq!(service(&[7; 32], "https://aud").verify(&t.access_token), Err(TokenError::Invalid));
    }

    #[test]
    fn alg_none_and_garbage_are_invalid() {
        let s = service(&[7; 32], "https://aud");
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let now = chrono::Utc::now().timestamp();
        let claims = format!(
            r#"{{"iss":"https://iss","sub":"seekAnzPublicTest:partner:candex:abc","aud":"https://aud","exp":{},"iat":{now},"nbf":{now},"jti":"x","cdx_kind":"partner"}}"#,
            now + 60
        );
        let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"at+jwt"}"#), b64(&claims));
        assert_eq!(s.verify(&none), Err(TokenError::Invalid));
        assert_eq!(s.verify("not-a-token"), Err(TokenError::Invalid));
    }

    #[test]
    fn browser_tokens_carry_their_hirer_and_scopes() {
        let s = service(&[7; 32], "https://aud");
        let hirer = HirerId::parse("seekAnzPublicTest:organization:seek:h").unwrap();
        let scopes = vec!["query:organizations".to_owned(), "download:candidate-profile-attachments".to_owned()];
        let t = s.issue_browser(&partner(), &hirer, &scopes, "317665").unwrap();
        assert_eq!(t.expires_in, 3600);
        let v = s.verify(&t.access_token).unwrap();
        assert_eq!((v.kind, v.hirer_id.as_ref()), (TokenKind::Browser, Some(&hirer)));
        assert!(v.has_scope("query:organizations") && !v.has_scope("query:position-profiles"));
        assert!(!v.is_partner());
        assert!(s.verify(&s.issue_partner(&partner()).unwrap().access_token).unwrap().is_partner());
    }

    #[test]
    fn expired_tokens_are_reported_as_expired() {
        let s = service(&[7; 32], "https://aud");
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: "https://iss".into(),
            sub: partner().to_string(),
            aud: "https://aud".into(),
            exp: now - 3600,
            iat: now - 7200,
            nbf: now - 7200,
            jti: "j".into(),
            kind: TokenKind::Partner,
            hirer: None,
            scope: None,
            user: None,
            issued_at_ms: None,
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(TOKEN_TYPE.into());
        let t = encode(&header, &claims, &EncodingKey::from_secret(&[7; 32])).unwrap();
        assert_eq!(s.verify(&t), Err(TokenError::Expired));
        // the same claims without the explicit typ are refused outright
        let t = encode(&Header::new(ALGORITHM), &claims, &EncodingKey::from_secret(&[7; 32])).unwrap();
        assert_eq!(s.verify(&t), Err(TokenError::Invalid));
    }

    #[test]
    fn a_kept_verification_lasts_only_while_the_token_and_its_key_would_verify() {
        let s = service(&[7; 32], "https://aud");
        let t = s.issue_partner(&partner()).unwrap().access_token;
        assert_eq!(s.verify(&t).unwrap().partner_id, partner());
        let (kept, kid) = s.verified.get(&t, jsonwebtoken::get_current_timestamp(), LEEWAY_SECS).expect("kept");
        assert_eq!((kept.partner_id, kid.as_str()), (partner(), "k1"));
        // Expiry as jsonwebtoken decides it: valid until exp + leeway.
        let exp = s.verified.lock()[t.as_str()].exp;
        assert!(s.verified.get(&t, exp + LEEWAY_SECS, LEEWAY_SECS).is_some());
        assert!(s.verified.get(&t, exp + LEEWAY_SECS + 1, LEEWAY_SECS).is_none());
        // Its key retired: refused at once, kept or not.
        s.keys.write().unwrap().verifying.get_mut("k1").unwrap().retire_at = Some(0);
        assert_eq!(s.verify(&t), Err(TokenError::Invalid));
        // A token that does not verify is never kept; nor is one without a key id.
        let mut tampered = t.clone();
        tampered.push('x');
        assert!(s.verify(&tampered).is_err());
        assert!(s.verified.get(&tampered, 0, LEEWAY_SECS).is_none());
    }

    #[test]
    fn kept_verifications_stay_bounded() {
        let s = service(&[7; 32], "https://aud");
        let t = s.issue_partner(&partner()).unwrap().access_token;
        let v = s.verify(&t).unwrap();
        for i in 0..VERIFIED_TOKENS * 2 {
            s.verified.insert(&format!("{t}{i}"), &v, u64::MAX, "k1");
            assert!(s.verified.lock().len() <= VERIFIED_TOKENS);
        }
    }
}
