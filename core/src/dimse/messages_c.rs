//! Typed C-FIND, C-GET, C-MOVE and C-CANCEL messages (PS3.7 §9.3.2–§9.3.4, §9.3.2.3).
//!
//! Element sets follow PS3.7 §9.3 (M = required on decode, U/C = `Option` or empty `Vec`).
//! Responses whose data set is optional or conditional record the received
//! CommandDataSetType in a `has_data_set` field: the framing depends on what the peer announced,
//! not on what the standard says it should have announced.

use super::command::CommandError;
use super::message::{set_opt_str, set_opt_tags, set_opt_u16, set_opt_uid, write_rsp_head, Reader};
use super::{command_field as cf, tags, CommandSet, DimseMessage, Priority, Status};
use crate::uid;

// ---------------------------------------------------------------------------------------------
// Sub-operation counters
// ---------------------------------------------------------------------------------------------

/// The sub-operation counters (0000,1020)–(0000,1023) of C-GET-RSP and C-MOVE-RSP.
///
/// Each is optional on the wire (PS3.4 C.4.2.1.5: all four *shall* be in Pending responses,
/// Remaining *shall not* be in final ones), so each is an `Option`; a receiver can tell "not
/// sent" from zero.
///
/// ```
/// use dimse_core::dimse::SubOperations;
///
/// let pending = SubOperations::pending(3, 1, 0, 0);
/// assert_eq!(pending.remaining, Some(3));
/// let done = SubOperations::finished(4, 0, 0);
/// assert_eq!((done.remaining, done.completed), (None, Some(4)));
/// assert!(SubOperations::default().is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubOperations {
    /// NumberOfRemainingSuboperations (0000,1020).
    pub remaining: Option<u16>,
    /// NumberOfCompletedSuboperations (0000,1021).
    pub completed: Option<u16>,
    /// NumberOfFailedSuboperations (0000,1022).
    pub failed: Option<u16>,
    /// NumberOfWarningSuboperations (0000,1023).
    pub warning: Option<u16>,
}

impl SubOperations {
    /// All four counters, as a Pending response must carry them.
    pub fn pending(remaining: u16, completed: u16, failed: u16, warning: u16) -> Self {
        SubOperations {
            remaining: Some(remaining),
            completed: Some(completed),
            failed: Some(failed),
            warning: Some(warning),
        }
    }

    /// Completed, failed and warning counts without Remaining, as a final (success, warning,
    /// failure or cancel) response should carry them.
    pub fn finished(completed: u16, failed: u16, warning: u16) -> Self {
        SubOperations {
            remaining: None,
            completed: Some(completed),
            failed: Some(failed),
            warning: Some(warning),
        }
    }

    /// Whether no counter is set.
    pub fn is_empty(&self) -> bool {
        *self == SubOperations::default()
    }

    fn write(&self, cmd: &mut CommandSet) {
        set_opt_u16(cmd, tags::NUMBER_OF_REMAINING_SUBOPERATIONS, self.remaining);
        set_opt_u16(cmd, tags::NUMBER_OF_COMPLETED_SUBOPERATIONS, self.completed);
        set_opt_u16(cmd, tags::NUMBER_OF_FAILED_SUBOPERATIONS, self.failed);
        set_opt_u16(cmd, tags::NUMBER_OF_WARNING_SUBOPERATIONS, self.warning);
    }

