//! Users and sessions Rowbase keeps for itself, in the shape of Supabase's auth server (GoTrue)
//! that `@supabase/supabase-js` speaks: sign-up and sign-in with an email and a password, access
//! tokens (JWTs the REST API verifies) and rotating refresh tokens, sign-out by scope.
//!
//! - [`password`]: Argon2id hashing off the async threads, bcrypt imports, the password policy.
//! - [`tokens`]: refresh tokens (stored hashed) and the access token's claims.
//! - [`schema`] and `store`: Rowbase's own tables and every statement over them.
//!
//! The HTTP endpoints (`/auth/v1/...`) are in `rowbase-http`; this crate owns the rules.

mod common;
mod error;
pub mod liveness;
pub mod mailer;
pub mod password;
pub mod schema;
mod store;
pub mod throttle;
pub mod tokens;
mod user;

pub use error::UsersError;
pub use user::{User, normalize_email};

use rowbase_db::Database;
use serde_json::{Value, json};

use crate::password::Passwords;
use crate::store::{Rotation, Store, UserUpdate};
use crate::tokens::Signer;

pub use store::Scope as SignOutScope;

/// How users are handled.
#[derive(Debug, Clone)]
pub struct UsersConfig {
    /// Whether anyone may sign up (GoTrue's `DISABLE_SIGNUP`, inverted).
    pub signup: bool,
    /// The shortest password accepted, in characters (GoTrue's default is 6; OWASP asks for 8
    /// with multi-factor authentication, 15 without: Rowbase defaults to 8).
    pub min_password_length: usize,
    /// Seconds an access token lives (GoTrue's `JWT_EXP`, one hour).
    pub access_token_seconds: u64,
    /// How many passwords are hashed at once: the hashing threads, each holding 19 MiB once it
    /// has hashed (default: the cores, at most 4).
    pub hash_concurrency: usize,
    /// How failed sign-ins slow the next ones ([`throttle`]).
    pub throttle: throttle::Limits,
    /// Where mail goes (password recovery); `None`: no mail, and `/recover` says so.
    pub mailer: Option<mailer::MailerConfig>,
    /// Seconds a recovery link works (GoTrue's one hour).
    pub recovery_seconds: u64,
    /// Whether a new user confirms their email by a mailed link before signing in (needs the
    /// mailer; off by default: users are confirmed at sign-up).
    pub confirm_email: bool,
    /// Seconds after its rotation during which a refresh token used again gets another new token
    /// instead of ending its session (GoTrue's `REFRESH_TOKEN_REUSE_INTERVAL`, 10: clients in two
    /// tabs refreshing at once); 0: every reuse ends the session.
    pub refresh_reuse_seconds: u64,
}

impl Default for UsersConfig {
    fn default() -> UsersConfig {
        UsersConfig {
            signup: true,
            min_password_length: 8,
            access_token_seconds: 3600,
            hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
            throttle: throttle::Limits::default(),
            mailer: None,
            recovery_seconds: 3600,
            confirm_email: false,
            refresh_reuse_seconds: 10,
        }
    }
}

/// What a sign-up gives: a session, or (email confirmation on) the user, who confirms first.
#[derive(Debug, Clone)]
pub enum SignUp {
    /// Signed in.
    Session(Box<Session>),
    /// A confirmation link was mailed; no session until it is followed.
    Confirm(Box<User>),
}

impl SignUp {
    /// GoTrue's JSON: the session, or the user alone.
    pub fn to_json(&self) -> Value {
        match self {
            SignUp::Session(session) => session.to_json(),
            SignUp::Confirm(user) => user.to_json(),
        }
    }
}

/// A signed-in session as GoTrue answers it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The access token (a JWT).
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: u64,
    /// When it expires (Unix seconds).
    pub expires_at: u64,
    /// The refresh token (opaque; given once, stored only hashed).
    pub refresh_token: String,
    /// The user.
    pub user: User,
}

impl Session {
    /// GoTrue's JSON of a session (`AccessTokenResponse`).
    pub fn to_json(&self) -> Value {
        json!({
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token,
            "user": self.user.to_json(),
        })
    }
}

