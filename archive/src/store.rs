//! Receiving C-STOREs: a temporary file, its attributes read back, a rename, an index row.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::Status;
use dimse_core::part10::FileMeta;
use dimse_core::uid::{self, TransferSyntax};
use dimse_std::{Peer, StoreFile, StoreRequest, StoreSink};

use crate::config::Duplicates;
use crate::gather::Gather;
use crate::index::Entry;
use crate::levels::{self, Records};
use crate::state::Inner;
use std::sync::Arc;

/// Attributes are read from the head of the data set; a header bigger than this (before
/// Pixel Data) is refused rather than read into memory.
const MAX_HEADER: u64 = 64 * 1024 * 1024;

/// How much of the data set's start a sink copies as it streams by, so that the attributes
/// of a usual instance are parsed without reading its file back (a longer header is read back
/// from the file). Copied, not shared with the connection's read buffer: a shared slice kept
/// the whole buffer alive until the instance was stored, so the next read had to allocate a
/// fresh one, and page-faulting it in cost more than this copy.
const HEAD_KEPT: usize = 16 * 1024;

/// Why an instance was not stored, and the status that says so.
enum Refusal {
    Io(String),
    Refused(Status, String),
}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Self {
        Refusal::Io(e.to_string())
    }
}

pub(crate) fn begin(
    archive: &Arc<Inner>,
    peer: &Peer,
    request: &StoreRequest,
) -> Result<Box<dyn StoreSink>, Status> {
    let rq = &request.request;
    let sop_uid = rq.affected_sop_instance_uid.trim_end_matches(['\0', ' ']);
    if !uid::is_valid_uid(sop_uid)
        || !uid::is_valid_uid(rq.affected_sop_class_uid.trim_end_matches('\0'))
    {
        tracing::warn!("refusing C-STORE with an invalid UID");
        return Err(Status::UNABLE_TO_PROCESS);
    }
    let Some(ts) = uid::transfer_syntax(&request.transfer_syntax) else {
        // The framework only accepts syntaxes it knows; this would be a bug, not peer input.
        return Err(Status::UNABLE_TO_PROCESS);
    };
    let mut meta = FileMeta::new(&rq.affected_sop_class_uid, sop_uid, ts.uid);
    meta.sending_ae_title = Some(peer.calling_ae.clone()).filter(|s| !s.is_empty());
    meta.receiving_ae_title = Some(peer.called_ae.clone()).filter(|s| !s.is_empty());
    let mut head = BytesMut::with_capacity(meta.encoded_len());
    meta.encode(&mut head);
    let (temp, file) = match archive.spares.take() {
        Ok(ready) => ready,
        Err(e) => {
            tracing::warn!(error = %e, "cannot create a file for C-STORE");
            return Err(Status::OUT_OF_RESOURCES);
        }
    };
    // The meta header is gathered with the data set's first fragments (see `gather`).
    let mut out = Gather::new(file);
    if let Err(e) = out.write(&head) {
        tracing::warn!(error = %e, "cannot write a file for C-STORE");
        drop(out);
        let _ = fs::remove_file(&temp);
        return Err(Status::OUT_OF_RESOURCES);
    }
    Ok(Box::new(Sink {
        archive: archive.clone(),
        out,
        head: Vec::new(),
        written: 0,
        temp,
        data_offset: head.len() as u64,
        sop_uid: sop_uid.to_string(),
        sop_class: rq.affected_sop_class_uid.trim_end_matches('\0').to_string(),
        ts,
    }))
}

struct Sink {
    archive: Arc<Inner>,
    out: Gather,
    /// The first [`HEAD_KEPT`] bytes of the data set.
    head: Vec<u8>,
    /// Bytes of the data set so far.
    written: u64,
    temp: PathBuf,
    data_offset: u64,
    sop_uid: String,
    sop_class: String,
    ts: &'static TransferSyntax,
}

impl StoreSink for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.write_bytes(Bytes::copy_from_slice(data))
    }

    fn write_bytes(&mut self, data: Bytes) -> io::Result<()> {
        let room = HEAD_KEPT.saturating_sub(self.head.len());
        if room > 0 {
            self.head.extend_from_slice(&data[..room.min(data.len())]);
        }
        self.written += data.len() as u64;
        self.out.write(&data)
    }

    fn finish(self: Box<Self>) -> Status {
        let temp = self.temp.clone();
        let outcome = self.commit();
        if outcome.is_err() {
            // After a successful commit the temporary file has been renamed away.
            let _ = fs::remove_file(&temp);
        }
        match outcome {
            Ok(status) => status,
            Err(Refusal::Io(e)) => {
                tracing::warn!(error = %e, "storing an instance failed");
                Status::OUT_OF_RESOURCES
            }
            Err(Refusal::Refused(status, why)) => {
                tracing::warn!(status = %format!("{:04X}", status.0), "refused: {why}");
                status
            }
        }
    }

    fn discard(self: Box<Self>) {
        let temp = self.temp.clone();
        drop(self);
        let _ = fs::remove_file(temp);
    }
}

