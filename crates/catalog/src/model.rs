//! Tables, views, columns, keys.

use std::collections::HashMap;

use crate::name::Name;
use crate::relationship::{Relationship, derive_relationships};

/// The engine-neutral type of a column. Each engine's introspection maps its declared types here
/// (SQLite by the declared type name, following its type-affinity rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// 64-bit signed integer.
    Integer,
    /// Binary floating point.
    Real,
    /// Exact decimal; never carried through `f64`.
    Decimal,
    /// Text of any length.
    Text,
    /// True/false.
    Boolean,
    /// Calendar date.
    Date,
    /// Date and time without time zone.
    Timestamp,
    /// Date and time with time zone.
    TimestampTz,
    /// Time of day.
    Time,
    /// UUID.
    Uuid,
    /// JSON document.
    Json,
    /// Raw bytes.
    Bytes,
    /// A type Rowbase does not model; treated as text.
    Other,
    /// An array (PostgreSQL's `text[]`, `integer[]`): written as a JSON array, read as one.
    Array,
    /// No declared type at all: a SQLite column declared without one, such as a view's computed
    /// column (`SUM(amount) AS total`). It holds whatever the expression gives and compares as
    /// stored, so a filter value that reads as a number is bound as one (SQLite's NUMERIC
    /// affinity rule), else as text.
    Untyped,
}

impl DataType {
    /// The OpenAPI / JSON Schema `(type, format)` for this column type.
    pub fn json_schema(self) -> (&'static str, Option<&'static str>) {
        match self {
            DataType::Integer => ("integer", Some("int64")),
            DataType::Real => ("number", Some("double")),
            DataType::Decimal => ("number", None),
            DataType::Boolean => ("boolean", None),
            DataType::Date => ("string", Some("date")),
            DataType::Timestamp | DataType::TimestampTz => ("string", Some("date-time")),
            DataType::Time => ("string", Some("time")),
            DataType::Uuid => ("string", Some("uuid")),
            DataType::Json => ("object", None),
            DataType::Array => ("array", None),
            DataType::Bytes => ("string", Some("byte")),
            DataType::Text | DataType::Other | DataType::Untyped => ("string", None),
        }
    }
}

/// A column of a table or view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The name, exactly as the engine stores it (case preserved); shared with the plans that
    /// read it.
    pub name: Name,
    /// The neutral type.
    pub data_type: DataType,
    /// The type as declared in the engine (`NVARCHAR(160)`), for documentation.
    pub declared_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The default expression as the engine reports it, if any.
    pub default: Option<String>,
    /// For character types declared with a length (`VARCHAR(160)`), that length in characters.
    pub max_length: Option<u32>,
    /// Whether the engine computes the column (`GENERATED ALWAYS AS`): it is read, never written.
    pub generated: bool,
    /// Whether the engine assigns a value when a row gives none, without a declared default:
    /// SQLite's `INTEGER PRIMARY KEY` (the rowid), MySQL's `AUTO_INCREMENT`, PostgreSQL's
    /// identity columns. Such a column need not be sent.
    pub auto_increment: bool,
    /// How the column is indexed for full-text search, when it is: the `fts`, `plfts`, `phfts`
    /// and `wfts` operators use it.
    pub full_text: Option<FullTextIndex>,
}

/// A column's full-text index, per engine (docs/schema.md, "Full-text search").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FullTextIndex {
    /// PostgreSQL: the column is a `tsvector` (matched with `@@` directly).
    TsVector,
    /// SQLite: the FTS5 table of this name indexes the column, with the table's `rowid` as its
    /// own (an external-content table kept in step by triggers).
    Fts5(String),
    /// MySQL/MariaDB: a `FULLTEXT` index covers exactly this column (`MATCH ... AGAINST`).
    Fulltext,
}

/// A table or a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// A base table.
    Table,
    /// A view.
    View,
}

/// An action of a foreign key on delete or update of the referenced row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferentialAction {
    /// `NO ACTION`.
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

/// A foreign key of the table that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint name. Engines without names (SQLite) get PostgreSQL's default spelling,
    /// `{table}_{col1}_{col2}_fkey`, so hints written for PostgreSQL work.
    pub name: String,
    /// The referencing columns in this table, in key order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub referenced_table: String,
    /// The referenced columns, paired with `columns`.
    pub referenced_columns: Vec<String>,
    /// `ON DELETE`.
    pub on_delete: ReferentialAction,
    /// `ON UPDATE`.
    pub on_update: ReferentialAction,
}

