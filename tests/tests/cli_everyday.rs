//! The CLI's everyday options (issue 16), driven against DCMTK and pynetdicom peers, with the
//! `--json` output parsed line by line.
//!
//! Interface under test:
//! * `dimse store [--parallel N] [--json] [--propose auto|own|uncompressed|UID,...]
//!   [--decompress never|lossless|lossy] [--no-recurse] [--pattern GLOB] --aec B HOST PORT
//!   PATHS...`: with `--json`, one JSON record per file (`"file"`, `"result"`: `sent`, `refused`,
//!   `unreadable` or `not sent`, `"status"`, `"sop_class_uid"`, `"sop_instance_uid"`,
//!   `"transfer_syntax"`, and for a file sent converted `"conversion"` and
//!   `"sent_transfer_syntax"`), then `{"summary": {"sent", "failed", "decompressed",
//!   "converted", "refused", "unreadable", "not_sent"}}`; exit status 0 only when every file
//!   was sent.
//! * `dimse echo --json`: one record `{"peer", "result", "status", ...}`.
//! * `dimse commit [--listen PORT] [--wait SECS] [--json] --aec B HOST PORT FILES`: one line per
//!   instance (`committed FILE (UID)`, `failed FILE (UID): failure reason 0x0112 (...)`,
//!   `unreported FILE (UID)`) or JSON record (`"file"`, `"sop_instance_uid"`, `"result"`,
//!   `"failure_reason"`), then `commit: N committed, M failed, K unreported` or `{"summary":
//!   {...}}`; exit status 0 only when all were committed.
//! * `dimse ncreate|nset|nget --class UID --instance UID [-k KEY=VALUE]... [--data FILE.json]
//!   --json HOST PORT`: one record `{"status", "meaning", "sop_instance_uid", "error_comment",
//!   "data_set"}` (the reply as DICOM JSON); exit status 1 on a failure status.
//! * `dimse nevents --port P --aet A --count N --idle SECS`: each N-EVENT-REPORT as a JSON
//!   record `{"calling_ae", "sop_class_uid", "sop_instance_uid", "event_type_id",
//!   "event_information"}` on stdout; `nevents: listening ...` and `nevents: N reports` on
//!   stderr.
//! * `dimse completions bash|zsh|fish`, `dimse man`, `dimse --help`.
//!
//! Peers: DCMTK `storescp` (3.6.7: `-v` logs `Association Received` per association; `+xa`
//! accepts every syntax it knows, without it only implicit VR LE, explicit VR LE and BE; `+B`
//! bit-preserving; `+uf` unique file names; `-pm` any SOP class); pynetdicom scripts in
//! `tests/peers/`: `commitment_scp.py` (report on the same association, or with `--later` on
//! a new association to the requestor), `mpps_scp.py`
//! (MPPS N-CREATE/N-SET/N-GET, printing `RECEIVED {json}` per request) and
//! `event_report_scu.py` (sends one N-EVENT-REPORT).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use dimse_tests::*;
use serde_json::{json, Value};

const SCP_AET: &str = "STORESCP";
const COMMIT_AET: &str = "COMMITSCP";
const MPPS_AET: &str = "MPPSSCP";

/// Bound for one `dimse store` of a dozen corpus files (decompression in a debug build on a
/// shared 2-core machine included).
const STORE_TIMEOUT: Duration = Duration::from_secs(90);

const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

const MPPS: &str = "1.2.840.10008.3.1.2.3.3";
/// N-GET of an MPPS goes through the Modality Performed Procedure Step Retrieve SOP Class
/// (PS3.4 F.8), on the same instance.
const MPPS_RETRIEVE: &str = "1.2.840.10008.3.1.2.3.4";
const STORAGE_COMMITMENT: &str = "1.2.840.10008.1.20.1";
const STORAGE_COMMITMENT_INSTANCE: &str = "1.2.840.10008.1.20.1.1";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Every non-empty line of `stdout` parsed as JSON; panics naming a line that is not JSON.
#[track_caller]
fn json_lines(stdout: &str, what: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!("{what}: stdout line is not JSON ({e}): {l:?}\n{stdout}")
            })
        })
        .collect()
}

/// JSON Lines output taken apart: the per-item records, then the closing `{"summary": {...}}`
/// (which must be the last line, and the only one with a summary).
#[track_caller]
fn records_and_summary(stdout: &str, what: &str) -> (Vec<Value>, Value) {
    let mut lines = json_lines(stdout, what);
    let last = lines
        .pop()
        .unwrap_or_else(|| panic!("{what}: no JSON output"));
    let summary = last
        .get("summary")
        .filter(|s| s.is_object())
        .unwrap_or_else(|| panic!("{what}: the last line is not a summary record: {last}"))
        .clone();
    if let Some(extra) = lines.iter().find(|r| r.get("summary").is_some()) {
        panic!("{what}: a summary record before the last line: {extra}\n{stdout}");
    }
    (lines, summary)
}

/// `record[key]` as a string ("" when absent or not a string).
fn text<'a>(record: &'a Value, key: &str) -> &'a str {
    record.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `summary[key]` as a number; panics when absent.
#[track_caller]
fn count(summary: &Value, key: &str) -> u64 {
    summary
        .get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("summary has no number {key:?}: {summary}"))
}

/// The records of each `"file"`, in output order.
fn records_by_file(records: &[Value]) -> HashMap<String, Vec<&Value>> {
    let mut map: HashMap<String, Vec<&Value>> = HashMap::new();
    for r in records {
        map.entry(text(r, "file").to_owned()).or_default().push(r);
    }
    map
}

/// The first value of DICOM JSON attribute `tag` ("GGGGEEEE") of `ds`, if any.
fn first_value<'a>(ds: &'a Value, tag: &str) -> Option<&'a Value> {
    ds.get(tag)?.get("Value")?.get(0)
}

