//! `GET /metrics` as Prometheus reads it: real requests (tokens, GraphQL with errors, an
//! ingest with an attachment, its download, an erasure, an unknown path), then the exposition
//! parsed by the Prometheus Python client's OpenMetrics parser (PyPI `prometheus-client`,
//! `tests/clients/parse_metrics.py`), and the counts checked to have grown by exactly what was
//! done, with route labels that are templates and no identifier in any label. The shipped
//! Grafana dashboard and alert rules (`docs/`) may only use series the server exports.
//! Skipped, saying so, when the parser is not installed, unless
//! `CANDEX_TEST_PROMETHEUS_PARSER=required` (`.ci/run` installs it and sets that).

use std::collections::BTreeSet;
use std::io::Write;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{backend, error_codes, minimal_application, TestApp};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/parse_metrics.py");
const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs");

/// Whether the parser can run; panics when it cannot but must.
fn parser_available() -> bool {
    let required = std::env::var("CANDEX_TEST_PROMETHEUS_PARSER").is_ok_and(|v| v == "required");
    let available = std::process::Command::new("python3")
        .args(["-c", "import yaml; from prometheus_client.openmetrics.parser import text_string_to_metric_families"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            !required,
            "CANDEX_TEST_PROMETHEUS_PARSER=required but python3 cannot import prometheus_client and yaml"
        );
        println!("skipped: `pip install prometheus-client pyyaml` to parse /metrics with Prometheus's parser");
    }
    available
}

/// Runs the parser on `text` (with `args`); its JSON answer.
fn parse(text: &str, args: &[&str]) -> Value {
    let mut child = std::process::Command::new("python3")
        .arg(SCRIPT)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run python3");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write the exposition");
    let out = child.wait_with_output().expect("parser output");
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "Prometheus's parser rejected the exposition: {report}\n{text}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {report}"))
}

/// `GET /metrics`, checked to be OpenMetrics, and its text.
async fn scrape_text(app: &TestApp) -> String {
    let res = app.client.get(format!("{}/metrics", app.base)).send().await.expect("scrape");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/openmetrics-text; version=1.0.0"), "{content_type}");
    res.text().await.expect("exposition")
}

/// A scrape as the parser saw it.
struct Scrape(Value);

impl Scrape {
    async fn take(app: &TestApp) -> Scrape {
        Scrape(parse(&scrape_text(app).await, &[]))
    }

    fn families(&self) -> &Vec<Value> {
        self.0.as_array().expect("families")
    }

    fn samples(&self) -> impl Iterator<Item = &Value> {
        self.families().iter().flat_map(|f| f["samples"].as_array().expect("samples"))
    }

    /// The sum of the samples named `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples()
            .filter(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
            .map(|s| s["value"].as_f64().expect("numeric value"))
            .sum()
    }

    fn has_sample(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.samples().any(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
    }

    fn family(&self, name: &str) -> &Value {
        self.families().iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("no family {name}"))
    }

    /// Every name a query may use: each family's sample names as its type gives them, whether
    /// or not it has samples yet.
    fn series_names(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for family in self.families() {
            let name = family["name"].as_str().expect("name");
            let suffixes: &[&str] = match family["type"].as_str().expect("type") {
                "counter" => &["_total", "_created"],
                "histogram" => &["_bucket", "_count", "_sum", "_created"],
                "info" => &["_info"],
                _ => &[""],
            };
            names.extend(suffixes.iter().map(|s| format!("{name}{s}")));
        }
        names
    }
}

const PROFILE_QUERY: &str = "query($id: String!) { candidateProfile(id: $id) {
    profileId { value } attachments { url } } }";

