//! Declared access compiled for the planner: each policy's conditions parsed once, and the
//! questions the rules ask of it (`crate::rules`): may this role run this command on this table
//! and these columns, and which rows does it reach.
//!
//! Semantics are PostgreSQL's (the PostgreSQL documentation, `CREATE POLICY`, "Notes" and
//! "Policies Applied by Command Type"): on a table with policies, a command reaches the rows at
//! least one permissive policy for it admits and every restrictive one admits too (no permissive
//! policy: no rows); reads, updates and deletes see only rows the `SELECT` policies admit; new
//! rows must pass the command's check. A role declared with `bypass` passes everything.

use std::collections::HashMap;
use std::sync::Arc;

use rowbase_catalog::{Access, Command, Privileges, Role, RowCondition, Table};
use rowbase_request::{Condition, parse_query};
use serde_json::{Map, Value as Json};

use crate::error::PlanError;
use crate::expr::claims_condition_to_expr;
use crate::plan::{Expr, Node};

/// Declared roles, grants and policies, with every condition parsed.
#[derive(Debug, Clone, Default)]
pub struct AccessRules {
    roles: HashMap<String, Role>,
    tables: HashMap<String, TableRules>,
}

#[derive(Debug, Clone, Default)]
struct TableRules {
    grants: HashMap<String, Privileges>,
    policies: Vec<CompiledPolicy>,
}

#[derive(Debug, Clone)]
struct CompiledPolicy {
    roles: Vec<String>,
    restrictive: bool,
    select: Option<Rows>,
    insert: Option<Rows>,
    update: Option<(Rows, Rows)>,
    delete: Option<Rows>,
}

impl CompiledPolicy {
    /// Whether the policy applies to `role` (no roles named: every role).
    fn applies_to(&self, role: &str) -> bool {
        self.roles.is_empty() || self.roles.iter().any(|r| r == role)
    }
}

/// A compiled row condition: every row, or filter trees ANDed.
#[derive(Debug, Clone)]
enum Rows {
    All,
    Filter(Vec<Condition>),
}

impl AccessRules {
    /// Compiles declared access.
    ///
    /// Errors: a condition that is not in the filter grammar (the schema file's parser reports
    /// these first, with their place in the file).
    pub fn compile(access: &Access) -> Result<AccessRules, String> {
        let rows = |c: &RowCondition| -> Result<Rows, String> {
            match c {
                RowCondition::All => Ok(Rows::All),
                RowCondition::Filter(text) => {
                    let params = parse_query(text).map_err(|e| format!("{text}: {}", e.message))?;
                    Ok(Rows::Filter(params.conditions.into_iter().map(|s| s.value).collect()))
                }
            }
        };
        let mut tables = HashMap::new();
        for (name, table) in &access.tables {
            let mut policies = Vec::new();
            for p in &table.policies {
                policies.push(CompiledPolicy {
                    roles: p.roles.clone(),
                    restrictive: p.restrictive,
                    select: p.select.as_ref().map(rows).transpose()?,
                    insert: p.insert.as_ref().map(rows).transpose()?,
                    update: match &p.update {
                        Some((using, check)) => Some((rows(using)?, rows(check)?)),
                        None => None,
                    },
                    delete: p.delete.as_ref().map(rows).transpose()?,
                });
            }
            let grants = table.grants.iter().map(|(r, p)| (r.clone(), p.clone())).collect();
            tables.insert(name.clone(), TableRules { grants, policies });
        }
        let roles = access.roles.iter().map(|(n, r)| (n.clone(), r.clone())).collect();
        Ok(AccessRules { roles, tables })
    }

    /// Whether `role` is declared.
    pub fn declares(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// Whether `role` passes every grant and policy.
    pub fn bypasses(&self, role: &str) -> bool {
        self.roles.get(role).is_some_and(|r| r.bypass)
    }

    /// What `role` may use of `catalog`, for describing it (OpenAPI): every table for a bypass
    /// role; otherwise the tables it has a grant on, each with the columns a grant covers.
    pub fn catalog_for(&self, catalog: &rowbase_catalog::Catalog, role: &str) -> rowbase_catalog::Catalog {
        if self.bypasses(role) {
            return catalog.clone();
        }
        let tables = catalog
            .tables()
            .iter()
            .filter_map(|table| {
                let p = self.tables.get(&table.name)?.grants.get(role)?;
                let covers =
                    |name: &str| [&p.select, &p.insert, &p.update].into_iter().flatten().any(|c| c.covers(name));
                let mut visible = table.clone();
                visible.columns.retain(|c| covers(&c.name));
                Some(visible)
            })
            .collect();
        rowbase_catalog::Catalog::new(tables)
    }
}

/// The claim at `path` of a token's claims (`["app_metadata", "role"]`): `None` when a step is
/// missing. How policies read `{jwt.path}` and the role is read from its claim.
pub fn claim<'c, S: AsRef<str>>(claims: &'c Map<String, Json>, path: &[S]) -> Option<&'c Json> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(claims.get(first.as_ref())?, |at, step| at.get(step.as_ref()))
}

