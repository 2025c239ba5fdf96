//! Declared access made native on PostgreSQL (docs/schema.md, "Access control"): the schema
//! file's roles become database roles, its grants `GRANT`s, its policies `CREATE POLICY` with
//! row-level security enabled, so SQL reaching the database through any other door obeys them
//! too, and a request's `SET LOCAL ROLE` finds them. SQLite and MySQL have no such objects:
//! there Rowbase's planner alone enforces the declared access.
//!
//! A migration carries the whole access script as one block between [`BEGIN`] and [`END`]: it
//! first undoes whatever an earlier block did (every policy named `rb_*` in the schema dropped
//! and its table's row-level security disabled; every privilege of the roles Rowbase manages, by
//! their comment [`ROLE_COMMENT`], revoked on the schema's tables), then applies the declared
//! access. A block is therefore idempotent, and the way back is the previous block (or the reset
//! alone). Whether access changed is read from the migrations themselves: the last block written
//! against the declared one.

use std::fmt::Write as _;

use rowbase_catalog::{Columns, Policy, RowCondition};

use crate::condition::Condition;
use crate::ddl::{Engine, EngineDdl};
use crate::schema::{Schema, Table};

/// The first line of an access block.
pub const BEGIN: &str = "-- rowbase access: begin";
/// The last line of an access block.
pub const END: &str = "-- rowbase access: end";
/// The comment that marks a role as Rowbase's to manage.
pub const ROLE_COMMENT: &str = "rowbase role";

/// Undoes every earlier access block: drops `rb_*` policies, disables row-level security where
/// they were, revokes what Rowbase's roles were granted on the schema's tables.
pub fn reset() -> String {
    format!(
        "{BEGIN}\nDO $rowbase$\nDECLARE p record;\nBEGIN\n  \
         FOR p IN SELECT policyname, tablename FROM pg_policies WHERE schemaname = current_schema() AND policyname LIKE 'rb\\_%' LOOP\n    \
         EXECUTE format('DROP POLICY %I ON %I', p.policyname, p.tablename);\n    \
         EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', p.tablename);\n  END LOOP;\n  \
         FOR p IN SELECT r.rolname FROM pg_roles r JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass WHERE d.description = '{ROLE_COMMENT}' LOOP\n    \
         EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', current_schema(), p.rolname);\n  END LOOP;\nEND\n$rowbase$;\n"
    )
}

/// The access block of a declared schema: [`reset`], then its roles, grants and policies;
/// `None` when it declares no access.
pub fn block(schema: &Schema) -> Option<String> {
    let access = schema.access.as_ref()?;
    let e = crate::ddl::of(Engine::Postgres);
    let q = |name: &str| e.quote(name);
    let mut out = reset();
    let all: Vec<&str> = access.roles.keys().map(String::as_str).collect();
    let governed: Vec<&str> = access.roles.iter().filter(|(_, r)| !r.bypass).map(|(n, _)| n.as_str()).collect();
    let bypass: Vec<&str> = access.roles.iter().filter(|(_, r)| r.bypass).map(|(n, _)| n.as_str()).collect();
    for role in &all {
        let _ = writeln!(
            out,
            "DO $rowbase$ BEGIN CREATE ROLE {r} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $rowbase$;\n\
             COMMENT ON ROLE {r} IS '{ROLE_COMMENT}';\nGRANT {r} TO CURRENT_USER;",
            r = q(role)
        );
    }
    if !all.is_empty() {
        let list = all.iter().map(|r| q(r)).collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            out,
            "DO $rowbase$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO {}', current_schema()); END $rowbase$;",
            list.replace('\'', "''")
        );
    }
    for table in &schema.tables {
        let t = q(&table.name);
        let declared = access.tables.get(&table.name);
        for (role, p) in declared.map(|d| &d.grants).into_iter().flatten() {
            let r = q(role);
            for (command, columns) in [("SELECT", &p.select), ("INSERT", &p.insert), ("UPDATE", &p.update)] {
                match columns {
                    None => {}
                    Some(Columns::All) => {
                        let _ = writeln!(out, "GRANT {command} ON {t} TO {r};");
                    }
                    Some(Columns::Only(list)) => {
                        let list = list.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
                        let _ = writeln!(out, "GRANT {command} ({list}) ON {t} TO {r};");
                    }
                }
            }
            if p.delete {
                let _ = writeln!(out, "GRANT DELETE ON {t} TO {r};");
            }
        }
        for role in &bypass {
            let _ = writeln!(out, "GRANT ALL ON {t} TO {};", q(role));
        }
        let policies = declared.map(|d| d.policies.as_slice()).unwrap_or_default();
        if !policies.is_empty() {
            let _ = writeln!(out, "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;");
            for policy in policies {
                for (_, statement) in policy_sql(e, table, policy, &governed) {
                    let _ = writeln!(out, "{statement}");
                }
            }
            for role in &bypass {
                let _ = writeln!(
                    out,
                    "CREATE POLICY {} ON {t} AS PERMISSIVE FOR ALL TO {} USING (true) WITH CHECK (true);",
                    q(&format!("rb_bypass_{role}")),
                    q(role)
                );
            }
        }
        if table.audit {
            // The audit trigger writes the log as its owner, whatever role the request runs as.
            let _ = writeln!(
                out,
                "ALTER FUNCTION {}() SECURITY DEFINER SET search_path FROM CURRENT;",
                q(&format!("{}_audit", table.name))
            );
        }
    }
    if schema.tables.iter().any(|t| t.audit) {
        // History is the bypass roles' to read (as-of reads of governed tables are refused).
        for role in &bypass {
            let _ = writeln!(out, "GRANT SELECT ON {} TO {};", q(rowbase_catalog::AUDIT_LOG), q(role));
        }
    }
    out.push_str(END);
    out.push('\n');
    Some(out)
}

