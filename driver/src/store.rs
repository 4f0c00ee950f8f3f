//! A storage handler that writes each received instance as a Part 10 file.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use dimse_core::dimse::Status;
use dimse_core::part10::FileMeta;
use dimse_core::uid;

use crate::handler::{Handler, Peer, StoreRequest, StoreSink};

/// Stores instances under a directory as `<SOP Instance UID>.dcm`, written to a temporary name
/// and renamed into place before success is answered: a crash never leaves a half-written
/// instance under its final name.
///
/// ```
/// use dimse_std::{DirectoryStore, Scp};
///
/// let root = std::env::temp_dir().join(format!("dimse-archive-{}", std::process::id()));
/// let store = DirectoryStore::new(&root).unwrap();
/// let server = Scp::new(DirectoryStore::policy("DIMSE"), store).bind("127.0.0.1:0").unwrap();
/// let server = server.spawn().unwrap(); // or `server.run()`, to serve on this thread
/// # // A modality sends it a CT image.
/// # use dimse_core::{assoc::ProposedContext, dataset::DataSet, part10::FileMeta, uid};
/// # let (ct, instance) = (uid::CT_IMAGE_STORAGE, "1.2.826.0.1.3680043.2.1.1");
/// # let data_set = DataSet::new()
/// #     .with("SOPClassUID", ct)?
/// #     .with("SOPInstanceUID", instance)?
/// #     .with("PatientID", "12345")?;
/// # let mut data = bytes::BytesMut::new();
/// # data_set.encode(&uid::TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut data);
/// # let me = dimse_core::Entity::local("DIMSE", server.local_addr().port());
/// # let contexts = vec![ProposedContext::new(ct, &[uid::EXPLICIT_VR_LE])];
/// # let mut assoc = dimse_std::Scu::new("CT_SCANNER").associate(&me, contexts)?;
/// # let rsp = assoc.store(ct, instance, uid::EXPLICIT_VR_LE, &data[..])?;
/// # assert!(rsp.status.is_success());
/// # assoc.release()?;
/// # // Answered with success: it is in place, a Part 10 file under its SOP Instance UID,
/// # // with nothing left under a temporary name.
/// # let file = std::fs::read(root.join(format!("{instance}.dcm")))?;
/// # let (meta, start) = FileMeta::parse_file(&file)?;
/// # assert_eq!(meta.media_storage_sop_class_uid, ct);
/// # assert_eq!(meta.media_storage_sop_instance_uid, instance);
/// # assert_eq!(meta.sending_ae_title.as_deref(), Some("CT_SCANNER"));
/// # assert_eq!(&file[start..], &data[..]);
/// # assert_eq!(std::fs::read_dir(&root)?.count(), 1);
/// server.stop();
/// # std::fs::remove_dir_all(&root)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DirectoryStore {
    root: PathBuf,
    counter: AtomicU64,
    /// Also fsync the file and its directory before answering.
    pub fsync: bool,
}

impl DirectoryStore {
    /// A store rooted at `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(DirectoryStore {
            root,
            counter: AtomicU64::new(0),
            fsync: false,
        })
    }

    /// The directory instances go to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A policy accepting Verification and every storage SOP class in the transfer syntax the
    /// sender prefers, as `ae_title`, with up to [`crate::ASYNC_WINDOW`] requests in flight.
    pub fn policy(ae_title: &str) -> dimse_core::assoc::AcceptorPolicy {
        use dimse_core::assoc::{AbstractSyntaxMatch, SupportedSyntax, TransferSyntaxChoice};
        use dimse_core::uid;
        let mut policy = dimse_core::assoc::AcceptorPolicy::new(ae_title);
        policy.async_window = (crate::ASYNC_WINDOW, 1);
        policy.supported.push(SupportedSyntax::uid(
            uid::VERIFICATION,
            &[uid::IMPLICIT_VR_LE, uid::EXPLICIT_VR_LE],
        ));
        policy.supported.push(SupportedSyntax {
            abstract_syntax: AbstractSyntaxMatch::AnyStorage,
            transfer_syntaxes: TransferSyntaxChoice::RequestorOrder,
            accept_scu_role: false,
        });
        policy
    }
}

impl Handler for DirectoryStore {
    fn store(&self, peer: &Peer, request: &StoreRequest) -> Result<Box<dyn StoreSink>, Status> {
        let rq = &request.request;
        let instance = rq.affected_sop_instance_uid.as_str();
        if !uid::is_valid_uid(instance) || !uid::is_valid_uid(&rq.affected_sop_class_uid) {
            tracing::warn!("refusing C-STORE with an invalid UID");
            return Err(Status::UNABLE_TO_PROCESS);
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let final_path = self.root.join(format!("{instance}.dcm"));
        let temp_path = self
            .root
            .join(format!(".{instance}.{}.{n}.part", std::process::id()));
        let mut meta = FileMeta::new(
            &rq.affected_sop_class_uid,
            instance,
            &request.transfer_syntax,
        );
        meta.sending_ae_title = Some(peer.calling_ae.clone()).filter(|s| !s.is_empty());
        meta.receiving_ae_title = Some(peer.called_ae.clone()).filter(|s| !s.is_empty());
        let open = || -> io::Result<BufWriter<File>> {
            let mut out = BufWriter::with_capacity(256 * 1024, File::create(&temp_path)?);
            let mut head = BytesMut::with_capacity(meta.encoded_len());
            meta.encode(&mut head);
            out.write_all(&head)?;
            Ok(out)
        };
        match open() {
            Ok(out) => Ok(Box::new(FileSink {
                out,
                temp_path,
                final_path,
                fsync: self.fsync,
            })),
            Err(e) => {
                tracing::warn!(error = %e, "cannot create file for C-STORE");
                let _ = fs::remove_file(&temp_path);
                Err(Status::OUT_OF_RESOURCES)
            }
        }
    }
}

struct FileSink {
    out: BufWriter<File>,
    temp_path: PathBuf,
    final_path: PathBuf,
    fsync: bool,
}

impl FileSink {
    fn commit(mut self) -> io::Result<()> {
        self.out.flush()?;
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        if self.fsync {
            file.sync_all()?;
        }
        drop(file);
        fs::rename(&self.temp_path, &self.final_path)?;
        if self.fsync {
            if let Some(dir) = self.final_path.parent() {
                File::open(dir)?.sync_all()?;
            }
        }
        Ok(())
    }
}

impl StoreSink for FileSink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.out.write_all(data)
    }

    fn finish(self: Box<Self>) -> Status {
        let temp = self.temp_path.clone();
        match self.commit() {
            Ok(()) => Status::SUCCESS,
            Err(e) => {
                tracing::warn!(error = %e, "storing instance failed");
                let _ = fs::remove_file(&temp);
                Status::OUT_OF_RESOURCES
            }
        }
    }

    fn discard(self: Box<Self>) {
        let temp = self.temp_path.clone();
        drop(self);
        let _ = fs::remove_file(temp);
    }
}
