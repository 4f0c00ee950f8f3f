//! Sending what the field has (issue 15): lenient reading, decompression on send, more than
//! 128 presentation contexts, and the C-MOVE side of `dimse serve`, against DCMTK and
//! pynetdicom, with pixels checked against reference decoders.
//!
//! Interface under test:
//! * `dimse store [--decompress never|lossless|lossy] [--strict] --aec B HOST PORT PATHS...`
//!   prints one stdout line per file — `sent PATH`, `sent PATH (decompressed from <ts>)`,
//!   `sent PATH (converted from <ts> to <ts>)`, `refused PATH: ...`, `unreadable PATH: ...`,
//!   `not sent PATH: ...` — plus `warning: PATH: ...` lines and a summary `store: N sent, M
//!   failed (...)`; exit status 0 only when every file was sent (see [`StoreReport`]).
//! * `dimse serve --decompress never|lossless|lossy` applies the policy to C-MOVE/C-GET
//!   sub-operations; a C-MOVE that matches nothing answers Success with zero sub-operations.
//!
//! Test files: the shared corpus, the test files shipped inside pydicom
//! (`pydicom/data/test_files`), and files made here once per test binary under
//! `$CARGO_TARGET_TMPDIR/field_send/<pid>` ([`work_root`]): uncompressed 8/12/16-bit grayscale
//! and RGB, single and multi-frame, by `tests/peers/field_files.py` (pydicom); compressed from
//! those and from corpus files by DCMTK 3.6.7 (`dcmcjpeg +e1|+el|+eb|+ee`, `dcmcjpls [+en]`,
//! `dcmcrle`, all with `+ua`: a fresh SOP Instance UID each, see [`GENERATED`]); JPEG 2000
//! lossless and lossy (one study) by pydicom with the pylibjpeg-openjpeg encoder.
//!
//! Pixels are compared by `tests/peers/pixels.py` (pydicom with the pylibjpeg plugins, plus
//! DCMTK's `dcmdjpeg`/`dcmdjpls`/`dcmdrle` output as a second reference): see
//! [`check_decompressed`] for the rules.
//!
//! DCMTK options used (3.6.7 `--help`): `storescp -v -pm +B +uf -aet A -od DIR PORT` (without
//! `+xa` it accepts only the uncompressed syntaxes: implicit VR LE, explicit VR LE and BE;
//! `-pm` any SOP class; `+B` writes what arrived bit for bit; `+uf` unique file names; `-v`
//! logs `Association Received` per association); `dcmsend -nh +f +ma +dly -aet A -aec B +crf
//! REPORT HOST PORT FILES...` (no halt, read files without meta, several associations,
//! decompress lossy too, per-file report, see [`parse_dcmsend_report`]); `movescu -v|-d -S
//! -aet A -aec B -aem DEST -k KEY=VALUE HOST PORT`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use dimse_tests::*;

const SCP_AET: &str = "STORESCP";
const ARCHIVE_AET: &str = "ARCHIVE";
const DEST_AET: &str = "DEST";

/// Bound for one `dimse store` / `dcmsend` of every test file (~120 files, ~3 MB, with
/// decompression in a debug build on a shared 2-core machine).
const STORE_ALL_TIMEOUT: Duration = Duration::from_secs(300);
/// Bound for a Python helper run (file generation, pixel comparison).
const PYTHON_TIMEOUT: Duration = Duration::from_secs(180);
const RETRIEVE_TIMEOUT: Duration = Duration::from_secs(120);

const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";
/// What `storescp` without `+xa` accepts.
const UNCOMPRESSED: &[&str] = &[IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE];
const JPEG_LOSSY: &[&str] = &["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"];
const J2K: &[&str] = &[
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
];

/// pydicom's copy of JPEG2000.dcm "with 4 of the encoded pixel data bytes replaced with the
/// Sequence Delimiter ... almost certainly not a valid JPEG anymore" (its README): the SIZ
/// marker is destroyed, openjpeg cannot read the header. The one JPEG 2000 file that must not
/// be reported sent decompressed.
const CORRUPT_J2K: &str = "JPEG2000-embedded-sequence-delimiter.dcm";

/// pydicom test files above this size are left out (none is today; the set is ~3 MB).
const MAX_PYDICOM_FILE: u64 = 4 << 20;

// ---------------------------------------------------------------------------
// Generated files (once per test binary)
// ---------------------------------------------------------------------------

/// `$CARGO_TARGET_TMPDIR/field_send/<pid>`: this run's generated files. Directories of earlier
/// runs whose process is gone are removed, so only the last run's files stay (for inspection).
fn work_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("field_send");
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let alive = name
                    .parse::<u32>()
                    .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                if !alive {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let root = base.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("create the field_send work directory");
        root
    })
}

/// A subdirectory of [`work_root`], emptied and created.
fn fresh_subdir(name: &str) -> PathBuf {
    let dir = work_root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create work subdir");
    dir
}

/// Runs `python3 tests/peers/<script> args...`, panicking with its output on failure.
#[track_caller]
fn python<I, S>(script: &str, args: I) -> RunOutput
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new("python3");
    cmd.arg(peer_script(script)).args(args);
    let out = run(cmd, PYTHON_TIMEOUT);
    out.assert_success(&format!("python3 tests/peers/{script}"));
    out
}

/// Sorted `.dcm` files directly in `dir`.
fn dcm_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "dcm"))
        .collect();
    files.sort();
    files
}

/// The uncompressed images `field_files.py sources` makes (gray8, gray8_mf, gray12,
/// gray12_mf, gray16s_mf, rgb, rgb_mf): its output directory.
fn sources_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = fresh_subdir("sources");
        python(
            "field_files.py",
            [
                "sources".as_ref(),
                dir.as_os_str(),
                corpus_dir().as_os_str(),
            ],
        );
        dir
    })
}

