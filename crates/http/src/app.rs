//! [`App`]: the whole application as one service, the form hyper serves.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::Request;
use axum::response::Response;

use crate::state::AppState;

/// The routes with the one piece every request passes through ([`crate::log::log_request`]:
/// request id, guard, security headers, log line) around them, as a `tower::Service` of its
/// own rather than a layer: axum's `from_fn` middleware clones the inner service and boxes a
/// future or two per request (3.1k instructions per request, measured with callgrind), where
/// this boxes one. Cloning it clones two reference-counted handles.
#[derive(Clone)]
pub struct App {
    pub(crate) routes: Router,
    pub(crate) state: AppState,
    /// The connection's client, for the users' routes (sign-in throttling counts by address).
    pub(crate) peer: Option<std::net::SocketAddr>,
}

/// The client address of a request to `/auth/v1` (the TCP peer; a proxy in front is that
/// proxy).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);

impl App {
    /// This application for one connection from `peer`.
    pub fn for_peer(&self, peer: std::net::SocketAddr) -> App {
        App { peer: Some(peer), ..self.clone() }
    }
}

impl<B> tower::Service<Request<B>> for App
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut request = request.map(Body::new);
        if let Some(peer) = self.peer.filter(|_| request.uri().path().starts_with("/auth/v1/")) {
            request.extensions_mut().insert(ClientAddress(peer.ip()));
        }
        let App { routes, state, .. } = self.clone();
        Box::pin(async move { Ok(crate::log::log_request(&state, request, routes).await) })
    }
}
