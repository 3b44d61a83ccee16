//! Webhooks: [`WebhookVerifier`] checks `Seek-Signature` and Standard Webhooks signatures in
//! constant time; [`WebhookBody`] decodes bodies leniently.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

/// Standard Webhooks message id header.
const WEBHOOK_ID: &str = "webhook-id";
/// Standard Webhooks timestamp header (Unix seconds).
const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// Standard Webhooks signature header (`v1,<base64>` entries, space separated).
const WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// Checks that webhook requests were signed with one subscription's secret.
///
/// Two signatures arrive on a signed subscription's requests, both keyed with the subscription
/// secret's bytes:
/// * `Seek-Signature`, SEEK's: hex HMAC-SHA-512 of the raw body
///   ([`verify_seek_signature`](Self::verify_seek_signature));
/// * `webhook-signature`, the [Standard Webhooks](https://www.standardwebhooks.com/) one candex
///   sends beside it: base64 HMAC-SHA-256 of `{webhook-id}.{webhook-timestamp}.{body}`, whose
///   timestamp lets receivers reject replayed requests ([`verify_standard`](Self::verify_standard)).
///
/// Signatures are compared in constant time. `Debug` never prints the secret.
///
/// ```
/// use candex_client::WebhookVerifier;
///
/// let verifier = WebhookVerifier::new("the subscription secret");
/// let body = br#"{"events":[],"subscriptionId":"s"}"#;
/// assert!(verifier.verify_seek_signature(body, "not a signature").is_err());
/// ```
#[derive(Clone)]
pub struct WebhookVerifier {
    secret: Vec<u8>,
    tolerance: Duration,
}

/// Why a webhook request was refused. New variants may be added: match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A header the check needs is absent or not text; carries the header's name.
    #[error("missing or non-text {0} header")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a whole number of seconds.
    #[error("webhook-timestamp is not a whole number of seconds")]
    InvalidTimestamp,
    /// `webhook-timestamp` is further from now than the tolerance: a stale or replayed request
    /// (or a badly skewed clock). Checked before the signature.
    #[error("webhook-timestamp is outside the accepted tolerance (stale or replayed request)")]
    OutsideTolerance,
    /// No signature matches (wrong secret, altered body, malformed or empty signature).
    #[error("signature does not match")]
    InvalidSignature,
}

impl WebhookVerifier {
    /// How far `webhook-timestamp` may be from now, either way, unless set with
    /// [`with_tolerance`](Self::with_tolerance): five minutes, as Standard Webhooks recommends.
    pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

    /// A verifier for the subscription with this secret. candex keys both signatures with the
    /// secret's UTF-8 bytes (not a `whsec_` value): pass the secret as given to the subscription.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self { secret: secret.into(), tolerance: Self::DEFAULT_TOLERANCE }
    }

    /// How far `webhook-timestamp` may be from now in either direction, in whole seconds
    /// (fractions are dropped); default [`DEFAULT_TOLERANCE`](Self::DEFAULT_TOLERANCE).
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The timestamp tolerance in use.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Checks a `Seek-Signature` header value: the hex HMAC-SHA-512 of `raw_body`, in either
    /// case, surrounding whitespace ignored. Malformed hex is simply a mismatch.
    pub fn verify_seek_signature(&self, raw_body: &[u8], signature: &str) -> Result<(), VerifyError> {
        let expected = hex::decode(signature.trim()).map_err(|_| VerifyError::InvalidSignature)?;
        let mut mac = Hmac::<Sha512>::new_from_slice(&self.secret).map_err(|_| VerifyError::InvalidSignature)?;
        mac.update(raw_body);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&expected).map_err(|_| VerifyError::InvalidSignature)
    }

    /// Checks a request's Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`) against `raw_body`, with `now` as the current time (pass
    /// [`SystemTime::now()`]).
    ///
    /// The request is refused if the timestamp differs from `now` by more than the tolerance in
    /// either direction. `webhook-signature` may hold several space-separated `v1,<base64>`
    /// entries (e.g. during secret rotation); the request is accepted if any `v1` entry matches.
    /// Entries with other versions or malformed base64 are ignored.
    pub fn verify_standard(&self, headers: &HeaderMap, raw_body: &[u8], now: SystemTime) -> Result<(), VerifyError> {
        let header = |name: &'static str| {
            headers.get(name).and_then(|v| v.to_str().ok()).ok_or(VerifyError::MissingHeader(name))
        };
        let msg_id = header(WEBHOOK_ID)?;
        let timestamp: i64 = header(WEBHOOK_TIMESTAMP)?.parse().map_err(|_| VerifyError::InvalidTimestamp)?;
        let signatures = header(WEBHOOK_SIGNATURE)?;
        let skew = unix_secs(now).checked_sub(timestamp).ok_or(VerifyError::OutsideTolerance)?;
        if skew.unsigned_abs() > self.tolerance.as_secs() {
            return Err(VerifyError::OutsideTolerance);
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).map_err(|_| VerifyError::InvalidSignature)?;
        mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
        mac.update(raw_body);
        let expected = mac.finalize().into_bytes();
        let matches = signatures.split_ascii_whitespace().any(|entry| {
            let Some((version, sig)) = entry.split_once(',') else {
                return false;
            };
            if version != "v1" {
                return false;
            }
            let Ok(candidate) = BASE64.decode(sig) else {
                return false;
            };
            // Slice `ct_eq` is constant time for equal lengths and false for different lengths.
            bool::from(candidate.as_slice().ct_eq(expected.as_slice()))
        });
        if matches {
            Ok(())
        } else {
            Err(VerifyError::InvalidSignature)
        }
    }
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier").field("secret", &"<redacted>").field("tolerance", &self.tolerance).finish()
    }
}

