//! SCU-facing conformance scenarios: a scripted raw-PDU SCP, and the SCU under test calling it.
//!
//! The SCU side is the shared driver's [`Scu`] on any [`Runtime`], so one list of scenarios
//! serves every adapter: each runtime's tests await [`run_scu_all`] with their own executor.
//! The raw SCP runs on a thread of its own with blocking sockets; every wait is bounded.

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{AcceptorPolicy, ProposedContext, SupportedSyntax};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::{
    tags, CEchoRsp, CFindRq, CFindRsp, CStoreRq, CStoreRsp, CommandSet, DimseMessage, Message,
    Status, DATA_SET_ABSENT,
};
use dimse_core::part10::FileMeta;
use dimse_core::pdu::{Abort, AbortSource, AssociateRj, PData, Pdu, Pdv, RejectReason, Rejection};
use dimse_core::query::QueryModel;
use dimse_core::{uid, Entity};
use dimse_driver::{Error, Runtime, Scu, ScuAssociation, StoreFile};

use crate::exchange::{command_pdvs, Outcome};
use crate::peer::{Observed, RawPeer};

/// Every SCU-facing scenario, in the order [`run_scu_all`] runs them.
pub const SCU_SCENARIOS: &[&str] = &[
    "scu-rejected",
    "scu-no-associate-answer",
    "scu-abort-during-echo",
    "scu-dimse-timeout",
    "scu-response-in-8-byte-pdus",
    "scu-peer-max-pdu-128",
    "scu-unknown-pdu-type",
    "scu-release-collision",
    "scu-find-cancel",
    "scu-async-window",
];

const SCP_AE: &str = "RAW-SCP";
/// Bound on each wait of the raw SCP.
const WAIT: Duration = Duration::from_secs(10);

/// Run every SCU-facing scenario with runtime `R`'s SCU, in order.
pub async fn run_scu_all<R: Runtime>() -> Vec<Outcome> {
    vec![
        rejected::<R>().await,
        no_associate_answer::<R>().await,
        abort_during_echo::<R>().await,
        dimse_timeout::<R>().await,
        response_in_small_pdus::<R>().await,
        small_peer_max_pdu::<R>().await,
        unknown_pdu_type::<R>().await,
        release_collision::<R>().await,
        find_cancel::<R>().await,
        async_window::<R>().await,
    ]
}

/// A raw SCP on a free loopback port serving one connection with `script` on a thread.
struct RawScp {
    peer: Entity,
    script: thread::JoinHandle<Result<String, String>>,
}

