//! Every `$ curl ...` example in the README, replayed in order against the server on one copy of
//! Chinook: the status and headers shown (for `-i`) and the body must be what the README says.

use std::path::Path;

use serde_json::Value;

use crate::common::{TestApp, spawn_app};

/// One example: the curl command line and the output printed under it.
struct Example {
    command: String,
    expected: Vec<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    tagged(readme, "```console")
}

/// The examples of the blocks fenced exactly `fence` (`console newsroom` blocks run elsewhere).
fn tagged(readme: &str, fence: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_block = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = !in_block && line.trim_end() == fence;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            out.push(Example { command: command.to_string(), expected: Vec::new() });
        } else if let Some(example) = out.last_mut() {
            example.expected.push(line.to_string());
        }
    }
    out
}

/// Splits a command line the way a POSIX shell does for single-quoted words.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let (mut word, mut quoted, mut any) = (String::new(), false, false);
    for c in command.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

#[tokio::test]
async fn every_readme_example_returns_what_it_shows() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 12, "the README shows a dozen examples, found {}", examples.len());
    replay(&examples, &spawn_app().await).await;
}

/// Each example's walk-through, on a fresh SQLite database migrated from the example's own
/// migrations (the file is created by `migrate apply`, as the example's README tells).
#[tokio::test]
async fn every_example_walkthrough_returns_what_it_shows() {
    for name in ["blog", "shop", "ledger"] {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
        let readme = std::fs::read_to_string(example.join("README.md")).unwrap();
        let examples = examples(&readme);
        assert!(examples.len() >= 9, "{name}: a walk-through of nine examples or more, found {}", examples.len());
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(format!("{name}.db"));
        let applied = rowbase::migrate::apply(db.to_str().unwrap(), &example.join("migrations")).await.unwrap();
        assert!(!applied.is_empty(), "{name}: migrations applied");
        // Served in place: the migration's last writes may still be in the WAL beside the file.
        // As the READMEs run it (the ledger's audit log takes the actor from this header).
        let mut options = rowbase::Options::default();
        options.http.actor_header = Some("x-forwarded-user".into());
        let app = spawn_app().url(db.to_str().unwrap(), Box::new(dir)).options(options).await;
        replay(&examples, &app).await;
    }
}

/// The newsroom's walk-through, served as its README says: the demo secret, `anon` for requests
/// without a token, and the roles, grants and policies of its schema file.
#[tokio::test]
async fn the_newsroom_walkthrough_returns_what_it_shows() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/newsroom");
    let readme = std::fs::read_to_string(example.join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 12, "a walk-through of a dozen examples, found {}", examples.len());
    replay(&examples, &newsroom(&example).await).await;
    // The README's "Access control" examples, on a server of their own.
    let main = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let access = tagged(&main, "```console newsroom");
    assert!(access.len() >= 4, "the README's access-control examples, found {}", access.len());
    replay(&access, &newsroom(&example).await).await;
}

/// A server on a fresh newsroom database, configured as its README says.
async fn newsroom(example: &Path) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("newsroom.db");
    rowbase::migrate::apply(db.to_str().unwrap(), &example.join("migrations")).await.unwrap();
    let checked = rowbase::migrate::check(db.to_str().unwrap(), &example.join("rowbase.toml")).await.unwrap();
    let mut options = rowbase::Options::default();
    options.http.tables = Some(checked.tables);
    options.http.access =
        Some(std::sync::Arc::new(rowbase_plan::AccessRules::compile(&checked.access.unwrap()).unwrap()));
    options.http.auth = rowbase_http::auth::AuthConfig {
        keys: Some(std::sync::Arc::new(
            rowbase_http::auth::JwtKeys::new(Some(b"newsroom-demo-secret-do-not-use-in-production"), None).unwrap(),
        )),
        anon_role: Some("anon".into()),
        ..Default::default()
    };
    spawn_app().url(db.to_str().unwrap(), Box::new(dir)).options(options).await
}

/// Runs each example in order and compares status, shown headers and body.
async fn replay(examples: &[Example], app: &TestApp) {
    for example in examples {
        let args = words(&example.command);
        assert_eq!(args.first().map(String::as_str), Some("curl"), "{}", example.command);
        let (mut url, mut headers, mut include, mut method, mut data) =
            (None, Vec::new(), false, "GET".to_string(), None);
        let mut rest = args[1..].iter();
        while let Some(arg) = rest.next() {
            match arg.as_str() {
                "-s" => {}
                "-si" | "-i" => include = true,
                "-H" => headers.push(rest.next().unwrap().clone()),
                "-X" => method = rest.next().unwrap().clone(),
                "-d" => data = rest.next().cloned(),
                other => url = Some(other.to_string()),
            }
        }
        let path = url.unwrap().trim_start_matches("localhost:3000").to_string();
        let header_pairs: Vec<(&str, &str)> = headers.iter().map(|h| h.split_once(": ").unwrap()).collect();
        // As curl does: -d without -X is a POST.
        if data.is_some() && method == "GET" && !args.iter().any(|a| a == "-X") {
            method = "POST".to_string();
        }
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let reply = app.send(method, &path, &header_pairs, data).await;

        let mut expected = example.expected.iter().map(String::as_str).peekable();
        if include {
            let status_line = expected.next().unwrap();
            let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
            assert_eq!(reply.status, status, "{}", example.command);
            for line in expected.by_ref() {
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(": ").unwrap();
                assert_eq!(reply.header(name), Some(value), "{}: {name}", example.command);
            }
        }
        let body = expected.collect::<Vec<_>>().join("\n");
        match serde_json::from_str::<Value>(&body) {
            Ok(json) => assert_eq!(reply.json(), json, "{}", example.command),
            Err(_) => assert_eq!(reply.text, body, "{}", example.command),
        }
    }
}
