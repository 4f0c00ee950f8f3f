//! The DIMSE messages of PS3.7 §9.3 and §10.3, each declared once: name, command field,
//! whether a data set follows, and its command elements with tag, kind and usage (M, U or C as
//! in the standard's tables). Everything else about a message is generated from its entry by
//! `messages!` (`message.rs`); constructors live in `messages_c.rs` and `messages_n.rs`.
//!
//! A field with usage M is required on receipt (a missing one is an error naming it); U and C
//! fields are `Option`s (or empty `Vec`s) left out when not set. Where the data set is optional
//! or conditional, `has_data_set` records what CommandDataSetType announced: the framing
//! depends on what the peer announced, not on what the standard says it should have.

use super::command::CommandError;
use super::field::{
    field_type, read_field, set_opt_str, set_opt_tags, set_opt_u16, set_opt_uid, write_field,
    Reader,
};
use super::message::{data_rule, find_field, messages, DimseMessage};
use super::{tags, CommandSet, Status, DATA_SET_ABSENT};

messages! {
    /// C-STORE-RQ (PS3.7 §9.3.1.1); the SOP instance follows as the data set.
    CStoreRq = C_STORE_RQ 0x0001 "C-STORE-RQ", data: always {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// Priority (0000,0700).
        priority: M priority @ PRIORITY,
        /// AffectedSOPClassUID (0000,0002).
        affected_sop_class_uid: M uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000).
        affected_sop_instance_uid: M uid @ AFFECTED_SOP_INSTANCE_UID,
        /// MoveOriginatorApplicationEntityTitle (0000,1030): the AE that issued the C-MOVE this
        /// store is a sub-operation of (not the storing AE itself).
        move_originator_ae_title: U ae @ MOVE_ORIGINATOR_AE_TITLE,
        /// MoveOriginatorMessageID (0000,1031): MessageID of that C-MOVE-RQ.
        move_originator_message_id: U u16 @ MOVE_ORIGINATOR_MESSAGE_ID,
    }

    /// C-STORE-RSP (PS3.7 §9.3.1.2), no data set.
    CStoreRsp = C_STORE_RSP 0x8001 "C-STORE-RSP", data: never {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000), optional; equal to the request's when present.
        affected_sop_instance_uid: U uid @ AFFECTED_SOP_INSTANCE_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// OffendingElement (0000,0901) as tags; empty = element absent.
        offending_element: U tags @ OFFENDING_ELEMENT,
        /// ErrorComment (0000,0902).
        error_comment: U str @ ERROR_COMMENT,
    }

    /// C-GET-RQ (PS3.7 §9.3.3.1); the Identifier (what to retrieve) follows as the data set.
    /// The instances come back as C-STORE sub-operations on the same association.
    CGetRq = C_GET_RQ 0x0010 "C-GET-RQ", data: always {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// Priority (0000,0700).
        priority: M priority @ PRIORITY,
        /// AffectedSOPClassUID (0000,0002): the retrieve information model.
        affected_sop_class_uid: M uid @ AFFECTED_SOP_CLASS_UID,
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
    CGetRsp = C_GET_RSP 0x8010 "C-GET-RSP", data: announced {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// Sub-operation counters (0000,1020)–(0000,1023).
        sub_operations: C counts,
        /// OffendingElement (0000,0901) as tags; empty = element absent.
        offending_element: U tags @ OFFENDING_ELEMENT,
        /// ErrorComment (0000,0902).
        error_comment: U str @ ERROR_COMMENT,
        /// Whether an Identifier follows (optional; it carries the Failed SOP Instance UID List in
        /// Cancel, Failure and Warning responses).
        has_data_set: U data,
    }

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
    CFindRq = C_FIND_RQ 0x0020 "C-FIND-RQ", data: always {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// Priority (0000,0700).
        priority: M priority @ PRIORITY,
        /// AffectedSOPClassUID (0000,0002): the query/retrieve or worklist information model.
        affected_sop_class_uid: M uid @ AFFECTED_SOP_CLASS_UID,
    }

    /// C-FIND-RSP (PS3.7 §9.3.2.2); a Pending response carries one match as its Identifier.
    CFindRsp = C_FIND_RSP 0x8020 "C-FIND-RSP", data: announced {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// OffendingElement (0000,0901) as tags; empty = element absent.
        offending_element: U tags @ OFFENDING_ELEMENT,
        /// ErrorComment (0000,0902).
        error_comment: U str @ ERROR_COMMENT,
        /// Whether an Identifier follows. The standard wants one exactly when the status is
        /// Pending; a received value is kept as announced, because it decides the framing.
        has_data_set: U data,
    }

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
    CMoveRq = C_MOVE_RQ 0x0021 "C-MOVE-RQ", data: always {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// Priority (0000,0700).
        priority: M priority @ PRIORITY,
        /// AffectedSOPClassUID (0000,0002): the retrieve information model.
        affected_sop_class_uid: M uid @ AFFECTED_SOP_CLASS_UID,
        /// MoveDestination (0000,0600): AE title to send the instances to.
        move_destination: M ae @ MOVE_DESTINATION,
    }

    /// C-MOVE-RSP (PS3.7 §9.3.4.2): the same elements as [`CGetRsp`].
    CMoveRsp = C_MOVE_RSP 0x8021 "C-MOVE-RSP", data: announced {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// Sub-operation counters (0000,1020)–(0000,1023).
        sub_operations: C counts,
        /// OffendingElement (0000,0901) as tags; empty = element absent.
        offending_element: U tags @ OFFENDING_ELEMENT,
        /// ErrorComment (0000,0902).
        error_comment: U str @ ERROR_COMMENT,
        /// Whether an Identifier follows (optional; it carries the Failed SOP Instance UID List in
        /// Cancel, Failure and Warning responses).
        has_data_set: U data,
    }

    /// C-ECHO-RQ (PS3.7 §9.3.5.1): verification request, no data set.
    CEchoRq = C_ECHO_RQ 0x0030 "C-ECHO-RQ", data: never {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// AffectedSOPClassUID (0000,0002), normally the Verification SOP class.
        affected_sop_class_uid: M uid @ AFFECTED_SOP_CLASS_UID,
    }

    /// C-ECHO-RSP (PS3.7 §9.3.5.2), no data set.
    CEchoRsp = C_ECHO_RSP 0x8030 "C-ECHO-RSP", data: never {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// ErrorComment (0000,0902), optional free text.
        error_comment: U str @ ERROR_COMMENT,
    }

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
    NEventReportRq = N_EVENT_REPORT_RQ 0x0100 "N-EVENT-REPORT-RQ", data: announced {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// AffectedSOPClassUID (0000,0002).
        affected_sop_class_uid: M uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000).
        affected_sop_instance_uid: M uid @ AFFECTED_SOP_INSTANCE_UID,
        /// EventTypeID (0000,1002), defined by the SOP class.
        event_type_id: M u16 @ EVENT_TYPE_ID,
        /// Whether Event Information follows (optional).
        has_data_set: U data,
    }

    /// N-EVENT-REPORT-RSP (PS3.7 §10.3.1.2), with an optional Event Reply data set.
    NEventReportRsp = N_EVENT_REPORT_RSP 0x8100 "N-EVENT-REPORT-RSP", data: announced {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000), optional; equal to the request's when present.
        affected_sop_instance_uid: U uid @ AFFECTED_SOP_INSTANCE_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// EventTypeID (0000,1002), conditional; equal to the request's when present.
        event_type_id: C u16 @ EVENT_TYPE_ID,
        /// ErrorID (0000,0903), conditional.
        error_id: U u16 @ ERROR_ID,
        /// ErrorComment (0000,0902), conditional.
        error_comment: U str @ ERROR_COMMENT,
        /// Whether an Event Reply follows (conditional on the SOP class).
        has_data_set: C data,
    }

    /// N-GET-RQ (PS3.7 §10.3.2.1): reads attributes of an instance; no data set.
    ///
    /// ```
    /// use dimse_core::dataset::Tag;
    /// use dimse_core::dimse::{DimseMessage, NGetRq};
    ///
    /// let mut rq = NGetRq::new(3, "1.2.840.10008.5.1.1.16", "1.2.840.10008.5.1.1.17");
    /// rq.attribute_identifier_list = vec![Tag::parse("PrinterStatus").unwrap()];
    /// assert_eq!(NGetRq::from_command(&rq.to_command()).unwrap(), rq);
    /// assert!(!rq.has_data_set());
    /// ```
    NGetRq = N_GET_RQ 0x0110 "N-GET-RQ", data: never {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// RequestedSOPClassUID (0000,0003).
        requested_sop_class_uid: M uid @ REQUESTED_SOP_CLASS_UID,
        /// RequestedSOPInstanceUID (0000,1001).
        requested_sop_instance_uid: M uid @ REQUESTED_SOP_INSTANCE_UID,
        /// AttributeIdentifierList (0000,1005) as tags; empty = absent = all attributes.
        attribute_identifier_list: U tags @ ATTRIBUTE_IDENTIFIER_LIST,
    }

    /// N-GET-RSP (PS3.7 §10.3.2.2), with the Attribute List as the (conditional) data set.
    NGetRsp = N_GET_RSP 0x8110 "N-GET-RSP", data: announced {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000), optional.
        affected_sop_instance_uid: U uid @ AFFECTED_SOP_INSTANCE_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// AttributeIdentifierList (0000,1005), conditional: attributes in error; empty = absent.
        attribute_identifier_list: U tags @ ATTRIBUTE_IDENTIFIER_LIST,
        /// ErrorID (0000,0903), conditional.
        error_id: U u16 @ ERROR_ID,
        /// ErrorComment (0000,0902), conditional.
        error_comment: U str @ ERROR_COMMENT,
        /// Whether the Attribute List follows (expected on success and warning).
        has_data_set: U data,
    }

    /// N-SET-RQ (PS3.7 §10.3.3.1): modifies an instance; the Modification List follows as the
    /// data set.
    NSetRq = N_SET_RQ 0x0120 "N-SET-RQ", data: always {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// RequestedSOPClassUID (0000,0003).
        requested_sop_class_uid: M uid @ REQUESTED_SOP_CLASS_UID,
        /// RequestedSOPInstanceUID (0000,1001).
        requested_sop_instance_uid: M uid @ REQUESTED_SOP_INSTANCE_UID,
    }

    /// N-SET-RSP (PS3.7 §10.3.3.2), with an optional Attribute List data set.
    NSetRsp = N_SET_RSP 0x8120 "N-SET-RSP", data: announced {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000), optional.
        affected_sop_instance_uid: U uid @ AFFECTED_SOP_INSTANCE_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// AttributeIdentifierList (0000,1005), conditional: attributes in error; empty = absent.
        attribute_identifier_list: U tags @ ATTRIBUTE_IDENTIFIER_LIST,
        /// ErrorID (0000,0903), conditional.
        error_id: U u16 @ ERROR_ID,
        /// ErrorComment (0000,0902), conditional.
        error_comment: U str @ ERROR_COMMENT,
        /// Whether an Attribute List follows (optional).
        has_data_set: U data,
    }

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
    NActionRq = N_ACTION_RQ 0x0130 "N-ACTION-RQ", data: announced {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// RequestedSOPClassUID (0000,0003).
        requested_sop_class_uid: M uid @ REQUESTED_SOP_CLASS_UID,
        /// RequestedSOPInstanceUID (0000,1001).
        requested_sop_instance_uid: M uid @ REQUESTED_SOP_INSTANCE_UID,
        /// ActionTypeID (0000,1008), defined by the SOP class.
        action_type_id: M u16 @ ACTION_TYPE_ID,
        /// Whether Action Information follows (optional).
        has_data_set: U data,
    }

    /// N-ACTION-RSP (PS3.7 §10.3.4.2), with an optional Action Reply data set.
    NActionRsp = N_ACTION_RSP 0x8130 "N-ACTION-RSP", data: announced {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000), optional.
        affected_sop_instance_uid: U uid @ AFFECTED_SOP_INSTANCE_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// ActionTypeID (0000,1008), conditional; equal to the request's when present.
        action_type_id: C u16 @ ACTION_TYPE_ID,
        /// ErrorID (0000,0903), conditional.
        error_id: U u16 @ ERROR_ID,
        /// ErrorComment (0000,0902), conditional.
        error_comment: U str @ ERROR_COMMENT,
        /// Whether an Action Reply follows (conditional on the SOP class).
        has_data_set: C data,
    }

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
    NCreateRq = N_CREATE_RQ 0x0140 "N-CREATE-RQ", data: announced {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// AffectedSOPClassUID (0000,0002).
        affected_sop_class_uid: M uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000), optional: the SCP assigns one when absent.
        affected_sop_instance_uid: U uid @ AFFECTED_SOP_INSTANCE_UID,
        /// Whether an Attribute List follows (optional).
        has_data_set: U data,
    }

    /// N-CREATE-RSP (PS3.7 §10.3.5.2), with an optional Attribute List data set.
    NCreateRsp = N_CREATE_RSP 0x8140 "N-CREATE-RSP", data: announced {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000), conditional: needed when the SCP chose the UID.
        affected_sop_instance_uid: U uid @ AFFECTED_SOP_INSTANCE_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// ErrorID (0000,0903), conditional.
        error_id: U u16 @ ERROR_ID,
        /// ErrorComment (0000,0902), conditional.
        error_comment: U str @ ERROR_COMMENT,
        /// Whether an Attribute List follows (optional).
        has_data_set: U data,
    }

    /// N-DELETE-RQ (PS3.7 §10.3.6.1): deletes an instance; no data set.
    NDeleteRq = N_DELETE_RQ 0x0150 "N-DELETE-RQ", data: never {
        /// MessageID (0000,0110).
        message_id: M u16 @ MESSAGE_ID,
        /// RequestedSOPClassUID (0000,0003).
        requested_sop_class_uid: M uid @ REQUESTED_SOP_CLASS_UID,
        /// RequestedSOPInstanceUID (0000,1001).
        requested_sop_instance_uid: M uid @ REQUESTED_SOP_INSTANCE_UID,
    }

    /// N-DELETE-RSP (PS3.7 §10.3.6.2); no data set.
    NDeleteRsp = N_DELETE_RSP 0x8150 "N-DELETE-RSP", data: never {
        /// MessageIDBeingRespondedTo (0000,0120).
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
        /// AffectedSOPClassUID (0000,0002), optional.
        affected_sop_class_uid: U uid @ AFFECTED_SOP_CLASS_UID,
        /// AffectedSOPInstanceUID (0000,1000), optional.
        affected_sop_instance_uid: U uid @ AFFECTED_SOP_INSTANCE_UID,
        /// Status (0000,0900).
        status: M status @ STATUS,
        /// ErrorID (0000,0903), conditional.
        error_id: U u16 @ ERROR_ID,
        /// ErrorComment (0000,0902), conditional.
        error_comment: U str @ ERROR_COMMENT,
    }

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
    CCancelRq = C_CANCEL_RQ 0x0FFF "C-CANCEL-RQ", data: never {
        /// MessageIDBeingRespondedTo (0000,0120): MessageID of the request to cancel.
        message_id_being_responded_to: M u16 @ MESSAGE_ID_BEING_RESPONDED_TO,
    }
}
