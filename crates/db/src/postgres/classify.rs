//! PostgreSQL errors into [`ErrorKind`]s by SQLSTATE (postgresql.org/docs/current/errcodes-appendix.html),
//! keeping the engine's code, message, detail and hint for the client, as PostgREST does.

use crate::error::{DbError, ErrorKind};

/// Classifies a driver error. Errors without a SQLSTATE are connection failures.
pub fn classify(e: &tokio_postgres::Error) -> DbError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let mut error = DbError::new(kind_of(code), db.message());
        error.sqlstate = Some(code.to_string());
        error.details = db.detail().map(str::to_string);
        error.hint = db.hint().map(str::to_string);
        return error;
    }
    let text = e.to_string();
    if text.contains("serializing") || text.contains("deserializing") {
        return DbError::new(ErrorKind::Internal, text);
    }
    DbError::new(ErrorKind::Unavailable, format!("the database is unreachable: {text}"))
}

/// PostgREST's table ("HTTP status codes" in its errors reference): the classes it answers 500 or
/// 503 for, a few codes of their own, and 400 for everything else (22 data exceptions, 42
/// syntax and access errors, 0A000 feature_not_supported, 21000 cardinality...).
fn kind_of(code: &str) -> ErrorKind {
    const SERVER_CLASSES: [&str; 14] =
        ["09", "25", "2D", "38", "39", "3B", "40", "55", "57", "58", "F0", "HV", "P0", "XX"];
    match code {
        "23505" => ErrorKind::UniqueViolation,
        "23503" => ErrorKind::ForeignKeyViolation,
        "23502" => ErrorKind::NotNullViolation,
        "23514" => ErrorKind::CheckViolation,
        "22P02" => ErrorKind::InvalidTextRepresentation,
        "22001" => ErrorKind::StringTooLong,
        "2201B" => ErrorKind::InvalidRegex,
        "25006" => ErrorKind::ReadOnly,
        "55P03" => ErrorKind::Busy,
        "40001" | "40P01" => ErrorKind::TransactionConflict,
        "53300" | "57P01" | "57P02" | "57P03" => ErrorKind::Unavailable,
        c if c.starts_with("08") => ErrorKind::Unavailable,
        "53400" => ErrorKind::Internal,
        c if c.starts_with("53") => ErrorKind::Unavailable,
        c if c.starts_with("54") => ErrorKind::TooComplex,
        "P0001" => ErrorKind::RaisedException,
        "57014" => ErrorKind::Timeout,
        "42501" => ErrorKind::InsufficientPrivilege,
        c if ["0L", "0P", "28"].iter().any(|p| c.starts_with(p)) => ErrorKind::InsufficientPrivilege,
        "42883" | "42P01" => ErrorKind::UndefinedObject,
        "42P17" => ErrorKind::Internal,
        c if SERVER_CLASSES.iter().any(|p| c.starts_with(p)) => ErrorKind::Internal,
        _ => ErrorKind::Client,
    }
}
