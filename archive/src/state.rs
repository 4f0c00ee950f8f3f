//! What an open archive shares between its clones and the stores in progress.

use std::path::PathBuf;

use crate::commit::Committer;
use crate::config::Config;
use crate::spare::Spares;
use crate::temp::TempArea;

pub(crate) struct Inner {
    pub root: PathBuf,
    pub config: Config,
    pub committer: Committer,
    pub spares: Spares,
    /// Held for its lock, and dropped last: it removes a node's temporary directory,
    /// emptied by `spares` first.
    pub _temp: TempArea,
}

impl Inner {
    pub(crate) fn contains(&self, sop_uid: &str) -> bool {
        match self.committer.flushed().contains(sop_uid) {
            Ok(found) => found,
            Err(e) => {
                // Stored again rather than refused: a duplicate replaces, never loses data.
                tracing::warn!(error = %e, "cannot look up a stored instance");
                false
            }
        }
    }
}