/// A table or view with its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The schema (`public` on engines without schemas).
    pub schema: String,
    /// The name, case preserved.
    pub name: String,
    /// Table or view.
    pub kind: TableKind,
    /// Columns in declaration order.
    pub columns: Vec<Column>,
    /// Primary-key columns in key order; empty when there is none.
    pub primary_key: Vec<String>,
    /// Each unique constraint or unique index (not partial), as its columns.
    pub unique_keys: Vec<Vec<String>>,
    /// The keys of `unique_keys` that only a unique index enforces, with no unique constraint
    /// (PostgreSQL's and SQLite's `CREATE UNIQUE INDEX`; MySQL does not tell the two apart).
    /// They serve upserts, but do not make a relationship one-to-one: PostgREST detects
    /// one-to-one from a primary key or a unique constraint only (API reference, "Resource
    /// Embedding", one-to-one relationships).
    pub unique_indexes: Vec<Vec<String>>,
    /// Foreign keys held by this table.
    pub foreign_keys: Vec<ForeignKey>,
    /// Secondary indexes (not the primary key's), by name.
    pub indexes: Vec<Index>,
    /// Its named CHECK constraints.
    pub checks: Vec<CheckConstraint>,
    /// The names of its triggers, sorted.
    pub triggers: Vec<String>,
    /// The names of its row-level security policies, sorted (PostgreSQL; empty elsewhere).
    pub policies: Vec<String>,
    /// SQLite only: the table's `CREATE TABLE` statement as stored in `sqlite_schema`, and the
    /// `CREATE INDEX`/`CREATE TRIGGER` statements tied to it (indexes first). Migrations use them
    /// to rebuild a table exactly as it was.
    pub definition: Option<SqliteDefinition>,
    /// Which writes the relation takes: every one for a table; for a view, those the engine
    /// can carry to its base table (an automatically updatable view) or an `INSTEAD OF`
    /// trigger handles, as PostgREST decides its `OPTIONS` (API reference, "OPTIONS method").
    pub writable: Writable,
}

/// Gives each view without a primary key the key of a base table whose every key column it
/// shows under the same name (`origins` lists, per view, the base-table columns it selects:
/// `(view, table, column)`), so a view writes through as PostgREST writes one, by the key of
/// its base table. A view that shows no base table's whole key gets none and is not written
/// by `PATCH`/`DELETE`.
pub fn derive_view_keys(tables: &mut [Table], origins: &[(String, String, String)]) {
    let keys: Vec<(String, Vec<String>)> = tables
        .iter()
        .filter(|t| t.kind == TableKind::Table && !t.primary_key.is_empty())
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for view in tables.iter_mut().filter(|t| t.kind == TableKind::View && t.primary_key.is_empty()) {
        let shows = |table: &str, column: &str| {
            origins.iter().any(|(v, t, c)| *v == view.name && t == table && c == column)
                && view.columns.iter().any(|vc| vc.name == column)
        };
        if let Some((_, key)) = keys.iter().find(|(table, key)| key.iter().all(|k| shows(table, k))) {
            view.primary_key = key.clone();
        }
    }
}

/// The writes a table or view takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writable {
    /// `INSERT` (`POST`, and half of `PUT`).
    pub insert: bool,
    /// `UPDATE` (`PATCH`, soft deletes, the other half of `PUT`).
    pub update: bool,
    /// `DELETE`.
    pub delete: bool,
}

impl Writable {
    /// Every write (a table).
    pub const ALL: Writable = Writable { insert: true, update: true, delete: true };
    /// No write (a view nothing makes writable).
    pub const NONE: Writable = Writable { insert: false, update: false, delete: false };
}

/// A CHECK constraint of a live table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckConstraint {
    /// Its name.
    pub name: String,
    /// `CHECK (...)` in the engine's own SQL, as the engine reports it (PostgreSQL's
    /// `pg_get_constraintdef`, MySQL's `CHECK_CLAUSE`); `None` on SQLite, which keeps it only
    /// inside the table's `CREATE TABLE`.
    pub definition: Option<String>,
    /// The engine whose SQL `definition` is.
    pub engine: crate::Engine,
}

/// A SQLite table's stored statements (see [`Table::definition`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteDefinition {
    /// `CREATE TABLE ...`.
    pub table: String,
    /// `CREATE INDEX ...` (explicit indexes only) then `CREATE TRIGGER ...`.
    pub dependents: Vec<String>,
}

/// A secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns in order, each with `true` when descending.
    pub columns: Vec<(String, bool)>,
    /// Whether it enforces uniqueness.
    pub unique: bool,
}

/// The column that marks a row deleted in a soft-delete table.
pub const SOFT_DELETE_COLUMN: &str = "deleted_at";

/// The generated column of a soft-delete table that is 1 while the row is live and NULL once it
/// is deleted: unique keys include it, so a deleted row does not block a new one (NULLs are
/// distinct in unique keys on every engine).
pub const ALIVE_COLUMN: &str = "rowbase_alive";

/// The audit log the triggers of audited tables write (docs/schema.md, "Audit").
pub const AUDIT_LOG: &str = "rowbase_audit";

