//! A fast path for the lossless JPEG frames DICOM holds (ISO 10918-1 Annex H: process 14
//! and its SV1, Huffman coded, SOF3), written from the standard.
//!
//! It takes the shape nearly every DICOM encoder writes: one scan holding every component,
//! no subsampling, no restart interval. It decodes straight into the frame's little-endian
//! words, one row at a time, where libjpeg-turbo-rs decodes differences into one buffer,
//! undoes the prediction into another and returns samples that are copied once more; on the
//! decode benchmark's 12-bit CT that made libjpeg-turbo-rs only level with dcmdjpeg.
//!
//! Anything else, and any stream it cannot decode whole (a bad table, a code no table
//! holds, data that ends early), gives `None`, and the caller hands the frame to
//! libjpeg-turbo-rs, so the fast path never refuses a frame the crate would decode. Where both
//! decode a frame they give the same samples, damaged ones included: a sample is kept modulo
//! 2^P as the crate keeps it (C libjpeg keeps it modulo 2^16; the two differ only for a
//! stream whose samples leave the precision it declares).

use super::huffman::{difference, Bits, Class, Huffman};
use crate::markers;

/// Decodes `frame` (from its SOI) into samples of `words` bytes (1 or 2), little endian and
/// interleaved by pixel, or `None` to leave the frame to libjpeg-turbo-rs.
pub(super) fn decode(frame: &[u8], words: usize) -> Option<Vec<u8>> {
    let mut header: Option<FrameHeader> = None;
    let mut tables: [Option<Huffman>; 4] = Default::default();
    let mut pos = 2;
    loop {
        let marker = markers::read(frame, pos).ok()??;
        pos = marker.next;
        let payload = marker.payload;
        match marker.code {
            0xC3 if header.is_none() => header = Some(FrameHeader::parse(payload)?),
            0xC4 => read_tables(payload, &mut tables)?,
            // A restart interval of 0 is none.
            0xDD if payload == [0, 0] => {}
            0xDA => {
                let header = header?;
                let scan = Scan::parse(payload, &header, &tables)?;
                return scan.decode(&frame[pos..], &header, words);
            }
            // Another frame type, a restart interval, DNL, SOI again, EOI: not the fast path's.
            0xC0..=0xCF | 0xDC | 0xDD | 0xD8 | 0xD9 => return None,
            _ => {}
        }
    }
}

/// The SOF3 segment's fields (B.2.2).
#[derive(Clone, Copy)]
struct FrameHeader {
    precision: u32,
    width: usize,
    height: usize,
    components: usize,
    /// The component identifiers, in frame order.
    ids: [u8; 4],
}

impl FrameHeader {
    fn parse(payload: &[u8]) -> Option<FrameHeader> {
        let (&[precision, h1, h0, w1, w0, count], rest) = payload.split_first_chunk::<6>()?;
        let components = usize::from(count);
        // Four components at most (what the fast path keeps per pixel), each unsubsampled;
        // a height of 0 would come in a DNL marker.
        if !(1..=4).contains(&components) || rest.len() != 3 * components {
            return None;
        }
        let mut ids = [0; 4];
        for (id, spec) in ids.iter_mut().zip(rest.chunks_exact(3)) {
            if spec[1] != 0x11 {
                return None;
            }
            *id = spec[0];
        }
        let header = FrameHeader {
            precision: u32::from(precision),
            width: usize::from(u16::from_be_bytes([w1, w0])),
            height: usize::from(u16::from_be_bytes([h1, h0])),
            components,
            ids,
        };
        let valid = (2..=16).contains(&header.precision) && header.width > 0 && header.height > 0;
        valid.then_some(header)
    }
}

/// Reads the DC tables of a DHT segment (B.2.4.2) into `tables`; the lossless processes use
/// no others, so AC tables are skipped.
fn read_tables(mut payload: &[u8], tables: &mut [Option<Huffman>; 4]) -> Option<()> {
    while let Some((&class_id, rest)) = payload.split_first() {
        let (counts, rest) = rest.split_first_chunk::<16>()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let (symbols, rest) = rest.split_at_checked(total)?;
        // A table has at most 256 codes (libjpeg refuses more).
        if class_id >> 4 > 1 || class_id & 0x0F > 3 || total > 256 {
            return None;
        }
        if class_id >> 4 == 0 {
            // Categories go up to 16 (H.1.2.2).
            if symbols.iter().any(|&s| s > 16) {
                return None;
            }
            let table = Huffman::new(counts, symbols, Class::Difference)?;
            tables[usize::from(class_id & 0x0F)] = Some(table);
        }
        payload = rest;
    }
    Some(())
}

/// The SOS segment's fields (B.2.3) for the frame: which table each component uses, the
/// predictor (Ss) and the point transform (Al).
struct Scan<'t> {
    /// The tables of the frame's components, in frame order (the scan's order must be the
    /// frame's, as DICOM encoders write it).
    tables: [&'t Huffman; 4],
    predictor: u8,
    point_transform: u32,
}

