//! The parser against hostile input: it returns a value or an error, never panics, and bounds
//! what an attacker can make the planner and the engine do.

#![allow(clippy::unwrap_used)]

use rowbase_request::error::ParseErrorKind;
use rowbase_request::parse_query;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Fragments that exercise every corner of the grammar, valid or not.
const PIECES: &[&str] = &[
    "select=",
    "order=",
    "limit=",
    "offset=",
    "or=",
    "and=",
    "not.",
    "id",
    "name",
    "Track",
    ".",
    ",",
    ":",
    "::",
    "(",
    ")",
    "!",
    "!inner",
    "\"",
    "\\",
    "*",
    "...",
    "->",
    "->>",
    "eq.",
    "in.",
    "is.",
    "like.",
    "fts(",
    "{",
    "}",
    "=",
    "&",
    "%",
    "%22",
    "%FF",
    "%00",
    "+",
    "'",
    ";",
    "--",
    "/*",
    "é",
    "0",
    "-1",
    "99999999999999999999",
    " ",
];

#[test]
fn random_queries_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..50_000 {
        let len = (rng.next() % 24) as usize;
        let query: String = (0..len).map(|_| rng.pick(PIECES)).collect();
        // Either outcome is fine; a panic fails the test.
        let _ = parse_query(&query);
    }
}

#[test]
fn injection_attempts_stay_values() {
    let p = parse_query("Name=eq.%27%3B%20DROP%20TABLE%20Album%3B%20--").ok();
    let value = p.map(|p| format!("{:?}", p.conditions[0].value));
    assert!(value.is_some_and(|v| v.contains("'; DROP TABLE Album; --")), "the value is kept as data");
    // An identifier with SQL in it is one name, which the planner resolves against the catalog
    // (and would quote); it never becomes SQL.
    let select = parse_query("select=Name%3B%20DROP%20TABLE%20x").ok().and_then(|p| p.select);
    assert_eq!(
        format!("{select:?}"),
        r#"Some([Column { alias: None, field: Field { name: "Name; DROP TABLE x", json_path: [] }, cast: None }])"#
    );
}

#[test]
fn nul_and_invalid_utf8_are_errors_or_data() {
    let e = parse_query("Name=eq.%FF%FE").err().map(|e| e.kind);
    assert_eq!(e, Some(ParseErrorKind::Encoding));
    assert!(parse_query("Name=eq.a%00b").is_ok(), "NUL is a legal character of a bound value");
}

#[test]
fn large_values_and_many_filters_are_bounded() {
    let big = "x".repeat(100_000);
    assert!(parse_query(&format!("Name=eq.{big}")).is_ok(), "a 100 kB value is data");
    assert!(parse_query(&format!("select={big}")).is_ok(), "a 100 kB name parses; the planner rejects it");
    let many: Vec<String> = (0..1_000).map(|i| format!("id=neq.{i}")).collect();
    let e = parse_query(&many.join("&")).err();
    assert!(e.is_some_and(|e| e.message == "too many filters"));
    let deep = format!("or=({}id.eq.1{})", "and(".repeat(100), ")".repeat(100));
    assert!(parse_query(&deep).is_err(), "nesting is bounded");
    let wide = format!("id=in.({})", (0..20_000).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    assert!(parse_query(&wide).is_err(), "list length is bounded");
    let deep_select = format!("select={}id{}", "a(".repeat(50), ")".repeat(50));
    assert!(parse_query(&deep_select).is_err(), "embedding depth is bounded");
}
