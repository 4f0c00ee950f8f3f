//! `dimse serve` killed with SIGKILL in the middle of a stream of C-STOREs: after a restart
//! every instance it acknowledged is on disk and queryable, and nothing half-written is
//! visible.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::query::QueryModel;
use dimse_core::uid::{self, TransferSyntax};
use dimse_core::Entity;
use dimse_std::{Scu, StoreFile};
use dimse_tests::{dimse, files_under, free_port, temp_dir, Server, READY_TIMEOUT};

const AET: &str = "ARCHIVE";
const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const STUDIES: usize = 4;
const INSTANCES: usize = 400;
/// Acknowledged stores before the kill: enough that the kill lands mid-stream.
const KILL_AFTER: usize = 60;

fn study(i: usize) -> String {
    format!("1.2.826.0.1.3680043.9.7777.{}", i % STUDIES + 1)
}

fn instance(i: usize) -> (String, Vec<u8>) {
    let sop = format!("1.2.826.0.1.3680043.9.7777.{}.1.{}", i % STUDIES + 1, i + 1);
    let ds = DataSet::new()
        .with("SOPClassUID", CT)
        .and_then(|d| d.with("SOPInstanceUID", &sop))
        .and_then(|d| d.with("PatientID", "CRASH"))
        .and_then(|d| d.with("StudyInstanceUID", &study(i)))
        .and_then(|d| d.with("SeriesInstanceUID", &format!("{}.1", study(i))))
        .and_then(|d| d.with("Modality", "CT"))
        .unwrap();
    let mut out = BytesMut::new();
    ds.encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
    // 64 KiB of private bulk data, so each store spans several PDUs and file writes.
    let bulk = vec![0x5Au8; 64 * 1024];
    out.extend_from_slice(&[0x09, 0x00, 0x10, 0x10, b'O', b'B', 0, 0]);
    out.extend_from_slice(&(bulk.len() as u32).to_le_bytes());
    out.extend_from_slice(&bulk);
    (sop, out.to_vec())
}

fn serve(port: u16, dir: &std::path::Path) -> Server {
    let mut cmd = dimse(["serve", "--aet", AET, "--port", &port.to_string(), "--dir"]);
    cmd.arg(dir);
    let mut server = Server::spawn("dimse serve", &mut cmd);
    server.wait_for_output("listening on", READY_TIMEOUT);
    server
}

#[test]
fn acknowledged_instances_survive_sigkill() {
    let tmp = temp_dir("archive_crash");
    let dir = tmp.subdir("archive");
    let port = free_port();
    let mut server = serve(port, &dir);

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let sender = {
        let acked = Arc::clone(&acked);
        thread::spawn(move || {
            let scu = Scu::new("CRASHER");
            let ctx = ProposedContext::new(CT, &[uid::EXPLICIT_VR_LE]);
            let Ok(mut assoc) = scu.associate(&Entity::local(AET, port), vec![ctx]) else {
                return;
            };
            for i in 0..INSTANCES {
                let (sop, data) = instance(i);
                match assoc.store(CT, &sop, uid::EXPLICIT_VR_LE, &data[..]) {
                    Ok(rsp) if rsp.status.is_success() => acked.lock().unwrap().push(sop),
                    _ => return,
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < KILL_AFTER {
        assert!(Instant::now() < deadline, "the stores did not get going");
        thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    sender.join().unwrap();
    let acked: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(
        acked.len() < INSTANCES,
        "the kill landed after every store: the test proved nothing"
    );

    let port = free_port();
    let _server = serve(port, &dir);
    let scu = Scu::new("CHECKER");
    let ctx = ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = scu.associate(&Entity::local(AET, port), vec![ctx]).unwrap();
    let mut found = BTreeSet::new();
    for s in 0..STUDIES {
        let identifier = DataSet::new()
            .with("QueryRetrieveLevel", "IMAGE")
            .and_then(|d| d.with("StudyInstanceUID", &study(s)))
            .and_then(|d| d.with("SeriesInstanceUID", &format!("{}.1", study(s))))
            .and_then(|d| d.with("SOPInstanceUID", ""))
            .unwrap();
        for m in assoc.find(QueryModel::StudyRoot, &identifier).unwrap() {
            let m = m.unwrap();
            found.insert(m.get_str(Tag(0x0008, 0x0018)).unwrap().unwrap());
        }
    }
    assoc.release().unwrap();
    let lost: Vec<_> = acked.difference(&found).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after SIGKILL: {lost:?}"
    );

    // Every visible file is a whole instance that the index knows; no temporary is left.
    let files: Vec<_> = files_under(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    for f in &files {
        let file = StoreFile::open(f).unwrap_or_else(|e| panic!("half-written file visible: {e}"));
        assert!(
            found.contains(&file.sop_instance_uid),
            "{} is not indexed",
            f.display()
        );
    }
    assert_eq!(files.len(), found.len());
    assert!(files_under(&dir.join(".tmp")).is_empty());
}
