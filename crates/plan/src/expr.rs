//! Filters and orders of one node, resolved against its table and its embeds.

use rowbase_catalog::{Catalog, DataType, Table};
use rowbase_request::{Condition, Filter, IsValue, Operator, OrderTarget, OrderTerm, Predicate};

use crate::error::PlanError;
use crate::plan::{ColumnRef, CompareOp, Expr, Node, OrderBy, OrderKey, PatternOp, QuantifiedOp};
use crate::read::{column_ref, embed_of};
use crate::value::{Value, coerce};

/// Converts one condition tree of the node's level into an expression.
pub(crate) fn condition_to_expr(node: &Node, table: &Table, condition: &Condition) -> Result<Expr, PlanError> {
    to_expr(node, table, condition, None)
}

/// Converts a policy's condition tree into an expression over `node`, with each value written
/// `{jwt.path}` taken from `claims` (a claim that is absent or null is SQL NULL, so a comparison
/// with it admits no row, as `current_setting('request.jwt.claims')` reads it on PostgreSQL).
pub(crate) fn claims_condition_to_expr(
    node: &Node,
    table: &Table,
    condition: &Condition,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<Expr, PlanError> {
    to_expr(node, table, condition, Some(claims))
}

type Claims<'a> = Option<&'a serde_json::Map<String, serde_json::Value>>;

fn to_expr(node: &Node, table: &Table, condition: &Condition, claims: Claims<'_>) -> Result<Expr, PlanError> {
    match condition {
        Condition::Group { op, negated, conditions } => {
            let children = conditions.iter().map(|c| to_expr(node, table, c, claims)).collect::<Result<Vec<_>, _>>()?;
            let expr = match op {
                rowbase_request::BoolOp::And => Expr::And(children),
                rowbase_request::BoolOp::Or => Expr::Or(children),
            };
            Ok(negate(expr, *negated))
        }
        Condition::Filter(filter) => filter_to_expr(node, table, filter, claims),
    }
}

/// A filter value: with `claims`, a `{jwt.*}` reference is the claim's value (NULL when
/// absent); otherwise the text, checked against `data_type`.
fn value(text: &str, data_type: DataType, claims: Claims<'_>) -> Result<Value, PlanError> {
    let Some((claims, path)) = claims.zip(rowbase_request::claim_reference(text)) else {
        return coerce(text, data_type);
    };
    match crate::access::claim(claims, &path) {
        None | Some(serde_json::Value::Null) => Ok(Value::Null),
        Some(serde_json::Value::String(s)) => coerce(s, data_type),
        Some(other) => coerce(&other.to_string(), data_type),
    }
}

fn negate(expr: Expr, negated: bool) -> Expr {
    if negated { Expr::Not(Box::new(expr)) } else { expr }
}

fn filter_to_expr(node: &Node, table: &Table, filter: &Filter, claims: Claims<'_>) -> Result<Expr, PlanError> {
    let name = &filter.field.name;
    if filter.field.json_path.is_empty() {
        if let Some(embed) = embed_of(node, name) {
            // `rel=is.null` is an anti-join, `rel=not.is.null` a semi-join (PostgREST "Null
            // filtering on Embedded Resources"); nothing else applies to an embed.
            let exists = Expr::Exists(Box::new(embed.clone()));
            return match filter.predicate {
                Predicate::Is(IsValue::Null) => Ok(negate(exists, !filter.negated)),
                Predicate::Is(IsValue::NotNull) => Ok(negate(exists, filter.negated)),
                _ => Err(PlanError::EmbedFilterOperator(name.clone())),
            };
        }
    }
    let mut left = column_ref(table, node.alias, name)?;
    left.json_path.clone_from(&filter.field.json_path);
    left.nullable |= !left.json_path.is_empty();
    // Behind a JSON arrow the value is compared as text.
    let value_type = if left.json_path.is_empty() { left.data_type } else { DataType::Text };
    let expr = match &filter.predicate {
        Predicate::Compare { op, value } => match classify(*op) {
            Kind::Compare(op) => Expr::Compare { left, op, right: self::value(value, value_type, claims)? },
            Kind::Pattern(op) => Expr::Pattern { left, op, pattern: pattern(op, value) },
            Kind::Special => Expr::Special { left, op: *op, value: value.clone() },
        },
        Predicate::Quantified { op, quantifier, values } => {
            let (op, values) = match classify(*op) {
                Kind::Compare(c) => (
                    QuantifiedOp::Compare(c),
                    values.iter().map(|v| value(v, value_type, claims)).collect::<Result<_, _>>()?,
                ),
                Kind::Pattern(p) => {
                    (QuantifiedOp::Pattern(p), values.iter().map(|v| Value::Text(pattern(p, v))).collect())
                }
                Kind::Special => return Err(PlanError::EmbedFilterOperator(op.name().to_string())),
            };
            Expr::Quantified { left, op, quantifier: *quantifier, values }
        }
        Predicate::In(values) => {
            Expr::In { left, values: values.iter().map(|v| value(v, value_type, claims)).collect::<Result<_, _>>()? }
        }
        Predicate::Is(value) => Expr::Is { left, value: *value },
        Predicate::FullText { kind, language, query } => {
            let index = table.column(name).and_then(|c| c.full_text.clone());
            Expr::FullText { left, kind: *kind, language: language.clone(), query: query.clone(), index }
        }
    };
    Ok(negate(expr, filter.negated))
}

enum Kind {
    Compare(CompareOp),
    Pattern(PatternOp),
    Special,
}

fn classify(op: Operator) -> Kind {
    match op {
        Operator::Eq => Kind::Compare(CompareOp::Eq),
        Operator::Neq => Kind::Compare(CompareOp::Neq),
        Operator::Gt => Kind::Compare(CompareOp::Gt),
        Operator::Gte => Kind::Compare(CompareOp::Gte),
        Operator::Lt => Kind::Compare(CompareOp::Lt),
        Operator::Lte => Kind::Compare(CompareOp::Lte),
        Operator::IsDistinct => Kind::Compare(CompareOp::IsDistinct),
        Operator::Like => Kind::Pattern(PatternOp::Like),
        Operator::Ilike => Kind::Pattern(PatternOp::Ilike),
        Operator::Match => Kind::Pattern(PatternOp::Match),
        Operator::Imatch => Kind::Pattern(PatternOp::Imatch),
        Operator::Contains | Operator::ContainedIn | Operator::Overlaps | Operator::Range(_) => Kind::Special,
    }
}

/// PostgREST turns `*` into `%` in like patterns, so both work as wildcards.
fn pattern(op: PatternOp, value: &str) -> String {
    match op {
        PatternOp::Like | PatternOp::Ilike => value.replace('*', "%"),
        PatternOp::Match | PatternOp::Imatch => value.to_string(),
    }
}

/// Resolves one `order` term of the node.
pub(crate) fn order_to_plan(
    catalog: &Catalog,
    node: &Node,
    table: &Table,
    term: &OrderTerm,
) -> Result<OrderBy, PlanError> {
    let key = match &term.target {
        OrderTarget::Field(field) => {
            let mut column = column_ref(table, node.alias, &field.name)?;
            column.json_path.clone_from(&field.json_path);
            column.nullable |= !column.json_path.is_empty();
            OrderKey::Column(column)
        }
        OrderTarget::Related { relation, field } => {
            let embed = embed_of(node, relation).ok_or_else(|| PlanError::NotEmbedded(relation.clone()))?;
            if !embed.to_one {
                return Err(PlanError::RelatedOrderNotToOne { table: table.name.clone(), relation: relation.clone() });
            }
            let column = related_column(catalog, embed, field)?;
            OrderKey::Related { embed: Box::new(embed.clone()), column }
        }
    };
    Ok(OrderBy { key, direction: term.direction, nulls: term.nulls })
}

fn related_column(
    catalog: &Catalog,
    embed: &crate::plan::Embed,
    field: &rowbase_request::Field,
) -> Result<ColumnRef, PlanError> {
    let table = crate::read::find_table(catalog, "", &embed.node.table)?;
    let mut column = column_ref(table, embed.node.alias, &field.name)?;
    column.json_path.clone_from(&field.json_path);
    // The embedded row may be missing, so the key may be NULL whatever the column allows.
    column.nullable = true;
    Ok(column)
}
