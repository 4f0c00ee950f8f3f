//! DIMSE (PS3.7): command sets, typed messages and status codes.
//!
//! A DIMSE message is a command set (group 0000, always Implicit VR Little Endian) optionally
//! followed by a data set in the presentation context's transfer syntax. [`CommandSet`] is the
//! lossless wire form; [`Message`] is the typed view for the message types this library knows,
//! falling back to [`Message::Other`] for the rest so that nothing received is lost.
//!
//! ```
//! use bytes::BytesMut;
//! use dimse_core::dimse::{CEchoRq, CommandSet, DimseMessage, Message};
//!
//! let rq = CEchoRq::new(7);
//! let mut wire = BytesMut::new();
//! rq.to_command().encode(&mut wire);
//!
//! let received = Message::from_command(CommandSet::decode(&wire).unwrap()).unwrap();
//! assert_eq!(received, Message::CEchoRq(rq));
//! assert_eq!(received.message_id(), Some(7));
//! assert!(!received.has_data_set());
//! ```
//!
//! Adding a message type takes one struct, one [`DimseMessage`] impl and one line in the
//! `messages!` list in `message.rs`; [`Message`] and its accessors follow from those. C-ECHO
//! and C-STORE live in `message.rs`, the other composite services in `messages_c.rs`, the
//! normalized (N-) services in `messages_n.rs`.

mod command;
mod message;
mod messages_c;
mod messages_n;
mod status;

pub use command::{CommandError, CommandSet};
pub use message::{CEchoRq, CEchoRsp, CStoreRq, CStoreRsp, DimseMessage, Message};
pub use messages_c::{
    CCancelRq, CFindRq, CFindRsp, CGetRq, CGetRsp, CMoveRq, CMoveRsp, SubOperations,
};
pub use messages_n::{
    NActionRq, NActionRsp, NCreateRq, NCreateRsp, NDeleteRq, NDeleteRsp, NEventReportRq,
    NEventReportRsp, NGetRq, NGetRsp, NSetRq, NSetRsp,
};
pub use status::{Status, StatusClass};

/// Tags of the command elements of PS3.7 §E.1 (group 0000), as `u32` (`group << 16 | element`).
pub mod tags {
    /// (0000,0000) CommandGroupLength, UL: bytes after this element to the end of the command.
    pub const COMMAND_GROUP_LENGTH: u32 = 0x0000_0000;
    /// (0000,0002) AffectedSOPClassUID, UI.
    pub const AFFECTED_SOP_CLASS_UID: u32 = 0x0000_0002;
    /// (0000,0003) RequestedSOPClassUID, UI (N-GET/SET/ACTION/DELETE requests).
    pub const REQUESTED_SOP_CLASS_UID: u32 = 0x0000_0003;
    /// (0000,0100) CommandField, US: see [`super::command_field`].
    pub const COMMAND_FIELD: u32 = 0x0000_0100;
    /// (0000,0110) MessageID, US.
    pub const MESSAGE_ID: u32 = 0x0000_0110;
    /// (0000,0120) MessageIDBeingRespondedTo, US.
    pub const MESSAGE_ID_BEING_RESPONDED_TO: u32 = 0x0000_0120;
    /// (0000,0600) MoveDestination, AE.
    pub const MOVE_DESTINATION: u32 = 0x0000_0600;
    /// (0000,0700) Priority, US: see [`super::Priority`].
    pub const PRIORITY: u32 = 0x0000_0700;
    /// (0000,0800) CommandDataSetType, US: 0x0101 = no data set, anything else = data set.
    pub const COMMAND_DATA_SET_TYPE: u32 = 0x0000_0800;
    /// (0000,0900) Status, US.
    pub const STATUS: u32 = 0x0000_0900;
    /// (0000,0901) OffendingElement, AT (1-n).
    pub const OFFENDING_ELEMENT: u32 = 0x0000_0901;
    /// (0000,0902) ErrorComment, LO.
    pub const ERROR_COMMENT: u32 = 0x0000_0902;
    /// (0000,0903) ErrorID, US.
    pub const ERROR_ID: u32 = 0x0000_0903;
    /// (0000,1000) AffectedSOPInstanceUID, UI.
    pub const AFFECTED_SOP_INSTANCE_UID: u32 = 0x0000_1000;
    /// (0000,1001) RequestedSOPInstanceUID, UI.
    pub const REQUESTED_SOP_INSTANCE_UID: u32 = 0x0000_1001;
    /// (0000,1002) EventTypeID, US (N-EVENT-REPORT).
    pub const EVENT_TYPE_ID: u32 = 0x0000_1002;
    /// (0000,1005) AttributeIdentifierList, AT (1-n).
    pub const ATTRIBUTE_IDENTIFIER_LIST: u32 = 0x0000_1005;
    /// (0000,1008) ActionTypeID, US (N-ACTION).
    pub const ACTION_TYPE_ID: u32 = 0x0000_1008;
    /// (0000,1020) NumberOfRemainingSuboperations, US.
    pub const NUMBER_OF_REMAINING_SUBOPERATIONS: u32 = 0x0000_1020;
    /// (0000,1021) NumberOfCompletedSuboperations, US.
    pub const NUMBER_OF_COMPLETED_SUBOPERATIONS: u32 = 0x0000_1021;
    /// (0000,1022) NumberOfFailedSuboperations, US.
    pub const NUMBER_OF_FAILED_SUBOPERATIONS: u32 = 0x0000_1022;
    /// (0000,1023) NumberOfWarningSuboperations, US.
    pub const NUMBER_OF_WARNING_SUBOPERATIONS: u32 = 0x0000_1023;
    /// (0000,1030) MoveOriginatorApplicationEntityTitle, AE.
    pub const MOVE_ORIGINATOR_AE_TITLE: u32 = 0x0000_1030;
    /// (0000,1031) MoveOriginatorMessageID, US.
    pub const MOVE_ORIGINATOR_MESSAGE_ID: u32 = 0x0000_1031;

