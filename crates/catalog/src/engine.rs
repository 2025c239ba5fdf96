//! Which database engine a catalog, a statement or a migration belongs to: the one engine type
//! every crate names engines by (never a string). What each engine does lives in its own modules
//! (`rowbase-sql`'s dialects, `rowbase-migrate`'s DDL, `rowbase-db`'s connections); this is only
//! the name.

use std::fmt;

/// A database engine Rowbase serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Engine {
    /// Every engine.
    pub const ALL: [Engine; 3] = [Engine::Sqlite, Engine::Postgres, Engine::MySql];

    /// The short machine name: `sqlite`, `postgresql` or `mysql` (log fields, the prefix of a
    /// migration's scripts such as `postgresql.up.sql`, URL schemes).
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgresql",
            Engine::MySql => "mysql",
        }
    }

    /// The name people use, for messages: `SQLite`, `PostgreSQL`, `MySQL/MariaDB`.
    pub fn label(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MySQL/MariaDB",
        }
    }
}

impl fmt::Display for Engine {
    /// Writes [`Engine::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
