//! The command line. Settings come in layers: defaults, the `[server]` section of a
//! configuration file (`--config`; see `crate::config`), then `ROWBASE_*` / `DATABASE_URL`
//! environment variables, then flags. `--help` groups the `serve` settings by topic.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use rowbase_db::{DatabaseOptions, Synchronous};
use rowbase_http::HttpConfig;
use rowbase_http::auth::{AuthConfig, JwtKeys};

use crate::Options;

/// Rowbase: a PostgREST-compatible data backend in one binary.
#[derive(Debug, Parser)]
#[command(name = "rowbase", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a database over HTTP in the PostgREST dialect.
    Serve(Box<ServeArgs>),
    /// Plan, apply, revert and list migrations from a schema file.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Look after the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// `rowbase audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Delete audit entries older than a number of days (the log's retention; run it daily, e.g.
    /// from cron). The log refuses every other UPDATE and DELETE.
    Prune {
        /// The database URL or SQLite path.
        #[arg(env = "DATABASE_URL")]
        database: String,
        /// Keep the entries of the last N days.
        #[arg(long)]
        keep_days: u32,
    },
}

/// `rowbase migrate ...`.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Compare the schema file with the database and write a migration for the difference.
    Plan {
        /// Where and what.
        #[command(flatten)]
        target: MigrateTarget,
        /// The schema file.
        #[arg(long, default_value = "rowbase.toml")]
        schema: std::path::PathBuf,
        /// The migration's name.
        #[arg(long, default_value = "schema")]
        name: String,
        /// Allow dropping tables and columns.
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Apply every pending migration, in order.
    Apply {
        /// Where and what.
        #[command(flatten)]
        target: MigrateTarget,
    },
    /// Revert the last N applied migrations (default 1).
    Down {
        /// Where and what.
        #[command(flatten)]
        target: MigrateTarget,
        /// How many.
        #[arg(default_value_t = 1)]
        count: usize,
    },
    /// List migrations: applied, pending, changed or missing.
    Status {
        /// Where and what.
        #[command(flatten)]
        target: MigrateTarget,
    },
}

/// The database and the migrations directory.
#[derive(Debug, clap::Args)]
pub struct MigrateTarget {
    /// The database URL or SQLite path.
    #[arg(env = "DATABASE_URL")]
    pub database: String,
    /// The migrations directory.
    #[arg(long, default_value = "migrations")]
    pub dir: std::path::PathBuf,
}

