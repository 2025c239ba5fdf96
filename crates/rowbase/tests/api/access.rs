//! Access control over HTTP on every engine: the newsroom example (examples/newsroom) served with
//! an HS256 secret, its roles tried on every door. Each expected answer is written out here, from
//! the example's rules, never computed by the code under test; writes are checked with SQL that
//! bypasses Rowbase.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Reply, TestApp};
use crate::declared::{Engine, Raw, app_from_schema_with};

/// The example's HMAC secret (test only).
pub const SECRET: &str = "newsroom-test-secret-at-least-32-bytes";

pub const ALICE: &str = "a1a1a1a1-0000-4000-8000-000000000001";
pub const BOB: &str = "b2b2b2b2-0000-4000-8000-000000000002";
pub const MO: &str = "c3c3c3c3-0000-4000-8000-000000000003";

/// The newsroom schema file.
pub fn newsroom() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/newsroom/rowbase.toml");
    std::fs::read_to_string(path).unwrap()
}

/// An HS256 token with these claims, an hour to live unless they say otherwise.
pub fn token(claims: Value) -> String {
    let mut claims = claims;
    if claims.get("exp").is_none() {
        claims["exp"] = json!(now() + 3600);
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anon,
    Alice,
    Bob,
    Moderator,
    Service,
}

impl Who {
    fn token(self) -> Option<String> {
        match self {
            Who::Anon => None,
            Who::Alice => Some(token(json!({"sub": ALICE, "role": "authenticated"}))),
            Who::Bob => Some(token(json!({"sub": BOB, "role": "authenticated"}))),
            Who::Moderator => Some(token(json!({"sub": MO, "role": "moderator"}))),
            Who::Service => Some(token(json!({"role": "service_role"}))),
        }
    }
}

/// The options: the secret, `anon` for requests without a token, and the example's access.
pub fn options(schema: &str) -> rowbase::Options {
    let access = rowbase_migrate::schema::parse("rowbase.toml", schema).unwrap().access.unwrap();
    let mut options = rowbase::Options::default();
    options.http.auth = rowbase_http::auth::AuthConfig {
        keys: Some(std::sync::Arc::new(rowbase_http::auth::JwtKeys::new(Some(SECRET.as_bytes()), None).unwrap())),
        anon_role: Some("anon".into()),
        ..Default::default()
    };
    options.http.access = Some(std::sync::Arc::new(rowbase_plan::AccessRules::compile(&access).unwrap()));
    options
}

/// The example's rows: three profiles, each author's published and draft post, two comments,
/// one moderation note.
async fn seed(raw: &Raw) {
    raw.execute(&format!(
        "INSERT INTO profiles (id, display_name, email) VALUES ('{ALICE}', 'Alice', 'alice@example.com'), \
         ('{BOB}', 'Bob', 'bob@example.com'), ('{MO}', 'Mo', 'mo@example.com')"
    ))
    .await;
    raw.execute(&format!(
        "INSERT INTO posts (id, author_id, title, body, published) VALUES \
         (1, '{ALICE}', 'A pub', '', TRUE), (2, '{ALICE}', 'A draft', '', FALSE), \
         (3, '{BOB}', 'B pub', '', TRUE), (4, '{BOB}', 'B draft', '', FALSE)"
    ))
    .await;
    raw.execute(&format!(
        "INSERT INTO comments (id, post_id, author_id, body) VALUES (1, 1, '{BOB}', 'nice'), (2, 2, '{ALICE}', 'note to self')"
    ))
    .await;
    raw.execute("INSERT INTO moderation_notes (id, post_id, note) VALUES (1, 4, 'spam?')").await;
}

async fn send(
    app: &TestApp,
    who: Who,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let bearer = who.token().map(|t| format!("Bearer {t}"));
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if let Some(b) = &bearer {
        all.push(("Authorization", b));
    }
    match body {
        Some(body) => app.write(method, path, &all, body).await,
        None => app.request(method, path, &all).await,
    }
}

async fn get(app: &TestApp, who: Who, path: &str) -> Reply {
    send(app, who, Method::GET, path, &[], None).await
}

/// The ids of a JSON array answer.
fn ids(reply: &Reply) -> Vec<i64> {
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json().as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// A post's title and deleted state as the database has them, read around Rowbase.
async fn post_state(raw: &Raw, id: i64) -> Option<(String, bool)> {
    let rows = raw.query(&format!("SELECT title, deleted_at IS NOT NULL AS gone FROM posts WHERE id = {id}")).await;
    rows.first().map(|r| (r[0].clone(), r[1] == "1" || r[1] == "true" || r[1] == "t"))
}

async fn matrix(engine: Engine) {
    let schema = newsroom();
    let Some((app, raw)) = app_from_schema_with(engine, &schema, options(&schema)).await else { return };
    seed(&raw).await;
    use Who::*;

    // Reads: which of posts 1 (Alice, published), 2 (Alice, draft), 3 (Bob, published), 4 (Bob,
    // draft) each role sees.
    for (who, expected) in [
        (Anon, vec![1, 3]),
        (Alice, vec![1, 2, 3]),
        (Bob, vec![1, 3, 4]),
        (Moderator, vec![1, 2, 3, 4]),
        (Service, vec![1, 2, 3, 4]),
    ] {
        assert_eq!(ids(&get(&app, who, "/posts?select=id&order=id").await), expected, "{engine:?} {who:?} reads");
        // One row at a time, by key: the same answer.
        for id in 1..=4 {
            let one = ids(&get(&app, who, &format!("/posts?select=id&id=eq.{id}")).await);
            assert_eq!(one, if expected.contains(&id) { vec![id] } else { vec![] }, "{engine:?} {who:?} post {id}");
        }
    }

    // Updates of each post's title: who changes what (the database says, not the answer).
    for (who, status, changes) in [
        (Anon, 401, vec![]),
        (Alice, 200, vec![1, 2]),
        (Bob, 200, vec![3, 4]),
        (Moderator, 403, vec![]),
        (Service, 200, vec![1, 2, 3, 4]),
    ] {
        for id in 1..=4 {
            let before = post_state(&raw, id).await.unwrap().0;
            let reply = send(
                &app,
                who,
                Method::PATCH,
                &format!("/posts?id=eq.{id}"),
                &[("Prefer", "return=representation")],
                Some(json!({"title": "edited"})),
            )
            .await;
            assert_eq!(reply.status, status, "{engine:?} {who:?} PATCH post {id}: {}", reply.text);
            let after = post_state(&raw, id).await.unwrap().0;
            let changed = after == "edited";
            assert_eq!(changed, changes.contains(&id), "{engine:?} {who:?} PATCH post {id}");
            if status == 200 {
                let expected: Vec<i64> = if changed { vec![id] } else { vec![] };
                assert_eq!(ids(&reply), expected, "{engine:?} {who:?} PATCH post {id} representation");
            } else {
                assert_eq!(reply.code(), "42501", "{engine:?} {who:?}");
            }
            raw.execute(&format!("UPDATE posts SET title = '{before}' WHERE id = {id}")).await;
        }
    }

    // A moderator (un)publishes any post: the one column granted.
    for id in 1..=4 {
        let reply =
            send(&app, Moderator, Method::PATCH, &format!("/posts?id=eq.{id}"), &[], Some(json!({"published": true})))
                .await;
        assert_eq!(reply.status, 204, "{engine:?} moderator publishes {id}: {}", reply.text);
    }
    assert_eq!(ids(&get(&app, Anon, "/posts?select=id&order=id").await), vec![1, 2, 3, 4]);
    raw.execute("UPDATE posts SET published = FALSE WHERE id IN (2, 4)").await;

    // Deletes (soft: deleted_at is set) of each post.
    for (who, status, removes) in [
        (Anon, 401, vec![]),
        (Alice, 204, vec![1, 2]),
        (Bob, 204, vec![3, 4]),
        (Moderator, 403, vec![]),
        (Service, 204, vec![1, 2, 3, 4]),
    ] {
        for id in 1..=4 {
            let reply = send(&app, who, Method::DELETE, &format!("/posts?id=eq.{id}"), &[], None).await;
            assert_eq!(reply.status, status, "{engine:?} {who:?} DELETE post {id}: {}", reply.text);
            let gone = post_state(&raw, id).await.unwrap().1;
            assert_eq!(gone, removes.contains(&id), "{engine:?} {who:?} DELETE post {id}");
            raw.execute(&format!("UPDATE posts SET deleted_at = NULL WHERE id = {id}")).await;
        }
    }

    // Inserts: an author only as themselves.
    for (i, (who, author, status)) in [
        (Anon, ALICE, 401),
        (Alice, ALICE, 201),
        (Alice, BOB, 403),
        (Bob, BOB, 201),
        (Bob, ALICE, 403),
        (Moderator, MO, 403),
        (Service, BOB, 201),
    ]
    .into_iter()
    .enumerate()
    {
        // Explicit keys: PostgreSQL's sequence has not seen the seeded rows.
        let id = 100 + i;
        let reply =
            send(&app, who, Method::POST, "/posts", &[], Some(json!({"id": id, "author_id": author, "title": "new"})))
                .await;
        assert_eq!(reply.status, status, "{engine:?} {who:?} inserts as {author}: {}", reply.text);
        if status != 201 {
            assert_eq!(reply.code(), "42501");
        }
    }
    let made = raw.query("SELECT count(*) FROM posts WHERE title = 'new'").await;
    assert_eq!(made[0][0], "3", "{engine:?}: the three allowed inserts, no other");
    raw.execute("DELETE FROM posts WHERE title = 'new'").await;
}

/// The other tables of the example, each role against each: comments (written by Bob on Alice's
/// post 1, by Alice on her draft 2), profiles (each one's own and another's) and moderation notes.
async fn other_tables(engine: Engine) {
    let schema = newsroom();
    let Some((app, raw)) = app_from_schema_with(engine, &schema, options(&schema)).await else { return };
    seed(&raw).await;
    use Who::*;
    let all = [Anon, Alice, Bob, Moderator, Service];

    // Comments: everyone reads both (comment 2 is on a draft, but a comment's own policy admits it).
    for who in all {
        assert_eq!(ids(&get(&app, who, "/comments?select=id&order=id").await), vec![1, 2], "{engine:?} {who:?}");
    }
    // Deleting each comment: its author, a moderator, the service role.
    for (who, status, removes) in [
        (Anon, 401, vec![]),
        (Alice, 204, vec![2]),
        (Bob, 204, vec![1]),
        (Moderator, 204, vec![1, 2]),
        (Service, 204, vec![1, 2]),
    ] {
        for id in [1, 2] {
            let reply = send(&app, who, Method::DELETE, &format!("/comments?id=eq.{id}"), &[], None).await;
            assert_eq!(reply.status, status, "{engine:?} {who:?} DELETE comment {id}: {}", reply.text);
            let left = raw.query(&format!("SELECT count(*) FROM comments WHERE id = {id}")).await;
            assert_eq!(left[0][0] == "0", removes.contains(&id), "{engine:?} {who:?} DELETE comment {id}");
        }
        raw.execute("DELETE FROM comments").await;
        raw.execute(&format!(
            "INSERT INTO comments (id, post_id, author_id, body) VALUES (1, 1, '{BOB}', 'nice'), (2, 2, '{ALICE}', 'note to self')"
        ))
        .await;
    }
    // Commenting as oneself only; moderators comment not at all.
    for (i, (who, author, status)) in
        [(Anon, ALICE, 401), (Alice, ALICE, 201), (Alice, BOB, 403), (Moderator, MO, 403), (Service, MO, 201)]
            .into_iter()
            .enumerate()
    {
        let body = json!({"id": 10 + i, "post_id": 1, "author_id": author, "body": "hi"});
        let reply = send(&app, who, Method::POST, "/comments", &[], Some(body)).await;
        assert_eq!(reply.status, status, "{engine:?} {who:?} comments as {author}: {}", reply.text);
    }

    // Profiles: names for everyone; emails for no one but the service role (a column grant).
    for who in all {
        let reply = get(&app, who, "/profiles?select=display_name&order=display_name").await;
        assert_eq!(reply.json(), json!([{"display_name": "Alice"}, {"display_name": "Bob"}, {"display_name": "Mo"}]));
        let reply = get(&app, who, "/profiles?select=email").await;
        let expected = match who {
            Anon => 401,
            Service => 200,
            _ => 403,
        };
        assert_eq!(reply.status, expected, "{engine:?} {who:?} reads emails: {}", reply.text);
    }
    // Renaming one's own profile, and another's.
    for (who, target, status, changes) in [
        (Anon, ALICE, 401, false),
        (Alice, ALICE, 204, true),
        (Alice, BOB, 204, false),
        (Moderator, BOB, 403, false),
        (Service, BOB, 204, true),
    ] {
        let reply = send(
            &app,
            who,
            Method::PATCH,
            &format!("/profiles?id=eq.{target}"),
            &[],
            Some(json!({"display_name": "X"})),
        )
        .await;
        assert_eq!(reply.status, status, "{engine:?} {who:?} renames {target}: {}", reply.text);
        let name = raw.query(&format!("SELECT display_name FROM profiles WHERE id = '{target}'")).await;
        assert_eq!(name[0][0] == "X", changes, "{engine:?} {who:?} renames {target}");
        raw.execute("UPDATE profiles SET display_name = CASE id WHEN '{ALICE}' THEN 'Alice' WHEN '{BOB}' THEN 'Bob' ELSE 'Mo' END".replace("{ALICE}", ALICE).replace("{BOB}", BOB).as_str()).await;
    }

    // Moderation notes: moderators and the service role only.
    for (who, status) in [(Anon, 401), (Alice, 403), (Bob, 403), (Moderator, 200), (Service, 200)] {
        let reply = get(&app, who, "/moderation_notes?select=note").await;
        assert_eq!(reply.status, status, "{engine:?} {who:?} reads notes: {}", reply.text);
        if status == 200 {
            assert_eq!(reply.json(), json!([{"note": "spam?"}]));
        }
    }
}

#[tokio::test]
async fn other_tables_on_sqlite() {
    other_tables(Engine::Sqlite).await;
}

#[tokio::test]
async fn other_tables_on_postgresql() {
    other_tables(Engine::Postgres).await;
}

#[tokio::test]
async fn other_tables_on_mysql() {
    other_tables(Engine::MySql).await;
}

#[tokio::test]
async fn policy_matrix_on_sqlite() {
    matrix(Engine::Sqlite).await;
}

#[tokio::test]
async fn policy_matrix_on_postgresql() {
    matrix(Engine::Postgres).await;
}

#[tokio::test]
async fn policy_matrix_on_mysql() {
    matrix(Engine::MySql).await;
}

async fn bypass_attempts(engine: Engine) {
    let schema = newsroom();
    let Some((app, raw)) = app_from_schema_with(engine, &schema, options(&schema)).await else { return };
    seed(&raw).await;
    use Who::*;

    // A role the schema file does not declare: refused before anything is planned.
    let admin = format!("Bearer {}", token(json!({"sub": ALICE, "role": "admin"})));
    let reply = app.get_with("/posts", &[("Authorization", &admin)]).await;
    assert_eq!((reply.status, reply.code().as_str()), (401, "PGRST303"), "{engine:?} {}", reply.text);

    // A draft through an embed of a public table: the embedded table's own policy applies.
    let reply = get(&app, Anon, "/comments?select=body,posts(title)&order=id").await;
    assert_eq!(
        reply.json(),
        json!([{"body": "nice", "posts": {"title": "A pub"}}, {"body": "note to self", "posts": null}]),
        "{engine:?}"
    );
    let reply = get(&app, Anon, "/comments?select=body,posts!inner(title)&order=id").await;
    assert_eq!(reply.json(), json!([{"body": "nice", "posts": {"title": "A pub"}}]), "{engine:?}");
    let reply = get(&app, Anon, "/profiles?select=display_name,posts(id)&order=display_name").await;
    assert_eq!(
        reply.json(),
        json!([{"display_name": "Alice", "posts": [{"id": 1}]}, {"display_name": "Bob", "posts": [{"id": 3}]}, {"display_name": "Mo", "posts": []}]),
        "{engine:?}"
    );
    // A table with no grant, embedded: refused, 401 for the anonymous role, 403 with a token.
    let reply = get(&app, Anon, "/posts?select=title,moderation_notes(note)").await;
    assert_eq!((reply.status, reply.code().as_str()), (401, "42501"), "{engine:?} {}", reply.text);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    let reply = get(&app, Alice, "/posts?select=title,moderation_notes(note)").await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "42501"), "{engine:?}");
    let reply = get(&app, Moderator, "/posts?select=id,moderation_notes(note)&id=eq.4").await;
    assert_eq!(reply.json(), json!([{"id": 4, "moderation_notes": [{"note": "spam?"}]}]), "{engine:?}");

    // `or=` cannot widen the policy; counts and CSV count and show visible rows only.
    assert_eq!(ids(&get(&app, Anon, "/posts?select=id&or=(published.is.false,id.gt.0)&order=id").await), vec![1, 3]);
    let reply = send(&app, Anon, Method::GET, "/posts?select=id", &[("Prefer", "count=exact")], None).await;
    assert_eq!(reply.header("content-range"), Some("0-1/2"), "{engine:?}");
    let reply = send(&app, Anon, Method::HEAD, "/posts", &[("Prefer", "count=exact")], None).await;
    assert_eq!(reply.header("content-range"), Some("0-1/2"), "{engine:?}");
    let reply = send(&app, Anon, Method::GET, "/posts?select=id,title&order=id", &[("Accept", "text/csv")], None).await;
    assert_eq!(reply.text, "id,title\n1,A pub\n3,B pub", "{engine:?}");
    let reply =
        send(&app, Anon, Method::GET, "/posts?id=eq.2", &[("Accept", "application/vnd.pgrst.object+json")], None).await;
    assert_eq!(reply.status, 406, "{engine:?}: a hidden row is no row");

    // A column not granted cannot be read, filtered or sorted on (a filter would leak it).
    for path in [
        "/profiles?select=email",
        "/profiles?email=like.*alice*",
        "/profiles?or=(email.like.a*,id.is.null)",
        "/profiles?order=email",
        "/posts?select=id,profiles(email)",
        "/posts?select=id,profiles(display_name)&profiles.email=like.a*",
    ] {
        let reply = get(&app, Bob, path).await;
        assert_eq!((reply.status, reply.code().as_str()), (403, "42501"), "{engine:?} {path}: {}", reply.text);
    }
    // `*` is the granted columns.
    let reply = get(&app, Anon, "/profiles?order=display_name&limit=1").await;
    assert_eq!(reply.json(), json!([{"id": ALICE, "display_name": "Alice"}]), "{engine:?}");
    // A page cut from a sort or past an offset picks its rows before it builds their JSON: the
    // picked rows carry the granted columns only (PostgreSQL refuses `t0.*` natively).
    let all = get(&app, Anon, "/profiles?order=display_name").await.json();
    let second = get(&app, Anon, "/profiles?order=display_name&limit=1&offset=1").await;
    assert_eq!(second.json(), json!([all[1].clone()]), "{engine:?}: {}", second.text);

    // Upserting over another author's row through on_conflict: refused, nothing changed.
    let reply = send(
        &app,
        Alice,
        Method::POST,
        "/posts?on_conflict=id",
        &[("Prefer", "resolution=merge-duplicates")],
        Some(json!({"id": 3, "author_id": ALICE, "title": "hijacked"})),
    )
    .await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "42501"), "{engine:?} {}", reply.text);
    assert_eq!(post_state(&raw, 3).await.unwrap().0, "B pub");
    let reply = send(
        &app,
        Alice,
        Method::PUT,
        "/posts?id=eq.4",
        &[],
        Some(json!({"id": 4, "author_id": ALICE, "title": "mine now", "body": "", "published": true})),
    )
    .await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "42501"), "{engine:?} {}", reply.text);
    assert_eq!(post_state(&raw, 4).await.unwrap().0, "B draft");
    // Her own row upserts.
    let reply = send(
        &app,
        Alice,
        Method::POST,
        "/posts?on_conflict=id",
        &[("Prefer", "resolution=merge-duplicates")],
        Some(json!({"id": 2, "author_id": ALICE, "title": "A draft, revised"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    assert_eq!(post_state(&raw, 2).await.unwrap().0, "A draft, revised");

    // Handing a post to someone else: the new row fails the check; nothing changes.
    let reply = send(&app, Alice, Method::PATCH, "/posts?id=eq.1", &[], Some(json!({"author_id": BOB}))).await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "42501"), "{engine:?} {}", reply.text);
    let owner = raw.query("SELECT author_id FROM posts WHERE id = 1").await;
    assert_eq!(owner[0][0].to_lowercase(), ALICE);

    // Deleted rows of others stay hidden, whatever `Prefer: deleted=` asks.
    let reply = send(&app, Alice, Method::DELETE, "/posts?id=eq.2", &[], None).await;
    assert_eq!(reply.status, 204);
    let reply = send(&app, Bob, Method::GET, "/posts?select=id&order=id", &[("Prefer", "deleted=include")], None).await;
    assert_eq!(ids(&reply), vec![1, 3, 4], "{engine:?}");
    let reply = send(&app, Alice, Method::GET, "/posts?select=id", &[("Prefer", "deleted=only")], None).await;
    assert_eq!(ids(&reply), vec![2], "{engine:?}");

    // OpenAPI describes what the role may use: its tables, their granted columns.
    let paths = |reply: &Reply| -> Vec<String> {
        let mut p: Vec<String> = reply.json()["paths"].as_object().unwrap().keys().cloned().collect();
        p.sort();
        p
    };
    let reply = get(&app, Anon, "/").await;
    assert_eq!(paths(&reply), ["/comments", "/posts", "/profiles"], "{engine:?}");
    let profile: Vec<String> =
        reply.json()["components"]["schemas"]["profiles"]["properties"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(profile, ["id", "display_name"], "{engine:?}");
    let reply = get(&app, Moderator, "/").await;
    assert_eq!(paths(&reply), ["/comments", "/moderation_notes", "/posts", "/profiles"], "{engine:?}");
    let reply = get(&app, Service, "/").await;
    assert!(paths(&reply).contains(&"/moderation_notes".to_string()));

    // History: an as-of read of a table under policies is refused, not answered unfiltered.
    let reply =
        send(&app, Bob, Method::GET, "/posts", &[("Accept-Datetime", "Sat, 01 Jan 2000 00:00:00 GMT")], None).await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "42501"), "{engine:?} {}", reply.text);
    let reply =
        send(&app, Service, Method::GET, "/posts", &[("Accept-Datetime", "Sat, 01 Jan 2000 00:00:00 GMT")], None).await;
    assert_eq!(reply.status, 200, "{engine:?}: the service role reads history {}", reply.text);

    // On PostgreSQL the declared access is native: SQL through another door obeys it too.
    if engine == Engine::Postgres {
        let as_role = |role: &str, claims: &str| {
            format!(
                "BEGIN; SET LOCAL ROLE {role}; SELECT set_config('request.jwt.claims', '{claims}', true); \
                 SELECT string_agg(id::text, ',' ORDER BY id) FROM posts; COMMIT;"
            )
        };
        let rows = raw.query(&as_role("anon", "{}")).await;
        assert_eq!(rows.last().unwrap()[0], "1,3", "anon, natively");
        let rows = raw.query(&as_role("authenticated", &format!("{{\"sub\": \"{BOB}\"}}"))).await;
        assert_eq!(rows.last().unwrap()[0], "1,3,4", "Bob, natively");
        let refused = raw.try_execute("BEGIN; SET LOCAL ROLE anon; SELECT note FROM moderation_notes; COMMIT;").await;
        assert!(refused.is_err(), "no grant, natively");
        let rows = raw
            .query(&as_role("authenticated", &format!("{{\"sub\": \"{BOB}\"}}")).replace(
                "SELECT string_agg(id::text, ',' ORDER BY id) FROM posts",
                "UPDATE posts SET title = 'native' WHERE id = 1 RETURNING id",
            ))
            .await;
        assert!(rows.iter().all(|r| r[0] != "1"), "Bob cannot change Alice's post, natively: {rows:?}");
    }

    // The audit log records the token's subject as the actor.
    let actors = raw
        .query("SELECT actor FROM rowbase_audit WHERE table_name = 'posts' AND operation = 'UPDATE' ORDER BY id")
        .await;
    assert!(actors.iter().all(|a| a[0] == ALICE), "{engine:?}: {actors:?}");
    assert!(!actors.is_empty());
}

