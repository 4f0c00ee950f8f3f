//! Typed N-EVENT-REPORT, N-GET, N-SET, N-ACTION, N-CREATE and N-DELETE messages (PS3.7 §10.3).
//!
//! Element sets follow PS3.7 §10.3 (M = required on decode, U/C = `Option` or empty `Vec`).
//! Requests address an instance through Requested SOP Class/Instance UID (N-GET, N-SET,
//! N-ACTION, N-DELETE) or Affected ones (N-EVENT-REPORT, N-CREATE); responses always use the
//! Affected ones. Where the data set is optional or conditional, a `has_data_set` field records
//! the CommandDataSetType, since the framing depends on what the peer announced.

use super::command::CommandError;
use super::message::{set_opt_str, set_opt_tags, set_opt_u16, set_opt_uid, write_rsp_head, Reader};
use super::{command_field as cf, tags, CommandSet, DimseMessage, Status};
use crate::uid;

/// Reads the optional Affected SOP Class/Instance UIDs of a response.
fn read_affected(r: &Reader<'_>) -> Result<(Option<String>, Option<String>), CommandError> {
    Ok((
        r.opt_str(tags::AFFECTED_SOP_CLASS_UID)?,
        r.opt_str(tags::AFFECTED_SOP_INSTANCE_UID)?,
    ))
}

/// Writes the optional Affected SOP Class/Instance UIDs of a response.
fn write_affected(cmd: &mut CommandSet, class: &Option<String>, instance: &Option<String>) {
    set_opt_uid(cmd, tags::AFFECTED_SOP_CLASS_UID, class);
    set_opt_uid(cmd, tags::AFFECTED_SOP_INSTANCE_UID, instance);
}

/// Writes ErrorID and ErrorComment, the error detail every N-service response may carry.
fn write_error(cmd: &mut CommandSet, error_id: Option<u16>, error_comment: &Option<String>) {
    set_opt_u16(cmd, tags::ERROR_ID, error_id);
    set_opt_str(cmd, tags::ERROR_COMMENT, error_comment);
}

/// Writes the Requested SOP Class/Instance UIDs of N-GET/SET/ACTION/DELETE requests.
fn write_requested(cmd: &mut CommandSet, class: &str, instance: &str) {
    cmd.set_uid(tags::REQUESTED_SOP_CLASS_UID, class);
    cmd.set_uid(tags::REQUESTED_SOP_INSTANCE_UID, instance);
}

// ---------------------------------------------------------------------------------------------
// N-EVENT-REPORT
// ---------------------------------------------------------------------------------------------

/// N-EVENT-REPORT-RQ (PS3.7 §10.3.1.1): the SCP reports an event about an instance, with
/// optional Event Information as the data set (e.g. a storage commitment result).
///
/// ```
/// use dimse_core::dimse::{DimseMessage, NEventReportRq, NEventReportRsp, Status};
/// use dimse_core::uid;
///
/// let rq = NEventReportRq::new(
///     1,
///     uid::STORAGE_COMMITMENT_PUSH_MODEL,
///     uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
///     1,
///     true,
/// );
/// let rsp = NEventReportRsp::for_request(&rq, Status::SUCCESS);
/// assert_eq!(rsp.event_type_id, Some(1));
/// assert!(!rsp.has_data_set());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NEventReportRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// AffectedSOPClassUID (0000,0002).
    pub affected_sop_class_uid: String,
    /// AffectedSOPInstanceUID (0000,1000).
    pub affected_sop_instance_uid: String,
    /// EventTypeID (0000,1002), defined by the SOP class.
    pub event_type_id: u16,
    /// Whether Event Information follows (optional).
    pub has_data_set: bool,
}

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

impl DimseMessage for NEventReportRq {
    const COMMAND_FIELD: u16 = cf::N_EVENT_REPORT_RQ;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, &self.affected_sop_class_uid);
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
        cmd.set_uid(
            tags::AFFECTED_SOP_INSTANCE_UID,
            &self.affected_sop_instance_uid,
        );
        cmd.set_u16(tags::EVENT_TYPE_ID, self.event_type_id);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(NEventReportRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            affected_sop_class_uid: r.str(tags::AFFECTED_SOP_CLASS_UID)?,
            affected_sop_instance_uid: r.str(tags::AFFECTED_SOP_INSTANCE_UID)?,
            event_type_id: r.u16(tags::EVENT_TYPE_ID)?,
            has_data_set: r.data_set_present()?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        Some(&self.affected_sop_class_uid)
    }
}

