//! Decompression benchmark (issue 18, item 6): decoded MB/s of `dimse_codec::decompress` per
//! codec, next to the reference decoders timed in the same run on the same input: DCMTK's
//! dcmdjpeg, dcmdjpls and dcmdrle, and OpenJPEG's opj_decompress for JPEG 2000.
//!
//! ```sh
//! cargo build --release -p dimse-bench --bin decode && TMPDIR=/dev/shm target/release/decode
//! ```
//!
//! An argument runs only the cases whose name contains it (`decode RGB`, `decode J2K`). The
//! scratch directory is `$TMPDIR/dimse-decode-bench-PID`: on a disk, writing the reference
//! tools' outputs sometimes waits on writeback, which slows them and flatters dimse, hence
//! tmpfs (the program says when it is not).
//!
//! The images are synthetic but shaped like real ones (a 12-bit CT series: body, lungs,
//! spine, noise; an 8-bit RGB video), written as Explicit VR Little Endian Part 10 files and
//! compressed with DCMTK (dcmcjpeg, dcmcjpls, dcmcrle). DCMTK has no JPEG 2000 encoder, so
//! opj_compress makes one codestream per frame and this program encapsulates them: both
//! decoders read exactly the same codestreams. A missing tool skips its cases, loudly.
//!
//! What the figures include (MB = 10^6 bytes of decoded Pixel Data; medians of 3 runs, the
//! runs of dimse and of the reference taking turns so that a busy machine slows both):
//! - `dimse`: `decompress` alone on a data set already in memory, which includes building the
//!   whole output data set (the pixels copied once more);
//! - `dimse+io`: reading the file, `decompress`, and writing the Part 10 result to a file;
//! - `ref`: wall clock of the reference process: start-up, reading, decoding, writing;
//! - `ref-fix`: the same less the process's fixed cost (`fixms`), estimated from a run on the
//!   first frame alone as t1 - (tN - t1) / (N - 1): what is left is N times the frame cost;
//! - `d/ref` = dimse / ref (the issue's criterion), `io/fix` = dimse+io / ref-fix (the
//!   like-for-like one: both read, decode and write, neither starts a process).
//!
//! Every case is checked: dimse's pixels against the reference decoder's (`ref`) and against
//! the original (`orig`), as the largest absolute sample difference; a lossless case that
//! differs from either, or any case that differs from the reference, is flagged.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use bytes::BytesMut;
use dimse_bench::{median, packaged_tool};
use dimse_codec::Fidelity;
use dimse_core::dataset::{top_level_elements, DataSet, Tag};
use dimse_core::part10::{read_layout, FileMeta};
use dimse_core::uid::{self, TransferSyntax};

const REPS: usize = 3;
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const PLANAR: Tag = Tag(0x0028, 0x0006);
const EVRLE: TransferSyntax = TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;

/// A synthetic multi-frame image: native little-endian samples, colour by pixel.
struct Image {
    sop_class: &'static str,
    rows: usize,
    cols: usize,
    samples: usize,
    bits: u16,
    bps: usize,
    frames: usize,
    pixels: Vec<u8>,
}

impl Image {
    fn new(
        sop_class: &'static str,
        size: (usize, usize, usize),
        samples: usize,
        bits: u16,
    ) -> Self {
        let ((rows, cols, frames), bps) = (size, usize::from(bits).div_ceil(8));
        let pixels = Vec::with_capacity(rows * cols * frames * samples * bps);
        Image {
            sop_class,
            rows,
            cols,
            samples,
            bits,
            bps,
            frames,
            pixels,
        }
    }
    /// Appends each pixel's samples, frame by frame, row by row.
    fn fill(mut self, mut pixel: impl FnMut(usize, usize, usize, &mut Vec<u8>)) -> Self {
        for z in 0..self.frames {
            for y in 0..self.rows {
                for x in 0..self.cols {
                    pixel(x, y, z, &mut self.pixels);
                }
            }
        }
        self
    }
    fn frame_len(&self) -> usize {
        self.rows * self.cols * self.samples * self.bps
    }
}

/// Roughly normal noise from a xorshift generator: fixed seed, same images every run.
struct Rng(u64);

