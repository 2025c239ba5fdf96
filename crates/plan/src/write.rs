//! Planning writes (PostgREST "Insertions", "Upsert", "PUT", "Update", "Delete"): every payload
//! key resolved to a column (`PGRST204`), every value checked against the column's type and
//! declared length before SQL runs (`22P02`, `22001`, naming the column), upsert targets checked
//! against the table's unique keys (`42P10`), and PUT's rules (`PGRST105`, `PGRST114`,
//! `PGRST115`). Filters of updates and deletes are the read planner's root filters, so the whole
//! read grammar applies (including `!inner` and `rel=not.is.null`).

use rowbase_catalog::{Catalog, Column, DataType, Table, TableKind};
use rowbase_request::body::Payload;
use rowbase_request::{Condition, DeletedRows, Predicate, QueryParams};
use serde_json::Value as Json;

use crate::access::Guard;
use crate::error::PlanError;
use crate::plan::{Conflict, ConflictAction, Expr, InsertPlan, Mutation, Node, RowChecks, RowKey, WritePlan};
use crate::read::{ReadRequest, Window, column_ref, find_table, plan_read};
use crate::value::{Value, coerce};
use rowbase_catalog::Command;

/// What to do on a duplicate key (`Prefer: resolution=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Fail with `23505` (a plain insert).
    Error,
    /// Update the existing row from the payload.
    Merge,
    /// Keep the existing row.
    Ignore,
}

/// An insert or upsert request.
#[derive(Debug, Clone, Copy)]
pub struct InsertRequest<'a> {
    /// The table of the URL.
    pub table: &'a str,
    /// The query string (`select` for the representation, `on_conflict`).
    pub params: &'a QueryParams,
    /// The body.
    pub payload: &'a Payload,
    /// Duplicate handling.
    pub on_duplicate: OnDuplicate,
    /// `Prefer: missing=default`: absent keys take the column default instead of NULL.
    pub missing_default: bool,
    /// `Prefer: return=representation`: the rows are read back (so their columns must be
    /// granted for reading).
    pub returns_rows: bool,
}

