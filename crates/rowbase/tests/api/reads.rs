//! Plain reads: columns, renames, casts, ordering, windows, counts, formats and statuses.

use serde_json::{Value, json};

use crate::common::{column, spawn_app};

#[tokio::test]
async fn the_issue_example_matches_sqlite() {
    let app = spawn_app().await;
    let reply = app.get("/Album?select=Title,Artist(Name),Track(Name,Milliseconds)&AlbumId=lte.3&order=Title.desc&Track.order=TrackId").await;
    assert_eq!(reply.status, 200);
    let db = app.oracle();
    let mut expected = Vec::new();
    for album in
        app.sql("SELECT AlbumId, Title, ArtistId FROM Album WHERE AlbumId <= 3 ORDER BY Title DESC").as_array().unwrap()
    {
        let artist = crate::common::rows_as_json(
            &db,
            &format!("SELECT Name FROM Artist WHERE ArtistId = {}", album["ArtistId"]),
        );
        let tracks = crate::common::rows_as_json(
            &db,
            &format!("SELECT Name, Milliseconds FROM Track WHERE AlbumId = {} ORDER BY TrackId", album["AlbumId"]),
        );
        expected.push(json!({ "Title": album["Title"], "Artist": artist[0], "Track": tracks }));
    }
    assert_eq!(reply.json(), Value::Array(expected));
    assert_eq!(reply.header("content-range"), Some("0-2/*"));
    assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
}

#[tokio::test]
async fn star_returns_every_column_with_sqlite_types() {
    let app = spawn_app().await;
    let reply = app.get("/Track?TrackId=lte.5&order=TrackId").await;
    assert_eq!(reply.json(), app.sql("SELECT * FROM Track WHERE TrackId <= 5 ORDER BY TrackId"));
    // UnitPrice is NUMERIC(10,2): a JSON number, not a string.
    assert_eq!(reply.json()[0]["UnitPrice"], json!(0.99));
}

#[tokio::test]
async fn renames_casts_and_empty_select() {
    let app = spawn_app().await;
    let reply = app.get("/Artist?select=id:ArtistId,name:Name,idText:ArtistId::text&ArtistId=eq.1").await;
    assert_eq!(reply.json(), json!([{ "id": 1, "name": "AC/DC", "idText": "1" }]));
    // Keys are written into the SQL as literals unless they hold a quote, a backslash or NUL:
    // those are bound, and come back exactly as asked.
    let odd = app.get("/Artist?select=it%27s%5C%27:Name,%27x:ArtistId&ArtistId=eq.1").await;
    assert_eq!(odd.json(), json!([{ "it's\\'": "AC/DC", "'x": 1 }]));
    let all = app.get("/Artist?select=&ArtistId=eq.1").await;
    assert_eq!(all.json(), json!([{ "ArtistId": 1, "Name": "AC/DC" }]));
    let bad = app.get("/Artist?select=ArtistId::nosuchtype").await;
    assert_eq!((bad.status, bad.code()), (400, "42704".into()));
}

#[tokio::test]
async fn order_on_several_columns_with_nulls_placement() {
    let app = spawn_app().await;
    let db = app.oracle();
    let cases = [
        ("order=Composer.asc.nullsfirst,TrackId", "ORDER BY Composer IS NOT NULL, Composer, TrackId"),
        ("order=Composer.desc.nullslast,TrackId.desc", "ORDER BY Composer IS NULL, Composer DESC, TrackId DESC"),
        // PostgreSQL's default, which every engine follows: nulls last ascending, first descending.
        ("order=Composer,TrackId", "ORDER BY Composer IS NULL, Composer, TrackId"),
        ("order=Composer.desc,TrackId", "ORDER BY Composer IS NOT NULL, Composer DESC, TrackId"),
    ];
    for (query, order) in cases {
        let reply = app.get(&format!("/Track?select=TrackId&AlbumId=lte.20&{query}")).await;
        let got: Vec<Value> = reply.json().as_array().unwrap().iter().map(|r| r["TrackId"].clone()).collect();
        assert_eq!(got, column(&db, &format!("SELECT TrackId FROM Track WHERE AlbumId <= 20 {order}")), "{query}");
    }
}

