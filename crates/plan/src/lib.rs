//! Planning: a parsed request plus the catalog into a resolved, dialect-neutral plan.
//!
//! Every name in the request is checked here: tables (`PGRST205`), columns (`42703`),
//! relationships for embedding (`PGRST200`/`PGRST201`), embed paths of filters and orders
//! (`PGRST108`), casts (`42704`), and every filter value is checked against its column's type
//! (`22P02`). What comes out refers only to catalog names and typed values, so the SQL renderer
//! (`rowbase-sql`) never sees raw client text in an identifier position.

mod access;
mod context;
pub mod error;
mod expr;
mod plan;
mod read;
mod relation;
pub mod rules;
mod value;
mod write;

pub use access::{AccessRules, claim};
pub use context::{Action, AsOfPlan, Plan, RequestContext, RequestLine, ServerRules, plan};
pub use error::PlanError;
pub use plan::*;
pub use read::{ReadRequest, Window};
pub use value::{Value, coerce, invalid_input_code, without_zone};
pub use write::{InsertRequest, OnDuplicate};