impl Rng {
    fn normal(&mut self) -> f32 {
        let mut sum = 0.0;
        for _ in 0..4 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            sum += (self.0 >> 40) as f32 / (1u64 << 24) as f32;
        }
        (sum - 2.0) * 3f32.sqrt()
    }
}

/// 64 axial slices, 512 × 512, 12 bits stored (HU + 1024), breathing lungs. The noise
/// matters: it is what bounds lossless ratios on real scans.
fn ct() -> Image {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let img = Image::new("1.2.840.10008.5.1.4.1.1.7.3", (512, 512, 64), 1, 12);
    img.fill(|x, y, z, out| {
        let (u, v) = (x as f32 / 256.0 - 1.0, y as f32 / 256.0 - 1.0);
        let (zf, breath) = (z as f32 / 64.0, (z as f32 / 10.0).sin());
        let ell =
            |cx: f32, cy: f32, rx: f32, ry: f32| ((u - cx) / rx).powi(2) + ((v - cy) / ry).powi(2);
        let body = ell(0.0, 0.05, 0.85 + 0.02 * breath, 0.62);
        let lung = |cx| ell(cx, -0.02, 0.26, 0.38 + 0.04 * breath) < 1.0;
        let spine = ell(0.0, 0.42, 0.09, 0.08);
        let hu = match () {
            _ if body > 1.0 => -1000.0,
            _ if body > 0.85 => -100.0 + 20.0 * u,
            _ if lung(-0.38) || lung(0.38) => -850.0 + 60.0 * (u * 17.0).sin() * v.cos(),
            _ if spine < 0.6 => 300.0,
            _ if spine < 1.0 => 1200.0,
            _ if ell(0.08, -0.05, 0.12 + 0.02 * zf, 0.1) < 1.0 => 250.0,
            _ => 40.0 + 25.0 * (u * 3.0 + zf).sin() + 15.0 * v,
        };
        let sigma = if body > 1.0 { 3.0 } else { 12.0 };
        let value = (hu + 1024.0 + sigma * rng.normal()).round();
        out.extend_from_slice(&(value.clamp(0.0, 4095.0) as u16).to_le_bytes());
    })
}

/// 32 frames of 640 × 480 RGB video: smooth colour, a moving bright disc, vignetting, noise.
fn rgb() -> Image {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let img = Image::new("1.2.840.10008.5.1.4.1.1.7.4", (480, 640, 32), 3, 8);
    img.fill(|x, y, z, out| {
        let (u, v, t) = (x as f32 / 640.0, y as f32 / 480.0, z as f32 * 0.15);
        let shade = 1.0 - 1.2 * ((u - 0.5).powi(2) + (v - 0.5).powi(2));
        let disc = (u - 0.5 - 0.25 * t.cos()).powi(2) + (v - 0.5 - 0.2 * t.sin()).powi(2);
        let light = if disc < 0.01 { 60.0 } else { 0.0 };
        for base in [
            150.0 + 70.0 * (u * 4.0 + t).sin(),
            90.0 + 50.0 * (v * 5.0 - t).cos(),
            70.0 + 40.0 * (u * v * 9.0).sin(),
        ] {
            let s = (base + light) * shade + 2.0 * rng.normal();
            out.push(s.round().clamp(0.0, 255.0) as u8);
        }
    })
}

