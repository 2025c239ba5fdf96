//! Reads the tables, views, columns and keys of the connection's database from
//! `information_schema` into a [`Catalog`], served as the `public` schema.

use std::collections::HashMap;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use rowbase_catalog::{Catalog, Column, DataType, ForeignKey, FullTextIndex, ReferentialAction, Table, TableKind};

use super::classify::classify;
use crate::error::DbError;

/// The profile MySQL databases are served under.
pub const SCHEMA: &str = "public";

type ColumnRow = (String, String, String, String, String, Option<String>, Option<u64>, Option<String>, Option<String>);
type ConstraintRow = (String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>);

/// The catalog of the connection's database.
pub(crate) async fn catalog(conn: &mut Conn) -> Result<Catalog, DbError> {
    let err = |e: mysql_async::Error| classify(&e);
    let names: Vec<(String, String)> = conn
        .query("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")
        .await
        .map_err(err)?;
    let mut tables: Vec<Table> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (name, kind) in names {
        if rowbase_catalog::is_internal(&name) {
            continue;
        }
        index.insert(name.clone(), tables.len());
        tables.push(Table {
            schema: SCHEMA.to_string(),
            name,
            kind: if kind == "VIEW" { TableKind::View } else { TableKind::Table },
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_keys: Vec::new(),
            unique_indexes: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            triggers: Vec::new(),
            policies: Vec::new(),
            definition: None,
            writable: rowbase_catalog::Writable::ALL,
        });
    }
    // MariaDB's JSON is LONGTEXT with a json_valid() check.
    let checks: Vec<(String, String, String)> = conn
        .query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
             WHERE CONSTRAINT_SCHEMA = DATABASE()",
        )
        .await
        .unwrap_or_default();
    let is_json = |table: &str, column: &str| {
        checks.iter().any(|(t, _, clause)| t == table && clause.replace('`', "") == format!("json_valid({column})"))
    };
    let columns: Vec<ColumnRow> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, CHARACTER_MAXIMUM_LENGTH,
                    GENERATION_EXPRESSION, EXTRA
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .await
        .map_err(err)?;
    for (table, name, column_type, data_type, nullable, default, length, generation, extra) in columns {
        let Some(&i) = index.get(&table) else { continue };
        let neutral = if is_json(&table, &name) { DataType::Json } else { data_type_of(&data_type, &column_type) };
        tables[i].columns.push(Column {
            name: name.into(),
            // Only CHAR/VARCHAR declare a length; TEXT's maximum is not one.
            max_length: if matches!(data_type.as_str(), "char" | "varchar") {
                length.and_then(|l| u32::try_from(l).ok())
            } else {
                None
            },
            data_type: neutral,
            declared_type: column_type,
            nullable: nullable == "YES",
            default,
            // MySQL reports '' for ordinary columns, MariaDB NULL.
            generated: generation.is_some_and(|g| !g.is_empty()),
            auto_increment: extra.is_some_and(|e| e.to_ascii_lowercase().contains("auto_increment")),
            full_text: None,
        });
    }
    let constraints: Vec<ConstraintRow> = conn
        .query(
            "SELECT tc.TABLE_NAME, tc.CONSTRAINT_NAME, tc.CONSTRAINT_TYPE, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,
                    k.REFERENCED_COLUMN_NAME, rc.UPDATE_RULE, rc.DELETE_RULE
             FROM information_schema.TABLE_CONSTRAINTS tc
             JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA
                  AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND k.TABLE_NAME = tc.TABLE_NAME
             LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON rc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA
                  AND rc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND rc.TABLE_NAME = tc.TABLE_NAME
             WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
               AND (k.REFERENCED_TABLE_SCHEMA IS NULL OR k.REFERENCED_TABLE_SCHEMA = DATABASE())
             ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        )
        .await
        .map_err(err)?;
    let mut uniques: HashMap<(usize, String), Vec<String>> = HashMap::new();
    for (table, name, kind, column, referenced, referenced_column, on_update, on_delete) in constraints {
        let Some(&i) = index.get(&table) else { continue };
        match kind.as_str() {
            "PRIMARY KEY" => tables[i].primary_key.push(column),
            "UNIQUE" => uniques.entry((i, name)).or_default().push(column),
            _ => {
                let t = &mut tables[i];
                if t.foreign_keys.last().is_none_or(|fk| fk.name != name) {
                    t.foreign_keys.push(ForeignKey {
                        name,
                        columns: Vec::new(),
                        referenced_table: referenced.unwrap_or_default(),
                        referenced_columns: Vec::new(),
                        on_delete: action(on_delete.as_deref()),
                        on_update: action(on_update.as_deref()),
                    });
                }
                if let Some(fk) = t.foreign_keys.last_mut() {
                    fk.columns.push(column);
                    fk.referenced_columns.push(referenced_column.unwrap_or_default());
                }
            }
        }
    }
    let mut uniques: Vec<_> = uniques.into_iter().collect();
    uniques.sort();
    for ((i, _), columns) in uniques {
        tables[i].unique_keys.push(columns);
    }
    // Indexes that back no constraint (InnoDB names a foreign key's index after the key).
    let constrained: Vec<(String, String, String)> = conn
        .query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME",
        )
        .await
        .map_err(err)?;
    for (table, name, kind) in &constrained {
        if let (Some(&i), "CHECK") = (index.get(table), kind.as_str()) {
            let clause =
                checks.iter().find(|(t, n, _)| t == table && n == name).map(|(_, _, c)| format!("CHECK ({c})"));
            tables[i].checks.push(rowbase_catalog::CheckConstraint {
                name: name.clone(),
                definition: clause,
                engine: rowbase_catalog::Engine::MySql,
            });
        }
    }
    let rows: Vec<(String, String, String, Option<String>, i64, String)> = conn
        .query(
            "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, COLLATION, NON_UNIQUE, INDEX_TYPE FROM information_schema.STATISTICS
             WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        )
        .await
        .map_err(err)?;
    // A FULLTEXT index over exactly one column makes that column searchable; it is not listed
    // among the indexes (the column's `full_text` stands for it).
    let mut fulltext: HashMap<(String, String), Vec<String>> = HashMap::new();
    for (table, name, column, _, _, kind) in &rows {
        if kind == "FULLTEXT" {
            fulltext.entry((table.clone(), name.clone())).or_default().push(column.clone());
        }
    }
    for ((table, _), columns) in &fulltext {
        let Some(&i) = index.get(table) else { continue };
        if let [column] = columns.as_slice() {
            if let Some(c) = tables[i].columns.iter_mut().find(|c| c.name == *column) {
                c.full_text = Some(FullTextIndex::Fulltext);
            }
        }
    }
    for (table, name, column, collation, non_unique, kind) in rows {
        let Some(&i) = index.get(&table) else { continue };
        if kind == "FULLTEXT" || constrained.iter().any(|(t, c, _)| *t == table && *c == name) {
            continue;
        }
        let t = &mut tables[i];
        if t.indexes.last().is_none_or(|ix| ix.name != name) {
            t.indexes.push(rowbase_catalog::Index { name: name.clone(), columns: Vec::new(), unique: non_unique == 0 });
        }
        if let Some(ix) = t.indexes.last_mut() {
            ix.columns.push((column, collation.as_deref() == Some("D")));
        }
    }
    let triggers: Vec<(String, String)> = conn
        .query(
            "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS
             WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, TRIGGER_NAME",
        )
        .await
        .map_err(err)?;
    for (table, name) in triggers {
        if let Some(&i) = index.get(&table) {
            tables[i].triggers.push(name);
        }
    }
    // An updatable view (MERGE algorithm over one table) takes every write; others none.
    let views: Vec<(String, String, String)> = conn
        .query(
            "SELECT TABLE_NAME, IS_UPDATABLE, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
        )
        .await
        .map_err(err)?;
    let mut origins = Vec::new();
    for (view, updatable, definition) in views {
        if let Some(&i) = index.get(&view) {
            tables[i].writable =
                if updatable == "YES" { rowbase_catalog::Writable::ALL } else { rowbase_catalog::Writable::NONE };
        }
        origins.extend(view_origins(&view, &definition));
    }
    rowbase_catalog::derive_view_keys(&mut tables, &origins);
    Ok(Catalog::new(tables))
}

