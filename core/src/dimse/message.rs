use super::command::CommandError;
use super::messages_c::{CCancelRq, CFindRq, CFindRsp, CGetRq, CGetRsp, CMoveRq, CMoveRsp};
use super::messages_n::{
    NActionRq, NActionRsp, NCreateRq, NCreateRsp, NDeleteRq, NDeleteRsp, NEventReportRq,
    NEventReportRsp, NGetRq, NGetRsp, NSetRq, NSetRsp,
};
use super::{
    command_field as cf, command_name, tags, CommandSet, Priority, Status, DATA_SET_ABSENT,
    DATA_SET_PRESENT,
};
use crate::uid;

/// One typed DIMSE message: its command field and its mapping to and from a [`CommandSet`].
///
/// Implementors only map their own elements ([`write_elements`](Self::write_elements),
/// [`read_elements`](Self::read_elements)); CommandField and CommandDataSetType, and the check
/// that a received CommandDataSetType fits the message, are handled by the provided
/// [`to_command`](Self::to_command) and [`from_command`](Self::from_command).
///
/// ```
/// use dimse_core::dimse::{CStoreRq, DimseMessage, Priority, Status, CStoreRsp};
///
/// let rq = CStoreRq::new(3, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", Priority::Medium);
/// let cmd = rq.to_command();
/// assert_eq!(CStoreRq::from_command(&cmd).unwrap(), rq);
/// let rsp = CStoreRsp::for_request(&rq, Status::SUCCESS);
/// assert_eq!(rsp.message_id_being_responded_to, 3);
/// ```
pub trait DimseMessage: Sized {
    /// The CommandField (0000,0100) value of this message type.
    const COMMAND_FIELD: u16;

    /// The message type's name, such as `"C-ECHO-RQ"`.
    fn name() -> &'static str {
        command_name(Self::COMMAND_FIELD)
    }

    /// Whether this message is followed by a data set.
    fn has_data_set(&self) -> bool;

    /// Writes the message-specific elements (not CommandField / CommandDataSetType).
    fn write_elements(&self, cmd: &mut CommandSet);

    /// Reads the message-specific elements; missing required ones are errors naming them.
    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError>;

    /// MessageID (0000,0110) of a request.
    fn message_id(&self) -> Option<u16> {
        None
    }

    /// MessageIDBeingRespondedTo (0000,0120) of a response (or of C-CANCEL-RQ).
    fn responded_to(&self) -> Option<u16> {
        None
    }

    /// Status (0000,0900) of a response.
    fn status(&self) -> Option<Status> {
        None
    }

    /// AffectedSOPClassUID (0000,0002), when the message has it.
    fn affected_sop_class_uid(&self) -> Option<&str> {
        None
    }

    /// The complete command set, CommandField and CommandDataSetType included.
    fn to_command(&self) -> CommandSet {
        let mut cmd = CommandSet::new();
        cmd.set_u16(tags::COMMAND_FIELD, Self::COMMAND_FIELD);
        self.write_elements(&mut cmd);
        let data_set_type = if self.has_data_set() {
            DATA_SET_PRESENT
        } else {
            DATA_SET_ABSENT
        };
        cmd.set_u16(tags::COMMAND_DATA_SET_TYPE, data_set_type);
        cmd
    }

    /// Parses a received command set of this type.
    ///
    /// Checks the command field, requires CommandDataSetType, reads the elements, and rejects a
    /// CommandDataSetType that contradicts the message (e.g. a C-ECHO-RQ announcing a data set),
    /// because the association would otherwise wait for, or stumble over, data PDVs.
    fn from_command(cmd: &CommandSet) -> Result<Self, CommandError> {
        let found = Reader::new(cmd, "command").u16(tags::COMMAND_FIELD)?;
        if found != Self::COMMAND_FIELD {
            return Err(CommandError::WrongCommandField {
                expected: Self::COMMAND_FIELD,
                found,
            });
        }
        let data_set_type = Reader::new(cmd, Self::name()).u16(tags::COMMAND_DATA_SET_TYPE)?;
        let message = Self::read_elements(cmd)?;
        if message.has_data_set() != (data_set_type != DATA_SET_ABSENT) {
            return Err(CommandError::DataSetTypeMismatch {
                command: Self::name(),
                data_set_type,
            });
        }
        Ok(message)
    }
}

