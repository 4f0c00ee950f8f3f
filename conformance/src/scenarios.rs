//! SCP-facing conformance scenarios (PS3.8 upper layer, PS3.7 Verification).
//!
//! Each scenario opens its own connection to the [`Target`], plays one exchange with a
//! [`RawPeer`] and returns an [`Outcome`]: what PS3.8 expects, what came back, and whether
//! that conforms. Every wait is bounded by [`Target::timeout`]; nothing panics on what the SCP
//! sends.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{Proposal, ProposedContext};
use dimse_core::dimse::{CEchoRq, CEchoRsp, CommandSet, DimseMessage};
use dimse_core::pdu::{AssociateAc, AssociateRq, Item, PData, PcResult, Pdu, Pdv, UserItem};
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
    /// What the scenarios' connections send and see (see [`Scenario::run_on`]).
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
    /// How long the scenario took (set by the runners: [`Scenario::run_on`]).
    pub duration: Duration,
    /// What its connections sent and saw, one line each (set by the runners).
    pub trace: Vec<String>,
}

/// One scenario: its name and the function that runs it.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Short name, also the [`Outcome::name`] it reports.
    pub name: &'static str,
    /// Runs the scenario against a target.
    pub run: fn(&Target) -> Outcome,
}

impl Scenario {
    /// Runs it against `target`, timing it and keeping the trace of its connections.
    pub fn run_on(&self, target: &Target) -> Outcome {
        traced(&target.trace, || (self.run)(target))
    }
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

/// Every SCP-facing scenario, in the order [`run_all`] runs them.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "echo",
        run: echo,
    },
    Scenario {
        name: "unknown-abstract-syntax",
        run: unknown_abstract_syntax,
    },
    Scenario {
        name: "unknown-transfer-syntax",
        run: unknown_transfer_syntax,
    },
    Scenario {
        name: "unknown-user-info-sub-item",
        run: unknown_user_item,
    },
    Scenario {
        name: "protocol-version-0",
        run: protocol_version_zero,
    },
    Scenario {
        name: "unknown-pdu-type",
        run: unknown_pdu_type,
    },
    Scenario {
        name: "huge-pdu-length",
        run: huge_pdu_length,
    },
    Scenario {
        name: "command-in-8-byte-pdus",
        run: command_in_small_pdus,
    },
    Scenario {
        name: "command-in-3-pdvs",
        run: command_in_three_pdvs,
    },
    Scenario {
        name: "abort-after-associate",
        run: abort_after_associate,
    },
    Scenario {
        name: "async-window",
        run: async_window,
    },
    Scenario {
        name: "user-identity",
        run: user_identity,
    },
    Scenario {
        name: "abort-before-associate",
        run: abort_before_associate,
    },
    Scenario {
        name: "p-data-before-associate",
        run: pdata_before_associate,
    },
    Scenario {
        name: "second-associate-rq",
        run: second_associate_rq,
    },
    Scenario {
        name: "malformed-context-item",
        run: malformed_context_item,
    },
    Scenario {
        name: "transfer-syntax-from-proposal",
        run: transfer_syntax_from_proposal,
    },
    Scenario {
        name: "role-selection",
        run: role_selection,
    },
];

