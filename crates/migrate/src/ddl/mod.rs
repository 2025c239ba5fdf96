//! Steps as SQL for each engine, up and down. Names are quoted by the engine's dialect; the only
//! other text is fixed SQL and literals from the schema file, quoted as SQL strings.
//!
//! This module holds what the engines share (the order of steps, table and constraint shapes,
//! the ways back); each engine's own part is its [`EngineDdl`] in `sqlite.rs`, `postgres.rs` or
//! `mysql.rs`, which the compiler asks for types, defaults, generated columns, full-text indexes,
//! triggers, the audit trail and how a table is altered.

mod mysql;
mod postgres;
mod sqlite;

pub use rowbase_catalog::Engine;
use rowbase_sql::dialect_of;

use crate::audit::Audited;
use crate::diff::{Change, Step};
use crate::schema::{Column, ColumnType, Default, Index, Search, Table};

/// One engine's part of a migration. Methods with a body are what most engines write; an engine
/// overrides what it writes otherwise. Every name passed in is unquoted unless said otherwise.
pub(crate) trait EngineDdl: Sync {
    /// The engine.
    fn engine(&self) -> Engine;

    /// `name` quoted as an identifier.
    fn quote(&self, name: &str) -> String {
        let mut out = String::new();
        dialect_of(self.engine()).quote_ident(&mut out, name);
        out
    }

    /// `text` as an SQL string literal, quotes doubled.
    fn string_literal(&self, text: &str) -> String {
        format!("'{}'", text.replace('\'', "''"))
    }

    /// The value of the request's claim at `path` as a value of `t`, for a row-level policy
    /// (engines whose policies are Rowbase's planner's, not the database's, never need it).
    fn claim_value(&self, path: &[&str], t: ColumnType) -> String {
        let _ = (path, t);
        "NULL".into()
    }

