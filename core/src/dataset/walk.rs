//! The structural walker: [`validate`], [`validate_strict`] and [`find_top_level_string`] check
//! and read encoded data sets without building them in memory (see the
//! [module documentation](crate::dataset) for what is checked).

use std::fmt;

use super::header::{self, error, need, u16_at, u32_at, Enc, Header, UNDEFINED_LENGTH};
use super::{Tag, Vr};
use crate::uid::TransferSyntax;

/// Maximum nesting depth of sequences (and UN-encoded sequences) [`validate`] follows.
pub const MAX_DEPTH: usize = 64;

/// A structural error in a data set: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSetError {
    /// Byte offset, into the data given, of the element or item header concerned (or of the
    /// end of the data for a missing delimiter).
    pub offset: usize,
    /// The tag of the element concerned, when one was read.
    pub tag: Option<Tag>,
    /// What is wrong.
    pub kind: DataSetErrorKind,
}

/// What is wrong in a [`DataSetError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSetErrorKind {
    /// Fewer bytes than a header needs remain in the container.
    TruncatedHeader {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes left in the container.
        available: usize,
    },
    /// A value (or item) is longer than what is left of its container.
    ValuePastEnd {
        /// The declared length.
        length: u32,
        /// Bytes left in the container after the header.
        available: usize,
    },
    /// An explicit VR that is not a standard VR.
    InvalidVr([u8; 2]),
    /// Undefined length on an element that cannot have one.
    UndefinedLengthNotAllowed {
        /// The explicit VR, if any.
        vr: Option<Vr>,
    },
    /// An item or delimiter tag (FFFE,xxxx) where a data element was expected.
    UnexpectedItemTag,
    /// Something other than an item (or sequence delimiter) inside a sequence or fragments.
    ExpectedItem,
    /// An encapsulated Pixel Data fragment with undefined length.
    UndefinedLengthFragment,
    /// The data ends inside an undefined-length sequence or item that started at `started_at`.
    MissingDelimiter {
        /// Offset of the header of the unterminated element or item.
        started_at: usize,
    },
    /// Sequences nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The data set is deflated and cannot be read without inflating it first.
    Deflated,
    /// A deflated data set does not inflate ([`DataSet::decode`](crate::dataset::DataSet::decode)):
    /// corrupt, or larger than [`MAX_INFLATED_LEN`](crate::dataset::MAX_INFLATED_LEN).
    Inflate(String),
    /// The element asked for is a sequence or has undefined length, not a string.
    NotAString,
    /// A value with characters its VR does not allow ([`validate_strict`] only).
    InvalidValue {
        /// The element's VR.
        vr: Vr,
    },
}

impl fmt::Display for DataSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "data set error at offset {}", self.offset)?;
        if let Some(tag) = self.tag {
            write!(f, ", element {tag}")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            DataSetErrorKind::TruncatedHeader { needed, available } => {
                write!(
                    f,
                    "header needs {needed} bytes, only {available} left (truncated)"
                )
            }
            DataSetErrorKind::ValuePastEnd { length, available } => write!(
                f,
                "length {length} exceeds the {available} bytes left in its container (truncated \
                 or corrupt)"
            ),
            DataSetErrorKind::InvalidVr(vr) => {
                write!(
                    f,
                    "invalid VR {:?} (bytes {:02X} {:02X})",
                    vr_text(*vr),
                    vr[0],
                    vr[1]
                )
            }
            DataSetErrorKind::UndefinedLengthNotAllowed { vr } => match vr {
                Some(vr) => write!(f, "undefined length not allowed on VR {vr}"),
                None => f.write_str("undefined length not allowed here"),
            },
            DataSetErrorKind::UnexpectedItemTag => {
                f.write_str("item or delimiter tag where a data element was expected")
            }
            DataSetErrorKind::ExpectedItem => {
                f.write_str("expected an item (FFFE,E000) or sequence delimiter (FFFE,E0DD)")
            }
            DataSetErrorKind::UndefinedLengthFragment => {
                f.write_str("encapsulated pixel data fragment with undefined length")
            }
            DataSetErrorKind::MissingDelimiter { started_at } => write!(
                f,
                "data ends inside the undefined-length sequence or item started at offset \
                 {started_at} (missing delimiter, truncated)"
            ),
            DataSetErrorKind::TooDeep => write!(f, "sequences nested deeper than {MAX_DEPTH}"),
            DataSetErrorKind::Deflated => {
                f.write_str("deflated data set; inflate it before reading elements")
            }
            DataSetErrorKind::Inflate(why) => {
                write!(f, "deflated data set does not inflate: {why}")
            }
            DataSetErrorKind::NotAString => {
                f.write_str("element is a sequence or has undefined length, not a string")
            }
            DataSetErrorKind::InvalidValue { vr } => {
                write!(f, "value has characters that VR {vr} does not allow")
            }
        }
    }
}

