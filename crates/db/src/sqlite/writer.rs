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
use super::mutate::{run_batch_now, run_write_now};
use crate::batch::{Batch, BatchOutput};
use crate::error::{DbError, ErrorKind};
use crate::write::{WriteJob, WriteOutput};

/// A job for the writer thread and where its answer goes.
enum Job {
    /// A client's write.
    Write(WriteJob, oneshot::Sender<Result<Vec<WriteOutput>, DbError>>),
    /// Statements of Rowbase's own (users and sessions).
    Batch(Batch, oneshot::Sender<Result<Vec<BatchOutput>, DbError>>),
}

impl Job {
    /// Runs the job in its own savepoint; the answer waits for the group's commit.
    fn run(self, conn: &Connection) -> Answer {
        match self {
            Job::Write(job, reply) => {
                let result = in_savepoint(conn, job.dry_run, |c| run_write_now(c, &job));
                Answer::Write(reply, result)
            }
            Job::Batch(batch, reply) => Answer::Batch(reply, in_savepoint(conn, false, |c| run_batch_now(c, &batch))),
        }
    }
}

/// A job's result, held until its group commits.
enum Answer {
    Write(oneshot::Sender<Result<Vec<WriteOutput>, DbError>>, Result<Vec<WriteOutput>, DbError>),
    Batch(oneshot::Sender<Result<Vec<BatchOutput>, DbError>>, Result<Vec<BatchOutput>, DbError>),
}

impl Answer {
    /// Sends the result, or `failed` (the group's commit failed) instead.
    fn send(self, failed: Option<&DbError>) {
        match self {
            Answer::Write(reply, result) => {
                let _ = reply.send(failed.map_or(result, |e| Err(e.clone())));
            }
            Answer::Batch(reply, result) => {
                let _ = reply.send(failed.map_or(result, |e| Err(e.clone())));
            }
        }
    }
}

/// A handle to the writer thread.
pub(crate) struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`. `group` bounds how many queued jobs share a commit
    /// (1 disables group commit).
    pub(crate) fn start(conn: Connection, group: usize) -> Result<Writer, DbError> {
        let (queue, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("rowbase-sqlite-writer".into())
            .spawn(move || run(conn, jobs, group.max(1)))
            .map_err(|e| DbError::new(ErrorKind::Internal, e.to_string()))?;
        Ok(Writer { queue })
    }

    /// Queues `job` and waits for its commit.
    pub(crate) async fn write(&self, job: WriteJob) -> Result<Vec<WriteOutput>, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job::Write(job, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| dropped())?
    }

    /// Queues `batch` and waits for its commit.
    pub(crate) async fn batch(&self, batch: Batch) -> Result<Vec<BatchOutput>, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job::Batch(batch, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| dropped())?
    }
}

fn stopped() -> DbError {
    DbError::new(ErrorKind::Unavailable, "the writer has stopped")
}

fn dropped() -> DbError {
    DbError::new(ErrorKind::Internal, "the writer dropped a request")
}

fn run(conn: Connection, jobs: mpsc::Receiver<Job>, group: usize) {
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

fn commit_group(conn: &Connection, batch: Vec<Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let error = classify(&e);
        for job in batch {
            // Never run: answered with the failure to begin.
            let answer = match job {
                Job::Write(_, reply) => Answer::Write(reply, Err(error.clone())),
                Job::Batch(_, reply) => Answer::Batch(reply, Err(error.clone())),
            };
            answer.send(None);
        }
        return;
    }
    let answers: Vec<Answer> = batch.into_iter().map(|job| job.run(conn)).collect();
    match conn.execute_batch("COMMIT") {
        Ok(()) => answers.into_iter().for_each(|a| a.send(None)),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            let error = classify(&e);
            answers.into_iter().for_each(|a| a.send(Some(&error)));
        }
    }
}

/// Runs one job in a savepoint; keeps its changes only when it succeeded and is not a dry run.
fn in_savepoint<T>(
    conn: &Connection,
    dry_run: bool,
    job: impl FnOnce(&Connection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    conn.execute_batch("SAVEPOINT rowbase_request").map_err(|e| classify(&e))?;
    let result = job(conn);
    let keep = result.is_ok() && !dry_run;
    let end = if keep { "RELEASE rowbase_request" } else { "ROLLBACK TO rowbase_request; RELEASE rowbase_request" };
    match conn.execute_batch(end) {
        Ok(()) => result,
        Err(e) => Err(classify(&e)),
    }
}
