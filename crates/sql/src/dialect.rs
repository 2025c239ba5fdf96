//! The boundary between engine-neutral rendering and one engine's SQL.

use rowbase_catalog::DataType;
use rowbase_plan::{Cast, ColumnRef, CompareOp, Expr, PatternOp};

use crate::writer::Writer;

/// A plan the engine cannot execute faithfully. Rendered as HTTP 400 naming the engine, never a
/// wrong answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// An operator or feature the engine lacks.
    #[error("{feature} is not supported on {engine}")]
    Unsupported {
        /// The engine (`sqlite`, `postgresql`, `mysql`).
        engine: &'static str,
        /// What was asked for, e.g. `the 'cs' operator`.
        feature: String,
    },
}

/// Everything that differs between engines. Methods write into a [`Writer`]; those returning
/// `(&str, &str)` give a prefix and suffix to wrap around an expression.
pub trait Dialect: Send + Sync {
    /// The engine's name in errors and logs (`sqlite`).
    fn name(&self) -> &'static str;

    /// Appends `ident` quoted (ANSI double quotes with `"` doubled by default).
    fn quote_ident(&self, out: &mut String, ident: &str) {
        out.push('"');
        for c in ident.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
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

    /// Opens a JSON object constructor, e.g. `json_object(`.
    fn json_object_open(&self) -> &'static str;

    /// Separates entry `index` (> 0) from the previous one: `, ` unless the engine needs to
    /// split long argument lists.
    fn json_object_separator(&self, index: usize) -> &'static str {
        let _ = index;
        ", "
    }

    /// Closes a JSON object constructor of `entries` entries.
    fn json_object_close(&self, entries: usize) -> &'static str {
        let _ = entries;
        ")"
    }

    /// Wraps a value of `data_type` so the JSON object holds the right JSON type (booleans as
    /// `true`/`false`, JSON columns as JSON rather than strings).
    fn json_value(&self, data_type: DataType) -> (&'static str, &'static str);

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

    /// The most bound parameters one statement may carry.
    fn max_params(&self) -> usize;

    /// Writes the null placement of an order term, when it must be explicit
    /// (` NULLS FIRST` / ` NULLS LAST`).
    fn nulls_order(&self, w: &mut Writer<'_>, nulls_first: bool) {
        w.push(if nulls_first { " NULLS FIRST" } else { " NULLS LAST" });
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
