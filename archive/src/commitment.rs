//! Storage Commitment (PS3.4 Annex J) over the archive: an instance is committed when the
//! index holds it under the requested SOP class and its file, with the directories that
//! lead to it, has reached the disk.
//!
//! A non-durable archive answers C-STOREs before fsync, so committing is where that
//! promise is made good: each file and directory of the request is synced once.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use dimse_core::commitment::{
    CommitmentReport, CommitmentRequest, SopRef, CLASS_INSTANCE_CONFLICT, NO_SUCH_INSTANCE,
    PROCESSING_FAILURE,
};
use dimse_core::uid;

use crate::state::Inner;

/// The archive's answer to `request`: every reference committed or failed with a reason.
pub(crate) fn report(archive: &Inner, request: &CommitmentRequest) -> CommitmentReport {
    let mut report = CommitmentReport {
        transaction_uid: request.transaction_uid.clone(),
        ..Default::default()
    };
    // Directories to sync after the files, each once, deepest first.
    let mut dirs = BTreeSet::new();
    let mut held = Vec::new();
    for reference in &request.references {
        match locate(archive, reference) {
            Ok(file) => {
                let mut dir = file.parent();
                while let Some(d) = dir.filter(|d| d.starts_with(archive.root.as_path())) {
                    dirs.insert(d.to_path_buf());
                    dir = d.parent();
                }
                held.push((reference, file));
            }
            Err(reason) => report.failed.push((reference.clone(), reason)),
        }
    }
    let mut dirs_failed = false;
    for dir in dirs.iter().rev() {
        if let Err(error) = sync(dir) {
            tracing::warn!(dir = %dir.display(), %error, "cannot sync a directory for Storage Commitment");
            dirs_failed = true;
        }
    }
    for (reference, file) in held {
        match sync(&file) {
            Ok(()) if !dirs_failed => report.committed.push(reference.clone()),
            Ok(()) => report.failed.push((reference.clone(), PROCESSING_FAILURE)),
            Err(error) => {
                tracing::warn!(file = %file.display(), %error, "cannot sync a file for Storage Commitment");
                let reason = if error.kind() == io::ErrorKind::NotFound {
                    NO_SUCH_INSTANCE
                } else {
                    PROCESSING_FAILURE
                };
                report.failed.push((reference.clone(), reason));
            }
        }
    }
    tracing::info!(
        transaction = %report.transaction_uid,
        committed = report.committed.len(),
        failed = report.failed.len(),
        "Storage Commitment"
    );
    report
}

/// The file holding `reference`, or the Failure Reason why there is none.
fn locate(archive: &Inner, reference: &SopRef) -> Result<PathBuf, u16> {
    let found = archive
        .committer
        .flushed()
        .instance(uid::trim(&reference.instance_uid))
        .map_err(|error| {
            tracing::warn!(%error, "cannot look up an instance for Storage Commitment");
            PROCESSING_FAILURE
        })?;
    let Some((class, path)) = found else {
        return Err(NO_SUCH_INSTANCE);
    };
    if class != uid::trim(&reference.class_uid) {
        return Err(CLASS_INSTANCE_CONFLICT);
    }
    Ok(archive.root.as_path().join(path))
}

fn sync(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}
