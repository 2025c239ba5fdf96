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
    /// Per exposed schema, the default first: its catalog and its OpenAPI document.
    schemas: Vec<(String, Arc<Catalog>, String)>,
}

impl AppState {
    /// State over an open database, with the catalog it was introspected with.
    pub fn new(db: Database, config: HttpConfig) -> AppState {
        let schemas = db
            .schemas()
            .into_iter()
            .filter_map(|schema| {
                let catalog = db.catalog(&schema)?;
                let openapi = crate::openapi::document(&catalog, db.engine());
                Some((schema, catalog, openapi))
            })
            .collect();
        AppState { inner: Arc::new(Inner { db, config, schemas }) }
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// The catalog of an exposed schema.
    pub fn catalog(&self, schema: &str) -> Option<&Catalog> {
        self.inner.schemas.iter().find(|(s, _, _)| s == schema).map(|(_, c, _)| c.as_ref())
    }

    /// The exposed schemas, the default first.
    pub fn schemas(&self) -> impl Iterator<Item = &str> {
        self.inner.schemas.iter().map(|(s, _, _)| s.as_str())
    }

    /// The OpenAPI document of an exposed schema, rendered once.
    pub(crate) fn openapi(&self, schema: &str) -> Option<&str> {
        self.inner.schemas.iter().find(|(s, _, _)| s == schema).map(|(_, _, o)| o.as_str())
    }
}
