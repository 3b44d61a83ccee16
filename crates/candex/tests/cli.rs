//! `candex` as a process: help, `admin`, `import` and `seed` against a fresh SQLite file per
//! test. Every failed assertion prints the command, its exit status, stdout and stderr.

use candex_store::ApplicationStore;
use candex_store::AttachmentStore;
use candex_store::PartyStore;
use candex_store::PositionStore;
use candex_store::WebhookStore;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use candex_domain::{CandidateProfileId, HirerId, IdKind, ObjectId, PartnerId, PositionProfileId};
use candex_store_sqlite::SqliteStore;
use serde_json::{json, Value};

/// A fresh directory with one database, and a way to run `candex` against it.
struct TestDir {
    dir: tempfile::TempDir,
    database: String,
}

impl TestDir {
    /// A folder with a created (migrated, empty) database, as `candex serve` leaves it: with
    /// the public URL the server ran with recorded.
    fn new() -> TestDir {
        let t = TestDir::without_database();
        let store = t.store();
        block_on(store.record_public_url("http://127.0.0.1:8080", chrono::Utc::now())).expect("record the URL");
        block_on(store.close());
        t
    }

    /// A folder with no database in it yet.
    fn without_database() -> TestDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = format!("sqlite://{}", dir.path().join("x.db").display());
        TestDir { dir, database }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `candex ARGS` with no `CANDEX_*` variables from the environment leaking in.
    fn command(&self, args: &[&str]) -> TestCommand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_candex"));
        cmd.current_dir(self.dir.path()).args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CANDEX_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("RUST_LOG", "warn");
        TestCommand { cmd }
    }

    /// `candex ARGS --database <this dir's database>`.
    fn candex(&self, args: &[&str]) -> TestCommand {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database", &self.database]);
        self.command(&all)
    }

    /// Opens the database in-process (after the commands have exited).
    fn store(&self) -> SqliteStore {
        block_on(SqliteStore::connect(&self.database)).expect("open sqlite")
    }
}

/// A command to run, checked in the style of ripgrep's `TestCommand`.
struct TestCommand {
    cmd: Command,
}

/// A finished command.
struct Ran {
    shown: String,
    output: Output,
}

impl TestCommand {
    fn run(mut self) -> Ran {
        let shown = format!("{:?}", self.cmd);
        let output = self.cmd.output().unwrap_or_else(|e| panic!("could not run {shown}: {e}"));
        Ran { shown, output }
    }

    /// Runs, asserts exit code 0 and returns stdout.
    fn stdout(self) -> String {
        let ran = self.run();
        ran.assert_code(0);
        ran.stdout()
    }

    /// Runs, asserts exit code 0 and parses stdout as JSON.
    fn json(self) -> Value {
        let ran = self.run();
        ran.assert_code(0);
        ran.json()
    }

    /// Runs and asserts the exit code.
    fn code(self, expected: i32) -> Ran {
        let ran = self.run();
        ran.assert_code(expected);
        ran
    }
}

impl Ran {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn report(&self) -> String {
        format!(
            "\n\n==== command ====\n{}\n==== status ====\n{}\n==== stdout ====\n{}\n==== stderr ====\n{}\n",
            self.shown,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }

    #[track_caller]
    fn assert_code(&self, expected: i32) {
        assert_eq!(self.output.status.code(), Some(expected), "unexpected exit status{}", self.report());
    }

    #[track_caller]
    fn assert_stderr_contains(&self, needle: &str) {
        assert!(self.stderr().contains(needle), "stderr should contain {needle:?}{}", self.report());
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout()).unwrap_or_else(|e| panic!("stdout is not JSON ({e}){}", self.report()))
    }
}

/// Runs a future on one runtime shared by every test, so a store opened in one call stays
/// usable in the next.
fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime")
        })
        .block_on(future)
}

/// Formatted names of a position's applications, in ingest order.
fn applicant_names(store: &SqliteStore, position: &str) -> Vec<String> {
    let id = PositionProfileId::parse(position).unwrap();
    block_on(store.page_position_applications(&id, None, 200))
        .expect("list applications")
        .into_iter()
        .map(|a| a.formatted_name)
        .collect()
}

