//! Timestamps as candex stores and shows them: UTC, millisecond precision.

use chrono::{DateTime, SubsecRound, Utc};

/// The current time truncated to milliseconds, so values survive every backend unchanged.
pub fn now_ms() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Formats as RFC 3339 with milliseconds and `Z`, the shape SEEK's `DateTime` uses
/// (`2019-09-13T22:16:10.593Z`).
pub fn format_rfc3339_ms(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_with_millis_and_z() {
        let t = Utc.with_ymd_and_hms(2019, 9, 13, 22, 16, 10).unwrap() + chrono::Duration::milliseconds(593);
        assert_eq!(format_rfc3339_ms(&t), "2019-09-13T22:16:10.593Z");
    }
}
