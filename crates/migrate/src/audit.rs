//! The audit trail's shared shape (each engine writes its own triggers, in `ddl/`): the append-only `rowbase_audit` log and the triggers that
//! write every INSERT, UPDATE and DELETE of an audited table into it (docs/schema.md, "Audit").
//!
//! A log row: the table, the row's primary key as a JSON object, the operation, the old and new
//! row as JSON, the changed columns (a JSON array, for updates), the time, the transaction, and
//! the actor and request id when the change came through Rowbase. Rowbase sets those per
//! transaction: `set_config('rowbase.actor', …, true)` on PostgreSQL, `@rowbase_actor` on MySQL,
//! and on SQLite a row of `rowbase_audit_context` written inside the transaction and removed
//! before it commits (a connection-registered function would make every trigger fail on a
//! connection that lacks it, such as the `sqlite3` shell; the context row needs nothing of the
//! connection, and SQL from elsewhere finds no row: its actor is NULL).

use crate::ddl::EngineDdl;

/// The log table.
pub const LOG: &str = rowbase_catalog::AUDIT_LOG;
/// SQLite's per-transaction context (see the module documentation).
pub const CONTEXT: &str = rowbase_catalog::AUDIT_CONTEXT;
/// The message of a refused UPDATE or DELETE of the log.
pub(crate) const REFUSAL: &str = "rowbase_audit is append-only";

/// What the triggers of one table need to know of it.
pub struct Audited<'a> {
    /// The table.
    pub table: &'a str,
    /// Its columns, in order (generated ones included: they are part of the row).
    pub columns: Vec<&'a str>,
    /// Its primary key.
    pub primary_key: Vec<&'a str>,
    /// Whether it keeps `updated_at` by trigger: SQLite's timestamps trigger updates the row a
    /// second time, which is not a change of its own and is not logged.
    pub timestamps: bool,
}

/// The log's columns a trigger fills, quoted, in order.
pub(crate) fn log_columns(e: &(impl EngineDdl + ?Sized)) -> String {
    [
        "table_name",
        "row_key",
        "operation",
        "old_row",
        "new_row",
        "changed_columns",
        "changed_at",
        "transaction_id",
        "actor",
        "request_id",
    ]
    .map(|c| e.quote(c))
    .join(", ")
}

/// CREATE TABLE of the log and its two indexes, in the engine's types: `id` the key column's
/// whole definition, `table_name` the table name's type, `json` and `time` those of JSON and
/// the time of the change, `row_key` the indexed key expression (a prefix where the engine's
/// JSON is a long text). A DELETE is let through only for retention (`rowbase audit prune`),
/// which says so in its own transaction; each engine adds the triggers that refuse the rest.
pub(crate) fn log_table(
    e: &(impl EngineDdl + ?Sized),
    id: &str,
    table_name: &str,
    json: &str,
    time: &str,
    row_key: &str,
) -> Vec<String> {
    let q = |name: &str| e.quote(name);
    let log = q(LOG);
    vec![
        format!(
            "CREATE TABLE {log} (\n    {id},\n    {} {table_name} NOT NULL,\n    {} {json} NOT NULL,\n    {} VARCHAR(6) NOT NULL,\n    {} {json},\n    {} {json},\n    {} {json},\n    {} {time} NOT NULL,\n    {} VARCHAR(64),\n    {} VARCHAR(200),\n    {} VARCHAR(200)\n);",
            q("table_name"),
            q("row_key"),
            q("operation"),
            q("old_row"),
            q("new_row"),
            q("changed_columns"),
            q("changed_at"),
            q("transaction_id"),
            q("actor"),
            q("request_id"),
        ),
        format!("CREATE INDEX {} ON {log} ({}, {row_key}, {});", q("rowbase_audit_row_idx"), q("table_name"), q("id")),
        format!("CREATE INDEX {} ON {log} ({});", q("rowbase_audit_changed_at_idx"), q("changed_at")),
    ]
}

/// `'col', ROW."col", ...`: the arguments of a JSON object of the listed columns of `row`
/// (`OLD` or `NEW`).
pub(crate) fn pairs(e: &(impl EngineDdl + ?Sized), row: &str, columns: &[&str]) -> String {
    columns.iter().map(|c| format!("{}, {row}.{}", e.string_literal(c), e.quote(c))).collect::<Vec<_>>().join(", ")
}

/// `_insert`, `_update`, `_delete`: the suffix of the trigger of an event.
pub(crate) fn suffix(event: &str) -> String {
    format!("_{}", event.to_ascii_lowercase())
}

/// The three row triggers of MySQL and SQLite (PostgreSQL has one function for all three), up
/// and down, from each engine's pieces: the trigger around a body, a row (`NEW`/`OLD`) as a JSON
/// object and its key as one, the changed-columns expression, and the log insert.
pub(crate) fn row_triggers(
    trigger: &dyn Fn(&str, &str) -> String,
    object: &dyn Fn(&str) -> String,
    key: &dyn Fn(&str) -> String,
    changed: &str,
    insert: &dyn Fn(&str, &str, &str, &str, &str) -> String,
    name: &dyn Fn(&str) -> String,
) -> (String, String) {
    let up = [
        trigger("INSERT", &insert("INSERT", &key("NEW"), "NULL", &object("NEW"), "NULL")),
        trigger("UPDATE", &insert("UPDATE", &key("NEW"), &object("OLD"), &object("NEW"), changed)),
        trigger("DELETE", &insert("DELETE", &key("OLD"), &object("OLD"), "NULL", "NULL")),
    ];
    let down = ["INSERT", "UPDATE", "DELETE"].map(|e| format!("DROP TRIGGER {};", name(&suffix(e)))).join("\n");
    (up.join("\n"), down)
}
