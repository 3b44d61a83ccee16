//! Point reads on the calling thread: [`PointReaders`], a few rusqlite connections to the
//! database file, which run the request path's primary-key reads
//! ([`SqlBackend::point_reader`](candex_store::sql::SqlBackend::point_reader)) synchronously
//! instead of through sqlx.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement is a message to
//! that thread and its rows come back over a channel, so on a busy core one `candidateProfile`
//! read cost about 150 µs of context switches around a read that takes a few µs from SQLite's
//! page cache. A point read touches a handful of pages, so running it where the request runs
//! (as better-sqlite3 does in Node) costs less than the hand-off; a read that had to wait for
//! the disk would hold the runtime thread as long, which a point read's few pages bound.
//! Reads that scan (pages of events, lists) stay on sqlx's reader pool.
//!
//! Each connection runs `query_only`, with a shorter busy timeout than the pools (it waits on
//! a runtime thread); in WAL mode a read never waits for the writer. Rows come back as [`PointRow`]s (owned values, named
//! columns), decoded by the shared row mappers through [`PointDb`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use candex_store::rows::Columns;
use candex_store::sql::{Exec, Param, Stmt};
use candex_store::{StoreError, StoreResult};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::codec::to_json;

/// How long a point read waits for a lock before failing with `Unavailable`. A read in WAL
/// mode waits only in rare moments (another process recovering the WAL, a truncating
/// checkpoint's last step), but it waits on a runtime thread, so for at most this long rather
/// than the pools' [`crate::BUSY_TIMEOUT`].
const POINT_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Idle connections kept for reuse. A point read never awaits while it holds a connection, so
/// at most one is in use per thread running reads; more than this are opened when needed and
/// closed after use.
const MAX_IDLE: usize = 8;

/// Page cache per point connection, in KiB (SQLite's default is 2 MiB): the pages of the
/// profile, candidate, job ad and relationship indexes a server reads over and over, so most
/// point reads copy nothing from the operating system. Bounded: at most [`MAX_IDLE`]
/// connections are kept.
const PAGE_CACHE_KIB: i64 = 16 * 1024;

/// Statements kept prepared per connection (rusqlite's cache, by SQL text): the request path
/// runs a handful of distinct point reads.
const PREPARED_PER_CONNECTION: usize = 32;

/// Statements whose column names are kept ([`PointReaders::names`]): the request path runs a
/// handful of constant statements.
const NAMED_STATEMENTS: usize = 64;

/// The connections for point reads of one database file.
pub struct PointReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Column names by statement text, shared by every row of every run of the statement.
    names: Mutex<HashMap<Box<str>, ColumnNames>>,
}

/// The column names of a statement, shared by its rows.
type ColumnNames = Arc<[Box<str>]>;

impl std::fmt::Debug for PointReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PointReaders").field("path", &self.path).finish_non_exhaustive()
    }
}

impl PointReaders {
    /// Point readers of the database file at `path`, opening one connection now so that a
    /// file that cannot be read fails at start-up rather than on the first request.
    pub fn open(path: PathBuf) -> StoreResult<Self> {
        let readers = Self { path, idle: Mutex::new(Vec::new()), names: Mutex::default() };
        let first = readers.connect()?;
        readers.lock().push(first);
        Ok(readers)
    }

