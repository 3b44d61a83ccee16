//! The seed query (verbatim from SEEK's docs) returns an ingested profile with every field
//! the application had.

use serde_json::{json, Value};

use crate::helpers::{TestApp, SEED_QUERY};

fn full_application(position: &str) -> Value {
    json!({
        "positionProfileId": position,
        "candidate": {"person": {
            "name": {"given": "Ella", "family": "Greenholt"},
            "communication": {
                "email": [{"address": "ella.g@example.com"}],
                "phone": [{"formattedNumber": "(02) 5550 5678"}, {"formattedNumber": "+61 412 345 678"}],
                "address": [{"formattedAddress": "Coober Pedy SA 5723 AU", "city": "Coober Pedy", "postalCode": "5723", "countryCode": "AU"}]
            }
        }},
        "employment": [
            {"organization": {"name": "Swift Inc"}, "positionHistories": [
                {"title": "Customer Service Representative", "start": "2015-05", "end": "2018-03", "current": false,
                 "descriptions": ["Gained front-line experience\nacross two sites"]}]},
            {"organization": {"name": "Zoë & Co"}, "positionHistories": [
                {"title": "Customer Service Manager", "start": "2018-10", "current": true}]}
        ],
        "education": [{"institution": {"name": "Adelaide Business School"},
            "educationDegrees": [{"name": "Bachelor of Business Administration", "degreeGrantedStatus": "Granted", "date": "2016-10"}],
            "descriptions": ["Dean's list"]}],
        "certifications": [
            {"name": "Criminal History Check", "issued": "2021-01", "effectiveTimePeriod": {"validTo": "2023-01"},
             "issuingAuthority": {"name": "SA Police"}, "descriptions": ["Police check passed"]},
            {"name": "SA Drivers Licence"}
        ],
        "qualifications": [{"competencyName": "Customer service"}, {"competencyName": "Rostering"}]
    })
}

#[tokio::test]
async fn the_seed_query_returns_every_field_the_application_had() {
    // Arrange
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme Recruitment").await;
    let partner = app.create_partner("Demo ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Customer Service Manager").await;
    let (status, created) = app.ingest(full_application(&position)).await;
    assert_eq!(status, 201, "{created}");
    let profile_id = created["candidateProfileId"].as_str().unwrap();
    let token = app.token(&partner).await;

    // Act
    let response = app.graphql(Some(&token), SEED_QUERY, json!({"id": profile_id})).await;

    // Assert
    assert!(response.get("errors").is_none(), "{response}");
    let p = &response["data"]["candidateProfile"];
    assert_eq!(p["profileId"]["value"], profile_id);
    assert_eq!(p["createDateTime"], created["createDateTime"]);
    assert!(p["createDateTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        p["candidate"],
        json!({"person": {"name": {"given": "Ella", "family": "Greenholt"}, "communication": {
            "phone": [{"formattedNumber": "(02) 5550 5678"}, {"formattedNumber": "+61 412 345 678"}],
            "email": [{"address": "ella.g@example.com"}]}}})
    );
    assert_eq!(p["associatedPositionProfile"]["seekHirerJobReference"], "REQ-1");
    assert_eq!(
        p["associatedPositionProfile"]["positionOrganizations"],
        json!([{"id": {"value": hirer}, "name": "Acme Recruitment"}])
    );
    assert!(p["associatedPositionProfile"]["positionUri"].as_str().unwrap().starts_with(&app.base));
    assert_eq!(
        p["employment"],
        json!([
            {"organization": {"name": "Swift Inc"}, "positionHistories": [{"start": "2015-05", "end": "2018-03", "title": "Customer Service Representative"}]},
            {"organization": {"name": "Zoë & Co"}, "positionHistories": [{"start": "2018-10", "end": null, "title": "Customer Service Manager"}]}
        ])
    );
    assert_eq!(
        p["education"],
        json!([{"institution": {"name": "Adelaide Business School"},
            "educationDegrees": [{"name": "Bachelor of Business Administration", "degreeGrantedStatus": "Granted", "date": "2016-10"}],
            "descriptions": ["Dean's list"]}])
    );
    assert_eq!(
        p["certifications"],
        json!([
            {"name": "Criminal History Check", "issued": "2021-01", "effectiveTimePeriod": {"validTo": "2023-01"},
             "issuingAuthority": {"name": "SA Police"}, "descriptions": ["Police check passed"]},
            {"name": "SA Drivers Licence", "issued": null, "effectiveTimePeriod": null, "issuingAuthority": null, "descriptions": []}
        ])
    );
    assert_eq!(p["qualifications"], json!([{"competencyName": "Customer service"}, {"competencyName": "Rostering"}]));
}

#[tokio::test]
async fn fields_outside_the_seed_query_are_served_too() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Manager").await;
    let (_, created) = app.ingest(full_application(&position)).await;
    let token = app.token(&partner).await;
    let query = r#"query ($id: String!) { candidateProfile(id: $id) {
        updateDateTime candidateSources { name type } attachments { url } seekQuestionnaireSubmission { score }
        positionPreferences { locations { referenceLocation { city } } } seekActions { code }
        candidate { documentId { value } person { name { formattedName } communication { address { formattedAddress city postalCode countryCode } } } }
        employment { positionHistories { current descriptions } }
        associatedPositionProfile { positionTitle profileId { value } positionOpening { statusCode documentId { value } }
          ... on PostedPositionProfile { seekCreatedBySelfIndicator } }
        associatedPositionOpenings { positionUri candidateAppliedIndicator }
    } }"#;
    let r = app.graphql(Some(&token), query, json!({"id": created["candidateProfileId"]})).await;
    assert!(r.get("errors").is_none(), "{r}");
    let p = &r["data"]["candidateProfile"];
    assert_eq!(p["candidateSources"], json!([{"name": "candex", "type": "SeekApplication"}]));
    assert_eq!(p["attachments"], json!([]));
    assert_eq!(p["seekQuestionnaireSubmission"], Value::Null);
    assert_eq!(p["candidate"]["documentId"]["value"], created["candidateId"]);
    assert_eq!(p["candidate"]["person"]["name"]["formattedName"], "Ella Greenholt");
    assert_eq!(p["candidate"]["person"]["communication"]["address"][0]["postalCode"], "5723");
    assert_eq!(
        p["employment"][0]["positionHistories"][0]["descriptions"],
        json!(["Gained front-line experience\nacross two sites"])
    );
    assert_eq!(p["employment"][1]["positionHistories"][0]["current"], true);
    assert_eq!(p["associatedPositionProfile"]["positionTitle"], "Manager");
    assert_eq!(p["associatedPositionProfile"]["profileId"]["value"], position);
    assert_eq!(p["associatedPositionProfile"]["positionOpening"]["statusCode"], "Active");
    assert_eq!(p["associatedPositionProfile"]["seekCreatedBySelfIndicator"], false);
    assert_eq!(p["associatedPositionOpenings"][0]["candidateAppliedIndicator"], true);
}
