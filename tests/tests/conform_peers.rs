//! `dimse conform` against third-party SCPs: DCMTK storescp and pynetdicom storescp.
//!
//! Both runs must execute every scenario and print the report. Only what each peer was
//! observed to do is asserted (DCMTK 3.6.7 as the harness starts it, pynetdicom 3.0.4):
//!
//! - DCMTK storescp fails `unknown-abstract-syntax`: the harness runs it promiscuous (`-pm`),
//!   so it accepts 1.2.3.4.5.6.7.8.9 (result 0). It resets the connection for the unknown
//!   PDU type and the 0xFFFFFFFF length. It fails `malformed-context-item`: to an
//!   A-ASSOCIATE-RQ whose presentation context item claims 100 bytes more than the PDU holds,
//!   it says nothing for the whole 10 s wait. Everything else passes.
//! - pynetdicom storescp fails `unknown-user-info-sub-item` (answers A-ABORT 0/0 instead of
//!   ignoring sub-item 0x5F), `unknown-pdu-type` and `huge-pdu-length` (sends nothing and
//!   keeps the connection open for the whole 10 s wait). Everything else passes.

use std::time::Duration;

use dimse_tests::{
    dimse, free_port, require_peer, run, start_dcmtk_storescp, start_pynetdicom_storescp, temp_dir,
    Peer, RunOutput,
};

/// The scenarios `dimse conform` runs, in report order (dimse-conformance's `SCENARIOS`).
const SCENARIOS: &[&str] = &[
    "echo",
    "unknown-abstract-syntax",
    "unknown-transfer-syntax",
    "unknown-user-info-sub-item",
    "protocol-version-0",
    "unknown-pdu-type",
    "huge-pdu-length",
    "command-in-8-byte-pdus",
    "command-in-3-pdvs",
    "abort-after-associate",
    "async-window",
    "user-identity",
    "abort-before-associate",
    "p-data-before-associate",
    "second-associate-rq",
    "malformed-context-item",
    "transfer-syntax-from-proposal",
    "role-selection",
];

/// Two scenarios can each wait out the 10 s bound; well above the worst case.
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs `dimse conform` against 127.0.0.1:`port`, prints the report and checks its shape.
fn conform(port: u16, aec: &str) -> RunOutput {
    let out = run(
        dimse(["conform", "--aec", aec, "127.0.0.1", &port.to_string()]),
        RUN_TIMEOUT,
    );
    println!("{}", out.stdout);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), SCENARIOS.len() + 1, "{}", out.all());
    for (line, s) in lines.iter().zip(SCENARIOS) {
        assert!(
            line.starts_with(&format!("PASS {s}:")) || line.starts_with(&format!("FAIL {s}:")),
            "{line}"
        );
    }
    out
}

fn verdict<'a>(out: &'a RunOutput, name: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| {
            l.get(5..)
                .is_some_and(|rest| rest.starts_with(&format!("{name}:")))
        })
        .and_then(|l| l.get(..4))
        .unwrap_or_else(|| panic!("no line for {name}:\n{}", out.stdout))
}

fn assert_verdicts(out: &RunOutput, failing: &[&str]) {
    for s in SCENARIOS {
        let want = if failing.contains(s) { "FAIL" } else { "PASS" };
        assert_eq!(verdict(out, s), want, "{s}:\n{}", out.stdout);
    }
    let passed = SCENARIOS.len() - failing.len();
    let last = out.stdout.lines().last().unwrap();
    assert_eq!(
        last,
        format!("conform: {passed} passed, {} failed", failing.len())
    );
    assert_eq!(out.status.success(), failing.is_empty(), "{}", out.all());
}

#[test]
fn conform_against_dcmtk_storescp() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dir = temp_dir("conform_dcmtk");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, "STORESCP", dir.path());
    let out = conform(port, "STORESCP");
    assert_verdicts(&out, &["unknown-abstract-syntax", "malformed-context-item"]);
    server.assert_running();
}

#[test]
fn conform_against_pynetdicom_storescp() {
    let storescp = require_peer!(Peer::Pynetdicom("storescp"));
    let dir = temp_dir("conform_pynetdicom");
    let port = free_port();
    let mut server = start_pynetdicom_storescp(&storescp, port, "STORESCP", dir.path());
    let out = conform(port, "STORESCP");
    assert_verdicts(
        &out,
        &[
            "unknown-user-info-sub-item",
            "unknown-pdu-type",
            "huge-pdu-length",
        ],
    );
    server.assert_running();
}
