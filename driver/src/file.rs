//! Files as C-STORE sources, read as the field has them.
//!
//! dimse is a transport, not a validator: a file goes if its data set can be delimited and
//! it names a SOP Class and Instance somewhere (data set or file meta). Part 10 files with
//! or without preamble, raw data sets (syntax guessed from the first element, as DCMTK's
//! `+f` does), meta groups with gaps the data set fills, and values that break their VR's
//! character rules all go, the last ones byte for byte with a note the caller shows the user.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::{self, DataSetError, Tag};
use dimse_core::part10::{self, Layout, Part10Error, MAX_META_LEN, META_START};
use dimse_core::uid::{self, TransferSyntax};

mod pieces;

/// Every file is checked element by element before sending, so a truncated or corrupt file
/// fails alone instead of aborting the association half-way. Up to this size it is read whole
/// for the check (the quickest way); larger ones are walked piece by piece, bulk values
/// skipped, so memory stays small whatever the size.
const READ_WHOLE: u64 = 4 * 1024 * 1024;
/// A deflated data set can only be checked whole (it is inflated for it): up to this size.
const DEFLATED_LIMIT: u64 = 256 * 1024 * 1024;

/// A file ready to be sent: what to announce and where its data set lies.
#[derive(Debug, Clone)]
pub struct StoreFile {
    /// The file.
    pub path: PathBuf,
    /// SOP class UID (from the data set, else the file meta).
    pub sop_class_uid: String,
    /// SOP instance UID (from the data set, else the file meta).
    pub sop_instance_uid: String,
    /// Transfer syntax of the data set (from the file meta, else guessed).
    pub transfer_syntax_uid: String,
    /// Offset of the data set in the file.
    pub data_offset: u64,
    /// Length of the data set.
    pub data_len: u64,
    /// What the user should hear about the file although it goes: a guessed transfer
    /// syntax, a UID taken from the meta, values that break their VR's rules (sent as they
    /// are). Empty for a textbook file.
    pub notes: Vec<String>,
}

/// How strictly [`StoreFile::open_with`] reads values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Values {
    /// Send values that break their VR's character rules unchanged, with a note (DCMTK's
    /// behaviour).
    #[default]
    Lenient,
    /// Refuse a file with such a value.
    Strict,
}

/// Why a file cannot be sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreFileError {
    /// Reading the file failed.
    Io(PathBuf, io::Error),
    /// The file meta cannot be delimited.
    Part10(PathBuf, Part10Error),
    /// The data set is structurally broken (e.g. truncated), or, read strictly, has a value
    /// its VR forbids.
    DataSet(PathBuf, DataSetError),
    /// A required UID is in neither the data set nor the file meta.
    MissingUid(PathBuf, &'static str),
    /// The transfer syntax is not one we know how to frame.
    UnknownTransferSyntax(PathBuf, String),
    /// No file meta names the transfer syntax and the first bytes do not tell it.
    NoTransferSyntax(PathBuf),
    /// The data set could not be converted to the syntax the peer accepted.
    Convert(PathBuf, String),
}

