//! MySQL/MariaDB's migration session and audit retention.
//!
//! The migration lock is `GET_LOCK` on a pooled connection. MySQL commits DDL implicitly, so a
//! migration is not all or nothing there.

use deadpool::managed::Object;
use mysql_async::prelude::Queryable;

use crate::database::pool_error;
use crate::error::{DbError, ErrorKind};
use crate::migrations::{Applied, LOCK_WAIT_SECS};

use super::MySqlDatabase;

fn my_error(e: mysql_async::Error) -> DbError {
    super::classify(&e)
}

/// A pooled connection holding `GET_LOCK`.
pub struct MySqlMigrations(Object<super::Manager>);

impl MySqlDatabase {
    /// Opens the session: takes the lock (waiting up to [`LOCK_WAIT_SECS`]) and makes sure the
    /// ledger exists.
    pub(crate) async fn migration_session(&self) -> Result<MySqlMigrations, DbError> {
        let mut conn = self.pool().get().await.map_err(|e| pool_error(e, super::classify))?;
        let locked: Option<Option<i64>> =
            conn.exec_first("SELECT GET_LOCK('rowbase_migrate', ?)", (LOCK_WAIT_SECS,)).await.map_err(my_error)?;
        if locked.flatten() != Some(1) {
            return Err(DbError::new(ErrorKind::Busy, "another session holds the migration lock"));
        }
        conn.query_drop(
            "CREATE TABLE IF NOT EXISTS rowbase_migrations (version VARCHAR(32) PRIMARY KEY,
                 name VARCHAR(255) NOT NULL, checksum CHAR(64) NOT NULL, applied_at VARCHAR(40) NOT NULL)",
        )
        .await
        .map_err(my_error)?;
        Ok(MySqlMigrations(conn))
    }

    /// Deletes the audit entries changed more than `keep_days` days ago, with
    /// `@rowbase_retention` set for the statement (the only way the log's trigger lets a DELETE
    /// through) and cleared afterwards.
    pub(crate) async fn prune_audit(&self, keep_days: u32) -> Result<u64, DbError> {
        let mut conn = self.pool().get().await.map_err(|e| pool_error(e, super::classify))?;
        let result = async {
            conn.query_drop("SET @rowbase_retention = 1").await?;
            conn.exec_drop(
                "DELETE FROM rowbase_audit WHERE changed_at < CURRENT_TIMESTAMP(6) - INTERVAL ? DAY",
                (keep_days,),
            )
            .await?;
            Ok::<u64, mysql_async::Error>(conn.affected_rows())
        }
        .await;
        let reset = conn.query_drop("SET @rowbase_retention = NULL").await;
        let deleted = result.map_err(my_error)?;
        reset.map_err(my_error)?;
        Ok(deleted)
    }
}

impl MySqlMigrations {
    /// The ledger, in version order.
    pub(crate) async fn applied(&mut self) -> Result<Vec<Applied>, DbError> {
        let rows: Vec<(String, String, String, String)> =
            self.0.query(crate::migrations::LEDGER_SQL).await.map_err(my_error)?;
        Ok(rows
            .into_iter()
            .map(|(version, name, checksum, applied_at)| Applied { version, name, checksum, applied_at })
            .collect())
    }

    /// Runs `up` and records the migration.
    pub(crate) async fn apply(&mut self, version: &str, name: &str, checksum: &str, up: &str) -> Result<(), DbError> {
        self.0.query_drop(up).await.map_err(my_error)?;
        self.0
            .exec_drop(
                "INSERT INTO rowbase_migrations VALUES (?, ?, ?, DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ'))",
                (version, name, checksum),
            )
            .await
            .map_err(my_error)
    }

    /// Runs `down` and removes the migration from the ledger.
    pub(crate) async fn revert(&mut self, version: &str, down: &str) -> Result<(), DbError> {
        self.0.query_drop(down).await.map_err(my_error)?;
        self.0.exec_drop("DELETE FROM rowbase_migrations WHERE version = ?", (version,)).await.map_err(my_error)
    }

    /// Releases the lock.
    pub(crate) async fn release(mut self) -> Result<(), DbError> {
        self.0.query_drop("SELECT RELEASE_LOCK('rowbase_migrate')").await.map_err(my_error)
    }
}
