//! The PostgREST-compatible HTTP API.
//!
//! One request, walked through the real functions (docs/architecture.md tells it in full):
//! 1. `log::log_request` gives the request its id and span; `guard::refusal` checks its `Host`
//!    and `Origin`; CORS applies; [`router`]'s named routes (`dispatch::routes`: `/`,
//!    `/{relation}`, `/rpc/{function}`, the same under `/rest/v1`) pick the handler by method;
//! 2. `read::read_rows` parses the query string and headers with `rowbase_request`
//!    (`parse_query`, `Preferences::parse`, `parse_range`, `negotiate`), builds the request
//!    context (`context::request_context`), computes the row window, plans with
//!    `rowbase_plan::plan` against the catalog, and hands the plan to the read door,
//!    `rowbase_db::Database::read`, which renders and runs it;
//! 3. the JSON built by the database is passed through (or turned into CSV / a single object),
//!    with `Content-Range` and the PostgREST status;
//! 4. writes go through `write::write_rows`: the body is parsed (`rowbase_request::body`),
//!    planned by the same `plan` and run through the write door, `rowbase_db::Database::write`,
//!    as one transaction;
//! 5. any error of any layer becomes one [`error::ApiError`], whose status and code table is the
//!    only place HTTP meets the lower layers' errors.

mod app;
pub mod auth;
mod context;
mod csv_body;
mod dispatch;
pub mod error;
mod guard;
mod history;
mod log;
mod names;
mod openapi;
mod read;
mod state;
mod users;
mod write;

pub use app::{App, ClientAddress};
pub use state::{AppState, HttpConfig};

use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};

/// The headers browsers may read from responses (PostgREST's list; Content-Range carries counts).
const EXPOSED_HEADERS: [&str; 9] = [
    "content-encoding",
    "content-location",
    "content-range",
    "content-type",
    "date",
    "location",
    "server",
    "transfer-encoding",
    "range-unit",
];

/// The whole application: every route, CORS for the configured origins, the host and origin
/// guard with security headers, and one log line per request.
pub fn router(state: AppState) -> App {
    let origins = &state.config().cors_origins;
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| axum::http::HeaderValue::from_str(o).ok()))
    };
    let cors = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(EXPOSED_HEADERS.map(axum::http::HeaderName::from_static))
        .max_age(std::time::Duration::from_secs(86_400));
    let routes = dispatch::routes(state.clone());
    // Without a configured origin there is no CORS grant to make: no layer (browsers get no
    // Access-Control-Allow-Origin, so they read nothing across origins), and no cost per request.
    let routes = if origins.is_empty() {
        routes
    } else {
        routes.layer(axum::middleware::from_fn(move |request, next| {
            dispatch::cors_but_plain_options(cors.clone(), request, next)
        }))
    };
    App { routes, state, peer: None }
}
