//! The boundary between engine-neutral rendering and one engine's SQL.

use rowbase_catalog::DataType;
use rowbase_plan::{Cast, ColumnRef, CompareOp, Expr, PatternOp, Value};

use crate::settings::TransactionSettings;
use crate::writer::{Statement, Writer};

/// A plan the engine cannot execute faithfully. Rendered as HTTP 400 naming the engine, never a
/// wrong answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// An operator or feature the engine lacks.
    #[error("{feature} is not supported on {engine}")]
    Unsupported {
        /// The engine (`sqlite`, `postgresql`, `mysql`).
        engine: rowbase_catalog::Engine,
        /// What was asked for, e.g. `the 'cs' operator`.
        feature: String,
    },
    /// A full-text search query that cannot be read (`42601`, as PostgreSQL reports a malformed
    /// tsquery).
    #[error("{0}")]
    InvalidSearch(String),
}

/// How a row's JSON object is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectForm {
    /// The engine's object constructor: `json_object(k, v, ...)`, `json_build_object(...)`.
    Constructor,
    /// Text concatenated from JSON pieces, with embeddings' JSON spliced in as text; for an
    /// engine that drops the JSON mark of a subquery's value and would parse it again (SQLite).
    Text,
}

/// A range `low <= column < high` holding every match of a pattern with a literal prefix (see
/// [`Dialect::pattern_prefix_range`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixRange {
    /// The prefix itself.
    pub low: String,
    /// The smallest value above every string with the prefix; `None` when there is none.
    pub high: Option<String>,
    /// Written after each bound, e.g. ` COLLATE BINARY` to compare in the order the pattern
    /// matches in rather than the column's.
    pub collate: &'static str,
}

/// Everything that differs between engines. Methods write into a [`Writer`]; those returning
/// `(&str, &str)` give a prefix and suffix to wrap around an expression.
pub trait Dialect: Send + Sync {
    /// The engine this dialect writes for.
    fn engine(&self) -> rowbase_catalog::Engine;

    /// Appends `ident` quoted (ANSI double quotes with `"` doubled by default).
    fn quote_ident(&self, out: &mut String, ident: &str) {
        push_quoted(out, ident, '"');
    }

    /// Appends the placeholder of 1-based parameter `index` (`?` by default). `cast` is the type
    /// the value must have where the engine cannot infer it.
    fn placeholder(&self, out: &mut String, index: usize, cast: Option<DataType>) {
        let _ = (index, cast);
        out.push('?');
    }

    /// Appends a table name of `schema` (unqualified by default: engines without schemas).
    fn table_name(&self, out: &mut String, schema: &str, name: &str) {
        let _ = schema;
        self.quote_ident(out, name);
    }

    /// How an object is built: whether it holds nested embeddings (`embeds`) decides on engines
    /// that lose JSON at a subquery boundary. By default always the engine's constructor.
    fn object_form(&self, embeds: bool) -> ObjectForm {
        let _ = embeds;
        ObjectForm::Constructor
    }

    /// Opens an object, e.g. `json_object(`.
    fn json_object_open(&self, form: ObjectForm) -> &'static str;

