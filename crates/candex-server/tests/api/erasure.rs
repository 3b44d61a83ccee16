//! Erasure: `DELETE /operator/v1/candidates/{id}` redacts a candidate as SEEK does. Fields are
//! redacted, attachments and answers are gone (blobs too, unless another candidate's
//! attachment shares the content), and every identifier keeps working.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{minimal_application, TestApp};

const PROFILE: &str = r#"query ($id: String!) { candidateProfile(id: $id) {
  profileId { value }
  candidate { documentId { value } person { name { formattedName given family }
    communication { email { address } phone { formattedNumber } address { city } } } }
  employment { organization { name } } education { institution { name } }
  certifications { name } qualifications { competencyName }
  attachments { url }
  seekQuestionnaireSubmission { score }
} }"#;

#[tokio::test]
async fn erasing_a_candidate_redacts_fields_deletes_files_and_keeps_ids_working() {
    // Arrange: candidate X applies twice (resume, answers, history), candidate Y once with a
    // file whose content equals one of X's.
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let (status, position) = app
        .operator(
            Method::POST,
            "/positions",
            Some(json!({"hirerId": hirer, "positionTitle": "Writer", "questionnaire": {"components": [
                {"componentTypeCode": "Question", "questionHtml": "Why?", "responseTypeCode": "FreeText"}]}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{position}");
    let position_id = position["id"].as_str().unwrap().to_owned();
    let question = position["questionnaire"]["components"][0]["id"].as_str().unwrap().to_owned();

    let x_body = |email: &str| {
        let mut body = minimal_application(&position_id, email);
        body["candidate"]["person"]["communication"]["phone"] = json!([{"formattedNumber": "0400 000 000"}]);
        body["employment"] = json!([{"organization": {"name": "Secret Co"}, "positionHistories": []}]);
        body["qualifications"] = json!([{"competencyName": "Discretion"}]);
        body["questionnaireResponses"] = json!([{"componentId": question, "answers": [{"answer": "private reasons"}]}]);
        body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
        body
    };
    let (s1, x1) = app
        .ingest_multipart(x_body("x@example.com"), vec![("cv", "x.pdf", "application/pdf", b"%PDF x only".to_vec())])
        .await;
    let (s2, x2) = app
        .ingest_multipart(x_body("X@example.com"), vec![("cv", "x2.pdf", "application/pdf", b"%PDF shared".to_vec())])
        .await;
    let mut y_body = minimal_application(&position_id, "y@example.com");
    y_body["questionnaireResponses"] = json!([{"componentId": question, "answers": [{"answer": "mine"}]}]);
    y_body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let (s3, y) = app.ingest_multipart(y_body, vec![("cv", "y.pdf", "application/pdf", b"%PDF shared".to_vec())]).await;
    assert_eq!((s1, s2, s3), (StatusCode::CREATED, StatusCode::CREATED, StatusCode::CREATED), "{x1} {x2} {y}");
    let candidate = x1["candidateId"].as_str().unwrap().to_owned();
    assert_eq!(x2["candidateId"], x1["candidateId"]);
    let token = app.token(&partner).await;
    let before = app.graphql(Some(&token), PROFILE, json!({"id": x1["candidateProfileId"]})).await;
    let old_url = before["data"]["candidateProfile"]["attachments"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(app.blob_files().len(), 2, "two distinct contents stored");

    // Act
    let (status, erased) = app.operator(Method::DELETE, &format!("/candidates/{candidate}"), None).await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["candidateId"], json!(candidate));
    assert_eq!(erased["profiles"], 2);
    for created in [&x1, &x2] {
        let r = app.graphql(Some(&token), PROFILE, json!({"id": created["candidateProfileId"]})).await;
        assert!(r.get("errors").is_none(), "queries keep working: {r}");
        let p = &r["data"]["candidateProfile"];
        assert_eq!(p["profileId"]["value"], created["candidateProfileId"]);
        assert_eq!(p["candidate"]["documentId"]["value"], json!(candidate));
        assert_eq!(
            p["candidate"]["person"]["name"],
            json!({"formattedName": "redacted", "given": "redacted", "family": null})
        );
        assert_eq!(p["candidate"]["person"]["communication"], json!({"email": [], "phone": [], "address": []}));
        for list in ["employment", "education", "certifications", "qualifications", "attachments"] {
            assert_eq!(p[list], json!([]), "{list}");
        }
        assert_eq!(p["seekQuestionnaireSubmission"], Value::Null);
    }
    let r = app
        .graphql(
            Some(&token),
            "query ($id: String!) { candidate(id: $id) { person { name { formattedName } } } }",
            json!({"id": candidate}),
        )
        .await;
    assert_eq!(r["data"]["candidate"]["person"]["name"]["formattedName"], "redacted");

    let download = app.client.get(&old_url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.blob_files().len(), 1, "X's own blob is deleted; the shared content stays for Y");
    let r = app.graphql(Some(&token), PROFILE, json!({"id": y["candidateProfileId"]})).await;
    let y_url = r["data"]["candidateProfile"]["attachments"][0]["url"].as_str().unwrap().to_owned();
    let y_file = app.client.get(&y_url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(y_file.status(), StatusCode::OK);
    assert_eq!(y_file.bytes().await.unwrap().as_ref(), b"%PDF shared");
    assert_eq!(r["data"]["candidateProfile"]["seekQuestionnaireSubmission"]["score"], Value::Null);
    assert!(!r["data"]["candidateProfile"]["seekQuestionnaireSubmission"].is_null(), "Y keeps its answers");

    // Erasing again is harmless; unknown candidates are 404; the key is required.
    let (again, _) = app.operator(Method::DELETE, &format!("/candidates/{candidate}"), None).await;
    assert_eq!(again, StatusCode::OK);
    let (missing, body) =
        app.operator(Method::DELETE, "/candidates/seekAnzPublicTest:candidate:feed:nobody", None).await;
    assert_eq!(missing, StatusCode::NOT_FOUND, "{body}");
    let anonymous = app.client.delete(format!("{}/operator/v1/candidates/{candidate}", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