    /// A boolean literal.
    fn boolean(&self, value: bool) -> &'static str {
        if value { "TRUE" } else { "FALSE" }
    }

    /// The column type a declared type becomes: [`standard_type`] unless the engine says
    /// otherwise.
    fn type_sql(&self, t: ColumnType) -> String {
        standard_type(t)
    }

    /// The default that sets the current time (the API's own `now`, as a soft delete's
    /// `deleted_at` gets it).
    fn now_default(&self) -> String {
        dialect_of(self.engine()).now().into()
    }

    /// The default that makes a random (version 4) UUID.
    fn uuid_default(&self) -> String;

    /// The definition of an auto-increment primary key column (`name` quoted).
    fn auto_increment_column(&self, name: &str, column_type: ColumnType) -> String;

    /// How a generated column is kept: `STORED` (so it can be indexed) unless the engine says
    /// otherwise.
    fn generated_storage(&self) -> &'static str {
        "STORED"
    }

    /// The expression a `fulltext` column is generated from: its sources joined by spaces, NULL
    /// as empty.
    fn search_expression(&self, search: &Search) -> String {
        joined_sources(self, search)
    }

    /// The full-text index of `column` of `table`, up and down.
    fn search_index(&self, table: &str, column: &Column) -> (Vec<String>, Vec<String>);

    /// What removes a live full-text index that is not dropped with its column or table (SQLite's
    /// FTS5 tables); nothing by default.
    fn drop_live_search(&self, _index: &rowbase_catalog::FullTextIndex) -> Vec<String> {
        Vec::new()
    }

    /// The way back from creating `table`: dropping it (with what is not dropped with it).
    fn drop_created_table(&self, table: &Table) -> Vec<String> {
        vec![format!("DROP TABLE {};", self.quote(&table.name))]
    }

    /// The trigger that sets `updated_at` to the time of every update and keeps `created_at`
    /// as it was, named `{table}_updated_at`, up and down.
    fn timestamps_trigger(&self, names: &TimestampsNames) -> (String, String);

    /// CREATE INDEX, partial where the index has a condition.
    fn create_index(&self, table: &str, index: &Index) -> String {
        plain_index(self, table, index, index.condition.as_ref().map(|c| c.sql(self.engine())))
    }

    /// DROP INDEX `name` of `table`.
    fn drop_index(&self, _table: &str, name: &str) -> String {
        format!("DROP INDEX {};", self.quote(name))
    }

    /// Drops the unique constraint `name` (quoted) of `table` (quoted).
    fn drop_unique(&self, table: &str, name: &str) -> String {
        format!("ALTER TABLE {table} DROP CONSTRAINT {name};")
    }

    /// Drops the foreign key `name` of `table` (quoted).
    fn drop_foreign_key(&self, table: &str, name: &str) -> String {
        format!("ALTER TABLE {table} DROP CONSTRAINT {};", self.quote(name))
    }

    /// A change of a column's type or nullability (`t` the quoted table), up and down, or
    /// `None` when an earlier change of the same column (listed in `altered`) already made it.
    fn alter_column(
        &self,
        table: &Table,
        t: &str,
        change: &Change,
        altered: &mut Vec<String>,
    ) -> Option<(String, String)> {
        let _ = (table, altered);
        match change {
            Change::ColumnType(c, live) => {
                let name = self.quote(&c.name);
                let to = self.type_sql(c.column_type);
                let back = &live.declared_type;
                Some((
                    format!("ALTER TABLE {t} ALTER COLUMN {name} TYPE {to} USING {name}::{to};"),
                    format!("ALTER TABLE {t} ALTER COLUMN {name} TYPE {back} USING {name}::{back};"),
                ))
            }
            Change::Nullability(c, _) => {
                let name = self.quote(&c.name);
                let (set, unset) = if c.not_null { ("SET", "DROP") } else { ("DROP", "SET") };
                Some((
                    format!("ALTER TABLE {t} ALTER COLUMN {name} {set} NOT NULL;"),
                    format!("ALTER TABLE {t} ALTER COLUMN {name} {unset} NOT NULL;"),
                ))
            }
            _ => None,
        }
    }

    /// Whether a table changed by [`Step::AlterTable`] is rebuilt whole (SQLite), which makes
    /// the other steps on it part of the rebuild.
    fn rebuilds_tables(&self) -> bool {
        false
    }

    /// The changes of one table, up and down: ALTER TABLE in place unless the engine rebuilds.
    fn alter_table(&self, declared: &Table, _live: &rowbase_catalog::Table, changes: &[Change]) -> (String, String) {
        let (forward, backward) = alter_in_place(self, declared, changes);
        (forward.join("\n"), backward.join("\n"))
    }

    /// The audit log (and what the engine needs beside it) with the triggers that refuse UPDATE
    /// and DELETE of it, up and down (see [`crate::audit`]).
    fn audit_log(&self) -> (String, String);

    /// The triggers that log every change of `audited`, up and down (see [`crate::audit`]).
    fn audit_triggers(&self, audited: &Audited<'_>) -> (String, String);
}

/// What a timestamps trigger is written with, quoted for the engine.
pub(crate) struct TimestampsNames {
    /// The trigger (and on PostgreSQL its function): `{table}_updated_at`.
    pub name: String,
    /// The table.
    pub table: String,
    /// `created_at`.
    pub created: String,
    /// `updated_at`.
    pub updated: String,
    /// The engine's `now` default.
    pub now: String,
}

impl TimestampsNames {
    fn of<E: EngineDdl + ?Sized>(e: &E, table: &str) -> TimestampsNames {
        TimestampsNames {
            name: e.quote(&Table::timestamps_trigger(table)),
            table: e.quote(table),
            created: e.quote("created_at"),
            updated: e.quote("updated_at"),
            now: e.now_default(),
        }
    }
}

/// The DDL of `engine`.
pub(crate) fn of(engine: Engine) -> &'static dyn EngineDdl {
    match engine {
        Engine::Sqlite => &sqlite::SqliteDdl,
        Engine::Postgres => &postgres::PostgresDdl,
        Engine::MySql => &mysql::MySqlDdl,
    }
}

/// The SQL-standard spelling of a declared type (SQLite's own; the others change a few).
fn standard_type(t: ColumnType) -> String {
    use ColumnType as C;
    match t {
        C::Varchar(n) => format!("VARCHAR({n})"),
        C::Decimal(p, s) => format!("DECIMAL({p},{s})"),
        C::Text | C::FullText => "TEXT".into(),
        C::Integer | C::Alive => "INTEGER".into(),
        C::BigInt => "BIGINT".into(),
        C::Real => "REAL".into(),
        C::Boolean => "BOOLEAN".into(),
        C::Date => "DATE".into(),
        C::TimestampTz => "TIMESTAMPTZ".into(),
        C::Uuid => "UUID".into(),
        C::Json => "JSON".into(),
        C::Bytes => "BLOB".into(),
    }
}

