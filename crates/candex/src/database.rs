//! Opens the store named by `--database`: `sqlite://path` (the embedded default) or
//! `postgres://…` (several instances on one database). Checks the URL, the folder and whether
//! the command may create a database before anything is opened, so mistakes get a clear message.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use candex_store::Store;
use candex_store_postgres::PgStore;
use candex_store_sqlite::SqliteStore;

/// The database URL schemes `--database` accepts, for messages.
pub const SUPPORTED: &str = "sqlite://FILE (or a plain file path) and postgres://USER:PASS@HOST:PORT/DB";

/// A checked `--database` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file; `url` is what the driver opens (query parameters kept).
    Sqlite { path: PathBuf, url: String },
    /// A PostgreSQL URL, as given.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `--database`: `postgres://`/`postgresql://`, `sqlite://FILE`/`sqlite:FILE`, or a
    /// plain path (an SQLite file). Any other `scheme://` is refused, naming the supported ones,
    /// as is an SQLite URL without a file (an in-memory database would lose everything).
    pub fn parse(value: &str) -> anyhow::Result<DatabaseUrl> {
        let value = value.trim();
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(value.to_owned()));
        }
        let file = match value.strip_prefix("sqlite://").or_else(|| value.strip_prefix("sqlite:")) {
            Some(rest) => rest,
            None => {
                if let Some((scheme, _)) = value.split_once("://") {
                    anyhow::bail!(
                        "unsupported database URL {:?}: the `{scheme}` scheme is not supported; use {SUPPORTED}",
                        redact(value)
                    );
                }
                value
            }
        };
        let path = file.split('?').next().unwrap_or_default();
        anyhow::ensure!(
            !path.is_empty() && !path.starts_with(":memory:"),
            "database URL {value:?} names no file: use sqlite://FILE, e.g. sqlite://candex.db (an in-memory \
             database would lose everything at exit)"
        );
        Ok(DatabaseUrl::Sqlite { path: PathBuf::from(path), url: format!("sqlite://{file}") })
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DatabaseUrl::Sqlite { path, .. } => Some(path),
            DatabaseUrl::Postgres(_) => None,
        }
    }
}

/// Whether a command may create the database it is pointed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// `serve` and `seed`: an SQLite file that does not exist yet is created.
    IfMissing,
    /// Every other command: a missing SQLite file is an error (most likely the command runs
    /// in another folder than the server, or --database is missing).
    No,
}

/// Opens (creating and migrating if `create` allows) the database at `url`. A bad URL, a
/// missing folder or file, a database that cannot be reached, or one that a newer candex
/// migrated stops here with a message saying so.
pub async fn open(url: &str, create: Create) -> anyhow::Result<Arc<dyn Store>> {
    let parsed = DatabaseUrl::parse(url)?;
    match &parsed {
        DatabaseUrl::Postgres(url) => {
            let store = PgStore::connect(url).await.with_context(|| {
                format!("failed to open the PostgreSQL database {} (is it running and reachable?)", redact(url))
            })?;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Sqlite { path, url: sqlite_url } => {
            check_sqlite_path(path, create)?;
            let store = SqliteStore::connect(sqlite_url)
                .await
                .with_context(|| format!("failed to open the database {}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// The folder must exist; the file must too unless `create` allows making it.
fn check_sqlite_path(path: &Path, create: Create) -> anyhow::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        anyhow::bail!(
            "cannot open the database {}: the folder {} does not exist (create it first, e.g. `mkdir -p {}`)",
            path.display(),
            folder.display(),
            folder.display()
        );
    }
    if create == Create::No && !path.exists() {
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        anyhow::bail!(
            "no candex database at {}: only `candex serve` and `candex seed` create one. Name the server's \
             database with --database (or CANDEX_DATABASE), e.g. --database sqlite:///var/lib/candex/candex.db",
            shown.display()
        );
    }
    Ok(())
}

/// Hides a password in a database URL for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_checked_before_anything_is_opened() {
        let sqlite = |p: &str, u: &str| DatabaseUrl::Sqlite { path: PathBuf::from(p), url: u.to_owned() };
        assert_eq!(DatabaseUrl::parse("sqlite://candex.db").unwrap(), sqlite("candex.db", "sqlite://candex.db"));
        assert_eq!(DatabaseUrl::parse("sqlite:data/c.db").unwrap(), sqlite("data/c.db", "sqlite://data/c.db"));
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/c.db?mode=rwc").unwrap(),
            sqlite("/var/c.db", "sqlite:///var/c.db?mode=rwc")
        );
        assert_eq!(DatabaseUrl::parse("./c.db").unwrap(), sqlite("./c.db", "sqlite://./c.db"));
        assert!(matches!(DatabaseUrl::parse("postgresql://u@h/db").unwrap(), DatabaseUrl::Postgres(_)));
        let err = DatabaseUrl::parse("mysql://root:pw@localhost/candex").unwrap_err().to_string();
        assert!(err.contains("`mysql` scheme is not supported") && err.contains("postgres://"), "{err}");
        assert!(!err.contains("pw"), "the password is hidden: {err}");
        for empty in ["sqlite://", "sqlite:", "sqlite::memory:", "sqlite://:memory:", "sqlite://?mode=rwc"] {
            let err = DatabaseUrl::parse(empty).unwrap_err().to_string();
            assert!(err.contains("names no file"), "{empty}: {err}");
        }
    }
}
