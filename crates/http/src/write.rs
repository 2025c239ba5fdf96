//! `POST`, `PUT`, `PATCH` and `DELETE /{table}`: writes in the PostgREST dialect (PostgREST
//! "Insertions", "Upsert", "PUT", "Update", "Delete", "Preferences").
//! Every request is one transaction, run by the database's writer.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rowbase_db::{Returning, WriteJob, WriteOutput, WriteStep};
use rowbase_plan::{
    Action, ConflictAction, InsertRequest, Mutation, OnDuplicate, Plan, RowKey, Value, WritePlan, plan,
};
use rowbase_request::body::{Payload, body_format, parse_body_limited};
use rowbase_request::headers::{MediaType, Missing, Preferences, Resolution, ReturnPreference, TxEnd};
use rowbase_request::{QueryParams, parse_query};

use crate::error::ApiError;
use crate::read::{catalog, header_str, media_type, preferences};
use crate::state::AppState;

/// Everything but RFC 3986's unreserved characters is percent-encoded in a `Location`.
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Runs one write.
pub(crate) async fn write_rows(
    state: &AppState,
    (method, path): (&Method, &str),
    table: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let params = parse_query(raw_query)?;
    let prefs = preferences(headers)?;
    let ctx =
        crate::context::request_context(state, headers, (method, path), crate::names::CONTENT_PROFILE, &prefs).await?;
    write_as(state, method, table, &params, headers, body, &prefs, &ctx).await.map_err(|e| e.for_role(&ctx))
}

/// A write for the request `ctx`.
#[allow(clippy::too_many_arguments)]
async fn write_as(
    state: &AppState,
    method: &Method,
    table: &str,
    params: &QueryParams,
    headers: &HeaderMap,
    body: &[u8],
    prefs: &Preferences,
    ctx: &rowbase_plan::RequestContext,
) -> Result<Response, ApiError> {
    let media = media_type(headers, &[MediaType::Json, MediaType::SingleObject])?;
    let catalog = catalog(state, &ctx.schema)?;
    let max_rows = state.config().max_write_rows;
    let payload = match *method {
        Method::DELETE => None,
        _ => Some(payload(headers, body, params, max_rows)?),
    };
    let returns_rows = prefs.return_ == Some(ReturnPreference::Representation);
    let action = match (method, payload.as_ref()) {
        (&Method::POST, Some(payload)) => Action::Insert(InsertRequest {
            table,
            params,
            payload,
            on_duplicate: match prefs.resolution {
                Some(Resolution::MergeDuplicates) => OnDuplicate::Merge,
                Some(Resolution::IgnoreDuplicates) => OnDuplicate::Ignore,
                None => OnDuplicate::Error,
            },
            missing_default: prefs.missing == Some(Missing::Default),
            returns_rows,
        }),
        (&Method::PUT, Some(payload)) => Action::Put { table, params, payload, returns_rows },
        (&Method::PATCH, Some(payload)) => Action::Update { table, params, payload },
        _ => Action::Delete { table, params },
    };
    let Plan::Write(plan) = plan(&catalog, ctx, action)? else { unreachable!("a write action plans a write") };
    let returning = match prefs.return_ {
        Some(ReturnPreference::Representation) => Returning::Representation,
        Some(ReturnPreference::HeadersOnly) => Returning::Keys,
        _ => Returning::Nothing,
    };
    let strict = prefs.strict == Some(true);
    let step = WriteStep {
        plan: (*plan).clone(),
        returning,
        max_affected: if strict { prefs.max_affected } else { None },
        exactly_one: media == MediaType::SingleObject,
        links: Vec::new(),
    };
    // The audit triggers are there when their log is.
    let audited = catalog.table(rowbase_catalog::AUDIT_LOG).is_some();
    let settings = crate::context::transaction_settings(ctx, audited);
    let job = WriteJob::single(step, prefs.tx == Some(TxEnd::Rollback), settings);
    let out = state.db().write(job).await?.pop().unwrap_or_default();
    Ok(respond(method, table, &plan, prefs, media, returning, &out))
}

fn payload(headers: &HeaderMap, body: &[u8], params: &QueryParams, max_rows: usize) -> Result<Payload, ApiError> {
    let format = body_format(header_str(headers, header::CONTENT_TYPE))?;
    Ok(parse_body_limited(format, body, params.columns.as_deref(), max_rows)?)
}

