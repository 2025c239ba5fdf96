//! Writes, engine-neutral: what to run and what to return. Each engine runs a [`WriteJob`] in one
//! transaction (a savepoint inside a group commit on SQLite) and rolls it back on any error or
//! failed check, so a request is all or nothing.

use rowbase_plan::{Value, WritePlan};
use rowbase_sql::TransactionSettings;

use crate::error::DbError;

/// What the client gets back from a write (`Prefer: return=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    /// Nothing (`return=minimal`).
    Nothing,
    /// The keys of the touched rows, for a `Location` header (`return=headers-only`).
    Keys,
    /// The touched rows shaped by `select=` (`return=representation`).
    Representation,
}

/// A write to run: its steps in order, in one transaction, all or nothing.
#[derive(Debug, Clone)]
pub struct WriteJob {
    /// The steps. A step may take values an earlier one returned ([`Link`]): a child row the
    /// key of the parent inserted before it.
    pub steps: Vec<WriteStep>,
    /// `Prefer: tx=rollback`: run everything, return the result, keep nothing.
    pub dry_run: bool,
    /// The transaction's settings (the audit trail's actor and request id, the role and claims),
    /// set by the engine's preamble before the first step.
    pub settings: TransactionSettings,
}

impl WriteJob {
    /// A job of one step.
    pub fn single(step: WriteStep, dry_run: bool, settings: TransactionSettings) -> WriteJob {
        WriteJob { steps: vec![step], dry_run, settings }
    }
}

/// One step of a [`WriteJob`]: a planned mutation, what it returns, and its checks.
#[derive(Debug, Clone)]
pub struct WriteStep {
    /// The planned mutation and representation.
    pub plan: WritePlan,
    /// What to return.
    pub returning: Returning,
    /// `Prefer: handling=strict, max-affected=N`: more touched rows roll back with `PGRST124`.
    pub max_affected: Option<u64>,
    /// A singular `Accept`: other than one touched row rolls back with `PGRST116`.
    pub exactly_one: bool,
    /// Values this step takes from earlier steps' results (inserts only).
    pub links: Vec<Link>,
}

impl WriteStep {
    /// A step with no checks and no links.
    pub fn new(plan: WritePlan, returning: Returning) -> WriteStep {
        WriteStep { plan, returning, max_affected: None, exactly_one: false, links: Vec::new() }
    }
}

/// A value an insert step takes from an earlier step's result: every row of the insert gets, in
/// `column`, key column `key_column` of the earlier step's row at the same position (or of its
/// only row, when it returned one). The earlier step's keys are its `RETURNING` key, in the
/// table's key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The column of this step's insert that takes the value.
    pub column: String,
    /// The earlier step (an index into [`WriteJob::steps`], below this one).
    pub step: usize,
    /// Which of its key columns.
    pub key_column: usize,
}

/// The result of a write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriteOutput {
    /// Rows inserted, updated or deleted.
    pub affected: u64,
    /// Of those, rows newly inserted (an upsert's updates are not).
    pub inserted: u64,
    /// The key of every touched row, in the table's key column order.
    pub keys: Vec<Vec<Value>>,
    /// The representation, a JSON array, when asked for.
    pub body: Option<String>,
}

/// How many times a write the engine rolled back to end a deadlock or a serialization conflict
/// ([`crate::ErrorKind::TransactionConflict`]) is run again before the conflict is answered.
pub(crate) const CONFLICT_RETRIES: u32 = 3;

/// Runs `attempt` until it succeeds, fails otherwise than by a transaction conflict, or has been
/// retried [`CONFLICT_RETRIES`] times, waiting a little longer before each retry (each attempt
/// is a whole transaction, rolled back by the engine before it is run again).
pub(crate) async fn retry_conflicts<T, F, Fut>(mut attempt: F) -> Result<T, DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbError>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if e.kind == crate::error::ErrorKind::TransactionConflict && tries < CONFLICT_RETRIES => {
                tries += 1;
                tracing::info!(tries, code = e.code(), "transaction conflict: running the write again");
                tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(tries))).await;
            }
            other => return other,
        }
    }
}
