//! Planning a read: builds the embedding tree from `select`, then resolves each level bottom-up
//! (filters, `!inner`, orders, limits) so that every `EXISTS` and related order sees its embed
//! complete.

use rowbase_catalog::{Catalog, Name, Table};
use rowbase_request::{Condition, DeletedRows, QueryParams, Scoped, SelectItem};

use crate::access::Guard;
use crate::error::PlanError;
use crate::expr::{condition_to_expr, order_to_plan};
use crate::plan::{Cast, ColumnRef, Embed, EmbedMode, Expr, Join, JunctionJoin, Node, OrderKey, Output, ReadPlan};
use crate::relation::find_relationship;

/// The rows of the root a response covers: from `limit`/`offset` and the `Range` header,
/// already intersected by the HTTP layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Rows to skip.
    pub offset: u64,
    /// At most this many rows; `None` is unbounded.
    pub limit: Option<u64>,
}

/// A read request, parsed.
#[derive(Debug, Clone, Copy)]
pub struct ReadRequest<'a> {
    /// The table or view of the URL path.
    pub table: &'a str,
    /// The parsed query string. Root-level `limit`/`offset` are ignored here: they are in `window`.
    pub params: &'a QueryParams,
    /// The root's window.
    pub window: Window,
    /// Whether a total count is wanted (`Prefer: count=...`).
    pub count: bool,
}

/// Plans a read against `catalog` (whose tables live in `schema`, for error messages).
///
/// Errors: any [`PlanError`]; nothing is executed.
pub(crate) fn plan_read(
    catalog: &Catalog,
    schema: &str,
    request: &ReadRequest<'_>,
    deleted: DeletedRows,
    guard: Guard<'_>,
) -> Result<ReadPlan, PlanError> {
    let table = find_table(catalog, schema, request.table)?;
    // An absent or empty root select means every column (embeds use an empty select to filter
    // without output).
    let star = [SelectItem::Star];
    let items = match request.params.select.as_deref() {
        Some(items) if !items.is_empty() => items,
        _ => &star,
    };
    let mut aliases = 0;
    let mut root = build_node(catalog, schema, table, items, &mut aliases, guard)?;
    check_paths(&root, request.params)?;
    resolve(catalog, &mut root, &mut Vec::new(), request.params, deleted, guard)?;
    crate::rules::check_size(&root)?;
    root.offset = request.window.offset;
    root.limit = request.window.limit;
    Ok(ReadPlan { schema: table.schema.clone(), root, count: request.count })
}

/// The table named `name`, or `PGRST205` with the closest name as a hint.
pub(crate) fn find_table<'c>(catalog: &'c Catalog, schema: &str, name: &str) -> Result<&'c Table, PlanError> {
    catalog.table(name).ok_or_else(|| PlanError::TableNotFound {
        schema: schema.to_string(),
        table: name.to_string(),
        suggestion: closest(name, catalog.tables().iter().map(|t| t.name.as_str())),
    })
}

/// The candidate closest to `name` (case-insensitive edit distance), if close enough to be a
/// plausible typo.
pub(crate) fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    candidates
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

fn next_alias(aliases: &mut usize) -> usize {
    let a = *aliases;
    *aliases += 1;
    a
}

