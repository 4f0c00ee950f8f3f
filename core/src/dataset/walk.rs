//! The structural walker: [`validate`], [`validate_strict`] and [`find_top_level_string`] check
//! and read encoded data sets without building them in memory (see the
//! [module documentation](crate::dataset) for what is checked).

use std::fmt;

use crate::uid::TransferSyntax;

/// Maximum nesting depth of sequences (and UN-encoded sequences) [`validate`] follows.
pub const MAX_DEPTH: usize = 64;

const UNDEFINED_LENGTH: u32 = 0xFFFF_FFFF;
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_DELIMITER: (u16, u16) = (0xFFFE, 0xE00D);
const SEQUENCE_DELIMITER: (u16, u16) = (0xFFFE, 0xE0DD);
const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);

/// A structural error in a data set: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSetError {
    /// Byte offset, into the data given, of the element or item header concerned (or of the
    /// end of the data for a missing delimiter).
    pub offset: usize,
    /// The tag of the element concerned, when one was read.
    pub tag: Option<(u16, u16)>,
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
        vr: Option<[u8; 2]>,
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
        vr: [u8; 2],
    },
}

impl fmt::Display for DataSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "data set error at offset {}", self.offset)?;
        if let Some((g, e)) = self.tag {
            write!(f, ", element ({g:04X},{e:04X})")?;
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
                Some(vr) => write!(f, "undefined length not allowed on VR {}", vr_text(*vr)),
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
            DataSetErrorKind::InvalidValue { vr } => write!(
                f,
                "value has characters that VR {} does not allow",
                vr_text(*vr)
            ),
        }
    }
}

impl std::error::Error for DataSetError {}

fn vr_text(vr: [u8; 2]) -> String {
    String::from_utf8_lossy(&vr).into_owned()
}

/// The standard VRs (PS3.5 Table 6.2-1).
const VRS: [&[u8; 2]; 34] = [
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"OB",
    b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM",
    b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
];

/// Whether `vr` is a standard VR.
pub(crate) fn is_valid_vr(vr: [u8; 2]) -> bool {
    VRS.iter().any(|v| **v == vr)
}

