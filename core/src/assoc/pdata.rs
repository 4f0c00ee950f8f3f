//! P-DATA framing (PS3.8 Annex E, PS3.7 §6.3.1): cutting messages into PDVs the peer accepts,
//! and checking and reassembling what arrives. Command sets are reassembled (they are small);
//! data sets are handed on fragment by fragment and never held whole.

use std::collections::VecDeque;
use std::fmt;

use bytes::{Bytes, BytesMut};

use super::{Event, Negotiated, Transmit};
use crate::dimse::{command_name, tags, CommandError, CommandSet, Message};
use crate::pdu::{self, PData, Pdv};

/// CommandDataSetType value meaning "no data set follows" (PS3.7 §9.3).
const NO_DATA_SET: u16 = 0x0101;

/// Whether a command announces a data set.
pub(super) fn announces_data_set(command: &CommandSet) -> bool {
    command
        .get_u16(tags::COMMAND_DATA_SET_TYPE)
        .is_some_and(|t| t != NO_DATA_SET)
}

/// P-DATA content that breaks the framing rules, or a message that breaks the exchange.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReceiveError {
    /// A P-DATA-TF without any PDV.
    EmptyPData,
    /// A PDV on a context that was not accepted.
    UnknownContext(u8),
    /// A data-set fragment arrived while no command announced one.
    UnexpectedData {
        /// Context of the fragment.
        context_id: u8,
    },
    /// A command fragment arrived in the middle of a data set.
    UnexpectedCommand {
        /// Context of the fragment.
        context_id: u8,
    },
    /// Fragments of one message arrived on different contexts.
    ContextSwitch {
        /// Context the message started on.
        expected: u8,
        /// Context of the offending fragment.
        got: u8,
    },
    /// A command set larger than the configured maximum.
    CommandTooLong {
        /// Configured maximum.
        max: usize,
    },
    /// A command set that does not decode, or not to the message its CommandField names.
    Command(CommandError),
    /// A data set longer than the configured maximum (a peer whose data set never ends).
    DataSetTooLong {
        /// Configured maximum.
        max: u64,
    },
    /// A response to one of our requests on another presentation context than the request's.
    ResponseContext {
        /// The request's message ID.
        message_id: u16,
        /// The context the request was sent on.
        request: u8,
        /// The context the response came on.
        response: u8,
    },
    /// A response of another type than the request it answers (a C-FIND-RSP to a C-STORE-RQ).
    ResponseType {
        /// The request's message ID.
        message_id: u16,
        /// The request's CommandField.
        request: u16,
        /// The response's CommandField.
        response: u16,
    },
    /// A response to no request of ours in flight (PS3.7 §9.1: every response answers a
    /// request, by its Message ID).
    UnsolicitedResponse {
        /// Its MessageIDBeingRespondedTo.
        message_id: u16,
    },
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiveError::EmptyPData => f.write_str("P-DATA-TF without a PDV"),
            ReceiveError::UnknownContext(id) => {
                write!(
                    f,
                    "PDV on presentation context {id}, which was not accepted"
                )
            }
            ReceiveError::UnexpectedData { context_id } => write!(
                f,
                "data-set fragment on context {context_id} without a command announcing it"
            ),
            ReceiveError::UnexpectedCommand { context_id } => write!(
                f,
                "command fragment on context {context_id} before the data set ended"
            ),
            ReceiveError::ContextSwitch { expected, got } => write!(
                f,
                "message started on context {expected} continued on context {got}"
            ),
            ReceiveError::CommandTooLong { max } => {
                write!(f, "command set longer than {max} bytes")
            }
            ReceiveError::Command(e) => write!(f, "invalid command set: {e}"),
            ReceiveError::DataSetTooLong { max } => {
                write!(f, "data set longer than the {max}-byte limit")
            }
            ReceiveError::ResponseContext {
                message_id,
                request,
                response,
            } => write!(
                f,
                "response to message {message_id} on presentation context {response}; the request used {request}"
            ),
            ReceiveError::ResponseType {
                message_id,
                request,
                response,
            } => write!(
                f,
                "{} to message {message_id}, a {}",
                command_name(*response),
                command_name(*request)
            ),
            ReceiveError::UnsolicitedResponse { message_id } => {
                write!(f, "response to message {message_id}, which is not in flight")
            }
        }
    }
}

impl std::error::Error for ReceiveError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Between messages: a command fragment must come next.
    Command,
    /// Inside a command on this context.
    MoreCommand(u8),
    /// Inside the data set announced on this context.
    Data(u8),
}

/// Incoming P-DATA state.
#[derive(Debug)]
pub(super) struct Receiver {
    expect: Expect,
    command: BytesMut,
    max_command: usize,
    /// Bytes of the data set being received, and the most allowed.
    data_len: u64,
    max_data: u64,
}

