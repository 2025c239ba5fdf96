//! Embedding through foreign keys: to-one, to-many, many-to-many, self-references, hints,
//! `!inner`, spreads, and filters, orders and windows on embedded resources.

use serde_json::{Value, json};

use crate::common::{rows_as_json, spawn_app};

#[tokio::test]
async fn many_to_one_and_one_to_many() {
    let app = spawn_app().await;
    let reply = app.get("/Track?select=Name,Album(Title,Artist(Name))&TrackId=eq.1").await;
    assert_eq!(
        reply.json(),
        json!([{ "Name": "For Those About To Rock (We Salute You)", "Album": { "Title": "For Those About To Rock We Salute You", "Artist": { "Name": "AC/DC" } } }])
    );
    let reply =
        app.get("/Artist?select=Name,Album(AlbumId)&ArtistId=in.(1,25)&order=ArtistId&Album.order=AlbumId").await;
    let db = app.oracle();
    let albums_1 = rows_as_json(&db, "SELECT AlbumId FROM Album WHERE ArtistId = 1 ORDER BY AlbumId");
    let name_25 = app.sql("SELECT Name FROM Artist WHERE ArtistId = 25")[0]["Name"].clone();
    assert_eq!(reply.json()[0]["Album"], albums_1);
    // An artist without albums gets an empty array.
    assert_eq!(reply.json()[1], json!({ "Name": name_25, "Album": [] }));
}

#[tokio::test]
async fn a_track_without_album_embeds_null() {
    let app = spawn_app().await;
    let tracks = app.sql("SELECT TrackId FROM Track WHERE AlbumId IS NULL LIMIT 1");
    if let Some(row) = tracks.as_array().and_then(|a| a.first()) {
        let reply = app.get(&format!("/Track?select=TrackId,Album(Title)&TrackId=eq.{}", row["TrackId"])).await;
        assert_eq!(reply.json()[0]["Album"], Value::Null);
    }
    // Chinook has none, so make one on a fixture as well.
    let app = spawn_app()
        .schema(
            "CREATE TABLE a (id INTEGER PRIMARY KEY, n TEXT);
         CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a);
         INSERT INTO a VALUES (1, 'one'); INSERT INTO b VALUES (1, 1), (2, NULL);",
        )
        .await;
    let reply = app.get("/b?select=id,a(n)&order=id").await;
    assert_eq!(reply.json(), json!([{ "id": 1, "a": { "n": "one" } }, { "id": 2, "a": null }]));
}

#[tokio::test]
async fn many_to_many_through_the_junction() {
    let app = spawn_app().await;
    let reply = app.get("/Playlist?select=Name,Track(TrackId)&PlaylistId=eq.13&Track.order=TrackId").await;
    let expected = app.sql(
        "SELECT t.TrackId FROM Track t JOIN PlaylistTrack pt ON pt.TrackId = t.TrackId WHERE pt.PlaylistId = 13 ORDER BY t.TrackId",
    );
    assert_eq!(reply.json()[0]["Track"], expected);
    let back = app.get("/Track?select=TrackId,Playlist(PlaylistId)&TrackId=eq.1&Playlist.order=PlaylistId").await;
    assert_eq!(
        back.json()[0]["Playlist"],
        app.sql("SELECT PlaylistId FROM PlaylistTrack WHERE TrackId = 1 ORDER BY PlaylistId")
    );
    let hinted = app
        .get("/Track?select=TrackId,Playlist!PlaylistTrack(PlaylistId)&TrackId=eq.1&Playlist.order=PlaylistId")
        .await;
    assert_eq!(hinted.json(), back.json());
}

#[tokio::test]
async fn self_references_read_as_postgrest_does() {
    let app = spawn_app().await;
    // Named after the table: the one-to-many side (reports); after the column: the manager.
    let reply = app
        .get("/Employee?select=EmployeeId,Employee(EmployeeId),manager:ReportsTo(EmployeeId)&EmployeeId=eq.2&Employee.order=EmployeeId")
        .await;
    assert_eq!(
        reply.json(),
        json!([{
            "EmployeeId": 2,
            "Employee": app.sql("SELECT EmployeeId FROM Employee WHERE ReportsTo = 2 ORDER BY EmployeeId"),
            "manager": { "EmployeeId": 1 },
        }])
    );
    let hinted = app.get("/Employee?select=EmployeeId,reports:Employee!ReportsTo(EmployeeId)&EmployeeId=eq.1&reports.order=EmployeeId").await;
    assert_eq!(
        hinted.json()[0]["reports"],
        app.sql("SELECT EmployeeId FROM Employee WHERE ReportsTo = 1 ORDER BY EmployeeId")
    );
    let by_fk = app.get("/Employee?select=EmployeeId,boss:Employee_ReportsTo_fkey(LastName)&EmployeeId=eq.3").await;
    // PostgREST matches a self-reference by table name (one-to-many) or column (many-to-one),
    // not by constraint name.
    assert_eq!((by_fk.status, by_fk.code()), (400, "PGRST200".into()));
}

