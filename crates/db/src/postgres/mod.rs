//! PostgreSQL: a pool of connections (deadpool-postgres) with a health check before each use,
//! bounded connection age and idle time, and connect timeouts, so a database restart is
//! survived: requests fail fast (503) while it is down and new connections are made when it is
//! back. Reads are one statement each; writes run in a transaction.

mod classify;
mod introspect;
mod maintenance;
mod params;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use deadpool::managed::{Hook, HookError, Metrics};
use deadpool_postgres::{ClientWrapper, Manager, ManagerConfig, Pool, RecyclingMethod};
use rowbase_catalog::Catalog;
use rowbase_plan::Value;
use rowbase_sql::{Dialect, PostgresDialect, ReadStatement, Statement};
use tokio_postgres::NoTls;

use self::params::{JsonText, params, refs};
use crate::database::{
    CHECK_AFTER_IDLE, DatabaseOptions, JsonArray, ReadOutput, check_answer, json_array, pool_error, server_pool,
};
use crate::error::{DbError, ErrorKind};
use crate::exec::{Executor, run_write};
use crate::write::{WriteJob, WriteOutput};

pub use classify::classify;
pub use introspect::data_type_of;
pub use maintenance::PostgresMigrations;

/// An open PostgreSQL database.
pub struct PostgresDatabase {
    pool: Pool,
    /// The largest answer a read may build, in bytes.
    max_response_bytes: usize,
    schemas: Vec<String>,
    catalogs: RwLock<HashMap<String, Arc<Catalog>>>,
    statements: Arc<AtomicU64>,
}

