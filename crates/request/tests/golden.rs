//! Golden tests of the parser: each query string and what it parses to (or the error), in one
//! snapshot per group so a grammar change shows up as a readable diff.

#![allow(clippy::unwrap_used)]

use std::fmt::Write;

use rowbase_request::headers::{MediaType, Preferences, negotiate, parse_range};
use rowbase_request::parse_query;

fn report(cases: &[&str]) -> String {
    let mut out = String::new();
    for case in cases {
        let _ = writeln!(out, "{case}");
        match parse_query(case) {
            Ok(p) => {
                if let Some(s) = &p.select {
                    let _ = writeln!(out, "  select: {s:?}");
                }
                for c in &p.conditions {
                    let _ = writeln!(out, "  filter {:?}: {:?}", c.path, c.value);
                }
                for o in &p.order {
                    let _ = writeln!(out, "  order {:?}: {:?}", o.path, o.value);
                }
                for l in &p.limit {
                    let _ = writeln!(out, "  limit {:?}: {}", l.path, l.value);
                }
                for l in &p.offset {
                    let _ = writeln!(out, "  offset {:?}: {}", l.path, l.value);
                }
                if let Some(c) = &p.columns {
                    let _ = writeln!(out, "  columns: {c:?}");
                }
                if let Some(c) = &p.on_conflict {
                    let _ = writeln!(out, "  on_conflict: {c:?}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "  error {:?}: {} / {:?}", e.kind, e.message, e.details);
            }
        }
    }
    out
}

#[test]
fn select_lists() {
    insta::assert_snapshot!(report(&[
        "select=*",
        "select=",
        "select=id,name",
        "select=myId:id::text",
        "select=settings->foo->>bar,arr->0,arr->>-1",
        "select=alias:data->%22a.b%22",
        "select=Title,Artist(Name),Track(Name,Milliseconds)",
        "select=id,clients!inner(id,name),tasks!left(*)",
        "select=*,departments!departments_head_id_fkey(*)",
        "select=*,head:agents!inner!departments_head_id_fkey(*)",
        "select=Name,...Album(Title,...Artist(ArtistName:Name))",
        "select=id,projects()",
        "select=+id+,+name+",
        "select=%22information.cpe%22",
        "select=id,",
        "select=id,clients(",
        "select=id)",
        "select=count.sum()",
        "select=a:b:c",
    ]));
}

#[test]
fn filters() {
    insta::assert_snapshot!(report(&[
        "id=eq.5",
        "id=neq.5&id=gt.1",
        "name=eq.a.b.c",
        "name=eq.",
        "name=like.*yx",
        "name=ilike.%25Love%25",
        "name=match.^xy",
        "name=imatch.XY$",
        "id=in.(1,2,3)",
        "name=in.(%22a,b%22,c,%22q%5C%22uote%22)",
        "id=in.()",
        "id=not.in.(2,4)",
        "done=is.null",
        "done=is.NoT_NuLl",
        "done=is.True",
        "done=is.unknown",
        "done=is.nil",
        "a=isdistinct.x",
        "name=like(any).{a*,b*}",
        "id=gt(all).{1,2}",
        "tags=cs.{a,b}",
        "doc=fts(english).fat%20cat",
        "doc=wfts.fat+cat",
        "data->>a=eq.1",
        "data->a->>b=eq.x",
        "Track.Name=eq.x",
        "Track.Genre.Name=eq.Rock",
        "id=5",
        "id=eq5",
        "id=foo.5",
        "id=neq(any).{1}",
        "a.b->c.d=eq.1",
    ]));
}

#[test]
fn logic_trees() {
    insta::assert_snapshot!(report(&[
        "or=(id.eq.1,id.eq.2)",
        "and=(id.gt.1,id.lt.5)",
        "not.or=(id.eq.1,id.eq.2)",
        "or=(and(name.eq.entity%202,id.eq.2),and(name.eq.entity%201,id.eq.1))",
        "or=(a.eq.1,not.and(b.gt.2,c.is.null))",
        "or=(name.eq.%22a,b%22,name.eq.%22c)d%22)",
        "or=(id.in.(1,2),name.like.*x*)",
        "or=(tags.cs.{a,b},id.eq.1)",
        "Track.or=(Name.eq.x,Milliseconds.gt.1)",
        "or=(clients.not.is.null,id.eq.1)",
        "or=(id.eq.1",
        "or=id.eq.1",
        "or=()",
        "or=(id.eq.1,)",
        "or=(id.equals.1)",
    ]));
}

#[test]
fn order_limit_offset_and_lists() {
    insta::assert_snapshot!(report(&[
        "order=name",
        "order=name.desc,id.asc",
        "order=a.desc.nullsfirst,b.nullslast",
        "order=directors(last_name).desc",
        "order=data->>a.desc",
        "Track.order=Name.desc&Track.limit=2&Track.offset=1",
        "order=id.asc.nullslasttt",
        "order=id.up",
        "limit=10&offset=20",
        "limit=0",
        "limit=-1",
        "limit=abc",
        "offset=-5",
        "offset=abc",
        "columns=%22sku%22,%22name%22",
        "columns=a,b&on_conflict=sku",
    ]));
}

#[test]
fn headers() {
    let mut out = String::new();
    for prefer in [
        vec!["return=representation, count=exact"],
        vec!["return=representation,resolution=merge-duplicates"],
        vec!["count=planned", "count=exact"],
        vec!["handling=strict, max-affected=5, tx=rollback, missing=default"],
        vec!["return=everything, foo"],
        vec!["deleted=only, delete=hard, deleted=include"],
    ] {
        let _ = writeln!(out, "Prefer {prefer:?}\n  {:?}", Preferences::parse(prefer.iter().copied()));
    }
    for range in ["0-24", "10-", "items=5-9", "9-5", "abc", "-5"] {
        let _ = writeln!(out, "Range {range}\n  {:?}", parse_range(range));
    }
    let offered = [MediaType::Json, MediaType::SingleObject, MediaType::Csv];
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("application/vnd.pgrst.object+json"),
        Some("application/vnd.pgrst.object"),
        Some("text/csv"),
        Some("text/csv;q=0.5, application/json;q=0.9"),
        Some("application/xml"),
        Some("text/csv;q=0"),
    ] {
        let _ = writeln!(out, "Accept {accept:?}\n  {:?}", negotiate(accept, &offered));
    }
    insta::assert_snapshot!(out);
}
