//! Scenarios for an SCU under test that is a program: `dimse conform --scu -- COMMAND ARGS`.
//!
//! Each scenario starts a scripted SCP on a free loopback port, runs the command once with
//! its placeholders filled in, and judges two things: what the SCU did on the wire (as the
//! scripted SCP saw it) and the command's exit status. The SCP answers any request the SCU
//! sends (C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET; others with 0x0211) and misbehaves where its
//! scenario says so, on the first request of the association.
//!
//! Placeholders in the arguments: `{host}` and `{port}` of the scripted SCP, `{aet}` its AE
//! title, `{timeout}` the seconds the SCU should wait for an answer (give it to the SCU's
//! ACSE and DIMSE timeout options: the scenarios that never answer expect the SCU to give up
//! within about twice that).

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{
    AbstractSyntaxMatch, AcceptorPolicy, SupportedSyntax, TransferSyntaxChoice,
};
use dimse_core::dimse::{
    tags, CEchoRsp, CFindRsp, CGetRsp, CMoveRsp, CStoreRsp, CommandSet, DimseMessage, Message,
    Status, SubOperations, DATA_SET_ABSENT,
};
use dimse_core::pdu::{Abort, AbortSource, AssociateRj, PData, Pdu, Pdv, RejectReason, Rejection};

use crate::exchange::{command_pdvs, Outcome};
use crate::peer::{Observed, RawPeer};
use crate::trace::Trace;

/// The scripted SCP's AE title (`{aet}`).
pub const SCP_AE: &str = "DIMSE-CONFORM";

/// The SCU under test: a program, its arguments with placeholders, and the time it is given.
///
/// ```
/// use dimse_conformance::scu_command::ScuUnderTest;
///
/// let scu = ScuUnderTest::new(["echoscu", "-to", "{timeout}", "{host}", "{port}"]).unwrap();
/// assert_eq!(scu.program, "echoscu");
/// ```
#[derive(Debug, Clone)]
pub struct ScuUnderTest {
    /// The program to run.
    pub program: String,
    /// Its arguments, placeholders not yet filled in.
    pub args: Vec<String>,
    /// What `{timeout}` stands for: how long the SCU should wait for an answer.
    pub timeout: Duration,
    /// How long one run may take before it is killed and the scenario fails.
    pub limit: Duration,
    /// What the scripted SCP's connection sends and sees.
    pub trace: Trace,
}

impl ScuUnderTest {
    /// The command `words` (program first), with a 2 s `{timeout}` and a 60 s limit per run;
    /// `None` when `words` is empty.
    pub fn new<I, S>(words: I) -> Option<ScuUnderTest>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut words = words.into_iter().map(Into::into);
        Some(ScuUnderTest {
            program: words.next()?,
            args: words.collect(),
            timeout: Duration::from_secs(2),
            limit: Duration::from_secs(60),
            trace: Trace::default(),
        })
    }

    /// Its arguments with `{host}`, `{port}`, `{aet}` and `{timeout}` filled in.
    pub fn args_for(&self, port: u16) -> Vec<String> {
        self.args
            .iter()
            .map(|a| {
                a.replace("{host}", "127.0.0.1")
                    .replace("{port}", &port.to_string())
                    .replace("{aet}", SCP_AE)
                    .replace("{timeout}", &self.timeout.as_secs().max(1).to_string())
            })
            .collect()
    }

    /// How long the scripted SCP waits for an SCU that should give up on its own.
    fn give_up_bound(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(3)
    }
}

/// How the scripted SCP answers the A-ASSOCIATE-RQ.
#[derive(Debug, Clone, Copy)]
enum OnAssociate {
    /// Accept every proposed context (the first transfer syntax it knows), stating this
    /// maximum PDU length.
    Accept { max_pdu: u32 },
    /// Reject.
    Reject {
        permanent: bool,
        reason: RejectReason,
    },
    /// Say nothing.
    Ignore,
}

/// What the scripted SCP does with the first request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnRequest {
    /// Answer it (as the scenario's [`Answer`] says).
    Answer,
    /// Answer in PDVs of at most 8 bytes, a P-DATA-TF each.
    AnswerInSmallPdvs,
    /// Send A-ABORT instead.
    Abort,
    /// Send a PDU of an unknown type (0x55) instead.
    UnknownPdu,
    /// Say nothing.
    Ignore,
    /// Answer on a presentation context ID the request did not use.
    WrongContext,
    /// Answer, then send A-RELEASE-RQ.
    AnswerThenRelease,
}

