//! SQLite result codes into [`ErrorKind`]s (sqlite.org/rescode.html), with PostgreSQL's wording
//! for constraint failures so clients see one vocabulary whatever the engine. SQLite names the
//! failing columns but not unique or not-null constraints; those get PostgreSQL's default names
//! (`{table}_pkey`, `{table}_{columns}_key`).

use rusqlite::ErrorCode;
use rusqlite::ffi;

use crate::error::{DbError, ErrorKind};

/// Classifies a rusqlite error.
pub fn classify(e: &rusqlite::Error) -> DbError {
    // A statement SQLite could not prepare: its message without the SQL text, which rusqlite's
    // own display appends (an answer never carries SQL).
    if let rusqlite::Error::SqlInputError { error, msg, .. } = e {
        return classify(&rusqlite::Error::SqliteFailure(*error, Some(msg.clone())));
    }
    let message = e.to_string();
    let rusqlite::Error::SqliteFailure(f, msg) = e else {
        return match e {
            rusqlite::Error::UserFunctionError(inner) if inner.to_string().contains("invalid regular expression") => {
                DbError::new(ErrorKind::InvalidRegex, inner.to_string())
            }
            _ => DbError::new(ErrorKind::Internal, message),
        };
    };
    let text = msg.as_deref().unwrap_or("");
    match f.extended_code {
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => unique(text, true),
        ffi::SQLITE_CONSTRAINT_UNIQUE => unique(text, false),
        ffi::SQLITE_CONSTRAINT_NOTNULL => not_null(text),
        ffi::SQLITE_CONSTRAINT_CHECK => {
            let name = text.strip_prefix("CHECK constraint failed: ").unwrap_or(text);
            DbError::new(ErrorKind::CheckViolation, format!("new row violates check constraint \"{name}\""))
                .with_details(format!("Failing constraint: {name}"))
        }
        // Named by the writer, which knows the statement (see `mutate::explain`).
        // ON DELETE/UPDATE RESTRICT is enforced by an internal trigger that raises this text.
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY | ffi::SQLITE_CONSTRAINT_TRIGGER
            if f.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY || text == "FOREIGN KEY constraint failed" =>
        {
            DbError::new(ErrorKind::ForeignKeyViolation, "insert, update or delete violates a foreign key constraint")
        }
        // RAISE(ABORT | FAIL | ROLLBACK, message) in a trigger.
        ffi::SQLITE_CONSTRAINT_TRIGGER => DbError::new(ErrorKind::RaisedException, text.to_string()),
        _ => {
            let kind = match f.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => ErrorKind::Busy,
                ErrorCode::ReadOnly => ErrorKind::ReadOnly,
                ErrorCode::TooBig => ErrorKind::TooComplex,
                // Only the statement time limit interrupts a connection (see SqliteDatabase::read).
                ErrorCode::OperationInterrupted => ErrorKind::Timeout,
                ErrorCode::CannotOpen | ErrorCode::NotADatabase => ErrorKind::Unavailable,
                _ if text.contains("invalid regular expression") => ErrorKind::InvalidRegex,
                _ if text.contains("attempt to write a readonly database") || text.contains("because it is a view") => {
                    ErrorKind::ReadOnly
                }
                _ if text.contains("too many SQL variables")
                    || text.contains("too large")
                    || text.contains("too deep") =>
                {
                    ErrorKind::TooComplex
                }
                _ => ErrorKind::Internal,
            };
            DbError::new(kind, message)
        }
    }
}

/// `Table.col1, Table.col2` (SQLite's list) into the table and the columns.
fn table_columns(list: &str) -> (String, Vec<String>) {
    let mut table = String::new();
    let columns = list
        .split(", ")
        .map(|qualified| match qualified.split_once('.') {
            Some((t, c)) => {
                table = t.to_string();
                c.to_string()
            }
            None => qualified.to_string(),
        })
        .collect();
    (table, columns)
}

fn unique(text: &str, primary: bool) -> DbError {
    let (table, columns) = table_columns(text.strip_prefix("UNIQUE constraint failed: ").unwrap_or(text));
    let name = if primary { format!("{table}_pkey") } else { format!("{table}_{}_key", columns.join("_")) };
    DbError::new(ErrorKind::UniqueViolation, format!("duplicate key value violates unique constraint \"{name}\""))
        .with_details(format!("Key ({}) already exists.", columns.join(", ")))
}

fn not_null(text: &str) -> DbError {
    let (table, columns) = table_columns(text.strip_prefix("NOT NULL constraint failed: ").unwrap_or(text));
    let column = columns.first().cloned().unwrap_or_default();
    DbError::new(
        ErrorKind::NotNullViolation,
        format!("null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"),
    )
    .with_details(format!("Failing constraint: {table}_{column}_not_null on column ({column})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_no_sql() {
        let conn = rusqlite::Connection::open_in_memory().expect("opens");
        let Err(e) = conn.prepare("SELECT nope FROM sqlite_schema") else { unreachable!("the column does not exist") };
        let classified = classify(&e);
        assert!(classified.message.contains("no such column"), "{}", classified.message);
        assert!(!classified.message.contains("SELECT"), "{}", classified.message);
    }
}
