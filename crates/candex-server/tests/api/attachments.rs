//! Attachments end to end: multipart ingest, GraphQL `attachments`, downloads (headers, HEAD,
//! ranges, file names), limits that store nothing, access answered as 404, and retention.

use std::sync::Arc;

use candex_server::attachments::AttachmentSettings;
use candex_server::operator::service::OperatorService;
use candex_server::storage::{BlobLocation, BlobStore};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{minimal_application, TestApp, TestPartner};

const ATTACHMENTS_QUERY: &str = "query($id: String!) { candidateProfile(id: $id) {
    attachments { id { value } url descriptions seekRoleCode seekRole } } }";

struct World {
    app: TestApp,
    hirer: String,
    position: String,
    partner: TestPartner,
    token: String,
}

async fn world_with(adjust: impl FnOnce(candex_server::Settings) -> candex_server::Settings) -> World {
    let app = TestApp::spawn_with(adjust).await;
    let hirer = app.create_hirer("Acme").await;
    let partner = app.create_partner("ATS").await;
    app.relate(&partner, &hirer, &["ApplicationExport"]).await;
    let position = app.create_position(&hirer, "Writer").await;
    let token = app.token(&partner).await;
    World { app, hirer, position, partner, token }
}

async fn world() -> World {
    world_with(|s| s).await
}

fn pdf(n: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n".to_vec();
    bytes.extend((0..n).map(|i| b"0123456789abcdef"[i % 16]));
    bytes
}

fn with_attachments(position: &str, email: &str, attachments: Value) -> Value {
    let mut body = minimal_application(position, email);
    body["attachments"] = attachments;
    body
}

impl World {
    async fn attachments(&self, profile: &str) -> Value {
        let r = self.app.graphql(Some(&self.token), ATTACHMENTS_QUERY, json!({"id": profile})).await;
        assert!(r.get("errors").is_none(), "{r}");
        r["data"]["candidateProfile"]["attachments"].clone()
    }

    async fn fetch(&self, method: Method, url: &str, token: Option<&str>, range: Option<&str>) -> reqwest::Response {
        let mut req = self.app.client.request(method, url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        req.send().await.expect("download request")
    }

    /// Ingests one application with a resume and returns `(profile id, attachment url, bytes)`.
    async fn one_resume(&self, email: &str, filename: &str) -> (String, String, Vec<u8>) {
        let bytes = pdf(1000);
        let body = with_attachments(&self.position, email, json!([{"file": "cv", "seekRoleCode": "Resume"}]));
        let (status, res) =
            self.app.ingest_multipart(body, vec![("cv", filename, "application/pdf", bytes.clone())]).await;
        assert_eq!(status, StatusCode::CREATED, "{res}");
        let profile = res["candidateProfileId"].as_str().unwrap().to_owned();
        let url = self.attachments(&profile).await[0]["url"].as_str().unwrap().to_owned();
        (profile, url, bytes)
    }
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).map(|v| v.to_str().expect("ascii header")).unwrap_or("<missing>")
}

