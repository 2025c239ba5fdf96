//! Defects a second sample database found (a DVD-rental schema: enums, domains, arrays, a
//! composite type, composite keys, a view with computed columns, bytes, JSON, timestamps), on a
//! fixture of our own written for each engine. Each case failed before its fix; the answers are
//! written out by hand.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app_with_schema};
use crate::declared::Engine;

const POSTGRES: &str = r#"
CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
CREATE DOMAIN year AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155);
CREATE TYPE place AS (city text, country text);
CREATE TABLE film (
  film_id integer PRIMARY KEY,
  title text NOT NULL,
  rental_rate numeric(4,2) NOT NULL DEFAULT 4.99,
  info jsonb,
  poster bytea,
  release_year year,
  rating mpaa_rating,
  special_features text[],
  scores integer[],
  shot_in place
);
CREATE TABLE actor (actor_id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE film_actor (
  actor_id integer NOT NULL REFERENCES actor,
  film_id integer NOT NULL REFERENCES film,
  role text,
  PRIMARY KEY (actor_id, film_id)
);
CREATE TABLE rental (
  rental_id integer PRIMARY KEY,
  film_id integer NOT NULL REFERENCES film,
  amount numeric(7,2) NOT NULL,
  rented_at timestamp NOT NULL
);
CREATE VIEW film_revenue AS SELECT film_id, sum(amount) AS total, count(*) AS rentals FROM rental GROUP BY film_id;
INSERT INTO film (film_id, title, rental_rate, info, shot_in) VALUES
  (1, 'Academy Dinosaur', 0.99, '{"tags": ["epic", "drama"], "cast": {"lead": "Penelope"}}', ROW('Paris', 'France')),
  (2, 'Ace Goldfinger', 4.99, '{"tags": ["comedy"]}', NULL);
"#;

const SQLITE: &str = r#"
CREATE TABLE film (
  film_id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  rental_rate NUMERIC(4,2) NOT NULL DEFAULT 4.99,
  info JSON,
  poster BLOB
);
CREATE TABLE actor (actor_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE film_actor (
  actor_id INTEGER NOT NULL REFERENCES actor (actor_id),
  film_id INTEGER NOT NULL REFERENCES film (film_id),
  role TEXT,
  PRIMARY KEY (actor_id, film_id)
);
CREATE TABLE rental (
  rental_id INTEGER PRIMARY KEY,
  film_id INTEGER NOT NULL REFERENCES film (film_id),
  amount NUMERIC(7,2) NOT NULL,
  rented_at TIMESTAMP NOT NULL
);
CREATE VIEW film_revenue AS SELECT film_id, sum(amount) AS total, count(*) AS rentals FROM rental GROUP BY film_id;
INSERT INTO film (film_id, title, rental_rate, info) VALUES
  (1, 'Academy Dinosaur', 0.99, '{"tags": ["epic", "drama"], "cast": {"lead": "Penelope"}}'),
  (2, 'Ace Goldfinger', 4.99, '{"tags": ["comedy"]}');
"#;

const MYSQL: &str = r#"
CREATE TABLE film (
  film_id INT PRIMARY KEY,
  title VARCHAR(255) NOT NULL,
  rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
  info JSON,
  poster BLOB
);
CREATE TABLE actor (actor_id INT PRIMARY KEY, name VARCHAR(45) NOT NULL);
CREATE TABLE film_actor (
  actor_id INT NOT NULL,
  film_id INT NOT NULL,
  role VARCHAR(45),
  PRIMARY KEY (actor_id, film_id),
  CONSTRAINT film_actor_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES actor (actor_id),
  CONSTRAINT film_actor_film_id_fkey FOREIGN KEY (film_id) REFERENCES film (film_id)
);
CREATE TABLE rental (
  rental_id INT PRIMARY KEY,
  film_id INT NOT NULL,
  amount DECIMAL(7,2) NOT NULL,
  rented_at DATETIME NOT NULL,
  CONSTRAINT rental_film_id_fkey FOREIGN KEY (film_id) REFERENCES film (film_id)
);
CREATE VIEW film_revenue AS SELECT film_id, sum(amount) AS total, count(*) AS rentals FROM rental GROUP BY film_id;
INSERT INTO film (film_id, title, rental_rate, info) VALUES
  (1, 'Academy Dinosaur', 0.99, '{"tags": ["epic", "drama"], "cast": {"lead": "Penelope"}}'),
  (2, 'Ace Goldfinger', 4.99, '{"tags": ["comedy"]}')
"#;

/// Rows every engine's fixture gets the same way, through plain SQL.
const ROWS: &str = "
INSERT INTO actor (actor_id, name) VALUES (1, 'Penelope'), (2, 'Nick');
INSERT INTO film_actor (actor_id, film_id, role) VALUES (1, 1, 'lead');
INSERT INTO rental (rental_id, film_id, amount, rented_at) VALUES
  (1, 1, 2999.00, '2005-05-24 22:53:30'),
  (2, 1, 2999.00, '2005-05-24 23:03:39'),
  (3, 2, 0.99, '2005-05-25 00:00:00')";

/// A server on the rental fixture, or `None` when the engine's server is not there.
async fn rental_app(engine: Engine) -> Option<TestApp> {
    match engine {
        Engine::Sqlite => Some(spawn_app_with_schema(&format!("{SQLITE}{ROWS};")).await),
        Engine::Postgres => {
            crate::pg::app_with_schema(&format!("{POSTGRES}{ROWS};"), rowbase::Options::default()).await
        }
        Engine::MySql => crate::my::app_with_schema(&format!("{MYSQL};{ROWS}"), rowbase::Options::default()).await,
    }
}

async fn ok(app: &TestApp, engine: Engine, path: &str) -> Value {
    let reply = app.get(path).await;
    assert_eq!(reply.status, 200, "{engine:?} {path}: {}", reply.text);
    reply.json()
}

async fn rental_answers(engine: Engine) {
    let Some(app) = rental_app(engine).await else { return };

    // Upserts on a composite primary key (PostgreSQL: `integer = text`).
    let upsert = app
        .write(
            Method::POST,
            "/film_actor",
            &[("Prefer", "resolution=merge-duplicates")],
            json!([{ "actor_id": 1, "film_id": 1, "role": "star" }, { "actor_id": 2, "film_id": 1, "role": "extra" }]),
        )
        .await;
    assert_eq!(upsert.status, 201, "{engine:?}: {}", upsert.text);
    let ignore = app
        .write(
            Method::POST,
            "/film_actor",
            &[("Prefer", "resolution=ignore-duplicates")],
            json!([{ "actor_id": 2, "film_id": 1, "role": "no" }]),
        )
        .await;
    assert!(matches!(ignore.status, 200 | 201), "{engine:?}: {}", ignore.text);
    assert_eq!(
        ok(&app, engine, "/film_actor?select=actor_id,role&order=actor_id").await,
        json!([{ "actor_id": 1, "role": "star" }, { "actor_id": 2, "role": "extra" }]),
        "{engine:?}"
    );

    // Bytes in PostgreSQL's hex form come back as the same bytes, and are found by them.
    let bytes =
        app.write(Method::POST, "/film", &[], json!({ "film_id": 3, "title": "Bytes", "poster": "\\x0102ff" })).await;
    assert_eq!(bytes.status, 201, "{engine:?}: {}", bytes.text);
    assert_eq!(ok(&app, engine, "/film?select=poster&film_id=eq.3").await, json!([{ "poster": "\\x0102ff" }]));
    assert_eq!(ok(&app, engine, "/film?select=film_id&poster=eq.\\x0102ff").await, json!([{ "film_id": 3 }]));
    let bad_bytes =
        app.write(Method::POST, "/film", &[], json!({ "film_id": 4, "title": "x", "poster": "\\xzz" })).await;
    assert_eq!((bad_bytes.status, bad_bytes.code()), (400, "22P02".to_string()), "{engine:?}: {}", bad_bytes.text);

    // Text with a NUL character is refused on every engine (SQLite stored it, PostgreSQL refuses).
    let nul = app.write(Method::POST, "/actor", &[], json!({ "actor_id": 9, "name": "a\u{0}b" })).await;
    assert_eq!((nul.status, nul.code()), (400, "22021".to_string()), "{engine:?}: {}", nul.text);
    let nul = app.get("/actor?name=eq.a%00b").await;
    assert_eq!((nul.status, nul.code()), (400, "22021".to_string()), "{engine:?}: {}", nul.text);

    // A malformed timestamp is refused, never compared (MariaDB answered every row).
    for path in ["/rental?rented_at=gt.notadate", "/rental?rented_at=in.(2005-05-24,2005-02-30)"] {
        let reply = app.get(path).await;
        assert_eq!((reply.status, reply.code()), (400, "22007".to_string()), "{engine:?} {path}: {}", reply.text);
    }

    // Timestamps compare as instants, whatever their text (SQLite compared text: ' ' < 'T').
    let ids = |path: &'static str| {
        let app = &app;
        async move {
            ok(app, engine, path)
                .await
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["rental_id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("/rental?select=rental_id&rented_at=gte.2005-05-24T23:00:00&order=rental_id").await, [2, 3]);
    assert_eq!(ids("/rental?select=rental_id&rented_at=eq.2005-05-25T00:00:00&order=rental_id").await, [3]);
    assert_eq!(ids("/rental?select=rental_id&rented_at=lt.2005-05-24T23:00:00.000&order=rental_id").await, [1]);
    assert_eq!(
        ids("/rental?select=rental_id&rented_at=in.(2005-05-24T22:53:30,2005-05-25)&order=rental_id").await,
        [1, 3]
    );

    // A view's computed column compares by value (SQLite compared `total` with text).
    assert_eq!(ok(&app, engine, "/film_revenue?select=film_id&total=gt.5000").await, json!([{ "film_id": 1 }]));
    assert_eq!(ok(&app, engine, "/film_revenue?select=film_id&rentals=eq.1").await, json!([{ "film_id": 2 }]));

    // A cast to integer rounds (SQLite truncated 0.99 to 0).
    assert_eq!(ok(&app, engine, "/film?select=r:rental_rate::integer&film_id=eq.1").await, json!([{ "r": 1 }]));

    // JSON paths with array indexes (PostgreSQL bound the index as bigint).
    assert_eq!(
        ok(
            &app,
            engine,
            "/film?select=film_id,first:info->tags->0,second:info->tags->>1,lead:info->cast->>lead&film_id=eq.1"
        )
        .await,
        json!([{ "film_id": 1, "first": "epic", "second": "drama", "lead": "Penelope" }]),
        "{engine:?}"
    );
    assert_eq!(ok(&app, engine, "/film?select=film_id&info->tags->>0=eq.comedy").await, json!([{ "film_id": 2 }]));
}

#[tokio::test]
async fn rental_on_sqlite() {
    rental_answers(Engine::Sqlite).await;
}

#[tokio::test]
async fn rental_on_postgresql() {
    rental_answers(Engine::Postgres).await;
}

#[tokio::test]
async fn rental_on_mysql() {
    rental_answers(Engine::MySql).await;
}

/// PostgreSQL only: array columns take JSON arrays (as PostgREST's do), and arrows reach into
/// composite and array columns.
#[tokio::test]
async fn postgres_arrays_and_composites() {
    let Some(app) = rental_app(Engine::Postgres).await else { return };
    let film = json!({
        "film_id": 5,
        "title": "Arrays",
        "special_features": ["Trailers", "Deleted \"Scenes\"", null],
        "scores": [[1, 2], [3, 4]],
        "rating": "PG-13",
        "release_year": 2006,
    });
    let created = app.write(Method::POST, "/film", &[], film).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let got = ok(&app, Engine::Postgres, "/film?select=special_features,scores,rating,release_year&film_id=eq.5").await;
    assert_eq!(
        got,
        json!([{
            "special_features": ["Trailers", "Deleted \"Scenes\"", null],
            "scores": [[1, 2], [3, 4]],
            "rating": "PG-13",
            "release_year": 2006,
        }])
    );
    let patched =
        app.write(Method::PATCH, "/film?film_id=eq.5", &[], json!({ "special_features": ["Commentaries"] })).await;
    assert_eq!(patched.status, 204, "{}", patched.text);
    assert_eq!(
        ok(&app, Engine::Postgres, "/film?select=f:special_features->0,s:scores->1->>0&film_id=eq.5").await,
        json!([{ "f": "Commentaries", "s": "3" }])
    );
    assert_eq!(
        ok(&app, Engine::Postgres, "/film?select=city:shot_in->>city,place:shot_in->country&film_id=eq.1").await,
        json!([{ "city": "Paris", "place": "France" }])
    );
    assert_eq!(
        ok(&app, Engine::Postgres, "/film?select=film_id&shot_in->>city=eq.Paris").await,
        json!([{ "film_id": 1 }])
    );
}

/// MariaDB: `JSON_ARRAYAGG` stopped at `group_concat_max_len` (1 MiB), and any aggregate stops
/// at `max_allowed_packet` (16 MiB), with a warning and a success status. An embedding past
/// 1 MiB is now whole; a counted read of 20 MiB streams whole; an embedding past 16 MiB fails
/// loudly instead of coming back cut.
#[tokio::test]
async fn mysql_large_answers_are_whole_or_refused() {
    let schema = "
        CREATE TABLE parent (id INT PRIMARY KEY);
        CREATE TABLE child (
          id INT PRIMARY KEY,
          parent_id INT NOT NULL,
          body TEXT NOT NULL,
          CONSTRAINT child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES parent (id)
        );
        INSERT INTO parent VALUES (1), (2);
        INSERT INTO child SELECT seq, IF(seq <= 3000, 1, 2), REPEAT('x', 1000) FROM seq_1_to_20000";
    let Some(app) = crate::my::app_with_schema(schema, rowbase::Options::default()).await else { return };

    // 3,000 children of 1 KB: a 3 MB embedding, past the old 1 MiB cut.
    let reply = app.get("/parent?select=id,child(id,body)&id=eq.1").await;
    assert_eq!(reply.status, 200, "{}", &reply.text[..reply.text.len().min(300)]);
    let parents = reply.json();
    assert_eq!(parents[0]["child"].as_array().map(Vec::len), Some(3000));

    // A counted read of the whole table: 20,000 rows, over 20 MB, every row there.
    let reply = app.get_with("/child?select=id,body&order=id", &[("Prefer", "count=exact")]).await;
    assert_eq!(reply.status, 200, "{}", &reply.text[..reply.text.len().min(300)]);
    assert!(reply.text.len() > 20_000_000, "{} bytes", reply.text.len());
    assert_eq!(reply.header("content-range"), Some("0-19999/20000"));
    let rows = reply.json();
    assert_eq!(rows.as_array().map(Vec::len), Some(20_000));
    assert_eq!(rows[19_999]["id"], json!(20_000));

    // 17,000 children: 17 MB in one value, past max_allowed_packet. Refused, never cut.
    let reply = app.get("/parent?select=id,child(id,body)&id=eq.2").await;
    assert_eq!(
        (reply.status, reply.code()),
        (400, "54000".to_string()),
        "{}",
        &reply.text[..reply.text.len().min(300)]
    );
    assert!(reply.json()["message"].as_str().unwrap_or_default().contains("max_allowed_packet"), "{}", reply.text);
}

/// PostgreSQL errors answer PostgREST's statuses (its "HTTP status codes" table), by class: a
/// trigger raises each SQLSTATE in turn. Before, every class not listed by hand was a 500
/// (`0A000` from a table whose rules refuse `INSERT ... RETURNING` among them).
#[tokio::test]
async fn postgres_errors_answer_postgrest_statuses() {
    let schema = r#"
        CREATE TABLE boom (id serial PRIMARY KEY, code text NOT NULL);
        CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'raised %', NEW.code USING ERRCODE = NEW.code, DETAIL = 'process 4242 waits'; END $$;
        CREATE TRIGGER boom BEFORE INSERT ON boom FOR EACH ROW EXECUTE FUNCTION boom();
        CREATE TABLE payment (id integer PRIMARY KEY, amount numeric NOT NULL);
        CREATE TABLE payment_archive (id integer PRIMARY KEY, amount numeric NOT NULL);
        CREATE RULE payment_insert AS ON INSERT TO payment DO INSTEAD INSERT INTO payment_archive VALUES (NEW.*);
    "#;
    let Some(app) = crate::pg::app_with_schema(schema, rowbase::Options::default()).await else { return };
    let expected: &[(&str, u16)] = &[
        ("08006", 503),
        ("09000", 500),
        ("0A000", 400),
        ("0L000", 403),
        ("0P000", 403),
        ("21000", 400),
        ("22012", 400),
        ("22003", 400),
        ("23503", 409),
        ("23505", 409),
        ("25001", 500),
        ("25006", 405),
        ("28000", 403),
        ("2D000", 500),
        ("38000", 500),
        ("39000", 500),
        ("3B000", 500),
        ("42501", 403),
        ("42883", 404),
        ("42P01", 404),
        ("42P17", 500),
        ("42601", 400),
        ("53400", 500),
        ("53100", 503),
        ("55000", 500),
        ("57000", 500),
        ("58000", 500),
        ("F0000", 500),
        ("HV000", 500),
        ("P0001", 400),
        ("P0002", 500),
        ("XX000", 500),
        ("2F000", 400),
    ];
    for (code, status) in expected {
        let reply = app.write(Method::POST, "/boom", &[], json!({ "code": code })).await;
        assert_eq!((reply.status, reply.code()), (*status, (*code).to_string()), "{code}: {}", reply.text);
        if *status >= 500 {
            assert_eq!(reply.json()["details"], Value::Null, "{code}: no backend details in a 5xx: {}", reply.text);
        }
    }
    let ruled = app.write(Method::POST, "/payment", &[], json!({ "id": 1, "amount": 9.99 })).await;
    assert_eq!((ruled.status, ruled.code()), (400, "0A000".to_string()), "{}", ruled.text);
}

/// MariaDB: a value out of its column's range is the request's fault: 400 `22003`, as on
/// PostgreSQL (it was 500 `XX000`).
#[tokio::test]
async fn mysql_out_of_range_is_a_client_error() {
    let schema = "CREATE TABLE gauge (id INT PRIMARY KEY, level TINYINT NOT NULL)";
    let Some(app) = crate::my::app_with_schema(schema, rowbase::Options::default()).await else { return };
    let reply = app.write(Method::POST, "/gauge", &[], json!({ "id": 1, "level": 1000 })).await;
    assert_eq!((reply.status, reply.code()), (400, "22003".to_string()), "{}", reply.text);
    let reply = app.get("/gauge?level=gt.99999999999999999999").await;
    assert_eq!((reply.status, reply.code()), (400, "22P02".to_string()), "{}", reply.text);
}

/// A foreign key with a unique index (no constraint) is one-to-many, as PostgREST detects
/// one-to-one from a primary key or a unique constraint only; with a unique constraint it is
/// one-to-one. (PostgreSQL made the first an object.)
async fn unique_index_is_not_one_to_one(engine: Engine) {
    let schema = "
        CREATE TABLE store (store_id integer PRIMARY KEY, name text NOT NULL);
        CREATE TABLE manager (manager_id integer PRIMARY KEY, store_id integer NOT NULL REFERENCES store (store_id));
        CREATE UNIQUE INDEX manager_store ON manager (store_id);
        CREATE TABLE address (address_id integer PRIMARY KEY, store_id integer NOT NULL UNIQUE REFERENCES store (store_id));
        INSERT INTO store VALUES (1, 'Lethbridge');
        INSERT INTO manager VALUES (10, 1);
        INSERT INTO address VALUES (20, 1);";
    let app = match engine {
        Engine::Sqlite => spawn_app_with_schema(schema).await,
        Engine::Postgres => match crate::pg::app_with_schema(schema, rowbase::Options::default()).await {
            Some(app) => app,
            None => return,
        },
        Engine::MySql => unreachable!("MySQL does not tell a unique index from a unique constraint"),
    };
    assert_eq!(
        ok(&app, engine, "/store?select=name,manager(manager_id),address(address_id)").await,
        json!([{ "name": "Lethbridge", "manager": [{ "manager_id": 10 }], "address": { "address_id": 20 } }]),
        "{engine:?}"
    );
}

#[tokio::test]
async fn unique_index_on_sqlite() {
    unique_index_is_not_one_to_one(Engine::Sqlite).await;
}

#[tokio::test]
async fn unique_index_on_postgresql() {
    unique_index_is_not_one_to_one(Engine::Postgres).await;
}
