//! Decompresses an encapsulated DICOM data set (JPEG, JPEG-LS, JPEG 2000, HTJ2K, RLE) into
//! Explicit VR Little Endian with native Pixel Data, so that it can be sent to a peer that
//! accepts only uncompressed transfer syntaxes.
//!
//! The transfer syntax changes; the instance does not: the SOP Instance UID stays, and every
//! element is copied byte for byte except those the new encoding must change (PS3.3
//! C.7.6.3, PS3.5 §8.2, Annex A.4 and Annex G):
//! - Pixel Data (7FE0,0010) becomes native: frames concatenated, samples interleaved, little
//!   endian, OW when Bits Allocated > 8 else OB, even length; the Extended Offset Table
//!   (7FE0,0001) and its lengths (7FE0,0002) go;
//! - Photometric Interpretation (0028,0004) follows the decoder: lossy JPEG `YBR_FULL_422`
//!   and `YBR_FULL` become `RGB` (DCMTK's dcmdjpeg does the same by default), JPEG 2000
//!   `YBR_ICT` and `YBR_RCT` become `RGB` after OpenJPEG inverts the component transform;
//! - Planar Configuration (0028,0006) is 0 whenever there is more than one sample per
//!   pixel (inserted if absent);
//! - after a lossy syntax, Lossy Image Compression (0028,2110) is `01` (inserted if absent;
//!   its ratio and method, if present, are kept);
//! - group lengths (0028,0000) and (7FE0,0000) are dropped, since they would be wrong;
//! - an Icon Image Sequence (0088,0200) whose Pixel Data is encapsulated is dropped: a
//!   native syntax cannot carry it, and the icon is optional.
//!
//! The codecs: JPEG, lossy (8 and 12 bits) and lossless, bit for bit as DCMTK decodes it,
//! through this crate's own fast paths for the frames DICOM encoders write and
//! `libjpeg-turbo-rs` for the rest; OpenJPEG via `jpeg2k` (JPEG 2000 and HTJ2K), and in
//! this crate the JPEG-LS decoder (written from T.87; grey and colour, uninterleaved, line-
//! or sample-interleaved, lossless and near-lossless) and the RLE decoder. A decoded frame
//! is checked against Rows × Columns × Samples per Pixel × bytes per sample; any
//! disagreement is a [`CodecError`], never a panic.
//!
//! Not decoded (each a [`CodecError::Unsupported`]): JPEG-LS mapping tables, restart
//! intervals and point transforms, JPEG-LS and JPEG 2000 subsampled components, 12-bit lossy
//! JPEG with more than one component, and Bits Allocated 32 except in RLE. Bits Allocated 1
//! is refused as an invalid attribute.
//!
//! Signed samples come out as the codec gives them: JPEG 2000 sign-extended to Bits
//! Allocated, the JPEG and JPEG-LS processes as the stored bit pattern (the bits above Bits
//! Stored zero), both valid native encodings (PS3.5 §8.1.1).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod frames;
mod image;
mod j2k;
mod jpeg;
mod jpegls;
mod markers;
mod rewrite;
mod rle;
mod syntax;

use std::panic::{catch_unwind, AssertUnwindSafe};

use dimse_core::dataset::{self, ElementSpan};
use dimse_core::uid::TransferSyntax;

pub use error::CodecError;
pub use syntax::Codec;

use image::{ImageInfo, EXTENDED_OFFSET_TABLE, PIXEL_DATA};

/// Whether a decompression loses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fidelity {
    /// The decoded pixels are the original ones.
    Lossless,
    /// The compression was (or may have been) irreversible: the pixels are an approximation
    /// of the original ones.
    Lossy,
}