/// Where a generated file's uncompressed original comes from.
#[derive(Clone, Copy, Debug)]
enum Src {
    /// A file of the shared corpus.
    Corpus(&'static str),
    /// A file of [`sources_dir`].
    Made(&'static str),
}

impl Src {
    fn path(self) -> PathBuf {
        match self {
            Src::Corpus(name) => corpus_dir().join(name),
            Src::Made(name) => sources_dir().join(name),
        }
    }
}

/// DCMTK-compressed test files: (output name, tool, options, original). Every run adds `+ua`
/// (always a new SOP Instance UID). Checked by hand against pydicom and DCMTK decodes: the
/// lossless ones decode exactly to their original.
const GENERATED: &[(&str, &str, &[&str], Src)] = &[
    // JPEG lossless, process 14 selection value 1 (1.2.840.10008.1.2.4.70)
    (
        "jpeg_sv1_ct.dcm",
        "dcmcjpeg",
        &["+e1"],
        Src::Corpus("CT_small.dcm"),
    ),
    (
        "jpeg_sv1_gray8_mf.dcm",
        "dcmcjpeg",
        &["+e1"],
        Src::Made("gray8_mf.dcm"),
    ),
    (
        "jpeg_sv1_gray12_mf.dcm",
        "dcmcjpeg",
        &["+e1"],
        Src::Made("gray12_mf.dcm"),
    ),
    (
        "jpeg_sv1_rgb_odd.dcm",
        "dcmcjpeg",
        &["+e1"],
        Src::Corpus("SC_rgb_small_odd.dcm"),
    ),
    (
        "jpeg_sv1_rgb_mf.dcm",
        "dcmcjpeg",
        &["+e1"],
        Src::Made("rgb_mf.dcm"),
    ),
    // JPEG lossless, process 14 (1.2.840.10008.1.2.4.57, selection value 6)
    (
        "jpeg_ll_mr.dcm",
        "dcmcjpeg",
        &["+el"],
        Src::Corpus("MR_small.dcm"),
    ),
    (
        "jpeg_ll_gray16s_mf.dcm",
        "dcmcjpeg",
        &["+el"],
        Src::Made("gray16s_mf.dcm"),
    ),
    (
        "jpeg_ll_rgb_mf.dcm",
        "dcmcjpeg",
        &["+el"],
        Src::Made("rgb_mf.dcm"),
    ),
    // JPEG baseline, 8 bit (1.2.840.10008.1.2.4.50): grayscale; colour YBR_FULL_422 (odd
    // size, multi-frame), YBR_FULL 4:4:4 (+s4) and RGB (+cr)
    (
        "jpeg_base_gray8.dcm",
        "dcmcjpeg",
        &["+eb"],
        Src::Made("gray8.dcm"),
    ),
    (
        "jpeg_base_gray8_mf.dcm",
        "dcmcjpeg",
        &["+eb"],
        Src::Made("gray8_mf.dcm"),
    ),
    (
        "jpeg_base_rgb_odd.dcm",
        "dcmcjpeg",
        &["+eb"],
        Src::Corpus("SC_rgb_small_odd.dcm"),
    ),
    (
        "jpeg_base_rgb_mf.dcm",
        "dcmcjpeg",
        &["+eb"],
        Src::Made("rgb_mf.dcm"),
    ),
    (
        "jpeg_base_rgb_444.dcm",
        "dcmcjpeg",
        &["+eb", "+s4"],
        Src::Made("rgb.dcm"),
    ),
    (
        "jpeg_base_rgb_cr.dcm",
        "dcmcjpeg",
        &["+eb", "+cr"],
        Src::Made("rgb.dcm"),
    ),
    // JPEG extended, 12 bit (1.2.840.10008.1.2.4.51)
    (
        "jpeg_ext_gray12.dcm",
        "dcmcjpeg",
        &["+ee"],
        Src::Made("gray12.dcm"),
    ),
    (
        "jpeg_ext_gray12_mf.dcm",
        "dcmcjpeg",
        &["+ee"],
        Src::Made("gray12_mf.dcm"),
    ),
    // JPEG-LS lossless (1.2.840.10008.1.2.4.80)
    (
        "jls_ll_ct.dcm",
        "dcmcjpls",
        &[],
        Src::Corpus("CT_small.dcm"),
    ),
    (
        "jls_ll_gray8_mf.dcm",
        "dcmcjpls",
        &[],
        Src::Made("gray8_mf.dcm"),
    ),
    (
        "jls_ll_rgb_odd.dcm",
        "dcmcjpls",
        &[],
        Src::Corpus("SC_rgb_small_odd.dcm"),
    ),
    (
        "jls_ll_rgb_mf.dcm",
        "dcmcjpls",
        &[],
        Src::Made("rgb_mf.dcm"),
    ),
    // JPEG-LS near-lossless, NEAR 2 (1.2.840.10008.1.2.4.81; DCMTK refuses signed input)
    (
        "jls_nl_gray8.dcm",
        "dcmcjpls",
        &["+en"],
        Src::Made("gray8.dcm"),
    ),
    (
        "jls_nl_gray12_mf.dcm",
        "dcmcjpls",
        &["+en"],
        Src::Made("gray12_mf.dcm"),
    ),
    ("jls_nl_rgb.dcm", "dcmcjpls", &["+en"], Src::Made("rgb.dcm")),
    // RLE lossless (1.2.840.10008.1.2.5)
    ("rle_ct.dcm", "dcmcrle", &[], Src::Corpus("CT_small.dcm")),
    (
        "rle_gray8_mf.dcm",
        "dcmcrle",
        &[],
        Src::Made("gray8_mf.dcm"),
    ),
    (
        "rle_gray12_mf.dcm",
        "dcmcrle",
        &[],
        Src::Made("gray12_mf.dcm"),
    ),
    (
        "rle_rgb_odd.dcm",
        "dcmcrle",
        &[],
        Src::Corpus("SC_rgb_small_odd.dcm"),
    ),
    ("rle_rgb_mf.dcm", "dcmcrle", &[], Src::Made("rgb_mf.dcm")),
];

/// The [`GENERATED`] files (the caller has checked that the DCMTK tools are there).
fn dcmtk_generated() -> &'static [PathBuf] {
    static FILES: OnceLock<Vec<PathBuf>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = fresh_subdir("dcmtk");
        GENERATED
            .iter()
            .map(|(name, tool, options, src)| {
                let tool_path = find_peer(Peer::Dcmtk(tool))
                    .unwrap_or_else(|| panic!("DCMTK {tool} not found"));
                let out = dir.join(name);
                let mut cmd = tool_path.command();
                cmd.args(*options).arg("+ua").arg(src.path()).arg(&out);
                run(cmd, CLIENT_TIMEOUT).assert_success(&format!("{tool} {options:?} {src:?}"));
                out
            })
            .collect()
    })
}

/// The JPEG 2000 study `field_files.py j2k` makes: seven files, lossless and lossy, grayscale
/// 8/12/16-bit and RGB (YBR_RCT, YBR_ICT, plain RGB), single and multi-frame.
fn j2k_files() -> &'static [PathBuf] {
    static FILES: OnceLock<Vec<PathBuf>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = fresh_subdir("j2k");
        python(
            "field_files.py",
            [
                "j2k".as_ref(),
                dir.as_os_str(),
                corpus_dir().as_os_str(),
                sources_dir().as_os_str(),
            ],
        );
        let files = dcm_files(&dir);
        assert_eq!(files.len(), 7, "field_files.py j2k made {files:?}");
        files
    })
}

// ---------------------------------------------------------------------------
// What the files are
// ---------------------------------------------------------------------------

/// `field_files.py info` for one file ("-" fields become `None`).
#[derive(Clone, Debug)]
struct FileInfo {
    path: PathBuf,
    /// Transfer syntax of the file meta.
    ts: Option<String>,
    /// (0008,0018) of the data set.
    ds_instance: Option<String>,
    /// (0002,0003) of the file meta.
    meta_instance: Option<String>,
    study: Option<String>,
    has_pixels: bool,
}

impl FileInfo {
    /// The SOP Instance UIDs a receiver may file the instance under.
    fn instance_uids(&self) -> Vec<&str> {
        let mut uids: Vec<&str> = self.ds_instance.iter().map(String::as_str).collect();
        if let Some(m) = &self.meta_instance {
            if !uids.contains(&m.as_str()) {
                uids.push(m);
            }
        }
        uids
    }

    fn ts_in(&self, set: &[&str]) -> bool {
        self.ts.as_deref().is_some_and(|t| set.contains(&t))
    }

    fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

fn file_infos(paths: &[PathBuf]) -> Vec<FileInfo> {
    let mut args: Vec<&std::ffi::OsStr> = vec!["info".as_ref()];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let out = python("field_files.py", args);
    let opt = |s: &str| (s != "-").then(|| s.to_owned());
    let infos: Vec<FileInfo> = out
        .stdout
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 6, "field_files.py info line {line:?}");
            FileInfo {
                path: PathBuf::from(f[0]),
                ts: opt(f[1]),
                ds_instance: opt(f[2]),
                meta_instance: opt(f[3]),
                study: opt(f[4]),
                has_pixels: f[5] == "pixels",
            }
        })
        .collect();
    assert_eq!(infos.len(), paths.len(), "{}", out.stdout);
    infos
}

