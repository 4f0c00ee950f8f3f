//! One association, one object: the PS3.8 upper-layer state machine with negotiation and
//! P-DATA framing, driven by bytes and time values.
//!
//! The driver loop is the same for every runtime:
//! 1. feed what arrived with [`Association::handle_input`] (or [`Association::handle_eof`]);
//! 2. drain [`Association::poll_transmit`] to the socket and [`Association::poll_event`] to the
//!    application, which answers with commands ([`Association::send_command`], …);
//! 3. wait for readable bytes or [`Association::poll_timeout`], calling
//!    [`Association::handle_timeout`] when the deadline passes;
//! 4. close the transport once [`Association::is_closed`].
//!
//! ```
//! use std::time::Instant;
//! use bytes::BytesMut;
//! use dimse_core::assoc::{AcceptorPolicy, Association, Config, Event, Proposal, ProposedContext, SupportedSyntax};
//! use dimse_core::uid;
//!
//! // `now` is the caller's clock reading: the core never reads one.
//! fn handshake(now: Instant) {
//! let mut proposal = Proposal::new("SCU", "SCP");
//! proposal.contexts.push(ProposedContext::new(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
//! let mut scu = Association::requestor(&proposal, Config::default(), now);
//! let mut scp = Association::acceptor(Config::default(), now);
//! let mut policy = AcceptorPolicy::new("SCP");
//! policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
//!
//! scu.handle_connected(now).unwrap();
//! let mut wire = BytesMut::new();
//! while let Some(t) = scu.poll_transmit() { wire.extend_from_slice(&t.head); wire.extend_from_slice(&t.body); }
//! scp.handle_input(now, &mut wire);
//! assert!(matches!(scp.poll_event(), Some(Event::Requested(_))));
//! scp.respond_with_policy(now, &policy).unwrap();
//! assert!(matches!(scp.poll_event(), Some(Event::Established(_))));
//! }
//! ```

mod activity;
pub mod fsm;
mod negotiate;
mod pdata;
mod queue;

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::dimse::{CommandSet, DimseMessage, Message};
use crate::pdu::{
    self, abort_reason, AbortSource, AssociateAc, AssociateRj, AssociateRq, DecodeError, Pdu,
    RejectReason, Rejection,
};
use activity::{Activity, Receipt};
use fsm::{Action, Event as Evt, Side, State};
pub use negotiate::*;
pub use pdata::ReceiveError;
use pdata::{Receiver, Sender};
use queue::Queue;

/// Tunables of one association. Every limit has a safe default.
#[derive(Debug, Clone)]
pub struct Config {
    /// ARTIM: how long an acceptor waits for the A-ASSOCIATE-RQ, and how long either side waits
    /// for the transport to close after rejecting, releasing or aborting.
    pub artim_timeout: Duration,
    /// ACSE timeout: how long to wait for an A-ASSOCIATE-AC/RJ or A-RELEASE-RP before aborting.
    pub acse_timeout: Option<Duration>,
    /// Largest length field accepted for an associate PDU (A-ASSOCIATE-RQ/AC).
    pub max_associate_pdu: u32,
    /// Largest command set accepted (they are ~100–300 bytes in practice).
    pub max_command_length: usize,
    /// Largest data set accepted after one command, in bytes; a longer one aborts the
    /// association (a peer whose data set never ends). 0 = no limit.
    pub max_data_set_length: u64,
    /// Most presentation contexts an A-ASSOCIATE-RQ may propose (PS3.8 allows 128: odd IDs
    /// 1–255); more are rejected (permanent, ACSE, no reason given).
    pub max_contexts: usize,
    /// DIMSE timeout: how long our requests in flight may go without data moving (a pending
    /// response, a C-GET sub-operation or our own data set going out restarts it); then
    /// A-ABORT.
    pub dimse_timeout: Option<Duration>,
    /// The longest one request may wait for its final response, pending responses included.
    pub dimse_total_timeout: Option<Duration>,
    /// How long an established association may pass with nothing in flight and no PDU either
    /// way before [`idle_action`](Self::idle_action).
    pub idle_timeout: Option<Duration>,
    /// What an idle association does at the end of its [`idle_timeout`](Self::idle_timeout).
    pub idle_action: IdleAction,
}

/// What to do with an association that stayed idle too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdleAction {
    /// Send A-RELEASE-RQ (some archives count an abort as a failed transfer); if the peer does
    /// not answer, the ACSE timeout aborts.
    #[default]
    Release,
    /// Send A-ABORT.
    Abort,
}

impl std::str::FromStr for IdleAction {
    type Err = String;

    /// `release` or `abort`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "release" => Ok(IdleAction::Release),
            "abort" => Ok(IdleAction::Abort),
            other => Err(format!("idle action {other:?}: expected release or abort")),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            artim_timeout: Duration::from_secs(30),
            acse_timeout: Some(Duration::from_secs(30)),
            max_associate_pdu: 1 << 20,
            max_command_length: 64 * 1024,
            max_data_set_length: 4 << 30,
            max_contexts: 128,
            dimse_timeout: None,
            dimse_total_timeout: None,
            idle_timeout: None,
            idle_action: IdleAction::Release,
        }
    }
}

