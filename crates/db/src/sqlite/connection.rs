//! Opening and configuring connections, and running a read on one.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use regex::{Regex, RegexBuilder};
use rowbase_plan::Value;
use rowbase_sql::ReadStatement;
use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::trace::{TraceEvent, TraceEventCodes};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use super::classify::classify;
use crate::database::{JsonArray, ReadOutput, answer_too_large, check_answer};
use crate::error::{DbError, ErrorKind};

/// Prepared statements kept per connection (rusqlite's LRU).
const STATEMENT_CACHE: usize = 256;

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Largest compiled regular expression `match`/`imatch` accept, in bytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

fn flags(read_only: bool) -> OpenFlags {
    // Never SQLITE_OPEN_CREATE: Rowbase serves an existing file and must not make one.
    let access = if read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
    access | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// The first connection: switches the file to WAL (unless read-only) so readers never block a
/// writer. WAL is a property of the file; the switch changes no row and no schema.
pub(crate) fn open_setup(path: &Path, read_only: bool) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(path, flags(read_only))?;
    if !read_only {
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            let now: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            tracing::info!(journal_mode = %now, "switched the SQLite journal mode");
        }
    }
    Ok(conn)
}

/// A pooled read connection: `query_only`, plus what every connection has (see [`open`]).
pub(crate) fn open_reader(
    path: &Path,
    read_only: bool,
    statements: Arc<AtomicU64>,
) -> Result<Connection, rusqlite::Error> {
    let mut conn = open(path, read_only, statements)?;
    conn.pragma_update(None, "query_only", "ON")?;
    // The statement time limit: every few thousand VM steps SQLite asks whether the read that
    // runs on this thread is past its deadline (`with_deadline`); past it, the statement stops
    // with SQLITE_INTERRUPT. No timer is armed per read.
    conn.progress_handler(PROGRESS_STEPS, Some(progress))?;
    Ok(conn)
}

/// VM steps between two looks at the deadline (a few tens of microseconds of work).
const PROGRESS_STEPS: std::ffi::c_int = 5_000;

