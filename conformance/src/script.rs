//! Scenarios as data: a TOML file of steps (send a PDU built from fields or raw bytes, expect
//! a PDU or the connection's end within a time, wait), run by a raw peer against an SCP.
//!
//! ```toml
//! [[scenario]]
//! name = "echo-by-hand"
//! expected = "C-ECHO answered with status 0"    # optional: what the report says is expected
//! timeout = 5                                    # optional: seconds, default --timeout
//!
//! [[scenario.step]]
//! send = "associate-rq"                          # Verification, implicit VR LE, by default
//! [[scenario.step]]
//! expect = "associate-ac"
//! accepted = [1]                                 # contexts that must be accepted
//! [[scenario.step]]
//! send = "p-data"
//! pdvs = [{ context = 1, message = "c-echo-rq" }]
//! [[scenario.step]]
//! expect = "p-data"
//! command = "C-ECHO-RSP"
//! status = 0
//! [[scenario.step]]
//! raw = "07 00 00 00 00 04 00 00 00 00"           # bytes as they are: an A-ABORT
//! [[scenario.step]]
//! expect = ["abort", "closed"]                   # any of these
//! within = 2
//! ```
//!
//! A step sends (`send`, or `raw` hex), expects (`expect`: a PDU kind, `closed` or `nothing`,
//! or a list of them) or waits (`wait` seconds). Built PDUs take fields (`calling`, `called`,
//! `protocol_version`, `contexts`, `max_pdu`, `result`/`source`/`reason`, `pdvs`) and
//! overrides of the encoded header (`pdu_type`, `length`): a tester sends what the standard
//! forbids as easily as what it asks for. The first step that does not go as written fails
//! the scenario; the report shows it and the PDU trace that led to it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{
    AbstractSyntaxMatch, AcceptorPolicy, Proposal, ProposedContext, SupportedSyntax,
    TransferSyntaxChoice,
};
use dimse_core::dimse::{command_name, tags, CEchoRq, CommandSet, DimseMessage, DATA_SET_ABSENT};
use dimse_core::pdu::{self, Abort, AbortSource, AssociateRj, PData, Pdu, Pdv};
use dimse_core::uid;
use serde::Deserialize;

use crate::exchange::{connect, Outcome, Target};
use crate::peer::{Observed, RawPeer};
use crate::scu_command::{describe_exit, last_words, run_scu_against, ScuUnderTest, SCP_AE};

/// A parsed scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Its scenarios, in file order.
    #[serde(rename = "scenario")]
    pub scenarios: Vec<Script>,
}

/// One scenario of a file: a name and its steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The name reports use (and `--scenario` selects).
    pub name: String,
    /// What a conforming peer does, for the report; by default the expect steps, listed.
    pub expected: Option<String>,
    /// Default wait of the expect steps, in seconds (else the target's timeout).
    pub timeout: Option<f64>,
    /// Which side the file's peer plays: `scu` (the default: it connects to the SCP under
    /// test, `dimse conform --scenario-file F HOST PORT`) or `scp` (it listens for the SCU
    /// under test, `dimse conform --scu --scenario-file F -- COMMAND`).
    pub role: Option<String>,
    /// With `role = "scp"`: the exit status the SCU under test must end with, `zero` or
    /// `non-zero` (unchecked when absent).
    pub exit: Option<String>,
    /// The steps, in order.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// One step. Exactly one of `send`, `raw`, `expect` and `wait` says what it does; the other
