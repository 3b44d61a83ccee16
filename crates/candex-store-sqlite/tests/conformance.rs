//! The storage conformance kit on SQLite, one fresh database file per story, plus what only
//! SQLite has: connection pragmas, reopening a file, and refusing a newer schema.

use candex_store::PartyStore;
use candex_store::{testkit, Store, StoreError};
use candex_store_sqlite::SqliteStore;
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use tempfile::TempDir;

/// A store on a new file in its own temporary directory, removed on drop.
struct TestDb {
    store: SqliteStore,
    url: String,
    _dir: TempDir,
}

impl TestDb {
    async fn new() -> TestDb {
        let dir = TempDir::new().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("candex.db").display());
        let store = SqliteStore::connect(&url).await.expect("connect");
        TestDb { store, url, _dir: dir }
    }
}

impl TestDb {
    /// A fresh store for each conformance test.
    async fn fresh() -> Option<TestDb> {
        Some(TestDb::new().await)
    }
}

impl testkit::FreshStore for TestDb {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

candex_store::conformance_tests!(TestDb::fresh);

async fn pragma(pool: &SqlitePool, name: &str) -> String {
    let row = sqlx::query(&format!("pragma {name}")).fetch_one(pool).await.expect("pragma");
    row.try_get::<String, _>(0).or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string())).expect("value")
}

#[tokio::test]
async fn every_connection_runs_with_wal_full_sync_and_foreign_keys() {
    let db = TestDb::new().await;
    assert_eq!(db.store.backend(), "sqlite");
    for pool in [db.store.writer_pool(), db.store.reader_pool()] {
        assert_eq!(pragma(pool, "journal_mode").await, "wal");
        assert_eq!(pragma(pool, "synchronous").await, "2", "FULL");
        assert_eq!(pragma(pool, "foreign_keys").await, "1");
        assert_eq!(pragma(pool, "busy_timeout").await, "5000");
    }
    assert_eq!(db.store.writer_pool().options().get_max_connections(), 1, "one writer");
    assert_eq!(pragma(db.store.reader_pool(), "query_only").await, "1", "readers cannot write");
}

#[tokio::test]
async fn reopening_a_file_keeps_its_data() {
    let db = TestDb::new().await;
    let h = testkit::hirer(&db.store, "Kept Pty Ltd").await;
    db.store.close().await;

    let reopened = SqliteStore::connect(&db.url).await.expect("reopen");
    assert_eq!(reopened.get_hirer(&h.id).await.expect("get"), Some(h));
    testkit::positions_lifecycle(&reopened).await;
}

#[tokio::test]
async fn short_urls_and_missing_files_are_accepted() {
    let dir = TempDir::new().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("short.db").display());
    let store = SqliteStore::connect(&url).await.expect("connect");
    store.ping().await.expect("ping");
    assert!(dir.path().join("short.db").exists(), "the file is created");
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_candex_is_refused() {
    let db = TestDb::new().await;
    db.store.close().await;
    let mut conn = SqliteConnection::connect(&db.url).await.expect("raw connection");
    sqlx::query(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time)
         values (99990101000000, 'from the future', true, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert future migration");
    conn.close().await.expect("close");

    // Each backend plants the future migration its own way; the refusal is the same
    // (`candex_store::driver::migrate_err`).
    match SqliteStore::connect(&db.url).await {
        Err(StoreError::Other(source)) => {
            let message = source.to_string();
            assert!(message.contains("database was migrated by a newer candex"), "{message}");
            assert!(message.contains("99990101000000"), "{message}");
            assert!(message.contains("upgrade candex"), "{message}");
        }
        Err(other) => panic!("expected Other, got {other:?}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[tokio::test]
async fn a_missing_directory_is_unavailable() {
    let dir = TempDir::new().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("no/such/dir/candex.db").display());
    let result = SqliteStore::connect(&url).await;
    assert!(matches!(result, Err(StoreError::Unavailable(_))), "{result:?}");
}

#[tokio::test]
async fn profile_views_share_one_candidate_and_position() {
    let db = TestDb::new().await;
    let store: &dyn Store = &db.store;
    let h = testkit::hirer(store, "Sharing Co").await;
    let p = testkit::open_position(store, &h.id, "Host").await;
    let apps: Vec<_> = (0..3)
        .map(|i| testkit::application(&p, testkit::person("Sam Share", "sam@example.com"), testkit::t(i)))
        .collect();
    let done = store.ingest_applications(&apps).await.expect("ingest");
    let views = store.candidate_profiles(&done[0].candidate_id, 10).await.expect("profiles");
    assert_eq!(views.len(), 3);
    assert!(std::sync::Arc::ptr_eq(&views[0].candidate, &views[2].candidate));
    assert!(std::sync::Arc::ptr_eq(&views[0].position, &views[1].position));
}

/// Migration 0006 widens the event type check by editing the schema (SQLite cannot alter a
/// check): on a database holding events, streams and deliveries, every row stays, the file
/// passes `integrity_check`, `CandidateErased` is accepted, and unknown codes are still
/// refused by the same named constraint.
#[tokio::test]
async fn migration_0006_widens_the_event_check_and_keeps_every_row() {
    let dir = TempDir::new().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let mut conn = SqliteConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql("pragma foreign_keys = on").execute(&mut conn).await.expect("fk");
    for sql in [
        include_str!("../migrations/0001_init.sql"),
        include_str!("../migrations/0002_questionnaires.sql"),
        include_str!("../migrations/0003_attachments.sql"),
        include_str!("../migrations/0004_events.sql"),
    ] {
        sqlx::raw_sql(sql).execute(&mut conn).await.expect("older migration");
    }
    sqlx::raw_sql(
        "insert into partners values ('p', 'P', 'c', 'h', 0);
         insert into events (id, type_code, hirer_id, created_at, candidate_id)
           values ('e1', 'CandidateApplicationCreated', 'h', 1, 'c1'), ('e2', 'PositionProfilePosted', 'h', 2, null);
         insert into event_streams values ('p', 1), ('p', 2);",
    )
    .execute(&mut conn)
    .await
    .expect("rows");
    // As sqlx applies it: inside a transaction, foreign keys on.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::raw_sql(include_str!("../migrations/0006_erasure_events.sql")).execute(&mut *tx).await.expect("0006");
    tx.commit().await.expect("commit");

    let check: String = sqlx::query_scalar("pragma integrity_check").fetch_one(&mut conn).await.expect("check");
    assert_eq!(check, "ok");
    let streams: i64 = sqlx::query_scalar("select count(*) from event_streams").fetch_one(&mut conn).await.expect("n");
    assert_eq!(streams, 2, "no stream row cascaded away");
    sqlx::query("insert into events (id, type_code, hirer_id, created_at) values ('e3', 'CandidateErased', 'h', 3)")
        .execute(&mut conn)
        .await
        .expect("the new type is accepted");
    let refused =
        sqlx::query("insert into events (id, type_code, hirer_id, created_at) values ('e4', 'Bogus', 'h', 4)")
            .execute(&mut conn)
            .await
            .expect_err("unknown codes are still refused");
    assert!(refused.to_string().contains("events_type_code_check"), "{refused}");
    let seq: i64 =
        sqlx::query_scalar("select seq from events where id = 'e3'").fetch_one(&mut conn).await.expect("seq");
    assert_eq!(seq, 3, "the sequence goes on");
    let index: i64 = sqlx::query_scalar("select count(*) from sqlite_schema where name = 'events_candidate_idx'")
        .fetch_one(&mut conn)
        .await
        .expect("index");
    assert_eq!(index, 1);
}