/// `CREATE POLICY` statements of one declared policy, one per command it names, with their
/// names: `rb_<name>_<command>_<hash>`, the hash (8 hex digits of SHA-256) of the policy's
/// definition, so a changed definition has a new name and `serve --schema` sees whether the
/// live policies are the declared ones. A policy for every role names the governed ones (a
/// bypass role has its own policy, and restrictive ones must not bind it).
fn policy_sql(e: &dyn EngineDdl, table: &Table, policy: &Policy, governed: &[&str]) -> Vec<(String, String)> {
    let q = |name: &str| e.quote(name);
    let roles: Vec<String> = if policy.roles.is_empty() {
        governed.iter().map(|r| q(r)).collect()
    } else {
        policy.roles.iter().map(|r| q(r)).collect()
    };
    if roles.is_empty() {
        return Vec::new();
    }
    let condition = |rows: &RowCondition| match rows {
        RowCondition::All => "true".to_string(),
        // Checked when the schema file was read.
        RowCondition::Filter(text) => {
            Condition::parse_policy(text, table).map_or_else(|_| "false".into(), |c| c.sql(Engine::Postgres))
        }
    };
    let kind = if policy.restrictive { "RESTRICTIVE" } else { "PERMISSIVE" };
    let mut out = Vec::new();
    let mut add = |command: &str, rest: String| {
        let definition = format!("AS {kind} FOR {} TO {} {rest}", command.to_ascii_uppercase(), roles.join(", "));
        let name = format!("rb_{}_{command}_{}", policy.name, &crate::files::checksum(&definition)[..8]);
        out.push((name.clone(), format!("CREATE POLICY {} ON {} {definition};", q(&name), q(&table.name))));
    };
    if let Some(using) = &policy.select {
        add("select", format!("USING ({})", condition(using)));
    }
    if let Some(check) = &policy.insert {
        add("insert", format!("WITH CHECK ({})", condition(check)));
    }
    if let Some((using, check)) = &policy.update {
        add("update", format!("USING ({}) WITH CHECK ({})", condition(using), condition(check)));
    }
    if let Some(using) = &policy.delete {
        add("delete", format!("USING ({})", condition(using)));
    }
    out
}

/// The native policies the declared access gives `table` (`rb_<name>_<command>`, and
/// `rb_bypass_<role>` where it has any), sorted: what `serve --schema` expects to find.
pub fn policy_names(schema: &Schema, table: &str) -> Vec<String> {
    let Some(access) = &schema.access else { return Vec::new() };
    let Some(declared) = access.tables.get(table).filter(|t| !t.policies.is_empty()) else { return Vec::new() };
    let Some(table) = schema.tables.iter().find(|t| t.name == table) else { return Vec::new() };
    let e = crate::ddl::of(Engine::Postgres);
    let governed: Vec<&str> = access.roles.iter().filter(|(_, r)| !r.bypass).map(|(n, _)| n.as_str()).collect();
    let mut names = Vec::new();
    for p in &declared.policies {
        names.extend(policy_sql(e, table, p, &governed).into_iter().map(|(name, _)| name));
    }
    names.extend(access.roles.iter().filter(|(_, r)| r.bypass).map(|(n, _)| format!("rb_bypass_{n}")));
    names.sort();
    names
}

/// The last access block among migration scripts (in version order), if any.
pub fn last_block<'a>(scripts: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut last = None;
    for script in scripts {
        if let (Some(start), Some(end)) = (script.rfind(BEGIN), script.rfind(END)) {
            if end > start {
                last = Some(format!("{}\n", &script[start..end + END.len()]));
            }
        }
    }
    last
}

/// Whether the declared access differs from the last block the migrations wrote (no block and
/// a bare reset both mean none).
pub fn changed(schema: &Schema, last: Option<&str>) -> bool {
    let wanted = block(schema);
    match (wanted.as_deref(), last) {
        (None, None) => false,
        (None, Some(last)) => last != none(),
        (Some(wanted), last) => Some(wanted) != last,
    }
}

/// The block that removes every declared access (the reset alone).
pub fn none() -> String {
    format!("{}{END}\n", reset())
}
