//! SQLite: an embedded file served through a pool of `query_only` connections in WAL mode.
//!
//! Each connection caches its prepared statements (rusqlite's per-connection LRU), has
//! `foreign_keys` on and a busy timeout, and counts the statements the engine starts through
//! SQLite's trace hook. Reads run on the async worker thread, moved to Tokio's blocking pool
//! when they run long ([`SqliteDatabase::read`]); one connection per request.

mod classify;
mod connection;
mod fts5;
mod introspect;
mod maintenance;
mod mutate;
mod types;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use deadpool::managed::{self, Pool};
use rowbase_catalog::Catalog;
use rowbase_sql::ReadStatement;

use crate::database::{DatabaseOptions, ReadOutput, pool_error};
use crate::error::{DbError, ErrorKind};
use crate::write::{WriteJob, WriteOutput};

pub use classify::classify;
pub use introspect::SCHEMA;
pub use maintenance::SqliteMigrations;
pub use types::data_type_of;

/// Creates connections for the pool.
#[derive(Debug)]
pub struct Manager {
    path: PathBuf,
    read_only: bool,
    statements: Arc<AtomicU64>,
    /// The largest answer a read may build: no value SQLite makes may be longer either.
    max_response_bytes: usize,
}

impl managed::Manager for Manager {
    type Type = rusqlite::Connection;
    type Error = rusqlite::Error;

    async fn create(&self) -> Result<rusqlite::Connection, rusqlite::Error> {
        let conn = connection::open_reader(&self.path, self.read_only, self.statements.clone())?;
        // A page or an embedding SQLite aggregates into one value stops at the limit too, inside
        // SQLite, instead of growing to its 1 GB default ("string or blob too big": 54000).
        let cap = i32::try_from(self.max_response_bytes.saturating_add(1024)).unwrap_or(i32::MAX);
        conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH, cap)?;
        Ok(conn)
    }

    async fn recycle(
        &self,
        _: &mut rusqlite::Connection,
        _: &managed::Metrics,
    ) -> managed::RecycleResult<rusqlite::Error> {
        // An SQLite file cannot go away under an open connection; nothing to check.
        Ok(())
    }
}

/// An open SQLite database.
pub struct SqliteDatabase {
    path: PathBuf,
    pool: Pool<Manager>,
    writer: Option<writer::Writer>,
    read_only: bool,
    catalog: RwLock<Arc<Catalog>>,
    statements: Arc<AtomicU64>,
    /// The longest a read may run before its connection is interrupted.
    statement_timeout: Option<std::time::Duration>,
    /// The largest answer a read may build, in bytes.
    max_response_bytes: usize,
    /// Reads known to run past the inline budget.
    long_running: LongRunning,
}

