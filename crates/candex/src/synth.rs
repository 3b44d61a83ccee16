//! Deterministic synthetic data: job applications, job ads and the `serve --demo` world, all drawn
//! from one seeded ChaCha8 generator, so the same seed always yields byte-identical data.
//!
//! Everything generated passes `candex_domain::input::validate_application` /
//! `validate_position` once the caller supplies real identifiers. Memory stays flat however
//! many items are generated: the only state kept between calls is a bounded pool of recent
//! candidate identities (for email reuse) and a clock.

mod words;

use std::collections::VecDeque;

use candex_domain::input::{
    AddressComponentInput, AddressInput, ApplicationInput, CandidateInput, CertificationInput, CommunicationInput,
    EducationAttendanceInput, EducationDegreeInput, EffectiveTimePeriodInput, EmailInput, EmployerHistoryInput,
    GeoLocationInput, NamedPlaceInput, OrganizationInput, PersonCompetencyInput, PersonInput, PersonNameInput,
    PhoneInput, PositionHistoryInput, PositionInput,
};
use candex_domain::questionnaire::{ChoiceInput, ComponentInput, QuestionnaireInput};
use candex_domain::RelationshipType;
use chrono::{DateTime, Datelike, Duration, SecondsFormat, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use words::{City, Field};

/// How many recent candidate identities a [`Synth`] remembers for email reuse.
pub const EMAIL_POOL_SIZE: usize = 200;

/// Share of applications that reuse an earlier candidate (same name and email) of the same hirer.
const REUSE_SHARE: f64 = 0.10;

/// The month history dates are generated up to when no base time is set (June 2025).
const DEFAULT_TODAY: i32 = 2025 * 12 + 5;

/// Earliest month any history date may fall in.
const EARLIEST: i32 = 1960 * 12;

/// The seed of [`demo_world`].
pub const DEMO_SEED: u64 = 0x00C4_4DE7_0000_0001;

/// The fixed "now" the demo world's application times lead up to: 2025-03-03T09:00:00Z.
pub fn demo_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).single().unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// A candidate remembered so that a later application to the same hirer can reuse them.
struct Known {
    hirer: String,
    person: PersonInput,
}

/// How much of an application to fill in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    /// Name and email only.
    Tiny,
    /// At most one employer, a little of everything else.
    Small,
    /// The common case: 2–4 employers.
    Medium,
    /// 8 employers, long descriptions, up to 20 qualifications.
    Large,
    /// Every optional field present (the demo's showcase application).
    Full,
}

/// Date precision of one history entry.
#[derive(Debug, Clone, Copy)]
enum Precision {
    Year,
    Month,
    Day,
}

/// A deterministic generator of synthetic applications and job ads.
///
/// The same seed (and the same base time, if any) yields the same sequence of values for the
/// same sequence of calls.
pub struct Synth {
    rng: ChaCha8Rng,
    /// Recent candidate identities, oldest first, at most [`EMAIL_POOL_SIZE`].
    pool: VecDeque<Known>,
    /// Applications generated so far; numbers fresh emails so they never collide.
    serial: u64,
    /// The next `createDateTime`, when a base time was set.
    clock: Option<DateTime<Utc>>,
    /// Inclusive range of seconds between consecutive `createDateTime`s.
    step_secs: (i64, i64),
    /// The latest month history dates may reach, as `year * 12 + month0`.
    today: i32,
}

