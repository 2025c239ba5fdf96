//! The plan: what to read, with every name resolved. Shapes mirror the SQL the renderer writes:
//! one [`Node`] per table reference, embeds as nested nodes joined to their parent.

use rowbase_catalog::{DataType, Name};
use rowbase_request::{Direction, FtsKind, IsValue, JsonStep, Nulls, Operator, Quantifier};

use crate::value::Value;

/// A planned read: one SQL statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPlan {
    /// The schema of every table the statement names (a request works in one schema).
    pub schema: String,
    /// The root resource.
    pub root: Node,
    /// Whether the total number of matching rows (before the root's window) is wanted.
    pub count: bool,
}

/// One table reference and what to take from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The table or view, a catalog name.
    pub table: String,
    /// A number unique within the statement, for the SQL alias (`t0`, `t1`, ...).
    pub alias: usize,
    /// The keys of the output object, in order.
    pub outputs: Vec<Output>,
    /// Conditions, ANDed.
    pub filters: Vec<Expr>,
    /// Sort keys, in order.
    pub order: Vec<OrderBy>,
    /// At most this many rows (for to-many embeds and the root).
    pub limit: Option<u64>,
    /// Skip this many rows.
    pub offset: u64,
    /// Whether the first sort key is the leading column of one of the table's indexes (its
    /// primary key included): the engine can walk the index and stop at the limit, building
    /// the JSON of those rows only, so the renderer need not pick the rows first.
    pub indexed_order: bool,
}

/// One key of the output object.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A column value.
    Column {
        /// The output key (alias or column name or last JSON key).
        key: Name,
        /// The value.
        column: ColumnRef,
    },
    /// A related resource.
    Embed {
        /// The key in the output and in embed paths (alias or relation name as written).
        key: Name,
        /// What is embedded and how it joins.
        embed: Embed,
        /// Nested object/array, spread into the parent, or only filtering.
        mode: EmbedMode,
    },
}

/// How an embed appears in the parent object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedMode {
    /// Under its key: an object (to-one, or null) or an array (to-many).
    Nested,
    /// `...rel(cols)`: its outputs become keys of the parent (to-one only).
    Spread,
    /// `rel()`: takes part in filtering (`!inner`, `rel=not.is.null`) but adds no key.
    Hidden,
}

/// A column of a node, possibly followed by a JSON path and a cast.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRef {
    /// The node's alias number.
    pub alias: usize,
    /// The catalog column name (shared with the catalog).
    pub column: Name,
    /// Its neutral type.
    pub data_type: DataType,
    /// Whether the expression can be NULL (a nullable column, or anything behind a JSON arrow).
    pub nullable: bool,
    /// JSON arrows applied to it.
    pub json_path: Vec<JsonStep>,
    /// A cast applied last (select only).
    pub cast: Option<Cast>,
}

impl ColumnRef {
    /// The type of the expression after JSON arrows and cast: what the output value is.
    pub fn output_type(&self) -> DataType {
        if let Some(cast) = self.cast {
            return cast.data_type();
        }
        match self.json_path.last() {
            Some(step) if step.as_text => DataType::Text,
            Some(_) => DataType::Json,
            None => self.data_type,
        }
    }
}

/// The casts `::type` may name, resolved from PostgreSQL's type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cast {
    /// `text`, `varchar`, `char`.
    Text,
    /// `int`, `integer`, `bigint`, `smallint`, `int2/4/8`.
    Integer,
    /// `real`, `float4`, `float8`, `double precision`.
    Real,
    /// `numeric`, `decimal`.
    Decimal,
    /// `bool`, `boolean`.
    Boolean,
    /// `json`, `jsonb`.
    Json,
}

