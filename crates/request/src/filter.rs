//! Filters (`col=[not.]op.value`) and boolean trees (`or=(...)`, `and=(...)`, nested at any depth).
//! Grammar: PostgREST "Horizontal Filtering", "Logical operators" (docs.postgrest.org, API reference, "Tables and Views").

use crate::ast::{BoolOp, Condition, Field, Filter, FtsKind, IsValue, Operator, Predicate, Quantifier, RangeOperator};
use crate::cursor::{Cursor, split_top_level};
use crate::error::ParseError;
use crate::select::MAX_DEPTH;

/// Parses the value of a filter parameter whose key named `field`: `[not.]op.value`.
/// At the top level the value after `op.` is taken literally (quotes are not special).
pub(crate) fn parse_filter(field: Field, value: &str) -> Result<Filter, ParseError> {
    let mut c = Cursor::labeled(value, "filter");
    let (negated, predicate) = op_expr(&mut c, false)?;
    Ok(Filter { field, negated, predicate })
}

/// Parses the value of `[not.]and=` / `[not.]or=`: `(cond,cond,...)`.
pub(crate) fn parse_logic(op: BoolOp, negated: bool, value: &str) -> Result<Condition, ParseError> {
    let what = format!("logic tree ({value})");
    let mut c = Cursor::new(value, what.clone());
    c.expect("(")?;
    let inner = value.strip_suffix(')').filter(|_| value.len() >= 2).ok_or_else(|| {
        ParseError::query(&what, value.chars().count() + 1, "unexpected end of input expecting \")\"")
    })?;
    let conditions = condition_list(&inner[1..], &what, 0)?;
    Ok(Condition::Group { op, negated, conditions })
}

fn condition_list(list: &str, what: &str, depth: usize) -> Result<Vec<Condition>, ParseError> {
    if depth >= MAX_DEPTH {
        return Err(ParseError::query(what, 1, format!("at most {MAX_DEPTH} levels of and/or nesting")));
    }
    let parts = split_top_level(list)
        .map_err(|at| ParseError::query(what, at + 1, "balanced parentheses, braces and quotes"))?;
    parts.into_iter().map(|(_, part)| condition(part.trim(), what, depth)).collect()
}

/// One element of a logic list: `[not.]and(...)`, `[not.]or(...)` or `field.[not.]op.value`.
fn condition(item: &str, what: &str, depth: usize) -> Result<Condition, ParseError> {
    let (negated, body) = match item.strip_prefix("not.") {
        Some(rest) if rest.starts_with("and(") || rest.starts_with("or(") => (true, rest),
        _ => (false, item),
    };
    for (prefix, op) in [("and(", BoolOp::And), ("or(", BoolOp::Or)] {
        if let Some(rest) = body.strip_prefix(prefix) {
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| ParseError::query(what, 1, format!("\")\" at the end of {item}")))?;
            let conditions = condition_list(inner, what, depth + 1)?;
            return Ok(Condition::Group { op, negated, conditions });
        }
    }
    let mut c = Cursor::new(item, what.to_string());
    let field = c.field()?;
    c.expect(".")?;
    let (negated, predicate) = op_expr(&mut c, true)?;
    Ok(Condition::Filter(Filter { field, negated, predicate }))
}

