//! What a web page the operator happens to open may do to a Rowbase it can reach. Before, every
//! answer carried `Access-Control-Allow-Origin: *`, any origin could preflight `DELETE`, and
//! the `Host` header was not checked: a page could read and wipe a local server, and DNS
//! rebinding reached it by name.

use reqwest::Method;

use crate::common::spawn_app;

#[tokio::test]
async fn other_origins_get_no_cors_and_cannot_write() {
    let app = spawn_app().await;
    let evil = [("Origin", "http://evil.example")];
    let read = app.get_with("/Artist?limit=1", &evil).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.header("access-control-allow-origin"), None, "no CORS grant to another origin");

    let preflight = app
        .request(
            Method::OPTIONS,
            "/Artist",
            &[("Origin", "http://evil.example"), ("Access-Control-Request-Method", "DELETE")],
        )
        .await;
    assert_eq!(preflight.header("access-control-allow-origin"), None, "{}", preflight.text);

    // A form post needs no preflight: refused by the server itself, and nothing is written.
    let before = app.sql("SELECT count(*) AS n FROM Artist");
    let form = app
        .send(
            Method::POST,
            "/Artist",
            &[("Origin", "http://evil.example"), ("Content-Type", "application/x-www-form-urlencoded")],
            Some("Name=pwned".into()),
        )
        .await;
    assert_eq!((form.status, form.code()), (403, "RB403".to_string()), "{}", form.text);
    let delete = app.request(Method::DELETE, "/Track?TrackId=eq.1", &evil).await;
    assert_eq!((delete.status, delete.code()), (403, "RB403".to_string()), "{}", delete.text);
    assert_eq!(app.sql("SELECT count(*) AS n FROM Artist"), before);

    // The server's own origin may write.
    let own = app.base.clone();
    let mine = app
        .send(
            Method::POST,
            "/Artist",
            &[("Origin", own.as_str()), ("Content-Type", "application/json")],
            Some(r#"{"Name":"Same origin"}"#.into()),
        )
        .await;
    assert_eq!(mine.status, 201, "{}", mine.text);
}

#[tokio::test]
async fn configured_origins_may_read_and_write() {
    let mut options = rowbase::Options::default();
    options.http.cors_origins = vec!["https://app.example".into()];
    let app = spawn_app().options(options).await;
    let origin = [("Origin", "https://app.example")];
    let read = app.get_with("/Artist?limit=1", &origin).await;
    assert_eq!(read.header("access-control-allow-origin"), Some("https://app.example"));
    let preflight = app
        .request(
            Method::OPTIONS,
            "/Artist",
            &[("Origin", "https://app.example"), ("Access-Control-Request-Method", "PATCH")],
        )
        .await;
    assert_eq!(preflight.header("access-control-allow-origin"), Some("https://app.example"));
    let write = app
        .send(
            Method::POST,
            "/Artist",
            &[("Origin", "https://app.example"), ("Content-Type", "application/json")],
            Some(r#"{"Name":"Allowed"}"#.into()),
        )
        .await;
    assert_eq!(write.status, 201, "{}", write.text);
    let other = app.get_with("/Artist?limit=1", &[("Origin", "https://other.example")]).await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_loopback_server_answers_local_names_only() {
    let app = spawn_app().await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let rebound = app.get_with("/Artist?limit=1", &[("Host", &format!("attacker.example:{port}"))]).await;
    assert_eq!((rebound.status, rebound.code()), (421, "RB421".to_string()), "{}", rebound.text);
    for host in ["localhost", "127.0.0.1", "[::1]"] {
        let reply = app.get_with("/Artist?limit=1", &[("Host", &format!("{host}:{port}"))]).await;
        assert_eq!(reply.status, 200, "{host}: {}", reply.text);
    }

    let mut options = rowbase::Options::default();
    options.http.allowed_hosts = Some(vec!["db.internal".into()]);
    let configured = spawn_app().options(options).await;
    let reply = configured.get_with("/Artist?limit=1", &[("Host", "db.internal")]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn answers_carry_security_headers() {
    let app = spawn_app().await;
    for path in ["/Artist?limit=1", "/Nope", "/"] {
        let reply = app.get(path).await;
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert!(reply.header("content-security-policy").is_some_and(|c| c.contains("default-src 'none'")), "{path}");
    }
}
