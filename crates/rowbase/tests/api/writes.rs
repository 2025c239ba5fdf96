//! Writes over HTTP: statuses, bodies and headers as PostgREST gives them, every request one
//! transaction, constraint errors mapped, never partial data.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app};

/// A fresh database with every kind of constraint.
const SHOP: &str = "
    CREATE TABLE category (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE product (
        id INTEGER PRIMARY KEY,
        sku VARCHAR(12) NOT NULL UNIQUE,
        name TEXT NOT NULL,
        price NUMERIC(10,2) NOT NULL DEFAULT 0 CONSTRAINT price_not_negative CHECK (price >= 0),
        active BOOLEAN NOT NULL DEFAULT 1,
        category_id INTEGER REFERENCES category(id),
        tags JSON
    );
    CREATE TABLE line (order_id INTEGER, product_id INTEGER REFERENCES product(id), qty INTEGER NOT NULL,
                       PRIMARY KEY (order_id, product_id));
    CREATE TABLE note (body TEXT);
    INSERT INTO category VALUES (1, 'tools'), (2, 'toys');
    INSERT INTO product (id, sku, name, price, category_id) VALUES (1, 'HAM-1', 'Hammer', 12.5, 1), (2, 'YOYO', 'Yo-yo', 3, 2);
";

async fn shop() -> TestApp {
    spawn_app().schema(SHOP).await
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.oracle().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn insert_one_row_minimal_and_with_representation() {
    let app = shop().await;
    let minimal = app.write(Method::POST, "/product", &[], json!({ "sku": "SAW-1", "name": "Saw", "price": 20 })).await;
    assert_eq!((minimal.status, minimal.text.as_str(), minimal.header("content-type")), (201, "", None));
    assert_eq!(minimal.header("content-range"), Some("*/*"));
    assert_eq!(
        app.sql("SELECT name, price, active FROM product WHERE sku = 'SAW-1'"),
        json!([{ "name": "Saw", "price": 20, "active": 1 }])
    );

    let rep = app
        .write(
            Method::POST,
            "/product?select=sku,price,active,category(name)",
            &[("Prefer", "return=representation")],
            json!({ "sku": "DRL-1", "name": "Drill", "price": "99.90", "category_id": 1 }),
        )
        .await;
    assert_eq!(rep.status, 201);
    assert_eq!(rep.json(), json!([{ "sku": "DRL-1", "price": 99.9, "active": true, "category": { "name": "tools" } }]));
    assert_eq!(rep.header("preference-applied"), Some("return=representation"));

    let object = app
        .write(
            Method::POST,
            "/category",
            &[("Prefer", "return=representation"), ("Accept", "application/vnd.pgrst.object+json")],
            json!({ "name": "garden" }),
        )
        .await;
    assert_eq!(object.json(), json!({ "id": 3, "name": "garden" }));
}

#[tokio::test]
async fn headers_only_gives_a_location() {
    let app = shop().await;
    let reply =
        app.write(Method::POST, "/category", &[("Prefer", "return=headers-only")], json!({ "name": "books" })).await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("location"), Some("/category?id=eq.3"));
    let composite = app
        .write(
            Method::POST,
            "/line",
            &[("Prefer", "return=headers-only")],
            json!({ "order_id": 7, "product_id": 2, "qty": 1 }),
        )
        .await;
    assert_eq!(composite.header("location"), Some("/line?order_id=eq.7&product_id=eq.2"));
}

#[tokio::test]
async fn bulk_inserts_are_all_or_nothing() {
    let app = shop().await;
    let rows = json!([
        { "sku": "A", "name": "a", "price": 1 },
        { "sku": "B", "name": "b", "price": 2 },
        { "sku": "C", "name": "c", "price": -5 },
    ]);
    let reply = app.write(Method::POST, "/product", &[], rows).await;
    assert_eq!((reply.status, reply.code()), (400, "23514".into()));
    assert!(reply.json()["message"].as_str().is_some_and(|m| m.contains("price_not_negative")), "{}", reply.text);
    assert_eq!(count(&app, "SELECT count(*) FROM product"), 2, "no row of a failed bulk insert remains");

    let many: Vec<Value> =
        (0..2_500).map(|i| json!({ "sku": format!("S{i}"), "name": format!("n{i}"), "price": i })).collect();
    let reply = app.write(Method::POST, "/product", &[("Prefer", "count=exact")], Value::Array(many)).await;
    assert_eq!((reply.status, reply.header("content-range")), (201, Some("*/2500")));
    assert_eq!(count(&app, "SELECT count(*) FROM product"), 2_502);
}

#[tokio::test]
async fn columns_missing_default_and_csv() {
    let app = shop().await;
    let reply = app
        .write(
            Method::POST,
            "/product?columns=sku,name,price&select=sku,price,active",
            &[("Prefer", "return=representation, missing=default")],
            json!([{ "sku": "K1", "name": "k1", "ignored": true }, { "sku": "K2", "name": "k2", "price": 4 }]),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!([{ "sku": "K1", "price": 0, "active": true }, { "sku": "K2", "price": 4, "active": true }])
    );
    assert_eq!(reply.header("preference-applied"), Some("missing=default, return=representation"));

    let nulls = app
        .write(Method::POST, "/product?columns=sku,name,category_id", &[], json!([{ "sku": "K3", "name": "k3" }]))
        .await;
    assert_eq!(nulls.status, 201);
    assert_eq!(app.sql("SELECT category_id FROM product WHERE sku = 'K3'"), json!([{ "category_id": null }]));

    let csv = app
        .send(
            Method::POST,
            "/note?select=body",
            &[("Content-Type", "text/csv"), ("Prefer", "return=representation")],
            Some("body\nplain\n\"with, comma\"\n\nNULL".into()),
        )
        .await;
    assert_eq!(csv.status, 201, "{}", csv.text);
    assert_eq!(csv.json(), json!([{ "body": "plain" }, { "body": "with, comma" }, { "body": null }]));
}

#[tokio::test]
async fn upserts_merge_or_ignore() {
    let app = shop().await;
    let rep = [("Prefer", "resolution=merge-duplicates, return=representation")];
    let mixed = app
        .write(Method::POST, "/category", &rep, json!([{ "id": 2, "name": "games" }, { "id": 5, "name": "food" }]))
        .await;
    assert_eq!(mixed.status, 201);
    assert_eq!(mixed.json(), json!([{ "id": 2, "name": "games" }, { "id": 5, "name": "food" }]));
    assert_eq!(mixed.header("preference-applied"), Some("resolution=merge-duplicates, return=representation"));
    let updates_only = app.write(Method::POST, "/category", &rep, json!([{ "id": 1, "name": "hardware" }])).await;
    assert_eq!(updates_only.status, 200, "no row inserted");

    let ignore = app
        .write(
            Method::POST,
            "/category",
            &[("Prefer", "resolution=ignore-duplicates, return=representation")],
            json!([{ "id": 1, "name": "x" }, { "id": 9, "name": "new" }]),
        )
        .await;
    assert_eq!((ignore.status, ignore.json()), (201, json!([{ "id": 9, "name": "new" }])));
    assert_eq!(app.sql("SELECT name FROM category WHERE id = 1"), json!([{ "name": "hardware" }]));

    let by_sku = app
        .write(
            Method::POST,
            "/product?on_conflict=sku&select=id,name",
            &rep,
            json!({ "sku": "YOYO", "name": "Yo-yo pro", "price": 5 }),
        )
        .await;
    assert_eq!((by_sku.status, by_sku.json()), (200, json!([{ "id": 2, "name": "Yo-yo pro" }])));
    let not_unique =
        app.write(Method::POST, "/product?on_conflict=name", &rep, json!({ "sku": "Z", "name": "z" })).await;
    assert_eq!((not_unique.status, not_unique.code()), (400, "42P10".into()));
}

#[tokio::test]
async fn put_replaces_one_row_by_its_key() {
    let app = shop().await;
    let rep = [("Prefer", "return=representation")];
    let created = app.write(Method::PUT, "/category?id=eq.10", &rep, json!({ "id": 10, "name": "music" })).await;
    assert_eq!((created.status, created.json()), (201, json!([{ "id": 10, "name": "music" }])));
    let replaced = app.write(Method::PUT, "/category?id=eq.10", &rep, json!({ "id": 10, "name": "records" })).await;
    assert_eq!((replaced.status, replaced.json()), (200, json!([{ "id": 10, "name": "records" }])));
    let minimal = app.write(Method::PUT, "/category?id=eq.10", &[], json!({ "id": 10, "name": "vinyl" })).await;
    assert_eq!(minimal.status, 204);
    let composite = app
        .write(
            Method::PUT,
            "/line?order_id=eq.1&product_id=eq.1",
            &[],
            json!({ "order_id": 1, "product_id": 1, "qty": 3 }),
        )
        .await;
    assert_eq!(composite.status, 204);

    let mismatch = app.write(Method::PUT, "/category?id=eq.10", &[], json!({ "id": 11, "name": "x" })).await;
    assert_eq!((mismatch.status, mismatch.code()), (400, "PGRST115".into()));
    for bad in ["/category?name=eq.x", "/category?id=gt.1", "/category?id=eq.1&name=eq.x", "/line?order_id=eq.1"] {
        let reply = app.write(Method::PUT, bad, &[], json!({ "id": 1, "name": "x" })).await;
        assert_eq!((reply.status, reply.code()), (405, "PGRST105".into()), "{bad}");
    }
    let window = app.write(Method::PUT, "/category?id=eq.10&limit=1", &[], json!({ "id": 10, "name": "x" })).await;
    assert_eq!((window.status, window.code()), (400, "PGRST114".into()));
}

#[tokio::test]
async fn patch_and_delete_with_filters() {
    let app = shop().await;
    let patch = app
        .write(
            Method::PATCH,
            "/product?price=lt.10&select=sku,price",
            &[("Prefer", "return=representation")],
            json!({ "price": 9.99 }),
        )
        .await;
    assert_eq!((patch.status, patch.json()), (200, json!([{ "sku": "YOYO", "price": 9.99 }])));
    assert_eq!(patch.header("content-range"), Some("0-0/*"));
    let minimal = app.write(Method::PATCH, "/product?id=eq.1", &[], json!({ "name": "Claw hammer" })).await;
    assert_eq!((minimal.status, minimal.text.as_str(), minimal.header("content-range")), (204, "", Some("0-0/*")));
    let none = app
        .write(Method::PATCH, "/product?id=eq.99", &[("Prefer", "return=representation")], json!({ "name": "x" }))
        .await;
    assert_eq!((none.status, none.json()), (200, json!([])));

    // The read grammar's embedded filters select the rows: products whose category is 'tools'.
    let inner = app
        .write(
            Method::PATCH,
            "/product?select=sku,category!inner()&category.name=eq.tools",
            &[("Prefer", "return=representation")],
            json!({ "active": false }),
        )
        .await;
    assert_eq!(inner.json(), json!([{ "sku": "HAM-1" }]));
    assert_eq!(app.sql("SELECT sku FROM product WHERE active = 0"), json!([{ "sku": "HAM-1" }]));

    let delete = app
        .request(
            Method::DELETE,
            "/product?sku=eq.YOYO&select=sku,category(name)",
            &[("Prefer", "return=representation, count=exact")],
        )
        .await;
    assert_eq!((delete.status, delete.json()), (200, json!([{ "sku": "YOYO", "category": { "name": "toys" } }])));
    assert_eq!(delete.header("content-range"), Some("*/1"));
    let gone = app.request(Method::DELETE, "/product?sku=eq.YOYO", &[]).await;
    assert_eq!((gone.status, gone.header("content-range")), (204, Some("*/*")));
    assert_eq!(count(&app, "SELECT count(*) FROM product"), 1);
}

#[tokio::test]
async fn unfiltered_writes_are_refused_unless_allowed() {
    let app = shop().await;
    let patch = app.write(Method::PATCH, "/product", &[], json!({ "price": 0 })).await;
    assert_eq!((patch.status, patch.code()), (400, "21000".into()));
    let delete = app.request(Method::DELETE, "/product", &[]).await;
    assert_eq!((delete.status, delete.code()), (400, "21000".into()));
    // A limit alone is no filter.
    let limited = app.request(Method::DELETE, "/product?limit=1", &[]).await;
    assert_eq!(limited.status, 400);
    assert_eq!(count(&app, "SELECT count(*) FROM product"), 2);

    let mut options = rowbase::Options::default();
    options.http.allow_unfiltered_writes = true;
    let open = spawn_app().schema(SHOP).options(options).await;
    let everything = open.request(Method::DELETE, "/line", &[("Prefer", "count=exact")]).await;
    assert_eq!((everything.status, everything.header("content-range")), (204, Some("*/0")));
}

#[tokio::test]
async fn max_affected_dry_runs_and_singular_writes_roll_back() {
    let app = shop().await;
    let strict = [("Prefer", "handling=strict, max-affected=1")];
    let too_many = app.write(Method::PATCH, "/product?id=gt.0", &strict, json!({ "price": 1 })).await;
    assert_eq!((too_many.status, too_many.code()), (400, "PGRST124".into()));
    assert_eq!(count(&app, "SELECT count(*) FROM product WHERE price = 1"), 0, "rolled back");
    let one = app.write(Method::PATCH, "/product?id=eq.1", &strict, json!({ "price": 1 })).await;
    assert_eq!((one.status, one.header("preference-applied")), (204, Some("handling=strict, max-affected=1")));
    let lenient =
        app.write(Method::PATCH, "/product?id=gt.0", &[("Prefer", "max-affected=1")], json!({ "price": 2 })).await;
    assert_eq!(lenient.status, 204, "max-affected needs handling=strict");
    let unknown = app
        .write(
            Method::PATCH,
            "/product?id=eq.1",
            &[("Prefer", "handling=strict, frobnicate=yes")],
            json!({ "price": 3 }),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (400, "PGRST122".into()));

    let dry = app
        .write(
            Method::POST,
            "/category",
            &[("Prefer", "tx=rollback, return=representation")],
            json!({ "name": "ghost" }),
        )
        .await;
    assert_eq!((dry.status, dry.json()[0]["name"].clone()), (201, json!("ghost")));
    assert_eq!(dry.header("preference-applied"), Some("return=representation, tx=rollback"));
    assert_eq!(count(&app, "SELECT count(*) FROM category WHERE name = 'ghost'"), 0);
    let dry_delete = app.request(Method::DELETE, "/product?id=gt.0", &[("Prefer", "tx=rollback, count=exact")]).await;
    assert_eq!(dry_delete.header("content-range"), Some("*/2"));
    assert_eq!(count(&app, "SELECT count(*) FROM product"), 2);

    let singular = app
        .write(
            Method::PATCH,
            "/product?id=gt.0",
            &[("Accept", "application/vnd.pgrst.object+json"), ("Prefer", "return=representation")],
            json!({ "name": "same" }),
        )
        .await;
    assert_eq!((singular.status, singular.code()), (406, "PGRST116".into()));
    assert_eq!(count(&app, "SELECT count(*) FROM product WHERE name = 'same'"), 0, "rolled back");
}

#[tokio::test]
async fn constraint_violations_map_to_postgrest_statuses() {
    let app = shop().await;
    let cases = [
        (json!({ "sku": "HAM-1", "name": "dup" }), 409, "23505", "product_sku_key"),
        (json!({ "id": 1, "sku": "NEW", "name": "dup id" }), 409, "23505", "product_pkey"),
        (json!({ "sku": "FK", "name": "x", "category_id": 99 }), 409, "23503", "product_category_id_fkey"),
        (json!({ "sku": "NN", "name": null }), 400, "23502", "name"),
        (json!({ "sku": "CK", "name": "x", "price": -1 }), 400, "23514", "price_not_negative"),
        (json!({ "sku": "TY", "name": "x", "price": "cheap" }), 400, "22P02", "price"),
        (json!({ "sku": "TY", "name": "x", "active": "maybe" }), 400, "22P02", "active"),
        (json!({ "sku": "WAY-TOO-LONG-SKU", "name": "x" }), 400, "22001", "sku"),
        (json!({ "sku": "UNK", "name": "x", "colour": "red" }), 400, "PGRST204", "colour"),
    ];
    for (body, status, code, named) in cases {
        let reply = app.write(Method::POST, "/product", &[], body.clone()).await;
        assert_eq!((reply.status, reply.code()), (status, code.to_string()), "{body}: {}", reply.text);
        let text = format!("{} {}", reply.json()["message"], reply.json()["details"]);
        assert!(text.contains(named), "{body}: the error names {named}: {text}");
    }
    let fk = app.write(Method::POST, "/product", &[], json!({ "sku": "FK", "name": "x", "category_id": 99 })).await;
    assert_eq!(fk.json()["details"], json!("Key (category_id)=(99) is not present in table \"category\"."));
    let referenced = app.request(Method::DELETE, "/category?id=eq.1", &[]).await;
    assert_eq!((referenced.status, referenced.code()), (409, "23503".into()));
    assert!(referenced.json()["message"].as_str().is_some_and(|m| m.contains("product_category_id_fkey")));
    assert_eq!(count(&app, "SELECT count(*) FROM product"), 2, "no failed write left data");
}

#[tokio::test]
async fn bad_bodies_are_rejected() {
    let app = shop().await;
    for (body, code) in [
        ("", "PGRST102"),
        ("{", "PGRST102"),
        ("42", "PGRST102"),
        (r#"[{"sku":"a","name":"a"},{"sku":"b"}]"#, "PGRST102"),
    ] {
        let reply =
            app.send(Method::POST, "/product", &[("Content-Type", "application/json")], Some(body.into())).await;
        assert_eq!((reply.status, reply.code()), (400, code.to_string()), "{body}");
    }
    let xml = app.send(Method::POST, "/product", &[("Content-Type", "application/xml")], Some("<a/>".into())).await;
    assert_eq!((xml.status, xml.code()), (415, "PGRST107".into()));
    let profile = app.write(Method::POST, "/category", &[("Content-Profile", "other")], json!({ "name": "x" })).await;
    assert_eq!((profile.status, profile.code()), (406, "PGRST106".into()));

    let mut options = rowbase::Options::default();
    options.http.max_body_bytes = 1_000;
    let small = spawn_app().schema(SHOP).options(options).await;
    let big: Vec<Value> = (0..100).map(|i| json!({ "name": format!("category number {i}") })).collect();
    let reply = small.write(Method::POST, "/category", &[], Value::Array(big)).await;
    assert_eq!((reply.status, reply.code()), (413, "54000".into()));
    assert_eq!(count(&small, "SELECT count(*) FROM category"), 2);
}

#[tokio::test]
async fn json_columns_and_exact_decimals() {
    let app = shop().await;
    let reply = app
        .write(
            Method::POST,
            "/product?select=sku,price,tags",
            &[("Prefer", "return=representation")],
            json!({ "sku": "J", "name": "j", "price": 12345678.91, "tags": { "colours": ["red"], "n": 1 } }),
        )
        .await;
    assert_eq!(reply.json(), json!([{ "sku": "J", "price": 12345678.91, "tags": { "colours": ["red"], "n": 1 } }]));
    let filtered = app.get("/product?select=sku&tags->>n=eq.1").await;
    assert_eq!(filtered.json(), json!([{ "sku": "J" }]));
}

#[tokio::test]
async fn writes_on_chinook_keep_integrity() {
    let app = spawn_app().await;
    let rep = [("Prefer", "return=representation")];
    let artist =
        app.write(Method::POST, "/Artist?select=ArtistId,Name", &rep, json!({ "Name": "Rowbase Quartet" })).await;
    assert_eq!(artist.status, 201);
    let id = artist.json()[0]["ArtistId"].as_i64().unwrap();
    assert_eq!(id, count(&app, "SELECT max(ArtistId) FROM Artist"));
    let album = app
        .write(
            Method::POST,
            "/Album?select=Title,Artist(Name)",
            &rep,
            json!({ "Title": "First Light", "ArtistId": id }),
        )
        .await;
    assert_eq!(album.json(), json!([{ "Title": "First Light", "Artist": { "Name": "Rowbase Quartet" } }]));
    let blocked = app.request(Method::DELETE, &format!("/Artist?ArtistId=eq.{id}"), &[]).await;
    assert_eq!((blocked.status, blocked.code()), (409, "23503".into()));
    let albums = app.request(Method::DELETE, &format!("/Album?ArtistId=eq.{id}"), &[]).await;
    assert_eq!(albums.status, 204);
    let artist_gone =
        app.request(Method::DELETE, &format!("/Artist?ArtistId=eq.{id}"), &[("Prefer", "count=exact")]).await;
    assert_eq!((artist_gone.status, artist_gone.header("content-range")), (204, Some("*/1")));
    let long = app.write(Method::POST, "/Genre", &[], json!({ "Name": "x".repeat(121) })).await;
    assert_eq!((long.status, long.code()), (400, "22001".into()));
    let tracks = app
        .write(Method::PATCH, "/Track?AlbumId=eq.1&select=TrackId,UnitPrice", &rep, json!({ "UnitPrice": 1.29 }))
        .await;
    let expected = app.sql("SELECT TrackId, UnitPrice FROM Track WHERE AlbumId = 1 ORDER BY TrackId");
    assert_eq!(tracks.json(), expected);
}

#[tokio::test]
async fn limited_updates_and_deletes_touch_only_their_window() {
    let app = shop().await;
    let more: Vec<Value> =
        (0..5).map(|i| json!({ "sku": format!("L{i}"), "name": format!("l{i}"), "price": 100 + i })).collect();
    assert_eq!(app.write(Method::POST, "/product", &[], Value::Array(more)).await.status, 201);

    let patch = app
        .write(
            Method::PATCH,
            "/product?price=gte.100&order=price.desc&limit=2&select=sku",
            &[("Prefer", "return=representation")],
            json!({ "name": "priciest" }),
        )
        .await;
    assert_eq!(patch.status, 200, "{}", patch.text);
    assert_eq!(
        app.sql("SELECT sku FROM product WHERE name = 'priciest' ORDER BY sku"),
        json!([{ "sku": "L3" }, { "sku": "L4" }])
    );

    let delete = app
        .request(
            Method::DELETE,
            "/product?price=gte.0&order=price&limit=1&offset=1&select=sku",
            &[("Prefer", "return=representation")],
        )
        .await;
    assert_eq!((delete.status, delete.json()), (200, json!([{ "sku": "HAM-1" }])), "the second cheapest only");
    assert_eq!(count(&app, "SELECT count(*) FROM product"), 6);

    let composite = app
        .write(
            Method::POST,
            "/line",
            &[],
            json!([{ "order_id": 1, "product_id": 2, "qty": 1 }, { "order_id": 2, "product_id": 2, "qty": 5 }]),
        )
        .await;
    assert_eq!(composite.status, 201);
    let by_pair =
        app.request(Method::DELETE, "/line?qty=gt.0&order=qty.desc&limit=1", &[("Prefer", "count=exact")]).await;
    assert_eq!(by_pair.header("content-range"), Some("*/1"));
    assert_eq!(app.sql("SELECT order_id FROM line"), json!([{ "order_id": 1 }]));

    let negative = app.request(Method::DELETE, "/product?price=gte.0&limit=-1", &[]).await;
    assert_eq!((negative.status, negative.code()), (416, "PGRST103".into()));
    let limit_only = app.request(Method::DELETE, "/product?limit=1", &[]).await;
    assert_eq!((limit_only.status, limit_only.code()), (400, "21000".into()));
}
