//! Request limits of `/graphql`, through a real server: random deep, wide and fanned-out
//! documents and variables (a property test) never crash the server or take long, every limit
//! answers with its documented code, and documents within the limits (SEEK's seed query,
//! introspection, an events page with inline profiles) keep working.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// A request shape the property test draws from: each targets one step's limit.
#[derive(Debug, Clone)]
enum Shape {
    /// `[` / `{a:` / `(` nested `depth` times in an argument or a variable default.
    DeepValue { open: &'static str, close: &'static str, depth: usize, in_default: bool },
    /// Selections nested `depth` times (`{ a { a { … } } }`).
    DeepSelections { depth: usize },
    /// `width` aliased fields, each with `directives` `@include(if: true)`.
    Wide { width: usize, directives: usize },
    /// `n` fragments, each spreading the next `fan` times.
    FanOut { n: usize, fan: usize },
    /// Variables JSON nested `depth` times.
    DeepVariables { depth: usize },
    /// Arbitrary bytes as the query.
    Garbage { text: String },
}

fn shape() -> impl Strategy<Value = Shape> {
    let opener = prop_oneof![Just(("[", "]")), Just(("{a: ", "}")), Just(("(", ")"))];
    prop_oneof![
        (opener, 1usize..5000, any::<bool>()).prop_map(|((open, close), depth, in_default)| Shape::DeepValue {
            open,
            close,
            depth,
            in_default
        }),
        (1usize..3000).prop_map(|depth| Shape::DeepSelections { depth }),
        (1usize..20_000, 0usize..4).prop_map(|(width, directives)| Shape::Wide { width, directives }),
        (1usize..64, 1usize..6).prop_map(|(n, fan)| Shape::FanOut { n, fan }),
        (1usize..100_000).prop_map(|depth| Shape::DeepVariables { depth }),
        "\\PC{0,2000}".prop_map(|text| Shape::Garbage { text }),
    ]
}

fn body_of(shape: &Shape) -> String {
    let query = match shape {
        Shape::DeepValue { open, close, depth, in_default: false } => {
            format!("{{ version(x: {}1{}) }}", open.repeat(*depth), close.repeat(*depth))
        }
        Shape::DeepValue { open, close, depth, in_default: true } => {
            format!("query ($v: [Int] = {}1{}) {{ version }}", open.repeat(*depth), close.repeat(*depth))
        }
        Shape::DeepSelections { depth } => format!("{{ {}version{} }}", "a { ".repeat(*depth), " }".repeat(*depth)),
        Shape::Wide { width, directives } => {
            let mut q = String::from("{ ");
            for i in 0..*width {
                q.push_str(&format!("a{i}: __typename{} ", " @include(if: true)".repeat(*directives)));
            }
            q.push('}');
            q
        }
        Shape::FanOut { n, fan } => {
            let mut q = String::from("query { ...F0 }\n");
            for i in 0..*n {
                q.push_str(&format!("fragment F{i} on Query {{ {} }}\n", format!("...F{} ", i + 1).repeat(*fan)));
            }
            q.push_str(&format!("fragment F{n} on Query {{ __typename }}\n"));
            q
        }
        Shape::DeepVariables { depth } => {
            let v = format!("{}1{}", "[".repeat(*depth), "]".repeat(*depth));
            return format!("{{\"query\":\"query ($v: [Int]) {{ __typename }}\",\"variables\":{{\"v\":{v}}}}}");
        }
        Shape::Garbage { text } => text.clone(),
    };
    json!({"query": query}).to_string()
}

async fn post(app: &TestApp, token: Option<&str>, body: String) -> (StatusCode, Value, Duration) {
    try_post(app, token, body).await.expect("the server answers")
}

async fn try_post(app: &TestApp, token: Option<&str>, body: String) -> reqwest::Result<(StatusCode, Value, Duration)> {
    let started = Instant::now();
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await?;
    let status = res.status();
    let body = res.json().await.unwrap_or(Value::Null);
    Ok((status, body, started.elapsed()))
}

fn unlimited(s: candex_server::Settings) -> candex_server::Settings {
    candex_server::Settings {
        rate_limits: candex_server::config::RateLimits {
            anonymous_graphql_per_address: candex_server::config::Rate::UNLIMITED,
            partner: candex_server::config::Rate::UNLIMITED,
            ..s.rate_limits.clone()
        },
        ..s
    }
}