/// Typed reads with errors that name the message and the element.
///
/// Shared with the sibling `messages_c` / `messages_n` modules so every message reports missing
/// and malformed elements the same way.
pub(super) struct Reader<'a> {
    cmd: &'a CommandSet,
    command: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(cmd: &'a CommandSet, command: &'static str) -> Self {
        Reader { cmd, command }
    }

    fn missing(&self, tag: u32) -> CommandError {
        CommandError::MissingElement {
            command: self.command,
            tag,
            name: tags::name(tag).unwrap_or("?"),
        }
    }

    fn invalid(&self, tag: u32, reason: &'static str) -> CommandError {
        CommandError::InvalidValue {
            command: self.command,
            tag,
            name: tags::name(tag).unwrap_or("?"),
            reason,
        }
    }

    pub(super) fn opt_u16(&self, tag: u32) -> Result<Option<u16>, CommandError> {
        match self.cmd.get(tag) {
            None => Ok(None),
            Some([a, b]) => Ok(Some(u16::from_le_bytes([*a, *b]))),
            Some(_) => Err(self.invalid(tag, "US value must be 2 bytes")),
        }
    }

    pub(super) fn u16(&self, tag: u32) -> Result<u16, CommandError> {
        self.opt_u16(tag)?.ok_or_else(|| self.missing(tag))
    }

    /// A string with trailing NUL/space padding removed; leading spaces are kept except for AE
    /// values, where PS3.5 makes them insignificant (see [`Self::opt_ae`]).
    pub(super) fn opt_str(&self, tag: u32) -> Result<Option<String>, CommandError> {
        match self.cmd.get(tag) {
            None => Ok(None),
            Some(_) => match self.cmd.get_str(tag) {
                Some(s) => Ok(Some(s.to_string())),
                None => Err(self.invalid(tag, "value is not ASCII/UTF-8 text")),
            },
        }
    }

    pub(super) fn str(&self, tag: u32) -> Result<String, CommandError> {
        self.opt_str(tag)?.ok_or_else(|| self.missing(tag))
    }

    pub(super) fn opt_ae(&self, tag: u32) -> Result<Option<String>, CommandError> {
        Ok(self
            .opt_str(tag)?
            .map(|s| s.trim_start_matches(' ').to_string()))
    }

    pub(super) fn ae(&self, tag: u32) -> Result<String, CommandError> {
        self.opt_ae(tag)?.ok_or_else(|| self.missing(tag))
    }

    /// Whether the received CommandDataSetType announces a data set, for the message types
    /// whose data set is optional or conditional and therefore recorded rather than implied.
    pub(super) fn data_set_present(&self) -> Result<bool, CommandError> {
        Ok(self.u16(tags::COMMAND_DATA_SET_TYPE)? != DATA_SET_ABSENT)
    }

    pub(super) fn opt_tags(&self, tag: u32) -> Result<Vec<u32>, CommandError> {
        match self.cmd.get(tag) {
            None => Ok(Vec::new()),
            Some(_) => self
                .cmd
                .get_tags(tag)
                .ok_or_else(|| self.invalid(tag, "AT value length must be a multiple of 4")),
        }
    }

    pub(super) fn status(&self) -> Result<Status, CommandError> {
        self.u16(tags::STATUS).map(Status)
    }

    pub(super) fn priority(&self) -> Result<Priority, CommandError> {
        let v = self.u16(tags::PRIORITY)?;
        Priority::from_wire(v).ok_or_else(|| self.invalid(tags::PRIORITY, "must be 0, 1 or 2"))
    }
}

pub(super) fn set_opt_uid(cmd: &mut CommandSet, tag: u32, value: &Option<String>) {
    if let Some(v) = value {
        cmd.set_uid(tag, v);
    }
}

pub(super) fn set_opt_str(cmd: &mut CommandSet, tag: u32, value: &Option<String>) {
    if let Some(v) = value {
        cmd.set_str(tag, v);
    }
}

pub(super) fn set_opt_u16(cmd: &mut CommandSet, tag: u32, value: Option<u16>) {
    if let Some(v) = value {
        cmd.set_u16(tag, v);
    }
}