    /// The keyword of a (non-retired) command element, for error messages and logs.
    ///
    /// ```
    /// use dimse_core::dimse::tags;
    /// assert_eq!(tags::name(tags::MESSAGE_ID), Some("MessageID"));
    /// assert_eq!(tags::name(0x0000_4000), None);
    /// ```
    pub fn name(tag: u32) -> Option<&'static str> {
        Some(match tag {
            COMMAND_GROUP_LENGTH => "CommandGroupLength",
            AFFECTED_SOP_CLASS_UID => "AffectedSOPClassUID",
            REQUESTED_SOP_CLASS_UID => "RequestedSOPClassUID",
            COMMAND_FIELD => "CommandField",
            MESSAGE_ID => "MessageID",
            MESSAGE_ID_BEING_RESPONDED_TO => "MessageIDBeingRespondedTo",
            MOVE_DESTINATION => "MoveDestination",
            PRIORITY => "Priority",
            COMMAND_DATA_SET_TYPE => "CommandDataSetType",
            STATUS => "Status",
            OFFENDING_ELEMENT => "OffendingElement",
            ERROR_COMMENT => "ErrorComment",
            ERROR_ID => "ErrorID",
            AFFECTED_SOP_INSTANCE_UID => "AffectedSOPInstanceUID",
            REQUESTED_SOP_INSTANCE_UID => "RequestedSOPInstanceUID",
            EVENT_TYPE_ID => "EventTypeID",
            ATTRIBUTE_IDENTIFIER_LIST => "AttributeIdentifierList",
            ACTION_TYPE_ID => "ActionTypeID",
            NUMBER_OF_REMAINING_SUBOPERATIONS => "NumberOfRemainingSuboperations",
            NUMBER_OF_COMPLETED_SUBOPERATIONS => "NumberOfCompletedSuboperations",
            NUMBER_OF_FAILED_SUBOPERATIONS => "NumberOfFailedSuboperations",
            NUMBER_OF_WARNING_SUBOPERATIONS => "NumberOfWarningSuboperations",
            MOVE_ORIGINATOR_AE_TITLE => "MoveOriginatorApplicationEntityTitle",
            MOVE_ORIGINATOR_MESSAGE_ID => "MoveOriginatorMessageID",
            _ => return None,
        })
    }
}

