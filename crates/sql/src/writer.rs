//! The only way SQL text is built: fixed fragments, quoted identifiers, and bound values.

use std::fmt::Write;

use rowbase_catalog::DataType;
use rowbase_plan::Value;

use crate::dialect::Dialect;

/// A rendered statement: SQL text whose placeholders are bound, in order, to `params`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text.
    pub sql: String,
    /// One value per placeholder, in placeholder order.
    pub params: Vec<Value>,
}

/// Accumulates SQL text and its parameters.
pub struct Writer<'d> {
    sql: String,
    params: Vec<Value>,
    dialect: &'d dyn Dialect,
    schema: String,
    unqualified: bool,
}

impl<'d> Writer<'d> {
    /// An empty statement for `dialect`, naming tables of `schema`.
    pub fn new(dialect: &'d dyn Dialect, schema: &str) -> Self {
        Writer {
            sql: String::with_capacity(512),
            params: Vec::new(),
            dialect,
            schema: schema.to_string(),
            unqualified: false,
        }
    }

    /// Appends a table of the statement's schema, qualified as the dialect requires.
    pub fn table(&mut self, name: &str) {
        self.dialect.table_name(&mut self.sql, &self.schema, name);
    }

    /// The dialect being written.
    pub fn dialect(&self) -> &'d dyn Dialect {
        self.dialect
    }

    /// Appends a fixed SQL fragment.
    pub fn push(&mut self, fragment: &'static str) {
        self.sql.push_str(fragment);
    }

    /// Appends an identifier, quoted by the dialect.
    pub fn ident(&mut self, name: &str) {
        self.dialect.quote_ident(&mut self.sql, name);
    }

    /// Appends the alias of plan node `n` (`t0`, `t1`, ...).
    pub fn table_alias(&mut self, n: usize) {
        self.sql.push('t');
        self.number(n);
    }

    /// Appends the alias of the subquery of embed `n` (`s3`).
    pub fn subquery_alias(&mut self, n: usize) {
        self.sql.push('s');
        self.number(n);
    }

    /// Appends `n` in decimal; one digit (most aliases) without the formatting machinery.
    fn number(&mut self, n: usize) {
        match u8::try_from(n) {
            Ok(d @ 0..=9) => self.sql.push(char::from(b'0' + d)),
            _ => {
                let _ = write!(self.sql, "{n}");
            }
        }
    }

    /// Appends `t{alias}.<quoted column>` (only the quoted column once [`Writer::unqualified`]).
    pub fn column(&mut self, alias: usize, name: &str) {
        if !self.unqualified {
            self.table_alias(alias);
            self.sql.push('.');
        }
        self.ident(name);
    }

    /// Writes columns without their table's alias from now on: for a statement on one relation
    /// that takes no alias (an update of a SQLite view).
    pub fn unqualified(&mut self) {
        self.unqualified = true;
    }

    /// Appends an integer literal: digits only, so safe by construction (for `LIMIT`/`OFFSET`
    /// where a bound value would hide the row count from the engine's planner).
    pub fn integer(&mut self, n: u64) {
        let _ = write!(self.sql, "{n}");
    }

    /// Appends a placeholder bound to `value`; the engine infers its type from where it stands.
    pub fn bind(&mut self, value: Value) {
        self.params.push(value);
        self.dialect.placeholder(&mut self.sql, self.params.len(), None);
    }

    /// Appends a placeholder bound to `value` where the engine cannot infer its type (a JSON key,
    /// a row value in `VALUES`): the dialect may add a cast to `data_type`.
    pub fn bind_typed(&mut self, value: Value, data_type: DataType) {
        self.params.push(value);
        self.dialect.placeholder(&mut self.sql, self.params.len(), Some(data_type));
    }

    /// Appends a JSON key (a column's name or an alias the request chose) as a string literal
    /// when it holds none of the characters that could end or escape one in any engine's
    /// literal syntax (`'`, `\\`, NUL), whatever the engine's settings (MySQL's backslash
    /// escapes, PostgreSQL's `standard_conforming_strings`); any other key is bound as text.
    /// A literal costs the engine nothing per execution, where a bound key is copied into the
    /// statement at every run.
    pub fn key(&mut self, key: &str) {
        if key.bytes().any(|b| matches!(b, b'\'' | b'\\' | 0)) {
            self.bind_typed(Value::Text(key.to_string()), DataType::Text);
        } else {
            self.sql.reserve(key.len() + 2);
            self.sql.push('\'');
            self.sql.push_str(key);
            self.sql.push('\'');
        }
    }

    /// The statement written so far.
    pub fn finish(self) -> Statement {
        Statement { sql: self.sql, params: self.params }
    }
}
