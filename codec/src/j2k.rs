//! JPEG 2000 (ISO 15444-1) and HTJ2K (ISO 15444-15) through OpenJPEG 2.5 (the `jpeg2k`
//! crate over `openjpeg-sys`).
//!
//! The main header is read here first, so that a stream whose size or component count
//! disagrees with the attributes is refused before OpenJPEG allocates for it, and to learn
//! whether the stream applies a multiple component transform: OpenJPEG inverts it while
//! decoding, so `YBR_ICT` and `YBR_RCT` images come out RGB (PS3.5 §8.2.4).

use crate::image::ImageInfo;
use crate::{Codec, CodecError};

/// One decoded JPEG 2000 frame.
pub(crate) struct Decoded {
    /// Native interleaved little-endian samples.
    pub data: Vec<u8>,
    /// The Photometric Interpretation of `data`, when the decoder changed the colour space.
    pub photometric: Option<&'static str>,
}

/// What the main header says (ISO 15444-1 A.5.1 SIZ, A.6.1 COD).
#[derive(Debug, PartialEq, Eq)]
struct MainHeader {
    width: u32,
    height: u32,
    /// Per component: precision in bits, signed, horizontal and vertical subsampling.
    components: Vec<(u8, bool, u8, u8)>,
    /// The COD marker's multiple component transform flag.
    transform: u8,
}

const JP2_SIGNATURE: [u8; 12] = [
    0, 0, 0, 0x0C, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A,
];

/// Decodes one JPEG 2000 frame.
pub(crate) fn decode(frame: &[u8], info: &ImageInfo, index: u32) -> Result<Decoded, CodecError> {
    let corrupt = |detail: String| CodecError::Decode {
        codec: Codec::Jpeg2000,
        frame: index,
        detail,
    };
    let unsupported = |feature: String| CodecError::Unsupported {
        codec: Codec::Jpeg2000,
        frame: Some(index),
        feature,
    };
    // DICOM carries the bare codestream (PS3.5 A.4.4), but some writers keep the JP2 file
    // around it; its boxes (palettes, colour specifications) are not DICOM's, so only the
    // codestream is decoded.
    let codestream = if frame.starts_with(&JP2_SIGNATURE) {
        jp2_codestream(frame).ok_or_else(|| corrupt("JP2 file without a codestream box".into()))?
    } else {
        frame
    };
    let header = main_header(codestream).map_err(corrupt)?;
    let mismatch = |what, expected: u64, found: u64| CodecError::Mismatch {
        codec: Codec::Jpeg2000,
        frame: index,
        what,
        expected,
        found,
    };
    if header.width != u32::from(info.columns) {
        return Err(mismatch(
            "columns",
            info.columns.into(),
            header.width.into(),
        ));
    }
    if header.height != u32::from(info.rows) {
        return Err(mismatch("rows", info.rows.into(), header.height.into()));
    }
    if header.components.len() != usize::from(info.samples_per_pixel) {
        let found = header.components.len() as u64;
        return Err(mismatch(
            "samples per pixel",
            info.samples_per_pixel.into(),
            found,
        ));
    }
    if info.bits_allocated > 16 {
        return Err(unsupported(format!(
            "Bits Allocated {} (8 or 16 decode here)",
            info.bits_allocated
        )));
    }
    for &(precision, _, dx, dy) in &header.components {
        if (dx, dy) != (1, 1) {
            return Err(unsupported(format!("subsampled component ({dx}x{dy})")));
        }
        if u16::from(precision) > info.bits_allocated {
            return Err(mismatch(
                "component precision",
                info.bits_allocated.into(),
                precision.into(),
            ));
        }
    }

    let image = jpeg2k::Image::from_bytes(codestream).map_err(|e| corrupt(e.to_string()))?;
    let components = image.components();
    if components.len() != header.components.len() {
        return Err(mismatch(
            "decoded components",
            header.components.len() as u64,
            components.len() as u64,
        ));
    }
    let pixels = info.pixels();
    let mut planes = Vec::with_capacity(components.len());
    for component in components {
        if (component.width(), component.height()) != (header.width, header.height) {
            return Err(mismatch(
                "decoded component pixels",
                pixels as u64,
                u64::from(component.width()) * u64::from(component.height()),
            ));
        }
        planes.push(component.data());
    }

    let mut data = Vec::with_capacity(info.frame_len());
    for pixel in 0..pixels {
        for plane in &planes {
            // Signed samples become two's complement of Bits Allocated bits; OpenJPEG has
            // already clipped every sample to its component's precision.
            let sample = plane[pixel];
            if info.bits_allocated == 8 {
                data.push(sample as u8);
            } else {
                data.extend_from_slice(&(sample as u16).to_le_bytes());
            }
        }
    }
    let photometric =
        (header.transform != 0 && header.components.len() >= 3 && info.photometric != "RGB")
            .then_some("RGB");
    Ok(Decoded { data, photometric })
}

