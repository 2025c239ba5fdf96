//! The single writer of an SQLite file: one connection on one thread, fed by a queue, so writers
//! never meet "database is locked" and readers (WAL) never wait for them.
//!
//! Group commit: the thread takes every job waiting in the queue (up to a bound), runs each in its
//! own `SAVEPOINT` inside one `BEGIN IMMEDIATE ... COMMIT`, and answers the requests only after the
//! `COMMIT` returned, so an acknowledged write is durable under the chosen `synchronous` level.
//! A failed or dry-run job rolls back to its savepoint without touching its neighbours; a failed
//! `COMMIT` fails every job of the group.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::classify::classify;
use super::mutate::run_write_now;
use crate::error::{DbError, ErrorKind};
use crate::write::{WriteJob, WriteOutput};

type Reply = oneshot::Sender<Result<Vec<WriteOutput>, DbError>>;

/// A handle to the writer thread.
pub(crate) struct Writer {
    queue: mpsc::Sender<(WriteJob, Reply)>,
}

impl Writer {
    /// Starts the writer thread on `conn`. `group` bounds how many queued jobs share a commit
    /// (1 disables group commit).
    pub(crate) fn start(conn: Connection, group: usize) -> Result<Writer, DbError> {
        let (queue, jobs) = mpsc::channel::<(WriteJob, Reply)>();
        std::thread::Builder::new()
            .name("rowbase-sqlite-writer".into())
            .spawn(move || run(conn, jobs, group.max(1)))
            .map_err(|e| DbError::new(ErrorKind::Internal, e.to_string()))?;
        Ok(Writer { queue })
    }

    /// Queues `job` and waits for its commit.
    pub(crate) async fn write(&self, job: WriteJob) -> Result<Vec<WriteOutput>, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((job, reply)).map_err(|_| DbError::new(ErrorKind::Unavailable, "the writer has stopped"))?;
        answer.await.map_err(|_| DbError::new(ErrorKind::Internal, "the writer dropped a request"))?
    }
}

fn run(conn: Connection, jobs: mpsc::Receiver<(WriteJob, Reply)>, group: usize) {
    // Ends when every sender is gone, i.e. when the database is dropped.
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < group {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_group(&conn, batch);
    }
}

fn commit_group(conn: &Connection, batch: Vec<(WriteJob, Reply)>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let error = classify(&e);
        for (_, reply) in batch {
            let _ = reply.send(Err(error.clone()));
        }
        return;
    }
    let mut results = Vec::with_capacity(batch.len());
    for (job, reply) in batch {
        let result = in_savepoint(conn, &job);
        results.push((reply, result));
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            for (reply, result) in results {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            let error = classify(&e);
            for (reply, _) in results {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

/// Runs one job in a savepoint; keeps its changes only when it succeeded and is not a dry run.
fn in_savepoint(conn: &Connection, job: &WriteJob) -> Result<Vec<WriteOutput>, DbError> {
    conn.execute_batch("SAVEPOINT rowbase_request").map_err(|e| classify(&e))?;
    let result = run_write_now(conn, job);
    let keep = result.is_ok() && !job.dry_run;
    let end = if keep { "RELEASE rowbase_request" } else { "ROLLBACK TO rowbase_request; RELEASE rowbase_request" };
    match conn.execute_batch(end) {
        Ok(()) => result,
        Err(e) => Err(classify(&e)),
    }
}
