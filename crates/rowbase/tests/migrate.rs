//! Migrations on every engine: plan from a schema file, apply, revert, apply again; rows kept
//! across a migration; destructive steps refused unless allowed; a changed applied file refused;
//! two concurrent `apply` runs apply each migration once. Each engine gets a fresh database.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use rowbase::migrate::{self, Planned, State};
use rowbase_db::{Database, DatabaseOptions};
use serde_json::json;

const V1: &str = r#"
[tables.author]
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "name", type = "varchar(100)", not_null = true },
  { name = "email", type = "varchar(200)", not_null = true, unique = true },
  { name = "created_at", type = "timestamptz", not_null = true, default = "now" },
]

[tables.post]
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "author_id", type = "integer", not_null = true, references = "author.id", on_delete = "cascade" },
  { name = "title", type = "varchar(200)", not_null = true },
  { name = "published", type = "boolean", not_null = true, default = false },
  { name = "price", type = "decimal(10,2)" },
  { name = "meta", type = "json" },
]
indexes = [
  { columns = ["published", "title desc"] },
  { name = "post_live_idx", columns = ["author_id"], where = "published=is.true&price=gt.0" },
]
checks = [{ name = "price", condition = "price=gte.0" }]
"#;

/// V1 plus a column, a rename (title → headline) and an index.
fn v2() -> String {
    V1.replace(
        r#"{ name = "title", type = "varchar(200)", not_null = true },"#,
        r#"{ name = "headline", type = "varchar(200)", not_null = true, renamed_from = "title" },"#,
    )
    .replace(r#"{ columns = ["published", "title desc"] },"#, r#"{ columns = ["published", "headline desc"] },"#)
    .replace(
        r#"  { name = "created_at", type = "timestamptz", not_null = true, default = "now" },"#,
        "  { name = \"created_at\", type = \"timestamptz\", not_null = true, default = \"now\" },\n  { name = \"bio\", type = \"text\" },",
    ) + "\n[tables.author_name]\ncolumns = [{ name = \"id\", type = \"integer\", primary_key = true }]\n"
}

/// Whether the engine has partial indexes (MySQL has none: there the index covers every row).
fn partial_indexes_supported(url: &str) -> bool {
    !url.starts_with("mysql")
}

/// Whether `post_live_idx` has a WHERE clause, asked of the engine's own catalog.
async fn partial_index(url: &str) -> bool {
    if url.starts_with("postgres") {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT i.indpred IS NOT NULL FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'post_live_idx'",
                &[],
            )
            .await
            .unwrap();
        row.get(0)
    } else if url.starts_with("mysql") {
        // The index exists (a plain one) and nothing can make it partial.
        false
    } else {
        let conn = rusqlite::Connection::open(url).unwrap();
        conn.query_row("SELECT partial FROM pragma_index_list('post') WHERE name = 'post_live_idx'", [], |r| r.get(0))
            .unwrap()
    }
}

/// The introspected schema, as comparable text.
async fn describe(url: &str) -> String {
    let db = Database::open(url, &DatabaseOptions { pool_size: Some(1), ..Default::default() }).await.unwrap();
    let schema = db.schemas().into_iter().next().unwrap();
    let catalog = db.catalog(&schema).unwrap();
    let mut out = String::new();
    for t in catalog.tables() {
        let columns: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{}:{:?}:{}:{:?}:{}:{:?}",
                    c.name, c.data_type, c.nullable, c.max_length, c.generated, c.full_text
                )
            })
            .collect();
        let mut uniques = t.unique_keys.clone();
        uniques.sort();
        let fks: Vec<String> = t
            .foreign_keys
            .iter()
            .map(|f| format!("{:?}->{}{:?}", f.columns, f.referenced_table, f.referenced_columns))
            .collect();
        let mut indexes: Vec<String> =
            t.indexes.iter().map(|i| format!("{}{:?}{}", i.name, i.columns, i.unique)).collect();
        indexes.sort();
        let mut checks: Vec<String> = t.checks.iter().map(|c| c.name.clone()).collect();
        checks.sort();
        out.push_str(&format!(
            "{} {columns:?} pk{:?} u{uniques:?} fk{fks:?} ix{indexes:?} ck{checks:?} tg{:?}\n",
            t.name, t.primary_key, t.triggers
        ));
    }
    out
}

