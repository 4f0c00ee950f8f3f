//! A fast path for the lossy JPEG frames DICOM holds (ISO 10918-1 Annex F: the sequential
//! DCT processes, Huffman coded, SOF0 baseline and SOF1 extended, 8 and 12 bits), written
//! from the standard, with libjpeg's inverse DCT ([`idct`]), upsampling and colour
//! conversion ([`colour`](mod@colour)) so its samples are libjpeg's and dcmdjpeg's bit for bit.
//!
//! It takes the shapes DICOM encoders write: one scan holding every component, grey or
//! three components at 4:4:4 or 4:2:2 (a component half as wide as the widest), with or
//! without restart intervals. It decodes one row of MCUs at a time straight into the frame,
//! where libjpeg-turbo-rs without its vector kernels decodes every component into a plane, then
//! upsamples and converts the planes; on the decode benchmark's 4:2:2 colour that made it
//! only level with dcmdjpeg.
//!
//! Anything else, and any stream it cannot decode whole (a code no table holds, data that
//! ends early, a restart marker out of turn, a second scan), gives `None`, and the caller
//! hands the frame to libjpeg-turbo-rs, so the fast path never refuses a frame the crate
//! would decode. So do frames libjpeg refuses (more than 10 blocks in an MCU, a side over
//! 65,500): what to make of those is left to the crate.

use super::colour;
use super::huffman::{difference, extend, Bits, Class, Huffman, END_OF_BLOCK, LOOKUP};
use super::idct::{self, Sample};
use crate::markers;

/// Where the coefficient at zig-zag position k goes in the block (row-major), with 16
/// entries past the end that libjpeg adds so that a run past the block lands on the last
/// coefficient instead of outside (jutils.c).
const NATURAL: [usize; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63,
];

/// A component of the frame header (B.2.2).
#[derive(Clone, Copy, Default)]
struct Component {
    id: u8,
    /// Horizontal and vertical sampling factors.
    h: usize,
    v: usize,
    /// The quantization table it uses.
    quant: usize,
}

/// The SOF0/SOF1 segment's fields.
struct FrameHeader {
    precision: u8,
    width: usize,
    height: usize,
    count: usize,
    components: [Component; 3],
}

impl FrameHeader {
    fn parse(payload: &[u8]) -> Option<FrameHeader> {
        let (&[precision, h1, h0, w1, w0, count], rest) = payload.split_first_chunk::<6>()?;
        let count = usize::from(count);
        // Grey or three components; a height of 0 would come in a DNL marker.
        if !matches!(count, 1 | 3) || rest.len() != 3 * count || !matches!(precision, 8 | 12) {
            return None;
        }
        let mut components = [Component::default(); 3];
        for (c, spec) in components.iter_mut().zip(rest.chunks_exact(3)) {
            *c = Component {
                id: spec[0],
                h: usize::from(spec[1] >> 4),
                v: usize::from(spec[1] & 0x0F),
                quant: usize::from(spec[2]),
            };
            if !(1..=4).contains(&c.h) || !(1..=4).contains(&c.v) || c.quant > 3 {
                return None;
            }
        }
        let header = FrameHeader {
            precision,
            width: usize::from(u16::from_be_bytes([w1, w0])),
            height: usize::from(u16::from_be_bytes([h1, h0])),
            count,
            components,
        };
        // libjpeg's JPEG_MAX_DIMENSION.
        let sides = 1..=65_500;
        (sides.contains(&header.width) && sides.contains(&header.height)).then_some(header)
    }
}

/// The tables defined before the scan.
#[derive(Default)]
struct Tables {
    /// Quantization tables in natural order (B.2.4.1).
    quant: [Option<[i32; 64]>; 4],
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
}

