//! SQLite's dialect: `json_object`/`json_group_array` for JSON, `?` placeholders, `GLOB` for the
//! case-sensitive `like`, a registered `regexp()` for `match`/`imatch` (see `rowbase-db`), and
//! the `->`/`->>` operators (SQLite 3.38+) with bound JSON paths.

use std::fmt::Write;

use rowbase_catalog::{DataType, FullTextIndex};
use rowbase_plan::{Cast, ColumnRef, CompareOp, Expr, PatternOp, Value};
use rowbase_request::{JsonKey, Operator};

use crate::dialect::{Dialect, ObjectForm, PrefixRange, RenderError, ansi_compare_op};
use crate::search;
use crate::settings::TransactionSettings;
use crate::writer::{Statement, Writer};

/// The SQLite dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

/// SQLite drops the mark that a value is JSON at a subquery boundary, so an embedding's JSON
/// passed to `json_object()` would have to be marked again with `json()`, which parses it and
/// writes it once more at every level (a third of the time of an embedding). An object holding
/// embeddings is therefore built as text ([`ObjectForm::Text`]): keys bound already encoded
/// (`{"id":`, `,"name":`), values through `json_quote` (the value writer `json_object` uses),
/// embeddings spliced in as the text their subqueries return, arrays of such objects from
/// `group_concat`. Every piece is non-NULL (`json_quote(NULL)` is `null`). Objects without
/// embeddings keep `json_object()`, which is faster than concatenation for flat rows.
impl Dialect for SqliteDialect {
    fn engine(&self) -> rowbase_catalog::Engine {
        rowbase_catalog::Engine::Sqlite
    }

    fn object_form(&self, embeds: bool) -> ObjectForm {
        if embeds { ObjectForm::Text } else { ObjectForm::Constructor }
    }

