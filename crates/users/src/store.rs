//! The statements over Rowbase's user tables ([`crate::schema`]), written with the engine's
//! dialect (quoted names, bound values: an email or a token never reaches the SQL text) and run
//! as [`rowbase_db::Batch`]es, each in one transaction. On PostgreSQL every selected column is
//! text (ids are cast), as batches return rows as text.

use rowbase_catalog::{DataType, Engine};
use rowbase_db::{Batch, BatchOutput, BatchStatement, Database};
use rowbase_plan::Value;
use rowbase_sql::{Statement, Writer};

use crate::error::UsersError;
use crate::schema::{SCHEMA, table};
use crate::user::User;

/// The user columns every user query selects, in [`user_from_row`]'s order.
const USER_COLUMNS: [&str; 11] = [
    "id",
    "email",
    "encrypted_password",
    "role",
    "email_confirmed_at",
    "last_sign_in_at",
    "banned_until",
    "raw_app_meta_data",
    "raw_user_meta_data",
    "created_at",
    "updated_at",
];

/// Writes the statements for one database.
#[derive(Clone, Copy)]
pub(crate) struct Store<'d> {
    db: &'d Database,
    engine: Engine,
}

/// A statement being written: SQL fragments, quoted names and bound values.
struct Sql<'d> {
    w: Writer<'d>,
    engine: Engine,
}

impl<'d> Sql<'d> {
    fn new(db: &'d Database) -> Sql<'d> {
        Sql { w: Writer::new(db.dialect(), SCHEMA), engine: db.engine() }
    }

    fn push(&mut self, sql: &'static str) -> &mut Self {
        self.w.push(sql);
        self
    }

    /// Table `name` (`users`, `sessions`, `refresh_tokens`), qualified as the engine needs.
    fn table(&mut self, name: &'static str) -> &mut Self {
        self.w.table(table(self.engine, name));
        self
    }

    /// A column, read as text (PostgreSQL's `uuid` columns are cast).
    fn read(&mut self, column: &'static str) -> &mut Self {
        self.w.ident(column);
        if self.engine == Engine::Postgres && matches!(column, "id" | "user_id" | "session_id") {
            self.w.push("::text");
        }
        self
    }

    /// A column written plainly.
    fn column(&mut self, column: &'static str) -> &mut Self {
        self.w.ident(column);
        self
    }

    /// A bound text value.
    fn text(&mut self, value: &str) -> &mut Self {
        self.w.bind_typed(Value::Text(value.to_string()), DataType::Text);
        self
    }

    /// A bound text value or NULL.
    fn optional(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.push("NULL"),
        }
    }

    /// A bound UUID (`$n::uuid` on PostgreSQL).
    fn uuid(&mut self, value: &str) -> &mut Self {
        self.w.bind_typed(Value::Text(value.to_string()), DataType::Uuid);
        self
    }

    /// The user columns, comma-separated, of table alias `u`.
    fn user_columns(&mut self) -> &mut Self {
        for (i, column) in USER_COLUMNS.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("u.").read(column);
        }
        self
    }

    fn done(self) -> Statement {
        self.w.finish()
    }
}

/// The user of a row of [`USER_COLUMNS`], and its password hash.
fn user_from_row(out: &BatchOutput, row: usize) -> Option<(User, Option<String>)> {
    let text = |i| out.text(row, i);
    let json = |i| text(i).and_then(|t| serde_json::from_str(&t).ok()).map(crate::tokens::object).unwrap_or_default();
    let user = User {
        id: text(0)?,
        email: text(1)?,
        role: text(3).unwrap_or_else(|| "authenticated".into()),
        email_confirmed_at: text(4),
        last_sign_in_at: text(5),
        banned_until: text(6),
        app_metadata: json(7),
        user_metadata: json(8),
        created_at: text(9).unwrap_or_default(),
        updated_at: text(10).unwrap_or_default(),
    };
    Some((user, text(2)))
}

