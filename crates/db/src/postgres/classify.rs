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

fn kind_of(code: &str) -> ErrorKind {
    match code {
        "23505" => ErrorKind::UniqueViolation,
        "23503" => ErrorKind::ForeignKeyViolation,
        "23502" => ErrorKind::NotNullViolation,
        "23514" => ErrorKind::CheckViolation,
        "22P02" => ErrorKind::InvalidTextRepresentation,
        "22001" => ErrorKind::StringTooLong,
        "2201B" => ErrorKind::InvalidRegex,
        "25006" => ErrorKind::ReadOnly,
        "55P03" | "40001" | "40P01" => ErrorKind::Busy,
        "53300" | "57P01" | "57P02" | "57P03" => ErrorKind::Unavailable,
        c if c.starts_with("08") => ErrorKind::Unavailable,
        c if c.starts_with("54") => ErrorKind::TooComplex,
        c if ["22", "23", "42", "P0", "2B", "2F", "44"].iter().any(|p| c.starts_with(p)) => ErrorKind::Client,
        _ => ErrorKind::Internal,
    }
}
