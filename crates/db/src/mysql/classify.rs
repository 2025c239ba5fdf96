//! MySQL/MariaDB errors into [`ErrorKind`]s by error number (MySQL's SQLSTATEs are too coarse:
//! every integrity error is `23000`). The code shown to clients is PostgreSQL's for the kind, as
//! on SQLite, so clients see one vocabulary.

use crate::error::{DbError, ErrorKind};

/// Classifies a driver error. Errors that are not the server's are connection failures.
pub fn classify(e: &mysql_async::Error) -> DbError {
    match e {
        mysql_async::Error::Server(server) => {
            let kind = match server.code {
                1062 | 1586 => ErrorKind::UniqueViolation,
                1451 | 1452 | 1216 | 1217 => ErrorKind::ForeignKeyViolation,
                1048 | 1364 => ErrorKind::NotNullViolation,
                3819 | 4025 => ErrorKind::CheckViolation,
                1366 | 1292 | 1265 | 1411 => ErrorKind::InvalidTextRepresentation,
                1406 => ErrorKind::StringTooLong,
                1139 | 3685 | 3692 | 3693 => ErrorKind::InvalidRegex,
                1205 | 1213 => ErrorKind::Busy,
                1792 | 1290 => ErrorKind::ReadOnly,
                1040 | 1053 => ErrorKind::Unavailable,
                1054 | 1146 | 1064 | 1305 => ErrorKind::Client,
                // SIGNAL SQLSTATE '45000' (a trigger's own error).
                1644 => ErrorKind::RaisedException,
                _ => ErrorKind::Internal,
            };
            DbError::new(kind, server.message.clone())
        }
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => {
            DbError::new(ErrorKind::Unavailable, format!("the database is unreachable: {e}"))
        }
        other => DbError::new(ErrorKind::Internal, other.to_string()),
    }
}
