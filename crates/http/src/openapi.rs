//! `GET /`: an OpenAPI 3.0 description of every table and view: its columns as a schema, and a
//! `GET` operation with the PostgREST query parameters (`select`, `order`, `limit`, `offset`, one
//! filter parameter per column) and headers (`Range`, `Prefer`).

use rowbase_catalog::{Catalog, Table};
use serde_json::{Map, Value, json};

/// The document, as JSON text.
pub(crate) fn document(catalog: &Catalog, engine: &str) -> String {
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
            "description": format!("A PostgREST-compatible API over a {engine} database"),
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
        if let Some(f) = format {
            p["format"] = json!(f);
        }
        if column.nullable {
            p["nullable"] = json!(true);
        }
        if table.primary_key.contains(&column.name) {
            p["description"] = json!(format!("{} (primary key)", column.declared_type));
        }
        if column.generated {
            // Computed by the database: writes refuse it (428C9).
            p["readOnly"] = json!(true);
        }
        if column.full_text.is_some() {
            p["description"] = json!(format!("{} (full-text search: fts, plfts, phfts, wfts)", column.declared_type));
        }
        properties.insert(column.name.clone(), p);
    }
    let required: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| !c.nullable && c.default.is_none() && !c.generated)
        .map(|c| c.name.as_str())
        .collect();
    json!({ "type": "object", "properties": properties, "required": required })
}

fn path_item(table: &Table) -> Value {
    let mut parameters: Vec<Value> = ["select", "order", "limit", "offset", "range", "prefer"]
        .iter()
        .map(|p| json!({ "$ref": format!("#/components/parameters/{p}") }))
        .collect();
    parameters.extend(table.columns.iter().map(|c| {
        json!({
            "name": c.name,
            "in": "query",
            "required": false,
            "description": "A filter: `op.value`, e.g. `eq.1`, `in.(1,2)`, `is.null`, `not.like.*x*`",
            "schema": { "type": "string" },
        })
    }));
    let row = json!({ "$ref": format!("#/components/schemas/{}", table.name) });
    json!({
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
    })
}

fn common_parameters() -> Value {
    let q = |name: &str, description: &str| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } });
    json!({
        "select": q("select", "Columns and embedded resources to return, e.g. `id,name,artist(name)`"),
        "order": q("order", "Sort keys, e.g. `name.desc.nullslast,id`"),
        "limit": q("limit", "At most this many rows"),
        "offset": q("offset", "Skip this many rows"),
        "range": { "name": "Range", "in": "header", "required": false, "description": "Rows `first-last`, 0-based", "schema": { "type": "string" } },
        "prefer": { "name": "Prefer", "in": "header", "required": false, "description": "`count=exact|planned|estimated`", "schema": { "type": "string" } },
    })
}
