//! Operator input as received (lenient shapes, every field optional so that validation can
//! name each problem by JSON pointer) and its validation into domain values.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Deserialize;

use crate::errors::FieldErrors;
use crate::id::{IdKind, ObjectId};
use crate::person::{Address, AddressComponent, Communication, Email, GeoLocation, Person, PersonName, Phone};
use crate::position::{NamedPlace, PositionDetails, WORK_TYPE_CODES};
use crate::questionnaire::{
    validate_questionnaire, validate_responses, QuestionnaireDraft, QuestionnaireInput, ResponseDraft, ResponseInput,
};
use crate::snapshot::{
    CandidateSource, Certification, EducationAttendance, EducationDegree, EffectiveTimePeriod, EmployerHistory,
    HistoryDate, Organization, PersonCompetency, PositionHistory, Snapshot,
};

/// Longest accepted short text (names, titles), in characters.
pub const MAX_SHORT_TEXT: usize = 500;
/// Longest accepted free text (descriptions), in characters.
pub const MAX_LONG_TEXT: usize = 20_000;
/// Most entries accepted in any list.
pub const MAX_LIST: usize = 100;

macro_rules! input_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, Deserialize)]
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

/// A validated application, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApplication {
    /// The job ad applied to.
    pub position_profile_id: ObjectId,
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

/// A validated job ad, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPositionInput {
    /// The hirer.
    pub hirer_id: ObjectId,
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

/// Collects errors while walking input; every check records under a JSON pointer.
struct Check {
    errors: FieldErrors,
}

impl Check {
    fn text(&mut self, ptr: &str, value: Option<String>, max: usize, required: bool) -> Option<String> {
        match value {
            None if required => {
                self.errors.add(ptr, "is required");
                None
            }
            None => None,
            Some(v) if v.trim().is_empty() => {
                self.errors.add(ptr, "must not be blank");
                None
            }
            Some(v) if v.chars().count() > max => {
                self.errors.add(ptr, format!("must be at most {max} characters"));
                None
            }
            Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') => {
                self.errors.add(ptr, "must not contain control characters");
                None
            }
            Some(v) => Some(v),
        }
    }

    fn date(&mut self, ptr: &str, value: Option<String>, required: bool) -> Option<HistoryDate> {
        match value {
            None if required => {
                self.errors.add(ptr, "is required");
                None
            }
            None => None,
            Some(v) => HistoryDate::parse(&v).map_err(|e| self.errors.add(ptr, e)).ok(),
        }
    }

    fn list_len<T>(&mut self, ptr: &str, list: &[T]) -> bool {
        if list.len() > MAX_LIST {
            self.errors.add(ptr, format!("must have at most {MAX_LIST} entries"));
            false
        } else {
            true
        }
    }

    fn texts(&mut self, ptr: &str, values: Vec<String>) -> Vec<String> {
        if !self.list_len(ptr, &values) {
            return Vec::new();
        }
        values
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| self.text(&format!("{ptr}/{i}"), Some(v), MAX_LONG_TEXT, true))
            .collect()
    }

    fn organization(&mut self, ptr: &str, org: Option<OrganizationInput>, required: bool) -> Option<Organization> {
        match org {
            None if required => {
                self.errors.add(ptr, "is required");
                None
            }
            None => None,
            Some(o) => {
                self.text(&format!("{ptr}/name"), o.name, MAX_SHORT_TEXT, true).map(|name| Organization { name })
            }
        }
    }

    fn id(&mut self, ptr: &str, value: Option<String>, kind: IdKind) -> Option<ObjectId> {
        match value {
            None => {
                self.errors.add(ptr, "is required");
                None
            }
            Some(v) => ObjectId::parse_as(v.trim(), kind).map_err(|e| self.errors.add(ptr, e.to_string())).ok(),
        }
    }
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

/// Validates live person data (`PUT /operator/v1/candidates/{id}/person`).
pub fn validate_person(input: PersonInput) -> Result<Person, FieldErrors> {
    let mut c = Check { errors: FieldErrors::new() };
    let person = person_in(&mut c, "", input);
    match person {
        Some(p) if c.errors.is_empty() => Ok(p),
        _ => Err(c.errors),
    }
}

