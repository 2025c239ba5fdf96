//! Errors of the request parser. Each carries the piece that failed and where, in the words
//! PostgREST uses for its `PGRST100` ("failed to parse ...") so that clients matching on them work.

use std::fmt;

/// Which part of the request could not be parsed; decides the PostgREST code and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// A query-string parameter did not parse (PostgREST `PGRST100`, HTTP 400).
    Query,
    /// The query string is not valid percent-encoded UTF-8 (`PGRST100`, HTTP 400).
    Encoding,
    /// A `Range` header or a `limit` that cannot describe a window of rows (`PGRST103`, HTTP 416).
    Range,
    /// A request body that is empty, malformed, or whose objects have different keys (`PGRST102`,
    /// HTTP 400).
    Body,
    /// A `Content-Type` the endpoint does not read (`PGRST107`, HTTP 415).
    ContentType,
    /// A body with more rows than one write takes (`54000`, HTTP 413).
    TooManyRows,
}

/// A request that does not follow the grammar.
///
/// `message` is a one-line summary, `details` says what was expected at `position` (a 1-based
/// character column inside the failing parameter's value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Which part failed.
    pub kind: ParseErrorKind,
    /// One line, e.g. `"failed to parse filter (5)" (line 1, column 1)`.
    pub message: String,
    /// What was expected, e.g. `unexpected "5" expecting "not" or operator (eq, gt, ...)`.
    pub details: Option<String>,
}

impl ParseError {
    /// A `PGRST100` error about `what` (e.g. `filter (eq.x)`) failing at `column` of its value.
    pub fn query(what: &str, column: usize, details: impl Into<String>) -> Self {
        ParseError {
            kind: ParseErrorKind::Query,
            message: format!("\"failed to parse {what}\" (line 1, column {column})"),
            details: Some(details.into()),
        }
    }

    /// A `PGRST102` error about the body.
    pub fn body(message: impl Into<String>, details: Option<String>) -> Self {
        ParseError { kind: ParseErrorKind::Body, message: message.into(), details }
    }

    /// A `PGRST103` error (HTTP 416).
    pub fn range(message: impl Into<String>, details: Option<String>) -> Self {
        ParseError { kind: ParseErrorKind::Range, message: message.into(), details }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(d) = &self.details {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}
