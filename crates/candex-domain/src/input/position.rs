//! Validation of a job ad (`POST /operator/v1/positions`).

use super::check::Check;
use super::{PositionInput, MAX_LONG_TEXT, MAX_SHORT_TEXT};
use crate::errors::FieldErrors;
use crate::id::{HirerId, IdKind};
use crate::position::{NamedPlace, PositionDetails, WORK_TYPE_CODES};
use crate::questionnaire::{validate_questionnaire, QuestionnaireDraft};

/// A validated job ad, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPositionInput {
    /// The hirer.
    pub hirer_id: HirerId,
    /// The job title.
    pub position_title: String,
    /// The hirer's reference.
    pub seek_hirer_job_reference: Option<String>,
    /// An explicit public URL.
    pub position_uri: Option<String>,
    /// Optional details.
    pub details: PositionDetails,
    /// The screening questionnaire, ids still to be minted.
    pub questionnaire: Option<QuestionnaireDraft>,
}

/// Validates a job ad.
pub fn validate_position(input: PositionInput) -> Result<NewPositionInput, FieldErrors> {
    let mut c = Check { errors: FieldErrors::new() };
    let hirer_id = c.id("/hirerId", input.hirer_id, IdKind::Organization);
    let position_title = c.text("/positionTitle", input.position_title, MAX_SHORT_TEXT, true);
    let seek_hirer_job_reference =
        c.text("/seekHirerJobReference", input.seek_hirer_job_reference, MAX_SHORT_TEXT, false);
    let position_uri = c.text("/positionUri", input.position_uri, 2000, false);
    if let Some(uri) = &position_uri {
        if !(uri.starts_with("https://") || uri.starts_with("http://")) {
            c.errors.add("/positionUri", "must be an http(s) URL");
        }
    }
    let location = input.location.and_then(|l| {
        let name = c.text("/location/name", l.name, MAX_SHORT_TEXT, true);
        let country_code = c.text("/location/countryCode", l.country_code, 2, true);
        if let Some(cc) = &country_code {
            if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_uppercase()) {
                c.errors.add("/location/countryCode", "must be an ISO 3166-1 alpha-2 code such as AU");
            }
        }
        Some(NamedPlace { name: name?, country_code: country_code? })
    });
    let job_category_name = c.text("/jobCategoryName", input.job_category_name, MAX_SHORT_TEXT, false);
    let work_type_code = c.text("/workTypeCode", input.work_type_code, 64, false);
    if let Some(code) = &work_type_code {
        if !WORK_TYPE_CODES.contains(&code.as_str()) {
            c.errors.add("/workTypeCode", format!("must be one of {}", WORK_TYPE_CODES.join(", ")));
        }
    }
    let advertisement_details = c.text("/advertisementDetails", input.advertisement_details, MAX_LONG_TEXT, false);
    let questionnaire = input.questionnaire.and_then(|q| validate_questionnaire(&mut c.errors, "/questionnaire", q));
    match (hirer_id, position_title) {
        (Some(hirer_id), Some(position_title)) if c.errors.is_empty() => Ok(NewPositionInput {
            hirer_id,
            position_title,
            seek_hirer_job_reference,
            position_uri,
            details: PositionDetails { location, job_category_name, work_type_code, advertisement_details },
            questionnaire,
        }),
        _ => Err(c.errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_validate_work_type_and_hirer() {
        let input: PositionInput = serde_json::from_value(serde_json::json!({
            "hirerId": "seekAnzPublicTest:organization:seek:abc", "positionTitle": "Dev", "workTypeCode": "Sometimes"
        }))
        .unwrap();
        let err = validate_position(input).unwrap_err();
        assert_eq!(err.iter().map(|(p, _)| p).collect::<Vec<_>>(), vec!["/workTypeCode"]);
    }
}
