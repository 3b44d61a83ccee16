//! Authorisation: a partner reads exactly the data of hirers where it holds the needed
//! relationship, through every field that reaches it. A property test builds random worlds of
//! hirers, partners, relationships and applications and checks every partner against every
//! object; deterministic tests cover revocation, error shapes and malformed ids.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp, TestPartner};

const CODES: [&str; 3] = ["ApplicationExport", "JobPosting", "ProactiveSourcing"];

const PROBE: &str = r#"query ($p: String!, $c: String!, $pos: String!, $h: String!) {
  candidateProfile(id: $p) {
    profileId { value }
    associatedPositionProfile { positionOrganizations { id { value } } }
    candidate { documentId { value } profiles { profileId { value } associatedPositionProfile { positionOrganizations { id { value } } } } }
  }
  candidate(id: $c) { documentId { value } profiles(last: 10) { profileId { value } } }
  positionProfile(id: $pos) { profileId { value } }
  positionOpening: positionProfile(id: $pos) { positionOpening { documentId { value } } }
  hiringOrganization(id: $h) { id { value } seekApiCapabilities { relationshipTypeCodes } }
}"#;

#[derive(Debug, Clone)]
struct World {
    hirers: usize,
    /// relationships[partner][hirer] = bitmask over CODES
    relationships: Vec<Vec<u8>>,
    /// (hirer index, email index)
    applications: Vec<(usize, usize)>,
}

fn world() -> impl Strategy<Value = World> {
    (1usize..=3, 1usize..=3).prop_flat_map(|(hirers, partners)| {
        (
            Just(hirers),
            prop::collection::vec(prop::collection::vec(0u8..8, hirers), partners),
            prop::collection::vec((0..hirers, 0usize..3), 1..=6),
        )
            .prop_map(|(hirers, relationships, applications)| World { hirers, relationships, applications })
    })
}

fn has(mask: u8, code: &str) -> bool {
    CODES.iter().position(|c| *c == code).is_some_and(|i| mask & (1 << i) != 0)
}

fn field_error(response: &Value, field: &str) -> Option<String> {
    response["errors"].as_array()?.iter().find_map(|e| {
        (e["path"].get(0).and_then(Value::as_str) == Some(field))
            .then(|| e["extensions"]["code"].as_str().unwrap_or_default().to_owned())
    })
}

/// Checks that a root field is visible, or null with FORBIDDEN.
fn check_field(response: &Value, field: &str, visible: bool, context: &str) -> Result<(), TestCaseError> {
    let data = &response["data"][field];
    if visible {
        prop_assert!(!data.is_null(), "{context}: {field} should be visible: {response}");
        prop_assert_eq!(field_error(response, field), None, "{}: {}", context, field);
    } else {
        prop_assert!(data.is_null(), "{context}: {field} leaked: {response}");
        let code = field_error(response, field);
        prop_assert_eq!(code.as_deref(), Some("FORBIDDEN"), "{}: {}", context, field);
    }
    Ok(())
}

