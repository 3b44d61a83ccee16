//! The direct answer to `candidateProfile`: a document this server has validated before, whose
//! selection stays within the stored profile and its attachments (no process history, further
//! profiles, fragments or directives; a questionnaire submission only when the job ad has no
//! questionnaire, so it is `null`), is answered by writing its JSON straight from the profile
//! read (and its attachments' when selected), without async-graphql's executor (a boxed future, a `FuturesUnordered` and
//! an `IndexMap` per object, a `Value` tree, then its serialisation: most of a request's cost).
//!
//! It is the happy path only: a partner token, a well-formed id, a profile found, the
//! `ApplicationExport` relationship with its hirer, the token not revoked, no questionnaire
//! when its submission is selected. Anything else (an unknown or foreign profile, a browser
//! token, a missing variable, a questionnaire) is declined and the request runs through the
//! executor as before, which gives every error; the profile read already made is handed to it
//! ([`Outcome::Declined`]), so the statement is not repeated. Profile data is never cached
//! across requests: each request reads the profile, its hirer's relationships and the token
//! revocation time, in one statement, as the resolver does.
//!
//! The written JSON must be byte for byte what the executor answers; `tests/api/direct.rs`
//! compares the two for every field this module writes, over profiles with every kind of value.
//! A field not handled here makes [`Plan::compile`] refuse the document, so a new schema field
//! is answered by the executor until it is added to both.

use std::collections::HashSet;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Name, Value, Variables};
use candex_domain::snapshot as d;
use candex_domain::time::format_rfc3339_ms;
use candex_domain::{CandidateProfileId, IdKind, Identifier, RelationshipType};
use candex_store::{Attachment, ProfileView};

use crate::attachments::download::attachment_url;
use crate::auth::tokens::VerifiedToken;
use crate::graphql::prefetch::ProfileForPartner;
use crate::state::AppState;

/// How a document's `candidateProfile` is answered directly; compiled once per cached document.
#[derive(Debug)]
pub struct Plan {
    /// The name of the document's one operation, if named: a request naming another is refused
    /// by the executor (`Unknown operation named`), so it does not run directly.
    operation: Option<Name>,
    /// The root field's response key.
    key: String,
    id: IdArgument,
    selection: Vec<Sel>,
    /// Whether `attachments` is selected (read after the profile, as the resolver does).
    attachments: bool,
    /// Whether `seekQuestionnaireSubmission` is selected: written as `null` when the job ad has
    /// no questionnaire; otherwise the executor answers.
    questionnaire: bool,
}

#[derive(Debug)]
enum IdArgument {
    Variable(Name),
    Literal(String),
}

/// One selected field: its response key, what it is, and its own selection.
#[derive(Debug)]
struct Sel {
    /// The response key as JSON (quoted and escaped), written once per request.
    key: String,
    field: F,
    selection: Vec<Sel>,
}

/// The GraphQL types this module writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Profile,
    Identifier,
    Candidate,
    Person,
    PersonName,
    Communication,
    Phone,
    Email,
    Position,
    HiringOrganization,
    Employer,
    Organization,
    PositionHistory,
    Education,
    Degree,
    Certification,
    Period,
    Competency,
    Source,
    Address,
    AddressComponent,
    Attachment,
    /// An object written here only as `null` (a questionnaire submission when the job ad has
    /// none): its selection is never reached, and is not compiled.
    NullOnly,
    /// A list that is always empty (`positionPreferences`, `seekActions`): its selection is
    /// never reached.
    Empty,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Profile => "CandidateProfile",
            Ty::Identifier => "ObjectIdentifier",
            Ty::Candidate => "Candidate",
            Ty::Person => "CandidatePerson",
            Ty::PersonName => "PersonName",
            Ty::Communication => "Communication",
            Ty::Phone => "Phone",
            Ty::Email => "Email",
            Ty::Position => "PostedPositionProfile",
            Ty::HiringOrganization => "HiringOrganization",
            Ty::Employer => "EmployerHistory",
            Ty::Organization => "Organization",
            Ty::PositionHistory => "PositionHistory",
            Ty::Education => "EducationAttendance",
            Ty::Degree => "EducationDegree",
            Ty::Certification => "Certification",
            Ty::Period => "EffectiveTimePeriod",
            Ty::Competency => "PersonCompetency",
            Ty::Source => "CandidateSource",
            Ty::Address => "Address",
            Ty::AddressComponent => "AddressComponent",
            Ty::Attachment => "Attachment",
            Ty::NullOnly | Ty::Empty => "",
        }
    }
}

