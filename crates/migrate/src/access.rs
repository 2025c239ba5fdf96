//! The access-control part of the schema file (docs/schema.md, "Access control"): `[roles]`,
//! and per table `grants` and `policies`, read into `rowbase_catalog::Access`.
//!
//! ```toml
//! [roles]
//! anon = {}
//! authenticated = {}
//! service_role = { bypass = true }
//!
//! [tables.post]
//! columns = [ ... ]
//! grants = { anon = ["select"], authenticated = ["select", "insert", "update", "delete"] }
//!
//! [tables.post.policies.readable]
//! select = "or=(published.is.true,author_id.eq.{jwt.sub})"
//!
//! [tables.post.policies.own]
//! to = ["authenticated"]
//! insert = { check = "author_id=eq.{jwt.sub}" }
//! update = { using = "author_id=eq.{jwt.sub}", check = "author_id=eq.{jwt.sub}" }
//! delete = "author_id=eq.{jwt.sub}"
//! ```
//!
//! A grant is a list of commands (every column), or a table giving each command `"*"` or a
//! list of columns (`delete = true`). A policy's command is a condition in the filter grammar,
//! or `true` for every row; `to` lists its roles (every role when absent); `restrictive = true`
//! makes it restrictive.

use std::collections::BTreeMap;

use rowbase_catalog::{Access, Columns, Policy, Privileges, Role, RowCondition, TableAccess};
use serde::Deserialize;
use toml::Spanned;

use crate::condition::Condition;
use crate::schema::{Locator, SchemaError, Table};

/// `[roles.NAME]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileRole {
    #[serde(default)]
    bypass: bool,
}

/// A table's `grants.ROLE`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum FileGrant {
    /// `["select", "insert"]`.
    Commands(Vec<String>),
    /// `{ select = "*", update = ["title"], delete = true }`.
    Detailed {
        #[serde(default)]
        select: Option<FileColumns>,
        #[serde(default)]
        insert: Option<FileColumns>,
        #[serde(default)]
        update: Option<FileColumns>,
        #[serde(default)]
        delete: bool,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum FileColumns {
    All(String),
    Only(Vec<String>),
}

/// A table's `policies.NAME`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilePolicy {
    #[serde(default)]
    to: Option<Vec<String>>,
    #[serde(default)]
    restrictive: bool,
    #[serde(default)]
    select: Option<Spanned<FileRows>>,
    #[serde(default)]
    insert: Option<Spanned<FileRows>>,
    #[serde(default)]
    update: Option<Spanned<FileRows>>,
    #[serde(default)]
    delete: Option<Spanned<FileRows>>,
}

/// `true`, a condition, or `{ using = ..., check = ... }`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(crate) enum FileRows {
    Every(bool),
    Filter(String),
    Parts {
        #[serde(default)]
        using: Option<Box<FileRows>>,
        #[serde(default)]
        check: Option<Box<FileRows>>,
    },
}

const POLICY_HINT: &str = "a policy's command is true (every row) or a condition in the filter grammar, e.g. \
     \"author_id=eq.{jwt.sub}\"; update takes { using = ..., check = ... }";

