//! Running a [`WriteJob`], engine-neutral: the mutation, its checks, and the representation,
//! over any [`Executor`] that runs statements inside an open transaction. The caller commits or
//! rolls back (a savepoint on SQLite's writer, a transaction on PostgreSQL).

use rowbase_plan::{Expr, Mutation, ReadPlan, Value, WritePlan};
use rowbase_sql::{
    Dialect, Statement, render_delete, render_existing_count, render_insert, render_read, render_update,
};

use crate::error::{DbError, ErrorKind};
use crate::write::{Returning, WriteJob, WriteOutput};

/// Runs statements of one engine inside an open transaction.
pub(crate) trait Executor {
    /// The engine's dialect.
    fn dialect(&self) -> &'static dyn Dialect;

    /// Runs a statement with `RETURNING <key>` and returns the keys.
    async fn keys(&mut self, statement: &Statement) -> Result<Vec<Vec<Value>>, DbError>;

    /// Runs a `SELECT count(*)`.
    async fn count(&mut self, statement: &Statement) -> Result<u64, DbError>;

    /// Runs a read whose rows are JSON objects and returns them as one JSON array.
    async fn read_array(&mut self, statement: &Statement) -> Result<String, DbError>;

    /// Makes a failed mutation's error more precise where the engine says too little (SQLite
    /// does not name foreign keys). By default the error is returned as is.
    async fn explain(&mut self, plan: &WritePlan, error: DbError) -> DbError {
        let _ = plan;
        error
    }
}

/// Runs `job` through `exec`.
///
/// Errors: the engine's, classified; `AffectedLimit` past `max-affected`; `NotSingular` when a
/// singular response was asked for and other than one row was touched.
pub(crate) async fn run_write<E: Executor>(exec: &mut E, job: &WriteJob) -> Result<WriteOutput, DbError> {
    let d = exec.dialect();
    let plan = &job.plan;
    let render = |e: rowbase_sql::RenderError| DbError::new(ErrorKind::Client, e.to_string());
    let mut out = WriteOutput::default();
    match &plan.mutation {
        Mutation::Insert(insert) => {
            let existing = match render_existing_count(insert, d) {
                Some(statement) => exec.count(&statement).await?,
                None => 0,
            };
            for statement in render_insert(insert, &plan.key, d).map_err(render)? {
                let keys = mutate(exec, plan, &statement).await?;
                out.keys.extend(keys);
            }
            out.affected = out.keys.len() as u64;
            out.inserted = out.affected.saturating_sub(existing);
        }
        Mutation::Update { schema, table, set, filters } => {
            if let Some(statement) = render_update(schema, table, set, filters, &plan.key, d).map_err(render)? {
                out.keys = mutate(exec, plan, &statement).await?;
            }
            out.affected = out.keys.len() as u64;
        }
        Mutation::Delete { schema, table, filters } => {
            // The rows are gone afterwards: read their representation first, in the same
            // transaction, with the same filters.
            if job.returning == Returning::Representation {
                out.body = Some(read(exec, &plan.representation).await?);
            }
            let statement = render_delete(schema, table, filters, &plan.key, d).map_err(render)?;
            out.keys = mutate(exec, plan, &statement).await?;
            out.affected = out.keys.len() as u64;
        }
    }
    if let Some(max) = job.max_affected {
        if out.affected > max {
            return Err(DbError::new(
                ErrorKind::AffectedLimit,
                "Query result exceeds max-affected preference constraint",
            )
            .with_details(format!("The query affects {} rows", out.affected)));
        }
    }
    if job.exactly_one && out.affected != 1 {
        return Err(DbError::new(ErrorKind::NotSingular, "Cannot coerce the result to a single JSON object")
            .with_details(format!("The result contains {} rows", out.affected)));
    }
    if job.returning == Returning::Representation && out.body.is_none() {
        let mut representation = plan.representation.clone();
        let alias = representation.root.alias;
        representation.root.filters = vec![Expr::KeyIn { alias, key: plan.key.clone(), rows: out.keys.clone() }];
        out.body = Some(read(exec, &representation).await?);
    }
    Ok(out)
}

async fn mutate<E: Executor>(
    exec: &mut E,
    plan: &WritePlan,
    statement: &Statement,
) -> Result<Vec<Vec<Value>>, DbError> {
    match exec.keys(statement).await {
        Ok(keys) => Ok(keys),
        Err(e) if e.kind == ErrorKind::ForeignKeyViolation => Err(exec.explain(plan, e).await),
        Err(e) => Err(e),
    }
}

async fn read<E: Executor>(exec: &mut E, plan: &ReadPlan) -> Result<String, DbError> {
    let read = render_read(plan, exec.dialect()).map_err(|e| DbError::new(ErrorKind::Client, e.to_string()))?;
    exec.read_array(&read.statement).await
}