    fn connect(&self) -> StoreResult<Connection> {
        // No CREATE: the writer created the file and its schema before readers open.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(map_err)?;
        conn.busy_timeout(POINT_BUSY_TIMEOUT).map_err(map_err)?;
        conn.pragma_update(None, "query_only", "ON").map_err(map_err)?;
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB).map_err(map_err)?;
        conn.set_prepared_statement_cache_capacity(PREPARED_PER_CONNECTION);
        Ok(conn)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `read` on an idle connection (or a new one), then keeps the connection for reuse
    /// unless enough are idle already.
    fn with_connection<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let taken = self.lock().pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = read(&conn);
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }

    /// The column names of `prepared` (statement text `sql`), built once per statement.
    fn names(&self, sql: &str, prepared: &rusqlite::Statement<'_>) -> ColumnNames {
        let mut names = self.names.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = names.get(sql) {
            return Arc::clone(known);
        }
        let built: ColumnNames = prepared.column_names().into_iter().map(Box::from).collect();
        if names.len() < NAMED_STATEMENTS {
            names.insert(sql.into(), Arc::clone(&built));
        }
        built
    }

    /// Every row of `stmt`.
    fn rows(&self, stmt: Stmt<'_>, limit: Option<usize>) -> StoreResult<Vec<PointRow>> {
        let (sql, params) = stmt.into_parts();
        // As sqlx logs each statement (target `sqlx::query`), so statement counts see both.
        tracing::debug!(db.statement = &*sql, "point read");
        self.with_connection(|conn| {
            let mut prepared = conn.prepare_cached(&sql).map_err(map_err)?;
            // SQLite numbers `$n` parameters in order of first appearance (a statement may name
            // `$2` before `$1`); bind each slot the value its name gives, as sqlx does.
            for slot in 1..=prepared.parameter_count() {
                let name = prepared.parameter_name(slot).unwrap_or_default();
                let param = name
                    .strip_prefix('$')
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| params.get(n.checked_sub(1)?))
                    .ok_or_else(|| StoreError::Other(format!("no value for parameter {name:?} of: {sql}").into()))?;
                bind(&mut prepared, slot, param)?;
            }
            let names = self.names(&sql, &prepared);
            let width = names.len();
            let mut rows = prepared.raw_query();
            let mut out = Vec::new();
            while limit.is_none_or(|n| out.len() < n) {
                let Some(row) = rows.next().map_err(map_err)? else { break };
                let mut point =
                    PointRow { names: Arc::clone(&names), cells: Vec::with_capacity(width), text: String::new() };
                for i in 0..width {
                    let cell = match row.get_ref(i).map_err(map_err)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(v) => Cell::Integer(v),
                        ValueRef::Real(_) => Cell::Real,
                        ValueRef::Text(bytes) => {
                            let text = std::str::from_utf8(bytes).map_err(|e| {
                                candex_store::rows::corrupt("column", format!("{} is not UTF-8: {e}", names[i]))
                            })?;
                            let start = point.text.len();
                            point.text.push_str(text);
                            Cell::Text(start..point.text.len())
                        }
                        ValueRef::Blob(bytes) => Cell::Blob(bytes.to_vec()),
                    };
                    point.cells.push(cell);
                }
                out.push(point);
            }
            Ok(out)
        })
    }
}

/// Binds parameter `index` (1-based) in the forms sqlx's SQLite driver binds them: booleans as
/// integers, lists as a JSON array for `json_each`.
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, index: usize, param: &Param<'_>) -> StoreResult<()> {
    let bound = match param {
        Param::Str(v) => stmt.raw_bind_parameter(index, v),
        Param::String(v) => stmt.raw_bind_parameter(index, v),
        Param::OptStr(v) => stmt.raw_bind_parameter(index, v),
        Param::OptString(v) => stmt.raw_bind_parameter(index, v),
        Param::Int(v) => stmt.raw_bind_parameter(index, v),
        Param::OptInt(v) => stmt.raw_bind_parameter(index, v),
        Param::Bool(v) => stmt.raw_bind_parameter(index, i64::from(*v)),
        Param::OptBool(v) => stmt.raw_bind_parameter(index, v.map(i64::from)),
        Param::Bytes(v) => stmt.raw_bind_parameter(index, v),
        Param::Strs(v) => stmt.raw_bind_parameter(index, to_json(v)?),
    };
    bound.map_err(map_err)
}

/// A point reader handle: [`Exec`] for reads only.
#[derive(Clone, Copy)]
pub struct PointPool<'p>(pub(crate) &'p PointReaders);