/// The transfer syntaxes this crate decodes, and whether decoding them gives the original
/// pixels (`None`: not decodable here).
///
/// JPEG baseline (.4.50) and extended (.4.51) are lossy; JPEG lossless (.4.57) and lossless
/// SV1 (.4.70) lossless; JPEG-LS lossless (.4.80) lossless and near-lossless (.4.81) lossy;
/// JPEG 2000 lossless only (.4.90) lossless and JPEG 2000 (.4.91) lossy; HTJ2K lossless
/// (.4.201) and lossless RPCL (.4.202) lossless, HTJ2K (.4.203) lossy; RLE (.5) lossless.
///
/// ```
/// use dimse_codec::{fidelity, Fidelity};
///
/// assert_eq!(fidelity("1.2.840.10008.1.2.4.50"), Some(Fidelity::Lossy));
/// assert_eq!(fidelity("1.2.840.10008.1.2.5"), Some(Fidelity::Lossless));
/// // Explicit VR Little Endian is not compressed: nothing to decode.
/// assert_eq!(fidelity("1.2.840.10008.1.2.1"), None);
/// ```
pub fn fidelity(transfer_syntax_uid: &str) -> Option<Fidelity> {
    syntax::lookup(transfer_syntax_uid).map(|s| s.fidelity)
}

/// A data set decompressed by [`decompress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decompressed {
    /// The data set in Explicit VR Little Endian with native Pixel Data.
    pub data: Vec<u8>,
    /// Whether the pixels are the original ones.
    pub fidelity: Fidelity,
    /// (from, to) when Photometric Interpretation changed, e.g. ("YBR_FULL_422", "RGB").
    pub photometric: Option<(String, String)>,
    /// Number of frames decoded.
    pub frames: u32,
}