/// A declared table with its file's `grants` and `policies`.
pub(crate) type Governed<'a> =
    (&'a Table, &'a BTreeMap<Spanned<String>, Spanned<FileGrant>>, &'a BTreeMap<Spanned<String>, Spanned<FilePolicy>>);

/// Reads the access declarations: `roles` from the file's top level, and each table's grants
/// and policies (`tables`: the declared table with its raw `grants`/`policies`).
///
/// Errors: grants or policies without `[roles]`, an undeclared role, a command or column that
/// does not exist, a condition that does not parse against its table (each located).
pub(crate) fn read(
    at: &Locator<'_>,
    roles: Option<&Spanned<BTreeMap<String, FileRole>>>,
    tables: &[Governed<'_>],
) -> Result<Option<Access>, SchemaError> {
    let Some(roles) = roles else {
        for (_, grants, policies) in tables {
            if let Some(first) = grants.keys().next().or_else(|| policies.keys().next()) {
                return Err(at.at(
                    first.span(),
                    "grants and policies need the roles they name declared under [roles]",
                    Some("e.g. [roles] anon = {} authenticated = {}".into()),
                ));
            }
        }
        return Ok(None);
    };
    let declared: BTreeMap<String, Role> =
        roles.get_ref().iter().map(|(name, r)| (name.clone(), Role { bypass: r.bypass })).collect();
    let known = |name: &str, span: std::ops::Range<usize>| -> Result<(), SchemaError> {
        if declared.contains_key(name) {
            Ok(())
        } else {
            Err(at.at(
                span,
                format!("the role \"{name}\" is not declared"),
                Some(format!("declared roles: {}", declared.keys().cloned().collect::<Vec<_>>().join(", "))),
            ))
        }
    };
    let mut access = Access { roles: declared.clone(), tables: BTreeMap::new() };
    for (table, grants, policies) in tables {
        let mut entry = TableAccess::default();
        for (role, grant) in *grants {
            known(role.get_ref(), role.span())?;
            entry.grants.insert(role.get_ref().clone(), privileges(at, table, grant)?);
        }
        for (name, policy) in *policies {
            let p = policy.get_ref();
            let roles = p.to.clone().unwrap_or_default();
            for role in &roles {
                known(role, policy.span())?;
            }
            let condition = |rows: &Spanned<FileRows>, value: &FileRows| -> Result<RowCondition, SchemaError> {
                match value {
                    FileRows::Every(true) => Ok(RowCondition::All),
                    FileRows::Filter(text) => {
                        Condition::parse_policy(text, table)
                            .map_err(|m| at.at(rows.span(), m, Some(POLICY_HINT.into())))?;
                        Ok(RowCondition::Filter(text.clone()))
                    }
                    _ => Err(at.at(rows.span(), "not a row condition", Some(POLICY_HINT.into()))),
                }
            };
            let simple = |rows: &Option<Spanned<FileRows>>, what: &str| -> Result<Option<RowCondition>, SchemaError> {
                let Some(rows) = rows else { return Ok(None) };
                match rows.get_ref() {
                    FileRows::Parts { using: None, check: Some(check) } if what == "check" => {
                        condition(rows, check).map(Some)
                    }
                    FileRows::Parts { using: Some(using), check: None } if what == "using" => {
                        condition(rows, using).map(Some)
                    }
                    FileRows::Parts { .. } => Err(at.at(
                        rows.span(),
                        format!("this command takes one condition (its {what})"),
                        Some(POLICY_HINT.into()),
                    )),
                    value => condition(rows, value).map(Some),
                }
            };
            let update = match &p.update {
                None => None,
                Some(rows) => Some(match rows.get_ref() {
                    FileRows::Parts { using, check } => {
                        let using = using.as_deref().map_or(Ok(RowCondition::All), |u| condition(rows, u))?;
                        let check = match check.as_deref() {
                            Some(c) => condition(rows, c)?,
                            None => using.clone(),
                        };
                        (using, check)
                    }
                    value => {
                        let using = condition(rows, value)?;
                        (using.clone(), using)
                    }
                }),
            };
            let policy = Policy {
                name: name.get_ref().clone(),
                roles,
                restrictive: p.restrictive,
                select: simple(&p.select, "using")?,
                insert: simple(&p.insert, "check")?,
                update,
                delete: simple(&p.delete, "using")?,
            };
            if policy.select.is_none() && policy.insert.is_none() && policy.update.is_none() && policy.delete.is_none()
            {
                return Err(at.at(
                    name.span(),
                    format!("the policy \"{}\" names no command", name.get_ref()),
                    Some(POLICY_HINT.into()),
                ));
            }
            entry.policies.push(policy);
        }
        if !entry.grants.is_empty() || !entry.policies.is_empty() {
            access.tables.insert(table.name.clone(), entry);
        }
    }
    Ok(Some(access))
}

fn privileges(at: &Locator<'_>, table: &Table, grant: &Spanned<FileGrant>) -> Result<Privileges, SchemaError> {
    let columns = |c: &Option<FileColumns>| -> Result<Option<Columns>, SchemaError> {
        match c {
            None => Ok(None),
            Some(FileColumns::All(star)) if star == "*" => Ok(Some(Columns::All)),
            Some(FileColumns::All(other)) => Err(at.at(
                grant.span(),
                format!("\"{other}\" is not a column list: give \"*\" or a list of columns"),
                None,
            )),
            Some(FileColumns::Only(list)) => {
                for name in list {
                    if table.column(name).is_none() {
                        return Err(at.at(
                            grant.span(),
                            format!("table {} has no column \"{name}\"", table.name),
                            None,
                        ));
                    }
                }
                Ok(Some(Columns::Only(list.clone())))
            }
        }
    };
    match grant.get_ref() {
        FileGrant::Commands(commands) => {
            let mut p = Privileges::default();
            for command in commands {
                match command.to_ascii_lowercase().as_str() {
                    "select" => p.select = Some(Columns::All),
                    "insert" => p.insert = Some(Columns::All),
                    "update" => p.update = Some(Columns::All),
                    "delete" => p.delete = true,
                    "all" => {
                        p.select = Some(Columns::All);
                        p.insert = Some(Columns::All);
                        p.update = Some(Columns::All);
                        p.delete = true;
                    }
                    other => {
                        return Err(at.at(
                            grant.span(),
                            format!("\"{other}\" is not a command"),
                            Some("select, insert, update, delete or all".into()),
                        ));
                    }
                }
            }
            Ok(p)
        }
        FileGrant::Detailed { select, insert, update, delete } => Ok(Privileges {
            select: columns(select)?,
            insert: columns(insert)?,
            update: columns(update)?,
            delete: *delete,
        }),
    }
}
