//! Reads the tables, views, columns and keys of PostgreSQL schemas from `pg_catalog` into one
//! [`Catalog`] per schema. Relationships stay within a schema.

use std::collections::HashMap;

use rowbase_catalog::{
    Catalog, CheckConstraint, Column, DataType, ForeignKey, FullTextIndex, ReferentialAction, Table, TableKind,
};
use tokio_postgres::Client;

use super::classify::classify;
use crate::error::DbError;

const TABLES: &str = "
SELECT c.relname::text, c.relkind::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
ORDER BY c.relname";

const COLUMNS: &str = "
SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
       -- a domain is typed by its base type; an array is marked by its category
       (CASE WHEN t.typcategory = 'A' THEN '_array' WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END)::text,
       a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN t.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 END,
       a.attgenerated <> '',
       a.attidentity <> ''
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum";

const CONSTRAINTS: &str = "
SELECT c.relname::text, con.conname::text, con.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
       fc.relname::text, fn.nspname::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord),
       con.confdeltype::text, con.confupdtype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY c.relname, con.conname";

const UNIQUE_INDEXES: &str = "
SELECT c.relname::text,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND i.indisunique AND i.indpred IS NULL AND NOT (0 = ANY (i.indkey::int2[]))";

/// Which writes each view takes: automatically updatable, or an `INSTEAD OF` trigger.
const VIEW_WRITES: &str = "
SELECT table_name::text,
       is_insertable_into = 'YES' OR is_trigger_insertable_into = 'YES',
       is_updatable = 'YES' OR is_trigger_updatable = 'YES',
       is_updatable = 'YES' OR is_trigger_deletable = 'YES'
FROM information_schema.views WHERE table_schema = $1";

/// The base-table columns each view selects.
const VIEW_ORIGINS: &str = "
SELECT view_name::text, table_name::text, column_name::text
FROM information_schema.view_column_usage WHERE view_schema = $1 AND table_schema = $1";