/// The first value of `tag` as a string (a person name's Alphabetic group).
fn first_text(ds: &Value, tag: &str) -> Option<String> {
    let v = first_value(ds, tag)?;
    v.as_str()
        .or_else(|| v.get("Alphabetic").and_then(Value::as_str))
        .map(str::to_owned)
}

/// `dimse store --aec STORESCP 127.0.0.1 PORT` with `options` before the positional arguments
/// and `paths` after them.
fn store_command(port: u16, options: &[&str], paths: &[PathBuf]) -> Command {
    let mut cmd = dimse(["store", "--aec", SCP_AET]);
    cmd.args(options)
        .arg(LOCALHOST)
        .arg(port.to_string())
        .args(paths);
    cmd
}

/// Received Part 10 files under `dir`, by the SOP Instance UID of their meta.
fn received_by_instance(dir: &Path) -> HashMap<String, Vec<PathBuf>> {
    let mut map: HashMap<String, Vec<PathBuf>> = HashMap::new();
    for p in files_under(dir) {
        if let Ok(meta) = read_file_meta(&p) {
            map.entry(meta.sop_instance).or_default().push(p);
        }
    }
    map
}

/// Checks that each of `rows` arrived under `dir` exactly once (by SOP Instance UID, see
/// [`ManifestRow::instance_uids`]) and that nothing else did; returns each row's file.
fn check_each_received_once(rows: &[ManifestRow], dir: &Path) -> Result<Vec<PathBuf>, String> {
    let received = received_by_instance(dir);
    let mut failures = Vec::new();
    let mut files = Vec::new();
    for row in rows {
        let found: Vec<&PathBuf> = row
            .instance_uids()
            .iter()
            .filter_map(|u| received.get(u))
            .flatten()
            .collect();
        match found.as_slice() {
            [one] => files.push((*one).clone()),
            other => failures.push(format!(
                "{}: expected one received file with SOP instance {:?}, found {other:?}",
                row.file,
                row.instance_uids()
            )),
        }
    }
    let total = files_under(dir).len();
    if total != rows.len() {
        failures.push(format!(
            "{total} files received for {} sent: {:#?}",
            rows.len(),
            files_under(dir)
        ));
    }
    if failures.is_empty() {
        Ok(files)
    } else {
        Err(failures.join("\n"))
    }
}

/// The corpus rows named `names`, in that order.
#[track_caller]
fn corpus_rows(names: &[&str]) -> Vec<ManifestRow> {
    let valid = valid_corpus_files();
    names
        .iter()
        .map(|n| {
            valid
                .iter()
                .find(|r| r.file == *n)
                .unwrap_or_else(|| panic!("{n} is not a valid corpus file"))
                .clone()
        })
        .collect()
}

/// DCMTK `storescp` accepting only the uncompressed syntaxes (no `+xa`), any SOP class.
#[track_caller]
fn start_uncompressed_storescp(storescp: &PeerPath, port: u16, out_dir: &Path) -> Server {
    let mut cmd = storescp.command();
    cmd.args(["-v", "+B", "+uf", "-pm", "-aet", SCP_AET, "-od"])
        .arg(out_dir)
        .arg(port.to_string())
        .current_dir(out_dir);
    let mut server = Server::spawn("DCMTK storescp (uncompressed only)", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);
    server
}

/// `python3 tests/peers/<script> ARGS...` as a server, waited for on `port`.
#[track_caller]
fn start_python_peer(name: &str, script: &str, port: u16, args: &[&str]) -> Server {
    let mut cmd = Command::new("python3");
    cmd.arg(peer_script(script))
        .arg(port.to_string())
        .args(args);
    let mut server = Server::spawn(name, &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);
    server
}

/// What `out` printed, for assertion messages.
fn shown(out: &RunOutput) -> String {
    format!(
        "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status, out.stdout, out.stderr
    )
}

// ---------------------------------------------------------------------------
// store
// ---------------------------------------------------------------------------

