//! The command line's answers to an operator's usual mistakes, run as a process: commands
//! other than `serve` and `seed` refuse a missing database, a second `serve` on one SQLite file
//! refuses and names the first, bad database URLs and missing folders are named, boolean
//! variables take the usual spellings, `--listen` takes host names, `admin position create`
//! uses the server's public URL, and the exporter checks its webhook secret and names the URL a
//! failed token request went to.

mod common;

use std::path::Path;
use std::process::{Command, Output};

/// `candex ARGS` run in `dir`, with no `CANDEX_*` variable leaking in from the environment.
fn candex(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_candex"));
    cmd.current_dir(dir).args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CANDEX_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("RUST_LOG", "warn").envs(env.iter().copied()).output().expect("run candex")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts exit code 2 and a message containing every one of `needles`.
fn refused(out: &Output, needles: &[&str]) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(2), "exit code; stderr:\n{text}\nstdout:\n{}", stdout(out));
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn admin_and_import_refuse_a_missing_database_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let expected = dir.path().canonicalize().unwrap().join("candex.db");
    for args in [&["admin", "hirer", "list"][..], &["admin", "purge"][..], &["import", "apps.ndjson"][..]] {
        let out = candex(dir.path(), args, &[]);
        refused(
            &out,
            &[
                &format!("no candex database at {}", expected.display()),
                "only `candex serve` and `candex seed` create one",
            ],
        );
        assert!(stdout(&out).is_empty(), "{args:?} printed {:?}", stdout(&out));
    }
    let db = format!("sqlite://{}", dir.path().join("elsewhere.db").display());
    refused(&candex(dir.path(), &["admin", "partner", "list", "--database", &db], &[]), &["no candex database at"]);
    assert_eq!(entries(dir.path()), Vec::<String>::new(), "nothing may be created");
}

#[test]
fn bad_database_urls_and_missing_folders_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mysql = candex(dir.path(), &["admin", "hirer", "list", "--database", "mysql://root:hunter2@db/candex"], &[]);
    refused(&mysql, &["the `mysql` scheme is not supported", "sqlite://FILE", "postgres://"]);
    assert!(!stderr(&mysql).contains("hunter2"), "the password is shown: {}", stderr(&mysql));
    for empty in ["sqlite://", "sqlite::memory:"] {
        refused(&candex(dir.path(), &["seed", "--profiles", "1", "--database", empty], &[]), &["names no file"]);
    }
    let missing = dir.path().join("no/such/folder");
    let db = format!("sqlite://{}/candex.db", missing.display());
    for args in [&["seed", "--profiles", "1", "--database", &db][..], &["admin", "hirer", "list", "--database", &db]] {
        refused(
            &candex(dir.path(), args, &[]),
            &[&format!("the folder {} does not exist", missing.display()), "mkdir -p"],
        );
    }
    let help = stdout(&candex(dir.path(), &["serve", "--help"], &[]));
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("postgres://") && help.contains("Other schemes are refused"), "{help}");
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

#[test]
fn a_second_server_on_one_sqlite_file_refuses_and_names_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("one.db").display());
    let first = common::start(&["--database", &db]);
    let second = candex(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--database", &db],
        &[("CANDEX_MASTER_KEY", common::TEST_MASTER_KEY)],
    );
    let first_addr = first.base.trim_start_matches("http://");
    refused(
        &second,
        &[
            "is already served by another candex serve",
            &format!("pid {}, listening on http://{first_addr}", first.child.id()),
            "one.db.lock",
        ],
    );
    assert!(!stderr(&second).contains("candex is listening"), "{}", stderr(&second));
    // The first one is unharmed.
    let health = common::healthz(&first.base);
    assert_eq!(health, 200);
    drop(first);
    // Once it is gone, the database is free again.
    let again = common::start(&["--database", &db]);
    assert_eq!(common::healthz(&again.base), 200);
}

