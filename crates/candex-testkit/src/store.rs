//! A store per test on the backend the run asks for.

use std::sync::Arc;

use candex_store::Store;
use candex_store_postgres::scratch::ScratchDatabase;
use candex_store_sqlite::SqliteStore;

/// The backend tests run on: `"sqlite"`, or `"postgres"` when `CANDEX_TEST_BACKEND=postgres`
/// (each store then gets a database of its own on the server `CANDEX_TEST_POSTGRES_URL` names).
pub fn backend() -> &'static str {
    match std::env::var("CANDEX_TEST_BACKEND").as_deref() {
        Ok("postgres") => "postgres",
        _ => "sqlite",
    }
}

/// A store of one test and where it lives: a SQLite file in a temporary folder, or a scratch
/// PostgreSQL database. Both go when this is dropped.
pub struct ScratchStore {
    /// The open store.
    pub store: Arc<dyn Store>,
    /// Its database URL, for tests that open a connection of their own.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _database: Option<ScratchDatabase>,
}

/// A fresh, migrated store on [`backend`]. Panics when the backend is `postgres` and
/// `CANDEX_TEST_POSTGRES_URL` is unset: a run that asks for PostgreSQL must not quietly test
/// SQLite.
pub async fn scratch_store() -> ScratchStore {
    if backend() == "postgres" {
        let database =
            ScratchDatabase::from_env().await.expect("CANDEX_TEST_BACKEND=postgres needs CANDEX_TEST_POSTGRES_URL");
        let url = database.url();
        let store = candex_store_postgres::PgStore::connect(&url).await.expect("open postgres");
        return ScratchStore { store: Arc::new(store), url, _dir: None, _database: Some(database) };
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("candex.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect(&url).await.expect("open sqlite"));
    ScratchStore { store, url, _dir: Some(dir), _database: None }
}
