//! Validation of the profile snapshot of an application: employment, education,
//! certifications and qualifications.

use super::check::Check;
use super::{
    CertificationInput, EducationAttendanceInput, EmployerHistoryInput, PersonCompetencyInput, MAX_SHORT_TEXT,
};
use crate::snapshot::{
    Certification, EducationAttendance, EducationDegree, EffectiveTimePeriod, EmployerHistory, PersonCompetency,
    PositionHistory,
};

pub(super) fn employment_in(c: &mut Check, list: Vec<EmployerHistoryInput>) -> Vec<EmployerHistory> {
    if !c.list_len("/employment", &list) {
        return Vec::new();
    }
    list.into_iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let ptr = format!("/employment/{i}");
            let organization = c.organization(&format!("{ptr}/organization"), e.organization, true);
            let hp = format!("{ptr}/positionHistories");
            let position_histories = if c.list_len(&hp, &e.position_histories) {
                e.position_histories
                    .into_iter()
                    .enumerate()
                    .filter_map(|(j, h)| {
                        let p = format!("{hp}/{j}");
                        let title = c.text(&format!("{p}/title"), h.title, MAX_SHORT_TEXT, true);
                        let start = c.date(&format!("{p}/start"), h.start, true);
                        let end = c.date(&format!("{p}/end"), h.end, false);
                        if let (Some(s), Some(e)) = (&start, &end) {
                            if e.as_str() < s.as_str() && !e.as_str().starts_with(s.as_str()) {
                                c.errors.add(format!("{p}/end"), "must not be before start");
                            }
                        }
                        let descriptions = c.texts(&format!("{p}/descriptions"), h.descriptions);
                        Some(PositionHistory { title: title?, start: start?, end, current: h.current, descriptions })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Some(EmployerHistory { organization: organization?, position_histories })
        })
        .collect()
}

pub(super) fn education_in(c: &mut Check, list: Vec<EducationAttendanceInput>) -> Vec<EducationAttendance> {
    if !c.list_len("/education", &list) {
        return Vec::new();
    }
    list.into_iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let ptr = format!("/education/{i}");
            let institution = c.organization(&format!("{ptr}/institution"), e.institution, true);
            let dp = format!("{ptr}/educationDegrees");
            let education_degrees = if c.list_len(&dp, &e.education_degrees) {
                e.education_degrees
                    .into_iter()
                    .enumerate()
                    .filter_map(|(j, d)| {
                        let p = format!("{dp}/{j}");
                        let name = c.text(&format!("{p}/name"), d.name, MAX_SHORT_TEXT, true);
                        let status = c.text(&format!("{p}/degreeGrantedStatus"), d.degree_granted_status, 64, true);
                        let date = c.date(&format!("{p}/date"), d.date, false);
                        Some(EducationDegree { name: name?, degree_granted_status: status?, date })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let descriptions = c.texts(&format!("{ptr}/descriptions"), e.descriptions);
            Some(EducationAttendance { institution: institution?, education_degrees, descriptions })
        })
        .collect()
}

pub(super) fn certifications_in(c: &mut Check, list: Vec<CertificationInput>) -> Vec<Certification> {
    if !c.list_len("/certifications", &list) {
        return Vec::new();
    }
    list.into_iter()
        .enumerate()
        .filter_map(|(i, cert)| {
            let ptr = format!("/certifications/{i}");
            let name = c.text(&format!("{ptr}/name"), cert.name, MAX_SHORT_TEXT, true);
            let issued = c.date(&format!("{ptr}/issued"), cert.issued, false);
            let effective_time_period = cert.effective_time_period.map(|p| EffectiveTimePeriod {
                valid_to: c.date(&format!("{ptr}/effectiveTimePeriod/validTo"), p.valid_to, false),
            });
            let issuing_authority = c.organization(&format!("{ptr}/issuingAuthority"), cert.issuing_authority, false);
            let descriptions = c.texts(&format!("{ptr}/descriptions"), cert.descriptions);
            Some(Certification { name: name?, issued, effective_time_period, issuing_authority, descriptions })
        })
        .collect()
}

pub(super) fn qualifications_in(c: &mut Check, list: Vec<PersonCompetencyInput>) -> Vec<PersonCompetency> {
    if !c.list_len("/qualifications", &list) {
        return Vec::new();
    }
    list.into_iter()
        .enumerate()
        .filter_map(|(i, q)| {
            c.text(&format!("/qualifications/{i}/competencyName"), q.competency_name, MAX_SHORT_TEXT, true)
                .map(|competency_name| PersonCompetency { competency_name })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::input::{validate_application, ApplicationInput};

    fn parse(v: serde_json::Value) -> ApplicationInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn end_before_start_is_rejected_but_same_month_is_fine() {
        let base = |end: &str| {
            parse(serde_json::json!({
                "positionProfileId": "s:positionProfile:jobAd:a",
                "candidate": {"person": {"name": {"family": "X"}, "communication": {"email": [{"address": "x@y.io"}]}}},
                "employment": [{"organization": {"name": "A"}, "positionHistories": [{"title": "t", "start": "2020-05", "end": end}]}]
            }))
        };
        assert!(validate_application(base("2019-01")).is_err());
        assert!(validate_application(base("2020-05-31")).is_ok());
        assert!(validate_application(base("2021")).is_ok());
    }
}
