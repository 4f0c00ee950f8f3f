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

use dimse_archive::{Archive, Config, IndexLocation};
use dimse_bench::corpus::{
    find_latency, ingest, study_uid, Query, PER_SERIES, STUDIES_BY_NAME, STUDIES_PER_PATIENT,
};
use dimse_std::{Scp, ServerHandle};

const AET: &str = "BENCH";
const SCUS: usize = 4;

const QUERIES: [Query; 3] = [
    Query {
        name: "study by UID, with its instance count",
        keys: |s, _| {
            vec![
                ("QueryRetrieveLevel", "STUDY".into()),
                ("StudyInstanceUID", study_uid(s)),
                ("NumberOfStudyRelatedInstances", String::new()),
            ]
        },
        matches: 1,
    },
    Query {
        name: "the 10 images of a series",
        keys: |s, _| {
            vec![
                ("QueryRetrieveLevel", "IMAGE".into()),
                ("StudyInstanceUID", study_uid(s)),
                ("SeriesInstanceUID", format!("{}.1", study_uid(s))),
                ("SOPInstanceUID", String::new()),
                ("InstanceNumber", String::new()),
            ]
        },
        matches: PER_SERIES,
    },
    STUDIES_BY_NAME,
];

fn serve(archive: &Archive) -> ServerHandle {
    Scp::new(archive.policy(), archive.clone())
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap()
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
        let rate = ingest(&ports, AET, 0..count, SCUS);
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
        for (case, median, p95) in find_latency(port, AET, count, queries, &QUERIES) {
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
