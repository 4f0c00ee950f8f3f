//! A handler that panics costs its request a failure status, not the association.

use dimse_core::assoc::{AcceptorPolicy, ProposedContext, SupportedSyntax};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::Status;
use dimse_core::query::QueryModel;
use dimse_core::{uid, Entity};
use dimse_std::{Error, FindRequest, Handler, Matches, Peer, Scp, Scu};

struct Faulty;

impl Handler for Faulty {
    fn echo(&self, _peer: &Peer) -> Status {
        panic!("echo handler bug");
    }

    fn find(&self, _peer: &Peer, _request: &FindRequest) -> Result<Matches, Status> {
        let iter = (0..5).map(|i| {
            assert!(i < 2, "find handler bug after two matches");
            let mut ds = DataSet::new();
            ds.set_uid(Tag(0x0020, 0x000D), &format!("1.2.3.{i}"))
                .unwrap();
            Ok(ds)
        });
        Ok(Box::new(iter))
    }
}

#[test]
fn panicking_handlers_answer_with_failures_and_the_association_lives_on() {
    let mut policy = AcceptorPolicy::new("FAULTY");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    policy.supported.push(SupportedSyntax::uid(
        uid::STUDY_ROOT_QR_FIND,
        &[uid::EXPLICIT_VR_LE],
    ));
    let server = Scp::new(policy, Faulty)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    let contexts = vec![
        ProposedContext::new(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]),
        ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &[uid::EXPLICIT_VR_LE]),
    ];
    let mut assoc = Scu::new("SCU")
        .associate(
            &Entity::local("FAULTY", server.local_addr().port()),
            contexts,
        )
        .unwrap();
    assert_eq!(assoc.echo().unwrap(), Status::PROCESSING_FAILURE);
    assert_eq!(
        assoc.echo().unwrap(),
        Status::PROCESSING_FAILURE,
        "the association survived"
    );

    let query = DataSet::new()
        .with("QueryRetrieveLevel", "STUDY")
        .unwrap()
        .with_empty("StudyInstanceUID")
        .unwrap();
    let mut results = assoc.find(QueryModel::StudyRoot, &query).unwrap();
    let got: Vec<Result<DataSet, Error>> = results.by_ref().collect();
    assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 2);
    assert_eq!(results.status(), Some(Status::UNABLE_TO_PROCESS));
    drop(results);
    assoc.release().unwrap();
    server.stop();
}