impl Tables {
    fn read_quant(&mut self, mut payload: &[u8]) -> Option<()> {
        while let Some((&pq_tq, rest)) = payload.split_first() {
            let (precision, id) = (pq_tq >> 4, usize::from(pq_tq & 0x0F));
            let size = if precision == 0 { 1 } else { 2 };
            let (values, rest) = rest.split_at_checked(64 * size)?;
            if precision > 1 || id > 3 {
                return None;
            }
            let mut table = [0; 64];
            for (k, value) in values.chunks_exact(size).enumerate() {
                let value = if size == 1 {
                    value[0].into()
                } else {
                    u16::from_be_bytes([value[0], value[1]])
                };
                table[NATURAL[k]] = i32::from(value);
            }
            self.quant[id] = Some(table);
            payload = rest;
        }
        Some(())
    }

    fn read_huffman(&mut self, mut payload: &[u8]) -> Option<()> {
        while let Some((&class_id, rest)) = payload.split_first() {
            let (counts, rest) = rest.split_first_chunk::<16>()?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let (symbols, rest) = rest.split_at_checked(total)?;
            let (class, id) = (class_id >> 4, usize::from(class_id & 0x0F));
            // A table has at most 256 codes (libjpeg refuses more); a DC category is at
            // most 15 (F.1.2.1.1).
            if class > 1 || id > 3 || total > 256 {
                return None;
            }
            if class == 0 {
                if symbols.iter().any(|&s| s > 15) {
                    return None;
                }
                self.dc[id] = Some(Huffman::new(counts, symbols, Class::Difference)?);
            } else {
                self.ac[id] = Some(Huffman::new(counts, symbols, Class::Ac)?);
            }
            payload = rest;
        }
        Some(())
    }
}

/// Decodes `frame` (from its SOI) into interleaved samples: one byte each for 8-bit frames,
/// two (little endian) for 12-bit ones. Three components that `to_rgb` says are YCbCr are
/// converted to RGB, others kept as coded. `None` leaves the frame to libjpeg-turbo-rs.
pub(super) fn decode(frame: &[u8], to_rgb: bool) -> Option<Vec<u8>> {
    let mut header: Option<FrameHeader> = None;
    let mut tables = Tables::default();
    let mut restart_interval = 0;
    let mut pos = 2;
    loop {
        let marker = markers::read(frame, pos).ok()??;
        pos = marker.next;
        let payload = marker.payload;
        match marker.code {
            0xC0 | 0xC1 if header.is_none() => header = Some(FrameHeader::parse(payload)?),
            0xDB => tables.read_quant(payload)?,
            0xC4 => tables.read_huffman(payload)?,
            0xDD => {
                let &[high, low] = payload else { return None };
                restart_interval = usize::from(u16::from_be_bytes([high, low]));
            }
            0xDA => {
                let header = header?;
                let mut scan = Scan::parse(payload, &header, &tables)?;
                scan.restart_interval = restart_interval;
                // libjpeg fails a single-scan frame with a second scan (JERR_EOI_EXPECTED).
                // In entropy-coded data an FF is followed by 00 or RSTn, so FF DA is a marker.
                if frame[pos..].windows(2).any(|w| w == [0xFF, 0xDA]) {
                    return None;
                }
                return match header.precision {
                    8 => scan.decode::<u8>(&frame[pos..], &header, to_rgb),
                    // decode_12bit refuses 12-bit colour before it calls this.
                    _ if header.count == 1 => scan.decode::<u16>(&frame[pos..], &header, false),
                    _ => None,
                };
            }
            // Another frame type, DNL, SOI again, EOI.
            0xC0..=0xCF | 0xDC | 0xD8 | 0xD9 => return None,
            _ => {}
        }
    }
}

/// One component of the scan, in scan order: where its blocks go and how they decode.
struct ScanComponent<'t> {
    /// Its index in the frame header.
    index: usize,
    /// Blocks per MCU, across and down.
    h: usize,
    v: usize,
    quant: &'t [i32; 64],
    dc: &'t Huffman,
    ac: &'t Huffman,
}

/// The SOS segment of a scan holding every component of the frame (B.2.3).
struct Scan<'t> {
    components: Vec<ScanComponent<'t>>,
    /// MCUs between restart markers (B.2.4.4); 0 for none.
    restart_interval: usize,
}