/// fields qualify it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Send a PDU built from fields: `associate-rq`, `associate-ac`, `associate-rj`,
    /// `p-data`, `release-rq`, `release-rp`, `abort`.
    pub send: Option<String>,
    /// Send these bytes (hexadecimal; spaces, colons and line breaks ignored).
    pub raw: Option<String>,
    /// Expect one of these: a PDU kind as for `send`, `closed` (end of stream or reset) or
    /// `nothing` (no PDU within the wait).
    pub expect: Option<OneOrMany>,
    /// Wait this many seconds, reading nothing.
    pub wait: Option<f64>,
    /// How long an expect step waits, in seconds.
    pub within: Option<f64>,

    /// A-ASSOCIATE-RQ: calling AE title (default: ours).
    pub calling: Option<String>,
    /// A-ASSOCIATE-RQ: called AE title (default: the target's).
    pub called: Option<String>,
    /// A-ASSOCIATE-RQ: protocol version (default 1).
    pub protocol_version: Option<u16>,
    /// A-ASSOCIATE-RQ: the presentation contexts (default: Verification, implicit VR LE).
    pub contexts: Option<Vec<ContextSpec>>,
    /// A-ASSOCIATE-RQ or -AC: the maximum length we announce. An A-ASSOCIATE-AC (role `scp`)
    /// accepts every context of the request received, in the first transfer syntax proposed.
    pub max_pdu: Option<u32>,
    /// A-ASSOCIATE-RJ: result (sent or expected); A-ABORT has none.
    pub result: Option<u8>,
    /// A-ASSOCIATE-RJ or A-ABORT: source (sent or expected).
    pub source: Option<u8>,
    /// A-ASSOCIATE-RJ or A-ABORT: reason (sent or expected).
    pub reason: Option<u8>,
    /// P-DATA-TF: its PDVs.
    pub pdvs: Option<Vec<PdvSpec>>,
    /// Override of the encoded PDU's type byte.
    pub pdu_type: Option<u8>,
    /// Override of the encoded PDU's length field.
    pub length: Option<u32>,

    /// Expected A-ASSOCIATE-AC: these context IDs accepted.
    pub accepted: Option<Vec<u8>>,
    /// Expected P-DATA-TF: a whole command set of this kind (such as `C-ECHO-RSP`).
    pub command: Option<String>,
    /// Expected P-DATA-TF: that command's status.
    pub status: Option<u16>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Any of these.
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A proposed presentation context.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    /// Context ID (default 1, 3, 5, … in order).
    pub id: Option<u8>,
    /// Abstract syntax UID.
    #[serde(rename = "abstract")]
    pub abstract_syntax: String,
    /// Transfer syntax UIDs (default implicit VR LE).
    pub transfer: Option<Vec<String>>,
}

/// One PDV of a P-DATA-TF to send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdvSpec {
    /// Presentation context ID (default 1).
    pub context: Option<u8>,
    /// A command set built for us: `c-echo-rq`, or `response` (role `scp`): the response to
    /// the last request received, on its context, with `status` (default 0).
    pub message: Option<String>,
    /// With `message = "response"`: its status.
    pub status: Option<u16>,
    /// Its Message ID (default 1).
    pub message_id: Option<u16>,
    /// The fragment's bytes instead (hexadecimal).
    pub data: Option<String>,
    /// Control header bit 0 (default: true for `message`, false for `data`).
    pub command: Option<bool>,
    /// Control header bit 1 (default true).
    pub last: Option<bool>,
    /// The whole control byte, overriding the two above.
    pub control: Option<u8>,
}

/// Why a scenario file cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError(pub String);

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

const KINDS: [&str; 7] = [
    "associate-rq",
    "associate-ac",
    "associate-rj",
    "p-data",
    "release-rq",
    "release-rp",
    "abort",
];

impl Script {
    /// Whether the file's peer plays the SCP (`role = "scp"`): the scenario tests an SCU.
    pub fn tests_an_scu(&self) -> bool {
        self.role.as_deref() == Some("scp")
    }
}

