//! Constructors of the normalized (N-) messages (PS3.7 §10.3). Requests address an instance
//! through Requested SOP Class/Instance UID (N-GET, N-SET, N-ACTION, N-DELETE) or Affected ones
//! (N-EVENT-REPORT, N-CREATE); responses always use the Affected ones. The messages themselves
//! are declared in `table.rs`.

use super::table::{
    NActionRq, NActionRsp, NCreateRq, NCreateRsp, NDeleteRq, NDeleteRsp, NEventReportRq,
    NEventReportRsp, NGetRq, NGetRsp, NSetRq, NSetRsp,
};
use super::Status;
use crate::uid;

impl NEventReportRq {
    /// An N-EVENT-REPORT-RQ; `has_data_set` says whether Event Information follows.
    pub fn new(
        message_id: u16,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        event_type_id: u16,
        has_data_set: bool,
    ) -> Self {
        NEventReportRq {
            message_id,
            affected_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            affected_sop_instance_uid: uid::trim(sop_instance_uid).to_string(),
            event_type_id,
            has_data_set,
        }
    }
}

impl NEventReportRsp {
    /// The response to `rq` with `status`, echoing its SOP class, instance and event type;
    /// no Event Reply.
    pub fn for_request(rq: &NEventReportRq, status: Status) -> Self {
        NEventReportRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.affected_sop_class_uid.clone()),
            affected_sop_instance_uid: Some(rq.affected_sop_instance_uid.clone()),
            status,
            event_type_id: Some(rq.event_type_id),
            error_id: None,
            error_comment: None,
            has_data_set: false,
        }
    }
}

impl NGetRq {
    /// An N-GET-RQ for all attributes of the instance.
    pub fn new(message_id: u16, sop_class_uid: &str, sop_instance_uid: &str) -> Self {
        NGetRq {
            message_id,
            requested_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            requested_sop_instance_uid: uid::trim(sop_instance_uid).to_string(),
            attribute_identifier_list: Vec::new(),
        }
    }
}

impl NGetRsp {
    /// The response to `rq` with `status`, naming the requested class and instance; no
    /// Attribute List yet (set `has_data_set` when sending one).
    pub fn for_request(rq: &NGetRq, status: Status) -> Self {
        NGetRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.requested_sop_class_uid.clone()),
            affected_sop_instance_uid: Some(rq.requested_sop_instance_uid.clone()),
            status,
            attribute_identifier_list: Vec::new(),
            error_id: None,
            error_comment: None,
            has_data_set: false,
        }
    }
}

impl NSetRq {
    /// An N-SET-RQ for the instance.
    pub fn new(message_id: u16, sop_class_uid: &str, sop_instance_uid: &str) -> Self {
        NSetRq {
            message_id,
            requested_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            requested_sop_instance_uid: uid::trim(sop_instance_uid).to_string(),
        }
    }
}

impl NSetRsp {
    /// The response to `rq` with `status`, naming the requested class and instance; no
    /// Attribute List.
    pub fn for_request(rq: &NSetRq, status: Status) -> Self {
        NSetRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.requested_sop_class_uid.clone()),
            affected_sop_instance_uid: Some(rq.requested_sop_instance_uid.clone()),
            status,
            attribute_identifier_list: Vec::new(),
            error_id: None,
            error_comment: None,
            has_data_set: false,
        }
    }
}

impl NActionRq {
    /// An N-ACTION-RQ; `has_data_set` says whether Action Information follows.
    pub fn new(
        message_id: u16,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        action_type_id: u16,
        has_data_set: bool,
    ) -> Self {
        NActionRq {
            message_id,
            requested_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            requested_sop_instance_uid: uid::trim(sop_instance_uid).to_string(),
            action_type_id,
            has_data_set,
        }
    }
}

impl NActionRsp {
    /// The response to `rq` with `status`, naming the requested class and instance and echoing
    /// the action type; no Action Reply.
    pub fn for_request(rq: &NActionRq, status: Status) -> Self {
        NActionRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.requested_sop_class_uid.clone()),
            affected_sop_instance_uid: Some(rq.requested_sop_instance_uid.clone()),
            status,
            action_type_id: Some(rq.action_type_id),
            error_id: None,
            error_comment: None,
            has_data_set: false,
        }
    }
}

impl NCreateRq {
    /// An N-CREATE-RQ; `sop_instance_uid` `None` lets the SCP choose the instance UID.
    pub fn new(
        message_id: u16,
        sop_class_uid: &str,
        sop_instance_uid: Option<&str>,
        has_data_set: bool,
    ) -> Self {
        NCreateRq {
            message_id,
            affected_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            affected_sop_instance_uid: sop_instance_uid.map(|u| uid::trim(u).to_string()),
            has_data_set,
        }
    }
}

impl NCreateRsp {
    /// The response to `rq` with `status`, echoing its class and (if it gave one) instance;
    /// an SCP that assigned the instance UID must fill it in.
    pub fn for_request(rq: &NCreateRq, status: Status) -> Self {
        NCreateRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.affected_sop_class_uid.clone()),
            affected_sop_instance_uid: rq.affected_sop_instance_uid.clone(),
            status,
            error_id: None,
            error_comment: None,
            has_data_set: false,
        }
    }
}

impl NDeleteRq {
    /// An N-DELETE-RQ for the instance.
    pub fn new(message_id: u16, sop_class_uid: &str, sop_instance_uid: &str) -> Self {
        NDeleteRq {
            message_id,
            requested_sop_class_uid: uid::trim(sop_class_uid).to_string(),
            requested_sop_instance_uid: uid::trim(sop_instance_uid).to_string(),
        }
    }
}

impl NDeleteRsp {
    /// The response to `rq` with `status`, naming the requested class and instance.
    pub fn for_request(rq: &NDeleteRq, status: Status) -> Self {
        NDeleteRsp {
            message_id_being_responded_to: rq.message_id,
            affected_sop_class_uid: Some(rq.requested_sop_class_uid.clone()),
            affected_sop_instance_uid: Some(rq.requested_sop_instance_uid.clone()),
            status,
            error_id: None,
            error_comment: None,
        }
    }
}
