//! SQLite's dialect: `json_object`/`json_group_array` for JSON, `?` placeholders, `GLOB` for the
//! case-sensitive `like`, a registered `regexp()` for `match`/`imatch` (see `rowbase-db`), and
//! the `->`/`->>` operators (SQLite 3.38+) with bound JSON paths.

use std::fmt::Write;

use rowbase_catalog::{DataType, FullTextIndex};
use rowbase_plan::{Cast, ColumnRef, CompareOp, Expr, PatternOp, Value};
use rowbase_request::{JsonKey, Operator};

use crate::dialect::{Dialect, RenderError, ansi_compare_op};
use crate::search;
use crate::writer::Writer;

/// The SQLite dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn json_object_open(&self) -> &'static str {
        "json_object("
    }

    fn json_value(&self, data_type: DataType) -> (&'static str, &'static str) {
        match data_type {
            // SQLite stores booleans as integers; `NULL <> 0` is NULL, which matches no branch.
            DataType::Boolean => ("json(CASE ", " <> 0 WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"),
            // A JSON column holds JSON text: embed it as JSON, not as a string.
            DataType::Json => ("json(", ")"),
            // PostgreSQL's bytea output form, `\x` followed by hex digits (hex(NULL) is '').
            DataType::Bytes => ("nullif('\\x' || lower(hex(", ")), '\\x')"),
            _ => ("", ""),
        }
    }

    fn aggregates_unwindowed_in_place(&self) -> bool {
        // json_group_array(.. ORDER BY ..) since SQLite 3.44; it takes no LIMIT.
        true
    }

    fn json_array_agg_in_place(&self) -> (&'static str, &'static str) {
        ("json_group_array(", ")")
    }

    fn json_array_agg(&self) -> (&'static str, &'static str) {
        // Subtypes do not survive a subquery, so each object is re-marked as JSON with json().
        ("json_group_array(json(", "))")
    }

    fn column(&self, w: &mut Writer<'_>, column: &ColumnRef) -> Result<(), RenderError> {
        let (cast_open, cast_close) = match column.cast {
            Some(cast) => self.cast(cast),
            None => ("", ""),
        };
        w.push(cast_open);
        let last_as_text = column.json_path.last().is_some_and(|s| s.as_text);
        if last_as_text {
            // PostgreSQL's ->> always yields text; SQLite's yields the SQL value.
            w.push("CAST(");
        }
        w.column(column.alias, &column.column);
        for step in &column.json_path {
            w.push(if step.as_text { " ->> " } else { " -> " });
            let mut path = String::from("$");
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
                    let _ = write!(path, "[#{i}]");
                }
                JsonKey::Index(i) => {
                    let _ = write!(path, "[{i}]");
                }
            }
            w.bind(Value::Text(path));
        }
        if last_as_text {
            w.push(" AS TEXT)");
        }
        w.push(cast_close);
        Ok(())
    }

    fn cast(&self, cast: Cast) -> (&'static str, &'static str) {
        match cast {
            Cast::Text => ("CAST(", " AS TEXT)"),
            Cast::Integer | Cast::Boolean => ("CAST(", " AS INTEGER)"),
            Cast::Real => ("CAST(", " AS REAL)"),
            Cast::Decimal => ("CAST(", " AS NUMERIC)"),
            Cast::Json => ("(", ")"),
        }
    }

    fn compare_op(&self, op: CompareOp) -> &'static str {
        match op {
            // SQLite's null-safe inequality.
            CompareOp::IsDistinct => " IS NOT ",
            other => ansi_compare_op(other),
        }
    }

    fn pattern(&self, op: PatternOp, pattern: &str) -> Result<(&'static str, String, &'static str), RenderError> {
        Ok(match op {
            // SQLite's LIKE ignores ASCII case; GLOB is case-sensitive like PostgreSQL's LIKE.
            PatternOp::Like => (" GLOB ", like_to_glob(pattern), ""),
            PatternOp::Ilike => (" LIKE ", pattern.to_string(), " ESCAPE '\\'"),
            PatternOp::Match => (" REGEXP ", pattern.to_string(), ""),
            PatternOp::Imatch => (" REGEXP ", format!("(?i){pattern}"), ""),
        })
    }

    fn special(&self, w: &mut Writer<'_>, expr: &Expr) -> Result<(), RenderError> {
        let feature = match expr {
            // The FTS5 table shares the searched table's rowids (docs/schema.md, "Full-text
            // search"); the query is rewritten into FTS5 syntax and bound. A language is the
            // index's business here (its tokenizer), so the query's is not used.
            Expr::FullText { left, kind, query, index: Some(FullTextIndex::Fts5(fts)), .. } => {
                let Some(query) = search::engine_query(self.name(), *kind, query, search::fts5)? else {
                    w.push("(1 = 0)");
                    return Ok(());
                };
                w.push("(");
                w.table_alias(left.alias);
                w.push(".rowid IN (SELECT rowid FROM ");
                w.ident(fts);
                w.push(" WHERE ");
                w.ident(fts);
                w.push(" MATCH ");
                w.bind(Value::Text(query));
                w.push("))");
                return Ok(());
            }
            Expr::FullText { left, .. } => {
                format!("full-text search on \"{}\" (it has no FTS5 index: declare a fulltext column)", left.column)
            }
            Expr::Special { op, .. } => format!("the '{}' operator", Operator::name(*op)),
            _ => "this expression".to_string(),
        };
        Err(RenderError::Unsupported { engine: self.name(), feature })
    }

    fn row_id(&self, w: &mut Writer<'_>, alias: Option<usize>) -> Result<(), RenderError> {
        if let Some(alias) = alias {
            w.table_alias(alias);
            w.push(".");
        }
        w.push("rowid");
        Ok(())
    }

    fn max_params(&self) -> usize {
        // SQLITE_MAX_VARIABLE_NUMBER's default since 3.32.
        32_766
    }

    fn audit_context(&self) -> &'static str {
        "INSERT OR REPLACE INTO \"rowbase_audit_context\" (\"id\", \"actor\", \"request_id\", \"transaction_id\") VALUES (1, ?1, ?2, lower(hex(randomblob(16)))) RETURNING \"id\""
    }

    fn audit_context_end(&self) -> Option<&'static str> {
        Some("DELETE FROM \"rowbase_audit_context\" RETURNING \"id\"")
    }

    fn timestamp_of_unix_seconds(&self) -> (&'static str, &'static str) {
        ("strftime('%Y-%m-%dT%H:%M:%fZ', ", ", 'unixepoch')")
    }

    fn now(&self) -> &'static str {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    }

    fn limit_offset(&self, w: &mut Writer<'_>, limit: Option<u64>, offset: u64) {
        // The LIMIT is a literal, as on PostgreSQL: the planner weighs an index order against a
        // sort by it, and the connections' plan stability guarantee (rowbase-db) hides bound
        // values from the planner. (Without that guarantee a bound LIMIT makes SQLite prepare
        // the statement again on every run.) The OFFSET stays bound, so paging does not fill the
        // statement cache with one statement per page. SQLite needs a LIMIT before OFFSET; -1
        // means no limit.
        if limit.is_none() && offset == 0 {
            return;
        }
        match limit {
            Some(limit) => {
                w.push(" LIMIT ");
                w.integer(limit);
            }
            None => w.push(" LIMIT -1"),
        }
        if offset > 0 {
            w.push(" OFFSET ");
            w.bind(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        }
    }
}

/// Translates a LIKE pattern (`%`, `_`, `\` escapes) into a GLOB pattern (`*`, `?`, with
/// literal `*`, `?`, `[` written as one-character classes).
fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => match chars.next() {
                Some(lit) => push_glob_literal(&mut out, lit),
                None => push_glob_literal(&mut out, '\\'),
            },
            c => push_glob_literal(&mut out, c),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            out.push('[');
            out.push(c);
            out.push(']');
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::like_to_glob;

    #[test]
    fn like_patterns_become_globs() {
        assert_eq!(like_to_glob("%yx"), "*yx");
        assert_eq!(like_to_glob("a_c"), "a?c");
        assert_eq!(like_to_glob(r"100\%"), "100%");
        assert_eq!(like_to_glob("[x]?"), "[[]x][?]");
    }
}
