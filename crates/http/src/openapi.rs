//! `GET /`: an OpenAPI 3.0 description of every table and view: its columns as a schema (what a
//! client may and must send: a column the engine fills itself is not required), and every
//! method served on it: `GET` with the PostgREST query parameters (`select`, `order`, `limit`,
//! `offset`, one filter parameter per column) and headers (`Range`, `Prefer`), `POST` (one row,
//! an array, upserts), `PATCH`, `PUT` and `DELETE` with the same filters.

use rowbase_catalog::{Catalog, Table, TableKind};
use serde_json::{Map, Value, json};

/// The document, as JSON text.
pub(crate) fn document(catalog: &Catalog, engine: rowbase_catalog::Engine) -> String {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for table in catalog.tables() {
        paths.insert(format!("/{}", table.name), path_item(table));
        schemas.insert(table.name.clone(), schema(table));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Rowbase",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!("A PostgREST-compatible API over a {} database", engine.name()),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": common_parameters(),
        },
    })
    .to_string()
}

fn schema(table: &Table) -> Value {
    let mut properties = Map::new();
    for column in &table.columns {
        let (ty, format) = column.data_type.json_schema();
        let mut p = json!({ "type": ty, "description": column.declared_type });
        if column.data_type == rowbase_catalog::DataType::Array {
            // The element type is in the description (`text[]`); nested arrays for more dimensions.
            p["items"] = json!({});
        }
        if let Some(f) = format {
            p["format"] = json!(f);
        }
        if column.nullable {
            p["nullable"] = json!(true);
        }
        if table.primary_key.iter().any(|k| *k == column.name) {
            p["description"] = json!(format!("{} (primary key)", column.declared_type));
        }
        if column.generated {
            // Computed by the database: writes refuse it (428C9).
            p["readOnly"] = json!(true);
        }
        if column.full_text.is_some() {
            p["description"] = json!(format!("{} (full-text search: fts, plfts, phfts, wfts)", column.declared_type));
        }
        properties.insert(column.name.to_string(), p);
    }
    let required: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| !c.nullable && c.default.is_none() && !c.generated && !c.auto_increment)
        .map(|c| c.name.as_str())
        .collect();
    json!({ "type": "object", "properties": properties, "required": required })
}

