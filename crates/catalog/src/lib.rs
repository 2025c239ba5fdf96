//! The engine-neutral model of a database: tables and views, columns with neutral types, primary,
//! unique and foreign keys, and the relationships derived from foreign keys.
//!
//! One model whatever its source: introspection of a live database (`rowbase-db`) or, later, a
//! declared schema file. Everything above this crate asks the catalog, never the engine.
//! It owns no I/O and no SQL.

mod access;
mod engine;
mod model;
mod name;
mod relationship;

pub use access::*;
pub use engine::Engine;
pub use model::*;
pub use name::Name;
pub use relationship::*;
