//! The hostile-peer suite (`dimse_conformance::hostile`) against `dimse serve` on each runtime,
//! with short timers so that stalls end in seconds: garbage, a 0xFFFFFFFF length, a silent
//! peer, PDUs sent a byte at a time before and after association, 2,000 presentation
//! contexts, absurd command lengths, a peer vanishing mid-data-set, an endless data set and
//! 1,000 connections at once.
//!
//! Around it: an instance stored before and one after must both be on disk, the unfinished
//! instance nowhere (not even half-written), the server still running, and its peak memory
//! bounded (printed, for the issue note).

use std::time::Duration;

use dimse_conformance::{report, run_hostile, Hostile, Target, UNFINISHED_INSTANCE};
use dimse_tests::*;

const AET: &str = "HOSTILE-SCP";
/// ARTIM, idle and ACSE timeouts the server is started with.
const TIMER_SECS: u64 = 2;
const MAX_DATA_SET: u64 = 8 << 20;
/// Peak resident memory allowed for the server through the whole suite. The 1,000
/// connections at once dominate: a task and a 16 KiB read buffer each on tokio and smol, a
/// thread each on std, whose stack this unoptimised build fills with much larger frames
/// (measured with 1,000 silent connections: std 128 MiB here, 61 MiB in a release build;
/// tokio 41 and 35 MiB).
fn max_peak_kib(runtime: &str) -> u64 {
    if runtime == "std" {
        192 * 1024
    } else {
        64 * 1024
    }
}

fn hostile_suite(runtime: &str) {
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let tmp = temp_dir(&format!("hostile_{runtime}"));
    let port = free_port();
    let timer = TIMER_SECS.to_string();
    let max = MAX_DATA_SET.to_string();
    let mut server = start_dimse_serve_with(
        port,
        AET,
        tmp.path(),
        &[
            "--runtime",
            runtime,
            "--acse-timeout",
            &timer,
            "--idle-timeout",
            &timer,
            "--max-data-set",
            &max,
        ],
    );
    let rows: Vec<ManifestRow> = batches_with_unique_instances(&valid_corpus_files())
        .into_iter()
        .next()
        .unwrap()
        .into_iter()
        .filter(|r| !r.is_encapsulated())
        .take(2)
        .collect();
    let store = |row: &ManifestRow| {
        let mut cmd = storescu.command();
        cmd.args(dcmtk_storescu_args(row, "STORESCU", AET, port));
        run(cmd, CLIENT_TIMEOUT).assert_success("storescu");
    };
    store(&rows[0]);

    let mut target = Target::new(LOCALHOST, port, "HOSTILE", AET);
    target.timeout = Duration::from_secs(15);
    let secs = Duration::from_secs(TIMER_SECS);
    let outcomes = run_hostile(&Hostile {
        target,
        artim: secs,
        idle: secs,
        acse: secs,
        max_data_set: MAX_DATA_SET,
        connections: 1000,
    });
    let text = report(&outcomes);
    eprintln!("{runtime}:\n{text}");
    assert!(outcomes.iter().all(|o| o.passed), "{text}");

    store(&rows[1]);
    server.assert_running();
    for row in &rows {
        eventually(FILE_TIMEOUT, || check_received_elements(row, tmp.path()));
    }
    let unfinished = find_by_sop_instance(tmp.path(), UNFINISHED_INSTANCE);
    assert!(
        unfinished.is_empty(),
        "half-received instance kept: {unfinished:?}"
    );
    let peak = server.peak_rss_kib();
    eprintln!(
        "hostile suite, dimse serve --runtime {runtime}: peak RSS {:.1} MiB",
        peak as f64 / 1024.0
    );
    assert!(peak < max_peak_kib(runtime), "peak RSS {peak} KiB");
}

#[test]
fn hostile_peers_std() {
    hostile_suite("std");
}

#[test]
fn hostile_peers_tokio() {
    hostile_suite("tokio");
}

#[test]
fn hostile_peers_smol() {
    hostile_suite("smol");
}
