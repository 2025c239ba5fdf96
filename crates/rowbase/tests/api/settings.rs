//! The per-transaction preamble on PostgreSQL: a request's role and claims reach the engine as
//! PostgREST's transaction-scoped settings (`role`, `request.jwt.claims`, `request.method`,
//! `request.path`, `request.headers`) through both doors, reads in one pipelined transaction,
//! leaving nothing behind on the pooled connection; driven through the database's doors, then over
//! HTTP with verified tokens against a database with its own row-level security.

use rowbase_db::{TransactionSettings, WriteJob};
use rowbase_plan::{Action, Plan, ReadRequest, RequestContext, Window, plan};
use rowbase_request::parse_query;
use serde_json::{Value, json};

use crate::steps::insert_step;

fn read_plan(db: &rowbase_db::Database, table: &str, query: &str) -> rowbase_plan::ReadPlan {
    let catalog = db.catalog("public").unwrap();
    let ctx = RequestContext { schema: "public".into(), ..Default::default() };
    let params = parse_query(query).unwrap();
    let request = ReadRequest { table, params: &params, window: Window::default(), count: false };
    let Ok(Plan::Read(plan)) = plan(&catalog, &ctx, Action::Read(request)) else { panic!("plans") };
    plan
}

#[tokio::test]
async fn postgresql_transactions_carry_the_role_and_claims() {
    let role = format!("rb_test_reader_{}", std::process::id());
    let schema = format!(
        "CREATE ROLE {role} NOLOGIN;
         GRANT {role} TO CURRENT_USER;
         -- After a transaction that set it, PostgreSQL keeps a custom setting defined but empty
         -- on the session: SQL reading the claims must take '' as none (as with PostgREST).
         CREATE VIEW whoami AS
           SELECT nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sub' AS sub,
                  current_user::text AS who;
         CREATE TABLE secret (id integer PRIMARY KEY);
         CREATE TABLE note (id integer PRIMARY KEY, body text);
         GRANT USAGE ON SCHEMA public TO {role};
         GRANT SELECT ON whoami TO {role};
         GRANT SELECT, INSERT ON note TO {role};"
    );
    // One pooled connection, so every request below shares it: nothing may leak between them.
    let mut options = rowbase::Options::default();
    options.database.pool_size = Some(1);
    let Some(app) = crate::pg::app_with_schema(&schema, options).await else { return };
    let db = &app.server.as_ref().unwrap().db;
    let me: String = {
        let reply = db.read(&read_plan(db, "whoami", ""), &TransactionSettings::default()).await.unwrap();
        serde_json::from_str::<Value>(&reply.body).unwrap()[0]["who"].as_str().unwrap().to_string()
    };
    let asking = TransactionSettings {
        audit: None,
        role: Some(role.clone()),
        claims: Some(json!({ "sub": "user-1", "role": role }).to_string()),
        request: None,
    };

    // A read runs as the role, and sees the claims.
    let read = db.read(&read_plan(db, "whoami", ""), &asking).await.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&read.body).unwrap(), json!([{ "sub": "user-1", "who": role }]));

    // What the role may not read is refused by the engine: 42501.
    let refused = db.read(&read_plan(db, "secret", ""), &asking).await.unwrap_err();
    assert_eq!(refused.code(), "42501", "{refused}");

    // The same connection, next request without settings: back to the server's own user, no
    // claims, no transaction left open.
    let after = db.read(&read_plan(db, "whoami", ""), &TransactionSettings::default()).await.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&after.body).unwrap(), json!([{ "sub": null, "who": me }]));

    // Writes: the role's grants decide.
    let write = |table: &str, body: &str, settings: &TransactionSettings| WriteJob {
        steps: vec![insert_step(db, table, body, Vec::new())],
        dry_run: false,
        settings: settings.clone(),
    };
    db.write(write("note", r#"{"id":1,"body":"mine"}"#, &asking)).await.unwrap();
    let denied = db.write(write("secret", r#"{"id":1}"#, &asking)).await.unwrap_err();
    assert_eq!(denied.code(), "42501", "{denied}");
    let rows = db.read(&read_plan(db, "secret", ""), &TransactionSettings::default()).await.unwrap();
    assert_eq!(rows.body, "[]", "the refused insert left nothing");

    // A role the server may not take is refused too, and the connection stays usable.
    let stranger = TransactionSettings { role: Some("rb_test_no_such_role".into()), ..TransactionSettings::default() };
    let unknown = db.read(&read_plan(db, "whoami", ""), &stranger).await.unwrap_err();
    assert!(["22023", "42704"].contains(&unknown.code()), "{unknown}");
    assert!(db.read(&read_plan(db, "note", "select=id"), &TransactionSettings::default()).await.is_ok());

    drop(app);
    let _ = std::process::Command::new("psql")
        .args([&crate::pg::admin_url(), "-qAtXc", &format!("DROP ROLE IF EXISTS {role}")])
        .output();
}

/// An existing PostgREST-style database, served with a JWT secret and no declared access: each
/// request's transaction runs as the token's role with its claims and the request's method, path
/// and headers set, so PostgreSQL's own GRANTs and row-level security decide, over HTTP.
#[tokio::test]
async fn postgresql_native_row_level_security_governs_a_postgrest_database() {
    let suffix = std::process::id();
    let (anon, user) = (format!("rb_test_anon_{suffix}"), format!("rb_test_user_{suffix}"));
    let schema = format!(
        "CREATE ROLE {anon} NOLOGIN;
         CREATE ROLE {user} NOLOGIN;
         GRANT {anon}, {user} TO CURRENT_USER;
         CREATE TABLE todo (id integer PRIMARY KEY, owner text NOT NULL, task text NOT NULL);
         INSERT INTO todo VALUES (1, 'ann', 'a'), (2, 'bob', 'b');
         ALTER TABLE todo ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own ON todo
           USING (owner = nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sub');
         CREATE VIEW request_seen AS
           SELECT current_setting('request.method', true) AS method,
                  current_setting('request.path', true) AS path,
                  nullif(current_setting('request.headers', true), '')::json ->> 'x-probe' AS probe,
                  nullif(current_setting('request.headers', true), '')::json ->> 'cookie' AS cookie,
                  current_user::text AS who;
         GRANT USAGE ON SCHEMA public TO {anon}, {user};
         GRANT SELECT ON todo, request_seen TO {user};"
    );
    let secret = "native-rls-test-secret-of-32-bytes-or-more";
    let mut options = rowbase::Options::default();
    options.http.auth = rowbase_http::auth::AuthConfig {
        keys: Some(std::sync::Arc::new(rowbase_http::auth::JwtKeys::new(Some(secret.as_bytes()), None).unwrap())),
        anon_role: Some(anon.clone()),
        ..Default::default()
    };
    let Some(app) = crate::pg::app_with_schema(&schema, options).await else { return };
    let token = |sub: &str| {
        let claims = json!({"sub": sub, "role": user, "exp": crate::access::now() + 600});
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        format!("Bearer {}", jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap())
    };
    let ann = token("ann");
    let reply = app.get_with("/todo?select=id,task", &[("Authorization", &ann)]).await;
    assert_eq!(reply.json(), json!([{"id": 1, "task": "a"}]), "{}", reply.text);
    let bob = token("bob");
    let reply = app.get_with("/rest/v1/todo?select=id", &[("Authorization", &bob)]).await;
    assert_eq!(reply.json(), json!([{"id": 2}]));
    // The anonymous role has no grant: PostgreSQL refuses, 401 for the anonymous role.
    let reply = app.get("/todo").await;
    assert_eq!((reply.status, reply.code().as_str()), (401, "42501"), "{}", reply.text);
    // What SQL sees of the request.
    let reply = app
        .get_with("/request_seen", &[("Authorization", &ann), ("X-Probe", "hello"), ("Cookie", "session=secret")])
        .await;
    assert_eq!(
        reply.json(),
        json!([{"method": "GET", "path": "/request_seen", "probe": "hello", "cookie": null, "who": user}]),
        "{}",
        reply.text
    );
    drop(app);
    let _ = std::process::Command::new("psql")
        .args([&crate::pg::admin_url(), "-qAtXc", &format!("DROP ROLE IF EXISTS {anon}; DROP ROLE IF EXISTS {user}")])
        .output();
}