impl SqliteDatabase {
    /// Opens an existing SQLite file (creating it only with `options.create_sqlite`), switches it
    /// to WAL unless read-only, and reads its catalog.
    ///
    /// Errors: `Unavailable` when the file is missing (and not to be created) or not a database.
    pub async fn open(path: &str, options: &DatabaseOptions) -> Result<SqliteDatabase, DbError> {
        let path = Path::new(path);
        if !path.exists() && options.create_sqlite && !options.read_only {
            rusqlite::Connection::open(path).map_err(|e| classify(&e))?;
        }
        if !path.is_file() {
            return Err(DbError::new(ErrorKind::Unavailable, format!("no SQLite database at {}", path.display())));
        }
        let statements = Arc::new(AtomicU64::new(0));
        let read_only = options.read_only;
        let catalog = read_catalog(path.to_path_buf(), read_only).await?;
        let manager = Manager {
            path: path.to_path_buf(),
            read_only,
            statements: statements.clone(),
            max_response_bytes: options.max_response_bytes,
        };
        let pool = Pool::builder(manager)
            .max_size(options.effective_pool_size())
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::new(ErrorKind::Internal, e.to_string()))?;
        let writer = if read_only {
            None
        } else {
            let conn = connection::open_writer(path, options.synchronous.pragma(), statements.clone())
                .map_err(|e| classify(&e))?;
            Some(writer::Writer::start(conn, options.group_commit)?)
        };
        Ok(SqliteDatabase {
            path: path.to_path_buf(),
            pool,
            writer,
            read_only,
            catalog: RwLock::new(Arc::new(catalog)),
            statements,
            statement_timeout: options.statement_timeout,
            max_response_bytes: options.max_response_bytes,
            long_running: LongRunning::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The catalog, as last read.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Reads the catalog again.
    pub async fn reload(&self) -> Result<(), DbError> {
        let catalog = read_catalog(self.path.clone(), self.read_only).await?;
        *self.catalog.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(catalog);
        Ok(())
    }

    /// SQLite's schema cookie, which changes with every schema change. Read on a short-lived
    /// read-only connection of its own: it takes no pool slot and is not counted among the
    /// statements the pool runs.
    pub async fn fingerprint(&self) -> Result<String, DbError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0)).map(|v| v.to_string())
        })
        .await
        .map_err(|e| DbError::new(ErrorKind::Internal, e.to_string()))?
        .map_err(|e| classify(&e))
    }

    /// Statements started by the engine on the pool's connections.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Runs one read statement on a pooled connection within the statement time limit (the
    /// connection's progress handler).
    ///
    /// A read runs first where the request already is, on the async worker thread, with a work
    /// budget of [`INLINE_BUDGET`]: a short read (most are tens of microseconds) pays no hop to another
    /// thread. A read past the budget is stopped by the same progress handler, its SQL remembered
    /// as long-running, and it runs again on the blocking pool with what is left of the time limit
    /// (reads change nothing, so running one again is safe); a statement already known to run long
    /// goes there directly. There, a read whose request is dropped (the client went away) is
    /// interrupted.
    pub async fn read(&self, read: ReadStatement) -> Result<ReadOutput, DbError> {
        let conn = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
        let (limit, timeout) = (self.max_response_bytes, self.statement_timeout);
        let started = std::time::Instant::now();
        if !self.long_running.contains(&read.statement.sql) {
            let cap = timeout.map_or(INLINE_TIME, |t| t.min(INLINE_TIME));
            let (output, spent) =
                connection::with_budget(INLINE_BUDGET, Some(cap), || connection::run_read(&conn, &read, limit));
            match output {
                Err(e) if e.kind == ErrorKind::Timeout && (spent || timeout.is_none_or(|t| t > cap)) => {
                    self.long_running.insert(&read.statement.sql);
                }
                Err(e) if e.kind == ErrorKind::Timeout => return Err(timeout_error(timeout.unwrap_or_default())),
                other => return other,
            }
        }
        let remaining = timeout.map(|t| t.saturating_sub(started.elapsed()));
        let handle = conn.get_interrupt_handle();
        // The connection comes back with the answer, so it returns to the pool only after
        // `interrupt` can no longer reach it (locals drop in reverse order: `interrupt` first).
        let task = tokio::task::spawn_blocking(move || {
            let output = connection::with_deadline(remaining, || connection::run_read(&conn, &read, limit));
            (conn, output)
        });
        let mut interrupt = Interrupt { handle: Some(handle) };
        let joined = task.await;
        interrupt.disarm();
        let (_conn, output) = joined.map_err(|e| DbError::new(ErrorKind::Internal, e.to_string()))?;
        output.map_err(|e| match e.kind {
            ErrorKind::Timeout => timeout_error(timeout.unwrap_or_default()),
            _ => e,
        })
    }
}

/// How much a read may do on the async worker thread before it is moved to the blocking pool,
/// in SQLite virtual-machine steps (about a millisecond of work here): enough for the reads of
/// an API (an index lookup, a page, an embedding: thousands to tens of thousands of steps), little
/// enough that a worker held by one delays the requests queued behind it by about that much.
/// Counted in work rather than time, so a read the operating system pauses is not mistaken for a
/// long one (and remembered as such).
pub const INLINE_BUDGET: u32 = 100_000;

