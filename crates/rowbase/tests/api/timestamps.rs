//! `timestamps = true` on every engine: `created_at` set on insert, `updated_at` moved by the
//! database on every update, through the API and through SQL that bypasses Rowbase; neither can
//! be set by an update.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::declared::{Engine, app_from_schema};

const SCHEMA: &str = r#"
[tables.note]
timestamps = true
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "body", type = "text", not_null = true },
]
"#;

const REPRESENTATION: [(&str, &str); 1] = [("Prefer", "return=representation")];

/// `(created_at, updated_at)` of note 1, as the engine writes them (one format per engine, so
/// they compare as strings).
async fn stamps(app: &TestApp) -> (String, String) {
    let reply = app.get("/note?select=created_at,updated_at&id=eq.1").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let row = &reply.json()[0];
    let text = |v: &Value| v.as_str().unwrap_or_else(|| panic!("a timestamp: {row}")).to_string();
    (text(&row["created_at"]), text(&row["updated_at"]))
}

async fn timestamps_behave(engine: Engine) {
    let Some((app, raw)) = app_from_schema(engine, SCHEMA).await else { return };
    let reply = app.write(Method::POST, "/note", &REPRESENTATION, json!({"body": "first"})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let (created, updated) = stamps(&app).await;
    assert_eq!(created, updated, "{engine:?}: both set on insert");

    // Through the API: updated_at moves, created_at stays, whatever the payload says.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let reply = app
        .write(
            Method::PATCH,
            "/note?id=eq.1",
            &REPRESENTATION,
            json!({"body": "second", "created_at": "2001-01-01 00:00:00", "updated_at": "2001-01-01 00:00:00"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let (created_2, updated_2) = stamps(&app).await;
    assert_eq!(created_2, created, "{engine:?}: created_at is kept");
    assert!(updated_2 > updated, "{engine:?}: updated_at moves on: {updated} then {updated_2}");
    assert_eq!(reply.json()[0]["updated_at"].as_str(), Some(updated_2.as_str()), "the representation is current");

    // SQL that bypasses Rowbase is kept right too.
    tokio::time::sleep(Duration::from_millis(20)).await;
    raw.execute("UPDATE note SET body = 'third' WHERE id = 1").await;
    let (created_3, updated_3) = stamps(&app).await;
    assert_eq!(created_3, created, "{engine:?}");
    assert!(updated_3 > updated_2, "{engine:?}: {updated_2} then {updated_3}");
}

#[tokio::test]
async fn timestamps_on_sqlite() {
    timestamps_behave(Engine::Sqlite).await;
}

#[tokio::test]
async fn timestamps_on_postgresql() {
    timestamps_behave(Engine::Postgres).await;
}

#[tokio::test]
async fn timestamps_on_mysql() {
    timestamps_behave(Engine::MySql).await;
}