/// CommandField (0000,0100) values, PS3.7 §E.1 (23 of them). A response is its request | 0x8000.
pub mod command_field {
    /// C-STORE-RQ
    pub const C_STORE_RQ: u16 = 0x0001;
    /// C-STORE-RSP
    pub const C_STORE_RSP: u16 = 0x8001;
    /// C-GET-RQ
    pub const C_GET_RQ: u16 = 0x0010;
    /// C-GET-RSP
    pub const C_GET_RSP: u16 = 0x8010;
    /// C-FIND-RQ
    pub const C_FIND_RQ: u16 = 0x0020;
    /// C-FIND-RSP
    pub const C_FIND_RSP: u16 = 0x8020;
    /// C-MOVE-RQ
    pub const C_MOVE_RQ: u16 = 0x0021;
    /// C-MOVE-RSP
    pub const C_MOVE_RSP: u16 = 0x8021;
    /// C-ECHO-RQ
    pub const C_ECHO_RQ: u16 = 0x0030;
    /// C-ECHO-RSP
    pub const C_ECHO_RSP: u16 = 0x8030;
    /// N-EVENT-REPORT-RQ
    pub const N_EVENT_REPORT_RQ: u16 = 0x0100;
    /// N-EVENT-REPORT-RSP
    pub const N_EVENT_REPORT_RSP: u16 = 0x8100;
    /// N-GET-RQ
    pub const N_GET_RQ: u16 = 0x0110;
    /// N-GET-RSP
    pub const N_GET_RSP: u16 = 0x8110;
    /// N-SET-RQ
    pub const N_SET_RQ: u16 = 0x0120;
    /// N-SET-RSP
    pub const N_SET_RSP: u16 = 0x8120;
    /// N-ACTION-RQ
    pub const N_ACTION_RQ: u16 = 0x0130;
    /// N-ACTION-RSP
    pub const N_ACTION_RSP: u16 = 0x8130;
    /// N-CREATE-RQ
    pub const N_CREATE_RQ: u16 = 0x0140;
    /// N-CREATE-RSP
    pub const N_CREATE_RSP: u16 = 0x8140;
    /// N-DELETE-RQ
    pub const N_DELETE_RQ: u16 = 0x0150;
    /// N-DELETE-RSP
    pub const N_DELETE_RSP: u16 = 0x8150;
    /// C-CANCEL-RQ (no response exists).
    pub const C_CANCEL_RQ: u16 = 0x0FFF;

    /// All 23 standard values, requests and responses.
    pub const ALL: [u16; 23] = [
        C_STORE_RQ,
        C_STORE_RSP,
        C_GET_RQ,
        C_GET_RSP,
        C_FIND_RQ,
        C_FIND_RSP,
        C_MOVE_RQ,
        C_MOVE_RSP,
        C_ECHO_RQ,
        C_ECHO_RSP,
        N_EVENT_REPORT_RQ,
        N_EVENT_REPORT_RSP,
        N_GET_RQ,
        N_GET_RSP,
        N_SET_RQ,
        N_SET_RSP,
        N_ACTION_RQ,
        N_ACTION_RSP,
        N_CREATE_RQ,
        N_CREATE_RSP,
        N_DELETE_RQ,
        N_DELETE_RSP,
        C_CANCEL_RQ,
    ];

    /// Whether `field` is a response (high bit set). C-CANCEL-RQ is a request.
    pub fn is_response(field: u16) -> bool {
        field & 0x8000 != 0
    }
}

