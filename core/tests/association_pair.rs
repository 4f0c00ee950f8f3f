//! Two `Association`s talking to each other in memory.
//!
//! `Pair` (in the spirit of quinn-proto's test pair) holds a requestor and an acceptor, a
//! virtual clock that only moves when a test says so, and a `drive()` that carries every
//! transmit from one side into the other's input until nothing moves. Every transmit is decoded
//! on the way (each must be exactly one PDU), so tests assert on the PDUs that crossed the wire
//! as well as on events and PS3.8 states. Hand-built or broken PDUs are fed with `inject`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::fsm::State;
use dimse_core::assoc::{
    AbortCause, AcceptorPolicy, Association, Config, Event, IdleAction, Operation, Problem,
    Proposal, ProposedContext, ProtocolError, ReceiveError, SupportedSyntax, UsageError,
};
use dimse_core::dimse::{
    CCancelRq, CEchoRq, CEchoRsp, CStoreRq, CStoreRsp, CommandSet, DimseMessage, Message, Priority,
    Status,
};
use dimse_core::pdu::{
    self, abort_reason, Abort, AbortSource, AssociateRj, AssociateRq, DecodeError, Limits, PData,
    Pdu, Pdv, RejectReason, Rejection,
};
use dimse_core::uid;
use proptest::collection::vec;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Harness

/// Distinct values so that a test can tell which timer a deadline belongs to.
const ARTIM: Duration = Duration::from_secs(10);
const ACSE: Duration = Duration::from_secs(25);
const TICK: Duration = Duration::from_millis(1);

/// Context IDs of [`proposal`]: 1 and 3 are accepted by [`policy`], 5 is rejected, 7 was never
/// proposed.
const ECHO_CTX: u8 = 1;
const STORE_CTX: u8 = 3;
const REJECTED_CTX: u8 = 5;
const UNPROPOSED_CTX: u8 = 7;

fn config() -> Config {
    Config {
        artim_timeout: ARTIM,
        acse_timeout: Some(ACSE),
        ..Config::default()
    }
}

fn proposal() -> Proposal {
    let mut p = Proposal::new("SCU", "SCP");
    p.contexts.push(ProposedContext::new(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    p.contexts.push(ProposedContext::new(
        uid::CT_IMAGE_STORAGE,
        &[uid::IMPLICIT_VR_LE, uid::EXPLICIT_VR_LE],
    ));
    p.contexts
        .push(ProposedContext::new("1.2.3.4", &[uid::IMPLICIT_VR_LE]));
    p
}

fn policy() -> AcceptorPolicy {
    let mut p = AcceptorPolicy::new("SCP");
    p.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    p.supported.push(SupportedSyntax::uid(
        uid::CT_IMAGE_STORAGE,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    ));
    p
}

/// One side of the pair with what it has said and heard.
struct Endpoint {
    assoc: Association,
    /// Bytes the peer wrote that this side has not been given yet.
    in_flight: BytesMut,
    /// Bytes given to `handle_input` and not consumed (a partial PDU).
    inbox: BytesMut,
    /// Bytes this side wrote that `drive` has not carried to the peer yet.
    outbox: Vec<Bytes>,
    /// Every PDU this side wrote that a test has not looked at yet.
    sent: Vec<Pdu>,
    events: VecDeque<Event>,
    /// Largest number of bytes given to one `handle_input` call (1 = byte by byte).
    chunk: usize,
}

impl Endpoint {
    fn new(assoc: Association) -> Self {
        Endpoint {
            assoc,
            in_flight: BytesMut::new(),
            inbox: BytesMut::new(),
            outbox: Vec::new(),
            sent: Vec::new(),
            events: VecDeque::new(),
            chunk: usize::MAX,
        }
    }

    fn state(&self) -> State {
        self.assoc.state()
    }

    /// Takes what the association queued for the transport: decoded into `sent`, raw into
    /// `outbox`.
    fn flush(&mut self) {
        while let Some(t) = self.assoc.poll_transmit() {
            let mut raw = BytesMut::with_capacity(t.len());
            raw.extend_from_slice(&t.head);
            raw.extend_from_slice(&t.body);
            let raw = raw.freeze();
            self.sent.push(decode_one(&raw));
            self.outbox.push(raw);
        }
        while let Some(e) = self.assoc.poll_event() {
            self.events.push_back(e);
        }
    }

    /// Hands everything in flight to the association, `chunk` bytes at a time.
    fn feed(&mut self, now: Instant) {
        while !self.in_flight.is_empty() {
            let n = self.chunk.min(self.in_flight.len());
            let piece = self.in_flight.split_to(n);
            self.inbox.extend_from_slice(&piece);
            self.assoc.handle_input(now, &mut self.inbox);
        }
        self.flush();
    }

    /// Bytes arrive from the peer that did not come from the peer's association (hand-built or
    /// corrupted PDUs). What this side answers stays in `outbox` for the next `drive`.
    fn inject(&mut self, now: Instant, bytes: &[u8]) {
        self.in_flight.extend_from_slice(bytes);
        self.feed(now);
    }

    fn timeout(&mut self, now: Instant) {
        self.assoc.handle_timeout(now);
        self.flush();
    }

    /// The transport reports that the connection closed.
    fn eof(&mut self, now: Instant) {
        self.assoc.handle_eof(now);
        self.flush();
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.flush();
        self.events.drain(..).collect()
    }

    /// The PDUs written since the last call (including ones `drive` has not delivered yet).
    fn take_sent(&mut self) -> Vec<Pdu> {
        self.flush();
        std::mem::take(&mut self.sent)
    }

    /// Like `take_sent`, but the bytes never reach the peer (a man in the middle).
    fn intercept(&mut self) -> Vec<Pdu> {
        self.flush();
        self.outbox.clear();
        std::mem::take(&mut self.sent)
    }
}

struct Pair {
    /// The virtual clock. Only `advance*` moves it; nothing here ever sleeps.
    now: Instant,
    rq: Endpoint,
    ac: Endpoint,
}

impl Pair {
    /// A requestor that is connecting (Sta4) and an acceptor with a fresh transport (Sta2).
    fn new(proposal: &Proposal, rq_config: Config, ac_config: Config) -> Self {
        let now = Instant::now();
        Pair {
            now,
            rq: Endpoint::new(Association::requestor(proposal, rq_config, now)),
            ac: Endpoint::new(Association::acceptor(ac_config, now)),
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    fn advance_to(&mut self, to: Instant) {
        assert!(to >= self.now, "the clock never goes back");
        self.now = to;
    }

    fn set_chunk(&mut self, chunk: usize) {
        self.rq.chunk = chunk;
        self.ac.chunk = chunk;
    }

    /// Carries bytes both ways until neither side has anything more to write.
    fn drive(&mut self) {
        for _ in 0..100_000 {
            self.rq.flush();
            self.ac.flush();
            if self.rq.outbox.is_empty() && self.ac.outbox.is_empty() {
                return;
            }
            for raw in self.rq.outbox.drain(..) {
                self.ac.in_flight.extend_from_slice(&raw);
            }
            for raw in self.ac.outbox.drain(..) {
                self.rq.in_flight.extend_from_slice(&raw);
            }
            self.rq.feed(self.now);
            self.ac.feed(self.now);
        }
        panic!("the pair never went quiet");
    }
}

/// Connected, the A-ASSOCIATE-RQ delivered: requestor in Sta5, acceptor in Sta3 holding one
/// `Event::Requested` (left for the test).
fn requested(proposal: &Proposal, rq_config: Config, ac_config: Config) -> Pair {
    let mut p = Pair::new(proposal, rq_config, ac_config);
    p.rq.assoc.handle_connected(p.now).unwrap();
    p.drive();
    assert_eq!(p.rq.state(), State::Sta5);
    assert_eq!(p.ac.state(), State::Sta3);
    assert_eq!(
        p.rq.take_sent(),
        vec![Pdu::AssociateRq(proposal.to_request())]
    );
    p
}

/// Established with `policy`; the handshake's events and PDUs are checked and cleared.
fn established_with(
    proposal: &Proposal,
    policy: &AcceptorPolicy,
    rq_config: Config,
    ac_config: Config,
) -> Pair {
    let mut p = requested(proposal, rq_config, ac_config);
    assert!(matches!(p.ac.take_events()[..], [Event::Requested(_)]));
    assert_eq!(p.ac.assoc.respond_with_policy(p.now, policy), Ok(None));
    p.drive();
    assert_eq!(p.rq.state(), State::Sta6);
    assert_eq!(p.ac.state(), State::Sta6);
    for side in [&mut p.rq, &mut p.ac] {
        let negotiated = side.assoc.negotiated().unwrap().clone();
        assert_eq!(
            side.take_events(),
            vec![Event::Established(Box::new(negotiated))]
        );
        side.take_sent();
    }
    p
}

fn established() -> Pair {
    established_with(&proposal(), &policy(), config(), config())
}

// ---- PDU helpers ----------------------------------------------------------------------------

fn encode(pdu: &Pdu) -> Bytes {
    let mut buf = BytesMut::new();
    pdu::encode(pdu, &mut buf);
    buf.freeze()
}

/// Decodes a transmit, which must hold exactly one well-formed PDU.
fn decode_one(raw: &[u8]) -> Pdu {
    let mut buf = BytesMut::from(raw);
    let limits = Limits {
        max_pdata_length: 0,
        max_associate_length: 0,
    };
    let pdu = pdu::decode(&mut buf, &limits)
        .expect("we only transmit valid PDUs")
        .expect("a transmit is a whole PDU");
    assert!(buf.is_empty(), "a transmit is exactly one PDU");
    pdu
}

fn pdv(context_id: u8, control: u8, data: &[u8]) -> Pdv {
    Pdv {
        context_id,
        control,
        data: Bytes::copy_from_slice(data),
    }
}

fn pdata(pdvs: Vec<Pdv>) -> Bytes {
    encode(&Pdu::PData(PData { pdvs }))
}

/// A whole command in one PDV.
fn command_pdu(context_id: u8, command: &CommandSet) -> Bytes {
    pdata(vec![pdv(
        context_id,
        Pdv::COMMAND | Pdv::LAST,
        &command.to_bytes(),
    )])
}

fn abort(source: AbortSource, reason: u8) -> Pdu {
    Pdu::Abort(Abort::new(source, reason))
}

/// An A-ABORT our provider sends when the peer broke the protocol.
fn provider_abort(reason: u8) -> Pdu {
    abort(AbortSource::ServiceProvider, reason)
}

/// What the peer of a provider abort hears.
fn peer_provider_abort(reason: u8) -> Event {
    Event::Aborted(AbortCause::Peer {
        source: AbortSource::ServiceProvider,
        reason,
    })
}

fn peer_user_abort() -> Event {
    Event::Aborted(AbortCause::Peer {
        source: AbortSource::ServiceUser,
        reason: 0,
    })
}

fn protocol_abort(e: ProtocolError) -> Event {
    Event::Aborted(AbortCause::Protocol(e))
}

fn pdvs_of(pdu: &Pdu) -> &[Pdv] {
    match pdu {
        Pdu::PData(p) => &p.pdvs,
        other => panic!("expected P-DATA-TF, got {other:?}"),
    }
}

fn the_command(events: &[Event]) -> (u8, CommandSet) {
    match events {
        [Event::Message {
            context_id,
            message,
        }] => (*context_id, message.to_command()),
        other => panic!("expected one command, got {other:?}"),
    }
}

/// A usage error for `operation` in `state`.
fn assert_usage<T: std::fmt::Debug>(result: Result<T, UsageError>, operation: &str, state: State) {
    let e = result.expect_err("the call must be refused");
    assert_eq!((e.operation.name(), e.state), (operation, state), "{e}");
}

/// A pseudo-random data set (so a misplaced fragment cannot go unnoticed).
fn data_set(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect::<Vec<u8>>()
        .into()
}

// ---------------------------------------------------------------------------------------------
// 1. The normal life: associate, C-ECHO, release

#[test]
fn echo_then_release() {
    let mut p = Pair::new(&proposal(), config(), config());
    assert_eq!(p.rq.state(), State::Sta4);
    assert_eq!(p.ac.state(), State::Sta2);

    p.rq.assoc.handle_connected(p.now).unwrap();
    p.drive();
    let rq_pdu = proposal().to_request();
    assert_eq!(p.rq.take_sent(), vec![Pdu::AssociateRq(rq_pdu.clone())]);
    assert_eq!(
        p.ac.take_events(),
        vec![Event::Requested(Box::new(rq_pdu.clone()))]
    );
    // ARTIM stopped on the RQ; the acceptor now waits for its own user without a timer.
    assert_eq!(p.ac.assoc.poll_timeout(), None);
    assert_eq!(p.rq.assoc.poll_timeout(), Some(p.now + ACSE));

    assert_eq!(p.ac.assoc.respond_with_policy(p.now, &policy()), Ok(None));
    p.drive();
    let ac_pdu = policy().evaluate(&rq_pdu).unwrap();
    assert_eq!(p.ac.take_sent(), vec![Pdu::AssociateAc(ac_pdu)]);
    assert_eq!((p.rq.state(), p.ac.state()), (State::Sta6, State::Sta6));
    assert_eq!(
        p.rq.assoc.poll_timeout(),
        None,
        "ACSE timer stopped by the AC"
    );

    // Both sides computed the same view of the negotiation.
    let n = p.rq.assoc.negotiated().unwrap().clone();
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Established(Box::new(n.clone()))]
    );
    let m = p.ac.assoc.negotiated().unwrap().clone();
    assert_eq!(
        p.ac.take_events(),
        vec![Event::Established(Box::new(m.clone()))]
    );
    assert_eq!(n.contexts, m.contexts);
    let ctx = n.context(ECHO_CTX).unwrap();
    assert!(ctx.is_accepted());
    assert_eq!(ctx.transfer_syntax, uid::IMPLICIT_VR_LE);
    assert_eq!(
        n.context(STORE_CTX).unwrap().transfer_syntax,
        uid::EXPLICIT_VR_LE
    );
    assert!(!n.context(REJECTED_CTX).unwrap().is_accepted());
    assert_eq!(
        (n.peer_max_pdu, m.peer_max_pdu),
        (policy().max_pdu, proposal().max_pdu)
    );

    // C-ECHO.
    let echo = CEchoRq::new(1);
    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &echo.to_command())
        .unwrap();
    p.drive();
    let sent = p.rq.take_sent();
    assert_eq!(
        sent,
        vec![Pdu::PData(PData {
            pdvs: vec![pdv(ECHO_CTX, 0x03, &echo.to_command().to_bytes())]
        })]
    );
    let (ctx, cmd) = the_command(&p.ac.take_events());
    assert_eq!(ctx, ECHO_CTX);
    let received = CEchoRq::from_command(&cmd).unwrap();
    assert_eq!(received, echo);

    let rsp = CEchoRsp::for_request(&received, Status::SUCCESS);
    p.ac.assoc
        .send_command(p.now, ECHO_CTX, &rsp.to_command())
        .unwrap();
    p.drive();
    assert_eq!(p.ac.take_sent().len(), 1);
    let (ctx, cmd) = the_command(&p.rq.take_events());
    assert_eq!(ctx, ECHO_CTX);
    assert_eq!(CEchoRsp::from_command(&cmd).unwrap(), rsp);

    // Release: the requestor asks, the acceptor answers and waits for the close.
    p.advance(Duration::from_secs(1));
    p.rq.assoc.release(p.now).unwrap();
    assert_eq!(p.rq.state(), State::Sta7);
    assert_eq!(p.rq.assoc.poll_timeout(), Some(p.now + ACSE));
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![Pdu::ReleaseRq]);
    assert_eq!(p.ac.state(), State::Sta8);
    assert_eq!(p.ac.take_events(), vec![Event::ReleaseRequested]);
    assert!(p.ac.assoc.can_send_data() && !p.ac.assoc.is_established());

    p.ac.assoc.respond_release(p.now).unwrap();
    assert_eq!(p.ac.state(), State::Sta13);
    assert_eq!(p.ac.assoc.poll_timeout(), Some(p.now + ARTIM));
    p.drive();
    assert_eq!(p.ac.take_sent(), vec![Pdu::ReleaseRp]);

    // AR-3: the requestor is done and closes the transport.
    assert_eq!(p.rq.state(), State::Sta1);
    assert!(p.rq.assoc.is_closed());
    assert_eq!(p.rq.take_events(), vec![Event::Released]);
    assert_eq!(p.rq.assoc.poll_timeout(), None);

    // AR-5: the acceptor sees the close.
    p.ac.eof(p.now);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!(p.ac.take_events(), vec![]);
    assert_eq!(p.ac.assoc.poll_timeout(), None);
    assert_eq!((p.rq.take_sent(), p.ac.take_sent()), (vec![], vec![]));
}