/// `rowbase serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The database: `postgres://user@host:port/db`, a path to an SQLite file, or `sqlite://path`.
    #[arg(env = "DATABASE_URL", hide_env_values = true)]
    pub database: String,

    /// A configuration file whose `[server]` section sets any of these settings (below the
    /// environment and the flags); docs/rowbase.reference.toml lists them.
    #[arg(long, env = "ROWBASE_CONFIG")]
    pub config: Option<std::path::PathBuf>,

    /// The address to listen on.
    #[arg(long, env = "ROWBASE_LISTEN", default_value = "127.0.0.1:3000", help_heading = "Server")]
    pub listen: SocketAddr,

    /// Connections in the pool (default: two per core, at least four).
    #[arg(long, env = "ROWBASE_POOL_SIZE", help_heading = "Database pool")]
    pub pool_size: Option<usize>,

    /// Seconds a request waits for a free connection before failing with 503.
    #[arg(long, env = "ROWBASE_POOL_TIMEOUT", default_value_t = 10, help_heading = "Database pool")]
    pub pool_timeout: u64,

    /// Seconds a read statement may run before the engine cancels it and the request answers
    /// 504 `57014` (PostgreSQL: every statement; 0: no limit).
    #[arg(long, env = "ROWBASE_STATEMENT_TIMEOUT", default_value_t = 10.0, help_heading = "Limits")]
    pub statement_timeout: f64,

    /// Seconds a pooled server connection may live before it is replaced (`pool_recycle`).
    #[arg(long, env = "ROWBASE_POOL_MAX_LIFETIME", default_value_t = 1800, help_heading = "Database pool")]
    pub pool_max_lifetime: u64,

    /// Seconds a pooled server connection may sit unused before it is replaced.
    #[arg(long, env = "ROWBASE_POOL_IDLE_TIMEOUT", default_value_t = 600, help_heading = "Database pool")]
    pub pool_idle_timeout: u64,

    /// Seconds opening a server connection may take; past it requests fail fast with 503.
    #[arg(long, env = "ROWBASE_CONNECT_TIMEOUT", default_value_t = 2, help_heading = "Database pool")]
    pub connect_timeout: u64,

    /// The schemas served, comma-separated; the first is the default, the others are chosen
    /// with `Accept-Profile`/`Content-Profile` (PostgreSQL; SQLite serves `public`).
    #[arg(
        long,
        env = "ROWBASE_SCHEMAS",
        value_delimiter = ',',
        default_value = "public",
        help_heading = "Database pool"
    )]
    pub schemas: Vec<String>,

    /// Never write to the database file, not even to switch it to WAL mode; writes answer 405.
    #[arg(long, env = "ROWBASE_READ_ONLY", help_heading = "SQLite")]
    pub read_only: bool,

    /// SQLite durability: `full` syncs at every commit (survives power loss); `normal` survives a
    /// crash of the process but may lose the last commits on power loss.
    #[arg(long, env = "ROWBASE_SQLITE_SYNCHRONOUS", value_enum, default_value_t = SynchronousArg::Full, help_heading = "SQLite")]
    pub sqlite_synchronous: SynchronousArg,

    /// How many queued writes may share one commit (1 disables group commit).
    #[arg(long, env = "ROWBASE_GROUP_COMMIT", default_value_t = 64, help_heading = "SQLite")]
    pub group_commit: usize,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "ROWBASE_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024, help_heading = "Limits")]
    pub max_body_bytes: usize,

    /// Let PATCH and DELETE without any filter change every row (refused by default).
    #[arg(long, env = "ROWBASE_ALLOW_UNFILTERED_WRITES", help_heading = "Writes")]
    pub allow_unfiltered_writes: bool,

    /// Let `Prefer: delete=hard` remove rows of soft-delete tables (refused with 403 by default:
    /// DELETE marks them deleted).
    #[arg(long, env = "ROWBASE_ALLOW_HARD_DELETE", help_heading = "Writes")]
    pub allow_hard_delete: bool,

    /// The request header whose value the audit log records as the actor, set by the gateway
    /// in front of Rowbase that authenticated the caller (e.g. `X-Forwarded-User`). Without it,
    /// changes are logged without an actor: a client could claim any name.
    #[arg(long, env = "ROWBASE_ACTOR_HEADER", help_heading = "Writes")]
    pub actor_header: Option<String>,

    /// An origin whose web pages may read and write this server (CORS), e.g.
    /// `https://app.example.com`; repeat, or separate with commas; `*` for any. None by default:
    /// only pages served from the server's own origin.
    #[arg(long = "cors-origin", env = "ROWBASE_CORS_ORIGINS", value_delimiter = ',', help_heading = "Browsers")]
    pub cors_origins: Vec<String>,

    /// A host name requests may address this server by (the `Host` header), besides `localhost`,
    /// `127.0.0.1` and `::1` on a loopback listener; repeat, or separate with commas. On other
    /// listeners, giving any restricts requests to those given.
    #[arg(long = "allowed-host", env = "ROWBASE_ALLOWED_HOSTS", value_delimiter = ',', help_heading = "Browsers")]
    pub allowed_hosts: Vec<String>,

    /// A schema file (`rowbase.toml`): serve only the tables it declares, and refuse to start
    /// unless the database matches it.
    #[arg(long, env = "ROWBASE_SCHEMA", help_heading = "Schema")]
    pub schema: Option<std::path::PathBuf>,

    /// With `--schema`: the migrations directory.
    #[arg(long, env = "ROWBASE_MIGRATIONS", default_value = "migrations", help_heading = "Schema")]
    pub migrations: std::path::PathBuf,

    /// With `--schema`: apply pending migrations (under the migration lock) before serving.
    #[arg(long, env = "ROWBASE_MIGRATE", requires = "schema", help_heading = "Schema")]
    pub migrate: bool,

    /// Milliseconds between checks for schema changes (a migration, DDL by hand); the API
    /// switches to the new schema when one is seen. 0 turns the check off; SIGHUP always reloads.
    #[arg(long, env = "ROWBASE_SCHEMA_POLL_MS", default_value_t = 2000, help_heading = "Schema")]
    pub schema_poll_ms: u64,

    /// Client connections open at once; more are closed as soon as they are accepted.
    #[arg(long, env = "ROWBASE_MAX_CONNECTIONS", default_value_t = 4096, help_heading = "Limits")]
    pub max_connections: usize,

    /// Seconds a client may take to send a request's headers; also how long an idle keep-alive
    /// connection stays open.
    #[arg(long, env = "ROWBASE_HEADER_TIMEOUT", default_value_t = 10, help_heading = "Limits")]
    pub header_timeout: u64,

    /// The most rows a read returns at the root (PostgREST's `db-max-rows`); a longer window is
    /// cut, with `Content-Range` saying so. Default: no cap besides --max-response-bytes.
    #[arg(long, env = "ROWBASE_MAX_ROWS", help_heading = "Limits")]
    pub max_rows: Option<u64>,

    /// The largest answer a read builds, in bytes; a larger one stops and answers 400 `54000`.
    #[arg(long, env = "ROWBASE_MAX_RESPONSE_BYTES", default_value_t = 64 * 1024 * 1024, help_heading = "Limits")]
    pub max_response_bytes: usize,

    /// The most rows one write takes (a bulk insert's array or CSV lines); more: 413.
    #[arg(long, env = "ROWBASE_MAX_WRITE_ROWS", default_value_t = 50_000, help_heading = "Limits")]
    pub max_write_rows: usize,

    /// Seconds a client may take to send a request's body (408 past it).
    #[arg(long, env = "ROWBASE_BODY_TIMEOUT", default_value_t = 30, help_heading = "Limits")]
    pub body_timeout: u64,

    /// A file holding the HMAC secret tokens are signed with (HS256/384/512, at least 32 bytes;
    /// a trailing newline is dropped). The secret itself is given only in the environment
    /// (`ROWBASE_JWT_SECRET`), never as a flag, which `ps` would show.
    #[arg(long, env = "ROWBASE_JWT_SECRET_FILE", help_heading = "Access control")]
    pub jwt_secret_file: Option<std::path::PathBuf>,

    /// A JWK or JWK set file (`{"keys": [...]}`) with the public keys tokens may be signed with
    /// (RS256/384/512, PS*, ES256, ES384, EdDSA); a token's `kid` picks its key.
    #[arg(long, env = "ROWBASE_JWKS_FILE", help_heading = "Access control")]
    pub jwks_file: Option<std::path::PathBuf>,

    /// The claim naming the request's role (PostgREST's `jwt-role-claim-key`), a dotted path,
    /// e.g. `app_metadata.role`.
    #[arg(long, env = "ROWBASE_JWT_ROLE_CLAIM", default_value = "role", help_heading = "Access control")]
    pub jwt_role_claim: String,

    /// The audience a token's `aud` must name when it has one (PostgREST's `jwt-aud`).
    #[arg(long, env = "ROWBASE_JWT_AUD", help_heading = "Access control")]
    pub jwt_aud: Option<String>,

    /// The role of requests without a token (PostgREST's `db-anon-role`); without it they get
    /// 401 `PGRST302` once keys are configured.
    #[arg(long, env = "ROWBASE_ANON_ROLE", help_heading = "Access control")]
    pub anon_role: Option<String>,

    /// Serve on a non-loopback address without any JWT key: every client then reads and writes
    /// every table. Refused without this switch.
    #[arg(long, env = "ROWBASE_INSECURE_NO_AUTH", help_heading = "Access control")]
    pub insecure_no_auth: bool,

    /// Keep users and sessions (`/auth/v1`, the API supabase-js's `auth` speaks): sign-up,
    /// sign-in with a password, rotating refresh tokens, sign-out. Rowbase creates its own tables
    /// for them (`rowbase_auth`). Needs the HMAC secret, which signs the access tokens.
    #[arg(long, env = "ROWBASE_USERS", help_heading = "Users")]
    pub users: bool,

    /// A private key (PEM, PKCS#8: EC P-256/P-384, RSA or Ed25519) to sign access tokens with
    /// instead of the HMAC secret; its public half is the key `--jwt-signing-kid` of
    /// `--jwks-file`, published at `/auth/v1/.well-known/jwks.json`.
    #[arg(long, env = "ROWBASE_JWT_SIGNING_KEY_FILE", help_heading = "Users")]
    pub jwt_signing_key_file: Option<std::path::PathBuf>,

    /// The `kid` of the signing key's public half in `--jwks-file`.
    #[arg(long, env = "ROWBASE_JWT_SIGNING_KID", help_heading = "Users")]
    pub jwt_signing_kid: Option<String>,

    /// Refuse new sign-ups (users are then created by an admin only).
    #[arg(long, env = "ROWBASE_DISABLE_SIGNUP", help_heading = "Users")]
    pub disable_signup: bool,

    /// The shortest password accepted, in characters (the 10,000 most common are refused too).
    #[arg(long, env = "ROWBASE_MIN_PASSWORD_LENGTH", default_value_t = 8, help_heading = "Users")]
    pub min_password_length: usize,

    /// Seconds an access token lives (refresh tokens renew it).
    #[arg(long, env = "ROWBASE_ACCESS_TOKEN_SECONDS", default_value_t = 3600, help_heading = "Users")]
    pub access_token_seconds: u64,

    /// The SMTP server recovery and confirmation mail goes through: `smtp://host:port` (plain, a local
    /// relay), `smtp://host:port?tls=required` (STARTTLS), `smtps://user:pass@host:465` (TLS).
    /// Without it, `/auth/v1/recover` answers 422 `email_provider_disabled`.
    #[arg(long, env = "ROWBASE_SMTP_URL", help_heading = "Users")]
    pub smtp_url: Option<String>,

    /// Seconds after its rotation during which a refresh token used again gets another new token
    /// rather than ending its session (two tabs refreshing at once; GoTrue's default 10); 0: any
    /// reuse ends the session.
    #[arg(long, env = "ROWBASE_REFRESH_TOKEN_REUSE_SECONDS", default_value_t = 10, help_heading = "Users")]
    pub refresh_token_reuse_seconds: u64,

    /// New users confirm their email by a mailed link before they sign in (needs --smtp-url).
    #[arg(long, env = "ROWBASE_CONFIRM_EMAIL", help_heading = "Users")]
    pub confirm_email: bool,

    /// The sender of that mail.
    #[arg(long, env = "ROWBASE_MAIL_FROM", default_value = "Rowbase <no-reply@localhost>", help_heading = "Users")]
    pub mail_from: String,

    /// This server's public base URL, for the links in mail (and where they may send the browser).
    #[arg(long, env = "ROWBASE_SITE_URL", default_value = "http://localhost:3000", help_heading = "Users")]
    pub site_url: String,

    /// Seconds requests in flight get to finish after SIGTERM/SIGINT; connections still open
    /// then (an idle keep-alive a client never closes, a slow request) are dropped.
    #[arg(long, env = "ROWBASE_SHUTDOWN_GRACE", default_value_t = 10, help_heading = "Server")]
    pub shutdown_grace: u64,
}

