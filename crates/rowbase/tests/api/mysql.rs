//! MySQL/MariaDB-specific behaviour: type fidelity, pool exhaustion, one statement per read.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use reqwest::Method;
use serde_json::json;

use crate::my::{app_with_schema, chinook_app};

const TYPES: &str = "
    CREATE TABLE gadget (
        id INT PRIMARY KEY,
        amount DECIMAL(24,6),
        ratio DOUBLE,
        active BOOLEAN,
        day DATE,
        seen DATETIME,
        meta JSON,
        raw VARBINARY(16),
        note VARCHAR(8)
    );
    INSERT INTO gadget VALUES (1, 12345678901234.123456, 0.5, TRUE, '2024-05-06', '2024-05-06 07:08:09',
        '{\"tags\":[\"a\"],\"n\":1}', X'00ff', 'short');
    INSERT INTO gadget (id) VALUES (2)";

#[tokio::test]
async fn types_come_out_faithfully() {
    let Some(app) = app_with_schema(TYPES, rowbase::Options::default()).await else { return };
    let reply = app.get("/gadget?order=id").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.text.contains("12345678901234.123456"), "{}", reply.text);
    let rows = reply.json();
    assert_eq!(rows[0]["ratio"], json!(0.5));
    assert_eq!(rows[0]["active"], json!(true));
    assert_eq!(rows[0]["day"], json!("2024-05-06"));
    assert_eq!(rows[0]["seen"], json!("2024-05-06 07:08:09"));
    assert_eq!(rows[0]["meta"], json!({ "tags": ["a"], "n": 1 }));
    assert_eq!(rows[0]["raw"], json!("\\x00ff"));
    assert_eq!(rows[1]["active"], json!(null));
    assert_eq!(rows[1]["meta"], json!(null));

    let body = r#"{"id": 3, "amount": 98765432109876.654321, "active": false, "meta": {"k": [1, 2]}}"#;
    let written = app
        .send(
            Method::POST,
            "/gadget?select=amount,active,meta",
            &[("Prefer", "return=representation"), ("Content-Type", "application/json")],
            Some(body.into()),
        )
        .await;
    assert_eq!(written.status, 201, "{}", written.text);
    assert!(written.text.contains("98765432109876.654321"), "{}", written.text);
    assert_eq!(written.json()[0]["active"], json!(false));
    assert_eq!(written.json()[0]["meta"], json!({ "k": [1, 2] }));
    assert_eq!(app.get("/gadget?select=id&meta->>n=eq.1").await.json(), json!([{ "id": 1 }]));
    let too_long = app.write(Method::POST, "/gadget", &[], json!({ "id": 5, "note": "much too long" })).await;
    assert_eq!((too_long.status, too_long.code()), (400, "22001".into()));
    let unsupported = app.get("/gadget?meta=cs.{}").await;
    assert_eq!(unsupported.status, 400);
    assert!(unsupported.json()["message"].as_str().is_some_and(|m| m.contains("mysql")));
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_quickly() {
    let mut options = rowbase::Options::default();
    options.database.pool_size = Some(1);
    options.database.acquire_timeout = Duration::from_millis(300);
    let Some(app) = app_with_schema("CREATE TABLE slow (id INT); CREATE TABLE fast (id INT)", options).await else {
        return;
    };
    let url = app.base.clone();
    // Hold a lock from another session so the one pooled connection blocks on `slow`.
    let mut locker = mysql_async::Conn::from_url(app.server_url().as_str()).await.unwrap();
    locker.query_drop("LOCK TABLES slow WRITE").await.unwrap();
    let blocked = {
        let client = app.client.clone();
        tokio::spawn(async move { client.get(format!("{url}/slow")).send().await.map(|r| r.status().as_u16()) })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let refused = app.get("/fast").await;
    assert_eq!((refused.status, refused.header("retry-after")), (503, Some("1")), "{}", refused.text);
    assert!(start.elapsed() < Duration::from_secs(2));
    locker.query_drop("UNLOCK TABLES").await.unwrap();
    assert_eq!(blocked.await.unwrap().unwrap(), 200);
    assert_eq!(app.get("/fast").await.status, 200);
}

#[tokio::test]
async fn deep_embedding_is_one_statement_on_mysql() {
    let Some(app) = chinook_app().await else { return };
    let path = "/Artist?select=Name,Album(Title,Track(Name,Genre(Name),PlaylistTrack(PlaylistId)))&ArtistId=lte.5";
    let before = app.statements();
    let reply = app.get(path).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(app.statements() - before, 1);
    assert!(reply.json()[0]["Album"][0]["Track"][0]["Genre"]["Name"].is_string());
}
