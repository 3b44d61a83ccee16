//! Typed operations: the query text from `graphql/*.graphql` and lenient serde types mirroring the selections.
//!
//! Every field is optional or defaulted, unknown fields are ignored, and code values (`seekRoleCode`,
//! `typeCode`, …) are plain strings so values this crate has never seen are kept, not fatal.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{Client, ClientError};

/// SEEK's documented `candidateProfile` query, extended for export with the rest of the documented profile:
/// addresses, `documentId`, sources, position details and ids, attachments and the questionnaire submission.
pub const CANDIDATE_PROFILE_QUERY: &str = include_str!("../graphql/candidate_profile.graphql");
/// One page of the `events` stream.
pub const EVENTS_QUERY: &str = include_str!("../graphql/events.graphql");
/// [`EVENTS_QUERY`] plus candex's `CandidateErasedEvent` extension: only for servers that have it.
pub const EVENTS_WITH_ERASURES_QUERY: &str = include_str!("../graphql/events_with_erasures.graphql");
/// The event types a candex server with the erasure extension knows: SEEK's and `CandidateErased`.
/// Listed in `eventTypeCodes`, because candex leaves its extension types out of an `events`
/// query that names none.
pub const CANDEX_EVENT_TYPE_CODES: [&str; 6] = [
    "CandidateApplicationCreated",
    "CandidateErased",
    "CandidateProfilePurchased",
    "HirerRelationshipChanged",
    "PositionProfileClosed",
    "PositionProfilePosted",
];
/// Whether the server's schema has candex's `CandidateErasedEvent` (introspection; SEEK allows it).
pub const ERASURE_PROBE_QUERY: &str = r#"query ErasureProbe { __type(name: "CandidateErasedEvent") { name } }"#;

/// `ObjectIdentifier { value }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectIdentifier {
    /// The id.
    pub value: String,
}

/// Variables of [`CANDIDATE_PROFILE_QUERY`].
#[derive(Debug, Clone, Serialize)]
pub struct CandidateProfileVariables<'a> {
    /// `CandidateProfile.profileId.value`.
    pub id: &'a str,
}

/// `data` of [`CANDIDATE_PROFILE_QUERY`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CandidateProfileData {
    /// `null` when the profile does not exist.
    pub candidate_profile: Option<CandidateProfile>,
}

/// `CandidateProfile`, as selected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CandidateProfile {
    pub profile_id: Option<ObjectIdentifier>,
    pub create_date_time: Option<String>,
    pub update_date_time: Option<String>,
    pub candidate: Option<Candidate>,
    pub associated_position_profile: Option<PositionProfile>,
    #[serde(deserialize_with = "nullable")]
    pub employment: Vec<EmployerHistory>,
    #[serde(deserialize_with = "nullable")]
    pub education: Vec<EducationAttendance>,
    #[serde(deserialize_with = "nullable")]
    pub certifications: Vec<Certification>,
    #[serde(deserialize_with = "nullable")]
    pub qualifications: Vec<PersonCompetency>,
    #[serde(deserialize_with = "nullable")]
    pub attachments: Vec<Attachment>,
    pub seek_questionnaire_submission: Option<QuestionnaireSubmission>,
    #[serde(deserialize_with = "nullable")]
    pub candidate_sources: Vec<CandidateSource>,
}

/// `CandidateSource`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CandidateSource {
    pub name: Option<String>,
    /// `SeekApplication`, `SeekPurchase`, `PartnerUpload`, or a code unknown today.
    #[serde(rename = "type")]
    pub type_code: Option<String>,
}

/// `Candidate`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Candidate {
    /// Stable per hirer and person (the webhook's `candidateId`).
    pub document_id: Option<ObjectIdentifier>,
    pub person: Option<CandidatePerson>,
}

/// `CandidatePerson`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CandidatePerson {
    pub name: Option<PersonName>,
    pub communication: Option<Communication>,
}

/// `PersonName`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PersonName {
    pub formatted_name: Option<String>,
    pub given: Option<String>,
    pub family: Option<String>,
}

/// `Communication`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Communication {
    #[serde(deserialize_with = "nullable")]
    pub address: Vec<Address>,
    #[serde(deserialize_with = "nullable")]
    pub phone: Vec<Phone>,
    #[serde(deserialize_with = "nullable")]
    pub email: Vec<Email>,
    pub seek_do_not_contact_indicator: Option<bool>,
}

/// `Address`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Address {
    pub formatted_address: Option<String>,
    pub line: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub country_sub_divisions: Vec<AddressComponent>,
}

/// `AddressComponent`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddressComponent {
    #[serde(rename = "type")]
    pub type_code: Option<String>,
    pub value: Option<String>,
}

/// `Phone`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Phone {
    pub formatted_number: Option<String>,
}

