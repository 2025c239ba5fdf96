//! PostgreSQL for the tests: a private database per test, cloned from the Chinook template
//! (`scripts/load-chinook-postgres`) or created empty, dropped when the test ends.
//! `ROWBASE_TEST_POSTGRES_URL` names the server (default: the local one); without a server the
//! tests skip with a message, unless `ROWBASE_REQUIRE_POSTGRES=1`, where they fail.

use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::NoTls;

use crate::common::{TestApp, spawn_app};

/// The Chinook template database.
pub const CHINOOK: &str = "rowbase_chinook";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The server's URL, for the `test` database.
pub fn admin_url() -> String {
    std::env::var("ROWBASE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn with_database(url: &str, database: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{database}"),
        None => format!("{url}/{database}"),
    }
}

/// A database that is dropped with this value.
pub struct PgDatabase {
    /// Its URL.
    pub url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([&admin_url(), "-qAtXc", &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)])
            .output();
    }
}

/// Connects to the server, or says why not. `None` means "skip this test".
async fn admin() -> Option<tokio_postgres::Client> {
    let url = admin_url();
    let connected = tokio::time::timeout(std::time::Duration::from_secs(3), tokio_postgres::connect(&url, NoTls)).await;
    match connected {
        Ok(Ok((client, connection))) => {
            tokio::spawn(connection);
            Some(client)
        }
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".into(),
            };
            assert!(
                std::env::var("ROWBASE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "PostgreSQL is required (ROWBASE_REQUIRE_POSTGRES=1) but {url} is unreachable: {why}"
            );
            eprintln!("SKIPPED: PostgreSQL at {url} is unreachable ({why}); set ROWBASE_TEST_POSTGRES_URL");
            None
        }
    }
}

/// A new database: a copy of `template`, or empty.
pub async fn database(template: Option<&str>) -> Option<PgDatabase> {
    let client = admin().await?;
    if let Some(template) = template {
        let exists =
            client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&template]).await.ok()?.is_some();
        if !exists {
            assert!(
                std::env::var("ROWBASE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "the template database {template} is missing: run scripts/load-chinook-postgres"
            );
            eprintln!("SKIPPED: the template {template} is missing; run scripts/load-chinook-postgres");
            return None;
        }
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("rb_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let create = match template {
        Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
        None => format!("CREATE DATABASE \"{name}\""),
    };
    // Concurrent clones of one template can collide briefly; retry.
    let mut attempt = 0;
    loop {
        match client.batch_execute(&create).await {
            Ok(()) => break,
            Err(e) if attempt < 20 => {
                attempt += 1;
                eprintln!("retrying CREATE DATABASE: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("CREATE DATABASE failed: {e}"),
        }
    }
    Some(PgDatabase { url: with_database(&admin_url(), &name), name })
}

/// A server on a private copy of Chinook in PostgreSQL.
pub async fn chinook_app() -> Option<TestApp> {
    let db = database(Some(CHINOOK)).await?;
    let url = db.url.clone();
    Some(spawn_app().url(&url, Box::new(db)).await)
}

/// A server on a new PostgreSQL database built by `schema`.
pub async fn app_with_schema(schema: &str, options: rowbase::Options) -> Option<TestApp> {
    let db = database(None).await?;
    let (client, connection) = tokio_postgres::connect(&db.url, NoTls).await.expect("connect to the new database");
    tokio::spawn(connection);
    client.batch_execute(schema).await.expect("schema");
    let url = db.url.clone();
    Some(spawn_app().url(&url, Box::new(db)).options(options).await)
}