/// Writes the two elements every response carries.
pub(super) fn write_rsp_head(cmd: &mut CommandSet, responded_to: u16, status: Status) {
    cmd.set_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO, responded_to);
    cmd.set_u16(tags::STATUS, status.0);
}

/// AT lists use "empty = absent", so that a zero-length element and a missing one (which mean
/// the same to every receiver) do not become two different typed values.
pub(super) fn set_opt_tags(cmd: &mut CommandSet, tag: u32, value: &[u32]) {
    if !value.is_empty() {
        cmd.set_tags(tag, value);
    }
}

// ---------------------------------------------------------------------------------------------
// C-ECHO
// ---------------------------------------------------------------------------------------------

/// C-ECHO-RQ (PS3.7 §9.3.5.1): verification request, no data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CEchoRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// AffectedSOPClassUID (0000,0002), normally the Verification SOP class.
    pub affected_sop_class_uid: String,
}

impl CEchoRq {
    /// A C-ECHO-RQ for the Verification SOP class.
    pub fn new(message_id: u16) -> Self {
        CEchoRq {
            message_id,
            affected_sop_class_uid: uid::VERIFICATION.to_string(),
        }
    }
}

impl DimseMessage for CEchoRq {
    const COMMAND_FIELD: u16 = cf::C_ECHO_RQ;

    fn has_data_set(&self) -> bool {
        false
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, &self.affected_sop_class_uid);
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CEchoRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
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

/// C-ECHO-RSP (PS3.7 §9.3.5.2), no data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CEchoRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
    pub affected_sop_class_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// ErrorComment (0000,0902), optional free text.
    pub error_comment: Option<String>,
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

impl DimseMessage for CEchoRsp {
    const COMMAND_FIELD: u16 = cf::C_ECHO_RSP;

    fn has_data_set(&self) -> bool {
        false
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        set_opt_uid(
            cmd,
            tags::AFFECTED_SOP_CLASS_UID,
            &self.affected_sop_class_uid,
        );
        cmd.set_u16(
            tags::MESSAGE_ID_BEING_RESPONDED_TO,
            self.message_id_being_responded_to,
        );
        cmd.set_u16(tags::STATUS, self.status.0);
        set_opt_str(cmd, tags::ERROR_COMMENT, &self.error_comment);
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CEchoRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid: r.opt_str(tags::AFFECTED_SOP_CLASS_UID)?,
            status: r.status()?,
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

// ---------------------------------------------------------------------------------------------
// C-STORE
// ---------------------------------------------------------------------------------------------

/// C-STORE-RQ (PS3.7 §9.3.1.1); the SOP instance follows as the data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CStoreRq {
    /// MessageID (0000,0110).
    pub message_id: u16,
    /// Priority (0000,0700).
    pub priority: Priority,
    /// AffectedSOPClassUID (0000,0002).
    pub affected_sop_class_uid: String,
    /// AffectedSOPInstanceUID (0000,1000).
    pub affected_sop_instance_uid: String,
    /// MoveOriginatorApplicationEntityTitle (0000,1030): the AE that issued the C-MOVE this
    /// store is a sub-operation of (not the storing AE itself).
    pub move_originator_ae_title: Option<String>,
    /// MoveOriginatorMessageID (0000,1031): MessageID of that C-MOVE-RQ.
    pub move_originator_message_id: Option<u16>,
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

impl DimseMessage for CStoreRq {
    const COMMAND_FIELD: u16 = cf::C_STORE_RQ;

    fn has_data_set(&self) -> bool {
        true
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, &self.affected_sop_class_uid);
        cmd.set_u16(tags::MESSAGE_ID, self.message_id);
        cmd.set_u16(tags::PRIORITY, self.priority.to_wire());
        cmd.set_uid(
            tags::AFFECTED_SOP_INSTANCE_UID,
            &self.affected_sop_instance_uid,
        );
        set_opt_str(
            cmd,
            tags::MOVE_ORIGINATOR_AE_TITLE,
            &self.move_originator_ae_title,
        );
        if let Some(id) = self.move_originator_message_id {
            cmd.set_u16(tags::MOVE_ORIGINATOR_MESSAGE_ID, id);
        }
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CStoreRq {
            message_id: r.u16(tags::MESSAGE_ID)?,
            priority: r.priority()?,
            affected_sop_class_uid: r.str(tags::AFFECTED_SOP_CLASS_UID)?,
            affected_sop_instance_uid: r.str(tags::AFFECTED_SOP_INSTANCE_UID)?,
            move_originator_ae_title: r.opt_ae(tags::MOVE_ORIGINATOR_AE_TITLE)?,
            move_originator_message_id: r.opt_u16(tags::MOVE_ORIGINATOR_MESSAGE_ID)?,
        })
    }

