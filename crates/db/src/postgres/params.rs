//! Parameters go to PostgreSQL as text, and JSON comes back as text. PostgreSQL infers each
//! parameter's type from where it stands and parses the text with its own input functions, so
//! `numeric` stays exact and every type the planner checked is accepted without a binary encoder
//! per type.

use std::error::Error;

use bytes::BytesMut;
use rowbase_plan::Value;
use tokio_postgres::types::{Format, FromSql, IsNull, ToSql, Type, to_sql_checked};

/// A plan value as a text-format parameter.
#[derive(Debug)]
pub(crate) struct PgParam<'a>(pub(crate) &'a Value);

impl ToSql for PgParam<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self.0 {
            Value::Null => return Ok(IsNull::Yes),
            Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Value::Real(f) => out.extend_from_slice(f.to_string().as_bytes()),
            Value::Bool(b) => out.extend_from_slice(if *b { b"t" } else { b"f" }),
            // PostgreSQL's own input function reads a timestamp's zone designator (and ignores it).
            Value::Decimal(s) | Value::Text(s) | Value::Timestamp(s) => out.extend_from_slice(s.as_bytes()),
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// The parameters of a statement, as the driver takes them.
pub(crate) fn params(values: &[Value]) -> Vec<PgParam<'_>> {
    values.iter().map(PgParam).collect()
}

/// References for `query`.
pub(crate) fn refs<'a>(params: &'a [PgParam<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A `json`, `jsonb` or `text` result column as its text.
pub(crate) struct JsonText(pub(crate) String);

impl<'a> FromSql<'a> for JsonText {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        // jsonb's binary form is a version byte followed by the text.
        let text = if *ty == Type::JSONB { raw.get(1..).unwrap_or_default() } else { raw };
        Ok(JsonText(String::from_utf8(text.to_vec())?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB || *ty == Type::TEXT
    }
}
