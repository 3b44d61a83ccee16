//! The applicant: names, emails (with reuse from the pool of recent candidates), phone numbers
//! and addresses, and the ASCII folding emails need.

use candex_domain::input::{
    AddressComponentInput, AddressInput, CommunicationInput, EmailInput, GeoLocationInput, PersonInput,
    PersonNameInput, PhoneInput,
};
use rand::Rng;

use super::{words, Known, Size, Synth, EMAIL_POOL_SIZE, REUSE_SHARE};

impl Synth {
    /// The applicant: about 10% of the time a recent candidate of the same hirer applying
    /// again (same name and email; now and then with a new phone number), otherwise someone
    /// new, remembered in the bounded pool. The fully populated showcase candidate is never
    /// remembered, so later applications cannot change its live person data.
    pub(super) fn person(&mut self, hirer: &str, size: Size) -> PersonInput {
        let full = size == Size::Full;
        let matching = self.pool.iter().filter(|k| k.hirer == hirer).count();
        if !full && matching > 0 && self.chance(REUSE_SHARE) {
            let n = self.rng.gen_range(0..matching);
            let known = self.pool.iter().filter(|k| k.hirer == hirer).nth(n).map(|k| k.person.clone());
            if let Some(mut person) = known {
                if self.chance(0.2) {
                    if let Some(comm) = person.communication.as_mut() {
                        let number = self.phone("AU", 0);
                        comm.phone.insert(0, PhoneInput { formatted_number: Some(number) });
                        comm.phone.truncate(2);
                    }
                }
                return person;
            }
        }

        let name = self.name(full);
        let email = self.email(&name);
        let country_first = if self.chance(0.85) { "AU" } else { "NZ" };
        let (n_phones, n_addresses) = match size {
            Size::Tiny => (0, 0),
            Size::Small => (self.rng.gen_range(0..=1), self.rng.gen_range(0..=1)),
            Size::Medium => (self.rng.gen_range(0..=2), self.rng.gen_range(0..=2)),
            Size::Large => (self.rng.gen_range(1..=2), self.rng.gen_range(1..=2)),
            Size::Full => (2, 1),
        };
        let address: Vec<AddressInput> = (0..n_addresses).map(|_| self.address(full)).collect();
        let country = address.first().and_then(|a| a.country_code.as_deref()).unwrap_or(country_first).to_owned();
        let phone = (0..n_phones).map(|i| PhoneInput { formatted_number: Some(self.phone(&country, i)) }).collect();
        let seek_do_not_contact_indicator = match size {
            Size::Full => Some(false),
            Size::Tiny => None,
            _ => match self.rng.gen_range(0..20) {
                0 => Some(true),
                1..=6 => Some(false),
                _ => None,
            },
        };
        let person = PersonInput {
            name: Some(name),
            communication: Some(CommunicationInput {
                email: vec![EmailInput { address: Some(email) }],
                phone,
                address,
                seek_do_not_contact_indicator,
            }),
        };
        if !full {
            if self.pool.len() >= EMAIL_POOL_SIZE {
                self.pool.pop_front();
            }
            self.pool.push_back(Known { hirer: hirer.to_owned(), person: person.clone() });
        }
        person
    }

    /// A new name; sometimes without a family name, sometimes with an explicit formatted name
    /// (family name first for names conventionally written that way).
    fn name(&mut self, full: bool) -> PersonNameInput {
        let given = self.pick(words::GIVEN);
        let family = (full || self.chance(0.93)).then(|| self.pick(words::FAMILY));
        let formatted_name = match family {
            Some(fam) if words::FAMILY_FIRST.contains(&fam) => Some(format!("{fam} {given}")),
            Some(fam) if full || self.chance(0.25) => Some(format!("{given} {fam}")),
            _ => None,
        };
        PersonNameInput { given: Some(given.to_owned()), family: family.map(str::to_owned), formatted_name }
    }

