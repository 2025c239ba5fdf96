//! The schema file. Tables are TOML tables under `[tables]`; each lists its columns in order:
//!
//! ```toml
//! [tables.author]
//! columns = [
//!   { name = "id", type = "integer", primary_key = true },
//!   { name = "email", type = "varchar(200)", not_null = true, unique = true },
//! ]
//! [tables.post]
//! columns = [
//!   { name = "id", type = "integer", primary_key = true },
//!   { name = "author_id", type = "integer", not_null = true, references = "author.id", on_delete = "cascade" },
//!   { name = "created_at", type = "timestamptz", not_null = true, default = "now" },
//! ]
//! indexes = [{ columns = ["created_at desc"] }]
//! ```
//!
//! Every mistake is reported with the file, line and column of the offending value and a hint.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::condition::Condition;
use toml::Spanned;

/// A column type, engine-neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `text`.
    Text,
    /// `varchar(n)`.
    Varchar(u32),
    /// `integer` (32-bit).
    Integer,
    /// `bigint`.
    BigInt,
    /// `real` (double precision).
    Real,
    /// `decimal(p,s)`.
    Decimal(u8, u8),
    /// `boolean`.
    Boolean,
    /// `date`.
    Date,
    /// `timestamptz`: a timestamp with time zone.
    TimestampTz,
    /// `uuid`.
    Uuid,
    /// `json`.
    Json,
    /// `bytes`.
    Bytes,
    /// `fulltext`: a generated column indexing other text columns for the `fts` operators
    /// (tsvector + GIN on PostgreSQL, an FTS5 table on SQLite, FULLTEXT on MySQL).
    FullText,
    /// The generated `rowbase_alive` column of a soft-delete table (never written in the file):
    /// 1 while `deleted_at` is NULL, else NULL.
    Alive,
}

impl ColumnType {
    /// Parses `integer`, `varchar(200)`, `decimal(10,2)`, ...
    pub fn parse(text: &str) -> Option<ColumnType> {
        let t = text.trim().to_ascii_lowercase();
        let args = |prefix: &str| -> Option<Vec<u32>> {
            let inner = t.strip_prefix(prefix)?.trim().strip_prefix('(')?.strip_suffix(')')?;
            inner.split(',').map(|n| n.trim().parse().ok()).collect()
        };
        Some(match t.as_str() {
            "text" => ColumnType::Text,
            "integer" | "int" => ColumnType::Integer,
            "bigint" => ColumnType::BigInt,
            "real" | "double" => ColumnType::Real,
            "boolean" | "bool" => ColumnType::Boolean,
            "date" => ColumnType::Date,
            "timestamptz" | "timestamp with time zone" => ColumnType::TimestampTz,
            "uuid" => ColumnType::Uuid,
            "json" => ColumnType::Json,
            "bytes" => ColumnType::Bytes,
            "fulltext" => ColumnType::FullText,
            _ => match (args("varchar"), args("decimal")) {
                (Some(a), _) if a.len() == 1 && a[0] > 0 => ColumnType::Varchar(a[0]),
                (_, Some(a)) if a.len() == 2 && a[0] > 0 && a[0] <= 65 && a[1] <= a[0] => {
                    ColumnType::Decimal(u8::try_from(a[0]).ok()?, u8::try_from(a[1]).ok()?)
                }
                _ => return None,
            },
        })
    }

    /// The catalog's neutral type for this column type.
    pub fn data_type(self) -> rowbase_catalog::DataType {
        use rowbase_catalog::DataType as D;
        match self {
            ColumnType::Text | ColumnType::Varchar(_) | ColumnType::FullText => D::Text,
            ColumnType::Integer | ColumnType::BigInt | ColumnType::Alive => D::Integer,
            ColumnType::Real => D::Real,
            ColumnType::Decimal(..) => D::Decimal,
            ColumnType::Boolean => D::Boolean,
            ColumnType::Date => D::Date,
            ColumnType::TimestampTz => D::TimestampTz,
            ColumnType::Uuid => D::Uuid,
            ColumnType::Json => D::Json,
            ColumnType::Bytes => D::Bytes,
        }
    }
}

