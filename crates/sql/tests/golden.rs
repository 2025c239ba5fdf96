//! Golden tests of the SQL each request renders to, with its bound parameters: parse → plan →
//! render over a hand-built catalog shaped like Chinook, each dialect's output side by side.
//! One snapshot per group.

#![allow(clippy::unwrap_used)]

use std::fmt::Write;

use rowbase_catalog::{Catalog, Column, DataType, ForeignKey, ReferentialAction, Table, TableKind};
use rowbase_plan::{Action, Plan, ReadRequest, RequestContext, Window, plan};
use rowbase_request::parse_query;
use rowbase_sql::{Dialect, MySqlDialect, PostgresDialect, SqliteDialect, render_read};

fn column(name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        data_type,
        declared_type: format!("{data_type:?}"),
        nullable,
        default: None,
        max_length: None,
        generated: false,
        auto_increment: false,
        full_text: None,
    }
}

fn fk(table: &str, cols: &[&str], target: &str, target_cols: &[&str]) -> ForeignKey {
    ForeignKey {
        name: format!("{table}_{}_fkey", cols.join("_")),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        referenced_table: target.into(),
        referenced_columns: target_cols.iter().map(|c| c.to_string()).collect(),
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
    }
}

fn table(name: &str, columns: Vec<Column>, pk: &[&str], fks: Vec<ForeignKey>) -> Table {
    Table {
        schema: "public".into(),
        name: name.into(),
        kind: TableKind::Table,
        columns,
        primary_key: pk.iter().map(|c| c.to_string()).collect(),
        unique_keys: Vec::new(),
        unique_indexes: Vec::new(),
        foreign_keys: fks,
        indexes: Vec::new(),
        checks: Vec::new(),
        triggers: Vec::new(),
        policies: Vec::new(),
        definition: None,
        writable: rowbase_catalog::Writable::ALL,
    }
}

fn catalog() -> Catalog {
    use DataType::*;
    Catalog::new(vec![
        table("Artist", vec![column("ArtistId", Integer, false), column("Name", Text, true)], &["ArtistId"], vec![]),
        table(
            "Album",
            vec![column("AlbumId", Integer, false), column("Title", Text, false), column("ArtistId", Integer, false)],
            &["AlbumId"],
            vec![fk("Album", &["ArtistId"], "Artist", &["ArtistId"])],
        ),
        table(
            "Track",
            vec![
                column("TrackId", Integer, false),
                column("Name", Text, false),
                column("AlbumId", Integer, true),
                column("Composer", Text, true),
                column("Milliseconds", Integer, false),
                column("UnitPrice", Decimal, false),
            ],
            &["TrackId"],
            vec![fk("Track", &["AlbumId"], "Album", &["AlbumId"])],
        ),
        table(
            "Playlist",
            vec![column("PlaylistId", Integer, false), column("Name", Text, true)],
            &["PlaylistId"],
            vec![],
        ),
        table(
            "PlaylistTrack",
            vec![column("PlaylistId", Integer, false), column("TrackId", Integer, false)],
            &["PlaylistId", "TrackId"],
            vec![
                fk("PlaylistTrack", &["PlaylistId"], "Playlist", &["PlaylistId"]),
                fk("PlaylistTrack", &["TrackId"], "Track", &["TrackId"]),
            ],
        ),
        table(
            "Employee",
            vec![
                column("EmployeeId", Integer, false),
                column("LastName", Text, false),
                column("ReportsTo", Integer, true),
            ],
            &["EmployeeId"],
            vec![fk("Employee", &["ReportsTo"], "Employee", &["EmployeeId"])],
        ),
        table(
            "Gadget",
            vec![
                column("id", Integer, false),
                column("data", Json, true),
                column("active", Boolean, true),
                column("blob", Bytes, true),
            ],
            &["id"],
            vec![],
        ),
    ])
}

