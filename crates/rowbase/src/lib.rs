//! Rowbase: schema in, backend out. This crate is the wiring: the command line ([`cli`]) and
//! [`start`], which opens a database, binds a listener and serves the HTTP API until told to
//! stop. The work happens in the layer crates: `rowbase-request` (parse) → `rowbase-plan` (plan)
//! → `rowbase-sql` (render) → `rowbase-db` (execute), behind `rowbase-http`.

pub mod cli;
pub mod config;
pub mod migrate;
mod serve;

pub use serve::ConnectionLimits;

use std::net::SocketAddr;
use std::time::Duration;

use rowbase_db::{Database, DatabaseOptions};
use rowbase_http::{AppState, HttpConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Everything `start` needs besides the database URL and the address.
#[derive(Debug, Clone)]
pub struct Options {
    /// Pools, durability, group commit.
    pub database: DatabaseOptions,
    /// Body limit, unfiltered writes.
    pub http: HttpConfig,
    /// How often to look for schema changes and reload the catalogs (`None`: never; SIGHUP
    /// still reloads). Default 2 s.
    pub schema_poll: Option<Duration>,
    /// How long requests in flight get to finish once told to stop; connections still open then
    /// are dropped. Default 10 s.
    pub shutdown_grace: Duration,
    /// Bounds on client connections (count, time to send headers, idle keep-alive).
    pub connections: ConnectionLimits,
    /// Serve a non-loopback address without JWT keys (`--insecure-no-auth`); refused otherwise.
    pub insecure_no_auth: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            database: DatabaseOptions::default(),
            http: HttpConfig::default(),
            schema_poll: Some(Duration::from_secs(2)),
            shutdown_grace: Duration::from_secs(10),
            connections: ConnectionLimits::default(),
            insecure_no_auth: false,
        }
    }
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
/// Errors: the database cannot be opened, the address cannot be bound, or the address is not a
/// loopback one and no JWT key is configured (unless `insecure_no_auth`): such a server would
/// let anyone on the network read and write every table.
pub async fn start(
    database: &str,
    options: &Options,
    listen: SocketAddr,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Server> {
    if !listen.ip().is_loopback() && options.http.auth.keys.is_none() && !options.insecure_no_auth {
        anyhow::bail!(
            "refusing to serve {listen} without authentication: anyone who reaches it could read and write every \
             table. Configure a JWT key (ROWBASE_JWT_SECRET, --jwt-secret-file or --jwks-file), listen on a loopback \
             address, or pass --insecure-no-auth if a gateway in front of Rowbase authenticates every request"
        );
    }
    let db = Database::open(database, &options.database).await?;
    warn_unindexed_foreign_keys(&db);
    if let Some(users) = &options.http.users {
        if db.schemas().iter().any(|s| s == rowbase_users::schema::SCHEMA) {
            anyhow::bail!(
                "the schema {} holds password hashes and refresh tokens: it cannot be served",
                rowbase_users::schema::SCHEMA
            );
        }
        users.prepare(&db).await?;
    }
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let mut http = options.http.clone();
    if addr.ip().is_loopback() {
        // A page on any site can make the browser send requests to a loopback address, and a
        // name the attacker controls can resolve to it (DNS rebinding): answer local names only.
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
        hosts.extend(http.allowed_hosts.take().unwrap_or_default());
        http.allowed_hosts = Some(hosts);
    }
    let state = AppState::new(db.clone(), http);
    state.check_users_tokens().map_err(anyhow::Error::msg)?;
    if options.schema_poll.is_some() {
        // Before the first request: a schema change made between opening the database and the
        // watcher's first look would otherwise be taken as the starting point and never loaded.
        state.prime().await?;
    }
    let watcher = tokio::spawn(watch_schema(state.clone(), options.schema_poll));
    let app = rowbase_http::router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let (stopping, told) = oneshot::channel::<()>();
    let grace = options.shutdown_grace;
    let limits = options.connections;
    let task = tokio::spawn(async move {
        let serve = serve::serve(listener, app, limits, async move {
            tokio::select! {
                () = signal => {}
                _ = stopped => {}
            }
            let _ = stopping.send(());
        });
        // Graceful shutdown waits for every connection to close, and an idle keep-alive
        // connection whose client never closes it would hold the process forever.
        let deadline = async move {
            match told.await {
                Ok(()) => tokio::time::sleep(grace).await,
                Err(_) => std::future::pending().await,
            }
        };
        let served = tokio::select! {
            served = serve => served,
            () = deadline => {
                tracing::warn!(grace_secs = grace.as_secs_f64(), "connections still open after the grace period: dropping them");
                Ok(())
            }
        };
        watcher.abort();
        served
    });
    Ok(Server { addr, db, stop: Some(stop), task })
}

/// Says once, at start-up, which foreign keys no index leads: the usual cause of a slow
/// embedding (a nested loop over the whole child table per parent row; 36 s on PostgreSQL in
/// the sample that found it). MySQL's InnoDB indexes every foreign key itself.
fn warn_unindexed_foreign_keys(db: &Database) {
    if matches!(db, Database::MySql(_)) {
        return;
    }
    for schema in db.schemas() {
        let Some(catalog) = db.catalog(&schema) else { continue };
        for table in catalog.tables() {
            for fk in table.unindexed_foreign_keys() {
                tracing::warn!(
                    schema = %schema,
                    table = %table.name,
                    columns = %fk.columns.join(", "),
                    references = %fk.referenced_table,
                    "foreign key without an index: embeddings and deletes through it scan the table; add an index on these columns"
                );
            }
        }
    }
}

/// Keeps the served catalogs in step with the database: every `poll` it compares the schema
/// fingerprint and reloads when it changed; SIGHUP (Unix) reloads at once. A failed check is
/// logged and the old catalogs stay in use. Runs until aborted.
async fn watch_schema(state: AppState, poll: Option<Duration>) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut ticker = poll.map(|every| {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker
    });
    loop {
        let tick = async {
            match ticker.as_mut() {
                Some(ticker) => {
                    ticker.tick().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(unix)]
        let hup = async {
            match hangup.as_mut() {
                Some(hangup) => {
                    hangup.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hup = std::future::pending::<()>();
        let force = tokio::select! {
            () = tick => false,
            () = hup => true,
        };
        match state.refresh(force).await {
            Ok(true) => tracing::info!(forced = force, "schema changed: catalogs reloaded"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "schema check failed; serving the catalogs read before"),
        }
    }
}