/// The same conversation with the bytes arriving in small pieces: every PDU is split across
/// `handle_input` calls, so the decoder must keep partial PDUs between calls.
#[test]
fn echo_with_bytes_arriving_in_small_pieces() {
    for chunk in [1, 5, 7, 64] {
        let mut p = Pair::new(&proposal(), config(), config());
        p.set_chunk(chunk);
        p.rq.assoc.handle_connected(p.now).unwrap();
        p.drive();
        assert!(matches!(p.ac.take_events()[..], [Event::Requested(_)]));
        p.ac.assoc.respond_with_policy(p.now, &policy()).unwrap();
        p.drive();
        assert_eq!((p.rq.state(), p.ac.state()), (State::Sta6, State::Sta6));

        let echo = CEchoRq::new(9);
        p.rq.assoc
            .send_command(p.now, ECHO_CTX, &echo.to_command())
            .unwrap();
        p.drive();
        let events = p.ac.take_events();
        let (_, cmd) = the_command(&events[1..]);
        assert_eq!(CEchoRq::from_command(&cmd).unwrap(), echo, "chunk {chunk}");
        assert!(p.ac.inbox.is_empty());
    }
}

/// The release responder may still send (Sta8, AR-7) and the initiator still receives while it
/// waits for the A-RELEASE-RP (Sta7, AR-6): an answer in flight is not lost to a release.
#[test]
fn data_still_flows_while_the_release_is_pending() {
    let mut p = established();
    let echo = CEchoRq::new(3);
    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &echo.to_command())
        .unwrap();
    p.rq.assoc.release(p.now).unwrap();
    p.drive();
    let events = p.ac.take_events();
    assert_eq!(events.len(), 2);
    let (_, cmd) = the_command(&events[..1]);
    assert_eq!(events[1], Event::ReleaseRequested);
    assert_eq!(p.ac.state(), State::Sta8);

    // The requestor may not send after its own A-RELEASE-RQ (no Evt9 in Sta7).
    assert_usage(
        p.rq.assoc.send_command(p.now, ECHO_CTX, &echo.to_command()),
        "send_command",
        State::Sta7,
    );

    // The release responder may not start a request of its own, but answers the peer's
    // with the typed call an SCP uses.
    assert_usage(
        p.ac.assoc.send_message(p.now, ECHO_CTX, &CEchoRq::new(1)),
        "send_message",
        State::Sta8,
    );
    let rsp = CEchoRsp::for_request(&CEchoRq::from_command(&cmd).unwrap(), Status::SUCCESS);
    p.ac.assoc.send_message(p.now, ECHO_CTX, &rsp).unwrap();
    p.ac.assoc.respond_release(p.now).unwrap();
    p.drive();
    let events = p.rq.take_events();
    assert_eq!(events.len(), 2);
    let (_, cmd) = the_command(&events[..1]);
    assert_eq!(CEchoRsp::from_command(&cmd).unwrap(), rsp);
    assert_eq!(events[1], Event::Released);
    assert_eq!((p.rq.state(), p.ac.state()), (State::Sta1, State::Sta13));
}

// ---------------------------------------------------------------------------------------------
// 2. A large data set against a small peer maximum PDU

#[test]
fn c_store_of_a_large_data_set_respects_the_peer_max_pdu() {
    const MAX: u32 = 4096;
    const MAX_FRAGMENT: usize = (MAX - 6) as usize;
    let mut proposal = proposal();
    proposal.max_pdu = MAX;
    let mut policy = policy();
    policy.max_pdu = MAX;
    let mut p = established_with(&proposal, &policy, config(), config());

    let data = data_set(300_000);
    let rq = CStoreRq::new(7, uid::CT_IMAGE_STORAGE, "1.2.3.4.5.6", Priority::Medium);
    p.rq.assoc
        .send_command(p.now, STORE_CTX, &rq.to_command())
        .unwrap();
    assert!(p.rq.assoc.is_sending_data());

    // Pieces shorter than a fragment, exactly one, one fragment and two bytes, many fragments;
    // all even (Annex E). Delivery is interleaved with sending, as a streaming sender would.
    let sizes = [
        1000,
        MAX_FRAGMENT,
        MAX_FRAGMENT + 2,
        2,
        65_536,
        12_346,
        8180,
    ];
    let (mut offset, mut calls, mut expected_pdvs) = (0, 0, 0);
    while offset < data.len() {
        let n = sizes[calls % sizes.len()].min(data.len() - offset);
        let last = offset + n == data.len();
        p.rq.assoc
            .send_data(p.now, STORE_CTX, data.slice(offset..offset + n), last)
            .unwrap();
        expected_pdvs += n.div_ceil(MAX_FRAGMENT);
        offset += n;
        calls += 1;
        if calls % 3 == 0 {
            p.drive();
        }
    }
    assert!(calls > 10);
    assert!(!p.rq.assoc.is_sending_data());
    p.drive();

    // The wire: the command alone in its PDU, then one data PDV per PDU, each within limits.
    let sent = p.rq.take_sent();
    assert_eq!(sent.len(), 1 + expected_pdvs);
    let mut on_wire = Vec::new();
    for (i, pdu) in sent.iter().enumerate() {
        assert!(
            pdu::encoded_len(pdu) - 6 <= MAX as usize,
            "PDU {i} too long"
        );
        let pdvs = pdvs_of(pdu);
        assert_eq!(
            pdvs.len(),
            1,
            "one PDV per PDU: command and data never share"
        );
        let pdv = &pdvs[0];
        assert_eq!(pdv.context_id, STORE_CTX);
        assert!(pdv.data.len() <= MAX_FRAGMENT);
        assert_eq!(pdv.data.len() % 2, 0, "PDU {i}: odd fragment");
        let expected_control = match i {
            0 => Pdv::COMMAND | Pdv::LAST,
            _ if i == sent.len() - 1 => Pdv::LAST,
            _ => 0,
        };
        assert_eq!(pdv.control, expected_control, "PDU {i}");
        if i > 0 {
            on_wire.extend_from_slice(&pdv.data);
        }
    }
    assert_eq!(on_wire, data);

    // The acceptor: the command, then the fragments in order, `last` only on the final one.
    let events = p.ac.take_events();
    let (ctx, cmd) = the_command(&events[..1]);
    assert_eq!(ctx, STORE_CTX);
    assert_eq!(CStoreRq::from_command(&cmd).unwrap(), rq);
    let mut received = Vec::new();
    for (i, e) in events[1..].iter().enumerate() {
        let Event::Data {
            context_id,
            data: fragment,
            last,
        } = e
        else {
            panic!("expected data, got {e:?}");
        };
        assert_eq!(*context_id, STORE_CTX);
        assert_eq!(*last, i == events.len() - 2);
        received.extend_from_slice(fragment);
    }
    assert_eq!(events.len() - 1, expected_pdvs);
    assert_eq!(received, data);

    // The answer goes back within the requestor's maximum too.
    let rsp = CStoreRsp::for_request(&rq, Status::SUCCESS);
    p.ac.assoc
        .send_command(p.now, STORE_CTX, &rsp.to_command())
        .unwrap();
    p.drive();
    for pdu in p.ac.take_sent() {
        assert!(pdu::encoded_len(&pdu) - 6 <= MAX as usize);
    }
    let (_, cmd) = the_command(&p.rq.take_events());
    assert_eq!(CStoreRsp::from_command(&cmd).unwrap(), rsp);
}