/// The base-table columns a view shows under their own name, as `(view, table, column)`, read
/// from the definition MySQL/MariaDB store in canonical form (every column qualified and
/// aliased: `` `db`.`table`.`column` AS `column` ``); the servers keep no column usage table.
fn view_origins(view: &str, definition: &str) -> Vec<(String, String, String)> {
    /// The backquoted identifiers joined by `.` at the start of `s`, and what follows them.
    fn path(mut s: &str) -> (Vec<String>, &str) {
        let mut parts = Vec::new();
        while let Some(rest) = s.strip_prefix('`') {
            let mut name = String::new();
            let mut chars = rest.char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '`' {
                    if chars.peek().is_some_and(|(_, n)| *n == '`') {
                        name.push('`');
                        chars.next();
                        continue;
                    }
                    end = Some(i + 1);
                    break;
                }
                name.push(c);
            }
            let Some(end) = end else { break };
            parts.push(name);
            s = &rest[end..];
            match s.strip_prefix('.') {
                Some(next) if next.starts_with('`') => s = next,
                _ => break,
            }
        }
        (parts, s)
    }
    let mut origins = Vec::new();
    let mut rest = definition;
    while let Some(at) = rest.find('`') {
        let (parts, after) = path(&rest[at..]);
        rest = after;
        if parts.len() < 2 {
            if parts.is_empty() {
                rest = &rest[1.min(rest.len())..];
            }
            continue;
        }
        let Some(aliased) = after.strip_prefix(" AS ").or_else(|| after.strip_prefix(" as ")) else { continue };
        let (alias, after_alias) = path(aliased);
        rest = after_alias;
        let (table, column) = (&parts[parts.len() - 2], &parts[parts.len() - 1]);
        if alias.len() == 1 && alias[0] == *column {
            origins.push((view.to_string(), table.clone(), column.clone()));
        }
    }
    origins
}