/// Decodes every frame of the encapsulated Pixel Data of `data` (a whole data set, no file
/// meta, encoded in `transfer_syntax_uid`, which is always Explicit VR Little Endian for these
/// syntaxes) and returns the same data set in Explicit VR Little Endian with native Pixel
/// Data. See the [crate documentation](crate) for what changes.
///
/// A data set without Pixel Data (a compressed syntax named for a data set that holds no
/// image) has nothing to decode: it comes back as it is, [`Fidelity::Lossless`] and 0
/// frames (less an Icon Image Sequence with encapsulated Pixel Data, as always), just as
/// DCMTK's dcmdjpeg writes such a data set out with nothing to decompress.
///
/// Every input gives a value or an error, never a panic.
///
/// ```
/// use dimse_codec::{decompress, Fidelity};
///
/// // Explicit VR little endian element with a 2-byte length.
/// fn element(group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
///     let mut e = [group.to_le_bytes(), elem.to_le_bytes()].concat();
///     e.extend_from_slice(vr);
///     e.extend_from_slice(&(value.len() as u16).to_le_bytes());
///     e.extend_from_slice(value);
///     e
/// }
/// // Item (FFFE,E000) or sequence delimiter (FFFE,E0DD).
/// fn item(elem: u16, value: &[u8]) -> Vec<u8> {
///     let mut i = [0xFFFEu16.to_le_bytes(), elem.to_le_bytes()].concat();
///     i.extend_from_slice(&(value.len() as u32).to_le_bytes());
///     i.extend_from_slice(value);
///     i
/// }
///
/// // A 2 x 2, 8-bit monochrome image in RLE: a 64-byte header naming one segment at offset
/// // 64, then the segment: a literal run of the 4 pixels.
/// let mut rle = vec![0u8; 64];
/// rle[0] = 1;
/// rle[4] = 64;
/// rle.extend_from_slice(&[3, 10, 20, 30, 40]);
/// rle.push(0); // fragments have even lengths
///
/// let mut data = Vec::new();
/// data.extend(element(0x0028, 0x0002, b"US", &1u16.to_le_bytes()));
/// data.extend(element(0x0028, 0x0004, b"CS", b"MONOCHROME2 "));
/// data.extend(element(0x0028, 0x0010, b"US", &2u16.to_le_bytes()));
/// data.extend(element(0x0028, 0x0011, b"US", &2u16.to_le_bytes()));
/// data.extend(element(0x0028, 0x0100, b"US", &8u16.to_le_bytes()));
/// data.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
/// data.extend(item(0xE000, &[])); // empty Basic Offset Table
/// data.extend(item(0xE000, &rle));
/// data.extend(item(0xE0DD, &[]));
///
/// let out = decompress(&data, "1.2.840.10008.1.2.5").unwrap();
/// assert_eq!(out.fidelity, Fidelity::Lossless);
/// assert_eq!((out.frames, out.photometric), (1, None));
/// // Native Pixel Data: OB, length 4, the pixels.
/// assert!(out.data.ends_with(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 4, 0, 0, 0, 10, 20, 30, 40]));
///
/// // Cut inside an element: an error. Cut before Pixel Data: no image, nothing to decode.
/// assert!(decompress(&data[..55], "1.2.840.10008.1.2.5").is_err());
/// let out = decompress(&data[..60], "1.2.840.10008.1.2.5").unwrap();
/// assert_eq!((&out.data[..], out.frames), (&data[..60], 0));
/// ```
pub fn decompress(data: &[u8], transfer_syntax_uid: &str) -> Result<Decompressed, CodecError> {
    let syntax = syntax::lookup(transfer_syntax_uid).ok_or_else(|| {
        CodecError::UnsupportedTransferSyntax {
            uid: transfer_syntax_uid.to_string(),
        }
    })?;
    let codec = syntax.codec;
    let spans = dataset::top_level_elements(data, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN)?;
    let Some(pixel_span) = spans.iter().find(|s| s.tag == PIXEL_DATA) else {
        // Nothing to decode (a compressed syntax named for a data set without an image):
        // the data set is already explicit VR little endian, so it goes as it is (dcmdjpeg
        // too writes it out, "nothing to decompress").
        return Ok(Decompressed {
            data: rewrite::without_pixel_data(data, &spans),
            fidelity: Fidelity::Lossless,
            photometric: None,
            frames: 0,
        });
    };
    let info = ImageInfo::read(data, &spans)?;
    if !pixel_span.is_undefined_length() {
        return Err(CodecError::NotEncapsulated);
    }
    let total = info.frame_len() as u64 * u64::from(info.frames);
    // A native element length is 32 bits, with 0xFFFFFFFF meaning undefined.
    if total + total % 2 >= u64::from(u32::MAX) {
        return Err(CodecError::TooLarge { bytes: total });
    }

    let encapsulated =
        frames::parse(&data[pixel_span.value_offset..pixel_span.end]).map_err(|detail| {
            CodecError::Frames {
                frames: info.frames,
                fragments: 0,
                detail,
            }
        })?;
    let extended = extended_offset_table(data, &spans);
    let frames = frames::split(&encapsulated, info.frames, extended, codec)?;

    let decode = |at: usize| -> Result<(Vec<u8>, Option<&'static str>), CodecError> {
        let index = at as u32;
        let stream = frames[at].bytes();
        let (decoded, changed) =
            guarded(codec, index, || decode_frame(codec, &stream, &info, index))?;
        if decoded.len() != info.frame_len() {
            return Err(CodecError::FrameSize {
                codec,
                frame: index,
                expected: info.frame_len(),
                actual: decoded.len(),
            });
        }
        Ok((decoded, changed))
    };
    // The first frame says which colour space the decoder delivers, which the elements before
    // Pixel Data must state; the others are decoded straight into the output.
    let first = if frames.is_empty() {
        None
    } else {
        Some(decode(0)?)
    };
    let changed = first.as_ref().and_then(|(_, c)| *c);
    let photometric = changed
        .filter(|&to| to != info.photometric)
        .map(|to| (info.photometric.clone(), to.to_string()));
    let lossy = syntax.fidelity == Fidelity::Lossy;
    let changes = rewrite::Changes {
        photometric: photometric.as_ref().map(|(_, to)| to.as_str()),
        interleaved: info.samples_per_pixel > 1,
        lossy,
        bits_allocated: info.bits_allocated,
    };
    let pixels_len = info.frame_len() * frames.len();
    let data = rewrite::rewrite(data, &spans, &changes, pixels_len, |out| {
        if let Some((pixels, _)) = &first {
            out.extend_from_slice(pixels);
        }
        for index in 1..frames.len() {
            let (decoded, this) = decode(index)?;
            if this != changed {
                return Err(CodecError::Decode {
                    codec,
                    frame: index as u32,
                    detail: "its colour space differs from the first frame's".into(),
                });
            }
            out.extend_from_slice(&decoded);
        }
        Ok(())
    })?;
    Ok(Decompressed {
        data,
        fidelity: syntax.fidelity,
        photometric,
        frames: info.frames,
    })
}