/// Writes a Part 10 file of `frames` frames of `img`; `pixel_data` is the whole (7FE0,0010)
/// element, native or encapsulated.
fn write_part10(path: &Path, img: &Image, frames: usize, ts: &str, pi: &str, pixel_data: &[u8]) {
    let sop = format!("1.2.826.0.1.3680043.9.7433.6.{}.{frames}", img.samples);
    let modality = if img.samples == 1 { "CT" } else { "XC" };
    let mut ds = DataSet::new();
    for (key, value) in [
        ("SOPClassUID", img.sop_class),
        ("SOPInstanceUID", &sop),
        ("StudyInstanceUID", "1.2.826.0.1.3680043.9.7433.6"),
        ("SeriesInstanceUID", "1.2.826.0.1.3680043.9.7433.6.0"),
        ("Modality", modality),
        ("PatientID", "BENCH"),
        ("PhotometricInterpretation", pi),
    ] {
        ds.set_str(Tag::parse(key).unwrap(), value).unwrap();
    }
    for (key, value) in [
        ("SamplesPerPixel", img.samples as u16),
        ("Rows", img.rows as u16),
        ("Columns", img.cols as u16),
        ("BitsAllocated", img.bps as u16 * 8),
        ("BitsStored", img.bits),
        ("HighBit", img.bits - 1),
        ("PixelRepresentation", 0),
        ("NumberOfFrames", frames as u16),
        ("PlanarConfiguration", 0),
    ] {
        if key != "PlanarConfiguration" || img.samples > 1 {
            ds.set_u16(Tag::parse(key).unwrap(), value).unwrap();
        }
    }
    let mut out = BytesMut::new();
    FileMeta::new(img.sop_class, &sop, ts).encode(&mut out);
    ds.encode(&EVRLE, &mut out);
    out.extend_from_slice(pixel_data);
    fs::write(path, &out).unwrap();
}

fn native_pixel_data(img: &Image, frames: usize) -> Vec<u8> {
    let value = &img.pixels[..img.frame_len() * frames];
    let vr = if img.bps == 2 { b'W' } else { b'B' };
    let mut e = vec![0xE0, 0x7F, 0x10, 0x00, b'O', vr, 0, 0];
    e.extend_from_slice(&(value.len() as u32).to_le_bytes());
    e.extend_from_slice(value);
    e
}

/// Encapsulated Pixel Data (PS3.5 A.4): empty Basic Offset Table, one fragment per frame.
fn encapsulated(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut e = [0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0].to_vec();
    e.extend_from_slice(&u32::MAX.to_le_bytes());
    let empty = Vec::new();
    for value in std::iter::once(&empty).chain(frames) {
        let padded = value.len() + value.len() % 2;
        e.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        e.extend_from_slice(&(padded as u32).to_le_bytes());
        e.extend_from_slice(value);
        e.resize(e.len() + padded - value.len(), 0);
    }
    e.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    e
}

/// A DCMTK or OpenJPEG tool's path.
fn tool(name: &str) -> Result<PathBuf, String> {
    let package = if name.starts_with("opj_") {
        "libopenjp2-tools"
    } else {
        "dcmtk"
    };
    packaged_tool(package, name).ok_or(format!("{name} not found (apt-get install {package})"))
}

/// Runs a command to completion, output discarded: its wall-clock seconds.
fn run(cmd: &mut Command) -> Result<f64, String> {
    let t = Instant::now();
    let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
    let secs = t.elapsed().as_secs_f64();
    match status {
        Ok(s) if s.success() => Ok(secs),
        other => Err(format!("{cmd:?} failed: {other:?}")),
    }
}

/// Pixel Data of an Explicit VR Little Endian data set, colour by pixel.
fn pixels_of(data: &[u8], img: &Image) -> Vec<u8> {
    let spans = top_level_elements(data, &EVRLE).unwrap();
    let value = |tag| {
        let s = spans.iter().find(|s| s.tag == tag)?;
        Some(&data[s.value_offset..s.value_offset + s.length as usize])
    };
    let pixels = value(PIXEL_DATA).expect("Pixel Data");
    match value(PLANAR) {
        Some([1, 0]) => interleave(pixels, img),
        _ => pixels.to_vec(),
    }
}

/// Colour-by-plane frames to colour-by-pixel.
fn interleave(planes: &[u8], img: &Image) -> Vec<u8> {
    let (bps, n) = (img.bps, img.rows * img.cols);
    let mut out = vec![0; planes.len()];
    for (f, frame) in planes.chunks(img.frame_len()).enumerate() {
        for (c, plane) in frame.chunks(n * bps).enumerate() {
            for (i, sample) in plane.chunks(bps).enumerate() {
                let at = f * img.frame_len() + (i * img.samples + c) * bps;
                out[at..at + bps].copy_from_slice(sample);
            }
        }
    }
    out
}