#[test]
fn random_deep_wide_and_fanned_out_requests_are_answered_quickly() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (app, token) = rt.block_on(async {
        let app = TestApp::spawn_with(unlimited).await;
        let partner = app.create_partner("Prop ATS").await;
        let token = app.token(&partner).await;
        (app, token)
    });
    let config = ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(shape in shape(), authenticated in any::<bool>())| {
        let body = body_of(&shape);
        let oversized = body.len() > candex_server::Settings::default().max_body_bytes;
        let caller = authenticated.then_some(token.as_str());
        match rt.block_on(try_post(&app, caller, body)) {
            Ok((status, response, took)) => {
                prop_assert!(took < Duration::from_secs(2), "{shape:?} took {took:?}");
                prop_assert!(
                    [StatusCode::OK, StatusCode::BAD_REQUEST, StatusCode::PAYLOAD_TOO_LARGE].contains(&status),
                    "{shape:?}: HTTP {status}"
                );
                if status != StatusCode::OK {
                    let code = response["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned();
                    prop_assert!(
                        ["GRAPHQL_LIMIT_EXCEEDED", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST"]
                            .contains(&code.as_str()),
                        "{shape:?}: {response}"
                    );
                }
            }
            // A body over the limit is refused from its Content-Length, before it is read; the
            // connection then closes with the rest of the upload unread, and a client still
            // writing it can see the reset before it reads the 413 (the server does not linger
            // to drain uploads). That is a refusal too; anything else must be answered.
            Err(e) if oversized && e.is_request() => {}
            Err(e) => panic!("{shape:?}: the server did not answer: {e}"),
        }
        // Still up: a partner query on the same server.
        let (status, response, _) = rt.block_on(post(&app, Some(&token), json!({"query": "{ version }"}).to_string()));
        prop_assert_eq!(status, StatusCode::OK);
        prop_assert!(response["data"]["version"].is_string(), "{}", response);
    });
}

#[tokio::test]
async fn each_limit_answers_with_its_code() {
    let app = TestApp::spawn_with(|s| {
        let s = unlimited(s);
        candex_server::Settings {
            graphql: candex_server::config::GraphqlLimits {
                max_query_bytes: 4096,
                max_tokens: 500,
                max_selections: 100,
                ..s.graphql.clone()
            },
            ..s
        }
    })
    .await;
    let cases = [
        ("queryBytes", format!("{{ __typename # {} \n}}", "x".repeat(5000))),
        ("tokens", format!("{{ {} }}", "a ".repeat(600))),
        (
            "selections",
            format!("{{ {} }}", (0..150).map(|i| format!("a{i}: __typename")).collect::<Vec<_>>().join(" ")),
        ),
        ("nesting", format!("{{ __typename(a: {}1{}) }}", "[".repeat(100), "]".repeat(100))),
    ];
    for (limit, query) in cases {
        let (status, body, _) = post(&app, None, json!({"query": query}).to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{limit}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_LIMIT_EXCEEDED", "{limit}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["limit"], limit, "{body}");
        assert!(body["data"].is_null());
    }
    // async-graphql's own depth limit (16) gets the same code.
    let deep = format!("{{ __schema {{ types {{ {}name{} }} }} }}", "ofType { ".repeat(18), " }".repeat(18));
    let (_, body, _) = post(&app, None, json!({"query": deep}).to_string()).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_LIMIT_EXCEEDED", "{body}");
    // Parse and validation failures have their codes too.
    let (status, body, _) = post(&app, None, json!({"query": "{ version"}).to_string()).await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("GRAPHQL_PARSE_FAILED"))
    );
    assert!(body["errors"][0]["locations"][0]["line"].is_number(), "{body}");
    let (_, body, _) = post(&app, None, json!({"query": "{ nothing }"}).to_string()).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{body}");
    // A body that is not a GraphQL request.
    let (status, body, _) = post(&app, None, "[1,2".to_owned()).await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BAD_REQUEST"))
    );
}

#[tokio::test]
async fn the_body_limit_holds_for_graphql() {
    let app = TestApp::spawn_with(|s| candex_server::Settings { max_body_bytes: 64 * 1024, ..unlimited(s) }).await;
    let padded = json!({"query": "{ __typename }", "extensions": {"pad": "x".repeat(70 * 1024)}}).to_string();
    let (status, body, _) = post(&app, None, padded).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["limit"], "bodyBytes");
    let within = json!({"query": "{ __typename }", "extensions": {"pad": "x".repeat(60 * 1024)}}).to_string();
    let (status, body, _) = post(&app, None, within).await;
    assert_eq!((status, &body["data"]["__typename"]), (StatusCode::OK, &json!("Query")), "{body}");
}

