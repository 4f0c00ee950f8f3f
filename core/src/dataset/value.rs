//! The in-memory data set: elements, values, typed accessors and setters.

use std::fmt;

use bytes::Bytes;

use super::{dictionary, Tag, Vr};

/// A data element: tag, VR and value.
///
/// ```
/// use bytes::Bytes;
/// use dimse_core::dataset::{Element, Tag, Value, Vr};
///
/// let e = Element::new(Tag(0x0010, 0x0020), Vr::LO, Value::Bytes(Bytes::from_static(b"123 ")));
/// assert!(!e.undefined_length);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// The tag.
    pub tag: Tag,
    /// The VR: as written in explicit VR syntaxes, from the dictionary in Implicit VR (UN when
    /// unknown; SQ for any element of undefined length, which can only be a sequence).
    pub vr: Vr,
    /// The value.
    pub value: Value,
    /// Sequences only: encode with undefined length and a sequence delimiter (set when decoded
    /// so; kept so that re-encoding gives the same bytes). Encapsulated fragments always have
    /// undefined length, other values never.
    pub undefined_length: bool,
}

impl Element {
    /// An element with a defined length.
    pub fn new(tag: Tag, vr: Vr, value: Value) -> Element {
        Element {
            tag,
            vr,
            value,
            undefined_length: false,
        }
    }
}

/// The value of an [`Element`].
///
/// ```
/// use dimse_core::dataset::{DataSet, Value};
///
/// let v = Value::Sequence(vec![DataSet::new()]);
/// assert!(matches!(v, Value::Sequence(ref items) if items.len() == 1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// The value's bytes, padding included. Text is kept as encoded (decode it with the
    /// accessors, which apply Specific Character Set); binary numbers (US, UL, FL, OW, AT, …)
    /// are kept **little endian** whatever the transfer syntax, so that they read the same and
    /// re-encode into any syntax (Explicit VR Big Endian swaps on decode and encode).
    Bytes(Bytes),
    /// The items of a sequence (SQ, or UN holding an undefined-length sequence).
    Sequence(Vec<DataSet>),
    /// Encapsulated Pixel Data, untouched: the fragments in order, the Basic Offset Table first
    /// (possibly empty).
    Fragments(Vec<Bytes>),
}

/// An error reading or setting a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    /// A keyword (or `gggg,eeee` text) that names no tag of the dictionary.
    UnknownTag(String),
    /// Specific Character Set (0008,0005) names a character set this codec does not decode;
    /// the value is the whole (0008,0005) text.
    UnsupportedCharset(String),
    /// The bytes of `tag` are not valid in the character set `charset`.
    InvalidText {
        /// The element.
        tag: Tag,
        /// The character set (its defined term).
        charset: &'static str,
    },
    /// A string that cannot be written in the data set's character set, or a non-ASCII string
    /// for a VR limited to the default repertoire.
    NotRepresentable {
        /// The element.
        tag: Tag,
        /// The character set (its defined term).
        charset: &'static str,
    },
    /// The element's VR does not fit the accessor or setter.
    WrongVr {
        /// The element.
        tag: Tag,
        /// Its VR.
        vr: Vr,
    },
    /// The element is a sequence or fragments, not bytes (or bytes, not a sequence).
    WrongValueKind {
        /// The element.
        tag: Tag,
    },
    /// A binary value shorter than one number of its VR.
    TooShort {
        /// The element.
        tag: Tag,
        /// Its length in bytes.
        length: usize,
    },
    /// A number, date or UID that does not parse or does not fit the type asked for.
    Malformed {
        /// The element.
        tag: Tag,
        /// The offending text (or number).
        text: String,
    },
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::UnknownTag(s) => write!(f, "unknown tag or keyword {s:?}"),
            ValueError::UnsupportedCharset(s) => {
                write!(f, "unsupported Specific Character Set {s:?}")
            }
            ValueError::InvalidText { tag, charset } => {
                write!(f, "element {tag}: bytes are not valid {charset}")
            }
            ValueError::NotRepresentable { tag, charset } => {
                write!(f, "element {tag}: text cannot be written in {charset}")
            }
            ValueError::WrongVr { tag, vr } => {
                write!(f, "element {tag}: VR {vr} does not fit this accessor")
            }
            ValueError::WrongValueKind { tag } => {
                write!(
                    f,
                    "element {tag}: wrong kind of value (sequence, fragments or bytes)"
                )
            }
            ValueError::TooShort { tag, length } => {
                write!(f, "element {tag}: value of {length} bytes is too short")
            }
            ValueError::Malformed { tag, text } => {
                write!(f, "element {tag}: malformed value {text:?}")
            }
        }
    }
}

