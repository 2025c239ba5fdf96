//! The engine-neutral handle: open by URL, read the catalog, run a read.

use std::sync::Arc;
use std::time::Duration;

use rowbase_catalog::Catalog;
use rowbase_plan::{AsOfPlan, ReadPlan};
use rowbase_sql::{Dialect, ReadStatement, TransactionSettings, render_as_of, render_read};

use crate::error::DbError;
use crate::mysql::MySqlDatabase;
use crate::postgres::PostgresDatabase;
use crate::sqlite::SqliteDatabase;
use crate::write::{WriteJob, WriteOutput};

/// How to open a database.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// Connections in the read pool; `None` sizes it to the machine (2 per core, at least 4).
    pub pool_size: Option<usize>,
    /// How long a request waits for a free connection before `PGRST003`.
    pub acquire_timeout: Duration,
    /// Open without any write (no WAL switch, no writer; writes answer 405).
    pub read_only: bool,
    /// SQLite `synchronous` for the writer: `FULL` (default) or `NORMAL`.
    pub synchronous: Synchronous,
    /// How many queued writes may share one commit (1 disables group commit).
    pub group_commit: usize,
    /// The schemas served, the first being the default (`Accept-Profile`/`Content-Profile`
    /// choose among them). Engines without schemas serve `public`.
    pub schemas: Vec<String>,
    /// How long opening a server connection may take (PostgreSQL, MySQL).
    pub connect_timeout: Duration,
    /// Pooled connections older than this are replaced (the seeds' `pool_recycle`).
    pub max_lifetime: Duration,
    /// Pooled connections unused this long are replaced.
    pub idle_timeout: Duration,
    /// Create a missing SQLite file (for migrations; `serve` never creates one).
    pub create_sqlite: bool,
    /// The longest a read statement may run (`None`: no limit). PostgreSQL enforces it as the
    /// connections' `statement_timeout` (every statement, writes included), MariaDB as
    /// `max_statement_time` (MySQL `max_execution_time`: reads only), SQLite by interrupting the
    /// read's connection. Past it the statement is cancelled in the engine and the request
    /// answers 504 `57014`. Default 10 s.
    pub statement_timeout: Option<Duration>,
    /// The largest answer a read may build, in bytes (the JSON body); past it the read stops
    /// and answers 400 `54000` rather than holding more in memory. Default 64 MiB.
    pub max_response_bytes: usize,
}

/// SQLite's durability level for commits (sqlite.org/pragma.html#pragma_synchronous, WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// Sync the WAL at every commit: acknowledged writes survive a crash and a power loss.
    Full,
    /// Sync at checkpoints only: acknowledged writes survive a crash of the process, but the last
    /// ones may be lost on a power loss or an OS crash.
    Normal,
}

impl Synchronous {
    /// The pragma value.
    pub fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions {
            pool_size: None,
            acquire_timeout: Duration::from_secs(10),
            read_only: false,
            synchronous: Synchronous::Full,
            group_commit: 64,
            schemas: vec!["public".to_string()],
            connect_timeout: Duration::from_secs(2),
            max_lifetime: Duration::from_secs(30 * 60),
            idle_timeout: Duration::from_secs(10 * 60),
            create_sqlite: false,
            statement_timeout: Some(Duration::from_secs(10)),
            max_response_bytes: 64 * 1024 * 1024,
        }
    }
}

impl DatabaseOptions {
    /// The pool size to use.
    pub fn effective_pool_size(&self) -> usize {
        self.pool_size.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (cores * 2).max(4)
        })
    }
}

/// The error of a read whose answer passed `limit` bytes ([`DatabaseOptions::max_response_bytes`]).
pub(crate) fn answer_too_large(limit: usize) -> DbError {
    let mut error = DbError::new(
        crate::error::ErrorKind::AnswerTooLarge,
        format!("The answer is larger than the server's limit of {limit} bytes"),
    );
    error.hint = Some("Ask for fewer rows (limit, Range) or fewer columns, or raise --max-response-bytes".into());
    error
}

/// Fails with [`answer_too_large`] when `body` is longer than `limit`.
pub(crate) fn check_answer(body: &str, limit: usize) -> Result<(), DbError> {
    if body.len() > limit { Err(answer_too_large(limit)) } else { Ok(()) }
}

/// A JSON array built from one JSON text per row, as rows arrive, bounded in bytes: every
/// engine's read joins its rows' objects with it.
pub(crate) struct JsonArray {
    body: String,
    rows: u64,
    limit: usize,
}

impl JsonArray {
    /// An empty array that may grow to `limit` bytes.
    pub(crate) fn new(limit: usize) -> JsonArray {
        let mut body = String::with_capacity(1024);
        body.push('[');
        JsonArray { body, rows: 0, limit }
    }

    /// Appends one row's JSON.
    ///
    /// Errors: [`answer_too_large`] once the body is past the limit (the caller stops reading).
    pub(crate) fn push(&mut self, row: &str) -> Result<(), DbError> {
        if self.rows > 0 {
            self.body.push(',');
        }
        self.body.push_str(row);
        self.rows += 1;
        check_answer(&self.body, self.limit)
    }