impl<'t> Scan<'t> {
    fn parse(
        payload: &[u8],
        frame: &FrameHeader,
        tables: &'t [Option<Huffman>; 4],
    ) -> Option<Scan<'t>> {
        let (&count, rest) = payload.split_first()?;
        let count = usize::from(count);
        if count != frame.components || rest.len() != 2 * count + 3 {
            return None;
        }
        let (specs, tail) = rest.split_at(2 * count);
        let [ss, se, ahal] = *tail else { return None };
        let mut chosen = [None; 4];
        for (c, spec) in specs.chunks_exact(2).enumerate() {
            if spec[0] != frame.ids[c] {
                return None;
            }
            chosen[c] = tables.get(usize::from(spec[1] >> 4))?.as_ref();
        }
        let first = chosen[0]?;
        let point_transform = u32::from(ahal & 0x0F);
        let valid =
            (1..=7).contains(&ss) && se == 0 && ahal >> 4 == 0 && point_transform < frame.precision;
        valid
            .then_some(Scan {
                tables: chosen.map(|t| t.unwrap_or(first)),
                predictor: ss,
                point_transform,
            })
            .filter(|_| chosen[..count].iter().all(Option::is_some))
    }

    /// Decodes the entropy-coded `data` (up to the marker after it) into the frame's words.
    fn decode(&self, data: &[u8], frame: &FrameHeader, words: usize) -> Option<Vec<u8>> {
        match self.predictor {
            1 => self.rows::<1>(data, frame, words),
            2 => self.rows::<2>(data, frame, words),
            3 => self.rows::<3>(data, frame, words),
            4 => self.rows::<4>(data, frame, words),
            5 => self.rows::<5>(data, frame, words),
            6 => self.rows::<6>(data, frame, words),
            _ => self.rows::<7>(data, frame, words),
        }
    }

    /// The decoding loop for predictor `P` (H.1.2.1): the first row predicts from the
    /// left (its first sample from 2^(P - Pt - 1)), the first column from above, everything
    /// else by `P`.
    fn rows<const P: u8>(&self, data: &[u8], frame: &FrameHeader, words: usize) -> Option<Vec<u8>> {
        let (width, nc) = (frame.width, frame.components);
        let line = width * nc;
        let mut out = Vec::with_capacity(line * frame.height * words);
        let mut bits = Bits::new(data);
        let mut above = vec![0u16; line];
        let mut current = vec![0u16; line];
        let initial = 1i32 << (frame.precision - self.point_transform - 1);
        // Samples are kept modulo 2^P (see the module's doc).
        let mask = (1i32 << frame.precision) - 1;
        let add = |predicted: i32, difference: i32| ((predicted + difference) & mask) as u16;
        for y in 0..frame.height {
            for c in 0..nc {
                let table = self.tables[c];
                let predicted = if y == 0 { initial } else { i32::from(above[c]) };
                current[c] = add(predicted, difference(&mut bits, table)?);
            }
            let mut c = 0;
            for i in nc..line {
                let ra = i32::from(current[i - nc]);
                let predicted = if y == 0 {
                    ra
                } else {
                    let (rb, rc) = (i32::from(above[i]), i32::from(above[i - nc]));
                    match P {
                        1 => ra,
                        2 => rb,
                        3 => rc,
                        4 => ra + rb - rc,
                        5 => ra + ((rb - rc) >> 1),
                        6 => rb + ((ra - rc) >> 1),
                        _ => (ra + rb) >> 1,
                    }
                };
                current[i] = add(predicted, difference(&mut bits, self.tables[c])?);
                c = if c + 1 == nc { 0 } else { c + 1 };
            }
            if bits.overran() {
                return None;
            }
            let shift = self.point_transform;
            if words == 1 {
                out.extend(current.iter().map(|&s| (s << shift) as u8));
            } else {
                for &s in &current {
                    out.extend_from_slice(&(s << shift).to_le_bytes());
                }
            }
            std::mem::swap(&mut above, &mut current);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn image(width: usize, height: usize, nc: usize, precision: u8, seed: u64) -> Vec<u16> {
        // Smooth with noise, like a real image, so every category appears.
        let max = (1u32 << precision) - 1;
        let mut state = seed | 1;
        (0..width * height * nc)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let (x, y) = ((i / nc) % width, (i / nc) / width);
                let smooth = (x * 37 + y * 11) as u32 * max / (width * 37 + height * 11) as u32;
                let noise = (state % 64) as u32;
                (smooth + noise).min(max) as u16
            })
            .collect()
    }

    fn reference(stream: &[u8], words: usize) -> Vec<u8> {
        let decoded = libjpeg_turbo_rs::precision::decompress_lossless_arbitrary(stream).unwrap();
        if words == 1 {
            decoded.data.iter().map(|&s| s as u8).collect()
        } else {
            decoded.data.iter().flat_map(|&s| s.to_le_bytes()).collect()
        }
    }

    proptest! {
        /// Every predictor, point transform, precision and component count: the fast path
        /// gives the crate's samples, and the original's above the point transform.
        #[test]
        fn agrees_with_libjpeg_turbo_rs(
            width in 1usize..40,
            height in 1usize..12,
            nc in prop_oneof![Just(1usize), Just(3)],
            precision in 2u8..=16,
            predictor in 1u8..=7,
            pt_seed in 0u8..16,
            seed in any::<u64>(),
        ) {
            let point_transform = pt_seed % precision;
            let pixels = image(width, height, nc, precision, seed);
            let stream = libjpeg_turbo_rs::precision::compress_lossless_arbitrary(
                &pixels, width, height, nc, precision, predictor, point_transform,
            ).unwrap();
            let words = if precision > 8 { 2 } else { 1 };
            let ours = decode(&stream, words).expect("the fast path takes the stream");
            prop_assert_eq!(&ours, &reference(&stream, words));
            let mask = u16::MAX << point_transform;
            let expected: Vec<u8> = if words == 1 {
                pixels.iter().map(|&s| (s & mask) as u8).collect()
            } else {
                pixels.iter().flat_map(|&s| (s & mask).to_le_bytes()).collect()
            };
            prop_assert_eq!(ours, expected);
        }

        /// A stream whose samples leave its declared precision (a 16-bit stream relabelled
        /// as fewer bits): where the crate decodes it, the fast path gives the same samples.
        #[test]
        fn out_of_range_samples_as_the_crate_keeps_them(
            precision in 2u8..16,
            predictor in 1u8..=7,
            seed in any::<u64>(),
        ) {
            let pixels = image(12, 6, 1, 16, seed);
            let mut stream = libjpeg_turbo_rs::precision::compress_lossless_arbitrary(
                &pixels, 12, 6, 1, 16, predictor, 0,
            ).unwrap();
            let sof = stream.windows(2).position(|w| w == [0xFF, 0xC3]).unwrap();
            stream[sof + 4] = precision;
            if let Ok(theirs) = libjpeg_turbo_rs::precision::decompress_lossless_arbitrary(&stream) {
                let theirs: Vec<u8> =
                    theirs.data.iter().flat_map(|&s| s.to_le_bytes()).collect();
                prop_assert_eq!(decode(&stream, 2), Some(theirs));
            }
        }

        /// Any damage gives samples or `None`, never a panic.
        #[test]
        fn damaged_streams_never_panic(
            seed in any::<u64>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let pixels = image(16, 8, 3, 12, seed);
            let mut stream = libjpeg_turbo_rs::precision::compress_lossless_arbitrary(
                &pixels, 16, 8, 3, 12, 1 + (seed % 7) as u8, 0,
            ).unwrap();
            for (at, byte) in edits {
                let i = at.index(stream.len());
                stream[i] = byte;
            }
            stream.truncate(cut.index(stream.len()) + 1);
            let _ = decode(&stream, 2);
        }
    }

    #[test]
    fn out_of_range_samples_are_reached() {
        // The property above compares something: the crate decodes such a stream, and a
        // sample leaves the 12 bits the stream declares.
        let pixels = image(12, 6, 1, 16, 3);
        let mut stream =
            libjpeg_turbo_rs::precision::compress_lossless_arbitrary(&pixels, 12, 6, 1, 16, 1, 0)
                .unwrap();
        let sof = stream.windows(2).position(|w| w == [0xFF, 0xC3]).unwrap();
        stream[sof + 4] = 12;
        let theirs = libjpeg_turbo_rs::precision::decompress_lossless_arbitrary(&stream).unwrap();
        assert!(pixels.iter().any(|&p| p > 4095));
        let ours = decode(&stream, 2).unwrap();
        assert_eq!(ours, reference(&stream, 2));
        assert!(theirs.data.iter().zip(&pixels).any(|(a, b)| a != b));
    }

    #[test]
    fn leaves_restart_intervals_and_subsampling_to_the_crate() {
        let pixels = image(16, 8, 1, 12, 7);
        let mut stream =
            libjpeg_turbo_rs::precision::compress_lossless_arbitrary(&pixels, 16, 8, 1, 12, 1, 0)
                .unwrap();
        assert!(decode(&stream, 2).is_some());
        // DRI with an interval of 4, inserted after SOI.
        let mut with_restarts = stream[..2].to_vec();
        with_restarts.extend_from_slice(&[0xFF, 0xDD, 0, 4, 0, 4]);
        with_restarts.extend_from_slice(&stream[2..]);
        assert!(decode(&with_restarts, 2).is_none());
        // A sampling factor of 2 in SOF3.
        let sof = stream.windows(2).position(|w| w == [0xFF, 0xC3]).unwrap();
        stream[sof + 11] = 0x21;
        assert!(decode(&stream, 2).is_none());
    }
}