impl Synth {
    /// A generator seeded with `seed`; applications have no `createDateTime` (the server uses now).
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            pool: VecDeque::with_capacity(EMAIL_POOL_SIZE),
            serial: 0,
            clock: None,
            step_secs: (1, 600),
            today: DEFAULT_TODAY,
        }
    }

    /// Gives applications deterministic, strictly increasing `createDateTime`s starting at `t`
    /// (1 s to 10 min apart), and dates employment histories up to `t`'s month.
    pub fn with_base_time(mut self, t: DateTime<Utc>) -> Self {
        self.clock = Some(t);
        self.today = t.year() * 12 + t.month0() as i32;
        self
    }

    /// One application to `position_profile_id`, of a random size class. About 10% reuse the
    /// name and email of a recent candidate (any hirer: use [`Synth::application_for_hirer`]
    /// to keep reuse within one hirer).
    pub fn application(&mut self, position_profile_id: &str) -> ApplicationInput {
        self.application_for_hirer("", position_profile_id)
    }

    /// One application to `position_profile_id`, a job ad of the hirer `hirer` (any stable key,
    /// such as its id). About 10% of applications reuse the name and email of a recent
    /// candidate of the same hirer, so candidate matching by email gets exercised.
    pub fn application_for_hirer(&mut self, hirer: &str, position_profile_id: &str) -> ApplicationInput {
        let size = self.size();
        let field = self.rng.gen_range(0..words::FIELDS.len());
        let mut app = self.application_inner(hirer, field, size);
        app.position_profile_id = Some(position_profile_id.to_owned());
        app
    }

    /// One job ad for the hirer `hirer_id`.
    pub fn position(&mut self, hirer_id: &str) -> PositionInput {
        let field = self.rng.gen_range(0..words::FIELDS.len());
        let mut p = self.position_inner(field);
        p.hirer_id = Some(hirer_id.to_owned());
        p
    }

    fn size(&mut self) -> Size {
        match self.rng.gen_range(0..100) {
            0..=9 => Size::Tiny,
            10..=24 => Size::Small,
            25..=89 => Size::Medium,
            _ => Size::Large,
        }
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list.choose(&mut self.rng).copied().unwrap_or("Example")
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn city(&mut self) -> &'static City {
        words::CITIES.choose(&mut self.rng).unwrap_or(&words::CITIES[0])
    }

    fn application_inner(&mut self, hirer: &str, field: usize, size: Size) -> ApplicationInput {
        let f = &words::FIELDS[field.min(words::FIELDS.len() - 1)];
        self.serial += 1;
        let person = self.person(hirer, size);
        let (employment, education, certifications, qualifications) = match size {
            Size::Tiny => (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
            _ => (
                self.employment(f, size),
                self.education(f, size),
                self.certifications(f, size),
                self.qualifications(f, size),
            ),
        };
        let create_date_time = self.clock.map(|now| {
            let step = self.rng.gen_range(self.step_secs.0..=self.step_secs.1);
            self.clock = Some(now + Duration::seconds(step.max(1)));
            now.to_rfc3339_opts(SecondsFormat::Millis, true)
        });
        ApplicationInput {
            position_profile_id: None,
            candidate: Some(CandidateInput { person: Some(person) }),
            employment,
            education,
            certifications,
            qualifications,
            create_date_time,
            candidate_sources: None,
            questionnaire_responses: None,
            attachments: Vec::new(),
        }
    }

    // ----- person -----

    /// The applicant: about 10% of the time a recent candidate of the same hirer applying
    /// again (same name and email; now and then with a new phone number), otherwise someone
    /// new, remembered in the bounded pool. The fully populated showcase candidate is never
    /// remembered, so later applications cannot change its live person data.
    fn person(&mut self, hirer: &str, size: Size) -> PersonInput {
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

    // ----- histories -----

    fn precision(&mut self) -> Precision {
        match self.rng.gen_range(0..10) {
            0 | 1 => Precision::Year,
            2 | 3 => Precision::Day,
            _ => Precision::Month,
        }
    }

    /// Formats month index `m` (`year * 12 + month0`) at `precision`, with day `day` (1–28).
    fn date(m: i32, precision: Precision, day: u32) -> String {
        let m = m.max(EARLIEST);
        let (y, mo) = (m.div_euclid(12), m.rem_euclid(12) + 1);
        match precision {
            Precision::Year => format!("{y:04}"),
            Precision::Month => format!("{y:04}-{mo:02}"),
            Precision::Day => format!("{y:04}-{mo:02}-{day:02}"),
        }
    }

    /// One or more duty sentences; long ones are multi-paragraph with bullets.
    /// The descriptions of one role: `count` entries drawing on the field's duties without
    /// repeating one; when `long`, the first is multi-paragraph with bullet points.
    fn descriptions(&mut self, f: &Field, title: &str, org: &str, count: usize, long: bool) -> Vec<String> {
        let mut duties: Vec<&str> = f.duties.to_vec();
        duties.shuffle(&mut self.rng);
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let take = if long && i == 0 { self.rng.gen_range(2..=4) } else { self.rng.gen_range(1..=2) };
            let chosen: Vec<&str> = duties.drain(..take.min(duties.len())).collect();
            let text = if long && i == 0 {
                let intro = match self.rng.gen_range(0..3) {
                    0 => format!("As {title} at {org}, I was responsible for day-to-day delivery and for improving how the team worked."),
                    1 => format!("Joined {org} as {title}, reporting to the general manager."),
                    _ => format!("A broad role at {org} covering operations, people and customers."),
                };
                let bullets: Vec<String> = chosen.iter().map(|d| format!("• {d}")).collect();
                let closing = self.pick(&[
                    "career progression",
                    "relocation",
                    "end of contract",
                    "restructure",
                    "returning to study",
                ]);
                format!("{intro}\n\nKey achievements:\n{}\n\nReason for leaving: {closing}", bullets.join("\n"))
            } else if chosen.is_empty() {
                format!("Day-to-day responsibilities as {title}.")
            } else {
                chosen.join(" ")
            };
            out.push(text);
        }
        out
    }

    fn employment(&mut self, f: &Field, size: Size) -> Vec<EmployerHistoryInput> {
        let (employers, max_roles, dur, long) = match size {
            Size::Tiny => return Vec::new(),
            Size::Small => (self.rng.gen_range(0..=1), 2, (6, 36), false),
            Size::Medium => (self.rng.gen_range(2..=4), 3, (6, 36), false),
            Size::Large => (8, 5, (2, 14), true),
            Size::Full => (3, 2, (8, 30), false),
        };
        let full = size == Size::Full;
        let mut orgs: Vec<&str> = f.employers.iter().chain(words::GENERAL_EMPLOYERS).copied().collect();
        orgs.shuffle(&mut self.rng);
        // Seniority on the field's ladder, falling (sometimes) going back in time.
        let top = f.ladder.len() as i32 - 1;
        let mut rank = if long { top - self.rng.gen_range(0..=1) } else { self.rng.gen_range(1..=top) };
        let step_down = if long { 0.25 } else { 0.6 };
        let current = full || self.chance(0.6);
        let mut cursor = if current { self.today } else { self.today - self.rng.gen_range(0..=4) };
        let mut out = Vec::with_capacity(employers);
        for e in 0..employers {
            let org = orgs.get(e).copied().unwrap_or("Acme Corporation");
            let roles = if full && e == 0 { 2 } else { self.rng.gen_range(1..=max_roles) };
            let mut histories = Vec::with_capacity(roles);
            for r in 0..roles {
                let title = f.ladder[rank.clamp(0, f.ladder.len() as i32 - 1) as usize];
                let end_m = cursor;
                let start_m = (end_m - self.rng.gen_range(dur.0..=dur.1)).max(EARLIEST);
                let precision = self.precision();
                let mut days = (self.rng.gen_range(1..=28u32), self.rng.gen_range(1..=28u32));
                if start_m == end_m && days.1 < days.0 {
                    days = (days.1, days.0);
                }
                let latest = e == 0 && r == 0;
                let (end, is_current) = if latest && current {
                    (None, Some(true))
                } else {
                    let flag = if latest || self.chance(0.4) { Some(false) } else { None };
                    (Some(Self::date(end_m, precision, days.1)), flag)
                };
                let n_desc = match size {
                    Size::Full => 1,
                    Size::Large => self.rng.gen_range(1..=2),
                    _ => self.rng.gen_range(0..=2),
                };
                let long_one = long && (self.chance(0.35) || (e == 0 && r == 0));
                let descriptions = self.descriptions(f, title, org, n_desc, long_one);
                histories.push(PositionHistoryInput {
                    title: Some(title.to_owned()),
                    start: Some(Self::date(start_m, precision, days.0)),
                    end,
                    current: is_current,
                    descriptions,
                });
                cursor = start_m;
                if self.chance(step_down) {
                    rank -= 1;
                }
            }
            out.push(EmployerHistoryInput {
                organization: Some(OrganizationInput { name: Some(org.to_owned()) }),
                position_histories: histories,
            });
            cursor = (cursor - self.rng.gen_range(0..=4)).max(EARLIEST);
        }
        out
    }

    fn education(&mut self, f: &Field, size: Size) -> Vec<EducationAttendanceInput> {
        let n = match size {
            Size::Tiny => 0,
            Size::Small => self.rng.gen_range(0..=1),
            Size::Medium => self.rng.gen_range(1..=2),
            Size::Large => self.rng.gen_range(1..=3),
            Size::Full => 2,
        };
        let full = size == Size::Full;
        let mut institutions: Vec<&str> = words::INSTITUTIONS.choose_multiple(&mut self.rng, n).copied().collect();
        institutions.sort_unstable();
        institutions
            .into_iter()
            .enumerate()
            .map(|(i, inst)| {
                let n_degrees = if !full && self.chance(0.1) { 2 } else { 1 };
                let education_degrees = (0..n_degrees)
                    .map(|_| {
                        let granted = (full && i == 0) || (!full && self.chance(0.8));
                        let date = if granted {
                            (full || self.chance(0.85)).then(|| {
                                let m = self.today - self.rng.gen_range(12..=300);
                                let p = if self.chance(0.5) { Precision::Year } else { Precision::Month };
                                Self::date(m, p, 1)
                            })
                        } else {
                            (full || self.chance(0.4))
                                .then(|| Self::date(self.today + self.rng.gen_range(3..=30), Precision::Year, 1))
                        };
                        EducationDegreeInput {
                            name: Some(self.pick(f.degrees).to_owned()),
                            degree_granted_status: Some(if granted { "Granted" } else { "InProgress" }.to_owned()),
                            date,
                        }
                    })
                    .collect();
                let descriptions =
                    if full || self.chance(0.3) { vec![self.pick(words::STUDY_NOTES).to_owned()] } else { Vec::new() };
                EducationAttendanceInput {
                    institution: Some(OrganizationInput { name: Some(inst.to_owned()) }),
                    education_degrees,
                    descriptions,
                }
            })
            .collect()
    }

    fn certifications(&mut self, f: &Field, size: Size) -> Vec<CertificationInput> {
        let n = match size {
            Size::Tiny => 0,
            Size::Small => self.rng.gen_range(0..=1),
            Size::Medium => self.rng.gen_range(0..=3),
            Size::Large => self.rng.gen_range(1..=5),
            Size::Full => 3,
        };
        let full = size == Size::Full;
        let all: Vec<(&str, &str)> = f.certs.iter().chain(words::GENERAL_CERTS).copied().collect();
        let chosen: Vec<(&str, &str)> = all.choose_multiple(&mut self.rng, n).copied().collect();
        chosen
            .into_iter()
            .map(|(name, authority)| {
                let issued_m = self.today - self.rng.gen_range(1..=120);
                let issued = (full || self.chance(0.6)).then(|| Self::date(issued_m, Precision::Month, 1));
                let effective_time_period = if full || self.chance(0.5) {
                    let valid_to = Self::date(issued_m + self.rng.gen_range(12..=60), Precision::Month, 1);
                    Some(EffectiveTimePeriodInput { valid_to: Some(valid_to) })
                } else if self.chance(0.1) {
                    Some(EffectiveTimePeriodInput { valid_to: None })
                } else {
                    None
                };
                let issuing_authority =
                    (full || self.chance(0.6)).then(|| OrganizationInput { name: Some(authority.to_owned()) });
                let descriptions = if full || self.chance(0.25) {
                    vec![self
                        .pick(&[
                            "Current and in good standing.",
                            "Police check passed with no disclosable outcomes.",
                            "Renewed annually; certificate available on request.",
                            "Completed the full course including practical assessment.",
                        ])
                        .to_owned()]
                } else {
                    Vec::new()
                };
                CertificationInput {
                    name: Some(name.to_owned()),
                    issued,
                    effective_time_period,
                    issuing_authority,
                    descriptions,
                }
            })
            .collect()
    }

    fn qualifications(&mut self, f: &Field, size: Size) -> Vec<PersonCompetencyInput> {
        let n = match size {
            Size::Tiny => 0,
            Size::Small => self.rng.gen_range(0..=4),
            Size::Medium => self.rng.gen_range(3..=10),
            Size::Large => self.rng.gen_range(12..=20),
            Size::Full => 8,
        };
        let all: Vec<&str> = f.skills.iter().chain(words::GENERAL_SKILLS).copied().collect();
        all.choose_multiple(&mut self.rng, n)
            .map(|s| PersonCompetencyInput { competency_name: Some((*s).to_owned()) })
            .collect()
    }

    // ----- positions -----

    fn position_inner(&mut self, field: usize) -> PositionInput {
        let f = &words::FIELDS[field.min(words::FIELDS.len() - 1)];
        let title = self.pick(f.ladder);
        let reference = (self.chance(0.9)).then(|| format!("REQ-{}", self.rng.gen_range(10_000..100_000)));
        let location = self.chance(0.8).then(|| {
            let city = self.city();
            let name = if city.country == "AU" {
                format!("{} {}", city.name, city.sub_division)
            } else {
                city.name.to_owned()
            };
            NamedPlaceInput { name: Some(name), country_code: Some(city.country.to_owned()) }
        });
        let job_category_name = self.chance(0.8).then(|| f.category.to_owned());
        let work_type_code = self.chance(0.85).then(|| {
            match self.rng.gen_range(0..10) {
                0..=5 => "FullTime",
                6 | 7 => "PartTime",
                8 => "ContractTemp",
                _ => "Casual",
            }
            .to_owned()
        });
        let advertisement_details = self.chance(0.6).then(|| {
            let employer = self.pick(f.employers);
            let duty = self.pick(f.duties);
            format!(
                "{} We're hiring a {title} to join {employer}.\n\nIn a similar role you may have: {}\n\n{}",
                self.pick(words::AD_OPENERS),
                duty.to_lowercase().trim_end_matches('.'),
                self.pick(words::AD_BENEFITS),
            )
        });
        PositionInput {
            hirer_id: None,
            position_title: Some(title.to_owned()),
            seek_hirer_job_reference: reference,
            position_uri: None,
            location,
            job_category_name,
            work_type_code,
            advertisement_details,
            questionnaire: None,
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

// ----- JSON -----

fn put(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), Value::String(v.clone()));
    }
}

