//! Rendering mutations. Each returns the key of every row it touched (`RETURNING`), so the
//! representation can be read back by key with the read renderer.

use rowbase_plan::{ConflictAction, Expr, InsertPlan, Node, RowKey, Value};

use crate::dialect::{Dialect, RenderError};
use crate::render::expr;
use crate::writer::{Statement, Writer};

/// The relation an update or delete writes.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Its schema.
    pub schema: &'a str,
    /// Its name.
    pub table: &'a str,
    /// Whether it is a view (see [`Dialect::writes_views_by_key_first`]).
    pub view: bool,
}

/// One row of an insert: a value per column, `None` for the column default.
type Row = Vec<Option<Value>>;

/// The statements of an insert: rows are grouped by which columns they give (a row may leave
/// some to their defaults) and split so no statement exceeds the engine's parameter limit.
pub fn render_insert(plan: &InsertPlan, key: &RowKey, dialect: &dyn Dialect) -> Result<Vec<Statement>, RenderError> {
    let mut groups: Vec<(Vec<bool>, Vec<&Row>)> = Vec::new();
    for row in &plan.rows {
        let mask: Vec<bool> = row.iter().map(Option::is_some).collect();
        match groups.iter_mut().find(|(m, _)| *m == mask) {
            Some((_, rows)) => rows.push(row),
            None => groups.push((mask, vec![row])),
        }
    }
    let mut statements = Vec::new();
    for (mask, rows) in groups {
        let columns: Vec<&String> =
            plan.columns.iter().zip(&mask).filter(|(_, given)| **given).map(|(c, _)| c).collect();
        if columns.is_empty() {
            // Every column takes its default: one `DEFAULT VALUES` insert per row.
            for _ in rows {
                let mut w = Writer::new(dialect, &plan.schema);
                w.push("INSERT INTO ");
                w.table(&plan.table);
                w.push(dialect.default_values());
                returning(&mut w, key)?;
                statements.push(w.finish());
            }
            continue;
        }
        let per_statement = (dialect.max_params() / columns.len()).max(1);
        for chunk in rows.chunks(per_statement) {
            let mut w = Writer::new(dialect, &plan.schema);
            w.push("INSERT INTO ");
            w.table(&plan.table);
            w.push(" (");
            for (i, c) in columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.ident(c);
            }
            w.push(") VALUES ");
            for (i, row) in chunk.iter().enumerate() {
                w.push(if i > 0 { ", (" } else { "(" });
                for (j, value) in row.iter().flatten().enumerate() {
                    if j > 0 {
                        w.push(", ");
                    }
                    w.bind(value.clone());
                }
                w.push(")");
            }
            if let Some(conflict) = &plan.conflict {
                dialect.on_conflict(&mut w, conflict)?;
            }
            returning(&mut w, key)?;
            statements.push(w.finish());
        }
    }
    Ok(statements)
}

/// `UPDATE "t" AS t0 SET ... WHERE ... RETURNING <key>`; `stamp` is a column set to the time
/// of the statement ([`Dialect::now`]). `None` when there is nothing to set. A `view` on an
/// engine that writes views by key first ([`Dialect::writes_views_by_key_first`]) is written
/// without alias and `RETURNING` (its filters are then the keys selected before).
pub fn render_update(
    target: Target<'_>,
    set: &[(String, Value)],
    stamp: Option<&str>,
    filters: &[Expr],
    key: &RowKey,
    dialect: &dyn Dialect,
) -> Result<Option<Statement>, RenderError> {
    let Target { schema, table, view } = target;
    if set.is_empty() && stamp.is_none() {
        return Ok(None);
    }
    let by_key_first = view && dialect.writes_views_by_key_first();
    let mut w = Writer::new(dialect, schema);
    w.push("UPDATE ");
    w.table(table);
    if by_key_first {
        w.unqualified();
        w.push(" SET ");
    } else {
        w.push(" AS t0 SET ");
    }
    for (i, (column, value)) in set.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(column);
        w.push(" = ");
        w.bind(value.clone());
    }
    if let Some(column) = stamp {
        if !set.is_empty() {
            w.push(", ");
        }
        w.ident(column);
        w.push(" = ");
        w.push(dialect.now());
    }
    filters_clause(&mut w, filters)?;
    if dialect.returns_from_update_and_delete() && !by_key_first {
        returning(&mut w, key)?;
    }
    Ok(Some(w.finish()))
}