/// Bytes to write to the transport: a small header and a body (often a slice of a data set),
/// meant for one vectored write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// PDU (and PDV) header bytes, or a whole control PDU.
    pub head: Bytes,
    /// PDV payload; empty for control PDUs.
    pub body: Bytes,
}

impl Transmit {
    /// Total number of bytes.
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What happened on the association, for the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Acceptor: the peer asks to associate. Answer with [`Association::accept`],
    /// [`Association::reject`] or [`Association::respond_with_policy`].
    Requested(Box<AssociateRq>),
    /// The association is established.
    Established(Box<Negotiated>),
    /// Requestor: the peer rejected the association.
    Rejected(AssociateRj),
    /// A DIMSE message arrived: a request of the peer's, or a response to one of ours in
    /// flight (the core has matched it by Message ID and presentation context; a response to
    /// nothing aborts the association). If it announces a data set, [`Event::Data`] follows.
    /// C-CANCEL-RQ comes as [`Event::Cancel`] instead.
    Message {
        /// Presentation context it arrived on.
        context_id: u8,
        /// The message, typed ([`Message::Other`] for command fields without a type).
        message: Message,
    },
    /// The peer cancelled (C-CANCEL-RQ) one of its operations still in progress here; a
    /// cancel that crossed the operation's final response is not reported.
    Cancel {
        /// Presentation context it arrived on.
        context_id: u8,
        /// The operation cancelled: its request's Message ID.
        message_id: u16,
    },
    /// A fragment of the data set of the last message.
    Data {
        /// Presentation context.
        context_id: u8,
        /// The fragment (a slice of the received buffer).
        data: Bytes,
        /// Whether this is the data set's last fragment.
        last: bool,
    },
    /// The peer asks to release; answer with [`Association::respond_release`].
    ReleaseRequested,
    /// The release we asked for completed.
    Released,
    /// The association ended abnormally.
    Aborted(AbortCause),
}

/// Why an association was aborted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AbortCause {
    /// The peer sent an A-ABORT.
    Peer {
        /// Who at the peer aborted.
        source: AbortSource,
        /// Provider reason (see [`pdu::abort_reason`]).
        reason: u8,
    },
    /// The peer broke the protocol; we sent an A-ABORT (A-P-ABORT).
    Protocol(ProtocolError),
    /// The transport closed before the association ended.
    TransportClosed,
    /// The peer did not answer an associate or release request in time; we sent an A-ABORT.
    AcseTimeout,
    /// A request of ours went unanswered past the DIMSE timeout; we sent an A-ABORT.
    DimseTimeout {
        /// The oldest request in flight.
        message_id: u16,
    },
    /// The association stayed idle past the idle timeout; we sent an A-ABORT.
    IdleTimeout,
}

impl fmt::Display for AbortCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbortCause::Peer { source, reason } => match source {
                AbortSource::ServiceUser => f.write_str("peer aborted the association"),
                AbortSource::ServiceProvider => write!(
                    f,
                    "peer's upper layer aborted the association: {}",
                    abort_reason::describe(*reason)
                ),
                AbortSource::Other(s) => {
                    write!(f, "peer aborted (source {s}, reason {reason})")
                }
            },
            AbortCause::Protocol(e) => write!(f, "protocol error, association aborted: {e}"),
            AbortCause::TransportClosed => f.write_str("connection closed by peer"),
            AbortCause::AcseTimeout => {
                f.write_str("peer did not answer the association/release request in time")
            }
            AbortCause::DimseTimeout { message_id } => write!(
                f,
                "no response to request {message_id} within the DIMSE timeout; association aborted"
            ),
            AbortCause::IdleTimeout => f.write_str("association idle too long; aborted"),
        }
    }
}

/// The peer broke the protocol.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A PDU could not be decoded.
    Decode(DecodeError),
    /// A valid PDU that the current state does not allow.
    UnexpectedPdu {
        /// PDU name.
        pdu: &'static str,
        /// State it arrived in.
        state: State,
    },
    /// P-DATA content broke PS3.8 Annex E or PS3.7 framing.
    PData(ReceiveError),
    /// The peer's maximum PDU length cannot carry any data.
    PeerMaxPduTooSmall(u32),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Decode(e) => e.fmt(f),
            ProtocolError::UnexpectedPdu { pdu, state } => {
                write!(f, "unexpected {pdu} in state {state:?}")
            }
            ProtocolError::PData(e) => e.fmt(f),
            ProtocolError::PeerMaxPduTooSmall(n) => {
                write!(f, "peer's maximum PDU length {n} cannot carry a PDV")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// A command the state machine does not allow now (an API misuse; nothing was changed).
///
/// ```
/// use dimse_core::assoc::fsm::State;
/// use dimse_core::assoc::{Operation, Problem, UsageError};
///
/// // What `Association::release` returns before the association is established.
/// let e = UsageError {
///     operation: Operation::Release,
///     state: State::Sta4,
///     problem: Problem::NotEstablished,
/// };
/// assert_eq!(e.to_string(), "release not allowed in state Sta4: not established");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageError {
    /// What was attempted.
    pub operation: Operation,
    /// The state the association was in.
    pub state: State,
    /// Why it is not allowed.
    pub problem: Problem,
}

