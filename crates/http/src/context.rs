//! The request context, built once per request from its headers and the server's settings,
//! and handed to the planner (`rowbase_plan::plan`) and to the database's write (the audit
//! context: actor and request id).

use axum::http::HeaderMap;
use rowbase_db::{AuditSettings, TransactionSettings};
use rowbase_plan::{RequestContext, ServerRules};
use rowbase_request::headers::Preferences;

use crate::error::ApiError;
use crate::read::profile;
use crate::state::AppState;

/// The context of a request: its id (set by the request log), the actor a trusted gateway
/// names (`--actor-header`), the schema its profile header chooses (`profile_header` is
/// `accept-profile` for reads, `content-profile` for writes), its preferences about soft-deleted
/// rows, the server's rules, and who is asking ([`crate::auth`]: the role and claims of its
/// token; with authentication on, the audit log's actor is the token's `sub`).
///
/// Errors: 401 for a token that does not verify (or none without an anonymous role), or one of
/// Rowbase's access tokens whose session has ended (`PGRST303`); 406 `PGRST106` for a schema
/// that is not exposed.
pub(crate) async fn request_context(
    state: &AppState,
    headers: &HeaderMap,
    request: (&axum::http::Method, &str),
    profile_header: axum::http::HeaderName,
    prefs: &Preferences,
) -> Result<RequestContext, ApiError> {
    let config = state.config();
    let identity = state.auth().authenticate(headers)?;
    if let Some(users) = &config.users {
        // One of Rowbase's own access tokens works only while its session is open.
        users.check_session(state.db(), &identity.claims).await.map_err(crate::auth::session_ended)?;
    }
    if state.auth().enabled() {
        crate::auth::check_role(identity.role.as_deref(), config.access.as_deref())?;
    }
    let sub = identity.claims.get("sub").and_then(|s| match s {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let gateway = config
        .actor_header
        .as_deref()
        .and_then(|name| headers.get(name).and_then(|v| v.to_str().ok()))
        .filter(|v| crate::log::sane(v.as_bytes()))
        .map(str::to_string);
    let actor = if state.auth().enabled() { sub } else { gateway };
    let request_id = headers.get(crate::log::REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    Ok(RequestContext {
        request_id,
        // As PostgREST decides: the anonymous role, whether or not a token (an anon key) named it.
        anonymous: identity.role.is_some() && identity.role == config.auth.anon_role,
        role: identity.role,
        claims: identity.claims,
        actor,
        schema: profile(state, headers, profile_header)?,
        deleted: prefs.deleted.unwrap_or_default(),
        hard_delete: prefs.hard_delete == Some(true),
        server: ServerRules {
            allow_hard_delete: config.allow_hard_delete,
            allow_unfiltered_writes: config.allow_unfiltered_writes,
        },
        access: config.access.clone(),
        // Only PostgreSQL reads them, and only in the transaction a role or claims open.
        request: (state.auth().enabled() && state.db().engine() == rowbase_catalog::Engine::Postgres)
            .then(|| request_line(request.0, request.1, headers)),
    })
}

/// The request as PostgREST gives it to SQL: method, path, and the headers as a JSON object with
/// lower-case names, `cookie` left out (PostgREST "Transaction-Scoped Settings"). Values that are
/// not UTF-8 are left out.
fn request_line(method: &axum::http::Method, path: &str, headers: &HeaderMap) -> rowbase_plan::RequestLine {
    let mut object = serde_json::Map::new();
    for (name, value) in headers {
        if name == axum::http::header::COOKIE {
            continue;
        }
        if let Ok(text) = value.to_str() {
            object.insert(name.as_str().to_string(), serde_json::Value::String(text.to_string()));
        }
    }
    rowbase_plan::RequestLine {
        method: method.to_string(),
        path: path.to_string(),
        headers: serde_json::Value::Object(object).to_string(),
    }
}

/// The settings of the request's transaction: its role and claims, and for a write on a
/// database that keeps an audit log (`audited`), who writes and which request.
///
/// The role becomes the transaction's database role (PostgreSQL's `SET LOCAL ROLE`, as
/// PostgREST does): the database's own grants and row-level security govern too, those of an
/// existing database or those the schema file's migrations made native (`rowbase_migrate::native`).
/// The planner applies declared access on every engine whatever the database does.
pub(crate) fn transaction_settings(ctx: &RequestContext, audited: bool) -> TransactionSettings {
    TransactionSettings {
        audit: audited.then(|| AuditSettings { actor: ctx.actor.clone(), request_id: ctx.request_id.clone() }),
        role: ctx.role.clone(),
        // As JSON text only where the engine reads it (PostgreSQL's `request.jwt.claims`, with
        // the request line): SQLite and MySQL take the planner's rules alone.
        claims: (ctx.request.is_some() && !ctx.claims.is_empty())
            .then(|| serde_json::to_string(&*ctx.claims).unwrap_or_default()),
        request: ctx.request.clone(),
    }
}