fn org_json(o: &Option<OrganizationInput>) -> Option<Value> {
    o.as_ref().map(|o| {
        let mut m = Map::new();
        put(&mut m, "name", &o.name);
        Value::Object(m)
    })
}

fn components_json(list: &[AddressComponentInput]) -> Value {
    list.iter()
        .map(|c| {
            let mut m = Map::new();
            put(&mut m, "type", &c.kind);
            put(&mut m, "value", &c.value);
            Value::Object(m)
        })
        .collect()
}

fn person_json(p: &PersonInput) -> Value {
    let mut m = Map::new();
    if let Some(n) = &p.name {
        let mut name = Map::new();
        put(&mut name, "given", &n.given);
        put(&mut name, "family", &n.family);
        put(&mut name, "formattedName", &n.formatted_name);
        m.insert("name".into(), Value::Object(name));
    }
    if let Some(c) = &p.communication {
        let mut comm = Map::new();
        let email: Value = c.email.iter().map(|e| json!({ "address": e.address })).collect();
        let phone: Value = c.phone.iter().map(|p| json!({ "formattedNumber": p.formatted_number })).collect();
        let address: Value = c
            .address
            .iter()
            .map(|a| {
                let mut am = Map::new();
                put(&mut am, "line", &a.line);
                put(&mut am, "city", &a.city);
                put(&mut am, "postalCode", &a.postal_code);
                put(&mut am, "countryCode", &a.country_code);
                put(&mut am, "formattedAddress", &a.formatted_address);
                am.insert("countrySubDivisions".into(), components_json(&a.country_sub_divisions));
                am.insert("extendedLines".into(), components_json(&a.extended_lines));
                if let Some(g) = &a.geo_location {
                    am.insert("geoLocation".into(), json!({ "latitude": g.latitude, "longitude": g.longitude }));
                }
                Value::Object(am)
            })
            .collect();
        comm.insert("email".into(), email);
        comm.insert("phone".into(), phone);
        comm.insert("address".into(), address);
        if let Some(flag) = c.seek_do_not_contact_indicator {
            comm.insert("seekDoNotContactIndicator".into(), Value::Bool(flag));
        }
        m.insert("communication".into(), Value::Object(comm));
    }
    Value::Object(m)
}

