//! Fixtures shared by the questionnaire tests: predictable ids and a sample questionnaire.

use super::{validate_questionnaire, Questionnaire, QuestionnaireInput};
use crate::errors::FieldErrors;
use crate::id::{IdKind, ObjectId};

pub(super) fn id(kind: IdKind, n: usize) -> ObjectId {
    ObjectId::from_trusted(format!("s:{}:seek:{n}", kind.type_name()))
}

pub(super) fn input(v: serde_json::Value) -> QuestionnaireInput {
    serde_json::from_value(v).unwrap()
}

pub(super) fn sample() -> Questionnaire {
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
