//! Webhook request signing: SEEK's `Seek-Signature` (HMAC-SHA512, hex) and the Standard Webhooks
//! `webhook-id` / `webhook-timestamp` / `webhook-signature` headers (HMAC-SHA256, base64) that let
//! receivers reject replays. Verifying them is the receiver's side: `candex_client::WebhookVerifier`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

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
}
