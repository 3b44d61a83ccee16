//! No N+1: counts the SQL statements the driver executes for one `candidateProfile` request (and
//! one attachment download) and
//! shows the count does not grow with the number of employment, education, certification or
//! qualification entries, nor with the number of questionnaire questions answered, and that a
//! page of events costs the same for 1 and 20 events (profiles, job ads, and with process
//! history on applications each profile's `seekProcessHistory`). Its own test binary, because it installs a global tracing subscriber
//! that counts sqlx's per-statement events (target `sqlx::query`) and the SQLite backend's
//! point reads (target `candex_store_sqlite::point`).

#[path = "api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use helpers::{TestApp, SEED_QUERY};

struct StatementCounter(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for StatementCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        // sqlx's statements, and the SQLite backend's point reads (which do not go through sqlx).
        if !["sqlx::query", "candex_store_sqlite::point"].contains(&event.metadata().target()) {
            return;
        }
        // Pragmas run when the pool opens a connection, not per request, and the webhook
        // dispatcher, woken by the test's ingests, may run its statements while a request is
        // measured; no request measured here touches a webhook table: leave both out.
        #[derive(Default)]
        struct Statement {
            summary: String,
            sql: String,
        }
        impl tracing::field::Visit for Statement {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                match field.name() {
                    "summary" => self.summary = format!("{value:?}"),
                    "db.statement" => self.sql = format!("{value:?}"),
                    _ => {}
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                match field.name() {
                    "summary" => self.summary = value.to_owned(),
                    "db.statement" => self.sql = value.to_owned(),
                    _ => {}
                }
            }
        }
        let mut statement = Statement::default();
        event.record(&mut statement);
        let pragma = statement.summary.trim_start_matches('"').to_ascii_lowercase().starts_with("pragma");
        let dispatcher = statement.sql.contains("webhook_") || statement.summary.contains("webhook_");
        if !pragma && !dispatcher {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn big_application(position: &str, n: usize) -> Value {
    let employment: Vec<Value> = (0..n)
        .map(|i| {
            json!({"organization": {"name": format!("Employer {i}")}, "positionHistories": [
                {"title": "Engineer", "start": "2010-01", "end": "2012-01"}, {"title": "Lead", "start": "2012-02"}]})
        })
        .collect();
    let education: Vec<Value> = (0..n)
        .map(|i| json!({"institution": {"name": format!("School {i}")}, "educationDegrees": [{"name": "BSc", "degreeGrantedStatus": "Granted"}]}))
        .collect();
    let certifications: Vec<Value> =
        (0..n).map(|i| json!({"name": format!("Cert {i}"), "issuingAuthority": {"name": "Board"}})).collect();
    let qualifications: Vec<Value> = (0..n).map(|i| json!({"competencyName": format!("Skill {i}")})).collect();
    let mut body = helpers::minimal_application(position, &format!("n{n}@example.com"));
    body["employment"] = json!(employment);
    body["education"] = json!(education);
    body["certifications"] = json!(certifications);
    body["qualifications"] = json!(qualifications);
    body
}

/// A job ad whose questionnaire has `n` multi-select questions of three choices (two
/// preferred); returns the operator API's position response.
async fn questionnaire_position(app: &TestApp, hirer: &str, n: usize) -> Value {
    let components: Vec<Value> = (0..n)
        .map(|i| {
            json!({"componentTypeCode": "Question", "questionHtml": format!("Question {i}?"), "responseTypeCode": "MultiSelect",
                "responseChoice": [{"text": "A", "preferredIndicator": true}, {"text": "B", "preferredIndicator": true},
                                   {"text": "C", "preferredIndicator": false}]})
        })
        .collect();
    let body = json!({"hirerId": hirer, "positionTitle": "Role", "questionnaire": {"components": components}});
    let (status, body) = app.operator(reqwest::Method::POST, "/positions", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// Responses choosing the first two choices of every question.
fn responses(position: &Value) -> Value {
    let components = position["questionnaire"]["components"].as_array().expect("components");
    json!(components
        .iter()
        .map(|c| json!({"componentId": c["id"], "answers": [
            {"choiceId": c["responseChoice"][0]["id"]}, {"choiceId": c["responseChoice"][2]["id"]}]}))
        .collect::<Vec<_>>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_per_candidate_profile_do_not_grow_with_list_sizes() {
    let counter = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(StatementCounter(counter.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("first and only subscriber in this binary");

    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let mut profiles = Vec::new();
    for n in [1usize, 60] {
        let position = questionnaire_position(&app, &hirer, n).await;
        let mut application = big_application(position["id"].as_str().expect("position id"), n);
        application["questionnaireResponses"] = responses(&position);
        // Attachments: one on the small profile, several on the big one.
        let files: Vec<(String, String, Vec<u8>)> = (0..if n == 1 { 1 } else { 6 })
            .map(|i| (format!("f{i}"), format!("file {i}.txt"), format!("file {i} of {n}").into_bytes()))
            .collect();
        application["attachments"] =
            json!(files.iter().map(|(part, _, _)| json!({"file": part, "seekRoleCode": "Resume"})).collect::<Vec<_>>());
        let parts = files.iter().map(|(part, name, bytes)| (part.as_str(), name.as_str(), "text/plain", bytes.clone()));
        let (status, body) = app.ingest_multipart(application, parts.collect()).await;
        assert_eq!(status, 201, "{body}");
        profiles.push((n, body["candidateProfileId"].as_str().unwrap().to_owned()));
    }
    let token = app.token(&partner).await;
    let with_profiles = SEED_QUERY.replacen(
        "candidate {",
        "candidate { profiles { profileId { value } employment { organization { name } } }",
        1,
    );
    let with_submission = SEED_QUERY.replacen(
        "qualifications {",
        "seekQuestionnaireSubmission { score questionnaire { id { value } components { id { value } } }
           responses { componentTypeCode component { id { value } }
             ... on ApplicationQuestionResponse { score answers { answer choice { id { value } selectedIndicator } } } } }
         qualifications {",
        1,
    );

    let with_attachments = SEED_QUERY.replacen("qualifications {", "attachments { url } qualifications {", 1);

    for (label, query, most) in [
        // The profile and the relationship check are one statement; each selected list adds one.
        ("seed query", SEED_QUERY, 1),
        ("seed query + Candidate.profiles", with_profiles.as_str(), 2),
        ("seed query + seekQuestionnaireSubmission", with_submission.as_str(), 2),
        ("seed query + attachments", with_attachments.as_str(), 2),
    ] {
        // Warm up so that pooled connections are open before counting.
        for (_, id) in &profiles {
            app.graphql(Some(&token), query, json!({"id": id})).await;
        }
        let mut counts = Vec::new();
        for (n, id) in &profiles {
            counter.store(0, Ordering::SeqCst);
            let r = app.graphql(Some(&token), query, json!({"id": id})).await;
            let count = counter.load(Ordering::SeqCst);
            assert!(r.get("errors").is_none(), "{r}");
            assert_eq!(r["data"]["candidateProfile"]["employment"].as_array().unwrap().len(), *n);
            if let Some(submission) = r["data"]["candidateProfile"].get("seekQuestionnaireSubmission") {
                assert_eq!(submission["responses"].as_array().unwrap().len(), *n, "{r}");
                assert_eq!(submission["score"], 0.5, "{r}");
            }
            if let Some(attachments) = r["data"]["candidateProfile"].get("attachments") {
                assert_eq!(attachments.as_array().unwrap().len(), if *n == 1 { 1 } else { 6 }, "{r}");
            }
            counts.push((*n, count));
        }
        println!(
            "SQL statements per candidateProfile ({label}): {} ({} entries) vs {} ({} entries)",
            counts[0].1, counts[0].0, counts[1].1, counts[1].0
        );
        assert!(counts[0].1 > 0, "the counter saw no statements; is sqlx statement logging wired?");
        assert_eq!(counts[0].1, counts[1].1, "statement count grew with list sizes: {counts:?}");
        assert!(counts[1].1 <= most, "too many statements for one profile: {counts:?}");
    }

    // A download: the attachment, the partner's relationships with its hirer and the token
    // revocation time are one statement.
    let r = app.graphql(Some(&token), &with_attachments, json!({"id": profiles[0].1})).await;
    let url = r["data"]["candidateProfile"]["attachments"][0]["url"].as_str().expect("url").to_owned();
    let mut counts = Vec::new();
    for _ in 0..2 {
        counter.store(0, Ordering::SeqCst);
        let res = app.client.get(&url).bearer_auth(&token).send().await.expect("download");
        assert_eq!(res.status(), 200);
        assert_eq!(res.bytes().await.expect("body").as_ref(), b"file 0 of 1");
        counts.push(counter.load(Ordering::SeqCst));
    }
    println!("SQL statements per attachment download: {counts:?}");
    assert_eq!(counts[1], 1, "one statement per download: {counts:?}");

    // A page of events fetching each application inline, as SEEK suggests: the profiles of the
    // whole page load in one statement, so 1 event and 20 events cost the same.
    let position = questionnaire_position(&app, &hirer, 2).await;
    for i in 0..20 {
        let mut application =
            helpers::minimal_application(position["id"].as_str().unwrap(), &format!("inline{i}@example.com"));
        application["questionnaireResponses"] = responses(&position);
        application["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
        let cv = format!("resume {i}").into_bytes();
        let (status, body) = app.ingest_multipart(application, vec![("cv", "cv.txt", "text/plain", cv)]).await;
        assert_eq!(status, 201, "{body}");
    }
    let events = "query($n: Int) { events(schemeId: \"seekAnzPublicTest\", last: $n,
        filter: {eventTypeCodes: [\"CandidateApplicationCreated\"]}) { edges { node {
          ... on CandidateApplicationCreatedEvent { candidateApplicationProfileId
            candidateApplicationProfile { profileId { value } candidate { person { name { formattedName } } }
              attachments { url } seekQuestionnaireSubmission { score } }
            candidate { documentId { value } } } } } } }";
    let mut counts = Vec::new();
    for n in [1usize, 1, 20] {
        counter.store(0, Ordering::SeqCst);
        let r = app.graphql(Some(&token), events, json!({"n": n})).await;
        let count = counter.load(Ordering::SeqCst);
        assert!(r.get("errors").is_none(), "{r}");
        let edges = r["data"]["events"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), n);
        for edge in edges {
            let node = &edge["node"];
            assert_eq!(
                node["candidateApplicationProfile"]["profileId"]["value"],
                node["candidateApplicationProfileId"]
            );
            assert!(node["candidate"]["documentId"]["value"].is_string(), "{r}");
            assert_eq!(node["candidateApplicationProfile"]["attachments"].as_array().unwrap().len(), 1, "{r}");
            assert_eq!(node["candidateApplicationProfile"]["seekQuestionnaireSubmission"]["score"], 0.5, "{r}");
        }
        counts.push((n, count));
    }
    println!(
        "SQL statements per events page with inline profiles: {} (1 event) vs {} (20 events)",
        counts[1].1, counts[2].1
    );
    assert_eq!(counts[1].1, counts[2].1, "statement count grew with the page size: {counts:?}");
    // 5 reads, plus the token revocation check by primary key (candidateProfile folds it into
    // its one statement; an events page does not yet).
    assert!(counts[2].1 <= 6, "too many statements for a page of events: {counts:?}");

    // A page of job-ad events fetching each job ad inline: one statement for the page's ads.
    let positions = "query($n: Int) { events(schemeId: \"seekAnzPublicTest\", last: $n,
        filter: {eventTypeCodes: [\"PositionProfilePosted\"]}) { edges { node {
          ... on PositionProfilePostedEvent { positionProfileId positionProfile { profileId { value } positionTitle } } } } } }";
    let mut counts = Vec::new();
    for n in [1usize, 1, 3] {
        counter.store(0, Ordering::SeqCst);
        let r = app.graphql(Some(&token), positions, json!({"n": n})).await;
        let count = counter.load(Ordering::SeqCst);
        assert!(r.get("errors").is_none(), "{r}");
        let edges = r["data"]["events"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), n, "{r}");
        for edge in edges {
            assert_eq!(edge["node"]["positionProfile"]["profileId"]["value"], edge["node"]["positionProfileId"]);
        }
        counts.push((n, count));
    }
    println!(
        "SQL statements per events page with inline job ads: {} (1 event) vs {} (3 events)",
        counts[1].1, counts[2].1
    );
    assert_eq!(counts[1].1, counts[2].1, "statement count grew with the page size: {counts:?}");

    // With process history on applications: a page of events fetching each profile's first
    // page of process history loads every first page in one statement.
    let app = TestApp::spawn_with(|mut s| {
        s.process_history_on_applications = true;
        s
    })
    .await;
    let hirer = app.create_hirer("History").await;
    let partner = app.create_partner("History ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Barista").await;
    let token = app.token(&partner).await;
    let create = "mutation ($input: CreateCandidateProcessHistoryItemInput!) {
        createCandidateProcessHistoryItem(input: $input) { __typename } }";
    for i in 0..20 {
        let (profile, _) = app.apply(&position, &format!("history{i}@example.com")).await;
        for (key, status) in [("a", "HirerShortlist"), ("b", "Interview")] {
            let item = json!({"action": {"code": "StatusChange"}, "actionDate": "2024-05-01T09:30:00.000Z",
                "idempotencyId": key, "primaryParties": [], "status": {"code": status}});
            let input =
                json!({"input": {"candidateProfile": {"profileId": profile}, "candidateProcessHistoryItem": item}});
            let r = app.graphql(Some(&token), create, input).await;
            assert_eq!(
                r["data"]["createCandidateProcessHistoryItem"]["__typename"],
                "CreateCandidateProcessHistoryItemPayload_Success",
                "{r}"
            );
        }
    }
    let history = "query($n: Int) { events(schemeId: \"seekAnzPublicTest\", last: $n,
        filter: {eventTypeCodes: [\"CandidateApplicationCreated\"]}) { edges { node {
          ... on CandidateApplicationCreatedEvent { candidateApplicationProfile { profileId { value }
            seekProcessHistory(first: 1) { edges { node { status { code } } } pageInfo { hasNextPage } } } } } } } }";
    let mut counts = Vec::new();
    for n in [1usize, 1, 20] {
        counter.store(0, Ordering::SeqCst);
        let r = app.graphql(Some(&token), history, json!({"n": n})).await;
        let count = counter.load(Ordering::SeqCst);
        assert!(r.get("errors").is_none(), "{r}");
        let edges = r["data"]["events"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), n, "{r}");
        for edge in edges {
            let page = &edge["node"]["candidateApplicationProfile"]["seekProcessHistory"];
            assert_eq!(page["edges"][0]["node"]["status"]["code"], "HirerShortlist", "{r}");
            assert_eq!(page["edges"].as_array().unwrap().len(), 1, "{r}");
            assert_eq!(page["pageInfo"]["hasNextPage"], true, "{r}");
        }
        counts.push((n, count));
    }
    println!(
        "SQL statements per events page with inline process history: {} (1 event) vs {} (20 events)",
        counts[1].1, counts[2].1
    );
    assert_eq!(counts[1].1, counts[2].1, "statement count grew with the page size: {counts:?}");
}