impl std::error::Error for DataSetError {}

fn vr_text(vr: [u8; 2]) -> String {
    String::from_utf8_lossy(&vr).into_owned()
}

struct Walker<'a> {
    data: &'a [u8],
    /// Whether and how to check the characters of numeric-string and UID values.
    check_values: ValueCheck,
}

/// What the walker does about a value whose characters its VR forbids.
enum ValueCheck {
    /// Nothing: structure only ([`validate`]).
    Off,
    /// Fail the walk ([`validate_strict`]).
    Reject,
    /// Note it and go on ([`validate_noting_values`]).
    Collect(std::cell::RefCell<Vec<DataSetError>>),
}

impl<'a> Walker<'a> {
    fn header(&self, pos: usize, limit: usize, enc: Enc) -> Result<Header, DataSetError> {
        header::read(self.data, pos, limit, enc)
    }

    /// Walks data elements from `pos` up to `limit`; with `delimited`, up to and including an
    /// item delimiter instead, which must come before `limit`. Returns the end offset.
    fn elements(
        &self,
        mut pos: usize,
        limit: usize,
        delimited: Option<usize>,
        enc: Enc,
        depth: usize,
    ) -> Result<usize, DataSetError> {
        loop {
            if pos == limit {
                return match delimited {
                    Some(started_at) => Err(error(
                        pos,
                        None,
                        DataSetErrorKind::MissingDelimiter { started_at },
                    )),
                    None => Ok(pos),
                };
            }
            let h = self.header(pos, limit, enc)?;
            if h.tag.0 == 0xFFFE {
                if h.tag == Tag::ITEM_DELIMITER && delimited.is_some() {
                    return Ok(pos + 8);
                }
                return Err(error(pos, Some(h.tag), DataSetErrorKind::UnexpectedItemTag));
            }
            pos = self.element_end(pos, &h, limit, enc, depth)?;
        }
    }

    /// The end offset of the element whose header `h` starts at `pos`, walking its content
    /// when it is a sequence or encapsulated Pixel Data.
    fn element_end(
        &self,
        pos: usize,
        h: &Header,
        limit: usize,
        enc: Enc,
        depth: usize,
    ) -> Result<usize, DataSetError> {
        let start = pos + h.header_len;
        let is_sq = h.vr == Some(Vr::SQ);
        if h.length == UNDEFINED_LENGTH {
            let pixel_vr_ok = matches!(h.vr, None | Some(Vr::OB | Vr::OW | Vr::UN));
            if h.tag == Tag::PIXEL_DATA && pixel_vr_ok {
                return self.fragments(start, limit, pos, h.tag);
            }
            return match h.vr {
                // Implicit VR: undefined length can only be a sequence.
                None | Some(Vr::SQ) => {
                    self.sequence(start, limit, Some(pos), enc, depth + 1, h.tag)
                }
                Some(Vr::UN) => {
                    self.sequence(start, limit, Some(pos), Enc::IMPLICIT_LE, depth + 1, h.tag)
                }
                Some(vr) => Err(error(
                    pos,
                    Some(h.tag),
                    DataSetErrorKind::UndefinedLengthNotAllowed { vr: Some(vr) },
                )),
            };
        }
        let available = limit - start;
        if h.length as usize > available {
            return Err(error(
                pos,
                Some(h.tag),
                DataSetErrorKind::ValuePastEnd {
                    length: h.length,
                    available,
                },
            ));
        }
        let end = start + h.length as usize;
        if !matches!(self.check_values, ValueCheck::Off) {
            if let Some(vr) =
                h.vr.filter(|vr| !value_chars_ok(*vr, &self.data[start..end]))
            {
                let noted = error(pos, Some(h.tag), DataSetErrorKind::InvalidValue { vr });
                match &self.check_values {
                    ValueCheck::Collect(found) => found.borrow_mut().push(noted),
                    _ => return Err(noted),
                }
            }
        }
        if is_sq {
            self.sequence(start, end, None, enc, depth + 1, h.tag)?;
        }
        Ok(end)
    }

