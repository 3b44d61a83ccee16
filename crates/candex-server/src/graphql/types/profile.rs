//! `CandidateProfile`, `Candidate` and the snapshot types they expose.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, SimpleObject};
use candex_domain::snapshot as d;
use candex_store::ProfileView;

use super::common::{ObjectIdentifier, Organization, WebUrl};
use super::person::{Address, CandidatePerson};
use super::position::{PositionOpening, PositionProfile};
use super::process::CandidateProcessHistoryItemConnection;
use super::questionnaire::ApplicationQuestionnaireSubmission;
use crate::graphql::access::Access;
use crate::graphql::error::{bad_user_input, internal};
use crate::graphql::prefetch::{self, Prefetched};
use crate::graphql::scalars::{DateTime, HistoryDate};
use crate::graphql::SchemaContext;

/// Most profiles `Candidate.profiles` returns, as SEEK documents.
const MAX_CANDIDATE_PROFILES: u32 = 10;

/// `CandidateProfile`: one application; snapshot fields plus the live candidate.
pub struct CandidateProfile(pub Arc<ProfileView>);

#[Object]
impl CandidateProfile {
    #[graphql(deprecation = "Use associatedPositionProfile")]
    async fn associated_position_openings(&self) -> Vec<AssociatedPositionOpening> {
        let position = &self.0.position;
        vec![AssociatedPositionOpening {
            candidate_applied_indicator: Some(true),
            position_opening: PositionOpening(position.clone()),
            position_opening_id: (&position.opening_id).into(),
            position_uri: position.position_uri.clone(),
        }]
    }

    async fn associated_position_profile(&self) -> Option<PositionProfile> {
        Some(PositionProfile::posted(self.0.position.clone()))
    }

    /// Loaded only when selected: one statement for all of the profile's attachments.
    async fn attachments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attachment>> {
        let context = ctx.data_unchecked::<SchemaContext>();
        let prefetched = ctx.data_opt::<Prefetched>().and_then(|p| p.attachments(&self.0.profile_id));
        let rows = match prefetched {
            Some(rows) => rows,
            None => context.store.profile_attachments(&self.0.profile_id).await.map_err(internal)?,
        };
        Ok(rows.into_iter().map(|a| Attachment::from_row(context, a)).collect())
    }

    async fn candidate(&self) -> Candidate {
        Candidate(self.0.candidate.clone())
    }

    async fn candidate_sources(&self) -> Vec<CandidateSource> {
        self.0
            .candidate_sources
            .iter()
            .map(|s| CandidateSource { name: s.name.clone(), kind: s.kind.clone() })
            .collect()
    }

    async fn certifications(&self) -> Vec<Certification> {
        self.0.snapshot.certifications.iter().map(Into::into).collect()
    }