/// `Email`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Email {
    pub address: Option<String>,
}

/// `PositionProfile`, as selected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PositionProfile {
    /// The job ad's id (not in SEEK's documented selection; added so exports can be filed by job ad).
    pub profile_id: Option<ObjectIdentifier>,
    pub seek_hirer_job_reference: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub position_organizations: Vec<HiringOrganization>,
    pub position_uri: Option<String>,
}

/// `HiringOrganization`, as selected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HiringOrganization {
    pub id: Option<ObjectIdentifier>,
    pub name: Option<String>,
}

/// `Organization { name }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Organization {
    pub name: Option<String>,
}

/// `EmployerHistory`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EmployerHistory {
    pub organization: Option<Organization>,
    #[serde(deserialize_with = "nullable")]
    pub position_histories: Vec<PositionHistory>,
}

/// `PositionHistory`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PositionHistory {
    pub start: Option<String>,
    pub end: Option<String>,
    pub current: Option<bool>,
    pub title: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub descriptions: Vec<String>,
}

/// `EducationAttendance`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EducationAttendance {
    pub institution: Option<Organization>,
    #[serde(deserialize_with = "nullable")]
    pub education_degrees: Vec<EducationDegree>,
    #[serde(deserialize_with = "nullable")]
    pub descriptions: Vec<String>,
}

/// `EducationDegree`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EducationDegree {
    pub name: Option<String>,
    pub degree_granted_status: Option<String>,
    pub date: Option<String>,
}

/// `Certification`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Certification {
    pub name: Option<String>,
    pub issued: Option<String>,
    pub effective_time_period: Option<EffectiveTimePeriod>,
    pub issuing_authority: Option<Organization>,
    #[serde(deserialize_with = "nullable")]
    pub descriptions: Vec<String>,
}

/// `EffectiveTimePeriod`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EffectiveTimePeriod {
    pub valid_to: Option<String>,
}

/// `PersonCompetency`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PersonCompetency {
    pub competency_name: Option<String>,
}

/// `Attachment`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attachment {
    pub id: Option<ObjectIdentifier>,
    /// Absolute download URL (needs `Authorization`).
    pub url: Option<String>,
    /// `Resume`, `CoverLetter`, `SelectionCriteria`, `null` (additional document), or a code unknown today.
    pub seek_role_code: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub descriptions: Vec<String>,
}

/// `ApplicationQuestionnaireSubmission`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuestionnaireSubmission {
    pub questionnaire: Option<Questionnaire>,
    pub score: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    pub responses: Vec<QuestionnaireResponse>,
}

/// `ApplicationQuestionnaire { id }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Questionnaire {
    pub id: Option<ObjectIdentifier>,
}

/// `ApplicationQuestionnaireComponentResponse` with both fragments flattened in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuestionnaireResponse {
    /// `PrivacyConsent`, `Question`, or a code unknown today.
    pub component_type_code: Option<String>,
    pub component: Option<QuestionnaireComponent>,
    /// `ApplicationPrivacyConsentResponse`.
    pub consent_given_indicator: Option<bool>,
    /// `ApplicationQuestionResponse`.
    pub score: Option<f64>,
    /// `ApplicationQuestionResponse`.
    #[serde(deserialize_with = "nullable")]
    pub answers: Vec<QuestionAnswer>,
}

/// `ApplicationQuestionnaireComponent` with both fragments flattened in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuestionnaireComponent {
    pub id: Option<ObjectIdentifier>,
    pub value: Option<String>,
    pub component_type_code: Option<String>,
    pub privacy_policy_url: Option<WebUrl>,
    pub description_html: Option<String>,
    pub question_html: Option<String>,
    pub response_type_code: Option<String>,
    pub source_code: Option<String>,
    pub response_choice: Option<Vec<QuestionChoice>>,
}

/// `WebUrl { url }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebUrl {
    pub url: Option<String>,
}

/// `ApplicationQuestionChoice`, as selected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuestionChoice {
    pub id: Option<ObjectIdentifier>,
    pub text: Option<String>,
    pub value: Option<String>,
    pub preferred_indicator: Option<bool>,
}

/// `ApplicationQuestionAnswer`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuestionAnswer {
    /// The answer; free text keeps its whitespace.
    pub answer: Option<String>,
    pub choice: Option<QuestionChoice>,
}

/// Variables of [`EVENTS_QUERY`]; `after` is omitted (not `null`) on the first page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsVariables<'a> {
    pub scheme_id: &'a str,
    pub first: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<&'a str>,
    /// `afterDateTime` only on the first page (SEEK applies it to the initial query only; then
    /// cursors); `eventTypeCodes` on every page when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<EventsFilter<'a>>,
}