/// Whether an explicit-VR header with this VR has 2 reserved bytes and a 4-byte length
/// (PS3.5 §7.1.2) rather than a 2-byte length.
pub(crate) fn has_long_length(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

/// Byte order and VR explicitness of the part being walked (UN sequences switch to implicit).
#[derive(Clone, Copy)]
struct Enc {
    explicit: bool,
    big_endian: bool,
}

const IMPLICIT_LE: Enc = Enc {
    explicit: false,
    big_endian: false,
};

struct Header {
    tag: (u16, u16),
    vr: Option<[u8; 2]>,
    length: u32,
    header_len: usize,
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
    fn err(offset: usize, tag: Option<(u16, u16)>, kind: DataSetErrorKind) -> DataSetError {
        DataSetError { offset, tag, kind }
    }

    fn u16_at(&self, pos: usize, enc: Enc) -> u16 {
        let b = [self.data[pos], self.data[pos + 1]];
        if enc.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    fn u32_at(&self, pos: usize, enc: Enc) -> u32 {
        let b = [
            self.data[pos],
            self.data[pos + 1],
            self.data[pos + 2],
            self.data[pos + 3],
        ];
        if enc.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn need(
        &self,
        pos: usize,
        limit: usize,
        needed: usize,
        tag: Option<(u16, u16)>,
    ) -> Result<(), DataSetError> {
        let available = limit - pos;
        if available < needed {
            return Err(Self::err(
                pos,
                tag,
                DataSetErrorKind::TruncatedHeader { needed, available },
            ));
        }
        Ok(())
    }

    /// Reads an element, item or delimiter header at `pos`, within `limit`.
    fn header(&self, pos: usize, limit: usize, enc: Enc) -> Result<Header, DataSetError> {
        self.need(pos, limit, 8, None)?;
        let tag = (self.u16_at(pos, enc), self.u16_at(pos + 2, enc));
        // Items and delimiters never carry a VR, even in explicit VR syntaxes.
        if !enc.explicit || tag.0 == 0xFFFE {
            return Ok(Header {
                tag,
                vr: None,
                length: self.u32_at(pos + 4, enc),
                header_len: 8,
            });
        }
        let vr = [self.data[pos + 4], self.data[pos + 5]];
        if !is_valid_vr(vr) {
            return Err(Self::err(pos, Some(tag), DataSetErrorKind::InvalidVr(vr)));
        }
        if has_long_length(vr) {
            self.need(pos, limit, 12, Some(tag))?;
            Ok(Header {
                tag,
                vr: Some(vr),
                length: self.u32_at(pos + 8, enc),
                header_len: 12,
            })
        } else {
            let length = u32::from(self.u16_at(pos + 6, enc));
            Ok(Header {
                tag,
                vr: Some(vr),
                length,
                header_len: 8,
            })
        }
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
                    Some(started_at) => Err(Self::err(
                        pos,
                        None,
                        DataSetErrorKind::MissingDelimiter { started_at },
                    )),
                    None => Ok(pos),
                };
            }
            let h = self.header(pos, limit, enc)?;
            if h.tag.0 == 0xFFFE {
                if h.tag == ITEM_DELIMITER && delimited.is_some() {
                    return Ok(pos + 8);
                }
                return Err(Self::err(
                    pos,
                    Some(h.tag),
                    DataSetErrorKind::UnexpectedItemTag,
                ));
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
        let is_sq = h.vr == Some(*b"SQ");
        if h.length == UNDEFINED_LENGTH {
            let pixel_vr_ok = matches!(h.vr.as_ref(), None | Some(b"OB" | b"OW" | b"UN"));
            if h.tag == PIXEL_DATA && pixel_vr_ok {
                return self.fragments(start, limit, pos, h.tag);
            }
            return match h.vr.as_ref() {
                // Implicit VR: undefined length can only be a sequence.
                None | Some(b"SQ") => self.sequence(start, limit, Some(pos), enc, depth + 1, h.tag),
                Some(b"UN") => {
                    self.sequence(start, limit, Some(pos), IMPLICIT_LE, depth + 1, h.tag)
                }
                Some(vr) => Err(Self::err(
                    pos,
                    Some(h.tag),
                    DataSetErrorKind::UndefinedLengthNotAllowed { vr: Some(*vr) },
                )),
            };
        }
        let available = limit - start;
        if h.length as usize > available {
            return Err(Self::err(
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
                let error = Self::err(pos, Some(h.tag), DataSetErrorKind::InvalidValue { vr });
                match &self.check_values {
                    ValueCheck::Collect(found) => found.borrow_mut().push(error),
                    _ => return Err(error),
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
        tag: (u16, u16),
    ) -> Result<usize, DataSetError> {
        if depth > MAX_DEPTH {
            return Err(Self::err(pos, Some(tag), DataSetErrorKind::TooDeep));
        }
        loop {
            if pos == limit {
                return match delimited {
                    Some(started_at) => Err(Self::err(
                        pos,
                        Some(tag),
                        DataSetErrorKind::MissingDelimiter { started_at },
                    )),
                    None => Ok(pos),
                };
            }
            self.need(pos, limit, 8, None)?;
            let item_tag = (self.u16_at(pos, enc), self.u16_at(pos + 2, enc));
            let length = self.u32_at(pos + 4, enc);
            match item_tag {
                ITEM if length == UNDEFINED_LENGTH => {
                    pos = self.elements(pos + 8, limit, Some(pos), enc, depth)?;
                }
                ITEM => {
                    let available = limit - (pos + 8);
                    if length as usize > available {
                        return Err(Self::err(
                            pos,
                            Some(item_tag),
                            DataSetErrorKind::ValuePastEnd { length, available },
                        ));
                    }
                    let end = pos + 8 + length as usize;
                    self.elements(pos + 8, end, None, enc, depth)?;
                    pos = end;
                }
                SEQUENCE_DELIMITER if delimited.is_some() => return Ok(pos + 8),
                _ => {
                    return Err(Self::err(
                        pos,
                        Some(item_tag),
                        DataSetErrorKind::ExpectedItem,
                    ))
                }
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
        tag: (u16, u16),
    ) -> Result<usize, DataSetError> {
        // Encapsulation only exists in little endian syntaxes; fragments have no VR.
        let enc = IMPLICIT_LE;
        loop {
            if pos == limit {
                return Err(Self::err(
                    pos,
                    Some(tag),
                    DataSetErrorKind::MissingDelimiter { started_at },
                ));
            }
            self.need(pos, limit, 8, None)?;
            let item_tag = (self.u16_at(pos, enc), self.u16_at(pos + 2, enc));
            let length = self.u32_at(pos + 4, enc);
            match item_tag {
                ITEM if length == UNDEFINED_LENGTH => {
                    return Err(Self::err(
                        pos,
                        Some(item_tag),
                        DataSetErrorKind::UndefinedLengthFragment,
                    ))
                }
                ITEM => {
                    let available = limit - (pos + 8);
                    if length as usize > available {
                        return Err(Self::err(
                            pos,
                            Some(item_tag),
                            DataSetErrorKind::ValuePastEnd { length, available },
                        ));
                    }
                    pos += 8 + length as usize;
                }
                SEQUENCE_DELIMITER => return Ok(pos + 8),
                _ => {
                    return Err(Self::err(
                        pos,
                        Some(item_tag),
                        DataSetErrorKind::ExpectedItem,
                    ))
                }
            }
        }
    }
}

fn encoding(ts: &TransferSyntax) -> Enc {
    Enc {
        explicit: ts.explicit_vr,
        big_endian: ts.big_endian,
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
        .elements(0, data.len(), None, encoding(ts), 0)
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
/// assert_eq!(noted[0].tag, Some((0x0028, 0x0008)));
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
    walker.elements(0, data.len(), None, encoding(ts), 0)?;
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
        .elements(0, data.len(), None, encoding(ts), 0)
        .map(|_| ())
}

/// Whether `value` uses only the characters PS3.5 Table 6.2-1 allows for `vr` (multiple
/// values separated by backslashes; padding included). VRs not checked pass.
fn value_chars_ok(vr: [u8; 2], value: &[u8]) -> bool {
    let allowed: fn(u8) -> bool = match &vr {
        b"IS" => |b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b' ' | b'\\'),
        b"DS" => {
            |b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E' | b' ' | b'\\')
        }
        b"UI" => |b| b.is_ascii_digit() || matches!(b, b'.' | b'\\' | 0),
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
    tag: (u16, u16),
) -> Result<Option<String>, DataSetError> {
    let mut top = TopLevel::new(data, ts)?;
    while let Some((pos, h)) = top.next_header()? {
        if h.tag > tag {
            return Ok(None);
        }
        if h.tag == tag {
            if h.length == UNDEFINED_LENGTH || h.vr == Some(*b"SQ") {
                return Err(Walker::err(pos, Some(h.tag), DataSetErrorKind::NotAString));
            }
            let start = pos + h.header_len;
            let available = data.len() - start;
            if h.length as usize > available {
                return Err(Walker::err(
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
            return Err(Walker::err(0, None, DataSetErrorKind::Deflated));
        }
        let walker = Walker {
            data,
            check_values: ValueCheck::Off,
        };
        Ok(TopLevel {
            walker,
            enc: encoding(ts),
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
            return Err(Walker::err(
                pos,
                Some(h.tag),
                DataSetErrorKind::UnexpectedItemTag,
            ));
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
    /// The element's tag (group, element).
    pub tag: (u16, u16),
    /// The explicit VR; `None` in Implicit VR Little Endian.
    pub vr: Option<[u8; 2]>,
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
/// assert_eq!(spans[1].tag, (0x0010, 0x0010));
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
/// assert_eq!((h.tag, h.header_offset, h.value_offset), ((0x7FE0, 0x0010), 0, 12));
/// assert!(h.is_undefined_length());
/// ```
pub fn element_header(data: &[u8], ts: &TransferSyntax) -> Result<ElementSpan, DataSetError> {
    if ts.deflated {
        return Err(Walker::err(0, None, DataSetErrorKind::Deflated));
    }
    let walker = Walker {
        data,
        check_values: ValueCheck::Off,
    };
    let h = walker.header(0, data.len(), encoding(ts))?;
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
        None => Err(Walker::err(
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
            find_top_level_string(&d, &IMPLICIT, (0x0010, 0x0010))
                .unwrap()
                .as_deref(),
            Some("A")
        );
        assert_eq!(
            find_top_level_string(&d, &IMPLICIT, (0x0008, 0x0016)).unwrap(),
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
