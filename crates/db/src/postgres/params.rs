//! Parameters go to PostgreSQL as text, and JSON comes back as text. PostgreSQL infers each
//! parameter's type from where it stands and parses the text with its own input functions, so
//! `numeric` stays exact and every type the planner checked is accepted without a binary encoder
//! per type.

use std::error::Error;

use bytes::BytesMut;
use rowbase_plan::Value;
use tokio_postgres::types::{Format, FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

/// A plan value as a text-format parameter.
#[derive(Debug)]
pub(crate) struct PgParam<'a>(pub(crate) &'a Value);

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self.0 {
            Value::Null => return Ok(IsNull::Yes),
            Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Value::Real(f) => out.extend_from_slice(f.to_string().as_bytes()),
            Value::Bool(b) => out.extend_from_slice(if *b { b"t" } else { b"f" }),
            // A JSON array for an array parameter (PostgREST accepts `["a","b"]` for `text[]`)
            // becomes PostgreSQL's array literal; any other text is read by the type's input.
            Value::Text(s) if matches!(ty.kind(), Kind::Array(_)) && s.trim_start().starts_with('[') => {
                match array_literal(s) {
                    Some(literal) => out.extend_from_slice(literal.as_bytes()),
                    None => out.extend_from_slice(s.as_bytes()),
                }
            }
            // PostgreSQL's own input function reads a timestamp's zone designator (and ignores it).
            Value::Decimal(s) | Value::Text(s) | Value::Timestamp(s) => out.extend_from_slice(s.as_bytes()),
            // bytea's hex input form.
            Value::Bytes(_) => out.extend_from_slice(self.0.to_string().as_bytes()),
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

/// A JSON array (nested for more dimensions) as PostgreSQL's array literal: `["a", null, 1]`
/// is `{"a",NULL,"1"}`; objects inside stay JSON text (for `json[]`). `None` when `json` is
/// not a JSON array, so the text goes to PostgreSQL as sent (and is refused there if bad).
fn array_literal(json: &str) -> Option<String> {
    fn element(out: &mut String, value: &serde_json::Value) {
        match value {
            serde_json::Value::Null => out.push_str("NULL"),
            serde_json::Value::Array(items) => {
                out.push('{');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    element(out, item);
                }
                out.push('}');
            }
            serde_json::Value::String(s) => quoted(out, s),
            other => quoted(out, &other.to_string()),
        }
    }
    fn quoted(out: &mut String, text: &str) {
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    if !value.is_array() {
        return None;
    }
    let mut out = String::with_capacity(json.len() + 2);
    element(&mut out, &value);
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::array_literal;

    #[test]
    fn json_arrays_become_array_literals() {
        assert_eq!(array_literal(r#"["a", "b\"c", null]"#).as_deref(), Some(r#"{"a","b\"c",NULL}"#));
        assert_eq!(array_literal("[[1, 2], [3, 4]]").as_deref(), Some(r#"{{"1","2"},{"3","4"}}"#));
        assert_eq!(array_literal("[]").as_deref(), Some("{}"));
        assert_eq!(array_literal("[1,"), None);
        assert_eq!(array_literal("{}"), None);
    }
}
