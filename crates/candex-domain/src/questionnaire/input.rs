//! The questionnaire parts of operator input as received: the `questionnaire` of a job ad and
//! the `questionnaireResponses` of an application, every field optional so validation can name
//! each problem.

use serde::{Deserialize, Serialize};

/// `questionnaire` of `POST /operator/v1/positions`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuestionnaireInput {
    /// Components in display order; at least one.
    pub components: Option<Vec<ComponentInput>>,
}

/// One component: `PrivacyConsent` (with `privacyPolicyUrl`, optional `descriptionHtml`) or
/// `Question` (with `questionHtml`, `responseTypeCode` and, for selects, `responseChoice`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComponentInput {
    /// `PrivacyConsent` or `Question`.
    pub component_type_code: Option<String>,
    /// Partner-provided value, returned as given.
    pub value: Option<String>,
    /// PrivacyConsent: the http(s) URL of the privacy policy.
    pub privacy_policy_url: Option<String>,
    /// PrivacyConsent: the prompt (HTML).
    pub description_html: Option<String>,
    /// Question: the question (HTML, at most 1000 characters).
    pub question_html: Option<String>,
    /// Question: `FreeText`, `SingleSelect` or `MultiSelect`.
    pub response_type_code: Option<String>,
    /// Question: the choices of a select question (at least two); none for free text.
    pub response_choice: Option<Vec<ChoiceInput>>,
}

/// One choice of a select question.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChoiceInput {
    /// What the candidate sees.
    pub text: Option<String>,
    /// Partner-provided value, returned as given.
    pub value: Option<String>,
    /// Whether the hirer prefers this choice.
    pub preferred_indicator: Option<bool>,
}

/// One element of `questionnaireResponses` of `POST /operator/v1/applications`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseInput {
    /// The component answered (an id from the job ad's questionnaire).
    pub component_id: Option<String>,
    /// For a privacy consent: whether the candidate consented.
    pub consent_given_indicator: Option<bool>,
    /// For a question: the answers.
    pub answers: Option<Vec<AnswerInput>>,
}

/// One answer: `{"choiceId"}` for select questions or `{"answer"}` for free text.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnswerInput {
    /// A choice id of the question.
    pub choice_id: Option<String>,
    /// Free text, kept exactly (whitespace and line breaks included).
    pub answer: Option<String>,
}
