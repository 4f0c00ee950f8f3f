//! N-services through dimse's SCU and SCP framework: an MPPS-like object created, modified,
//! read, acted on and deleted, each answered with the response of its own type.

use std::collections::HashMap;
use std::sync::Mutex;

use dimse_core::assoc::{AcceptorPolicy, ProposedContext, SupportedSyntax};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::{Message, Status};
use dimse_core::{uid, Entity};
use dimse_std::{Handler, NRequest, NResponse, Peer, Scp, Scu};

const MPPS: &str = "1.2.840.10008.3.1.2.3.3";
const STATUS_TAG: Tag = Tag(0x0040, 0x0252);

#[derive(Default)]
struct Objects(Mutex<HashMap<String, DataSet>>);

impl Handler for Objects {
    fn n_service(&self, _peer: &Peer, request: &NRequest) -> NResponse {
        let mut objects = self.0.lock().unwrap();
        match &request.message {
            Message::NCreateRq(rq) => {
                let uid = rq
                    .affected_sop_instance_uid
                    .clone()
                    .unwrap_or_else(|| format!("2.25.{}", objects.len() + 1000));
                objects.insert(uid.clone(), request.data.clone().unwrap_or_default());
                NResponse {
                    status: Status::SUCCESS,
                    data: None,
                    affected_sop_instance_uid: Some(uid),
                }
            }
            Message::NSetRq(rq) => match objects.get_mut(&rq.requested_sop_instance_uid) {
                Some(obj) => {
                    for e in request.data.iter().flat_map(|d| d.elements()) {
                        obj.insert(e.clone());
                    }
                    NResponse::status(Status::SUCCESS)
                }
                None => NResponse::status(Status::NO_SUCH_SOP_INSTANCE),
            },
            Message::NGetRq(rq) => match objects.get(&rq.requested_sop_instance_uid) {
                Some(obj) => NResponse {
                    status: Status::SUCCESS,
                    data: Some(obj.clone()),
                    affected_sop_instance_uid: None,
                },
                None => NResponse::status(Status::NO_SUCH_SOP_INSTANCE),
            },
            Message::NActionRq(rq) if rq.action_type_id == 7 => {
                let mut reply = DataSet::new();
                reply.set_str(Tag(0x0008, 0x0100), "DONE").unwrap();
                NResponse {
                    status: Status::SUCCESS,
                    data: Some(reply),
                    affected_sop_instance_uid: None,
                }
            }
            Message::NActionRq(_) => NResponse::status(Status::NO_SUCH_ACTION),
            Message::NDeleteRq(rq) => match objects.remove(&rq.requested_sop_instance_uid) {
                Some(_) => NResponse::status(Status::SUCCESS),
                None => NResponse::status(Status::NO_SUCH_SOP_INSTANCE),
            },
            _ => NResponse::status(Status::UNRECOGNIZED_OPERATION),
        }
    }
}

#[test]
fn create_set_get_action_delete() {
    let mut policy = AcceptorPolicy::new("NSCP");
    policy
        .supported
        .push(SupportedSyntax::uid(MPPS, &[uid::EXPLICIT_VR_LE]));
    let server = Scp::new(policy, Objects::default())
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    let ctx = ProposedContext::new(MPPS, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = Scu::new("SCU")
        .associate(
            &Entity::local("NSCP", server.local_addr().port()),
            vec![ctx],
        )
        .unwrap();

    let mut attrs = DataSet::new();
    attrs.set_str(STATUS_TAG, "IN PROGRESS").unwrap();
    let (rsp, _) = assoc.n_create(MPPS, None, Some(&attrs)).unwrap();
    assert!(rsp.status.is_success());
    let uid = rsp
        .affected_sop_instance_uid
        .expect("the SCP names the instance");

    let mut change = DataSet::new();
    change.set_str(STATUS_TAG, "COMPLETED").unwrap();
    let (rsp, _) = assoc.n_set(MPPS, &uid, &change).unwrap();
    assert!(rsp.status.is_success());

    let (rsp, data) = assoc.n_get(MPPS, &uid, &[]).unwrap();
    assert!(rsp.status.is_success());
    let data = data.expect("N-GET returns the attribute list");
    assert_eq!(data.get_str(STATUS_TAG).unwrap().unwrap(), "COMPLETED");

    let (rsp, reply) = assoc.n_action(MPPS, &uid, 7, None).unwrap();
    assert!(rsp.status.is_success());
    assert_eq!(
        reply
            .unwrap()
            .get_str(Tag(0x0008, 0x0100))
            .unwrap()
            .unwrap(),
        "DONE"
    );
    let (rsp, _) = assoc.n_action(MPPS, &uid, 9, Some(&change)).unwrap();
    assert_eq!(rsp.status, Status::NO_SUCH_ACTION);

    assert!(assoc.n_delete(MPPS, &uid).unwrap().status.is_success());
    let (rsp, data) = assoc.n_get(MPPS, &uid, &[]).unwrap();
    assert_eq!(rsp.status, Status::NO_SUCH_SOP_INSTANCE);
    assert!(data.is_none());
    assoc.release().unwrap();
    server.stop();
}
