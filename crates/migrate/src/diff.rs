//! The difference between a live catalog and a declared schema, as ordered steps.
//!
//! Compared: tables, columns (neutral type, declared length, nullability), primary, unique and
//! foreign keys, indexes by name (and columns), check constraints by name. Renames are declared
//! (`renamed_from`), never guessed. A change Rowbase cannot yet express as a step (a changed
//! primary key) is reported, not ignored: write that migration by hand.

use rowbase_catalog::{Catalog, DataType};

use crate::schema::{Check, Column, ColumnType, Index, Schema, Table};

/// One change.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Create a table (with its keys; its indexes follow as their own steps).
    CreateTable(Table),
    /// Drop a table (destructive); `live` recreates its structure on the way down.
    DropTable(rowbase_catalog::Table),
    /// Add a column.
    AddColumn(String, Column),
    /// Drop a column (destructive).
    DropColumn(String, rowbase_catalog::Column),
    /// Drop a full-text column before a change to a column it reads, to add it again after:
    /// the table and the column as declared (so the way back can add it again).
    DropSearch(String, Column),
    /// Rename a column: table, from, to.
    RenameColumn(String, String, String),
    /// Create an index on a table.
    CreateIndex(String, Index),
    /// Drop an index of a table.
    DropIndex(String, rowbase_catalog::Index),
    /// Create the audit log (`rowbase_audit`), for the first audited table.
    CreateAuditLog,
    /// Add the audit triggers of a table (as declared).
    AddAudit(Table),
    /// Drop the audit triggers of a table (as it is live, so the way back can add them again).
    DropAudit(rowbase_catalog::Table),
    /// Add the trigger that keeps `created_at`/`updated_at` to a table (as declared).
    AddTimestamps(Table),
    /// Drop a table's timestamps trigger (table name).
    DropTimestamps(String),
    /// Change an existing table in ways ALTER TABLE does in place on PostgreSQL and MySQL, and
    /// SQLite does by rebuilding the table: the table as declared, as it is live, the changes.
    AlterTable(Table, rowbase_catalog::Table, Vec<Change>),
}

/// One change to an existing table (see [`Step::AlterTable`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A column's type or declared length: the column as declared and as it is live.
    ColumnType(Column, rowbase_catalog::Column),
    /// Whether a column may be NULL: the column as declared and as it is live.
    Nullability(Column, rowbase_catalog::Column),
    /// A check constraint to add.
    AddCheck(Check),
    /// A check constraint to drop, as it is live (its definition restores it on the way back).
    DropCheck(rowbase_catalog::CheckConstraint),
    /// A unique constraint to add, on these columns.
    AddUnique(Vec<String>),
    /// A unique constraint to drop, on these (live) columns.
    DropUnique(Vec<String>),
    /// A foreign key to add: the declared column that holds it.
    AddForeignKey(Column),
    /// A foreign key to drop, as it is live.
    DropForeignKey(rowbase_catalog::ForeignKey),
    /// A column added with a default that is not a constant (`now`, `uuid`): SQLite's ADD
    /// COLUMN refuses it, so there the table is rebuilt; elsewhere the ADD COLUMN step does it.
    AddedWithExpressionDefault(Column),
}

