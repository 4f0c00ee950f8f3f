//! JPEG (ISO 10918-1). The DCT processes (baseline, extended 8 and 12 bits): the shapes
//! DICOM encoders write through this crate's own fast path ([`sequential`]), anything else
//! (progressive, 4:2:0, arithmetic coding, …) through `libjpeg-turbo-rs`, a Rust port of
//! libjpeg-turbo. Both use libjpeg's accurate integer IDCT, fancy upsampling and colour
//! conversion, so their output is DCMTK's (IJG libjpeg) bit for bit. The lossless processes
//! (14, 14 SV1, 2 to 16 bits): the shape DICOM encoders write through this crate's own fast
//! path ([`lossless`]), anything else through libjpeg-turbo-rs's lossless decoder; both exact
//! against dcmdjpeg on valid streams.
//!
//! Colour: DICOM's Photometric Interpretation says what the codestream holds (PS3.5
//! §8.2.1). `YBR_FULL_422` and `YBR_FULL` are decoded to RGB, as DCMTK's dcmdjpeg does by
//! default. `RGB` means the components were coded without a colour transform, so none is
//! applied unless the stream itself signals YCbCr (an Adobe marker with transform 1, or a
//! JFIF marker without an Adobe one); a stream that says nothing would otherwise be taken for
//! YCbCr by libjpeg's rules. The lossless processes never transform colour.

mod colour;
mod huffman;
mod idct;
mod lossless;
mod sequential;

use libjpeg_turbo_rs::{ColorSpace, DctMethod, DecodeLimits};

use crate::image::ImageInfo;
use crate::{Codec, CodecError};

/// One decoded JPEG frame.
pub(crate) struct Decoded {
    /// Native interleaved little-endian samples.
    pub data: Vec<u8>,
    /// The Photometric Interpretation of `data`, when the decoder changed the colour space.
    pub photometric: Option<&'static str>,
}

/// What the markers before the first scan say.
#[derive(Debug, Default, PartialEq, Eq)]
struct Headers {
    /// The SOF marker's second byte (0xC0 baseline, 0xC1 extended, 0xC3 lossless, …).
    sof: u8,
    precision: u8,
    height: u16,
    width: u16,
    components: u8,
    jfif: bool,
    /// The Adobe APP14 marker's transform flag (0 none, 1 YCbCr, 2 YCCK).
    adobe_transform: Option<u8>,
}

/// Decodes one JPEG frame.
pub(crate) fn decode(frame: &[u8], info: &ImageInfo, index: u32) -> Result<Decoded, CodecError> {
    let headers = read_headers(frame).map_err(|detail| corrupt(index, detail))?;
    check_geometry(&headers, info, index)?;
    let lossless = matches!(headers.sof, 0xC3 | 0xC7 | 0xCB | 0xCF);
    if lossless {
        return decode_lossless(frame, &headers, info, index);
    }
    match headers.precision {
        8 => decode_8bit(frame, &headers, info, index),
        12 => decode_12bit(frame, &headers, info, index),
        p => Err(CodecError::Unsupported {
            codec: Codec::Jpeg,
            frame: Some(index),
            feature: format!("{p}-bit DCT (JPEG allows 8 and 12)"),
        }),
    }
}

fn corrupt(index: u32, detail: String) -> CodecError {
    CodecError::Decode {
        codec: Codec::Jpeg,
        frame: index,
        detail,
    }
}

/// Whether to convert YCbCr to RGB, and the Photometric Interpretation that produces when
/// it differs from the attribute's.
fn colour(headers: &Headers, info: &ImageInfo) -> (bool, Option<&'static str>) {
    if headers.components == 1 {
        return (false, None);
    }
    if info.is_ybr_full() {
        return (true, Some("RGB"));
    }
    let stream_says_ycbcr = match headers.adobe_transform {
        Some(transform) => transform == 1,
        None => headers.jfif,
    };
    (info.photometric == "RGB" && stream_says_ycbcr, None)
}

/// Limits that refuse, before any allocation, a stream larger than the attributes' image.
fn limits(info: &ImageInfo) -> DecodeLimits {
    DecodeLimits {
        max_width: usize::from(info.columns),
        max_height: usize::from(info.rows),
        max_pixels: info.pixels() as u64,
        ..DecodeLimits::default()
    }
}