fn application(position: &str, name: &str, email: &str) -> String {
    json!({
        "positionProfileId": position,
        "candidate": {"person": {"name": {"formattedName": name}, "communication": {"email": [{"address": email}]}}}
    })
    .to_string()
}

/// A hirer with one job ad: `(hirer id, position id)`.
fn hirer_with_position(t: &TestDir, title: &str) -> (String, String) {
    let hirer = t.candex(&["admin", "hirer", "create", "--name", "Acme"]).json();
    let hirer = hirer["id"].as_str().unwrap().to_owned();
    let position = t.candex(&["admin", "position", "create", "--hirer", &hirer, "--title", title]).json();
    (hirer, position["id"].as_str().unwrap().to_owned())
}

// --- help -----------------------------------------------------------------------------------

#[test]
fn help_explains_the_database_and_the_demo() {
    let t = TestDir::new();
    for args in [&["--help"][..], &["serve", "--help"][..]] {
        let out = t.command(args).stdout();
        for needle in ["--database", "--demo", "CANDEX_DATABASE"] {
            assert!(out.contains(needle), "`candex {}` should mention {needle}:\n{out}", args.join(" "));
        }
    }
}

#[test]
fn an_unknown_subcommand_is_a_usage_error() {
    let t = TestDir::new();
    let ran = t.command(&["frobnicate"]).code(2);
    ran.assert_stderr_contains("frobnicate");
}

// --- admin ----------------------------------------------------------------------------------

#[test]
fn admin_creates_hirers_partners_relationships_and_positions_as_json() {
    // Arrange
    let t = TestDir::new();

    // Act
    let hirer = t.candex(&["admin", "hirer", "create", "--name", "Acme Pty Ltd"]).json();
    let hirer_id = hirer["id"].as_str().unwrap().to_owned();
    let partner_run = t.candex(&["admin", "partner", "create", "--name", "Acme ATS"]).run();
    let partner_list = t.candex(&["admin", "partner", "list"]).stdout();
    let relationship = t
        .candex(&[
            "admin",
            "relationship",
            "set",
            "--partner",
            "PARTNER",
            "--hirer",
            &hirer_id,
            "--type",
            "ApplicationExport",
        ])
        .run();

    // Assert
    assert_eq!(hirer["name"], "Acme Pty Ltd");
    assert!(ObjectId::parse_as(&hirer_id, IdKind::Organization).is_ok(), "{hirer}");
    assert_eq!(t.candex(&["admin", "hirer", "list"]).json(), json!([hirer]));

    partner_run.assert_code(0);
    let partner = partner_run.json();
    let partner_id = partner["id"].as_str().unwrap().to_owned();
    let secret = partner["clientSecret"].as_str().unwrap_or_else(|| panic!("no secret{}", partner_run.report()));
    assert!(secret.len() >= 32, "{partner}");
    assert!(partner["clientId"].is_string(), "{partner}");
    partner_run.assert_stderr_contains("shown only now");
    let listed: Value = serde_json::from_str(&partner_list).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], partner_id);
    assert!(listed[0].get("clientSecret").is_none(), "{listed}");
    assert!(!partner_list.contains(secret), "the secret leaked: {partner_list}");

    // "PARTNER" is not a partner id.
    relationship.assert_code(2);

    let set = t
        .candex(&[
            "admin",
            "relationship",
            "set",
            "--partner",
            &partner_id,
            "--hirer",
            &hirer_id,
            "--type",
            "ProactiveSourcing",
            "--type",
            "ApplicationExport",
        ])
        .json();
    assert_eq!(
        set,
        json!({"partnerId": partner_id, "hirerId": hirer_id, "relationshipTypeCodes": ["ApplicationExport", "ProactiveSourcing"]})
    );

    let position = t
        .candex(&["admin", "position", "create", "--hirer", &hirer_id, "--title", "Barista", "--work-type", "Casual"])
        .json();
    let position_id = position["id"].as_str().unwrap().to_owned();
    assert!(ObjectId::parse_as(&position_id, IdKind::PositionProfile).is_ok(), "{position}");
    assert_eq!(position["hirerId"], hirer_id);
    assert_eq!(position["positionTitle"], "Barista");
    assert_eq!(position["statusCode"], "Active");
    assert_eq!(position["details"]["workTypeCode"], "Casual", "{position}");
    assert!(position["positionUri"].as_str().unwrap().starts_with("http://127.0.0.1:8080/"), "{position}");

    let listed = t.candex(&["admin", "position", "list"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], position_id);
    let by_hirer = t.candex(&["admin", "position", "list", "--hirer", &hirer_id]).json();
    assert_eq!(by_hirer, listed);

    for _ in 0..2 {
        let closed = t.candex(&["admin", "position", "close", &position_id]).json();
        assert_eq!(closed["id"], position_id);
        assert_eq!(closed["statusCode"], "Closed", "{closed}");
    }
    assert_eq!(t.candex(&["admin", "position", "list"]).json()[0]["statusCode"], "Closed");
}

