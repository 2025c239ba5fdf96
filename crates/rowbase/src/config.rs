//! Settings in layers, lowest first: the defaults, the `[server]` section of a configuration
//! file (`--config`, `ROWBASE_CONFIG`), `ROWBASE_*` (and `DATABASE_URL`) environment
//! variables, then flags. The file's keys are the `serve` flags' names (`pool-size` or
//! `pool_size`); `docs/rowbase.reference.toml` lists every one with its default. Secrets never
//! reach a log or an error: a URL is shown with its password masked ([`masked_url`]).

use std::ffi::OsString;
use std::path::Path;

use clap::CommandFactory;
use clap::parser::ValueSource;

use crate::cli::Cli;

/// Parses the command line with the configuration file's `[server]` settings filled in below
/// the environment and the flags.
///
/// Errors: the command line's (clap's message, as `--help` would print), an unreadable file, a
/// file that is not TOML, an unknown key or a value of the wrong kind (naming the key).
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    let command = Cli::command();
    // A first look, for the file's path, that lets a required setting the file may give (the
    // database) be missing.
    let first = command.clone().ignore_errors(true).try_get_matches_from(&args)?;
    let path = match first.subcommand() {
        Some(("serve", serve)) => serve.get_one::<std::path::PathBuf>("config").cloned(),
        _ => None,
    };
    let Some(path) = path else { return <Cli as clap::Parser>::try_parse_from(args) };
    let matches = first;
    let Some(("serve", serve)) = matches.subcommand() else {
        return <Cli as clap::Parser>::try_parse_from(args);
    };
    let serve_command = command.find_subcommand("serve").cloned().unwrap_or_default();
    let extra = file_args(&path, &serve_command, serve)
        .map_err(|e| command.clone().error(clap::error::ErrorKind::InvalidValue, e))?;
    let mut layered = args;
    layered.extend(extra);
    <Cli as clap::Parser>::try_parse_from(layered)
}

/// The flags that stand for the file's `[server]` settings the environment and the command
/// line leave unset.
fn file_args(path: &Path, serve: &clap::Command, given: &clap::ArgMatches) -> Result<Vec<OsString>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: toml::Table = text.parse().map_err(|e| format!("{} is not TOML: {e}", path.display()))?;
    let Some(server) = file.get("server") else { return Ok(Vec::new()) };
    let server = server.as_table().ok_or_else(|| format!("[server] of {} must be a table", path.display()))?;
    let mut args = Vec::new();
    for (key, value) in server {
        let long = key.replace('_', "-");
        let arg = serve
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()) || (a.get_id() == "database" && long == "database"))
            .ok_or_else(|| format!("unknown setting `{key}` in [server] of {}", path.display()))?;
        let id = arg.get_id().as_str();
        if id == "config" {
            return Err(format!("`config` cannot be set in [server] of {}", path.display()));
        }
        if matches!(given.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable)) {
            continue;
        }
        let texts: Vec<String> = match value {
            toml::Value::Array(items) => items.iter().map(scalar).collect::<Result<_, _>>(),
            other => scalar(other).map(|v| vec![v]),
        }
        .map_err(|kind| format!("`{key}` in [server] of {}: {kind}", path.display()))?;
        let takes_value = arg.get_action().takes_values();
        if id == "database" {
            args.extend(texts.into_iter().map(OsString::from));
        } else if !takes_value {
            // A switch: `true` turns it on; `false` leaves it at its default (off).
            match value {
                toml::Value::Boolean(true) => args.push(OsString::from(format!("--{long}"))),
                toml::Value::Boolean(false) => {}
                _ => return Err(format!("`{key}` in [server] of {} must be true or false", path.display())),
            }
        } else {
            args.extend(texts.into_iter().map(|v| OsString::from(format!("--{long}={v}"))));
        }
    }
    Ok(args)
}

