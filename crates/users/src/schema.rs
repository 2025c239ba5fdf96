//! Rowbase's own tables for users, sessions and refresh tokens, created when users are switched
//! on (`CREATE ... IF NOT EXISTS`, so starting again changes nothing). On PostgreSQL they live
//! in the schema `rowbase_auth` (`users`, `sessions`, `refresh_tokens`, `one_time_tokens`), which
//! the REST API never serves; on SQLite and MySQL they are `rowbase_auth_users`,
//! `rowbase_auth_sessions`, `rowbase_auth_refresh_tokens` and `rowbase_auth_one_time_tokens`,
//! which introspection leaves out
//! (`rowbase_catalog::is_internal`). Times are RFC 3339 text in UTC with microseconds
//! (`2026-12-03T02:00:00.000000Z`), one width, so text order is time order on every engine; ids
//! are UUIDs (`uuid` on PostgreSQL, so a `profiles.id` can reference `rowbase_auth.users(id)`).

use rowbase_catalog::Engine;

/// The PostgreSQL schema of the tables.
pub const SCHEMA: &str = "rowbase_auth";

/// The statements that create the tables on `engine`, in order.
pub fn create(engine: Engine) -> Vec<&'static str> {
    match engine {
        Engine::Postgres => vec![
            "CREATE SCHEMA IF NOT EXISTS rowbase_auth",
            "CREATE TABLE IF NOT EXISTS rowbase_auth.users (\
                id uuid PRIMARY KEY, \
                email text NOT NULL UNIQUE, \
                encrypted_password text, \
                role text NOT NULL DEFAULT 'authenticated', \
                email_confirmed_at text, \
                last_sign_in_at text, \
                banned_until text, \
                raw_app_meta_data text NOT NULL DEFAULT '{}', \
                raw_user_meta_data text NOT NULL DEFAULT '{}', \
                created_at text NOT NULL, \
                updated_at text NOT NULL)",
            "CREATE TABLE IF NOT EXISTS rowbase_auth.sessions (\
                id uuid PRIMARY KEY, \
                user_id uuid NOT NULL REFERENCES rowbase_auth.users(id) ON DELETE CASCADE, \
                created_at text NOT NULL, \
                refreshed_at text)",
            "CREATE INDEX IF NOT EXISTS sessions_user_id ON rowbase_auth.sessions (user_id)",
            "CREATE TABLE IF NOT EXISTS rowbase_auth.refresh_tokens (\
                token_hash text PRIMARY KEY, \
                session_id uuid NOT NULL REFERENCES rowbase_auth.sessions(id) ON DELETE CASCADE, \
                parent text, \
                replaced_by text, \
                revoked_at text, \
                created_at text NOT NULL)",
            "CREATE INDEX IF NOT EXISTS refresh_tokens_session_id ON rowbase_auth.refresh_tokens (session_id)",
            "CREATE TABLE IF NOT EXISTS rowbase_auth.one_time_tokens (\
                token_hash text PRIMARY KEY, \
                user_id uuid NOT NULL REFERENCES rowbase_auth.users(id) ON DELETE CASCADE, \
                kind text NOT NULL, \
                created_at text NOT NULL, \
                expires_at text NOT NULL)",
            "CREATE INDEX IF NOT EXISTS one_time_tokens_user_id ON rowbase_auth.one_time_tokens (user_id)",
        ],
        Engine::Sqlite => vec![
            "CREATE TABLE IF NOT EXISTS rowbase_auth_users (\
                id TEXT PRIMARY KEY NOT NULL, \
                email TEXT NOT NULL UNIQUE, \
                encrypted_password TEXT, \
                role TEXT NOT NULL DEFAULT 'authenticated', \
                email_confirmed_at TEXT, \
                last_sign_in_at TEXT, \
                banned_until TEXT, \
                raw_app_meta_data TEXT NOT NULL DEFAULT '{}', \
                raw_user_meta_data TEXT NOT NULL DEFAULT '{}', \
                created_at TEXT NOT NULL, \
                updated_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS rowbase_auth_sessions (\
                id TEXT PRIMARY KEY NOT NULL, \
                user_id TEXT NOT NULL REFERENCES rowbase_auth_users(id) ON DELETE CASCADE, \
                created_at TEXT NOT NULL, \
                refreshed_at TEXT)",
            "CREATE INDEX IF NOT EXISTS rowbase_auth_sessions_user_id ON rowbase_auth_sessions (user_id)",
            "CREATE TABLE IF NOT EXISTS rowbase_auth_refresh_tokens (\
                token_hash TEXT PRIMARY KEY NOT NULL, \
                session_id TEXT NOT NULL REFERENCES rowbase_auth_sessions(id) ON DELETE CASCADE, \
                parent TEXT, \
                replaced_by TEXT, \
                revoked_at TEXT, \
                created_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS rowbase_auth_refresh_tokens_session_id ON rowbase_auth_refresh_tokens (session_id)",
            "CREATE TABLE IF NOT EXISTS rowbase_auth_one_time_tokens (\
                token_hash TEXT PRIMARY KEY NOT NULL, \
                user_id TEXT NOT NULL REFERENCES rowbase_auth_users(id) ON DELETE CASCADE, \
                kind TEXT NOT NULL, \
                created_at TEXT NOT NULL, \
                expires_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS rowbase_auth_one_time_tokens_user_id ON rowbase_auth_one_time_tokens (user_id)",
        ],
        Engine::MySql => vec![
            "CREATE TABLE IF NOT EXISTS rowbase_auth_users (\
                id CHAR(36) PRIMARY KEY, \
                email VARCHAR(254) NOT NULL UNIQUE, \
                encrypted_password VARCHAR(255), \
                role VARCHAR(63) NOT NULL DEFAULT 'authenticated', \
                email_confirmed_at VARCHAR(32), \
                last_sign_in_at VARCHAR(32), \
                banned_until VARCHAR(32), \
                raw_app_meta_data TEXT NOT NULL, \
                raw_user_meta_data TEXT NOT NULL, \
                created_at VARCHAR(32) NOT NULL, \
                updated_at VARCHAR(32) NOT NULL) \
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            "CREATE TABLE IF NOT EXISTS rowbase_auth_sessions (\
                id CHAR(36) PRIMARY KEY, \
                user_id CHAR(36) NOT NULL, \
                created_at VARCHAR(32) NOT NULL, \
                refreshed_at VARCHAR(32), \
                INDEX rowbase_auth_sessions_user_id (user_id), \
                FOREIGN KEY (user_id) REFERENCES rowbase_auth_users(id) ON DELETE CASCADE) \
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            "CREATE TABLE IF NOT EXISTS rowbase_auth_refresh_tokens (\
                token_hash CHAR(64) PRIMARY KEY, \
                session_id CHAR(36) NOT NULL, \
                parent CHAR(64), \
                replaced_by CHAR(64), \
                revoked_at VARCHAR(32), \
                created_at VARCHAR(32) NOT NULL, \
                INDEX rowbase_auth_refresh_tokens_session_id (session_id), \
                FOREIGN KEY (session_id) REFERENCES rowbase_auth_sessions(id) ON DELETE CASCADE) \
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            "CREATE TABLE IF NOT EXISTS rowbase_auth_one_time_tokens (\
                token_hash CHAR(64) PRIMARY KEY, \
                user_id CHAR(36) NOT NULL, \
                kind VARCHAR(16) NOT NULL, \
                created_at VARCHAR(32) NOT NULL, \
                expires_at VARCHAR(32) NOT NULL, \
                INDEX rowbase_auth_one_time_tokens_user_id (user_id), \
                FOREIGN KEY (user_id) REFERENCES rowbase_auth_users(id) ON DELETE CASCADE) \
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        ],
    }
}

/// The name of table `name` (`users`, `sessions`, `refresh_tokens`, `one_time_tokens`) on
/// `engine`, unqualified: PostgreSQL qualifies it with [`SCHEMA`].
pub fn table(engine: Engine, name: &'static str) -> &'static str {
    match (engine, name) {
        (Engine::Postgres, _) => name,
        (_, "users") => "rowbase_auth_users",
        (_, "sessions") => "rowbase_auth_sessions",
        (_, "one_time_tokens") => "rowbase_auth_one_time_tokens",
        _ => "rowbase_auth_refresh_tokens",
    }
}
