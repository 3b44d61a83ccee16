//! Validation of live person data: name, emails, phones and addresses.

use super::check::Check;
use super::{AddressComponentInput, AddressInput, PersonInput, MAX_SHORT_TEXT};
use crate::errors::FieldErrors;
use crate::person::{Address, AddressComponent, Communication, Email, GeoLocation, Person, PersonName, Phone};

/// Validates live person data (`PUT /operator/v1/candidates/{id}/person`).
pub fn validate_person(input: PersonInput) -> Result<Person, FieldErrors> {
    let mut c = Check { errors: FieldErrors::new() };
    let person = person_in(&mut c, "", input);
    match person {
        Some(p) if c.errors.is_empty() => Ok(p),
        _ => Err(c.errors),
    }
}

pub(super) fn person_in(c: &mut Check, ptr: &str, p: PersonInput) -> Option<Person> {
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
