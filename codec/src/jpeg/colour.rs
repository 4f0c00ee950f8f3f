//! libjpeg's fancy upsampling of half-width components (jdsample.c, h2v1: a triangle
//! filter, 3/4 of the nearer sample and 1/4 of the farther) and its YCbCr to RGB conversion
//! (jdcolor.c: 16-bit fixed point, rounded once, with the green term shifted as a sum), with
//! the same rounding, so 8-bit samples come out as libjpeg's and dcmdjpeg's.

/// Doubles a row of `input` (at least two samples) into `output` (twice as long) as libjpeg's
/// `h2v1_fancy_upsample` does.
pub(super) fn upsample_h2v1(input: &[u8], output: &mut [u8]) {
    let width = input.len();
    debug_assert!(width >= 2 && output.len() == 2 * width);
    let sample = |i: usize| u32::from(input[i]);
    output[0] = input[0];
    output[1] = ((sample(0) * 3 + sample(1) + 2) >> 2) as u8;
    for (i, pair) in output[2..2 * width - 2].chunks_exact_mut(2).enumerate() {
        let centre = sample(i + 1) * 3;
        pair[0] = ((centre + sample(i) + 1) >> 2) as u8;
        pair[1] = ((centre + sample(i + 2) + 2) >> 2) as u8;
    }
    output[2 * width - 2] = ((sample(width - 1) * 3 + sample(width - 2) + 1) >> 2) as u8;
    output[2 * width - 1] = input[width - 1];
}

const SCALE_BITS: u32 = 16;
const HALF: i32 = 1 << (SCALE_BITS - 1);

/// `x * 2^16`, rounded, as libjpeg's FIX.
const fn fix(x: f64) -> i32 {
    (x * (1 << SCALE_BITS) as f64 + 0.5) as i32
}

/// jdcolor.c's four tables, indexed by the chroma sample: the red and blue offsets (already
/// shifted), and the two halves of the green one (shifted together, after the sum).
struct Tables {
    cr_r: [i32; 256],
    cb_b: [i32; 256],
    cr_g: [i32; 256],
    cb_g: [i32; 256],
}

const TABLES: Tables = {
    let mut t = Tables {
        cr_r: [0; 256],
        cb_b: [0; 256],
        cr_g: [0; 256],
        cb_g: [0; 256],
    };
    let mut i = 0;
    while i < 256 {
        let x = i as i32 - 128;
        t.cr_r[i] = (fix(1.40200) * x + HALF) >> SCALE_BITS;
        t.cb_b[i] = (fix(1.77200) * x + HALF) >> SCALE_BITS;
        t.cr_g[i] = -fix(0.71414) * x;
        t.cb_g[i] = -fix(0.34414) * x + HALF;
        i += 1;
    }
    t
};

/// Converts one row of YCbCr (three planes of at least `rgb.len() / 3` samples) to
/// interleaved RGB.
pub(super) fn ycbcr_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], rgb: &mut [u8]) {
    let t = &TABLES;
    let clamp = |v: i32| v.clamp(0, 255) as u8;
    for (((pixel, &y), &cb), &cr) in rgb.chunks_exact_mut(3).zip(y).zip(cb).zip(cr) {
        let (y, cb, cr) = (i32::from(y), usize::from(cb), usize::from(cr));
        pixel[0] = clamp(y + t.cr_r[cr]);
        pixel[1] = clamp(y + ((t.cb_g[cb] + t.cr_g[cr]) >> SCALE_BITS));
        pixel[2] = clamp(y + t.cb_b[cb]);
    }
}

/// Interleaves one row of three planes as they are (components coded without a colour
/// transform, or YCbCr kept as YCbCr).
pub(super) fn interleave(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) {
    for (((pixel, &a), &b), &c) in out.chunks_exact_mut(3).zip(a).zip(b).zip(c) {
        pixel.copy_from_slice(&[a, b, c]);
    }
}
