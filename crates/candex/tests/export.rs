//! `candex export` end to end: real `candex serve` and `candex export` processes on 127.0.0.1,
//! applications with attachments ingested through the operator API, and every exported profile
//! and file checked against what the server returns and what was ingested.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use candex_client::{Client, ClientConfig};
use candex_testkit::{Operator, Partner};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const OPERATOR_KEY: &str = "export-test-operator-key";
const WEBHOOK_SECRET: &str = "export-test-webhook-secret";

/// A server with one hirer, one related partner and one job ad.
struct World {
    server: common::Server,
    http: reqwest::Client,
    operator: Operator,
    partner: Partner,
    hirer: String,
    position: String,
    client_id: String,
    client_secret: String,
    /// profile id → SHA-256 of each ingested file, in order.
    ingested: BTreeMap<String, Vec<String>>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new(extra: &[&str]) -> World {
        let dir = tempfile::tempdir().expect("dir");
        let db = format!("sqlite://{}", dir.path().join("server.db").display());
        let blobs = dir.path().join("blobs").display().to_string();
        let mut args = vec!["--database", &db, "--blobs", &blobs, "--operator-key", OPERATOR_KEY];
        args.extend_from_slice(extra);
        let server = common::start(&args);
        let http = reqwest::Client::new();
        let operator = Operator::new(&server.base, OPERATOR_KEY);
        let hirer = operator.create_hirer("Acme").await;
        let partner = operator.create_partner("ATS").await;
        let position = operator
            .post_position(json!({"hirerId": hirer, "positionTitle": "Writer", "seekHirerJobReference": "REQ-7"}))
            .await["id"]
            .as_str()
            .expect("position")
            .to_owned();
        let world = World {
            http,
            operator,
            hirer,
            position,
            client_id: partner.client_id.clone(),
            client_secret: partner.client_secret.clone(),
            partner,
            ingested: BTreeMap::new(),
            server,
            _dir: dir,
        };
        world.relate(&["ApplicationExport"]).await;
        world
    }

    async fn relate(&self, codes: &[&str]) {
        self.operator.relate(&self.partner, &self.hirer, codes).await;
    }

