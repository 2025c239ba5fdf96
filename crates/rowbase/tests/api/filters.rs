//! Every operator, against SQLite computing the same question in plain SQL.

use serde_json::Value;

use crate::common::{column, spawn_app};

/// Each case: a filter on `Track` and the WHERE clause that means the same, written by hand.
const CASES: &[(&str, &str)] = &[
    ("TrackId=eq.7", "TrackId = 7"),
    ("TrackId=neq.7&AlbumId=eq.1", "TrackId <> 7 AND AlbumId = 1"),
    ("Milliseconds=gt.1000000", "Milliseconds > 1000000"),
    ("Milliseconds=gte.2000000", "Milliseconds >= 2000000"),
    ("Milliseconds=lt.5000", "Milliseconds < 5000"),
    ("Milliseconds=lte.6000", "Milliseconds <= 6000"),
    ("Milliseconds=gt.200000&Milliseconds=lt.201000", "Milliseconds > 200000 AND Milliseconds < 201000"),
    ("UnitPrice=gt.0.99", "UnitPrice > 0.99"),
    ("Name=like.*Love*", "instr(Name, 'Love') > 0"),
    ("Name=like.%25love%25", "instr(Name, 'love') > 0"),
    ("Name=like.Love*", "substr(Name, 1, 4) = 'Love'"),
    ("Name=ilike.*LOVE*", "instr(lower(Name), 'love') > 0"),
    ("Name=match.^Love", "substr(Name, 1, 4) = 'Love'"),
    ("Name=imatch.^love", "lower(substr(Name, 1, 4)) = 'love'"),
    ("Name=match.y$", "substr(Name, -1) = 'y'"),
    ("TrackId=in.(1,5,9)", "TrackId IN (1, 5, 9)"),
    ("TrackId=not.in.(1,5,9)&AlbumId=eq.1", "TrackId NOT IN (1, 5, 9) AND AlbumId = 1"),
    ("TrackId=in.()", "0"),
    ("AlbumId=eq.1&TrackId=not.in.()", "AlbumId = 1"),
    ("Composer=is.null", "Composer IS NULL"),
    ("Composer=not.is.null&AlbumId=eq.2", "Composer IS NOT NULL AND AlbumId = 2"),
    ("Composer=is.not_null&AlbumId=eq.3", "Composer IS NOT NULL AND AlbumId = 3"),
    ("Composer=isdistinct.AC/DC&AlbumId=lte.4", "Composer IS NOT 'AC/DC' AND AlbumId <= 4"),
    ("Composer=eq.AC/DC", "Composer = 'AC/DC'"),
    ("Name=eq.Balls+to+the+Wall", "Name = 'Balls to the Wall'"),
    ("Name=eq.Balls%20to%20the%20Wall", "Name = 'Balls to the Wall'"),
    ("Name=not.like.*a*&AlbumId=eq.1", "instr(Name, 'a') = 0 AND AlbumId = 1"),
    ("Name=like(any).{Love*,Hate*}", "substr(Name, 1, 4) IN ('Love', 'Hate')"),
    ("Milliseconds=gt(all).{100000,300000}&AlbumId=eq.1", "Milliseconds > 300000 AND AlbumId = 1"),
    ("TrackId=eq(any).{1,2}", "TrackId IN (1, 2)"),
    ("or=(TrackId.eq.1,TrackId.eq.2)", "TrackId = 1 OR TrackId = 2"),
    ("and=(AlbumId.eq.1,Milliseconds.gt.300000)", "AlbumId = 1 AND Milliseconds > 300000"),
    ("not.or=(AlbumId.gt.1,TrackId.eq.1)", "NOT (AlbumId > 1 OR TrackId = 1)"),
    (
        "or=(and(AlbumId.eq.1,Milliseconds.gt.300000),and(AlbumId.eq.2,not.or(Composer.is.null,Name.like.*x*)))",
        "(AlbumId = 1 AND Milliseconds > 300000) OR (AlbumId = 2 AND NOT (Composer IS NULL OR instr(Name, 'x') > 0))",
    ),
    ("or=(Name.eq.%22Go Down%22,Name.eq.%22Dog Eat Dog%22)", "Name IN ('Go Down', 'Dog Eat Dog')"),
    ("or=(TrackId.in.(3,4),Name.like.Love*)", "TrackId IN (3, 4) OR substr(Name, 1, 4) = 'Love'"),
    (
        "AlbumId=eq.1&or=(TrackId.eq.1,TrackId.eq.6)&or=(Milliseconds.gt.1,TrackId.eq.0)",
        "AlbumId = 1 AND TrackId IN (1, 6)",
    ),
];

#[tokio::test]
async fn every_operator_matches_plain_sql() {
    let app = spawn_app().await;
    let db = app.oracle();
    for (filter, condition) in CASES {
        let reply = app.get(&format!("/Track?select=TrackId&{filter}&order=TrackId")).await;
        assert_eq!(reply.status, 200, "{filter}: {}", reply.text);
        let got: Vec<Value> = reply.json().as_array().unwrap().iter().map(|r| r["TrackId"].clone()).collect();
        let expected = column(&db, &format!("SELECT TrackId FROM Track WHERE {condition} ORDER BY TrackId"));
        assert_eq!(got, expected, "{filter}");
    }
}

#[tokio::test]
async fn ilike_and_like_differ_in_case() {
    let app = spawn_app().await;
    let like = app.get("/Artist?select=ArtistId&Name=like.ac*").await.json();
    let ilike = app.get("/Artist?select=ArtistId&Name=ilike.ac*").await.json();
    assert_eq!(like.as_array().map(Vec::len), Some(0), "like is case-sensitive");
    assert_eq!(ilike, app.sql("SELECT ArtistId FROM Artist WHERE lower(Name) LIKE 'ac%' ORDER BY ArtistId"));
}

#[tokio::test]
async fn values_with_reserved_characters_are_data() {
    let app = spawn_app().await;
    // Quotes, semicolons and comment markers in a value are compared, never executed.
    for value in
        ["'; DROP TABLE Track; --", "\" OR 1=1 --", "a)b,c(", "/* x */", "%00", "Robert'); DELETE FROM Artist;--"]
    {
        let encoded: String = value.bytes().map(|b| format!("%{b:02X}")).collect();
        let reply = app.get(&format!("/Artist?Name=eq.{encoded}")).await;
        assert_eq!((reply.status, reply.json()), (200, serde_json::json!([])), "{value}");
    }
    assert_eq!(app.sql("SELECT count(*) AS n FROM Artist")[0]["n"], 275);
}

#[tokio::test]
async fn typed_values_are_checked_before_sql() {
    let app = spawn_app().await;
    let reply = app.get("/Track?TrackId=eq.abc").await;
    assert_eq!((reply.status, reply.code()), (400, "22P02".into()));
    assert_eq!(reply.json()["message"], "invalid input syntax for type integer: \"abc\"");
    let decimal = app.get("/Track?UnitPrice=gt.1;").await;
    assert_eq!((decimal.status, decimal.code()), (400, "22P02".into()));
    let regex = app.get("/Track?Name=match.(unclosed").await;
    assert_eq!((regex.status, regex.code()), (400, "2201B".into()));
}