fn display(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

/// The pydicom test files to send besides the corpus: every `.dcm` in pydicom's
/// `test_files` whose name is not a corpus file (those are the same files) and which is no
/// bigger than [`MAX_PYDICOM_FILE`].
fn pydicom_extra_files() -> Vec<PathBuf> {
    let dir = pydicom_test_files_dir().expect("pydicom's test_files directory");
    dcm_files(&dir)
        .into_iter()
        .filter(|p| !corpus_dir().join(p.file_name().unwrap()).exists())
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= MAX_PYDICOM_FILE))
        .collect()
}

// ---------------------------------------------------------------------------
// Receivers and senders
// ---------------------------------------------------------------------------

/// DCMTK `storescp -v -pm +B +uf` without `+xa`: uncompressed syntaxes only.
fn start_uncompressed_storescp(storescp: &PeerPath, port: u16, aet: &str, dir: &Path) -> Server {
    let mut cmd = storescp.command();
    cmd.args(["-v", "-pm", "+B", "+uf", "-aet", aet, "-od"])
        .arg(dir)
        .arg(port.to_string())
        .current_dir(dir);
    let mut server = Server::spawn("DCMTK storescp (uncompressed only)", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);
    server
}

/// `dimse store [extra...] --aec <aec> 127.0.0.1 <port> files...`.
fn dimse_store(extra: &[&str], aec: &str, port: u16, files: &[PathBuf]) -> RunOutput {
    let mut cmd = dimse(["store"]);
    cmd.args(extra)
        .args(["--aec", aec, LOCALHOST, &port.to_string()])
        .args(files);
    run(cmd, STORE_ALL_TIMEOUT)
}

/// Checks the shape of a store report: one outcome line per input, a summary whose counts
/// match, exit status 0 exactly when everything was sent.
fn check_report_shape(
    report: &StoreReport,
    inputs: &[String],
    out: &RunOutput,
    failures: &mut Vec<String>,
) {
    let mut sent = 0;
    for p in inputs {
        match report.outcome(p) {
            Ok(o) if o.is_sent() => sent += 1,
            Ok(_) => {}
            Err(e) => failures.push(e),
        }
    }
    let failed = inputs.len() - sent;
    match &report.summary {
        Some((n, m, _)) if (*n, *m) == (sent, failed) => {}
        Some((n, m, line)) => failures.push(format!(
            "summary {line:?} says {n} sent, {m} failed; the per-file lines say {sent} sent, {failed} failed"
        )),
        None => failures.push("no `store: N sent, M failed` summary line on stdout".into()),
    }
    if out.status.success() != (failed == 0) {
        failures.push(format!(
            "exit status {} with {failed} file(s) not sent (want 0 exactly when all were sent)",
            out.status
        ));
    }
}

fn report_context(out: &RunOutput) -> String {
    format!(
        "--- dimse store stdout ---\n{}\n--- stderr (tail) ---\n{}",
        out.stdout,
        tail(&out.stderr, 4000)
    )
}

fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("...{}", &text[start..])
}

// ---------------------------------------------------------------------------
// Checking what arrived
// ---------------------------------------------------------------------------

/// One line of `pixels.py` output: `key=value` fields.
#[derive(Clone, Debug, Default)]
struct PixelResult {
    fields: BTreeMap<String, String>,
}

impl PixelResult {
    fn get(&self, key: &str) -> &str {
        self.fields.get(key).map(String::as_str).unwrap_or("")
    }

    /// `diffN` as a number, `None` for an error (the text is in the field).
    fn diff(&self, n: usize) -> Option<u64> {
        self.fields.get(&format!("diff{n}"))?.parse().ok()
    }

