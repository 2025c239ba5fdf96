//! `/auth/v1`: users and sessions in the shape of Supabase's auth server (GoTrue), for
//! `@supabase/supabase-js`'s `auth` client: `POST /signup`, `POST /token?grant_type=password`,
//! `POST /token?grant_type=refresh_token`, `GET` and `PUT /user`, `POST /logout?scope=...`,
//! `POST /recover`, `POST /resend` and `GET`/`POST /verify` (recovery and confirmation by mail), `GET /settings`,
//! `GET /health` and `GET /.well-known/jwks.json`; and for a service key (`auth.admin`), `GET`/`POST
//! /admin/users` and `GET`/`PUT`/`DELETE /admin/users/{id}`. The rules are `rowbase_users`'; this module reads the
//! requests and writes GoTrue's answers.
//!
//! Errors are GoTrue's: with `X-Supabase-Api-Version: 2024-01-01` (supabase-js sends it) the body
//! is `{"code": "<error code>", "message": "..."}` and the answer carries the same header; without
//! it, the older `{"code": <status>, "error_code": "...", "msg": "..."}`. A weak password adds
//! `weak_password: {"reasons": [...]}`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rowbase_users::{UserChanges, Users, UsersError};
use serde_json::{Value, json};

use crate::state::AppState;

/// The header naming the GoTrue API version a client reads (supabase-js: `2024-01-01`).
const API_VERSION: HeaderName = HeaderName::from_static("x-supabase-api-version");

/// The routes under `/auth/v1`. Without users configured, every one answers 404
/// `user_management_disabled`-style (`feature_disabled`): nothing is stored.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/v1/signup", post(sign_up))
        .route("/auth/v1/token", post(token))
        .route("/auth/v1/user", get(user).put(update_user))
        .route("/auth/v1/admin/users", get(admin_list).post(admin_create))
        .route("/auth/v1/admin/users/{id}", get(admin_get).put(admin_update).delete(admin_delete))
        .route("/auth/v1/logout", post(sign_out))
        .route("/auth/v1/recover", post(recover))
        .route("/auth/v1/resend", post(resend))
        .route("/auth/v1/verify", get(verify_link).post(verify))
        .route("/auth/v1/settings", get(settings))
        .route("/auth/v1/health", get(health))
        .route("/auth/v1/.well-known/jwks.json", get(jwks))
}

/// An `/auth/v1` answer's error: a [`UsersError`], or the request itself was wrong.
struct AuthError {
    status: StatusCode,
    code: &'static str,
    message: String,
    reasons: Option<Vec<&'static str>>,
    retry_after: Option<u64>,
}

impl From<UsersError> for AuthError {
    fn from(e: UsersError) -> AuthError {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = if status.is_server_error() {
            tracing::error!(error = %e, "users: request failed");
            "Unexpected failure, please check server logs for more information".to_string()
        } else {
            e.to_string()
        };
        let reasons = match &e {
            UsersError::WeakPassword { reasons, .. } => Some(reasons.clone()),
            _ => None,
        };
        let retry_after = match &e {
            UsersError::TooManyAttempts(seconds) => Some(*seconds),
            UsersError::Busy => Some(1),
            _ => None,
        };
        AuthError { status, code: e.code(), message, reasons, retry_after }
    }
}

impl AuthError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AuthError {
        AuthError { status, code, message: message.into(), reasons: None, retry_after: None }
    }

    /// The answer, in the shape the client's API version reads.
    fn answer(self, headers: &HeaderMap) -> Response {
        let dated =
            headers.get(&API_VERSION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.len() == 10 && v >= "2024-01-01");
        let mut body = if dated {
            json!({"code": self.code, "message": self.message})
        } else {
            json!({"code": self.status.as_u16(), "error_code": self.code, "msg": self.message})
        };
        if let Some(reasons) = self.reasons {
            body["weak_password"] = json!({"reasons": reasons});
        }
        let mut response = json_response(self.status, &body);
        if dated {
            response.headers_mut().insert(API_VERSION, HeaderValue::from_static("2024-01-01"));
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The users service, or 404 when users are not switched on.
fn users(state: &AppState) -> Result<&Arc<Users>, AuthError> {
    state.config().users.as_ref().ok_or_else(|| {
        AuthError::new(StatusCode::NOT_FOUND, "feature_disabled", "Users are not enabled on this server (--users)")
    })
}

/// The JSON object of a body, read within the server's body size and time limits; or 400
/// `bad_json`, 413 or 408.
async fn object(state: &AppState, body: Body) -> Result<serde_json::Map<String, Value>, AuthError> {
    let config = state.config();
    let body: Bytes =
        crate::dispatch::read_body(body, config.max_body_bytes, config.body_timeout).await.map_err(|e| {
            let status = e.into_response().status();
            let code = if status == StatusCode::REQUEST_TIMEOUT { "request_timeout" } else { "validation_failed" };
            AuthError::new(status, code, "The request body could not be read within the server's limits")
        })?;
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AuthError::new(StatusCode::BAD_REQUEST, "bad_json", "The request body must be a JSON object")),
        Err(e) => Err(AuthError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("Could not parse request body as JSON: {e}"),
        )),
    }
}

