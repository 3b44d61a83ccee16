//! Questionnaire responses: their shape checked on input ([`validate_responses`]) and their
//! match against the job ad's questionnaire ([`resolve_responses`]).

use std::collections::HashMap;

use super::validate::text;
use super::{
    Answer, Component, ComponentResponse, ConsentResponse, Question, QuestionResponse, Questionnaire, ResponseInput,
    ResponseType, MAX_CHOICES, MAX_COMPONENTS, MAX_FREE_TEXT,
};
use crate::errors::FieldErrors;
use crate::id::{IdKind, ObjectId};

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
    use crate::questionnaire::testkit::sample;

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
}
