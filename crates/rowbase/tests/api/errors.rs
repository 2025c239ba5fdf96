//! Errors: PostgREST's statuses, codes and messages for unknown names and malformed requests.

use serde_json::json;

use crate::common::spawn_app;

#[tokio::test]
async fn unknown_table_and_column() {
    let app = spawn_app().await;
    let table = app.get("/Albums").await;
    assert_eq!((table.status, table.code()), (404, "PGRST205".into()));
    assert_eq!(
        table.json(),
        json!({
            "code": "PGRST205",
            "message": "Could not find the table 'public.Albums' in the schema cache",
            "details": null,
            "hint": "Perhaps you meant the table 'public.Album'",
        })
    );
    let column = app.get("/Album?select=Titel").await;
    assert_eq!((column.status, column.code()), (400, "42703".into()));
    assert_eq!(column.json()["hint"], json!("Perhaps you meant to reference the column \"Album.Title\"."));
    let filter = app.get("/Album?Titel=eq.x").await;
    assert_eq!((filter.status, filter.code()), (400, "42703".into()));
    let order = app.get("/Album?order=Titel").await;
    assert_eq!((order.status, order.code()), (400, "42703".into()));
}

#[tokio::test]
async fn malformed_requests_are_pgrst100() {
    let app = spawn_app().await;
    for query in [
        "AlbumId=5",
        "AlbumId=equals.5",
        "select=Title,",
        "select=Title,Artist(",
        "order=Title.sideways",
        "or=(AlbumId.eq.1",
        "AlbumId=is.maybe",
        "limit=many",
        "Title=eq.%FF",
    ] {
        let reply = app.get(&format!("/Album?{query}")).await;
        assert_eq!((reply.status, reply.code()), (400, "PGRST100".into()), "{query}: {}", reply.text);
        let body = reply.json();
        assert!(body["message"].is_string() && body.get("details").is_some() && body.get("hint").is_some());
    }
    let filter = app.get("/Album?AlbumId=5").await;
    assert_eq!(filter.json()["message"], json!("\"failed to parse filter (5)\" (line 1, column 1)"));
}

#[tokio::test]
async fn unsupported_operators_name_the_engine() {
    let app = spawn_app().await;
    for query in ["Title=cs.{a}", "Title=fts.rock", "Title=ov.{a}", "Title=adj.[1,2]"] {
        let reply = app.get(&format!("/Album?{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        assert!(reply.json()["message"].as_str().is_some_and(|m| m.contains("sqlite")), "{}", reply.text);
    }
}

#[tokio::test]
async fn paths_and_methods() {
    let app = spawn_app().await;
    let deep = app.get("/Album/1").await;
    assert_eq!((deep.status, deep.code()), (404, "PGRST125".into()));
    let rpc = app.get("/rpc/nothing").await;
    assert_eq!((rpc.status, rpc.code()), (404, "PGRST202".into()));
    let options = app.request(reqwest::Method::OPTIONS, "/Album", &[]).await;
    assert_eq!((options.status, options.header("allow")), (200, Some("OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE")));
    let trace = app.request(reqwest::Method::TRACE, "/Album", &[]).await;
    assert_eq!((trace.status, trace.code()), (405, "PGRST117".into()));
    // The same routes under /rest/v1, with or without a trailing slash.
    for path in ["/rest/v1/Album?limit=1", "/Album/?limit=1", "/rest/v1/Album/?limit=1"] {
        assert_eq!(app.get(path).await.status, 200, "{path}");
    }
    assert_eq!(app.get("/rest/v1/").await.status, 200);
    assert_eq!(app.get("/rest/v1/rpc/nothing").await.code(), "PGRST202");
    assert_eq!(app.get("/%FF").await.code(), "PGRST100");
}

#[tokio::test]
async fn every_answer_carries_its_request_id() {
    let app = spawn_app().await;
    let made = app.get("/Album?limit=1").await;
    let id = made.header("x-request-id").unwrap_or_default().to_string();
    assert!(id.len() > 8, "a new id: {id}");
    assert_ne!(app.get("/Album?limit=1").await.header("x-request-id"), Some(id.as_str()), "one per request");
    let kept = app.get_with("/Nope", &[("X-Request-Id", "abc-123")]).await;
    assert_eq!(kept.header("x-request-id"), Some("abc-123"), "the client's, on errors too");
    let refused = app.get_with("/Album?limit=1", &[("X-Request-Id", "no spaces allowed")]).await;
    assert_ne!(refused.header("x-request-id"), Some("no spaces allowed"));
}
