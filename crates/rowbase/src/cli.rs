//! The command line. Settings come in layers: defaults, then `ROWBASE_*` / `DATABASE_URL`
//! environment variables, then flags.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, Subcommand};
use rowbase_db::DatabaseOptions;

/// Rowbase: a PostgREST-compatible data backend in one binary.
#[derive(Debug, Parser)]
#[command(name = "rowbase", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a database over HTTP in the PostgREST dialect.
    Serve(ServeArgs),
}

/// `rowbase serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The database: a path to an SQLite file, or `sqlite://path`.
    #[arg(env = "DATABASE_URL")]
    pub database: String,

    /// The address to listen on.
    #[arg(long, env = "ROWBASE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Connections in the pool (default: two per core, at least four).
    #[arg(long, env = "ROWBASE_POOL_SIZE")]
    pub pool_size: Option<usize>,

    /// Seconds a request waits for a free connection before failing with 503.
    #[arg(long, env = "ROWBASE_POOL_TIMEOUT", default_value_t = 10)]
    pub pool_timeout: u64,

    /// Never write to the database file, not even to switch it to WAL mode.
    #[arg(long, env = "ROWBASE_READ_ONLY")]
    pub read_only: bool,
}

impl ServeArgs {
    /// The database options these arguments describe.
    pub fn database_options(&self) -> DatabaseOptions {
        DatabaseOptions {
            pool_size: self.pool_size,
            acquire_timeout: Duration::from_secs(self.pool_timeout),
            read_only: self.read_only,
        }
    }
}
