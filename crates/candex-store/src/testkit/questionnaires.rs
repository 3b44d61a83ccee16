//! Stories about screening questionnaires: stored with their job ad and read back by either
//! id, responses stored with the application and read back with their questionnaire, erasure.

use candex_domain::questionnaire::{
    Answer, Choice, Component, ComponentResponse, ConsentResponse, PrivacyConsent, Question, QuestionResponse,
    Questionnaire, ResponseType,
};
use candex_domain::IdKind;

use super::{application, hirer, new_id, new_position, person, t, tag};
use crate::{Store, StoreError};

/// A questionnaire with a consent, a free-text, a single-select and a multi-select question.
pub fn sample_questionnaire() -> Questionnaire {
    let choice = |text: &str, preferred: bool| Choice {
        id: new_id(IdKind::QuestionChoice),
        text: text.to_owned(),
        value: Some(format!("v-{text}")),
        preferred_indicator: preferred,
    };
    Questionnaire {
        id: new_id(IdKind::ApplicationQuestionnaire),
        components: vec![
            Component::PrivacyConsent(PrivacyConsent {
                id: new_id(IdKind::QuestionnaireComponent),
                value: Some("consent".to_owned()),
                privacy_policy_url: "https://example.com/privacy".to_owned(),
                description_html: None,
            }),
            Component::Question(Question {
                id: new_id(IdKind::QuestionnaireComponent),
                value: None,
                question_html: "<p>Why <b>us</b>?</p>".to_owned(),
                response_type_code: ResponseType::FreeText,
                response_choice: Vec::new(),
            }),
            Component::Question(Question {
                id: new_id(IdKind::QuestionnaireComponent),
                value: Some("licence".to_owned()),
                question_html: "Do you hold a licence?".to_owned(),
                response_type_code: ResponseType::SingleSelect,
                response_choice: vec![choice("Yes", true), choice("No", false)],
            }),
            Component::Question(Question {
                id: new_id(IdKind::QuestionnaireComponent),
                value: None,
                question_html: "Which days?".to_owned(),
                response_type_code: ResponseType::MultiSelect,
                response_choice: vec![choice("Mon", true), choice("Tue", true), choice("Sun", false)],
            }),
        ],
    }
}

/// Responses to every component of [`sample_questionnaire`]-shaped `q`: consent given, the
/// free text `text`, the first choice of each select question.
pub fn sample_responses(q: &Questionnaire, text: &str) -> Vec<ComponentResponse> {
    q.components
        .iter()
        .map(|c| match c {
            Component::PrivacyConsent(c) => ComponentResponse::PrivacyConsent(ConsentResponse {
                component_id: c.id.clone(),
                consent_given_indicator: true,
            }),
            Component::Question(q) => ComponentResponse::Question(QuestionResponse {
                component_id: q.id.clone(),
                answers: match q.response_choice.first() {
                    Some(choice) => vec![Answer::Choice { choice_id: choice.id.clone() }],
                    None => vec![Answer::FreeText { answer: text.to_owned() }],
                },
            }),
        })
        .collect()
}

/// A job ad with a questionnaire reads back with it by profile id, opening id, questionnaire
/// id and in listings; a job ad without one has none.
pub async fn questionnaire_position_round_trip(store: &dyn Store) {
    let h = hirer(store, &format!("{} questionnaire hirer", tag())).await;
    let mut new = new_position(&h.id, "Screened", t(0));
    let q = sample_questionnaire();
    new.questionnaire = Some(q.clone());
    let created = store.create_position(new).await.expect("create with questionnaire");
    assert_eq!(created.questionnaire.as_deref(), Some(&q));
    let read = store.get_position(&created.profile_id).await.expect("get").expect("exists");
    assert_eq!(read, created);
    let by_opening = store.get_position_by_opening(&created.opening_id).await.expect("by opening");
    assert_eq!(by_opening.as_ref(), Some(&created));
    let by_questionnaire = store.get_position_by_questionnaire(&q.id).await.expect("by questionnaire");
    assert_eq!(by_questionnaire.as_ref(), Some(&created));
    assert!(store.list_positions(Some(&h.id)).await.expect("list").contains(&created));
    assert_eq!(
        store.get_position_by_questionnaire(&new_id(IdKind::ApplicationQuestionnaire)).await.expect("unknown"),
        None
    );

    let plain = store.create_position(new_position(&h.id, "Plain", t(1))).await.expect("create plain");
    assert_eq!(plain.questionnaire, None);
    assert_eq!(store.get_position(&plain.profile_id).await.expect("get plain").expect("exists").questionnaire, None);
}

/// Responses are stored with their application and read back with the questionnaire (free
/// text exactly); an application without responses has no submission; responses to a job ad
/// without a questionnaire are refused with nothing stored; erasure removes submissions.
pub async fn questionnaire_submission_round_trip(store: &dyn Store) {
    let h = hirer(store, &format!("{} submission hirer", tag())).await;
    let mut new = new_position(&h.id, "Screened", t(0));
    let q = sample_questionnaire();
    new.questionnaire = Some(q.clone());
    let position = store.create_position(new).await.expect("create");
    let plain = store.create_position(new_position(&h.id, "Plain", t(0))).await.expect("create plain");

    let text = "  first line\n\tsecond line  ";
    let mut answered = application(&position, person("Quinn Answer", "quinn@example.com"), t(10));
    answered.questionnaire_responses = Some(sample_responses(&q, text));
    let silent = application(&position, person("Sid Silent", "sid@example.com"), t(11));
    let done = store.ingest_applications(&[answered.clone(), silent.clone()]).await.expect("ingest");

    let submission = store.questionnaire_submission(&done[0].profile_id).await.expect("read").expect("submitted");
    assert_eq!(*submission.questionnaire, q);
    assert_eq!(Some(submission.responses.clone()), answered.questionnaire_responses);
    match &submission.responses[1] {
        ComponentResponse::Question(r) => assert_eq!(r.answers, vec![Answer::FreeText { answer: text.to_owned() }]),
        other => panic!("expected the free-text response, got {other:?}"),
    }
    assert_eq!(store.questionnaire_submission(&done[1].profile_id).await.expect("read silent"), None);
    assert_eq!(store.questionnaire_submission(&new_id(IdKind::CandidateProfile)).await.expect("unknown"), None);
    let several = store
        .questionnaire_submissions(&[done[1].profile_id.clone(), done[0].profile_id.clone()])
        .await
        .expect("read several");
    assert_eq!(several, vec![(done[0].profile_id.clone(), submission.clone())], "only the answered one");
    assert!(store.questionnaire_submissions(&[]).await.expect("none").is_empty());

    // Responses to a job ad without a questionnaire: refused, and the batch stores nothing.
    let fine = application(&plain, person("Fay Fine", "fay@example.com"), t(12));
    let mut wrong = application(&plain, person("Wes Wrong", "wes@example.com"), t(13));
    wrong.questionnaire_responses = Some(sample_responses(&q, "x"));
    match store.ingest_applications(&[fine.clone(), wrong]).await {
        Err(StoreError::Rejected(_)) => {}
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(store.get_profile(&fine.profile_id).await.expect("get fine"), None, "nothing of the batch stored");
}