/// The largest absolute difference between samples; `None` if the sizes differ.
fn max_diff(a: &[u8], b: &[u8], bps: usize) -> Option<u32> {
    let sample = |s: &[u8]| s.iter().rev().fold(0u32, |acc, &x| acc << 8 | u32::from(x));
    let diffs = a
        .chunks(bps)
        .zip(b.chunks(bps))
        .map(|(x, y)| sample(x).abs_diff(sample(y)));
    (a.len() == b.len()).then(|| diffs.max().unwrap_or(0))
}

/// The cases: name | image | encoder and its options | reference decoder. JPEG 2000 is
/// lossless (.90) unless opj_compress is given a rate, irreversible (.91, 9/7) with `-I`,
/// and colour goes through the component transform opj_compress applies to RGB.
const CASES: [&str; 12] = [
    "JPEG lossless SV1 (.70)     | CT  | dcmcjpeg +e1          | dcmdjpeg",
    "JPEG lossless SV6 (.57)     | CT  | dcmcjpeg +el          | dcmdjpeg",
    "JPEG extended q90 (.51)     | CT  | dcmcjpeg +ee          | dcmdjpeg",
    "JPEG baseline q90 4:2:2 (.50) | RGB | dcmcjpeg +eb        | dcmdjpeg",
    "JPEG-LS lossless (.80)      | CT  | dcmcjpls +el          | dcmdjpls",
    "JPEG-LS near-lossless 2 (.81) | CT | dcmcjpls +en         | dcmdjpls",
    "JPEG-LS lossless ILV 1 (.80) | RGB | dcmcjpls +el         | dcmdjpls",
    "RLE (.5)                    | CT  | dcmcrle               | dcmdrle",
    "RLE (.5)                    | RGB | dcmcrle               | dcmdrle",
    "J2K lossless 5/3 (.90)      | CT  | opj_compress          | opj_decompress",
    "J2K 9/7 10:1 (.91)          | CT  | opj_compress -I -r 10 | opj_decompress",
    "J2K 9/7 20:1 ICT (.91)      | RGB | opj_compress -I -r 20 | opj_decompress",
];

/// Makes case `i`'s N-frame and 1-frame inputs. Returns the N-frame file, the reference
/// decoder's commands for N frames and for 1 frame, and where its N-frame output will be.
fn prepare(case: &[&str], img: &Image, dir: &Path, i: usize) -> Result<Prepared, String> {
    let file = |n: usize| dir.join(format!("c{i}-{n}.dcm"));
    let mut args = case[2].split_whitespace();
    let (encoder, decoder) = (tool(args.next().unwrap())?, tool(case[3])?);
    let args: Vec<&str> = args.collect();
    let mut commands = Vec::new();
    if case[3] != "opj_decompress" {
        for n in [img.frames, 1] {
            let src = dir.join(format!("native{}-{n}.dcm", img.samples));
            run(Command::new(&encoder).args(&args).arg(&src).arg(file(n)))?;
            let mut cmd = Command::new(&decoder);
            cmd.arg(file(n)).arg(dir.join(format!("c{i}-{n}.out")));
            commands.push(cmd);
        }
        let out = dir.join(format!("c{i}-{}.out", img.frames));
        return Ok((file(img.frames), commands, out));
    }
    let src = dir.join(["x.pgm", "x.ppm"][img.samples / 3]);
    let j2k = dir.join("x.j2k");
    let mut streams = Vec::new();
    for frame in img.pixels.chunks(img.frame_len()) {
        // PNM: the maximum value gives the precision; samples are big-endian.
        let (magic, max) = (["P5", "P6"][img.samples / 3], (1u32 << img.bits) - 1);
        let mut pnm = format!("{magic}\n{} {}\n{max}\n", img.cols, img.rows).into_bytes();
        frame
            .chunks(img.bps)
            .for_each(|s| pnm.extend(s.iter().rev()));
        fs::write(&src, pnm).unwrap();
        let mut cmd = Command::new(&encoder);
        run(cmd.args(&args).arg("-i").arg(&src).arg("-o").arg(&j2k))?;
        streams.push(fs::read(&j2k).unwrap());
    }
    let lossy = args.contains(&"-r");
    let ts = ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"][usize::from(lossy)];
    let pi = match (img.samples, args.contains(&"-I")) {
        (1, _) => "MONOCHROME2",
        (_, true) => "YBR_ICT",
        _ => "YBR_RCT",
    };
    for n in [img.frames, 1] {
        let sub = dir.join(format!("c{i}-{n}"));
        fs::create_dir_all(&sub).unwrap();
        for (f, s) in streams[..n].iter().enumerate() {
            fs::write(sub.join(format!("f{f:04}.j2k")), s).unwrap();
        }
        write_part10(&file(n), img, n, ts, pi, &encapsulated(&streams[..n]));
        // One process for all frames; one thread, as dimse decodes on one.
        let mut cmd = Command::new(&decoder);
        cmd.arg("-ImgDir").arg(&sub).args(["-OutFor", "RAWL"]);
        cmd.args(["-threads", "1"]).env_remove("OPJ_NUM_THREADS");
        commands.push(cmd);
    }
    let out = dir.join(format!("c{i}-{}", img.frames));
    Ok((file(img.frames), commands, out))
}

