//! SQLite connections for the catalog: a small per-process pool keyed by DB
//! path. Opening is what costs (file opens, WAL index mapping, schema check),
//! so connections are kept and handed out again; statements stay prepared in
//! each connection's cache.
//!
//! Fork rules: the pool may be created before the host forks its children
//! (it opens nothing in `new`), and is used only after. SQLite connections
//! must never cross a fork, so each child calls `clear()` first thing, and a
//! connection opened by another process is never handed out.

use parking_lot::{Mutex, MutexGuard};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, Row, ToSql, TransactionBehavior};

use super::error::StoreError;
use super::timestamp::Timestamp;

/// Several Apache children write the same DB; a writer waits this long for
/// the lock before giving up with SQLITE_BUSY.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections kept per DB path, and in total per process: each holds
/// three descriptors (db, wal, shm) and its page cache.
const MAX_IDLE_PER_PATH: usize = 8;
const MAX_IDLE_TOTAL: usize = 64;
/// Page cache per connection, in KiB (negative = KiB for SQLite). The OS page
/// cache holds the rest; idle connections should stay small.
const CACHE_KIB: i64 = 1024;
/// Enough for every listing query variant plus the write statements.
const STATEMENT_CACHE: usize = 48;

/// The schema of one kind of DB: applied in one transaction when the file's
/// `PRAGMA user_version` is 0, and checked on every open. A file of an
/// older version is brought up to date in one transaction by its
/// migrations, under the write lock (whichever process opens it first).
#[derive(Debug)]
pub struct Schema {
    /// Names the kind of DB in errors ("container DB").
    pub kind: &'static str,
    pub version: i32,
    /// `CREATE TABLE IF NOT EXISTS ...` statements (run with execute_batch).
    pub sql: &'static str,
    /// `migrations[i]` takes a file from version `i + 1` to `i + 2`; there
    /// are `version - 1` of them.
    pub migrations: &'static [&'static str],
}

/// A failure inside a DB operation, before it gets its context and path.
/// Lets operation code use `?` on both SQLite calls and format checks.
#[derive(Debug)]
pub enum DbFail {
    Sqlite(rusqlite::Error),
    Corrupt(String),
    /// The change breaks a limit (Swift's 400 body); nothing is written.
    MetadataLimit(String),
}

impl From<rusqlite::Error> for DbFail {
    fn from(e: rusqlite::Error) -> Self {
        DbFail::Sqlite(e)
    }
}

impl DbFail {
    pub fn into_store(self, context: &str, path: &Path) -> StoreError {
        match self {
            DbFail::Sqlite(e) => StoreError::db(context, path, e),
            DbFail::Corrupt(detail) => StoreError::corrupt(path, format!("{context}: {detail}")),
            DbFail::MetadataLimit(message) => StoreError::MetadataLimit { message },
        }
    }
}

/// A count, size or timestamp: u64 in Rust, a non-negative i64 in SQLite
/// (rusqlite's own u64 support is behind a feature we do not enable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct U64(pub u64);

impl ToSql for U64 {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        i64::try_from(self.0)
            .map(ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    }
}

impl FromSql for U64 {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let v = i64::column_result(value)?;
        u64::try_from(v)
            .map(U64)
            .map_err(|_| FromSqlError::OutOfRange(v))
    }
}

impl From<Timestamp> for U64 {
    fn from(ts: Timestamp) -> Self {
        U64(ts.units())
    }
}

/// Column `idx` of `row` as u64 (negative on disk is an error).
pub fn col_u64(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    Ok(row.get::<_, U64>(idx)?.0)
}

/// Column `idx` of `row` as a timestamp stored in units.
pub fn col_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    col_u64(row, idx).map(Timestamp::from_units)
}

struct Idle {
    path: PathBuf,
    conn: Connection,
    pid: u32,
}

/// Per-process pool of open connections, most recently used last.
pub struct DbPool {
    idle: Mutex<Vec<Idle>>,
}

impl Default for DbPool {
    fn default() -> Self {
        Self::new()
    }
}

