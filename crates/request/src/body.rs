//! Bodies of writes (PostgREST "Insertions", "Bulk Insert", "Specifying Columns"): one JSON object,
//! a JSON array of objects, or CSV with a header row, into rows keyed by column name. Values stay
//! JSON here; the planner checks them against column types.

use serde_json::{Map, Value};

use crate::error::{ParseError, ParseErrorKind};

/// The rows of a write body.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// The columns written, in order: `columns=` when given, else the keys of the first row.
    pub keys: Vec<String>,
    /// Each row's values by key. With `columns=`, keys outside it are dropped and a listed key may
    /// be absent from a row (it then becomes NULL or, with `Prefer: missing=default`, the default).
    pub rows: Vec<Map<String, Value>>,
    /// Whether the body was one object rather than an array (PostgREST returns a `Location` for it).
    pub single: bool,
}

/// Body formats writes accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json` (also the default when `Content-Type` is absent).
    Json,
    /// `text/csv`: a header row, then one row per line; an empty field is `''`, `NULL` is null.
    Csv,
    /// `application/x-www-form-urlencoded`: one row of text values.
    Form,
}

/// The body format of a `Content-Type`, or `PGRST107` (415) for one writes do not read.
pub fn body_format(content_type: Option<&str>) -> Result<BodyFormat, ParseError> {
    let essence = content_type.and_then(|c| c.split(';').next()).map(|e| e.trim().to_ascii_lowercase());
    match essence.as_deref() {
        None | Some("") | Some("application/json") | Some("*/*") => Ok(BodyFormat::Json),
        Some("text/csv") => Ok(BodyFormat::Csv),
        Some("application/x-www-form-urlencoded") => Ok(BodyFormat::Form),
        Some(other) => Err(ParseError {
            kind: ParseErrorKind::ContentType,
            message: format!("Content-Type not acceptable: {other}"),
            details: Some("Writes accept application/json, text/csv and application/x-www-form-urlencoded".into()),
        }),
    }
}

/// Parses a write body.
///
/// Errors (`PGRST102`): empty or invalid JSON, a JSON value that is not an object or an array of
/// objects, objects with different keys when `columns` is not given ("All object keys must
/// match"), malformed CSV.
pub fn parse_body(format: BodyFormat, body: &[u8], columns: Option<&[String]>) -> Result<Payload, ParseError> {
    parse_body_limited(format, body, columns, usize::MAX)
}

/// [`parse_body`] with at most `max_rows` rows: past it, [`ParseErrorKind::TooManyRows`], found
/// while reading, before more rows are built (a 10 MB body of `[{},{},...]` is 3.4 million
/// rows; memory stays proportional to `max_rows`, not to the body).
pub fn parse_body_limited(
    format: BodyFormat,
    body: &[u8],
    columns: Option<&[String]>,
    max_rows: usize,
) -> Result<Payload, ParseError> {
    let (rows, single) = match format {
        BodyFormat::Json => json_rows(body, max_rows)?,
        BodyFormat::Csv => (csv_rows(body, max_rows)?, false),
        BodyFormat::Form => (vec![form_row(body)?], true),
    };
    let keys = match columns {
        Some(columns) => columns.to_vec(),
        None => {
            let keys: Vec<String> = rows.first().map(|r| r.keys().cloned().collect()).unwrap_or_default();
            let same = |r: &Map<String, Value>| r.len() == keys.len() && keys.iter().all(|k| r.contains_key(k));
            if !rows.iter().all(same) {
                return Err(ParseError::body("All object keys must match", None));
            }
            keys
        }
    };
    let rows = match columns {
        Some(columns) => {
            rows.into_iter().map(|r| r.into_iter().filter(|(k, _)| columns.contains(k)).collect()).collect()
        }
        None => rows,
    };
    Ok(Payload { keys, rows, single })
}