impl Change {
    /// Whether the change may lose data: a type change that is not a widening (a longer
    /// `varchar`, `varchar` to `text`, `integer` to `bigint`).
    pub fn destructive(&self) -> bool {
        match self {
            Change::ColumnType(declared, live) => {
                let widening = match declared.column_type {
                    ColumnType::Text => live.data_type == DataType::Text,
                    ColumnType::Varchar(n) => {
                        live.data_type == DataType::Text && live.max_length.is_some_and(|m| m <= n)
                    }
                    ColumnType::BigInt => live.data_type == DataType::Integer,
                    _ => false,
                };
                !widening
            }
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Change::ColumnType(c, live) => {
                format!(
                    "{}type of {} ({} to {})",
                    if self.destructive() { "NARROWING " } else { "" },
                    c.name,
                    live.declared_type,
                    format!("{:?}", c.column_type).to_lowercase()
                )
            }
            Change::Nullability(c, _) => format!("{} {}", c.name, if c.not_null { "NOT NULL" } else { "nullable" }),
            Change::AddCheck(check) => format!("add check {}", check.name),
            Change::DropCheck(check) => format!("drop check {}", check.name),
            Change::AddUnique(columns) => format!("add unique ({})", columns.join(", ")),
            Change::DropUnique(columns) => format!("drop unique ({})", columns.join(", ")),
            Change::AddForeignKey(c) => format!("add foreign key {}", c.name),
            Change::DropForeignKey(fk) => format!("drop foreign key {}", fk.name),
            Change::AddedWithExpressionDefault(c) => format!("rebuilt on SQLite for {}'s default", c.name),
        }
    }
}

impl Step {
    /// Whether the step loses data.
    pub fn destructive(&self) -> bool {
        match self {
            Step::DropTable(_) => true,
            // A generated column holds nothing that is not in other columns.
            Step::DropColumn(_, c) => !c.generated,
            Step::AlterTable(_, _, changes) => changes.iter().any(Change::destructive),
            _ => false,
        }
    }