/// The status the scripted SCP answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Success,
    /// Warning where the service defines one (C-STORE, C-MOVE, C-GET).
    Warning,
    /// A failure of the service.
    Failure,
    /// Pending responses first where the service has them (C-FIND matches, C-MOVE and C-GET
    /// sub-operation counts).
    Pending,
}

/// How the SCU should end the association.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// A-RELEASE-RQ, answered.
    Release,
    /// A-ABORT or closing the connection.
    AbortOrClose,
    /// A-RELEASE-RP to the scripted SCP's A-RELEASE-RQ.
    AnswerRelease,
}

/// What exit status the SCU should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Zero,
    NonZero,
}

/// One scenario for an SCU run as a command.
#[derive(Debug, Clone, Copy)]
pub struct ScuScenario {
    /// Short name, also the [`Outcome::name`] it reports.
    pub name: &'static str,
    /// What a conforming SCU does.
    pub expected: &'static str,
    associate: OnAssociate,
    first: OnRequest,
    answer: Answer,
    release_collision: bool,
    end: End,
    exit: Exit,
}

const ACCEPT: OnAssociate = OnAssociate::Accept { max_pdu: 16384 };

const fn scenario(name: &'static str, expected: &'static str) -> ScuScenario {
    ScuScenario {
        name,
        expected,
        associate: ACCEPT,
        first: OnRequest::Answer,
        answer: Answer::Success,
        release_collision: false,
        end: End::Release,
        exit: Exit::Zero,
    }
}

/// Every scenario for an SCU under test, in the order they run.
pub const SCU_COMMAND_SCENARIOS: &[ScuScenario] = &[
    scenario(
        "scu-success",
        "requests answered with Success; the SCU releases and exits 0",
    ),
    ScuScenario {
        associate: OnAssociate::Reject {
            permanent: true,
            reason: RejectReason::CalledAeNotRecognized,
        },
        end: End::AbortOrClose,
        exit: Exit::NonZero,
        ..scenario(
            "scu-rejected-permanent",
            "after A-ASSOCIATE-RJ (permanent, called AE not recognized) the SCU closes the connection and exits non-zero",
        )
    },
    ScuScenario {
        associate: OnAssociate::Reject {
            permanent: false,
            reason: RejectReason::LocalLimitExceeded,
        },
        end: End::AbortOrClose,
        exit: Exit::NonZero,
        ..scenario(
            "scu-rejected-transient",
            "after A-ASSOCIATE-RJ (transient, local limit exceeded) the SCU closes the connection and exits non-zero",
        )
    },
    ScuScenario {
        associate: OnAssociate::Ignore,
        end: End::AbortOrClose,
        exit: Exit::NonZero,
        ..scenario(
            "scu-no-associate-answer",
            "with the A-ASSOCIATE-RQ unanswered, the SCU gives up within twice {timeout} and exits non-zero",
        )
    },
    ScuScenario {
        first: OnRequest::Abort,
        end: End::AbortOrClose,
        exit: Exit::NonZero,
        ..scenario(
            "scu-abort-during-request",
            "after A-ABORT instead of a response the SCU closes the connection and exits non-zero",
        )
    },
    ScuScenario {
        first: OnRequest::Ignore,
        end: End::AbortOrClose,
        exit: Exit::NonZero,
        ..scenario(
            "scu-late-response",
            "with no response, the SCU gives up within twice {timeout} (A-ABORT or close) and exits non-zero",
        )
    },
    ScuScenario {
        first: OnRequest::AnswerInSmallPdvs,
        ..scenario(
            "scu-response-in-8-byte-pdvs",
            "a response command in 8-byte PDVs, a P-DATA-TF each, is reassembled; the SCU releases and exits 0",
        )
    },
    ScuScenario {
        associate: OnAssociate::Accept { max_pdu: 4096 },
        ..scenario(
            "scu-max-pdu-4096",
            "with the SCP's maximum PDU length 4096, no P-DATA-TF is longer; the SCU releases and exits 0",
        )
    },
    ScuScenario {
        first: OnRequest::UnknownPdu,
        end: End::AbortOrClose,
        exit: Exit::NonZero,
        ..scenario(
            "scu-unknown-pdu-type",
            "after a PDU of unknown type 0x55 the SCU sends A-ABORT (PS3.8 AA-1) or closes, and exits non-zero",
        )
    },
    ScuScenario {
        first: OnRequest::WrongContext,
        end: End::AbortOrClose,
        exit: Exit::NonZero,
        ..scenario(
            "scu-response-on-wrong-context",
            "a response on a presentation context the request did not use is not taken as the response: the SCU aborts or closes and exits non-zero",
        )
    },
    ScuScenario {
        answer: Answer::Warning,
        ..scenario(
            "scu-warning-status",
            "a Warning status (0xB000) ends the operation as done with warnings: the SCU releases and exits 0 (C-STORE, C-MOVE, C-GET)",
        )
    },
    ScuScenario {
        answer: Answer::Failure,
        exit: Exit::NonZero,
        ..scenario(
            "scu-failure-status",
            "a Failure status (0xA700, 0xA701 for retrievals, 0x0110 for C-ECHO) is reported: the SCU releases and exits non-zero",
        )
    },
    ScuScenario {
        answer: Answer::Pending,
        ..scenario(
            "scu-pending-responses",
            "pending responses (3 C-FIND matches, or C-MOVE/C-GET sub-operation counts) then Success: the SCU releases and exits 0",
        )
    },
    ScuScenario {
        release_collision: true,
        ..scenario(
            "scu-release-collision",
            "the SCP answers the SCU's A-RELEASE-RQ with its own: the SCU answers A-RELEASE-RP (PS3.8 release collision) and exits 0",
        )
    },
    ScuScenario {
        first: OnRequest::AnswerThenRelease,
        end: End::AnswerRelease,
        ..scenario(
            "scu-release-from-scp",
            "after the first response the SCP sends A-RELEASE-RQ: the SCU answers A-RELEASE-RP and exits 0",
        )
    },
];