    /// Walks the items of a sequence. Defined length (`delimited` None): items fill exactly up
    /// to `limit`. Undefined length: items until a sequence delimiter before `limit`.
    fn sequence(
        &self,
        mut pos: usize,
        limit: usize,
        delimited: Option<usize>,
        enc: Enc,
        depth: usize,
        tag: Tag,
    ) -> Result<usize, DataSetError> {
        if depth > MAX_DEPTH {
            return Err(error(pos, Some(tag), DataSetErrorKind::TooDeep));
        }
        loop {
            if pos == limit {
                return match delimited {
                    Some(started_at) => Err(error(
                        pos,
                        Some(tag),
                        DataSetErrorKind::MissingDelimiter { started_at },
                    )),
                    None => Ok(pos),
                };
            }
            need(pos, limit, 8, None)?;
            let item_tag = Tag(u16_at(self.data, pos, enc), u16_at(self.data, pos + 2, enc));
            let length = u32_at(self.data, pos + 4, enc);
            match item_tag {
                Tag::ITEM if length == UNDEFINED_LENGTH => {
                    pos = self.elements(pos + 8, limit, Some(pos), enc, depth)?;
                }
                Tag::ITEM => {
                    let available = limit - (pos + 8);
                    if length as usize > available {
                        return Err(error(
                            pos,
                            Some(item_tag),
                            DataSetErrorKind::ValuePastEnd { length, available },
                        ));
                    }
                    let end = pos + 8 + length as usize;
                    self.elements(pos + 8, end, None, enc, depth)?;
                    pos = end;
                }
                Tag::SEQUENCE_DELIMITER if delimited.is_some() => return Ok(pos + 8),
                _ => return Err(error(pos, Some(item_tag), DataSetErrorKind::ExpectedItem)),
            }
        }
    }

    /// Walks encapsulated Pixel Data: defined-length items (offset table, fragments) up to a
    /// sequence delimiter.
    fn fragments(
        &self,
        mut pos: usize,
        limit: usize,
        started_at: usize,
        tag: Tag,
    ) -> Result<usize, DataSetError> {
        // Encapsulation only exists in little endian syntaxes; fragments have no VR.
        let enc = Enc::IMPLICIT_LE;
        loop {
            if pos == limit {
                return Err(error(
                    pos,
                    Some(tag),
                    DataSetErrorKind::MissingDelimiter { started_at },
                ));
            }
            need(pos, limit, 8, None)?;
            let item_tag = Tag(u16_at(self.data, pos, enc), u16_at(self.data, pos + 2, enc));
            let length = u32_at(self.data, pos + 4, enc);
            match item_tag {
                Tag::ITEM if length == UNDEFINED_LENGTH => {
                    return Err(error(
                        pos,
                        Some(item_tag),
                        DataSetErrorKind::UndefinedLengthFragment,
                    ))
                }
                Tag::ITEM => {
                    let available = limit - (pos + 8);
                    if length as usize > available {
                        return Err(error(
                            pos,
                            Some(item_tag),
                            DataSetErrorKind::ValuePastEnd { length, available },
                        ));
                    }
                    pos += 8 + length as usize;
                }
                Tag::SEQUENCE_DELIMITER => return Ok(pos + 8),
                _ => return Err(error(pos, Some(item_tag), DataSetErrorKind::ExpectedItem)),
            }
        }
    }
}

/// Checks the element structure of an encoded data set (no group 0002 / preamble); see the
/// [module documentation](crate::dataset) for what is and is not checked.
///
/// Deflated transfer syntaxes return `Ok(())` unchecked until inflating is supported.
/// Never panics, whatever `data` holds.
pub fn validate(data: &[u8], ts: &TransferSyntax) -> Result<(), DataSetError> {
    if ts.deflated {
        return Ok(());
    }
    let walker = Walker {
        data,
        check_values: ValueCheck::Off,
    };
    walker
        .elements(0, data.len(), None, Enc::of(ts), 0)
        .map(|_| ())
}

