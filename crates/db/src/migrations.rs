//! Running migrations: a session holds the engine's migration lock (an exclusive transaction on
//! SQLite, an advisory lock on PostgreSQL, `GET_LOCK` on MySQL) so two instances never migrate
//! at once, keeps the ledger table `rowbase_migrations` (version, name, checksum, time), and
//! applies or reverts one migration at a time, in a transaction where the engine allows (MySQL
//! commits DDL implicitly). Each engine's SQL is in its own `maintenance` module; this one
//! only hands the calls to it.

use crate::database::Database;
use crate::error::DbError;
use crate::mysql::MySqlMigrations;
use crate::postgres::PostgresMigrations;
use crate::sqlite::SqliteMigrations;

/// How long a session waits for another one's lock, in seconds.
pub(crate) const LOCK_WAIT_SECS: u64 = 60;

/// The ledger, in version order (the same SQL on every engine).
pub(crate) const LEDGER_SQL: &str =
    "SELECT version, name, checksum, applied_at FROM rowbase_migrations ORDER BY version";

/// A migration recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its version.
    pub version: String,
    /// Its name.
    pub name: String,
    /// The SHA-256 of its up script when it was applied.
    pub checksum: String,
    /// When it was applied (UTC, ISO 8601).
    pub applied_at: String,
}

/// A session holding the migration lock.
pub enum MigrationSession {
    /// SQLite: one connection inside `BEGIN EXCLUSIVE`, foreign keys checked after each migration
    /// rather than enforced during it; each migration in a savepoint.
    Sqlite(SqliteMigrations),
    /// PostgreSQL: a pooled connection holding the advisory lock, in the exposed schema.
    Postgres(PostgresMigrations),
    /// MySQL: a pooled connection holding `GET_LOCK`.
    MySql(MySqlMigrations),
}

impl Database {
    /// Takes the migration lock (waiting up to a minute for another session) and makes sure the
    /// ledger exists.
    ///
    /// Errors: the lock was not obtained in time, or the database refused the ledger.
    pub async fn migration_session(&self) -> Result<MigrationSession, DbError> {
        Ok(match self {
            Database::Sqlite(db) => MigrationSession::Sqlite(db.migration_session()?),
            Database::Postgres(db) => MigrationSession::Postgres(db.migration_session().await?),
            Database::MySql(db) => MigrationSession::MySql(db.migration_session().await?),
        })
    }

    /// Deletes the audit entries changed more than `keep_days` days ago; returns how many. The
    /// removal says so inside its transaction, the only way the log's triggers let a DELETE
    /// through (docs/schema.md, "Audit").
    ///
    /// Errors: no audit log (`42P01` and the like, as the engine reports it), or the engine's.
    pub async fn prune_audit(&self, keep_days: u32) -> Result<u64, DbError> {
        match self {
            Database::Sqlite(db) => db.prune_audit(keep_days),
            Database::Postgres(db) => db.prune_audit(keep_days).await,
            Database::MySql(db) => db.prune_audit(keep_days).await,
        }
    }
}

impl MigrationSession {
    /// The ledger, in version order.
    pub async fn applied(&mut self) -> Result<Vec<Applied>, DbError> {
        match self {
            MigrationSession::Sqlite(s) => s.applied(),
            MigrationSession::Postgres(s) => s.applied().await,
            MigrationSession::MySql(s) => s.applied().await,
        }
    }

    /// Runs `up` and records the migration, all or nothing where the engine allows.
    pub async fn apply(&mut self, version: &str, name: &str, checksum: &str, up: &str) -> Result<(), DbError> {
        match self {
            MigrationSession::Sqlite(s) => s.apply(version, name, checksum, up),
            MigrationSession::Postgres(s) => s.apply(version, name, checksum, up).await,
            MigrationSession::MySql(s) => s.apply(version, name, checksum, up).await,
        }
    }

    /// Runs `down` and removes the migration from the ledger.
    pub async fn revert(&mut self, version: &str, down: &str) -> Result<(), DbError> {
        match self {
            MigrationSession::Sqlite(s) => s.revert(version, down),
            MigrationSession::Postgres(s) => s.revert(version, down).await,
            MigrationSession::MySql(s) => s.revert(version, down).await,
        }
    }

    /// Commits (SQLite) and releases the lock.
    pub async fn release(self) -> Result<(), DbError> {
        match self {
            MigrationSession::Sqlite(s) => s.release(),
            MigrationSession::Postgres(s) => s.release().await,
            MigrationSession::MySql(s) => s.release().await,
        }
    }
}
