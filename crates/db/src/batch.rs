//! Statements Rowbase writes for itself (its users and sessions, never a client's text), run in
//! one transaction, all or nothing: the engine-neutral [`Batch`] and how it runs over any
//! [`Executor`]. Each engine runs a batch the way it runs a write (SQLite's writer thread, a
//! transaction from the pool on PostgreSQL and MySQL).

use rowbase_plan::Value;
use rowbase_sql::Statement;

use crate::error::DbError;
use crate::exec::Executor;

/// Statements to run in order in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The statements.
    pub statements: Vec<BatchStatement>,
}

/// One statement of a [`Batch`] and what is wanted from it.
#[derive(Debug, Clone)]
pub enum BatchStatement {
    /// A statement whose rows are wanted (a `SELECT`, or a write with `RETURNING`). On
    /// PostgreSQL every column must be text (cast it): rows come back as text or NULL.
    Rows(Statement),
    /// A statement whose count of touched rows is wanted.
    Affected(Statement),
}

/// What one statement of a batch gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchOutput {
    /// The rows ([`BatchStatement::Rows`]), each its columns in order.
    pub rows: Vec<Vec<Value>>,
    /// The rows touched ([`BatchStatement::Affected`]).
    pub affected: u64,
}

impl BatchOutput {
    /// Column `column` of row `row` as text, `None` when the row or column is missing or NULL.
    pub fn text(&self, row: usize, column: usize) -> Option<String> {
        match self.rows.get(row)?.get(column)? {
            Value::Null => None,
            Value::Text(s) | Value::Decimal(s) | Value::Timestamp(s) => Some(s.clone()),
            Value::Integer(n) => Some(n.to_string()),
            Value::Real(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        }
    }
}

/// Runs `batch` through `exec`, inside a transaction the caller opened and ends (committing on
/// success, rolling back on any error).
pub(crate) async fn run_batch<E: Executor>(exec: &mut E, batch: &Batch) -> Result<Vec<BatchOutput>, DbError> {
    let mut outputs = Vec::with_capacity(batch.statements.len());
    for statement in &batch.statements {
        outputs.push(match statement {
            BatchStatement::Rows(s) => BatchOutput { rows: exec.keys(s).await?, affected: 0 },
            BatchStatement::Affected(s) => BatchOutput { rows: Vec::new(), affected: exec.affected(s).await? },
        });
    }
    Ok(outputs)
}
