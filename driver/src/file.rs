//! Part 10 files as C-STORE sources.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::{self, DataSetError};
use dimse_core::part10::{FileMeta, Part10Error, MAX_META_LEN};
use dimse_core::uid;

/// Files up to this size are checked element by element before sending, so a truncated or
/// corrupt file fails alone instead of aborting the association half-way.
const VALIDATE_LIMIT: u64 = 256 * 1024 * 1024;

/// A Part 10 file ready to be sent: what to announce and where its data set lies.
#[derive(Debug, Clone)]
pub struct StoreFile {
    /// The file.
    pub path: PathBuf,
    /// SOP class UID (from the data set, else the file meta).
    pub sop_class_uid: String,
    /// SOP instance UID (from the data set, else the file meta).
    pub sop_instance_uid: String,
    /// Transfer syntax of the data set.
    pub transfer_syntax_uid: String,
    /// Offset of the data set in the file.
    pub data_offset: u64,
    /// Length of the data set.
    pub data_len: u64,
}

/// Why a file cannot be sent.
#[derive(Debug)]
pub enum StoreFileError {
    /// Reading the file failed.
    Io(PathBuf, io::Error),
    /// The file meta is missing or broken.
    Part10(PathBuf, Part10Error),
    /// The data set is structurally broken (e.g. truncated).
    DataSet(PathBuf, DataSetError),
    /// A required UID is empty.
    MissingUid(PathBuf, &'static str),
    /// The transfer syntax is not one we know how to frame.
    UnknownTransferSyntax(PathBuf, String),
    /// The data set could not be converted to the syntax the peer accepted.
    Convert(PathBuf, String),
}

impl fmt::Display for StoreFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreFileError::Io(p, e) => write!(f, "{}: cannot read: {e}", p.display()),
            StoreFileError::Part10(p, e) => {
                write!(f, "{}: not a valid DICOM file: {e}", p.display())
            }
            StoreFileError::DataSet(p, e) => {
                write!(f, "{}: corrupt data set: {e}", p.display())
            }
            StoreFileError::MissingUid(p, what) => write!(f, "{}: no {what}", p.display()),
            StoreFileError::UnknownTransferSyntax(p, ts) => {
                write!(f, "{}: unknown transfer syntax {ts:?}", p.display())
            }
            StoreFileError::Convert(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for StoreFileError {}

impl StoreFile {
    /// Read the file meta of `path` and check the data set's structure.
    pub fn open(path: &Path) -> Result<StoreFile, StoreFileError> {
        let io_err = |e| StoreFileError::Io(path.to_path_buf(), e);
        let mut file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let mut head = Vec::new();
        (&mut file)
            .take(MAX_META_LEN as u64 + 1024)
            .read_to_end(&mut head)
            .map_err(io_err)?;
        let (meta, offset) = match FileMeta::parse(&head) {
            Ok(Some(found)) => found,
            Ok(None) => FileMeta::parse_file(&head)
                .map_err(|e| StoreFileError::Part10(path.to_path_buf(), e))?,
            Err(e) => return Err(StoreFileError::Part10(path.to_path_buf(), e)),
        };
        let ts = uid::transfer_syntax(&meta.transfer_syntax_uid).ok_or_else(|| {
            StoreFileError::UnknownTransferSyntax(
                path.to_path_buf(),
                meta.transfer_syntax_uid.clone(),
            )
        })?;
        let mut sop_class = meta.media_storage_sop_class_uid.clone();
        let mut sop_instance = meta.media_storage_sop_instance_uid.clone();
        if len <= VALIDATE_LIMIT {
            file.seek(SeekFrom::Start(offset as u64)).map_err(io_err)?;
            let uids = SCRATCH.with_borrow_mut(|data| {
                data.clear();
                file.read_to_end(data).map_err(io_err)?;
                let found = check_data_set(path, data, ts);
                // Keep the buffer for the next file (its pages are already mapped), unless
                // it is unusually large.
                if data.capacity() > KEEP_SCRATCH {
                    *data = Vec::new();
                }
                found
            })?;
            if let Some((class, instance)) = uids {
                sop_class = class;
                sop_instance = instance;
            }
        }
        if sop_class.is_empty() {
            return Err(StoreFileError::MissingUid(
                path.to_path_buf(),
                "SOP class UID",
            ));
        }
        if sop_instance.is_empty() {
            return Err(StoreFileError::MissingUid(
                path.to_path_buf(),
                "SOP instance UID",
            ));
        }
        Ok(StoreFile {
            path: path.to_path_buf(),
            sop_class_uid: sop_class,
            sop_instance_uid: sop_instance,
            transfer_syntax_uid: ts.uid.to_string(),
            data_offset: offset as u64,
            data_len: len - offset as u64,
        })
    }

    /// A reader positioned at the data set.
    pub fn data_reader(&self) -> Result<std::io::Take<File>, StoreFileError> {
        let io_err = |e| StoreFileError::Io(self.path.clone(), e);
        let mut file = File::open(&self.path).map_err(io_err)?;
        file.seek(SeekFrom::Start(self.data_offset))
            .map_err(io_err)?;
        Ok(file.take(self.data_len))
    }
}

/// Scratch space for [`StoreFile::open`]'s check, reused across files: a fresh buffer per file
/// costs a page fault and a zeroed page for every 4 KiB read (a fifth of `dimse store`'s time
/// on 32 MiB instances, measured with perf).
const KEEP_SCRATCH: usize = 64 * 1024 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Checks the data set strictly and reads its own SOP Class and Instance UIDs (not for
/// deflated data sets, which the walker does not inflate: `None`).
fn check_data_set(
    path: &Path,
    data: &[u8],
    ts: &uid::TransferSyntax,
) -> Result<Option<(String, String)>, StoreFileError> {
    let ds_err = |e| StoreFileError::DataSet(path.to_path_buf(), e);
    dataset::validate_strict(data, ts).map_err(ds_err)?;
    if ts.deflated {
        return Ok(None);
    }
    // The data set is what the peer stores: its own UIDs win over a stale meta.
    let class = dataset::find_top_level_string(data, ts, (0x0008, 0x0016))
        .map_err(ds_err)?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            StoreFileError::MissingUid(
                path.to_path_buf(),
                "SOP Class UID (0008,0016) in the data set",
            )
        })?;
    // SOP Common is mandatory in every composite instance: a data set without its own UIDs is
    // not an instance a receiver can file.
    let instance = dataset::find_top_level_string(data, ts, (0x0008, 0x0018))
        .map_err(ds_err)?
        .filter(|i| !i.is_empty())
        .ok_or_else(|| {
            StoreFileError::MissingUid(
                path.to_path_buf(),
                "SOP Instance UID (0008,0018) in the data set",
            )
        })?;
    Ok(Some((class, instance)))
}

/// PS3.8 allows 128 presentation contexts per association (odd IDs 1–255).
const MAX_CONTEXTS: usize = 128;

/// Syntaxes an uncompressed file may be converted to when the peer does not accept its own,
/// in order of preference (proposed in one context per SOP class, see [`store_contexts`]).
pub const FALLBACKS: [&str; 2] = [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];

/// Whether `ts` is one of the uncompressed syntaxes [`dataset::transcode`] converts between.
fn convertible(ts: &uid::TransferSyntax) -> bool {
    dataset::can_transcode(ts, &uid::TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN)
}

/// How many of `files` fit in one association, and the contexts they need: one per distinct
/// (SOP class, transfer syntax) holding that syntax alone, so each file goes in its own
/// encoding; and, for each SOP class with uncompressed files, one more context offering the
/// [`FALLBACKS`], for peers that accept none of the files' own syntaxes.
///
/// The fallbacks get a context of their own rather than a place after the file's syntax in the
/// same context: an acceptor picks one syntax per context by *its* preference (DCMTK `storescp`
/// prefers Explicit VR Little Endian whatever the order proposed), which would turn files it
/// accepts as they are into needless conversions.
pub fn store_contexts(files: &[StoreFile]) -> (usize, Vec<ProposedContext>) {
    let mut pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut fallbacks: BTreeSet<&str> = BTreeSet::new();
    let mut n = 0;
    for f in files {
        let class = f.sop_class_uid.as_str();
        let pair = (class, f.transfer_syntax_uid.as_str());
        let needs_fallback = uid::transfer_syntax(pair.1).is_some_and(convertible);
        let added = usize::from(!pairs.contains(&pair))
            + usize::from(needs_fallback && !fallbacks.contains(class));
        if pairs.len() + fallbacks.len() + added > MAX_CONTEXTS && n > 0 {
            break;
        }
        pairs.insert(pair);
        if needs_fallback {
            fallbacks.insert(class);
        }
        n += 1;
    }
    let own = pairs
        .into_iter()
        .map(|(class, ts)| ProposedContext::new(class, &[ts]));
    let fallback = fallbacks
        .into_iter()
        .map(|class| ProposedContext::new(class, &FALLBACKS));
    (n, own.chain(fallback).collect())
}

/// How a file will travel on an association: the syntax it goes in, and the conversion that
/// needs (from, to), if any.
pub(crate) fn plan(
    file: &StoreFile,
    accepted: impl Fn(&str) -> bool,
) -> Option<(
    String,
    Option<(&'static uid::TransferSyntax, &'static uid::TransferSyntax)>,
)> {
    if accepted(&file.transfer_syntax_uid) {
        return Some((file.transfer_syntax_uid.clone(), None));
    }
    let from = uid::transfer_syntax(&file.transfer_syntax_uid).filter(|t| convertible(t))?;
    let to = FALLBACKS
        .iter()
        .copied()
        .find(|ts| accepted(ts))
        .and_then(uid::transfer_syntax)?;
    Some((to.uid.to_string(), Some((from, to))))
}