/// The access a request is under: none (no declared access, no role, or a bypass role), or a
/// role's grants and policies with the token's claims.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Guard<'a> {
    /// Nothing is checked.
    Free,
    /// `role`'s grants and policies apply; `{jwt.*}` reads `claims`.
    Role {
        /// The rules.
        rules: &'a AccessRules,
        /// The role.
        role: &'a str,
        /// The verified token's claims.
        claims: &'a Map<String, Json>,
    },
}

impl<'a> Guard<'a> {
    /// The guard of a request with these rules, role and claims.
    pub(crate) fn new(
        rules: Option<&'a Arc<AccessRules>>,
        role: Option<&'a str>,
        claims: &'a Map<String, Json>,
    ) -> Guard<'a> {
        match (rules, role) {
            (Some(rules), Some(role)) if !rules.bypasses(role) => Guard::Role { rules, role, claims },
            _ => Guard::Free,
        }
    }

    /// The role's privileges on `table` (`Some(None)`: none granted); `None` when unguarded.
    fn privileges(&self, table: &str) -> Option<Option<&'a Privileges>> {
        match self {
            Guard::Free => None,
            Guard::Role { rules, role, .. } => Some(rules.tables.get(table).and_then(|t| t.grants.get(*role))),
        }
    }

    /// Refuses `command` on `table` unless granted, and on each of `columns` unless the grant
    /// covers it (`DELETE` has no columns).
    ///
    /// Errors: `42501` naming the table, or the first column not covered.
    pub(crate) fn check<'c>(
        &self,
        table: &Table,
        command: Command,
        columns: impl IntoIterator<Item = &'c str>,
    ) -> Result<(), PlanError> {
        let Some(privileges) = self.privileges(&table.name) else { return Ok(()) };
        let denied = |column: Option<&str>| PlanError::PermissionDenied {
            table: table.name.clone(),
            column: column.map(str::to_string),
            command: command.keyword(),
        };
        let granted = match (privileges, command) {
            (None, _) => return Err(denied(None)),
            (Some(p), Command::Select) => p.select.as_ref(),
            (Some(p), Command::Insert) => p.insert.as_ref(),
            (Some(p), Command::Update) => p.update.as_ref(),
            (Some(p), Command::Delete) => return if p.delete { Ok(()) } else { Err(denied(None)) },
        };
        let Some(granted) = granted else { return Err(denied(None)) };
        for column in columns {
            if !granted.covers(column) {
                return Err(denied(Some(column)));
            }
        }
        Ok(())
    }

    /// Whether the role may select `column` of `table` (what `*` expands to).
    pub(crate) fn may_select(&self, table: &str, column: &str) -> bool {
        match self.privileges(table) {
            None => true,
            Some(p) => p.and_then(|p| p.select.as_ref()).is_some_and(|c| c.covers(column)),
        }
    }

    /// Whether `table` has row-level policies the role is under.
    pub(crate) fn row_level(&self, table: &str) -> bool {
        match self {
            Guard::Free => false,
            Guard::Role { rules, .. } => rules.tables.get(table).is_some_and(|t| !t.policies.is_empty()),
        }
    }

    /// The rows of `table` (as `node`) that `command`'s policies let the role reach (for
    /// `Update`, its `USING`); `None` when the table has no policies. `Insert` has no existing
    /// rows to reach: see [`Guard::check_rows`].
    pub(crate) fn using(&self, table: &Table, node: &Node, command: Command) -> Result<Option<Expr>, PlanError> {
        self.combine(table, node, |p| match command {
            Command::Select => p.select.as_ref(),
            Command::Update => p.update.as_ref().map(|(using, _)| using),
            Command::Delete => p.delete.as_ref(),
            Command::Insert => None,
        })
    }

    /// What new rows of `command` (`Insert`, or `Update`'s changed rows) must satisfy; `None`
    /// when the table has no policies.
    pub(crate) fn check_rows(&self, table: &Table, node: &Node, command: Command) -> Result<Option<Expr>, PlanError> {
        self.combine(table, node, |p| match command {
            Command::Insert => p.insert.as_ref(),
            Command::Update => p.update.as_ref().map(|(_, check)| check),
            Command::Select | Command::Delete => None,
        })
    }

    /// `OR(permissive) AND restrictive...` over the policies that apply to the role and have a
    /// condition for the command `pick` chooses.
    fn combine(
        &self,
        table: &Table,
        node: &Node,
        pick: impl Fn(&CompiledPolicy) -> Option<&Rows>,
    ) -> Result<Option<Expr>, PlanError> {
        let Guard::Role { rules, role, claims } = self else { return Ok(None) };
        let Some(t) = rules.tables.get(&table.name).filter(|t| !t.policies.is_empty()) else { return Ok(None) };
        let mut permissive = Vec::new();
        let mut restrictive = Vec::new();
        for policy in t.policies.iter().filter(|p| p.applies_to(role)) {
            let Some(rows) = pick(policy) else { continue };
            let expr = match rows {
                Rows::All => Expr::And(Vec::new()),
                Rows::Filter(conditions) => Expr::And(
                    conditions
                        .iter()
                        .map(|c| claims_condition_to_expr(node, table, c, claims))
                        .collect::<Result<_, _>>()?,
                ),
            };
            if policy.restrictive { restrictive.push(expr) } else { permissive.push(expr) }
        }
        let mut all = vec![Expr::Or(permissive)];
        all.extend(restrictive);
        Ok(Some(Expr::And(all)))
    }
}