impl Sink {
    fn commit(mut self) -> Result<Status, Refusal> {
        let inner = &self.archive;
        let file = self.out.into_file()?;
        if inner.config.durable {
            file.sync_all()?;
        }
        let head = Bytes::from(std::mem::take(&mut self.head));
        let ds = match attributes_in(head, self.written, self.ts) {
            Some(ds) => ds,
            None => read_attributes(&self.temp, self.data_offset, self.ts)?,
        };
        let rel = relative_path(&ds, &self.sop_uid)?;
        if inner.config.duplicates != Duplicates::Replace && self.archive.contains(&self.sop_uid) {
            fs::remove_file(&self.temp)?;
            return Ok(match inner.config.duplicates {
                Duplicates::Reject => Status::DUPLICATE_SOP_INSTANCE,
                _ => Status::SUCCESS,
            });
        }
        let path = inner.root.join(&rel);
        let series_dir = path.parent().expect("a relative path of three parts");
        let study_dir = series_dir.parent().expect("a relative path of three parts");
        // The series directory usually exists already: try first, create it only if missing.
        if let Err(e) = fs::rename(&self.temp, &path) {
            if e.kind() != io::ErrorKind::NotFound {
                return Err(e.into());
            }
            fs::create_dir_all(series_dir)?;
            fs::rename(&self.temp, &path)?;
        }
        let entry = entry(
            &ds,
            rel,
            self.sop_uid.clone(),
            self.sop_class.clone(),
            self.ts,
        );
        let dirs = vec![
            series_dir.to_path_buf(),
            study_dir.to_path_buf(),
            inner.root.clone(),
        ];
        match inner.committer.index(entry, dirs) {
            Ok(replaced) => {
                if let Some(old) = replaced {
                    let _ = fs::remove_file(inner.root.join(old));
                }
                Ok(Status::SUCCESS)
            }
            Err(e) => {
                // A durable archive answers after its commit, so not indexed means not
                // stored: take the file back so none is visible that the peer was told failed.
                // Not with a shared index: the rename may have replaced a file that a row
                // (committed by any node) names, and deleting it would lose that instance.
                // The complete file stays, unindexed and so not served, until the instance
                // is stored again.
                if !inner.committer.shared() {
                    let _ = fs::remove_file(&path);
                }
                Err(Refusal::Io(e))
            }
        }
    }
}

/// `<study>/<series>/<sop>.dcm`, from UIDs that are checked to be digits and dots.
fn relative_path(ds: &DataSet, sop_uid: &str) -> Result<String, Refusal> {
    let uid = |tag: Tag, name: &str| -> Result<String, Refusal> {
        match ds.get_uid(tag) {
            Some(Ok(u)) if uid::is_valid_uid(&u) => Ok(u),
            _ => Err(Refusal::Refused(
                Status::DOES_NOT_MATCH_SOP_CLASS,
                format!("no valid {name} in the data set"),
            )),
        }
    };
    let study = uid(levels::STUDY_UID, "Study Instance UID")?;
    let series = uid(levels::SERIES_UID, "Series Instance UID")?;
    Ok(format!("{study}/{series}/{sop_uid}.dcm"))
}

