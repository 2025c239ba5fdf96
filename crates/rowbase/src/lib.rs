//! Rowbase: schema in, backend out. This crate is the wiring: the command line ([`cli`]) and
//! [`start`], which opens a database, binds a listener and serves the HTTP API until told to
//! stop. The work happens in the layer crates: `rowbase-request` (parse) → `rowbase-plan` (plan)
//! → `rowbase-sql` (render) → `rowbase-db` (execute), behind `rowbase-http`.

pub mod cli;
pub mod migrate;

use std::net::SocketAddr;

use rowbase_db::{Database, DatabaseOptions};
use rowbase_http::{AppState, HttpConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Everything `start` needs besides the database URL and the address.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Pools, durability, group commit.
    pub database: DatabaseOptions,
    /// Body limit, unfiltered writes.
    pub http: HttpConfig,
}

/// A running server.
pub struct Server {
    /// The address it listens on (useful with port 0).
    pub addr: SocketAddr,
    /// The database it serves.
    pub db: Database,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Stops accepting, lets requests in flight finish, and waits for the server to end.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.map_err(std::io::Error::other)?
    }

    /// Waits until the server ends on its own (after a signal passed to [`start`]).
    pub async fn wait(self) -> std::io::Result<()> {
        let Server { stop, task, .. } = self;
        let result = task.await.map_err(std::io::Error::other)?;
        drop(stop);
        result
    }
}

/// Opens `database` (a path or URL), binds `listen` and serves until `signal` completes or
/// [`Server::shutdown`] is called.
///
/// Errors: the database cannot be opened, or the address cannot be bound.
pub async fn start(
    database: &str,
    options: &Options,
    listen: SocketAddr,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Server> {
    let db = Database::open(database, &options.database).await?;
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = rowbase_http::router(AppState::new(db.clone(), options.http.clone()));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                tokio::select! {
                    () = signal => {}
                    _ = stopped => {}
                }
            })
            .await
    });
    Ok(Server { addr, db, stop: Some(stop), task })
}