impl Exec for PointPool<'_> {
    type Row = PointRow;

    async fn fetch_all<'a>(&'a mut self, stmt: Stmt<'a>) -> StoreResult<Vec<PointRow>> {
        self.0.rows(stmt, None)
    }

    async fn fetch_optional<'a>(&'a mut self, stmt: Stmt<'a>) -> StoreResult<Option<PointRow>> {
        Ok(self.0.rows(stmt, Some(1))?.pop())
    }

    /// Point readers only read: a write through one is a bug, refused without running.
    async fn execute<'a>(&'a mut self, stmt: Stmt<'a>) -> StoreResult<u64> {
        let (sql, _) = stmt.into_parts();
        Err(StoreError::Other(format!("a point reader does not write: {sql}").into()))
    }
}

/// One row of a point read: its values by column, with the statement's column names. Text
/// values share one buffer, so a row costs a few allocations however many columns it has.
#[derive(Debug)]
pub struct PointRow {
    names: ColumnNames,
    cells: Vec<Cell>,
    text: String,
}

/// One value of a [`PointRow`]; text as a range of the row's buffer.
#[derive(Debug)]
enum Cell {
    Null,
    Integer(i64),
    Real,
    Text(std::ops::Range<usize>),
    Blob(Vec<u8>),
}

impl Cell {
    fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "null",
            Cell::Integer(_) => "integer",
            Cell::Real => "real",
            Cell::Text(_) => "text",
            Cell::Blob(_) => "blob",
        }
    }
}

impl PointRow {
    fn get(&self, column: &str) -> StoreResult<&Cell> {
        self.names
            .iter()
            .position(|name| &**name == column)
            .map(|i| &self.cells[i])
            .ok_or_else(|| candex_store::rows::corrupt("column", format!("no column {column:?} in the point read")))
    }

    fn text_of(&self, range: &std::ops::Range<usize>) -> String {
        self.text[range.clone()].to_owned()
    }
}

/// A column that holds another type than the mapper reads: a bug or a hand-edited database.
fn mismatch(column: &str, expected: &str, found: &Cell) -> StoreError {
    candex_store::rows::corrupt("column", format!("{column} is {}, expected {expected}", found.kind()))
}

/// The rows of point reads, as the [`Columns`] of the shared row mappers.
pub enum PointDb {}

impl Columns for PointDb {
    type Row = PointRow;

    fn text(row: &PointRow, column: &str) -> StoreResult<String> {
        match row.get(column)? {
            Cell::Text(range) => Ok(row.text_of(range)),
            other => Err(mismatch(column, "text", other)),
        }
    }

    fn opt_text(row: &PointRow, column: &str) -> StoreResult<Option<String>> {
        match row.get(column)? {
            Cell::Null => Ok(None),
            Cell::Text(range) => Ok(Some(row.text_of(range))),
            other => Err(mismatch(column, "text", other)),
        }
    }

    fn int(row: &PointRow, column: &str) -> StoreResult<i64> {
        match row.get(column)? {
            Cell::Integer(v) => Ok(*v),
            other => Err(mismatch(column, "integer", other)),
        }
    }

    fn opt_int(row: &PointRow, column: &str) -> StoreResult<Option<i64>> {
        match row.get(column)? {
            Cell::Null => Ok(None),
            Cell::Integer(v) => Ok(Some(*v)),
            other => Err(mismatch(column, "integer", other)),
        }
    }

    /// Stored as an integer, true when not zero (as [`crate::codec::Db`] reads it).
    fn opt_bool(row: &PointRow, column: &str) -> StoreResult<Option<bool>> {
        Ok(Self::opt_int(row, column)?.map(|v| v != 0))
    }

    fn bytes(row: &PointRow, column: &str) -> StoreResult<Vec<u8>> {
        match row.get(column)? {
            Cell::Blob(v) => Ok(v.clone()),
            other => Err(mismatch(column, "blob", other)),
        }
    }
}

/// Primary result codes that mean the database cannot be used right now (as
/// `crate::error::map_err` reads sqlx's): BUSY, LOCKED, IOERR, FULL, CANTOPEN.
fn map_err(err: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    match err.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked | SystemIoFailure | DiskFull | CannotOpen) => {
            StoreError::Unavailable(Box::new(err))
        }
        _ => StoreError::Other(Box::new(err)),
    }
}