    async fn create_date_time(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    async fn education(&self) -> Vec<EducationAttendance> {
        self.0.snapshot.education.iter().map(Into::into).collect()
    }

    async fn employment(&self) -> Vec<EmployerHistory> {
        self.0.snapshot.employment.iter().map(Into::into).collect()
    }

    async fn position_preferences(&self) -> Vec<PositionPreference> {
        Vec::new()
    }

    async fn profile_id(&self) -> ObjectIdentifier {
        (&self.0.profile_id).into()
    }

    async fn qualifications(&self) -> Vec<PersonCompetency> {
        self.0
            .snapshot
            .qualifications
            .iter()
            .map(|q| PersonCompetency { competency_name: q.competency_name.clone() })
            .collect()
    }

    async fn seek_actions(&self) -> Vec<CandidateProcessAction> {
        Vec::new()
    }

    /// Process history: null for applications, as at SEEK (which keeps it for uploaded
    /// candidates only), unless `--process-history-on-applications` is on; then the profile's
    /// items in recording order, default 10 and at most 20 per page.
    #[graphql(complexity = "crate::graphql::process_history::history_complexity(first, child_complexity)")]
    async fn seek_process_history(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Option<CandidateProcessHistoryItemConnection>> {
        if !ctx.data_unchecked::<SchemaContext>().process_history_on_applications {
            return Ok(None);
        }
        crate::graphql::process_history::history_page(ctx, &self.0, after, first).await.map(Some)
    }

    /// The candidate's answers to the job ad's questionnaire: null when the job ad had none or
    /// the application gave no responses. One statement, only when selected and only when the
    /// job ad has a questionnaire.
    async fn seek_questionnaire_submission(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ApplicationQuestionnaireSubmission>> {
        if self.0.position.questionnaire.is_none() {
            return Ok(None);
        }
        let store = &ctx.data_unchecked::<SchemaContext>().store;
        let submission = match ctx.data_opt::<Prefetched>().and_then(|p| p.submission(&self.0.profile_id)) {
            Some(prefetched) => prefetched,
            None => store.questionnaire_submission(&self.0.profile_id).await.map_err(internal)?,
        };
        Ok(submission.map(|s| ApplicationQuestionnaireSubmission::build(&s, &self.0.position)))
    }

    async fn update_date_time(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}

/// `Candidate`: one person at one hirer, with live person data.
pub struct Candidate(pub Arc<candex_store::Candidate>);

#[Object]
impl Candidate {
    async fn distribution_guidelines(&self) -> DistributionGuidelines {
        DistributionGuidelines { seek_product_codes: Vec::new() }
    }

    async fn document_id(&self) -> ObjectIdentifier {
        (&self.0.id).into()
    }

    async fn person(&self) -> CandidatePerson {
        (&self.0.person).into()
    }

    /// The candidate's most recent profiles at this hirer (at most 10), oldest first.
    ///
    /// Each returned profile can reach `candidate.profiles` again, so the cost of the
    /// selection is multiplied by the number of profiles it may return: without that, a
    /// query nesting `candidate { profiles { candidate { profiles … } } }` would pass the
    /// complexity limit while fanning out to 10^n store reads.
    #[graphql(complexity = "profiles_complexity(last, child_complexity)")]
    async fn profiles(&self, ctx: &Context<'_>, last: Option<i32>) -> async_graphql::Result<Vec<CandidateProfile>> {
        let last = match last {
            None => MAX_CANDIDATE_PROFILES,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_CANDIDATE_PROFILES)
                .ok_or_else(|| bad_user_input("/last", format!("must be between 0 and {MAX_CANDIDATE_PROFILES}")))?,
        };
        ctx.data_unchecked::<Access>().charge_nested_load()?;
        let store = &ctx.data_unchecked::<SchemaContext>().store;
        let profiles = store.candidate_profiles(&self.0.id, last).await.map_err(internal)?;
        let ids: Vec<_> = profiles.iter().map(|p| p.profile_id.clone()).collect();
        prefetch::profile_details(ctx, &ctx.look_ahead(), &ids).await?;
        Ok(profiles.into_iter().map(|p| CandidateProfile(Arc::new(p))).collect())
    }

    async fn seek_primary_email_address(&self) -> Option<String> {
        None
    }
}

/// The complexity of `Candidate.profiles(last)`: each of up to `last` profiles costs its selection.
fn profiles_complexity(last: Option<i32>, child_complexity: usize) -> usize {
    let count = last.map_or(MAX_CANDIDATE_PROFILES, |n| u32::try_from(n).unwrap_or(0).min(MAX_CANDIDATE_PROFILES));
    (count.max(1) as usize).saturating_mul(child_complexity).saturating_add(1)
}

/// `DistributionGuidelines`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DistributionGuidelines {
    /// SEEK product codes.
    pub seek_product_codes: Vec<String>,
}

/// `AssociatedPositionOpening` (deprecated by SEEK in favour of `associatedPositionProfile`).
#[derive(SimpleObject)]
pub struct AssociatedPositionOpening {
    /// Whether the candidate applied.
    pub candidate_applied_indicator: Option<bool>,
    /// The opening.
    pub position_opening: PositionOpening,
    /// The opening's id.
    pub position_opening_id: ObjectIdentifier,
    /// The job ad's URI.
    pub position_uri: String,
}

/// `Attachment`.
#[derive(Debug, Clone, SimpleObject)]
pub struct Attachment {
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// Attachment id.
    pub id: ObjectIdentifier,
    /// Deprecated role.
    #[graphql(deprecation = "Use seekRoleCode")]
    pub seek_role: Option<SeekAttachmentRole>,
    /// `Resume`, `CoverLetter`, `SelectionCriteria` or null.
    pub seek_role_code: Option<String>,
    /// Absolute download URL.
    pub url: String,
}

impl Attachment {
    fn from_row(context: &SchemaContext, a: candex_store::Attachment) -> Self {
        let url = crate::attachments::download::attachment_url(
            &context.public_url,
            &context.scheme,
            &a.profile_id,
            &a.meta.id,
        );
        let seek_role = match a.meta.seek_role_code.as_deref() {
            Some("CoverLetter") => Some(SeekAttachmentRole::CoverLetter),
            Some("Resume") => Some(SeekAttachmentRole::Resume),
            Some("SelectionCriteria") => Some(SeekAttachmentRole::SelectionCriteria),
            _ => None,
        };
        Self {
            descriptions: a.meta.descriptions,
            id: (&a.meta.id).into(),
            seek_role,
            seek_role_code: a.meta.seek_role_code,
            url,
        }
    }
}

/// `SeekAttachmentRole` (deprecated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SeekAttachmentRole {
    /// Cover letter.
    #[graphql(deprecation = "Use Attachment.seekRoleCode")]
    CoverLetter,
    /// Resume.
    #[graphql(deprecation = "Use Attachment.seekRoleCode")]
    Resume,
    /// Selection criteria.
    #[graphql(deprecation = "Use Attachment.seekRoleCode")]
    SelectionCriteria,
}

/// `CandidateSource`.
#[derive(Debug, Clone, SimpleObject)]
pub struct CandidateSource {
    /// Source name.
    pub name: String,
    /// Source type code.
    #[graphql(name = "type")]
    pub kind: String,
}

/// `EmployerHistory`.
#[derive(Debug, Clone, SimpleObject)]
pub struct EmployerHistory {
    /// The employer.
    pub organization: Organization,
    /// Positions held.
    pub position_histories: Vec<PositionHistory>,
}

impl From<&d::EmployerHistory> for EmployerHistory {
    fn from(e: &d::EmployerHistory) -> Self {
        Self {
            organization: (&e.organization).into(),
            position_histories: e
                .position_histories
                .iter()
                .map(|h| PositionHistory {
                    current: h.current,
                    descriptions: h.descriptions.clone(),
                    end: h.end.clone().map(HistoryDate),
                    start: HistoryDate(h.start.clone()),
                    title: h.title.clone(),
                })
                .collect(),
        }
    }
}

/// `PositionHistory`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PositionHistory {
    /// Current role.
    pub current: Option<bool>,
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// End date.
    pub end: Option<HistoryDate>,
    /// Start date.
    pub start: HistoryDate,
    /// Title.
    pub title: String,
}