impl fmt::Display for StoreFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreFileError::Io(p, e) => write!(f, "{}: cannot read: {e}", p.display()),
            StoreFileError::Part10(p, e) => {
                write!(f, "{}: broken file meta: {e}", p.display())
            }
            StoreFileError::DataSet(p, e) => {
                write!(f, "{}: corrupt data set: {e}", p.display())
            }
            StoreFileError::MissingUid(p, what) => write!(
                f,
                "{}: no {what} in the data set or the file meta",
                p.display()
            ),
            StoreFileError::UnknownTransferSyntax(p, ts) => {
                write!(f, "{}: unknown transfer syntax {ts:?}", p.display())
            }
            StoreFileError::NoTransferSyntax(p) => write!(
                f,
                "{}: not DICOM, or a data set whose encoding cannot be told: no file meta names \
                 its transfer syntax and the first element header reads as none",
                p.display()
            ),
            StoreFileError::Convert(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for StoreFileError {}

impl StoreFile {
    /// Reads the start of `path` leniently (see the documentation of this module,
    /// `dimse_driver::file`) and checks the data set's structure.
    pub fn open(path: &Path) -> Result<StoreFile, StoreFileError> {
        Self::open_with(path, Values::Lenient)
    }

    /// [`Self::open`], choosing what a value that breaks its VR's character rules does.
    pub fn open_with(path: &Path, values: Values) -> Result<StoreFile, StoreFileError> {
        let io_err = |e| StoreFileError::Io(path.to_path_buf(), e);
        let mut file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let mut notes = Vec::new();
        let (found, ts, own) = SCRATCH.with_borrow_mut(|scratch| {
            // A file of up to READ_WHOLE bytes comes in one read, which serves both the
            // meta and the check: reading the head first and the data set after cost a
            // dozen small reads and a second copy per file, a third of `dimse store`'s time
            // before the association on 2,000 files of 64 KiB (measured with strace).
            // A length of 0 is also what a FIFO reports: read it as a large file's head.
            let whole = len > 0 && len <= READ_WHOLE;
            let want = if whole {
                len as usize
            } else {
                META_START + MAX_META_LEN + 1024
            };
            let head = read_up_to(&mut file, scratch, want).map_err(io_err)?;
            let found = part10::read_layout(head)
                .map_err(|e| StoreFileError::Part10(path.to_path_buf(), e))?;
            let offset = found.data_offset;
            let ts = match &found.transfer_syntax_uid {
                Some(named) => uid::transfer_syntax(named).ok_or_else(|| {
                    StoreFileError::UnknownTransferSyntax(path.to_path_buf(), named.clone())
                })?,
                None => {
                    let guessed = part10::guess_transfer_syntax(head.get(offset..).unwrap_or(&[]))
                        .ok_or_else(|| StoreFileError::NoTransferSyntax(path.to_path_buf()))?;
                    notes.push(match found.layout {
                        Layout::NoMeta => format!("no file meta; read as {}", guessed.name),
                        _ => format!(
                            "the file meta names no transfer syntax; read as {}",
                            guessed.name
                        ),
                    });
                    guessed
                }
            };
            if found.layout == Layout::NoPreamble {
                notes.push("no preamble before the file meta".to_string());
            }
            let own = if whole {
                let data = head.get(offset..).unwrap_or(&[]);
                Some(check_data_set(path, data, ts, values, &mut notes)?)
            } else if ts.deflated && len <= DEFLATED_LIMIT {
                file.seek(SeekFrom::Start(offset as u64)).map_err(io_err)?;
                scratch.clear();
                file.read_to_end(scratch).map_err(io_err)?;
                Some(check_data_set(path, scratch, ts, values, &mut notes)?)
            } else if !ts.deflated {
                let data_len = len.saturating_sub(offset as u64);
                let checked =
                    pieces::check(&file, offset as u64, data_len, ts).map_err(|e| match e {
                        pieces::Broken::Io(e) => io_err(e),
                        pieces::Broken::DataSet(e) => {
                            StoreFileError::DataSet(path.to_path_buf(), e)
                        }
                    })?;
                note_values(path, checked.odd_values, values, &mut notes)?;
                notes.extend(checked.stopped);
                Some((checked.sop_class_uid, checked.sop_instance_uid))
            } else {
                notes.push(format!(
                    "a deflated data set over {} MiB: sent unchecked",
                    DEFLATED_LIMIT >> 20
                ));
                None
            };
            // Keep the buffer for the next file (its pages are already mapped), unless it
            // is unusually large.
            if scratch.capacity() > KEEP_SCRATCH {
                *scratch = Vec::new();
            }
            Ok::<_, StoreFileError>((found, ts, own))
        })?;
        let offset = found.data_offset;
        let mut sop_class = found.sop_class_uid;
        let mut sop_instance = found.sop_instance_uid;
        if let Some(own) = own {
            // The data set is what the peer stores: its own UIDs win over a stale meta.
            for ((name, from_data), from_meta) in
                [("SOP Class UID", own.0), ("SOP Instance UID", own.1)]
                    .into_iter()
                    .zip([&mut sop_class, &mut sop_instance])
            {
                match from_data {
                    Some(uid) => *from_meta = Some(uid),
                    None if from_meta.is_some() && !ts.deflated => notes.push(format!(
                        "the data set has no {name}; announced with the file meta's"
                    )),
                    None => {}
                }
            }
        }
        let sop_class = sop_class
            .ok_or_else(|| StoreFileError::MissingUid(path.to_path_buf(), "SOP Class UID"))?;
        let sop_instance = sop_instance
            .ok_or_else(|| StoreFileError::MissingUid(path.to_path_buf(), "SOP Instance UID"))?;
        Ok(StoreFile {
            path: path.to_path_buf(),
            sop_class_uid: sop_class,
            sop_instance_uid: sop_instance,
            transfer_syntax_uid: ts.uid.to_string(),
            data_offset: offset as u64,
            data_len: len.saturating_sub(offset as u64),
            notes,
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
const KEEP_SCRATCH: usize = READ_WHOLE as usize;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The first `want` bytes of `file` (fewer if it ends sooner), read into `scratch` in as few
/// reads as the kernel allows. `scratch` is not cleared here, only grown, so from one usual
/// file to the next its pages are not zeroed again.
fn read_up_to<'a>(file: &mut File, scratch: &'a mut Vec<u8>, want: usize) -> io::Result<&'a [u8]> {
    if scratch.len() < want {
        // Exactly: doubling could pass KEEP_SCRATCH and have the buffer dropped after
        // every file of 2–4 MiB.
        scratch.reserve_exact(want - scratch.len());
        scratch.resize(want, 0);
    }
    let mut got = 0;
    while got < want {
        match file.read(&mut scratch[got..want]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(&scratch[..got])
}

/// Checks the data set's structure and reads its own SOP Class and Instance UIDs (absent
/// ones, and those of deflated data sets, which the walker does not inflate, are `None`).
/// Values that break their VR's rules become notes, or the error when read strictly.
fn check_data_set(
    path: &Path,
    data: &[u8],
    ts: &TransferSyntax,
    values: Values,
    notes: &mut Vec<String>,
) -> Result<(Option<String>, Option<String>), StoreFileError> {
    let ds_err = |e| StoreFileError::DataSet(path.to_path_buf(), e);
    let odd = dataset::validate_noting_values(data, ts).map_err(ds_err)?;
    note_values(path, odd, values, notes)?;
    if ts.deflated {
        return Ok((None, None));
    }
    let uid = |element| {
        dataset::find_top_level_string(data, ts, Tag(0x0008, element))
            .map(|v| v.filter(|v| !v.is_empty()))
            .map_err(ds_err)
    };
    Ok((uid(0x0016)?, uid(0x0018)?))
}

/// Values that break their VR's rules: notes, or (read strictly) the error.
fn note_values(
    path: &Path,
    odd: Vec<DataSetError>,
    values: Values,
    notes: &mut Vec<String>,
) -> Result<(), StoreFileError> {
    if let (Values::Strict, Some(first)) = (values, odd.first()) {
        return Err(StoreFileError::DataSet(path.to_path_buf(), first.clone()));
    }
    for e in odd {
        let tag = e.tag.unwrap_or(Tag(0, 0));
        notes.push(format!(
            "{tag} at offset {}: {}; sent as it is",
            e.offset,
            value_problem(&e)
        ));
    }
    Ok(())
}

/// The words of an [`dataset::DataSetErrorKind::InvalidValue`] note, without the position the
/// note gives itself.
fn value_problem(e: &DataSetError) -> String {
    match &e.kind {
        dataset::DataSetErrorKind::InvalidValue { vr } => {
            format!("value has characters that VR {vr} does not allow")
        }
        _ => e.to_string(),
    }
}

/// PS3.8 allows 128 presentation contexts per association (odd IDs 1–255).
pub const MAX_CONTEXTS: usize = 128;

/// Syntaxes a file may be converted to when the peer does not accept its own, in order of
/// preference (proposed in one context per SOP class, see [`store_contexts`]).
pub const FALLBACKS: [&str; 2] = [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];

/// Which compressed files may be decompressed for a peer that accepted none of their own
/// syntax, as DCMTK's `dcmsend --decompress` chooses. Decoding needs the driver's `codecs`
/// feature (the `dimse-codec` crate); without it nothing is decompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decompress {
    /// Never: such a file fails with [`crate::Error::NoContext`].
    Never,
    /// Only files whose compression is lossless (the decoded pixels are the original ones).
    #[default]
    Lossless,
    /// Lossless and lossy ones; a lossy original keeps Lossy Image Compression (0028,2110)
    /// "01" so nobody takes the decoded pixels for the original ones.
    Lossy,
}

impl Decompress {
    /// Whether a data set in `ts` may be decompressed under this policy, and can be here.
    pub fn allows(self, ts: &TransferSyntax) -> bool {
        #[cfg(feature = "codecs")]
        {
            match (self, dimse_codec::fidelity(ts.uid)) {
                (_, None) | (Decompress::Never, _) => false,
                (Decompress::Lossless, Some(f)) => f == dimse_codec::Fidelity::Lossless,
                (Decompress::Lossy, Some(_)) => true,
            }
        }
        #[cfg(not(feature = "codecs"))]
        {
            let _ = ts;
            false
        }
    }
}

impl std::str::FromStr for Decompress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "never" => Ok(Decompress::Never),
            "lossless" => Ok(Decompress::Lossless),
            "lossy" => Ok(Decompress::Lossy),
            other => Err(format!("{other:?}: expected never, lossless or lossy")),
        }
    }
}

/// What was done to a data set so the peer could take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conversion {
    /// Re-encoded between uncompressed syntaxes (values unchanged).
    Transcoded {
        /// The file's syntax.
        from: &'static TransferSyntax,
        /// The syntax sent.
        to: &'static TransferSyntax,
    },
    /// Pixel Data decompressed (and the attributes describing it updated).
    Decompressed {
        /// The file's (compressed) syntax.
        from: &'static TransferSyntax,
        /// The uncompressed syntax sent.
        to: &'static TransferSyntax,
    },
}

