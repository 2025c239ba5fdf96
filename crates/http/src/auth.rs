//! Who is asking: the request's JSON Web Token, verified, and the role it names (PostgREST
//! "Authentication"; the PostgREST documentation's "JWT Authentication" and "Overview of role
//! system" sections).
//!
//! The token comes from `Authorization: Bearer <JWT>`, else from the `apikey` header that
//! Supabase clients send (its anon and service keys are JWTs with a `role` claim). It is checked
//! for size ([`MAX_TOKEN_BYTES`]), for a signature by a configured key whose algorithm family is
//! the one the header names (an HMAC secret for `HS256/384/512`; a JWK for `RS*`/`PS*`, `ES256`,
//! `ES384`, `EdDSA`, chosen by `kid` when the token has one), and for `exp`/`nbf` with
//! [`LEEWAY_SECONDS`] of clock skew and, when configured, `aud` (a token without `aud` passes, as
//! in PostgREST). `alg: none` is never accepted: no key takes it. Failures are 401 with
//! PostgREST's codes: `PGRST301` (not a JWT, no key, bad signature), `PGRST303` (claims: expired,
//! not yet valid, wrong audience, a role that is not a string) and `PGRST302` (no token, no
//! anonymous role), each with `WWW-Authenticate` (RFC 6750 §3).
//!
//! Verified tokens are cached by their text (at most [`CACHE_BYTES`] of tokens and claims), so a
//! token costs its signature check once; a cached token is still refused once it expires.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, header};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The longest token accepted, in bytes (a larger one is refused before it is decoded).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Seconds of clock skew allowed on `exp` and `nbf` (PostgREST's 30 s).
pub const LEEWAY_SECONDS: u64 = 30;

/// The shortest HMAC secret accepted, in bytes (PostgREST's 32 characters; RFC 7518 §3.2
/// asks for at least the hash's size).
pub const MIN_SECRET_BYTES: usize = 32;

/// The most the verified-token cache holds: the bytes of its tokens and claims together.
pub const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The keys tokens are verified with; `None`: authentication is off (tokens are not read,
    /// every request runs without a role, as a server without keys on a loopback address does).
    pub keys: Option<Arc<JwtKeys>>,
    /// The path of the claim naming the role (PostgREST's `jwt-role-claim-key`), e.g. `["role"]`
    /// (the default) or `["app_metadata", "role"]`.
    pub role_claim: Vec<String>,
    /// The audience a token's `aud` must name when it has one (PostgREST's `jwt-aud`).
    pub audience: Option<String>,
    /// The role of a request without a token (PostgREST's `db-anon-role`); `None`: such a request
    /// is refused with 401 `PGRST302` when keys are configured.
    pub anon_role: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig { keys: None, role_claim: vec!["role".into()], audience: None, anon_role: None }
    }
}

/// The keys tokens may be signed with: an HMAC secret, public keys from a JWK set, or both.
pub struct JwtKeys {
    secret: Option<DecodingKey>,
    public: Vec<PublicKey>,
}

struct PublicKey {
    kid: Option<String>,
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

impl std::fmt::Debug for JwtKeys {
    /// Says which keys there are, never their material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("secret", &self.secret.is_some())
            .field("public", &self.public.iter().map(|k| (&k.kid, &k.algorithms)).collect::<Vec<_>>())
            .finish()
    }
}

impl JwtKeys {
    /// Keys from an HMAC `secret` (raw bytes, at least [`MIN_SECRET_BYTES`]) and a JWK or JWK set
    /// document (`{"keys": [...]}` or one key). A public key's algorithms are its `alg` when
    /// given, else those of its type: `RS256/384/512` and `PS256/384/512` for RSA, `ES256` for
    /// P-256, `ES384` for P-384, `EdDSA` for Ed25519. A symmetric (`oct`) JWK is refused: give
    /// the secret instead. Private parts of a JWK are ignored.
    ///
    /// Errors: a short secret, a document that is not a JWK set, a key of an unsupported kind,
    /// or no key at all (each message says which).
    pub fn new(secret: Option<&[u8]>, jwks: Option<&str>) -> Result<JwtKeys, String> {
        let secret = match secret {
            Some(s) if s.len() < MIN_SECRET_BYTES => {
                return Err(format!("the JWT secret has {} bytes; at least {MIN_SECRET_BYTES} are required", s.len()));
            }
            Some(s) => Some(DecodingKey::from_secret(s)),
            None => None,
        };
        let mut public = Vec::new();
        if let Some(text) = jwks {
            let value: Value = serde_json::from_str(text).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
            let set: JwkSet = if value.get("keys").is_some() {
                serde_json::from_value(value).map_err(|e| format!("the JWKS: {e}"))?
            } else {
                JwkSet { keys: vec![serde_json::from_value(value).map_err(|e| format!("the JWK: {e}"))?] }
            };
            for (i, jwk) in set.keys.iter().enumerate() {
                public.push(public_key(jwk).map_err(|e| format!("key {i} of the JWKS: {e}"))?);
            }
        }
        if secret.is_none() && public.is_empty() {
            return Err("no JWT key: give a secret or a JWKS with at least one key".into());
        }
        Ok(JwtKeys { secret, public })
    }
}

