//! Converting a data set between the uncompressed transfer syntaxes.
//!
//! [`transcode`] re-encodes a data set from one of Implicit VR Little Endian, Explicit VR Little
//! Endian, Explicit VR Big Endian (retired) and Deflated Explicit VR Little Endian into another,
//! by decoding it with [`DataSet::decode`] and encoding it with [`DataSet::encode`]:
//!
//! - the **whole data set is held in memory** (decoded, and encoded again): fine for the
//!   uncompressed sizes this serves (a sender converting a file the peer does not accept in
//!   its own syntax), not meant for multi-gigabyte objects;
//! - **byte order**: the codec keeps binary numbers (US, SS, UL, SL, FL, FD, AT, OW, OF, OD,
//!   OL, OV, SV, UV) little endian in memory, swapping them when decoding and encoding Explicit
//!   VR Big Endian, so OW Pixel Data and every other binary value change byte order as they
//!   must. OB and UN values are byte streams and are never swapped (UN content has no defined
//!   byte order, as in DCMTK);
//! - **from Implicit VR**, VRs come from the standard's
//!   [`dictionary`](super::dictionary): private creators are LO, unknown (private) elements UN,
//!   which is also what DCMTK writes. Where the standard allows two VRs the choice is made as
//!   DCMTK makes it: Pixel Data is OB when Bits Allocated (0028,0100) is 8 or less, else OW;
//!   the "US or SS" pixel values (Smallest Image Pixel Value and the like) are SS when Pixel
//!   Representation (0028,0103) is 1. Lookup table descriptors stay US;
//! - **group lengths** (gggg,0000) present in the data set are recomputed for the new encoding
//!   (as `dcmconv` does by default), since the encoded lengths of elements change with the VR
//!   explicitness;
//! - compressed (encapsulated) syntaxes cannot be produced or read this way: that would need
//!   codecs, not a re-encoding ([`can_transcode`] says false for them).

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::{DataSet, DataSetError, Element, Tag, Value, Vr};
use crate::uid::{self, TransferSyntax};

/// The transfer syntaxes [`transcode`] converts between.
const UNCOMPRESSED: [&str; 4] = [
    uid::IMPLICIT_VR_LITTLE_ENDIAN,
    uid::EXPLICIT_VR_LITTLE_ENDIAN,
    uid::EXPLICIT_VR_BIG_ENDIAN,
    uid::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
];

const BITS_ALLOCATED: Tag = Tag(0x0028, 0x0100);
const PIXEL_REPRESENTATION: Tag = Tag(0x0028, 0x0103);

/// Elements the standard defines as "US or SS" that hold pixel values, hence take the
/// signedness of Pixel Representation (lookup table descriptors, whose first value is always
/// unsigned, are not among them).
const US_OR_SS_PIXEL_VALUES: [Tag; 12] = [
    Tag(0x0018, 0x9810), // ZeroVelocityPixelValue
    Tag(0x0022, 0x1452), // MappedPixelValue
    Tag(0x0028, 0x0106), // SmallestImagePixelValue
    Tag(0x0028, 0x0107), // LargestImagePixelValue
    Tag(0x0028, 0x0108), // SmallestPixelValueInSeries
    Tag(0x0028, 0x0109), // LargestPixelValueInSeries
    Tag(0x0028, 0x0120), // PixelPaddingValue
    Tag(0x0028, 0x0121), // PixelPaddingRangeLimit
    Tag(0x0040, 0x9211), // RealWorldValueLastValueMapped
    Tag(0x0040, 0x9216), // RealWorldValueFirstValueMapped
    Tag(0x0060, 0x3004), // HistogramFirstBinValue
    Tag(0x0060, 0x3006), // HistogramLastBinValue
];

/// Whether [`transcode`] can convert a data set encoded in `from` into `to`: always when they
/// are the same syntax (nothing to do), otherwise only between the four uncompressed syntaxes
/// (Implicit VR Little Endian, Explicit VR Little Endian, Explicit VR Big Endian, Deflated
/// Explicit VR Little Endian).
///
/// ```
/// use dimse_core::dataset::can_transcode;
/// use dimse_core::uid::{self, TransferSyntax};
///
/// let big = uid::transfer_syntax(uid::EXPLICIT_VR_BIG_ENDIAN).unwrap();
/// let jpeg = uid::transfer_syntax(uid::JPEG_BASELINE_8BIT).unwrap();
/// assert!(can_transcode(big, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN));
/// assert!(!can_transcode(jpeg, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN));
/// assert!(can_transcode(jpeg, jpeg));
/// ```
pub fn can_transcode(from: &TransferSyntax, to: &TransferSyntax) -> bool {
    from.uid == to.uid || (UNCOMPRESSED.contains(&from.uid) && UNCOMPRESSED.contains(&to.uid))
}

/// Why [`transcode`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscodeError {
    /// The conversion is not one [`can_transcode`] allows (a compressed syntax on either side).
    Unsupported {
        /// The source transfer syntax UID.
        from: &'static str,
        /// The requested transfer syntax UID.
        to: &'static str,
    },
    /// The data set does not decode in its source syntax.
    DataSet(DataSetError),
}