/// Decodes one frame with `codec`: native samples, and the Photometric Interpretation they
/// are in when the decoder changed it.
fn decode_frame(
    codec: Codec,
    stream: &[u8],
    info: &ImageInfo,
    index: u32,
) -> Result<(Vec<u8>, Option<&'static str>), CodecError> {
    Ok(match codec {
        Codec::Jpeg => {
            let d = jpeg::decode(stream, info, index)?;
            (d.data, d.photometric)
        }
        Codec::JpegLs => (jpegls::decode(stream, info, index)?, None),
        Codec::Jpeg2000 => {
            let d = j2k::decode(stream, info, index)?;
            (d.data, d.photometric)
        }
        Codec::Rle => (rle::decode(stream, info, index)?, None),
    })
}

/// Runs a codec, turning a panic inside it into an error: the streams come from the
/// network, and a bug in a third-party decoder must not bring the caller down.
fn guarded<T>(
    codec: Codec,
    frame: u32,
    f: impl FnOnce() -> Result<T, CodecError>,
) -> Result<T, CodecError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(CodecError::DecoderPanicked { codec, frame }))
}

/// The Extended Offset Table's value (PS3.5 A.4, (7FE0,0001) OV), if present.
fn extended_offset_table<'a>(data: &'a [u8], spans: &[ElementSpan]) -> Option<&'a [u8]> {
    image::value_of(data, spans, EXTENDED_OFFSET_TABLE).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dimse_core::dataset::Tag;

    /// Explicit VR little endian element with a 2-byte length.
    fn element(tag: Tag, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut e = [tag.0.to_le_bytes(), tag.1.to_le_bytes()].concat();
        e.extend_from_slice(vr);
        e.extend_from_slice(&(value.len() as u16).to_le_bytes());
        e.extend_from_slice(value);
        e
    }

    #[test]
    fn a_data_set_without_pixel_data_passes_as_it_is() {
        // No image attributes either: no Rows, no Bits Allocated.
        let mut data = element(
            Tag(0x0008, 0x0016),
            b"UI",
            b"1.2.840.10008.5.1.4.1.1.88.11\0",
        );
        data.extend(element(Tag(0x0008, 0x0018), b"UI", b"1.2.3.4\0"));
        data.extend(element(Tag(0x0010, 0x0010), b"PN", b"Doe^J "));
        for uid in [
            "1.2.840.10008.1.2.4.50",
            "1.2.840.10008.1.2.4.57",
            "1.2.840.10008.1.2.4.70",
            "1.2.840.10008.1.2.4.80",
            "1.2.840.10008.1.2.4.81",
            "1.2.840.10008.1.2.4.90",
            "1.2.840.10008.1.2.4.91",
            "1.2.840.10008.1.2.4.201",
            "1.2.840.10008.1.2.4.203",
            "1.2.840.10008.1.2.5",
        ] {
            let out = decompress(&data, uid).unwrap_or_else(|e| panic!("{uid}: {e}"));
            assert_eq!(
                out,
                Decompressed {
                    data: data.clone(),
                    // Nothing was decoded, so nothing was lost, even from a lossy syntax.
                    fidelity: Fidelity::Lossless,
                    photometric: None,
                    frames: 0,
                },
                "{uid}"
            );
        }
        // Still an error: a data set that does not parse.
        assert!(decompress(&data[..data.len() - 1], "1.2.840.10008.1.2.4.57").is_err());
    }

    #[test]
    fn without_pixel_data_an_encapsulated_icon_still_goes() {
        let head = element(Tag(0x0008, 0x0018), b"UI", b"1.2.3.4\0");
        let tail = element(Tag(0x0010, 0x0010), b"PN", b"Doe^J ");
        let mut data = head.clone();
        // Icon Image Sequence (0088,0200), one item holding encapsulated Pixel Data.
        data.extend_from_slice(&[
            0x88, 0x00, 0x00, 0x02, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        data.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        data.extend_from_slice(&[
            0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        data.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
        data.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        data.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        data.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        data.extend_from_slice(&tail);
        let out = decompress(&data, "1.2.840.10008.1.2.4.80").unwrap();
        assert_eq!(out.data, [head, tail].concat());
        assert_eq!((out.fidelity, out.frames), (Fidelity::Lossless, 0));
    }
}