    fn summary(&self) -> String {
        self.fields
            .iter()
            .map(|(k, v)| format!("{k}={}", v.chars().take(300).collect::<String>()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Runs `pixels.py` on `jobs` (received, original, DCMTK references...): one result per job,
/// in order.
fn compare_pixels(jobs: &[(PathBuf, PathBuf, Vec<PathBuf>)], scratch: &Path) -> Vec<PixelResult> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let list = scratch.join("pixel-jobs.tsv");
    let text: String = jobs
        .iter()
        .map(|(rec, orig, refs)| {
            let mut cols = vec![rec.display().to_string(), orig.display().to_string()];
            cols.extend(refs.iter().map(|r| r.display().to_string()));
            cols.join("\t") + "\n"
        })
        .collect();
    std::fs::write(&list, text).expect("write pixel jobs");
    let out = python("pixels.py", [&list]);
    let results: Vec<PixelResult> = out
        .stdout
        .lines()
        .map(|line| PixelResult {
            fields: line
                .split('\t')
                .skip(1)
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })
        .collect();
    assert_eq!(
        results.len(),
        jobs.len(),
        "pixels.py answered {} of {} jobs:\n{}\n{}",
        results.len(),
        jobs.len(),
        out.stdout,
        out.stderr
    );
    results
}

/// The rules for a file that arrived decompressed (`original` is what was sent):
///
/// * native transfer syntax (explicit or implicit VR little endian);
/// * every other element unchanged (`elements=same`; pixels.py leaves out Pixel Data,
///   Photometric Interpretation, Planar Configuration and (0028,2110/2112/2114));
/// * pixels, compared by pydicom as RGB where the data is colour: JPEG 2000 equal to openjpeg's
///   decode (`diff0`); lossy JPEG within ±1 of libjpeg's (`diff0`) or DCMTK dcmdjpeg's
///   (`diff1`); everything else (lossless JPEG, JPEG-LS — near-lossless decoding is exact too —
///   RLE) equal to every reference that decodes it, and at least one must;
/// * lossy originals (pixels.py `lossy=yes`: (0028,2110) "01", JPEG baseline/extended,
///   JPEG-LS NEAR > 0, JPEG 2000 9-7 wavelet) arrive with (0028,2110) "01"; lossless ones not
///   marked lossy do not gain it;
/// * Photometric Interpretation: monochrome and palette unchanged, never YBR_RCT / YBR_ICT /
///   YBR_PARTIAL_420 (compressed-only values); Planar Configuration present for colour.
fn check_decompressed(name: &str, r: &PixelResult) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(e) = r.fields.get("error") {
        return vec![format!("{name}: pixels.py failed: {e}")];
    }
    let ts = r.get("ts");
    if ts != EXPLICIT_LE && ts != IMPLICIT_LE {
        errors.push(format!(
            "{name}: arrived in {ts}, want explicit or implicit VR little endian"
        ));
    }
    if r.get("elements") != "same" {
        errors.push(format!(
            "{name}: elements other than the pixel encoding changed: {}",
            r.get("elements")
        ));
    }
    let orig_ts = r.get("orig_ts");
    if r.get("diff0") != "nopixels" {
        let d0 = r.diff(0);
        let d1 = r.diff(1);
        let ok = if J2K.contains(&orig_ts) {
            d0 == Some(0)
        } else if JPEG_LOSSY.contains(&orig_ts) {
            d0.is_some_and(|d| d <= 1) || d1.is_some_and(|d| d <= 1)
        } else {
            let numeric: Vec<u64> = [d0, d1].into_iter().flatten().collect();
            !numeric.is_empty() && numeric.iter().all(|d| *d == 0)
        };
        if !ok {
            errors.push(format!(
                "{name} ({orig_ts}): pixels differ from the reference decoders: diff0 (pydicom/pylibjpeg) = {}, diff1 (DCMTK) = {}",
                r.get("diff0"),
                if r.fields.contains_key("diff1") { r.get("diff1") } else { "no reference" }
            ));
        }
    }
    let lic = r.get("lic");
    match r.get("lossy") {
        "yes" if lic != "01" => errors.push(format!(
            "{name}: lossy original ({orig_ts}) arrived with (0028,2110) {lic:?}, want \"01\""
        )),
        "no" if r.get("orig_lic") != "01" && lic == "01" => errors.push(format!(
            "{name}: lossless original ({orig_ts}) arrived marked lossy (0028,2110) \"01\""
        )),
        _ => {}
    }
    let pi = r.get("pi");
    let orig_pi = r.get("orig_pi");
    if ["YBR_RCT", "YBR_ICT", "YBR_PARTIAL_420"].contains(&pi) {
        errors.push(format!(
            "{name}: native data with Photometric Interpretation {pi}"
        ));
    }
    if (orig_pi.starts_with("MONOCHROME") || orig_pi == "PALETTE COLOR") && pi != orig_pi {
        errors.push(format!(
            "{name}: Photometric Interpretation {orig_pi} became {pi}"
        ));
    }
    if r.get("spp") == "3" && !["0", "1"].contains(&r.get("pc")) {
        errors.push(format!(
            "{name}: colour data without a valid Planar Configuration ({:?})",
            r.get("pc")
        ));
    }
    errors
}

/// The DCMTK decoder that is the second reference for `ts`, if any.
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

/// DCMTK's decode of `original` into `dir/<index>.dcm`, when DCMTK has a decoder for its
/// syntax and manages (it cannot read some pydicom test files, e.g. SC_rgb_jpeg.dcm).
fn dcmtk_reference(info: &FileInfo, dir: &Path, index: usize) -> Option<PathBuf> {
    let tool = find_peer(Peer::Dcmtk(dcmtk_decoder(info.ts.as_deref()?)?))?;
    let out = dir.join(format!("{index}.dcm"));
    let mut cmd = tool.command();
    cmd.arg(&info.path).arg(&out);
    run(cmd, CLIENT_TIMEOUT).status.success().then_some(out)
}

/// Maximum bipartite matching (Kuhn): `ok[i]` lists the candidates source `i` may take.
/// Returns the candidate matched to each source.
fn match_sources(ok: &[Vec<usize>], candidates: usize) -> Vec<Option<usize>> {
    fn augment(
        i: usize,
        ok: &[Vec<usize>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for &c in &ok[i] {
            if seen[c] {
                continue;
            }
            seen[c] = true;
            if owner[c].is_none_or(|j| augment(j, ok, seen, owner)) {
                owner[c] = Some(i);
                return true;
            }
        }
        false
    }
    let mut owner: Vec<Option<usize>> = vec![None; candidates];
    for i in 0..ok.len() {
        let mut seen = vec![false; candidates];
        augment(i, ok, &mut seen, &mut owner);
    }
    let mut matched = vec![None; ok.len()];
    for (c, o) in owner.iter().enumerate() {
        if let Some(i) = o {
            matched[*i] = Some(c);
        }
    }
    matched
}

/// Received files under `dir` with their file meta's SOP Instance UID and transfer syntax.
fn received_files(dir: &Path) -> Vec<(PathBuf, Result<MetaInfo, String>)> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let m = read_file_meta(&p);
            (p, m)
        })
        .collect()
}

