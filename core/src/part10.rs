//! DICOM Part 10 files: the preamble, `DICM` prefix and File Meta Information (group 0002).
//!
//! Layout (PS3.10 §7.1): 128-byte preamble, `DICM`, group 0002 in Explicit VR Little Endian,
//! then the data set in the transfer syntax named by (0002,0010).
//!
//! ```
//! use bytes::BytesMut;
//! use dimse_core::part10::FileMeta;
//!
//! let meta = FileMeta::new("1.2.840.10008.5.1.4.1.1.7", "1.2.3.4.5", "1.2.840.10008.1.2.1");
//! let mut file = BytesMut::new();
//! meta.encode(&mut file);
//! assert_eq!(file.len(), meta.encoded_len());
//! file.extend_from_slice(&[0x08, 0x00, 0x16, 0x00]); // the data set would start here
//!
//! let (parsed, data_start) = FileMeta::parse(&file).unwrap().unwrap();
//! assert_eq!(parsed, meta);
//! assert_eq!(data_start, meta.encoded_len());
//! // A prefix too short to hold the whole meta group asks for more bytes.
//! assert_eq!(FileMeta::parse(&file[..150]).unwrap(), None);
//! ```

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::dataset::{header, DataSetErrorKind, Enc, Tag, Vr, UNDEFINED_LENGTH};
use crate::uid::{self, TransferSyntax};

pub use crate::uid::{IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME};

/// Length of the preamble.
pub const PREAMBLE_LEN: usize = 128;
/// Offset of the first group 0002 element (after preamble and `DICM`).
pub const META_START: usize = PREAMBLE_LEN + 4;
/// Largest meta group accepted; real ones are a few hundred bytes, so anything bigger is
/// corruption or hostile input, and bounding it bounds how much a caller must buffer.
pub const MAX_META_LEN: usize = 64 * 1024;

/// File Meta Information (group 0002) of a Part 10 file. UIDs are held without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// (0002,0002) Media Storage SOP Class UID.
    pub media_storage_sop_class_uid: String,
    /// (0002,0003) Media Storage SOP Instance UID.
    pub media_storage_sop_instance_uid: String,
    /// (0002,0010) Transfer Syntax UID of the data set.
    pub transfer_syntax_uid: String,
    /// (0002,0012) Implementation Class UID (empty when a file lacks it).
    pub implementation_class_uid: String,
    /// (0002,0013) Implementation Version Name.
    pub implementation_version_name: Option<String>,
    /// (0002,0016) Source Application Entity Title: the AE that wrote the file.
    pub source_ae_title: Option<String>,
    /// (0002,0017) Sending Application Entity Title: the network sender (C-STORE calling AE).
    pub sending_ae_title: Option<String>,
    /// (0002,0018) Receiving Application Entity Title: the network receiver.
    pub receiving_ae_title: Option<String>,
}

/// One raw group 0002 element, as [`meta_elements`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaElement<'a> {
    /// Tag (group is always 0x0002).
    pub tag: Tag,
    /// The explicit VR.
    pub vr: Vr,
    /// The value, padding included.
    pub value: &'a [u8],
    /// Offset of the element header in the file.
    pub offset: usize,
}

/// Why a buffer is not a usable Part 10 file beginning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part10Error {
    /// No `DICM` at offset 128: a raw data set, or not DICOM at all.
    NotPart10 {
        /// The (up to 4) bytes found at offset 128.
        found: Vec<u8>,
    },
    /// The input ends inside the preamble or meta group (only from
    /// [`FileMeta::parse_file`], which is told the input is complete).
    Truncated {
        /// Where the cut-off header or value starts.
        offset: usize,
    },
    /// The meta group (by its group length, or as read so far) exceeds [`MAX_META_LEN`].
    MetaTooLarge {
        /// Offset of the element that makes it too large.
        offset: usize,
        /// The meta length it would need.
        length: usize,
    },
    /// A malformed meta element.
    InvalidElement {
        /// Offset of the element header.
        offset: usize,
        /// Its tag.
        tag: Tag,
        /// What is wrong.
        reason: &'static str,
    },
    /// A required meta element is absent.
    MissingElement {
        /// Its tag.
        tag: Tag,
        /// Its keyword.
        name: &'static str,
    },
}

