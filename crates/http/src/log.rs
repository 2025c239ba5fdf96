//! One log line per request: method, path (never the query string, which holds values), status
//! and latency.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// A request taking this long (1 s) is logged as slow, at `warn`.
const SLOW_MICROS: u128 = 1_000_000;

/// Logs each request at `info` when it completes (`warn` when slow).
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.run(request).await;
    }
    let mut line = Line {
        start: Instant::now(),
        method: request.method().clone(),
        path: request.uri().path().to_string(),
        done: false,
    };
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let micros = line.start.elapsed().as_micros();
    let (method, path) = (&line.method, &line.path);
    if micros >= SLOW_MICROS {
        tracing::warn!(
            %method, %path, status, micros,
            "slow request: a foreign key without an index (see the start-up warnings) is the usual cause"
        );
    } else {
        tracing::info!(%method, %path, status, micros, "request");
    }
    line.done = true;
    response
}

/// A request in flight: dropped before it is `done`, the client went away (the server dropped
/// the request's future, and with it any statement it ran), and the request is logged as
/// cancelled rather than not at all.
struct Line {
    start: Instant,
    method: axum::http::Method,
    path: String,
    done: bool,
}

impl Drop for Line {
    fn drop(&mut self) {
        if !self.done {
            let micros = self.start.elapsed().as_micros();
            let (method, path) = (&self.method, &self.path);
            tracing::info!(%method, %path, micros, "request cancelled: the client went away");
        }
    }
}