impl DbPool {
    /// Opens nothing: safe to call before fork.
    pub fn new() -> Self {
        DbPool {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Drops every idle connection; each child calls this right after fork.
    /// Connections inherited from the parent are leaked rather than closed:
    /// closing runs SQLite's last-connection checkpoint and WAL cleanup on
    /// the parent's file state, which is what must never happen in a child.
    pub fn clear(&self) {
        let me = std::process::id();
        for idle in self.lock().drain(..) {
            if idle.pid == me {
                drop(idle.conn);
            } else {
                std::mem::forget(idle.conn);
            }
        }
    }

    /// A connection to the DB at `path` with its schema in place. With
    /// `create` false a missing file is `Ok(None)` (nothing is created, so a
    /// request for a container that never existed leaves no trace); with
    /// `create` true the file and its schema are made.
    pub fn get(
        &self,
        path: &Path,
        schema: &Schema,
        create: bool,
    ) -> Result<Option<PooledConn<'_>>, StoreError> {
        if let Some(conn) = self.take_idle(path) {
            return Ok(Some(PooledConn {
                conn: Some(conn),
                pool: self,
                path: path.to_path_buf(),
            }));
        }
        let existed = path.exists();
        if !existed && !create {
            return Ok(None);
        }
        let conn = match open(path, schema, create) {
            Ok(conn) => conn,
            Err(e) => {
                if !existed && e.is_out_of_space() {
                    remove_unfinished(path);
                }
                return Err(e);
            }
        };
        if !existed {
            // The new file's directory entry must survive a crash like its rows.
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
        }
        Ok(Some(PooledConn {
            conn: Some(conn),
            pool: self,
            path: path.to_path_buf(),
        }))
    }

    /// Number of idle connections (for tests and status).
    pub fn idle_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Idle>> {
        // Not poisoned by a panic: the Vec stays intact.
        self.idle.lock()
    }

    fn take_idle(&self, path: &Path) -> Option<Connection> {
        let me = std::process::id();
        let mut idle = self.lock();
        let pos = idle.iter().rposition(|i| i.path == path && i.pid == me)?;
        Some(idle.remove(pos).conn)
    }

    fn give_back(&self, path: PathBuf, conn: Connection) {
        // A connection still inside a transaction (an error path that did not
        // roll back) is closed, never reused.
        if !conn.is_autocommit() {
            return;
        }
        let mut idle = self.lock();
        if idle.iter().filter(|i| i.path == path).count() >= MAX_IDLE_PER_PATH {
            return;
        }
        if idle.len() >= MAX_IDLE_TOTAL {
            idle.remove(0);
        }
        idle.push(Idle {
            path,
            conn,
            pid: std::process::id(),
        });
    }
}

/// A connection borrowed from the pool; goes back on drop.
pub struct PooledConn<'p> {
    conn: Option<Connection>,
    pool: &'p DbPool,
    path: PathBuf,
}

impl PooledConn<'_> {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for PooledConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `drop` takes the connection out.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("connection taken before drop"))
    }
}

impl std::ops::DerefMut for PooledConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("connection taken before drop"))
    }
}

impl Drop for PooledConn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.give_back(std::mem::take(&mut self.path), conn);
        }
    }
}

fn open(path: &Path, schema: &Schema, create: bool) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
        // Owner-only, and so are the -wal and -shm files SQLite derives
        // from it (it would make the file 0644).
        super::perms::precreate(path)
            .map_err(|e| StoreError::io(format!("create {}", schema.kind), path, e))?;
    }
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::db(format!("open {}", schema.kind), path, e))?;
    configure_when_free(&mut conn)
        .map_err(|e| e.into_store(&format!("configure {}", schema.kind), path))?;
    ensure_schema(&mut conn, schema)
        .map_err(|e| e.into_store(&format!("create schema of {}", schema.kind), path))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Switching a new DB to WAL needs a lock that SQLite does not wait for
/// through the busy handler (it answers SQLITE_BUSY at once to avoid a
/// deadlock), so two processes opening a just-created DB together would
/// fail one of them: retry in short sleeps, within BUSY_TIMEOUT.
fn configure_when_free(conn: &mut Connection) -> Result<(), DbFail> {
    const PAUSE: Duration = Duration::from_millis(2);
    let tries = BUSY_TIMEOUT.as_millis() / PAUSE.as_millis();
    let mut attempt = 0;
    loop {
        match configure(conn) {
            Err(DbFail::Sqlite(e))
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && attempt < tries =>
            {
                attempt += 1;
                std::thread::sleep(PAUSE);
            }
            other => return other,
        }
    }
}

/// Waits for another writer in short sleeps, for up to BUSY_TIMEOUT.
/// SQLite's own busy_timeout backs off to 100 ms sleeps, which turns brief
/// lock waits between Apache's processes into latency tails of seconds.
fn busy_wait(attempt: i32) -> bool {
    const FAST_TRIES: u64 = 40;
    const FAST: Duration = Duration::from_micros(250);
    const SLOW: Duration = Duration::from_millis(1);
    let attempt = u64::try_from(attempt).unwrap_or(0);
    let slow_tries = BUSY_TIMEOUT.as_millis() as u64;
    if attempt < FAST_TRIES {
        std::thread::sleep(FAST);
    } else if attempt < FAST_TRIES + slow_tries {
        std::thread::sleep(SLOW);
    } else {
        return false;
    }
    true
}

fn configure(conn: &mut Connection) -> Result<(), DbFail> {
    // First, so that every later statement waits for other writers.
    conn.busy_handler(Some(busy_wait))?;
    // WAL: readers never block the writer, and a commit is one append.
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbFail::Corrupt(format!(
            "journal_mode is {mode}, WAL unavailable"
        )));
    }
    // FULL: a committed listing row survives power loss, like the object file.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    Ok(())
}

fn user_version(conn: &Connection) -> Result<i32, DbFail> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