impl ScenarioFile {
    /// Parses and checks a scenario file: every step does one thing, every kind is known,
    /// every hex string is hex, names are unique.
    pub fn parse(text: &str) -> Result<ScenarioFile, ScriptError> {
        let file: ScenarioFile =
            toml::from_str(text).map_err(|e| ScriptError(format!("scenario file: {e}")))?;
        let mut names = HashSet::new();
        for s in &file.scenarios {
            if !names.insert(s.name.as_str()) {
                return Err(ScriptError(format!(
                    "scenario {:?} is defined twice",
                    s.name
                )));
            }
            for (i, step) in s.steps.iter().enumerate() {
                step.check().map_err(|e| {
                    ScriptError(format!("scenario {:?}, step {}: {e}", s.name, i + 1))
                })?;
            }
        }
        Ok(file)
    }
}

impl Step {
    fn check(&self) -> Result<(), String> {
        let actions = [
            self.send.is_some(),
            self.raw.is_some(),
            self.expect.is_some(),
            self.wait.is_some(),
        ];
        if actions.iter().filter(|a| **a).count() != 1 {
            return Err("exactly one of send, raw, expect and wait".into());
        }
        if let Some(kind) = &self.send {
            if !KINDS.contains(&kind.as_str()) {
                return Err(format!("send = {kind:?}: one of {}", KINDS.join(", ")));
            }
        }
        if let Some(expect) = &self.expect {
            for kind in expect.list() {
                if !KINDS.contains(&kind.as_str()) && kind != "closed" && kind != "nothing" {
                    return Err(format!(
                        "expect = {kind:?}: one of {}, closed, nothing",
                        KINDS.join(", ")
                    ));
                }
            }
        }
        if let Some(raw) = &self.raw {
            hex(raw)?;
        }
        for pdv in self.pdvs.iter().flatten() {
            match (&pdv.message, &pdv.data) {
                (Some(m), None) if m == "c-echo-rq" || m == "response" => {}
                (Some(m), None) => return Err(format!("message = {m:?}: c-echo-rq or response")),
                (None, Some(d)) => {
                    hex(d)?;
                }
                _ => return Err("each PDV has a message or data".into()),
            }
        }
        for seconds in [self.wait, self.within].into_iter().flatten() {
            if !(0.0..=3600.0).contains(&seconds) {
                return Err(format!("{seconds} s: between 0 and 3600"));
            }
        }
        Ok(())
    }
}

/// Bytes from hexadecimal, separators ignored.
fn hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b':' | b'\n' | b'\r' | b'\t' | b'_'))
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!("{text:?}: an odd number of hex digits"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("{text:?}: not hexadecimal"))
        })
        .collect()
}

impl Script {
    /// Runs the scenario against `target` over one connection, its trace kept in the
    /// outcome as the built-in scenarios' is.
    pub fn run_on(&self, target: &Target) -> Outcome {
        crate::exchange::traced(&target.trace, || self.run(target))
    }

    fn expected(&self) -> String {
        if let Some(e) = &self.expected {
            return e.clone();
        }
        let expects: Vec<String> = self
            .steps
            .iter()
            .filter_map(|s| s.expect.as_ref())
            .map(|e| e.list().join(" or "))
            .collect();
        if expects.is_empty() {
            "every step as written".into()
        } else {
            expects.join(", then ")
        }
    }

    pub(crate) fn run(&self, target: &Target) -> Outcome {
        let expected = self.expected();
        if self.tests_an_scu() {
            return Outcome::new(
                &self.name,
                &expected,
                "this scenario plays the SCP (role = \"scp\"): run it with --scu -- COMMAND".into(),
                false,
            );
        }
        let mut peer = match connect(target) {
            Ok(p) => p,
            Err(e) => return Outcome::new(&self.name, &expected, e, false),
        };
        let result = self.run_steps(&mut peer, target);
        peer.shutdown();
        match result {
            Ok(got) => Outcome::new(&self.name, &expected, got, true),
            Err(why) => Outcome::new(&self.name, &expected, why, false),
        }
    }

