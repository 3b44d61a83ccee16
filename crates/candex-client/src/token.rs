//! Partner-token cache: one token shared by every call, refreshed early, fetched once for concurrent callers.
//!
//! The refresh point is the sooner of 80% of the lifetime and 60 s before expiry, but never earlier than
//! half the lifetime, so servers issuing very short lifetimes (a few seconds) cause no request storm.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::error::{snippet, ClientError};

/// A cached partner token.
struct Cached {
    token: String,
    refresh_at: Instant,
}

/// The token cache; owned by a [`crate::Client`].
pub(crate) struct TokenCache {
    http: reqwest::Client,
    url: String,
    body: serde_json::Value,
    user_agent: String,
    timeout: Duration,
    cached: Mutex<Option<Cached>>,
    fetches: AtomicU64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<f64>,
}

#[derive(Deserialize, Default)]
struct TokenErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// When to refresh a token of this lifetime, counted from when it was received.
pub(crate) fn refresh_after(lifetime: Duration) -> Duration {
    let eighty = lifetime.mul_f64(0.8);
    let minute_before = lifetime.saturating_sub(Duration::from_secs(60));
    eighty.min(minute_before).max(lifetime / 2)
}

impl TokenCache {
    pub(crate) fn new(http: reqwest::Client, config: &crate::ClientConfig) -> Self {
        Self {
            http,
            url: config.token_url.clone(),
            body: serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "audience": config.audience,
            }),
            user_agent: config.user_agent.clone(),
            timeout: config.request_timeout,
            cached: Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// Token requests sent so far.
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A usable token: the cached one, or a fresh one. Concurrent callers wait on one refresh.
    pub(crate) async fn get(&self) -> Result<String, ClientError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if Instant::now() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        let (token, lifetime) = self.fetch().await?;
        let refresh_at = Instant::now() + refresh_after(lifetime);
        *cached = Some(Cached { token: token.clone(), refresh_at });
        Ok(token)
    }

    /// Drops `token` if it is still the cached one (a token another caller already replaced stays).
    pub(crate) async fn invalidate(&self, token: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }

    async fn fetch(&self) -> Result<(String, Duration), ClientError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let res = self
            .http
            .post(&self.url)
            .header(reqwest::header::USER_AGENT, &self.user_agent)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(self.timeout)
            .json(&self.body)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        let status = res.status();
        let text = res.text().await.map_err(ClientError::Transport)?;
        if status.is_client_error() && status.as_u16() != 429 {
            let body: TokenErrorBody = serde_json::from_str(&text).unwrap_or_default();
            return Err(ClientError::TokenRejected {
                url: self.url.clone(),
                status: status.as_u16(),
                error: body.error.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
                description: body.error_description,
            });
        }
        if !status.is_success() {
            // The body of an error answer carries no token; keep a little of it.
            return Err(ClientError::Status {
                status: status.as_u16(),
                what: "token endpoint",
                body: snippet(&text, 200),
            });
        }
        let body: TokenResponse = serde_json::from_str(&text)
            .map_err(|e| ClientError::TokenResponse { message: format!("not JSON: {e}"), source: Some(e) })?;
        let token = body
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ClientError::TokenResponse { message: "no access_token".to_owned(), source: None })?;
        let expires_in = body.expires_in.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(60.0);
        Ok((token, Duration::from_secs_f64(expires_in)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_early_but_not_in_a_storm() {
        assert_eq!(refresh_after(Duration::from_secs(1800)), Duration::from_secs(1440));
        assert_eq!(refresh_after(Duration::from_secs(86400)), Duration::from_secs(69120));
        assert_eq!(refresh_after(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(refresh_after(Duration::from_secs(100)), Duration::from_secs(50));
    }
}
