//! Routing: PostgREST's flat paths (`/`, `/{relation}`, `/rpc/{function}`) as named routes,
//! also under `/rest/v1` (the prefix supabase-js uses), by method.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tower::ServiceExt;

use crate::error::{ApiError, HttpError};
use crate::read::read_rows;
use crate::write::write_rows;

/// The methods a table answers.
const TABLE_METHODS: &str = "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE";

/// Reads a whole body, refusing one larger than `limit` bytes with 413.
///
/// Errors: 413 `54000` past `limit`; 408 `PGRST102` when the body takes longer than `time` to
/// arrive; 400 `PGRST102` when it is not well-formed HTTP (a malformed chunk size).
pub(crate) async fn read_body(
    body: axum::body::Body,
    limit: usize,
    time: std::time::Duration,
) -> Result<axum::body::Bytes, ApiError> {
    let read = tokio::time::timeout(time, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| HttpError::BodyTimeout(time.as_secs_f64()))?;
    read.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.downcast_ref::<http_body_util::LengthLimitError>().is_some());
        if too_large { HttpError::BodyTooLarge(limit).into() } else { HttpError::BodyUnreadable(e.to_string()).into() }
    })
}
use crate::state::AppState;

/// The routes: `/`, `/{relation}` and `/rpc/{function}`, the same under `/rest/v1` (where
/// supabase-js looks), each with or without a trailing slash, and users and sessions under
/// `/auth/v1` ([`crate::users`]). Room is left beside them for `/metrics`, `/realtime/v1` and an
/// admin page. Any other path is `PGRST125`.
pub(crate) fn routes(state: AppState) -> Router {
    let mut router = Router::new();
    for prefix in ["", "/rest/v1"] {
        for slash in ["", "/"] {
            router = router
                .route(&format!("{prefix}/{{relation}}{slash}"), any(relation))
                .route(&format!("{prefix}/rpc/{{function}}{slash}"), any(function));
        }
    }
    router
        .merge(crate::users::routes())
        .route("/", any(root_route))
        .route("/rest/v1", any(root_route))
        .route("/rest/v1/", any(root_route))
        .fallback(|| async { not_found_path().into_response() })
        .with_state(state)
}

/// CORS for every request but a plain `OPTIONS` (one without `Access-Control-Request-Method`),
/// which goes to its route (and its `Allow` header): the CORS layer would take every `OPTIONS`
/// for a preflight.
pub(crate) async fn cors_but_plain_options(
    cors: tower_http::cors::CorsLayer,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let preflight = request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if request.method() == Method::OPTIONS && !preflight {
        return next.run(request).await;
    }
    match tower::Layer::layer(&cors, next).oneshot(request).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    }
}

fn not_found_path() -> ApiError {
    HttpError::PathNotFound.into()
}

/// `/`: the OpenAPI document.
async fn root_route(State(state): State<AppState>, method: Method, headers: HeaderMap) -> Response {
    root(&state, &method, &headers).await.unwrap_or_else(IntoResponse::into_response)
}

/// `/rpc/{function}`: not served yet.
async fn function(path: Result<Path<String>, PathRejection>) -> Response {
    let name = match path {
        Ok(Path(name)) => name,
        Err(_) => return invalid_path().into_response(),
    };
    HttpError::FunctionNotFound(name).into_response()
}

/// `/{relation}`: reads and writes of a table or view, by method.
///
/// The request is taken whole and read in place: the method, URI and header extractors would
/// each copy their part (the headers a map of their own) on every request.
async fn relation(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    request: axum::extract::Request,
) -> Response {
    let table = match path {
        Ok(Path(table)) => table,
        Err(_) => return invalid_path().into_response(),
    };
    let (parts, body) = request.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let query = uri.query().unwrap_or("");
    let answer = match method {
        Method::GET | Method::HEAD => read_rows(&state, (&method, uri.path()), &table, query, &headers).await,
        Method::OPTIONS => Ok(allow(TABLE_METHODS)),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE => {
            match read_body(body, state.config().max_body_bytes, state.config().body_timeout).await {
                Ok(body) => write_rows(&state, (&method, uri.path()), &table, query, &headers, &body).await,
                Err(e) => Err(e),
            }
        }
        _ => Err(HttpError::MethodNotAllowed(method.to_string(), Some(TABLE_METHODS)).into()),
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

/// A path segment that is not valid percent-encoded UTF-8.
fn invalid_path() -> ApiError {
    HttpError::PathNotUtf8.into()
}

async fn root(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<Response, ApiError> {
    match *method {
        Method::GET | Method::HEAD => {
            let prefs = rowbase_request::headers::Preferences::default();
            let ctx =
                crate::context::request_context(state, headers, (method, "/"), crate::names::ACCEPT_PROFILE, &prefs)
                    .await?;
            let document = match (&ctx.access, &ctx.role) {
                // Only what the role may use (its grants), described for it.
                (Some(access), Some(role)) => match state.catalog(&ctx.schema) {
                    Some(catalog) => crate::openapi::document(&access.catalog_for(&catalog, role), state.db().engine()),
                    None => "{}".to_string(),
                },
                _ => state.openapi(&ctx.schema).map_or_else(|| "{}".to_string(), |d| d.to_string()),
            };
            let mut response = document.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/openapi+json; charset=utf-8"));
            Ok(response)
        }
        Method::OPTIONS => Ok(allow("OPTIONS,GET,HEAD")),
        _ => Err(HttpError::MethodNotAllowed(method.to_string(), None).into()),
    }
}

fn allow(methods: &'static str) -> Response {
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(methods));
    response
}
