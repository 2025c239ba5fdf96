//! Running migrations: a session holds the engine's migration lock (an exclusive transaction on
//! SQLite, an advisory lock on PostgreSQL, `GET_LOCK` on MySQL) so two instances never migrate
//! at once, keeps the ledger table `rowbase_migrations` (version, name, checksum, time), and
//! applies or reverts one migration at a time, in a transaction where the engine allows (MySQL
//! commits DDL implicitly).

use deadpool::managed::Object;
use mysql_async::prelude::Queryable;

use crate::database::{Database, pool_error};
use crate::error::{DbError, ErrorKind};

/// How long a session waits for another one's lock, in seconds.
const LOCK_WAIT_SECS: u64 = 60;

/// The advisory lock key Rowbase's migrations take on PostgreSQL.
const PG_LOCK_KEY: i64 = 0x0072_6f77_6261_7365;

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
    Sqlite(rusqlite::Connection),
    /// PostgreSQL: a pooled connection holding the advisory lock, in the exposed schema.
    Postgres(deadpool_postgres::Object, String),
    /// MySQL: a pooled connection holding `GET_LOCK`.
    MySql(Object<crate::mysql::Manager>),
}

fn sqlite_error(e: rusqlite::Error) -> DbError {
    crate::sqlite::classify(&e)
}

fn pg_error(e: tokio_postgres::Error) -> DbError {
    crate::postgres::classify(&e)
}

fn my_error(e: mysql_async::Error) -> DbError {
    crate::mysql::classify(&e)
}

impl Database {
    /// Takes the migration lock (waiting up to a minute for another session) and makes sure the
    /// ledger exists.
    ///
    /// Errors: the lock was not obtained in time, or the database refused the ledger.
    pub async fn migration_session(&self) -> Result<MigrationSession, DbError> {
        match self {
            Database::Sqlite(db) => {
                let conn = rusqlite::Connection::open_with_flags(
                    db.path(),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(sqlite_error)?;
                conn.busy_timeout(std::time::Duration::from_secs(LOCK_WAIT_SECS)).map_err(sqlite_error)?;
                // Off for the session, as SQLite's table-rebuild procedure requires (a rebuilt
                // table is dropped and replaced: with foreign keys on, dropping it would fire
                // the cascades of the tables referencing it). Each migration ends with
                // `PRAGMA foreign_key_check` instead, so none can leave a dangling reference.
                // sqlite.org/lang_altertable.html#otheralter
                conn.pragma_update(None, "foreign_keys", "OFF").map_err(sqlite_error)?;
                conn.execute_batch(
                    "BEGIN EXCLUSIVE;
                     CREATE TABLE IF NOT EXISTS rowbase_migrations (version TEXT PRIMARY KEY, name TEXT NOT NULL,
                         checksum TEXT NOT NULL, applied_at TEXT NOT NULL);",
                )
                .map_err(sqlite_error)?;
                Ok(MigrationSession::Sqlite(conn))
            }
            Database::Postgres(db) => {
                let client = db.pool().get().await.map_err(|e| pool_error(e, crate::postgres::classify))?;
                let schema = db.schemas().first().cloned().unwrap_or_else(|| "public".into());
                client.execute("SELECT pg_advisory_lock($1)", &[&PG_LOCK_KEY]).await.map_err(pg_error)?;
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
                Ok(MigrationSession::Postgres(client, schema))
            }
            Database::MySql(db) => {
                let mut conn = db.pool().get().await.map_err(|e| pool_error(e, crate::mysql::classify))?;
                let locked: Option<Option<i64>> = conn
                    .exec_first("SELECT GET_LOCK('rowbase_migrate', ?)", (LOCK_WAIT_SECS,))
                    .await
                    .map_err(my_error)?;
                if locked.flatten() != Some(1) {
                    return Err(DbError::new(ErrorKind::Busy, "another session holds the migration lock"));
                }
                conn.query_drop(
                    "CREATE TABLE IF NOT EXISTS rowbase_migrations (version VARCHAR(32) PRIMARY KEY,
                         name VARCHAR(255) NOT NULL, checksum CHAR(64) NOT NULL, applied_at VARCHAR(40) NOT NULL)",
                )
                .await
                .map_err(my_error)?;
                Ok(MigrationSession::MySql(conn))
            }
        }
    }
}