    /// Separates entry `index` (> 0) from the previous one: `, ` unless the engine needs to
    /// split long argument lists.
    fn json_object_separator(&self, index: usize) -> &'static str {
        let _ = index;
        ", "
    }

    /// Wraps both sides of a comparison (`=`, `<`, `IN`, ...) of `column` with a bound value, so
    /// they compare by what they mean rather than as stored: on SQLite, dates and timestamps
    /// stored as text in different forms (`2005-05-24 23:00:00`, `2005-05-24T23:00:00Z`) compare
    /// as instants. Nothing by default: the engine's types compare by value already.
    fn compared(&self, column: &ColumnRef) -> (&'static str, &'static str) {
        let _ = column;
        ("", "")
    }

    /// Whether a counted read runs its count as a statement of its own beside the page, rather
    /// than aggregating the page into one value beside the count: for engines whose aggregates
    /// are bounded (MariaDB's `JSON_ARRAYAGG` stops at `max_allowed_packet`, 16 MiB by default).
    fn counts_apart(&self) -> bool {
        false
    }

    /// Whether a write through a view selects the keys of its rows first and then writes by
    /// them, without an alias and without `RETURNING`: SQLite's `INSTEAD OF` triggers return
    /// nothing through `RETURNING`, and an aliased view cannot be updated there.
    fn writes_views_by_key_first(&self) -> bool {
        false
    }

    /// What locks the rows a key select picks (` FOR UPDATE`); nothing on an engine whose
    /// writer holds the whole database (SQLite).
    fn lock_rows(&self) -> &'static str {
        " FOR UPDATE"
    }

    /// For a comparison that [`Dialect::compared`] wraps (so no index on the column serves it),
    /// a range on the bare column that holds every row the comparison can match, written beside
    /// it so an index finds the rows: `(low, high)` as `column >= low AND column < high`, either
    /// side open. `None` by default.
    fn compared_range(
        &self,
        column: &ColumnRef,
        op: CompareOp,
        value: &Value,
    ) -> Option<(Option<Value>, Option<Value>)> {
        let _ = (column, op, value);
        None
    }

    /// Closes an object of `entries` entries.
    fn json_object_close(&self, form: ObjectForm, entries: usize) -> &'static str {
        let _ = (form, entries);
        ")"
    }

    /// Writes the key of entry `index` of an object and what separates it from its value: by
    /// default [`Dialect::json_object_separator`] (after the first), the key ([`Writer::key`]), `, `.
    fn json_object_key(&self, w: &mut Writer<'_>, form: ObjectForm, index: usize, key: &str) {
        let _ = form;
        if index > 0 {
            w.push(self.json_object_separator(index));
        }
        w.key(key);
        w.push(", ");
    }

    /// Wraps a value of `data_type` so the object holds the right JSON type (booleans as
    /// `true`/`false`, JSON columns as JSON rather than strings).
    fn json_value(&self, form: ObjectForm, data_type: DataType) -> (&'static str, &'static str);

    /// Wraps a nested embedding's value, a scalar subquery yielding an object (`to_one`) or an
    /// array, so the parent object holds it as JSON. By default as a JSON column's value.
    fn json_embedded(&self, form: ObjectForm, to_one: bool) -> (&'static str, &'static str) {
        let _ = to_one;
        self.json_value(form, DataType::Json)
    }

    /// Wraps a subquery column holding one JSON object per row into a JSON array of them;
    /// `[]` when there are no rows.
    fn json_array_agg(&self) -> (&'static str, &'static str);

    /// Writes a column reference with its JSON path and cast.
    fn column(&self, w: &mut Writer<'_>, column: &ColumnRef) -> Result<(), RenderError>;

    /// Wraps an expression in a cast.
    fn cast(&self, cast: Cast) -> (&'static str, &'static str);

    /// The operator text of a comparison, with spaces (` = `, ` IS DISTINCT FROM `).
    fn compare_op(&self, op: CompareOp) -> &'static str {
        ansi_compare_op(op)
    }

    /// A pattern match: the operator text, the pattern to bind (translated to the engine's
    /// syntax), and a suffix (e.g. an `ESCAPE` clause).
    fn pattern(&self, op: PatternOp, pattern: &str) -> Result<(&'static str, String, &'static str), RenderError>;

    /// For a pattern match whose matches all start with a literal prefix: a range on the column
    /// that holds every match, written beside the match so an index on the column can find
    /// them. By default none: the engine's planner does it on its own (PostgreSQL, MySQL).
    fn pattern_prefix_range(&self, op: PatternOp, pattern: &str, column: &ColumnRef) -> Option<PrefixRange> {
        let _ = (op, pattern, column);
        None
    }

    /// Wraps the column of a pattern match (e.g. `LOWER(` `)` for a case-insensitive match on an
    /// engine whose collation may not ignore case).
    fn pattern_column(&self, op: PatternOp) -> (&'static str, &'static str) {
        let _ = op;
        ("", "")
    }

    /// Writes an expression the engine may lack (full-text search, `cs`/`cd`/`ov`, ranges).
    fn special(&self, w: &mut Writer<'_>, expr: &Expr) -> Result<(), RenderError>;

    /// Writes `LIMIT`/`OFFSET` for a window (nothing when unbounded and not offset).
    fn limit_offset(&self, w: &mut Writer<'_>, limit: Option<u64>, offset: u64);

    /// Writes the engine's own row identifier of table alias `alias` (`t0.rowid`), for tables
    /// without a primary key; `None` when the engine has none usable.
    fn row_id(&self, w: &mut Writer<'_>, alias: Option<usize>) -> Result<(), RenderError>;

    /// Writes one column of a `RETURNING` key list (`None`: the engine's row id), in a form
    /// the executor reads back as text or an integer.
    fn returned_key(&self, w: &mut Writer<'_>, column: Option<&str>) {
        match column {
            Some(name) => w.ident(name),
            None => {
                let _ = self.row_id(w, None);
            }
        }
    }

    /// The time of the statement as the engine writes a `timestamptz` column's `now` default
    /// (the same expression the schema file's `default = "now"` becomes).
    fn now(&self) -> &'static str;

    /// The statement that opens a request's transaction with what of `settings` this engine
    /// applies itself (see [`TransactionSettings`]), or `None` when there is nothing to set.
    /// It returns a row (so every engine runs it as a query).
    fn preamble(&self, settings: &TransactionSettings) -> Option<Statement>;

    /// The statement run at the end of the transaction to clear settings that outlive it
    /// (MySQL session variables, SQLite's audit context row), when the preamble set any; it
    /// returns rows or none.
    fn preamble_end(&self, settings: &TransactionSettings) -> Option<Statement> {
        let _ = settings;
        None
    }

    /// Wraps an integer of seconds since 1970-01-01 UTC into the engine's timestamp of that
    /// instant, comparable with a `now` default's values.
    fn timestamp_of_unix_seconds(&self) -> (&'static str, &'static str);

    /// The most bound parameters one statement may carry.
    fn max_params(&self) -> usize;

    /// Writes one sort key: the expression (written by `key`, which may be called twice), its
    /// direction, and, when `nulls_first` is given, where nulls go (` NULLS FIRST/LAST` by
    /// default).
    fn order_term(
        &self,
        w: &mut Writer<'_>,
        key: &dyn Fn(&mut Writer<'_>) -> Result<(), RenderError>,
        descending: bool,
        nulls_first: Option<bool>,
    ) -> Result<(), RenderError> {
        key(w)?;
        w.push(if descending { " DESC" } else { " ASC" });
        if let Some(first) = nulls_first {
            w.push(if first { " NULLS FIRST" } else { " NULLS LAST" });
        }
        Ok(())
    }

    /// Appended after a comparison's right operand (for engines whose null-safe inequality is an
    /// expression, not an operator).
    fn compare_suffix(&self, op: CompareOp) -> &'static str {
        let _ = op;
        ""
    }

    /// Whether to-many embeds aggregate in place (`agg(obj ORDER BY ... LIMIT ...)`) rather than
    /// over an ordered derived table; for engines whose derived tables cannot see the outer row.
    fn aggregates_in_place(&self) -> bool {
        false
    }

    /// Whether a to-many embed without `LIMIT`/`OFFSET` aggregates its objects in place
    /// (`json_group_array(json_object(..) ORDER BY ..)`), which keeps them JSON without a
    /// subquery to re-read (SQLite re-parses each object that crosses one). By default as
    /// [`Dialect::aggregates_in_place`].
    fn aggregates_unwindowed_in_place(&self) -> bool {
        self.aggregates_in_place()
    }

    /// With [`Dialect::aggregates_in_place`]: opens and closes the aggregate around an object
    /// built in `element` form, its `ORDER BY` and `LIMIT`; `[]` when there are no rows.
    fn json_array_agg_in_place(&self, element: ObjectForm) -> (&'static str, &'static str) {
        let _ = element;
        ("", "")
    }

    /// The length of a JSON array.
    fn json_array_length(&self) -> (&'static str, &'static str) {
        ("json_array_length(", ")")
    }

    /// Opens a list of row values for `(a, b) IN <list>`: `(VALUES ` by default.
    fn row_list_open(&self) -> &'static str {
        "(VALUES "
    }

    /// An insert of a row of defaults, after the table name.
    fn default_values(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    /// Writes an upsert's conflict clause: `ON CONFLICT (...) DO UPDATE SET c = excluded.c` or
    /// `DO NOTHING` by default.
    fn on_conflict(&self, w: &mut Writer<'_>, conflict: &rowbase_plan::Conflict) -> Result<(), RenderError> {
        w.push(" ON CONFLICT (");
        for (i, c) in conflict.target.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident(c);
        }
        w.push(")");
        match &conflict.action {
            rowbase_plan::ConflictAction::Nothing => w.push(" DO NOTHING"),
            rowbase_plan::ConflictAction::Update(update) => {
                w.push(" DO UPDATE SET ");
                // With nothing to update, a no-op assignment keeps the row in RETURNING.
                let set: Vec<&String> =
                    if update.is_empty() { conflict.target.iter().take(1).collect() } else { update.iter().collect() };
                for (i, c) in set.iter().enumerate() {
                    if i > 0 {
                        w.push(", ");
                    }
                    w.ident(c);
                    w.push(" = excluded.");
                    w.ident(c);
                }
            }
        }
        Ok(())
    }

    /// Whether `ON CONFLICT ... DO NOTHING` exists; without it, an ignoring upsert drops the rows
    /// that already exist before inserting.
    fn ignores_duplicates(&self) -> bool {
        true
    }

    /// Whether `UPDATE` and `DELETE` can return the keys they touched and can select their rows
    /// from the same table in a subquery; without it, the keys are selected first (locked).
    fn returns_from_update_and_delete(&self) -> bool {
        true
    }

    /// Opens a `DELETE` of table alias `t0`.
    fn delete_from(&self, w: &mut Writer<'_>, table: &str) {
        w.push("DELETE FROM ");
        w.table(table);
        w.push(" AS t0");
    }
}

/// Standard SQL's comparison operators, with spaces; dialects override only what differs.
pub fn ansi_compare_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => " = ",
        CompareOp::Neq => " <> ",
        CompareOp::Gt => " > ",
        CompareOp::Gte => " >= ",
        CompareOp::Lt => " < ",
        CompareOp::Lte => " <= ",
        CompareOp::IsDistinct => " IS DISTINCT FROM ",
    }
}

