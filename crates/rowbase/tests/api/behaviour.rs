//! One behaviour suite for every engine. Each case is a request written once, in the spelling of
//! Chinook's SQLite file (`Album`, `AlbumId`); PostgreSQL's Chinook spells the same schema in
//! snake case (`album`, `album_id`), so names are mapped in the request and back in the answer.
//! Every engine must answer each case exactly as SQLite does: status, `Content-Range`, and body
//! (for errors, the code).

use std::collections::HashMap;

use reqwest::Method;
use serde_json::Value;

use crate::common::{TestApp, spawn_app};

/// A request: method, path and query, headers, body.
type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)], &'static str);

const READS: &[Case] = &[
    (
        "GET",
        "/Album?select=Title,Artist(Name),Track(Name,Milliseconds)&AlbumId=lte.3&order=Title.desc&Track.order=TrackId",
        &[],
        "",
    ),
    ("GET", "/Track?select=TrackId,Name,UnitPrice&Milliseconds=gt.300000&AlbumId=lte.20&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId&Name=like.*Love*&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId&Name=ilike.*LOVE*&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId&Name=match.^Love&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId&Name=imatch.^love&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId&TrackId=in.(1,5,9)&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId&Composer=is.null&TrackId=lte.300&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId&AlbumId=eq.1&TrackId=not.in.(1,6)&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId&Composer=isdistinct.AC/DC&AlbumId=lte.4&order=TrackId", &[], ""),
    (
        "GET",
        "/Track?select=TrackId&or=(and(AlbumId.eq.1,Milliseconds.gt.300000),and(AlbumId.eq.2,not.or(Composer.is.null,Name.like.*x*)))&order=TrackId",
        &[],
        "",
    ),
    ("GET", "/Track?select=TrackId&Name=like(any).{Love*,Hate*}&order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId,Composer&AlbumId=lte.10&order=Composer.asc.nullsfirst,TrackId", &[], ""),
    ("GET", "/Track?select=TrackId,Composer&AlbumId=lte.10&order=Composer.desc,TrackId", &[], ""),
    ("GET", "/Track?select=id:TrackId::text,price:UnitPrice&TrackId=lte.3&order=TrackId", &[], ""),
    ("GET", "/Artist?select=ArtistId,Name&order=Name&limit=3&offset=5", &[("Prefer", "count=exact")], ""),
    ("GET", "/Artist?select=ArtistId&order=ArtistId", &[("Range", "10-12")], ""),
    ("GET", "/Artist?offset=1000", &[("Prefer", "count=exact")], ""),
    ("GET", "/Artist?ArtistId=eq.1", &[("Accept", "application/vnd.pgrst.object+json")], ""),
    ("GET", "/Artist?ArtistId=lt.3", &[("Accept", "application/vnd.pgrst.object+json")], ""),
    ("GET", "/Genre?select=GenreId,Name&GenreId=lte.4&order=GenreId", &[("Accept", "text/csv")], ""),
    ("HEAD", "/Track?Milliseconds=gt.300000", &[("Prefer", "count=exact")], ""),
    ("GET", "/Playlist?select=Name,Track(Name)&PlaylistId=eq.3&Track.order=Name&Track.limit=3", &[], ""),
    (
        "GET",
        "/Employee?select=FirstName,manager:ReportsTo(LastName),Employee(LastName)&EmployeeId=eq.2&Employee.order=LastName",
        &[],
        "",
    ),
    ("GET", "/Album?select=Title,Artist!inner(Name)&Artist.Name=eq.Aerosmith", &[], ""),
    ("GET", "/Artist?select=ArtistId,Album()&Album=is.null&order=ArtistId&limit=5", &[], ""),
    (
        "GET",
        "/Track?select=Name,...Album(albumTitle:Title,...Artist(artistName:Name))&TrackId=in.(1,2,3)&order=Album(Title).desc",
        &[],
        "",
    ),
    (
        "GET",
        "/Artist?select=Name,Album(Title,Track(Name,Genre(Name)))&ArtistId=lte.2&order=ArtistId&Album.order=AlbumId&Album.Track.order=TrackId&Album.Track.limit=2",
        &[],
        "",
    ),
    ("GET", "/Albums", &[], ""),
    ("GET", "/Album?select=Titel", &[], ""),
    ("GET", "/Album?select=Title,Genre(Name)", &[], ""),
    ("GET", "/Track?Milliseconds=gt.long", &[], ""),
    ("GET", "/Album?AlbumId=5", &[], ""),
    ("GET", "/Artist?limit=-1", &[], ""),
    // From the SQLite suites (reads.rs, embedding.rs), so every engine answers them alike.
    ("GET", "/Track?TrackId=lte.5&order=TrackId", &[], ""),
    ("GET", "/Artist?select=key:ArtistId,label:Name&ArtistId=eq.1", &[], ""),
    ("GET", "/Artist?select=it%27s%5C%27:Name,%27x:ArtistId,Album(%C3%A9t%C3%A9%27:Title)&ArtistId=eq.1", &[], ""),
    ("GET", "/Artist?select=&ArtistId=eq.1", &[], ""),
    ("GET", "/Artist?select=ArtistId&order=ArtistId&limit=3&offset=2", &[], ""),
    ("GET", "/Artist?limit=0", &[], ""),
    ("GET", "/Artist", &[("Range", "5-2")], ""),
    ("GET", "/Artist?ArtistId=eq.0", &[("Prefer", "count=exact")], ""),
    ("GET", "/Artist?ArtistId=eq.0", &[("Accept", "application/vnd.pgrst.object+json")], ""),
    ("GET", "/Album?select=Title&AlbumId=eq.8", &[("Accept", "text/csv")], ""),
    ("GET", "/Track?select=Name,Album(Title,Artist(Name))&TrackId=eq.1", &[], ""),
    ("GET", "/Artist?select=Name,Album(AlbumId)&ArtistId=in.(1,25)&order=ArtistId&Album.order=AlbumId", &[], ""),
    ("GET", "/Playlist?select=Name,Track(TrackId)&PlaylistId=eq.13&Track.order=TrackId", &[], ""),
    ("GET", "/Track?select=TrackId,Playlist(PlaylistId)&TrackId=eq.1&Playlist.order=PlaylistId", &[], ""),
    (
        "GET",
        "/Employee?select=EmployeeId,reports:Employee!ReportsTo(EmployeeId)&EmployeeId=eq.1&reports.order=EmployeeId",
        &[],
        "",
    ),
    (
        "GET",
        "/Album?select=AlbumId,Track(Name)&AlbumId=in.(1,2)&order=AlbumId&Track.order=Name.desc&Track.limit=2&Track.offset=1",
        &[],
        "",
    ),
    (
        "GET",
        "/Album?select=AlbumId,Track(TrackId)&AlbumId=in.(1,2)&order=AlbumId&Track.Milliseconds=gt.300000&Track.order=TrackId",
        &[],
        "",
    ),
    ("GET", "/Album?select=AlbumId,Artist(Name)&AlbumId=in.(1,4)&Artist.Name=eq.AC/DC&order=AlbumId", &[], ""),
    (
        "GET",
        "/Album?select=AlbumId,Track(TrackId)&AlbumId=eq.1&Track.or=(TrackId.eq.1,TrackId.eq.8)&Track.order=TrackId",
        &[],
        "",
    ),
    (
        "GET",
        "/Artist?select=ArtistId,Album!inner(AlbumId)&Album.Title=like.*Rock*&order=ArtistId&Album.order=AlbumId",
        &[],
        "",
    ),
    (
        "GET",
        "/Artist?select=ArtistId,Album()&Album=not.is.null&order=ArtistId&limit=5",
        &[("Prefer", "count=exact")],
        "",
    ),
];

