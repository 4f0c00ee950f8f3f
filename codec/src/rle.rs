//! DICOM RLE Lossless (PS3.5 Annex G), written here: no maintained crate decodes it, and it
//! is small.
//!
//! A frame is a 64-byte header (the number of segments, then 15 segment offsets, all u32
//! little endian) followed by the segments. Each segment is one byte plane, PackBits-coded:
//! for each sample of the pixel, its bytes from the most significant down (G.2). Decoding
//! writes each plane's bytes into their places in interleaved, little-endian samples.

use crate::image::ImageInfo;
use crate::{Codec, CodecError};

const HEADER_LEN: usize = 64;
const MAX_SEGMENTS: usize = 15;

/// Decodes one RLE frame into native interleaved little-endian samples.
pub(crate) fn decode(frame: &[u8], info: &ImageInfo, index: u32) -> Result<Vec<u8>, CodecError> {
    let error = |detail: String| CodecError::Decode {
        codec: Codec::Rle,
        frame: index,
        detail,
    };
    let header = frame.get(..HEADER_LEN).ok_or_else(|| {
        error(format!(
            "{} bytes, shorter than the {HEADER_LEN}-byte RLE header",
            frame.len()
        ))
    })?;
    let word = |i: usize| {
        u32::from_le_bytes([
            header[4 * i],
            header[4 * i + 1],
            header[4 * i + 2],
            header[4 * i + 3],
        ]) as usize
    };
    let bytes_per_sample = info.bytes_per_sample();
    let samples = usize::from(info.samples_per_pixel);
    let planes = samples * bytes_per_sample;
    let segments = word(0);
    if segments != planes {
        return Err(CodecError::Mismatch {
            codec: Codec::Rle,
            frame: index,
            what: "segments",
            expected: planes as u64,
            found: segments as u64,
        });
    }
    if segments > MAX_SEGMENTS {
        return Err(CodecError::Unsupported {
            codec: Codec::Rle,
            frame: Some(index),
            feature: format!("{segments} segments (RLE allows at most {MAX_SEGMENTS})"),
        });
    }
    let offsets: Vec<usize> = (1..=segments).map(word).collect();
    if offsets[0] != HEADER_LEN {
        return Err(error(format!(
            "first segment at offset {}, not just past the header ({HEADER_LEN})",
            offsets[0]
        )));
    }
    let pixels = info.pixels();
    let mut out = vec![0u8; pixels * planes];
    for (segment, &start) in offsets.iter().enumerate() {
        let end = offsets.get(segment + 1).copied().unwrap_or(frame.len());
        if start > end || end > frame.len() {
            return Err(error(format!(
                "segment {segment} spans bytes {start}..{end} of a {}-byte frame",
                frame.len()
            )));
        }
        // Segment order is sample by sample, most significant byte first; native little
        // endian puts the least significant byte first.
        let sample = segment / bytes_per_sample;
        let significance = segment % bytes_per_sample;
        let first = sample * bytes_per_sample + (bytes_per_sample - 1 - significance);
        let decoded = unpack(&frame[start..end], &mut out[first..], planes, pixels);
        if decoded < pixels {
            return Err(error(format!(
                "segment {segment} decodes to {decoded} bytes, the image has {pixels} pixels"
            )));
        }
    }
    Ok(out)
}

/// PackBits-decodes `segment` (G.3.1) into every `stride`-th byte of `out`, stopping after
/// `wanted` bytes; returns how many bytes were written. Bytes past `wanted` are ignored:
/// some encoders pad a segment with a run that overshoots, and the pixels are all there.
fn unpack(segment: &[u8], out: &mut [u8], stride: usize, wanted: usize) -> usize {
    let mut written = 0;
    let mut put = |byte: u8, written: &mut usize| {
        if *written < wanted {
            out[*written * stride] = byte;
            *written += 1;
        }
    };
    let mut pos = 0;
    while pos < segment.len() && written < wanted {
        let n = segment[pos] as i8;
        pos += 1;
        match n {
            // A literal run of n + 1 bytes; a truncated one still yields the bytes present.
            0..=127 => {
                let count = usize::from(n as u8) + 1;
                let end = (pos + count).min(segment.len());
                for &byte in &segment[pos..end] {
                    put(byte, &mut written);
                }
                pos = end;
            }
            // -128 is a no-op (G.3.1).
            -128 => {}
            // The next byte repeated 1 - n times.
            _ => {
                let Some(&byte) = segment.get(pos) else { break };
                pos += 1;
                for _ in 0..(1 - i16::from(n)) {
                    put(byte, &mut written);
                }
            }
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::image::test_info as info;

    fn frame(segments: &[&[u8]]) -> Vec<u8> {
        let mut header = vec![0u8; HEADER_LEN];
        header[..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
        let mut offset = HEADER_LEN;
        for (i, s) in segments.iter().enumerate() {
            header[4 + 4 * i..8 + 4 * i].copy_from_slice(&(offset as u32).to_le_bytes());
            offset += s.len();
        }
        header.extend(segments.iter().flat_map(|s| s.iter().copied()));
        header
    }

    #[test]
    fn literal_and_replicate_runs() {
        let mut out = [0u8; 6];
        // 2 literal bytes, then 7 repeated 4 times, then a no-op.
        assert_eq!(unpack(&[1, 5, 6, 0xFD, 7, 0x80], &mut out, 1, 6), 6);
        assert_eq!(out, [5, 6, 7, 7, 7, 7]);
    }

    #[test]
    fn sixteen_bit_planes_become_little_endian() {
        // Two pixels 0x0102 and 0x0304: high bytes [1, 3], low bytes [2, 4].
        let f = frame(&[&[1, 1, 3], &[1, 2, 4]]);
        assert_eq!(decode(&f, &info(1, 2, 1, 16), 0).unwrap(), [2, 1, 4, 3]);
    }

    #[test]
    fn rgb_planes_are_interleaved() {
        let f = frame(&[&[0xFF, 10], &[0xFF, 20], &[1, 30, 31]]);
        assert_eq!(
            decode(&f, &info(1, 2, 3, 8), 0).unwrap(),
            [10, 20, 30, 10, 20, 31]
        );
    }

    #[test]
    fn short_and_inconsistent_frames_are_errors() {
        let i = info(2, 2, 1, 8);
        assert!(decode(&[0; 10], &i, 0).is_err());
        let short = frame(&[&[2, 1, 2, 3]]);
        assert!(matches!(
            decode(&short, &i, 3),
            Err(CodecError::Decode { frame: 3, .. })
        ));
        let two = frame(&[&[0xFD, 1], &[0xFD, 1]]);
        assert!(matches!(
            decode(&two, &i, 0),
            Err(CodecError::Mismatch {
                what: "segments",
                ..
            })
        ));
        let mut bad_offset = frame(&[&[0xFD, 1]]);
        bad_offset[4] = 200;
        assert!(decode(&bad_offset, &i, 0).is_err());
        // An overshooting run is clipped to the image.
        assert_eq!(decode(&frame(&[&[0xF0, 9]]), &i, 0).unwrap(), [9; 4]);
    }
}
