//! Empty temporary files created ahead of need.
//!
//! Creating a file is the costliest step of storing a small instance: ext4 must find a free
//! inode, and after many deletions it walks past every inode freed in the last minutes
//! (`recently_deleted` was most of the SCP's time in a profile of 64 KiB C-STOREs). A thread
//! keeps a few empty files ready in the temporary directory, so a C-STORE takes one instead
//! of waiting for the file system, and the allocation overlaps the network.

use std::fs::{self, File, OpenOptions};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// How many files are kept ready. The thread is woken when half are gone and fills the pool
/// again in one go, so eight stores find a file while the next eight are created.
const READY: usize = 16;

#[derive(Default)]
struct Pool {
    ready: Vec<(PathBuf, File)>,
    /// Set by the first store: an archive that only answers queries creates no files.
    wanted: bool,
    /// The thread sleeps on the condition variable (a wake-up is a syscall: only then).
    waiting: bool,
    closing: bool,
}

struct Shared {
    dir: PathBuf,
    pool: Mutex<Pool>,
    /// Signalled when a file is taken and on close.
    taken: Condvar,
}

pub(crate) struct Spares {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

fn lock(m: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A new empty file in `dir`, named uniquely for this process.
fn create(dir: &std::path::Path) -> std::io::Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{}.{n}.part", std::process::id()));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

impl Spares {
    /// Starts keeping files ready in `dir`.
    pub(crate) fn new(dir: PathBuf) -> Spares {
        let shared = Arc::new(Shared {
            dir,
            pool: Mutex::new(Pool::default()),
            taken: Condvar::new(),
        });
        let worker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("dimse-spares".into())
                .spawn(move || refill(&shared))
                .ok()
        };
        Spares { shared, worker }
    }

    /// An empty file in the temporary directory: a ready one, or a new one when none is.
    pub(crate) fn take(&self) -> std::io::Result<(PathBuf, File)> {
        let (ready, wake) = {
            let mut pool = lock(&self.shared.pool);
            pool.wanted = true;
            let ready = pool.ready.pop();
            (ready, pool.waiting && pool.ready.len() <= READY / 2)
        };
        if wake {
            self.shared.taken.notify_one();
        }
        match ready {
            Some(file) => Ok(file),
            None => create(&self.shared.dir),
        }
    }
}

impl Drop for Spares {
    fn drop(&mut self) {
        lock(&self.shared.pool).closing = true;
        self.shared.taken.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        for (path, _) in lock(&self.shared.pool).ready.drain(..) {
            let _ = fs::remove_file(path);
        }
    }
}

fn refill(shared: &Shared) {
    loop {
        {
            let mut pool = lock(&shared.pool);
            if pool.ready.len() >= READY || !pool.wanted {
                while (!pool.wanted || pool.ready.len() > READY / 2) && !pool.closing {
                    pool.waiting = true;
                    pool = shared.taken.wait(pool).unwrap_or_else(|e| e.into_inner());
                    pool.waiting = false;
                }
            }
            if pool.closing {
                return;
            }
        }
        match create(&shared.dir) {
            Ok(file) => lock(&shared.pool).ready.push(file),
            Err(e) => {
                // Stores create their own files and report the error themselves; try again
                // when the next one is taken.
                tracing::warn!(error = %e, "cannot create a spare file");
                let mut pool = lock(&shared.pool);
                if !pool.closing {
                    pool.waiting = true;
                    pool = shared.taken.wait(pool).unwrap_or_else(|e| e.into_inner());
                    pool.waiting = false;
                }
            }
        }
    }
}
