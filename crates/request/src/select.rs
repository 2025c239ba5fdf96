//! `select=`: columns, `*`, renames, casts, JSON paths, embeds with hints, `!inner`/`!left`, spreads.
//! Grammar: PostgREST "Vertical Filtering" and "Resource Embedding" (docs.postgrest.org, API reference).

use crate::ast::{Embed, JoinKind, SelectItem};
use crate::cursor::Cursor;
use crate::error::ParseError;

/// How deep embeds may nest; deeper requests are refused rather than risk the stack.
pub(crate) const MAX_DEPTH: usize = 16;

/// Parses a whole `select` value. An empty value means all columns, as an absent one does.
pub(crate) fn parse_select(value: &str) -> Result<Vec<SelectItem>, ParseError> {
    let mut cursor = Cursor::labeled(value, "select parameter");
    let items = select_list(&mut cursor, 0)?;
    if !cursor.at_end() {
        return Err(cursor.error("\",\" or end of input"));
    }
    Ok(items)
}

fn select_list(c: &mut Cursor<'_>, depth: usize) -> Result<Vec<SelectItem>, ParseError> {
    let mut items = Vec::new();
    c.skip_spaces();
    if c.at_end() || c.peek() == Some(')') {
        return Ok(items);
    }
    loop {
        items.push(select_item(c, depth)?);
        c.skip_spaces();
        if !c.eat(",") {
            return Ok(items);
        }
    }
}

fn select_item(c: &mut Cursor<'_>, depth: usize) -> Result<SelectItem, ParseError> {
    c.skip_spaces();
    if c.eat("*") {
        return Ok(SelectItem::Star);
    }
    if c.eat("...") {
        let relation = c.name()?;
        return embed(c, None, relation, true, depth).map(SelectItem::Embed);
    }
    let first = c.field()?;
    // `alias:...` (one colon; two colons start a cast).
    let (alias, target) = if first.json_path.is_empty() && c.starts_with(":") && !c.starts_with("::") {
        c.eat(":");
        (Some(first.name), c.field()?)
    } else {
        (None, first)
    };
    c.skip_spaces();
    if target.json_path.is_empty() && (c.starts_with("(") || c.starts_with("!")) {
        return embed(c, alias, target.name, false, depth).map(SelectItem::Embed);
    }
    let cast = if c.eat("::") { Some(c.name()?) } else { None };
    c.skip_spaces();
    if c.starts_with(".") {
        // `col.sum()` and friends: aggregates are disabled, as PostgREST's default.
        return Err(c.error("\",\" (aggregate functions are not enabled)"));
    }
    Ok(SelectItem::Column { alias, field: target, cast })
}

/// After the relation name: `[!hint][!inner|!left](sel-list)`.
fn embed(
    c: &mut Cursor<'_>,
    alias: Option<String>,
    relation: String,
    spread: bool,
    depth: usize,
) -> Result<Embed, ParseError> {
    if depth >= MAX_DEPTH {
        return Err(c.error(&format!("at most {MAX_DEPTH} levels of embedding")));
    }
    let (mut hint, mut join) = (None, None);
    while c.eat("!") {
        let word = c.name()?;
        match word.as_str() {
            "inner" if join.is_none() => join = Some(JoinKind::Inner),
            "left" if join.is_none() => join = Some(JoinKind::Left),
            _ if hint.is_none() => hint = Some(word),
            _ => return Err(c.error("\"(\"")),
        }
    }
    c.expect("(")?;
    let select = select_list(c, depth + 1)?;
    c.skip_spaces();
    c.expect(")")?;
    Ok(Embed { alias, relation, hint, join, spread, select })
}

/// Parses `columns=` and `on_conflict=`: a comma-separated list of (possibly quoted) names.
pub(crate) fn parse_name_list(param: &str, value: &str) -> Result<Vec<String>, ParseError> {
    let mut c = Cursor::new(value, format!("{param} ({value})"));
    let mut names = Vec::new();
    loop {
        names.push(c.name()?);
        c.skip_spaces();
        if c.at_end() {
            return Ok(names);
        }
        c.expect(",")?;
    }
}