/// The longest a read may hold the async worker thread whatever its steps (one step may call a
/// costly function): past it the read moves to the blocking pool too. Generous, as the operating
/// system may pause the thread for a while without the read being long (and valgrind slows
/// everything fifty times when the benchmark counts instructions).
pub const INLINE_TIME: std::time::Duration = std::time::Duration::from_millis(100);

/// The SQL texts of reads that ran past [`INLINE_BUDGET`] (hashed): they go to the blocking pool
/// directly. Bounded: past [`LongRunning::CAPACITY`] entries it starts again from empty.
#[derive(Default)]
struct LongRunning {
    keys: RwLock<std::collections::HashSet<u64>>,
    /// Whether any is remembered: while none is, a read is not hashed at all.
    any: AtomicBool,
}

impl LongRunning {
    /// The most statements remembered.
    const CAPACITY: usize = 4096;

    /// The key of a statement's SQL.
    fn key(sql: &str) -> u64 {
        use std::hash::BuildHasher;
        foldhash::fast::FixedState::with_seed(0).hash_one(sql)
    }

    fn contains(&self, sql: &str) -> bool {
        self.any.load(Ordering::Relaxed)
            && self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&Self::key(sql))
    }

    fn insert(&self, sql: &str) {
        let mut keys = self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() >= Self::CAPACITY {
            keys.clear();
        }
        keys.insert(Self::key(sql));
        self.any.store(true, Ordering::Relaxed);
    }
}

impl SqliteDatabase {
    /// Queues a write for the writer thread and waits for its commit.
    ///
    /// Errors: `ReadOnly` when the database was opened read-only.
    pub async fn write(&self, job: WriteJob) -> Result<Vec<WriteOutput>, DbError> {
        match &self.writer {
            Some(writer) => writer.write(job).await,
            None => Err(DbError::new(ErrorKind::ReadOnly, "the database is served read-only")),
        }
    }

    /// Runs `batch` on the writer, in its own savepoint of a group commit, all or nothing.
    pub async fn batch(&self, batch: crate::Batch) -> Result<Vec<crate::BatchOutput>, DbError> {
        match &self.writer {
            Some(writer) => writer.batch(batch).await,
            None => Err(DbError::new(ErrorKind::ReadOnly, "the database is served read-only")),
        }
    }
}

/// Interrupts a read's connection when dropped armed: the request was abandoned (the client
/// went away and the server dropped its future), so the statement must not go on holding a
/// pooled connection.
struct Interrupt {
    handle: Option<rusqlite::InterruptHandle>,
}

impl Interrupt {
    /// Interrupts now.
    fn fire(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.interrupt();
        }
    }

    /// The read finished: nothing to interrupt.
    fn disarm(&mut self) {
        self.handle = None;
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        if self.handle.is_some() {
            tracing::info!("request abandoned: its SQLite read is interrupted");
        }
        self.fire();
    }
}

/// The error of a read stopped at the statement time limit `limit`.
pub(crate) fn timeout_error(limit: std::time::Duration) -> DbError {
    DbError::new(ErrorKind::Timeout, "canceling statement due to statement timeout").with_details(format!(
        "The statement ran longer than the server's limit of {} s (--statement-timeout).",
        limit.as_secs_f64()
    ))
}

/// Opens a connection of its own (set up as the pool's are) and reads the catalog.
async fn read_catalog(path: PathBuf, read_only: bool) -> Result<Catalog, DbError> {
    tokio::task::spawn_blocking(move || -> Result<Catalog, rusqlite::Error> {
        let conn = connection::open_setup(&path, read_only)?;
        introspect::catalog(&conn)
    })
    .await
    .map_err(|e| DbError::new(ErrorKind::Internal, e.to_string()))?
    .map_err(|e| classify(&e))
}