impl fmt::Display for TranscodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TranscodeError::Unsupported { from, to } => {
                let name = |u: &str| uid::transfer_syntax(u).map_or("unknown", |t| t.name);
                write!(
                    f,
                    "cannot convert from {from} ({}) to {to} ({}): only the uncompressed \
                     transfer syntaxes convert into each other",
                    name(from),
                    name(to)
                )
            }
            TranscodeError::DataSet(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TranscodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TranscodeError::DataSet(e) => Some(e),
            TranscodeError::Unsupported { .. } => None,
        }
    }
}

impl From<DataSetError> for TranscodeError {
    fn from(e: DataSetError) -> Self {
        TranscodeError::DataSet(e)
    }
}

/// Re-encodes the data set `data` (no preamble or group 0002), encoded in `from`, in `to`.
///
/// Returns `data` itself when `from` and `to` are the same syntax; otherwise decodes the whole
/// data set into memory and encodes it again (see the [module documentation](self) for byte
/// order, VRs chosen when leaving Implicit VR, and group lengths). Errors when
/// [`can_transcode`] is false or the data set does not decode.
///
/// ```
/// use bytes::Bytes;
/// use dimse_core::dataset::transcode;
/// use dimse_core::uid::{self, TransferSyntax};
///
/// // (0028,0010) US 512, implicit VR little endian
/// let implicit = Bytes::from_static(&[0x28, 0, 0x10, 0, 2, 0, 0, 0, 0x00, 0x02]);
/// let big = uid::transfer_syntax(uid::EXPLICIT_VR_BIG_ENDIAN).unwrap();
/// let out = transcode(implicit, &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN, big).unwrap();
/// assert_eq!(&out[..], &[0, 0x28, 0, 0x10, b'U', b'S', 0, 2, 0x02, 0x00]);
/// ```
pub fn transcode(
    data: Bytes,
    from: &TransferSyntax,
    to: &TransferSyntax,
) -> Result<Bytes, TranscodeError> {
    if !can_transcode(from, to) {
        return Err(TranscodeError::Unsupported {
            from: from.uid,
            to: to.uid,
        });
    }
    if from.uid == to.uid {
        return Ok(data);
    }
    let mut ds = DataSet::decode(data, from)?;
    if !from.explicit_vr && to.explicit_vr {
        resolve_ambiguous_vrs(&mut ds, None, None);
    }
    recompute_group_lengths(&mut ds, to);
    let mut out = BytesMut::new();
    ds.encode(to, &mut out);
    Ok(out.freeze())
}

/// The first value of a US element, if `ds` has one.
fn first_us(ds: &DataSet, tag: Tag) -> Option<u16> {
    match ds.get(tag).map(|e| &e.value) {
        Some(Value::Bytes(b)) if b.len() >= 2 => Some(u16::from_le_bytes([b[0], b[1]])),
        _ => None,
    }
}

/// Replaces the dictionary's default VR of the ambiguous elements decoded from Implicit VR by
/// the one their data set calls for. Items inherit Bits Allocated and Pixel Representation
/// from the enclosing data set unless they have their own.
fn resolve_ambiguous_vrs(ds: &mut DataSet, bits: Option<u16>, pixel_rep: Option<u16>) {
    let bits = first_us(ds, BITS_ALLOCATED).or(bits);
    let pixel_rep = first_us(ds, PIXEL_REPRESENTATION).or(pixel_rep);
    let tags: Vec<Tag> = ds
        .elements()
        .iter()
        .filter(|e| {
            matches!(e.value, Value::Sequence(_))
                || (e.tag == Tag::PIXEL_DATA && e.vr == Vr::OW)
                || (e.vr == Vr::US && US_OR_SS_PIXEL_VALUES.contains(&e.tag))
        })
        .map(|e| e.tag)
        .collect();
    for tag in tags {
        let Some(mut e) = ds.remove(tag) else {
            continue;
        };
        match &mut e.value {
            // Items of a UN sequence stay Implicit VR Little Endian whatever the syntax.
            Value::Sequence(items) if e.vr == Vr::SQ => {
                for item in items {
                    resolve_ambiguous_vrs(item, bits, pixel_rep);
                }
            }
            Value::Bytes(_) if e.tag == Tag::PIXEL_DATA && bits.is_some_and(|b| b <= 8) => {
                e.vr = Vr::OB;
            }
            Value::Bytes(_) if e.tag != Tag::PIXEL_DATA && pixel_rep == Some(1) => {
                e.vr = Vr::SS;
            }
            _ => {}
        }
        ds.insert(e);
    }
}

