//! `dimse move` and `dimse get` against pynetdicom's `qrscp`, loaded with the corpus
//! ([`qr_corpus`], minus what qrscp does not index): C-MOVE to a `dimse serve` named in
//! qrscp's ini, C-MOVE to an AE it does not know (0xA801), C-GET into a directory. Every
//! retrieved instance must hold the same elements as the corpus file loaded, and the CLI must
//! exit 0.
//!
//! pynetdicom 3.0.4's qrscp matches single values only (its UID-list matching is broken), so
//! each study is retrieved with a request of its own. A C-MOVE sub-association proposes
//! exactly the instances' stored (SOP class, transfer syntax) pairs, so every study moves,
//! compressed instances included. For C-GET it accepts one syntax per storage context (the
//! first of its own list, implicit VR LE, that the requestor proposed) and converts between
//! uncompressed syntaxes, but not compressed pixel data.

use std::path::Path;
use std::time::Duration;

use dimse_tests::qr::start_pynetdicom_qrscp_with;
use dimse_tests::qr::*;
use dimse_tests::*;

const SCU_AET: &str = "DIMSE-RETR";
const DEST_AET: &str = "DIMSE-DEST";
const RETRIEVE_TIMEOUT: Duration = Duration::from_secs(60);

/// qrscp loaded with [`qr_corpus`] and knowing `destinations`; `None` (the test skips) when a
/// peer is missing.
fn start_qr(destinations: &[(&str, u16)]) -> Option<QrPeer> {
    let qrscp = require_pynetdicom_qrscp()?;
    let storescu = require_peer(Peer::Pynetdicom("storescu"))?;
    require_peer(Peer::Dcmtk("dcmdump"))?;
    Some(start_pynetdicom_qrscp_with(
        &qrscp,
        &storescu,
        &qr_corpus(),
        destinations,
    ))
}

/// Every study qrscp holds, with its instances' SOP instance UIDs (the data sets' (0008,0018),
/// which qrscp indexes and puts in its C-STORE requests).
fn studies(archive: &Archive) -> Vec<(String, Vec<String>)> {
    let studies: Vec<(String, Vec<String>)> = archive
        .studies()
        .into_iter()
        .map(|s| {
            let instances = archive
                .files
                .iter()
                .filter(|f| f.study_uid == s)
                .map(|f| f.sop_instance.clone())
                .collect();
            (s, instances)
        })
        .collect();
    assert!(studies.len() >= 5, "too few studies loaded: {studies:?}");
    studies
}

/// Whether any instance of `study` is stored with compressed (encapsulated) pixel data.
fn has_compressed(archive: &Archive, study: &str) -> bool {
    let rows = qr_corpus();
    archive.files.iter().any(|f| {
        f.study_uid == study && rows.iter().any(|r| r.file == f.file && r.is_encapsulated())
    })
}

/// Every instance arrived in `dir` as exactly one file with the same elements as the corpus
/// file it came from.
fn assert_arrived(archive: &Archive, instances: &[String], dir: &Path) {
    let rows = qr_corpus();
    for uid in instances {
        let keys = archive
            .files
            .iter()
            .find(|f| &f.sop_instance == uid)
            .expect("instance is in the archive");
        let row = rows
            .iter()
            .find(|r| r.file == keys.file)
            .expect("file is in the corpus");
        let received = eventually(Duration::from_secs(20), || {
            match find_by_sop_instance(dir, uid).as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(format!("{uid} ({}) did not arrive", row.file)),
                many => Err(format!("{uid} ({}) arrived as {many:?}", row.file)),
            }
        });
        assert_same_elements(&row.path(), &received);
    }
}

#[test]
fn dimse_move_from_pynetdicom_qrscp_to_dimse_serve_delivers_every_study() {
    let dest_port = free_port();
    let Some(mut qr) = start_qr(&[(DEST_AET, dest_port)]) else {
        return;
    };
    let tmp = temp_dir("pyn_move_to_serve");
    let mut dest = start_dimse_serve(dest_port, DEST_AET, tmp.path());
    for (study, instances) in studies(&qr.archive) {
        let out = run(
            dimse([
                "move", "--aet", SCU_AET, "--aec", qr.aet, "--dest", DEST_AET,
            ])
            .args(["-k", &format!("StudyInstanceUID={study}")])
            .args([LOCALHOST, &qr.port.to_string()]),
            RETRIEVE_TIMEOUT,
        );
        assert!(
            out.status.success(),
            "dimse move {study} → pynetdicom qrscp → dimse serve failed ({}):\n{}\n--- qrscp ---\n{}",
            out.status,
            out.all(),
            qr.server.output()
        );
        assert!(
            out.all()
                .contains(&format!("move: {} completed, 0 failed", instances.len())),
            "{study}:\n{}",
            out.all()
        );
        assert_arrived(&qr.archive, &instances, tmp.path());
    }
    qr.server.assert_running();
    dest.assert_running();
}