    /// An email derived from `name` (lowercased, ASCII-folded), numbered by the application
    /// serial so fresh candidates never collide.
    fn email(&mut self, name: &PersonNameInput) -> String {
        let g = name.given.as_deref().map(ascii_fold).unwrap_or_default();
        let fam = name.family.as_deref().map(ascii_fold).unwrap_or_default();
        let n = self.serial;
        let local = match (g.is_empty(), fam.is_empty()) {
            (true, true) => format!("candidate{n}"),
            (false, true) => format!("{g}{n}"),
            (true, false) => format!("{fam}{n}"),
            (false, false) => match self.rng.gen_range(0..4) {
                0 => format!("{g}{fam}{n}"),
                1 => format!("{}{fam}{n}", &g[..1]),
                2 => format!("{g}_{fam}{n}"),
                _ => format!("{g}.{fam}{n}"),
            },
        };
        format!("{local}@{}", self.pick(words::EMAIL_DOMAINS))
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.rng.gen_range(0..10u8))).collect()
    }

    /// A phone number in an Australian or New Zealand format; the first of two is a mobile.
    fn phone(&mut self, country: &str, index: usize) -> String {
        let mobile = (index == 0 && self.chance(0.8)) || self.chance(0.3);
        match (country, mobile) {
            ("NZ", true) => {
                let (a, b, c) = (self.pick(&["21", "22", "27"]), self.digits(3), self.digits(4));
                if self.chance(0.5) {
                    format!("+64 {a} {b} {c}")
                } else {
                    format!("0{a} {b} {c}")
                }
            }
            ("NZ", false) => {
                let (a, b) = (self.pick(&["4", "9", "3", "7"]), self.digits(4));
                format!("+64 {a} 555 {b}")
            }
            (_, true) => {
                let (a, b, c) = (self.digits(2), self.digits(3), self.digits(3));
                if self.chance(0.5) {
                    format!("+61 4{a} {b} {c}")
                } else {
                    format!("04{a} {b} {c}")
                }
            }
            (_, false) => {
                let (a, b) = (self.pick(&["02", "03", "07", "08"]), self.digits(4));
                if self.chance(0.8) {
                    format!("({a}) 5550 {b}")
                } else {
                    format!("+61 {} 5550 {b}", &a[1..])
                }
            }
        }
    }

    fn address(&mut self, full: bool) -> AddressInput {
        let city = self.city();
        let line = (full || self.chance(0.4)).then(|| {
            let n = self.rng.gen_range(1..=250);
            format!("{n} {} {}", self.pick(words::STREETS), self.pick(words::STREET_KINDS))
        });
        let extended_lines = if line.is_some() && (full || self.chance(0.15)) {
            let (kind, value) = match self.rng.gen_range(0..3) {
                0 => ("Unit", format!("Unit {}", self.rng.gen_range(1..=40))),
                1 => ("Level", format!("Level {}", self.rng.gen_range(1..=30))),
                _ => ("Building", format!("Building {}", self.pick(&["A", "B", "C", "D"]))),
            };
            vec![AddressComponentInput { kind: Some(kind.into()), value: Some(value) }]
        } else {
            Vec::new()
        };
        let with_city = full || self.chance(0.9);
        let with_postcode = full || self.chance(0.8);
        let with_country = full || self.chance(0.9);
        let with_sub = full || self.chance(0.8);
        let with_formatted = full || self.chance(0.85);
        let geo_location = (full || self.chance(0.3)).then(|| GeoLocationInput {
            latitude: Some(round4(city.lat + self.rng.gen_range(-0.05..0.05))),
            longitude: Some(round4(city.lon + self.rng.gen_range(-0.05..0.05))),
        });
        let country_sub_divisions = if with_sub {
            vec![AddressComponentInput {
                kind: Some(city.sub_division_type.into()),
                value: Some(city.sub_division.into()),
            }]
        } else {
            Vec::new()
        };
        // Something must be present; the formatted address always carries the city.
        let with_formatted = with_formatted
            || !(with_city || with_postcode || with_country || line.is_some() || with_sub || geo_location.is_some());
        let formatted_address = with_formatted.then(|| {
            let mut parts: Vec<String> = extended_lines.iter().filter_map(|c| c.value.clone()).collect();
            parts.extend(line.clone());
            let mut locality = city.name.to_owned();
            if city.country == "AU" {
                locality = format!("{locality} {} {}", city.sub_division, city.postcode);
            } else {
                locality = format!("{locality} {}", city.postcode);
            }
            parts.push(format!("{locality} {}", city.country));
            parts.join(", ")
        });
        AddressInput {
            line,
            city: with_city.then(|| city.name.to_owned()),
            postal_code: with_postcode.then(|| city.postcode.to_owned()),
            country_code: with_country.then(|| city.country.to_owned()),
            formatted_address,
            country_sub_divisions,
            extended_lines,
            geo_location,
        }
    }
}

