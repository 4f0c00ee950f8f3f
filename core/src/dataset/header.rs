//! Reading one element, item or delimiter header (PS3.5 §7.1, §7.5): the one reader under the
//! codec (which decodes values), the walker (which checks structure) and the Part 10 meta
//! reader, so the three cannot disagree on where an element ends.

use super::{DataSetError, DataSetErrorKind, Tag, Vr};
use crate::uid::TransferSyntax;

/// The length that means "until a delimiter".
pub(crate) const UNDEFINED_LENGTH: u32 = 0xFFFF_FFFF;

/// Byte order and VR explicitness of the part being read (UN sequences switch to implicit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Enc {
    pub(crate) explicit: bool,
    pub(crate) big_endian: bool,
}

impl Enc {
    pub(crate) const IMPLICIT_LE: Enc = Enc {
        explicit: false,
        big_endian: false,
    };

    /// Group 0002, whatever the data set's syntax.
    pub(crate) const EXPLICIT_LE: Enc = Enc {
        explicit: true,
        big_endian: false,
    };

    pub(crate) fn of(ts: &TransferSyntax) -> Enc {
        Enc {
            explicit: ts.explicit_vr,
            big_endian: ts.big_endian,
        }
    }
}

/// An element's, item's or delimiter's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) tag: Tag,
    /// The explicit VR; `None` in implicit VR and for items and delimiters.
    pub(crate) vr: Option<Vr>,
    pub(crate) length: u32,
    /// 8, or 12 for the explicit VRs with a 32-bit length.
    pub(crate) header_len: usize,
}

pub(crate) fn u16_at(data: &[u8], pos: usize, enc: Enc) -> u16 {
    let b = [data[pos], data[pos + 1]];
    if enc.big_endian {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    }
}

pub(crate) fn u32_at(data: &[u8], pos: usize, enc: Enc) -> u32 {
    let b = [data[pos], data[pos + 1], data[pos + 2], data[pos + 3]];
    if enc.big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// An error at `offset`, about `tag` when one was read.
pub(crate) fn error(offset: usize, tag: Option<Tag>, kind: DataSetErrorKind) -> DataSetError {
    DataSetError { offset, tag, kind }
}

/// That `needed` bytes are left between `pos` and `limit`.
pub(crate) fn need(
    pos: usize,
    limit: usize,
    needed: usize,
    tag: Option<Tag>,
) -> Result<(), DataSetError> {
    let available = limit - pos;
    if available < needed {
        return Err(error(
            pos,
            tag,
            DataSetErrorKind::TruncatedHeader { needed, available },
        ));
    }
    Ok(())
}

/// The header at `pos` in `data`, within `limit`. Never reads past `limit`; an explicit VR
/// that is not a standard one is an error.
pub(crate) fn read(
    data: &[u8],
    pos: usize,
    limit: usize,
    enc: Enc,
) -> Result<Header, DataSetError> {
    need(pos, limit, 8, None)?;
    let tag = Tag(u16_at(data, pos, enc), u16_at(data, pos + 2, enc));
    // Items and delimiters never carry a VR, even in explicit VR syntaxes.
    if !enc.explicit || tag.0 == 0xFFFE {
        return Ok(Header {
            tag,
            vr: None,
            length: u32_at(data, pos + 4, enc),
            header_len: 8,
        });
    }
    let raw = [data[pos + 4], data[pos + 5]];
    let vr = Vr::from_bytes(raw)
        .ok_or_else(|| error(pos, Some(tag), DataSetErrorKind::InvalidVr(raw)))?;
    if vr.has_long_length() {
        need(pos, limit, 12, Some(tag))?;
        Ok(Header {
            tag,
            vr: Some(vr),
            length: u32_at(data, pos + 8, enc),
            header_len: 12,
        })
    } else {
        Ok(Header {
            tag,
            vr: Some(vr),
            length: u32::from(u16_at(data, pos + 6, enc)),
            header_len: 8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_header_shapes() {
        // (0010,0010) PN, 4 bytes, explicit little endian: 8-byte header.
        let short = [0x10, 0x00, 0x10, 0x00, b'P', b'N', 4, 0];
        let h = read(&short, 0, 8, Enc::EXPLICIT_LE).unwrap();
        assert_eq!(
            (h.tag, h.vr, h.length, h.header_len),
            (Tag(0x10, 0x10), Some(Vr::PN), 4, 8)
        );
        // OB, 32-bit length: 12 bytes.
        let long = [
            0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        let h = read(&long, 0, 12, Enc::EXPLICIT_LE).unwrap();
        assert_eq!(
            (h.vr, h.length, h.header_len),
            (Some(Vr::OB), UNDEFINED_LENGTH, 12)
        );
        // Cut after 8 bytes: the long form names the element it could not finish.
        let e = read(&long, 0, 8, Enc::EXPLICIT_LE).unwrap_err();
        assert_eq!(e.tag, Some(Tag::PIXEL_DATA));
        // Items carry no VR even in explicit VR; big endian swaps every number.
        let item = [0xFF, 0xFE, 0xE0, 0x00, 0, 0, 0, 6];
        let be = Enc {
            explicit: true,
            big_endian: true,
        };
        let h = read(&item, 0, 8, be).unwrap();
        assert_eq!((h.tag, h.vr, h.length), (Tag::ITEM, None, 6));
        // Implicit VR: bytes 4..8 are the length.
        let h = read(&short, 0, 8, Enc::IMPLICIT_LE).unwrap();
        assert_eq!(
            (h.vr, h.length),
            (None, u32::from_le_bytes([b'P', b'N', 4, 0]))
        );
        // Not a VR.
        let bad = [0x10, 0x00, 0x10, 0x00, b'Z', b'Z', 4, 0];
        let e = read(&bad, 0, 8, Enc::EXPLICIT_LE).unwrap_err();
        assert_eq!(e.kind, DataSetErrorKind::InvalidVr(*b"ZZ"));
    }
}