/// The commands an [`Association`] takes from its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// [`Association::handle_connected`].
    HandleConnected,
    /// [`Association::accept`].
    Accept,
    /// [`Association::reject`].
    Reject,
    /// [`Association::respond_with_policy`].
    RespondWithPolicy,
    /// [`Association::send_command`].
    SendCommand,
    /// [`Association::send_data`].
    SendData,
    /// [`Association::send_message`].
    SendMessage,
    /// [`Association::release`].
    Release,
    /// [`Association::respond_release`].
    RespondRelease,
    /// [`Association::abort`].
    Abort,
}

impl Operation {
    /// The method's name, such as `"send_command"`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::HandleConnected => "handle_connected",
            Operation::Accept => "accept",
            Operation::Reject => "reject",
            Operation::RespondWithPolicy => "respond_with_policy",
            Operation::SendCommand => "send_command",
            Operation::SendData => "send_data",
            Operation::SendMessage => "send_message",
            Operation::Release => "release",
            Operation::RespondRelease => "respond_release",
            Operation::Abort => "abort",
        }
    }
}

/// Why an [`Operation`] is not allowed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// No transport connection is being opened.
    NoConnectionPending,
    /// No A-ASSOCIATE-RQ is waiting for an answer.
    NoRequestAwaitingAnswer,
    /// The association is not established.
    NotEstablished,
    /// A data set announced by the last command is still being sent.
    DataSetUnfinished,
    /// No command announcing a data set on this context precedes the data.
    NoDataSetAnnounced,
    /// The presentation context was not accepted.
    ContextNotAccepted,
    /// No A-RELEASE-RQ is waiting for an answer.
    NoReleaseRequest,
    /// There is no association or connection to abort.
    NothingToAbort,
    /// As many of our requests await their responses as the asynchronous operations window
    /// allows.
    WindowFull,
    /// The response answers no request of the peer's that is still in progress.
    NotInProgress,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::NoConnectionPending => "no connection is pending",
            Problem::NoRequestAwaitingAnswer => "no association request is awaiting an answer",
            Problem::NotEstablished => "not established",
            Problem::DataSetUnfinished => "a data set is still being sent",
            Problem::NoDataSetAnnounced => {
                "no command announcing a data set on this context precedes it"
            }
            Problem::ContextNotAccepted => "presentation context not accepted",
            Problem::NoReleaseRequest => "no release request is awaiting an answer",
            Problem::NothingToAbort => "nothing to abort",
            Problem::WindowFull => "the asynchronous operations window is full",
            Problem::NotInProgress => "it answers no request in progress",
        })
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} not allowed in state {:?}: {}",
            self.operation.name(),
            self.state,
            self.problem
        )
    }
}

impl std::error::Error for UsageError {}

/// The error for `operation` refused in the state the state machine reports.
fn refused(operation: Operation, problem: Problem) -> impl FnOnce(State) -> UsageError {
    move |state| UsageError {
        operation,
        state,
        problem,
    }
}

/// Input that comes with an event.
enum Input {
    None,
    Pdu(Pdu),
    Invalid(ProtocolError),
}

/// One association, requestor or acceptor. See the [module docs](self).
pub struct Association {
    side: Side,
    state: State,
    config: Config,
    request: Option<AssociateRq>,
    negotiated: Option<Negotiated>,
    transmits: VecDeque<Transmit>,
    events: Queue,
    /// What one P-DATA-TF produced, before the exchange checks it.
    arrived: VecDeque<Event>,
    artim: Option<Instant>,
    acse: Option<Instant>,
    activity: Activity,
    scratch: BytesMut,
    receiver: Receiver,
    sender: Sender,
    /// After a framing error the input stream cannot be resynchronised: drop what follows.
    input_poisoned: bool,
    /// Largest P-DATA-TF we receive: what we announce (the requestor's [`Proposal`], the
    /// acceptor's A-ASSOCIATE-AC), so there is no second setting to disagree with it. Before
    /// that, the default bounds what an early P-DATA-TF may cost. 0 = no limit.
    max_pdu: u32,
}

