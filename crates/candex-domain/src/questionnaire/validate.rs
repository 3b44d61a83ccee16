//! Validation of a job ad's questionnaire into a [`QuestionnaireDraft`], and the minting of
//! its ids; also the text check the response validation shares.

use std::collections::HashMap;

use super::{
    Choice, ChoiceInput, Component, PrivacyConsent, Question, Questionnaire, QuestionnaireInput, ResponseType,
    MAX_CHOICES, MAX_CHOICE_TEXT, MAX_COMPONENTS, MAX_HTML, MAX_URL, MAX_VALUE,
};
use crate::errors::FieldErrors;
use crate::id::{IdKind, ObjectId};

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
pub(super) fn text(
    errors: &mut FieldErrors,
    ptr: &str,
    value: Option<String>,
    max: usize,
    required: bool,
) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::testkit::{input, sample};

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
}