impl std::error::Error for ValueError {}

/// A date (VR DA), `YYYYMMDD`.
///
/// ```
/// use dimse_core::dataset::{DataSet, Date, Tag};
///
/// let mut ds = DataSet::new();
/// ds.set_str(Tag(0x0008, 0x0020), "20240229").unwrap();
/// let d = ds.get_date(Tag(0x0008, 0x0020)).unwrap().unwrap();
/// assert_eq!(d, Date { year: 2024, month: 2, day: 29 });
/// assert_eq!(d.to_string(), "20240229");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, 0–9999.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
}

impl Date {
    /// Parses `YYYYMMDD` (and the pre-1993 `YYYY.MM.DD` still met in old files).
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let digits: String = match s.len() {
            8 => s.to_string(),
            10 if s.as_bytes()[4] == b'.' && s.as_bytes()[7] == b'.' => s.replace('.', ""),
            _ => return None,
        };
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: u16 = digits[..4].parse().ok()?;
        let month: u8 = digits[4..6].parse().ok()?;
        let day: u8 = digits[6..].parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

/// The character sets text is decoded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    /// Default repertoire (ISO-IR 6, ASCII). Read leniently: bytes above 0x7F, which the
    /// default repertoire does not have but which real files carry, read as Latin-1 (as
    /// pydicom does) instead of failing; written strictly (ASCII only).
    Default,
    /// ISO_IR 100, ISO 8859-1 (Latin-1).
    Latin1,
    /// ISO_IR 192, UTF-8.
    Utf8,
}

impl Charset {
    /// The charset named by a (0008,0005) value. Code extensions (ISO 2022, several values)
    /// are accepted only when they add nothing beyond one single-byte set: a value with escape
    /// sequences would otherwise be misread.
    fn parse(value: &[u8]) -> Result<Charset, ValueError> {
        let text = String::from_utf8_lossy(value);
        let terms: Vec<&str> = text
            .trim_end_matches(['\0', ' '])
            .split('\\')
            .map(str::trim)
            .collect();
        let one = |t: &str| match t {
            "" | "ISO_IR 6" | "ISO 2022 IR 6" => Some(Charset::Default),
            "ISO_IR 100" | "ISO 2022 IR 100" => Some(Charset::Latin1),
            "ISO_IR 192" => Some(Charset::Utf8),
            _ => None,
        };
        let unsupported = || ValueError::UnsupportedCharset(text.trim_end().to_string());
        let mut result = Charset::Default;
        for (i, t) in terms.iter().enumerate() {
            let c = one(t).ok_or_else(unsupported)?;
            // Several values mean ISO 2022 code extensions; only "default + one more" of the
            // ISO 2022 terms above (no escapes switch between them in practice) is accepted.
            if i > 0 && (c == Charset::Utf8 || (result != Charset::Default && c != result)) {
                return Err(unsupported());
            }
            if c != Charset::Default {
                result = c;
            }
        }
        Ok(result)
    }

