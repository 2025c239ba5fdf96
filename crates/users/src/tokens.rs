//! Tokens: opaque refresh tokens (256 random bits, stored only as their SHA-256) and the access
//! JWT with the claims Supabase puts there (`sub`, `role`, `email`, `aud`, `exp`, `iat`,
//! `session_id`, `app_metadata`, `user_metadata`, `aal`, `amr`, `is_anonymous`), signed with the
//! HMAC secret the server verifies tokens with.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::UsersError;
use crate::user::User;

/// The `iss` of Rowbase's access tokens: a token with it and a `session_id` is checked for an
/// open session on every request.
pub const ISSUER: &str = "rowbase";

/// The audience of the access tokens (Supabase's `authenticated`).
pub const AUDIENCE: &str = "authenticated";

/// A new refresh token: 32 random bytes, base64url (43 characters).
pub fn refresh_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a refresh token: its SHA-256, hex. A token has 256 random bits, so a
/// plain hash cannot be reversed by guessing; a leak of the table yields no usable token.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs access tokens.
#[derive(Clone)]
pub struct Signer {
    key: EncodingKey,
    lifetime: u64,
}

impl std::fmt::Debug for Signer {
    /// Says how long tokens live, never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

impl Signer {
    /// HS256 with `secret`; tokens live `lifetime` seconds.
    pub fn hs256(secret: &[u8], lifetime: u64) -> Signer {
        Signer { key: EncodingKey::from_secret(secret), lifetime }
    }

    /// How long an access token lives, in seconds.
    pub fn lifetime(&self) -> u64 {
        self.lifetime
    }

    /// An access token for `user` in session `session_id`, issued at `now` (Unix seconds); and
    /// its expiry.
    pub fn access_token(&self, user: &User, session_id: &str, now: u64) -> Result<(String, u64), UsersError> {
        let exp = now + self.lifetime;
        let claims = json!({
            "iss": ISSUER,
            "sub": user.id,
            "aud": AUDIENCE,
            "exp": exp,
            "iat": now,
            "email": user.email,
            "phone": "",
            "role": user.role,
            "app_metadata": user.app_metadata,
            "user_metadata": user.user_metadata,
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": session_id,
            "is_anonymous": false,
        });
        let token = jsonwebtoken::encode(&Header::default(), &claims, &self.key)
            .map_err(|e| UsersError::Internal(format!("signing an access token: {e}")))?;
        Ok((token, exp))
    }
}

/// `value`'s object, or an empty one.
pub(crate) fn object(value: Value) -> Value {
    if value.is_object() { value } else { json!({}) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refresh_tokens_are_random_and_stored_as_their_hash() {
        let (a, b) = (super::refresh_token(), super::refresh_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(super::digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