/// A field this module writes: `(type, field)` pairs of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    Typename(&'static str),
    ProfileId,
    CreateDateTime,
    UpdateDateTime,
    Candidate,
    AssociatedPositionProfile,
    Employment,
    Education,
    Certifications,
    Qualifications,
    CandidateSources,
    EmptyList,
    Value,
    DocumentId,
    Person,
    SeekPrimaryEmailAddress,
    PersonName,
    Communication,
    Given,
    Family,
    FormattedName,
    Phone,
    Email,
    SeekDoNotContactIndicator,
    FormattedNumber,
    Address,
    PositionOrganizations,
    PositionUri,
    PositionTitle,
    PositionProfileId,
    SeekHirerJobReference,
    SeekTypeCode,
    OrganizationId,
    OrganizationName,
    Organization,
    PositionHistories,
    Title,
    Start,
    End,
    Current,
    Descriptions,
    Institution,
    EducationDegrees,
    DegreeName,
    DegreeGrantedStatus,
    Date,
    CertificationName,
    Issued,
    IssueDate,
    EffectiveTimePeriod,
    IssuingAuthority,
    ValidTo,
    CompetencyName,
    SourceName,
    SourceType,
    Addresses,
    Line,
    City,
    PostalCode,
    CountryCode,
    FormattedAddress,
    CountrySubDivisions,
    ExtendedLines,
    ComponentType,
    ComponentValue,
    Attachments,
    AttachmentId,
    Url,
    SeekRoleCode,
    SeekQuestionnaireSubmission,
}

