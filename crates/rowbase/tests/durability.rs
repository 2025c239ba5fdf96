//! Kill -9 under write load: every write the server acknowledged is in the database after a
//! restart (synchronous=FULL, answers sent only after COMMIT).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Starts the binary on `db` and returns it with the address it listens on.
fn serve(db: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rowbase"))
        .args(["serve", db.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let serving = lines.find_map(|l| l.ok().filter(|l| l.contains("addr="))).unwrap();
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let addr = serving.split("addr=").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.sqlite");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE ack (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, body TEXT NOT NULL);")
        .unwrap();
    let (mut child, addr) = serve(&db);

    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut writers = Vec::new();
    for writer in 0..16i64 {
        let (client, addr, acknowledged, stop) = (client.clone(), addr.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut seq = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let id = writer * 1_000_000 + seq;
                seq += 1;
                let sent = client
                    .post(format!("http://{addr}/ack"))
                    .header("Content-Type", "application/json")
                    .body(serde_json::json!({ "id": id, "writer": writer, "body": "x".repeat(200) }).to_string())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => {
                        acknowledged.lock().unwrap().insert(id);
                    }
                    Ok(r) => panic!("a write failed while the server was up: {}", r.status()),
                    // The server was killed mid-request: not acknowledged, may or may not be there.
                    Err(_) => break,
                }
            }
        }));
    }
    // Let the load run, then kill the server without warning.
    while acknowledged.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 300);

    // Restart on the same file; read back through the API.
    let (mut child, addr) = serve(&db);
    let body: serde_json::Value =
        client.get(format!("http://{addr}/ack?select=id")).send().await.unwrap().json().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let stored: BTreeSet<i64> = body.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let lost: Vec<&i64> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost after SIGKILL, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}