/// A column default.
#[derive(Debug, Clone, PartialEq)]
pub enum Default {
    /// The time of the insert (`default = "now"`).
    Now,
    /// A new random UUID (`default = "uuid"`).
    Uuid,
    /// A literal (`default = 0`, `default = "draft"`, `default = false`).
    Literal(toml::Value),
}

/// What a foreign key does when the referenced row goes or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `NO ACTION` (the default).
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
}

impl Action {
    /// The SQL words.
    pub fn sql(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
        }
    }
}

/// A declared column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type.
    pub column_type: ColumnType,
    /// `NOT NULL` (primary-key columns always are).
    pub not_null: bool,
    /// Its default.
    pub default: Option<Default>,
    /// A single-column unique constraint.
    pub unique: bool,
    /// A single-column foreign key: `(table, column, on_delete, on_update)`.
    pub references: Option<(String, String, Action, Action)>,
    /// The name it had before, for a rename (never a drop and an add).
    pub renamed_from: Option<String>,
    /// Whether a foreign-key column gets an index (true unless `index = false`).
    pub indexed: bool,
    /// For a `fulltext` column: what it indexes.
    pub search: Option<Search>,
}

impl Column {
    /// A column a table-level switch declares (`timestamps`, `soft_delete`): no key, no index.
    fn implied(name: &str, column_type: ColumnType, not_null: bool, default: Option<Default>) -> Column {
        Column {
            name: name.to_string(),
            column_type,
            not_null,
            default,
            unique: false,
            references: None,
            renamed_from: None,
            indexed: false,
            search: None,
        }
    }

    /// Whether the database computes the column (a `fulltext` column, `rowbase_alive`).
    pub fn is_generated(&self) -> bool {
        self.search.is_some() || self.column_type == ColumnType::Alive
    }
}

/// What a `fulltext` column indexes (docs/schema.md, "Full-text search").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The text columns it concatenates, in order (a NULL one counts as empty).
    pub sources: Vec<String>,
    /// The text-search configuration: PostgreSQL's `regconfig` (`english`, `simple`, ...); on
    /// SQLite `english` selects the Porter stemmer; MySQL's parser has none.
    pub language: String,
}

/// A declared index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name (given, or `{table}_{columns}_idx`).
    pub name: String,
    /// Columns with `true` when descending.
    pub columns: Vec<(String, bool)>,
    /// `UNIQUE`.
    pub unique: bool,
    /// A partial index's condition (`where`, in the filter grammar).
    pub condition: Option<Condition>,
}

/// A declared check constraint, named `{table}_{name}_check` in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The constraint's name in the database.
    pub name: String,
    /// What every row must satisfy.
    pub condition: Condition,
}

/// A declared table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// Its primary key (a single `integer`/`bigint` key is auto-incremented).
    pub primary_key: Vec<String>,
    /// Multi-column unique constraints.
    pub unique: Vec<Vec<String>>,
    /// Its indexes, including those made for foreign-key columns.
    pub indexes: Vec<Index>,
    /// Its check constraints.
    pub checks: Vec<Check>,
    /// `timestamps = true`: `created_at` and `updated_at` kept by a trigger (see
    /// [`Table::timestamps_trigger`]).
    pub timestamps: bool,
    /// `soft_delete = true`: a `deleted_at` column the API sets instead of deleting, and unique
    /// keys that hold among live rows only (each includes `rowbase_alive`).
    pub soft_delete: bool,
    /// `audit = true`: every change logged into `rowbase_audit` by triggers (crate::audit).
    pub audit: bool,
}

