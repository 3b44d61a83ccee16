//! Opaque object identifiers (`scheme:type:namespace:value`): minting with 128 random bits,
//! and parsing of identifiers that arrive from clients.

use rand::RngCore;

/// Maximum identifier length in bytes, as SEEK documents for `ObjectIdentifier.value`.
pub const MAX_ID_BYTES: usize = 255;

/// The identifier scheme (first segment), e.g. `seekAnzPublicTest`. Configurable per server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scheme(String);

impl Scheme {
    /// SEEK's public test scheme, the default.
    pub const DEFAULT: &'static str = "seekAnzPublicTest";

    /// Parses a scheme: an ASCII letter followed by up to 63 ASCII letters or digits.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let ok = value.len() <= 64
            && value.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && value.chars().all(|c| c.is_ascii_alphanumeric());
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(IdError::InvalidScheme)
        }
    }

    /// The scheme as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Scheme {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an identifier names; fixes its `type` and `namespace` segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A hirer (`HiringOrganization`).
    Organization,
    /// A partner (the ATS). Not a SEEK object; used by the operator API.
    Partner,
    /// A position opening (the requisition behind a job ad).
    PositionOpening,
    /// A posted position profile (the job ad).
    PositionProfile,
    /// A candidate: one per hirer and person.
    Candidate,
    /// A candidate profile: one per application.
    CandidateProfile,
    /// A job location attached to a position.
    Location,
    /// A job category attached to a position.
    JobCategory,
    /// A file attached to an application (resume, cover letter, …).
    Attachment,
    /// A screening questionnaire of a job ad.
    ApplicationQuestionnaire,
    /// One component (privacy consent or question) of a questionnaire.
    QuestionnaireComponent,
    /// One choice of a select question.
    QuestionChoice,
    /// An event in a partner's stream.
    Event,
    /// A partner's webhook subscription.
    WebhookSubscription,
    /// One event's part in one webhook request.
    WebhookAttempt,
    /// A request to re-deliver a subscription's events.
    WebhookSubscriptionReplay,
    /// One item of a candidate profile's process history.
    CandidateProcessHistoryItem,
}

impl IdKind {
    /// The `type` segment.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Organization => "organization",
            Self::Partner => "partner",
            Self::PositionOpening => "positionOpening",
            Self::PositionProfile => "positionProfile",
            Self::Candidate => "candidate",
            Self::CandidateProfile => "candidateProfile",
            Self::Location => "location",
            Self::JobCategory => "jobCategory",
            Self::Attachment => "attachment",
            Self::ApplicationQuestionnaire => "applicationQuestionnaire",
            Self::QuestionnaireComponent => "applicationQuestionnaireComponent",
            Self::QuestionChoice => "applicationQuestionChoice",
            Self::Event => "event",
            Self::WebhookSubscription => "webhookSubscription",
            Self::WebhookAttempt => "webhookAttempt",
            Self::WebhookSubscriptionReplay => "webhookSubscriptionReplay",
            Self::CandidateProcessHistoryItem => "candidateProcessHistoryItem",
        }
    }

    /// The `namespace` segment, following SEEK's observed identifiers.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::Organization => "seek",
            Self::Partner => "candex",
            Self::PositionOpening => "seek",
            Self::PositionProfile => "jobAd",
            Self::Candidate => "feed",
            Self::CandidateProfile => "apply",
            Self::Location => "seek",
            Self::JobCategory => "seek",
            Self::Attachment => "apply",
            Self::ApplicationQuestionnaire => "seek",
            Self::QuestionnaireComponent => "seek",
            Self::QuestionChoice => "seek",
            Self::CandidateProcessHistoryItem => "seek",
            Self::Event | Self::WebhookSubscription | Self::WebhookAttempt | Self::WebhookSubscriptionReplay => {
                "events"
            }
        }
    }

    /// A human name for messages ("candidate profile").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Organization => "hirer",
            Self::Partner => "partner",
            Self::PositionOpening => "position opening",
            Self::PositionProfile => "position profile",
            Self::Candidate => "candidate",
            Self::CandidateProfile => "candidate profile",
            Self::Location => "location",
            Self::JobCategory => "job category",
            Self::Attachment => "attachment",
            Self::ApplicationQuestionnaire => "application questionnaire",
            Self::QuestionnaireComponent => "questionnaire component",
            Self::QuestionChoice => "question choice",
            Self::Event => "event",
            Self::WebhookSubscription => "webhook subscription",
            Self::WebhookAttempt => "webhook attempt",
            Self::WebhookSubscriptionReplay => "webhook subscription replay",
            Self::CandidateProcessHistoryItem => "candidate process history item",
        }
    }
}

/// Why a string is not an acceptable identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not of the form `scheme:type:namespace:value`, or too long.
    #[error("must be an identifier of the form scheme:type:namespace:value of at most 255 bytes")]
    Malformed,
    /// Well formed, but names another kind of object.
    #[error("must be a {expected} identifier")]
    WrongKind {
        /// The kind the field expects.
        expected: &'static str,
    },
    /// The scheme segment is not acceptable.
    #[error("scheme must be a letter followed by up to 63 letters or digits")]
    InvalidScheme,
}