/// The field `name` of `ty`, with the type of its value when that is an object (or a list of
/// them); `None` when this module does not write it.
fn field(ty: Ty, name: &str) -> Option<(F, Option<Ty>)> {
    use F::*;
    if name == "__typename" {
        return Some((Typename(ty.name()), None));
    }
    Some(match (ty, name) {
        (Ty::Profile, "profileId") => (ProfileId, Some(Ty::Identifier)),
        (Ty::Profile, "createDateTime") => (CreateDateTime, None),
        (Ty::Profile, "updateDateTime") => (UpdateDateTime, None),
        (Ty::Profile, "candidate") => (Candidate, Some(Ty::Candidate)),
        (Ty::Profile, "associatedPositionProfile") => (AssociatedPositionProfile, Some(Ty::Position)),
        (Ty::Profile, "employment") => (Employment, Some(Ty::Employer)),
        (Ty::Profile, "education") => (Education, Some(Ty::Education)),
        (Ty::Profile, "certifications") => (Certifications, Some(Ty::Certification)),
        (Ty::Profile, "qualifications") => (Qualifications, Some(Ty::Competency)),
        (Ty::Profile, "candidateSources") => (CandidateSources, Some(Ty::Source)),
        (Ty::Profile, "positionPreferences" | "seekActions") => (EmptyList, Some(Ty::Empty)),
        (Ty::Profile, "attachments") => (Attachments, Some(Ty::Attachment)),
        (Ty::Profile, "seekQuestionnaireSubmission") => (SeekQuestionnaireSubmission, Some(Ty::NullOnly)),
        (Ty::Identifier, "value") => (Value, None),
        (Ty::Candidate, "documentId") => (DocumentId, Some(Ty::Identifier)),
        (Ty::Candidate, "person") => (Person, Some(Ty::Person)),
        (Ty::Candidate, "seekPrimaryEmailAddress") => (SeekPrimaryEmailAddress, None),
        (Ty::Person, "name") => (PersonName, Some(Ty::PersonName)),
        (Ty::Person, "communication") => (Communication, Some(Ty::Communication)),
        (Ty::PersonName, "given") => (Given, None),
        (Ty::PersonName, "family") => (Family, None),
        (Ty::PersonName, "formattedName") => (FormattedName, None),
        (Ty::Communication, "phone") => (Phone, Some(Ty::Phone)),
        (Ty::Communication, "email") => (Email, Some(Ty::Email)),
        (Ty::Communication, "seekDoNotContactIndicator") => (SeekDoNotContactIndicator, None),
        (Ty::Communication, "address") => (Addresses, Some(Ty::Address)),
        (Ty::Address, "line") => (Line, None),
        (Ty::Address, "city") => (City, None),
        (Ty::Address, "postalCode") => (PostalCode, None),
        (Ty::Address, "countryCode") => (CountryCode, None),
        (Ty::Address, "formattedAddress") => (FormattedAddress, None),
        (Ty::Address, "countrySubDivisions") => (CountrySubDivisions, Some(Ty::AddressComponent)),
        (Ty::Address, "extendedLines") => (ExtendedLines, Some(Ty::AddressComponent)),
        (Ty::AddressComponent, "type") => (ComponentType, None),
        (Ty::AddressComponent, "value") => (ComponentValue, None),
        (Ty::Attachment, "id") => (AttachmentId, Some(Ty::Identifier)),
        (Ty::Attachment, "url") => (Url, None),
        (Ty::Attachment, "seekRoleCode") => (SeekRoleCode, None),
        (Ty::Attachment, "descriptions") => (Descriptions, None),
        (Ty::Phone, "formattedNumber") => (FormattedNumber, None),
        (Ty::Email, "address") => (Address, None),
        (Ty::Position, "positionOrganizations") => (PositionOrganizations, Some(Ty::HiringOrganization)),
        (Ty::Position, "positionUri") => (PositionUri, None),
        (Ty::Position, "positionTitle") => (PositionTitle, None),
        (Ty::Position, "profileId") => (PositionProfileId, Some(Ty::Identifier)),
        (Ty::Position, "seekHirerJobReference") => (SeekHirerJobReference, None),
        (Ty::Position, "seekTypeCode") => (SeekTypeCode, None),
        (Ty::HiringOrganization, "id") => (OrganizationId, Some(Ty::Identifier)),
        (Ty::HiringOrganization, "name") => (OrganizationName, None),
        (Ty::Employer, "organization") => (Organization, Some(Ty::Organization)),
        (Ty::Employer, "positionHistories") => (PositionHistories, Some(Ty::PositionHistory)),
        (Ty::Organization, "name") => (OrganizationName, None),
        (Ty::PositionHistory, "title") => (Title, None),
        (Ty::PositionHistory, "start") => (Start, None),
        (Ty::PositionHistory, "end") => (End, None),
        (Ty::PositionHistory, "current") => (Current, None),
        (Ty::PositionHistory | Ty::Education | Ty::Certification, "descriptions") => (Descriptions, None),
        (Ty::Education, "institution") => (Institution, Some(Ty::Organization)),
        (Ty::Education, "educationDegrees") => (EducationDegrees, Some(Ty::Degree)),
        (Ty::Degree, "name") => (DegreeName, None),
        (Ty::Degree, "degreeGrantedStatus") => (DegreeGrantedStatus, None),
        (Ty::Degree, "date") => (Date, None),
        (Ty::Certification, "name") => (CertificationName, None),
        (Ty::Certification, "issued") => (Issued, None),
        (Ty::Certification, "issueDate") => (IssueDate, None),
        (Ty::Certification, "effectiveTimePeriod") => (EffectiveTimePeriod, Some(Ty::Period)),
        (Ty::Certification, "issuingAuthority") => (IssuingAuthority, Some(Ty::Organization)),
        (Ty::Period, "validTo") => (ValidTo, None),
        (Ty::Competency, "competencyName") => (CompetencyName, None),
        (Ty::Source, "name") => (SourceName, None),
        (Ty::Source, "type") => (SourceType, None),
        _ => return None,
    })
}