/// A JSON body: one object, or an array of objects read one at a time and refused at the
/// `max_rows + 1`th.
enum JsonBody {
    One(Map<String, Value>),
    Many(Vec<Map<String, Value>>),
}

/// Reads a [`JsonBody`] with at most `max_rows` rows.
struct JsonBodySeed {
    max_rows: usize,
}

/// The message serde's error carries when the row limit is passed (turned back into
/// [`ParseErrorKind::TooManyRows`]).
const TOO_MANY_ROWS: &str = "rowbase: too many rows";

impl<'de> serde::de::DeserializeSeed<'de> for JsonBodySeed {
    type Value = JsonBody;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<JsonBody, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonBodySeed {
    type Value = JsonBody;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object or an array of objects")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<JsonBody, A::Error> {
        let row =
            <Map<String, Value> as serde::Deserialize>::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(JsonBody::One(row))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<JsonBody, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max_rows).min(1024));
        while let Some(row) = seq.next_element::<Map<String, Value>>()? {
            if rows.len() == self.max_rows {
                return Err(serde::de::Error::custom(TOO_MANY_ROWS));
            }
            rows.push(row);
        }
        Ok(JsonBody::Many(rows))
    }
}

fn json_rows(body: &[u8], max_rows: usize) -> Result<(Vec<Map<String, Value>>, bool), ParseError> {
    use serde::de::DeserializeSeed;
    let invalid = |e: Option<String>| ParseError::body("Empty or invalid json", e);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = JsonBodySeed { max_rows }.deserialize(&mut deserializer).and_then(|b| deserializer.end().map(|()| b));
    match parsed {
        Ok(JsonBody::One(row)) => Ok((vec![row], true)),
        Ok(JsonBody::Many(rows)) => Ok((rows, false)),
        Err(e) if e.to_string().starts_with(TOO_MANY_ROWS) => Err(too_many_rows(max_rows)),
        Err(e) if e.is_data() && e.to_string().contains("expected a map") => {
            Err(invalid(Some("every element of the array must be an object".into())))
        }
        Err(e) if e.is_data() => Err(invalid(Some("the body must be an object or an array of objects".into()))),
        Err(e) => Err(invalid(Some(e.to_string()))),
    }
}

fn too_many_rows(max_rows: usize) -> ParseError {
    ParseError {
        kind: ParseErrorKind::TooManyRows,
        message: format!("The request body has more than {max_rows} rows"),
        details: Some(format!("One write takes at most {max_rows} rows")),
    }
}

fn form_row(body: &[u8]) -> Result<Map<String, Value>, ParseError> {
    let text =
        std::str::from_utf8(body).map_err(|_| ParseError::body("Invalid form body", Some("not UTF-8".into())))?;
    let decode = |s: &str| -> Result<String, ParseError> {
        let spaced = s.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| ParseError::body("Invalid form body", Some("a field is not UTF-8".into())))
    };
    let mut row = Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        row.insert(decode(k)?, Value::String(decode(v)?));
    }
    if row.is_empty() {
        return Err(ParseError::body("Empty or invalid form body", None));
    }
    Ok(row)
}

