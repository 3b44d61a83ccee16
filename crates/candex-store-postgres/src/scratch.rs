//! Scratch databases for tests (feature `testkit`): one fresh database per test on the server
//! `CANDEX_TEST_POSTGRES_URL` names, dropped when the test ends, even when it failed.

use std::io::Write;
use std::sync::Once;

use sqlx::{Connection, PgConnection};

/// What tests say when PostgreSQL is not configured.
pub const SKIPPED: &str =
    "PostgreSQL tests skipped: set CANDEX_TEST_POSTGRES_URL=postgres://user@localhost:5432/postgres to run them";

/// The test server's URL, or `None` after saying (once per process) that the tests are skipped.
pub fn server_url() -> Option<String> {
    static SAY_ONCE: Once = Once::new();
    match std::env::var("CANDEX_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            SAY_ONCE.call_once(|| {
                let _ = writeln!(std::io::stderr(), "{SKIPPED}");
            });
            None
        }
    }
}

/// A database of one test, dropped (forcing off any connection left) when this goes.
pub struct ScratchDatabase {
    server_url: String,
    name: String,
}

impl ScratchDatabase {
    /// A fresh database on the server of `CANDEX_TEST_POSTGRES_URL`; `None` when it is unset.
    pub async fn from_env() -> Option<ScratchDatabase> {
        Some(Self::create(&server_url()?).await)
    }

    /// A fresh database on the server `server_url` names. Panics when the server refuses,
    /// naming the URL: a test cannot go on without it.
    pub async fn create(server_url: &str) -> ScratchDatabase {
        let name = format!("candex_test_{:016x}", rand::random::<u64>());
        let mut admin = PgConnection::connect(server_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to CANDEX_TEST_POSTGRES_URL={server_url}: {e}"));
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
        let _ = admin.close().await;
        ScratchDatabase { server_url: server_url.to_owned(), name }
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        match url::Url::parse(&self.server_url) {
            Ok(mut url) => {
                url.set_path(&self.name);
                url.to_string()
            }
            Err(e) => panic!("CANDEX_TEST_POSTGRES_URL is not a URL: {e}"),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchDatabase {
    /// `Drop` runs inside the test's runtime, so the work happens on a thread with its own.
    fn drop(&mut self) {
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return false };
            runtime.block_on(async move {
                let Ok(mut admin) = PgConnection::connect(&server_url).await else { return false };
                let dropped =
                    sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut admin).await;
                let _ = admin.close().await;
                dropped.is_ok()
            })
        });
        let dropped = dropper.join().unwrap_or(false);
        if !dropped && !std::thread::panicking() {
            panic!("could not drop test database {}", self.name);
        }
    }
}
