//! Tags and value representations.

use std::fmt;
use std::str::FromStr;

use super::dictionary;
use super::ValueError;

/// A data element tag: (group, element).
///
/// Ordered as on the wire (group, then element). Displayed as `(gggg,eeee)`; parsed from
/// `"gggg,eeee"`, `"(gggg,eeee)"`, `"ggggeeee"` or a keyword of the standard's dictionary.
///
/// ```
/// use dimse_core::dataset::Tag;
///
/// let tag = Tag::parse("PatientID").unwrap();
/// assert_eq!(tag, Tag(0x0010, 0x0020));
/// assert_eq!(Tag::parse("0010,0020").unwrap(), tag);
/// assert_eq!(tag.to_string(), "(0010,0020)");
/// assert_eq!(tag.keyword(), Some("PatientID"));
/// assert!(Tag::parse("NoSuchKeyword").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(pub u16, pub u16);

impl Tag {
    /// Specific Character Set (0008,0005), which decides how text values are decoded.
    pub const SPECIFIC_CHARACTER_SET: Tag = Tag(0x0008, 0x0005);
    /// Pixel Data (7FE0,0010), the one element that may hold encapsulated fragments.
    pub const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
    /// Item (FFFE,E000).
    pub const ITEM: Tag = Tag(0xFFFE, 0xE000);
    /// Item Delimitation Item (FFFE,E00D).
    pub const ITEM_DELIMITER: Tag = Tag(0xFFFE, 0xE00D);
    /// Sequence Delimitation Item (FFFE,E0DD).
    pub const SEQUENCE_DELIMITER: Tag = Tag(0xFFFE, 0xE0DD);

    /// The tag as one number, `gggg_eeee` (the order tags sort in).
    pub const fn as_u32(self) -> u32 {
        ((self.0 as u32) << 16) | self.1 as u32
    }

    /// The tag of a number `gggg_eeee`.
    pub const fn from_u32(v: u32) -> Tag {
        Tag((v >> 16) as u16, v as u16)
    }

    /// Whether the tag is private (odd group).
    pub const fn is_private(self) -> bool {
        self.0 % 2 == 1
    }

    /// The standard's keyword for this tag, if the dictionary has one.
    pub fn keyword(self) -> Option<&'static str> {
        dictionary::by_tag(self).map(|e| e.keyword)
    }

    /// Parses `"gggg,eeee"` (optionally in parentheses), `"ggggeeee"` (8 hex digits) or a
    /// keyword (`"PatientID"`); [`ValueError::UnknownTag`] otherwise.
    pub fn parse(s: &str) -> Result<Tag, ValueError> {
        let t = s.trim();
        let inner = t
            .strip_prefix('(')
            .and_then(|x| x.strip_suffix(')'))
            .unwrap_or(t);
        let hex4 = |h: &str| {
            (h.len() == 4 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u16::from_str_radix(h, 16).ok())
                .flatten()
        };
        if let Some((g, e)) = inner.split_once(',') {
            if let (Some(g), Some(e)) = (hex4(g.trim()), hex4(e.trim())) {
                return Ok(Tag(g, e));
            }
        } else if inner.len() == 8 && inner.is_char_boundary(4) {
            if let (Some(g), Some(e)) = (hex4(&inner[..4]), hex4(&inner[4..])) {
                return Ok(Tag(g, e));
            }
        }
        dictionary::by_keyword(t)
            .map(|e| e.tag)
            .ok_or_else(|| ValueError::UnknownTag(s.to_string()))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:04X},{:04X})", self.0, self.1)
    }
}

impl FromStr for Tag {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Tag, ValueError> {
        Tag::parse(s)
    }
}

impl From<(u16, u16)> for Tag {
    fn from((g, e): (u16, u16)) -> Tag {
        Tag(g, e)
    }
}

impl From<Tag> for (u16, u16) {
    fn from(t: Tag) -> (u16, u16) {
        (t.0, t.1)
    }
}

