//! The accept loop: HTTP/1.1 connections served by hyper with the bounds a server facing
//! untrusted clients needs, which `axum::serve` does not set: a cap on open connections (the
//! excess is closed at once, so file descriptors are never exhausted), and a time limit on
//! reading a request's headers that also ends idle keep-alive connections (hyper starts the
//! timer whenever it waits for a request head). Bodies are bounded in time by the HTTP layer.
//! Measured before: 19,985 half-open connections took every file descriptor and a normal `GET`
//! got no answer for 20 s.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Bounds on client connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// At most this many connections are open at once; one more is closed as soon as it is
    /// accepted. Default 4,096.
    pub max_connections: usize,
    /// The longest a client may take to send a request's headers, and the longest a keep-alive
    /// connection may sit idle between requests. Default 10 s.
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits { max_connections: 4096, header_timeout: Duration::from_secs(10) }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, asks every
/// connection to finish its request in flight and close, and returns once all have (the caller
/// bounds that wait).
pub(crate) async fn serve(
    listener: TcpListener,
    app: rowbase_http::App,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closed) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused_since_log = 0u64;
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            refused_since_log += 1;
            if refused_since_log == 1 || refused_since_log.is_power_of_two() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    refused = refused_since_log,
                    "connection limit reached: closing new connections"
                );
            }
            continue;
        };
        refused_since_log = 0;
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.for_peer(peer));
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let stopping = async move {
                let _ = closed.wait_for(|c| *c).await;
            };
            tokio::select! {
                result = connection.as_mut() => log_end(result),
                () = stopping => {
                    connection.as_mut().graceful_shutdown();
                    log_end(connection.await);
                }
            }
            drop(slot);
        });
    }
    let _ = closing.send(true);
    // Every slot back means every connection ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// A connection's end: a client that went away or timed out is routine.
fn log_end(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        if e.is_timeout() {
            tracing::debug!("connection closed: no request headers within the time limit");
        } else {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}