fn build_node(
    catalog: &Catalog,
    schema: &str,
    table: &Table,
    items: &[SelectItem],
    aliases: &mut usize,
    guard: Guard<'_>,
) -> Result<Node, PlanError> {
    let alias = next_alias(aliases);
    let mut node = Node {
        table: table.name.clone(),
        alias,
        outputs: Vec::new(),
        filters: Vec::new(),
        order: Vec::new(),
        limit: None,
        offset: 0,
        indexed_order: false,
    };
    for item in items {
        match item {
            // A generated full-text column (a tsvector, or the text an FTS index reads) is for
            // filtering, not reading, and Rowbase's own generated columns are bookkeeping: `*`
            // leaves them out; they can still be selected by name. With column grants, `*` is
            // the columns the role may read.
            SelectItem::Star => {
                let shown =
                    |c: &&rowbase_catalog::Column| !is_hidden_column(c) && guard.may_select(&table.name, &c.name);
                node.outputs.reserve(table.columns.len());
                node.outputs.extend(table.columns.iter().filter(shown).map(|c| Output::Column {
                    key: c.name.clone(),
                    column: ColumnRef {
                        alias,
                        column: c.name.clone(),
                        data_type: c.data_type,
                        nullable: c.nullable,
                        json_path: Vec::new(),
                        cast: None,
                    },
                }))
            }
            SelectItem::Column { alias: key, field, cast } => {
                let mut column = column_ref(table, alias, &field.name)?;
                column.json_path.clone_from(&field.json_path);
                column.nullable |= !column.json_path.is_empty();
                column.cast = match cast {
                    Some(name) => Some(Cast::from_name(name).ok_or_else(|| PlanError::UnknownType(name.clone()))?),
                    None => None,
                };
                let key = match key {
                    Some(key) => Name::from(key),
                    None if field.json_path.is_empty() => column.column.clone(),
                    None => Name::from(field.output_name()),
                };
                node.outputs.push(Output::Column { key, column });
            }
            SelectItem::Embed(e) => {
                let rel = find_relationship(catalog, schema, &table.name, &e.relation, e.hint.as_deref())?;
                if e.spread && !rel.is_to_one() {
                    return Err(PlanError::SpreadNotToOne(e.relation.clone()));
                }
                let target = find_table(catalog, schema, &rel.target)?;
                let junction = match &rel.junction {
                    Some(j) => {
                        let alias = next_alias(aliases);
                        Some(Box::new(JunctionJoin {
                            table: j.table.clone(),
                            alias,
                            parent_pairs: j.source_columns.clone(),
                            child_pairs: j.target_columns.clone(),
                            filters: crate::rules::junction_rows(catalog, guard, j, alias)?,
                        }))
                    }
                    None => None,
                };
                let child = build_node(catalog, schema, target, &e.select, aliases, guard)?;
                let mode = if e.spread {
                    EmbedMode::Spread
                } else if e.select.is_empty() {
                    EmbedMode::Hidden
                } else {
                    EmbedMode::Nested
                };
                let embed = Embed {
                    node: child,
                    join: Join { parent_alias: alias, pairs: rel.columns.clone(), junction },
                    to_one: rel.is_to_one(),
                    inner: e.join == Some(rowbase_request::JoinKind::Inner),
                };
                node.outputs.push(Output::Embed { key: Name::from(e.key()), embed, mode });
            }
        }
    }
    Ok(node)
}

/// A plain column reference, or `42703` with the closest column as a hint.
pub(crate) fn column_ref(table: &Table, alias: usize, name: &str) -> Result<ColumnRef, PlanError> {
    let column = table.column(name).ok_or_else(|| PlanError::ColumnNotFound {
        table: table.name.clone(),
        column: name.to_string(),
        suggestion: closest(name, table.columns.iter().map(|c| c.name.as_str())),
    })?;
    Ok(ColumnRef {
        alias,
        column: column.name.clone(),
        data_type: column.data_type,
        nullable: column.nullable,
        json_path: Vec::new(),
        cast: None,
    })
}

/// Whether `*` leaves `column` out: a generated full-text search column, or a generated column
/// of Rowbase's own (`rowbase_alive`).
pub(crate) fn is_hidden_column(column: &rowbase_catalog::Column) -> bool {
    column.generated && (column.full_text.is_some() || column.name.starts_with("rowbase_"))
}

/// The embed under `key` among a node's outputs.
pub(crate) fn embed_of<'n>(node: &'n Node, key: &str) -> Option<&'n Embed> {
    node.outputs.iter().find_map(|o| match o {
        Output::Embed { key: k, embed, .. } if k == key => Some(embed),
        _ => None,
    })
}

