//! Hostile and honest tokens against a server with an HMAC secret, a JWKS (RSA, P-256 and
//! Ed25519 keys with kids) and an audience: each must be refused or let through as PostgREST
//! would (401 `PGRST301`/`PGRST302`/`PGRST303` with `WWW-Authenticate`). Verification does not
//! depend on the engine; these run on Chinook on SQLite.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::access::now;
use crate::common::{Reply, TestApp, spawn_app};

const SECRET: &str = "tokens-test-secret-of-at-least-32-bytes";
const AUDIENCE: &str = "rowbase-test";

fn keys_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

fn jwks() -> String {
    std::fs::read_to_string(keys_dir().join("jwks.json")).unwrap()
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(keys_dir().join(name)).unwrap()
}

async fn server(secret: Option<&str>, with_jwks: bool) -> TestApp {
    let mut options = rowbase::Options::default();
    let jwks = with_jwks.then(jwks);
    options.http.auth = rowbase_http::auth::AuthConfig {
        keys: Some(std::sync::Arc::new(
            rowbase_http::auth::JwtKeys::new(secret.map(str::as_bytes), jwks.as_deref()).unwrap(),
        )),
        audience: Some(AUDIENCE.into()),
        ..Default::default()
    };
    spawn_app().options(options).await
}