/// `--parallel 4 --json` into `storescp +xa`: every file of the corpus's first batch of unique
/// SOP instances arrives exactly once, over four associations, and the JSON output accounts
/// for each file once, plus a summary that agrees.
#[test]
fn store_parallel_json_delivers_every_file_once() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let rows = batches_with_unique_instances(&valid_corpus_files()).remove(0);
    assert!(rows.len() >= 8, "too few unique corpus files: {rows:#?}");
    let tmp = temp_dir("store_parallel");
    let out_dir = tmp.subdir("out");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, SCP_AET, &out_dir);

    // echo --json first: one record, success.
    let echo = run(
        dimse([
            "echo",
            "--json",
            "--aec",
            SCP_AET,
            LOCALHOST,
            &port.to_string(),
        ]),
        CLIENT_TIMEOUT,
    );
    echo.assert_success("dimse echo --json");
    let echo_records = json_lines(&echo.stdout, "dimse echo --json");
    assert_eq!(echo_records.len(), 1, "{}", shown(&echo));
    assert_eq!(
        text(&echo_records[0], "result"),
        "success",
        "{}",
        shown(&echo)
    );
    assert_eq!(
        text(&echo_records[0], "status"),
        "0x0000",
        "{}",
        shown(&echo)
    );
    let before = server.output().matches("Association Received").count();

    let paths: Vec<PathBuf> = rows.iter().map(ManifestRow::path).collect();
    let out = run(
        store_command(port, &["--parallel", "4", "--json"], &paths),
        STORE_TIMEOUT,
    );
    out.assert_success("dimse store --parallel 4 --json");
    let (records, summary) = records_and_summary(&out.stdout, "dimse store --json");

    let mut failures = Vec::new();
    let by_file = records_by_file(&records);
    for row in &rows {
        let key = row.path().display().to_string();
        let Some([record]) = by_file.get(&key).map(Vec::as_slice) else {
            failures.push(format!(
                "{}: expected one record, got {:?}",
                row.file,
                by_file.get(&key)
            ));
            continue;
        };
        let want = [
            ("result", "sent".to_owned()),
            ("status", "0x0000".to_owned()),
            ("sop_class_uid", row.sop_class.clone()),
            ("transfer_syntax", row.ts.clone()),
        ];
        for (k, v) in want {
            if text(record, k) != v {
                failures.push(format!("{}: {k} should be {v:?}: {record}", row.file));
            }
        }
        if !row
            .instance_uids()
            .iter()
            .any(|u| u == text(record, "sop_instance_uid"))
        {
            failures.push(format!(
                "{}: sop_instance_uid not one of {:?}: {record}",
                row.file,
                row.instance_uids()
            ));
        }
        // storescp +xa takes every syntax as it is: nothing is converted.
        if record.get("conversion").is_some() {
            failures.push(format!(
                "{}: converted for storescp +xa: {record}",
                row.file
            ));
        }
    }
    if records.len() != rows.len() {
        failures.push(format!(
            "{} file records for {} files:\n{}",
            records.len(),
            rows.len(),
            out.stdout
        ));
    }
    let n = rows.len() as u64;
    for (k, v) in [
        ("sent", n),
        ("failed", 0),
        ("decompressed", 0),
        ("converted", 0),
        ("refused", 0),
        ("unreadable", 0),
        ("not_sent", 0),
    ] {
        if count(&summary, k) != v {
            failures.push(format!("summary {k} should be {v}: {summary}"));
        }
    }
    if let Err(e) = retry_until(FILE_TIMEOUT, || check_each_received_once(&rows, &out_dir)) {
        failures.push(e);
    }
    // storescp serves one association at a time; all four were logged once the last file
    // was answered.
    let associations = retry_until(FILE_TIMEOUT, || {
        let n = server.output().matches("Association Received").count() - before;
        if n >= 4 {
            Ok(n)
        } else {
            Err(format!("{n} associations logged"))
        }
    });
    match associations {
        Ok(4) => {}
        Ok(n) => failures.push(format!("storescp logged {n} associations, not 4")),
        Err(e) => failures.push(format!("storescp: {e}")),
    }
    server.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n\n{}\n--- storescp ---\n{}",
        failures.join("\n"),
        shown(&out),
        server.output()
    );
}

/// `--propose uncompressed` into `storescp +xa` (which would take the compressed syntaxes):
/// only Explicit/Implicit VR Little Endian are proposed, so the compressed files arrive
/// decompressed (and the big endian one converted), each once.
#[test]
fn store_propose_uncompressed_sends_compressed_files_decompressed() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let rows = corpus_rows(&[
        "JPEG-lossy.dcm",
        "JPEG2000.dcm",
        "SC_rgb_jpeg_dcmtk.dcm",
        "SC_rgb_rle.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "ExplVR_BigEnd.dcm",
        "CT_small.dcm",
    ]);
    let tmp = temp_dir("propose_uncompressed");
    let out_dir = tmp.subdir("out");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, SCP_AET, &out_dir);
    let paths: Vec<PathBuf> = rows.iter().map(ManifestRow::path).collect();
    // Lossy files too: the proposal, not the policy, is under test.
    let out = run(
        store_command(
            port,
            &[
                "--propose",
                "uncompressed",
                "--decompress",
                "lossy",
                "--json",
            ],
            &paths,
        ),
        STORE_TIMEOUT,
    );
    out.assert_success("dimse store --propose uncompressed");
    let (records, summary) = records_and_summary(&out.stdout, "dimse store --json");
    let by_file = records_by_file(&records);
    let mut failures = Vec::new();
    for row in &rows {
        let key = row.path().display().to_string();
        let Some([record]) = by_file.get(&key).map(Vec::as_slice) else {
            failures.push(format!(
                "{}: expected one record: {:?}",
                row.file,
                by_file.get(&key)
            ));
            continue;
        };
        if text(record, "result") != "sent" {
            failures.push(format!("{}: not sent: {record}", row.file));
        }
        let (want_conversion, sent_ts) = match row.ts.as_str() {
            EXPLICIT_LE => (None, None),
            _ if row.is_encapsulated() => (
                Some("decompressed"),
                Some(text(record, "sent_transfer_syntax")),
            ),
            _ => (
                Some("converted"),
                Some(text(record, "sent_transfer_syntax")),
            ),
        };
        let conversion = record.get("conversion").and_then(Value::as_str);
        if conversion != want_conversion {
            failures.push(format!(
                "{}: conversion should be {want_conversion:?}: {record}",
                row.file
            ));
        }
        if let Some(ts) = sent_ts {
            if ts != EXPLICIT_LE && ts != IMPLICIT_LE {
                failures.push(format!(
                    "{}: sent_transfer_syntax {ts:?}: {record}",
                    row.file
                ));
            }
        }
    }
    let encapsulated = rows.iter().filter(|r| r.is_encapsulated()).count() as u64;
    if count(&summary, "sent") != rows.len() as u64
        || count(&summary, "failed") != 0
        || count(&summary, "decompressed") != encapsulated
    {
        failures.push(format!(
            "summary should say {} sent, {encapsulated} decompressed, 0 failed: {summary}",
            rows.len()
        ));
    }
    match retry_until(FILE_TIMEOUT, || check_each_received_once(&rows, &out_dir)) {
        Ok(files) => {
            for (row, file) in rows.iter().zip(&files) {
                match read_file_meta(file) {
                    Ok(m)
                        if m.transfer_syntax == EXPLICIT_LE || m.transfer_syntax == IMPLICIT_LE => {
                    }
                    Ok(m) => failures.push(format!(
                        "{}: arrived as {} (sent from {}), not uncompressed little endian",
                        row.file, m.transfer_syntax, row.ts
                    )),
                    Err(e) => failures.push(e),
                }
            }
        }
        Err(e) => failures.push(e),
    }
    server.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n\n{}\n--- storescp ---\n{}",
        failures.join("\n"),
        shown(&out),
        server.output()
    );
}