impl Table {
    /// The name of the trigger of table `table` that keeps `updated_at` (and `created_at`
    /// unchanged) on update: `{table}_updated_at`.
    pub fn timestamps_trigger(table: &str) -> String {
        format!("{table}_updated_at")
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether the primary key is one auto-incremented integer column.
    pub fn auto_increment(&self) -> Option<&str> {
        match self.primary_key.as_slice() {
            [one] => self
                .column(one)
                .filter(|c| matches!(c.column_type, ColumnType::Integer | ColumnType::BigInt))
                .map(|c| c.name.as_str()),
            _ => None,
        }
    }
}

/// A whole declared schema: tables in dependency order (a table after those it references).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The tables.
    pub tables: Vec<Table>,
    /// Roles, grants and row-level policies (`None` without a `[roles]` section).
    pub access: Option<rowbase_catalog::Access>,
}

/// A mistake in the schema file, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}{}", hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
pub struct SchemaError {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSchema {
    tables: BTreeMap<Spanned<String>, FileTable>,
    #[serde(default)]
    roles: Option<Spanned<BTreeMap<String, crate::access::FileRole>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTable {
    columns: Vec<Spanned<FileColumn>>,
    #[serde(default)]
    primary_key: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    unique: Vec<Spanned<Vec<String>>>,
    #[serde(default)]
    indexes: Vec<Spanned<FileIndex>>,
    #[serde(default)]
    checks: Vec<Spanned<FileCheck>>,
    #[serde(default)]
    timestamps: Option<Spanned<bool>>,
    #[serde(default)]
    soft_delete: Option<Spanned<bool>>,
    #[serde(default)]
    audit: Option<Spanned<bool>>,
    #[serde(default)]
    grants: BTreeMap<Spanned<String>, Spanned<crate::access::FileGrant>>,
    #[serde(default)]
    policies: BTreeMap<Spanned<String>, Spanned<crate::access::FilePolicy>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCheck {
    name: Spanned<String>,
    condition: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileColumn {
    name: Spanned<String>,
    #[serde(rename = "type")]
    column_type: Spanned<String>,
    #[serde(default)]
    primary_key: bool,
    #[serde(default)]
    not_null: bool,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    default: Option<Spanned<toml::Value>>,
    #[serde(default)]
    references: Option<Spanned<String>>,
    #[serde(default)]
    on_delete: Option<Spanned<String>>,
    #[serde(default)]
    on_update: Option<Spanned<String>>,
    #[serde(default)]
    renamed_from: Option<String>,
    #[serde(default)]
    index: Option<bool>,
    #[serde(default)]
    from: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    language: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIndex {
    columns: Vec<String>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "where")]
    condition: Option<Spanned<String>>,
}

/// Where an error is.
pub(crate) struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    pub(crate) fn at(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> SchemaError {
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        SchemaError { file: self.file.to_string(), line, column, message: message.into(), hint }
    }
}

/// Parses and checks a schema file's `text` (`file` names it in errors).
///
/// Errors: TOML syntax, unknown keys, unknown types, duplicate columns, a primary key or index
/// naming a missing column, a foreign key to a missing table or column, an unknown action.
pub fn parse(file: &str, text: &str) -> Result<Schema, SchemaError> {
    let at = Locator { file, text };
    let parsed: FileSchema = toml::from_str(text).map_err(|e| {
        at.at(e.span().unwrap_or(0..0), e.message().to_string(), Some("see docs/schema.md for the format".into()))
    })?;
    let mut tables = Vec::new();
    for (name, table) in &parsed.tables {
        tables.push(check_table(&at, name, table)?);
    }
    // Foreign keys must point at declared tables and columns.
    for (name, table) in &parsed.tables {
        for column in &table.columns {
            let Some(reference) = &column.get_ref().references else { continue };
            let (t, c) = reference.get_ref().split_once('.').ok_or_else(|| {
                at.at(
                    reference.span(),
                    "a reference must be written table.column",
                    Some("e.g. references = \"author.id\"".into()),
                )
            })?;
            let target = tables.iter().find(|x: &&Table| x.name == t).ok_or_else(|| {
                let known: Vec<&str> = tables.iter().map(|x| x.name.as_str()).collect();
                at.at(
                    reference.span(),
                    format!("table {} references a missing table \"{t}\"", name.get_ref()),
                    Some(format!("declared tables: {}", known.join(", "))),
                )
            })?;
            if target.column(c).is_none() {
                return Err(at.at(reference.span(), format!("\"{t}\" has no column \"{c}\""), None));
            }
        }
    }
    let governed: Vec<_> = parsed
        .tables
        .iter()
        .filter_map(|(name, t)| {
            tables.iter().find(|x| x.name == *name.get_ref()).map(|declared| (declared, &t.grants, &t.policies))
        })
        .collect();
    let access = crate::access::read(&at, parsed.roles.as_ref(), &governed)?;
    Ok(Schema { tables: dependency_order(tables), access })
}

fn action(at: &Locator<'_>, value: &Option<Spanned<String>>) -> Result<Action, SchemaError> {
    let Some(v) = value else { return Ok(Action::NoAction) };
    Ok(match v.get_ref().to_ascii_lowercase().replace('_', " ").as_str() {
        "cascade" => Action::Cascade,
        "set null" => Action::SetNull,
        "restrict" => Action::Restrict,
        "no action" => Action::NoAction,
        other => {
            return Err(at.at(
                v.span(),
                format!("unknown action \"{other}\""),
                Some("cascade, set null, restrict or no action".into()),
            ));
        }
    })
}

/// The `from`/`language` of a column: required and checked for a `fulltext` column, refused on
/// any other, as are the attributes a generated column cannot have.
fn search_of(
    at: &Locator<'_>,
    spanned: &Spanned<FileColumn>,
    column_type: ColumnType,
) -> Result<Option<Search>, SchemaError> {
    let c = spanned.get_ref();
    if column_type != ColumnType::FullText {
        return match (&c.from, &c.language) {
            (Some(v), _) => Err(at.at(v.span(), "only a fulltext column reads from other columns", None)),
            (_, Some(v)) => Err(at.at(v.span(), "only a fulltext column has a language", None)),
            _ => Ok(None),
        };
    }
    let Some(from) = c.from.as_ref().filter(|f| !f.get_ref().is_empty()) else {
        return Err(at.at(
            c.column_type.span(),
            format!("the fulltext column {} needs the columns it indexes", c.name.get_ref()),
            Some("e.g. { name = \"search\", type = \"fulltext\", from = [\"title\", \"body\"] }".into()),
        ));
    };
    if c.primary_key
        || c.not_null
        || c.unique
        || c.default.is_some()
        || c.references.is_some()
        || c.renamed_from.is_some()
    {
        return Err(at.at(
            spanned.span(),
            format!("the fulltext column {} is computed by the database", c.name.get_ref()),
            Some("it takes no primary_key, not_null, unique, default, references or renamed_from".into()),
        ));
    }
    let language = match &c.language {
        None => "simple".to_string(),
        Some(l) if !l.get_ref().is_empty() && l.get_ref().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_') => {
            l.get_ref().clone()
        }
        Some(l) => {
            return Err(at.at(
                l.span(),
                format!("\"{}\" is not a text-search configuration name", l.get_ref()),
                Some("e.g. english, simple, french".into()),
            ));
        }
    };
    Ok(Some(Search { sources: from.get_ref().clone(), language }))
}

fn check_table(at: &Locator<'_>, name: &Spanned<String>, table: &FileTable) -> Result<Table, SchemaError> {
    let table_name = name.get_ref().clone();
    let mut columns: Vec<Column> = Vec::new();
    let mut primary_key = Vec::new();
    for spanned in &table.columns {
        let c = spanned.get_ref();
        let column_name = c.name.get_ref().clone();
        if columns.iter().any(|x| x.name == column_name) {
            return Err(at.at(
                c.name.span(),
                format!("duplicate column \"{column_name}\" in table {table_name}"),
                None,
            ));
        }
        let column_type = ColumnType::parse(c.column_type.get_ref()).ok_or_else(|| {
            at.at(
                c.column_type.span(),
                format!("unknown type \"{}\"", c.column_type.get_ref()),
                Some("text, varchar(n), integer, bigint, real, decimal(p,s), boolean, date, timestamptz, uuid, json, bytes, fulltext".into()),
            )
        })?;
        let default = match &c.default {
            None => None,
            Some(v) => Some(match v.get_ref() {
                toml::Value::String(s) if s == "now" => Default::Now,
                toml::Value::String(s) if s == "uuid" => Default::Uuid,
                toml::Value::String(_) | toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
                    Default::Literal(v.get_ref().clone())
                }
                _ => {
                    return Err(at.at(
                        v.span(),
                        "a default is a string, a number, a boolean, \"now\" or \"uuid\"",
                        None,
                    ));
                }
            }),
        };
        if c.primary_key {
            primary_key.push(column_name.clone());
        }
        let references = match &c.references {
            None => None,
            Some(r) => {
                let (t, col) = r.get_ref().split_once('.').unwrap_or((r.get_ref(), ""));
                Some((t.to_string(), col.to_string(), action(at, &c.on_delete)?, action(at, &c.on_update)?))
            }
        };
        let search = search_of(at, spanned, column_type)?;
        columns.push(Column {
            name: column_name,
            column_type,
            not_null: c.not_null || c.primary_key,
            default,
            unique: c.unique,
            references,
            renamed_from: c.renamed_from.clone(),
            indexed: c.index.unwrap_or(true),
            search,
        });
    }
    let timestamps = table.timestamps.as_ref().is_some_and(|t| *t.get_ref());
    if let Some(flag) = table.timestamps.as_ref().filter(|_| timestamps) {
        for name in ["created_at", "updated_at"] {
            match columns.iter().find(|c| c.name == name) {
                Some(c) if c.column_type != ColumnType::TimestampTz || !c.not_null => {
                    let span = table
                        .columns
                        .iter()
                        .find(|x| x.get_ref().name.get_ref() == name)
                        .map_or_else(|| flag.span(), |x| x.get_ref().column_type.span());
                    return Err(at.at(
                        span,
                        format!("timestamps needs {name} to be a timestamptz NOT NULL column"),
                        Some(format!("leave {name} out: timestamps declares it")),
                    ));
                }
                Some(_) => {}
                None => columns.push(Column::implied(name, ColumnType::TimestampTz, true, Some(Default::Now))),
            }
        }
    }
    let soft_delete = table.soft_delete.as_ref().is_some_and(|t| *t.get_ref());
    let mut unique: Vec<Vec<String>> = table.unique.iter().map(|u| u.get_ref().clone()).collect();
    if let Some(flag) = table.soft_delete.as_ref().filter(|_| soft_delete) {
        let deleted_at = rowbase_catalog::SOFT_DELETE_COLUMN;
        match columns.iter().find(|c| c.name == deleted_at) {
            Some(c) if c.column_type != ColumnType::TimestampTz || c.not_null || c.default.is_some() => {
                return Err(at.at(
                    flag.span(),
                    format!("soft_delete needs {deleted_at} to be a nullable timestamptz column without a default"),
                    Some(format!("leave {deleted_at} out: soft_delete declares it")),
                ));
            }
            Some(_) => {}
            None => columns.push(Column::implied(deleted_at, ColumnType::TimestampTz, false, None)),
        }
        // Unique keys hold among live rows: each includes rowbase_alive, NULL once deleted.
        let alive = rowbase_catalog::ALIVE_COLUMN.to_string();
        for c in &mut columns {
            if c.unique {
                c.unique = false;
                unique.push(vec![c.name.clone()]);
            }
        }
        if !unique.is_empty() {
            for key in &mut unique {
                key.push(alive.clone());
            }
            columns.push(Column::implied(&alive, ColumnType::Alive, false, None));
        }
    }
    if let Some(pk) = &table.primary_key {
        if !primary_key.is_empty() {
            return Err(at.at(pk.span(), "the primary key is declared twice (on a column and for the table)", None));
        }
        primary_key.clone_from(pk.get_ref());
        for c in &mut columns {
            if primary_key.contains(&c.name) {
                c.not_null = true;
            }
        }
    }
    // A full-text column reads text columns of its own table.
    for (spanned, column) in table.columns.iter().zip(&columns) {
        let (Some(search), Some(from)) = (&column.search, &spanned.get_ref().from) else { continue };
        for source in &search.sources {
            let found = columns.iter().find(|c| c.name == *source);
            if !found.is_some_and(|c| matches!(c.column_type, ColumnType::Text | ColumnType::Varchar(_))) {
                return Err(at.at(
                    from.span(),
                    format!(
                        "full-text column {} reads \"{source}\", which is not a text column of {table_name}",
                        column.name
                    ),
                    Some("list text or varchar columns of the same table".into()),
                ));
            }
        }
    }
    let known = |names: &[String], span: std::ops::Range<usize>| -> Result<(), SchemaError> {
        for n in names {
            if !columns.iter().any(|c| &c.name == n) {
                return Err(at.at(span.clone(), format!("table {table_name} has no column \"{n}\""), None));
            }
        }
        Ok(())
    };
    if let Some(pk) = &table.primary_key {
        known(pk.get_ref(), pk.span())?;
    }
    for u in &table.unique {
        known(u.get_ref(), u.span())?;
    }
    let mut indexes = Vec::new();
    for spanned in &table.indexes {
        let ix = spanned.get_ref();
        let parsed: Vec<(String, bool)> = ix
            .columns
            .iter()
            .map(|c| {
                let mut words = c.split_whitespace();
                let name = words.next().unwrap_or_default().to_string();
                let descending = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
                (name, descending)
            })
            .collect();
        known(&parsed.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), spanned.span())?;
        let name = ix.name.clone().unwrap_or_else(|| {
            format!("{table_name}_{}_idx", parsed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join("_"))
        });
        if ix.unique && ix.condition.is_some() {
            return Err(at.at(
                spanned.span(),
                "a partial index cannot be unique",
                Some("MySQL has no partial indexes, so a partial unique index would not hold there: write it as a hand-written migration".into()),
            ));
        }
        indexes.push(Index { name, columns: parsed, unique: ix.unique, condition: None });
    }
    // Foreign-key columns are indexed unless told otherwise (and unless an index starts with them).
    for c in &columns {
        if c.references.is_some() && c.indexed && primary_key.first().is_none_or(|p| *p != c.name) {
            // A partial index does not cover every row, so it does not count.
            let covered = indexes
                .iter()
                .zip(table.indexes.iter().map(|ix| ix.get_ref().condition.is_some()).chain(std::iter::repeat(false)))
                .any(|(ix, partial)| !partial && ix.columns.first().is_some_and(|(n, _)| *n == c.name));
            if !covered {
                indexes.push(Index {
                    name: format!("{table_name}_{}_idx", c.name),
                    columns: vec![(c.name.clone(), false)],
                    unique: false,
                    condition: None,
                });
            }
        }
    }
    let mut declared = Table {
        name: table_name,
        columns,
        primary_key,
        unique,
        indexes,
        checks: Vec::new(),
        timestamps,
        soft_delete,
        audit: table.audit.as_ref().is_some_and(|a| *a.get_ref()),
    };
    if let Some(flag) = table.audit.as_ref().filter(|_| declared.audit && declared.primary_key.is_empty()) {
        return Err(at.at(
            flag.span(),
            format!("audit needs a primary key: table {} has none", declared.name),
            Some("the log names each row by its primary key".into()),
        ));
    }
    // Conditions are read against the finished table: they may name any of its columns.
    for (position, spanned) in table.indexes.iter().enumerate() {
        if let Some(text) = &spanned.get_ref().condition {
            let condition = Condition::parse(text.get_ref(), &declared)
                .map_err(|m| at.at(text.span(), m, Some(CONDITION_HINT.into())))?;
            // The declared indexes come first, in file order.
            declared.indexes[position].condition = Some(condition);
        }
    }
    for spanned in &table.checks {
        let check = spanned.get_ref();
        let name = format!("{}_{}_check", declared.name, check.name.get_ref());
        if declared.checks.iter().any(|c| c.name == name) {
            return Err(at.at(check.name.span(), format!("duplicate check \"{}\"", check.name.get_ref()), None));
        }
        let condition = Condition::parse(check.condition.get_ref(), &declared)
            .map_err(|m| at.at(check.condition.span(), m, Some(CONDITION_HINT.into())))?;
        if let Some(auto) = declared.auto_increment().filter(|a| condition.columns().any(|c| c == *a)) {
            return Err(at.at(
                check.condition.span(),
                format!("a check cannot test the auto-increment column \"{auto}\""),
                Some("MySQL refuses checks on AUTO_INCREMENT columns".into()),
            ));
        }
        declared.checks.push(Check { name, condition });
    }
    Ok(declared)
}