fn claims() -> Value {
    json!({"sub": "u1", "role": "reader", "exp": now() + 600})
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::default(), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn signed(alg: Algorithm, kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

async fn with_bearer(app: &TestApp, token: &str) -> Reply {
    app.get_with("/Artist?select=ArtistId&limit=1", &[("Authorization", &format!("Bearer {token}"))]).await
}

fn refused(reply: &Reply, code: &str) {
    assert_eq!((reply.status, reply.code().as_str()), (401, code), "{}", reply.text);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    if code != "PGRST302" {
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
}

#[tokio::test]
async fn tokens_are_verified() {
    let app = server(Some(SECRET), true).await;
    let good = hs256(&claims(), SECRET.as_bytes());
    assert_eq!(with_bearer(&app, &good).await.status, 200);
    // Twice: the second from the cache.
    assert_eq!(with_bearer(&app, &good).await.status, 200);
    // No token, and no anonymous role configured.
    refused(&app.get("/Artist?limit=1").await, "PGRST302");
    // Supabase's apikey header carries a token too; Authorization wins when both are sent.
    assert_eq!(app.get_with("/Artist?limit=1", &[("apikey", &good)]).await.status, 200);
    let forged = hs256(&claims(), b"another-secret-another-secret-another");
    refused(
        &app.get_with("/Artist?limit=1", &[("apikey", &good), ("Authorization", &format!("Bearer {forged}"))]).await,
        "PGRST301",
    );

    // A forged signature; a token with its payload swapped; not a JWT at all.
    refused(&with_bearer(&app, &forged).await, "PGRST301");
    let parts: Vec<&str> = good.split('.').collect();
    let admin = URL_SAFE_NO_PAD.encode(json!({"sub": "u1", "role": "admin", "exp": now() + 600}).to_string());
    refused(&with_bearer(&app, &format!("{}.{admin}.{}", parts[0], parts[2])).await, "PGRST301");
    refused(&with_bearer(&app, "not-a-token").await, "PGRST301");
    refused(&app.get_with("/Artist?limit=1", &[("Authorization", "Basic dXNlcjpwYXNz")]).await, "PGRST301");

    // `alg: none`, unsigned.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    );
    refused(&with_bearer(&app, &none).await, "PGRST301");

    // Expired (past the 30 s of skew), not yet valid, within the skew.
    let mut expired = claims();
    expired["exp"] = json!(now() - 120);
    let reply = with_bearer(&app, &hs256(&expired, SECRET.as_bytes())).await;
    refused(&reply, "PGRST303");
    assert_eq!(reply.json()["message"], "JWT expired");
    let mut early = claims();
    early["nbf"] = json!(now() + 600);
    refused(&with_bearer(&app, &hs256(&early, SECRET.as_bytes())).await, "PGRST303");
    let mut skewed = claims();
    skewed["exp"] = json!(now() - 5);
    assert_eq!(with_bearer(&app, &hs256(&skewed, SECRET.as_bytes())).await.status, 200);

    // The audience: another is refused; the configured one and none (as PostgREST) pass.
    let mut other = claims();
    other["aud"] = json!("someone-else");
    refused(&with_bearer(&app, &hs256(&other, SECRET.as_bytes())).await, "PGRST303");
    let mut ours = claims();
    ours["aud"] = json!([AUDIENCE, "x"]);
    assert_eq!(with_bearer(&app, &hs256(&ours, SECRET.as_bytes())).await.status, 200);

    // A role claim that is not a name; no role claim at all, with no anonymous role.
    let mut numeric = claims();
    numeric["role"] = json!(5);
    refused(&with_bearer(&app, &hs256(&numeric, SECRET.as_bytes())).await, "PGRST303");
    let roleless = json!({"sub": "u1", "exp": now() + 600});
    refused(&with_bearer(&app, &hs256(&roleless, SECRET.as_bytes())).await, "PGRST303");

    // A 100 kB token is refused before it is decoded (or by the server's header limit).
    let mut huge = claims();
    huge["padding"] = json!("x".repeat(100_000));
    let reply = with_bearer(&app, &hs256(&huge, SECRET.as_bytes())).await;
    assert!(reply.status == 401 || reply.status == 431, "{} {}", reply.status, reply.text);
    if reply.status == 401 {
        refused(&reply, "PGRST301");
    }
    assert_eq!(with_bearer(&app, &good).await.status, 200, "the server still answers");

    // Asymmetric keys from the JWKS, chosen by kid.
    let rsa = EncodingKey::from_rsa_pem(&pem("rsa.pem")).unwrap();
    let ec = EncodingKey::from_ec_pem(&pem("ec.pem")).unwrap();
    let ed = EncodingKey::from_ed_pem(&pem("ed25519.pem")).unwrap();
    assert_eq!(with_bearer(&app, &signed(Algorithm::RS256, "rsa-1", &rsa, &claims())).await.status, 200);
    assert_eq!(with_bearer(&app, &signed(Algorithm::ES256, "ec-1", &ec, &claims())).await.status, 200);
    assert_eq!(with_bearer(&app, &signed(Algorithm::EdDSA, "ed-1", &ed, &claims())).await.status, 200);
    // A kid naming another key, or none known.
    refused(&with_bearer(&app, &signed(Algorithm::RS256, "ec-1", &rsa, &claims())).await, "PGRST301");
    refused(&with_bearer(&app, &signed(Algorithm::RS256, "nope", &rsa, &claims())).await, "PGRST301");
    // RS384 is of the RSA key's family, but the JWK declares RS256.
    refused(&with_bearer(&app, &signed(Algorithm::RS384, "rsa-1", &rsa, &claims())).await, "PGRST301");
    // An expired RS256 token.
    let mut old = claims();
    old["exp"] = json!(now() - 3600);
    refused(&with_bearer(&app, &signed(Algorithm::RS256, "rsa-1", &rsa, &old)).await, "PGRST303");
}

/// HS/RS confusion: on a server with public keys only, an HS256 token "signed" with the public
/// key's bytes as the HMAC secret must not pass.
#[tokio::test]
async fn an_hmac_token_made_with_the_public_key_is_refused() {
    let app = server(None, true).await;
    let public = pem("rsa.pub.pem");
    refused(&with_bearer(&app, &hs256(&claims(), &public)).await, "PGRST301");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let confused = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&public)).unwrap();
    refused(&with_bearer(&app, &confused).await, "PGRST301");
}

#[tokio::test]
async fn short_secrets_and_symmetric_jwks_are_refused_at_start() {
    let short = rowbase_http::auth::JwtKeys::new(Some(b"too-short"), None).unwrap_err();
    assert!(short.contains("at least 32"), "{short}");
    let oct = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#;
    let refused = rowbase_http::auth::JwtKeys::new(None, Some(oct)).unwrap_err();
    assert!(refused.contains("symmetric"), "{refused}");
    assert!(rowbase_http::auth::JwtKeys::new(None, None).is_err());
}

/// Without a key, a non-loopback address is refused unless the operator insists.
#[tokio::test]
async fn no_keys_on_a_public_address_needs_insecure_no_auth() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    std::fs::copy(crate::common::chinook(), &db).unwrap();
    let url = db.to_str().unwrap();
    let public: std::net::SocketAddr = "0.0.0.0:0".parse().unwrap();
    let refused = rowbase::start(url, &rowbase::Options::default(), public, std::future::pending()).await;
    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("--insecure-no-auth"), "{message}");
    let options = rowbase::Options { insecure_no_auth: true, ..Default::default() };
    let server = rowbase::start(url, &options, public, std::future::pending()).await.expect("starts when told");
    server.shutdown().await.unwrap();
}