/// `EducationAttendance`.
#[derive(Debug, Clone, SimpleObject)]
pub struct EducationAttendance {
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// Degrees.
    pub education_degrees: Vec<EducationDegree>,
    /// The institution.
    pub institution: Organization,
}

impl From<&d::EducationAttendance> for EducationAttendance {
    fn from(e: &d::EducationAttendance) -> Self {
        Self {
            descriptions: e.descriptions.clone(),
            education_degrees: e
                .education_degrees
                .iter()
                .map(|g| EducationDegree {
                    date: g.date.clone().map(HistoryDate),
                    degree_granted_status: g.degree_granted_status.clone(),
                    name: g.name.clone(),
                })
                .collect(),
            institution: (&e.institution).into(),
        }
    }
}

/// `EducationDegree`.
#[derive(Debug, Clone, SimpleObject)]
pub struct EducationDegree {
    /// Completion date.
    pub date: Option<HistoryDate>,
    /// `Granted` or `InProgress`.
    pub degree_granted_status: String,
    /// Degree name.
    pub name: String,
}

/// `Certification`.
#[derive(Debug, Clone, SimpleObject)]
pub struct Certification {
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// Validity.
    pub effective_time_period: Option<EffectiveTimePeriod>,
    /// Deprecated issue date.
    #[graphql(deprecation = "Use `issued`.")]
    pub issue_date: Option<HistoryDate>,
    /// Issue date.
    pub issued: Option<HistoryDate>,
    /// Issuer.
    pub issuing_authority: Option<Organization>,
    /// Name.
    pub name: String,
}

impl From<&d::Certification> for Certification {
    fn from(c: &d::Certification) -> Self {
        Self {
            descriptions: c.descriptions.clone(),
            effective_time_period: c
                .effective_time_period
                .as_ref()
                .map(|p| EffectiveTimePeriod { valid_to: p.valid_to.clone().map(HistoryDate) }),
            issue_date: c.issued.clone().map(HistoryDate),
            issued: c.issued.clone().map(HistoryDate),
            issuing_authority: c.issuing_authority.as_ref().map(Into::into),
            name: c.name.clone(),
        }
    }
}

/// `EffectiveTimePeriod`.
#[derive(Debug, Clone, SimpleObject)]
pub struct EffectiveTimePeriod {
    /// Expiry.
    pub valid_to: Option<HistoryDate>,
}

/// `PersonCompetency`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PersonCompetency {
    /// The skill.
    pub competency_name: String,
}

/// `PositionPreference` (always empty for applications).
#[derive(Debug, Clone, SimpleObject)]
pub struct PositionPreference {
    /// Preferred locations.
    pub locations: Vec<PreferredLocation>,
}

/// `PreferredLocation`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PreferredLocation {
    /// The location.
    pub reference_location: Address,
}

/// `CandidateProcessAction`.
#[derive(Debug, Clone, SimpleObject)]
pub struct CandidateProcessAction {
    /// Action code.
    pub code: String,
    /// Description.
    pub description: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Link on SEEK.
    pub seek_url: Option<WebUrl>,
}
