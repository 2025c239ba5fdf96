//! `spawn_app()` and the oracle: plain SQL on the same file.

use std::path::{Path, PathBuf};

use reqwest::header::HeaderMap;
use rowbase::Server;
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde_json::{Map, Value};

/// The shipped Chinook sample.
pub fn chinook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chinook/chinook.sqlite")
}

/// A running server on a private copy of a database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db_path: PathBuf,
    pub server: Option<Server>,
    /// Any other server database served (dropped with the app).
    _server_db: Option<Box<dyn std::any::Any + Send>>,
    /// The database URL or path served.
    url: String,
    _dir: tempfile::TempDir,
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `code` of an error body.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Work done on a SQLite copy before it is served.
type Prepare<'a> = Box<dyn FnOnce(&Connection) + 'a>;

/// What a test server serves and how: built by [`spawn_app`], started by `.await`.
pub struct Spawn<'a> {
    source: Source,
    prepare: Option<Prepare<'a>>,
    options: rowbase::Options,
}

/// The database a test server serves.
enum Source {
    /// A private copy of this SQLite file.
    File(PathBuf),
    /// A new SQLite file built by this SQL.
    Schema(String),
    /// A server database at this URL, with what keeps it alive (dropped with the app).
    Url(String, Box<dyn std::any::Any + Send>),
}

/// The one way tests start a server: on a private copy of Chinook unless told otherwise
/// (`.schema(sql)`, `.url(url, keep)`), with `.prepare(f)` run on a SQLite copy
/// before it is served and `.options(o)`; `.await` starts it.
pub fn spawn_app<'a>() -> Spawn<'a> {
    Spawn { source: Source::File(chinook()), prepare: None, options: rowbase::Options::default() }
}

impl<'a> Spawn<'a> {
    /// Serves a new SQLite database built by `sql`.
    pub fn schema(mut self, sql: &str) -> Self {
        self.source = Source::Schema(sql.to_string());
        self
    }

    /// Serves the server database at `url`; `keep` lives (and is dropped) with the app.
    pub fn url(mut self, url: &str, keep: Box<dyn std::any::Any + Send>) -> Self {
        self.source = Source::Url(url.to_string(), keep);
        self
    }

    /// Runs `prepare` on the SQLite copy before serving it.
    pub fn prepare(mut self, prepare: impl FnOnce(&Connection) + 'a) -> Self {
        self.prepare = Some(Box::new(prepare));
        self
    }

    /// Serves with `options`.
    pub fn options(mut self, options: rowbase::Options) -> Self {
        self.options = options;
        self
    }

    async fn start(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("db.sqlite");
        let (url, keep) = match self.source {
            Source::Url(url, keep) => (url, Some(keep)),
            Source::File(source) => {
                std::fs::copy(source, &db_path).expect("copy database");
                (db_path.to_string_lossy().into_owned(), None)
            }
            Source::Schema(sql) => {
                Connection::open(&db_path).expect("create").execute_batch(&sql).expect("schema");
                (db_path.to_string_lossy().into_owned(), None)
            }
        };
        if let Some(prepare) = self.prepare {
            assert!(keep.is_none(), "prepare runs on SQLite copies only");
            prepare(&Connection::open(&db_path).expect("open copy"));
        }
        let server =
            rowbase::start(&url, &self.options, "127.0.0.1:0".parse().expect("address"), std::future::pending())
                .await
                .expect("server starts");
        TestApp {
            base: format!("http://{}", server.addr),
            client: reqwest::Client::new(),
            db_path,
            url,
            server: Some(server),
            _server_db: keep,
            _dir: dir,
        }
    }
}

impl<'a> std::future::IntoFuture for Spawn<'a> {
    type Output = TestApp;
    type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = TestApp> + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.start())
    }
}

impl TestApp {
    pub async fn get(&self, path_and_query: &str) -> Reply {
        self.get_with(path_and_query, &[]).await
    }

    pub async fn get_with(&self, path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
        self.request(reqwest::Method::GET, path_and_query, headers).await
    }

    pub async fn request(&self, method: reqwest::Method, path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(method, path_and_query, headers, None).await
    }

    /// A write with a JSON body.
    pub async fn write(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Value,
    ) -> Reply {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        self.send(method, path_and_query, &all, Some(body.to_string())).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{}", self.base, path_and_query));
        if let Some(body) = body {
            request = request.body(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply { status, headers, text }
    }

    /// A read-only connection to the same file, for the oracle.
    pub fn oracle(&self) -> Connection {
        Connection::open_with_flags(&self.db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("oracle")
    }

    /// Runs `sql` on the oracle and returns its rows as JSON objects keyed by column name.
    pub fn sql(&self, sql: &str) -> Value {
        rows_as_json(&self.oracle(), sql)
    }

    /// The URL of the server database, for server-database apps.
    pub fn server_url(&self) -> String {
        self.url.clone()
    }

    pub fn statements(&self) -> u64 {
        self.server.as_ref().map_or(0, |s| s.db.statements_executed())
    }
}

/// The rows of `sql` as a JSON array of objects (SQLite's own types: integer, real, text, null).
pub fn rows_as_json(conn: &Connection, sql: &str) -> Value {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("oracle SQL {sql}: {e}"));
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([]).expect("oracle query");
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("oracle row") {
        let mut object = Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i).expect("value") {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(f) => Value::from(f),
                ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(_) => Value::Null,
            };
            object.insert(name.clone(), value);
        }
        out.push(Value::Object(object));
    }
    Value::Array(out)
}

/// The single column of `sql` as a list of values.
pub fn column(conn: &Connection, sql: &str) -> Vec<Value> {
    match rows_as_json(conn, sql) {
        Value::Array(rows) => rows
            .into_iter()
            .map(|r| r.as_object().and_then(|o| o.values().next().cloned()).unwrap_or(Value::Null))
            .collect(),
        _ => Vec::new(),
    }
}