fn has_path(node: &Node, path: &[String]) -> Result<(), PlanError> {
    match path.split_first() {
        None => Ok(()),
        Some((first, rest)) => match embed_of(node, first) {
            Some(embed) => has_path(&embed.node, rest),
            None => Err(PlanError::NotEmbedded(first.clone())),
        },
    }
}

/// `PGRST108` for any filter, order or limit whose embed path is not in `select`.
fn check_paths(root: &Node, params: &QueryParams) -> Result<(), PlanError> {
    let paths = params
        .conditions
        .iter()
        .map(|s| &s.path)
        .chain(params.order.iter().map(|s| &s.path))
        .chain(params.limit.iter().map(|s| &s.path))
        .chain(params.offset.iter().map(|s| &s.path));
    for path in paths {
        has_path(root, path)?;
    }
    Ok(())
}

/// Whether a condition tree filters on the column `name`.
fn mentions(condition: &Condition, name: &str) -> bool {
    match condition {
        Condition::Group { conditions, .. } => conditions.iter().any(|c| mentions(c, name)),
        Condition::Filter(filter) => filter.field.name == name,
    }
}

fn at<'p, T>(items: &'p [Scoped<T>], path: &'p [String]) -> impl Iterator<Item = &'p T> {
    items.iter().filter(move |s| s.path == path).map(|s| &s.value)
}

/// Resolves the node at `path`: children first, then its filters, `!inner` embeds, orders and
/// (below the root) limits.
fn resolve(
    catalog: &Catalog,
    node: &mut Node,
    path: &mut Vec<String>,
    params: &QueryParams,
    deleted: DeletedRows,
    guard: Guard<'_>,
) -> Result<(), PlanError> {
    for output in &mut node.outputs {
        if let Output::Embed { key, embed, .. } = output {
            path.push(key.to_string());
            resolve(catalog, &mut embed.node, path, params, deleted, guard)?;
            path.pop();
        }
    }
    let table = catalog.table(&node.table).ok_or_else(|| PlanError::TableNotFound {
        schema: String::new(),
        table: node.table.clone(),
        suggestion: None,
    })?;
    for condition in at(&params.conditions, path) {
        let expr = condition_to_expr(node, table, condition)?;
        node.filters.push(expr);
    }
    // What the request names must be granted; what the rules add below need not be.
    crate::rules::check_read_grants(guard, table, node)?;
    if let Some(column) = table.soft_delete_column() {
        let named = at(&params.conditions, path).any(|c| mentions(c, &column.name));
        if let Some(value) = crate::rules::soft_delete(deleted, named) {
            node.filters.push(Expr::Is { left: column_ref(table, node.alias, &column.name)?, value });
        }
    }
    let inner: Vec<Expr> = node
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Embed { embed, .. } if embed.inner => Some(Expr::Exists(Box::new(embed.clone()))),
            _ => None,
        })
        .collect();
    node.filters.extend(inner);
    for terms in at(&params.order, path) {
        node.order = terms.iter().map(|t| order_to_plan(catalog, node, table, t)).collect::<Result<_, _>>()?;
    }
    node.indexed_order = match node.order.first().map(|term| &term.key) {
        Some(OrderKey::Column(column)) if column.json_path.is_empty() && column.cast.is_none() => {
            let name = column.column.as_str();
            table.primary_key.first().is_some_and(|c| c == name)
                || table.indexes.iter().any(|index| index.columns.first().is_some_and(|(c, _)| c == name))
        }
        _ => false,
    };
    crate::rules::check_order_grants(catalog, guard, table, node)?;
    // The role's row-level policies, before any parent copies this node into an `EXISTS`.
    if let Some(visible) = guard.using(table, node, rowbase_catalog::Command::Select)? {
        node.filters.push(visible);
    }
    if !path.is_empty() {
        if let Some(&limit) = at(&params.limit, path).last() {
            node.limit = Some(limit.max(0).unsigned_abs());
        }
        if let Some(&offset) = at(&params.offset, path).last() {
            node.offset = offset;
        }
    }
    Ok(())
}