/// `--propose own` into a `storescp` that accepts only the uncompressed syntaxes: nothing is
/// converted, so the compressed files are "not sent" (exit status 1) and the uncompressed ones
/// arrive as they are.
#[test]
fn store_propose_own_does_not_send_compressed_files_to_an_uncompressed_peer() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let uncompressed = corpus_rows(&["CT_small.dcm", "rtplan.dcm"]);
    let compressed = corpus_rows(&[
        "SC_rgb_rle.dcm",
        "JPEG2000.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
    ]);
    let tmp = temp_dir("propose_own");
    let out_dir = tmp.subdir("out");
    let port = free_port();
    let mut server = start_uncompressed_storescp(&storescp, port, &out_dir);
    let paths: Vec<PathBuf> = uncompressed
        .iter()
        .chain(&compressed)
        .map(ManifestRow::path)
        .collect();
    let out = run(
        store_command(port, &["--propose", "own", "--json"], &paths),
        STORE_TIMEOUT,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "files not sent must make the exit status 1:\n{}",
        shown(&out)
    );
    let (records, summary) = records_and_summary(&out.stdout, "dimse store --json");
    let by_file = records_by_file(&records);
    let mut failures = Vec::new();
    for (row, want) in uncompressed
        .iter()
        .map(|r| (r, "sent"))
        .chain(compressed.iter().map(|r| (r, "not sent")))
    {
        let key = row.path().display().to_string();
        match by_file.get(&key).map(Vec::as_slice) {
            Some([record]) => {
                if text(record, "result") != want {
                    failures.push(format!("{}: result should be {want:?}: {record}", row.file));
                }
                if record.get("conversion").is_some() {
                    failures.push(format!(
                        "{}: converted under --propose own: {record}",
                        row.file
                    ));
                }
                if want == "not sent" && text(record, "reason").is_empty() {
                    failures.push(format!("{}: no reason given: {record}", row.file));
                }
            }
            other => failures.push(format!("{}: expected one record: {other:?}", row.file)),
        }
    }
    let (sent, not_sent) = (uncompressed.len() as u64, compressed.len() as u64);
    if count(&summary, "sent") != sent
        || count(&summary, "not_sent") != not_sent
        || count(&summary, "failed") != not_sent
        || count(&summary, "decompressed") != 0
    {
        failures.push(format!(
            "summary should say {sent} sent, {not_sent} not sent and failed, 0 decompressed: {summary}"
        ));
    }
    match retry_until(FILE_TIMEOUT, || {
        check_each_received_once(&uncompressed, &out_dir)
    }) {
        Ok(files) => {
            for (row, file) in uncompressed.iter().zip(&files) {
                if !is_bit_identical(row, file) {
                    failures.push(format!(
                        "{}: did not arrive as it is ({})",
                        row.file,
                        file.display()
                    ));
                }
            }
        }
        Err(e) => failures.push(e),
    }
    server.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n\n{}\n--- storescp ---\n{}",
        failures.join("\n"),
        shown(&out),
        server.output()
    );
}

/// `--pattern '*RLE*' --no-recurse` on a directory with a subdirectory takes only the matching
/// files directly in it; without `--no-recurse` the subdirectory's match is taken too.
#[test]
fn store_pattern_and_no_recurse_pick_matching_top_level_files() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let tmp = temp_dir("store_pattern");
    let src = tmp.subdir("src");
    let sub = tmp.subdir("src/sub");
    let out_dir = tmp.subdir("out");
    let corpus = corpus_dir();
    let copy = |from: &str, to: &Path| {
        std::fs::copy(corpus.join(from), to).unwrap_or_else(|e| panic!("copy {from}: {e}"));
    };
    copy("MR_small_RLE.dcm", &src.join("MR_small_RLE.dcm"));
    copy("SC_rgb_rle.dcm", &src.join("SC_RLE_copy.dcm"));
    // Not matching: the pattern is case-sensitive, and CT_small has no RLE in its name.
    copy("SC_rgb_rle.dcm", &src.join("SC_rgb_rle.dcm"));
    copy("CT_small.dcm", &src.join("CT_small.dcm"));
    // Matching, but in a subdirectory.
    copy("JPEG2000.dcm", &sub.join("J2K_not_RLE.dcm"));

    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, SCP_AET, &out_dir);
    let files_of = |out: &RunOutput, what: &str| -> BTreeSet<PathBuf> {
        let (records, summary) = records_and_summary(&out.stdout, what);
        assert_eq!(
            count(&summary, "sent"),
            records.len() as u64,
            "{what}: {}",
            shown(out)
        );
        records
            .iter()
            .map(|r| {
                assert_eq!(text(r, "result"), "sent", "{what}: {r}");
                PathBuf::from(text(r, "file"))
            })
            .collect()
    };

    let out = run(
        store_command(
            port,
            &["--pattern", "*RLE*", "--no-recurse", "--json"],
            std::slice::from_ref(&src),
        ),
        STORE_TIMEOUT,
    );
    out.assert_success("dimse store --pattern '*RLE*' --no-recurse");
    let got = files_of(&out, "--no-recurse");
    let want: BTreeSet<PathBuf> = [src.join("MR_small_RLE.dcm"), src.join("SC_RLE_copy.dcm")]
        .into_iter()
        .collect();
    assert_eq!(got, want, "{}", shown(&out));
    let received = retry_until(FILE_TIMEOUT, || {
        let n = files_under(&out_dir).len();
        if n == 2 {
            Ok(n)
        } else {
            Err(format!("{n} files received: {:?}", files_under(&out_dir)))
        }
    });
    assert!(received.is_ok(), "{received:?}\n{}", server.output());

    // The control: recursing, the subdirectory's match goes too.
    let out = run(
        store_command(
            port,
            &["--pattern", "*RLE*", "--json"],
            std::slice::from_ref(&src),
        ),
        STORE_TIMEOUT,
    );
    out.assert_success("dimse store --pattern '*RLE*'");
    let got = files_of(&out, "recursive");
    let mut want = want;
    want.insert(sub.join("J2K_not_RLE.dcm"));
    assert_eq!(got, want, "{}", shown(&out));
    server.assert_running();
}

