//! SQLite's migration session and audit retention.
//!
//! The migration lock is an exclusive transaction on one connection of its own, with foreign
//! keys off for the session (as SQLite's table-rebuild procedure requires) and checked after
//! each migration, which runs in a savepoint.

use crate::error::{DbError, ErrorKind};
use crate::migrations::{Applied, LOCK_WAIT_SECS};

use super::SqliteDatabase;

fn sqlite_error(e: rusqlite::Error) -> DbError {
    super::classify(&e)
}

/// A connection inside `BEGIN EXCLUSIVE`.
pub struct SqliteMigrations(rusqlite::Connection);

impl SqliteDatabase {
    /// Opens the session: takes the lock (waiting up to [`LOCK_WAIT_SECS`]) and makes sure the
    /// ledger exists.
    pub(crate) fn migration_session(&self) -> Result<SqliteMigrations, DbError> {
        let conn = rusqlite::Connection::open_with_flags(
            self.path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(LOCK_WAIT_SECS)).map_err(sqlite_error)?;
        // Off for the session, as SQLite's table-rebuild procedure requires (a rebuilt table is
        // dropped and replaced: with foreign keys on, dropping it would fire the cascades of the
        // tables referencing it). Each migration ends with `PRAGMA foreign_key_check` instead,
        // so none can leave a dangling reference. sqlite.org/lang_altertable.html#otheralter
        conn.pragma_update(None, "foreign_keys", "OFF").map_err(sqlite_error)?;
        conn.execute_batch(
            "BEGIN EXCLUSIVE;
             CREATE TABLE IF NOT EXISTS rowbase_migrations (version TEXT PRIMARY KEY, name TEXT NOT NULL,
                 checksum TEXT NOT NULL, applied_at TEXT NOT NULL);",
        )
        .map_err(sqlite_error)?;
        Ok(SqliteMigrations(conn))
    }

    /// Deletes the audit entries changed more than `keep_days` days ago, saying so in the
    /// context row (the only way the log's triggers let a DELETE through); returns how many.
    pub(crate) fn prune_audit(&self, keep_days: u32) -> Result<u64, DbError> {
        let mut conn = rusqlite::Connection::open(self.path()).map_err(sqlite_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(sqlite_error)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sqlite_error)?;
        let run = || -> Result<usize, rusqlite::Error> {
            tx.execute("INSERT OR REPLACE INTO rowbase_audit_context (id, retention) VALUES (1, 1)", [])?;
            let deleted = tx.execute(
                "DELETE FROM rowbase_audit WHERE changed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
                [format!("-{keep_days} days")],
            )?;
            tx.execute("DELETE FROM rowbase_audit_context", [])?;
            Ok(deleted)
        };
        let deleted = run().map_err(sqlite_error)?;
        tx.commit().map_err(sqlite_error)?;
        Ok(deleted as u64)
    }
}

impl SqliteMigrations {
    /// The ledger, in version order.
    pub(crate) fn applied(&mut self) -> Result<Vec<Applied>, DbError> {
        let mut stmt = self.0.prepare(crate::migrations::LEDGER_SQL).map_err(sqlite_error)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Applied { version: r.get(0)?, name: r.get(1)?, checksum: r.get(2)?, applied_at: r.get(3)? })
            })
            .map_err(sqlite_error)?;
        rows.collect::<Result<_, _>>().map_err(sqlite_error)
    }

    /// Runs `up` and records the migration, in a savepoint.
    pub(crate) fn apply(&mut self, version: &str, name: &str, checksum: &str, up: &str) -> Result<(), DbError> {
        let conn = &self.0;
        conn.execute_batch("SAVEPOINT rowbase_migration").map_err(sqlite_error)?;
        let result = conn.execute_batch(up).and_then(|()| {
            conn.execute(
                "INSERT INTO rowbase_migrations VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                [version, name, checksum],
            )
        });
        finish_savepoint(conn, result.map(|_| ()))
    }

    /// Runs `down` and removes the migration from the ledger, in a savepoint.
    pub(crate) fn revert(&mut self, version: &str, down: &str) -> Result<(), DbError> {
        let conn = &self.0;
        conn.execute_batch("SAVEPOINT rowbase_migration").map_err(sqlite_error)?;
        let result = conn
            .execute_batch(down)
            .and_then(|()| conn.execute("DELETE FROM rowbase_migrations WHERE version = ?1", [version]));
        finish_savepoint(conn, result.map(|_| ()))
    }

    /// Commits, which releases the lock.
    pub(crate) fn release(self) -> Result<(), DbError> {
        self.0.execute_batch("COMMIT").map_err(sqlite_error)
    }
}

/// Releases the migration's savepoint if it succeeded and left no row whose foreign key points
/// nowhere; rolls it back otherwise.
fn finish_savepoint(conn: &rusqlite::Connection, result: Result<(), rusqlite::Error>) -> Result<(), DbError> {
    let result = result.and_then(|()| {
        let mut check = conn.prepare("PRAGMA foreign_key_check")?;
        let broken: Vec<(String, i64, String)> = check
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0), r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        Ok(broken)
    });
    let result = match result {
        Ok(broken) if broken.is_empty() => Ok(()),
        Ok(broken) => {
            let _ = conn.execute_batch("ROLLBACK TO rowbase_migration; RELEASE rowbase_migration");
            let (table, rowid, parent) = &broken[0];
            return Err(DbError::new(
                ErrorKind::ForeignKeyViolation,
                format!(
                    "the migration leaves {} row(s) with a foreign key pointing nowhere (first: {table} rowid {rowid} → {parent})",
                    broken.len()
                ),
            ));
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => conn.execute_batch("RELEASE rowbase_migration").map_err(sqlite_error),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO rowbase_migration; RELEASE rowbase_migration");
            Err(sqlite_error(e))
        }
    }
}