    /// Ingests an application with these files (name, bytes); returns its profile id.
    async fn ingest(&mut self, n: usize, files: Vec<(String, Vec<u8>)>) -> String {
        let mut body = json!({
            "positionProfileId": self.position,
            "candidate": {"person": {
                "name": {"given": format!("Cand{n}"), "family": "Idate"},
                "communication": {"email": [{"address": format!("c{n}@example.com")}]}}},
            "qualifications": [{"competencyName": "Rust"}],
        });
        let roles = ["Resume", "CoverLetter", "SelectionCriteria"];
        body["attachments"] = files
            .iter()
            .enumerate()
            .map(|(i, _)| json!({"file": format!("f{i}"), "seekRoleCode": roles[i % roles.len()]}))
            .collect();
        let mut form = reqwest::multipart::Form::new().part(
            "application",
            reqwest::multipart::Part::text(body.to_string()).mime_str("application/json").unwrap(),
        );
        let mut shas = Vec::new();
        for (i, (name, bytes)) in files.into_iter().enumerate() {
            shas.push(hex::encode(Sha256::digest(&bytes)));
            let mime = if name.ends_with(".pdf") { "application/pdf" } else { "text/plain" };
            form = form
                .part(format!("f{i}"), reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str(mime).unwrap());
        }
        let res = self
            .http
            .post(format!("{}/operator/v1/applications", self.server.base))
            .bearer_auth(OPERATOR_KEY)
            .multipart(form)
            .send()
            .await
            .expect("ingest");
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, 201, "{body}");
        let id = body["candidateProfileId"].as_str().expect("profile id").to_owned();
        self.ingested.insert(id.clone(), shas);
        id
    }

    /// Ingests an application of a person whose every field (name, email, phone, address,
    /// employer, job title, qualification) and every file (name and content) carries `marker`;
    /// returns (profile id, candidate id).
    async fn ingest_marked(&mut self, marker: &str, email: &str, n: usize) -> (String, String) {
        let body = json!({
            "positionProfileId": self.position,
            "candidate": {"person": {
                "name": {"given": format!("{marker}given"), "family": format!("{marker}family")},
                "communication": {
                    "email": [{"address": email}],
                    "phone": [{"formattedNumber": format!("{marker}phone")}],
                    "address": [{"formattedAddress": format!("{marker}address")}]}}},
            "employment": [{"organization": {"name": format!("{marker}employer")},
                "positionHistories": [{"title": format!("{marker}title"), "start": "2015-05"}]}],
            "qualifications": [{"competencyName": format!("{marker}skill")}],
            "attachments": [{"file": "f0", "seekRoleCode": "Resume"}, {"file": "f1", "seekRoleCode": "CoverLetter"}],
        });
        let files = [
            (format!("{marker}cv{n}.txt"), format!("resume of {marker} number {n}").into_bytes()),
            (format!("{marker}letter{n}.txt"), format!("dear hirer, {marker} writes ({n})").into_bytes()),
        ];
        let mut form = reqwest::multipart::Form::new().part(
            "application",
            reqwest::multipart::Part::text(body.to_string()).mime_str("application/json").unwrap(),
        );
        let mut shas = Vec::new();
        for (i, (name, bytes)) in files.into_iter().enumerate() {
            shas.push(hex::encode(Sha256::digest(&bytes)));
            form = form.part(
                format!("f{i}"),
                reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str("text/plain").unwrap(),
            );
        }
        let res = self
            .http
            .post(format!("{}/operator/v1/applications", self.server.base))
            .bearer_auth(OPERATOR_KEY)
            .multipart(form)
            .send()
            .await
            .expect("ingest");
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, 201, "{body}");
        let id = body["candidateProfileId"].as_str().expect("profile id").to_owned();
        self.ingested.insert(id.clone(), shas);
        (id, body["candidateId"].as_str().expect("candidate id").to_owned())
    }

    /// Ingests `count` applications with 0–3 random files of up to `max_kib` KiB each.
    async fn ingest_many(&mut self, count: usize, max_kib: usize, seed: u64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let start = self.ingested.len();
        for n in start..start + count {
            let files = (0..rng.gen_range(0..=3))
                .map(|i| {
                    let size = rng.gen_range(1..=max_kib * 1024);
                    let mut bytes = vec![0u8; size];
                    rng.fill(&mut bytes[..]);
                    bytes[..5.min(size)].copy_from_slice(&b"%PDF-"[..5.min(size)]);
                    (format!("doc {n}-{i}.pdf"), bytes)
                })
                .collect();
            self.ingest(n, files).await;
        }
    }

    fn client(&self) -> Client {
        Client::new(ClientConfig::for_server(&self.server.base, &self.client_id, &self.client_secret)).expect("client")
    }

    /// `candex export <args> --server … --progress log` with the credentials in the environment.
    fn export(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_candex"));
        cmd.arg("export").args(args).args(["--server", &self.server.base]);
        if args.first() != Some(&"get") {
            cmd.args(["--progress", "log"]);
        }
        cmd.env("CANDEX_EXPORT_CLIENT_ID", &self.client_id)
            .env("CANDEX_EXPORT_CLIENT_SECRET", &self.client_secret)
            .env("RUST_LOG", "info")
            .env_remove("CANDEX_EXPORT_OUT")
            .env_remove("CANDEX_EXPORT_STATE");
        cmd
    }

    fn sync(&self, out: &str, extra: &[&str]) -> (Output, Value) {
        let mut args = vec!["sync", "--out", out];
        args.extend_from_slice(extra);
        let output = self.export(&args).output().expect("run export");
        let summary = summary(&output);
        (output, summary)
    }

    /// Checks a folder export: exactly the ingested profiles, each equal to the server's answer,
    /// each file equal to what was ingested, nothing partial left, owner-only permissions.
    async fn verify_dir(&self, out: &Path) {
        let client = self.client();
        let mut found = HashMap::new();
        for profile_json in files_named(out, "profile.json") {
            let profile: Value = serde_json::from_slice(&std::fs::read(&profile_json).unwrap()).unwrap();
            let id = profile["profileId"]["value"].as_str().expect("profileId").to_owned();
            assert!(found.insert(id.clone(), profile_json.clone()).is_none(), "{id} exported twice");
            let live = client.candidate_profile_json(&id).await.expect("query").expect("exists");
            assert_eq!(profile, live, "{id}: profile.json differs from the server's answer");
            let folder = profile_json.parent().unwrap();
            let relative = folder.strip_prefix(out).unwrap();
            let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            assert_eq!(parts.len(), 3, "{relative:?}");
            assert_eq!(parts[0], self.hirer.replace(':', "_"));
            assert_eq!(parts[1], self.position.replace(':', "_"));
            let manifest: Value =
                serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
            assert_eq!(manifest["profileId"], json!(id));
            let entries = manifest["attachments"].as_array().expect("attachments");
            let expected = &self.ingested[&id];
            assert_eq!(entries.len(), expected.len(), "{id}: attachment count");
            for (entry, sha) in entries.iter().zip(expected) {
                assert_eq!(entry["sha256"].as_str(), Some(sha.as_str()));
                let file = folder.join(entry["path"].as_str().expect("path"));
                assert!(file.starts_with(folder.join("attachments")), "{file:?}");
                assert_eq!(&hex::encode(Sha256::digest(std::fs::read(&file).expect("file"))), sha, "{file:?}");
                assert_eq!(entry["size"].as_u64(), Some(std::fs::metadata(&file).unwrap().len()));
            }
            assert_eq!(std::fs::read_dir(folder.join("attachments")).unwrap().count(), expected.len());
        }
        let mut missing: Vec<_> = self.ingested.keys().filter(|id| !found.contains_key(*id)).collect();
        missing.sort();
        assert!(missing.is_empty(), "not exported: {missing:?}");
        assert_eq!(found.len(), self.ingested.len());
        assert_no_partial_files(out);
        assert_private(out);
    }
}

