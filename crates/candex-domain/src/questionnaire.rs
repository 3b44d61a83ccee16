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

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::errors::FieldErrors;
use crate::id::{IdKind, ObjectId};

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

// --- scoring --------------------------------------------------------------------------------

/// The score of one question's answers (see the module docs): `None` for free text and for a
/// select question without a preferred choice.
pub fn question_score(question: &Question, answers: &[Answer]) -> Option<f64> {
    let preferred: HashSet<&ObjectId> =
        question.response_choice.iter().filter(|c| c.preferred_indicator).map(|c| &c.id).collect();
    let chosen: HashSet<&ObjectId> = answers
        .iter()
        .filter_map(|a| match a {
            Answer::Choice { choice_id } => Some(choice_id),
            Answer::FreeText { .. } => None,
        })
        .collect();
    match question.response_type_code {
        ResponseType::FreeText => None,
        _ if preferred.is_empty() => None,
        ResponseType::SingleSelect => Some(if chosen.iter().any(|c| preferred.contains(c)) { 1.0 } else { 0.0 }),
        ResponseType::MultiSelect => {
            let hits = preferred.iter().filter(|p| chosen.contains(*p)).count();
            Some(hits as f64 / preferred.len() as f64)
        }
    }
}

/// The submission's score: the mean of the scores that are not `None`; `None` when none is.
pub fn submission_score(scores: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = scores.into_iter().flatten().fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

// --- operator input -------------------------------------------------------------------------

/// `questionnaire` of `POST /operator/v1/positions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuestionnaireInput {
    /// Components in display order; at least one.
    pub components: Option<Vec<ComponentInput>>,
}

/// One component: `PrivacyConsent` (with `privacyPolicyUrl`, optional `descriptionHtml`) or
/// `Question` (with `questionHtml`, `responseTypeCode` and, for selects, `responseChoice`).
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnswerInput {
    /// A choice id of the question.
    pub choice_id: Option<String>,
    /// Free text, kept exactly (whitespace and line breaks included).
    pub answer: Option<String>,
}

/// A validated questionnaire whose ids are not minted yet.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionnaireDraft {
    components: Vec<ComponentDraft>,
}

#[derive(Debug, Clone, PartialEq)]
enum ComponentDraft {
    PrivacyConsent {
        value: Option<String>,
        privacy_policy_url: String,
        description_html: Option<String>,
    },
    Question {
        value: Option<String>,
        question_html: String,
        response_type: ResponseType,
        choices: Vec<(String, Option<String>, bool)>,
    },
}

impl QuestionnaireDraft {
    /// Assigns fresh ids to the questionnaire, every component and every choice.
    pub fn mint_ids(self, mut mint: impl FnMut(IdKind) -> ObjectId) -> Questionnaire {
        let id = mint(IdKind::ApplicationQuestionnaire);
        let components = self
            .components
            .into_iter()
            .map(|c| match c {
                ComponentDraft::PrivacyConsent { value, privacy_policy_url, description_html } => {
                    Component::PrivacyConsent(PrivacyConsent {
                        id: mint(IdKind::QuestionnaireComponent),
                        value,
                        privacy_policy_url,
                        description_html,
                    })
                }
                ComponentDraft::Question { value, question_html, response_type, choices } => {
                    let id = mint(IdKind::QuestionnaireComponent);
                    let response_choice = choices
                        .into_iter()
                        .map(|(text, value, preferred_indicator)| Choice {
                            id: mint(IdKind::QuestionChoice),
                            text,
                            value,
                            preferred_indicator,
                        })
                        .collect();
                    Component::Question(Question {
                        id,
                        value,
                        question_html,
                        response_type_code: response_type,
                        response_choice,
                    })
                }
            })
            .collect();
        Questionnaire { id, components }
    }
}