impl PostgresDatabase {
    /// Connects to `url` (`postgres://user@host:port/db`) and reads the catalogs of the exposed
    /// schemas.
    ///
    /// Errors: a malformed URL, an unreachable server, or a schema that does not exist.
    pub async fn open(url: &str, options: &DatabaseOptions) -> Result<PostgresDatabase, DbError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| DbError::new(ErrorKind::Unavailable, format!("invalid PostgreSQL URL: {e}")))?;
        config.application_name("rowbase");
        config.connect_timeout(options.connect_timeout);
        if let Some(limit) = options.statement_timeout {
            config.options(format!("-c statement_timeout={}", limit.as_millis()));
        }
        // Fast: the manager hands out a connection unless its connection task has ended (the
        // server closed it, e.g. on a restart); one idle past CHECK_AFTER_IDLE is also sent an
        // empty query first. (Verified would send it on every checkout, a round trip per request
        // that halved the rate of small reads.)
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let check = Hook::async_fn(|client: &mut ClientWrapper, metrics: &Metrics| {
            Box::pin(async move {
                if metrics.last_used() > CHECK_AFTER_IDLE {
                    client.simple_query("").await.map_err(HookError::Backend)?;
                }
                Ok(())
            })
        });
        let pool = server_pool(manager, options, Some(check))?;
        let catalogs = read_catalogs(&pool, &options.schemas).await?;
        Ok(PostgresDatabase {
            pool,
            max_response_bytes: options.max_response_bytes,
            schemas: options.schemas.clone(),
            catalogs: RwLock::new(catalogs),
            statements: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Reads the catalogs of the exposed schemas again.
    ///
    /// Errors: the server cannot be reached, or an exposed schema was dropped; the old catalogs
    /// stay in use.
    pub async fn reload(&self) -> Result<(), DbError> {
        let catalogs = read_catalogs(&self.pool, &self.schemas).await?;
        // Cached statements may return columns whose types changed.
        self.pool.manager().statement_caches.clear();
        *self.catalogs.write().unwrap_or_else(std::sync::PoisonError::into_inner) = catalogs;
        Ok(())
    }

    /// A digest of the exposed schemas' tables, columns, constraints and indexes: it changes
    /// when any of them does.
    pub async fn fingerprint(&self) -> Result<String, DbError> {
        let client = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
        let row = client.query_one(FINGERPRINT, &[&self.schemas]).await.map_err(|e| classify(&e))?;
        Ok(row.get(0))
    }

    /// The pool.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The exposed schemas, the default first.
    pub fn schemas(&self) -> &[String] {
        &self.schemas
    }

    /// The catalog of an exposed schema.
    pub fn catalog(&self, schema: &str) -> Option<Arc<Catalog>> {
        self.catalogs.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(schema).cloned()
    }

    /// Statements this server has sent.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Runs one read statement; with a `preamble`, inside a transaction it opens: `BEGIN`, the
    /// preamble, the statement and `COMMIT` are sent together (pipelined: one round trip, where
    /// PostgREST waits for each of its statements in turn). After an error PostgreSQL skips to
    /// the next statement, and a `COMMIT` of a failed transaction rolls it back, so the
    /// connection returns to the pool clean either way.
    pub async fn read(&self, read: ReadStatement, preamble: Option<Statement>) -> Result<ReadOutput, DbError> {
        let mut guard = CancelOnDrop(Some(self.pool.get().await.map_err(|e| pool_error(e, classify))?));
        let client = guard.client();
        let statement = client.prepare_cached(&read.statement.sql).await.map_err(|e| classify(&e))?;
        let values = params(&read.statement.params);
        let output = match &preamble {
            None => {
                self.statements.fetch_add(1, Ordering::Relaxed);
                match client.query_raw(&statement, refs(&values)).await {
                    Ok(rows) => self.collect(rows, read.counted).await,
                    Err(e) => Err(classify(&e)),
                }
            }
            Some(preamble) => {
                let prepared = client.prepare_cached(&preamble.sql).await.map_err(|e| classify(&e))?;
                let preamble_values = params(&preamble.params);
                let preamble_refs = refs(&preamble_values);
                self.statements.fetch_add(4, Ordering::Relaxed);
                let rows = async {
                    let rows = client.query_raw(&statement, refs(&values)).await.map_err(|e| classify(&e))?;
                    self.collect(rows, read.counted).await
                };
                // Polled together, in this order, the four requests go out before any answer
                // comes back (each is sent at its first poll); the first error is the one to
                // report (the later ones follow from it).
                let (begun, set, output, committed) = tokio::join!(
                    client.batch_execute("BEGIN"),
                    client.query(&prepared, &preamble_refs),
                    rows,
                    client.batch_execute("COMMIT"),
                );
                begun.map_err(|e| classify(&e))?;
                set.map_err(|e| classify(&e))?;
                let output = output?;
                committed.map_err(|e| classify(&e))?;
                Ok(output)
            }
        };
        // An answer stopped at the size limit leaves rows in flight: the guard stays armed, so
        // the statement is cancelled and the connection is not reused.
        if !matches!(&output, Err(e) if e.kind == ErrorKind::AnswerTooLarge) {
            guard.disarm();
        }
        output
    }

    /// Takes a read's rows as they arrive, stopping once the body passes the size limit.
    async fn collect(&self, rows: tokio_postgres::RowStream, counted: bool) -> Result<ReadOutput, DbError> {
        use futures_util::TryStreamExt;
        let mut rows = std::pin::pin!(rows);
        let text =
            |row: &tokio_postgres::Row, i: usize| row.try_get::<_, JsonText>(i).map(|t| t.0).map_err(|e| classify(&e));
        let limit = self.max_response_bytes;
        if counted {
            let row = rows
                .try_next()
                .await
                .map_err(|e| classify(&e))?
                .ok_or_else(|| DbError::new(ErrorKind::Internal, "a counted read returned no row"))?;
            let total: i64 = row.try_get(0).map_err(|e| classify(&e))?;
            let page: i64 = row.try_get(1).map_err(|e| classify(&e))?;
            let body = text(&row, 2)?;
            check_answer(&body, limit)?;
            while rows.try_next().await.map_err(|e| classify(&e))?.is_some() {}
            return Ok(ReadOutput { body, page_rows: page.unsigned_abs(), total: Some(total.unsigned_abs()) });
        }
        let mut array = JsonArray::new(limit);
        while let Some(row) = rows.try_next().await.map_err(|e| classify(&e))? {
            array.push(&text(&row, 0)?)?;
        }
        let (body, page_rows) = array.finish();
        Ok(ReadOutput { body, page_rows, total: None })
    }

    /// Runs one write in a transaction; commits unless it failed or is a dry run. A deadlock or
    /// serialization failure is retried a few times ([`crate::write::retry_conflicts`]).
    pub async fn write(&self, job: WriteJob) -> Result<Vec<WriteOutput>, DbError> {
        crate::write::retry_conflicts(|| self.write_once(&job)).await
    }

    /// Runs `batch` in one transaction, all or nothing (a deadlock is retried as a write's is).
    pub async fn batch(&self, batch: crate::Batch) -> Result<Vec<crate::BatchOutput>, DbError> {
        crate::write::retry_conflicts(|| async {
            let mut client = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
            let tx = client.transaction().await.map_err(|e| classify(&e))?;
            let result = {
                let mut exec = PostgresExecutor { tx: &tx, statements: &self.statements };
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

    /// One attempt of [`PostgresDatabase::write`].
    async fn write_once(&self, job: &WriteJob) -> Result<Vec<WriteOutput>, DbError> {
        let mut client = self.pool.get().await.map_err(|e| pool_error(e, classify))?;
        let tx = client.transaction().await.map_err(|e| classify(&e))?;
        let result = {
            let mut exec = PostgresExecutor { tx: &tx, statements: &self.statements };
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

/// A pooled connection that, dropped before [`CancelOnDrop::disarm`] (the request was abandoned:
/// the client went away and the server dropped its future), cancels the statement it runs and
/// leaves the pool: PostgreSQL would otherwise run the statement to its end, holding the
/// connection. The connection is not reused, so the cancel cannot reach another request's
/// statement.
struct CancelOnDrop(Option<deadpool_postgres::Object>);

impl CancelOnDrop {
    /// The connection.
    fn client(&self) -> &deadpool_postgres::Object {
        self.0.as_ref().unwrap_or_else(|| unreachable!("taken only on drop or disarm"))
    }

    /// The statement finished: the connection goes back to the pool as usual.
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(object) = self.0.take() else { return };
        let client = deadpool_postgres::Object::take(object);
        let token = client.cancel_token();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            tracing::info!("request abandoned: its PostgreSQL statement is cancelled");
            runtime.spawn(async move {
                let _ = token.cancel_query(NoTls).await;
                drop(client);
            });
        }
    }
}

/// Runs statements inside a write's transaction.
struct PostgresExecutor<'t> {
    tx: &'t deadpool_postgres::Transaction<'t>,
    statements: &'t AtomicU64,
}

impl PostgresExecutor<'_> {
    async fn query(&self, statement: &Statement) -> Result<Vec<tokio_postgres::Row>, DbError> {
        let prepared = self.tx.prepare_cached(&statement.sql).await.map_err(|e| classify(&e))?;
        let values = params(&statement.params);
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.tx.query(&prepared, &refs(&values)).await.map_err(|e| classify(&e))
    }
}

impl Executor for PostgresExecutor<'_> {
    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    async fn keys(&mut self, statement: &Statement) -> Result<Vec<Vec<Value>>, DbError> {
        // Keys are returned as text (see `PostgresDialect::returned_key`).
        let rows = self.query(statement).await?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        row.try_get::<_, Option<String>>(i)
                            .map(|v| v.map_or(Value::Null, Value::Text))
                            .map_err(|e| classify(&e))
                    })
                    .collect()
            })
            .collect()
    }

    async fn count(&mut self, statement: &Statement) -> Result<u64, DbError> {
        let rows = self.query(statement).await?;
        let n: i64 = rows.first().map_or(Ok(0), |r| r.try_get(0)).map_err(|e| classify(&e))?;
        Ok(n.unsigned_abs())
    }

    async fn affected(&mut self, statement: &Statement) -> Result<u64, DbError> {
        let prepared = self.tx.prepare_cached(&statement.sql).await.map_err(|e| classify(&e))?;
        let values = params(&statement.params);
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.tx.execute(&prepared, &refs(&values)).await.map_err(|e| classify(&e))
    }

    async fn read_array(&mut self, statement: &Statement) -> Result<String, DbError> {
        let rows = self.query(statement).await?;
        json_array(
            rows.iter().map(|row| row.try_get::<_, JsonText>(0).map(|t| t.0).map_err(|e| classify(&e))),
            usize::MAX,
        )
        .map(|(b, _)| b)
    }
}

