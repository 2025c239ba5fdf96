//! One log line per request: method, path (never the query string, which holds values), status
//! and latency, inside a span carrying the request id, so every line the request causes (a
//! database error, a cancelled statement) names it. The id is the client's `X-Request-Id` when
//! it is a sane one, else a new one; it is set on the request (the audit log records it) and on
//! the response.

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tracing::Instrument;

use crate::state::AppState;

/// A request taking this long (1 s) is logged as slow, at `warn`.
const SLOW_MICROS: u128 = 1_000_000;

/// The header that carries the request id, both ways (a constant: never parsed per request).
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The one middleware of every request: gives it its id, lets the guard refuse it
/// ([`crate::guard::refusal`]), runs it, adds the security headers and the id to the answer, and
/// logs it at `info` when it completes (`warn` when slow, and as cancelled when the client went
/// away first).
pub(crate) async fn log_request(state: &AppState, mut request: Request, mut routes: Router) -> Response {
    let id = request_id(request.headers().get(&REQUEST_ID));
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let line = tracing::enabled!(tracing::Level::INFO).then(|| Line {
        start: Instant::now(),
        method: request.method().clone(),
        path: request.uri().path().to_string(),
        done: false,
    });
    let refused = crate::guard::refusal(state, &request);
    let run = async move {
        match refused {
            Some(refused) => refused,
            // The router is always ready and never fails (its error type is `Infallible`).
            None => match tower::Service::call(&mut routes, request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
        }
    };
    let response = match line {
        Some(line) => {
            let span = tracing::info_span!("request", id = %id.to_str().unwrap_or_default());
            logged(line, run).instrument(span).await
        }
        None => run.await,
    };
    let mut response = crate::guard::secured(response);
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// Runs the request and logs its line.
async fn logged(mut line: Line, run: impl Future<Output = Response>) -> Response {
    let response = run.await;
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

/// The client's id when it is sane (1 to 200 visible ASCII characters), else a new one unique
/// to this process (a random per-process prefix and a counter).
fn request_id(sent: Option<&HeaderValue>) -> HeaderValue {
    if let Some(sent) = sent.filter(|v| sane(v.as_bytes())) {
        return sent.clone();
    }
    use std::hash::{BuildHasher, Hasher};
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| std::collections::hash_map::RandomState::new().build_hasher().finish());
    // `{prefix:016x}-{counter:x}`, written by hand: no formatting machinery per request.
    let mut id = [0u8; 33];
    let hex = |n: u64, out: &mut [u8]| {
        for (i, byte) in out.iter_mut().rev().enumerate() {
            *byte = b"0123456789abcdef"[((n >> (4 * i)) & 0xf) as usize];
        }
    };
    hex(prefix, &mut id[..16]);
    id[16] = b'-';
    hex(NEXT.fetch_add(1, Ordering::Relaxed), &mut id[17..]);
    HeaderValue::from_bytes(&id).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// Whether a header value a client sent may be recorded as an id or an actor: 1 to 200
/// visible ASCII characters (nothing that could forge a log line or a column's content).
pub(crate) fn sane(value: &[u8]) -> bool {
    !value.is_empty() && value.len() <= 200 && value.iter().all(u8::is_ascii_graphic)
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
