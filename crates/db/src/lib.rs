//! The database layer: connection pools, execution of rendered statements, introspection of a
//! live database into a [`rowbase_catalog::Catalog`], and classification of engine errors into
//! SQLSTATE-like kinds. One module per engine; [`Database`] is the engine-neutral handle the
//! HTTP layer holds. Reads run on a pool of read-only connections; writes go through
//! [`Database::write`] as [`WriteJob`]s.

mod batch;
mod database;
pub mod error;
mod exec;
pub mod migrations;
pub mod mysql;
pub mod postgres;
pub mod sqlite;
mod write;

pub use batch::{Batch, BatchOutput, BatchStatement};
pub use database::{Database, DatabaseOptions, ReadOutput, Synchronous};
pub use error::{DbError, ErrorKind};
pub use rowbase_sql::{AuditSettings, TransactionSettings};
pub use write::{Link, Returning, WriteJob, WriteOutput, WriteStep};
