//! Screening questionnaires: `ApplicationQuestionnaire`, its components and the submission
//! types. Part of the schema now; filled when questionnaires are stored.

use async_graphql::{Interface, Object, SimpleObject};

use super::common::{ObjectIdentifier, WebUrl};
use super::organization::HiringOrganization;

/// `ApplicationQuestionnaire`.
#[derive(Debug, Clone, SimpleObject)]
pub struct ApplicationQuestionnaire {
    /// Components in display order.
    pub components: Vec<ApplicationQuestionnaireComponent>,
    /// The hirer.
    pub hirer: HiringOrganization,
    /// Id.
    pub id: ObjectIdentifier,
}

/// The `ApplicationQuestionnaireComponent` interface.
#[derive(Debug, Clone, Interface)]
#[graphql(
    field(name = "component_type_code", ty = "String"),
    field(name = "id", ty = "ObjectIdentifier"),
    field(name = "value", ty = "Option<String>")
)]
pub enum ApplicationQuestionnaireComponent {
    /// A privacy consent.
    PrivacyConsent(ApplicationPrivacyConsent),
    /// A question.
    Question(ApplicationQuestion),
}

/// `ApplicationPrivacyConsent`.
#[derive(Debug, Clone)]
pub struct ApplicationPrivacyConsent {
    /// Id.
    pub id: ObjectIdentifier,
    /// Partner-provided value.
    pub value: Option<String>,
    /// Privacy policy URL.
    pub privacy_policy_url: String,
    /// Prompt HTML.
    pub description_html: Option<String>,
}

#[Object]
impl ApplicationPrivacyConsent {
    async fn component_type_code(&self) -> String {
        "PrivacyConsent".into()
    }
    async fn description_html(&self) -> Option<String> {
        self.description_html.clone()
    }
    async fn id(&self) -> ObjectIdentifier {
        self.id.clone()
    }
    async fn privacy_policy_url(&self) -> WebUrl {
        WebUrl { url: self.privacy_policy_url.clone() }
    }
    async fn value(&self) -> Option<String> {
        self.value.clone()
    }
}

/// `ApplicationQuestion`.
#[derive(Debug, Clone)]
pub struct ApplicationQuestion {
    /// Id.
    pub id: ObjectIdentifier,
    /// Partner-provided value.
    pub value: Option<String>,
    /// Question HTML.
    pub question_html: String,
    /// `FreeText`, `SingleSelect` or `MultiSelect`.
    pub response_type_code: String,
    /// Choices for select questions.
    pub response_choice: Option<Vec<ApplicationQuestionChoice>>,
}

#[Object]
impl ApplicationQuestion {
    async fn application_library_question(&self) -> Option<ApplicationLibraryQuestion> {
        None
    }
    async fn component_type_code(&self) -> String {
        "Question".into()
    }
    async fn id(&self) -> ObjectIdentifier {
        self.id.clone()
    }
    async fn question_html(&self) -> String {
        self.question_html.clone()
    }
    async fn response_choice(&self) -> Option<Vec<ApplicationQuestionChoice>> {
        self.response_choice.clone()
    }
    async fn response_type_code(&self) -> String {
        self.response_type_code.clone()
    }
    async fn source_code(&self) -> String {
        "Custom".into()
    }
    async fn value(&self) -> Option<String> {
        self.value.clone()
    }
}

/// `ApplicationQuestionChoice`.
#[derive(Debug, Clone, SimpleObject)]
pub struct ApplicationQuestionChoice {
    /// Library choice (never set: candex has no question library).
    pub application_library_question_choice: Option<ApplicationLibraryQuestionChoice>,
    /// Id.
    pub id: ObjectIdentifier,
    /// Whether the hirer prefers this choice.
    pub preferred_indicator: bool,
    /// Whether the candidate chose it.
    pub selected_indicator: bool,
    /// Text.
    pub text: String,
    /// Partner-provided value.
    pub value: Option<String>,
}

/// `ApplicationLibraryQuestion`.
#[derive(Debug, Clone, SimpleObject)]
pub struct ApplicationLibraryQuestion {
    /// Id.
    pub id: ObjectIdentifier,
    /// Preference rules.
    pub preference_selection: ApplicationLibraryQuestionPreferenceSelection,
    /// Choices.
    pub response_choice: Option<Vec<ApplicationLibraryQuestionChoice>>,
    /// Response type.
    pub response_type_code: String,
    /// Text.
    pub text: String,
}

/// `ApplicationLibraryQuestionChoice`.
#[derive(Debug, Clone, SimpleObject)]
pub struct ApplicationLibraryQuestionChoice {
    /// Id.
    pub id: ObjectIdentifier,
    /// Text.
    pub text: String,
}

/// `ApplicationLibraryQuestionPreferenceSelection`.
#[derive(Debug, Clone, SimpleObject)]
pub struct ApplicationLibraryQuestionPreferenceSelection {
    /// Message.
    pub message: String,
    /// `SingleChoice`, `MultiChoice` or `Range`.
    pub type_code: String,
}

/// `ApplicationQuestionnaireSubmission`.
#[derive(Debug, Clone, SimpleObject)]
pub struct ApplicationQuestionnaireSubmission {
    /// The questionnaire answered.
    pub questionnaire: ApplicationQuestionnaire,
    /// Responses in component order.
    pub responses: Vec<ApplicationQuestionnaireComponentResponse>,
    /// Mean of the scored questions; null when none is scored.
    pub score: Option<f64>,
}

/// The `ApplicationQuestionnaireComponentResponse` interface.
#[derive(Debug, Clone, Interface)]
#[graphql(
    field(name = "component", ty = "ApplicationQuestionnaireComponent"),
    field(name = "component_type_code", ty = "String")
)]
pub enum ApplicationQuestionnaireComponentResponse {
    /// A consent response.
    PrivacyConsent(ApplicationPrivacyConsentResponse),
    /// A question response.
    Question(ApplicationQuestionResponse),
}

/// `ApplicationPrivacyConsentResponse`.
#[derive(Debug, Clone)]
pub struct ApplicationPrivacyConsentResponse {
    /// The consent asked.
    pub component: ApplicationPrivacyConsent,
    /// Whether consent was given.
    pub consent_given_indicator: bool,
}

#[Object]
impl ApplicationPrivacyConsentResponse {
    async fn component(&self) -> ApplicationPrivacyConsent {
        self.component.clone()
    }
    async fn component_type_code(&self) -> String {
        "PrivacyConsent".into()
    }
    async fn consent_given_indicator(&self) -> bool {
        self.consent_given_indicator
    }
}

/// `ApplicationQuestionResponse`.
#[derive(Debug, Clone)]
pub struct ApplicationQuestionResponse {
    /// The question asked.
    pub component: ApplicationQuestion,
    /// Answers.
    pub answers: Vec<ApplicationQuestionAnswer>,
    /// Score; null for free text.
    pub score: Option<f64>,
}

#[Object]
impl ApplicationQuestionResponse {
    async fn answers(&self) -> Vec<ApplicationQuestionAnswer> {
        self.answers.clone()
    }
    async fn component(&self) -> ApplicationQuestion {
        self.component.clone()
    }
    async fn component_type_code(&self) -> String {
        "Question".into()
    }
    async fn score(&self) -> Option<f64> {
        self.score
    }
}

/// `ApplicationQuestionAnswer`.
#[derive(Debug, Clone, SimpleObject)]
pub struct ApplicationQuestionAnswer {
    /// The answer text (free text keeps its whitespace).
    pub answer: String,
    /// The chosen choice; null for free text.
    pub choice: Option<ApplicationQuestionChoice>,
}
