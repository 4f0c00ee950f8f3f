//! Interoperability with pynetdicom 3.x (with pydicom 3), both directions.
//!
//! pynetdicom's apps are run as `python3 -m pynetdicom <app>` (its console
//! scripts share DCMTK's names). Options used (checked against `--help` of
//! pynetdicom 3.0.4):
//! * `echoscu -aet A -aec B HOST PORT` (exits 1 when no association)
//! * `storescu -cx -aet A -aec B HOST PORT FILE`: `-cx`
//!   (`--required-contexts`) proposes exactly the file's SOP class in the
//!   file's own transfer syntax, compressed ones included; without it the
//!   app proposes only uncompressed syntaxes. It exits 0 even when a store
//!   fails, so arrivals are checked on the receiving side.
//! * `storescp -v -aet A -od DIR PORT` (see `start_pynetdicom_storescp`).
//!
//! pydicom decodes and re-encodes every data set on both ends, so results
//! are compared element by element (DCMTK `dcmdump`, see `dump_elements`).

use std::time::Duration;

use dimse_tests::*;

const DIMSE_AET: &str = "DIMSE";
const STORESCP_AET: &str = "STORESCP";
const SCU_AET: &str = "DIMSE-TEST";

/// Bound for one `dimse store` of a batch of corpus files.
const STORE_BATCH_TIMEOUT: Duration = Duration::from_secs(120);

/// A C-STORE SCU that sends each file's data set bytes exactly as stored,
/// one association per invocation: pynetdicom with
/// `_config.STORE_SEND_CHUNKED_DATASET = True` streams the file from disk
/// instead of decoding and re-encoding it with pydicom (its default).
/// Arguments: port, called AE title, files. Exits 1 if any store fails.
const RAW_STORE_SCU: &str = r#"
import sys
from pynetdicom import AE, _config
from pynetdicom.dsutils import split_dataset
_config.STORE_SEND_CHUNKED_DATASET = True
port, called, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
ae = AE(ae_title="RAWSCU")
for f in files:
    meta = split_dataset(f)[0]
    ae.add_requested_context(meta.MediaStorageSOPClassUID, [meta.TransferSyntaxUID])
assoc = ae.associate("127.0.0.1", port, ae_title=called)
if not assoc.is_established:
    sys.exit("association failed")
failed = 0
for f in files:
    status = assoc.send_c_store(f)
    code = status.Status if status else None
    print(f, "status", hex(code) if code is not None else "none")
    failed += code != 0
assoc.release()
sys.exit(1 if failed else 0)
"#;

// ---------------------------------------------------------------------------
// Harness self-checks
// ---------------------------------------------------------------------------