/// The users service: its policy, its hasher and its token signer.
pub struct Users {
    config: UsersConfig,
    passwords: Passwords,
    signer: Signer,
    liveness: liveness::Liveness,
    throttle: throttle::Throttle,
    mailer: Option<mailer::Mailer>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").field("config", &self.config).field("signer", &self.signer).finish_non_exhaustive()
    }
}

/// Now, as stored: RFC 3339 in UTC with microseconds (one width: text order is time order).
pub fn now_text() -> String {
    stamp(jiff::Timestamp::now())
}

/// An instant as stored (see [`now_text`]).
fn stamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Now moved by `seconds` (negative: in the past), as stored; `None` past jiff's range.
fn stamp_from_now(seconds: i64) -> Option<String> {
    jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(seconds)).ok().map(stamp)
}

/// `email` normalized ([`normalize_email`]), or the answer GoTrue gives a malformed one.
fn valid_email(email: &str) -> Result<String, UsersError> {
    normalize_email(email)
        .ok_or_else(|| UsersError::Validation("Unable to validate email address: invalid format".into()))
}

fn now_seconds() -> u64 {
    jiff::Timestamp::now().as_second().unsigned_abs()
}

impl Users {
    /// A service signing access tokens with `key`.
    ///
    /// Errors: a signing key that cannot sign ([`Signer::new`]); a mailer URL lettre refuses.
    pub fn new(config: UsersConfig, key: &tokens::SigningKey) -> Result<Users, UsersError> {
        let passwords = Passwords::new(config.min_password_length, config.hash_concurrency)?;
        let signer = Signer::new(key, config.access_token_seconds)?;
        let throttle = throttle::Throttle::new(config.throttle);
        let mailer = config.mailer.as_ref().map(mailer::Mailer::new).transpose()?;
        Ok(Users { config, passwords, signer, liveness: liveness::Liveness::new(), throttle, mailer })
    }

    /// The configuration.
    pub fn config(&self) -> &UsersConfig {
        &self.config
    }

    /// Creates Rowbase's user tables in `db` when they do not exist.
    pub async fn prepare(&self, db: &Database) -> Result<(), UsersError> {
        Store::new(db).create_tables().await
    }

    /// Signs up `email` with `password` and user metadata `data`, and signs the new user in
    /// (email confirmation is off: the user is confirmed at sign-up).
    ///
    /// Errors: sign-up switched off, an invalid email, a weak password, an email taken.
    pub async fn sign_up(
        &self,
        db: &Database,
        email: &str,
        password: String,
        data: Value,
    ) -> Result<SignUp, UsersError> {
        if !self.config.signup {
            return Err(UsersError::SignupDisabled);
        }
        let email = valid_email(email)?;
        self.passwords.check(&password)?;
        let data = tokens::object(data);
        check_metadata(&data)?;
        let hash = self.passwords.hash(password).await?;
        let now = now_text();
        let confirm = self.config.confirm_email && self.mailer.is_some();
        let user = User {
            id: uuid::Uuid::new_v4().to_string(),
            email,
            role: "authenticated".into(),
            email_confirmed_at: (!confirm).then(|| now.clone()),
            last_sign_in_at: None,
            banned_until: None,
            app_metadata: json!({"provider": "email", "providers": ["email"]}),
            user_metadata: data,
            created_at: now.clone(),
            updated_at: now,
        };
        Store::new(db).insert_user(&user, Some(&hash)).await?;
        if confirm {
            self.mail_link(db, &user, SIGNUP, None).await?;
            return Ok(SignUp::Confirm(Box::new(user)));
        }
        Ok(SignUp::Session(Box::new(self.open_session(db, &user, None).await?)))
    }

    /// Signs `email` in with `password`, from client `address` when known. An unknown email
    /// and a wrong password are one answer ([`UsersError::InvalidCredentials`]) reached in the
    /// same time (a decoy hash is verified). Failures slow the next attempts ([`throttle`]).
    ///
    /// Errors: bad credentials, an unconfirmed email, [`UsersError::TooManyAttempts`].
    pub async fn sign_in(
        &self,
        db: &Database,
        email: &str,
        password: String,
        address: Option<std::net::IpAddr>,
    ) -> Result<Session, UsersError> {
        let email = normalize_email(email);
        let keys = self.throttle.keys(email.as_deref().unwrap_or(""), address);
        self.throttle.check(&keys).map_err(UsersError::TooManyAttempts)?;
        let result = self.check_password(db, email.as_deref(), password).await;
        match &result {
            Ok(_) => self.throttle.succeeded(&keys[0].0),
            Err(UsersError::InvalidCredentials) => self.throttle.failed(&keys),
            Err(_) => {}
        }
        let (user, rehash) = result?;
        self.open_session(db, &user, rehash.as_deref()).await
    }

