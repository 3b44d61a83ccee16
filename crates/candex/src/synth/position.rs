//! Job ads: title, reference, location, category, work type and advertisement text.

use candex_domain::input::{NamedPlaceInput, PositionInput};
use rand::Rng;

use super::{words, Synth};

impl Synth {
    pub(super) fn position_inner(&mut self, field: usize) -> PositionInput {
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
