//! Signed access tokens (JWT, HS256) for partners: issuing and verification following
//! RFC 8725 (one allowed algorithm, explicit `typ`, required `iss`/`aud`/`exp`/`sub`).

use std::time::Duration;

use anyhow::Context;
use candex_domain::{HirerId, PartnerId};
use candex_store::{KeyStore, SigningKey};
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
}

impl VerifiedToken {
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

/// A freshly issued token.
pub struct IssuedToken {
    /// The JWT.
    pub access_token: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// Issues and verifies tokens with one HMAC key.
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    issuer: String,
    audience: String,
    /// Further `audience` values a token request may name (tokens are still for `audience`).
    accepted_audiences: Vec<String>,
    lifetime: Duration,
    validation: Validation,
}

impl TokenService {
    /// Builds the service from settings: the configured key, else the key stored in the
    /// database, else a new random key stored for every later start and every other instance.
    pub async fn load(store: &dyn KeyStore, settings: &TokenSettings, public_url: &str) -> anyhow::Result<Self> {
        let (kid, secret) = match &settings.signing_key {
            Some(key) => {
                anyhow::ensure!(
                    key.len() >= MIN_KEY_BYTES,
                    "the token signing key must be at least {MIN_KEY_BYTES} bytes"
                );
                let digest = Sha256::digest(key);
                (hex::encode(&digest[..8]), key.clone())
            }
            None => {
                let key = match store.signing_key().await.context("failed to read the token signing key")? {
                    Some(key) => key,
                    None => {
                        let mut secret = vec![0u8; MIN_KEY_BYTES];
                        rand::rngs::OsRng.fill_bytes(&mut secret);
                        let mut kid = [0u8; 8];
                        rand::rngs::OsRng.fill_bytes(&mut kid);
                        let candidate = SigningKey {
                            kid: hex::encode(kid),
                            algorithm: "HS256".into(),
                            secret,
                            created_at: candex_domain::time::now_ms(),
                        };
                        store
                            .insert_signing_key_if_absent(candidate)
                            .await
                            .context("failed to store the token signing key")?
                    }
                };
                anyhow::ensure!(key.algorithm == "HS256", "unsupported stored signing key algorithm {}", key.algorithm);
                (key.kid, key.secret)
            }
        };
        let issuer = settings.issuer.clone().unwrap_or_else(|| public_url.to_owned());
        let audience = settings.audience.clone().unwrap_or_else(|| public_url.to_owned());
        let mut service = Self::new(&secret, kid, issuer, audience, settings.lifetime);
        service.accepted_audiences = settings.accepted_audiences.clone();
        Ok(service)
    }

    /// Builds the service from explicit parts.
    pub fn new(secret: &[u8], kid: String, issuer: String, audience: String, lifetime: Duration) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.set_audience(&[&audience]);
        validation.set_issuer(&[&issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            kid,
            issuer,
            audience,
            accepted_audiences: Vec::new(),
            lifetime,
            validation,
        }
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

    /// Issues a partner token.
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
        let now = chrono::Utc::now().timestamp();
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
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(TOKEN_TYPE.into());
        header.kid = Some(self.kid.clone());
        let access_token = encode(&header, &claims, &self.encoding).context("failed to sign a token")?;
        Ok(IssuedToken { access_token, expires_in: lifetime.as_secs() })
    }

    /// Verifies a token: header type and algorithm first, then signature and claims.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != ALGORITHM || header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(TokenError::Invalid);
        }
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        let claims = data.claims;
        let partner_id = PartnerId::parse(&claims.sub).map_err(|_| TokenError::Invalid)?;
        let hirer_id = claims.hirer.as_deref().map(HirerId::parse).transpose().map_err(|_| TokenError::Invalid)?;
        // A browser token must name its hirer; a partner token must not.
        if (claims.kind == TokenKind::Browser) != hirer_id.is_some() {
            return Err(TokenError::Invalid);
        }
        let scopes = claims.scope.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect();
        Ok(VerifiedToken { partner_id, kind: claims.kind, hirer_id, scopes })
    }
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
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(TOKEN_TYPE.into());
        let t = encode(&header, &claims, &EncodingKey::from_secret(&[7; 32])).unwrap();
        assert_eq!(s.verify(&t), Err(TokenError::Expired));
        // the same claims without the explicit typ are refused outright
        let t = encode(&Header::new(ALGORITHM), &claims, &EncodingKey::from_secret(&[7; 32])).unwrap();
        assert_eq!(s.verify(&t), Err(TokenError::Invalid));
    }
}