/// The operator-API JSON body (`POST /operator/v1/applications`) of an application; absent
/// optional fields are omitted. Deserialising it yields an equal `ApplicationInput`.
pub fn application_json(app: &ApplicationInput) -> Value {
    let mut m = Map::new();
    put(&mut m, "positionProfileId", &app.position_profile_id);
    if let Some(c) = &app.candidate {
        let mut cm = Map::new();
        if let Some(p) = &c.person {
            cm.insert("person".into(), person_json(p));
        }
        m.insert("candidate".into(), Value::Object(cm));
    }
    let employment: Value = app
        .employment
        .iter()
        .map(|e| {
            let mut em = Map::new();
            if let Some(o) = org_json(&e.organization) {
                em.insert("organization".into(), o);
            }
            let histories: Value = e
                .position_histories
                .iter()
                .map(|h| {
                    let mut hm = Map::new();
                    put(&mut hm, "title", &h.title);
                    put(&mut hm, "start", &h.start);
                    put(&mut hm, "end", &h.end);
                    if let Some(cur) = h.current {
                        hm.insert("current".into(), Value::Bool(cur));
                    }
                    hm.insert("descriptions".into(), json!(h.descriptions));
                    Value::Object(hm)
                })
                .collect();
            em.insert("positionHistories".into(), histories);
            Value::Object(em)
        })
        .collect();
    m.insert("employment".into(), employment);
    let education: Value = app
        .education
        .iter()
        .map(|e| {
            let mut em = Map::new();
            if let Some(o) = org_json(&e.institution) {
                em.insert("institution".into(), o);
            }
            let degrees: Value = e
                .education_degrees
                .iter()
                .map(|d| {
                    let mut dm = Map::new();
                    put(&mut dm, "name", &d.name);
                    put(&mut dm, "degreeGrantedStatus", &d.degree_granted_status);
                    put(&mut dm, "date", &d.date);
                    Value::Object(dm)
                })
                .collect();
            em.insert("educationDegrees".into(), degrees);
            em.insert("descriptions".into(), json!(e.descriptions));
            Value::Object(em)
        })
        .collect();
    m.insert("education".into(), education);
    let certifications: Value = app
        .certifications
        .iter()
        .map(|c| {
            let mut cm = Map::new();
            put(&mut cm, "name", &c.name);
            put(&mut cm, "issued", &c.issued);
            if let Some(p) = &c.effective_time_period {
                let mut pm = Map::new();
                put(&mut pm, "validTo", &p.valid_to);
                cm.insert("effectiveTimePeriod".into(), Value::Object(pm));
            }
            if let Some(o) = org_json(&c.issuing_authority) {
                cm.insert("issuingAuthority".into(), o);
            }
            cm.insert("descriptions".into(), json!(c.descriptions));
            Value::Object(cm)
        })
        .collect();
    m.insert("certifications".into(), certifications);
    let qualifications: Value =
        app.qualifications.iter().map(|q| json!({ "competencyName": q.competency_name })).collect();
    m.insert("qualifications".into(), qualifications);
    put(&mut m, "createDateTime", &app.create_date_time);
    if let Some(sources) = &app.candidate_sources {
        let list: Value = sources
            .iter()
            .map(|s| {
                let mut sm = Map::new();
                put(&mut sm, "name", &s.name);
                put(&mut sm, "type", &s.kind);
                Value::Object(sm)
            })
            .collect();
        m.insert("candidateSources".into(), list);
    }
    Value::Object(m)
}

