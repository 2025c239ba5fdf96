//! Servers on databases built from a schema file by `migrate plan` + `apply`, on each engine,
//! with a raw connection beside the API for SQL that bypasses Rowbase.

use mysql_async::prelude::Queryable;

use crate::common::{TestApp, spawn_app};

/// The engines a declared-schema test runs on: Rowbase's own engine type.
pub use rowbase_catalog::Engine;

/// A connection to the served database that does not go through Rowbase.
pub struct Raw {
    url: String,
    engine: Engine,
}

impl Raw {
    /// The database URL (or SQLite path).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` (one statement).
    pub async fn execute(&self, sql: &str) {
        match self.engine {
            Engine::Sqlite => {
                rusqlite::Connection::open(&self.url).unwrap().execute_batch(sql).unwrap();
            }
            Engine::Postgres => {
                let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client.batch_execute(sql).await.unwrap();
            }
            Engine::MySql => {
                let mut conn = mysql_async::Conn::from_url(self.url.as_str()).await.unwrap();
                conn.query_drop(sql).await.unwrap();
                let _ = conn.disconnect().await;
            }
        }
    }
}

impl Raw {
    /// The rows of a query, each value as text (NULL as an empty string; booleans as the
    /// engine writes them).
    pub async fn query(&self, sql: &str) -> Vec<Vec<String>> {
        match self.engine {
            Engine::Sqlite => {
                let conn = rusqlite::Connection::open(&self.url).unwrap();
                let mut statement = conn.prepare(sql).unwrap();
                let width = statement.column_count();
                statement
                    .query_map([], |row| {
                        Ok((0..width)
                            .map(|i| match row.get_ref(i).unwrap() {
                                rusqlite::types::ValueRef::Null => String::new(),
                                rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                                rusqlite::types::ValueRef::Real(x) => x.to_string(),
                                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                                    String::from_utf8_lossy(t).into_owned()
                                }
                            })
                            .collect())
                    })
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            }
            Engine::Postgres => {
                let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client
                    .simple_query(sql)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(row) => {
                            Some((0..row.len()).map(|i| row.get(i).unwrap_or_default().to_string()).collect())
                        }
                        _ => None,
                    })
                    .collect()
            }
            Engine::MySql => {
                let mut conn = mysql_async::Conn::from_url(self.url.as_str()).await.unwrap();
                let rows: Vec<mysql_async::Row> = conn.query(sql).await.unwrap();
                let _ = conn.disconnect().await;
                rows.into_iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| match row.as_ref(i).unwrap() {
                                mysql_async::Value::NULL => String::new(),
                                mysql_async::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                                other => other.as_sql(true).trim_matches('\'').to_string(),
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// Runs `sql` (PostgreSQL: a batch), and says whether it failed.
    pub async fn try_execute(&self, sql: &str) -> Result<(), String> {
        match self.engine {
            Engine::Postgres => {
                let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client.batch_execute(sql).await.map_err(|e| e.to_string())
            }
            _ => unimplemented!("batches of several statements: PostgreSQL only"),
        }
    }

    /// Runs `sql`, which must fail.
    pub async fn execute_err(&self, sql: &str) {
        let failed = match self.engine {
            Engine::Sqlite => rusqlite::Connection::open(&self.url).unwrap().execute_batch(sql).is_err(),
            Engine::Postgres => {
                let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client.batch_execute(sql).await.is_err()
            }
            Engine::MySql => {
                let mut conn = mysql_async::Conn::from_url(self.url.as_str()).await.unwrap();
                let failed = conn.query_drop(sql).await.is_err();
                let _ = conn.disconnect().await;
                failed
            }
        };
        assert!(failed, "{:?}: {sql} should fail", self.engine);
    }
}

/// A server on a new database of `engine` migrated to `schema` (a `rowbase.toml` text), or
/// `None` when the engine's server is not there (and not required).
pub async fn app_from_schema(engine: Engine, schema: &str) -> Option<(TestApp, Raw)> {
    app_from_schema_with(engine, schema, rowbase::Options::default()).await
}

/// As [`app_from_schema`], the server started with `options`.
pub async fn app_from_schema_with(engine: Engine, schema: &str, options: rowbase::Options) -> Option<(TestApp, Raw)> {
    let dir = tempfile::tempdir().unwrap();
    let (url, keep) = fresh_database(engine, dir.path()).await?;
    let file = dir.path().join("rowbase.toml");
    std::fs::write(&file, schema).unwrap();
    let migrations = dir.path().join("migrations");
    rowbase::migrate::plan(&url, &file, &migrations, "schema", false).await.unwrap();
    rowbase::migrate::apply(&url, &migrations).await.unwrap();
    let app = spawn_app().url(&url, Box::new((keep, dir))).options(options).await;
    Some((app, Raw { url, engine }))
}

/// A server on a new database of `engine` after the migrations in `migrations` (an example's),
/// and how many were applied; `None` as for [`app_from_schema`].
pub async fn app_from_migrations(
    engine: Engine,
    migrations: &std::path::Path,
    options: rowbase::Options,
) -> Option<(TestApp, usize)> {
    let dir = tempfile::tempdir().unwrap();
    let (url, keep) = fresh_database(engine, dir.path()).await?;
    let applied = rowbase::migrate::apply(&url, migrations).await.unwrap().len();
    Some((spawn_app().url(&url, Box::new((keep, dir))).options(options).await, applied))
}

/// A new, empty database of `engine` (SQLite: a file in `dir`, created by the first migration)
/// and what must live as long as it is used; `None` when the engine's server is not there.
async fn fresh_database(engine: Engine, dir: &std::path::Path) -> Option<(String, Box<dyn std::any::Any + Send>)> {
    Some(match engine {
        Engine::Sqlite => (dir.join("app.db").to_str().unwrap().to_string(), Box::new(())),
        Engine::Postgres => {
            let db = crate::pg::database(None).await?;
            (db.url.clone(), Box::new(db))
        }
        Engine::MySql => {
            let db = crate::my::database(false).await?;
            (db.url.clone(), Box::new(db))
        }
    })
}

/// A server on a new database of `engine` built by plain SQL written for it (SQLite runs it as a
/// batch; PostgreSQL as a batch; MySQL statement by statement, split at `;`), with `options`; or
/// `None` when the engine's server is not there (and not required). The one way the suites of
/// this directory run a fixture of their own on every engine.
pub async fn app_with_sql(engine: Engine, sql: &str, options: rowbase::Options) -> Option<TestApp> {
    match engine {
        Engine::Sqlite => Some(crate::common::spawn_app().schema(sql).options(options).await),
        Engine::Postgres => crate::pg::app_with_schema(sql, options).await,
        Engine::MySql => crate::my::app_with_schema(sql, options).await,
    }
}