/// pynetdicom discovery works: pynetdicom echoscu → DCMTK storescp.
#[test]
fn harness_pynetdicom_echoscu_to_dcmtk_storescp() {
    let echoscu = require_peer!(Peer::Pynetdicom("echoscu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let tmp = temp_dir("harness_pyn_echo");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, STORESCP_AET, tmp.path());
    run(
        echoscu
            .command()
            .args(["-aet", "ECHOSCU", "-aec", STORESCP_AET, LOCALHOST])
            .arg(port.to_string()),
        CLIENT_TIMEOUT,
    )
    .assert_success("pynetdicom echoscu → DCMTK storescp");
    server.assert_running();
}

/// The premise of the bit-identical `dimse store` test: DCMTK
/// `storescp +B` writes exactly the data set bytes it receives. A raw
/// pynetdicom sender delivers every even-length valid corpus file (all but
/// image_dfl.dcm, whose odd deflated stream needs the PS3.5 A.5 pad byte the
/// raw sender does not add, see `wire_data_set_bytes`) in one association,
/// and each arrives byte for byte.
#[test]
fn harness_raw_store_to_dcmtk_storescp_is_bit_identical() {
    let python = require_peer!(Peer::Pynetdicom("storescu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let rows: Vec<ManifestRow> = valid_corpus_files()
        .into_iter()
        // Files that need no pad byte on the wire.
        .filter(|r| data_set_bytes(&r.path()) == wire_data_set_bytes(&r.path()))
        .collect();
    assert_eq!(rows.len(), 19, "only image_dfl.dcm is odd");
    let tmp = temp_dir("harness_raw");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, STORESCP_AET, tmp.path());
    let mut cmd = std::process::Command::new(&python.program);
    cmd.args(["-c", RAW_STORE_SCU, &port.to_string(), STORESCP_AET])
        .args(rows.iter().map(|r| r.path()));
    run(cmd, CLIENT_TIMEOUT).assert_success("raw pynetdicom C-STORE → DCMTK storescp");
    server.assert_running();
    let failures = match_bit_identical(&rows, tmp.path());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// pynetdicom SCU → dimse serve
// ---------------------------------------------------------------------------

/// (1) pynetdicom `echoscu` → `dimse serve`.
#[test]
fn pynetdicom_echoscu_to_dimse_serve() {
    let echoscu = require_peer!(Peer::Pynetdicom("echoscu"));
    let tmp = temp_dir("pyn_echoscu_serve");
    let port = free_port();
    let mut server = start_dimse_serve(port, DIMSE_AET, tmp.path());
    let out = run(
        echoscu
            .command()
            .args(["-aet", "ECHOSCU", "-aec", DIMSE_AET, LOCALHOST])
            .arg(port.to_string()),
        CLIENT_TIMEOUT,
    );
    out.assert_success("pynetdicom echoscu → dimse serve");
    // echoscu exits 0 after any association; a failed C-ECHO is only logged.
    assert!(
        !out.all().lines().any(|l| l.starts_with("E: ")),
        "pynetdicom echoscu logged an error:\n{}",
        out.all()
    );
    server.assert_running();
}

/// (2) pynetdicom `storescu -cx` → `dimse serve`: every valid corpus file
/// (uncompressed and compressed, each in its own association and transfer
/// syntax) is archived with identical elements.
#[test]
fn pynetdicom_storescu_to_dimse_serve_every_valid_file() {
    let storescu = require_peer!(Peer::Pynetdicom("storescu"));
    let _ = require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("pyn_storescu_serve");
    let archive = tmp.subdir("archive");
    let port = free_port();
    let mut server = start_dimse_serve(port, DIMSE_AET, &archive);
    let failures = send_each_and_check(&valid_corpus_files(), &archive, &mut server, |row| {
        let mut cmd = storescu.command();
        cmd.args(["-cx", "-aet", "STORESCU", "-aec", DIMSE_AET, LOCALHOST])
            .arg(port.to_string())
            .arg(row.path());
        cmd
    });
    assert!(
        failures.is_empty(),
        "{} of the valid corpus files failed:\n{}\n--- dimse serve output ---\n{}",
        failures.len(),
        failures.join("\n"),
        server.output()
    );
}

// ---------------------------------------------------------------------------
// dimse SCU → pynetdicom storescp
// ---------------------------------------------------------------------------

/// (3a) `dimse echo` → pynetdicom `storescp`.
#[test]
fn dimse_echo_to_pynetdicom_storescp() {
    let storescp = require_peer!(Peer::Pynetdicom("storescp"));
    let tmp = temp_dir("echo_pyn_storescp");
    let port = free_port();
    let mut server = start_pynetdicom_storescp(&storescp, port, STORESCP_AET, tmp.path());
    run(
        dimse([
            "echo",
            "--aet",
            SCU_AET,
            "--aec",
            STORESCP_AET,
            LOCALHOST,
            &port.to_string(),
        ]),
        CLIENT_TIMEOUT,
    )
    .assert_success("dimse echo → pynetdicom storescp");
    // The exit status alone would not prove an echo took place.
    server.wait_for_output(ECHO_LOGGED, FILE_TIMEOUT);
}

/// (3b) `dimse store` → pynetdicom `storescp`, the valid corpus in batches
/// (one `dimse store` each) without repeated SOP instance UIDs, because
/// pynetdicom names files by that UID and overwrites.
///
/// For every file, dimse's reported outcome must match what the peer did:
/// a file the peer stored has identical elements; a file it did not store
/// is named on an error line and the run exits non-zero; a run that exits
/// zero stored everything. pynetdicom's storescp accepts every uncompressed
/// syntax, so those files must always be stored; compressed ones may be
/// refused if dimse offered a syntax the peer did not pick.
#[test]
fn dimse_store_to_pynetdicom_storescp() {
    let storescp = require_peer!(Peer::Pynetdicom("storescp"));
    let _ = require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("store_pyn_storescp");
    let received = tmp.subdir("received");
    let port = free_port();
    let mut server = start_pynetdicom_storescp(&storescp, port, STORESCP_AET, &received);

    let mut failures = Vec::new();
    for (i, batch) in batches_with_unique_instances(&valid_corpus_files())
        .iter()
        .enumerate()
    {
        let source = tmp.subdir(&format!("batch{i}"));
        copy_corpus_files(batch, &source);
        let mut cmd = dimse([
            "store",
            "--aet",
            SCU_AET,
            "--aec",
            STORESCP_AET,
            LOCALHOST,
            &port.to_string(),
        ]);
        cmd.arg(&source);
        let out = run(cmd, STORE_BATCH_TIMEOUT);
        let text = out.all();
        let failures_before = failures.len();
        if out.status.code() == Some(101) {
            failures.push(format!("batch {i}: dimse store panicked:\n{text}"));
        }
        server.assert_running();

        for row in batch {
            let stored = !row.find_received(&received).is_empty();
            if stored {
                if let Err(e) =
                    retry_until(FILE_TIMEOUT, || check_received_elements(row, &received))
                {
                    failures.push(format!("batch {i}: {e}"));
                }
            } else {
                if !row.is_encapsulated() {
                    failures.push(format!(
                        "batch {i}: {} ({}) was not stored by pynetdicom",
                        row.file, row.ts
                    ));
                }
                if out.status.success() {
                    failures.push(format!(
                        "batch {i}: {} was not stored but dimse store exited 0",
                        row.file
                    ));
                }
                if !reports_error_for(&text, &row.file) {
                    failures.push(format!(
                        "batch {i}: {} was not stored and dimse store has no error line naming it",
                        row.file
                    ));
                }
            }
        }
        if failures.len() > failures_before {
            failures.push(format!("--- dimse store output (batch {i}) ---\n{text}"));
        }
        for p in files_under(&received) {
            std::fs::remove_file(p).expect("clean received files");
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n--- pynetdicom storescp output ---\n{}",
        failures.join("\n"),
        server.output()
    );
}