    fn name(self) -> &'static str {
        match self {
            Charset::Default => "ISO_IR 6",
            Charset::Latin1 => "ISO_IR 100",
            Charset::Utf8 => "ISO_IR 192",
        }
    }

    fn decode(self, tag: Tag, bytes: &[u8]) -> Result<String, ValueError> {
        match self {
            Charset::Utf8 => {
                String::from_utf8(bytes.to_vec()).map_err(|_| ValueError::InvalidText {
                    tag,
                    charset: self.name(),
                })
            }
            Charset::Default | Charset::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
        }
    }

    fn encode(self, tag: Tag, text: &str) -> Result<Vec<u8>, ValueError> {
        let err = || ValueError::NotRepresentable {
            tag,
            charset: self.name(),
        };
        match self {
            Charset::Utf8 => Ok(text.as_bytes().to_vec()),
            Charset::Latin1 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).map_err(|_| err()))
                .collect(),
            Charset::Default => text
                .is_ascii()
                .then(|| text.as_bytes().to_vec())
                .ok_or_else(err),
        }
    }
}

/// A data set in memory: elements in ascending tag order.
///
/// Built for the small data sets of networking (C-FIND identifiers and responses): keyword
/// based construction, typed accessors, and [`DataSet::decode`] / [`DataSet::encode`] in every
/// uncompressed transfer syntax. Large C-STORE data sets need not come here at all: they stream
/// through as bytes, checked by [`validate`](super::validate).
///
/// Text values are decoded with the data set's Specific Character Set (0008,0005) (an item
/// without one inherits its enclosing data set's when decoded or set with
/// [`DataSet::set_sequence`]): the default repertoire, ISO_IR 100 (Latin-1) and ISO_IR 192
/// (UTF-8). Any other character set is an error that names it
/// ([`ValueError::UnsupportedCharset`]); the raw bytes stay readable with [`DataSet::get`].
///
/// ```
/// use dimse_core::dataset::{DataSet, Tag};
///
/// # fn main() -> Result<(), dimse_core::dataset::ValueError> {
/// let query = DataSet::new()
///     .with("QueryRetrieveLevel", "STUDY")?
///     .with("PatientID", "123")?
///     .with_empty("StudyInstanceUID")?;
/// assert_eq!(query.get_str(Tag(0x0010, 0x0020)), Some(Ok("123".to_string())));
/// assert_eq!(query.get_str(Tag::parse("StudyInstanceUID")?), Some(Ok(String::new())));
/// assert_eq!(query.len(), 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct DataSet {
    elements: Vec<Element>,
    /// As an item: encode with undefined length and an item delimiter.
    undefined_length: bool,
    /// Specific Character Set of the enclosing data set, for an item that has none.
    inherited_charset: Option<Bytes>,
}

/// Equal when the elements (and, for items, the length encoding) are; the character set an
/// item inherits is context, not content.
impl PartialEq for DataSet {
    fn eq(&self, other: &DataSet) -> bool {
        self.elements == other.elements && self.undefined_length == other.undefined_length
    }
}

impl DataSet {
    /// An empty data set.
    pub fn new() -> DataSet {
        DataSet::default()
    }

    /// The elements, in ascending tag order.
    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// The number of (top-level) elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// As an item of a sequence: whether it is encoded with undefined length (and an item
    /// delimiter) rather than a defined length.
    pub fn item_undefined_length(&self) -> bool {
        self.undefined_length
    }

    /// Sets how this data set is encoded as an item (see [`DataSet::item_undefined_length`]).
    pub fn set_item_undefined_length(&mut self, undefined: bool) {
        self.undefined_length = undefined;
    }

    /// The element `tag`, if present.
    pub fn get(&self, tag: Tag) -> Option<&Element> {
        self.elements
            .binary_search_by(|e| e.tag.cmp(&tag))
            .ok()
            .map(|i| &self.elements[i])
    }

    /// Inserts `element`, replacing (and returning) any element with its tag.
    pub fn insert(&mut self, element: Element) -> Option<Element> {
        // Decoding appends in order almost always: check the end first.
        if self.elements.last().map_or(true, |l| l.tag < element.tag) {
            self.elements.push(element);
            return None;
        }
        match self.elements.binary_search_by(|e| e.tag.cmp(&element.tag)) {
            Ok(i) => Some(std::mem::replace(&mut self.elements[i], element)),
            Err(i) => {
                self.elements.insert(i, element);
                None
            }
        }
    }

