//! SQLite declared types to neutral types. SQLite's own affinity rules (datatype3.html §3.1)
//! decide integer, text, real and numeric; names SQLite has no affinity for (BOOLEAN, DATE, UUID,
//! JSON) are recognised first so they keep their meaning.

use rowbase_catalog::DataType;

/// The neutral type of a column declared as `declared` (case-insensitive).
pub fn data_type_of(declared: &str) -> DataType {
    let t = declared.to_ascii_uppercase();
    let has = |s: &str| t.contains(s);
    if has("BOOL") {
        DataType::Boolean
    } else if has("UUID") {
        DataType::Uuid
    } else if has("JSON") {
        DataType::Json
    } else if has("TIMESTAMPTZ") || has("WITH TIME ZONE") {
        DataType::TimestampTz
    } else if has("DATETIME") || has("TIMESTAMP") {
        DataType::Timestamp
    } else if has("DATE") {
        DataType::Date
    } else if has("TIME") {
        DataType::Time
    } else if has("INT") {
        DataType::Integer
    } else if has("CHAR") || has("CLOB") || has("TEXT") {
        DataType::Text
    } else if has("BLOB") || has("BYTEA") {
        DataType::Bytes
    } else if has("REAL") || has("FLOA") || has("DOUB") {
        DataType::Real
    } else if has("NUMERIC") || has("DECIMAL") || has("MONEY") {
        DataType::Decimal
    } else if t.trim().is_empty() {
        // No declared type: no affinity (a view's expression column); compared as stored.
        DataType::Untyped
    } else {
        DataType::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinook_types() {
        assert_eq!(data_type_of("INTEGER"), DataType::Integer);
        assert_eq!(data_type_of("NVARCHAR(160)"), DataType::Text);
        assert_eq!(data_type_of("NUMERIC(10,2)"), DataType::Decimal);
        assert_eq!(data_type_of("DATETIME"), DataType::Timestamp);
        assert_eq!(data_type_of("boolean"), DataType::Boolean);
        assert_eq!(data_type_of(""), DataType::Untyped);
    }
}
