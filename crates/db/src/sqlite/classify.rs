//! SQLite result codes into [`ErrorKind`]s (sqlite.org/rescode.html).

use rusqlite::ErrorCode;
use rusqlite::ffi;

use crate::error::{DbError, ErrorKind};

/// Classifies a rusqlite error. Constraint failures use the extended result codes.
pub fn classify(e: &rusqlite::Error) -> DbError {
    let message = e.to_string();
    let kind = match e {
        rusqlite::Error::SqliteFailure(f, msg) => {
            let text = msg.as_deref().unwrap_or("");
            match f.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
                ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
                ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
                _ => match f.code {
                    ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => ErrorKind::Busy,
                    ErrorCode::ReadOnly => ErrorKind::ReadOnly,
                    ErrorCode::TooBig => ErrorKind::TooComplex,
                    ErrorCode::CannotOpen | ErrorCode::NotADatabase => ErrorKind::Unavailable,
                    _ if text.contains("invalid regular expression") => ErrorKind::InvalidRegex,
                    _ if text.contains("attempt to write a readonly database") => ErrorKind::ReadOnly,
                    _ if text.contains("too many SQL variables")
                        || text.contains("too large")
                        || text.contains("too deep") =>
                    {
                        ErrorKind::TooComplex
                    }
                    _ => ErrorKind::Internal,
                },
            }
        }
        rusqlite::Error::UserFunctionError(inner) if inner.to_string().contains("invalid regular expression") => {
            ErrorKind::InvalidRegex
        }
        _ => ErrorKind::Internal,
    };
    DbError::new(kind, message)
}
