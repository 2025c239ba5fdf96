//! The typed shape of a parsed request. Names are plain strings here; the planner checks them.

/// One step of a JSON path: `->key`, `->>key`, `->0`, `->>-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonStep {
    /// `true` for `->>` (the value as text), `false` for `->` (the value as JSON).
    pub as_text: bool,
    /// The object key or array index.
    pub key: JsonKey,
}

/// The operand of a JSON arrow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JsonKey {
    /// An object member, `->name`.
    Member(String),
    /// An array element, `->2`; negative counts from the end (`->-1` is the last).
    Index(i64),
}

/// A column reference with an optional JSON path: `settings->foo->>bar`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    /// The column name as written (unquoted).
    pub name: String,
    /// The JSON arrows after it, in order.
    pub json_path: Vec<JsonStep>,
}

impl Field {
    /// A plain column reference.
    pub fn column(name: impl Into<String>) -> Self {
        Field { name: name.into(), json_path: Vec::new() }
    }

    /// The key this field gets in the output when not aliased: the last JSON key, else the name
    /// (PostgREST: `settings->foo->>bar` is output as `bar`).
    pub fn output_name(&self) -> String {
        match self.json_path.last() {
            Some(JsonStep { key: JsonKey::Member(m), .. }) => m.clone(),
            Some(JsonStep { key: JsonKey::Index(_), .. }) | None => self.name.clone(),
        }
    }
}

/// One item of a `select` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SelectItem {
    /// `*`: every column of the resource.
    Star,
    /// `[alias:]field[::type]`.
    Column {
        /// The output key, when renamed.
        alias: Option<String>,
        /// The column and JSON path.
        field: Field,
        /// The `::type` cast, as written; the planner resolves it against a fixed list.
        cast: Option<String>,
    },
    /// `[alias:]relation[!hint][!inner|!left](...)` or `...relation(...)`.
    Embed(Embed),
}

/// An embedded resource in a `select` list (PostgREST "Resource Embedding").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Embed {
    /// The output key when renamed (`alias:relation(...)`); spreads have none.
    pub alias: Option<String>,
    /// The table, view, foreign-key name or column named in the request.
    pub relation: String,
    /// The disambiguation hint after `!`: a foreign-key name, a column, or a junction table.
    pub hint: Option<String>,
    /// `!inner` or `!left`, when given.
    pub join: Option<JoinKind>,
    /// `...relation(...)`: lift the columns into the parent (to-one relations).
    pub spread: bool,
    /// What to select from the embedded resource; empty means "only filter, add no key".
    pub select: Vec<SelectItem>,
}

impl Embed {
    /// The key under which filters, orders and limits address this embed (`alias.col=...` or
    /// `relation.col=...`), and under which it appears in the output.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.relation)
    }
}

/// `!inner` / `!left` on an embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// Parents without a matching embedded row are dropped.
    Inner,
    /// Parents are kept; the embed is `null` or `[]` (the default).
    Left,
}

/// A comparison operator of a filter (PostgREST "Operators" table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `eq`: `=`.
    Eq,
    /// `neq`: `<>`.
    Neq,
    /// `gt`: `>`.
    Gt,
    /// `gte`: `>=`.
    Gte,
    /// `lt`: `<`.
    Lt,
    /// `lte`: `<=`.
    Lte,
    /// `like`, case-sensitive, `*` or `%` wildcards.
    Like,
    /// `ilike`, case-insensitive.
    Ilike,
    /// `match`: POSIX-style regular expression, case-sensitive.
    Match,
    /// `imatch`: regular expression, case-insensitive.
    Imatch,
    /// `isdistinct`: `IS DISTINCT FROM`.
    IsDistinct,
    /// `cs`: contains (`@>`).
    Contains,
    /// `cd`: contained in (`<@`).
    ContainedIn,
    /// `ov`: overlaps (`&&`).
    Overlaps,
    /// `sl`, `sr`, `nxr`, `nxl`, `adj`: range operators.
    Range(RangeOperator),
}

/// The PostgreSQL range operators PostgREST exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeOperator {
    /// `sl`: strictly left of.
    StrictlyLeft,
    /// `sr`: strictly right of.
    StrictlyRight,
    /// `nxr`: does not extend to the right of.
    NotExtendRight,
    /// `nxl`: does not extend to the left of.
    NotExtendLeft,
    /// `adj`: adjacent to.
    Adjacent,
}

impl Operator {
    /// The operator's name in the query string (`eq`, `ilike`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Neq => "neq",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Like => "like",
            Operator::Ilike => "ilike",
            Operator::Match => "match",
            Operator::Imatch => "imatch",
            Operator::IsDistinct => "isdistinct",
            Operator::Contains => "cs",
            Operator::ContainedIn => "cd",
            Operator::Overlaps => "ov",
            Operator::Range(RangeOperator::StrictlyLeft) => "sl",
            Operator::Range(RangeOperator::StrictlyRight) => "sr",
            Operator::Range(RangeOperator::NotExtendRight) => "nxr",
            Operator::Range(RangeOperator::NotExtendLeft) => "nxl",
            Operator::Range(RangeOperator::Adjacent) => "adj",
        }
    }
}

/// `(any)` / `(all)` after an operator: compare against each element of a `{a,b}` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// True when any element matches.
    Any,
    /// True when every element matches.
    All,
}

/// The right-hand side of `is.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsValue {
    /// `is.null`.
    Null,
    /// `is.not_null`.
    NotNull,
    /// `is.true`.
    True,
    /// `is.false`.
    False,
    /// `is.unknown`: a boolean that is null.
    Unknown,
}

