//! The input rules of the webhook mutations, each returning the partner-safe message of a
//! refusal: event type codes, signing algorithm and secret (whose value no message ever
//! contains), `maxEventsPerAttempt`, target URLs (through the SSRF guard) and hirer ids.

use candex_domain::{
    event::{MAX_EVENTS_PER_ATTEMPT, MAX_SECRET_BYTES, MIN_SECRET_CHARS},
    EventType, HirerId, Scheme, SigningAlgorithm,
};

use super::access::Access;
use super::error::bad_user_inputs;
use crate::webhooks::ssrf::{self, TargetError, TargetPolicy};

/// Refusals gathered over an input, reported together as one `BAD_USER_INPUT`.
#[derive(Debug, Default)]
pub struct Invalid(Vec<(String, String)>);

impl Invalid {
    /// Keeps `result`'s value, or records its message against `pointer`.
    pub fn check<T>(&mut self, pointer: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.0.push((pointer.to_owned(), message));
                None
            }
        }
    }

    /// How many refusals were recorded so far.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// `BAD_USER_INPUT` naming every refusal, if there was one.
    pub fn finish(self) -> async_graphql::Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(bad_user_inputs(self.0))
        }
    }
}

/// An event type code, exactly as SEEK spells it.
pub fn event_type(code: &str) -> Result<EventType, String> {
    EventType::parse(code).ok_or_else(|| {
        let codes: Vec<&str> = EventType::ALL.iter().map(|t| t.code()).collect();
        format!("must be one of {}", codes.join(", "))
    })
}

/// The `schemeId` of a subscription: the server's scheme.
pub fn scheme(given: &str, server: &Scheme) -> Result<(), String> {
    if given == server.as_str() {
        Ok(())
    } else {
        Err(format!("must be {server}"))
    }
}

/// A signing algorithm code.
pub fn signing_algorithm(code: &str) -> Result<SigningAlgorithm, String> {
    SigningAlgorithm::parse(code).ok_or_else(|| "must be None or SeekHmacSha512".to_owned())
}

/// The secret a signing algorithm needs: present, 16 characters to 255 UTF-8 bytes, for
/// `SeekHmacSha512`; absent for `None`. Messages never contain the secret.
pub fn secret(algorithm: SigningAlgorithm, secret: Option<String>) -> Result<Option<String>, String> {
    match (algorithm, secret) {
        (SigningAlgorithm::None, None) => Ok(None),
        (SigningAlgorithm::None, Some(_)) => Err("must be omitted when signingAlgorithmCode is None".to_owned()),
        (SigningAlgorithm::SeekHmacSha512, None) => {
            Err("is required when signingAlgorithmCode is SeekHmacSha512".to_owned())
        }
        (SigningAlgorithm::SeekHmacSha512, Some(s)) if s.chars().count() < MIN_SECRET_CHARS => {
            Err(format!("must be at least {MIN_SECRET_CHARS} characters"))
        }
        (SigningAlgorithm::SeekHmacSha512, Some(s)) if s.len() > MAX_SECRET_BYTES => {
            Err(format!("must be at most {MAX_SECRET_BYTES} UTF-8 bytes"))
        }
        (SigningAlgorithm::SeekHmacSha512, Some(s)) => Ok(Some(s)),
    }
}

/// `maxEventsPerAttempt`: 1 to 10 when given.
pub fn max_events_per_attempt(value: Option<i32>) -> Result<Option<u8>, String> {
    match value {
        None => Ok(None),
        Some(n) => u8::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_EVENTS_PER_ATTEMPT).contains(n))
            .map(Some)
            .ok_or_else(|| format!("must be between 1 and {MAX_EVENTS_PER_ATTEMPT}")),
    }
}

/// A webhook target the SSRF guard accepts, normalised. A host that does not resolve now is
/// accepted (DNS may be down); the dispatcher checks every request again.
pub async fn target_url(url: &str, policy: TargetPolicy) -> Result<String, String> {
    let parsed = ssrf::parse_target(url, policy).map_err(|e| e.to_string())?;
    match ssrf::check_target(&parsed, policy).await {
        Ok(()) | Err(TargetError::Unresolvable(_)) => Ok(parsed.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A hirer id (trimmed, as SEEK asks partners to do) of a hirer the caller holds any
/// relationship with. An unknown hirer and an unrelated one are refused alike.
pub async fn related_hirer_id(access: &Access, raw: &str) -> async_graphql::Result<Result<HirerId, String>> {
    let Ok(id) = HirerId::parse(raw.trim()) else {
        return Ok(Err("must be a hirer identifier".to_owned()));
    };
    if access.relationships(&id).await?.is_empty() {
        Ok(Err("no relationship with this hirer".to_owned()))
    } else {
        Ok(Ok(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_follow_the_algorithm_and_never_appear_in_messages() {
        let hmac = SigningAlgorithm::SeekHmacSha512;
        assert_eq!(secret(hmac, Some("s".repeat(16))), Ok(Some("s".repeat(16))));
        assert_eq!(secret(SigningAlgorithm::None, None), Ok(None));
        for bad in [Some("x".repeat(15)), Some("y".repeat(256)), None] {
            let message = secret(hmac, bad.clone()).unwrap_err();
            assert!(bad.is_none_or(|b| !message.contains(&b)), "{message}");
        }
        // 16 characters of 2 bytes each are fine; 128 of them (256 bytes) are not.
        assert!(secret(hmac, Some("é".repeat(16))).is_ok());
        assert!(secret(hmac, Some("é".repeat(128))).is_err());
        assert!(secret(SigningAlgorithm::None, Some("z".repeat(20))).is_err());
    }

    #[test]
    fn max_events_is_between_one_and_ten() {
        assert_eq!(max_events_per_attempt(None), Ok(None));
        assert_eq!(max_events_per_attempt(Some(1)), Ok(Some(1)));
        assert_eq!(max_events_per_attempt(Some(10)), Ok(Some(10)));
        for bad in [0, 11, -1, 300] {
            assert!(max_events_per_attempt(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_are_exact() {
        assert_eq!(event_type("CandidateApplicationCreated"), Ok(EventType::CandidateApplicationCreated));
        assert!(event_type("candidateApplicationCreated").is_err());
        assert!(signing_algorithm("HmacSha512").is_err());
    }
}