/// Checks one text field; `None` (with an error recorded when required or invalid) otherwise.
fn text(errors: &mut FieldErrors, ptr: &str, value: Option<String>, max: usize, required: bool) -> Option<String> {
    match value {
        None if required => {
            errors.add(ptr, "is required");
            None
        }
        None => None,
        Some(v) if v.trim().is_empty() => {
            errors.add(ptr, "must not be blank");
            None
        }
        Some(v) if v.chars().count() > max => {
            errors.add(ptr, format!("must be at most {max} characters"));
            None
        }
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') => {
            errors.add(ptr, "must not contain control characters");
            None
        }
        Some(v) => Some(v),
    }
}

fn reject_present<T>(errors: &mut FieldErrors, ptr: String, value: &Option<T>, kind: &str) {
    if value.is_some() {
        errors.add(ptr, format!("is not allowed on a {kind} component"));
    }
}

/// Validates the `questionnaire` of a job ad; errors are recorded under `ptr`
/// (`/questionnaire`).
pub fn validate_questionnaire(
    errors: &mut FieldErrors,
    ptr: &str,
    input: QuestionnaireInput,
) -> Option<QuestionnaireDraft> {
    let before = errors.len();
    let list_ptr = format!("{ptr}/components");
    let list = match input.components {
        None => {
            errors.add(&list_ptr, "is required");
            return None;
        }
        Some(list) if list.is_empty() => {
            errors.add(&list_ptr, "needs at least one component");
            return None;
        }
        Some(list) if list.len() > MAX_COMPONENTS => {
            errors.add(&list_ptr, format!("must have at most {MAX_COMPONENTS} components"));
            return None;
        }
        Some(list) => list,
    };
    let mut components = Vec::with_capacity(list.len());
    for (i, c) in list.into_iter().enumerate() {
        let p = format!("{list_ptr}/{i}");
        let value = text(errors, &format!("{p}/value"), c.value, MAX_VALUE, false);
        let code = text(errors, &format!("{p}/componentTypeCode"), c.component_type_code, 64, true);
        match code.as_deref() {
            None => {}
            Some("PrivacyConsent") => {
                reject_present(errors, format!("{p}/questionHtml"), &c.question_html, "PrivacyConsent");
                reject_present(errors, format!("{p}/responseTypeCode"), &c.response_type_code, "PrivacyConsent");
                reject_present(errors, format!("{p}/responseChoice"), &c.response_choice, "PrivacyConsent");
                let url_ptr = format!("{p}/privacyPolicyUrl");
                let url = text(errors, &url_ptr, c.privacy_policy_url, MAX_URL, true);
                let url = url.filter(|u| {
                    let ok = is_http_url(u);
                    if !ok {
                        errors.add(&url_ptr, "must be an http(s) URL");
                    }
                    ok
                });
                let description_html =
                    text(errors, &format!("{p}/descriptionHtml"), c.description_html, MAX_HTML, false);
                if let Some(privacy_policy_url) = url {
                    components.push(ComponentDraft::PrivacyConsent { value, privacy_policy_url, description_html });
                }
            }
            Some("Question") => {
                reject_present(errors, format!("{p}/privacyPolicyUrl"), &c.privacy_policy_url, "Question");
                reject_present(errors, format!("{p}/descriptionHtml"), &c.description_html, "Question");
                let question_html = text(errors, &format!("{p}/questionHtml"), c.question_html, MAX_HTML, true);
                let type_ptr = format!("{p}/responseTypeCode");
                let response_type = text(errors, &type_ptr, c.response_type_code, 64, true).and_then(|code| {
                    ResponseType::parse(&code).or_else(|| {
                        errors.add(&type_ptr, format!("must be one of {}", ResponseType::CODES.join(", ")));
                        None
                    })
                });
                let choices = response_type.and_then(|t| choices_in(errors, &p, t, c.response_choice));
                if let (Some(question_html), Some(response_type), Some(choices)) =
                    (question_html, response_type, choices)
                {
                    components.push(ComponentDraft::Question { value, question_html, response_type, choices });
                }
            }
            Some(_) => {
                errors.add(format!("{p}/componentTypeCode"), "must be PrivacyConsent or Question");
            }
        }
    }
    (errors.len() == before).then_some(QuestionnaireDraft { components })
}