/// 8-bit DCT frames (baseline, extended processes 1 and 2, progressive).
fn decode_8bit(
    frame: &[u8],
    headers: &Headers,
    info: &ImageInfo,
    index: u32,
) -> Result<Decoded, CodecError> {
    if !matches!(headers.components, 1 | 3) {
        return Err(CodecError::Unsupported {
            codec: Codec::Jpeg,
            frame: Some(index),
            feature: format!("lossy JPEG with {} components", headers.components),
        });
    }
    let mut decoder = libjpeg_turbo_rs::Decoder::new_with_limits(frame, limits(info))
        .map_err(|e| corrupt(index, e.to_string()))?;
    decoder.set_dct_method(DctMethod::IsLow);
    let (convert, photometric) = colour(headers, info);
    // libjpeg converts whatever it takes for YCbCr; asking for YCbCr output keeps the
    // components as coded. A stream it takes for RGB is never converted.
    let ycbcr = headers.components == 3 && decoder.jpeg_color_space() == ColorSpace::YCbCr;
    if ycbcr && !convert {
        decoder.set_output_colorspace(ColorSpace::YCbCr);
    }
    let photometric = if ycbcr { photometric } else { None };
    // check_geometry has bounded the frame by the attributes, which the caller bounded.
    if let Some(data) = sequential::decode(frame, ycbcr && convert)
        .filter(|d| d.len() * usize::from(info.bits_allocated / 8) == info.frame_len())
    {
        let data = to_native(data, info);
        return Ok(Decoded { data, photometric });
    }
    let image = decoder
        .decode_image()
        .map_err(|e| corrupt(index, e.to_string()))?;
    if (image.width, image.height) != (usize::from(info.columns), usize::from(info.rows)) {
        return Err(CodecError::Mismatch {
            codec: Codec::Jpeg,
            frame: index,
            what: "decoded pixels",
            expected: info.pixels() as u64,
            found: (image.width * image.height) as u64,
        });
    }
    let data = to_native(image.data, info);
    Ok(Decoded { data, photometric })
}

/// The lossless processes (Huffman-coded, process 14 and its SV1); they never transform
/// colour. Hierarchical and arithmetic-coded ones are refused as unsupported.
fn decode_lossless(
    frame: &[u8],
    headers: &Headers,
    info: &ImageInfo,
    index: u32,
) -> Result<Decoded, CodecError> {
    if headers.sof != 0xC3 {
        return Err(CodecError::Unsupported {
            codec: Codec::Jpeg,
            frame: Some(index),
            feature: format!(
                "lossless JPEG with SOF{} (hierarchical or arithmetic coding)",
                headers.sof - 0xC0
            ),
        });
    }
    let expected = info.frame_len();
    let words = if info.bits_allocated == 8 { 1 } else { 2 };
    // check_geometry has bounded the frame by the attributes, which the caller bounded.
    if let Some(data) = lossless::decode(frame, words).filter(|d| d.len() == expected) {
        return Ok(Decoded {
            data,
            photometric: None,
        });
    }
    let image = libjpeg_turbo_rs::precision::decompress_lossless_arbitrary(frame)
        .map_err(|e| corrupt(index, e.to_string()))?;
    if image.data.len() * words != expected {
        return Err(CodecError::FrameSize {
            codec: Codec::Jpeg,
            frame: index,
            expected,
            actual: image.data.len() * words,
        });
    }
    let mut data = Vec::with_capacity(expected);
    if words == 1 {
        // check_geometry allowed 8-bit words only for streams of at most 8 bits.
        data.extend(image.data.iter().map(|&s| s as u8));
    } else {
        for s in &image.data {
            data.extend_from_slice(&s.to_le_bytes());
        }
    }
    Ok(Decoded {
        data,
        photometric: None,
    })
}

fn check_geometry(headers: &Headers, info: &ImageInfo, index: u32) -> Result<(), CodecError> {
    let checks = [
        ("columns", u64::from(info.columns), u64::from(headers.width)),
        ("rows", u64::from(info.rows), u64::from(headers.height)),
        (
            "samples per pixel",
            u64::from(info.samples_per_pixel),
            u64::from(headers.components),
        ),
    ];
    for (what, expected, found) in checks {
        if expected != found {
            return Err(CodecError::Mismatch {
                codec: Codec::Jpeg,
                frame: index,
                what,
                expected,
                found,
            });
        }
    }
    let needed = if headers.precision > 8 { 16 } else { 8 };
    if info.bits_allocated < needed || info.bits_allocated > 16 {
        return Err(CodecError::Mismatch {
            codec: Codec::Jpeg,
            frame: index,
            what: "bits allocated (from the stream's sample precision)",
            expected: u64::from(info.bits_allocated),
            found: u64::from(needed),
        });
    }
    Ok(())
}

/// 8-bit samples as samples of Bits Allocated bits (8 or 16), little endian.
fn to_native(pixels: Vec<u8>, info: &ImageInfo) -> Vec<u8> {
    if info.bits_allocated == 8 {
        return pixels;
    }
    let mut out = Vec::with_capacity(pixels.len() * 2);
    for &b in &pixels {
        out.extend_from_slice(&u16::from(b).to_le_bytes());
    }
    out
}

