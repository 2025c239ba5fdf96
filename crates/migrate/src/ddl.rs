//! Steps as SQL for each engine, up and down. Names are quoted by the engine's dialect; the only
//! other text is fixed SQL and literals from the schema file, quoted as SQL strings.

use rowbase_sql::{Dialect, MySqlDialect, PostgresDialect, SqliteDialect};

use crate::diff::{Change, Step};
use crate::schema::{Column, ColumnType, Default, Index, Table};

/// The engines a migration is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL/MariaDB.
    MySql,
}

impl Engine {
    /// Every engine.
    pub const ALL: [Engine; 3] = [Engine::Sqlite, Engine::Postgres, Engine::MySql];

    /// The file prefix of its scripts (`sqlite.up.sql`).
    pub fn file_name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgresql",
            Engine::MySql => "mysql",
        }
    }

    fn dialect(self) -> &'static dyn Dialect {
        match self {
            Engine::Sqlite => &SqliteDialect,
            Engine::Postgres => &PostgresDialect,
            Engine::MySql => &MySqlDialect,
        }
    }

    /// `name` quoted as an identifier.
    pub(crate) fn quote(self, name: &str) -> String {
        let mut out = String::new();
        self.dialect().quote_ident(&mut out, name);
        out
    }

    /// `text` as an SQL string literal: quotes doubled and, on MySQL (where a backslash escapes
    /// in strings unless `NO_BACKSLASH_ESCAPES` is set), backslashes doubled too.
    pub(crate) fn string_literal(self, text: &str) -> String {
        let escaped = text.replace('\'', "''");
        match self {
            Engine::MySql => format!("'{}'", escaped.replace('\\', "\\\\")),
            _ => format!("'{escaped}'"),
        }
    }

    /// A boolean literal: SQLite stores booleans as 0 and 1.
    pub(crate) fn boolean(self, value: bool) -> &'static str {
        match (self, value) {
            (Engine::Sqlite, true) => "1",
            (Engine::Sqlite, false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    fn type_sql(self, t: ColumnType) -> String {
        use ColumnType as C;
        match (self, t) {
            (_, C::Varchar(n)) => format!("VARCHAR({n})"),
            (_, C::Decimal(p, s)) => format!("DECIMAL({p},{s})"),
            (Engine::MySql, C::Integer) => "INT".into(),
            (Engine::Postgres, C::Real) | (Engine::MySql, C::Real) => "DOUBLE PRECISION".into(),
            (Engine::Postgres, C::Json) => "JSONB".into(),
            (Engine::Postgres, C::Bytes) => "BYTEA".into(),
            (Engine::MySql, C::Bytes) => "LONGBLOB".into(),
            (Engine::MySql, C::TimestampTz) => "DATETIME(6)".into(),
            (_, C::Text) => "TEXT".into(),
            (_, C::Integer) => "INTEGER".into(),
            (_, C::BigInt) => "BIGINT".into(),
            (_, C::Real) => "REAL".into(),
            (_, C::Boolean) => "BOOLEAN".into(),
            (_, C::Date) => "DATE".into(),
            (_, C::TimestampTz) => "TIMESTAMPTZ".into(),
            (_, C::Uuid) => "UUID".into(),
            (_, C::Json) => "JSON".into(),
            (_, C::Bytes) => "BLOB".into(),
            (Engine::Postgres, C::FullText) => "TSVECTOR".into(),
            // Case- and accent-insensitive whatever the table's collation (a binary one would
            // make the search case-sensitive), as on the other engines.
            (Engine::MySql, C::FullText) => "TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci".into(),
            (_, C::FullText) => "TEXT".into(),
            (Engine::Postgres, C::Alive) => "SMALLINT".into(),
            (Engine::MySql, C::Alive) => "TINYINT".into(),
            (_, C::Alive) => "INTEGER".into(),
        }
    }

    fn default_sql(self, d: &Default) -> String {
        match (self, d) {
            // The API's own `now` (a soft delete's deleted_at), parenthesized where SQLite's
            // DEFAULT needs an expression in parentheses.
            (Engine::Sqlite, Default::Now) => format!("({})", self.dialect().now()),
            (_, Default::Now) => self.dialect().now().into(),
            (Engine::Sqlite, Default::Uuid) => "(lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))))".into(),
            (Engine::Postgres, Default::Uuid) => "gen_random_uuid()".into(),
            (Engine::MySql, Default::Uuid) => "(UUID())".into(),
            (_, Default::Literal(v)) => match v {
                toml::Value::String(s) => self.string_literal(s),
                toml::Value::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.into(),
                other => other.to_string(),
            },
        }
    }

    /// A column definition inside CREATE TABLE or ADD COLUMN.
    fn column_sql(self, column: &Column, auto_increment: bool) -> String {
        let name = self.quote(&column.name);
        if auto_increment {
            return match self {
                Engine::Sqlite => format!("{name} INTEGER PRIMARY KEY"),
                Engine::Postgres => {
                    format!("{name} {} GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", self.type_sql(column.column_type))
                }
                Engine::MySql => {
                    format!("{name} {} NOT NULL AUTO_INCREMENT PRIMARY KEY", self.type_sql(column.column_type))
                }
            };
        }
        let mut sql = format!("{name} {}", self.type_sql(column.column_type));
        let generated = match (&column.search, column.column_type) {
            (Some(search), _) => Some(self.search_expression(search)),
            (None, ColumnType::Alive) => {
                Some(format!("CASE WHEN {} IS NULL THEN 1 END", self.quote(rowbase_catalog::SOFT_DELETE_COLUMN)))
            }
            _ => None,
        };
        if let Some(expression) = generated {
            sql.push_str(&format!(" GENERATED ALWAYS AS ({expression})"));
            // SQLite can add only a VIRTUAL generated column to an existing table (and FTS5
            // reads it through the table); the others store it so it can be indexed.
            sql.push_str(if self == Engine::Sqlite { " VIRTUAL" } else { " STORED" });
            return sql;
        }
        if column.not_null {
            sql.push_str(" NOT NULL");
        }
        if let Some(d) = &column.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(&self.default_sql(d));
        }
        sql
    }

    /// CREATE TABLE with the full-text indexes of its `fulltext` columns.
    fn create_table(self, table: &Table) -> String {
        let mut sql = vec![self.create_table_as(table, &table.name)];
        for c in table.columns.iter().filter(|c| c.search.is_some()) {
            sql.extend(self.search_index(&table.name, c).0);
        }
        sql.join("\n")
    }

    /// The expression a `fulltext` column is generated from: its sources joined by spaces, NULL
    /// as empty; on PostgreSQL as a tsvector of the declared configuration.
    fn search_expression(self, search: &crate::schema::Search) -> String {
        let sources: Vec<String> = search.sources.iter().map(|s| self.quote(s)).collect();
        match self {
            Engine::MySql => format!("concat_ws(' ', {})", sources.join(", ")),
            _ => {
                let text = sources.iter().map(|s| format!("coalesce({s}, '')")).collect::<Vec<_>>().join(" || ' ' || ");
                if self == Engine::Postgres {
                    format!("to_tsvector({}::regconfig, {text})", self.string_literal(&search.language))
                } else {
                    text
                }
            }
        }
    }

    /// The full-text index of `column` of `table`, up and down: a GIN index (PostgreSQL), a
    /// FULLTEXT index (MySQL), or on SQLite an external-content FTS5 table named
    /// `{table}_{column}_fts` kept in step by three triggers (sqlite.org/fts5.html, "External
    /// Content Tables") and filled from the rows already there.
    fn search_index(self, table: &str, column: &Column) -> (Vec<String>, Vec<String>) {
        let language = column.search.as_ref().map_or("simple", |s| s.language.as_str());
        let column = column.name.as_str();
        let (t, c) = (self.quote(table), self.quote(column));
        let index = self.quote(&format!("{table}_{column}_idx"));
        match self {
            Engine::Postgres => {
                (vec![format!("CREATE INDEX {index} ON {t} USING gin ({c});")], vec![format!("DROP INDEX {index};")])
            }
            Engine::MySql => (
                vec![format!("CREATE FULLTEXT INDEX {index} ON {t} ({c});")],
                vec![format!("DROP INDEX {index} ON {t};")],
            ),
            Engine::Sqlite => {
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
        }
    }

    /// CREATE TABLE for `table` under the name `physical` (constraint names stay the table's).
    fn create_table_as(self, table: &Table, physical: &str) -> String {
        let auto = table.auto_increment();
        let mut parts: Vec<String> =
            table.columns.iter().map(|c| self.column_sql(c, auto == Some(c.name.as_str()))).collect();
        if auto.is_none() && !table.primary_key.is_empty() {
            parts.push(format!("PRIMARY KEY ({})", self.list(&table.primary_key)));
        }
        let mut uniques: Vec<Vec<String>> =
            table.columns.iter().filter(|c| c.unique).map(|c| vec![c.name.clone()]).collect();
        uniques.extend(table.unique.iter().cloned());
        for u in uniques {
            let name = format!("{}_{}_key", table.name, u.join("_"));
            parts.push(format!("CONSTRAINT {} UNIQUE ({})", self.quote(&name), self.list(&u)));
        }
        for c in &table.columns {
            if let Some((target, column, on_delete, on_update)) = &c.references {
                let name = format!("{}_{}_fkey", table.name, c.name);
                parts.push(format!(
                    "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
                    self.quote(&name),
                    self.quote(&c.name),
                    self.quote(target),
                    self.quote(column),
                    on_delete.sql(),
                    on_update.sql()
                ));
            }
        }
        for check in &table.checks {
            parts.push(format!("CONSTRAINT {} CHECK ({})", self.quote(&check.name), check.condition.sql(self)));
        }
        format!("CREATE TABLE {} (\n    {}\n);", self.quote(physical), parts.join(",\n    "))
    }

    /// The trigger that sets `updated_at` to the time of every update and keeps `created_at`
    /// as it was, named `{table}_updated_at`, up and down. PostgreSQL and MySQL change the row
    /// before it is written (a BEFORE trigger; on PostgreSQL a function of the same name);
    /// SQLite's triggers cannot change NEW, so its AFTER trigger updates the row once more
    /// (recursive triggers are off: it does not fire itself).
    fn timestamps_trigger(self, table: &str) -> (String, String) {
        let name = self.quote(&Table::timestamps_trigger(table));
        let t = self.quote(table);
        let (created, updated) = (self.quote("created_at"), self.quote("updated_at"));
        let now = self.default_sql(&Default::Now);
        match self {
            Engine::Postgres => (
                format!(
                    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $rowbase$\nBEGIN\n  NEW.{updated} := {now};\n  NEW.{created} := OLD.{created};\n  RETURN NEW;\nEND\n$rowbase$;\nCREATE TRIGGER {name} BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION {name}();"
                ),
                format!("DROP TRIGGER {name} ON {t};\nDROP FUNCTION {name}();"),
            ),
            Engine::MySql => (
                format!(
                    "CREATE TRIGGER {name} BEFORE UPDATE ON {t} FOR EACH ROW SET NEW.{updated} = {now}, NEW.{created} = OLD.{created};"
                ),
                format!("DROP TRIGGER {name};"),
            ),
            Engine::Sqlite => (
                format!(
                    "CREATE TRIGGER {name} AFTER UPDATE ON {t} FOR EACH ROW BEGIN UPDATE {t} SET {updated} = {now}, {created} = OLD.{created} WHERE rowid = NEW.rowid; END;"
                ),
                format!("DROP TRIGGER {name};"),
            ),
        }
    }

    /// ADD COLUMN (with a full-text column's index) and its way back.
    fn add_column(self, table: &str, column: &Column) -> (String, String) {
        let (index_up, index_down) =
            if column.search.is_some() { self.search_index(table, column) } else { (Vec::new(), Vec::new()) };
        let mut forward =
            vec![format!("ALTER TABLE {} ADD COLUMN {};", self.quote(table), self.column_sql(column, false))];
        forward.extend(index_up);
        let mut backward = index_down;
        backward.push(format!("ALTER TABLE {} DROP COLUMN {};", self.quote(table), self.quote(&column.name)));
        (forward.join("\n"), backward.join("\n"))
    }

    /// Drops the FTS5 table `name` that indexes a live column, and its triggers (SQLite).
    fn drop_fts5(self, name: &str) -> Vec<String> {
        let mut sql: Vec<String> = ["insert", "delete", "update"]
            .iter()
            .map(|suffix| format!("DROP TRIGGER IF EXISTS {};", self.quote(&format!("{name}_{suffix}"))))
            .collect();
        sql.push(format!("DROP TABLE IF EXISTS {};", self.quote(name)));
        sql
    }

    /// CREATE TABLE for a live table (the way back from a drop): columns, key and foreign keys as
    /// introspected; defaults and indexes are not restored.
    fn recreate_table(self, table: &rowbase_catalog::Table) -> String {
        let mut parts: Vec<String> = table
            .columns
            .iter()
            .filter(|c| !c.generated)
            .map(|c| {
                format!("{} {}{}", self.quote(&c.name), c.declared_type, if c.nullable { "" } else { " NOT NULL" })
            })
            .collect();
        if !table.primary_key.is_empty() {
            parts.push(format!("PRIMARY KEY ({})", self.list(&table.primary_key)));
        }
        for fk in &table.foreign_keys {
            parts.push(format!(
                "FOREIGN KEY ({}) REFERENCES {} ({})",
                self.list(&fk.columns),
                self.quote(&fk.referenced_table),
                self.list(&fk.referenced_columns)
            ));
        }
        format!("CREATE TABLE {} (\n    {}\n);", self.quote(&table.name), parts.join(",\n    "))
    }

    fn list(self, names: &[String]) -> String {
        names.iter().map(|n| self.quote(n)).collect::<Vec<_>>().join(", ")
    }

    fn create_index(self, table: &str, index: &Index) -> String {
        let columns: Vec<String> = index
            .columns
            .iter()
            .map(|(c, desc)| format!("{}{}", self.quote(c), if *desc { " DESC" } else { "" }))
            .collect();
        // MySQL has no partial indexes: there the index covers every row (it is never unique,
        // which the schema file enforces), so it serves the same queries at a larger size.
        let condition = match (&index.condition, self) {
            (Some(c), Engine::Sqlite | Engine::Postgres) => format!(" WHERE {}", c.sql(self)),
            (Some(_), Engine::MySql) => {
                return format!(
                    "-- MySQL has no partial indexes: this one covers every row.\n{}",
                    self.create_index(table, &Index { condition: None, ..index.clone() })
                );
            }
            (None, _) => String::new(),
        };
        format!(
            "CREATE {}INDEX {} ON {} ({}){condition};",
            if index.unique { "UNIQUE " } else { "" },
            self.quote(&index.name),
            self.quote(table),
            columns.join(", ")
        )
    }

    fn drop_index(self, table: &str, name: &str) -> String {
        match self {
            Engine::MySql => format!("DROP INDEX {} ON {};", self.quote(name), self.quote(table)),
            _ => format!("DROP INDEX {};", self.quote(name)),
        }
    }
}

impl Engine {
    /// ALTER TABLE in place (PostgreSQL, MySQL): up and down statements.
    fn alter_in_place(self, table: &Table, changes: &[Change]) -> (Vec<String>, Vec<String>) {
        let t = self.quote(&table.name);
        let (mut up, mut down) = (Vec::new(), Vec::new());
        let mut modified: Vec<&str> = Vec::new();
        for change in changes {
            match (self, change) {
                (Engine::MySql, Change::ColumnType(c, live) | Change::Nullability(c, live)) => {
                    // MODIFY restates the whole column: once per column, whatever changed.
                    if modified.contains(&c.name.as_str()) {
                        continue;
                    }
                    modified.push(&c.name);
                    // MODIFY restates the column: an auto-increment key keeps AUTO_INCREMENT.
                    let auto = if table.auto_increment() == Some(c.name.as_str()) { " AUTO_INCREMENT" } else { "" };
                    up.push(format!("ALTER TABLE {t} MODIFY COLUMN {}{auto};", self.column_sql(c, false)));
                    down.push(format!(
                        "ALTER TABLE {t} MODIFY COLUMN {} {}{}{auto}; -- its default, if it had one, is not restored",
                        self.quote(&c.name),
                        live.declared_type,
                        if live.nullable { "" } else { " NOT NULL" }
                    ));
                }
                (_, Change::ColumnType(c, live)) => {
                    let name = self.quote(&c.name);
                    let to = self.type_sql(c.column_type);
                    up.push(format!("ALTER TABLE {t} ALTER COLUMN {name} TYPE {to} USING {name}::{to};"));
                    let back = &live.declared_type;
                    down.push(format!("ALTER TABLE {t} ALTER COLUMN {name} TYPE {back} USING {name}::{back};"));
                }
                (_, Change::Nullability(c, _)) => {
                    let name = self.quote(&c.name);
                    let (set, unset) = if c.not_null { ("SET", "DROP") } else { ("DROP", "SET") };
                    up.push(format!("ALTER TABLE {t} ALTER COLUMN {name} {set} NOT NULL;"));
                    down.push(format!("ALTER TABLE {t} ALTER COLUMN {name} {unset} NOT NULL;"));
                }
                (_, Change::AddCheck(check)) => {
                    let name = self.quote(&check.name);
                    up.push(format!("ALTER TABLE {t} ADD CONSTRAINT {name} CHECK ({});", check.condition.sql(self)));
                    down.push(format!("ALTER TABLE {t} DROP CONSTRAINT {name};"));
                }
                (_, Change::AddUnique(columns)) => {
                    let name = self.quote(&format!("{}_{}_key", table.name, columns.join("_")));
                    up.push(format!("ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE ({});", self.list(columns)));
                    down.push(self.drop_unique(&t, &name));
                }
                (_, Change::DropUnique(columns)) => {
                    // Named as Rowbase and PostgreSQL name them by default.
                    let name = self.quote(&format!("{}_{}_key", table.name, columns.join("_")));
                    up.push(self.drop_unique(&t, &name));
                    down.push(format!("ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE ({});", self.list(columns)));
                }
                (_, Change::AddForeignKey(c)) => {
                    let name = format!("{}_{}_fkey", table.name, c.name);
                    if let Some((target, column, on_delete, on_update)) = &c.references {
                        up.push(format!(
                            "ALTER TABLE {t} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {};",
                            self.quote(&name),
                            self.quote(&c.name),
                            self.quote(target),
                            self.quote(column),
                            on_delete.sql(),
                            on_update.sql()
                        ));
                        down.push(self.drop_foreign_key(&t, &name));
                    }
                }
                (_, Change::DropForeignKey(fk)) => {
                    up.push(self.drop_foreign_key(&t, &fk.name));
                    down.push(format!(
                        "ALTER TABLE {t} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {};",
                        self.quote(&fk.name),
                        self.list(&fk.columns),
                        self.quote(&fk.referenced_table),
                        self.list(&fk.referenced_columns),
                        action_sql(fk.on_delete),
                        action_sql(fk.on_update)
                    ));
                }
                // The ADD COLUMN step adds it in place.
                (_, Change::AddedWithExpressionDefault(_)) => {}
                (_, Change::DropCheck(check)) => {
                    let name = self.quote(&check.name);
                    up.push(format!("ALTER TABLE {t} DROP CONSTRAINT {name};"));
                    // Restored as the engine reported it (a plan made against another engine
                    // has no definition in this engine's SQL).
                    down.push(match &check.definition {
                        Some(definition) if check.engine == self.file_name() => {
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

    /// Drops the unique constraint `name` (quoted) of `table` (quoted).
    fn drop_unique(self, table: &str, name: &str) -> String {
        match self {
            Engine::MySql => format!("ALTER TABLE {table} DROP INDEX {name};"),
            _ => format!("ALTER TABLE {table} DROP CONSTRAINT {name};"),
        }
    }

    /// Drops the foreign key `name` of `table` (quoted).
    fn drop_foreign_key(self, table: &str, name: &str) -> String {
        match self {
            Engine::MySql => format!("ALTER TABLE {table} DROP FOREIGN KEY {};", self.quote(name)),
            _ => format!("ALTER TABLE {table} DROP CONSTRAINT {};", self.quote(name)),
        }
    }

    /// SQLite's table rebuild (sqlite.org/lang_altertable.html#otheralter, "Making Other Kinds
    /// Of Table Schema Changes"): a new table as declared, the rows copied, the old table
    /// dropped, the new one renamed, then its indexes and the old table's triggers recreated.
    /// Migrations run with foreign keys off and checked afterwards, as the procedure requires.
    /// The way back rebuilds the table from its stored `CREATE TABLE` when the plan was made
    /// against SQLite, else from the introspected catalog.
    fn rebuild(self, declared: &Table, live: &rowbase_catalog::Table) -> (String, String) {
        let t = self.quote(&declared.name);
        let new = self.quote(&format!("_rowbase_new_{}", declared.name));
        let old = self.quote(&format!("_rowbase_old_{}", declared.name));
        // The rows of the columns there before (renamed ones are renamed first); new columns
        // take their defaults, generated ones are computed.
        let existed = |c: &&Column| {
            live.column(&c.name).is_some() || c.renamed_from.as_deref().is_some_and(|old| live.column(old).is_some())
        };
        let columns = self.list(
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
            .filter(|sql| !dropped_fts.iter().any(|f| sql.contains(&self.quote(f))))
            .filter(|sql| declared.timestamps || !sql.contains(&self.quote(&timestamps_trigger)))
            // Audit triggers list the columns: the diff adds them again after the rebuild.
            .filter(|sql| {
                !["_audit_insert", "_audit_update", "_audit_delete"]
                    .iter()
                    .any(|s| sql.contains(&self.quote(&format!("{}{s}", declared.name))))
            })
            .map(|sql| format!("{sql};"))
            .collect();
        let mut up = vec![
            format!("-- Rebuild {t}: SQLite cannot make these changes with ALTER TABLE."),
            self.create_table_as(declared, &format!("_rowbase_new_{}", declared.name)),
            format!("INSERT INTO {new} ({columns}) SELECT {columns} FROM {t};"),
            format!("DROP TABLE {t};"),
            format!("ALTER TABLE {new} RENAME TO {t};"),
        ];
        up.extend(declared.indexes.iter().map(|i| self.create_index(&declared.name, i)));
        up.extend(triggers);
        let mut new_fts = Vec::new();
        for c in declared.columns.iter().filter(|c| c.search.is_some()) {
            match live_fts.iter().find(|(name, _)| *name == c.name) {
                Some((_, fts)) => up.push(format!("INSERT INTO {0}({0}) VALUES ('rebuild');", self.quote(fts))),
                None => {
                    let (forward, backward) = self.search_index(&declared.name, c);
                    up.extend(forward);
                    new_fts.extend(backward);
                }
            }
        }
        for fts in &dropped_fts {
            up.extend(self.drop_fts5(fts));
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
                to.push(self.quote(&c.name));
                from.push(self.quote(&source.name));
            }
        }
        let stored = live.definition.as_ref().and_then(|d| {
            let open = d.table.find('(')?;
            // Only when the name before the column list cannot itself hold a parenthesis.
            (!live.name.contains('('))
                .then(|| (format!("CREATE TABLE {old} {};", &d.table[open..]), d.dependents.clone()))
        });
        let (create, dependents): (String, Vec<String>) = match stored {
            Some((create, dependents)) => (create, dependents.into_iter().map(|sql| format!("{sql};")).collect()),
            None => {
                let renamed = rowbase_catalog::Table { name: format!("_rowbase_old_{}", live.name), ..live.clone() };
                let indexes = live
                    .indexes
                    .iter()
                    .map(|i| {
                        self.create_index(
                            &live.name,
                            &Index {
                                name: i.name.clone(),
                                columns: i.columns.clone(),
                                unique: i.unique,
                                condition: None,
                            },
                        )
                    })
                    .collect();
                (self.recreate_table(&renamed), indexes)
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
                down.push(format!("INSERT INTO {0}({0}) VALUES ('rebuild');", self.quote(fts)));
            } else {
                down.push(format!("-- the full-text index {fts} of {column} is not restored: declare it again"));
            }
        }
        (up.join("\n"), down.join("\n"))
    }
}

/// The up and down SQL of `steps` for `engine`: up in order, down undoing them in reverse.
pub fn render(steps: &[Step], engine: Engine) -> (String, String) {
    let e = engine;
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
    // On SQLite a rebuilt table is made whole by its rebuild: its new indexes and dropped
    // columns come with it, and the way back restores it as it was (so the steps that ran before
    // the rebuild need no way back of their own).
    let rebuilt: Vec<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::AlterTable(t, ..) if engine == Engine::Sqlite => Some(t.name.as_str()),
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
            Step::AlterTable(declared, live, _) if engine == Engine::Sqlite => e.rebuild(declared, live),
            Step::AlterTable(declared, _, changes) => {
                let (forward, backward) = e.alter_in_place(declared, changes);
                (forward.join("\n"), backward.join("\n"))
            }
            Step::CreateTable(t) => {
                let mut drop: Vec<String> = Vec::new();
                if engine == Engine::Sqlite {
                    // The FTS5 tables are tables of their own.
                    for c in t.columns.iter().filter(|c| c.search.is_some()) {
                        drop.extend(e.search_index(&t.name, c).1);
                    }
                }
                drop.push(format!("DROP TABLE {};", e.quote(&t.name)));
                (e.create_table(t), drop.join("\n"))
            }
            Step::DropTable(t) => {
                let mut drop = fts5_tables(t).flat_map(|f| e.drop_fts5(f)).collect::<Vec<_>>();
                drop.push(format!("DROP TABLE {};", e.quote(&t.name)));
                (drop.join("\n"), e.recreate_table(t))
            }
            Step::AddColumn(t, c) => e.add_column(t, c),
            Step::AddTimestamps(t) => e.timestamps_trigger(&t.name),
            Step::CreateAuditLog => crate::audit::log(e),
            Step::AddAudit(t) => crate::audit::triggers(
                e,
                &crate::audit::Audited {
                    table: &t.name,
                    columns: t.columns.iter().map(|c| c.name.as_str()).collect(),
                    primary_key: t.primary_key.iter().map(String::as_str).collect(),
                    timestamps: t.timestamps,
                },
            ),
            Step::DropAudit(t) => {
                let (forward, backward) = crate::audit::triggers(
                    e,
                    &crate::audit::Audited {
                        table: &t.name,
                        columns: t.columns.iter().map(|c| c.name.as_str()).collect(),
                        primary_key: t.primary_key.iter().map(String::as_str).collect(),
                        timestamps: t.triggers.contains(&Table::timestamps_trigger(&t.name)),
                    },
                );
                (backward, forward)
            }
            Step::DropTimestamps(t) => {
                let (forward, backward) = e.timestamps_trigger(t);
                (backward, forward)
            }
            Step::DropSearch(t, c) => {
                let (forward, backward) = e.add_column(t, c);
                (backward, forward)
            }
            Step::DropColumn(t, c) if c.generated => {
                let mut forward = match &c.full_text {
                    Some(rowbase_catalog::FullTextIndex::Fts5(f)) => e.drop_fts5(f),
                    _ => Vec::new(),
                };
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
            Step::DropIndex(t, i) => (
                e.drop_index(t, &i.name),
                e.create_index(
                    t,
                    &Index { name: i.name.clone(), columns: i.columns.clone(), unique: i.unique, condition: None },
                ),
            ),
        };
        up.push(forward);
        down.push(backward);
    }
    down.reverse();
    (up.join("\n\n") + "\n", down.join("\n\n") + "\n")
}

/// The FTS5 tables indexing columns of a live table (SQLite).
fn fts5_tables(table: &rowbase_catalog::Table) -> impl Iterator<Item = &str> {
    table.columns.iter().filter_map(|c| match &c.full_text {
        Some(rowbase_catalog::FullTextIndex::Fts5(name)) => Some(name.as_str()),
        _ => None,
    })
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
