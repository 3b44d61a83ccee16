//! Person types: `CandidatePerson`, `PersonName`, `Communication`, `Address`, `Phone`,
//! `SpecifiedPerson`.

use async_graphql::SimpleObject;
use candex_domain::person as d;

use super::common::Email;

/// `CandidatePerson`: live person data.
#[derive(Debug, Clone, SimpleObject)]
pub struct CandidatePerson {
    /// Contact details.
    pub communication: Communication,
    /// Name.
    pub name: PersonName,
}

impl From<&d::Person> for CandidatePerson {
    fn from(p: &d::Person) -> Self {
        Self { communication: (&p.communication).into(), name: (&p.name).into() }
    }
}

/// `PersonName`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PersonName {
    /// Family name.
    pub family: Option<String>,
    /// Full name.
    pub formatted_name: String,
    /// Given name.
    pub given: Option<String>,
}

impl From<&d::PersonName> for PersonName {
    fn from(n: &d::PersonName) -> Self {
        Self { family: n.family.clone(), formatted_name: n.formatted_name.clone(), given: n.given.clone() }
    }
}

/// `Communication`.
#[derive(Debug, Clone, Default, SimpleObject)]
pub struct Communication {
    /// Addresses in descending preference.
    pub address: Vec<Address>,
    /// Emails in descending preference.
    pub email: Vec<Email>,
    /// Phones in descending preference.
    pub phone: Vec<Phone>,
    /// Whether the person asked not to be contacted.
    pub seek_do_not_contact_indicator: Option<bool>,
}

impl From<&d::Communication> for Communication {
    fn from(c: &d::Communication) -> Self {
        Self {
            address: c.address.iter().map(Into::into).collect(),
            email: c.email.iter().map(|e| Email { address: e.address.clone() }).collect(),
            phone: c.phone.iter().map(|p| Phone { formatted_number: p.formatted_number.clone() }).collect(),
            seek_do_not_contact_indicator: c.seek_do_not_contact_indicator,
        }
    }
}

/// `Phone`.
#[derive(Debug, Clone, SimpleObject)]
pub struct Phone {
    /// The number as written.
    pub formatted_number: String,
}

/// `Address`.
#[derive(Debug, Clone, SimpleObject)]
pub struct Address {
    /// City.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: Option<String>,
    /// States and regions.
    pub country_sub_divisions: Vec<AddressComponent>,
    /// Extra lines.
    pub extended_lines: Vec<AddressComponent>,
    /// The address on one line.
    pub formatted_address: Option<String>,
    /// Coordinates.
    pub geo_location: Option<GeoLocation>,
    /// Street line.
    pub line: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
}

impl From<&d::Address> for Address {
    fn from(a: &d::Address) -> Self {
        let comps = |list: &[d::AddressComponent]| {
            list.iter().map(|c| AddressComponent { kind: c.kind.clone(), value: c.value.clone() }).collect()
        };
        Self {
            city: a.city.clone(),
            country_code: a.country_code.clone(),
            country_sub_divisions: comps(&a.country_sub_divisions),
            extended_lines: comps(&a.extended_lines),
            formatted_address: a.formatted_address.clone(),
            geo_location: a.geo_location.map(|g| GeoLocation { latitude: g.latitude, longitude: g.longitude }),
            line: a.line.clone(),
            postal_code: a.postal_code.clone(),
        }
    }
}

/// `AddressComponent`.
#[derive(Debug, Clone, SimpleObject)]
pub struct AddressComponent {
    /// Component type, e.g. `State`.
    #[graphql(name = "type")]
    pub kind: String,
    /// Component value.
    pub value: String,
}

/// `GeoLocation`.
#[derive(Debug, Clone, SimpleObject)]
pub struct GeoLocation {
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
}

/// `SpecifiedPerson`: a named contact person.
#[derive(Debug, Clone, SimpleObject)]
pub struct SpecifiedPerson {
    /// Contact details.
    pub communication: Communication,
    /// Name.
    pub name: PersonName,
    /// Role code.
    pub role_code: Option<String>,
}
