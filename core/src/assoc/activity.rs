//! What the DIMSE and idle timers need to know: which requests are in flight each way, when
//! the peer last made progress, and when a PDU last crossed.
//!
//! The core sees every command set both ways, so it can run these timers itself, with time as
//! a value like ARTIM's, instead of every driver keeping its own clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::ReceiveError;
use crate::dimse::{command_field as cf, tags, CommandSet, Message, Status};

#[derive(Debug)]
pub(super) struct Activity {
    /// Our requests awaiting their final response, oldest first.
    awaiting: VecDeque<Request>,
    /// The peer's requests we have not finally answered.
    serving: Vec<u16>,
    /// When data last moved for an exchange (the peer sent P-DATA, we sent a data set's
    /// fragment) or we started awaiting: the DIMSE timer runs from here.
    progress: Instant,
    /// When a PDU last crossed either way: the idle timer runs from here.
    last_pdu: Instant,
}

/// A request of ours in flight.
#[derive(Debug)]
struct Request {
    message_id: u16,
    /// Its CommandField: the response's is this | 0x8000.
    command_field: u16,
    /// The presentation context it went on: the response must come on it too.
    context: u8,
    sent: Instant,
}

/// What to do with a message that arrived.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Receipt {
    /// Hand it to the application.
    Deliver,
    /// A C-CANCEL of the peer's operation with this message ID, still in progress here.
    Cancel(u16),
    /// Nothing is left to act on (a C-CANCEL that crossed the final response).
    Drop,
}

/// A command's place in a request/response exchange.
enum Kind {
    Request(u16),
    /// C-CANCEL-RQ: answered by the request it cancels, not by a response of its own.
    Cancel,
    Response {
        to: u16,
        pending: bool,
    },
    Unknown,
}

fn kind(command: &CommandSet) -> Kind {
    let Some(field) = command.get_u16(tags::COMMAND_FIELD) else {
        return Kind::Unknown;
    };
    if field == cf::C_CANCEL_RQ {
        return Kind::Cancel;
    }
    if cf::is_response(field) {
        return match command.get_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO) {
            Some(to) => Kind::Response {
                to,
                pending: command
                    .get_u16(tags::STATUS)
                    .is_some_and(|s| Status(s).is_pending()),
            },
            None => Kind::Unknown,
        };
    }
    command
        .get_u16(tags::MESSAGE_ID)
        .map_or(Kind::Unknown, Kind::Request)
}

impl Activity {
    pub(super) fn new(now: Instant) -> Self {
        Activity {
            awaiting: VecDeque::new(),
            serving: Vec::new(),
            progress: now,
            last_pdu: now,
        }
    }

    pub(super) fn pdu(&mut self, now: Instant) {
        self.last_pdu = now;
    }

    /// P-DATA crossed: progress of whatever is in flight (a response, a C-GET's
    /// sub-operation, the data set of our request still going out).
    pub(super) fn data(&mut self, now: Instant) {
        self.last_pdu = now;
        self.progress = now;
    }

    pub(super) fn sent(&mut self, now: Instant, context: u8, command: &CommandSet) {
        self.last_pdu = now;
        match kind(command) {
            Kind::Request(message_id) => {
                if self.awaiting.is_empty() {
                    self.progress = now;
                }
                self.awaiting.push_back(Request {
                    message_id,
                    command_field: command.get_u16(tags::COMMAND_FIELD).unwrap_or(0),
                    context,
                    sent: now,
                });
            }
            Kind::Response { to, pending: false } => self.serving.retain(|&id| id != to),
            _ => {}
        }
    }

    /// A message arrived on `context`: whether to hand it on. A response must answer one of
    /// our requests in flight (PS3.7 §9.1), on the request's presentation context (PS3.7 9.3.1
    /// and 6.3.1: the context is what gives the message its meaning). A C-CANCEL counts only
    /// against an operation of the peer's still in progress here: one that crossed its final
    /// response is answered already (PS3.7 9.3.2.3).
    pub(super) fn received(
        &mut self,
        context: u8,
        message: &Message,
    ) -> Result<Receipt, ReceiveError> {
        if let Message::CCancelRq(c) = message {
            let id = c.message_id_being_responded_to;
            return Ok(if self.serving.contains(&id) {
                Receipt::Cancel(id)
            } else {
                Receipt::Drop
            });
        }
        if message.is_response() {
            let Some(to) = message.responded_to() else {
                return Ok(Receipt::Deliver);
            };
            let Some(i) = self.awaiting.iter().position(|r| r.message_id == to) else {
                return Err(ReceiveError::UnsolicitedResponse { message_id: to });
            };
            let request = &self.awaiting[i];
            if request.context != context {
                return Err(ReceiveError::ResponseContext {
                    message_id: to,
                    request: request.context,
                    response: context,
                });
            }
            if request.command_field | 0x8000 != message.command_field() {
                return Err(ReceiveError::ResponseType {
                    message_id: to,
                    request: request.command_field,
                    response: message.command_field(),
                });
            }
            if !message.status().is_some_and(|s| s.is_pending()) {
                self.awaiting.remove(i);
            }
        } else if let Some(id) = message.message_id() {
            self.serving.push(id);
        }
        Ok(Receipt::Deliver)
    }

    /// Requests of ours awaiting their final response.
    pub(super) fn in_flight(&self) -> usize {
        self.awaiting.len()
    }

    /// Whether `message_id` names a request of the peer's we have not finally answered.
    pub(super) fn is_serving(&self, message_id: u16) -> bool {
        self.serving.contains(&message_id)
    }

    /// When the DIMSE timer (since the last progress) or the total timer (since the oldest
    /// request in flight was sent) runs out, and that request's message ID.
    pub(super) fn dimse_deadline(
        &self,
        each: Option<Duration>,
        total: Option<Duration>,
    ) -> Option<(Instant, u16)> {
        let oldest = self.awaiting.front()?;
        let each = each.map(|d| self.progress + d);
        let total = total.map(|d| oldest.sent + d);
        let at = match (each, total) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some((at, oldest.message_id))
    }

    /// When the association has been idle for `timeout`: nothing in flight either way and no
    /// PDU since.
    pub(super) fn idle_deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        if self.awaiting.is_empty() && self.serving.is_empty() {
            timeout.map(|d| self.last_pdu + d)
        } else {
            None
        }
    }
}