thread_local! {
    /// The deadline of the read running on this thread, if it has one.
    static DEADLINE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
    /// Looks of the progress handler left to a read with a work budget (0: none); it stops the
    /// read at the last one.
    static BUDGET: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The progress handler: `true` (stop the statement) past the read's deadline or its work budget.
fn progress() -> bool {
    match BUDGET.get() {
        0 => {}
        1 => return true,
        n => BUDGET.set(n - 1),
    }
    DEADLINE.get().is_some_and(|d| Instant::now() >= d)
}

/// Runs `read` (a read on a reader connection, on this thread) with the statement time limit
/// `limit`: past it the reader's progress handler stops the statement (SQLITE_INTERRUPT).
pub(crate) fn with_deadline<T>(limit: Option<std::time::Duration>, read: impl FnOnce() -> T) -> T {
    DEADLINE.set(limit.map(|l| Instant::now() + l));
    let out = read();
    DEADLINE.set(None);
    out
}

/// Runs `read` as [`with_deadline`] does, and also stops it once it has done `steps` of SQLite's
/// virtual-machine steps (rounded up to the handler's period). Work, not time: a read the
/// operating system pauses is not stopped for it. Returns the read's result and whether the
/// budget stopped it.
pub(crate) fn with_budget<T>(steps: u32, limit: Option<std::time::Duration>, read: impl FnOnce() -> T) -> (T, bool) {
    let looks = steps.div_ceil(PROGRESS_STEPS.unsigned_abs()).max(1) + 1;
    BUDGET.set(looks);
    let out = with_deadline(limit, read);
    let spent = BUDGET.get() == 1;
    BUDGET.set(0);
    (out, spent)
}

/// The writer's connection, with the chosen durability: `synchronous=FULL` syncs the WAL at
/// every commit (an acknowledged write survives a power loss); `NORMAL` survives a crash of the
/// process but may lose the last commits on a power loss.
pub(crate) fn open_writer(
    path: &Path,
    synchronous: &str,
    statements: Arc<AtomicU64>,
) -> Result<Connection, rusqlite::Error> {
    let conn = open(path, false, statements)?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    Ok(conn)
}

/// Foreign keys on, busy timeout, statement cache with a stable plan per statement, `regexp()`,
/// and the statement counter.
///
/// The query planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`) keeps a cached
/// statement's plan whatever values are bound. Without it SQLite marks a statement to be compiled
/// again on every new binding of a parameter its planner looked at, and it looks at many: an
/// equality next to an `ORDER BY` (`GenreId=eq.3&order=Milliseconds`), a bound `LIMIT`, a
/// `LIKE`/`GLOB` pattern, STAT4 samples. Each request would pay a full prepare, as much CPU as
/// a small query itself. What is given up: plans that depend on a bound value. The SQLite
/// dialect puts back the ones that matter: a LIMIT is written as a literal (each page size has
/// its own statement and plan), and a `like` with a literal prefix carries an explicit range
/// so an index finds its rows. Still lost: a partial index whose condition a bound value would
/// satisfy (`WHERE active = 1` for `active=eq.true`), an `ilike` prefix through a NOCASE index,
/// STAT4's estimates from the values.
fn open(path: &Path, read_only: bool, statements: Arc<AtomicU64>) -> Result<Connection, rusqlite::Error> {
    let mut conn = Connection::open_with_flags(path, flags(read_only))?;
    conn.busy_timeout(std::time::Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    register_regexp(&conn)?;
    register_integer_cast(&conn)?;
    // The profile event: once per statement run to its end (a trigger's sub-program is not a
    // statement of its own), with no text to convert (the statement event hands over the SQL,
    // which rusqlite copies into a string: more CPU than a small read itself).
    conn.trace_v2(
        TraceEventCodes::SQLITE_TRACE_PROFILE,
        Some(move |event: TraceEvent<'_>| {
            if let TraceEvent::Profile(..) = event {
                statements.fetch_add(1, Ordering::Relaxed);
            }
        }),
    )?;
    Ok(conn)
}

/// `rowbase_integer(x)`, the SQLite dialect's `::integer` cast: a fraction is rounded half away
/// from zero, as PostgreSQL's `numeric` and MySQL's `CAST(... AS SIGNED)` do (SQLite's own
/// `CAST(x AS INTEGER)` truncates: 0.99 gives 0). An integer stays exact; text is read as a
/// number (an integer exactly, else a decimal rounded; text that is not a number gives SQLite's
/// `CAST` answer, its leading integer or 0); NULL stays NULL; a blob gives NULL.
fn register_integer_cast(conn: &Connection) -> Result<(), rusqlite::Error> {
    fn round(f: f64) -> i64 {
        // `as` saturates at i64's bounds, as SQLite's CAST does.
        #[allow(clippy::cast_possible_truncation)]
        let n = f.round() as i64;
        n
    }
    conn.create_scalar_function(
        "rowbase_integer",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Integer(i) => Some(i),
                ValueRef::Real(f) => Some(round(f)),
                ValueRef::Text(t) => {
                    let text = String::from_utf8_lossy(t);
                    let text = text.trim();
                    text.parse::<i64>().ok().or_else(|| text.parse::<f64>().ok().map(round)).or_else(|| {
                        let end = text
                            .char_indices()
                            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
                            .map_or(text.len(), |(i, _)| i);
                        Some(text[..end].parse().unwrap_or(0))
                    })
                }
                ValueRef::Null | ValueRef::Blob(_) => None,
            })
        },
    )
}

/// `regexp(pattern, text)`, which SQLite calls for `text REGEXP pattern`. The compiled pattern is
/// cached per statement as auxiliary data. NULL text gives NULL.
fn register_regexp(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.create_scalar_function("regexp", 2, FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        let re: Arc<Regex> = ctx.get_or_create_aux(0, |pattern| -> Result<Regex, String> {
            let text = pattern.as_str().map_err(|e| e.to_string())?;
            RegexBuilder::new(text)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| format!("invalid regular expression: {e}"))
        })?;
        let matched = match ctx.get_raw(1) {
            ValueRef::Null => None,
            ValueRef::Text(t) => Some(re.is_match(&String::from_utf8_lossy(t))),
            ValueRef::Integer(i) => Some(re.is_match(&i.to_string())),
            ValueRef::Real(f) => Some(re.is_match(&f.to_string())),
            ValueRef::Blob(_) => None,
        };
        Ok(matched)
    })
}