/// The catalog of `schema`.
pub(crate) async fn catalog(client: &Client, schema: &str) -> Result<Catalog, DbError> {
    let err = |e: tokio_postgres::Error| classify(&e);
    let mut tables: Vec<Table> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in client.query(TABLES, &[&schema]).await.map_err(err)? {
        let name: String = row.get(0);
        if rowbase_catalog::is_internal(&name) {
            continue;
        }
        let kind: String = row.get(1);
        index.insert(name.clone(), tables.len());
        tables.push(Table {
            schema: schema.to_string(),
            name,
            kind: if kind == "r" || kind == "p" || kind == "f" { TableKind::Table } else { TableKind::View },
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
    for row in client.query(COLUMNS, &[&schema]).await.map_err(err)? {
        let Some(&i) = index.get(&row.get::<_, String>(0)) else { continue };
        let type_name: String = row.get(3);
        let length: Option<i32> = row.get(6);
        let generated: bool = row.get(7);
        tables[i].columns.push(Column {
            name: row.get::<_, String>(1).into(),
            declared_type: row.get(2),
            data_type: data_type_of(&type_name),
            nullable: !row.get::<_, bool>(4),
            // A generated column's expression is not a default.
            default: if generated { None } else { row.get(5) },
            max_length: length.and_then(|l| u32::try_from(l).ok()),
            generated,
            auto_increment: row.get::<_, bool>(8),
            full_text: (type_name == "tsvector").then_some(FullTextIndex::TsVector),
        });
    }
    for row in client.query(CONSTRAINTS, &[&schema]).await.map_err(err)? {
        let Some(&i) = index.get(&row.get::<_, String>(0)) else { continue };
        let kind: String = row.get(2);
        let columns: Vec<String> = row.get(3);
        match kind.as_str() {
            "p" => tables[i].primary_key = columns,
            "u" => tables[i].unique_keys.push(columns),
            "c" => tables[i].checks.push(CheckConstraint {
                name: row.get(1),
                definition: row.get(9),
                engine: rowbase_catalog::Engine::Postgres,
            }),
            _ => {
                // Relationships are per schema: a key to another schema is not embeddable here.
                if row.get::<_, Option<String>>(5).as_deref() != Some(schema) {
                    continue;
                }
                tables[i].foreign_keys.push(ForeignKey {
                    name: row.get(1),
                    columns,
                    referenced_table: row.get::<_, Option<String>>(4).unwrap_or_default(),
                    referenced_columns: row.get(6),
                    on_delete: action(&row.get::<_, String>(7)),
                    on_update: action(&row.get::<_, String>(8)),
                });
            }
        }
    }
    for row in client.query(UNIQUE_INDEXES, &[&schema]).await.map_err(err)? {
        let Some(&i) = index.get(&row.get::<_, String>(0)) else { continue };
        let columns: Vec<String> = row.get(1);
        if !tables[i].unique_keys.contains(&columns) && tables[i].primary_key != columns {
            tables[i].unique_keys.push(columns.clone());
            tables[i].unique_indexes.push(columns);
        }
    }
    for row in client.query(INDEXES, &[&schema]).await.map_err(err)? {
        let Some(&i) = index.get(&row.get::<_, String>(0)) else { continue };
        let columns: Vec<String> = row.get(2);
        let descending: Vec<bool> = row.get(3);
        tables[i].indexes.push(rowbase_catalog::Index {
            name: row.get(1),
            columns: columns.into_iter().zip(descending).collect(),
            unique: row.get(4),
        });
    }
    for row in client.query(TRIGGERS, &[&schema]).await.map_err(err)? {
        let Some(&i) = index.get(&row.get::<_, String>(0)) else { continue };
        tables[i].triggers.push(row.get(1));
    }
    for row in client.query(POLICIES, &[&schema]).await.map_err(err)? {
        let Some(&i) = index.get(&row.get::<_, String>(0)) else { continue };
        tables[i].policies.push(row.get(1));
    }
    for table in tables.iter_mut().filter(|t| t.kind == TableKind::View) {
        // Materialized views are not in information_schema.views: never written.
        table.writable = rowbase_catalog::Writable::NONE;
    }
    for row in client.query(VIEW_WRITES, &[&schema]).await.map_err(err)? {
        let Some(&i) = index.get(&row.get::<_, String>(0)) else { continue };
        tables[i].writable = rowbase_catalog::Writable { insert: row.get(1), update: row.get(2), delete: row.get(3) };
    }
    let origins: Vec<(String, String, String)> = client
        .query(VIEW_ORIGINS, &[&schema])
        .await
        .map_err(err)?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    rowbase_catalog::derive_view_keys(&mut tables, &origins);
    Ok(Catalog::new(tables))
}

/// User triggers (not those PostgreSQL makes for foreign keys).
const TRIGGERS: &str = "
SELECT c.relname::text, t.tgname::text
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND NOT t.tgisinternal
ORDER BY c.relname, t.tgname";

/// Row-level security policies.
const POLICIES: &str = "
SELECT tablename::text, policyname::text FROM pg_policies WHERE schemaname = $1 ORDER BY tablename, policyname";

/// Indexes that back no constraint.
const INDEXES: &str = "
SELECT c.relname::text, ic.relname::text,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord),
       ARRAY(SELECT (o & 1) = 1 FROM unnest(i.indoption::int2[]) WITH ORDINALITY k(o, ord) ORDER BY k.ord),
       i.indisunique
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
ORDER BY ic.relname";

/// The neutral type of a PostgreSQL type (by `pg_type.typname`).
pub fn data_type_of(type_name: &str) -> DataType {
    match type_name {
        "int2" | "int4" | "int8" | "oid" => DataType::Integer,
        "float4" | "float8" => DataType::Real,
        "numeric" | "money" => DataType::Decimal,
        "text" | "varchar" | "bpchar" | "name" | "citext" | "char" => DataType::Text,
        "bool" => DataType::Boolean,
        "date" => DataType::Date,
        "timestamp" => DataType::Timestamp,
        "timestamptz" => DataType::TimestampTz,
        "time" | "timetz" => DataType::Time,
        "uuid" => DataType::Uuid,
        "json" | "jsonb" => DataType::Json,
        "bytea" => DataType::Bytes,
        "_array" => DataType::Array,
        _ => DataType::Other,
    }
}

fn action(code: &str) -> ReferentialAction {
    match code {
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        "r" => ReferentialAction::Restrict,
        _ => ReferentialAction::NoAction,
    }
}