#[tokio::test]
async fn multipart_ingest_lists_attachments_and_downloads_them_with_exact_headers() {
    let w = world().await;
    let resume = pdf(5000);
    let letter = b"Dear hirer,\nplease hire me.\n".to_vec();
    let body = with_attachments(
        &w.position,
        "ann@example.com",
        json!([
            {"file": "resume", "seekRoleCode": "Resume", "descriptions": ["My CV"]},
            {"file": "letter", "seekRoleCode": "CoverLetter"},
            {"file": "extra", "seekRoleCode": null, "descriptions": ["Portfolio", "2024"]}
        ]),
    );
    let (status, res) = w
        .app
        .ingest_multipart(
            body,
            vec![
                ("resume", "Ann Resume.pdf", "application/pdf", resume.clone()),
                ("letter", "letter.txt", "text/plain", letter.clone()),
                ("extra", "portfolio.pdf", "application/octet-stream", pdf(10)),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{res}");
    let profile = res["candidateProfileId"].as_str().unwrap();
    let profile_value = profile.rsplit(':').next().unwrap();

    let list = w.attachments(profile).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let roles: Vec<(Value, Value)> = list.iter().map(|a| (a["seekRoleCode"].clone(), a["seekRole"].clone())).collect();
    assert_eq!(
        roles,
        vec![
            (json!("Resume"), json!("RESUME")),
            (json!("CoverLetter"), json!("COVER_LETTER")),
            (Value::Null, Value::Null)
        ]
    );
    assert_eq!(list[0]["descriptions"], json!(["My CV"]));
    assert_eq!(list[1]["descriptions"], json!([]));
    assert_eq!(list[2]["descriptions"], json!(["Portfolio", "2024"]));
    for a in list {
        let id = a["id"]["value"].as_str().unwrap();
        assert!(id.starts_with("seekAnzPublicTest:attachment:apply:"), "{id}");
        let expected = format!(
            "{}/anzPublicTest/applications/{profile_value}/attachments/{}",
            w.app.base,
            id.rsplit(':').next().unwrap()
        );
        assert_eq!(a["url"], json!(expected));
    }

    let url = list[0]["url"].as_str().unwrap();
    let get = w.fetch(Method::GET, url, Some(&w.token), None).await;
    assert_eq!(get.status(), StatusCode::OK);
    let sha = hex::encode(Sha256::digest(&resume));
    assert_eq!(header(&get, "content-type"), "application/pdf");
    assert_eq!(header(&get, "content-length"), resume.len().to_string());
    assert_eq!(
        header(&get, "content-disposition"),
        "attachment; filename=\"Ann Resume.pdf\"; filename*=UTF-8''Ann%20Resume.pdf"
    );
    assert_eq!(header(&get, "etag"), format!("\"{sha}\""));
    assert_eq!(header(&get, "accept-ranges"), "bytes");
    assert_eq!(header(&get, "cache-control"), "private, no-store");
    let modified = httpdate::parse_http_date(header(&get, "last-modified")).expect("an HTTP date");
    let age = std::time::SystemTime::now().duration_since(modified).unwrap_or_default();
    assert!(age.as_secs() < 120, "Last-Modified is the upload time");
    let headers = get.headers().clone();
    assert_eq!(get.bytes().await.unwrap().as_ref(), resume.as_slice());

    let head = w.fetch(Method::HEAD, url, Some(&w.token), None).await;
    assert_eq!(head.status(), StatusCode::OK);
    for name in [
        "content-type",
        "content-length",
        "content-disposition",
        "last-modified",
        "etag",
        "accept-ranges",
        "cache-control",
    ] {
        assert_eq!(head.headers().get(name), headers.get(name), "{name} differs between GET and HEAD");
    }
    assert!(head.bytes().await.unwrap().is_empty(), "HEAD has no body");

    let letter_get = w.fetch(Method::GET, list[1]["url"].as_str().unwrap(), Some(&w.token), None).await;
    assert_eq!(header(&letter_get, "content-type"), "text/plain");
    assert_eq!(letter_get.bytes().await.unwrap().as_ref(), letter.as_slice());
    let extra = w.fetch(Method::GET, list[2]["url"].as_str().unwrap(), Some(&w.token), None).await;
    assert_eq!(header(&extra, "content-type"), "application/pdf", "octet-stream resolves by extension");

    let etag = headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let cached = w.app.client.get(url).bearer_auth(&w.token).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn ranges_answer_206_and_unsatisfiable_ones_416() {
    let w = world().await;
    let (_, url, bytes) = w.one_resume("r@example.com", "cv.pdf").await;
    let n = bytes.len();
    for (range, expected) in [
        ("bytes=0-9", 0..10),
        ("bytes=100-199", 100..200),
        ("bytes=-16", n - 16..n),
        ("bytes=990-", 990..n),
        ("bytes=900-5000", 900..n),
    ] {
        let res = w.fetch(Method::GET, &url, Some(&w.token), Some(range)).await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&res, "content-range"),
            format!("bytes {}-{}/{n}", expected.start, expected.end - 1),
            "{range}"
        );
        assert_eq!(header(&res, "content-length"), expected.len().to_string(), "{range}");
        assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[expected], "{range}");
    }
    let head = w.fetch(Method::HEAD, &url, Some(&w.token), Some("bytes=0-9")).await;
    assert_eq!((head.status(), header(&head, "content-length")), (StatusCode::PARTIAL_CONTENT, "10"));
    for range in [format!("bytes={n}-"), "bytes=-0".to_owned(), format!("bytes={}-{}", n + 5, n + 10)] {
        let res = w.fetch(Method::GET, &url, Some(&w.token), Some(&range)).await;
        assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(header(&res, "content-range"), format!("bytes */{n}"));
    }
    let multi = w.fetch(Method::GET, &url, Some(&w.token), Some("bytes=0-1,4-5")).await;
    assert_eq!(multi.status(), StatusCode::OK, "several ranges: the whole file");
}

