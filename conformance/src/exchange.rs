//! What every scenario is built from: the [`Target`] under test, the [`Outcome`] a scenario
//! returns and how outcomes are reported, and the exchanges scenarios are made of (connect,
//! associate, C-ECHO, release, expect an abort or a close), each bounded by
//! [`Target::timeout`] and never panicking on what the peer sends.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{Proposal, ProposedContext};
use dimse_core::dimse::{CEchoRq, CEchoRsp, CommandSet, DimseMessage};
use dimse_core::pdu::{AssociateAc, AssociateRq, PData, PcResult, Pdu, Pdv};
use dimse_core::uid;

use crate::peer::{Observed, RawPeer};
use crate::trace::Trace;

/// The SCP under test and how to address it.
#[derive(Debug, Clone)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Our (calling) AE title.
    pub calling_ae: String,
    /// The SCP's (called) AE title.
    pub called_ae: String,
    /// Bound on every wait (connect, each expected PDU, each expected close).
    pub timeout: Duration,
    /// TLS on every connection (the server's certificate checked against `host`); `None`
    /// is plain TCP.
    pub tls: Option<dimse_driver::ClientTls>,
    /// What the scenarios' connections send and see (see [`Scenario::run_on`](crate::Scenario::run_on)).
    pub trace: Trace,
}

impl Target {
    /// A target with the default 10 s bound on every wait.
    pub fn new(host: &str, port: u16, calling_ae: &str, called_ae: &str) -> Target {
        Target {
            host: host.to_string(),
            port,
            calling_ae: calling_ae.to_string(),
            called_ae: called_ae.to_string(),
            timeout: Duration::from_secs(10),
            tls: None,
            trace: Trace::default(),
        }
    }
}

/// The result of one scenario.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Short scenario name, such as `echo`.
    pub name: String,
    /// What a conforming SCP does.
    pub expected: String,
    /// What the SCP did.
    pub got: String,
    /// Whether `got` conforms to `expected` (true for a skipped scenario too: it did not
    /// fail).
    pub passed: bool,
    /// The scenario did not apply to this peer (`got` says why), so it says nothing about it.
    pub skipped: bool,
    /// How long the scenario took (set by the runners: [`Scenario::run_on`](crate::Scenario::run_on)).
    pub duration: Duration,
    /// What its connections sent and saw, one line each (set by the runners).
    pub trace: Vec<String>,
}

/// Runs `scenario` with a fresh `trace`, and puts its time and trace in the outcome.
pub(crate) fn traced(trace: &Trace, scenario: impl FnOnce() -> Outcome) -> Outcome {
    trace.take();
    let start = Instant::now();
    let mut outcome = scenario();
    outcome.duration = start.elapsed();
    outcome.trace = trace.take();
    outcome
}
impl std::fmt::Display for Outcome {
    /// `PASS name: expected ...; got ...` (or `FAIL ...`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = match (self.skipped, self.passed) {
            (true, _) => "SKIP",
            (false, true) => "PASS",
            (false, false) => "FAIL",
        };
        write!(
            f,
            "{verdict} {}: expected {}; got {}",
            self.name, self.expected, self.got
        )
    }
}

/// One line per outcome (`PASS name: expected ...; got ...`), then
/// `conform: N passed, M failed`.
pub fn report(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        out.push_str(&format!("{o}\n"));
    }
    out.push_str(&summary(outcomes));
    out
}

