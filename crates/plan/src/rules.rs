//! Every rule that narrows or checks the rows a request reaches, in one place, applied by the
//! planner to every plan node (embedded resources included) and every write: soft delete, hard
//! delete, unfiltered writes, the writes a view takes, and the size of a request. Access
//! policies (roles, grants, row-level policies) join them here.

use rowbase_catalog::{Table, TableKind};
use rowbase_request::{DeletedRows, IsValue};

use crate::context::RequestContext;
use crate::error::PlanError;
use crate::plan::{Expr, Mutation, Node, Output, WritePlan};

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
    // A limited write picks rows through a subquery; a limit alone filters none.
    let filtered = match filters.as_slice() {
        [Expr::KeyInQuery { query, .. }] => !query.filters.is_empty(),
        other => !other.is_empty(),
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
