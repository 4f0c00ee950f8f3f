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
//! Each message is declared once, in the table of `table.rs` (name, command field, data-set
//! rule, elements with tag, kind and usage); its struct, [`DimseMessage`] impl, command field
//! constant and name, and its place in [`Message`] are generated from that entry. Adding a
//! message type is one entry, plus constructors in `messages_c.rs` or `messages_n.rs`. The
//! modules stack without cycles: `messages_c`/`messages_n` → `table` → `message` (the trait
//! and the macro) → `field` (reads, writes, field kinds) → `command`.

mod command;
mod field;
mod message;
mod messages_c;
mod messages_n;
mod status;
mod suboperations;
mod table;

pub use command::{CommandError, CommandSet};
pub use message::DimseMessage;
pub use status::{Status, StatusClass};
pub use suboperations::SubOperations;
pub use table::{command_field, command_name, Message};
pub use table::{
    CCancelRq, CEchoRq, CEchoRsp, CFindRq, CFindRsp, CGetRq, CGetRsp, CMoveRq, CMoveRsp, CStoreRq,
    CStoreRsp, NActionRq, NActionRsp, NCreateRq, NCreateRsp, NDeleteRq, NDeleteRsp, NEventReportRq,
    NEventReportRsp, NGetRq, NGetRsp, NSetRq, NSetRsp,
};

/// Tags of the command elements of PS3.7 §E.1 (group 0000).
pub mod tags {
    use crate::dataset::Tag;

    /// (0000,0000) CommandGroupLength, UL: bytes after this element to the end of the command.
    pub const COMMAND_GROUP_LENGTH: Tag = Tag(0x0000, 0x0000);
    /// (0000,0002) AffectedSOPClassUID, UI.
    pub const AFFECTED_SOP_CLASS_UID: Tag = Tag(0x0000, 0x0002);
    /// (0000,0003) RequestedSOPClassUID, UI (N-GET/SET/ACTION/DELETE requests).
    pub const REQUESTED_SOP_CLASS_UID: Tag = Tag(0x0000, 0x0003);
    /// (0000,0100) CommandField, US: see [`super::command_field`].
    pub const COMMAND_FIELD: Tag = Tag(0x0000, 0x0100);
    /// (0000,0110) MessageID, US.
    pub const MESSAGE_ID: Tag = Tag(0x0000, 0x0110);
    /// (0000,0120) MessageIDBeingRespondedTo, US.
    pub const MESSAGE_ID_BEING_RESPONDED_TO: Tag = Tag(0x0000, 0x0120);
    /// (0000,0600) MoveDestination, AE.
    pub const MOVE_DESTINATION: Tag = Tag(0x0000, 0x0600);
    /// (0000,0700) Priority, US: see [`super::Priority`].
    pub const PRIORITY: Tag = Tag(0x0000, 0x0700);
    /// (0000,0800) CommandDataSetType, US: 0x0101 = no data set, anything else = data set.
    pub const COMMAND_DATA_SET_TYPE: Tag = Tag(0x0000, 0x0800);
    /// (0000,0900) Status, US.
    pub const STATUS: Tag = Tag(0x0000, 0x0900);
    /// (0000,0901) OffendingElement, AT (1-n).
    pub const OFFENDING_ELEMENT: Tag = Tag(0x0000, 0x0901);
    /// (0000,0902) ErrorComment, LO.
    pub const ERROR_COMMENT: Tag = Tag(0x0000, 0x0902);
    /// (0000,0903) ErrorID, US.
    pub const ERROR_ID: Tag = Tag(0x0000, 0x0903);
    /// (0000,1000) AffectedSOPInstanceUID, UI.
    pub const AFFECTED_SOP_INSTANCE_UID: Tag = Tag(0x0000, 0x1000);
    /// (0000,1001) RequestedSOPInstanceUID, UI.
    pub const REQUESTED_SOP_INSTANCE_UID: Tag = Tag(0x0000, 0x1001);
    /// (0000,1002) EventTypeID, US (N-EVENT-REPORT).
    pub const EVENT_TYPE_ID: Tag = Tag(0x0000, 0x1002);
    /// (0000,1005) AttributeIdentifierList, AT (1-n).
    pub const ATTRIBUTE_IDENTIFIER_LIST: Tag = Tag(0x0000, 0x1005);
    /// (0000,1008) ActionTypeID, US (N-ACTION).
    pub const ACTION_TYPE_ID: Tag = Tag(0x0000, 0x1008);
    /// (0000,1020) NumberOfRemainingSuboperations, US.
    pub const NUMBER_OF_REMAINING_SUBOPERATIONS: Tag = Tag(0x0000, 0x1020);
    /// (0000,1021) NumberOfCompletedSuboperations, US.
    pub const NUMBER_OF_COMPLETED_SUBOPERATIONS: Tag = Tag(0x0000, 0x1021);
    /// (0000,1022) NumberOfFailedSuboperations, US.
    pub const NUMBER_OF_FAILED_SUBOPERATIONS: Tag = Tag(0x0000, 0x1022);
    /// (0000,1023) NumberOfWarningSuboperations, US.
    pub const NUMBER_OF_WARNING_SUBOPERATIONS: Tag = Tag(0x0000, 0x1023);
    /// (0000,1030) MoveOriginatorApplicationEntityTitle, AE.
    pub const MOVE_ORIGINATOR_AE_TITLE: Tag = Tag(0x0000, 0x1030);
    /// (0000,1031) MoveOriginatorMessageID, US.
    pub const MOVE_ORIGINATOR_MESSAGE_ID: Tag = Tag(0x0000, 0x1031);

    /// The keyword of a (non-retired) command element, for error messages and logs.
    ///
    /// ```
    /// use dimse_core::dimse::tags;
    /// assert_eq!(tags::name(tags::MESSAGE_ID), Some("MessageID"));
    /// assert_eq!(tags::name(dimse_core::dataset::Tag(0x0000, 0x4000)), None);
    /// ```
    pub fn name(tag: Tag) -> Option<&'static str> {
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