fn path_item(table: &Table) -> Value {
    let reference = |p: &str| json!({ "$ref": format!("#/components/parameters/{p}") });
    let filters: Vec<Value> = table
        .columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "in": "query",
                "required": false,
                "description": "A filter: `op.value`, e.g. `eq.1`, `in.(1,2)`, `is.null`, `not.like.*x*`",
                "schema": { "type": "string" },
            })
        })
        .collect();
    let mut parameters: Vec<Value> =
        ["select", "order", "limit", "offset", "range", "prefer"].iter().map(|p| reference(p)).collect();
    parameters.extend(filters.iter().cloned());
    let row = json!({ "$ref": format!("#/components/schemas/{}", table.name) });
    let written = json!({
        "application/json": { "schema": { "type": "array", "items": row } },
        "application/vnd.pgrst.object+json": { "schema": row },
    });
    let errors = json!({
        "400": { "description": "A malformed request, or a value the column does not take" },
        "403": { "description": "A write refused (a hard delete, another origin)" },
        "409": { "description": "A unique or foreign key violated" },
        "413": { "description": "A body past the size or row limit" },
    });
    let with_errors = |mut responses: Value| {
        if let (Some(r), Some(e)) = (responses.as_object_mut(), errors.as_object()) {
            r.extend(e.clone());
        }
        responses
    };
    let mut filtered: Vec<Value> = ["select", "prefer_write"].iter().map(|p| reference(p)).collect();
    filtered.extend(filters.iter().cloned());
    let body = |description: &str, many: bool| {
        let schema = if many { json!({ "oneOf": [row, { "type": "array", "items": row }] }) } else { row.clone() };
        json!({
            "description": description,
            "required": true,
            "content": {
                "application/json": { "schema": schema },
                "text/csv": { "schema": { "type": "string" } },
                "application/x-www-form-urlencoded": { "schema": row },
            },
        })
    };
    let mut item = json!({
        "post": {
            "summary": format!("Insert rows into {} (upsert with Prefer: resolution=merge-duplicates)", table.name),
            "tags": [table.name],
            "parameters": [reference("select"), reference("prefer_write"), reference("columns"), reference("on_conflict")],
            "requestBody": body("One row or an array of rows", true),
            "responses": with_errors(json!({
                "201": { "description": "Inserted (with Prefer: return=representation, the rows)", "content": written },
                "200": { "description": "An upsert that inserted nothing new" },
            })),
        },
        "patch": {
            "summary": format!("Update the rows of {} the filters match", table.name),
            "tags": [table.name],
            "parameters": filtered,
            "requestBody": body("The new values", false),
            "responses": with_errors(json!({
                "204": { "description": "Updated" },
                "200": { "description": "Updated, with the rows (Prefer: return=representation)", "content": written },
            })),
        },
        "put": {
            "summary": format!("Insert or replace one row of {} by its whole primary key (pk=eq.v)", table.name),
            "tags": [table.name],
            "parameters": filtered,
            "requestBody": body("The whole row", false),
            "responses": with_errors(json!({
                "201": { "description": "Inserted" },
                "200": { "description": "Replaced" },
                "204": { "description": "Written" },
            })),
        },
        "delete": {
            "summary": format!("Delete the rows of {} the filters match", table.name),
            "tags": [table.name],
            "parameters": filtered,
            "responses": with_errors(json!({
                "204": { "description": "Deleted" },
                "200": { "description": "Deleted, with the rows (Prefer: return=representation)", "content": written },
            })),
        },
        "get": {
            "summary": format!("Read rows of {}", table.name),
            "tags": [table.name],
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": "The rows",
                    "content": {
                        "application/json": { "schema": { "type": "array", "items": row } },
                        "application/vnd.pgrst.object+json": { "schema": row },
                        "text/csv": { "schema": { "type": "string" } },
                    },
                },
                "206": { "description": "A partial page of the rows" },
                "400": { "description": "A malformed request" },
                "416": { "description": "A range past the end of the rows" },
            },
        },
    });
    // What a view does not take is not offered (keyless views take no write).
    let keyed = table.kind == TableKind::Table || !table.primary_key.is_empty();
    let w = table.writable;
    if let Some(ops) = item.as_object_mut() {
        for (method, served) in
            [("post", w.insert), ("patch", w.update), ("put", w.insert && w.update), ("delete", w.delete)]
        {
            if !(served && keyed) {
                ops.remove(method);
            }
        }
    }
    item
}

fn common_parameters() -> Value {
    let q = |name: &str, description: &str| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } });
    let n = |name: &str, description: &str| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "integer", "minimum": 0 } });
    json!({
        "select": q("select", "Columns and embedded resources to return, e.g. `id,name,artist(name)`"),
        "order": q("order", "Sort keys, e.g. `name.desc.nullslast,id`"),
        "limit": n("limit", "At most this many rows"),
        "offset": n("offset", "Skip this many rows"),
        "columns": q("columns", "The payload keys to write, e.g. `name,email`"),
        "on_conflict": q("on_conflict", "The unique columns an upsert matches on"),
        "prefer_write": { "name": "Prefer", "in": "header", "required": false, "description": "`return=minimal|headers-only|representation`, `resolution=merge-duplicates|ignore-duplicates`, `missing=default`, `count=exact`, `handling=strict`, `max-affected=N`, `tx=rollback`", "schema": { "type": "string" } },
        "range": { "name": "Range", "in": "header", "required": false, "description": "Rows `first-last`, 0-based", "schema": { "type": "string" } },
        "prefer": { "name": "Prefer", "in": "header", "required": false, "description": "`count=exact|planned|estimated`", "schema": { "type": "string" } },
    })
}
