//! Every rule that narrows or checks the rows a request reaches, in one place, applied by the
//! planner to every plan node (embedded resources included) and every write: soft delete, hard
//! delete, unfiltered writes, the writes a view takes, the size of a request, and access:
//! grants on the tables and columns a request names, and row-level policies on every node
//! (`crate::access`; applied by the read planner to each node and by the write planner to each
//! mutation and its checks).

use rowbase_catalog::{Catalog, Command, Junction, Table, TableKind};
use rowbase_request::{DeletedRows, IsValue};

use crate::access::Guard;
use crate::context::RequestContext;
use crate::error::PlanError;
use crate::plan::{ColumnRef, Expr, Mutation, Node, OrderKey, Output, WritePlan};

/// The columns of `node` (by alias) an expression names, embeds' `EXISTS` left to their own
/// node.
fn expr_columns<'e>(expr: &'e Expr, alias: usize, out: &mut Vec<&'e str>) {
    let mut column = |c: &'e ColumnRef| {
        if c.alias == alias {
            out.push(c.column.as_str());
        }
    };
    match expr {
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| expr_columns(e, alias, out)),
        Expr::Not(inner) => expr_columns(inner, alias, out),
        Expr::Compare { left, .. }
        | Expr::Quantified { left, .. }
        | Expr::Pattern { left, .. }
        | Expr::In { left, .. }
        | Expr::Is { left, .. }
        | Expr::FullText { left, .. }
        | Expr::Special { left, .. } => column(left),
        Expr::Exists(_) | Expr::KeyInQuery { .. } | Expr::KeyIn { .. } => {}
    }
}

/// An as-of read answers from the audit log, where the role's row-level policies cannot be
/// applied: it needs `SELECT` on the table, and is refused on a table with policies the role is
/// under.
///
/// Errors: `42501`.
pub(crate) fn check_as_of(guard: Guard<'_>, table: &Table) -> Result<(), PlanError> {
    guard.check(table, Command::Select, table.columns.iter().map(|c| c.name.as_str()))?;
    if guard.row_level(&table.name) {
        return Err(PlanError::PolicyUnsupported(format!(
            "{} has row-level policies, which an as-of read (answered from the audit log) cannot apply",
            table.name
        )));
    }
    Ok(())
}

/// Grants for what a read node names: `SELECT` on its table, and on every column it outputs or
/// filters by (a column not granted cannot be read, nor inferred through a filter).
///
/// Errors: `42501`.
pub(crate) fn check_read_grants(guard: Guard<'_>, table: &Table, node: &Node) -> Result<(), PlanError> {
    if matches!(guard, Guard::Free) {
        return Ok(());
    }
    let mut columns = Vec::new();
    for output in &node.outputs {
        if let Output::Column { column, .. } = output {
            columns.push(column.column.as_str());
        }
    }
    for filter in &node.filters {
        expr_columns(filter, node.alias, &mut columns);
    }
    guard.check(table, Command::Select, columns)
}

/// Grants for a node's sort keys: its own columns, and a related table's columns it sorts by
/// (a sort reveals the order of values as a filter reveals them).
///
/// Errors: `42501`.
pub(crate) fn check_order_grants(
    catalog: &Catalog,
    guard: Guard<'_>,
    table: &Table,
    node: &Node,
) -> Result<(), PlanError> {
    if matches!(guard, Guard::Free) {
        return Ok(());
    }
    for order in &node.order {
        match &order.key {
            OrderKey::Column(c) => guard.check(table, Command::Select, [c.column.as_str()])?,
            OrderKey::Related { embed, column } => {
                if let Some(related) = catalog.table(&embed.node.table) {
                    guard.check(related, Command::Select, [column.column.as_str()])?;
                }
            }
        }
    }
    Ok(())
}

/// A many-to-many embed reads its junction table's key columns: they must be granted, and the
/// junction's own `SELECT` policies decide which of its rows link a parent to a child: the
/// conditions on the junction (as `alias`) to add to the join.
///
/// Errors: `42501`.
pub(crate) fn junction_rows(
    catalog: &Catalog,
    guard: Guard<'_>,
    junction: &Junction,
    alias: usize,
) -> Result<Vec<Expr>, PlanError> {
    let Some(table) = catalog.table(&junction.table) else { return Ok(Vec::new()) };
    let columns = junction.source_columns.iter().map(|(_, c)| c).chain(junction.target_columns.iter().map(|(c, _)| c));
    guard.check(table, Command::Select, columns.map(String::as_str))?;
    let mut node = Node::of(table);
    node.alias = alias;
    Ok(guard.using(table, &node, Command::Select)?.into_iter().collect())
}