/// A string field of a body ("" when absent).
fn field<'a>(body: &'a serde_json::Map<String, Value>, name: &str) -> Result<&'a str, AuthError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => {
            Err(AuthError::new(StatusCode::BAD_REQUEST, "validation_failed", format!("{name} must be a string")))
        }
    }
}

/// A JSON answer with `status`.
fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn answer(result: Result<Value, AuthError>, headers: &HeaderMap) -> Response {
    match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(e) => e.answer(headers),
    }
}

/// `POST /signup` `{"email", "password", "data"}`: the new user, signed in (email confirmation
/// is off), as a session.
async fn sign_up(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let users = users(&state)?;
        let body = object(&state, body).await?;
        let (email, password) = (field(&body, "email")?, field(&body, "password")?);
        if email.is_empty() {
            return Err(AuthError::new(
                StatusCode::BAD_REQUEST,
                "validation_failed",
                "Signup requires a valid password and email",
            ));
        }
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        Ok(users.sign_up(state.db(), email, password.to_string(), data).await?.to_json())
    }
    .await;
    answer(result, &headers)
}

/// `POST /token?grant_type=password|refresh_token`.
async fn token(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    client: Option<axum::Extension<crate::app::ClientAddress>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let users = users(&state)?;
        let body = object(&state, body).await?;
        let session = match query.get("grant_type").map(String::as_str) {
            Some("password") => {
                let (email, password) = (field(&body, "email")?, field(&body, "password")?);
                let address = client.map(|c| c.0.0);
                users.sign_in(state.db(), email, password.to_string(), address).await?
            }
            Some("refresh_token") => users.refresh(state.db(), field(&body, "refresh_token")?).await?,
            other => {
                let message = format!("unsupported grant_type {:?}: password or refresh_token", other.unwrap_or(""));
                return Err(AuthError::new(StatusCode::BAD_REQUEST, "validation_failed", message));
            }
        };
        Ok(session.to_json())
    }
    .await;
    answer(result, &headers)
}

/// The verified claims of the request's `Authorization: Bearer` token.
///
/// Errors: no bearer token (401 `no_authorization`); a token that does not verify (403
/// `bad_jwt`).
fn bearer_claims(state: &AppState, headers: &HeaderMap) -> Result<Arc<serde_json::Map<String, Value>>, AuthError> {
    if !headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
    {
        return Err(AuthError::new(
            StatusCode::UNAUTHORIZED,
            "no_authorization",
            "This endpoint requires a Bearer token",
        ));
    }
    match state.auth().authenticate(headers) {
        Ok(identity) => Ok(identity.claims),
        Err(_) => {
            Err(AuthError::new(StatusCode::FORBIDDEN, "bad_jwt", "invalid JWT: unable to parse or verify signature"))
        }
    }
}

/// `GET /user`: the user of the bearer token's session.
async fn user(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = async {
        let users = users(&state)?;
        let claims = bearer_claims(&state, &headers)?;
        Ok(users.user(state.db(), &claims).await?.0.to_json())
    }
    .await;
    answer(result, &headers)
}

/// `POST /logout?scope=global|local|others`: 204; the sessions are ended.
async fn sign_out(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let users = users(&state)?;
        let claims = bearer_claims(&state, &headers)?;
        let scope = query.get("scope").map_or("global", String::as_str);
        users.sign_out(state.db(), &claims, scope).await?;
        Ok::<(), AuthError>(())
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.answer(&headers),
    }
}