async fn plan(url: &str, dir: &Path, schema: &str, name: &str, destructive: bool) -> anyhow::Result<Planned> {
    let file = dir.join("rowbase.toml");
    std::fs::write(&file, schema).unwrap();
    migrate::plan(url, &file, &dir.join("migrations"), name, destructive).await
}

async fn scenario(url: &str) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let migrations = dir.join("migrations");

    // Plan and apply the first schema; planning again finds nothing.
    assert!(matches!(plan(url, dir, V1, "blog", false).await.unwrap(), Planned::Written { .. }));
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    assert!(matches!(plan(url, dir, V1, "again", false).await.unwrap(), Planned::UpToDate));

    // Rows written through the API survive the next migration, and the running server serves
    // the migrated schema without a restart.
    let options = rowbase::Options { schema_poll: Some(std::time::Duration::from_millis(100)), ..Default::default() };
    let server = rowbase::start(url, &options, "127.0.0.1:0".parse().unwrap(), std::future::pending()).await.unwrap();
    {
        let client = reqwest::Client::new();
        let base = format!("http://{}", server.addr);
        let author = client
            .post(format!("{base}/author"))
            .header("Content-Type", "application/json")
            .body(json!({ "id": 1, "name": "Ada", "email": "ada@example.com" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(author.status(), 201, "{}", author.text().await.unwrap());
        let posts: Vec<serde_json::Value> = (1..=3)
            .map(|i| json!({ "id": i, "author_id": 1, "title": format!("Post {i}"), "price": "9.50" }))
            .collect();
        let posted = client
            .post(format!("{base}/post"))
            .header("Content-Type", "application/json")
            .body(serde_json::Value::Array(posts).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 201, "{}", posted.text().await.unwrap());
        // The declared check holds in the database itself.
        let negative = client
            .post(format!("{base}/post"))
            .header("Content-Type", "application/json")
            .body(json!({ "id": 9, "author_id": 1, "title": "Free money", "price": "-1" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(negative.status(), 400);
        let error: serde_json::Value = negative.json().await.unwrap();
        assert_eq!(error["code"], "23514", "{error}");
    }
    assert_eq!(partial_index(url).await, partial_indexes_supported(url), "post_live_idx is partial where it can be");
    match plan(url, dir, &v2(), "headline", false).await.unwrap() {
        Planned::Written { summary, .. } => {
            assert!(summary.contains(&"rename column post.title to headline".to_string()), "{summary:?}");
            assert!(summary.contains(&"add column author.bio".to_string()), "{summary:?}");
        }
        Planned::UpToDate => panic!("v2 differs from v1"),
    }
    let migrated = format!("http://{}/post?select=id,headline,price,author(name)&order=id", server.addr);
    let before_apply = reqwest::get(&migrated).await.unwrap();
    assert_eq!(before_apply.status(), 400, "no headline column before the migration");
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    // The server notices the new schema within a few polls.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let posts: serde_json::Value = loop {
        let response = reqwest::get(&migrated).await.unwrap();
        if response.status() == 200 {
            break response.json().await.unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "schema not reloaded: {}", response.text().await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let new_table = reqwest::get(format!("http://{}/author_name", server.addr)).await.unwrap();
    assert_eq!(new_table.status(), 200, "a table created by the migration is served");
    server.shutdown().await.unwrap();
    assert_eq!(posts[0]["headline"], json!("Post 1"), "{posts}");
    assert_eq!(posts[0]["author"], json!({ "name": "Ada" }), "{posts}");
    // Exact decimals keep their scale on some engines (9.50): compare the number.
    assert_eq!(posts[0]["price"].as_f64(), Some(9.5), "{posts}");
    assert_eq!(posts.as_array().map(Vec::len), Some(3), "every row kept");
    assert!(matches!(plan(url, dir, &v2(), "again", false).await.unwrap(), Planned::UpToDate));

    // Down all, apply again: the same schema, by introspection.
    let before = describe(url).await;
    assert_eq!(migrate::down(url, &migrations, 2).await.unwrap().len(), 2);
    assert!(!describe(url).await.contains("post "), "down removed the tables");
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 2);
    assert_eq!(describe(url).await, before);

    // Dropping a column is refused unless allowed.
    let v3 = v2().replace("  { name = \"meta\", type = \"json\" },\n", "");
    let refused = plan(url, dir, &v3, "drop_meta", false).await.unwrap_err().to_string();
    assert!(refused.contains("--allow-destructive") && refused.contains("post.meta"), "{refused}");
    assert!(matches!(plan(url, dir, &v3, "drop_meta", true).await.unwrap(), Planned::Written { .. }));
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);

    // Changes SQLite's ALTER TABLE cannot make: a check on an existing table, a wider column, a
    // column that may now be NULL; with a new full-text column on the table SQLite rebuilds.
    // Rebuilt on SQLite (foreign keys, rows and the search index kept), altered in place
    // elsewhere; and back.
    let v4 = v3
        .replace(
            "[tables.author]",
            "[tables.author]\ntimestamps = true\nchecks = [{ name = \"named\", condition = \"name=neq.\" }]",
        )
        .replace(r#"{ name = "headline", type = "varchar(200)""#, r#"{ name = "headline", type = "varchar(300)""#)
        .replace(
            "  { name = \"price\", type = \"decimal(10,2)\" },\n",
            "  { name = \"price\", type = \"decimal(10,2)\" },\n  { name = \"search\", type = \"fulltext\", from = [\"headline\"], language = \"english\" },\n  { name = \"views\", type = \"integer\", not_null = true, default = 0 },\n",
        )
        .replace(
            r#"{ name = "name", type = "varchar(100)", not_null = true },"#,
            r#"{ name = "name", type = "varchar(100)" },"#,
        )
        .replace("indexes = [\n", "unique = [[\"author_id\", \"headline\"]]\nindexes = [\n")
        .replace(
            r#"columns = [{ name = "id", type = "integer", primary_key = true }]"#,
            r#"columns = [{ name = "id", type = "integer", primary_key = true, references = "author.id", on_delete = "cascade" }]"#,
        );
    let before_v4 = describe(url).await;
    {
        // Rows to keep (the round trip above emptied the tables).
        let server =
            rowbase::start(url, &options, "127.0.0.1:0".parse().unwrap(), std::future::pending()).await.unwrap();
        let client = reqwest::Client::new();
        for (table, body) in [
            ("author", json!({ "id": 1, "name": "Ada", "email": "ada@example.com" })),
            ("post", json!([1, 2, 3].map(|i| json!({ "id": i, "author_id": 1, "headline": format!("Post {i}") })))),
        ] {
            let reply = client
                .post(format!("http://{}/{table}", server.addr))
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 201, "{}", reply.text().await.unwrap());
        }
        server.shutdown().await.unwrap();
    }
    match plan(url, dir, &v4, "alter", false).await.unwrap() {
        Planned::Written { summary, .. } => {
            assert!(
                summary.iter().any(|l| l.starts_with("alter table post:") && l.contains("headline")),
                "{summary:?}"
            );
            assert!(
                summary
                    .iter()
                    .any(|l| l.starts_with("alter table post:") && l.contains("add unique (author_id, headline)")),
                "{summary:?}"
            );
            assert!(
                summary.iter().any(|l| l.starts_with("alter table author_name: add foreign key id")),
                "{summary:?}"
            );
            let author = summary.iter().find(|l| l.starts_with("alter table author:"));
            assert!(
                author.is_some_and(|l| l.contains("nullable") && l.contains("add check author_named_check")),
                "{summary:?}"
            );
            assert!(summary.iter().any(|l| l == "add column author.updated_at"), "{summary:?}");
            assert!(
                summary.iter().any(|l| l.starts_with("keep author.created_at and author.updated_at")),
                "{summary:?}"
            );
        }
        Planned::UpToDate => panic!("v4 differs from v3"),
    }
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    assert!(matches!(plan(url, dir, &v4, "again", false).await.unwrap(), Planned::UpToDate));
    let after_v4 = describe(url).await;
    assert!(after_v4.contains("author_named_check") && after_v4.contains("Some(300)"), "{after_v4}");
    {
        let server =
            rowbase::start(url, &options, "127.0.0.1:0".parse().unwrap(), std::future::pending()).await.unwrap();
        let base = format!("http://{}", server.addr);
        let client = reqwest::Client::new();
        let posts: serde_json::Value = client
            .get(format!("{base}/post?select=headline,author(name)&order=id"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(posts.as_array().map(Vec::len), Some(3), "every row kept: {posts}");
        assert_eq!(posts[2], json!({ "headline": "Post 3", "author": { "name": "Ada" } }), "{posts}");
        // The new full-text column indexes the rows that were there.
        let found: serde_json::Value = client
            .get(format!("{base}/post?select=id&search=plfts.post&order=id"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found, json!([{ "id": 1 }, { "id": 2 }, { "id": 3 }]), "the rows there before are indexed");
        let unnamed = client
            .post(format!("{base}/author"))
            .header("Content-Type", "application/json")
            .body(r#"{"id": 2, "name": "", "email": "x@example.com"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(unnamed.status(), 400, "the new check holds");
        let twice = client
            .post(format!("{base}/post"))
            .header("Content-Type", "application/json")
            .body(r#"{"id": 7, "author_id": 1, "headline": "Post 1"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(twice.status(), 409, "the new unique key holds");
        let orphan = client
            .post(format!("{base}/author_name"))
            .header("Content-Type", "application/json")
            .body(r#"{"id": 99}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(orphan.status(), 409, "the new foreign key holds");
        // The author's posts still cascade with it after the rebuild.
        let deleted = client.delete(format!("{base}/author?id=eq.1")).send().await.unwrap();
        assert_eq!(deleted.status(), 204);
        let left: serde_json::Value = client.get(format!("{base}/post")).send().await.unwrap().json().await.unwrap();
        assert_eq!(left, json!([]), "cascade kept");
        server.shutdown().await.unwrap();
    }
    assert_eq!(migrate::down(url, &migrations, 1).await.unwrap().len(), 1);
    assert_eq!(describe(url).await, before_v4, "down restores the schema");
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    // Widening a column a full-text column reads (PostgreSQL needs the full-text column dropped
    // before and added again after), and an integer to a bigint; and back.
    let wider = v4
        .replace(r#"{ name = "headline", type = "varchar(300)""#, r#"{ name = "headline", type = "varchar(400)""#)
        .replace(r#"{ name = "views", type = "integer""#, r#"{ name = "views", type = "bigint""#);
    let before_wider = describe(url).await;
    match plan(url, dir, &wider, "wider", false).await.unwrap() {
        Planned::Written { summary, .. } => {
            assert!(summary.iter().any(|l| l.starts_with("drop full-text column post.search")), "{summary:?}");
            assert!(summary.iter().any(|l| l.contains("type of views")), "{summary:?}");
        }
        Planned::UpToDate => panic!("the headline is wider"),
    }
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    assert!(matches!(plan(url, dir, &wider, "again", false).await.unwrap(), Planned::UpToDate));
    let after_wider = describe(url).await;
    assert!(after_wider.contains("Some(400)") && after_wider.contains("search:"), "{after_wider}");
    assert_eq!(migrate::down(url, &migrations, 1).await.unwrap().len(), 1);
    assert_eq!(describe(url).await, before_wider, "down restores the full-text column");
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    // Dropping a check, and back: restored from the engine's own definition of it.
    let unchecked = wider.replace("checks = [{ name = \"price\", condition = \"price=gte.0\" }]\n", "");
    assert_ne!(unchecked, wider);
    let before_unchecked = describe(url).await;
    assert!(matches!(plan(url, dir, &unchecked, "unchecked", false).await.unwrap(), Planned::Written { .. }));
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    assert!(!describe(url).await.contains("post_price_check"));
    assert_eq!(migrate::down(url, &migrations, 1).await.unwrap().len(), 1);
    assert_eq!(describe(url).await, before_unchecked, "down restores the check");
    let engine = ["postgres", "mysql"]
        .into_iter()
        .find(|e| url.starts_with(e))
        .map_or("sqlite", |e| if e == "postgres" { "postgresql" } else { e });
    let unchecked_dir = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_unchecked"))
        .unwrap();
    let down_sql = std::fs::read_to_string(unchecked_dir.join(format!("{engine}.down.sql"))).unwrap();
    // SQLite rebuilds the table from its stored statement; the others add the check back.
    let restored = if engine == "sqlite" { "CHECK" } else { "ADD CONSTRAINT" };
    assert!(down_sql.contains(restored) && !down_sql.contains("not restored"), "{down_sql}");
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    // Soft delete on an existing table: deleted_at, rowbase_alive, and the unique key on email
    // becomes one among live rows; and back.
    let soft = unchecked.replace("[tables.author]\n", "[tables.author]\nsoft_delete = true\n");
    let before_soft = describe(url).await;
    match plan(url, dir, &soft, "soft", false).await.unwrap() {
        Planned::Written { summary, .. } => {
            assert!(summary.iter().any(|l| l == "add column author.deleted_at"), "{summary:?}");
            assert!(
                summary
                    .iter()
                    .any(|l| l.contains("add unique (email, rowbase_alive)") && l.contains("drop unique (email)")),
                "{summary:?}"
            );
        }
        Planned::UpToDate => panic!("soft delete changes author"),
    }
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    assert!(matches!(plan(url, dir, &soft, "again", false).await.unwrap(), Planned::UpToDate));
    assert!(describe(url).await.contains("rowbase_alive"));
    assert_eq!(migrate::down(url, &migrations, 1).await.unwrap().len(), 1);
    assert_eq!(describe(url).await, before_soft, "down restores the plain unique key");
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    // Auditing an existing table, then changing its columns (the triggers that list them are
    // made again); and back.
    let audited = soft.replace("[tables.author]\n", "[tables.author]\naudit = true\n");
    let renamed = audited.replace(
        "  { name = \"bio\", type = \"text\" },",
        "  { name = \"bio\", type = \"text\" },\n  { name = \"nickname\", type = \"varchar(40)\" },",
    );
    assert_ne!(renamed, audited);
    let before_audit = describe(url).await;
    match plan(url, dir, &audited, "audited", false).await.unwrap() {
        Planned::Written { summary, .. } => {
            assert_eq!(summary, ["create the audit log rowbase_audit", "audit author"], "{summary:?}");
        }
        Planned::UpToDate => panic!("audit changes author"),
    }
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    assert!(matches!(plan(url, dir, &audited, "again", false).await.unwrap(), Planned::UpToDate));
    let with_log = describe(url).await;
    match plan(url, dir, &renamed, "nickname", false).await.unwrap() {
        Planned::Written { summary, .. } => {
            assert!(summary.contains(&"stop auditing author".to_string()), "{summary:?}");
            assert!(summary.contains(&"audit author".to_string()), "{summary:?}");
        }
        Planned::UpToDate => panic!("a new column"),
    }
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 1);
    assert!(matches!(plan(url, dir, &renamed, "again", false).await.unwrap(), Planned::UpToDate));
    {
        // The new column is in the log.
        let server =
            rowbase::start(url, &options, "127.0.0.1:0".parse().unwrap(), std::future::pending()).await.unwrap();
        let base = format!("http://{}", server.addr);
        let client = reqwest::Client::new();
        let reply = client
            .post(format!("{base}/author"))
            .header("Content-Type", "application/json")
            .body(r#"{"id": 5, "name": "Kay", "email": "kay@example.com", "nickname": "k"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201, "{}", reply.text().await.unwrap());
        let log: serde_json::Value = client
            .get(format!("{base}/rowbase_audit?select=new_row&table_name=eq.author"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(log[0]["new_row"]["nickname"], "k", "{log}");
        server.shutdown().await.unwrap();
    }
    assert_eq!(migrate::down(url, &migrations, 1).await.unwrap().len(), 1);
    let back = describe(url).await;
    assert_eq!(back, with_log, "down restores the audited table");
    assert_eq!(migrate::down(url, &migrations, 1).await.unwrap().len(), 1);
    assert_eq!(describe(url).await, before_audit, "down removes the audit");
    assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), 2);
    // Narrowing a column may lose data: refused unless allowed.
    let v5 = renamed
        .replace(r#"{ name = "headline", type = "varchar(400)""#, r#"{ name = "headline", type = "varchar(10)""#);
    let refused = plan(url, dir, &v5, "narrow", false).await.unwrap_err().to_string();
    assert!(refused.contains("--allow-destructive") && refused.contains("NARROWING type of headline"), "{refused}");

    // An applied migration whose file changed is refused.
    let status = migrate::status(url, &migrations).await.unwrap();
    assert!(status.iter().all(|(_, _, s)| *s == State::Applied), "{status:?}");
    let first = std::fs::read_dir(&migrations).unwrap().map(|e| e.unwrap().path()).min().unwrap();
    let engine_file = std::fs::read_dir(&first)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.to_string_lossy().ends_with(".up.sql") && std::fs::read_to_string(p).unwrap().contains("CREATE TABLE")
        })
        .unwrap();
    for entry in std::fs::read_dir(&first).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".up.sql") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text + "\n-- edited\n").unwrap();
        }
    }
    let changed = migrate::apply(url, &migrations).await.unwrap_err().to_string();
    assert!(changed.contains("changed after it was applied"), "{changed} ({})", engine_file.display());
    assert!(migrate::status(url, &migrations).await.unwrap().iter().any(|(_, _, s)| *s == State::Changed));
}

/// Two `apply` runs at once on a fresh database: each migration is applied exactly once.
async fn concurrent_apply(url_a: &str, url_b: &str) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    plan(url_a, dir, V1, "blog", false).await.unwrap();
    let migrations = dir.join("migrations");
    let (a, b) = tokio::join!(migrate::apply(url_a, &migrations), migrate::apply(url_b, &migrations));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 1, "applied once: {a:?} {b:?}");
    assert!(migrate::status(url_a, &migrations).await.unwrap().iter().all(|(_, _, s)| *s == State::Applied));
}

fn sqlite_db(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "journal_mode", "WAL").unwrap();
    path.to_string_lossy().into_owned()
}

/// A fresh database on a server, dropped at the end; `None` (skip) when the server is absent.
struct ServerDb {
    url: String,
    drop_sql: (String, Vec<String>),
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        let _ = Command::new(&self.drop_sql.0).args(&self.drop_sql.1).output();
    }
}

fn postgres_db(name: &str) -> Option<ServerDb> {
    let admin =
        std::env::var("ROWBASE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("rb_mig_{name}_{}", std::process::id());
    let ok = Command::new("psql")
        .args([
            &admin,
            "-qAtXc",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var("ROWBASE_REQUIRE_POSTGRES").as_deref() != Ok("1"), "PostgreSQL required but unreachable");
        eprintln!("SKIPPED: PostgreSQL at {admin} is unreachable");
        return None;
    }
    let url = format!("{}/{name}", admin.rsplit_once('/').map_or(admin.as_str(), |(s, _)| s));
    Some(ServerDb {
        url,
        drop_sql: ("psql".into(), vec![admin, "-qAtXc".into(), format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")]),
    })
}

fn mysql_db(name: &str) -> Option<ServerDb> {
    let admin = std::env::var("ROWBASE_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let name = format!("rb_mig_{name}_{}", std::process::id());
    let ok = Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-u",
            "root",
            "-e",
            &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var("ROWBASE_REQUIRE_MYSQL").as_deref() != Ok("1"), "MySQL required but unreachable");
        eprintln!("SKIPPED: MySQL at {admin} is unreachable");
        return None;
    }
    let url = format!("{}/{name}", admin.rsplit_once('/').map_or(admin.as_str(), |(s, _)| s));
    Some(ServerDb {
        url,
        drop_sql: (
            "mariadb".into(),
            vec![
                "-h".into(),
                "127.0.0.1".into(),
                "-u".into(),
                "root".into(),
                "-e".into(),
                format!("DROP DATABASE IF EXISTS {name}"),
            ],
        ),
    })
}

/// The shipped examples: their migrations apply on the engine, plan from their schema file then
/// finds nothing to do, and down all → apply again gives the same schema.
async fn examples(url: &str) {
    for name in ["blog", "shop", "ledger", "newsroom"] {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
        let work = tempfile::tempdir().unwrap();
        let migrations = work.path().join("migrations");
        std::fs::create_dir(&migrations).unwrap();
        for entry in std::fs::read_dir(example.join("migrations")).unwrap() {
            let from = entry.unwrap().path();
            let to = migrations.join(from.file_name().unwrap());
            std::fs::create_dir(&to).unwrap();
            for file in std::fs::read_dir(&from).unwrap() {
                let file = file.unwrap().path();
                std::fs::copy(&file, to.join(file.file_name().unwrap())).unwrap();
            }
        }
        let applied = migrate::apply(url, &migrations).await.unwrap();
        assert!(!applied.is_empty(), "{name}");
        let schema = std::fs::read_to_string(example.join("rowbase.toml")).unwrap();
        assert!(
            matches!(plan(url, work.path(), &schema, "again", false).await.unwrap(), Planned::UpToDate),
            "{name}: the migrations match the schema file"
        );
        let before = describe(url).await;
        assert_eq!(migrate::down(url, &migrations, applied.len()).await.unwrap().len(), applied.len());
        assert_eq!(migrate::apply(url, &migrations).await.unwrap().len(), applied.len());
        assert_eq!(describe(url).await, before, "{name}");
        migrate::down(url, &migrations, applied.len()).await.unwrap();
    }
}

#[tokio::test]
async fn examples_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    examples(&sqlite_db(dir.path(), "examples.sqlite")).await;
    if let Some(db) = postgres_db("examples") {
        examples(&db.url).await;
    }
    if let Some(db) = mysql_db("examples") {
        examples(&db.url).await;
    }
}

/// The policies of `table` on PostgreSQL, as `name: USING expression`, sorted.
fn policies(url: &str, table: &str) -> Vec<String> {
    let out = Command::new("psql")
        .args([url, "-qAtXc", &format!("SELECT policyname || ': ' || coalesce(qual, '') FROM pg_policies WHERE tablename = '{table}' ORDER BY 1")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

/// Declared access becomes native on PostgreSQL through migrations: a block per change, found by
/// comparing with the last one written, applied, and undone by `down` (the previous block).
#[tokio::test]
async fn access_migrations_on_postgresql() {
    let Some(db) = postgres_db("access") else { return };
    let work = tempfile::tempdir().unwrap();
    let newsroom =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/newsroom/rowbase.toml"))
            .unwrap();
    assert!(matches!(plan(&db.url, work.path(), &newsroom, "newsroom", false).await.unwrap(), Planned::Written { .. }));
    let migrations = work.path().join("migrations");
    migrate::apply(&db.url, &migrations).await.unwrap();
    assert!(matches!(plan(&db.url, work.path(), &newsroom, "again", false).await.unwrap(), Planned::UpToDate));
    let before = policies(&db.url, "posts");
    assert!(
        before.iter().any(|p| p.starts_with("rb_readable_select_") && p.contains(": ((published = true) OR")),
        "{before:?}"
    );
    // Drafts hidden from everyone: only the access changes.
    let changed = newsroom
        .replace(r#"select = "or=(published.is.true,author_id.eq.{jwt.sub})""#, r#"select = "published=is.true""#);
    let Planned::Written { summary, .. } = plan(&db.url, work.path(), &changed, "published_only", false).await.unwrap()
    else {
        panic!("a migration for the access change")
    };
    assert_eq!(summary.len(), 1, "{summary:?}");
    // Until it is applied, serving the new schema file is refused: the policies differ.
    let file = work.path().join("rowbase.toml");
    let refused = migrate::check(&db.url, &file).await.unwrap_err().to_string();
    assert!(refused.contains("row-level policies of posts"), "{refused}");
    migrate::apply(&db.url, &migrations).await.unwrap();
    migrate::check(&db.url, &file).await.unwrap();
    let after = policies(&db.url, "posts");
    assert!(
        after.iter().any(|p| p.starts_with("rb_readable_select_") && p.ends_with(": (published = true)")),
        "{after:?}"
    );
    assert_eq!(after.len(), before.len());
    migrate::down(&db.url, &migrations, 1).await.unwrap();
    assert_eq!(policies(&db.url, "posts"), before, "down restores the previous access");
    migrate::down(&db.url, &migrations, 1).await.unwrap();
    assert!(policies(&db.url, "posts").is_empty());
}

#[tokio::test]
async fn migrations_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    scenario(&sqlite_db(dir.path(), "app.sqlite")).await;
    let url = sqlite_db(dir.path(), "race.sqlite");
    concurrent_apply(&url, &url).await;
}

#[tokio::test]
async fn migrations_on_postgresql() {
    let Some(db) = postgres_db("scenario") else { return };
    scenario(&db.url).await;
    let Some(race) = postgres_db("race") else { return };
    concurrent_apply(&race.url, &race.url).await;
}

#[tokio::test]
async fn migrations_on_mysql() {
    let Some(db) = mysql_db("scenario") else { return };
    scenario(&db.url).await;
    let Some(race) = mysql_db("race") else { return };
    concurrent_apply(&race.url, &race.url).await;
}
