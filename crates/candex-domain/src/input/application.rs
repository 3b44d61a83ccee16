//! Validation of an application (`POST /operator/v1/applications`) and of its attachments.

use chrono::{DateTime, SubsecRound, Utc};

use super::check::Check;
use super::person::person_in;
use super::snapshot::{certifications_in, education_in, employment_in, qualifications_in};
use super::{ApplicationInput, AttachmentInput, MAX_SHORT_TEXT};
use crate::errors::FieldErrors;
use crate::id::{IdKind, PositionProfileId};
use crate::person::Person;
use crate::questionnaire::{validate_responses, ResponseDraft};
use crate::snapshot::{CandidateSource, Snapshot};

/// A validated application, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApplication {
    /// The job ad applied to.
    pub position_profile_id: PositionProfileId,
    /// The applicant's person data.
    pub person: Person,
    /// The profile snapshot.
    pub snapshot: Snapshot,
    /// When the application was made, if not now.
    pub create_date_time: Option<DateTime<Utc>>,
    /// Where the candidate came from.
    pub candidate_sources: Vec<CandidateSource>,
    /// Questionnaire responses (shape checked; matched against the job ad when stored).
    pub questionnaire_responses: Option<Vec<ResponseDraft>>,
    /// Attached files, still to be read from where they are named.
    pub attachments: Vec<AttachmentSpec>,
}

/// The role codes SEEK documents for `Attachment.seekRoleCode`.
pub const ATTACHMENT_ROLE_CODES: [&str; 3] = ["Resume", "CoverLetter", "SelectionCriteria"];

/// Longest accepted attachment file name, in characters.
pub const MAX_FILENAME: usize = 255;

/// Most attachments accepted on one application.
pub const MAX_ATTACHMENTS: usize = 10;

/// Where an attachment's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentSource {
    /// A `multipart/form-data` part of this name.
    Part(String),
    /// A file on disk (`candex import`).
    Path(String),
}

/// A validated attachment of an application; its bytes are read by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentSpec {
    /// Where the bytes come from.
    pub source: AttachmentSource,
    /// `Resume`, `CoverLetter`, `SelectionCriteria` or `None`.
    pub seek_role_code: Option<String>,
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// An explicit media type.
    pub content_type: Option<String>,
    /// An explicit original file name.
    pub filename: Option<String>,
}

/// Validates an application; on failure every invalid field is named.
pub fn validate_application(input: ApplicationInput) -> Result<NewApplication, FieldErrors> {
    let mut c = Check { errors: FieldErrors::new() };
    let position_profile_id = c.id("/positionProfileId", input.position_profile_id, IdKind::PositionProfile);
    let person = match input.candidate.and_then(|cand| cand.person) {
        Some(p) => person_in(&mut c, "/candidate/person", p),
        None => {
            c.errors.add("/candidate/person", "is required");
            None
        }
    };
    let snapshot = Snapshot {
        employment: employment_in(&mut c, input.employment),
        education: education_in(&mut c, input.education),
        certifications: certifications_in(&mut c, input.certifications),
        qualifications: qualifications_in(&mut c, input.qualifications),
    };
    let create_date_time = input.create_date_time.and_then(|s| {
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc).trunc_subsecs(3))
            .map_err(|_| c.errors.add("/createDateTime", "must be an RFC 3339 date-time"))
            .ok()
    });
    let candidate_sources = match input.candidate_sources {
        None => vec![CandidateSource { name: "candex".into(), kind: "SeekApplication".into() }],
        Some(list) if c.list_len("/candidateSources", &list) => list
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let name = c.text(&format!("/candidateSources/{i}/name"), s.name, MAX_SHORT_TEXT, true);
                let kind = c.text(&format!("/candidateSources/{i}/type"), s.kind, MAX_SHORT_TEXT, true);
                Some(CandidateSource { name: name?, kind: kind? })
            })
            .collect(),
        Some(_) => Vec::new(),
    };
    let attachments = attachments_in(&mut c, input.attachments);
    let questionnaire_responses =
        input.questionnaire_responses.map(|list| validate_responses(&mut c.errors, "/questionnaireResponses", list));
    match (position_profile_id, person) {
        (Some(position_profile_id), Some(person)) if c.errors.is_empty() => Ok(NewApplication {
            position_profile_id,
            person,
            snapshot,
            create_date_time,
            candidate_sources,
            attachments,
            questionnaire_responses,
        }),
        _ => Err(c.errors),
    }
}