/// A `fulltext` column's sources as one text: each NULL as empty, joined by spaces.
fn joined_sources<E: EngineDdl + ?Sized>(e: &E, search: &Search) -> String {
    search.sources.iter().map(|s| format!("coalesce({}, '')", e.quote(s))).collect::<Vec<_>>().join(" || ' ' || ")
}

/// `CONSTRAINT name FOREIGN KEY (columns) REFERENCES target (target_columns) ON DELETE .. ON
/// UPDATE ..`, every name quoted here.
fn foreign_key_sql<E: EngineDdl + ?Sized>(
    e: &E,
    name: &str,
    columns: &[String],
    target: &str,
    target_columns: &[String],
    actions: (&str, &str),
) -> String {
    format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
        e.quote(name),
        list(e, columns),
        e.quote(target),
        list(e, target_columns),
        actions.0,
        actions.1
    )
}

/// A column's declared reference as a foreign key constraint named `{table}_{column}_fkey`:
/// the name and the constraint.
fn declared_foreign_key<E: EngineDdl + ?Sized>(e: &E, table: &str, c: &Column) -> Option<(String, String)> {
    let (target, column, on_delete, on_update) = c.references.as_ref()?;
    let name = format!("{table}_{}_fkey", c.name);
    let sql = foreign_key_sql(
        e,
        &name,
        std::slice::from_ref(&c.name),
        target,
        std::slice::from_ref(column),
        (on_delete.sql(), on_update.sql()),
    );
    Some((name, sql))
}

/// A column default as SQL.
fn default_sql<E: EngineDdl + ?Sized>(e: &E, d: &Default) -> String {
    match d {
        Default::Now => e.now_default(),
        Default::Uuid => e.uuid_default(),
        Default::Literal(v) => match v {
            toml::Value::String(s) => e.string_literal(s),
            toml::Value::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            other => other.to_string(),
        },
    }
}

/// A column definition inside CREATE TABLE or ADD COLUMN.
fn column_sql<E: EngineDdl + ?Sized>(e: &E, column: &Column, auto_increment: bool) -> String {
    let name = e.quote(&column.name);
    if auto_increment {
        return e.auto_increment_column(&name, column.column_type);
    }
    let mut sql = format!("{name} {}", e.type_sql(column.column_type));
    let generated = match (&column.search, column.column_type) {
        (Some(search), _) => Some(e.search_expression(search)),
        (None, ColumnType::Alive) => {
            Some(format!("CASE WHEN {} IS NULL THEN 1 END", e.quote(rowbase_catalog::SOFT_DELETE_COLUMN)))
        }
        _ => None,
    };
    if let Some(expression) = generated {
        sql.push_str(&format!(" GENERATED ALWAYS AS ({expression}) {}", e.generated_storage()));
        return sql;
    }
    if column.not_null {
        sql.push_str(" NOT NULL");
    }
    if let Some(d) = &column.default {
        sql.push_str(" DEFAULT ");
        sql.push_str(&default_sql(e, d));
    }
    sql
}

/// CREATE TABLE with the full-text indexes of its `fulltext` columns.
fn create_table<E: EngineDdl + ?Sized>(e: &E, table: &Table) -> String {
    let mut sql = vec![create_table_as(e, table, &table.name)];
    for c in table.columns.iter().filter(|c| c.search.is_some()) {
        sql.extend(e.search_index(&table.name, c).0);
    }
    sql.join("\n")
}