/// Reads the catalog of each schema in `schemas`.
///
/// Errors: a schema that does not exist (`Unavailable`), or the server's errors.
async fn read_catalogs(pool: &Pool, schemas: &[String]) -> Result<HashMap<String, Arc<Catalog>>, DbError> {
    let client = pool.get().await.map_err(|e| pool_error(e, classify))?;
    let mut catalogs = HashMap::new();
    for schema in schemas {
        let exists: bool = client
            .query_one("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", &[schema])
            .await
            .map_err(|e| classify(&e))?
            .get(0);
        if !exists {
            return Err(DbError::new(ErrorKind::Unavailable, format!("the schema \"{schema}\" does not exist")));
        }
        catalogs.insert(schema.clone(), Arc::new(introspect::catalog(&client, schema).await?));
    }
    Ok(catalogs)
}

/// The schema digest behind [`PostgresDatabase::fingerprint`]: every relation, column (type,
/// nullability, default), constraint and index of the schemas in `$1` (`text[]`).
const FINGERPRINT: &str = "SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (\
    SELECT concat_ws(':', c.oid, c.relname, c.relkind, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.atthasdef) AS item \
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
    WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'm', 'p', 'f') \
    UNION ALL SELECT concat_ws(':', con.oid, con.conname, con.contype, con.confdeltype, con.confupdtype) \
    FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace WHERE n.nspname = ANY($1) \
    UNION ALL SELECT concat_ws(':', i.indexrelid, i.indisunique) \
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
    WHERE n.nspname = ANY($1)) AS items";
