//! Conditions in the schema file (`checks`, partial-index `where`), written in the API's filter
//! grammar (`price=gte.0`, `or=(status.eq.draft,published_at.not.is.null)`) and rendered as SQL
//! for each engine.
//!
//! DDL cannot bind parameters, so values become literals, but never by splicing text: each value
//! is parsed as the type of the column it is compared with (an integer, a number, a boolean) and
//! written back from the parsed value, and text is written as an SQL string literal with its
//! quote (and, on MySQL, its backslash) doubled. Columns are resolved against the table and
//! quoted by the engine's dialect.
//!
//! Supported: `eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `in`, `is` (`null`, `not_null`, `true`,
//! `false`), `not.`, and `and=(...)`/`or=(...)` at any depth; several parameters joined with `&`
//! are ANDed, as in a request (PostgREST "Horizontal Filtering" and "Logical operators").

use rowbase_request::{BoolOp, Condition as Tree, Filter, IsValue, Operator, Predicate, parse_query};

use crate::ddl::{Engine, EngineDdl};
use crate::schema::{ColumnType, Table};

/// A parsed, checked condition over one table's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The text as written in the schema file.
    pub source: String,
    tree: Vec<Tree>,
    /// The type of each column the condition names.
    types: Vec<(String, ColumnType)>,
    /// Whether `{jwt.*}` values are claims (a row-level policy's condition), not text.
    claims: bool,
}

impl Condition {
    /// Parses `text` and checks it against `table`.
    ///
    /// Errors: a message saying what is wrong (a grammar error, an unknown column, an operator
    /// with no DDL form, a value that is not of the column's type).
    pub fn parse(text: &str, table: &Table) -> Result<Condition, String> {
        Condition::parse_with(text, table, false)
    }

    /// Parses a row-level policy's condition: as [`Condition::parse`], and a value may be a
    /// claim of the request's token, `{jwt.sub}` (any path: `{jwt.app_metadata.team}`).
    ///
    /// Errors: as [`Condition::parse`].
    pub fn parse_policy(text: &str, table: &Table) -> Result<Condition, String> {
        Condition::parse_with(text, table, true)
    }

    fn parse_with(text: &str, table: &Table, claims: bool) -> Result<Condition, String> {
        let params = parse_query(text).map_err(|e| format!("not a filter: {}", e.message))?;
        if params.select.is_some()
            || !params.order.is_empty()
            || !params.limit.is_empty()
            || !params.offset.is_empty()
            || params.columns.is_some()
            || params.on_conflict.is_some()
        {
            return Err("a condition holds filters only (column=op.value, and=(...), or=(...))".into());
        }
        if params.conditions.is_empty() {
            return Err("the condition is empty".into());
        }
        let mut tree = Vec::new();
        for scoped in params.conditions {
            if !scoped.path.is_empty() {
                return Err("a condition cannot filter an embedded resource".into());
            }
            tree.push(scoped.value);
        }
        let mut types = Vec::new();
        for condition in &tree {
            check(condition, table, &mut types, claims)?;
        }
        Ok(Condition { source: text.to_string(), tree, types, claims })
    }

    /// The condition as an SQL boolean expression for `engine`.
    pub fn sql(&self, engine: Engine) -> String {
        let engine = crate::ddl::of(engine);
        let parts: Vec<String> = self.tree.iter().map(|c| self.render(c, engine)).collect();
        parts.join(" AND ")
    }

    /// The columns the condition names.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.types.iter().map(|(name, _)| name.as_str())
    }

    fn column_type(&self, name: &str) -> ColumnType {
        self.types.iter().find(|(n, _)| n == name).map_or(ColumnType::Text, |(_, t)| *t)
    }

    fn render(&self, condition: &Tree, engine: &dyn EngineDdl) -> String {
        match condition {
            Tree::Filter(filter) => self.render_filter(filter, engine),
            Tree::Group { op, negated, conditions } => {
                let joiner = match op {
                    BoolOp::And => " AND ",
                    BoolOp::Or => " OR ",
                };
                let inner: Vec<String> = conditions.iter().map(|c| self.render(c, engine)).collect();
                let group = format!("({})", inner.join(joiner));
                if *negated { format!("NOT {group}") } else { group }
            }
        }
    }

    fn render_filter(&self, filter: &Filter, engine: &dyn EngineDdl) -> String {
        let column = engine.quote(&filter.field.name);
        let column_type = self.column_type(&filter.field.name);
        let test = match &filter.predicate {
            Predicate::Compare { op, value } => {
                let sign = match op {
                    Operator::Eq => "=",
                    Operator::Neq => "<>",
                    Operator::Gt => ">",
                    Operator::Gte => ">=",
                    Operator::Lt => "<",
                    // `check` admits nothing else.
                    _ => "<=",
                };
                format!("{column} {sign} {}", literal(value, column_type, engine, self.claims))
            }
            Predicate::In(values) => {
                let list: Vec<String> = values.iter().map(|v| literal(v, column_type, engine, self.claims)).collect();
                if list.is_empty() { "1 = 0".to_string() } else { format!("{column} IN ({})", list.join(", ")) }
            }
            Predicate::Is(IsValue::Null | IsValue::Unknown) => format!("{column} IS NULL"),
            Predicate::Is(IsValue::NotNull) => format!("{column} IS NOT NULL"),
            Predicate::Is(IsValue::True) => format!("{column} = {}", engine.boolean(true)),
            Predicate::Is(IsValue::False) => format!("{column} = {}", engine.boolean(false)),
            // `check` admits nothing else.
            Predicate::Quantified { .. } | Predicate::FullText { .. } => "1 = 0".to_string(),
        };
        if filter.negated { format!("NOT ({test})") } else { format!("({test})") }
    }
}