#[tokio::test]
async fn metrics_count_what_was_done_as_prometheus_parses_them() {
    if !parser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Metrics Co").await;
    let partner = app.create_partner("Metrics ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Observer").await;
    let before = Scrape::take(&app).await;

    // Tokens: one issued, one refused for a wrong secret.
    let token = app.token(&partner).await;
    let refused = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .json(&json!({"grant_type": "client_credentials", "client_id": partner.client_id, "client_secret": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // An ingest with an attachment, its profile read, the attachment downloaded.
    let file = b"%PDF-1.4\nmetrics test resume".repeat(40);
    let mut body = minimal_application(&position, "metrics@example.com");
    body["attachments"] = json!([{"file": "cv", "seekRoleCode": "Resume"}]);
    let (status, created) = app.ingest_multipart(body, vec![("cv", "cv.pdf", "application/pdf", file.clone())]).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let profile = created["candidateProfileId"].as_str().unwrap().to_owned();
    let candidate = created["candidateId"].as_str().unwrap().to_owned();
    let read = app.graphql(Some(&token), PROFILE_QUERY, json!({"id": profile})).await;
    assert!(read.get("errors").is_none(), "{read}");
    let url = read["data"]["candidateProfile"]["attachments"][0]["url"].as_str().unwrap().to_owned();
    let download = app.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().len(), file.len());

    // GraphQL errors: no token, a malformed id, a document that does not parse.
    let mut expected_codes: Vec<String> = Vec::new();
    let anonymous = app.graphql(None, PROFILE_QUERY, json!({"id": profile})).await;
    expected_codes.extend(error_codes(&anonymous));
    let bad_id = app.graphql(Some(&token), PROFILE_QUERY, json!({"id": "not-an-id"})).await;
    expected_codes.extend(error_codes(&bad_id));
    let unparsable = app.graphql(Some(&token), "query {", json!({})).await;
    expected_codes.extend(error_codes(&unparsable));
    assert!(expected_codes.iter().any(|c| c == "UNAUTHENTICATED"), "{expected_codes:?}");
    assert!(expected_codes.iter().any(|c| c == "GRAPHQL_PARSE_FAILED"), "{expected_codes:?}");

    // An erasure, an operator read by id, and a path no route has.
    let (status, erased) = app.operator(Method::DELETE, &format!("/candidates/{candidate}"), None).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    let (status, _) = app.operator(Method::GET, &format!("/positions/{position}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let missing = app.client.get(format!("{}/no/such/{profile}", app.base)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The database gauges are read at most once per REFRESH_EVERY.
    tokio::time::sleep(candex_server::metrics::REFRESH_EVERY).await;
    let after = Scrape::take(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| after.value(name, labels) - before.value(name, labels);

    assert_eq!(delta("candex_tokens_issued_total", &[("kind", "partner")]), 1.0);
    assert_eq!(delta("candex_token_requests_refused_total", &[("kind", "partner"), ("reason", "invalid_client")]), 1.0);
    assert_eq!(delta("candex_token_verifications_refused_total", &[]), 0.0);
    assert_eq!(delta("candex_applications_ingested_total", &[]), 1.0);
    assert_eq!(delta("candex_erasures_total", &[]), 1.0);
    assert_eq!(delta("candex_blob_written_bytes_total", &[]), file.len() as f64);
    assert_eq!(delta("candex_blob_read_bytes_total", &[]), file.len() as f64);
    assert_eq!(delta("candex_graphql_operations_total", &[("operation_type", "query")]), 3.0);
    assert_eq!(delta("candex_graphql_operations_total", &[("operation_type", "unknown")]), 1.0);
    assert_eq!(delta("candex_graphql_errors_total", &[]), expected_codes.len() as f64);
    for code in &expected_codes {
        let n = expected_codes.iter().filter(|c| *c == code).count() as f64;
        assert_eq!(delta("candex_graphql_errors_total", &[("code", code)]), n, "{code}");
    }

    let http = "candex_http_requests_total";
    assert_eq!(delta(http, &[("route", "/oauth/token"), ("method", "POST"), ("status", "200")]), 1.0);
    assert_eq!(delta(http, &[("route", "/oauth/token"), ("method", "POST"), ("status", "401")]), 1.0);
    assert_eq!(delta(http, &[("route", "/graphql"), ("method", "POST"), ("status", "200")]), 4.0);
    assert_eq!(delta(http, &[("route", "/operator/v1/applications"), ("method", "POST"), ("status", "201")]), 1.0);
    assert_eq!(delta(http, &[("route", "unmatched"), ("method", "GET"), ("status", "404")]), 1.0);
    assert_eq!(delta(http, &[("route", "/operator/v1/candidates/{candidate_id}"), ("method", "DELETE")]), 1.0);
    assert_eq!(delta("candex_http_request_duration_seconds_count", &[("route", "/graphql"), ("method", "POST")]), 4.0);
    assert!(after.has_sample("candex_http_request_duration_seconds_bucket", &[("route", "/graphql"), ("le", "+Inf")]));
    // The download's route is its template, whatever the scheme's path.
    let download_routes: Vec<&str> = after
        .samples()
        .filter(|s| s["name"] == http && s["labels"]["route"].as_str().is_some_and(|r| r.contains("/attachments/")))
        .map(|s| s["labels"]["route"].as_str().unwrap())
        .collect();
    assert_eq!(download_routes.len(), 1, "{download_routes:?}");
    assert!(download_routes[0].contains('{'), "{download_routes:?}");

    // No identifier reaches a label: every route is a template or `unmatched`.
    let ids = [&hirer, &partner.id, &partner.client_id, &position, &profile, &candidate, &token];
    let values = |s: &Value| {
        s["labels"].as_object().unwrap().values().map(|v| v.as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    for sample in after.samples() {
        for value in values(sample) {
            for id in ids {
                let tail = id.rsplit(':').next().unwrap();
                assert!(!value.contains(tail), "{sample} carries {id}");
            }
        }
        if let Some(route) = sample["labels"]["route"].as_str() {
            assert!(route == "unmatched" || route.starts_with('/'), "{sample}");
        }
    }

    // Units and types as Prometheus reads them.
    assert_eq!(after.family("candex_http_request_duration_seconds")["type"], "histogram");
    assert_eq!(after.family("candex_http_request_duration_seconds")["unit"], "seconds");
    assert_eq!(after.family("candex_blob_read_bytes")["unit"], "bytes");
    assert_eq!(after.family("candex_http_requests")["type"], "counter");

    // Gauges read at scrape time.
    assert_eq!(
        after.value("candex_build_info", &[("backend", backend()), ("version", env!("CARGO_PKG_VERSION"))]),
        1.0
    );
    assert_eq!(after.value("candex_ready", &[("dependency", "database")]), 1.0);
    assert_eq!(after.value("candex_ready", &[("dependency", "storage")]), 1.0);
    assert!(after.value("candex_events_newest_sequence", &[]) >= 1.0);
    let age = after.value("candex_events_newest_age_seconds", &[]);
    assert!((0.0..60.0).contains(&age), "{age}");
    assert!(after.value("candex_db_pool_max_connections", &[]) >= 1.0);
    assert!(after.has_sample("candex_db_pool_connections", &[("state", "idle")]));
    assert!(after.has_sample("candex_db_pool_connections", &[("state", "in_use")]));
    assert!(after.has_sample("candex_webhook_pending_deliveries", &[]));
    assert!(after.has_sample("candex_webhook_oldest_pending_event_age_seconds", &[]));
}

#[tokio::test]
async fn presented_tokens_refused_are_counted_by_reason() {
    if !parser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    let partner = app.create_partner("Revoked ATS").await;
    let token = app.token(&partner).await;
    let invalid = app.graphql(Some("not.a.token"), "{ __typename }", json!({})).await;
    let unauthenticated = error_codes(&invalid).iter().filter(|c| *c == "UNAUTHENTICATED").count() as f64;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, _) = app.operator(Method::POST, &format!("/partners/{}/tokens/revoke", partner.id), None).await;
    assert_eq!(status, StatusCode::OK);
    let revoked = app.graphql(Some(&token), "{ __typename }", json!({})).await;
    assert_eq!(error_codes(&revoked), ["UNAUTHENTICATED"], "{revoked}");

    let after = Scrape::take(&app).await;
    assert_eq!(after.value("candex_token_verifications_refused_total", &[("reason", "invalid")]), 1.0);
    assert_eq!(after.value("candex_token_verifications_refused_total", &[("reason", "revoked")]), 1.0);
    assert_eq!(after.value("candex_graphql_errors_total", &[("code", "UNAUTHENTICATED")]), unauthenticated + 1.0);
}

/// The metric names a PromQL expression uses.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("candex_") {
        let start = i + at;
        let preceded = start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end =
            expr[start..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(expr.len(), |n| start + n);
        if !preceded {
            names.insert(expr[start..end].to_owned());
        }
        i = end;
    }
    names
}

/// Every `expr` string anywhere in a dashboard.
fn exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", Value::String(expr)) => out.push(expr.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_grafana_dashboard_and_alert_rules_use_only_series_the_server_exports() {
    if !parser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    let text = scrape_text(&app).await;
    let rules_file = format!("{DOCS}/alerts.yml");
    let parsed = parse(&text, &["--rules", &rules_file]);
    let exported = Scrape(parsed["families"].clone()).series_names();

    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DOCS}/grafana-dashboard.json")).expect("docs/grafana-dashboard.json"),
    )
    .expect("the dashboard is JSON");
    assert!(dashboard["title"].is_string() && dashboard["panels"].is_array(), "not a Grafana dashboard");
    let mut dashboard_exprs = Vec::new();
    exprs(&dashboard, &mut dashboard_exprs);
    assert!(dashboard_exprs.len() >= 9, "{dashboard_exprs:?}");

    let rules = parsed["rules"].as_array().expect("rules");
    assert!(rules.len() >= 5, "{rules:?}");
    let mut alert_exprs = Vec::new();
    for rule in rules {
        assert!(rule["alert"].as_str().is_some_and(|a| !a.is_empty()), "{rule}");
        alert_exprs.push(rule["expr"].as_str().expect("expr").to_owned());
    }

    let mut used = BTreeSet::new();
    for expr in dashboard_exprs.iter().chain(&alert_exprs) {
        let names = metric_names(expr);
        for name in &names {
            assert!(exported.contains(name), "{name} (in `{expr}`) is not exported; exported: {exported:?}");
        }
        used.extend(names);
    }
    for wanted in [
        "candex_http_requests_total",
        "candex_http_request_duration_seconds_bucket",
        "candex_graphql_errors_total",
        "candex_tokens_issued_total",
        "candex_applications_ingested_total",
        "candex_webhook_pending_deliveries",
        "candex_db_pool_connections",
        "candex_events_newest_age_seconds",
    ] {
        assert!(used.contains(wanted), "the dashboard and alerts never use {wanted}");
    }

    // promtool, when installed, checks the rules as Prometheus would load them.
    if let Ok(out) = std::process::Command::new("promtool").args(["check", "rules", &rules_file]).output() {
        let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "promtool rejected docs/alerts.yml:\n{report}");
    }
}

/// A database that stops answering does not fail the scrape: `/metrics` answers 200 with
/// readiness down and the other database gauges at their last values.
#[tokio::test]
async fn a_failing_database_leaves_the_scrape_answering_with_the_last_values() {
    if !parser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("metrics.db").display());
    let store = candex_store_sqlite::SqliteStore::connect(&url).await.expect("open sqlite");
    let settings = candex_testkit::test_settings(dir.path().join("blobs"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = candex_server::Application::build(settings, std::sync::Arc::new(store.clone()), listener)
        .await
        .expect("build app");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = candex_testkit::Operator::new(format!("http://{}", app.local_addr()), candex_testkit::OPERATOR_KEY);
    tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let hirer = operator.create_hirer("Outage Co").await;
    operator.create_position(&hirer, "Before").await;
    let scrape = |operator: &candex_testkit::Operator| {
        let url = format!("{}/metrics", operator.base);
        let client = operator.client.clone();
        async move {
            let res = client.get(url).send().await.expect("scrape");
            assert_eq!(res.status(), StatusCode::OK);
            Scrape(parse(&res.text().await.unwrap(), &[]))
        }
    };
    let before = scrape(&operator).await;
    assert_eq!(before.value("candex_ready", &[("dependency", "database")]), 1.0);
    let newest = before.value("candex_events_newest_sequence", &[]);
    assert!(newest >= 1.0, "posting the job ad wrote an event");

    store.close().await;
    tokio::time::sleep(candex_server::metrics::REFRESH_EVERY).await;
    let after = scrape(&operator).await;
    assert_eq!(after.value("candex_ready", &[("dependency", "database")]), 0.0);
    assert_eq!(after.value("candex_events_newest_sequence", &[]), newest, "the last value is kept");
    assert!(after.has_sample("candex_build_info", &[("backend", "sqlite")]));
    let _ = stop.send(());
}
