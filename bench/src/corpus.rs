//! The small instances the archive benchmarks store: 10 per series, one series per study, 10
//! studies per patient, each with 4 KiB of bulk data, so that the index is measured, not the
//! disk.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::DataSet;
use dimse_core::query::QueryModel;
use dimse_core::uid::{self, TransferSyntax};
use dimse_core::Entity;
use dimse_std::Scu;

/// CT Image Storage.
pub const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
/// Instances in each series (and study).
pub const PER_SERIES: usize = 10;
/// Studies of each patient.
pub const STUDIES_PER_PATIENT: usize = 10;
/// The root of every UID made here.
pub const ROOT: &str = "1.2.826.0.1.3680043.9.7780";

/// The study instance `i` belongs to.
pub fn study(i: usize) -> usize {
    i / PER_SERIES
}

/// Study `s`'s Study Instance UID; its one series is this UID with `.1` appended.
pub fn study_uid(s: usize) -> String {
    format!("{ROOT}.{s}")
}

/// Patient `p`'s name: `PAT000123^BENCH`, so `PAT000123*` finds that patient's studies.
pub fn patient_name(p: usize) -> String {
    format!("PAT{p:06}^BENCH")
}

/// Instance `i`: its SOP Instance UID and its data set in Explicit VR Little Endian.
///
/// ```
/// let (sop, data) = dimse_bench::corpus::instance(12);
/// assert_eq!(sop, "1.2.826.0.1.3680043.9.7780.1.1.12");
/// assert!(data.len() > 4096);
/// ```
pub fn instance(i: usize) -> (String, Vec<u8>) {
    let st = study(i);
    let sop = format!("{ROOT}.{st}.1.{i}");
    let ds = DataSet::new()
        .with("SOPClassUID", CT)
        .and_then(|d| d.with("SOPInstanceUID", &sop))
        .and_then(|d| d.with("PatientID", &format!("P{}", st / STUDIES_PER_PATIENT)))
        .and_then(|d| d.with("PatientName", &patient_name(st / STUDIES_PER_PATIENT)))
        .and_then(|d| d.with("StudyDate", "20240101"))
        .and_then(|d| d.with("StudyInstanceUID", &study_uid(st)))
        .and_then(|d| d.with("SeriesInstanceUID", &format!("{}.1", study_uid(st))))
        .and_then(|d| d.with("Modality", "CT"))
        .and_then(|d| d.with("InstanceNumber", &(i % PER_SERIES + 1).to_string()))
        .expect("valid attributes");
    let mut out = BytesMut::new();
    ds.encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
    let bulk = 4 * 1024;
    // (0009,1010) OB: private bulk the index ignores.
    out.extend_from_slice(&[0x09, 0x00, 0x10, 0x10, b'O', b'B', 0, 0]);
    out.extend_from_slice(&(bulk as u32).to_le_bytes());
    out.extend_from_slice(&vec![0x5A; bulk]);
    (sop, out.to_vec())
}

/// Stores instances `range` with `scus` SCU threads spread over `ports` (loopback SCPs
/// called `aet`), each on one association, one C-STORE at a time; returns the rate in
/// instances per second. Panics on any failure: a benchmark that lost instances measured
/// nothing.
pub fn ingest(ports: &[u16], aet: &str, range: Range<usize>, scus: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(range.start));
    let started = Instant::now();
    let threads: Vec<_> = (0..scus)
        .map(|t| {
            let peer = Entity::local(aet, ports[t % ports.len()]);
            let (next, end) = (Arc::clone(&next), range.end);
            std::thread::spawn(move || {
                let ctx = ProposedContext::new(CT, &[uid::EXPLICIT_VR_LE]);
                let mut assoc = Scu::new("BENCH_SCU").associate(&peer, vec![ctx]).unwrap();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        break;
                    }
                    let (sop, data) = instance(i);
                    let rsp = assoc
                        .store(CT, &sop, uid::EXPLICIT_VR_LE, &data[..])
                        .unwrap();
                    assert!(rsp.status.is_success(), "store {sop}: {:?}", rsp.status);
                }
                assoc.release().unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    range.len() as f64 / started.elapsed().as_secs_f64()
}

/// A C-FIND the archive benchmarks time: its keys for a study and a patient, and how many
/// matches it must return.
pub struct Query {
    /// What it asks, for the report.
    pub name: &'static str,
    /// The identifier's keys for study `s` of patient `p`.
    pub keys: fn(s: usize, p: usize) -> Vec<(&'static str, String)>,
    /// Matches expected (a wrong count fails the benchmark).
    pub matches: usize,
}

/// The studies of one patient, by a wildcard on the patient's name in lower case
/// (`pat000123*`: PN matching ignores case).
pub const STUDIES_BY_NAME: Query = Query {
    name: "studies by patient name wildcard",
    keys: |_, p| {
        vec![
            ("QueryRetrieveLevel", "STUDY".into()),
            ("PatientName", format!("pat{p:06}*")),
            ("StudyInstanceUID", String::new()),
        ]
    },
    matches: STUDIES_PER_PATIENT,
};

/// Median and 95th percentile of `runs` runs of each of `queries` through one association
/// to the SCP `aet` at `port` holding instances `0..count`, spread over its studies and
/// patients.
pub fn find_latency(
    port: u16,
    aet: &str,
    count: usize,
    runs: usize,
    queries: &[Query],
) -> Vec<(&'static str, Duration, Duration)> {
    let ctx = ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = Scu::new("BENCH_SCU")
        .associate(&Entity::local(aet, port), vec![ctx])
        .unwrap();
    let studies = (count / PER_SERIES).max(1);
    let patients = (studies / STUDIES_PER_PATIENT).max(1);
    let mut out = Vec::new();
    for q in queries {
        let mut times = Vec::with_capacity(runs);
        for r in 0..runs {
            // Spread over the archive by two primes, the same entities for every SCP.
            let (s, p) = ((r * 7919) % studies, (r * 104_729) % patients);
            let mut identifier = DataSet::new();
            for (k, v) in (q.keys)(s, p) {
                identifier = identifier.with(k, &v).unwrap();
            }
            let started = Instant::now();
            let mut n = 0;
            for m in assoc.find(QueryModel::StudyRoot, &identifier).unwrap() {
                m.unwrap();
                n += 1;
            }
            times.push(started.elapsed());
            assert_eq!(n, q.matches, "{}: {n} matches", q.name);
        }
        times.sort();
        out.push((
            q.name,
            times[times.len() / 2],
            times[times.len() * 95 / 100],
        ));
    }
    assoc.release().unwrap();
    out
}