impl Plan {
    /// The plan of `doc`, when it is one query of `candidateProfile(id: …)` alone whose
    /// selection this module writes entirely; `None` otherwise (the executor answers).
    pub fn compile(doc: &ExecutableDocument) -> Option<Plan> {
        if !doc.fragments.is_empty() {
            return None;
        }
        let (operation, definition) = match &doc.operations {
            DocumentOperations::Single(op) => (None, op),
            DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                let (name, op) = ops.iter().next()?;
                (Some(name.clone()), op)
            }
            DocumentOperations::Multiple(_) => return None,
        };
        let definition = &definition.node;
        if definition.ty != OperationType::Query || !definition.directives.is_empty() {
            return None;
        }
        let [root] = definition.selection_set.node.items.as_slice() else { return None };
        let Selection::Field(root) = &root.node else { return None };
        let root = &root.node;
        if root.name.node != "candidateProfile" || !root.directives.is_empty() {
            return None;
        }
        let [(argument, value)] = root.arguments.as_slice() else { return None };
        if argument.node != "id" {
            return None;
        }
        // A variable comes back as the error (its name), a literal as the value.
        let id = match value.node.clone().into_const_with(Err::<Value, Name>) {
            Err(variable) => IdArgument::Variable(variable),
            Ok(Value::String(id)) => IdArgument::Literal(id),
            Ok(_) => return None,
        };
        let selection = selection(Ty::Profile, &root.selection_set.node)?;
        let selects = |f: F| selection.iter().any(|sel| sel.field == f);
        Some(Plan {
            operation,
            key: json_string(root.response_key().node.as_str()),
            id,
            attachments: selects(F::Attachments),
            questionnaire: selects(F::SeekQuestionnaireSubmission),
            selection,
        })
    }

    /// Whether a request naming `operation_name` runs this plan's operation.
    pub fn runs(&self, operation_name: Option<&str>) -> bool {
        match (&self.operation, operation_name) {
            (_, None) => true,
            (Some(name), Some(wanted)) => name.as_str() == wanted,
            (None, Some(_)) => false,
        }
    }
}

/// The selection of an object of type `ty`: every field written by this module, without
/// arguments or directives, each response key once (the executor merges repeated keys).
fn selection(ty: Ty, set: &SelectionSet) -> Option<Vec<Sel>> {
    let mut keys = HashSet::new();
    let mut out = Vec::with_capacity(set.items.len());
    for item in &set.items {
        let Selection::Field(f) = &item.node else { return None };
        let f = &f.node;
        if !f.arguments.is_empty() || !f.directives.is_empty() {
            return None;
        }
        let key = f.response_key().node.as_str();
        if !keys.insert(key) {
            return None;
        }
        let (field, child) = field(ty, f.name.node.as_str())?;
        let selection = match child {
            None if f.selection_set.node.items.is_empty() => Vec::new(),
            None => return None,
            Some(Ty::Empty | Ty::NullOnly) => Vec::new(),
            Some(child) => selection(child, &f.selection_set.node)?,
        };
        out.push(Sel { key: json_string(key), field, selection });
    }
    Some(out)
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// What the direct writer did with a request.
pub enum Outcome {
    /// The whole JSON answer.
    Answered(Vec<u8>),
    /// Left to the executor (see the module's documentation), with the profile read already
    /// made for it, if any: the resolver uses it instead of reading again.
    Declined(Option<ProfileForPartner>),
}

/// The JSON answer to a request running `plan`, or the executor's turn (see the module's
/// documentation). Reads the profile with the partner's grant in one statement.
pub async fn answer(state: &AppState, plan: &Plan, token: &VerifiedToken, variables: &Variables) -> Outcome {
    if !token.is_partner() {
        return Outcome::Declined(None);
    }
    let id = match &plan.id {
        IdArgument::Variable(name) => match variables.get(name.as_str()) {
            Some(Value::String(id)) => id.as_str(),
            _ => return Outcome::Declined(None),
        },
        IdArgument::Literal(id) => id.as_str(),
    };
    let Ok(id) = CandidateProfileId::parse_kind(id, IdKind::CandidateProfile) else {
        return Outcome::Declined(None);
    };
    let found = match state.store.get_profile_for_partner(&id, &token.partner_id).await {
        Ok(found) => found,
        Err(_) => return Outcome::Declined(None),
    };
    let answerable = found.as_ref().is_some_and(|(profile, grant)| {
        !token.is_revoked_by(grant.tokens_not_before)
            && grant.relationships.contains(RelationshipType::ApplicationExport)
            && !(plan.questionnaire && profile.position.questionnaire.is_some())
    });
    let declined = |found| {
        Outcome::Declined(Some(ProfileForPartner {
            profile_id: id.clone(),
            partner_id: token.partner_id.clone(),
            found,
        }))
    };
    let Some((profile, _)) = found.as_ref().filter(|_| answerable) else {
        return declined(found);
    };
    let attachments = match plan.attachments {
        true => match state.store.profile_attachments(&profile.profile_id).await {
            Ok(attachments) => attachments,
            Err(_) => return declined(found),
        },
        false => Vec::new(),
    };
    let answer = Answer { state, profile, attachments: &attachments };
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"data\":{");
    out.extend_from_slice(plan.key.as_bytes());
    out.push(b':');
    write_profile(&mut out, &plan.selection, &answer);
    out.extend_from_slice(b"}}");
    Outcome::Answered(out)
}