/// At most this many output keys (columns and embeddings, `*` expanded, all levels together)
/// in one request: every engine builds JSON objects from argument lists, and SQLite's function
/// arguments stop at 1,000 (500 keys in one object).
pub const MAX_OUTPUTS: usize = 400;

/// At most this many sort keys in one request, all levels together.
pub const MAX_ORDER_TERMS: usize = 64;

/// Soft delete (docs/schema.md, "Soft delete"): on a table with a `deleted_at` column, the rows
/// a node sees are the live ones, the deleted ones or both (`Prefer: deleted=`), unless the
/// request filters on the column itself at that level (`named`): the condition on the node's
/// `deleted_at`, or `None` for none.
pub(crate) fn soft_delete(deleted: DeletedRows, named: bool) -> Option<IsValue> {
    match (named, deleted) {
        (true, _) | (false, DeletedRows::Include) => None,
        (false, DeletedRows::Live) => Some(IsValue::Null),
        (false, DeletedRows::Only) => Some(IsValue::NotNull),
    }
}

/// Hard delete: `Prefer: delete=hard` removes rows of a soft-delete table only on a server
/// started with `--allow-hard-delete` (403 `42501` otherwise).
pub(crate) fn check_hard_delete(ctx: &RequestContext, table: &Table) -> Result<(), PlanError> {
    if ctx.hard_delete && table.soft_delete_column().is_some() && !ctx.server.allow_hard_delete {
        return Err(PlanError::HardDeleteForbidden(table.name.clone()));
    }
    Ok(())
}

/// Unfiltered writes: a `PATCH` or `DELETE` without any filter would change every row, and is
/// refused (400 `21000`) unless the server runs with `--allow-unfiltered-writes`.
pub(crate) fn check_filtered(ctx: &RequestContext, plan: &WritePlan) -> Result<(), PlanError> {
    let (verb, filters) = match &plan.mutation {
        Mutation::Update { filters, .. } => ("UPDATE", filters),
        Mutation::Delete { filters, .. } => ("DELETE", filters),
        Mutation::Insert(_) => return Ok(()),
    };
    // A limited write picks rows through a subquery; a limit alone filters none. The last
    // filters are the role's policies (`SELECT`'s, then the command's `USING`), not the request's.
    let policies = |filters: &[Expr]| filters.len() > plan.visible.len() + plan.checks.using;
    let filtered = match filters.as_slice() {
        [Expr::KeyInQuery { query, .. }] => policies(&query.filters),
        other => policies(other),
    };
    if !filtered && !ctx.server.allow_unfiltered_writes {
        return Err(PlanError::UnfilteredWrite(verb));
    }
    Ok(())
}

/// Refuses a write the relation does not take (`allowed` false: a view neither automatically
/// updatable nor given an `INSTEAD OF` trigger for it), or any write to a view with no key to
/// write through, before any SQL runs (405 `55000`, in PostgreSQL's words).
pub(crate) fn check_writable(table: &Table, action: &'static str, allowed: bool) -> Result<(), PlanError> {
    if !allowed {
        return Err(PlanError::NotWritable {
            relation: table.name.clone(),
            action,
            reason: format!(
                "The view is not automatically updatable and has no INSTEAD OF trigger for this write: \
                 add one (CREATE TRIGGER ... INSTEAD OF {} ON \"{}\")",
                action.split_whitespace().next().unwrap_or(action).to_ascii_uppercase(),
                table.name
            ),
        });
    }
    if table.kind == TableKind::View && table.primary_key.is_empty() {
        return Err(PlanError::NotWritable {
            relation: table.name.clone(),
            action,
            reason: "Rowbase writes a view by the primary key of its base table, and the view shows no base \
                     table's whole primary key under the key's own column names"
                .into(),
        });
    }
    Ok(())
}

/// Refuses a plan past [`MAX_OUTPUTS`] or [`MAX_ORDER_TERMS`] before any SQL is made (400
/// `54001`, naming the limit).
pub(crate) fn check_size(root: &Node) -> Result<(), PlanError> {
    fn walk(node: &Node, outputs: &mut usize, order: &mut usize) {
        *outputs += node.outputs.len();
        *order += node.order.len();
        for output in &node.outputs {
            if let Output::Embed { embed, .. } = output {
                walk(&embed.node, outputs, order);
            }
        }
    }
    let (mut outputs, mut order) = (0, 0);
    walk(root, &mut outputs, &mut order);
    if outputs > MAX_OUTPUTS {
        return Err(PlanError::TooLarge(format!(
            "the request selects {outputs} columns and embeddings; at most {MAX_OUTPUTS} are allowed"
        )));
    }
    if order > MAX_ORDER_TERMS {
        return Err(PlanError::TooLarge(format!(
            "the request orders by {order} keys; at most {MAX_ORDER_TERMS} are allowed"
        )));
    }
    Ok(())
}
