//! Which transfer syntaxes this crate decodes, with which codec, and whether decoding them
//! gives back the original pixels.

use std::fmt;

use crate::Fidelity;

/// The compression family of a transfer syntax, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// ISO 10918-1 JPEG: baseline, extended and lossless processes.
    Jpeg,
    /// ISO 14495-1 JPEG-LS, lossless and near-lossless.
    JpegLs,
    /// ISO 15444-1 JPEG 2000 and ISO 15444-15 High-Throughput JPEG 2000.
    Jpeg2000,
    /// DICOM RLE Lossless (PS3.5 Annex G).
    Rle,
}

impl Codec {
    /// The bytes that open each frame's first fragment, used to find frame boundaries when
    /// no offset table gives them (PS3.5 A.4); RLE frames have no marker.
    pub(crate) fn start_markers(self) -> &'static [&'static [u8]] {
        match self {
            // SOI opens both JPEG and JPEG-LS streams.
            Codec::Jpeg | Codec::JpegLs => &[&[0xFF, 0xD8]],
            // SOC of a raw codestream, or the JP2 signature box some writers leave in.
            Codec::Jpeg2000 => &[
                &[0xFF, 0x4F],
                &[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20],
            ],
            Codec::Rle => &[],
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::Jpeg => "JPEG",
            Codec::JpegLs => "JPEG-LS",
            Codec::Jpeg2000 => "JPEG 2000",
            Codec::Rle => "RLE",
        })
    }
}

/// A transfer syntax this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syntax {
    pub codec: Codec,
    pub fidelity: Fidelity,
}

/// The decodable syntaxes (PS3.5 §8.2, PS3.6 Annex A). JPEG processes 2 and 4 (.4.51) are
/// lossy whatever the bit depth; .4.91 and HTJ2K .4.203 allow irreversible coding, so they
/// count as lossy even when a given stream happens to be reversible.
pub(crate) fn lookup(transfer_syntax_uid: &str) -> Option<Syntax> {
    use Codec::*;
    use Fidelity::*;
    // Tolerate the NUL or space padding of a UI value read straight from the wire.
    let uid = transfer_syntax_uid.trim_end_matches(['\0', ' ']);
    let (codec, fidelity) = match uid {
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" => (Jpeg, Lossy),
        "1.2.840.10008.1.2.4.57" | "1.2.840.10008.1.2.4.70" => (Jpeg, Lossless),
        "1.2.840.10008.1.2.4.80" => (JpegLs, Lossless),
        "1.2.840.10008.1.2.4.81" => (JpegLs, Lossy),
        "1.2.840.10008.1.2.4.90" => (Jpeg2000, Lossless),
        "1.2.840.10008.1.2.4.91" => (Jpeg2000, Lossy),
        // OpenJPEG 2.5 decodes HTJ2K (Part 15) code-blocks as well as Part 1 ones.
        "1.2.840.10008.1.2.4.201" | "1.2.840.10008.1.2.4.202" => (Jpeg2000, Lossless),
        "1.2.840.10008.1.2.4.203" => (Jpeg2000, Lossy),
        "1.2.840.10008.1.2.5" => (Rle, Lossless),
        _ => return None,
    };
    Some(Syntax { codec, fidelity })
}
