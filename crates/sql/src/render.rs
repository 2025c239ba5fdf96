//! The engine-neutral structure of a read statement.
//!
//! ```text
//! SELECT json_object('k', t0."c", 'child', (SELECT agg(s1.r) FROM (SELECT json_object(...) AS r
//!        FROM "Child" AS t1 WHERE t1."fk" = t0."id" AND ... ORDER BY ... LIMIT ...) AS s1)) AS r
//! FROM "Root" AS t0 WHERE ... ORDER BY ... LIMIT ? OFFSET ?
//! ```
//!
//! To-one embeds are scalar subqueries returning an object (or NULL); to-many embeds aggregate an
//! ordered, windowed subquery into an array; spreads lift each column through its own scalar
//! subquery; `!inner` and `rel=not.is.null` become `EXISTS`. With a count, the page is wrapped
//! so one row carries the total, the page's row count and the JSON array.

use rowbase_catalog::DataType;
use rowbase_plan::{Embed, EmbedMode, Expr, Node, OrderBy, OrderKey, Output, QuantifiedOp, ReadPlan, RowKey, Value};
use rowbase_request::{Direction, IsValue, Nulls, Quantifier};

use crate::dialect::{Dialect, ObjectForm, RenderError};
use crate::writer::{Statement, Writer};

/// A rendered read and the shape of its result.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadStatement {
    /// The SQL and parameters.
    pub statement: Statement,
    /// `false`: one row per result row, one column holding its JSON object text.
    /// `true`: exactly one row of three columns: total count (integer), page row count
    /// (integer), and the JSON array text of the page.
    pub counted: bool,
    /// For engines that count apart ([`Dialect::counts_apart`]): `SELECT count(*) ...`, to run
    /// beside `statement` (a plain page, `counted` false) in one snapshot.
    pub count: Option<Statement>,
}

impl ReadStatement {
    /// A plain page: one row per result row.
    pub fn page(statement: Statement) -> ReadStatement {
        ReadStatement { statement, counted: false, count: None }
    }
}

/// Renders a read plan for `dialect`.
///
/// Errors: [`RenderError::Unsupported`] when the plan uses an operator the engine lacks.
pub fn render_read(plan: &ReadPlan, dialect: &dyn Dialect) -> Result<ReadStatement, RenderError> {
    let mut w = Writer::new(dialect, &plan.schema);
    let root = &plan.root;
    if plan.count && dialect.counts_apart() {
        // The page streams row by row as without a count; the total comes from its own statement.
        let mut c = Writer::new(dialect, &plan.schema);
        c.push("SELECT count(*) FROM ");
        from(&mut c, root);
        where_clause(&mut c, root, None)?;
        page(&mut w, root, None)?;
        return Ok(ReadStatement { statement: w.finish(), counted: false, count: Some(c.finish()) });
    }
    if plan.count && dialect.aggregates_in_place() {
        // SELECT (total), length(page), page FROM (SELECT agg(obj ORDER BY .. LIMIT ..) AS a ..) AS x
        w.push("SELECT (SELECT count(*) FROM ");
        from(&mut w, root);
        where_clause(&mut w, root, None)?;
        w.push("), ");
        let (len_open, len_close) = dialect.json_array_length();
        w.push(len_open);
        w.push("x.a");
        w.push(len_close);
        w.push(", x.a FROM (SELECT ");
        let (open, close) = dialect.json_array_agg_in_place(form_of(dialect, root));
        w.push(open);
        object(&mut w, root)?;
        order_by(&mut w, root)?;
        dialect.limit_offset(&mut w, root.limit, root.offset);
        w.push(close);
        w.push(" AS a FROM ");
        from(&mut w, root);
        where_clause(&mut w, root, None)?;
        w.push(") AS x");
    } else if plan.count {
        w.push("SELECT (SELECT count(*) FROM ");
        from(&mut w, root);
        where_clause(&mut w, root, None)?;
        w.push("), count(*), ");
        let (open, close) = dialect.json_array_agg();
        w.push(open);
        w.push("s.r");
        w.push(close);
        w.push(" FROM (");
        page(&mut w, root, None)?;
        w.push(") AS s");
    } else {
        page(&mut w, root, None)?;
    }
    Ok(ReadStatement { statement: w.finish(), counted: plan.count, count: None })
}

