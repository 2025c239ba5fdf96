//! What every handler shares.

use std::sync::Arc;

use rowbase_catalog::Catalog;
use rowbase_db::Database;

/// The shared state: the database and its catalog. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    catalog: Arc<Catalog>,
    openapi: String,
}

impl AppState {
    /// State over an open database, with the catalog it was introspected with.
    pub fn new(db: Database) -> AppState {
        let catalog = db.catalog();
        let openapi = crate::openapi::document(&catalog, db.engine());
        AppState { inner: Arc::new(Inner { db, catalog, openapi }) }
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// The OpenAPI document, rendered once.
    pub(crate) fn openapi(&self) -> &str {
        &self.inner.openapi
    }
}
