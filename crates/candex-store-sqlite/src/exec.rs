//! How the shared statements of `candex_store::sql` run here: parameters bound in SQLite's
//! forms, statements on the reader or writer pool or in a write transaction, and
//! [`SqlBackend`] for [`SqliteStore`], which gives this backend every area whose SQL is
//! shared.
//!
//! The PostgreSQL backend's `exec.rs` has the same shape over its own driver types. Writing
//! it once, generic over `sqlx::Database`, would need a bound per parameter type and
//! executor on every function, for a few lines saved; the two files stay separate.

use std::future::Future;

use candex_store::sql::{Exec, Outbox, Param, SqlBackend, Stmt, Transaction};
use candex_store::{StoreError, StoreResult};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Sqlite, SqlitePool};

use crate::codec::{to_json, Db};
use crate::error::map_err;
use crate::SqliteStore;

/// A statement with its parameters bound; a list binds as a JSON array for `json_each`.
fn query<'q>(sql: &'q str, params: Vec<Param<'q>>) -> StoreResult<Query<'q, Sqlite, SqliteArguments<'q>>> {
    let mut query = sqlx::query(sql);
    for param in params {
        query = match param {
            Param::Str(v) => query.bind(v),
            Param::String(v) => query.bind(v),
            Param::OptStr(v) => query.bind(v),
            Param::OptString(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
            Param::OptInt(v) => query.bind(v),
            Param::Bool(v) => query.bind(v),
            Param::OptBool(v) => query.bind(v),
            Param::Bytes(v) => query.bind(v),
            Param::Strs(v) => query.bind(to_json(&v)?),
        };
    }
    Ok(query)
}

/// One of the two pools; each statement runs on its own.
#[derive(Clone, Copy)]
pub struct Pool<'p>(&'p SqlitePool);

/// A write transaction on the writer, begun with `begin immediate`.
pub struct Tx(sqlx::Transaction<'static, Sqlite>);

impl<'p> Pool<'p> {
    fn conn(&mut self) -> &'p SqlitePool {
        self.0
    }
}

impl Tx {
    fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.0
    }
}

/// `Exec` for a type with a `conn()` that sqlx can run statements on.
macro_rules! exec_on_conn {
    ($ty:ty) => {
        impl Exec for $ty {
            type Row = SqliteRow;

            fn fetch_all<'a>(
                &'a mut self,
                stmt: Stmt<'a>,
            ) -> impl Future<Output = StoreResult<Vec<SqliteRow>>> + Send + 'a {
                async move {
                    let (sql, params) = stmt.into_parts();
                    query(&sql, params)?.fetch_all(self.conn()).await.map_err(map_err)
                }
            }

            fn fetch_optional<'a>(
                &'a mut self,
                stmt: Stmt<'a>,
            ) -> impl Future<Output = StoreResult<Option<SqliteRow>>> + Send + 'a {
                async move {
                    let (sql, params) = stmt.into_parts();
                    query(&sql, params)?.fetch_optional(self.conn()).await.map_err(map_err)
                }
            }

            fn execute<'a>(&'a mut self, stmt: Stmt<'a>) -> impl Future<Output = StoreResult<u64>> + Send + 'a {
                async move {
                    let (sql, params) = stmt.into_parts();
                    Ok(query(&sql, params)?.execute(self.conn()).await.map_err(map_err)?.rows_affected())
                }
            }
        }
    };
}

exec_on_conn!(Pool<'_>);
exec_on_conn!(Tx);

impl Transaction for Tx {
    async fn commit(self) -> StoreResult<()> {
        self.0.commit().await.map_err(map_err)
    }
}

impl SqlBackend for SqliteStore {
    type Db = Db;
    type Pool<'p> = Pool<'p>;
    type Tx = Tx;
    type PointDb = crate::point::PointDb;
    type PointReader<'p> = crate::point::PointPool<'p>;

    const NAME: &'static str = "sqlite";

    const BINARY: &'static str = "";

    fn list(param: &str) -> String {
        format!("select value from json_each({param})")
    }

    fn join_commas(column: &str) -> String {
        format!("group_concat({column})")
    }

    fn contains(haystack: &str, needle: &str) -> String {
        format!("instr({haystack}, {needle}) > 0")
    }

    fn reader(&self) -> Pool<'_> {
        Pool(&self.reader)
    }

    fn writer(&self) -> Pool<'_> {
        Pool(&self.writer)
    }

    fn point_reader(&self) -> crate::point::PointPool<'_> {
        crate::point::PointPool(&self.point)
    }

    fn pool_stats(&self) -> Vec<candex_store::PoolStats> {
        let stats = |pool: &'static str, p: &sqlx::SqlitePool| {
            let open = p.size();
            let idle = u32::try_from(p.num_idle()).unwrap_or(u32::MAX).min(open);
            candex_store::PoolStats { pool, open, idle, max: p.options().get_max_connections() }
        };
        vec![stats("reader", &self.reader), stats("writer", &self.writer)]
    }

    fn emit<'a>(tx: &'a mut Tx, event: Outbox<'a>) -> impl Future<Output = StoreResult<i64>> + Send + 'a {
        crate::events::emit(&mut tx.0, event)
    }

    /// `begin immediate` takes the write lock up front, so checks made inside cannot be
    /// invalidated by another process before the writes (SQLite would answer SQLITE_BUSY on
    /// the upgrade instead of waiting).
    async fn begin(&self) -> StoreResult<Tx> {
        Ok(Tx(self.writer.begin_with("begin immediate").await.map_err(map_err)?))
    }

    /// The writer runs with `secure_delete`, so the pages an erasure wrote hold zeros where
    /// the values were; but until a checkpoint the database file keeps the old pages, and the
    /// WAL keeps every page image it was given. A `truncate` checkpoint copies the new pages
    /// into the file and empties the WAL, waiting (busy timeout) for readers of older snapshots.
    async fn scrub(&self) -> StoreResult<()> {
        let (busy, _, _): (i64, i64, i64) =
            sqlx::query_as("pragma wal_checkpoint(truncate)").fetch_one(&self.writer).await.map_err(map_err)?;
        if busy == 0 {
            Ok(())
        } else {
            Err(StoreError::Unavailable("the database is busy: its write-ahead log could not be emptied; retry".into()))
        }
    }

    async fn compact(&self) -> StoreResult<()> {
        sqlx::query("vacuum").execute(&self.writer).await.map_err(map_err)?;
        self.scrub().await
    }
}
