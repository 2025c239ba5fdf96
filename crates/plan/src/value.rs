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
    /// Bytes for a `bytea`/`BLOB`/`VARBINARY` column, from PostgreSQL's hex form `\x0102ff`
    /// (the form reads print them in) or plain text (its UTF-8 bytes). Bound as bytes on every
    /// engine, so a round trip gives the same bytes back.
    Bytes(Vec<u8>),
}

impl Value {
    /// A total order for sorting rows by key: NULL, booleans, numbers (integers, floats and
    /// decimals compared by value), text and timestamps (by their text), bytes. Any consistent
    /// order serves: what matters is that every writer takes keys in the same one.
    pub fn total_cmp(&self, other: &Value) -> std::cmp::Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Integer(_) | Value::Real(_) | Value::Decimal(_) => 2,
                Value::Text(_) | Value::Timestamp(_) => 3,
                Value::Bytes(_) => 4,
            }
        }
        #[allow(clippy::cast_precision_loss)]
        fn number(v: &Value) -> f64 {
            match v {
                Value::Integer(i) => *i as f64,
                Value::Real(f) => *f,
                Value::Decimal(d) => d.parse().unwrap_or(f64::NAN),
                _ => f64::NAN,
            }
        }
        match (self, other) {
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Text(a) | Value::Timestamp(a), Value::Text(b) | Value::Timestamp(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            (a, b) if rank(a) == 2 && rank(b) == 2 => number(a).total_cmp(&number(b)),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
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
            Value::Bytes(b) => {
                f.write_str("\\x")?;
                b.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
        }
    }
}

/// Checks `text` against a column type and converts it (PostgreSQL's input rules for the common
/// spellings). Errors with `22P02` ("invalid input syntax for type integer: \"abc\"").
pub fn coerce(text: &str, data_type: DataType) -> Result<Value, PlanError> {
    let invalid =
        |type_name: &str| PlanError::InvalidValue { type_name: type_name.to_string(), value: text.to_string() };
    if text.contains('\0') && data_type != DataType::Bytes {
        return Err(PlanError::NulCharacter);
    }
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
        DataType::Timestamp => {
            check_datetime(trimmed, Temporal::Timestamp).ok_or_else(|| invalid("timestamp without time zone"))?;
            Value::Timestamp(text.to_string())
        }
        DataType::TimestampTz => {
            check_datetime(trimmed, Temporal::Timestamp).ok_or_else(|| invalid("timestamp with time zone"))?;
            Value::Text(text.to_string())
        }
        DataType::Date => {
            check_datetime(trimmed, Temporal::Date).ok_or_else(|| invalid("date"))?;
            Value::Text(text.to_string())
        }
        DataType::Time => {
            check_datetime(trimmed, Temporal::Time).ok_or_else(|| invalid("time without time zone"))?;
            Value::Text(text.to_string())
        }
        DataType::Bytes => Value::Bytes(bytes(text).ok_or_else(|| invalid("bytea"))?),
        // An array's literal (`{a,b}`), as PostgREST's filters write it.
        DataType::Text | DataType::Json | DataType::Other | DataType::Array => Value::Text(text.to_string()),
        // Compared as stored: a number where the text reads as one (SQLite's NUMERIC rule).
        DataType::Untyped => match trimmed.parse::<i64>() {
            Ok(n) => Value::Integer(n),
            Err(_) if is_decimal(trimmed) => Value::Real(trimmed.parse().map_err(|_| invalid("numeric"))?),
            Err(_) => Value::Text(text.to_string()),
        },
    })
}

/// The SQLSTATE of a value refused for `type_name` (the name in [`PlanError::InvalidValue`]):
/// `22007` (invalid_datetime_format) for dates and times, as PostgreSQL reports them, else
/// `22P02` (invalid_text_representation).
pub fn invalid_input_code(type_name: &str) -> &'static str {
    if type_name.starts_with("date") || type_name.starts_with("time") { "22007" } else { "22P02" }
}

/// Which kind of date/time text [`check_datetime`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Temporal {
    Date,
    Timestamp,
    Time,
}

/// Checks ISO 8601 date/time text, the forms every engine reads alike: `YYYY-MM-DD`, then for
/// timestamps an optional `T` (or space) and `HH:MM[:SS[.fraction]]`, then an optional zone
/// (`Z`, `+HH`, `+HH:MM`, `+HHMM`); times alone are `HH:MM[:SS[.fraction]]` and a zone. The
/// calendar is checked (no February 30th). PostgreSQL's words (`now`, `infinity`) are not read:
/// SQLite and MySQL have no such values.
fn check_datetime(text: &str, kind: Temporal) -> Option<()> {
    let (date, time) = match kind {
        Temporal::Date => (Some(text), None),
        Temporal::Time => (None, Some(text)),
        Temporal::Timestamp => match text.get(10..11) {
            Some("T" | "t" | " ") => (text.get(..10), text.get(11..)),
            _ => (Some(text), None),
        },
    };
    if let Some(date) = date {
        let bytes = date.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        date.parse::<jiff::civil::Date>().ok()?;
    }
    if let Some(time) = time {
        let time = strip_zone(time.trim_end())?;
        let bytes = time.as_bytes();
        if bytes.len() < 5 || bytes[2] != b':' || !(bytes.len() == 5 || bytes[5] == b':') {
            return None;
        }
        time.parse::<jiff::civil::Time>().ok()?;
    }
    Some(())
}

