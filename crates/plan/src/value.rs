//! Typed values: every filter value is checked against its column's type before any SQL runs,
//! and travels to the engine as a bound parameter.

use rowbase_catalog::DataType;

use crate::error::PlanError;

/// A value bound as a statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// A binary float.
    Real(f64),
    /// An exact decimal, kept as its validated text so no precision is lost.
    Decimal(String),
    /// A boolean.
    Bool(bool),
    /// Text (also dates, times, UUIDs and JSON paths, which engines compare as text or cast).
    Text(String),
    /// A value for a `timestamp` (without time zone) column, kept as the client's text, e.g.
    /// `2026-11-21T11:13:20.123Z` from JavaScript's `toISOString()`. PostgreSQL's `timestamp`
    /// input ignores a zone designator; engines whose parsers reject one get the text without it
    /// (see each engine's parameter binding).
    Timestamp(String),
}

/// The value as the PostgREST dialect writes it in a URL or a message: `null`, the number,
/// `true`/`false`, text (decimals and timestamps too) as it is.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Integer(n) => write!(f, "{n}"),
            Value::Real(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Decimal(s) | Value::Text(s) | Value::Timestamp(s) => f.write_str(s),
        }
    }
}

/// Checks `text` against a column type and converts it (PostgreSQL's input rules for the common
/// spellings). Errors with `22P02` ("invalid input syntax for type integer: \"abc\"").
pub fn coerce(text: &str, data_type: DataType) -> Result<Value, PlanError> {
    let invalid =
        |type_name: &str| PlanError::InvalidValue { type_name: type_name.to_string(), value: text.to_string() };
    let trimmed = text.trim();
    Ok(match data_type {
        DataType::Integer => Value::Integer(trimmed.parse().map_err(|_| invalid("integer"))?),
        DataType::Real => Value::Real(trimmed.parse().map_err(|_| invalid("double precision"))?),
        DataType::Decimal => {
            if is_decimal(trimmed) {
                Value::Decimal(trimmed.to_string())
            } else {
                return Err(invalid("numeric"));
            }
        }
        DataType::Boolean => Value::Bool(match trimmed.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => true,
            "false" | "f" | "no" | "n" | "off" | "0" => false,
            _ => return Err(invalid("boolean")),
        }),
        DataType::Uuid => {
            if is_uuid(trimmed) {
                Value::Text(trimmed.to_ascii_lowercase())
            } else {
                return Err(invalid("uuid"));
            }
        }
        DataType::Timestamp => Value::Timestamp(text.to_string()),
        DataType::Text
        | DataType::Date
        | DataType::TimestampTz
        | DataType::Time
        | DataType::Json
        | DataType::Bytes
        | DataType::Other => Value::Text(text.to_string()),
    })
}

/// `[+-]digits[.digits][e[+-]digits]`, or `.digits`.
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

fn is_uuid(s: &str) -> bool {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_checked() {
        assert_eq!(coerce(" 42", DataType::Integer).ok(), Some(Value::Integer(42)));
        assert!(matches!(coerce("4x", DataType::Integer), Err(PlanError::InvalidValue { .. })));
        assert!(matches!(coerce("2.5", DataType::Integer), Err(PlanError::InvalidValue { .. })));
    }

    #[test]
    fn decimals_keep_their_text() {
        assert_eq!(coerce("0.99", DataType::Decimal).ok(), Some(Value::Decimal("0.99".into())));
        assert_eq!(coerce("-1e3", DataType::Decimal).ok(), Some(Value::Decimal("-1e3".into())));
        for bad in ["", ".", "1..2", "1e", "abc", "1;drop"] {
            assert!(coerce(bad, DataType::Decimal).is_err(), "{bad}");
        }
    }

    #[test]
    fn booleans_accept_postgres_spellings() {
        assert_eq!(coerce("TRUE", DataType::Boolean).ok(), Some(Value::Bool(true)));
        assert_eq!(coerce("off", DataType::Boolean).ok(), Some(Value::Bool(false)));
        assert!(coerce("maybe", DataType::Boolean).is_err());
    }
}