// --- writing --------------------------------------------------------------------------------

/// Writes an object: `{"key":value,…}` in selection order, each value by `value`.
fn object<T: ?Sized>(out: &mut Vec<u8>, selection: &[Sel], of: &T, value: fn(&mut Vec<u8>, &Sel, &T)) {
    out.push(b'{');
    for (i, sel) in selection.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(sel.key.as_bytes());
        out.push(b':');
        value(out, sel, of);
    }
    out.push(b'}');
}

/// Writes a list of objects.
fn list<T>(out: &mut Vec<u8>, selection: &[Sel], items: &[T], value: fn(&mut Vec<u8>, &Sel, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        object(out, selection, item, value);
    }
    out.push(b']');
}

fn string(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes as the executor's serialisation does (it is the same serialiser).
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"null");
    }
}

fn opt_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn opt_bool(out: &mut Vec<u8>, b: Option<bool>) {
    out.extend_from_slice(match b {
        Some(true) => b"true",
        Some(false) => b"false",
        None => b"null",
    });
}

fn strings(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s);
    }
    out.push(b']');
}

fn identifier(out: &mut Vec<u8>, selection: &[Sel], id: &str) {
    object(out, selection, id, |out, sel, id| match sel.field {
        F::Value => string(out, id),
        other => typename(out, other),
    });
}

/// `__typename`, the one field every type has; any other field was refused by [`selection`]
/// for that type, so a writer never meets it.
fn typename(out: &mut Vec<u8>, field: F) {
    match field {
        F::Typename(name) => string(out, name),
        _ => out.extend_from_slice(b"null"),
    }
}

/// What a profile's answer is written from.
struct Answer<'a> {
    state: &'a AppState,
    profile: &'a ProfileView,
    attachments: &'a [Attachment],
}

fn write_profile(out: &mut Vec<u8>, selection: &[Sel], answer: &Answer<'_>) {
    object(out, selection, answer, |out, sel, answer| match sel.field {
        F::Attachments => {
            out.push(b'[');
            for (i, attachment) in answer.attachments.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_attachment(out, &sel.selection, answer.state, attachment);
            }
            out.push(b']');
        }
        F::SeekQuestionnaireSubmission => out.extend_from_slice(b"null"),
        _ => write_stored(out, sel, answer.profile),
    });
}

fn write_attachment(out: &mut Vec<u8>, selection: &[Sel], state: &AppState, attachment: &Attachment) {
    object(out, selection, &(state, attachment), |out, sel, (state, a)| match sel.field {
        F::AttachmentId => identifier(out, &sel.selection, a.meta.id.as_str()),
        F::Url => string(out, &attachment_url(&state.public_url, &state.scheme, &a.profile_id, &a.meta.id)),
        F::SeekRoleCode => opt_string(out, a.meta.seek_role_code.as_deref()),
        F::Descriptions => strings(out, &a.meta.descriptions),
        other => typename(out, other),
    });
}

/// A field of the profile read itself.
fn write_stored(out: &mut Vec<u8>, sel: &Sel, p: &ProfileView) {
    match sel.field {
        F::ProfileId => identifier(out, &sel.selection, p.profile_id.as_str()),
        F::CreateDateTime => string(out, &format_rfc3339_ms(&p.created_at)),
        F::UpdateDateTime => string(out, &format_rfc3339_ms(&p.updated_at)),
        F::Candidate => object(out, &sel.selection, &*p.candidate, |out, sel, c| match sel.field {
            F::DocumentId => identifier(out, &sel.selection, c.id.as_str()),
            F::Person => write_person(out, &sel.selection, &c.person),
            F::SeekPrimaryEmailAddress => out.extend_from_slice(b"null"),
            other => typename(out, other),
        }),
        F::AssociatedPositionProfile => object(out, &sel.selection, &*p.position, |out, sel, pos| match sel.field {
            F::PositionOrganizations => {
                out.push(b'[');
                object(out, &sel.selection, pos, |out, sel, pos| match sel.field {
                    F::OrganizationId => identifier(out, &sel.selection, pos.hirer_id.as_str()),
                    F::OrganizationName => string(out, &pos.hirer_name),
                    other => typename(out, other),
                });
                out.push(b']');
            }
            F::PositionUri => string(out, &pos.position_uri),
            F::PositionTitle => string(out, &pos.title),
            F::PositionProfileId => identifier(out, &sel.selection, pos.profile_id.as_str()),
            F::SeekHirerJobReference => opt_string(out, pos.seek_hirer_job_reference.as_deref()),
            F::SeekTypeCode => string(out, "Posted"),
            other => typename(out, other),
        }),
        F::Employment => list(out, &sel.selection, &p.snapshot.employment, write_employer),
        F::Education => list(out, &sel.selection, &p.snapshot.education, write_education),
        F::Certifications => list(out, &sel.selection, &p.snapshot.certifications, write_certification),
        F::Qualifications => list(out, &sel.selection, &p.snapshot.qualifications, |out, sel, q| match sel.field {
            F::CompetencyName => string(out, &q.competency_name),
            other => typename(out, other),
        }),
        F::CandidateSources => list(out, &sel.selection, &p.candidate_sources, |out, sel, s| match sel.field {
            F::SourceName => string(out, &s.name),
            F::SourceType => string(out, &s.kind),
            other => typename(out, other),
        }),
        F::EmptyList => out.extend_from_slice(b"[]"),
        other => typename(out, other),
    }
}

