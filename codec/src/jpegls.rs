//! JPEG-LS (ISO 14495-1 / ITU-T T.87) through the pure-Rust `jpegls` crate (pure_jpegls).
//!
//! That decoder reads single-component scans. A multi-component image coded without
//! interleaving (ILV 0) is one such scan per component, each coded independently (T.87
//! A.2.1: contexts are per scan), so each scan is rewrapped as a single-component stream,
//! decoded, and the planes interleaved. Line (ILV 1) and sample (ILV 2) interleaved scans
//! share their coding state across components and cannot be split that way: they are
//! reported as unsupported. So are the features the decoder lacks (mapping tables, restart
//! intervals) and a point transform, which it would silently ignore.
//!
//! Every stream is rebuilt from the parsed headers before decoding, so the decoder only
//! ever sees the marker segments checked here.

use crate::image::ImageInfo;
use crate::{Codec, CodecError};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DRI: u8 = 0xDD;
const SOF55: u8 = 0xF7;
const LSE: u8 = 0xF8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    precision: u8,
    height: u16,
    width: u16,
}

/// One scan: its component, NEAR, interleave mode, point transform and entropy-coded bytes.
#[derive(Debug)]
struct Scan<'a> {
    component: u8,
    near: u8,
    interleave: u8,
    point_transform: u8,
    components_in_scan: u8,
    data: &'a [u8],
}

/// The parsed stream: frame header, component ids, LSE preset segments, scans.
#[derive(Debug)]
struct Stream<'a> {
    frame: Frame,
    components: Vec<u8>,
    presets: Vec<&'a [u8]>,
    scans: Vec<Scan<'a>>,
}

/// Decodes one JPEG-LS frame into native interleaved little-endian samples.
pub(crate) fn decode(frame: &[u8], info: &ImageInfo, index: u32) -> Result<Vec<u8>, CodecError> {
    let corrupt = |detail: String| CodecError::Decode {
        codec: Codec::JpegLs,
        frame: index,
        detail,
    };
    let unsupported = |feature: String| CodecError::Unsupported {
        codec: Codec::JpegLs,
        frame: Some(index),
        feature,
    };
    let stream = parse(frame).map_err(|e| match e {
        ParseError::Corrupt(detail) => corrupt(detail),
        ParseError::Unsupported(feature) => unsupported(feature),
    })?;
    let f = stream.frame;
    let checks = [
        ("columns", info.columns, f.width),
        ("rows", info.rows, f.height),
        (
            "samples per pixel",
            info.samples_per_pixel,
            stream.components.len() as u16,
        ),
    ];
    for (what, expected, found) in checks {
        if expected != found {
            return Err(CodecError::Mismatch {
                codec: Codec::JpegLs,
                frame: index,
                what,
                expected: u64::from(expected),
                found: u64::from(found),
            });
        }
    }
    let needed = if f.precision > 8 { 16 } else { 8 };
    if info.bits_allocated < needed || info.bits_allocated > 16 {
        return Err(CodecError::Mismatch {
            codec: Codec::JpegLs,
            frame: index,
            what: "bits allocated (from the stream's sample precision)",
            expected: u64::from(info.bits_allocated),
            found: u64::from(needed),
        });
    }
    if let Some(scan) = stream
        .scans
        .iter()
        .find(|s| s.components_in_scan != 1 || s.interleave != 0)
    {
        let mode = match scan.interleave {
            1 => "line-interleaved (ILV 1)",
            2 => "sample-interleaved (ILV 2)",
            _ => "interleaved",
        };
        return Err(unsupported(format!(
            "{mode} multi-component JPEG-LS (only single-component scans decode here)"
        )));
    }
    if let Some(scan) = stream.scans.iter().find(|s| s.point_transform != 0) {
        return Err(unsupported(format!(
            "JPEG-LS point transform {}",
            scan.point_transform
        )));
    }

    // One scan per component, in any order (T.87 allows it); planes in component order.
    let mut planes = Vec::with_capacity(stream.components.len());
    for &id in &stream.components {
        let mut scans = stream.scans.iter().filter(|s| s.component == id);
        let (Some(scan), None) = (scans.next(), scans.next()) else {
            return Err(corrupt(format!("component {id} needs exactly one scan")));
        };
        let single = rebuild(f, id, &stream.presets, scan);
        let (samples, _, _) = jpegls::decode(&single, u32::from(f.width), u32::from(f.height))
            .map_err(|e| match e {
                jpegls::CodecError::Unsupported(feature) => unsupported(feature),
                other => corrupt(other.to_string()),
            })?;
        if samples.len() != info.pixels() {
            return Err(CodecError::FrameSize {
                codec: Codec::JpegLs,
                frame: index,
                expected: info.frame_len(),
                actual: samples.len() * stream.components.len() * info.bytes_per_sample(),
            });
        }
        planes.push(samples);
    }

    let mut out = Vec::with_capacity(info.frame_len());
    for pixel in 0..info.pixels() {
        for plane in &planes {
            let sample = plane[pixel];
            if info.bits_allocated == 8 {
                // precision <= 8 here, so the sample fits.
                out.push(sample as u8);
            } else {
                out.extend_from_slice(&sample.to_le_bytes());
            }
        }
    }
    Ok(out)
}