impl<'t> Scan<'t> {
    fn parse(payload: &[u8], frame: &FrameHeader, tables: &'t Tables) -> Option<Scan<'t>> {
        let (&count, rest) = payload.split_first()?;
        let count = usize::from(count);
        if count != frame.count || rest.len() != 2 * count + 3 {
            return None;
        }
        let (specs, tail) = rest.split_at(2 * count);
        // Sequential: the whole spectrum, no successive approximation.
        if tail != [0, 63, 0] {
            return None;
        }
        let in_frame = &frame.components[..count];
        let h_max = in_frame.iter().map(|c| c.h).max()?;
        let v_max = in_frame.iter().map(|c| c.v).max()?;
        // At most 10 blocks in an interleaved MCU, as the standard says and libjpeg checks
        // (D_MAX_BLOCKS_IN_MCU).
        if count > 1 && in_frame.iter().map(|c| c.h * c.v).sum::<usize>() > 10 {
            return None;
        }
        let mut components = Vec::with_capacity(count);
        for spec in specs.chunks_exact(2) {
            let index = in_frame.iter().position(|c| c.id == spec[0])?;
            if components.iter().any(|c: &ScanComponent| c.index == index) {
                return None;
            }
            let c = frame.components[index];
            // A single component's scan is not interleaved: one block per MCU (A.2.2).
            let (h, v) = if count == 1 { (1, 1) } else { (c.h, c.v) };
            // Full size, or half as wide as the widest (libjpeg's h2v1 upsampling).
            if count > 1 && (c.v != v_max || (c.h != h_max && 2 * c.h != h_max)) {
                return None;
            }
            components.push(ScanComponent {
                index,
                h,
                v,
                quant: tables.quant[c.quant].as_ref()?,
                dc: tables.dc.get(usize::from(spec[1] >> 4))?.as_ref()?,
                ac: tables.ac.get(usize::from(spec[1] & 0x0F))?.as_ref()?,
            });
        }
        Some(Scan {
            components,
            restart_interval: 0,
        })
    }

    /// Decodes the entropy-coded `data` (up to the marker after it), one row of MCUs at a
    /// time: into one strip of samples per component, then upsampled, converted and
    /// interleaved into the frame.
    fn decode<S: Output>(&self, data: &[u8], frame: &FrameHeader, to_rgb: bool) -> Option<Vec<u8>> {
        let h_max = self.components.iter().map(|c| c.h).max()?;
        let v_max = self.components.iter().map(|c| c.v).max()?;
        let (width, height) = (frame.width, frame.height);
        let (mcu_width, mcu_height) = (8 * h_max, 8 * v_max);
        let mcus_across = width.div_ceil(mcu_width);
        // Each component's strip, in frame order: one row of MCUs, and its width in samples
        // as libjpeg counts it (`downsampled_width`).
        let mut strips: Vec<Vec<S>> = vec![Vec::new(); frame.count];
        let mut widths = vec![0; frame.count];
        let mut strides = vec![0; frame.count];
        for c in &self.components {
            strides[c.index] = mcus_across * c.h * 8;
            strips[c.index] = vec![S::default(); strides[c.index] * mcu_height];
            widths[c.index] = (width * c.h).div_ceil(h_max);
            // libjpeg doubles a row of one or two samples without the filter.
            if c.h != h_max && widths[c.index] <= 2 {
                return None;
            }
        }
        let samples = frame.count;
        let line = width * samples * S::BYTES;
        let mut out = vec![0u8; line * height];
        let mut rows = Rows::new(width, strides, &widths);
        let mut bits = Bits::new(data);
        let mut predictions = [0i32; 3];
        let mut coefficients = [0i32; 64];
        // MCUs left in this restart interval, and the next RSTn's n.
        let (mut left, mut next_marker) = (self.restart_interval, 0u8);
        for band in out.chunks_mut(line * mcu_height) {
            for mcu in 0..mcus_across {
                if self.restart_interval > 0 {
                    if left == 0 {
                        // F.2.1.3.1 and F.2.2.4: the predictions start again after RSTn.
                        if bits.overran() || bits.restart()? != 0xD0 + next_marker {
                            return None;
                        }
                        next_marker = (next_marker + 1) % 8;
                        predictions = [0; 3];
                        left = self.restart_interval;
                    }
                    left -= 1;
                }
                for (c, prediction) in self.components.iter().zip(&mut predictions) {
                    let stride = mcus_across * c.h * 8;
                    let strip = &mut strips[c.index];
                    for by in 0..c.v {
                        for bx in 0..c.h {
                            let at = by * 8 * stride + (mcu * c.h + bx) * 8;
                            let ac = c.block(&mut bits, prediction, &mut coefficients)?;
                            if ac {
                                idct::block(&coefficients, &mut strip[at..], stride);
                                coefficients = [0; 64];
                            } else {
                                idct::dc_only(coefficients[0], &mut strip[at..], stride);
                            }
                        }
                    }
                }
            }
            if bits.overran() {
                return None;
            }
            for (r, row) in band.chunks_exact_mut(line).enumerate() {
                rows.emit(&strips, r, row, to_rgb)?;
            }
        }
        Some(out)
    }
}

impl ScanComponent<'_> {
    /// Decodes one block's coefficients (F.2.2), dequantized, into `coefficients` (all
    /// zero on entry); whether any AC coefficient was coded. With only a DC, just
    /// `coefficients[0]` is written and the caller clears nothing.
    #[inline(always)]
    fn block(
        &self,
        bits: &mut Bits<'_>,
        prediction: &mut i32,
        coefficients: &mut [i32; 64],
    ) -> Option<bool> {
        // libjpeg keeps the prediction in an int and the coefficient in a 16-bit JCOEF.
        *prediction = prediction.wrapping_add(difference(bits, self.dc)?);
        coefficients[0] = i32::from(*prediction as i16) * self.quant[0];
        let mut k = 1;
        let mut ac = false;
        while k < 64 {
            let peek = bits.peek32();
            let entry = self.ac.whole[(peek >> (32 - LOOKUP)) as usize];
            let (run, value) = if entry != 0 {
                bits.skip((entry & 0xFF) as u32);
                let run = (entry >> 8) & 0xFF;
                if run == END_OF_BLOCK {
                    break;
                }
                (run as usize, entry >> 16)
            } else {
                let symbol = self.ac.decode(bits)?;
                let (run, size) = (symbol >> 4, symbol & 0x0F);
                match size {
                    0 if run != 15 => break,
                    0 => (15, 0),
                    s => (run as usize, extend(bits.take(s), s)),
                }
            };
            k += run;
            let at = NATURAL[k];
            coefficients[at] = value * self.quant[at];
            ac = true;
            k += 1;
        }
        Some(ac)
    }
}