/// N-EVENT-REPORT-RSP (PS3.7 §10.3.1.2), with an optional Event Reply data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NEventReportRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
    pub affected_sop_class_uid: Option<String>,
    /// AffectedSOPInstanceUID (0000,1000), optional; equal to the request's when present.
    pub affected_sop_instance_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// EventTypeID (0000,1002), conditional; equal to the request's when present.
    pub event_type_id: Option<u16>,
    /// ErrorID (0000,0903), conditional.
    pub error_id: Option<u16>,
    /// ErrorComment (0000,0902), conditional.
    pub error_comment: Option<String>,
    /// Whether an Event Reply follows (conditional on the SOP class).
    pub has_data_set: bool,
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

impl DimseMessage for NEventReportRsp {
    const COMMAND_FIELD: u16 = cf::N_EVENT_REPORT_RSP;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_affected(
            cmd,
            &self.affected_sop_class_uid,
            &self.affected_sop_instance_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        set_opt_u16(cmd, tags::EVENT_TYPE_ID, self.event_type_id);
        write_error(cmd, self.error_id, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        let (affected_sop_class_uid, affected_sop_instance_uid) = read_affected(&r)?;
        Ok(NEventReportRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid,
            affected_sop_instance_uid,
            status: r.status()?,
            event_type_id: r.opt_u16(tags::EVENT_TYPE_ID)?,
            error_id: r.opt_u16(tags::ERROR_ID)?,
            error_comment: r.opt_str(tags::ERROR_COMMENT)?,
            has_data_set: r.data_set_present()?,
        })
    }

    fn responded_to(&self) -> Option<u16> {
        Some(self.message_id_being_responded_to)
    }

    fn status(&self) -> Option<Status> {
        Some(self.status)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        self.affected_sop_class_uid.as_deref()
    }
}

// ---------------------------------------------------------------------------------------------
// N-GET
// ---------------------------------------------------------------------------------------------

/// N-GET-RQ (PS3.7 §10.3.2.1): reads attributes of an instance; no data set.
///
/// ```
/// use dimse_core::dimse::{DimseMessage, NGetRq};
///
/// let mut rq = NGetRq::new(3, "1.2.840.10008.5.1.1.16", "1.2.840.10008.5.1.1.17");
/// rq.attribute_identifier_list = vec![0x2110_0010]; // Printer Status
/// assert_eq!(NGetRq::from_command(&rq.to_command()).unwrap(), rq);
/// assert!(!rq.has_data_set());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NGetRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// RequestedSOPClassUID (0000,0003).
    pub requested_sop_class_uid: String,
    /// RequestedSOPInstanceUID (0000,1001).
    pub requested_sop_instance_uid: String,
    /// AttributeIdentifierList (0000,1005) as `u32` tags; empty = absent = all attributes.
    pub attribute_identifier_list: Vec<u32>,
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

impl DimseMessage for NGetRq {
    const COMMAND_FIELD: u16 = cf::N_GET_RQ;

    fn has_data_set(&self) -> bool {
        false
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_requested(
            cmd,
            &self.requested_sop_class_uid,
            &self.requested_sop_instance_uid,
        );
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
        set_opt_tags(
            cmd,
            tags::ATTRIBUTE_IDENTIFIER_LIST,
            &self.attribute_identifier_list,
        );
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(NGetRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            requested_sop_class_uid: r.str(tags::REQUESTED_SOP_CLASS_UID)?,
            requested_sop_instance_uid: r.str(tags::REQUESTED_SOP_INSTANCE_UID)?,
            attribute_identifier_list: r.opt_tags(tags::ATTRIBUTE_IDENTIFIER_LIST)?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }
}

/// N-GET-RSP (PS3.7 §10.3.2.2), with the Attribute List as the (conditional) data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NGetRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional.
    pub affected_sop_class_uid: Option<String>,
    /// AffectedSOPInstanceUID (0000,1000), optional.
    pub affected_sop_instance_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// AttributeIdentifierList (0000,1005), conditional: attributes in error; empty = absent.
    pub attribute_identifier_list: Vec<u32>,
    /// ErrorID (0000,0903), conditional.
    pub error_id: Option<u16>,
    /// ErrorComment (0000,0902), conditional.
    pub error_comment: Option<String>,
    /// Whether the Attribute List follows (expected on success and warning).
    pub has_data_set: bool,
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

impl DimseMessage for NGetRsp {
    const COMMAND_FIELD: u16 = cf::N_GET_RSP;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_affected(
            cmd,
            &self.affected_sop_class_uid,
            &self.affected_sop_instance_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        set_opt_tags(
            cmd,
            tags::ATTRIBUTE_IDENTIFIER_LIST,
            &self.attribute_identifier_list,
        );
        write_error(cmd, self.error_id, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        let (affected_sop_class_uid, affected_sop_instance_uid) = read_affected(&r)?;
        Ok(NGetRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid,
            affected_sop_instance_uid,
            status: r.status()?,
            attribute_identifier_list: r.opt_tags(tags::ATTRIBUTE_IDENTIFIER_LIST)?,
            error_id: r.opt_u16(tags::ERROR_ID)?,
            error_comment: r.opt_str(tags::ERROR_COMMENT)?,
            has_data_set: r.data_set_present()?,
        })
    }