impl Conversion {
    /// The file's syntax.
    pub fn from(&self) -> &'static TransferSyntax {
        match self {
            Conversion::Transcoded { from, .. } | Conversion::Decompressed { from, .. } => from,
        }
    }

    /// The syntax sent.
    pub fn to(&self) -> &'static TransferSyntax {
        match self {
            Conversion::Transcoded { to, .. } | Conversion::Decompressed { to, .. } => to,
        }
    }
}

/// Whether `ts` is one of the uncompressed syntaxes [`dataset::transcode`] converts between.
fn convertible(ts: &TransferSyntax) -> bool {
    dataset::can_transcode(ts, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN)
}

/// Whether a file in `ts` has a way to a [`FALLBACKS`] syntax under `policy`.
fn has_fallback(ts: &TransferSyntax, policy: Decompress) -> bool {
    convertible(ts) || policy.allows(ts)
}

/// Which transfer syntaxes [`store_contexts_with`] proposes for the files, in DCMTK's spirit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Syntaxes {
    /// Each file's own syntax, plus Explicit and Implicit VR Little Endian for SOP classes
    /// with files that can be converted or decompressed to them (the default: a peer that
    /// takes the original gets it untouched, one that does not still gets the instance).
    #[default]
    OwnWithFallbacks,
    /// Each file's own syntax only: nothing is converted (a file whose syntax the peer
    /// refuses is not sent).
    Own,
    /// Explicit and Implicit VR Little Endian only: every other file is converted or
    /// decompressed.
    Uncompressed,
    /// These syntaxes, in this order, for every SOP class.
    List(Vec<&'static TransferSyntax>),
}

