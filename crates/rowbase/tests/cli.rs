//! The `rowbase` binary as an operator runs it: configured by `DATABASE_URL`, one log line per
//! request (without query values), a clean stop on SIGTERM (bounded by a grace period), a schema
//! reload on SIGHUP, serving from a schema file, and a clear failure for a missing file.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn chinook_copy(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("chinook.sqlite");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chinook/chinook.sqlite"),
        &path,
    )
    .unwrap();
    path
}

/// A running `rowbase serve`: the process, its log lines, and the address it listens on.
struct Served {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    /// The log line that said it was serving.
    serving: String,
    /// The lines logged before it.
    early: Vec<String>,
    addr: String,
}

/// Starts `rowbase serve` (with `ROWBASE_LOG=info`) as `configure` sets it up, and waits for the
/// line saying where it listens.
fn serve(configure: impl FnOnce(&mut Command)) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rowbase"));
    command.arg("serve").env("ROWBASE_LOG", "info").stdout(Stdio::piped()).stderr(Stdio::piped());
    configure(&mut command);
    let mut child = command.spawn().unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut early = Vec::new();
    let serving = std::iter::from_fn(|| lines.recv_timeout(Duration::from_secs(20)).ok())
        .find(|l| {
            early.push(l.clone());
            l.contains("serving")
        })
        .expect("a line saying the server is serving");
    let addr = serving.split("addr=").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    Served { child, lines, serving, early, addr }
}

impl Served {
    /// Whether a log line containing `text` arrives within five seconds.
    fn logs(&self, text: &str) -> bool {
        (0..50).any(|_| self.lines.recv_timeout(Duration::from_millis(100)).is_ok_and(|l| l.contains(text)))
    }

    /// Sends SIGTERM and waits; returns the exit status and the log lines not read yet.
    async fn stop(self) -> (std::process::ExitStatus, Vec<String>) {
        let Served { mut child, lines, .. } = self;
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
        (status, lines.try_iter().collect())
    }
}

#[tokio::test]
async fn serves_from_database_url_logs_requests_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = chinook_copy(dir.path());
    let server = serve(|c| {
        c.args(["--listen", "127.0.0.1:0"]).env("DATABASE_URL", &db);
    });
    assert!(!server.serving.contains('\u{1b}'), "no colour codes when stdout is not a terminal: {}", server.serving);

    let secret = "TopSecretValue";
    let reply = reqwest::Client::new()
        .get(format!("http://{}/Artist?Name=eq.{secret}", server.addr))
        .header("X-Request-Id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("req-42"));
    let log = server.lines.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(log.contains("method=GET") && log.contains("path=/Artist") && log.contains("status=200"), "{log}");
    assert!(log.contains("request{id=req-42}"), "the line is in the request's span: {log}");
    assert!(!log.contains(secret), "query values stay out of the log: {log}");

    let (status, rest) = server.stop().await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

#[tokio::test]
async fn a_connection_left_open_does_not_hold_the_stop_past_the_grace_period() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = chinook_copy(dir.path());
    let server = serve(|c| {
        c.args(["--listen", "127.0.0.1:0", "--shutdown-grace", "1"]).env("DATABASE_URL", &db);
    });
    // Half a request: graceful shutdown waits for it to complete, which it never will.
    let mut stalled = std::net::TcpStream::connect(&server.addr).unwrap();
    stalled.write_all(b"GET /Artist HTTP/1.1\r\nHost: rowbase\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let started = std::time::Instant::now();
    let (status, rest) = server.stop().await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(started.elapsed() < Duration::from_secs(8), "stopped after {:?}", started.elapsed());
    assert!(rest.iter().any(|l| l.contains("grace period")), "the log says connections were dropped: {rest:?}");
    drop(stalled);
}

#[tokio::test]
async fn sighup_reloads_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = chinook_copy(dir.path());
    let server = serve(|c| {
        c.args(["--listen", "127.0.0.1:0", "--schema-poll-ms", "0"]).env("DATABASE_URL", &db);
    });
    let addr = server.addr.clone();

    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE fresh (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO fresh VALUES (1, 'new');")
        .unwrap();
    let unknown = reqwest::get(format!("http://{addr}/fresh")).await.unwrap();
    assert_eq!(unknown.status(), 404, "not polling: the new table is unknown until told");
    assert!(Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().unwrap().success());
    assert!(server.logs("reloaded"), "a log line says the catalogs were reloaded");
    let rows: serde_json::Value = reqwest::get(format!("http://{addr}/fresh")).await.unwrap().json().await.unwrap();
    assert_eq!(rows, serde_json::json!([{ "id": 1, "note": "new" }]));

    let (status, _) = server.stop().await;
    assert!(status.success(), "still exits cleanly after SIGHUP: {status}");
}

#[test]
fn a_missing_database_is_an_error_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite");
    let output = Command::new(env!("CARGO_BIN_EXE_rowbase"))
        .args(["serve", missing.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no SQLite database at"), "{stderr}");
    assert!(!missing.exists(), "serving must never create a database file");
}

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name)
}

