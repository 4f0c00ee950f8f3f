//! Storage Commitment (Push Model): dimse's SCU against dimse's SCP framework and against a
//! pynetdicom SCP, with reports holding both committed and failed instances.

use std::time::Duration;

use dimse_core::assoc::{AcceptorPolicy, ProposedContext, SupportedSyntax};
use dimse_core::commitment::{CommitmentReport, CommitmentRequest, SopRef, NO_SUCH_INSTANCE};
use dimse_core::dimse::Status;
use dimse_core::{uid, Entity};
use dimse_std::{Handler, Peer as ScpPeer, Scp, Scu};
use dimse_tests::*;

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";

fn request() -> CommitmentRequest {
    CommitmentRequest {
        transaction_uid: "2.25.4242".into(),
        references: vec![
            SopRef::new(CT, "1.2.3.1"),
            SopRef::new(CT, "1.2.3.2"),
            SopRef::new(CT, "1.2.3.3"),
        ],
    }
}

fn context() -> ProposedContext {
    ProposedContext::new(
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    )
}

fn assert_report(report: &CommitmentReport) {
    assert_eq!(report.transaction_uid, "2.25.4242");
    let committed: Vec<&str> = report
        .committed
        .iter()
        .map(|r| r.instance_uid.as_str())
        .collect();
    assert_eq!(committed, ["1.2.3.1", "1.2.3.3"]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0.instance_uid, "1.2.3.2");
    assert_eq!(report.failed[0].1, NO_SUCH_INSTANCE);
}

/// Holds 1.2.3.1 and 1.2.3.3.
struct Holder;

impl Handler for Holder {
    fn commit(
        &self,
        _peer: &ScpPeer,
        request: &CommitmentRequest,
    ) -> Result<CommitmentReport, Status> {
        let mut report = CommitmentReport {
            transaction_uid: request.transaction_uid.clone(),
            ..Default::default()
        };
        for r in &request.references {
            if r.instance_uid == "1.2.3.2" {
                report.failed.push((r.clone(), NO_SUCH_INSTANCE));
            } else {
                report.committed.push(r.clone());
            }
        }
        Ok(report)
    }
}

#[test]
fn dimse_scu_against_the_framework_gets_the_report_on_the_same_association() {
    let mut policy = AcceptorPolicy::new("COMMITSCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    ));
    let server = Scp::new(policy, Holder)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    let peer = Entity::local("COMMITSCP", server.local_addr().port());
    let mut assoc = Scu::new("SCU").associate(&peer, vec![context()]).unwrap();
    assert!(assoc.request_commitment(&request()).unwrap().is_success());
    assert_report(&assoc.wait_commitment_report().unwrap());
    assoc.release().unwrap();
    server.stop();
}

#[test]
fn dimse_scu_against_pynetdicom_commitment_scp() {
    let python = require_peer!(Peer::Pynetdicom("echoscu"));
    drop(python);
    let port = free_port();
    let script = workspace_dir().join("tests/peers/commitment_scp.py");
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(&script)
        .arg(port.to_string())
        .args(["1.2.3.1", "1.2.3.3"]);
    let mut server = Server::spawn("pynetdicom commitment SCP", &mut cmd);
    server.wait_for_port(port, Duration::from_secs(20));
    let peer = Entity::local("COMMITSCP", port);
    let mut assoc = Scu::new("SCU").associate(&peer, vec![context()]).unwrap();
    assert!(assoc.request_commitment(&request()).unwrap().is_success());
    assert_report(&assoc.wait_commitment_report().unwrap());
    assoc.release().unwrap();
    server.wait_for_output("report sent, response 0", Duration::from_secs(20));
}

#[test]
fn pynetdicom_scu_against_the_framework() {
    require_peer!(Peer::Pynetdicom("echoscu"));
    let mut policy = AcceptorPolicy::new("COMMITSCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    ));
    let server = Scp::new(policy, Holder)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    let script = workspace_dir().join("tests/peers/commitment_scu.py");
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(&script)
        .arg(server.local_addr().port().to_string())
        .args(["COMMITSCP", "1.2.3.1", "1.2.3.2", "1.2.3.3"]);
    let out = run(&mut cmd, Duration::from_secs(60));
    out.assert_success("pynetdicom commitment SCU → dimse SCP");
    let text = out.all();
    assert!(text.contains("action status 0x0"), "{text}");
    assert!(text.contains("committed 1.2.3.1"), "{text}");
    assert!(text.contains("committed 1.2.3.3"), "{text}");
    assert!(text.contains("failed 1.2.3.2 0x112"), "{text}");
    server.stop();
}

/// The report may come on an association the SCP opens later: the requestor's own SCP
/// receives it through `Handler::event_report`.
#[test]
fn report_on_a_later_association_reaches_the_event_report_handler() {
    use std::sync::mpsc;
    use std::sync::Mutex;

    struct Receiver(Mutex<mpsc::Sender<CommitmentReport>>);
    impl Handler for Receiver {
        fn event_report(
            &self,
            _peer: &ScpPeer,
            request: &dimse_core::dimse::NEventReportRq,
            info: Option<&dimse_core::dataset::DataSet>,
        ) -> Status {
            match info.and_then(CommitmentReport::from_data_set) {
                Some(r) if request.event_type_id == r.event_type() => {
                    self.0.lock().unwrap().send(r).unwrap();
                    Status::SUCCESS
                }
                _ => Status::PROCESSING_FAILURE,
            }
        }
    }

    let (tx, rx) = mpsc::channel();
    let mut policy = AcceptorPolicy::new("REQUESTOR");
    policy.supported.push(SupportedSyntax::uid(
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        &[uid::EXPLICIT_VR_LE],
    ));
    let listener = Scp::new(policy, Receiver(Mutex::new(tx)))
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();

    // Playing the commitment SCP: open an association to the requestor and report.
    let report = Holder
        .commit(
            &ScpPeer {
                calling_ae: String::new(),
                called_ae: String::new(),
                address: None,
            },
            &request(),
        )
        .unwrap();
    let peer = Entity::local("REQUESTOR", listener.local_addr().port());
    let mut assoc = Scu::new("COMMITSCP")
        .associate(&peer, vec![context()])
        .unwrap();
    let (rsp, _) = assoc
        .n_event_report(
            uid::STORAGE_COMMITMENT_PUSH_MODEL,
            uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
            report.event_type(),
            Some(&report.to_data_set().unwrap()),
        )
        .unwrap();
    assert!(rsp.status.is_success());
    assoc.release().unwrap();
    assert_report(&rx.recv_timeout(Duration::from_secs(10)).unwrap());
    listener.stop();
}
