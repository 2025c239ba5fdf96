//! What a browser page must not do to a Rowbase it can reach: read it from another origin
//! (CORS is granted to configured origins only), write to it from another origin (a form post
//! needs no preflight), or reach a loopback server through a name that resolves to it (DNS
//! rebinding: the `Host` header of such a request is the attacker's name). And the usual
//! security headers on every answer.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};

use crate::error::HttpError;
use crate::state::AppState;

/// Security headers set on every response: no MIME sniffing, no framing, no referrer, and a
/// content policy that lets nothing load (the answers are data, never pages).
/// Names and values are constants: nothing is parsed per response.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")),
];

/// The refusal of a request whose `Host` is not one the server answers for (421 `RB421`), or of
/// a write sent by a page of an origin that is neither the server's own nor configured (403
/// `RB403`); `None` lets it through. Called by the request log's middleware
/// ([`crate::log::log_request`]), which adds the security headers to every answer
/// ([`secured`]): one middleware per request rather than two.
pub(crate) fn refusal(state: &AppState, request: &Request) -> Option<Response> {
    let config = state.config();
    if let Some(allowed) = &config.allowed_hosts {
        let host = request_host_port(request).map(strip_port);
        if !host.is_some_and(|h| allowed.iter().any(|a| a.eq_ignore_ascii_case(h))) {
            let host = host.unwrap_or("(none)").to_string();
            return Some(HttpError::HostNotAllowed(host, allowed.clone()).into_response());
        }
    }
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        if let Some(origin) = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            if !origin_allowed(origin, &config.cors_origins, request_host_port(request)) {
                return Some(HttpError::OriginNotAllowed(origin.to_string()).into_response());
            }
        }
    }
    None
}

/// Adds the security headers.
pub(crate) fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, value);
    }
    response
}

/// Whether a page of `origin` may write: a configured origin (or `*`), or the server's own
/// (the origin's `host[:port]` is the request's).
fn origin_allowed(origin: &str, configured: &[String], host_port: Option<&str>) -> bool {
    if configured.iter().any(|c| c == "*" || c.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    host_port.is_some_and(|h| h.eq_ignore_ascii_case(authority))
}

/// The `Host` header (or the URI's authority, HTTP/2), as sent: `host[:port]`.
fn request_host_port(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
}

/// `host` of `host:port`, `::1` of `[::1]:port`.
fn strip_port(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host_port,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("localhost:3000"), "localhost");
        assert_eq!(strip_port("[::1]:3000"), "::1");
        assert_eq!(strip_port("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn origins() {
        assert!(origin_allowed("http://localhost:3000", &[], Some("localhost:3000")));
        assert!(!origin_allowed("http://evil.example", &[], Some("localhost:3000")));
        assert!(origin_allowed("https://app.example", &["https://app.example".into()], Some("localhost:3000")));
        assert!(origin_allowed("http://evil.example", &["*".into()], Some("localhost:3000")));
    }
}
