//! The configuration file: `--config FILE` (or `CANDEX_CONFIG`), TOML.
//!
//! Keys are long flag names without the dashes (`listen`, `master-key-file`,
//! `cors-allow-origin`). A key at the top of the file applies to every command that has that
//! flag (like its `CANDEX_*` variable); a key in a table named after a command (`[serve]`,
//! `[admin]`, `[export.sync]`) applies to that command and the commands under it, and wins over
//! the same key higher up. Flags that can be repeated take a list; on/off flags take `true` or
//! `false`.
//!
//! Precedence: command-line flags > environment variables > the file > built-in defaults. The
//! file is applied before clap parses: for each flag of the command being run that was given
//! neither on the command line nor through its variable, the file's value is added to the
//! command line as `--flag=value`. Every key of the file is checked against the command tree
//! first, so a misspelt key or a value of the wrong shape is an error naming the file and the
//! key, whichever command runs.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// The id of the `--config` argument in [`Cli`].
const CONFIG_ARG: &str = "config";

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("config file {}: {message}", path.display())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, naming the key.
    pub message: String,
}

/// A value the file supplied: its flag and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supplied {
    /// The flag's long name.
    pub long: String,
    /// The key's dotted path in the file (`serve.listen`).
    pub key: String,
}

/// The command line with the file's settings added.
#[derive(Debug, Clone, Default)]
pub struct Expanded {
    /// Arguments to parse (program name first).
    pub argv: Vec<OsString>,
    /// The config file, if one was named.
    pub path: Option<PathBuf>,
    /// What the file supplied.
    pub supplied: Vec<Supplied>,
}