/// How decoded samples are stored in the frame.
trait Output: Sample {
    /// Bytes per sample.
    const BYTES: usize;
    /// Writes `samples` into `out`, `BYTES` each, little endian.
    fn store(samples: &[Self], out: &mut [u8]);
    /// The samples as bytes, for colour, which only 8-bit frames take here.
    fn bytes(samples: &[Self]) -> Option<&[u8]>;
}

impl Output for u8 {
    const BYTES: usize = 1;
    fn store(samples: &[u8], out: &mut [u8]) {
        out.copy_from_slice(samples);
    }
    fn bytes(samples: &[u8]) -> Option<&[u8]> {
        Some(samples)
    }
}

impl Output for u16 {
    const BYTES: usize = 2;
    fn store(samples: &[u16], out: &mut [u8]) {
        for (word, &s) in out.chunks_exact_mut(2).zip(samples) {
            word.copy_from_slice(&s.to_le_bytes());
        }
    }
    fn bytes(_: &[u16]) -> Option<&[u8]> {
        None
    }
}

/// Turns rows of the components' strips into rows of the frame.
struct Rows {
    width: usize,
    /// Each component's strip width.
    strides: Vec<usize>,
    /// Each component's width in samples where it is upsampled.
    half: Vec<Option<usize>>,
    /// Each upsampled component's row.
    upsampled: Vec<Vec<u8>>,
}

