//! `RateLimiter`: request budgets per source address, client id and partner (token buckets,
//! from `governor`), and the `429 Too Many Requests` answer with `Retry-After`. Keys that
//! have been quiet long enough to be back at a full bucket are dropped as they go, so memory
//! is bounded by the allowed request rate, not by how many addresses or ids were ever seen.

use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue};
use candex_domain::ObjectId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::{Rate, RateLimits};

/// `extensions.code` (GraphQL) of a request refused by a budget.
pub const RATE_LIMITED: &str = "RATE_LIMITED";

/// Checks between sweeps of quiet keys.
const SWEEP_EVERY: u64 = 4096;

/// One keyed budget; `None` inside when the rate is unlimited.
pub struct Budget<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> Budget<K> {
    /// A budget of `rate` per key.
    pub fn new(rate: Rate) -> Self {
        let limiter = NonZeroU32::new(rate.per_second).map(|per_second| {
            let burst = NonZeroU32::new(rate.burst.max(rate.per_second)).unwrap_or(per_second);
            governor::RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
        });
        Self { limiter, checks: AtomicU64::new(0) }
    }

    /// Takes one request from `key`'s bucket; `Err(wait)` when it is empty.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Keys tracked now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every budget of the server.
pub struct RateLimiter {
    /// Token requests per source address.
    pub token_per_address: Budget<IpAddr>,
    /// Token requests per client id.
    pub token_per_client: Budget<String>,
    /// GraphQL requests without a valid token per source address.
    pub anonymous_per_address: Budget<IpAddr>,
    /// GraphQL requests and downloads per partner (by partner id).
    pub partner: Budget<ObjectId>,
    trust_forwarded_for: bool,
}

impl RateLimiter {
    /// Budgets as configured.
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            token_per_address: Budget::new(limits.token_per_address),
            token_per_client: Budget::new(limits.token_per_client),
            anonymous_per_address: Budget::new(limits.anonymous_graphql_per_address),
            partner: Budget::new(limits.partner),
            trust_forwarded_for: limits.trust_forwarded_for,
        }
    }

    /// The client's address for per-address budgets: the TCP peer, or the last
    /// `X-Forwarded-For` entry when configured to trust a proxy. IPv6 addresses are keyed by
    /// their /64 network (one host usually holds a whole /64). `None` when unknown (a router
    /// served without connection info, as in some tests): per-address budgets then do not apply.
    pub fn client_address(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        let forwarded = self
            .trust_forwarded_for
            .then(|| headers.get_all("x-forwarded-for").iter().next_back().and_then(last_forwarded))
            .flatten();
        forwarded.or(peer.map(|p| p.ip())).map(network_key)
    }

    /// [`Self::client_address`] of a request, with the peer address the connection-level
    /// server attached (`ConnectInfo`).
    pub fn address_of(&self, parts: &axum::http::request::Parts) -> Option<IpAddr> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        self.client_address(&parts.headers, peer)
    }

    /// Takes one token request from `address`'s budget.
    pub fn check_token_address(&self, address: Option<IpAddr>) -> Result<(), Duration> {
        address.map_or(Ok(()), |a| self.token_per_address.check(&a))
    }

    /// Takes one token request from `client_id`'s budget (ids longer than any real one are
    /// cut, so a key costs at most that much memory).
    pub fn check_token_client(&self, client_id: &str) -> Result<(), Duration> {
        let end = client_id.char_indices().map(|(i, c)| i + c.len_utf8()).take_while(|&e| e <= 128).last();
        self.token_per_client.check(&client_id[..end.unwrap_or(0)].to_owned())
    }
}

/// Extractor: the caller's address as [`RateLimiter::client_address`] sees it.
pub struct ClientAddress(pub Option<IpAddr>);

impl axum::extract::FromRequestParts<crate::state::AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(state.limiter.address_of(parts)))
    }
}

fn last_forwarded(value: &HeaderValue) -> Option<IpAddr> {
    value.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
}

fn network_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// Whole seconds to put in `Retry-After` (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.as_secs() == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_past_its_burst_and_says_how_long_to_wait() {
        let budget = Budget::new(Rate::new(1, 3));
        let key = "a".to_owned();
        for _ in 0..3 {
            budget.check(&key).expect("within the burst");
        }
        let wait = budget.check(&key).expect_err("burst spent");
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO, "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        budget.check(&"b".to_owned()).expect("another key has its own bucket");
    }

    #[test]
    fn an_unlimited_budget_never_refuses_and_tracks_nothing() {
        let budget = Budget::new(Rate::UNLIMITED);
        for _ in 0..10_000 {
            budget.check(&"a".to_owned()).expect("unlimited");
        }
        assert!(budget.is_empty());
    }

    #[test]
    fn addresses_come_from_the_peer_unless_a_proxy_is_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 198.51.100.7"));
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let direct = RateLimiter::new(&RateLimits::default());
        assert_eq!(direct.client_address(&headers, Some(peer)), Some("10.0.0.1".parse().unwrap()));
        let proxied = RateLimiter::new(&RateLimits { trust_forwarded_for: true, ..RateLimits::default() });
        assert_eq!(proxied.client_address(&headers, Some(peer)), Some("198.51.100.7".parse().unwrap()));
        let v6: SocketAddr = "[2001:db8:1:2:3:4:5:6]:80".parse().unwrap();
        assert_eq!(direct.client_address(&HeaderMap::new(), Some(v6)), Some("2001:db8:1:2::".parse().unwrap()));
    }
}