    /// Removes and returns the element `tag`.
    pub fn remove(&mut self, tag: Tag) -> Option<Element> {
        let i = self.elements.binary_search_by(|e| e.tag.cmp(&tag)).ok()?;
        Some(self.elements.remove(i))
    }

    /// The (0008,0005) value in force: this data set's, else the inherited one.
    fn charset_bytes(&self) -> Option<Bytes> {
        match self.get(Tag::SPECIFIC_CHARACTER_SET).map(|e| &e.value) {
            Some(Value::Bytes(b)) => Some(b.clone()),
            _ => self.inherited_charset.clone(),
        }
    }

    fn charset(&self) -> Result<Charset, ValueError> {
        match self.charset_bytes() {
            Some(b) => Charset::parse(&b),
            None => Ok(Charset::Default),
        }
    }

    /// Passes the character set in force down to the items of every sequence, recursively.
    pub(super) fn propagate_charset(&mut self) {
        let cs = self.charset_bytes();
        for e in &mut self.elements {
            if let Value::Sequence(items) = &mut e.value {
                for item in items {
                    item.inherited_charset = cs.clone();
                    item.propagate_charset();
                }
            }
        }
    }

    fn bytes_of(&self, tag: Tag) -> Option<Result<(&Bytes, Vr), ValueError>> {
        let e = self.get(tag)?;
        Some(match &e.value {
            Value::Bytes(b) => Ok((b, e.vr)),
            _ => Err(ValueError::WrongValueKind { tag }),
        })
    }

    /// The text of `tag`, decoded (Specific Character Set for SH, LO, ST, LT, UC, UT and PN;
    /// default repertoire for other text VRs), trailing spaces and NULs removed; several values
    /// stay joined by backslashes (see [`DataSet::get_strs`]). `None` when absent; an error
    /// for a binary VR, a sequence, or undecodable text.
    pub fn get_str(&self, tag: Tag) -> Option<Result<String, ValueError>> {
        Some(self.bytes_of(tag)?.and_then(|(b, vr)| {
            if !vr.is_text() && vr != Vr::UN {
                return Err(ValueError::WrongVr { tag, vr });
            }
            let cs = if vr.uses_charset() || vr == Vr::UN {
                self.charset()?
            } else {
                Charset::Default
            };
            let s = cs.decode(tag, b)?;
            Ok(s.trim_end_matches(['\0', ' ']).to_string())
        }))
    }

    /// The values of a multi-valued text element, split at backslashes, each trimmed of
    /// surrounding spaces (and NULs). An empty value gives no values. LT, ST, UT and UR are
    /// single-valued (a backslash there is text) and give one value.
    pub fn get_strs(&self, tag: Tag) -> Option<Result<Vec<String>, ValueError>> {
        let vr = self.get(tag)?.vr;
        Some(self.get_str(tag)?.map(|s| {
            if s.is_empty() {
                Vec::new()
            } else if vr.is_multi_valued_text() || vr == Vr::UN {
                s.split('\\')
                    .map(|v| v.trim_matches(['\0', ' ']).to_string())
                    .collect()
            } else {
                vec![s]
            }
        }))
    }

    /// A UID (VR UI, or UN), padding removed.
    pub fn get_uid(&self, tag: Tag) -> Option<Result<String, ValueError>> {
        let vr = self.get(tag)?.vr;
        if !matches!(vr, Vr::UI | Vr::UN) {
            return Some(Err(ValueError::WrongVr { tag, vr }));
        }
        self.get_str(tag)
    }

    /// The first date of a DA element (`YYYYMMDD`). A range or other text is
    /// [`ValueError::Malformed`].
    pub fn get_date(&self, tag: Tag) -> Option<Result<Date, ValueError>> {
        let first = self.first_text(tag)?;
        Some(first.and_then(|s| Date::parse(&s).ok_or(ValueError::Malformed { tag, text: s })))
    }