/// Runs every scenario in [`SCU_COMMAND_SCENARIOS`] with `scu`, in order.
pub fn run_scu_command_all(scu: &ScuUnderTest) -> Vec<Outcome> {
    SCU_COMMAND_SCENARIOS
        .iter()
        .map(|s| s.run_on(scu))
        .collect()
}

/// What the scripted SCP saw.
struct Seen {
    /// Event by event, for the outcome's `got`.
    log: Vec<String>,
    /// The scenario does not apply to the SCU's request (e.g. pending responses to C-ECHO).
    not_applicable: Option<String>,
    /// Where the SCU broke the scenario's expectation on the wire.
    wrong: Option<String>,
}

impl ScuScenario {
    /// Runs the command once against this scenario's scripted SCP, and judges it.
    pub fn run_on(&self, scu: &ScuUnderTest) -> Outcome {
        crate::exchange::traced(&scu.trace, || self.run(scu))
    }

    fn run(&self, scu: &ScuUnderTest) -> Outcome {
        let scenario = *self;
        match run_scu_against(scu, move |peer, scu| scenario.serve(peer, scu)) {
            Ok(run) => self.verdict(run.status, &run.output, run.served),
            Err(why) => Outcome::new(self.name, self.expected, why, false),
        }
    }

    fn verdict(
        &self,
        status: Option<ExitStatus>,
        output: &str,
        seen: Result<Seen, String>,
    ) -> Outcome {
        let exit = describe_exit(status);
        let exit_ok = match (self.exit, status) {
            (Exit::Zero, Some(s)) => s.success(),
            (Exit::NonZero, Some(s)) => !s.success(),
            (_, None) => false,
        };
        let last_words = last_words(output);
        let (wire, wire_ok, skipped) = match seen {
            Ok(seen) => {
                let ok = seen.wrong.is_none();
                let mut wire = seen.log.join(", ");
                if let Some(wrong) = seen.wrong {
                    wire = format!("{wire}; UNEXPECTED {wrong}");
                }
                (wire, ok, seen.not_applicable)
            }
            Err(e) => (format!("UNEXPECTED {e}"), false, None),
        };
        if let Some(why) = skipped {
            return Outcome::skipped(self.name, self.expected, why);
        }
        let exit_note = if exit_ok {
            exit
        } else {
            format!("UNEXPECTED {exit}{last_words}")
        };
        Outcome::new(
            self.name,
            self.expected,
            format!("SCP saw: {wire}; SCU: {exit_note}"),
            wire_ok && exit_ok,
        )
    }

