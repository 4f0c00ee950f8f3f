//! What every service run shares: the request's surroundings ([`Dispatch`]), replies, reading
//! C-CANCEL while an operation runs, and guards that turn a handler's panic into a failure
//! status, since PS3.7 gives every request an answer.

use std::future::poll_fn;
use std::task::Poll;
use std::time::Instant;

use bytes::BytesMut;
use dimse_core::assoc::{self, Event, Negotiated};
use dimse_core::commitment::CommitmentReport;
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{tags, CommandSet, Status, DATA_SET_ABSENT};
use dimse_core::uid;

use crate::async_handler::BoxFuture;
use crate::conn::Conn;
use crate::runtime::Transport;

use super::settings::Scp;
use crate::handler::Peer;

/// A response carrying only a status, for requests we cannot serve.
pub(super) fn refusal(command_field: u16, message_id: u16, status: Status) -> CommandSet {
    let mut rsp = CommandSet::new();
    rsp.set_u16(tags::COMMAND_FIELD, command_field | 0x8000);
    rsp.set_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO, message_id);
    rsp.set_u16(tags::COMMAND_DATA_SET_TYPE, DATA_SET_ABSENT);
    rsp.set_u16(tags::STATUS, status.0);
    rsp
}

/// What answering a request needs besides the connection.
pub(super) struct Dispatch<'a> {
    pub(super) scp: &'a Scp,
    pub(super) peer: &'a Peer,
    pub(super) negotiated: Option<&'a Negotiated>,
    /// Commitment reports to send on a new association once this one has ended.
    pub(super) later: &'a std::sync::Mutex<Vec<CommitmentReport>>,
}

pub(super) async fn send_reply<T: Transport>(
    conn: &mut Conn<T>,
    context_id: u8,
    (command, data): (CommandSet, Option<DataSet>),
    ts: &uid::TransferSyntax,
) -> Result<(), assoc::UsageError> {
    let now = Instant::now();
    conn.assoc.send_command(now, context_id, &command)?;
    if let Some(ds) = data {
        let mut encoded = BytesMut::new();
        ds.encode(ts, &mut encoded);
        conn.assoc
            .send_data(now, context_id, encoded.freeze(), true)?;
    }
    let _ = conn.flush().await;
    Ok(())
}

/// Whether the peer cancelled `message_id` since we last looked; `None` if it is gone. Requests
/// the peer pipelined meanwhile stay queued in the core for the dispatch loop.
pub(super) async fn cancelled<T: Transport>(conn: &mut Conn<T>, message_id: u16) -> Option<bool> {
    let events = conn.poll_now().await.ok()?;
    let mut cancel = false;
    for event in &events {
        if matches!(event, Event::Aborted(_)) {
            return None;
        }
        cancel |= cancels(event, message_id);
    }
    Some(cancel)
}

/// Whether `event` is the peer's C-CANCEL of its operation `message_id`.
pub(super) fn cancels(event: &Event, message_id: u16) -> bool {
    matches!(event, Event::Cancel { message_id: m, .. } if *m == message_id)
}

/// Await a handler's future so that a panic in it becomes `on_panic` (a failure status)
/// instead of the end of the association and its task: PS3.7 gives every request an answer.
pub(super) async fn guarded_async<'a, T>(
    on_panic: T,
    start: impl FnOnce() -> BoxFuture<'a, T>,
) -> T {
    let Ok(mut work) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(start)) else {
        tracing::error!("handler panicked; answering with a failure status");
        return on_panic;
    };
    let polled = poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Some(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    })
    .await;
    polled.unwrap_or_else(|| {
        tracing::error!("handler panicked; answering with a failure status");
        on_panic
    })
}

/// Run handler code so that a panic in it becomes `on_panic` (a failure status) instead of
/// the end of the association and its thread: PS3.7 gives every request an answer.
pub(super) fn guarded<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            tracing::error!("handler panicked; answering with a failure status");
            on_panic
        }
    }
}