async fn check_world(app: &TestApp, w: &World, case: u64) -> Result<(), TestCaseError> {
    let mut hirers = Vec::new();
    let mut positions = Vec::new();
    for h in 0..w.hirers {
        let id = app.create_hirer(&format!("Case {case} hirer {h}")).await;
        positions.push(app.create_position(&id, "Role").await);
        hirers.push(id);
    }
    let mut partners: Vec<TestPartner> = Vec::new();
    for (p, masks) in w.relationships.iter().enumerate() {
        let partner = app.create_partner(&format!("Case {case} partner {p}")).await;
        for (h, mask) in masks.iter().enumerate() {
            let codes: Vec<&str> = CODES.iter().copied().filter(|c| has(*mask, c)).collect();
            app.relate(&partner, &hirers[h], &codes).await;
        }
        partners.push(partner);
    }
    let mut apps = Vec::new();
    for (h, e) in &w.applications {
        let (profile, candidate) = app.apply(&positions[*h], &format!("person{e}.case{case}@example.com")).await;
        apps.push((*h, profile, candidate));
    }
    for (p, partner) in partners.iter().enumerate() {
        let token = app.token(partner).await;
        for (h, profile, candidate) in &apps {
            let mask = w.relationships[p][*h];
            let vars = json!({"p": profile, "c": candidate, "pos": positions[*h], "h": hirers[*h]});
            let r = app.graphql(Some(&token), PROBE, vars).await;
            let ctx = format!("partner {p} mask {mask:03b} hirer {h}");
            let export = has(mask, "ApplicationExport");
            check_field(&r, "candidateProfile", export, &ctx)?;
            check_field(&r, "candidate", export, &ctx)?;
            check_field(&r, "positionProfile", export || has(mask, "JobPosting"), &ctx)?;
            check_field(&r, "hiringOrganization", mask != 0, &ctx)?;
            if export {
                // Everything reachable from the profile stays within its hirer.
                let cp = &r["data"]["candidateProfile"];
                prop_assert_eq!(
                    &cp["associatedPositionProfile"]["positionOrganizations"][0]["id"]["value"],
                    &json!(hirers[*h])
                );
                for nested in cp["candidate"]["profiles"].as_array().unwrap() {
                    prop_assert_eq!(
                        &nested["associatedPositionProfile"]["positionOrganizations"][0]["id"]["value"],
                        &json!(hirers[*h])
                    );
                }
                let expected: BTreeSet<&str> =
                    apps.iter().filter(|(_, _, c)| c == candidate).map(|(_, p, _)| p.as_str()).collect();
                let got: BTreeSet<&str> = r["data"]["candidate"]["profiles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["profileId"]["value"].as_str().unwrap())
                    .collect();
                prop_assert_eq!(got, expected);
            }
            if mask != 0 {
                let codes: Vec<&str> = CODES.iter().copied().filter(|c| has(mask, c)).collect();
                prop_assert_eq!(
                    &r["data"]["hiringOrganization"]["seekApiCapabilities"]["relationshipTypeCodes"],
                    &json!(codes)
                );
            }
        }
        // hiringOrganizations lists exactly the hirers with any relationship.
        let list = app
            .graphql(Some(&token), r#"{ hiringOrganizations(schemeId: "seekAnzPublicTest", first: 100) { edges { node { id { value } } } } }"#, json!({}))
            .await;
        let got: BTreeSet<&str> = list["data"]["hiringOrganizations"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"]["value"].as_str().unwrap())
            .collect();
        let expected: BTreeSet<&str> =
            (0..w.hirers).filter(|h| w.relationships[p][*h] != 0).map(|h| hirers[h].as_str()).collect();
        prop_assert_eq!(got, expected, "partner {}", p);
    }
    Ok(())
}

#[test]
fn a_partner_reads_exactly_the_profiles_of_hirers_that_granted_application_export() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let app = rt.block_on(TestApp::spawn());
    let cases = std::env::var("CANDEX_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let counter = std::sync::atomic::AtomicU64::new(0);
    runner
        .run(&world(), |w| {
            let case = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            rt.block_on(check_world(&app, &w, case))
        })
        .unwrap();
}

#[tokio::test]
async fn revoking_application_export_stops_reads_at_once() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport", "JobPosting"]).await;
    let position = app.create_position(&hirer, "Role").await;
    let (profile, _) = app.apply(&position, "a@example.com").await;
    let token = app.token(&partner).await;
    let q = "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }";
    let before = app.graphql(Some(&token), q, json!({"id": profile})).await;
    assert_eq!(before["data"]["candidateProfile"]["profileId"]["value"], profile);

    app.relate(&partner, &hirer, &["JobPosting"]).await;
    let after = app.graphql(Some(&token), q, json!({"id": profile})).await;
    assert_eq!(after["data"]["candidateProfile"], Value::Null, "the same token reads nothing after revocation");
    assert_eq!(error_codes(&after), vec!["FORBIDDEN"]);
    assert_eq!(after["errors"][0]["path"], json!(["candidateProfile"]));

    app.relate(&partner, &hirer, &[]).await;
    let org = app
        .graphql(Some(&token), "query ($id: String!) { hiringOrganization(id: $id) { name } }", json!({"id": hirer}))
        .await;
    assert_eq!(error_codes(&org), vec!["FORBIDDEN"]);
}

#[tokio::test]
async fn malformed_ids_are_bad_user_input_and_unknown_ids_are_null() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let token = app.token(&partner).await;
    let q = "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }";
    for bad in ["", "nope", "a:b:c", "seekAnzPublicTest:candidate:feed:abc"] {
        let r = app.graphql(Some(&token), q, json!({"id": bad})).await;
        assert_eq!(error_codes(&r), vec!["BAD_USER_INPUT"], "{bad:?}: {r}");
        assert!(r["errors"][0]["extensions"]["invalidFields"]["/id"].is_string(), "{r}");
    }
    let r = app.graphql(Some(&token), q, json!({"id": "seekAnzPublicTest:candidateProfile:apply:doesNotExist"})).await;
    assert_eq!(r["data"]["candidateProfile"], Value::Null);
    assert!(r.get("errors").is_none(), "{r}");
}

#[tokio::test]
async fn hiring_organizations_pages_forward_and_backward_by_name() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("ATS").await;
    let mut names = Vec::new();
    for name in ["Delta", "alpha", "Charlie", "Bravo", "Echo"] {
        let h = app.create_hirer(name).await;
        app.relate(&partner, &h, &["JobPosting"]).await;
        names.push(name);
    }
    let other = app.create_hirer("Aardvark (unrelated)").await;
    let _ = other;
    let token = app.token(&partner).await;
    let q = r#"query ($first: Int, $after: String, $last: Int, $before: String) {
        hiringOrganizations(schemeId: "seekAnzPublicTest", first: $first, after: $after, last: $last, before: $before) {
          edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor } } }"#;
    let names_of = |r: &Value| -> Vec<String> {
        r["data"]["hiringOrganizations"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let p1 = app.graphql(Some(&token), q, json!({"first": 2})).await;
    assert_eq!(names_of(&p1), ["Bravo", "Charlie"]);
    assert_eq!(p1["data"]["hiringOrganizations"]["pageInfo"]["hasNextPage"], true);
    let p2 = app
        .graphql(
            Some(&token),
            q,
            json!({"first": 2, "after": p1["data"]["hiringOrganizations"]["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(names_of(&p2), ["Delta", "Echo"]);
    let p3 = app
        .graphql(
            Some(&token),
            q,
            json!({"first": 2, "after": p2["data"]["hiringOrganizations"]["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(names_of(&p3), ["alpha"]);
    assert_eq!(p3["data"]["hiringOrganizations"]["pageInfo"]["hasNextPage"], false);
    let back = app
        .graphql(
            Some(&token),
            q,
            json!({"last": 2, "before": p2["data"]["hiringOrganizations"]["pageInfo"]["startCursor"]}),
        )
        .await;
    assert_eq!(names_of(&back), ["Bravo", "Charlie"]);
    assert_eq!(back["data"]["hiringOrganizations"]["pageInfo"]["hasPreviousPage"], false);
    let both = app.graphql(Some(&token), q, json!({"first": 1, "last": 1})).await;
    assert_eq!(error_codes(&both), vec!["BAD_USER_INPUT"]);
    let too_many = app.graphql(Some(&token), q, json!({"first": 101})).await;
    assert_eq!(error_codes(&too_many), vec!["BAD_USER_INPUT"]);
    let bad_scheme = app
        .graphql(Some(&token), r#"{ hiringOrganizations(schemeId: "seekAnz") { edges { cursor } } }"#, json!({}))
        .await;
    assert_eq!(error_codes(&bad_scheme), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn self_names_the_calling_partner() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("Acme ATS").await;
    let token = app.token(&partner).await;
    let r = app
        .graphql(
            Some(&token),
            "{ self { partner { name credentialSelfServiceApprovedIndicator } hirer { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r["data"]["self"],
        json!({"partner": {"name": "Acme ATS", "credentialSelfServiceApprovedIndicator": false}, "hirer": null})
    );
}
