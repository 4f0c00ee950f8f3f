//! JPEG-LS (ITU-T T.87 | ISO/IEC 14495-1), lossless and near-lossless, through the crate's
//! own scan decoder (jpegls/scan.rs, written from the standard).
//!
//! The marker segments are parsed and checked here (Annex D): the frame header, LSE preset
//! coding parameters, and the scans, each of one component (ILV 0) or of several,
//! line-interleaved (ILV 1) or sample-interleaved (ILV 2). Every component must be in
//! exactly one scan. Refused as unsupported: mapping tables (LSE types 2 to 4 and table
//! selectors), restart intervals (DRI), point transforms and subsampled components.

mod bits;
mod scan;

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

/// One scan: its components, NEAR, interleave mode, point transform, coding parameters and
/// entropy-coded bytes.
#[derive(Debug)]
struct Scan<'a> {
    /// The components' ids, in scan order.
    ids: Vec<u8>,
    near: u8,
    /// The preset coding parameters of the last LSE segment before the scan (T.87 C.2.4.1.1:
    /// an LSE applies to the scans after it).
    preset: scan::Preset,
    interleave: u8,
    point_transform: u8,
    data: &'a [u8],
}

/// The parsed stream: frame header, component ids, scans.
#[derive(Debug)]
struct Stream<'a> {
    frame: Frame,
    components: Vec<u8>,
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
    if let Some(scan) = stream.scans.iter().find(|s| s.point_transform != 0) {
        return Err(unsupported(format!(
            "JPEG-LS point transform {}",
            scan.point_transform
        )));
    }

    let samples = decode_scans(&stream, info).map_err(corrupt)?;
    let mut out = Vec::with_capacity(info.frame_len());
    if info.bits_allocated == 8 {
        // precision <= 8 here, so every sample fits.
        out.extend(samples.iter().map(|&s| s as u8));
    } else {
        out.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
    }
    Ok(out)
}