/// The neutral type of a MySQL column (`DATA_TYPE`, with `COLUMN_TYPE` for `tinyint(1)`).
pub fn data_type_of(data_type: &str, column_type: &str) -> DataType {
    match data_type {
        "tinyint" if column_type.starts_with("tinyint(1)") => DataType::Boolean,
        "bool" | "boolean" => DataType::Boolean,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => DataType::Integer,
        "float" | "double" | "real" => DataType::Real,
        "decimal" | "numeric" => DataType::Decimal,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => DataType::Text,
        "json" => DataType::Json,
        "date" => DataType::Date,
        "datetime" | "timestamp" => DataType::Timestamp,
        "time" => DataType::Time,
        "uuid" => DataType::Uuid,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => DataType::Bytes,
        _ => DataType::Other,
    }
}

fn action(rule: Option<&str>) -> ReferentialAction {
    match rule {
        Some("CASCADE") => ReferentialAction::Cascade,
        Some("SET NULL") => ReferentialAction::SetNull,
        Some("SET DEFAULT") => ReferentialAction::SetDefault,
        Some("RESTRICT") => ReferentialAction::Restrict,
        _ => ReferentialAction::NoAction,
    }
}

#[cfg(test)]
mod tests {
    use super::view_origins;

    #[test]
    fn view_columns_are_traced_to_their_tables() {
        let definition = "select `test`.`customer`.`customer_id` AS `customer_id`,`test`.`customer`.`name` AS `full name`,\
                          count(0) AS `n` from `test`.`customer` where `test`.`customer`.`active` <> 0";
        assert_eq!(
            view_origins("v", definition),
            [("v".to_string(), "customer".to_string(), "customer_id".to_string())]
        );
    }
}