/// `--sqlite-synchronous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SynchronousArg {
    /// `PRAGMA synchronous=FULL`.
    Full,
    /// `PRAGMA synchronous=NORMAL`.
    Normal,
}

impl ServeArgs {
    /// The authentication these arguments and the environment describe: the secret from
    /// `ROWBASE_JWT_SECRET` or `--jwt-secret-file`, the keys of `--jwks-file`.
    ///
    /// Errors: both a secret and a secret file, an unreadable file, a short secret, a JWKS that
    /// does not parse (the message names which).
    pub fn auth(&self) -> anyhow::Result<AuthConfig> {
        let secret = self.secret()?;
        let jwks = match &self.jwks_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read the JWKS file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let keys = if secret.is_some() || jwks.is_some() {
            Some(std::sync::Arc::new(JwtKeys::new(secret.as_deref(), jwks.as_deref()).map_err(anyhow::Error::msg)?))
        } else {
            None
        };
        Ok(AuthConfig {
            keys,
            role_claim: self.jwt_role_claim.split('.').filter(|s| !s.is_empty()).map(str::to_string).collect(),
            audience: self.jwt_aud.clone(),
            anon_role: self.anon_role.clone(),
        })
    }

    /// The users service `--users` asks for, signing with the HMAC secret; `None` without
    /// `--users`.
    ///
    /// Errors: `--users` without an HMAC secret (its tokens must be ones the server verifies).
    pub fn users(&self) -> anyhow::Result<Option<std::sync::Arc<rowbase_users::Users>>> {
        if !self.users {
            return Ok(None);
        }
        let key = match (&self.jwt_signing_key_file, self.secret()?) {
            (Some(path), _) => {
                let pem = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read the signing key {}: {e}", path.display()))?;
                let Some(kid) = self.jwt_signing_kid.clone() else {
                    anyhow::bail!(
                        "--jwt-signing-key-file needs --jwt-signing-kid: the kid of its public key in --jwks-file"
                    );
                };
                let Some(jwks) = &self.jwks_file else {
                    anyhow::bail!(
                        "--jwt-signing-key-file needs --jwks-file, holding its public key (the server verifies with it)"
                    );
                };
                let jwks = std::fs::read_to_string(jwks)
                    .map_err(|e| anyhow::anyhow!("cannot read the JWKS file {}: {e}", jwks.display()))?;
                rowbase_users::tokens::SigningKey::Jwk { pem, kid, jwks }
            }
            (None, Some(secret)) => rowbase_users::tokens::SigningKey::Hmac(secret),
            (None, None) => anyhow::bail!(
                "--users signs access tokens: set ROWBASE_JWT_SECRET (or --jwt-secret-file), or --jwt-signing-key-file"
            ),
        };
        let config = rowbase_users::UsersConfig {
            signup: !self.disable_signup,
            min_password_length: self.min_password_length,
            access_token_seconds: self.access_token_seconds,
            mailer: self.smtp_url.clone().map(|smtp_url| rowbase_users::mailer::MailerConfig {
                smtp_url,
                from: self.mail_from.clone(),
                site_url: self.site_url.clone(),
            }),
            confirm_email: self.confirm_email,
            refresh_reuse_seconds: self.refresh_token_reuse_seconds,
            ..Default::default()
        };
        if config.confirm_email && config.mailer.is_none() {
            anyhow::bail!("--confirm-email mails a link: set --smtp-url too");
        }
        Ok(Some(std::sync::Arc::new(rowbase_users::Users::new(config, &key)?)))
    }

