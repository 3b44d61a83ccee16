//! Scoring: a question's score from its answers and a submission's score from its questions'
//! (the rules are in the parent module's docs).

use std::collections::HashSet;

use super::{Answer, Question, ResponseType};
use crate::id::ObjectId;

/// The score of one question's answers (see the `questionnaire` module docs): `None` for free
/// text and for a select question without a preferred choice.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::IdKind;
    use crate::questionnaire::testkit::id;
    use crate::questionnaire::Choice;
    use proptest::prelude::*;

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
