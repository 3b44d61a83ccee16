//! Operator input as received (lenient shapes, every field optional so that validation can
//! name each problem by JSON pointer) and its validation into domain values.
//!
//! This file holds the input shapes; each kind of input is validated in its own file.

mod application;
mod check;
mod person;
mod position;
mod snapshot;

use serde::{Deserialize, Serialize};

use crate::questionnaire::{QuestionnaireInput, ResponseInput};

pub use application::{
    validate_application, AttachmentSource, AttachmentSpec, NewApplication, ATTACHMENT_ROLE_CODES, MAX_ATTACHMENTS,
    MAX_FILENAME,
};
pub use check::validate_name;
pub use person::validate_person;
pub use position::{validate_position, NewPositionInput};

/// Longest accepted short text (names, titles), in characters.
pub const MAX_SHORT_TEXT: usize = 500;
/// Longest accepted free text (descriptions), in characters.
pub const MAX_LONG_TEXT: usize = 20_000;
/// Most entries accepted in any list.
pub const MAX_LIST: usize = 100;

macro_rules! input_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, Deserialize, Serialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name { $($(#[$fm])* pub $field: $ty),* }
    };
}

input_struct!(
    /// `POST /operator/v1/applications`: one job application.
    ApplicationInput {
        /// The posted position profile (job ad) applied to.
        position_profile_id: Option<String>,
        /// The applicant.
        candidate: Option<CandidateInput>,
        /// Employment history snapshot.
        #[serde(default)] employment: Vec<EmployerHistoryInput>,
        /// Education snapshot.
        #[serde(default)] education: Vec<EducationAttendanceInput>,
        /// Certifications snapshot.
        #[serde(default)] certifications: Vec<CertificationInput>,
        /// Skills snapshot.
        #[serde(default)] qualifications: Vec<PersonCompetencyInput>,
        /// Answers to the job ad's screening questionnaire: one per component, or absent.
        questionnaire_responses: Option<Vec<ResponseInput>>,
        /// Application time (RFC 3339); defaults to now. For importing historical data.
        create_date_time: Option<String>,
        /// Where the candidate came from; defaults to one `SeekApplication` source.
        candidate_sources: Option<Vec<CandidateSourceInput>>,
        /// Attached files (resume, cover letter, …). Over HTTP each names a `multipart/form-data`
        /// part (`file`); in `candex import` each names a file on disk (`path`).
        #[serde(default)] attachments: Vec<AttachmentInput>,
    }
);
input_struct!(
    /// One attached file of an application.
    AttachmentInput {
        /// HTTP: the name of the multipart part carrying the file.
        file: Option<String>,
        /// `candex import`: the file's path, relative to the NDJSON file's folder or absolute.
        path: Option<String>,
        /// `Resume`, `CoverLetter`, `SelectionCriteria`, or null for another document.
        seek_role_code: Option<String>,
        /// Descriptions of the document.
        #[serde(default)] descriptions: Vec<String>,
        /// The file's media type; defaults to the multipart part's, or to the extension's.
        content_type: Option<String>,
        /// The original file name; defaults to the multipart part's, or to the path's last segment.
        filename: Option<String>,
    }
);
input_struct!(
    /// The applicant.
    CandidateInput { person: Option<PersonInput> }
);
input_struct!(
    /// Live person data; also the body of `PUT /operator/v1/candidates/{id}/person`.
    PersonInput { name: Option<PersonNameInput>, communication: Option<CommunicationInput> }
);
input_struct!(
    /// A name: at least one part is required.
    PersonNameInput { given: Option<String>, family: Option<String>, formatted_name: Option<String> }
);
input_struct!(
    /// Contact details: at least one email is required.
    CommunicationInput {
        #[serde(default)] email: Vec<EmailInput>,
        #[serde(default)] phone: Vec<PhoneInput>,
        #[serde(default)] address: Vec<AddressInput>,
        seek_do_not_contact_indicator: Option<bool>,
    }
);
input_struct!(EmailInput { address: Option<String> });
input_struct!(PhoneInput { formatted_number: Option<String> });
input_struct!(
    /// A postal address; every part is optional but at least one must be given.
    AddressInput {
        line: Option<String>,
        city: Option<String>,
        postal_code: Option<String>,
        country_code: Option<String>,
        formatted_address: Option<String>,
        #[serde(default)] country_sub_divisions: Vec<AddressComponentInput>,
        #[serde(default)] extended_lines: Vec<AddressComponentInput>,
        geo_location: Option<GeoLocationInput>,
    }
);
input_struct!(AddressComponentInput { #[serde(rename = "type")] kind: Option<String>, value: Option<String> });
input_struct!(GeoLocationInput { latitude: Option<f64>, longitude: Option<f64> });
input_struct!(OrganizationInput { name: Option<String> });
input_struct!(EmployerHistoryInput {
    organization: Option<OrganizationInput>,
    #[serde(default)] position_histories: Vec<PositionHistoryInput>,
});
input_struct!(PositionHistoryInput {
    title: Option<String>,
    start: Option<String>,
    end: Option<String>,
    current: Option<bool>,
    #[serde(default)] descriptions: Vec<String>,
});
input_struct!(EducationAttendanceInput {
    institution: Option<OrganizationInput>,
    #[serde(default)] education_degrees: Vec<EducationDegreeInput>,
    #[serde(default)] descriptions: Vec<String>,
});
input_struct!(EducationDegreeInput {
    name: Option<String>,
    degree_granted_status: Option<String>,
    date: Option<String>,
});
input_struct!(CertificationInput {
    name: Option<String>,
    issued: Option<String>,
    effective_time_period: Option<EffectiveTimePeriodInput>,
    issuing_authority: Option<OrganizationInput>,
    #[serde(default)] descriptions: Vec<String>,
});
input_struct!(EffectiveTimePeriodInput { valid_to: Option<String> });
input_struct!(PersonCompetencyInput { competency_name: Option<String> });
input_struct!(CandidateSourceInput { name: Option<String>, #[serde(rename = "type")] kind: Option<String> });

input_struct!(
    /// `POST /operator/v1/positions`: a job ad for a hirer.
    PositionInput {
        /// The hirer posting the ad.
        hirer_id: Option<String>,
        /// The job title.
        position_title: Option<String>,
        /// The hirer's own reference for the job.
        seek_hirer_job_reference: Option<String>,
        /// The public URL of the ad; defaults to one under the server's public URL.
        position_uri: Option<String>,
        /// Where the job is.
        location: Option<NamedPlaceInput>,
        /// The job category name.
        job_category_name: Option<String>,
        /// `FullTime`, `PartTime`, `ContractTemp` or `Casual`.
        work_type_code: Option<String>,
        /// The ad text.
        advertisement_details: Option<String>,
        /// A screening questionnaire for applicants; ids are generated.
        questionnaire: Option<QuestionnaireInput>,
    }
);
input_struct!(NamedPlaceInput { name: Option<String>, country_code: Option<String> });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_rejected_by_the_shape() {
        let r: Result<ApplicationInput, _> = serde_json::from_value(serde_json::json!({"educaton": []}));
        assert!(r.unwrap_err().to_string().contains("educaton"));
    }
}