/// The operator-API JSON body (`POST /operator/v1/positions`) of a job ad; absent optional
/// fields are omitted. Deserialising it yields an equal `PositionInput`.
pub fn position_json(p: &PositionInput) -> Value {
    let mut m = Map::new();
    put(&mut m, "hirerId", &p.hirer_id);
    put(&mut m, "positionTitle", &p.position_title);
    put(&mut m, "seekHirerJobReference", &p.seek_hirer_job_reference);
    put(&mut m, "positionUri", &p.position_uri);
    if let Some(l) = &p.location {
        let mut lm = Map::new();
        put(&mut lm, "name", &l.name);
        put(&mut lm, "countryCode", &l.country_code);
        m.insert("location".into(), Value::Object(lm));
    }
    put(&mut m, "jobCategoryName", &p.job_category_name);
    put(&mut m, "workTypeCode", &p.work_type_code);
    put(&mut m, "advertisementDetails", &p.advertisement_details);
    Value::Object(m)
}

// ----- demo world -----

/// The data `candex serve --demo` loads into an empty database.
#[derive(Debug, Clone)]
pub struct DemoWorld {
    /// Hirer names; other parts refer to hirers by index into this list.
    pub hirers: Vec<String>,
    /// Partners (ATS clients) and the relationships hirers grant them.
    pub partners: Vec<DemoPartner>,
    /// Job ads; applications refer to them by index into this list.
    pub positions: Vec<DemoPosition>,
    /// Applications, in the order to ingest them (their `createDateTime`s increase).
    pub applications: Vec<DemoApplication>,
}

/// A demo partner.
#[derive(Debug, Clone)]
pub struct DemoPartner {
    /// Display name.
    pub name: String,
    /// `(hirer index, relationship types that hirer grants this partner)`.
    pub relationships: Vec<(usize, Vec<RelationshipType>)>,
}

/// A demo job ad.
#[derive(Debug, Clone)]
pub struct DemoPosition {
    /// Index of the hirer in [`DemoWorld::hirers`].
    pub hirer: usize,
    /// The ad; `hirer_id` is `None`, the loader fills it in.
    pub input: PositionInput,
    /// Close the ad after all applications are ingested (its applications predate closing).
    pub closed: bool,
}

/// A demo application.
#[derive(Debug, Clone)]
pub struct DemoApplication {
    /// Index of the job ad in [`DemoWorld::positions`].
    pub position: usize,
    /// The application; `position_profile_id` is `None`, the loader fills it in.
    pub input: ApplicationInput,
    /// Answers to the job ad's questionnaire, one per component in its order, when it has one.
    /// Component and choice ids exist only once the ad is created, so the loader turns these
    /// into `questionnaireResponses`.
    pub answers: Option<Vec<DemoAnswer>>,
    /// Attached files (resume, cover letter, selection criteria), as in-memory bytes.
    pub files: Vec<DemoFile>,
}

/// A demo attachment: a small deterministic text or PDF document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFile {
    /// Original file name.
    pub filename: String,
    /// Media type.
    pub content_type: String,
    /// `Resume`, `CoverLetter`, `SelectionCriteria` or `None`.
    pub seek_role_code: Option<String>,
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// The content.
    pub bytes: Vec<u8>,
}

impl DemoFile {
    /// The `attachments[]` entry naming this file as multipart part `part`.
    pub fn input(&self, part: &str) -> candex_domain::input::AttachmentInput {
        candex_domain::input::AttachmentInput {
            file: Some(part.to_owned()),
            seek_role_code: self.seek_role_code.clone(),
            descriptions: self.descriptions.clone(),
            filename: Some(self.filename.clone()),
            content_type: Some(self.content_type.clone()),
            ..Default::default()
        }
    }
}

