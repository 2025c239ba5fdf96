//! Writes through views, as PostgREST makes them: by the key of the view's base table, where
//! the engine can carry the write (an automatically updatable view) or an `INSTEAD OF` trigger
//! does; any other write is refused before SQL runs, 405 `55000` in PostgreSQL's words. Before,
//! `PATCH`/`DELETE` on any view answered `column "ctid" does not exist`.

use reqwest::Method;
use serde_json::json;

use crate::common::TestApp;
use crate::declared::{Engine, app_with_sql};

const SQLITE: &str = "
CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, name TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1);
INSERT INTO customer VALUES (1, 'Mary', 1), (2, 'Patricia', 1), (3, 'Linda', 0);
CREATE VIEW active_customer AS SELECT customer_id, name FROM customer WHERE active = 1;
CREATE TRIGGER active_customer_update INSTEAD OF UPDATE ON active_customer
  BEGIN UPDATE customer SET name = NEW.name WHERE customer_id = OLD.customer_id; END;
CREATE TRIGGER active_customer_delete INSTEAD OF DELETE ON active_customer
  BEGIN DELETE FROM customer WHERE customer_id = OLD.customer_id; END;
CREATE VIEW customer_count AS SELECT count(*) AS n FROM customer;
CREATE VIEW renamed AS SELECT customer_id AS id, name FROM customer;
";

const POSTGRES: &str = "
CREATE TABLE customer (customer_id integer PRIMARY KEY, name text NOT NULL, active boolean NOT NULL DEFAULT true);
INSERT INTO customer VALUES (1, 'Mary', true), (2, 'Patricia', true), (3, 'Linda', false);
CREATE VIEW active_customer AS SELECT customer_id, name FROM customer WHERE active;
CREATE VIEW customer_count AS SELECT count(*) AS n FROM customer;
CREATE VIEW renamed AS SELECT customer_id AS id, name FROM customer;
";

const MYSQL: &str = "
CREATE TABLE customer (customer_id INT PRIMARY KEY, name VARCHAR(45) NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
INSERT INTO customer VALUES (1, 'Mary', TRUE), (2, 'Patricia', TRUE), (3, 'Linda', FALSE);
CREATE VIEW active_customer AS SELECT customer_id, name FROM customer WHERE active;
CREATE VIEW customer_count AS SELECT count(*) AS n FROM customer;
CREATE VIEW renamed AS SELECT customer_id AS id, name FROM customer
";

async fn app(engine: Engine) -> Option<TestApp> {
    let sql = match engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
        Engine::MySql => MYSQL,
    };
    app_with_sql(engine, sql, rowbase::Options::default()).await
}

async fn writes_through_views(engine: Engine) {
    let Some(app) = app(engine).await else { return };
    let representation = [("Prefer", "return=representation")];

    let patched = app
        .write(
            Method::PATCH,
            "/active_customer?customer_id=eq.1&select=customer_id,name",
            &representation,
            json!({ "name": "Maria" }),
        )
        .await;
    assert_eq!(patched.status, 200, "{engine:?}: {}", patched.text);
    assert_eq!(patched.json(), json!([{ "customer_id": 1, "name": "Maria" }]), "{engine:?}");

    let deleted = app.request(Method::DELETE, "/active_customer?customer_id=eq.2", &[]).await;
    assert_eq!(deleted.status, 204, "{engine:?}: {}", deleted.text);
    let left = app.get("/customer?select=customer_id,name&order=customer_id").await.json();
    assert_eq!(
        left,
        json!([{ "customer_id": 1, "name": "Maria" }, { "customer_id": 3, "name": "Linda" }]),
        "{engine:?}"
    );

    // A view nothing makes writable, and a view that shows no base table's key.
    for (method, path) in [
        (Method::POST, "/customer_count"),
        (Method::PATCH, "/customer_count?n=eq.3"),
        (Method::DELETE, "/customer_count?n=eq.3"),
        (Method::PATCH, "/renamed?id=eq.1"),
        (Method::DELETE, "/renamed?id=eq.1"),
    ] {
        let reply = app.write(method.clone(), path, &[], json!({ "name": "x" })).await;
        assert_eq!(
            (reply.status, reply.code()),
            (405, "55000".to_string()),
            "{engine:?} {method} {path}: {}",
            reply.text
        );
        assert!(reply.json()["message"].as_str().unwrap_or_default().starts_with("cannot "), "{}", reply.text);
    }

    // SQLite writes a view only through INSTEAD OF triggers: this one has none for INSERT.
    let inserted =
        app.write(Method::POST, "/active_customer", &[], json!({ "customer_id": 4, "name": "Barbara" })).await;
    if engine == Engine::Sqlite {
        assert_eq!((inserted.status, inserted.code()), (405, "55000".to_string()), "{}", inserted.text);
    } else {
        assert_eq!(inserted.status, 201, "{engine:?}: {}", inserted.text);
    }

    // ?columns= on a table picks the payload keys.
    let picked = app
        .write(Method::PATCH, "/customer?customer_id=eq.3&columns=name", &[], json!({ "name": "Lin", "ignored": 1 }))
        .await;
    assert_eq!(picked.status, 204, "{engine:?}: {}", picked.text);

    // The OpenAPI document does not offer what a view refuses.
    let doc = app.get("/").await.json();
    assert!(doc["paths"]["/customer_count"]["post"].is_null(), "{engine:?}");
    assert!(doc["paths"]["/customer_count"]["get"].is_object(), "{engine:?}");
}

#[tokio::test]
async fn views_on_sqlite() {
    writes_through_views(Engine::Sqlite).await;
}

#[tokio::test]
async fn views_on_postgresql() {
    writes_through_views(Engine::Postgres).await;
}

#[tokio::test]
async fn views_on_mysql() {
    writes_through_views(Engine::MySql).await;
}