/// An empty final piece is legal: a sender that only learns at the end that it is done.
#[test]
fn empty_last_data_piece_ends_the_data_set() {
    let mut p = established();
    let rq = CStoreRq::new(1, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Low);
    p.rq.assoc
        .send_command(p.now, STORE_CTX, &rq.to_command())
        .unwrap();
    p.rq.assoc
        .send_data(p.now, STORE_CTX, Bytes::from_static(b"abcd"), false)
        .unwrap();
    p.rq.assoc
        .send_data(p.now, STORE_CTX, Bytes::new(), true)
        .unwrap();
    p.drive();
    let events = p.ac.take_events();
    assert_eq!(
        events[1..],
        [
            Event::Data {
                context_id: STORE_CTX,
                data: Bytes::from_static(b"abcd"),
                last: false
            },
            Event::Data {
                context_id: STORE_CTX,
                data: Bytes::new(),
                last: true
            }
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Fragmented commands, several PDVs per PDU

#[test]
fn command_split_across_tiny_pdvs_is_reassembled() {
    // 8 is the smallest maximum a peer may announce (2-byte fragments); 9 rounds down to even.
    for (max, fragment) in [(16u32, 10usize), (8, 2), (9, 2), (17, 10)] {
        let mut proposal = proposal();
        proposal.max_pdu = max;
        let mut policy = policy();
        policy.max_pdu = max;
        let mut p = established_with(&proposal, &policy, config(), config());

        let echo = CEchoRq::new(42);
        let encoded = echo.to_command().to_bytes();
        p.rq.assoc
            .send_command(p.now, ECHO_CTX, &echo.to_command())
            .unwrap();
        p.drive();
        let sent = p.rq.take_sent();
        assert_eq!(sent.len(), encoded.len().div_ceil(fragment), "max {max}");
        let mut joined = Vec::new();
        for (i, pdu) in sent.iter().enumerate() {
            let [pdv] = pdvs_of(pdu) else {
                panic!("one PDV per PDU")
            };
            let last = i == sent.len() - 1;
            assert_eq!(pdv.control, if last { 0x03 } else { 0x01 });
            assert!(pdv.data.len() <= fragment);
            if !last {
                assert_eq!(pdv.data.len(), fragment);
            }
            joined.extend_from_slice(&pdv.data);
        }
        assert_eq!(joined, encoded);
        let (_, cmd) = the_command(&p.ac.take_events());
        let received = CEchoRq::from_command(&cmd).unwrap();
        assert_eq!(received, echo);

        // And back, cut for the requestor's equally small maximum.
        let rsp = CEchoRsp::for_request(&received, Status::SUCCESS);
        p.ac.assoc
            .send_command(p.now, ECHO_CTX, &rsp.to_command())
            .unwrap();
        p.drive();
        assert!(p.ac.take_sent().len() > 1);
        let (_, cmd) = the_command(&p.rq.take_events());
        assert_eq!(CEchoRsp::from_command(&cmd).unwrap(), rsp);
        assert_eq!((p.rq.state(), p.ac.state()), (State::Sta6, State::Sta6));
    }
}

#[test]
fn several_pdvs_in_one_pdata_pdu() {
    let mut p = established();
    let rq = CStoreRq::new(5, uid::CT_IMAGE_STORAGE, "1.2.3.4", Priority::High);
    let cmd = rq.to_command().to_bytes();

    // The command in three PDVs of one PDU.
    p.ac.inject(
        p.now,
        &pdata(vec![
            pdv(STORE_CTX, Pdv::COMMAND, &cmd[..10]),
            pdv(STORE_CTX, Pdv::COMMAND, &cmd[10..40]),
            pdv(STORE_CTX, Pdv::COMMAND | Pdv::LAST, &cmd[40..]),
        ]),
    );
    let (ctx, received) = the_command(&p.ac.take_events());
    assert_eq!(ctx, STORE_CTX);
    assert_eq!(CStoreRq::from_command(&received).unwrap(), rq);

    // The data set in three PDVs of the next PDU.
    p.ac.inject(
        p.now,
        &pdata(vec![
            pdv(STORE_CTX, 0, b"abcd"),
            pdv(STORE_CTX, 0, b"efgh"),
            pdv(STORE_CTX, Pdv::LAST, b"ij"),
        ]),
    );
    let data = |d: &'static [u8], last| Event::Data {
        context_id: STORE_CTX,
        data: Bytes::from_static(d),
        last,
    };
    assert_eq!(
        p.ac.take_events(),
        vec![
            data(b"abcd", false),
            data(b"efgh", false),
            data(b"ij", true)
        ]
    );

    // Two whole commands in one PDU: both delivered, in order.
    let a = CEchoRq::new(1).to_command();
    let b = CEchoRq::new(2).to_command();
    p.ac.inject(
        p.now,
        &pdata(vec![
            pdv(ECHO_CTX, 0x03, &a.to_bytes()),
            pdv(ECHO_CTX, 0x03, &b.to_bytes()),
        ]),
    );
    let events = p.ac.take_events();
    assert_eq!(
        events,
        vec![
            Event::Message {
                context_id: ECHO_CTX,
                message: Message::from_command(a).unwrap()
            },
            Event::Message {
                context_id: ECHO_CTX,
                message: Message::from_command(b).unwrap()
            }
        ]
    );
    assert_eq!(p.ac.state(), State::Sta6);
    assert_eq!(p.ac.take_sent(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// 4. Rejection

#[test]
fn policy_rejects_an_unknown_called_ae() {
    let mut proposal = proposal();
    proposal.called_ae = "NOT_SCP".into();
    let mut p = requested(&proposal, config(), config());
    assert!(matches!(p.ac.take_events()[..], [Event::Requested(_)]));
    assert_eq!(
        p.ac.assoc.respond_with_policy(p.now, &policy()),
        Ok(Some(RejectReason::CalledAeNotRecognized))
    );
    // AE-8: RJ sent, ARTIM bounds the wait for the requestor to close.
    assert_eq!(p.ac.state(), State::Sta13);
    let deadline = p.now + ARTIM;
    assert_eq!(p.ac.assoc.poll_timeout(), Some(deadline));

    p.drive();
    let rj = AssociateRj {
        result: 1,
        source: 1,
        reason: 7,
    };
    assert_eq!(p.ac.take_sent(), vec![Pdu::AssociateRj(rj)]);
    assert_eq!(p.rq.take_events(), vec![Event::Rejected(rj)]);
    assert_eq!(p.rq.state(), State::Sta1);
    assert_eq!(p.rq.assoc.poll_timeout(), None, "ACSE timer stopped");
    assert_eq!(p.rq.assoc.negotiated(), None);

    // The requestor never closes: ARTIM ends the wait, not a moment early.
    p.advance_to(deadline - TICK);
    p.ac.timeout(p.now);
    assert_eq!(p.ac.state(), State::Sta13);
    p.advance_to(deadline);
    p.ac.timeout(p.now);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!(p.ac.assoc.poll_timeout(), None);
    assert_eq!((p.ac.take_events(), p.ac.take_sent()), (vec![], vec![]));
}

#[test]
fn protocol_version_without_bit_0_is_rejected_by_the_provider() {
    let mut p = Pair::new(&proposal(), config(), config());
    p.rq.assoc.handle_connected(p.now).unwrap();
    // Tamper with the RQ on its way: version 0 instead of 1.
    let sent = p.rq.intercept();
    let [Pdu::AssociateRq(rq)] = &sent[..] else {
        panic!("expected the A-ASSOCIATE-RQ");
    };
    let mut rq = rq.clone();
    rq.protocol_version = 0;
    p.ac.inject(p.now, &encode(&Pdu::AssociateRq(rq.clone())));

    // AE-6, provider-level reject: the acceptor's user never hears of it.
    assert_eq!(p.ac.take_events(), vec![]);
    assert_eq!(p.ac.state(), State::Sta13);
    assert_eq!(p.ac.assoc.poll_timeout(), Some(p.now + ARTIM));
    p.drive();
    let rj = AssociateRj {
        result: 1,
        source: 2,
        reason: 2,
    };
    assert_eq!(p.ac.take_sent(), vec![Pdu::AssociateRj(rj)]);
    assert_eq!(rj.reason(), RejectReason::ProtocolVersionNotSupported);
    assert_eq!(p.rq.take_events(), vec![Event::Rejected(rj)]);
    assert_eq!(p.rq.state(), State::Sta1);

    // PS3.8 §9.3.2: a version-1 receiver tests bit 0 only; 0x0003 is acceptable.
    let mut ac = Endpoint::new(Association::acceptor(config(), p.now));
    rq.protocol_version = 3;
    ac.inject(p.now, &encode(&Pdu::AssociateRq(rq.clone())));
    assert_eq!(ac.state(), State::Sta3);
    assert_eq!(ac.take_events(), vec![Event::Requested(Box::new(rq))]);
}

// ---------------------------------------------------------------------------------------------
// 5. Abort

#[test]
fn requestor_aborts_in_sta6() {
    let mut p = established();
    p.rq.assoc.abort(p.now).unwrap();
    assert_eq!(p.rq.state(), State::Sta13);
    assert_eq!(p.rq.assoc.poll_timeout(), Some(p.now + ARTIM));
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![abort(AbortSource::ServiceUser, 0)]);
    assert_eq!(p.ac.take_events(), vec![peer_user_abort()]);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!(p.ac.assoc.poll_timeout(), None);
    assert_eq!(p.rq.take_events(), vec![], "the aborter is not told again");

    // The acceptor closes the transport (AA-3); the aborter sees it (AR-5).
    p.rq.eof(p.now);
    assert_eq!(p.rq.state(), State::Sta1);
    assert_eq!(p.rq.take_events(), vec![]);
}

#[test]
fn acceptor_aborts_in_sta6() {
    let mut p = established();
    p.ac.assoc.abort(p.now).unwrap();
    assert_eq!(p.ac.state(), State::Sta13);
    let deadline = p.now + ARTIM;
    assert_eq!(p.ac.assoc.poll_timeout(), Some(deadline));
    p.drive();
    assert_eq!(p.ac.take_sent(), vec![abort(AbortSource::ServiceUser, 0)]);
    assert_eq!(p.rq.take_events(), vec![peer_user_abort()]);
    assert_eq!(p.rq.state(), State::Sta1);

    // No close arrives: ARTIM ends Sta13.
    p.advance_to(deadline);
    p.ac.timeout(p.now);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!((p.ac.take_events(), p.ac.take_sent()), (vec![], vec![]));
}

#[test]
fn requestor_aborts_in_sta5_before_the_answer() {
    let mut p = requested(&proposal(), config(), config());
    assert!(matches!(p.ac.take_events()[..], [Event::Requested(_)]));
    p.advance(Duration::from_secs(2));
    p.rq.assoc.abort(p.now).unwrap();
    assert_eq!(p.rq.state(), State::Sta13);
    // The ACSE timer is gone; only ARTIM remains.
    assert_eq!(p.rq.assoc.poll_timeout(), Some(p.now + ARTIM));
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![abort(AbortSource::ServiceUser, 0)]);
    // AA-3 in Sta3: the acceptor's user learns the request is gone.
    assert_eq!(p.ac.take_events(), vec![peer_user_abort()]);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_usage(
        p.ac.assoc.respond_with_policy(p.now, &policy()),
        "respond_with_policy",
        State::Sta1,
    );
}

#[test]
fn acceptor_aborts_in_sta3_instead_of_answering() {
    let mut p = requested(&proposal(), config(), config());
    p.ac.take_events();
    p.ac.assoc.abort(p.now).unwrap();
    assert_eq!(p.ac.state(), State::Sta13);
    p.drive();
    assert_eq!(p.ac.take_sent(), vec![abort(AbortSource::ServiceUser, 0)]);
    assert_eq!(p.rq.take_events(), vec![peer_user_abort()]);
    assert_eq!(p.rq.state(), State::Sta1);
    assert_eq!(p.rq.assoc.poll_timeout(), None, "ACSE timer stopped");
}

// ---------------------------------------------------------------------------------------------
// 6. ARTIM on an acceptor that never hears an A-ASSOCIATE-RQ

#[test]
fn artim_expires_in_sta2() {
    let start = Instant::now();
    let mut ac = Endpoint::new(Association::acceptor(config(), start));
    assert_eq!(ac.state(), State::Sta2);
    let deadline = start + ARTIM;
    assert_eq!(ac.assoc.poll_timeout(), Some(deadline));

    // Early calls are harmless, however early.
    for early in [start, start + ARTIM / 2, deadline - TICK] {
        ac.timeout(early);
        assert_eq!(ac.state(), State::Sta2);
        assert_eq!(ac.assoc.poll_timeout(), Some(deadline));
    }

    // Half an A-ASSOCIATE-RQ does not stop ARTIM: only a whole one does.
    let rq = encode(&Pdu::AssociateRq(proposal().to_request()));
    ac.inject(start + ARTIM / 2, &rq[..rq.len() / 2]);
    assert_eq!(ac.assoc.poll_timeout(), Some(deadline));

    ac.timeout(deadline);
    assert_eq!(ac.state(), State::Sta1);
    assert_eq!(ac.assoc.poll_timeout(), None);
    assert_eq!((ac.take_events(), ac.take_sent()), (vec![], vec![]));

    // A late call after the deadline also works (a driver that woke up late).
    let mut ac = Endpoint::new(Association::acceptor(config(), start));
    ac.timeout(deadline + Duration::from_secs(60));
    assert_eq!(ac.state(), State::Sta1);
}

/// Anything but an A-ASSOCIATE-RQ in Sta2 is answered with AA-1, which restarts ARTIM.
#[test]
fn wrong_pdu_in_sta2_aborts_and_restarts_artim() {
    let start = Instant::now();
    let later = start + Duration::from_secs(3);
    for bytes in [
        command_pdu(ECHO_CTX, &CEchoRq::new(1).to_command()),
        encode(&Pdu::ReleaseRq),
        encode(&Pdu::AssociateAc(
            policy().evaluate(&proposal().to_request()).unwrap(),
        )),
        Bytes::from_static(&[0x08, 0, 0, 0, 0, 0]),
    ] {
        let mut ac = Endpoint::new(Association::acceptor(config(), start));
        ac.inject(later, &bytes);
        assert_eq!(ac.state(), State::Sta13);
        assert_eq!(ac.take_sent(), vec![abort(AbortSource::ServiceUser, 0)]);
        assert_eq!(ac.take_events(), vec![]);
        assert_eq!(ac.assoc.poll_timeout(), Some(later + ARTIM));
    }

    // An A-ABORT in Sta2 just ends it (AA-2).
    let mut ac = Endpoint::new(Association::acceptor(config(), start));
    ac.inject(later, &encode(&abort(AbortSource::ServiceUser, 0)));
    assert_eq!(ac.state(), State::Sta1);
    assert_eq!((ac.take_events(), ac.take_sent()), (vec![], vec![]));
}

// ---------------------------------------------------------------------------------------------
// 7. ACSE timeout

#[test]
fn acse_timeout_waiting_for_the_associate_answer() {
    let mut p = requested(&proposal(), config(), config());
    assert!(matches!(p.ac.take_events()[..], [Event::Requested(_)]));
    let deadline = p.now + ACSE;
    assert_eq!(p.rq.assoc.poll_timeout(), Some(deadline));

    // The acceptor's user never answers.
    p.advance_to(deadline - TICK);
    p.rq.timeout(p.now);
    assert_eq!(p.rq.state(), State::Sta5);
    assert_eq!(p.rq.take_sent(), vec![]);

    p.advance_to(deadline);
    p.rq.timeout(p.now);
    assert_eq!(p.rq.state(), State::Sta13);
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Aborted(AbortCause::AcseTimeout)]
    );
    assert_eq!(p.rq.assoc.poll_timeout(), Some(deadline + ARTIM));
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![abort(AbortSource::ServiceUser, 0)]);
    assert_eq!(p.ac.take_events(), vec![peer_user_abort()]);
    assert_eq!(p.ac.state(), State::Sta1);

    // Too late to answer now.
    assert_usage(
        p.ac.assoc.respond_with_policy(p.now, &policy()),
        "respond_with_policy",
        State::Sta1,
    );
}

