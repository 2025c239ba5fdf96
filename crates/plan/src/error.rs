//! Errors of planning: the request is well-formed but does not fit the catalog.
//! Each variant names the PostgREST code it answers with (`rowbase-http` maps them to statuses).

use rowbase_catalog::Relationship;

/// A request that does not fit the schema.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// `PGRST205` (404): no such table or view.
    #[error("Could not find the table '{schema}.{table}' in the schema cache")]
    TableNotFound {
        /// The schema searched.
        schema: String,
        /// The name asked for.
        table: String,
        /// The closest existing name, for the hint.
        suggestion: Option<String>,
    },
    /// `42703` (400): no such column.
    #[error("column {table}.{column} does not exist")]
    ColumnNotFound {
        /// The table searched.
        table: String,
        /// The name asked for.
        column: String,
        /// The closest existing column.
        suggestion: Option<String>,
    },
    /// `PGRST200` (400): no relationship matches an embed.
    #[error("Could not find a relationship between '{source_table}' and '{target}' in the schema cache")]
    NoRelationship {
        /// The table embedding.
        source_table: String,
        /// The embed as written.
        target: String,
        /// The hint as written.
        hint: Option<String>,
        /// The schema searched.
        schema: String,
        /// The closest embeddable name.
        suggestion: Option<String>,
    },
    /// `PGRST201` (300): more than one relationship matches an embed.
    #[error("Could not embed because more than one relationship was found for '{source_table}' and '{target}'")]
    AmbiguousRelationship {
        /// The table embedding.
        source_table: String,
        /// The embed as written.
        target: String,
        /// Every candidate.
        candidates: Vec<Relationship>,
    },
    /// `PGRST108` (400): a filter, order or limit addresses an embed that is not in `select`.
    #[error("'{0}' is not an embedded resource in this request")]
    NotEmbedded(String),
    /// `PGRST118` (400): ordering by a column of a to-many embed.
    #[error("A related order on '{relation}' is not possible")]
    RelatedOrderNotToOne {
        /// The table ordered.
        table: String,
        /// The embed named in the order.
        relation: String,
    },
    /// `54001` (400): a request past one of Rowbase's documented size limits (columns selected,
    /// sort keys), refused before any SQL is made; the text names the limit.
    #[error("the request is too large: {0}")]
    TooLarge(String),
    /// `PGRST119` (400): a spread of a to-many relationship.
    #[error("A spread operation on '{0}' is not possible")]
    SpreadNotToOne(String),
    /// `PGRST120` (400): an operator other than `is.null` on an embedded resource.
    #[error("Bad operator on the '{0}' embedded resource")]
    EmbedFilterOperator(String),
    /// `22P02` (400): a value that is not of its column's type.
    #[error("invalid input syntax for type {type_name}: \"{value}\"")]
    InvalidValue {
        /// The type expected.
        type_name: String,
        /// The value sent.
        value: String,
    },
    /// `22021` (400): text holding a NUL character, which PostgreSQL's text cannot store;
    /// refused on every engine so no engine keeps what another would refuse.
    #[error("invalid byte sequence for encoding \"UTF8\": 0x00")]
    NulCharacter,
    /// `42501` (403): `Prefer: delete=hard` on a soft-delete table, on a server without
    /// `--allow-hard-delete`.
    #[error("permission denied to hard-delete rows of {0}")]
    HardDeleteForbidden(String),
    /// `42501` (403, or 401 for the anonymous role): the request's role has no grant for the
    /// command on the table, or on a column it names (PostgreSQL's words).
    #[error("permission denied for {}", match column { Some(c) => format!("column {c} of table {table}"), None => format!("table {table}") })]
    PermissionDenied {
        /// The table.
        table: String,
        /// The column, when the table is granted but the column is not.
        column: Option<String>,
        /// `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
        command: &'static str,
    },
    /// `42501` (403, or 401 for the anonymous role): a read the role's row-level policies
    /// cannot govern (an as-of read of a table with policies; a many-to-many embed through a
    /// junction table with policies).
    #[error("{0}")]
    PolicyUnsupported(String),
    /// `21000` (400): a `PATCH` or `DELETE` (the verb given) without any filter, on a server
    /// without `--allow-unfiltered-writes`.
    #[error("{0} requires a WHERE clause")]
    UnfilteredWrite(&'static str),
    /// `22023` (400): an as-of read that cannot be answered (a table without an audit trail, or a
    /// query string, not supported with an instant yet).
    #[error("{0}")]
    AsOf(String),
    /// `55000` (405): a write the view does not take, refused before any SQL runs; the message
    /// is PostgreSQL's (`cannot update view "v"`).
    #[error("cannot {action} view \"{relation}\"")]
    NotWritable {
        /// The view.
        relation: String,
        /// `insert into`, `update`, `delete from`.
        action: &'static str,
        /// Why, and what would make it writable.
        reason: String,
    },
    /// `42704` (400): a `::type` cast to an unknown type.
    #[error("type \"{0}\" does not exist")]
    UnknownType(String),
    /// `PGRST204` (400): a payload key that is not a column.
    #[error("Could not find the '{column}' column of '{table}' in the schema cache")]
    UnknownPayloadColumn {
        /// The table written.
        table: String,
        /// The key sent.
        column: String,
    },
    /// `428C9` (400): a payload value for a column the engine computes (`GENERATED ALWAYS`,
    /// e.g. a full-text search column), as PostgreSQL answers it.
    #[error("cannot insert a non-DEFAULT value into column \"{column}\"")]
    GeneratedColumn {
        /// The table written.
        table: String,
        /// The generated column.
        column: String,
    },
    /// `22P02` (400): a payload value that is not of its column's type.
    #[error("invalid input syntax for type {type_name}: \"{value}\"")]
    InvalidColumnValue {
        /// The table written.
        table: String,
        /// The column.
        column: String,
        /// The type expected.
        type_name: String,
        /// The value sent.
        value: String,
    },
    /// `22001` (400): text longer than its column's declared length.
    #[error("value too long for type character varying({max})")]
    ValueTooLong {
        /// The table written.
        table: String,
        /// The column.
        column: String,
        /// The declared length.
        max: u32,
    },
    /// `42P10` (400): `on_conflict` names columns that are not a unique key.
    #[error("there is no unique or exclusion constraint matching the ON CONFLICT specification")]
    NoConflictTarget(String),
    /// `PGRST105` (405): PUT filters that are not exactly `eq` on every primary-key column.
    #[error("Filters must include all and only primary key columns with 'eq' operators")]
    PutFilters,
    /// `PGRST114` (400): `limit`/`offset` on PUT.
    #[error("limit/offset querystring parameters are not allowed for PUT")]
    PutWindow,
    /// `PGRST115` (400): a PUT body that does not match the key in the URL.
    #[error("{0}")]
    PutPayload(String),
    /// `PGRST103` (416): a negative `limit` on a write.
    #[error("Requested range not satisfiable: a limit of {0}")]
    NegativeLimit(i64),
}
