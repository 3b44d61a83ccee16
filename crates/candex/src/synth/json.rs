//! The operator-API JSON bodies of generated applications and job ads, omitting absent fields.

use candex_domain::input::{AddressComponentInput, ApplicationInput, OrganizationInput, PersonInput, PositionInput};
use serde_json::{json, Map, Value};

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