#[test]
fn acse_timeout_waiting_for_the_release_answer() {
    let mut p = established();
    p.advance(Duration::from_secs(5));
    p.rq.assoc.release(p.now).unwrap();
    let deadline = p.now + ACSE;
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![Pdu::ReleaseRq]);
    assert_eq!(p.ac.take_events(), vec![Event::ReleaseRequested]);
    // The acceptor's user never answers; the requestor gives up at the deadline.
    assert_eq!(p.rq.assoc.poll_timeout(), Some(deadline));
    p.advance_to(deadline);
    p.rq.timeout(p.now);
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Aborted(AbortCause::AcseTimeout)]
    );
    assert_eq!(p.rq.state(), State::Sta13);
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![abort(AbortSource::ServiceUser, 0)]);
    assert_eq!(p.ac.take_events(), vec![peer_user_abort()]);
    assert_eq!(p.ac.state(), State::Sta1);
}

#[test]
fn no_acse_timeout_when_disabled() {
    let mut rq_config = config();
    rq_config.acse_timeout = None;
    let mut p = requested(&proposal(), rq_config, config());
    assert_eq!(p.rq.assoc.poll_timeout(), None);
    p.advance(Duration::from_secs(3600));
    p.rq.timeout(p.now);
    assert_eq!(p.rq.state(), State::Sta5);
}

// ---------------------------------------------------------------------------------------------
// 8. Release collision

#[test]
fn release_collision() {
    let mut p = established();
    // Both ask before either has seen the other's request.
    p.rq.assoc.release(p.now).unwrap();
    p.ac.assoc.release(p.now).unwrap();
    assert_eq!((p.rq.state(), p.ac.state()), (State::Sta7, State::Sta7));
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![Pdu::ReleaseRq]);
    assert_eq!(p.ac.take_sent(), vec![Pdu::ReleaseRq]);

    // AR-8: the requestor answers first (Sta9); the acceptor waits for that answer (Sta10).
    assert_eq!((p.rq.state(), p.ac.state()), (State::Sta9, State::Sta10));
    assert_eq!(p.rq.take_events(), vec![Event::ReleaseRequested]);
    assert_eq!(p.ac.take_events(), vec![]);

    p.rq.assoc.respond_release(p.now).unwrap();
    assert_eq!(p.rq.state(), State::Sta11);
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![Pdu::ReleaseRp]);
    // AR-10: now the acceptor's user is asked.
    assert_eq!(p.ac.state(), State::Sta12);
    assert_eq!(p.ac.take_events(), vec![Event::ReleaseRequested]);

    p.ac.assoc.respond_release(p.now).unwrap();
    assert_eq!(p.ac.state(), State::Sta13);
    p.drive();
    assert_eq!(p.ac.take_sent(), vec![Pdu::ReleaseRp]);
    // AR-3 from Sta11.
    assert_eq!(p.rq.state(), State::Sta1);
    assert_eq!(p.rq.take_events(), vec![Event::Released]);
    assert_eq!(p.rq.assoc.poll_timeout(), None);

    p.ac.eof(p.now);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!(p.ac.take_events(), vec![]);
}

/// In Sta12 the acceptor has its A-RELEASE-RP: it waits only for its own user, so the ACSE
/// timer its `release()` started must not abort it (nor blame the peer for a timeout).
#[test]
fn release_collision_acceptor_waits_for_its_user_without_acse_timeout() {
    let mut p = established();
    p.rq.assoc.release(p.now).unwrap();
    p.ac.assoc.release(p.now).unwrap();
    p.drive();
    p.rq.assoc.respond_release(p.now).unwrap();
    p.drive();
    assert_eq!(p.ac.state(), State::Sta12);
    assert_eq!(p.ac.take_events(), vec![Event::ReleaseRequested]);
    assert_eq!(p.ac.take_sent(), vec![Pdu::ReleaseRq]);

    // The acceptor's user is slow: nothing may happen until it answers.
    p.advance(ACSE + TICK);
    p.ac.timeout(p.now);
    assert_eq!(
        p.ac.take_events(),
        vec![],
        "aborted while waiting for its own user"
    );
    assert_eq!(p.ac.state(), State::Sta12);
    assert_eq!(p.ac.take_sent(), vec![]);
    assert_eq!(
        p.ac.assoc.poll_timeout(),
        None,
        "nothing to wait for from the peer"
    );
    p.ac.assoc.respond_release(p.now).unwrap();
    assert_eq!(p.ac.assoc.poll_timeout(), Some(p.now + ARTIM));
}

