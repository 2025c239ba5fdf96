//! SQLite's part of a migration: its types, rowid keys, FTS5 tables kept by triggers for
//! full-text columns, AFTER triggers for timestamps and the audit trail (with the context row
//! the audit triggers read), and the table rebuild that stands for most ALTER TABLE.

use super::{Engine, EngineDdl, TimestampsNames, create_table_as, list, live_index, recreate_table};
use crate::audit::{Audited, CONTEXT, LOG, log_columns, log_table, pairs, row_triggers, suffix};
use crate::diff::Change;
use crate::schema::{Column, ColumnType, Table};

/// SQLite.
pub(crate) struct SqliteDdl;

impl EngineDdl for SqliteDdl {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    /// SQLite stores booleans as 0 and 1.
    fn boolean(&self, value: bool) -> &'static str {
        if value { "1" } else { "0" }
    }

    /// In parentheses: SQLite's DEFAULT needs an expression in parentheses.
    fn now_default(&self) -> String {
        format!("({})", rowbase_sql::dialect_of(Engine::Sqlite).now())
    }

    fn uuid_default(&self) -> String {
        "(lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))))".into()
    }

    /// The rowid itself.
    fn auto_increment_column(&self, name: &str, _column_type: ColumnType) -> String {
        format!("{name} INTEGER PRIMARY KEY")
    }

    /// SQLite can add only a VIRTUAL generated column to an existing table (and FTS5 reads it
    /// through the table).
    fn generated_storage(&self) -> &'static str {
        "VIRTUAL"
    }

    /// An external-content FTS5 table named `{table}_{column}_fts` kept in step by three
    /// triggers (sqlite.org/fts5.html, "External Content Tables") and filled from the rows
    /// already there.
    fn search_index(&self, table: &str, column: &Column) -> (Vec<String>, Vec<String>) {
        let language = column.search.as_ref().map_or("simple", |s| s.language.as_str());
        let column = column.name.as_str();
        let (t, c) = (self.quote(table), self.quote(column));
        let fts_name = format!("{table}_{column}_fts");
        let fts = self.quote(&fts_name);
        let trigger = |suffix: &str| self.quote(&format!("{fts_name}_{suffix}"));
        let add = format!("INSERT INTO {fts}(rowid, {c}) VALUES (new.rowid, new.{c});");
        let remove = format!("INSERT INTO {fts}({fts}, rowid, {c}) VALUES ('delete', old.rowid, old.{c});");
        (
            vec![
                format!(
                    "CREATE VIRTUAL TABLE {fts} USING fts5({c}, content={}, content_rowid='rowid', tokenize={});",
                    self.string_literal(table),
                    // Porter stemming for English, as PostgreSQL's `english` stems.
                    self.string_literal(if language == "english" {
                        "porter unicode61 remove_diacritics 2"
                    } else {
                        "unicode61 remove_diacritics 2"
                    })
                ),
                format!("CREATE TRIGGER {} AFTER INSERT ON {t} BEGIN {add} END;", trigger("insert")),
                format!("CREATE TRIGGER {} AFTER DELETE ON {t} BEGIN {remove} END;", trigger("delete")),
                format!("CREATE TRIGGER {} AFTER UPDATE ON {t} BEGIN {remove} {add} END;", trigger("update")),
                format!("INSERT INTO {fts}({fts}) VALUES ('rebuild');"),
            ],
            vec![
                format!("DROP TRIGGER IF EXISTS {};", trigger("insert")),
                format!("DROP TRIGGER IF EXISTS {};", trigger("delete")),
                format!("DROP TRIGGER IF EXISTS {};", trigger("update")),
                format!("DROP TABLE IF EXISTS {fts};"),
            ],
        )
    }

    /// The FTS5 table and its triggers.
    fn drop_live_search(&self, index: &rowbase_catalog::FullTextIndex) -> Vec<String> {
        match index {
            rowbase_catalog::FullTextIndex::Fts5(name) => drop_fts5(self, name),
            _ => Vec::new(),
        }
    }

    /// The FTS5 tables are tables of their own.
    fn drop_created_table(&self, table: &Table) -> Vec<String> {
        let mut drop: Vec<String> = table
            .columns
            .iter()
            .filter(|c| c.search.is_some())
            .flat_map(|c| self.search_index(&table.name, c).1)
            .collect();
        drop.push(format!("DROP TABLE {};", self.quote(&table.name)));
        drop
    }

    /// SQLite's triggers cannot change NEW, so its AFTER trigger updates the row once more
    /// (recursive triggers are off: it does not fire itself).
    fn timestamps_trigger(&self, names: &TimestampsNames) -> (String, String) {
        let TimestampsNames { name, table: t, created, updated, now } = names;
        (
            format!(
                "CREATE TRIGGER {name} AFTER UPDATE ON {t} FOR EACH ROW BEGIN UPDATE {t} SET {updated} = {now}, {created} = OLD.{created} WHERE rowid = NEW.rowid; END;"
            ),
            format!("DROP TRIGGER {name};"),
        )
    }

    fn rebuilds_tables(&self) -> bool {
        true
    }

    fn alter_table(&self, declared: &Table, live: &rowbase_catalog::Table, _changes: &[Change]) -> (String, String) {
        rebuild(self, declared, live)
    }

    /// Beside the log, the one-row context table the triggers read the actor from; triggers
    /// refuse UPDATE, and DELETE unless the context row says `retention`.
    fn audit_log(&self) -> (String, String) {
        let (log, context) = (self.quote(LOG), self.quote(CONTEXT));
        let refuse = crate::audit::REFUSAL;
        let mut up =
            log_table(self, "\"id\" INTEGER PRIMARY KEY", "TEXT", "JSON", "TIMESTAMPTZ", &self.quote("row_key"));
        up.push(format!(
            "CREATE TABLE {context} (\"id\" INTEGER PRIMARY KEY CHECK (\"id\" = 1), \"actor\" TEXT, \"request_id\" TEXT, \"transaction_id\" TEXT, \"retention\" INTEGER);"
        ));
        up.push(format!(
            "CREATE TRIGGER \"rowbase_audit_no_update\" BEFORE UPDATE ON {log} BEGIN SELECT RAISE(ABORT, '{refuse}'); END;"
        ));
        up.push(format!(
            "CREATE TRIGGER \"rowbase_audit_no_delete\" BEFORE DELETE ON {log} WHEN NOT EXISTS (SELECT 1 FROM {context} WHERE \"retention\" = 1) BEGIN SELECT RAISE(ABORT, '{refuse}'); END;"
        ));
        let down = [
            "-- Drops the audit log, and the history in it.".to_string(),
            format!("DROP TABLE {log};"),
            format!("DROP TABLE {context};"),
        ];
        (up.join("\n"), down.join("\n"))
    }

    /// Three row triggers reading the actor, request id and transaction from the context row.
    fn audit_triggers(&self, audited: &Audited<'_>) -> (String, String) {
        let q = |name: &str| self.quote(name);
        let t = q(audited.table);
        let name = |suffix: &str| q(&format!("{}_audit{suffix}", audited.table));
        let changed = format!(
            "(SELECT json_group_array(name) FROM ({}))",
            audited
                .columns
                .iter()
                .map(|c| format!("SELECT {} AS name WHERE OLD.{1} IS NOT NEW.{1}", self.string_literal(c), q(c)))
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
        let (log, context, columns) = (q(LOG), q(CONTEXT), log_columns(self));
        let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
        row_triggers(
            &|event, body| {
                let when = if event == "UPDATE" { when.as_str() } else { "" };
                format!("CREATE TRIGGER {} AFTER {event} ON {t}{when} BEGIN {body}; END;", name(&suffix(event)))
            },
            &|row| format!("json_object({})", pairs(self, row, &audited.columns)),
            &|row| format!("json_object({})", pairs(self, row, &audited.primary_key)),
            &changed,
            &|op, key, old, new, changed| {
                format!(
                    "INSERT INTO {log} ({columns}) SELECT {}, {key}, '{op}', {old}, {new}, {changed}, {now}, c.\"transaction_id\", NULLIF(c.\"actor\", ''), c.\"request_id\" FROM (SELECT 1) LEFT JOIN {context} c ON c.\"id\" = 1",
                    self.string_literal(audited.table),
                )
            },
            &name,
        )
    }
}

