//! The SQLite side of writes: an [`Executor`] over the writer's connection for the engine-neutral
//! `run_write`, and the naming of foreign keys SQLite reports without a name. Errors leave the
//! rollback to the caller (the writer's savepoint).

use std::future::Future;

use rowbase_plan::{Mutation, Value, WritePlan};
use rowbase_sql::{Dialect, ReadStatement, SqliteDialect, Statement};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::classify::classify;
use super::connection::{Param, run_read};
use crate::batch::{Batch, BatchOutput, run_batch};
use crate::error::{DbError, ErrorKind};
use crate::exec::{Executor, run_write};
use crate::write::{WriteJob, WriteOutput};

/// Runs statements on the writer's connection, inside its open transaction. Every method
/// completes without waiting (SQLite is synchronous), so the writer thread polls the write once.
pub(crate) struct SqliteExecutor<'c> {
    pub(crate) conn: &'c Connection,
}

impl Executor for SqliteExecutor<'_> {
    fn dialect(&self) -> &'static dyn Dialect {
        &SqliteDialect
    }

    async fn keys(&mut self, statement: &Statement) -> Result<Vec<Vec<Value>>, DbError> {
        query_keys(self.conn, statement).map_err(|e| classify(&e))
    }

    async fn count(&mut self, statement: &Statement) -> Result<u64, DbError> {
        let mut stmt = self.conn.prepare_cached(&statement.sql).map_err(|e| classify(&e))?;
        let n: i64 = stmt
            .query_row(rusqlite::params_from_iter(statement.params.iter().map(Param)), |r| r.get(0))
            .map_err(|e| classify(&e))?;
        Ok(n.unsigned_abs())
    }

    async fn affected(&mut self, statement: &Statement) -> Result<u64, DbError> {
        let mut stmt = self.conn.prepare_cached(&statement.sql).map_err(|e| classify(&e))?;
        let n =
            stmt.execute(rusqlite::params_from_iter(statement.params.iter().map(Param))).map_err(|e| classify(&e))?;
        Ok(n as u64)
    }

    async fn read_array(&mut self, statement: &Statement) -> Result<String, DbError> {
        run_read(self.conn, &ReadStatement::page(statement.clone()), usize::MAX).map(|o| o.body)
    }

    async fn explain(&mut self, plan: &WritePlan, error: DbError) -> DbError {
        explain(self.conn, plan, error)
    }
}

/// Runs `job` to completion on `conn`, which is inside a transaction.
pub(crate) fn run_write_now(conn: &Connection, job: &WriteJob) -> Result<Vec<WriteOutput>, DbError> {
    let mut exec = SqliteExecutor { conn };
    now(run_write(&mut exec, job))
}

/// Runs `batch` to completion on `conn`, which is inside a transaction.
pub(crate) fn run_batch_now(conn: &Connection, batch: &Batch) -> Result<Vec<BatchOutput>, DbError> {
    let mut exec = SqliteExecutor { conn };
    now(run_batch(&mut exec, batch))
}

/// The result of a future over SQLite's synchronous executor, which never waits.
fn now<T>(future: impl Future<Output = Result<T, DbError>>) -> Result<T, DbError> {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => {
            Err(DbError::new(ErrorKind::Internal, "an SQLite write waited, which it never should"))
        }
    }
}

