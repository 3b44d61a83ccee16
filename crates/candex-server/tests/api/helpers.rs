//! The harness of the server's tests: `TestApp` is candex-testkit's `TestServer` (a real
//! server on 127.0.0.1:0 over a fresh database of the chosen backend, with the operator API
//! helpers) plus what only these tests use: the GraphQL helpers they assert with, row counts and
//! the blob folder.

use std::ops::Deref;

use candex_server::Settings;
use candex_store_sqlite::SqliteStore;
use candex_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub use candex_testkit::{backend, minimal_application, Partner as TestPartner, OPERATOR_KEY, SIGNING_KEY};

/// A running server and what tests need to drive it.
pub struct TestApp(TestServer);

impl Deref for TestApp {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl TestApp {
    /// Starts a server with the default test settings.
    pub async fn spawn() -> TestApp {
        TestApp(TestServer::spawn().await)
    }

    /// Starts a server after letting the test adjust the settings.
    pub async fn spawn_with(adjust: impl FnOnce(Settings) -> Settings) -> TestApp {
        TestApp(TestServer::spawn_with(adjust).await)
    }

    /// Sends an operator request with the operator key (`Operator::request`).
    pub async fn operator(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.request(method, path, body).await
    }

    /// Rows of a table in the server's database, read through a separate connection.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("select count(*) from {table}");
        if self.db_url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&self.db_url).await.expect("open postgres");
            let n: i64 = sqlx::query_scalar(&sql).fetch_one(&pool).await.expect("count rows");
            pool.close().await;
            n
        } else {
            let store = SqliteStore::connect(&self.db_url).await.expect("open sqlite");
            let n: i64 = sqlx::query_scalar(&sql).fetch_one(store.reader_pool()).await.expect("count rows");
            store.close().await;
            n
        }
    }

    /// The files under the blobs folder (recursively).
    pub fn blob_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.blobs_dir, &mut out);
        out
    }

    /// Sends a GraphQL request that must be refused before execution (validation or a limit),
    /// accepting `application/graphql-response+json`: asserts HTTP 400 and returns the body.
    pub async fn graphql_refused(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let accept = "application/graphql-response+json";
        self.send_graphql(token, query, variables, accept, StatusCode::BAD_REQUEST).await
    }

    /// Runs a GraphQL operation as SEEK's documented transport does (`application/json`);
    /// asserts HTTP 200 (GraphQL errors travel in the body).
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.send_graphql(token, query, variables, "application/json", StatusCode::OK).await
    }

    async fn send_graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        accept: &str,
        expect: StatusCode,
    ) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("accept", accept)
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("graphql request");
        assert_eq!(res.status(), expect);
        res.json().await.expect("graphql json")
    }
}

/// The error codes of a GraphQL response, in order.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_owned()).collect())
        .unwrap_or_default()
}

/// The seed query, verbatim from SEEK's "Exporting candidate profiles" page.
pub use candex_server::graphql::SEED_QUERY;

/// SEEK's documented `seekQuestionnaireSubmission` selection (spec §6), verbatim.
pub const SUBMISSION_SELECTION: &str = r#"seekQuestionnaireSubmission {
      questionnaire { id { value } }
      score
      responses {
        componentTypeCode
        component { id { value } value componentTypeCode }
        ... on ApplicationPrivacyConsentResponse {
          consentGivenIndicator
          component { privacyPolicyUrl { url } descriptionHtml } }
        ... on ApplicationQuestionResponse {
          score
          component { questionHtml responseTypeCode sourceCode
            responseChoice { id { value } text value preferredIndicator } }
          answers { answer choice { id { value } text value preferredIndicator } } } } }"#;

impl TestApp {
    /// A second server (another instance) on this one's database, with the test settings
    /// `adjust` changed.
    pub async fn beside(&self, adjust: impl FnOnce(Settings) -> Settings) -> TestApp {
        TestApp(self.0.spawn_beside(adjust).await)
    }

    /// Runs one statement on the server's database through a separate connection.
    pub async fn execute_sql(&self, sql: &str) {
        if self.db_url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&self.db_url).await.expect("open postgres");
            sqlx::query(sql).execute(&pool).await.expect("execute");
            pool.close().await;
        } else {
            let store = SqliteStore::connect(&self.db_url).await.expect("open sqlite");
            sqlx::query(sql).execute(store.writer_pool()).await.expect("execute");
            store.close().await;
        }
    }

    /// One text column of every row a statement returns (binary columns as lossy UTF-8).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        if self.db_url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&self.db_url).await.expect("open postgres");
            let rows: Vec<Vec<u8>> = sqlx::query_scalar(sql).fetch_all(&pool).await.expect("select");
            pool.close().await;
            rows.into_iter().map(|r| String::from_utf8_lossy(&r).into_owned()).collect()
        } else {
            let store = SqliteStore::connect(&self.db_url).await.expect("open sqlite");
            let rows: Vec<Vec<u8>> = sqlx::query_scalar(sql).fetch_all(store.reader_pool()).await.expect("select");
            store.close().await;
            rows.into_iter().map(|r| String::from_utf8_lossy(&r).into_owned()).collect()
        }
    }
}
