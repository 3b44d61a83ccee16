//! How the shared statements of `candex_store::sql` run here: parameters bound in
//! PostgreSQL's forms, statements on the pool or in a transaction, the advisory locks of
//! `locks.rs` behind [`Lock`], and [`SqlBackend`] for [`PgStore`], which gives this backend
//! every area whose SQL is shared.
//!
//! The SQLite backend's `exec.rs` has the same shape over its own driver types. Writing it
//! once, generic over `sqlx::Database`, would need a bound per parameter type and executor on
//! every function, for a few lines saved; the two files stay separate.

use std::future::Future;

use candex_store::sql::{Exec, Lock, Outbox, Param, SqlBackend, Stmt, Transaction};
use candex_store::StoreResult;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};

use crate::codec::Db;
use crate::error::map_err;
use crate::locks;
use crate::PgStore;

/// A statement with its parameters bound; a list binds as a `text[]` for `= any($n)`.
fn query<'q>(sql: &'q str, params: Vec<Param<'q>>) -> StoreResult<Query<'q, Postgres, PgArguments>> {
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
            Param::Strs(v) => query.bind(v),
        };
    }
    Ok(query)
}

/// The pool; each statement runs on its own.
#[derive(Clone, Copy)]
pub struct Pool<'p>(&'p PgPool);

/// A transaction.
pub struct Tx(sqlx::Transaction<'static, Postgres>);

impl<'p> Pool<'p> {
    fn conn(&mut self) -> &'p PgPool {
        self.0
    }
}

impl Tx {
    fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.0
    }
}

/// `Exec` for a type with a `conn()` that sqlx can run statements on.
macro_rules! exec_on_conn {
    ($ty:ty) => {
        impl Exec for $ty {
            type Row = PgRow;

            fn fetch_all<'a>(
                &'a mut self,
                stmt: Stmt<'a>,
            ) -> impl Future<Output = StoreResult<Vec<PgRow>>> + Send + 'a {
                async move {
                    let (sql, params) = stmt.into_parts();
                    query(&sql, params)?.fetch_all(self.conn()).await.map_err(map_err)
                }
            }

            fn fetch_optional<'a>(
                &'a mut self,
                stmt: Stmt<'a>,
            ) -> impl Future<Output = StoreResult<Option<PgRow>>> + Send + 'a {
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

    fn lock(&mut self, lock: Lock) -> impl Future<Output = StoreResult<()>> + Send {
        let key = match lock {
            Lock::EventOrder => locks::EVENT_ORDER,
            Lock::SigningKeys => locks::SIGNING_KEYS,
            Lock::Blobs => locks::BLOBS,
        };
        locks::lock(&mut self.0, key)
    }
}

impl SqlBackend for PgStore {
    type Db = Db;
    type Pool<'p> = Pool<'p>;
    type Tx = Tx;
    type PointDb = Db;
    type PointReader<'p> = Pool<'p>;

    const NAME: &'static str = "postgres";

    const BINARY: &'static str = r#" collate "C""#;

    fn list(param: &str) -> String {
        format!("select unnest({param}::text[]) as value")
    }

    fn join_commas(column: &str) -> String {
        format!("string_agg({column}, ',')")
    }

    fn contains(haystack: &str, needle: &str) -> String {
        format!("strpos({haystack}, {needle}) > 0")
    }

    fn reader(&self) -> Pool<'_> {
        Pool(&self.pool)
    }

    fn writer(&self) -> Pool<'_> {
        Pool(&self.pool)
    }

    /// The pool: sqlx's PostgreSQL driver runs on the calling task, with no hand-off to a
    /// thread per connection.
    fn point_reader(&self) -> Pool<'_> {
        Pool(&self.pool)
    }

    fn pool_stats(&self) -> Vec<candex_store::PoolStats> {
        let open = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX).min(open);
        vec![candex_store::PoolStats { pool: "main", open, idle, max: self.pool.options().get_max_connections() }]
    }

    fn emit<'a>(tx: &'a mut Tx, event: Outbox<'a>) -> impl Future<Output = StoreResult<i64>> + Send + 'a {
        crate::events::emit(&mut tx.0, event)
    }

    async fn begin(&self) -> StoreResult<Tx> {
        Ok(Tx(self.pool.begin().await.map_err(map_err)?))
    }

    /// Nothing cheap reaches PostgreSQL's files: the old row versions stay in the table files
    /// until `VACUUM FULL` rewrites them ([`compact`](SqlBackend::compact)), and in the WAL
    /// until its segments are recycled (see "Data protection" in `docs/operators.md`).
    async fn scrub(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn compact(&self) -> StoreResult<()> {
        for table in candex_store::sql::PERSONAL_DATA_TABLES {
            sqlx::query(&format!("vacuum full {table}")).execute(&self.pool).await.map_err(map_err)?;
        }
        Ok(())
    }
}