/// What a refresh token's rotation found.
pub(crate) enum Rotation {
    /// Rotated: the session and its user.
    Rotated { session_id: String, user: Box<User> },
    /// The token was already rotated: its session is now revoked.
    Reused,
    /// No such token (or its session ended).
    NotFound,
}

impl<'d> Store<'d> {
    pub(crate) fn new(db: &'d Database) -> Store<'d> {
        Store { db, engine: db.engine() }
    }

    async fn run(&self, statements: Vec<BatchStatement>) -> Result<Vec<BatchOutput>, UsersError> {
        Ok(self.db.batch(Batch { statements }).await?)
    }

    /// Creates the tables when they do not exist.
    pub(crate) async fn create_tables(&self) -> Result<(), UsersError> {
        let statements = crate::schema::create(self.engine)
            .into_iter()
            .map(|sql| BatchStatement::Affected(Statement { sql: sql.to_string(), params: Vec::new() }))
            .collect();
        self.run(statements).await.map(drop)
    }

    /// Inserts `user` with password hash `hash`.
    ///
    /// Errors: [`UsersError::UserExists`] when the email is taken.
    pub(crate) async fn insert_user(&self, user: &User, hash: Option<&str>) -> Result<(), UsersError> {
        let mut q = Sql::new(self.db);
        q.push("INSERT INTO ").table("users").push(" (");
        for (i, column) in USER_COLUMNS.into_iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.column(column);
        }
        q.push(") VALUES (").uuid(&user.id).push(", ").text(&user.email).push(", ").optional(hash).push(", ");
        q.text(&user.role).push(", ").optional(user.email_confirmed_at.as_deref()).push(", ");
        q.optional(user.last_sign_in_at.as_deref()).push(", ").optional(user.banned_until.as_deref()).push(", ");
        q.text(&user.app_metadata.to_string()).push(", ").text(&user.user_metadata.to_string()).push(", ");
        q.text(&user.created_at).push(", ").text(&user.updated_at).push(")");
        match self.run(vec![BatchStatement::Affected(q.done())]).await {
            Err(UsersError::Database(e)) if e.kind == rowbase_db::ErrorKind::UniqueViolation => {
                Err(UsersError::UserExists)
            }
            other => other.map(drop),
        }
    }

    /// The user with `email` (normalized) and its password hash.
    pub(crate) async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>, UsersError> {
        let mut q = Sql::new(self.db);
        q.push("SELECT ").user_columns().push(" FROM ").table("users").push(" u WHERE u.").column("email");
        q.push(" = ").text(email);
        let out = self.run(vec![BatchStatement::Rows(q.done())]).await?;
        Ok(out.first().and_then(|o| user_from_row(o, 0)))
    }

    /// The user with id `id` and its password hash.
    pub(crate) async fn user_by_id(&self, id: &str) -> Result<Option<(User, Option<String>)>, UsersError> {
        let mut q = Sql::new(self.db);
        q.push("SELECT ").user_columns().push(" FROM ").table("users").push(" u WHERE u.").column("id");
        q.push(" = ").uuid(id);
        let out = self.run(vec![BatchStatement::Rows(q.done())]).await?;
        Ok(out.first().and_then(|o| user_from_row(o, 0)))
    }

    /// A page of users, oldest first, and how many there are.
    pub(crate) async fn list_users(&self, offset: u64, limit: u64) -> Result<(Vec<User>, u64), UsersError> {
        let mut page = Sql::new(self.db);
        page.push("SELECT ").user_columns().push(" FROM ").table("users").push(" u ORDER BY u.").column("created_at");
        page.push(", u.").column("id").push(" LIMIT ");
        page.w.integer(limit);
        page.push(" OFFSET ");
        page.w.integer(offset);
        let mut count = Sql::new(self.db);
        count.push("SELECT count(*)");
        if self.engine == Engine::Postgres {
            count.push("::text");
        }
        count.push(" FROM ").table("users");
        let out = self.run(vec![BatchStatement::Rows(page.done()), BatchStatement::Rows(count.done())]).await?;
        let users = out
            .first()
            .map_or_else(Vec::new, |o| (0..o.rows.len()).filter_map(|i| user_from_row(o, i)).map(|(u, _)| u).collect());
        let total = out.get(1).and_then(|o| o.text(0, 0)).and_then(|t| t.parse().ok()).unwrap_or(0);
        Ok((users, total))
    }