    /// The user `email` names when `password` is theirs, and a new hash when theirs is dated.
    async fn check_password(
        &self,
        db: &Database,
        email: Option<&str>,
        password: String,
    ) -> Result<(User, Option<String>), UsersError> {
        let found = match email {
            Some(email) => Store::new(db).user_by_email(email).await?,
            None => None,
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        let verdict = self.passwords.verify(hash, password.clone()).await?;
        let user = match user {
            Some(user) if verdict.matches => user,
            _ => return Err(UsersError::InvalidCredentials),
        };
        if user.banned_at(&now_text()) {
            return Err(UsersError::InvalidCredentials);
        }
        if user.email_confirmed_at.is_none() {
            return Err(UsersError::EmailNotConfirmed);
        }
        let rehash = if verdict.rehash { Some(self.passwords.hash(password).await?) } else { None };
        Ok((user, rehash))
    }

    /// A new session of `user`, storing `rehash` as its password hash when given.
    async fn open_session(&self, db: &Database, user: &User, rehash: Option<&str>) -> Result<Session, UsersError> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let refresh = tokens::refresh_token();
        let user =
            Store::new(db).start_session(&user.id, &session_id, &tokens::digest(&refresh), &now_text(), rehash).await?;
        self.session(user, &session_id, refresh)
    }

    fn session(&self, user: User, session_id: &str, refresh_token: String) -> Result<Session, UsersError> {
        let (access_token, expires_at) = self.signer.access_token(&user, session_id, now_seconds())?;
        Ok(Session { access_token, expires_in: self.signer.lifetime(), expires_at, refresh_token, user })
    }

    /// Trades a refresh token for a new access token and a new refresh token (the old one is
    /// spent). A spent token used again ends its session.
    pub async fn refresh(&self, db: &Database, refresh_token: &str) -> Result<Session, UsersError> {
        if refresh_token.is_empty() || refresh_token.len() > 128 {
            return Err(UsersError::RefreshTokenNotFound);
        }
        let next = tokens::refresh_token();
        let now = now_text();
        let reuse_since = (self.config.refresh_reuse_seconds > 0)
            .then(|| stamp_from_now(-i64::try_from(self.config.refresh_reuse_seconds).unwrap_or(i64::MAX)))
            .flatten();
        let (old, new) = (tokens::digest(refresh_token), tokens::digest(&next));
        match Store::new(db).rotate(&old, &new, &now, reuse_since.as_deref()).await? {
            Rotation::Rotated { session_id, user } => {
                if user.banned_at(&now) {
                    Store::new(db).end_sessions(SignOutScope::Session(&session_id)).await?;
                    self.liveness.ended();
                    return Err(UsersError::Banned);
                }
                self.session(*user, &session_id, next)
            }
            Rotation::Reused => {
                self.liveness.ended();
                Err(UsersError::RefreshTokenReused)
            }
            Rotation::NotFound => Err(UsersError::RefreshTokenNotFound),
        }
    }

    /// Sends `email` a password recovery link (`{site_url}/auth/v1/verify?token=...&type=recovery`),
    /// valid for [`UsersConfig::recovery_seconds`], once; only the newest link works. The answer
    /// is the same whether or not the email is a user's (no enumeration): an unknown email sends
    /// nothing.
    ///
    /// Errors: no mailer configured ([`UsersError::MailDisabled`]); an invalid email; the SMTP
    /// server's refusal (logged; 500).
    pub async fn recover(&self, db: &Database, email: &str, redirect_to: Option<&str>) -> Result<(), UsersError> {
        if self.mailer.is_none() {
            return Err(UsersError::MailDisabled);
        }
        let email = valid_email(email)?;
        let Some((user, _)) = Store::new(db).user_by_email(&email).await? else { return Ok(()) };
        self.mail_link(db, &user, RECOVERY, redirect_to).await
    }