fn ensure_schema(conn: &mut Connection, schema: &Schema) -> Result<(), DbFail> {
    if user_version(conn)? == schema.version {
        return Ok(());
    }
    // Another process may be creating it right now: take the write lock,
    // then look again.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    match user_version(&tx)? {
        0 => {
            tx.execute_batch(schema.sql)?;
            tx.pragma_update(None, "user_version", schema.version)?;
        }
        v if v == schema.version => {}
        v if v > 0
            && v < schema.version
            && schema.migrations.len() + 1 == schema.version as usize =>
        {
            for sql in &schema.migrations[(v - 1) as usize..] {
                tx.execute_batch(sql)?;
            }
            tx.pragma_update(None, "user_version", schema.version)?;
        }
        v => {
            return Err(DbFail::Corrupt(format!(
                "schema version {v}, this build knows version {}",
                schema.version
            )))
        }
    }
    tx.commit()?;
    Ok(())
}

/// Removes a DB file this call created but could not give its schema (the
/// disk filled up): left behind, it would be an empty DB that every later
/// read must try to initialise. Only for out-of-space failures, so a file
/// another process is busy creating is never taken away for a lesser cause.
fn remove_unfinished(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}

/// Creates `dir` (and missing parents) so that it survives a crash: each
/// directory made is fsync'd into its parent.
pub fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        ensure_dir(parent)?;
    }
    match super::perms::create_dir(dir) {
        Ok(()) => {}
        // Another process made it meanwhile.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(StoreError::io("create directory", dir, e)),
    }
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io("fsync directory", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_SCHEMA: Schema = Schema {
        kind: "test DB",
        version: 1,
        sql: "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER);",
        migrations: &[],
    };

    #[test]
    fn an_older_file_is_migrated_once() {
        const V2: Schema = Schema {
            kind: "test DB",
            version: 2,
            sql: "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER, w INTEGER NOT NULL DEFAULT 7);",
            migrations: &["ALTER TABLE t ADD COLUMN w INTEGER NOT NULL DEFAULT 7;"],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        {
            let pool = DbPool::new();
            let conn = pool.get(&path, &TEST_SCHEMA, true).unwrap().unwrap();
            conn.execute("INSERT INTO t (k, v) VALUES ('a', 1)", [])
                .unwrap();
        }
        for _ in 0..2 {
            let pool = DbPool::new();
            let conn = pool.get(&path, &V2, false).unwrap().unwrap();
            assert_eq!(user_version(&conn).unwrap(), 2);
            let w: i64 = conn
                .query_row("SELECT w FROM t WHERE k = 'a'", [], |r| r.get(0))
                .unwrap();
            assert_eq!(w, 7);
        }
    }

    #[test]
    fn missing_file_without_create_is_none_and_stays_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let pool = DbPool::new();
        assert!(pool.get(&path, &TEST_SCHEMA, false).unwrap().is_none());
        assert!(!path.exists());
    }

    #[test]
    fn opens_with_wal_full_sync_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let pool = DbPool::new();
        let conn = pool.get(&path, &TEST_SCHEMA, true).unwrap().unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        assert_eq!(user_version(&conn).unwrap(), 1);
        conn.execute("INSERT INTO t VALUES ('a', 1)", []).unwrap();
    }

    #[test]
    fn a_new_db_and_its_wal_and_shm_are_owner_only() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        ensure_dir(&sub).unwrap();
        let path = sub.join("x.db");
        let pool = DbPool::new();
        let conn = pool.get(&path, &TEST_SCHEMA, true).unwrap().unwrap();
        conn.execute("INSERT INTO t VALUES ('a', 1)", []).unwrap();
        for p in [dir.path().join("a"), sub.clone()] {
            assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o700, "{p:?}");
        }
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", path.display()));
            assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600, "{p:?}");
        }
    }

    #[test]
    fn connections_are_reused_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let pool = DbPool::new();
        drop(pool.get(&path, &TEST_SCHEMA, true).unwrap());
        assert_eq!(pool.idle_count(), 1);
        let held: Vec<_> = (0..MAX_IDLE_PER_PATH + 3)
            .map(|_| pool.get(&path, &TEST_SCHEMA, false).unwrap().unwrap())
            .collect();
        assert_eq!(pool.idle_count(), 0);
        drop(held);
        assert_eq!(pool.idle_count(), MAX_IDLE_PER_PATH);
        pool.clear();
        assert_eq!(pool.idle_count(), 0);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", 7).unwrap();
        }
        let pool = DbPool::new();
        let err = pool.get(&path, &TEST_SCHEMA, false).err().unwrap();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn concurrent_first_opens_create_the_schema_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/x.db");
        ensure_dir(path.parent().unwrap()).unwrap();
        let threads: Vec<_> = (0..6)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let pool = DbPool::new();
                    let conn = pool.get(&path, &TEST_SCHEMA, true).unwrap().unwrap();
                    conn.execute("INSERT INTO t VALUES (?1, ?2)", (format!("k{i}"), i))
                        .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let pool = DbPool::new();
        let conn = pool.get(&path, &TEST_SCHEMA, false).unwrap().unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 6);
    }
}
