//! `Accept: text/csv`: the JSON array the database built, as CSV with a header row and no
//! trailing newline (PostgREST's form). NULL is an empty field; nested JSON is written as JSON.

use serde_json::Value;

use crate::error::{ApiError, HttpError};

/// Converts a JSON array of objects (keys in the order of the first object) into CSV.
pub(crate) fn json_array_to_csv(body: &str) -> Result<String, ApiError> {
    let internal = |e: String| ApiError::from(HttpError::Internal(e));
    let rows: Vec<serde_json::Map<String, Value>> = serde_json::from_str(body).map_err(|e| internal(e.to_string()))?;
    let Some(first) = rows.first() else { return Ok(String::new()) };
    let keys: Vec<&String> = first.keys().collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(keys.iter().map(|k| k.as_str())).map_err(|e| internal(e.to_string()))?;
    for row in &rows {
        let fields = keys.iter().map(|k| match row.get(*k) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        });
        writer.write_record(fields).map_err(|e| internal(e.to_string()))?;
    }
    let bytes = writer.into_inner().map_err(|e| internal(e.to_string()))?;
    let mut text = String::from_utf8(bytes).map_err(|e| internal(e.to_string()))?;
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_header_and_no_trailing_newline() {
        let csv = json_array_to_csv(r#"[{"k":"xyyx","extra":"u"},{"k":"a,b","extra":null}]"#).ok();
        assert_eq!(csv.as_deref(), Some("k,extra\nxyyx,u\n\"a,b\","));
        assert_eq!(json_array_to_csv("[]").ok().as_deref(), Some(""));
    }
}
