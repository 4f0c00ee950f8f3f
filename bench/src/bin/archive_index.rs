//! The archive's index backends side by side, in one run: ingest rate of one node on SQLite,
//! one node on PostgreSQL and two nodes on one PostgreSQL database; then C-FIND latency at
//! the filled size on each backend.
//!
//! ```sh
//! cargo build --release -p dimse-bench --bin archive_index
//! target/release/archive_index [--instances 100000] [--queries 50]
//! ```
//!
//! The nodes are archives served in this process by dimse-std SCPs on loopback (each node an
//! `Archive` over the same root, as `dimse serve` processes would be); four SCU threads store
//! small instances (4 KiB of bulk data: the index, not the disk, is measured), 10 per series,
//! one series per study, 10 studies per patient. PostgreSQL is a throwaway cluster started
//! here (`initdb`, `pg_ctl`, with its defaults: fsync on), as in the tests.

#[path = "../../../tests/src/pg.rs"]
mod pg;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dimse_archive::{Archive, Config, IndexLocation};
use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::DataSet;
use dimse_core::query::QueryModel;
use dimse_core::uid::{self, TransferSyntax};
use dimse_core::Entity;
use dimse_std::{Scp, Scu, ServerHandle};

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const AET: &str = "BENCH";
const SCUS: usize = 4;
const PER_SERIES: usize = 10;
const STUDIES_PER_PATIENT: usize = 10;
const ROOT: &str = "1.2.826.0.1.3680043.9.7780";

fn study(i: usize) -> usize {
    i / PER_SERIES
}

fn instance(i: usize) -> (String, Vec<u8>) {
    let st = study(i);
    let sop = format!("{ROOT}.{st}.1.{i}");
    let ds = DataSet::new()
        .with("SOPClassUID", CT)
        .and_then(|d| d.with("SOPInstanceUID", &sop))
        .and_then(|d| d.with("PatientID", &format!("P{}", st / STUDIES_PER_PATIENT)))
        .and_then(|d| {
            d.with(
                "PatientName",
                &format!("PAT{:06}^BENCH", st / STUDIES_PER_PATIENT),
            )
        })
        .and_then(|d| d.with("StudyDate", "20240101"))
        .and_then(|d| d.with("StudyInstanceUID", &format!("{ROOT}.{st}")))
        .and_then(|d| d.with("SeriesInstanceUID", &format!("{ROOT}.{st}.1")))
        .and_then(|d| d.with("Modality", "CT"))
        .and_then(|d| d.with("InstanceNumber", &(i % PER_SERIES + 1).to_string()))
        .unwrap();
    let mut out = BytesMut::new();
    ds.encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
    let bulk = 4 * 1024;
    out.extend_from_slice(&[0x09, 0x00, 0x10, 0x10, b'O', b'B', 0, 0]);
    out.extend_from_slice(&(bulk as u32).to_le_bytes());
    out.extend_from_slice(&vec![0x5A; bulk]);
    (sop, out.to_vec())
}

fn serve(archive: &Archive) -> ServerHandle {
    Scp::new(archive.policy(), archive.clone())
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap()
}

