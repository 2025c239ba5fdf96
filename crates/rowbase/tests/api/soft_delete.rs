//! `soft_delete = true` on every engine: DELETE marks rows, reads hide them unless asked, a
//! deleted row does not block a new one with the same unique key, restore, hard delete only
//! when the server allows it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::declared::{Engine, app_from_schema_with};

const SCHEMA: &str = r#"
[tables.member]
soft_delete = true
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "email", type = "varchar(200)", not_null = true, unique = true },
  { name = "name", type = "text" },
]

[tables.post]
soft_delete = true
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "member_id", type = "integer", not_null = true, references = "member.id" },
  { name = "title", type = "text", not_null = true },
]
"#;

const INCLUDE: (&str, &str) = ("Prefer", "deleted=include");
const ONLY: (&str, &str) = ("Prefer", "deleted=only");

async fn ids(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Vec<i64> {
    let reply = app.get_with(path, headers).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    reply.json().as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// Restores member 1 (PATCH of a deleted row, `deleted_at` back to NULL).
async fn restore(app: &TestApp) -> crate::common::Reply {
    let headers = [ONLY, ("Prefer", "return=representation")];
    app.write(Method::PATCH, "/member?id=eq.1", &headers, json!({"deleted_at": null})).await
}

async fn post(app: &TestApp, path: &str, body: Value) -> crate::common::Reply {
    app.write(Method::POST, path, &[], body).await
}

async fn soft_delete_behaves(engine: Engine, allow_hard_delete: bool) {
    let mut options = rowbase::Options::default();
    options.http.allow_hard_delete = allow_hard_delete;
    let Some((app, _raw)) = app_from_schema_with(engine, SCHEMA, options).await else { return };
    let reply = post(&app, "/member", json!([{"email": "ada@example.com"}, {"email": "grace@example.com"}])).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let reply = post(&app, "/post", json!([{"member_id": 1, "title": "a"}, {"member_id": 1, "title": "b"}])).await;
    assert_eq!(reply.status, 201, "{}", reply.text);

    // DELETE marks the row; reads hide it unless asked.
    let reply = app.request(Method::DELETE, "/member?id=eq.1", &[]).await;
    assert_eq!(reply.status, 204, "{engine:?}: {}", reply.text);
    assert_eq!(ids(&app, "/member?order=id", &[]).await, [2], "{engine:?}");
    assert_eq!(ids(&app, "/member?order=id", &[INCLUDE]).await, [1, 2]);
    assert_eq!(ids(&app, "/member?order=id", &[ONLY]).await, [1]);
    assert_eq!(ids(&app, "/member?deleted_at=not.is.null", &[]).await, [1], "a filter on deleted_at asks");
    let row = &app.get_with("/member?id=eq.1", &[INCLUDE]).await.json()[0];
    assert!(row["deleted_at"].is_string(), "{row}");
    assert!(row.get("rowbase_alive").is_none(), "bookkeeping stays out of *: {row}");
    // Embedded resources hide deleted rows too.
    let reply = app.request(Method::DELETE, "/post?id=eq.1", &[]).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let reply = app.get_with("/member?select=id,post(id)&id=eq.1", &[]).await;
    assert_eq!(reply.json(), json!([]), "{engine:?}: {}", reply.text);
    let reply = app.get_with("/member?select=id,post(id)&id=eq.1", &[INCLUDE]).await;
    assert_eq!(reply.json(), json!([{"id": 1, "post": [{"id": 1}, {"id": 2}]}]), "{}", reply.text);
    let reply = app.get("/post?select=id,member(id)&order=id").await;
    assert_eq!(reply.json(), json!([{"id": 2, "member": null}]), "{engine:?}: {}", reply.text);

    // A second delete keeps the first time; an update does not reach a deleted row.
    let first = app.get_with("/member?select=deleted_at&id=eq.1", &[INCLUDE]).await.json();
    let reply = app.request(Method::DELETE, "/member?id=eq.1", &[INCLUDE]).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(app.get_with("/member?select=deleted_at&id=eq.1", &[INCLUDE]).await.json(), first);
    let reply =
        app.write(Method::PATCH, "/member?id=eq.1", &[("Prefer", "return=representation")], json!({"name": "x"})).await;
    assert_eq!((reply.status, reply.json()), (200, json!([])), "{}", reply.text);

    // The deleted row does not block a new one with its email; a live one does.
    let reply = post(&app, "/member", json!({"email": "ada@example.com"})).await;
    assert_eq!(reply.status, 201, "{engine:?}: {}", reply.text);
    let reply = post(&app, "/member", json!({"email": "ada@example.com"})).await;
    assert_eq!((reply.status, reply.code()), (409, "23505".into()), "{engine:?}: {}", reply.text);

    // Restore: clearing deleted_at of a deleted row (here blocked by the new live row first).

    let reply = restore(&app).await;
    assert_eq!((reply.status, reply.code()), (409, "23505".into()), "{engine:?}: {}", reply.text);
    let reply = app.request(Method::DELETE, "/member?id=eq.3", &[]).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let reply = restore(&app).await;
    assert_eq!(reply.status, 200, "{engine:?}: {}", reply.text);
    assert_eq!(reply.json()[0]["deleted_at"], Value::Null, "{}", reply.text);
    assert_eq!(ids(&app, "/member?order=id", &[]).await, [1, 2]);

    // A hard delete only where the server allows it.
    let hard = [("Prefer", "delete=hard")];
    let reply = app.request(Method::DELETE, "/member?id=eq.3", &[hard[0], INCLUDE]).await;
    if allow_hard_delete {
        assert_eq!(reply.status, 204, "{}", reply.text);
        assert_eq!(ids(&app, "/member?order=id", &[INCLUDE]).await, [1, 2], "row 3 is gone");
    } else {
        assert_eq!((reply.status, reply.code()), (403, "42501".into()), "{}", reply.text);
        assert_eq!(ids(&app, "/member?order=id", &[INCLUDE]).await, [1, 2, 3], "nothing removed");
    }

    // An upsert on the unique key merges into the live row, and inserts when only a deleted
    // row has the key (the key holds among live rows).
    let upsert = [("Prefer", "resolution=merge-duplicates"), ("Prefer", "return=representation")];
    let grace = json!({"email": "grace@example.com", "name": "Grace"});
    let reply = app.write(Method::POST, "/member?on_conflict=email&select=id,name", &upsert, grace.clone()).await;
    assert_eq!((reply.status, reply.json()), (200, json!([{"id": 2, "name": "Grace"}])), "{engine:?}: {}", reply.text);
    let reply = app.request(Method::DELETE, "/member?id=eq.2", &[]).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let reply = app.write(Method::POST, "/member?on_conflict=email&select=id,name", &upsert, grace).await;
    assert_eq!(reply.status, 201, "{engine:?}: {}", reply.text);
    assert_ne!(reply.json()[0]["id"], json!(2), "a new row: {}", reply.text);
    let reply = app.write(Method::POST, "/member?on_conflict=name", &upsert, json!({"email": "x@example.com"})).await;
    assert_eq!((reply.status, reply.code()), (400, "42P10".into()), "not a unique key: {}", reply.text);
}

#[tokio::test]
async fn soft_delete_on_sqlite() {
    soft_delete_behaves(Engine::Sqlite, false).await;
    soft_delete_behaves(Engine::Sqlite, true).await;
}

#[tokio::test]
async fn soft_delete_on_postgresql() {
    soft_delete_behaves(Engine::Postgres, true).await;
}

#[tokio::test]
async fn soft_delete_on_mysql() {
    soft_delete_behaves(Engine::MySql, false).await;
}