#[tokio::test]
async fn limit_offset_and_range_header() {
    let app = spawn_app().await;
    let reply = app.get("/Artist?select=ArtistId&order=ArtistId&limit=3&offset=2").await;
    assert_eq!(reply.json(), json!([{ "ArtistId": 3 }, { "ArtistId": 4 }, { "ArtistId": 5 }]));
    assert_eq!(reply.header("content-range"), Some("2-4/*"));

    let ranged =
        app.get_with("/Artist?select=ArtistId&order=ArtistId", &[("Range", "10-12"), ("Range-Unit", "items")]).await;
    assert_eq!(ranged.json(), json!([{ "ArtistId": 11 }, { "ArtistId": 12 }, { "ArtistId": 13 }]));
    assert_eq!(ranged.header("content-range"), Some("10-12/*"));

    let zero = app.get("/Artist?limit=0").await;
    assert_eq!((zero.status, zero.json(), zero.header("content-range")), (200, json!([]), Some("*/*")));

    let negative = app.get("/Artist?limit=-1").await;
    assert_eq!((negative.status, negative.code()), (416, "PGRST103".into()));
    let backwards = app.get_with("/Artist", &[("Range", "5-2")]).await;
    assert_eq!((backwards.status, backwards.code()), (416, "PGRST103".into()));
}

#[tokio::test]
async fn counts_give_totals_206_and_416() {
    let app = spawn_app().await;
    let total = app.sql("SELECT count(*) AS n FROM Artist")[0]["n"].as_u64().unwrap();
    let exact = [("Prefer", "count=exact")];
    let page = app.get_with("/Artist?select=ArtistId&order=ArtistId&limit=25", &exact).await;
    assert_eq!(page.status, 206);
    assert_eq!(page.header("content-range"), Some(format!("0-24/{total}").as_str()));
    assert_eq!(page.json().as_array().map(Vec::len), Some(25));

    let everything = app.get_with("/Artist?select=ArtistId", &exact).await;
    assert_eq!(everything.status, 200);
    assert_eq!(everything.header("content-range"), Some(format!("0-{}/{total}", total - 1).as_str()));

    let filtered = app.get_with("/Artist?ArtistId=eq.0", &exact).await;
    assert_eq!((filtered.status, filtered.json(), filtered.header("content-range")), (200, json!([]), Some("*/0")));

    let past = app.get_with(&format!("/Artist?offset={}", total + 10), &exact).await;
    assert_eq!((past.status, past.code()), (416, "PGRST103".into()));
    assert_eq!(past.header("content-range"), Some(format!("*/{total}").as_str()));
    assert_eq!(
        past.json()["details"],
        json!(format!("An offset of {} was requested, but there are only {total} rows.", total + 10))
    );

    for mode in ["planned", "estimated"] {
        let reply = app.get_with("/Artist?limit=1", &[("Prefer", &format!("count={mode}"))]).await;
        assert_eq!(reply.header("content-range"), Some(format!("0-0/{total}").as_str()), "{mode}");
    }
}

#[tokio::test]
async fn head_returns_headers_and_no_body() {
    let app = spawn_app().await;
    let total = app.sql("SELECT count(*) AS n FROM Track WHERE Milliseconds > 300000")[0]["n"].as_u64().unwrap();
    let reply = app
        .request(reqwest::Method::HEAD, "/Track?select=*&Milliseconds=gt.300000", &[("Prefer", "count=exact")])
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.text.is_empty());
    assert_eq!(reply.header("content-range"), Some(format!("0-{}/{total}", total - 1).as_str()));
}

