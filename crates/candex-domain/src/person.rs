//! Live person data of a candidate (`CandidatePerson`): name and communication channels.
//! Serialised with SEEK's GraphQL field names; this is also the stored form.

use serde::{Deserialize, Serialize};

/// A candidate's live person data: reflects later updates on every earlier profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// The candidate's name.
    pub name: PersonName,
    /// Emails, phones and addresses, each in descending preference.
    pub communication: Communication,
}

impl Person {
    /// The person data left after erasure, as SEEK redacts it: `formattedName` and `given`
    /// become `redacted`, `family` is null and every communication channel is emptied.
    pub fn redacted() -> Self {
        Self {
            name: PersonName { given: Some("redacted".into()), family: None, formatted_name: "redacted".into() },
            communication: Communication::default(),
        }
    }

    /// The matching key for "same person at the same hirer": the first email, lowercased.
    pub fn email_key(&self) -> String {
        self.communication.email.first().map(|e| e.address.trim().to_lowercase()).unwrap_or_default()
    }
}

/// `PersonName`: `formattedName` is always present; the parts may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonName {
    /// Given name.
    pub given: Option<String>,
    /// Family name.
    pub family: Option<String>,
    /// The full name as displayed.
    pub formatted_name: String,
}

/// `Communication`: ways to reach the candidate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Communication {
    /// Email addresses; at least one for an applicant.
    pub email: Vec<Email>,
    /// Phone numbers.
    #[serde(default)]
    pub phone: Vec<Phone>,
    /// Postal addresses.
    #[serde(default)]
    pub address: Vec<Address>,
    /// Whether the candidate asked not to be contacted.
    #[serde(default)]
    pub seek_do_not_contact_indicator: Option<bool>,
}

/// `Email`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Email {
    /// The address.
    pub address: String,
}

/// `Phone`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phone {
    /// The number as the candidate wrote it.
    pub formatted_number: String,
}

/// `Address`: every part optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street line.
    pub line: Option<String>,
    /// City or suburb.
    pub city: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: Option<String>,
    /// The whole address on one line.
    pub formatted_address: Option<String>,
    /// States, regions.
    #[serde(default)]
    pub country_sub_divisions: Vec<AddressComponent>,
    /// Extra lines (apartment, building).
    #[serde(default)]
    pub extended_lines: Vec<AddressComponent>,
    /// Coordinates.
    pub geo_location: Option<GeoLocation>,
}

/// `AddressComponent`, e.g. `{type: "State", value: "VIC"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressComponent {
    /// The component type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The component value.
    pub value: String,
}

/// `GeoLocation`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoLocation {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
}