    /// The scripted SCP on its one connection.
    fn serve(&self, peer: &mut RawPeer, scu: &ScuUnderTest) -> Result<Seen, String> {
        let mut seen = Seen {
            log: Vec::new(),
            not_applicable: None,
            wrong: None,
        };
        let rq = match observe(peer, WAIT)? {
            Observed::Pdu(Pdu::AssociateRq(rq)) => rq,
            other => return Err(format!("{other} instead of A-ASSOCIATE-RQ")),
        };
        seen.log.push(format!(
            "A-ASSOCIATE-RQ ({} presentation contexts)",
            rq.presentation_contexts().count()
        ));
        let max_pdu = match self.associate {
            OnAssociate::Accept { max_pdu } => {
                let mut policy = AcceptorPolicy::new(SCP_AE);
                policy.require_called_ae = false;
                policy.max_pdu = max_pdu;
                policy.supported.push(SupportedSyntax {
                    abstract_syntax: AbstractSyntaxMatch::Any,
                    transfer_syntaxes: TransferSyntaxChoice::RequestorOrder,
                    accept_scu_role: true,
                });
                let ac = policy
                    .evaluate(&rq)
                    .map_err(|r| format!("the scripted SCP cannot accept the request: {r}"))?;
                send(peer, &Pdu::AssociateAc(ac))?;
                max_pdu as usize
            }
            OnAssociate::Reject { permanent, reason } => {
                let result = if permanent {
                    Rejection::Permanent
                } else {
                    Rejection::Transient
                };
                send(peer, &Pdu::AssociateRj(AssociateRj::new(result, reason)))?;
                seen.log.push("answered A-ASSOCIATE-RJ".into());
                self.expect_end(peer, WAIT, &mut seen)?;
                return Ok(seen);
            }
            OnAssociate::Ignore => {
                seen.log.push("left unanswered".into());
                self.expect_abort_or_close(peer, scu.give_up_bound(), &mut seen)?;
                return Ok(seen);
            }
        };
        let mut requests = 0;
        loop {
            let message = match read_message(peer, max_pdu)? {
                Incoming::Message(m) => m,
                Incoming::Other(o) => {
                    self.judge_end(o, requests, &mut seen, peer)?;
                    return Ok(seen);
                }
            };
            if let Some(wrong) = message.oversized.clone() {
                seen.wrong.get_or_insert(wrong);
            }
            requests += 1;
            let name = message.name();
            seen.log.push(name.to_string());
            let first = requests == 1;
            if first {
                if let Some(why) = self.not_applicable(&message.message) {
                    seen.not_applicable = Some(why);
                }
            }
            let responses = self.responses(&message);
            match (first, self.first) {
                (false, _) | (true, OnRequest::Answer) => {
                    send_responses(peer, message.context, &responses, max_pdu)?;
                }
                (true, OnRequest::AnswerInSmallPdvs) => {
                    send_responses(peer, message.context, &responses, 8)?;
                }
                (true, OnRequest::Abort) => {
                    send(peer, &Pdu::Abort(Abort::new(AbortSource::ServiceUser, 0)))?;
                    seen.log.push("answered A-ABORT".into());
                    self.expect_end(peer, WAIT, &mut seen)?;
                    return Ok(seen);
                }
                (true, OnRequest::UnknownPdu) => {
                    peer.send_bytes(&[0x55, 0, 0, 0, 0, 4, 0, 0, 0, 0])
                        .map_err(|e| format!("sending PDU type 0x55 failed: {e}"))?;
                    seen.log.push("answered PDU type 0x55".into());
                    self.expect_abort_or_close(peer, WAIT, &mut seen)?;
                    return Ok(seen);
                }
                (true, OnRequest::Ignore) => {
                    seen.log.push("left unanswered".into());
                    self.expect_abort_or_close(peer, scu.give_up_bound(), &mut seen)?;
                    return Ok(seen);
                }
                (true, OnRequest::WrongContext) => {
                    // Another odd ID: one the SCU proposed for something else, or none at all.
                    let other = message.context.wrapping_add(2).max(1) | 1;
                    send_responses(peer, other, &responses, max_pdu)?;
                    seen.log.push(format!(
                        "answered on context {other} instead of {}",
                        message.context
                    ));
                    self.expect_abort_or_close(peer, scu.give_up_bound(), &mut seen)?;
                    return Ok(seen);
                }
                (true, OnRequest::AnswerThenRelease) => {
                    send_responses(peer, message.context, &responses, max_pdu)?;
                    send(peer, &Pdu::ReleaseRq)?;
                    seen.log.push("answered, then A-RELEASE-RQ".into());
                    self.expect_release_answer(peer, &mut seen)?;
                    return Ok(seen);
                }
            }
        }
    }