fn csv_rows(body: &[u8], max_rows: usize) -> Result<Vec<Map<String, Value>>, ParseError> {
    let invalid = |e: String| ParseError::body("Invalid CSV", Some(e));
    // Quotes come in pairs in RFC 4180 CSV (a quoted field's own quotes are doubled); the csv
    // crate reads an unterminated quoted field to the end of the body instead of refusing it.
    if body.iter().filter(|&&b| b == b'"').count() % 2 == 1 {
        return Err(invalid("a quoted field is not terminated (RFC 4180)".into()));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(body);
    let headers: Vec<String> =
        reader.headers().map_err(|e| invalid(e.to_string()))?.iter().map(str::to_string).collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(invalid("the first line must name the columns".into()));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| invalid(e.to_string()))?;
        if rows.len() == max_rows {
            return Err(too_many_rows(max_rows));
        }
        let row = headers
            .iter()
            .zip(record.iter())
            .map(|(k, v)| (k.clone(), if v == "NULL" { Value::Null } else { Value::String(v.to_string()) }))
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_arrays_and_keys() {
        let one = parse_body(BodyFormat::Json, br#"{"a":1,"b":"x"}"#, None).ok();
        assert_eq!(
            one.as_ref().map(|p| (p.keys.clone(), p.rows.len(), p.single)),
            Some((vec!["a".into(), "b".into()], 1, true))
        );
        let many = parse_body(BodyFormat::Json, br#"[{"a":1},{"a":2}]"#, None).ok();
        assert_eq!(many.map(|p| (p.rows.len(), p.single)), Some((2, false)));
        let mismatch = parse_body(BodyFormat::Json, br#"[{"a":1},{"b":2}]"#, None).err();
        assert_eq!(mismatch.map(|e| e.message), Some("All object keys must match".into()));
        let columns = ["a".to_string()];
        let picked = parse_body(BodyFormat::Json, br#"[{"a":1,"z":0},{"b":2}]"#, Some(&columns)).ok();
        assert_eq!(picked.map(|p| (p.keys, p.rows[0].len(), p.rows[1].len())), Some((vec!["a".into()], 1, 0)));
        for bad in [&b""[..], b"nope", b"5", b"[1]", b"{"] {
            assert_eq!(parse_body(BodyFormat::Json, bad, None).err().map(|e| e.kind), Some(ParseErrorKind::Body));
        }
    }

    #[test]
    fn csv_has_nulls_and_empty_strings() {
        let p = parse_body(BodyFormat::Csv, b"name,note\nA,\nB,NULL\n\"C, d\",x", None).ok();
        let rows = p.map(|p| p.rows).unwrap_or_default();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["note"], Value::String(String::new()));
        assert_eq!(rows[1]["note"], Value::Null);
        assert_eq!(rows[2]["name"], Value::String("C, d".into()));
        assert!(parse_body(BodyFormat::Csv, b"a,b\n1,2,3", None).is_err());
        assert!(parse_body(BodyFormat::Csv, b"a,b\n\"1,2", None).is_err(), "an unterminated quote");
        assert!(parse_body(BodyFormat::Csv, b"a\n\"x\"\"y\"", None).is_ok());
    }

    #[test]
    fn rows_are_capped_while_reading() {
        let many = format!("[{}]", ["{}"; 11].join(","));
        let capped = parse_body_limited(BodyFormat::Json, many.as_bytes(), None, 10).err();
        assert_eq!(capped.map(|e| e.kind), Some(ParseErrorKind::TooManyRows));
        assert!(parse_body_limited(BodyFormat::Json, many.as_bytes(), None, 11).is_ok());
        let csv = b"a\n1\n2\n3";
        let capped = parse_body_limited(BodyFormat::Csv, csv, None, 2).err();
        assert_eq!(capped.map(|e| e.kind), Some(ParseErrorKind::TooManyRows));
        assert!(parse_body_limited(BodyFormat::Json, b"[{}] x", None, 5).is_err(), "trailing characters");
    }

    #[test]
    fn content_types() {
        assert_eq!(body_format(None).ok(), Some(BodyFormat::Json));
        assert_eq!(body_format(Some("application/json; charset=utf-8")).ok(), Some(BodyFormat::Json));
        assert_eq!(body_format(Some("text/csv")).ok(), Some(BodyFormat::Csv));
        assert_eq!(body_format(Some("application/x-www-form-urlencoded")).ok(), Some(BodyFormat::Form));
        assert!(body_format(Some("application/xml")).is_err());
        let form = parse_body(BodyFormat::Form, b"Name=A+B%26C&Id=7", None).ok().map(|p| p.rows);
        assert_eq!(
            form.map(|r| (r[0]["Name"].clone(), r[0]["Id"].clone())),
            Some((Value::from("A B&C"), Value::from("7")))
        );
    }
}
