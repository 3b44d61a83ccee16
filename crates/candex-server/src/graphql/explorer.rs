//! `GET /graphql` in a browser: the GraphiQL explorer, served entirely from candex (the files
//! are embedded, see [`crate::http::assets`]) under a strict Content-Security-Policy. The page
//! opens on the seed `candidateProfile` query with its variables and a headers template, and
//! has a form that exchanges a client id and secret for a partner token at `/oauth/token` and
//! puts it into the headers. Its configuration travels in a JSON data block, not a script.

use axum::extract::State;
use axum::response::Response;

use crate::http::assets::{escape, html_page, json_data_block, url};
use crate::state::AppState;

/// What the page is prefilled with.
#[derive(Debug, Clone, Default)]
pub struct ExplorerSettings {
    /// A profile id for the seed query's `$id` (the demo's example profile); a placeholder
    /// saying where to find one otherwise.
    pub example_profile_id: Option<String>,
}

/// The seed query with the indentation it has in SEEK's page removed.
fn seed_query() -> String {
    super::SEED_QUERY.lines().map(|l| l.strip_prefix("      ").unwrap_or(l)).collect::<Vec<_>>().join("\n")
}

/// The page's HTML.
pub fn page(settings: &ExplorerSettings) -> String {
    let id = settings
        .example_profile_id
        .clone()
        .unwrap_or_else(|| "a candidateProfileId from a webhook event or the events query".to_owned());
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    let config = serde_json::json!({
        "endpoint": "/graphql",
        "tokenEndpoint": "/oauth/token",
        "query": seed_query(),
        "variables": pretty(serde_json::json!({ "id": id })),
        "headers": pretty(serde_json::json!({ "Authorization": "Bearer <get a partner token above>" })),
    });
    let title = "candex GraphQL explorer";
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{graphiql_css}">
<link rel="stylesheet" href="{pages_css}">
<script type="application/json" id="candex-explorer-config">{config}</script>
<script src="{react}" defer></script>
<script src="{react_dom}" defer></script>
<script src="{graphiql}" defer></script>
<script src="{explorer}" defer></script>
</head>
<body class="explorer">
<form id="token-form" class="token-form" autocomplete="off">
<strong>{title}</strong>
<label>Client id <input name="client_id" required maxlength="255" spellcheck="false"></label>
<label>Client secret <input name="client_secret" type="password" required maxlength="255"></label>
<button type="submit">Get a partner token</button>
<output id="token-status" aria-live="polite"></output>
</form>
<div id="graphiql">Loading the explorer&hellip;</div>
</body>
</html>
"#,
        title = escape(title),
        graphiql_css = url("graphiql.min.css"),
        pages_css = url("pages.css"),
        config = json_data_block(&config),
        react = url("react.production.min.js"),
        react_dom = url("react-dom.production.min.js"),
        graphiql = url("graphiql.min.js"),
        explorer = url("explorer.js"),
    )
}

/// `GET /graphql`: the explorer page.
pub async fn explorer(State(state): State<AppState>) -> Response {
    html_page(page(&state.explorer))
}
