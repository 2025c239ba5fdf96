//! The CPU cost of Rowbase's own part of a request, stage by stage: parsing the query string,
//! planning it against the catalog, rendering SQL for each engine. The requests are the
//! benchmark's (BENCHMARKS.md): one row by key, a filter with an order, an embedding of a
//! to-one and a to-many relation.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rowbase_catalog::Catalog;
use rowbase_db::{Database, DatabaseOptions};
use rowbase_plan::{Action, Plan, ReadPlan, ReadRequest, RequestContext, Window, plan};
use rowbase_request::{QueryParams, parse_query};
use rowbase_sql::{Dialect, MySqlDialect, PostgresDialect, SqliteDialect, render_read};

const REQUESTS: [(&str, &str, &str); 3] = [
    ("pk", "Track", "TrackId=eq.1234"),
    ("filter", "Track", "select=TrackId,Name,Milliseconds&GenreId=eq.3&order=Milliseconds.desc&limit=20"),
    ("embed", "Album", "select=AlbumId,Title,Artist(Name),Track(TrackId,Name)&AlbumId=gte.100&order=AlbumId&limit=20"),
];

/// The catalog of the shipped Chinook, as the server reads it.
fn chinook() -> std::sync::Arc<Catalog> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chinook/chinook.sqlite");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let options = DatabaseOptions { read_only: true, pool_size: Some(1), ..DatabaseOptions::default() };
        let db = Database::open(path.to_str().expect("utf-8"), &options).await.expect("chinook opens");
        db.catalog("public").expect("public schema")
    })
}

/// The page the root `limit`/`offset` ask for, as the HTTP layer reads it (no Range header).
fn window(params: &QueryParams) -> Window {
    Window { offset: params.root_offset().unwrap_or(0), limit: params.root_limit().map(i64::unsigned_abs) }
}

/// Plans a read as the server does, with a default context.
fn plan_read(catalog: &rowbase_catalog::Catalog, ctx: &RequestContext, request: ReadRequest<'_>) -> ReadPlan {
    match plan(catalog, ctx, Action::Read(request)) {
        Ok(Plan::Read(plan)) => plan,
        other => panic!("not a read plan: {other:?}"),
    }
}

fn stages(c: &mut Criterion) {
    let catalog = chinook();
    let ctx = RequestContext { schema: "public".into(), ..Default::default() };
    for (name, table, query) in REQUESTS {
        c.bench_function(&format!("parse/{name}"), |b| b.iter(|| parse_query(black_box(query)).expect("parses")));
        let params = parse_query(query).expect("parses");
        let request = ReadRequest { table, params: &params, window: window(&params), count: false };
        c.bench_function(&format!("plan/{name}"), |b| {
            b.iter(|| plan_read(black_box(&catalog), &ctx, black_box(request)))
        });
        let plan = plan_read(&catalog, &ctx, request);
        let dialects: [&dyn Dialect; 3] = [&SqliteDialect, &PostgresDialect, &MySqlDialect];
        for dialect in dialects {
            c.bench_function(&format!("render/{name}/{}", dialect.name()), |b| {
                b.iter(|| render_read(black_box(&plan), dialect).expect("renders"))
            });
        }
        c.bench_function(&format!("all/{name}/sqlite"), |b| {
            b.iter(|| {
                let params = parse_query(black_box(query)).expect("parses");
                let request = ReadRequest { table, params: &params, window: window(&params), count: false };
                let plan = plan_read(&catalog, &ctx, request);
                render_read(&plan, &SqliteDialect).expect("renders")
            })
        });
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
