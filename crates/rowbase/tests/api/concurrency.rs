//! 32 clients writing at once, with readers alongside: every write succeeds (no "database is
//! locked"), every row lands, readers keep answering.

use reqwest::Method;
use serde_json::json;

use crate::common::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_writers_never_see_a_locked_database() {
    let app = spawn_app()
        .schema(
            "CREATE TABLE event (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, seq INTEGER NOT NULL, note TEXT,
                             UNIQUE (writer, seq));",
        )
        .await;
    let base = app.base.clone();
    const WRITERS: i64 = 32;
    const EACH: i64 = 40;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (client, base) = (app.client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for seq in 0..EACH {
                let response = client
                    .post(format!("{base}/event"))
                    .header("Content-Type", "application/json")
                    .body(json!({ "writer": writer, "seq": seq }).to_string())
                    .send()
                    .await
                    .unwrap();
                if response.status() != 201 {
                    failures.push(format!("{} {}", response.status(), response.text().await.unwrap_or_default()));
                }
                if seq % 10 == 9 {
                    let patch = client
                        .patch(format!("{base}/event?writer=eq.{writer}&seq=lte.{seq}"))
                        .header("Content-Type", "application/json")
                        .body(json!({ "note": format!("up to {seq}") }).to_string())
                        .send()
                        .await
                        .unwrap();
                    if patch.status() != 204 {
                        failures.push(format!("patch {}", patch.status()));
                    }
                }
            }
            failures
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (client, base) = (app.client.clone(), base.clone());
        readers.push(tokio::spawn(async move {
            let mut bad = 0;
            for _ in 0..50 {
                let r = client.get(format!("{base}/event?select=id&limit=5&order=id.desc")).send().await.unwrap();
                if r.status() != 200 {
                    bad += 1;
                }
            }
            bad
        }));
    }
    for task in tasks {
        let failures = task.await.unwrap();
        assert!(failures.is_empty(), "{failures:?}");
    }
    for reader in readers {
        assert_eq!(reader.await.unwrap(), 0, "readers were never refused");
    }
    let n: i64 = app.oracle().query_row("SELECT count(*) FROM event", [], |r| r.get(0)).unwrap();
    assert_eq!(n, WRITERS * EACH);
    let noted: i64 =
        app.oracle().query_row("SELECT count(*) FROM event WHERE note IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(noted, WRITERS * (EACH - EACH % 10), "every PATCH applied");
    let head = app.request(Method::HEAD, "/event", &[("Prefer", "count=exact")]).await;
    assert_eq!(head.header("content-range").map(|r| r.ends_with(&format!("/{}", WRITERS * EACH))), Some(true));
}