fn attachments_in(c: &mut Check, list: Vec<AttachmentInput>) -> Vec<AttachmentSpec> {
    if list.len() > MAX_ATTACHMENTS {
        c.errors.add("/attachments", format!("must have at most {MAX_ATTACHMENTS} entries"));
        return Vec::new();
    }
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.into_iter().enumerate() {
        let ptr = format!("/attachments/{i}");
        let source = match (a.file, a.path) {
            (Some(_), Some(_)) => {
                c.errors.add(format!("{ptr}/file"), "give either file (a multipart part) or path (import), not both");
                None
            }
            (Some(file), None) => {
                c.text(&format!("{ptr}/file"), Some(file), MAX_SHORT_TEXT, true).map(AttachmentSource::Part)
            }
            (None, Some(path)) => c.text(&format!("{ptr}/path"), Some(path), 4096, true).map(AttachmentSource::Path),
            (None, None) => {
                c.errors.add(format!("{ptr}/file"), "is required: the name of the multipart part carrying the file");
                None
            }
        };
        if let Some(AttachmentSource::Part(name) | AttachmentSource::Path(name)) = &source {
            let field = if matches!(source, Some(AttachmentSource::Part(_))) { "file" } else { "path" };
            match seen.iter().find(|(n, _)| n == name) {
                Some((_, j)) => c
                    .errors
                    .add(format!("{ptr}/{field}"), format!("refers to the same file as /attachments/{j}/{field}")),
                None => seen.push((name.clone(), i)),
            }
        }
        let role = a.seek_role_code;
        if let Some(code) = &role {
            if !ATTACHMENT_ROLE_CODES.contains(&code.as_str()) {
                c.errors.add(
                    format!("{ptr}/seekRoleCode"),
                    format!("must be one of {} or null", ATTACHMENT_ROLE_CODES.join(", ")),
                );
            }
        }
        let descriptions = c.texts(&format!("{ptr}/descriptions"), a.descriptions);
        let content_type = c.text(&format!("{ptr}/contentType"), a.content_type, 255, false);
        // File names are kept as given (control characters included) and made safe where they
        // are written into headers; only blank and overlong names are refused.
        let filename = match a.filename {
            Some(f) if f.trim().is_empty() => {
                c.errors.add(format!("{ptr}/filename"), "must not be blank");
                None
            }
            Some(f) if f.chars().count() > MAX_FILENAME => {
                c.errors.add(format!("{ptr}/filename"), format!("must be at most {MAX_FILENAME} characters"));
                None
            }
            other => other,
        };
        if let Some(source) = source {
            out.push(AttachmentSpec { source, seek_role_code: role, descriptions, content_type, filename });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> ApplicationInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_minimal_application_needs_only_name_email_and_position() {
        let app = validate_application(parse(serde_json::json!({
            "positionProfileId": "seekAnzPublicTest:positionProfile:jobAd:abc",
            "candidate": {"person": {"name": {"given": "Ella"}, "communication": {"email": [{"address": " ella@example.com "}]}}}
        })))
        .unwrap();
        assert_eq!(app.person.name.formatted_name, "Ella");
        assert_eq!(app.person.communication.email[0].address, "ella@example.com");
        assert_eq!(app.candidate_sources[0].kind, "SeekApplication");
    }

    #[test]
    fn every_invalid_field_is_named_by_pointer() {
        let err = validate_application(parse(serde_json::json!({
            "positionProfileId": "seekAnzPublicTest:candidate:feed:abc",
            "candidate": {"person": {"name": {}, "communication": {"email": [{"address": "nope"}]}}},
            "employment": [{"organization": {"name": ""}, "positionHistories": [{"title": "x", "start": "2020-13"}]}],
            "qualifications": [{}]
        })))
        .unwrap_err();
        let pointers: Vec<&str> = err.iter().map(|(p, _)| p).collect();
        assert_eq!(
            pointers,
            vec![
                "/candidate/person/communication/email/0/address",
                "/candidate/person/name/given",
                "/employment/0/organization/name",
                "/employment/0/positionHistories/0/start",
                "/positionProfileId",
                "/qualifications/0/competencyName",
            ]
        );
    }
}
