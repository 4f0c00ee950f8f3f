//! Index commits, two ways.
//!
//! - **Group commit** ([`Committer::submit`]: durable archives, shared indexes (PostgreSQL)
//!   and start-up repairs): a store
//!   queues its entry, then waits for the writer connection. Whoever holds it commits
//!   everything queued so far; a store whose entry was taken by an earlier holder finds its
//!   result ready. Under load the number of commits (and fsyncs) grows with the number of
//!   batches, not of instances.
//! - **Background commit** ([`Committer::index`] of a non-durable archive, the default): the
//!   file is already in place, so the answer to the peer need not wait for SQLite. A worker
//!   thread commits whatever has queued up in one transaction; every read of the index first
//!   waits for the entries queued before it ([`Committer::flush`]), so a C-FIND after a
//!   C-STORE-RSP sees the instance. If the process dies with entries queued, their files are
//!   indexed by the reconciliation at the next start. Only for an index no other process
//!   writes: another node cannot wait for this one's queue, so with a shared index every
//!   store waits for its commit (batched with the others waiting) before it is answered.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::index::{Entry, Index};

type Outcome = Result<Option<String>, String>;

/// A job of a batch once its entry has gone to the index: its directories and its slot.
type Waiting = (Vec<PathBuf>, Arc<OnceLock<Outcome>>);

struct Job {
    entry: Entry,
    /// Directories whose entries changed (fsynced first when durable).
    dirs: Vec<PathBuf>,
    slot: Arc<OnceLock<Outcome>>,
}

/// Entries waiting for the background worker, and how far it has got.
#[derive(Default)]
struct Backlog {
    entries: Vec<Entry>,
    queued: u64,
    committed: u64,
    /// Somebody waits for the backlog to be committed: no lingering.
    urgent: bool,
    /// The worker sleeps on the condition variable (a wake-up is a syscall: only then).
    worker_waiting: bool,
    closing: bool,
}

/// How long the worker lets entries gather before committing them (unless a query waits or
/// [`BATCH`] have queued): one wake-up and one transaction per batch instead of per store.
const LINGER: Duration = Duration::from_millis(10);
const BATCH: usize = 64;

struct Shared {
    index: Arc<dyn Index>,
    /// Held by whoever commits: one transaction at a time, so that concurrent stores
    /// queue up behind it and share the next one.
    writer: Mutex<()>,
    backlog: Mutex<Backlog>,
    /// Signalled when entries are queued, when a batch is committed, and on close.
    changed: Condvar,
}

pub(crate) struct Committer {
    shared: Arc<Shared>,
    queue: Mutex<Vec<Job>>,
    durable: bool,
    worker: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere never leaves these half-updated: the queue is pushed or taken whole,
    // and the database rolls back an unfinished transaction.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Committer {
    /// `root` is the archive's directory: the worker deletes replaced files under it. A
    /// durable archive or a shared index commits before each answer; otherwise a background
    /// worker commits behind them.
    pub(crate) fn new(index: Arc<dyn Index>, durable: bool, root: PathBuf) -> Self {
        let behind = !durable && !index.shared();
        let shared = Arc::new(Shared {
            index,
            writer: Mutex::new(()),
            backlog: Mutex::new(Backlog::default()),
            changed: Condvar::new(),
        });
        let worker = behind.then(|| {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("dimse-index".into())
                .spawn(move || background(&shared, &root))
                .expect("spawning the index thread")
        });
        Committer {
            shared,
            queue: Mutex::new(Vec::new()),
            durable,
            worker,
        }
    }

    /// Indexes a stored instance the way this archive does it: queued for the background
    /// worker (`Ok(None)` at once; the worker deletes a replaced file itself), or, when
    /// durable, [`Committer::submit`].
    pub(crate) fn index(&self, entry: Entry, dirs: Vec<PathBuf>) -> Outcome {
        if self.worker.is_none() {
            return self.submit(entry, dirs);
        }
        self.submit_later(entry);
        Ok(None)
    }

    /// Whether other processes write the same index.
    pub(crate) fn shared(&self) -> bool {
        self.shared.index.shared()
    }