/// `[not.]op[(modifier)].value`. Inside logic trees a `"quoted"` value is unquoted.
fn op_expr(c: &mut Cursor<'_>, in_tree: bool) -> Result<(bool, Predicate), ParseError> {
    let negated = c.eat("not.");
    let start = c.column();
    let mut name = String::new();
    while let Some(ch) = c.peek() {
        if ch == '.' || ch == '(' {
            break;
        }
        name.push(ch);
        c.bump();
    }
    let modifier = if c.eat("(") {
        let mut m = String::new();
        loop {
            match c.bump() {
                Some(')') => break,
                Some(ch) => m.push(ch),
                None => return Err(c.error("\")\"")),
            }
        }
        Some(m)
    } else {
        None
    };
    if !c.eat(".") {
        return Err(operator_error(c, start, &name));
    }
    let raw = c.rest();
    let value = if in_tree { unquote(raw) } else { raw.to_string() };
    let predicate = match (name.as_str(), modifier.as_deref()) {
        ("in", None) => Predicate::In(list(c, raw, '(', ')')?),
        ("is", None) => Predicate::Is(is_value(c, &value)?),
        (fts @ ("fts" | "plfts" | "phfts" | "wfts"), language) => Predicate::FullText {
            kind: match fts {
                "fts" => FtsKind::Fts,
                "plfts" => FtsKind::Plain,
                "phfts" => FtsKind::Phrase,
                _ => FtsKind::Websearch,
            },
            language: language.map(str::to_string),
            query: value,
        },
        (op, Some(q @ ("any" | "all"))) => {
            let op = operator(op).filter(|o| quantifiable(*o)).ok_or_else(|| operator_error(c, start, &name))?;
            let quantifier = if q == "any" { Quantifier::Any } else { Quantifier::All };
            Predicate::Quantified { op, quantifier, values: list(c, raw, '{', '}')? }
        }
        (op, None) => Predicate::Compare { op: operator(op).ok_or_else(|| operator_error(c, start, &name))?, value },
        _ => return Err(operator_error(c, start, &name)),
    };
    Ok((negated, predicate))
}

fn operator(name: &str) -> Option<Operator> {
    Some(match name {
        "eq" => Operator::Eq,
        "neq" => Operator::Neq,
        "gt" => Operator::Gt,
        "gte" => Operator::Gte,
        "lt" => Operator::Lt,
        "lte" => Operator::Lte,
        "like" => Operator::Like,
        "ilike" => Operator::Ilike,
        "match" => Operator::Match,
        "imatch" => Operator::Imatch,
        "isdistinct" => Operator::IsDistinct,
        "cs" => Operator::Contains,
        "cd" => Operator::ContainedIn,
        "ov" => Operator::Overlaps,
        "sl" => Operator::Range(RangeOperator::StrictlyLeft),
        "sr" => Operator::Range(RangeOperator::StrictlyRight),
        "nxr" => Operator::Range(RangeOperator::NotExtendRight),
        "nxl" => Operator::Range(RangeOperator::NotExtendLeft),
        "adj" => Operator::Range(RangeOperator::Adjacent),
        _ => return None,
    })
}

/// PostgREST allows `(any)`/`(all)` on these only.
fn quantifiable(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::Gt
            | Operator::Gte
            | Operator::Lt
            | Operator::Lte
            | Operator::Like
            | Operator::Ilike
            | Operator::Match
            | Operator::Imatch
    )
}

fn operator_error(c: &Cursor<'_>, column: usize, name: &str) -> ParseError {
    let found = if name.is_empty() { "end of input".to_string() } else { format!("\"{name}\"") };
    c.error_at(column, format!("unexpected {found} expecting \"not\" or operator (eq, gt, ...)"))
}

fn is_value(c: &Cursor<'_>, value: &str) -> Result<IsValue, ParseError> {
    Ok(match value.to_ascii_lowercase().as_str() {
        "null" => IsValue::Null,
        "not_null" => IsValue::NotNull,
        "true" => IsValue::True,
        "false" => IsValue::False,
        "unknown" => IsValue::Unknown,
        _ => return Err(c.error("null or not_null or trilean value (true, false, unknown)")),
    })
}

/// `(a,"b,c",d)` or `{a,b}`: elements separated by commas; quoted elements may hold `,()` and use
/// `\"` / `\\` escapes. `()` is the empty list.
fn list(c: &Cursor<'_>, raw: &str, open: char, close: char) -> Result<Vec<String>, ParseError> {
    let inner = raw
        .strip_prefix(open)
        .and_then(|r| r.strip_suffix(close))
        .ok_or_else(|| c.error(&format!("a list {open}a,b,...{close}")))?;
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    let parts = split_top_level(inner).map_err(|_| c.error("balanced quotes in the list"))?;
    Ok(parts.into_iter().map(|(_, p)| unquote(p)).collect())
}

/// Removes surrounding double quotes and their escapes; leaves anything else as it is.
fn unquote(s: &str) -> String {
    let trimmed = s.trim();
    if trimmed.len() >= 2 && trimmed.starts_with('"') && trimmed.ends_with('"') {
        let mut out = String::with_capacity(trimmed.len());
        let mut chars = trimmed[1..trimmed.len() - 1].chars();
        while let Some(ch) = chars.next() {
            if ch == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        s.to_string()
    }
}
