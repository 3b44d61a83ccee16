//! `candex` as a process with a configuration file (`--config`, `CANDEX_CONFIG`): each level of
//! precedence (flags > environment > file > defaults), command tables, and the errors for a
//! missing file, an unknown key and a bad value; and the generated completions and man pages.

use std::path::Path;
use std::process::{Command, Output};

/// `candex ARGS` in `dir`, with no `CANDEX_*` variable from this environment and `env` added.
fn candex(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_candex"));
    cmd.current_dir(dir).args(args).env("RUST_LOG", "warn");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CANDEX_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run candex")
}

fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "candex {}\nstatus: {}\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn succeeds(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = candex(dir, args, env);
    assert!(out.status.success(), "{}", describe(args, &out));
    out
}

/// Runs a command that must fail with exit code 2; returns its stderr.
fn fails(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = candex(dir, args, env);
    assert_eq!(out.status.code(), Some(2), "{}", describe(args, &out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The database files (`*.db`) in `dir`, sorted.
fn databases(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    names.sort();
    names
}

/// A fresh folder with `candex.toml` holding `text`.
fn with_config(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("candex.toml"), text).expect("write config");
    dir
}

/// `seed` creates the database it is given, so the database file it created shows which
/// `--database` won. `profiles`, a required flag, comes from the file too.
const SEED_CONFIG: &str = "database = \"sqlite://file.db\"\n[seed]\nprofiles = 1\nhirers = 1\n";

#[test]
fn the_file_beats_the_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    succeeds(dir.path(), &["seed", "--profiles", "1", "--hirers", "1"], &[]);
    assert_eq!(databases(dir.path()), ["candex.db"], "without a file: the default");

    let dir = with_config(SEED_CONFIG);
    succeeds(dir.path(), &["--config", "candex.toml", "seed"], &[]);
    assert_eq!(databases(dir.path()), ["file.db"]);
}

#[test]
fn the_environment_beats_the_file_and_a_flag_beats_both() {
    let dir = with_config(SEED_CONFIG);
    let env = [("CANDEX_DATABASE", "sqlite://env.db")];
    succeeds(dir.path(), &["seed", "--config", "candex.toml"], &env);
    assert_eq!(databases(dir.path()), ["env.db"], "environment over file");

    let dir = with_config(SEED_CONFIG);
    succeeds(dir.path(), &["--config", "candex.toml", "seed", "--database", "sqlite://flag.db"], &env);
    assert_eq!(databases(dir.path()), ["flag.db"], "flag over environment and file");
}

#[test]
fn candex_config_names_the_file_and_command_tables_beat_the_top() {
    let dir = with_config(&format!("{SEED_CONFIG}database = \"sqlite://seed-table.db\"\n"));
    succeeds(dir.path(), &["seed"], &[("CANDEX_CONFIG", "candex.toml")]);
    assert_eq!(databases(dir.path()), ["seed-table.db"]);
}

#[test]
fn the_file_sets_global_flags() {
    // A top-level key reaches a global flag of any command: an invalid log format is refused
    // naming the key, and a valid one runs.
    let dir = with_config(&format!("log-format = \"xml\"\n{SEED_CONFIG}"));
    let err = fails(dir.path(), &["--config", "candex.toml", "seed"], &[]);
    assert!(err.contains("key `log-format`: invalid value 'xml' for '--log-format"), "{err}");
    let dir = with_config(&format!("log-format = \"json\"\n{SEED_CONFIG}"));
    succeeds(dir.path(), &["--config", "candex.toml", "seed"], &[]);
    // The command line still wins: a valid flag overrides the file's invalid value.
    let dir = with_config(&format!("log-format = \"xml\"\n{SEED_CONFIG}"));
    succeeds(dir.path(), &["--config", "candex.toml", "--log-format", "text", "seed"], &[]);
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = fails(dir.path(), &["--config", "nope.toml", "seed", "--profiles", "1"], &[]);
    assert!(err.contains("config file nope.toml:"), "{err}");
    assert!(databases(dir.path()).is_empty(), "nothing ran");
}

#[test]
fn an_unknown_key_is_named_whichever_command_runs() {
    let dir = with_config("[serve]\nlisen = \"0.0.0.0:80\"\n");
    let err = fails(dir.path(), &["--config", "candex.toml", "seed", "--profiles", "1"], &[]);
    assert!(err.contains("config file candex.toml: unknown key `serve.lisen`"), "{err}");
    assert!(databases(dir.path()).is_empty(), "nothing ran");
}

#[test]
fn values_of_the_wrong_shape_or_refused_by_the_flag_are_named() {
    let dir = with_config("[serve]\ndemo = \"yes\"\n");
    let err = fails(dir.path(), &["--config", "candex.toml", "seed", "--profiles", "1"], &[]);
    assert!(err.contains("key `serve.demo`: expected true or false, found string"), "{err}");

    let dir = with_config("[seed]\nprofiles = 0\n");
    let err = fails(dir.path(), &["--config", "candex.toml", "seed"], &[]);
    assert!(err.contains("config file candex.toml: key `seed.profiles`:") && err.contains("--profiles"), "{err}");

    let dir = with_config("database = \n");
    let err = fails(dir.path(), &["--config", "candex.toml", "seed", "--profiles", "1"], &[]);
    assert!(err.contains("config file candex.toml: not valid TOML"), "{err}");
}

#[test]
fn completions_are_generated_from_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef candex"), ("fish", "complete -c candex")] {
        let out = succeeds(dir.path(), &["completions", shell], &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: no {marker:?} in {text}");
        for word in ["serve", "export", "config", "master-key-file"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    let err = fails(dir.path(), &["completions", "tcsh"], &[]);
    assert!(err.contains("tcsh"), "{err}");
}

#[test]
fn man_pages_are_generated_from_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = succeeds(dir.path(), &["man"], &[]);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH candex 1"), "{page}");
    assert!(page.contains("candex\\-serve(1)") || page.contains("serve"), "{page}");
    assert!(page.contains("\\-\\-config"), "the page lists --config: {page}");

    succeeds(dir.path(), &["man", "--out-dir", "pages"], &[]);
    for name in ["candex.1", "candex-serve.1", "candex-admin-partner-create.1", "candex-export-sync.1"] {
        let text = std::fs::read_to_string(dir.path().join("pages").join(name)).expect(name);
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{name}: {text}");
    }
}
