//! MySQL/MariaDB for the tests: a private database per test, a copy of the Chinook fixture
//! (`scripts/load-chinook-mysql`: tables replayed from `SHOW CREATE TABLE`, keys included, then
//! rows copied) or empty, dropped when the test ends. `ROWBASE_TEST_MYSQL_URL` names the server
//! (default: the local one); without a server the tests skip with a message, unless
//! `ROWBASE_REQUIRE_MYSQL=1`, where they fail.

use std::sync::atomic::{AtomicU32, Ordering};

use mysql_async::prelude::Queryable;

use crate::common::{TestApp, spawn_app};

/// The Chinook fixture database.
pub const CHINOOK: &str = "rowbase_chinook";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The server's URL.
pub fn admin_url() -> String {
    std::env::var("ROWBASE_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn with_database(url: &str, database: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{database}"),
        None => format!("{url}/{database}"),
    }
}

/// A database dropped with this value.
pub struct MyDatabase {
    /// Its URL.
    pub url: String,
    name: String,
}

impl Drop for MyDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let url = admin_url();
        // Drop on a thread of its own: this may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut conn) = mysql_async::Conn::from_url(&url).await {
                        let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`")).await;
                        let _ = conn.disconnect().await;
                    }
                });
            }
        })
        .join();
    }
}

async fn admin() -> Option<mysql_async::Conn> {
    let url = admin_url();
    let connected =
        tokio::time::timeout(std::time::Duration::from_secs(3), mysql_async::Conn::from_url(url.as_str())).await;
    match connected {
        Ok(Ok(conn)) => Some(conn),
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".into(),
            };
            assert!(
                std::env::var("ROWBASE_REQUIRE_MYSQL").as_deref() != Ok("1"),
                "MySQL is required (ROWBASE_REQUIRE_MYSQL=1) but {url} is unreachable: {why}"
            );
            eprintln!("SKIPPED: MySQL at {url} is unreachable ({why}); set ROWBASE_TEST_MYSQL_URL");
            None
        }
    }
}

/// A new database: a copy of the Chinook fixture, or empty; binary collation as the fixture.
pub async fn database(chinook: bool) -> Option<MyDatabase> {
    let mut conn = admin().await?;
    let name = format!("rb_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb3 COLLATE utf8mb3_bin")).await.ok()?;
    if chinook {
        let tables: Vec<String> = conn
            .exec("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", (CHINOOK,))
            .await
            .unwrap_or_default();
        if tables.is_empty() {
            assert!(
                std::env::var("ROWBASE_REQUIRE_MYSQL").as_deref() != Ok("1"),
                "the fixture database {CHINOOK} is missing: run scripts/load-chinook-mysql"
            );
            eprintln!("SKIPPED: the fixture {CHINOOK} is missing; run scripts/load-chinook-mysql");
            let _ = conn.query_drop(format!("DROP DATABASE `{name}`")).await;
            return None;
        }
        conn.query_drop(format!("USE `{name}`")).await.expect("use");
        conn.query_drop("SET FOREIGN_KEY_CHECKS = 0").await.expect("fk checks off");
        for table in &tables {
            let (_, create): (String, String) =
                conn.query_first(format!("SHOW CREATE TABLE `{CHINOOK}`.`{table}`")).await.expect("show").expect("row");
            conn.query_drop(create).await.expect("create");
            conn.query_drop(format!("INSERT INTO `{table}` SELECT * FROM `{CHINOOK}`.`{table}`")).await.expect("copy");
        }
    }
    let _ = conn.disconnect().await;
    Some(MyDatabase { url: with_database(&admin_url(), &name), name })
}

/// A server on a private copy of Chinook in MySQL.
pub async fn chinook_app() -> Option<TestApp> {
    let db = database(true).await?;
    let url = db.url.clone();
    Some(spawn_app().url(&url, Box::new(db)).await)
}

/// A server on a new MySQL database built by `schema` (statements separated by `;`).
pub async fn app_with_schema(schema: &str, options: rowbase::Options) -> Option<TestApp> {
    let db = database(false).await?;
    let mut conn = mysql_async::Conn::from_url(db.url.as_str()).await.expect("connect");
    for statement in schema.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        conn.query_drop(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let _ = conn.disconnect().await;
    let url = db.url.clone();
    Some(spawn_app().url(&url, Box::new(db)).options(options).await)
}