fn choices_in(
    errors: &mut FieldErrors,
    p: &str,
    response_type: ResponseType,
    input: Option<Vec<ChoiceInput>>,
) -> Option<Vec<(String, Option<String>, bool)>> {
    let ptr = format!("{p}/responseChoice");
    let list = input.unwrap_or_default();
    if response_type == ResponseType::FreeText {
        if !list.is_empty() {
            errors.add(ptr, "a FreeText question has no choices");
            return None;
        }
        return Some(Vec::new());
    }
    if list.len() < 2 {
        errors.add(ptr, format!("a {} question needs at least two choices", response_type.code()));
        return None;
    }
    if list.len() > MAX_CHOICES {
        errors.add(ptr, format!("must have at most {MAX_CHOICES} choices"));
        return None;
    }
    let before = errors.len();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for (j, choice) in list.into_iter().enumerate() {
        let cp = format!("{ptr}/{j}");
        let text_value = text(errors, &format!("{cp}/text"), choice.text, MAX_CHOICE_TEXT, true);
        let value = text(errors, &format!("{cp}/value"), choice.value, MAX_VALUE, false);
        let preferred = choice.preferred_indicator;
        if preferred.is_none() {
            errors.add(format!("{cp}/preferredIndicator"), "is required");
        }
        if let Some(t) = &text_value {
            if let Some(first) = seen.insert(t.trim().to_owned(), j) {
                errors.add(format!("{cp}/text"), format!("repeats the text of {ptr}/{first}"));
            }
        }
        if let (Some(t), Some(pref)) = (text_value, preferred) {
            out.push((t, value, pref));
        }
    }
    (errors.len() == before).then_some(out)
}

fn is_http_url(u: &str) -> bool {
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !u.chars().any(char::is_whitespace))
}

/// A response whose shape was checked but not yet matched against the questionnaire.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseDraft {
    /// The component answered.
    pub component_id: ObjectId,
    /// `consentGivenIndicator`, if given.
    pub consent_given_indicator: Option<bool>,
    /// `answers`, if given.
    pub answers: Option<Vec<Answer>>,
}

