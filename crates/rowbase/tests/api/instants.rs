//! Instants as clients write them, on every engine: `toISOString()`'s `...Z` and other
//! RFC 3339 offsets, in inserts, updates and filters of a `timestamptz` column. MySQL/MariaDB
//! refuse a zone designator in a `DATETIME`; Rowbase writes such an instant as its UTC date and
//! time there, which is what PostgreSQL stores. (SQLite keeps the text it is given and compares
//! text, so an instant given with another offset is only comparable on the other two.)

use reqwest::Method;
use serde_json::json;

use crate::declared::{Engine, app_from_schema};

const SCHEMA: &str = r#"
[tables.event]
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "at", type = "timestamptz" },
]
"#;

async fn instants_are_read_as_sent(engine: Engine) {
    let Some((app, _raw)) = app_from_schema(engine, SCHEMA).await else { return };
    let rows = json!([
        { "id": 1, "at": "2026-11-21T11:13:20.123Z" },
        { "id": 2, "at": "2026-11-21T16:43:20.5+05:30" },
    ]);
    let reply = app.write(Method::POST, "/event", &[], rows).await;
    assert_eq!(reply.status, 201, "{engine:?}: {}", reply.text);

    let ids = |path: &'static str| {
        let app = &app;
        async move {
            let reply = app.get(path).await;
            assert_eq!(reply.status, 200, "{engine:?} {path}: {}", reply.text);
            reply.json()
        }
    };
    assert_eq!(ids("/event?select=id&at=gte.2026-11-21T11:00:00Z&order=id").await, json!([{ "id": 1 }, { "id": 2 }]));
    assert_eq!(ids("/event?select=id&at=lt.2026-11-21T11:13:20.200Z").await, json!([{ "id": 1 }]), "{engine:?}");

    let moved = app.write(Method::PATCH, "/event?id=eq.1", &[], json!({ "at": "2026-11-21T12:00:00+01:00" })).await;
    assert_eq!(moved.status, 204, "{engine:?}: {}", moved.text);
    if engine != Engine::Sqlite {
        // 12:00 at +01:00 is 11:00 UTC: before 11:13:20Z, found by an instant in another offset.
        assert_eq!(ids("/event?select=id&at=lt.2026-11-21T11:13:20Z").await, json!([{ "id": 1 }]), "{engine:?}");
        assert_eq!(ids("/event?select=id&at=eq.2026-11-21T06:00:00-05:00").await, json!([{ "id": 1 }]), "{engine:?}");
    }
}

#[tokio::test]
async fn instants_on_sqlite() {
    instants_are_read_as_sent(Engine::Sqlite).await;
}

#[tokio::test]
async fn instants_on_postgresql() {
    instants_are_read_as_sent(Engine::Postgres).await;
}

#[tokio::test]
async fn instants_on_mysql() {
    instants_are_read_as_sent(Engine::MySql).await;
}