/// A timestamp's text without the zone designator after its time of day (`Z`, `+05:30`,
/// `-0800`, `+01`), as PostgreSQL's `timestamp` input ignores it (`...T11:13:20.123Z` is
/// `...T11:13:20.123`); text without one, or not a timestamp, comes back as it is.
pub fn without_zone(text: &str) -> &str {
    let trimmed = text.trim_end();
    match (trimmed.get(10..11), trimmed.get(11..)) {
        (Some("T" | "t" | " "), Some(time)) => strip_zone(time).map_or(text, |time| &trimmed[..11 + time.len()]),
        _ => text,
    }
}

/// `time` without its zone designator (`Z`, `±HH`, `±HH:MM`, `±HHMM`); `None` for a malformed
/// zone.
fn strip_zone(time: &str) -> Option<&str> {
    if let Some(rest) = time.strip_suffix(['Z', 'z']) {
        return Some(rest.trim_end());
    }
    let Some(at) = time.rfind(['+', '-']) else { return Some(time) };
    let zone = &time[at + 1..];
    let digits: String = zone.chars().filter(|c| *c != ':').collect();
    let well_formed = matches!(zone.len(), 2 | 4 | 5)
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (zone.len() != 5 || zone.as_bytes()[2] == b':')
        && (digits.len() == 2 || digits.len() == 4);
    let hours: u32 = digits.get(..2)?.parse().ok()?;
    let minutes: u32 = digits.get(2..).filter(|m| !m.is_empty()).map_or(Some(0), |m| m.parse().ok())?;
    (well_formed && hours <= 15 && minutes < 60).then(|| time[..at].trim_end())
}

/// The bytes `text` stands for: `\x` and pairs of hex digits (PostgreSQL's hex format, as reads
/// print bytes), or text without backslashes as its UTF-8 bytes. `None` for anything else (an
/// odd or non-hex digit, a backslash PostgreSQL's escape format would read differently).
fn bytes(text: &str) -> Option<Vec<u8>> {
    if let Some(hex) = text.strip_prefix("\\x") {
        let hex = hex.as_bytes();
        if hex.len() % 2 != 0 {
            return None;
        }
        let digit = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
        return hex.chunks(2).map(|pair| Some(digit(pair[0])? * 16 + digit(pair[1])?)).collect();
    }
    (!text.contains('\\')).then(|| text.as_bytes().to_vec())
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
    fn dates_and_times_are_checked() {
        for good in [
            "2005-05-24",
            "2005-05-24T23:00:00",
            "2005-05-24 23:00",
            "2026-11-21T11:13:20.123Z",
            "2026-11-21T16:43:20.5+05:30",
            "2026-11-21 16:43:20-0800",
            "2026-11-21T16:43:20+01",
        ] {
            assert!(coerce(good, DataType::TimestampTz).is_ok(), "{good}");
            assert!(coerce(good, DataType::Timestamp).is_ok(), "{good}");
        }
        for bad in ["notadate", "2005-02-30", "2005-05-24T25:00", "2005-5-24", "2005-05-24T23:00+99", "now", ""] {
            let err = coerce(bad, DataType::Timestamp).unwrap_err();
            assert!(
                matches!(&err, PlanError::InvalidValue { type_name, .. } if invalid_input_code(type_name) == "22007"),
                "{bad}"
            );
        }
        assert!(coerce("2005-05-24", DataType::Date).is_ok());
        assert!(coerce("2005-05-24T10:00", DataType::Date).is_err());
        assert!(coerce("23:59:59.5", DataType::Time).is_ok());
        assert!(coerce("24:61", DataType::Time).is_err());
        assert_eq!(invalid_input_code("integer"), "22P02");
    }

    #[test]
    fn timestamps_lose_their_zone() {
        assert_eq!(without_zone("2026-11-21T11:13:20.123Z"), "2026-11-21T11:13:20.123");
        assert_eq!(without_zone("2026-11-21 16:43:20.5+05:30"), "2026-11-21 16:43:20.5");
        assert_eq!(without_zone("2026-11-21T16:43:20-0800"), "2026-11-21T16:43:20");
        assert_eq!(without_zone("2026-11-21 16:43:20"), "2026-11-21 16:43:20");
        assert_eq!(without_zone("2026-11-21"), "2026-11-21");
    }

    #[test]
    fn bytes_read_the_hex_form() {
        assert_eq!(coerce("\\x0102ff", DataType::Bytes).ok(), Some(Value::Bytes(vec![1, 2, 255])));
        assert_eq!(coerce("ab", DataType::Bytes).ok(), Some(Value::Bytes(b"ab".to_vec())));
        assert_eq!(Value::Bytes(vec![1, 2, 255]).to_string(), "\\x0102ff");
        for bad in ["\\x0", "\\xzz", "a\\b"] {
            assert!(coerce(bad, DataType::Bytes).is_err(), "{bad}");
        }
    }

    #[test]
    fn booleans_accept_postgres_spellings() {
        assert_eq!(coerce("TRUE", DataType::Boolean).ok(), Some(Value::Bool(true)));
        assert_eq!(coerce("off", DataType::Boolean).ok(), Some(Value::Bool(false)));
        assert!(coerce("maybe", DataType::Boolean).is_err());
    }
}
