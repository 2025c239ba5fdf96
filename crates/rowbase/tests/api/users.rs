//! Users and sessions over HTTP (`/auth/v1`, GoTrue's shape) on every engine, with the newsroom
//! example's policies: a user signs up, reads and writes only their own rows through the REST
//! API with the token they were given, refreshes, and signs out; and every attack the users
//! issue names is tried: enumeration by sign-in, refresh-token replay, a session's tokens after
//! sign-out, weak passwords, and the users' tables through the REST API. The stored rows are read
//! with SQL that bypasses Rowbase.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{SECRET, newsroom, options};
use crate::common::{Reply, TestApp};
use crate::declared::{Engine, Raw, app_from_schema_with};

/// supabase-js's API version header: errors come as `{"code", "message"}`.
const DATED: (&str, &str) = ("X-Supabase-Api-Version", "2024-01-01");

async fn app(engine: Engine) -> Option<(TestApp, Raw)> {
    app_with(engine, rowbase_users::UsersConfig::default()).await
}

async fn app_with(engine: Engine, config: rowbase_users::UsersConfig) -> Option<(TestApp, Raw)> {
    let schema = newsroom();
    let mut options = options(&schema);
    let key = rowbase_users::tokens::SigningKey::Hmac(SECRET.as_bytes().to_vec());
    let users = rowbase_users::Users::new(config, &key).unwrap();
    options.http.users = Some(std::sync::Arc::new(users));
    app_from_schema_with(engine, &schema, options).await
}

async fn auth(app: &TestApp, path: &str, body: Value) -> Reply {
    app.write(Method::POST, path, &[DATED], body).await
}

async fn sign_up(app: &TestApp, email: &str, password: &str) -> Reply {
    auth(app, "/auth/v1/signup", json!({"email": email, "password": password})).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Reply {
    auth(app, "/auth/v1/token?grant_type=password", json!({"email": email, "password": password})).await
}

async fn refresh(app: &TestApp, token: &str) -> Reply {
    auth(app, "/auth/v1/token?grant_type=refresh_token", json!({"refresh_token": token})).await
}

/// The claims of a JWT (its signature is the server's business: the REST calls verify it).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn refused(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json()["code"], code, "{}", reply.text);
}

/// The REST API refuses access token `token` (401 `PGRST303`): its session has ended.
async fn ended(app: &TestApp, token: &str, what: &str) {
    let reply = app.get_with("/posts?select=title", &[("Authorization", &bearer(token))]).await;
    assert_eq!((reply.status, reply.code()), (401, "PGRST303".to_string()), "{what}: {}", reply.text);
}