/// A minimal one-page PDF showing `lines` (valid structure, byte offsets computed).
pub fn tiny_pdf(lines: &[String]) -> Vec<u8> {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
    let mut text = String::from("BT /F1 11 Tf 56 780 Td 14 TL");
    for line in lines {
        text.push_str(&format!(" ({}) '", escape(line)));
    }
    text.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// The files of demo application `i`, derived from its content only (no random draws, so the
/// rest of the world is unchanged): most carry a resume (PDF or text), some a cover letter,
/// a few selection criteria.
fn demo_files(i: usize, input: &ApplicationInput) -> Vec<DemoFile> {
    let name = input
        .candidate
        .as_ref()
        .and_then(|c| c.person.as_ref())
        .and_then(|p| p.name.as_ref())
        .and_then(|n| n.formatted_name.clone().or_else(|| n.given.clone()))
        .unwrap_or_else(|| format!("Applicant {i}"));
    let titles: Vec<String> = input
        .employment
        .iter()
        .flat_map(|e| e.position_histories.iter().filter_map(|h| h.title.clone()))
        .take(6)
        .collect();
    let file_stem = name.replace(' ', "_");
    let mut files = Vec::new();
    if i % 5 != 4 {
        let mut lines = vec![format!("{name} - Resume"), String::new(), "Experience".to_owned()];
        lines.extend(titles.iter().map(|t| format!("  - {t}")));
        if titles.is_empty() {
            lines.push("  - Eager to start my career".to_owned());
        }
        let (filename, content_type, bytes) = if matches!(i % 2, 0) {
            (format!("{file_stem}_Resume.pdf"), "application/pdf", tiny_pdf(&lines))
        } else {
            (format!("{file_stem} resume.txt"), "text/plain", (lines.join("\n") + "\n").into_bytes())
        };
        files.push(DemoFile {
            filename,
            content_type: content_type.to_owned(),
            seek_role_code: Some("Resume".to_owned()),
            descriptions: Vec::new(),
            bytes,
        });
    }
    if matches!(i % 3, 0) {
        let text = format!("Dear hiring manager,\n\nI would like to apply for this role.\n\nKind regards,\n{name}\n");
        files.push(DemoFile {
            filename: "Cover letter.txt".to_owned(),
            content_type: "text/plain".to_owned(),
            seek_role_code: Some("CoverLetter".to_owned()),
            descriptions: Vec::new(),
            bytes: text.into_bytes(),
        });
    }
    if matches!(i % 7, 0) {
        let lines = vec![format!("{name} - Selection criteria"), "1. Communication: strong".to_owned()];
        files.push(DemoFile {
            filename: "Selection criteria.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            seek_role_code: Some("SelectionCriteria".to_owned()),
            descriptions: vec!["Key selection criteria responses".to_owned()],
            bytes: tiny_pdf(&lines),
        });
    }
    files
}

/// A demo answer to one questionnaire component, by position rather than by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoAnswer {
    /// A privacy consent: given or not.
    Consent(bool),
    /// A free-text question.
    FreeText(String),
    /// A select question: indexes into its choices.
    Choices(Vec<usize>),
}

/// The demo's screening questionnaire (on the first job ad): a privacy consent, a free-text,
/// a single-select and a multi-select question.
pub fn demo_questionnaire() -> QuestionnaireInput {
    let choice = |text: &str, value: &str, preferred: bool| ChoiceInput {
        text: Some(text.to_owned()),
        value: Some(value.to_owned()),
        preferred_indicator: Some(preferred),
    };
    let question = |value: &str, html: &str, kind: &str, choices: Option<Vec<ChoiceInput>>| ComponentInput {
        component_type_code: Some("Question".to_owned()),
        value: Some(value.to_owned()),
        question_html: Some(html.to_owned()),
        response_type_code: Some(kind.to_owned()),
        response_choice: choices,
        ..ComponentInput::default()
    };
    QuestionnaireInput {
        components: Some(vec![
            ComponentInput {
                component_type_code: Some("PrivacyConsent".to_owned()),
                value: Some("privacy".to_owned()),
                privacy_policy_url: Some("https://www.example.com/privacy".to_owned()),
                description_html: Some("Do you agree to the privacy policy?".to_owned()),
                ..ComponentInput::default()
            },
            question("motivation", "<p>Why would you like this role?</p>", "FreeText", None),
            question(
                "rights",
                "Do you have the right to work in Australia?",
                "SingleSelect",
                Some(vec![choice("Yes", "yes", true), choice("No", "no", false)]),
            ),
            question(
                "stack",
                "Which of these have you used in production?",
                "MultiSelect",
                Some(vec![
                    choice("Rust", "rust", true),
                    choice("PostgreSQL", "postgres", true),
                    choice("Kubernetes", "k8s", false),
                    choice("GraphQL", "graphql", true),
                ]),
            ),
        ]),
    }
}

/// Answers to [`demo_questionnaire`], varied by the application's index `i` without touching
/// the generator, so the rest of the demo world stays as it was.
fn demo_answers(i: usize) -> Vec<DemoAnswer> {
    const MOTIVATIONS: [&str; 3] = [
        "I enjoy building reliable systems.\nYour team's work on search caught my eye.",
        "  I'm relocating and this role fits my experience.  ",
        "Growth.",
    ];
    let stacks: [&[usize]; 4] = [&[0, 1, 3], &[0], &[1, 2], &[2]];
    vec![
        DemoAnswer::Consent(true),
        DemoAnswer::FreeText(MOTIVATIONS[i % MOTIVATIONS.len()].to_owned()),
        DemoAnswer::Choices(vec![usize::from(i % 4 == 3)]),
        DemoAnswer::Choices(stacks[i % stacks.len()].to_vec()),
    ]
}

