use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dimse_core::assoc::{
    AbstractSyntaxMatch, AcceptorPolicy, SupportedSyntax, TransferSyntaxChoice,
};
use dimse_core::commitment::{CommitmentReport, CommitmentRequest};
use dimse_core::dimse::Status;
use dimse_core::uid;
use dimse_std::{
    FindRequest, Handler, Instances, Matches, Peer, RetrieveRequest, StoreRequest, StoreSink,
};

use crate::commit::Committer;
use crate::config::{Config, Service};
use crate::error::{ArchiveError, IndexError};
use crate::index::postgres::Postgres;
use crate::index::sqlite::Sqlite;
use crate::index::Counts;
use crate::index::{Index, IndexLocation};
use crate::spare::Spares;
use crate::state::Inner;
use crate::temp::TempArea;
use crate::{commitment, find, store};

/// A Storage and Query/Retrieve archive over a directory; a [`Handler`] for
/// [`dimse_std::Scp`]. Cloning is cheap and shares the archive.
#[derive(Clone)]
pub struct Archive {
    pub(crate) inner: Arc<Inner>,
}

const INDEX_FILE: &str = "index.sqlite";

impl Archive {
    /// Opens the archive under `root` (created if missing).
    ///
    /// With the SQLite index it then reconciles files with the index: leftovers of
    /// interrupted stores are deleted, rows without a file dropped, files without a row
    /// indexed. With PostgreSQL, whose database other archives over the same root may be
    /// writing, it only migrates the schema and deletes the temporary files of archives that
    /// are gone: no scan of the store, whose size does not slow the start.
    pub fn open(root: impl Into<PathBuf>, config: Config) -> Result<Archive, ArchiveError> {
        let root = root.into();
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e| ArchiveError::Io(p, e)
        };
        fs::create_dir_all(&root).map_err(io(&root))?;
        let index: Arc<dyn Index> = match &config.index {
            IndexLocation::Sqlite => Arc::new(Sqlite::open(root.join(INDEX_FILE), config.durable)?),
            IndexLocation::Postgres(url) => Arc::new(Postgres::connect(url)?),
        };
        let shared = index.shared();
        let temp = if shared {
            TempArea::per_node(&root)
        } else {
            TempArea::exclusive(&root)
        }
        .map_err(io(&root.join(crate::temp::TEMP_DIR)))?;
        let archive = Archive {
            inner: Arc::new(Inner {
                committer: Committer::new(index, config.durable, root.clone()),
                spares: Spares::new(temp.dir().to_path_buf()),
                _temp: temp,
                root,
                config,
            }),
        };
        if !shared {
            archive.reconcile()?;
        }
        Ok(archive)
    }

    /// The directory the archive lives in.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    fn reconcile(&self) -> Result<(), ArchiveError> {
        let inner = &self.inner;
        let rows = inner.committer.flushed().all_paths()?;
        let mut known = HashSet::new();
        let mut gone = Vec::new();
        for (uid, path) in rows {
            if inner.root.join(&path).is_file() {
                known.insert(path);
            } else {
                gone.push(uid);
            }
        }
        if !gone.is_empty() {
            tracing::warn!(
                count = gone.len(),
                "dropping index rows whose files are missing"
            );
            inner.committer.flushed().remove(&gone)?;
        }
        let mut added = 0usize;
        for path in dcm_files(&inner.root) {
            let Some(rel) = relative(&inner.root, &path) else {
                continue;
            };
            if known.contains(&rel) {
                continue;
            }
            match store::entry_for_file(&path, rel) {
                Ok(entry) => match inner.committer.submit(entry, Vec::new()) {
                    Ok(_) => added += 1,
                    Err(e) => tracing::warn!(file = %path.display(), error = %e, "cannot index"),
                },
                Err(e) => tracing::warn!(file = %path.display(), error = %e, "cannot index"),
            }
        }
        if added > 0 {
            tracing::warn!(count = added, "indexed files that had no index row");
        }
        Ok(())
    }

    /// How many patients, studies, series and instances the index holds (after every
    /// instance acknowledged so far is committed).
    pub fn counts(&self) -> Result<Counts, IndexError> {
        self.inner.committer.flushed().counts()
    }

    /// The negotiation policy that offers what the archive serves: Verification, every storage
    /// SOP class (any transfer syntax, the requestor's order; the SCU role for C-GET), and
    /// FIND, MOVE and GET of the Patient Root and Study Root models. A requestor may keep up
    /// to [`dimse_std::ASYNC_WINDOW`] requests in flight (they are served in order).
    pub fn policy(&self) -> AcceptorPolicy {
        let mut policy = AcceptorPolicy::new(&self.inner.config.ae_title);
        policy.async_window = (dimse_std::ASYNC_WINDOW, 1);
        let plain = [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];
        policy
            .supported
            .push(SupportedSyntax::uid(uid::VERIFICATION, &plain));
        for sop in [
            uid::STORAGE_COMMITMENT_PUSH_MODEL,
            uid::PATIENT_ROOT_QR_FIND,
            uid::PATIENT_ROOT_QR_MOVE,
            uid::PATIENT_ROOT_QR_GET,
            uid::STUDY_ROOT_QR_FIND,
            uid::STUDY_ROOT_QR_MOVE,
            uid::STUDY_ROOT_QR_GET,
        ] {
            policy.supported.push(SupportedSyntax::uid(sop, &plain));
        }
        policy.supported.push(SupportedSyntax {
            abstract_syntax: AbstractSyntaxMatch::AnyStorage,
            transfer_syntaxes: TransferSyntaxChoice::RequestorOrder,
            accept_scu_role: true,
        });
        if let Some(callers) = self.inner.config.access.callers() {
            policy.allowed_calling_aes = Some(callers.into_iter().collect());
        }
        policy
    }

    fn check(&self, peer: &Peer, service: Service) -> Result<(), Status> {
        if self.inner.config.access.allows(&peer.calling_ae, service) {
            Ok(())
        } else {
            tracing::warn!(calling_ae = %peer.calling_ae, ?service, "not authorized");
            Err(Status::NOT_AUTHORIZED)
        }
    }
}