    /// Sends the confirmation link again to `email` when it is a user's whose email is not
    /// confirmed yet (supabase-js's `resend({ type: 'signup' })`); the same answer otherwise.
    pub async fn resend_confirmation(&self, db: &Database, email: &str) -> Result<(), UsersError> {
        if self.mailer.is_none() {
            return Err(UsersError::MailDisabled);
        }
        let email = valid_email(email)?;
        match Store::new(db).user_by_email(&email).await? {
            Some((user, _)) if user.email_confirmed_at.is_none() => self.mail_link(db, &user, SIGNUP, None).await,
            _ => Ok(()),
        }
    }

    /// Issues a one-time token of `kind` (`signup` or `recovery`) for `user` (only the newest of
    /// a kind works) and mails its link, `{site_url}/auth/v1/verify?token=...&type=...`, valid
    /// for [`UsersConfig::recovery_seconds`] (recovery) or a day (confirmation).
    async fn mail_link(
        &self,
        db: &Database,
        user: &User,
        kind: &str,
        redirect_to: Option<&str>,
    ) -> Result<(), UsersError> {
        let Some(mailer) = &self.mailer else { return Err(UsersError::MailDisabled) };
        let token = tokens::refresh_token();
        let seconds = if kind == RECOVERY { self.config.recovery_seconds } else { 86_400 };
        let expires = stamp_from_now(i64::try_from(seconds).unwrap_or(3600))
            .ok_or_else(|| UsersError::Internal(format!("{seconds} seconds from now is past the calendar")))?;
        Store::new(db).issue_one_time(&user.id, kind, &tokens::digest(&token), &now_text(), &expires).await?;
        let mut link = format!("{}/auth/v1/verify?token={token}&type={kind}", mailer.site_url);
        if let Some(to) = redirect_to.filter(|to| self.allowed_redirect(to)) {
            link.push_str("&redirect_to=");
            link.extend(percent_encoding::utf8_percent_encode(to, percent_encoding::NON_ALPHANUMERIC));
        }
        let minutes = seconds.div_ceil(60);
        let (subject, body) = if kind == RECOVERY {
            let body = format!(
                "Someone (hopefully you) asked to reset the password of {}.\n\nFollow this link to sign in and choose a new \
                 one; it works once, for {minutes} minutes:\n\n{link}\n\nIf it was not you, ignore this message: nothing changes.\n",
                user.email
            );
            ("Reset your password", body)
        } else {
            let body = format!(
                "Confirm that {} is your address by following this link (it works once, for {minutes} minutes):\n\n{link}\n\n\
                 If you did not sign up, ignore this message.\n",
                user.email
            );
            ("Confirm your email", body)
        };
        mailer.send(&user.email, subject, body).await
    }

    /// Spends a link's `token` of `kind` (`signup`: the email is confirmed; `recovery`) and
    /// signs its user in. A link works once, until it expires.
    ///
    /// Errors: [`UsersError::LinkExpired`] for a token that is unknown, spent or expired; an
    /// unknown kind.
    pub async fn verify(&self, db: &Database, kind: &str, token: &str) -> Result<Session, UsersError> {
        let kind = match kind {
            "signup" | "email" => SIGNUP,
            "recovery" => RECOVERY,
            other => {
                return Err(UsersError::Validation(format!(
                    "unsupported verification type {other:?}: signup or recovery"
                )));
            }
        };
        if token.is_empty() || token.len() > 128 {
            return Err(UsersError::LinkExpired);
        }
        let now = now_text();
        let user = Store::new(db).spend_one_time(kind, &tokens::digest(token), &now).await?;
        let mut user = user.ok_or(UsersError::LinkExpired)?;
        if user.banned_at(&now) {
            return Err(UsersError::Banned);
        }
        if kind == SIGNUP && user.email_confirmed_at.is_none() {
            let confirmed = UserUpdate { email_confirmed_at: Some(Some(now.clone())), ..UserUpdate::default() };
            user = Store::new(db).update_user(&user.id, &confirmed, &now).await?;
        }
        self.open_session(db, &user, None).await
    }

    /// Whether a link may send the browser to `to`: the site itself or a path under it (never
    /// another origin: an open redirect would hand the session's tokens to it).
    pub fn allowed_redirect(&self, to: &str) -> bool {
        self.site_url().is_some_and(|site| {
            to == site
                || to
                    .strip_prefix(site)
                    .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?') || rest.starts_with('#'))
        })
    }