/// Drops the FTS5 table `name` that indexes a live column, and its triggers.
fn drop_fts5(e: &SqliteDdl, name: &str) -> Vec<String> {
    let mut sql: Vec<String> = ["insert", "delete", "update"]
        .iter()
        .map(|suffix| format!("DROP TRIGGER IF EXISTS {};", e.quote(&format!("{name}_{suffix}"))))
        .collect();
    sql.push(format!("DROP TABLE IF EXISTS {};", e.quote(name)));
    sql
}

/// SQLite's table rebuild (sqlite.org/lang_altertable.html#otheralter, "Making Other Kinds
/// Of Table Schema Changes"): a new table as declared, the rows copied, the old table
/// dropped, the new one renamed, then its indexes and the old table's triggers recreated.
/// Migrations run with foreign keys off and checked afterwards, as the procedure requires.
/// The way back rebuilds the table from its stored `CREATE TABLE` when the plan was made
/// against SQLite, else from the introspected catalog.
fn rebuild(e: &SqliteDdl, declared: &Table, live: &rowbase_catalog::Table) -> (String, String) {
    let t = e.quote(&declared.name);
    let new = e.quote(&format!("_rowbase_new_{}", declared.name));
    let old = e.quote(&format!("_rowbase_old_{}", declared.name));
    // The rows of the columns there before (renamed ones are renamed first); new columns
    // take their defaults, generated ones are computed.
    let existed = |c: &&Column| {
        live.column(&c.name).is_some() || c.renamed_from.as_deref().is_some_and(|old| live.column(old).is_some())
    };
    let columns = list(
        e,
        &declared
            .columns
            .iter()
            .filter(|c| !c.is_generated())
            .filter(existed)
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
    );
    // Full-text columns: an FTS5 table that stays is refilled (rowids may change in a
    // rebuild); one whose column goes is dropped with its triggers; a new one is made.
    let live_fts: Vec<(&str, &str)> = live
        .columns
        .iter()
        .filter_map(|c| match &c.full_text {
            Some(rowbase_catalog::FullTextIndex::Fts5(name)) => Some((c.name.as_str(), name.as_str())),
            _ => None,
        })
        .collect();
    let kept = |column: &str| declared.column(column).is_some_and(|c| c.search.is_some());
    let timestamps_trigger = Table::timestamps_trigger(&declared.name);
    let dropped_fts: Vec<&str> = live_fts.iter().filter(|(c, _)| !kept(c)).map(|(_, f)| *f).collect();
    let triggers: Vec<String> = live
        .definition
        .iter()
        .flat_map(|d| d.dependents.iter())
        .filter(|sql| sql.trim_start().get(..14).is_some_and(|p| p.eq_ignore_ascii_case("CREATE TRIGGER")))
        .filter(|sql| !dropped_fts.iter().any(|f| sql.contains(&e.quote(f))))
        .filter(|sql| declared.timestamps || !sql.contains(&e.quote(&timestamps_trigger)))
        // Audit triggers list the columns: the diff adds them again after the rebuild.
        .filter(|sql| {
            !["_audit_insert", "_audit_update", "_audit_delete"]
                .iter()
                .any(|s| sql.contains(&e.quote(&format!("{}{s}", declared.name))))
        })
        .map(|sql| format!("{sql};"))
        .collect();
    let mut up = vec![
        format!("-- Rebuild {t}: SQLite cannot make these changes with ALTER TABLE."),
        create_table_as(e, declared, &format!("_rowbase_new_{}", declared.name)),
        format!("INSERT INTO {new} ({columns}) SELECT {columns} FROM {t};"),
        format!("DROP TABLE {t};"),
        format!("ALTER TABLE {new} RENAME TO {t};"),
    ];
    up.extend(declared.indexes.iter().map(|i| e.create_index(&declared.name, i)));
    up.extend(triggers);
    let mut new_fts = Vec::new();
    for c in declared.columns.iter().filter(|c| c.search.is_some()) {
        match live_fts.iter().find(|(name, _)| *name == c.name) {
            Some((_, fts)) => up.push(format!("INSERT INTO {0}({0}) VALUES ('rebuild');", e.quote(fts))),
            None => {
                let (forward, backward) = e.search_index(&declared.name, c);
                up.extend(forward);
                new_fts.extend(backward);
            }
        }
    }
    for fts in &dropped_fts {
        up.extend(drop_fts5(e, fts));
    }

    // Back: the live columns, each filled from the declared column it became.
    let mut to = Vec::new();
    let mut from = Vec::new();
    for c in live.columns.iter().filter(|c| !c.generated) {
        let source = declared
            .columns
            .iter()
            .find(|d| d.renamed_from.as_deref() == Some(c.name.as_str()))
            .or_else(|| declared.columns.iter().find(|d| d.name == c.name));
        if let Some(source) = source {
            to.push(e.quote(&c.name));
            from.push(e.quote(&source.name));
        }
    }
    let stored = live.definition.as_ref().and_then(|d| {
        let open = d.table.find('(')?;
        // Only when the name before the column list cannot itself hold a parenthesis.
        (!live.name.contains('(')).then(|| (format!("CREATE TABLE {old} {};", &d.table[open..]), d.dependents.clone()))
    });
    let (create, dependents): (String, Vec<String>) = match stored {
        Some((create, dependents)) => (create, dependents.into_iter().map(|sql| format!("{sql};")).collect()),
        None => {
            let renamed = rowbase_catalog::Table { name: format!("_rowbase_old_{}", live.name), ..live.clone() };
            let indexes = live.indexes.iter().map(|i| e.create_index(&live.name, &live_index(i))).collect();
            (recreate_table(e, &renamed), indexes)
        }
    };
    let mut down = new_fts;
    down.extend([
        format!("-- Rebuild {t} as it was."),
        create,
        format!("INSERT INTO {old} ({}) SELECT {} FROM {t};", to.join(", "), from.join(", ")),
        format!("DROP TABLE {t};"),
        format!("ALTER TABLE {old} RENAME TO {t};"),
    ]);
    down.extend(dependents);
    for (column, fts) in &live_fts {
        if kept(column) {
            down.push(format!("INSERT INTO {0}({0}) VALUES ('rebuild');", e.quote(fts)));
        } else {
            down.push(format!("-- the full-text index {fts} of {column} is not restored: declare it again"));
        }
    }
    (up.join("\n"), down.join("\n"))
}
