//! PostgreSQL's dialect: `$n` placeholders (cast where the type cannot be inferred, as for JSON
//! keys), schema-qualified tables, `json_build_object`/`json_agg` for JSON (PostgreSQL renders
//! booleans, numerics, JSON, timestamps and `bytea` in JSON itself), `LIKE`/`ILIKE`/`~`/`~*`,
//! and the operators SQLite lacks: containment, overlap, ranges and full-text search.

use std::fmt::Write;

use rowbase_catalog::{DataType, FullTextIndex};
use rowbase_plan::{Cast, ColumnRef, Expr, PatternOp, Value};
use rowbase_request::{FtsKind, JsonKey, Operator, RangeOperator};

use crate::dialect::{Dialect, ObjectForm, RenderError};
use crate::settings::TransactionSettings;
use crate::writer::{Statement, Writer};

/// `json_build_object` takes at most 100 arguments: 50 entries per call, joined as `jsonb`.
const ENTRIES_PER_OBJECT: usize = 50;

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDialect;

/// The PostgreSQL type a value is cast to where its type cannot be inferred.
fn type_name(data_type: DataType) -> &'static str {
    match data_type {
        DataType::Integer => "bigint",
        DataType::Real => "double precision",
        DataType::Decimal => "numeric",
        DataType::Boolean => "boolean",
        DataType::Date => "date",
        DataType::Timestamp => "timestamp",
        DataType::TimestampTz => "timestamptz",
        DataType::Time => "time",
        DataType::Uuid => "uuid",
        DataType::Json => "jsonb",
        DataType::Bytes => "bytea",
        DataType::Text | DataType::Other | DataType::Untyped => "text",
        // Only for a bound value compared with an array's key; unreachable in practice.
        DataType::Array => "text",
    }
}

impl Dialect for PostgresDialect {
    fn engine(&self) -> rowbase_catalog::Engine {
        rowbase_catalog::Engine::Postgres
    }

    fn placeholder(&self, out: &mut String, index: usize, cast: Option<DataType>) {
        let _ = write!(out, "${index}");
        if let Some(t) = cast {
            out.push_str("::");
            out.push_str(type_name(t));
        }
    }

    fn table_name(&self, out: &mut String, schema: &str, name: &str) {
        self.quote_ident(out, schema);
        out.push('.');
        self.quote_ident(out, name);
    }

