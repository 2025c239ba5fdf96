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
    // Lines are written by a thread of their own (tracing-appender): a request formats its line
    // and hands it over, instead of waiting on a write to stdout each (the request log cost the
    // read by key a third of its rate). Never lossy: a full queue makes the request wait rather
    // than drop a line. `_log` flushes what is queued when `main` returns.
    let (writer, _log) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("rowbase-log")
        .finish(std::io::stdout());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("ROWBASE_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(writer)
        .init();
    let cli = rowbase::config::parse(std::env::args_os().collect()).unwrap_or_else(|e| e.exit());
    match cli.command {
        Command::Serve(args) => {
            let mut options = args.options();
            options.http.auth = args.auth()?;
            options.http.users = args.users()?;
            if let Some(schema) = &args.schema {
                if args.migrate {
                    let done = migrate::apply(&args.database, &args.migrations).await?;
                    tracing::info!(applied = done.len(), "migrations applied");
                }
                let checked = migrate::check(&args.database, schema).await?;
                options.http.tables = Some(checked.tables);
                if let Some(access) = &checked.access {
                    let rules = rowbase_plan::AccessRules::compile(access).map_err(anyhow::Error::msg)?;
                    options.http.access = Some(std::sync::Arc::new(rules));
                    if options.http.auth.keys.is_none() {
                        tracing::warn!(
                            "the schema file declares roles, grants and policies, but no JWT key is configured: requests \
                             run without a role and nothing declared is enforced (set ROWBASE_JWT_SECRET or --jwks-file)"
                        );
                    }
                }
            }
            let server = rowbase::start(&args.database, &options, args.listen, shutdown_signal()).await?;
            tracing::info!(addr = %server.addr, engine = %server.db.engine(), "serving");
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

/// Registers the SIGINT and SIGTERM handlers now and returns a future that completes on either,
/// so requests in flight finish before exit. Registering before the server says it is serving
/// matters: a handler installed lazily, at the future's first poll, left a window in which a
/// SIGTERM took the default action and killed the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // `signal` installs the handler when called, unlike `ctrl_c`, which waits for a poll.
        let handlers = signal(SignalKind::terminate()).and_then(|t| Ok((t, signal(SignalKind::interrupt())?)));
        async move {
            match handlers {
                Ok((mut term, mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
