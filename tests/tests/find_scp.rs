//! C-FIND through the dimse-std SCP framework: a handler over an in-memory catalogue, queried
//! by dimse's SCU and by DCMTK's findscu, with cancellation both ways.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dimse_core::assoc::{AcceptorPolicy, ProposedContext, SupportedSyntax};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::query::QueryModel;
use dimse_core::{uid, Entity};
use dimse_std::{FindRequest, Handler, Matches, Peer as ScpPeer, Scp, Scu, ServerHandle};
use dimse_tests::{require_peer, run, Peer};

const STUDY_UID: Tag = Tag(0x0020, 0x000D);
const PATIENT_ID: Tag = Tag(0x0010, 0x0020);

/// `studies` studies; patient `P{i % 3}` owns study `1.2.3.{i}`. Counts the matches it hands
/// out, so a test can see that a cancel stopped the producer.
struct Catalogue {
    studies: usize,
    produced: Arc<AtomicUsize>,
}

impl Handler for Catalogue {
    fn find(
        &self,
        _peer: &ScpPeer,
        request: &FindRequest,
    ) -> Result<Matches, dimse_core::dimse::Status> {
        let wanted = request
            .identifier
            .get_str(PATIENT_ID)
            .and_then(Result::ok)
            .filter(|v| !v.is_empty() && v != "*");
        let produced = self.produced.clone();
        let iter = (0..self.studies)
            .filter(move |i| wanted.as_ref().is_none_or(|p| *p == format!("P{}", i % 3)))
            .map(move |i| {
                produced.fetch_add(1, Ordering::SeqCst);
                let mut ds = DataSet::new();
                ds.set_str(Tag(0x0008, 0x0052), "STUDY").unwrap();
                ds.set_str(PATIENT_ID, &format!("P{}", i % 3)).unwrap();
                ds.set_uid(STUDY_UID, &format!("1.2.3.{i}")).unwrap();
                Ok(ds)
            });
        Ok(Box::new(iter))
    }
}

fn start(studies: usize) -> (ServerHandle, Arc<AtomicUsize>) {
    let produced = Arc::new(AtomicUsize::new(0));
    let mut policy = AcceptorPolicy::new("FINDSCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::STUDY_ROOT_QR_FIND,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    ));
    let handler = Catalogue {
        studies,
        produced: produced.clone(),
    };
    let server = Scp::new(policy, handler)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    (server, produced)
}

fn query(patient: &str) -> DataSet {
    DataSet::new()
        .with("QueryRetrieveLevel", "STUDY")
        .unwrap()
        .with("PatientID", patient)
        .unwrap()
        .with_empty("StudyInstanceUID")
        .unwrap()
}

fn associate(server: &ServerHandle) -> dimse_std::ScuAssociation {
    let ctx = ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &[uid::EXPLICIT_VR_LE]);
    Scu::new("SCU")
        .associate(
            &Entity::local("FINDSCP", server.local_addr().port()),
            vec![ctx],
        )
        .unwrap()
}

#[test]
fn dimse_find_returns_the_matches_then_success() {
    let (server, _) = start(9);
    let mut assoc = associate(&server);
    let mut results = assoc.find(QueryModel::StudyRoot, &query("P1")).unwrap();
    let uids: Vec<String> = results
        .by_ref()
        .map(|m| m.unwrap().get_uid(STUDY_UID).unwrap().unwrap())
        .collect();
    assert_eq!(uids, ["1.2.3.1", "1.2.3.4", "1.2.3.7"]);
    assert!(results.status().unwrap().is_success());
    drop(results);
    assoc.release().unwrap();
    server.stop();
}

#[test]
fn dropping_a_find_cancels_it_and_the_association_stays_usable() {
    let (server, produced) = start(100_000);
    let mut assoc = associate(&server);
    {
        let mut results = assoc.find(QueryModel::StudyRoot, &query("*")).unwrap();
        for _ in 0..2 {
            results.next().unwrap().unwrap();
        }
        // Dropped here: C-CANCEL, then the remaining responses are drained.
    }
    assert!(
        produced.load(Ordering::SeqCst) < 100_000,
        "the producer ran to the end despite the cancel"
    );
    // The same association answers a new query completely.
    let mut results = assoc.find(QueryModel::StudyRoot, &query("P2")).unwrap();
    let n = results.by_ref().filter(|m| m.is_ok()).count();
    assert_eq!(n, 33_333);
    assert!(results.status().unwrap().is_success());
    drop(results);
    assoc.release().unwrap();
    server.stop();
}

#[test]
fn explicit_cancel_ends_with_status_cancel() {
    let (server, _) = start(100_000);
    let mut assoc = associate(&server);
    let mut results = assoc.find(QueryModel::StudyRoot, &query("*")).unwrap();
    results.next().unwrap().unwrap();
    results.cancel().unwrap();
    let rest = results.by_ref().count();
    assert!(rest < 100_000);
    assert_eq!(results.status().unwrap(), dimse_core::dimse::Status::CANCEL);
    drop(results);
    assoc.release().unwrap();
    server.stop();
}

#[test]
fn dcmtk_findscu_against_the_framework_with_and_without_cancel() {
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let (server, _) = start(30_000);
    let port = server.local_addr().port().to_string();
    let args = |extra: &[&str]| {
        let mut cmd = findscu.command();
        cmd.args([
            "-v",
            "-S",
            "-aec",
            "FINDSCP",
            "-k",
            "QueryRetrieveLevel=STUDY",
        ])
        .args(["-k", "PatientID=P0", "-k", "StudyInstanceUID"])
        .args(extra)
        .args(["127.0.0.1", port.as_str()]);
        cmd
    };
    let out = run(args(&[]), Duration::from_secs(120));
    out.assert_success("DCMTK findscu → dimse SCP");
    let text = out.all();
    let pending = text.matches("(Pending)").count();
    assert_eq!(
        pending,
        10_000,
        "matches seen by findscu:\n{}",
        &text[..text.len().min(2000)]
    );
    assert!(
        text.contains("(Success)"),
        "{}",
        &text[text.len().saturating_sub(2000)..]
    );

    let out = run(args(&["--cancel", "3"]), Duration::from_secs(120));
    let text = out.all();
    assert!(
        text.contains("(Cancel)") || text.contains("Cancel"),
        "no cancel status in findscu output:\n{}",
        &text[text.len().saturating_sub(3000)..]
    );
    assert!(text.matches("(Pending)").count() < 10_000);
    server.stop();
}
