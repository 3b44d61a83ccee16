//! Webhooks: `Seek-Signature` verification in constant time and a lenient body decoder.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha512;

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