/// Appends `ident` between two `quote`s, each `quote` inside it doubled (SQL's quoted identifier).
pub fn push_quoted(out: &mut String, ident: &str, quote: char) {
    // Quotes are ASCII: a plain byte loop, cheaper than a char search on names this short.
    let q = quote as u8;
    if quote.is_ascii() && !ident.bytes().any(|b| b == q) {
        // The usual case, in one copy.
        out.reserve(ident.len() + 2);
        out.push(quote);
        out.push_str(ident);
        out.push(quote);
        return;
    }
    out.push(quote);
    for (i, part) in ident.split(quote).enumerate() {
        if i > 0 {
            out.push(quote);
            out.push(quote);
        }
        out.push_str(part);
    }
    out.push(quote);
}

/// `LIMIT ? [OFFSET ?]` for engines that need a `LIMIT` before any `OFFSET`, writing `no_limit`
/// (the engine's "unbounded") when only an offset is given; nothing for an unbounded window.
pub fn limit_with_offset(w: &mut Writer<'_>, limit: Option<u64>, offset: u64, no_limit: i64) {
    if limit.is_none() && offset == 0 {
        return;
    }
    w.push(" LIMIT ");
    w.bind(rowbase_plan::Value::Integer(limit.map_or(no_limit, |l| i64::try_from(l).unwrap_or(i64::MAX))));
    if offset > 0 {
        w.push(" OFFSET ");
        w.bind(rowbase_plan::Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
    }
}

/// The dialect of `engine`: where the compiler asks an engine for its part of a statement.
pub fn dialect_of(engine: rowbase_catalog::Engine) -> &'static dyn Dialect {
    match engine {
        rowbase_catalog::Engine::Sqlite => &crate::SqliteDialect,
        rowbase_catalog::Engine::Postgres => &crate::PostgresDialect,
        rowbase_catalog::Engine::MySql => &crate::MySqlDialect,
    }
}

#[cfg(test)]
mod tests {
    use super::push_quoted;

    #[test]
    fn quoted_identifiers_double_their_quote() {
        for (ident, quote, quoted) in [
            ("Track", '"', r#""Track""#),
            (r#"a"b"#, '"', r#""a""b""#),
            (r#""""#, '"', r#""""""""#),
            ("", '"', r#""""#),
            ("x`; DROP TABLE t; --", '`', "`x``; DROP TABLE t; --`"),
        ] {
            let mut out = String::new();
            push_quoted(&mut out, ident, quote);
            assert_eq!(out, quoted, "{ident}");
        }
    }
}
