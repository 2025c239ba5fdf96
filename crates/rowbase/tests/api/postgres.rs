//! PostgreSQL-specific behaviour: type fidelity, schemas as profiles, pool exhaustion, and one
//! statement per read.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tokio_postgres::NoTls;

use crate::pg::{app_with_schema, chinook_app};

const TYPES: &str = "
    CREATE TABLE gadget (
        id integer PRIMARY KEY,
        amount numeric(24,6),
        ratio double precision,
        active boolean,
        day date,
        seen timestamptz,
        token uuid,
        meta jsonb,
        raw bytea,
        note varchar(8)
    );
    INSERT INTO gadget VALUES (1, 12345678901234.123456, 0.5, true, '2024-05-06', '2024-05-06T07:08:09+02:00',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"tags\":[\"a\"],\"n\":1}', '\\x00ff', 'short');
    INSERT INTO gadget (id) VALUES (2);";

#[tokio::test]
async fn types_come_out_faithfully() {
    let Some(app) = app_with_schema(&format!("SET TIME ZONE 'UTC'; {TYPES}"), rowbase::Options::default()).await else {
        return;
    };
    let reply = app.get("/gadget?order=id").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Compare the text: exact numerics must not pass through a float anywhere.
    assert!(reply.text.contains("12345678901234.123456"), "{}", reply.text);
    let rows = reply.json();
    assert_eq!(rows[0]["ratio"], json!(0.5));
    assert_eq!(rows[0]["active"], json!(true));
    assert_eq!(rows[0]["day"], json!("2024-05-06"));
    assert_eq!(rows[0]["token"], json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    assert_eq!(rows[0]["meta"], json!({ "tags": ["a"], "n": 1 }));
    assert_eq!(rows[0]["raw"], json!("\\x00ff"));
    let seen = rows[0]["seen"].as_str().unwrap_or_default();
    assert!(
        seen.starts_with("2024-05-06T05:08:09") && (seen.ends_with("+00:00") || seen.ends_with('Z')),
        "RFC 3339: {seen}"
    );
    assert_eq!(
        rows[1],
        json!({ "id": 2, "amount": null, "ratio": null, "active": null, "day": null, "seen": null,
        "token": null, "meta": null, "raw": null, "note": null })
    );

    // Sent as text: a Rust float literal would already have lost the digits.
    let body = r#"{"id": 3, "amount": 98765432109876.654321, "active": false,
        "token": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12", "meta": {"k": [1, 2]}, "seen": "2024-01-01T00:00:00Z"}"#;
    let written = app
        .send(
            Method::POST,
            "/gadget?select=amount,active,token,meta,seen",
            &[("Prefer", "return=representation"), ("Content-Type", "application/json")],
            Some(body.into()),
        )
        .await;
    assert_eq!(written.status, 201, "{}", written.text);
    assert!(written.text.contains("98765432109876.654321"), "{}", written.text);
    let w = written.json();
    assert_eq!(
        (w[0]["active"].clone(), w[0]["token"].clone()),
        (json!(false), json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"))
    );
    assert_eq!(w[0]["meta"], json!({ "k": [1, 2] }));
    let filtered = app.get("/gadget?select=id&amount=eq.98765432109876.654321").await;
    assert_eq!(filtered.json(), json!([{ "id": 3 }]));
    let by_json = app.get("/gadget?select=id&meta->>n=eq.1").await;
    assert_eq!(by_json.json(), json!([{ "id": 1 }]));
    let contains = app.get("/gadget?select=id&meta=cs.{\"tags\":[\"a\"]}").await;
    assert_eq!(contains.json(), json!([{ "id": 1 }]));
    let bad_uuid = app.write(Method::POST, "/gadget", &[], json!({ "id": 4, "token": "nope" })).await;
    assert_eq!((bad_uuid.status, bad_uuid.code()), (400, "22P02".into()));
    let too_long = app.write(Method::POST, "/gadget", &[], json!({ "id": 5, "note": "much too long" })).await;
    assert_eq!((too_long.status, too_long.code()), (400, "22001".into()));
}

#[tokio::test]
async fn schemas_are_chosen_by_profile() {
    let mut options = rowbase::Options::default();
    options.database.schemas = vec!["public".into(), "api".into()];
    let schema = "CREATE TABLE item (id int PRIMARY KEY, name text);
                  INSERT INTO item VALUES (1, 'public item');
                  CREATE SCHEMA api;
                  CREATE TABLE api.item (id int PRIMARY KEY, label text);
                  INSERT INTO api.item VALUES (1, 'api item');";
    let Some(app) = app_with_schema(schema, options).await else { return };
    assert_eq!(app.get("/item").await.json(), json!([{ "id": 1, "name": "public item" }]));
    let api = app.get_with("/item", &[("Accept-Profile", "api")]).await;
    assert_eq!(api.json(), json!([{ "id": 1, "label": "api item" }]));
    let written = app
        .write(
            Method::POST,
            "/item",
            &[("Content-Profile", "api"), ("Prefer", "return=representation")],
            json!({ "id": 2, "label": "new" }),
        )
        .await;
    assert_eq!((written.status, written.json()), (201, json!([{ "id": 2, "label": "new" }])));
    let unknown = app.get_with("/item", &[("Accept-Profile", "private")]).await;
    assert_eq!((unknown.status, unknown.code()), (406, "PGRST106".into()));
    assert_eq!(unknown.json()["hint"], json!("Only the following schemas are exposed: public, api"));
    let openapi = app.get_with("/", &[("Accept-Profile", "api")]).await.json();
    assert!(openapi["components"]["schemas"]["item"]["properties"]["label"].is_object());
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_quickly() {
    let mut options = rowbase::Options::default();
    options.database.pool_size = Some(1);
    options.database.acquire_timeout = Duration::from_millis(300);
    let Some(app) = app_with_schema("CREATE TABLE slow (id int); CREATE TABLE fast (id int);", options).await else {
        return;
    };
    // Hold a lock so the one pooled connection blocks on `slow`.
    let (locker, connection) = tokio_postgres::connect(&app.server_url(), NoTls).await.unwrap();
    tokio::spawn(connection);
    locker.batch_execute("BEGIN; LOCK TABLE slow IN ACCESS EXCLUSIVE MODE;").await.unwrap();
    let blocked = {
        let (client, url) = (app.client.clone(), format!("{}/slow", app.base));
        tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let refused = app.get("/fast").await;
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.code(), "PGRST003");
    assert!(start.elapsed() < Duration::from_secs(2), "no hang: {:?}", start.elapsed());
    locker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(blocked.await.unwrap().unwrap(), 200);
    assert_eq!(app.get("/fast").await.status, 200, "the pool serves again");
}

#[tokio::test]
async fn deep_embedding_is_one_statement_on_postgresql() {
    let Some(app) = chinook_app().await else { return };
    let path = "/artist?select=name,album(title,track(name,genre(name),playlist_track(playlist_id)))&artist_id=lte.5";
    let before = app.statements();
    let reply = app.get(path).await;
    assert_eq!(reply.status, 200);
    assert_eq!(app.statements() - before, 1);
    assert!(reply.json()[0]["album"][0]["track"][0]["genre"]["name"].is_string());
}
