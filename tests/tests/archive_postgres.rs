//! Several `dimse serve` nodes over one storage root and one PostgreSQL index
//! (`--index postgres://...`), each test on a throwaway cluster of its own ([`PgCluster`]):
//!
//! 1. DCMTK `storescu` into node 1; `findscu` and `movescu` through node 2 see and retrieve
//!    every instance.
//! 2. Two `storescu` processes send the same files through both nodes at once: both are
//!    acknowledged every time, and each instance ends as exactly one file and one index row.
//! 3. Node 1 is killed with SIGKILL in the middle of a store storm (node 2 storing too): every
//!    instance either node acknowledged is found and retrieved through node 2, every index
//!    row names a whole file, and node 1 restarts without rescanning the store.
//!
//! Skipped loudly without PostgreSQL or DCMTK; failures under `DIMSE_REQUIRE_PEERS=1`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::part10::FileMeta;
use dimse_core::query::QueryModel;
use dimse_core::uid::{self, TransferSyntax};
use dimse_core::Entity;
use dimse_std::{Scu, StoreFile};
use dimse_tests::pg::PgCluster;
use dimse_tests::qr::{findscu_at, qr_corpus, Archive, SERVE_AET};
use dimse_tests::*;

const DEST_AET: &str = "DEST";
const CT_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const RETRIEVE_TIMEOUT: Duration = Duration::from_secs(120);

/// `let cluster = cluster!("label");`: skips the test without PostgreSQL.
macro_rules! cluster {
    ($label:expr) => {
        match PgCluster::start($label) {
            Some(cluster) => cluster,
            None => return,
        }
    };
}

/// A `dimse serve` node on `dir` with the index at `url`, plus `extra` arguments.
#[track_caller]
fn node(dir: &Path, url: &str, extra: &[String]) -> (Server, u16) {
    let port = free_port();
    let mut args = vec!["--index".to_string(), url.to_string()];
    args.extend(extra.iter().cloned());
    (start_dimse_serve_with(port, SERVE_AET, dir, &args), port)
}

/// The `.dcm` files of the archive (not under `.tmp/`).
fn stored_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .filter(|p| !p.starts_with(dir.join(".tmp")))
        .collect()
}

/// Files under `.tmp/` that hold data (spare files and node locks are empty).
fn temporaries_with_data(dir: &Path) -> Vec<PathBuf> {
    files_under(&dir.join(".tmp"))
        .into_iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .collect()
}

/// The SOP Instance UIDs of the Part 10 files under `dir` (their meta's).
fn sop_instances_under(dir: &Path) -> BTreeSet<String> {
    files_under(dir)
        .iter()
        .filter_map(|p| read_file_meta(p).ok())
        .map(|m| m.sop_instance)
        .collect()
}