/// An opaque object identifier, e.g.
/// `seekAnzPublicTest:candidateProfile:apply:7DtW6Q68gk2R4okNGhvg1Y`.
///
/// Clients must treat it as opaque; candex only splits it to reject malformed input early.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ObjectId(String);

impl ObjectId {
    /// Mints a new identifier with 128 random bits from `rng` (base58, about 22 characters).
    pub fn mint(scheme: &Scheme, kind: IdKind, rng: &mut impl RngCore) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        let value = bs58::encode(bytes).into_string();
        Self(format!("{}:{}:{}:{}", scheme.as_str(), kind.type_name(), kind.namespace(), value))
    }

    /// Parses any well-formed identifier: four non-empty segments of visible ASCII without
    /// whitespace, at most 255 bytes.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        if value.is_empty() || value.len() > MAX_ID_BYTES {
            return Err(IdError::Malformed);
        }
        let parts: Vec<&str> = value.split(':').collect();
        let visible = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_graphic());
        if parts.len() != 4 || !parts.iter().all(visible) {
            return Err(IdError::Malformed);
        }
        Ok(Self(value.to_owned()))
    }

    /// Parses an identifier and checks that it names `kind`.
    pub fn parse_as(value: &str, kind: IdKind) -> Result<Self, IdError> {
        let id = Self::parse(value)?;
        if id.type_segment() == kind.type_name() {
            Ok(id)
        } else {
            Err(IdError::WrongKind { expected: kind.describe() })
        }
    }

    /// Wraps a value read back from storage, where it was validated on the way in.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the identifier into its text.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The `scheme` segment.
    pub fn scheme(&self) -> &str {
        self.0.split(':').next().unwrap_or_default()
    }

    /// The last (`value`) segment, used to build attachment URLs and other paths.
    pub fn value_segment(&self) -> &str {
        self.0.rsplit(':').next().unwrap_or_default()
    }

    fn type_segment(&self) -> &str {
        self.0.split(':').nth(1).unwrap_or_default()
    }
}

