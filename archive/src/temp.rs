//! Where C-STOREs are written before the rename that makes them visible.
//!
//! - **One process** (SQLite): `<root>/.tmp/` itself. Whatever is in it at start-up was never
//!   acknowledged, so it is emptied.
//! - **Several nodes** (a shared index): each process writes under a directory of its own,
//!   `<root>/.tmp/<host>.<pid>.<time>/`, and holds an exclusive lock on the `lock` file inside
//!   for as long as it runs. At start-up a node deletes the directories whose lock it can take:
//!   their owners are gone (killed, crashed, stopped), and what they left was never
//!   acknowledged. A live node's directory is never touched, and no node scans the store.
//!
//! The lock file is created and locked under another name and then renamed into place, so a
//! node sweeping at the same moment sees either no `lock` (a directory being born: left alone
//! while young) or a locked one. `flock` locks are released by the kernel when their owner
//! dies, and work across hosts on NFSv4 and most cluster file systems.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The temporary directory under the root.
pub(crate) const TEMP_DIR: &str = ".tmp";

const LOCK: &str = "lock";

/// A node directory without a lock this old is a leftover (its node died while creating
/// it), not one being created.
const UNBORN_AFTER: Duration = Duration::from_secs(600);

/// This process's temporary directory.
pub(crate) struct TempArea {
    dir: PathBuf,
    /// Held while the archive is open (shared mode): tells other nodes we are alive.
    lock: Option<File>,
}

impl TempArea {
    /// `<root>/.tmp/`, emptied of files: nothing in it was acknowledged.
    pub(crate) fn exclusive(root: &Path) -> io::Result<TempArea> {
        let dir = root.join(TEMP_DIR);
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)?.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(TempArea { dir, lock: None })
    }

    /// A locked directory of this process's own under `<root>/.tmp/`, after deleting those of
    /// nodes that are gone.
    pub(crate) fn per_node(root: &Path) -> io::Result<TempArea> {
        let parent = root.join(TEMP_DIR);
        fs::create_dir_all(&parent)?;
        let swept = sweep(&parent);
        if swept > 0 {
            tracing::info!(
                count = swept,
                "deleted the temporary directories of stopped nodes"
            );
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = parent.join(format!("{}.{}.{nanos:x}", host(), std::process::id()));
        fs::create_dir(&dir)?;
        let unborn = dir.join("lock.new");
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&unborn)?;
        file.lock()?;
        fs::rename(&unborn, dir.join(LOCK))?;
        Ok(TempArea {
            dir,
            lock: Some(file),
        })
    }

    /// The directory stores are written in.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TempArea {
    fn drop(&mut self) {
        // Our own directory goes with us (its spare files were removed by then); the lock is
        // released only after, so no other node deletes it under our feet.
        if let Some(lock) = self.lock.take() {
            let _ = fs::remove_dir_all(&self.dir);
            drop(lock);
        }
    }
}

/// Deletes the node directories under `parent` whose owners are gone. Returns how many.
fn sweep(parent: &Path) -> usize {
    let Ok(entries) = fs::read_dir(parent) else {
        return 0;
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = entry.path();
        let dead = match File::open(dir.join(LOCK)) {
            // Taking the lock means nobody holds it; we keep it until the directory is gone.
            Ok(lock) => lock.try_lock().is_ok(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > UNBORN_AFTER),
            Err(_) => false,
        };
        if dead && fs::remove_dir_all(&dir).is_ok() {
            swept += 1;
        }
    }
    swept
}

/// This host's name (for telling node directories apart by eye), or `node`.
fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_node_keeps_its_directory_and_a_dead_one_loses_it() {
        let root = std::env::temp_dir().join(format!("dimse-temp-area-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let a = TempArea::per_node(&root).unwrap();
        // A node that died: its lock file is there, nobody holds it.
        let dead = root.join(TEMP_DIR).join("gone.1.0");
        fs::create_dir_all(&dead).unwrap();
        fs::write(dead.join(LOCK), b"").unwrap();
        fs::write(dead.join("1.0.part"), b"half").unwrap();
        // One being born right now: no lock yet, young.
        let young = root.join(TEMP_DIR).join("young.2.0");
        fs::create_dir_all(&young).unwrap();
        let b = TempArea::per_node(&root).unwrap();
        assert!(a.dir().is_dir(), "a live node's directory was swept");
        assert!(!dead.exists());
        assert!(young.exists());
        assert_ne!(a.dir(), b.dir());
        let a_dir = a.dir().to_path_buf();
        drop(a);
        assert!(!a_dir.exists());
        drop(b);
        let _ = fs::remove_dir_all(&root);
    }
}
