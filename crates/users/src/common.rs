//! The most common passwords (`data/common-passwords.txt`, 10,000 of them; its README gives the
//! source and licence), refused whatever the length rule says.

use std::collections::HashSet;
use std::sync::LazyLock;

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../data/common-passwords.txt").lines().filter(|l| !l.is_empty()).collect());

/// Whether `password`, lower-cased, is on the list.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_read_whole_and_compared_without_case() {
        assert_eq!(super::COMMON.len(), 10_000);
        assert!(super::is_common("Password123"));
        assert!(super::is_common("qwerty"));
        assert!(!super::is_common("a passphrase nobody uses 7f3a"));
    }
}