/// CREATE TABLE for `table` under the name `physical` (constraint names stay the table's).
fn create_table_as<E: EngineDdl + ?Sized>(e: &E, table: &Table, physical: &str) -> String {
    let auto = table.auto_increment();
    let mut parts: Vec<String> =
        table.columns.iter().map(|c| column_sql(e, c, auto == Some(c.name.as_str()))).collect();
    if auto.is_none() && !table.primary_key.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", list(e, &table.primary_key)));
    }
    let mut uniques: Vec<Vec<String>> =
        table.columns.iter().filter(|c| c.unique).map(|c| vec![c.name.clone()]).collect();
    uniques.extend(table.unique.iter().cloned());
    for u in uniques {
        let name = format!("{}_{}_key", table.name, u.join("_"));
        parts.push(format!("CONSTRAINT {} UNIQUE ({})", e.quote(&name), list(e, &u)));
    }
    parts.extend(table.columns.iter().filter_map(|c| declared_foreign_key(e, &table.name, c)).map(|(_, sql)| sql));
    for check in &table.checks {
        parts.push(format!("CONSTRAINT {} CHECK ({})", e.quote(&check.name), check.condition.sql(e.engine())));
    }
    format!("CREATE TABLE {} (\n    {}\n);", e.quote(physical), parts.join(",\n    "))
}

/// ADD COLUMN (with a full-text column's index) and its way back.
fn add_column<E: EngineDdl + ?Sized>(e: &E, table: &str, column: &Column) -> (String, String) {
    let (index_up, index_down) =
        if column.search.is_some() { e.search_index(table, column) } else { (Vec::new(), Vec::new()) };
    let mut forward = vec![format!("ALTER TABLE {} ADD COLUMN {};", e.quote(table), column_sql(e, column, false))];
    forward.extend(index_up);
    let mut backward = index_down;
    backward.push(format!("ALTER TABLE {} DROP COLUMN {};", e.quote(table), e.quote(&column.name)));
    (forward.join("\n"), backward.join("\n"))
}

/// CREATE TABLE for a live table (the way back from a drop): columns, key and foreign keys as
/// introspected; defaults and indexes are not restored.
fn recreate_table<E: EngineDdl + ?Sized>(e: &E, table: &rowbase_catalog::Table) -> String {
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !c.generated)
        .map(|c| format!("{} {}{}", e.quote(&c.name), c.declared_type, if c.nullable { "" } else { " NOT NULL" }))
        .collect();
    if !table.primary_key.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", list(e, &table.primary_key)));
    }
    for fk in &table.foreign_keys {
        parts.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            list(e, &fk.columns),
            e.quote(&fk.referenced_table),
            list(e, &fk.referenced_columns)
        ));
    }
    format!("CREATE TABLE {} (\n    {}\n);", e.quote(&table.name), parts.join(",\n    "))
}

/// `names` quoted and separated by commas.
fn list<E: EngineDdl + ?Sized>(e: &E, names: &[String]) -> String {
    names.iter().map(|n| e.quote(n)).collect::<Vec<_>>().join(", ")
}

/// CREATE [UNIQUE] INDEX with `condition` (SQL) as its WHERE clause, if any.
fn plain_index<E: EngineDdl + ?Sized>(e: &E, table: &str, index: &Index, condition: Option<String>) -> String {
    let columns: Vec<String> =
        index.columns.iter().map(|(c, desc)| format!("{}{}", e.quote(c), if *desc { " DESC" } else { "" })).collect();
    format!(
        "CREATE {}INDEX {} ON {} ({}){};",
        if index.unique { "UNIQUE " } else { "" },
        e.quote(&index.name),
        e.quote(table),
        columns.join(", "),
        condition.map(|c| format!(" WHERE {c}")).unwrap_or_default()
    )
}

/// A live index as declared (its condition, which introspection does not give, left out).
fn live_index(i: &rowbase_catalog::Index) -> Index {
    Index { name: i.name.clone(), columns: i.columns.clone(), unique: i.unique, condition: None }
}