    /// Why this scenario says nothing about an SCU whose first request is `message`.
    fn not_applicable(&self, message: &Message) -> Option<String> {
        let kind = message_name(message);
        let applies = match (self.answer, message) {
            (Answer::Warning, Message::CStoreRq(_) | Message::CMoveRq(_) | Message::CGetRq(_)) => {
                true
            }
            (Answer::Pending, Message::CFindRq(_) | Message::CMoveRq(_) | Message::CGetRq(_)) => {
                true
            }
            (Answer::Warning | Answer::Pending, _) => false,
            _ => true,
        };
        (!applies).then(|| format!("not for an SCU that sends {kind}"))
    }

    /// The responses to `request` under this scenario's [`Answer`]: command sets with the
    /// data sets that follow them.
    fn responses(&self, request: &Request) -> Vec<(CommandSet, Option<Bytes>)> {
        let answer = self.answer;
        let status = |warning: Status, failure: Status| match answer {
            Answer::Success | Answer::Pending => Status::SUCCESS,
            Answer::Warning => warning,
            Answer::Failure => failure,
        };
        let counts = |remaining, completed| SubOperations {
            remaining: Some(remaining),
            completed: Some(completed),
            failed: Some(0),
            warning: Some(0),
        };
        match &request.message {
            Message::CEchoRq(rq) => {
                let s = status(Status::SUCCESS, Status::PROCESSING_FAILURE);
                vec![(CEchoRsp::for_request(rq, s).to_command(), None)]
            }
            Message::CStoreRq(rq) => {
                let s = status(Status::COERCION_OF_DATA_ELEMENTS, Status::OUT_OF_RESOURCES);
                vec![(CStoreRsp::for_request(rq, s).to_command(), None)]
            }
            Message::CFindRq(rq) => {
                let mut out = Vec::new();
                if answer == Answer::Pending {
                    for _ in 0..3 {
                        let mut pending = CFindRsp::for_request(rq, Status::PENDING);
                        pending.has_data_set = true;
                        // The query itself is a valid match: every key it asks for is there.
                        out.push((pending.to_command(), request.data.clone()));
                    }
                }
                let s = status(Status::SUCCESS, Status::OUT_OF_RESOURCES);
                let mut last = CFindRsp::for_request(rq, s);
                last.has_data_set = false;
                out.push((last.to_command(), None));
                out
            }
            Message::CMoveRq(rq) => {
                let mut out = Vec::new();
                if answer == Answer::Pending {
                    for (remaining, completed) in [(2, 0), (1, 1)] {
                        let mut pending = CMoveRsp::for_request(rq, Status::PENDING);
                        pending.sub_operations = counts(remaining, completed);
                        out.push((pending.to_command(), None));
                    }
                }
                let s = status(
                    Status::SUB_OPERATIONS_WARNING,
                    Status::OUT_OF_RESOURCES_MATCHES,
                );
                let mut last = CMoveRsp::for_request(rq, s);
                last.sub_operations = final_counts(answer);
                out.push((last.to_command(), None));
                out
            }
            Message::CGetRq(rq) => {
                let mut out = Vec::new();
                if answer == Answer::Pending {
                    for (remaining, completed) in [(2, 0), (1, 1)] {
                        let mut pending = CGetRsp::for_request(rq, Status::PENDING);
                        pending.sub_operations = counts(remaining, completed);
                        out.push((pending.to_command(), None));
                    }
                }
                let s = status(
                    Status::SUB_OPERATIONS_WARNING,
                    Status::OUT_OF_RESOURCES_MATCHES,
                );
                let mut last = CGetRsp::for_request(rq, s);
                last.sub_operations = final_counts(answer);
                out.push((last.to_command(), None));
                out
            }
            _ => Vec::new(),
        }
    }

    /// After a rejection or an abort the SCU closes the connection without sending more
    /// (PS3.8 AE-4, AA-3).
    fn expect_end(
        &self,
        peer: &mut RawPeer,
        wait: Duration,
        seen: &mut Seen,
    ) -> Result<(), String> {
        let o = observe(peer, wait)?;
        seen.log.push(describe(&o));
        if !o.is_closed() {
            seen.wrong = Some(format!(
                "{} where the SCU should close the connection",
                describe(&o)
            ));
        }
        Ok(())
    }