    /// An access token of no one (no session), signed as every access token is: for the server
    /// to check at start-up that it verifies what it signs.
    pub fn probe_token(&self) -> Result<String, UsersError> {
        let now = now_text();
        let probe = User {
            id: uuid::Uuid::nil().to_string(),
            email: "probe@rowbase.invalid".into(),
            role: "authenticated".into(),
            email_confirmed_at: None,
            last_sign_in_at: None,
            banned_until: None,
            app_metadata: json!({}),
            user_metadata: json!({}),
            created_at: now.clone(),
            updated_at: now,
        };
        Ok(self.signer.access_token(&probe, &uuid::Uuid::nil().to_string(), now_seconds())?.0)
    }

    /// The public keys access tokens are verified with (`{"keys": [...]}`).
    pub fn public_keys(&self) -> &Value {
        self.signer.public_keys()
    }

    /// Whether new users confirm their email before they sign in.
    pub fn confirms_email(&self) -> bool {
        self.config.confirm_email && self.mailer.is_some()
    }

    /// The public base URL of the server's links, when mail is configured.
    pub fn site_url(&self) -> Option<&str> {
        self.mailer.as_ref().map(|m| m.site_url.as_str())
    }

    /// Refuses the verified `claims` of one of Rowbase's access tokens (`iss` `rowbase`, with a
    /// `session_id`) whose session has ended; other tokens (an anon or service key) pass.
    ///
    /// Errors: [`UsersError::SessionNotFound`] for an ended session.
    pub async fn check_session(
        &self,
        db: &Database,
        claims: &serde_json::Map<String, Value>,
    ) -> Result<(), UsersError> {
        if claims.get("iss").and_then(Value::as_str) != Some(tokens::ISSUER) || !claims.contains_key("session_id") {
            return Ok(());
        }
        let (sub, session) = session_claims(claims)?;
        let open = match self.liveness.cached(session) {
            Some(open) => open,
            None => {
                let epoch = self.liveness.epoch();
                let open = Store::new(db).session_exists(session, sub).await?;
                self.liveness.remember(session, open, epoch);
                open
            }
        };
        if open { Ok(()) } else { Err(UsersError::SessionNotFound) }
    }

    /// The user an access token's verified `claims` name, when its session is still open.
    ///
    /// Errors: claims without `sub` or `session_id` (403 `session_not_found`: not a session's
    /// token), a session that ended.
    pub async fn user(
        &self,
        db: &Database,
        claims: &serde_json::Map<String, Value>,
    ) -> Result<(User, String), UsersError> {
        let (sub, session) = session_claims(claims)?;
        match Store::new(db).session_user(session, sub).await? {
            Some(user) => Ok((user, session.to_string())),
            None => Err(UsersError::SessionNotFound),
        }
    }

    /// Ends the sessions `scope` names (`local`, `global`, `others`) for the session of the
    /// verified `claims`.
    pub async fn sign_out(
        &self,
        db: &Database,
        claims: &serde_json::Map<String, Value>,
        scope: &str,
    ) -> Result<(), UsersError> {
        let (sub, session) = session_claims(claims)?;
        let scope = match scope {
            "" | "global" => SignOutScope::User(sub),
            "local" => SignOutScope::Session(session),
            "others" => SignOutScope::Others { user: sub, keep: session },
            other => {
                return Err(UsersError::Validation(format!(
                    "unsupported logout scope {other:?}: global, local or others"
                )));
            }
        };
        Store::new(db).end_sessions(scope).await?;
        self.liveness.ended();
        Ok(())
    }
}

/// A change to a user: its own (`PUT /user`: email, password, `data`) or an admin's (`PUT
/// /admin/users/{id}`: also `app_metadata`, `role`, `ban_duration`, `email_confirm`).
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// A new email (normalized; refused when another user has it).
    pub email: Option<String>,
    /// A new password (the policy applies).
    pub password: Option<String>,
    /// Keys merged into `user_metadata` (a `null` value removes its key), GoTrue's rule.
    pub user_metadata: Option<Value>,
    /// Keys merged into `app_metadata` (admin only).
    pub app_metadata: Option<Value>,
    /// The database role the user's tokens name (admin only).
    pub role: Option<String>,
    /// `none` lifts a ban; a Go duration (`24h`, `1h30m`) bans for that long and ends every
    /// session (admin only).
    pub ban_duration: Option<String>,
    /// Confirm (or un-confirm) the email (admin only).
    pub email_confirm: Option<bool>,
}

