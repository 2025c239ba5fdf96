//! Recognises the FTS5 tables that index a column of another table (external-content tables,
//! sqlite.org/fts5.html#external_content_tables), so the column is searchable with the `fts`
//! operators and the FTS5 table itself is not served.

/// An external-content FTS5 table over one column of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExternalContent {
    /// The content table.
    pub table: String,
    /// The indexed column of the content table.
    pub column: String,
}

/// Reads `CREATE VIRTUAL TABLE x USING fts5(col, content='t', ...)`. Only a table over exactly
/// one indexed column whose rowid is the content table's (`content_rowid` absent, `rowid`, or
/// named `integer_primary_key`, the caller's rowid alias) qualifies; anything else is `None`.
pub(crate) fn external_content(
    sql: &str,
    integer_primary_key: impl Fn(&str) -> Option<String>,
) -> Option<ExternalContent> {
    let lower = sql.to_ascii_lowercase();
    let using = lower.find("using")?;
    let rest = lower[using + 5..].trim_start();
    if !rest.starts_with("fts5") {
        return None;
    }
    let open = using + lower[using..].find('(')?;
    let close = sql.rfind(')')?;
    let mut columns = Vec::new();
    let (mut content, mut rowid) = (None, None);
    for arg in split_args(sql.get(open + 1..close)?) {
        match split_option(&arg) {
            Some((key, value)) if key.eq_ignore_ascii_case("content") => content = Some(value),
            Some((key, value)) if key.eq_ignore_ascii_case("content_rowid") => rowid = Some(value),
            Some(_) => {}
            None => {
                // `col UNINDEXED` is stored, not searched.
                let mut words = arg.split_whitespace();
                let name = unquote(words.next()?);
                if !words.any(|w| w.eq_ignore_ascii_case("unindexed")) {
                    columns.push(name);
                }
            }
        }
    }
    let table = content.filter(|t| !t.is_empty())?;
    let rowid_ok = match rowid.as_deref() {
        None | Some("rowid") => true,
        Some(column) => integer_primary_key(&table).is_some_and(|pk| pk.eq_ignore_ascii_case(column)),
    };
    match (columns.as_slice(), rowid_ok) {
        ([column], true) => Some(ExternalContent { table, column: column.clone() }),
        _ => None,
    }
}

/// The comma-separated arguments, commas inside quotes kept.
fn split_args(args: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quote: Option<char> = None;
    for c in args.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '[') => quote = Some(']'),
            (None, ',') => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out.into_iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect()
}

/// `key = value` with the value unquoted; `None` for a column argument.
fn split_option(arg: &str) -> Option<(String, String)> {
    if arg.starts_with(['"', '`', '[']) {
        return None;
    }
    let (key, value) = arg.split_once('=')?;
    Some((key.trim().to_string(), unquote(value.trim())))
}

/// A name or string without its quotes (a doubled quote is one).
fn unquote(token: &str) -> String {
    let mut chars = token.chars();
    match (chars.next(), token.chars().last()) {
        (Some(open @ ('"' | '\'' | '`')), Some(close)) if open == close && token.len() >= 2 => {
            token[1..token.len() - 1].replace(&format!("{open}{open}"), &open.to_string())
        }
        (Some('['), Some(']')) => token[1..token.len() - 1].to_string(),
        _ => token.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{ExternalContent, external_content};

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn reads_external_content_tables() {
        let sql = r#"CREATE VIRTUAL TABLE "post_search_fts" USING fts5("search", content='post', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')"#;
        assert_eq!(
            external_content(sql, none),
            Some(ExternalContent { table: "post".into(), column: "search".into() })
        );
        let sql = "create virtual table f using FTS5(body, id UNINDEXED, content=doc, content_rowid=doc_id)";
        assert_eq!(external_content(sql, |_| Some("doc_id".into())).map(|c| c.column), Some("body".into()));
        assert_eq!(external_content(sql, none), None, "a content_rowid that is not the rowid");
    }

    #[test]
    fn ignores_other_virtual_tables() {
        assert_eq!(external_content("CREATE VIRTUAL TABLE f USING fts5(a, b, content='t')", none), None);
        assert_eq!(external_content("CREATE VIRTUAL TABLE f USING fts5(a)", none), None);
        assert_eq!(external_content("CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)", none), None);
    }
}