type Prepared = (PathBuf, Vec<Command>, PathBuf);

/// The reference decoder's output, colour by pixel: a DCMTK file, or opj_decompress's RAWL
/// frames (component after component) in a directory.
fn reference_pixels(out: &Path, img: &Image) -> Vec<u8> {
    if out.is_dir() {
        let rawl = |f| fs::read(out.join(format!("f{f:04}.rawl"))).unwrap();
        let planes: Vec<u8> = (0..img.frames).flat_map(rawl).collect();
        return interleave(&planes, img);
    }
    let out = fs::read(out).unwrap();
    pixels_of(&out[read_layout(&out).unwrap().data_offset..], img)
}

/// Deletes a run's output before the next: rewriting a file that the kernel may still be
/// writing back waits for the disk (ext4 flushes a file truncated and rewritten), and that
/// is not decoding. opj_decompress writes its frames into its input directory.
fn clear_outputs(out: &Path) {
    let rawl = |p: &PathBuf| p.extension().is_some_and(|e| e == "rawl");
    let entries = fs::read_dir(out).into_iter().flatten().flatten();
    for path in entries.map(|e| e.path()).filter(rawl) {
        fs::remove_file(path).unwrap();
    }
    let _ = fs::remove_file(out);
}

fn bench(case: &[&str], img: &Image, dir: &Path, i: usize) -> Result<String, String> {
    let (path, mut commands, out) = prepare(case, img, dir, i)?;
    let file = fs::read(&path).unwrap();
    let layout = read_layout(&file).unwrap();
    let ts = layout.transfer_syntax_uid.clone().unwrap();
    let mb = (img.frame_len() * img.frames) as f64 / 1e6;
    let (mut dimse, mut dimse_io, mut t_n, mut t_1) = (vec![], vec![], vec![], vec![]);
    let mut decoded = None;
    for _ in 0..REPS {
        let t = Instant::now();
        let d = dimse_codec::decompress(&file[layout.data_offset..], &ts);
        dimse.push(t.elapsed().as_secs_f64());
        decoded = Some(d.map_err(|e| format!("dimse: {e}"))?);

        clear_outputs(&dir.join("dimse.out"));
        let t = Instant::now();
        let buf = fs::read(&path).unwrap();
        let l = read_layout(&buf).unwrap();
        let d = dimse_codec::decompress(&buf[l.data_offset..], &ts).unwrap();
        let mut meta = BytesMut::new();
        let (class, sop) = (l.sop_class_uid.unwrap(), l.sop_instance_uid.unwrap());
        FileMeta::new(&class, &sop, uid::EXPLICIT_VR_LE).encode(&mut meta);
        // Two writes rather than one more copy of the pixels, as a sender would.
        let mut f = fs::File::create(dir.join("dimse.out")).unwrap();
        f.write_all(&meta)
            .and_then(|()| f.write_all(&d.data))
            .unwrap();
        drop(f);
        dimse_io.push(t.elapsed().as_secs_f64());

        for (times, cmd) in [&mut t_n, &mut t_1].into_iter().zip(&mut commands) {
            clear_outputs(Path::new(cmd.get_args().nth(1).unwrap()));
            times.push(run(cmd)?);
        }
    }
    let [dimse, dimse_io, t_n, t_1] = [dimse, dimse_io, t_n, t_1].map(|v| median(&v));
    let fixed = (t_1 - (t_n - t_1) / (img.frames - 1) as f64).max(0.0);

    let decoded = decoded.unwrap();
    let ours = pixels_of(&decoded.data, img);
    let vs_ref = max_diff(&ours, &reference_pixels(&out, img), img.bps);
    let vs_orig = max_diff(&ours, &img.pixels, img.bps);
    let lossless = decoded.fidelity == Fidelity::Lossless;
    let flag = match (vs_ref, vs_orig) {
        (Some(0), Some(0)) => "",
        (Some(0), Some(_)) if !lossless => "",
        _ => "  <-- MISMATCH",
    };
    let show = |d: Option<u32>| d.map_or("size differs".into(), |d| d.to_string());
    Ok(format!(
        "{:<36} {:>7.2} {:>5.1} {:>7.1} {:>8.1} {:>6.1} {:>7.1} {:>5.0} {:>5.2} {:>6.2}  ref {} orig {}{flag}",
        format!("{} {}", case[0], case[1]),
        file.len() as f64 / 1e6,
        mb,
        mb / dimse,
        mb / dimse_io,
        mb / t_n,
        mb / (t_n - fixed),
        fixed * 1e3,
        t_n / dimse,
        (t_n - fixed) / dimse_io,
        show(vs_ref),
        show(vs_orig),
    ))
}

