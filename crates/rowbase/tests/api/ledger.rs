//! The ledger example's rules on every engine, over HTTP, from its own migrations (the
//! generated one and the hand-written triggers): a transfer moves money atomically, a daily
//! limit enforced by a trigger across tables answers 400 with the trigger's message, balances
//! never go negative, transfers are never changed, balances are audited with their actor.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::declared::{Engine, app_from_migrations};

async fn ledger_app(engine: Engine) -> Option<TestApp> {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ledger/migrations");
    let mut options = rowbase::Options::default();
    options.http.actor_header = Some("x-forwarded-user".into());
    let (app, applied) = app_from_migrations(engine, &migrations, options).await?;
    assert_eq!(applied, 2);
    Some(app)
}

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_f64().unwrap_or_else(|| panic!("a number: {other}")),
    }
}

async fn balances(app: &TestApp) -> Vec<f64> {
    let reply = app.get("/accounts?select=balance&order=id").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json().as_array().unwrap().iter().map(|r| number(&r["balance"])).collect()
}

async fn ledger_behaves(app: &TestApp, engine: &str) {
    let accounts = json!([
        {"owner": "ada", "balance": 500, "daily_limit": 300},
        {"owner": "grace", "balance": 100, "daily_limit": 1000},
    ]);
    let reply = app.write(Method::POST, "/accounts", &[], accounts).await;
    assert_eq!(reply.status, 201, "{engine}: {}", reply.text);
    let transfer = |from: i64, to: i64, amount: i64| json!({"from_account": from, "to_account": to, "amount": amount});

    let reply = app.write(Method::POST, "/transfers", &[("x-forwarded-user", "ada")], transfer(1, 2, 200)).await;
    assert_eq!(reply.status, 201, "{engine}: {}", reply.text);
    assert_eq!(balances(app).await, [300.0, 300.0], "{engine}");

    // Past the daily limit: the trigger's own message, a 400.
    let reply = app.write(Method::POST, "/transfers", &[], transfer(1, 2, 150)).await;
    assert_eq!((reply.status, reply.code()), (400, "P0001".into()), "{engine}: {}", reply.text);
    assert_eq!(reply.json()["message"], "daily withdrawal limit exceeded", "{engine}");
    // Within it, but more than the balance: the check undoes the whole transfer.
    let reply = app.write(Method::POST, "/transfers", &[], transfer(2, 1, 400)).await;
    assert_eq!((reply.status, reply.code()), (400, "23514".into()), "{engine}: {}", reply.text);
    assert_eq!(balances(app).await, [300.0, 300.0], "{engine}: nothing moved");
    assert_eq!(app.get("/transfers?select=id").await.json(), json!([{"id": 1}]), "{engine}");
    // Up to the limit exactly is fine.
    let reply = app.write(Method::POST, "/transfers", &[], transfer(1, 2, 100)).await;
    assert_eq!(reply.status, 201, "{engine}: {}", reply.text);
    assert_eq!(balances(app).await, [200.0, 400.0], "{engine}");

    let reply = app.write(Method::PATCH, "/transfers?id=eq.1", &[], json!({"amount": 1})).await;
    assert_eq!((reply.status, reply.code()), (400, "P0001".into()), "{engine}: {}", reply.text);

    // Every balance change is in the log, with who made it.
    let reply = app
        .get("/rowbase_audit?select=operation,actor,new_row&table_name=eq.accounts&row_key->>id=eq.1&order=id")
        .await;
    let log = reply.json();
    let entries: Vec<(String, Value, f64)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["operation"].as_str().unwrap().to_string(), e["actor"].clone(), number(&e["new_row"]["balance"])))
        .collect();
    assert_eq!(
        entries,
        [
            ("INSERT".to_string(), Value::Null, 500.0),
            ("UPDATE".to_string(), json!("ada"), 300.0),
            ("UPDATE".to_string(), Value::Null, 200.0)
        ],
        "{engine}: {log}"
    );
}

#[tokio::test]
async fn ledger_on_sqlite() {
    let app = ledger_app(Engine::Sqlite).await.unwrap();
    ledger_behaves(&app, "sqlite").await;
}

#[tokio::test]
async fn ledger_on_postgresql() {
    let Some(app) = ledger_app(Engine::Postgres).await else { return };
    ledger_behaves(&app, "postgresql").await;
}

#[tokio::test]
async fn ledger_on_mysql() {
    let Some(app) = ledger_app(Engine::MySql).await else { return };
    ledger_behaves(&app, "mysql").await;
}
