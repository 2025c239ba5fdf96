//! MySQL/MariaDB's dialect: backquoted names, `?` placeholders, `JSON_OBJECT`, and to-many embeds
//! aggregated in place (`JSON_ARRAYAGG(obj ORDER BY ... LIMIT ...)`: a derived table cannot see
//! the outer row here). Case-sensitive `like`/`match` compare binary and `ilike` lowers both
//! sides, whatever the column's collation; nulls are ordered by an explicit `IS NULL` key; `IS DISTINCT FROM` is `NOT <=>`;
//! upserts use `ON DUPLICATE KEY UPDATE`; updates and deletes select their keys first.
//! Written for MariaDB 10.5+ (which has `INSERT/DELETE ... RETURNING`).

use std::fmt::Write;

use rowbase_catalog::{DataType, FullTextIndex};
use rowbase_plan::{Cast, ColumnRef, CompareOp, Conflict, ConflictAction, Expr, PatternOp, Value};
use rowbase_request::{JsonKey, Operator};

use crate::dialect::{Dialect, ObjectForm, RenderError, ansi_compare_op, limit_with_offset, push_quoted};
use crate::search;
use crate::settings::TransactionSettings;
use crate::writer::{Statement, Writer};

/// The MySQL/MariaDB dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct MySqlDialect;

impl Dialect for MySqlDialect {
    fn engine(&self) -> rowbase_catalog::Engine {
        rowbase_catalog::Engine::MySql
    }

    fn quote_ident(&self, out: &mut String, ident: &str) {
        push_quoted(out, ident, '`');
    }

