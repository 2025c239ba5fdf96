//! `GET`/`HEAD /{table}`: a read in the PostgREST dialect (PostgREST "Tables and Views",
//! "Pagination and Count", "Response Formats").

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rowbase_plan::{Action, Plan, ReadRequest, Window, plan};
use rowbase_request::headers::{MediaType, Preferences, RangeHeader, negotiate, parse_range};
use rowbase_request::{QueryParams, parse_query};

use crate::csv_body::json_array_to_csv;
use crate::error::{ApiError, HttpError};
use crate::state::AppState;

/// Reads rows of `table`.
pub(crate) async fn read_rows(
    state: &AppState,
    (method, path): (&Method, &str),
    table: &str,
    raw_query: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let params = parse_query(raw_query)?;
    let preferences = preferences(headers)?;
    let ctx =
        crate::context::request_context(state, headers, (method, path), crate::names::ACCEPT_PROFILE, &preferences)
            .await?;
    read_as(state, method, table, &params, headers, &preferences, &ctx).await.map_err(|e| e.for_role(&ctx))
}

/// A read for the request `ctx`.
async fn read_as(
    state: &AppState,
    method: &Method,
    table: &str,
    params: &QueryParams,
    headers: &HeaderMap,
    preferences: &Preferences,
    ctx: &rowbase_plan::RequestContext,
) -> Result<Response, ApiError> {
    if let Some(instant) = headers.get(crate::names::ACCEPT_DATETIME).and_then(|v| v.to_str().ok()) {
        return crate::history::as_of(state, ctx, table, params, instant).await;
    }
    let media = media_type(headers, &[MediaType::Json, MediaType::SingleObject, MediaType::Csv])?;
    // PostgREST reads the Range header on GET only.
    let range = match *method {
        Method::GET => header_str(headers, header::RANGE).map(parse_range).transpose()?.flatten(),
        _ => None,
    };
    let mut window = window(params, range)?;
    // PostgREST's db-max-rows: the root returns at most this many rows, whatever was asked.
    if let Some(max) = state.config().max_rows {
        window.limit = Some(window.limit.map_or(max, |l| l.min(max)));
    }
    let request = ReadRequest { table, params, window, count: preferences.count.is_some() };
    let catalog = catalog(state, &ctx.schema)?;
    let Plan::Read(plan) = plan(&catalog, ctx, Action::Read(request))? else {
        unreachable!("a read action plans a read")
    };
    let output = state.db().read(&plan, &crate::context::transaction_settings(ctx, false)).await?;

    let (status, content_range) = range_status(window.offset, output.page_rows, output.total)?;
    let body = match media {
        MediaType::SingleObject => {
            if output.page_rows != 1 {
                return Err(HttpError::NotSingular(output.page_rows).into());
            }
            output.body[1..output.body.len() - 1].to_string()
        }
        MediaType::Csv => json_array_to_csv(&output.body)?,
        MediaType::Json | MediaType::OpenApi => output.body,
    };
    let mut response = if *method == Method::HEAD { Body::empty() } else { Body::from(body) }.into_response();
    *response.status_mut() = status;
    let h = response.headers_mut();
    // Room for every header this answer will carry (these, the security headers, the request
    // id, the length, the date) at once, rather than growing the map three times.
    h.reserve(12);
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    if let Ok(v) = HeaderValue::from_str(&content_range) {
        h.insert(header::CONTENT_RANGE, v);
    }
    if preferences.count.is_some() {
        h.insert("preference-applied", HeaderValue::from_static(count_applied(preferences.count)));
    }
    Ok(response)
}

/// The response format the `Accept` header chooses among `offered`, or 406 (`PGRST107`).
pub(crate) fn media_type(headers: &HeaderMap, offered: &[MediaType]) -> Result<MediaType, ApiError> {
    negotiate(header_str(headers, header::ACCEPT), offered).map_err(|asked| HttpError::NotAcceptable(asked).into())
}

/// Every `Prefer` header, merged. With `handling=strict`, a preference that was not understood is
/// a 400 (`PGRST122`) instead of being ignored.
pub(crate) fn preferences(headers: &HeaderMap) -> Result<Preferences, ApiError> {
    let preferences = Preferences::parse(headers.get_all(crate::names::PREFER).iter().filter_map(|v| v.to_str().ok()));
    if preferences.strict == Some(true) && !preferences.invalid.is_empty() {
        return Err(HttpError::InvalidPreferences(preferences.invalid).into());
    }
    Ok(preferences)
}

pub(crate) fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn count_applied(count: Option<rowbase_request::headers::CountPreference>) -> &'static str {
    use rowbase_request::headers::CountPreference;
    match count {
        Some(CountPreference::Planned) => "count=planned",
        Some(CountPreference::Estimated) => "count=estimated",
        _ => "count=exact",
    }
}