fn entry(
    ds: &DataSet,
    path: String,
    sop_uid: String,
    sop_class: String,
    ts: &TransferSyntax,
) -> Entry {
    let text = |tag| {
        ds.get_str(tag)
            .and_then(Result::ok)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let patient_id = text(levels::PATIENT_ID);
    let anonymous_key = if patient_id.is_empty() {
        format!(
            "{}\\{}",
            text(levels::PATIENT_NAME),
            text(levels::PATIENT_BIRTH_DATE)
        )
    } else {
        String::new()
    };
    Entry {
        patient_id,
        anonymous_key,
        issuer: text(levels::ISSUER_OF_PATIENT_ID),
        study_uid: text(levels::STUDY_UID),
        series_uid: text(levels::SERIES_UID),
        modality: text(levels::MODALITY),
        records: Records::split(ds),
        transfer_syntax: ts.uid.to_string(),
        sop_uid,
        sop_class,
        path,
    }
}

/// The index entry of a Part 10 file already in place (start-up reconciliation).
pub(crate) fn entry_for_file(path: &Path, rel: String) -> Result<Entry, String> {
    let file = StoreFile::open(path).map_err(|e| e.to_string())?;
    let ts = uid::transfer_syntax(&file.transfer_syntax_uid)
        .ok_or_else(|| format!("unknown transfer syntax {}", file.transfer_syntax_uid))?;
    let ds = read_attributes(path, file.data_offset, ts).map_err(|e| match e {
        Refusal::Io(e) | Refusal::Refused(_, e) => e,
    })?;
    if !uid::is_valid_uid(&file.sop_instance_uid) {
        return Err("invalid SOP Instance UID".into());
    }
    Ok(entry(
        &ds,
        rel,
        file.sop_instance_uid,
        file.sop_class_uid,
        ts,
    ))
}

/// The top-level attributes before Pixel Data if `head`, the first bytes of a data set of
/// `total` bytes, holds all of them.
fn attributes_in(head: Bytes, total: u64, ts: &TransferSyntax) -> Option<DataSet> {
    if ts.deflated {
        return None;
    }
    decode_head(head, total, ts).ok()?
}

/// Decodes the attributes before Pixel Data from `data`, the first bytes of a data set of
/// `total` bytes: `None` when they run past `data`.
fn decode_head(
    data: Bytes,
    total: u64,
    ts: &TransferSyntax,
) -> Result<Option<DataSet>, dimse_core::dataset::DataSetError> {
    if data.len() as u64 >= total {
        DataSet::decode_until(data, ts, Tag::PIXEL_DATA).map(Some)
    } else {
        DataSet::decode_prefix_until(data, ts, Tag::PIXEL_DATA)
    }
}

/// Decodes the top-level attributes before Pixel Data, reading as little of the file as
/// needed: 64 KiB first, more only if the header runs past it.
fn read_attributes(path: &Path, offset: u64, ts: &TransferSyntax) -> Result<DataSet, Refusal> {
    let mut file = File::open(path)?;
    let total = file.metadata()?.len().saturating_sub(offset);
    let cannot =
        |e: String| Refusal::Refused(Status::UNABLE_TO_PROCESS, format!("cannot parse: {e}"));
    let mut want = if ts.deflated {
        total
    } else {
        total.min(64 * 1024)
    };
    loop {
        if want > MAX_HEADER && !ts.deflated {
            return Err(cannot("more than 64 MiB before Pixel Data".into()));
        }
        let mut buf = Vec::with_capacity(want as usize);
        file.seek(SeekFrom::Start(offset))?;
        (&mut file).take(want).read_to_end(&mut buf)?;
        match decode_head(Bytes::from(buf), total, ts) {
            Ok(Some(ds)) => return Ok(ds),
            Ok(None) if want < total => want = (want * 4).min(total),
            Ok(None) => return Err(cannot("the file ended early".into())),
            Err(e) => return Err(cannot(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head a sink copies is short: a header that runs past it is read back from the file.
    #[test]
    fn a_header_longer_than_the_kept_head_is_read_back_from_the_file() {
        let ts = &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
        let comments = "x".repeat(HEAD_KEPT);
        let ds = DataSet::new()
            .with("PatientID", "P1")
            .and_then(|d| d.with("ImageComments", &comments))
            .unwrap();
        let mut data = BytesMut::new();
        ds.encode(ts, &mut data);
        // (7FE0,0010) OB, four bytes.
        data.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 4, 0, 0, 0]);
        data.extend_from_slice(&[1, 2, 3, 4]);
        let data = data.freeze();
        let total = data.len() as u64;

        assert!(attributes_in(data.slice(..HEAD_KEPT), total, ts).is_none());
        let whole = attributes_in(data.clone(), total, ts).expect("the whole header parses");
        assert_eq!(whole.get_str(Tag(0x0010, 0x0020)).unwrap().unwrap(), "P1");

        let path = std::env::temp_dir().join(format!("dimse-head-{}.dcm", std::process::id()));
        let offset = 132;
        let mut file = vec![0u8; offset];
        file.extend_from_slice(&data);
        fs::write(&path, &file).unwrap();
        let read = read_attributes(&path, offset as u64, ts);
        let _ = fs::remove_file(&path);
        let Ok(read) = read else {
            panic!("the header was not read back");
        };
        assert_eq!(read.get_str(Tag(0x0010, 0x0020)).unwrap().unwrap(), "P1");
        let read_comments = read.get_str(Tag(0x0020, 0x4000)).unwrap().unwrap();
        assert_eq!(read_comments.len(), HEAD_KEPT);
    }
}