/// [`validate`], also returning every value whose characters its explicit VR forbids (each
/// an error of kind [`DataSetErrorKind::InvalidValue`], in data set order) instead of failing
/// on the first, as [`validate_strict`] does. For a lenient sender: such values are common in
/// the field and travel unchanged, but the user should hear about them.
///
/// ```
/// use dimse_core::{dataset, uid::TransferSyntax};
///
/// // (0028,0008) IS "1A": a letter in an integer string.
/// let data = [0x28, 0x00, 0x08, 0x00, b'I', b'S', 2, 0, b'1', b'A'];
/// let ts = TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
/// let noted = dataset::validate_noting_values(&data, &ts).unwrap();
/// assert_eq!(noted[0].tag, Some(dataset::Tag(0x0028, 0x0008)));
/// assert!(dataset::validate_strict(&data, &ts).is_err());
/// ```
pub fn validate_noting_values(
    data: &[u8],
    ts: &TransferSyntax,
) -> Result<Vec<DataSetError>, DataSetError> {
    if ts.deflated {
        return Ok(Vec::new());
    }
    let walker = Walker {
        data,
        check_values: ValueCheck::Collect(Default::default()),
    };
    walker.elements(0, data.len(), None, Enc::of(ts), 0)?;
    match walker.check_values {
        ValueCheck::Collect(found) => Ok(found.into_inner()),
        _ => unreachable!("constructed as Collect above"),
    }
}

/// [`validate`], and also reject values whose characters their explicit VR forbids: IS
/// (integer strings), DS (decimal strings) and UI (UIDs). A sender uses this to refuse a file
/// that a careful receiver would choke on; a receiver should stay lenient and use [`validate`].
/// Implicit VR data sets carry no VR to check against, so only their structure is checked.
pub fn validate_strict(data: &[u8], ts: &TransferSyntax) -> Result<(), DataSetError> {
    if ts.deflated {
        return Ok(());
    }
    let walker = Walker {
        data,
        check_values: ValueCheck::Reject,
    };
    walker
        .elements(0, data.len(), None, Enc::of(ts), 0)
        .map(|_| ())
}

/// Whether `value` uses only the characters PS3.5 Table 6.2-1 allows for `vr` (multiple
/// values separated by backslashes; padding included). VRs not checked pass.
fn value_chars_ok(vr: Vr, value: &[u8]) -> bool {
    let allowed: fn(u8) -> bool = match vr {
        Vr::IS => |b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b' ' | b'\\'),
        Vr::DS => {
            |b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E' | b' ' | b'\\')
        }
        Vr::UI => |b| b.is_ascii_digit() || matches!(b, b'.' | b'\\' | 0),
        _ => return true,
    };
    value.iter().all(|&b| allowed(b))
}

/// The value of the top-level element `tag` as a string, trailing NUL/space padding removed;
/// `Ok(None)` when absent.
///
/// Bytes are read as UTF-8 with invalid sequences replaced (Specific Character Set is not
/// interpreted; meant for UIDs, codes and other ASCII values). Elements before the one asked
/// for are walked as [`validate`] would, and the search stops at the first tag past it, since
/// data set elements are in ascending order.
pub fn find_top_level_string(
    data: &[u8],
    ts: &TransferSyntax,
    tag: Tag,
) -> Result<Option<String>, DataSetError> {
    let mut top = TopLevel::new(data, ts)?;
    while let Some((pos, h)) = top.next_header()? {
        if h.tag > tag {
            return Ok(None);
        }
        if h.tag == tag {
            if h.length == UNDEFINED_LENGTH || h.vr == Some(Vr::SQ) {
                return Err(error(pos, Some(h.tag), DataSetErrorKind::NotAString));
            }
            let start = pos + h.header_len;
            let available = data.len() - start;
            if h.length as usize > available {
                return Err(error(
                    pos,
                    Some(h.tag),
                    DataSetErrorKind::ValuePastEnd {
                        length: h.length,
                        available,
                    },
                ));
            }
            let value = &data[start..start + h.length as usize];
            let text = String::from_utf8_lossy(value);
            return Ok(Some(text.trim_end_matches(['\0', ' ']).to_string()));
        }
        top.skip(pos, &h)?;
    }
    Ok(None)
}

/// The top-level element headers of a data set, one after another: the loop that
/// [`find_top_level_string`] and [`top_level_elements`] share, each element walked past as
/// [`validate`] walks it.
struct TopLevel<'a> {
    walker: Walker<'a>,
    enc: Enc,
    pos: usize,
}

impl<'a> TopLevel<'a> {
    fn new(data: &'a [u8], ts: &TransferSyntax) -> Result<Self, DataSetError> {
        if ts.deflated {
            return Err(error(0, None, DataSetErrorKind::Deflated));
        }
        let walker = Walker {
            data,
            check_values: ValueCheck::Off,
        };
        Ok(TopLevel {
            walker,
            enc: Enc::of(ts),
            pos: 0,
        })
    }

