//! The request context and the planner's one entry point. The HTTP layer builds a
//! [`RequestContext`] once per request (who asks, with which preferences, under which server
//! rules) and hands it with an [`Action`] to [`plan`]; every rule that narrows or checks rows
//! reads the context there (`crate::rules`), for every node of the plan.

use rowbase_catalog::{AUDIT_LOG, Catalog};
use rowbase_request::body::Payload;
use rowbase_request::{DeletedRows, QueryParams};

use crate::error::PlanError;
use crate::plan::{ReadPlan, WritePlan};
use crate::read::{ReadRequest, find_table, plan_read};
use crate::write::{InsertRequest, plan_delete, plan_insert, plan_put, plan_update};

/// Who is asking and how, built once per request.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The request's id (the client's `X-Request-Id`, or one made for it): logged and recorded
    /// in the audit log.
    pub request_id: String,
    /// The role the request runs as: the verified token's role claim, else the anonymous
    /// role; `None` when authentication is off.
    pub role: Option<String>,
    /// The request runs as the anonymous role (no token, or a token naming it, as Supabase's
    /// anon key does): a refusal is then 401, not 403 (PostgREST's rule).
    pub anonymous: bool,
    /// The verified token's claims (empty without a token); policies read them as `{jwt.*}`.
    pub claims: std::sync::Arc<serde_json::Map<String, serde_json::Value>>,
    /// Who the audit log records as the actor (the header a trusted gateway sets).
    pub actor: Option<String>,
    /// The schema addressed (`Accept-Profile`/`Content-Profile`, else the default).
    pub schema: String,
    /// Which rows of soft-delete tables the request reaches (`Prefer: deleted=`).
    pub deleted: DeletedRows,
    /// `Prefer: delete=hard`.
    pub hard_delete: bool,
    /// What the server allows.
    pub server: ServerRules,
    /// Declared roles, grants and row-level policies (`None`: none declared, nothing checked).
    pub access: Option<std::sync::Arc<crate::AccessRules>>,
    /// The HTTP request as PostgREST hands it to SQL (`request.method`, `request.path`,
    /// `request.headers`); filled where the engine takes it (PostgreSQL, with a role or claims).
    pub request: Option<RequestLine>,
}

/// The HTTP request, for SQL that reads it (PostgREST "Transaction-Scoped Settings").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestLine {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL path, e.g. `/rest/v1/posts`.
    pub path: String,
    /// The headers as a JSON object, names in lower case, `cookie` left out.
    pub headers: String,
}

impl RequestContext {
    /// The access this request is under.
    pub(crate) fn guard(&self) -> crate::access::Guard<'_> {
        crate::access::Guard::new(self.access.as_ref(), self.role.as_deref(), &self.claims)
    }
}

/// The server's own rules, from its configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerRules {
    /// `--allow-hard-delete`: `Prefer: delete=hard` may remove rows of soft-delete tables.
    pub allow_hard_delete: bool,
    /// `--allow-unfiltered-writes`: `PATCH`/`DELETE` without a filter may touch every row.
    pub allow_unfiltered_writes: bool,
}

/// What a request asks of a relation.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// `GET`/`HEAD` (a count with `Prefer: count=`).
    Read(ReadRequest<'a>),
    /// `GET` with `Accept-Datetime`: every row as it was at an instant, from the audit log.
    AsOf {
        /// The table.
        table: &'a str,
        /// The query string (it must be empty: not supported with an instant yet).
        params: &'a QueryParams,
        /// The instant, in seconds since the Unix epoch.
        at_unix_seconds: i64,
    },
    /// `POST`: an insert or an upsert.
    Insert(InsertRequest<'a>),
    /// `PUT`: one row by its whole primary key.
    Put {
        /// The table.
        table: &'a str,
        /// The query string (the key filters, `select`).
        params: &'a QueryParams,
        /// The body.
        payload: &'a Payload,
        /// `Prefer: return=representation`.
        returns_rows: bool,
    },
    /// `PATCH`.
    Update {
        /// The table.
        table: &'a str,
        /// The query string (filters, `select`, `limit`/`order`).
        params: &'a QueryParams,
        /// The body.
        payload: &'a Payload,
    },
    /// `DELETE`.
    Delete {
        /// The table.
        table: &'a str,
        /// The query string.
        params: &'a QueryParams,
    },
}

/// A read of a table as it was at an instant (answered from the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsOfPlan {
    /// The schema.
    pub schema: String,
    /// The audited table.
    pub table: String,
    /// The instant, in seconds since the Unix epoch.
    pub at_unix_seconds: i64,
}

/// What [`plan`] makes of an action.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// A read (one statement).
    Read(ReadPlan),
    /// An as-of read.
    AsOf(AsOfPlan),
    /// A write (one transaction); boxed, being the largest by far.
    Write(Box<WritePlan>),
}

/// Plans `action` for the request `ctx` against `catalog`: the one entry point of the planner.
///
/// Errors: every [`PlanError`]: names that do not resolve, values not of their column's type,
/// and the rules' refusals (`crate::rules`: hard delete, unfiltered writes, views, sizes).
pub fn plan(catalog: &Catalog, ctx: &RequestContext, action: Action<'_>) -> Result<Plan, PlanError> {
    let schema = ctx.schema.as_str();
    let guard = ctx.guard();
    let write = |plan: WritePlan| -> Result<Plan, PlanError> {
        crate::rules::check_filtered(ctx, &plan)?;
        Ok(Plan::Write(Box::new(plan)))
    };
    match action {
        Action::Read(request) => plan_read(catalog, schema, &request, ctx.deleted, guard).map(Plan::Read),
        Action::AsOf { table, params, at_unix_seconds } => {
            if *params != QueryParams::default() {
                return Err(PlanError::AsOf("An as-of read takes no select, filters, order, limit or offset".into()));
            }
            let found = find_table(catalog, schema, table)?;
            if catalog.table(AUDIT_LOG).is_none() || !found.is_audited() {
                return Err(PlanError::AsOf(format!("{table} has no audit trail to read as of a time")));
            }
            crate::rules::check_as_of(guard, found)?;
            Ok(Plan::AsOf(AsOfPlan { schema: schema.to_string(), table: found.name.clone(), at_unix_seconds }))
        }
        Action::Insert(request) => write(plan_insert(catalog, schema, &request, ctx.deleted, guard)?),
        Action::Put { table, params, payload, returns_rows } => {
            write(plan_put(catalog, schema, table, params, payload, ctx.deleted, guard, returns_rows)?)
        }
        Action::Update { table, params, payload } => {
            write(plan_update(catalog, schema, table, params, payload, ctx.deleted, guard)?)
        }
        Action::Delete { table, params } => {
            let found = find_table(catalog, schema, table)?;
            crate::rules::check_hard_delete(ctx, found)?;
            write(plan_delete(catalog, schema, table, params, ctx.hard_delete, ctx.deleted, guard)?)
        }
    }
}