impl fmt::Debug for Association {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Association")
            .field("side", &self.side)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Association {
    /// A requestor that has asked the transport to connect (Evt1, AE-1: Sta4). Call
    /// [`handle_connected`](Self::handle_connected) once the connection is open, or
    /// [`handle_eof`](Self::handle_eof) if it failed.
    pub fn requestor(proposal: &Proposal, config: Config, now: Instant) -> Self {
        let mut a = Self::new(Side::Requestor, config, now);
        a.max_pdu = proposal.max_pdu;
        a.request = Some(proposal.to_request());
        a.state = State::Sta1;
        a.step(now, Evt::Evt1, Input::None)
            .expect("Evt1 is defined in Sta1");
        a
    }

    /// An acceptor for a transport connection that was just accepted (Evt5, AE-5: Sta2, ARTIM
    /// running until the A-ASSOCIATE-RQ arrives).
    pub fn acceptor(config: Config, now: Instant) -> Self {
        let mut a = Self::new(Side::Acceptor, config, now);
        a.step(now, Evt::Evt5, Input::None)
            .expect("Evt5 is defined in Sta1");
        a
    }

    fn new(side: Side, config: Config, now: Instant) -> Self {
        Association {
            side,
            state: State::Sta1,
            receiver: Receiver::new(config.max_command_length, config.max_data_set_length),
            activity: Activity::new(now),
            config,
            request: None,
            negotiated: None,
            transmits: VecDeque::new(),
            events: Queue::new(),
            arrived: VecDeque::new(),
            artim: None,
            acse: None,
            scratch: BytesMut::new(),
            sender: Sender::default(),
            input_poisoned: false,
            max_pdu: DEFAULT_MAX_PDU,
        }
    }

    // ---- getters -------------------------------------------------------------------------

    /// The current PS3.8 state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Which side of the association this is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The negotiated parameters, once established.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The A-ASSOCIATE-RQ: ours as requestor, the peer's as acceptor.
    pub fn request(&self) -> Option<&AssociateRq> {
        self.request.as_ref()
    }

    /// Whether P-DATA may be sent (Sta6, or Sta8 while the peer waits for our release reply).
    pub fn can_send_data(&self) -> bool {
        matches!(self.state, State::Sta6 | State::Sta8)
    }

    /// Whether the association is established and not being released.
    pub fn is_established(&self) -> bool {
        self.state == State::Sta6
    }

    /// Whether the association is over (Sta1): write what is left, then close the transport.
    pub fn is_closed(&self) -> bool {
        self.state == State::Sta1
    }

    /// Whether a data set we started sending still needs its last fragment.
    pub fn is_sending_data(&self) -> bool {
        self.sender.in_data()
    }

    // ---- input ---------------------------------------------------------------------------

    /// Requestor: the transport connection is open (Evt2): the A-ASSOCIATE-RQ is queued.
    pub fn handle_connected(&mut self, now: Instant) -> Result<(), UsageError> {
        self.step(now, Evt::Evt2, Input::None).map_err(refused(
            Operation::HandleConnected,
            Problem::NoConnectionPending,
        ))
    }

    /// Bytes arrived. Whole PDUs are consumed from `buf`; a partial one stays for next time.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        while !self.input_poisoned && self.state != State::Sta1 {
            let limits = pdu::Limits {
                max_pdata_length: self.max_pdu,
                max_associate_length: self.config.max_associate_pdu,
            };
            let result = pdu::decode(buf, &limits);
            match result {
                Ok(None) => return,
                Ok(Some(pdu)) => {
                    self.activity.pdu(now);
                    let event = match &pdu {
                        Pdu::AssociateAc(_) => Evt::Evt3,
                        Pdu::AssociateRj(_) => Evt::Evt4,
                        Pdu::AssociateRq(_) => Evt::Evt6,
                        Pdu::PData(_) => Evt::Evt10,
                        Pdu::ReleaseRq => Evt::Evt12,
                        Pdu::ReleaseRp => Evt::Evt13,
                        Pdu::Abort(_) => Evt::Evt16,
                    };
                    // Peer events in Sta1/Sta4 cannot happen with a connected transport.
                    let _ = self.step(now, event, Input::Pdu(pdu));
                }
                Err(e) => {
                    self.input_poisoned = true;
                    let _ = self.step(now, Evt::Evt19, Input::Invalid(ProtocolError::Decode(e)));
                }
            }
        }
        if self.input_poisoned {
            buf.clear();
        }
    }

    /// The transport closed or failed (Evt17).
    pub fn handle_eof(&mut self, now: Instant) {
        let _ = self.step(now, Evt::Evt17, Input::None);
    }

    /// A deadline from [`poll_timeout`](Self::poll_timeout) may have passed. Calling this early
    /// is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.artim.is_some_and(|t| t <= now) {
            self.artim = None;
            let _ = self.step(now, Evt::Evt18, Input::None);
        }
        if self.acse.is_some_and(|t| t <= now) {
            self.acse = None;
            // PS3.8 leaves these waits to the layer above ARTIM: it aborts (Evt15).
            if self.step(now, Evt::Evt15, Input::None).is_ok() {
                self.events.push(Event::Aborted(AbortCause::AcseTimeout));
            }
        }
        if let Some((at, message_id)) = self.dimse_deadline() {
            if at <= now && self.step(now, Evt::Evt15, Input::None).is_ok() {
                self.events
                    .push(Event::Aborted(AbortCause::DimseTimeout { message_id }));
            }
        }
        if self.idle_deadline().is_some_and(|at| at <= now) {
            match self.config.idle_action {
                IdleAction::Release => {
                    let _ = self.release(now);
                }
                IdleAction::Abort => {
                    if self.step(now, Evt::Evt15, Input::None).is_ok() {
                        self.events.push(Event::Aborted(AbortCause::IdleTimeout));
                    }
                }
            }
        }
    }

    fn dimse_deadline(&self) -> Option<(Instant, u16)> {
        if !self.can_send_data() {
            return None;
        }
        self.activity
            .dimse_deadline(self.config.dimse_timeout, self.config.dimse_total_timeout)
    }

    fn idle_deadline(&self) -> Option<Instant> {
        if !self.is_established() || self.sender.in_data() {
            return None;
        }
        self.activity.idle_deadline(self.config.idle_timeout)
    }

    // ---- output --------------------------------------------------------------------------

    /// The next bytes to write, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the application, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// The next event that concerns operations already in progress (a response to one of
    /// our requests and its data, [`Event::Cancel`], [`Event::Released`], [`Event::Aborted`]),
    /// passing over the requests the peer pipelined (with their data) and its release
    /// request, which stay queued in order for [`poll_event`](Self::poll_event). For a driver
    /// busy serving one request that must keep reading meanwhile.
    pub fn poll_operation_event(&mut self) -> Option<Event> {
        self.events.pop_now()
    }

    /// Events waiting to be polled, and roughly the bytes they hold (a data fragment counts
    /// its length). A driver busy with one operation may stop reading past a bound of its
    /// own, leaving a peer that pipelines to TCP flow control.
    pub fn queued_events(&self) -> (usize, usize) {
        (self.events.len(), self.events.bytes())
    }

    /// The earliest deadline the driver must report back through
    /// [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.artim,
            self.acse,
            self.dimse_deadline().map(|(at, _)| at),
            self.idle_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Number of queued transmits (a driver may bound its writes by it).
    pub fn queued_transmits(&self) -> usize {
        self.transmits.len()
    }

    // ---- commands ------------------------------------------------------------------------

    /// Acceptor: accept the pending request with this A-ASSOCIATE-AC (Evt7).
    pub fn accept(&mut self, now: Instant, ac: AssociateAc) -> Result<(), UsageError> {
        self.step(now, Evt::Evt7, Input::Pdu(Pdu::AssociateAc(ac)))
            .map_err(refused(Operation::Accept, Problem::NoRequestAwaitingAnswer))
    }

    /// Acceptor: reject the pending request (Evt8).
    pub fn reject(&mut self, now: Instant, rj: AssociateRj) -> Result<(), UsageError> {
        self.step(now, Evt::Evt8, Input::Pdu(Pdu::AssociateRj(rj)))
            .map_err(refused(Operation::Reject, Problem::NoRequestAwaitingAnswer))
    }

    /// Acceptor: answer the pending request as `policy` decides. Returns the rejection reason
    /// when it rejected.
    pub fn respond_with_policy(
        &mut self,
        now: Instant,
        policy: &AcceptorPolicy,
    ) -> Result<Option<RejectReason>, UsageError> {
        let Some(rq) = self.request.as_ref().filter(|_| self.state == State::Sta3) else {
            return Err(self.usage(
                Operation::RespondWithPolicy,
                Problem::NoRequestAwaitingAnswer,
            ));
        };
        match policy.evaluate(rq) {
            Ok(ac) => self.accept(now, ac).map(|_| None),
            Err(reason) => self
                .reject(now, AssociateRj::new(Rejection::Permanent, reason))
                .map(|_| Some(reason)),
        }
    }

    /// Send a command set on `context_id` (Evt9). If the command announces a data set
    /// (CommandDataSetType ≠ 0x0101), follow it with [`send_data`](Self::send_data) until
    /// `last`; nothing else may be sent in between (PS3.8 Annex E forbids interleaving).
    pub fn send_command(
        &mut self,
        now: Instant,
        context_id: u8,
        command: &CommandSet,
    ) -> Result<(), UsageError> {
        self.check_send(Operation::SendCommand, context_id)?;
        if self.sender.in_data() {
            return Err(self.usage(Operation::SendCommand, Problem::DataSetUnfinished));
        }
        let mut encoded = BytesMut::with_capacity(command.encoded_len());
        command.encode(&mut encoded);
        let has_data = pdata::announces_data_set(command);
        self.step(now, Evt::Evt9, Input::None)
            .map_err(refused(Operation::SendCommand, Problem::NotEstablished))?;
        self.activity.sent(now, context_id, command);
        let max = self.max_fragment();
        self.sender.start(context_id, has_data);
        pdata::fragment(
            &mut self.transmits,
            &mut self.scratch,
            context_id,
            true,
            encoded.freeze(),
            true,
            max,
        );
        Ok(())
    }

    /// Send a DIMSE message on `context_id` (Evt9); if it announces a data set, follow it with
    /// [`send_data`](Self::send_data). Unlike [`send_command`](Self::send_command), which sends
    /// any command set (to test a peer with a broken one, say), this keeps the exchange's
    /// rules: a request must fit in the asynchronous operations window agreed (PS3.7
    /// D.3.3.3; [`request_window`](Self::request_window)), and a response must answer a
    /// request of the peer's still in progress.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use dimse_core::assoc::{Association, Config, Operation, Problem, Proposal};
    /// use dimse_core::dimse::{CEchoRq, CEchoRsp, Status};
    ///
    /// # let now = Instant::now();
    /// let mut assoc = Association::requestor(&Proposal::new("SCU", "SCP"), Config::default(), now);
    /// // Not established yet: refused, nothing sent.
    /// let e = assoc.send_message(now, 1, &CEchoRq::new(1)).unwrap_err();
    /// assert_eq!((e.operation, e.problem), (Operation::SendMessage, Problem::NotEstablished));
    /// ```
    pub fn send_message<M: DimseMessage>(
        &mut self,
        now: Instant,
        context_id: u8,
        message: &M,
    ) -> Result<(), UsageError> {
        let op = Operation::SendMessage;
        let response = crate::dimse::command_field::is_response(M::COMMAND_FIELD);
        // While the peer's A-RELEASE-RQ waits for our answer (Sta8), PS3.8 still lets P-DATA
        // out (AR-7): a request read just before the release gets its response. A new
        // request of ours has no place there.
        if !(self.is_established() || (response && self.state == State::Sta8)) {
            return Err(self.usage(op, Problem::NotEstablished));
        }
        let command = message.to_command();
        if response {
            let answered = command.get_u16(crate::dimse::tags::MESSAGE_ID_BEING_RESPONDED_TO);
            if !answered.is_some_and(|id| self.activity.is_serving(id)) {
                return Err(self.usage(op, Problem::NotInProgress));
            }
        } else if M::COMMAND_FIELD != crate::dimse::command_field::C_CANCEL_RQ
            && self
                .request_window()
                .is_some_and(|w| self.activity.in_flight() >= w)
        {
            return Err(self.usage(op, Problem::WindowFull));
        }
        self.send_command(now, context_id, &command)
            .map_err(|e| UsageError { operation: op, ..e })
    }

    /// How many requests of ours may await their responses at once: the asynchronous
    /// operations window agreed (PS3.7 D.3.3.3), 1 when none was negotiated, `None` when
    /// unlimited (or not established yet). The requestor invokes up to the window's first
    /// number, the acceptor up to its second.
    pub fn request_window(&self) -> Option<usize> {
        let (invoked, performed) = self.negotiated.as_ref()?.async_window;
        let window = match self.side {
            Side::Requestor => invoked,
            Side::Acceptor => performed,
        };
        (window != 0).then_some(usize::from(window))
    }

    /// Requests of ours awaiting their final response.
    pub fn requests_in_flight(&self) -> usize {
        self.activity.in_flight()
    }

    /// Send a fragment of the data set announced by the last command (Evt9). `data` may be any
    /// size: it is cut into PDUs the peer accepts without copying. Pieces other than the last
    /// should have even length (PS3.8 Annex E).
    pub fn send_data(
        &mut self,
        now: Instant,
        context_id: u8,
        data: Bytes,
        last: bool,
    ) -> Result<(), UsageError> {
        self.check_send(Operation::SendData, context_id)?;
        if !self.sender.expects_data(context_id) {
            return Err(self.usage(Operation::SendData, Problem::NoDataSetAnnounced));
        }
        self.step(now, Evt::Evt9, Input::None)
            .map_err(refused(Operation::SendData, Problem::NotEstablished))?;
        self.activity.data(now);
        let max = self.max_fragment();
        pdata::fragment(
            &mut self.transmits,
            &mut self.scratch,
            context_id,
            false,
            data,
            last,
            max,
        );
        if last {
            self.sender.finish();
        }
        Ok(())
    }

    /// Ask to release the association (Evt11, AR-1).
    pub fn release(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.sender.in_data() {
            return Err(self.usage(Operation::Release, Problem::DataSetUnfinished));
        }
        self.step(now, Evt::Evt11, Input::None)
            .map_err(refused(Operation::Release, Problem::NotEstablished))
    }

    /// Answer the peer's release request (Evt14).
    pub fn respond_release(&mut self, now: Instant) -> Result<(), UsageError> {
        self.step(now, Evt::Evt14, Input::None).map_err(refused(
            Operation::RespondRelease,
            Problem::NoReleaseRequest,
        ))
    }

    /// Abort the association (Evt15): an A-ABORT is queued and the transport should close.
    pub fn abort(&mut self, now: Instant) -> Result<(), UsageError> {
        self.step(now, Evt::Evt15, Input::None)
            .map_err(refused(Operation::Abort, Problem::NothingToAbort))
    }

    // ---- machinery -----------------------------------------------------------------------

    fn usage(&self, operation: Operation, problem: Problem) -> UsageError {
        UsageError {
            operation,
            state: self.state,
            problem,
        }
    }

    fn check_send(&self, operation: Operation, context_id: u8) -> Result<(), UsageError> {
        let accepted = self
            .negotiated
            .as_ref()
            .and_then(|n| n.context(context_id))
            .is_some_and(|c| c.is_accepted());
        if !self.can_send_data() {
            return Err(self.usage(operation, Problem::NotEstablished));
        }
        if !accepted {
            return Err(self.usage(operation, Problem::ContextNotAccepted));
        }
        Ok(())
    }

    /// Largest data-set fragment one PDU carries to this peer: its maximum PDU less the 6-byte
    /// PDV header, rounded down to even (before negotiation, the value for an unlimited peer).
    /// [`send_data`](Self::send_data) pieces that are multiples of it fill every PDU but the
    /// last, which saves the peer reads.
    pub fn max_fragment(&self) -> usize {
        let peer = self.negotiated.as_ref().map_or(0, |n| n.peer_max_pdu);
        let max = if peer == 0 { UNLIMITED_SEND_PDU } else { peer };
        ((max - 6) & !1) as usize
    }

    fn push_pdu(&mut self, pdu: &Pdu) {
        let mut buf = BytesMut::with_capacity(pdu::encoded_len(pdu));
        pdu::encode(pdu, &mut buf);
        self.transmits.push_back(Transmit {
            head: buf.freeze(),
            body: Bytes::new(),
        });
    }

    fn start_artim(&mut self, now: Instant) {
        self.artim = Some(now + self.config.artim_timeout);
    }

    fn start_acse(&mut self, now: Instant) {
        self.acse = self.config.acse_timeout.map(|d| now + d);
    }

    /// Run `event` through Table 9-10. Returns the unchanged state when the table has no
    /// entry (a local primitive in the wrong state, or a peer event with no transport).
    fn step(&mut self, now: Instant, event: Evt, input: Input) -> Result<(), State> {
        let Some((action, next)) = fsm::transition(self.state, event, self.side) else {
            return Err(self.state);
        };
        let from = self.state;
        self.state = next;
        match action {
            Action::Ae1 => {}
            Action::Ae2 => {
                let rq = self.request.clone().expect("requestor has a request");
                self.push_pdu(&Pdu::AssociateRq(rq));
                self.start_acse(now);
            }
            Action::Ae3 => {
                self.acse = None;
                let Input::Pdu(Pdu::AssociateAc(ac)) = input else {
                    unreachable!("Evt3 carries an A-ASSOCIATE-AC")
                };
                let rq = self.request.as_ref().expect("requestor has a request");
                let negotiated = Negotiated::from_exchange(rq, &ac, true);
                self.establish(now, negotiated);
            }
            Action::Ae4 => {
                self.acse = None;
                if let Input::Pdu(Pdu::AssociateRj(rj)) = input {
                    self.events.push(Event::Rejected(rj));
                }
            }
            Action::Ae5 => self.start_artim(now),
            Action::Ae6 => {
                self.artim = None;
                let Input::Pdu(Pdu::AssociateRq(rq)) = input else {
                    unreachable!("Evt6 carries an A-ASSOCIATE-RQ")
                };
                let refusal = if rq.protocol_version & 1 == 0 {
                    // Not acceptable to the provider itself: PS3.8 §9.3.2 tests only bit 0.
                    Some(RejectReason::ProtocolVersionNotSupported)
                } else if rq.presentation_contexts().count() > self.config.max_contexts {
                    Some(RejectReason::AcseNoReason)
                } else {
                    None
                };
                if let Some(reason) = refusal {
                    let rj = AssociateRj::new(Rejection::Permanent, reason);
                    self.push_pdu(&Pdu::AssociateRj(rj));
                    self.start_artim(now);
                    self.state = State::Sta13;
                } else {
                    self.request = Some(rq.clone());
                    self.events.push(Event::Requested(Box::new(rq)));
                }
            }
            Action::Ae7 => {
                let Input::Pdu(Pdu::AssociateAc(ac)) = input else {
                    unreachable!("accept passes an A-ASSOCIATE-AC")
                };
                let rq = self.request.as_ref().expect("acceptor holds the request");
                let negotiated = Negotiated::from_exchange(rq, &ac, false);
                // Enforce what the AC announces.
                self.max_pdu = negotiated.local_max_pdu;
                self.push_pdu(&Pdu::AssociateAc(ac));
                self.establish(now, negotiated);
            }
            Action::Ae8 => {
                let Input::Pdu(pdu) = input else {
                    unreachable!("reject passes an A-ASSOCIATE-RJ")
                };
                self.push_pdu(&pdu);
                self.start_artim(now);
            }
            // Sending P-DATA: the caller queues the fragments once the table said yes.
            Action::Dt1 | Action::Ar7 => {}
            Action::Dt2 | Action::Ar6 => {
                let Input::Pdu(Pdu::PData(pdata)) = input else {
                    unreachable!("Evt10 carries a P-DATA-TF")
                };
                let negotiated = self.negotiated.as_ref();
                let mut result = self.receiver.receive(pdata, negotiated, &mut self.arrived);
                self.activity.data(now);
                while let Some(event) = self.arrived.pop_front() {
                    let Event::Message {
                        context_id,
                        message,
                    } = &event
                    else {
                        self.events.push(event);
                        continue;
                    };
                    match self.activity.received(*context_id, message) {
                        Ok(Receipt::Deliver) => self.events.push(event),
                        Ok(Receipt::Cancel(message_id)) => self.events.push(Event::Cancel {
                            context_id: *context_id,
                            message_id,
                        }),
                        Ok(Receipt::Drop) => {}
                        Err(e) => {
                            // The user never sees the stray response, only the abort.
                            self.arrived.clear();
                            result = result.and(Err(e));
                        }
                    }
                }
                if let Err(e) = result {
                    self.input_poisoned = true;
                    let _ = self.step(now, Evt::Evt19, Input::Invalid(ProtocolError::PData(e)));
                }
            }
            Action::Ar1 => {
                self.push_pdu(&Pdu::ReleaseRq);
                self.start_acse(now);
            }
            Action::Ar2 => self.events.push(Event::ReleaseRequested),
            Action::Ar3 => {
                self.acse = None;
                self.events.push(Event::Released);
            }
            Action::Ar4 => {
                self.push_pdu(&Pdu::ReleaseRp);
                self.start_artim(now);
            }
            Action::Ar5 => self.artim = None,
            Action::Ar8 => {
                // Release collision: the requestor answers first (Sta9); the acceptor may only
                // answer after the requestor's A-RELEASE-RP (AR-10), so it hears of it then.
                if self.side == Side::Requestor {
                    self.events.push(Event::ReleaseRequested);
                }
            }
            Action::Ar9 => self.push_pdu(&Pdu::ReleaseRp),
            Action::Ar10 => {
                // Our release request is answered: what remains is our own user's reply.
                self.acse = None;
                self.events.push(Event::ReleaseRequested);
            }
            Action::Aa1 => {
                // In Sta2 the standard names the service user as source though no user has
                // seen the association; DCMTK and pynetdicom send source 0, reason 0 too.
                self.push_pdu(&Pdu::Abort(pdu::Abort::new(AbortSource::ServiceUser, 0)));
                self.acse = None;
                self.start_artim(now);
            }
            Action::Aa2 | Action::Aa5 => self.artim = None,
            Action::Aa3 => {
                self.acse = None;
                if let Input::Pdu(Pdu::Abort(a)) = input {
                    self.events.push(Event::Aborted(AbortCause::Peer {
                        source: a.source,
                        reason: a.reason,
                    }));
                }
            }
            Action::Aa4 => {
                self.acse = None;
                self.events
                    .push(Event::Aborted(AbortCause::TransportClosed));
            }
            Action::Aa6 => {}
            Action::Aa7 => {
                let reason = reason_for(&input);
                self.push_pdu(&Pdu::Abort(pdu::Abort::new(
                    AbortSource::ServiceProvider,
                    reason,
                )));
            }
            Action::Aa8 => {
                let reason = reason_for(&input);
                self.push_pdu(&Pdu::Abort(pdu::Abort::new(
                    AbortSource::ServiceProvider,
                    reason,
                )));
                self.acse = None;
                self.start_artim(now);
                let error = match input {
                    Input::Invalid(e) => e,
                    Input::Pdu(p) => ProtocolError::UnexpectedPdu {
                        pdu: p.name(),
                        state: from,
                    },
                    Input::None => ProtocolError::UnexpectedPdu {
                        pdu: "none",
                        state: from,
                    },
                };
                self.events
                    .push(Event::Aborted(AbortCause::Protocol(error)));
            }
        }
        Ok(())
    }

    fn establish(&mut self, now: Instant, negotiated: Negotiated) {
        let peer_max = negotiated.peer_max_pdu;
        self.negotiated = Some(negotiated.clone());
        if peer_max != 0 && peer_max < MIN_PEER_MAX_PDU {
            // Nothing could ever be sent: give up now rather than loop later.
            self.input_poisoned = true;
            let _ = self.step(
                now,
                Evt::Evt19,
                Input::Invalid(ProtocolError::PeerMaxPduTooSmall(peer_max)),
            );
            return;
        }
        self.events.push(Event::Established(Box::new(negotiated)));
    }
}

fn reason_for(input: &Input) -> u8 {
    match input {
        Input::Invalid(ProtocolError::Decode(e)) => e.abort_reason(),
        Input::Invalid(_) => abort_reason::INVALID_PDU_PARAMETER_VALUE,
        Input::Pdu(_) => abort_reason::UNEXPECTED_PDU,
        Input::None => abort_reason::NOT_SPECIFIED,
    }
}
