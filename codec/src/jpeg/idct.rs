//! The inverse DCT of libjpeg's accurate integer method (JDCT_ISLOW, jidctint.c: the
//! Loeffler–Ligtenberg–Moschytz factorisation in 13-bit fixed point), which DCMTK's dcmdjpeg
//! and libjpeg-turbo use by default; the same arithmetic gives the same samples bit for bit.
//!
//! The workspace between the passes is 32 bits (libjpeg's `int`), and each result is
//! wrapped to `BITS + 2` bits before it is clamped (libjpeg's range-limit table). The passes
//! run in 64 bits, libjpeg's `INT32` (a C `long`) on a 64-bit machine, where DCMTK's
//! dcmdjpeg runs them. Coefficients of real images never need more than 32 bits there, but a
//! stream may hold any: with 32-bit passes a coefficient of 1023 against a quantizer of 255
//! already gave other samples than dcmdjpeg's. README gives what 64 bits cost in the decode
//! benchmark.

/// A sample the IDCT writes: 8 bits (baseline and extended) or 12 (extended).
pub(super) trait Sample: Copy + Default {
    /// The sample precision.
    const BITS: u32;
    fn new(value: i32) -> Self;
}

impl Sample for u8 {
    const BITS: u32 = 8;
    #[inline(always)]
    fn new(value: i32) -> Self {
        value as u8
    }
}

impl Sample for u16 {
    const BITS: u32 = 12;
    #[inline(always)]
    fn new(value: i32) -> Self {
        value as u16
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
fn descale(x: i64, n: usize) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// A descaled output as a sample: wrapped to BITS + 2 bits, centred and clamped.
#[inline(always)]
fn limit<S: Sample>(x: i64) -> S {
    let shift = 32 - (S::BITS + 2);
    let wrapped = (x as i32) << shift >> shift;
    let max = (1 << S::BITS) - 1;
    S::new((wrapped + (1 << (S::BITS - 1))).clamp(0, max))
}

/// The eight outputs of one 1-D pass (jidctint.c's even and odd parts), before descaling:
/// `v` holds the inputs in frequency order.
#[inline(always)]
fn butterfly(v: [i64; 8]) -> [i64; 8] {
    let fix = i64::from;
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
            let dc = input[0] << pass1;
            for row in 0..8 {
                workspace[row * 8 + column] = dc;
            }
            continue;
        }
        let output = butterfly(input.map(i64::from));
        for row in 0..8 {
            workspace[row * 8 + column] = descale(output[row], CONST_BITS - pass1) as i32;
        }
    }
    // Pass 2: rows, into samples.
    for (row, line) in workspace.chunks_exact(8).enumerate() {
        let out = &mut out[row * stride..row * stride + 8];
        if line[1..].iter().all(|&c| c == 0) {
            out.fill(limit::<S>(descale(line[0].into(), pass1 + 3)));
            continue;
        }
        let output = butterfly(std::array::from_fn(|i| i64::from(line[i])));
        for (sample, value) in out.iter_mut().zip(output) {
            *sample = limit::<S>(descale(value, CONST_BITS + pass1 + 3));
        }
    }
}

/// The inverse DCT of a block whose only coefficient is the DC, `dc` dequantized: one
/// value, as [`block`] gives it.
pub(super) fn dc_only<S: Sample>(dc: i32, out: &mut [S], stride: usize) {
    let pass1 = pass1_bits(S::BITS);
    let workspace = dc << pass1;
    let sample = limit::<S>(descale(workspace.into(), pass1 + 3));
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

    /// Coefficients far outside any real image's: 8-bit passes must still run as a C
    /// `long` runs them, or the samples differ from dcmdjpeg's. The expected samples come
    /// from a separate model of jidctint.c in unbounded integers (Python), which with
    /// 32-bit passes differs in 24 and 47 of them.
    #[test]
    fn huge_coefficients_give_the_samples_of_64_bit_passes() {
        // 1023 (the largest baseline AC category) against a quantizer of 255, at row 1,
        // column 1.
        let mut coefficients = [0; 64];
        coefficients[9] = 1023 * 255;
        let expected: [u8; 64] = [
            255, 66, 0, 255, 0, 255, 190, 0, 66, 161, 255, 255, 0, 0, 95, 190, 0, 255, 0, 29, 227,
            255, 0, 255, 255, 255, 29, 255, 0, 227, 0, 0, 0, 0, 227, 0, 255, 29, 255, 255, 255, 0,
            255, 227, 29, 0, 255, 0, 190, 95, 0, 0, 255, 255, 161, 66, 0, 190, 255, 0, 255, 0, 66,
            255,
        ];
        let mut out = [0u8; 64];
        block(&coefficients, &mut out, 8);
        assert_eq!(out, expected);
        let coefficients: [i32; 64] = [
            157335, 50235, -98175, 60435, -39015, -452880, 72930, -94605, 61710, -233070, -414120,
            -230775, -138975, 437580, -122910, 188700, -196095, 101745, -62220, -518415, 327930,
            473280, 312885, -187680, -85425, 516885, 468690, 76245, -436560, -357255, -510510,
            40800, -327675, 365670, 476340, -97665, 494955, -63240, 465375, 402900, 23460, 371025,
            -122145, 61455, -300135, -258570, 408255, 84150, -468945, 290190, -449565, 433755,
            397290, -157590, -183855, -242250, -12495, 190230, 294270, -151980, 385560, 131070,
            -476850, 415650,
        ];
        let expected: [u8; 64] = [
            6, 0, 255, 255, 60, 252, 0, 0, 255, 0, 255, 255, 0, 0, 0, 0, 255, 0, 255, 217, 0, 0,
            255, 48, 43, 0, 0, 236, 255, 219, 0, 255, 255, 0, 175, 255, 0, 210, 22, 255, 0, 0, 126,
            173, 255, 151, 255, 0, 255, 0, 255, 222, 255, 0, 0, 0, 255, 0, 213, 255, 0, 255, 206,
            0,
        ];
        block(&coefficients, &mut out, 8);
        assert_eq!(out, expected);
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