    /// Applies `change` to user `id` and returns the user as changed.
    ///
    /// Errors: [`UsersError::EmailExists`] when the new email is taken; [`UsersError::UserNotFound`].
    pub(crate) async fn update_user(&self, id: &str, change: &UserUpdate, now: &str) -> Result<User, UsersError> {
        let mut q = Sql::new(self.db);
        q.push("UPDATE ").table("users").push(" SET ").column("updated_at").push(" = ").text(now);
        let set = |q: &mut Sql<'_>, column: &'static str, value: Option<&str>| {
            q.push(", ").column(column).push(" = ").optional(value);
        };
        if let Some(email) = &change.email {
            set(&mut q, "email", Some(email));
        }
        if let Some(hash) = &change.password_hash {
            set(&mut q, "encrypted_password", Some(hash));
        }
        if let Some(role) = &change.role {
            set(&mut q, "role", Some(role));
        }
        if let Some(meta) = &change.user_metadata {
            set(&mut q, "raw_user_meta_data", Some(&meta.to_string()));
        }
        if let Some(meta) = &change.app_metadata {
            set(&mut q, "raw_app_meta_data", Some(&meta.to_string()));
        }
        if let Some(until) = &change.banned_until {
            set(&mut q, "banned_until", until.as_deref());
        }
        if let Some(confirmed) = &change.email_confirmed_at {
            set(&mut q, "email_confirmed_at", confirmed.as_deref());
        }
        q.push(" WHERE ").column("id").push(" = ").uuid(id);
        let mut user = Sql::new(self.db);
        user.push("SELECT ").user_columns().push(" FROM ").table("users").push(" u WHERE u.").column("id");
        user.push(" = ").uuid(id);
        let out = match self.run(vec![BatchStatement::Affected(q.done()), BatchStatement::Rows(user.done())]).await {
            Err(UsersError::Database(e)) if e.kind == rowbase_db::ErrorKind::UniqueViolation => {
                return Err(UsersError::EmailExists);
            }
            other => other?,
        };
        out.get(1).and_then(|o| user_from_row(o, 0)).map(|(u, _)| u).ok_or(UsersError::UserNotFound)
    }

    /// Deletes user `id` with its sessions and refresh tokens; whether it existed.
    pub(crate) async fn delete_user(&self, id: &str) -> Result<bool, UsersError> {
        self.end_sessions(Scope::User(id)).await?;
        let mut q = Sql::new(self.db);
        q.push("DELETE FROM ").table("users").push(" WHERE ").column("id").push(" = ").uuid(id);
        let out = self.run(vec![BatchStatement::Affected(q.done())]).await?;
        Ok(out.first().is_some_and(|o| o.affected > 0))
    }

