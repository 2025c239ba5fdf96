//! Passwords: hashed with Argon2id at OWASP's current minimum (19 MiB of memory, two passes, one
//! lane: the OWASP Password Storage Cheat Sheet, "Argon2id"), stored as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) so the cost can be raised later: a stored
//! hash made with other parameters verifies and is marked for rehashing at the next sign-in.
//! Hashes imported from Supabase or PocketBase (bcrypt, `$2a$`/`$2b$`/`$2y$`) verify the same way
//! and are rehashed with Argon2id.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of one core: it runs on the blocking pool, at
//! most [`Passwords::new`]'s `concurrency` at a time (the rest wait), never on the async threads.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::UsersError;

/// OWASP's Argon2id memory cost, in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// OWASP's Argon2id passes over the memory.
pub const PASSES: u32 = 2;
/// OWASP's Argon2id lanes.
pub const LANES: u32 = 1;
/// The longest password accepted, in bytes (bcrypt reads only 72; a longer limit for Argon2id
/// would let one request cost more than it should to hash).
pub const MAX_BYTES: usize = 1024;

/// The passwords a service accepts and how it hashes them.
#[derive(Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    min_length: usize,
    /// A hash of no one's password, verified when the email is unknown so that an unknown email
    /// takes as long as a wrong password (no user enumeration by timing).
    decoy: Arc<str>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The password is the one hashed.
    pub matches: bool,
    /// It matches, but the hash is not Argon2id at the current parameters: store a new one.
    pub rehash: bool,
}

impl Passwords {
    /// Passwords of at least `min_length` characters, at most `concurrency` hashed at once.
    pub fn new(min_length: usize, concurrency: usize) -> Result<Passwords, UsersError> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|e| UsersError::Internal(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let decoy = argon2
            .hash_password(b"rowbase decoy: the password of no one", &salt)
            .map_err(|e| UsersError::Internal(e.to_string()))?
            .to_string();
        Ok(Passwords { argon2, permits: Arc::new(Semaphore::new(concurrency.max(1))), min_length, decoy: decoy.into() })
    }

    /// The shortest password accepted, in characters.
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// Refuses a password that is too short, too long, or one of the most common ones; the
    /// error lists the reasons (GoTrue's `weak_password` reasons: `length`, `pwned`).
    pub fn check(&self, password: &str) -> Result<(), UsersError> {
        let mut reasons = Vec::new();
        if password.chars().count() < self.min_length {
            reasons.push("length");
        }
        if crate::common::is_common(password) {
            reasons.push("pwned");
        }
        if password.len() > MAX_BYTES {
            return Err(UsersError::Validation(format!("a password has at most {MAX_BYTES} bytes")));
        }
        if reasons.is_empty() {
            return Ok(());
        }
        Err(UsersError::WeakPassword { min_length: self.min_length, reasons })
    }

    /// The PHC string of `password`, hashed with Argon2id and a new random salt.
    pub async fn hash(&self, password: String) -> Result<String, UsersError> {
        let argon2 = self.argon2.clone();
        self.off_thread(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| UsersError::Internal(e.to_string()))
        })
        .await
    }

    /// Whether `password` is the one `stored` hashes (Argon2 PHC or bcrypt). With no stored
    /// hash (an unknown email, or a user without a password) a decoy is verified instead, so the
    /// answer takes as long, and is no match.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<Verdict, UsersError> {
        let argon2 = self.argon2.clone();
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.decoy.to_string());
        let verdict = self.off_thread(move || Ok(verify_now(&argon2, &stored, &password))).await?;
        Ok(Verdict { matches: verdict.matches && known, rehash: verdict.rehash && known })
    }

    /// Runs `work` on the blocking pool once a permit is free.
    async fn off_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, UsersError> + Send + 'static,
    ) -> Result<T, UsersError> {
        let _permit = self.permits.acquire().await.map_err(|e| UsersError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| UsersError::Internal(e.to_string()))?
    }
}

/// Verifies on this thread (it blocks for the hash's cost).
fn verify_now(argon2: &Argon2<'_>, stored: &str, password: &str) -> Verdict {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        let matches = bcrypt::verify(password, stored).unwrap_or(false);
        return Verdict { matches, rehash: matches };
    }
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verdict { matches: false, rehash: false };
    };
    let matches = argon2.verify_password(password.as_bytes(), &hash).is_ok();
    let current = hash.algorithm.as_str() == "argon2id"
        && Params::try_from(&hash)
            .is_ok_and(|p| p.m_cost() >= MEMORY_KIB && p.t_cost() >= PASSES && p.p_cost() >= LANES);
    Verdict { matches, rehash: matches && !current }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_old_ones_are_marked_for_rehashing() {
        let passwords = Passwords::new(8, 2).unwrap();
        let hash = passwords.hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        let ok = passwords.verify(Some(hash.clone()), "correct horse battery".into()).await.unwrap();
        assert_eq!(ok, Verdict { matches: true, rehash: false });
        let wrong = passwords.verify(Some(hash), "correct horse battery!".into()).await.unwrap();
        assert_eq!(wrong, Verdict { matches: false, rehash: false });

        // An Argon2id hash at a lower cost, and a bcrypt hash (as Supabase exports them).
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap())
            .hash_password(b"imported pass", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let bcrypted = bcrypt::hash("imported pass", 4).unwrap();
        for old in [weak, bcrypted] {
            let verdict = passwords.verify(Some(old.clone()), "imported pass".into()).await.unwrap();
            assert_eq!(verdict, Verdict { matches: true, rehash: true }, "{old}");
            let verdict = passwords.verify(Some(old), "imported pas".into()).await.unwrap();
            assert_eq!(verdict, Verdict { matches: false, rehash: false });
        }

        // No stored hash: never a match, whatever the password.
        let none = passwords.verify(None, "rowbase decoy: the password of no one".into()).await.unwrap();
        assert!(!none.matches);
    }

    #[test]
    fn short_and_common_passwords_are_refused_with_reasons() {
        let passwords = Passwords::new(8, 1).unwrap();
        assert!(passwords.check("a long enough passphrase").is_ok());
        match passwords.check("x7#Qz") {
            Err(UsersError::WeakPassword { reasons, .. }) => assert_eq!(reasons, ["length"]),
            other => panic!("{other:?}"),
        }
        match passwords.check("password123") {
            Err(UsersError::WeakPassword { reasons, .. }) => assert_eq!(reasons, ["pwned"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(passwords.check(&"x".repeat(MAX_BYTES + 1)), Err(UsersError::Validation(_))));
    }
}