fn public_key(jwk: &Jwk) -> Result<PublicKey, String> {
    let family: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            ref other => return Err(format!("the curve {other:?} is not supported")),
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
        AlgorithmParameters::OctetKeyPair(_) => return Err("only Ed25519 octet key pairs are supported".into()),
        AlgorithmParameters::OctetKey(_) => {
            return Err("a symmetric key belongs in ROWBASE_JWT_SECRET(_FILE), not in the JWKS".into());
        }
    };
    let algorithms = match jwk.common.key_algorithm {
        None => family,
        Some(declared) => {
            let declared = key_algorithm(declared).ok_or_else(|| format!("the algorithm {declared:?}"))?;
            if !family.contains(&declared) {
                return Err(format!("its alg {declared:?} does not fit its key type"));
            }
            vec![declared]
        }
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    Ok(PublicKey { kid: jwk.common.key_id.clone(), algorithms, key })
}

fn key_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Who a request is: the role it runs as and the verified token's claims.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// The role: the token's role claim, else the anonymous role; `None` with authentication
    /// off (or neither).
    pub role: Option<String>,
    /// The claims (empty without a token), shared with the cache.
    pub claims: Arc<Map<String, Value>>,
}

#[derive(Clone)]
struct Verified {
    role: Option<String>,
    claims: Arc<Map<String, Value>>,
    exp: Option<u64>,
    weight: u64,
}

#[derive(Clone)]
struct ByteWeight;

impl quick_cache::Weighter<Box<str>, Verified> for ByteWeight {
    fn weight(&self, key: &Box<str>, value: &Verified) -> u64 {
        key.len() as u64 + value.weight
    }
}

/// Verifies tokens with the configured keys and caches the verified ones.
pub(crate) struct Authenticator {
    config: AuthConfig,
    cache: quick_cache::sync::Cache<Box<str>, Verified, ByteWeight>,
}

impl Authenticator {
    pub(crate) fn new(config: AuthConfig) -> Authenticator {
        Authenticator { config, cache: quick_cache::sync::Cache::with_weighter(4096, CACHE_BYTES, ByteWeight) }
    }

    /// Whether tokens are verified at all.
    pub(crate) fn enabled(&self) -> bool {
        self.config.keys.is_some()
    }

    /// The identity of a request with these headers.
    ///
    /// Errors: 401 `PGRST301`/`PGRST303` for a token that does not verify, 401 `PGRST302` for
    /// no token without an anonymous role.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<Identity, ApiError> {
        let Some(keys) = self.config.keys.as_deref() else { return Ok(Identity::default()) };
        let Some(token) = token(headers)? else {
            return match &self.config.anon_role {
                Some(role) => Ok(Identity { role: Some(role.clone()), claims: Arc::default() }),
                None => Err(anonymous_disabled()),
            };
        };
        let now = now();
        if let Some(hit) = self.cache.get(token) {
            if hit.exp.is_none_or(|exp| now <= exp.saturating_add(LEEWAY_SECONDS)) {
                return Ok(self.identity(hit));
            }
            self.cache.remove(token);
            return Err(invalid("PGRST303", "JWT expired"));
        }
        let verified = self.verify(keys, token)?;
        self.cache.insert(token.into(), verified.clone());
        Ok(self.identity(verified))
    }

    fn identity(&self, verified: Verified) -> Identity {
        Identity { role: verified.role.or_else(|| self.config.anon_role.clone()), claims: verified.claims }
    }

    fn verify(&self, keys: &JwtKeys, token: &str) -> Result<Verified, ApiError> {
        let parts = token.split('.').count();
        if parts != 3 {
            return Err(invalid("PGRST301", &format!("Expected 3 parts in JWT; got {parts}")));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("PGRST301", "JWT header is invalid"))?;
        let alg = header.alg;
        let candidates: Vec<&DecodingKey> = if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            keys.secret.iter().collect()
        } else {
            keys.public
                .iter()
                .filter(|k| k.algorithms.contains(&alg))
                .filter(|k| header.kid.is_none() || k.kid == header.kid)
                .map(|k| &k.key)
                .collect()
        };
        if candidates.is_empty() {
            return Err(invalid("PGRST301", "No suitable key or wrong key type"));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        match &self.config.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let mut last = None;
        for key in candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => return self.verified(token, data.claims),
                Err(e) => last = Some(e),
            }
        }
        Err(match last.map(jsonwebtoken::errors::Error::into_kind) {
            Some(jsonwebtoken::errors::ErrorKind::ExpiredSignature) => invalid("PGRST303", "JWT expired"),
            Some(jsonwebtoken::errors::ErrorKind::ImmatureSignature) => invalid("PGRST303", "JWT not yet valid"),
            Some(jsonwebtoken::errors::ErrorKind::InvalidAudience) => invalid("PGRST303", "JWT not in audience"),
            Some(jsonwebtoken::errors::ErrorKind::InvalidClaimFormat(_) | jsonwebtoken::errors::ErrorKind::Json(_)) => {
                invalid("PGRST303", "JWT claims are invalid")
            }
            _ => invalid("PGRST301", "JWT cryptographic operation failed"),
        })
    }

    fn verified(&self, token: &str, claims: Map<String, Value>) -> Result<Verified, ApiError> {
        let role = match rowbase_plan::claim(&claims, &self.config.role_claim) {
            None | Some(Value::Null) => None,
            Some(Value::String(role)) if !role.is_empty() => Some(role.clone()),
            Some(_) => return Err(invalid("PGRST303", "JWT role claim is not a role name")),
        };
        let exp = claims.get("exp").and_then(Value::as_u64);
        let weight = token.len() as u64 * 2 + 64;
        Ok(Verified { role, claims: Arc::new(claims), exp, weight })
    }
}