#[tokio::test]
async fn embedded_filters_order_and_windows_shape_only_the_embed() {
    let app = spawn_app().await;
    let reply = app.get("/Album?select=AlbumId,Track(Name)&AlbumId=in.(1,2)&order=AlbumId&Track.order=Name.desc&Track.limit=2&Track.offset=1").await;
    let db = app.oracle();
    let expected: Vec<Value> = [1, 2]
        .iter()
        .map(|id| {
            json!({ "AlbumId": id, "Track": rows_as_json(&db, &format!("SELECT Name FROM Track WHERE AlbumId = {id} ORDER BY Name DESC LIMIT 2 OFFSET 1")) })
        })
        .collect();
    assert_eq!(reply.json(), Value::Array(expected));

    let filtered = app
        .get("/Album?select=AlbumId,Track(TrackId)&AlbumId=in.(1,2)&order=AlbumId&Track.Milliseconds=gt.300000")
        .await;
    assert_eq!(filtered.json().as_array().map(Vec::len), Some(2), "parents are kept");
    assert_eq!(filtered.json()[1]["Track"], json!([{ "TrackId": 2 }]));

    let to_one =
        app.get("/Album?select=AlbumId,Artist(Name)&AlbumId=in.(1,4)&Artist.Name=eq.AC/DC&order=AlbumId").await;
    assert_eq!(
        to_one.json(),
        json!([{ "AlbumId": 1, "Artist": { "Name": "AC/DC" } }, { "AlbumId": 4, "Artist": { "Name": "AC/DC" } }])
    );
    let to_one_miss = app.get("/Album?select=AlbumId,Artist(Name)&AlbumId=eq.2&Artist.Name=eq.AC/DC").await;
    assert_eq!(to_one_miss.json(), json!([{ "AlbumId": 2, "Artist": null }]));

    let nested_or = app.get("/Album?select=AlbumId,Track(TrackId)&AlbumId=eq.1&Track.or=(TrackId.eq.1,TrackId.eq.8)&Track.order=TrackId").await;
    assert_eq!(nested_or.json()[0]["Track"], json!([{ "TrackId": 1 }, { "TrackId": 8 }]));
}

#[tokio::test]
async fn inner_joins_and_null_filters_filter_parents() {
    let app = spawn_app().await;
    let inner = app.get("/Album?select=AlbumId,Artist!inner(Name)&Artist.Name=eq.AC/DC&order=AlbumId").await;
    assert_eq!(
        inner.json(),
        json!([{ "AlbumId": 1, "Artist": { "Name": "AC/DC" } }, { "AlbumId": 4, "Artist": { "Name": "AC/DC" } }])
    );

    let to_many = app
        .get("/Artist?select=ArtistId,Album!inner(AlbumId)&Album.Title=like.*Rock*&order=ArtistId&Album.order=AlbumId")
        .await;
    let expected = app.sql("SELECT DISTINCT ArtistId FROM Album WHERE instr(Title, 'Rock') > 0 ORDER BY ArtistId");
    let got: Vec<Value> =
        to_many.json().as_array().unwrap().iter().map(|r| json!({ "ArtistId": r["ArtistId"] })).collect();
    assert_eq!(Value::Array(got), expected);

    let without = app.get("/Artist?select=ArtistId,Album()&Album=is.null&order=ArtistId").await;
    assert_eq!(
        without.json(),
        app.sql("SELECT ArtistId FROM Artist WHERE ArtistId NOT IN (SELECT ArtistId FROM Album) ORDER BY ArtistId")
    );
    let with = app.get_with("/Artist?select=ArtistId,Album()&Album=not.is.null", &[("Prefer", "count=exact")]).await;
    let n = app.sql("SELECT count(DISTINCT ArtistId) AS n FROM Album")[0]["n"].as_u64().unwrap();
    assert!(with.header("content-range").is_some_and(|r| r.ends_with(&format!("/{n}"))));

    let counted = app
        .get_with("/Album?select=AlbumId,Artist!inner(Name)&Artist.Name=eq.AC/DC", &[("Prefer", "count=exact")])
        .await;
    assert_eq!(counted.header("content-range"), Some("0-1/2"));
}

