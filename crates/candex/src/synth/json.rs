//! The operator-API JSON bodies of generated applications and job ads, omitting absent fields.

use candex_domain::input::{ApplicationInput, PositionInput};
use serde_json::Value;

/// The operator-API body of an application (absent fields left out).
pub fn application_json(app: &ApplicationInput) -> Value {
    without_nulls(serde_json::to_value(app).unwrap_or_default())
}

/// The operator-API body of a job ad (absent fields left out).
pub fn position_json(p: &PositionInput) -> Value {
    without_nulls(serde_json::to_value(p).unwrap_or_default())
}

/// Drops `null` members of objects at every depth, so an absent optional field is left out
/// rather than sent as `null` (both mean the same to the operator API).
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::testkit::{HIRER, PPID};
    use crate::synth::{demo_now, Synth};

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
}