/// `EventsFilterInput`, as used by the pager.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsFilter<'a> {
    /// Stream time after which to start (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_date_time: Option<&'a str>,
    /// Only these event types (every page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type_codes: Option<&'a [&'a str]>,
}

/// `data` of [`EVENTS_QUERY`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventsData {
    pub events: Option<EventsConnection>,
}

/// `EventsConnection`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventsConnection {
    #[serde(deserialize_with = "nullable")]
    pub edges: Vec<EventEdge>,
    pub page_info: PageInfo,
}

/// `PageInfo`, as selected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PageInfo {
    #[serde(deserialize_with = "nullable")]
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// `EventEdge`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventEdge {
    pub cursor: Option<String>,
    pub stream_date_time: Option<String>,
    pub node: Option<Event>,
}

/// An `Event` with every selected fragment flattened in; fields of other event types are `None`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Event {
    pub id: Option<ObjectIdentifier>,
    /// `CandidateApplicationCreated`, …, or a code unknown today.
    pub type_code: Option<String>,
    pub scheme_id: Option<String>,
    pub create_date_time: Option<String>,
    pub candidate_application_profile_id: Option<String>,
    pub candidate_id: Option<String>,
    pub candidate_profile_id: Option<String>,
    pub hirer_id: Option<String>,
    pub position_profile_id: Option<String>,
}

impl Event {
    /// The event id, or `""`.
    pub fn id(&self) -> &str {
        self.id.as_ref().map(|i| i.value.as_str()).unwrap_or("")
    }
}

/// Decodes `null` as the default value (SEEK's non-null lists and flags may still arrive as `null`,
/// e.g. redacted or from other servers); a missing field is handled by the container's `default`.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `data` of [`ERASURE_PROBE_QUERY`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ErasureProbe {
    #[serde(rename = "__type")]
    found: Option<serde_json::Value>,
}

impl Client {
    /// Whether the server has candex's `CandidateErased` events (a candex server that has the
    /// extension; never SEEK), asked once through introspection.
    pub async fn supports_erasure_events(&self) -> Result<bool, ClientError> {
        let probe: ErasureProbe = self.graphql(ERASURE_PROBE_QUERY, &serde_json::json!({})).await?;
        Ok(probe.found.is_some_and(|t| !t.is_null()))
    }

    /// Fetches one profile through [`CANDIDATE_PROFILE_QUERY`]; `Ok(None)` if it does not exist.
    pub async fn candidate_profile(&self, id: &str) -> Result<Option<CandidateProfile>, ClientError> {
        let data: CandidateProfileData =
            self.graphql(CANDIDATE_PROFILE_QUERY, &CandidateProfileVariables { id }).await?;
        Ok(data.candidate_profile)
    }

    /// Fetches one profile as parsed JSON.
    pub async fn candidate_profile_json(&self, id: &str) -> Result<Option<serde_json::Value>, ClientError> {
        match self.candidate_profile_raw(id).await? {
            Some(raw) => {
                serde_json::from_str(raw.get()).map(Some).map_err(|e| ClientError::decode("candidateProfile", e))
            }
            None => Ok(None),
        }
    }

    /// Fetches one profile exactly as the server sent it (its bytes, key order included), for
    /// writing out what was received; decode it with [`CandidateProfile`] for typed access.
    pub async fn candidate_profile_raw(&self, id: &str) -> Result<Option<Box<RawValue>>, ClientError> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(rename = "candidateProfile", default)]
            candidate_profile: Option<Box<RawValue>>,
        }
        let data: Data = self.graphql(CANDIDATE_PROFILE_QUERY, &CandidateProfileVariables { id }).await?;
        Ok(data.candidate_profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_nulls_unknown_fields_and_unknown_codes() {
        let json = serde_json::json!({"candidateProfile": {
            "profileId": {"value": "p1"},
            "createDateTime": "2019-09-08T20:32:12.479Z",
            "executiveSummary": "new field",
            "candidate": {"person": {"name": {"given": "Ella", "family": null},
                "communication": {"email": [{"address": "e@x"}], "phone": [], "seekDoNotContactIndicator": null}}},
            "associatedPositionProfile": null,
            "employment": [],
            "education": null,
            "attachments": [{"id": {"value": "a1"}, "url": "https://x/a1", "seekRoleCode": "Portfolio", "descriptions": []}],
            "seekQuestionnaireSubmission": null
        }});
        let data: CandidateProfileData = serde_json::from_value(json).expect("decodes");
        let p = data.candidate_profile.expect("profile");
        assert_eq!(p.profile_id.map(|i| i.value), Some("p1".to_owned()));
        assert_eq!(p.attachments[0].seek_role_code.as_deref(), Some("Portfolio"));
        assert!(p.education.is_empty());
    }
}