/// The JSON summary `candex export` prints on stdout.
fn summary(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_else(|| panic!("no summary; stderr:\n{}", String::from_utf8_lossy(&output.stderr)))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        out.push(path.clone());
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            walk(&path, out);
        }
    }
}

fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(dir, &mut all);
    all.into_iter().filter(|p| p.file_name().is_some_and(|n| n == name)).collect()
}

fn assert_no_partial_files(out: &Path) {
    let mut all = Vec::new();
    walk(out, &mut all);
    for path in &all {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!name.ends_with(".part") && !name.ends_with(".tmp") && !name.ends_with(".old"), "left over: {path:?}");
    }
    let staging = out.join(".candex/staging");
    let leftovers: Vec<_> =
        std::fs::read_dir(&staging).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(leftovers.is_empty(), "staging not empty: {leftovers:?}");
}

fn assert_private(out: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut all = Vec::new();
    walk(out, &mut all);
    for path in all {
        let meta = std::fs::metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{path:?} has mode {mode:o}");
    }
}

/// Polls `check` every 50 ms until it holds or `limit` passes.
fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed and reaped if a test fails before it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Spawns `candex export listen` and returns it with its address (read from its log).
fn spawn_listen(cmd: &mut Command) -> (Running, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Running(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn listen"));
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("listen did not start");
        if let Some(rest) = line.split("candex export is listening on http://").nth(1) {
            let addr: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':').collect();
            return (child, format!("http://{addr}"), rx);
        }
    }
}

