//! MySQL/MariaDB: a pool of `mysql_async` connections (deadpool) pinged before each use, retired
//! by age and idle time, with connect timeouts, so a server restart is survived as on
//! PostgreSQL. Reads are one statement each; writes run in a transaction. The database named in
//! the URL is served as the `public` profile.

mod classify;
mod introspect;
mod maintenance;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use deadpool::managed::{self, Pool, RecycleError};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Params, TxOpts};
use rowbase_catalog::Catalog;
use rowbase_plan::Value;
use rowbase_sql::{Dialect, MySqlDialect, ReadStatement, Statement};

use crate::database::{
    CHECK_AFTER_IDLE, DatabaseOptions, ReadOutput, check_answer, json_array, pool_error, server_pool,
};
use crate::error::{DbError, ErrorKind};
use crate::exec::{Executor, run_write};
use crate::write::{WriteJob, WriteOutput};

pub use classify::classify;
pub use introspect::{SCHEMA, data_type_of};
pub use maintenance::MySqlMigrations;

/// Opens and checks connections for the pool.
#[derive(Debug)]
pub struct Manager {
    opts: Opts,
    /// The statement time limit set on each new connection.
    statement_timeout: Option<std::time::Duration>,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = mysql_async::Error;

    async fn create(&self) -> Result<Conn, mysql_async::Error> {
        let mut conn = Conn::new(self.opts.clone()).await?;
        if let Some(limit) = self.statement_timeout {
            // MariaDB: every statement, in seconds; MySQL: SELECTs, in milliseconds.
            let version: Option<String> = conn.query_first("SELECT VERSION()").await?;
            let set = if version.unwrap_or_default().contains("MariaDB") {
                format!("SET SESSION max_statement_time = {}", limit.as_secs_f64())
            } else {
                format!("SET SESSION max_execution_time = {}", limit.as_millis())
            };
            conn.query_drop(set).await?;
        }
        Ok(conn)
    }

