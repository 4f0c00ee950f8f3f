//! A JPEG-LS scan decoder, written from ITU-T T.87 | ISO/IEC 14495-1 (Annex A, the
//! decoding process; Annex C.2.4.1.1, the default coding parameters).
//!
//! It decodes any scan: one component (ILV 0), line-interleaved (ILV 1: each line of every
//! component in turn, all sharing the contexts, each component keeping its own run index)
//! and sample-interleaved (ILV 2: pixel by pixel; run mode only when every component of
//! the pixel is flat, a run counts whole pixels, and each component of the interrupting
//! pixel is coded as a run-interruption sample of type 0). Lossless and near-lossless,
//! 2 to 16 bits, default or LSE coding parameters. Restart markers and mapping tables are
//! refused before a scan gets here.
//!
//! Every value that could grow without bound on corrupt input is checked, so any bytes give
//! samples or an error, never a panic or an overflow.

use super::bits::BitReader;

/// Run lengths: a run-mode 1 bit stands for 2^J[RUNindex] samples (T.87 A.7.1.2).
const J: [u32; 32] = [
    0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13,
    14, 15,
];

/// The regular contexts (0..365) and the two run-interruption ones (365, 366).
const CONTEXTS: usize = 367;
const RUN_CONTEXT: usize = 365;
const MIN_C: i32 = -128;
const MAX_C: i32 = 127;
/// No valid stream needs a larger Golomb parameter: A[Q]/N[Q] is a mean error, below 2^17.
const MAX_K: u32 = 24;

/// The LSE preset coding parameters as coded (T.87 C.2.4.1.1); 0 means the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Preset {
    pub maxval: u16,
    pub t1: u16,
    pub t2: u16,
    pub t3: u16,
    pub reset: u16,
}

/// The coding parameters of one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Params {
    pub maxval: i32,
    pub near: i32,
    pub t1: i32,
    pub t2: i32,
    pub t3: i32,
    pub reset: i32,
}

impl Params {
    /// The parameters for samples of `precision` bits coded with `near`, the preset's
    /// non-zero values replacing the defaults (T.87 C.2.4.1.1.1).
    pub(super) fn new(precision: u8, near: u8, preset: Preset) -> Result<Params, String> {
        let full = (1i32 << precision) - 1;
        let maxval = match i32::from(preset.maxval) {
            0 => full,
            m if m <= full => m,
            m => return Err(format!("MAXVAL {m} exceeds {precision}-bit samples")),
        };
        let near = i32::from(near);
        if near > (maxval / 2).min(255) {
            return Err(format!("NEAR {near} for MAXVAL {maxval}"));
        }
        // CLAMP(i, j) of C.2.4.1.1.1.
        let clamp = |i: i32, j: i32| if i > maxval || i < j { j } else { i };
        let (basic1, basic2, basic3) = (3, 7, 21);
        let (t1, t2, t3) = if maxval >= 128 {
            let factor = (maxval.min(4095) + 128) / 256;
            let t1 = clamp(factor * (basic1 - 2) + 2 + 3 * near, near + 1);
            let t2 = clamp(factor * (basic2 - 3) + 3 + 5 * near, t1);
            (t1, t2, clamp(factor * (basic3 - 4) + 4 + 7 * near, t2))
        } else {
            let factor = 256 / (maxval + 1);
            let t1 = clamp((basic1 / factor + 3 * near).max(2), near + 1);
            let t2 = clamp((basic2 / factor + 5 * near).max(3), t1);
            (t1, t2, clamp((basic3 / factor + 7 * near).max(4), t2))
        };
        let given = |v: u16, default: i32| if v == 0 { default } else { i32::from(v) };
        let params = Params {
            maxval,
            near,
            t1: given(preset.t1, t1),
            t2: given(preset.t2, t2),
            t3: given(preset.t3, t3),
            reset: given(preset.reset, 64),
        };
        let Params { t1, t2, t3, .. } = params;
        if !(near < t1 && t1 <= t2 && t2 <= t3 && t3 <= maxval) {
            return Err(format!(
                "thresholds T1 {t1}, T2 {t2}, T3 {t3} for NEAR {near} and MAXVAL {maxval}"
            ));
        }
        if !(3..=maxval.max(255)).contains(&params.reset) {
            return Err(format!("RESET {} for MAXVAL {maxval}", params.reset));
        }
        Ok(params)
    }
}

