//! Job ads: the `PositionProfile` interface with `PostedPositionProfile` (what candex serves)
//! and `UnpostedPositionProfile` (schema-compatible, never produced), `PositionOpening`, and the
//! job-posting types they reach. Job-posting-only fields resolve to empty values
//! (see docs/compatibility.md).

use std::sync::Arc;

use async_graphql::{Context, Interface, Object, SimpleObject};
use candex_store::{Position, PositionStatus};
use chrono::Duration;

use super::common::{Email, ObjectIdentifier, WebUrl};
use super::organization::HiringOrganization;
use super::person::SpecifiedPerson;
use super::questionnaire::ApplicationQuestionnaire;
use crate::graphql::access::Access;
use crate::graphql::error::forbidden;
use crate::graphql::relay::PageInfo;
use crate::graphql::scalars::DateTime;

/// Days a job ad is advertised for when it has not been closed (the `end` of its posting).
const DEFAULT_AD_DAYS: i64 = 30;

/// The `PositionProfile` interface.
#[expect(
    clippy::duplicated_attributes,
    reason = "async-graphql lists one `field(name, ty)` per field; equal `ty`s are not duplicates"
)]
#[derive(Interface)]
#[graphql(
    field(name = "job_categories", ty = "Vec<JobCategory>"),
    field(name = "offered_remuneration_package", ty = "RemunerationPackage"),
    field(name = "position_formatted_descriptions", ty = "Vec<PositionFormattedDescription>"),
    field(name = "position_location", ty = "Vec<Location>"),
    field(name = "position_opening", ty = "PositionOpening"),
    field(name = "position_organizations", ty = "Vec<HiringOrganization>"),
    field(name = "position_schedule_type_codes", ty = "Option<Vec<String>>"),
    field(name = "position_title", ty = "String"),
    field(name = "position_uri", ty = "String"),
    field(name = "posting_instructions", ty = "Vec<PostingInstruction>"),
    field(name = "profile_id", ty = "ObjectIdentifier"),
    field(name = "seek_anz_work_type_code", ty = "Option<String>"),
    field(name = "seek_application_questionnaire", ty = "Option<ApplicationQuestionnaire>"),
    field(name = "seek_billing_reference", ty = "Option<String>"),
    field(name = "seek_created_by_self_indicator", ty = "Option<bool>"),
    field(name = "seek_hirer_job_reference", ty = "Option<String>"),
    field(name = "seek_partner_metadata", ty = "Option<String>"),
    field(name = "seek_type_code", ty = "String"),
    field(name = "seek_video", ty = "Option<SeekVideo>")
)]
pub enum PositionProfile {
    /// A job ad.
    Posted(PostedPositionProfile),
    /// An internal requisition (never produced by candex).
    Unposted(UnpostedPositionProfile),
}

impl PositionProfile {
    /// A posted profile over a stored job ad.
    pub fn posted(position: Arc<Position>) -> Self {
        Self::Posted(PostedPositionProfile(position))
    }
}

/// `PostedPositionProfile`: a job ad.
pub struct PostedPositionProfile(pub Arc<Position>);

/// `UnpostedPositionProfile`: part of SEEK's schema for proactive sourcing; candex has none.
pub struct UnpostedPositionProfile(pub Arc<Position>);

macro_rules! position_profile_object {
    ($ty:ident, $type_code:expr, { $($extra:tt)* }) => {
        #[Object]
        impl $ty {
            async fn job_categories(&self) -> Vec<JobCategory> {
                job_categories(&self.0)
            }
            async fn offered_remuneration_package(&self) -> RemunerationPackage {
                RemunerationPackage { basis_code: "Salaried".into(), descriptions: Vec::new(), ranges: Vec::new() }
            }
            async fn position_formatted_descriptions(&self) -> Vec<PositionFormattedDescription> {
                formatted_descriptions(&self.0)
            }
            async fn position_location(&self) -> Vec<Location> {
                locations(&self.0)
            }
            /// Browser tokens reach job ads but not their openings, as at SEEK.
            async fn position_opening(&self, ctx: &Context<'_>) -> async_graphql::Result<PositionOpening> {
                if ctx.data_unchecked::<Access>().bound_hirer().is_some() {
                    return Err(forbidden("A browser token cannot read position openings; use a partner token"));
                }
                Ok(PositionOpening(self.0.clone()))
            }
            async fn position_organizations(&self) -> Vec<HiringOrganization> {
                vec![HiringOrganization::new(self.0.hirer_id.clone(), self.0.hirer_name.clone())]
            }
            async fn position_schedule_type_codes(&self) -> Option<Vec<String>> {
                self.0.details.work_type_code.clone().map(|c| vec![c])
            }
            async fn position_title(&self) -> String {
                self.0.title.clone()
            }
            async fn position_uri(&self) -> String {
                self.0.position_uri.clone()
            }
            async fn posting_instructions(&self) -> Vec<PostingInstruction> {
                posting_instructions(&self.0)
            }
            async fn profile_id(&self) -> ObjectIdentifier {
                (&self.0.profile_id).into()
            }
            async fn seek_anz_work_type_code(&self) -> Option<String> {
                self.0.details.work_type_code.clone()
            }
            async fn seek_application_questionnaire(&self) -> Option<ApplicationQuestionnaire> {
                ApplicationQuestionnaire::of_position(&self.0)
            }
            async fn seek_billing_reference(&self) -> Option<String> {
                None
            }
            /// Job ads come from the operator, never from the requesting partner.
            async fn seek_created_by_self_indicator(&self) -> Option<bool> {
                Some(false)
            }
            async fn seek_hirer_job_reference(&self) -> Option<String> {
                self.0.seek_hirer_job_reference.clone()
            }
            async fn seek_partner_metadata(&self) -> Option<String> {
                None
            }
            async fn seek_type_code(&self) -> String {
                $type_code.to_owned()
            }
            async fn seek_video(&self) -> Option<SeekVideo> {
                None
            }
            $($extra)*
        }
    };
}

