//! Reads an SQLite file's tables, views, columns and keys into a [`Catalog`].
//! Uses the pragma table-valued functions with the table name bound, never spliced.

use rowbase_catalog::{Catalog, Column, ForeignKey, FullTextIndex, ReferentialAction, Table, TableKind};
use rusqlite::{Connection, OptionalExtension};

use super::fts5;
use super::types::data_type_of;

/// SQLite has no schemas; its tables are served as `public`, what the clients send by default.
pub const SCHEMA: &str = "public";

/// The whole catalog. FTS5 shadow tables are never served; an external-content FTS5 table over
/// one column marks that column as full-text indexed and is not served itself.
pub(crate) fn catalog(conn: &Connection) -> Result<Catalog, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT l.name, l.type, s.sql FROM pragma_table_list l JOIN sqlite_schema s ON s.name = l.name
         WHERE l.schema = 'main' AND l.type IN ('table', 'view', 'virtual') AND l.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
         ORDER BY l.name",
    )?;
    let names: Vec<(String, String, Option<String>)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    let mut tables = Vec::with_capacity(names.len());
    let mut indexes = Vec::new();
    for (name, kind, sql) in &names {
        if rowbase_catalog::is_internal(name) {
            continue;
        }
        if kind == "virtual" {
            let rowid_alias = |table: &str| integer_primary_key(conn, table).ok().flatten();
            if let Some(content) = sql.as_deref().and_then(|sql| fts5::external_content(sql, rowid_alias)) {
                indexes.push((name.clone(), content));
                continue;
            }
        }
        tables.push(table(conn, name, if kind == "view" { TableKind::View } else { TableKind::Table })?);
    }
    for (index, content) in indexes {
        let column = tables
            .iter_mut()
            .find(|t| t.name.eq_ignore_ascii_case(&content.table))
            .and_then(|t| t.columns.iter_mut().find(|c| c.name.eq_ignore_ascii_case(&content.column)));
        if let Some(column) = column {
            column.full_text = Some(FullTextIndex::Fts5(index));
        }
    }
    resolve_implicit_references(&mut tables);
    let mut origins = Vec::new();
    for view in tables.iter_mut().filter(|t| t.kind == TableKind::View) {
        view.writable = view_writes(conn, &view.name)?;
        origins.extend(view_origins(conn, &view.name)?);
    }
    rowbase_catalog::derive_view_keys(&mut tables, &origins);
    Ok(Catalog::new(tables))
}