/// `SELECT <object> AS r FROM ... WHERE ... ORDER BY ... LIMIT ...` for a node (the root, or the
/// rows of a to-many embed).
fn page(w: &mut Writer<'_>, node: &Node, join: Option<&Embed>) -> Result<(), RenderError> {
    // Rows first, then JSON, for a root page past an offset or cut from a sort no index serves:
    // in one query the engines build the object of every row they sort or skip (SQLite and
    // PostgreSQL evaluate the select list below their sort and limit), 1,297 objects for 20
    // tracks of one genre. An order an index serves stops at the limit by itself, and picking
    // first would only add a subquery and a second sort (a fifth more CPU in SQLite).
    let sorted = node.limit.is_some() && !node.order.is_empty() && !node.indexed_order;
    if join.is_none() && (node.offset > 0 || sorted) {
        let mut columns = Vec::new();
        outer_columns(node, node.alias, &mut columns);
        // An empty object reads no column: one query is as cheap.
        if !columns.is_empty() {
            return deep_page(w, node, &columns);
        }
    }
    w.push("SELECT ");
    object(w, node)?;
    w.push(" AS r FROM ");
    from(w, node);
    where_clause(w, node, join)?;
    order_by(w, node)?;
    w.dialect().limit_offset(w, node.limit, node.offset);
    Ok(())
}

/// A root page past an offset or cut from a sort: the rows are picked first, then only they are made JSON
/// (`SELECT <object> FROM (SELECT tN.<columns> ... LIMIT .. OFFSET ..) AS tN ORDER BY ..`). Built
/// in one query, PostgreSQL computes the object of every skipped row too (its Limit node reads
/// projected rows): four times slower at an offset of 900,000.
///
/// The picked rows carry only `columns`, those the object and the order read ([`outer_columns`],
/// not `tN.*`): a role granted some columns of a table may not select the others, on PostgreSQL
/// natively.
fn deep_page(w: &mut Writer<'_>, node: &Node, columns: &[&str]) -> Result<(), RenderError> {
    w.push("SELECT ");
    object(w, node)?;
    w.push(" AS r FROM (SELECT ");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.column(node.alias, column);
    }
    w.push(" FROM ");
    from(w, node);
    where_clause(w, node, None)?;
    order_by(w, node)?;
    w.dialect().limit_offset(w, node.limit, node.offset);
    w.push(") AS ");
    w.table_alias(node.alias);
    order_by(w, node)
}

/// The columns of alias `alias` that `node`'s object and order read (its own columns, the
/// parent side of its embeds' and related orders' joins, through spreads and nested embeds),
/// each once, in the order met.
fn outer_columns<'p>(node: &'p Node, alias: usize, out: &mut Vec<&'p str>) {
    let add = |column: &'p str, out: &mut Vec<&'p str>| {
        if !out.contains(&column) {
            out.push(column);
        }
    };
    let join = |embed: &'p Embed, out: &mut Vec<&'p str>| {
        if embed.join.parent_alias == alias {
            for (parent, _) in &embed.join.pairs {
                add(parent, out);
            }
            if let Some(j) = &embed.join.junction {
                for (parent, _) in &j.parent_pairs {
                    add(parent, out);
                }
            }
        }
        outer_columns(&embed.node, alias, out);
    };
    for output in &node.outputs {
        match output {
            Output::Column { column, .. } if column.alias == alias => add(&column.column, out),
            Output::Column { .. } => {}
            Output::Embed { embed, .. } => join(embed, out),
        }
    }
    for term in &node.order {
        match &term.key {
            OrderKey::Column(column) if column.alias == alias => add(&column.column, out),
            OrderKey::Column(_) => {}
            OrderKey::Related { embed, .. } => join(embed, out),
        }
    }
}

