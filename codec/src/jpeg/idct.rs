//! The inverse DCT of libjpeg's accurate integer method (JDCT_ISLOW, jidctint.c: the
//! Loeffler–Ligtenberg–Moschytz factorisation in 13-bit fixed point), which DCMTK's dcmdjpeg
//! and libjpeg-turbo use by default; the same arithmetic gives the same samples bit for bit.
//!
//! The workspace between the passes is 32 bits (libjpeg's `int`), and each result is
//! wrapped to `BITS + 2` bits before it is clamped (libjpeg's range-limit table). The passes
//! of 12-bit samples run in 64 bits, libjpeg's `INT32` (a C `long`) on a 64-bit machine.
//! Those of 8-bit samples run in 32 bits, as libjpeg-turbo's vector code runs them: libjpeg
//! itself multiplies them 16 × 16 → 32 bits, and the sums fit in 32 bits for the
//! coefficients of any 8-bit image; only for coefficients no 8-bit image has would 32 bits
//! wrap where a `long` does not.

use std::num::Wrapping;
use std::ops::{Add, Mul, Neg, Shl, Shr, Sub};

/// A sample the IDCT writes: 8 bits (baseline and extended) or 12 (extended).
pub(super) trait Sample: Copy + Default {
    /// The sample precision.
    const BITS: u32;
    /// The integers the passes run in.
    type Acc: Acc;
    fn new(value: i32) -> Self;
}

impl Sample for u8 {
    const BITS: u32 = 8;
    type Acc = Wrapping<i32>;
    #[inline(always)]
    fn new(value: i32) -> Self {
        value as u8
    }
}

impl Sample for u16 {
    const BITS: u32 = 12;
    type Acc = i64;
    #[inline(always)]
    fn new(value: i32) -> Self {
        value as u16
    }
}

/// The arithmetic the passes need.
pub(super) trait Acc:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + Shl<usize, Output = Self>
    + Shr<usize, Output = Self>
{
    fn of(value: i32) -> Self;
    /// The low 32 bits.
    fn low(self) -> i32;
}

impl Acc for Wrapping<i32> {
    #[inline(always)]
    fn of(value: i32) -> Self {
        Wrapping(value)
    }
    #[inline(always)]
    fn low(self) -> i32 {
        self.0
    }
}

impl Acc for i64 {
    #[inline(always)]
    fn of(value: i32) -> Self {
        value.into()
    }
    #[inline(always)]
    fn low(self) -> i32 {
        self as i32
    }
}

const CONST_BITS: usize = 13;

/// The constants of jidctint.c: the cosines it names, times 2^13, rounded.
const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

/// Bits of extra precision kept between the passes: fewer for 12-bit samples, so the
/// workspace stays within 32 bits.
const fn pass1_bits(bits: u32) -> usize {
    if bits == 8 {
        2
    } else {
        1
    }
}

/// `x / 2^n`, rounded (libjpeg's DESCALE).
#[inline(always)]
fn descale<A: Acc>(x: A, n: usize) -> A {
    (x + A::of(1 << (n - 1))) >> n
}

/// A descaled output as a sample: wrapped to BITS + 2 bits, centred and clamped.
#[inline(always)]
fn limit<S: Sample>(x: S::Acc) -> S {
    let shift = 32 - (S::BITS + 2);
    let wrapped = (x.low() << shift) >> shift;
    let max = (1 << S::BITS) - 1;
    S::new((wrapped + (1 << (S::BITS - 1))).clamp(0, max))
}

/// The eight outputs of one 1-D pass (jidctint.c's even and odd parts), before descaling:
/// `v` holds the inputs in frequency order.
#[inline(always)]
fn butterfly<A: Acc>(v: [A; 8]) -> [A; 8] {
    let fix = A::of;
    // Even part.
    let z1 = (v[2] + v[6]) * fix(FIX_0_541196100);
    let tmp2 = z1 - v[6] * fix(FIX_1_847759065);
    let tmp3 = z1 + v[2] * fix(FIX_0_765366865);
    let tmp0 = (v[0] + v[4]) << CONST_BITS;
    let tmp1 = (v[0] - v[4]) << CONST_BITS;
    let (tmp10, tmp13) = (tmp0 + tmp3, tmp0 - tmp3);
    let (tmp11, tmp12) = (tmp1 + tmp2, tmp1 - tmp2);
    // Odd part.
    let (t0, t1, t2, t3) = (v[7], v[5], v[3], v[1]);
    let z1 = t0 + t3;
    let z2 = t1 + t2;
    let z3 = t0 + t2;
    let z4 = t1 + t3;
    let z5 = (z3 + z4) * fix(FIX_1_175875602);
    let z1 = -z1 * fix(FIX_0_899976223);
    let z2 = -z2 * fix(FIX_2_562915447);
    let z3 = -z3 * fix(FIX_1_961570560) + z5;
    let z4 = -z4 * fix(FIX_0_390180644) + z5;
    let t0 = t0 * fix(FIX_0_298631336) + z1 + z3;
    let t1 = t1 * fix(FIX_2_053119869) + z2 + z4;
    let t2 = t2 * fix(FIX_3_072711026) + z2 + z3;
    let t3 = t3 * fix(FIX_1_501321110) + z1 + z4;
    [
        tmp10 + t3,
        tmp11 + t2,
        tmp12 + t1,
        tmp13 + t0,
        tmp13 - t0,
        tmp12 - t1,
        tmp11 - t2,
        tmp10 - t3,
    ]
}

