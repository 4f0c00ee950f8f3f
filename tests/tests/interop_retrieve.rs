//! `dimse move` and `dimse get` against DCMTK's dcmqrscp, loaded with the corpus: C-MOVE to a
//! `dimse serve` and to a DCMTK storescp, C-MOVE to an unknown AE (0xA801), C-GET into a
//! directory. Every retrieved instance must hold the same elements as the file loaded.

use std::path::Path;
use std::time::Duration;

use dimse_tests::qr::*;
use dimse_tests::*;

const SCU_AET: &str = "DIMSE-RETR";
const DEST_AET: &str = "DIMSE-DEST";
const RETRIEVE_TIMEOUT: Duration = Duration::from_secs(60);

/// Every instance arrived in `dir` with the same elements as the corpus file it came from.
fn assert_arrived(rows: &[ManifestRow], archive: &Archive, instances: &[String], dir: &Path) {
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
            find_by_sop_instance(dir, uid)
                .into_iter()
                .next()
                .ok_or_else(|| format!("{uid} ({}) did not arrive", row.file))
        });
        assert_same_elements(&row.path(), &received);
    }
}

fn start_qr(destinations: &[(&str, u16)]) -> Option<QrPeer> {
    let server = require_peer(Peer::Dcmtk("dcmqrscp"))?;
    let index = require_peer(Peer::Dcmtk("dcmqridx"))?;
    require_peer(Peer::Dcmtk("dcmdump"))?;
    Some(start_dcmqrscp_with(
        &server,
        &index,
        &qr_corpus(),
        destinations,
    ))
}

#[test]
fn dimse_move_to_dimse_serve_delivers_the_study() {
    let dest_port = free_port();
    let Some(qr) = start_qr(&[(DEST_AET, dest_port)]) else {
        return;
    };
    let tmp = temp_dir("move_to_serve");
    let _dest = start_dimse_serve(dest_port, DEST_AET, tmp.path());
    let (study, instances) = qr.archive.biggest_uncompressed_study();
    let out = run(
        dimse([
            "move", "--aet", SCU_AET, "--aec", qr.aet, "--dest", DEST_AET,
        ])
        .args(["-k", &format!("StudyInstanceUID={study}")])
        .args(["127.0.0.1", &qr.port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    out.assert_success("dimse move → dcmqrscp → dimse serve");
    assert!(
        out.all()
            .contains(&format!("move: {} completed, 0 failed", instances.len())),
        "{}",
        out.all()
    );
    assert_arrived(&qr_corpus(), &qr.archive, &instances, tmp.path());
}

#[test]
fn dimse_move_to_dcmtk_storescp_delivers_the_study() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dest_port = free_port();
    let Some(qr) = start_qr(&[(DEST_AET, dest_port)]) else {
        return;
    };
    let tmp = temp_dir("move_to_storescp");
    let mut dest = start_dcmtk_storescp(&storescp, dest_port, DEST_AET, tmp.path());
    dest.wait_for_port(dest_port, Duration::from_secs(20));
    let (study, instances) = qr.archive.biggest_uncompressed_study();
    let out = run(
        dimse([
            "move", "--aet", SCU_AET, "--aec", qr.aet, "--dest", DEST_AET,
        ])
        .args(["-k", &format!("StudyInstanceUID={study}")])
        .args(["127.0.0.1", &qr.port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    out.assert_success("dimse move → dcmqrscp → DCMTK storescp");
    assert_arrived(&qr_corpus(), &qr.archive, &instances, tmp.path());
}

#[test]
fn dimse_move_to_an_unknown_ae_fails_with_a801() {
    let Some(qr) = start_qr(&[]) else {
        return;
    };
    let (study, _) = qr.archive.biggest_uncompressed_study();
    let out = run(
        dimse([
            "move", "--aet", SCU_AET, "--aec", qr.aet, "--dest", "NOBODY",
        ])
        .args(["-k", &format!("StudyInstanceUID={study}")])
        .args(["127.0.0.1", &qr.port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    assert!(!out.status.success(), "{}", out.all());
    assert_ne!(out.status.code(), Some(101), "crashed:\n{}", out.all());
    assert!(out.all().contains("0xA801"), "{}", out.all());
}

#[test]
fn dimse_get_retrieves_the_study_into_a_directory() {
    let Some(qr) = start_qr(&[]) else {
        return;
    };
    let tmp = temp_dir("get_study");
    let (study, instances) = qr.archive.biggest_uncompressed_study();
    let out = run(
        dimse(["get", "--aet", SCU_AET, "--aec", qr.aet, "--out"])
            .arg(tmp.path())
            .args(["-k", &format!("StudyInstanceUID={study}")])
            .args(["127.0.0.1", &qr.port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    out.assert_success("dimse get ← dcmqrscp");
    assert_arrived(&qr_corpus(), &qr.archive, &instances, tmp.path());
}

/// A study holding instances dcmqrscp cannot send (compressed, not accepted by the
/// destination in that syntax) ends in a warning: the SCU reports the failed instances.
#[test]
fn dimse_move_reports_failed_instances() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dest_port = free_port();
    let Some(qr) = start_qr(&[(DEST_AET, dest_port)]) else {
        return;
    };
    let rows = qr_corpus();
    let compressed: Vec<&FileKeys> = qr
        .archive
        .files
        .iter()
        .filter(|f| rows.iter().any(|r| r.file == f.file && r.is_encapsulated()))
        .collect();
    let Some(first) = compressed.first() else {
        eprintln!("SKIPPED: the loaded corpus has no compressed instance");
        return;
    };
    let study = first.study_uid.clone();
    let tmp = temp_dir("move_failed");
    // Accepts only uncompressed syntaxes, so the compressed instances cannot be sent.
    let mut cmd = storescp.command();
    cmd.args(["-aet", DEST_AET, "-od"])
        .arg(tmp.path())
        .arg(dest_port.to_string());
    let mut dest = Server::spawn("DCMTK storescp (uncompressed only)", &mut cmd);
    dest.wait_for_port(dest_port, Duration::from_secs(20));
    let out = run(
        dimse([
            "move", "--aet", SCU_AET, "--aec", qr.aet, "--dest", DEST_AET,
        ])
        .args(["-k", &format!("StudyInstanceUID={study}")])
        .args(["127.0.0.1", &qr.port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    assert!(!out.status.success(), "{}", out.all());
    assert_ne!(out.status.code(), Some(101), "crashed:\n{}", out.all());
    let text = out.all();
    assert!(text.contains("0xB000") || text.contains("0xA702"), "{text}");
    for f in compressed.iter().filter(|f| f.study_uid == study) {
        assert!(
            text.contains(&format!("failed instance {}", f.sop_instance)),
            "{} not reported as failed:\n{text}",
            f.sop_instance
        );
    }
}