// ---------------------------------------------------------------------------
// commit
// ---------------------------------------------------------------------------

/// Corpus files for the commitment tests: (file, data set SOP Instance UID); the SCPs know the
/// first two.
fn commit_files() -> Vec<(PathBuf, String)> {
    corpus_rows(&["CT_small.dcm", "SC_rgb_rle.dcm", "MR_small.dcm"])
        .into_iter()
        .map(|r| (r.path(), r.sop_instance))
        .collect()
}

/// Checks one instance record of `dimse commit --json`.
fn check_commit_record(
    failures: &mut Vec<String>,
    records: &[Value],
    file: &Path,
    uid: &str,
    result: &str,
    reason: Option<&str>,
) {
    let key = file.display().to_string();
    let mine: Vec<&Value> = records.iter().filter(|r| text(r, "file") == key).collect();
    match mine.as_slice() {
        [r] => {
            if text(r, "sop_instance_uid") != uid
                || text(r, "result") != result
                || r.get("failure_reason").and_then(Value::as_str) != reason
            {
                failures.push(format!(
                    "{key}: expected {uid} {result} (failure reason {reason:?}): {r}"
                ));
            }
        }
        other => failures.push(format!("{key}: expected one record, got {other:?}")),
    }
}

/// Checks the records of `dimse commit --json` over [`commit_files`] when the SCP knows the
/// first two: those committed, the third failed with 0x0112.
fn check_two_committed_one_failed(
    failures: &mut Vec<String>,
    records: &[Value],
    files: &[(PathBuf, String)],
) {
    let expected = [
        ("committed", None),
        ("committed", None),
        ("failed", Some("0x0112")),
    ];
    for ((file, uid), (result, reason)) in files.iter().zip(expected) {
        check_commit_record(failures, records, file, uid, result, reason);
    }
}

/// `dimse commit` against pynetdicom's commitment SCP (report on the same association): known
/// instances committed, the other failed with 0x0112, exit status 1; all known: exit 0.
#[test]
fn commit_against_pynetdicom_reports_committed_and_failed() {
    require_peer!(Peer::Pynetdicom("echoscu"));
    let files = commit_files();
    let port = free_port();
    let known = [files[0].1.as_str(), files[1].1.as_str()];
    let mut server = start_python_peer(
        "pynetdicom commitment SCP",
        "commitment_scp.py",
        port,
        &known,
    );
    let commit = |extra: &[&str], paths: &[&PathBuf]| {
        let mut cmd = dimse(["commit", "--aec", COMMIT_AET, "--wait", "30"]);
        cmd.args(extra)
            .arg(LOCALHOST)
            .arg(port.to_string())
            .args(paths);
        run(cmd, CLIENT_TIMEOUT)
    };
    let all: Vec<&PathBuf> = files.iter().map(|(p, _)| p).collect();

    // Text output.
    let out = commit(&[], &all);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one instance failed:\n{}",
        shown(&out)
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    for want in [
        format!("committed {} ({})", files[0].0.display(), files[0].1),
        format!("committed {} ({})", files[1].0.display(), files[1].1),
        format!(
            "failed {} ({}): failure reason 0x0112 (no such object instance)",
            files[2].0.display(),
            files[2].1
        ),
        "commit: 2 committed, 1 failed, 0 unreported".to_owned(),
    ] {
        assert!(
            lines.contains(&want.as_str()),
            "no line {want:?}:\n{}",
            shown(&out)
        );
    }
    server.wait_for_output("report sent, response 0", READY_TIMEOUT);

    // JSON output.
    let out = commit(&["--json"], &all);
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    let (records, summary) = records_and_summary(&out.stdout, "dimse commit --json");
    let mut failures = Vec::new();
    check_two_committed_one_failed(&mut failures, &records, &files);
    if records.len() != 3 {
        failures.push(format!("{} instance records, not 3", records.len()));
    }
    if (
        count(&summary, "committed"),
        count(&summary, "failed"),
        count(&summary, "unreported"),
    ) != (2, 1, 0)
        || !text(&summary, "transaction_uid").starts_with("2.25.")
    {
        failures.push(format!("summary: {summary}"));
    }
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.join("\n"),
        shown(&out)
    );

    // Only known instances: success.
    let out = commit(&[], &all[..2]);
    out.assert_success("dimse commit of known instances");
    assert!(
        out.stdout
            .lines()
            .any(|l| l == "commit: 2 committed, 0 failed, 0 unreported"),
        "{}",
        shown(&out)
    );
    server.assert_running();
}