    /// Stores one-time token `token_hash` of `kind` for `user_id`, valid until `expires_at`,
    /// replacing the user's earlier ones of that kind (only the newest link works).
    pub(crate) async fn issue_one_time(
        &self,
        user_id: &str,
        kind: &str,
        token_hash: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<(), UsersError> {
        let mut older = Sql::new(self.db);
        older.push("DELETE FROM ").table("one_time_tokens").push(" WHERE ").column("user_id").push(" = ").uuid(user_id);
        older.push(" AND ").column("kind").push(" = ").text(kind);
        let mut token = Sql::new(self.db);
        token
            .push("INSERT INTO ")
            .table("one_time_tokens")
            .push(" (")
            .column("token_hash")
            .push(", ")
            .column("user_id");
        token
            .push(", ")
            .column("kind")
            .push(", ")
            .column("created_at")
            .push(", ")
            .column("expires_at")
            .push(") VALUES (");
        token.text(token_hash).push(", ").uuid(user_id).push(", ").text(kind).push(", ").text(now).push(", ");
        token.text(expires_at).push(")");
        self.run(vec![BatchStatement::Affected(older.done()), BatchStatement::Affected(token.done())]).await.map(drop)
    }

    /// Spends one-time token `token_hash` of `kind` when it is live at `now`: the user it was
    /// issued to. Read and deleted in one transaction, and only a delete that removed it counts,
    /// so two concurrent uses cannot both succeed.
    pub(crate) async fn spend_one_time(
        &self,
        kind: &str,
        token_hash: &str,
        now: &str,
    ) -> Result<Option<User>, UsersError> {
        let filter = |q: &mut Sql<'_>| {
            q.push(" WHERE ").column("token_hash").push(" = ").text(token_hash).push(" AND ").column("kind");
            q.push(" = ").text(kind).push(" AND ").column("expires_at").push(" > ").text(now);
        };
        let mut user = Sql::new(self.db);
        user.push("SELECT ").user_columns().push(" FROM ").table("users").push(" u WHERE u.").column("id");
        user.push(" IN (SELECT ").column("user_id").push(" FROM ").table("one_time_tokens");
        filter(&mut user);
        user.push(")");
        let mut spend = Sql::new(self.db);
        spend.push("DELETE FROM ").table("one_time_tokens");
        filter(&mut spend);
        let out = self.run(vec![BatchStatement::Rows(user.done()), BatchStatement::Affected(spend.done())]).await?;
        if out.get(1).is_none_or(|o| o.affected != 1) {
            return Ok(None);
        }
        Ok(out.first().and_then(|o| user_from_row(o, 0)).map(|(u, _)| u))
    }

    /// Whether session `session_id` of `user_id` is open.
    pub(crate) async fn session_exists(&self, session_id: &str, user_id: &str) -> Result<bool, UsersError> {
        let mut q = Sql::new(self.db);
        q.push("SELECT ").read("id").push(" FROM ").table("sessions").push(" WHERE ").column("id").push(" = ");
        q.uuid(session_id).push(" AND ").column("user_id").push(" = ").uuid(user_id);
        let out = self.run(vec![BatchStatement::Rows(q.done())]).await?;
        Ok(out.first().is_some_and(|o| !o.rows.is_empty()))
    }

    /// The user of live session `session_id`, when that session exists and belongs to `user_id`.
    pub(crate) async fn session_user(&self, session_id: &str, user_id: &str) -> Result<Option<User>, UsersError> {
        let mut q = Sql::new(self.db);
        q.push("SELECT ").user_columns().push(" FROM ").table("users").push(" u JOIN ").table("sessions");
        q.push(" s ON s.").column("user_id").push(" = u.").column("id").push(" WHERE s.").column("id");
        q.push(" = ").uuid(session_id).push(" AND u.").column("id").push(" = ").uuid(user_id);
        let out = self.run(vec![BatchStatement::Rows(q.done())]).await?;
        Ok(out.first().and_then(|o| user_from_row(o, 0)).map(|(u, _)| u))
    }

    /// Opens session `session_id` for `user_id` with its first refresh token (hashed), records
    /// the sign-in time, and stores `rehash` as the new password hash when given; returns the
    /// user as updated.
    pub(crate) async fn start_session(
        &self,
        user_id: &str,
        session_id: &str,
        token_hash: &str,
        now: &str,
        rehash: Option<&str>,
    ) -> Result<User, UsersError> {
        let mut session = Sql::new(self.db);
        session.push("INSERT INTO ").table("sessions").push(" (").column("id").push(", ").column("user_id");
        session.push(", ").column("created_at").push(") VALUES (").uuid(session_id).push(", ").uuid(user_id);
        session.push(", ").text(now).push(")");
        let token = self.insert_token(token_hash, session_id, None, now);
        let mut seen = Sql::new(self.db);
        seen.push("UPDATE ").table("users").push(" SET ").column("last_sign_in_at").push(" = ").text(now);
        if let Some(hash) = rehash {
            seen.push(", ").column("encrypted_password").push(" = ").text(hash);
        }
        seen.push(" WHERE ").column("id").push(" = ").uuid(user_id);
        let mut user = Sql::new(self.db);
        user.push("SELECT ").user_columns().push(" FROM ").table("users").push(" u WHERE u.").column("id");
        user.push(" = ").uuid(user_id);
        let out = self
            .run(vec![
                BatchStatement::Affected(session.done()),
                BatchStatement::Affected(token),
                BatchStatement::Affected(seen.done()),
                BatchStatement::Rows(user.done()),
            ])
            .await?;
        out.get(3).and_then(|o| user_from_row(o, 0)).map(|(u, _)| u).ok_or(UsersError::UserNotFound)
    }