    /// The index, once every entry queued so far is committed.
    pub(crate) fn flushed(&self) -> &dyn Index {
        self.flush();
        &*self.shared.index
    }

    /// Waits until the entries queued before this call are committed (or failed).
    pub(crate) fn flush(&self) {
        let mut backlog = lock(&self.shared.backlog);
        let target = backlog.queued;
        if backlog.committed < target {
            backlog.urgent = true;
            self.shared.changed.notify_all();
        }
        while backlog.committed < target {
            backlog = self
                .shared
                .changed
                .wait(backlog)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Queues `entry` for the background worker and returns at once.
    fn submit_later(&self, entry: Entry) {
        let mut backlog = lock(&self.shared.backlog);
        backlog.entries.push(entry);
        backlog.queued += 1;
        // The first entry starts the worker's linger; a full batch ends it early.
        let n = backlog.entries.len();
        let wake = backlog.worker_waiting && (n == 1 || n >= BATCH);
        drop(backlog);
        if wake {
            self.shared.changed.notify_all();
        }
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
        self.flush();
        let turn = lock(&self.shared.writer);
        if let Some(done) = slot.get() {
            return done.clone();
        }
        let batch = std::mem::take(&mut *lock(&self.queue));
        let (entries, waiting): (Vec<Entry>, Vec<Waiting>) = batch
            .into_iter()
            .map(|j| (j.entry, (j.dirs, j.slot)))
            .unzip();
        let outcome = self.commit(entries, &waiting);
        for (i, (_, slot)) in waiting.iter().enumerate() {
            let r = match &outcome {
                Ok(replaced) => Ok(replaced[i].clone()),
                Err(e) => Err(e.clone()),
            };
            let _ = slot.set(r);
        }
        drop(turn);
        slot.get().cloned().expect("our job was in the batch")
    }

    fn commit(
        &self,
        entries: Vec<Entry>,
        waiting: &[Waiting],
    ) -> Result<Vec<Option<String>>, String> {
        if self.durable {
            let dirs: BTreeSet<&PathBuf> = waiting.iter().flat_map(|(dirs, _)| dirs).collect();
            for dir in dirs {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| format!("fsync {}: {e}", dir.display()))?;
            }
        }
        self.shared.index.insert(entries).map_err(|e| e.to_string())
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        // Let the worker commit what is queued, so a clean shutdown leaves nothing for the
        // next start to repair.
        lock(&self.shared.backlog).closing = true;
        self.shared.changed.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn background(shared: &Shared, root: &std::path::Path) {
    loop {
        let batch = {
            let mut backlog = lock(&shared.backlog);
            let mut lingered = false;
            loop {
                if backlog.entries.is_empty() {
                    if backlog.closing {
                        return;
                    }
                } else if lingered
                    || backlog.urgent
                    || backlog.closing
                    || backlog.entries.len() >= BATCH
                {
                    break;
                }
                backlog.worker_waiting = true;
                if backlog.entries.is_empty() {
                    backlog = shared
                        .changed
                        .wait(backlog)
                        .unwrap_or_else(|e| e.into_inner());
                } else {
                    let waited = shared.changed.wait_timeout(backlog, LINGER);
                    let (guard, timeout) = waited.unwrap_or_else(|e| e.into_inner());
                    backlog = guard;
                    lingered = timeout.timed_out();
                }
                backlog.worker_waiting = false;
            }
            backlog.urgent = false;
            std::mem::take(&mut backlog.entries)
        };
        let count = batch.len();
        let outcome = {
            let _turn = lock(&shared.writer);
            shared.index.insert(batch)
        };
        match outcome {
            Ok(replaced) => {
                for old in replaced.into_iter().flatten() {
                    let _ = fs::remove_file(root.join(old));
                }
            }
            // The files are in place; the next start's reconciliation indexes them.
            Err(e) => tracing::warn!(
                instances = count,
                error = %e,
                "indexing failed; the files will be indexed when the archive is next opened"
            ),
        }
        lock(&shared.backlog).committed += count as u64;
        shared.changed.notify_all();
    }
}