    /// Every step in turn on `peer`: what the expect steps saw, or the first step's failure.
    fn run_steps(&self, peer: &mut RawPeer, target: &Target) -> Result<String, String> {
        let default_wait = self
            .timeout
            .map(Duration::from_secs_f64)
            .unwrap_or(target.timeout);
        let mut seen = Vec::new();
        let mut session = Session::default();
        for (i, step) in self.steps.iter().enumerate() {
            let what = run_step(step, peer, target, default_wait, &mut session)
                .map_err(|why| format!("step {} failed: {why}", i + 1))?;
            seen.extend(what);
        }
        Ok(if seen.is_empty() {
            "every step as written".to_string()
        } else {
            seen.join(", then ")
        })
    }

    /// Runs the scenario as the SCP the SCU under test connects to (`role = "scp"`): the
    /// command once, its placeholders filled in; every step must go as written and the exit
    /// status be as `exit` says.
    pub fn run_against(&self, scu: &ScuUnderTest) -> Outcome {
        crate::exchange::traced(&scu.trace, || self.run_scp(scu))
    }

    fn run_scp(&self, scu: &ScuUnderTest) -> Outcome {
        let mut expected = self.expected();
        let want_zero = match self.exit.as_deref() {
            Some("zero") => Some(true),
            Some(_) => Some(false),
            None => None,
        };
        if let Some(zero) = want_zero {
            expected.push_str(if zero { "; exit 0" } else { "; exit non-zero" });
        }
        let fail = |why: String| Outcome::new(&self.name, &expected, why, false);
        if !self.tests_an_scu() {
            return fail(
                "this scenario plays the SCU: run it without --scu, against HOST PORT".into(),
            );
        }
        let script = self.clone();
        let run = match run_scu_against(scu, move |peer, scu| {
            let mut target = Target::new("127.0.0.1", 0, SCP_AE, SCP_AE);
            // An expect step waits, by default, as long as an SCU that gives up should.
            target.timeout = scu.timeout * 2 + Duration::from_secs(3);
            script.run_steps(peer, &target)
        }) {
            Ok(run) => run,
            Err(why) => return fail(why),
        };
        let exit = describe_exit(run.status);
        let exit_ok = match (want_zero, run.status) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(zero), Some(s)) => s.success() == zero,
        };
        let last_words = last_words(&run.output);
        match run.served {
            Ok(got) => Outcome::new(
                &self.name,
                &expected,
                format!(
                    "{got}; {exit}{}",
                    if exit_ok { String::new() } else { last_words }
                ),
                exit_ok,
            ),
            Err(why) => fail(format!("{why}; {exit}{last_words}")),
        }
    }
}

/// What a scenario has received so far that later steps answer.
#[derive(Default)]
struct Session {
    /// The last A-ASSOCIATE-RQ (an A-ASSOCIATE-AC answers it).
    request: Option<pdu::AssociateRq>,
    /// The last whole request command, with its context (a `response` answers it).
    command: Option<(u8, CommandSet)>,
    /// Command fragments received so far.
    fragments: Vec<u8>,
}

/// Runs one step: what it saw (for expect steps), or why it failed.
fn run_step(
    step: &Step,
    peer: &mut RawPeer,
    target: &Target,
    default_wait: Duration,
    session: &mut Session,
) -> Result<Option<String>, String> {
    if let Some(seconds) = step.wait {
        std::thread::sleep(Duration::from_secs_f64(seconds));
        return Ok(None);
    }
    if let Some(raw) = &step.raw {
        let bytes = hex(raw)?;
        peer.send_bytes(&bytes)
            .map_err(|e| format!("sending {} bytes failed: {e}", bytes.len()))?;
        return Ok(None);
    }
    if let Some(kind) = &step.send {
        let pdu = build(kind, step, target, session)?;
        let mut bytes = BytesMut::new();
        pdu::encode(&pdu, &mut bytes);
        if step.pdu_type.is_some() || step.length.is_some() {
            if let Some(t) = step.pdu_type {
                bytes[0] = t;
            }
            if let Some(len) = step.length {
                bytes[2..6].copy_from_slice(&len.to_be_bytes());
            }
            peer.send_bytes(&bytes)
        } else {
            peer.send_pdu(&pdu)
        }
        .map_err(|e| format!("sending {kind} failed: {e}"))?;
        return Ok(None);
    }
    let kinds = step
        .expect
        .as_ref()
        .map(OneOrMany::list)
        .unwrap_or_default();
    let wait = step
        .within
        .map(Duration::from_secs_f64)
        .unwrap_or(default_wait);
    expect(peer, &kinds, step, wait, session).map(Some)
}