/// The contents of the first top-level `jp2c` box of a JP2 file (ISO 15444-1 I.4).
fn jp2_codestream(file: &[u8]) -> Option<&[u8]> {
    let mut pos = 0usize;
    while pos + 8 <= file.len() {
        let length = u32::from_be_bytes(file[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &file[pos + 4..pos + 8];
        let (header, length) = match length {
            // Extended 64-bit length.
            1 => {
                let extended = file.get(pos + 8..pos + 16)?;
                (
                    16,
                    usize::try_from(u64::from_be_bytes(extended.try_into().ok()?)).ok()?,
                )
            }
            // The box runs to the end of the file.
            0 => (8, file.len() - pos),
            n => (8, n),
        };
        if length < header {
            return None;
        }
        let end = pos.checked_add(length)?.min(file.len());
        if kind == b"jp2c" {
            return file.get(pos + header..end);
        }
        pos = end;
    }
    None
}

/// Reads SIZ and COD from the main header (up to the first tile-part, SOT).
fn main_header(codestream: &[u8]) -> Result<MainHeader, String> {
    if !codestream.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return Err("the codestream does not start with SOC and SIZ (FF4F FF51)".into());
    }
    let be16 = |b: &[u8], at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let be32 = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let mut pos = 2;
    let mut header: Option<MainHeader> = None;
    loop {
        let (marker, length) = match codestream.get(pos..pos + 4) {
            Some(b) => (be16(b, 0), usize::from(be16(b, 2))),
            None => return Err("the main header ends before the first tile (SOT)".into()),
        };
        if marker == 0xFF90 {
            break;
        }
        if marker >> 8 != 0xFF || length < 2 {
            return Err(format!("malformed marker segment at byte {pos}"));
        }
        let payload = codestream
            .get(pos + 4..pos + 2 + length)
            .ok_or_else(|| format!("marker {marker:04X} runs past the codestream"))?;
        match marker {
            0xFF51 => {
                // Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz, Csiz.
                if payload.len() < 36 {
                    return Err("SIZ is too short".into());
                }
                let (x, y, x0, y0) = (
                    be32(payload, 2),
                    be32(payload, 6),
                    be32(payload, 10),
                    be32(payload, 14),
                );
                let count = usize::from(be16(payload, 34));
                let specs = payload
                    .get(36..36 + 3 * count)
                    .filter(|_| count > 0)
                    .ok_or("SIZ component list does not fit")?;
                if x <= x0 || y <= y0 {
                    return Err(format!("SIZ image area {x0}..{x} x {y0}..{y} is empty"));
                }
                header = Some(MainHeader {
                    width: x - x0,
                    height: y - y0,
                    components: specs
                        .chunks_exact(3)
                        .map(|s| ((s[0] & 0x7F) + 1, s[0] & 0x80 != 0, s[1], s[2]))
                        .collect(),
                    transform: 0,
                });
            }
            0xFF52 => {
                // Scod, progression order, layers (2), multiple component transform.
                let transform = *payload.get(4).ok_or("COD is too short")?;
                if let Some(h) = header.as_mut() {
                    h.transform = transform;
                }
            }
            _ => {}
        }
        pos += 2 + length;
    }
    header.ok_or_else(|| "no SIZ marker".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn siz(width: u32, height: u32, components: &[u8]) -> Vec<u8> {
        let mut p = vec![0, 0];
        for v in [width, height, 0, 0, width, height, 0, 0] {
            p.extend_from_slice(&v.to_be_bytes());
        }
        p.extend_from_slice(&(components.len() as u16).to_be_bytes());
        for &c in components {
            p.extend_from_slice(&[c, 1, 1]);
        }
        let mut s = vec![0xFF, 0x4F, 0xFF, 0x51];
        s.extend_from_slice(&((p.len() + 2) as u16).to_be_bytes());
        s.extend(p);
        s
    }

    #[test]
    fn main_header_fields() {
        let mut s = siz(5, 4, &[7, 7, 7]);
        s.extend_from_slice(&[0xFF, 0x52, 0, 12, 0, 0, 0, 1, 1, 5, 4, 4, 0, 1]);
        s.extend_from_slice(&[0xFF, 0x90, 0, 10]);
        let h = main_header(&s).unwrap();
        assert_eq!((h.width, h.height, h.transform), (5, 4, 1));
        assert_eq!(h.components, vec![(8, false, 1, 1); 3]);
        assert!(main_header(&s[..20]).is_err());
        assert!(main_header(&s[2..]).is_err());
    }

    #[test]
    fn codestream_inside_jp2() {
        let mut file = JP2_SIGNATURE.to_vec();
        file.extend_from_slice(&[0, 0, 0, 12, b'f', b't', b'y', b'p', 1, 2, 3, 4]);
        file.extend_from_slice(&[0, 0, 0, 0, b'j', b'p', b'2', b'c', 0xFF, 0x4F]);
        assert_eq!(jp2_codestream(&file), Some(&[0xFF, 0x4F][..]));
        assert_eq!(jp2_codestream(&file[..30]), None);
    }
}