/// `dimse commit --listen PORT`: the SCP answers the N-ACTION, then opens an association of
/// its own to the requestor's port and reports there.
#[test]
fn commit_listen_takes_the_report_on_a_new_association() {
    require_peer!(Peer::Pynetdicom("echoscu"));
    let files = commit_files();
    let (scp_port, listen_port) = (free_port(), free_port());
    let listen = listen_port.to_string();
    let mut server = start_python_peer(
        "pynetdicom commitment SCP (later report)",
        "commitment_scp.py",
        scp_port,
        &["--later", "REQUESTOR", &listen, &files[0].1, &files[1].1],
    );
    let mut cmd = dimse([
        "commit",
        "--aet",
        "REQUESTOR",
        "--aec",
        COMMIT_AET,
        "--listen",
        &listen,
        "--wait",
        "30",
        "--json",
        LOCALHOST,
        &scp_port.to_string(),
    ]);
    cmd.args(files.iter().map(|(p, _)| p));
    let out = run(cmd, CLIENT_TIMEOUT);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one instance failed:\n{}\n--- SCP ---\n{}",
        shown(&out),
        server.output()
    );
    let (records, summary) = records_and_summary(&out.stdout, "dimse commit --listen --json");
    let mut failures = Vec::new();
    check_two_committed_one_failed(&mut failures, &records, &files);
    if (
        count(&summary, "committed"),
        count(&summary, "failed"),
        count(&summary, "unreported"),
    ) != (2, 1, 0)
    {
        failures.push(format!("summary: {summary}"));
    }
    assert!(
        failures.is_empty(),
        "{}\n{}\n--- SCP ---\n{}",
        failures.join("\n"),
        shown(&out),
        server.output()
    );
    // The report really went over the SCP's own association, and was accepted.
    server.wait_for_output(
        "report sent on a new association, response 0x0000",
        READY_TIMEOUT,
    );
}

// ---------------------------------------------------------------------------
// N-services: MPPS, N-EVENT-REPORT
// ---------------------------------------------------------------------------

/// The `RECEIVED {json}` records `mpps_scp.py` printed so far.
fn mpps_received(server: &Server) -> Vec<Value> {
    server
        .output()
        .lines()
        .filter_map(|l| l.strip_prefix("[out] RECEIVED "))
        .map(|j| {
            serde_json::from_str(j).unwrap_or_else(|e| panic!("mpps_scp.py record {j:?}: {e}"))
        })
        .collect()
}

/// Waits until `mpps_scp.py` has printed `n` records.
#[track_caller]
fn wait_mpps_received(server: &Server, n: usize) -> Vec<Value> {
    let got = retry_until(FILE_TIMEOUT, || {
        let records = mpps_received(server);
        if records.len() >= n {
            Ok(records)
        } else {
            Err(format!(
                "{} of {n} records:\n{}",
                records.len(),
                server.output()
            ))
        }
    });
    got.unwrap_or_else(|e| panic!("mpps_scp.py: {e}"))
}

/// Runs `dimse <service> --aec MPPSSCP --json ... 127.0.0.1 PORT` and parses its one record.
#[track_caller]
fn n_service(port: u16, service: &str, args: &[&str]) -> (RunOutput, Value) {
    let mut cmd = dimse([service, "--aec", MPPS_AET, "--aet", "MODALITY", "--json"]);
    cmd.args(args).arg(LOCALHOST).arg(port.to_string());
    let out = run(cmd, CLIENT_TIMEOUT);
    let mut lines = json_lines(&out.stdout, service);
    assert_eq!(
        lines.len(),
        1,
        "dimse {service}: one JSON record expected:\n{}",
        shown(&out)
    );
    (out, lines.remove(0))
}