impl RawScp {
    fn start(script: impl FnOnce(&mut RawPeer) -> Result<String, String> + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("bound").port();
        let script = thread::spawn(move || {
            let (stream, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
            let mut peer = RawPeer::from_stream(stream);
            let result = script(&mut peer);
            peer.shutdown();
            result
        });
        RawScp {
            peer: Entity::new(SCP_AE, "127.0.0.1", port),
            script,
        }
    }

    /// Associate `scu` with the raw SCP.
    async fn associate<R: Runtime>(
        &self,
        scu: &Scu<R>,
        contexts: Vec<ProposedContext>,
    ) -> Result<ScuAssociation<R>, String> {
        scu.associate(&self.peer, contexts)
            .await
            .map_err(|e| format!("associate: {e}"))
    }

    /// What the raw SCP saw (its script's verdict).
    fn seen(self) -> Result<String, String> {
        self.script
            .join()
            .unwrap_or_else(|_| Err("the raw SCP script panicked".into()))
    }
}

fn scu<R: Runtime>() -> Scu<R> {
    let mut scu = Scu::new("CONFORM-SCU");
    scu.config.dimse_timeout = Some(Duration::from_secs(5));
    scu.config.acse_timeout = Some(Duration::from_secs(5));
    scu
}

fn verification() -> Vec<ProposedContext> {
    vec![ProposedContext::new(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    )]
}

fn observe(peer: &mut RawPeer) -> Result<Observed, String> {
    peer.expect_pdu(WAIT)
        .map_err(|e| format!("raw SCP receive failed: {e}"))
}

fn send(peer: &mut RawPeer, pdu: &Pdu) -> Result<(), String> {
    peer.send_pdu(pdu)
        .map_err(|e| format!("raw SCP sending {} failed: {e}", pdu.name()))
}

/// Read the A-ASSOCIATE-RQ and accept what `policy` accepts.
fn accept(peer: &mut RawPeer, policy: &AcceptorPolicy) -> Result<(), String> {
    match observe(peer)? {
        Observed::Pdu(Pdu::AssociateRq(rq)) => {
            let ac = policy
                .evaluate(&rq)
                .map_err(|r| format!("raw SCP policy rejects the request: {r}"))?;
            send(peer, &Pdu::AssociateAc(ac))
        }
        other => Err(format!("{other} instead of A-ASSOCIATE-RQ")),
    }
}

fn policy_for(abstract_syntax: &str) -> AcceptorPolicy {
    let mut policy = AcceptorPolicy::new(SCP_AE);
    policy.supported.push(SupportedSyntax::uid(
        abstract_syntax,
        &[uid::IMPLICIT_VR_LE, uid::EXPLICIT_VR_LE],
    ));
    policy
}

/// Read PDUs until a complete command (and its data set, if it announces one) has arrived.
/// Returns the context, the command, the data set bytes and the largest P-DATA-TF variable
/// field seen.
fn read_message(peer: &mut RawPeer) -> Result<(u8, CommandSet, Option<Bytes>, usize), String> {
    let mut command = BytesMut::new();
    let mut data = BytesMut::new();
    let mut decoded: Option<CommandSet> = None;
    let mut largest = 0;
    loop {
        let pdata = match observe(peer)? {
            Observed::Pdu(Pdu::PData(d)) => d,
            other => return Err(format!("{other} instead of P-DATA-TF")),
        };
        // The maximum length a peer announces bounds the PDU's variable field: each PDV item
        // is its 4-byte length, context ID, control header and data (PS3.8 9.3.5, D.1).
        largest = largest.max(pdata.pdvs.iter().map(|p| 6 + p.data.len()).sum::<usize>());
        for pdv in pdata.pdvs {
            if pdv.is_command() {
                command.extend_from_slice(&pdv.data);
                if pdv.is_last() {
                    let cmd = CommandSet::decode(&command)
                        .map_err(|e| format!("undecodable command: {e}"))?;
                    let has_data =
                        cmd.get_u16(tags::COMMAND_DATA_SET_TYPE) != Some(DATA_SET_ABSENT);
                    if !has_data {
                        return Ok((pdv.context_id, cmd, None, largest));
                    }
                    decoded = Some(cmd);
                }
            } else {
                data.extend_from_slice(&pdv.data);
                if pdv.is_last() {
                    let cmd = decoded.take().ok_or("a data set before its command")?;
                    return Ok((pdv.context_id, cmd, Some(data.freeze()), largest));
                }
            }
        }
    }
}

/// Send `command` (and `data`) on `context` in P-DATA-TFs of PDVs at most `max` bytes long.
fn send_message(
    peer: &mut RawPeer,
    context: u8,
    command: &CommandSet,
    data: Option<&[u8]>,
    max: usize,
) -> Result<(), String> {
    let bytes = command.to_bytes();
    let mut pdvs = command_pdvs(&bytes, max);
    for pdv in &mut pdvs {
        pdv.context_id = context;
    }
    if let Some(data) = data {
        let data = Bytes::copy_from_slice(data);
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
    Ok(())
}

/// Combine what the SCU returned with what the raw SCP saw into an outcome.
fn verdict(
    name: &str,
    expected: &str,
    scu: Result<String, String>,
    scp: Result<String, String>,
) -> Outcome {
    let passed = scu.is_ok() && scp.is_ok();
    let part = |r: Result<String, String>| match r {
        Ok(s) => s,
        Err(s) => format!("UNEXPECTED {s}"),
    };
    Outcome::new(
        name,
        expected,
        format!("SCU: {}; SCP saw: {}", part(scu), part(scp)),
        passed,
    )
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// An A-ASSOCIATE-RJ reaches the caller as a rejection with its reason.
async fn rejected<R: Runtime>() -> Outcome {
    let expected = "associate fails with the rejection (permanent, called AE not recognized)";
    let scp = RawScp::start(|peer| match observe(peer)? {
        Observed::Pdu(Pdu::AssociateRq(_)) => {
            let rj = AssociateRj::new(Rejection::Permanent, RejectReason::CalledAeNotRecognized);
            send(peer, &Pdu::AssociateRj(rj))?;
            Ok("A-ASSOCIATE-RQ, answered with A-ASSOCIATE-RJ".into())
        }
        other => Err(format!("{other} instead of A-ASSOCIATE-RQ")),
    });
    let scu = match scu::<R>().associate(&scp.peer, verification()).await {
        Err(Error::Rejected(rj))
            if rj.is_permanent() && rj.reason() == RejectReason::CalledAeNotRecognized =>
        {
            Ok(format!("rejected: {}", rj.reason()))
        }
        Err(e) => Err(format!("failed otherwise: {e}")),
        Ok(_) => Err("associated".into()),
    };
    verdict("scu-rejected", expected, scu, scp.seen())
}

/// A peer that never answers the A-ASSOCIATE-RQ: the ACSE timeout ends the attempt.
async fn no_associate_answer<R: Runtime>() -> Outcome {
    let expected = "associate fails within the ACSE timeout (1 s) and the connection closes";
    let scp = RawScp::start(|peer| match observe(peer)? {
        Observed::Pdu(Pdu::AssociateRq(_)) => match observe(peer)? {
            o if o.is_closed() || matches!(o, Observed::Pdu(Pdu::Abort(_))) => {
                Ok(format!("A-ASSOCIATE-RQ, left unanswered, then {o}"))
            }
            other => Err(format!("{other} after the unanswered request")),
        },
        other => Err(format!("{other} instead of A-ASSOCIATE-RQ")),
    });
    let mut scu = scu::<R>();
    scu.config.acse_timeout = Some(Duration::from_secs(1));
    let start = Instant::now();
    let result = scu.associate(&scp.peer, verification()).await;
    let took = start.elapsed();
    let scu = match result {
        Err(e) if took < Duration::from_secs(5) => Ok(format!("failed after {took:?}: {e}")),
        Err(e) => Err(format!("failed only after {took:?}: {e}")),
        Ok(_) => Err("associated".into()),
    };
    verdict("scu-no-associate-answer", expected, scu, scp.seen())
}

/// An A-ABORT while the SCU waits for a response ends the operation as aborted.
async fn abort_during_echo<R: Runtime>() -> Outcome {
    let expected = "echo fails as aborted by the peer";
    let scp = RawScp::start(|peer| {
        accept(peer, &policy_for(uid::VERIFICATION))?;
        read_message(peer)?;
        send(peer, &Pdu::Abort(Abort::new(AbortSource::ServiceUser, 0)))?;
        Ok("C-ECHO-RQ, answered with A-ABORT".into())
    });
    let scu = async {
        let mut assoc = scp.associate(&scu::<R>(), verification()).await?;
        match assoc.echo().await {
            Err(Error::Aborted(cause)) => Ok(format!("aborted: {cause}")),
            Err(e) => Err(format!("failed otherwise: {e}")),
            Ok(s) => Err(format!("echo status {s:?}")),
        }
    }
    .await;
    verdict("scu-abort-during-echo", expected, scu, scp.seen())
}

/// No response within the DIMSE timeout: the SCU gives up and aborts the association.
async fn dimse_timeout<R: Runtime>() -> Outcome {
    let expected = "echo fails with a timeout after 0.5 s and the SCU sends A-ABORT";
    let scp = RawScp::start(|peer| {
        accept(peer, &policy_for(uid::VERIFICATION))?;
        read_message(peer)?;
        match observe(peer)? {
            Observed::Pdu(Pdu::Abort(a)) => Ok(format!(
                "C-ECHO-RQ left unanswered, then {}",
                Observed::Pdu(Pdu::Abort(a))
            )),
            other => Err(format!("{other} instead of A-ABORT")),
        }
    });
    let scu = async {
        let mut scu = scu::<R>();
        scu.config.dimse_timeout = Some(Duration::from_millis(500));
        let mut assoc = scp.associate(&scu, verification()).await?;
        let start = Instant::now();
        match assoc.echo().await {
            Err(Error::Timeout { .. }) => Ok(format!("timed out after {:?}", start.elapsed())),
            Err(e) => Err(format!("failed otherwise: {e}")),
            Ok(s) => Err(format!("echo status {s:?}")),
        }
    }
    .await;
    verdict("scu-dimse-timeout", expected, scu, scp.seen())
}

/// A response command split into 8-byte PDVs, one P-DATA-TF each, is reassembled.
async fn response_in_small_pdus<R: Runtime>() -> Outcome {
    let expected = "echo succeeds; release confirmed";
    let scp = RawScp::start(|peer| {
        accept(peer, &policy_for(uid::VERIFICATION))?;
        let (ctx, cmd, _, _) = read_message(peer)?;
        let rq = match Message::from_command(cmd) {
            Ok(Message::CEchoRq(rq)) => rq,
            other => return Err(format!("{other:?} instead of C-ECHO-RQ")),
        };
        let rsp = CEchoRsp::for_request(&rq, Status::SUCCESS).to_command();
        send_message(peer, ctx, &rsp, None, 8)?;
        expect_release(peer)?;
        Ok("C-ECHO-RQ, answered in 8-byte PDVs; A-RELEASE-RQ".into())
    });
    let scu = async {
        let mut assoc = scp.associate(&scu::<R>(), verification()).await?;
        let status = assoc.echo().await.map_err(|e| format!("echo: {e}"))?;
        assoc.release().await.map_err(|e| format!("release: {e}"))?;
        if status.is_success() {
            Ok("echo success, released".to_string())
        } else {
            Err(format!("echo status {status:?}"))
        }
    }
    .await;
    verdict("scu-response-in-8-byte-pdus", expected, scu, scp.seen())
}

fn expect_release(peer: &mut RawPeer) -> Result<(), String> {
    match observe(peer)? {
        Observed::Pdu(Pdu::ReleaseRq) => send(peer, &Pdu::ReleaseRp),
        other => Err(format!("{other} instead of A-RELEASE-RQ")),
    }
}

/// The peer receives PDUs of at most 128 bytes: a 4 KiB C-STORE arrives in PDUs no longer,
/// and intact.
async fn small_peer_max_pdu<R: Runtime>() -> Outcome {
    const CLASS: &str = "1.2.840.10008.5.1.4.1.1.7";
    let expected =
        "every P-DATA-TF variable field at most 128 bytes, data set intact, store succeeds";
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    let sent = data.clone();
    let scp = RawScp::start(move |peer| {
        let mut policy = policy_for(CLASS);
        policy.max_pdu = 128;
        accept(peer, &policy)?;
        let (ctx, cmd, got, largest) = read_message(peer)?;
        let rq = CStoreRq::from_command(&cmd).map_err(|e| format!("not a C-STORE-RQ: {e}"))?;
        if largest > 128 {
            return Err(format!("a P-DATA-TF with a {largest}-byte variable field"));
        }
        if got.as_deref() != Some(&sent[..]) {
            return Err("the data set arrived altered".into());
        }
        let rsp = CStoreRsp::for_request(&rq, Status::SUCCESS).to_command();
        send_message(peer, ctx, &rsp, None, 1024)?;
        expect_release(peer)?;
        Ok(format!(
            "C-STORE-RQ in P-DATA-TFs of at most {largest} bytes, data intact"
        ))
    });
    let scu = async {
        let contexts = vec![ProposedContext::new(CLASS, &[uid::IMPLICIT_VR_LE])];
        let mut assoc = scp.associate(&scu::<R>(), contexts).await?;
        let rsp = assoc
            .store(CLASS, "1.2.3.4.5", uid::IMPLICIT_VR_LE, &data[..])
            .await
            .map_err(|e| format!("store: {e}"))?;
        assoc.release().await.map_err(|e| format!("release: {e}"))?;
        if rsp.status.is_success() {
            Ok("store success".to_string())
        } else {
            Err(format!("store status {:?}", rsp.status))
        }
    }
    .await;
    verdict("scu-peer-max-pdu-128", expected, scu, scp.seen())
}

/// A PDU of an unknown type while the SCU waits: it aborts (PS3.8 AA-1, reason 1
/// unrecognized PDU) and the operation fails.
async fn unknown_pdu_type<R: Runtime>() -> Outcome {
    let expected = "echo fails; the SCU sends A-ABORT";
    let scp = RawScp::start(|peer| {
        accept(peer, &policy_for(uid::VERIFICATION))?;
        read_message(peer)?;
        peer.send_bytes(&[0x55, 0, 0, 0, 0, 4, 0, 0, 0, 0])
            .map_err(|e| format!("raw SCP send failed: {e}"))?;
        match observe(peer)? {
            Observed::Pdu(Pdu::Abort(a)) => Ok(format!(
                "C-ECHO-RQ, answered with PDU type 0x55; then {}",
                Observed::Pdu(Pdu::Abort(a))
            )),
            other => Err(format!("{other} instead of A-ABORT")),
        }
    });
    let scu = async {
        let mut assoc = scp.associate(&scu::<R>(), verification()).await?;
        match assoc.echo().await {
            Err(e) => Ok(format!("echo failed: {e}")),
            Ok(s) => Err(format!("echo status {s:?}")),
        }
    }
    .await;
    verdict("scu-unknown-pdu-type", expected, scu, scp.seen())
}

/// Both sides ask to release at once (PS3.8 release collision): the requestor answers first,
/// then the acceptor; the release completes.
async fn release_collision<R: Runtime>() -> Outcome {
    let expected = "release succeeds; the SCU answers the colliding A-RELEASE-RQ with A-RELEASE-RP";
    let scp = RawScp::start(|peer| {
        accept(peer, &policy_for(uid::VERIFICATION))?;
        match observe(peer)? {
            Observed::Pdu(Pdu::ReleaseRq) => {}
            other => return Err(format!("{other} instead of A-RELEASE-RQ")),
        }
        send(peer, &Pdu::ReleaseRq)?;
        match observe(peer)? {
            Observed::Pdu(Pdu::ReleaseRp) => {}
            other => return Err(format!("{other} instead of A-RELEASE-RP")),
        }
        send(peer, &Pdu::ReleaseRp)?;
        Ok("A-RELEASE-RQ both ways, then A-RELEASE-RP from the SCU first".into())
    });
    let scu = async {
        let assoc = scp.associate(&scu::<R>(), verification()).await?;
        assoc
            .release()
            .await
            .map(|()| "released".to_string())
            .map_err(|e| format!("release: {e}"))
    }
    .await;
    verdict("scu-release-collision", expected, scu, scp.seen())
}

/// C-CANCEL mid-find: after the first match the SCU cancels; the peer sees C-CANCEL-RQ for the
/// find's message ID and ends with Cancel (0xFE00), which the SCU reports.
async fn find_cancel<R: Runtime>() -> Outcome {
    let expected = "C-CANCEL-RQ for the find after its first match; final status 0xFE00";
    let scp = RawScp::start(|peer| {
        accept(peer, &policy_for(uid::STUDY_ROOT_QR_FIND))?;
        let (ctx, cmd, _, _) = read_message(peer)?;
        let rq = CFindRq::from_command(&cmd).map_err(|e| format!("not a C-FIND-RQ: {e}"))?;
        let mut identifier = DataSet::new();
        identifier
            .set_str(Tag(0x0020, 0x000D), "1.2.3")
            .map_err(|e| e.to_string())?;
        let mut encoded = BytesMut::new();
        let ts = uid::transfer_syntax(uid::IMPLICIT_VR_LE).expect("known");
        identifier.encode(ts, &mut encoded);
        let mut pending = CFindRsp::for_request(&rq, Status::PENDING);
        pending.has_data_set = true;
        send_message(peer, ctx, &pending.to_command(), Some(&encoded), 1024)?;
        let (_, cancel, _, _) = read_message(peer)?;
        match Message::from_command(cancel) {
            Ok(Message::CCancelRq(c)) if c.message_id_being_responded_to == rq.message_id => {}
            other => return Err(format!("{other:?} instead of C-CANCEL-RQ")),
        }
        let mut last = CFindRsp::for_request(&rq, Status::CANCEL);
        last.has_data_set = false;
        send_message(peer, ctx, &last.to_command(), None, 1024)?;
        expect_release(peer)?;
        Ok("C-FIND-RQ, one match, C-CANCEL-RQ for it; answered Cancel".into())
    });
    let scu = async {
        let contexts = vec![ProposedContext::new(
            uid::STUDY_ROOT_QR_FIND,
            &[uid::IMPLICIT_VR_LE],
        )];
        let mut assoc = scp.associate(&scu::<R>(), contexts).await?;
        let mut query = DataSet::new();
        query
            .set_str(Tag(0x0008, 0x0052), "STUDY")
            .map_err(|e| e.to_string())?;
        query
            .set_str(Tag(0x0020, 0x000D), "")
            .map_err(|e| e.to_string())?;
        let mut results = assoc
            .find(QueryModel::StudyRoot, &query)
            .await
            .map_err(|e| format!("find: {e}"))?;
        let first = results.next().await;
        if !matches!(first, Some(Ok(_))) {
            return Err(format!("first result {first:?}"));
        }
        results.cancel().await.map_err(|e| format!("cancel: {e}"))?;
        while let Some(r) = results.next().await {
            r.map_err(|e| format!("after cancel: {e}"))?;
        }
        let status = results.status();
        drop(results);
        assoc.release().await.map_err(|e| format!("release: {e}"))?;
        match status {
            Some(Status::CANCEL) => Ok("one match, then status 0xFE00".to_string()),
            other => Err(format!("final status {other:?}")),
        }
    }
    .await;
    verdict("scu-find-cancel", expected, scu, scp.seen())
}

/// Under an asynchronous operations window of 3 (the SCU proposed 8), `store_files` keeps 3
/// C-STORE-RQs in flight before any response, and matches responses that come in reverse
/// order.
async fn async_window<R: Runtime>() -> Outcome {
    const CLASS: &str = "1.2.840.10008.5.1.4.1.1.7";
    const FILES: usize = 5;
    let expected =
        "3 C-STORE-RQs received before any response; 5 stores succeed, answered in reverse order";
    // Runs may overlap (one per runtime in one test process): a directory each.
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("dimse-conform-window-{}-{run}", std::process::id()));
    let files = match write_files(&dir, CLASS, FILES) {
        Ok(f) => f,
        Err(e) => return verdict("scu-async-window", expected, Err(e), Ok(String::new())),
    };
    let scp = RawScp::start(|peer| {
        let mut policy = policy_for(CLASS);
        policy.async_window = (3, 1);
        accept(peer, &policy)?;
        let mut batches = Vec::new();
        for batch in [3, 2] {
            let mut requests = Vec::new();
            for _ in 0..batch {
                let (ctx, cmd, _, _) = read_message(peer)?;
                let rq =
                    CStoreRq::from_command(&cmd).map_err(|e| format!("not a C-STORE-RQ: {e}"))?;
                requests.push((ctx, rq));
            }
            for (ctx, rq) in requests.iter().rev() {
                let rsp = CStoreRsp::for_request(rq, Status::SUCCESS).to_command();
                send_message(peer, *ctx, &rsp, None, 1024)?;
            }
            batches.push(requests.len());
        }
        expect_release(peer)?;
        Ok(format!(
            "C-STORE-RQs in batches of {batches:?} before answering each batch"
        ))
    });
    let scu = async {
        let scu = scu::<R>();
        let contexts = vec![ProposedContext::new(CLASS, &[uid::EXPLICIT_VR_LE])];
        let mut proposal = scu.proposal(&scp.peer, contexts);
        proposal.async_window = Some((8, 1));
        let mut assoc = scu
            .associate_with(&scp.peer, &proposal)
            .await
            .map_err(|e| format!("associate: {e}"))?;
        let window = assoc.negotiated().async_window;
        let mut outcomes = vec![None; FILES];
        assoc
            .store_files(&files, |i, outcome| {
                outcomes[i] = Some(
                    outcome
                        .map(|o| o.response.status)
                        .map_err(|e| e.to_string()),
                )
            })
            .await
            .map_err(|e| format!("store_files: {e}"))?;
        assoc.release().await.map_err(|e| format!("release: {e}"))?;
        let ok = outcomes
            .iter()
            .all(|o| matches!(o, Some(Ok(s)) if s.is_success()));
        if window.0 == 3 && ok {
            Ok(format!(
                "window {}/{}, {FILES} stores succeeded",
                window.0, window.1
            ))
        } else {
            Err(format!("window {window:?}, outcomes {outcomes:?}"))
        }
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    verdict("scu-async-window", expected, scu, scp.seen())
}

/// `count` small Part 10 files of `class` in `dir`, opened for sending.
fn write_files(dir: &std::path::Path, class: &str, count: usize) -> Result<Vec<StoreFile>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ts = uid::transfer_syntax(uid::EXPLICIT_VR_LE).expect("known");
    (0..count)
        .map(|i| {
            let instance = format!("1.2.826.0.1.3680043.10.1235.{i}");
            let mut ds = DataSet::new();
            let set = |ds: &mut DataSet, tag, value: &str| {
                ds.set_str(tag, value).map_err(|e| e.to_string())
            };
            set(&mut ds, Tag(0x0008, 0x0016), class)?;
            set(&mut ds, Tag(0x0008, 0x0018), &instance)?;
            set(
                &mut ds,
                Tag(0x0020, 0x000D),
                "1.2.826.0.1.3680043.10.1235.100",
            )?;
            set(
                &mut ds,
                Tag(0x0020, 0x000E),
                "1.2.826.0.1.3680043.10.1235.101",
            )?;
            let mut out = BytesMut::new();
            FileMeta::new(class, &instance, uid::EXPLICIT_VR_LE).encode(&mut out);
            ds.encode(ts, &mut out);
            let path = dir.join(format!("{i}.dcm"));
            std::fs::write(&path, &out).map_err(|e| format!("{}: {e}", path.display()))?;
            StoreFile::open(&path).map_err(|e| e.to_string())
        })
        .collect()
}