/// `"Table" AS tN` (plus the junction join for many-to-many embeds, written by `where_clause`'s
/// caller through [`from_embed`]).
fn from(w: &mut Writer<'_>, node: &Node) {
    w.table(&node.table);
    w.push(" AS ");
    w.table_alias(node.alias);
}

fn from_embed(w: &mut Writer<'_>, embed: &Embed) {
    from(w, &embed.node);
    if let Some(j) = &embed.join.junction {
        w.push(" JOIN ");
        w.table(&j.table);
        w.push(" AS ");
        w.table_alias(j.alias);
        w.push(" ON ");
        for (i, (junction_col, child_col)) in j.child_pairs.iter().enumerate() {
            if i > 0 {
                w.push(" AND ");
            }
            w.column(j.alias, junction_col);
            w.push(" = ");
            w.column(embed.node.alias, child_col);
        }
    }
}

/// ` WHERE <join> AND <filters>`, or nothing.
fn where_clause(w: &mut Writer<'_>, node: &Node, join: Option<&Embed>) -> Result<(), RenderError> {
    let mut first = true;
    let mut and = |w: &mut Writer<'_>| {
        w.push(if first { " WHERE " } else { " AND " });
        first = false;
    };
    if let Some(embed) = join {
        let parent = embed.join.parent_alias;
        match &embed.join.junction {
            Some(j) => {
                for (parent_col, junction_col) in &j.parent_pairs {
                    and(w);
                    w.column(j.alias, junction_col);
                    w.push(" = ");
                    w.column(parent, parent_col);
                }
                for filter in &j.filters {
                    and(w);
                    expr(w, filter, true)?;
                }
            }
            None => {
                for (parent_col, child_col) in &embed.join.pairs {
                    and(w);
                    w.column(embed.node.alias, child_col);
                    w.push(" = ");
                    w.column(parent, parent_col);
                }
            }
        }
    }
    for filter in &node.filters {
        and(w);
        expr(w, filter, true)?;
    }
    Ok(())
}

/// The JSON object of one row of `node`.
fn object(w: &mut Writer<'_>, node: &Node) -> Result<(), RenderError> {
    let d = w.dialect();
    let form = form_of(d, node);
    w.push(d.json_object_open(form));
    let mut index = 0;
    entries(w, node, form, &mut index, &mut |w, value| value(w))?;
    w.push(d.json_object_close(form, index));
    Ok(())
}

/// The form the dialect builds `node`'s object in (see [`Dialect::object_form`]).
fn form_of(d: &dyn Dialect, node: &Node) -> ObjectForm {
    d.object_form(embeds(node))
}

/// Whether `node`'s object holds a nested embedding, directly or through spreads.
fn embeds(node: &Node) -> bool {
    node.outputs.iter().any(|output| match output {
        Output::Embed { mode: EmbedMode::Nested, .. } => true,
        Output::Embed { embed, mode: EmbedMode::Spread, .. } => embeds(&embed.node),
        _ => false,
    })
}

type ValueWriter<'a> = dyn Fn(&mut Writer<'_>) -> Result<(), RenderError> + 'a;
type Wrap<'a> = dyn FnMut(&mut Writer<'_>, &ValueWriter<'_>) -> Result<(), RenderError> + 'a;

/// Writes the `key, value` entries of `node`'s outputs. `wrap` puts a raw value in context: at
/// the top of an object it writes it as is; inside a spread it wraps it in the spread's scalar
/// subquery, so spreads nest. The JSON typing (`json_value`) goes outside every subquery, since
/// engines may drop a value's JSON-ness at a subquery boundary.
fn entries(
    w: &mut Writer<'_>,
    node: &Node,
    form: ObjectForm,
    index: &mut usize,
    wrap: &mut Wrap<'_>,
) -> Result<(), RenderError> {
    let d = w.dialect();
    for output in &node.outputs {
        match output {
            Output::Column { key, column } => {
                entry_key(w, d, form, index, key);
                let (open, close) = d.json_value(form, column.output_type());
                w.push(open);
                wrap(w, &|w| w.dialect().column(w, column))?;
                w.push(close);
            }
            Output::Embed { key, embed, mode: EmbedMode::Nested } => {
                entry_key(w, d, form, index, key);
                let (open, close) = d.json_embedded(form, embed.to_one);
                w.push(open);
                wrap(w, &|w| embedded(w, embed))?;
                w.push(close);
            }
            Output::Embed { embed, mode: EmbedMode::Spread, .. } => {
                let mut inner = |w: &mut Writer<'_>, value: &ValueWriter<'_>| -> Result<(), RenderError> {
                    wrap(w, &|w| {
                        w.push("(SELECT ");
                        value(w)?;
                        w.push(" FROM ");
                        from_embed(w, embed);
                        where_clause(w, &embed.node, Some(embed))?;
                        w.push(")");
                        Ok(())
                    })
                };
                entries(w, &embed.node, form, index, &mut inner)?;
            }
            Output::Embed { mode: EmbedMode::Hidden, .. } => {}
        }
    }
    Ok(())
}

