//! The `rowbase` binary: parses the command line, sets up logging, and runs the command.

use std::io::IsTerminal;

use clap::Parser;
use rowbase::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("ROWBASE_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    match Cli::parse().command {
        Command::Serve(args) => {
            let server = rowbase::start(&args.database, &args.options(), args.listen, shutdown_signal()).await?;
            tracing::info!(addr = %server.addr, engine = server.db.engine(), "serving");
            server.wait().await?;
            tracing::info!("stopped");
        }
    }
    Ok(())
}

/// Completes on SIGINT or SIGTERM, so requests in flight finish before exit.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
