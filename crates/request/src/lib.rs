//! The PostgREST request dialect, parsed into typed values. Pure: no catalog, no I/O.
//!
//! This crate owns the grammar of the query string (`select`, filters, `and`/`or` trees, `order`,
//! `limit`/`offset`, `columns`, `on_conflict`) and of the headers that shape a request (`Prefer`,
//! `Range`, `Accept`). It does not know whether a name exists: that is the planner's job
//! (`rowbase-plan`), which resolves every name against the catalog.
//!
//! The grammar follows the PostgREST API reference ("Tables and Views", "Resource Embedding",
//! "Pagination and Count", "Preferences"); the reference is docs.postgrest.org.
//!
//! Entry points: [`parse_query`] for the URL query string, [`body::parse_body`] for write bodies,
//! and the functions of [`headers`].

pub mod ast;
pub mod body;
mod cursor;
pub mod error;
mod filter;
pub mod headers;
mod order;
mod query;
mod select;

pub use ast::*;
pub use error::ParseError;
pub use query::parse_query;