/// Where a scan's samples go: the frame's interleaved sample buffer, and for each of the
/// scan's components its index within a pixel.
pub(super) struct Target<'o> {
    pub samples: &'o mut [u16],
    pub width: usize,
    pub height: usize,
    /// Samples per pixel in `samples`.
    pub stride: usize,
    /// The pixel slot of each scan component, in scan order.
    pub slots: &'o [usize],
}

/// Decodes the entropy-coded `data` of one scan into `target`. `interleave` is the scan's
/// ILV; a one-component scan is decoded as ILV 0 whatever it says.
pub(super) fn decode(
    data: &[u8],
    params: &Params,
    interleave: u8,
    target: Target<'_>,
) -> Result<(), String> {
    let Target {
        samples,
        width,
        height,
        stride,
        slots,
    } = target;
    let components = slots.len();
    if components == 0
        || width == 0
        || width
            .checked_mul(height)
            .and_then(|p| p.checked_mul(stride))
            != Some(samples.len())
        || slots.iter().any(|&s| s >= stride)
    {
        return Err("the scan does not fit the frame".into());
    }
    if components > 1 && !matches!(interleave, 1 | 2) {
        return Err(format!(
            "a scan of {components} components with interleave mode {interleave}"
        ));
    }
    let mut coder = Coder::new(data, params);
    // Each line with one sample of margin each side: index 0 is x = -1, width + 1 is x =
    // width. Before the first line the line above is all 0 (A.2.1).
    let mut previous = vec![vec![0i32; width + 2]; components];
    let mut current = vec![vec![0i32; width + 2]; components];
    let mut run_index = vec![0usize; components];
    let mut q = vec![0i32; components];
    for y in 0..height {
        for (above, line) in previous.iter_mut().zip(current.iter_mut()) {
            // The edges (A.2.1): Ra of the first sample is Rb, Rc the previous line's Ra
            // (kept at its index 0); Rd of the last sample is Rb.
            line[0] = above[1];
            above[width + 1] = above[width];
        }
        if components > 1 && interleave == 2 {
            coder.pixel_line(&previous, &mut current, &mut run_index[0], &mut q)
        } else {
            (0..components)
                .try_for_each(|c| coder.line(&previous[c], &mut current[c], &mut run_index[c]))
        }
        .map_err(|fault| format!("{fault} (line {y})"))?;
        if coder.bits.overran() {
            return Err(format!("the scan's data ends in line {y}"));
        }
        let row = &mut samples[y * width * stride..(y + 1) * width * stride];
        if stride == 1 && components == 1 {
            // One component: a straight copy, which the compiler vectorizes.
            for (sample, &value) in row.iter_mut().zip(&current[0][1..=width]) {
                *sample = value as u16;
            }
        } else {
            for (line, &slot) in current.iter().zip(slots) {
                for (pixel, &value) in row.chunks_exact_mut(stride).zip(&line[1..=width]) {
                    // 0 <= value <= MAXVAL < 2^16.
                    pixel[slot] = value as u16;
                }
            }
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Ok(())
}

/// One context's counters (A.2.2), kept together because a sample reads and updates all of
/// them.
#[derive(Clone, Copy)]
struct Context {
    /// A: the accumulated error magnitudes.
    a: i64,
    /// B: the accumulated errors (bias).
    b: i64,
    /// N: how many samples the context has seen, halved at RESET.
    n: i64,
    /// C: the bias correction.
    c: i32,
}

/// What stops a scan inside the coder; the caller adds where.
type Fault = &'static str;

/// The decoder's state: the bit reader, the parameters and what derives from them, and the
/// contexts (A.2.1, A.2.2).
struct Coder<'a> {
    bits: BitReader<'a>,
    maxval: i32,
    near: i32,
    reset: i64,
    range: i32,
    qbpp: u32,
    limit: u32,
    /// The gradient quantization of A.3.3 for every difference of two samples: entry
    /// `d + maxval` is Q(d). A table, because the comparisons cost a fifth of the decode.
    quantized: Vec<i8>,
    contexts: [Context; CONTEXTS],
    /// Nn of the two run-interruption contexts.
    nn: [i64; 2],
}

/// Q(d), the gradient quantization of A.3.3, by comparison with the scan's thresholds.
fn quantize(p: &Params, d: i32) -> i8 {
    let (near, t1, t2, t3) = (p.near, p.t1, p.t2, p.t3);
    if d <= -t3 {
        -4
    } else if d <= -t2 {
        -3
    } else if d <= -t1 {
        -2
    } else if d < -near {
        -1
    } else if d <= near {
        0
    } else if d < t1 {
        1
    } else if d < t2 {
        2
    } else if d < t3 {
        3
    } else {
        4
    }
}

/// Bits to hold values 0..=v (v >= 1): ceil(log2(v + 1)).
fn bit_length(v: i32) -> u32 {
    32 - v.leading_zeros()
}

impl<'a> Coder<'a> {
    fn new(data: &'a [u8], p: &Params) -> Self {
        let range = (p.maxval + 2 * p.near) / (2 * p.near + 1) + 1;
        let bpp = bit_length(p.maxval).max(2);
        let qbpp = bit_length(range - 1);
        let a0 = i64::from(((range + 32) / 64).max(2));
        let quantized = (-p.maxval..=p.maxval).map(|d| quantize(p, d)).collect();
        Coder {
            bits: BitReader::new(data),
            maxval: p.maxval,
            near: p.near,
            reset: i64::from(p.reset),
            range,
            qbpp,
            limit: 2 * (bpp + bpp.max(8)),
            quantized,
            contexts: [Context {
                a: a0,
                b: 0,
                n: 1,
                c: 0,
            }; CONTEXTS],
            nn: [0; 2],
        }
    }

    /// Q(d) of A.3.3 for `d`, the difference of two samples.
    #[inline]
    fn quantize(&self, d: i32) -> i32 {
        // Samples are in 0..=MAXVAL, so d + MAXVAL is in the table.
        i32::from(self.quantized[(d + self.maxval) as usize])
    }

    /// The signed context number 81 Q1 + 9 Q2 + Q3 of a sample (A.3): negative exactly when
    /// the first non-zero Qi is, 0 when the neighbourhood is flat (run mode).
    #[inline]
    fn context(&self, ra: i32, rb: i32, rc: i32, rd: i32) -> i32 {
        81 * self.quantize(rd - rb) + 9 * self.quantize(rb - rc) + self.quantize(rc - ra)
    }

    /// The Golomb parameter: the least k with N[Q] 2^k >= `a`.
    #[inline]
    fn k(n: i64, a: i64) -> Result<u32, Fault> {
        let mut k = 0;
        while n << k < a {
            k += 1;
            if k > MAX_K {
                return Err("a context's Golomb parameter is out of range");
            }
        }
        Ok(k)
    }

    /// A mapped error value, Golomb coded with parameter `k` and code length limit `limit`
    /// (A.5.3; the escape codes MErrval - 1 in qbpp bits).
    #[inline]
    fn golomb(&mut self, k: u32, limit: u32) -> Result<i64, Fault> {
        let escape = limit.saturating_sub(self.qbpp + 1);
        let zeros = self
            .bits
            .zeros(escape)
            .ok_or("a Golomb code longer than LIMIT")?;
        let value = if zeros < escape {
            (i64::from(zeros) << k) | i64::from(self.bits.bits(k))
        } else {
            i64::from(self.bits.bits(self.qbpp)) + 1
        };
        // A valid coder maps errors reduced modulo RANGE, so mapped values stay about RANGE
        // or below; past twice that the data is corrupt (the margin spares valid edge cases).
        if value > 2 * i64::from(self.range) + 2 {
            return Err("an error value beyond RANGE");
        }
        Ok(value)
    }

    /// The reconstructed sample from a prediction and a (signed, quantized) error: A.4.4
    /// and the modulo reduction of A.5.2 undone, clamped to 0..=MAXVAL.
    #[inline]
    fn reconstruct(&self, px: i32, error: i64) -> i32 {
        let step = i64::from(2 * self.near + 1);
        let mut rx = i64::from(px) + error * step;
        if rx < -i64::from(self.near) {
            rx += i64::from(self.range) * step;
        } else if rx > i64::from(self.maxval + self.near) {
            rx -= i64::from(self.range) * step;
        }
        rx.clamp(0, i64::from(self.maxval)) as i32
    }

    /// A sample in regular mode (A.4 to A.6) with signed context `q`.
    #[inline]
    fn regular(&mut self, q: i32, ra: i32, rb: i32, rc: i32) -> Result<i32, Fault> {
        let sign = if q < 0 { -1 } else { 1 };
        // Edge-detecting prediction (A.4.1), then the bias correction (A.4.2).
        let px = if rc >= ra.max(rb) {
            ra.min(rb)
        } else if rc <= ra.min(rb) {
            ra.max(rb)
        } else {
            ra + rb - rc
        };
        // |q| <= 364: a regular context.
        let mut cx = self.contexts[q.unsigned_abs() as usize];
        let px = (px + sign * cx.c).clamp(0, self.maxval);
        let k = Self::k(cx.n, cx.a)?;
        let mapped = self.golomb(k, self.limit)?;
        // The inverse of the error mapping (A.5.2); with NEAR 0, k 0 and a negative bias
        // the mapping is the other way round.
        let mut error = (mapped >> 1) ^ -(mapped & 1);
        if self.near == 0 && k == 0 && 2 * cx.b <= -cx.n {
            error = -error - 1;
        }
        // Context update (A.6.1) and bias computation (A.6.2).
        cx.b += error * i64::from(2 * self.near + 1);
        cx.a += error.abs();
        if cx.n == self.reset {
            cx.a >>= 1;
            cx.b >>= 1;
            cx.n >>= 1;
        }
        cx.n += 1;
        let n = cx.n;
        if cx.b <= -n {
            cx.b += n;
            if cx.c > MIN_C {
                cx.c -= 1;
            }
            if cx.b <= -n {
                cx.b = -n + 1;
            }
        } else if cx.b > 0 {
            cx.b -= n;
            if cx.c < MAX_C {
                cx.c += 1;
            }
            if cx.b > 0 {
                cx.b = 0;
            }
        }
        self.contexts[q.unsigned_abs() as usize] = cx;
        Ok(self.reconstruct(px, i64::from(sign) * error))
    }

    /// The length of a run starting with `remaining` samples (pixels) left in the line
    /// (A.7.1.2, decoder side), and whether it reaches the end of the line (no
    /// interruption sample follows).
    fn run(&mut self, run_index: &mut usize, remaining: usize) -> Result<(usize, bool), Fault> {
        let mut length = 0;
        loop {
            if self.bits.bit() {
                let block = 1usize << J[*run_index];
                let count = block.min(remaining - length);
                length += count;
                if count == block {
                    *run_index = (*run_index + 1).min(31);
                }
                if length == remaining {
                    return Ok((length, true));
                }
            } else {
                length += self.bits.bits(J[*run_index]) as usize;
                if length >= remaining {
                    return Err("a run goes past the end of the line");
                }
                return Ok((length, false));
            }
            if self.bits.overran() {
                return Err("the scan's data ends in a run");
            }
        }
    }

    /// The error of a run-interruption sample of type `ritype` (A.7.2), `run_index` being
    /// the run index of the run it ends.
    fn interruption(&mut self, ritype: usize, run_index: usize) -> Result<i64, Fault> {
        let mut cx = self.contexts[RUN_CONTEXT + ritype];
        let ri = ritype as i64;
        let temp = cx.a + if ritype == 1 { cx.n >> 1 } else { 0 };
        let k = Self::k(cx.n, temp)?;
        let mapped = self.golomb(k, self.limit - J[run_index] - 1)?;
        // EMErrval = 2 |Errval| - RItype - map.
        let t = mapped + ri;
        let map = t & 1;
        let magnitude = (t + map) >> 1;
        let flipped = k == 0 && 2 * self.nn[ritype] < cx.n;
        let error = if (map == 1) != flipped {
            -magnitude
        } else {
            magnitude
        };
        if error < 0 {
            self.nn[ritype] += 1;
        }
        cx.a += (mapped + 1 - ri) >> 1;
        if cx.n == self.reset {
            cx.a >>= 1;
            cx.n >>= 1;
            self.nn[ritype] >>= 1;
        }
        cx.n += 1;
        self.contexts[RUN_CONTEXT + ritype] = cx;
        Ok(error)
    }

    /// One line of one component (ILV 0, and each component's turn in ILV 1).
    fn line(
        &mut self,
        above: &[i32],
        line: &mut [i32],
        run_index: &mut usize,
    ) -> Result<(), Fault> {
        let width = line.len() - 2;
        let mut x = 1;
        while x <= width {
            let (ra, rb, rc, rd) = (line[x - 1], above[x], above[x - 1], above[x + 1]);
            let q = self.context(ra, rb, rc, rd);
            if q != 0 {
                line[x] = self.regular(q, ra, rb, rc)?;
                x += 1;
                continue;
            }
            let (length, to_end) = self.run(run_index, width + 1 - x)?;
            line[x..x + length].fill(ra);
            x += length;
            if to_end {
                break;
            }
            let rb = above[x];
            let sample = if (ra - rb).abs() <= self.near {
                let error = self.interruption(1, *run_index)?;
                self.reconstruct(ra, error)
            } else {
                let error = self.interruption(0, *run_index)?;
                let sign = if ra > rb { -1 } else { 1 };
                self.reconstruct(rb, sign * error)
            };
            line[x] = sample;
            *run_index = run_index.saturating_sub(1);
            x += 1;
        }
        Ok(())
    }

    /// One line of every component, pixel by pixel (ILV 2). `q` is scratch space, one
    /// context a component.
    fn pixel_line(
        &mut self,
        above: &[Vec<i32>],
        lines: &mut [Vec<i32>],
        run_index: &mut usize,
        q: &mut [i32],
    ) -> Result<(), Fault> {
        let width = lines[0].len() - 2;
        let mut x = 1;
        while x <= width {
            for (c, q) in q.iter_mut().enumerate() {
                let (line, above) = (&lines[c], &above[c]);
                *q = self.context(line[x - 1], above[x], above[x - 1], above[x + 1]);
            }
            if q.iter().any(|&q| q != 0) {
                for (c, &q) in q.iter().enumerate() {
                    let (line, above) = (&mut lines[c], &above[c]);
                    line[x] = self.regular(q, line[x - 1], above[x], above[x - 1])?;
                }
                x += 1;
                continue;
            }
            let (length, to_end) = self.run(run_index, width + 1 - x)?;
            for line in lines.iter_mut() {
                let ra = line[x - 1];
                line[x..x + length].fill(ra);
            }
            x += length;
            if to_end {
                break;
            }
            for (line, above) in lines.iter_mut().zip(above) {
                let (ra, rb) = (line[x - 1], above[x]);
                let error = self.interruption(0, *run_index)?;
                let sign = if ra > rb { -1 } else { 1 };
                line[x] = self.reconstruct(rb, sign * error);
            }
            *run_index = run_index.saturating_sub(1);
            x += 1;
        }
        Ok(())
    }
}