/// The key of the next entry (see [`Dialect::json_object_key`]).
fn entry_key(w: &mut Writer<'_>, d: &dyn Dialect, form: ObjectForm, index: &mut usize, key: &str) {
    d.json_object_key(w, form, *index, key);
    *index += 1;
}

/// The value of a nested embed: an object subquery (to-one) or an aggregated array (to-many).
fn embedded(w: &mut Writer<'_>, embed: &Embed) -> Result<(), RenderError> {
    if embed.to_one {
        w.push("(SELECT ");
        object(w, &embed.node)?;
        w.push(" FROM ");
        from_embed(w, embed);
        where_clause(w, &embed.node, Some(embed))?;
        w.push(")");
    } else if w.dialect().aggregates_in_place()
        || (w.dialect().aggregates_unwindowed_in_place() && embed.node.limit.is_none() && embed.node.offset == 0)
    {
        let (open, close) = w.dialect().json_array_agg_in_place(form_of(w.dialect(), &embed.node));
        w.push("(SELECT ");
        w.push(open);
        object(w, &embed.node)?;
        order_by(w, &embed.node)?;
        w.dialect().limit_offset(w, embed.node.limit, embed.node.offset);
        w.push(close);
        w.push(" FROM ");
        from_embed(w, embed);
        where_clause(w, &embed.node, Some(embed))?;
        w.push(")");
    } else {
        let (open, close) = w.dialect().json_array_agg();
        w.push("(SELECT ");
        w.push(open);
        w.subquery_alias(embed.node.alias);
        w.push(".r");
        w.push(close);
        w.push(" FROM (SELECT ");
        object(w, &embed.node)?;
        w.push(" AS r FROM ");
        from_embed(w, embed);
        where_clause(w, &embed.node, Some(embed))?;
        order_by(w, &embed.node)?;
        w.dialect().limit_offset(w, embed.node.limit, embed.node.offset);
        w.push(") AS ");
        w.subquery_alias(embed.node.alias);
        w.push(")");
    }
    Ok(())
}

fn order_by(w: &mut Writer<'_>, node: &Node) -> Result<(), RenderError> {
    for (i, term) in node.order.iter().enumerate() {
        w.push(if i == 0 { " ORDER BY " } else { ", " });
        order_term(w, term)?;
    }
    Ok(())
}

/// One sort key with PostgreSQL's null placement (nulls sort as larger than any value) made
/// explicit where the key can be NULL, so every engine orders alike.
fn order_term(w: &mut Writer<'_>, term: &OrderBy) -> Result<(), RenderError> {
    let nullable = match &term.key {
        OrderKey::Column(column) => column.nullable,
        OrderKey::Related { .. } => true,
    };
    let descending = term.direction == Some(Direction::Desc);
    let nulls_first = match term.nulls {
        Some(Nulls::First) => true,
        Some(Nulls::Last) => false,
        None => descending,
    };
    let explicit = (nullable || term.nulls.is_some()).then_some(nulls_first);
    w.dialect().order_term(w, &|w| order_key(w, term), descending, explicit)
}