// ---------------------------------------------------------------------------------------------
// 9. Invalid PDUs

#[test]
fn unknown_pdu_type_in_sta6() {
    let mut p = established();
    // An unknown PDU followed by a valid A-RELEASE-RQ: once framing is lost nothing after the
    // bad PDU may be acted upon.
    let mut bytes = vec![0x08, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    bytes.extend_from_slice(&encode(&Pdu::ReleaseRq));
    p.ac.inject(p.now, &bytes);
    assert_eq!(p.ac.state(), State::Sta13);
    assert_eq!(
        p.ac.take_events(),
        vec![protocol_abort(ProtocolError::Decode(
            DecodeError::UnrecognizedPdu { pdu_type: 0x08 }
        ))]
    );
    assert_eq!(p.ac.assoc.poll_timeout(), Some(p.now + ARTIM));
    assert!(p.ac.inbox.is_empty(), "the rest of the stream is dropped");
    p.drive();
    assert_eq!(
        p.ac.take_sent(),
        vec![provider_abort(abort_reason::UNRECOGNIZED_PDU)]
    );
    assert_eq!(
        p.rq.take_events(),
        vec![peer_provider_abort(abort_reason::UNRECOGNIZED_PDU)]
    );
    assert_eq!(p.rq.state(), State::Sta1);
}

#[test]
fn associate_ac_in_sta6_is_unexpected() {
    let mut p = established();
    let ac = policy().evaluate(&proposal().to_request()).unwrap();
    p.ac.inject(p.now, &encode(&Pdu::AssociateAc(ac)));
    assert_eq!(p.ac.state(), State::Sta13);
    assert_eq!(
        p.ac.take_events(),
        vec![protocol_abort(ProtocolError::UnexpectedPdu {
            pdu: "A-ASSOCIATE-AC",
            state: State::Sta6
        })]
    );
    p.drive();
    assert_eq!(
        p.ac.take_sent(),
        vec![provider_abort(abort_reason::UNEXPECTED_PDU)]
    );
    assert_eq!(
        p.rq.take_events(),
        vec![peer_provider_abort(abort_reason::UNEXPECTED_PDU)]
    );

    // The same from the requestor's side: a second A-ASSOCIATE-RQ.
    let mut p = established();
    p.rq.inject(p.now, &encode(&Pdu::AssociateRq(proposal().to_request())));
    assert_eq!(p.rq.state(), State::Sta13);
    assert_eq!(
        p.rq.take_sent(),
        vec![provider_abort(abort_reason::UNEXPECTED_PDU)]
    );
}

/// During establishment only the associate PDUs make sense; anything else is AA-8.
#[test]
fn unexpected_pdus_during_establishment() {
    let echo = command_pdu(ECHO_CTX, &CEchoRq::new(1).to_command());
    let second_rq = encode(&Pdu::AssociateRq(proposal().to_request()));
    let release_rq = encode(&Pdu::ReleaseRq);
    for (to_acceptor, bytes, name) in [
        (true, &echo, "P-DATA-TF"),
        (true, &second_rq, "A-ASSOCIATE-RQ"),
        (false, &release_rq, "A-RELEASE-RQ"),
        (false, &second_rq, "A-ASSOCIATE-RQ"),
    ] {
        let mut p = requested(&proposal(), config(), config());
        p.ac.take_events();
        let (side, state) = if to_acceptor {
            (&mut p.ac, State::Sta3)
        } else {
            (&mut p.rq, State::Sta5)
        };
        side.inject(p.now, bytes);
        assert_eq!(side.state(), State::Sta13, "{name} in {state:?}");
        assert_eq!(
            side.take_events(),
            vec![protocol_abort(ProtocolError::UnexpectedPdu {
                pdu: name,
                state
            })]
        );
        assert_eq!(
            side.take_sent(),
            vec![provider_abort(abort_reason::UNEXPECTED_PDU)]
        );
        assert_eq!(side.assoc.poll_timeout(), Some(p.now + ARTIM));
        p.drive();
        let peer = if to_acceptor { &mut p.rq } else { &mut p.ac };
        assert_eq!(
            peer.take_events(),
            vec![peer_provider_abort(abort_reason::UNEXPECTED_PDU)]
        );
        assert_eq!(peer.state(), State::Sta1);
    }
}

#[test]
fn pdata_on_a_context_that_was_not_accepted() {
    for ctx in [REJECTED_CTX, UNPROPOSED_CTX] {
        let mut p = established();
        p.ac.inject(p.now, &command_pdu(ctx, &CEchoRq::new(1).to_command()));
        assert_eq!(p.ac.state(), State::Sta13);
        assert_eq!(
            p.ac.take_events(),
            vec![protocol_abort(ProtocolError::PData(
                ReceiveError::UnknownContext(ctx)
            ))]
        );
        p.drive();
        let sent = p.ac.take_sent();
        assert_eq!(
            sent,
            vec![provider_abort(abort_reason::INVALID_PDU_PARAMETER_VALUE)]
        );
        assert_eq!(
            p.rq.take_events(),
            vec![peer_provider_abort(
                abort_reason::INVALID_PDU_PARAMETER_VALUE
            )]
        );
    }
}

#[test]
fn a_response_on_another_context_than_its_request_aborts() {
    let mut p = established();
    let rq = CEchoRq::new(9);
    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &rq.to_command())
        .unwrap();
    p.drive();
    let _ = (p.ac.take_events(), p.rq.take_sent());
    // A valid, accepted context, but not the request's: the response is not delivered.
    let rsp = CEchoRsp::for_request(&rq, Status::SUCCESS).to_command();
    p.rq.inject(p.now, &command_pdu(STORE_CTX, &rsp));
    assert_eq!(
        p.rq.take_events(),
        vec![protocol_abort(ProtocolError::PData(
            ReceiveError::ResponseContext {
                message_id: 9,
                request: ECHO_CTX,
                response: STORE_CTX,
            }
        ))]
    );
    assert_eq!(
        p.rq.take_sent(),
        vec![provider_abort(abort_reason::INVALID_PDU_PARAMETER_VALUE)]
    );

    // On the request's own context it is the response.
    let mut p = established();
    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &rq.to_command())
        .unwrap();
    p.drive();
    p.rq.inject(p.now, &command_pdu(ECHO_CTX, &rsp));
    assert_eq!(the_command(&p.rq.take_events()), (ECHO_CTX, rsp));
}

#[test]
fn pdata_framing_errors_abort() {
    let store = CStoreRq::new(1, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Medium).to_command();
    let cases: Vec<(Vec<Bytes>, ReceiveError)> = vec![
        (vec![pdata(vec![])], ReceiveError::EmptyPData),
        (
            vec![pdata(vec![pdv(STORE_CTX, Pdv::LAST, b"data")])],
            ReceiveError::UnexpectedData {
                context_id: STORE_CTX,
            },
        ),
        (
            vec![
                command_pdu(STORE_CTX, &store),
                command_pdu(STORE_CTX, &store),
            ],
            ReceiveError::UnexpectedCommand {
                context_id: STORE_CTX,
            },
        ),
        (
            vec![
                command_pdu(STORE_CTX, &store),
                pdata(vec![pdv(ECHO_CTX, Pdv::LAST, b"data")]),
            ],
            ReceiveError::ContextSwitch {
                expected: STORE_CTX,
                got: ECHO_CTX,
            },
        ),
    ];
    for (pdus, error) in cases {
        let mut p = established();
        for bytes in &pdus {
            p.ac.inject(p.now, bytes);
        }
        let events = p.ac.take_events();
        assert_eq!(
            events.last(),
            Some(&protocol_abort(ProtocolError::PData(error)))
        );
        assert_eq!(p.ac.state(), State::Sta13);
        assert_eq!(
            p.ac.take_sent(),
            vec![provider_abort(abort_reason::INVALID_PDU_PARAMETER_VALUE)]
        );
    }
}

#[test]
fn pdata_longer_than_our_max_pdu_is_refused_at_the_header() {
    const MAX: u32 = 4096;
    let mut policy = policy();
    policy.max_pdu = MAX;
    let ac_config = config();

    // Exactly the maximum is fine.
    let mut p = established_with(&proposal(), &policy, config(), ac_config.clone());
    let store = CStoreRq::new(1, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Medium);
    p.ac.inject(p.now, &command_pdu(STORE_CTX, &store.to_command()));
    let full = pdata(vec![pdv(STORE_CTX, Pdv::LAST, &[0; MAX as usize - 6])]);
    assert_eq!(full.len(), MAX as usize + 6);
    p.ac.inject(p.now, &full);
    assert_eq!(p.ac.take_events().len(), 2);
    assert_eq!(p.ac.state(), State::Sta6);

    // One byte more is refused from the 6 header bytes alone, before any body arrives.
    let mut p = established_with(&proposal(), &policy, config(), ac_config);
    p.ac.inject(p.now, &[0x04, 0, 0, 0, 0x10, 0x01]);
    assert_eq!(p.ac.state(), State::Sta13);
    assert_eq!(
        p.ac.take_events(),
        vec![protocol_abort(ProtocolError::Decode(
            DecodeError::TooLong {
                pdu_type: 0x04,
                length: MAX + 1,
                max: MAX
            }
        ))]
    );
    p.drive();
    assert_eq!(
        p.ac.take_sent(),
        vec![provider_abort(abort_reason::INVALID_PDU_PARAMETER_VALUE)]
    );
    assert_eq!(p.rq.state(), State::Sta1);
}

/// What the acceptor announces in its A-ASSOCIATE-AC (`AcceptorPolicy::max_pdu`) is what it
/// must enforce; `Config::max_pdu` is left at its default here.
#[test]
fn acceptor_enforces_the_max_pdu_it_announced() {
    const MAX: u32 = 4096;
    let mut policy = policy();
    policy.max_pdu = MAX;
    let mut p = established_with(&proposal(), &policy, config(), config());
    assert_eq!(p.ac.assoc.negotiated().unwrap().local_max_pdu, MAX);
    assert_eq!(p.rq.assoc.negotiated().unwrap().peer_max_pdu, MAX);
    p.ac.inject(p.now, &[0x04, 0, 0, 0, 0x10, 0x01]);
    assert_eq!(
        p.ac.state(),
        State::Sta13,
        "a 4097-byte P-DATA-TF was accepted"
    );
}

/// A peer announcing a maximum that cannot carry a PDV (< 8) is given up on at once.
#[test]
fn peer_max_pdu_too_small_to_carry_data() {
    let mut policy = policy();
    policy.max_pdu = 7;
    let mut p = requested(&proposal(), config(), config());
    p.ac.take_events();
    p.ac.assoc.respond_with_policy(p.now, &policy).unwrap();
    p.drive();
    assert_eq!(
        p.rq.take_events(),
        vec![protocol_abort(ProtocolError::PeerMaxPduTooSmall(7))]
    );
    assert_eq!(p.rq.state(), State::Sta13);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!(
        p.ac.take_events().last(),
        Some(&peer_provider_abort(
            abort_reason::INVALID_PDU_PARAMETER_VALUE
        ))
    );
}

