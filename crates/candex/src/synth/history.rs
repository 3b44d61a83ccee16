//! The profile snapshot of an application: employment histories with their dates and duty
//! descriptions, education, certifications and qualifications.

use candex_domain::input::{
    CertificationInput, EducationAttendanceInput, EducationDegreeInput, EffectiveTimePeriodInput, EmployerHistoryInput,
    OrganizationInput, PersonCompetencyInput, PositionHistoryInput,
};
use rand::seq::SliceRandom;
use rand::Rng;

use super::words::{self, Field};
use super::{Precision, Size, Synth, EARLIEST};

impl Synth {
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

    pub(super) fn employment(&mut self, f: &Field, size: Size) -> Vec<EmployerHistoryInput> {
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

    pub(super) fn education(&mut self, f: &Field, size: Size) -> Vec<EducationAttendanceInput> {
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

    pub(super) fn certifications(&mut self, f: &Field, size: Size) -> Vec<CertificationInput> {
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

    pub(super) fn qualifications(&mut self, f: &Field, size: Size) -> Vec<PersonCompetencyInput> {
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
}
