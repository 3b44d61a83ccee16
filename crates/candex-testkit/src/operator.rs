//! The operator API as tests use it to set their data up, and partner tokens.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A partner created through the operator API, with the credentials shown once at creation.
#[derive(Debug, Clone)]
pub struct Partner {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Calls `/operator/v1` of one server with its operator key. The helpers that create something
/// assert that it was created and return what tests go on with; [`Operator::request`],
/// [`Operator::ingest`] and [`Operator::ingest_multipart`] return the status and body for tests
/// that check refusals.
#[derive(Debug, Clone)]
pub struct Operator {
    /// The server's base URL, `http://127.0.0.1:port`.
    pub base: String,
    /// The HTTP client the calls go through; tests may send their own requests with it.
    pub client: reqwest::Client,
    key: String,
}

impl Operator {
    /// The operator API of the server at `base` (no trailing slash), authenticated with `key`.
    pub fn new(base: impl Into<String>, key: impl Into<String>) -> Operator {
        Operator { base: base.into(), client: reqwest::Client::new(), key: key.into() }
    }

    /// Sends `method /operator/v1{path}` with the operator key and `body` as JSON; returns the
    /// status and the body (JSON, or the text as a JSON string when it is not JSON).
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}/operator/v1{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("operator request")).await
    }

    /// Creates a hirer and returns its id.
    pub async fn create_hirer(&self, name: &str) -> String {
        let (status, body) = self.request(Method::POST, "/hirers", Some(json!({"name": name}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("hirer id").to_owned()
    }

    /// Creates a partner.
    pub async fn create_partner(&self, name: &str) -> Partner {
        let (status, body) = self.request(Method::POST, "/partners", Some(json!({"name": name}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Partner {
            id: body["id"].as_str().expect("id").to_owned(),
            client_id: body["clientId"].as_str().expect("clientId").to_owned(),
            client_secret: body["clientSecret"].as_str().expect("clientSecret").to_owned(),
        }
    }

    /// Replaces a partner's relationships with a hirer by `codes` (`ApplicationExport`, …).
    pub async fn relate(&self, partner: &Partner, hirer: &str, codes: &[&str]) {
        let path = format!("/partners/{}/relationships/{hirer}", partner.id);
        let (status, body) = self.request(Method::PUT, &path, Some(json!({"relationshipTypeCodes": codes}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Posts a job ad for a hirer (job reference `REQ-1`) and returns its position profile id.
    pub async fn create_position(&self, hirer: &str, title: &str) -> String {
        let body = json!({"hirerId": hirer, "positionTitle": title, "seekHirerJobReference": "REQ-1"});
        self.post_position(body).await["id"].as_str().expect("position id").to_owned()
    }

    /// Posts a job ad described by `body` (a questionnaire, say) and returns the operator API's
    /// answer.
    pub async fn post_position(&self, body: Value) -> Value {
        let (status, body) = self.request(Method::POST, "/positions", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Ingests an application body (JSON).
    pub async fn ingest(&self, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, "/applications", Some(body)).await
    }

    /// Ingests [`minimal_application`] and returns `(profile id, candidate id)`.
    pub async fn apply(&self, position: &str, email: &str) -> (String, String) {
        let (status, body) = self.ingest(minimal_application(position, email)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (body["candidateProfileId"].as_str().unwrap().to_owned(), body["candidateId"].as_str().unwrap().to_owned())
    }

    /// Ingests a multipart application: the JSON part `application`, then each file part as
    /// `(part name, file name, content type, bytes)`, file names sent as they are (UTF-8).
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
            .bearer_auth(&self.key)
            .multipart(form)
            .send()
            .await
            .expect("multipart request");
        read(res).await
    }

    /// A partner's access token from this server's `/oauth/token` (see [`partner_token`]).
    pub async fn token(&self, partner: &Partner) -> String {
        partner_token(&self.client, &self.base, &partner.client_id, &partner.client_secret).await
    }
}

/// A partner's access token from `{base}/oauth/token`, asked for with SEEK's JSON body
/// (`client_credentials`, no audience); asserts that it was issued.
pub async fn partner_token(client: &reqwest::Client, base: &str, client_id: &str, client_secret: &str) -> String {
    let res = client
        .post(format!("{base}/oauth/token"))
        .json(&json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}))
        .send()
        .await
        .expect("token request");
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().expect("access_token").to_owned()
}

/// The smallest valid application: a name and an email.
pub fn minimal_application(position: &str, email: &str) -> Value {
    json!({
        "positionProfileId": position,
        "candidate": {"person": {"name": {"given": "Sam", "family": "Lee"}, "communication": {"email": [{"address": email}]}}}
    })
}

async fn read(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
