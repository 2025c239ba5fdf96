//! Whether the session an access token names is still open, asked for every REST request that
//! carries one of Rowbase's tokens: a token must stop working when its user signs out, is
//! banned or deleted, or its refresh token is replayed, not only when it expires.
//!
//! The answer is cached per session for [`RECHECK`]; any session ended by this process clears
//! every cached "open" at once (an epoch counter), so here a sign-out is refused from the next
//! request on. Another instance's sign-out is seen within [`RECHECK`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long an "open" answer is trusted before the database is asked again.
pub const RECHECK: Duration = Duration::from_secs(10);

/// The cache of answers.
pub(crate) struct Liveness {
    cache: quick_cache::sync::Cache<String, Entry>,
    epoch: AtomicU64,
}

#[derive(Clone)]
struct Entry {
    open: bool,
    epoch: u64,
    at: Instant,
}

impl Liveness {
    pub(crate) fn new() -> Liveness {
        Liveness { cache: quick_cache::sync::Cache::new(100_000), epoch: AtomicU64::new(0) }
    }

    /// Sessions ended: every cached answer is asked again.
    pub(crate) fn ended(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The cached answer for `session`, when it can be trusted: a closed session stays closed;
    /// an open one for [`RECHECK`] and while no session ended here.
    pub(crate) fn cached(&self, session: &str) -> Option<bool> {
        let entry = self.cache.get(session)?;
        if !entry.open {
            return Some(false);
        }
        let fresh = entry.epoch == self.epoch.load(Ordering::Acquire) && entry.at.elapsed() < RECHECK;
        fresh.then_some(true)
    }

    /// Remembers what the database said; `epoch` is the one read before asking it (so a
    /// sign-out that raced the question is not hidden).
    pub(crate) fn remember(&self, session: &str, open: bool, epoch: u64) {
        self.cache.insert(session.to_string(), Entry { open, epoch, at: Instant::now() });
    }

    /// The current epoch.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}