fn build(kind: &str, step: &Step, target: &Target, session: &Session) -> Result<Pdu, String> {
    Ok(match kind {
        "associate-rq" => {
            let calling = step.calling.as_deref().unwrap_or(&target.calling_ae);
            let called = step.called.as_deref().unwrap_or(&target.called_ae);
            let mut p = Proposal::new(calling, called);
            if let Some(max) = step.max_pdu {
                p.max_pdu = max;
            }
            let specs = step.contexts.clone().unwrap_or_else(|| {
                vec![ContextSpec {
                    id: None,
                    abstract_syntax: uid::VERIFICATION.into(),
                    transfer: None,
                }]
            });
            for spec in &specs {
                let ts: Vec<&str> = match &spec.transfer {
                    Some(list) => list.iter().map(String::as_str).collect(),
                    None => vec![uid::IMPLICIT_VR_LE],
                };
                p.contexts
                    .push(ProposedContext::new(&spec.abstract_syntax, &ts));
            }
            let mut rq = p.to_request();
            // IDs as written, where written (a tester may want even or repeated ones).
            let mut ids = specs.iter().map(|s| s.id);
            for item in &mut rq.items {
                if let pdu::Item::PresentationContextRq(pc) = item {
                    if let Some(Some(id)) = ids.next() {
                        pc.id = id;
                    }
                }
            }
            if let Some(v) = step.protocol_version {
                rq.protocol_version = v;
            }
            Pdu::AssociateRq(rq)
        }
        "associate-rj" => Pdu::AssociateRj(AssociateRj {
            result: step.result.unwrap_or(1),
            source: step.source.unwrap_or(1),
            reason: step.reason.unwrap_or(1),
        }),
        "abort" => Pdu::Abort(Abort::new(
            AbortSource::from_code(step.source.unwrap_or(0)),
            step.reason.unwrap_or(0),
        )),
        "release-rq" => Pdu::ReleaseRq,
        "release-rp" => Pdu::ReleaseRp,
        "p-data" => {
            let mut pdvs = Vec::new();
            for spec in step.pdvs.iter().flatten() {
                let mut context = spec.context.unwrap_or(1);
                let (data, command) = match (&spec.message, &spec.data) {
                    (Some(m), _) if m == "response" => {
                        let (ctx, request) = session
                            .command
                            .as_ref()
                            .ok_or("a response, but no request has been received")?;
                        context = spec.context.unwrap_or(*ctx);
                        (
                            response_to(request, spec.status.unwrap_or(0)).to_bytes(),
                            true,
                        )
                    }
                    (Some(_), _) => {
                        let rq = CEchoRq::new(spec.message_id.unwrap_or(1));
                        (rq.to_command().to_bytes(), true)
                    }
                    (None, Some(d)) => (Bytes::from(hex(d)?), false),
                    (None, None) => return Err("a PDV needs a message or data".into()),
                };
                let command = spec.command.unwrap_or(command);
                let last = spec.last.unwrap_or(true);
                let control = spec
                    .control
                    .unwrap_or(u8::from(command) | (u8::from(last) << 1));
                pdvs.push(Pdv {
                    context_id: context,
                    control,
                    data,
                });
            }
            Pdu::PData(PData { pdvs })
        }
        "associate-ac" => {
            let rq = session
                .request
                .as_ref()
                .ok_or("an A-ASSOCIATE-AC, but no A-ASSOCIATE-RQ has been received")?;
            let mut policy = AcceptorPolicy::new(crate::scu_command::SCP_AE);
            policy.require_called_ae = false;
            if let Some(max) = step.max_pdu {
                policy.max_pdu = max;
            }
            policy.supported.push(SupportedSyntax {
                abstract_syntax: AbstractSyntaxMatch::Any,
                transfer_syntaxes: TransferSyntaxChoice::RequestorOrder,
                accept_scu_role: true,
            });
            let ac = policy
                .evaluate(rq)
                .map_err(|r| format!("the request cannot be accepted: {r}"))?;
            Pdu::AssociateAc(ac)
        }
        other => return Err(format!("cannot send {other:?}")),
    })
}

