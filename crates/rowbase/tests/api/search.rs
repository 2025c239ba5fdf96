//! Full-text search through the API on every engine, over the blog example's `posts.search`
//! column (FTS5 on SQLite, tsvector + GIN on PostgreSQL, FULLTEXT on MariaDB/MySQL), created by
//! the example's own migrations. The same requests must find the same rows everywhere; where
//! the engines differ by design (stemming) the difference is asserted, not hidden.

use std::path::Path;

use reqwest::Method;
use serde_json::json;

use crate::common::TestApp;
use crate::declared::{Engine, app_from_migrations};

fn blog_migrations() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/blog/migrations")
}

/// A server on a new database of `engine` after the blog migrations, with three posts.
async fn blog_app(engine: Engine) -> Option<TestApp> {
    let (app, applied) = app_from_migrations(engine, &blog_migrations(), rowbase::Options::default()).await?;
    assert!(applied >= 2, "the blog's migrations, search included");
    let reply = app
        .write(
            Method::POST,
            "/users",
            &[],
            json!([{"name": "Ada", "email": "ada@example.com"}, {"name": "Grace", "email": "grace@example.com"}]),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let posts = json!([
        {"author_id": 1, "title": "Analytical engines", "body": "Notes on the analytical engine by Babbage and its punched cards"},
        {"author_id": 1, "title": "Cooking pasta", "body": "Boiling water, salt, and patience"},
        {"author_id": 2, "title": "Compilers", "body": "Machine code from English words: the engine behind COBOL"},
    ]);
    // One by one, so the ids are 1, 2, 3 on every engine.
    for post in posts.as_array().unwrap() {
        let reply = app.write(Method::POST, "/posts", &[], post.clone()).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    Some(app)
}

/// The ids a read returns, sorted.
async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let reply = app.get(&format!("/posts?select=id&{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text);
    let mut ids: Vec<i64> = reply.json().as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids
}

/// The same behaviour on every engine; `stems`: whether the index stems English words.
async fn search_behaves(app: &TestApp, stems: bool) {
    // Every operator, words exactly as written.
    assert_eq!(ids(app, "search=plfts.analytical%20engine").await, [1]);
    assert_eq!(ids(app, "search=plfts.engine").await, [1, 3]);
    assert_eq!(ids(app, "search=phfts.analytical%20engine").await, [1]);
    assert_eq!(ids(app, "search=phfts.engine%20analytical").await, Vec::<i64>::new(), "a phrase keeps its order");
    assert_eq!(ids(app, "search=fts.engine%20%26%20!babbage").await, [3]);
    assert_eq!(ids(app, "search=fts.pasta%20|%20compilers").await, [2, 3]);
    assert_eq!(ids(app, "search=fts.punch:*").await, [1], "a prefix");
    assert_eq!(ids(app, "search=wfts.%22analytical%20engine%22%20or%20pasta").await, [1, 2]);
    assert_eq!(ids(app, "search=wfts.engine%20-cobol").await, [1]);
    // The filter is an ordinary one: negated, combined, and on an embedded resource.
    assert_eq!(ids(app, "search=not.plfts.engine").await, [2]);
    assert_eq!(ids(app, "or=(search.plfts.pasta,id.eq.3)").await, [2, 3]);
    let reply = app.get("/users?select=name,posts(title)&posts.search=plfts.compilers&order=id").await;
    assert_eq!(
        reply.json(),
        json!([{"name": "Ada", "posts": []}, {"name": "Grace", "posts": [{"title": "Compilers"}]}]),
        "{}",
        reply.text
    );
    // An empty query matches nothing, as PostgreSQL's empty tsquery.
    assert_eq!(ids(app, "search=plfts.%20").await, Vec::<i64>::new());
    // A language is accepted everywhere (it is the index's business off PostgreSQL).
    assert_eq!(ids(app, "search=wfts(english).pasta").await, [2]);
    // English stemming: "card" finds "cards" where the index stems.
    let stemmed = ids(app, "search=wfts(english).card").await;
    assert_eq!(stemmed, if stems { vec![1] } else { Vec::new() });

    // The index follows every write: update, delete, insert.
    let reply = app.write(Method::PATCH, "/posts?id=eq.2", &[], json!({"body": "Risotto instead"})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(ids(app, "search=plfts.risotto").await, [2]);
    assert_eq!(ids(app, "search=plfts.boiling").await, Vec::<i64>::new());
    let reply = app.request(Method::DELETE, "/posts?id=eq.3", &[]).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(ids(app, "search=plfts.engine").await, [1]);

    // The column is computed: left out of `*`, selectable by name, never written.
    let reply = app.get("/posts?id=eq.1").await;
    assert!(reply.json()[0].get("search").is_none(), "{}", reply.text);
    assert!(reply.json()[0].get("title").is_some(), "{}", reply.text);
    assert_eq!(app.get("/posts?select=search&id=eq.1").await.status, 200);
    let reply = app.write(Method::PATCH, "/posts?id=eq.1", &[], json!({"search": "x"})).await;
    assert_eq!((reply.status, reply.code()), (400, "428C9".into()), "{}", reply.text);
    let reply = app.write(Method::POST, "/posts", &[], json!({"author_id": 1, "title": "t", "search": "x"})).await;
    assert_eq!((reply.status, reply.code()), (400, "428C9".into()), "{}", reply.text);

    // Bad queries are clear 400s.
    let reply = app.get("/posts?search=fts.(engine").await;
    assert_eq!((reply.status, reply.code()), (400, "42601".into()), "{}", reply.text);
    let reply = app.get("/posts?search=fts.engine%20cards").await;
    assert_eq!((reply.status, reply.code()), (400, "42601".into()), "two words need an operator: {}", reply.text);
}

#[tokio::test]
async fn full_text_search_on_sqlite() {
    let app = blog_app(Engine::Sqlite).await.unwrap();
    search_behaves(&app, true).await;
    // Off PostgreSQL a search needs the index, and a lone negation has no FTS5 form.
    let reply = app.get("/posts?title=fts.engine").await;
    assert_eq!((reply.status, reply.code()), (400, "PGRST127".into()), "{}", reply.text);
    let reply = app.get("/posts?search=fts.!engine").await;
    assert_eq!((reply.status, reply.code()), (400, "PGRST127".into()), "{}", reply.text);
}

#[tokio::test]
async fn full_text_search_on_postgresql() {
    let Some(app) = blog_app(Engine::Postgres).await else { return };
    search_behaves(&app, true).await;
    // PostgreSQL searches any text column (PostgREST wraps it in to_tsvector), and negates alone.
    assert_eq!(ids(&app, "title=fts.pasta").await, [2]);
    assert_eq!(ids(&app, "search=fts.!engine").await, [2]);
}

#[tokio::test]
async fn full_text_search_on_mysql() {
    let Some(app) = blog_app(Engine::MySql).await else { return };
    // InnoDB's full-text parser does not stem.
    search_behaves(&app, false).await;
    let reply = app.get("/posts?title=fts.engine").await;
    assert_eq!((reply.status, reply.code()), (400, "PGRST127".into()), "{}", reply.text);
}