impl fmt::Display for Part10Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part10Error::NotPart10 { found } => write!(
                f,
                "no DICM prefix at offset 128 (not a Part 10 file, or no file meta); found {}",
                String::from_utf8_lossy(found).escape_debug()
            ),
            Part10Error::Truncated { offset } => {
                write!(
                    f,
                    "file meta truncated: input ends in the element at offset {offset}"
                )
            }
            Part10Error::MetaTooLarge { offset, length } => write!(
                f,
                "file meta group of {length} bytes (at offset {offset}) exceeds the limit of \
                 {MAX_META_LEN}"
            ),
            Part10Error::InvalidElement {
                offset,
                tag,
                reason,
            } => write!(f, "file meta element {tag} at offset {offset}: {reason}"),
            Part10Error::MissingElement { tag, name } => {
                write!(f, "file meta lacks required element {tag} {name}")
            }
        }
    }
}

impl std::error::Error for Part10Error {}

fn invalid(offset: usize, tag: Tag, reason: &'static str) -> Part10Error {
    Part10Error::InvalidElement {
        offset,
        tag,
        reason,
    }
}

/// Outcome of reading the meta group from a possibly partial buffer.
enum Read<'a> {
    Done(Vec<MetaElement<'a>>, usize),
    NeedMore(usize),
}

/// Reads the group 0002 elements of `buf`. With `complete`, the end of `buf` is the end of the
/// file, so a meta group may end exactly there.
fn read_meta(buf: &[u8], complete: bool) -> Result<Read<'_>, Part10Error> {
    // Reject as soon as any byte of the prefix is wrong, not only once all four are there.
    let found = buf
        .get(PREAMBLE_LEN..buf.len().min(META_START))
        .unwrap_or_default();
    if found != &b"DICM"[..found.len()] {
        return Err(Part10Error::NotPart10 {
            found: found.to_vec(),
        });
    }
    if buf.len() < META_START {
        return Ok(Read::NeedMore(buf.len()));
    }
    read_group(buf, META_START, complete)
}

/// Reads group 0002 elements from `start`, where the caller found the meta group to begin.
fn read_group(buf: &[u8], start: usize, complete: bool) -> Result<Read<'_>, Part10Error> {
    let mut elements = Vec::new();
    let mut pos = start;
    // End of the group per (0002,0000), when the group starts with it.
    let mut group_end: Option<usize> = None;
    loop {
        if let Some(end) = group_end {
            if pos == end {
                return Ok(Read::Done(elements, pos));
            }
        }
        // Without a group length the group ends at the first tag of another group; at the end
        // of a complete buffer it ends there (a file with an empty data set).
        if buf.len() - pos < 4 {
            // An empty group is a cut-off file rather than a meta lacking every element.
            if group_end.is_none() && complete && pos == buf.len() && !elements.is_empty() {
                return Ok(Read::Done(elements, pos));
            }
            return Ok(Read::NeedMore(pos));
        }
        let group = u16::from_le_bytes([buf[pos], buf[pos + 1]]);
        let element = u16::from_le_bytes([buf[pos + 2], buf[pos + 3]]);
        let tag = Tag(group, element);
        if group != 0x0002 {
            if group_end.is_some() {
                return Err(invalid(
                    pos,
                    tag,
                    "element of another group inside the meta group length",
                ));
            }
            return Ok(Read::Done(elements, pos));
        }
        if pos - start > MAX_META_LEN {
            return Err(Part10Error::MetaTooLarge {
                offset: pos,
                length: pos - start,
            });
        }
        let (vr, length, header_len) = match header::read(buf, pos, buf.len(), Enc::EXPLICIT_LE) {
            Ok(h) => (h.vr.unwrap_or(Vr::UN), h.length, h.header_len),
            Err(e) if matches!(e.kind, DataSetErrorKind::TruncatedHeader { .. }) => {
                return Ok(Read::NeedMore(pos))
            }
            Err(_) => {
                return Err(invalid(
                    pos,
                    tag,
                    "invalid VR (group 0002 is always explicit VR little endian)",
                ))
            }
        };
        if length == UNDEFINED_LENGTH {
            return Err(invalid(pos, tag, "undefined length in the meta group"));
        }
        // Saturating: a hostile length must not wrap on 32-bit targets before the size check.
        let end = pos
            .saturating_add(header_len)
            .saturating_add(length as usize);
        if end - start > MAX_META_LEN {
            return Err(Part10Error::MetaTooLarge {
                offset: pos,
                length: end - start,
            });
        }
        if let Some(group_end) = group_end {
            if end > group_end {
                return Err(invalid(
                    pos,
                    tag,
                    "value runs past the end given by the group length",
                ));
            }
        }
        if end > buf.len() {
            return Ok(Read::NeedMore(pos));
        }
        let value = &buf[pos + header_len..end];
        if tag == Tag(0x0002, 0x0000) && elements.is_empty() {
            if vr != Vr::UL || length != 4 {
                return Err(invalid(pos, tag, "group length must be UL with 4 bytes"));
            }
            let g = u32::from_le_bytes([value[0], value[1], value[2], value[3]]) as usize;
            if g > MAX_META_LEN {
                return Err(Part10Error::MetaTooLarge {
                    offset: pos,
                    length: g,
                });
            }
            group_end = Some(end + g);
        }
        elements.push(MetaElement {
            tag,
            vr,
            value,
            offset: pos,
        });
        pos = end;
    }
}

