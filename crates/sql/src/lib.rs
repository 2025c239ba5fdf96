//! SQL rendering: a plan into SQL text plus bound parameters. No I/O.
//!
//! The renderer ([`render_read`]) walks the plan and writes the statement's structure, which is
//! the same on every engine: one `SELECT` per request, embeds as correlated subqueries, the JSON
//! of each row built by the database. Everything that differs between engines (quoting,
//! placeholders, JSON functions, pattern operators, casts, `LIMIT` forms, null ordering) is a
//! method of [`Dialect`]: [`SqliteDialect`], [`PostgresDialect`] and [`MySqlDialect`].
//!
//! Safety by construction: the [`Writer`] accepts SQL only as `&'static str` fragments, quoted
//! identifiers from the plan (which took them from the catalog), and bound values.

mod dialect;
mod history;
mod mysql;
mod postgres;
mod render;
pub mod search;
mod settings;
mod sqlite;
mod write;
mod writer;

pub use dialect::{Dialect, ObjectForm, PrefixRange, RenderError, ansi_compare_op, dialect_of};
pub use history::render_as_of;
pub use mysql::MySqlDialect;
pub use postgres::PostgresDialect;
pub use render::{ReadStatement, render_read};
pub use settings::{AuditSettings, TransactionSettings};
pub use sqlite::SqliteDialect;
pub use write::{
    Target, render_count, render_delete, render_existing_count, render_insert, render_key_select, render_update,
};
pub use writer::{Statement, Writer};