/// `t` as whole Unix seconds (negative before 1970), saturating at the ends of `i64`.
fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map(|s| -s).unwrap_or(i64::MIN),
    }
}

/// A webhook request body. Unknown keys are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookBody {
    /// 1..=10 events.
    #[serde(deserialize_with = "crate::ops::nullable")]
    pub events: Vec<WebhookEvent>,
    /// The subscription that delivered it.
    pub subscription_id: Option<String>,
    /// The subscription URL (newer docs only).
    pub url: Option<String>,
}

/// One webhook event; keys this crate does not know (e.g. `expireDateTime`) land in `extra`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    /// Event id.
    #[serde(default)]
    pub id: String,
    /// JSON key `type`, e.g. `CandidateApplicationCreated`; unknown codes are kept.
    #[serde(rename = "type", default)]
    pub type_code: String,
    /// Event creation time (weak ordering).
    #[serde(default)]
    pub create_date_time: Option<String>,
    /// `CandidateApplicationCreated`: the profile to fetch.
    #[serde(default)]
    pub candidate_application_profile_id: Option<String>,
    /// `CandidateApplicationCreated`: the candidate.
    #[serde(default)]
    pub candidate_id: Option<String>,
    /// Present on signed subscriptions and `HirerRelationshipChanged`.
    #[serde(default)]
    pub hirer_id: Option<String>,
    /// `PositionProfile*` events.
    #[serde(default)]
    pub position_profile_id: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl WebhookBody {
    /// Decodes a body leniently.
    pub fn parse(raw: &[u8]) -> Result<WebhookBody, serde_json::Error> {
        serde_json::from_slice(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2, HMAC-SHA-512.
    const RFC4231_CASE2_SHA512: &str = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                                        9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
    const RFC4231_CASE2_BODY: &[u8] = b"what do ya want for nothing?";

    fn seek(secret: &[u8], body: &[u8], header: &str) -> Result<(), VerifyError> {
        WebhookVerifier::new(secret).verify_seek_signature(body, header)
    }

    #[test]
    fn verify_seek_signature_accepts_right_signature() {
        let body = RFC4231_CASE2_BODY;
        assert_eq!(seek(b"Jefe", body, RFC4231_CASE2_SHA512), Ok(()));
        assert_eq!(seek(b"Jefe", body, &format!("  {RFC4231_CASE2_SHA512}\n")), Ok(()));
    }

    #[test]
    fn verify_seek_signature_accepts_uppercase_hex() {
        assert_eq!(seek(b"Jefe", RFC4231_CASE2_BODY, &RFC4231_CASE2_SHA512.to_uppercase()), Ok(()));
    }

    #[test]
    fn verify_seek_signature_rejects_flipped_digit() {
        let body = RFC4231_CASE2_BODY;
        let mut flipped = RFC4231_CASE2_SHA512.to_owned();
        // Change the last digit '7' to '6'.
        flipped.pop();
        flipped.push('6');
        assert_eq!(seek(b"Jefe", body, &flipped), Err(VerifyError::InvalidSignature));
        // Same signature, different body or key.
        assert_eq!(
            seek(b"Jefe", b"what do ya want for nothing!", RFC4231_CASE2_SHA512),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(seek(b"jefe", body, RFC4231_CASE2_SHA512), Err(VerifyError::InvalidSignature));
    }

    #[test]
    fn verify_seek_signature_rejects_bad_hex_truncation_and_empty() {
        let body = RFC4231_CASE2_BODY;
        for header in [
            "",
            "   ",
            "zz",
            &RFC4231_CASE2_SHA512[1..],
            &RFC4231_CASE2_SHA512[..64],
            &format!("sha512={RFC4231_CASE2_SHA512}"),
        ] {
            assert_eq!(seek(b"Jefe", body, header), Err(VerifyError::InvalidSignature), "{header:?}");
        }
    }

    #[test]
    fn the_verifier_is_reusable_and_its_debug_hides_the_secret() {
        let verifier = WebhookVerifier::new("s3cret-value");
        assert_eq!(verifier.tolerance(), WebhookVerifier::DEFAULT_TOLERANCE);
        assert_eq!(verifier.clone().with_tolerance(Duration::from_secs(10)).tolerance(), Duration::from_secs(10));
        let text = format!("{verifier:?}");
        assert!(!text.contains("s3cret-value") && text.contains("<redacted>"), "{text}");
        let jefe = WebhookVerifier::new(*b"Jefe");
        for _ in 0..2 {
            assert_eq!(jefe.verify_seek_signature(RFC4231_CASE2_BODY, RFC4231_CASE2_SHA512), Ok(()));
        }
    }

    const SW_SECRET: &[u8] = b"candex-test-secret";
    const SW_ID: &str = "msg_2Lh9KRb0pzN4LePd3XiA2sNB3Dx";
    const SW_TS: i64 = 1_700_000_000;
    const SW_BODY: &[u8] = br#"{"type":"PositionProfilePosted"}"#;
    // python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'candex-test-secret',
    //   b'msg_2Lh9KRb0pzN4LePd3XiA2sNB3Dx.1700000000.{\"type\":\"PositionProfilePosted\"}',
    //   hashlib.sha256).digest()).decode())"
    const SW_EXPECTED: &str = "v1,nc57HxzlvXsm3JOpRitgC3UtSgzOPHf/vCOMBMjdvPQ=";

    fn headers(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(WEBHOOK_ID, id.parse().expect("header"));
        h.insert(WEBHOOK_TIMESTAMP, timestamp.parse().expect("header"));
        h.insert(WEBHOOK_SIGNATURE, signature.parse().expect("header"));
        h
    }

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).expect("after 1970"))
    }

    /// The Standard Webhooks check of (secret, id, timestamp, body, signature) at `now` with a tolerance.
    fn standard(
        secret: &[u8],
        id: &str,
        timestamp: i64,
        body: &[u8],
        signature: &str,
        now: SystemTime,
        tolerance_secs: u64,
    ) -> Result<(), VerifyError> {
        WebhookVerifier::new(secret).with_tolerance(Duration::from_secs(tolerance_secs)).verify_standard(
            &headers(id, &timestamp.to_string(), signature),
            body,
            now,
        )
    }

    #[test]
    fn verify_standard_accepts_within_tolerance() {
        for now in [SW_TS, SW_TS + 300, SW_TS - 300] {
            assert_eq!(standard(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, at(now), 300), Ok(()), "{now}");
        }
        // The default tolerance is the same five minutes.
        let verifier = WebhookVerifier::new(SW_SECRET);
        let h = headers(SW_ID, &SW_TS.to_string(), SW_EXPECTED);
        assert_eq!(verifier.verify_standard(&h, SW_BODY, at(SW_TS + 300)), Ok(()));
        assert_eq!(verifier.verify_standard(&h, SW_BODY, at(SW_TS + 301)), Err(VerifyError::OutsideTolerance));
    }

    #[test]
    fn verify_standard_accepts_any_of_several_entries() {
        let header = format!("v1,AAAA v2,{} {SW_EXPECTED}", &SW_EXPECTED[3..]);
        assert_eq!(standard(SW_SECRET, SW_ID, SW_TS, SW_BODY, &header, at(SW_TS), 300), Ok(()));
        // The right bytes under a version other than v1 do not count.
        let header = format!("v1a,{}", &SW_EXPECTED[3..]);
        assert_eq!(
            standard(SW_SECRET, SW_ID, SW_TS, SW_BODY, &header, at(SW_TS), 300),
            Err(VerifyError::InvalidSignature)
        );
    }

    #[test]
    fn verify_standard_rejects_replay_outside_tolerance() {
        for now in [SW_TS + 301, SW_TS - 301] {
            assert_eq!(
                standard(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, at(now), 300),
                Err(VerifyError::OutsideTolerance),
                "{now}"
            );
        }
        // A zero tolerance (the smallest there is; a negative one cannot be written) accepts only the
        // exact second.
        assert_eq!(standard(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, at(SW_TS), 0), Ok(()));
        for now in [SW_TS + 1, SW_TS - 1] {
            assert_eq!(
                standard(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, at(now), 0),
                Err(VerifyError::OutsideTolerance)
            );
        }
        // A timestamp so far away that `now - timestamp` overflows is refused, not wrapped.
        assert_eq!(
            standard(SW_SECRET, SW_ID, i64::MIN, SW_BODY, SW_EXPECTED, at(SW_TS), 300),
            Err(VerifyError::OutsideTolerance)
        );
        if let Some(far) = UNIX_EPOCH.checked_add(Duration::from_secs(i64::MAX.unsigned_abs())) {
            assert_eq!(
                standard(SW_SECRET, SW_ID, i64::MIN, SW_BODY, SW_EXPECTED, far, 300),
                Err(VerifyError::OutsideTolerance)
            );
        }
    }

    #[test]
    fn verify_standard_rejects_tampering() {
        let refused = Err(VerifyError::InvalidSignature);
        // Different body, id, timestamp (re-signed window but not re-signed content) or secret.
        assert_eq!(standard(SW_SECRET, SW_ID, SW_TS, b"{}", SW_EXPECTED, at(SW_TS), 300), refused);
        assert_eq!(standard(SW_SECRET, "msg_other", SW_TS, SW_BODY, SW_EXPECTED, at(SW_TS), 300), refused);
        assert_eq!(standard(SW_SECRET, SW_ID, SW_TS + 1, SW_BODY, SW_EXPECTED, at(SW_TS), 300), refused);
        assert_eq!(standard(b"other", SW_ID, SW_TS, SW_BODY, SW_EXPECTED, at(SW_TS), 300), refused);
        // Malformed headers.
        for header in ["", "v1", "v1,", "v1,not base64!", "nc57HxzlvXsm3JOpRitgC3UtSgzOPHf/vCOMBMjdvPQ="] {
            assert_eq!(standard(SW_SECRET, SW_ID, SW_TS, SW_BODY, header, at(SW_TS), 300), refused, "{header}");
        }
    }

    #[test]
    fn verify_standard_refuses_missing_headers_and_bad_timestamps() {
        let verifier = WebhookVerifier::new(SW_SECRET);
        let full = headers(SW_ID, &SW_TS.to_string(), SW_EXPECTED);
        for name in [WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE] {
            let mut h = full.clone();
            h.remove(name);
            assert_eq!(verifier.verify_standard(&h, SW_BODY, at(SW_TS)), Err(VerifyError::MissingHeader(name)));
        }
        for timestamp in ["", "soon", "1700000000.5", "1e9"] {
            let h = headers(SW_ID, timestamp, SW_EXPECTED);
            assert_eq!(
                verifier.verify_standard(&h, SW_BODY, at(SW_TS)),
                Err(VerifyError::InvalidTimestamp),
                "{timestamp:?}"
            );
        }
    }
}