/// Plans an insert or upsert.
pub(crate) fn plan_insert(
    catalog: &Catalog,
    schema: &str,
    request: &InsertRequest<'_>,
    deleted: DeletedRows,
    guard: Guard<'_>,
) -> Result<WritePlan, PlanError> {
    let table = find_table(catalog, schema, request.table)?;
    crate::rules::check_writable(table, "insert into", table.writable.insert)?;
    if request.on_duplicate == OnDuplicate::Merge {
        crate::rules::check_writable(table, "update", table.writable.update)?;
    }
    let columns = payload_columns(table, &request.payload.keys)?;
    guard.check(table, Command::Insert, columns.iter().map(|c| c.name.as_str()))?;
    let rows = request
        .payload
        .rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|column| match row.get(column.name.as_str()) {
                    Some(json) => json_value(table, column, json).map(Some),
                    None if request.missing_default => Ok(None),
                    None => Ok(Some(Value::Null)),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let conflict = match request.on_duplicate {
        OnDuplicate::Error => None,
        resolution => conflict_target(table, request.params.on_conflict.as_deref())?.map(|target| Conflict {
            action: match resolution {
                OnDuplicate::Merge => ConflictAction::Update(
                    columns.iter().map(|c| c.name.to_string()).filter(|c| !target.contains(c)).collect(),
                ),
                _ => ConflictAction::Nothing,
            },
            target,
        }),
    };
    let mut rows = rows;
    if let Some(conflict) = &conflict {
        sort_by_key(&mut rows, &columns, &conflict.target);
    }
    let node = Node::of(table);
    let mut checks = RowChecks { written: guard.check_rows(table, &node, Command::Insert)?, existing: None, using: 0 };
    if let Some(Conflict { action: ConflictAction::Update(set), .. }) = &conflict {
        guard.check(table, Command::Update, set.iter().map(String::as_str))?;
        checks.existing =
            all_of([guard.using(table, &node, Command::Select)?, guard.using(table, &node, Command::Update)?]);
        checks.written = all_of([checks.written.take(), guard.check_rows(table, &node, Command::Update)?]);
    }
    // An insert reads nothing back unless asked: its representation's grants apply only then.
    let reader = if request.returns_rows { guard } else { Guard::Free };
    let representation = representation(catalog, schema, table, request.params, deleted, reader)?;
    let mutation = Mutation::Insert(InsertPlan {
        schema: table.schema.clone(),
        table: table.name.clone(),
        columns: columns.iter().map(|c| c.name.to_string()).collect(),
        column_types: columns.iter().map(|c| c.data_type).collect(),
        rows,
        conflict,
    });
    Ok(WritePlan {
        mutation,
        key: row_key(table),
        visible: guard.using(table, &representation.root, Command::Select)?.into_iter().collect(),
        representation,
        view: table.kind == TableKind::View,
        checks,
    })
}

/// The conjunction of the conditions present; `None` when none is.
fn all_of<const N: usize>(conditions: [Option<Expr>; N]) -> Option<Expr> {
    let present: Vec<Expr> = conditions.into_iter().flatten().collect();
    (!present.is_empty()).then_some(Expr::And(present))
}

/// Orders an upsert's rows by their conflict key, so two bulk upserts of the same keys take the
/// rows' locks in the same order and cannot deadlock each other (sent in opposite orders, they
/// did: 40P01). Rows that leave a key column to its default keep their place at the end.
fn sort_by_key(rows: &mut [Vec<Option<Value>>], columns: &[&Column], target: &[String]) {
    let positions: Vec<usize> = target.iter().filter_map(|t| columns.iter().position(|c| c.name == *t)).collect();
    if positions.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        for &p in &positions {
            let ordering = match (&a[p], &b[p]) {
                (Some(x), Some(y)) => x.total_cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        std::cmp::Ordering::Equal
    });
}

/// Plans `PUT /table?pk=eq.v`: an upsert of one full row identified by its whole primary key.
#[allow(clippy::too_many_arguments)] // the request's parts, as each planner takes them
pub(crate) fn plan_put(
    catalog: &Catalog,
    schema: &str,
    table: &str,
    params: &QueryParams,
    payload: &Payload,
    deleted: DeletedRows,
    guard: Guard<'_>,
    returns_rows: bool,
) -> Result<WritePlan, PlanError> {
    let found = find_table(catalog, schema, table)?;
    crate::rules::check_writable(found, "insert into", found.writable.insert)?;
    crate::rules::check_writable(found, "update", found.writable.update)?;
    if !params.limit.is_empty() || !params.offset.is_empty() {
        return Err(PlanError::PutWindow);
    }
    let key_filters = put_key_filters(found, params).ok_or(PlanError::PutFilters)?;
    let [row] = payload.rows.as_slice() else {
        return Err(PlanError::PutPayload("PUT takes exactly one row".into()));
    };
    for (column, text) in &key_filters {
        let column = found.column(column).ok_or(PlanError::PutFilters)?;
        let url_value = coerce(text, column.data_type)?;
        let body_value = match row.get(column.name.as_str()) {
            Some(json) => json_value(found, column, json)?,
            None => {
                return Err(PlanError::PutPayload(format!(
                    "the payload must include the key column \"{}\"",
                    column.name
                )));
            }
        };
        if url_value != body_value {
            return Err(PlanError::PutPayload("Payload values do not match URL in primary key column(s)".into()));
        }
    }
    let request = InsertRequest {
        table,
        params,
        payload,
        on_duplicate: OnDuplicate::Merge,
        missing_default: false,
        returns_rows,
    };
    let mut plan = plan_insert(catalog, schema, &request, deleted, guard)?;
    if let Mutation::Insert(insert) = &mut plan.mutation {
        insert.conflict = Some(Conflict {
            target: found.primary_key.clone(),
            action: ConflictAction::Update(
                insert.columns.iter().filter(|c| !found.primary_key.contains(c)).cloned().collect(),
            ),
        });
    }
    Ok(plan)
}

/// `pk=eq.v` for exactly the primary-key columns and nothing else, as `(column, value)`.
fn put_key_filters<'p>(table: &Table, params: &'p QueryParams) -> Option<Vec<(String, &'p str)>> {
    if table.primary_key.is_empty() || params.conditions.len() != table.primary_key.len() {
        return None;
    }
    let mut found = Vec::new();
    for scoped in &params.conditions {
        let Condition::Filter(f) = &scoped.value else { return None };
        let Predicate::Compare { op: rowbase_request::Operator::Eq, value } = &f.predicate else { return None };
        if !scoped.path.is_empty()
            || f.negated
            || !f.field.json_path.is_empty()
            || !table.primary_key.contains(&f.field.name)
        {
            return None;
        }
        found.push((f.field.name.clone(), value.as_str()));
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    (found.len() == table.primary_key.len()).then_some(found)
}

/// Plans `PATCH /table?filters` with a body of column values.
pub(crate) fn plan_update(
    catalog: &Catalog,
    schema: &str,
    table: &str,
    params: &QueryParams,
    payload: &Payload,
    deleted: DeletedRows,
    guard: Guard<'_>,
) -> Result<WritePlan, PlanError> {
    let found = find_table(catalog, schema, table)?;
    crate::rules::check_writable(found, "update", found.writable.update)?;
    let columns = payload_columns(found, &payload.keys)?;
    guard.check(found, Command::Update, columns.iter().map(|c| c.name.as_str()))?;
    // PostgREST applies one object to every matched row; with an array, the first element.
    let row = payload.rows.first();
    let set = columns
        .iter()
        .filter_map(|c| row.and_then(|r| r.get(c.name.as_str())).map(|json| (c, json)))
        .map(|(c, json)| json_value(found, c, json).map(|v| (c.name.to_string(), v)))
        .collect::<Result<Vec<_>, _>>()?;
    let representation = representation(catalog, schema, found, params, deleted, guard)?;
    let using = guard.using(found, &representation.root, Command::Update)?;
    let added = usize::from(using.is_some());
    let filters = limited(found, &representation.root, params, using)?;
    Ok(WritePlan {
        mutation: Mutation::Update {
            schema: found.schema.clone(),
            table: found.name.clone(),
            set,
            stamp: None,
            filters,
        },
        key: row_key(found),
        visible: guard.using(found, &representation.root, Command::Select)?.into_iter().collect(),
        checks: RowChecks {
            written: guard.check_rows(found, &Node::of(found), Command::Update)?,
            existing: None,
            using: added,
        },
        representation,
        view: found.kind == TableKind::View,
    })
}

/// Plans `DELETE /table?filters`. On a soft-delete table (a nullable `deleted_at`), unless
/// `hard`, the rows are marked deleted (`deleted_at` set to the time of the statement), never
/// removed; only live rows are marked, so a second delete keeps the first time.
pub(crate) fn plan_delete(
    catalog: &Catalog,
    schema: &str,
    table: &str,
    params: &QueryParams,
    hard: bool,
    deleted: DeletedRows,
    guard: Guard<'_>,
) -> Result<WritePlan, PlanError> {
    let found = find_table(catalog, schema, table)?;
    guard.check(found, Command::Delete, [])?;
    match found.soft_delete_column().filter(|_| !hard) {
        Some(_) => crate::rules::check_writable(found, "update", found.writable.update)?,
        None => crate::rules::check_writable(found, "delete from", found.writable.delete)?,
    }
    if let Some(column) = found.soft_delete_column().filter(|_| !hard) {
        // A soft delete marks live rows only, whatever the request reads.
        let representation = representation(catalog, schema, found, params, DeletedRows::Live, guard)?;
        let using = guard.using(found, &representation.root, Command::Delete)?;
        let added = usize::from(using.is_some());
        let mut filters = limited(found, &representation.root, params, using)?;
        // Even when the request filters on the column itself.
        filters.push(Expr::Is { left: column_ref(found, 0, &column.name)?, value: rowbase_request::IsValue::Null });
        return Ok(WritePlan {
            mutation: Mutation::Update {
                schema: found.schema.clone(),
                table: found.name.clone(),
                set: Vec::new(),
                stamp: Some(column.name.to_string()),
                filters,
            },
            key: row_key(found),
            visible: guard.using(found, &representation.root, Command::Select)?.into_iter().collect(),
            checks: RowChecks { using: added, ..RowChecks::default() },
            representation,
            view: found.kind == TableKind::View,
        });
    }
    let mut representation = representation(catalog, schema, found, params, deleted, guard)?;
    let using = guard.using(found, &representation.root, Command::Delete)?;
    let added = usize::from(using.is_some());
    let filters = limited(found, &representation.root, params, using)?;
    // Deleted rows are read before they go, so the read must pick exactly the rows deleted.
    representation.root.filters.clone_from(&filters);
    Ok(WritePlan {
        mutation: Mutation::Delete { schema: found.schema.clone(), table: found.name.clone(), filters },
        key: row_key(found),
        visible: guard.using(found, &representation.root, Command::Select)?.into_iter().collect(),
        checks: RowChecks { using: added, ..RowChecks::default() },
        representation,
        view: found.kind == TableKind::View,
    })
}

/// The filters of an update or delete: the root filters of the read grammar; with a root
/// `limit`/`offset` (PostgREST's limited update/delete), the rows are picked by key from a
/// subquery with those filters, the root `order` and the window.
///
/// `using` is the role's policy for the command (its `USING`), added to the root's filters
/// (which hold the `SELECT` policies already).
fn limited(
    table: &Table,
    root: &crate::plan::Node,
    params: &QueryParams,
    using: Option<Expr>,
) -> Result<Vec<Expr>, PlanError> {
    let limit = params.root_limit();
    let offset = params.root_offset();
    let mut root = root.clone();
    root.filters.extend(using);
    if limit.is_none() && offset.is_none() {
        return Ok(root.filters);
    }
    if let Some(l) = limit.filter(|l| *l < 0) {
        return Err(PlanError::NegativeLimit(l));
    }
    let alias = root.alias;
    let mut query = root;
    query.outputs.clear();
    query.limit = limit.map(i64::unsigned_abs);
    query.offset = offset.unwrap_or(0);
    Ok(vec![Expr::KeyInQuery { alias, key: row_key(table), query: Box::new(query) }])
}

/// The read that shapes what a write returns: `select=` with embeds, filters of every level,
/// orders. Root `limit`/`offset` do not apply to writes.
fn representation(
    catalog: &Catalog,
    schema: &str,
    table: &Table,
    params: &QueryParams,
    deleted: DeletedRows,
    guard: Guard<'_>,
) -> Result<crate::plan::ReadPlan, PlanError> {
    let request = ReadRequest { table: &table.name, params, window: Window::default(), count: false };
    plan_read(catalog, schema, &request, deleted, guard)
}

fn row_key(table: &Table) -> RowKey {
    if table.primary_key.is_empty() {
        RowKey::EngineRowId
    } else {
        RowKey::Columns(
            table
                .primary_key
                .iter()
                .map(|k| (k.clone(), table.column(k).map_or(DataType::Other, |c| c.data_type)))
                .collect(),
        )
    }
}

/// The columns a payload writes. Errors: a key that is no column, or a generated column.
fn payload_columns<'t>(table: &'t Table, keys: &[String]) -> Result<Vec<&'t Column>, PlanError> {
    keys.iter()
        .map(|k| match table.column(k) {
            None => Err(PlanError::UnknownPayloadColumn { table: table.name.clone(), column: k.clone() }),
            Some(c) if c.generated => Err(PlanError::GeneratedColumn { table: table.name.clone(), column: k.clone() }),
            Some(c) => Ok(c),
        })
        .collect()
}