position_profile_object!(PostedPositionProfile, "Posted", {
    async fn seek_application_uri(&self) -> Option<WebUrl> {
        None
    }
});

position_profile_object!(UnpostedPositionProfile, "Unposted", {
    async fn profile_name(&self) -> Option<String> {
        None
    }
});

fn job_categories(p: &Position) -> Vec<JobCategory> {
    match (&p.job_category_id, &p.details.job_category_name) {
        (Some(id), Some(name)) => vec![JobCategory { children: None, id: id.into(), name: name.clone(), parent: None }],
        _ => Vec::new(),
    }
}

fn locations(p: &Position) -> Vec<Location> {
    match (&p.location_id, &p.details.location) {
        (Some(id), Some(place)) => {
            let currencies = match place.country_code.as_str() {
                "AU" => vec![Currency { code: "AUD".into() }],
                "NZ" => vec![Currency { code: "NZD".into() }],
                _ => Vec::new(),
            };
            vec![Location {
                children: None,
                contextual_name: place.name.clone(),
                country_code: place.country_code.clone(),
                currencies,
                id: id.into(),
                name: place.name.clone(),
                parent: None,
            }]
        }
        _ => Vec::new(),
    }
}

fn formatted_descriptions(p: &Position) -> Vec<PositionFormattedDescription> {
    p.details
        .advertisement_details
        .iter()
        .map(|content| PositionFormattedDescription {
            content: content.clone(),
            description_id: PositionFormattedDescriptionIdentifier { value: "AdvertisementDetails".into() },
        })
        .collect()
}

fn posting_instructions(p: &Position) -> Vec<PostingInstruction> {
    vec![PostingInstruction {
        application_methods: Vec::new(),
        branding: None,
        branding_id: None,
        end: DateTime(p.closed_at.unwrap_or(p.created_at + Duration::days(DEFAULT_AD_DAYS))),
        seek_advertisement_product: None,
        seek_anz_advertisement_type: None,
        start: DateTime(p.created_at),
    }]
}

/// `PositionOpening`: the requisition behind a job ad.
pub struct PositionOpening(pub Arc<Position>);

#[Object]
impl PositionOpening {
    async fn document_id(&self) -> ObjectIdentifier {
        (&self.0.opening_id).into()
    }

    /// Each candex opening has exactly one posted profile.
    async fn paginated_position_profiles(
        &self,
        after: Option<String>,
        first: Option<i32>,
    ) -> PositionProfileConnection {
        let cursor = "1".to_owned();
        let include = after.is_none() && first != Some(0);
        let edges: Vec<PositionProfileEdge> = include
            .then(|| PositionProfileEdge { cursor: cursor.clone(), node: PositionProfile::posted(self.0.clone()) })
            .into_iter()
            .collect();
        PositionProfileConnection {
            page_info: PageInfo {
                has_next_page: false,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|_| cursor.clone()),
                end_cursor: edges.first().map(|_| cursor.clone()),
            },
            edges,
        }
    }

    #[graphql(
        deprecation = "There is no guarantee all profiles will be returned. Use paginatedPositionProfiles instead."
    )]
    async fn position_profiles(&self) -> Vec<PositionProfile> {
        vec![PositionProfile::posted(self.0.clone())]
    }

    async fn posting_requester(&self) -> PostingRequester {
        PostingRequester {
            id: (&self.0.hirer_id).into(),
            name: self.0.hirer_name.clone(),
            person_contacts: Vec::new(),
            role_code: "Company".into(),
            seek_anz_advertiser_id: None,
        }
    }

    async fn seek_partner_metadata(&self) -> Option<String> {
        None
    }

    async fn status_code(&self) -> String {
        match self.0.status {
            PositionStatus::Open => "Active",
            PositionStatus::Closed => "Closed",
        }
        .to_owned()
    }
}