fn relative(root: &Path, path: &Path) -> Option<String> {
    path.strip_prefix(root).ok()?.to_str().map(str::to_string)
}

/// The `.dcm` files under `root`, not descending into hidden directories.
fn dcm_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            match entry.file_type() {
                Ok(t) if t.is_dir() && !hidden => stack.push(path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "dcm") => {
                    out.push(path)
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

impl Handler for Archive {
    fn echo(&self, peer: &Peer) -> Status {
        match self.check(peer, Service::Echo) {
            Ok(()) => Status::SUCCESS,
            Err(s) => s,
        }
    }

    fn store(&self, peer: &Peer, request: &StoreRequest) -> Result<Box<dyn StoreSink>, Status> {
        self.check(peer, Service::Store)?;
        store::begin(&self.inner, peer, request)
    }

    fn find(&self, peer: &Peer, request: &FindRequest) -> Result<Matches, Status> {
        self.check(peer, Service::Find)?;
        find::find(&self.inner, &request.sop_class_uid, &request.identifier)
    }

    fn retrieve(&self, peer: &Peer, request: &RetrieveRequest) -> Result<Instances, Status> {
        let service = if request.destination.is_some() {
            Service::Move
        } else {
            Service::Get
        };
        self.check(peer, service)?;
        find::locate(&self.inner, &request.sop_class_uid, &request.identifier)
    }

    fn commit(&self, peer: &Peer, request: &CommitmentRequest) -> Result<CommitmentReport, Status> {
        self.check(peer, Service::Commit)?;
        Ok(commitment::report(&self.inner, request))
    }
}
