//! Engine errors, classified. Each engine maps its own codes (SQLite extended result codes,
//! PostgreSQL SQLSTATE, MySQL errno) into [`ErrorKind`]; the HTTP layer maps kinds to statuses
//! once.

/// What went wrong, independent of the engine. `sqlstate()` gives the PostgreSQL code PostgREST
/// clients expect in `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `23505`: a unique or primary key is violated.
    UniqueViolation,
    /// `23503`: a foreign key is violated.
    ForeignKeyViolation,
    /// `23502`: NULL in a NOT NULL column.
    NotNullViolation,
    /// `23514`: a CHECK constraint failed.
    CheckViolation,
    /// `22P02`: text that is not of the column's type.
    InvalidTextRepresentation,
    /// `22001`: a value too long for its column.
    StringTooLong,
    /// `2201B`: an invalid regular expression in `match`/`imatch`.
    InvalidRegex,
    /// `25006`: a write in a read-only transaction or database.
    ReadOnly,
    /// `55P03`: the database is locked by another writer beyond the busy timeout.
    Busy,
    /// `PGRST003`: no pooled connection became free in time.
    PoolTimeout,
    /// `08000`: the database cannot be reached.
    Unavailable,
    /// `54000`: a statement or value exceeds an engine limit.
    TooComplex,
    /// `P0001`: a trigger (or procedure) raised an error with its own message: PostgreSQL's
    /// `RAISE EXCEPTION`, MySQL's `SIGNAL SQLSTATE '45000'`, SQLite's `RAISE(ABORT, ...)`. HTTP
    /// 400, as PostgREST answers `P0001`.
    RaisedException,
    /// A request the engine rejected as invalid (PostgreSQL classes 22, 42, P0): HTTP 400 with
    /// the engine's own SQLSTATE.
    Client,
    /// `PGRST124`: a write touched more rows than `Prefer: max-affected` allows; rolled back.
    AffectedLimit,
    /// `PGRST116`: a singular response was asked for but the write touched other than one row;
    /// rolled back.
    NotSingular,
    /// `42501`: the database refused the role (HTTP 403).
    InsufficientPrivilege,
    /// `42883`, `42P01`: the engine found no such function or table (HTTP 404, as PostgREST).
    UndefinedObject,
    /// `40P01`/`40001`: the engine rolled the transaction back to end a deadlock or a
    /// serialization conflict. Writes are retried a few times first; then HTTP 409.
    TransactionConflict,
    /// `54000`: a read's answer passed the server's size limit (`--max-response-bytes`) and was
    /// stopped (HTTP 400).
    AnswerTooLarge,
    /// `57014`: a statement ran past the statement time limit and was cancelled (HTTP 504).
    Timeout,
    /// `XX000`: an error of the server, not of the request (HTTP 500): PostgREST's classes 09,
    /// 25, 2D, 38, 39, 3B, 40, 55, 57, 58, F0, HV, P0 (but P0001), XX.
    Internal,
}

impl ErrorKind {
    /// The PostgreSQL SQLSTATE (or PostgREST code) for this kind.
    pub fn sqlstate(self) -> &'static str {
        match self {
            ErrorKind::UniqueViolation => "23505",
            ErrorKind::ForeignKeyViolation => "23503",
            ErrorKind::NotNullViolation => "23502",
            ErrorKind::CheckViolation => "23514",
            ErrorKind::InvalidTextRepresentation => "22P02",
            ErrorKind::StringTooLong => "22001",
            ErrorKind::InvalidRegex => "2201B",
            ErrorKind::ReadOnly => "25006",
            ErrorKind::Busy => "55P03",
            ErrorKind::PoolTimeout => "PGRST003",
            ErrorKind::Unavailable => "08000",
            ErrorKind::TooComplex => "54000",
            ErrorKind::Client => "42000",
            ErrorKind::RaisedException => "P0001",
            ErrorKind::AffectedLimit => "PGRST124",
            ErrorKind::NotSingular => "PGRST116",
            ErrorKind::InsufficientPrivilege => "42501",
            ErrorKind::Timeout => "57014",
            ErrorKind::AnswerTooLarge => "54000",
            ErrorKind::TransactionConflict => "40P01",
            ErrorKind::UndefinedObject => "42P01",
            ErrorKind::Internal => "XX000",
        }
    }
}

/// An error from the database layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    /// The classified kind.
    pub kind: ErrorKind,
    /// The engine's own SQLSTATE when it has one (PostgreSQL), shown instead of the kind's.
    pub sqlstate: Option<String>,
    /// The engine's hint, when it gives one.
    pub hint: Option<String>,
    /// The engine's message (safe to show: it never contains bound values on SQLite).
    pub message: String,
    /// More detail, when the engine gives it.
    pub details: Option<String>,
}

impl DbError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DbError { kind, sqlstate: None, hint: None, message: message.into(), details: None }
    }

    /// The SQLSTATE shown to clients: the engine's own when known, else the kind's.
    pub fn code(&self) -> &str {
        self.sqlstate.as_deref().unwrap_or(self.kind.sqlstate())
    }

    /// The same error with `details`.
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }
}

/// A plan the engine cannot run, as reads and writes both answer it: an operator the engine
/// lacks is 400 `PGRST127` naming the engine; a malformed full-text query 400 `42601`.
impl From<rowbase_sql::RenderError> for DbError {
    fn from(e: rowbase_sql::RenderError) -> Self {
        let (code, hint) = match &e {
            rowbase_sql::RenderError::Unsupported { .. } => ("PGRST127", "Use an operator this engine supports"),
            rowbase_sql::RenderError::InvalidSearch(_) => {
                ("42601", "See docs/schema.md, \"Full-text search\", for the query syntax of each operator")
            }
        };
        let mut error = DbError::new(ErrorKind::Client, e.to_string());
        error.sqlstate = Some(code.to_string());
        error.hint = Some(hint.to_string());
        error
    }
}
