//! What every DIMSE message is: the [`DimseMessage`] trait, and the `messages!` macro that
//! declares the messages from the table in `table.rs` (struct, trait impl, command field
//! constants and names, and [`Message`](super::Message)).

use super::command::CommandError;
use super::field::Reader;
use super::{tags, CommandSet, Status, DATA_SET_ABSENT, DATA_SET_PRESENT};

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
    const NAME: &'static str;

    /// The message type's name, such as `"C-ECHO-RQ"`.
    fn name() -> &'static str {
        Self::NAME
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

/// Declares the DIMSE messages from their table: for each, the struct (its fields typed by
/// [`field_type!`](super::field)), its [`DimseMessage`] impl, its CommandField constant and
/// name; then [`Message`](super::Message) over all of them, `command_field::ALL` and
/// `command_name`.
///
/// An entry is `Name = CONSTANT value "NAME", data: always|never|announced { fields }`, each
/// field `name: usage kind @ TAG` (see `field.rs`); `announced` takes the data set's presence
/// from the `has_data_set` field.
macro_rules! messages {
    ($(
        $(#[$doc:meta])*
        $name:ident = $constant:ident $value:literal $text:literal, data: $rule:ident {
            $($(#[$field_doc:meta])* $field:ident: $usage:ident $kind:ident $(@ $tag:ident)?,)*
        }
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct $name {
                $($(#[$field_doc])* pub $field: field_type!($usage $kind),)*
            }

            impl DimseMessage for $name {
                const COMMAND_FIELD: u16 = $value;
                const NAME: &'static str = $text;

                fn has_data_set(&self) -> bool {
                    data_rule!($rule, self)
                }

                fn write_elements(&self, cmd: &mut CommandSet) {
                    $(write_field!(cmd, self.$field, $usage $kind $($tag)?);)*
                }

                fn read_elements(cmd: &CommandSet) -> Result<Self, CommandError> {
                    let r = Reader::new(cmd, $text);
                    Ok($name {
                        $($field: read_field!(r, $usage $kind $($tag)?),)*
                    })
                }

                fn message_id(&self) -> Option<u16> {
                    find_field!(message_id, self; $($field $usage)*)
                }

                fn responded_to(&self) -> Option<u16> {
                    find_field!(message_id_being_responded_to, self; $($field $usage)*)
                }

                fn status(&self) -> Option<Status> {
                    find_field!(status, self; $($field $usage)*)
                }

                fn affected_sop_class_uid(&self) -> Option<&str> {
                    find_field!(affected_sop_class_uid, self; $($field $usage)*)
                }
            }

            impl From<$name> for Message {
                fn from(m: $name) -> Self {
                    Message::$name(m)
                }
            }

            impl TryFrom<Message> for $name {
                /// The message, when it is of another type.
                type Error = Message;

                fn try_from(m: Message) -> Result<Self, Message> {
                    match m {
                        Message::$name(m) => Ok(m),
                        other => Err(other),
                    }
                }
            }
        )*

        /// CommandField (0000,0100) values, PS3.7 §E.1 (23 of them). A response is its request
        /// | 0x8000.
        pub mod command_field {
            $(
                #[doc = $text]
                pub const $constant: u16 = $value;
            )*

            /// All 23 standard values, requests and responses.
            pub const ALL: [u16; 23] = [$($value),*];

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
            match field {
                $($value => $text,)*
                _ => "unknown",
            }
        }

        /// A received or to-be-sent DIMSE command, typed when this library knows its type.
        ///
        /// Built from a [`CommandSet`] with [`Message::from_command`]; command types without a
        /// typed struct come back as [`Message::Other`] so a receiver can still answer them
        /// (e.g. with status 0x0211 unrecognized operation).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Message {
            $(#[doc = $text] $name($name),)*
            /// A command of a type without a typed struct, kept as received.
            Other(CommandSet),
        }

        impl Message {
            /// Types a received command set by its CommandField.
            ///
            /// Errors: CommandField missing or malformed; for known types, a missing required
            /// element (named in the error), a malformed value, or a CommandDataSetType that
            /// contradicts the type. Unknown command fields give [`Message::Other`].
            pub fn from_command(cmd: CommandSet) -> Result<Message, CommandError> {
                let field = Reader::new(&cmd, "command").u16(tags::COMMAND_FIELD)?;
                match field {
                    $($value => <$name as DimseMessage>::from_command(&cmd).map(Message::$name),)*
                    _ => Ok(Message::Other(cmd)),
                }
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
                    $(Message::$name(_) => $value,)*
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

            /// The name of the command type, such as `"C-STORE-RQ"` (`"unknown"` for unknown
            /// fields).
            pub fn name(&self) -> &'static str {
                command_name(self.command_field())
            }

            /// Whether this is a response (CommandField high bit set).
            pub fn is_response(&self) -> bool {
                command_field::is_response(self.command_field())
            }
        }
    };
}

/// Whether a message of data-set rule `$rule` is followed by a data set.
macro_rules! data_rule {
    (always, $self:ident) => {
        true
    };
    (never, $self:ident) => {
        false
    };
    (announced, $self:ident) => {
        $self.has_data_set
    };
}

/// The accessor of [`DimseMessage`] for the field `$want`, from the message's `field usage`
/// list: `Some` of it where the message has it (a reference for the SOP class UID), `None`
/// where it has not.
macro_rules! find_field {
    ($want:ident, $self:ident;) => {
        None
    };
    (message_id, $self:ident; message_id $usage:ident $($rest:tt)*) => {
        Some($self.message_id)
    };
    (message_id_being_responded_to, $self:ident; message_id_being_responded_to $usage:ident $($rest:tt)*) => {
        Some($self.message_id_being_responded_to)
    };
    (status, $self:ident; status $usage:ident $($rest:tt)*) => {
        Some($self.status)
    };
    (affected_sop_class_uid, $self:ident; affected_sop_class_uid M $($rest:tt)*) => {
        Some($self.affected_sop_class_uid.as_str())
    };
    (affected_sop_class_uid, $self:ident; affected_sop_class_uid $usage:ident $($rest:tt)*) => {
        $self.affected_sop_class_uid.as_deref()
    };
    ($want:ident, $self:ident; $field:ident $usage:ident $($rest:tt)*) => {
        find_field!($want, $self; $($rest)*)
    };
}

pub(super) use {data_rule, find_field, messages};