/// SQLite's per-transaction audit context (who is writing), never served.
pub const AUDIT_CONTEXT: &str = "rowbase_audit_context";

/// Whether `trigger` is one of the audit triggers Rowbase makes for `table`: `{table}_audit` on
/// PostgreSQL, `{table}_audit_insert`, `_update`, `_delete` elsewhere.
pub fn is_audit_trigger(table: &str, trigger: &str) -> bool {
    trigger
        .strip_prefix(table)
        .is_some_and(|rest| matches!(rest, "_audit" | "_audit_insert" | "_audit_update" | "_audit_delete"))
}

/// Tables Rowbase manages but serves (read-only by their own triggers): the audit log. Never
/// diffed against a schema file.
pub fn is_managed(table: &str) -> bool {
    table == AUDIT_LOG
}

/// Tables Rowbase keeps for itself (the migration ledger, SQLite's audit context, the users,
/// sessions and refresh tokens of `rowbase_auth_*` on SQLite and MySQL): never served, never
/// diffed.
pub fn is_internal(table: &str) -> bool {
    table == "rowbase_migrations" || table == AUDIT_CONTEXT || table.starts_with("rowbase_auth_")
}

impl Table {
    /// The column named exactly `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The soft-delete column, when the table has one: a nullable timestamp named `deleted_at`
    /// (what `soft_delete = true` declares; docs/schema.md, "Soft delete").
    pub fn soft_delete_column(&self) -> Option<&Column> {
        self.column(SOFT_DELETE_COLUMN).filter(|c| {
            self.kind == TableKind::Table
                && c.nullable
                && matches!(c.data_type, DataType::Timestamp | DataType::TimestampTz | DataType::Text)
        })
    }

    /// Whether its changes are logged into the audit log (it has Rowbase's audit triggers).
    pub fn is_audited(&self) -> bool {
        self.triggers.iter().any(|t| is_audit_trigger(&self.name, t))
    }

    /// Whether `columns` (in any order) are exactly the primary key or a unique key.
    pub fn is_unique(&self, columns: &[String]) -> bool {
        let same =
            |key: &[String]| !key.is_empty() && key.len() == columns.len() && key.iter().all(|k| columns.contains(k));
        same(&self.primary_key) || self.unique_keys.iter().any(|k| same(k))
    }

    /// The foreign keys whose columns lead no index (nor the primary key or a unique key): an
    /// embedding or a delete through such a key makes the engine scan the whole table for
    /// each parent row. Engines that index every foreign key themselves (InnoDB) never have any.
    pub fn unindexed_foreign_keys(&self) -> Vec<&ForeignKey> {
        let leads =
            |key: &[String], fk: &[String]| key.len() >= fk.len() && fk.iter().all(|c| key[..fk.len()].contains(c));
        self.foreign_keys
            .iter()
            .filter(|fk| {
                let indexed = leads(&self.primary_key, &fk.columns)
                    || self.unique_keys.iter().any(|k| leads(k, &fk.columns))
                    || self.indexes.iter().any(|i| {
                        let columns: Vec<String> = i.columns.iter().map(|(c, _)| c.clone()).collect();
                        leads(&columns, &fk.columns)
                    });
                !indexed
            })
            .collect()
    }

    /// Whether `columns` (in any order) are exactly the primary key or a unique constraint's
    /// (not a key only a unique index enforces): what makes a relationship one-to-one.
    pub fn is_unique_constraint(&self, columns: &[String]) -> bool {
        let same =
            |key: &[String]| !key.is_empty() && key.len() == columns.len() && key.iter().all(|k| columns.contains(k));
        same(&self.primary_key)
            || self.unique_keys.iter().any(|k| same(k) && !self.unique_indexes.iter().any(|i| i == k))
    }
}

/// The whole model: tables by name and the relationships between them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: Vec<Table>,
    by_name: HashMap<String, usize>,
    relationships: Vec<Vec<Relationship>>,
}

impl Catalog {
    /// Builds the catalog and derives every relationship (see [`Relationship`]).
    /// Foreign keys that reference a table not in `tables` are kept on the table but yield no
    /// relationship.
    pub fn new(mut tables: Vec<Table>) -> Catalog {
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        let by_name = tables.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
        let mut catalog = Catalog { tables, by_name, relationships: Vec::new() };
        catalog.relationships = derive_relationships(&catalog);
        catalog
    }

    /// Every table and view, sorted by name.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// The table or view named exactly `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.by_name.get(name).map(|&i| &self.tables[i])
    }

    /// The relationships that start at `table` (empty for an unknown table).
    pub fn relationships(&self, table: &str) -> &[Relationship] {
        self.by_name.get(table).map_or(&[], |&i| &self.relationships[i])
    }
}
