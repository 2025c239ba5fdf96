//! `rowbase migrate`: plan a migration from the schema file, apply pending ones, revert the
//! last ones, and report status, against any engine. The pieces are `rowbase_migrate` (schema,
//! diff, SQL, files) and `rowbase_db::migrations` (lock and ledger).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rowbase_db::{Database, DatabaseOptions};
use rowbase_migrate::ddl::Engine;
use rowbase_migrate::files::{Migration, read_migrations, version_now, write_migration};
use rowbase_migrate::{diff, native, schema};

/// Where a migration stands.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// In the ledger, file unchanged.
    Applied,
    /// On disk, not applied.
    Pending,
    /// In the ledger, but its file changed since.
    Changed,
    /// In the ledger, but its directory is gone.
    Missing,
}

/// Opens the database to migrate; a missing SQLite file is created only when `create` (plan and
/// apply: migrating a new database is how it gets its schema).
async fn open_with(url: &str, create: bool) -> anyhow::Result<(Database, Engine)> {
    // A migration may rewrite a large table: no statement time limit.
    let options = DatabaseOptions {
        pool_size: Some(2),
        create_sqlite: create,
        statement_timeout: None,
        ..DatabaseOptions::default()
    };
    let db =
        Database::open(url, &options).await.with_context(|| format!("opening {}", crate::config::masked_url(url)))?;
    let engine = db.engine();
    Ok((db, engine))
}

async fn open(url: &str) -> anyhow::Result<(Database, Engine)> {
    open_with(url, false).await
}

/// Every migration on disk or in the ledger, with its state.
///
/// Errors: the database or the directory cannot be read.
pub async fn status(url: &str, dir: &Path) -> anyhow::Result<Vec<(String, String, State)>> {
    let (db, engine) = open(url).await?;
    let files = read_migrations(dir, engine)?;
    let mut session = db.migration_session().await?;
    let applied = session.applied().await;
    session.release().await?;
    let applied = applied?;
    let mut out: Vec<(String, String, State)> = files
        .iter()
        .map(|m| {
            let state = match applied.iter().find(|a| a.version == m.version) {
                Some(a) if a.checksum == m.checksum => State::Applied,
                Some(_) => State::Changed,
                None => State::Pending,
            };
            (m.version.clone(), m.name.clone(), state)
        })
        .collect();
    for a in &applied {
        if !files.iter().any(|m| m.version == a.version) {
            out.push((a.version.clone(), a.name.clone(), State::Missing));
        }
    }
    out.sort();
    Ok(out)
}

/// Applies every pending migration in version order; returns the versions applied.
///
/// Errors: an applied migration's file changed (nothing is applied), or a migration failed
/// (those before it stay applied).
pub async fn apply(url: &str, dir: &Path) -> anyhow::Result<Vec<String>> {
    let (db, engine) = open_with(url, true).await?;
    let files = read_migrations(dir, engine)?;
    let mut session = db.migration_session().await?;
    let result = async {
        let applied = session.applied().await?;
        check_unchanged(&files, &applied)?;
        let mut done = Vec::new();
        for m in files.iter().filter(|m| !applied.iter().any(|a| a.version == m.version)) {
            session
                .apply(&m.version, &m.name, &m.checksum, &m.up)
                .await
                .with_context(|| format!("applying {}_{}", m.version, m.name))?;
            done.push(m.version.clone());
        }
        anyhow::Ok(done)
    }
    .await;
    session.release().await?;
    result
}

fn check_unchanged(files: &[Migration], applied: &[rowbase_db::migrations::Applied]) -> anyhow::Result<()> {
    for a in applied {
        if let Some(m) = files.iter().find(|m| m.version == a.version) {
            if m.checksum != a.checksum {
                bail!(
                    "migration {}_{} changed after it was applied; refusing to run (restore the file, or revert first)",
                    a.version,
                    a.name
                );
            }
        }
    }
    Ok(())
}

/// Reverts the last `count` applied migrations, newest first; returns their versions.
///
/// Errors: a migration's directory or down script is missing, or a down script failed.
pub async fn down(url: &str, dir: &Path, count: usize) -> anyhow::Result<Vec<String>> {
    let (db, engine) = open(url).await?;
    let files = read_migrations(dir, engine)?;
    let mut session = db.migration_session().await?;
    let result = async {
        let applied = session.applied().await?;
        check_unchanged(&files, &applied)?;
        let mut done = Vec::new();
        for a in applied.iter().rev().take(count) {
            let m = files
                .iter()
                .find(|m| m.version == a.version)
                .with_context(|| format!("migration {} has no files", a.version))?;
            session.revert(&m.version, &m.down).await.with_context(|| format!("reverting {}_{}", m.version, m.name))?;
            done.push(m.version.clone());
        }
        anyhow::Ok(done)
    }
    .await;
    session.release().await?;
    result
}

/// What `plan` did.
#[derive(Debug)]
pub enum Planned {
    /// The database already matches the schema file.
    UpToDate,
    /// A migration was written.
    Written {
        /// Its directory.
        path: PathBuf,
        /// One line per step.
        summary: Vec<String>,
    },
}

