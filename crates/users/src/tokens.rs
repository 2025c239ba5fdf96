//! Tokens: opaque refresh tokens (256 random bits, stored only as their SHA-256) and the access
//! JWT with the claims Supabase puts there (`sub`, `role`, `email`, `aud`, `exp`, `iat`,
//! `session_id`, `app_metadata`, `user_metadata`, `aal`, `amr`, `is_anonymous`), signed with the
//! HMAC secret the server verifies tokens with, or with a private key whose public half is in the
//! JWK set it verifies with (and publishes).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
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

/// The key access tokens are signed with.
#[derive(Clone)]
pub enum SigningKey {
    /// The HMAC secret the server verifies tokens with (HS256); never published.
    Hmac(Vec<u8>),
    /// A private key (PEM, PKCS#8: EC P-256/P-384, RSA or Ed25519) whose public half is key
    /// `kid` of the JWK set `jwks` (the one the server verifies with, and publishes at
    /// `/auth/v1/.well-known/jwks.json`). The algorithm is the key's `alg`, else its type's
    /// (`ES256`, `ES384`, `RS256`, `EdDSA`).
    Jwk {
        /// The private key, PEM.
        pem: Vec<u8>,
        /// Its `kid` in `jwks`.
        kid: String,
        /// The JWK set (JSON, `{"keys": [...]}`), public keys.
        jwks: String,
    },
}

impl std::fmt::Debug for SigningKey {
    /// Says which kind of key, never its material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigningKey::Hmac(_) => f.write_str("SigningKey::Hmac"),
            SigningKey::Jwk { kid, .. } => write!(f, "SigningKey::Jwk({kid})"),
        }
    }
}

/// Signs access tokens.
#[derive(Clone)]
pub struct Signer {
    key: EncodingKey,
    header: Header,
    lifetime: u64,
    public: Value,
}

impl std::fmt::Debug for Signer {
    /// Says how long tokens live and how they are signed, never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("lifetime", &self.lifetime)
            .field("alg", &self.header.alg)
            .finish_non_exhaustive()
    }
}

/// The members of a JWK that are private: never published.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

impl Signer {
    /// A signer with `key`; tokens live `lifetime` seconds.
    ///
    /// Errors: a JWK set that is not JSON, no key `kid` in it, a key type Rowbase cannot sign
    /// with, a PEM that is not a private key of that type.
    pub fn new(key: &SigningKey, lifetime: u64) -> Result<Signer, UsersError> {
        let (key, header, public) = match key {
            SigningKey::Hmac(secret) => (EncodingKey::from_secret(secret), Header::default(), json!({"keys": []})),
            SigningKey::Jwk { pem, kid, jwks } => {
                let bad = |why: String| UsersError::Internal(format!("the signing key {kid:?}: {why}"));
                let set: Value =
                    serde_json::from_str(jwks).map_err(|e| bad(format!("the JWK set is not JSON: {e}")))?;
                let keys = set.get("keys").and_then(Value::as_array).cloned().unwrap_or_else(|| vec![set.clone()]);
                let jwk = keys
                    .iter()
                    .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
                    .ok_or_else(|| bad("no key of that kid in the JWK set".into()))?;
                let text = |name: &str| jwk.get(name).and_then(Value::as_str).unwrap_or("");
                let alg = match (text("alg"), text("kty"), text("crv")) {
                    ("", "EC", "P-256") => Algorithm::ES256,
                    ("", "EC", "P-384") => Algorithm::ES384,
                    ("", "RSA", _) => Algorithm::RS256,
                    ("", "OKP", "Ed25519") => Algorithm::EdDSA,
                    ("", kty, crv) => return Err(bad(format!("a key of type {kty} {crv} cannot sign"))),
                    (alg, _, _) => alg.parse().map_err(|_| bad(format!("an unknown alg {alg}")))?,
                };
                let encoding = match alg {
                    Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
                    Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512 => EncodingKey::from_rsa_pem(pem),
                    Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
                    other => return Err(bad(format!("{other:?} is not an asymmetric algorithm"))),
                }
                .map_err(|e| bad(format!("the PEM is not a private key for {alg:?}: {e}")))?;
                let mut header = Header::new(alg);
                header.kid = Some(kid.clone());
                let public: Vec<Value> = keys
                    .into_iter()
                    .map(|mut k| {
                        if let Some(k) = k.as_object_mut() {
                            PRIVATE_MEMBERS.iter().for_each(|m| drop(k.remove(*m)));
                        }
                        k
                    })
                    .collect();
                (encoding, header, json!({"keys": public}))
            }
        };
        Ok(Signer { key, header, lifetime, public })
    }

    /// The public keys tokens are verified with (`{"keys": [...]}`; empty for an HMAC secret).
    pub fn public_keys(&self) -> &Value {
        &self.public
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
        let token = jsonwebtoken::encode(&self.header, &claims, &self.key)
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