    fn first_text(&self, tag: Tag) -> Option<Result<String, ValueError>> {
        Some(
            self.get_strs(tag)?
                .map(|v| v.into_iter().next().unwrap_or_default()),
        )
    }

    /// The first number of a binary integer VR (US, SS, UL, SL, SV, UV; also UN read as little
    /// endian by its length) or of an IS/DS string, as i128 so every source fits.
    fn first_int(&self, tag: Tag) -> Option<Result<i128, ValueError>> {
        let (b, vr) = match self.bytes_of(tag)? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let need = |n: usize| {
            if b.len() < n {
                Err(ValueError::TooShort {
                    tag,
                    length: b.len(),
                })
            } else {
                Ok(&b[..n])
            }
        };
        let r = match vr {
            Vr::US => need(2).map(|x| i128::from(u16::from_le_bytes([x[0], x[1]]))),
            Vr::SS => need(2).map(|x| i128::from(i16::from_le_bytes([x[0], x[1]]))),
            Vr::UL => need(4).map(|x| i128::from(u32::from_le_bytes(x.try_into().unwrap()))),
            Vr::SL => need(4).map(|x| i128::from(i32::from_le_bytes(x.try_into().unwrap()))),
            Vr::UV => need(8).map(|x| i128::from(u64::from_le_bytes(x.try_into().unwrap()))),
            Vr::SV => need(8).map(|x| i128::from(i64::from_le_bytes(x.try_into().unwrap()))),
            Vr::IS | Vr::DS => {
                return Some(self.first_text(tag)?.and_then(|s| {
                    s.parse::<i128>()
                        .map_err(|_| ValueError::Malformed { tag, text: s })
                }))
            }
            vr => Err(ValueError::WrongVr { tag, vr }),
        };
        Some(r)
    }

    fn int_as<T: TryFrom<i128>>(&self, tag: Tag) -> Option<Result<T, ValueError>> {
        Some(self.first_int(tag)?.and_then(|v| {
            T::try_from(v).map_err(|_| ValueError::Malformed {
                tag,
                text: v.to_string(),
            })
        }))
    }

    /// The first value of `tag` as u16 (US, UL, SS, SL, IS, … when it fits).
    pub fn get_u16(&self, tag: Tag) -> Option<Result<u16, ValueError>> {
        self.int_as(tag)
    }

    /// The first value of `tag` as u32 (UL, US, IS, … when it fits).
    pub fn get_u32(&self, tag: Tag) -> Option<Result<u32, ValueError>> {
        self.int_as(tag)
    }

    /// The first value of `tag` as i32 (SL, SS, US, IS, … when it fits).
    pub fn get_i32(&self, tag: Tag) -> Option<Result<i32, ValueError>> {
        self.int_as(tag)
    }

    /// The first value of `tag` as f64 (FD, FL, DS, and the integer VRs).
    pub fn get_f64(&self, tag: Tag) -> Option<Result<f64, ValueError>> {
        let (b, vr) = match self.bytes_of(tag)? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let short = || ValueError::TooShort {
            tag,
            length: b.len(),
        };
        Some(match vr {
            Vr::FL => b
                .get(..4)
                .map(|x| f64::from(f32::from_le_bytes(x.try_into().unwrap())))
                .ok_or_else(short),
            Vr::FD => b
                .get(..8)
                .map(|x| f64::from_le_bytes(x.try_into().unwrap()))
                .ok_or_else(short),
            Vr::DS | Vr::IS => self.first_text(tag)?.and_then(|s| {
                s.parse::<f64>()
                    .map_err(|_| ValueError::Malformed { tag, text: s })
            }),
            // Integers up to 2^53 are exact in f64; larger SV/UV lose precision as any f64 does.
            _ => self.first_int(tag)?.map(|v| v as f64),
        })
    }