    /// The SCU must abort or close within `wait`.
    fn expect_abort_or_close(
        &self,
        peer: &mut RawPeer,
        wait: Duration,
        seen: &mut Seen,
    ) -> Result<(), String> {
        let start = Instant::now();
        loop {
            let o = observe(peer, wait.saturating_sub(start.elapsed()))?;
            seen.log.push(describe(&o));
            match o {
                o if o.is_closed() => return Ok(()),
                Observed::Pdu(Pdu::Abort(_)) => return Ok(()),
                Observed::Timeout => {
                    seen.wrong = Some(format!(
                        "the SCU neither aborted nor closed within {} s",
                        wait.as_secs()
                    ));
                    return Ok(());
                }
                Observed::Pdu(Pdu::ReleaseRq) => {
                    seen.wrong = Some("A-RELEASE-RQ: the SCU took the operation as done".into());
                    send(peer, &Pdu::ReleaseRp)?;
                    return Ok(());
                }
                // More requests (a storescu going on with its next file): not answered.
                Observed::Pdu(Pdu::PData(_)) => {
                    seen.wrong
                        .get_or_insert("the SCU went on sending P-DATA-TF".into());
                }
                other => {
                    seen.wrong = Some(describe(&other));
                    return Ok(());
                }
            }
        }
    }

    /// The SCU has finished sending requests: `o` is what came instead of the next one.
    fn judge_end(
        &self,
        o: Observed,
        requests: usize,
        seen: &mut Seen,
        peer: &mut RawPeer,
    ) -> Result<(), String> {
        seen.log.push(describe(&o));
        match o {
            Observed::Pdu(Pdu::ReleaseRq) if self.release_collision => {
                send(peer, &Pdu::ReleaseRq)?;
                match observe(peer, WAIT)? {
                    Observed::Pdu(Pdu::ReleaseRp) => {
                        seen.log.push("A-RELEASE-RP to our A-RELEASE-RQ".into());
                        send(peer, &Pdu::ReleaseRp)?;
                        // The requestor closes after our RP (PS3.8 AR-3).
                        let closed = observe(peer, WAIT)?;
                        if !closed.is_closed() {
                            seen.wrong = Some(format!("{} after the collision", describe(&closed)));
                        }
                    }
                    other => {
                        seen.log.push(describe(&other));
                        seen.wrong = Some(format!(
                            "{} instead of A-RELEASE-RP in the collision",
                            describe(&other)
                        ));
                    }
                }
            }
            Observed::Pdu(Pdu::ReleaseRq) => {
                send(peer, &Pdu::ReleaseRp)?;
                if self.end != End::Release {
                    seen.wrong = Some("A-RELEASE-RQ".into());
                }
            }
            _ if self.end == End::Release => {
                seen.wrong = Some(format!("{} instead of A-RELEASE-RQ", describe(&o)));
            }
            _ => {}
        }
        if requests == 0 && self.end == End::Release {
            seen.wrong.get_or_insert("the SCU sent no request".into());
        }
        Ok(())
    }

    /// After our A-RELEASE-RQ: the SCU answers A-RELEASE-RP, or sends its own A-RELEASE-RQ
    /// (a collision: PS3.8 has the requestor answer first, which it then does).
    fn expect_release_answer(&self, peer: &mut RawPeer, seen: &mut Seen) -> Result<(), String> {
        let mut collided = false;
        loop {
            let o = observe(peer, WAIT)?;
            seen.log.push(describe(&o));
            match o {
                Observed::Pdu(Pdu::ReleaseRp) => {
                    if collided {
                        // We are the acceptor of a collision (Sta10): after the requestor's
                        // RP we answer its RQ (AR-10, AR-4), and the requestor closes.
                        send(peer, &Pdu::ReleaseRp)?;
                        seen.log.push("A-RELEASE-RP to its A-RELEASE-RQ".into());
                    }
                    // Otherwise, as the release initiator we close (PS3.8 AR-3).
                    return Ok(());
                }
                Observed::Pdu(Pdu::ReleaseRq) => {
                    // The SCU's request crossed ours: whichever side it came from, the
                    // requestor answers first, then we answer it.
                    collided = true;
                    continue;
                }
                Observed::Pdu(Pdu::PData(_)) => {
                    // PS3.8 AR-7: the SCU may still send P-DATA before answering.
                    continue;
                }
                other => {
                    seen.wrong = Some(format!("{} instead of A-RELEASE-RP", describe(&other)));
                    return Ok(());
                }
            }
        }
    }
}

fn final_counts(answer: Answer) -> SubOperations {
    let (completed, failed, warning) = match answer {
        Answer::Success => (0, 0, 0),
        Answer::Pending => (2, 0, 0),
        Answer::Warning => (1, 0, 1),
        Answer::Failure => (0, 0, 0),
    };
    SubOperations {
        remaining: None,
        completed: Some(completed),
        failed: Some(failed),
        warning: Some(warning),
    }
}

/// Bound on each wait for an SCU that should act at once.
const WAIT: Duration = Duration::from_secs(10);

