//! Running a [`WriteJob`], engine-neutral: the mutation, its checks, and the representation,
//! over any [`Executor`] that runs statements inside an open transaction. The caller commits or
//! rolls back (a savepoint on SQLite's writer, a transaction on PostgreSQL).

use rowbase_plan::{ConflictAction, Expr, InsertPlan, Mutation, Node, ReadPlan, RowKey, Value, WritePlan};
use rowbase_sql::{
    Dialect, Statement, Target, render_count, render_delete, render_existing_count, render_insert, render_key_select,
    render_read, render_update,
};

use crate::error::{DbError, ErrorKind};
use crate::write::{Returning, WriteJob, WriteOutput, WriteStep};

/// Runs statements of one engine inside an open transaction.
pub(crate) trait Executor {
    /// The engine's dialect.
    fn dialect(&self) -> &'static dyn Dialect;

    /// Runs a statement with `RETURNING <key>` and returns the keys.
    async fn keys(&mut self, statement: &Statement) -> Result<Vec<Vec<Value>>, DbError>;

    /// Runs a `SELECT count(*)`.
    async fn count(&mut self, statement: &Statement) -> Result<u64, DbError>;

    /// Runs a statement and returns how many rows it touched.
    async fn affected(&mut self, statement: &Statement) -> Result<u64, DbError>;

    /// Runs a read whose rows are JSON objects and returns them as one JSON array.
    async fn read_array(&mut self, statement: &Statement) -> Result<String, DbError>;

    /// Makes a failed mutation's error more precise where the engine says too little (SQLite
    /// does not name foreign keys). By default the error is returned as is.
    async fn explain(&mut self, plan: &WritePlan, error: DbError) -> DbError {
        let _ = plan;
        error
    }
}

/// Runs `job` through `exec`: the preamble of its settings, then each step in order (its links
/// filled from the outputs of the steps before), then the preamble's end. One output per step.
///
/// Errors: the engine's, classified; `AffectedLimit` past `max-affected`; `NotSingular` when a
/// singular response was asked for and other than one row was touched; a link to a step that
/// is not before it or returned no such row (400). The caller rolls back on any error.
pub(crate) async fn run_write<E: Executor>(exec: &mut E, job: &WriteJob) -> Result<Vec<WriteOutput>, DbError> {
    let d = exec.dialect();
    if let Some(preamble) = d.preamble(&job.settings) {
        exec.keys(&preamble).await?;
    }
    let mut outputs: Vec<WriteOutput> = Vec::with_capacity(job.steps.len());
    for step in &job.steps {
        let linked;
        let step = if step.links.is_empty() {
            step
        } else {
            linked = with_links(step, &outputs)?;
            &linked
        };
        let mut out = WriteOutput::default();
        run_mutation(exec, step, &mut out).await?;
        outputs.push(out);
    }
    if let Some(end) = d.preamble_end(&job.settings) {
        exec.keys(&end).await?;
    }
    Ok(outputs)
}

/// `step` with the values its links take from `earlier` steps' outputs written into its insert.
fn with_links(step: &WriteStep, earlier: &[WriteOutput]) -> Result<WriteStep, DbError> {
    let refused = |why: String| DbError::new(ErrorKind::Client, why);
    let mut step = step.clone();
    let Mutation::Insert(insert) = &mut step.plan.mutation else {
        return Err(refused("only an insert takes values from an earlier step".into()));
    };
    for link in &step.links {
        let source = earlier.get(link.step).ok_or_else(|| refused(format!("no step {} before this one", link.step)))?;
        let position = match insert.columns.iter().position(|c| *c == link.column) {
            Some(p) => p,
            None => {
                insert.columns.push(link.column.clone());
                insert.column_types.push(rowbase_catalog::DataType::Other);
                insert.rows.iter_mut().for_each(|r| r.push(None));
                insert.columns.len() - 1
            }
        };
        for (i, row) in insert.rows.iter_mut().enumerate() {
            let key = match source.keys.as_slice() {
                [only] => Some(only),
                keys => keys.get(i),
            };
            let value = key
                .and_then(|k| k.get(link.key_column))
                .ok_or_else(|| refused(format!("step {} returned no key for row {i}", link.step)))?;
            row[position] = Some(value.clone());
        }
    }
    Ok(step)
}