/// `GET /settings`: what sign-in methods exist (GoTrue's `Settings`).
async fn settings(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = users(&state).map(|users| {
        json!({
            "external": {"email": true, "phone": false, "anonymous_users": false},
            "disable_signup": !users.config().signup,
            "mailer_autoconfirm": !users.confirms_email(),
            "phone_autoconfirm": false,
            "sms_provider": "",
            "saml_enabled": false,
        })
    });
    answer(result, &headers)
}

/// `GET /health`: that the users service is up.
async fn health(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = users(&state).map(|_| {
        json!({"version": env!("CARGO_PKG_VERSION"), "name": "Rowbase", "description": "Rowbase users and sessions (GoTrue's API)"})
    });
    answer(result, &headers)
}

/// The changes a body asks for: `email`, `password`, `data` (a user's own metadata) or
/// `user_metadata` (an admin's word for it), `app_metadata`, `role`, `ban_duration`,
/// `email_confirm`.
fn changes(body: &serde_json::Map<String, Value>) -> Result<UserChanges, AuthError> {
    let text = |name: &str| -> Result<Option<String>, AuthError> {
        Ok(Some(field(body, name)?.to_string()).filter(|s| !s.is_empty()))
    };
    let object = |name: &str| -> Result<Option<Value>, AuthError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
            Some(_) => {
                Err(AuthError::new(StatusCode::BAD_REQUEST, "validation_failed", format!("{name} must be an object")))
            }
        }
    };
    let email_confirm = match body.get("email_confirm") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(AuthError::new(
                StatusCode::BAD_REQUEST,
                "validation_failed",
                "email_confirm must be a boolean",
            ));
        }
    };
    Ok(UserChanges {
        email: text("email")?,
        password: text("password")?,
        user_metadata: match object("data")? {
            Some(data) => Some(data),
            None => object("user_metadata")?,
        },
        app_metadata: object("app_metadata")?,
        role: text("role")?,
        ban_duration: text("ban_duration")?,
        email_confirm,
    })
}

/// `PUT /user`: the session's user changes its email, password or metadata.
async fn update_user(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let users = users(&state)?;
        let claims = bearer_claims(&state, &headers)?;
        let changes = changes(&object(&state, body).await?)?;
        Ok(users.update_self(state.db(), &claims, changes).await?.to_json())
    }
    .await;
    answer(result, &headers)
}

/// The users service, for a caller whose bearer token is an admin's (a service key).
fn admin<'s>(state: &'s AppState, headers: &HeaderMap) -> Result<&'s Arc<Users>, AuthError> {
    let users = users(state)?;
    let claims = bearer_claims(state, headers)?;
    if !rowbase_users::is_admin(&claims) {
        return Err(UsersError::NotAdmin.into());
    }
    Ok(users)
}

/// `GET /admin/users?page=&per_page=`: `{"users": [...], "aud": ...}`, with `X-Total-Count` and
/// a `Link` header naming the next and last pages (GoTrue's pagination, which supabase-js reads).
async fn admin_list(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let number = |name: &str, default: u64| match query.get(name).map(String::as_str) {
        None | Some("") => Ok(default),
        Some(n) => n.parse::<u64>().map_err(|_| {
            AuthError::new(StatusCode::BAD_REQUEST, "validation_failed", format!("{name} must be a positive integer"))
        }),
    };
    let result = async {
        let users = admin(&state, &headers)?;
        let (page, per_page) = (number("page", 1)?.max(1), number("per_page", 50)?.clamp(1, 1000));
        let (list, total) = users.admin_list(state.db(), page, per_page).await?;
        let body =
            json!({"users": list.iter().map(rowbase_users::User::to_json).collect::<Vec<_>>(), "aud": "authenticated"});
        Ok::<_, AuthError>((body, total, page, per_page))
    }
    .await;
    match result {
        Ok((body, total, page, per_page)) => {
            let mut response = json_response(StatusCode::OK, &body);
            let last = total.div_ceil(per_page).max(1);
            let mut links = Vec::new();
            if page < last {
                links.push(format!("</admin/users?page={}&per_page={per_page}>; rel=\"next\"", page + 1));
            }
            links.push(format!("</admin/users?page={last}&per_page={per_page}>; rel=\"last\""));
            let h = response.headers_mut();
            h.insert(HeaderName::from_static("x-total-count"), HeaderValue::from(total));
            if let Ok(link) = HeaderValue::from_str(&links.join(", ")) {
                h.insert(header::LINK, link);
            }
            response
        }
        Err(e) => e.answer(&headers),
    }
}