/// Decodes every scan: the frame's samples, interleaved.
fn decode_scans(stream: &Stream<'_>, info: &ImageInfo) -> Result<Vec<u16>, String> {
    let f = stream.frame;
    let stride = stream.components.len();
    // Rows, Columns and Samples per Pixel were checked equal to the frame header's.
    let mut samples = vec![0u16; info.pixels() * stride];
    let mut decoded = vec![false; stride];
    for s in &stream.scans {
        let mut slots = Vec::with_capacity(s.ids.len());
        for id in &s.ids {
            let slot = stream
                .components
                .iter()
                .position(|c| c == id)
                .ok_or_else(|| format!("scan component {id} is not in the frame"))?;
            if std::mem::replace(&mut decoded[slot], true) {
                return Err(format!("component {id} is in more than one scan"));
            }
            slots.push(slot);
        }
        let params = scan::Params::new(f.precision, s.near, s.preset)?;
        let target = scan::Target {
            samples: &mut samples,
            width: usize::from(f.width),
            height: usize::from(f.height),
            stride,
            slots: &slots,
        };
        scan::decode(s.data, &params, s.interleave, target)?;
    }
    if let Some(missing) = decoded.iter().position(|d| !d) {
        return Err(format!(
            "component {} has no scan",
            stream.components[missing]
        ));
    }
    Ok(samples)
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
    let mut preset = scan::Preset::default();
    let mut scans = Vec::new();
    let mut pos = 2;
    loop {
        let m = crate::markers::read(stream, pos)
            .map_err(Corrupt)?
            .ok_or_else(|| Corrupt("the stream ends without EOI".into()))?;
        let (marker, payload) = (m.code, m.payload);
        if marker == EOI {
            break;
        }
        pos = m.next;
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
                Some(1) if payload.len() == 11 => {
                    let v = |i: usize| u16::from_be_bytes([payload[i], payload[i + 1]]);
                    preset = scan::Preset {
                        maxval: v(1),
                        t1: v(3),
                        t2: v(5),
                        t3: v(7),
                        reset: v(9),
                    };
                }
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
                if ids.chunks_exact(2).any(|pair| pair[1] != 0) {
                    return Err(Unsupported("JPEG-LS mapping tables".into()));
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
                    ids: ids.iter().step_by(2).copied().collect(),
                    near,
                    preset,
                    interleave,
                    point_transform: point_transform & 0x0F,
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
        scans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(samples: u16, bits: u16) -> ImageInfo {
        sized(4, 5, samples, bits)
    }

    use crate::image::test_info as sized;

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
    fn uninterleaved_colour_scans_decode() {
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

    /// Codestreams written by DCMTK's dcmcjpls (CharLS) from a 13 x 7 RGB image drawn by
    /// [`drawn`], as tests/data/README.md tells: (file, bits, NEAR).
    const FIXTURES: [(&[u8], u16, u16); 5] = [
        (include_bytes!("../tests/data/rgb8_ilv1.jls"), 8, 0),
        (include_bytes!("../tests/data/rgb8_ilv2.jls"), 8, 0),
        (include_bytes!("../tests/data/rgb8_near_ilv2.jls"), 8, 2),
        (include_bytes!("../tests/data/rgb16_ilv1.jls"), 16, 0),
        (include_bytes!("../tests/data/rgb16_near_ilv1.jls"), 16, 2),
    ];

    /// The fixtures' image: texture, and flat stretches for run mode.
    fn drawn(bits: u16) -> Vec<u16> {
        let mut out = Vec::new();
        for y in 0..7u16 {
            for x in 0..13u16 {
                for c in 0..3u16 {
                    let v = if (x + y) % 5 == 0 || x >= 9 {
                        100 + 20 * c
                    } else {
                        ((x * 37 + y * 11 + c * 80) ^ (x * y)) & 0xFF
                    };
                    out.push(if bits == 8 { v } else { v * 257 + v % 7 });
                }
            }
        }
        out
    }

    fn samples(bytes: &[u8], bits: u16) -> Vec<u16> {
        if bits == 8 {
            bytes.iter().map(|&b| u16::from(b)).collect()
        } else {
            bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect()
        }
    }

    #[test]
    fn interleaved_fixtures_decode() {
        let mut modes = Vec::new();
        for (stream, bits, near) in FIXTURES {
            let parsed = parse(stream).ok().unwrap();
            modes.push(parsed.scans[0].interleave);
            let out = decode(stream, &sized(7, 13, 3, bits), 0).unwrap();
            let worst = samples(&out, bits)
                .iter()
                .zip(drawn(bits))
                .map(|(&a, b)| a.abs_diff(b))
                .max();
            // Lossless exactly, near-lossless within NEAR (T.87's guarantee).
            assert_eq!(
                worst.map(|w| w <= near),
                Some(true),
                "{bits} bits NEAR {near}"
            );
            if near > 0 {
                assert!(worst > Some(0), "near-lossless changed something");
            }
        }
        assert_eq!(modes, [1, 2, 2, 1, 1]);
    }

    #[test]
    fn an_lse_applies_to_the_scans_after_it() {
        // Thresholds unlike the defaults, after the only scan: they apply to no scan, so the
        // image decodes as without them.
        let (stream, bits, _) = FIXTURES[0];
        let eoi = stream.len() - 2;
        assert_eq!(stream[eoi..], [0xFF, 0xD9]);
        let mut late = stream[..eoi].to_vec();
        late.extend_from_slice(&[0xFF, 0xF8, 0, 13, 1, 0, 255, 0, 9, 0, 19, 0, 29, 0, 64]);
        late.extend_from_slice(&[0xFF, 0xD9]);
        let info = sized(7, 13, 3, bits);
        assert_eq!(
            decode(&late, &info, 0).unwrap(),
            decode(stream, &info, 0).unwrap()
        );
        // Before the scan they do apply.
        let sof = stream.windows(2).position(|w| w == [0xFF, 0xF7]).unwrap();
        let mut early = stream[..sof].to_vec();
        early.extend_from_slice(&late[eoi..eoi + 15]);
        early.extend_from_slice(&stream[sof..]);
        assert_ne!(
            decode(&early, &info, 0).ok(),
            Some(decode(stream, &info, 0).unwrap())
        );
    }

    #[test]
    fn cut_interleaved_streams_are_errors() {
        for (stream, bits, _) in FIXTURES {
            // Every cut of the scan's header and data (the stream gets its EOI back).
            let sos = stream.windows(2).position(|w| w == [0xFF, SOS]).unwrap();
            let header = usize::from(u16::from_be_bytes([stream[sos + 2], stream[sos + 3]]));
            let end = sos + 2 + header + parse(stream).ok().unwrap().scans[0].data.len();
            for cut in sos..end {
                let mut cut_stream = stream[..cut].to_vec();
                cut_stream.extend_from_slice(&[0xFF, EOI]);
                let result = decode(&cut_stream, &sized(7, 13, 3, bits), 0);
                assert!(result.is_err(), "{bits} bits cut at {cut}");
            }
        }
    }

    #[test]
    fn default_thresholds() {
        let t = |bits, near| {
            let p = scan::Params::new(bits, near, scan::Preset::default()).unwrap();
            (p.t1, p.t2, p.t3, p.reset)
        };
        // T.87 C.2.4.1.1.1 (and Table C.3 for 8 bits).
        assert_eq!(t(8, 0), (3, 7, 21, 64));
        assert_eq!(t(12, 0), (18, 67, 276, 64));
        assert_eq!(t(16, 0), (18, 67, 276, 64));
        assert_eq!(t(8, 2), (9, 17, 35, 64));
        assert_eq!(t(6, 0), (2, 3, 5, 64));
        assert_eq!(t(2, 0), (2, 3, 3, 64));
        let preset = scan::Preset {
            maxval: 1000,
            t1: 0,
            t2: 0,
            t3: 0,
            reset: 32,
        };
        let p = scan::Params::new(12, 0, preset).unwrap();
        assert_eq!((p.maxval, p.t1, p.t2, p.t3, p.reset), (1000, 6, 19, 72, 32));
        // MAXVAL beyond the precision, NEAR beyond MAXVAL / 2, unordered thresholds.
        let bad = [
            (
                8,
                0,
                scan::Preset {
                    maxval: 256,
                    ..preset
                },
            ),
            (8, 128, scan::Preset::default()),
            (
                8,
                0,
                scan::Preset {
                    t1: 9,
                    t2: 5,
                    ..Default::default()
                },
            ),
            (
                8,
                0,
                scan::Preset {
                    reset: 2,
                    ..Default::default()
                },
            ),
        ];
        for (bits, near, preset) in bad {
            assert!(scan::Params::new(bits, near, preset).is_err(), "{preset:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 300,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x1505_7487),
            ..Default::default()
        })]

        /// Random grey images (2 to 16 bits, lossless and near-lossless) coded by
        /// pure_jpegls's encoder decode here exactly as pure_jpegls decodes them.
        #[test]
        fn decodes_as_pure_jpegls_does(
            precision in 2u8..=16,
            (width, height) in (1u32..40, 1u32..12),
            near in 0u8..4,
            flat in 0u32..4,
            seed in proptest::prelude::any::<u64>(),
        ) {
            let maxval = (1u32 << precision) - 1;
            let near = near.min((maxval / 2) as u8);
            let mut state = seed | 1;
            let pixels: Vec<u16> = (0..width * height)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Runs of equal samples for run mode, and noise of several sizes.
                    let noise = (state % u64::from(maxval + 1)) as u32 >> (flat * 3);
                    let base = (i / 5 % 3) * maxval / 3;
                    (base + noise).min(maxval) as u16
                })
                .collect();
            let mut options = jpegls::EncodeOptions::default();
            options.precision = Some(precision);
            options.near = near;
            let mut stream = Vec::new();
            jpegls::encode_with_options(&pixels, width, height, &options, &mut stream).unwrap();
            let (theirs, _, _) = jpegls::decode(&stream, width, height).unwrap();
            let bits = if precision > 8 { 16 } else { 8 };
            let out = decode(&stream, &sized(height as u16, width as u16, 1, bits), 0).unwrap();
            proptest::prop_assert_eq!(samples(&out, bits), theirs);
        }
    }
}
