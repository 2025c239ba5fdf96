//! What every handler shares.

use std::sync::{Arc, RwLock};

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
    /// The tables (and views) to serve, e.g. those a schema file declares; `None` serves every
    /// one. Relationships to tables left out are not embeddable.
    pub tables: Option<Vec<String>>,
    /// Whether `Prefer: delete=hard` may remove rows of soft-delete tables (otherwise 403).
    pub allow_hard_delete: bool,
    /// The request header whose value the audit log records as the actor (set by a gateway
    /// that authenticated the caller, e.g. `X-Forwarded-User`); `None`: no actor.
    pub actor_header: Option<String>,
    /// Origins whose pages may read and write through CORS (`*`: any). Empty (the default): no
    /// CORS grant, and writes sent from another origin's page are refused (403 `RB403`).
    pub cors_origins: Vec<String>,
    /// Host names (without port) the server answers for; others get 421 `RB421`. `None`: any.
    /// A server listening on a loopback address answers `localhost`, `127.0.0.1` and `::1`
    /// (and those configured) only, which shuts out DNS rebinding.
    pub allowed_hosts: Option<Vec<String>>,
    /// The longest a client may take to send a request body; past it 408 `PGRST102`-class.
    pub body_timeout: std::time::Duration,
    /// The most rows one write takes (a bulk insert's array, a CSV body); past it 413 `54000`,
    /// found while the body is read. Default 50,000.
    pub max_write_rows: usize,
    /// PostgREST's `db-max-rows`: a read returns at most this many rows at the root (a longer
    /// window is cut, with `Content-Range` saying so). `None` (the default): no cap besides the
    /// answer's byte limit.
    pub max_rows: Option<u64>,
    /// How requests are authenticated (keys, role claim, audience, anonymous role); the
    /// default verifies nothing.
    pub auth: crate::auth::AuthConfig,
    /// Declared roles, grants and row-level policies (from the schema file); `None`: none, and
    /// every request reaches every row.
    pub access: Option<std::sync::Arc<rowbase_plan::AccessRules>>,
    /// Users and sessions (`/auth/v1`), when switched on; `None`: those routes answer 404.
    pub users: Option<std::sync::Arc<rowbase_users::Users>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 10 * 1024 * 1024,
            allow_unfiltered_writes: false,
            tables: None,
            allow_hard_delete: false,
            actor_header: None,
            cors_origins: Vec::new(),
            allowed_hosts: None,
            body_timeout: std::time::Duration::from_secs(30),
            max_write_rows: 50_000,
            max_rows: None,
            auth: crate::auth::AuthConfig::default(),
            access: None,
            users: None,
        }
    }
}

/// The shared state: the database, the settings, and per exposed schema its catalog and OpenAPI
/// document (swapped when the schema changes). Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// One exposed schema: name, catalog, OpenAPI document.
pub(crate) type SchemaEntry = (String, Arc<Catalog>, Arc<str>);

struct Inner {
    db: Database,
    config: HttpConfig,
    auth: crate::auth::Authenticator,
    /// The default schema first.
    schemas: RwLock<Arc<Vec<SchemaEntry>>>,
    /// The database's schema fingerprint when the catalogs were last read.
    fingerprint: tokio::sync::Mutex<Option<String>>,
}

impl AppState {
    /// State over an open database, with the catalogs it was introspected with.
    pub fn new(db: Database, config: HttpConfig) -> AppState {
        let schemas = entries(&db, config.tables.as_deref());
        AppState {
            inner: Arc::new(Inner {
                db,
                auth: crate::auth::Authenticator::new(config.auth.clone()),
                config,
                schemas: RwLock::new(Arc::new(schemas)),
                fingerprint: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// Checks that the server verifies the access tokens its users service signs (a signing key
    /// whose public half is not in the verifying keys would issue tokens no request could use).
    ///
    /// Errors: the message says why the probe token was refused.
    pub fn check_users_tokens(&self) -> Result<(), String> {
        let Some(users) = &self.config().users else { return Ok(()) };
        let token = users.probe_token().map_err(|e| e.to_string())?;
        let mut headers = axum::http::HeaderMap::new();
        let value = axum::http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
        headers.insert(axum::http::header::AUTHORIZATION, value);
        match self.auth().authenticate(&headers) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!(
                "the server refuses the access tokens --users signs ({}): the signing key's public half must be among the \
                 verifying keys (ROWBASE_JWT_SECRET, or the kid in --jwks-file)",
                e.body().message
            )),
        }
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// The token verifier.
    pub(crate) fn auth(&self) -> &crate::auth::Authenticator {
        &self.inner.auth
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// The exposed schemas as last read, the default first: name, catalog, OpenAPI document.
    /// A snapshot: a reload swaps in a new one without touching it.
    pub(crate) fn current(&self) -> Arc<Vec<SchemaEntry>> {
        self.inner.schemas.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The catalog of an exposed schema.
    pub fn catalog(&self, schema: &str) -> Option<Arc<Catalog>> {
        self.current().iter().find(|(s, _, _)| s == schema).map(|(_, c, _)| c.clone())
    }

    /// The OpenAPI document of an exposed schema, rendered when the catalog was read.
    pub(crate) fn openapi(&self, schema: &str) -> Option<Arc<str>> {
        self.current().iter().find(|(s, _, _)| s == schema).map(|(_, _, o)| o.clone())
    }

    /// Records the schema fingerprint, then reads the catalogs again: whatever changed since the
    /// database was opened is in them, and every later change moves the fingerprint past the one
    /// recorded (so the watcher's polls see it).
    ///
    /// Errors: the database could not be read.
    pub async fn prime(&self) -> Result<(), rowbase_db::DbError> {
        let mut known = self.inner.fingerprint.lock().await;
        *known = Some(self.inner.db.fingerprint().await?);
        self.reload().await
    }

    /// Reads the catalogs and swaps them in for the requests that follow.
    async fn reload(&self) -> Result<(), rowbase_db::DbError> {
        self.inner.db.reload().await?;
        *self.inner.schemas.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Arc::new(entries(&self.inner.db, self.inner.config.tables.as_deref()));
        Ok(())
    }

    /// Reads the catalogs again if the database's schema changed since they were read (or
    /// always, with `force`). Returns whether they were read.
    ///
    /// Errors: the database cannot be reached; the old catalogs stay in use.
    pub async fn refresh(&self, force: bool) -> Result<bool, rowbase_db::DbError> {
        let mut known = self.inner.fingerprint.lock().await;
        let now = self.inner.db.fingerprint().await?;
        if !force && known.as_deref() == Some(now.as_str()) {
            return Ok(false);
        }
        let first = known.is_none();
        *known = Some(now);
        if first && !force {
            // The first look only records what the catalogs at start were read from.
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }
}

/// Each exposed schema's catalog (only the `served` tables, when given) and OpenAPI document.
fn entries(db: &Database, served: Option<&[String]>) -> Vec<SchemaEntry> {
    db.schemas()
        .into_iter()
        .filter_map(|schema| {
            let mut catalog = db.catalog(&schema)?;
            if let Some(served) = served {
                let kept = catalog.tables().iter().filter(|t| served.contains(&t.name)).cloned().collect();
                catalog = Arc::new(Catalog::new(kept));
            }
            let openapi: Arc<str> = crate::openapi::document(&catalog, db.engine()).into();
            Some((schema, catalog, openapi))
        })
        .collect()
}