/// How [`store_contexts_with`] builds presentation contexts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContextOptions {
    /// The syntaxes to propose.
    pub syntaxes: Syntaxes,
    /// One context per SOP class listing all its syntaxes, instead of one context per
    /// (SOP class, syntax): fewer contexts, but the acceptor then picks the syntax by *its*
    /// preference, which may turn files it would take as they are into conversions.
    pub combined: bool,
    /// Which compressed files may be decompressed (decides which classes need fallbacks).
    pub decompress: Decompress,
}

/// How many of `files` fit in one association, and the contexts they need, with the default
/// [`ContextOptions`] and `policy`: see [`store_contexts_with`].
pub fn store_contexts(files: &[StoreFile], policy: Decompress) -> (usize, Vec<ProposedContext>) {
    let options = ContextOptions {
        decompress: policy,
        ..ContextOptions::default()
    };
    store_contexts_with(files, &options)
}

/// How many of `files` fit in one association, and the contexts they need; call again with
/// the files left for the next association (dcmsend's `+ma`).
///
/// By default ([`Syntaxes::OwnWithFallbacks`]): one context per distinct (SOP class, transfer
/// syntax) holding that syntax alone, so each file goes in its own encoding; and, for each SOP
/// class with a file that can be converted (uncompressed) or decompressed under the policy,
/// one more context offering the [`FALLBACKS`], for peers that accept none of the files' own
/// syntaxes. The fallbacks get a context of their own rather than a place after the file's
/// syntax in the same context: an acceptor picks one syntax per context by *its* preference
/// (DCMTK `storescp` prefers Explicit VR Little Endian whatever the order proposed), which
/// would turn files it accepts as they are into needless conversions.
///
/// ```
/// use dimse_driver::{store_contexts_with, ContextOptions, Syntaxes};
///
/// let options = ContextOptions { syntaxes: Syntaxes::Uncompressed, ..Default::default() };
/// let (n, contexts) = store_contexts_with(&[], &options);
/// assert_eq!((n, contexts.len()), (0, 0));
/// ```
pub fn store_contexts_with(
    files: &[StoreFile],
    options: &ContextOptions,
) -> (usize, Vec<ProposedContext>) {
    let mut pairs: Vec<Pair> = Vec::new();
    let mut n = 0;
    for f in files {
        let class = f.sop_class_uid.as_str();
        let own = f.transfer_syntax_uid.as_str();
        let can_fall_back =
            uid::transfer_syntax(own).is_some_and(|ts| has_fallback(ts, options.decompress));
        let mut wanted: Vec<Pair> = Vec::new();
        let fallbacks = FALLBACKS.map(|ts| Pair {
            class,
            ts,
            fallback: true,
        });
        match &options.syntaxes {
            Syntaxes::OwnWithFallbacks => {
                wanted.push(Pair {
                    class,
                    ts: own,
                    fallback: false,
                });
                if can_fall_back {
                    wanted.extend(fallbacks);
                }
            }
            Syntaxes::Own => wanted.push(Pair {
                class,
                ts: own,
                fallback: false,
            }),
            Syntaxes::Uncompressed => wanted.extend(fallbacks),
            Syntaxes::List(list) => wanted.extend(list.iter().map(|ts| Pair {
                class,
                ts: ts.uid,
                fallback: false,
            })),
        }
        wanted.retain(|p| !pairs.contains(p));
        let before = pairs.len();
        pairs.extend(wanted);
        if contexts_for(&pairs, options.combined).len() > MAX_CONTEXTS && n > 0 {
            pairs.truncate(before);
            break;
        }
        n += 1;
    }
    (n, contexts_for(&pairs, options.combined))
}