/// With authentication on, every request runs as a role, and with declared access a declared
/// one: a token without a role claim (and no anonymous role), or naming a role the schema file
/// does not declare, is refused (PostgREST answers 401 for a role that does not exist).
///
/// Errors: 401 `PGRST303`.
pub(crate) fn check_role(role: Option<&str>, access: Option<&rowbase_plan::AccessRules>) -> Result<(), ApiError> {
    match (role, access) {
        (None, _) => Err(invalid("PGRST303", "JWT has no role claim, and no anonymous role is configured")),
        (Some(role), Some(access)) if !access.declares(role) => {
            Err(invalid("PGRST303", &format!("JWT role \"{role}\" is not a declared role")))
        }
        _ => Ok(()),
    }
}

/// The token of a request: `Authorization: Bearer`, else `apikey`; `None` without either.
fn token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let bearer = headers.get(header::AUTHORIZATION).map(|v| {
        let text = v.to_str().map_err(|_| invalid("PGRST301", "The Authorization header is not text"))?;
        match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
            _ => Err(invalid("PGRST301", "The Authorization header must be `Bearer <JWT>`")),
        }
    });
    let token = match bearer {
        Some(token) => Some(token?),
        None => match headers.get(crate::names::APIKEY) {
            Some(v) => Some(v.to_str().map_err(|_| invalid("PGRST301", "The apikey header is not text"))?.trim()),
            None => None,
        },
    };
    match token {
        Some(t) if t.len() > MAX_TOKEN_BYTES => {
            Err(invalid("PGRST301", &format!("JWT is larger than {MAX_TOKEN_BYTES} bytes")))
        }
        Some("") => Err(invalid("PGRST301", "Empty JWT is sent in Authorization header")),
        other => Ok(other),
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
fn invalid(code: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message, None, None).with_header(
        header::WWW_AUTHENTICATE,
        format!("Bearer error=\"invalid_token\", error_description=\"{}\"", message.replace('"', "'")),
    )
}

/// 401 `PGRST303` for one of Rowbase's access tokens whose session has ended (signed out,
/// banned, deleted, or its refresh token replayed); a failure to ask is the database's error.
pub(crate) fn session_ended(e: rowbase_users::UsersError) -> ApiError {
    match e {
        rowbase_users::UsersError::SessionNotFound => invalid("PGRST303", "JWT session has ended"),
        rowbase_users::UsersError::Database(e) => e.into(),
        other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "PGRST000", other.to_string(), None, None),
    }
}

/// 401 `PGRST302`: no token, and no anonymous role to run as.
fn anonymous_disabled() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "PGRST302",
        "Anonymous access is disabled",
        None,
        Some("Send a token in `Authorization: Bearer <JWT>`, or configure ROWBASE_ANON_ROLE".into()),
    )
    .with_header(header::WWW_AUTHENTICATE, "Bearer".into())
}