#[tokio::test]
async fn bypass_attempts_on_sqlite() {
    bypass_attempts(Engine::Sqlite).await;
}

#[tokio::test]
async fn bypass_attempts_on_postgresql() {
    bypass_attempts(Engine::Postgres).await;
}

#[tokio::test]
async fn bypass_attempts_on_mysql() {
    bypass_attempts(Engine::MySql).await;
}

/// A many-to-many embedding applies the junction table's own policy: a link the role may not
/// see links nothing.
async fn junction_policies(engine: Engine) {
    let schema = r#"
[roles]
anon = {}

[tables.item]
columns = [{ name = "id", type = "integer", primary_key = true }, { name = "name", type = "text", not_null = true }]
grants.anon = ["select"]

[tables.tag]
columns = [{ name = "id", type = "integer", primary_key = true }, { name = "label", type = "text", not_null = true }]
grants.anon = ["select"]

[tables.item_tag]
primary_key = ["item_id", "tag_id"]
columns = [
  { name = "item_id", type = "integer", not_null = true, references = "item.id" },
  { name = "tag_id", type = "integer", not_null = true, references = "tag.id" },
  { name = "hidden", type = "boolean", not_null = true, default = false },
]
grants.anon = ["select"]

[tables.item_tag.policies.shown]
select = "hidden=is.false"
"#;
    let Some((app, raw)) = app_from_schema_with(engine, schema, options(schema)).await else { return };
    raw.execute("INSERT INTO item (id, name) VALUES (1, 'lamp'), (2, 'desk')").await;
    raw.execute("INSERT INTO tag (id, label) VALUES (1, 'light'), (2, 'secret')").await;
    raw.execute("INSERT INTO item_tag (item_id, tag_id, hidden) VALUES (1, 1, FALSE), (1, 2, TRUE), (2, 2, TRUE)")
        .await;
    let reply = app.get("/item?select=name,tag(label)&order=id").await;
    assert_eq!(
        reply.json(),
        json!([{"name": "lamp", "tag": [{"label": "light"}]}, {"name": "desk", "tag": []}]),
        "{engine:?} {}",
        reply.text
    );
    let reply = app.get("/tag?select=label,item!inner(name)&order=id").await;
    assert_eq!(reply.json(), json!([{"label": "light", "item": [{"name": "lamp"}]}]), "{engine:?} {}", reply.text);
}

