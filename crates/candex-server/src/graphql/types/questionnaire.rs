//! Screening questionnaires: `ApplicationQuestionnaire`, its components and the submission
//! types, built from the stored questionnaire of a job ad and a profile's responses. Scores
//! come from `candex_domain::questionnaire` (see its module docs for the definitions).

use std::collections::{HashMap, HashSet};

use async_graphql::{Interface, Object, SimpleObject};
use candex_domain::questionnaire as q;
use candex_domain::ObjectId;
use candex_store::{Position, QuestionnaireSubmission};

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

impl ApplicationQuestionnaire {
    /// The questionnaire of a job ad (no choice selected), `None` when it has none.
    pub fn of_position(position: &Position) -> Option<Self> {
        position.questionnaire.as_deref().map(|questionnaire| Self::build(questionnaire, position, &HashSet::new()))
    }

    /// The questionnaire with `selectedIndicator` set on the choices in `selected`.
    fn build(questionnaire: &q::Questionnaire, position: &Position, selected: &HashSet<&ObjectId>) -> Self {
        Self {
            components: questionnaire
                .components
                .iter()
                .map(|c| match c {
                    q::Component::PrivacyConsent(c) => ApplicationQuestionnaireComponent::PrivacyConsent(consent(c)),
                    q::Component::Question(qn) => ApplicationQuestionnaireComponent::Question(question(qn, selected)),
                })
                .collect(),
            hirer: HiringOrganization::new(position.hirer_id.clone(), position.hirer_name.clone()),
            id: (&questionnaire.id).into(),
        }
    }
}

fn consent(c: &q::PrivacyConsent) -> ApplicationPrivacyConsent {
    ApplicationPrivacyConsent {
        id: (&c.id).into(),
        value: c.value.clone(),
        privacy_policy_url: c.privacy_policy_url.clone(),
        description_html: c.description_html.clone(),
    }
}

fn question(qn: &q::Question, selected: &HashSet<&ObjectId>) -> ApplicationQuestion {
    let choices = qn.response_choice.iter().map(|c| choice(c, selected.contains(&c.id))).collect();
    ApplicationQuestion {
        id: (&qn.id).into(),
        value: qn.value.clone(),
        question_html: qn.question_html.clone(),
        response_type_code: qn.response_type_code.code().to_owned(),
        // SEEK gives free-text questions no choice list at all.
        response_choice: (qn.response_type_code != q::ResponseType::FreeText).then_some(choices),
    }
}

fn choice(c: &q::Choice, selected: bool) -> ApplicationQuestionChoice {
    ApplicationQuestionChoice {
        application_library_question_choice: None,
        id: (&c.id).into(),
        preferred_indicator: c.preferred_indicator,
        selected_indicator: selected,
        text: c.text.clone(),
        value: c.value.clone(),
    }
}

impl ApplicationQuestionnaireSubmission {
    /// A profile's submission: one response per component in questionnaire order, chosen
    /// choices marked selected, question and submission scores computed.
    pub fn build(submission: &QuestionnaireSubmission, position: &Position) -> Self {
        let selected: HashSet<&ObjectId> = submission
            .responses
            .iter()
            .filter_map(|r| match r {
                q::ComponentResponse::Question(r) => Some(r.answers.iter()),
                q::ComponentResponse::PrivacyConsent(_) => None,
            })
            .flatten()
            .filter_map(|a| match a {
                q::Answer::Choice { choice_id } => Some(choice_id),
                q::Answer::FreeText { .. } => None,
            })
            .collect();
        let by_component: HashMap<&ObjectId, &q::ComponentResponse> =
            submission.responses.iter().map(|r| (r.component_id(), r)).collect();
        let mut scores = Vec::new();
        let responses = submission
            .questionnaire
            .components
            .iter()
            .filter_map(|c| match (c, by_component.get(c.id())?) {
                (q::Component::PrivacyConsent(c), q::ComponentResponse::PrivacyConsent(r)) => {
                    Some(ApplicationQuestionnaireComponentResponse::PrivacyConsent(ApplicationPrivacyConsentResponse {
                        component: consent(c),
                        consent_given_indicator: r.consent_given_indicator,
                    }))
                }
                (q::Component::Question(qn), q::ComponentResponse::Question(r)) => {
                    let score = q::question_score(qn, &r.answers);
                    scores.push(score);
                    let answers = r
                        .answers
                        .iter()
                        .filter_map(|a| match a {
                            q::Answer::Choice { choice_id } => qn.choice(choice_id).map(|c| {
                                ApplicationQuestionAnswer { answer: c.text.clone(), choice: Some(choice(c, true)) }
                            }),
                            q::Answer::FreeText { answer } => {
                                Some(ApplicationQuestionAnswer { answer: answer.clone(), choice: None })
                            }
                        })
                        .collect();
                    Some(ApplicationQuestionnaireComponentResponse::Question(ApplicationQuestionResponse {
                        component: question(qn, &selected),
                        answers,
                        score,
                    }))
                }
                // Kinds always match: responses are checked against the questionnaire at ingest.
                _ => None,
            })
            .collect();
        Self {
            questionnaire: ApplicationQuestionnaire::build(&submission.questionnaire, position, &selected),
            responses,
            score: q::submission_score(scores),
        }
    }
}
