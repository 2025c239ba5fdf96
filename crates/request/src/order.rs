//! `order=`: `term(,term)*`, a term being `field` or `relation(field)` followed by an optional
//! `.asc|.desc` and an optional `.nullsfirst|.nullslast` (PostgREST "Ordering").

use crate::ast::{Direction, Nulls, OrderTarget, OrderTerm};
use crate::cursor::Cursor;
use crate::error::ParseError;

/// Parses an `order` value. An empty value orders by nothing.
pub(crate) fn parse_order(value: &str) -> Result<Vec<OrderTerm>, ParseError> {
    let mut c = Cursor::labeled(value, "order");
    let mut terms = Vec::new();
    c.skip_spaces();
    if c.at_end() {
        return Ok(terms);
    }
    loop {
        terms.push(term(&mut c)?);
        c.skip_spaces();
        if c.at_end() {
            return Ok(terms);
        }
        c.expect(",")?;
    }
}

fn term(c: &mut Cursor<'_>) -> Result<OrderTerm, ParseError> {
    let field = c.field()?;
    let target = if field.json_path.is_empty() && c.eat("(") {
        let inner = c.field()?;
        c.expect(")")?;
        OrderTarget::Related { relation: field.name, field: inner }
    } else {
        OrderTarget::Field(field)
    };
    let (mut direction, mut nulls) = (None, None);
    while c.eat(".") {
        let at = c.column();
        let word = c.name()?;
        match word.as_str() {
            "asc" if direction.is_none() && nulls.is_none() => direction = Some(Direction::Asc),
            "desc" if direction.is_none() && nulls.is_none() => direction = Some(Direction::Desc),
            "nullsfirst" if nulls.is_none() => nulls = Some(Nulls::First),
            "nullslast" if nulls.is_none() => nulls = Some(Nulls::Last),
            _ => {
                return Err(c.error_at(
                    at,
                    format!("unexpected \"{word}\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""),
                ));
            }
        }
    }
    Ok(OrderTerm { target, direction, nulls })
}