/// A (SOP class, transfer syntax) to propose: the file's own, or a fallback it can be
/// converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pair<'a> {
    class: &'a str,
    ts: &'a str,
    fallback: bool,
}

/// The contexts for `pairs`: per SOP class, each own syntax alone and the fallbacks together
/// after them, or one context with all of them when `combined`.
fn contexts_for(pairs: &[Pair<'_>], combined: bool) -> Vec<ProposedContext> {
    let mut classes: Vec<&str> = Vec::new();
    for p in pairs {
        if !classes.contains(&p.class) {
            classes.push(p.class);
        }
    }
    let mut out = Vec::new();
    let mut fallbacks = Vec::new();
    for class in classes {
        let of_class = || pairs.iter().filter(move |p| p.class == class);
        if combined {
            let mut syntaxes: Vec<&str> = Vec::new();
            for p in of_class() {
                if !syntaxes.contains(&p.ts) {
                    syntaxes.push(p.ts);
                }
            }
            out.push(ProposedContext::new(class, &syntaxes));
            continue;
        }
        for p in of_class().filter(|p| !p.fallback) {
            out.push(ProposedContext::new(class, &[p.ts]));
        }
        if of_class().any(|p| p.fallback) {
            fallbacks.push(ProposedContext::new(class, &FALLBACKS));
        }
    }
    out.extend(fallbacks);
    out
}

/// How a file will travel: the syntax it goes in and the conversion that needs, if any; its
/// own syntax whenever `accepted`, so a peer that takes the original gets it untouched.
pub(crate) fn plan(
    file: &StoreFile,
    accepted: impl Fn(&str) -> bool,
    policy: Decompress,
) -> Option<(&'static TransferSyntax, Option<Conversion>)> {
    let own = uid::transfer_syntax(&file.transfer_syntax_uid)?;
    if accepted(own.uid) {
        return Some((own, None));
    }
    let to = FALLBACKS
        .iter()
        .copied()
        .find(|ts| accepted(ts))
        .and_then(uid::transfer_syntax)?;
    let conversion = if convertible(own) {
        Conversion::Transcoded { from: own, to }
    } else if policy.allows(own) {
        Conversion::Decompressed { from: own, to }
    } else {
        return None;
    };
    Some((to, Some(conversion)))
}

impl StoreFile {
    /// The whole data set after `conversion`, for sending.
    pub(crate) fn converted(&self, conversion: Conversion) -> Result<Bytes, StoreFileError> {
        let fail = |e: String| StoreFileError::Convert(self.path.clone(), e);
        let mut data = Vec::new();
        self.data_reader()?
            .read_to_end(&mut data)
            .map_err(|e| StoreFileError::Io(self.path.clone(), e))?;
        let (from, to) = (conversion.from(), conversion.to());
        let (data, from) = match conversion {
            Conversion::Transcoded { .. } => (Bytes::from(data), from),
            // Decoders write the encapsulated syntaxes' own encoding, explicit VR LE.
            Conversion::Decompressed { .. } => (
                Bytes::from(decompress(&data, from).map_err(fail)?),
                &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN,
            ),
        };
        if from.uid == to.uid {
            return Ok(data);
        }
        dataset::transcode(data, from, to).map_err(|e| {
            fail(format!(
                "cannot convert from {} to {}: {e}",
                from.name, to.name
            ))
        })
    }
}

/// Decodes the encapsulated Pixel Data of `data` (in `from`) into an Explicit VR Little
/// Endian data set.
#[cfg(feature = "codecs")]
fn decompress(data: &[u8], from: &TransferSyntax) -> Result<Vec<u8>, String> {
    dimse_codec::decompress(data, from.uid)
        .map(|d| d.data)
        .map_err(|e| format!("cannot decompress {}: {e}", from.name))
}

#[cfg(not(feature = "codecs"))]
fn decompress(_: &[u8], from: &TransferSyntax) -> Result<Vec<u8>, String> {
    Err(format!(
        "cannot decompress {}: built without the codecs feature",
        from.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use dimse_core::dataset::DataSet;
    use dimse_core::part10::FileMeta;

    const CT: &str = "1.2.840.10008.5.1.4.1.1.2";

    /// A Part 10 file (or, without `meta`, a raw data set) whose pixel data has `pixels` bytes.
    fn write(name: &str, sop: &str, pixels: usize, meta: bool) -> PathBuf {
        let mut out = BytesMut::new();
        if meta {
            // The meta names another instance: the data set's own UID must win.
            FileMeta::new(CT, "1.2.3.999", uid::EXPLICIT_VR_LE).encode(&mut out);
        }
        DataSet::new()
            .with("SOPClassUID", CT)
            .and_then(|d| d.with("SOPInstanceUID", sop))
            .unwrap()
            .encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
        out.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
        out.extend_from_slice(&(pixels as u32).to_le_bytes());
        out.resize(out.len() + pixels, 0x5A);
        let dir = std::env::temp_dir().join(format!("dimse-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, &out).unwrap();
        path
    }

    fn data_set_of(f: &StoreFile) -> Vec<u8> {
        let mut data = Vec::new();
        f.data_reader().unwrap().read_to_end(&mut data).unwrap();
        data
    }

    #[test]
    fn read_whole_and_piece_by_piece_find_the_same() {
        // Either side of READ_WHOLE: one read serves the meta and the check, or the data set
        // is walked piece by piece after the head.
        for (name, pixels) in [("small.dcm", 1000), ("large.dcm", READ_WHOLE as usize + 10)] {
            let path = write(name, "1.2.3.4", pixels, true);
            let f = StoreFile::open(&path).unwrap();
            assert_eq!(f.sop_class_uid, CT, "{name}");
            assert_eq!(f.sop_instance_uid, "1.2.3.4", "{name}");
            assert_eq!(f.transfer_syntax_uid, uid::EXPLICIT_VR_LE, "{name}");
            let len = std::fs::metadata(&path).unwrap().len();
            assert_eq!(f.data_offset + f.data_len, len, "{name}");
            let data = data_set_of(&f);
            assert_eq!(data.len() as u64, f.data_len, "{name}");
            assert_eq!(&data[..4], &[0x08, 0x00, 0x16, 0x00], "{name}");
        }
    }

    #[test]
    fn a_raw_data_set_is_read_from_its_first_byte() {
        let path = write("raw.dcm", "1.2.3.5", 100, false);
        let f = StoreFile::open(&path).unwrap();
        assert_eq!((f.data_offset, f.sop_instance_uid.as_str()), (0, "1.2.3.5"));
        assert!(
            f.notes.iter().any(|n| n.contains("no file meta")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn a_truncated_file_fails_after_a_longer_one() {
        // The longer file leaves its bytes in the scratch buffer, past the next file's end.
        let large = write("before.dcm", "1.2.3.6", READ_WHOLE as usize - 100, true);
        StoreFile::open(&large).unwrap();
        let path = write("cut.dcm", "1.2.3.7", 5000, true);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1000]).unwrap();
        match StoreFile::open(&path) {
            Err(StoreFileError::DataSet(p, _)) => assert_eq!(p, path),
            other => panic!("{other:?}"),
        }
    }
}