impl Rows {
    fn new(width: usize, strides: Vec<usize>, widths: &[usize]) -> Rows {
        let half: Vec<_> = widths.iter().map(|&w| (w < width).then_some(w)).collect();
        let upsampled = half.iter().map(|w| vec![0; 2 * w.unwrap_or(0)]).collect();
        Rows {
            width,
            strides,
            half,
            upsampled,
        }
    }

    /// Writes row `r` of the strips into `out`, a row of the frame.
    fn emit<S: Output>(
        &mut self,
        strips: &[Vec<S>],
        r: usize,
        out: &mut [u8],
        to_rgb: bool,
    ) -> Option<()> {
        let width = self.width;
        let row = |c: usize| &strips[c][r * self.strides[c]..][..self.strides[c]];
        if strips.len() == 1 {
            S::store(&row(0)[..width], out);
            return Some(());
        }
        for (c, half) in self.half.iter().enumerate() {
            if let Some(w) = *half {
                colour::upsample_h2v1(&S::bytes(row(c))?[..w], &mut self.upsampled[c]);
            }
        }
        let mut planes = [&[][..]; 3];
        for (c, plane) in planes.iter_mut().enumerate() {
            *plane = match self.half[c] {
                Some(_) => &self.upsampled[c][..width],
                None => &S::bytes(row(c))?[..width],
            };
        }
        let [a, b, c] = planes;
        if to_rgb {
            colour::ycbcr_to_rgb(a, b, c, out);
        } else {
            colour::interleave(a, b, c, out);
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libjpeg_turbo_rs::{ColorSpace, DctMethod, PixelFormat, Subsampling};
    use proptest::prelude::*;

    /// Smooth with noise, like a real image, so coefficients of every size appear.
    fn image(width: usize, height: usize, nc: usize, max: u32, seed: u64) -> Vec<u32> {
        let mut state = seed | 1;
        (0..width * height * nc)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let (x, y, c) = ((i / nc) % width, (i / nc) / width, i % nc);
                let smooth = ((x * (37 + c) + y * 11) as u32 * max)
                    / ((width * 37 + height * 11) as u32 + 1);
                let noise = (state % u64::from(max / 4 + 1)) as u32;
                (smooth + noise).min(max)
            })
            .collect()
    }

    fn encode(
        width: usize,
        height: usize,
        nc: usize,
        quality: u8,
        sub: Subsampling,
        seed: u64,
    ) -> Vec<u8> {
        let pixels: Vec<u8> = image(width, height, nc, 255, seed)
            .iter()
            .map(|&s| s as u8)
            .collect();
        let format = if nc == 1 {
            PixelFormat::Grayscale
        } else {
            PixelFormat::Rgb
        };
        libjpeg_turbo_rs::compress(&pixels, width, height, format, quality, sub).unwrap()
    }

    /// What libjpeg-turbo-rs decodes, as the crate's own path asks it to.
    fn reference(stream: &[u8], to_rgb: bool) -> Vec<u8> {
        let mut decoder = libjpeg_turbo_rs::Decoder::new(stream).unwrap();
        decoder.set_dct_method(DctMethod::IsLow);
        if !to_rgb && decoder.jpeg_color_space() == ColorSpace::YCbCr {
            decoder.set_output_colorspace(ColorSpace::YCbCr);
        }
        decoder.decode_image().unwrap().data
    }

    fn subsampling() -> impl Strategy<Value = (usize, Subsampling)> {
        prop_oneof![
            Just((1, Subsampling::S444)),
            Just((3, Subsampling::S444)),
            Just((3, Subsampling::S422)),
        ]
    }

