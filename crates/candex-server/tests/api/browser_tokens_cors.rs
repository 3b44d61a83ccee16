//! CORS for browser tokens: preflights from a configured origin are allowed with the headers
//! SEEK's browser-token flow sends, other origins get no allow header, and by default no
//! origin is allowed.

use candex_testkit::TestServer;
use reqwest::Method;

const APP: &str = "https://ats.example.com";

async fn preflight(server: &TestServer, path: &str, origin: &str) -> reqwest::Response {
    server
        .client
        .request(Method::OPTIONS, format!("{}{path}", server.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type, x-request-id, x-session-id")
        .send()
        .await
        .unwrap()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_with_the_browser_token_headers() {
    let server = TestServer::spawn_with(|mut s| {
        s.cors_allowed_origins = vec![APP.to_owned(), "http://localhost:3000".to_owned()];
        s
    })
    .await;
    let res = preflight(&server, "/graphql", APP).await;
    assert!(res.status().is_success(), "preflight answered, not 405: {}", res.status());
    assert_eq!(header(&res, "access-control-allow-origin"), Some(APP));
    let methods = header(&res, "access-control-allow-methods").unwrap().to_ascii_lowercase();
    assert!(methods.contains("post") && methods.contains("get"), "{methods}");
    let headers = header(&res, "access-control-allow-headers").unwrap().to_ascii_lowercase();
    for needed in ["authorization", "content-type", "x-request-id", "x-session-id", "accept-language"] {
        assert!(headers.contains(needed), "{needed} missing from {headers}");
    }
    assert!(header(&res, "access-control-allow-credentials").is_none(), "tokens, not cookies");
    assert!(header(&res, "vary").unwrap().to_ascii_lowercase().contains("origin"));

    // The actual request carries the allow header too (here a GraphQL error without a token).
    let res = server
        .client
        .post(format!("{}/graphql", server.base))
        .header("origin", APP)
        .json(&serde_json::json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "access-control-allow-origin"), Some(APP));
    let exposed = header(&res, "access-control-expose-headers").unwrap().to_ascii_lowercase();
    assert!(exposed.contains("content-disposition"), "{exposed}");
}

#[tokio::test]
async fn a_foreign_origin_gets_no_allow_header() {
    let server = TestServer::spawn_with(|mut s| {
        s.cors_allowed_origins = vec![APP.to_owned()];
        s
    })
    .await;
    for origin in ["https://evil.example", "https://ats.example.com.evil.example", "null"] {
        let res = preflight(&server, "/graphql", origin).await;
        assert!(header(&res, "access-control-allow-origin").is_none(), "{origin} was allowed");
    }
    // Partner-only routes never answer CORS, even for the allowed origin.
    let res = preflight(&server, "/oauth/token", APP).await;
    assert!(header(&res, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn by_default_no_origin_is_allowed() {
    let server = TestServer::spawn().await;
    let res = preflight(&server, "/graphql", APP).await;
    assert_ne!(res.status(), 405, "the preflight is handled");
    assert!(header(&res, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn an_invalid_origin_is_refused_at_start() {
    let database = candex_testkit::scratch_store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings =
        candex_server::Settings { cors_allowed_origins: vec!["https://a.example/path".into()], ..Default::default() };
    let error = candex_server::Application::build(settings, database.store.clone(), listener).await.err().unwrap();
    assert!(format!("{error:#}").contains("not an origin"), "{error:#}");
}