#[test]
fn dimse_move_to_an_ae_pynetdicom_qrscp_does_not_know_fails_with_a801() {
    let Some(qr) = start_qr(&[(DEST_AET, free_port())]) else {
        return;
    };
    let (study, _) = studies(&qr.archive).swap_remove(0);
    let out = run(
        dimse([
            "move", "--aet", SCU_AET, "--aec", qr.aet, "--dest", "NOBODY",
        ])
        .args(["-k", &format!("StudyInstanceUID={study}")])
        .args([LOCALHOST, &qr.port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    assert!(!out.status.success(), "{}", out.all());
    assert_ne!(out.status.code(), Some(101), "crashed:\n{}", out.all());
    assert!(out.all().contains("0xA801"), "{}", out.all());
}

/// `dimse get` of `study` from `qr` into `dir`: exit 0, `instances.len()` completed, every
/// instance element-identical.
fn get_study(qr: &mut QrPeer, study: &str, instances: &[String], dir: &Path) {
    let out = run(
        dimse(["get", "--aet", SCU_AET, "--aec", qr.aet, "--out"])
            .arg(dir)
            .args(["-k", &format!("StudyInstanceUID={study}")])
            .args([LOCALHOST, &qr.port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    assert!(
        out.status.success(),
        "dimse get {study} ← pynetdicom qrscp failed ({}):\n{}\n--- qrscp ---\n{}",
        out.status,
        out.all(),
        qr.server.output()
    );
    assert!(
        out.all()
            .contains(&format!("get: {} completed, 0 failed", instances.len())),
        "{study}:\n{}",
        out.all()
    );
    assert_arrived(&qr.archive, instances, dir);
}

/// Studies held only in uncompressed syntaxes (explicit/implicit VR little endian, big endian,
/// deflated): pynetdicom sends each in its stored syntax, which `dimse get` proposes.
#[test]
fn dimse_get_from_pynetdicom_qrscp_retrieves_every_uncompressed_study() {
    let Some(mut qr) = start_qr(&[]) else {
        return;
    };
    let tmp = temp_dir("pyn_get");
    let chosen: Vec<_> = studies(&qr.archive)
        .into_iter()
        .filter(|(s, _)| !has_compressed(&qr.archive, s))
        .collect();
    assert!(chosen.len() >= 5, "{chosen:?}");
    for (study, instances) in chosen {
        get_study(&mut qr, &study, &instances, tmp.path());
    }
    qr.server.assert_running();
}

/// Studies with JPEG/JPEG 2000/RLE instances (the SC study: one explicit LE, one JPEG
/// baseline, one RLE instance; the NM study: JPEG lossy and JPEG 2000). `dimse get` proposes
/// each storage class in ONE presentation context listing explicit LE, implicit LE, then the
/// compressed syntaxes. An acceptor accepts one syntax per context: pynetdicom takes the first
/// of its own list the requestor proposed (implicit VR LE) and cannot transcode compressed
/// pixel data, so the compressed instances have no context to go over. qrscp logs "No presentation context for
/// 'Secondary Capture Image Storage' has been accepted by the peer with 'JPEG Baseline
/// (Process 1)' transfer syntax for the SCU role" and ends with 0xB000 (1 completed, 2 failed).
#[test]
fn dimse_get_from_pynetdicom_qrscp_retrieves_studies_with_compressed_instances() {
    let Some(mut qr) = start_qr(&[]) else {
        return;
    };
    let tmp = temp_dir("pyn_get_compressed");
    let chosen: Vec<_> = studies(&qr.archive)
        .into_iter()
        .filter(|(s, _)| has_compressed(&qr.archive, s))
        .collect();
    assert!(!chosen.is_empty(), "no study with compressed instances");
    for (study, instances) in chosen {
        get_study(&mut qr, &study, &instances, tmp.path());
    }
    qr.server.assert_running();
}