/// The response to `request`: its command field with the response bit, the Message ID it
/// answers, its SOP class and instance, no data set, and `status`.
fn response_to(request: &CommandSet, status: u16) -> CommandSet {
    let mut rsp = CommandSet::new();
    let field = request.get_u16(tags::COMMAND_FIELD).unwrap_or(0);
    rsp.set_u16(tags::COMMAND_FIELD, field | 0x8000);
    if let Some(id) = request.get_u16(tags::MESSAGE_ID) {
        rsp.set_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO, id);
    }
    let class = request
        .get_str(tags::AFFECTED_SOP_CLASS_UID)
        .or_else(|| request.get_str(tags::REQUESTED_SOP_CLASS_UID));
    if let Some(class) = class {
        rsp.set_uid(tags::AFFECTED_SOP_CLASS_UID, uid::trim(class));
    }
    let instance = request
        .get_str(tags::AFFECTED_SOP_INSTANCE_UID)
        .or_else(|| request.get_str(tags::REQUESTED_SOP_INSTANCE_UID));
    if let Some(instance) = instance {
        rsp.set_uid(tags::AFFECTED_SOP_INSTANCE_UID, uid::trim(instance));
    }
    rsp.set_u16(tags::COMMAND_DATA_SET_TYPE, DATA_SET_ABSENT);
    rsp.set_u16(tags::STATUS, status);
    rsp
}

fn kind_of(p: &Pdu) -> &'static str {
    match p {
        Pdu::AssociateRq(_) => "associate-rq",
        Pdu::AssociateAc(_) => "associate-ac",
        Pdu::AssociateRj(_) => "associate-rj",
        Pdu::PData(_) => "p-data",
        Pdu::ReleaseRq => "release-rq",
        Pdu::ReleaseRp => "release-rp",
        Pdu::Abort(_) => "abort",
    }
}