/// One C-MOVE of `study` with DCMTK movescu through `port` to [`DEST_AET`]; the error holds
/// movescu's output.
fn movescu_study(movescu: &PeerPath, port: u16, study: &str) -> Result<(), String> {
    let out = run(
        movescu
            .command()
            .args(["-v", "-S", "-aet", "MOVESCU", "-aec", SERVE_AET])
            .args(["-aem", DEST_AET, "-k", "QueryRetrieveLevel=STUDY"])
            .args(["-k", &format!("StudyInstanceUID={study}")])
            .args([LOCALHOST, &port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    if out.status.success() && out.all().contains("Received Final Move Response (Success)") {
        Ok(())
    } else {
        Err(format!(
            "movescu {study} failed ({}):\n{}",
            out.status,
            out.all().trim()
        ))
    }
}

/// A small CT instance of `study` with `bulk` bytes of private data (so each store spans
/// several PDUs and file writes), as a data set in Explicit VR Little Endian.
fn instance(study: &str, n: usize, bulk: usize) -> (String, Vec<u8>) {
    let sop = format!("{study}.1.{n}");
    let ds = DataSet::new()
        .with("SOPClassUID", CT_IMAGE)
        .and_then(|d| d.with("SOPInstanceUID", &sop))
        .and_then(|d| d.with("PatientID", "NODES"))
        .and_then(|d| d.with("PatientName", "TWO^NODES"))
        .and_then(|d| d.with("StudyInstanceUID", study))
        .and_then(|d| d.with("SeriesInstanceUID", &format!("{study}.1")))
        .and_then(|d| d.with("Modality", "CT"))
        .unwrap();
    let mut out = BytesMut::new();
    ds.encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
    out.extend_from_slice(&[0x09, 0x00, 0x10, 0x10, b'O', b'B', 0, 0]);
    out.extend_from_slice(&(bulk as u32).to_le_bytes());
    out.extend_from_slice(&vec![0x5A; bulk]);
    (sop, out.to_vec())
}

/// Writes `instance(study, n, bulk)` for each `n` as a Part 10 file under `dir`.
fn write_instances(dir: &Path, study: &str, count: usize, bulk: usize) -> Vec<PathBuf> {
    (0..count)
        .map(|n| {
            let (sop, data) = instance(study, n, bulk);
            let mut file = BytesMut::new();
            FileMeta::new(CT_IMAGE, &sop, uid::EXPLICIT_VR_LE).encode(&mut file);
            file.extend_from_slice(&data);
            let path = dir.join(format!("{sop}.dcm"));
            std::fs::write(&path, &file).unwrap();
            path
        })
        .collect()
}

// ---------------------------------------------------------------------------
// 1. Store through one node, find and move through the other
// ---------------------------------------------------------------------------

/// DCMTK storescu fills the archive through node 1 ([`qr_corpus`], compressed files in their
/// own syntax); right after, DCMTK findscu through node 2 finds every study and instance, and
/// movescu through node 2 delivers every instance to a storescp.
#[test]
fn dcmtk_stores_through_one_node_and_finds_and_moves_through_the_other() {
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let movescu = require_peer!(Peer::Dcmtk("movescu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let cluster = cluster!("two_nodes");
    let url = cluster.create_database("pacs");
    let tmp = temp_dir("archive_postgres_two_nodes");
    let dir = tmp.subdir("archive");
    let dest_dir = tmp.subdir("dest");
    let dest_port = free_port();
    let mut dest = start_dcmtk_storescp(&storescp, dest_port, DEST_AET, &dest_dir);
    let peer = dimse_serve_peer_args(DEST_AET, dest_port).to_vec();
    let (mut node1, port1) = node(&dir, &url, &peer);
    let (mut node2, port2) = node(&dir, &url, &peer);

    let rows = qr_corpus();
    let archive = Archive::from_rows(&rows);
    for row in &rows {
        let mut cmd = storescu.command();
        cmd.args(dcmtk_storescu_args(row, "STORESCU", SERVE_AET, port1));
        let out = run(cmd, CLIENT_TIMEOUT);
        assert!(
            out.status.success() && !out.all().lines().any(|l| l.starts_with("E: ")),
            "storescu {} into node 1 failed ({}):\n{}\n--- node 1 ---\n{}",
            row.file,
            out.status,
            out.all(),
            node1.output()
        );
    }

    let studies = findscu_at(
        &findscu,
        SERVE_AET,
        port2,
        "-S",
        &["QueryRetrieveLevel=STUDY", "StudyInstanceUID"],
    )
    .unwrap();
    let found: BTreeSet<String> = studies
        .iter()
        .filter_map(|m| m.get("0020,000d").cloned())
        .collect();
    assert_eq!(found, archive.studies(), "studies found through node 2");
    for study in archive.studies() {
        let images = findscu_at(
            &findscu,
            SERVE_AET,
            port2,
            "-S",
            &[
                "QueryRetrieveLevel=IMAGE",
                &format!("StudyInstanceUID={study}"),
                "SOPInstanceUID",
            ],
        )
        .unwrap();
        let found: BTreeSet<String> = images
            .iter()
            .filter_map(|m| m.get("0008,0018").cloned())
            .collect();
        let want: BTreeSet<String> = archive
            .files
            .iter()
            .filter(|f| f.study_uid == study)
            .map(|f| f.sop_instance.clone())
            .collect();
        assert_eq!(found, want, "instances of {study} found through node 2");
        movescu_study(&movescu, port2, &study)
            .unwrap_or_else(|e| panic!("{e}\n--- node 2 ---\n{}", node2.output()));
    }
    let want: BTreeSet<String> = archive
        .files
        .iter()
        .map(|f| f.sop_instance.clone())
        .collect();
    let arrived = retry_until(FILE_TIMEOUT, || {
        let got = sop_instances_under(&dest_dir);
        if got == want {
            Ok(got)
        } else {
            Err(format!("moved through node 2: {got:?}, want {want:?}"))
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(arrived.len(), rows.len());
    assert_eq!(
        files_under(&dest_dir).len(),
        rows.len(),
        "something arrived twice"
    );
    node1.assert_running();
    node2.assert_running();
    dest.assert_running();
}

// ---------------------------------------------------------------------------
// 2. The same instances through both nodes at once
// ---------------------------------------------------------------------------

/// Two DCMTK storescu processes send the same 150 files in the same order, one through each
/// node, at the same time: every store of both is acknowledged, and each instance ends as
/// one file and one index row.
#[test]
fn the_same_instances_through_both_nodes_at_once_end_as_one_file_and_row_each() {
    const COUNT: usize = 150;
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let cluster = cluster!("same_files");
    let url = cluster.create_database("pacs");
    let tmp = temp_dir("archive_postgres_same_files");
    let dir = tmp.subdir("archive");
    let source = tmp.subdir("source");
    let files = write_instances(&source, "1.2.826.0.1.3680043.9.7778.1", COUNT, 16 * 1024);
    let (mut node1, port1) = node(&dir, &url, &[]);
    let (mut node2, port2) = node(&dir, &url, &[]);

    let senders: Vec<_> = [port1, port2]
        .into_iter()
        .map(|port| {
            let mut cmd = storescu.command();
            cmd.args(["-v", "-aet", "RACER", "-aec", SERVE_AET, LOCALHOST])
                .arg(port.to_string())
                .args(&files);
            thread::spawn(move || run(cmd, CLIENT_TIMEOUT))
        })
        .collect();
    for (i, sender) in senders.into_iter().enumerate() {
        let out = sender.join().unwrap();
        let acked = out
            .all()
            .lines()
            .filter(|l| l.contains("Received Store Response (Success)"))
            .count();
        assert!(
            out.status.success() && acked == COUNT,
            "storescu through node {}: {acked} of {COUNT} acknowledged ({}):\n{}",
            i + 1,
            out.status,
            out.all()
        );
    }
    let want: BTreeSet<String> = (0..COUNT)
        .map(|n| instance("1.2.826.0.1.3680043.9.7778.1", n, 0).0)
        .collect();
    let stored = stored_files(&dir);
    assert_eq!(stored.len(), COUNT, "files in the archive: {stored:#?}");
    let stored_sops: BTreeSet<String> = stored
        .iter()
        .map(|p| StoreFile::open(p).unwrap().sop_instance_uid)
        .collect();
    assert_eq!(stored_sops, want);
    assert_eq!(
        cluster.psql(
            "pacs",
            "SELECT COUNT(*), COUNT(DISTINCT sop_uid) FROM instance"
        ),
        format!("{COUNT}|{COUNT}")
    );
    assert_eq!(cluster.psql("pacs", "SELECT COUNT(*) FROM series"), "1");
    assert!(temporaries_with_data(&dir).is_empty());
    node1.assert_running();
    node2.assert_running();
}

// ---------------------------------------------------------------------------
// 3. SIGKILL of one node during a store storm
// ---------------------------------------------------------------------------

const STORM_STUDIES: usize = 3;
/// Instances each sender tries to store.
const STORM_EACH: usize = 150;
/// Acknowledgements from node 1 before it is killed: enough that the kill lands mid-storm.
const KILL_AFTER: usize = 60;

fn storm_study(i: usize) -> String {
    format!("1.2.826.0.1.3680043.9.7779.{}", i % STORM_STUDIES + 1)
}

/// Stores `STORM_EACH` instances (numbered from `first`) through `port` on one association,
/// recording each acknowledged SOP Instance UID in `acked`; stops at the first failure (the
/// node was killed).
fn storm(port: u16, first: usize, acked: Arc<Mutex<Vec<String>>>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let scu = Scu::new("STORM");
        let ctx = ProposedContext::new(CT_IMAGE, &[uid::EXPLICIT_VR_LE]);
        let Ok(mut assoc) = scu.associate(&Entity::local(SERVE_AET, port), vec![ctx]) else {
            return;
        };
        for n in first..first + STORM_EACH {
            let (sop, data) = instance(&storm_study(n), n, 32 * 1024);
            match assoc.store(CT_IMAGE, &sop, uid::EXPLICIT_VR_LE, &data[..]) {
                Ok(rsp) if rsp.status.is_success() => acked.lock().unwrap().push(sop),
                _ => return,
            }
        }
        let _ = assoc.release();
    })
}

/// The SOP Instance UIDs a C-FIND through `port` returns, every study at IMAGE level.
fn found_through(port: u16) -> BTreeSet<String> {
    let scu = Scu::new("CHECKER");
    let ctx = ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = scu
        .associate(&Entity::local(SERVE_AET, port), vec![ctx])
        .unwrap();
    let mut found = BTreeSet::new();
    for s in 0..STORM_STUDIES {
        let identifier = DataSet::new()
            .with("QueryRetrieveLevel", "IMAGE")
            .and_then(|d| d.with("StudyInstanceUID", &storm_study(s)))
            .and_then(|d| d.with("SOPInstanceUID", ""))
            .unwrap();
        for m in assoc.find(QueryModel::StudyRoot, &identifier).unwrap() {
            found.insert(m.unwrap().get_str(Tag(0x0008, 0x0018)).unwrap().unwrap());
        }
    }
    assoc.release().unwrap();
    found
}

/// Node 1 is killed with SIGKILL while two associations store into it and one into node 2.
/// Through node 2, every acknowledged instance is found and moved; every index row names a
/// whole file of its instance; node 1 comes back without rescanning the store, and deletes
/// the temporary directory its killed process left.
#[test]
fn sigkill_of_a_node_during_a_store_storm_loses_nothing_acknowledged() {
    let movescu = require_peer!(Peer::Dcmtk("movescu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let cluster = cluster!("sigkill");
    let url = cluster.create_database("pacs");
    let tmp = temp_dir("archive_postgres_sigkill");
    let dir = tmp.subdir("archive");
    let dest_dir = tmp.subdir("dest");
    let dest_port = free_port();
    let _dest = start_dcmtk_storescp(&storescp, dest_port, DEST_AET, &dest_dir);
    let peer = dimse_serve_peer_args(DEST_AET, dest_port).to_vec();
    let (mut node1, port1) = node(&dir, &url, &peer);
    let (mut node2, port2) = node(&dir, &url, &peer);

    let acked1 = Arc::new(Mutex::new(Vec::new()));
    let acked2 = Arc::new(Mutex::new(Vec::new()));
    let senders = [
        storm(port1, 0, Arc::clone(&acked1)),
        storm(port1, STORM_EACH, Arc::clone(&acked1)),
        storm(port2, 2 * STORM_EACH, Arc::clone(&acked2)),
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked1.lock().unwrap().len() < KILL_AFTER {
        assert!(Instant::now() < deadline, "the stores did not get going");
        thread::sleep(Duration::from_millis(5));
    }
    node1.kill();
    for s in senders {
        s.join().unwrap();
    }
    let acked1: BTreeSet<String> = acked1.lock().unwrap().iter().cloned().collect();
    let acked2: BTreeSet<String> = acked2.lock().unwrap().iter().cloned().collect();
    assert!(
        acked1.len() < 2 * STORM_EACH,
        "the kill landed after every store: the test proved nothing"
    );
    assert_eq!(acked2.len(), STORM_EACH, "node 2 failed stores of its own");
    let acked: BTreeSet<String> = acked1.union(&acked2).cloned().collect();

    let found = found_through(port2);
    let lost: Vec<_> = acked.difference(&found).collect();
    assert!(lost.is_empty(), "acknowledged but not found: {lost:?}");

    // Nothing half-indexed: every row names a whole file holding its instance.
    let rows = cluster.psql("pacs", "SELECT sop_uid || '|' || path FROM instance");
    let mut indexed = BTreeSet::new();
    for line in rows.lines() {
        let (sop, path) = line.split_once('|').unwrap();
        let file = StoreFile::open(&dir.join(path))
            .unwrap_or_else(|e| panic!("row {sop} names no whole file {path}: {e}"));
        assert_eq!(file.sop_instance_uid, sop);
        indexed.insert(sop.to_string());
    }
    assert_eq!(indexed, found);

    for s in 0..STORM_STUDIES {
        movescu_study(&movescu, port2, &storm_study(s))
            .unwrap_or_else(|e| panic!("{e}\n--- node 2 ---\n{}", node2.output()));
    }
    retry_until(FILE_TIMEOUT, || {
        let moved = sop_instances_under(&dest_dir);
        let missing: Vec<_> = acked.difference(&moved).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("acknowledged but not moved: {missing:?}"))
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));

    // Node 1 comes back: no rescan (the index keeps its count), its dead temporary
    // directory is gone, and only node 2's remains.
    let before = cluster.psql("pacs", "SELECT COUNT(*) FROM instance");
    let started = Instant::now();
    let (mut node1, port1) = node(&dir, &url, &peer);
    let restart = started.elapsed();
    assert!(
        node1
            .output()
            .contains(&format!("holds {before} instances")),
        "{}",
        node1.output()
    );
    let node_dirs: Vec<_> = std::fs::read_dir(dir.join(".tmp"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_dir())
        .collect();
    assert_eq!(node_dirs.len(), 2, "one per running node: {node_dirs:?}");
    assert!(temporaries_with_data(&dir).is_empty());
    assert_eq!(found_through(port1), found);
    eprintln!(
        "acknowledged: {} by node 1 before SIGKILL, {} by node 2; {} indexed; node 1 restarted in {restart:?}",
        acked1.len(),
        acked2.len(),
        indexed.len()
    );
    node1.assert_running();
    node2.assert_running();
}