    fn responded_to(&self) -> Option<u16> {
        Some(self.message_id_being_responded_to)
    }

    fn status(&self) -> Option<Status> {
        Some(self.status)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        self.affected_sop_class_uid.as_deref()
    }
}

// ---------------------------------------------------------------------------------------------
// N-SET
// ---------------------------------------------------------------------------------------------

/// N-SET-RQ (PS3.7 §10.3.3.1): modifies an instance; the Modification List follows as the
/// data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NSetRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// RequestedSOPClassUID (0000,0003).
    pub requested_sop_class_uid: String,
    /// RequestedSOPInstanceUID (0000,1001).
    pub requested_sop_instance_uid: String,
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

impl DimseMessage for NSetRq {
    const COMMAND_FIELD: u16 = cf::N_SET_RQ;

    fn has_data_set(&self) -> bool {
        true
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_requested(
            cmd,
            &self.requested_sop_class_uid,
            &self.requested_sop_instance_uid,
        );
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(NSetRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            requested_sop_class_uid: r.str(tags::REQUESTED_SOP_CLASS_UID)?,
            requested_sop_instance_uid: r.str(tags::REQUESTED_SOP_INSTANCE_UID)?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }
}

/// N-SET-RSP (PS3.7 §10.3.3.2), with an optional Attribute List data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NSetRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional.
    pub affected_sop_class_uid: Option<String>,
    /// AffectedSOPInstanceUID (0000,1000), optional.
    pub affected_sop_instance_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// AttributeIdentifierList (0000,1005), conditional: attributes in error; empty = absent.
    pub attribute_identifier_list: Vec<u32>,
    /// ErrorID (0000,0903), conditional.
    pub error_id: Option<u16>,
    /// ErrorComment (0000,0902), conditional.
    pub error_comment: Option<String>,
    /// Whether an Attribute List follows (optional).
    pub has_data_set: bool,
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

impl DimseMessage for NSetRsp {
    const COMMAND_FIELD: u16 = cf::N_SET_RSP;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_affected(
            cmd,
            &self.affected_sop_class_uid,
            &self.affected_sop_instance_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        set_opt_tags(
            cmd,
            tags::ATTRIBUTE_IDENTIFIER_LIST,
            &self.attribute_identifier_list,
        );
        write_error(cmd, self.error_id, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        let (affected_sop_class_uid, affected_sop_instance_uid) = read_affected(&r)?;
        Ok(NSetRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid,
            affected_sop_instance_uid,
            status: r.status()?,
            attribute_identifier_list: r.opt_tags(tags::ATTRIBUTE_IDENTIFIER_LIST)?,
            error_id: r.opt_u16(tags::ERROR_ID)?,
            error_comment: r.opt_str(tags::ERROR_COMMENT)?,
            has_data_set: r.data_set_present()?,
        })
    }

    fn responded_to(&self) -> Option<u16> {
        Some(self.message_id_being_responded_to)
    }

