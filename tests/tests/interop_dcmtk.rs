//! Interoperability with DCMTK 3.6.7 (`echoscu`, `storescu`, `storescp`,
//! `dcmdump`, `dcmconv`), both directions.
//!
//! Every test starts its own server on a free port, bounds every wait, and
//! kills its children on drop. Tests named `harness_*` and
//! `dcmdump_normalisation_*` use DCMTK on both ends: they prove peer
//! discovery, the storescu transfer-syntax options and the element
//! comparison, independently of `dimse`.
//!
//! DCMTK options used (all checked against `--help` of 3.6.7):
//! * `echoscu -aet A -aec B HOST PORT`
//! * `storescu -R [-xb|-xd|-xy|-xx|-xs|-xt|-xu|-xv|-xw|-xr] -aet A -aec B HOST PORT FILE`
//!   (see `dcmtk_storescu_ts_option`; `-R` proposes only the file's SOP class)
//! * `storescp -v +xa +B +uf -pm -aet A -od DIR PORT` (see `start_dcmtk_storescp`)
//! * `dcmdump +L -Un FILE` (see `dump_elements`)
//! * `dcmconv +te|+ti|+tb|+td IN OUT` (explicit LE / implicit / explicit BE /
//!   deflated output)

use std::time::Duration;

use dimse_tests::*;

const DIMSE_AET: &str = "DIMSE";
const STORESCP_AET: &str = "STORESCP";
const SCU_AET: &str = "DIMSE-TEST";

/// Bound for one `dimse store` of the whole corpus (≈0.3 MB).
const STORE_ALL_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// Harness self-checks: DCMTK on both ends
// ---------------------------------------------------------------------------