/// Checks every file the report calls sent against what arrived under `dir`, each received
/// file standing for one sent file: `sent` ones byte for byte (data set, transfer syntax when
/// the file names one), `converted` ones element for element (DCMTK dcmdump), `decompressed`
/// ones by [`check_decompressed`]. Also fails on received files nothing accounts for.
fn check_arrivals(
    report: &StoreReport,
    infos: &[FileInfo],
    dir: &Path,
    scratch: &Path,
    failures: &mut Vec<String>,
) {
    let received = received_files(dir);
    let mut claimed = vec![false; received.len()];
    let uid_candidates = |info: &FileInfo, claimed: &[bool]| -> Vec<usize> {
        let uids = info.instance_uids();
        received
            .iter()
            .enumerate()
            .filter(|(i, (_, m))| {
                !claimed[*i]
                    && m.as_ref()
                        .is_ok_and(|m| uids.contains(&m.sop_instance.as_str()))
            })
            .map(|(i, _)| i)
            .collect()
    };
    let outcome_of = |info: &FileInfo| report.outcome(&info.path.display().to_string()).ok();

    // Sent as they are: byte for byte.
    for info in infos {
        if outcome_of(info) != Some(&StoreOutcome::Sent) {
            continue;
        }
        let want = lenient_wire_data_set_bytes(&info.path);
        let found = uid_candidates(info, &claimed).into_iter().find(|&i| {
            let (p, m) = &received[i];
            let ts_ok = match (&info.ts, m) {
                (Some(ts), Ok(m)) => *ts == m.transfer_syntax,
                _ => true,
            };
            ts_ok && data_set_bytes(p) == want
        });
        match found {
            Some(i) => claimed[i] = true,
            None => failures.push(format!(
                "{}: reported `sent` (unchanged) but no received file holds its data set byte for byte; same-UID files: {:?}",
                info.path.display(),
                uid_candidates(info, &claimed)
                    .iter()
                    .map(|&i| received[i].0.display().to_string())
                    .collect::<Vec<_>>()
            )),
        }
    }

    // Converted between uncompressed syntaxes: same elements.
    for info in infos {
        let Some(StoreOutcome::Converted(how)) = outcome_of(info) else {
            continue;
        };
        let cands = uid_candidates(info, &claimed);
        let mut last = format!(
            "no received file with SOP Instance UID {:?}",
            info.instance_uids()
        );
        let found =
            cands
                .into_iter()
                .find(|&i| match compare_elements(&info.path, &received[i].0) {
                    Ok(()) => true,
                    Err(e) => {
                        last = e;
                        false
                    }
                });
        match found {
            Some(i) => claimed[i] = true,
            None => failures.push(format!(
                "{}: reported converted from {how}, but: {last}",
                info.path.display()
            )),
        }
    }

    // Decompressed: pixels against the reference decoders.
    let decompressed: Vec<&FileInfo> = infos
        .iter()
        .filter(|i| matches!(outcome_of(i), Some(StoreOutcome::Decompressed(_))))
        .collect();
    let refs_dir = scratch.join("references");
    std::fs::create_dir_all(&refs_dir).unwrap();
    let mut jobs = Vec::new();
    let mut job_of: Vec<Vec<(usize, usize)>> = Vec::new(); // per source: (candidate, job)
    for (n, info) in decompressed.iter().enumerate() {
        let reference: Vec<PathBuf> = dcmtk_reference(info, &refs_dir, n).into_iter().collect();
        let mut mine = Vec::new();
        for c in uid_candidates(info, &claimed) {
            mine.push((c, jobs.len()));
            jobs.push((received[c].0.clone(), info.path.clone(), reference.clone()));
        }
        job_of.push(mine);
    }
    let results = compare_pixels(&jobs, scratch);
    let errors: Vec<Vec<String>> = jobs
        .iter()
        .zip(&results)
        .map(|((_, orig, _), r)| check_decompressed(&orig.display().to_string(), r))
        .collect();
    let ok: Vec<Vec<usize>> = job_of
        .iter()
        .map(|mine| {
            mine.iter()
                .filter(|(_, j)| errors[*j].is_empty())
                .map(|(c, _)| *c)
                .collect()
        })
        .collect();
    let matched = match_sources(&ok, received.len());
    for c in matched.iter().flatten() {
        claimed[*c] = true;
    }
    for (n, info) in decompressed.iter().enumerate() {
        match matched[n] {
            Some(_) => {}
            None if job_of[n].is_empty() => failures.push(format!(
                "{}: reported decompressed, but no received file has SOP Instance UID {:?}",
                info.path.display(),
                info.instance_uids()
            )),
            None => {
                let why: Vec<String> = job_of[n]
                    .iter()
                    .map(|(c, j)| {
                        format!(
                            "  vs {}: {}\n    [{}]",
                            received[*c].0.display(),
                            if errors[*j].is_empty() {
                                "passes, but taken by another source with the same UID".to_owned()
                            } else {
                                errors[*j].join("; ")
                            },
                            results[*j].summary()
                        )
                    })
                    .collect();
                failures.push(format!(
                    "{}: reported decompressed; no received file passes:\n{}",
                    info.path.display(),
                    why.join("\n")
                ));
                // Its arrivals are accounted for by this failure, not "extra" files.
                for (c, _) in &job_of[n] {
                    claimed[*c] = true;
                }
            }
        }
    }

    for (i, (p, m)) in received.iter().enumerate() {
        if !claimed[i] {
            failures.push(format!(
                "received file {} ({:?}) stands for no file reported sent (a duplicate or an unreported send)",
                p.display(),
                m.as_ref().map(|m| &m.sop_instance)
            ));
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Everything into an uncompressed-only storescp, against dcmsend
// ---------------------------------------------------------------------------

/// The shared corpus, pydicom's test files and the generated compressed files (every syntax
/// of [`GENERATED`] plus JPEG 2000; 8/12/16-bit, grayscale and colour, single and
/// multi-frame) go to two `storescp`s that accept only uncompressed syntaxes: one fed by
/// `dcmsend -nh +f +ma +dly`, one by `dimse store --decompress lossy`. dimse sends every file
/// dcmsend delivers, and every JPEG 2000 file but the corrupt one; one report line per file;
/// what needs no decompression arrives byte for byte; what was decompressed has the reference
/// decoders' pixels ([`check_decompressed`]).
#[test]
fn everything_into_an_uncompressed_only_storescp_at_least_what_dcmsend_delivers() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dcmsend = require_peer!(Peer::Dcmtk("dcmsend"));
    for tool in [
        "dcmcjpeg", "dcmcjpls", "dcmcrle", "dcmdjpeg", "dcmdjpls", "dcmdrle", "dcmdump",
    ] {
        let _ = require_peer!(Peer::Dcmtk(tool));
    }
    require_python_modules!(FIELD_PYTHON_MODULES);

    let mut inputs: Vec<PathBuf> = dcm_files(&corpus_dir());
    inputs.extend(pydicom_extra_files());
    inputs.extend(dcmtk_generated().iter().cloned());
    inputs.extend(j2k_files().iter().cloned());
    let names = display(&inputs);
    let infos = file_infos(&inputs);

    let tmp = temp_dir("field_send_uncompressed");
    let dcmsend_dir = tmp.subdir("dcmsend");
    let dimse_dir = tmp.subdir("dimse");
    let port_a = free_port();
    let mut scp_a = start_uncompressed_storescp(&storescp, port_a, SCP_AET, &dcmsend_dir);
    let port_b = free_port();
    let mut scp_b = start_uncompressed_storescp(&storescp, port_b, SCP_AET, &dimse_dir);

    // The baseline: what DCMTK's lenient sender delivers.
    let crf = tmp.path().join("dcmsend-report.txt");
    let mut cmd = dcmsend.command();
    cmd.args([
        "-nh", "+f", "+ma", "+dly", "-aet", "DCMSEND", "-aec", SCP_AET, "+crf",
    ])
    .arg(&crf)
    .args([LOCALHOST, &port_a.to_string()])
    .args(&inputs);
    let base_out = run(cmd, STORE_ALL_TIMEOUT);
    let baseline = parse_dcmsend_report(&std::fs::read_to_string(&crf).unwrap_or_else(|e| {
        panic!(
            "dcmsend wrote no report ({e}; {}):\n{}",
            base_out.status,
            base_out.all()
        )
    }));
    let dcmsend_sent: Vec<&String> = baseline
        .iter()
        .filter(|(_, s)| s.starts_with("0x0000"))
        .map(|(f, _)| f)
        .collect();
    assert_eq!(
        files_under(&dcmsend_dir).len(),
        dcmsend_sent.len(),
        "dcmsend's report and storescp's directory disagree on the baseline"
    );
    assert!(
        dcmsend_sent.len() >= 60,
        "implausibly small baseline: dcmsend delivered {} of {} files:\n{}",
        dcmsend_sent.len(),
        inputs.len(),
        base_out.all()
    );

    let out = dimse_store(&["--decompress", "lossy"], SCP_AET, port_b, &inputs);
    let report = StoreReport::parse(&out.stdout, &names);
    let mut failures = Vec::new();
    check_report_shape(&report, &names, &out, &mut failures);

    for f in &dcmsend_sent {
        match report.outcome(f) {
            Ok(o) if o.is_sent() => {}
            Ok(o) => failures.push(format!("{f}: dcmsend delivered it; dimse: {o:?}")),
            Err(e) => failures.push(format!("dcmsend delivered it; {e}")),
        }
    }
    for info in &infos {
        let p = info.path.display().to_string();
        let outcome = report.outcome(&p).ok();
        if info.ts_in(J2K) && info.has_pixels {
            if info.name() == CORRUPT_J2K {
                if outcome.is_some_and(StoreOutcome::is_sent) {
                    failures.push(format!(
                        "{p}: its JPEG 2000 codestream is corrupt, yet reported {outcome:?}"
                    ));
                }
            } else if !matches!(outcome, Some(StoreOutcome::Decompressed(_))) {
                failures.push(format!(
                    "{p} ({}): JPEG 2000 must arrive decompressed; dimse: {outcome:?}",
                    info.ts.as_deref().unwrap_or("-")
                ));
            }
        }
        // The peer takes these syntaxes: nothing to convert.
        if (info.ts_in(UNCOMPRESSED) || info.ts.is_none())
            && outcome.is_some_and(|o| o.is_sent() && *o != StoreOutcome::Sent)
        {
            failures.push(format!(
                "{p} ({:?}): the peer accepts its syntax, yet {outcome:?}",
                info.ts
            ));
        }
    }
    check_arrivals(&report, &infos, &dimse_dir, tmp.path(), &mut failures);
    scp_a.assert_running();
    scp_b.assert_running();
    assert!(
        failures.is_empty(),
        "{} failure(s) over {} files (dcmsend delivered {}):\n\n{}\n\n{}",
        failures.len(),
        inputs.len(),
        dcmsend_sent.len(),
        failures.join("\n"),
        report_context(&out)
    );
}

// ---------------------------------------------------------------------------
// 2. Odd files: no meta, bad values, broken files
// ---------------------------------------------------------------------------

/// The files without meta or with odd values that must be delivered, and whether they come
/// from the corpus or pydicom's test files.
///
/// Left out, having been checked: `no_meta.dcm` (pydicom: "Same as CT_small.dcm with no File
/// Meta Information header"; in fact CT_small's data set preceded by one stray byte 0x20, so
/// from byte 0 it reads as (0820,0500) with a length past the end under any syntax: DCMTK
/// and pydicom cannot read it, dcmsend skips it — it is expected `unreadable`);
/// `meta_missing_tsyntax.dcm` (no SOP Class / Instance UID anywhere: expected refused);
/// `OT-PAL-8-face.dcm` (in pydicom-data, not shipped with pydicom: used when present).
fn odd_deliverable_files() -> Vec<PathBuf> {
    let pydicom = pydicom_test_files_dir().expect("pydicom's test_files directory");
    let mut files = vec![
        corpus_dir().join("rtstruct.dcm"),
        pydicom.join("ExplVR_LitEndNoMeta.dcm"),
        pydicom.join("ExplVR_BigEndNoMeta.dcm"),
        corpus_dir().join("badVR.dcm"),
        corpus_dir().join("UN_sequence.dcm"),
    ];
    let face = python("field_files.py", ["testdata", "OT-PAL-8-face.dcm"]);
    match face.stdout.trim() {
        "-" => eprintln!("note: OT-PAL-8-face.dcm is not on this machine (pydicom-data); not sent"),
        path => files.push(PathBuf::from(path)),
    }
    for f in &files {
        assert!(f.is_file(), "{} missing", f.display());
    }
    files
}

/// The odd files plus truncated, unreadable and UID-less ones in one `dimse store` to DCMTK
/// `storescp +xa +B`: the odd ones arrive byte for byte (their data set as the file holds it),
/// badVR.dcm with a warning naming (0028,0008); the truncated ones and no_meta.dcm are
/// `unreadable`, meta_missing_tsyntax.dcm (no UIDs) is not sent; the exit status is non-zero.
/// With `--strict`, badVR.dcm is refused and the rest still goes.
#[test]
fn odd_files_to_dcmtk_storescp_and_broken_ones_reported() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    require_python_modules!(&[("pydicom", "pydicom")]);
    let odd = odd_deliverable_files();
    let unreadable = [
        corpus_dir().join("MR_truncated.dcm"),
        corpus_dir().join("rtplan_truncated.dcm"),
        corpus_dir().join("no_meta.dcm"),
    ];
    let no_uids = corpus_dir().join("meta_missing_tsyntax.dcm");
    let mut inputs = odd.clone();
    inputs.extend(unreadable.iter().cloned());
    inputs.push(no_uids.clone());
    let names = display(&inputs);
    let infos = file_infos(&inputs);

    let tmp = temp_dir("field_send_odd_dcmtk");
    let dir = tmp.subdir("received");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, SCP_AET, &dir);
    let out = dimse_store(&[], SCP_AET, port, &inputs);
    let report = StoreReport::parse(&out.stdout, &names);
    let mut failures = Vec::new();
    check_report_shape(&report, &names, &out, &mut failures);
    if out.status.success() {
        failures.push("exit status 0 although files were unreadable".into());
    }
    for f in &odd {
        let p = f.display().to_string();
        match report.outcome(&p) {
            Ok(StoreOutcome::Sent) => {}
            other => failures.push(format!("{p}: want `sent {p}`, got {other:?}")),
        }
    }
    for f in &unreadable {
        let p = f.display().to_string();
        if !matches!(report.outcome(&p), Ok(StoreOutcome::Unreadable(_))) {
            failures.push(format!(
                "{p}: want `unreadable {p}: ...`, got {:?}",
                report.outcome(&p)
            ));
        }
    }
    let p = no_uids.display().to_string();
    if !matches!(
        report.outcome(&p),
        Ok(StoreOutcome::Unreadable(_) | StoreOutcome::NotSent(_))
    ) {
        failures.push(format!(
            "{p} (no SOP Class/Instance UID anywhere): want an `unreadable`/`not sent` line, got {:?}",
            report.outcome(&p)
        ));
    }
    let bad = corpus_dir().join("badVR.dcm").display().to_string();
    let warnings = report.warnings_for(&bad);
    if !warnings.iter().any(|w| w.contains("(0028,0008)")) {
        failures.push(format!(
            "no `warning: {bad}: ...` line naming (0028,0008); warnings: {:?}",
            report.warnings
        ));
    }
    check_arrivals(&report, &infos, &dir, tmp.path(), &mut failures);
    server.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n\n{}",
        failures.join("\n"),
        report_context(&out)
    );

    // --strict: badVR.dcm refused, naming the tag; the other file still goes.
    let strict_dir = tmp.subdir("strict");
    let port = free_port();
    let mut strict_server = start_dcmtk_storescp(&storescp, port, SCP_AET, &strict_dir);
    let rtstruct = corpus_dir().join("rtstruct.dcm");
    let both = [PathBuf::from(&bad), rtstruct.clone()];
    let out = dimse_store(&["--strict"], SCP_AET, port, &both);
    let names = display(&both);
    let report = StoreReport::parse(&out.stdout, &names);
    let mut failures = Vec::new();
    check_report_shape(&report, &names, &out, &mut failures);
    match report.outcome(&bad) {
        Ok(StoreOutcome::NotSent(why) | StoreOutcome::Unreadable(why))
            if why.contains("(0028,0008)") => {}
        other => failures.push(format!(
            "--strict: want `not sent {bad}: ...` (or `unreadable`) naming (0028,0008), got {other:?}"
        )),
    }
    if report.outcome(&names[1]) != Ok(&StoreOutcome::Sent) {
        failures.push(format!(
            "--strict: {} must still be sent: {:?}",
            names[1],
            report.outcome(&names[1])
        ));
    }
    if out.status.success() {
        failures.push("--strict: exit status 0 with badVR.dcm refused".into());
    }
    let got = files_under(&strict_dir);
    if got.len() != 1
        || find_by_sop_instance(&strict_dir, "1.2.826.0.1.3680043.8.498.2010020400001").len() != 1
    {
        failures.push(format!(
            "--strict: want only rtstruct.dcm received, got {got:?}"
        ));
    }
    strict_server.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n\n{}",
        failures.join("\n"),
        report_context(&out)
    );
}