#[tokio::test]
async fn spreads_and_related_orders() {
    let app = spawn_app().await;
    let reply = app.get("/Track?select=TrackId,...Album(AlbumTitle:Title,...Artist(ArtistName:Name))&TrackId=in.(1,2)&order=TrackId").await;
    assert_eq!(
        reply.json(),
        json!([
            { "TrackId": 1, "AlbumTitle": "For Those About To Rock We Salute You", "ArtistName": "AC/DC" },
            { "TrackId": 2, "AlbumTitle": "Balls to the Wall", "ArtistName": "Accept" },
        ])
    );
    let ordered = app.get("/Album?select=AlbumId,Artist(Name)&AlbumId=lte.10&order=Artist(Name).desc,AlbumId").await;
    let got: Vec<Value> = ordered.json().as_array().unwrap().iter().map(|r| r["AlbumId"].clone()).collect();
    let expected = crate::common::column(
        &app.oracle(),
        "SELECT a.AlbumId FROM Album a JOIN Artist r ON r.ArtistId = a.ArtistId WHERE a.AlbumId <= 10 ORDER BY r.Name DESC, a.AlbumId",
    );
    assert_eq!(got, expected);
    let to_many = app.get("/Artist?select=Name,Album(Title)&order=Album(Title)").await;
    assert_eq!((to_many.status, to_many.code()), (400, "PGRST118".into()));
    let spread_many = app.get("/Artist?select=Name,...Album(Title)").await;
    assert_eq!((spread_many.status, spread_many.code()), (400, "PGRST119".into()));
}

#[tokio::test]
async fn missing_and_ambiguous_relationships() {
    let app = spawn_app()
        .schema(
            "PRAGMA foreign_keys = OFF;
         CREATE TABLE departments (id INTEGER PRIMARY KEY, name TEXT, head_id INTEGER REFERENCES agents(id));
         CREATE TABLE agents (id INTEGER PRIMARY KEY, name TEXT, department_id INTEGER REFERENCES departments(id));
         INSERT INTO departments VALUES (1, 'Ops', 1); INSERT INTO agents VALUES (1, 'Ann', 1), (2, 'Bo', 1);",
        )
        .await;
    let ambiguous = app.get("/agents?select=*,departments(*)").await;
    assert_eq!((ambiguous.status, ambiguous.code()), (300, "PGRST201".into()));
    let body = ambiguous.json();
    assert_eq!(body["details"].as_array().map(Vec::len), Some(2));
    let hint = body["hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains("'departments!departments_head_id_fkey'")
            && hint.contains("'departments!agents_department_id_fkey'"),
        "{hint}"
    );
    assert!(body["details"][0]["relationship"].as_str().is_some_and(|r| r.contains(" using ")));

    let hinted = app.get("/agents?select=name,departments!agents_department_id_fkey(name)&order=id").await;
    assert_eq!(
        hinted.json(),
        json!([{ "name": "Ann", "departments": { "name": "Ops" } }, { "name": "Bo", "departments": { "name": "Ops" } }])
    );
    let by_column = app.get("/agents?select=name,dept:department_id(name)&id=eq.1").await;
    assert_eq!(by_column.json(), json!([{ "name": "Ann", "dept": { "name": "Ops" } }]));
    let heads = app.get("/agents?select=name,departments!head_id(name)&order=id").await;
    assert_eq!(
        heads.json(),
        json!([{ "name": "Ann", "departments": [{ "name": "Ops" }] }, { "name": "Bo", "departments": [] }])
    );

    let missing = app.get("/agents?select=*,department(*)").await;
    assert_eq!((missing.status, missing.code()), (400, "PGRST200".into()));
    assert_eq!(missing.json()["hint"], json!("Perhaps you meant 'departments' instead of 'department'."));
    let not_embedded = app.get("/agents?select=name&departments.name=eq.Ops").await;
    assert_eq!((not_embedded.status, not_embedded.code()), (400, "PGRST108".into()));
}