    /// One line for the summary.
    pub fn describe(&self) -> String {
        match self {
            Step::CreateTable(t) => format!("create table {} ({} columns)", t.name, t.columns.len()),
            Step::DropTable(t) => format!("DROP table {}", t.name),
            Step::AddColumn(t, c) => format!("add column {t}.{}", c.name),
            Step::DropColumn(t, c) => format!("DROP column {t}.{}", c.name),
            Step::DropSearch(t, c) => format!("drop full-text column {t}.{} (added again below)", c.name),
            Step::RenameColumn(t, from, to) => format!("rename column {t}.{from} to {to}"),
            Step::CreateIndex(t, i) => {
                format!(
                    "create {}{}index {} on {t}",
                    if i.unique { "unique " } else { "" },
                    if i.condition.is_some() { "partial " } else { "" },
                    i.name
                )
            }
            Step::DropIndex(t, i) => format!("drop index {} on {t}", i.name),
            Step::AddTimestamps(t) => format!("keep {0}.created_at and {0}.updated_at by trigger", t.name),
            Step::CreateAuditLog => "create the audit log rowbase_audit".to_string(),
            Step::AddAudit(t) => format!("audit {}", t.name),
            Step::DropAudit(t) => format!("stop auditing {}", t.name),
            Step::DropTimestamps(t) => format!("drop the timestamps trigger of {t}"),
            Step::AlterTable(t, _, changes) => {
                format!(
                    "alter table {}: {}",
                    t.name,
                    changes.iter().map(Change::describe).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// Steps that lose data, without `--allow-destructive`.
    #[error("refusing destructive steps without --allow-destructive: {}", .0.join("; "))]
    Destructive(Vec<String>),
    /// Changes that need a hand-written migration.
    #[error("changes that need a hand-written SQL migration: {}", .0.join("; "))]
    Unsupported(Vec<String>),
}

/// The steps that take `live` to `declared`.
///
/// Errors: [`DiffError::Unsupported`] for changes not expressible as steps yet;
/// [`DiffError::Destructive`] for data-losing steps unless `allow_destructive`.
pub fn diff(live: &Catalog, declared: &Schema, allow_destructive: bool) -> Result<Vec<Step>, DiffError> {
    let mut creates = Vec::new();
    let mut columns = Vec::new();
    let mut alters = Vec::new();
    let mut index_drops = Vec::new();
    let mut index_creates = Vec::new();
    let mut column_drops = Vec::new();
    let mut table_drops = Vec::new();
    let mut unsupported = Vec::new();
    // Full-text columns are added after the changes to the columns they read (PostgreSQL
    // cannot change the type of a column a generated column reads: that column is dropped
    // first and added again).
    let mut search_drops = Vec::new();
    let mut search_adds = Vec::new();
    let mut trigger_drops = Vec::new();
    let mut trigger_adds = Vec::new();
    for table in &declared.tables {
        let timestamps_trigger = Table::timestamps_trigger(&table.name);
        let live_timestamps = live.table(&table.name).is_some_and(|t| t.triggers.contains(&timestamps_trigger));
        match (table.timestamps, live_timestamps) {
            (true, false) => trigger_adds.push(Step::AddTimestamps(table.clone())),
            (false, true) => trigger_drops.push(Step::DropTimestamps(table.name.clone())),
            _ => {}
        }
        let live_audit = live.table(&table.name).filter(|t| t.is_audited());
        let Some(existing) = live.table(&table.name) else {
            if table.audit {
                trigger_adds.push(Step::AddAudit(table.clone()));
            }
            creates.push(Step::CreateTable(table.clone()));
            index_creates.extend(table.indexes.iter().map(|i| Step::CreateIndex(table.name.clone(), i.clone())));
            continue;
        };
        let mut kept: Vec<&str> = Vec::new();
        let mut changes = Vec::new();
        for column in &table.columns {
            match (existing.column(&column.name), column.renamed_from.as_deref().and_then(|old| existing.column(old))) {
                (Some(live_column), _) => {
                    kept.push(&live_column.name);
                    // A full-text column is compared by name (rename it to change what it reads).
                    match (column.search.is_some(), live_column.full_text.is_some() && live_column.generated) {
                        (true, true) => {}
                        (false, false) => {
                            // SQLite's auto-increment key is `INTEGER PRIMARY KEY` whatever its
                            // declared width (its integers are all 64-bit).
                            let rowid_key =
                                existing.definition.is_some() && table.auto_increment() == Some(column.name.as_str());
                            changes.extend(column_changes(column, live_column, rowid_key));
                        }
                        (declared_search, _) => unsupported.push(format!(
                            "{}.{} {} a full-text column (drop it and add it under a new name)",
                            table.name,
                            column.name,
                            if declared_search { "becoming" } else { "ceasing to be" }
                        )),
                    }
                }
                (None, Some(old)) => {
                    kept.push(&old.name);
                    columns.push(Step::RenameColumn(table.name.clone(), old.name.to_string(), column.name.clone()));
                }
                (None, None) if column.search.is_some() => {
                    search_adds.push(Step::AddColumn(table.name.clone(), column.clone()));
                }
                (None, None) => {
                    if column.not_null && column.default.is_none() {
                        unsupported.push(format!(
                            "adding {}.{} NOT NULL without a default (give it a default, or add it nullable first)",
                            table.name, column.name
                        ));
                    }
                    if matches!(column.default, Some(crate::schema::Default::Now | crate::schema::Default::Uuid)) {
                        changes.push(Change::AddedWithExpressionDefault(column.clone()));
                    }
                    columns.push(Step::AddColumn(table.name.clone(), column.clone()));
                }
            }
        }
        for live_column in &existing.columns {
            if !kept.contains(&live_column.name.as_str()) {
                column_drops.push(Step::DropColumn(table.name.clone(), live_column.clone()));
            }
        }
        match key_changes(table, existing) {
            Ok(keys) => changes.extend(keys),
            Err(change) => unsupported.push(change),
        }
        // A full-text column's own index (GIN on PostgreSQL) goes with the column.
        let live_indexes: Vec<&rowbase_catalog::Index> = existing
            .indexes
            .iter()
            .filter(|i| !i.columns.iter().all(|(c, _)| existing.column(c).is_some_and(|c| c.full_text.is_some())))
            .collect();
        for index in &table.indexes {
            match live_indexes.iter().find(|i| i.name == index.name) {
                Some(live_index) if live_index.columns == index.columns && live_index.unique == index.unique => {}
                Some(live_index) => {
                    index_drops.push(Step::DropIndex(table.name.clone(), (*live_index).clone()));
                    index_creates.push(Step::CreateIndex(table.name.clone(), index.clone()));
                }
                None => index_creates.push(Step::CreateIndex(table.name.clone(), index.clone())),
            }
        }
        for live_index in live_indexes {
            if !table.indexes.iter().any(|i| i.name == live_index.name) {
                index_drops.push(Step::DropIndex(table.name.clone(), live_index.clone()));
            }
        }
        // Checks are compared by name (a changed condition needs a new name); only checks named
        // the way Rowbase names them are dropped.
        for check in &table.checks {
            if !existing.checks.iter().any(|c| c.name == check.name) {
                changes.push(Change::AddCheck(check.clone()));
            }
        }
        let ours = |name: &str| name.starts_with(&format!("{}_", table.name)) && name.ends_with("_check");
        for live_check in existing.checks.iter().filter(|c| ours(&c.name)) {
            if !table.checks.iter().any(|c| c.name == live_check.name) {
                changes.push(Change::DropCheck(live_check.clone()));
            }
        }
        let retyped: Vec<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::ColumnType(c, _) => Some(c.name.as_str()),
                _ => None,
            })
            .collect();
        for column in &table.columns {
            let reads_retyped =
                column.search.as_ref().is_some_and(|s| s.sources.iter().any(|c| retyped.contains(&c.as_str())));
            if reads_retyped && existing.column(&column.name).is_some() {
                search_drops.push(Step::DropSearch(table.name.clone(), column.clone()));
                search_adds.push(Step::AddColumn(table.name.clone(), column.clone()));
            }
        }
        // The audit triggers list the columns (MySQL, SQLite): a table whose columns change has
        // them made again.
        let reshaped = !changes.is_empty()
            || table.timestamps != live_timestamps
            || columns.iter().chain(&search_adds).chain(&column_drops).any(|s| step_table_name(s) == Some(&table.name));
        match (table.audit, live_audit) {
            (true, None) => trigger_adds.push(Step::AddAudit(table.clone())),
            (false, Some(live_table)) => trigger_drops.push(Step::DropAudit(live_table.clone())),
            (true, Some(live_table)) if reshaped => {
                trigger_drops.push(Step::DropAudit(live_table.clone()));
                trigger_adds.push(Step::AddAudit(table.clone()));
            }
            _ => {}
        }
        if !changes.is_empty() {
            alters.push(Step::AlterTable(table.clone(), existing.clone(), changes));
        }
    }
    if declared.tables.iter().any(|t| t.audit) && live.table(crate::audit::LOG).is_none() {
        creates.insert(0, Step::CreateAuditLog);
    }
    for live_table in live.tables() {
        if rowbase_catalog::is_managed(&live_table.name) {
            continue;
        }
        if !declared.tables.iter().any(|t| t.name == live_table.name) {
            table_drops.push(Step::DropTable(live_table.clone()));
        }
    }
    // Drop referencing tables before the tables they reference.
    table_drops.reverse();
    if !unsupported.is_empty() {
        return Err(DiffError::Unsupported(unsupported));
    }
    let steps: Vec<Step> = [
        trigger_drops,
        index_drops,
        search_drops,
        creates,
        columns,
        alters,
        search_adds,
        trigger_adds,
        index_creates,
        column_drops,
        table_drops,
    ]
    .into_iter()
    .flatten()
    .collect();
    let destructive: Vec<String> = steps.iter().filter(|s| s.destructive()).map(Step::describe).collect();
    if !destructive.is_empty() && !allow_destructive {
        return Err(DiffError::Destructive(destructive));
    }
    Ok(steps)
}

/// The existing table a column step changes.
fn step_table_name(step: &Step) -> Option<&str> {
    match step {
        Step::AddColumn(t, _) | Step::DropColumn(t, _) | Step::RenameColumn(t, ..) | Step::DropSearch(t, _) => Some(t),
        _ => None,
    }
}

/// The differences in a column's type, length and nullability.
fn column_changes(declared: &Column, live: &rowbase_catalog::Column, rowid_key: bool) -> Vec<Change> {
    let want = declared.column_type.data_type();
    // Engines without a zoned timestamp store one as a plain timestamp.
    let mut same_type =
        want == live.data_type || (want == DataType::TimestampTz && live.data_type == DataType::Timestamp);
    // One neutral integer type: the width is in the declared type.
    if same_type && want == DataType::Integer && !rowid_key {
        same_type = (declared.column_type == ColumnType::BigInt) == is_bigint(&live.declared_type);
    }
    let want_length = match declared.column_type {
        crate::schema::ColumnType::Varchar(n) => Some(n),
        _ => None,
    };
    let nullable_changed = declared.not_null == live.nullable;
    let mut changes = Vec::new();
    if !same_type || want_length != live.max_length {
        changes.push(Change::ColumnType(declared.clone(), live.clone()));
    }
    if nullable_changed {
        changes.push(Change::Nullability(declared.clone(), live.clone()));
    }
    changes
}

/// Whether a live integer column is 64-bit by its declared type (`bigint`, `bigint(20)`, `int8`).
fn is_bigint(declared_type: &str) -> bool {
    let t = declared_type.trim().to_ascii_lowercase();
    t.starts_with("bigint") || t == "int8"
}

/// The unique and foreign keys to add and drop, comparing live keys under their declared
/// (renamed) column names.
///
/// Errors: a changed primary key, described (it needs a hand-written migration).
fn key_changes(declared: &Table, live: &rowbase_catalog::Table) -> Result<Vec<Change>, String> {
    let now = |name: &String| -> String {
        declared
            .columns
            .iter()
            .find(|c| c.renamed_from.as_ref() == Some(name))
            .map_or_else(|| name.clone(), |c| c.name.clone())
    };
    let live_pk: Vec<String> = live.primary_key.iter().map(now).collect();
    if declared.primary_key != live_pk {
        return Err(format!("changing the primary key of the existing table {}", declared.name));
    }
    let set = |k: &[String]| {
        let mut k = k.to_vec();
        k.sort();
        k
    };
    let mut declared_unique: Vec<Vec<String>> = declared.unique.clone();
    declared_unique.extend(declared.columns.iter().filter(|c| c.unique).map(|c| vec![c.name.clone()]));
    let live_unique: Vec<(Vec<String>, &Vec<String>)> =
        live.unique_keys.iter().map(|k| (k.iter().map(now).collect(), k)).collect();
    let mut changes = Vec::new();
    for key in &declared_unique {
        if !live_unique.iter().any(|(k, _)| set(k) == set(key)) {
            changes.push(Change::AddUnique(key.clone()));
        }
    }
    for (key, as_live) in &live_unique {
        if !declared_unique.iter().any(|k| set(k) == set(key)) {
            changes.push(Change::DropUnique((*as_live).clone()));
        }
    }
    let live_fks: Vec<(Vec<String>, &rowbase_catalog::ForeignKey)> = live
        .foreign_keys
        .iter()
        .filter(|fk| fk.columns.len() == 1)
        .map(|fk| (vec![now(&fk.columns[0]), fk.referenced_table.clone(), fk.referenced_columns[0].clone()], fk))
        .collect();
    for column in &declared.columns {
        if let Some((table, referenced, ..)) = &column.references {
            let key = vec![column.name.clone(), table.clone(), referenced.clone()];
            if !live_fks.iter().any(|(k, _)| *k == key) {
                changes.push(Change::AddForeignKey(column.clone()));
            }
        }
    }
    for (key, fk) in &live_fks {
        let declared_here = declared
            .columns
            .iter()
            .any(|c| c.references.as_ref().is_some_and(|(t, r, ..)| c.name == key[0] && *t == key[1] && *r == key[2]));
        if !declared_here {
            changes.push(Change::DropForeignKey((*fk).clone()));
        }
    }
    Ok(changes)
}