/// Checks one node: known plain columns, supported operators, values of the column's type.
fn check(condition: &Tree, table: &Table, types: &mut Vec<(String, ColumnType)>, claims: bool) -> Result<(), String> {
    let typed = |value: &str, t: ColumnType, column: &str| {
        if claims && rowbase_request::claim_reference(value).is_some() { Ok(()) } else { typed(value, t, column) }
    };
    match condition {
        Tree::Group { conditions, .. } => conditions.iter().try_for_each(|c| check(c, table, types, claims)),
        Tree::Filter(filter) => {
            if !filter.field.json_path.is_empty() {
                return Err("a condition compares whole columns (no JSON paths)".into());
            }
            let column = table
                .column(&filter.field.name)
                .ok_or_else(|| format!("table {} has no column \"{}\"", table.name, filter.field.name))?;
            let t = column.column_type;
            types.push((column.name.clone(), t));
            match &filter.predicate {
                Predicate::Compare { op, value } => {
                    if !matches!(
                        op,
                        Operator::Eq | Operator::Neq | Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte
                    ) {
                        return Err(format!(
                            "the operator of \"{}\" has no portable DDL form: use eq, neq, gt, gte, lt, lte, in or is",
                            filter.field.name
                        ));
                    }
                    typed(value, t, &column.name)
                }
                Predicate::In(values) => values.iter().try_for_each(|v| typed(v, t, &column.name)),
                Predicate::Is(IsValue::True | IsValue::False) if t != ColumnType::Boolean => {
                    Err(format!("is.true and is.false need a boolean column; \"{}\" is not", column.name))
                }
                Predicate::Is(_) => Ok(()),
                Predicate::Quantified { .. } | Predicate::FullText { .. } => Err(format!(
                    "the operator of \"{}\" has no portable DDL form: use eq, neq, gt, gte, lt, lte, in or is",
                    filter.field.name
                )),
            }
        }
    }
}

/// Whether `value` can be written as a literal of `column_type`.
fn typed(value: &str, column_type: ColumnType, column: &str) -> Result<(), String> {
    let ok = match column_type {
        ColumnType::Integer | ColumnType::BigInt => value.parse::<i64>().is_ok(),
        ColumnType::Real | ColumnType::Decimal(..) => is_decimal(value),
        ColumnType::Boolean => matches!(value, "true" | "false"),
        ColumnType::Json | ColumnType::Bytes | ColumnType::FullText | ColumnType::Alive => false,
        ColumnType::Text | ColumnType::Varchar(_) | ColumnType::Date | ColumnType::TimestampTz | ColumnType::Uuid => {
            !value.contains('\0')
        }
    };
    if ok { Ok(()) } else { Err(format!("\"{value}\" is not a valid value for column \"{column}\" in a condition")) }
}

/// `-12`, `3.50`, `1e-3`: a plain decimal number, nothing else.
fn is_decimal(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (mantissa, exponent) = match digits.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (digits, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction) && exponent.is_none_or(all_digits)
}

/// A value checked by [`typed`], as a literal of `column_type` on `engine`; a policy's claim
/// reference (`{jwt.sub}`) as the engine reads the request's claim.
fn literal(value: &str, column_type: ColumnType, engine: &dyn EngineDdl, claims: bool) -> String {
    if let Some(path) = rowbase_request::claim_reference(value).filter(|_| claims) {
        return engine.claim_value(&path, column_type);
    }
    match column_type {
        ColumnType::Integer | ColumnType::BigInt => {
            value.parse::<i64>().map_or_else(|_| "NULL".into(), |v| v.to_string())
        }
        ColumnType::Real | ColumnType::Decimal(..) if is_decimal(value) => value.to_string(),
        ColumnType::Boolean => engine.boolean(value == "true").to_string(),
        _ => engine.string_literal(value),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn table() -> Table {
        crate::schema::parse(
            "t.toml",
            r#"
[tables.product]
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "name", type = "text", not_null = true },
  { name = "price", type = "decimal(10,2)", not_null = true },
  { name = "active", type = "boolean", not_null = true },
]
"#,
        )
        .unwrap()
        .tables
        .remove(0)
    }

    #[test]
    fn renders_per_engine_with_typed_literals() {
        let c = Condition::parse("price=gte.0&or=(active.is.true,name.in.(a,\"it's\"))", &table()).unwrap();
        assert_eq!(c.sql(Engine::Postgres), r#"("price" >= 0) AND (("active" = TRUE) OR ("name" IN ('a', 'it''s')))"#);
        assert_eq!(c.sql(Engine::Sqlite), r#"("price" >= 0) AND (("active" = 1) OR ("name" IN ('a', 'it''s')))"#);
        assert_eq!(c.sql(Engine::MySql), "(`price` >= 0) AND ((`active` = TRUE) OR (`name` IN ('a', 'it''s')))");
    }

    #[test]
    fn hostile_text_stays_a_literal() {
        let c = Condition::parse("name=neq.x') OR 1=1; DROP TABLE product; --\\", &table()).unwrap();
        assert_eq!(c.sql(Engine::Postgres), r#"("name" <> 'x'') OR 1=1; DROP TABLE product; --\')"#);
        assert_eq!(c.sql(Engine::MySql), r"(`name` <> 'x'') OR 1=1; DROP TABLE product; --\\')");
    }

    #[test]
    fn refuses_what_it_cannot_render_faithfully() {
        let t = table();
        for (text, says) in [
            ("price=gte.free", "not a valid value"),
            ("price=gte.1;DROP", "not a valid value"),
            ("missing=eq.1", "no column \"missing\""),
            ("name=like.a*", "no portable DDL form"),
            ("name=is.true", "need a boolean column"),
            ("select=id", "filters only"),
            ("", "empty"),
        ] {
            let error = Condition::parse(text, &t).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