impl AsRef<ObjectId> for ObjectId {
    fn as_ref(&self) -> &ObjectId {
        self
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An identifier type: something that can wrap an identifier read back from storage.
/// Implemented by [`ObjectId`] and every typed identifier, so storage code reads any of them
/// with one column accessor.
pub trait Identifier: Sized {
    /// The kind a typed identifier names; `None` for a plain [`ObjectId`].
    const KIND: Option<IdKind>;
    /// Wraps a value read back from storage, where it was validated on the way in.
    fn from_trusted(value: String) -> Self;

    /// Parses an identifier from a client that must name `kind` (see [`ObjectId::parse_as`]),
    /// as the plain or typed identifier the caller expects.
    ///
    /// # Panics
    /// When a typed identifier of another kind is asked for (a programming error).
    fn parse_kind(value: &str, kind: IdKind) -> Result<Self, IdError> {
        assert!(Self::KIND.is_none_or(|k| k == kind), "a {} identifier parsed as {:?}", kind.describe(), Self::KIND);
        ObjectId::parse_as(value, kind).map(|id| Self::from_trusted(id.0))
    }

    /// Mints a new identifier of `kind` (see [`ObjectId::mint`]), as the plain or typed
    /// identifier the caller expects.
    ///
    /// # Panics
    /// When a typed identifier of another kind is asked for (a programming error).
    fn mint_kind(scheme: &Scheme, kind: IdKind, rng: &mut impl RngCore) -> Self {
        assert!(Self::KIND.is_none_or(|k| k == kind), "a {} identifier minted as {:?}", kind.describe(), Self::KIND);
        Self::from_trusted(ObjectId::mint(scheme, kind, rng).0)
    }
}

impl Identifier for ObjectId {
    const KIND: Option<IdKind> = None;
    fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

/// Declares a typed identifier: an [`ObjectId`] that names one kind of object, so a partner's
/// id cannot be passed where a hirer's is expected. It reads as an `ObjectId` (through `Deref`)
/// and turns into one freely; the other way is checked ([`TryFrom`], `parse`) or marked
/// trusted (`from_trusted`, for values read back from storage).
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident => $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(ObjectId);

        impl $name {
            /// The kind of object this identifier names.
            pub const KIND: IdKind = IdKind::$kind;

            /// Mints a new identifier of this kind (see [`ObjectId::mint`]).
            pub fn mint(scheme: &Scheme, rng: &mut impl RngCore) -> Self {
                Self(ObjectId::mint(scheme, Self::KIND, rng))
            }

            /// Parses an identifier that must name this kind (see [`ObjectId::parse_as`]).
            pub fn parse(value: &str) -> Result<Self, IdError> {
                ObjectId::parse_as(value, Self::KIND).map(Self)
            }

            /// Wraps a value read back from storage, where it was validated on the way in.
            pub fn from_trusted(value: String) -> Self {
                Self(ObjectId(value))
            }

            /// The identifier without its kind.
            pub fn as_object_id(&self) -> &ObjectId {
                &self.0
            }

            /// Consumes the identifier into its text.
            pub fn into_string(self) -> String {
                self.0 .0
            }
        }

        impl Identifier for $name {
            const KIND: Option<IdKind> = Some(IdKind::$kind);
            fn from_trusted(value: String) -> Self {
                Self(ObjectId(value))
            }
        }

        impl std::ops::Deref for $name {
            type Target = ObjectId;
            fn deref(&self) -> &ObjectId {
                &self.0
            }
        }

        impl AsRef<ObjectId> for $name {
            fn as_ref(&self) -> &ObjectId {
                &self.0
            }
        }

        impl From<$name> for ObjectId {
            fn from(id: $name) -> ObjectId {
                id.0
            }
        }

        impl TryFrom<ObjectId> for $name {
            type Error = IdError;
            /// Checks that the identifier names this kind.
            fn try_from(id: ObjectId) -> Result<Self, IdError> {
                if id.type_segment() == Self::KIND.type_name() {
                    Ok(Self(id))
                } else {
                    Err(IdError::WrongKind { expected: Self::KIND.describe() })
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id! {
    /// A hirer's identifier (`HiringOrganization.id`).
    ///
    /// A hirer's id goes where a hirer's id is expected:
    /// ```
    /// # use candex_domain::{HirerId, PartnerId};
    /// fn relationships(_partner: &PartnerId, _hirer: &HirerId) {}
    /// let partner = PartnerId::parse("s:partner:candex:p").unwrap();
    /// let hirer = HirerId::parse("s:organization:seek:h").unwrap();
    /// relationships(&partner, &hirer);
    /// ```
    /// and nowhere else: swapping them does not compile.
    /// ```compile_fail
    /// # use candex_domain::{HirerId, PartnerId};
    /// fn relationships(_partner: &PartnerId, _hirer: &HirerId) {}
    /// let partner = PartnerId::parse("s:partner:candex:p").unwrap();
    /// let hirer = HirerId::parse("s:organization:seek:h").unwrap();
    /// relationships(&hirer, &partner);
    /// ```
    HirerId => Organization
}
typed_id! {
    /// A partner's identifier (operator API, token subject).
    PartnerId => Partner
}
typed_id! {
    /// A position opening's identifier (the requisition behind a job ad).
    PositionOpeningId => PositionOpening
}
typed_id! {
    /// A position profile's (job ad's) identifier; not to be confused with a candidate profile.
    PositionProfileId => PositionProfile
}
typed_id! {
    /// A candidate's identifier: one per hirer and person.
    CandidateId => Candidate
}
typed_id! {
    /// A candidate profile's (application's) identifier; not to be confused with a position profile.
    CandidateProfileId => CandidateProfile
}
typed_id! {
    /// An attachment's identifier.
    AttachmentId => Attachment
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minted_ids_have_four_segments_and_parse_back_as_their_kind() {
        let scheme = Scheme::default();
        let id = ObjectId::mint(&scheme, IdKind::CandidateProfile, &mut rand::thread_rng());
        assert!(id.as_str().starts_with("seekAnzPublicTest:candidateProfile:apply:"));
        assert!(id.value_segment().len() >= 21, "{id}");
        assert_eq!(ObjectId::parse_as(id.as_str(), IdKind::CandidateProfile), Ok(id.clone()));
        assert_eq!(
            ObjectId::parse_as(id.as_str(), IdKind::Candidate),
            Err(IdError::WrongKind { expected: "candidate" })
        );
    }

    #[test]
    fn typed_ids_check_their_kind_on_the_way_in() {
        let scheme = Scheme::default();
        let hirer = HirerId::mint(&scheme, &mut rand::thread_rng());
        assert!(hirer.as_str().starts_with("seekAnzPublicTest:organization:seek:"));
        assert_eq!(HirerId::parse(hirer.as_str()), Ok(hirer.clone()));
        assert_eq!(PartnerId::parse(hirer.as_str()), Err(IdError::WrongKind { expected: "partner" }));
        let plain: ObjectId = hirer.clone().into();
        assert_eq!(HirerId::try_from(plain.clone()), Ok(hirer));
        assert_eq!(CandidateProfileId::try_from(plain), Err(IdError::WrongKind { expected: "candidate profile" }));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in ["", "abc", "a:b:c", "a:b:c:d:e", "a::c:d", "a:b:c:d e", &"x".repeat(300)] {
            assert_eq!(ObjectId::parse(bad), Err(IdError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn schemes_are_validated() {
        assert!(Scheme::parse("seekAnz").is_ok());
        assert!(Scheme::parse("9abc").is_err());
        assert!(Scheme::parse("a:b").is_err());
        assert!(Scheme::parse("").is_err());
    }

    proptest! {
        #[test]
        fn minting_never_collides_within_a_run(seed in any::<u64>()) {
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let scheme = Scheme::default();
            let a = ObjectId::mint(&scheme, IdKind::Candidate, &mut rng);
            let b = ObjectId::mint(&scheme, IdKind::Candidate, &mut rng);
            prop_assert_ne!(a, b);
        }

        #[test]
        fn parse_never_panics(s in ".{0,300}") {
            let _ = ObjectId::parse(&s);
        }
    }
}
