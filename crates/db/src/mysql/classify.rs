//! MySQL/MariaDB errors into [`ErrorKind`]s by error number (MySQL's SQLSTATEs are too coarse:
//! every integrity error is `23000`). The code shown to clients is PostgreSQL's for the kind, as
//! on SQLite, so clients see one vocabulary; data errors carry PostgreSQL's code for the same
//! fault (22003 out of range, 22012 division by zero, ...). An error number not listed is
//! classified by the server's own SQLSTATE class as PostgREST classifies PostgreSQL's: 22, 42,
//! 0A, 21 are the request's fault (400); `HY000` and the rest are the server's (500).

use crate::error::{DbError, ErrorKind};

/// PostgreSQL's SQLSTATE for MySQL data errors whose own state is the generic `22000`/`HY000`.
fn postgres_code(number: u16) -> Option<&'static str> {
    Some(match number {
        // Out of range value for column; BIGINT value is out of range.
        1264 | 1690 => "22003",
        // Division by 0 (strict mode).
        1365 => "22012",
        // Invalid JSON text / path.
        3140 | 4038 | 4042 => "22P02",
        // Incorrect datetime value / date out of range.
        1867 | 1441 => "22008",
        // A table's rules refuse the statement (e.g. a view that is not updatable).
        1288 | 1395 | 1471 => "0A000",
        _ => return None,
    })
}

/// A 400 carrying `code`.
fn client_error(code: &str, message: &str) -> DbError {
    let mut error = DbError::new(ErrorKind::Client, message);
    error.sqlstate = Some(code.to_string());
    error
}

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
                1205 => ErrorKind::Busy,
                // Deadlock found when trying to get lock; try restarting transaction.
                1213 => ErrorKind::TransactionConflict,
                // max_statement_time (MariaDB), max_execution_time (MySQL).
                1969 | 3024 => ErrorKind::Timeout,
                1792 | 1290 => ErrorKind::ReadOnly,
                1040 | 1053 => ErrorKind::Unavailable,
                1054 | 1146 | 1064 | 1305 => ErrorKind::Client,
                // SIGNAL SQLSTATE '45000' (a trigger's own error).
                1644 => ErrorKind::RaisedException,
                1142 | 1143 | 1227 | 1044 => ErrorKind::InsufficientPrivilege,
                _ => match postgres_code(server.code) {
                    Some(code) => return client_error(code, &server.message),
                    None if ["22", "42", "0A", "21"].iter().any(|c| server.state.starts_with(c)) => {
                        return client_error(&server.state, &server.message);
                    }
                    None => ErrorKind::Internal,
                },
            };
            DbError::new(kind, server.message.clone())
        }
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => {
            DbError::new(ErrorKind::Unavailable, format!("the database is unreachable: {e}"))
        }
        other => DbError::new(ErrorKind::Internal, other.to_string()),
    }
}