/// Stores instances `0..count` through `ports` (SCU threads spread over them); returns the
/// rate in instances per second.
fn ingest(ports: &[u16], count: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..SCUS)
        .map(|t| {
            let port = ports[t % ports.len()];
            let next = Arc::clone(&next);
            std::thread::spawn(move || {
                let scu = Scu::new("BENCH_SCU");
                let ctx = ProposedContext::new(CT, &[uid::EXPLICIT_VR_LE]);
                let mut assoc = scu.associate(&Entity::local(AET, port), vec![ctx]).unwrap();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
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
    count as f64 / started.elapsed().as_secs_f64()
}

/// Opens `nodes` archives over `root` with `index` and serves each.
fn nodes(root: &Path, index: &IndexLocation, nodes: usize) -> Vec<(Archive, ServerHandle)> {
    (0..nodes)
        .map(|_| {
            let mut config = Config::new(AET);
            config.index = index.clone();
            let archive = Archive::open(root, config).unwrap();
            let server = serve(&archive);
            (archive, server)
        })
        .collect()
}

/// Median and 95th percentile of `queries` runs of each C-FIND through `port`.
fn find_latency(
    port: u16,
    count: usize,
    queries: usize,
) -> Vec<(&'static str, Duration, Duration)> {
    let scu = Scu::new("BENCH_SCU");
    let ctx = ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = scu.associate(&Entity::local(AET, port), vec![ctx]).unwrap();
    type Keys = fn(usize, usize) -> Vec<(&'static str, String)>;
    let cases: [(&'static str, Keys, usize); 3] = [
        (
            "study by UID, with its instance count",
            |s, _| {
                vec![
                    ("QueryRetrieveLevel", "STUDY".into()),
                    ("StudyInstanceUID", format!("{ROOT}.{s}")),
                    ("NumberOfStudyRelatedInstances", String::new()),
                ]
            },
            1,
        ),
        (
            "the 10 images of a series",
            |s, _| {
                vec![
                    ("QueryRetrieveLevel", "IMAGE".into()),
                    ("StudyInstanceUID", format!("{ROOT}.{s}")),
                    ("SeriesInstanceUID", format!("{ROOT}.{s}.1")),
                    ("SOPInstanceUID", String::new()),
                    ("InstanceNumber", String::new()),
                ]
            },
            PER_SERIES,
        ),
        (
            "studies by patient name (wildcard: every study matched in Rust)",
            |_, p| {
                vec![
                    ("QueryRetrieveLevel", "STUDY".into()),
                    ("PatientName", format!("pat{p:06}*")),
                    ("StudyInstanceUID", String::new()),
                ]
            },
            STUDIES_PER_PATIENT,
        ),
    ];
    let mut out = Vec::new();
    for (name, keys, want) in cases {
        let mut times = Vec::with_capacity(queries);
        for q in 0..queries {
            // Spread over the archive, the same entities for every backend.
            let s = (q * 7919) % (count / PER_SERIES);
            let p = (q * 104_729) % (count / PER_SERIES / STUDIES_PER_PATIENT);
            let mut identifier = DataSet::new();
            for (k, v) in keys(s, p) {
                identifier = identifier.with(k, &v).unwrap();
            }
            let started = Instant::now();
            let mut n = 0;
            for m in assoc.find(QueryModel::StudyRoot, &identifier).unwrap() {
                m.unwrap();
                n += 1;
            }
            times.push(started.elapsed());
            assert_eq!(n, want, "{name}: {n} matches");
        }
        times.sort();
        out.push((name, times[times.len() / 2], times[times.len() * 95 / 100]));
    }
    assoc.release().unwrap();
    out
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Whole patients, so that every query below has its full number of matches.
    let per_patient = PER_SERIES * STUDIES_PER_PATIENT;
    let count = (arg(&args, "--instances", 100_000) / per_patient).max(1) * per_patient;
    let queries = arg(&args, "--queries", 50).max(1);
    let Some(cluster) = pg::PgCluster::start_with("bench", &[]) else {
        eprintln!("PostgreSQL missing: nothing to compare");
        std::process::exit(2);
    };
    let work = std::env::temp_dir().join(format!("dimse-index-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "machine: {} cores; {count} instances of ~5 KiB per run, {SCUS} SCU threads; \
         SQLite as `dimse serve` runs it (index committed behind the response), PostgreSQL \
         with its defaults (fsync, synchronous_commit on; committed before the response)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    let runs: [(&str, IndexLocation, usize); 3] = [
        ("SQLite, one node", IndexLocation::Sqlite, 1),
        (
            "PostgreSQL, one node",
            IndexLocation::Postgres(cluster.create_database("one")),
            1,
        ),
        (
            "PostgreSQL, two nodes",
            IndexLocation::Postgres(cluster.create_database("two")),
            2,
        ),
    ];
    let mut kept = Vec::new();
    println!("\ningest (C-STORE, acknowledged):");
    for (i, (name, index, n)) in runs.into_iter().enumerate() {
        let root = work.join(format!("run{i}"));
        let served = nodes(&root, &index, n);
        let ports: Vec<u16> = served.iter().map(|(_, s)| s.local_addr().port()).collect();
        let rate = ingest(&ports, count);
        println!("  {name:<24} {rate:>8.0} instances/s");
        if n == 1 {
            kept.push((name, served));
        } else {
            for (_, server) in served {
                server.stop();
            }
        }
    }
    println!("\nC-FIND at {count} instances (median / p95 of {queries}):");
    for (name, served) in &kept {
        let port = served[0].1.local_addr().port();
        for (case, median, p95) in find_latency(port, count, queries) {
            println!(
                "  {name:<24} {case:<66} {:>8.2} ms / {:>8.2} ms",
                median.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3
            );
        }
    }
    for (_, served) in kept {
        for (_, server) in served {
            server.stop();
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}
