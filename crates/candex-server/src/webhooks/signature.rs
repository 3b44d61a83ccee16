//! Webhook request signing: SEEK's `Seek-Signature` (HMAC-SHA512, hex) and the Standard Webhooks
//! `webhook-id` / `webhook-timestamp` / `webhook-signature` headers (HMAC-SHA256, base64) that let
//! receivers reject replays.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

type HmacSha512 = Hmac<Sha512>;
type HmacSha256 = Hmac<Sha256>;

/// Header carrying the SEEK signature: lowercase hex of HMAC-SHA512 over the exact body bytes.
pub const SEEK_SIGNATURE: &str = "Seek-Signature";
/// Standard Webhooks message id header (stable across retries of the same message).
pub const WEBHOOK_ID: &str = "webhook-id";
/// Standard Webhooks timestamp header (Unix seconds, decimal).
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// Standard Webhooks signature header (`v1,<base64>` entries, space separated).
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
/// Request id header sent with every delivery attempt, for correlating with server logs.
pub const X_REQUEST_ID: &str = "X-Request-Id";

/// The Standard Webhooks version tag candex signs with.
const STANDARD_WEBHOOKS_VERSION: &str = "v1";

fn hmac_sha512(secret: &[u8]) -> HmacSha512 {
    // HMAC accepts keys of any length (longer keys are hashed first), so this cannot fail.
    <HmacSha512 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

fn hmac_sha256(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (longer keys are hashed first), so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// Computes SEEK's `Seek-Signature` header value: the lowercase hex encoding of
/// HMAC-SHA512 keyed with `secret` over the exact request `body` bytes.
pub fn seek_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac_sha512(secret);
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Verifies a `Seek-Signature` header value against `body` in constant time.
///
/// Surrounding whitespace is ignored. Hex decoding is case-insensitive, so an upper- or mixed-case
/// digest of the right value is accepted (candex itself always sends lowercase). Returns `false` for
/// malformed hex, a digest of the wrong length (including the empty string) or a wrong digest.
pub fn verify_seek_signature(secret: &[u8], body: &[u8], header_value: &str) -> bool {
    let Ok(tag) = hex::decode(header_value.trim()) else {
        return false;
    };
    if tag.is_empty() {
        return false;
    }
    let mut mac = hmac_sha512(secret);
    mac.update(body);
    // `verify_slice` compares in constant time and rejects tags that are not full length.
    mac.verify_slice(&tag).is_ok()
}

/// The three Standard Webhooks headers for one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardWebhookHeaders {
    /// Value of the `webhook-id` header: the message id, identical across retries.
    pub id: String,
    /// Value of the `webhook-timestamp` header: Unix seconds at signing time.
    pub timestamp: i64,
    /// Value of the `webhook-signature` header: `v1,<base64 HMAC-SHA256>`.
    pub signature: String,
}

fn standard_webhooks_tag(secret: &[u8], msg_id: &str, timestamp_secs: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = hmac_sha256(secret);
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Builds the Standard Webhooks (<https://www.standardwebhooks.com>) headers for a message.
///
/// The signature is `"v1," + base64(HMAC-SHA256(secret, "{msg_id}.{timestamp_secs}." + body))` using
/// the standard (padded) base64 alphabet.
///
/// Keying: candex passes the subscription secret's UTF-8 bytes as `secret`. It does **not** use the
/// Standard Webhooks `whsec_<base64>` secret convention, so receivers using an off-the-shelf
/// Standard Webhooks library must supply the raw secret bytes as the key (e.g. by wrapping them as
/// `whsec_` + base64 of the secret) rather than the secret string itself.
pub fn standard_webhooks(secret: &[u8], msg_id: &str, timestamp_secs: i64, body: &[u8]) -> StandardWebhookHeaders {
    let tag = standard_webhooks_tag(secret, msg_id, timestamp_secs, body);
    StandardWebhookHeaders {
        id: msg_id.to_owned(),
        timestamp: timestamp_secs,
        signature: format!("{STANDARD_WEBHOOKS_VERSION},{}", BASE64.encode(tag)),
    }
}

/// Verifies a Standard Webhooks `webhook-signature` header value.
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
    let expected = standard_webhooks_tag(secret, msg_id, timestamp_secs, body);
    header_value.split_ascii_whitespace().any(|entry| {
        let Some((version, sig)) = entry.split_once(',') else {
            return false;
        };
        if version != STANDARD_WEBHOOKS_VERSION {
            return false;
        }
        let Ok(candidate) = BASE64.decode(sig) else {
            return false;
        };
        // Slice `ct_eq` is constant time for equal lengths and false for different lengths.
        bool::from(candidate.ct_eq(&expected))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2, HMAC-SHA-512.
    const RFC4231_CASE2_SHA512: &str = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                                        9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";

    #[test]
    fn seek_signature_matches_rfc4231_case2() {
        assert_eq!(seek_signature(b"Jefe", b"what do ya want for nothing?"), RFC4231_CASE2_SHA512);
    }

    #[test]
    fn seek_signature_matches_python_hmac() {
        // python3 -c "import hmac,hashlib;print(hmac.new(b'candex-secret',b'{\"events\":[]}',hashlib.sha512).hexdigest())"
        assert_eq!(
            seek_signature(b"candex-secret", br#"{"events":[]}"#),
            "6d11c1ae6d3ab399d3cd734014b1a78e23aacf8eaafc4e65b8033f1d5407d4fa\
             29dc3c7c60fd6ce7822eb8e7d54072e2c38bf50050f639aee25edb24f0bad012"
        );
    }

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
    fn standard_webhooks_matches_python_hmac() {
        let headers = standard_webhooks(SW_SECRET, SW_ID, SW_TS, SW_BODY);
        assert_eq!(
            headers,
            StandardWebhookHeaders { id: SW_ID.to_owned(), timestamp: SW_TS, signature: SW_EXPECTED.to_owned() }
        );
    }

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