fn observe(peer: &mut RawPeer, wait: Duration) -> Result<Observed, String> {
    peer.expect_pdu(wait.max(Duration::from_millis(1)))
        .map_err(|e| format!("the scripted SCP's read failed: {e}"))
}

fn send(peer: &mut RawPeer, pdu: &Pdu) -> Result<(), String> {
    peer.send_pdu(pdu)
        .map_err(|e| format!("the scripted SCP sending {} failed: {e}", pdu.name()))
}

fn describe(o: &Observed) -> String {
    o.to_string()
}

/// A request as it arrived.
struct Request {
    context: u8,
    message: Message,
    data: Option<Bytes>,
    /// Set when a P-DATA-TF was longer than the maximum we stated.
    oversized: Option<String>,
}

impl Request {
    fn name(&self) -> String {
        message_name(&self.message)
    }
}

fn message_name(message: &Message) -> String {
    message.name().to_string()
}

enum Incoming {
    Message(Request),
    /// Whatever came instead of a P-DATA-TF (release, abort, close, nothing).
    Other(Observed),
}

/// Reads the next request: its command and, when it announces one, its data set.
fn read_message(peer: &mut RawPeer, max_pdu: usize) -> Result<Incoming, String> {
    let mut command = BytesMut::new();
    let mut data = BytesMut::new();
    let mut decoded: Option<(u8, CommandSet)> = None;
    let mut oversized = None;
    loop {
        let pdata = match observe(peer, WAIT)? {
            Observed::Pdu(Pdu::PData(d)) => d,
            other if command.is_empty() && decoded.is_none() => return Ok(Incoming::Other(other)),
            other => return Err(format!("{other} in the middle of a request")),
        };
        // PS3.8 D.1: the stated maximum bounds the P-DATA-TF's variable field.
        let length = pdata.pdvs.iter().map(|p| 6 + p.data.len()).sum::<usize>();
        if length > max_pdu {
            oversized.get_or_insert(format!(
                "a P-DATA-TF of {length} bytes where the SCP takes at most {max_pdu}"
            ));
        }
        for pdv in pdata.pdvs {
            if pdv.is_command() {
                command.extend_from_slice(&pdv.data);
                if !pdv.is_last() {
                    continue;
                }
                let cmd = CommandSet::decode(&command)
                    .map_err(|e| format!("an undecodable command: {e}"))?;
                if cmd.get_u16(tags::COMMAND_DATA_SET_TYPE) != Some(DATA_SET_ABSENT) {
                    decoded = Some((pdv.context_id, cmd));
                    continue;
                }
                let message =
                    Message::from_command(cmd).map_err(|e| format!("an invalid command: {e}"))?;
                return Ok(Incoming::Message(Request {
                    context: pdv.context_id,
                    message,
                    data: None,
                    oversized,
                }));
            }
            data.extend_from_slice(&pdv.data);
            if pdv.is_last() {
                let (context, cmd) = decoded.take().ok_or("a data set before its command")?;
                let message =
                    Message::from_command(cmd).map_err(|e| format!("an invalid command: {e}"))?;
                return Ok(Incoming::Message(Request {
                    context,
                    message,
                    data: Some(data.freeze()),
                    oversized,
                }));
            }
        }
    }
}

/// Sends each response (command, then its data set) on `context` in PDVs of at most `max`
/// bytes of value, one P-DATA-TF each.
fn send_responses(
    peer: &mut RawPeer,
    context: u8,
    responses: &[(CommandSet, Option<Bytes>)],
    max_pdu: usize,
) -> Result<(), String> {
    // A PDV item's header (4-byte length, context, control) counts against the PDU length.
    let max = max_pdu.saturating_sub(6).max(1);
    for (command, data) in responses {
        let mut pdvs = command_pdvs(&command.to_bytes(), max);
        for pdv in &mut pdvs {
            pdv.context_id = context;
        }
        if let Some(data) = data {
            let n = data.len().div_ceil(max).max(1);
            for i in 0..n {
                let end = ((i + 1) * max).min(data.len());
                pdvs.push(Pdv {
                    context_id: context,
                    control: if i + 1 == n { Pdv::LAST } else { 0 },
                    data: data.slice(i * max..end),
                });
            }
        }
        for pdv in pdvs {
            send(peer, &Pdu::PData(PData { pdvs: vec![pdv] }))?;
        }
    }
    Ok(())
}

/// One run of the SCU under test against a scripted SCP.
pub(crate) struct ScuRun<T> {
    /// How it ended; `None` when it outlived its limit and was killed.
    pub status: Option<ExitStatus>,
    /// Its standard output and error.
    pub output: String,
    /// What `serve` made of its connection, or why there was none.
    pub served: Result<T, String>,
}