/// Parses the command line with the config file applied. On a usage error, `--help` or
/// `--version` it prints what clap prints; on a config file error it prints the error; either
/// way it returns the exit code to end with.
pub fn parse_command_line(args: impl IntoIterator<Item = OsString>) -> Result<Cli, ExitCode> {
    let argv: Vec<OsString> = args.into_iter().collect();
    let expanded = match expand(argv) {
        Ok(expanded) => expanded,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let mut cmd = Cli::command();
    let result =
        cmd.try_get_matches_from_mut(&expanded.argv).and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
    match result {
        Ok(cli) => Ok(cli),
        Err(e) => match (from_file(&e, &expanded), &expanded.path) {
            (Some(key), Some(path)) => {
                let text = e.render().to_string();
                let text = text.lines().next().unwrap_or_default();
                let text = text.strip_prefix("error: ").unwrap_or(text);
                eprintln!("error: config file {}: key `{key}`: {text}", path.display());
                Err(ExitCode::from(2))
            }
            _ => e.exit(),
        },
    }
}

/// The key of the file that supplied the flag a clap error is about, if it was the file's.
fn from_file(e: &clap::Error, expanded: &Expanded) -> Option<String> {
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    expanded.supplied.iter().find_map(|s| {
        let flag = format!("--{}", s.long);
        let rest = arg.strip_prefix(&flag)?;
        (rest.is_empty() || rest.starts_with([' ', '='])).then(|| s.key.clone())
    })
}

/// Adds the config file's settings to `argv` (see the module documentation). Without a config
/// file, or when the command line does not parse (clap reports that afterwards), `argv` is
/// returned as it is. Environment variables are read from this process's environment.
pub fn expand(argv: Vec<OsString>) -> Result<Expanded, ConfigError> {
    let mut tree = Cli::command();
    tree.build();
    // A lenient parse (missing required flags are fine: the file may supply them) to find the
    // config file, the command being run and what was given. `ignore_errors` is a global
    // setting, so it must be set before the command is built.
    let Ok(matches) = Cli::command().ignore_errors(true).try_get_matches_from(&argv) else {
        return Ok(Expanded { argv, ..Expanded::default() });
    };
    let Some(path) = matches.get_one::<PathBuf>(CONFIG_ARG).cloned() else {
        return Ok(Expanded { argv, ..Expanded::default() });
    };
    let fail = |message: String| ConfigError { path: path.clone(), message };
    let table = read(&path)?;
    validate(&table, &tree, "").map_err(fail)?;

    // The command being run, its matches, and the file's tables from the top down to it.
    let mut cmd = &tree;
    let mut leaf = &matches;
    let mut tables = vec![(String::new(), &table)];
    let mut deepest = true;
    while let Some((name, sub)) = leaf.subcommand() {
        cmd = cmd.find_subcommand(name).expect("matched subcommands exist");
        leaf = sub;
        // Without a table for this command, the file has none for the commands under it.
        let (prefix, parent): (String, &toml::Table) = match tables.last() {
            Some((prefix, t)) => (prefix.clone(), *t),
            None => break,
        };
        match parent.get(name).and_then(toml::Value::as_table).filter(|_| deepest) {
            Some(t) => tables.push((format!("{prefix}{name}."), t)),
            None => deepest = false,
        }
    }

    let mut added: Vec<OsString> = Vec::new();
    let mut supplied = Vec::new();
    for arg in cmd.get_arguments() {
        let Some(long) = settable(arg) else { continue };
        let Some((prefix, value)) =
            // (A table under a flag's name is a command's, as in `[admin.hirer]` for `--hirer`.)
            tables.iter().rev().find_map(|(prefix, t)| t.get(long).filter(|v| !v.is_table()).map(|v| (prefix, v)))
        else {
            continue;
        };
        if given(leaf, arg) || cmd.get_arg_conflicts_with(arg).into_iter().any(|c| given(leaf, c)) {
            continue;
        }
        let key = format!("{prefix}{long}");
        let tokens = tokens(arg, long, value).map_err(|m| fail(format!("key `{key}`: {m}")))?;
        added.extend(tokens);
        supplied.push(Supplied { long: long.to_owned(), key });
    }

    // Options go before a `--` that ends them, else at the end (where the command being run
    // parses them; global flags are accepted anywhere).
    let mut argv = argv;
    let at = argv.iter().skip(1).position(|a| a == "--").map_or(argv.len(), |i| i + 1);
    argv.splice(at..at, added);
    Ok(Expanded { argv, path: Some(path), supplied })
}

/// Reads and parses the file.
fn read(path: &Path) -> Result<toml::Table, ConfigError> {
    let fail = |message: String| ConfigError { path: path.to_owned(), message };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    text.parse::<toml::Table>().map_err(|e| fail(format!("not valid TOML: {}", e.to_string().trim_end())))
}

/// The long name of an argument the file may set (not positionals, `--help`, `--version` or
/// `--config`).
fn settable(arg: &Arg) -> Option<&str> {
    if arg.get_id() == CONFIG_ARG
        || matches!(arg.get_action(), ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version)
    {
        return None;
    }
    arg.get_long()
}

/// Whether an argument was given on the command line or through its environment variable.
fn given(matches: &ArgMatches, arg: &Arg) -> bool {
    let id = arg.get_id().as_str();
    if matches.try_contains_id(id).unwrap_or(false)
        && matches!(matches.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
    {
        return true;
    }
    // A set variable takes precedence even where the lenient first parse left it out (an
    // invalid value, which clap then reports).
    arg.get_env().is_some_and(|name| std::env::var_os(name).is_some())
}

/// Every long flag of `cmd` and the commands under it.
fn longs_under(cmd: &clap::Command, into: &mut BTreeSet<String>) {
    for arg in cmd.get_arguments() {
        if let Some(long) = settable(arg) {
            into.insert(long.to_owned());
        }
    }
    for sub in cmd.get_subcommands() {
        longs_under(sub, into);
    }
}

/// Checks every key of `table` (at `prefix`, e.g. `export.sync.`) against `cmd`: a table per
/// subcommand, otherwise a flag of `cmd` or of a command under it, with a value of the right
/// shape.
fn validate(table: &toml::Table, cmd: &clap::Command, prefix: &str) -> Result<(), String> {
    let mut longs = BTreeSet::new();
    longs_under(cmd, &mut longs);
    let path = if prefix.is_empty() {
        "candex".to_owned()
    } else {
        format!("candex {}", prefix.trim_end_matches('.').replace('.', " "))
    };
    for (key, value) in table {
        if let Some(sub) = cmd.find_subcommand(key) {
            match value.as_table() {
                Some(t) => {
                    validate(t, sub, &format!("{prefix}{key}."))?;
                    continue;
                }
                None => {
                    if !longs.contains(key.as_str()) {
                        return Err(format!(
                            "key `{prefix}{key}`: `{key}` is a command, so it takes a table ([{prefix}{key}])"
                        ));
                    }
                }
            }
        }
        if !longs.contains(key.as_str()) {
            let subs: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
            let tables = if subs.is_empty() {
                String::new()
            } else {
                format!(" or a table for one of its commands ({})", subs.join(", "))
            };
            return Err(format!(
                "unknown key `{prefix}{key}`: it must be the long name of a flag of `{path}` or of a command under it{tables}"
            ));
        }
        // Check the value's shape against the first flag of that name (flags of one name have
        // one shape across commands).
        if let Some(arg) = find_arg(cmd, key) {
            tokens(arg, key, value).map_err(|m| format!("key `{prefix}{key}`: {m}"))?;
        }
    }
    Ok(())
}

/// The first argument with long name `long` in `cmd` or under it.
fn find_arg<'a>(cmd: &'a clap::Command, long: &str) -> Option<&'a Arg> {
    cmd.get_arguments()
        .find(|a| settable(a) == Some(long))
        .or_else(|| cmd.get_subcommands().find_map(|s| find_arg(s, long)))
}

