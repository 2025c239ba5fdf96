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
/// rows, and the server's rules. Role and claims stay empty until access control is configured.
///
/// Errors: 406 `PGRST106` for a schema that is not exposed.
pub(crate) fn request_context(
    state: &AppState,
    headers: &HeaderMap,
    profile_header: &'static str,
    prefs: &Preferences,
) -> Result<RequestContext, ApiError> {
    let config = state.config();
    let actor = config
        .actor_header
        .as_deref()
        .and_then(|name| headers.get(name).and_then(|v| v.to_str().ok()))
        .filter(|v| crate::log::sane(v.as_bytes()))
        .map(str::to_string);
    let request_id = headers.get(crate::log::REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    Ok(RequestContext {
        request_id,
        role: None,
        claims: serde_json::Map::new(),
        actor,
        schema: profile(state, headers, profile_header)?,
        deleted: prefs.deleted.unwrap_or_default(),
        hard_delete: prefs.hard_delete == Some(true),
        server: ServerRules {
            allow_hard_delete: config.allow_hard_delete,
            allow_unfiltered_writes: config.allow_unfiltered_writes,
        },
    })
}

/// The settings of the request's transaction: its role and claims, and for a write on a
/// database that keeps an audit log (`audited`), who writes and which request.
pub(crate) fn transaction_settings(ctx: &RequestContext, audited: bool) -> TransactionSettings {
    TransactionSettings {
        audit: audited.then(|| AuditSettings { actor: ctx.actor.clone(), request_id: ctx.request_id.clone() }),
        role: ctx.role.clone(),
        claims: (!ctx.claims.is_empty()).then(|| serde_json::Value::Object(ctx.claims.clone()).to_string()),
    }
}