    fn json_object_open(&self, form: ObjectForm) -> &'static str {
        match form {
            ObjectForm::Constructor => "json_object(",
            ObjectForm::Text => "(",
        }
    }

    fn json_object_key(&self, w: &mut Writer<'_>, form: ObjectForm, index: usize, key: &str) {
        match form {
            ObjectForm::Constructor => {
                if index > 0 {
                    w.push(", ");
                }
                w.key(key);
                w.push(", ");
            }
            ObjectForm::Text => {
                if index > 0 {
                    w.push(" || ");
                }
                let mut piece = String::from(if index == 0 { "{" } else { "," });
                piece.push_str(&serde_json::Value::from(key).to_string());
                piece.push(':');
                w.key(&piece);
                w.push(" || ");
            }
        }
    }

    fn json_object_close(&self, form: ObjectForm, entries: usize) -> &'static str {
        match form {
            ObjectForm::Constructor => ")",
            ObjectForm::Text if entries == 0 => "'{}')",
            ObjectForm::Text => " || '}')",
        }
    }

    fn json_value(&self, form: ObjectForm, data_type: DataType) -> (&'static str, &'static str) {
        match (form, data_type) {
            // SQLite stores booleans as integers; `NULL <> 0` is NULL, which matches no branch.
            (ObjectForm::Constructor, DataType::Boolean) => {
                ("json(CASE ", " <> 0 WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)")
            }
            (ObjectForm::Text, DataType::Boolean) => {
                ("coalesce(CASE ", " <> 0 WHEN 1 THEN 'true' WHEN 0 THEN 'false' END, 'null')")
            }
            // A JSON column holds JSON text: embed it as JSON (minified), not as a string.
            (ObjectForm::Constructor, DataType::Json) => ("json(", ")"),
            (ObjectForm::Text, DataType::Json) => ("coalesce(json(", "), 'null')"),
            // PostgreSQL's bytea output form, `\x` followed by hex digits (hex(NULL) is '').
            (ObjectForm::Constructor, DataType::Bytes) => ("nullif('\\x' || lower(hex(", ")), '\\x')"),
            (ObjectForm::Text, DataType::Bytes) => ("json_quote(nullif('\\x' || lower(hex(", ")), '\\x'))"),
            (ObjectForm::Constructor, _) => ("", ""),
            (ObjectForm::Text, _) => ("json_quote(", ")"),
        }
    }

    fn json_embedded(&self, form: ObjectForm, to_one: bool) -> (&'static str, &'static str) {
        match (form, to_one) {
            // Not reached (an object holding an embedding is text); json() would mark it JSON.
            (ObjectForm::Constructor, _) => ("json(", ")"),
            // The subquery's text is JSON already; no row is `null` (to-one) or `[]` (to-many).
            (ObjectForm::Text, true) => ("coalesce(", ", 'null')"),
            (ObjectForm::Text, false) => ("coalesce(", ", '[]')"),
        }
    }

    fn aggregates_unwindowed_in_place(&self) -> bool {
        // Aggregates take ORDER BY since SQLite 3.44, but no LIMIT.
        true
    }

    fn json_array_agg_in_place(&self, element: ObjectForm) -> (&'static str, &'static str) {
        match element {
            // The aggregate keeps json_object's JSON (no subquery between them).
            ObjectForm::Constructor => ("json_group_array(", ")"),
            // group_concat's separator is `,`; no rows give NULL, which json_embedded makes `[]`.
            ObjectForm::Text => ("'[' || group_concat(", ") || ']'"),
        }
    }

    fn json_array_agg(&self) -> (&'static str, &'static str) {
        // The objects come out of a derived table as text: spliced, not parsed again.
        ("coalesce('[' || group_concat(", ") || ']', '[]')")
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

    fn writes_views_by_key_first(&self) -> bool {
        true
    }

    fn lock_rows(&self) -> &'static str {
        // One writer holds the database for the whole transaction.
        ""
    }

    fn compared(&self, column: &ColumnRef) -> (&'static str, &'static str) {
        if !column.json_path.is_empty() || column.cast.is_some() {
            return ("", "");
        }
        match column.data_type {
            // SQLite keeps dates and times as the text it was given, in whatever form: compared
            // as text, `2005-05-24 23:00:00` sorts before `2005-05-24T22:00:00`. Both sides are
            // written in one form first (UTC where a zone is given), to the millisecond.
            DataType::Timestamp | DataType::TimestampTz => ("strftime('%Y-%m-%d %H:%M:%f', ", ")"),
            DataType::Date => ("date(", ")"),
            _ => ("", ""),
        }
    }

    fn compared_range(
        &self,
        column: &ColumnRef,
        op: CompareOp,
        value: &Value,
    ) -> Option<(Option<Value>, Option<Value>)> {
        // The comparison wraps the column in strftime()/date(), which no index serves. Stored
        // text begins with its local date, at most a day from the instant's UTC date (zones are
        // within ±14 hours): every match of `col >= v` has text >= the date a day before v's,
        // and every match of `col <= v` text < the date two days after v's. The range is on the
        // bare column in BINARY order, as the column's index is kept.
        if self.compared(column).0.is_empty() {
            return None;
        }
        let (Value::Text(text) | Value::Timestamp(text)) = value else { return None };
        let date: jiff::civil::Date = text.get(..10)?.parse().ok()?;
        let day = |days: i64| date.checked_add(jiff::Span::new().days(days)).ok().map(|d| Value::Text(d.to_string()));
        let (low, high) = match op {
            CompareOp::Eq => (day(-1), day(2)),
            CompareOp::Gt | CompareOp::Gte => (day(-1), None),
            CompareOp::Lt | CompareOp::Lte => (None, day(2)),
            _ => return None,
        };
        Some((low, high))
    }

    fn cast(&self, cast: Cast) -> (&'static str, &'static str) {
        match cast {
            Cast::Text => ("CAST(", " AS TEXT)"),
            // Rounds as PostgreSQL does (registered on every connection by rowbase-db).
            Cast::Integer => ("rowbase_integer(", ")"),
            Cast::Boolean => ("CAST(", " AS INTEGER)"),
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

    fn pattern_prefix_range(&self, op: PatternOp, pattern: &str, column: &ColumnRef) -> Option<PrefixRange> {
        // SQLite narrows `GLOB 'abc*'` to an index range only when it sees the pattern's value,
        // which the connections' plan stability guarantee hides (rowbase-db): without this
        // range a prefix search on an indexed column scans the table (43 ms instead of 15 µs on
        // a million rows). The range compares in BINARY order, GLOB's (a NOCASE column would
        // put `zoo` above `[`, the successor of `Z`), so it finds an index of BINARY order; and
        // only on a plain text column (a column of another affinity may hold numbers, which
        // GLOB reads as text but a text range would exclude).
        let plain = column.json_path.is_empty() && column.cast.is_none() && column.data_type == DataType::Text;
        if op != PatternOp::Like || !plain {
            return None;
        }
        let prefix = like_prefix(pattern);
        if prefix.is_empty() {
            return None;
        }
        let high = successor(&prefix);
        Some(PrefixRange { low: prefix, high, collate: " COLLATE BINARY" })
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
                let Some(query) = search::engine_query(self.engine(), *kind, query, search::fts5)? else {
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
        Err(RenderError::Unsupported { engine: self.engine(), feature })
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

    /// The audit context row the triggers read (role and claims are the planner's to apply).
    fn preamble(&self, settings: &TransactionSettings) -> Option<Statement> {
        let audit = settings.audit.as_ref()?;
        Some(Statement {
            sql: "INSERT OR REPLACE INTO \"rowbase_audit_context\" (\"id\", \"actor\", \"request_id\", \"transaction_id\") VALUES (1, ?1, ?2, lower(hex(randomblob(16)))) RETURNING \"id\"".into(),
            params: audit.params(),
        })
    }

    fn preamble_end(&self, settings: &TransactionSettings) -> Option<Statement> {
        settings.audit.as_ref()?;
        Some(Statement { sql: "DELETE FROM \"rowbase_audit_context\" RETURNING \"id\"".into(), params: Vec::new() })
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

/// The literal text every match of a LIKE pattern starts with: up to the first unescaped `%`
/// or `_` (`\` escapes the next character).
fn like_prefix(pattern: &str) -> String {
    let mut prefix = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' | '_' => break,
            '\\' => match chars.next() {
                Some(escaped) => prefix.push(escaped),
                None => prefix.push('\\'),
            },
            c => prefix.push(c),
        }
    }
    prefix
}

/// The smallest string above every string starting with `prefix`, in BINARY (UTF-8 byte)
/// order: the prefix with its last character replaced by the next one. `None` when there is
/// none (the last characters are all `char::MAX`).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
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
    use super::{like_prefix, like_to_glob, successor};

    #[test]
    fn like_patterns_have_a_literal_prefix() {
        assert_eq!(like_prefix("abc%"), "abc");
        assert_eq!(like_prefix("ab_d%"), "ab");
        assert_eq!(like_prefix(r"100\%%"), "100%");
        assert_eq!(like_prefix("%abc"), "");
        assert_eq!(like_prefix("exact"), "exact");
    }

    #[test]
    fn a_prefix_is_bounded_by_its_successor() {
        assert_eq!(successor("abc").as_deref(), Some("abd"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(successor("\u{10FFFF}"), None);
    }

    #[test]
    fn like_patterns_become_globs() {
        assert_eq!(like_to_glob("%yx"), "*yx");
        assert_eq!(like_to_glob("a_c"), "a?c");
        assert_eq!(like_to_glob(r"100\%"), "100%");
        assert_eq!(like_to_glob("[x]?"), "[[]x][?]");
    }
}
