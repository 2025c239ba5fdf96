//! The query string as a whole: percent-decoding (`+` is a space, as browsers and the clients
//! encode it), then each key classified as PostgREST does (PostgREST API reference, "Tables and Views": reserved query parameters).

use percent_encoding::percent_decode;

use crate::ast::{BoolOp, Condition, QueryParams, Scoped};
use crate::cursor::Cursor;
use crate::error::{ParseError, ParseErrorKind};
use crate::filter::{parse_filter, parse_logic};
use crate::order::parse_order;
use crate::select::{parse_name_list, parse_select};

/// At most this many filters (leaves of all boolean trees together) in one request. Far above
/// what a real query needs; it bounds the SQL an attacker can make the engine parse.
pub const MAX_FILTERS: usize = 256;

/// At most this many elements in one `in.(...)` or `{...}` list.
pub const MAX_LIST_ELEMENTS: usize = 10_000;

/// Parses a raw (still percent-encoded) query string into [`QueryParams`].
///
/// Errors: `PGRST100` for malformed UTF-8 or any parameter that does not follow the grammar,
/// naming the parameter and the column where parsing stopped.
pub fn parse_query(raw: &str) -> Result<QueryParams, ParseError> {
    let mut params = QueryParams::default();
    let mut filters = 0usize;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k)?;
        let value = decode(v)?;
        classify(&mut params, &key, &value)?;
        filters += params.conditions.last().map_or(0, |c| count_leaves(&c.value));
        if filters > MAX_FILTERS {
            return Err(too_many(format!("at most {MAX_FILTERS} filters are allowed in one request")));
        }
    }
    Ok(params)
}

fn too_many(details: String) -> ParseError {
    ParseError { kind: ParseErrorKind::Query, message: "too many filters".into(), details: Some(details) }
}

/// `application/x-www-form-urlencoded` decoding of one key or value; invalid UTF-8 is an error.
/// Text with nothing to decode (most keys and values) is borrowed, not copied.
fn decode(s: &str) -> Result<std::borrow::Cow<'_, str>, ParseError> {
    if !s.contains(['+', '%']) {
        return Ok(std::borrow::Cow::Borrowed(s));
    }
    let plus_as_space = s.replace('+', " ");
    let bytes: Vec<u8> = percent_decode(plus_as_space.as_bytes()).collect();
    String::from_utf8(bytes).map(std::borrow::Cow::Owned).map_err(|e| ParseError {
        kind: ParseErrorKind::Encoding,
        message: "the query string is not valid UTF-8".into(),
        details: Some(format!("invalid byte sequence at byte {}", e.utf8_error().valid_up_to())),
    })
}

fn classify(params: &mut QueryParams, key: &str, value: &str) -> Result<(), ParseError> {
    match key {
        "select" => {
            params.select = Some(parse_select(value)?);
            return Ok(());
        }
        "columns" => {
            params.columns = Some(parse_name_list("columns", value)?);
            return Ok(());
        }
        "on_conflict" => {
            params.on_conflict = Some(parse_name_list("on_conflict", value)?);
            return Ok(());
        }
        _ => {}
    }
    let mut path = key_path(key)?;
    let last = path.pop().ok_or_else(|| ParseError::query(&format!("key ({key})"), 1, "a name"))?;
    if !last.json_path.is_empty() {
        let condition = Condition::Filter(parse_filter(last, value)?);
        check_lists(&condition)?;
        params.conditions.push(Scoped { path: names(path), value: condition });
        return Ok(());
    }
    match last.name.as_str() {
        "order" => params.order.push(Scoped { path: names(path), value: parse_order(value)? }),
        "limit" => {
            let limit = value.trim().parse::<i64>().map_err(|_| {
                ParseError::query(&format!("limit ({value})"), 1, "unexpected value expecting an integer")
            })?;
            params.limit.push(Scoped { path: names(path), value: limit });
        }
        "offset" => {
            // PostgREST ignores a negative or non-numeric offset.
            if let Ok(offset) = value.trim().parse::<u64>() {
                params.offset.push(Scoped { path: names(path), value: offset });
            }
        }
        "and" | "or" => {
            let op = if last.name == "and" { BoolOp::And } else { BoolOp::Or };
            let negated = path.last().is_some_and(|f| f.name == "not" && f.json_path.is_empty());
            if negated {
                path.pop();
            }
            let condition = parse_logic(op, negated, value)?;
            check_lists(&condition)?;
            params.conditions.push(Scoped { path: names(path), value: condition });
        }
        _ => {
            let condition = Condition::Filter(parse_filter(last, value)?);
            check_lists(&condition)?;
            params.conditions.push(Scoped { path: names(path), value: condition });
        }
    }
    Ok(())
}

/// `a.b.col->x` into fields `[a, b, col->x]`; only the last may carry JSON arrows.
fn key_path(key: &str) -> Result<Vec<crate::ast::Field>, ParseError> {
    let mut c = Cursor::labeled(key, "key");
    let mut fields = Vec::new();
    loop {
        let field = c.field()?;
        let more = c.eat(".");
        if more && !field.json_path.is_empty() {
            return Err(c.error("end of the key after a JSON path"));
        }
        fields.push(field);
        if !more {
            break;
        }
    }
    if !c.at_end() {
        return Err(c.error("\".\" or \"=\""));
    }
    Ok(fields)
}

fn names(path: Vec<crate::ast::Field>) -> Vec<String> {
    path.into_iter().map(|f| f.name).collect()
}

fn count_leaves(c: &Condition) -> usize {
    match c {
        Condition::Filter(_) => 1,
        Condition::Group { conditions, .. } => conditions.iter().map(count_leaves).sum(),
    }
}

fn check_lists(c: &Condition) -> Result<(), ParseError> {
    use crate::ast::Predicate;
    match c {
        Condition::Filter(f) => match &f.predicate {
            Predicate::In(v) | Predicate::Quantified { values: v, .. } if v.len() > MAX_LIST_ELEMENTS => {
                Err(too_many(format!("at most {MAX_LIST_ELEMENTS} elements are allowed in one list")))
            }
            _ => Ok(()),
        },
        Condition::Group { conditions, .. } => conditions.iter().try_for_each(check_lists),
    }
}
