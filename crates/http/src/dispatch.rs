//! Routing: PostgREST's flat paths (`/`, `/{relation}`, `/rpc/{function}`), also under
//! `/rest/v1` (the prefix supabase-js uses), by method.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use crate::error::ApiError;
use crate::read::read_rows;
use crate::write::write_rows;

/// The methods a table answers.
const TABLE_METHODS: &str = "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE";

/// Reads a whole body, refusing one larger than `limit` bytes with 413.
///
/// Errors: 413 `54000` past `limit`; 408 `PGRST102` when the body takes longer than `time` to
/// arrive; 400 `PGRST102` when it is not well-formed HTTP (a malformed chunk size).
async fn read_body(
    body: axum::body::Body,
    limit: usize,
    time: std::time::Duration,
) -> Result<axum::body::Bytes, ApiError> {
    let read = tokio::time::timeout(time, axum::body::to_bytes(body, limit)).await.map_err(|_| {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "PGRST102",
            format!("The request body did not arrive within {} s", time.as_secs_f64()),
            None,
            Some("Send the body at once, or raise --body-timeout".into()),
        )
    })?;
    read.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.downcast_ref::<http_body_util::LengthLimitError>().is_some());
        if too_large {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "54000",
                format!("The request body is larger than the limit of {limit} bytes"),
                None,
                Some("Send fewer rows per request, or raise --max-body-bytes".into()),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST102",
                "The request body could not be read",
                Some(e.to_string()),
                None,
            )
        }
    })
}
use crate::state::AppState;

/// Answers a plain `OPTIONS` (one without `Access-Control-Request-Method`) with `Allow`, before
/// the CORS layer, which would take every `OPTIONS` for a preflight.
pub(crate) async fn options_without_preflight(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let preflight = request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if request.method() != Method::OPTIONS || preflight {
        return next.run(request).await;
    }
    match resource(request.uri().path()) {
        Resource::Root => allow("OPTIONS,GET,HEAD"),
        Resource::Table(_) => allow(TABLE_METHODS),
        Resource::Function(_) | Resource::Invalid => not_found_path().into_response(),
    }
}

/// What a path names.
enum Resource<'p> {
    Root,
    Table(&'p str),
    Function(&'p str),
    Invalid,
}

/// Splits a path, with or without the `/rest/v1` prefix.
fn resource(full: &str) -> Resource<'_> {
    let path = match full.strip_prefix("/rest/v1") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => full,
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => Resource::Root,
        ["rpc", name] => Resource::Function(name),
        [table] => Resource::Table(table),
        _ => Resource::Invalid,
    }
}

fn not_found_path() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "PGRST125", "Invalid path specified in request URL", None, None)
}

/// Routes every request.
pub(crate) async fn dispatch(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    match route(&state, &parts.method, &parts.uri, &parts.headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn route(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    match resource(uri.path()) {
        Resource::Root => root(state, method, headers),
        Resource::Function(name) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "PGRST202",
            format!("Could not find the function public.{} in the schema cache", decode(name)?),
            None,
            Some("Functions are not served on this engine yet".into()),
        )),
        Resource::Table(table) => {
            let table = decode(table)?;
            match *method {
                Method::GET | Method::HEAD => {
                    read_rows(state, method, &table, uri.query().unwrap_or(""), headers).await
                }
                Method::OPTIONS => Ok(allow(TABLE_METHODS)),
                Method::POST | Method::PUT | Method::PATCH | Method::DELETE => {
                    let body = read_body(body, state.config().max_body_bytes, state.config().body_timeout).await?;
                    write_rows(state, method, &table, uri.query().unwrap_or(""), headers, &body).await
                }
                _ => Err(ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "PGRST117",
                    format!("Unsupported HTTP method: {method}"),
                    None,
                    None,
                )
                .with_header(header::ALLOW, TABLE_METHODS.into())),
            }
        }
        Resource::Invalid => Err(not_found_path()),
    }
}

fn root(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<Response, ApiError> {
    match *method {
        Method::GET | Method::HEAD => {
            let schema = crate::read::profile(state, headers, "accept-profile")?;
            let document = state.openapi(&schema).map_or_else(|| "{}".to_string(), |d| d.to_string());
            let mut response = document.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/openapi+json; charset=utf-8"));
            Ok(response)
        }
        Method::OPTIONS => Ok(allow("OPTIONS,GET,HEAD")),
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "PGRST117",
            format!("Unsupported HTTP method: {method}"),
            None,
            None,
        )),
    }
}

fn allow(methods: &'static str) -> Response {
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(methods));
    response
}

fn decode(segment: &str) -> Result<String, ApiError> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "PGRST100", "the URL path is not valid UTF-8", None, None))
}