    fn json_object_open(&self, _form: ObjectForm) -> &'static str {
        "JSON_OBJECT("
    }

    fn json_value(&self, _form: ObjectForm, data_type: DataType) -> (&'static str, &'static str) {
        match data_type {
            // BOOLEAN is TINYINT(1); NULL matches no branch and stays NULL.
            DataType::Boolean => ("JSON_EXTRACT(CASE ", " <> 0 WHEN 1 THEN 'true' WHEN 0 THEN 'false' END, '$')"),
            // PostgreSQL's bytea form, `\x` and hex digits (CONCAT with NULL is NULL).
            DataType::Bytes => ("CONCAT('\\\\x', LOWER(HEX(", ")))"),
            _ => ("", ""),
        }
    }

    fn json_array_agg(&self) -> (&'static str, &'static str) {
        ("COALESCE(JSON_ARRAYAGG(", "), JSON_ARRAY())")
    }

    fn aggregates_in_place(&self) -> bool {
        true
    }

    fn counts_apart(&self) -> bool {
        true
    }

    fn json_array_agg_in_place(&self, _element: ObjectForm) -> (&'static str, &'static str) {
        ("COALESCE(JSON_ARRAYAGG(", "), JSON_ARRAY())")
    }

    fn json_array_length(&self) -> (&'static str, &'static str) {
        ("JSON_LENGTH(", ")")
    }

    fn column(&self, w: &mut Writer<'_>, column: &ColumnRef) -> Result<(), RenderError> {
        let (cast_open, cast_close) = match column.cast {
            Some(cast) => self.cast(cast),
            None => ("", ""),
        };
        w.push(cast_open);
        if column.json_path.is_empty() {
            w.column(column.alias, &column.column);
        } else {
            // The arrows become one path; a final ->> unquotes.
            let as_text = column.json_path.last().is_some_and(|s| s.as_text);
            if as_text {
                w.push("JSON_UNQUOTE(");
            }
            w.push("JSON_EXTRACT(");
            w.column(column.alias, &column.column);
            w.push(", ");
            let mut path = String::from("$");
            for step in &column.json_path {
                match &step.key {
                    JsonKey::Member(m) => {
                        path.push_str(".\"");
                        for c in m.chars() {
                            if c == '"' || c == '\\' {
                                path.push('\\');
                            }
                            path.push(c);
                        }
                        path.push('"');
                    }
                    JsonKey::Index(i) if *i < 0 => {
                        let _ = write!(path, "[last-{}]", -i - 1);
                    }
                    JsonKey::Index(i) => {
                        let _ = write!(path, "[{i}]");
                    }
                }
            }
            w.bind(Value::Text(path));
            w.push(")");
            if as_text {
                w.push(")");
            }
        }
        w.push(cast_close);
        Ok(())
    }

    fn cast(&self, cast: Cast) -> (&'static str, &'static str) {
        match cast {
            Cast::Text => ("CAST(", " AS CHAR)"),
            Cast::Integer | Cast::Boolean => ("CAST(", " AS SIGNED)"),
            Cast::Real => ("CAST(", " AS DOUBLE)"),
            Cast::Decimal => ("CAST(", " AS DECIMAL(65,10))"),
            Cast::Json => ("JSON_EXTRACT(", ", '$')"),
        }
    }

    fn compare_op(&self, op: CompareOp) -> &'static str {
        match op {
            // `a <=> b` is null-safe equality; `(a <=> b) = FALSE` its negation.
            CompareOp::IsDistinct => " <=> ",
            other => ansi_compare_op(other),
        }
    }

    fn compare_suffix(&self, op: CompareOp) -> &'static str {
        if op == CompareOp::IsDistinct { " = FALSE" } else { "" }
    }

    fn pattern(&self, op: PatternOp, pattern: &str) -> Result<(&'static str, String, &'static str), RenderError> {
        Ok(match op {
            // Default collations ignore case: compare binary for the case-sensitive operators.
            PatternOp::Like => (" LIKE BINARY ", pattern.to_string(), ""),
            PatternOp::Ilike => (" LIKE ", pattern.to_lowercase(), ""),
            PatternOp::Match => (" REGEXP BINARY ", pattern.to_string(), ""),
            PatternOp::Imatch => (" REGEXP ", format!("(?i){pattern}"), ""),
        })
    }

    fn pattern_column(&self, op: PatternOp) -> (&'static str, &'static str) {
        if op == PatternOp::Ilike { ("LOWER(", ")") } else { ("", "") }
    }

    fn special(&self, w: &mut Writer<'_>, expr: &Expr) -> Result<(), RenderError> {
        let feature = match expr {
            // MATCH needs a FULLTEXT index on exactly this column; the query is rewritten into
            // boolean-mode syntax and bound. The parser has no languages: the query's is unused.
            Expr::FullText { left, kind, query, index: Some(FullTextIndex::Fulltext), .. } => {
                let Some(query) = search::engine_query(self.engine(), *kind, query, search::mysql_boolean)? else {
                    w.push("(1 = 0)");
                    return Ok(());
                };
                w.push("MATCH (");
                self.column(w, left)?;
                w.push(") AGAINST (");
                w.bind(Value::Text(query));
                w.push(" IN BOOLEAN MODE)");
                return Ok(());
            }
            Expr::FullText { left, .. } => format!(
                "full-text search on \"{}\" (it has no FULLTEXT index of its own: declare a fulltext column)",
                left.column
            ),
            Expr::Special { op, .. } => format!("the '{}' operator", Operator::name(*op)),
            _ => "this expression".to_string(),
        };
        Err(RenderError::Unsupported { engine: self.engine(), feature })
    }

    /// Session variables the audit triggers read (role and claims are the planner's to apply).
    fn preamble(&self, settings: &TransactionSettings) -> Option<Statement> {
        let audit = settings.audit.as_ref()?;
        Some(Statement {
            sql: "SELECT @rowbase_actor := ?, @rowbase_request_id := ?, @rowbase_transaction_id := UUID()".into(),
            params: audit.params(),
        })
    }

    fn preamble_end(&self, settings: &TransactionSettings) -> Option<Statement> {
        settings.audit.as_ref()?;
        Some(Statement {
            sql: "SELECT @rowbase_actor := NULL, @rowbase_request_id := NULL, @rowbase_transaction_id := NULL".into(),
            params: Vec::new(),
        })
    }

    fn timestamp_of_unix_seconds(&self) -> (&'static str, &'static str) {
        ("FROM_UNIXTIME(", ")")
    }

    fn now(&self) -> &'static str {
        "CURRENT_TIMESTAMP(6)"
    }

    fn limit_offset(&self, w: &mut Writer<'_>, limit: Option<u64>, offset: u64) {
        // MySQL needs a LIMIT before OFFSET; a huge limit is its documented "no limit".
        limit_with_offset(w, limit, offset, i64::MAX);
    }

    fn order_term(
        &self,
        w: &mut Writer<'_>,
        key: &dyn Fn(&mut Writer<'_>) -> Result<(), RenderError>,
        descending: bool,
        nulls_first: Option<bool>,
    ) -> Result<(), RenderError> {
        // No NULLS FIRST/LAST: order by "is null" first (true sorts after false ascending).
        if let Some(first) = nulls_first {
            key(w)?;
            w.push(if first { " IS NULL DESC, " } else { " IS NULL ASC, " });
        }
        key(w)?;
        w.push(if descending { " DESC" } else { " ASC" });
        Ok(())
    }

    fn row_id(&self, _w: &mut Writer<'_>, _alias: Option<usize>) -> Result<(), RenderError> {
        Err(RenderError::Unsupported {
            engine: self.engine(),
            feature: "writing to a table without a primary key".into(),
        })
    }

    fn row_list_open(&self) -> &'static str {
        "("
    }

    fn default_values(&self) -> &'static str {
        " () VALUES ()"
    }

    fn on_conflict(&self, w: &mut Writer<'_>, conflict: &Conflict) -> Result<(), RenderError> {
        match &conflict.action {
            ConflictAction::Update(update) => {
                w.push(" ON DUPLICATE KEY UPDATE ");
                let set: Vec<&String> =
                    if update.is_empty() { conflict.target.iter().take(1).collect() } else { update.iter().collect() };
                for (i, c) in set.iter().enumerate() {
                    if i > 0 {
                        w.push(", ");
                    }
                    w.ident(c);
                    w.push(" = VALUES(");
                    w.ident(c);
                    w.push(")");
                }
                Ok(())
            }
            // `run_write` drops existing rows first (see `ignores_duplicates`).
            ConflictAction::Nothing => Ok(()),
        }
    }

    fn ignores_duplicates(&self) -> bool {
        false
    }

    fn returns_from_update_and_delete(&self) -> bool {
        false
    }

    fn delete_from(&self, w: &mut Writer<'_>, table: &str) {
        // The single-table form takes no alias; the multi-table form does.
        w.push("DELETE t0 FROM ");
        w.table(table);
        w.push(" AS t0");
    }

    fn max_params(&self) -> usize {
        65_535
    }
}