#[tokio::test]
async fn serves_the_tables_of_a_schema_file_after_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let shop = example("shop");
    let server = serve(|c| {
        c.args(["--listen", "127.0.0.1:0", "--migrate", "--schema-poll-ms", "100"])
            .arg("--schema")
            .arg(shop.join("rowbase.toml"))
            .arg("--migrations")
            .arg(shop.join("migrations"))
            .arg(&db);
    });
    let addr = server.addr.clone();
    let products = reqwest::get(format!("http://{addr}/products")).await.unwrap();
    assert_eq!(products.status(), 200, "the migrated, declared table is served");

    // A table the schema file does not declare stays out of the API, even after a reload.
    rusqlite::Connection::open(&db).unwrap().execute_batch("CREATE TABLE scratch (id INTEGER PRIMARY KEY)").unwrap();
    assert!(server.logs("reloaded"), "the new table was seen");
    let scratch = reqwest::get(format!("http://{addr}/scratch")).await.unwrap();
    assert_eq!(scratch.status(), 404);
    assert_eq!(reqwest::get(format!("http://{addr}/orders")).await.unwrap().status(), 200);
    assert!(server.stop().await.0.success());

    // A database that drifted from the schema file is refused, with the differences listed.
    rusqlite::Connection::open(&db).unwrap().execute_batch("ALTER TABLE products ADD COLUMN colour TEXT").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_rowbase"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--schema")
        .arg(shop.join("rowbase.toml"))
        .arg(&db)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("does not match") && stderr.contains("products.colour"), "{stderr}");
}

/// Start-up names the foreign keys no index leads (the cause of a 36 s embedding in the sample
/// that found it), once each; indexed ones are not named.
#[tokio::test]
async fn start_up_warns_of_unindexed_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE customer (id INTEGER PRIMARY KEY);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer (id));
             CREATE TABLE note (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer (id));
             CREATE INDEX note_customer ON note (customer_id);",
        )
        .unwrap();
    let served = serve(|c| {
        c.arg(&path).args(["--listen", "127.0.0.1:0"]);
    });
    let warnings: Vec<&String> = served.early.iter().filter(|l| l.contains("foreign key without an index")).collect();
    assert_eq!(warnings.len(), 1, "{:?}", served.early);
    assert!(warnings[0].contains("orders") && warnings[0].contains("customer_id"), "{}", warnings[0]);
    let (status, _) = served.stop().await;
    assert!(status.success());
}

/// Settings in layers: the configuration file's `[server]` over the defaults, the environment
/// over the file, a flag over both (here `max-rows`, seen in the number of rows a read returns).
#[tokio::test]
async fn settings_come_in_layers() {
    let dir = tempfile::tempdir().unwrap();
    let db = chinook_copy(dir.path());
    let config = dir.path().join("rowbase.toml");
    std::fs::write(&config, format!("[server]\ndatabase = {:?}\nmax-rows = 2\nlisten = \"127.0.0.1:0\"\n", db))
        .unwrap();
    let rows = |configure: &dyn Fn(&mut Command)| {
        let served = serve(|c| {
            c.arg("--config").arg(&config).env_remove("DATABASE_URL").env_remove("ROWBASE_MAX_ROWS");
            configure(c);
        });
        let addr = served.addr.clone();
        (served, addr)
    };
    for (label, configure, expected) in [
        ("the file", Box::new(|_: &mut Command| {}) as Box<dyn Fn(&mut Command)>, 2),
        (
            "the environment",
            Box::new(|c: &mut Command| {
                c.env("ROWBASE_MAX_ROWS", "3");
            }),
            3,
        ),
        (
            "a flag",
            Box::new(|c: &mut Command| {
                c.env("ROWBASE_MAX_ROWS", "3").args(["--max-rows", "1"]);
            }),
            1,
        ),
    ] {
        let (served, addr) = rows(&*configure);
        let body: serde_json::Value =
            reqwest::get(format!("http://{addr}/Artist?select=ArtistId")).await.unwrap().json().await.unwrap();
        assert_eq!(body.as_array().map(Vec::len), Some(expected), "{label}");
        let (status, _) = served.stop().await;
        assert!(status.success());
    }
}

/// A database URL in an error has its password masked.
#[test]
fn passwords_never_reach_an_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_rowbase"))
        .args(["migrate", "status", "postgres://app:TopSecretPw@127.0.0.1:1/app"])
        .env("ROWBASE_LOG", "info")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(all.contains("app:***@127.0.0.1"), "{all}");
    assert!(!all.contains("TopSecretPw"), "{all}");
}
