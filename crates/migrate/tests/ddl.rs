//! The DDL every migration step renders, on the three engines side by side: each example schema
//! (blog, shop, ledger: tables, keys, checks, indexes, timestamps, soft delete, audit, full-text
//! search) planned against an empty database. A change to the SQL of any engine shows here as a
//! snapshot diff to review.

#![allow(clippy::unwrap_used)]

use std::fmt::Write;
use std::path::Path;

use rowbase_catalog::Catalog;
use rowbase_migrate::ddl::{Engine, render};
use rowbase_migrate::diff::diff;
use rowbase_migrate::schema::parse;

fn ddl_of(example: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(example).join("rowbase.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let schema = parse("rowbase.toml", &text).unwrap();
    let steps = diff(&Catalog::default(), &schema, false).unwrap();
    let mut out = String::new();
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(out, "## step {}: {}", i + 1, step.describe());
        for engine in Engine::ALL {
            let (up, down) = render(std::slice::from_ref(step), engine);
            let _ = writeln!(out, "### {} up\n{up}\n### {} down\n{down}", engine.name(), engine.name());
        }
        out.push('\n');
    }
    out
}

#[test]
fn blog() {
    insta::assert_snapshot!(ddl_of("blog"));
}

#[test]
fn shop() {
    insta::assert_snapshot!(ddl_of("shop"));
}

#[test]
fn ledger() {
    insta::assert_snapshot!(ddl_of("ledger"));
}