/// The name of a command field value, such as `"C-STORE-RQ"`; `"unknown"` for others.
///
/// ```
/// use dimse_core::dimse::{command_field, command_name};
/// assert_eq!(command_name(command_field::C_ECHO_RSP), "C-ECHO-RSP");
/// assert_eq!(command_name(0x1234), "unknown");
/// ```
pub fn command_name(field: u16) -> &'static str {
    use command_field::*;
    match field {
        C_STORE_RQ => "C-STORE-RQ",
        C_STORE_RSP => "C-STORE-RSP",
        C_GET_RQ => "C-GET-RQ",
        C_GET_RSP => "C-GET-RSP",
        C_FIND_RQ => "C-FIND-RQ",
        C_FIND_RSP => "C-FIND-RSP",
        C_MOVE_RQ => "C-MOVE-RQ",
        C_MOVE_RSP => "C-MOVE-RSP",
        C_ECHO_RQ => "C-ECHO-RQ",
        C_ECHO_RSP => "C-ECHO-RSP",
        N_EVENT_REPORT_RQ => "N-EVENT-REPORT-RQ",
        N_EVENT_REPORT_RSP => "N-EVENT-REPORT-RSP",
        N_GET_RQ => "N-GET-RQ",
        N_GET_RSP => "N-GET-RSP",
        N_SET_RQ => "N-SET-RQ",
        N_SET_RSP => "N-SET-RSP",
        N_ACTION_RQ => "N-ACTION-RQ",
        N_ACTION_RSP => "N-ACTION-RSP",
        N_CREATE_RQ => "N-CREATE-RQ",
        N_CREATE_RSP => "N-CREATE-RSP",
        N_DELETE_RQ => "N-DELETE-RQ",
        N_DELETE_RSP => "N-DELETE-RSP",
        C_CANCEL_RQ => "C-CANCEL-RQ",
        _ => "unknown",
    }
}

/// CommandDataSetType value meaning "no data set follows".
pub const DATA_SET_ABSENT: u16 = 0x0101;
/// CommandDataSetType value this library sends when a data set follows (as DCMTK and
/// pynetdicom do); on receipt any value other than [`DATA_SET_ABSENT`] means present.
pub const DATA_SET_PRESENT: u16 = 0x0001;

/// Priority (0000,0700) of C-STORE, C-FIND, C-GET and C-MOVE requests.
///
/// ```
/// use dimse_core::dimse::Priority;
/// assert_eq!(Priority::High.to_wire(), 1);
/// assert_eq!(Priority::from_wire(2), Some(Priority::Low));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    /// LOW, wire value 0x0002.
    Low,
    /// MEDIUM, wire value 0x0000.
    #[default]
    Medium,
    /// HIGH, wire value 0x0001.
    High,
}

impl Priority {
    /// The wire value (the order is not numeric: MEDIUM is 0).
    pub fn to_wire(self) -> u16 {
        match self {
            Priority::Low => 0x0002,
            Priority::Medium => 0x0000,
            Priority::High => 0x0001,
        }
    }

    /// The priority of a wire value; `None` for values other than 0, 1 and 2.
    pub fn from_wire(value: u16) -> Option<Priority> {
        match value {
            0x0002 => Some(Priority::Low),
            0x0000 => Some(Priority::Medium),
            0x0001 => Some(Priority::High),
            _ => None,
        }
    }
}

/// Hands out Message IDs for requests: 1, 2, …, 65535, then 1 again (0 is never used, so it can
/// stay free as a "none" marker in logs and tables).
///
/// ```
/// use dimse_core::dimse::MessageIdAllocator;
/// let mut ids = MessageIdAllocator::starting_at(65535);
/// assert_eq!(ids.next(), 65535);
/// assert_eq!(ids.next(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct MessageIdAllocator {
    next: u16,
}

impl MessageIdAllocator {
    /// An allocator whose first ID is 1.
    pub fn new() -> Self {
        Self { next: 1 }
    }

    /// An allocator whose first ID is `first` (0 is taken as 1).
    pub fn starting_at(first: u16) -> Self {
        Self { next: first.max(1) }
    }

    /// The next Message ID.
    // Not an Iterator: the sequence never ends, and `Option` would only add unwraps.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u16 {
        let id = self.next;
        self.next = if id == u16::MAX { 1 } else { id + 1 };
        id
    }

    /// The ID [`next`](Self::next) will return, without taking it.
    pub fn peek(&self) -> u16 {
        self.next
    }
}

impl Default for MessageIdAllocator {
    fn default() -> Self {
        Self::new()
    }
}
