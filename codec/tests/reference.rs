//! Decodes compressed images with `dimse_codec::decompress` and compares the pixels with
//! independent decoders: pydicom with the pylibjpeg plugins (libjpeg, openjpeg, rle; through
//! `reference.py` beside this file), DCMTK's dcmdjpeg, dcmdjpls and dcmdrle, and OpenJPH's
//! ojph_expand for HTJ2K.
//!
//! The images: every compressed file of the shared corpus, and images compressed at test
//! time by DCMTK (dcmcjpeg, dcmcjpls, dcmcrle), pylibjpeg-openjpeg and ojph_compress from
//! uncompressed corpus files and from images `reference.py make` draws (8, 12 and 16 bits,
//! grey and colour, single and multi-frame, one and several fragments a frame).
//!
//! Lossless syntaxes must match every reference exactly (within Bits Stored); lossy JPEG
//! within ±1 of at least one reference (libjpeg and DCMTK differ from each other on
//! subsampled colour); lossy JPEG 2000 exactly as OpenJPEG decodes it. The rewritten
//! attributes are checked too, and pydicom must read the output and see the same pixels.
//!
//! A missing reference tool is a loud SKIP, or a failure when `DIMSE_REQUIRE_PEERS=1`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use dimse_codec::{decompress, Fidelity};
use dimse_core::dataset::{find_top_level_string, top_level_elements, Tag, Vr};
use dimse_core::uid::TransferSyntax;

const EXPLICIT: TransferSyntax = TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/dicom")
}

fn helper() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference.py")
}