/// 12-bit DCT frames (extended process 4, the only lossy syntax for more than 8 bits).
fn decode_12bit(
    frame: &[u8],
    headers: &Headers,
    info: &ImageInfo,
    index: u32,
) -> Result<Decoded, CodecError> {
    // This decoder picks the output colour space itself (RGB for YCbCr), which cannot be
    // told apart from the stream here; 12-bit colour is not a DICOM practice anyway.
    if headers.components != 1 {
        return Err(CodecError::Unsupported {
            codec: Codec::Jpeg,
            frame: Some(index),
            feature: format!("12-bit lossy JPEG with {} components", headers.components),
        });
    }
    if let Some(data) = sequential::decode(frame, false).filter(|d| d.len() == info.frame_len()) {
        return Ok(Decoded {
            data,
            photometric: None,
        });
    }
    let image = libjpeg_turbo_rs::decompress_12bit_with_limits(frame, &limits(info))
        .map_err(|e| corrupt(index, e.to_string()))?;
    if image.width != usize::from(info.columns) || image.height != usize::from(info.rows) {
        return Err(CodecError::Mismatch {
            codec: Codec::Jpeg,
            frame: index,
            what: "decoded pixels",
            expected: info.pixels() as u64,
            found: (image.width * image.height) as u64,
        });
    }
    // Samples are 0..=4095 in an i16; as u16 they are the same bits.
    let data = image
        .data
        .iter()
        .flat_map(|&s| (s as u16).to_le_bytes())
        .collect();
    Ok(Decoded {
        data,
        photometric: None,
    })
}

/// Walks the marker segments up to the first scan (ISO 10918-1 B.1.1), reading the frame
/// header and the JFIF and Adobe application markers.
fn read_headers(stream: &[u8]) -> Result<Headers, String> {
    if !stream.starts_with(&[0xFF, 0xD8]) {
        return Err("the stream does not start with SOI (FFD8)".into());
    }
    let mut headers = Headers::default();
    let mut pos = 2;
    loop {
        let Some(m) = crate::markers::read(stream, pos)? else {
            return Err("the stream ends before the first scan".into());
        };
        let (marker, payload) = (m.code, m.payload);
        pos = m.next;
        match marker {
            0xDA => {
                return if headers.sof == 0 {
                    Err("a scan starts before any frame header (SOF)".into())
                } else {
                    Ok(headers)
                }
            }
            0xD9 => return Err("EOI before the first scan".into()),
            // SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if headers.sof != 0 {
                    return Err("more than one frame header (hierarchical JPEG)".into());
                }
                let [precision, h1, h0, w1, w0, components, ..] = *payload else {
                    return Err(format!("frame header FF{marker:02X} is too short"));
                };
                headers.sof = marker;
                headers.precision = precision;
                headers.height = u16::from_be_bytes([h1, h0]);
                headers.width = u16::from_be_bytes([w1, w0]);
                headers.components = components;
            }
            0xE0 if payload.starts_with(b"JFIF\0") => headers.jfif = true,
            0xEE if payload.starts_with(b"Adobe") && payload.len() >= 12 => {
                headers.adobe_transform = Some(payload[11]);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn headers_before_the_scan() {
        let mut s = vec![0xFF, 0xD8];
        s.extend(segment(0xE0, b"JFIF\0\x01\x01"));
        let mut adobe = b"Adobe".to_vec();
        adobe.extend_from_slice(&[0, 100, 0, 0, 0, 0, 0]);
        s.extend(segment(0xEE, &adobe));
        s.extend(segment(0xC1, &[12, 0, 4, 0, 3, 1, 1, 0x11, 0]));
        s.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        let h = read_headers(&s).unwrap();
        assert_eq!(
            h,
            Headers {
                sof: 0xC1,
                precision: 12,
                height: 4,
                width: 3,
                components: 1,
                jfif: true,
                adobe_transform: Some(0),
            }
        );
        assert!(read_headers(&s[..20]).is_err());
        assert!(read_headers(&s[2..]).is_err());
    }

    #[test]
    fn lossless_frames_with_restart_intervals_go_to_libjpeg_turbo_rs() {
        let pixels: Vec<u8> = (0..32 * 8).map(|i| (i * 7 % 251) as u8).collect();
        let stream = libjpeg_turbo_rs::api::high_level::compress_lossless_extended_precision(
            &pixels,
            32,
            8,
            libjpeg_turbo_rs::PixelFormat::Grayscale,
            1,
            0,
            // A restart marker every row (the interval must be whole rows).
            32,
            8,
        )
        .unwrap();
        assert!(lossless::decode(&stream, 1).is_none());
        let info = ImageInfo {
            rows: 8,
            columns: 32,
            samples_per_pixel: 1,
            bits_allocated: 8,
            bits_stored: 8,
            pixel_representation: 0,
            photometric: "MONOCHROME2".into(),
            frames: 1,
        };
        assert_eq!(decode(&stream, &info, 0).unwrap().data, pixels);
    }

    #[test]
    fn colour_follows_the_photometric_interpretation() {
        let mut info = ImageInfo {
            rows: 1,
            columns: 1,
            samples_per_pixel: 3,
            bits_allocated: 8,
            bits_stored: 8,
            pixel_representation: 0,
            photometric: "YBR_FULL_422".into(),
            frames: 1,
        };
        let mut h = Headers {
            components: 3,
            ..Headers::default()
        };
        assert_eq!(colour(&h, &info), (true, Some("RGB")));
        info.photometric = "RGB".into();
        assert_eq!(colour(&h, &info), (false, None));
        h.jfif = true;
        assert_eq!(colour(&h, &info), (true, None));
        h.adobe_transform = Some(0);
        assert_eq!(colour(&h, &info), (false, None));
        h.components = 1;
        info.photometric = "MONOCHROME2".into();
        assert_eq!(colour(&h, &info), (false, None));
    }
}