#[tokio::test]
async fn file_names_are_encoded_per_rfc_6266_without_header_injection() {
    let w = world().await;
    let cases = [
        ("my cv final.pdf", "attachment; filename=\"my cv final.pdf\"; filename*=UTF-8''my%20cv%20final.pdf"),
        (
            "the \"best\" cv\\2.pdf",
            "attachment; filename=\"the _best_ cv_2.pdf\"; filename*=UTF-8''the%20%22best%22%20cv%5C2.pdf",
        ),
        (
            "Zoë 履歴書.pdf",
            "attachment; filename=\"Zo_ ___.pdf\"; filename*=UTF-8''Zo%C3%AB%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf",
        ),
        (
            "evil\r\nSet-Cookie: x",
            "attachment; filename=\"evil__Set-Cookie: x\"; filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20x",
        ),
    ];
    for (i, (filename, expected)) in cases.iter().enumerate() {
        // The operator's `filename` carries names a multipart header cannot (CR/LF).
        let body = with_attachments(
            &w.position,
            &format!("f{i}@example.com"),
            json!([{"file": "f", "filename": filename, "contentType": "application/pdf"}]),
        );
        let (status, res) = w.app.ingest_multipart(body, vec![("f", "upload.pdf", "application/pdf", pdf(10))]).await;
        assert_eq!(status, StatusCode::CREATED, "{res}");
        let list = w.attachments(res["candidateProfileId"].as_str().unwrap()).await;
        for method in [Method::GET, Method::HEAD] {
            let res = w.fetch(method.clone(), list[0]["url"].as_str().unwrap(), Some(&w.token), None).await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(header(&res, "content-disposition"), *expected, "{filename:?}");
            assert!(res.headers().get("set-cookie").is_none(), "no injected header ({method})");
        }
    }
    // A non-ASCII name straight from the multipart part.
    let (_, url, _) = w.one_resume("part@example.com", "Résumé.pdf").await;
    let res = w.fetch(Method::GET, &url, Some(&w.token), None).await;
    assert_eq!(
        header(&res, "content-disposition"),
        "attachment; filename=\"R_sum_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf"
    );
}

async fn assert_nothing_stored(w: &World) {
    let (status, page) = w.app.operator(Method::GET, &format!("/positions/{}/applications", w.position), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["applications"], json!([]), "no application stored");
    assert_eq!(w.app.blob_files(), Vec::<std::path::PathBuf>::new(), "no blob left in the blobs folder");
}