/// The schema a request works in (PostgREST "Schemas"): the `Accept-Profile` (reads) or
/// `Content-Profile` (writes) header when given, else the first exposed schema. A schema that
/// is not exposed is a 406 (`PGRST106`).
pub(crate) fn profile(state: &AppState, headers: &HeaderMap, name: header::HeaderName) -> Result<String, ApiError> {
    let current = state.current();
    let mut schemas = current.iter().map(|(name, _, _)| name.as_str());
    let default = schemas.clone().next().unwrap_or("public");
    let asked = match headers.get(name).map(|v| v.to_str().unwrap_or("").trim()) {
        None | Some("") => return Ok(default.to_string()),
        Some(p) => p,
    };
    if schemas.any(|s| s == asked) {
        return Ok(asked.to_string());
    }
    Err(HttpError::InvalidSchema(asked.to_string(), current.iter().map(|(name, _, _)| name.clone()).collect()).into())
}

/// The catalog of a schema `profile` accepted.
pub(crate) fn catalog(state: &AppState, schema: &str) -> Result<std::sync::Arc<rowbase_catalog::Catalog>, ApiError> {
    state.catalog(schema).ok_or_else(|| HttpError::InvalidSchema(schema.to_string(), Vec::new()).into())
}

/// The root's window: the intersection of `offset`/`limit` with the `Range` header
/// (PostgREST's `rangeIntersection`). A negative `limit` is a 416 (`PGRST103`).
fn window(params: &QueryParams, range: Option<RangeHeader>) -> Result<Window, ApiError> {
    let limit = params.root_limit();
    let offset = params.root_offset().unwrap_or(0);
    if let Some(l) = limit {
        if l < 0 {
            return Err(HttpError::NegativeLimit(l).into());
        }
    }
    // Exclusive ends; None is unbounded.
    let mut start = offset;
    let mut end = limit.map(|l| offset.saturating_add(l.unsigned_abs()));
    if let Some(r) = range {
        start = start.max(r.first);
        let range_end = r.last.map(|l| l.saturating_add(1));
        end = match (end, range_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(Window { offset: start, limit: end.map(|e| e.saturating_sub(start)) })
}

/// The status and `Content-Range` of a read (PostgREST `RangeQuery.rangeStatusHeader`):
/// 416 when the offset is past a known total, 206 when fewer rows than the total came back.
fn range_status(offset: u64, rows: u64, total: Option<u64>) -> Result<(StatusCode, String), ApiError> {
    // Written with `itoa`, not the formatting machinery: this runs for every read.
    let mut digits = itoa::Buffer::new();
    let mut content_range = String::with_capacity(48);
    if rows > 0 && total != Some(0) {
        content_range.push_str(digits.format(offset));
        content_range.push('-');
        content_range.push_str(digits.format(offset + rows - 1));
    } else {
        content_range.push('*');
    }
    content_range.push('/');
    match total {
        Some(t) => content_range.push_str(digits.format(t)),
        None => content_range.push('*'),
    }
    let status = match total {
        Some(t) if offset > t => {
            return Err(HttpError::OffsetPastEnd(offset, t).into());
        }
        Some(t) if rows < t => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    Ok((status, content_range))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rowbase_request::Scoped;

    fn params(limit: Option<i64>, offset: Option<u64>) -> QueryParams {
        QueryParams {
            limit: limit.map(|v| Scoped { path: vec![], value: v }).into_iter().collect(),
            offset: offset.map(|v| Scoped { path: vec![], value: v }).into_iter().collect(),
            ..QueryParams::default()
        }
    }

    #[test]
    fn limit_and_offset_make_the_window() {
        let w = window(&params(Some(3), Some(2)), None).ok();
        assert_eq!(w, Some(Window { offset: 2, limit: Some(3) }));
        assert_eq!(window(&params(Some(0), None), None).ok(), Some(Window { offset: 0, limit: Some(0) }));
        assert!(window(&params(Some(-1), None), None).is_err());
    }

    #[test]
    fn the_range_header_intersects_the_query() {
        let r = Some(RangeHeader { first: 5, last: Some(9) });
        assert_eq!(window(&params(None, None), r).ok(), Some(Window { offset: 5, limit: Some(5) }));
        assert_eq!(window(&params(Some(3), Some(0)), r).ok(), Some(Window { offset: 5, limit: Some(0) }));
        assert_eq!(window(&params(Some(10), Some(7)), r).ok(), Some(Window { offset: 7, limit: Some(3) }));
        let open = Some(RangeHeader { first: 2, last: None });
        assert_eq!(window(&params(Some(4), None), open).ok(), Some(Window { offset: 2, limit: Some(2) }));
    }

    #[test]
    fn statuses_follow_postgrest() {
        assert_eq!(range_status(0, 3, None).ok(), Some((StatusCode::OK, "0-2/*".into())));
        assert_eq!(range_status(0, 0, None).ok(), Some((StatusCode::OK, "*/*".into())));
        assert_eq!(range_status(0, 25, Some(100)).ok(), Some((StatusCode::PARTIAL_CONTENT, "0-24/100".into())));
        assert_eq!(range_status(0, 0, Some(0)).ok(), Some((StatusCode::OK, "*/0".into())));
        assert!(range_status(100, 0, Some(15)).is_err());
        assert_eq!(range_status(15, 0, Some(15)).ok(), Some((StatusCode::PARTIAL_CONTENT, "*/15".into())));
    }
}