#[tokio::test]
async fn singular_object_needs_exactly_one_row() {
    let app = spawn_app().await;
    let object = [("Accept", "application/vnd.pgrst.object+json")];
    let one = app.get_with("/Artist?ArtistId=eq.1", &object).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json(), json!({ "ArtistId": 1, "Name": "AC/DC" }));
    assert_eq!(one.header("content-type"), Some("application/vnd.pgrst.object+json; charset=utf-8"));
    let none = app.get_with("/Artist?ArtistId=eq.0", &object).await;
    assert_eq!((none.status, none.code()), (406, "PGRST116".into()));
    assert_eq!(none.json()["details"], json!("The result contains 0 rows"));
    let many = app.get_with("/Artist?ArtistId=lt.3", &object).await;
    assert_eq!((many.status, many.json()["details"].clone()), (406, json!("The result contains 2 rows")));
}

#[tokio::test]
async fn csv_output_has_a_header_and_postgrest_quoting() {
    let app = spawn_app().await;
    let reply = app
        .get_with("/Artist?select=ArtistId,Name&ArtistId=in.(1,3,11)&order=ArtistId", &[("Accept", "text/csv")])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(reply.text, "ArtistId,Name\n1,AC/DC\n3,Aerosmith\n11,Black Label Society");
    let quoted = app.get_with("/Album?select=Title&AlbumId=eq.8", &[("Accept", "text/csv")]).await;
    let title = app.sql("SELECT Title FROM Album WHERE AlbumId = 8")[0]["Title"].as_str().unwrap().to_string();
    assert_eq!(quoted.text, format!("Title\n{title}"));
    let unknown = app.get_with("/Artist", &[("Accept", "application/xml")]).await;
    assert_eq!((unknown.status, unknown.code()), (406, "PGRST107".into()));
}

#[tokio::test]
async fn rest_v1_prefix_profiles_and_openapi() {
    let app = spawn_app().await;
    let prefixed = app.get_with("/rest/v1/Genre?GenreId=eq.1", &[("Accept-Profile", "public")]).await;
    assert_eq!(prefixed.json(), json!([{ "GenreId": 1, "Name": "Rock" }]));
    let other = app.get_with("/Genre", &[("Accept-Profile", "private")]).await;
    assert_eq!((other.status, other.code()), (406, "PGRST106".into()));

    let root = app.get("/").await;
    assert_eq!(root.header("content-type"), Some("application/openapi+json; charset=utf-8"));
    let doc = root.json();
    assert_eq!(doc["openapi"], json!("3.0.3"));
    assert_eq!(doc["components"]["schemas"]["Track"]["properties"]["UnitPrice"]["type"], json!("number"));
    assert!(doc["paths"]["/Album"]["get"]["parameters"].as_array().is_some_and(|p| p.len() > 3));
    assert_eq!(app.get("/rest/v1/").await.json(), doc);
}

#[tokio::test]
async fn cors_exposes_content_range() {
    let mut options = rowbase::Options::default();
    options.http.cors_origins = vec!["http://example.com".into()];
    let app = crate::common::spawn_app().options(options).await;
    let reply = app.get_with("/Artist?limit=1", &[("Origin", "http://example.com")]).await;
    assert_eq!(reply.header("access-control-allow-origin"), Some("http://example.com"));
    assert!(reply.header("access-control-expose-headers").is_some_and(|h| h.contains("content-range")));
}

#[tokio::test]
async fn three_levels_of_embedding_are_one_statement() {
    let app = spawn_app().await;
    let path = "/Artist?select=Name,Album(Title,Track(Name,Genre(Name),PlaylistTrack(PlaylistId)))&ArtistId=lte.5";
    let _warm = app.get(path).await;
    let before = app.statements();
    let reply = app.get(path).await;
    assert_eq!(reply.status, 200);
    assert_eq!(app.statements() - before, 1, "one SQL statement for the whole tree");
    let first_track = &reply.json()[0]["Album"][0]["Track"][0];
    assert!(first_track["Genre"]["Name"].is_string(), "{first_track}");

    let before = app.statements();
    let counted = app.get_with(path, &[("Prefer", "count=exact")]).await;
    assert_eq!(counted.status, 200);
    assert_eq!(app.statements() - before, 1, "the count is part of the same statement");
}