fn write_person(out: &mut Vec<u8>, selection: &[Sel], person: &candex_domain::Person) {
    object(out, selection, person, |out, sel, person| match sel.field {
        F::PersonName => object(out, &sel.selection, &person.name, |out, sel, n| match sel.field {
            F::Given => opt_string(out, n.given.as_deref()),
            F::Family => opt_string(out, n.family.as_deref()),
            F::FormattedName => string(out, &n.formatted_name),
            other => typename(out, other),
        }),
        F::Communication => object(out, &sel.selection, &person.communication, |out, sel, c| match sel.field {
            F::Phone => list(out, &sel.selection, &c.phone, |out, sel, phone| match sel.field {
                F::FormattedNumber => string(out, &phone.formatted_number),
                other => typename(out, other),
            }),
            F::Email => list(out, &sel.selection, &c.email, |out, sel, email| match sel.field {
                F::Address => string(out, &email.address),
                other => typename(out, other),
            }),
            F::SeekDoNotContactIndicator => opt_bool(out, c.seek_do_not_contact_indicator),
            F::Addresses => list(out, &sel.selection, &c.address, write_address),
            other => typename(out, other),
        }),
        other => typename(out, other),
    });
}

fn write_address(out: &mut Vec<u8>, sel: &Sel, a: &candex_domain::person::Address) {
    let components = |out: &mut Vec<u8>, items: &[candex_domain::person::AddressComponent]| {
        list(out, &sel.selection, items, |out, sel, c| match sel.field {
            F::ComponentType => string(out, &c.kind),
            F::ComponentValue => string(out, &c.value),
            other => typename(out, other),
        })
    };
    match sel.field {
        F::Line => opt_string(out, a.line.as_deref()),
        F::City => opt_string(out, a.city.as_deref()),
        F::PostalCode => opt_string(out, a.postal_code.as_deref()),
        F::CountryCode => opt_string(out, a.country_code.as_deref()),
        F::FormattedAddress => opt_string(out, a.formatted_address.as_deref()),
        F::CountrySubDivisions => components(out, &a.country_sub_divisions),
        F::ExtendedLines => components(out, &a.extended_lines),
        other => typename(out, other),
    }
}

fn write_organization(out: &mut Vec<u8>, selection: &[Sel], organization: &d::Organization) {
    object(out, selection, organization, |out, sel, o| match sel.field {
        F::OrganizationName => string(out, &o.name),
        other => typename(out, other),
    });
}

fn write_employer(out: &mut Vec<u8>, sel: &Sel, e: &d::EmployerHistory) {
    match sel.field {
        F::Organization => write_organization(out, &sel.selection, &e.organization),
        F::PositionHistories => list(out, &sel.selection, &e.position_histories, |out, sel, h| match sel.field {
            F::Title => string(out, &h.title),
            F::Start => string(out, h.start.as_str()),
            F::End => opt_string(out, h.end.as_ref().map(|d| d.as_str())),
            F::Current => opt_bool(out, h.current),
            F::Descriptions => strings(out, &h.descriptions),
            other => typename(out, other),
        }),
        other => typename(out, other),
    }
}