    fn message_id(&self) -> Option<u16> {
        Some(self.message_id)
    }

    fn affected_sop_class_uid(&self) -> Option<&str> {
        Some(&self.affected_sop_class_uid)
    }
}

/// C-STORE-RSP (PS3.7 §9.3.1.2), no data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CStoreRsp {
    /// MessageIDBeingRespondedTo (0000,0120).
    pub message_id_being_responded_to: u16,
    /// AffectedSOPClassUID (0000,0002), optional; equal to the request's when present.
    pub affected_sop_class_uid: Option<String>,
    /// AffectedSOPInstanceUID (0000,1000), optional; equal to the request's when present.
    pub affected_sop_instance_uid: Option<String>,
    /// Status (0000,0900).
    pub status: Status,
    /// OffendingElement (0000,0901) as `u32` tags; empty = element absent.
    pub offending_element: Vec<u32>,
    /// ErrorComment (0000,0902).
    pub error_comment: Option<String>,
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

impl DimseMessage for CStoreRsp {
    const COMMAND_FIELD: u16 = cf::C_STORE_RSP;

    fn has_data_set(&self) -> bool {
        false
    }

    fn write_elements(&self, cmd: &mut CommandSet) {
        set_opt_uid(
            cmd,
            tags::AFFECTED_SOP_CLASS_UID,
            &self.affected_sop_class_uid,
        );
        cmd.set_u16(
            tags::MESSAGE_ID_BEING_RESPONDED_TO,
            self.message_id_being_responded_to,
        );
        cmd.set_u16(tags::STATUS, self.status.0);
        if !self.offending_element.is_empty() {
            cmd.set_tags(tags::OFFENDING_ELEMENT, &self.offending_element);
        }
        set_opt_str(cmd, tags::ERROR_COMMENT, &self.error_comment);
        set_opt_uid(
            cmd,
            tags::AFFECTED_SOP_INSTANCE_UID,
            &self.affected_sop_instance_uid,
        );
    }

    fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
        let r = Reader::new(cmd, Self::name());
        Ok(CStoreRsp {
            message_id_being_responded_to: r.u16(tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid: r.opt_str(tags::AFFECTED_SOP_CLASS_UID)?,
            affected_sop_instance_uid: r.opt_str(tags::AFFECTED_SOP_INSTANCE_UID)?,
            status: r.status()?,
            offending_element: r.opt_tags(tags::OFFENDING_ELEMENT)?,
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

// ---------------------------------------------------------------------------------------------
// Message
// ---------------------------------------------------------------------------------------------

/// Declares [`Message`] and its dispatching methods from the list of typed message structs.
macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// A received or to-be-sent DIMSE command, typed when this library knows its type.
        ///
        /// Built from a [`CommandSet`] with [`Message::from_command`]; command types without a
        /// typed struct come back as [`Message::Other`] so a receiver can still answer them
        /// (e.g. with status 0x0211 unrecognized operation).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Message {
            $($(#[$doc])* $name($name),)*
            /// A command of a type without a typed struct, kept as received.
            Other(CommandSet),
        }

        $(
            impl From<$name> for Message {
                fn from(m: $name) -> Self {
                    Message::$name(m)
                }
            }
        )*

        impl Message {
            /// Types a received command set by its CommandField.
            ///
            /// Errors: CommandField missing or malformed; for known types, a missing required
            /// element (named in the error), a malformed value, or a CommandDataSetType that
            /// contradicts the type. Unknown command fields give [`Message::Other`].
            pub fn from_command(cmd: CommandSet) -> Result<Message, CommandError> {
                let field = Reader::new(&cmd, "command").u16(tags::COMMAND_FIELD)?;
                $(
                    if field == <$name as DimseMessage>::COMMAND_FIELD {
                        return <$name as DimseMessage>::from_command(&cmd).map(Message::$name);
                    }
                )*
                Ok(Message::Other(cmd))
            }

            /// The command set to send (for [`Message::Other`], the stored one).
            pub fn to_command(&self) -> CommandSet {
                match self {
                    $(Message::$name(m) => m.to_command(),)*
                    Message::Other(cmd) => cmd.clone(),
                }
            }

            /// Whether a data set follows the command. For [`Message::Other`]: whether
            /// CommandDataSetType is present and not 0x0101.
            pub fn has_data_set(&self) -> bool {
                match self {
                    $(Message::$name(m) => m.has_data_set(),)*
                    Message::Other(cmd) => cmd
                        .get_u16(tags::COMMAND_DATA_SET_TYPE)
                        .is_some_and(|v| v != DATA_SET_ABSENT),
                }
            }

            /// The CommandField value (0 for an [`Message::Other`] without one).
            pub fn command_field(&self) -> u16 {
                match self {
                    $(Message::$name(_) => <$name as DimseMessage>::COMMAND_FIELD,)*
                    Message::Other(cmd) => cmd.get_u16(tags::COMMAND_FIELD).unwrap_or(0),
                }
            }

            /// MessageID (0000,0110), for requests.
            pub fn message_id(&self) -> Option<u16> {
                match self {
                    $(Message::$name(m) => m.message_id(),)*
                    Message::Other(cmd) => cmd.get_u16(tags::MESSAGE_ID),
                }
            }

            /// MessageIDBeingRespondedTo (0000,0120), for responses and C-CANCEL-RQ.
            pub fn responded_to(&self) -> Option<u16> {
                match self {
                    $(Message::$name(m) => m.responded_to(),)*
                    Message::Other(cmd) => cmd.get_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO),
                }
            }

            /// Status (0000,0900), for responses.
            pub fn status(&self) -> Option<Status> {
                match self {
                    $(Message::$name(m) => m.status(),)*
                    Message::Other(cmd) => cmd.get_u16(tags::STATUS).map(Status),
                }
            }

            /// AffectedSOPClassUID (0000,0002) without padding, when present.
            pub fn affected_sop_class_uid(&self) -> Option<&str> {
                match self {
                    $(Message::$name(m) => m.affected_sop_class_uid(),)*
                    Message::Other(cmd) => cmd.get_str(tags::AFFECTED_SOP_CLASS_UID),
                }
            }
        }
    };
}

messages! {
    /// C-ECHO-RQ.
    CEchoRq,
    /// C-ECHO-RSP.
    CEchoRsp,
    /// C-STORE-RQ.
    CStoreRq,
    /// C-STORE-RSP.
    CStoreRsp,
    /// C-FIND-RQ.
    CFindRq,
    /// C-FIND-RSP.
    CFindRsp,
    /// C-GET-RQ.
    CGetRq,
    /// C-GET-RSP.
    CGetRsp,
    /// C-MOVE-RQ.
    CMoveRq,
    /// C-MOVE-RSP.
    CMoveRsp,
    /// C-CANCEL-RQ.
    CCancelRq,
    /// N-EVENT-REPORT-RQ.
    NEventReportRq,
    /// N-EVENT-REPORT-RSP.
    NEventReportRsp,
    /// N-GET-RQ.
    NGetRq,
    /// N-GET-RSP.
    NGetRsp,
    /// N-SET-RQ.
    NSetRq,
    /// N-SET-RSP.
    NSetRsp,
    /// N-ACTION-RQ.
    NActionRq,
    /// N-ACTION-RSP.
    NActionRsp,
    /// N-CREATE-RQ.
    NCreateRq,
    /// N-CREATE-RSP.
    NCreateRsp,
    /// N-DELETE-RQ.
    NDeleteRq,
    /// N-DELETE-RSP.
    NDeleteRsp,
}

impl Message {
    /// The name of the command type, such as `"C-STORE-RQ"` (`"unknown"` for unknown fields).
    pub fn name(&self) -> &'static str {
        command_name(self.command_field())
    }

    /// Whether this is a response (CommandField high bit set).
    pub fn is_response(&self) -> bool {
        cf::is_response(self.command_field())
    }
}
