//! Constructors of the composite (C-) messages: requests from their essentials, responses
//! from their requests (PS3.7 §9.3). The messages themselves are declared in `table.rs`.

use super::table::{
    CCancelRq, CEchoRq, CEchoRsp, CFindRq, CFindRsp, CGetRq, CGetRsp, CMoveRq, CMoveRsp, CStoreRq,
    CStoreRsp,
};
use super::{Priority, Status, SubOperations};
use crate::uid;

impl CEchoRq {
    /// A C-ECHO-RQ for the Verification SOP class.
    pub fn new(message_id: u16) -> Self {
        CEchoRq {
            message_id,
            affected_sop_class_uid: uid::VERIFICATION.to_string(),
        }
    }
}

impl CEchoRsp {
    /// The response to `rq` with `status`, echoing its SOP class.
    pub fn for_request(rq: &CEchoRq, status: Status) -> Self {
        CEchoRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.affected_sop_class_uid.clone()),
            status,
            error_comment: None,
        }
    }
}

impl CStoreRq {
    /// A C-STORE-RQ that is not a C-MOVE sub-operation.
    pub fn new(
        message_id: u16,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        priority: Priority,
    ) -> Self {
        CStoreRq {
            message_id,
            priority,
            affected_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            affected_sop_instance_uid: uid::trim(sop_instance_uid).to_string(),
            move_originator_ae_title: None,
            move_originator_message_id: None,
        }
    }
}

impl CStoreRsp {
    /// The response to `rq` with `status`, echoing its SOP class and instance.
    pub fn for_request(rq: &CStoreRq, status: Status) -> Self {
        CStoreRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.affected_sop_class_uid.clone()),
            affected_sop_instance_uid: Some(rq.affected_sop_instance_uid.clone()),
            status,
            offending_element: Vec::new(),
            error_comment: None,
        }
    }
}

impl CFindRq {
    /// A C-FIND-RQ for the information model `sop_class_uid`.
    pub fn new(message_id: u16, sop_class_uid: &str, priority: Priority) -> Self {
        CFindRq {
            message_id,
            priority,
            affected_sop_class_uid: uid::trim(sop_class_uid).to_string(),
        }
    }
}

impl CFindRsp {
    /// The response to `rq` with `status`, echoing its SOP class; with an Identifier exactly
    /// when `status` is Pending.
    pub fn for_request(rq: &CFindRq, status: Status) -> Self {
        CFindRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.affected_sop_class_uid.clone()),
            status,
            offending_element: Vec::new(),
            error_comment: None,
            has_data_set: status.is_pending(),
        }
    }
}

impl CGetRq {
    /// A C-GET-RQ for the information model `sop_class_uid`.
    pub fn new(message_id: u16, sop_class_uid: &str, priority: Priority) -> Self {
        CGetRq {
            message_id,
            priority,
            affected_sop_class_uid: uid::trim(sop_class_uid).to_string(),
        }
    }
}

impl CGetRsp {
    /// The response to `rq` with `status`, echoing its SOP class; no counters, no Identifier.
    pub fn for_request(rq: &CGetRq, status: Status) -> Self {
        CGetRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.affected_sop_class_uid.clone()),
            status,
            sub_operations: SubOperations::default(),
            offending_element: Vec::new(),
            error_comment: None,
            has_data_set: false,
        }
    }
}

impl CMoveRq {
    /// A C-MOVE-RQ for the information model `sop_class_uid`, sending to `move_destination`.
    pub fn new(
        message_id: u16,
        sop_class_uid: &str,
        move_destination: &str,
        priority: Priority,
    ) -> Self {
        CMoveRq {
            message_id,
            priority,
            affected_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            move_destination: move_destination.to_string(),
        }
    }
}

impl CMoveRsp {
    /// The response to `rq` with `status`, echoing its SOP class; no counters, no Identifier.
    pub fn for_request(rq: &CMoveRq, status: Status) -> Self {
        CMoveRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.affected_sop_class_uid.clone()),
            status,
            sub_operations: SubOperations::default(),
            offending_element: Vec::new(),
            error_comment: None,
            has_data_set: false,
        }
    }
}

impl CCancelRq {
    /// A C-CANCEL-RQ for the request with MessageID `message_id`.
    pub fn new(message_id: u16) -> Self {
        CCancelRq {
            message_id_being_responded_to: message_id,
        }
    }
}
