//! Faults an SCP commits on purpose, so that SCU developers can test how their code copes
//! (DCMTK's storescp offers the like with `--refuse`, `--abort-after` and `--sleep-during`).

use std::time::{Duration, Instant};

use dimse_core::dimse::Message;
use dimse_core::pdu::AssociateRj;

use crate::conn::Conn;
use crate::runtime::Transport;

/// Misbehaviour to show every association an [`Scp`](crate::Scp) serves; none by default.
///
/// ```
/// use std::time::Duration;
/// use dimse_driver::Faults;
/// use dimse_driver::__core::pdu::{AssociateRj, RejectReason, Rejection};
///
/// let faults = Faults {
///     refuse: Some(AssociateRj::new(Rejection::Transient, RejectReason::TemporaryCongestion)),
///     abort_after: Some(3),
///     delay_response: Some(Duration::from_millis(500)),
/// };
/// assert!(faults.any());
/// assert!(!Faults::default().any());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Answer every A-ASSOCIATE-RQ with this rejection instead of negotiating.
    pub refuse: Option<AssociateRj>,
    /// Abort each association (A-ABORT) once its N-th request has arrived whole, without
    /// answering that request; a data set it carried is discarded. `Some(0)` counts as 1.
    pub abort_after: Option<u32>,
    /// Wait this long once each request has arrived whole before handling and answering it.
    /// The association stays attentive meanwhile: an A-ABORT or a closed connection ends
    /// the wait.
    pub delay_response: Option<Duration>,
}

impl Faults {
    /// Whether any fault is set.
    pub fn any(&self) -> bool {
        *self != Faults::default()
    }
}

/// What one association has seen of the faults: the requests counted so far, and whether a
/// request's data set is still arriving.
#[derive(Default)]
pub(crate) struct FaultState {
    requests: u32,
    awaiting_data_end: bool,
}

/// What to do with a request that has just arrived whole.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Answer,
    Abort,
}

impl FaultState {
    /// A message arrived: whether it completes a request. Responses are not answered, so
    /// they do not count (nor do cancels, which the core reports apart); a request with a data set completes in [`Self::on_data`].
    pub(crate) fn on_message(&mut self, message: &Message) -> bool {
        if message.is_response() {
            return false;
        }
        self.requests += 1;
        let whole = !message.has_data_set();
        self.awaiting_data_end = !whole;
        whole
    }

    /// A data fragment arrived: whether it completes a request.
    pub(crate) fn on_data(&mut self, last: bool) -> bool {
        last && std::mem::take(&mut self.awaiting_data_end)
    }

    /// A request is complete: wait as `faults` says, then decide whether to answer it.
    pub(crate) async fn complete<T: Transport>(
        &self,
        faults: &Faults,
        conn: &mut Conn<T>,
    ) -> Verdict {
        if faults
            .abort_after
            .is_some_and(|n| self.requests >= n.max(1))
        {
            tracing::warn!(
                requests = self.requests,
                "aborting the association after this request (abort-after fault)"
            );
            return Verdict::Abort;
        }
        if let Some(delay) = faults.delay_response {
            tracing::debug!(?delay, "delaying the response (delay-response fault)");
            if conn.pause_until(Instant::now() + delay).await.is_err() {
                // The peer went meanwhile: nobody is left to answer.
                return Verdict::Abort;
            }
        }
        Verdict::Answer
    }
}