/// Reads and checks a schema file.
///
/// Errors: the file cannot be read, or its mistakes (located).
fn read_schema(schema_file: &Path) -> anyhow::Result<schema::Schema> {
    let text = std::fs::read_to_string(schema_file).with_context(|| format!("reading {}", schema_file.display()))?;
    Ok(schema::parse(&schema_file.display().to_string(), &text)?)
}

/// The catalog of the database's default schema, the one migrations manage.
fn live_catalog(db: &Database) -> anyhow::Result<std::sync::Arc<rowbase_catalog::Catalog>> {
    let schema_name = db.schemas().into_iter().next().unwrap_or_else(|| "public".into());
    db.catalog(&schema_name).context("the database's default schema")
}

/// Checks that the live database matches the schema file, for `serve --schema` (on PostgreSQL
/// its declared row-level policies too, by name); returns the declared table names (the tables
/// to serve) and the declared access.
///
/// Errors: the schema file has mistakes (located), or the database differs from it (the
/// differences are listed: plan and apply a migration, or serve with `--migrate`).
pub async fn check(url: &str, schema_file: &Path) -> anyhow::Result<Checked> {
    let declared = read_schema(schema_file)?;
    let (db, engine) = open(url).await?;
    let live = live_catalog(&db)?;
    let mut differences = match diff::diff(&live, &declared, true) {
        Ok(steps) => steps.iter().map(diff::Step::describe).collect::<Vec<_>>(),
        Err(e) => vec![e.to_string()],
    };
    if engine == Engine::Postgres {
        // The declared policies must be there natively (the access block applied).
        for table in &declared.tables {
            let wanted = native::policy_names(&declared, &table.name);
            let found: Vec<String> = live
                .table(&table.name)
                .map(|t| t.policies.iter().filter(|p| p.starts_with("rb_")).cloned().collect())
                .unwrap_or_default();
            if wanted != found {
                differences.push(format!("the row-level policies of {} are not as declared", table.name));
            }
        }
    }
    if !differences.is_empty() {
        bail!(
            "the database does not match {}: {}\n  hint: run `rowbase migrate plan` and `rowbase migrate apply`, or serve with --migrate",
            schema_file.display(),
            differences.join("; ")
        );
    }
    Ok(Checked { tables: declared.tables.into_iter().map(|t| t.name).collect(), access: declared.access })
}

/// What serving a schema file takes from it once the database matches.
#[derive(Debug)]
pub struct Checked {
    /// The declared tables (and only those are served).
    pub tables: Vec<String>,
    /// Declared roles, grants and policies.
    pub access: Option<rowbase_catalog::Access>,
}

/// Compares the schema file with the live database and writes a migration for the difference.
///
/// Errors: the schema file has mistakes (located), migrations are pending, the difference needs
/// a hand-written migration, or it is destructive without `allow_destructive`.
pub async fn plan(
    url: &str,
    schema_file: &Path,
    dir: &Path,
    name: &str,
    allow_destructive: bool,
) -> anyhow::Result<Planned> {
    let declared = read_schema(schema_file)?;
    let (db, engine) = open_with(url, true).await?;
    let files = read_migrations(dir, engine)?;
    let mut session = db.migration_session().await?;
    let applied = session.applied().await;
    session.release().await?;
    let pending =
        files.iter().filter(|m| !applied.as_ref().is_ok_and(|a| a.iter().any(|x| x.version == m.version))).count();
    if pending > 0 {
        bail!(
            "{pending} migration(s) are not applied yet: run `rowbase migrate apply` first, so the plan starts from them"
        );
    }
    let live = live_catalog(&db)?;
    let steps = diff::diff(&live, &declared, allow_destructive)?;
    // Access control changes when the declared access differs from the last block the
    // migrations wrote (read from PostgreSQL's scripts, whichever engine plans).
    let postgres = read_migrations(dir, Engine::Postgres)?;
    let last = native::last_block(postgres.iter().map(|m| m.up.as_str()));
    let access = native::changed(&declared, last.as_deref())
        .then(|| (native::block(&declared).unwrap_or_else(native::none), last.clone().unwrap_or_else(native::none)));
    if steps.is_empty() && access.is_none() {
        return Ok(Planned::UpToDate);
    }
    let safe_name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    // A version sorts after every existing one, even two plans within a second.
    let newest = files.iter().filter_map(|m| m.version.parse::<u64>().ok()).max();
    let now = version_now();
    let version = match (now.parse::<u64>().ok(), newest) {
        (Some(n), Some(last)) if n <= last => (last + 1).to_string(),
        _ => now,
    };
    let path =
        write_migration(dir, &version, &safe_name, &steps, access.as_ref().map(|(a, b)| (a.as_str(), b.as_str())))?;
    let mut summary: Vec<String> = steps.iter().map(diff::Step::describe).collect();
    if access.is_some() {
        summary.push("access control: roles, grants and row-level policies (native on PostgreSQL)".into());
    }
    Ok(Planned::Written { path, summary })
}