    /// The items of a sequence.
    pub fn get_sequence(&self, tag: Tag) -> Option<Result<&[DataSet], ValueError>> {
        let e = self.get(tag)?;
        Some(match &e.value {
            Value::Sequence(items) => Ok(items.as_slice()),
            _ => Err(ValueError::WrongValueKind { tag }),
        })
    }

    /// The VR to write `tag` with: the dictionary's when it is one of `allowed`, else
    /// `allowed[0]` for a tag the dictionary does not know (UN); otherwise an error.
    fn vr_for(tag: Tag, allowed: &[Vr]) -> Result<Vr, ValueError> {
        let vr = dictionary::vr_of(tag);
        if allowed.contains(&vr) {
            Ok(vr)
        } else if vr == Vr::UN {
            Ok(allowed[0])
        } else {
            Err(ValueError::WrongVr { tag, vr })
        }
    }

    fn set_bytes(&mut self, tag: Tag, vr: Vr, mut bytes: Vec<u8>) {
        if bytes.len() % 2 == 1 {
            bytes.push(super::codec::padding(vr));
        }
        self.insert(Element::new(tag, vr, Value::Bytes(Bytes::from(bytes))));
    }

    /// Sets a text element (VR from the dictionary, which must be a text VR), encoded in the
    /// data set's character set and padded to even length (NUL for UI, space otherwise).
    /// Several values are given joined by backslashes, or with [`DataSet::set_strs`]. Setting
    /// (0008,0005) itself changes how later text is encoded, not text already set.
    pub fn set_str(&mut self, tag: Tag, value: &str) -> Result<(), ValueError> {
        let vr = dictionary::vr_of(tag);
        if !vr.is_text() {
            return Err(ValueError::WrongVr { tag, vr });
        }
        let cs = if vr.uses_charset() {
            self.charset()?
        } else {
            Charset::Default
        };
        let bytes = cs.encode(tag, value)?;
        self.set_bytes(tag, vr, bytes);
        Ok(())
    }

    /// Sets a multi-valued text element (values joined with backslashes).
    pub fn set_strs(&mut self, tag: Tag, values: &[&str]) -> Result<(), ValueError> {
        self.set_str(tag, &values.join("\\"))
    }

    /// Sets `tag` with an empty value (a C-FIND return key): zero length, or an empty sequence
    /// for SQ. The VR comes from the dictionary (UN for unknown tags).
    pub fn set_empty(&mut self, tag: Tag) {
        let vr = dictionary::vr_of(tag);
        let value = if vr == Vr::SQ {
            Value::Sequence(Vec::new())
        } else {
            Value::Bytes(Bytes::new())
        };
        self.insert(Element::new(tag, vr, value));
    }

    /// Sets a UID (VR UI), checking it has only digits and dots and at most 64 characters.
    pub fn set_uid(&mut self, tag: Tag, uid: &str) -> Result<(), ValueError> {
        let vr = Self::vr_for(tag, &[Vr::UI])?;
        let ok = uid.len() <= 64 && uid.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if !ok {
            return Err(ValueError::Malformed {
                tag,
                text: uid.to_string(),
            });
        }
        self.set_bytes(tag, vr, uid.as_bytes().to_vec());
        Ok(())
    }

    /// Sets a date (VR DA).
    pub fn set_date(&mut self, tag: Tag, date: Date) -> Result<(), ValueError> {
        let vr = Self::vr_for(tag, &[Vr::DA])?;
        self.set_bytes(tag, vr, date.to_string().into_bytes());
        Ok(())
    }

