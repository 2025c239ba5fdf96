//! What every handler shares.

use std::sync::Arc;

use rowbase_catalog::Catalog;
use rowbase_db::Database;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// Whether `PATCH`/`DELETE` without any filter may touch every row (refused by default: the
    /// "never DELETE without WHERE" rule).
    pub allow_unfiltered_writes: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { max_body_bytes: 10 * 1024 * 1024, allow_unfiltered_writes: false }
    }
}

/// The shared state: the database, its catalog and the settings. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    config: HttpConfig,
    catalog: Arc<Catalog>,
    openapi: String,
}

impl AppState {
    /// State over an open database, with the catalog it was introspected with.
    pub fn new(db: Database, config: HttpConfig) -> AppState {
        let catalog = db.catalog();
        let openapi = crate::openapi::document(&catalog, db.engine());
        AppState { inner: Arc::new(Inner { db, config, catalog, openapi }) }
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
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