#[tokio::test]
async fn types_come_out_as_json_types() {
    let app = spawn_app().schema("CREATE TABLE gadget (id INTEGER PRIMARY KEY, active BOOLEAN, meta JSON, price DECIMAL(10,2), raw BLOB, note TEXT);
         INSERT INTO gadget VALUES (1, 1, '{\"tags\":[\"a\",\"b\"],\"size\":{\"w\":3}}', 12.5, x'00ff', NULL);
         INSERT INTO gadget VALUES (2, 0, '[1,2,3]', 0, NULL, 'x');
         INSERT INTO gadget VALUES (3, NULL, NULL, NULL, NULL, NULL);")
    .await;
    let reply = app.get("/gadget?order=id").await;
    assert_eq!(
        reply.json(),
        json!([
            { "id": 1, "active": true, "meta": { "tags": ["a", "b"], "size": { "w": 3 } }, "price": 12.5, "raw": "\\x00ff", "note": null },
            { "id": 2, "active": false, "meta": [1, 2, 3], "price": 0, "raw": null, "note": "x" },
            { "id": 3, "active": null, "meta": null, "price": null, "raw": null, "note": null },
        ])
    );
    let arrows =
        app.get("/gadget?select=id,meta->size,w:meta->size->>w,first:meta->tags->0,last:meta->>-1&order=id").await;
    assert_eq!(
        arrows.json(),
        json!([
            { "id": 1, "size": { "w": 3 }, "w": "3", "first": "a", "last": null },
            { "id": 2, "size": null, "w": null, "first": null, "last": "3" },
            { "id": 3, "size": null, "w": null, "first": null, "last": null },
        ])
    );
    let filtered = app.get("/gadget?select=id&meta->size->>w=eq.3&active=is.true").await;
    assert_eq!(filtered.json(), json!([{ "id": 1 }]));
    let booleans = app.get("/gadget?select=id&active=eq.false").await;
    assert_eq!(booleans.json(), json!([{ "id": 2 }]));
    let unknown = app.get("/gadget?select=id&active=is.unknown").await;
    assert_eq!(unknown.json(), json!([{ "id": 3 }]));
}

#[tokio::test]
async fn read_only_mode_leaves_the_file_byte_for_byte() {
    let source = crate::common::chinook();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.sqlite");
    std::fs::copy(&source, &path).unwrap();
    // Make it a rollback-journal file, which a normal open would switch to WAL.
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "journal_mode", "DELETE").unwrap();
    let before = std::fs::read(&path).unwrap();
    let mut options = rowbase::Options::default();
    options.database.read_only = true;
    let server =
        rowbase::start(path.to_str().unwrap(), &options, "127.0.0.1:0".parse().unwrap(), std::future::pending())
            .await
            .unwrap();
    let body = reqwest::get(format!("http://{}/Artist?limit=2", server.addr)).await.unwrap().text().await.unwrap();
    assert!(body.starts_with("[{"), "{body}");
    server.shutdown().await.unwrap();
    assert!(std::fs::read(&path).unwrap() == before, "read-only serving changed the file");
}

#[tokio::test]
async fn the_default_mode_switches_to_wal_and_changes_no_data() {
    let prepare = |c: &rusqlite::Connection| c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    let app = spawn_app().prepare(prepare).await;
    let before = app.sql("SELECT count(*) AS n, sum(Milliseconds) AS ms FROM Track");
    let _ = app.get("/Track?select=Name,Album(Title)&limit=50").await;
    let mode: String = app.oracle().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(app.sql("SELECT count(*) AS n, sum(Milliseconds) AS ms FROM Track"), before);
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let mut app = spawn_app().await;
    let ok = app.get("/Genre?limit=1").await;
    assert_eq!(ok.status, 200);
    let server = app.server.take().unwrap();
    server.shutdown().await.expect("server stops cleanly");
    assert!(reqwest::get(format!("{}/Genre", app.base)).await.is_err(), "nothing listens after shutdown");
}