#[tokio::test]
async fn refused_uploads_store_nothing_and_leave_no_blob() {
    let w = world_with(|mut s| {
        s.attachments.max_bytes = 3 * 1024 * 1024;
        s
    })
    .await;
    let two = json!([{"file": "a", "seekRoleCode": "Resume"}, {"file": "b"}]);

    // Over the limit (after a first file that was fine): 413 naming the field.
    let body = with_attachments(&w.position, "big@example.com", two.clone());
    let (status, res) = w
        .app
        .ingest_multipart(
            body,
            vec![
                ("a", "ok.pdf", "application/pdf", pdf(2000)),
                ("b", "big.pdf", "application/pdf", pdf(4 * 1024 * 1024)),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{res}");
    assert!(res["invalidFields"]["/attachments/1/file"].as_str().unwrap().contains("larger than"), "{res}");
    assert_nothing_stored(&w).await;

    type Case<'a> = (Value, Vec<(&'a str, &'a str, &'a str, Vec<u8>)>, StatusCode, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            two.clone(),
            vec![("a", "ok.pdf", "application/pdf", pdf(10)), ("b", "virus.exe", "application/pdf", pdf(10))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "/attachments/1/file",
            "not accepted",
        ),
        (
            two.clone(),
            vec![("a", "ok.pdf", "image/png", pdf(10))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "/attachments/0/file",
            "image/png",
        ),
        (
            two.clone(),
            vec![("a", "ok.pdf", "application/pdf", pdf(10)), ("zzz", "x.pdf", "application/pdf", pdf(10))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "/attachments",
            "zzz",
        ),
        (
            two.clone(),
            vec![("a", "ok.pdf", "application/pdf", pdf(10))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "/attachments/1/file",
            "no part named `b`",
        ),
        (
            two.clone(),
            vec![("a", "ok.pdf", "application/pdf", pdf(10)), ("a", "again.pdf", "application/pdf", pdf(11))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "/attachments/0/file",
            "twice",
        ),
        (
            json!([{"file": "a"}, {"file": "a"}]),
            vec![("a", "ok.pdf", "application/pdf", pdf(10))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "/attachments/1/file",
            "same file",
        ),
        (
            json!([{"file": "a", "seekRoleCode": "Photo"}]),
            vec![("a", "ok.pdf", "application/pdf", pdf(10))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "/attachments/0/seekRoleCode",
            "Resume",
        ),
        (json!([{"path": "/etc/passwd"}]), vec![], StatusCode::UNPROCESSABLE_ENTITY, "/attachments/0/path", "import"),
    ];
    for (i, (attachments, files, expected_status, pointer, needle)) in cases.into_iter().enumerate() {
        let body = with_attachments(&w.position, &format!("c{i}@example.com"), attachments);
        let (status, res) = w.app.ingest_multipart(body, files).await;
        assert_eq!(status, expected_status, "case {i}: {res}");
        let message = res["invalidFields"][pointer].as_str().unwrap_or_else(|| panic!("case {i}: {res}"));
        assert!(message.contains(needle), "case {i}: {message}");
        assert_nothing_stored(&w).await;
    }

    // JSON with attachments: 422 explaining that files need multipart.
    let (status, res) = w.app.ingest(with_attachments(&w.position, "json@example.com", json!([{"file": "a"}]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{res}");
    assert!(res["invalidFields"]["/attachments"].as_str().unwrap().contains("multipart/form-data"), "{res}");

    // The application part must come first.
    let form = reqwest::multipart::Form::new()
        .part("a", reqwest::multipart::Part::bytes(pdf(10)).file_name("ok.pdf").mime_str("application/pdf").unwrap())
        .text("application", minimal_application(&w.position, "order@example.com").to_string());
    let res = w
        .app
        .client
        .post(format!("{}/operator/v1/applications", w.app.base))
        .bearer_auth(crate::helpers::OPERATOR_KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("`application`"), "{body}");
    assert_nothing_stored(&w).await;

    // Plain JSON applications still work, and the same content is stored once.
    let (status, _) = w.app.ingest(minimal_application(&w.position, "plain@example.com")).await;
    assert_eq!(status, StatusCode::CREATED);
    w.one_resume("one@example.com", "cv.pdf").await;
    w.one_resume("two@example.com", "cv.pdf").await;
    assert_eq!(w.app.blob_files().len(), 1, "identical files share one blob");
}

#[tokio::test]
async fn access_is_checked_and_foreign_attachments_look_missing() {
    let w = world().await;
    let (_, url, bytes) = w.one_resume("a@example.com", "cv.pdf").await;
    let stranger = w.app.create_partner("Stranger").await;
    let stranger_token = w.app.token(&stranger).await;
    let poster = w.app.create_partner("Poster").await;
    w.app.relate(&poster, &w.hirer, &["JobPosting"]).await;
    let poster_token = w.app.token(&poster).await;
    let missing = format!("{}/{}", url.rsplit_once('/').unwrap().0, "5kF2zWm2V1x9GqXvQ6hU3b");
    let wrong_profile = url.replacen("/applications/", "/applications/x", 1);

    for method in [Method::GET, Method::HEAD] {
        let reference = w.fetch(method.clone(), &missing, Some(&w.token), None).await;
        assert_eq!(reference.status(), StatusCode::NOT_FOUND);
        let ref_headers: Vec<_> = ["content-type", "content-length", "cache-control", "content-disposition", "etag"]
            .iter()
            .map(|h| reference.headers().get(*h).cloned())
            .collect();
        let ref_body = reference.bytes().await.unwrap();
        for (who, target, token) in [
            ("stranger", &url, &stranger_token),
            ("JobPosting only", &url, &poster_token),
            ("wrong profile segment", &wrong_profile, &w.token),
        ] {
            let res = w.fetch(method.clone(), target, Some(token), None).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who} {method}");
            let headers: Vec<_> = ["content-type", "content-length", "cache-control", "content-disposition", "etag"]
                .iter()
                .map(|h| res.headers().get(*h).cloned())
                .collect();
            assert_eq!(headers, ref_headers, "{who} {method}: headers identical to a missing attachment");
            assert_eq!(res.bytes().await.unwrap(), ref_body, "{who} {method}: body identical");
        }
        let anonymous = w.fetch(method.clone(), &url, None, None).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        let forged = w.fetch(method.clone(), &url, Some("not.a.token"), None).await;
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    }

    // Browser tokens: bound to the hirer and carrying the download scope.
    let browser = |scope: &'static str| {
        let w = &w;
        async move {
            let res = w
                .app
                .client
                .post(format!("{}/auth/token", w.app.base))
                .bearer_auth(&w.token)
                .json(&json!({"hirerId": w.hirer, "scope": scope, "userId": "317665"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
        }
    };
    let with_scope = browser("download:candidate-profile-attachments").await;
    let res = w.fetch(Method::GET, &url, Some(&with_scope), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let without = browser("query:organizations").await;
    assert_eq!(w.fetch(Method::GET, &url, Some(&without), None).await.status(), StatusCode::NOT_FOUND);
    let _ = &w.partner;
}

#[tokio::test]
async fn retention_purge_empties_the_list_404s_the_url_and_removes_the_blob() {
    let w = world().await;
    let (profile, url, _) = w.one_resume("old@example.com", "cv.pdf").await;
    let (status, _) = w.app.operator(Method::POST, &format!("/positions/{}/close", w.position), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.fetch(Method::GET, &url, Some(&w.token), None).await.status(), StatusCode::OK, "kept after closing");
    assert_eq!(w.app.blob_files().len(), 1);

    let blobs = BlobStore::open(&BlobLocation::Local(w.app.blobs_dir.clone())).unwrap();
    let svc = OperatorService::new(Arc::clone(&w.app.store), candex_domain::Scheme::default(), &w.app.base)
        .with_attachments(blobs, AttachmentSettings::default());
    let now = chrono::Utc::now();
    let early = svc.purge_expired_attachments(now).await.unwrap();
    assert_eq!(early.attachments, 0, "within 180 days of closing: kept");
    let report = svc.purge_expired_attachments(now + chrono::Duration::days(181)).await.unwrap();
    assert_eq!((report.attachments, report.blobs), (1, 1));

    assert_eq!(w.attachments(&profile).await, json!([]));
    assert_eq!(w.fetch(Method::GET, &url, Some(&w.token), None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(w.app.blob_files(), Vec::<std::path::PathBuf>::new());
}