#[test]
fn pdus_in_sta13_are_ignored_except_associate_rq() {
    let mut p = established();
    p.ac.assoc.abort(p.now).unwrap();
    p.drive();
    p.ac.take_sent();
    assert_eq!(p.ac.state(), State::Sta13);
    let deadline = p.ac.assoc.poll_timeout();
    assert!(deadline.is_some());

    // AA-6: valid PDUs, even ones that would be errors in Sta6, are dropped silently.
    let ac_pdu = policy().evaluate(&proposal().to_request()).unwrap();
    for bytes in [
        command_pdu(ECHO_CTX, &CEchoRq::new(1).to_command()),
        command_pdu(UNPROPOSED_CTX, &CEchoRq::new(1).to_command()),
        pdata(vec![]),
        encode(&Pdu::ReleaseRq),
        encode(&Pdu::ReleaseRp),
        encode(&Pdu::AssociateAc(ac_pdu)),
        encode(&Pdu::AssociateRj(AssociateRj::new(
            Rejection::Permanent,
            RejectReason::UserNoReason,
        ))),
    ] {
        p.ac.inject(p.now, &bytes);
        assert_eq!(p.ac.state(), State::Sta13);
        assert_eq!((p.ac.take_events(), p.ac.take_sent()), (vec![], vec![]));
        assert_eq!(p.ac.assoc.poll_timeout(), deadline);
    }

    // AA-7: an A-ASSOCIATE-RQ is answered with an A-ABORT; still Sta13, no event.
    p.ac.inject(p.now, &encode(&Pdu::AssociateRq(proposal().to_request())));
    assert_eq!(p.ac.state(), State::Sta13);
    assert_eq!(
        p.ac.take_sent(),
        vec![provider_abort(abort_reason::UNEXPECTED_PDU)]
    );
    assert_eq!(p.ac.take_events(), vec![]);
    assert!(p.ac.assoc.poll_timeout().is_some());

    // AA-7 for an unrecognized PDU too (Evt19).
    p.ac.inject(p.now, &[0x08, 0, 0, 0, 0, 0]);
    assert_eq!(p.ac.state(), State::Sta13);
    assert_eq!(
        p.ac.take_sent(),
        vec![provider_abort(abort_reason::UNRECOGNIZED_PDU)]
    );
    assert_eq!(p.ac.take_events(), vec![]);

    // AA-2: an A-ABORT in Sta13 ends it.
    let mut p = established();
    p.ac.assoc.abort(p.now).unwrap();
    p.ac.take_sent();
    p.ac.inject(p.now, &encode(&abort(AbortSource::ServiceUser, 0)));
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!(p.ac.assoc.poll_timeout(), None);
    assert_eq!((p.ac.take_events(), p.ac.take_sent()), (vec![], vec![]));
}

// ---------------------------------------------------------------------------------------------
// 10. Usage errors change nothing

/// Runs `f` and checks that it was refused as `operation` without touching the association.
fn refused<T: std::fmt::Debug>(
    side: &mut Endpoint,
    operation: &str,
    f: impl FnOnce(&mut Association) -> Result<T, UsageError>,
) {
    side.flush();
    let state = side.state();
    let timeout = side.assoc.poll_timeout();
    let sending = side.assoc.is_sending_data();
    assert_usage(f(&mut side.assoc), operation, state);
    assert_eq!(side.state(), state);
    assert_eq!(side.assoc.poll_timeout(), timeout);
    assert_eq!(side.assoc.is_sending_data(), sending);
    assert_eq!(side.assoc.queued_transmits(), 0);
    assert_eq!(side.assoc.poll_event(), None);
}

#[test]
fn usage_errors_before_establishment() {
    let echo = CEchoRq::new(1).to_command();
    let mut p = Pair::new(&proposal(), config(), config());
    let now = p.now;
    // Sta4 (not connected yet) and Sta2.
    refused(&mut p.rq, "send_command", |a| {
        a.send_command(now, ECHO_CTX, &echo)
    });
    refused(&mut p.rq, "release", |a| a.release(now));
    refused(&mut p.ac, "send_command", |a| {
        a.send_command(now, ECHO_CTX, &echo)
    });
    refused(&mut p.ac, "respond_with_policy", |a| {
        a.respond_with_policy(now, &policy())
    });
    refused(&mut p.ac, "abort", |a| a.abort(now));

    // Sta5 and Sta3.
    p.rq.assoc.handle_connected(now).unwrap();
    p.drive();
    refused(&mut p.rq, "handle_connected", |a| a.handle_connected(now));
    refused(&mut p.rq, "send_command", |a| {
        a.send_command(now, ECHO_CTX, &echo)
    });
    refused(&mut p.rq, "send_data", |a| {
        a.send_data(now, ECHO_CTX, Bytes::new(), true)
    });
    refused(&mut p.ac, "send_command", |a| {
        a.send_command(now, ECHO_CTX, &echo)
    });
    refused(&mut p.ac, "release", |a| a.release(now));
    refused(&mut p.ac, "respond_release", |a| a.respond_release(now));
    refused(&mut p.rq, "respond_with_policy", |a| {
        a.respond_with_policy(now, &policy())
    });
    // The refusals left both sides able to go on.
    p.ac.take_events();
    p.ac.assoc.respond_with_policy(now, &policy()).unwrap();
    p.drive();
    assert_eq!((p.rq.state(), p.ac.state()), (State::Sta6, State::Sta6));
}

#[test]
fn usage_errors_when_established() {
    let mut p = established();
    let now = p.now;
    let echo = CEchoRq::new(1).to_command();
    let store = CStoreRq::new(2, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Medium).to_command();
    let piece = || Bytes::from_static(b"data");

    // No command announced a data set.
    refused(&mut p.rq, "send_data", |a| {
        a.send_data(now, STORE_CTX, piece(), true)
    });
    p.rq.assoc.send_command(now, ECHO_CTX, &echo).unwrap();
    refused(&mut p.rq, "send_data", |a| {
        a.send_data(now, ECHO_CTX, piece(), true)
    });

    // Contexts that were not accepted.
    for ctx in [REJECTED_CTX, UNPROPOSED_CTX] {
        refused(&mut p.rq, "send_command", |a| {
            a.send_command(now, ctx, &echo)
        });
    }

    // Answers to questions nobody asked.
    refused(&mut p.rq, "respond_release", |a| a.respond_release(now));
    refused(&mut p.ac, "respond_with_policy", |a| {
        a.respond_with_policy(now, &policy())
    });
    refused(&mut p.rq, "handle_connected", |a| a.handle_connected(now));

    // A data set in progress: nothing else may be sent until its last fragment.
    p.rq.assoc.send_command(now, STORE_CTX, &store).unwrap();
    refused(&mut p.rq, "send_data", |a| {
        a.send_data(now, ECHO_CTX, piece(), true)
    });
    p.rq.assoc
        .send_data(now, STORE_CTX, piece(), false)
        .unwrap();
    refused(&mut p.rq, "send_command", |a| {
        a.send_command(now, ECHO_CTX, &echo)
    });
    refused(&mut p.rq, "send_command", |a| {
        a.send_command(now, STORE_CTX, &store)
    });
    refused(&mut p.rq, "release", |a| a.release(now));
    p.rq.assoc.send_data(now, STORE_CTX, piece(), true).unwrap();
    refused(&mut p.rq, "send_data", |a| {
        a.send_data(now, STORE_CTX, piece(), true)
    });

    // The refusals did not disturb the stream: the peer sees exactly the messages sent.
    p.drive();
    let events = p.ac.take_events();
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(p.ac.state(), State::Sta6);

    // After the association ends, nothing more.
    p.rq.assoc.abort(now).unwrap();
    refused(&mut p.rq, "abort", |a| a.abort(now));
    refused(&mut p.rq, "send_command", |a| {
        a.send_command(now, ECHO_CTX, &echo)
    });
    p.drive();
    refused(&mut p.ac, "abort", |a| a.abort(now));
}

// ---------------------------------------------------------------------------------------------
// 11. Transport closed

#[test]
fn transport_closed_while_established() {
    let mut p = established();
    p.ac.eof(p.now);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!(
        p.ac.take_events(),
        vec![Event::Aborted(AbortCause::TransportClosed)]
    );
    assert_eq!(p.ac.take_sent(), vec![]);
    p.rq.eof(p.now);
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Aborted(AbortCause::TransportClosed)]
    );
    // A second close changes nothing.
    p.rq.eof(p.now);
    assert_eq!(p.rq.take_events(), vec![]);
}

#[test]
fn transport_closed_during_establishment() {
    // Connect failed (Sta4, AA-4).
    let mut p = Pair::new(&proposal(), config(), config());
    p.rq.eof(p.now);
    assert_eq!(p.rq.state(), State::Sta1);
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Aborted(AbortCause::TransportClosed)]
    );
    // Acceptor in Sta2 (AA-5): nobody to tell.
    p.ac.eof(p.now);
    assert_eq!(p.ac.state(), State::Sta1);
    assert_eq!(p.ac.take_events(), vec![]);
    assert_eq!(p.ac.assoc.poll_timeout(), None);

    // Requestor in Sta5: its ACSE timer goes too.
    let mut p = requested(&proposal(), config(), config());
    p.rq.eof(p.now);
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Aborted(AbortCause::TransportClosed)]
    );
    assert_eq!(p.rq.assoc.poll_timeout(), None);
    // Acceptor in Sta3 (AA-4).
    p.ac.take_events();
    p.ac.eof(p.now);
    assert_eq!(
        p.ac.take_events(),
        vec![Event::Aborted(AbortCause::TransportClosed)]
    );
}

// ---------------------------------------------------------------------------------------------
// 12. Robustness: arbitrary input never panics and never leaves a stuck association