/// Runs every scenario in [`SCENARIOS`] against `target`, one connection each, in order.
pub fn run_all(target: &Target) -> Vec<Outcome> {
    SCENARIOS.iter().map(|s| s.run_on(target)).collect()
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

const UNKNOWN_ABSTRACT_SYNTAX: &str = "1.2.3.4.5.6.7.8.9";
const UNKNOWN_TRANSFER_SYNTAX: &str = "1.2.3.4.999";
/// MessageID of every C-ECHO-RQ sent.
pub(crate) const MESSAGE_ID: u16 = 7;

fn outcome(name: &str, expected: &str, got: String, passed: bool) -> Outcome {
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
fn context_result(ac: &AssociateAc, id: u8) -> Option<(PcResult, String)> {
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
fn echo_with_pdus(peer: &mut RawPeer, t: &Target, pdus: Vec<Vec<Pdv>>) -> Result<String, String> {
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

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// The built-in scenarios a scenario file can express, kept as one
/// (`conformance/scenarios/scp-facing.toml`).
const SCRIPTED: &str = include_str!("../scenarios/scp-facing.toml");

/// Runs the built-in scripted scenario `name` (those below that say so).
fn scripted(name: &str, t: &Target) -> Outcome {
    static FILE: std::sync::OnceLock<crate::script::ScenarioFile> = std::sync::OnceLock::new();
    let file = FILE.get_or_init(|| {
        crate::script::ScenarioFile::parse(SCRIPTED)
            .expect("scp-facing.toml parses (tested by built_in_scripts_parse)")
    });
    match file.scenarios.iter().find(|s| s.name == name) {
        Some(script) => script.run(t),
        None => Outcome::new(
            name,
            "a scenario",
            format!("internal: {name} is not in scp-facing.toml"),
            false,
        ),
    }
}

/// (a) Verification in implicit VR LE: accepted, C-ECHO succeeds, release confirmed.
pub fn echo(t: &Target) -> Outcome {
    scripted("echo", t)
}

/// (b) An abstract syntax no SCP supports, proposed alongside Verification: that context is
/// rejected (3, or the permitted 1/2 — reported), Verification accepted.
pub fn unknown_abstract_syntax(t: &Target) -> Outcome {
    let expected = "context 1 (1.2.3.4.5.6.7.8.9) rejected with result 3 (or 1/2), context 3 (Verification) accepted";
    let result = (|| {
        let mut peer = connect(t)?;
        let contexts = vec![
            ProposedContext::new(UNKNOWN_ABSTRACT_SYNTAX, &[uid::IMPLICIT_VR_LE]),
            verification(),
        ];
        let ac = associate(&mut peer, t, request(t, contexts))?;
        release_quietly(peer, t);
        let unknown = context_result(&ac, 1).map(|(r, _)| r.code());
        let verif = context_result(&ac, 3).map(|(r, _)| r.code());
        let show = |r: Option<u8>| r.map_or("missing".to_string(), |c| c.to_string());
        let got = format!(
            "A-ASSOCIATE-AC: context 1 result {}, context 3 result {}",
            show(unknown),
            show(verif)
        );
        let passed = matches!(unknown, Some(1..=3)) && verif == Some(0);
        Ok((got, passed))
    })();
    finish("unknown-abstract-syntax", expected, result)
}

/// (c) Verification offered only in an unknown transfer syntax: result 4.
pub fn unknown_transfer_syntax(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC with context 1 result 4 (transfer syntaxes not supported)";
    let result = (|| {
        let mut peer = connect(t)?;
        let contexts = vec![ProposedContext::new(
            uid::VERIFICATION,
            &[UNKNOWN_TRANSFER_SYNTAX],
        )];
        send(&mut peer, &Pdu::AssociateRq(request(t, contexts)))?;
        let seen = observe(&mut peer, t)?;
        let out = match &seen {
            Observed::Pdu(Pdu::AssociateAc(ac)) => match context_result(ac, 1) {
                Some((r, _)) => (
                    format!("A-ASSOCIATE-AC with context 1 result {}", r.code()),
                    r == PcResult::TransferSyntaxesNotSupported,
                ),
                None => ("A-ASSOCIATE-AC without context 1".to_string(), false),
            },
            other => (other.to_string(), false),
        };
        if matches!(seen, Observed::Pdu(Pdu::AssociateAc(_))) {
            release_quietly(peer, t);
        }
        Ok(out)
    })();
    finish("unknown-transfer-syntax", expected, result)
}

/// (d) An unknown user information sub-item (0x5F): ignored, association accepted.
pub fn unknown_user_item(t: &Target) -> Outcome {
    let expected =
        "A-ASSOCIATE-AC accepting Verification (unknown sub-item 0x5F ignored, PS3.8 D.1)";
    let result = (|| {
        let mut peer = connect(t)?;
        let mut rq = request(t, vec![verification()]);
        for item in &mut rq.items {
            if let Item::UserInformation(sub) = item {
                sub.push(UserItem::Unknown {
                    item_type: 0x5F,
                    data: Bytes::from_static(&[0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02]),
                });
            }
        }
        let got = associate_verification(&mut peer, t, rq)?;
        release_quietly(peer, t);
        Ok((got, true))
    })();
    finish("unknown-user-info-sub-item", expected, result)
}

/// (e) Protocol version 0x0000 (bit 0, version 1, unset): A-ASSOCIATE-RJ, source 2 (ACSE)
/// reason 2 (protocol version not supported).
pub fn protocol_version_zero(t: &Target) -> Outcome {
    scripted("protocol-version-0", t)
}

/// (f) A PDU of unknown type (0x55) as the first PDU: A-ABORT (Sta2, Evt19, AA-1) or close.
pub fn unknown_pdu_type(t: &Target) -> Outcome {
    scripted("unknown-pdu-type", t)
}

/// (g) A P-DATA-TF header announcing 0xFFFFFFFF bytes before any association: the SCP must
/// not wait for 4 GiB; A-ABORT or close.
pub fn huge_pdu_length(t: &Target) -> Outcome {
    scripted("huge-pdu-length", t)
}

/// (h) A C-ECHO-RQ command split into 8-byte PDVs, each in its own P-DATA-TF.
pub fn command_in_small_pdus(t: &Target) -> Outcome {
    let expected = "C-ECHO-RSP status 0x0000 to a command sent as 8-byte PDVs, one per P-DATA-TF";
    let result = (|| {
        let mut peer = connect(t)?;
        associate_verification(&mut peer, t, request(t, vec![verification()]))?;
        let pdvs = command_pdvs(&echo_command(), 8);
        let n = pdvs.len();
        let got = echo_with_pdus(&mut peer, t, pdvs.into_iter().map(|p| vec![p]).collect())?;
        Ok((format!("{got} ({n} P-DATA-TF sent)"), true))
    })();
    finish("command-in-8-byte-pdus", expected, result)
}

/// (i) A C-ECHO-RQ command split into three PDVs of one P-DATA-TF.
pub fn command_in_three_pdvs(t: &Target) -> Outcome {
    let expected = "C-ECHO-RSP status 0x0000 to a command sent as 3 PDVs in one P-DATA-TF";
    let result = (|| {
        let mut peer = connect(t)?;
        associate_verification(&mut peer, t, request(t, vec![verification()]))?;
        let command = echo_command();
        // Even fragment sizes, so only the last may be odd; three fragments in all.
        let size = command.len().div_ceil(3).next_multiple_of(2);
        let pdvs = command_pdvs(&command, size);
        if pdvs.len() != 3 {
            return Err(format!("internal: split into {} PDVs", pdvs.len()));
        }
        let got = echo_with_pdus(&mut peer, t, vec![pdvs])?;
        Ok((got, true))
    })();
    finish("command-in-3-pdvs", expected, result)
}

/// (j) A-ABORT after association: the SCP closes the connection and sends nothing
/// (Sta6 + Evt16: AA-3).
pub fn abort_after_associate(t: &Target) -> Outcome {
    scripted("abort-after-associate", t)
}

/// Adds `item` to the user information of `rq`.
fn with_user_item(mut rq: AssociateRq, item: UserItem) -> AssociateRq {
    for i in &mut rq.items {
        if let Item::UserInformation(sub) = i {
            sub.push(item);
            return rq;
        }
    }
    rq.items.push(Item::UserInformation(vec![item]));
    rq
}

/// (k) An asynchronous operations window of 5/5 proposed: accepted; an answer, if the SCP
/// gives one, within what was proposed (PS3.7 D.3.3.3).
pub fn async_window(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC accepting Verification; its window, if any, at most 5/5";
    let result = (|| {
        let mut peer = connect(t)?;
        let window = UserItem::AsyncOpsWindow {
            invoked: 5,
            performed: 5,
        };
        let rq = with_user_item(request(t, vec![verification()]), window);
        let ac = associate(&mut peer, t, rq)?;
        let accepted = matches!(context_result(&ac, 1), Some((PcResult::Acceptance, _)));
        let answer = ac.user_info().iter().find_map(|u| match u {
            UserItem::AsyncOpsWindow { invoked, performed } => Some((*invoked, *performed)),
            _ => None,
        });
        release_quietly(peer, t);
        let within = |n: u16| (1..=5).contains(&n);
        Ok(match answer {
            None => ("accepted, no window item (1/1)".to_string(), accepted),
            Some((i, p)) => (
                format!("accepted, window {i}/{p}"),
                accepted && within(i) && within(p),
            ),
        })
    })();
    finish("async-window", expected, result)
}

/// (l) A user identity (username, no response requested) from a caller the SCP does not
/// check: the association goes ahead (PS3.7 D.3.3.7).
pub fn user_identity(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC accepting Verification (user identity, no response asked)";
    let result = (|| {
        let mut peer = connect(t)?;
        let identity = UserItem::UserIdentityRq {
            kind: 1,
            positive_response_requested: 0,
            primary: Bytes::from_static(b"conform"),
            secondary: Bytes::new(),
        };
        let rq = with_user_item(request(t, vec![verification()]), identity);
        let got = associate_verification(&mut peer, t, rq)?;
        release_quietly(peer, t);
        Ok((got, true))
    })();
    finish("user-identity", expected, result)
}

/// (m) A-ABORT as the first PDU: the SCP closes without answering (Sta2 + Evt16: AA-2).
pub fn abort_before_associate(t: &Target) -> Outcome {
    scripted("abort-before-associate", t)
}

/// (n) A P-DATA-TF before any association: invalid in Sta2 (Evt10: AA-1), A-ABORT or close.
pub fn pdata_before_associate(t: &Target) -> Outcome {
    scripted("p-data-before-associate", t)
}

/// (o) A second A-ASSOCIATE-RQ on an established association: unexpected in Sta6 (Evt6:
/// AA-8), A-ABORT (or close).
pub fn second_associate_rq(t: &Target) -> Outcome {
    scripted("second-associate-rq", t)
}

/// (p) An A-ASSOCIATE-RQ whose presentation context item claims 100 bytes more than the PDU
/// holds: refused (A-ABORT, A-ASSOCIATE-RJ or close), never accepted.
pub fn malformed_context_item(t: &Target) -> Outcome {
    let expected = "A-ABORT, A-ASSOCIATE-RJ or connection close; no A-ASSOCIATE-AC";
    let result = (|| {
        let mut bytes = BytesMut::new();
        dimse_core::pdu::encode(
            &Pdu::AssociateRq(request(t, vec![verification()])),
            &mut bytes,
        );
        // Items start after the 6-byte header and 68 bytes of fixed fields; the first is the
        // application context, the second the presentation context.
        let first_len = u16::from_be_bytes([bytes[76], bytes[77]]) as usize;
        let pc = 74 + 4 + first_len;
        if bytes.get(pc) != Some(&0x20) {
            return Err("internal: no presentation context item where expected".into());
        }
        let len = u16::from_be_bytes([bytes[pc + 2], bytes[pc + 3]]) + 100;
        bytes[pc + 2..pc + 4].copy_from_slice(&len.to_be_bytes());
        let mut peer = connect(t)?;
        peer.send_bytes(&bytes)
            .map_err(|e| format!("sending failed: {e}"))?;
        let seen = observe(&mut peer, t)?;
        let passed = matches!(
            &seen,
            Observed::Pdu(Pdu::Abort(_) | Pdu::AssociateRj(_))
                | Observed::Closed { .. }
                | Observed::Reset
        );
        Ok((seen.to_string(), passed))
    })();
    finish("malformed-context-item", expected, result)
}

/// (q) Verification proposed in Explicit then Implicit VR Little Endian: accepted in one of
/// the two (PS3.8 9.3.3.2: the acceptor picks one of the proposed syntaxes).
pub fn transfer_syntax_from_proposal(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC accepting Verification in one of the proposed syntaxes";
    let result = (|| {
        let mut peer = connect(t)?;
        let offered = [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];
        let rq = request(t, vec![ProposedContext::new(uid::VERIFICATION, &offered)]);
        let ac = associate(&mut peer, t, rq)?;
        let answer = context_result(&ac, 1);
        release_quietly(peer, t);
        Ok(match answer {
            Some((PcResult::Acceptance, ts)) => {
                let ok = offered.contains(&uid::trim(&ts));
                (format!("accepted in {}", uid::trim(&ts)), ok)
            }
            Some((r, _)) => (format!("context 1 result {}", r.code()), false),
            None => ("no answer for context 1".to_string(), false),
        })
    })();
    finish("transfer-syntax-from-proposal", expected, result)
}

/// (r) Verification proposed with an SCP/SCU role selection item (SCU role only): accepted,
/// and a role selection answer, if any, grants no role that was not proposed (PS3.7 D.3.3.4).
pub fn role_selection(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC accepting Verification; no role granted beyond SCU";
    let result = (|| {
        let mut peer = connect(t)?;
        let roles = UserItem::RoleSelection {
            sop_class: uid::VERIFICATION.to_string(),
            scu: 1,
            scp: 0,
        };
        let rq = with_user_item(request(t, vec![verification()]), roles);
        let ac = associate(&mut peer, t, rq)?;
        let accepted = matches!(context_result(&ac, 1), Some((PcResult::Acceptance, _)));
        let answer = ac.user_info().iter().find_map(|u| match u {
            UserItem::RoleSelection {
                sop_class,
                scu,
                scp,
            } if uid::trim(sop_class) == uid::VERIFICATION => Some((*scu, *scp)),
            _ => None,
        });
        release_quietly(peer, t);
        Ok(match answer {
            None => (
                "accepted, no role selection answer (default roles)".into(),
                accepted,
            ),
            Some((scu, scp)) => (
                format!("accepted, roles SCU {scu} SCP {scp}"),
                accepted && scp == 0,
            ),
        })
    })();
    finish("role-selection", expected, result)
}

#[cfg(test)]
mod scripted_tests {
    use super::*;

    #[test]
    fn built_in_scripts_parse_and_are_listed() {
        let file = crate::script::ScenarioFile::parse(SCRIPTED).unwrap();
        for script in &file.scenarios {
            assert!(
                SCENARIOS.iter().any(|s| s.name == script.name),
                "{} is in scp-facing.toml but not in SCENARIOS",
                script.name
            );
        }
        assert_eq!(file.scenarios.len(), 8);
    }
}