    fn read(r: &Reader<'_>) -> Result<Self, CommandError> {
        Ok(SubOperations {
            remaining: r.opt_u16(tags::NUMBER_OF_REMAINING_SUBOPERATIONS)?,
            completed: r.opt_u16(tags::NUMBER_OF_COMPLETED_SUBOPERATIONS)?,
            failed: r.opt_u16(tags::NUMBER_OF_FAILED_SUBOPERATIONS)?,
            warning: r.opt_u16(tags::NUMBER_OF_WARNING_SUBOPERATIONS)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// C-FIND
// ---------------------------------------------------------------------------------------------

/// C-FIND-RQ (PS3.7 §9.3.2.1); the Identifier (query keys) follows as the data set.
///
/// ```
/// use dimse_core::dimse::{CFindRq, CFindRsp, DimseMessage, Priority, Status};
/// use dimse_core::uid;
///
/// let rq = CFindRq::new(5, uid::STUDY_ROOT_QR_FIND, Priority::Medium);
/// assert!(rq.has_data_set());
/// let pending = CFindRsp::for_request(&rq, Status::PENDING);
/// assert!(pending.has_data_set());
/// assert!(!CFindRsp::for_request(&rq, Status::SUCCESS).has_data_set());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CFindRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// Priority (0000,0700).
    pub priority: Priority,
    /// AffectedSOPClassUID (0000,0002): the query/retrieve or worklist information model.
    pub affected_sop_class_uid: String,
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

impl DimseMessage for CFindRq {
    const COMMAND_FIELD: u16 = cf::C_FIND_RQ;

    fn has_data_set(&self) -> bool {
        true
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, &self.affected_sop_class_uid);
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
        cmd.set_u16(tags::PRIORITY, self.priority.to_wire());
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CFindRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            priority: r.priority()?,
            affected_sop_class_uid: r.str(tags::AFFECTED_SOP_CLASS_UID)?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        Some(&self.affected_sop_class_uid)
    }
}

/// C-FIND-RSP (PS3.7 §9.3.2.2); a Pending response carries one match as its Identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CFindRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
    pub affected_sop_class_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// OffendingElement (0000,0901) as `u32` tags; empty = element absent.
    pub offending_element: Vec<u32>,
    /// ErrorComment (0000,0902).
    pub error_comment: Option<String>,
    /// Whether an Identifier follows. The standard wants one exactly when the status is
    /// Pending; a received value is kept as announced, because it decides the framing.
    pub has_data_set: bool,
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

impl DimseMessage for CFindRsp {
    const COMMAND_FIELD: u16 = cf::C_FIND_RSP;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        set_opt_uid(
            cmd,
            tags::AFFECTED_SOP_CLASS_UID,
            &self.affected_sop_class_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        set_opt_tags(cmd, tags::OFFENDING_ELEMENT, &self.offending_element);
        set_opt_str(cmd, tags::ERROR_COMMENT, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CFindRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid: r.opt_str(tags::AFFECTED_SOP_CLASS_UID)?,
            status: r.status()?,
            offending_element: r.opt_tags(tags::OFFENDING_ELEMENT)?,
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
// C-GET
// ---------------------------------------------------------------------------------------------

/// C-GET-RQ (PS3.7 §9.3.3.1); the Identifier (what to retrieve) follows as the data set.
/// The instances come back as C-STORE sub-operations on the same association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CGetRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// Priority (0000,0700).
    pub priority: Priority,
    /// AffectedSOPClassUID (0000,0002): the retrieve information model.
    pub affected_sop_class_uid: String,
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

impl DimseMessage for CGetRq {
    const COMMAND_FIELD: u16 = cf::C_GET_RQ;

    fn has_data_set(&self) -> bool {
        true
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, &self.affected_sop_class_uid);
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
        cmd.set_u16(tags::PRIORITY, self.priority.to_wire());
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CGetRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            priority: r.priority()?,
            affected_sop_class_uid: r.str(tags::AFFECTED_SOP_CLASS_UID)?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        Some(&self.affected_sop_class_uid)
    }
}

/// C-GET-RSP (PS3.7 §9.3.3.2), with sub-operation counters.
///
/// ```
/// use dimse_core::dimse::{CGetRq, CGetRsp, DimseMessage, Priority, Status, SubOperations};
/// use dimse_core::uid;
///
/// let rq = CGetRq::new(2, uid::STUDY_ROOT_QR_GET, Priority::Medium);
/// let mut rsp = CGetRsp::for_request(&rq, Status::SUB_OPERATIONS_WARNING);
/// rsp.sub_operations = SubOperations::finished(9, 1, 0);
/// // The Identifier lists the Failed SOP Instance UIDs (0008,0058).
/// rsp.has_data_set = true;
/// assert_eq!(CGetRsp::from_command(&rsp.to_command()).unwrap(), rsp);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CGetRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
    pub affected_sop_class_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// Sub-operation counters (0000,1020)–(0000,1023).
    pub sub_operations: SubOperations,
    /// OffendingElement (0000,0901) as `u32` tags; empty = element absent.
    pub offending_element: Vec<u32>,
    /// ErrorComment (0000,0902).
    pub error_comment: Option<String>,
    /// Whether an Identifier follows (optional; it carries the Failed SOP Instance UID List in
    /// Cancel, Failure and Warning responses).
    pub has_data_set: bool,
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

impl DimseMessage for CGetRsp {
    const COMMAND_FIELD: u16 = cf::C_GET_RSP;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        set_opt_uid(
            cmd,
            tags::AFFECTED_SOP_CLASS_UID,
            &self.affected_sop_class_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        self.sub_operations.write(cmd);
        set_opt_tags(cmd, tags::OFFENDING_ELEMENT, &self.offending_element);
        set_opt_str(cmd, tags::ERROR_COMMENT, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CGetRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid: r.opt_str(tags::AFFECTED_SOP_CLASS_UID)?,
            status: r.status()?,
            sub_operations: SubOperations::read(&r)?,
            offending_element: r.opt_tags(tags::OFFENDING_ELEMENT)?,
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
// C-MOVE
// ---------------------------------------------------------------------------------------------

/// C-MOVE-RQ (PS3.7 §9.3.4.1); the Identifier (what to move) follows as the data set.
/// The SCP sends the instances to `move_destination` over a separate association.
///
/// ```
/// use dimse_core::dimse::{CMoveRq, DimseMessage, Priority};
/// use dimse_core::uid;
///
/// let rq = CMoveRq::new(4, uid::PATIENT_ROOT_QR_MOVE, "STORESCP", Priority::High);
/// assert_eq!(CMoveRq::from_command(&rq.to_command()).unwrap(), rq);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CMoveRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// Priority (0000,0700).
    pub priority: Priority,
    /// AffectedSOPClassUID (0000,0002): the retrieve information model.
    pub affected_sop_class_uid: String,
    /// MoveDestination (0000,0600): AE title to send the instances to.
    pub move_destination: String,
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

impl DimseMessage for CMoveRq {
    const COMMAND_FIELD: u16 = cf::C_MOVE_RQ;

    fn has_data_set(&self) -> bool {
        true
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, &self.affected_sop_class_uid);
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
        cmd.set_str(tags::MOVE_DESTINATION, &self.move_destination);
        cmd.set_u16(tags::PRIORITY, self.priority.to_wire());
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CMoveRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            priority: r.priority()?,
            affected_sop_class_uid: r.str(tags::AFFECTED_SOP_CLASS_UID)?,
            move_destination: r.ae(tags::MOVE_DESTINATION)?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        Some(&self.affected_sop_class_uid)
    }
}

/// C-MOVE-RSP (PS3.7 §9.3.4.2): the same elements as [`CGetRsp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CMoveRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
    pub affected_sop_class_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// Sub-operation counters (0000,1020)–(0000,1023).
    pub sub_operations: SubOperations,
    /// OffendingElement (0000,0901) as `u32` tags; empty = element absent.
    pub offending_element: Vec<u32>,
    /// ErrorComment (0000,0902).
    pub error_comment: Option<String>,
    /// Whether an Identifier follows (optional; it carries the Failed SOP Instance UID List in
    /// Cancel, Failure and Warning responses).
    pub has_data_set: bool,
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

impl DimseMessage for CMoveRsp {
    const COMMAND_FIELD: u16 = cf::C_MOVE_RSP;

    fn has_data_set(&self) -> bool {
        self.has_data_set
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        set_opt_uid(
            cmd,
            tags::AFFECTED_SOP_CLASS_UID,
            &self.affected_sop_class_uid,
        );
        write_rsp_head(cmd, self.message_id_being_responded_to, self.status);
        self.sub_operations.write(cmd);
        set_opt_tags(cmd, tags::OFFENDING_ELEMENT, &self.offending_element);
        set_opt_str(cmd, tags::ERROR_COMMENT, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CMoveRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid: r.opt_str(tags::AFFECTED_SOP_CLASS_UID)?,
            status: r.status()?,
            sub_operations: SubOperations::read(&r)?,
            offending_element: r.opt_tags(tags::OFFENDING_ELEMENT)?,
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
// C-CANCEL
// ---------------------------------------------------------------------------------------------

/// C-CANCEL-RQ (PS3.7 §9.3.2.3): asks the SCP to stop a C-FIND, C-GET or C-MOVE.
///
/// It has no MessageID and no SOP class, only the MessageID of the operation to cancel, and no
/// response of its own: the SCP ends the cancelled operation with status 0xFE00 (or finishes
/// normally if it was already done).
///
/// ```
/// use dimse_core::dimse::{CCancelRq, DimseMessage, Message};
///
/// let cancel = Message::from(CCancelRq::new(5));
/// assert_eq!(cancel.responded_to(), Some(5));
/// assert_eq!(cancel.message_id(), None);
/// assert!(!cancel.has_data_set());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CCancelRq {
    /// MessageIDBeingRespondedTo (0000,0120): MessageID of the request to cancel.
    pub message_id_being_responded_to: u16,
}

impl CCancelRq {
    /// A C-CANCEL-RQ for the request with MessageID `message_id`.
    pub fn new(message_id: u16) -> Self {
        CCancelRq {
            message_id_being_responded_to: message_id,
        }
    }
}

impl DimseMessage for CCancelRq {
    const COMMAND_FIELD: u16 = cf::C_CANCEL_RQ;

    fn has_data_set(&self) -> bool {
        false
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        cmd.set_u16(
            tags::MESSAGE_ID_BEING_RESPONDED_TO,
            self.message_id_being_responded_to,
        );
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CCancelRq {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
        })
    }

    fn responded_to(&self) -> Option<u16> {
        Some(self.message_id_being_responded_to)
    }
}