#[tokio::test]
async fn junction_policies_on_sqlite() {
    junction_policies(Engine::Sqlite).await;
}

#[tokio::test]
async fn junction_policies_on_postgresql() {
    junction_policies(Engine::Postgres).await;
}

#[tokio::test]
async fn junction_policies_on_mysql() {
    junction_policies(Engine::MySql).await;
}

/// An upsert by a unique key of a soft-delete table (whose conflict target includes the computed
/// `rowbase_alive`) over another user's row is refused like one by the primary key.
async fn upsert_by_a_live_unique_key(engine: Engine) {
    let schema = r#"
[roles]
authenticated = {}

[tables.page]
soft_delete = true
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "slug", type = "varchar(50)", not_null = true, unique = true },
  { name = "owner", type = "varchar(50)", not_null = true },
  { name = "body", type = "text", not_null = true },
]
grants.authenticated = ["select", "insert", "update"]

[tables.page.policies.own]
select = true
insert = { check = "owner=eq.{jwt.sub}" }
update = "owner=eq.{jwt.sub}"
"#;
    let Some((app, raw)) = app_from_schema_with(engine, schema, options(schema)).await else { return };
    raw.execute("INSERT INTO page (id, slug, owner, body) VALUES (1, 'bobs', 'bob', 'mine')").await;
    let alice = format!("Bearer {}", token(json!({"sub": "alice", "role": "authenticated"})));
    let reply = app
        .write(
            Method::POST,
            "/page?on_conflict=slug",
            &[("Authorization", &alice), ("Prefer", "resolution=merge-duplicates")],
            json!({"id": 1, "slug": "bobs", "owner": "alice", "body": "taken"}),
        )
        .await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "42501"), "{engine:?} {}", reply.text);
    assert_eq!(
        raw.query("SELECT owner, body FROM page WHERE id = 1").await,
        vec![vec!["bob".to_string(), "mine".to_string()]]
    );
}

#[tokio::test]
async fn upsert_by_a_live_unique_key_on_sqlite() {
    upsert_by_a_live_unique_key(Engine::Sqlite).await;
}

#[tokio::test]
async fn upsert_by_a_live_unique_key_on_postgresql() {
    upsert_by_a_live_unique_key(Engine::Postgres).await;
}

#[tokio::test]
async fn upsert_by_a_live_unique_key_on_mysql() {
    upsert_by_a_live_unique_key(Engine::MySql).await;
}
