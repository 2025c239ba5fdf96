//! The one place errors meet HTTP: every lower-layer error becomes an [`ApiError`] with the status
//! and code PostgREST gives (PostgREST "Errors" reference), serialised as
//! `{"code","message","details","hint"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rowbase_db::{DbError, ErrorKind};
use rowbase_plan::PlanError;
use rowbase_request::ParseError;
use rowbase_request::error::ParseErrorKind;
use serde_json::{Value, json};

/// An error response (boxed: errors travel through every `Result` of the request path).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorBody>);

/// The parts of an error response.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    /// HTTP status.
    pub status: StatusCode,
    /// PostgREST code (`PGRST100`) or SQLSTATE (`42703`).
    pub code: String,
    /// One-line message.
    pub message: String,
    /// A string, an array (`PGRST201`), or null.
    pub details: Value,
    /// A suggestion, or null.
    pub hint: Option<String>,
    /// Extra headers (`Content-Range` on 416, `Retry-After` on 503).
    pub headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    /// An error with a string detail.
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        details: Option<String>,
        hint: Option<String>,
    ) -> Self {
        ApiError(Box::new(ErrorBody {
            status,
            code: code.to_string(),
            message: message.into(),
            details: details.map_or(Value::Null, Value::String),
            hint,
            headers: Vec::new(),
        }))
    }

    /// The parts of the response.
    pub fn body(&self) -> &ErrorBody {
        &self.0
    }

    /// The refusal as the request's role gets it: an insufficient privilege (`42501`) is 401 for
    /// the anonymous role, with `WWW-Authenticate: Bearer` (a token might pass), and 403 for a
    /// role with a token (PostgREST "Errors": "401 if the role is anonymous, 403 otherwise").
    pub fn for_role(self, ctx: &rowbase_plan::RequestContext) -> Self {
        if ctx.anonymous && ctx.role.is_some() && self.0.code == "42501" && self.0.status == StatusCode::FORBIDDEN {
            let mut error = self;
            error.0.status = StatusCode::UNAUTHORIZED;
            return error.with_header(header::WWW_AUTHENTICATE, "Bearer".into());
        }
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        self.0.headers.push((name, value));
        self
    }
}

/// The HTTP layer's own refusals: with [`ParseError`], [`PlanError`] and [`DbError`], every
/// error a request can meet, each mapped to its status and code in this file only.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpError {
    /// `PGRST125` (404): a path that names no route.
    PathNotFound,
    /// `PGRST100` (400): a path segment that is not percent-encoded UTF-8.
    PathNotUtf8,
    /// `PGRST202` (404): a function (not served yet).
    FunctionNotFound(String),
    /// `PGRST117` (405): a method the resource does not take; the `Allow` list when known.
    MethodNotAllowed(String, Option<&'static str>),
    /// `54000` (413): a body past `--max-body-bytes`.
    BodyTooLarge(usize),
    /// `PGRST102` (408): a body slower than `--body-timeout` (seconds).
    BodyTimeout(f64),
    /// `PGRST102` (400): a body that is not well-formed HTTP (e.g. a malformed chunk size).
    BodyUnreadable(String),
    /// `PGRST107` (406): no offered media type matches `Accept`.
    NotAcceptable(String),
    /// `PGRST122` (400): preferences not understood, with `handling=strict`.
    InvalidPreferences(Vec<String>),
    /// `PGRST106` (406): a schema that is not exposed, and those that are.
    InvalidSchema(String, Vec<String>),
    /// `PGRST103` (416): a negative `limit`.
    NegativeLimit(i64),
    /// `PGRST103` (416): an offset past the total, with the total.
    OffsetPastEnd(u64, u64),
    /// `PGRST116` (406): a singular answer asked for, and this many rows.
    NotSingular(u64),
    /// `22007` (400): an `Accept-Datetime` that is not an HTTP date.
    NotAnHttpDate(String),
    /// `RB421` (421): a `Host` the server does not answer for, and those it does.
    HostNotAllowed(String, Vec<String>),
    /// `RB403` (403): a write from a page of another origin.
    OriginNotAllowed(String),
    /// `XX000` (500): a failure of the server's own (logged, never shown).
    Internal(String),
}