/// `table?query`, rendered for SQLite. A `#count` suffix asks for the total, `#window` for a
/// root window of 10 rows.
fn report(cases: &[(&str, &str)]) -> String {
    let catalog = catalog();
    let mut out = String::new();
    for (table, query) in cases {
        let _ = writeln!(out, "{table}?{query}");
        let (query, flags) = query.split_once('#').unwrap_or((query, ""));
        let params = match parse_query(query) {
            Ok(p) => p,
            Err(e) => {
                let _ = writeln!(out, "  parse error: {}", e.message);
                continue;
            }
        };
        let offset = if flags.contains("deep") { 900 } else { 0 };
        let window = Window { offset, limit: flags.contains("window").then_some(10) };
        let request = ReadRequest { table, params: &params, window, count: flags.contains("count") };
        let ctx = RequestContext { schema: "public".into(), ..Default::default() };
        let plan = match plan(&catalog, &ctx, Action::Read(request)) {
            Ok(Plan::Read(plan)) => plan,
            Ok(other) => panic!("not a read: {other:?}"),
            Err(e) => {
                let _ = writeln!(out, "  error: {e}");
                continue;
            }
        };
        let dialects: [&dyn Dialect; 3] = [&SqliteDialect, &PostgresDialect, &MySqlDialect];
        for dialect in dialects {
            match render_read(&plan, dialect) {
                Ok(read) => {
                    let _ = writeln!(out, "  {}: {}", dialect.engine(), read.statement.sql);
                    let _ = writeln!(out, "  {} params: {:?}", dialect.engine(), read.statement.params);
                    if let Some(count) = &read.count {
                        let _ = writeln!(out, "  {} count: {}", dialect.engine(), count.sql);
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "  {}: error: {e}", dialect.engine());
                }
            }
        }
    }
    out
}

#[test]
fn columns_and_filters() {
    insta::assert_snapshot!(report(&[
        ("Artist", ""),
        ("Track", "select=Name,ms:Milliseconds,id:TrackId::text&TrackId=lte.3&Milliseconds=gt.1000&order=Name.desc"),
        ("Track", "select=TrackId&UnitPrice=gte.0.99&Composer=is.null&Name=like.*Love*"),
        ("Track", "select=TrackId&Name=ilike.*love*&Composer=not.match.^A"),
        ("Track", "select=TrackId&TrackId=in.(1,2,3)&AlbumId=not.in.()"),
        ("Track", "select=TrackId&or=(TrackId.eq.1,and(Milliseconds.gt.5,not.or(Composer.is.null,Name.eq.x)))"),
        ("Track", "select=TrackId&Name=like(any).{A*,B*}&TrackId=gt(all).{1,2}"),
        ("Track", "select=TrackId&Composer=isdistinct.x&order=Composer.asc.nullsfirst,TrackId.desc"),
        ("Gadget", "select=id,data,active,blob,a:data->x->>y,first:data->0&data->>kind=eq.k&active=is.true"),
        ("Gadget", "select=id&data->>n=gt.5&order=data->>n.desc"),
        ("Track", "select=TrackId&TrackId=eq.abc"),
        ("Track", "select=nope"),
        ("Nope", ""),
        ("Track", "select=TrackId::regclass"),
        ("Gadget", "select=id&data=cs.{1}"),
    ]));
}

#[test]
fn embedding() {
    insta::assert_snapshot!(report(&[
        ("Album", "select=Title,Artist(Name),Track(Name,Milliseconds)&AlbumId=lte.3&order=Title.desc"),
        ("Artist", "select=Name,Album(Title,Track(Name))&Album.Track.order=Name&Album.Track.limit=2&Album.limit=1"),
        ("Playlist", "select=Name,Track(Name)&Track.Name=like.A*"),
        ("Employee", "select=LastName,Employee(LastName),manager:ReportsTo(LastName)"),
        ("Track", "select=Name,...Album(AlbumTitle:Title,...Artist(ArtistName:Name))"),
        ("Album", "select=Title,Artist!inner(Name)&Artist.Name=eq.AC/DC"),
        ("Album", "select=Title,Track()&Track=is.null"),
        ("Album", "select=Title,Artist(Name)&order=Artist(Name).desc,Title"),
        ("Album", "select=Title,Artist(Name)#count,window"),
        ("Album", "select=Title,Artist(Name)&order=AlbumId#window,deep"),
        ("Artist", "select=Name,Album(Title)&order=Album(Title)"),
        ("Artist", "select=Name,...Album(Title)"),
        ("Album", "select=Title,Nope(Name)"),
        ("Album", "select=Title&Artist.Name=eq.x"),
        ("Album", "select=Title,Artist(Name)&Artist=eq.x"),
    ]));
}