/// `DELETE FROM "t" AS t0 WHERE ... RETURNING <key>`.
pub fn render_delete(
    target: Target<'_>,
    filters: &[Expr],
    key: &RowKey,
    dialect: &dyn Dialect,
) -> Result<Statement, RenderError> {
    let Target { schema, table, view } = target;
    let by_key_first = view && dialect.writes_views_by_key_first();
    let mut w = Writer::new(dialect, schema);
    if by_key_first {
        w.unqualified();
        w.push("DELETE FROM ");
        w.table(table);
    } else {
        dialect.delete_from(&mut w, table);
    }
    filters_clause(&mut w, filters)?;
    if dialect.returns_from_update_and_delete() && !by_key_first {
        returning(&mut w, key)?;
    }
    Ok(w.finish())
}

/// How many rows of `plan` already exist by its conflict target (to tell a merging upsert's
/// inserts from its updates), or `None` when the plan is not a merging upsert.
pub fn render_existing_count(plan: &InsertPlan, dialect: &dyn Dialect) -> Option<Statement> {
    plan.conflict.as_ref().filter(|c| matches!(c.action, ConflictAction::Update(_)))?;
    render_count(&plan.schema, &Node::filtered(&plan.table, plan.conflicting()?), dialect).ok()
}

fn filters_clause(w: &mut Writer<'_>, filters: &[Expr]) -> Result<(), RenderError> {
    for (i, filter) in filters.iter().enumerate() {
        w.push(if i == 0 { " WHERE " } else { " AND " });
        expr(w, filter, true)?;
    }
    Ok(())
}

fn returning(w: &mut Writer<'_>, key: &RowKey) -> Result<(), RenderError> {
    w.push(" RETURNING ");
    let d = w.dialect();
    match key {
        RowKey::Columns(columns) => {
            for (i, (name, _)) in columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                d.returned_key(w, Some(name));
            }
        }
        RowKey::EngineRowId => d.returned_key(w, None),
    }
    Ok(())
}

/// `SELECT count(*)` of the rows of `node`'s table that meet its filters (no order, no window):
/// a write's row-level policy checks count the rows that pass.
///
/// Errors: a filter the dialect cannot render.
pub fn render_count(schema: &str, node: &Node, dialect: &dyn Dialect) -> Result<Statement, RenderError> {
    let mut w = Writer::new(dialect, schema);
    w.push("SELECT count(*) FROM ");
    w.table(&node.table);
    w.push(" AS ");
    w.table_alias(node.alias);
    filters_clause(&mut w, &node.filters)?;
    Ok(w.finish())
}

/// `SELECT <key> FROM "t" AS t0 WHERE ... ORDER BY ... LIMIT ... FOR UPDATE`: the keys an update
/// or delete will touch, locked, for engines that cannot return them from the statement itself.
pub fn render_key_select(
    schema: &str,
    node: &Node,
    key: &RowKey,
    dialect: &dyn Dialect,
) -> Result<Statement, RenderError> {
    let mut w = Writer::new(dialect, schema);
    w.push("SELECT ");
    match key {
        RowKey::Columns(columns) => {
            for (i, (name, _)) in columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.column(node.alias, name);
            }
        }
        RowKey::EngineRowId => dialect.row_id(&mut w, Some(node.alias))?,
    }
    w.push(" FROM ");
    w.table(&node.table);
    w.push(" AS ");
    w.table_alias(node.alias);
    filters_clause(&mut w, &node.filters)?;
    crate::render::order_and_window(&mut w, node)?;
    w.push(dialect.lock_rows());
    Ok(w.finish())
}
