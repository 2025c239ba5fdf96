//! The audit trail as DDL per engine: the append-only `rowbase_audit` log and the triggers that
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

use crate::ddl::Engine;

/// The log table.
pub const LOG: &str = rowbase_catalog::AUDIT_LOG;
/// SQLite's per-transaction context (see the module documentation).
pub const CONTEXT: &str = rowbase_catalog::AUDIT_CONTEXT;

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

/// The log (and SQLite's context table) with the triggers that refuse UPDATE and DELETE of it,
/// up and down. A DELETE is let through only for retention (`rowbase audit prune`), which says
/// so in its own transaction (`rowbase.retention` / `@rowbase_retention` / the context row).
pub fn log(engine: Engine) -> (String, String) {
    let q = |name: &str| engine.quote(name);
    let log = q(LOG);
    let (id, json, time) = match engine {
        Engine::Postgres => ("\"id\" BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "JSONB", "TIMESTAMPTZ"),
        Engine::MySql => ("`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY", "JSON", "DATETIME(6)"),
        Engine::Sqlite => ("\"id\" INTEGER PRIMARY KEY", "JSON", "TIMESTAMPTZ"),
    };
    let table_name = if engine == Engine::MySql { "VARCHAR(64)" } else { "TEXT" };
    let mut up = vec![format!(
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
    )];
    // MariaDB's JSON is LONGTEXT: indexed by a prefix.
    let row_key = if engine == Engine::MySql { format!("{}(190)", q("row_key")) } else { q("row_key") };
    up.push(format!(
        "CREATE INDEX {} ON {log} ({}, {row_key}, {});",
        q("rowbase_audit_row_idx"),
        q("table_name"),
        q("id")
    ));
    up.push(format!("CREATE INDEX {} ON {log} ({});", q("rowbase_audit_changed_at_idx"), q("changed_at")));
    let refuse = "rowbase_audit is append-only";
    let mut down = vec!["-- Drops the audit log, and the history in it.".to_string()];
    match engine {
        Engine::Postgres => {
            up.push(format!(
                "CREATE FUNCTION \"rowbase_audit_append_only\"() RETURNS trigger LANGUAGE plpgsql AS $rowbase$\nBEGIN\n  IF TG_OP = 'DELETE' AND current_setting('rowbase.retention', true) = 'on' THEN\n    RETURN OLD;\n  END IF;\n  RAISE EXCEPTION '{refuse}' USING ERRCODE = '42501';\nEND\n$rowbase$;"
            ));
            up.push(format!(
                "CREATE TRIGGER \"rowbase_audit_append_only\" BEFORE UPDATE OR DELETE ON {log} FOR EACH ROW EXECUTE FUNCTION \"rowbase_audit_append_only\"();"
            ));
            up.push(format!(
                "CREATE TRIGGER \"rowbase_audit_no_truncate\" BEFORE TRUNCATE ON {log} FOR EACH STATEMENT EXECUTE FUNCTION \"rowbase_audit_append_only\"();"
            ));
            down.push(format!("DROP TABLE {log};"));
            down.push("DROP FUNCTION \"rowbase_audit_append_only\"();".into());
        }
        Engine::MySql => {
            up.push(format!(
                "CREATE TRIGGER `rowbase_audit_no_update` BEFORE UPDATE ON {log} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refuse}';"
            ));
            up.push(format!(
                "CREATE TRIGGER `rowbase_audit_no_delete` BEFORE DELETE ON {log} FOR EACH ROW BEGIN\n  IF @rowbase_retention IS NULL THEN\n    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refuse}';\n  END IF;\nEND;"
            ));
            down.push(format!("DROP TABLE {log};"));
        }
        Engine::Sqlite => {
            let context = q(CONTEXT);
            up.push(format!(
                "CREATE TABLE {context} (\"id\" INTEGER PRIMARY KEY CHECK (\"id\" = 1), \"actor\" TEXT, \"request_id\" TEXT, \"transaction_id\" TEXT, \"retention\" INTEGER);"
            ));
            up.push(format!(
                "CREATE TRIGGER \"rowbase_audit_no_update\" BEFORE UPDATE ON {log} BEGIN SELECT RAISE(ABORT, '{refuse}'); END;"
            ));
            up.push(format!(
                "CREATE TRIGGER \"rowbase_audit_no_delete\" BEFORE DELETE ON {log} WHEN NOT EXISTS (SELECT 1 FROM {context} WHERE \"retention\" = 1) BEGIN SELECT RAISE(ABORT, '{refuse}'); END;"
            ));
            down.push(format!("DROP TABLE {log};"));
            down.push(format!("DROP TABLE {context};"));
        }
    }
    (up.join("\n"), down.join("\n"))
}

/// The triggers that log every change of `audited`, up and down.
pub fn triggers(engine: Engine, audited: &Audited<'_>) -> (String, String) {
    let q = |name: &str| engine.quote(name);
    let t = q(audited.table);
    let name = |suffix: &str| q(&format!("{}_audit{suffix}", audited.table));
    let literal = |text: &str| engine.string_literal(text);
    // `'col', ROW."col", ...` for a JSON object of the listed columns of OLD or NEW.
    let pairs = |row: &str, columns: &[&str]| -> String {
        columns.iter().map(|c| format!("{}, {row}.{}", literal(c), q(c))).collect::<Vec<_>>().join(", ")
    };
    let columns = [
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
    .map(&q)
    .join(", ");
    match engine {
        Engine::Postgres => {
            let key = |row: &str| format!("jsonb_build_object({})", pairs(row, &audited.primary_key));
            let up = format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $rowbase$\nDECLARE\n  old_row jsonb;\n  new_row jsonb;\n  changed jsonb;\n  row_key jsonb;\nBEGIN\n  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); row_key := {old_key}; END IF;\n  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); row_key := {new_key}; END IF;\n  IF TG_OP = 'UPDATE' THEN\n    SELECT coalesce(jsonb_agg(n.key ORDER BY n.key), '[]'::jsonb) INTO changed\n      FROM jsonb_each(new_row) n WHERE n.value IS DISTINCT FROM old_row -> n.key;\n  END IF;\n  INSERT INTO {log} ({columns})\n  VALUES (TG_TABLE_NAME, row_key, TG_OP, old_row, new_row, changed, now(), txid_current()::text,\n          nullif(current_setting('rowbase.actor', true), ''), nullif(current_setting('rowbase.request_id', true), ''));\n  RETURN NULL;\nEND\n$rowbase$;\nCREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION {name}();",
                name = name(""),
                old_key = key("OLD"),
                new_key = key("NEW"),
                log = q(LOG),
            );
            (up, format!("DROP TRIGGER {} ON {t};\nDROP FUNCTION {}();", name(""), name("")))
        }
        Engine::MySql => {
            let changed = format!(
                "CONCAT('[', CONCAT_WS(',', {}), ']')",
                audited
                    .columns
                    .iter()
                    .map(|c| format!(
                        "IF(NOT (OLD.{0} <=> NEW.{0}), {1}, NULL)",
                        q(c),
                        literal(&serde_json::Value::String((*c).to_string()).to_string())
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let log = q(LOG);
            row_triggers(
                &|event, body| {
                    format!("CREATE TRIGGER {} AFTER {} ON {t} FOR EACH ROW {body};", name(&suffix(event)), event)
                },
                &|row| format!("JSON_OBJECT({})", pairs(row, &audited.columns)),
                &|row| format!("JSON_OBJECT({})", pairs(row, &audited.primary_key)),
                &changed,
                &|op, key, old, new, changed| {
                    format!(
                        "INSERT INTO {log} ({columns}) VALUES ({}, {key}, '{op}', {old}, {new}, {changed}, CURRENT_TIMESTAMP(6), @rowbase_transaction_id, NULLIF(@rowbase_actor, ''), @rowbase_request_id)",
                        literal(audited.table),
                    )
                },
                &name,
            )
        }
        Engine::Sqlite => {
            let changed = format!(
                "(SELECT json_group_array(name) FROM ({}))",
                audited
                    .columns
                    .iter()
                    .map(|c| format!("SELECT {} AS name WHERE OLD.{1} IS NOT NEW.{1}", literal(c), q(c)))
                    .collect::<Vec<_>>()
                    .join(" UNION ALL ")
            );
            // Only the timestamps trigger's own update changes nothing but updated_at.
            let when = if audited.timestamps {
                let others: Vec<String> = audited
                    .columns
                    .iter()
                    .filter(|c| **c != "updated_at")
                    .map(|c| format!("OLD.{0} IS NOT NEW.{0}", q(c)))
                    .collect();
                format!(" WHEN {}", if others.is_empty() { "0".to_string() } else { others.join(" OR ") })
            } else {
                String::new()
            };
            let (log, context) = (q(LOG), q(CONTEXT));
            let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
            row_triggers(
                &|event, body| {
                    let when = if event == "UPDATE" { when.as_str() } else { "" };
                    format!("CREATE TRIGGER {} AFTER {event} ON {t}{when} BEGIN {body}; END;", name(&suffix(event)))
                },
                &|row| format!("json_object({})", pairs(row, &audited.columns)),
                &|row| format!("json_object({})", pairs(row, &audited.primary_key)),
                &changed,
                &|op, key, old, new, changed| {
                    format!(
                        "INSERT INTO {log} ({columns}) SELECT {}, {key}, '{op}', {old}, {new}, {changed}, {now}, c.\"transaction_id\", NULLIF(c.\"actor\", ''), c.\"request_id\" FROM (SELECT 1) LEFT JOIN {context} c ON c.\"id\" = 1",
                        literal(audited.table),
                    )
                },
                &name,
            )
        }
    }
}

/// `_insert`, `_update`, `_delete`: the suffix of the trigger of an event.
fn suffix(event: &str) -> String {
    format!("_{}", event.to_ascii_lowercase())
}

/// The three row triggers of MySQL and SQLite (PostgreSQL has one function for all three), up
/// and down, from each engine's pieces: the trigger around a body, a row (`NEW`/`OLD`) as a JSON
/// object and its key as one, the changed-columns expression, and the log insert.
fn row_triggers(
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
