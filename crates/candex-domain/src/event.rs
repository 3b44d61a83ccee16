//! Event and webhook vocabulary: event type codes, which relationship puts an event in a
//! partner's stream, webhook signing algorithms and delivery description codes.

use crate::RelationshipType;

/// An event type (`Event.typeCode`, webhook `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A candidate applied: one event per application (profile).
    CandidateApplicationCreated,
    /// A proactive-sourcing profile was purchased. In the schema for compatibility; candex
    /// does not sell profiles, so it never emits one.
    CandidateProfilePurchased,
    /// A hirer changed the relationships it grants the partner.
    HirerRelationshipChanged,
    /// A job ad was posted.
    PositionProfilePosted,
    /// A job ad was closed.
    PositionProfileClosed,
    /// candex extension (SEEK has no such event): a candidate was erased, and every partner
    /// that was sent or may read the candidate's applications should delete its copies.
    /// Listed in `events` only when asked for by `eventTypeCodes`, and delivered only to
    /// subscriptions of this type, so a partner that knows only SEEK's types sees SEEK's
    /// behaviour.
    CandidateErased,
}

impl EventType {
    /// Every type, in code order.
    pub const ALL: [Self; 6] = [
        Self::CandidateApplicationCreated,
        Self::CandidateErased,
        Self::CandidateProfilePurchased,
        Self::HirerRelationshipChanged,
        Self::PositionProfileClosed,
        Self::PositionProfilePosted,
    ];

    /// SEEK's types, in code order: what an `events` query without `eventTypeCodes` lists.
    pub const SEEK: [Self; 5] = [
        Self::CandidateApplicationCreated,
        Self::CandidateProfilePurchased,
        Self::HirerRelationshipChanged,
        Self::PositionProfileClosed,
        Self::PositionProfilePosted,
    ];

    /// Whether the type is a candex extension, not one of SEEK's.
    pub fn is_extension(self) -> bool {
        !Self::SEEK.contains(&self)
    }

    /// The SEEK type code.
    pub fn code(self) -> &'static str {
        match self {
            Self::CandidateApplicationCreated => "CandidateApplicationCreated",
            Self::CandidateProfilePurchased => "CandidateProfilePurchased",
            Self::HirerRelationshipChanged => "HirerRelationshipChanged",
            Self::PositionProfilePosted => "PositionProfilePosted",
            Self::PositionProfileClosed => "PositionProfileClosed",
            Self::CandidateErased => "CandidateErased",
        }
    }

    /// Parses a code exactly as SEEK spells it.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The relationships of which a partner must hold at least one with the event's hirer,
    /// when the event is created, for the event to enter its stream (SEEK's section 2 table).
    /// Empty for `HirerRelationshipChanged`, which goes to the one partner whose
    /// relationships changed, whatever they became. `CandidateErased` also goes to every
    /// partner that was sent one of the candidate's applications, whatever it holds now.
    pub fn stream_relationships(self) -> &'static [RelationshipType] {
        match self {
            Self::CandidateApplicationCreated | Self::CandidateErased => &[RelationshipType::ApplicationExport],
            Self::CandidateProfilePurchased => &[RelationshipType::ProactiveSourcing],
            Self::HirerRelationshipChanged => &[],
            Self::PositionProfilePosted | Self::PositionProfileClosed => {
                &[RelationshipType::ApplicationExport, RelationshipType::JobPosting]
            }
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// How webhook requests of a subscription are signed (`signingAlgorithmCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// Unsigned; the body carries no `hirerId`.
    None,
    /// `Seek-Signature`: lowercase hex HMAC-SHA512 of the raw body keyed by the secret.
    SeekHmacSha512,
}

impl SigningAlgorithm {
    /// The SEEK code.
    pub fn code(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::SeekHmacSha512 => "SeekHmacSha512",
        }
    }

    /// Parses a code exactly as SEEK spells it.
    pub fn parse(code: &str) -> Option<Self> {
        [Self::None, Self::SeekHmacSha512].into_iter().find(|a| a.code() == code)
    }
}

/// The outcome of one webhook request (`WebhookRequest.descriptionCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryCode {
    /// The endpoint answered 2xx.
    Success,
    /// The endpoint answered something else, or the connection failed.
    BadResponse,
    /// The URL could not be used (refused by the SSRF guard, or unresolvable).
    InvalidUrl,
    /// No answer within the timeout.
    RequestTimeout,
}

impl DeliveryCode {
    /// Every code.
    pub const ALL: [Self; 4] = [Self::Success, Self::BadResponse, Self::InvalidUrl, Self::RequestTimeout];

    /// The SEEK code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::BadResponse => "BadResponse",
            Self::InvalidUrl => "InvalidUrl",
            Self::RequestTimeout => "RequestTimeout",
        }
    }

    /// Parses a code exactly as SEEK spells it.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Secrets must be at least this many characters (SEEK's newer documentation).
pub const MIN_SECRET_CHARS: usize = 16;
/// Secrets must be at most this many UTF-8 bytes.
pub const MAX_SECRET_BYTES: usize = 255;
/// `maxEventsPerAttempt` bounds and default.
pub const MAX_EVENTS_PER_ATTEMPT: u8 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.code()), Some(t));
        }
        for c in DeliveryCode::ALL {
            assert_eq!(DeliveryCode::parse(c.code()), Some(c));
        }
        assert_eq!(SigningAlgorithm::parse("SeekHmacSha512"), Some(SigningAlgorithm::SeekHmacSha512));
        assert_eq!(SigningAlgorithm::parse("seekhmacsha512"), None);
        assert_eq!(EventType::parse("CandidateApplicationUpdated"), None);
        assert!(EventType::CandidateErased.is_extension());
        assert!(EventType::SEEK.iter().all(|t| !t.is_extension()));
        assert_eq!(EventType::ALL.iter().filter(|t| t.is_extension()).count(), 1);
    }

    #[test]
    fn application_events_need_application_export() {
        assert_eq!(
            EventType::CandidateApplicationCreated.stream_relationships(),
            &[RelationshipType::ApplicationExport]
        );
        assert!(EventType::PositionProfilePosted.stream_relationships().contains(&RelationshipType::JobPosting));
        assert!(EventType::HirerRelationshipChanged.stream_relationships().is_empty());
    }
}
