//! Group commit: concurrent stores share one index transaction and one round of fsyncs.
//!
//! A store queues its entry, then waits for the writer connection. Whoever holds it commits
//! everything queued so far; a store whose entry was taken by an earlier holder finds its
//! result ready. Under load the number of commits (and fsyncs) grows with the number of
//! batches, not of instances.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rusqlite::Connection;

use crate::index::{self, Entry};

type Outcome = Result<Option<String>, String>;

struct Job {
    entry: Entry,
    /// Directories whose entries changed (fsynced first when durable).
    dirs: Vec<PathBuf>,
    slot: Arc<OnceLock<Outcome>>,
}

pub(crate) struct Committer {
    conn: Mutex<Connection>,
    queue: Mutex<Vec<Job>>,
    durable: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere never leaves these half-updated: the queue is pushed or taken whole,
    // and SQLite rolls back an unfinished transaction.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Committer {
    pub(crate) fn new(conn: Connection, durable: bool) -> Self {
        Committer {
            conn: Mutex::new(conn),
            queue: Mutex::new(Vec::new()),
            durable,
        }
    }

    /// The writer connection, for start-up repairs.
    pub(crate) fn connection(&self) -> MutexGuard<'_, Connection> {
        lock(&self.conn)
    }

    /// Indexes `entry` (after making `dirs` durable if asked to). Returns the file a replaced
    /// row pointed to, if it differs from the new one.
    pub(crate) fn submit(&self, entry: Entry, dirs: Vec<PathBuf>) -> Outcome {
        let slot = Arc::new(OnceLock::new());
        lock(&self.queue).push(Job {
            entry,
            dirs,
            slot: Arc::clone(&slot),
        });
        let mut conn = lock(&self.conn);
        if let Some(done) = slot.get() {
            return done.clone();
        }
        let batch = std::mem::take(&mut *lock(&self.queue));
        let outcome = self.commit(&mut conn, &batch);
        for (i, job) in batch.iter().enumerate() {
            let r = match &outcome {
                Ok(replaced) => Ok(replaced[i].clone()),
                Err(e) => Err(e.clone()),
            };
            let _ = job.slot.set(r);
        }
        drop(conn);
        slot.get().cloned().expect("our job was in the batch")
    }

    fn commit(&self, conn: &mut Connection, batch: &[Job]) -> Result<Vec<Option<String>>, String> {
        if self.durable {
            let dirs: BTreeSet<&PathBuf> = batch.iter().flat_map(|j| &j.dirs).collect();
            for dir in dirs {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| format!("fsync {}: {e}", dir.display()))?;
            }
        }
        let entries: Vec<&Entry> = batch.iter().map(|j| &j.entry).collect();
        index::insert(conn, &entries).map_err(|e| format!("index: {e}"))
    }
}