impl MigrationSession {
    /// The ledger, in version order.
    pub async fn applied(&mut self) -> Result<Vec<Applied>, DbError> {
        const SQL: &str = "SELECT version, name, checksum, applied_at FROM rowbase_migrations ORDER BY version";
        match self {
            MigrationSession::Sqlite(conn) => {
                let mut stmt = conn.prepare(SQL).map_err(sqlite_error)?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok(Applied { version: r.get(0)?, name: r.get(1)?, checksum: r.get(2)?, applied_at: r.get(3)? })
                    })
                    .map_err(sqlite_error)?;
                rows.collect::<Result<_, _>>().map_err(sqlite_error)
            }
            MigrationSession::Postgres(client, _) => Ok(client
                .query(SQL, &[])
                .await
                .map_err(pg_error)?
                .iter()
                .map(|r| Applied { version: r.get(0), name: r.get(1), checksum: r.get(2), applied_at: r.get(3) })
                .collect()),
            MigrationSession::MySql(conn) => {
                let rows: Vec<(String, String, String, String)> = conn.query(SQL).await.map_err(my_error)?;
                Ok(rows
                    .into_iter()
                    .map(|(version, name, checksum, applied_at)| Applied { version, name, checksum, applied_at })
                    .collect())
            }
        }
    }

    /// Runs `up` and records the migration, all or nothing where the engine allows.
    pub async fn apply(&mut self, version: &str, name: &str, checksum: &str, up: &str) -> Result<(), DbError> {
        match self {
            MigrationSession::Sqlite(conn) => {
                conn.execute_batch("SAVEPOINT rowbase_migration").map_err(sqlite_error)?;
                let result = conn.execute_batch(up).and_then(|()| {
                    conn.execute(
                        "INSERT INTO rowbase_migrations VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                        [version, name, checksum],
                    )
                });
                finish_savepoint(conn, result.map(|_| ()))
            }
            MigrationSession::Postgres(client, _) => {
                let tx = client.transaction().await.map_err(pg_error)?;
                tx.batch_execute(up).await.map_err(pg_error)?;
                tx.execute(
                    "INSERT INTO rowbase_migrations VALUES ($1, $2, $3, to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
                    &[&version, &name, &checksum],
                )
                .await
                .map_err(pg_error)?;
                tx.commit().await.map_err(pg_error)
            }
            MigrationSession::MySql(conn) => {
                conn.query_drop(up).await.map_err(my_error)?;
                conn.exec_drop(
                    "INSERT INTO rowbase_migrations VALUES (?, ?, ?, DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ'))",
                    (version, name, checksum),
                )
                .await
                .map_err(my_error)
            }
        }
    }

    /// Runs `down` and removes the migration from the ledger.
    pub async fn revert(&mut self, version: &str, down: &str) -> Result<(), DbError> {
        match self {
            MigrationSession::Sqlite(conn) => {
                conn.execute_batch("SAVEPOINT rowbase_migration").map_err(sqlite_error)?;
                let result = conn
                    .execute_batch(down)
                    .and_then(|()| conn.execute("DELETE FROM rowbase_migrations WHERE version = ?1", [version]));
                finish_savepoint(conn, result.map(|_| ()))
            }
            MigrationSession::Postgres(client, _) => {
                let tx = client.transaction().await.map_err(pg_error)?;
                tx.batch_execute(down).await.map_err(pg_error)?;
                tx.execute("DELETE FROM rowbase_migrations WHERE version = $1", &[&version]).await.map_err(pg_error)?;
                tx.commit().await.map_err(pg_error)
            }
            MigrationSession::MySql(conn) => {
                conn.query_drop(down).await.map_err(my_error)?;
                conn.exec_drop("DELETE FROM rowbase_migrations WHERE version = ?", (version,)).await.map_err(my_error)
            }
        }
    }

    /// Commits (SQLite) and releases the lock.
    pub async fn release(self) -> Result<(), DbError> {
        match self {
            MigrationSession::Sqlite(conn) => conn.execute_batch("COMMIT").map_err(sqlite_error),
            MigrationSession::Postgres(client, _) => {
                client.execute("SELECT pg_advisory_unlock($1)", &[&PG_LOCK_KEY]).await.map(|_| ()).map_err(pg_error)
            }
            MigrationSession::MySql(mut conn) => {
                conn.query_drop("SELECT RELEASE_LOCK('rowbase_migrate')").await.map_err(my_error)
            }
        }
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