fn sigterm_and_wait(child: &mut Child) -> Output {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "did not stop within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        use std::io::Read;
        let _ = out.read_to_string(&mut stdout);
    }
    Output { status: child.wait().expect("status"), stdout: stdout.into_bytes(), stderr: Vec::new() }
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_exports_every_application_exactly_and_reruns_export_nothing_twice() {
    let mut w = World::new(&[]).await;
    w.ingest_many(10, 48, 1).await;
    // Hostile and colliding names stay inside the profile's attachments folder.
    w.ingest(
        100,
        vec![
            ("../../../escape.txt".into(), b"one".to_vec()),
            ("CON.txt".into(), b"two".to_vec()),
            ("cv.txt".into(), b"three".to_vec()),
            ("CV.txt".into(), b"four".to_vec()),
        ],
    )
    .await;
    let root = tempfile::tempdir().expect("dir");
    let out = root.path().join("exports");
    let out_arg = out.display().to_string();

    let (output, summary) = w.sync(&out_arg, &["--concurrency", "3"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(summary["profiles"], json!(11), "{summary}");
    // Said once: one JSON line on stdout (a pipe) and one sentence in the log on stderr.
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert_eq!(stderr.matches("exported 11 profiles").count(), 1, "{stderr}");
    assert_eq!(summary["failures"], json!(0));
    assert_eq!(summary["pending"], json!(0));
    w.verify_dir(&out).await;
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1, "nothing written beside the output folder");

    // A rerun finds nothing new and changes nothing.
    let (output, summary) = w.sync(&out_arg, &[]);
    assert!(output.status.success());
    assert_eq!((summary["events"].clone(), summary["profiles"].clone()), (json!(0), json!(0)), "{summary}");

    // New applications are picked up from the saved cursor.
    w.ingest_many(2, 8, 2).await;
    let (output, summary) = w.sync(&out_arg, &[]);
    assert!(output.status.success());
    assert_eq!(summary["profiles"], json!(2), "{summary}");
    w.verify_dir(&out).await;

    // The same stream into NDJSON: one line per profile, the profile as received, files by SHA-256.
    let ndjson = root.path().join("profiles.ndjson");
    let (output, summary) = w.sync(&ndjson.display().to_string(), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(summary["profiles"], json!(13));
    let client = w.client();
    let text = std::fs::read_to_string(&ndjson).unwrap();
    assert_eq!(text.lines().count(), 13);
    for line in text.lines() {
        let line: Value = serde_json::from_str(line).expect("valid line");
        let id = line["profileId"].as_str().unwrap();
        assert_eq!(line["profile"], client.candidate_profile_json(id).await.unwrap().unwrap());
        let shas: Vec<&str> =
            line["attachments"].as_array().unwrap().iter().map(|a| a["sha256"].as_str().unwrap()).collect();
        assert_eq!(shas, w.ingested[id].iter().map(String::as_str).collect::<Vec<_>>());
        for a in line["attachments"].as_array().unwrap() {
            let file = root.path().join("profiles.ndjson.files").join(a["blob"].as_str().unwrap());
            assert_eq!(hex::encode(Sha256::digest(std::fs::read(file).unwrap())), a["sha256"].as_str().unwrap());
        }
    }

    // And into SQL tables an ATS can query.
    let db = root.path().join("ats.db");
    let (output, summary) = w.sync(&format!("sqlite://{}", db.display()), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(summary["profiles"], json!(13));
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    verify_sql(&pool_rows_sqlite(&pool).await, &w, &root.path().join("ats.db.files"));
}

type SqlRows = (i64, Vec<(String, String)>, Vec<(String, String, String)>);

async fn pool_rows_sqlite(pool: &sqlx::SqlitePool) -> SqlRows {
    let candidates: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM candex_candidates").fetch_one(pool).await.unwrap();
    let profiles = sqlx::query_as("SELECT profile_id, profile FROM candex_profiles").fetch_all(pool).await.unwrap();
    let attachments =
        sqlx::query_as("SELECT profile_id, sha256, blob_path FROM candex_attachments ORDER BY profile_id, ordinal")
            .fetch_all(pool)
            .await
            .unwrap();
    (candidates, profiles, attachments)
}

fn verify_sql(rows: &SqlRows, w: &World, blobs: &Path) {
    let (candidates, profiles, attachments) = rows;
    assert_eq!(profiles.len(), w.ingested.len());
    assert_eq!(*candidates as usize, w.ingested.len(), "one candidate per distinct email");
    for (id, profile) in profiles {
        let profile: Value = serde_json::from_str(profile).unwrap();
        assert_eq!(profile["profileId"]["value"], json!(id));
        let shas: Vec<&str> = attachments.iter().filter(|a| &a.0 == id).map(|a| a.1.as_str()).collect();
        assert_eq!(shas, w.ingested[id].iter().map(String::as_str).collect::<Vec<_>>(), "{id}");
    }
    for (_, sha, blob) in attachments {
        assert_eq!(&hex::encode(Sha256::digest(std::fs::read(blobs.join(blob)).unwrap())), sha);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_into_postgres_tables() {
    let Some(scratch) = candex_testkit::ScratchDatabase::from_env().await else {
        return;
    };
    let url = scratch.url();
    let mut w = World::new(&[]).await;
    w.ingest_many(6, 16, 3).await;
    let root = tempfile::tempdir().expect("dir");
    let blobs = root.path().join("files");
    let blobs_arg = blobs.display().to_string();
    for _ in 0..2 {
        let (output, summary) = w.sync(&url, &["--blobs", &blobs_arg]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(summary["failures"], json!(0));
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let candidates: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM candex_candidates").fetch_one(&pool).await.unwrap();
    let profiles: Vec<(String, String)> =
        sqlx::query_as("SELECT profile_id, profile::text FROM candex_profiles").fetch_all(&pool).await.unwrap();
    let attachments: Vec<(String, String, String)> =
        sqlx::query_as("SELECT profile_id, sha256, blob_path FROM candex_attachments ORDER BY profile_id, ordinal")
            .fetch_all(&pool)
            .await
            .unwrap();
    let kind: String = sqlx::query_scalar("SELECT pg_typeof(profile)::text FROM candex_profiles LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kind, "jsonb");
    pool.close().await;
    verify_sql(&(candidates, profiles, attachments), &w, &blobs);
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_exports_signed_webhooks_refuses_forged_ones_and_fills_gaps_by_polling() {
    let mut w = World::new(&["--allow-private-webhook-targets"]).await;
    // Applied before any subscription exists: only the gap-filling poll can find these.
    w.ingest_many(3, 16, 4).await;
    let root = tempfile::tempdir().expect("dir");
    let out = root.path().join("inbox-export");
    let out_arg = out.display().to_string();
    let mut cmd = w.export(&["listen", "--bind", "127.0.0.1:0", "--out", &out_arg, "--poll-interval-secs", "1"]);
    cmd.env("CANDEX_EXPORT_WEBHOOK_SECRET", WEBHOOK_SECRET);
    let (mut child, listen_url, logs) = spawn_listen(&mut cmd);
    wait_for("the gap-filling poll", Duration::from_secs(60), || files_named(&out, "profile.json").len() == 3);

    // Forged or unsigned requests are refused and record nothing.
    let forged = json!({"events": [{"id": "seekAnzPublicTest:event:events:forged", "type": "CandidateApplicationCreated",
        "createDateTime": "2026-11-29T00:00:00Z", "candidateApplicationProfileId": "x", "candidateId": "y"}],
        "subscriptionId": "s"});
    let res = w.http.post(format!("{listen_url}/hook")).json(&forged).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let res = w
        .http
        .post(format!("{listen_url}/hook"))
        .header("Seek-Signature", "00".repeat(64))
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // Subscribe the listener, then apply: webhooks bring the rest.
    let token = common::token(&w.http, &w.server.base, &w.client_id, &w.client_secret).await;
    let (status, body) = common::post_json(
        &w.http,
        &format!("{}/graphql", w.server.base),
        Some(&token),
        &json!({"query": "mutation ($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) { __typename ... on CreateWebhookSubscriptionPayload_Success { webhookSubscription { id { value } } } } }",
            "variables": {"input": {"webhookSubscription": {"eventTypeCode": "CandidateApplicationCreated",
                "schemeId": "seekAnzPublicTest", "url": format!("{listen_url}/hook"),
                "signingAlgorithmCode": "SeekHmacSha512", "secret": WEBHOOK_SECRET}}}}),
    )
    .await;
    assert_eq!(status, 200);
    let subscription = body["data"]["createWebhookSubscription"]["webhookSubscription"]["id"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    w.ingest_many(5, 32, 5).await;
    wait_for("webhook-driven exports", Duration::from_secs(60), || files_named(&out, "profile.json").len() == 8);

    // The server recorded successful deliveries to the listener.
    let (_, body) = common::post_json(
        &w.http,
        &format!("{}/graphql", w.server.base),
        Some(&token),
        &json!({"query": "query ($id: String!) { webhookRequestsForSubscription(subscriptionId: $id, first: 100) { edges { node { statusCode descriptionCode } } } }",
            "variables": {"id": subscription}}),
    )
    .await;
    let requests = body["data"]["webhookRequestsForSubscription"]["edges"].as_array().cloned().unwrap_or_default();
    assert!(!requests.is_empty(), "{body}");
    assert!(requests.iter().all(|r| r["node"]["statusCode"] == json!(204)), "{body}");

    let output = sigterm_and_wait(&mut child);
    assert!(output.status.success(), "{:?}", output.status);
    let summary = summary(&output);
    assert_eq!(summary["profiles"], json!(8), "{summary}");
    assert_eq!(summary["failures"], json!(0));
    let log: Vec<String> = logs.try_iter().collect();
    assert!(log.iter().any(|l| l.contains("missing or invalid Seek-Signature")), "{log:?}");
    assert!(!log.iter().any(|l| l.contains(WEBHOOK_SECRET) || l.contains(&w.client_secret)), "a secret was logged");
    w.verify_dir(&out).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_killed_at_any_moment_resumes_to_an_exact_result() {
    let mut w = World::new(&[]).await;
    w.ingest_many(90, 160, 6).await;
    let root = tempfile::tempdir().expect("dir");
    let out = root.path().join("big");
    let ndjson = root.path().join("big.ndjson");
    for (target, is_dir) in [(out.display().to_string(), true), (ndjson.display().to_string(), false)] {
        let exported = |target: &str| -> usize {
            if is_dir {
                files_named(Path::new(target), "profile.json").len()
            } else {
                std::fs::read_to_string(target).map(|t| t.lines().count()).unwrap_or(0)
            }
        };
        // Kill it three times at different points, then let a run finish.
        for threshold in [5, 30, 60] {
            let mut child = Running(
                w.export(&["sync", "--out", &target, "--concurrency", "4"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn"),
            );
            let deadline = Instant::now() + Duration::from_secs(120);
            while exported(&target) < threshold && child.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "no progress");
                std::thread::sleep(Duration::from_millis(5));
            }
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
        let before = exported(&target);
        assert!(before < w.ingested.len(), "the kills came too late to interrupt anything ({before})");
        let (output, summary) = w.sync(&target, &["--concurrency", "4"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(summary["pending"], json!(0), "{summary}");
        if is_dir {
            w.verify_dir(&out).await;
        } else {
            let text = std::fs::read_to_string(&ndjson).unwrap();
            let mut seen = HashMap::new();
            for line in text.lines() {
                let line: Value = serde_json::from_str(line).expect("no torn lines");
                *seen.entry(line["profileId"].as_str().unwrap().to_owned()).or_insert(0) += 1;
                let id = line["profileId"].as_str().unwrap();
                let shas: Vec<&str> =
                    line["attachments"].as_array().unwrap().iter().map(|a| a["sha256"].as_str().unwrap()).collect();
                assert_eq!(shas, w.ingested[id].iter().map(String::as_str).collect::<Vec<_>>());
            }
            assert_eq!(seen.len(), w.ingested.len(), "every profile once");
            assert!(seen.values().all(|n| *n == 1), "duplicated lines: {seen:?}");
            assert!(text.ends_with('\n'));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_two_second_token_lifetime_causes_no_failures_and_no_token_storm() {
    let mut w = World::new(&["--token-lifetime", "2"]).await;
    let root = tempfile::tempdir().expect("dir");
    let out = root.path().join("follow");
    let out_arg = out.display().to_string();
    let started = Instant::now();
    let mut child = Running(
        w.export(&["sync", "--follow", "--poll-interval-secs", "1", "--out", &out_arg])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    // Applications keep arriving for more than three token lifetimes.
    for n in 0..28 {
        w.ingest(n, vec![(format!("cv{n}.txt"), format!("resume {n}").into_bytes())]).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    wait_for("every application", Duration::from_secs(60), || files_named(&out, "profile.json").len() == 28);
    let output = sigterm_and_wait(&mut child);
    let elapsed = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "{:?}", output.status);
    let summary = summary(&output);
    assert_eq!(summary["failures"], json!(0), "{summary}");
    assert_eq!(summary["profiles"], json!(28));
    let tokens = summary["tokenRequests"].as_u64().unwrap();
    // Refreshed at half the lifetime: about one token a second, never one per call.
    assert!(tokens >= 3, "tokens were not refreshed: {summary}");
    assert!((tokens as f64) <= elapsed + 3.0, "{tokens} token requests in {elapsed:.1} s: {summary}");
    assert!(summary["retries"].as_u64().unwrap() <= 2, "{summary}");
    w.verify_dir(&out).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_exit_1_and_a_rerun_retries_them_while_bad_configuration_exits_2() {
    let mut w = World::new(&[]).await;
    w.ingest_many(2, 4, 7).await;
    let root = tempfile::tempdir().expect("dir");
    let out = root.path().join("partial");
    let out_arg = out.display().to_string();

    // Without the relationship every profile read is FORBIDDEN: rejected (not retried), exit 1.
    w.relate(&["JobPosting"]).await;
    let (output, summary) = w.sync(&out_arg, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(summary["rejected"], json!(2), "{summary}");
    assert_eq!(summary["failures"], json!(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--retry-rejected"));
    assert!(files_named(&out, "profile.json").is_empty());
    // The next run does not hammer the API with reads it knows are forbidden.
    w.relate(&["ApplicationExport"]).await;
    let (output, summary) = w.sync(&out_arg, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!((summary["profiles"].clone(), summary["rejected"].clone()), (json!(0), json!(0)), "{summary}");
    // Once asked, it exports them.
    let (output, summary) = w.sync(&out_arg, &["--retry-rejected"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(summary["profiles"], json!(2), "{summary}");
    w.verify_dir(&out).await;

    // --since starts later in the stream, and is remembered until the stream yields a cursor.
    let later = root.path().join("later");
    let later_arg = later.display().to_string();
    let (output, summary) = w.sync(&later_arg, &["--since", "2099-01-01T00:00:00Z"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(summary["events"], json!(0), "{summary}");
    let (_, summary) = w.sync(&later_arg, &[]);
    assert_eq!(summary["events"], json!(0), "--since was forgotten: {summary}");
    // Another exporter on the same output is refused while one runs.
    let _held = candex_export::State::open(&later.join(".candex/state.db")).await.expect("hold the state");
    let output = w.export(&["sync", "--out", &later_arg]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("another candex export"));

    // Wrong credentials: exit 2 with the server's reason.
    let output =
        w.export(&["sync", "--out", &out_arg]).env("CANDEX_EXPORT_CLIENT_SECRET", "wrong").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(!stderr.contains(&w.client_secret));
    // A bad --since or output: exit 2 before anything is written.
    let fresh = root.path().join("never");
    let output = w.export(&["sync", "--out", &fresh.display().to_string(), "--since", "yesterday"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("RFC 3339"));
    assert!(!fresh.exists());
    let output = w.export(&["sync", "--out", "-"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--blobs"));
    // An unreachable server: exit 1 (a rerun resumes), and the cursor is untouched.
    let output = Command::new(env!("CARGO_BIN_EXE_candex"))
        .args(["export", "sync", "--out", &out_arg, "--server", "http://127.0.0.1:9", "--progress", "log"])
        .env("CANDEX_EXPORT_CLIENT_ID", "x")
        .env("CANDEX_EXPORT_CLIENT_SECRET", "y")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));

    // `get` prints one profile exactly as the server returns it.
    let id = w.ingested.keys().next().unwrap().clone();
    let output = w.export(&["get", &id]).output().unwrap();
    assert!(output.status.success());
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, w.client().candidate_profile_json(&id).await.unwrap().unwrap());
    let output = w.export(&["get", "seekAnzPublicTest:candidateProfile:apply:nope"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_backlog_with_high_concurrency_exports_without_stalling() {
    // `candex seed` makes a backlog quickly; 32 exports in flight share the state's 4
    // connections (this stalled for 30 s and failed before the batch reads drove in-flight work).
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("seeded.db").display());
    let seeded = Command::new(env!("CARGO_BIN_EXE_candex"))
        .args(["seed", "--database", &db, "--profiles", "1200"])
        .output()
        .expect("seed");
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    let seeded: Value = serde_json::from_slice(&seeded.stdout).expect("seed prints JSON");
    let server = common::start(&["--database", &db]);
    let out = dir.path().join("backlog");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_candex"))
        .args(["export", "sync", "--server", &server.base, "--progress", "log", "--concurrency", "32"])
        .args(["--out", &out.display().to_string()])
        .env("CANDEX_EXPORT_CLIENT_ID", seeded["partner"]["clientId"].as_str().unwrap())
        .env("CANDEX_EXPORT_CLIENT_SECRET", seeded["partner"]["clientSecret"].as_str().unwrap())
        .env("RUST_LOG", "info,sqlx=warn,candex_export::engine=debug")
        .output()
        .expect("export");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = summary(&output);
    assert_eq!(summary["profiles"], json!(1200), "{summary}");
    assert_eq!(files_named(&out, "profile.json").len(), 1200);
    // Committed in groups (one file-system sync and one state transaction each), every profile
    // in exactly one of them.
    let groups: Vec<u64> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains("group committed"))
        .map(strip_ansi)
        .filter_map(|l| l.split("profiles=").nth(1).and_then(|n| n.split_whitespace().next()?.parse().ok()))
        .collect();
    assert_eq!(groups.iter().sum::<u64>(), 1200, "{groups:?}");
    // No fetch starts while 64 wait; the 32 in flight may still join.
    assert!(groups.len() < 1200 && groups.iter().all(|&n| n <= 64 + 32), "{} groups: {groups:?}", groups.len());
    eprintln!("1200 profiles in {} groups", groups.len());
    // The regression this guards against stalled state writes for 30 s (busy waits). sqlx
    // reports every statement over 1 s, which a loaded CI disk can cause on its own, so the
    // bound is on how slow the slowest one was.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let slowest = stderr
        .lines()
        .filter(|l| l.contains("slow statement"))
        .map(strip_ansi)
        .filter_map(|l| l.split("elapsed_secs").nth(1).map(str::to_owned))
        .filter_map(|rest| {
            let digits: String = rest
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            digits.parse::<f64>().ok()
        })
        .fold(0.0f64, f64::max);
    assert!(slowest < 5.0, "state writes waited on each other: a statement took {slowest:.1} s\n{stderr}");
    eprintln!("1200 profiles in {:.1} s", started.elapsed().as_secs_f64());
}

/// `line` without ANSI colour sequences (`ESC [ … m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn slow_statement_lines_are_read_through_their_colours() {
    let line = "\u{1b}[33m WARN\u{1b}[0m slow statement \u{1b}[3melapsed_secs\u{1b}[0m\u{1b}[2m=\u{1b}[0m6.25 x";
    let rest = strip_ansi(line);
    assert!(rest.ends_with("elapsed_secs=6.25 x"), "{rest}");
}

/// Every file under `dir` (recursively) whose bytes contain `marker`, or whose name does.
fn holding(dir: &Path, marker: &str) -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(dir, &mut all);
    all.into_iter()
        .filter(|path| {
            let named = path.file_name().is_some_and(|n| n.to_string_lossy().contains(marker));
            let contains = path.is_file()
                && std::fs::read(path).is_ok_and(|bytes| bytes.windows(marker.len()).any(|w| w == marker.as_bytes()));
            named || contains
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_reaches_every_output_of_candex_export() {
    const GONE: &str = "Zqxerasedmarker";
    const KEPT: &str = "Kwvkeptmarker";
    let mut w = World::new(&[]).await;
    let (first, candidate) = w.ingest_marked(GONE, "gone@example.com", 1).await;
    let (second, same) = w.ingest_marked(GONE, "gone@example.com", 2).await;
    assert_eq!(same, candidate, "two applications of one candidate");
    let (kept, _) = w.ingest_marked(KEPT, "kept@example.com", 3).await;

    let root = tempfile::tempdir().expect("dir");
    let dir = root.path().join("exports");
    let ndjson = root.path().join("profiles.ndjson");
    let sqlite = root.path().join("ats.db");
    let outs = [dir.display().to_string(), ndjson.display().to_string(), format!("sqlite://{}", sqlite.display())];
    for out in &outs {
        let (output, summary) = w.sync(out, &[]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(summary["profiles"], json!(3), "{out}: {summary}");
    }
    // Every output holds both candidates' data, files included.
    for marker in [GONE, KEPT] {
        let found = holding(root.path(), marker);
        for expected in [&dir, &ndjson, &root.path().join("profiles.ndjson.files"), &sqlite] {
            assert!(found.iter().any(|p| in_output(p, expected)), "{marker} not exported to {expected:?}: {found:?}");
        }
    }

    // The operator erases the candidate; each export's next run acts on the event.
    let res = w
        .http
        .delete(format!("{}/operator/v1/candidates/{candidate}", w.server.base))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .expect("erase");
    assert_eq!(res.status(), 200);
    for out in &outs {
        let (output, summary) = w.sync(out, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert_eq!((summary["erasedCandidates"].clone(), summary["erasedProfiles"].clone()), (json!(1), json!(2)));
        assert_eq!(summary["profiles"], json!(0), "nothing re-exported: {summary}");
        assert!(stderr.contains("1 candidate erased: 2 profiles removed"), "{out}: {stderr}");
    }
    let left = holding(root.path(), GONE);
    assert!(left.is_empty(), "the erased candidate's data survives in {left:?}");

    // The other candidate is intact everywhere.
    let found = holding(root.path(), KEPT);
    for expected in [&dir, &ndjson, &root.path().join("profiles.ndjson.files"), &sqlite] {
        assert!(found.iter().any(|p| in_output(p, expected)), "{KEPT} lost from {expected:?}: {found:?}");
    }
    w.ingested.retain(|id, _| id == &kept);
    w.verify_dir(&dir).await;
    let lines: Vec<Value> =
        std::fs::read_to_string(&ndjson).unwrap().lines().map(|l| serde_json::from_str(l).expect("line")).collect();
    assert_eq!(lines.iter().map(|l| l["profileId"].as_str().unwrap()).collect::<Vec<_>>(), [kept.as_str()]);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", sqlite.display())).await.unwrap();
    verify_sql(&pool_rows_sqlite(&pool).await, &w, &root.path().join("ats.db.files"));
    pool.close().await;

    // Done once: a rerun erases nothing, and the erased applications are never exported again.
    for out in &outs {
        let (output, summary) = w.sync(out, &["--retry-rejected"]);
        assert!(output.status.success());
        assert_eq!((summary["erasedCandidates"].clone(), summary["profiles"].clone()), (json!(0), json!(0)));
    }
    assert!(holding(root.path(), GONE).is_empty());
    for id in [&first, &second] {
        assert!(!std::fs::read_to_string(&ndjson).unwrap().contains(id.as_str()), "{id} is back");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_reaches_postgres_tables() {
    const GONE: &str = "Zqxpgerasedmarker";
    let Some(scratch) = candex_testkit::ScratchDatabase::from_env().await else {
        return;
    };
    let url = scratch.url();
    let mut w = World::new(&[]).await;
    let (_, candidate) = w.ingest_marked(GONE, "gone@example.com", 1).await;
    w.ingest_marked(GONE, "gone@example.com", 2).await;
    let (kept, _) = w.ingest_marked("Kwvpgkeptmarker", "kept@example.com", 3).await;
    let root = tempfile::tempdir().expect("dir");
    let blobs = root.path().join("files");
    let blobs_arg = blobs.display().to_string();
    let (output, summary) = w.sync(&url, &["--blobs", &blobs_arg]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(summary["profiles"], json!(3));
    assert!(!holding(&blobs, GONE).is_empty());

    let res = w
        .http
        .delete(format!("{}/operator/v1/candidates/{candidate}", w.server.base))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .expect("erase");
    assert_eq!(res.status(), 200);
    let (output, summary) = w.sync(&url, &["--blobs", &blobs_arg]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!((summary["erasedCandidates"].clone(), summary["erasedProfiles"].clone()), (json!(1), json!(2)));

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let like = format!("%{GONE}%");
    for (table, column) in
        [("candex_profiles", "profile::text"), ("candex_candidates", "given_name"), ("candex_attachments", "file_name")]
    {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} LIKE $1"))
            .bind(&like)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} still holds the erased candidate");
    }
    let profiles: Vec<String> =
        sqlx::query_scalar("SELECT profile_id FROM candex_profiles").fetch_all(&pool).await.unwrap();
    assert_eq!(profiles, [kept]);
    pool.close().await;
    assert!(holding(&blobs, GONE).is_empty(), "files of the erased candidate are left");
    assert!(!holding(&blobs, "Kwvpgkeptmarker").is_empty(), "the other candidate's files stay");
}

/// Whether `path` belongs to the output at `output`: under it, or (an SQLite output) one of its
/// companion files, such as the `-wal` that holds rows until a checkpoint.
fn in_output(path: &std::path::Path, output: &std::path::Path) -> bool {
    path.to_string_lossy().starts_with(&*output.to_string_lossy())
}
