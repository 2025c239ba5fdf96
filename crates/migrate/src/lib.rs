//! Migrations: a declared schema (`rowbase.toml`, see `docs/schema.md`), its difference from a
//! live database's catalog as steps, those steps as SQL per engine (up and down), and versioned
//! migration directories with checksums. Running them under a lock with a ledger is the
//! database layer's part (`rowbase_db::migrations`).
//!
//! The path: [`schema::parse`] → [`diff::diff`] (against the introspected catalog) →
//! [`ddl::render`] per engine → [`files::write_migration`].

mod access;
pub mod audit;
pub mod condition;
pub mod ddl;
pub mod diff;
pub mod files;
pub mod native;
pub mod schema;
