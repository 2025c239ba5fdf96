//! The `rowbase` binary: parses the command line, sets up logging, and runs the command.

use std::io::IsTerminal;

use rowbase::cli::{AuditCommand, Command, MigrateCommand};
use rowbase::migrate::{self, Planned};
use tracing_subscriber::EnvFilter;

/// A request allocates its parsed query, plan and SQL and frees them within microseconds, on
/// whichever thread serves it: mimalloc's per-thread free lists take that pattern better than
/// glibc's arenas (the benchmark's reads spent 8% of their CPU in malloc and free).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("ROWBASE_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let cli = rowbase::config::parse(std::env::args_os().collect()).unwrap_or_else(|e| e.exit());
    match cli.command {
        Command::Serve(args) => {
            let mut options = args.options();
            if let Some(schema) = &args.schema {
                if args.migrate {
                    let done = migrate::apply(&args.database, &args.migrations).await?;
                    tracing::info!(applied = done.len(), "migrations applied");
                }
                options.http.tables = Some(migrate::check(&args.database, schema).await?);
            }
            let server = rowbase::start(&args.database, &options, args.listen, shutdown_signal()).await?;
            tracing::info!(addr = %server.addr, engine = server.db.engine(), "serving");
            server.wait().await?;
            tracing::info!("stopped");
        }
        Command::Migrate(command) => run_migrate(command).await?,
        Command::Audit(AuditCommand::Prune { database, keep_days }) => {
            let options =
                rowbase_db::DatabaseOptions { pool_size: Some(1), statement_timeout: None, ..Default::default() };
            let db = rowbase_db::Database::open(&database, &options).await?;
            let deleted = db.prune_audit(keep_days).await?;
            println!("Deleted {deleted} audit entries older than {keep_days} days.");
        }
    }
    Ok(())
}

/// Runs a `migrate` subcommand and prints what it did.
async fn run_migrate(command: MigrateCommand) -> anyhow::Result<()> {
    match command {
        MigrateCommand::Plan { target, schema, name, allow_destructive } => {
            match migrate::plan(&target.database, &schema, &target.dir, &name, allow_destructive).await? {
                Planned::UpToDate => println!("The database matches {}: nothing to plan.", schema.display()),
                Planned::Written { path, summary } => {
                    println!("Wrote {}:", path.display());
                    for line in summary {
                        println!("  {line}");
                    }
                }
            }
        }
        MigrateCommand::Apply { target } => {
            let done = migrate::apply(&target.database, &target.dir).await?;
            println!(
                "Applied {} migration(s){}",
                done.len(),
                if done.is_empty() { String::new() } else { format!(": {}", done.join(", ")) }
            );
        }
        MigrateCommand::Down { target, count } => {
            let done = migrate::down(&target.database, &target.dir, count).await?;
            println!(
                "Reverted {} migration(s){}",
                done.len(),
                if done.is_empty() { String::new() } else { format!(": {}", done.join(", ")) }
            );
        }
        MigrateCommand::Status { target } => {
            for (version, name, state) in migrate::status(&target.database, &target.dir).await? {
                println!("{version}  {state:?}  {name}");
            }
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