/// `METHOD table?query body` for writes: the mutation statements and their parameters.
fn write_report(cases: &[(&str, &str, &str, &str)]) -> String {
    use rowbase_plan::{Action, InsertRequest, Mutation, OnDuplicate, Plan};
    use rowbase_request::body::{BodyFormat, parse_body};
    use rowbase_sql::{Target, render_delete, render_existing_count, render_insert, render_update};
    let catalog = catalog();
    // Snapshots show what each write renders, unfiltered ones included.
    let ctx = rowbase_plan::RequestContext {
        schema: "public".into(),
        server: rowbase_plan::ServerRules { allow_unfiltered_writes: true, ..Default::default() },
        ..Default::default()
    };
    let mut out = String::new();
    for (method, table, query, body) in cases {
        let _ = writeln!(out, "{method} {table}?{query} {body}");
        let params = parse_query(query).unwrap();
        let payload = parse_body(BodyFormat::Json, body.as_bytes(), params.columns.as_deref());
        let plan = match *method {
            "POST" | "UPSERT" | "IGNORE" => {
                let on_duplicate = match *method {
                    "UPSERT" => OnDuplicate::Merge,
                    "IGNORE" => OnDuplicate::Ignore,
                    _ => OnDuplicate::Error,
                };
                let payload = payload.unwrap();
                let request = InsertRequest {
                    table,
                    params: &params,
                    payload: &payload,
                    on_duplicate,
                    missing_default: true,
                    returns_rows: true,
                };
                rowbase_plan::plan(&catalog, &ctx, Action::Insert(request))
            }
            "PATCH" => {
                let payload = payload.unwrap();
                rowbase_plan::plan(&catalog, &ctx, Action::Update { table, params: &params, payload: &payload })
            }
            _ => rowbase_plan::plan(&catalog, &ctx, Action::Delete { table, params: &params }),
        };
        let plan = match plan {
            Ok(Plan::Write(plan)) => plan,
            Ok(other) => panic!("not a write: {other:?}"),
            Err(e) => {
                let _ = writeln!(out, "  error: {e}");
                continue;
            }
        };
        let statements = match &plan.mutation {
            Mutation::Insert(insert) => {
                let mut all: Vec<_> = render_existing_count(insert, &SqliteDialect).into_iter().collect();
                all.extend(render_insert(insert, &plan.key, &SqliteDialect).unwrap());
                all
            }
            Mutation::Update { schema, table, set, stamp, filters } => render_update(
                Target { schema, table, view: plan.view },
                set,
                stamp.as_deref(),
                filters,
                &plan.key,
                &SqliteDialect,
            )
            .unwrap()
            .into_iter()
            .collect(),
            Mutation::Delete { schema, table, filters } => {
                vec![
                    render_delete(Target { schema, table, view: plan.view }, filters, &plan.key, &SqliteDialect)
                        .unwrap(),
                ]
            }
        };
        for s in statements {
            let _ = writeln!(out, "  {}\n  params: {:?}", s.sql, s.params);
        }
    }
    out
}

#[test]
fn writes() {
    insta::assert_snapshot!(write_report(&[
        ("POST", "Artist", "", r#"{"Name":"New"}"#),
        ("POST", "Artist", "columns=ArtistId,Name", r#"[{"Name":"a"},{"ArtistId":9,"Name":"b"}]"#),
        ("UPSERT", "Artist", "", r#"[{"ArtistId":1,"Name":"x"}]"#),
        ("IGNORE", "PlaylistTrack", "", r#"[{"PlaylistId":1,"TrackId":2}]"#),
        ("POST", "Track", "", r#"{"Name":"t","Milliseconds":"long","UnitPrice":1}"#),
        ("POST", "Track", "", r#"{"Nope":1}"#),
        ("PATCH", "Track", "AlbumId=eq.1&Composer=is.null", r#"{"Composer":"Anon","UnitPrice":0.99}"#),
        ("PATCH", "Album", "select=Title,Artist!inner()&Artist.Name=eq.AC/DC", r#"{"Title":"x"}"#),
        ("DELETE", "Track", "Milliseconds=lt.1000&order=TrackId.desc&limit=5", ""),
        ("DELETE", "PlaylistTrack", "PlaylistId=eq.1&limit=2", ""),
    ]));
}