/// Each odd file sent alone to pynetdicom's storescp (it names files by SOP Instance UID, and
/// the two NoMeta files share one): exit 0, `sent PATH`, one received file with the source's
/// elements (pynetdicom re-encodes, so DCMTK dcmdump element comparison, not bytes).
///
/// Except UN_sequence.dcm: its data set has no SOP Class / Instance UID (the file meta has
/// them, and they go in the C-STORE request), and pynetdicom 3.0's storescp app refuses such
/// a data set with 0xC210 ("missing 'SOP Class UID' and/or 'SOP Instance UID' elements"):
/// sent unchanged, as a transport must, it is `refused` with that status and exit 1.
#[test]
fn odd_files_to_pynetdicom_storescp() {
    let storescp = require_peer!(Peer::Pynetdicom("storescp"));
    let _ = require_peer!(Peer::Dcmtk("dcmdump"));
    require_python_modules!(&[("pydicom", "pydicom")]);
    let files = odd_deliverable_files();
    let infos = file_infos(&files);
    let tmp = temp_dir("field_send_odd_pynetdicom");
    let dir = tmp.subdir("received");
    let port = free_port();
    let mut server = start_pynetdicom_storescp(&storescp, port, SCP_AET, &dir);
    let mut failures = Vec::new();
    for info in &infos {
        let p = info.path.display().to_string();
        let out = dimse_store(&[], SCP_AET, port, std::slice::from_ref(&info.path));
        let report = StoreReport::parse(&out.stdout, std::slice::from_ref(&p));
        if info.name() == "UN_sequence.dcm" {
            match report.outcome(&p) {
                Ok(StoreOutcome::Refused(status))
                    if status.contains("0xC210") && !out.status.success() => {}
                other => failures.push(format!(
                    "{p}: want `refused {p}: 0xC210 ...` (pynetdicom refuses a data set without SOP UIDs) and exit 1, got {other:?} / {}\n{}",
                    out.status,
                    report_context(&out)
                )),
            }
        } else if !out.status.success() || report.outcome(&p) != Ok(&StoreOutcome::Sent) {
            failures.push(format!(
                "{p}: want exit 0 and `sent {p}`, got {} / {:?}\n{}",
                out.status,
                report.outcome(&p),
                report_context(&out)
            ));
        } else {
            let uids = info.instance_uids();
            let checked = retry_until(FILE_TIMEOUT, || {
                let found: Vec<PathBuf> = files_under(&dir)
                    .into_iter()
                    .filter(|f| {
                        read_file_meta(f).is_ok_and(|m| uids.contains(&m.sop_instance.as_str()))
                    })
                    .collect();
                let [one] = found.as_slice() else {
                    return Err(format!(
                        "{p}: want one received file with UID {uids:?}, found {found:?}"
                    ));
                };
                compare_elements(&info.path, one).map_err(|e| format!("{p}: {e}"))
            });
            if let Err(e) = checked {
                failures.push(e);
            }
        }
        for f in files_under(&dir) {
            std::fs::remove_file(f).expect("clean received files");
        }
        server.assert_running();
    }
    assert!(
        failures.is_empty(),
        "{}\n--- pynetdicom storescp (tail) ---\n{}",
        failures.join("\n\n"),
        tail(&server.output(), 4000)
    );
}

