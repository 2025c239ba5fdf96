//! The database layer: connection pools, execution of rendered statements, introspection of a
//! live database into a [`rowbase_catalog::Catalog`], and classification of engine errors into
//! SQLSTATE-like kinds. One module per engine; [`Database`] is the engine-neutral handle the
//! HTTP layer holds.

mod database;
pub mod error;
pub mod sqlite;

pub use database::{Database, DatabaseOptions, ReadOutput};
pub use error::{DbError, ErrorKind};