/// The raw group 0002 elements at the start of a (possibly partial) file, and the offset where
/// the data set starts; `None` when `buf` is too short to tell.
///
/// For tools and lenient readers that want the meta group even when [`FileMeta::parse`]
/// rejects it (e.g. for a missing Media Storage SOP Class UID).
pub fn meta_elements(buf: &[u8]) -> Result<Option<(Vec<MetaElement<'_>>, usize)>, Part10Error> {
    match read_meta(buf, false)? {
        Read::Done(elements, end) => Ok(Some((elements, end))),
        Read::NeedMore(_) => Ok(None),
    }
}

/// How a file is laid out, as [`read_layout`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// Preamble, `DICM`, meta group: a Part 10 file as PS3.10 §7.1 describes it.
    Part10,
    /// A meta group at the very start, with or without `DICM` before it: a file whose writer
    /// left out the preamble.
    NoPreamble,
    /// No meta group: the data set starts at the first byte.
    NoMeta,
}

/// What the start of a file says about its data set, read as leniently as the field needs.
///
/// Values are `None` where the file lacks them (absent or empty in the meta, or no meta at
/// all); a sender fills them from the data set or by guessing ([`guess_transfer_syntax`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLayout {
    /// Where the meta group was, if anywhere.
    pub layout: Layout,
    /// (0002,0002) Media Storage SOP Class UID.
    pub sop_class_uid: Option<String>,
    /// (0002,0003) Media Storage SOP Instance UID.
    pub sop_instance_uid: Option<String>,
    /// (0002,0010) Transfer Syntax UID.
    pub transfer_syntax_uid: Option<String>,
    /// Offset of the data set in the file.
    pub data_offset: usize,
}

/// Finds the data set in the (whole) file `buf` the way DCMTK's `+f` and pydicom's `force`
/// read files: a Part 10 file; a meta group at offset 0 (after `DICM` or without it); or a
/// raw data set. Elements the meta lacks are `None` rather than an error, so a file whose
/// data set names its own SOP Class and Instance still goes.
///
/// Errors only on a meta group that cannot be delimited (truncated, a length past the end,
/// larger than [`MAX_META_LEN`]).
///
/// ```
/// use dimse_core::part10::{read_layout, Layout};
///
/// // A raw data set: (0008,0016) UI "1.2", explicit VR little endian.
/// let raw = [0x08, 0x00, 0x16, 0x00, b'U', b'I', 4, 0, b'1', b'.', b'2', 0];
/// let found = read_layout(&raw).unwrap();
/// assert_eq!(found.layout, Layout::NoMeta);
/// assert_eq!((found.data_offset, found.transfer_syntax_uid), (0, None));
/// ```
pub fn read_layout(buf: &[u8]) -> Result<FileLayout, Part10Error> {
    let (layout, start) = if buf.get(PREAMBLE_LEN..META_START) == Some(b"DICM") {
        (Layout::Part10, META_START)
    } else if buf.starts_with(b"DICM") {
        (Layout::NoPreamble, 4)
    } else if buf.len() >= 6
        && buf[..2] == [0x02, 0x00]
        && Vr::from_bytes([buf[4], buf[5]]).is_some()
    {
        (Layout::NoPreamble, 0)
    } else {
        return Ok(FileLayout {
            layout: Layout::NoMeta,
            sop_class_uid: None,
            sop_instance_uid: None,
            transfer_syntax_uid: None,
            data_offset: 0,
        });
    };
    let (elements, end) = match read_group(buf, start, true)? {
        Read::Done(elements, end) => (elements, end),
        Read::NeedMore(offset) => return Err(Part10Error::Truncated { offset }),
    };
    let value = |element: u16| {
        elements
            .iter()
            .find(|e| e.tag == Tag(0x0002, element))
            .map(|e| text(e.value))
            .filter(|v| !v.is_empty())
    };
    Ok(FileLayout {
        layout,
        sop_class_uid: value(0x0002),
        sop_instance_uid: value(0x0003),
        transfer_syntax_uid: value(0x0010),
        data_offset: end,
    })
}