macro_rules! vrs {
    ($($v:ident: $doc:literal,)*) => {
        /// A value representation (PS3.5 Table 6.2-1).
        ///
        /// ```
        /// use dimse_core::dataset::Vr;
        ///
        /// assert_eq!(Vr::from_bytes(*b"PN"), Some(Vr::PN));
        /// assert_eq!(Vr::SQ.as_str(), "SQ");
        /// assert!(Vr::OB.has_long_length() && !Vr::US.has_long_length());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Vr {
            $(#[doc = $doc] $v,)*
        }

        impl Vr {
            /// Every VR.
            pub const ALL: &'static [Vr] = &[$(Vr::$v,)*];

            /// The VR of two ASCII letters as written in explicit VR headers.
            pub fn from_bytes(b: [u8; 2]) -> Option<Vr> {
                match &b {
                    $(x if x == stringify!($v).as_bytes() => Some(Vr::$v),)*
                    _ => None,
                }
            }

            /// The two letters of the VR.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Vr::$v => stringify!($v),)*
                }
            }
        }
    };
}

vrs! {
    AE: "Application Entity",
    AS: "Age String",
    AT: "Attribute Tag",
    CS: "Code String",
    DA: "Date",
    DS: "Decimal String",
    DT: "Date Time",
    FD: "Floating Point Double",
    FL: "Floating Point Single",
    IS: "Integer String",
    LO: "Long String",
    LT: "Long Text",
    OB: "Other Byte",
    OD: "Other Double",
    OF: "Other Float",
    OL: "Other Long",
    OV: "Other 64-bit Very Long",
    OW: "Other Word",
    PN: "Person Name",
    SH: "Short String",
    SL: "Signed Long",
    SQ: "Sequence of Items",
    SS: "Signed Short",
    ST: "Short Text",
    SV: "Signed 64-bit Very Long",
    TM: "Time",
    UC: "Unlimited Characters",
    UI: "Unique Identifier (UID)",
    UL: "Unsigned Long",
    UN: "Unknown",
    UR: "Universal Resource Identifier or Locator",
    US: "Unsigned Short",
    UT: "Unlimited Text",
    UV: "Unsigned 64-bit Very Long",
}

impl Vr {
    /// The two ASCII bytes of the VR.
    pub fn as_bytes(self) -> [u8; 2] {
        let b = self.as_str().as_bytes();
        [b[0], b[1]]
    }

    /// Whether an explicit-VR header with this VR has 2 reserved bytes and a 32-bit length
    /// (PS3.5 §7.1.2) rather than a 16-bit length.
    pub fn has_long_length(self) -> bool {
        matches!(
            self,
            Vr::OB
                | Vr::OD
                | Vr::OF
                | Vr::OL
                | Vr::OV
                | Vr::OW
                | Vr::SQ
                | Vr::SV
                | Vr::UC
                | Vr::UN
                | Vr::UR
                | Vr::UT
                | Vr::UV
        )
    }

    /// The size of one binary value whose bytes are swapped between byte orders (US: 2,
    /// UL: 4, FD: 8, AT: 2 as it is a pair of 16-bit numbers); `None` for strings and bytes.
    pub fn swap_unit(self) -> Option<usize> {
        match self {
            Vr::US | Vr::SS | Vr::OW | Vr::AT => Some(2),
            Vr::UL | Vr::SL | Vr::FL | Vr::OF | Vr::OL => Some(4),
            Vr::FD | Vr::OD | Vr::SV | Vr::UV | Vr::OV => Some(8),
            _ => None,
        }
    }

    /// Whether values are character strings (padded with a space, or NUL for UI, to even
    /// length).
    pub fn is_text(self) -> bool {
        !matches!(
            self,
            Vr::AT
                | Vr::FD
                | Vr::FL
                | Vr::OB
                | Vr::OD
                | Vr::OF
                | Vr::OL
                | Vr::OV
                | Vr::OW
                | Vr::SL
                | Vr::SQ
                | Vr::SS
                | Vr::SV
                | Vr::UL
                | Vr::UN
                | Vr::US
                | Vr::UV
        )
    }

    /// Whether text of this VR is decoded with Specific Character Set (0008,0005); the other
    /// text VRs use the default repertoire only (PS3.5 §6.1.2.3).
    pub fn uses_charset(self) -> bool {
        matches!(
            self,
            Vr::SH | Vr::LO | Vr::ST | Vr::LT | Vr::UC | Vr::UT | Vr::PN
        )
    }

    /// Whether text values of this VR hold several values separated by backslashes (LT, ST,
    /// UT and UR are single-valued and may contain backslashes).
    pub fn is_multi_valued_text(self) -> bool {
        self.is_text() && !matches!(self, Vr::LT | Vr::ST | Vr::UT | Vr::UR)
    }
}

impl fmt::Display for Vr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
