//! The profile snapshot taken at application time: employment, education, certifications and
//! qualifications, plus `HistoryDate`. Serialised with SEEK's GraphQL field names; this is also
//! the stored form, so a profile reads back in one row.

use serde::{Deserialize, Serialize};

/// A partial ISO 8601 date: `2020`, `2020-05` or `2020-05-27`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HistoryDate(String);

impl HistoryDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with a real month and day.
    pub fn parse(value: &str) -> Result<Self, String> {
        let err = || format!("must be a date as YYYY, YYYY-MM or YYYY-MM-DD, got {value:?}");
        let parts: Vec<&str> = value.split('-').collect();
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let ok = match parts.as_slice() {
            [y] => digits(y, 4),
            [y, m] => digits(y, 4) && digits(m, 2) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)),
            [y, m, d] => {
                digits(y, 4)
                    && digits(m, 2)
                    && digits(d, 2)
                    && chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok()
            }
            _ => false,
        };
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(err())
        }
    }

    /// The date as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HistoryDate {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<HistoryDate> for String {
    fn from(d: HistoryDate) -> Self {
        d.0
    }
}

/// Everything on a profile that is fixed at application time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Employment history.
    #[serde(default)]
    pub employment: Vec<EmployerHistory>,
    /// Education history.
    #[serde(default)]
    pub education: Vec<EducationAttendance>,
    /// Licences and certifications.
    #[serde(default)]
    pub certifications: Vec<Certification>,
    /// Skills.
    #[serde(default)]
    pub qualifications: Vec<PersonCompetency>,
}

/// `Organization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// The organisation's name.
    pub name: String,
}

/// `EmployerHistory`: one employer and the positions held there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmployerHistory {
    /// The employer.
    pub organization: Organization,
    /// Positions held.
    pub position_histories: Vec<PositionHistory>,
}

/// `PositionHistory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionHistory {
    /// Job title.
    pub title: String,
    /// Start date.
    pub start: HistoryDate,
    /// End date; absent when current or unknown.
    pub end: Option<HistoryDate>,
    /// Whether this is the current position.
    pub current: Option<bool>,
    /// Free-text descriptions.
    #[serde(default)]
    pub descriptions: Vec<String>,
}

/// `EducationAttendance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EducationAttendance {
    /// The institution.
    pub institution: Organization,
    /// Degrees studied there.
    #[serde(default)]
    pub education_degrees: Vec<EducationDegree>,
    /// Free-text descriptions.
    #[serde(default)]
    pub descriptions: Vec<String>,
}

/// `EducationDegree`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EducationDegree {
    /// Degree name.
    pub name: String,
    /// `Granted` or `InProgress` (other codes are kept as given).
    pub degree_granted_status: String,
    /// Completion date.
    pub date: Option<HistoryDate>,
}

/// `Certification`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certification {
    /// Certification name.
    pub name: String,
    /// Issue date.
    pub issued: Option<HistoryDate>,
    /// Validity; absent when no expiry is known.
    pub effective_time_period: Option<EffectiveTimePeriod>,
    /// Who issued it.
    pub issuing_authority: Option<Organization>,
    /// Free-text descriptions.
    #[serde(default)]
    pub descriptions: Vec<String>,
}

/// `EffectiveTimePeriod`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveTimePeriod {
    /// Expiry date.
    pub valid_to: Option<HistoryDate>,
}

/// `PersonCompetency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonCompetency {
    /// The skill.
    pub competency_name: String,
}

/// `CandidateSource`, e.g. `{name: "SEEK", type: "SeekApplication"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateSource {
    /// Source name.
    pub name: String,
    /// Source type code.
    #[serde(rename = "type")]
    pub kind: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn history_dates_accept_the_three_precisions() {
        for ok in ["2020", "2020-05", "2020-05-27", "2024-02-29"] {
            assert!(HistoryDate::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "20", "2020-13", "2020-00", "2021-02-29", "2020-5", "2020-05-27T00:00", "abcd"] {
            assert!(HistoryDate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn snapshot_round_trips_through_json() {
        let json = serde_json::json!({
            "employment": [{"organization": {"name": "Swift Inc"}, "positionHistories": [
                {"title": "Rep", "start": "2015-05", "end": "2018-03", "current": false, "descriptions": ["a"]}]}],
            "education": [], "certifications": [], "qualifications": [{"competencyName": "Rust"}]
        });
        let snap: Snapshot = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&snap).unwrap(), json);
    }

    proptest! {
        #[test]
        fn history_date_parse_never_panics(s in ".{0,20}") {
            let _ = HistoryDate::parse(&s);
        }
    }
}