    async fn recycle(&self, conn: &mut Conn, metrics: &managed::Metrics) -> managed::RecycleResult<mysql_async::Error> {
        // The health check before use (the seeds' pool_pre_ping), for connections idle a while.
        if metrics.last_used() > CHECK_AFTER_IDLE {
            conn.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

/// An open MySQL/MariaDB database.
pub struct MySqlDatabase {
    pool: Pool<Manager>,
    /// The largest answer a read may build, in bytes.
    max_response_bytes: usize,
    catalog: RwLock<Arc<Catalog>>,
    statements: Arc<AtomicU64>,
}

impl MySqlDatabase {
    /// Connects to `url` (`mysql://user:password@host:port/database`) and reads its catalog.
    ///
    /// Errors: a malformed URL, an unreachable server, or a URL without a database.
    pub async fn open(url: &str, options: &DatabaseOptions) -> Result<MySqlDatabase, DbError> {
        let url = url.replacen("mariadb://", "mysql://", 1);
        let opts = Opts::from_url(&url)
            .map_err(|e| DbError::new(ErrorKind::Unavailable, format!("invalid MySQL URL: {e}")))?;
        if opts.db_name().is_none() {
            return Err(DbError::new(
                ErrorKind::Unavailable,
                "the MySQL URL must name a database: mysql://host/database",
            ));
        }
        // JSON_ARRAYAGG is bounded by group_concat_max_len (1 MiB by default): an embedding
        // past it would be cut. Raised to the server's maximum on every connection; what is still
        // cut (max_allowed_packet) fails the read (see `truncation`).
        let opts: Opts = mysql_async::OptsBuilder::from_opts(opts)
            .init(vec!["SET SESSION group_concat_max_len = 18446744073709551615"])
            .into();
        let pool = server_pool(Manager { opts, statement_timeout: options.statement_timeout }, options, None)?;
        let mut conn: managed::Object<Manager> = pool.get().await.map_err(|e| pool_error(e, classify))?;
        let catalog = introspect::catalog(&mut conn).await?;
        Ok(MySqlDatabase {
            pool,
            max_response_bytes: options.max_response_bytes,
            catalog: RwLock::new(Arc::new(catalog)),
            statements: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The pool.
    pub(crate) fn pool(&self) -> &Pool<Manager> {
        &self.pool
    }

    /// The catalog, as last read.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Reads the catalog again.
    ///
    /// Errors: the server cannot be reached; the old catalog stays in use.
    pub async fn reload(&self) -> Result<(), DbError> {
        let mut conn: managed::Object<Manager> = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
        let catalog = introspect::catalog(&mut conn).await?;
        *self.catalog.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(catalog);
        Ok(())
    }

    /// A digest of the database's tables, columns, keys, referential rules and indexes: it
    /// changes when any of them does. `information_schema` has no change counter, so this is a
    /// count and a sum of CRC32s (order-free, and not truncated the way `GROUP_CONCAT` is).
    pub async fn fingerprint(&self) -> Result<String, DbError> {
        let mut conn: managed::Object<Manager> = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
        let digest: Option<String> = conn.query_first(FINGERPRINT).await.map_err(|e| classify(&e))?;
        Ok(digest.unwrap_or_default())
    }

    /// Statements this server has sent.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Runs one read statement (with its count apart, in one consistent snapshot, when it has
    /// one). A result the server cut short is an error, never a success (see [`truncation`]).
    pub async fn read(&self, read: ReadStatement) -> Result<ReadOutput, DbError> {
        let conn = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
        let mut guard = KillOnDrop { conn: Some(conn), pool: self.pool.clone() };
        let output = self.read_on(guard.conn(), read).await;
        guard.disarm();
        output
    }

    /// [`MySqlDatabase::read`] on `conn`.
    async fn read_on(&self, conn: &mut Conn, read: ReadStatement) -> Result<ReadOutput, DbError> {
        if let Some(count) = &read.count {
            let mut opts = TxOpts::default();
            opts.with_consistent_snapshot(true).with_readonly(Some(true));
            let mut tx = conn.start_transaction(opts).await.map_err(|e| classify(&e))?;
            self.statements.fetch_add(2, Ordering::Relaxed);
            let total: Option<u64> =
                tx.exec_first(count.sql.as_str(), params(&count.params)).await.map_err(|e| classify(&e))?;
            let rows: Vec<mysql_async::Row> =
                tx.exec(read.statement.sql.as_str(), params(&read.statement.params)).await.map_err(|e| classify(&e))?;
            let warnings = tx.get_warnings();
            truncation(&mut tx, warnings).await?;
            tx.commit().await.map_err(|e| classify(&e))?;
            let (body, page_rows) = json_array(rows.iter().map(|row| text(row, 0)), self.max_response_bytes)?;
            return Ok(ReadOutput { body, page_rows, total: Some(total.unwrap_or(0)) });
        }
        self.statements.fetch_add(1, Ordering::Relaxed);
        let rows: Vec<mysql_async::Row> =
            conn.exec(read.statement.sql.as_str(), params(&read.statement.params)).await.map_err(|e| classify(&e))?;
        let warnings = conn.get_warnings();
        truncation(conn, warnings).await?;
        if read.counted {
            let row =
                rows.first().ok_or_else(|| DbError::new(ErrorKind::Internal, "a counted read returned no row"))?;
            let total = integer(row, 0)?;
            let page = integer(row, 1)?;
            let body = text(row, 2)?;
            check_answer(&body, self.max_response_bytes)?;
            return Ok(ReadOutput { body, page_rows: page, total: Some(total) });
        }
        let (body, page_rows) = json_array(rows.iter().map(|row| text(row, 0)), self.max_response_bytes)?;
        Ok(ReadOutput { body, page_rows, total: None })
    }

    /// Runs one write in a transaction; commits unless it failed or is a dry run. A deadlock is
    /// retried a few times ([`crate::write::retry_conflicts`]).
    pub async fn write(&self, job: WriteJob) -> Result<Vec<WriteOutput>, DbError> {
        crate::write::retry_conflicts(|| self.write_once(&job)).await
    }

    /// Runs `batch` in one transaction, all or nothing (a deadlock is retried as a write's is).
    pub async fn batch(&self, batch: crate::Batch) -> Result<Vec<crate::BatchOutput>, DbError> {
        crate::write::retry_conflicts(|| async {
            let mut conn = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
            let mut tx = conn.start_transaction(TxOpts::default()).await.map_err(|e| classify(&e))?;
            let result = {
                let mut exec = MySqlExecutor { tx: &mut tx, statements: &self.statements };
                crate::batch::run_batch(&mut exec, &batch).await
            };
            match result {
                Ok(out) => tx.commit().await.map(|()| out).map_err(|e| classify(&e)),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        })
        .await
    }

    /// One attempt of [`MySqlDatabase::write`].
    async fn write_once(&self, job: &WriteJob) -> Result<Vec<WriteOutput>, DbError> {
        let mut conn = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
        let mut tx = conn.start_transaction(TxOpts::default()).await.map_err(|e| classify(&e))?;
        let result = {
            let mut exec = MySqlExecutor { tx: &mut tx, statements: &self.statements };
            run_write(&mut exec, job).await
        };
        match result {
            Ok(out) if !job.dry_run => tx.commit().await.map(|()| out).map_err(|e| classify(&e)),
            Ok(out) => tx.rollback().await.map(|()| out).map_err(|e| classify(&e)),
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}

/// Fails when the statement just run had a value cut short: MariaDB/MySQL bound `JSON_ARRAYAGG`
/// and `GROUP_CONCAT` by `group_concat_max_len` (raised to its maximum on every connection) and
/// by `max_allowed_packet` (16 MiB by default, a server setting), and answer the cut value with
/// a warning only (1260, 1301); `warnings` is the count the server reported for the statement. A read returns every row it claims or fails: `54000`
/// (program_limit_exceeded), naming the setting. The check costs nothing unless the server
/// reported a warning.
async fn truncation(conn: &mut impl Queryable, warnings: u16) -> Result<(), DbError> {
    if warnings == 0 {
        return Ok(());
    }
    let warnings: Vec<(String, u32, String)> = conn.query("SHOW WARNINGS").await.map_err(|e| classify(&e))?;
    match warnings.iter().find(|(_, code, _)| matches!(code, 1260 | 1301)) {
        Some((_, code, message)) => Err(DbError::new(
            ErrorKind::TooComplex,
            format!(
                "the answer is larger than the database server returns in one value ({message}, MySQL error {code}): \
                 ask for fewer rows (limit the embedding) or raise max_allowed_packet on the server"
            ),
        )),
        None => Ok(()),
    }
}

/// A pooled connection that, dropped before [`KillOnDrop::disarm`] (the request was abandoned:
/// the client went away and the server dropped its future mid-statement), leaves the pool, its
/// half-read result with it, and has its statement killed (`KILL QUERY` from another
/// connection): MariaDB would otherwise run it to its end.
struct KillOnDrop {
    conn: Option<managed::Object<Manager>>,
    pool: Pool<Manager>,
}

impl KillOnDrop {
    /// The connection.
    fn conn(&mut self) -> &mut Conn {
        self.conn.as_deref_mut().unwrap_or_else(|| unreachable!("taken only on drop or disarm"))
    }

    /// The statement finished: the connection goes back to the pool as usual.
    fn disarm(&mut self) {
        self.conn = None;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let Some(object) = self.conn.take() else { return };
        let conn = managed::Object::take(object);
        let id = conn.id();
        let pool = self.pool.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            tracing::info!("request abandoned: its MySQL statement is killed");
            runtime.spawn(async move {
                if let Ok(mut other) = pool.get().await {
                    let _ = other.query_drop(format!("KILL QUERY {id}")).await;
                }
                drop(conn);
            });
        }
    }
}

/// A statement's parameters for the driver.
fn params(values: &[Value]) -> Params {
    if values.is_empty() {
        return Params::Empty;
    }
    Params::Positional(
        values
            .iter()
            .map(|v| match v {
                Value::Null => mysql_async::Value::NULL,
                Value::Integer(i) => mysql_async::Value::Int(*i),
                Value::Real(f) => mysql_async::Value::Double(*f),
                Value::Bool(b) => mysql_async::Value::Int(i64::from(*b)),
                // Decimals go as text: the server converts them exactly.
                Value::Decimal(s) | Value::Text(s) => mysql_async::Value::Bytes(s.as_bytes().to_vec()),
                Value::Timestamp(s) => mysql_async::Value::Bytes(datetime_input(s).as_bytes().to_vec()),
                Value::Bytes(b) => mysql_async::Value::Bytes(b.clone()),
            })
            .collect(),
    )
}

/// A `DATETIME` input as MySQL/MariaDB read it. They reject a zone designator ("Incorrect
/// datetime value"), which clients send for an instant: `2026-11-21T11:13:20.123Z` (JavaScript's
/// `toISOString()`), `...+05:30`. Such an instant is written as its UTC date and time, which is
/// what a schema file's `timestamptz` column holds on MySQL (and what PostgreSQL stores for it);
/// text without a designator, or that is not a valid instant, goes on as it came for the server
/// to read or refuse.
fn datetime_input(s: &str) -> Cow<'_, str> {
    match s.trim().parse::<jiff::Timestamp>() {
        Ok(instant) => Cow::Owned(instant.to_zoned(jiff::tz::TimeZone::UTC).datetime().to_string()),
        Err(_) => Cow::Borrowed(s),
    }
}

fn text(row: &mysql_async::Row, i: usize) -> Result<String, DbError> {
    match row.as_ref(i) {
        Some(mysql_async::Value::Bytes(b)) => Ok(String::from_utf8_lossy(b).into_owned()),
        Some(mysql_async::Value::NULL) | None => Ok("null".into()),
        Some(other) => Ok(other.as_sql(true)),
    }
}

fn integer(row: &mysql_async::Row, i: usize) -> Result<u64, DbError> {
    match row.as_ref(i) {
        Some(mysql_async::Value::Int(n)) => Ok(n.unsigned_abs()),
        Some(mysql_async::Value::UInt(n)) => Ok(*n),
        Some(mysql_async::Value::Bytes(b)) => String::from_utf8_lossy(b)
            .parse()
            .map_err(|_| DbError::new(ErrorKind::Internal, "a count that is not a number")),
        _ => Ok(0),
    }
}

/// Runs statements inside a write's transaction.
struct MySqlExecutor<'t, 'c> {
    tx: &'t mut mysql_async::Transaction<'c>,
    statements: &'t AtomicU64,
}

impl MySqlExecutor<'_, '_> {
    async fn rows(&mut self, statement: &Statement) -> Result<Vec<mysql_async::Row>, DbError> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.tx.exec(statement.sql.as_str(), params(&statement.params)).await.map_err(|e| classify(&e))
    }
}

impl Executor for MySqlExecutor<'_, '_> {
    fn dialect(&self) -> &'static dyn Dialect {
        &MySqlDialect
    }

    async fn keys(&mut self, statement: &Statement) -> Result<Vec<Vec<Value>>, DbError> {
        let rows = self.rows(statement).await?;
        Ok(rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| match row.as_ref(i) {
                        Some(mysql_async::Value::Int(n)) => Value::Integer(*n),
                        Some(mysql_async::Value::UInt(n)) => Value::Integer(i64::try_from(*n).unwrap_or(i64::MAX)),
                        Some(mysql_async::Value::Double(f)) => Value::Real(*f),
                        Some(mysql_async::Value::Float(f)) => Value::Real(f64::from(*f)),
                        Some(mysql_async::Value::Bytes(b)) => Value::Text(String::from_utf8_lossy(b).into_owned()),
                        Some(mysql_async::Value::NULL) | None => Value::Null,
                        Some(other) => Value::Text(other.as_sql(true).trim_matches('\'').to_string()),
                    })
                    .collect()
            })
            .collect())
    }

    async fn count(&mut self, statement: &Statement) -> Result<u64, DbError> {
        let rows = self.rows(statement).await?;
        rows.first().map_or(Ok(0), |r| integer(r, 0))
    }

    async fn affected(&mut self, statement: &Statement) -> Result<u64, DbError> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.tx.exec_drop(statement.sql.as_str(), params(&statement.params)).await.map_err(|e| classify(&e))?;
        Ok(self.tx.affected_rows())
    }

    async fn read_array(&mut self, statement: &Statement) -> Result<String, DbError> {
        let rows = self.rows(statement).await?;
        json_array(rows.iter().map(|row| text(row, 0)), usize::MAX).map(|(body, _)| body)
    }
}

/// The schema digest behind [`MySqlDatabase::fingerprint`].
const FINGERPRINT: &str = "SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(item)), 0)) FROM (\
    SELECT CONCAT_WS(':', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COALESCE(COLUMN_DEFAULT, ''), EXTRA) AS item \
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
    UNION ALL SELECT CONCAT_WS(':', TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, COALESCE(REFERENCED_TABLE_NAME, ''), COALESCE(REFERENCED_COLUMN_NAME, '')) \
    FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() \
    UNION ALL SELECT CONCAT_WS(':', TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE) \
    FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() \
    UNION ALL SELECT CONCAT_WS(':', TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME) \
    FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()) AS items";

#[cfg(test)]
mod tests {
    use super::datetime_input;

    #[test]
    fn instants_are_written_as_their_utc_date_and_time() {
        for (given, sent) in [
            ("2026-11-21T11:13:20.123Z", "2026-11-21T11:13:20.123"),
            ("2026-11-21 16:43:20+05:30", "2026-11-21T11:13:20"),
            ("2026-11-21T23:30:00-0800", "2026-11-22T07:30:00"),
            ("2026-03-01T00:30:00+01", "2026-02-28T23:30:00"),
            ("2026-11-21 11:13:20", "2026-11-21 11:13:20"),
            ("2026-11-21", "2026-11-21"),
            ("2026-02-30T00:00:00Z", "2026-02-30T00:00:00Z"),
            ("not a time", "not a time"),
        ] {
            assert_eq!(datetime_input(given), sent, "{given}");
        }
    }
}
