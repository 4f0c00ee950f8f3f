//! What the DIMSE and idle timers need to know: which requests are in flight each way, when
//! the peer last made progress, and when a PDU last crossed.
//!
//! The core sees every command set both ways, so it can run these timers itself, with time as
//! a value like ARTIM's, instead of every driver keeping its own clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::ReceiveError;
use crate::dimse::{command_field as cf, tags, CommandSet, Status};

#[derive(Debug)]
pub(super) struct Activity {
    /// Our requests awaiting their final response: message ID, presentation context and when
    /// it was sent, oldest first.
    awaiting: VecDeque<(u16, u8, Instant)>,
    /// The peer's requests we have not finally answered.
    serving: Vec<u16>,
    /// When data last moved for an exchange (the peer sent P-DATA, we sent a data set's
    /// fragment) or we started awaiting: the DIMSE timer runs from here.
    progress: Instant,
    /// When a PDU last crossed either way: the idle timer runs from here.
    last_pdu: Instant,
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
            Kind::Request(id) => {
                if self.awaiting.is_empty() {
                    self.progress = now;
                }
                self.awaiting.push_back((id, context, now));
            }
            Kind::Response { to, pending: false } => self.serving.retain(|&id| id != to),
            _ => {}
        }
    }

    /// A command arrived on `context`. A response to one of our requests must come on the
    /// request's presentation context (PS3.7 9.3.1 and 6.3.1: the context is what gives the
    /// message its meaning); one that does not is a protocol error.
    pub(super) fn received(
        &mut self,
        context: u8,
        command: &CommandSet,
    ) -> Result<(), ReceiveError> {
        match kind(command) {
            Kind::Request(id) => self.serving.push(id),
            Kind::Response { to, pending } => {
                let Some(i) = self.awaiting.iter().position(|&(id, ..)| id == to) else {
                    return Ok(());
                };
                let request = self.awaiting[i].1;
                if request != context {
                    return Err(ReceiveError::ResponseContext {
                        message_id: to,
                        request,
                        response: context,
                    });
                }
                if !pending {
                    self.awaiting.remove(i);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// When the DIMSE timer (since the last progress) or the total timer (since the oldest
    /// request in flight was sent) runs out, and that request's message ID.
    pub(super) fn dimse_deadline(
        &self,
        each: Option<Duration>,
        total: Option<Duration>,
    ) -> Option<(Instant, u16)> {
        let &(oldest, _, sent) = self.awaiting.front()?;
        let each = each.map(|d| self.progress + d);
        let total = total.map(|d| sent + d);
        let at = match (each, total) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some((at, oldest))
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