/// Whether a missing reference must fail the test rather than skip it.
fn require_peers() -> bool {
    std::env::var("DIMSE_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Reports a missing tool: a SKIP line, or a panic under `DIMSE_REQUIRE_PEERS=1`.
fn skip(what: &str) {
    if require_peers() {
        panic!("{what} is missing and DIMSE_REQUIRE_PEERS=1");
    }
    // Straight to stderr: the test harness captures eprintln! of passing tests, and a skip
    // must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIP: {what} is missing; comparisons that need it were not run \
         (DIMSE_REQUIRE_PEERS=1 makes this a failure) ***\n"
    );
}

fn tool_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn have_python() -> bool {
    let ok = tool_works("python3", &[helper().to_str().unwrap(), "check"]);
    if !ok {
        skip("python3 with pydicom, numpy, pylibjpeg, pylibjpeg-libjpeg, -openjpeg and -rle");
    }
    ok
}

fn have_dcmtk() -> bool {
    let ok = [
        "dcmcjpeg", "dcmdjpeg", "dcmcjpls", "dcmdjpls", "dcmcrle", "dcmdrle",
    ]
    .iter()
    .all(|t| tool_works(t, &["--version"]));
    if !ok {
        skip("DCMTK (dcmcjpeg, dcmdjpeg, dcmcjpls, dcmdjpls, dcmcrle, dcmdrle)");
    }
    ok
}

fn have_openjph() -> bool {
    // ojph_compress has no --version; with no arguments it prints its usage.
    let ok = ["ojph_compress", "ojph_expand"].iter().all(|t| {
        Command::new(t)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    if !ok {
        skip("OpenJPH (ojph_compress, ojph_expand; Debian package openjph-tools)");
    }
    ok
}

/// A fresh directory under the system temp dir, removed on drop (kept with
/// `DIMSE_KEEP_TEMP=1`).
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "dimse-codec-{}-{}-{label}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var("DIMSE_KEEP_TEMP").is_ok_and(|v| v == "1") {
            eprintln!("keeping {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs a command; its stdout on success, its stderr as the error.
fn run(program: &str, args: &[&Path]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} {:?} failed: {}",
            args,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn run_ok(program: &str, args: &[&Path]) -> String {
    run(program, args).unwrap_or_else(|e| panic!("{e}"))
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

// ---------------------------------------------------------------------------------------------
// Part 10 files
// ---------------------------------------------------------------------------------------------

/// The transfer syntax UID and the data set (after the file meta) of a Part 10 file.
fn read_part10(path: &Path) -> (String, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[128..132], b"DICM", "{}", path.display());
    // The meta is explicit VR little endian group 0002, element after element.
    let mut pos = 132;
    let mut ts = String::new();
    while bytes.get(pos..pos + 2) == Some(&[0x02, 0x00]) {
        let element = u16::from_le_bytes([bytes[pos + 2], bytes[pos + 3]]);
        let vr = &bytes[pos + 4..pos + 6];
        let (header, length) = if matches!(vr, b"OB" | b"OW" | b"UN" | b"SQ" | b"UT" | b"UC") {
            (
                12,
                u32::from_le_bytes(bytes[pos + 8..pos + 12].try_into().unwrap()) as usize,
            )
        } else {
            (
                8,
                usize::from(u16::from_le_bytes([bytes[pos + 6], bytes[pos + 7]])),
            )
        };
        if element == 0x0010 {
            ts = String::from_utf8_lossy(&bytes[pos + header..pos + header + length])
                .trim_end_matches(['\0', ' '])
                .to_string();
        }
        pos += header + length;
    }
    (ts, bytes[pos..].to_vec())
}

// ---------------------------------------------------------------------------------------------
// References and comparison
// ---------------------------------------------------------------------------------------------

/// The attributes `reference.py` prints beside a pixel array (those checked here).
#[derive(Debug, Default)]
struct Attributes {
    photometric: String,
}

fn json_field(json: &str, key: &str) -> String {
    let needle = format!("\"{key}\": ");
    let Some(start) = json.find(&needle).map(|i| i + needle.len()) else {
        return String::new();
    };
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().trim_matches('"').to_string()
}

/// Pixels of `file` as pydicom decodes them (`rgb`: YCbCr converted to RGB).
fn pydicom_pixels(file: &Path, dir: &TempDir, rgb: bool) -> Result<(Vec<u8>, Attributes), String> {
    let out = dir.join("pydicom.raw");
    let mut args = vec![helper(), p("array").into(), file.into(), out.clone()];
    if rgb {
        args.push(p("rgb").into());
    }
    let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
    let json = run("python3", &args)?;
    let pixels = std::fs::read(&out).map_err(|e| e.to_string())?;
    Ok((
        pixels,
        Attributes {
            photometric: json_field(&json, "photometric"),
        },
    ))
}

/// Pixels of `file` decompressed by a DCMTK tool, read back through pydicom.
fn dcmtk_pixels(tool: &str, file: &Path, dir: &TempDir) -> Result<Vec<u8>, String> {
    let native = dir.join(&format!("{tool}.dcm"));
    run(tool, &[file, &native])?;
    pydicom_pixels(&native, dir, false).map(|(pixels, _)| pixels)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tolerance {
    Exact,
    /// Each sample within ±1.
    One,
}

/// Compares samples of `bytes` bytes, within the low `bits` bits (the bits above Bits
/// Stored are not part of the value and decoders fill them differently).
fn compare(
    ours: &[u8],
    reference: &[u8],
    bytes: usize,
    bits: u16,
    tolerance: Tolerance,
) -> Result<u32, String> {
    if ours.len() != reference.len() {
        return Err(format!(
            "{} bytes, the reference has {}",
            ours.len(),
            reference.len()
        ));
    }
    let mask = if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    };
    let sample = |b: &[u8]| b.iter().rev().fold(0u32, |v, x| (v << 8) | u32::from(*x)) & mask;
    let (mut worst, mut differing, mut first) = (0u32, 0usize, None);
    for (i, (a, b)) in ours.chunks(bytes).zip(reference.chunks(bytes)).enumerate() {
        let d = sample(a).abs_diff(sample(b));
        if d > 0 {
            differing += 1;
            first.get_or_insert(i);
        }
        worst = worst.max(d);
    }
    let allowed = if tolerance == Tolerance::One { 1 } else { 0 };
    if worst > allowed {
        return Err(format!(
            "{differing} samples differ, by up to {worst} (first at sample {})",
            first.unwrap_or(0)
        ));
    }
    Ok(worst)
}

/// What a case expects of the references.
#[derive(Debug, Clone, Copy)]
enum Refs {
    /// pydicom and the DCMTK decoder (may be absent for syntaxes DCMTK lacks).
    Both(Option<&'static str>),
    /// pydicom only.
    Pydicom,
    /// The DCMTK decoder only: lossless JPEG with a point transform, which pydicom's
    /// pylibjpeg-libjpeg returns unscaled (not multiplied by 2^Pt, as T.81 H.1.2 and
    /// dcmdjpeg do).
    Dcmtk(&'static str),
    /// A raw file decoded by another tool.
    Raw(&'static str),
}

/// One compressed file and how to check it.
struct Case {
    name: String,
    file: PathBuf,
    refs: Refs,
    /// A reference's raw pixels, for [`Refs::Raw`].
    raw: Option<PathBuf>,
}

/// The DCMTK decoder for a transfer syntax.
fn dcmtk_decoder(ts: &str) -> Option<&'static str> {
    match ts {
        "1.2.840.10008.1.2.4.50"
        | "1.2.840.10008.1.2.4.51"
        | "1.2.840.10008.1.2.4.57"
        | "1.2.840.10008.1.2.4.70" => Some("dcmdjpeg"),
        "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => Some("dcmdjpls"),
        "1.2.840.10008.1.2.5" => Some("dcmdrle"),
        _ => None,
    }
}

/// The US value of a top-level element of `data`.
fn us(data: &[u8], tag: Tag) -> Option<u16> {
    let spans = top_level_elements(data, &EXPLICIT).ok()?;
    let s = spans.iter().find(|s| s.tag == tag)?;
    Some(u16::from_le_bytes([
        data[s.value_offset],
        data[s.value_offset + 1],
    ]))
}

/// Decodes `case`, checks the rewritten attributes (panicking on a wrong one), and compares
/// with the references: a line for the summary, an error line when the pixels differ.
fn check(case: &Case, dir: &TempDir, python: bool, dcmtk: bool) -> Result<String, String> {
    let (ts, data) = read_part10(&case.file);
    let fidelity = dimse_codec::fidelity(&ts).unwrap();
    let out = decompress(&data, &ts).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    assert_eq!(out.fidelity, fidelity, "{}", case.name);

    // The rewritten attributes.
    let string = |d: &[u8], tag| find_top_level_string(d, &EXPLICIT, tag).unwrap();
    let photometric_in = string(&data, Tag(0x0028, 0x0004)).unwrap_or_default();
    let photometric = string(&out.data, Tag(0x0028, 0x0004)).unwrap_or_default();
    match &out.photometric {
        Some((from, to)) => {
            assert_eq!((from, to), (&photometric_in, &photometric), "{}", case.name)
        }
        None => assert_eq!(photometric, photometric_in, "{}", case.name),
    }
    let lossy_jpeg = ts.ends_with(".4.50") || ts.ends_with(".4.51");
    if lossy_jpeg && photometric_in.starts_with("YBR_FULL") {
        assert_eq!(
            photometric, "RGB",
            "{}: lossy JPEG YBR is decoded to RGB",
            case.name
        );
    }
    if photometric_in == "YBR_ICT" || photometric_in == "YBR_RCT" {
        assert_eq!(photometric, "RGB", "{}", case.name);
    }
    let samples = us(&out.data, Tag(0x0028, 0x0002)).unwrap_or(1);
    if samples > 1 {
        assert_eq!(
            us(&out.data, Tag(0x0028, 0x0006)),
            Some(0),
            "{}: Planar Configuration",
            case.name
        );
    }
    let lossy = string(&out.data, Tag(0x0028, 0x2110));
    if fidelity == Fidelity::Lossy {
        assert_eq!(
            lossy.as_deref(),
            Some("01"),
            "{}: Lossy Image Compression",
            case.name
        );
    } else {
        assert_eq!(lossy, string(&data, Tag(0x0028, 0x2110)), "{}", case.name);
    }
    let spans = top_level_elements(&out.data, &EXPLICIT).expect("output walks");
    assert!(
        spans.windows(2).all(|w| w[0].tag < w[1].tag),
        "{}: tag order",
        case.name
    );
    assert!(
        !spans.iter().any(|s| s.tag == Tag(0x7FE0, 0x0001)),
        "{}",
        case.name
    );
    let pixel = spans.iter().find(|s| s.tag == Tag(0x7FE0, 0x0010)).unwrap();
    let bits_allocated = us(&out.data, Tag(0x0028, 0x0100)).unwrap();
    let bits_stored = us(&out.data, Tag(0x0028, 0x0101)).unwrap_or(bits_allocated);
    let expected_vr = if bits_allocated > 8 { Vr::OW } else { Vr::OB };
    assert_eq!(pixel.vr, Some(expected_vr), "{}", case.name);
    assert_eq!(pixel.length % 2, 0, "{}", case.name);
    let bytes = usize::from(bits_allocated / 8);
    let rows = usize::from(us(&out.data, Tag(0x0028, 0x0010)).unwrap());
    let columns = usize::from(us(&out.data, Tag(0x0028, 0x0011)).unwrap());
    let frame_len = rows * columns * usize::from(samples) * bytes;
    let ours = &out.data[pixel.value_offset..pixel.value_offset + frame_len * out.frames as usize];
    // Every other element is copied byte for byte.
    let before = top_level_elements(&data, &EXPLICIT).unwrap();
    let changed = [
        Tag(0x0028, 0x0004),
        Tag(0x0028, 0x0006),
        Tag(0x0028, 0x2110),
    ];
    for s in before
        .iter()
        .filter(|s| s.tag.0 != 0x7FE0 && !changed.contains(&s.tag))
    {
        let o = spans.iter().find(|o| o.tag == s.tag).expect("element kept");
        assert_eq!(
            &out.data[o.header_offset..o.end],
            &data[s.header_offset..s.end],
            "{}: ({:04X},{:04X}) copied",
            case.name,
            s.tag.0,
            s.tag.1
        );
    }

    let mut lines = Vec::new();
    if python {
        // pydicom must read what we wrote, and see our pixels.
        let written = dir.join("ours.raw-dataset");
        std::fs::write(&written, &out.data).unwrap();
        let theirs = dir.join("ours.raw");
        let json = run_ok("python3", &[&helper(), p("dataset"), &written, &theirs]);
        assert!(
            std::fs::read(&theirs).unwrap() == ours,
            "{}: pydicom reads our output",
            case.name
        );
        assert_eq!(
            json_field(&json, "photometric"),
            photometric,
            "{}",
            case.name
        );
        if samples > 1 {
            assert_eq!(json_field(&json, "planar"), "0", "{}", case.name);
        }
        if fidelity == Fidelity::Lossy {
            assert_eq!(json_field(&json, "lossy"), "01", "{}", case.name);
        }
    }

    // Lossy JPEG is the one lossy family whose decoders legitimately differ (IDCT and
    // upsampling); JPEG-LS near-lossless and JPEG 2000 decoding are exact.
    let tolerance = match ts.as_str() {
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" => Tolerance::One,
        _ => Tolerance::Exact,
    };
    let mut results: Vec<(String, Result<u32, String>)> = Vec::new();
    let converted = out.photometric.is_some();
    match case.refs {
        Refs::Both(_) | Refs::Pydicom if python => {
            match pydicom_pixels(&case.file, dir, converted) {
                Ok((pixels, attributes)) => {
                    results.push((
                        "pydicom".into(),
                        compare(ours, &pixels, bytes, bits_stored, tolerance),
                    ));
                    if converted {
                        assert_eq!(attributes.photometric, photometric_in, "{}", case.name);
                    }
                }
                Err(e) => lines.push(format!("pydicom cannot decode it ({})", first_line(&e))),
            }
            if let (Refs::Both(Some(tool)), true) = (case.refs, dcmtk) {
                match dcmtk_pixels(tool, &case.file, dir) {
                    Ok(pixels) => results.push((
                        tool.into(),
                        compare(ours, &pixels, bytes, bits_stored, tolerance),
                    )),
                    Err(e) => lines.push(format!("{tool} cannot decode it ({})", first_line(&e))),
                }
            }
        }
        Refs::Dcmtk(tool) if dcmtk => match dcmtk_pixels(tool, &case.file, dir) {
            Ok(pixels) => results.push((
                tool.into(),
                compare(ours, &pixels, bytes, bits_stored, tolerance),
            )),
            Err(e) => lines.push(format!("{tool} cannot decode it ({})", first_line(&e))),
        },
        Refs::Raw(tool) => {
            let pixels = std::fs::read(case.raw.as_ref().unwrap()).unwrap();
            results.push((
                tool.into(),
                compare(ours, &pixels, bytes, bits_stored, tolerance),
            ));
        }
        _ => {}
    }
    assert!(
        !results.is_empty() || !python,
        "{}: no reference decoded it: {lines:?}",
        case.name
    );
    let passed = |r: &(String, Result<u32, String>)| r.1.is_ok();
    let ok = match tolerance {
        // Lossy JPEG: the reference decoders disagree among themselves; one must agree.
        Tolerance::One => results.is_empty() || results.iter().any(passed),
        Tolerance::Exact => results.iter().all(passed),
    };
    let report: Vec<String> = results
        .iter()
        .map(|(who, r)| match r {
            Ok(0) => format!("{who} exact ok"),
            Ok(_) => format!("{who} ±1 ok"),
            Err(e) => format!("{who} DIFFERS: {e}"),
        })
        .chain(lines)
        .collect();
    let line = format!(
        "{:<44} {:<24} {} frame(s){}: {}",
        case.name,
        ts,
        out.frames,
        out.photometric
            .as_ref()
            .map(|(f, t)| format!(", {f} -> {t}"))
            .unwrap_or_default(),
        report.join("; ")
    );
    if ok {
        Ok(line)
    } else {
        Err(line)
    }
}

/// Prints the summary and fails with every differing case.
fn finish(results: Vec<Result<String, String>>) {
    let lines: Vec<&str> = results
        .iter()
        .map(|r| match r {
            Ok(l) | Err(l) => l.as_str(),
        })
        .collect();
    eprintln!("{}", lines.join("\n"));
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} case(s) differ from the references:\n{}",
        failed.len(),
        failed
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s)
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// Every compressed file of the shared corpus.
#[test]
fn corpus_files_match_the_references() {
    let manifest = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("corpus");
    let python = have_python();
    let dcmtk = have_dcmtk();
    let dir = TempDir::new("corpus");
    let mut summary = Vec::new();
    for row in manifest.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (file, ts) = (cols[0], cols[2]);
        if dimse_codec::fidelity(ts).is_none() {
            continue;
        }
        let path = corpus_dir().join(file);
        let (_, data) = read_part10(&path);
        // UN_sequence.dcm names a JPEG syntax but holds no image: it passes as it is.
        if !top_level_elements(&data, &EXPLICIT)
            .expect("corpus file walks")
            .iter()
            .any(|s| s.tag == Tag(0x7FE0, 0x0010))
        {
            summary.push(check_no_pixel_data(file, &path, &data, ts, dcmtk));
            continue;
        }
        let case = Case {
            name: file.to_string(),
            file: path,
            refs: Refs::Both(dcmtk_decoder(ts)),
            raw: None,
        };
        summary.push(check(&case, &dir, python, dcmtk));
    }
    assert!(summary.len() >= 7, "expected the corpus's compressed files");
    finish(summary);
}

/// A data set in a compressed syntax without Pixel Data decompresses to itself (it is already
/// explicit VR little endian), lossless, 0 frames; DCMTK's decoder for the syntax takes it
/// too ("nothing to decompress").
fn check_no_pixel_data(
    file: &str,
    path: &Path,
    data: &[u8],
    ts: &str,
    dcmtk: bool,
) -> Result<String, String> {
    let out = decompress(data, ts).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(out.data, data, "{file}: the data set is unchanged");
    assert_eq!(
        (out.fidelity, out.frames, out.photometric),
        (Fidelity::Lossless, 0, None),
        "{file}"
    );
    let mut line = format!("{file:<44} {ts:<24} no Pixel Data: unchanged");
    if let (true, Some(tool)) = (dcmtk, dcmtk_decoder(ts)) {
        let dir = TempDir::new("no-pixel-data");
        let native = dir.join("native.dcm");
        match run(tool, &[path, &native]) {
            Ok(_) => line.push_str(&format!("; {tool} too")),
            Err(e) => return Err(format!("{line}; {tool} refuses it: {}", first_line(&e))),
        }
    }
    Ok(line)
}

/// Images compressed now by DCMTK: JPEG (lossless SV1 and selectable, baseline, extended
/// 12-bit), JPEG-LS (lossless, near-lossless), RLE; multi-frame, several fragments a frame,
/// with and without a Basic Offset Table.
#[test]
fn dcmtk_compressed_images_match_the_references() {
    if !have_dcmtk() {
        return;
    }
    let python = have_python();
    if !python {
        return;
    }
    let dir = TempDir::new("dcmtk");
    let made = dir.join("made");
    std::fs::create_dir_all(&made).unwrap();
    run_ok("python3", &[&helper(), p("make"), &made]);
    let corpus = |f: &str| corpus_dir().join(f);
    let mk = |f: &str| made.join(f);

    // (source, label, tool, options)
    let mut jobs: Vec<(PathBuf, &str, &str, Vec<&str>)> = Vec::new();
    let everything = [
        mk("mono8.dcm"),
        mk("mono12.dcm"),
        mk("mono16.dcm"),
        corpus("CT_small.dcm"),
        corpus("MR_small.dcm"),
        mk("rgb8.dcm"),
        corpus("SC_rgb_small_odd.dcm"),
        mk("multi8.dcm"),
        mk("multi16.dcm"),
        mk("multi_rgb.dcm"),
    ];
    for src in &everything {
        jobs.push((src.clone(), "jpeg-sv1", "dcmcjpeg", vec!["+e1"]));
        jobs.push((src.clone(), "jpeg-lossless", "dcmcjpeg", vec!["+el"]));
        jobs.push((src.clone(), "rle", "dcmcrle", vec![]));
    }
    let eight_bit = [
        mk("mono8.dcm"),
        mk("rgb8.dcm"),
        corpus("SC_rgb_small_odd.dcm"),
        mk("multi8.dcm"),
        mk("multi_rgb.dcm"),
    ];
    for src in &eight_bit {
        jobs.push((src.clone(), "jpeg-baseline", "dcmcjpeg", vec!["+eb"]));
    }
    // Colour variants: 4:4:4 YBR_FULL, and RGB coded without a colour transform.
    jobs.push((
        mk("rgb8.dcm"),
        "jpeg-baseline-444",
        "dcmcjpeg",
        vec!["+eb", "+s4"],
    ));
    jobs.push((
        mk("rgb8.dcm"),
        "jpeg-baseline-rgb",
        "dcmcjpeg",
        vec!["+eb", "+cr"],
    ));
    jobs.push((
        mk("multi_rgb.dcm"),
        "jpeg-extended-rgb",
        "dcmcjpeg",
        vec!["+ee", "+cr"],
    ));
    // 12-bit DCT (process 4) from 12- and 16-bit sources (DCMTK scales the latter to 12 bits).
    for src in [
        mk("mono12.dcm"),
        corpus("CT_small.dcm"),
        corpus("MR_small.dcm"),
        mk("multi16.dcm"),
    ] {
        jobs.push((src, "jpeg-extended", "dcmcjpeg", vec!["+ee"]));
    }
    // Lossless JPEG with each of the other predictors, and with a point transform, grey and
    // colour (the crate's own fast path decodes these; src/jpeg/lossless.rs).
    for (label, options) in [
        ("jpeg-sv2", ["+el", "+sv", "2"]),
        ("jpeg-sv3", ["+el", "+sv", "3"]),
        ("jpeg-sv4", ["+el", "+sv", "4"]),
        ("jpeg-sv5", ["+el", "+sv", "5"]),
        ("jpeg-sv7", ["+el", "+sv", "7"]),
        ("jpeg-pt2", ["+el", "+pt", "2"]),
    ] {
        for src in [
            mk("multi16.dcm"),
            mk("multi_rgb.dcm"),
            corpus("MR_small.dcm"),
        ] {
            jobs.push((src, label, "dcmcjpeg", options.to_vec()));
        }
    }
    // Several fragments a frame, with and without a Basic Offset Table.
    jobs.push((
        mk("multi16.dcm"),
        "jpeg-sv1-fragments",
        "dcmcjpeg",
        vec!["+e1", "+fs", "1"],
    ));
    jobs.push((
        mk("multi16.dcm"),
        "jpeg-sv1-fragments-nobot",
        "dcmcjpeg",
        vec!["+e1", "+fs", "1", "-ot"],
    ));
    jobs.push((
        mk("multi_rgb.dcm"),
        "jpeg-baseline-nobot",
        "dcmcjpeg",
        vec!["+eb", "-ot"],
    ));
    jobs.push((mk("multi16.dcm"), "rle-nobot", "dcmcrle", vec!["-ot"]));
    // JPEG-LS: grey lossless and near-lossless; colour without interleaving.
    for src in [
        mk("mono8.dcm"),
        mk("mono12.dcm"),
        mk("mono16.dcm"),
        corpus("CT_small.dcm"),
        corpus("MR_small.dcm"),
        mk("multi16.dcm"),
    ] {
        jobs.push((src, "jpegls", "dcmcjpls", vec![]));
    }
    // DCMTK refuses near-lossless coding of signed images.
    for src in [
        mk("mono8.dcm"),
        mk("mono12.dcm"),
        mk("mono16.dcm"),
        mk("multi16.dcm"),
    ] {
        jobs.push((src, "jpegls-near", "dcmcjpls", vec!["+en"]));
    }
    // Colour without interleaving (ILV 0), 8, 12 and 16 bits, single and multi-frame.
    // (dcmdjpls cannot read DCMTK's own 16-bit colour ILV 0 streams, "Invalid compressed
    // image data": pydicom is the reference there; DCMTK's near-lossless coding of 12-bit
    // colour aborts in its CharLS, so that one is lossless only.)
    for src in [
        mk("rgb8.dcm"),
        corpus("SC_rgb_small_odd.dcm"),
        mk("multi_rgb.dcm"),
        mk("rgb16.dcm"),
    ] {
        jobs.push((src.clone(), "jpegls-ilv0", "dcmcjpls", vec!["+in"]));
        jobs.push((src, "jpegls-near-ilv0", "dcmcjpls", vec!["+en", "+in"]));
    }
    jobs.push((
        mk("multi_rgb12.dcm"),
        "jpegls-ilv0",
        "dcmcjpls",
        vec!["+in"],
    ));
    jobs.push((
        mk("multi16.dcm"),
        "jpegls-fragments-nobot",
        "dcmcjpls",
        vec!["+fs", "1", "-ot"],
    ));

    let mut summary = Vec::new();
    for (i, (src, label, tool, options)) in jobs.iter().enumerate() {
        let stem = src.file_stem().unwrap().to_string_lossy();
        let name = format!("{stem}.{label}");
        let out = dir.join(&format!("{i}-{name}.dcm"));
        let mut args: Vec<&Path> = options.iter().map(|o| p(o)).collect();
        args.push(src);
        args.push(&out);
        run_ok(tool, &args);
        let (ts, _) = read_part10(&out);
        let refs = match dcmtk_decoder(&ts) {
            Some(tool) if options.contains(&"+pt") => Refs::Dcmtk(tool),
            tool => Refs::Both(tool),
        };
        let case = Case {
            name,
            file: out.clone(),
            refs,
            raw: None,
        };
        summary.push(check(&case, &dir, python, true));
    }
    finish(summary);
}

/// JPEG-LS line- and sample-interleaved colour (ILV 1 and 2; DCMTK's default for colour),
/// decoded by the crate's own scan decoder, must equal dcmdjpls's and pylibjpeg-libjpeg's
/// decoding exactly: DCMTK's line and sample interleaving, lossless and near-lossless (the
/// default NEAR 2 and others), default and custom thresholds (an LSE segment), 8, 12 and 16
/// bits, single and multi-frame, odd sizes; and pydicom's two interleaved test files.
#[test]
fn interleaved_colour_jpegls_matches_the_references() {
    if !have_dcmtk() || !have_python() {
        return;
    }
    let dir = TempDir::new("jpegls-ilv");
    let made = dir.join("made");
    std::fs::create_dir_all(&made).unwrap();
    run_ok("python3", &[&helper(), p("make"), &made]);
    let mk = |f: &str| made.join(f);
    let modes: [(&str, &[&str]); 8] = [
        ("ilv1", &["+il"]),
        ("ilv2", &["+is"]),
        ("near-ilv1", &["+en", "+il"]),
        ("near-ilv2", &["+en", "+is"]),
        ("near1-ilv1", &["+en", "+md", "1", "+il"]),
        ("near7-ilv2", &["+en", "+md", "7", "+is"]),
        (
            "thresholds-ilv1",
            &["+il", "+t1", "2", "+t2", "5", "+t3", "9", "+rs", "32"],
        ),
        // (DCMTK's sample-interleaved coder aborts when given a RESET.)
        (
            "thresholds-near-ilv2",
            &["+en", "+is", "+t1", "5", "+t2", "12", "+t3", "30"],
        ),
    ];
    // (source, whether every mode applies)
    let sources = [
        (corpus_dir().join("SC_rgb_small_odd.dcm"), false),
        (mk("rgb8.dcm"), true),
        (mk("multi_rgb.dcm"), true),
        (mk("rgb_odd.dcm"), true),
        (mk("rgb16.dcm"), true),
        (mk("rgb16_odd.dcm"), true),
        (mk("multi_rgb12.dcm"), true),
    ];
    let mut files = Vec::new();
    for (i, (src, all)) in sources.iter().enumerate() {
        for (label, options) in &modes {
            // DCMTK's near-lossless colour coding of SC_rgb_small_odd.dcm gives streams
            // that neither dcmdjpls nor libjpeg can read: not a test image.
            if !all && label.contains("near") {
                continue;
            }
            let stem = src.file_stem().unwrap().to_string_lossy();
            let name = format!("{stem}.jpegls-{label}");
            let out = dir.join(&format!("{i}-{name}.dcm"));
            let mut args: Vec<&Path> = options.iter().map(|o| p(o)).collect();
            args.push(src);
            args.push(&out);
            run_ok("dcmcjpls", &args);
            files.push((name, out));
        }
    }
    for name in ["SC_rgb_jls_lossy_line.dcm", "SC_rgb_jls_lossy_sample.dcm"] {
        match run_ok("python3", &[&helper(), p("testdata"), p(name)]).trim() {
            "-" => skip(&format!("pydicom's test file {name}")),
            path => files.push((name.to_string(), PathBuf::from(path))),
        }
    }
    let mut summary = Vec::new();
    let mut interleave_modes = std::collections::BTreeSet::new();
    for (name, file) in files {
        let (ts, data) = read_part10(&file);
        interleave_modes.insert(first_scan_interleave(&data));
        let case = Case {
            name,
            file,
            refs: Refs::Both(dcmtk_decoder(&ts)),
            raw: None,
        };
        summary.push(check(&case, &dir, true, true));
    }
    // The files really are interleaved, both ways.
    assert_eq!(
        interleave_modes.into_iter().collect::<Vec<_>>(),
        [1, 2],
        "interleave modes of the test files"
    );
    finish(summary);
}

/// The interleave mode (ILV) of the first scan of the first JPEG-LS frame in `data`.
fn first_scan_interleave(data: &[u8]) -> u8 {
    let sos = data
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .expect("a JPEG-LS scan");
    let count = usize::from(data[sos + 4]);
    data[sos + 5 + 2 * count + 1]
}

/// JPEG 2000 written by pylibjpeg-openjpeg: lossless and lossy, with and without the
/// component transform (YBR_RCT / YBR_ICT), grey 12 and 16 bits, multi-frame.
#[test]
fn jpeg2000_images_match_openjpeg() {
    if !have_python() {
        return;
    }
    let dir = TempDir::new("j2k");
    let made = dir.join("made");
    std::fs::create_dir_all(&made).unwrap();
    run_ok("python3", &[&helper(), p("make"), &made]);
    let jobs = [
        ("rgb8.dcm", "lossless"),
        ("rgb8.dcm", "lossy"),
        ("rgb8.dcm", "lossless-mct"),
        ("rgb8.dcm", "lossy-mct"),
        ("mono12.dcm", "lossless"),
        ("mono12.dcm", "lossy"),
        ("multi16.dcm", "lossless"),
        ("multi16.dcm", "lossy"),
        ("multi_rgb.dcm", "lossy-mct"),
    ];
    let mut summary = Vec::new();
    // Frames located by an Extended Offset Table (the Basic one empty).
    let multi = dir.join("multi16.eot-source.dcm");
    run_ok(
        "python3",
        &[
            &helper(),
            p("j2k"),
            &made.join("multi16.dcm"),
            &multi,
            p("lossless"),
        ],
    );
    let eot = dir.join("multi16.eot.dcm");
    run_ok("python3", &[&helper(), p("extended"), &multi, &eot]);
    let case = Case {
        name: "multi16.dcm.j2k-lossless-extended-offsets".into(),
        file: eot,
        refs: Refs::Pydicom,
        raw: None,
    };
    summary.push(check(&case, &dir, true, false));
    for (src, mode) in jobs {
        let out = dir.join(&format!("{src}.{mode}.dcm"));
        run_ok(
            "python3",
            &[&helper(), p("j2k"), &made.join(src), &out, p(mode)],
        );
        let case = Case {
            name: format!("{src}.j2k-{mode}"),
            file: out,
            refs: Refs::Pydicom,
            raw: None,
        };
        summary.push(check(&case, &dir, true, false));
    }
    finish(summary);
}

/// HTJ2K written by OpenJPH's ojph_compress, compared with ojph_expand's output and with
/// pydicom's (OpenJPEG) decoding.
#[test]
fn htj2k_images_match_openjph() {
    if !have_python() || !have_openjph() {
        return;
    }
    let dir = TempDir::new("htj2k");
    let made = dir.join("made");
    std::fs::create_dir_all(&made).unwrap();
    run_ok("python3", &[&helper(), p("make"), &made]);
    // (source, transfer syntax, ojph_compress options)
    let jobs: [(&str, &str, &[&str]); 4] = [
        (
            "mono16.dcm",
            "1.2.840.10008.1.2.4.201",
            &["-reversible", "true"],
        ),
        (
            "rgb8.dcm",
            "1.2.840.10008.1.2.4.201",
            &["-reversible", "true"],
        ),
        (
            "mono8.dcm",
            "1.2.840.10008.1.2.4.202",
            &["-reversible", "true", "-prog_order", "RPCL"],
        ),
        (
            "mono16.dcm",
            "1.2.840.10008.1.2.4.203",
            &["-qstep", "0.001"],
        ),
    ];
    let mut summary = Vec::new();
    for (i, (src, ts, options)) in jobs.iter().enumerate() {
        // The source's pixels as PGM / PPM (big-endian samples above 8 bits).
        let raw = dir.join(&format!("{i}.raw"));
        let json = run_ok("python3", &[&helper(), p("array"), &made.join(src), &raw]);
        let pixels = std::fs::read(&raw).unwrap();
        let data = read_part10(&made.join(src)).1;
        let (rows, columns) = (
            us(&data, Tag(0x0028, 0x0010)).unwrap(),
            us(&data, Tag(0x0028, 0x0011)).unwrap(),
        );
        let bits: u32 = json_field(&json, "bits_stored").parse().unwrap();
        let samples: u32 = json_field(&json, "samples").parse().unwrap();
        let kind = if samples == 3 { "P6" } else { "P5" };
        let ext = if samples == 3 { "ppm" } else { "pgm" };
        let mut image = format!("{kind}\n{columns} {rows}\n{}\n", (1u32 << bits) - 1).into_bytes();
        if bits > 8 {
            image.extend(pixels.chunks(2).flat_map(|c| [c[1], c[0]]));
        } else {
            image.extend(&pixels);
        }
        let input = dir.join(&format!("{i}.{ext}"));
        std::fs::write(&input, image).unwrap();
        let codestream = dir.join(&format!("{i}.j2c"));
        let mut args: Vec<&Path> = vec![p("-i"), &input, p("-o"), &codestream];
        args.extend(options.iter().map(|o| p(o)));
        run_ok("ojph_compress", &args);
        let expanded = dir.join(&format!("{i}.out.{ext}"));
        run_ok("ojph_expand", &[p("-i"), &codestream, p("-o"), &expanded]);
        // Back from PNM to native little-endian samples.
        let pnm = std::fs::read(&expanded).unwrap();
        let mut newlines = 0;
        let header_end = pnm
            .iter()
            .position(|&b| {
                newlines += usize::from(b == b'\n');
                newlines == 3
            })
            .unwrap()
            + 1;
        let body = &pnm[header_end..];
        let reference: Vec<u8> = if bits > 8 {
            body.chunks(2).flat_map(|c| [c[1], c[0]]).collect()
        } else {
            body.to_vec()
        };
        let reference_path = dir.join(&format!("{i}.reference.raw"));
        std::fs::write(&reference_path, reference).unwrap();

        let file = dir.join(&format!("{i}.dcm"));
        run_ok(
            "python3",
            &[
                &helper(),
                p("encapsulate"),
                &made.join(src),
                &file,
                p(ts),
                &codestream,
            ],
        );
        let name = format!("{src}.htj2k-{}", &ts[ts.len() - 3..]);
        let openjph = Case {
            name: name.clone(),
            file: file.clone(),
            refs: Refs::Raw("ojph_expand"),
            raw: Some(reference_path),
        };
        let lossy = ts.ends_with(".203");
        // OpenJPH's irreversible path rounds its own way; OpenJPEG (via pydicom) is the
        // exact reference there.
        if !lossy {
            summary.push(check(&openjph, &dir, true, false));
        }
        let openjpeg = Case {
            name,
            file,
            refs: Refs::Pydicom,
            raw: None,
        };
        summary.push(check(&openjpeg, &dir, true, false));
    }
    finish(summary);
}