/// The expression of a sort key.
fn order_key(w: &mut Writer<'_>, term: &OrderBy) -> Result<(), RenderError> {
    match &term.key {
        OrderKey::Column(column) => w.dialect().column(w, column),
        OrderKey::Related { embed, column } => {
            w.push("(SELECT ");
            w.dialect().column(w, column)?;
            w.push(" FROM ");
            from_embed(w, embed);
            where_clause(w, &embed.node, Some(embed))?;
            w.push(")");
            Ok(())
        }
    }
}

/// A boolean expression. `top` avoids parentheses directly under `WHERE ... AND`.
pub(crate) fn expr(w: &mut Writer<'_>, e: &Expr, top: bool) -> Result<(), RenderError> {
    let d = w.dialect();
    match e {
        Expr::And(children) | Expr::Or(children) => {
            let (joiner, empty) = if matches!(e, Expr::And(_)) { (" AND ", "1 = 1") } else { (" OR ", "1 = 0") };
            if children.is_empty() {
                w.push(empty);
                return Ok(());
            }
            w.push("(");
            for (i, child) in children.iter().enumerate() {
                if i > 0 {
                    w.push(joiner);
                }
                expr(w, child, false)?;
            }
            w.push(")");
        }
        Expr::Not(inner) => {
            w.push("NOT (");
            expr(w, inner, true)?;
            w.push(")");
        }
        Expr::Compare { left, op, right } => {
            if !top {
                w.push("(");
            }
            let (open, close) = d.compared(left);
            let range = d.compared_range(left, *op, right);
            if range.is_some() {
                w.push("(");
            }
            w.push(open);
            d.column(w, left)?;
            w.push(close);
            w.push(d.compare_op(*op));
            w.push(open);
            w.bind(right.clone());
            w.push(close);
            w.push(d.compare_suffix(*op));
            if let Some((low, high)) = range {
                for (bound, operator) in [(low, " >= "), (high, " < ")] {
                    if let Some(bound) = bound {
                        w.push(" AND ");
                        d.column(w, left)?;
                        w.push(operator);
                        w.bind(bound);
                    }
                }
                w.push(")");
            }
            if !top {
                w.push(")");
            }
        }
        Expr::Pattern { left, op, pattern } => {
            let (operator, bound, suffix) = d.pattern(*op, pattern)?;
            let (wrap_open, wrap_close) = d.pattern_column(*op);
            w.push("(");
            w.push(wrap_open);
            d.column(w, left)?;
            w.push(wrap_close);
            w.push(operator);
            w.bind(Value::Text(bound));
            w.push(suffix);
            if let Some(range) = d.pattern_prefix_range(*op, pattern, left) {
                w.push(" AND ");
                d.column(w, left)?;
                w.push(" >= ");
                w.bind(Value::Text(range.low));
                w.push(range.collate);
                if let Some(high) = range.high {
                    w.push(" AND ");
                    d.column(w, left)?;
                    w.push(" < ");
                    w.bind(Value::Text(high));
                    w.push(range.collate);
                }
            }
            w.push(")");
        }
        Expr::Quantified { left, op, quantifier, values } => {
            let (joiner, empty) = match quantifier {
                Quantifier::Any => (" OR ", "1 = 0"),
                Quantifier::All => (" AND ", "1 = 1"),
            };
            if values.is_empty() {
                w.push(empty);
                return Ok(());
            }
            w.push("(");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    w.push(joiner);
                }
                let (wrap_open, wrap_close) = match op {
                    QuantifiedOp::Pattern(p) => d.pattern_column(*p),
                    QuantifiedOp::Compare(_) => d.compared(left),
                };
                w.push(wrap_open);
                d.column(w, left)?;
                w.push(wrap_close);
                match op {
                    QuantifiedOp::Compare(c) => {
                        w.push(d.compare_op(*c));
                        w.push(wrap_open);
                        w.bind(value.clone());
                        w.push(wrap_close);
                        w.push(d.compare_suffix(*c));
                    }
                    QuantifiedOp::Pattern(p) => {
                        let text = match value {
                            Value::Text(t) => t.as_str(),
                            _ => "",
                        };
                        let (operator, bound, suffix) = d.pattern(*p, text)?;
                        w.push(operator);
                        w.bind(Value::Text(bound));
                        w.push(suffix);
                    }
                }
            }
            w.push(")");
        }
        Expr::In { left, values } => {
            if values.is_empty() {
                w.push("1 = 0");
                return Ok(());
            }
            let (open, close) = d.compared(left);
            w.push(open);
            d.column(w, left)?;
            w.push(close);
            w.push(" IN (");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.push(open);
                w.bind(value.clone());
                w.push(close);
            }
            w.push(")");
        }
        Expr::Is { left, value } => {
            d.column(w, left)?;
            w.push(match value {
                IsValue::Null | IsValue::Unknown => " IS NULL",
                IsValue::NotNull => " IS NOT NULL",
                IsValue::True => " IS TRUE",
                IsValue::False => " IS FALSE",
            });
        }
        Expr::Exists(embed) => {
            w.push("EXISTS (SELECT 1 FROM ");
            from_embed(w, embed);
            where_clause(w, &embed.node, Some(embed))?;
            w.push(")");
        }
        Expr::KeyIn { alias, key, rows } => key_in(w, *alias, key, rows)?,
        Expr::KeyInQuery { alias, key, query } => {
            key_columns(w, *alias, key, true)?;
            w.push(" IN (SELECT ");
            key_columns(w, query.alias, key, false)?;
            w.push(" FROM ");
            from(w, query);
            where_clause(w, query, None)?;
            order_by(w, query)?;
            w.dialect().limit_offset(w, query.limit, query.offset);
            w.push(")");
        }
        Expr::FullText { .. } | Expr::Special { .. } => d.special(w, e)?,
    }
    Ok(())
}

