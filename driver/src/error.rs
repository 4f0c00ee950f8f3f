//! Errors of the blocking runtime.

use std::{fmt, io};

use dimse_core::assoc::{AbortCause, UsageError};
use dimse_core::dimse::{CommandError, Status};
use dimse_core::pdu::AssociateRj;

use crate::file::StoreFileError;

/// What went wrong on an association driven by this crate.
#[derive(Debug)]
pub enum Error {
    /// Connecting, reading or writing failed.
    Io {
        /// What we were doing.
        context: &'static str,
        /// The I/O error.
        source: io::Error,
    },
    /// The peer rejected the association.
    Rejected(AssociateRj),
    /// The association was aborted.
    Aborted(AbortCause),
    /// The peer closed the association (released) while we expected more.
    Closed,
    /// A request was sent but the association ended before its response came.
    Unanswered,
    /// No accepted presentation context fits the request.
    NoContext {
        /// SOP class that needed a context.
        sop_class: String,
        /// Transfer syntax of the data, if one was required.
        transfer_syntax: Option<String>,
    },
    /// The peer did not answer within the DIMSE timeout; the association was aborted.
    Timeout {
        /// What we waited for.
        waiting_for: &'static str,
    },
    /// The peer sent a message we did not expect.
    UnexpectedMessage {
        /// What we waited for.
        expected: &'static str,
        /// What came.
        got: String,
    },
    /// A command set that is not a valid message.
    Command(CommandError),
    /// The core refused an operation in the current state.
    Usage(UsageError),
    /// A file could not be sent.
    File(StoreFileError),
    /// A request completed with a failure status.
    Status(Status),
    /// An identifier (query keys) that cannot be encoded; nothing was sent.
    InvalidIdentifier(String),
    /// Nothing was sent because the association for it could not be opened (shared by every
    /// file of that association, [`crate::Scu::send_files`]).
    NotAssociated(std::sync::Arc<Error>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Rejected(rj) => write!(
                f,
                "association rejected ({}): {}",
                if rj.is_permanent() {
                    "permanent"
                } else {
                    "transient"
                },
                rj.reason()
            ),
            Error::Aborted(cause) => cause.fmt(f),
            Error::Closed => f.write_str("association closed by peer"),
            Error::Unanswered => f.write_str("no response: the association ended first"),
            Error::NoContext {
                sop_class,
                transfer_syntax,
            } => {
                let name = dimse_core::uid::sop_class_name(sop_class).unwrap_or("unknown");
                match transfer_syntax {
                    Some(ts) => write!(
                        f,
                        "peer accepted no presentation context for {sop_class} ({name}) in transfer syntax {ts}"
                    ),
                    None => write!(
                        f,
                        "peer accepted no presentation context for {sop_class} ({name})"
                    ),
                }
            }
            Error::Timeout { waiting_for } => {
                write!(
                    f,
                    "timed out waiting for {waiting_for}; association aborted"
                )
            }
            Error::UnexpectedMessage { expected, got } => {
                write!(f, "expected {expected}, peer sent {got}")
            }
            Error::Command(e) => write!(f, "invalid command from peer: {e}"),
            Error::Usage(e) => e.fmt(f),
            Error::File(e) => e.fmt(f),
            Error::Status(s) => write!(f, "peer answered with status {s}"),
            Error::InvalidIdentifier(e) => write!(f, "invalid identifier: {e}"),
            Error::NotAssociated(e) => write!(f, "no association: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::File(e) => Some(e),
            _ => None,
        }
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        Error::Usage(e)
    }
}

impl From<CommandError> for Error {
    fn from(e: CommandError) -> Self {
        Error::Command(e)
    }
}
