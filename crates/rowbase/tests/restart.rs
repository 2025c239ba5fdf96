//! A database restart under a running Rowbase, for PostgreSQL and MySQL/MariaDB: while the
//! server is down requests fail fast (503, no hang); within two seconds of it being back they
//! succeed, without restarting Rowbase.
//!
//! These stop the local database servers, so they run only with `ROWBASE_TEST_RESTART_POSTGRES=1`
//! / `ROWBASE_TEST_RESTART_MYSQL=1` (the test script sets them), in a test binary of their own so
//! that no other test sees the outage.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

fn admin_url() -> String {
    std::env::var("ROWBASE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `pg_ctlcluster <version> main start|stop` for the machine's one cluster; whether it worked.
fn cluster(action: &str) -> bool {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .expect("a PostgreSQL cluster under /etc/postgresql");
    Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts the cluster again if the test ends while it is down.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let up = Command::new("pg_isready").args(["-q", "-h", "127.0.0.1"]).status().is_ok_and(|s| s.success());
        if !up {
            cluster("start");
        }
    }
}

#[tokio::test]
async fn a_database_restart_is_survived() {
    if std::env::var("ROWBASE_TEST_RESTART_POSTGRES").as_deref() != Ok("1") {
        eprintln!("SKIPPED: set ROWBASE_TEST_RESTART_POSTGRES=1 to stop and start the local PostgreSQL in this test");
        return;
    }
    let setup = Command::new("psql")
        .args([&admin_url(), "-qAtXc", "CREATE TABLE IF NOT EXISTS rowbase_restart_probe (id int); TRUNCATE rowbase_restart_probe; INSERT INTO rowbase_restart_probe VALUES (1);"])
        .status()
        .unwrap();
    assert!(setup.success());
    let (server, client, url) = probe_server(&admin_url()).await;

    let _restart = Restart;
    assert!(cluster("stop"), "pg_ctlcluster stop");
    fails_fast(&client, &url).await;

    assert!(cluster("start"), "pg_ctlcluster start");
    recovers(&client, &url, "PostgreSQL").await;
    server.shutdown().await.unwrap();
}

fn mysql_url() -> String {
    std::env::var("ROWBASE_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn mariadb_up() -> bool {
    Command::new("mariadb-admin")
        .args(["-h", "127.0.0.1", "-u", "root", "ping"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn mariadbd_running() -> bool {
    Command::new("pgrep").args(["-x", "mariadbd"]).output().is_ok_and(|o| o.status.success())
}

/// Starts MariaDB as the machine's services are started.
fn start_mariadb() {
    let _ = Command::new("start-stop-daemon")
        .args(["--start", "--oknodo", "--background", "--exec", "/usr/sbin/mariadbd"])
        .status();
}

/// Starts MariaDB again if the test ends while it is down.
struct RestartMariadb;

impl Drop for RestartMariadb {
    fn drop(&mut self) {
        if !mariadb_up() {
            while mariadbd_running() {
                std::thread::sleep(Duration::from_millis(50));
            }
            start_mariadb();
            let started = Instant::now();
            while !mariadb_up() && started.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

#[tokio::test]
async fn a_mysql_restart_is_survived() {
    if std::env::var("ROWBASE_TEST_RESTART_MYSQL").as_deref() != Ok("1") {
        eprintln!("SKIPPED: set ROWBASE_TEST_RESTART_MYSQL=1 to stop and start the local MariaDB in this test");
        return;
    }
    let setup = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", "test", "-e", "CREATE TABLE IF NOT EXISTS rowbase_restart_probe (id INT PRIMARY KEY); REPLACE INTO rowbase_restart_probe VALUES (1);"])
        .status()
        .unwrap();
    assert!(setup.success());
    let (server, client, url) = probe_server(&mysql_url()).await;

    let _restart = RestartMariadb;
    let stopped = Command::new("mariadb-admin").args(["-h", "127.0.0.1", "-u", "root", "shutdown"]).status().unwrap();
    assert!(stopped.success());
    // Wait until the process has exited, not just stopped answering.
    while mariadb_up() || mariadbd_running() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fails_fast(&client, &url).await;

    start_mariadb();
    let started = Instant::now();
    while !mariadb_up() {
        assert!(started.elapsed() < Duration::from_secs(30), "MariaDB did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    recovers(&client, &url, "MariaDB").await;
    server.shutdown().await.unwrap();
}

/// A server over `database` with short connect and acquire timeouts, the probe table's URL, and
/// a client; the probe answers 200.
async fn probe_server(database: &str) -> (rowbase::Server, reqwest::Client, String) {
    let mut options = rowbase::Options::default();
    options.database.connect_timeout = Duration::from_secs(1);
    options.database.acquire_timeout = Duration::from_secs(2);
    let server =
        rowbase::start(database, &options, "127.0.0.1:0".parse().unwrap(), std::future::pending()).await.unwrap();
    let url = format!("http://{}/rowbase_restart_probe", server.addr);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    (server, client, url)
}

/// With the server down, the probe answers 503 within three seconds.
async fn fails_fast(client: &reqwest::Client, url: &str) {
    let start = Instant::now();
    let down = client.get(url).send().await.unwrap();
    assert_eq!(down.status(), 503, "{}", down.text().await.unwrap_or_default());
    assert!(start.elapsed() < Duration::from_secs(3), "failed fast: {:?}", start.elapsed());
}

/// Once the server is back, the probe answers 200 again within two seconds.
async fn recovers(client: &reqwest::Client, url: &str, engine: &str) {
    let back = Instant::now();
    loop {
        let status = client.get(url).send().await.unwrap().status();
        if status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "still {status} {:?} after {engine} came back",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("recovered {:?} after {engine} came back", back.elapsed());
}
