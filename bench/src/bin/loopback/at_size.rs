//! Case (7): `dimse serve` at size. The benchmark fills one archive over the network with
//! small instances ([`dimse_bench::corpus`]: 10 per series, one series per study, 10 studies
//! per patient), compares the ingest rate of the last slice with that of the first, and times
//! the queries a viewer's worklist makes on a full archive.

use std::fs;
use std::path::Path;
use std::process::Command;

use dimse_bench::corpus::{
    find_latency, ingest, study_uid, Query, PER_SERIES, STUDIES_BY_NAME, STUDIES_PER_PATIENT,
};

use super::{free_port, start_scp, Side, Tools, SCP_AET};

/// SCU threads storing at once, each on its own association.
const SCUS: usize = 4;

/// The series of one study, by its Study Instance UID.
const SERIES_OF_STUDY: Query = Query {
    name: "series of a study by StudyInstanceUID",
    keys: |s, _| {
        vec![
            ("QueryRetrieveLevel", "SERIES".into()),
            ("StudyInstanceUID", study_uid(s)),
            ("SeriesInstanceUID", String::new()),
            ("Modality", String::new()),
            ("NumberOfSeriesRelatedInstances", String::new()),
        ]
    },
    matches: 1,
};

/// Lets the archive finish what it acknowledged before the index is measured: the index
/// commits behind the responses, and a C-FIND waits for that commit; then the kernel writes
/// the dirty pages back (`sync`).
fn settle(port: u16, stored: usize) {
    find_latency(port, SCP_AET, stored, 1, &[SERIES_OF_STUDY]);
    let _ = Command::new("sync").status();
}

pub(super) fn run(t: &Tools, work: &Path, count: usize, runs: usize) {
    // Whole patients in each slice, so every query finds all it should.
    let per_patient = PER_SERIES * STUDIES_PER_PATIENT;
    let count = (count / (25 * per_patient)).max(1) * 25 * per_patient;
    let slice = count / 25;
    println!(
        "\n(7) dimse serve at {count} instances of ~5 KiB, stored over the network by {SCUS} \
         dimse SCUs (one C-STORE at a time each)"
    );
    let port = free_port();
    let dir = work.join("at-size");
    let _serve = start_scp(t, Side::Dimse, port, &dir, false);
    // The rate of each twenty-fifth, in order: how ingest changes as the archive fills.
    let slices = 25;
    let rates: Vec<f64> = (0..slices)
        .map(|k| ingest(&[port], SCP_AET, k * slice..(k + 1) * slice, SCUS))
        .collect();
    let line: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "  ingest per {slice} instances, in order: {} /s",
        line.join(" ")
    );
    // The first slice runs cold (new directories, an empty page cache): the fastest of the
    // first five is the fairer "empty archive" rate.
    let (first, last) = (rates[0], rates[slices - 1]);
    let early = rates[..5].iter().copied().fold(0.0, f64::max);
    println!(
        "  ingest, last {slice}: {last:.0}/s, {:.2}x the first {slice} ({first:.0}/s), \
         {:.2}x the fastest of the first five ({early:.0}/s)",
        last / first,
        last / early
    );
    settle(port, count);
    let index: u64 = fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("index.sqlite"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "  index (SQLite with its WAL): {:.1} MiB, {:.0} bytes per instance",
        index as f64 / (1024.0 * 1024.0),
        index as f64 / count as f64
    );
    for (name, median, p95) in find_latency(
        port,
        SCP_AET,
        count,
        runs,
        &[STUDIES_BY_NAME, SERIES_OF_STUDY],
    ) {
        println!(
            "  C-FIND {name:<40} median {:7.2} ms, p95 {:7.2} ms (of {runs}, one association)",
            median.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
    }
}
