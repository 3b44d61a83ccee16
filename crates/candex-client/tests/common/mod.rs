//! A real candex server spawned in-process on 127.0.0.1:0 (candex-testkit's `TestServer`), with
//! what the client's tests add: a configured `Client` per partner, and operator calls that
//! assert success and answer ids.
#![allow(dead_code)]

use std::ops::Deref;
use std::time::Duration;

use candex_client::{Client, ClientConfig};
use candex_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

pub use candex_testkit::{minimal_application, Partner};

pub struct Server(TestServer);

impl Deref for Server {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl Server {
    pub async fn spawn() -> Server {
        Server(TestServer::spawn().await)
    }

    pub async fn spawn_with_lifetime(lifetime: Duration) -> Server {
        Server(
            TestServer::spawn_with(|mut s| {
                s.tokens.lifetime = lifetime;
                s
            })
            .await,
        )
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

    /// Ingests an application; asserts it was created and returns its profile id.
    pub async fn ingest(&self, body: Value) -> String {
        profile_id(self.0.ingest(body).await)
    }

    /// Ingests a multipart application; asserts it was created and returns its profile id.
    pub async fn ingest_multipart(&self, body: Value, files: Vec<(&str, &str, &str, Vec<u8>)>) -> String {
        profile_id(self.0.ingest_multipart(body, files).await)
    }
}

fn profile_id((status, body): (StatusCode, Value)) -> String {
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["candidateProfileId"].as_str().expect("profile id").to_owned()
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
        server.relate(&partner, &hirer, &["ApplicationExport"]).await;
        let position = server.create_position(&hirer, "Writer").await;
        let client = server.client(&partner);
        World { server, hirer, partner, position, client }
    }
}