/// The type of the file system holding `dir`: the longest mount point above it.
fn fs_type(dir: &Path) -> String {
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let fields = mounts.lines().map(|l| l.split(' ').collect::<Vec<_>>());
    let above = fields.filter(|f| f.len() > 2 && dir.starts_with(f[1]));
    let longest = above.max_by_key(|f| f[1].len());
    longest.map_or("unknown".into(), |f| f[2].to_string())
}

/// Removes the scratch directory however the run ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn main() {
    let only = std::env::args().nth(1).unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("dimse-decode-bench-{}", std::process::id()));
    let scratch = Scratch(dir);
    let dir = &scratch.0;
    fs::create_dir_all(dir).unwrap();
    let fs_type = fs_type(dir);
    println!("scratch directory: {} ({fs_type})", dir.display());
    if fs_type != "tmpfs" {
        println!("!!! not tmpfs: the reference tools' output files may wait on disk writeback");
        println!("!!! (seen: dcmdjpeg 0.22 s -> 0.45 s), which flatters dimse: TMPDIR=/dev/shm");
    }
    let images = [ct(), rgb()];
    for img in &images {
        let pi = ["MONOCHROME2", "RGB"][img.samples / 3];
        for n in [img.frames, 1] {
            let path = dir.join(format!("native{}-{n}.dcm", img.samples));
            let native = native_pixel_data(img, n);
            write_part10(&path, img, n, uid::EXPLICIT_VR_LE, pi, &native);
        }
    }
    let versions = Command::new("dpkg-query")
        .args(["-W", "dcmtk", "libopenjp2-tools"])
        .output();
    let versions = versions.map(|o| String::from_utf8_lossy(&o.stdout).replace(['\t', '\n'], " "));
    println!(
        "reference decoders (Debian packages): {}",
        versions.unwrap_or_default()
    );
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load.trim());
    println!("MB/s of decoded pixel data, medians of {REPS}; the columns: see the doc comment");
    println!(
        "{:<36} {:>7} {:>5} {:>7} {:>8} {:>6} {:>7} {:>5} {:>5} {:>6}  max |diff| vs",
        "case", "comp MB", "MB", "dimse", "dimse+io", "ref", "ref-fix", "fixms", "d/ref", "io/fix"
    );
    for (i, case) in CASES.iter().enumerate() {
        let case: Vec<&str> = case.split('|').map(str::trim).collect();
        let img = &images[usize::from(case[1] == "RGB")];
        if format!("{} {}", case[0], case[1]).contains(only.as_str()) {
            match bench(&case, img, dir, i) {
                Ok(line) => println!("{line}"),
                Err(e) => println!("!!! SKIPPED {} {}: {e}", case[0], case[1]),
            }
        }
    }
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.trim());
}