/// `t0."id"`, `(t0."a", t0."b")` (or, for a select list, `t0."a", t0."b"`), or `t0.rowid`.
fn key_columns(w: &mut Writer<'_>, alias: usize, key: &RowKey, row_value: bool) -> Result<(), RenderError> {
    match key {
        RowKey::Columns(columns) if columns.len() == 1 => w.column(alias, &columns[0].0),
        RowKey::Columns(columns) => {
            if row_value {
                w.push("(");
            }
            for (i, (name, _)) in columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.column(alias, name);
            }
            if row_value {
                w.push(")");
            }
        }
        RowKey::EngineRowId => w.dialect().row_id(w, Some(alias))?,
    }
    Ok(())
}

/// `t0."id" IN (?, ?)`, `(t0."a", t0."b") IN (VALUES (?, ?), ...)`, or `t0.rowid IN (...)`.
fn key_in(w: &mut Writer<'_>, alias: usize, key: &RowKey, rows: &[Vec<Value>]) -> Result<(), RenderError> {
    if rows.is_empty() {
        w.push("1 = 0");
        return Ok(());
    }
    match key {
        RowKey::Columns(columns) if columns.len() > 1 => {
            w.push("(");
            for (i, (name, _)) in columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.column(alias, name);
            }
            w.push(") IN ");
            w.push(w.dialect().row_list_open());
            for (i, row) in rows.iter().enumerate() {
                w.push(if i > 0 { ", (" } else { "(" });
                for (j, value) in row.iter().enumerate() {
                    if j > 0 {
                        w.push(", ");
                    }
                    w.bind_typed(value.clone(), columns.get(j).map_or(DataType::Other, |c| c.1));
                }
                w.push(")");
            }
            w.push(")");
            return Ok(());
        }
        RowKey::Columns(columns) => w.column(alias, &columns[0].0),
        RowKey::EngineRowId => w.dialect().row_id(w, Some(alias))?,
    }
    w.push(" IN (");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.bind(row.first().cloned().unwrap_or(Value::Null));
    }
    w.push(")");
    Ok(())
}

/// `ORDER BY ... LIMIT ... OFFSET ...` of a node.
pub(crate) fn order_and_window(w: &mut Writer<'_>, node: &Node) -> Result<(), RenderError> {
    order_by(w, node)?;
    w.dialect().limit_offset(w, node.limit, node.offset);
    Ok(())
}