/// ALTER TABLE in place (PostgreSQL, MySQL): up and down statements.
fn alter_in_place<E: EngineDdl + ?Sized>(e: &E, table: &Table, changes: &[Change]) -> (Vec<String>, Vec<String>) {
    let t = e.quote(&table.name);
    let (mut up, mut down) = (Vec::new(), Vec::new());
    let mut altered: Vec<String> = Vec::new();
    for change in changes {
        match change {
            Change::ColumnType(..) | Change::Nullability(..) => {
                if let Some((forward, backward)) = e.alter_column(table, &t, change, &mut altered) {
                    up.push(forward);
                    down.push(backward);
                }
            }
            Change::AddCheck(check) => {
                let name = e.quote(&check.name);
                up.push(format!("ALTER TABLE {t} ADD CONSTRAINT {name} CHECK ({});", check.condition.sql(e.engine())));
                down.push(format!("ALTER TABLE {t} DROP CONSTRAINT {name};"));
            }
            Change::AddUnique(columns) => {
                let name = e.quote(&format!("{}_{}_key", table.name, columns.join("_")));
                up.push(format!("ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE ({});", list(e, columns)));
                down.push(e.drop_unique(&t, &name));
            }
            Change::DropUnique(columns) => {
                // Named as Rowbase and PostgreSQL name them by default.
                let name = e.quote(&format!("{}_{}_key", table.name, columns.join("_")));
                up.push(e.drop_unique(&t, &name));
                down.push(format!("ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE ({});", list(e, columns)));
            }
            Change::AddForeignKey(c) => {
                if let Some((name, sql)) = declared_foreign_key(e, &table.name, c) {
                    up.push(format!("ALTER TABLE {t} ADD {sql};"));
                    down.push(e.drop_foreign_key(&t, &name));
                }
            }
            Change::DropForeignKey(fk) => {
                up.push(e.drop_foreign_key(&t, &fk.name));
                let actions = (action_sql(fk.on_delete), action_sql(fk.on_update));
                let sql =
                    foreign_key_sql(e, &fk.name, &fk.columns, &fk.referenced_table, &fk.referenced_columns, actions);
                down.push(format!("ALTER TABLE {t} ADD {sql};"));
            }
            // The ADD COLUMN step adds it in place.
            Change::AddedWithExpressionDefault(_) => {}
            Change::DropCheck(check) => {
                let name = e.quote(&check.name);
                up.push(format!("ALTER TABLE {t} DROP CONSTRAINT {name};"));
                // Restored as the engine reported it (a plan made against another engine
                // has no definition in this engine's SQL).
                down.push(match &check.definition {
                    Some(definition) if check.engine == e.engine() => {
                        format!("ALTER TABLE {t} ADD CONSTRAINT {name} {definition};")
                    }
                    _ => format!("-- the check {name} is not restored: its condition is not known here"),
                });
            }
        }
    }
    down.reverse();
    (up, down)
}

/// What the audit triggers of a declared table need to know of it; `timestamps` whether it
/// keeps `updated_at` by trigger.
fn audited(t: &Table, timestamps: bool) -> Audited<'_> {
    Audited {
        table: &t.name,
        columns: t.columns.iter().map(|c| c.name.as_str()).collect(),
        primary_key: t.primary_key.iter().map(String::as_str).collect(),
        timestamps,
    }
}