/// Rounds to 4 decimal places (about 11 m), keeping JSON output short.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Lowercases and folds a name to ASCII letters, digits and hyphens for an email local part.
fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let folded = match c {
            'a'..='z' | '0'..='9' | '-' => {
                out.push(c);
                continue;
            }
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ạ' => "a",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ễ' | 'ệ' | 'ế' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ư' => "u",
            'ñ' => "n",
            'ç' => "c",
            'ß' => "ss",
            'æ' => "ae",
            'ý' | 'ÿ' => "y",
            '李' => "li",
            _ => "",
        };
        out.push_str(folded);
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::testkit::{emails, PPID};
    use candex_domain::input::ApplicationInput;
    use std::collections::HashSet;

    #[test]
    fn names_include_non_ascii_but_emails_are_ascii() {
        let mut s = Synth::new(5);
        let apps: Vec<ApplicationInput> = (0..2_000).map(|_| s.application(PPID)).collect();
        let names: Vec<String> = apps
            .iter()
            .filter_map(|a| a.candidate.as_ref()?.person.as_ref()?.name.as_ref())
            .map(|n| format!("{:?} {:?} {:?}", n.given, n.family, n.formatted_name))
            .collect();
        assert!(names.iter().any(|n| !n.is_ascii()));
        let without_family = apps
            .iter()
            .filter_map(|a| a.candidate.as_ref()?.person.as_ref()?.name.as_ref())
            .filter(|n| n.family.is_none());
        assert!(without_family.count() > 20);
        for e in apps.iter().flat_map(emails) {
            assert!(e.is_ascii() && e == e.to_lowercase(), "{e}");
        }
    }

    #[test]
    fn emails_are_sometimes_reused_within_a_hirer_and_the_pool_stays_bounded() {
        let mut s = Synth::new(9);
        let mut seen = HashSet::new();
        let mut reused = 0;
        for i in 0..5_000 {
            let hirer = if i % 2 == 0 { "h1" } else { "h2" };
            for e in emails(&s.application_for_hirer(hirer, PPID)) {
                if !seen.insert((hirer, e)) {
                    reused += 1;
                }
            }
            assert!(s.pool.len() <= EMAIL_POOL_SIZE);
        }
        assert!((300..=700).contains(&reused), "reused {reused}");
        assert_eq!(s.pool.len(), EMAIL_POOL_SIZE);
        // An email first seen under one hirer is never reused under the other.
        let h1: HashSet<&String> = seen.iter().filter(|(h, _)| *h == "h1").map(|(_, e)| e).collect();
        assert!(seen.iter().filter(|(h, _)| *h == "h2").all(|(_, e)| !h1.contains(e)));
    }

    #[test]
    fn ascii_folding_handles_the_built_in_names() {
        assert_eq!(ascii_fold("Nguyễn"), "nguyen");
        assert_eq!(ascii_fold("O'Brien"), "obrien");
        assert_eq!(ascii_fold("Anne-Marie"), "anne-marie");
        assert_eq!(ascii_fold("Zoë"), "zoe");
        assert_eq!(ascii_fold("Ōtaki"), "otaki");
        assert_eq!(ascii_fold("李"), "li");
        for name in words::GIVEN.iter().chain(words::FAMILY) {
            let f = ascii_fold(name);
            assert!(!f.is_empty() && f.is_ascii(), "{name} -> {f}");
        }
    }
}