async fn lifecycle(engine: Engine) {
    // Strict rotation here: any reuse of a spent refresh token is a replay (the reuse interval
    // has its own test).
    let strict = rowbase_users::UsersConfig { refresh_reuse_seconds: 0, ..Default::default() };
    let Some((app, raw)) = app_with(engine, strict).await else { return };

    // What the service says about itself; the HMAC secret is never published.
    let settings = app.get_with("/auth/v1/settings", &[DATED]).await.json();
    assert_eq!(
        (settings["disable_signup"].clone(), settings["external"]["email"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(app.get("/auth/v1/health").await.status, 200);
    assert_eq!(app.get("/auth/v1/.well-known/jwks.json").await.json(), json!({"keys": []}));

    // Sign-up: the user, signed in, with the claims Supabase puts in an access token.
    let reply = sign_up(&app, "  Alice@Example.COM ", "a fine long passphrase").await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    let session = reply.json();
    let user = &session["user"];
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!((session["token_type"].as_str(), session["expires_in"].as_u64()), (Some("bearer"), Some(3600)));
    let access = session["access_token"].as_str().unwrap().to_string();
    let first_refresh = session["refresh_token"].as_str().unwrap().to_string();
    let c = claims(&access);
    assert_eq!(c["sub"], user["id"]);
    assert_eq!(
        (c["role"].as_str(), c["aud"].as_str(), c["email"].as_str()),
        (Some("authenticated"), Some("authenticated"), Some("alice@example.com"))
    );
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 3600);
    assert!(c["session_id"].is_string());
    let alice = c["sub"].as_str().unwrap().to_string();

    // Stored: an Argon2id hash, never the password; the refresh token only as its SHA-256.
    let stored = raw
        .query(&format!("SELECT encrypted_password FROM {} WHERE email = 'alice@example.com'", users_table(engine)))
        .await;
    assert!(stored[0][0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored:?}");
    let hashes = raw.query(&format!("SELECT token_hash FROM {}", tokens_table(engine))).await;
    assert_eq!(hashes.len(), 1);
    assert_eq!(hashes[0][0].len(), 64);
    assert_ne!(hashes[0][0], first_refresh);

    // The token opens the REST API as the user: its own profile and draft, through the policies.
    let as_alice = bearer(&access);
    let reply = app
        .write(
            Method::POST,
            "/profiles",
            &[("Authorization", &as_alice)],
            json!({"id": alice, "display_name": "Alice"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{engine:?} {}", reply.text);
    let reply = app
        .write(
            Method::POST,
            "/posts",
            &[("Authorization", &as_alice)],
            json!({"id": 1, "author_id": alice, "title": "draft", "published": false}),
        )
        .await;
    assert_eq!(reply.status, 201, "{engine:?} {}", reply.text);
    let reply = app.get_with("/posts?select=title", &[("Authorization", &as_alice)]).await;
    assert_eq!(reply.json(), json!([{"title": "draft"}]), "{engine:?}");
    assert_eq!(app.get("/posts?select=title").await.json(), json!([]), "{engine:?} anon sees no draft");
    // Another user's id is refused by the policy: a token speaks only for its own user.
    let carol = sign_up(&app, "carol@example.com", "carol's own passphrase").await.json();
    let (carol_id, carol_access) = (carol["user"]["id"].as_str().unwrap(), carol["access_token"].as_str().unwrap());
    let reply = app
        .write(
            Method::POST,
            "/profiles",
            &[("Authorization", &bearer(carol_access))],
            json!({"id": carol_id, "display_name": "Carol"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{engine:?} {}", reply.text);
    let reply = app
        .write(
            Method::POST,
            "/posts",
            &[("Authorization", &as_alice)],
            json!({"id": 2, "author_id": carol_id, "title": "forged"}),
        )
        .await;
    assert_eq!(reply.status, 403, "{engine:?} {}", reply.text);
    let reply = app.get_with("/posts?select=title", &[("Authorization", &bearer(carol_access))]).await;
    assert_eq!(reply.json(), json!([]), "{engine:?} Carol does not see Alice's draft");

    // GET /user: the session's user.
    let reply = app.get_with("/auth/v1/user", &[("Authorization", &as_alice), DATED]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["id"], alice);
    refused(&app.get_with("/auth/v1/user", &[DATED]).await, 401, "no_authorization");

    // Refresh: a new pair; the spent token replayed ends the session (rotation, reuse detection).
    let reply = refresh(&app, &first_refresh).await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    let second_refresh = reply.json()["refresh_token"].as_str().unwrap().to_string();
    let refreshed_access = reply.json()["access_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(claims(&refreshed_access)["session_id"], c["session_id"]);
    refused(&refresh(&app, &first_refresh).await, 400, "refresh_token_already_used");
    refused(&refresh(&app, &second_refresh).await, 400, "refresh_token_not_found");
    refused(
        &app.get_with("/auth/v1/user", &[("Authorization", &bearer(&refreshed_access)), DATED]).await,
        403,
        "session_not_found",
    );
    refused(&refresh(&app, "never-issued").await, 400, "refresh_token_not_found");
    // The REST API refuses every access token of the ended session, before they expire.
    ended(&app, &access, "a replayed refresh token's session").await;
    ended(&app, &refreshed_access, "a replayed refresh token's session").await;

    // Sign-in: an unknown email and a wrong password get the same answer.
    let wrong = sign_in(&app, "alice@example.com", "not the passphrase").await;
    let unknown = sign_in(&app, "nobody@example.com", "not the passphrase").await;
    refused(&wrong, 400, "invalid_credentials");
    assert_eq!((wrong.status, wrong.json()), (unknown.status, unknown.json()));
    let reply = sign_in(&app, "ALICE@example.com", "a fine long passphrase").await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    let second = reply.json();
    let second_access = second["access_token"].as_str().unwrap().to_string();
    let last_refresh = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(claims(&second_access)["session_id"], c["session_id"]);
    assert!(second["user"]["last_sign_in_at"].is_string());

    // Sign-out (this session): its refresh token and its session are gone.
    let reply = app
        .send(Method::POST, "/auth/v1/logout?scope=local", &[("Authorization", &bearer(&second_access)), DATED], None)
        .await;
    assert_eq!(reply.status, 204, "{engine:?} {}", reply.text);
    refused(&refresh(&app, &last_refresh).await, 400, "refresh_token_not_found");
    refused(
        &app.get_with("/auth/v1/user", &[("Authorization", &bearer(&second_access)), DATED]).await,
        403,
        "session_not_found",
    );
    let left = raw.query(&format!("SELECT count(*) FROM {} WHERE user_id = '{alice}'", sessions_table(engine))).await;
    assert_eq!(left[0][0], "0", "{engine:?}");
    ended(&app, &second_access, "a token after sign-out").await;

    // Sign-up refusals: weak passwords (with reasons), a taken email, a malformed one.
    let reply = sign_up(&app, "bob@example.com", "x7#Qz").await;
    refused(&reply, 422, "weak_password");
    assert_eq!(reply.json()["weak_password"]["reasons"], json!(["length"]));
    let reply = sign_up(&app, "bob@example.com", "password123").await;
    assert_eq!(reply.json()["weak_password"]["reasons"], json!(["pwned"]), "{}", reply.text);
    refused(&sign_up(&app, "alice@EXAMPLE.com", "another long passphrase").await, 422, "user_already_exists");
    refused(&sign_up(&app, "not-an-email", "another long passphrase").await, 400, "validation_failed");
    let big =
        json!({"email": "dan@example.com", "password": "dan's own passphrase", "data": {"bio": "x".repeat(3000)}});
    refused(&auth(&app, "/auth/v1/signup", big).await, 400, "validation_failed");

    // The users' tables are never reachable through the REST API.
    for path in ["/rowbase_auth_users", "/rowbase_auth_sessions", "/rowbase_auth_refresh_tokens", "/users"] {
        let reply = app.get_with(path, &[("Authorization", &bearer(&service()))]).await;
        assert_eq!(reply.status, 404, "{engine:?} {path}: {}", reply.text);
    }
    let reply =
        app.get_with("/users", &[("Authorization", &bearer(&service())), ("Accept-Profile", "rowbase_auth")]).await;
    assert_eq!(reply.status, 406, "{engine:?} {}", reply.text);
}

/// Online guessing: past the free failures of an account, each attempt waits twice as long as
/// the one before and is refused before any password check (429 with `Retry-After`), even with
/// the right password; a success clears the count. The client address has its own count.
async fn guessing(engine: Engine) {
    let Some((app, _raw)) = app(engine).await else { return };
    assert_eq!(sign_up(&app, "mallory@example.com", "mallory's own passphrase").await.status, 200);
    for _ in 0..6 {
        refused(&sign_in(&app, "mallory@example.com", "a guess at it").await, 400, "invalid_credentials");
    }
    let reply = sign_in(&app, "mallory@example.com", "mallory's own passphrase").await;
    refused(&reply, 429, "over_request_rate_limit");
    assert_eq!(reply.header("retry-after"), Some("2"), "{engine:?}");
    // Another account from the same address is not held up (its allowance is larger).
    refused(&sign_in(&app, "nobody@example.com", "a guess").await, 400, "invalid_credentials");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(sign_in(&app, "mallory@example.com", "mallory's own passphrase").await.status, 200, "{engine:?}");
    refused(&sign_in(&app, "mallory@example.com", "a guess at it").await, 400, "invalid_credentials");

    // One address guessing across many accounts.
    let limits = rowbase_users::throttle::Limits { account_free: 100, address_free: 3, ..Default::default() };
    let config = rowbase_users::UsersConfig { throttle: limits, ..Default::default() };
    let Some((app, _raw)) = app_with(engine, config).await else { return };
    for i in 0..4 {
        refused(&sign_in(&app, &format!("user{i}@example.com"), "a guess").await, 400, "invalid_credentials");
    }
    let reply = sign_in(&app, "user9@example.com", "a guess").await;
    refused(&reply, 429, "over_request_rate_limit");
}

/// User enumeration by time: an unknown email costs a password hash as a wrong password does
/// (a decoy is verified), so the two take about as long; without the decoy the unknown email
/// would answer in a fraction of the time. The fastest of three tries of each is compared, and
/// they must be within a factor of three of each other.
#[tokio::test]
async fn users_enumeration_by_time() {
    let Some((app, _raw)) = app(Engine::Sqlite).await else { return };
    assert_eq!(sign_up(&app, "uma@example.com", "uma's own passphrase").await.status, 200);
    let fastest = |email: &'static str| {
        let app = &app;
        async move {
            let mut best = std::time::Duration::MAX;
            for _ in 0..3 {
                let start = std::time::Instant::now();
                refused(&sign_in(app, email, "not her passphrase").await, 400, "invalid_credentials");
                best = best.min(start.elapsed());
            }
            best
        }
    };
    let wrong = fastest("uma@example.com").await;
    let unknown = fastest("nobody@example.com").await;
    assert!(unknown * 3 >= wrong && wrong * 3 >= unknown, "wrong password {wrong:?}, unknown email {unknown:?}");
}

/// A server whose users service signs tokens its own verification refuses does not start.
#[tokio::test]
async fn a_signing_key_the_server_does_not_verify_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    std::fs::copy(crate::common::chinook(), &db).unwrap();
    let mut options = rowbase::Options::default();
    options.http.auth.keys =
        Some(std::sync::Arc::new(rowbase_http::auth::JwtKeys::new(Some(SECRET.as_bytes()), None).unwrap()));
    let other = rowbase_users::tokens::SigningKey::Hmac(b"another-secret-of-at-least-32-bytes!".to_vec());
    let users = rowbase_users::Users::new(rowbase_users::UsersConfig::default(), &other).unwrap();
    options.http.users = Some(std::sync::Arc::new(users));
    let started =
        rowbase::start(db.to_str().unwrap(), &options, "127.0.0.1:0".parse().unwrap(), std::future::pending()).await;
    let error = started.err().expect("refused").to_string();
    assert!(error.contains("refuses the access tokens --users signs"), "{error}");
}

#[tokio::test]
async fn users_guessing_on_sqlite() {
    guessing(Engine::Sqlite).await;
}

#[tokio::test]
async fn users_guessing_on_postgresql() {
    guessing(Engine::Postgres).await;
}

#[tokio::test]
async fn users_guessing_on_mysql() {
    guessing(Engine::MySql).await;
}

/// A user imported from Supabase or PocketBase with a bcrypt hash signs in with their password,
/// and their hash is then Argon2id.
async fn imported(engine: Engine) {
    let Some((app, raw)) = app(engine).await else { return };
    // Creates the tables, and a user whose row the import then rewrites.
    let reply = sign_up(&app, "imported@example.com", "a placeholder passphrase").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Python's `bcrypt.hashpw(b"the old passphrase", bcrypt.gensalt(4))` (bcrypt 5.0), as an export holds it.
    let old = "$2b$04$tcJA1mDHVYRXD4X671WnpuKeTqQlaa7ViIgnZKO9yS1uj2DlvqYoW";
    raw.execute(&format!(
        "UPDATE {} SET encrypted_password = '{old}' WHERE email = 'imported@example.com'",
        users_table(engine)
    ))
    .await;
    refused(&sign_in(&app, "imported@example.com", "the old passphras").await, 400, "invalid_credentials");
    let reply = sign_in(&app, "imported@example.com", "the old passphrase").await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    let stored = raw
        .query(&format!("SELECT encrypted_password FROM {} WHERE email = 'imported@example.com'", users_table(engine)))
        .await;
    assert!(stored[0][0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{engine:?} rehashed: {stored:?}");
    assert_eq!(sign_in(&app, "imported@example.com", "the old passphrase").await.status, 200);
}

#[tokio::test]
async fn users_imported_on_sqlite() {
    imported(Engine::Sqlite).await;
}

#[tokio::test]
async fn users_imported_on_postgresql() {
    imported(Engine::Postgres).await;
}

#[tokio::test]
async fn users_imported_on_mysql() {
    imported(Engine::MySql).await;
}

/// What a browser opening link `path` is told: the status and where it is sent (not followed).
async fn follow(app: &TestApp, path: &str) -> (u16, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let reply = client.get(format!("{}{path}", app.base)).send().await.unwrap();
    let location = reply.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (reply.status().as_u16(), location)
}

/// The token of the last recovery link mailed.
fn mailed_token(sink: &crate::smtp::Sink) -> String {
    let messages = sink.messages();
    let text = messages.last().expect("a message");
    let start = text.find("token=").expect("a link") + "token=".len();
    text[start..].split(['&', '\n', ' ']).next().unwrap().to_string()
}

/// Password recovery by mail: a link that signs its user in once, until it expires; the same
/// answer for an unknown email (which gets no mail); only the newest link works; a redirect
/// only to the site; the new password set from the link's session.
async fn recovery(engine: Engine) {
    let sink = crate::smtp::sink().await;
    let mailer = rowbase_users::mailer::MailerConfig {
        smtp_url: format!("smtp://127.0.0.1:{}", sink.port),
        from: "Rowbase <no-reply@example.com>".into(),
        site_url: "http://rowbase.test".into(),
    };
    let config = rowbase_users::UsersConfig { mailer: Some(mailer.clone()), ..Default::default() };
    let Some((app, _raw)) = app_with(engine, config).await else { return };
    assert_eq!(sign_up(&app, "rita@example.com", "rita's first passphrase").await.status, 200);

    let reply = auth(&app, "/auth/v1/recover", json!({"email": "nobody@example.com"})).await;
    assert_eq!((reply.status, reply.json()), (200, json!({})), "{engine:?} {}", reply.text);
    assert!(sink.messages().is_empty(), "no mail for an unknown email");
    let reply = auth(&app, "/auth/v1/recover", json!({"email": "Rita@example.com"})).await;
    assert_eq!((reply.status, reply.json()), (200, json!({})), "{engine:?} {}", reply.text);
    let first = mailed_token(&sink);
    assert!(sink.messages()[0].contains("To: rita@example.com"), "{:?}", sink.messages());
    assert!(sink.messages()[0].contains("http://rowbase.test/auth/v1/verify?token="));
    assert_eq!(auth(&app, "/auth/v1/recover", json!({"email": "rita@example.com"})).await.status, 200);
    let second = mailed_token(&sink);
    assert_ne!(first, second);
    let verify = |token: &str| json!({"type": "recovery", "token_hash": token});
    refused(&auth(&app, "/auth/v1/verify", verify(&first)).await, 403, "otp_expired");

    // The link itself: a redirect to the site (never to another origin) with the session.
    let (status, location) =
        follow(&app, &format!("/auth/v1/verify?token={second}&type=recovery&redirect_to=http%3A%2F%2Fevil.example%2F"))
            .await;
    assert_eq!(status, 303, "{engine:?}");
    assert!(location.starts_with("http://rowbase.test#access_token="), "{location}");
    refused(&auth(&app, "/auth/v1/verify", verify(&second)).await, 403, "otp_expired");
    let (_, again) = follow(&app, &format!("/auth/v1/verify?token={second}&type=recovery")).await;
    assert!(again.contains("error_code=otp_expired"), "a link works once: {again}");

    // The session the link opened sets the new password.
    let access = location.split("access_token=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let reply =
        send(&app, Method::PUT, "/auth/v1/user", &bearer(&access), json!({"password": "rita's new passphrase"})).await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    assert_eq!(sign_in(&app, "rita@example.com", "rita's new passphrase").await.status, 200);

    // POST /verify (supabase-js's verifyOtp) gives the session as JSON.
    assert_eq!(auth(&app, "/auth/v1/recover", json!({"email": "rita@example.com"})).await.status, 200);
    let reply = auth(&app, "/auth/v1/verify", verify(&mailed_token(&sink))).await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    assert_eq!(reply.json()["user"]["email"], "rita@example.com");

    // A link expires.
    let config = rowbase_users::UsersConfig { mailer: Some(mailer), recovery_seconds: 1, ..Default::default() };
    let Some((app, _raw)) = app_with(engine, config).await else { return };
    assert_eq!(sign_up(&app, "rita@example.com", "rita's first passphrase").await.status, 200);
    assert_eq!(auth(&app, "/auth/v1/recover", json!({"email": "rita@example.com"})).await.status, 200);
    let token = mailed_token(&sink);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    refused(&auth(&app, "/auth/v1/verify", verify(&token)).await, 403, "otp_expired");

    // Without a mailer, recovery says so.
    let Some((app, _raw)) = self::app(engine).await else { return };
    refused(
        &auth(&app, "/auth/v1/recover", json!({"email": "rita@example.com"})).await,
        422,
        "email_provider_disabled",
    );
}

/// Email confirmation: a new user gets a link, not a session, and cannot sign in until they
/// follow it; `resend` mails a new link (only the newest works).
async fn confirmation(engine: Engine) {
    let sink = crate::smtp::sink().await;
    let mailer = rowbase_users::mailer::MailerConfig {
        smtp_url: format!("smtp://127.0.0.1:{}", sink.port),
        from: "Rowbase <no-reply@example.com>".into(),
        site_url: "http://rowbase.test".into(),
    };
    let config = rowbase_users::UsersConfig { mailer: Some(mailer), confirm_email: true, ..Default::default() };
    let Some((app, _raw)) = app_with(engine, config).await else { return };
    assert_eq!(app.get("/auth/v1/settings").await.json()["mailer_autoconfirm"], json!(false));

    let reply = sign_up(&app, "tom@example.com", "tom's own passphrase").await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    let user = reply.json();
    assert!(user.get("access_token").is_none() && user["email_confirmed_at"].is_null(), "{user}");
    assert_eq!(user["email"], "tom@example.com");
    let first = mailed_token(&sink);
    assert!(sink.messages()[0].contains("type=signup"));
    refused(&sign_in(&app, "tom@example.com", "tom's own passphrase").await, 400, "email_not_confirmed");

    let reply = auth(&app, "/auth/v1/resend", json!({"type": "signup", "email": "tom@example.com"})).await;
    assert_eq!((reply.status, reply.json()), (200, json!({})), "{}", reply.text);
    let second = mailed_token(&sink);
    assert_ne!(first, second);
    let verify = |token: &str| json!({"type": "signup", "token_hash": token});
    refused(&auth(&app, "/auth/v1/verify", verify(&first)).await, 403, "otp_expired");
    let reply = auth(&app, "/auth/v1/verify", verify(&second)).await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    assert!(reply.json()["user"]["email_confirmed_at"].is_string());
    assert!(reply.json()["access_token"].is_string());
    assert_eq!(sign_in(&app, "tom@example.com", "tom's own passphrase").await.status, 200);
    refused(&auth(&app, "/auth/v1/verify", verify(&second)).await, 403, "otp_expired");

    // Confirmed, or not a user: the same answer and no mail.
    let mailed = sink.messages().len();
    for email in ["tom@example.com", "nobody@example.com"] {
        let reply = auth(&app, "/auth/v1/resend", json!({"type": "signup", "email": email})).await;
        assert_eq!((reply.status, reply.json()), (200, json!({})));
    }
    assert_eq!(sink.messages().len(), mailed);
}

#[tokio::test]
async fn users_confirmation_on_sqlite() {
    confirmation(Engine::Sqlite).await;
}

#[tokio::test]
async fn users_confirmation_on_postgresql() {
    confirmation(Engine::Postgres).await;
}

#[tokio::test]
async fn users_confirmation_on_mysql() {
    confirmation(Engine::MySql).await;
}

/// Access tokens signed with a private key (`kid` of the JWK set the server verifies with):
/// they carry the key's algorithm and kid, open the REST API, and the set is published without
/// private members. No HMAC secret is configured at all.
async fn signing_keys(engine: Engine, kids: &[(&str, &str, &str)]) {
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let jwks = std::fs::read_to_string(keys.join("jwks.json")).unwrap();
    for (kid, pem, alg) in kids {
        let schema = newsroom();
        let mut options = options(&schema);
        options.http.auth.keys =
            Some(std::sync::Arc::new(rowbase_http::auth::JwtKeys::new(None, Some(&jwks)).unwrap()));
        let key = rowbase_users::tokens::SigningKey::Jwk {
            pem: std::fs::read(keys.join(pem)).unwrap(),
            kid: kid.to_string(),
            jwks: jwks.clone(),
        };
        let users = rowbase_users::Users::new(rowbase_users::UsersConfig::default(), &key).unwrap();
        options.http.users = Some(std::sync::Arc::new(users));
        let Some((app, _raw)) = app_from_schema_with(engine, &schema, options).await else { return };

        let reply = sign_up(&app, "kim@example.com", "kim's own passphrase").await;
        assert_eq!(reply.status, 200, "{engine:?} {kid}: {}", reply.text);
        let access = reply.json()["access_token"].as_str().unwrap().to_string();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(access.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some(*alg), Some(*kid)));
        let reply = app.get_with("/posts?select=title", &[("Authorization", &bearer(&access))]).await;
        assert_eq!((reply.status, reply.json()), (200, json!([])), "{engine:?} {kid}: {}", reply.text);
        assert_eq!(app.get_with("/auth/v1/user", &[("Authorization", &bearer(&access))]).await.status, 200);
        let published = app.get("/auth/v1/.well-known/jwks.json").await.json();
        let expected: Value = serde_json::from_str(&jwks).unwrap();
        assert_eq!(published, expected, "the public set, as configured");
    }
}

#[tokio::test]
async fn users_signing_keys_on_sqlite() {
    signing_keys(
        Engine::Sqlite,
        &[("ec-1", "ec.pem", "ES256"), ("rsa-1", "rsa.pem", "RS256"), ("ed-1", "ed25519.pem", "EdDSA")],
    )
    .await;
}

#[tokio::test]
async fn users_signing_keys_on_postgresql() {
    signing_keys(Engine::Postgres, &[("ec-1", "ec.pem", "ES256")]).await;
}

#[tokio::test]
async fn users_signing_keys_on_mysql() {
    signing_keys(Engine::MySql, &[("ec-1", "ec.pem", "ES256")]).await;
}

/// The reuse interval: a refresh token used again within it (two tabs refreshing at once) gets
/// another new token, and both new ones work; used again after it, it is a replay and ends the
/// session.
async fn reuse_interval(engine: Engine) {
    let config = rowbase_users::UsersConfig { refresh_reuse_seconds: 1, ..Default::default() };
    let Some((app, _raw)) = app_with(engine, config).await else { return };
    let first = sign_up(&app, "ivy@example.com", "ivy's own passphrase").await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let tab_one = refresh(&app, &first).await;
    let tab_two = refresh(&app, &first).await;
    assert_eq!((tab_one.status, tab_two.status), (200, 200), "{engine:?} {} {}", tab_one.text, tab_two.text);
    let one = tab_one.json()["refresh_token"].as_str().unwrap().to_string();
    let two = tab_two.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(one, two);
    let one = refresh(&app, &one).await;
    assert_eq!(one.status, 200, "{engine:?} {}", one.text);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    refused(&refresh(&app, &first).await, 400, "refresh_token_already_used");
    // The replay ended the session: every token of it is gone.
    refused(&refresh(&app, &two).await, 400, "refresh_token_not_found");
    refused(&refresh(&app, one.json()["refresh_token"].as_str().unwrap()).await, 400, "refresh_token_not_found");
}

#[tokio::test]
async fn users_reuse_interval_on_sqlite() {
    reuse_interval(Engine::Sqlite).await;
}

#[tokio::test]
async fn users_reuse_interval_on_postgresql() {
    reuse_interval(Engine::Postgres).await;
}

#[tokio::test]
async fn users_reuse_interval_on_mysql() {
    reuse_interval(Engine::MySql).await;
}

#[tokio::test]
async fn users_recovery_on_sqlite() {
    recovery(Engine::Sqlite).await;
}

#[tokio::test]
async fn users_recovery_on_postgresql() {
    recovery(Engine::Postgres).await;
}

#[tokio::test]
async fn users_recovery_on_mysql() {
    recovery(Engine::MySql).await;
}

/// A JSON request with a bearer `who` (`Bearer ...`).
async fn send(app: &TestApp, method: Method, path: &str, who: &str, body: Value) -> Reply {
    app.write(method, path, &[("Authorization", who), DATED], body).await
}

async fn admin(engine: Engine) {
    let Some((app, _raw)) = app(engine).await else { return };
    let service = bearer(&service());
    let alice = sign_up(&app, "alice@example.com", "a fine long passphrase").await.json();
    let alice_access = bearer(alice["access_token"].as_str().unwrap());

    // Only a service key is an admin.
    let reply =
        send(&app, Method::POST, "/auth/v1/admin/users", &alice_access, json!({"email": "x@example.com"})).await;
    refused(&reply, 403, "not_admin");
    refused(
        &app.write(Method::POST, "/auth/v1/admin/users", &[DATED], json!({"email": "x@example.com"})).await,
        401,
        "no_authorization",
    );

    // createUser: confirmed, with metadata the access token carries.
    let body = json!({"email": "Eve@example.com", "password": "eve's first passphrase", "email_confirm": true,
        "user_metadata": {"team": "a"}, "app_metadata": {"plan": "pro"}});
    let reply = send(&app, Method::POST, "/auth/v1/admin/users", &service, body).await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    let eve = reply.json();
    let eve_id = eve["id"].as_str().unwrap().to_string();
    assert_eq!((eve["email"].as_str(), eve["user_metadata"].clone()), (Some("eve@example.com"), json!({"team": "a"})));
    let session = sign_in(&app, "eve@example.com", "eve's first passphrase").await.json();
    assert_eq!(
        claims(session["access_token"].as_str().unwrap())["app_metadata"],
        json!({"provider": "email", "providers": ["email"], "plan": "pro"})
    );
    let eve_access = bearer(session["access_token"].as_str().unwrap());

    // listUsers: pages with X-Total-Count and Link, oldest first.
    let reply = app.get_with("/auth/v1/admin/users?page=1&per_page=1", &[("Authorization", &service), DATED]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["users"].as_array().unwrap().len(), 1);
    assert_eq!(reply.json()["users"][0]["email"], "alice@example.com");
    assert_eq!(reply.header("x-total-count"), Some("2"));
    assert_eq!(
        reply.header("link"),
        Some("</admin/users?page=2&per_page=1>; rel=\"next\", </admin/users?page=2&per_page=1>; rel=\"last\"")
    );

    // updateUser by the user: metadata merged (null removes), a new password; admin-only fields
    // and another user's email refused.
    let reply = send(
        &app,
        Method::PUT,
        "/auth/v1/user",
        &eve_access,
        json!({"data": {"team": null, "nick": "e"}, "password": "eve's second passphrase"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    assert_eq!(reply.json()["user_metadata"], json!({"nick": "e"}));
    refused(&sign_in(&app, "eve@example.com", "eve's first passphrase").await, 400, "invalid_credentials");
    assert_eq!(sign_in(&app, "eve@example.com", "eve's second passphrase").await.status, 200);
    refused(
        &send(&app, Method::PUT, "/auth/v1/user", &eve_access, json!({"app_metadata": {"plan": "free"}})).await,
        403,
        "not_admin",
    );
    refused(
        &send(&app, Method::PUT, "/auth/v1/user", &eve_access, json!({"email": "ALICE@example.com"})).await,
        422,
        "email_exists",
    );
    refused(
        &send(&app, Method::PUT, "/auth/v1/user", &eve_access, json!({"password": "x7#Qz"})).await,
        422,
        "weak_password",
    );
    // Metadata rides in every access token: a size the REST API would refuse is refused here.
    let big = json!({"data": {"bio": "x".repeat(3000)}});
    refused(&send(&app, Method::PUT, "/auth/v1/user", &eve_access, big).await, 400, "validation_failed");

    // A ban ends her sessions and refuses her sign-in; lifting it lets her back.
    let path = &format!("/auth/v1/admin/users/{eve_id}");
    let refresh_token = session["refresh_token"].as_str().unwrap().to_string();
    let reply = send(&app, Method::PUT, path, &service, json!({"ban_duration": "24h"})).await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    assert!(reply.json()["banned_until"].is_string());
    refused(&refresh(&app, &refresh_token).await, 400, "refresh_token_not_found");
    refused(&sign_in(&app, "eve@example.com", "eve's second passphrase").await, 400, "invalid_credentials");
    ended(&app, &eve_access[7..], "a banned user's token").await;
    refused(
        &send(&app, Method::PUT, path, &service, json!({"ban_duration": "forever"})).await,
        400,
        "validation_failed",
    );
    assert_eq!(send(&app, Method::PUT, path, &service, json!({"ban_duration": "none"})).await.status, 200);
    let last = sign_in(&app, "eve@example.com", "eve's second passphrase").await;
    assert_eq!(last.status, 200, "{}", last.text);
    let last_refresh = last.json()["refresh_token"].as_str().unwrap().to_string();
    let last_access = bearer(last.json()["access_token"].as_str().unwrap());

    // deleteUser: gone, with every session.
    let reply = app.send(Method::DELETE, path, &[("Authorization", &service), DATED], None).await;
    assert_eq!(reply.status, 200, "{engine:?} {}", reply.text);
    refused(&app.get_with(path, &[("Authorization", &service), DATED]).await, 404, "user_not_found");
    refused(&refresh(&app, &last_refresh).await, 400, "refresh_token_not_found");
    refused(&app.get_with("/auth/v1/user", &[("Authorization", &last_access), DATED]).await, 403, "session_not_found");
    ended(&app, &last_access[7..], "a deleted user's token").await;
    refused(
        &app.get_with("/auth/v1/admin/users/not-a-uuid", &[("Authorization", &service), DATED]).await,
        404,
        "user_not_found",
    );
}

#[tokio::test]
async fn users_admin_on_sqlite() {
    admin(Engine::Sqlite).await;
}

#[tokio::test]
async fn users_admin_on_postgresql() {
    admin(Engine::Postgres).await;
}

#[tokio::test]
async fn users_admin_on_mysql() {
    admin(Engine::MySql).await;
}

/// A service-role token (it passes every policy, so only the catalog keeps it out).
fn service() -> String {
    crate::access::token(json!({"role": "service_role"}))
}

fn users_table(engine: Engine) -> &'static str {
    if engine == Engine::Postgres { "rowbase_auth.users" } else { "rowbase_auth_users" }
}

fn sessions_table(engine: Engine) -> &'static str {
    if engine == Engine::Postgres { "rowbase_auth.sessions" } else { "rowbase_auth_sessions" }
}

fn tokens_table(engine: Engine) -> &'static str {
    if engine == Engine::Postgres { "rowbase_auth.refresh_tokens" } else { "rowbase_auth_refresh_tokens" }
}

#[tokio::test]
async fn users_lifecycle_on_sqlite() {
    lifecycle(Engine::Sqlite).await;
}

#[tokio::test]
async fn users_lifecycle_on_postgresql() {
    lifecycle(Engine::Postgres).await;
}

#[tokio::test]
async fn users_lifecycle_on_mysql() {
    lifecycle(Engine::MySql).await;
}

#[tokio::test]
async fn without_users_the_auth_routes_say_so() {
    let app = crate::common::spawn_app().await;
    for path in ["/auth/v1/settings", "/auth/v1/health", "/auth/v1/.well-known/jwks.json"] {
        let reply = app.get_with(path, &[DATED]).await;
        refused(&reply, 404, "feature_disabled");
    }
    refused(&sign_up(&app, "a@example.com", "a fine long passphrase").await, 404, "feature_disabled");
}