/// The up and down SQL of `steps` for `engine`: up in order, down undoing them in reverse.
pub fn render(steps: &[Step], engine: Engine) -> (String, String) {
    let e = of(engine);
    let mut up = Vec::new();
    let mut down = Vec::new();
    // Dropping a table drops its indexes: an index of a table this migration creates needs no way
    // back of its own (and MySQL refuses to drop one that backs a foreign key).
    let created: Vec<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::CreateTable(t) => Some(t.name.as_str()),
            _ => None,
        })
        .collect();
    // Where the engine rebuilds a changed table, the rebuild makes it whole: its new indexes and
    // dropped columns come with it, and the way back restores it as it was (so the steps that ran
    // before the rebuild need no way back of their own).
    let rebuilt: Vec<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::AlterTable(t, ..) if e.rebuilds_tables() => Some(t.name.as_str()),
            _ => None,
        })
        .collect();
    for step in steps {
        if let Step::CreateIndex(t, i) = step {
            if created.contains(&t.as_str()) {
                up.push(e.create_index(t, i));
                continue;
            }
        }
        if step_table(step).is_some_and(|t| rebuilt.contains(&t)) {
            match step {
                // The rebuild makes new columns (with their defaults, full-text indexes too) and
                // leaves out a timestamps trigger no longer declared.
                Step::CreateIndex(..)
                | Step::DropColumn(..)
                | Step::DropSearch(..)
                | Step::AddColumn(..)
                | Step::DropTimestamps(..)
                | Step::DropAudit(..) => continue,
                Step::RenameColumn(..) | Step::DropIndex(..) => {
                    let (forward, _) = render(std::slice::from_ref(step), engine);
                    up.push(forward.trim_end().to_string());
                    continue;
                }
                _ => {}
            }
        }
        let (forward, backward) = match step {
            Step::AlterTable(declared, live, changes) => e.alter_table(declared, live, changes),
            Step::CreateTable(t) => (create_table(e, t), e.drop_created_table(t).join("\n")),
            Step::DropTable(t) => {
                let mut drop: Vec<String> =
                    t.columns.iter().filter_map(|c| c.full_text.as_ref()).flat_map(|i| e.drop_live_search(i)).collect();
                drop.push(format!("DROP TABLE {};", e.quote(&t.name)));
                (drop.join("\n"), recreate_table(e, t))
            }
            Step::AddColumn(t, c) => add_column(e, t, c),
            Step::AddTimestamps(t) => e.timestamps_trigger(&TimestampsNames::of(e, &t.name)),
            Step::CreateAuditLog => e.audit_log(),
            Step::AddAudit(t) => e.audit_triggers(&audited(t, t.timestamps)),
            Step::DropAudit(t) => {
                let timestamps = t.triggers.contains(&Table::timestamps_trigger(&t.name));
                let audited = Audited {
                    table: &t.name,
                    columns: t.columns.iter().map(|c| c.name.as_str()).collect(),
                    primary_key: t.primary_key.iter().map(String::as_str).collect(),
                    timestamps,
                };
                let (forward, backward) = e.audit_triggers(&audited);
                (backward, forward)
            }
            Step::DropTimestamps(t) => {
                let (forward, backward) = e.timestamps_trigger(&TimestampsNames::of(e, t));
                (backward, forward)
            }
            Step::DropSearch(t, c) => {
                let (forward, backward) = add_column(e, t, c);
                (backward, forward)
            }
            Step::DropColumn(t, c) if c.generated => {
                let mut forward = c.full_text.as_ref().map(|i| e.drop_live_search(i)).unwrap_or_default();
                forward.push(format!("ALTER TABLE {} DROP COLUMN {};", e.quote(t), e.quote(&c.name)));
                let backward = format!("-- the generated column {t}.{} is not restored: declare it again", c.name);
                (forward.join("\n"), backward)
            }
            Step::DropColumn(t, c) => (
                format!("ALTER TABLE {} DROP COLUMN {};", e.quote(t), e.quote(&c.name)),
                format!(
                    "ALTER TABLE {} ADD COLUMN {} {}{};",
                    e.quote(t),
                    e.quote(&c.name),
                    c.declared_type,
                    if c.nullable { "" } else { " NOT NULL" }
                ),
            ),
            Step::RenameColumn(t, from, to) => (
                format!("ALTER TABLE {} RENAME COLUMN {} TO {};", e.quote(t), e.quote(from), e.quote(to)),
                format!("ALTER TABLE {} RENAME COLUMN {} TO {};", e.quote(t), e.quote(to), e.quote(from)),
            ),
            Step::CreateIndex(t, i) => (e.create_index(t, i), e.drop_index(t, &i.name)),
            Step::DropIndex(t, i) => (e.drop_index(t, &i.name), e.create_index(t, &live_index(i))),
        };
        up.push(forward);
        down.push(backward);
    }
    down.reverse();
    (up.join("\n\n") + "\n", down.join("\n\n") + "\n")
}

/// The existing table a step changes.
fn step_table(step: &Step) -> Option<&str> {
    match step {
        Step::AddColumn(t, _)
        | Step::DropColumn(t, _)
        | Step::DropSearch(t, _)
        | Step::DropTimestamps(t)
        | Step::RenameColumn(t, ..)
        | Step::CreateIndex(t, _)
        | Step::DropIndex(t, _) => Some(t),
        Step::AlterTable(t, ..) | Step::AddTimestamps(t) | Step::AddAudit(t) => Some(&t.name),
        Step::DropAudit(t) => Some(&t.name),
        Step::CreateAuditLog => None,
        Step::CreateTable(_) | Step::DropTable(_) => None,
    }
}

/// A live referential action as SQL.
fn action_sql(action: rowbase_catalog::ReferentialAction) -> &'static str {
    use rowbase_catalog::ReferentialAction as A;
    match action {
        A::NoAction => "NO ACTION",
        A::Restrict => "RESTRICT",
        A::Cascade => "CASCADE",
        A::SetNull => "SET NULL",
        A::SetDefault => "SET DEFAULT",
    }
}