impl Cast {
    /// Resolves a type name; `None` for a type Rowbase does not know.
    pub fn from_name(name: &str) -> Option<Cast> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "text" | "varchar" | "char" | "character varying" | "character" | "name" => Cast::Text,
            "int" | "integer" | "int4" | "bigint" | "int8" | "smallint" | "int2" => Cast::Integer,
            "real" | "float4" | "float8" | "float" | "double precision" => Cast::Real,
            "numeric" | "decimal" => Cast::Decimal,
            "bool" | "boolean" => Cast::Boolean,
            "json" | "jsonb" => Cast::Json,
            _ => return None,
        })
    }

    /// The neutral type of the cast's result.
    pub fn data_type(self) -> DataType {
        match self {
            Cast::Text => DataType::Text,
            Cast::Integer => DataType::Integer,
            Cast::Real => DataType::Real,
            Cast::Decimal => DataType::Decimal,
            Cast::Boolean => DataType::Boolean,
            Cast::Json => DataType::Json,
        }
    }
}

/// An embedded resource and how it joins its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct Embed {
    /// The embedded rows.
    pub node: Node,
    /// The join to the parent.
    pub join: Join,
    /// At most one row per parent (object or null), else an array.
    pub to_one: bool,
    /// `!inner`: parents without a match are dropped.
    pub inner: bool,
}

/// The join condition between a parent node and an embedded node.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// The parent's alias number.
    pub parent_alias: usize,
    /// Direct pairs `(parent column, child column)`; empty when through a junction.
    pub pairs: Vec<(String, String)>,
    /// For many-to-many.
    pub junction: Option<Box<JunctionJoin>>,
}

/// The junction table of a many-to-many embed.
#[derive(Debug, Clone, PartialEq)]
pub struct JunctionJoin {
    /// The junction table, a catalog name.
    pub table: String,
    /// Its alias number.
    pub alias: usize,
    /// Pairs `(parent column, junction column)`.
    pub parent_pairs: Vec<(String, String)>,
    /// Pairs `(junction column, child column)`.
    pub child_pairs: Vec<(String, String)>,
    /// Conditions on the junction's rows (its `SELECT` policies), ANDed.
    pub filters: Vec<Expr>,
}

/// Comparison operators with one right-hand value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`.
    Eq,
    /// `<>`.
    Neq,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `IS DISTINCT FROM` (null-safe inequality).
    IsDistinct,
}

/// Pattern matching operators; the pattern is always text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternOp {
    /// `like`: `%` and `_` wildcards, case-sensitive, `\` escapes.
    Like,
    /// `ilike`: as `like`, case-insensitive.
    Ilike,
    /// `match`: regular expression.
    Match,
    /// `imatch`: regular expression, case-insensitive.
    Imatch,
}

/// A boolean condition on the rows of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All hold (empty: true).
    And(Vec<Expr>),
    /// One holds (empty: false).
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `column op value`.
    Compare {
        /// Left operand.
        left: ColumnRef,
        /// Operator.
        op: CompareOp,
        /// Right operand.
        right: Value,
    },
    /// `column op ANY/ALL (values)`.
    Quantified {
        /// Left operand.
        left: ColumnRef,
        /// Comparison or pattern operator.
        op: QuantifiedOp,
        /// Any or all.
        quantifier: Quantifier,
        /// The list.
        values: Vec<Value>,
    },
    /// `column LIKE/ILIKE/~/~* pattern`.
    Pattern {
        /// Left operand.
        left: ColumnRef,
        /// Which matcher.
        op: PatternOp,
        /// The pattern, `*` already turned into `%` for like/ilike.
        pattern: String,
    },
    /// `column IN (values)`; an empty list is false.
    In {
        /// Left operand.
        left: ColumnRef,
        /// The values.
        values: Vec<Value>,
    },
    /// `column IS NULL / NOT NULL / TRUE / FALSE / UNKNOWN`.
    Is {
        /// Left operand.
        left: ColumnRef,
        /// What it is tested against.
        value: IsValue,
    },
    /// Full-text search (rendered by dialects that support it).
    FullText {
        /// The searched column.
        left: ColumnRef,
        /// Which tsquery parser.
        kind: FtsKind,
        /// The configuration, e.g. `english`.
        language: Option<String>,
        /// The query text.
        query: String,
        /// The column's full-text index, from the catalog (`None`: the column has none).
        index: Option<rowbase_catalog::FullTextIndex>,
    },
    /// An operator only some engines have (`cs`, `cd`, `ov`, range operators).
    Special {
        /// Left operand.
        left: ColumnRef,
        /// The operator.
        op: Operator,
        /// The operand as text.
        value: String,
    },
    /// `EXISTS (embedded rows)`: `!inner` embeds and `rel=not.is.null`; `NOT EXISTS` for
    /// `rel=is.null`.
    Exists(Box<Embed>),
    /// The node's row key is among the keys `query` selects: a limited write
    /// (`PATCH`/`DELETE` with `limit`/`offset`, in `query`'s order).
    KeyInQuery {
        /// The outer node's alias number.
        alias: usize,
        /// The key columns (or the engine's row id).
        key: RowKey,
        /// The rows to pick from: the same table, with the write's filters, order and window.
        query: Box<Node>,
    },
    /// The node's row key is one of `rows` (the rows a write touched).
    KeyIn {
        /// The node's alias number.
        alias: usize,
        /// The key columns (or the engine's row id).
        key: RowKey,
        /// One value per key column per row.
        rows: Vec<Vec<Value>>,
    },
}

