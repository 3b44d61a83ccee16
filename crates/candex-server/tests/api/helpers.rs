//! The test harness: `TestApp::spawn()` starts a real server on 127.0.0.1:0 over a fresh SQLite
//! file and returns a client plus helpers that drive the operator API and GraphQL.

use std::sync::{Arc, Once};
use std::time::Duration;

use candex_server::config::TokenSettings;
use candex_server::{Application, Settings};
use candex_store::Store;
use candex_store_postgres::scratch::ScratchDatabase;
use candex_store_sqlite::SqliteStore;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The operator key every test server uses.
pub const OPERATOR_KEY: &str = "test-operator-key";
/// The token signing key every test server uses, so tests can forge tokens deliberately.
pub const SIGNING_KEY: [u8; 32] = [42; 32];

static TRACING: Once = Once::new();

fn init_tracing() {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("info").try_init();
        }
    });
}

/// A running server and what tests need to drive it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    /// The SQLite URL of the server's database, for tests that inspect rows directly.
    pub db_url: String,
    /// The folder of the server's attachment blobs.
    pub blobs_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _database: Option<ScratchDatabase>,
}

/// The backend test servers run on: SQLite, or PostgreSQL when `CANDEX_TEST_BACKEND=postgres`
/// (each server then gets a database of its own through `CANDEX_TEST_POSTGRES_URL`).
pub fn backend() -> &'static str {
    match std::env::var("CANDEX_TEST_BACKEND").as_deref() {
        Ok("postgres") => "postgres",
        _ => "sqlite",
    }
}

async fn open_store(dir: &tempfile::TempDir) -> (Arc<dyn Store>, String, Option<ScratchDatabase>) {
    if backend() == "postgres" {
        let database =
            ScratchDatabase::from_env().await.expect("CANDEX_TEST_BACKEND=postgres needs CANDEX_TEST_POSTGRES_URL");
        let url = database.url();
        let store = candex_store_postgres::PgStore::connect(&url).await.expect("open postgres");
        return (Arc::new(store), url, Some(database));
    }
    let url = format!("sqlite://{}", dir.path().join("candex.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect(&url).await.expect("open sqlite"));
    (store, url, None)
}

/// A partner created through the operator API.
#[derive(Debug, Clone)]
pub struct TestPartner {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl TestApp {
    /// Starts a server with the default test settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|s| s).await
    }

    /// Starts a server after letting the test adjust the settings.
    pub async fn spawn_with(adjust: impl FnOnce(Settings) -> Settings) -> TestApp {
        init_tracing();
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, db_url, database) = open_store(&dir).await;
        let blobs_dir = dir.path().join("blobs");
        let settings = Settings {
            blobs: Some(candex_server::storage::BlobLocation::Local(blobs_dir.clone())),
            tokens: TokenSettings {
                issuer: None,
                audience: None,
                accepted_audiences: candex_server::config::SEEK_AUDIENCES.map(String::from).to_vec(),
                lifetime: Duration::from_secs(1800),
                signing_key: Some(SIGNING_KEY.to_vec()),
            },
            ..Settings::default()
        }
        .with_operator_key(OPERATOR_KEY);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let app = Application::build(adjust(settings), store.clone(), listener).await.expect("build app");
        let addr = app.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            store,
            db_url,
            blobs_dir,
            _dir: dir,
            _shutdown: tx,
            _database: database,
        }
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

    /// Sends an operator request with the operator key.
    pub async fn operator(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}/operator/v1{path}", self.base)).bearer_auth(OPERATOR_KEY);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("operator request");
        let status = res.status();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Ingests a multipart application: the JSON part `application`, then each file part as
    /// `(part name, file name, content type, bytes)`.
    pub async fn ingest_multipart(&self, body: Value, files: Vec<(&str, &str, &str, Vec<u8>)>) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new().percent_encode_noop().part(
            "application",
            reqwest::multipart::Part::text(body.to_string()).mime_str("application/json").expect("mime"),
        );
        for (name, filename, content_type, bytes) in files {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(filename.to_owned())
                .mime_str(content_type)
                .expect("mime");
            form = form.part(name.to_owned(), part);
        }
        let res = self
            .client
            .post(format!("{}/operator/v1/applications", self.base))
            .bearer_auth(OPERATOR_KEY)
            .multipart(form)
            .send()
            .await
            .expect("multipart request");
        let status = res.status();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
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

    /// Creates a hirer and returns its id.
    pub async fn create_hirer(&self, name: &str) -> String {
        let (status, body) = self.operator(reqwest::Method::POST, "/hirers", Some(json!({"name": name}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("hirer id").to_owned()
    }

    /// Creates a partner.
    pub async fn create_partner(&self, name: &str) -> TestPartner {
        let (status, body) = self.operator(reqwest::Method::POST, "/partners", Some(json!({"name": name}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        TestPartner {
            id: body["id"].as_str().expect("id").to_owned(),
            client_id: body["clientId"].as_str().expect("clientId").to_owned(),
            client_secret: body["clientSecret"].as_str().expect("clientSecret").to_owned(),
        }
    }

    /// Replaces a partner's relationships with a hirer.
    pub async fn relate(&self, partner: &TestPartner, hirer: &str, codes: &[&str]) {
        let path = format!("/partners/{}/relationships/{hirer}", partner.id);
        let (status, body) =
            self.operator(reqwest::Method::PUT, &path, Some(json!({"relationshipTypeCodes": codes}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Posts a job ad for a hirer and returns its position profile id.
    pub async fn create_position(&self, hirer: &str, title: &str) -> String {
        let (status, body) = self
            .operator(
                reqwest::Method::POST,
                "/positions",
                Some(json!({"hirerId": hirer, "positionTitle": title, "seekHirerJobReference": "REQ-1"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("position id").to_owned()
    }

    /// Ingests an application body.
    pub async fn ingest(&self, body: Value) -> (StatusCode, Value) {
        self.operator(reqwest::Method::POST, "/applications", Some(body)).await
    }

    /// Ingests a minimal application and returns `(profile id, candidate id)`.
    pub async fn apply(&self, position: &str, email: &str) -> (String, String) {
        let (status, body) = self.ingest(minimal_application(position, email)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (body["candidateProfileId"].as_str().unwrap().to_owned(), body["candidateId"].as_str().unwrap().to_owned())
    }

    /// Gets a partner token through `/oauth/token` (SEEK's JSON body).
    pub async fn token(&self, partner: &TestPartner) -> String {
        let res = self
            .client
            .post(format!("{}/oauth/token", self.base))
            .json(&json!({"grant_type": "client_credentials", "client_id": partner.client_id, "client_secret": partner.client_secret}))
            .send()
            .await
            .expect("token request");
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("token json");
        body["access_token"].as_str().expect("access_token").to_owned()
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

/// The smallest valid application: a name and an email.
pub fn minimal_application(position: &str, email: &str) -> Value {
    json!({
        "positionProfileId": position,
        "candidate": {"person": {"name": {"given": "Sam", "family": "Lee"}, "communication": {"email": [{"address": email}]}}}
    })
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