/// The full-text search operators (`fts`, `plfts`, `phfts`, `wfts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FtsKind {
    /// `fts`: `to_tsquery`.
    Fts,
    /// `plfts`: `plainto_tsquery`.
    Plain,
    /// `phfts`: `phraseto_tsquery`.
    Phrase,
    /// `wfts`: `websearch_to_tsquery`.
    Websearch,
}

/// What a filter tests its field against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Predicate {
    /// `op.value`: the value is the raw text after the first `op.`.
    Compare {
        /// The operator.
        op: Operator,
        /// The value as text (bound as a parameter after type checking).
        value: String,
    },
    /// `op(any).{a,b}` / `op(all).{a,b}`.
    Quantified {
        /// The operator.
        op: Operator,
        /// Any or all.
        quantifier: Quantifier,
        /// The list elements.
        values: Vec<String>,
    },
    /// `in.(a,b,"c,d")`; `in.()` is the empty set.
    In(Vec<String>),
    /// `is.null` and friends.
    Is(IsValue),
    /// `fts(lang).query` and friends.
    FullText {
        /// Which tsquery parser.
        kind: FtsKind,
        /// The text-search configuration, e.g. `english`.
        language: Option<String>,
        /// The query text.
        query: String,
    },
}

/// `field=[not.]predicate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter {
    /// The column (or, for `is.null`, possibly an embed) tested.
    pub field: Field,
    /// `not.` prefix.
    pub negated: bool,
    /// The test.
    pub predicate: Predicate,
}

/// `and` / `or`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoolOp {
    /// All must hold.
    And,
    /// One must hold.
    Or,
}

/// A boolean tree of filters, from `or=(...)`/`and=(...)` or a single filter parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    /// A single filter.
    Filter(Filter),
    /// `[not.]and(...)` / `[not.]or(...)`.
    Group {
        /// And or or.
        op: BoolOp,
        /// `not.` prefix.
        negated: bool,
        /// The children, at any depth.
        conditions: Vec<Condition>,
    },
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// Where nulls sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nulls {
    /// `nullsfirst`.
    First,
    /// `nullslast`.
    Last,
}

/// What an `order` term sorts by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderTarget {
    /// A column of the resource itself.
    Field(Field),
    /// `relation(field)`: a column of a to-one embedded resource.
    Related {
        /// The embed's key (alias or relation name).
        relation: String,
        /// The column.
        field: Field,
    },
}

/// One term of `order=`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderTerm {
    /// The sort key.
    pub target: OrderTarget,
    /// `asc` / `desc`; absent means ascending.
    pub direction: Option<Direction>,
    /// `nullsfirst` / `nullslast`; absent means the PostgreSQL default (last for asc).
    pub nulls: Option<Nulls>,
}

/// A value that applies at one level of the embedding tree: the empty path is the root,
/// `["Track"]` is the `Track` embed, `["Track", "Genre"]` is nested inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scoped<T> {
    /// The embed keys from the root down.
    pub path: Vec<String>,
    /// The value.
    pub value: T,
}

/// Everything the query string says, typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct QueryParams {
    /// `select=`; `None` when absent (all columns).
    pub select: Option<Vec<SelectItem>>,
    /// Filters and boolean trees, each at its level; repeated ones are ANDed.
    pub conditions: Vec<Scoped<Condition>>,
    /// `order=` per level.
    pub order: Vec<Scoped<Vec<OrderTerm>>>,
    /// `limit=` per level. May be negative, which the caller rejects with 416.
    pub limit: Vec<Scoped<i64>>,
    /// `offset=` per level (negative or non-numeric offsets are ignored, as PostgREST does).
    pub offset: Vec<Scoped<u64>>,
    /// `columns=`: which payload keys a write uses.
    pub columns: Option<Vec<String>>,
    /// `on_conflict=`: the upsert target.
    pub on_conflict: Option<Vec<String>>,
}

impl QueryParams {
    /// The root's `limit=` (the last one when repeated); `None` when absent.
    pub fn root_limit(&self) -> Option<i64> {
        self.limit.iter().rev().find(|s| s.path.is_empty()).map(|s| s.value)
    }

    /// The root's `offset=` (the last one when repeated); `None` when absent.
    pub fn root_offset(&self) -> Option<u64> {
        self.offset.iter().rev().find(|s| s.path.is_empty()).map(|s| s.value)
    }
}

/// Which rows of a soft-delete table (one with a nullable `deleted_at` timestamp) a request
/// reads, updates or deletes: by default only live ones (docs/soft-delete). A filter on
/// `deleted_at` at a level replaces the default there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DeletedRows {
    /// Rows whose `deleted_at` is NULL (the default).
    #[default]
    Live,
    /// Every row (`Prefer: deleted=include`).
    Include,
    /// Only deleted rows (`Prefer: deleted=only`), e.g. to restore them.
    Only,
}

/// The claim path of a filter value written `{jwt.path}` (`{jwt.sub}`,
/// `{jwt.app_metadata.team}`): how row-level policies in the schema file refer to the request's
/// token (docs/schema.md, "Access control"). `None` for any other text; a client's own filters
/// never read it this way.
pub fn claim_reference(text: &str) -> Option<Vec<&str>> {
    let inner = text.trim().strip_prefix("{jwt.")?.strip_suffix('}')?;
    let path: Vec<&str> = inner.split('.').collect();
    let segment = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    path.iter().all(segment).then_some(path)
}