/// `conform: N passed, M failed` (and `, K skipped` when some were), with a newline.
pub fn summary(outcomes: &[Outcome]) -> String {
    let skipped = outcomes.iter().filter(|o| o.skipped).count();
    let passed = outcomes.iter().filter(|o| o.passed).count() - skipped;
    let failed = outcomes.len() - passed - skipped;
    if skipped == 0 {
        format!("conform: {passed} passed, {failed} failed\n")
    } else {
        format!("conform: {passed} passed, {failed} failed, {skipped} skipped\n")
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

pub(crate) const UNKNOWN_ABSTRACT_SYNTAX: &str = "1.2.3.4.5.6.7.8.9";
pub(crate) const UNKNOWN_TRANSFER_SYNTAX: &str = "1.2.3.4.999";
/// MessageID of every C-ECHO-RQ sent.
pub(crate) const MESSAGE_ID: u16 = 7;

pub(crate) fn outcome(name: &str, expected: &str, got: String, passed: bool) -> Outcome {
    Outcome::new(name, expected, got, passed)
}

impl Outcome {
    /// An outcome with no time or trace yet (the runners add them).
    pub fn new(name: &str, expected: &str, got: String, passed: bool) -> Outcome {
        Outcome {
            name: name.to_string(),
            expected: expected.to_string(),
            got,
            passed,
            skipped: false,
            duration: Duration::ZERO,
            trace: Vec::new(),
        }
    }

    /// An outcome for a scenario that does not apply to the peer, saying `why`.
    pub fn skipped(name: &str, expected: &str, why: String) -> Outcome {
        Outcome {
            skipped: true,
            ..Outcome::new(name, expected, why, true)
        }
    }
}

/// Turns a scenario body's `Result<(got, passed), got>` into an outcome.
pub(crate) fn finish(
    name: &str,
    expected: &str,
    result: Result<(String, bool), String>,
) -> Outcome {
    match result {
        Ok((got, passed)) => outcome(name, expected, got, passed),
        Err(got) => outcome(name, expected, got, false),
    }
}

pub(crate) fn connect(t: &Target) -> Result<RawPeer, String> {
    match &t.tls {
        None => RawPeer::connect(&t.host, t.port, t.timeout),
        Some(tls) => RawPeer::connect_tls(&t.host, t.port, t.timeout, tls),
    }
    .map(|peer| peer.traced(&t.trace))
    .map_err(|e| format!("cannot connect to {}:{}: {e}", t.host, t.port))
}

pub(crate) fn send(peer: &mut RawPeer, pdu: &Pdu) -> Result<(), String> {
    peer.send_pdu(pdu)
        .map_err(|e| format!("sending {} failed: {e}", pdu.name()))
}

pub(crate) fn observe(peer: &mut RawPeer, t: &Target) -> Result<Observed, String> {
    peer.expect_pdu(t.timeout)
        .map_err(|e| format!("receive failed: {e}"))
}

/// The request for `contexts` (IDs 1, 3, 5, … in order) from our defaults.
pub(crate) fn request(t: &Target, contexts: Vec<ProposedContext>) -> AssociateRq {
    let mut p = Proposal::new(&t.calling_ae, &t.called_ae);
    p.contexts = contexts;
    p.to_request()
}

pub(crate) fn verification() -> ProposedContext {
    ProposedContext::new(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE])
}

/// Sends `rq` and waits for the answer: the A-ASSOCIATE-AC, or a description of anything else.
pub(crate) fn associate(
    peer: &mut RawPeer,
    t: &Target,
    rq: AssociateRq,
) -> Result<AssociateAc, String> {
    send(peer, &Pdu::AssociateRq(rq))?;
    match observe(peer, t)? {
        Observed::Pdu(Pdu::AssociateAc(ac)) => Ok(ac),
        other => Err(format!("{other} instead of A-ASSOCIATE-AC")),
    }
}

/// The result and transfer syntax the AC gives context `id`.
pub(crate) fn context_result(ac: &AssociateAc, id: u8) -> Option<(PcResult, String)> {
    ac.presentation_contexts()
        .find(|pc| pc.id == id)
        .map(|pc| (pc.result, pc.transfer_syntax.clone()))
}

/// Sends `rq` (whose context 1 is Verification) and expects it accepted; returns a
/// description of the acceptance.
pub(crate) fn associate_verification(
    peer: &mut RawPeer,
    t: &Target,
    rq: AssociateRq,
) -> Result<String, String> {
    let ac = associate(peer, t, rq)?;
    match context_result(&ac, 1) {
        Some((PcResult::Acceptance, ts)) => {
            Ok(format!("A-ASSOCIATE-AC accepting context 1 ({ts})"))
        }
        Some((r, _)) => Err(format!(
            "A-ASSOCIATE-AC rejecting Verification (result {})",
            r.code()
        )),
        None => Err("A-ASSOCIATE-AC without an answer for context 1".to_string()),
    }
}

pub(crate) fn echo_command() -> Bytes {
    CEchoRq::new(MESSAGE_ID).to_command().to_bytes()
}

/// Reads P-DATA-TF PDUs until a complete command set arrives, and checks it is the C-ECHO-RSP
/// to our request. Returns its status.
pub(crate) fn expect_echo_rsp(
    peer: &mut RawPeer,
    t: &Target,
    context_id: u8,
) -> Result<u16, String> {
    let mut command = BytesMut::new();
    loop {
        match observe(peer, t)? {
            Observed::Pdu(Pdu::PData(d)) => {
                for pdv in d.pdvs {
                    if !pdv.is_command() {
                        return Err("a data set PDV instead of a C-ECHO-RSP command".into());
                    }
                    if pdv.context_id != context_id {
                        return Err(format!(
                            "command PDV on context {} instead of {context_id}",
                            pdv.context_id
                        ));
                    }
                    command.extend_from_slice(&pdv.data);
                    if pdv.is_last() {
                        let cmd = CommandSet::decode(&command)
                            .map_err(|e| format!("undecodable response command: {e}"))?;
                        let rsp = CEchoRsp::from_command(&cmd)
                            .map_err(|e| format!("not a C-ECHO-RSP: {e}"))?;
                        if rsp.message_id_being_responded_to != MESSAGE_ID {
                            return Err(format!(
                                "C-ECHO-RSP to message {} instead of {MESSAGE_ID}",
                                rsp.message_id_being_responded_to
                            ));
                        }
                        return Ok(rsp.status.0);
                    }
                }
            }
            other => return Err(format!("{other} instead of C-ECHO-RSP")),
        }
    }
}

/// Sends A-RELEASE-RQ and expects A-RELEASE-RP.
pub(crate) fn release(peer: &mut RawPeer, t: &Target) -> Result<(), String> {
    send(peer, &Pdu::ReleaseRq)?;
    match observe(peer, t)? {
        Observed::Pdu(Pdu::ReleaseRp) => Ok(()),
        other => Err(format!("{other} instead of A-RELEASE-RP")),
    }
}

/// Ends an association the scenario no longer needs, politely, without judging the answer.
pub(crate) fn release_quietly(mut peer: RawPeer, t: &Target) {
    if peer.send_pdu(&Pdu::ReleaseRq).is_ok() {
        let _ = peer.expect_pdu(t.timeout.min(Duration::from_secs(2)));
    }
    peer.shutdown();
}

/// Sends `pdvs` (command fragments already split) and expects a successful C-ECHO-RSP and a
/// clean release. `pdus` groups the PDVs: each inner vector is one P-DATA-TF.
pub(crate) fn echo_with_pdus(
    peer: &mut RawPeer,
    t: &Target,
    pdus: Vec<Vec<Pdv>>,
) -> Result<String, String> {
    for pdvs in pdus {
        send(peer, &Pdu::PData(PData { pdvs }))?;
    }
    let status = expect_echo_rsp(peer, t, 1)?;
    if status != 0 {
        return Err(format!("C-ECHO-RSP status 0x{status:04X}"));
    }
    release(peer, t)?;
    Ok("C-ECHO-RSP status 0x0000, A-RELEASE-RP".to_string())
}

/// Splits a command into PDVs of at most `max` bytes on context 1, the last one flagged.
pub(crate) fn command_pdvs(command: &Bytes, max: usize) -> Vec<Pdv> {
    let n = command.len().div_ceil(max).max(1);
    (0..n)
        .map(|i| {
            let end = ((i + 1) * max).min(command.len());
            let last = i + 1 == n;
            Pdv {
                context_id: 1,
                control: Pdv::COMMAND | if last { Pdv::LAST } else { 0 },
                data: command.slice(i * max..end),
            }
        })
        .collect()
}

/// Waits for the connection to end; an A-ABORT (or a close) conforms, anything else does not.
/// Returns (what happened with elapsed time, passed).
pub(crate) fn expect_abort_or_close(
    peer: &mut RawPeer,
    t: &Target,
) -> Result<(String, bool), String> {
    let start = Instant::now();
    let seen = observe(peer, t)?;
    let ms = start.elapsed().as_millis();
    Ok(match seen {
        Observed::Pdu(Pdu::Abort(_)) => {
            // Also note whether the connection then closes (briefly: the SCP may hold it until
            // its ARTIM timer expires, which conforms), without judging it.
            let wait = t.timeout.min(Duration::from_secs(2));
            let after = match peer.expect_pdu(wait) {
                Ok(Observed::Timeout) => format!("connection still open after {wait:?}"),
                Ok(o) => o.to_string(),
                Err(e) => format!("receive failed: {e}"),
            };
            (format!("{seen} after {ms} ms, then {after}"), true)
        }
        Observed::Closed { .. } | Observed::Reset => (format!("{seen} after {ms} ms"), true),
        Observed::Timeout => (format!("{seen} within {:?}", t.timeout), false),
        other => (format!("{other} after {ms} ms"), false),
    })
}
