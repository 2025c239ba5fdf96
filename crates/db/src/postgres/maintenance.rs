//! PostgreSQL's migration session and audit retention.
//!
//! The migration lock is a session advisory lock on a pooled connection; each migration runs in
//! a transaction with its ledger row.

use crate::database::pool_error;
use crate::error::DbError;
use crate::migrations::Applied;

use super::PostgresDatabase;

/// The advisory lock key Rowbase's migrations take.
const LOCK_KEY: i64 = 0x0072_6f77_6261_7365;

fn pg_error(e: tokio_postgres::Error) -> DbError {
    super::classify(&e)
}

/// A pooled connection holding the advisory lock, its `search_path` the exposed schema.
pub struct PostgresMigrations(deadpool_postgres::Object);

impl PostgresDatabase {
    /// Opens the session: takes the lock (waiting for another session's) and makes sure the
    /// ledger exists in the default schema.
    pub(crate) async fn migration_session(&self) -> Result<PostgresMigrations, DbError> {
        let client = self.pool().get().await.map_err(|e| pool_error(e, super::classify))?;
        let schema = self.schemas().first().cloned().unwrap_or_else(|| "public".into());
        client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await.map_err(pg_error)?;
        let mut quoted = String::new();
        rowbase_sql::Dialect::quote_ident(&rowbase_sql::PostgresDialect, &mut quoted, &schema);
        client
            .batch_execute(&format!(
                "SET search_path TO {quoted};
                 CREATE TABLE IF NOT EXISTS rowbase_migrations (version text PRIMARY KEY, name text NOT NULL,
                     checksum text NOT NULL, applied_at text NOT NULL);"
            ))
            .await
            .map_err(pg_error)?;
        Ok(PostgresMigrations(client))
    }

    /// Deletes the audit entries changed more than `keep_days` days ago, with `rowbase.retention`
    /// on in the transaction (the only way the log's trigger lets a DELETE through).
    pub(crate) async fn prune_audit(&self, keep_days: u32) -> Result<u64, DbError> {
        let mut client = self.pool().get().await.map_err(|e| pool_error(e, super::classify))?;
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.execute("SELECT set_config('rowbase.retention', 'on', true)", &[]).await.map_err(pg_error)?;
        let days = f64::from(keep_days);
        let deleted = tx
            .execute(
                "DELETE FROM rowbase_audit WHERE changed_at < now() - make_interval(days => $1::float8::int)",
                &[&days],
            )
            .await
            .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
        Ok(deleted)
    }
}

impl PostgresMigrations {
    /// The ledger, in version order.
    pub(crate) async fn applied(&mut self) -> Result<Vec<Applied>, DbError> {
        Ok(self
            .0
            .query(crate::migrations::LEDGER_SQL, &[])
            .await
            .map_err(pg_error)?
            .iter()
            .map(|r| Applied { version: r.get(0), name: r.get(1), checksum: r.get(2), applied_at: r.get(3) })
            .collect())
    }

    /// Runs `up` and records the migration in one transaction.
    pub(crate) async fn apply(&mut self, version: &str, name: &str, checksum: &str, up: &str) -> Result<(), DbError> {
        let tx = self.0.transaction().await.map_err(pg_error)?;
        tx.batch_execute(up).await.map_err(pg_error)?;
        tx.execute(
            "INSERT INTO rowbase_migrations VALUES ($1, $2, $3, to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
            &[&version, &name, &checksum],
        )
        .await
        .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)
    }

    /// Runs `down` and removes the migration from the ledger in one transaction.
    pub(crate) async fn revert(&mut self, version: &str, down: &str) -> Result<(), DbError> {
        let tx = self.0.transaction().await.map_err(pg_error)?;
        tx.batch_execute(down).await.map_err(pg_error)?;
        tx.execute("DELETE FROM rowbase_migrations WHERE version = $1", &[&version]).await.map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)
    }

    /// Releases the lock.
    pub(crate) async fn release(self) -> Result<(), DbError> {
        self.0.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await.map(|_| ()).map_err(pg_error)
    }
}