/// The operator of a quantified comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantifiedOp {
    /// A comparison.
    Compare(CompareOp),
    /// A pattern match.
    Pattern(PatternOp),
}

/// One sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// What is sorted by.
    pub key: OrderKey,
    /// Direction (ascending when absent).
    pub direction: Option<Direction>,
    /// Nulls placement (the engine-neutral default is PostgreSQL's: last when ascending).
    pub nulls: Option<Nulls>,
}

/// A sort key.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderKey {
    /// A column of the node itself.
    Column(ColumnRef),
    /// A column of a to-one embed of the node.
    Related {
        /// The embed (joined as a scalar subquery).
        embed: Box<Embed>,
        /// The column of the embedded node.
        column: ColumnRef,
    },
}

/// How the rows a write touched are identified, to shape its representation and `Location`.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKey {
    /// The primary-key columns and their types.
    Columns(Vec<(String, DataType)>),
    /// The engine's own row identifier (SQLite's `rowid`), for tables without a primary key.
    EngineRowId,
}

/// A planned write: the mutation, and how to read back what it touched.
#[derive(Debug, Clone, PartialEq)]
pub struct WritePlan {
    /// The statement(s) that change rows.
    pub mutation: Mutation,
    /// How affected rows are identified.
    pub key: RowKey,
    /// The read that shapes the representation (`select=`, embeds, embedded filters and order).
    /// For inserts and updates its root filters are replaced by "key in the affected keys"; for
    /// deletes it runs, unchanged, before the rows go.
    pub representation: ReadPlan,
    /// Whether the relation written is a view (some engines write views differently).
    pub view: bool,
    /// The role's `SELECT` policies on the written table: a touched row appears in the
    /// representation only if it meets them (kept when the representation's root filters are
    /// replaced by the touched keys). Empty without policies.
    pub visible: Vec<Expr>,
    /// What the role's row-level policies ask of the rows the write meets and makes.
    pub checks: RowChecks,
}

/// Row-level policy checks of a write (PostgreSQL's `WITH CHECK`, and `USING` on the rows an
/// upsert finds in its way), run in the write's transaction; a failure rolls it back with
/// `42501`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowChecks {
    /// The rows an upsert would change (their conflict target matched) must all satisfy this.
    pub existing: Option<Expr>,
    /// Every row the write inserted or changed must satisfy this afterwards.
    pub written: Option<Expr>,
    /// How many filters (0 or 1, the last) an update's or delete's `USING` policy added to its
    /// filters, after the [`WritePlan::visible`] ones: not the request's own.
    pub using: usize,
}

impl Node {
    /// A node of `table` at alias 0 with nothing selected, filtered or ordered.
    pub fn of(table: &rowbase_catalog::Table) -> Node {
        Node::filtered(&table.name, Vec::new())
    }

