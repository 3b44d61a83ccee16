//! No N+1: counts the SQL statements the driver executes for one `candidateProfile` request and
//! shows the count does not grow with the number of employment, education, certification or
//! qualification entries. Its own test binary, because it installs a global tracing subscriber
//! that counts sqlx's per-statement events (target `sqlx::query`).

#[path = "api/helpers.rs"]
#[allow(dead_code)]
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
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        // Pragmas run when the pool opens a connection, not per request: leave them out.
        struct Summary(String);
        impl tracing::field::Visit for Summary {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "summary" {
                    self.0 = format!("{value:?}");
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "summary" {
                    self.0 = value.to_owned();
                }
            }
        }
        let mut summary = Summary(String::new());
        event.record(&mut summary);
        if !summary.0.trim_start_matches('"').to_ascii_lowercase().starts_with("pragma") {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_per_candidate_profile_do_not_grow_with_list_sizes() {
    let counter = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(StatementCounter(counter.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("first and only subscriber in this binary");

    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Role").await;
    let mut profiles = Vec::new();
    for n in [1usize, 60] {
        let (status, body) = app.ingest(big_application(&position, n)).await;
        assert_eq!(status, 201, "{body}");
        profiles.push((n, body["candidateProfileId"].as_str().unwrap().to_owned()));
    }
    let token = app.token(&partner).await;
    let with_profiles = SEED_QUERY.replacen(
        "candidate {",
        "candidate { profiles { profileId { value } employment { organization { name } } }",
        1,
    );

    for (label, query) in [("seed query", SEED_QUERY), ("seed query + Candidate.profiles", with_profiles.as_str())] {
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
            counts.push((*n, count));
        }
        println!(
            "SQL statements per candidateProfile ({label}): {} ({} entries) vs {} ({} entries)",
            counts[0].1, counts[0].0, counts[1].1, counts[1].0
        );
        assert!(counts[0].1 > 0, "the counter saw no statements; is sqlx statement logging wired?");
        assert_eq!(counts[0].1, counts[1].1, "statement count grew with list sizes: {counts:?}");
        assert!(counts[1].1 <= 3, "too many statements for one profile: {counts:?}");
    }
}
