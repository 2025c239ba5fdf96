//! Who may do what: roles, grants and row-level policies, as declared in the schema file
//! (docs/schema.md, "Access control"). The model follows PostgreSQL's (the PostgreSQL
//! documentation's "Privileges" and "Row Security Policies" chapters; `CREATE POLICY`'s
//! "Policies Applied by Command Type"): a role needs a grant on a table (and on the columns it
//! names) for each command, and on a table with policies it reaches only the rows some
//! permissive policy for that command admits and every restrictive one does too.
//!
//! Conditions are kept as the filter-grammar text written in the file; `rowbase-plan` compiles
//! them once (`rowbase_plan::AccessRules`).

use std::collections::BTreeMap;

/// Every declared role, grant and policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The roles, by name.
    pub roles: BTreeMap<String, Role>,
    /// Grants and policies, by table name (a table absent here grants nothing).
    pub tables: BTreeMap<String, TableAccess>,
}

/// A declared role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Role {
    /// Passes every grant and policy (Supabase's `service_role`; PostgreSQL's `BYPASSRLS` with
    /// every privilege).
    pub bypass: bool,
}

/// What roles may do on one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableAccess {
    /// Privileges by role name.
    pub grants: BTreeMap<String, Privileges>,
    /// Row-level policies; none means row-level security is off for the table (every row a
    /// granted command reaches).
    pub policies: Vec<Policy>,
}

/// A role's privileges on a table: for each command, `None` when not granted, else the columns
/// it covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privileges {
    /// `SELECT` (reading, filtering and ordering by the columns).
    pub select: Option<Columns>,
    /// `INSERT` (the columns a new row may set).
    pub insert: Option<Columns>,
    /// `UPDATE` (the columns a change may set).
    pub update: Option<Columns>,
    /// `DELETE`.
    pub delete: bool,
}

/// The columns a privilege covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Columns {
    /// Every column.
    All,
    /// These columns only.
    Only(Vec<String>),
}

impl Columns {
    /// Whether the privilege covers `column`.
    pub fn covers(&self, column: &str) -> bool {
        match self {
            Columns::All => true,
            Columns::Only(list) => list.iter().any(|c| c == column),
        }
    }
}

/// The four commands a policy or grant is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Reads (and the rows writes read back).
    Select,
    /// New rows.
    Insert,
    /// Changed rows.
    Update,
    /// Removed rows.
    Delete,
}

impl Command {
    /// The SQL keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Command::Select => "SELECT",
            Command::Insert => "INSERT",
            Command::Update => "UPDATE",
            Command::Delete => "DELETE",
        }
    }
}

/// A row condition of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowCondition {
    /// Every row (`true` in the file).
    All,
    /// The rows this filter-grammar condition admits, e.g.
    /// `or=(published.is.true,author_id.eq.{jwt.sub})`; `{jwt.path}` stands for a claim of the
    /// request's token (NULL when absent, so a comparison with it admits nothing).
    Filter(String),
}

/// A row-level policy (PostgreSQL's `CREATE POLICY`), for one or more commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its name, unique within the table.
    pub name: String,
    /// The roles it applies to; empty: every role.
    pub roles: Vec<String>,
    /// Restrictive (every one must admit a row) rather than permissive (one must).
    pub restrictive: bool,
    /// Which existing rows reads see (`USING` of `FOR SELECT`).
    pub select: Option<RowCondition>,
    /// Which new rows may be inserted (`WITH CHECK` of `FOR INSERT`).
    pub insert: Option<RowCondition>,
    /// Which rows may be changed (`USING`) and what they may become (`WITH CHECK`, the `USING`
    /// condition when not given) (`FOR UPDATE`).
    pub update: Option<(RowCondition, RowCondition)>,
    /// Which rows may be removed (`USING` of `FOR DELETE`).
    pub delete: Option<RowCondition>,
}