// ---------------------------------------------------------------------------
// 3. dimse serve: C-MOVE of a JPEG 2000 study to an uncompressed-only destination
// ---------------------------------------------------------------------------

/// The JPEG 2000 study is stored into `dimse serve --decompress lossy` untouched (serve takes
/// every syntax), then moved with DCMTK movescu to a `storescp` that accepts only
/// uncompressed syntaxes: Success, every instance arrives once, decompressed, with openjpeg's
/// pixels ([`check_decompressed`]).
#[test]
fn serve_moves_a_jpeg2000_study_to_an_uncompressed_only_storescp() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let movescu = require_peer!(Peer::Dcmtk("movescu"));
    require_python_modules!(FIELD_PYTHON_MODULES);
    let files = j2k_files().to_vec();
    let infos = file_infos(&files);
    let study = infos[0].study.clone().expect("J2K study UID");
    assert!(infos.iter().all(|i| i.study.as_deref() == Some(&study)));

    let tmp = temp_dir("field_send_move_j2k");
    let dest_dir = tmp.subdir("dest");
    let archive = tmp.subdir("archive");
    let dest_port = free_port();
    let mut dest = start_uncompressed_storescp(&storescp, dest_port, DEST_AET, &dest_dir);
    let serve_port = free_port();
    let mut extra = vec!["--decompress".to_owned(), "lossy".to_owned()];
    extra.extend(dimse_serve_peer_args(DEST_AET, dest_port));
    let mut serve = start_dimse_serve_with(serve_port, ARCHIVE_AET, &archive, &extra);

    let names = display(&files);
    let out = dimse_store(&[], ARCHIVE_AET, serve_port, &files);
    let report = StoreReport::parse(&out.stdout, &names);
    let mut failures = Vec::new();
    check_report_shape(&report, &names, &out, &mut failures);
    for p in &names {
        if report.outcome(p) != Ok(&StoreOutcome::Sent) {
            failures.push(format!(
                "{p}: dimse serve accepts JPEG 2000; want `sent {p}`, got {:?}",
                report.outcome(p)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "storing the J2K study into dimse serve:\n{}\n\n{}",
        failures.join("\n"),
        report_context(&out)
    );

    let out = run(
        movescu
            .command()
            .args([
                "-v",
                "-S",
                "-aet",
                "MOVESCU",
                "-aec",
                ARCHIVE_AET,
                "-aem",
                DEST_AET,
            ])
            .args([
                "-k",
                "QueryRetrieveLevel=STUDY",
                "-k",
                &format!("StudyInstanceUID={study}"),
            ])
            .args([LOCALHOST, &serve_port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    if !out.status.success() || !out.all().contains("Received Final Move Response (Success)") {
        failures.push(format!(
            "movescu of the J2K study did not end in Success ({}):\n{}",
            out.status,
            out.all()
        ));
    }
    // Every instance counts as reported decompressed here: serve decides, the files tell.
    let moved = StoreReport {
        outcomes: names
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    vec![StoreOutcome::Decompressed("JPEG 2000".into())],
                )
            })
            .collect(),
        ..StoreReport::default()
    };
    check_arrivals(&moved, &infos, &dest_dir, tmp.path(), &mut failures);
    serve.assert_running();
    dest.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n\n--- dimse serve (tail) ---\n{}\n--- storescp (tail) ---\n{}",
        failures.join("\n"),
        tail(&serve.output(), 6000),
        tail(&dest.output(), 3000)
    );
}

/// Value of `Completed/Failed/Warning Suboperations` in movescu's `-d` dump of the last
/// C-MOVE-RSP: `Some(0)` for `none`.
fn suboperations(dump: &str, which: &str) -> Option<u64> {
    let line = dump
        .lines()
        .rfind(|l| l.contains(&format!("{which} Suboperations")))?;
    let value = line.rsplit_once(':')?.1.trim();
    if value == "none" {
        Some(0)
    } else {
        value.parse().ok()
    }
}

/// A C-MOVE whose keys match nothing answers Success with zero sub-operations, even though
/// the destination (a configured peer) is unreachable: nothing to send, nobody to contact.
#[test]
fn serve_move_matching_nothing_succeeds_without_contacting_the_destination() {
    let movescu = require_peer!(Peer::Dcmtk("movescu"));
    let tmp = temp_dir("field_send_move_nothing");
    let archive = tmp.subdir("archive");
    let gone_port = free_port(); // nothing listens there
    let serve_port = free_port();
    let mut serve = start_dimse_serve_with(
        serve_port,
        ARCHIVE_AET,
        &archive,
        &dimse_serve_peer_args("GONE", gone_port),
    );
    let out = run(
        movescu
            .command()
            .args([
                "-d",
                "-S",
                "-aet",
                "MOVESCU",
                "-aec",
                ARCHIVE_AET,
                "-aem",
                "GONE",
            ])
            .args([
                "-k",
                "QueryRetrieveLevel=STUDY",
                "-k",
                "StudyInstanceUID=1.2.826.0.1.3680043.10.1000.999.1",
            ])
            .args([LOCALHOST, &serve_port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    let text = out.all();
    let last = text
        .lines()
        .rfind(|l| l.contains("DIMSE Status"))
        .map(|l| l.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let counts: Vec<(&str, Option<u64>)> = ["Completed", "Failed", "Warning"]
        .into_iter()
        .map(|w| (w, suboperations(&text, w)))
        .collect();
    assert!(
        last.contains("0x0000") && counts.iter().all(|(_, n)| *n == Some(0)) && out.status.success(),
        "C-MOVE matching nothing to an unreachable peer: last status {last:?}, sub-operations {counts:?}, exit {}; want 0x0000 with 0/0/0:\n{}\n--- dimse serve (tail) ---\n{}",
        out.status,
        text,
        tail(&serve.output(), 4000)
    );
    serve.assert_running();
}

// ---------------------------------------------------------------------------
// 4. 130 SOP classes: more than 128 presentation contexts
// ---------------------------------------------------------------------------

/// 130 instances of 130 distinct SOP classes (1.2.826.0.1.3680043.10.1000.1 … .130, copies of
/// SC_rgb_small_odd.dcm with fresh instance UIDs) need more than the 128 presentation
/// contexts one association may carry: `dimse store` into `storescp -pm` sends all of them,
/// each exactly once and byte for byte, over more than one association (counted from
/// storescp's `Association Received` log lines).
#[test]
fn store_130_sop_classes_over_several_associations() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    require_python_modules!(&[("pydicom", "pydicom"), ("numpy", "numpy")]);
    let dir = fresh_subdir("classes130");
    python(
        "field_files.py",
        [
            "classes".as_ref(),
            dir.as_os_str(),
            corpus_dir().join("SC_rgb_small_odd.dcm").as_os_str(),
            "130".as_ref(),
        ],
    );
    let files = dcm_files(&dir);
    assert_eq!(files.len(), 130);
    let infos = file_infos(&files);
    let names = display(&files);

    let tmp = temp_dir("field_send_130");
    let received = tmp.subdir("received");
    let port = free_port();
    let mut server = start_uncompressed_storescp(&storescp, port, SCP_AET, &received);
    let out = dimse_store(&[], SCP_AET, port, &files);
    let report = StoreReport::parse(&out.stdout, &names);
    let mut failures = Vec::new();
    check_report_shape(&report, &names, &out, &mut failures);
    for p in &names {
        if report.outcome(p) != Ok(&StoreOutcome::Sent) {
            failures.push(format!("{p}: want `sent {p}`, got {:?}", report.outcome(p)));
        }
    }
    if !out.status.success() {
        failures.push(format!("exit status {}", out.status));
    }
    let mut per_uid: HashMap<String, usize> = HashMap::new();
    for f in files_under(&received) {
        match read_file_meta(&f) {
            Ok(m) => *per_uid.entry(m.sop_instance).or_default() += 1,
            Err(e) => failures.push(e),
        }
    }
    for info in &infos {
        let uid = info.ds_instance.clone().unwrap_or_default();
        let n = per_uid.get(&uid).copied().unwrap_or(0);
        if n != 1 {
            failures.push(format!("{}: arrived {n} times", info.name()));
        }
    }
    check_arrivals(&report, &infos, &received, tmp.path(), &mut failures);
    let associations = server.output().matches("Association Received").count();
    if associations < 2 {
        failures.push(format!(
            "storescp logged {associations} association(s); 130 SOP classes need more than 128 contexts, so at least 2"
        ));
    }
    server.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n\n{}",
        failures.join("\n"),
        report_context(&out)
    );
}

// ---------------------------------------------------------------------------
// Parsers (no peers needed)
// ---------------------------------------------------------------------------

#[test]
fn store_report_parses_every_line_kind() {
    let inputs: Vec<String> = [
        "/d/a.dcm",
        "/d/a.dcm.bak",
        "/d/b c.dcm",
        "/d/x",
        "/d/y",
        "/d/z",
        "/d/w",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let stdout = "\
warning: /d/a.dcm: (0028,0008) IS value \"1A\" has characters IS does not allow
sent /d/a.dcm
sent /d/a.dcm.bak (decompressed from JPEG Baseline (Process 1))
sent /d/b c.dcm (converted from Deflated Explicit VR Little Endian to Explicit VR Little Endian)
refused /d/x: 0xa700 Out of resources
unreadable /d/y: truncated: (7fe0,0010) runs past the end
not sent /d/z: no accepted presentation context and --decompress never
something else
store: 3 sent, 3 failed (1 refused, 1 unreadable, 1 not sent)
";
    let r = StoreReport::parse(stdout, &inputs);
    assert_eq!(r.outcome("/d/a.dcm"), Ok(&StoreOutcome::Sent));
    assert_eq!(
        r.outcome("/d/a.dcm.bak"),
        Ok(&StoreOutcome::Decompressed(
            "JPEG Baseline (Process 1)".into()
        ))
    );
    assert!(
        matches!(r.outcome("/d/b c.dcm"), Ok(StoreOutcome::Converted(c)) if c.starts_with("Deflated"))
    );
    assert!(matches!(r.outcome("/d/x"), Ok(StoreOutcome::Refused(s)) if s.starts_with("0xa700")));
    assert!(matches!(r.outcome("/d/y"), Ok(StoreOutcome::Unreadable(_))));
    assert!(matches!(r.outcome("/d/z"), Ok(StoreOutcome::NotSent(_))));
    assert!(r.outcome("/d/w").is_err());
    assert_eq!(r.warnings_for("/d/a.dcm").len(), 1);
    assert!(r.warnings_for("/d/a.dcm")[0].starts_with("(0028,0008)"));
    assert_eq!(r.summary.as_ref().map(|s| (s.0, s.1)), Some((3, 3)));
    assert_eq!(r.other, ["something else"]);
}

#[test]
fn dcmsend_report_and_data_set_start() {
    let text = "\
Number        : 1
Filename      : /x/a.dcm
SOP Instance  : 1.2.3
DIMSE Status  : 0x0000 (Success)

Number        : 2
Filename      : /x/b.dcm
Network Xfer  : 1.2.840.10008.1.2.4.90 = JPEG 2000 (Lossless only)
DIMSE Status  : <no acceptable presentation context>

Number of associations   : 1
";
    assert_eq!(
        parse_dcmsend_report(text),
        [
            ("/x/a.dcm".to_owned(), "0x0000 (Success)".to_owned()),
            (
                "/x/b.dcm".to_owned(),
                "<no acceptable presentation context>".to_owned()
            )
        ]
    );
    // Part 10 with preamble: the data set starts after the meta group.
    let ct = std::fs::read(corpus_dir().join("CT_small.dcm")).unwrap();
    let meta = parse_file_meta(&ct).unwrap();
    assert_eq!(data_set_start(&ct), Some(meta.data_set_offset));
    // A raw data set (rtstruct.dcm starts with (0008,0005)).
    let raw = std::fs::read(corpus_dir().join("rtstruct.dcm")).unwrap();
    assert_eq!(data_set_start(&raw), Some(0));
    // A meta group without preamble; a meta element running past the end.
    let bare = &ct[132..];
    let start = data_set_start(bare).unwrap();
    assert_eq!(start, meta.data_set_offset - 132);
    assert_eq!(data_set_start(&bare[..20]), None);
}

#[test]
fn kuhn_matching_finds_a_perfect_assignment() {
    // Source 0 may take 0 or 1, source 1 only 0: greedy would fail, matching does not.
    assert_eq!(match_sources(&[vec![0, 1], vec![0]], 2), [Some(1), Some(0)]);
    assert_eq!(match_sources(&[vec![0], vec![0]], 1), [Some(0), None]);
}
