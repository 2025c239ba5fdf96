//! `audit = true` on every engine: every INSERT, UPDATE and DELETE, through the API or raw
//! SQL, lands in the append-only `rowbase_audit` log with the row's key, old and new rows, the
//! changed columns, and (through Rowbase) the actor and request id; rolled-back changes leave
//! nothing; the log refuses UPDATE and DELETE; a row's history reads like any table.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::declared::{Engine, app_from_schema_with};

const SCHEMA: &str = r#"
[tables.account]
audit = true
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "owner", type = "text", not_null = true },
  { name = "balance", type = "decimal(12,2)", not_null = true, default = 0 },
]
checks = [{ name = "balance", condition = "balance=gte.0" }]
"#;

/// The log entries of account 1, oldest first.
async fn history(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/rowbase_audit?table_name=eq.account&row_key->>id=eq.1&order=id").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json().as_array().unwrap().clone()
}

/// `GET /account` as it was at `at`.
async fn as_of(app: &TestApp, at: std::time::SystemTime) -> crate::common::Reply {
    app.get_with("/account", &[("Accept-Datetime", httpdate::fmt_http_date(at).as_str())]).await
}

/// The next whole second (as-of reads take HTTP dates), once it has passed.
async fn next_second() -> std::time::SystemTime {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let next = std::time::Duration::from_secs(now.as_secs() + 1);
    tokio::time::sleep(next - now + std::time::Duration::from_millis(50)).await;
    std::time::UNIX_EPOCH + next
}

fn balance(row: &Value) -> f64 {
    match &row["balance"] {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_f64().unwrap_or_else(|| panic!("a balance: {row}")),
    }
}

async fn audit_behaves(engine: Engine) {
    let mut options = rowbase::Options::default();
    options.http.actor_header = Some("x-forwarded-user".into());
    let Some((app, raw)) = app_from_schema_with(engine, SCHEMA, options).await else { return };
    let who = [("x-forwarded-user", "alice"), ("x-request-id", "req-1")];

    let reply = app.write(Method::POST, "/account", &who, json!({"owner": "ada", "balance": 10})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let log = history(&app).await;
    assert_eq!(log.len(), 1, "{engine:?}: {log:?}");
    let insert = &log[0];
    assert_eq!(insert["operation"], "INSERT", "{insert}");
    assert_eq!(insert["row_key"], json!({"id": 1}), "{insert}");
    assert_eq!(insert["old_row"], Value::Null, "{insert}");
    assert_eq!(insert["new_row"]["owner"], "ada", "{insert}");
    assert_eq!((insert["actor"].as_str(), insert["request_id"].as_str()), (Some("alice"), Some("req-1")), "{insert}");
    assert!(insert["transaction_id"].is_string() && insert["changed_at"].is_string(), "{insert}");
    // An instant after the insert and before the changes below (as-of reads take whole seconds).
    let after_insert = next_second().await;

    // An update through the API: the changed columns, both rows.
    let reply =
        app.write(Method::PATCH, "/account?id=eq.1", &[("x-forwarded-user", "bob")], json!({"balance": 25})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    // Rolled back (a dry run, a broken check): no entry.
    let reply =
        app.write(Method::PATCH, "/account?id=eq.1", &[("Prefer", "tx=rollback")], json!({"balance": 99})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let reply = app.write(Method::PATCH, "/account?id=eq.1", &[], json!({"balance": -5})).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    // SQL that bypasses Rowbase is logged too, without an actor.
    raw.execute("UPDATE account SET owner = 'grace' WHERE id = 1").await;
    let reply = app.request(Method::DELETE, "/account?id=eq.1", &[]).await;
    assert_eq!(reply.status, 204, "{}", reply.text);

    let log = history(&app).await;
    let operations: Vec<&str> = log.iter().map(|e| e["operation"].as_str().unwrap()).collect();
    assert_eq!(operations, ["INSERT", "UPDATE", "UPDATE", "DELETE"], "{engine:?}: {log:?}");
    let update = &log[1];
    assert_eq!(update["changed_columns"], json!(["balance"]), "{update}");
    assert_eq!((balance(&update["old_row"]), balance(&update["new_row"])), (10.0, 25.0), "{update}");
    assert_eq!(update["actor"], "bob", "{update}");
    assert!(update["request_id"].as_str().is_some_and(|r| !r.is_empty() && r != "req-1"), "a new request id: {update}");
    let raw_update = &log[2];
    assert_eq!(raw_update["changed_columns"], json!(["owner"]), "{raw_update}");
    assert_eq!((&raw_update["actor"], &raw_update["request_id"]), (&Value::Null, &Value::Null), "{raw_update}");
    let delete = &log[3];
    assert_eq!((delete["old_row"]["owner"].as_str(), &delete["new_row"]), (Some("grace"), &Value::Null), "{delete}");

    // The table as it was, from the log.
    let reply = as_of(&app, after_insert).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("memento-datetime"), Some(httpdate::fmt_http_date(after_insert).as_str()));
    let then = reply.json();
    assert_eq!(then.as_array().map(Vec::len), Some(1), "{engine:?}: {then}");
    assert_eq!((then[0]["owner"].as_str(), balance(&then[0])), (Some("ada"), 10.0), "{then}");
    let now = next_second().await;
    assert_eq!(as_of(&app, now).await.json(), json!([]), "deleted since");
    assert_eq!(as_of(&app, std::time::UNIX_EPOCH).await.json(), json!([]), "not there yet");
    let reply = app.get_with("/account?select=owner", &[("Accept-Datetime", "Sat, 21 Nov 2026 08:00:00 GMT")]).await;
    assert_eq!((reply.status, reply.code()), (400, "22023".into()), "{}", reply.text);
    let reply = app.get_with("/account", &[("Accept-Datetime", "yesterday")]).await;
    assert_eq!((reply.status, reply.code()), (400, "22007".into()), "{}", reply.text);

    // The log is append-only, through the API and beside it.
    let reply = app.write(Method::PATCH, "/rowbase_audit?id=gt.0", &[], json!({"actor": "mallory"})).await;
    assert!(matches!(reply.status, 400 | 403), "{engine:?}: {} {}", reply.status, reply.text);
    let reply = app.request(Method::DELETE, "/rowbase_audit?id=gt.0", &[]).await;
    assert!(matches!(reply.status, 400 | 403), "{engine:?}: {} {}", reply.status, reply.text);
    assert!(reply.text.contains("append-only"), "the trigger's own message: {}", reply.text);
    raw.execute_err("DELETE FROM rowbase_audit").await;
    assert_eq!(history(&app).await.len(), 4, "nothing changed in the log");

    // Retention: `rowbase audit prune` keeps the last N days, and only it may delete.
    let prune = |days: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rowbase"))
            .args(["audit", "prune", raw.url(), "--keep-days", days])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(prune("1").contains("Deleted 0 audit entries"), "today's entries are kept");
    assert_eq!(history(&app).await.len(), 4);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(prune("0").contains("Deleted 4 audit entries"), "{engine:?}");
    assert_eq!(history(&app).await.len(), 0);
    let reply = app.write(Method::POST, "/account", &[], json!({"owner": "kay"})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    raw.execute_err("DELETE FROM rowbase_audit").await;
}

#[tokio::test]
async fn audit_on_sqlite() {
    audit_behaves(Engine::Sqlite).await;
}

#[tokio::test]
async fn audit_on_postgresql() {
    audit_behaves(Engine::Postgres).await;
}

#[tokio::test]
async fn audit_on_mysql() {
    audit_behaves(Engine::MySql).await;
}