#[test]
fn bad_admin_input_exits_2_with_a_clear_message_and_changes_nothing() {
    // Arrange
    let t = TestDir::new();
    let (hirer, position) = hirer_with_position(&t, "Barista");
    let partner = t.candex(&["admin", "partner", "create", "--name", "ATS"]).json();
    let partner = partner["id"].as_str().unwrap().to_owned();
    t.candex(&["admin", "relationship", "set", "--partner", &partner, "--hirer", &hirer, "--type", "JobPosting"])
        .json();

    // Act and assert
    let ran =
        t.candex(&["admin", "relationship", "set", "--partner", &partner, "--hirer", &hirer, "--type", "Foo"]).code(2);
    ran.assert_stderr_contains("/relationshipTypeCodes/0");
    ran.assert_stderr_contains("ApplicationExport");
    assert!(ran.stdout().is_empty(), "{}", ran.report());

    for args in [&["admin", "hirer", "create", "--name", "  "][..], &["admin", "partner", "create", "--name", ""][..]] {
        let ran = t.candex(args).code(2);
        ran.assert_stderr_contains("/name");
        ran.assert_stderr_contains("blank");
    }

    let unknown_hirer = "seekAnzPublicTest:organization:seek:doesNotExist";
    let ran = t.candex(&["admin", "position", "create", "--hirer", unknown_hirer, "--title", "Barista"]).code(2);
    ran.assert_stderr_contains("/hirerId");
    let ran = t
        .candex(&["admin", "position", "create", "--hirer", &hirer, "--title", "X", "--work-type", "Sometimes"])
        .code(2);
    ran.assert_stderr_contains("/workTypeCode");
    let ran = t.candex(&["admin", "position", "close", "seekAnzPublicTest:positionProfile:jobAd:nope"]).code(2);
    ran.assert_stderr_contains("not found");
    let ran = t.candex(&["admin", "hirer", "create"]).code(2);
    ran.assert_stderr_contains("--name");

    // Data intact.
    assert_eq!(t.candex(&["admin", "hirer", "list"]).json().as_array().unwrap().len(), 1);
    assert_eq!(t.candex(&["admin", "partner", "list"]).json().as_array().unwrap().len(), 1);
    let positions = t.candex(&["admin", "position", "list"]).json();
    assert_eq!(positions.as_array().unwrap().len(), 1, "{positions}");
    assert_eq!(positions[0]["id"], position);
    let store = t.store();
    let codes = block_on(store.relationships(&PartnerId::parse(&partner).unwrap(), &HirerId::parse(&hirer).unwrap()))
        .unwrap()
        .codes();
    assert_eq!(codes, ["JobPosting"]);
}

// --- import ---------------------------------------------------------------------------------