/// Status, headers and body of a write (PostgREST API reference: the status of each operation).
fn respond(
    method: &Method,
    table: &str,
    plan: &WritePlan,
    prefs: &Preferences,
    media: MediaType,
    returning: Returning,
    out: &WriteOutput,
) -> Response {
    let upsert = matches!(&plan.mutation, Mutation::Insert(i) if i.conflict.is_some());
    let merge = matches!(&plan.mutation, Mutation::Insert(i) if matches!(i.conflict.as_ref().map(|c| &c.action), Some(ConflictAction::Update(_))));
    let representation = returning == Returning::Representation;
    let status = match *method {
        Method::POST if merge && out.inserted == 0 && out.affected > 0 => StatusCode::OK,
        Method::POST => StatusCode::CREATED,
        Method::PUT if representation && out.inserted > 0 => StatusCode::CREATED,
        _ if representation => StatusCode::OK,
        _ => StatusCode::NO_CONTENT,
    };
    let body = match (&out.body, media) {
        (Some(body), MediaType::SingleObject) if body.len() >= 2 => Some(body[1..body.len() - 1].to_string()),
        (Some(body), _) => Some(body.clone()),
        (None, _) => None,
    };
    let mut response = match &body {
        Some(body) => Body::from(body.clone()).into_response(),
        None => Body::empty().into_response(),
    };
    *response.status_mut() = status;
    let h = response.headers_mut();
    if body.is_some() {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    }
    let total = prefs.count.map_or("*".to_string(), |_| out.affected.to_string());
    let range = match *method {
        Method::PATCH if out.affected > 0 => format!("0-{}/{total}", out.affected - 1),
        _ => format!("*/{total}"),
    };
    if let Ok(v) = HeaderValue::from_str(&range) {
        h.insert(header::CONTENT_RANGE, v);
    }
    if returning == Returning::Keys && *method == Method::POST {
        if let Some(location) = location(table, &plan.key, &out.keys) {
            if let Ok(v) = HeaderValue::from_str(&location) {
                h.insert(header::LOCATION, v);
            }
        }
    }
    let applied = applied(method, prefs, upsert);
    if !applied.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&applied.join(", ")) {
            h.insert("preference-applied", v);
        }
    }
    response
}

/// `/table?pk=eq.v` for a single inserted row of a table with a primary key.
fn location(table: &str, key: &RowKey, keys: &[Vec<Value>]) -> Option<String> {
    let (RowKey::Columns(columns), [row]) = (key, keys) else { return None };
    let filters: Vec<String> = columns
        .iter()
        .zip(row)
        .map(|((name, _), value)| {
            let text = value.to_string();
            let op = if *value == Value::Null { "is" } else { "eq" };
            format!("{}={op}.{}", utf8_percent_encode(name, URL_ENCODE), utf8_percent_encode(&text, URL_ENCODE))
        })
        .collect();
    Some(format!("/{}?{}", utf8_percent_encode(table, URL_ENCODE), filters.join("&")))
}

/// `Preference-Applied`: the preferences honoured, in PostgREST's order.
fn applied(method: &Method, prefs: &Preferences, upsert: bool) -> Vec<String> {
    let mut out = Vec::new();
    match prefs.resolution {
        Some(Resolution::MergeDuplicates) if upsert => out.push("resolution=merge-duplicates".to_string()),
        Some(Resolution::IgnoreDuplicates) if upsert => out.push("resolution=ignore-duplicates".to_string()),
        _ => {}
    }
    if matches!(*method, Method::POST | Method::PATCH) {
        match prefs.missing {
            Some(Missing::Default) => out.push("missing=default".into()),
            Some(Missing::Null) => out.push("missing=null".into()),
            None => {}
        }
    }
    match prefs.return_ {
        Some(ReturnPreference::Representation) => out.push("return=representation".into()),
        Some(ReturnPreference::HeadersOnly) => out.push("return=headers-only".into()),
        Some(ReturnPreference::Minimal) => out.push("return=minimal".into()),
        None => {}
    }
    if let Some(count) = prefs.count {
        out.push(
            match count {
                rowbase_request::headers::CountPreference::Exact => "count=exact",
                rowbase_request::headers::CountPreference::Planned => "count=planned",
                rowbase_request::headers::CountPreference::Estimated => "count=estimated",
            }
            .into(),
        );
    }
    match prefs.tx {
        Some(TxEnd::Rollback) => out.push("tx=rollback".into()),
        Some(TxEnd::Commit) => out.push("tx=commit".into()),
        None => {}
    }
    match prefs.strict {
        Some(true) => out.push("handling=strict".into()),
        Some(false) => out.push("handling=lenient".into()),
        None => {}
    }
    if let (Some(true), Some(max)) = (prefs.strict, prefs.max_affected) {
        out.push(format!("max-affected={max}"));
    }
    out
}