/// `PositionProfileConnection`.
#[derive(SimpleObject)]
pub struct PositionProfileConnection {
    /// Edges.
    pub edges: Vec<PositionProfileEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// `PositionProfileEdge`.
#[derive(SimpleObject)]
pub struct PositionProfileEdge {
    /// Cursor.
    pub cursor: String,
    /// The profile.
    pub node: PositionProfile,
}

/// `PostingRequester`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PostingRequester {
    /// The hirer's id.
    pub id: ObjectIdentifier,
    /// The hirer's name.
    pub name: String,
    /// Contacts.
    pub person_contacts: Vec<SpecifiedPerson>,
    /// Role code.
    pub role_code: String,
    /// Legacy advertiser id.
    pub seek_anz_advertiser_id: Option<i32>,
}

/// `JobCategory`.
#[derive(Debug, Clone, SimpleObject)]
pub struct JobCategory {
    /// Sub-categories.
    pub children: Option<Vec<JobCategory>>,
    /// Id.
    pub id: ObjectIdentifier,
    /// Name.
    pub name: String,
    /// Parent category.
    pub parent: Option<Box<JobCategory>>,
}

/// `Location`.
#[derive(Debug, Clone, SimpleObject)]
pub struct Location {
    /// Not implemented (as at SEEK).
    #[graphql(deprecation = "Not implemented.")]
    pub children: Option<Vec<Location>>,
    /// Name in context.
    pub contextual_name: String,
    /// ISO country code.
    pub country_code: String,
    /// Currencies used there.
    pub currencies: Vec<Currency>,
    /// Id.
    pub id: ObjectIdentifier,
    /// Name.
    pub name: String,
    /// Parent location.
    pub parent: Option<Box<Location>>,
}

/// `Currency`.
#[derive(Debug, Clone, SimpleObject)]
pub struct Currency {
    /// ISO 4217 code.
    pub code: String,
}

/// `RemunerationPackage`.
#[derive(Debug, Clone, SimpleObject)]
pub struct RemunerationPackage {
    /// Basis code.
    pub basis_code: String,
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// Ranges.
    pub ranges: Vec<RemunerationRange>,
}

/// `RemunerationRange`.
#[derive(Debug, Clone, SimpleObject)]
pub struct RemunerationRange {
    /// Interval code.
    pub interval_code: String,
    /// Maximum.
    pub maximum_amount: Option<RemunerationAmount>,
    /// Minimum.
    pub minimum_amount: RemunerationAmount,
}

/// `RemunerationAmount`.
#[derive(Debug, Clone, SimpleObject)]
pub struct RemunerationAmount {
    /// Currency code.
    pub currency: String,
    /// Amount.
    pub value: f64,
}

/// `PositionFormattedDescription`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PositionFormattedDescription {
    /// HTML content.
    pub content: String,
    /// What the description is.
    pub description_id: PositionFormattedDescriptionIdentifier,
}

/// `PositionFormattedDescriptionIdentifier`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PositionFormattedDescriptionIdentifier {
    /// `AdvertisementDetails`, `SearchBulletPoint` or `SearchSummary`.
    pub value: String,
}

/// `PostingInstruction`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PostingInstruction {
    /// Application methods.
    pub application_methods: Vec<ApplicationMethod>,
    /// Branding.
    pub branding: Option<AdvertisementBranding>,
    /// Branding id.
    pub branding_id: Option<String>,
    /// End of advertising.
    pub end: DateTime,
    /// Ad product.
    pub seek_advertisement_product: Option<PostedPositionProfileAdvertisementProduct>,
    /// Legacy ad type.
    pub seek_anz_advertisement_type: Option<String>,
    /// Start of advertising.
    pub start: DateTime,
}

/// `ApplicationMethod`.
#[derive(Debug, Clone, SimpleObject)]
pub struct ApplicationMethod {
    /// Always null.
    #[graphql(deprecation = "This is always `null` and has been replaced by Application Export")]
    pub application_email: Option<Email>,
    /// Link-out URL.
    pub application_uri: Option<WebUrl>,
}

/// `AdvertisementBranding`.
#[derive(Debug, Clone, SimpleObject)]
pub struct AdvertisementBranding {
    /// Hirer.
    pub hirer: HiringOrganization,
    /// Id.
    pub id: ObjectIdentifier,
    /// Images.
    pub images: Vec<AdvertisementBrandingImage>,
    /// Name.
    pub name: String,
}

/// `AdvertisementBrandingImage`.
#[derive(Debug, Clone, SimpleObject)]
pub struct AdvertisementBrandingImage {
    /// Image type.
    pub type_code: String,
    /// URL.
    pub url: String,
}

/// `PostedPositionProfile_AdvertisementProduct`.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "PostedPositionProfile_AdvertisementProduct")]
pub struct PostedPositionProfileAdvertisementProduct {
    /// Product label.
    pub label: String,
}

/// `SeekVideo`.
#[derive(Debug, Clone, SimpleObject)]
pub struct SeekVideo {
    /// Position code.
    pub seek_anz_position_code: String,
    /// URL.
    pub url: String,
}