    /// The array's text and its number of rows.
    pub(crate) fn finish(mut self) -> (String, u64) {
        self.body.push(']');
        (self.body, self.rows)
    }
}

/// Joins JSON texts (one per row) into a JSON array of at most `limit` bytes; returns it with
/// the number of rows.
///
/// Errors: a row's own, or [`answer_too_large`].
pub(crate) fn json_array<E: Into<DbError>>(
    rows: impl IntoIterator<Item = Result<String, E>>,
    limit: usize,
) -> Result<(String, u64), DbError> {
    let mut array = JsonArray::new(limit);
    for row in rows {
        array.push(&row.map_err(Into::into)?)?;
    }
    Ok(array.finish())
}

/// A pooled connection idle longer than this is checked with a round trip before it is handed
/// out (the seeds' `pool_pre_ping`); one used more recently is not, as HikariCP skips its check
/// within `aliveBypassWindowMs`. A check on every checkout doubled the round trips of a read.
pub(crate) const CHECK_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// A server pool (PostgreSQL, MySQL) over `manager` with the settings they share: size, wait,
/// create and recycle timeouts, the retirement of connections older than `max_lifetime` or
/// idle longer than `idle_timeout`, then `health_check` if given (a hook that checks connections
/// idle past [`CHECK_AFTER_IDLE`], for a manager that does not do it in its own recycle).
///
/// Errors: the pool cannot be built (`Internal`).
pub(crate) fn server_pool<M: deadpool::managed::Manager>(
    manager: M,
    options: &DatabaseOptions,
    health_check: Option<deadpool::managed::Hook<M>>,
) -> Result<deadpool::managed::Pool<M>, DbError> {
    let (max_lifetime, idle_timeout) = (options.max_lifetime, options.idle_timeout);
    let builder = deadpool::managed::Pool::builder(manager)
        .max_size(options.effective_pool_size())
        .wait_timeout(Some(options.acquire_timeout))
        .create_timeout(Some(options.connect_timeout))
        .recycle_timeout(Some(options.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .pre_recycle(deadpool::managed::Hook::sync_fn(move |_, metrics| {
            if metrics.age() > max_lifetime || metrics.last_used() > idle_timeout {
                Err(deadpool::managed::HookError::Message("retired by age or idle time".into()))
            } else {
                Ok(())
            }
        }));
    let builder = match health_check {
        Some(hook) => builder.pre_recycle(hook),
        None => builder,
    };
    builder.build().map_err(|e| DbError::new(crate::error::ErrorKind::Internal, e.to_string()))
}

/// A pool error as a [`DbError`]: a wait past the acquire timeout is `PoolTimeout` (503 with
/// `Retry-After`), the backend's own errors are classified by `classify`, anything else means the
/// database cannot be reached.
pub(crate) fn pool_error<E: std::fmt::Display>(
    e: deadpool::managed::PoolError<E>,
    classify: impl Fn(&E) -> DbError,
) -> DbError {
    use deadpool::managed::{PoolError, TimeoutType};
    match e {
        PoolError::Timeout(TimeoutType::Wait) => {
            DbError::new(crate::error::ErrorKind::PoolTimeout, "Timed out acquiring connection from connection pool.")
        }
        PoolError::Backend(e) => classify(&e),
        other => DbError::new(crate::error::ErrorKind::Unavailable, format!("the database is unreachable: {other}")),
    }
}

/// The result of a read: the JSON array of the page and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOutput {
    /// The JSON array text, `[...]`.
    pub body: String,
    /// How many rows the page holds.
    pub page_rows: u64,
    /// The total number of matching rows, when counted.
    pub total: Option<u64>,
}

/// An open database of any supported engine.
#[derive(Clone)]
pub enum Database {
    /// An embedded SQLite file.
    Sqlite(Arc<SqliteDatabase>),
    /// A PostgreSQL server (or a PostgreSQL-compatible one).
    Postgres(Arc<PostgresDatabase>),
    /// A MySQL/MariaDB server.
    MySql(Arc<MySqlDatabase>),
}

impl Database {
    /// Opens `url`: `postgres://...` / `postgresql://...`, `mysql://...` / `mariadb://...`, a path
    /// to an SQLite file, or
    /// `sqlite://path` / `sqlite:path`.
    ///
    /// Errors: the database cannot be reached or read, or the URL names an engine this build
    /// does not serve.
    pub async fn open(url: &str, options: &DatabaseOptions) -> Result<Database, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(Arc::new(PostgresDatabase::open(url, options).await?)));
        }
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            return Ok(Database::MySql(Arc::new(MySqlDatabase::open(url, options).await?)));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        Ok(Database::Sqlite(Arc::new(SqliteDatabase::open(path, options).await?)))
    }

    /// The engine's SQL dialect.
    pub fn dialect(&self) -> &'static dyn Dialect {
        match self {
            Database::Sqlite(_) => &rowbase_sql::SqliteDialect,
            Database::Postgres(_) => &rowbase_sql::PostgresDialect,
            Database::MySql(_) => &rowbase_sql::MySqlDialect,
        }
    }

    /// The engine.
    pub fn engine(&self) -> rowbase_catalog::Engine {
        self.dialect().engine()
    }

    /// The exposed schemas, the default first.
    pub fn schemas(&self) -> Vec<String> {
        match self {
            Database::Sqlite(_) => vec![crate::sqlite::SCHEMA.to_string()],
            Database::Postgres(db) => db.schemas().to_vec(),
            Database::MySql(_) => vec![crate::mysql::SCHEMA.to_string()],
        }
    }

    /// The catalog of an exposed schema, as last read (at open time or by [`Database::reload`]); `None` for a schema not served.
    pub fn catalog(&self, schema: &str) -> Option<Arc<Catalog>> {
        match self {
            Database::Sqlite(db) => (schema == crate::sqlite::SCHEMA).then(|| db.catalog()),
            Database::Postgres(db) => db.catalog(schema),
            Database::MySql(db) => (schema == crate::mysql::SCHEMA).then(|| db.catalog()),
        }
    }

    /// Reads the catalogs again, after the schema changed under the server (a migration, or
    /// DDL run by hand).
    ///
    /// Errors: the database cannot be reached; the old catalogs stay in use.
    pub async fn reload(&self) -> Result<(), DbError> {
        match self {
            Database::Sqlite(db) => db.reload().await,
            Database::Postgres(db) => db.reload().await,
            Database::MySql(db) => db.reload().await,
        }
    }

    /// A cheap digest of the served schema that changes whenever a table, column, key or index
    /// does: SQLite's `schema_version` cookie; a digest of `pg_catalog` on PostgreSQL and of
    /// `information_schema` on MySQL. Compare two values for equality only.
    ///
    /// Errors: the database cannot be reached.
    pub async fn fingerprint(&self) -> Result<String, DbError> {
        match self {
            Database::Sqlite(db) => db.fingerprint().await,
            Database::Postgres(db) => db.fingerprint().await,
            Database::MySql(db) => db.fingerprint().await,
        }
    }

    /// The read door: renders `plan` in the engine's dialect and runs it (one statement; a
    /// counted read on MySQL runs its count beside it in one snapshot). Where the engine's
    /// preamble has something of `settings` to set (PostgreSQL: a role or claims), the read runs
    /// in a transaction opened by it, sent in one round trip with the statement. A read's
    /// settings carry no audit part (a read changes nothing the audit triggers would log).
    ///
    /// Errors: the plan's operators the engine lacks (400 `PGRST127`), the engine's own (a role
    /// the server may not take: `42501`), the statement and answer limits (`DatabaseOptions`).
    pub async fn read(&self, plan: &ReadPlan, settings: &TransactionSettings) -> Result<ReadOutput, DbError> {
        let statement = render_read(plan, self.dialect())?;
        self.run_read(statement, settings).await
    }

    /// The read door for a table as of an instant, from its audit log.
    ///
    /// Errors: as [`Database::read`].
    pub async fn read_as_of(&self, plan: &AsOfPlan, settings: &TransactionSettings) -> Result<ReadOutput, DbError> {
        let statement = render_as_of(&plan.schema, &plan.table, plan.at_unix_seconds, self.dialect());
        self.run_read(ReadStatement::page(statement), settings).await
    }

    /// Runs a rendered read on the engine. SQLite's and MySQL's preambles carry only the audit
    /// trail's settings (the planner applies a role's rules to the statement there), which a read
    /// has none of.
    async fn run_read(&self, statement: ReadStatement, settings: &TransactionSettings) -> Result<ReadOutput, DbError> {
        debug_assert!(settings.audit.is_none(), "a read carries no audit settings");
        match self {
            Database::Sqlite(db) => db.read(statement).await,
            Database::Postgres(db) => db.read(statement, self.dialect().preamble(settings)).await,
            Database::MySql(db) => db.read(statement).await,
        }
    }

    /// Runs a write in its own transaction.
    ///
    /// Errors: constraint violations and the job's checks, classified; the write is rolled back.
    pub async fn write(&self, job: WriteJob) -> Result<Vec<WriteOutput>, DbError> {
        match self {
            Database::Sqlite(db) => db.write(job).await,
            Database::Postgres(db) => db.write(job).await,
            Database::MySql(db) => db.write(job).await,
        }
    }

    /// Runs statements of Rowbase's own (never a client's text: its users and sessions) in one
    /// transaction, all or nothing; one output per statement.
    ///
    /// Errors: the engine's, classified; the batch is rolled back.
    pub async fn batch(&self, batch: crate::Batch) -> Result<Vec<crate::BatchOutput>, DbError> {
        match self {
            Database::Sqlite(db) => db.batch(batch).await,
            Database::Postgres(db) => db.batch(batch).await,
            Database::MySql(db) => db.batch(batch).await,
        }
    }

    /// How many SQL statements have run since the database was opened: counted by the engine
    /// itself on SQLite (its trace hook), by the driver on PostgreSQL. For tests and metrics.
    pub fn statements_executed(&self) -> u64 {
        match self {
            Database::Sqlite(db) => db.statements_executed(),
            Database::Postgres(db) => db.statements_executed(),
            Database::MySql(db) => db.statements_executed(),
        }
    }
}
