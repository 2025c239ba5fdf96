//! MySQL/MariaDB's part of a migration: its types, `AUTO_INCREMENT` keys, FULLTEXT indexes,
//! full indexes where others are partial, `MODIFY COLUMN`, and row triggers for timestamps and
//! the audit trail.

use super::{Engine, EngineDdl, TimestampsNames, plain_index, standard_type};
use crate::audit::{Audited, LOG, log_columns, log_table, pairs, row_triggers, suffix};
use crate::diff::Change;
use crate::schema::{Column, ColumnType, Index, Search, Table};

/// MySQL and MariaDB.
pub(crate) struct MySqlDdl;

impl EngineDdl for MySqlDdl {
    fn engine(&self) -> Engine {
        Engine::MySql
    }

    /// Quotes doubled and backslashes too: a backslash escapes in MySQL strings unless
    /// `NO_BACKSLASH_ESCAPES` is set.
    fn string_literal(&self, text: &str) -> String {
        format!("'{}'", text.replace('\'', "''").replace('\\', "\\\\"))
    }

    fn type_sql(&self, t: ColumnType) -> String {
        use ColumnType as C;
        match t {
            C::Integer => "INT".into(),
            C::Real => "DOUBLE PRECISION".into(),
            C::TimestampTz => "DATETIME(6)".into(),
            C::Bytes => "LONGBLOB".into(),
            // Case- and accent-insensitive whatever the table's collation (a binary one would
            // make the search case-sensitive), as on the other engines.
            C::FullText => "TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci".into(),
            C::Alive => "TINYINT".into(),
            other => standard_type(other),
        }
    }

    fn uuid_default(&self) -> String {
        "(UUID())".into()
    }

    fn auto_increment_column(&self, name: &str, column_type: ColumnType) -> String {
        format!("{name} {} NOT NULL AUTO_INCREMENT PRIMARY KEY", self.type_sql(column_type))
    }

    fn search_expression(&self, search: &Search) -> String {
        let sources: Vec<String> = search.sources.iter().map(|s| self.quote(s)).collect();
        format!("concat_ws(' ', {})", sources.join(", "))
    }

    /// A FULLTEXT index.
    fn search_index(&self, table: &str, column: &Column) -> (Vec<String>, Vec<String>) {
        let (t, index) = (self.quote(table), self.quote(&format!("{table}_{}_idx", column.name)));
        (
            vec![format!("CREATE FULLTEXT INDEX {index} ON {t} ({});", self.quote(&column.name))],
            vec![format!("DROP INDEX {index} ON {t};")],
        )
    }

    /// A BEFORE trigger changes the row before it is written.
    fn timestamps_trigger(&self, names: &TimestampsNames) -> (String, String) {
        let TimestampsNames { name, table: t, created, updated, now } = names;
        (
            format!(
                "CREATE TRIGGER {name} BEFORE UPDATE ON {t} FOR EACH ROW SET NEW.{updated} = {now}, NEW.{created} = OLD.{created};"
            ),
            format!("DROP TRIGGER {name};"),
        )
    }

    /// MySQL has no partial indexes: there the index covers every row (it is never unique,
    /// which the schema file enforces), so it serves the same queries at a larger size.
    fn create_index(&self, table: &str, index: &Index) -> String {
        let plain = plain_index(self, table, index, None);
        if index.condition.is_some() {
            format!("-- MySQL has no partial indexes: this one covers every row.\n{plain}")
        } else {
            plain
        }
    }

    fn drop_index(&self, table: &str, name: &str) -> String {
        format!("DROP INDEX {} ON {};", self.quote(name), self.quote(table))
    }

    fn drop_unique(&self, table: &str, name: &str) -> String {
        format!("ALTER TABLE {table} DROP INDEX {name};")
    }

    fn drop_foreign_key(&self, table: &str, name: &str) -> String {
        format!("ALTER TABLE {table} DROP FOREIGN KEY {};", self.quote(name))
    }

    /// MODIFY restates the whole column: once per column, whatever changed; an auto-increment
    /// key keeps AUTO_INCREMENT.
    fn alter_column(
        &self,
        table: &Table,
        t: &str,
        change: &Change,
        altered: &mut Vec<String>,
    ) -> Option<(String, String)> {
        let (Change::ColumnType(c, live) | Change::Nullability(c, live)) = change else {
            return None;
        };
        if altered.contains(&c.name) {
            return None;
        }
        altered.push(c.name.clone());
        let auto = if table.auto_increment() == Some(c.name.as_str()) { " AUTO_INCREMENT" } else { "" };
        Some((
            format!("ALTER TABLE {t} MODIFY COLUMN {}{auto};", super::column_sql(self, c, false)),
            format!(
                "ALTER TABLE {t} MODIFY COLUMN {} {}{}{auto}; -- its default, if it had one, is not restored",
                self.quote(&c.name),
                live.declared_type,
                if live.nullable { "" } else { " NOT NULL" }
            ),
        ))
    }

    /// Triggers refuse UPDATE, and DELETE unless `@rowbase_retention` is set.
    fn audit_log(&self) -> (String, String) {
        let log = self.quote(LOG);
        let refuse = crate::audit::REFUSAL;
        // MariaDB's JSON is LONGTEXT: indexed by a prefix.
        let row_key = format!("{}(190)", self.quote("row_key"));
        let mut up = log_table(
            self,
            "`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
            "VARCHAR(64)",
            "JSON",
            "DATETIME(6)",
            &row_key,
        );
        up.push(format!(
            "CREATE TRIGGER `rowbase_audit_no_update` BEFORE UPDATE ON {log} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refuse}';"
        ));
        up.push(format!(
            "CREATE TRIGGER `rowbase_audit_no_delete` BEFORE DELETE ON {log} FOR EACH ROW BEGIN\n  IF @rowbase_retention IS NULL THEN\n    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refuse}';\n  END IF;\nEND;"
        ));
        let down = ["-- Drops the audit log, and the history in it.".to_string(), format!("DROP TABLE {log};")];
        (up.join("\n"), down.join("\n"))
    }

    /// Three row triggers; the actor, request id and transaction from the session variables
    /// `@rowbase_actor`, `@rowbase_request_id` and `@rowbase_transaction_id`.
    fn audit_triggers(&self, audited: &Audited<'_>) -> (String, String) {
        let q = |name: &str| self.quote(name);
        let t = q(audited.table);
        let name = |suffix: &str| q(&format!("{}_audit{suffix}", audited.table));
        let changed = format!(
            "CONCAT('[', CONCAT_WS(',', {}), ']')",
            audited
                .columns
                .iter()
                .map(|c| format!(
                    "IF(NOT (OLD.{0} <=> NEW.{0}), {1}, NULL)",
                    q(c),
                    self.string_literal(&serde_json::Value::String((*c).to_string()).to_string())
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let (log, columns) = (q(LOG), log_columns(self));
        row_triggers(
            &|event, body| {
                format!("CREATE TRIGGER {} AFTER {} ON {t} FOR EACH ROW {body};", name(&suffix(event)), event)
            },
            &|row| format!("JSON_OBJECT({})", pairs(self, row, &audited.columns)),
            &|row| format!("JSON_OBJECT({})", pairs(self, row, &audited.primary_key)),
            &changed,
            &|op, key, old, new, changed| {
                format!(
                    "INSERT INTO {log} ({columns}) VALUES ({}, {key}, '{op}', {old}, {new}, {changed}, CURRENT_TIMESTAMP(6), @rowbase_transaction_id, NULLIF(@rowbase_actor, ''), @rowbase_request_id)",
                    self.string_literal(audited.table),
                )
            },
            &name,
        )
    }
}