#[derive(Debug, Clone)]
enum Mutation {
    None,
    Flip { at: usize, xor: u8 },
    Truncate(usize),
    Length(u32),
    Append(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => Just(Mutation::None),
        2 => (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => prop_oneof![0..64u32, any::<u32>()].prop_map(Mutation::Length),
        1 => vec(any::<u8>(), 0..16).prop_map(Mutation::Append),
    ]
}

fn mutate(pdu: &[u8], m: &Mutation) -> Vec<u8> {
    let mut b = pdu.to_vec();
    match *m {
        Mutation::None => {}
        Mutation::Flip { at, xor } => {
            let i = at % b.len();
            b[i] ^= xor;
        }
        Mutation::Truncate(at) => b.truncate(at % b.len()),
        Mutation::Length(n) => b[2..6].copy_from_slice(&n.to_be_bytes()),
        Mutation::Append(ref extra) => b.extend_from_slice(extra),
    }
    b
}

/// Valid PDUs of every type, including ones that are wrong for the state they land in.
fn catalogue() -> Vec<Bytes> {
    let echo = CEchoRq::new(1).to_command().to_bytes();
    let store = CStoreRq::new(2, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Medium)
        .to_command()
        .to_bytes();
    let mut version0: AssociateRq = proposal().to_request();
    version0.protocol_version = 0;
    vec![
        encode(&Pdu::AssociateRq(proposal().to_request())),
        encode(&Pdu::AssociateRq(version0)),
        encode(&Pdu::AssociateAc(
            policy().evaluate(&proposal().to_request()).unwrap(),
        )),
        encode(&Pdu::AssociateRj(AssociateRj::new(
            Rejection::Permanent,
            RejectReason::CalledAeNotRecognized,
        ))),
        pdata(vec![pdv(ECHO_CTX, 0x03, &echo)]),
        pdata(vec![pdv(ECHO_CTX, 0x01, &echo[..20])]),
        pdata(vec![pdv(ECHO_CTX, 0x03, &echo[20..])]),
        pdata(vec![pdv(STORE_CTX, 0x03, &store)]),
        pdata(vec![pdv(STORE_CTX, 0x00, b"fragment")]),
        pdata(vec![pdv(STORE_CTX, 0x02, b"last")]),
        pdata(vec![pdv(REJECTED_CTX, 0x03, &echo)]),
        pdata(vec![]),
        encode(&Pdu::ReleaseRq),
        encode(&Pdu::ReleaseRp),
        encode(&abort(AbortSource::ServiceUser, 0)),
        encode(&provider_abort(abort_reason::UNEXPECTED_PDU)),
        Bytes::from_static(&[0x08, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
    ]
}

fn pdu_sequence() -> impl Strategy<Value = Vec<(usize, Mutation)>> {
    let n = catalogue().len();
    vec((0..n, mutation()), 0..12)
}

/// Feeds the sequence to `side`, answering release requests when `answer` says so (so that
/// Sta8 → Sta13 is exercised too), then checks the invariants.
fn feed_sequence(
    side: &mut Endpoint,
    now: Instant,
    steps: &[(usize, Mutation)],
    answer: bool,
    allowed: &[State],
) -> Result<(), TestCaseError> {
    let pdus = catalogue();
    let mut events = Vec::new();
    for (i, m) in steps {
        side.inject(now, &mutate(&pdus[*i], m));
        for e in side.take_events() {
            // Events come per `inject`: a later PDU of the same batch may have ended Sta8.
            if answer && e == Event::ReleaseRequested && side.state() == State::Sta8 {
                side.assoc.respond_release(now).unwrap();
            }
            events.push(e);
        }
        side.take_sent(); // every transmit decodes as exactly one PDU (checked in `flush`)
    }
    check_invariants(side, now, &events, allowed)
}

fn check_invariants(
    side: &mut Endpoint,
    now: Instant,
    events: &[Event],
    allowed: &[State],
) -> Result<(), TestCaseError> {
    let state = side.state();
    prop_assert!(allowed.contains(&state), "unexpected {state:?}");
    // An abort is the last thing the user hears.
    if let Some(i) = events.iter().position(|e| matches!(e, Event::Aborted(_))) {
        prop_assert_eq!(i, events.len() - 1, "events after an abort: {:?}", events);
        prop_assert!(matches!(state, State::Sta1 | State::Sta13));
    }
    // Waiting for a close (or an RQ) is always bounded, and the bound works.
    if matches!(state, State::Sta2 | State::Sta13) {
        let deadline = side.assoc.poll_timeout();
        prop_assert!(deadline.is_some(), "{state:?} without a timer");
        let deadline = deadline.unwrap();
        prop_assert!(deadline <= now + ARTIM.max(ACSE));
        side.timeout(deadline);
        side.take_sent();
        // A leftover ACSE deadline may come first; ARTIM follows at most ARTIM later.
        side.timeout(deadline + ARTIM);
        prop_assert_eq!(side.state(), State::Sta1);
    }
    Ok(())
}

proptest! {
    // Failures are reported in the test output; no regression file is written next to this one.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_into_sta2(bytes in vec(any::<u8>(), 0..600), chunk in 1..64usize) {
        let now = Instant::now();
        let mut ac = Endpoint::new(Association::acceptor(config(), now));
        ac.chunk = chunk;
        ac.inject(now, &bytes);
        let events = ac.take_events();
        ac.take_sent();
        prop_assert!(events.len() <= 1);
        check_invariants(
            &mut ac,
            now,
            &events,
            &[State::Sta1, State::Sta2, State::Sta3, State::Sta13],
        )?;
    }

    #[test]
    fn pdu_sequences_into_sta2(steps in pdu_sequence(), chunk in 1..64usize) {
        let now = Instant::now();
        let mut ac = Endpoint::new(Association::acceptor(config(), now));
        ac.chunk = chunk;
        feed_sequence(
            &mut ac,
            now,
            &steps,
            false,
            &[State::Sta1, State::Sta2, State::Sta3, State::Sta13],
        )?;
    }

    #[test]
    fn pdu_sequences_into_a_waiting_requestor(steps in pdu_sequence(), chunk in 1..64usize) {
        let mut p = Pair::new(&proposal(), config(), config());
        p.rq.assoc.handle_connected(p.now).unwrap();
        p.rq.intercept();
        p.rq.chunk = chunk;
        feed_sequence(
            &mut p.rq,
            p.now,
            &steps,
            true,
            &[State::Sta1, State::Sta5, State::Sta6, State::Sta8, State::Sta13],
        )?;
    }

    #[test]
    fn pdu_sequences_into_established_acceptor(
        steps in pdu_sequence(),
        chunk in 1..64usize,
        answer in any::<bool>(),
    ) {
        let mut p = established();
        p.ac.chunk = chunk;
        feed_sequence(
            &mut p.ac,
            p.now,
            &steps,
            answer,
            &[State::Sta1, State::Sta6, State::Sta8, State::Sta13],
        )?;
    }

    #[test]
    fn pdu_sequences_into_established_requestor(
        steps in pdu_sequence(),
        chunk in 1..64usize,
        answer in any::<bool>(),
    ) {
        let mut p = established();
        p.rq.chunk = chunk;
        feed_sequence(
            &mut p.rq,
            p.now,
            &steps,
            answer,
            &[State::Sta1, State::Sta6, State::Sta8, State::Sta13],
        )?;
    }
}

// ---- DIMSE and idle timers, data set limit, context limit -------------------------------------

const DIMSE: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(60);

fn echo_pending(message_id: u16) -> CommandSet {
    CEchoRsp::for_request(&CEchoRq::new(message_id), Status::PENDING).to_command()
}

fn echo_final(message_id: u16) -> CommandSet {
    CEchoRsp::for_request(&CEchoRq::new(message_id), Status::SUCCESS).to_command()
}

/// The DIMSE timer runs while a request of ours awaits its response; each pending response
/// restarts it; when it runs out the requestor aborts.
#[test]
fn dimse_timeout_restarts_on_pending_and_aborts() {
    let rq_config = Config {
        dimse_timeout: Some(DIMSE),
        ..config()
    };
    let mut p = established_with(&proposal(), &policy(), rq_config, config());
    assert_eq!(p.rq.assoc.poll_timeout(), None, "nothing in flight");
    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &CEchoRq::new(1).to_command())
        .unwrap();
    p.drive();
    assert_eq!(p.rq.assoc.poll_timeout(), Some(p.now + DIMSE));

    p.advance(DIMSE - TICK);
    p.ac.assoc
        .send_command(p.now, ECHO_CTX, &echo_pending(1))
        .unwrap();
    p.drive();
    let deadline = p.now + DIMSE;
    assert_eq!(p.rq.assoc.poll_timeout(), Some(deadline));

    p.advance_to(deadline - TICK);
    p.rq.timeout(p.now);
    assert_eq!(p.rq.state(), State::Sta6);
    p.advance_to(deadline);
    p.rq.timeout(p.now);
    assert_eq!(p.rq.state(), State::Sta13);
    let events = p.rq.take_events();
    assert_eq!(
        events.last(),
        Some(&Event::Aborted(AbortCause::DimseTimeout { message_id: 1 }))
    );
    p.drive();
    assert_eq!(
        p.rq.take_sent().last(),
        Some(&abort(AbortSource::ServiceUser, 0))
    );
    assert_eq!(p.ac.take_events().last(), Some(&peer_user_abort()));
}

/// The total timer ends a request that pending responses keep alive; a final response stops
/// both timers.
#[test]
fn dimse_total_timeout_and_final_response() {
    let rq_config = Config {
        dimse_timeout: Some(DIMSE),
        dimse_total_timeout: Some(DIMSE * 3),
        ..config()
    };
    let mut p = established_with(&proposal(), &policy(), rq_config, config());
    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &CEchoRq::new(1).to_command())
        .unwrap();
    p.drive();
    let sent = p.now;
    p.advance(TICK);
    p.ac.assoc
        .send_command(p.now, ECHO_CTX, &echo_final(1))
        .unwrap();
    p.drive();
    assert_eq!(p.rq.assoc.poll_timeout(), None, "answered: no timer");

    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &CEchoRq::new(2).to_command())
        .unwrap();
    p.drive();
    let total = p.now + DIMSE * 3;
    for _ in 0..3 {
        p.advance(DIMSE - TICK);
        p.ac.assoc
            .send_command(p.now, ECHO_CTX, &echo_pending(2))
            .unwrap();
        p.drive();
        p.rq.timeout(p.now);
        assert_eq!(p.rq.state(), State::Sta6);
    }
    assert!(sent < total);
    assert_eq!(p.rq.assoc.poll_timeout(), Some(total));
    p.advance_to(total);
    p.rq.timeout(p.now);
    assert_eq!(
        p.rq.take_events().last(),
        Some(&Event::Aborted(AbortCause::DimseTimeout { message_id: 2 }))
    );
}

/// An idle acceptor releases: the timer waits while a request is being served, then runs
/// from the last PDU.
#[test]
fn idle_timeout_releases() {
    let ac_config = Config {
        idle_timeout: Some(IDLE),
        ..config()
    };
    let mut p = established_with(&proposal(), &policy(), config(), ac_config);
    assert_eq!(p.ac.assoc.poll_timeout(), Some(p.now + IDLE));

    p.advance(IDLE / 2);
    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &CEchoRq::new(1).to_command())
        .unwrap();
    p.drive();
    assert_eq!(p.ac.assoc.poll_timeout(), None, "serving a request");
    p.advance(IDLE * 2);
    p.ac.timeout(p.now);
    assert_eq!(p.ac.state(), State::Sta6);
    p.ac.assoc
        .send_command(p.now, ECHO_CTX, &echo_final(1))
        .unwrap();
    p.drive();
    let deadline = p.now + IDLE;
    assert_eq!(p.ac.assoc.poll_timeout(), Some(deadline));

    p.advance_to(deadline);
    p.ac.timeout(p.now);
    assert_eq!(p.ac.state(), State::Sta7);
    p.drive();
    assert_eq!(p.ac.take_sent().last(), Some(&Pdu::ReleaseRq));
    assert!(p.rq.take_events().contains(&Event::ReleaseRequested));
    p.rq.assoc.respond_release(p.now).unwrap();
    p.drive();
    assert_eq!(p.ac.take_events().last(), Some(&Event::Released));
    assert_eq!(p.ac.state(), State::Sta1);
}

