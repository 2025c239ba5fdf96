//! Online guessing, slowed: failed sign-ins are counted per account (the email) and per client
//! address; past a free allowance each further failure makes the next attempt wait twice as long
//! as the one before (2 s, 4 s, 8 s, ... up to a cap), and a success clears the account's count.
//! An attempt made too early is refused without a password check (429, with how long to wait).
//!
//! With the defaults (5 free failures per account, 20 per address, a 15-minute cap) an attacker
//! gets 17 guesses at one account in its first hour and 4 an hour after that, whatever the
//! number of addresses; one address gets 32 guesses in its first hour across all accounts.
//! Counts live in this process (bounded: the least recently used are dropped past 100,000
//! keys).

use std::time::{Duration, Instant};

/// The throttle's allowances.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures per account before delays start.
    pub account_free: u32,
    /// Failures per client address before delays start.
    pub address_free: u32,
    /// The longest delay.
    pub max_delay: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { account_free: 5, address_free: 20, max_delay: Duration::from_secs(15 * 60) }
    }
}

#[derive(Clone, Copy)]
struct Entry {
    failures: u32,
    not_before: Instant,
}

/// Failure counts per key (`account:<email>`, `address:<ip>`).
pub(crate) struct Throttle {
    limits: Limits,
    counts: quick_cache::sync::Cache<String, Entry>,
}

impl Throttle {
    pub(crate) fn new(limits: Limits) -> Throttle {
        Throttle { limits, counts: quick_cache::sync::Cache::new(100_000) }
    }

    /// `Err(seconds)` to wait when any of `keys` may not try yet.
    pub(crate) fn check(&self, keys: &[(String, u32)]) -> Result<(), u64> {
        let now = Instant::now();
        let wait = keys
            .iter()
            .filter_map(|(key, _)| self.counts.get(key.as_str()))
            .map(|e| e.not_before.saturating_duration_since(now))
            .max()
            .unwrap_or_default();
        if wait.is_zero() { Ok(()) } else { Err(wait.as_secs_f64().ceil() as u64) }
    }

    /// A failure for each of `keys` (each with its free allowance).
    pub(crate) fn failed(&self, keys: &[(String, u32)]) {
        let now = Instant::now();
        for (key, free) in keys {
            let failures = self.counts.get(key.as_str()).map_or(0, |e| e.failures).saturating_add(1);
            let delay = match failures.checked_sub(*free) {
                None | Some(0) => Duration::ZERO,
                Some(over) => Duration::from_secs(1u64 << over.min(30)).min(self.limits.max_delay),
            };
            self.counts.insert(key.clone(), Entry { failures, not_before: now + delay });
        }
    }

    /// A success: the key's count starts again.
    pub(crate) fn succeeded(&self, key: &str) {
        self.counts.remove(key);
    }

    /// The keys of a sign-in of `email` from `address`, with their allowances.
    pub(crate) fn keys(&self, email: &str, address: Option<std::net::IpAddr>) -> Vec<(String, u32)> {
        let mut keys = vec![(format!("account:{email}"), self.limits.account_free)];
        if let Some(address) = address {
            keys.push((format!("address:{address}"), self.limits.address_free));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many guesses the schedule allows in `window`, trying as soon as allowed.
    fn guesses(free: u32, max_delay: Duration, window: Duration) -> u32 {
        let (mut t, mut failures, mut n) = (Duration::ZERO, 0u32, 0);
        while t < window {
            n += 1;
            failures += 1;
            if failures > free {
                t += Duration::from_secs(1u64 << (failures - free)).min(max_delay);
            }
        }
        n
    }

    #[test]
    fn an_hour_of_guessing() {
        let limits = Limits::default();
        let hour = Duration::from_secs(3600);
        // 5 free, then one at 0, 2, 6, 14, 30, 62, 126, 254, 510, 1022, 1922 and 2822 s.
        assert_eq!(guesses(limits.account_free, limits.max_delay, hour), 17);
        assert_eq!(guesses(limits.address_free, limits.max_delay, hour), 32);
    }

    #[test]
    fn delays_grow_and_a_success_clears_them() {
        let throttle = Throttle::new(Limits { account_free: 2, address_free: 100, max_delay: Duration::from_secs(60) });
        let keys = throttle.keys("a@example.com", None);
        throttle.failed(&keys);
        throttle.failed(&keys);
        assert_eq!(throttle.check(&keys), Ok(()), "two free failures");
        throttle.failed(&keys);
        assert_eq!(throttle.check(&keys), Err(2));
        throttle.failed(&keys);
        assert_eq!(throttle.check(&keys), Err(4));
        throttle.succeeded(&keys[0].0);
        assert_eq!(throttle.check(&keys), Ok(()));
    }
}
