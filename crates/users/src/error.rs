//! What can go wrong with users and sessions, each with the status and GoTrue error code its
//! answer carries (GoTrue's `internal/api/errorcodes.go` names; supabase-js reads them).

/// A failure of a users or sessions operation.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// Malformed or missing input (400 `validation_failed`).
    #[error("{0}")]
    Validation(String),
    /// The password breaks the policy (422 `weak_password`, with `reasons`).
    #[error("Password should be at least {min_length} characters and not a common password")]
    WeakPassword {
        /// The policy's minimum length.
        min_length: usize,
        /// `length` and/or `pwned`.
        reasons: Vec<&'static str>,
    },
    /// Sign-up with an email already registered (422 `user_already_exists`).
    #[error("User already registered")]
    UserExists,
    /// A change of email to one another user has (422 `email_exists`).
    #[error("A user with this email address has already been registered")]
    EmailExists,
    /// The caller's token is not an admin's (403 `not_admin`).
    #[error("User not allowed")]
    NotAdmin,
    /// Unknown email or wrong password, told apart by nothing (400 `invalid_credentials`).
    #[error("Invalid login credentials")]
    InvalidCredentials,
    /// The email is not confirmed yet (400 `email_not_confirmed`).
    #[error("Email not confirmed")]
    EmailNotConfirmed,
    /// A refresh token that was never issued, or whose session ended (400
    /// `refresh_token_not_found`).
    #[error("Invalid Refresh Token: Refresh Token Not Found")]
    RefreshTokenNotFound,
    /// A refresh token used a second time: its whole session is revoked (400
    /// `refresh_token_already_used`; OAuth 2.0 Security BCP, refresh token rotation).
    #[error("Invalid Refresh Token: Already Used")]
    RefreshTokenReused,
    /// The access token's session has ended (signed out, or the user was deleted) (403
    /// `session_not_found`).
    #[error("Session from session_id claim in JWT does not exist")]
    SessionNotFound,
    /// The user is banned (403 `user_banned`).
    #[error("User is banned")]
    Banned,
    /// The user does not exist (404 `user_not_found`).
    #[error("User not found")]
    UserNotFound,
    /// Sign-up is switched off (422 `signup_disabled`).
    #[error("Signups not allowed for this instance")]
    SignupDisabled,
    /// A recovery link that is unknown, spent or expired (403 `otp_expired`).
    #[error("Email link is invalid or has expired")]
    LinkExpired,
    /// Mail is not configured (`--smtp-url`), so no link can be sent (422
    /// `email_provider_disabled`).
    #[error("Sending mail is not configured on this server (--smtp-url)")]
    MailDisabled,
    /// Too many passwords waiting to be hashed (429 `over_request_rate_limit`, retry in a second).
    #[error("Too many sign-ins at once: try again in a second")]
    Busy,
    /// Too many attempts (429 `over_request_rate_limit`); retry after this many seconds.
    #[error("Too many attempts: try again in {0} seconds")]
    TooManyAttempts(u64),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] rowbase_db::DbError),
    /// Anything else (500 `unexpected_failure`): the message is logged, not sent.
    #[error("{0}")]
    Internal(String),
}

impl UsersError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            UsersError::Validation(_)
            | UsersError::InvalidCredentials
            | UsersError::EmailNotConfirmed
            | UsersError::RefreshTokenNotFound
            | UsersError::RefreshTokenReused => 400,
            UsersError::SessionNotFound | UsersError::Banned | UsersError::NotAdmin | UsersError::LinkExpired => 403,
            UsersError::UserNotFound => 404,
            UsersError::WeakPassword { .. }
            | UsersError::UserExists
            | UsersError::EmailExists
            | UsersError::SignupDisabled
            | UsersError::MailDisabled => 422,
            UsersError::TooManyAttempts(_) | UsersError::Busy => 429,
            UsersError::Database(e) if e.kind == rowbase_db::ErrorKind::Unavailable => 503,
            UsersError::Database(_) | UsersError::Internal(_) => 500,
        }
    }

    /// GoTrue's error code.
    pub fn code(&self) -> &'static str {
        match self {
            UsersError::Validation(_) => "validation_failed",
            UsersError::WeakPassword { .. } => "weak_password",
            UsersError::UserExists => "user_already_exists",
            UsersError::EmailExists => "email_exists",
            UsersError::LinkExpired => "otp_expired",
            UsersError::MailDisabled => "email_provider_disabled",
            UsersError::NotAdmin => "not_admin",
            UsersError::InvalidCredentials => "invalid_credentials",
            UsersError::EmailNotConfirmed => "email_not_confirmed",
            UsersError::RefreshTokenNotFound => "refresh_token_not_found",
            UsersError::RefreshTokenReused => "refresh_token_already_used",
            UsersError::SessionNotFound => "session_not_found",
            UsersError::Banned => "user_banned",
            UsersError::UserNotFound => "user_not_found",
            UsersError::SignupDisabled => "signup_disabled",
            UsersError::TooManyAttempts(_) | UsersError::Busy => "over_request_rate_limit",
            UsersError::Database(_) | UsersError::Internal(_) => "unexpected_failure",
        }
    }
}
