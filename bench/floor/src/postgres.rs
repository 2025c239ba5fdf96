//! The PostgreSQL floor: axum + tokio-postgres through a deadpool pool (as many connections as
//! Rowbase's default pool), one prepared statement per route whose JSON PostgreSQL builds and
//! aggregates, the same JSON shape Rowbase answers with. No parsing, no planning, no checks:
//! what is left is the cost of HTTP, the pool and PostgreSQL's protocol, the floor of that path.

use std::str::FromStr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

const TRACK: &str = "SELECT coalesce(json_agg(json_build_object('track_id', track_id, 'name', name, 'album_id', album_id, \
    'media_type_id', media_type_id, 'genre_id', genre_id, 'composer', composer, 'milliseconds', milliseconds, \
    'bytes', bytes, 'unit_price', unit_price)), '[]')::text FROM track WHERE track_id = $1";
const FILTER: &str = "SELECT coalesce(json_agg(json_build_object('track_id', track_id, 'name', name, 'milliseconds', milliseconds) \
    ORDER BY milliseconds DESC), '[]')::text \
    FROM (SELECT track_id, name, milliseconds FROM track WHERE genre_id = $1 ORDER BY milliseconds DESC LIMIT 20) t";
const EMBED: &str = "SELECT coalesce(json_agg(json_build_object('album_id', a.album_id, 'title', a.title, \
    'artist', (SELECT json_build_object('name', r.name) FROM artist r WHERE r.artist_id = a.artist_id), \
    'track', (SELECT coalesce(json_agg(json_build_object('track_id', t.track_id, 'name', t.name)), '[]') \
    FROM track t WHERE t.album_id = a.album_id)) ORDER BY a.album_id), '[]')::text \
    FROM (SELECT album_id, title, artist_id FROM album WHERE album_id >= $1 ORDER BY album_id LIMIT 20) a";
/// The offset is written into the statement (an integer, so safe) as Rowbase and PostgREST
/// write it: bound, PostgreSQL's generic plan for an unknown offset sorts the whole table.
fn offset_sql(offset: i64) -> String {
    format!(
        "SELECT coalesce(json_agg(json_build_object('id', id, 'payload', payload) ORDER BY id), '[]')::text \
         FROM (SELECT id, payload FROM item ORDER BY id LIMIT 20 OFFSET {offset}) i"
    )
}
const KEYSET: &str = "SELECT coalesce(json_agg(json_build_object('id', id, 'payload', payload) ORDER BY id), '[]')::text \
    FROM (SELECT id, payload FROM item WHERE id > $1 ORDER BY id LIMIT 20) i";

/// Runs one prepared statement (cached per connection); its single value is the body.
async fn read(pool: &Pool, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Response {
    let result = async {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        let statement = client.prepare_cached(sql).await.map_err(|e| e.to_string())?;
        let row = client.query_one(&statement, params).await.map_err(|e| e.to_string())?;
        row.try_get::<_, String>(0).map_err(|e| e.to_string())
    }
    .await;
    match result {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

/// Runs one write statement (autocommit).
async fn write(pool: &Pool, sql: &'static str, params: &[&(dyn ToSql + Sync)], ok: StatusCode) -> Response {
    let result = async {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        let statement = client.prepare_cached(sql).await.map_err(|e| e.to_string())?;
        client.execute(&statement, params).await.map_err(|e| e.to_string())
    }
    .await;
    match result {
        Ok(_) => ok.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

async fn insert_note(State(pool): State<Pool>, body: Bytes) -> Response {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(text) = json.get("body").and_then(|v| v.as_str()).map(str::to_string) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    write(&pool, "INSERT INTO note (body) VALUES ($1)", &[&text], StatusCode::CREATED).await
}

async fn update_note(State(pool): State<Pool>, Path(id): Path<i64>, body: Bytes) -> Response {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(n) = json.get("n").and_then(serde_json::Value::as_i64) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    write(&pool, "UPDATE note SET n = $1 WHERE id = $2", &[&int(n), &int(id)], StatusCode::NO_CONTENT).await
}

/// The PostgreSQL floor's routes over the database at `url`.
pub async fn app(url: &str) -> Result<Router, Box<dyn std::error::Error>> {
    let config = tokio_postgres::Config::from_str(url)?;
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pool = Pool::builder(manager).max_size((cores * 2).max(4)).build()?;
    Ok(Router::new()
        .route(
            "/pk/{id}",
            get(|State(p): State<Pool>, Path(id): Path<i64>| async move { read(&p, TRACK, &[&int(id)]).await }),
        )
        .route(
            "/filter/{genre}",
            get(|State(p): State<Pool>, Path(g): Path<i64>| async move { read(&p, FILTER, &[&int(g)]).await }),
        )
        .route(
            "/embed/{start}",
            get(|State(p): State<Pool>, Path(s): Path<i64>| async move { read(&p, EMBED, &[&int(s)]).await }),
        )
        .route(
            "/offset/{offset}",
            get(|State(p): State<Pool>, Path(o): Path<i64>| async move { read(&p, &offset_sql(o), &[]).await }),
        )
        .route(
            "/keyset/{after}",
            get(|State(p): State<Pool>, Path(a): Path<i64>| async move { read(&p, KEYSET, &[&int(a)]).await }),
        )
        .route("/note", post(insert_note))
        .route("/note/{id}", patch(update_note))
        .with_state(pool))
}