/// MPPS as a modality does it: N-CREATE (IN PROGRESS, from a DICOM JSON file), N-SET
/// (COMPLETED, from `-k` keys), N-GET of the status (on the MPPS Retrieve class); the SCP's own
/// record of what it received is checked too. Then the refusals and the DISCONTINUED path.
#[test]
fn mpps_round_trip_against_pynetdicom() {
    require_peer!(Peer::Pynetdicom("echoscu"));
    let port = free_port();
    let server = start_python_peer("pynetdicom MPPS SCP", "mpps_scp.py", port, &[MPPS_AET]);
    let tmp = temp_dir("mpps");
    let instance = "2.25.271828182845904523536028747135266249";
    let study = "2.25.314159265358979323846264338327950288";
    let start = json!({
        "00080060": {"vr": "CS", "Value": ["CT"]},
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]},
        "00100020": {"vr": "LO", "Value": ["MPPS-001"]},
        "00400244": {"vr": "DA", "Value": ["20240131"]},
        "00400245": {"vr": "TM", "Value": ["101500"]},
        "00400250": {"vr": "DA"},
        "00400251": {"vr": "TM"},
        "00400252": {"vr": "CS", "Value": ["IN PROGRESS"]},
        "00400253": {"vr": "SH", "Value": ["PPS-1"]},
        "00400254": {"vr": "LO", "Value": ["CT chest"]},
        "00400270": {"vr": "SQ", "Value": [{
            "0020000D": {"vr": "UI", "Value": [study]},
            "00080050": {"vr": "SH", "Value": ["ACC-123"]},
            "00401001": {"vr": "SH", "Value": ["RP-1"]}
        }]},
        "00400340": {"vr": "SQ"}
    });
    let start_file = tmp.path().join("start.json");
    std::fs::write(&start_file, serde_json::to_string_pretty(&start).unwrap()).unwrap();
    let start_arg = start_file.display().to_string();

    // N-CREATE.
    let (out, record) = n_service(
        port,
        "ncreate",
        &[
            "--class",
            MPPS,
            "--instance",
            instance,
            "--data",
            &start_arg,
        ],
    );
    out.assert_success("dimse ncreate");
    assert_eq!(text(&record, "status"), "0x0000", "{}", shown(&out));
    assert_eq!(
        text(&record, "sop_instance_uid"),
        instance,
        "{}",
        shown(&out)
    );
    let received = wait_mpps_received(&server, 1);
    let create = &received[0];
    let ds = &create["data_set"];
    let mut failures = Vec::new();
    for (what, got, want) in [
        (
            "service",
            Some(text(create, "service").to_owned()),
            "N-CREATE",
        ),
        (
            "calling AE",
            Some(text(create, "calling_ae").to_owned()),
            "MODALITY",
        ),
        (
            "SOP class",
            Some(text(create, "sop_class").to_owned()),
            MPPS,
        ),
        (
            "instance",
            Some(text(create, "instance").to_owned()),
            instance,
        ),
        ("status", first_text(ds, "00400252"), "IN PROGRESS"),
        ("PatientName", first_text(ds, "00100010"), "Doe^Jane"),
        ("PatientID", first_text(ds, "00100020"), "MPPS-001"),
        ("Modality", first_text(ds, "00080060"), "CT"),
        ("start date", first_text(ds, "00400244"), "20240131"),
        ("start time", first_text(ds, "00400245"), "101500"),
        ("description", first_text(ds, "00400254"), "CT chest"),
        (
            "StudyInstanceUID in ScheduledStepAttributesSequence",
            first_value(ds, "00400270").and_then(|item| first_text(item, "0020000D")),
            study,
        ),
        (
            "AccessionNumber in ScheduledStepAttributesSequence",
            first_value(ds, "00400270").and_then(|item| first_text(item, "00080050")),
            "ACC-123",
        ),
    ] {
        if got.as_deref() != Some(want) {
            failures.push(format!(
                "N-CREATE as received: {what} is {got:?}, not {want:?}"
            ));
        }
    }
    // Type 2 attributes sent empty arrive present and empty.
    for tag in ["00400250", "00400251", "00400340"] {
        match ds.get(tag) {
            Some(attr)
                if attr
                    .get("Value")
                    .is_none_or(|v| v.as_array().is_some_and(Vec::is_empty)) => {}
            other => failures.push(format!(
                "N-CREATE as received: {tag} should be present and empty: {other:?}"
            )),
        }
    }
    if create["status"] != json!(0) {
        failures.push(format!(
            "the SCP answered the N-CREATE with {}",
            create["status"]
        ));
    }
    assert!(
        failures.is_empty(),
        "{}\n--- SCP ---\n{}",
        failures.join("\n"),
        server.output()
    );

    // N-SET to COMPLETED.
    let (out, record) = n_service(
        port,
        "nset",
        &[
            "--class",
            MPPS,
            "--instance",
            instance,
            "-k",
            "PerformedProcedureStepStatus=COMPLETED",
            "-k",
            "PerformedProcedureStepEndDate=20240131",
            "-k",
            "PerformedProcedureStepEndTime=103000",
        ],
    );
    out.assert_success("dimse nset");
    assert_eq!(text(&record, "status"), "0x0000", "{}", shown(&out));
    let received = wait_mpps_received(&server, 2);
    let set = &received[1];
    let mods = &set["data_set"];
    assert_eq!(text(set, "service"), "N-SET", "{set}");
    assert_eq!(text(set, "instance"), instance, "{set}");
    assert_eq!(set["status"], json!(0), "{set}");
    assert_eq!(
        first_text(mods, "00400252").as_deref(),
        Some("COMPLETED"),
        "{set}"
    );
    assert_eq!(
        first_text(mods, "00400250").as_deref(),
        Some("20240131"),
        "{set}"
    );
    assert_eq!(
        first_text(mods, "00400251").as_deref(),
        Some("103000"),
        "{set}"
    );

    // N-GET of the status (and two attributes N-SET did not touch).
    let (out, record) = n_service(
        port,
        "nget",
        &[
            "--class",
            MPPS_RETRIEVE,
            "--instance",
            instance,
            "-k",
            "PerformedProcedureStepStatus",
            "-k",
            "PerformedProcedureStepEndDate",
            "-k",
            "PatientName",
        ],
    );
    out.assert_success("dimse nget");
    assert_eq!(text(&record, "status"), "0x0000", "{}", shown(&out));
    let got = &record["data_set"];
    assert_eq!(
        first_text(got, "00400252").as_deref(),
        Some("COMPLETED"),
        "{}",
        shown(&out)
    );
    assert_eq!(
        first_text(got, "00400250").as_deref(),
        Some("20240131"),
        "{}",
        shown(&out)
    );
    assert_eq!(
        first_text(got, "00100010").as_deref(),
        Some("Doe^Jane"),
        "{}",
        shown(&out)
    );
    assert!(
        got.get("00400270").is_none(),
        "not asked for: {}",
        shown(&out)
    );
    let received = wait_mpps_received(&server, 3);
    let get = &received[2];
    assert_eq!(text(get, "service"), "N-GET", "{get}");
    let asked: BTreeSet<&str> = get["attributes"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        asked,
        BTreeSet::from(["00400252", "00400250", "00100010"]),
        "{get}"
    );

    // A completed step may no longer be updated: 0x0110, exit status 1, still one record.
    let (out, record) = n_service(
        port,
        "nset",
        &[
            "--class",
            MPPS,
            "--instance",
            instance,
            "-k",
            "PerformedProcedureStepStatus=DISCONTINUED",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert_eq!(text(&record, "status"), "0x0110", "{}", shown(&out));

    // N-CREATE without an instance UID (the SCP assigns one, the response names it), from -k
    // keys only, then DISCONTINUED.
    let (out, record) = n_service(
        port,
        "ncreate",
        &[
            "--class",
            MPPS,
            "-k",
            "PerformedProcedureStepStatus=IN PROGRESS",
            "-k",
            "Modality=MR",
            "-k",
            "PerformedProcedureStepStartDate=20240201",
        ],
    );
    out.assert_success("dimse ncreate without --instance");
    let assigned = text(&record, "sop_instance_uid").to_owned();
    assert!(assigned.starts_with("2.25."), "{}", shown(&out));
    let (out, record) = n_service(
        port,
        "nset",
        &[
            "--class",
            MPPS,
            "--instance",
            &assigned,
            "-k",
            "PerformedProcedureStepStatus=DISCONTINUED",
        ],
    );
    out.assert_success("dimse nset DISCONTINUED");
    assert_eq!(text(&record, "status"), "0x0000", "{}", shown(&out));
    let received = wait_mpps_received(&server, 6);
    assert_eq!(text(&received[5], "instance"), assigned, "{}", received[5]);
    assert_eq!(
        first_text(&received[5]["data_set"], "00400252").as_deref(),
        Some("DISCONTINUED")
    );
}

/// `dimse nevents --count 1` prints the N-EVENT-REPORT a pynetdicom SCU sends as one JSON
/// record, then exits.
#[test]
fn nevents_prints_a_received_event_report_as_json() {
    require_peer!(Peer::Pynetdicom("echoscu"));
    let port = free_port();
    let port_arg = port.to_string();
    let listener = {
        let cmd = dimse([
            "nevents", "--port", &port_arg, "--aet", "EVENTS", "--count", "1", "--idle", "30",
        ]);
        thread::spawn(move || run(cmd, Duration::from_secs(60)))
    };
    if !wait_for_port(port, Instant::now() + READY_TIMEOUT) {
        let out = listener.join().expect("nevents runner");
        panic!("dimse nevents never listened on {port}:\n{}", shown(&out));
    }
    let transaction = "2.25.1618033988749894848204586834365638117";
    let mut cmd = Command::new("python3");
    cmd.arg(peer_script("event_report_scu.py")).args([
        port_arg.as_str(),
        "EVENTS",
        transaction,
        "1.2.3.100",
        "1.2.3.200",
    ]);
    let sender = run(cmd, CLIENT_TIMEOUT);
    let out = listener.join().expect("nevents runner");
    sender.assert_success("event_report_scu.py");
    assert!(
        sender.stdout.contains("event report response 0x0000"),
        "{}\n--- nevents ---\n{}",
        shown(&sender),
        shown(&out)
    );
    out.assert_success("dimse nevents --count 1");
    let records = json_lines(&out.stdout, "dimse nevents");
    let [record] = records.as_slice() else {
        panic!("one record expected:\n{}", shown(&out));
    };
    assert_eq!(text(record, "calling_ae"), "EVSCU", "{record}");
    assert_eq!(
        text(record, "sop_class_uid"),
        STORAGE_COMMITMENT,
        "{record}"
    );
    assert_eq!(
        text(record, "sop_instance_uid"),
        STORAGE_COMMITMENT_INSTANCE,
        "{record}"
    );
    assert_eq!(record["event_type_id"], json!(2), "{record}");
    let info = &record["event_information"];
    assert_eq!(
        first_text(info, "00081195").as_deref(),
        Some(transaction),
        "{record}"
    );
    let committed = first_value(info, "00081199").and_then(|i| first_text(i, "00081155"));
    assert_eq!(committed.as_deref(), Some("1.2.3.100"), "{record}");
    let failed = first_value(info, "00081198");
    assert_eq!(
        failed.and_then(|i| first_text(i, "00081155")).as_deref(),
        Some("1.2.3.200"),
        "{record}"
    );
    assert_eq!(
        failed.and_then(|i| first_value(i, "00081197")),
        Some(&json!(0x0112)),
        "{record}"
    );
    assert!(out.stderr.contains("nevents: 1 reports"), "{}", shown(&out));
}

// ---------------------------------------------------------------------------
// Shell habits
// ---------------------------------------------------------------------------

/// Completion scripts, the man page and the exit statuses in `--help`.
#[test]
fn completions_man_page_and_help() {
    let bash = run(dimse(["completions", "bash"]), CLIENT_TIMEOUT);
    bash.assert_success("dimse completions bash");
    assert!(bash.stdout.contains("_dimse()"), "{}", shown(&bash));
    assert!(
        bash.stdout.contains("complete -F _dimse"),
        "{}",
        shown(&bash)
    );
    for sub in ["store", "commit", "nevents", "ncreate"] {
        assert!(bash.stdout.contains(sub), "bash completion lacks {sub}");
    }
    let zsh = run(dimse(["completions", "zsh"]), CLIENT_TIMEOUT);
    zsh.assert_success("dimse completions zsh");
    assert!(zsh.stdout.starts_with("#compdef dimse"), "{}", shown(&zsh));
    let fish = run(dimse(["completions", "fish"]), CLIENT_TIMEOUT);
    fish.assert_success("dimse completions fish");
    assert!(
        fish.stdout.contains("complete -c dimse"),
        "{}",
        shown(&fish)
    );
    let bad = run(dimse(["completions", "tcsh"]), CLIENT_TIMEOUT);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad shell is a usage error: {}",
        shown(&bad)
    );

    let man = run(dimse(["man"]), CLIENT_TIMEOUT);
    man.assert_success("dimse man");
    // clap_mangen opens with two roff requests defining the \*(Aq string, then the .TH header;
    // nothing but requests comes before it.
    let head: Vec<&str> = man
        .stdout
        .lines()
        .take_while(|l| !l.starts_with(".TH "))
        .collect();
    assert!(
        head.len() < man.stdout.lines().count() && head.len() <= 2,
        "no .TH header among the first lines:\n{}",
        man.stdout.lines().take(5).collect::<Vec<_>>().join("\n")
    );
    assert!(head.iter().all(|l| l.starts_with('.')), "{head:?}");
    let th = man.stdout.lines().nth(head.len()).unwrap_or_default();
    assert!(th.starts_with(".TH dimse 1"), "{th}");
    assert!(man.stdout.contains(".SH NAME"), "{}", man.stdout);
    assert!(
        man.stdout.contains("Exit status"),
        "the man page should carry the exit statuses"
    );

    let help = run(dimse(["--help"]), CLIENT_TIMEOUT);
    help.assert_success("dimse --help");
    assert!(help.stdout.contains("Exit status"), "{}", shown(&help));
    for code in ["0 when", "1 when", "2 for"] {
        assert!(
            help.stdout.contains(code),
            "--help should explain exit status {code:?}"
        );
    }
}