/// The writes a view takes: SQLite writes a view only through its `INSTEAD OF` triggers.
fn view_writes(conn: &Connection, view: &str) -> Result<rowbase_catalog::Writable, rusqlite::Error> {
    let sqls: Vec<String> = conn
        .prepare("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 AND sql IS NOT NULL")?
        .query_map([view], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let has = |event: &str| {
        sqls.iter().any(|sql| {
            let words: Vec<String> = sql.split_whitespace().map(str::to_ascii_uppercase).collect();
            words.windows(3).any(|w| w[0] == "INSTEAD" && w[1] == "OF" && w[2] == event)
        })
    };
    Ok(rowbase_catalog::Writable { insert: has("INSERT"), update: has("UPDATE"), delete: has("DELETE") })
}

/// The base-table columns a view selects, as `(view, table, column)`, from SQLite's own column
/// metadata (the origin of each result column of `SELECT * FROM view`).
fn view_origins(conn: &Connection, view: &str) -> Result<Vec<(String, String, String)>, rusqlite::Error> {
    let mut quoted = String::from("\"");
    quoted.push_str(&view.replace('"', "\"\""));
    quoted.push('"');
    let stmt = conn.prepare(&format!("SELECT * FROM {quoted}"))?;
    Ok(stmt
        .columns_with_metadata()
        .filter_map(|c| match (c.table_name(), c.origin_name()) {
            // The view's own column name, when it is the base column's.
            (Some(table), Some(origin)) if c.name() == origin => {
                Some((view.to_string(), table.to_string(), origin.to_string()))
            }
            _ => None,
        })
        .collect())
}

/// The column that is the table's rowid (`INTEGER PRIMARY KEY`), if any.
fn integer_primary_key(conn: &Connection, table: &str) -> Result<Option<String>, rusqlite::Error> {
    let key: Vec<(String, String)> = conn
        .prepare("SELECT name, type FROM pragma_table_info(?1) WHERE pk > 0")?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(match key.as_slice() {
        [(name, declared)] if declared.eq_ignore_ascii_case("integer") => Some(name.clone()),
        _ => None,
    })
}

fn table(conn: &Connection, name: &str, kind: TableKind) -> Result<Table, rusqlite::Error> {
    let mut stmt = conn
        .prepare("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid")?;
    let mut primary_key: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::new();
    let rows = stmt.query_map([name], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            r.get::<_, bool>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    for row in rows {
        let (column, declared, not_null, default, pk, hidden) = row?;
        if hidden == 1 {
            continue; // hidden columns of virtual tables
        }
        if pk > 0 {
            primary_key.push((pk, column.clone()));
        }
        let data_type = data_type_of(&declared);
        columns.push(Column {
            name: column.into(),
            max_length: if data_type == rowbase_catalog::DataType::Text { declared_length(&declared) } else { None },
            data_type,
            declared_type: declared,
            nullable: !not_null && pk == 0,
            default,
            // 2: a VIRTUAL generated column, 3: a STORED one.
            generated: hidden == 2 || hidden == 3,
            auto_increment: false,
            full_text: None,
        });
    }
    primary_key.sort();
    // A single-column primary key declared exactly INTEGER is the rowid: SQLite assigns it.
    if let [(_, key)] = primary_key.as_slice() {
        if let Some(c) = columns.iter_mut().find(|c| c.name == *key && c.declared_type.eq_ignore_ascii_case("INTEGER"))
        {
            c.auto_increment = true;
        }
    }
    let definition = definition(conn, name)?;
    Ok(Table {
        schema: SCHEMA.to_string(),
        name: name.to_string(),
        kind,
        columns,
        primary_key: primary_key.into_iter().map(|(_, c)| c).collect(),
        unique_keys: unique_keys(conn, name, false)?,
        unique_indexes: unique_keys(conn, name, true)?,
        foreign_keys: foreign_keys(conn, name)?,
        indexes: indexes(conn, name)?,
        triggers: conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 ORDER BY name")?
            .query_map([name], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
        policies: Vec::new(),
        checks: definition
            .as_ref()
            .map(|d| {
                named_checks(&d.table)
                    .into_iter()
                    .map(|name| rowbase_catalog::CheckConstraint {
                        name,
                        definition: None,
                        engine: rowbase_catalog::Engine::Sqlite,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        definition,
        writable: rowbase_catalog::Writable::ALL,
    })
}

/// The stored statements of a table and of its explicit indexes and triggers.
fn definition(conn: &Connection, table: &str) -> Result<Option<rowbase_catalog::SqliteDefinition>, rusqlite::Error> {
    let sql: Option<String> = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))
        .optional()?
        .flatten();
    let Some(sql) = sql else { return Ok(None) };
    let mut dependents = conn.prepare(
        "SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND tbl_name = ?1 AND sql IS NOT NULL
         ORDER BY type = 'trigger', name",
    )?;
    let dependents = dependents.query_map([table], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(Some(rowbase_catalog::SqliteDefinition { table: sql, dependents }))
}

/// The names of the named CHECK constraints (`CONSTRAINT <name> CHECK`) of a CREATE TABLE
/// statement: SQLite keeps no catalog of them. The name may be bare or quoted with `"`, `` ` `` or
/// `[]`; text inside string literals is skipped.
fn named_checks(sql: &str) -> Vec<String> {
    let tokens = tokens(sql);
    tokens
        .windows(3)
        .filter(|w| w[0].eq_ignore_ascii_case("CONSTRAINT") && w[2].eq_ignore_ascii_case("CHECK"))
        .map(|w| unquote(&w[1]))
        .collect()
}

/// Words, quoted names and punctuation of `sql`, string literals dropped.
fn tokens(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // A string literal: skip it ('' is an escaped quote).
                while let Some(x) = chars.next() {
                    if x == '\'' && chars.peek() != Some(&'\'') {
                        break;
                    }
                    if x == '\'' {
                        chars.next();
                    }
                }
            }
            '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let mut token = c.to_string();
                while let Some(x) = chars.next() {
                    token.push(x);
                    if x == close {
                        if chars.peek() == Some(&close) && close != ']' {
                            token.push(close);
                            chars.next();
                            continue;
                        }
                        break;
                    }
                }
                out.push(token);
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut token = c.to_string();
                while let Some(&x) = chars.peek() {
                    if x.is_alphanumeric() || x == '_' || x == '$' {
                        token.push(x);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(token);
            }
            c if c.is_whitespace() => {}
            c => out.push(c.to_string()),
        }
    }
    out
}

/// A name token without its quotes (doubled quotes undone).
fn unquote(token: &str) -> String {
    let mut chars = token.chars();
    match (chars.next(), token.chars().last()) {
        (Some(open @ ('"' | '`')), Some(close)) if close == open && token.len() >= 2 => {
            token[1..token.len() - 1].replace(&format!("{open}{open}"), &open.to_string())
        }
        (Some('['), Some(']')) => token[1..token.len() - 1].to_string(),
        _ => token.to_string(),
    }
}

/// Indexes made with CREATE INDEX (origin `c`), not those of constraints.
fn indexes(conn: &Connection, table: &str) -> Result<Vec<rowbase_catalog::Index>, rusqlite::Error> {
    let mut list =
        conn.prepare("SELECT name, \"unique\" FROM pragma_index_list(?1) WHERE origin = 'c' ORDER BY name")?;
    let found: Vec<(String, bool)> =
        list.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut info = conn.prepare("SELECT name, \"desc\" FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")?;
    let mut out = Vec::new();
    for (name, unique) in found {
        let columns: Vec<(Option<String>, bool)> =
            info.query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        let columns = columns.into_iter().map(|(c, d)| (c.unwrap_or_default(), d)).collect();
        out.push(rowbase_catalog::Index { name, columns, unique });
    }
    Ok(out)
}

/// Unique indexes that are not partial (a partial index does not make its columns unique) and
/// not the primary key's; with `created_only`, only those made by `CREATE UNIQUE INDEX` (origin
/// `c`), not by a `UNIQUE` constraint (origin `u`).
fn unique_keys(conn: &Connection, table: &str, created_only: bool) -> Result<Vec<Vec<String>>, rusqlite::Error> {
    // The primary key's own index (origin `pk`) is not listed: the key is `primary_key`, as on the
    // other engines.
    let mut list = conn.prepare(
        "SELECT name FROM pragma_index_list(?1) WHERE \"unique\" = 1 AND partial = 0 AND origin <> 'pk' \
         AND (?2 = 0 OR origin = 'c')",
    )?;
    let indexes: Vec<String> =
        list.query_map(rusqlite::params![table, created_only], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut info = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
    let mut keys = Vec::new();
    for index in indexes {
        let cols: Vec<Option<String>> = info.query_map([&index], |r| r.get(0))?.collect::<Result<_, _>>()?;
        // An index on an expression has a NULL column name: it is not a key of columns.
        if let Some(cols) = cols.into_iter().collect::<Option<Vec<_>>>() {
            keys.push(cols);
        }
    }
    Ok(keys)
}

fn foreign_keys(conn: &Connection, table: &str) -> Result<Vec<ForeignKey>, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let rows = stmt.query_map([table], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut keys: Vec<(i64, ForeignKey)> = Vec::new();
    for row in rows {
        let (id, referenced, from, to, on_update, on_delete) = row?;
        if keys.last().is_none_or(|(last, _)| *last != id) {
            keys.push((
                id,
                ForeignKey {
                    name: String::new(),
                    columns: Vec::new(),
                    referenced_table: referenced,
                    referenced_columns: Vec::new(),
                    on_delete: action(&on_delete),
                    on_update: action(&on_update),
                },
            ));
        }
        if let Some((_, fk)) = keys.last_mut() {
            fk.columns.push(from);
            // NULL `to`: the key references the parent's primary key, filled in later.
            fk.referenced_columns.push(to.unwrap_or_default());
        }
    }
    Ok(keys
        .into_iter()
        .map(|(_, mut fk)| {
            // SQLite keeps no constraint names; use PostgreSQL's default so hints carry over.
            fk.name = format!("{table}_{}_fkey", fk.columns.join("_"));
            fk
        })
        .collect())
}

/// `REFERENCES parent` without columns means the parent's primary key.
fn resolve_implicit_references(tables: &mut [Table]) {
    let pks: Vec<(String, Vec<String>)> = tables.iter().map(|t| (t.name.clone(), t.primary_key.clone())).collect();
    for table in tables.iter_mut() {
        for fk in &mut table.foreign_keys {
            if fk.referenced_columns.iter().any(String::is_empty) {
                if let Some((_, pk)) = pks.iter().find(|(n, _)| n.eq_ignore_ascii_case(&fk.referenced_table)) {
                    fk.referenced_columns.clone_from(pk);
                }
            }
            // SQLite resolves table names case-insensitively; use the catalog's spelling.
            if let Some((name, _)) = pks.iter().find(|(n, _)| n.eq_ignore_ascii_case(&fk.referenced_table)) {
                fk.referenced_table.clone_from(name);
            }
        }
    }
}

/// The `n` of a declared type such as `NVARCHAR(160)`.
fn declared_length(declared: &str) -> Option<u32> {
    let (_, rest) = declared.split_once('(')?;
    rest.split([')', ',']).next()?.trim().parse().ok()
}

fn action(s: &str) -> ReferentialAction {
    match s.to_ascii_uppercase().as_str() {
        "CASCADE" => ReferentialAction::Cascade,
        "SET NULL" => ReferentialAction::SetNull,
        "SET DEFAULT" => ReferentialAction::SetDefault,
        "RESTRICT" => ReferentialAction::Restrict,
        _ => ReferentialAction::NoAction,
    }
}

#[cfg(test)]
mod tests {
    use super::named_checks;

    #[test]
    fn finds_named_checks_in_create_statements() {
        let sql = r#"CREATE TABLE "p" ("price" DECIMAL(10,2) CHECK (price > 0), note TEXT DEFAULT 'CONSTRAINT "x" CHECK',
            CONSTRAINT "p_price_check" CHECK ("price" >= 0), constraint `odd"name` check (1), CONSTRAINT [b] CHECK (1),
            CONSTRAINT "p_a_key" UNIQUE ("a"), CONSTRAINT "q""uote" CHECK (1))"#;
        assert_eq!(named_checks(sql), ["p_price_check", "odd\"name", "b", "q\"uote"]);
    }
}