const WRITES: &[Case] = &[
    (
        "POST",
        "/Artist?select=ArtistId,Name",
        &[("Prefer", "return=representation")],
        r#"{"ArtistId":900,"Name":"Rowbase Quartet"}"#,
    ),
    (
        "POST",
        "/Album?select=Title,Artist(Name)",
        &[("Prefer", "return=representation")],
        r#"{"AlbumId":900,"Title":"First Light","ArtistId":900}"#,
    ),
    ("POST", "/Artist", &[("Prefer", "return=headers-only")], r#"{"ArtistId":901,"Name":"Second"}"#),
    (
        "POST",
        "/Artist",
        &[("Prefer", "resolution=merge-duplicates, return=representation")],
        r#"[{"ArtistId":901,"Name":"Second!"},{"ArtistId":902,"Name":"Third"}]"#,
    ),
    (
        "POST",
        "/Artist",
        &[("Prefer", "resolution=merge-duplicates, return=representation")],
        r#"[{"ArtistId":902,"Name":"Third!"}]"#,
    ),
    (
        "POST",
        "/Artist",
        &[("Prefer", "resolution=ignore-duplicates, return=representation")],
        r#"[{"ArtistId":902,"Name":"no"},{"ArtistId":903,"Name":"Fourth"}]"#,
    ),
    ("PUT", "/Genre?GenreId=eq.900", &[("Prefer", "return=representation")], r#"{"GenreId":900,"Name":"Put"}"#),
    ("PUT", "/Genre?GenreId=eq.900", &[("Prefer", "return=representation")], r#"{"GenreId":900,"Name":"Put again"}"#),
    (
        "PATCH",
        "/Track?AlbumId=eq.1&order=TrackId.desc&limit=2&select=TrackId,Composer",
        &[("Prefer", "return=representation")],
        r#"{"Composer":"Rowbase"}"#,
    ),
    ("PATCH", "/Track?AlbumId=eq.1", &[("Prefer", "handling=strict, max-affected=3")], r#"{"Composer":"x"}"#),
    ("DELETE", "/Album?AlbumId=eq.900&select=Title", &[("Prefer", "return=representation, count=exact")], ""),
    ("POST", "/Album", &[], r#"{"AlbumId":901,"Title":"Lost","ArtistId":99999}"#),
    ("POST", "/Album", &[], r#"{"AlbumId":902,"Title":null,"ArtistId":1}"#),
    ("POST", "/Album", &[], r#"{"AlbumId":1,"Title":"dup","ArtistId":1}"#),
    ("POST", "/Album", &[], r#"{"AlbumId":903,"Title":"x","Colour":"red"}"#),
    (
        "POST",
        "/Genre",
        &[],
        r#"{"GenreId":904,"Name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
    ),
    ("DELETE", "/Artist?ArtistId=eq.1", &[], ""),
    ("DELETE", "/Track", &[], ""),
    (
        "POST",
        "/Genre?select=GenreId",
        &[("Prefer", "tx=rollback, return=representation")],
        r#"{"GenreId":905,"Name":"ghost"}"#,
    ),
    ("GET", "/Genre?GenreId=eq.905", &[], ""),
    // From the SQLite suite (writes.rs), so every engine answers them alike.
    ("POST", "/Genre", &[], r#"[{"GenreId":910,"Name":"ok"},{"GenreId":1,"Name":"dup"}]"#),
    ("GET", "/Genre?GenreId=eq.910", &[], ""),
    (
        "POST",
        "/Genre?columns=GenreId,Name&select=GenreId,Name",
        &[("Prefer", "return=representation")],
        r#"{"GenreId":911,"Name":"picked","Ignored":"x"}"#,
    ),
    (
        "POST",
        "/MediaType?columns=MediaTypeId,Name&select=MediaTypeId,Name",
        &[("Prefer", "missing=default, return=representation")],
        r#"[{"MediaTypeId":912,"Name":"a"},{"MediaTypeId":913}]"#,
    ),
    (
        "POST",
        "/Genre?select=GenreId,Name",
        &[("Content-Type", "text/csv"), ("Prefer", "return=representation")],
        "GenreId,Name\n914,\"Comma, Inc\"\n915,NULL",
    ),
    (
        "PATCH",
        "/Genre?GenreId=gte.910",
        &[("Accept", "application/vnd.pgrst.object+json"), ("Prefer", "return=representation")],
        r#"{"Name":"many"}"#,
    ),
    ("GET", "/Genre?GenreId=gte.910&order=GenreId", &[], ""),
    ("POST", "/Genre", &[], r#"{"GenreId":"#),
    ("POST", "/Genre", &[], r#"[{"GenreId":916},{"Name":"x"}]"#),
    ("GET", "/Genre?GenreId=eq.900", &[], ""),
    ("GET", "/Artist?ArtistId=gte.900&order=ArtistId", &[], ""),
];

/// Chinook's names in one engine's spelling, both ways.
struct Names {
    to_engine: HashMap<String, String>,
    from_engine: HashMap<String, String>,
}

/// `AlbumId` → `album_id`, `InvoiceLine` → `invoice_line`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_lowercase());
    }
    out
}

impl Names {
    /// The snake-case spelling of every table and column of the SQLite Chinook.
    fn snake_case(sqlite: &TestApp) -> Names {
        let db = sqlite.oracle();
        let mut stmt = db
            .prepare("SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table'")
            .unwrap();
        let mut to_engine = HashMap::new();
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap() {
            let (table, column) = row.unwrap();
            to_engine.insert(snake(&table), table.clone());
            to_engine.insert(snake(&column), column);
        }
        let from_engine = to_engine.clone();
        let to_engine = to_engine.into_iter().map(|(s, c)| (c, s)).collect();
        Names { to_engine, from_engine }
    }

    /// Replaces every identifier-like word that is a Chinook name.
    fn request(&self, text: &str) -> String {
        map_words(text, &self.to_engine)
    }

    /// Renames object keys back to the SQLite spelling.
    fn answer(&self, value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.from_engine.get(&k).cloned().unwrap_or(k), self.answer(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.answer(v)).collect()),
            other => other,
        }
    }
}

/// What is compared of an answer.
#[derive(Debug, PartialEq)]
struct Outcome {
    status: u16,
    content_range: Option<String>,
    location: Option<String>,
    body: Value,
}

async fn run(app: &TestApp, names: Option<&Names>, case: &Case) -> Outcome {
    let (method, path, headers, body) = *case;
    let map = |s: &str| names.map_or(s.to_string(), |n| n.request(s));
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if !body.is_empty() {
        all.push(("Content-Type", "application/json"));
    }
    let body = (!body.is_empty()).then(|| map(body));
    let reply = app.send(Method::from_bytes(method.as_bytes()).unwrap(), &map(path), &all, body).await;
    let parsed = match serde_json::from_str::<Value>(&reply.text) {
        // Errors: only the code is the same everywhere; messages name engine-specific things.
        Ok(Value::Object(e)) if reply.status >= 400 => e.get("code").cloned().unwrap_or(Value::Null),
        Ok(v) => names.map_or(v.clone(), |n| n.answer(v)),
        // CSV: map the header line back.
        Err(_) => Value::String(match names {
            Some(n) => reply
                .text
                .split_once('\n')
                .map(|(head, rest)| {
                    let head: Vec<String> =
                        head.split(',').map(|h| n.from_engine.get(h).cloned().unwrap_or(h.to_string())).collect();
                    format!("{}\n{rest}", head.join(","))
                })
                .unwrap_or(reply.text.clone()),
            None => reply.text.clone(),
        }),
    };
    let location = reply.header("location").map(|l| names.map_or(l.to_string(), |n| n.answer_text(l)));
    Outcome {
        status: reply.status,
        content_range: reply.header("content-range").map(str::to_string),
        location,
        body: parsed,
    }
}

impl Names {
    fn answer_text(&self, text: &str) -> String {
        map_words(text, &self.from_engine)
    }
}

/// Replaces every identifier-like word of `text` found in `map`.
fn map_words(text: &str, map: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        out.push_str(map.get(&word).map_or(&word, |w| w));
        word.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// Runs `cases` in order on SQLite and on `other` (PostgreSQL's snake-case Chinook), comparing
/// each answer.
async fn same_answers(other: TestApp, engine: &str, cases: &[Case]) {
    let sqlite = spawn_app().await;
    let names = Names::snake_case(&sqlite);
    same_answers_with(other, engine, cases, Some(&names)).await;
}

/// Runs `cases` in order on SQLite and on `other`, whose names are SQLite's mapped by `names`
/// (or the same), comparing each answer.
async fn same_answers_with(other: TestApp, engine: &str, cases: &[Case], names: Option<&Names>) {
    let sqlite = spawn_app().await;
    for case in cases {
        let expected = run(&sqlite, None, case).await;
        let got = run(&other, names, case).await;
        assert_eq!(got, expected, "{engine}: {} {}", case.0, case.1);
    }
}

#[tokio::test]
async fn postgresql_reads_like_sqlite() {
    let Some(app) = crate::pg::chinook_app().await else { return };
    same_answers(app, "postgresql", READS).await;
}

#[tokio::test]
async fn postgresql_writes_like_sqlite() {
    let Some(app) = crate::pg::chinook_app().await else { return };
    same_answers(app, "postgresql", WRITES).await;
}

#[tokio::test]
async fn mysql_reads_like_sqlite() {
    let Some(app) = crate::my::chinook_app().await else { return };
    same_answers_with(app, "mysql", READS, None).await;
}

#[tokio::test]
async fn mysql_writes_like_sqlite() {
    let Some(app) = crate::my::chinook_app().await else { return };
    same_answers_with(app, "mysql", WRITES, None).await;
}

#[test]
fn names_map_both_ways() {
    assert_eq!(snake("AlbumId"), "album_id");
    assert_eq!(snake("InvoiceLine"), "invoice_line");
    assert_eq!(snake("SupportRepId"), "support_rep_id");
    assert_eq!(snake("Title"), "title");
}