/// A plan value as an SQLite parameter.
pub(crate) struct Param<'a>(pub(crate) &'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Integer(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            // Bound as text: a NUMERIC column's affinity converts it without going through f64
            // on our side.
            // SQLite stores a timestamp as the text it is given, as Rowbase's own now() writes it.
            // A `timestamp` (without time zone) value loses its zone designator, as PostgreSQL's
            // input ignores it: `...T11:13:20.123Z` is stored and compared as `...T11:13:20.123`.
            Value::Timestamp(s) => ToSqlOutput::Borrowed(ValueRef::Text(rowbase_plan::without_zone(s).as_bytes())),
            Value::Decimal(s) | Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// Runs a read and assembles the response body. Rows already carry their JSON objects; the
/// array is joined here (streaming form) or built by the engine (counted form).
///
/// Errors: the engine's, classified; [`crate::database::answer_too_large`] once the body passes
/// `limit` bytes (the rows after are not read), or SQLite refused to make one value that long
/// (the reader connections' length limit is the answer's).
pub(crate) fn run_read(conn: &Connection, read: &ReadStatement, limit: usize) -> Result<ReadOutput, DbError> {
    let classified = |e: rusqlite::Error| match classify(&e) {
        e if e.kind == ErrorKind::TooComplex && e.message.contains("too big") => answer_too_large(limit),
        other => other,
    };
    let mut stmt = conn.prepare_cached(&read.statement.sql).map_err(classified)?;
    let params = rusqlite::params_from_iter(read.statement.params.iter().map(Param));
    let mut rows = stmt.query(params).map_err(classified)?;
    if read.counted {
        let row = rows.next().map_err(classified)?.ok_or_else(|| classified(rusqlite::Error::QueryReturnedNoRows))?;
        let total: i64 = row.get(0).map_err(classified)?;
        let page: i64 = row.get(1).map_err(classified)?;
        let body: String = row.get(2).map_err(classified)?;
        check_answer(&body, limit)?;
        return Ok(ReadOutput { body, page_rows: page.unsigned_abs(), total: Some(total.unsigned_abs()) });
    }
    // Each row's object goes from SQLite's buffer into the body: valid UTF-8 (what SQLite's JSON
    // functions write) is borrowed, not copied into a String of its own first.
    let mut array = JsonArray::new(limit);
    while let Some(row) = rows.next().map_err(classified)? {
        match row.get_ref(0).map_err(classified)? {
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(text) => array.push(text)?,
                Err(_) => array.push(&String::from_utf8_lossy(t))?,
            },
            _ => array.push("null")?,
        }
    }
    let (body, page_rows) = array.finish();
    Ok(ReadOutput { body, page_rows, total: None })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use rowbase_plan::{Action, Plan, ReadRequest, RequestContext, Window, plan};
    use rowbase_request::parse_query;
    use rowbase_sql::{SqliteDialect, render_read};
    use rusqlite::{Connection, StatementStatus};

    use super::{open_reader, register_integer_cast, run_read};
    use crate::sqlite::introspect;

    /// A `like` with a literal prefix finds its rows through an index on the column although the
    /// planner never sees the pattern (see the SQLite dialect's prefix range), and finds exactly
    /// the rows the pattern alone does.
    #[test]
    fn a_prefix_search_uses_the_index() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("people.sqlite");
        rusqlite::Connection::open(&path)
            .and_then(|c| {
                c.execute_batch(
                    "CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, nick TEXT COLLATE NOCASE);
                     CREATE INDEX person_name ON person (name);
                     INSERT INTO person (name, nick) VALUES ('abc', 'Zoo'), ('abcd', 'zoo'), ('ABCd', 'Z'),
                        ('abd', '['), ('ab', NULL), ('xabc', NULL), ('abc\u{10FFFF}z', NULL), ('abz', NULL),
                        ('a', NULL), (NULL, NULL);",
                )
            })
            .expect("fixture");
        let conn = open_reader(&path, true, Arc::new(AtomicU64::new(0))).expect("opens");
        let catalog = introspect::catalog(&conn).expect("catalog");
        for (query, expected) in [
            ("select=name&name=like.abc*&order=id", json(["abc", "abcd", "abc\u{10FFFF}z"])),
            ("select=name&name=like.ab_&order=id", json(["abc", "abd", "abz"])),
            ("select=name&name=like.*bc*&order=id", json(["abc", "abcd", "xabc", "abc\u{10FFFF}z"])),
            // A NOCASE column orders `zoo` after `[`, the successor of `Z`: the range is BINARY.
            ("select=name:nick&nick=like.Z*&order=id", json(["Zoo", "Z"])),
        ] {
            let params = parse_query(query).expect("parses");
            let request = ReadRequest { table: "person", params: &params, window: Window::default(), count: false };
            let ctx = RequestContext { schema: "public".into(), ..Default::default() };
            let Ok(Plan::Read(plan)) = plan(&catalog, &ctx, Action::Read(request)) else { panic!("plans a read") };
            let read = render_read(&plan, &SqliteDialect).expect("renders");
            let output = run_read(&conn, &read, usize::MAX).expect("runs");
            let names: serde_json::Value = serde_json::from_str(&output.body).expect("JSON");
            let names: Vec<&str> = names.as_array().expect("rows").iter().filter_map(|r| r["name"].as_str()).collect();
            assert_eq!(serde_json::json!(names), expected, "{query}");
            let explain = format!("EXPLAIN QUERY PLAN {}", read.statement.sql);
            let mut stmt = conn.prepare(&explain).expect("explains");
            let params = rusqlite::params_from_iter(read.statement.params.iter().map(super::Param));
            let detail: Vec<String> =
                stmt.query_map(params, |r| r.get(3)).expect("plan").collect::<Result<_, _>>().expect("rows");
            let indexed = detail
                .iter()
                .any(|d| d.contains("USING INDEX person_name") || d.contains("USING COVERING INDEX person_name"));
            assert_eq!(indexed, query.contains("name=like.") && !query.contains("like.*"), "{query}: {detail:?}");
        }
    }

    /// Timestamps compare as instants whatever form they were stored in (the column is wrapped
    /// in `strftime`), and a range on the bare column beside the comparison lets its index find
    /// the rows: right answers across zones near a date's edge, and the index in the plan. (With
    /// an `order` on another column, SQLite's planner, without statistics, may prefer to scan in
    /// that order instead.)
    #[test]
    fn an_instant_comparison_uses_the_index() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("events.sqlite");
        rusqlite::Connection::open(&path)
            .and_then(|c| {
                c.execute_batch(
                    "CREATE TABLE event (id INTEGER PRIMARY KEY, at TIMESTAMPTZ NOT NULL);
                     CREATE INDEX event_at ON event (at);
                     INSERT INTO event (at) VALUES ('2005-05-24 23:00:00'), ('2005-05-24T22:00:00Z'),
                        ('2005-05-25T01:00:00+05:00'), ('2005-05-23 23:59:59'), ('2005-05-26T00:00:00-10:00');",
                )
            })
            .expect("fixture");
        let conn = open_reader(&path, true, Arc::new(AtomicU64::new(0))).expect("opens");
        let catalog = introspect::catalog(&conn).expect("catalog");
        for (query, expected) in [
            // 2005-05-25T01:00+05:00 is 2005-05-24T20:00Z; 2005-05-26T00:00-10:00 is 10:00Z on the 26th.
            ("select=id&at=gte.2005-05-24T21:00:00Z", serde_json::json!([1, 2, 5])),
            ("select=id&at=lt.2005-05-24T21:00:00Z", serde_json::json!([3, 4])),
            ("select=id&at=eq.2005-05-24T20:00:00Z", serde_json::json!([3])),
            ("select=id&at=gt.2005-05-26T09:00:00Z", serde_json::json!([5])),
        ] {
            let params = parse_query(query).expect("parses");
            let request = ReadRequest { table: "event", params: &params, window: Window::default(), count: false };
            let ctx = RequestContext { schema: "public".into(), ..Default::default() };
            let Ok(Plan::Read(plan)) = plan(&catalog, &ctx, Action::Read(request)) else { panic!("plans a read") };
            let read = render_read(&plan, &SqliteDialect).expect("renders");
            let output = run_read(&conn, &read, usize::MAX).expect("runs");
            let rows: serde_json::Value = serde_json::from_str(&output.body).expect("JSON");
            let mut ids: Vec<i64> = rows.as_array().expect("rows").iter().filter_map(|r| r["id"].as_i64()).collect();
            ids.sort_unstable();
            assert_eq!(serde_json::json!(ids), expected, "{query}");
            let explain = format!("EXPLAIN QUERY PLAN {}", read.statement.sql);
            let mut stmt = conn.prepare(&explain).expect("explains");
            let params = rusqlite::params_from_iter(read.statement.params.iter().map(super::Param));
            let detail: Vec<String> =
                stmt.query_map(params, |r| r.get(3)).expect("plan").collect::<Result<_, _>>().expect("rows");
            assert!(detail.iter().any(|d| d.contains("INDEX event_at")), "{query}: {detail:?}");
        }
    }

    fn json<const N: usize>(names: [&str; N]) -> serde_json::Value {
        serde_json::json!(names.to_vec())
    }

    /// A cached statement run again with new values must not be compiled again (see [`open`] on
    /// the query planner stability guarantee): shapes with an equality and an order, a page
    /// size, an offset, an embedding with a limit of its own.
    #[test]
    fn cached_reads_are_not_prepared_again() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chinook/chinook.sqlite");
        let conn = open_reader(&path, true, Arc::new(AtomicU64::new(0))).expect("chinook opens");
        let catalog = introspect::catalog(&conn).expect("catalog");
        let shapes = [
            ("Album", "select=AlbumId,Title,Artist(Name),Track(TrackId,Name)&AlbumId=gte.{}&order=AlbumId&limit=20"),
            ("Track", "select=TrackId,Name&GenreId=eq.{}&order=Milliseconds.desc&limit=20"),
            ("Track", "select=TrackId&order=TrackId&limit=5&offset={}"),
            ("Artist", "select=Name,Album(Title)&Album.limit=2&ArtistId=gt.{}&limit=3"),
        ];
        for (table, shape) in shapes {
            let mut sql: Option<String> = None;
            for n in [3, 7, 11] {
                let query = shape.replace("{}", &n.to_string());
                let params = parse_query(&query).expect("parses");
                let window = Window {
                    offset: params.root_offset().unwrap_or(0),
                    limit: params.root_limit().map(i64::unsigned_abs),
                };
                let request = ReadRequest { table, params: &params, window, count: false };
                let ctx = RequestContext { schema: "public".into(), ..Default::default() };
                let Ok(Plan::Read(plan)) = plan(&catalog, &ctx, Action::Read(request)) else { panic!("plans a read") };
                let read = render_read(&plan, &SqliteDialect).expect("renders");
                let output = run_read(&conn, &read, usize::MAX).expect("runs");
                assert!(output.page_rows > 0, "{query} found rows");
                assert!(
                    sql.as_ref().is_none_or(|s| *s == read.statement.sql),
                    "{shape}: one statement for every value"
                );
                sql = Some(read.statement.sql);
            }
            let stmt = conn.prepare_cached(sql.as_deref().expect("ran")).expect("cached");
            assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0, "{shape} was prepared again: {sql:?}");
        }
    }

    #[test]
    fn integer_casts_round() {
        let conn = Connection::open_in_memory().expect("opens");
        register_integer_cast(&conn).expect("registers");
        let rounded: Vec<Option<i64>> = ["0.99", "-0.5", "'2.5'", "9007199254740993", "'12abc'", "NULL"]
            .iter()
            .map(|x| conn.query_row(&format!("SELECT rowbase_integer({x})"), [], |r| r.get(0)).expect("runs"))
            .collect();
        assert_eq!(rounded, [Some(1), Some(-1), Some(3), Some(9_007_199_254_740_993), Some(12), None]);
    }
}