/// Discovery and process control work: DCMTK echoscu → DCMTK storescp.
#[test]
fn harness_dcmtk_echoscu_to_dcmtk_storescp() {
    let echoscu = require_peer!(Peer::Dcmtk("echoscu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    assert!(echoscu.program.is_absolute(), "{:?}", echoscu.program);
    let tmp = temp_dir("harness_echo");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, STORESCP_AET, tmp.path());
    run(
        echoscu
            .command()
            .args(["-aet", "ECHOSCU", "-aec", STORESCP_AET, LOCALHOST])
            .arg(port.to_string()),
        CLIENT_TIMEOUT,
    )
    .assert_success("DCMTK echoscu → DCMTK storescp");
    server.assert_running();
}

/// The storescu transfer-syntax options are right: every valid corpus file,
/// sent alone with its option to `storescp +xa +B`, arrives with identical
/// elements, compressed ones in their own transfer syntax.
///
/// Not byte-identical: storescu re-encodes every data set it sends (its
/// verbose log says "Converting transfer syntax: Little Endian Explicit ->
/// Little Endian Explicit", dropping e.g. trailing padding) and may move an
/// uncompressed file to another uncompressed syntax.
#[test]
fn harness_dcmtk_storescu_options_deliver_every_file() {
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let _ = require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("harness_store");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, STORESCP_AET, tmp.path());
    let failures = send_each_and_check(&valid_corpus_files(), tmp.path(), &mut server, |row| {
        let mut cmd = storescu.command();
        cmd.args(dcmtk_storescu_args(row, "STORESCU", STORESCP_AET, port));
        cmd
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `dump_elements` ignores exactly what a transfer syntax change alters:
/// every uncompressed valid file re-encoded by `dcmconv` in explicit LE,
/// implicit LE, explicit BE and deflated dumps the same elements.
#[test]
fn dcmdump_normalisation_survives_reencoding() {
    let dcmconv = require_peer!(Peer::Dcmtk("dcmconv"));
    let _ = require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("normalisation");
    let mut failures = Vec::new();
    for row in valid_corpus_files().iter().filter(|r| !r.is_encapsulated()) {
        for option in ["+te", "+ti", "+tb", "+td"] {
            let out = tmp.path().join(format!("{}{option}", row.file));
            run(
                dcmconv.command().arg(option).arg(row.path()).arg(&out),
                CLIENT_TIMEOUT,
            )
            .assert_success(&format!("dcmconv {option} {}", row.file));
            if let Err(e) = compare_elements(&row.path(), &out) {
                failures.push(format!("{option}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// DCMTK SCU → dimse serve
// ---------------------------------------------------------------------------

/// (1) DCMTK `echoscu` → `dimse serve`.
#[test]
fn dcmtk_echoscu_to_dimse_serve() {
    let echoscu = require_peer!(Peer::Dcmtk("echoscu"));
    let tmp = temp_dir("echoscu_serve");
    let port = free_port();
    let mut server = start_dimse_serve(port, DIMSE_AET, tmp.path());
    run(
        echoscu
            .command()
            .args(["-aet", "ECHOSCU", "-aec", DIMSE_AET, LOCALHOST])
            .arg(port.to_string()),
        CLIENT_TIMEOUT,
    )
    .assert_success("DCMTK echoscu → dimse serve");
    server.assert_running();
}

/// (2) DCMTK `storescu` → `dimse serve`: every valid corpus file, each in its
/// own association proposing its transfer syntax, is archived with identical
/// elements (compressed ones in their own syntax).
///
/// The same check as `harness_dcmtk_storescu_options_deliver_every_file`,
/// with `dimse serve` as the SCP.
#[test]
fn dcmtk_storescu_to_dimse_serve_every_valid_file() {
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let _ = require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("storescu_serve");
    let archive = tmp.subdir("archive");
    let port = free_port();
    let mut server = start_dimse_serve(port, DIMSE_AET, &archive);
    let failures = send_each_and_check(&valid_corpus_files(), &archive, &mut server, |row| {
        let mut cmd = storescu.command();
        cmd.args(dcmtk_storescu_args(row, "STORESCU", DIMSE_AET, port));
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
// dimse SCU → DCMTK storescp
// ---------------------------------------------------------------------------

/// (3) `dimse echo` → DCMTK `storescp`.
#[test]
fn dimse_echo_to_dcmtk_storescp() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let tmp = temp_dir("echo_storescp");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, STORESCP_AET, tmp.path());
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
    .assert_success("dimse echo → DCMTK storescp");
    // The exit status alone would not prove an echo took place.
    server.wait_for_output(ECHO_LOGGED, FILE_TIMEOUT);
}

/// `dimse echo` to a port nobody listens on fails promptly with a message.
#[test]
fn dimse_echo_to_closed_port_fails() {
    let port = free_port();
    let out = run(
        dimse(["echo", LOCALHOST, &port.to_string()]),
        CLIENT_TIMEOUT,
    );
    assert!(
        !out.status.success(),
        "echo to a closed port succeeded: {out:?}"
    );
    assert_ne!(out.status.code(), Some(101), "dimse panicked: {out:?}");
    assert!(!out.all().trim().is_empty(), "no error message: {out:?}");
}

/// (4) `dimse store` of the whole valid corpus directory in ONE invocation
/// → DCMTK `storescp +xa +B`: every file arrives in its own transfer syntax
/// with a byte-identical data set (image_dfl.dcm plus the PS3.5 A.5 pad
/// byte, see `wire_data_set_bytes`). `storescp +B` itself is shown to be
/// byte-preserving by `harness_raw_store_to_dcmtk_storescp_is_bit_identical`.
#[test]
fn dimse_store_valid_corpus_to_dcmtk_storescp_bit_identical() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let tmp = temp_dir("store_storescp");
    let source = tmp.subdir("source");
    let received = tmp.subdir("received");
    let valid = valid_corpus_files();
    copy_corpus_files(&valid, &source);
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, STORESCP_AET, &received);

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
    let out = run(&mut cmd, STORE_ALL_TIMEOUT);
    out.assert_success("dimse store <valid corpus> → DCMTK storescp");
    server.assert_running();

    // storescp writes before it responds; the retry only covers slow disks.
    let failures = retry_until(FILE_TIMEOUT, || {
        let failures = match_bit_identical(&valid, &received);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("\n"))
        }
    });
    if let Err(e) = failures {
        panic!(
            "{e}\n--- dimse store output ---\n{}\n--- storescp output ---\n{}",
            out.all(),
            server.output()
        );
    }
}

/// (5) `dimse store` of every odd or broken corpus file plus one valid file:
/// exits non-zero, says of each file what became of it (unreadable only when it
/// cannot be delimited or names no SOP Class/Instance), warns about a value
/// that breaks its VR, still delivers the valid file, and neither crashes nor
/// hangs.
#[test]
fn dimse_store_broken_files_reports_each_and_sends_the_rest() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let tmp = temp_dir("store_broken");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, STORESCP_AET, tmp.path());
    let broken = broken_corpus_files();
    // CT_small's SOP instance UID is not shared with any broken file.
    let good = valid_corpus_files()
        .into_iter()
        .find(|r| r.file == "CT_small.dcm")
        .expect("CT_small.dcm in the corpus");

    let mut cmd = dimse([
        "store",
        "--aet",
        SCU_AET,
        "--aec",
        STORESCP_AET,
        LOCALHOST,
        &port.to_string(),
    ]);
    cmd.args(broken.iter().map(|r| r.path()));
    cmd.arg(good.path());
    let out = run(&mut cmd, CLIENT_TIMEOUT);

    assert!(
        !out.status.success(),
        "dimse store of broken files exited successfully:\n{}",
        out.all()
    );
    assert!(
        out.status.code().is_some_and(|c| c != 101),
        "dimse store crashed ({}):\n{}",
        out.status,
        out.all()
    );
    let text = out.all();
    // Each file gets one line saying what became of it. Only what cannot be delimited or
    // names no SOP Class/Instance anywhere is unreadable; the lenient reader sends files
    // without meta or with bad values (storescp may still refuse a data set lacking its own
    // UIDs: the receiver's choice).
    let unreadable = [
        "MR_truncated.dcm",
        "rtplan_truncated.dcm",
        "no_meta.dcm",
        "empty_charset_LEI.dcm",
        "meta_missing_tsyntax.dcm",
        "nested_priv_SQ.dcm",
    ];
    let sent = ["badVR.dcm", "rtstruct.dcm"];
    let outcome = |name: &str| {
        text.lines().find_map(|l| {
            ["unreadable", "sent", "refused", "not sent"]
                .into_iter()
                .find(|word| l.starts_with(&format!("{word} ")) && l.contains(&format!("/{name}")))
        })
    };
    let mut wrong = Vec::new();
    for row in &broken {
        let name = row.file.as_str();
        let want: &[&str] = if unreadable.contains(&name) {
            &["unreadable"]
        } else if sent.contains(&name) {
            &["sent"]
        } else {
            &["sent", "refused"]
        };
        match outcome(name) {
            Some(got) if want.contains(&got) => {}
            got => wrong.push(format!("{name}: expected {want:?}, got {got:?}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\n--- dimse store output ---\n{text}",
        wrong.join("\n")
    );
    assert!(
        text.lines().any(|l| l.starts_with("warning: ")
            && l.contains("badVR.dcm")
            && l.contains("(0028,0008)")),
        "no warning naming badVR.dcm's (0028,0008):\n{text}"
    );

    server.assert_running();
    let arrived = retry_until(FILE_TIMEOUT, || {
        let found = good.find_received(tmp.path());
        if found.iter().any(|p| is_bit_identical(&good, p)) {
            Ok(())
        } else {
            Err(format!(
                "{} did not arrive bit-identical; received: {found:?}",
                good.file
            ))
        }
    });
    if let Err(e) = arrived {
        panic!("{e}\n--- dimse store output ---\n{text}");
    }
}