/// `POST /admin/users`: a new user (`email`, `password`, `email_confirm`, `user_metadata`,
/// `app_metadata`, `role`, `ban_duration`).
async fn admin_create(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let users = admin(&state, &headers)?;
        let body = object(&state, body).await?;
        let email = field(&body, "email")?.to_string();
        Ok(users.admin_create(state.db(), &email, changes(&body)?).await?.to_json())
    }
    .await;
    answer(result, &headers)
}

/// `GET /admin/users/{id}`.
async fn admin_get(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let result = async { Ok(admin(&state, &headers)?.admin_get(state.db(), &id).await?.to_json()) }.await;
    answer(result, &headers)
}

/// `PUT /admin/users/{id}`: changes as [`changes`] reads them.
async fn admin_update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let users = admin(&state, &headers)?;
        let changes = changes(&object(&state, body).await?)?;
        Ok(users.admin_update(state.db(), &id, changes).await?.to_json())
    }
    .await;
    answer(result, &headers)
}

/// `DELETE /admin/users/{id}`: the user is deleted with its sessions; the answer is the user as
/// it was.
async fn admin_delete(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let result = async { Ok(admin(&state, &headers)?.admin_delete(state.db(), &id).await?.to_json()) }.await;
    answer(result, &headers)
}

/// `GET /.well-known/jwks.json`: the public keys access tokens are verified with (private
/// members never included); empty when they are signed with the HMAC secret, which is never
/// published (as GoTrue's set is with a symmetric key only).
async fn jwks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(users(&state).map(|users| users.public_keys().clone()), &headers)
}

/// `POST /recover?redirect_to=` `{"email"}`: `{}` whether or not the email is a user's; a user
/// gets a link that signs them in once (`rowbase_users::Users::recover`).
async fn recover(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let users = users(&state)?;
        let body = object(&state, body).await?;
        users.recover(state.db(), field(&body, "email")?, query.get("redirect_to").map(String::as_str)).await?;
        Ok(json!({}))
    }
    .await;
    answer(result, &headers)
}

/// `POST /verify` `{"type": "signup" | "recovery", "token_hash" | "token"}` (supabase-js's
/// `verifyOtp`): the session the link opens (a `signup` link confirms the email first).
async fn verify(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let users = users(&state)?;
        let body = object(&state, body).await?;
        let token = match field(&body, "token_hash")? {
            "" => field(&body, "token")?,
            hash => hash,
        };
        Ok(users.verify(state.db(), field(&body, "type")?, token).await?.to_json())
    }
    .await;
    answer(result, &headers)
}

/// `GET /verify?token=&type=signup|recovery&redirect_to=`: the link in the mail. Redirects (303) to
/// `redirect_to` (when it is under the site URL, else the site URL) with the session in the
/// fragment (`#access_token=...&refresh_token=...&type=recovery`, where supabase-js looks), or
/// the error (`#error=access_denied&error_code=otp_expired&...`).
async fn verify_link(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let users = match users(&state) {
        Ok(users) => users,
        Err(e) => return e.answer(&headers),
    };
    let Some(site) = users.site_url() else { return AuthError::from(UsersError::MailDisabled).answer(&headers) };
    let target = query.get("redirect_to").filter(|to| users.allowed_redirect(to)).map_or(site, String::as_str);
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let kind = query.get("type").map_or("", String::as_str);
    let fragment = match users.verify(state.db(), kind, query.get("token").map_or("", String::as_str)).await {
        Ok(session) => format!(
            "access_token={}&expires_at={}&expires_in={}&refresh_token={}&token_type=bearer&type={}",
            session.access_token,
            session.expires_at,
            session.expires_in,
            session.refresh_token,
            encode(kind)
        ),
        Err(e) => {
            let e = AuthError::from(e);
            format!("error=access_denied&error_code={}&error_description={}", e.code, encode(&e.message))
        }
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("{target}#{fragment}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `POST /resend` `{"type": "signup", "email"}`: the confirmation link again, to a user whose
/// email is not confirmed; `{}` whatever the email (supabase-js's `resend`).
async fn resend(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let users = users(&state)?;
        let body = object(&state, body).await?;
        match field(&body, "type")? {
            "signup" => users.resend_confirmation(state.db(), field(&body, "email")?).await?,
            other => {
                let message = format!("unsupported resend type {other:?}: signup");
                return Err(AuthError::new(StatusCode::BAD_REQUEST, "validation_failed", message));
            }
        }
        Ok(json!({}))
    }
    .await;
    answer(result, &headers)
}