    /// The rows of the table named `table` (alias 0) that meet `filters`, nothing selected or
    /// ordered.
    pub fn filtered(table: &str, filters: Vec<Expr>) -> Node {
        Node {
            table: table.to_string(),
            alias: 0,
            outputs: Vec::new(),
            filters,
            order: Vec::new(),
            limit: None,
            offset: 0,
            indexed_order: false,
        }
    }
}

/// What a write does.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// `INSERT`, possibly an upsert.
    Insert(InsertPlan),
    /// `UPDATE ... SET ... WHERE ...`.
    Update {
        /// The table's schema.
        schema: String,
        /// The table.
        table: String,
        /// Column assignments, typed.
        set: Vec<(String, Value)>,
        /// A column set to the time of the statement (a soft delete's `deleted_at`).
        stamp: Option<String>,
        /// The root filters (alias 0), ANDed; empty means every row.
        filters: Vec<Expr>,
    },
    /// `DELETE ... WHERE ...`.
    Delete {
        /// The table's schema.
        schema: String,
        /// The table.
        table: String,
        /// The root filters (alias 0), ANDed; empty means every row.
        filters: Vec<Expr>,
    },
}

/// Rows to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertPlan {
    /// The table's schema.
    pub schema: String,
    /// The table.
    pub table: String,
    /// The columns written, in order.
    pub columns: Vec<String>,
    /// The neutral type of each column of `columns`, in the same order (for engines that must
    /// be told a parameter's type where it is compared with a key, e.g. PostgreSQL's `VALUES`).
    pub column_types: Vec<DataType>,
    /// One value per column per row; `None` takes the column's default.
    pub rows: Vec<Vec<Option<Value>>>,
    /// `ON CONFLICT`, for upserts.
    pub conflict: Option<Conflict>,
}

impl InsertPlan {
    /// The type of column `index` of [`InsertPlan::columns`] (`Other` past the end).
    pub fn column_type(&self, index: usize) -> DataType {
        self.column_types.get(index).copied().unwrap_or(DataType::Other)
    }

    /// The filters (on alias 0) that find the existing rows this upsert's rows conflict with:
    /// their conflict target's values, rows leaving a target column to its default left out; a
    /// soft-delete key's `rowbase_alive`, computed and never sent, stands for live rows only.
    /// `None` without a conflict target, or when a target column is not written.
    pub fn conflicting(&self) -> Option<Vec<Expr>> {
        let conflict = self.conflict.as_ref()?;
        let alive = conflict.target.iter().any(|t| t == rowbase_catalog::ALIVE_COLUMN);
        let target: Vec<&String> = conflict.target.iter().filter(|t| *t != rowbase_catalog::ALIVE_COLUMN).collect();
        let positions: Vec<usize> =
            target.iter().map(|t| self.columns.iter().position(|c| c == *t)).collect::<Option<_>>()?;
        let rows: Vec<Vec<Value>> = self
            .rows
            .iter()
            .filter_map(|row| positions.iter().map(|&p| row[p].clone()).collect::<Option<Vec<_>>>())
            .collect();
        let key =
            RowKey::Columns(target.iter().zip(&positions).map(|(t, &p)| ((*t).clone(), self.column_type(p))).collect());
        let mut filters = vec![Expr::KeyIn { alias: 0, key, rows }];
        if alive {
            let left = ColumnRef {
                alias: 0,
                column: Name::from(rowbase_catalog::ALIVE_COLUMN),
                data_type: DataType::Integer,
                nullable: true,
                json_path: Vec::new(),
                cast: None,
            };
            filters.push(Expr::Is { left, value: IsValue::NotNull });
        }
        Some(filters)
    }
}

/// The `ON CONFLICT` of an upsert.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The unique columns that detect a duplicate.
    pub target: Vec<String>,
    /// What happens to the existing row.
    pub action: ConflictAction,
}

/// `DO NOTHING` or `DO UPDATE`.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictAction {
    /// Keep the existing row (`resolution=ignore-duplicates`); it is not returned.
    Nothing,
    /// Set these columns from the incoming row (`resolution=merge-duplicates`); the row is
    /// returned even when the list is empty.
    Update(Vec<String>),
}