    /// The HMAC secret from `ROWBASE_JWT_SECRET` or `--jwt-secret-file`, if any.
    fn secret(&self) -> anyhow::Result<Option<Vec<u8>>> {
        let from_env = std::env::var_os("ROWBASE_JWT_SECRET").filter(|s| !s.is_empty());
        Ok(match (from_env, &self.jwt_secret_file) {
            (Some(_), Some(_)) => anyhow::bail!("give ROWBASE_JWT_SECRET or --jwt-secret-file, not both"),
            (Some(secret), None) => Some(secret.into_encoded_bytes()),
            (None, Some(path)) => {
                let mut bytes = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read the JWT secret file {}: {e}", path.display()))?;
                while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    bytes.pop();
                }
                Some(bytes)
            }
            (None, None) => None,
        })
    }

    /// The options these arguments describe (authentication and users left off: see
    /// [`ServeArgs::auth`] and [`ServeArgs::users`]).
    pub fn options(&self) -> Options {
        Options {
            database: DatabaseOptions {
                pool_size: self.pool_size,
                acquire_timeout: Duration::from_secs(self.pool_timeout),
                read_only: self.read_only,
                synchronous: match self.sqlite_synchronous {
                    SynchronousArg::Full => Synchronous::Full,
                    SynchronousArg::Normal => Synchronous::Normal,
                },
                group_commit: self.group_commit,
                schemas: self.schemas.clone(),
                connect_timeout: Duration::from_secs(self.connect_timeout),
                max_lifetime: Duration::from_secs(self.pool_max_lifetime),
                idle_timeout: Duration::from_secs(self.pool_idle_timeout),
                create_sqlite: false,
                max_response_bytes: self.max_response_bytes.max(1024),
                statement_timeout: (self.statement_timeout > 0.0)
                    .then(|| Duration::from_secs_f64(self.statement_timeout.min(86_400.0))),
            },
            http: HttpConfig {
                max_body_bytes: self.max_body_bytes,
                allow_unfiltered_writes: self.allow_unfiltered_writes,
                tables: None,
                allow_hard_delete: self.allow_hard_delete,
                actor_header: self.actor_header.clone(),
                cors_origins: self.cors_origins.clone(),
                body_timeout: Duration::from_secs(self.body_timeout.max(1)),
                max_write_rows: self.max_write_rows.max(1),
                max_rows: self.max_rows,
                allowed_hosts: (!self.allowed_hosts.is_empty()).then(|| self.allowed_hosts.clone()),
                auth: AuthConfig::default(),
                access: None,
                users: None,
            },
            insecure_no_auth: self.insecure_no_auth,
            schema_poll: (self.schema_poll_ms > 0).then(|| Duration::from_millis(self.schema_poll_ms)),
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            connections: crate::ConnectionLimits {
                max_connections: self.max_connections.max(1),
                header_timeout: Duration::from_secs(self.header_timeout.max(1)),
            },
        }
    }
}
