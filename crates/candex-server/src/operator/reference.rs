//! `GET /operator/v1/reference`: the operator API's reference page, rendered on the server from
//! the same OpenAPI document as `/operator/v1/openapi.json` (every operation with its
//! parameters, body and responses, then the schemas). Plain HTML with candex's stylesheet and
//! no script, so it works offline under the pages' strict Content-Security-Policy.

use std::fmt::Write;

use axum::response::Response;
use serde_json::Value;

use crate::http::assets::{escape, html_page, url};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The last segment of a `$ref`, or the schema's type.
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!(r##"<a href="#schema-{0}">{0}</a>"##, escape(name));
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!("array of {}", schema.get("items").map(schema_name).unwrap_or_default()),
        Some(kind) => escape(kind),
        None => "object".to_owned(),
    }
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).map(escape).unwrap_or_default()
}

fn content(out: &mut String, content: Option<&Value>) {
    if let Some(types) = content.and_then(Value::as_object) {
        for (media, body) in types {
            let schema = body.get("schema").map(schema_name).unwrap_or_default();
            let _ = write!(out, "<code>{}</code> {schema} ", escape(media));
        }
    }
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        out,
        r#"<section class="operation" id="{id}"><h3><span class="method">{method}</span> <code>{path}</code></h3><p>{summary}</p>"#,
        id = escape(&format!("{method}-{path}")),
        method = escape(method),
        path = escape(path),
        summary = text(op.get("summary").or_else(|| op.get("description"))),
    );
    if let Some(description) = op.get("description").filter(|d| Some(*d) != op.get("summary")) {
        let _ = write!(out, "<p>{}</p>", text(Some(description)));
    }
    if let Some(params) = op.get("parameters").and_then(Value::as_array).filter(|p| !p.is_empty()) {
        out.push_str("<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>");
        for p in params {
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(p.get("name")),
                text(p.get("in")),
                if required { "yes" } else { "no" },
                p.get("schema").map(schema_name).unwrap_or_default(),
                text(p.get("description")),
            );
        }
        out.push_str("</table>");
    }
    if let Some(body) = op.get("requestBody") {
        out.push_str("<p>Request body: ");
        content(out, body.get("content"));
        out.push_str("</p>");
    }
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        out.push_str("<table><tr><th>status</th><th>description</th><th>body</th></tr>");
        for (status, response) in responses {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td><td>", escape(status), text(response.get("description")));
            content(out, response.get("content"));
            out.push_str("</td></tr>");
        }
        out.push_str("</table>");
    }
    if op.get("security").is_some() {
        out.push_str("<p>Needs the operator key: <code>Authorization: Bearer &lt;operator key&gt;</code>.</p>");
    }
    out.push_str("</section>");
}

/// The page's HTML for `document` (the OpenAPI document as JSON).
pub fn page(document: &Value) -> String {
    let title = text(document.pointer("/info/title"));
    let mut out = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} reference</title>
<link rel="stylesheet" href="{css}">
</head>
<body class="reference">
<h1>{title} <small>{version}</small></h1>
<p>{description}</p>
<p>Machine-readable: <a href="/operator/v1/openapi.json">/operator/v1/openapi.json</a> (OpenAPI {openapi}).</p>
"#,
        css = url("pages.css"),
        version = text(document.pointer("/info/version")),
        description = text(document.pointer("/info/description")),
        openapi = text(document.get("openapi")),
    );
    out.push_str("<h2>Operations</h2>");
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    operation(&mut out, method, path, op);
                }
            }
        }
    }
    out.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = document.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, schema) in schemas {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                out,
                r#"<section id="schema-{name}"><h3>{name}</h3><p>{description}</p><pre>{pretty}</pre></section>"#,
                name = escape(name),
                description = text(schema.get("description")),
                pretty = escape(&pretty),
            );
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// `GET /operator/v1/reference`.
pub async fn reference() -> Response {
    let document = serde_json::to_value(super::openapi::document()).unwrap_or_default();
    html_page(page(&document))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_and_schema_is_on_the_page() {
        let document = serde_json::to_value(super::super::openapi::document()).unwrap();
        let html = super::page(&document);
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys().filter(|k| super::METHODS.contains(&k.as_str())) {
                let id = super::escape(&format!("{method}-{path}"));
                assert!(html.contains(&format!(r#"id="{id}""#)), "{method} {path} is missing");
            }
        }
        for name in document["components"]["schemas"].as_object().unwrap().keys() {
            assert!(html.contains(&format!(r#"id="schema-{name}""#)), "schema {name} is missing");
        }
        assert!(!html.contains("<script"), "the reference page runs no script");
    }
}