impl UserChanges {
    fn admin_only(&self) -> bool {
        self.app_metadata.is_some()
            || self.role.is_some()
            || self.ban_duration.is_some()
            || self.email_confirm.is_some()
    }
}

/// Whether verified `claims` are an admin's: a `service_role` (or `supabase_admin`) token,
/// GoTrue's default admin roles.
pub fn is_admin(claims: &serde_json::Map<String, Value>) -> bool {
    matches!(claims.get("role").and_then(Value::as_str), Some("service_role" | "supabase_admin"))
}

impl Users {
    /// Changes the user of the session whose access token's verified `claims` these are.
    ///
    /// Errors: an ended session; admin-only changes (403 `not_admin`); an invalid or taken
    /// email; a weak password.
    pub async fn update_self(
        &self,
        db: &Database,
        claims: &serde_json::Map<String, Value>,
        changes: UserChanges,
    ) -> Result<User, UsersError> {
        if changes.admin_only() {
            return Err(UsersError::NotAdmin);
        }
        let (user, _) = self.user(db, claims).await?;
        self.apply(db, &user, changes).await
    }

    /// Creates a user as an admin does (`auth.admin.createUser`): confirmed when
    /// `email_confirm` is true; without a password the user cannot sign in with one.
    pub async fn admin_create(&self, db: &Database, email: &str, changes: UserChanges) -> Result<User, UsersError> {
        let email = valid_email(email)?;
        let hash = match &changes.password {
            Some(password) => {
                self.passwords.check(password)?;
                Some(self.passwords.hash(password.clone()).await?)
            }
            None => None,
        };
        let now = now_text();
        let mut app_metadata = json!({"provider": "email", "providers": ["email"]});
        merge(&mut app_metadata, changes.app_metadata.clone());
        let mut user_metadata = json!({});
        merge(&mut user_metadata, changes.user_metadata.clone());
        check_metadata(&app_metadata)?;
        check_metadata(&user_metadata)?;
        let user = User {
            id: uuid::Uuid::new_v4().to_string(),
            email,
            role: changes.role.clone().unwrap_or_else(|| "authenticated".into()),
            email_confirmed_at: (changes.email_confirm == Some(true)).then(|| now.clone()),
            last_sign_in_at: None,
            banned_until: ban_until(changes.ban_duration.as_deref())?.flatten(),
            app_metadata,
            user_metadata,
            created_at: now.clone(),
            updated_at: now,
        };
        Store::new(db).insert_user(&user, hash.as_deref()).await?;
        Ok(user)
    }

    /// A page of users (`page` from 1, `per_page` at most 1,000), oldest first, and the total.
    pub async fn admin_list(&self, db: &Database, page: u64, per_page: u64) -> Result<(Vec<User>, u64), UsersError> {
        let per_page = per_page.clamp(1, 1000);
        Store::new(db).list_users(page.max(1).saturating_sub(1).saturating_mul(per_page), per_page).await
    }

    /// User `id`.
    pub async fn admin_get(&self, db: &Database, id: &str) -> Result<User, UsersError> {
        let id = valid_uuid(id)?;
        Store::new(db).user_by_id(id).await?.map(|(u, _)| u).ok_or(UsersError::UserNotFound)
    }

    /// Changes user `id` as an admin does (`auth.admin.updateUserById`).
    pub async fn admin_update(&self, db: &Database, id: &str, changes: UserChanges) -> Result<User, UsersError> {
        let user = self.admin_get(db, id).await?;
        self.apply(db, &user, changes).await
    }

    /// Deletes user `id` and ends its sessions; the user as it was.
    pub async fn admin_delete(&self, db: &Database, id: &str) -> Result<User, UsersError> {
        let user = self.admin_get(db, id).await?;
        Store::new(db).delete_user(&user.id).await?;
        self.liveness.ended();
        Ok(user)
    }