/// Documents SEEK documents, and introspection, stay within every default limit.
#[tokio::test]
async fn documented_queries_and_introspection_still_work() {
    let app = TestApp::spawn().await;
    let hirer = app.create_hirer("Limits Pty Ltd").await;
    let partner = app.create_partner("Limits ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Barista").await;
    let (profile, _) = app.apply(&position, "ana@example.com").await;
    let token = app.token(&partner).await;
    let seed = app.graphql(Some(&token), candex_server::graphql::SEED_QUERY, json!({"id": profile})).await;
    assert_eq!(seed["data"]["candidateProfile"]["profileId"]["value"], profile, "{seed}");
    // Twice: the second run takes the cached document.
    let again = app.graphql(Some(&token), candex_server::graphql::SEED_QUERY, json!({"id": profile})).await;
    assert_eq!(again, seed);
    let introspection = app.graphql(Some(&token), candex_server::graphql::INTROSPECTION_QUERY, json!({})).await;
    assert!(introspection.get("errors").is_none(), "{introspection}");
    assert!(introspection["data"]["__schema"]["types"].as_array().is_some_and(|t| t.len() > 50));
    // SEEK's events page with each application fetched inline (complexity ~12,000).
    let events = app.graphql(Some(&token), EVENTS_PAGE, json!({"schemeId": "seekAnzPublicTest"})).await;
    assert!(events.get("errors").is_none(), "{events}");
    assert!(!events["data"]["events"]["edges"].as_array().unwrap().is_empty(), "{events}");
}

const EVENTS_PAGE: &str = r#"query ($schemeId: String!) {
  events(schemeId: $schemeId, first: 100) {
    edges {
      node {
        id { value }
        typeCode
        createDateTime
        ... on CandidateApplicationCreatedEvent {
          candidateApplicationProfileId
          candidateApplicationProfile {
            profileId { value }
            createDateTime
            candidate { person { name { given family } communication { email { address } phone { formattedNumber } } } }
            associatedPositionProfile { positionUri seekHirerJobReference }
            employment { organization { name } positionHistories { start end title } }
            education { institution { name } educationDegrees { name degreeGrantedStatus date } descriptions }
            certifications { name issued effectiveTimePeriod { validTo } issuingAuthority { name } descriptions }
            qualifications { competencyName }
            attachments { url seekRoleCode }
          }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"#;

/// The body limit holds on the other routes too: the token endpoint and the operator API
/// refuse a body over it with 413 and store nothing.
#[tokio::test]
async fn the_body_limit_holds_on_every_route() {
    let app = TestApp::spawn_with(|s| candex_server::Settings { max_body_bytes: 64 * 1024, ..s }).await;
    let big = format!("{{\"grant_type\":\"client_credentials\",\"pad\":\"{}\"}}", "x".repeat(100 * 1024));
    let res = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("token request");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = app
        .client
        .post(format!("{}/operator/v1/hirers", app.base))
        .bearer_auth(crate::helpers::OPERATOR_KEY)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("operator request");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(app.store.list_hirers().await.expect("hirers").is_empty(), "nothing stored");
}

/// GraphQL-over-HTTP: the response's media type follows `Accept`, and a request error is 400
/// only as `application/graphql-response+json`; as `application/json` (SEEK's transport, and
/// what `*/*` or no `Accept` get) every well-formed request is 200.
#[tokio::test]
async fn the_media_type_and_status_follow_accept() {
    let app = TestApp::spawn_with(unlimited).await;
    let cases = [
        (Some("application/json"), "application/json", StatusCode::OK),
        (Some("application/graphql-response+json"), "application/graphql-response+json", StatusCode::BAD_REQUEST),
        (
            Some("application/graphql-response+json,application/json;q=0.9"),
            "application/graphql-response+json",
            StatusCode::BAD_REQUEST,
        ),
        (Some("*/*"), "application/json", StatusCode::OK),
        (None, "application/json", StatusCode::OK),
    ];
    for (accept, content_type, error_status) in cases {
        for (query, status, code) in [
            ("{ __typename }", StatusCode::OK, None),
            ("{ __typename", error_status, Some("GRAPHQL_PARSE_FAILED")),
            ("{ nothing }", error_status, Some("GRAPHQL_VALIDATION_FAILED")),
        ] {
            let mut req = app.client.post(format!("{}/graphql", app.base)).json(&json!({"query": query}));
            if let Some(accept) = accept {
                req = req.header("accept", accept);
            }
            let res = req.send().await.expect("graphql request");
            assert_eq!(res.status(), status, "{accept:?} {query}");
            assert_eq!(res.headers()["content-type"], content_type, "{accept:?} {query}");
            let body: Value = res.json().await.expect("json");
            assert_eq!(body["errors"][0]["extensions"]["code"].as_str(), code, "{accept:?} {query}: {body}");
        }
    }
    // HTTP-level refusals keep their status whatever the media type.
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .expect("graphql request");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/json");
}