/// The conflict target: `on_conflict` when given (it must be a unique key), else the primary
/// key; `None` for a table with neither, where PostgREST inserts plainly.
fn conflict_target(table: &Table, on_conflict: Option<&[String]>) -> Result<Option<Vec<String>>, PlanError> {
    match on_conflict {
        Some(columns) => {
            for c in columns {
                if table.column(c).is_none() {
                    return Err(PlanError::ColumnNotFound {
                        table: table.name.clone(),
                        column: c.clone(),
                        suggestion: None,
                    });
                }
            }
            if table.is_unique(columns) {
                return Ok(Some(columns.to_vec()));
            }
            // On a soft-delete table a unique key holds among live rows: it ends with
            // rowbase_alive, which the client does not name (docs/schema.md, "Soft delete").
            let mut live = columns.to_vec();
            live.push(rowbase_catalog::ALIVE_COLUMN.to_string());
            if table.column(rowbase_catalog::ALIVE_COLUMN).is_some() && table.is_unique(&live) {
                return Ok(Some(live));
            }
            Err(PlanError::NoConflictTarget(columns.join(", ")))
        }
        None if table.primary_key.is_empty() => Ok(None),
        None => Ok(Some(table.primary_key.clone())),
    }
}

/// A JSON payload value as a typed value for `column`, or an error naming the column.
pub(crate) fn json_value(table: &Table, column: &Column, json: &Json) -> Result<Value, PlanError> {
    let invalid = |type_name: &str| PlanError::InvalidColumnValue {
        table: table.name.clone(),
        column: column.name.to_string(),
        type_name: type_name.to_string(),
        value: match json {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        },
    };
    let value = match (column.data_type, json) {
        (_, Json::Null) => Value::Null,
        // JSON columns store the JSON text of whatever was sent.
        (DataType::Json, other) => Value::Text(other.to_string()),
        (DataType::Integer, Json::Number(n)) => Value::Integer(n.as_i64().ok_or_else(|| invalid("integer"))?),
        (DataType::Real, Json::Number(n)) => Value::Real(n.as_f64().ok_or_else(|| invalid("double precision"))?),
        // arbitrary_precision keeps the digits as sent: no trip through f64.
        (DataType::Decimal, Json::Number(n)) => Value::Decimal(n.to_string()),
        (DataType::Boolean, Json::Bool(b)) => Value::Bool(*b),
        (DataType::Untyped, Json::Number(n)) => {
            n.as_i64().map_or_else(|| Value::Decimal(n.to_string()), Value::Integer)
        }
        // An array's JSON text; the engine turns it into its array literal (rowbase-db).
        (DataType::Array, Json::Array(_)) => Value::Text(json.to_string()),
        (DataType::Text | DataType::Other, Json::Number(n)) => Value::Text(n.to_string()),
        (DataType::Text | DataType::Other | DataType::Untyped, Json::Bool(b)) => Value::Text(b.to_string()),
        (DataType::Text | DataType::Other | DataType::Untyped, Json::Array(_) | Json::Object(_)) => {
            Value::Text(json.to_string())
        }
        (data_type, Json::String(s)) => coerce(s, data_type).map_err(|e| match e {
            PlanError::InvalidValue { type_name, .. } => invalid(&type_name),
            other => other,
        })?,
        (data_type, _) => return Err(invalid(type_name(data_type))),
    };
    if let (Some(max), Value::Text(text)) = (column.max_length, &value) {
        if text.chars().count() > max as usize {
            return Err(PlanError::ValueTooLong { table: table.name.clone(), column: column.name.to_string(), max });
        }
    }
    Ok(value)
}

fn type_name(data_type: DataType) -> &'static str {
    match data_type {
        DataType::Integer => "integer",
        DataType::Real => "double precision",
        DataType::Decimal => "numeric",
        DataType::Boolean => "boolean",
        DataType::Date => "date",
        DataType::Timestamp => "timestamp",
        DataType::TimestampTz => "timestamp with time zone",
        DataType::Time => "time",
        DataType::Uuid => "uuid",
        DataType::Bytes => "bytea",
        DataType::Json => "json",
        DataType::Text | DataType::Other | DataType::Untyped => "text",
        DataType::Array => "array",
    }
}
