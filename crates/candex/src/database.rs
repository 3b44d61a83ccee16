//! Opens the store named by `--database`: `sqlite://path` (the embedded default) or
//! `postgres://…` (several instances on one database).

use std::sync::Arc;

use anyhow::Context;
use candex_store::Store;
use candex_store_postgres::PgStore;
use candex_store_sqlite::SqliteStore;

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens (creating and migrating if needed) the database at `url`. A database that cannot be
/// reached, or that a newer candex migrated, stops here with a message saying so.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if is_postgres(url) {
        let store = PgStore::connect(url).await.with_context(|| {
            format!("failed to open the PostgreSQL database {} (is it running and reachable?)", redact(url))
        })?;
        return Ok(Arc::new(store));
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