/// Sets every group length element (gggg,0000) of `ds` and its items to the encoded length,
/// in `ts`, of the elements of its group that follow it. Items of UN sequences are left alone:
/// they are Implicit VR Little Endian in every syntax.
fn recompute_group_lengths(ds: &mut DataSet, ts: &TransferSyntax) {
    // Group lengths count the bytes before deflation.
    let ts = if ts.deflated {
        &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN
    } else {
        ts
    };
    let sequences: Vec<Tag> = ds
        .elements()
        .iter()
        .filter(|e| e.vr == Vr::SQ && matches!(e.value, Value::Sequence(_)))
        .map(|e| e.tag)
        .collect();
    for tag in sequences {
        if let Some(mut e) = ds.remove(tag) {
            if let Value::Sequence(items) = &mut e.value {
                for item in items {
                    recompute_group_lengths(item, ts);
                }
            }
            ds.insert(e);
        }
    }
    let lengths: Vec<Tag> = ds
        .elements()
        .iter()
        .filter(|e| e.tag.1 == 0 && e.vr == Vr::UL && matches!(e.value, Value::Bytes(_)))
        .map(|e| e.tag)
        .collect();
    for tag in lengths {
        let mut group = DataSet::new();
        for e in ds.elements() {
            if e.tag.0 == tag.0 && e.tag.1 != 0 {
                group.insert(e.clone());
            }
        }
        let mut encoded = BytesMut::new();
        group.encode(ts, &mut encoded);
        let Ok(len) = u32::try_from(encoded.len()) else {
            continue;
        };
        ds.insert(Element::new(
            tag,
            Vr::UL,
            Value::Bytes(Bytes::copy_from_slice(&len.to_le_bytes())),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(u: &str) -> &'static TransferSyntax {
        uid::transfer_syntax(u).unwrap()
    }

    #[test]
    fn only_uncompressed_syntaxes_convert() {
        for a in UNCOMPRESSED {
            for b in UNCOMPRESSED {
                assert!(can_transcode(ts(a), ts(b)), "{a} -> {b}");
            }
            assert!(!can_transcode(ts(a), ts(uid::RLE_LOSSLESS)));
            assert!(!can_transcode(ts(uid::JPEG_2000), ts(a)));
            assert!(!can_transcode(
                ts(a),
                ts(uid::ENCAPSULATED_UNCOMPRESSED_EXPLICIT_VR_LITTLE_ENDIAN)
            ));
        }
        assert!(!can_transcode(
            ts(uid::JPIP_REFERENCED),
            &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN
        ));
        let err = transcode(
            Bytes::new(),
            ts(uid::RLE_LOSSLESS),
            &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN,
        )
        .unwrap_err();
        assert!(matches!(err, TranscodeError::Unsupported { .. }));
        assert!(err.to_string().contains("RLE Lossless"), "{err}");
    }

    #[test]
    fn implicit_pixel_data_and_pixel_values_get_their_vrs() {
        // BitsAllocated 8, PixelRepresentation 1, SmallestImagePixelValue, PixelData (2 bytes).
        let mut ds = DataSet::new();
        let us = |v: u16| Value::Bytes(Bytes::copy_from_slice(&v.to_le_bytes()));
        ds.insert(Element::new(BITS_ALLOCATED, Vr::US, us(8)));
        ds.insert(Element::new(PIXEL_REPRESENTATION, Vr::US, us(1)));
        ds.insert(Element::new(Tag(0x0028, 0x0106), Vr::US, us(0xFFFF)));
        ds.insert(Element::new(Tag::PIXEL_DATA, Vr::OW, us(0x0201)));
        let mut implicit = BytesMut::new();
        ds.encode(&TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN, &mut implicit);
        let out = transcode(
            implicit.freeze(),
            &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN,
            ts(uid::EXPLICIT_VR_BIG_ENDIAN),
        )
        .unwrap();
        let back = DataSet::decode(out, ts(uid::EXPLICIT_VR_BIG_ENDIAN)).unwrap();
        assert_eq!(back.get(Tag(0x0028, 0x0106)).unwrap().vr, Vr::SS);
        let pixels = back.get(Tag::PIXEL_DATA).unwrap();
        assert_eq!(pixels.vr, Vr::OB);
        // OB is a byte stream: not swapped by big endian.
        assert_eq!(pixels.value, Value::Bytes(Bytes::from_static(&[1, 2])));
    }

    #[test]
    fn group_lengths_follow_the_encoding() {
        let mut ds = DataSet::new()
            .with("PatientName", "A^B")
            .unwrap()
            .with("PatientID", "1")
            .unwrap();
        ds.insert(Element::new(
            Tag(0x0010, 0x0000),
            Vr::UL,
            Value::Bytes(Bytes::from_static(&[0, 0, 0, 0])),
        ));
        let mut implicit = BytesMut::new();
        ds.encode(&TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN, &mut implicit);
        for to in UNCOMPRESSED.map(ts).into_iter().skip(1) {
            let out = transcode(
                implicit.clone().freeze(),
                &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN,
                to,
            )
            .unwrap();
            let back = DataSet::decode(out, to).unwrap();
            // Two elements of 8-byte headers in either VR form: "A^B " and "1 ".
            assert_eq!(back.get_u32(Tag(0x0010, 0x0000)), Some(Ok(8 + 4 + 8 + 2)));
        }
    }
}
