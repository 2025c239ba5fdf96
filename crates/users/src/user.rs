//! A user as Rowbase stores it, and as GoTrue answers it (`models.User`'s JSON, which
//! supabase-js reads: `id`, `aud`, `role`, `email`, the confirmation and sign-in times,
//! `app_metadata`, `user_metadata`, `identities`, `created_at`, `updated_at`).

use serde_json::{Value, json};

use crate::tokens::AUDIENCE;

/// A stored user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// A UUID (the tokens' `sub`).
    pub id: String,
    /// The email, trimmed and lower-cased (unique).
    pub email: String,
    /// The database role its tokens name (`authenticated` unless an admin set another).
    pub role: String,
    /// When the email was confirmed (RFC 3339, UTC), if it was.
    pub email_confirmed_at: Option<String>,
    /// The last sign-in (RFC 3339, UTC).
    pub last_sign_in_at: Option<String>,
    /// Banned until this instant (RFC 3339, UTC), if banned.
    pub banned_until: Option<String>,
    /// Metadata only the server (or a service key) sets: `provider`, `providers`, and any claim
    /// a policy reads.
    pub app_metadata: Value,
    /// Metadata the user sets (`options.data` at sign-up, `updateUser({ data })`).
    pub user_metadata: Value,
    /// Created (RFC 3339, UTC).
    pub created_at: String,
    /// Last changed (RFC 3339, UTC).
    pub updated_at: String,
}

impl User {
    /// Whether the user is banned at `now` (RFC 3339, UTC, the stored format: compared as text).
    pub fn banned_at(&self, now: &str) -> bool {
        self.banned_until.as_deref().is_some_and(|until| until > now)
    }

    /// GoTrue's JSON of the user.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "aud": AUDIENCE,
            "role": self.role,
            "email": self.email,
            "email_confirmed_at": self.email_confirmed_at,
            "phone": "",
            "confirmed_at": self.email_confirmed_at,
            "last_sign_in_at": self.last_sign_in_at,
            "app_metadata": self.app_metadata,
            "user_metadata": self.user_metadata,
            "identities": [{
                "identity_id": self.id,
                "id": self.id,
                "user_id": self.id,
                "identity_data": {
                    "sub": self.id,
                    "email": self.email,
                    "email_verified": self.email_confirmed_at.is_some(),
                    "phone_verified": false,
                },
                "provider": "email",
                "last_sign_in_at": self.last_sign_in_at,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
                "email": self.email,
            }],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "banned_until": self.banned_until,
            "is_anonymous": false,
        })
    }
}

/// `email` as stored and compared: trimmed, lower-cased; `None` when it is not an address
/// (one `@` with text on both sides, a dot in the domain, no spaces, at most 254 bytes: RFC
/// 5321's limit).
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(super::normalize_email("  Alice@Example.COM ").as_deref(), Some("alice@example.com"));
        for bad in ["", "alice", "@example.com", "alice@", "alice@example", "a b@example.com", "a@b@example.com"] {
            assert_eq!(super::normalize_email(bad), None, "{bad}");
        }
    }
}