    /// Sets an integer: binary for US, SS, UL, SL, UV and SV (the dictionary's VR; US for tags
    /// it does not know), text for IS and DS. A value out of the VR's range is
    /// [`ValueError::Malformed`].
    fn set_int(&mut self, tag: Tag, v: i128, default: Vr) -> Result<(), ValueError> {
        let vr = Self::vr_for(
            tag,
            &[
                default,
                Vr::US,
                Vr::SS,
                Vr::UL,
                Vr::SL,
                Vr::UV,
                Vr::SV,
                Vr::IS,
                Vr::DS,
            ],
        )?;
        let bad = || ValueError::Malformed {
            tag,
            text: v.to_string(),
        };
        let bytes = match vr {
            Vr::US => u16::try_from(v).map_err(|_| bad())?.to_le_bytes().to_vec(),
            Vr::SS => i16::try_from(v).map_err(|_| bad())?.to_le_bytes().to_vec(),
            Vr::UL => u32::try_from(v).map_err(|_| bad())?.to_le_bytes().to_vec(),
            Vr::SL => i32::try_from(v).map_err(|_| bad())?.to_le_bytes().to_vec(),
            Vr::UV => u64::try_from(v).map_err(|_| bad())?.to_le_bytes().to_vec(),
            Vr::SV => i64::try_from(v).map_err(|_| bad())?.to_le_bytes().to_vec(),
            // IS holds -2^31..2^31-1 (PS3.5 Table 6.2-1).
            Vr::IS if i32::try_from(v).is_err() => return Err(bad()),
            _ => v.to_string().into_bytes(),
        };
        self.set_bytes(tag, vr, bytes);
        Ok(())
    }

    /// Sets an unsigned 16-bit number (US, or per the dictionary UL, SS, SL, IS, DS, …).
    pub fn set_u16(&mut self, tag: Tag, v: u16) -> Result<(), ValueError> {
        self.set_int(tag, v.into(), Vr::US)
    }

    /// Sets an unsigned 32-bit number (UL, or per the dictionary another integer VR).
    pub fn set_u32(&mut self, tag: Tag, v: u32) -> Result<(), ValueError> {
        self.set_int(tag, v.into(), Vr::UL)
    }

    /// Sets a signed 32-bit number (SL, or per the dictionary another integer VR, IS, DS).
    pub fn set_i32(&mut self, tag: Tag, v: i32) -> Result<(), ValueError> {
        self.set_int(tag, v.into(), Vr::SL)
    }

    /// Sets a floating point number: FD or FL binary, or DS text (shortest form that reads
    /// back the same, at most 16 characters; else [`ValueError::Malformed`]).
    pub fn set_f64(&mut self, tag: Tag, v: f64) -> Result<(), ValueError> {
        let vr = Self::vr_for(tag, &[Vr::FD, Vr::FL, Vr::DS])?;
        let bytes = match vr {
            Vr::FD => v.to_le_bytes().to_vec(),
            Vr::FL => (v as f32).to_le_bytes().to_vec(),
            _ => {
                let text = format!("{v}");
                if text.len() > 16 || !v.is_finite() {
                    return Err(ValueError::Malformed { tag, text });
                }
                text.into_bytes()
            }
        };
        self.set_bytes(tag, vr, bytes);
        Ok(())
    }

    /// Sets a sequence (VR SQ; defined length unless the items' elements are later marked
    /// otherwise). The items inherit this data set's character set unless they set their own.
    pub fn set_sequence(&mut self, tag: Tag, items: Vec<DataSet>) -> Result<(), ValueError> {
        let vr = Self::vr_for(tag, &[Vr::SQ])?;
        let mut items = items;
        let cs = self.charset_bytes();
        for item in &mut items {
            item.inherited_charset = cs.clone();
            item.propagate_charset();
        }
        self.insert(Element::new(tag, vr, Value::Sequence(items)));
        Ok(())
    }

    /// Builder form of [`DataSet::set_str`], with a keyword (or `gggg,eeee`):
    /// `DataSet::new().with("PatientID", "123")?`.
    pub fn with(mut self, key: &str, value: &str) -> Result<DataSet, ValueError> {
        self.set_str(Tag::parse(key)?, value)?;
        Ok(self)
    }

    /// Builder form of [`DataSet::set_empty`] (a return key), with a keyword or `gggg,eeee`.
    pub fn with_empty(mut self, key: &str) -> Result<DataSet, ValueError> {
        self.set_empty(Tag::parse(key)?);
        Ok(self)
    }
}