/// Runs a statement with `RETURNING <key>` and collects the keys.
fn query_keys(conn: &Connection, statement: &Statement) -> Result<Vec<Vec<Value>>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(&statement.sql)?;
    let width = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(statement.params.iter().map(Param)))?;
    let mut keys = Vec::new();
    while let Some(row) = rows.next()? {
        let key = (0..width)
            .map(|i| {
                row.get_ref(i).map(|v| match v {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Integer(n),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        keys.push(key);
    }
    Ok(keys)
}

/// Names the foreign key of a failed mutation (SQLite reports it without a name): for inserts
/// and updates, the key whose values have no parent row; for deletes, the tables that still
/// reference the table.
fn explain(conn: &Connection, plan: &WritePlan, error: DbError) -> DbError {
    let found = match &plan.mutation {
        Mutation::Insert(insert) => {
            missing_parent(conn, &insert.table, &insert.columns, insert.rows.iter().map(|r| r.to_vec()))
        }
        Mutation::Update { table, set, .. } => {
            let columns: Vec<String> = set.iter().map(|(c, _)| c.clone()).collect();
            let row: Vec<Option<Value>> = set.iter().map(|(_, v)| Some(v.clone())).collect();
            missing_parent(conn, table, &columns, std::iter::once(row))
        }
        Mutation::Delete { table, .. } => still_referenced(conn, table),
    };
    found.unwrap_or(error)
}

/// `(constraint name, columns, referenced table, referenced columns)` of each foreign key of `table`.
type ForeignKeyInfo = (String, Vec<String>, String, Vec<String>);

fn foreign_keys(conn: &Connection, table: &str) -> Vec<ForeignKeyInfo> {
    let Ok(mut stmt) =
        conn.prepare("SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
    else {
        return Vec::new();
    };
    let rows = stmt.query_map([table], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
    });
    let mut keys: Vec<(i64, ForeignKeyInfo)> = Vec::new();
    for (id, parent, from, to) in rows.into_iter().flatten().flatten() {
        if keys.last().is_none_or(|(last, _)| *last != id) {
            keys.push((id, (String::new(), Vec::new(), parent, Vec::new())));
        }
        if let Some((_, fk)) = keys.last_mut() {
            fk.1.push(from);
            fk.3.push(to.unwrap_or_else(|| "rowid".into()));
        }
    }
    keys.into_iter()
        .map(|(_, mut fk)| {
            fk.0 = format!("{table}_{}_fkey", fk.1.join("_"));
            fk
        })
        .collect()
}

fn missing_parent(
    conn: &Connection,
    table: &str,
    columns: &[String],
    rows: impl Iterator<Item = Vec<Option<Value>>>,
) -> Option<DbError> {
    let rows: Vec<Vec<Option<Value>>> = rows.collect();
    for (name, from, parent, to) in foreign_keys(conn, table) {
        let Some(positions) = from.iter().map(|f| columns.iter().position(|c| c == f)).collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let condition: Vec<String> = to.iter().enumerate().map(|(i, c)| format!("{} = ?{}", quote(c), i + 1)).collect();
        let sql = format!("SELECT 1 FROM {} WHERE {}", quote(&parent), condition.join(" AND "));
        for row in &rows {
            let values: Option<Vec<Value>> = positions.iter().map(|&p| row[p].clone()).collect();
            let Some(values) = values.filter(|v| v.iter().all(|x| *x != Value::Null)) else { continue };
            let exists = conn
                .prepare_cached(&sql)
                .and_then(|mut s| s.exists(rusqlite::params_from_iter(values.iter().map(Param))))
                .unwrap_or(true);
            if !exists {
                let shown: Vec<String> = values.iter().map(Value::to_string).collect();
                return Some(
                    DbError::new(
                        ErrorKind::ForeignKeyViolation,
                        format!("insert or update on table \"{table}\" violates foreign key constraint \"{name}\""),
                    )
                    .with_details(format!(
                        "Key ({})=({}) is not present in table \"{parent}\".",
                        from.join(", "),
                        shown.join(", ")
                    )),
                );
            }
        }
    }
    None
}

fn still_referenced(conn: &Connection, table: &str) -> Option<DbError> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_default();
    let referencing: Vec<(String, String)> = tables
        .iter()
        .flat_map(|child| {
            foreign_keys(conn, child)
                .into_iter()
                .filter(|fk| fk.2.eq_ignore_ascii_case(table))
                .map(move |fk| (fk.0, child.clone()))
        })
        .collect();
    match referencing.as_slice() {
        [(name, child)] => Some(
            DbError::new(
                ErrorKind::ForeignKeyViolation,
                format!("update or delete on table \"{table}\" violates foreign key constraint \"{name}\" on table \"{child}\""),
            )
            .with_details(format!("Key is still referenced from table \"{child}\".")),
        ),
        [] => None,
        many => Some(
            DbError::new(ErrorKind::ForeignKeyViolation, format!("update or delete on table \"{table}\" violates a foreign key constraint"))
                .with_details(format!(
                    "Key may still be referenced through: {}.",
                    many.iter().map(|(n, c)| format!("\"{n}\" on table \"{c}\"")).collect::<Vec<_>>().join(", ")
                )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use rowbase_plan::{Action, InsertRequest, OnDuplicate, Plan, RequestContext, plan};
    use rowbase_request::body::{BodyFormat, parse_body};
    use rowbase_request::parse_query;
    use rusqlite::Connection;

    use super::run_write_now;
    use crate::write::{Returning, WriteJob, WriteStep};

    /// The writer thread runs each job by polling it once (`run_write_now`): a write that
    /// waited on anything would fail there. Every kind of write, with its representation read
    /// back, completes without waiting.
    #[test]
    fn sqlite_writes_never_wait() {
        let conn = Connection::open_in_memory().expect("opens");
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, note TEXT)").expect("t");
        let catalog = crate::sqlite::introspect::catalog(&conn).expect("catalog");
        let ctx = RequestContext { schema: "public".into(), ..Default::default() };
        let params = parse_query("select=id,name").expect("parses");
        let filtered = parse_query("id=eq.1&select=id,name").expect("parses");
        let body = parse_body(BodyFormat::Json, br#"[{"id":1,"name":"a"},{"id":2,"name":"b"}]"#, None).expect("body");
        let change = parse_body(BodyFormat::Json, br#"{"note":"n"}"#, None).expect("body");
        let actions = [
            Action::Insert(InsertRequest {
                table: "t",
                params: &params,
                payload: &body,
                on_duplicate: OnDuplicate::Error,
                missing_default: false,
                returns_rows: true,
            }),
            Action::Insert(InsertRequest {
                table: "t",
                params: &params,
                payload: &body,
                on_duplicate: OnDuplicate::Merge,
                missing_default: false,
                returns_rows: true,
            }),
            Action::Update { table: "t", params: &filtered, payload: &change },
            Action::Delete { table: "t", params: &filtered },
        ];
        for action in actions {
            let Ok(Plan::Write(plan)) = plan(&catalog, &ctx, action) else { panic!("plans a write") };
            let job = WriteJob::single(WriteStep::new(*plan, Returning::Representation), false, Default::default());
            let outputs = run_write_now(&conn, &job).expect("ran without waiting");
            assert!(outputs[0].body.is_some(), "the representation was read back");
        }
    }
}
