//! Webhooks: `Seek-Signature` and Standard Webhooks verification in constant time, and a lenient
//! body decoder.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

/// Whether `header` (lowercase or uppercase hex HMAC-SHA-512 of `raw_body` keyed by `secret`) is valid.
/// Compares in constant time; malformed hex is simply invalid.
pub fn verify_seek_signature(secret: &[u8], raw_body: &[u8], header: &str) -> bool {
    let Ok(expected) = hex::decode(header.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha512>::new_from_slice(secret) else {
        return false;
    };
    mac.update(raw_body);
    mac.verify_slice(&expected).is_ok()
}

/// Verifies a Standard Webhooks `webhook-signature` header value, which candex sends beside
/// `Seek-Signature` so receivers can reject replayed requests. candex keys it with the
/// subscription secret's UTF-8 bytes (not a `whsec_` value): pass those as `secret`.
///
/// `header_value` may hold several space-separated `v1,<base64>` entries (e.g. during secret
/// rotation); the message is accepted if any `v1` entry matches. Entries with other versions or
/// malformed base64 are ignored. The comparison is constant time. The message is rejected if
/// `timestamp_secs` differs from `now_secs` by more than `tolerance_secs` in either direction
/// (a negative tolerance rejects everything).
pub fn verify_standard_webhook(
    secret: &[u8],
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
    header_value: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> bool {
    let Ok(tolerance) = u64::try_from(tolerance_secs) else {
        return false;
    };
    let Some(skew) = now_secs.checked_sub(timestamp_secs) else {
        return false;
    };
    if skew.unsigned_abs() > tolerance {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(format!("{msg_id}.{timestamp_secs}.").as_bytes());
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    header_value.split_ascii_whitespace().any(|entry| {
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
    })
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

    #[test]
    fn verify_seek_signature_accepts_right_signature() {
        let body = b"what do ya want for nothing?";
        assert!(verify_seek_signature(b"Jefe", body, RFC4231_CASE2_SHA512));
        assert!(verify_seek_signature(b"Jefe", body, &format!("  {RFC4231_CASE2_SHA512}\n")));
    }

    #[test]
    fn verify_seek_signature_accepts_uppercase_hex() {
        let body = b"what do ya want for nothing?";
        assert!(verify_seek_signature(b"Jefe", body, &RFC4231_CASE2_SHA512.to_uppercase()));
    }

    #[test]
    fn verify_seek_signature_rejects_flipped_digit() {
        let body = b"what do ya want for nothing?";
        let mut flipped = RFC4231_CASE2_SHA512.to_owned();
        // Change the last digit '7' to '6'.
        flipped.pop();
        flipped.push('6');
        assert!(!verify_seek_signature(b"Jefe", body, &flipped));
        // Same signature, different body or key.
        assert!(!verify_seek_signature(b"Jefe", b"what do ya want for nothing!", RFC4231_CASE2_SHA512));
        assert!(!verify_seek_signature(b"jefe", body, RFC4231_CASE2_SHA512));
    }

    #[test]
    fn verify_seek_signature_rejects_bad_hex_truncation_and_empty() {
        let body = b"what do ya want for nothing?";
        assert!(!verify_seek_signature(b"Jefe", body, ""));
        assert!(!verify_seek_signature(b"Jefe", body, "   "));
        assert!(!verify_seek_signature(b"Jefe", body, "zz"));
        assert!(!verify_seek_signature(b"Jefe", body, &RFC4231_CASE2_SHA512[1..]));
        assert!(!verify_seek_signature(b"Jefe", body, &RFC4231_CASE2_SHA512[..64]));
        assert!(!verify_seek_signature(b"Jefe", body, &format!("sha512={RFC4231_CASE2_SHA512}")));
    }

    const SW_SECRET: &[u8] = b"candex-test-secret";
    const SW_ID: &str = "msg_2Lh9KRb0pzN4LePd3XiA2sNB3Dx";
    const SW_TS: i64 = 1_700_000_000;
    const SW_BODY: &[u8] = br#"{"type":"PositionProfilePosted"}"#;
    // python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'candex-test-secret',
    //   b'msg_2Lh9KRb0pzN4LePd3XiA2sNB3Dx.1700000000.{\"type\":\"PositionProfilePosted\"}',
    //   hashlib.sha256).digest()).decode())"
    const SW_EXPECTED: &str = "v1,nc57HxzlvXsm3JOpRitgC3UtSgzOPHf/vCOMBMjdvPQ=";

    #[test]
    fn verify_standard_webhook_accepts_within_tolerance() {
        assert!(verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, SW_TS, 300));
        assert!(verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, SW_TS + 300, 300));
        assert!(verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, SW_TS - 300, 300));
    }

    #[test]
    fn verify_standard_webhook_accepts_any_of_several_entries() {
        let header = format!("v1,AAAA v2,{} {SW_EXPECTED}", &SW_EXPECTED[3..]);
        assert!(verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, &header, SW_TS, 300));
        // The right bytes under a version other than v1 do not count.
        let header = format!("v1a,{}", &SW_EXPECTED[3..]);
        assert!(!verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, &header, SW_TS, 300));
    }

    #[test]
    fn verify_standard_webhook_rejects_replay_outside_tolerance() {
        assert!(!verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, SW_TS + 301, 300));
        assert!(!verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, SW_TS - 301, 300));
        assert!(!verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, SW_EXPECTED, SW_TS, -1));
        assert!(!verify_standard_webhook(SW_SECRET, SW_ID, i64::MIN, SW_BODY, SW_EXPECTED, i64::MAX, 300));
    }

    #[test]
    fn verify_standard_webhook_rejects_tampering() {
        // Different body, id, timestamp (re-signed window but not re-signed content) or secret.
        assert!(!verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, b"{}", SW_EXPECTED, SW_TS, 300));
        assert!(!verify_standard_webhook(SW_SECRET, "msg_other", SW_TS, SW_BODY, SW_EXPECTED, SW_TS, 300));
        assert!(!verify_standard_webhook(SW_SECRET, SW_ID, SW_TS + 1, SW_BODY, SW_EXPECTED, SW_TS, 300));
        assert!(!verify_standard_webhook(b"other", SW_ID, SW_TS, SW_BODY, SW_EXPECTED, SW_TS, 300));
        // Malformed headers.
        for header in ["", "v1", "v1,", "v1,not base64!", "nc57HxzlvXsm3JOpRitgC3UtSgzOPHf/vCOMBMjdvPQ="] {
            assert!(!verify_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY, header, SW_TS, 300), "{header}");
        }
    }
}