/// The inverse DCT of one dequantized block (row-major, natural order) into eight rows of
/// eight samples, `stride` apart in `out`.
pub(super) fn block<S: Sample>(coefficients: &[i32; 64], out: &mut [S], stride: usize) {
    let pass1 = pass1_bits(S::BITS);
    let mut workspace = [0i32; 64];
    // Pass 1: columns, into the workspace scaled up by 2^pass1.
    for column in 0..8 {
        let input: [i32; 8] = std::array::from_fn(|row| coefficients[row * 8 + column]);
        if input[1..].iter().all(|&c| c == 0) {
            // A column of only DC: the butterfly would give eight equal values.
            let dc = (S::Acc::of(input[0]) << pass1).low();
            for row in 0..8 {
                workspace[row * 8 + column] = dc;
            }
            continue;
        }
        let output = butterfly(input.map(S::Acc::of));
        for row in 0..8 {
            workspace[row * 8 + column] = descale(output[row], CONST_BITS - pass1).low();
        }
    }
    // Pass 2: rows, into samples.
    for (row, line) in workspace.chunks_exact(8).enumerate() {
        let out = &mut out[row * stride..row * stride + 8];
        if line[1..].iter().all(|&c| c == 0) {
            out.fill(limit::<S>(descale(S::Acc::of(line[0]), pass1 + 3)));
            continue;
        }
        let output = butterfly(std::array::from_fn(|i| S::Acc::of(line[i])));
        for (sample, value) in out.iter_mut().zip(output) {
            *sample = limit::<S>(descale(value, CONST_BITS + pass1 + 3));
        }
    }
}

/// The inverse DCT of a block whose only coefficient is the DC, `dc` dequantized: one
/// value, as [`block`] gives it.
pub(super) fn dc_only<S: Sample>(dc: i32, out: &mut [S], stride: usize) {
    let pass1 = pass1_bits(S::BITS);
    let workspace = (S::Acc::of(dc) << pass1).low();
    let sample = limit::<S>(descale(S::Acc::of(workspace), pass1 + 3));
    for row in 0..8 {
        out[row * stride..row * stride + 8].fill(sample);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dc_only_block_is_one_value_as_the_full_transform_gives_it() {
        for dc in (-70_000..70_000).step_by(7) {
            let mut coefficients = [0; 64];
            coefficients[0] = dc;
            let (mut full, mut short) = ([0u8; 64], [0u8; 64]);
            block(&coefficients, &mut full, 8);
            dc_only(dc, &mut short, 8);
            assert_eq!(full, short, "dc {dc}");
            let (mut full, mut short) = ([0u16; 64], [0u16; 64]);
            block(&coefficients, &mut full, 8);
            dc_only(dc, &mut short, 8);
            assert_eq!(full, short, "dc {dc}");
        }
    }

    #[test]
    fn results_wrap_as_libjpeg_range_limit_table_does() {
        let sample = |dc: i32| {
            let mut out = [0u8; 64];
            dc_only(dc, &mut out, 8);
            out[0]
        };
        // (dc * 4 + 16) >> 5 is the descaled value, before centring by 128.
        assert_eq!(sample(0), 128);
        assert_eq!(sample(1000), 253);
        // 500 is past the top, and clamps to 255; 700 is past 511, wraps to -324 in ten
        // bits and clamps to 0, as libjpeg's table gives it.
        assert_eq!(sample(4000), 255);
        assert_eq!(sample(5600), 0);
        assert_eq!(sample(-4000), 0);
        assert_eq!(sample(-5600), 255);
        let sample12 = |dc: i32| {
            let mut out = [0u16; 64];
            dc_only(dc, &mut out, 8);
            out[0]
        };
        // Twelve bits wrap at fourteen: (dc * 2 + 8) >> 4.
        assert_eq!(sample12(0), 2048);
        assert_eq!(sample12(60_000), 4095);
        assert_eq!(sample12(80_000), 0);
    }
}