    fn insert_token(&self, token_hash: &str, session_id: &str, parent: Option<&str>, now: &str) -> Statement {
        let mut q = Sql::new(self.db);
        q.push("INSERT INTO ").table("refresh_tokens").push(" (").column("token_hash").push(", ");
        q.column("session_id").push(", ").column("parent").push(", ").column("created_at").push(") VALUES (");
        q.text(token_hash).push(", ").uuid(session_id).push(", ").optional(parent).push(", ").text(now).push(")");
        q.done()
    }

    /// Rotates refresh token `old` (hashed) to `new` (hashed), in one transaction: the old one is
    /// marked revoked and replaced only if it was live (a compare-and-set, so two concurrent uses
    /// cannot both win), and the new one is inserted only if that happened. A token already
    /// revoked is a replay: its session ends (OAuth 2.0 Security BCP, "Refresh Token
    /// Protection").
    ///
    /// A token rotated at or after `reuse_since` (the reuse interval, GoTrue's
    /// `REFRESH_TOKEN_REUSE_INTERVAL`: two tabs refreshing at once) is not a replay: it gets a new
    /// child beside the first (both stay live); `None` allows no reuse.
    pub(crate) async fn rotate(
        &self,
        old: &str,
        new: &str,
        now: &str,
        reuse_since: Option<&str>,
    ) -> Result<Rotation, UsersError> {
        let mut revoke = Sql::new(self.db);
        revoke.push("UPDATE ").table("refresh_tokens").push(" SET ").column("revoked_at").push(" = ").text(now);
        revoke.push(", ").column("replaced_by").push(" = ").text(new).push(" WHERE ").column("token_hash");
        revoke.push(" = ").text(old).push(" AND ").column("revoked_at").push(" IS NULL");
        let mut child = Sql::new(self.db);
        child.push("INSERT INTO ").table("refresh_tokens").push(" (").column("token_hash").push(", ");
        child.column("session_id").push(", ").column("parent").push(", ").column("created_at").push(") SELECT ");
        child.text(new).push(", t.").column("session_id").push(", t.").column("token_hash").push(", ").text(now);
        child.push(" FROM ").table("refresh_tokens").push(" t WHERE t.").column("token_hash").push(" = ").text(old);
        child.push(" AND (t.").column("replaced_by").push(" = ").text(new);
        if let Some(since) = reuse_since {
            child.push(" OR t.").column("revoked_at").push(" >= ").text(since);
        }
        child.push(")");
        let mut found = Sql::new(self.db);
        found.push("SELECT t.").read("session_id").push(", ").user_columns().push(" FROM ").table("refresh_tokens");
        found.push(" t JOIN ").table("sessions").push(" s ON s.").column("id").push(" = t.").column("session_id");
        found.push(" JOIN ").table("users").push(" u ON u.").column("id").push(" = s.").column("user_id");
        found.push(" WHERE t.").column("token_hash").push(" = ").text(new);
        let mut refreshed = Sql::new(self.db);
        refreshed.push("UPDATE ").table("sessions").push(" SET ").column("refreshed_at").push(" = ").text(now);
        refreshed.push(" WHERE ").column("id").push(" IN (SELECT ").column("session_id").push(" FROM ");
        refreshed.push("(SELECT ").column("session_id").push(" FROM ").table("refresh_tokens").push(" WHERE ");
        refreshed.column("token_hash").push(" = ").text(new).push(") AS r)");
        let out = self
            .run(vec![
                BatchStatement::Affected(revoke.done()),
                BatchStatement::Affected(child.done()),
                BatchStatement::Rows(found.done()),
                BatchStatement::Affected(refreshed.done()),
            ])
            .await?;
        if let Some(found) = out.get(2).filter(|o| !o.rows.is_empty()) {
            let session_id = found.text(0, 0).unwrap_or_default();
            // The user's columns follow the session id.
            let shifted = BatchOutput { rows: found.rows.iter().map(|r| r[1..].to_vec()).collect(), affected: 0 };
            if let Some((user, _)) = user_from_row(&shifted, 0) {
                return Ok(Rotation::Rotated { session_id, user: Box::new(user) });
            }
        }
        // Not rotated: a replay of a rotated token, or no such token.
        let mut lookup = Sql::new(self.db);
        lookup.push("SELECT ").read("session_id").push(" FROM ").table("refresh_tokens").push(" WHERE ");
        lookup.column("token_hash").push(" = ").text(old);
        let out = self.run(vec![BatchStatement::Rows(lookup.done())]).await?;
        match out.first().and_then(|o| o.text(0, 0)) {
            Some(session_id) => {
                tracing::warn!("a refresh token was used twice: its session is revoked (possible token theft)");
                self.end_sessions(Scope::Session(&session_id)).await?;
                Ok(Rotation::Reused)
            }
            None => Ok(Rotation::NotFound),
        }
    }