/// The mutation of `job` (one step), its representation and counts into `out`.
async fn run_mutation<E: Executor>(exec: &mut E, job: &WriteStep, out: &mut WriteOutput) -> Result<(), DbError> {
    let d = exec.dialect();
    let plan = &job.plan;
    let render = DbError::from;
    match &plan.mutation {
        Mutation::Insert(insert) => {
            if let Some(existing) = &plan.checks.existing {
                check_existing(exec, insert, existing).await?;
            }
            let without_existing;
            let insert = if !d.ignores_duplicates() && ignoring(insert) {
                without_existing = drop_existing(exec, insert).await?;
                &without_existing
            } else {
                insert
            };
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
        Mutation::Update { schema, table, set, stamp, filters } if keys_first(d, plan) => {
            if !set.is_empty() || stamp.is_some() {
                out.keys = locked_keys(exec, plan, schema, table, filters).await?;
                if !out.keys.is_empty() {
                    let by_keys = [Expr::KeyIn { alias: 0, key: plan.key.clone(), rows: out.keys.clone() }];
                    if let Some(statement) = render_update(
                        Target { schema, table, view: plan.view },
                        set,
                        stamp.as_deref(),
                        &by_keys,
                        &plan.key,
                        d,
                    )
                    .map_err(render)?
                    {
                        mutate(exec, plan, &statement).await?;
                    }
                }
            }
            out.affected = out.keys.len() as u64;
        }
        Mutation::Update { schema, table, set, stamp, filters } => {
            if let Some(statement) =
                render_update(Target { schema, table, view: plan.view }, set, stamp.as_deref(), filters, &plan.key, d)
                    .map_err(render)?
            {
                out.keys = mutate(exec, plan, &statement).await?;
            }
            out.affected = out.keys.len() as u64;
        }
        Mutation::Delete { schema, table, filters } if keys_first(d, plan) => {
            out.keys = locked_keys(exec, plan, schema, table, filters).await?;
            let by_keys = vec![Expr::KeyIn { alias: 0, key: plan.key.clone(), rows: out.keys.clone() }];
            if job.returning == Returning::Representation {
                let mut representation = plan.representation.clone();
                representation.root.filters.clone_from(&by_keys);
                representation.root.filters.extend(plan.visible.iter().cloned());
                out.body = Some(read(exec, &representation).await?);
            }
            if !out.keys.is_empty() {
                let statement =
                    render_delete(Target { schema, table, view: plan.view }, &by_keys, &plan.key, d).map_err(render)?;
                mutate(exec, plan, &statement).await?;
            }
            out.affected = out.keys.len() as u64;
        }
        Mutation::Delete { schema, table, filters } => {
            // The rows are gone afterwards: read their representation first, in the same
            // transaction, with the same filters.
            if job.returning == Returning::Representation {
                out.body = Some(read(exec, &plan.representation).await?);
            }
            let statement =
                render_delete(Target { schema, table, view: plan.view }, filters, &plan.key, d).map_err(render)?;
            out.keys = mutate(exec, plan, &statement).await?;
            out.affected = out.keys.len() as u64;
        }
    }
    if let Some(written) = &plan.checks.written {
        check_written(exec, plan, &out.keys, written).await?;
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
        representation.root.filters.extend(plan.visible.iter().cloned());
        out.body = Some(read(exec, &representation).await?);
    }
    Ok(())
}

/// The message of a row-level policy's refusal, in PostgreSQL's words.
fn policy_violation(table: &str, using: bool) -> DbError {
    let message = if using {
        format!("new row violates row-level security policy (USING expression) for table \"{table}\"")
    } else {
        format!("new row violates row-level security policy for table \"{table}\"")
    };
    DbError::new(ErrorKind::InsufficientPrivilege, message)
}

/// How many of `table`'s rows meet `filters`, counted in the write's transaction.
async fn count_where<E: Executor>(exec: &mut E, schema: &str, table: &str, filters: Vec<Expr>) -> Result<u64, DbError> {
    let statement = render_count(schema, &Node::filtered(table, filters), exec.dialect())?;
    exec.count(&statement).await
}

/// An upsert must not change a row the role's `USING` policies hide from it: every existing
/// row its conflict target finds must meet `existing` (PostgreSQL raises `42501` then too).
async fn check_existing<E: Executor>(exec: &mut E, insert: &InsertPlan, existing: &Expr) -> Result<(), DbError> {
    let Some(found) = insert.conflicting() else { return Ok(()) };
    let all = count_where(exec, &insert.schema, &insert.table, found.clone()).await?;
    if all == 0 {
        return Ok(());
    }
    let mut admitted = found;
    admitted.push(existing.clone());
    if count_where(exec, &insert.schema, &insert.table, admitted).await? != all {
        return Err(policy_violation(&insert.table, true));
    }
    Ok(())
}

/// Every row a write inserted or changed must meet the role's `WITH CHECK` policies.
async fn check_written<E: Executor>(
    exec: &mut E,
    plan: &WritePlan,
    keys: &[Vec<Value>],
    written: &Expr,
) -> Result<(), DbError> {
    if keys.is_empty() {
        return Ok(());
    }
    let (schema, table) = match &plan.mutation {
        Mutation::Insert(i) => (&i.schema, &i.table),
        Mutation::Update { schema, table, .. } | Mutation::Delete { schema, table, .. } => (schema, table),
    };
    let by_keys = Expr::KeyIn { alias: 0, key: plan.key.clone(), rows: keys.to_vec() };
    let passing = count_where(exec, schema, table, vec![by_keys, written.clone()]).await?;
    let mut distinct: Vec<String> =
        keys.iter().map(|k| k.iter().map(value_text).collect::<Vec<_>>().join("\u{1f}")).collect();
    distinct.sort();
    distinct.dedup();
    if passing < distinct.len() as u64 {
        return Err(policy_violation(table, false));
    }
    Ok(())
}

/// Whether an update or delete selects (and locks) its rows' keys first and then writes by
/// them: on engines that cannot return keys from the statement, and for views on engines that
/// write views that way (SQLite's `INSTEAD OF` triggers return nothing).
fn keys_first(d: &dyn Dialect, plan: &WritePlan) -> bool {
    !d.returns_from_update_and_delete() || (plan.view && d.writes_views_by_key_first())
}

/// Whether an insert is an upsert that keeps existing rows.
fn ignoring(insert: &InsertPlan) -> bool {
    insert.conflict.as_ref().is_some_and(|c| c.action == ConflictAction::Nothing)
}

/// For engines without `DO NOTHING`: the insert without the rows whose conflict target already
/// exists, as a plain insert. (A row inserted concurrently in between fails as a duplicate.)
async fn drop_existing<E: Executor>(exec: &mut E, insert: &InsertPlan) -> Result<InsertPlan, DbError> {
    let mut plain = insert.clone();
    plain.conflict = None;
    let Some(conflict) = &insert.conflict else { return Ok(plain) };
    let Some(positions) =
        conflict.target.iter().map(|t| insert.columns.iter().position(|c| c == t)).collect::<Option<Vec<_>>>()
    else {
        return Ok(plain);
    };
    let key = RowKey::Columns(
        conflict.target.iter().zip(&positions).map(|(t, &p)| (t.clone(), insert.column_type(p))).collect(),
    );
    let wanted: Vec<Vec<Value>> =
        insert.rows.iter().filter_map(|row| positions.iter().map(|&p| row[p].clone()).collect()).collect();
    let node = Node::filtered(&insert.table, vec![Expr::KeyIn { alias: 0, key: key.clone(), rows: wanted }]);
    let statement = render_key_select(&insert.schema, &node, &key, exec.dialect())?;
    let existing: Vec<Vec<String>> =
        exec.keys(&statement).await?.iter().map(|k| k.iter().map(value_text).collect()).collect();
    plain.rows.retain(|row| {
        let key: Option<Vec<String>> = positions.iter().map(|&p| row[p].as_ref().map(value_text)).collect();
        key.is_none_or(|k| !existing.contains(&k))
    });
    Ok(plain)
}

/// A value as text, to compare keys whatever type the engine returned them in.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Bool(b) => i64::from(*b).to_string(),
        Value::Decimal(s) | Value::Text(s) | Value::Timestamp(s) => s.clone(),
        Value::Bytes(_) => v.to_string(),
    }
}

/// For engines whose `UPDATE`/`DELETE` cannot return keys: the keys of the rows the write will
/// touch, selected and locked first (with a limited write's order and window).
async fn locked_keys<E: Executor>(
    exec: &mut E,
    plan: &WritePlan,
    schema: &str,
    table: &str,
    filters: &[Expr],
) -> Result<Vec<Vec<Value>>, DbError> {
    let node = match filters {
        [Expr::KeyInQuery { query, .. }] => (**query).clone(),
        _ => Node::filtered(table, filters.to_vec()),
    };
    let statement = render_key_select(schema, &node, &plan.key, exec.dialect())?;
    exec.keys(&statement).await
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