impl Receiver {
    pub(super) fn new(max_command: usize, max_data: u64) -> Self {
        Receiver {
            expect: Expect::Command,
            command: BytesMut::new(),
            max_command,
            data_len: 0,
            max_data,
        }
    }

    pub(super) fn receive(
        &mut self,
        pdata: PData,
        negotiated: Option<&Negotiated>,
        events: &mut VecDeque<Event>,
    ) -> Result<(), ReceiveError> {
        if pdata.pdvs.is_empty() {
            return Err(ReceiveError::EmptyPData);
        }
        for pdv in pdata.pdvs {
            let id = pdv.context_id;
            if !negotiated
                .and_then(|n| n.context(id))
                .is_some_and(|c| c.is_accepted())
            {
                return Err(ReceiveError::UnknownContext(id));
            }
            if pdv.is_command() {
                self.command_fragment(pdv, events)?;
            } else {
                match self.expect {
                    Expect::Data(ctx) if ctx == id => {}
                    Expect::Data(ctx) => {
                        return Err(ReceiveError::ContextSwitch {
                            expected: ctx,
                            got: id,
                        })
                    }
                    _ => return Err(ReceiveError::UnexpectedData { context_id: id }),
                }
                self.data_len += pdv.data.len() as u64;
                if self.max_data != 0 && self.data_len > self.max_data {
                    return Err(ReceiveError::DataSetTooLong { max: self.max_data });
                }
                let last = pdv.is_last();
                if last {
                    self.expect = Expect::Command;
                    self.data_len = 0;
                }
                events.push_back(Event::Data {
                    context_id: id,
                    data: pdv.data,
                    last,
                });
            }
        }
        Ok(())
    }

    fn command_fragment(
        &mut self,
        pdv: Pdv,
        events: &mut VecDeque<Event>,
    ) -> Result<(), ReceiveError> {
        let id = pdv.context_id;
        match self.expect {
            Expect::Command => {}
            Expect::MoreCommand(ctx) if ctx == id => {}
            Expect::MoreCommand(ctx) => {
                return Err(ReceiveError::ContextSwitch {
                    expected: ctx,
                    got: id,
                })
            }
            Expect::Data(_) => return Err(ReceiveError::UnexpectedCommand { context_id: id }),
        }
        if self.command.len() + pdv.data.len() > self.max_command {
            return Err(ReceiveError::CommandTooLong {
                max: self.max_command,
            });
        }
        if !pdv.is_last() {
            self.command.extend_from_slice(&pdv.data);
            self.expect = Expect::MoreCommand(id);
            return Ok(());
        }
        // The common case is a command in one PDV: decode it where it lies.
        let message = if self.command.is_empty() {
            CommandSet::decode(&pdv.data)
        } else {
            self.command.extend_from_slice(&pdv.data);
            let whole = self.command.split();
            CommandSet::decode(&whole)
        }
        .and_then(Message::from_command)
        .map_err(ReceiveError::Command)?;
        self.expect = if message.has_data_set() {
            Expect::Data(id)
        } else {
            Expect::Command
        };
        events.push_back(Event::Message {
            context_id: id,
            message,
        });
        Ok(())
    }
}

/// Outgoing P-DATA state: one message at a time, never interleaved.
#[derive(Debug, Default)]
pub(super) struct Sender {
    data_on: Option<u8>,
}

impl Sender {
    pub(super) fn start(&mut self, context_id: u8, has_data: bool) {
        self.data_on = has_data.then_some(context_id);
    }

    pub(super) fn in_data(&self) -> bool {
        self.data_on.is_some()
    }

    pub(super) fn expects_data(&self, context_id: u8) -> bool {
        self.data_on == Some(context_id)
    }

    pub(super) fn finish(&mut self) {
        self.data_on = None;
    }
}

/// Queue `payload` as P-DATA-TF PDUs of one PDV each, no fragment longer than `max_fragment`.
/// Headers come from `scratch` so steady-state sending does not allocate per PDU; payload
/// slices share the caller's buffer.
pub(super) fn fragment(
    out: &mut VecDeque<Transmit>,
    scratch: &mut BytesMut,
    context_id: u8,
    command: bool,
    payload: Bytes,
    last: bool,
    max_fragment: usize,
) {
    let base = if command { Pdv::COMMAND } else { 0 };
    let mut rest = payload;
    loop {
        let n = rest.len().min(max_fragment);
        let chunk = rest.split_to(n);
        let final_piece = rest.is_empty();
        let control = if final_piece && last {
            base | Pdv::LAST
        } else {
            base
        };
        if scratch.capacity() < 12 {
            scratch.reserve(4096);
        }
        pdu::encode_pdata_header(chunk.len() as u32 + 6, scratch);
        pdu::encode_pdv_header(context_id, control, chunk.len() as u32, scratch);
        out.push_back(Transmit {
            head: scratch.split().freeze(),
            body: chunk,
        });
        if final_piece {
            break;
        }
    }
}