fn person_in(c: &mut Check, ptr: &str, p: PersonInput) -> Option<Person> {
    let name = match p.name {
        None => {
            c.errors.add(format!("{ptr}/name"), "is required");
            None
        }
        Some(n) => {
            let given = c.text(&format!("{ptr}/name/given"), n.given, MAX_SHORT_TEXT, false);
            let family = c.text(&format!("{ptr}/name/family"), n.family, MAX_SHORT_TEXT, false);
            let formatted = c.text(&format!("{ptr}/name/formattedName"), n.formatted_name, MAX_SHORT_TEXT, false);
            let formatted_name = formatted.or_else(|| {
                let joined = [given.as_deref(), family.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
                (!joined.is_empty()).then_some(joined)
            });
            match formatted_name {
                Some(formatted_name) => Some(PersonName { given, family, formatted_name }),
                None => {
                    c.errors
                        .add(format!("{ptr}/name/given"), "a given name, family name or formatted name is required");
                    None
                }
            }
        }
    };
    let comm = p.communication.unwrap_or_default();
    let email_ptr = format!("{ptr}/communication/email");
    if comm.email.is_empty() {
        c.errors.add(&email_ptr, "at least one email address is required");
    }
    let email: Vec<Email> = if c.list_len(&email_ptr, &comm.email) {
        comm.email
            .into_iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let p = format!("{email_ptr}/{i}/address");
                let address = c.text(&p, e.address, 254, true)?.trim().to_owned();
                if is_plausible_email(&address) {
                    Some(Email { address })
                } else {
                    c.errors.add(p, "must be an email address like name@example.com");
                    None
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let phone_ptr = format!("{ptr}/communication/phone");
    let phone = if c.list_len(&phone_ptr, &comm.phone) {
        comm.phone
            .into_iter()
            .enumerate()
            .filter_map(|(i, ph)| {
                c.text(&format!("{phone_ptr}/{i}/formattedNumber"), ph.formatted_number, 64, true)
                    .map(|formatted_number| Phone { formatted_number })
            })
            .collect()
    } else {
        Vec::new()
    };
    let addr_ptr = format!("{ptr}/communication/address");
    let address = if c.list_len(&addr_ptr, &comm.address) {
        comm.address.into_iter().enumerate().filter_map(|(i, a)| address_in(c, &format!("{addr_ptr}/{i}"), a)).collect()
    } else {
        Vec::new()
    };
    Some(Person {
        name: name?,
        communication: Communication {
            email,
            phone,
            address,
            seek_do_not_contact_indicator: comm.seek_do_not_contact_indicator,
        },
    })
}

fn is_plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn address_in(c: &mut Check, ptr: &str, a: AddressInput) -> Option<Address> {
    let mut components = |name: &str, list: Vec<AddressComponentInput>| -> Vec<AddressComponent> {
        let p = format!("{ptr}/{name}");
        if !c.list_len(&p, &list) {
            return Vec::new();
        }
        list.into_iter()
            .enumerate()
            .filter_map(|(i, comp)| {
                let kind = c.text(&format!("{p}/{i}/type"), comp.kind, MAX_SHORT_TEXT, true);
                let value = c.text(&format!("{p}/{i}/value"), comp.value, MAX_SHORT_TEXT, true);
                Some(AddressComponent { kind: kind?, value: value? })
            })
            .collect()
    };
    let country_sub_divisions = components("countrySubDivisions", a.country_sub_divisions);
    let extended_lines = components("extendedLines", a.extended_lines);
    let country_code = c.text(&format!("{ptr}/countryCode"), a.country_code, 2, false);
    if let Some(cc) = &country_code {
        if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_uppercase()) {
            c.errors.add(format!("{ptr}/countryCode"), "must be an ISO 3166-1 alpha-2 code such as AU");
        }
    }
    let geo_location = a.geo_location.and_then(|g| match (g.latitude, g.longitude) {
        (Some(latitude), Some(longitude))
            if (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude) =>
        {
            Some(GeoLocation { latitude, longitude })
        }
        _ => {
            c.errors.add(format!("{ptr}/geoLocation"), "needs latitude in [-90, 90] and longitude in [-180, 180]");
            None
        }
    });
    let address = Address {
        line: c.text(&format!("{ptr}/line"), a.line, MAX_SHORT_TEXT, false),
        city: c.text(&format!("{ptr}/city"), a.city, MAX_SHORT_TEXT, false),
        postal_code: c.text(&format!("{ptr}/postalCode"), a.postal_code, 32, false),
        country_code,
        formatted_address: c.text(&format!("{ptr}/formattedAddress"), a.formatted_address, MAX_SHORT_TEXT, false),
        country_sub_divisions,
        extended_lines,
        geo_location,
    };
    if address == Address::default() {
        c.errors.add(ptr, "an address needs at least one part");
        return None;
    }
    Some(address)
}

fn employment_in(c: &mut Check, list: Vec<EmployerHistoryInput>) -> Vec<EmployerHistory> {
    if !c.list_len("/employment", &list) {
        return Vec::new();
    }
    list.into_iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let ptr = format!("/employment/{i}");
            let organization = c.organization(&format!("{ptr}/organization"), e.organization, true);
            let hp = format!("{ptr}/positionHistories");
            let position_histories = if c.list_len(&hp, &e.position_histories) {
                e.position_histories
                    .into_iter()
                    .enumerate()
                    .filter_map(|(j, h)| {
                        let p = format!("{hp}/{j}");
                        let title = c.text(&format!("{p}/title"), h.title, MAX_SHORT_TEXT, true);
                        let start = c.date(&format!("{p}/start"), h.start, true);
                        let end = c.date(&format!("{p}/end"), h.end, false);
                        if let (Some(s), Some(e)) = (&start, &end) {
                            if e.as_str() < s.as_str() && !e.as_str().starts_with(s.as_str()) {
                                c.errors.add(format!("{p}/end"), "must not be before start");
                            }
                        }
                        let descriptions = c.texts(&format!("{p}/descriptions"), h.descriptions);
                        Some(PositionHistory { title: title?, start: start?, end, current: h.current, descriptions })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Some(EmployerHistory { organization: organization?, position_histories })
        })
        .collect()
}

fn education_in(c: &mut Check, list: Vec<EducationAttendanceInput>) -> Vec<EducationAttendance> {
    if !c.list_len("/education", &list) {
        return Vec::new();
    }
    list.into_iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let ptr = format!("/education/{i}");
            let institution = c.organization(&format!("{ptr}/institution"), e.institution, true);
            let dp = format!("{ptr}/educationDegrees");
            let education_degrees = if c.list_len(&dp, &e.education_degrees) {
                e.education_degrees
                    .into_iter()
                    .enumerate()
                    .filter_map(|(j, d)| {
                        let p = format!("{dp}/{j}");
                        let name = c.text(&format!("{p}/name"), d.name, MAX_SHORT_TEXT, true);
                        let status = c.text(&format!("{p}/degreeGrantedStatus"), d.degree_granted_status, 64, true);
                        let date = c.date(&format!("{p}/date"), d.date, false);
                        Some(EducationDegree { name: name?, degree_granted_status: status?, date })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let descriptions = c.texts(&format!("{ptr}/descriptions"), e.descriptions);
            Some(EducationAttendance { institution: institution?, education_degrees, descriptions })
        })
        .collect()
}

fn certifications_in(c: &mut Check, list: Vec<CertificationInput>) -> Vec<Certification> {
    if !c.list_len("/certifications", &list) {
        return Vec::new();
    }
    list.into_iter()
        .enumerate()
        .filter_map(|(i, cert)| {
            let ptr = format!("/certifications/{i}");
            let name = c.text(&format!("{ptr}/name"), cert.name, MAX_SHORT_TEXT, true);
            let issued = c.date(&format!("{ptr}/issued"), cert.issued, false);
            let effective_time_period = cert.effective_time_period.map(|p| EffectiveTimePeriod {
                valid_to: c.date(&format!("{ptr}/effectiveTimePeriod/validTo"), p.valid_to, false),
            });
            let issuing_authority = c.organization(&format!("{ptr}/issuingAuthority"), cert.issuing_authority, false);
            let descriptions = c.texts(&format!("{ptr}/descriptions"), cert.descriptions);
            Some(Certification { name: name?, issued, effective_time_period, issuing_authority, descriptions })
        })
        .collect()
}

fn qualifications_in(c: &mut Check, list: Vec<PersonCompetencyInput>) -> Vec<PersonCompetency> {
    if !c.list_len("/qualifications", &list) {
        return Vec::new();
    }
    list.into_iter()
        .enumerate()
        .filter_map(|(i, q)| {
            c.text(&format!("/qualifications/{i}/competencyName"), q.competency_name, MAX_SHORT_TEXT, true)
                .map(|competency_name| PersonCompetency { competency_name })
        })
        .collect()
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

/// Validates a display name (hirers, partners).
pub fn validate_name(name: Option<String>) -> Result<String, FieldErrors> {
    let mut c = Check { errors: FieldErrors::new() };
    let name = c.text("/name", name, MAX_SHORT_TEXT, true);
    match name {
        Some(n) if c.errors.is_empty() => Ok(n),
        _ => Err(c.errors),
    }
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

    #[test]
    fn unknown_fields_are_rejected_by_the_shape() {
        let r: Result<ApplicationInput, _> = serde_json::from_value(serde_json::json!({"educaton": []}));
        assert!(r.unwrap_err().to_string().contains("educaton"));
    }

    #[test]
    fn end_before_start_is_rejected_but_same_month_is_fine() {
        let base = |end: &str| {
            parse(serde_json::json!({
                "positionProfileId": "s:positionProfile:jobAd:a",
                "candidate": {"person": {"name": {"family": "X"}, "communication": {"email": [{"address": "x@y.io"}]}}},
                "employment": [{"organization": {"name": "A"}, "positionHistories": [{"title": "t", "start": "2020-05", "end": end}]}]
            }))
        };
        assert!(validate_application(base("2019-01")).is_err());
        assert!(validate_application(base("2020-05-31")).is_ok());
        assert!(validate_application(base("2021")).is_ok());
    }

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