/// An idle requestor told to abort does.
#[test]
fn idle_timeout_aborts() {
    let rq_config = Config {
        idle_timeout: Some(IDLE),
        idle_action: IdleAction::Abort,
        ..config()
    };
    let mut p = established_with(&proposal(), &policy(), rq_config, config());
    p.advance(IDLE);
    p.rq.timeout(p.now);
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Aborted(AbortCause::IdleTimeout)]
    );
    p.drive();
    assert_eq!(p.rq.take_sent(), vec![abort(AbortSource::ServiceUser, 0)]);
    assert_eq!(p.ac.take_events(), vec![peer_user_abort()]);
}

/// A data set past `max_data_set_length` aborts the association before more is delivered.
#[test]
fn data_set_past_the_limit_aborts() {
    let ac_config = Config {
        max_data_set_length: 100,
        ..config()
    };
    let mut p = established_with(&proposal(), &policy(), config(), ac_config);
    let rq = CStoreRq::new(1, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Low);
    p.rq.assoc
        .send_command(p.now, STORE_CTX, &rq.to_command())
        .unwrap();
    for _ in 0..3 {
        p.rq.assoc
            .send_data(p.now, STORE_CTX, Bytes::from(vec![0u8; 60]), false)
            .unwrap();
    }
    p.drive();
    let events = p.ac.take_events();
    let delivered: usize = events
        .iter()
        .map(|e| match e {
            Event::Data { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(delivered, 60, "only what fits under the limit");
    assert_eq!(
        events.last(),
        Some(&Event::Aborted(AbortCause::Protocol(ProtocolError::PData(
            ReceiveError::DataSetTooLong { max: 100 }
        ))))
    );
    assert_eq!(
        p.ac.take_sent().last(),
        Some(&provider_abort(abort_reason::INVALID_PDU_PARAMETER_VALUE))
    );
}

/// More presentation contexts than `max_contexts` are rejected (permanent, ACSE).
#[test]
fn too_many_presentation_contexts_rejected() {
    let ac_config = Config {
        max_contexts: 2,
        ..config()
    };
    let mut p = Pair::new(&proposal(), config(), ac_config);
    p.rq.assoc.handle_connected(p.now).unwrap();
    p.drive();
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Rejected(AssociateRj::new(
            Rejection::Permanent,
            RejectReason::AcseNoReason
        ))]
    );
    assert_eq!(p.ac.take_events(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// 11. The DIMSE exchange: responses matched, cancels, the window, pipelined requests

/// Bytes `from` queued for the transport, handed to `to` (events stay queued in `to`).
fn carry(now: Instant, from: &mut Association, to: &mut Association) {
    let mut wire = BytesMut::new();
    while let Some(t) = from.poll_transmit() {
        wire.extend_from_slice(&t.head);
        wire.extend_from_slice(&t.body);
    }
    to.handle_input(now, &mut wire);
    assert!(wire.is_empty());
}

/// A response that answers no request of ours in flight is a protocol error: A-ABORT, and the
/// application sees only the abort.
#[test]
fn a_response_to_no_request_in_flight_aborts() {
    let mut p = established();
    p.ac.assoc
        .send_command(p.now, ECHO_CTX, &echo_final(9))
        .unwrap();
    p.drive();
    assert_eq!(
        p.rq.take_events(),
        vec![protocol_abort(ProtocolError::PData(
            ReceiveError::UnsolicitedResponse { message_id: 9 }
        ))]
    );
    assert_eq!(
        p.rq.take_sent().last(),
        Some(&provider_abort(abort_reason::INVALID_PDU_PARAMETER_VALUE))
    );
}

/// A C-CANCEL of an operation still in progress reaches the acceptor as `Event::Cancel`; one
/// that crossed the final response has nothing left to cancel and is not reported.
#[test]
fn cancel_reported_only_for_an_operation_in_progress() {
    let mut p = established();
    p.rq.assoc
        .send_message(p.now, ECHO_CTX, &CEchoRq::new(1))
        .unwrap();
    p.rq.assoc
        .send_message(p.now, ECHO_CTX, &CCancelRq::new(1))
        .unwrap();
    p.drive();
    assert_eq!(
        p.ac.take_events(),
        vec![
            Event::Message {
                context_id: ECHO_CTX,
                message: CEchoRq::new(1).into()
            },
            Event::Cancel {
                context_id: ECHO_CTX,
                message_id: 1
            }
        ]
    );
    let rsp = CEchoRsp::for_request(&CEchoRq::new(1), Status::CANCEL);
    p.ac.assoc.send_message(p.now, ECHO_CTX, &rsp).unwrap();
    p.drive();
    assert_eq!(
        p.rq.take_events(),
        vec![Event::Message {
            context_id: ECHO_CTX,
            message: rsp.into()
        }]
    );
    // Late: the operation is over.
    p.rq.assoc
        .send_message(p.now, ECHO_CTX, &CCancelRq::new(1))
        .unwrap();
    p.drive();
    assert_eq!(p.ac.take_events(), vec![]);
    assert_eq!(p.ac.state(), State::Sta6);
}

/// `send_message` keeps the exchange's rules: no more requests in flight than the window
/// agreed (1 when none was negotiated), and responses only to requests in progress.
/// `send_command` stays free to break them, to test a peer.
#[test]
fn send_message_keeps_the_window_and_answers_only_requests_in_progress() {
    let mut p = established();
    assert_eq!(p.rq.assoc.request_window(), Some(1));
    p.rq.assoc
        .send_message(p.now, ECHO_CTX, &CEchoRq::new(1))
        .unwrap();
    assert_eq!(p.rq.assoc.requests_in_flight(), 1);
    let e =
        p.rq.assoc
            .send_message(p.now, ECHO_CTX, &CEchoRq::new(2))
            .unwrap_err();
    assert_eq!(
        (e.operation, e.problem),
        (Operation::SendMessage, Problem::WindowFull)
    );
    p.drive();
    let stray = CEchoRsp::for_request(&CEchoRq::new(5), Status::SUCCESS);
    let e =
        p.ac.assoc
            .send_message(p.now, ECHO_CTX, &stray)
            .unwrap_err();
    assert_eq!(
        (e.operation, e.problem),
        (Operation::SendMessage, Problem::NotInProgress)
    );
    let rsp = CEchoRsp::for_request(&CEchoRq::new(1), Status::SUCCESS);
    p.ac.assoc.send_message(p.now, ECHO_CTX, &rsp).unwrap();
    // Answered once: a second final response has no request left.
    let e = p.ac.assoc.send_message(p.now, ECHO_CTX, &rsp).unwrap_err();
    assert_eq!(e.problem, Problem::NotInProgress);
    p.drive();
    assert_eq!(p.rq.assoc.requests_in_flight(), 0);
    p.rq.assoc
        .send_message(p.now, ECHO_CTX, &CEchoRq::new(2))
        .unwrap();
    // The raw path checks framing only.
    p.rq.assoc
        .send_command(p.now, ECHO_CTX, &CEchoRq::new(3).to_command())
        .unwrap();
    assert_eq!(p.rq.assoc.requests_in_flight(), 2);
}

/// A negotiated window: the requestor invokes up to its first number, the acceptor up to its
/// second; 0 means no limit.
#[test]
fn request_window_follows_the_negotiated_window() {
    let mut proposal = proposal();
    proposal.async_window = Some((3, 0));
    let mut policy = policy();
    policy.async_window = (8, 8);
    let mut p = established_with(&proposal, &policy, config(), config());
    assert_eq!(p.rq.assoc.request_window(), Some(3));
    assert_eq!(p.ac.assoc.request_window(), Some(8));
    for id in 1..=3 {
        p.rq.assoc
            .send_message(p.now, ECHO_CTX, &CEchoRq::new(id))
            .unwrap();
    }
    let e =
        p.rq.assoc
            .send_message(p.now, ECHO_CTX, &CEchoRq::new(4))
            .unwrap_err();
    assert_eq!(e.problem, Problem::WindowFull);
    p.drive();
    assert_eq!(p.ac.take_events().len(), 3);
}

/// While the acceptor serves one request it still sees the cancel of it, but the requests the
/// peer pipelined behind it (with their data sets) and its release request wait, in order.
#[test]
fn pipelined_requests_wait_while_an_operation_runs() {
    let mut p = established();
    let (now, rq, ac) = (p.now, &mut p.rq.assoc, &mut p.ac.assoc);
    rq.send_command(now, ECHO_CTX, &CEchoRq::new(1).to_command())
        .unwrap();
    let store = CStoreRq::new(2, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Medium);
    rq.send_command(now, STORE_CTX, &store.to_command())
        .unwrap();
    rq.send_data(now, STORE_CTX, Bytes::from_static(b"abcd"), false)
        .unwrap();
    rq.send_data(now, STORE_CTX, Bytes::from_static(b"ef"), true)
        .unwrap();
    rq.send_message(now, ECHO_CTX, &CCancelRq::new(1)).unwrap();
    rq.release(now).unwrap();
    carry(now, rq, ac);

    assert!(matches!(
        ac.poll_event(),
        Some(Event::Message {
            message: Message::CEchoRq(_),
            ..
        })
    ));
    // Serving the C-ECHO: only its cancel comes through.
    assert_eq!(
        ac.poll_operation_event(),
        Some(Event::Cancel {
            context_id: ECHO_CTX,
            message_id: 1
        })
    );
    assert_eq!(ac.poll_operation_event(), None);
    let (events, bytes) = ac.queued_events();
    assert_eq!(
        events, 4,
        "the C-STORE, its two fragments, the release request"
    );
    assert!(bytes >= 6);
    // Then the rest, in the order it came.
    assert!(matches!(
        ac.poll_event(),
        Some(Event::Message {
            context_id: STORE_CTX,
            message: Message::CStoreRq(_)
        })
    ));
    assert!(matches!(
        ac.poll_event(),
        Some(Event::Data { last: false, .. })
    ));
    assert!(matches!(
        ac.poll_event(),
        Some(Event::Data { last: true, .. })
    ));
    assert_eq!(ac.poll_event(), Some(Event::ReleaseRequested));
    assert_eq!(ac.queued_events(), (0, 0));
}

/// A response must be of its request's type: a C-STORE-RSP to a C-ECHO-RQ aborts.
#[test]
fn a_response_of_another_type_than_its_request_aborts() {
    let mut p = established();
    p.rq.assoc
        .send_message(p.now, ECHO_CTX, &CEchoRq::new(1))
        .unwrap();
    p.drive();
    let store = CStoreRq::new(1, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Medium);
    let wrong = CStoreRsp::for_request(&store, Status::SUCCESS).to_command();
    p.ac.assoc.send_command(p.now, ECHO_CTX, &wrong).unwrap();
    p.drive();
    let error = ReceiveError::ResponseType {
        message_id: 1,
        request: 0x0030,
        response: 0x8001,
    };
    assert_eq!(error.to_string(), "C-STORE-RSP to message 1, a C-ECHO-RQ");
    assert_eq!(
        p.rq.take_events().last(),
        Some(&protocol_abort(ProtocolError::PData(error)))
    );
}