/// Checks the shape of `questionnaireResponses` (ids well formed, each answer either a choice
/// or free text); matching against the job ad's questionnaire is [`resolve_responses`].
pub fn validate_responses(errors: &mut FieldErrors, ptr: &str, input: Vec<ResponseInput>) -> Vec<ResponseDraft> {
    if input.len() > MAX_COMPONENTS {
        errors.add(ptr, format!("must have at most {MAX_COMPONENTS} entries"));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(input.len());
    for (i, r) in input.into_iter().enumerate() {
        let p = format!("{ptr}/{i}");
        let id_ptr = format!("{p}/componentId");
        let component_id = match r.component_id {
            None => {
                errors.add(&id_ptr, "is required");
                None
            }
            Some(v) => ObjectId::parse_as(v.trim(), IdKind::QuestionnaireComponent)
                .map_err(|e| errors.add(&id_ptr, e.to_string()))
                .ok(),
        };
        if r.consent_given_indicator.is_some() && r.answers.is_some() {
            errors.add(&p, "give consentGivenIndicator (privacy consent) or answers (question), not both");
        }
        let answers = r.answers.map(|list| {
            let ap = format!("{p}/answers");
            if list.len() > MAX_CHOICES {
                errors.add(&ap, format!("must have at most {MAX_CHOICES} entries"));
                return Vec::new();
            }
            list.into_iter()
                .enumerate()
                .filter_map(|(k, a)| {
                    let p = format!("{ap}/{k}");
                    match (a.choice_id, a.answer) {
                        (Some(_), Some(_)) => {
                            errors.add(p, "give choiceId (select question) or answer (free text), not both");
                            None
                        }
                        (None, None) => {
                            errors.add(p, "needs choiceId (select question) or answer (free text)");
                            None
                        }
                        (Some(id), None) => {
                            let cp = format!("{p}/choiceId");
                            ObjectId::parse_as(id.trim(), IdKind::QuestionChoice)
                                .map(|choice_id| Answer::Choice { choice_id })
                                .map_err(|e| errors.add(cp, e.to_string()))
                                .ok()
                        }
                        (None, Some(text_value)) => {
                            text(errors, &format!("{p}/answer"), Some(text_value), MAX_FREE_TEXT, true)
                                .map(|answer| Answer::FreeText { answer })
                        }
                    }
                })
                .collect()
        });
        if let Some(component_id) = component_id {
            out.push(ResponseDraft { component_id, consent_given_indicator: r.consent_given_indicator, answers });
        }
    }
    out
}

/// Matches responses against the job ad's questionnaire: every component needs exactly one
/// response of its kind, every choice must belong to its question, a single select takes one
/// choice, a multi select distinct choices, free text one text. Errors are recorded under
/// `ptr` (`/questionnaireResponses`) with the index the response had in the input; the result
/// is in the questionnaire's component order.
pub fn resolve_responses(
    errors: &mut FieldErrors,
    ptr: &str,
    questionnaire: &Questionnaire,
    drafts: &[ResponseDraft],
) -> Vec<ComponentResponse> {
    let index: HashMap<&ObjectId, usize> =
        questionnaire.components.iter().enumerate().map(|(n, c)| (c.id(), n)).collect();
    let mut answered: HashMap<usize, usize> = HashMap::new();
    let mut resolved: Vec<(usize, ComponentResponse)> = Vec::with_capacity(drafts.len());
    for (i, draft) in drafts.iter().enumerate() {
        let p = format!("{ptr}/{i}");
        let Some(&n) = index.get(&draft.component_id) else {
            errors.add(format!("{p}/componentId"), "no component of the job ad's questionnaire has this id");
            continue;
        };
        if let Some(first) = answered.insert(n, i) {
            answered.insert(n, first);
            errors.add(format!("{p}/componentId"), format!("this component was already answered at {ptr}/{first}"));
            continue;
        }
        match &questionnaire.components[n] {
            Component::PrivacyConsent(c) => {
                if draft.answers.is_some() {
                    errors.add(format!("{p}/answers"), "is not allowed: the component is a privacy consent");
                }
                match draft.consent_given_indicator {
                    Some(given) => resolved.push((
                        n,
                        ComponentResponse::PrivacyConsent(ConsentResponse {
                            component_id: c.id.clone(),
                            consent_given_indicator: given,
                        }),
                    )),
                    None => errors.add(format!("{p}/consentGivenIndicator"), "is required for a privacy consent"),
                }
            }
            Component::Question(q) => {
                if draft.consent_given_indicator.is_some() {
                    errors.add(format!("{p}/consentGivenIndicator"), "is not allowed: the component is a question");
                }
                let answers = draft.answers.as_deref().unwrap_or_default();
                if answers.is_empty() {
                    errors.add(format!("{p}/answers"), "a question needs at least one answer");
                    continue;
                }
                if check_answers(errors, &format!("{p}/answers"), q, answers) {
                    resolved.push((
                        n,
                        ComponentResponse::Question(QuestionResponse {
                            component_id: q.id.clone(),
                            answers: answers.to_vec(),
                        }),
                    ));
                }
            }
        }
    }
    let missing: Vec<String> = questionnaire
        .components
        .iter()
        .enumerate()
        .filter(|(n, _)| !answered.contains_key(n))
        .map(|(_, c)| match c.value() {
            Some(v) => format!("{} (value {v:?})", c.id()),
            None => c.id().to_string(),
        })
        .collect();
    if !missing.is_empty() {
        errors.add(ptr, format!("every component needs a response; missing: {}", missing.join(", ")));
    }
    resolved.sort_by_key(|(n, _)| *n);
    resolved.into_iter().map(|(_, r)| r).collect()
}

/// Checks the answers to one question; true when they are acceptable.
fn check_answers(errors: &mut FieldErrors, ptr: &str, q: &Question, answers: &[Answer]) -> bool {
    let before = errors.len();
    let code = q.response_type_code.code();
    let mut chosen: HashMap<&ObjectId, usize> = HashMap::new();
    for (k, answer) in answers.iter().enumerate() {
        let p = format!("{ptr}/{k}");
        match (q.response_type_code, answer) {
            (ResponseType::FreeText, Answer::Choice { .. }) => {
                errors.add(format!("{p}/choiceId"), "a FreeText question takes free text (answer), not a choice");
            }
            (ResponseType::FreeText, Answer::FreeText { .. }) => {
                if k > 0 {
                    errors.add(p, "a FreeText question takes exactly one answer");
                }
            }
            (_, Answer::FreeText { .. }) => {
                errors.add(format!("{p}/answer"), format!("a {code} question takes choices (choiceId), not free text"));
            }
            (t, Answer::Choice { choice_id }) => {
                if q.choice(choice_id).is_none() {
                    errors.add(format!("{p}/choiceId"), "is not a choice of this question");
                } else if let Some(first) = chosen.insert(choice_id, k) {
                    errors.add(format!("{p}/choiceId"), format!("this choice was already chosen at {ptr}/{first}"));
                } else if t == ResponseType::SingleSelect && k > 0 {
                    errors.add(p, "a SingleSelect question takes exactly one choice");
                }
            }
        }
    }
    errors.len() == before
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(kind: IdKind, n: usize) -> ObjectId {
        ObjectId::from_trusted(format!("s:{}:seek:{n}", kind.type_name()))
    }

    fn question(t: ResponseType, preferred: &[bool]) -> Question {
        Question {
            id: id(IdKind::QuestionnaireComponent, 0),
            value: None,
            question_html: "Q?".into(),
            response_type_code: t,
            response_choice: preferred
                .iter()
                .enumerate()
                .map(|(n, &p)| Choice {
                    id: id(IdKind::QuestionChoice, n),
                    text: format!("c{n}"),
                    value: None,
                    preferred_indicator: p,
                })
                .collect(),
        }
    }

    fn chose(ns: &[usize]) -> Vec<Answer> {
        ns.iter().map(|&n| Answer::Choice { choice_id: id(IdKind::QuestionChoice, n) }).collect()
    }

    #[test]
    fn single_select_scores_one_for_a_preferred_choice_and_zero_otherwise() {
        let q = question(ResponseType::SingleSelect, &[true, false, true]);
        assert_eq!(question_score(&q, &chose(&[0])), Some(1.0));
        assert_eq!(question_score(&q, &chose(&[2])), Some(1.0));
        assert_eq!(question_score(&q, &chose(&[1])), Some(0.0));
    }

    #[test]
    fn multi_select_scores_the_share_of_preferred_choices_selected() {
        let q = question(ResponseType::MultiSelect, &[true, true, false, false]);
        assert_eq!(question_score(&q, &chose(&[0])), Some(0.5));
        assert_eq!(question_score(&q, &chose(&[0, 2])), Some(0.5), "a non-preferred choice changes nothing");
        assert_eq!(question_score(&q, &chose(&[0, 1])), Some(1.0));
        assert_eq!(question_score(&q, &chose(&[0, 1, 2, 3])), Some(1.0));
        assert_eq!(question_score(&q, &chose(&[2, 3])), Some(0.0));
        let thirds = question(ResponseType::MultiSelect, &[true, true, true]);
        assert_eq!(question_score(&thirds, &chose(&[1])), Some(1.0 / 3.0));
    }

    #[test]
    fn select_questions_without_a_preferred_choice_have_no_score() {
        for t in [ResponseType::SingleSelect, ResponseType::MultiSelect] {
            let q = question(t, &[false, false]);
            assert_eq!(question_score(&q, &chose(&[0])), None, "{t:?}");
        }
    }

    #[test]
    fn free_text_has_no_score() {
        let q = question(ResponseType::FreeText, &[]);
        assert_eq!(question_score(&q, &[Answer::FreeText { answer: "yes".into() }]), None);
    }

    #[test]
    fn the_submission_score_is_the_mean_of_scored_questions() {
        assert_eq!(submission_score([Some(1.0), None, Some(0.0), Some(0.5)]), Some(0.5));
        assert_eq!(submission_score([None, None]), None);
        assert_eq!(submission_score([]), None);
        assert_eq!(submission_score([Some(0.25)]), Some(0.25));
    }

    fn input(v: serde_json::Value) -> QuestionnaireInput {
        serde_json::from_value(v).unwrap()
    }

    fn sample() -> Questionnaire {
        let mut n = 0;
        let draft = validate_questionnaire(
            &mut FieldErrors::new(),
            "/questionnaire",
            input(serde_json::json!({"components": [
                {"componentTypeCode": "PrivacyConsent", "privacyPolicyUrl": "https://example.com/privacy"},
                {"componentTypeCode": "Question", "questionHtml": "Why?", "responseTypeCode": "FreeText"},
                {"componentTypeCode": "Question", "questionHtml": "Licence?", "responseTypeCode": "SingleSelect",
                 "responseChoice": [{"text": "Yes", "preferredIndicator": true}, {"text": "No", "preferredIndicator": false}]},
                {"componentTypeCode": "Question", "questionHtml": "Days?", "responseTypeCode": "MultiSelect",
                 "responseChoice": [{"text": "Mon", "preferredIndicator": true}, {"text": "Tue", "preferredIndicator": true},
                                    {"text": "Sun", "preferredIndicator": false}]}
            ]})),
        )
        .expect("valid");
        draft.mint_ids(|kind| {
            n += 1;
            id(kind, n)
        })
    }

    #[test]
    fn a_valid_questionnaire_gets_ids_everywhere_and_round_trips_through_json() {
        let q = sample();
        assert_eq!(q.id.as_str(), "s:applicationQuestionnaire:seek:1");
        assert_eq!(q.components.len(), 4);
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json["components"][0]["componentTypeCode"], "PrivacyConsent");
        assert_eq!(json["components"][2]["responseChoice"][0]["preferredIndicator"], true);
        let back: Questionnaire = serde_json::from_value(json).unwrap();
        assert_eq!(back, q);
    }

    #[test]
    fn invalid_questionnaires_are_named_by_pointer() {
        let mut errors = FieldErrors::new();
        let draft = validate_questionnaire(
            &mut errors,
            "/questionnaire",
            input(serde_json::json!({"components": [
                {"componentTypeCode": "Poll"},
                {"componentTypeCode": "PrivacyConsent", "privacyPolicyUrl": "ftp://x", "questionHtml": "x"},
                {"componentTypeCode": "Question", "questionHtml": "x".repeat(1001), "responseTypeCode": "FreeText",
                 "responseChoice": [{"text": "a", "preferredIndicator": true}]},
                {"componentTypeCode": "Question", "questionHtml": "Pick", "responseTypeCode": "SingleSelect",
                 "responseChoice": [{"text": "only", "preferredIndicator": true}]},
                {"componentTypeCode": "Question", "questionHtml": "Pick", "responseTypeCode": "Sometimes"},
                {"componentTypeCode": "Question", "questionHtml": "Pick", "responseTypeCode": "MultiSelect",
                 "responseChoice": [{"text": "a"}, {"text": "a", "preferredIndicator": false}]}
            ]})),
        );
        assert!(draft.is_none());
        let pointers: Vec<&str> = errors.iter().map(|(p, _)| p).collect();
        assert_eq!(
            pointers,
            vec![
                "/questionnaire/components/0/componentTypeCode",
                "/questionnaire/components/1/privacyPolicyUrl",
                "/questionnaire/components/1/questionHtml",
                "/questionnaire/components/2/questionHtml",
                "/questionnaire/components/2/responseChoice",
                "/questionnaire/components/3/responseChoice",
                "/questionnaire/components/4/responseTypeCode",
                "/questionnaire/components/5/responseChoice/0/preferredIndicator",
                "/questionnaire/components/5/responseChoice/1/text",
            ]
        );
        let mut errors = FieldErrors::new();
        assert!(validate_questionnaire(&mut errors, "/questionnaire", input(serde_json::json!({"components": []})))
            .is_none());
        assert_eq!(errors.iter().map(|(p, _)| p).collect::<Vec<_>>(), vec!["/questionnaire/components"]);
    }

    fn drafts(v: serde_json::Value) -> (Vec<ResponseDraft>, FieldErrors) {
        let mut errors = FieldErrors::new();
        let input: Vec<ResponseInput> = serde_json::from_value(v).unwrap();
        (validate_responses(&mut errors, "/questionnaireResponses", input), errors)
    }

    fn ids(q: &Questionnaire) -> (Vec<String>, Vec<Vec<String>>) {
        let components = q.components.iter().map(|c| c.id().to_string()).collect();
        let choices = q
            .components
            .iter()
            .map(|c| match c {
                Component::Question(q) => q.response_choice.iter().map(|c| c.id.to_string()).collect(),
                Component::PrivacyConsent(_) => Vec::new(),
            })
            .collect();
        (components, choices)
    }

    #[test]
    fn valid_responses_resolve_in_questionnaire_order_keeping_free_text_exactly() {
        let q = sample();
        let (c, ch) = ids(&q);
        let (d, errors) = drafts(serde_json::json!([
            {"componentId": c[3], "answers": [{"choiceId": ch[3][0]}, {"choiceId": ch[3][2]}]},
            {"componentId": c[1], "answers": [{"answer": "  two\nlines  "}]},
            {"componentId": c[0], "consentGivenIndicator": true},
            {"componentId": c[2], "answers": [{"choiceId": ch[2][1]}]}
        ]));
        assert!(errors.is_empty(), "{errors}");
        let mut errors = FieldErrors::new();
        let resolved = resolve_responses(&mut errors, "/questionnaireResponses", &q, &d);
        assert!(errors.is_empty(), "{errors}");
        let order: Vec<String> = resolved.iter().map(|r| r.component_id().to_string()).collect();
        assert_eq!(order, c);
        match &resolved[1] {
            ComponentResponse::Question(r) => {
                assert_eq!(r.answers, vec![Answer::FreeText { answer: "  two\nlines  ".into() }])
            }
            other => panic!("{other:?}"),
        }
        let stored = serde_json::to_string(&resolved).unwrap();
        assert_eq!(serde_json::from_str::<Vec<ComponentResponse>>(&stored).unwrap(), resolved);
    }

    #[test]
    fn every_mismatch_with_the_questionnaire_is_named_by_pointer() {
        let q = sample();
        let (c, ch) = ids(&q);
        let unknown = "s:applicationQuestionnaireComponent:seek:nope";
        let (d, errors) = drafts(serde_json::json!([
            {"componentId": c[0], "answers": [{"answer": "yes"}]},
            {"componentId": c[1], "answers": [{"choiceId": ch[2][0]}]},
            {"componentId": c[2], "answers": [{"choiceId": ch[2][0]}, {"choiceId": ch[2][1]}]},
            {"componentId": c[3], "answers": [{"choiceId": ch[3][0]}, {"choiceId": ch[3][0]}, {"answer": "x"}]},
            {"componentId": unknown, "consentGivenIndicator": true},
            {"componentId": c[2], "answers": [{"choiceId": ch[3][1]}]}
        ]));
        assert!(errors.is_empty(), "{errors}");
        let mut errors = FieldErrors::new();
        resolve_responses(&mut errors, "/questionnaireResponses", &q, &d);
        let pointers: Vec<&str> = errors.iter().map(|(p, _)| p).collect();
        assert_eq!(
            pointers,
            vec![
                "/questionnaireResponses/0/answers",
                "/questionnaireResponses/0/consentGivenIndicator",
                "/questionnaireResponses/1/answers/0/choiceId",
                "/questionnaireResponses/2/answers/1",
                "/questionnaireResponses/3/answers/1/choiceId",
                "/questionnaireResponses/3/answers/2/answer",
                "/questionnaireResponses/4/componentId",
                "/questionnaireResponses/5/componentId",
            ]
        );
    }

    #[test]
    fn missing_components_and_empty_answers_are_refused() {
        let q = sample();
        let (c, _) = ids(&q);
        let (d, _) = drafts(serde_json::json!([{"componentId": c[0], "consentGivenIndicator": false},
            {"componentId": c[1], "answers": []}]));
        let mut errors = FieldErrors::new();
        resolve_responses(&mut errors, "/questionnaireResponses", &q, &d);
        let all: Vec<(&str, &str)> = errors.iter().collect();
        assert_eq!(all.len(), 2, "{errors}");
        assert_eq!(all[0].0, "/questionnaireResponses");
        assert!(all[0].1.contains(&c[2]) && all[0].1.contains(&c[3]) && !all[0].1.contains(&c[1]), "{}", all[0].1);
        assert_eq!(all[1].0, "/questionnaireResponses/1/answers");
    }

    #[test]
    fn response_shapes_are_checked_before_the_questionnaire_is_known() {
        let (_, errors) = drafts(serde_json::json!([
            {"componentId": "s:candidate:feed:x", "consentGivenIndicator": true},
            {"componentId": "s:applicationQuestionnaireComponent:seek:a", "answers": [{}, {"choiceId": "x", "answer": "y"},
                {"choiceId": "bad"}, {"answer": "   "}]},
            {"consentGivenIndicator": true}
        ]));
        let pointers: Vec<&str> = errors.iter().map(|(p, _)| p).collect();
        assert_eq!(
            pointers,
            vec![
                "/questionnaireResponses/0/componentId",
                "/questionnaireResponses/1/answers/0",
                "/questionnaireResponses/1/answers/1",
                "/questionnaireResponses/1/answers/2/choiceId",
                "/questionnaireResponses/1/answers/3/answer",
                "/questionnaireResponses/2/componentId",
            ]
        );
    }

    proptest! {
        #[test]
        fn scores_are_within_zero_and_one(
            preferred in proptest::collection::vec(any::<bool>(), 2..12),
            picks in proptest::collection::vec(0usize..12, 0..12),
            multi in any::<bool>(),
        ) {
            let t = if multi { ResponseType::MultiSelect } else { ResponseType::SingleSelect };
            let q = question(t, &preferred);
            let picks: Vec<usize> = picks.into_iter().filter(|p| *p < preferred.len()).collect();
            let score = question_score(&q, &chose(&picks));
            if let Some(s) = score {
                prop_assert!((0.0..=1.0).contains(&s), "{s}");
            }
            prop_assert_eq!(score.is_none(), !preferred.contains(&true));
            let sub = submission_score([score, None, Some(1.0), Some(0.0)]);
            prop_assert!(sub.is_some_and(|s| (0.0..=1.0).contains(&s)));
        }
    }
}
