//! A table read "as of" an instant: `GET /table` with `Accept-Datetime` (RFC 7089, "Memento"),
//! answered from the audit log (docs/schema.md, "Audit"): each row as it was last written at or
//! before that instant, deleted rows left out. The answer carries `Memento-Datetime`.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rowbase_plan::{Action, Plan, RequestContext, plan};
use rowbase_request::QueryParams;

use crate::error::{ApiError, HttpError};
use crate::read::catalog;
use crate::state::AppState;

/// Answers an as-of read of `table` at `instant` (an HTTP-date, as `Accept-Datetime` takes),
/// planned as any read is (`rowbase_plan::plan`, `Action::AsOf`).
///
/// Errors: 400 `22007` for a date that is not an HTTP-date; 400 `22023` for a table without an
/// audit trail, or a request with `select`, filters, order or a window (not supported here yet).
pub(crate) async fn as_of(
    state: &AppState,
    ctx: &RequestContext,
    table: &str,
    params: &QueryParams,
    instant: &str,
) -> Result<Response, ApiError> {
    let at = httpdate::parse_http_date(instant).map_err(|_| HttpError::NotAnHttpDate(instant.to_string()))?;
    let at_unix_seconds =
        at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let catalog = catalog(state, &ctx.schema)?;
    let Plan::AsOf(plan) = plan(&catalog, ctx, Action::AsOf { table, params, at_unix_seconds })? else {
        unreachable!("an as-of action plans an as-of read")
    };
    let output = state.db().read_as_of(&plan, &crate::context::transaction_settings(ctx, false)).await?;
    let mut response = Body::from(output.body).into_response();
    *response.status_mut() = StatusCode::OK;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(at)) {
        h.insert("memento-datetime", v);
    }
    Ok(response)
}
