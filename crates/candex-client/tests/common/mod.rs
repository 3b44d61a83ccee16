//! A real candex server spawned in-process on 127.0.0.1:0 over a temp SQLite file, driven through the operator API.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use candex_client::{Client, ClientConfig};
use candex_server::config::TokenSettings;
use candex_server::{Application, Settings};
use candex_store::Store;
use candex_store_sqlite::SqliteStore;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const OPERATOR_KEY: &str = "test-operator-key";

pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

#[derive(Debug, Clone)]
pub struct Partner {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Server {
    pub async fn spawn() -> Server {
        Self::spawn_with_lifetime(Duration::from_secs(1800)).await
    }

    pub async fn spawn_with_lifetime(lifetime: Duration) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("candex.db").display());
        let store: Arc<dyn Store> = Arc::new(SqliteStore::connect(&url).await.expect("open sqlite"));
        let settings = Settings {
            blobs: Some(candex_server::storage::BlobLocation::Local(dir.path().join("blobs"))),
            tokens: TokenSettings {
                issuer: None,
                audience: None,
                accepted_audiences: candex_server::config::SEEK_AUDIENCES.map(String::from).to_vec(),
                lifetime,
                signing_key: Some(vec![7; 32]),
            },
            ..Settings::default()
        }
        .with_operator_key(OPERATOR_KEY);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let app = Application::build(settings, store, listener).await.expect("build app");
        let addr = app.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        Server { base: format!("http://{addr}"), http: reqwest::Client::new(), _dir: dir, _shutdown: tx }
    }

    pub fn scheme() -> String {
        candex_domain::Scheme::default().as_str().to_owned()
    }

    pub fn client(&self, partner: &Partner) -> Client {
        let config = ClientConfig::builder(&partner.client_id, &partner.client_secret)
            .server(&self.base)
            .user_agent("candex-client-tests/1")
            .backoff_base(Duration::from_millis(10))
            .build();
        Client::new(config).expect("client")
    }

    pub async fn operator(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}/operator/v1{path}", self.base)).bearer_auth(OPERATOR_KEY);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("operator request");
        let status = res.status();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn create_hirer(&self, name: &str) -> String {
        let (status, body) = self.operator(reqwest::Method::POST, "/hirers", Some(json!({"name": name}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("hirer id").to_owned()
    }

    pub async fn create_partner(&self, name: &str) -> Partner {
        let (status, body) = self.operator(reqwest::Method::POST, "/partners", Some(json!({"name": name}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Partner {
            id: body["id"].as_str().expect("id").to_owned(),
            client_id: body["clientId"].as_str().expect("clientId").to_owned(),
            client_secret: body["clientSecret"].as_str().expect("clientSecret").to_owned(),
        }
    }

    pub async fn relate(&self, partner: &Partner, hirer: &str) {
        let path = format!("/partners/{}/relationships/{hirer}", partner.id);
        let (status, body) = self
            .operator(reqwest::Method::PUT, &path, Some(json!({"relationshipTypeCodes": ["ApplicationExport"]})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub async fn create_position(&self, body: Value) -> Value {
        let (status, body) = self.operator(reqwest::Method::POST, "/positions", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub async fn ingest(&self, body: Value) -> String {
        let (status, body) = self.operator(reqwest::Method::POST, "/applications", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["candidateProfileId"].as_str().expect("profile id").to_owned()
    }

    pub async fn ingest_multipart(&self, body: Value, files: Vec<(&str, &str, &str, Vec<u8>)>) -> String {
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
            .http
            .post(format!("{}/operator/v1/applications", self.base))
            .bearer_auth(OPERATOR_KEY)
            .multipart(form)
            .send()
            .await
            .expect("multipart request");
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["candidateProfileId"].as_str().expect("profile id").to_owned()
    }
}

pub fn minimal_application(position: &str, email: &str) -> Value {
    json!({
        "positionProfileId": position,
        "candidate": {"person": {"name": {"given": "Sam", "family": "Lee"}, "communication": {"email": [{"address": email}]}}}
    })
}

/// A hirer, a related partner and a job ad.
pub struct World {
    pub server: Server,
    pub hirer: String,
    pub partner: Partner,
    pub position: String,
    pub client: Client,
}

impl World {
    pub async fn new() -> World {
        Self::with_server(Server::spawn().await).await
    }

    pub async fn with_server(server: Server) -> World {
        let hirer = server.create_hirer("Acme").await;
        let partner = server.create_partner("ATS").await;
        server.relate(&partner, &hirer).await;
        let position = server
            .create_position(json!({"hirerId": hirer, "positionTitle": "Writer", "seekHirerJobReference": "REQ-1"}))
            .await["id"]
            .as_str()
            .expect("position id")
            .to_owned();
        let client = server.client(&partner);
        World { server, hirer, partner, position, client }
    }
}