/// Waits for one of `kinds` and checks the step's fields on it.
fn expect(
    peer: &mut RawPeer,
    kinds: &[String],
    step: &Step,
    wait: Duration,
    session: &mut Session,
) -> Result<String, String> {
    let wanted = kinds.join(" or ");
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let seen = peer
            .expect_pdu(left.max(Duration::from_millis(1)))
            .map_err(|e| format!("receive failed: {e}"))?;
        let kind = match &seen {
            Observed::Pdu(p) => kind_of(p),
            Observed::Closed { .. } | Observed::Reset => "closed",
            Observed::Timeout => "nothing",
            Observed::Invalid(_) => "undecodable bytes",
        };
        if !kinds.iter().any(|k| k == kind) {
            return Err(format!("expected {wanted} within {wait:?}; got {seen}"));
        }
        let Observed::Pdu(pdu) = &seen else {
            return Ok(seen.to_string());
        };
        match pdu {
            Pdu::AssociateRq(rq) => session.request = Some(rq.clone()),
            Pdu::AssociateAc(ac) => {
                for id in step.accepted.iter().flatten() {
                    let ok = ac
                        .presentation_contexts()
                        .any(|pc| pc.id == *id && pc.result.code() == 0);
                    if !ok {
                        return Err(format!("{seen}: context {id} not accepted"));
                    }
                }
            }
            Pdu::AssociateRj(rj) => {
                let fields = [
                    ("result", step.result, rj.result),
                    ("source", step.source, rj.source),
                    ("reason", step.reason, rj.reason),
                ];
                for (name, want, got) in fields {
                    if want.is_some_and(|w| w != got) {
                        return Err(format!("{seen}: {name} {got}, not {}", want.unwrap_or(0)));
                    }
                }
            }
            Pdu::Abort(a) => {
                let fields = [
                    ("source", step.source, a.source.code()),
                    ("reason", step.reason, a.reason),
                ];
                for (name, want, got) in fields {
                    if want.is_some_and(|w| w != got) {
                        return Err(format!("{seen}: {name} {got}, not {}", want.unwrap_or(0)));
                    }
                }
            }
            Pdu::PData(data) => {
                // A command may come in several P-DATA-TF: gather until its last fragment.
                let mut whole = None;
                for pdv in data.pdvs.iter().filter(|p| p.is_command()) {
                    session.fragments.extend_from_slice(&pdv.data);
                    if pdv.is_last() {
                        let bytes = std::mem::take(&mut session.fragments);
                        let set = CommandSet::decode(&bytes)
                            .map_err(|e| format!("an unreadable command set: {e}"))?;
                        whole = Some((pdv.context_id, set));
                    }
                }
                let checks = step.command.is_some() || step.status.is_some();
                let Some((context, set)) = whole else {
                    if checks {
                        continue;
                    }
                    return Ok(seen.to_string());
                };
                let field = set.get_u16(tags::COMMAND_FIELD).unwrap_or(0);
                let name = command_name(field);
                let status = set.get_u16(tags::STATUS);
                if field & 0x8000 == 0 {
                    session.command = Some((context, set));
                }
                if let Some(want) = &step.command {
                    if !want.eq_ignore_ascii_case(name) {
                        return Err(format!("{name}, not {want}"));
                    }
                }
                if let Some(want) = step.status {
                    if status != Some(want) {
                        return Err(format!(
                            "{name} with status {}, not 0x{want:04X}",
                            status.map_or("none".into(), |s| format!("0x{s:04X}"))
                        ));
                    }
                }
                return Ok(match status {
                    Some(s) => format!("{name} status 0x{s:04X}"),
                    None => name.to_string(),
                });
            }
            _ => {}
        }
        return Ok(seen.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_parses_and_its_mistakes_are_named() {
        let file = ScenarioFile::parse(
            r#"
            [[scenario]]
            name = "a"
            [[scenario.step]]
            send = "associate-rq"
            [[scenario.step]]
            expect = ["associate-ac", "associate-rj"]
            within = 2
            "#,
        )
        .unwrap();
        assert_eq!(file.scenarios[0].steps.len(), 2);
        assert_eq!(file.scenarios[0].expected(), "associate-ac or associate-rj");

        for (text, says) in [
            (
                "[[scenario]]\nname='a'\n[[scenario.step]]\nsend='hello'",
                "send = \"hello\"",
            ),
            (
                "[[scenario]]\nname='a'\n[[scenario.step]]\nraw='0g'",
                "not hexadecimal",
            ),
            (
                "[[scenario]]\nname='a'\n[[scenario.step]]\nwait=1\nraw='00'",
                "exactly one",
            ),
            (
                "[[scenario]]\nname='a'\n[[scenario.step]]\nexpect='ok'",
                "expect = \"ok\"",
            ),
            (
                "[[scenario]]\nname='a'\n[[scenario.step]]\nsend='abort'\nbogus=1",
                "unknown field",
            ),
            (
                "[[scenario]]\nname='a'\nstep=[]\n[[scenario]]\nname='a'\nstep=[]",
                "twice",
            ),
        ] {
            let e = ScenarioFile::parse(text).unwrap_err().0;
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn hex_takes_separators() {
        assert_eq!(hex("07 00:0a\n_ff").unwrap(), [7, 0, 10, 255]);
        assert!(hex("123").is_err());
    }
}