    fn json_object_open(&self, _form: ObjectForm) -> &'static str {
        "json_build_object("
    }

    fn json_object_separator(&self, index: usize) -> &'static str {
        if index % ENTRIES_PER_OBJECT == 0 { ")::jsonb || json_build_object(" } else { ", " }
    }

    fn json_object_close(&self, _form: ObjectForm, entries: usize) -> &'static str {
        if entries > ENTRIES_PER_OBJECT { ")::jsonb" } else { ")" }
    }

    fn json_value(&self, _form: ObjectForm, _data_type: DataType) -> (&'static str, &'static str) {
        // PostgreSQL's JSON functions keep each type: booleans, numerics, json, timestamps
        // (ISO 8601) and bytea (`\x...`) come out as they should.
        ("", "")
    }

    fn json_array_agg(&self) -> (&'static str, &'static str) {
        ("coalesce(json_agg(", "), '[]')")
    }

    fn column(&self, w: &mut Writer<'_>, column: &ColumnRef) -> Result<(), RenderError> {
        let (cast_open, cast_close) = match column.cast {
            Some(cast) => self.cast(cast),
            None => ("", ""),
        };
        w.push(cast_open);
        // Arrows reach into composite and array columns through their JSON form, as PostgREST
        // does (`to_jsonb("col") -> 'field'`).
        let through_json = !column.json_path.is_empty() && column.data_type != DataType::Json;
        if through_json {
            w.push("to_jsonb(");
        }
        w.column(column.alias, &column.column);
        if through_json {
            w.push(")");
        }
        for step in &column.json_path {
            w.push(if step.as_text { " ->> " } else { " -> " });
            match &step.key {
                JsonKey::Member(m) => w.bind_typed(Value::Text(m.clone()), DataType::Text),
                // `json -> integer` takes an int4: a bigint finds no operator.
                JsonKey::Index(i) => {
                    w.bind(Value::Integer(*i));
                    w.push("::integer");
                }
            }
        }
        w.push(cast_close);
        Ok(())
    }

    fn cast(&self, cast: Cast) -> (&'static str, &'static str) {
        match cast {
            Cast::Text => ("(", ")::text"),
            Cast::Integer => ("(", ")::bigint"),
            Cast::Real => ("(", ")::double precision"),
            Cast::Decimal => ("(", ")::numeric"),
            Cast::Boolean => ("(", ")::boolean"),
            Cast::Json => ("(", ")::jsonb"),
        }
    }

    fn pattern(&self, op: PatternOp, pattern: &str) -> Result<(&'static str, String, &'static str), RenderError> {
        Ok((
            match op {
                PatternOp::Like => " LIKE ",
                PatternOp::Ilike => " ILIKE ",
                PatternOp::Match => " ~ ",
                PatternOp::Imatch => " ~* ",
            },
            pattern.to_string(),
            "",
        ))
    }

    fn special(&self, w: &mut Writer<'_>, expr: &Expr) -> Result<(), RenderError> {
        match expr {
            Expr::Special { left, op, value } => {
                let symbol = match op {
                    Operator::Contains => " @> ",
                    Operator::ContainedIn => " <@ ",
                    Operator::Overlaps => " && ",
                    Operator::Range(RangeOperator::StrictlyLeft) => " << ",
                    Operator::Range(RangeOperator::StrictlyRight) => " >> ",
                    Operator::Range(RangeOperator::NotExtendRight) => " &< ",
                    Operator::Range(RangeOperator::NotExtendLeft) => " &> ",
                    Operator::Range(RangeOperator::Adjacent) => " -|- ",
                    other => {
                        return Err(RenderError::Unsupported {
                            engine: self.engine(),
                            feature: format!("the '{}' operator here", other.name()),
                        });
                    }
                };
                w.push("(");
                self.column(w, left)?;
                w.push(symbol);
                w.bind(Value::Text(value.clone()));
                w.push(")");
                Ok(())
            }
            Expr::FullText { left, kind, language, query, index } => {
                // PostgREST wraps a column that is not a tsvector in to_tsvector (v13+).
                let is_vector = *index == Some(FullTextIndex::TsVector) || left.data_type == DataType::Other;
                if is_vector {
                    self.column(w, left)?;
                } else {
                    w.push("to_tsvector(");
                    if let Some(lang) = language {
                        w.bind(Value::Text(lang.clone()));
                        w.push("::regconfig, ");
                    }
                    self.column(w, left)?;
                    w.push(")");
                }
                w.push(match kind {
                    FtsKind::Fts => " @@ to_tsquery(",
                    FtsKind::Plain => " @@ plainto_tsquery(",
                    FtsKind::Phrase => " @@ phraseto_tsquery(",
                    FtsKind::Websearch => " @@ websearch_to_tsquery(",
                });
                if let Some(lang) = language {
                    w.bind(Value::Text(lang.clone()));
                    w.push("::regconfig, ");
                }
                w.bind_typed(Value::Text(query.clone()), DataType::Text);
                w.push(")");
                Ok(())
            }
            _ => Err(RenderError::Unsupported { engine: self.engine(), feature: "this expression".into() }),
        }
    }

    /// `set_config(..., true)` (transaction-local) of the audit trail's `rowbase.actor` and
    /// `rowbase.request_id`, PostgREST's `request.jwt.claims`, `request.method`, `request.path`
    /// and `request.headers`, and `role` (as `SET LOCAL ROLE`:
    /// the connecting user must be a member of it, else `42501`), each bound, in one statement.
    fn preamble(&self, settings: &TransactionSettings) -> Option<Statement> {
        let mut setting = Vec::new();
        let mut params = Vec::new();
        if let Some(audit) = &settings.audit {
            setting.extend(["rowbase.actor", "rowbase.request_id"]);
            params.extend(audit.params());
        }
        if let Some(claims) = &settings.claims {
            setting.push("request.jwt.claims");
            params.push(Value::Text(claims.clone()));
        }
        if let Some(request) = &settings.request {
            setting.extend(["request.method", "request.path", "request.headers"]);
            params.extend([
                Value::Text(request.method.clone()),
                Value::Text(request.path.clone()),
                Value::Text(request.headers.clone()),
            ]);
        }
        if let Some(role) = &settings.role {
            setting.push("role");
            params.push(Value::Text(role.clone()));
        }
        if setting.is_empty() {
            return None;
        }
        let calls: Vec<String> =
            setting.iter().enumerate().map(|(i, name)| format!("set_config('{name}', ${}, true)", i + 1)).collect();
        Some(Statement { sql: format!("SELECT {}", calls.join(", ")), params })
    }

    fn timestamp_of_unix_seconds(&self) -> (&'static str, &'static str) {
        ("to_timestamp(", "::float8)")
    }

    fn now(&self) -> &'static str {
        "now()"
    }

    fn limit_offset(&self, w: &mut Writer<'_>, limit: Option<u64>, offset: u64) {
        // Literals, as PostgREST writes them: after five runs PostgreSQL may switch a prepared
        // statement to a generic plan, which cannot see a bound LIMIT/OFFSET and plans a deep
        // page as a sort of the whole table (a thousand times slower on a million rows).
        if let Some(limit) = limit {
            w.push(" LIMIT ");
            w.integer(limit);
        }
        if offset > 0 {
            w.push(" OFFSET ");
            w.integer(offset);
        }
    }

    fn row_id(&self, w: &mut Writer<'_>, alias: Option<usize>) -> Result<(), RenderError> {
        if let Some(alias) = alias {
            w.table_alias(alias);
            w.push(".");
        }
        w.push("ctid");
        Ok(())
    }

    fn returned_key(&self, w: &mut Writer<'_>, column: Option<&str>) {
        // Keys come back as text (PostgreSQL's text output) and go back in as text parameters.
        match column {
            Some(name) => w.ident(name),
            None => w.push("ctid"),
        }
        w.push("::text");
    }

    fn max_params(&self) -> usize {
        65_535
    }
}