    /// Ends sessions (and their refresh tokens).
    pub(crate) async fn end_sessions(&self, scope: Scope<'_>) -> Result<u64, UsersError> {
        let mut tokens = Sql::new(self.db);
        tokens.push("DELETE FROM ").table("refresh_tokens").push(" WHERE ").column("session_id").push(" IN (SELECT ");
        tokens.column("id").push(" FROM (SELECT ").column("id").push(" FROM ").table("sessions").push(" WHERE ");
        self.scope(&mut tokens, scope);
        tokens.push(") AS s)");
        let mut sessions = Sql::new(self.db);
        sessions.push("DELETE FROM ").table("sessions").push(" WHERE ");
        self.scope(&mut sessions, scope);
        let out =
            self.run(vec![BatchStatement::Affected(tokens.done()), BatchStatement::Affected(sessions.done())]).await?;
        Ok(out.get(1).map_or(0, |o| o.affected))
    }

    fn scope(&self, q: &mut Sql<'_>, scope: Scope<'_>) {
        match scope {
            Scope::Session(id) => {
                q.column("id").push(" = ").uuid(id);
            }
            Scope::User(user) => {
                q.column("user_id").push(" = ").uuid(user);
            }
            Scope::Others { user, keep } => {
                q.column("user_id").push(" = ").uuid(user).push(" AND ").column("id").push(" <> ").uuid(keep);
            }
        }
    }
}

/// The columns a user update sets; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserUpdate {
    pub(crate) email: Option<String>,
    pub(crate) password_hash: Option<String>,
    pub(crate) role: Option<String>,
    pub(crate) user_metadata: Option<serde_json::Value>,
    pub(crate) app_metadata: Option<serde_json::Value>,
    /// `Some(None)` lifts a ban.
    pub(crate) banned_until: Option<Option<String>>,
    /// `Some(None)` un-confirms.
    pub(crate) email_confirmed_at: Option<Option<String>>,
}

/// Which sessions a sign-out ends (GoTrue's `scope`).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// This session (`local`).
    Session(&'a str),
    /// Every session of the user (`global`).
    User(&'a str),
    /// Every session of the user but this one (`others`).
    Others {
        /// The user.
        user: &'a str,
        /// The session that stays.
        keep: &'a str,
    },
}
