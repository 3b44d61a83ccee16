//! Screening questionnaires: the questionnaire of a job ad (privacy consents and questions with
//! their choices), a candidate's responses, the validation of both as the operator sends them,
//! and the scores SEEK documents.
//!
//! The serialised forms here are also the stored forms (JSON documents), so a questionnaire
//! and a submission each read back from one row.
//!
//! # Scores
//!
//! - `FreeText`: no score (`None`).
//! - `SingleSelect`: `1` when the chosen choice is preferred, `0` when it is not.
//! - `MultiSelect`: the share of the question's *preferred* choices that the candidate selected,
//!   `|selected ∩ preferred| / |preferred|`. Selecting a choice that is not preferred neither
//!   adds nor subtracts: with preferred {A, B}, selecting {A} or {A, C} scores 0.5 and {A, B}
//!   or {A, B, C} scores 1.
//! - A select question without any preferred choice expresses no preference and has no score.
//! - The submission's score is the mean of the questions' scores that are not `None`, and
//!   `None` when no question has a score.

mod input;
mod responses;
mod score;
#[cfg(test)]
mod testkit;
mod validate;

use serde::{Deserialize, Serialize};

use crate::id::ObjectId;

pub use input::{AnswerInput, ChoiceInput, ComponentInput, QuestionnaireInput, ResponseInput};
pub use responses::{resolve_responses, validate_responses, ResponseDraft};
pub use score::{question_score, submission_score};
pub use validate::{validate_questionnaire, QuestionnaireDraft};

/// Most components one questionnaire may have.
pub const MAX_COMPONENTS: usize = 100;
/// Most choices one select question may have.
pub const MAX_CHOICES: usize = 50;
/// Longest `questionHtml` and `descriptionHtml`, in characters (SEEK's limit).
pub const MAX_HTML: usize = 1000;
/// Longest partner-provided `value`, in characters.
pub const MAX_VALUE: usize = 255;
/// Longest choice text, in characters.
pub const MAX_CHOICE_TEXT: usize = 500;
/// Longest privacy policy URL, in characters.
pub const MAX_URL: usize = 2000;
/// Longest free-text answer, in characters.
pub const MAX_FREE_TEXT: usize = 20_000;

/// A job ad's screening questionnaire (`ApplicationQuestionnaire`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    /// The questionnaire's id.
    pub id: ObjectId,
    /// Components in display order.
    pub components: Vec<Component>,
}

/// One component of a questionnaire, tagged by SEEK's `componentTypeCode`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "componentTypeCode")]
pub enum Component {
    /// `PrivacyConsent`: the candidate is asked to agree to a privacy policy.
    PrivacyConsent(PrivacyConsent),
    /// `Question`: a free-text or select question.
    Question(Question),
}

impl Component {
    /// The component's id.
    pub fn id(&self) -> &ObjectId {
        match self {
            Self::PrivacyConsent(c) => &c.id,
            Self::Question(q) => &q.id,
        }
    }

    /// The partner-provided value, if any.
    pub fn value(&self) -> Option<&str> {
        match self {
            Self::PrivacyConsent(c) => c.value.as_deref(),
            Self::Question(q) => q.value.as_deref(),
        }
    }
}

/// `ApplicationPrivacyConsent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyConsent {
    /// The component's id.
    pub id: ObjectId,
    /// Partner-provided value for correlation.
    pub value: Option<String>,
    /// The privacy policy's http(s) URL.
    pub privacy_policy_url: String,
    /// The prompt; SEEK's default is used when absent.
    pub description_html: Option<String>,
}

/// `ApplicationQuestion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    /// The component's id.
    pub id: ObjectId,
    /// Partner-provided value for correlation.
    pub value: Option<String>,
    /// The question, as HTML of at most 1000 characters.
    pub question_html: String,
    /// How the candidate answers.
    pub response_type_code: ResponseType,
    /// The choices of a select question; empty for free text.
    #[serde(default)]
    pub response_choice: Vec<Choice>,
}

impl Question {
    /// The choice with `id`, if it belongs to this question.
    pub fn choice(&self, id: &ObjectId) -> Option<&Choice> {
        self.response_choice.iter().find(|c| &c.id == id)
    }
}

/// `responseTypeCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseType {
    /// A free-text answer.
    FreeText,
    /// Exactly one choice.
    SingleSelect,
    /// One or more choices.
    MultiSelect,
}

impl ResponseType {
    /// Every code, as the operator API accepts them.
    pub const CODES: [&'static str; 3] = ["FreeText", "SingleSelect", "MultiSelect"];

    /// The SEEK code.
    pub fn code(self) -> &'static str {
        match self {
            Self::FreeText => "FreeText",
            Self::SingleSelect => "SingleSelect",
            Self::MultiSelect => "MultiSelect",
        }
    }

    /// Parses a SEEK code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "FreeText" => Some(Self::FreeText),
            "SingleSelect" => Some(Self::SingleSelect),
            "MultiSelect" => Some(Self::MultiSelect),
            _ => None,
        }
    }
}

/// `ApplicationQuestionChoice`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// The choice's id.
    pub id: ObjectId,
    /// What the candidate sees.
    pub text: String,
    /// Partner-provided value for correlation.
    pub value: Option<String>,
    /// Whether the hirer prefers this choice (drives the score).
    pub preferred_indicator: bool,
}

/// A candidate's response to one component, in the questionnaire's order once validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "componentTypeCode")]
pub enum ComponentResponse {
    /// The response to a privacy consent.
    PrivacyConsent(ConsentResponse),
    /// The response to a question.
    Question(QuestionResponse),
}

impl ComponentResponse {
    /// The component answered.
    pub fn component_id(&self) -> &ObjectId {
        match self {
            Self::PrivacyConsent(r) => &r.component_id,
            Self::Question(r) => &r.component_id,
        }
    }
}

/// `ApplicationPrivacyConsentResponse` as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentResponse {
    /// The consent component.
    pub component_id: ObjectId,
    /// Whether the candidate consented.
    pub consent_given_indicator: bool,
}

/// `ApplicationQuestionResponse` as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionResponse {
    /// The question.
    pub component_id: ObjectId,
    /// At least one answer; exactly one for free text and single select.
    pub answers: Vec<Answer>,
}

/// One answer to a question: a chosen choice or free text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    /// A choice of a select question.
    Choice {
        /// The chosen choice.
        #[serde(rename = "choiceId")]
        choice_id: ObjectId,
    },
    /// Free text, whitespace and line breaks kept exactly.
    FreeText {
        /// The text.
        answer: String,
    },
}
