//! Job ads as candex holds them: a position opening with one posted position profile.

use serde::{Deserialize, Serialize};

/// Optional job-ad details an operator may give; each maps onto a SEEK `PositionProfile` field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionDetails {
    /// `positionLocation`: a named place.
    pub location: Option<NamedPlace>,
    /// `jobCategories`: a category name.
    pub job_category_name: Option<String>,
    /// `seekAnzWorkTypeCode`, e.g. `FullTime`, `PartTime`, `ContractTemp`, `Casual`.
    pub work_type_code: Option<String>,
    /// `positionFormattedDescriptions` with id `AdvertisementDetails`.
    pub advertisement_details: Option<String>,
}

/// A location by name and country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedPlace {
    /// Display name, e.g. `Melbourne VIC 3000`.
    pub name: String,
    /// ISO 3166-1 alpha-2 code, e.g. `AU`.
    pub country_code: String,
}

/// The work type codes SEEK uses for `seekAnzWorkTypeCode`.
pub const WORK_TYPE_CODES: [&str; 4] = ["FullTime", "PartTime", "ContractTemp", "Casual"];
