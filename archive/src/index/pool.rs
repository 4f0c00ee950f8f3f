//! PostgreSQL connections on threads of their own.
//!
//! rust-postgres's synchronous client drives each connection with a Tokio runtime of its
//! own (`Runtime::block_on` on every call), and Tokio refuses that on a thread that already
//! runs an executor — which is where `dimse serve` calls the archive. So the connections live
//! on the archive's threads: up to `size` of them, started as demand grows, each connecting
//! when first needed and again after its connection broke. A caller hands a job to whichever
//! is free and waits for its answer, as it waits for SQLite's mutex or the disk. An r2d2-style
//! pool that lends connections to the caller's thread cannot be used for the same reason.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::{Client, NoTls, Statement};

use crate::error::IndexError;

/// One thread's connection and the statements prepared on it.
pub(crate) struct Session {
    config: Arc<postgres::Config>,
    client: Option<Client>,
    statements: HashMap<String, Statement>,
}

impl Session {
    /// The connection, opened now if there is none or the last one broke.
    pub(crate) fn client(&mut self) -> Result<&mut Client, postgres::Error> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            // Statements belong to a connection: a new one starts with none.
            self.statements.clear();
            self.client = Some(self.config.connect(NoTls)?);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// `sql`, prepared on this connection once and reused after.
    pub(crate) fn prepare(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(st) = self.statements.get(sql) {
            if !self.client.as_ref().is_some_and(Client::is_closed) {
                return Ok(st.clone());
            }
        }
        let st = self.client()?.prepare(sql)?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    /// Forgets the connection after an error that may have left it unusable (the next job
    /// reconnects).
    pub(crate) fn reset(&mut self) {
        self.client = None;
        self.statements.clear();
    }
}

type Job = Box<dyn FnOnce(&mut Session) + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
    threads: usize,
    closing: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a job is queued and on close.
    work: Condvar,
}

fn lock(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    // The queue is pushed and popped whole; a panic never leaves it half-changed.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Up to `size` threads, each holding one connection to the same database.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    config: Arc<postgres::Config>,
    size: usize,
    /// The server as its URL without the password, for errors.
    server: String,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// A pool connecting with `config` (nothing is connected until the first job).
    pub(crate) fn new(mut config: postgres::Config, size: usize, server: String) -> Pool {
        // Without a bound a store would hang as long as TCP retries to an unreachable server.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("dimse");
        }
        Pool {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                work: Condvar::new(),
            }),
            config: Arc::new(config),
            size: size.max(1),
            server,
            workers: Mutex::new(Vec::new()),
        }
    }

    /// Runs `job` on a connection thread and returns what it returned.
    pub(crate) fn run<R, F>(&self, job: F) -> Result<R, IndexError>
    where
        F: FnOnce(&mut Session) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |session| {
            let _ = tx.send(job(session));
        });
        let spawn = {
            let mut queue = lock(&self.shared.queue);
            if queue.closing {
                return Err(self.stopped());
            }
            queue.jobs.push_back(job);
            let spawn = queue.idle < queue.jobs.len() && queue.threads < self.size;
            if spawn {
                queue.threads += 1;
            }
            spawn
        };
        if spawn {
            self.spawn();
        }
        self.shared.work.notify_one();
        // A closed channel means the job was dropped unrun or panicked.
        rx.recv().map_err(|_| self.stopped())
    }

    fn stopped(&self) -> IndexError {
        IndexError::Stopped {
            server: self.server.clone(),
        }
    }

    fn spawn(&self) {
        let shared = Arc::clone(&self.shared);
        let config = Arc::clone(&self.config);
        let spawned = std::thread::Builder::new()
            .name("dimse-postgres".into())
            .spawn(move || work(&shared, config));
        match spawned {
            Ok(handle) => self
                .workers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle),
            Err(e) => {
                // The threads already running serve the queue; with none, callers wait for
                // the next spawn attempt, made by the next job.
                tracing::warn!(error = %e, "cannot start a PostgreSQL connection thread");
                lock(&self.shared.queue).threads -= 1;
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        lock(&self.shared.queue).closing = true;
        self.shared.work.notify_all();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

/// One connection thread: runs jobs until the pool closes. The session (and the runtime
/// inside its client) is created and dropped here, never on a caller's thread.
fn work(shared: &Shared, config: Arc<postgres::Config>) {
    let mut session = Session {
        config,
        client: None,
        statements: HashMap::new(),
    };
    loop {
        let job = {
            let mut queue = lock(&shared.queue);
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break job;
                }
                if queue.closing {
                    queue.threads -= 1;
                    return;
                }
                queue.idle += 1;
                queue = shared.work.wait(queue).unwrap_or_else(|e| e.into_inner());
                queue.idle -= 1;
            }
        };
        if catch_unwind(AssertUnwindSafe(|| job(&mut session))).is_err() {
            // The caller sees its answer channel close; the connection may be mid-exchange.
            session.reset();
        }
    }
}