    /// Applies `changes` to `user`; a ban ends every session of the user.
    async fn apply(&self, db: &Database, user: &User, changes: UserChanges) -> Result<User, UsersError> {
        let mut update = UserUpdate::default();
        if let Some(email) = &changes.email {
            let email = valid_email(email)?;
            update.email = (email != user.email).then_some(email);
        }
        if let Some(password) = changes.password {
            self.passwords.check(&password)?;
            update.password_hash = Some(self.passwords.hash(password).await?);
        }
        if let Some(patch) = changes.user_metadata {
            let mut meta = user.user_metadata.clone();
            merge(&mut meta, Some(patch));
            check_metadata(&meta)?;
            update.user_metadata = Some(meta);
        }
        if let Some(patch) = changes.app_metadata {
            let mut meta = user.app_metadata.clone();
            merge(&mut meta, Some(patch));
            check_metadata(&meta)?;
            update.app_metadata = Some(meta);
        }
        update.role = changes.role;
        update.banned_until = ban_until(changes.ban_duration.as_deref())?;
        update.email_confirmed_at = changes.email_confirm.map(|c| c.then(now_text));
        let banned = matches!(update.banned_until, Some(Some(_)));
        let changed = Store::new(db).update_user(&user.id, &update, &now_text()).await?;
        if banned {
            Store::new(db).end_sessions(SignOutScope::User(&user.id)).await?;
            self.liveness.ended();
        }
        Ok(changed)
    }
}

/// The `kind` of a recovery token in the one-time tokens table.
const RECOVERY: &str = "recovery";
/// The `kind` of an email confirmation token.
const SIGNUP: &str = "signup";

/// The most bytes `user_metadata` or `app_metadata` may take as JSON: both ride in every access
/// token, which the REST API refuses past 8 KiB.
pub const MAX_METADATA_BYTES: usize = 2048;

/// Refuses metadata larger than [`MAX_METADATA_BYTES`] (400 `validation_failed`).
fn check_metadata(meta: &Value) -> Result<(), UsersError> {
    let size = meta.to_string().len();
    if size > MAX_METADATA_BYTES {
        return Err(UsersError::Validation(format!(
            "metadata takes {size} bytes as JSON; at most {MAX_METADATA_BYTES} (it rides in every access token)"
        )));
    }
    Ok(())
}

/// Merges object `patch` into object `target`: each key set, a `null` removing its key.
fn merge(target: &mut Value, patch: Option<Value>) {
    let (Some(target), Some(Value::Object(patch))) = (target.as_object_mut(), patch) else { return };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(&key);
        } else {
            target.insert(key, value);
        }
    }
}

/// What `ban_duration` sets `banned_until` to: `None` leaves it, `Some(None)` lifts a ban
/// (`none`), `Some(Some(t))` bans until now plus a Go duration (`24h`, `1h30m`, `90s`).
fn ban_until(duration: Option<&str>) -> Result<Option<Option<String>>, UsersError> {
    let Some(duration) = duration else { return Ok(None) };
    if duration == "none" {
        return Ok(Some(None));
    }
    let invalid =
        || UsersError::Validation(format!("invalid format for ban duration {duration:?}: e.g. 24h, 1h30m, or none"));
    let (mut seconds, mut number) = (0u64, String::new());
    for c in duration.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| invalid())?;
        number.clear();
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(invalid()),
        };
        seconds = seconds.saturating_add(n.saturating_mul(unit));
    }
    if !number.is_empty() || seconds == 0 {
        return Err(invalid());
    }
    let seconds = i64::try_from(seconds.min(100 * 365 * 86_400)).map_err(|_| invalid())?;
    Ok(Some(Some(stamp_from_now(seconds).ok_or_else(invalid)?)))
}

/// `id` when it is a UUID, else [`UsersError::UserNotFound`] (no such user can exist).
fn valid_uuid(id: &str) -> Result<&str, UsersError> {
    uuid::Uuid::parse_str(id).map(|_| id).map_err(|_| UsersError::UserNotFound)
}

/// The `sub` and `session_id` of a session's access token, both UUIDs.
fn session_claims(claims: &serde_json::Map<String, Value>) -> Result<(&str, &str), UsersError> {
    let uuid = |key| claims.get(key).and_then(Value::as_str).filter(|s| uuid::Uuid::parse_str(s).is_ok());
    match (uuid("sub"), uuid("session_id")) {
        (Some(sub), Some(session)) => Ok((sub, session)),
        _ => Err(UsersError::SessionNotFound),
    }
}
