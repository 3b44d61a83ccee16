//! Opens the store named by `--database`: `sqlite://path` (the embedded default) or, later,
//! `postgres://…`.

use std::sync::Arc;

use anyhow::Context;
use candex_store::Store;
use candex_store_sqlite::SqliteStore;

/// Opens (creating and migrating if needed) the database at `url`.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        anyhow::bail!(
            "--database {}: this build of candex supports SQLite only (sqlite://FILE); the PostgreSQL backend is not part of it yet",
            redact(url)
        );
    }
    let sqlite_url = if url.starts_with("sqlite:") { url.to_owned() } else { format!("sqlite://{url}") };
    let store = SqliteStore::connect(&sqlite_url)
        .await
        .with_context(|| format!("failed to open the database {}", redact(url)))?;
    Ok(Arc::new(store))
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