/// A single-component stream for one scan: SOI, SOF55 with that component, the LSE presets,
/// SOS, the scan's bytes, EOI.
fn rebuild(frame: Frame, component: u8, presets: &[&[u8]], scan: &Scan<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(scan.data.len() + 64);
    out.extend_from_slice(&[0xFF, SOI]);
    out.extend_from_slice(&[0xFF, SOF55, 0, 11, frame.precision]);
    out.extend_from_slice(&frame.height.to_be_bytes());
    out.extend_from_slice(&frame.width.to_be_bytes());
    out.extend_from_slice(&[1, component, 0x11, 0]);
    for preset in presets {
        out.extend_from_slice(preset);
    }
    out.extend_from_slice(&[0xFF, SOS, 0, 8, 1, component, 0, scan.near, 0, 0]);
    out.extend_from_slice(scan.data);
    out.extend_from_slice(&[0xFF, EOI]);
    out
}

enum ParseError {
    Corrupt(String),
    Unsupported(String),
}

/// Reads the marker segments and scans of a JPEG-LS stream (T.87 Annex D).
fn parse(stream: &[u8]) -> Result<Stream<'_>, ParseError> {
    use ParseError::{Corrupt, Unsupported};
    if !stream.starts_with(&[0xFF, SOI]) {
        return Err(Corrupt("the stream does not start with SOI (FFD8)".into()));
    }
    let mut frame = None;
    let mut components = Vec::new();
    let mut presets = Vec::new();
    let mut scans = Vec::new();
    let mut pos = 2;
    loop {
        while stream.get(pos) == Some(&0xFF) && stream.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let marker = match stream.get(pos..pos + 2) {
            Some([0xFF, m]) => *m,
            Some(_) => return Err(Corrupt(format!("expected a marker at byte {pos}"))),
            None => return Err(Corrupt("the stream ends without EOI".into())),
        };
        if marker == EOI {
            break;
        }
        let length = match stream.get(pos + 2..pos + 4) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(Corrupt(format!("marker FF{marker:02X} has no length"))),
        };
        if length < 2 {
            return Err(Corrupt(format!(
                "marker FF{marker:02X} has length {length}"
            )));
        }
        let segment = stream
            .get(pos..pos + 2 + length)
            .ok_or_else(|| Corrupt(format!("marker FF{marker:02X} runs past the stream")))?;
        let payload = &segment[4..];
        pos += 2 + length;
        match marker {
            SOF55 => {
                if frame.is_some() {
                    return Err(Corrupt("more than one frame header".into()));
                }
                let [precision, h1, h0, w1, w0, count, ref specs @ ..] = *payload else {
                    return Err(Corrupt("SOF55 is too short".into()));
                };
                let count = usize::from(count);
                if specs.len() != 3 * count || count == 0 {
                    return Err(Corrupt(format!(
                        "SOF55 declares {count} components in {} bytes",
                        specs.len()
                    )));
                }
                if !(2..=16).contains(&precision) {
                    return Err(Corrupt(format!("sample precision {precision}")));
                }
                for spec in specs.chunks_exact(3) {
                    if spec[1] != 0x11 {
                        return Err(Unsupported(format!(
                            "JPEG-LS subsampled component (sampling factors {:02X})",
                            spec[1]
                        )));
                    }
                    components.push(spec[0]);
                }
                frame = Some(Frame {
                    precision,
                    height: u16::from_be_bytes([h1, h0]),
                    width: u16::from_be_bytes([w1, w0]),
                });
            }
            LSE => match payload.first() {
                // Preset coding parameters: ID, MAXVAL, T1, T2, T3, RESET.
                Some(1) if payload.len() == 11 => presets.push(segment),
                Some(1) => return Err(Corrupt("LSE preset parameters of the wrong length".into())),
                Some(id) => {
                    return Err(Unsupported(format!(
                        "JPEG-LS LSE segment type {id} (mapping tables or extensions)"
                    )))
                }
                None => return Err(Corrupt("empty LSE segment".into())),
            },
            DRI => return Err(Unsupported("JPEG-LS restart intervals (DRI)".into())),
            SOS => {
                if frame.is_none() {
                    return Err(Corrupt("a scan starts before the frame header".into()));
                }
                let [count, ref rest @ ..] = *payload else {
                    return Err(Corrupt("SOS is too short".into()));
                };
                let ids_len = 2 * usize::from(count);
                let (Some(ids), Some(&[near, interleave, point_transform])) =
                    (rest.get(..ids_len), rest.get(ids_len..))
                else {
                    return Err(Corrupt(format!("SOS for {count} components is malformed")));
                };
                if count == 0 {
                    return Err(Corrupt("SOS with no component".into()));
                }
                // The entropy-coded data runs to the next marker: FF followed by a byte with
                // its high bit set (T.87 A.1: after FF the coder stuffs a 0 bit).
                let start = pos;
                while pos < stream.len()
                    && !(stream[pos] == 0xFF && stream.get(pos + 1).is_some_and(|b| b & 0x80 != 0))
                {
                    pos += 1;
                }
                scans.push(Scan {
                    component: ids[0],
                    near,
                    interleave,
                    point_transform: point_transform & 0x0F,
                    components_in_scan: count,
                    data: &stream[start..pos],
                });
            }
            // APPn, COM and anything else: skipped.
            _ => {}
        }
    }
    let frame = frame.ok_or_else(|| Corrupt("no SOF55 frame header".into()))?;
    if scans.is_empty() {
        return Err(Corrupt("no scan".into()));
    }
    Ok(Stream {
        frame,
        components,
        presets,
        scans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(samples: u16, bits: u16) -> ImageInfo {
        ImageInfo {
            rows: 4,
            columns: 5,
            samples_per_pixel: samples,
            bits_allocated: bits,
            bits_stored: bits,
            pixel_representation: 0,
            photometric: if samples == 1 { "MONOCHROME2" } else { "RGB" }.into(),
            frames: 1,
        }
    }

    #[test]
    fn single_component_round_trip() {
        let pixels: Vec<u16> = (0..20).map(|i| i * 3000).collect();
        let mut stream = Vec::new();
        jpegls::encode(&pixels, 5, 4, &mut stream).unwrap();
        let out = decode(&stream, &info(1, 16), 0).unwrap();
        let expected: Vec<u8> = pixels.iter().flat_map(|p| p.to_le_bytes()).collect();
        assert_eq!(out, expected);
        assert!(matches!(
            decode(&stream, &info(3, 16), 0),
            Err(CodecError::Mismatch {
                what: "samples per pixel",
                ..
            })
        ));
        assert!(decode(&stream[..stream.len() / 2], &info(1, 16), 0).is_err());
    }

    #[test]
    fn uninterleaved_colour_scans_are_split() {
        // Three single-component streams, joined as one ILV 0 stream of three scans.
        let planes: Vec<Vec<u16>> = (0..3u16)
            .map(|c| (0..20u16).map(|i| (i * 7 + c * 50) % 256).collect())
            .collect();
        let mut joined = vec![0xFF, SOI];
        joined.extend_from_slice(&[0xFF, SOF55, 0, 17, 8, 0, 4, 0, 5, 3]);
        for id in 1..=3 {
            joined.extend_from_slice(&[id, 0x11, 0]);
        }
        for (c, plane) in planes.iter().enumerate() {
            let mut single = Vec::new();
            let mut options = jpegls::EncodeOptions::default();
            options.precision = Some(8);
            jpegls::encode_with_options(plane, 5, 4, &options, &mut single).unwrap();
            let parsed = parse(&single).ok().unwrap();
            joined.extend_from_slice(&[0xFF, SOS, 0, 8, 1, c as u8 + 1, 0, 0, 0, 0]);
            joined.extend_from_slice(parsed.scans[0].data);
        }
        joined.extend_from_slice(&[0xFF, EOI]);
        let out = decode(&joined, &info(3, 8), 0).unwrap();
        let expected: Vec<u8> = (0..20)
            .flat_map(|i| planes.iter().map(move |p| p[i] as u8))
            .collect();
        assert_eq!(out, expected);
    }
}
