//! Deterministic synthetic data: job applications, job ads and the `serve --demo` world, all drawn
//! from one seeded ChaCha8 generator, so the same seed always yields byte-identical data.
//!
//! Everything generated passes `candex_domain::input::validate_application` /
//! `validate_position` once the caller supplies real identifiers. Memory stays flat however
//! many items are generated: the only state kept between calls is a bounded pool of recent
//! candidate identities (for email reuse) and a clock.
//!
//! This file holds the generator's state and its entry points; the parts of an application
//! (`person`, `history`), job ads (`position`), the JSON bodies (`json`) and the demo world
//! (`demo`, `files`) each live in their own file.

mod demo;
mod files;
mod history;
mod json;
mod person;
mod position;
#[cfg(test)]
mod testkit;
mod words;

use std::collections::VecDeque;

use candex_domain::input::{ApplicationInput, CandidateInput, PersonInput, PositionInput};
use chrono::{DateTime, Datelike, Duration, SecondsFormat, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use words::City;

pub use demo::{
    demo_now, demo_questionnaire, demo_world, DemoAnswer, DemoApplication, DemoPartner, DemoPosition, DemoWorld,
    DEMO_SEED,
};
pub use files::{tiny_pdf, DemoFile};
pub use json::{application_json, position_json};

/// How many recent candidate identities a [`Synth`] remembers for email reuse.
pub const EMAIL_POOL_SIZE: usize = 200;

/// Share of applications that reuse an earlier candidate (same name and email) of the same hirer.
const REUSE_SHARE: f64 = 0.10;

/// The month history dates are generated up to when no base time is set (June 2025).
const DEFAULT_TODAY: i32 = 2025 * 12 + 5;

/// Earliest month any history date may fall in.
const EARLIEST: i32 = 1960 * 12;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use candex_domain::input::{validate_application, validate_position};
    use serde_json::Value;
    use testkit::{HIRER, PPID};

    fn batch(seed: u64, n: usize) -> Vec<Value> {
        let mut s = Synth::new(seed).with_base_time(demo_now());
        (0..n).map(|_| application_json(&s.application(PPID))).collect()
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
}
