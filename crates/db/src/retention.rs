//! Audit retention: removing log entries older than a number of days from `rowbase_audit`,
//! which its own triggers otherwise keep append-only. The removal says so inside its
//! transaction (`rowbase.retention` on PostgreSQL, `@rowbase_retention` on MySQL, the context
//! row's `retention` on SQLite), the only way the triggers let a DELETE through.

use mysql_async::prelude::Queryable;

use crate::database::{Database, pool_error};
use crate::error::DbError;

impl Database {
    /// Deletes the audit entries changed more than `keep_days` days ago; returns how many.
    ///
    /// Errors: no audit log (`42P01` and the like, as the engine reports it), or the engine's.
    pub async fn prune_audit(&self, keep_days: u32) -> Result<u64, DbError> {
        match self {
            Database::Sqlite(db) => {
                let mut conn = rusqlite::Connection::open(db.path()).map_err(|e| crate::sqlite::classify(&e))?;
                conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| crate::sqlite::classify(&e))?;
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(|e| crate::sqlite::classify(&e))?;
                let run = || -> Result<usize, rusqlite::Error> {
                    tx.execute("INSERT OR REPLACE INTO rowbase_audit_context (id, retention) VALUES (1, 1)", [])?;
                    let deleted = tx.execute(
                        "DELETE FROM rowbase_audit WHERE changed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
                        [format!("-{keep_days} days")],
                    )?;
                    tx.execute("DELETE FROM rowbase_audit_context", [])?;
                    Ok(deleted)
                };
                let deleted = run().map_err(|e| crate::sqlite::classify(&e))?;
                tx.commit().map_err(|e| crate::sqlite::classify(&e))?;
                Ok(deleted as u64)
            }
            Database::Postgres(db) => {
                let mut client = db.pool().get().await.map_err(|e| pool_error(e, crate::postgres::classify))?;
                let tx = client.transaction().await.map_err(|e| crate::postgres::classify(&e))?;
                tx.execute("SELECT set_config('rowbase.retention', 'on', true)", &[])
                    .await
                    .map_err(|e| crate::postgres::classify(&e))?;
                let days = f64::from(keep_days);
                let deleted = tx
                    .execute(
                        "DELETE FROM rowbase_audit WHERE changed_at < now() - make_interval(days => $1::float8::int)",
                        &[&days],
                    )
                    .await
                    .map_err(|e| crate::postgres::classify(&e))?;
                tx.commit().await.map_err(|e| crate::postgres::classify(&e))?;
                Ok(deleted)
            }
            Database::MySql(db) => {
                let mut conn = db.pool().get().await.map_err(|e| pool_error(e, crate::mysql::classify))?;
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
                let deleted = result.map_err(|e| crate::mysql::classify(&e))?;
                reset.map_err(|e| crate::mysql::classify(&e))?;
                Ok(deleted)
            }
        }
    }
}