/// The command-line tokens that give `arg` the file's `value`.
fn tokens(arg: &Arg, long: &str, value: &toml::Value) -> Result<Vec<OsString>, String> {
    let flag = || OsString::from(format!("--{long}"));
    match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => {
            let on = matches!(arg.get_action(), ArgAction::SetTrue);
            match value {
                toml::Value::Boolean(b) => Ok(if *b == on { vec![flag()] } else { vec![] }),
                other => Err(format!("expected true or false, found {}", other.type_str())),
            }
        }
        ArgAction::Count => match value {
            toml::Value::Integer(n) if *n >= 0 => Ok((0..*n).map(|_| flag()).collect()),
            other => Err(format!("expected a count, found {}", other.type_str())),
        },
        ArgAction::Append => match value {
            toml::Value::Array(items) => items.iter().map(|v| scalar(v).map(|s| assign(long, &s))).collect(),
            other => Ok(vec![assign(long, &scalar(other)?)]),
        },
        _ => match value {
            toml::Value::Array(_) => Err("expected one value, found a list (this flag cannot be repeated)".into()),
            other => Ok(vec![assign(long, &scalar(other)?)]),
        },
    }
}

/// `--long=value`.
fn assign(long: &str, value: &str) -> OsString {
    OsString::from(format!("--{long}={value}"))
}

/// A value as it would be written on the command line.
fn scalar(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Datetime(d) => Ok(d.to_string()),
        other => Err(format!("expected a string or a number, found {}", other.type_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> clap::Command {
        let mut tree = Cli::command();
        tree.build();
        tree
    }

    fn check(text: &str) -> Result<(), String> {
        validate(&text.parse::<toml::Table>().expect("toml"), &tree(), "")
    }

    #[test]
    fn keys_are_long_flags_at_the_top_or_in_command_tables() {
        check("database = 'sqlite://x.db'\nlog-format = 'json'\n[serve]\nlisten = '0.0.0.0:80'\ndemo = true\ncors-allow-origin = ['https://a', 'https://b']\n[export.sync]\nconcurrency = 4\n[admin]\ndatabase = 'sqlite://y.db'").expect("valid");
    }

    #[test]
    fn unknown_keys_and_wrong_shapes_are_named() {
        let e = check("[serve]\nlisen = '1'").unwrap_err();
        assert!(e.contains("unknown key `serve.lisen`") && e.contains("`candex serve`"), "{e}");
        let e = check("[serve]\ndemo = 'yes'").unwrap_err();
        assert!(e.contains("key `serve.demo`: expected true or false, found string"), "{e}");
        let e = check("listen = ['a', 'b']").unwrap_err();
        assert!(e.contains("key `listen`: expected one value, found a list"), "{e}");
        let e = check("serve = 1").unwrap_err();
        assert!(e.contains("takes a table ([serve])"), "{e}");
        let e = check("config = 'x'").unwrap_err();
        assert!(e.contains("unknown key `config`"), "{e}");
        let e = check("[export.nope]\nx = 1").unwrap_err();
        assert!(e.contains("unknown key `export.nope`"), "{e}");
    }

    #[test]
    fn values_become_flags() {
        let t = tree();
        let serve = t.find_subcommand("serve").expect("serve");
        let arg = |long: &str| serve.get_arguments().find(|a| a.get_long() == Some(long)).expect("arg").clone();
        assert_eq!(tokens(&arg("demo"), "demo", &toml::Value::Boolean(true)).unwrap(), vec![OsString::from("--demo")]);
        assert!(tokens(&arg("demo"), "demo", &toml::Value::Boolean(false)).unwrap().is_empty());
        assert_eq!(
            tokens(&arg("token-lifetime"), "token-lifetime", &toml::Value::Integer(60)).unwrap(),
            vec![OsString::from("--token-lifetime=60")]
        );
        let origins = toml::Value::Array(vec!["https://a".into(), "https://b".into()]);
        assert_eq!(
            tokens(&arg("cors-allow-origin"), "cors-allow-origin", &origins).unwrap(),
            vec![OsString::from("--cors-allow-origin=https://a"), OsString::from("--cors-allow-origin=https://b")]
        );
    }
}
