//! Reads of the audit log (`rowbase_audit`, written by the triggers `audit = true` declares):
//! a table as it was at an instant, rebuilt from the last logged version of each row.

use rowbase_catalog::{AUDIT_LOG as LOG, DataType};
use rowbase_plan::Value;

use crate::dialect::Dialect;
use crate::writer::{Statement, Writer};

/// The rows of `table` as they were at `unix_seconds` (seconds since 1970-01-01 UTC), one JSON
/// object per row as the log recorded it, in the order they were last written: for each row
/// key, the newest entry at or before the instant, unless that entry is its deletion. Rows
/// written before the table was audited have no entry and are not there.
pub fn render_as_of(schema: &str, table: &str, unix_seconds: i64, dialect: &dyn Dialect) -> Statement {
    let mut w = Writer::new(dialect, schema);
    w.push("SELECT a.");
    w.ident("new_row");
    w.push(" FROM ");
    w.table(LOG);
    w.push(" a WHERE a.");
    w.ident("table_name");
    w.push(" = ");
    w.bind(Value::Text(table.to_string()));
    w.push(" AND a.");
    w.ident("operation");
    w.push(" <> 'DELETE' AND a.");
    w.ident("id");
    w.push(" IN (SELECT MAX(b.");
    w.ident("id");
    w.push(") FROM ");
    w.table(LOG);
    w.push(" b WHERE b.");
    w.ident("table_name");
    w.push(" = ");
    w.bind(Value::Text(table.to_string()));
    w.push(" AND b.");
    w.ident("changed_at");
    w.push(" <= ");
    let (open, close) = dialect.timestamp_of_unix_seconds();
    w.push(open);
    w.bind_typed(Value::Integer(unix_seconds), DataType::Integer);
    w.push(close);
    w.push(" GROUP BY b.");
    w.ident("row_key");
    w.push(") ORDER BY a.");
    w.ident("id");
    w.finish()
}