fn write_education(out: &mut Vec<u8>, sel: &Sel, e: &d::EducationAttendance) {
    match sel.field {
        F::Institution => write_organization(out, &sel.selection, &e.institution),
        F::EducationDegrees => list(out, &sel.selection, &e.education_degrees, |out, sel, g| match sel.field {
            F::DegreeName => string(out, &g.name),
            F::DegreeGrantedStatus => string(out, &g.degree_granted_status),
            F::Date => opt_string(out, g.date.as_ref().map(|d| d.as_str())),
            other => typename(out, other),
        }),
        F::Descriptions => strings(out, &e.descriptions),
        other => typename(out, other),
    }
}

fn write_certification(out: &mut Vec<u8>, sel: &Sel, c: &d::Certification) {
    match sel.field {
        F::CertificationName => string(out, &c.name),
        F::Issued | F::IssueDate => opt_string(out, c.issued.as_ref().map(|d| d.as_str())),
        F::EffectiveTimePeriod => match &c.effective_time_period {
            Some(period) => object(out, &sel.selection, period, |out, sel, p| match sel.field {
                F::ValidTo => opt_string(out, p.valid_to.as_ref().map(|d| d.as_str())),
                other => typename(out, other),
            }),
            None => out.extend_from_slice(b"null"),
        },
        F::IssuingAuthority => match &c.issuing_authority {
            Some(o) => write_organization(out, &sel.selection, o),
            None => out.extend_from_slice(b"null"),
        },
        F::Descriptions => strings(out, &c.descriptions),
        other => typename(out, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(query: &str) -> Option<Plan> {
        Plan::compile(&async_graphql::parser::parse_query(query).expect("parses"))
    }

    #[test]
    fn the_seed_query_compiles() {
        let plan = plan(crate::graphql::SEED_QUERY).expect("the seed query is answered directly");
        assert!(plan.runs(None));
        assert!(!plan.runs(Some("Other")), "an anonymous operation has no name to run by");
    }

    #[test]
    fn what_the_writer_does_not_cover_is_left_to_the_executor() {
        for query in [
            "query ($id: String!) { candidateProfile(id: $id) { attachments { seekRole } } }",
            "query ($id: String!) { candidateProfile(id: $id) { seekQuestionnaireSubmission @include(if: true) { score } } }",
            "query ($id: String!) { candidateProfile(id: $id) { candidate { profiles { profileId { value } } } } }",
            "query ($id: String!) { candidateProfile(id: $id) { candidate { person { communication { address { geoLocation { latitude } } } } } } }",
            "query ($id: String!) { candidateProfile(id: $id) { ...P } } fragment P on CandidateProfile { profileId { value } }",
            "query ($id: String!) { candidateProfile(id: $id) { ... on CandidateProfile { profileId { value } } } }",
            "query ($id: String!, $s: Boolean!) { candidateProfile(id: $id) { profileId @skip(if: $s) { value } } }",
            "query ($id: String!) { candidateProfile(id: $id) { profileId { value } profileId { value } } }",
            "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } version }",
            "query ($id: String!) { version candidateProfile(id: $id) { profileId { value } } }",
            "query A ($id: String!) { candidateProfile(id: $id) { profileId { value } } } query B { version }",
            "mutation { version }",
        ] {
            assert!(plan(query).is_none(), "{query}");
        }
    }

    #[test]
    fn the_exporters_query_compiles_with_what_it_reads_after_the_profile() {
        // `candex export`'s query (candex-client's `CANDIDATE_PROFILE_QUERY`).
        let exporter = include_str!("../../../candex-client/graphql/candidate_profile.graphql");
        let export = plan(exporter).expect("the exporter's query is answered directly");
        assert!(export.attachments && export.questionnaire);
        let seed = plan(crate::graphql::SEED_QUERY).expect("compiles");
        assert!(!seed.attachments && !seed.questionnaire, "the seed query reads the profile alone");
    }

    #[test]
    fn aliases_typenames_literals_and_names_are_written() {
        let plan = plan(
            r#"query Named { p: candidateProfile(id: "x") { __typename id: profileId { v: value } n: candidate { __typename } } }"#,
        )
        .expect("compiles");
        assert_eq!(plan.key, "\"p\"");
        assert!(matches!(&plan.id, IdArgument::Literal(id) if id == "x"));
        assert!(plan.runs(Some("Named")) && plan.runs(None) && !plan.runs(Some("Other")));
        assert_eq!(plan.selection[0].field, F::Typename("CandidateProfile"));
        assert_eq!(plan.selection[1].key, "\"id\"");
        assert_eq!(plan.selection[1].selection[0].key, "\"v\"");
    }
}