/// Guesses the transfer syntax of a data set that comes without one, from its first element
/// header, as DCMTK does: the VR is explicit when bytes 4–5 are a standard VR; the byte order
/// is big endian only when the first tag read big endian is one the standard defines (or the
/// lower group's length) and read little endian is not (a data set may well start with a
/// private tag, which says nothing).
/// `None` when fewer than 8 bytes, or for the big endian implicit VR encoding that no transfer
/// syntax has.
///
/// ```
/// use dimse_core::{part10::guess_transfer_syntax, uid};
///
/// let implicit = [0x08, 0x00, 0x16, 0x00, 4, 0, 0, 0, b'1', b'.', b'2', 0];
/// assert_eq!(guess_transfer_syntax(&implicit).unwrap().uid, uid::IMPLICIT_VR_LE);
/// let big = [0x00, 0x08, 0x00, 0x16, b'U', b'I', 0, 4, b'1', b'.', b'2', 0];
/// assert_eq!(guess_transfer_syntax(&big).unwrap().uid, uid::EXPLICIT_VR_BIG_ENDIAN);
/// ```
pub fn guess_transfer_syntax(data: &[u8]) -> Option<&'static TransferSyntax> {
    if data.len() < 8 {
        return None;
    }
    let known = |tag| crate::dataset::dictionary::by_tag(tag).is_some();
    let little = Tag(
        u16::from_le_bytes([data[0], data[1]]),
        u16::from_le_bytes([data[2], data[3]]),
    );
    let big = Tag(
        u16::from_be_bytes([data[0], data[1]]),
        u16::from_be_bytes([data[2], data[3]]),
    );
    // A group length (gggg,0000) is in no dictionary: then the smaller group is the one.
    let big_endian = !known(little) && (known(big) || (little.1 == 0 && big.0 < little.0));
    let explicit = Vr::from_bytes([data[4], data[5]]).is_some();
    let uid = match (big_endian, explicit) {
        (false, true) => uid::EXPLICIT_VR_LE,
        (false, false) => uid::IMPLICIT_VR_LE,
        (true, true) => uid::EXPLICIT_VR_BIG_ENDIAN,
        (true, false) => return None,
    };
    uid::transfer_syntax(uid)
}

fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .trim_end_matches(['\0', ' '])
        .to_string()
}

impl FileMeta {
    /// Meta for a data set of `sop_class_uid`/`sop_instance_uid` in `transfer_syntax_uid`,
    /// written by this library (its implementation class UID and version name), no AE titles.
    pub fn new(sop_class_uid: &str, sop_instance_uid: &str, transfer_syntax_uid: &str) -> Self {
        FileMeta {
            media_storage_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            media_storage_sop_instance_uid: uid::trim(sop_instance_uid).to_string(),
            transfer_syntax_uid: uid::trim(transfer_syntax_uid).to_string(),
            implementation_class_uid: IMPLEMENTATION_CLASS_UID.to_string(),
            implementation_version_name: Some(IMPLEMENTATION_VERSION_NAME.to_string()),
            source_ae_title: None,
            sending_ae_title: None,
            receiving_ae_title: None,
        }
    }