#[cfg(test)]
mod tests {
    use candex_store::rows::StoredRow;
    use candex_store::stmt;

    use super::*;

    /// A database file with one table, and point readers on it.
    fn readers() -> (tempfile::TempDir, PointReaders) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("point.db");
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(
            "pragma journal_mode = wal;
             create table t (a text not null, b integer, c blob, d text);
             insert into t values ('one', 1, x'01', null), ('two', 2, x'02', 'x');",
        )
        .expect("schema");
        (dir, PointReaders::open(path).expect("open"))
    }

    #[tokio::test]
    async fn parameters_bind_by_their_number_whatever_order_the_statement_names_them() {
        let (_dir, readers) = readers();
        let mut pool = PointPool(&readers);
        // `$2` appears first: SQLite numbers it slot 1, but it must get the second value.
        let row = pool
            .fetch_optional(stmt!("select a from t where b = $2 and a = $1", "two", 2_i64))
            .await
            .expect("read")
            .expect("a row");
        assert_eq!(StoredRow::<PointDb>::new(&row).text("a").unwrap(), "two");
        // One parameter named twice is one value.
        let rows = pool.fetch_all(stmt!("select a from t where a = $1 or d = $1", "x")).await.expect("read");
        assert_eq!(rows.len(), 1);
        // Lists bind as JSON arrays, as on the sqlx pools.
        let rows = pool
            .fetch_all(stmt!(
                "select a from t where a in (select value from json_each($1)) order by a",
                vec!["one", "two"]
            ))
            .await
            .expect("read");
        assert_eq!(rows.len(), 2);
    }

    #[tokio::test]
    async fn columns_decode_as_the_shared_mappers_read_them() {
        let (_dir, readers) = readers();
        let mut pool = PointPool(&readers);
        let row = pool.fetch_optional(stmt!("select * from t where a = $1", "one")).await.unwrap().unwrap();
        let cols = StoredRow::<PointDb>::new(&row);
        assert_eq!(cols.int("b").unwrap(), 1);
        assert_eq!(cols.opt_bool("b").unwrap(), Some(true));
        assert_eq!(cols.bytes("c").unwrap(), vec![1]);
        assert_eq!(cols.opt_text("d").unwrap(), None);
        // A mismatch or an unknown column is an error naming the column, never a panic.
        let chain = |e: StoreError| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        };
        assert!(chain(cols.text("b").unwrap_err()).contains("b is integer, expected text"));
        assert!(chain(cols.int("nope").unwrap_err()).contains("no column \"nope\""));
        // No row is `None`.
        assert!(pool.fetch_optional(stmt!("select * from t where a = $1", "three")).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn point_readers_never_write() {
        let (_dir, readers) = readers();
        let mut pool = PointPool(&readers);
        assert!(pool.execute(stmt!("delete from t")).await.is_err());
        // Even a write smuggled into a read runs on a `query_only` connection.
        assert!(pool.fetch_all(stmt!("delete from t returning a")).await.is_err());
        assert_eq!(pool.fetch_all(stmt!("select a from t")).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn connections_are_reused_and_at_most_max_idle_kept() {
        let (_dir, readers) = readers();
        for _ in 0..3 {
            PointPool(&readers).fetch_all(stmt!("select a from t")).await.unwrap();
        }
        assert_eq!(readers.lock().len(), 1, "reads one after the other reuse one connection");
        // Reads in progress at once (nested here) each hold a connection of their own; once
        // they are done, at most MAX_IDLE stay open.
        fn nested(readers: &PointReaders, depth: usize) -> StoreResult<usize> {
            readers.with_connection(|_| if depth == 0 { Ok(readers.lock().len()) } else { nested(readers, depth - 1) })
        }
        assert_eq!(nested(&readers, MAX_IDLE + 2).unwrap(), 0, "every idle connection was taken");
        assert_eq!(readers.lock().len(), MAX_IDLE);
    }
}
