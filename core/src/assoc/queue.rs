//! The events waiting for the application, and which of them may overtake the others.
//!
//! A driver busy with one operation must still see what concerns it (a C-CANCEL, the responses
//! to its own requests, the end of the association) while the requests the peer pipelined
//! behind it wait their turn, in order, with their data sets. The queue knows which is which,
//! so a driver needs no second queue of its own.

use std::collections::VecDeque;

use super::Event;

/// Whether an event may be taken before the events queued ahead of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// It concerns what is already in progress: a response, a cancel, the end.
    Now,
    /// It starts something new: a request, a release request. It waits its turn.
    InOrder,
}

/// What a queued event holds on to, roughly: a fragment's bytes, a small constant otherwise.
fn weight(event: &Event) -> usize {
    match event {
        Event::Data { data, .. } => data.len() + 64,
        _ => 256,
    }
}

#[derive(Debug)]
pub(super) struct Queue {
    events: VecDeque<(Event, Turn)>,
    bytes: usize,
    /// The turn of the data fragments arriving now: that of the message they belong to.
    data_turn: Turn,
}

impl Queue {
    pub(super) fn new() -> Self {
        Queue {
            events: VecDeque::new(),
            bytes: 0,
            data_turn: Turn::InOrder,
        }
    }

    pub(super) fn push(&mut self, event: Event) {
        let turn = match &event {
            Event::Message { message, .. } => {
                self.data_turn = if message.is_response() {
                    Turn::Now
                } else {
                    Turn::InOrder
                };
                self.data_turn
            }
            Event::Data { .. } => self.data_turn,
            Event::Cancel { .. } | Event::Released | Event::Aborted(_) => Turn::Now,
            _ => Turn::InOrder,
        };
        self.bytes += weight(&event);
        self.events.push_back((event, turn));
    }

    pub(super) fn pop(&mut self) -> Option<Event> {
        let (event, _) = self.events.pop_front()?;
        self.bytes -= weight(&event);
        Some(event)
    }

    /// The first event that may overtake those ahead of it, which stay queued.
    pub(super) fn pop_now(&mut self) -> Option<Event> {
        let at = self.events.iter().position(|(_, t)| *t == Turn::Now)?;
        let (event, _) = self.events.remove(at)?;
        self.bytes -= weight(&event);
        Some(event)
    }

    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn len(&self) -> usize {
        self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::dimse::{CStoreRq, CStoreRsp, Message, Priority, Status};

    fn message(m: impl Into<Message>) -> Event {
        Event::Message {
            context_id: 1,
            message: m.into(),
        }
    }

    fn data(n: usize, last: bool) -> Event {
        Event::Data {
            context_id: 1,
            data: Bytes::from(vec![0; n]),
            last,
        }
    }

    #[test]
    fn requests_and_their_data_wait_while_responses_and_cancels_overtake() {
        let mut q = Queue::new();
        q.push(message(CStoreRq::new(7, "1.2", "1.2.3", Priority::Medium)));
        q.push(data(1000, false));
        q.push(Event::Cancel {
            context_id: 1,
            message_id: 3,
        });
        let answered = CStoreRq::new(5, "1.2", "1.2.4", Priority::Medium);
        q.push(message(CStoreRsp::for_request(&answered, Status::SUCCESS)));
        q.push(data(10, true));
        q.push(Event::ReleaseRequested);
        q.push(Event::Aborted(super::super::AbortCause::TransportClosed));
        assert_eq!(q.bytes(), 256 + 1064 + 256 + 256 + 74 + 256 + 256);

        assert!(matches!(
            q.pop_now(),
            Some(Event::Cancel { message_id: 3, .. })
        ));
        assert!(matches!(
            q.pop_now(),
            Some(Event::Message {
                message: Message::CStoreRsp(_),
                ..
            })
        ));
        assert!(matches!(q.pop_now(), Some(Event::Data { last: true, .. })));
        assert!(matches!(q.pop_now(), Some(Event::Aborted(_))));
        assert!(q.pop_now().is_none());
        // What waited comes out in its order.
        assert!(matches!(
            q.pop(),
            Some(Event::Message {
                message: Message::CStoreRq(_),
                ..
            })
        ));
        assert!(matches!(q.pop(), Some(Event::Data { last: false, .. })));
        assert!(matches!(q.pop(), Some(Event::ReleaseRequested)));
        assert!(q.pop().is_none());
        assert_eq!((q.bytes(), q.len()), (0, 0));
    }
}