    /// The transfer syntax of the data set, when this library knows it.
    pub fn transfer_syntax(&self) -> Option<&'static TransferSyntax> {
        uid::transfer_syntax(&self.transfer_syntax_uid)
    }

    /// Parses the beginning of a file; `buf` may be only a prefix of it.
    ///
    /// Returns the meta and the offset where the data set starts, or `None` when more bytes
    /// are needed (at most [`META_START`] + [`MAX_META_LEN`] + one element header in all). The
    /// group ends where (0002,0000) says when the group starts with it, otherwise at the first
    /// element of another group. Present-but-empty values are accepted; absent (0002,0002),
    /// (0002,0003) or (0002,0010) are [`Part10Error::MissingElement`]; an absent (0002,0012)
    /// leaves [`implementation_class_uid`](Self::implementation_class_uid) empty.
    ///
    /// Without a group length, `None` is also returned when `buf` ends right after the meta
    /// group, since the next bytes could still be group 0002; use
    /// [`parse_file`](Self::parse_file) for a whole file.
    pub fn parse(buf: &[u8]) -> Result<Option<(FileMeta, usize)>, Part10Error> {
        match read_meta(buf, false)? {
            Read::Done(elements, end) => Ok(Some((Self::from_elements(&elements)?, end))),
            Read::NeedMore(_) => Ok(None),
        }
    }

    /// Like [`parse`](Self::parse) for a buffer holding the whole file: running out of bytes
    /// is [`Part10Error::Truncated`] instead of `None`.
    pub fn parse_file(buf: &[u8]) -> Result<(FileMeta, usize), Part10Error> {
        match read_meta(buf, true)? {
            Read::Done(elements, end) => Ok((Self::from_elements(&elements)?, end)),
            Read::NeedMore(offset) => Err(Part10Error::Truncated { offset }),
        }
    }

    fn from_elements(elements: &[MetaElement<'_>]) -> Result<FileMeta, Part10Error> {
        let find = |element: u16| elements.iter().find(|e| e.tag == Tag(0x0002, element));
        let required = |element: u16, name: &'static str| {
            find(element)
                .map(|e| text(e.value))
                .ok_or(Part10Error::MissingElement {
                    tag: Tag(0x0002, element),
                    name,
                })
        };
        // AE and SH values also have insignificant leading spaces.
        let optional = |element: u16| find(element).map(|e| text(e.value).trim_start().to_string());
        Ok(FileMeta {
            media_storage_sop_class_uid: required(0x0002, "MediaStorageSOPClassUID")?,
            media_storage_sop_instance_uid: required(0x0003, "MediaStorageSOPInstanceUID")?,
            transfer_syntax_uid: required(0x0010, "TransferSyntaxUID")?,
            implementation_class_uid: find(0x0012).map(|e| text(e.value)).unwrap_or_default(),
            implementation_version_name: optional(0x0013),
            source_ae_title: optional(0x0016),
            sending_ae_title: optional(0x0017),
            receiving_ae_title: optional(0x0018),
        })
    }

    /// The elements to write, in tag order: (element, VR, value, padding byte).
    fn values(&self) -> Vec<(u16, Vr, &str, u8)> {
        let mut v = vec![
            (
                0x0002,
                Vr::UI,
                uid::trim(&self.media_storage_sop_class_uid),
                0,
            ),
            (
                0x0003,
                Vr::UI,
                uid::trim(&self.media_storage_sop_instance_uid),
                0,
            ),
            (0x0010, Vr::UI, uid::trim(&self.transfer_syntax_uid), 0),
            (0x0012, Vr::UI, uid::trim(&self.implementation_class_uid), 0),
        ];
        let optional = [
            (0x0013, Vr::SH, &self.implementation_version_name),
            (0x0016, Vr::AE, &self.source_ae_title),
            (0x0017, Vr::AE, &self.sending_ae_title),
            (0x0018, Vr::AE, &self.receiving_ae_title),
        ];
        for (element, vr, value) in optional {
            if let Some(value) = value {
                v.push((element, vr, value.as_str(), b' '));
            }
        }
        v
    }

    /// Appends preamble (zeros), `DICM` and the meta group to `out`.
    ///
    /// (0002,0000) is computed, (0002,0001) is `00 01`, UIDs are NUL-padded and AE/SH values
    /// space-padded to even length, optional elements are written only when `Some`. Values are
    /// cut at 65534 bytes (their VRs allow 64 characters at most, and the header has 16 bits).
    pub fn encode(&self, out: &mut BytesMut) {
        let values = self.values();
        let group_len = 14
            + values
                .iter()
                .map(|(_, _, v, _)| 8 + padded_len(v))
                .sum::<usize>();
        out.reserve(META_START + 12 + group_len);
        out.put_bytes(0, PREAMBLE_LEN);
        out.put_slice(b"DICM");
        put_header(out, 0x0000, Vr::UL, 4);
        out.put_u32_le(group_len as u32);
        // (0002,0001) OB: 2 reserved bytes and a 4-byte length.
        put_header(out, 0x0001, Vr::OB, 2);
        out.put_slice(&[0x00, 0x01]);
        for (element, vr, value, pad) in values {
            let len = padded_len(value);
            put_header(out, element, vr, len);
            let bytes = &value.as_bytes()[..value.len().min(MAX_SHORT_VALUE)];
            out.put_slice(bytes);
            if bytes.len() < len {
                out.put_u8(pad);
            }
        }
    }

    /// The number of bytes [`encode`](Self::encode) writes (preamble and `DICM` included), which
    /// is also the offset of the data set in the file.
    pub fn encoded_len(&self) -> usize {
        META_START
            + 12
            + 14
            + self
                .values()
                .iter()
                .map(|(_, _, v, _)| 8 + padded_len(v))
                .sum::<usize>()
    }
}