    fn status(&self) -> Option<Status> {
        Some(self.status)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        self.affected_sop_class_uid.as_deref()
    }
}

// ---------------------------------------------------------------------------------------------
// N-ACTION
// ---------------------------------------------------------------------------------------------

/// N-ACTION-RQ (PS3.7 §10.3.4.1): asks an instance to perform an action, with optional Action
/// Information as the data set (e.g. the instances to commit in storage commitment).
///
/// ```
/// use dimse_core::dimse::{DimseMessage, NActionRq, NActionRsp, Status};
/// use dimse_core::uid;
///
/// let rq = NActionRq::new(
///     9,
///     uid::STORAGE_COMMITMENT_PUSH_MODEL,
///     uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
///     1,
///     true,
/// );
/// assert!(rq.has_data_set());
/// assert_eq!(NActionRsp::for_request(&rq, Status::SUCCESS).action_type_id, Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NActionRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// RequestedSOPClassUID (0000,0003).
    pub requested_sop_class_uid: String,
    /// RequestedSOPInstanceUID (0000,1001).
    pub requested_sop_instance_uid: String,
    /// ActionTypeID (0000,1008), defined by the SOP class.
    pub action_type_id: u16,
    /// Whether Action Information follows (optional).
    pub has_data_set: bool,
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

impl DimseMessage for NActionRq {
    const COMMAND_FIELD: u16 = cf::N_ACTION_RQ;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_requested(
            cmd,
            &self.requested_sop_class_uid,
            &self.requested_sop_instance_uid,
        );
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
        cmd.set_u16(tags::ACTION_TYPE_ID, self.action_type_id);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(NActionRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            requested_sop_class_uid: r.str(tags::REQUESTED_SOP_CLASS_UID)?,
            requested_sop_instance_uid: r.str(tags::REQUESTED_SOP_INSTANCE_UID)?,
            action_type_id: r.u16(tags::ACTION_TYPE_ID)?,
            has_data_set: r.data_set_present()?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }
}

/// N-ACTION-RSP (PS3.7 §10.3.4.2), with an optional Action Reply data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NActionRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional.
    pub affected_sop_class_uid: Option<String>,
    /// AffectedSOPInstanceUID (0000,1000), optional.
    pub affected_sop_instance_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// ActionTypeID (0000,1008), conditional; equal to the request's when present.
    pub action_type_id: Option<u16>,
    /// ErrorID (0000,0903), conditional.
    pub error_id: Option<u16>,
    /// ErrorComment (0000,0902), conditional.
    pub error_comment: Option<String>,
    /// Whether an Action Reply follows (conditional on the SOP class).
    pub has_data_set: bool,
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

impl DimseMessage for NActionRsp {
    const COMMAND_FIELD: u16 = cf::N_ACTION_RSP;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_affected(
            cmd,
            &self.affected_sop_class_uid,
            &self.affected_sop_instance_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        set_opt_u16(cmd, tags::ACTION_TYPE_ID, self.action_type_id);
        write_error(cmd, self.error_id, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        let (affected_sop_class_uid, affected_sop_instance_uid) = read_affected(&r)?;
        Ok(NActionRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid,
            affected_sop_instance_uid,
            status: r.status()?,
            action_type_id: r.opt_u16(tags::ACTION_TYPE_ID)?,
            error_id: r.opt_u16(tags::ERROR_ID)?,
            error_comment: r.opt_str(tags::ERROR_COMMENT)?,
            has_data_set: r.data_set_present()?,
        })
    }

    fn responded_to(&self) -> Option<u16> {
        Some(self.message_id_being_responded_to)
    }