    proptest! {
        /// 8-bit grey, and colour at 4:4:4 and 4:2:2, converted to RGB or not: the fast
        /// path gives libjpeg-turbo-rs's samples exactly.
        #[test]
        fn agrees_with_libjpeg_turbo_rs(
            // libjpeg doubles a row of two samples or fewer without the filter: the
            // fast path leaves those to the crate.
            width in 5usize..70,
            height in 1usize..40,
            (nc, sub) in subsampling(),
            quality in 1u8..=100,
            to_rgb in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let stream = encode(width, height, nc, quality, sub, seed);
            let ours = decode(&stream, to_rgb).expect("the fast path takes the stream");
            prop_assert_eq!(ours, reference(&stream, to_rgb));
        }

        /// Restart intervals of any length, with the markers where they belong: the same.
        #[test]
        fn agrees_with_libjpeg_turbo_rs_across_restart_markers(
            width in 5usize..70,
            height in 1usize..40,
            (nc, sub) in subsampling(),
            interval in 1u16..12,
            seed in any::<u64>(),
        ) {
            let pixels: Vec<u8> =
                image(width, height, nc, 255, seed).iter().map(|&s| s as u8).collect();
            let format = if nc == 1 { PixelFormat::Grayscale } else { PixelFormat::Rgb };
            let stream = libjpeg_turbo_rs::Encoder::new(&pixels, width, height, format)
                .quality(85)
                .subsampling(sub)
                .restart_blocks(interval)
                .encode()
                .unwrap();
            prop_assert!(stream.windows(2).any(|w| w == [0xFF, 0xDD]));
            let ours = decode(&stream, true).expect("the fast path takes the stream");
            prop_assert_eq!(ours, reference(&stream, true));
        }

        /// 12-bit grey (the extended process): the same.
        #[test]
        fn agrees_with_libjpeg_turbo_rs_at_12_bits(
            width in 1usize..50,
            height in 1usize..30,
            quality in 1u8..=100,
            seed in any::<u64>(),
        ) {
            let pixels: Vec<i16> =
                image(width, height, 1, 4095, seed).iter().map(|&s| s as i16).collect();
            let stream = libjpeg_turbo_rs::compress_12bit(
                &pixels, width, height, 1, quality, Subsampling::S444,
            ).unwrap();
            let theirs = libjpeg_turbo_rs::decompress_12bit(&stream).unwrap();
            let theirs: Vec<u8> =
                theirs.data.iter().flat_map(|&s| (s as u16).to_le_bytes()).collect();
            prop_assert_eq!(decode(&stream, false), Some(theirs));
        }

        /// Any damage gives samples or `None`, never a panic.
        #[test]
        fn damaged_streams_never_panic(
            seed in any::<u64>(),
            (nc, sub) in subsampling(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut stream = encode(24, 16, nc, 90, sub, seed);
            for (at, byte) in edits {
                let i = at.index(stream.len());
                stream[i] = byte;
            }
            stream.truncate(cut.index(stream.len()) + 1);
            let _ = decode(&stream, seed % 2 == 0);
        }

        /// The same for 12-bit streams, whose IDCT runs in other integers.
        #[test]
        fn damaged_12_bit_streams_never_panic(
            seed in any::<u64>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let pixels: Vec<i16> =
                image(24, 16, 1, 4095, seed).iter().map(|&s| s as i16).collect();
            let mut stream =
                libjpeg_turbo_rs::compress_12bit(&pixels, 24, 16, 1, 90, Subsampling::S444)
                    .unwrap();
            for (at, byte) in edits {
                let i = at.index(stream.len());
                stream[i] = byte;
            }
            stream.truncate(cut.index(stream.len()) + 1);
            let _ = decode(&stream, false);
        }
    }

    #[test]
    fn leaves_other_shapes_to_the_crate() {
        let stream = encode(32, 16, 3, 90, Subsampling::S422, 5);
        assert!(decode(&stream, true).is_some());
        // Chroma two samples wide, 4:2:0, 4:1:1 and progressive frames.
        assert!(decode(&encode(4, 8, 3, 90, Subsampling::S422, 5), true).is_none());
        for sub in [Subsampling::S420, Subsampling::S411] {
            assert!(decode(&encode(32, 16, 3, 90, sub, 5), true).is_none());
        }
        let pixels = vec![100u8; 32 * 16 * 3];
        let progressive = libjpeg_turbo_rs::compress_progressive(
            &pixels,
            32,
            16,
            PixelFormat::Rgb,
            90,
            Subsampling::S444,
        )
        .unwrap();
        assert!(decode(&progressive, true).is_none());
        // A restart interval the data does not follow: DRI inserted after SOI.
        let mut with_restarts = stream[..2].to_vec();
        with_restarts.extend_from_slice(&[0xFF, 0xDD, 0, 4, 0, 1]);
        with_restarts.extend_from_slice(&stream[2..]);
        assert!(decode(&with_restarts, true).is_none());
        // Data that ends early.
        assert!(decode(&stream[..stream.len() / 2], true).is_none());
        // A second scan after the first: libjpeg expects EOI there.
        let sos = stream.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut two_scans = stream[..stream.len() - 2].to_vec();
        two_scans.extend_from_slice(&stream[sos..]);
        assert!(decode(&two_scans, true).is_none());
    }

    /// A baseline stream whose every block is zero: one-bit codes for DC category 0 and for
    /// the end of the block, so each block is two zero bits. `sampling` holds each
    /// component's HV byte.
    fn zero_blocks(width: u16, height: u16, sampling: &[u8]) -> Vec<u8> {
        let nc = sampling.len();
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0];
        out.extend_from_slice(&[1; 64]);
        out.extend_from_slice(&[0xFF, 0xC0, 0, 8 + 3 * nc as u8, 8]);
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&width.to_be_bytes());
        out.push(nc as u8);
        for (id, &hv) in sampling.iter().enumerate() {
            out.extend_from_slice(&[id as u8 + 1, hv, 0]);
        }
        out.extend_from_slice(&[0xFF, 0xC4, 0, 38]);
        for class in [0x00, 0x10] {
            out.push(class);
            out.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);
        }
        out.extend_from_slice(&[0xFF, 0xDA, 0, 6 + 2 * nc as u8, nc as u8]);
        for id in 0..nc {
            out.extend_from_slice(&[id as u8 + 1, 0x00]);
        }
        out.extend_from_slice(&[0, 63, 0]);
        let (h, v) = (
            sampling.iter().map(|hv| hv >> 4),
            sampling.iter().map(|hv| hv & 15),
        );
        let (h_max, v_max) = if nc == 1 {
            (1, 1)
        } else {
            (h.max().unwrap(), v.max().unwrap())
        };
        let mcus = usize::from(width).div_ceil(8 * usize::from(h_max))
            * usize::from(height).div_ceil(8 * usize::from(v_max));
        let per_mcu: usize = if nc == 1 {
            1
        } else {
            sampling
                .iter()
                .map(|hv| usize::from((hv >> 4) * (hv & 15)))
                .sum()
        };
        let bits = 2 * mcus * per_mcu;
        out.resize(out.len() + bits / 8, 0);
        if !bits.is_multiple_of(8) {
            out.push((1 << (8 - bits % 8)) - 1);
        }
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    #[test]
    fn leaves_frames_libjpeg_refuses_to_the_crate() {
        // Eight blocks in an MCU decode; twelve are more than libjpeg's ten.
        let eight_blocks = decode(&zero_blocks(16, 16, &[0x22, 0x12, 0x12]), false);
        assert_eq!(eight_blocks, Some(vec![128; 16 * 16 * 3]));
        assert_eq!(
            decode(&zero_blocks(16, 16, &[0x22, 0x22, 0x22]), false),
            None
        );
        // A side of 65,500 samples decodes; 65,501 is over libjpeg's limit.
        assert_eq!(
            decode(&zero_blocks(65_500, 1, &[0x11]), false),
            Some(vec![128; 65_500])
        );
        assert_eq!(decode(&zero_blocks(1, 65_501, &[0x11]), false), None);
    }
}
