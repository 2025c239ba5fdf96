//! Passwords: hashed with Argon2id at OWASP's current minimum (19 MiB of memory, two passes, one
//! lane: the OWASP Password Storage Cheat Sheet, "Argon2id"), stored as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) so the cost can be raised later: a stored
//! hash made with other parameters verifies and is marked for rehashing at the next sign-in.
//! Hashes imported from Supabase or PocketBase (bcrypt, `$2a$`/`$2b$`/`$2y$`) verify the same way
//! and are rehashed with Argon2id.
//!
//! Hashing costs 19 MiB and tens of milliseconds of one core. It runs on a few threads of its
//! own (never the async ones), each keeping its 19 MiB between hashes, so memory stays at
//! threads x 19 MiB however many sign in at once; requests queue for them, and past a bounded
//! queue are refused as too many ([`UsersError::Busy`]).

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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
/// The most memory a stored hash may ask to be verified with, in KiB (256 MiB): a hash whose
/// parameters ask for more is no match rather than an allocation.
pub const MAX_VERIFY_KIB: u32 = 256 * 1024;
/// Hashes waiting for a thread, at most, per thread.
const QUEUE_PER_THREAD: usize = 64;

/// A decoy Argon2id hash at the current parameters, of no one's password: verified when the
/// email is unknown, so that it takes as long as a wrong password (no user enumeration by
/// timing). A test checks its parameters are the current ones.
const DECOY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$cm93YmFzZSBkZWNveSBzYWx0$8cmqxy9hHM6Dbw7X3ZyiZLmTgCBNAWgHUKq3UIrwOjE";

/// The passwords a service accepts and how it hashes them.
#[derive(Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
    pool: Arc<Pool>,
    min_length: usize,
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
    /// Passwords of at least `min_length` characters, hashed on `threads` threads.
    pub fn new(min_length: usize, threads: usize) -> Result<Passwords, UsersError> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|e| UsersError::Internal(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        Ok(Passwords { argon2, pool: Arc::new(Pool::new(threads.max(1))?), min_length })
    }

    /// The shortest password accepted, in characters.
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// Refuses a password that is too short, too long, or one of the most common ones; the
    /// error lists the reasons (GoTrue's `weak_password` reasons: `length`, `pwned`).
    pub fn check(&self, password: &str) -> Result<(), UsersError> {
        if password.len() > MAX_BYTES {
            return Err(UsersError::Validation(format!("a password has at most {MAX_BYTES} bytes")));
        }
        let mut reasons = Vec::new();
        if password.chars().count() < self.min_length {
            reasons.push("length");
        }
        if crate::common::is_common(password) {
            reasons.push("pwned");
        }
        if reasons.is_empty() {
            return Ok(());
        }
        Err(UsersError::WeakPassword { min_length: self.min_length, reasons })
    }

    /// The PHC string of `password`, hashed with Argon2id and a new random salt.
    pub async fn hash(&self, password: String) -> Result<String, UsersError> {
        let argon2 = self.argon2.clone();
        self.pool.run(move |memory| hash_now(&argon2, memory, password.as_bytes())).await?
    }

    /// Whether `password` is the one `stored` hashes (Argon2 PHC or bcrypt). With no stored
    /// hash (an unknown email, or a user without a password) a decoy is verified instead, so the
    /// answer takes as long, and is no match.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<Verdict, UsersError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DECOY.to_string());
        let verdict = self.pool.run(move |memory| verify_now(memory, &stored, password.as_bytes())).await?;
        Ok(Verdict { matches: verdict.matches && known, rehash: verdict.rehash && known })
    }
}

/// `memory`'s first `blocks` blocks, grown to that when shorter.
fn blocks(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

/// Hashes on this thread with its memory.
fn hash_now(argon2: &Argon2<'_>, memory: &mut Vec<Block>, password: &[u8]) -> Result<String, UsersError> {
    let fail = |e: &dyn std::fmt::Display| UsersError::Internal(format!("hashing a password: {e}"));
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes).map_err(|e| fail(&e))?;
    let mut out = [0u8; 32];
    let count = argon2.params().block_count();
    argon2.hash_password_into_with_memory(password, raw_salt, &mut out, blocks(memory, count)).map_err(|e| fail(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|e| fail(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(hash.to_string())
}

/// Verifies on this thread with its memory (it blocks for the hash's cost).
fn verify_now(memory: &mut Vec<Block>, stored: &str, password: &[u8]) -> Verdict {
    let no = Verdict { matches: false, rehash: false };
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        let matches = bcrypt::verify(password, stored).unwrap_or(false);
        return Verdict { matches, rehash: matches };
    }
    let Ok(hash) = PasswordHash::new(stored) else { return no };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(&hash)) else { return no };
    let version = match hash.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return no,
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return no };
    if params.m_cost() > MAX_VERIFY_KIB {
        return no;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else { return no };
    let current = algorithm == Algorithm::Argon2id
        && params.m_cost() >= MEMORY_KIB
        && params.t_cost() >= PASSES
        && params.p_cost() >= LANES;
    let count = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    if argon2.hash_password_into_with_memory(password, raw_salt, &mut out, blocks(memory, count)).is_err() {
        return no;
    }
    // `Output`'s equality is constant-time.
    let matches = Output::new(&out).is_ok_and(|computed| computed == expected);
    Verdict { matches, rehash: matches && !current }
}

/// A job for a hashing thread: it runs with the thread's memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The hashing threads and their queue; they end when it is dropped.
struct Pool {
    queue: SyncSender<Job>,
}

impl Pool {
    fn new(threads: usize) -> Result<Pool, UsersError> {
        let (queue, jobs) = mpsc::sync_channel::<Job>(threads * QUEUE_PER_THREAD);
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..threads {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("rowbase-hash-{i}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        let job = match jobs.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| UsersError::Internal(format!("starting a hashing thread: {e}")))?;
        }
        Ok(Pool { queue })
    }

    /// Runs `work` on a hashing thread and waits for it; refused when the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, UsersError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = reply.send(work(memory));
        });
        self.queue.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => UsersError::Busy,
            TrySendError::Disconnected(_) => UsersError::Internal("the hashing threads stopped".into()),
        })?;
        answer.await.map_err(|_| UsersError::Internal("a hashing thread dropped its job".into()))
    }
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
        let weak = argon2::password_hash::PasswordHasher::hash_password(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap()),
            b"imported pass",
            &SaltString::generate(&mut OsRng),
        )
        .unwrap()
        .to_string();
        let bcrypted = bcrypt::hash("imported pass", 4).unwrap();
        for old in [weak, bcrypted] {
            let verdict = passwords.verify(Some(old.clone()), "imported pass".into()).await.unwrap();
            assert_eq!(verdict, Verdict { matches: true, rehash: true }, "{old}");
            let verdict = passwords.verify(Some(old), "imported pas".into()).await.unwrap();
            assert_eq!(verdict, Verdict { matches: false, rehash: false });
        }

        // The decoy is at the current parameters (so an unknown email costs what a known one
        // does), and a hash made with this crate's own hasher verifies here.
        let decoy = PasswordHash::new(DECOY).unwrap();
        assert_eq!(decoy.params.to_string(), "m=19456,t=2,p=1");
        let theirs = argon2::password_hash::PasswordHasher::hash_password(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap()),
            b"same hash either way",
            &SaltString::generate(&mut OsRng),
        )
        .unwrap()
        .to_string();
        let verdict = passwords.verify(Some(theirs), "same hash either way".into()).await.unwrap();
        assert_eq!(verdict, Verdict { matches: true, rehash: false });

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