    fn status(&self) -> Option<Status> {
        Some(self.status)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        self.affected_sop_class_uid.as_deref()
    }
}

// ---------------------------------------------------------------------------------------------
// N-CREATE
// ---------------------------------------------------------------------------------------------

/// N-CREATE-RQ (PS3.7 §10.3.5.1): creates an instance, with an optional Attribute List (its
/// initial values) as the data set.
///
/// ```
/// use dimse_core::dimse::{DimseMessage, NCreateRq, NCreateRsp, Status};
/// use dimse_core::uid;
///
/// // No instance UID: the SCP assigns one and must return it.
/// let rq = NCreateRq::new(1, uid::MODALITY_PERFORMED_PROCEDURE_STEP, None, true);
/// let mut rsp = NCreateRsp::for_request(&rq, Status::SUCCESS);
/// assert_eq!(rsp.affected_sop_instance_uid, None);
/// rsp.affected_sop_instance_uid = Some("1.2.3.4".into());
/// assert_eq!(NCreateRsp::from_command(&rsp.to_command()).unwrap(), rsp);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NCreateRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// AffectedSOPClassUID (0000,0002).
    pub affected_sop_class_uid: String,
    /// AffectedSOPInstanceUID (0000,1000), optional: the SCP assigns one when absent.
    pub affected_sop_instance_uid: Option<String>,
    /// Whether an Attribute List follows (optional).
    pub has_data_set: bool,
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

impl DimseMessage for NCreateRq {
    const COMMAND_FIELD: u16 = cf::N_CREATE_RQ;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, &self.affected_sop_class_uid);
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
        set_opt_uid(
            cmd,
            tags::AFFECTED_SOP_INSTANCE_UID,
            &self.affected_sop_instance_uid,
        );
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(NCreateRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            affected_sop_class_uid: r.str(tags::AFFECTED_SOP_CLASS_UID)?,
            affected_sop_instance_uid: r.opt_str(tags::AFFECTED_SOP_INSTANCE_UID)?,
            has_data_set: r.data_set_present()?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        Some(&self.affected_sop_class_uid)
    }
}

/// N-CREATE-RSP (PS3.7 §10.3.5.2), with an optional Attribute List data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NCreateRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
    pub affected_sop_class_uid: Option<String>,
    /// AffectedSOPInstanceUID (0000,1000), conditional: needed when the SCP chose the UID.
    pub affected_sop_instance_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// ErrorID (0000,0903), conditional.
    pub error_id: Option<u16>,
    /// ErrorComment (0000,0902), conditional.
    pub error_comment: Option<String>,
    /// Whether an Attribute List follows (optional).
    pub has_data_set: bool,
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

impl DimseMessage for NCreateRsp {
    const COMMAND_FIELD: u16 = cf::N_CREATE_RSP;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_affected(
            cmd,
            &self.affected_sop_class_uid,
            &self.affected_sop_instance_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        write_error(cmd, self.error_id, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        let (affected_sop_class_uid, affected_sop_instance_uid) = read_affected(&r)?;
        Ok(NCreateRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid,
            affected_sop_instance_uid,
            status: r.status()?,
            error_id: r.opt_u16(tags::ERROR_ID)?,
            error_comment: r.opt_str(tags::ERROR_COMMENT)?,
            has_data_set: r.data_set_present()?,
        })
    }

    fn responded_to(&self) -> Option<u16> {
        Some(self.message_id_being_responded_to)
    }

    fn status(&self) -> Option<Status> {
        Some(self.status)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        self.affected_sop_class_uid.as_deref()
    }
}

// ---------------------------------------------------------------------------------------------
// N-DELETE
// ---------------------------------------------------------------------------------------------

/// N-DELETE-RQ (PS3.7 §10.3.6.1): deletes an instance; no data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NDeleteRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// RequestedSOPClassUID (0000,0003).
    pub requested_sop_class_uid: String,
    /// RequestedSOPInstanceUID (0000,1001).
    pub requested_sop_instance_uid: String,
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

impl DimseMessage for NDeleteRq {
    const COMMAND_FIELD: u16 = cf::N_DELETE_RQ;

    fn has_data_set(&self) -> bool {
        false
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_requested(
            cmd,
            &self.requested_sop_class_uid,
            &self.requested_sop_instance_uid,
        );
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(NDeleteRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            requested_sop_class_uid: r.str(tags::REQUESTED_SOP_CLASS_UID)?,
            requested_sop_instance_uid: r.str(tags::REQUESTED_SOP_INSTANCE_UID)?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }
}

/// N-DELETE-RSP (PS3.7 §10.3.6.2); no data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NDeleteRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional.
    pub affected_sop_class_uid: Option<String>,
    /// AffectedSOPInstanceUID (0000,1000), optional.
    pub affected_sop_instance_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// ErrorID (0000,0903), conditional.
    pub error_id: Option<u16>,
    /// ErrorComment (0000,0902), conditional.
    pub error_comment: Option<String>,
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

impl DimseMessage for NDeleteRsp {
    const COMMAND_FIELD: u16 = cf::N_DELETE_RSP;

    fn has_data_set(&self) -> bool {
        false
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        write_affected(
            cmd,
            &self.affected_sop_class_uid,
            &self.affected_sop_instance_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        write_error(cmd, self.error_id, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        let (affected_sop_class_uid, affected_sop_instance_uid) = read_affected(&r)?;
        Ok(NDeleteRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid,
            affected_sop_instance_uid,
            status: r.status()?,
            error_id: r.opt_u16(tags::ERROR_ID)?,
            error_comment: r.opt_str(tags::ERROR_COMMENT)?,
        })
    }

    fn responded_to(&self) -> Option<u16> {
        Some(self.message_id_being_responded_to)
    }

    fn status(&self) -> Option<Status> {
        Some(self.status)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        self.affected_sop_class_uid.as_deref()
    }
}