/// The fixed demo data set: 2 hirers, 2 partners with different relationships, 6 job ads (one
/// to be closed) and 60 applications dated over the 6 weeks before [`demo_now`]. The first
/// application has every optional field filled in.
pub fn demo_world() -> DemoWorld {
    use RelationshipType::{ApplicationExport, JobPosting, ProactiveSourcing};
    // Field indexes into the built-in vocabulary: ICT, Healthcare, Sales, Accounting.
    const POSITION_FIELDS: [(usize, usize); 6] = [(0, 0), (0, 2), (0, 3), (1, 1), (1, 1), (1, 1)];
    const CLOSED: usize = 2;
    const QUESTIONNAIRE: usize = 0;
    const APPLICATIONS: usize = 60;

    let mut synth = Synth::new(DEMO_SEED).with_base_time(demo_now() - Duration::days(42));
    // At most 59 steps of 17 h: the last application lands before `demo_now()`.
    synth.step_secs = (6 * 3600, 17 * 3600);

    let mut positions: Vec<DemoPosition> = Vec::with_capacity(POSITION_FIELDS.len());
    for (i, &(hirer, field)) in POSITION_FIELDS.iter().enumerate() {
        let mut input = synth.position_inner(field);
        for _ in 0..20 {
            let taken = positions.iter().any(|p| p.hirer == hirer && p.input.position_title == input.position_title);
            if !taken {
                break;
            }
            input = synth.position_inner(field);
        }
        // Every demo ad carries a job reference, so the seed query shows one.
        input.seek_hirer_job_reference.get_or_insert_with(|| format!("REQ-{:05}", 10_400 + i));
        positions.push(DemoPosition { hirer, input, closed: i == CLOSED });
    }
    // The first ad (the showcase application's) screens its applicants.
    positions[QUESTIONNAIRE].input.questionnaire = Some(demo_questionnaire());

    let applications = (0..APPLICATIONS)
        .map(|i| {
            let position = if i < positions.len() { i } else { synth.rng.gen_range(0..positions.len()) };
            let hirer = positions[position].hirer;
            let field = if synth.chance(0.9) {
                POSITION_FIELDS[position].1
            } else {
                synth.rng.gen_range(0..words::FIELDS.len())
            };
            let size = if i == 0 { Size::Full } else { synth.size() };
            let input = synth.application_inner(&hirer.to_string(), field, size);
            let answers = (position == QUESTIONNAIRE).then(|| demo_answers(i));
            let files = demo_files(i, &input);
            DemoApplication { position, input, answers, files }
        })
        .collect();

    DemoWorld {
        hirers: vec!["Acme Recruitment Pty Ltd".to_owned(), "Globex Health".to_owned()],
        partners: vec![
            DemoPartner {
                name: "Demo ATS".to_owned(),
                relationships: vec![(0, vec![ApplicationExport, JobPosting]), (1, vec![ApplicationExport])],
            },
            DemoPartner {
                name: "Other ATS".to_owned(),
                relationships: vec![(0, vec![JobPosting]), (1, vec![ProactiveSourcing])],
            },
        ],
        positions,
        applications,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candex_domain::input::{validate_application, validate_position};
    use std::collections::HashSet;

    const PPID: &str = "seekAnzPublicTest:positionProfile:jobAd:demo1";
    const HIRER: &str = "seekAnzPublicTest:organization:seek:demo1";

    fn batch(seed: u64, n: usize) -> Vec<Value> {
        let mut s = Synth::new(seed).with_base_time(demo_now());
        (0..n).map(|_| application_json(&s.application(PPID))).collect()
    }

    fn emails(app: &ApplicationInput) -> Vec<String> {
        app.candidate
            .as_ref()
            .and_then(|c| c.person.as_ref())
            .and_then(|p| p.communication.as_ref())
            .map(|c| c.email.iter().filter_map(|e| e.address.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_same_seed_yields_identical_json_and_another_seed_differs() {
        let a = serde_json::to_string(&batch(7, 300)).unwrap();
        let b = serde_json::to_string(&batch(7, 300)).unwrap();
        let c = serde_json::to_string(&batch(8, 300)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut p1 = Synth::new(7);
        let mut p2 = Synth::new(7);
        for _ in 0..50 {
            assert_eq!(position_json(&p1.position(HIRER)), position_json(&p2.position(HIRER)));
        }
    }

    #[test]
    fn two_thousand_applications_and_two_hundred_positions_all_validate() {
        let mut s = Synth::new(42);
        for i in 0..2_000 {
            let app = s.application(PPID);
            if let Err(e) = validate_application(app.clone()) {
                panic!("application {i} invalid: {e:?}\n{}", application_json(&app));
            }
        }
        for i in 0..200 {
            let p = s.position(HIRER);
            if let Err(e) = validate_position(p.clone()) {
                panic!("position {i} invalid: {e:?}\n{}", position_json(&p));
            }
        }
    }

    #[test]
    fn json_round_trips_through_the_operator_input_shape() {
        let mut s = Synth::new(3).with_base_time(demo_now());
        for _ in 0..300 {
            let json = application_json(&s.application(PPID));
            let back: ApplicationInput = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(application_json(&back), json);
        }
        for _ in 0..50 {
            let json = position_json(&s.position(HIRER));
            let back: PositionInput = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(position_json(&back), json);
        }
    }

    #[test]
    fn every_size_class_occurs() {
        let mut s = Synth::new(11);
        let apps: Vec<ApplicationInput> = (0..1_000).map(|_| s.application(PPID)).collect();
        let tiny = apps.iter().filter(|a| a.employment.is_empty() && a.qualifications.is_empty()).count();
        let large = apps.iter().filter(|a| a.employment.len() >= 8).count();
        let medium = apps.iter().filter(|a| (2..=4).contains(&a.employment.len())).count();
        assert!(tiny > 30, "tiny: {tiny}");
        assert!(large > 30, "large: {large}");
        assert!(medium > 500, "medium: {medium}");
        let multi_paragraph = apps
            .iter()
            .flat_map(|a| &a.employment)
            .flat_map(|e| &e.position_histories)
            .flat_map(|h| &h.descriptions)
            .any(|d| d.contains('\n'));
        assert!(multi_paragraph);
        assert!(apps.iter().any(|a| a.qualifications.len() == 20));
        assert!(apps.iter().any(|a| a.employment.iter().any(|e| e.position_histories.len() == 5)));
        assert!(apps.iter().any(|a| a
            .employment
            .first()
            .and_then(|e| e.position_histories.first())
            .is_some_and(|h| h.current == Some(true) && h.end.is_none())));
    }

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
    fn create_date_times_increase_when_a_base_time_is_set_and_are_absent_otherwise() {
        let mut s = Synth::new(1).with_base_time(demo_now());
        let times: Vec<DateTime<Utc>> = (0..100)
            .map(|_| s.application(PPID).create_date_time.unwrap())
            .map(|t| DateTime::parse_from_rfc3339(&t).unwrap().with_timezone(&Utc))
            .collect();
        assert_eq!(times[0], demo_now());
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        assert!(Synth::new(1).application(PPID).create_date_time.is_none());
    }

    #[test]
    fn the_demo_world_has_the_documented_shape() {
        let w = demo_world();
        assert!(w.hirers.len() >= 2);
        assert_eq!(w.partners.len(), 2);
        assert_eq!(w.positions.len(), 6);
        assert_eq!(w.applications.len(), 60);
        for h in 0..w.hirers.len() {
            assert_eq!(w.positions.iter().filter(|p| p.hirer == h).count(), 3);
        }
        assert_eq!(w.positions.iter().filter(|p| p.closed).count(), 1);
        let closed = w.positions.iter().position(|p| p.closed).unwrap();
        assert!(w.applications.iter().any(|a| a.position == closed));
        for p in 0..w.positions.len() {
            assert!(w.applications.iter().any(|a| a.position == p));
        }
        assert!(w.positions.iter().all(|p| p.input.hirer_id.is_none()));
        assert!(w.applications.iter().all(|a| a.input.position_profile_id.is_none()));
        let times: Vec<&str> = w.applications.iter().map(|a| a.input.create_date_time.as_deref().unwrap()).collect();
        assert!(times.windows(2).all(|t| t[0] < t[1]));
        assert!(*times.last().unwrap() < demo_now().to_rfc3339().as_str());
        // The same world every time.
        let again = demo_world();
        let j = |w: &DemoWorld| w.applications.iter().map(|a| application_json(&a.input)).collect::<Vec<_>>();
        assert_eq!(j(&w), j(&again));
    }

    #[test]
    fn the_first_demo_ad_has_a_questionnaire_that_its_applications_answer() {
        let w = demo_world();
        let with: Vec<usize> =
            (0..w.positions.len()).filter(|p| w.positions[*p].input.questionnaire.is_some()).collect();
        assert_eq!(with, vec![0]);
        let mut errors = candex_domain::FieldErrors::new();
        let draft = candex_domain::questionnaire::validate_questionnaire(&mut errors, "", demo_questionnaire());
        assert!(draft.is_some(), "{errors}");
        assert_eq!(w.applications[0].position, 0);
        for a in &w.applications {
            assert_eq!(a.answers.is_some(), a.position == 0);
            if let Some(answers) = &a.answers {
                assert_eq!(answers.len(), 4);
            }
        }
        assert_eq!(
            w.applications.iter().map(|a| a.answers.clone()).collect::<Vec<_>>(),
            demo_world().applications.iter().map(|a| a.answers.clone()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_demo_partners_hold_different_relationships() {
        let w = demo_world();
        let can_export = |p: &DemoPartner| {
            p.relationships.iter().any(|(_, types)| types.contains(&RelationshipType::ApplicationExport))
        };
        assert_ne!(w.partners[0].relationships, w.partners[1].relationships);
        assert!(can_export(&w.partners[0]));
        assert!(!can_export(&w.partners[1]));
        for p in &w.partners {
            assert!(p.relationships.iter().all(|(h, _)| *h < w.hirers.len()));
        }
    }

    #[test]
    fn the_first_demo_application_is_fully_populated() {
        let w = demo_world();
        let app = &w.applications[0].input;
        let person = app.candidate.as_ref().unwrap().person.as_ref().unwrap();
        let name = person.name.as_ref().unwrap();
        assert!(name.given.is_some() && name.family.is_some() && name.formatted_name.is_some());
        let comm = person.communication.as_ref().unwrap();
        assert_eq!(comm.email.len(), 1);
        assert_eq!(comm.phone.len(), 2);
        assert!(comm.seek_do_not_contact_indicator.is_some());
        let a = &comm.address[0];
        assert!(a.line.is_some() && a.city.is_some() && a.postal_code.is_some());
        assert!(a.country_code.is_some() && a.formatted_address.is_some() && a.geo_location.is_some());
        assert!(!a.country_sub_divisions.is_empty() && !a.extended_lines.is_empty());
        assert!(app.employment.len() >= 3);
        let latest = &app.employment[0].position_histories[0];
        assert_eq!(latest.current, Some(true));
        assert!(latest.end.is_none());
        for h in app.employment.iter().flat_map(|e| &e.position_histories) {
            assert!(h.title.is_some() && h.start.is_some() && !h.descriptions.is_empty());
        }
        assert!(app.employment.iter().flat_map(|e| &e.position_histories).skip(1).all(|h| h.end.is_some()));
        let edu = &app.education[0];
        assert!(edu.institution.is_some() && !edu.descriptions.is_empty());
        assert!(edu
            .education_degrees
            .iter()
            .any(|d| d.date.is_some() && d.degree_granted_status.as_deref() == Some("Granted")));
        assert!(app.certifications.len() >= 2);
        for c in &app.certifications {
            assert!(c.issued.is_some() && c.issuing_authority.is_some() && !c.descriptions.is_empty());
            assert!(c.effective_time_period.as_ref().and_then(|p| p.valid_to.as_ref()).is_some());
        }
        assert!(app.qualifications.len() >= 5);
        assert!(app.create_date_time.is_some());
        // No later demo application reuses (and so overwrites) the showcase candidate.
        let first = emails(app);
        assert!(w.applications.iter().skip(1).all(|a| emails(&a.input) != first));
        // Other candidates do apply more than once.
        let all: Vec<Vec<String>> = w.applications.iter().map(|a| emails(&a.input)).collect();
        let distinct: HashSet<&Vec<String>> = all.iter().collect();
        assert!(distinct.len() < all.len());
    }

    #[test]
    fn every_demo_application_and_position_validates_once_ids_are_set() {
        let w = demo_world();
        for (i, a) in w.applications.iter().enumerate() {
            let mut input = a.input.clone();
            input.position_profile_id = Some(PPID.to_owned());
            if let Err(e) = validate_application(input) {
                panic!("demo application {i} invalid: {e:?}");
            }
        }
        for p in &w.positions {
            let mut input = p.input.clone();
            input.hirer_id = Some(HIRER.to_owned());
            assert!(validate_position(input).is_ok());
        }
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