    /// The next header and its offset; `None` at the end of the data. An item or delimiter
    /// tag where an element belongs is an error.
    fn next_header(&mut self) -> Result<Option<(usize, Header)>, DataSetError> {
        let (pos, limit) = (self.pos, self.walker.data.len());
        if pos >= limit {
            return Ok(None);
        }
        let h = self.walker.header(pos, limit, self.enc)?;
        if h.tag.0 == 0xFFFE {
            return Err(error(pos, Some(h.tag), DataSetErrorKind::UnexpectedItemTag));
        }
        Ok(Some((pos, h)))
    }

    /// Walks past the element at `pos` with header `h`; returns where it ends.
    fn skip(&mut self, pos: usize, h: &Header) -> Result<usize, DataSetError> {
        self.pos = self
            .walker
            .element_end(pos, h, self.walker.data.len(), self.enc, 0)?;
        Ok(self.pos)
    }
}

/// Where one top-level element of an encoded data set lies, as [`top_level_elements`] finds
/// it: enough to copy the element byte for byte or to read its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementSpan {
    /// The element's tag.
    pub tag: Tag,
    /// The explicit VR; `None` in Implicit VR Little Endian.
    pub vr: Option<Vr>,
    /// Offset of the element's header.
    pub header_offset: usize,
    /// Offset of the element's value (just past the header).
    pub value_offset: usize,
    /// The length in the header: `0xFFFF_FFFF` (undefined) for an undefined-length sequence
    /// or encapsulated Pixel Data.
    pub length: u32,
    /// Offset just past the element: past its value, or past the sequence delimiter that
    /// ends an undefined-length value.
    pub end: usize,
}

impl ElementSpan {
    /// Whether the header says undefined length (a delimited sequence or encapsulated Pixel
    /// Data).
    pub fn is_undefined_length(&self) -> bool {
        self.length == UNDEFINED_LENGTH
    }
}

/// Every top-level element of an encoded data set (no group 0002 / preamble), in the order
/// they appear, each walked (sequences, items, fragments) as [`validate`] does, so an error
/// here is the error [`validate`] reports. Deflated syntaxes give
/// [`DataSetErrorKind::Deflated`]. Never panics, whatever `data` holds.
///
/// ```
/// use dimse_core::{dataset, uid::TransferSyntax};
///
/// // (0008,0016) UI "1.2" + NUL, then (0010,0010) PN "A " in explicit VR little endian
/// let data = [
///     0x08, 0x00, 0x16, 0x00, b'U', b'I', 4, 0, b'1', b'.', b'2', 0,
///     0x10, 0x00, 0x10, 0x00, b'P', b'N', 2, 0, b'A', b' ',
/// ];
/// let spans = dataset::top_level_elements(&data, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN)
///     .unwrap();
/// assert_eq!(spans.len(), 2);
/// assert_eq!(spans[1].tag, dataset::Tag(0x0010, 0x0010));
/// assert_eq!((spans[1].header_offset, spans[1].value_offset, spans[1].end), (12, 20, 22));
/// ```
pub fn top_level_elements(
    data: &[u8],
    ts: &TransferSyntax,
) -> Result<Vec<ElementSpan>, DataSetError> {
    let mut top = TopLevel::new(data, ts)?;
    let mut spans = Vec::new();
    while let Some((pos, h)) = top.next_header()? {
        let end = top.skip(pos, &h)?;
        spans.push(ElementSpan {
            tag: h.tag,
            vr: h.vr,
            header_offset: pos,
            value_offset: pos + h.header_len,
            length: h.length,
            end,
        });
    }
    Ok(spans)
}

/// The header at the start of `data`, as [`validate`] reads it: an element's (tag, VR if
/// explicit, length, header size), or an item's or delimiter's (no VR, 8 bytes). For readers
/// that walk a data set piece by piece from a file, with [`element_extent`]; only the 8 or 12
/// header bytes are needed.
///
/// ```
/// use dimse_core::{dataset, uid::TransferSyntax};
///
/// // (7FE0,0010) OB, undefined length, in explicit VR little endian.
/// let data = [0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
/// let h = dataset::element_header(&data, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN).unwrap();
/// assert_eq!((h.tag, h.header_offset, h.value_offset), (dataset::Tag::PIXEL_DATA, 0, 12));
/// assert!(h.is_undefined_length());
/// ```
pub fn element_header(data: &[u8], ts: &TransferSyntax) -> Result<ElementSpan, DataSetError> {
    if ts.deflated {
        return Err(error(0, None, DataSetErrorKind::Deflated));
    }
    let walker = Walker {
        data,
        check_values: ValueCheck::Off,
    };
    let h = walker.header(0, data.len(), Enc::of(ts))?;
    let end = if h.length == UNDEFINED_LENGTH {
        h.header_len
    } else {
        h.header_len + h.length as usize
    };
    Ok(ElementSpan {
        tag: h.tag,
        vr: h.vr,
        header_offset: 0,
        value_offset: h.header_len,
        length: h.length,
        end,
    })
}