impl From<HttpError> for ApiError {
    fn from(e: HttpError) -> Self {
        use HttpError as H;
        match e {
            H::PathNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "PGRST125", "Invalid path specified in request URL", None, None)
            }
            H::PathNotUtf8 => {
                ApiError::new(StatusCode::BAD_REQUEST, "PGRST100", "the URL path is not valid UTF-8", None, None)
            }
            H::FunctionNotFound(name) => ApiError::new(
                StatusCode::NOT_FOUND,
                "PGRST202",
                format!("Could not find the function public.{name} in the schema cache"),
                None,
                Some("Functions are not served on this engine yet".into()),
            ),
            H::MethodNotAllowed(method, allow) => {
                let error = ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "PGRST117",
                    format!("Unsupported HTTP method: {method}"),
                    None,
                    None,
                );
                match allow {
                    Some(allow) => error.with_header(header::ALLOW, allow.into()),
                    None => error,
                }
            }
            H::BodyTooLarge(limit) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "54000",
                format!("The request body is larger than the limit of {limit} bytes"),
                None,
                Some("Send fewer rows per request, or raise --max-body-bytes".into()),
            ),
            H::BodyTimeout(seconds) => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "PGRST102",
                format!("The request body did not arrive within {seconds} s"),
                None,
                Some("Send the body at once, or raise --body-timeout".into()),
            ),
            H::BodyUnreadable(detail) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST102",
                "The request body could not be read",
                Some(detail),
                None,
            ),
            H::NotAcceptable(asked) => ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "PGRST107",
                format!("None of these media types are available: {asked}"),
                None,
                None,
            ),
            H::InvalidPreferences(invalid) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST122",
                "Invalid preferences given with handling=strict",
                Some(format!("Invalid preferences: {}", invalid.join(", "))),
                None,
            ),
            H::InvalidSchema(asked, exposed) => ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "PGRST106",
                format!("Invalid schema: {asked}"),
                None,
                (!exposed.is_empty())
                    .then(|| format!("Only the following schemas are exposed: {}", exposed.join(", "))),
            ),
            H::NegativeLimit(limit) => ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "PGRST103",
                "Requested range not satisfiable",
                Some(format!("The limit must be a non-negative integer, not {limit}")),
                None,
            ),
            H::OffsetPastEnd(offset, total) => ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "PGRST103",
                "Requested range not satisfiable",
                Some(format!("An offset of {offset} was requested, but there are only {total} rows.")),
                None,
            )
            .with_header(header::CONTENT_RANGE, format!("*/{total}")),
            H::NotSingular(rows) => ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "PGRST116",
                "Cannot coerce the result to a single JSON object",
                Some(format!("The result contains {rows} rows")),
                None,
            ),
            H::NotAnHttpDate(text) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "22007",
                format!("Accept-Datetime is not an HTTP date: {text}"),
                None,
                Some("e.g. Accept-Datetime: Sat, 21 Nov 2026 08:00:00 GMT".into()),
            ),
            H::HostNotAllowed(host, allowed) => ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "RB421",
                format!("This server does not answer for the host {host}"),
                Some(format!("Hosts answered: {}", allowed.join(", "))),
                Some("Use one of those names, or start the server with --allowed-host".into()),
            ),
            H::OriginNotAllowed(origin) => ApiError::new(
                StatusCode::FORBIDDEN,
                "RB403",
                format!("Writes from the origin {origin} are not allowed"),
                None,
                Some("Start the server with --cors-origin for each origin that may write".into()),
            ),
            H::Internal(message) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "XX000", message, None, None),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        match e.kind {
            ParseErrorKind::Query | ParseErrorKind::Encoding => {
                ApiError::new(StatusCode::BAD_REQUEST, "PGRST100", e.message, e.details, None)
            }
            ParseErrorKind::Range => {
                ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103", e.message, e.details, None)
            }
            ParseErrorKind::Body => ApiError::new(StatusCode::BAD_REQUEST, "PGRST102", e.message, e.details, None),
            ParseErrorKind::ContentType => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "PGRST107", e.message, e.details, None)
            }
            ParseErrorKind::TooManyRows => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "54000",
                e.message,
                e.details,
                Some("Send the rows in several requests, or raise --max-write-rows".into()),
            ),
        }
    }
}

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        let message = e.to_string();
        match e {
            PlanError::TableNotFound { schema, suggestion, .. } => ApiError::new(
                StatusCode::NOT_FOUND,
                "PGRST205",
                message,
                None,
                suggestion.map(|s| format!("Perhaps you meant the table '{schema}.{s}'")),
            ),
            PlanError::ColumnNotFound { table, suggestion, .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "42703",
                message,
                None,
                suggestion.map(|s| format!("Perhaps you meant to reference the column \"{table}.{s}\".")),
            ),
            PlanError::NoRelationship { source_table, target, hint, schema, suggestion } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST200",
                message,
                Some(match hint {
                    Some(h) => format!(
                        "Searched for a foreign key relationship between '{source_table}' and '{target}' using the hint '{h}' in the schema '{schema}', but no matches were found."
                    ),
                    None => format!(
                        "Searched for a foreign key relationship between '{source_table}' and '{target}' in the schema '{schema}', but no matches were found."
                    ),
                }),
                suggestion.map(|s| format!("Perhaps you meant '{s}' instead of '{target}'.")),
            ),
            PlanError::AmbiguousRelationship { source_table, target, candidates } => {
                let details: Vec<Value> = candidates
                    .iter()
                    .map(|r| {
                        json!({
                            "cardinality": r.cardinality.short_name(),
                            "embedding": format!("{source_table} with {}", r.target),
                            "relationship": r.describe(),
                        })
                    })
                    .collect();
                let options: Vec<String> = candidates
                    .iter()
                    .map(|r| match &r.junction {
                        Some(j) => format!("'{}!{}'", r.target, j.table),
                        None => format!("'{}!{}'", r.target, r.constraint),
                    })
                    .collect();
                let mut error = ApiError::new(
                    StatusCode::MULTIPLE_CHOICES,
                    "PGRST201",
                    message,
                    None,
                    Some(format!(
                        "Try changing '{target}' to one of the following: {}. Find the desired relationship in the 'details' key.",
                        options.join(", ")
                    )),
                );
                error.0.details = Value::Array(details);
                error
            }
            PlanError::NotEmbedded(name) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST108",
                message,
                None,
                Some(format!("Verify that '{name}' is included in the 'select' query parameter.")),
            ),
            PlanError::RelatedOrderNotToOne { table, relation } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST118",
                message,
                Some(format!("'{table}' and '{relation}' do not form a many-to-one or one-to-one relationship")),
                None,
            ),
            PlanError::PermissionDenied { command, .. } => ApiError::new(
                StatusCode::FORBIDDEN,
                "42501",
                message,
                Some(format!("The request's role has no {command} grant for it")),
                Some(
                    "Grants are declared per role and table in the schema file (docs/schema.md, \"Access control\")"
                        .into(),
                ),
            ),
            PlanError::PolicyUnsupported(_) => ApiError::new(StatusCode::FORBIDDEN, "42501", message, None, None),
            PlanError::HardDeleteForbidden(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "42501",
                message,
                Some("Prefer: delete=hard needs a server started with --allow-hard-delete".into()),
                Some("Without it, DELETE marks rows deleted (deleted_at); restore them with PATCH".into()),
            ),
            PlanError::UnfilteredWrite(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "21000",
                message,
                Some("The request has no filter, so it would change every row of the table".into()),
                Some("Add a filter, or start the server with --allow-unfiltered-writes".into()),
            ),
            PlanError::AsOf(text) => {
                let hint = if text.contains("audit trail") {
                    "Declare audit = true for it in the schema file"
                } else {
                    "Read every row as it was, or read rowbase_audit with filters"
                };
                ApiError::new(StatusCode::BAD_REQUEST, "22023", message, None, Some(hint.into()))
            }
            PlanError::NotWritable { reason, .. } => {
                ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "55000", message, Some(reason), None)
            }
            PlanError::NulCharacter => ApiError::new(
                StatusCode::BAD_REQUEST,
                "22021",
                message,
                None,
                Some("Text cannot hold the character U+0000; send it as bytes (a bytea column) instead".into()),
            ),
            PlanError::TooLarge(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "54001",
                message,
                None,
                Some("Ask for fewer columns or sort keys in one request".into()),
            ),
            PlanError::SpreadNotToOne(relation) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST119",
                message,
                Some(format!("'{relation}' is not a many-to-one or one-to-one relationship")),
                None,
            ),
            PlanError::EmbedFilterOperator(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST120",
                message,
                Some("Only is null or not is null filters are allowed on embedded resources".into()),
                None,
            ),
            PlanError::InvalidValue { type_name, .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                rowbase_plan::invalid_input_code(&type_name),
                message,
                None,
                None,
            ),
            PlanError::UnknownPayloadColumn { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "PGRST204", message, None, None)
            }
            PlanError::GeneratedColumn { table, column } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "428C9",
                message,
                Some(format!("Column \"{column}\" of table \"{table}\" is a generated column.")),
                Some("Leave it out of the payload: the database computes it.".into()),
            ),
            PlanError::InvalidColumnValue { table, column, type_name, .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                rowbase_plan::invalid_input_code(&type_name),
                message,
                Some(format!("Column \"{column}\" of table \"{table}\"")),
                None,
            ),
            PlanError::ValueTooLong { table, column, .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "22001",
                message,
                Some(format!("Column \"{column}\" of table \"{table}\"")),
                None,
            ),
            PlanError::NoConflictTarget(columns) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "42P10",
                message,
                Some(format!("on_conflict names ({columns}), which is not the primary key or a unique key")),
                None,
            ),
            PlanError::NegativeLimit(_) => {
                ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103", message, None, None)
            }
            PlanError::PutFilters => ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "PGRST105", message, None, None),
            PlanError::PutWindow => ApiError::new(StatusCode::BAD_REQUEST, "PGRST114", message, None, None),
            PlanError::PutPayload(_) => ApiError::new(StatusCode::BAD_REQUEST, "PGRST115", message, None, None),
            PlanError::UnknownType(_) => ApiError::new(StatusCode::BAD_REQUEST, "42704", message, None, None),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        let code = e.code().to_string();
        let status = match e.kind {
            ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation | ErrorKind::TransactionConflict => {
                StatusCode::CONFLICT
            }
            ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation
            | ErrorKind::RaisedException
            | ErrorKind::InvalidTextRepresentation
            | ErrorKind::StringTooLong
            | ErrorKind::InvalidRegex
            | ErrorKind::Client
            | ErrorKind::TooComplex
            | ErrorKind::AnswerTooLarge => StatusCode::BAD_REQUEST,
            ErrorKind::ReadOnly => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::AffectedLimit => StatusCode::BAD_REQUEST,
            ErrorKind::NotSingular => StatusCode::NOT_ACCEPTABLE,
            ErrorKind::Busy | ErrorKind::PoolTimeout | ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::InsufficientPrivilege => StatusCode::FORBIDDEN,
            ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::UndefinedObject => StatusCode::NOT_FOUND,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        // A server-side failure's details can name backend process ids and statements
        // (PostgreSQL's deadlock report): they go to the log, not to the client.
        let (details, hint) = if status.is_server_error() { (None, None) } else { (e.details, e.hint) };
        let error = ApiError::new(status, &code, e.message, details, hint);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            error.with_header(header::RETRY_AFTER, "1".into())
        } else {
            error
        }
    }
}

/// The message of every 500 answer: what failed is the server's to know (it is logged, in the
/// request's span), not the client's; the `X-Request-Id` of the answer finds it in the log.
pub const OPAQUE_MESSAGE: &str = "Internal server error: the server's log has the detail of this request";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut this = *self.0;
        if this.status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(code = %this.code, message = %this.message, details = %this.details, "internal error");
            this.message = OPAQUE_MESSAGE.to_string();
            this.details = Value::Null;
            this.hint = None;
        }
        let body = json!({
            "code": this.code,
            "message": this.message,
            "details": this.details,
            "hint": this.hint,
        });
        let mut response = (this.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        for (name, value) in this.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
        response
    }
}