#[test]
fn import_stores_the_good_lines_and_names_each_bad_line() {
    // Arrange
    let t = TestDir::new();
    let (_, position) = hirer_with_position(&t, "Barista");
    let (_, closed) = hirer_with_position(&t, "Closed role");
    t.candex(&["admin", "position", "close", &closed]).json();
    let unknown = "seekAnzPublicTest:positionProfile:jobAd:doesNotExist";
    let lines = [
        application(&position, "Good One", "one@example.com"), // 1
        r#"{"positionProfileId": "#.to_owned(),                // 2: invalid JSON
        "   ".to_owned(),                                      // 3: blank, skipped
        json!({"positionProfileId": position, "candidate": {"person": {"name": {"given": "No Email"}}}}).to_string(), // 4: missing email
        application(unknown, "Lost", "lost@example.com"), // 5: unknown position
        application(&position, "Good Two", "two@example.com"), // 6
        application(&position, "Good Three", "three@example.com"), // 7
        application(&closed, "Too Late", "late@example.com"), // 8: closed position
        application(&position, "Good Four", "four@example.com"), // 9
    ];
    let file = t.path("applications.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    // Act: batches of two put a bad line into a batch with a good one.
    let ran = t.candex(&["import", file.to_str().unwrap(), "--batch-size", "2"]).code(1);

    // Assert
    let stderr = ran.stderr();
    let rejected: Vec<&str> = stderr.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(rejected.len(), 4, "{}", ran.report());
    for (line, reason) in
        [(2, "invalid JSON"), (4, "/candidate/person/communication/email"), (5, "/positionProfileId"), (8, "closed")]
    {
        let prefix = format!("line {line}: ");
        let found = rejected.iter().find(|l| l.starts_with(&prefix));
        assert!(found.is_some_and(|l| l.contains(reason)), "no `{prefix}…{reason}…`{}", ran.report());
    }
    ran.assert_stderr_contains("imported 4 applications, rejected 4 lines");
    let store = t.store();
    assert_eq!(applicant_names(&store, &position), ["Good One", "Good Two", "Good Three", "Good Four"]);
    assert!(applicant_names(&store, &closed).is_empty());
}

#[test]
fn an_import_of_only_good_lines_exits_0() {
    let t = TestDir::new();
    let (_, position) = hirer_with_position(&t, "Barista");
    let lines: Vec<String> =
        (0..5).map(|i| application(&position, &format!("Person {i}"), &format!("p{i}@example.com"))).collect();
    let file = t.path("good.ndjson");
    // No trailing newline, and a blank line in the middle.
    std::fs::write(&file, format!("{}\n\n{}", lines[..2].join("\n"), lines[2..].join("\n"))).unwrap();

    let ran = t.candex(&["import", file.to_str().unwrap()]).code(0);

    ran.assert_stderr_contains("imported 5 applications, rejected 0 lines");
    assert!(!ran.stderr().contains("line "), "{}", ran.report());
    let names = applicant_names(&t.store(), &position);
    assert_eq!(names, (0..5).map(|i| format!("Person {i}")).collect::<Vec<_>>());
}

#[test]
fn importing_a_missing_file_exits_2() {
    let t = TestDir::new();
    let missing = t.path("missing.ndjson");

    let ran = t.candex(&["import", missing.to_str().unwrap()]).code(2);

    ran.assert_stderr_contains("missing.ndjson");
}

// --- seed -----------------------------------------------------------------------------------

fn seed(t: &TestDir) -> TestCommand {
    t.candex(&["seed", "--profiles", "50", "--seed", "7"])
}

#[test]
fn seed_prints_a_summary_refuses_to_run_twice_and_is_deterministic() {
    // Arrange
    let first = TestDir::new();
    let second = TestDir::new();

    // Act
    let summary = seed(&first).json();
    let again = seed(&first).code(2);
    let replay = seed(&second).json();

    // Assert
    assert_eq!(summary["profiles"], 50, "{summary}");
    assert_eq!(summary["seed"], 7, "{summary}");
    let partner = &summary["partner"];
    assert!(partner["clientId"].as_str().is_some_and(|s| !s.is_empty()), "{summary}");
    assert!(partner["clientSecret"].as_str().is_some_and(|s| s.len() >= 32), "{summary}");
    let first_profile = summary["firstProfileId"].as_str().expect("firstProfileId");
    assert!(ObjectId::parse_as(first_profile, IdKind::CandidateProfile).is_ok(), "{summary}");

    again.assert_stderr_contains("--seed 7");
    again.assert_stderr_contains("already in this database");

    assert_eq!(replay["firstProfileId"], summary["firstProfileId"]);
    assert_eq!(replay["hirers"], summary["hirers"]);
    assert_eq!(replay["partner"], summary["partner"]);

    // Exactly 50 profiles were stored, once.
    let store = first.store();
    let positions = block_on(store.list_positions(None)).unwrap();
    assert_eq!(positions.len() as u64, summary["positions"].as_u64().unwrap());
    let total: usize = positions
        .iter()
        .map(|p| block_on(store.page_position_applications(&p.profile_id, None, 200)).unwrap().len())
        .sum();
    assert_eq!(total, 50);
    let profile = CandidateProfileId::parse(first_profile).unwrap();
    assert!(block_on(store.get_profile(&profile)).unwrap().is_some());
}

// --- attachments ----------------------------------------------------------------------------

#[test]
fn import_streams_attachment_files_from_paths_and_admin_purge_runs() {
    let t = TestDir::new();
    let (_, position) = hirer_with_position(&t, "Archivist");
    std::fs::create_dir_all(t.path("files")).unwrap();
    std::fs::write(t.path("files/cv one.pdf"), b"%PDF-1.4 resume").unwrap();
    std::fs::write(t.path("letter.txt"), b"Dear hirer").unwrap();
    let mut good: Value = serde_json::from_str(&application(&position, "Ann Files", "ann@example.com")).unwrap();
    good["attachments"] = json!([
        {"path": "files/cv one.pdf", "seekRoleCode": "Resume"},
        {"path": t.path("letter.txt").to_str().unwrap(), "seekRoleCode": "CoverLetter", "filename": "Cover letter.txt"}
    ]);
    let mut missing: Value = serde_json::from_str(&application(&position, "Bo Missing", "bo@example.com")).unwrap();
    missing["attachments"] = json!([{"path": "files/cv one.pdf"}, {"path": "nope.pdf"}]);
    let mut wrong: Value = serde_json::from_str(&application(&position, "Cy Wrong", "cy@example.com")).unwrap();
    wrong["attachments"] = json!([{"path": "files/cv one.pdf", "contentType": "image/png"}]);
    let file = t.path("apps.ndjson");
    std::fs::write(&file, format!("{good}\n{missing}\n{wrong}\n")).unwrap();

    let ran = t.candex(&["import", file.to_str().unwrap()]).code(1);
    ran.assert_stderr_contains("line 2: /attachments/1/path");
    ran.assert_stderr_contains("line 3: /attachments/0/path");
    ran.assert_stderr_contains("imported 1 application, rejected 2 lines");
    assert_eq!(applicant_names(&t.store(), &position), vec!["Ann Files".to_owned()]);

    let store = t.store();
    let id = PositionProfileId::parse(&position).unwrap();
    let profile = block_on(store.page_position_applications(&id, None, 10)).unwrap()[0].profile_id.clone();
    let attachments = block_on(store.profile_attachments(&profile)).unwrap();
    let names: Vec<_> = attachments.iter().map(|a| (a.meta.filename.as_str(), a.meta.content_type.as_str())).collect();
    assert_eq!(names, vec![("cv one.pdf", "application/pdf"), ("Cover letter.txt", "text/plain")]);
    // The blobs folder beside the database holds exactly the two files (none of the refused lines').
    let blobs: Vec<_> = std::fs::read_dir(t.path("blobs/sha256")).unwrap().collect();
    assert_eq!(blobs.len(), 2, "{}", ran.report());

    let purged = t.candex(&["admin", "purge"]).json();
    assert_eq!(
        purged,
        json!({"attachmentsDeleted": 0, "blobsDeleted": 0, "orphanBlobsDeleted": 0, "tempFilesDeleted": 0,
               "eventsDeleted": 0, "webhookRequestsDeleted": 0, "compacted": false}),
        "nothing is past retention"
    );
    let stored = applicant_names(&t.store(), &position);
    let compacted = t.candex(&["admin", "purge", "--compact"]).json();
    assert_eq!(compacted["compacted"], true, "{compacted}");
    assert_eq!(applicant_names(&t.store(), &position), stored, "compacting keeps every application");
}

#[test]
fn admin_candidate_erase_redacts_the_candidate_and_deletes_its_files() {
    let t = TestDir::new();
    let (_, position) = hirer_with_position(&t, "Archivist");
    std::fs::write(t.path("cv.pdf"), b"%PDF-1.4 private resume").unwrap();
    let mut app: Value = serde_json::from_str(&application(&position, "Eve Private", "eve@example.com")).unwrap();
    app["attachments"] = json!([{"path": "cv.pdf", "seekRoleCode": "Resume"}]);
    app["employment"] = json!([{"organization": {"name": "Secret Co"}, "positionHistories": []}]);
    let file = t.path("apps.ndjson");
    std::fs::write(&file, format!("{app}\n")).unwrap();
    t.candex(&["import", file.to_str().unwrap()]).code(0);
    let store = t.store();
    let id = PositionProfileId::parse(&position).unwrap();
    let summary = block_on(store.page_position_applications(&id, None, 10)).unwrap().remove(0);
    assert_eq!(std::fs::read_dir(t.path("blobs/sha256")).unwrap().count(), 1);

    let erased = t.candex(&["admin", "candidate", "erase", summary.candidate_id.as_str()]).json();

    assert_eq!(erased, json!({"candidateId": summary.candidate_id.as_str(), "profiles": 1}));
    let view = block_on(store.get_profile(&summary.profile_id)).unwrap().expect("the profile id stays valid");
    assert_eq!(view.candidate.person.name.formatted_name, "redacted");
    assert!(view.candidate.person.communication.email.is_empty());
    assert!(view.snapshot.employment.is_empty());
    assert!(block_on(store.profile_attachments(&summary.profile_id)).unwrap().is_empty());
    assert_eq!(std::fs::read_dir(t.path("blobs/sha256")).unwrap().count(), 0, "the file is deleted");
    let ran = t.candex(&["admin", "candidate", "erase", "seekAnzPublicTest:candidate:feed:nobody"]).code(2);
    ran.assert_stderr_contains("candidate not found");
}

#[test]
fn admin_webhooks_lists_the_queue_and_failed_deliveries() {
    use candex_domain::{DeliveryCode, EventType, Scheme, SigningAlgorithm};
    use candex_store::{DeliveryClaim, DeliveryOutcome, NewWebhookSubscription};

    let t = TestDir::new();
    let (hirer, position) = hirer_with_position(&t, "Courier");
    let partner = t.candex(&["admin", "partner", "create", "--name", "ATS"]).json();
    let partner = partner["id"].as_str().unwrap().to_owned();
    t.candex(&[
        "admin",
        "relationship",
        "set",
        "--partner",
        &partner,
        "--hirer",
        &hirer,
        "--type",
        "ApplicationExport",
    ])
    .json();
    let queue = t.candex(&["admin", "webhooks", "queue"]).json();
    assert_eq!(queue["pendingDeliveries"], 0, "{queue}");

    let store = t.store();
    let scheme = Scheme::default();
    let subscription = ObjectId::mint(&scheme, IdKind::WebhookSubscription, &mut rand::thread_rng());
    block_on(store.create_webhook_subscription(NewWebhookSubscription {
        id: subscription.clone(),
        partner_id: PartnerId::parse(&partner).unwrap(),
        scheme_id: scheme.to_string(),
        event_type: EventType::CandidateApplicationCreated,
        url: "https://ats.example.com/hook".to_owned(),
        hirer_id: None,
        max_events_per_attempt: 10,
        signing_algorithm: SigningAlgorithm::None,
        secret: None,
        created_at: chrono::Utc::now(),
    }))
    .expect("subscribe");
    let file = t.path("apps.ndjson");
    std::fs::write(&file, format!("{}\n", application(&position, "Ann Hook", "ann@example.com"))).unwrap();
    t.candex(&["import", file.to_str().unwrap()]).code(0);
    let queue = t.candex(&["admin", "webhooks", "queue"]).json();
    assert_eq!(queue["pendingDeliveries"], 1, "{queue}");
    assert!(queue["oldestPendingEventAgeSeconds"].as_i64().is_some(), "{queue}");

    // One failed request, as the dispatcher would record it.
    let now = chrono::Utc::now();
    let claim = DeliveryClaim {
        owner: "test".to_owned(),
        now,
        lease_until: now + chrono::Duration::seconds(30),
        max_subscriptions: 10,
    };
    let batch = block_on(store.claim_webhook_deliveries(&claim)).expect("claim").remove(0);
    block_on(store.record_webhook_delivery(&DeliveryOutcome {
        owner: "test".to_owned(),
        subscription_id: subscription.clone(),
        request_id: "req-1".to_owned(),
        status_code: 503,
        code: DeliveryCode::BadResponse,
        latency_ms: Some(12),
        created_at: now,
        attempts: vec![(ObjectId::mint(&scheme, IdKind::WebhookAttempt, &mut rand::thread_rng()), batch.events[0].seq)],
        retry_at: now + chrono::Duration::seconds(60),
    }))
    .expect("record");

    let failures = t.candex(&["admin", "webhooks", "deliveries", "--failures"]).json();
    assert_eq!(failures.as_array().map(Vec::len), Some(1), "{failures}");
    assert_eq!(failures[0]["requestId"], "req-1");
    assert_eq!(failures[0]["descriptionCode"], "BadResponse");
    assert_eq!(failures[0]["statusCode"], 503);
    assert_eq!(failures[0]["subscriptionId"], subscription.as_str());
    let queue = t.candex(&["admin", "webhooks", "queue"]).json();
    assert_eq!(queue["pendingDeliveries"], 1, "a failed delivery stays queued: {queue}");
    t.candex(&["admin", "webhooks", "deliveries", "--limit", "0"]).code(2);

    // An event from 2001 is past any retention; today's are not.
    let old = candex_store::EventStamp {
        id: ObjectId::mint(&scheme, IdKind::Event, &mut rand::thread_rng()),
        at: chrono::DateTime::from_timestamp(978_307_200, 0).unwrap(),
    };
    let partner_id = PartnerId::parse(&partner).unwrap();
    let hirer_id = HirerId::parse(&hirer).unwrap();
    block_on(store.set_relationships(&partner_id, &hirer_id, &[], &old)).expect("old event");
    let purged = t.candex(&["admin", "purge"]).json();
    assert_eq!(purged["eventsDeleted"], 1, "{purged}");
    assert_eq!(purged["webhookRequestsDeleted"], 0, "today's request stays: {purged}");
    let failures = t.candex(&["admin", "webhooks", "deliveries"]).json();
    assert_eq!(failures.as_array().map(Vec::len), Some(1), "{failures}");
}

/// The credential commands: a second client secret and its retirement, token revocation,
/// signing-key rotation and listing, and resealing under a new master key.
#[test]
fn admin_rotates_secrets_and_keys_and_revokes_tokens() {
    let t = TestDir::new();
    let key = t.path("master.key");
    let new_key = t.path("master.key.new");
    t.command(&["admin", "master-key", "generate", "--out", key.to_str().unwrap()]).stdout();
    t.command(&["admin", "master-key", "generate", "--out", new_key.to_str().unwrap()]).stdout();
    let partner = t.candex(&["admin", "partner", "create", "--name", "ATS"]).json();
    let id = partner["id"].as_str().unwrap();
    let rotated = t.candex(&["admin", "partner", "rotate-secret", id]).json();
    assert_ne!(rotated["clientSecret"], partner["clientSecret"]);
    t.candex(&["admin", "partner", "rotate-secret", id]).code(2);
    assert_eq!(t.candex(&["admin", "partner", "retire-secret", id]).json()["retired"], true);
    assert!(t.candex(&["admin", "partner", "revoke-tokens", id]).json()["tokensNotBefore"].is_string());

    let k = key.to_str().unwrap();
    t.candex(&["admin", "signing-key", "rotate"]).code(2).assert_stderr_contains("no master key configured");
    let first = t.candex(&["admin", "signing-key", "rotate", "--master-key-file", k]).json();
    let second = t.candex(&["admin", "signing-key", "rotate", "--master-key-file", k]).json();
    let keys = t.candex(&["admin", "signing-key", "list"]).json();
    let states: Vec<(&str, &str)> =
        keys.as_array().unwrap().iter().map(|k| (k["kid"].as_str().unwrap(), k["state"].as_str().unwrap())).collect();
    assert_eq!(
        states,
        [(first["signingKeyId"].as_str().unwrap(), "verifying"), (second["signingKeyId"].as_str().unwrap(), "signing")]
    );
    let resealed = t
        .candex(&["admin", "master-key", "rotate", "--master-key-file", k, "--new-key-file", new_key.to_str().unwrap()])
        .json();
    assert_eq!(resealed["resealed"], 2);
    // The old master key no longer opens them.
    t.candex(&["admin", "signing-key", "rotate", "--master-key-file", k])
        .code(2)
        .assert_stderr_contains("sealed with master key");
}