/// Where the element at the start of `data` ends, walking it (sequences, items, fragments)
/// as [`validate`] does; an element cut short by the end of `data` is an error, so a reader
/// with more bytes to come reads on and asks again.
///
/// ```
/// use dimse_core::{dataset, uid::TransferSyntax};
///
/// // (0010,0010) PN "A " then the start of another element.
/// let data = [0x10, 0x00, 0x10, 0x00, b'P', b'N', 2, 0, b'A', b' ', 0x10, 0x00];
/// let ts = TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
/// assert_eq!(dataset::element_extent(&data, &ts).unwrap(), 10);
/// assert!(dataset::element_extent(&data[..9], &ts).is_err());
/// ```
pub fn element_extent(data: &[u8], ts: &TransferSyntax) -> Result<usize, DataSetError> {
    let mut top = TopLevel::new(data, ts)?;
    match top.next_header()? {
        Some((pos, h)) => top.skip(pos, &h),
        None => Err(error(
            0,
            None,
            DataSetErrorKind::TruncatedHeader {
                needed: 8,
                available: 0,
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPLICIT: TransferSyntax = TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
    const IMPLICIT: TransferSyntax = TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN;

    fn el_implicit(g: u16, e: u16, len: u32, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&g.to_le_bytes());
        v.extend_from_slice(&e.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(value);
        v
    }

    #[test]
    fn nested_undefined_sequences() {
        // (0008,1115) SQ undefined { item undefined { (0008,0016) "1." } } delimiter
        let mut d = el_implicit(0x0008, 0x1115, UNDEFINED_LENGTH, &[]);
        d.extend(el_implicit(0xFFFE, 0xE000, UNDEFINED_LENGTH, &[]));
        d.extend(el_implicit(0x0008, 0x0016, 2, b"1."));
        d.extend(el_implicit(0xFFFE, 0xE00D, 0, &[]));
        d.extend(el_implicit(0xFFFE, 0xE0DD, 0, &[]));
        d.extend(el_implicit(0x0010, 0x0010, 2, b"A "));
        assert_eq!(validate(&d, &IMPLICIT), Ok(()));
        assert_eq!(
            find_top_level_string(&d, &IMPLICIT, Tag(0x0010, 0x0010))
                .unwrap()
                .as_deref(),
            Some("A")
        );
        assert_eq!(
            find_top_level_string(&d, &IMPLICIT, Tag(0x0008, 0x0016)).unwrap(),
            None
        );
        let cut = &d[..d.len() - 18];
        let e = validate(cut, &IMPLICIT).unwrap_err();
        assert!(
            matches!(e.kind, DataSetErrorKind::MissingDelimiter { .. }),
            "{e}"
        );
    }

    #[test]
    fn hostile_depth_is_bounded() {
        let mut d = Vec::new();
        for _ in 0..10_000 {
            d.extend(el_implicit(0x0008, 0x1115, UNDEFINED_LENGTH, &[]));
            d.extend(el_implicit(0xFFFE, 0xE000, UNDEFINED_LENGTH, &[]));
        }
        let e = validate(&d, &IMPLICIT).unwrap_err();
        assert_eq!(e.kind, DataSetErrorKind::TooDeep);
    }

    #[test]
    fn bad_vr_and_bad_undefined_length() {
        let d = [0x08, 0, 0x16, 0, b'Z', b'Z', 0, 0];
        let e = validate(&d, &EXPLICIT).unwrap_err();
        assert_eq!(e.kind, DataSetErrorKind::InvalidVr(*b"ZZ"));
        let d = [0x08, 0, 0x16, 0, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        let e = validate(&d, &EXPLICIT).unwrap_err();
        assert!(matches!(
            e.kind,
            DataSetErrorKind::UndefinedLengthNotAllowed { .. }
        ));
    }
}