#[test]
fn boolean_variables_take_the_usual_spellings() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    // CANDEX_DEMO=1 is --demo: the demo banner, and no master key needed.
    let mut command = Command::new(env!("CARGO_BIN_EXE_candex"));
    command.args(["serve", "--listen", "127.0.0.1:0", "--database", &db]).env("CANDEX_DEMO", "1");
    let server = common::start_command(command, true);
    assert!(server.stdout.contains("GraphQL explorer:"), "{}", server.stdout);
    drop(server);
    // Off spellings turn it off (so the master key is required), nonsense is refused.
    for off in ["0", "no", "off", "false"] {
        let out = candex(dir.path(), &["serve", "--listen", "127.0.0.1:0", "--database", &db], &[("CANDEX_DEMO", off)]);
        refused(&out, &["no master key configured"]);
    }
    let out = candex(dir.path(), &["serve", "--database", &db], &[("CANDEX_DEMO", "maybe")]);
    refused(&out, &["maybe", "--demo"]);
}

#[test]
fn listen_takes_a_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("host.db").display());
    let mut command = Command::new(env!("CARGO_BIN_EXE_candex"));
    command.args(["serve", "--database", &db, "--listen", "localhost:0"]);
    command.env("CANDEX_MASTER_KEY", common::TEST_MASTER_KEY);
    let server = common::start_command(command, false);
    assert!(server.base.starts_with("http://127.0.0.1:"), "{}", server.base);
    assert_eq!(common::healthz(&server.base), 200);
    refused(
        &candex(dir.path(), &["serve", "--database", &db, "--listen", "localhost"], &[]),
        &["IP:PORT or HOST:PORT"],
    );
}

#[test]
fn admin_position_create_uses_the_public_url_the_server_runs_with() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("jobs.db").display());
    // A server ran once with its public URL; commands later use it.
    drop(common::start(&["--database", &db, "--public-url", "https://jobs.example.com/"]));
    let hirer = candex(dir.path(), &["admin", "hirer", "create", "--name", "Acme", "--database", &db], &[]);
    assert!(hirer.status.success(), "{}", stderr(&hirer));
    let hirer: serde_json::Value = serde_json::from_slice(&hirer.stdout).unwrap();
    let hirer = hirer["id"].as_str().unwrap();
    let create = |env: &[(&str, &str)]| {
        let out = candex(
            dir.path(),
            &["admin", "position", "create", "--hirer", hirer, "--title", "Barista", "--database", &db],
            env,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let position: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        position["positionUri"].as_str().unwrap().to_owned()
    };
    let uri = create(&[]);
    assert!(uri.starts_with("https://jobs.example.com/jobs/"), "{uri}");
    let uri = create(&[("CANDEX_PUBLIC_URL", "https://other.example.com")]);
    assert!(uri.starts_with("https://other.example.com/jobs/"), "the variable wins: {uri}");
}

#[test]
fn admin_position_create_without_a_known_public_url_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let seeded = candex(dir.path(), &["seed", "--profiles", "1", "--database", &db], &[]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let hirers = candex(dir.path(), &["admin", "hirer", "list", "--database", &db], &[]);
    let hirers: serde_json::Value = serde_json::from_slice(&hirers.stdout).unwrap();
    let hirer = hirers[0]["id"].as_str().unwrap();
    let out =
        candex(dir.path(), &["admin", "position", "create", "--hirer", hirer, "--title", "X", "--database", &db], &[]);
    refused(&out, &["no public URL", "--public-url", "candex serve"]);
}

#[test]
fn the_exporter_checks_its_webhook_secret_like_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["export", "listen", "--client-id", "x", "--client-secret", "y", "--out", "out", "--secret"];
    let out = candex(dir.path(), &[&args[..], &["hunter2"]].concat(), &[]);
    refused(&out, &["--secret is 7 characters long", "at least 16"]);
    assert!(!stderr(&out).contains("hunter2"), "the secret is echoed: {}", stderr(&out));
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

#[test]
fn a_graphql_url_given_as_the_server_names_the_token_url_it_called() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("srv.db").display());
    let server = common::start(&["--demo", "--database", &db]);
    let graphql = format!("{}/graphql", server.base);
    let out = candex(
        dir.path(),
        &["export", "get", "--server", &graphql, "--client-id", "id", "--client-secret", "secret", "some-profile"],
        &[],
    );
    refused(&out, &[&format!("token request to {graphql}/oauth/token rejected (HTTP 404)"), "the server's base URL"]);
}