const CONDITION_HINT: &str =
    "a condition is written like a request's filters: price=gte.0, status=in.(draft,live), or=(a.is.null,b.gt.0)";

/// Tables ordered so each comes after the tables it references (a cycle keeps file order).
fn dependency_order(mut tables: Vec<Table>) -> Vec<Table> {
    let mut ordered: Vec<Table> = Vec::new();
    while !tables.is_empty() {
        let ready = tables.iter().position(|t| {
            t.columns.iter().filter_map(|c| c.references.as_ref()).all(|(target, ..)| {
                *target == t.name
                    || ordered.iter().any(|o| o.name == *target)
                    || !tables.iter().any(|x| x.name == *target)
            })
        });
        ordered.push(tables.remove(ready.unwrap_or(0)));
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOG: &str = r#"
[tables.post]
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "author_id", type = "integer", not_null = true, references = "author.id", on_delete = "cascade" },
  { name = "title", type = "varchar(200)", not_null = true },
]

[tables.author]
columns = [
  { name = "id", type = "integer", primary_key = true },
  { name = "email", type = "varchar(200)", not_null = true, unique = true },
]
"#;

    #[test]
    fn tables_come_in_dependency_order_with_fk_indexes() {
        let schema = parse("rowbase.toml", BLOG).unwrap();
        let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["author", "post"]);
        assert_eq!(schema.tables[1].indexes[0].name, "post_author_id_idx");
        assert_eq!(schema.tables[1].auto_increment(), Some("id"));
    }

    #[test]
    fn the_documented_example_is_valid() {
        let doc = include_str!("../../../docs/schema.md");
        let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
        let text = &doc[start..start + doc[start..].find("```").unwrap()];
        let schema = parse("docs/schema.md", text).unwrap();
        let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["author", "post", "tag", "post_tag"]);
        let junction = &schema.tables[3];
        assert_eq!(junction.primary_key, ["post_id", "tag_id"]);
        assert_eq!(junction.auto_increment(), None);
        let post = &schema.tables[1];
        assert_eq!(post.column("headline").and_then(|c| c.renamed_from.as_deref()), Some("title"));
        assert_eq!(post.checks.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["post_price_check"]);
        let live = post.indexes.iter().find(|i| i.name == "post_live_idx").unwrap();
        assert_eq!(live.condition.as_ref().map(|c| c.source.as_str()), Some("published=is.true"));
        // A partial index on author_id does not cover the foreign key: it gets its own index.
        assert!(post.indexes.iter().any(|i| i.name == "post_author_id_idx" && i.condition.is_none()));
    }

    #[test]
    fn mistakes_in_conditions_are_located() {
        let with = |extra: &str| format!("{BLOG}{extra}\n");
        let cases = [
            (with("checks = [{ name = \"p\", condition = \"price=gte.0\" }]"), "no column \"price\"", 14),
            (with("checks = [{ name = \"t\", condition = \"email=like.*x*\" }]"), "no portable DDL form", 14),
            (with("checks = [{ name = \"i\", condition = \"id=gt.one\" }]"), "not a valid value", 14),
            (with("checks = [{ name = \"i\", condition = \"id=gt.0\" }]"), "auto-increment column", 14),
            (with("indexes = [{ columns = [\"email\"], unique = true, where = \"id=gt.0\" }]"), "cannot be unique", 14),
            (
                with(
                    "checks = [{ name = \"a\", condition = \"email=neq.a\" }, { name = \"a\", condition = \"email=neq.b\" }]",
                ),
                "duplicate check",
                14,
            ),
        ];
        for (text, expected, line) in cases {
            let e = parse("rowbase.toml", &text).unwrap_err();
            assert!(e.message.contains(expected), "{e}");
            assert_eq!(e.line, line, "{e}");
            assert!(e.column > 1, "{e}");
        }
    }

    #[test]
    fn full_text_columns_are_checked() {
        let with = |column: &str| {
            BLOG.replace(
                "  { name = \"title\", type = \"varchar(200)\", not_null = true },\n",
                &format!("  {{ name = \"title\", type = \"varchar(200)\", not_null = true }},\n  {column},\n"),
            )
        };
        let schema = parse(
            "rowbase.toml",
            &with(r#"{ name = "search", type = "fulltext", from = ["title"], language = "english" }"#),
        )
        .unwrap();
        let search = schema.tables[1].column("search").and_then(|c| c.search.clone()).unwrap();
        assert_eq!((search.sources, search.language.as_str()), (vec!["title".to_string()], "english"));
        let cases = [
            (r#"{ name = "s", type = "fulltext" }"#, "needs the columns it indexes"),
            (r#"{ name = "s", type = "fulltext", from = ["id"] }"#, "\"id\", which is not a text column"),
            (r#"{ name = "s", type = "fulltext", from = ["nope"] }"#, "\"nope\", which is not a text column"),
            (r#"{ name = "s", type = "fulltext", from = ["title"], not_null = true }"#, "computed by the database"),
            (r#"{ name = "s", type = "text", from = ["title"] }"#, "only a fulltext column"),
            (
                r#"{ name = "s", type = "fulltext", from = ["title"], language = "x'; --" }"#,
                "not a text-search configuration",
            ),
        ];
        for (column, expected) in cases {
            let e = parse("rowbase.toml", &with(column)).unwrap_err();
            assert!(e.message.contains(expected), "{column}: {e}");
            assert_eq!(e.line, 7, "{e}");
        }
    }

    #[test]
    fn timestamps_declare_their_columns() {
        let with =
            |extra: &str| BLOG.replace("[tables.author]\n", &format!("[tables.author]\ntimestamps = true\n{extra}"));
        let schema = parse("rowbase.toml", &with("")).unwrap();
        let author = &schema.tables[0];
        assert!(author.timestamps);
        for name in ["created_at", "updated_at"] {
            let c = author.column(name).unwrap();
            assert_eq!(
                (c.column_type, c.not_null, c.default.clone()),
                (ColumnType::TimestampTz, true, Some(Default::Now))
            );
        }
        let text = with("").replace(
            "{ name = \"email\", type = \"varchar(200)\", not_null = true, unique = true },",
            "{ name = \"email\", type = \"varchar(200)\", not_null = true, unique = true },\n  { name = \"updated_at\", type = \"text\" },",
        );
        let e = parse("rowbase.toml", &text).unwrap_err();
        assert!(e.message.contains("updated_at to be a timestamptz NOT NULL"), "{e}");
        assert_eq!(e.line, 14, "{e}");
    }

    #[test]
    fn mistakes_are_located() {
        let cases = [
            (
                BLOG.replace("varchar(200)\", not_null = true }", "varchr(200)\", not_null = true }"),
                "unknown type \"varchr(200)\"",
            ),
            (BLOG.replace("author.id", "writer.id"), "missing table \"writer\""),
            (BLOG.replace("\"title\"", "\"author_id\""), "duplicate column \"author_id\""),
            (BLOG.replace("cascade", "explode"), "unknown action"),
            (BLOG.replace("not_null = true, unique", "nullable = true, unique"), "unknown field"),
        ];
        for (text, expected) in cases {
            let e = parse("rowbase.toml", &text).unwrap_err();
            assert!(e.message.contains(expected), "{e}");
            assert!(e.line > 1 && e.column > 1, "{e}");
        }
        let e = parse(
            "rowbase.toml",
            &BLOG.replace("varchar(200)\", not_null = true }", "varchr(200)\", not_null = true }"),
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (6, 28), "{e}");
    }
}
