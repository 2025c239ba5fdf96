//! The floor: the smallest HTTP + SQLite server that answers the benchmark's questions, each with
//! one prepared statement whose JSON SQLite builds, the same JSON shape Rowbase answers with. No
//! parsing of a query language, no planning, no checks, no thread hop: what is left is the cost
//! of HTTP and SQLite itself, the physical limit of that path on the machine.
//!
//!     rowbase-bench-floor DATABASE ADDRESS
//!
//! A `postgres://` DATABASE serves the PostgreSQL floor instead ([`postgres`]).
//!
//! Reads run where the request already is, on the async worker thread, each worker with its own
//! read connection (statements cached): the fastest honest way, which blocks the worker for the
//! statement's time. Writes share one connection behind a mutex on tokio's blocking threads, one
//! autocommit statement each (WAL, synchronous FULL, as Rowbase's default).

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use rusqlite::{Connection, OpenFlags, ToSql};

mod postgres;

static DATABASE: OnceLock<PathBuf> = OnceLock::new();
static WRITER: OnceLock<Mutex<Connection>> = OnceLock::new();

thread_local! {
    static READER: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

const TRACK: &str = "SELECT json_group_array(json_object('TrackId', TrackId, 'Name', Name, 'AlbumId', AlbumId, \
    'MediaTypeId', MediaTypeId, 'GenreId', GenreId, 'Composer', Composer, 'Milliseconds', Milliseconds, \
    'Bytes', Bytes, 'UnitPrice', UnitPrice)) FROM Track WHERE TrackId = ?1";
const FILTER: &str = "SELECT json_group_array(json_object('TrackId', TrackId, 'Name', Name, 'Milliseconds', Milliseconds)) \
    FROM (SELECT TrackId, Name, Milliseconds FROM Track WHERE GenreId = ?1 ORDER BY Milliseconds DESC LIMIT 20)";
// A subquery's result is text to SQLite (its JSON subtype does not cross the boundary): json()
// marks it JSON again, or the artist and tracks would come out as strings.
const EMBED: &str = "SELECT json_group_array(json_object('AlbumId', a.AlbumId, 'Title', a.Title, \
    'Artist', json((SELECT json_object('Name', r.Name) FROM Artist r WHERE r.ArtistId = a.ArtistId)), \
    'Track', json((SELECT json_group_array(json_object('TrackId', t.TrackId, 'Name', t.Name)) FROM Track t WHERE t.AlbumId = a.AlbumId)))) \
    FROM (SELECT AlbumId, Title, ArtistId FROM Album WHERE AlbumId >= ?1 ORDER BY AlbumId LIMIT 20) a";
const OFFSET: &str = "SELECT json_group_array(json_object('id', id, 'payload', payload)) \
    FROM (SELECT id, payload FROM item ORDER BY id LIMIT 20 OFFSET ?1)";
const KEYSET: &str = "SELECT json_group_array(json_object('id', id, 'payload', payload)) \
    FROM (SELECT id, payload FROM item WHERE id > ?1 ORDER BY id LIMIT 20)";

/// Runs one read statement with one integer parameter on the worker thread itself (no hop to a
/// blocking thread); its single value is the JSON body.
async fn read(sql: &'static str, param: i64) -> Response {
    let result = READER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let path = DATABASE.get().expect("database set");
            *slot = Some(Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?);
        }
        let conn = slot.as_ref().expect("opened");
        conn.prepare_cached(sql)?.query_row([param], |r| r.get::<_, String>(0))
    });
    match result {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Runs one write statement on the shared writer connection.
async fn write(sql: &'static str, params: Vec<Box<dyn ToSql + Send>>, ok: StatusCode) -> Response {
    let result = tokio::task::spawn_blocking(move || {
        let conn = WRITER.get().expect("writer").lock().unwrap_or_else(|e| e.into_inner());
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref() as &dyn ToSql).collect();
        conn.prepare_cached(sql)?.execute(refs.as_slice())
    })
    .await;
    match result {
        Ok(Ok(_)) => ok.into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn field<'a>(body: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    body.get(name)
}

async fn insert_note(body: Bytes) -> Response {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(text) = field(&json, "body").and_then(|v| v.as_str()).map(str::to_string) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    write("INSERT INTO note (body) VALUES (?1)", vec![Box::new(text)], StatusCode::CREATED).await
}

async fn update_note(Path(id): Path<i64>, body: Bytes) -> Response {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(n) = field(&json, "n").and_then(serde_json::Value::as_i64) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    write("UPDATE note SET n = ?1 WHERE id = ?2", vec![Box::new(n), Box::new(id)], StatusCode::NO_CONTENT).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(database), Some(address)) = (args.next(), args.next()) else {
        eprintln!("usage: rowbase-bench-floor DATABASE ADDRESS");
        std::process::exit(2);
    };
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        let listener = tokio::net::TcpListener::bind(&address).await?;
        axum::serve(listener, postgres::app(&database).await?).await?;
        return Ok(());
    }
    let writer = Connection::open(&database)?;
    writer.pragma_update(None, "journal_mode", "WAL")?;
    writer.pragma_update(None, "synchronous", "FULL")?;
    writer.busy_timeout(std::time::Duration::from_secs(5))?;
    DATABASE.set(PathBuf::from(database)).map_err(|_| "database set twice")?;
    WRITER.set(Mutex::new(writer)).map_err(|_| "writer set twice")?;
    let app = Router::new()
        .route("/pk/{id}", get(|Path(id): Path<i64>| read(TRACK, id)))
        .route("/filter/{genre}", get(|Path(genre): Path<i64>| read(FILTER, genre)))
        .route("/embed/{start}", get(|Path(start): Path<i64>| read(EMBED, start)))
        .route("/offset/{offset}", get(|Path(offset): Path<i64>| read(OFFSET, offset)))
        .route("/keyset/{after}", get(|Path(after): Path<i64>| read(KEYSET, after)))
        .route("/note", post(insert_note))
        .route("/note/{id}", patch(update_note));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
