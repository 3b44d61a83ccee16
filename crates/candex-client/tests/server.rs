//! Against a real candex server: tokens, the documented profile query, FORBIDDEN, the events pager, downloads.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use candex_client::{ClientConfig, ClientError, EventsPager};
use common::{minimal_application, Server, World};
use serde_json::json;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn token_is_fetched_once_for_many_calls_including_concurrent_ones() {
    let w = World::new().await;
    let profile = w.server.ingest(minimal_application(&w.position, "a@example.com")).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = w.client.clone();
        let profile = profile.clone();
        tasks.push(tokio::spawn(async move { client.candidate_profile(&profile).await }));
    }
    for task in tasks {
        let p = task.await.expect("join").expect("profile").expect("exists");
        assert_eq!(p.profile_id.expect("id").value, profile);
    }
    for _ in 0..10 {
        w.client.candidate_profile(&profile).await.expect("profile");
    }
    assert_eq!(w.client.token_requests(), 1, "one token for 30 calls, 20 of them concurrent");
    assert_eq!(w.client.retries(), 0);
}

#[tokio::test]
async fn short_token_lifetimes_are_refreshed_without_failures_or_storms() {
    let w = World::with_server(Server::spawn_with_lifetime(Duration::from_secs(2)).await).await;
    let profile = w.server.ingest(minimal_application(&w.position, "a@example.com")).await;
    let start = Instant::now();
    let mut calls = 0;
    while start.elapsed() < Duration::from_millis(5500) {
        w.client.candidate_profile(&profile).await.expect("every call succeeds past the lifetime");
        calls += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fetches = w.client.token_requests();
    assert!(calls > 50, "{calls} calls");
    assert!((3..=8).contains(&fetches), "{fetches} token requests for {calls} calls over 5.5 s with 2 s tokens");
}

#[tokio::test]
async fn bad_credentials_are_a_clear_token_error() {
    let w = World::new().await;
    let client = w.server.client(&common::Partner { client_secret: "wrong".into(), ..w.partner.clone() });
    let err = client.candidate_profile("x").await.expect_err("rejected");
    match &err {
        ClientError::TokenRejected { status, error, .. } => {
            assert_eq!((*status, error.as_str()), (401, "invalid_client"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("wrong"), "no secret in {err}");
    assert_eq!(client.retries(), 0);
}

#[tokio::test]
async fn candidate_profile_decodes_the_documented_query_with_attachments_and_questionnaire() {
    let w = World::new().await;
    let position = w
        .server
        .post_position(json!({"hirerId": w.hirer, "positionTitle": "Writer", "seekHirerJobReference": "REQ-9",
            "questionnaire": {"components": [
                {"componentTypeCode": "Question", "questionHtml": "Why?", "responseTypeCode": "FreeText"}]}}))
        .await;
    let position_id = position["id"].as_str().expect("id").to_owned();
    let question = position["questionnaire"]["components"][0]["id"].as_str().expect("component id").to_owned();
    let mut body = minimal_application(&position_id, "q@example.com");
    body["candidate"]["person"]["communication"]["phone"] = json!([{"formattedNumber": "0400 000 000"}]);
    body["employment"] =
        json!([{"organization": {"name": "Old Co"}, "positionHistories": [{"title": "Dev", "start": "2020-01"}]}]);
    body["qualifications"] = json!([{"competencyName": "Rust"}]);
    body["questionnaireResponses"] = json!([{"componentId": question, "answers": [{"answer": "because\nline 2"}]}]);
    body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let profile_id =
        w.server.ingest_multipart(body, vec![("cv", "cv.pdf", "application/pdf", b"%PDF-1.4 hello".to_vec())]).await;

    let p = w.client.candidate_profile(&profile_id).await.expect("query").expect("exists");
    assert_eq!(p.profile_id.as_ref().map(|i| i.value.as_str()), Some(profile_id.as_str()));
    assert!(p.create_date_time.is_some());
    let person = p.candidate.and_then(|c| c.person).expect("person");
    assert_eq!(person.name.and_then(|n| n.given).as_deref(), Some("Sam"));
    let comm = person.communication.expect("communication");
    assert_eq!(comm.email[0].address.as_deref(), Some("q@example.com"));
    assert_eq!(comm.phone[0].formatted_number.as_deref(), Some("0400 000 000"));
    let pos = p.associated_position_profile.expect("position");
    assert_eq!(pos.seek_hirer_job_reference.as_deref(), Some("REQ-9"));
    assert_eq!(pos.position_organizations[0].id.as_ref().map(|i| i.value.as_str()), Some(w.hirer.as_str()));
    assert_eq!(p.employment[0].position_histories[0].title.as_deref(), Some("Dev"));
    assert_eq!(p.qualifications[0].competency_name.as_deref(), Some("Rust"));
    assert_eq!(p.attachments.len(), 1);
    assert_eq!(p.attachments[0].seek_role_code.as_deref(), Some("Resume"));
    assert!(p.attachments[0].url.as_deref().is_some_and(|u| u.starts_with(&w.server.base)));
    let submission = p.seek_questionnaire_submission.expect("submission");
    assert!(submission.questionnaire.and_then(|q| q.id).is_some());
    assert_eq!(submission.responses.len(), 1);
    let response = &submission.responses[0];
    assert_eq!(response.component_type_code.as_deref(), Some("Question"));
    assert_eq!(response.answers[0].answer.as_deref(), Some("because\nline 2"));
    assert_eq!(response.component.as_ref().and_then(|c| c.question_html.as_deref()), Some("Why?"));

    // The raw form is what the server returned, field for field.
    let raw = w.client.candidate_profile_json(&profile_id).await.expect("raw").expect("exists");
    assert_eq!(raw["profileId"]["value"], json!(profile_id));
    assert!(raw.get("seekQuestionnaireSubmission").is_some());
}

#[tokio::test]
async fn forbidden_is_typed_and_not_retried() {
    let w = World::new().await;
    let profile = w.server.ingest(minimal_application(&w.position, "a@example.com")).await;
    let stranger = w.server.create_partner("Other ATS").await;
    let client = w.server.client(&stranger);
    let err = client.candidate_profile(&profile).await.expect_err("forbidden");
    match err {
        ClientError::Forbidden { message, path } => {
            assert!(!message.is_empty());
            assert_eq!(path, vec![json!("candidateProfile")]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.retries(), 0);
    assert_eq!(client.token_requests(), 1);
}

#[tokio::test]
async fn events_pager_returns_every_event_exactly_once() {
    let w = World::new().await;
    let mut profiles = HashSet::new();
    for i in 0..205 {
        profiles.insert(w.server.ingest(minimal_application(&w.position, &format!("c{i}@example.com"))).await);
    }
    let mut pager = EventsPager::new(w.client.clone(), Server::scheme(), None);
    let mut ids = HashSet::new();
    let mut seen_profiles = HashSet::new();
    let mut pages = 0;
    let mut last_cursor = None;
    while let Some(page) = pager.next_page().await.expect("page") {
        pages += 1;
        assert!(page.events.len() <= 100);
        for edge in &page.events {
            let node = edge.node.as_ref().expect("node");
            assert!(ids.insert(node.id().to_owned()), "duplicate event {}", node.id());
            assert!(edge.stream_date_time.is_some());
            if node.type_code.as_deref() == Some("CandidateApplicationCreated") {
                assert!(node.candidate_id.is_some());
                assert!(seen_profiles.insert(node.candidate_application_profile_id.clone().expect("profile id")));
            }
        }
        assert!(page.cursor.is_some());
        last_cursor = page.cursor.clone();
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen_profiles, profiles);

    // Resuming from the persisted cursor: nothing new, then exactly the new event.
    let mut resumed = EventsPager::new(w.client.clone(), Server::scheme(), last_cursor.clone());
    assert!(resumed.next_page().await.expect("page").is_none());
    let extra = w.server.ingest(minimal_application(&w.position, "late@example.com")).await;
    let mut resumed = EventsPager::new(w.client.clone(), Server::scheme(), last_cursor);
    let page = resumed.next_page().await.expect("page").expect("one new event");
    let new: Vec<_> =
        page.events.iter().filter_map(|e| e.node.as_ref()?.candidate_application_profile_id.clone()).collect();
    assert_eq!(new, vec![extra]);
}

fn file_bytes(n: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n".to_vec();
    bytes.extend((0..n).map(|i| (i * 31 % 251) as u8));
    bytes
}

#[tokio::test]
async fn attachment_downloads_with_hash_and_filename_and_resumes_from_a_part_file() {
    let w = World::new().await;
    let bytes = file_bytes(300_000);
    let expected = hex::encode(Sha256::digest(&bytes));
    let name = "Zoë Müller CV (final) 履歴書.pdf";
    let mut body = minimal_application(&w.position, "z@example.com");
    body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let profile = w.server.ingest_multipart(body, vec![("cv", name, "application/pdf", bytes.clone())]).await;
    let p = w.client.candidate_profile(&profile).await.expect("query").expect("exists");
    let url = p.attachments[0].url.clone().expect("url");

    let dir = tempfile::tempdir().expect("dir");
    let dest = dir.path().join("one");
    let d = w.client.download(&url, &dest).await.expect("download");
    assert_eq!(d.sha256, expected);
    assert_eq!(d.size, bytes.len() as u64);
    assert_eq!(d.filename.as_deref(), Some(name));
    assert_eq!(d.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(d.resumed_from, 0);
    assert_eq!(std::fs::read(&dest).expect("read"), bytes);
    assert!(!candex_client::part_path(&dest).exists());

    // A truncated .part left by a killed run is resumed, and the hash still covers the whole file.
    let dest2 = dir.path().join("two");
    std::fs::write(candex_client::part_path(&dest2), &bytes[..123_457]).expect("write part");
    let d2 = w.client.download(&url, &dest2).await.expect("resume");
    assert_eq!(d2.resumed_from, 123_457);
    assert_eq!(d2.sha256, expected);
    assert_eq!(d2.size, bytes.len() as u64);
    assert_eq!(d2.filename.as_deref(), Some(name));
    assert_eq!(std::fs::read(&dest2).expect("read"), bytes);
}

#[tokio::test]
async fn seek_defaults_and_server_config() {
    let c = ClientConfig::default();
    assert_eq!(c.graphql_url, "https://graphql.seek.com/graphql");
    let s = ClientConfig::for_server("http://x:1/", "id", "secret");
    assert_eq!(s.audience, "http://x:1");
}