/// Runs the command once with its placeholders filled in for a loopback port, handing the
/// connection it makes there to `serve` (traced to `scu.trace`); `Err` when it cannot even
/// start.
pub(crate) fn run_scu_against<T: Send + 'static>(
    scu: &ScuUnderTest,
    serve: impl FnOnce(&mut RawPeer, &ScuUnderTest) -> Result<T, String> + Send + 'static,
) -> Result<ScuRun<T>, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("no loopback port for the scripted SCP: {e}"))?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let mut child = Command::new(&scu.program)
        .args(scu.args_for(port))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", scu.program))?;
    let output = collect_output(&mut child);
    let exited = Arc::new(AtomicBool::new(false));
    let script = {
        let (scu, exited) = (scu.clone(), exited.clone());
        thread::spawn(move || {
            let stream = accept_one(&listener, scu.limit, &exited)?;
            drop(listener);
            let mut peer = RawPeer::from_stream(stream).traced(&scu.trace);
            let served = serve(&mut peer, &scu);
            peer.shutdown();
            served
        })
    };
    let status = wait_bounded(&mut child, scu.limit);
    exited.store(true, Ordering::SeqCst);
    Ok(ScuRun {
        status,
        output: output.join().unwrap_or_default(),
        served: script
            .join()
            .unwrap_or_else(|_| Err("the scripted SCP panicked".into())),
    })
}

/// `exit 0`, `ended by signal ...`, or killed at the limit.
pub(crate) fn describe_exit(status: Option<ExitStatus>) -> String {
    match status {
        Some(s) => s
            .code()
            .map_or(format!("ended by {s}"), |c| format!("exit {c}")),
        None => "still running at the limit: killed".into(),
    }
}

/// ` (its last line: ...)` from the SCU's output, to say why it failed; empty without one.
pub(crate) fn last_words(output: &str) -> String {
    output
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(" (its last line: {})", l.trim()))
        .unwrap_or_default()
}

/// The SCU's connection, waiting at most `limit`, or until the SCU has `exited`.
fn accept_one(
    listener: &TcpListener,
    limit: Duration,
    exited: &AtomicBool,
) -> Result<TcpStream, String> {
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("listener: {e}"))?;
    let deadline = Instant::now() + limit;
    loop {
        // Read before the accept, so a connection made just before the exit is still taken.
        let exited = exited.load(Ordering::SeqCst);
        match listener.accept() {
            Ok((stream, _)) => {
                stream
                    .set_nonblocking(false)
                    .map_err(|e| format!("accepted connection: {e}"))?;
                return Ok(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if exited {
                    return Err("the SCU exited without connecting".into());
                }
                if Instant::now() >= deadline {
                    return Err("the SCU never connected".into());
                }
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    }
}

/// Waits for `child` at most `limit`; kills it past that (then `None`).
fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// The child's standard output and error together, read on threads so a chatty SCU never
/// blocks on a full pipe.
fn collect_output(child: &mut std::process::Child) -> thread::JoinHandle<String> {
    let out = child.stdout.take();
    let err = child.stderr.take();
    thread::spawn(move || {
        let read = |r: Option<Box<dyn Read + Send>>| {
            thread::spawn(move || {
                let mut text = String::new();
                if let Some(mut r) = r {
                    let mut bytes = Vec::new();
                    let _ = r.read_to_end(&mut bytes);
                    text = String::from_utf8_lossy(&bytes).into_owned();
                }
                text
            })
        };
        let out = read(out.map(|o| Box::new(o) as Box<dyn Read + Send>));
        let err = read(err.map(|e| Box::new(e) as Box<dyn Read + Send>));
        let mut all = out.join().unwrap_or_default();
        all.push_str(&err.join().unwrap_or_default());
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in() {
        let scu =
            ScuUnderTest::new(["x", "-aec", "{aet}", "{host}:{port}", "-t={timeout}"]).unwrap();
        assert_eq!(scu.args_for(104), ["-aec", SCP_AE, "127.0.0.1:104", "-t=2"]);
        assert!(ScuUnderTest::new(Vec::<String>::new()).is_none());
    }

    #[test]
    fn scenario_names_are_unique_and_prefixed() {
        let mut names: Vec<_> = SCU_COMMAND_SCENARIOS.iter().map(|s| s.name).collect();
        assert!(names.iter().all(|n| n.starts_with("scu-")));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SCU_COMMAND_SCENARIOS.len());
    }
}