/// A TOML scalar as the text a flag takes.
fn scalar(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Float(x) => Ok(x.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!("a {} is not a setting's value", other.type_str())),
    }
}

/// `url` with its password replaced by `***` (`postgres://app:***@db:5432/app`); anything that
/// is not a URL with a password (an SQLite path) comes back as it is.
pub fn masked_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::masked_url;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            masked_url("postgres://app:s3cr%40t@db:5432/app?sslmode=require"),
            "postgres://app:***@db:5432/app?sslmode=require"
        );
        assert_eq!(masked_url("mysql://root@127.0.0.1/test"), "mysql://root@127.0.0.1/test");
        assert_eq!(masked_url("examples/chinook/chinook.sqlite"), "examples/chinook/chinook.sqlite");
        assert_eq!(masked_url("postgres://u:p@w@host/db"), "postgres://u:***@host/db");
    }
}

#[cfg(test)]
mod reference {
    use std::ffi::OsString;

    use clap::CommandFactory;

    use crate::cli::{Cli, Command};

    fn reference() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rowbase.reference.toml");
        std::fs::read_to_string(path).expect("docs/rowbase.reference.toml")
    }

    /// Every flag of `serve` is in the reference file, and nothing else is.
    #[test]
    fn the_reference_lists_every_setting() {
        let text = reference();
        let listed: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# ").and_then(|l| l.split_once(" = ")).map(|(k, _)| k))
            .filter(|k| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
            .collect();
        let command = Cli::command();
        let serve = command.find_subcommand("serve").expect("serve");
        let mut flags: Vec<String> = serve
            .get_arguments()
            .filter(|a| !matches!(a.get_id().as_str(), "config" | "help" | "version"))
            .map(|a| a.get_long().map_or_else(|| a.get_id().to_string(), str::to_string))
            .collect();
        flags.sort();
        let mut keys: Vec<String> = listed.iter().map(|k| k.to_string()).collect();
        keys.sort();
        assert_eq!(keys, flags);
    }

    /// The reference, every line uncommented, is a configuration `serve` accepts, and its values
    /// arrive; a flag still wins over the file.
    #[test]
    fn the_reference_is_a_valid_configuration() {
        let text: String = reference()
            .lines()
            .map(|l| {
                match l.strip_prefix("# ").filter(|rest| {
                    rest.split_once(" = ")
                        .is_some_and(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
                }) {
                    Some(setting) => format!("{setting}\n"),
                    None => format!("{l}\n"),
                }
            })
            .collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("rowbase.toml");
        std::fs::write(&file, text).expect("written");
        let args = |extra: &[&str]| -> Vec<OsString> {
            let mut args: Vec<OsString> = ["rowbase", "serve", "--config"].iter().map(OsString::from).collect();
            args.push(file.clone().into_os_string());
            args.extend(extra.iter().map(OsString::from));
            args
        };
        let Command::Serve(serve) = super::parse(args(&[])).expect("accepted").command else { panic!("serve") };
        assert_eq!(serve.pool_size, Some(8));
        assert_eq!(serve.max_rows, Some(1000));
        assert_eq!(serve.cors_origins, ["https://app.example.com"]);
        assert_eq!(serve.database, "examples/chinook/chinook.sqlite");
        let Command::Serve(serve) = super::parse(args(&["--pool-size", "3"])).expect("accepted").command else {
            panic!("serve")
        };
        assert_eq!(serve.pool_size, Some(3), "a flag wins over the file");
    }

    #[test]
    fn unknown_settings_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("rowbase.toml");
        std::fs::write(&file, "[server]\npool-sise = 3\n").expect("written");
        let args: Vec<OsString> =
            vec!["rowbase".into(), "serve".into(), "db.sqlite".into(), "--config".into(), file.into_os_string()];
        let error = super::parse(args).expect_err("refused").to_string();
        assert!(error.contains("unknown setting `pool-sise`"), "{error}");
    }
}
