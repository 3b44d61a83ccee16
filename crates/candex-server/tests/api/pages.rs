//! The browser-facing pages: the GraphQL explorer and the operator API reference load nothing
//! from another origin, carry a strict Content-Security-Policy, and their assets are served
//! with the right types and cache headers; the OpenAPI document passes a real validator.

use candex_testkit::TestServer;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};

/// Every `src="…"` and `href="…"` value of `html`.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("closed attribute");
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

fn assert_strict_csp(response: &reqwest::Response) {
    let csp = response.headers().get(CONTENT_SECURITY_POLICY).expect("CSP header").to_str().unwrap().to_owned();
    let directive = |name: &str| {
        csp.split(';').map(str::trim).find(|d| d.starts_with(&format!("{name} "))).unwrap_or_default().to_owned()
    };
    assert_eq!(directive("default-src"), "default-src 'none'", "{csp}");
    assert_eq!(directive("script-src"), "script-src 'self'", "no inline or foreign script: {csp}");
    assert_eq!(directive("connect-src"), "connect-src 'self'", "{csp}");
    assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'", "{csp}");
}

/// Fetches each same-origin reference of a page and checks its type and caching.
async fn assert_assets_served(server: &TestServer, html: &str) -> usize {
    let mut scripts = 0;
    for reference in references(html) {
        assert!(
            reference.starts_with('#') || (reference.starts_with('/') && !reference.starts_with("//")),
            "only same-origin references, found {reference}"
        );
        if !reference.starts_with("/assets/") {
            continue;
        }
        let res = server.client.get(format!("{}{reference}", server.base)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{reference}");
        let content_type = res.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        let expected = if reference.ends_with(".js") {
            scripts += 1;
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(content_type, expected, "{reference}");
        assert_eq!(res.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable", "{reference}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(!res.bytes().await.unwrap().is_empty());
    }
    scripts
}

#[tokio::test]
async fn the_explorer_is_served_from_candex_alone_with_a_strict_csp() {
    let server = TestServer::spawn().await;
    let res = server.client.get(format!("{}/graphql", server.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    assert_strict_csp(&res);
    let html = res.text().await.unwrap();
    for cdn in ["unpkg", "jsdelivr", "cdnjs", "http://", "https://"] {
        assert!(!html.contains(cdn), "the page names {cdn}");
    }
    // No inline script: every <script> either loads a same-origin file or is a JSON data block.
    for tag in html.split("<script").skip(1) {
        let head = &tag[..tag.find('>').unwrap()];
        assert!(
            head.contains(" src=\"/assets/") || head.contains("type=\"application/json\""),
            "inline script: {head}"
        );
    }
    assert_eq!(assert_assets_served(&server, &html).await, 4, "React, ReactDOM, GraphiQL and the page script");

    // Prefilled: the seed query, its variables and a headers template; the form posts to the
    // token endpoint.
    let start = html.find("<script type=\"application/json\" id=\"candex-explorer-config\">").unwrap();
    let block = &html[start..];
    let block = &block[block.find('>').unwrap() + 1..block.find("</script>").unwrap()];
    let config: serde_json::Value = serde_json::from_str(block).unwrap();
    assert!(config["query"].as_str().unwrap().contains("candidateProfile(id: $id)"));
    let variables: serde_json::Value = serde_json::from_str(config["variables"].as_str().unwrap()).unwrap();
    assert!(variables["id"].is_string());
    let headers: serde_json::Value = serde_json::from_str(config["headers"].as_str().unwrap()).unwrap();
    assert!(headers["Authorization"].as_str().unwrap().starts_with("Bearer "));
    assert_eq!(config["tokenEndpoint"], "/oauth/token");
    assert!(html.contains("name=\"client_id\"") && html.contains("name=\"client_secret\""));
}

#[tokio::test]
async fn unknown_or_unhashed_asset_names_are_not_found() {
    let server = TestServer::spawn().await;
    for path in ["/assets/graphiql.min.js", "/assets/..%2FCargo.toml", "/assets/explorer.0000000000000000.js"] {
        let res = server.client.get(format!("{}{path}", server.base)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_operator_reference_page_lists_every_operation_offline() {
    let server = TestServer::spawn().await;
    let res = server.client.get(format!("{}/operator/v1/reference", server.base)).send().await.unwrap();
    assert_eq!(res.status(), 200, "no operator key needed");
    assert_strict_csp(&res);
    let html = res.text().await.unwrap();
    assert_eq!(assert_assets_served(&server, &html).await, 0, "the reference page runs no script");
    assert!(!html.contains("https://") && !html.contains("http://"));
    let (_, document) = server.request(reqwest::Method::GET, "/openapi.json", None).await;
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(html.contains(&format!("<code>{path}</code>")), "{method} {path}");
        }
    }
}

/// Runs `python3 -m openapi_spec_validator` on the served document. Skipped, saying so, when
/// the module is missing, unless `CANDEX_TEST_OPENAPI_VALIDATOR=required` (CI sets it).
#[tokio::test]
async fn the_openapi_document_passes_openapi_spec_validator() {
    let required = std::env::var("CANDEX_TEST_OPENAPI_VALIDATOR").is_ok_and(|v| v == "required");
    let available = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(!required, "CANDEX_TEST_OPENAPI_VALIDATOR=required but python3 -m openapi_spec_validator is missing");
        println!("skipped: `pip install openapi-spec-validator` to validate the OpenAPI document");
        return;
    }
    let server = TestServer::spawn().await;
    let res = server.client.get(format!("{}/operator/v1/openapi.json", server.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, res.bytes().await.unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("run the validator");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "openapi-spec-validator rejected the document:\n{report}");
    assert!(report.contains("OK"), "{report}");
}