const MAX_SHORT_VALUE: usize = 0xFFFE;

fn padded_len(value: &str) -> usize {
    let len = value.len().min(MAX_SHORT_VALUE);
    len + (len & 1)
}

fn put_header(out: &mut BytesMut, element: u16, vr: Vr, len: usize) {
    out.put_u16_le(0x0002);
    out.put_u16_le(element);
    out.put_slice(&vr.as_bytes());
    if vr.has_long_length() {
        out.put_u16_le(0);
        out.put_u32_le(len as u32);
    } else {
        out.put_u16_le(len as u16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_part10_early() {
        let mut buf = vec![0u8; 130];
        buf[128] = b'D';
        buf[129] = b'X';
        assert!(matches!(
            FileMeta::parse(&buf),
            Err(Part10Error::NotPart10 { .. })
        ));
        buf[129] = b'I';
        assert_eq!(FileMeta::parse(&buf), Ok(None));
        assert_eq!(FileMeta::parse(&[]), Ok(None));
        assert_eq!(
            FileMeta::parse_file(&buf),
            Err(Part10Error::Truncated { offset: 130 })
        );
    }

    #[test]
    fn hostile_group_length() {
        let mut buf = vec![0u8; 128];
        buf.extend_from_slice(b"DICM");
        buf.extend_from_slice(&[2, 0, 0, 0, b'U', b'L', 4, 0, 0xFF, 0xFF, 0xFF, 0x7F]);
        assert!(matches!(
            FileMeta::parse(&buf),
            Err(Part10Error::MetaTooLarge { .. })
        ));
    }

    #[test]
    fn exact_bytes_and_empty_data_set() {
        let meta = FileMeta {
            media_storage_sop_class_uid: "1.2".into(),
            media_storage_sop_instance_uid: "1.23".into(),
            transfer_syntax_uid: "1.2.840.10008.1.2".into(),
            implementation_class_uid: "2.25.1".into(),
            implementation_version_name: None,
            source_ae_title: Some("AE1".into()),
            sending_ae_title: None,
            receiving_ae_title: None,
        };
        let mut out = BytesMut::new();
        meta.encode(&mut out);
        assert_eq!(out.len(), meta.encoded_len());
        let mut expected = vec![0u8; 128];
        expected.extend_from_slice(b"DICM");
        let group: &[u8] = &[
            2, 0, 1, 0, b'O', b'B', 0, 0, 2, 0, 0, 0, 0, 1, //
            2, 0, 2, 0, b'U', b'I', 4, 0, b'1', b'.', b'2', 0, //
            2, 0, 3, 0, b'U', b'I', 4, 0, b'1', b'.', b'2', b'3', //
            2, 0, 0x10, 0, b'U', b'I', 18, 0, //
        ];
        let rest: &[u8] = &[2, 0, 0x12, 0, b'U', b'I', 6, 0];
        let mut g = group.to_vec();
        g.extend_from_slice(b"1.2.840.10008.1.2\0");
        g.extend_from_slice(rest);
        g.extend_from_slice(b"2.25.1");
        g.extend_from_slice(&[2, 0, 0x16, 0, b'A', b'E', 4, 0]);
        g.extend_from_slice(b"AE1 ");
        expected.extend_from_slice(&[2, 0, 0, 0, b'U', b'L', 4, 0]);
        expected.extend_from_slice(&(g.len() as u32).to_le_bytes());
        expected.extend_from_slice(&g);
        assert_eq!(&out[..], &expected[..]);
        assert_eq!(FileMeta::parse_file(&out), Ok((meta, out.len())));
    }
}
