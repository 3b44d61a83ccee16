//! The `serve --demo` world: its hirers, partners, job ads and applications, the screening
//! questionnaire of its first ad and the answers to it.

use candex_domain::input::{ApplicationInput, PositionInput};
use candex_domain::questionnaire::{ChoiceInput, ComponentInput, QuestionnaireInput};
use candex_domain::RelationshipType;
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::Rng;

use super::files::{demo_files, DemoFile};
use super::{words, Size, Synth};

/// The seed of [`demo_world`].
pub const DEMO_SEED: u64 = 0x00C4_4DE7_0000_0001;

/// The fixed "now" the demo world's application times lead up to: 2025-03-03T09:00:00Z.
pub fn demo_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).single().unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

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
    use crate::synth::application_json;
    use crate::synth::testkit::{emails, HIRER, PPID};
    use candex_domain::input::{validate_application, validate_position};
    use std::collections::HashSet;

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
}
