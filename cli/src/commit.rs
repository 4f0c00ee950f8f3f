//! `dimse commit`: ask a peer to commit instances (Storage Commitment Push Model, PS3.4
//! Annex J) and say which it committed.
//!
//! The instances are named by files (their SOP Class and Instance UIDs, read leniently as
//! `dimse store` reads them). The report comes as an N-EVENT-REPORT, either on the same
//! association (waited for) or, with `--listen PORT`, on an association the peer opens to us
//! later, which a small SCP of our own accepts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use dimse_core::assoc::{AcceptorPolicy, ProposedContext, SupportedSyntax};
use dimse_core::commitment::{CommitmentReport, CommitmentRequest, SopRef};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{NEventReportRq, Status};
use dimse_core::{uid, Entity};
use dimse_driver::{Handler, Peer, Runtime, StoreFile};
use serde_json::json;

use crate::{check_ae, on_runtime, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Files and directories (searched recursively) naming the instances to commit.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Accept the report on a new association the peer opens to this port (the peer must
    /// know our AE title at this host and port), instead of on the request's association.
    /// With --tls and --tls-cert/--tls-key, that association is TLS with our certificate.
    #[arg(long, value_name = "PORT")]
    listen: Option<u16>,
    /// Seconds to wait for the report.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    wait: u64,
    /// One JSON record per instance, then a summary, on standard output.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    on_runtime!(args.scu.runtime, run_on(&args))
}

async fn run_on<R: Runtime>(args: &Args) -> Result<ExitCode, String> {
    let a = &args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let mut files = Vec::new();
    for p in &args.paths {
        crate::store::collect(p, true, None, &mut files)
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    // One reference per instance; the files that name it, for the report.
    let mut by_uid: HashMap<String, PathBuf> = HashMap::new();
    let mut references = Vec::new();
    for path in files {
        let f = StoreFile::open(&path).map_err(|e| e.to_string())?;
        // The first file naming an instance speaks for it in the report.
        if !by_uid.contains_key(&f.sop_instance_uid) {
            by_uid.insert(f.sop_instance_uid.clone(), path);
            references.push(SopRef::new(&f.sop_class_uid, &f.sop_instance_uid));
        }
    }
    let request = CommitmentRequest {
        transaction_uid: new_uid(),
        references,
    };

    // With --listen, be ready for the report before asking for it.
    let (tx, rx) = mpsc::channel();
    let listener = match args.listen {
        Some(port) => {
            let mut policy = AcceptorPolicy::new(&a.aet);
            let mut reports = SupportedSyntax::uid(
                uid::STORAGE_COMMITMENT_PUSH_MODEL,
                &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
            );
            // The reporting SCP proposes its SCP role (PS3.4 J.3.3), which makes us the
            // SCU of the SOP class on this association.
            reports.accept_scu_role = true;
            policy.supported.push(reports);
            let receiver = Receiver {
                transaction_uid: request.transaction_uid.clone(),
                reports: Mutex::new(tx),
            };
            let mut scp = dimse_std::Scp::new(policy, receiver);
            scp.tls = a.listener_tls()?;
            scp.wire_log = crate::wire_log();
            let server = scp
                .bind(("0.0.0.0", port))
                .and_then(|s| s.spawn())
                .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
            Some(server)
        }
        None => None,
    };

    let context = ProposedContext::new(
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    );
    let mut scu = a.scu::<R>()?;
    scu.config.dimse_timeout = Some(Duration::from_secs(args.wait));
    let mut assoc = scu
        .associate(&peer, vec![context])
        .await
        .map_err(|e| format!("cannot associate with {peer}: {e}"))?;
    let status = assoc
        .request_commitment(&request)
        .await
        .map_err(|e| format!("N-ACTION failed: {e}"))?;
    if !status.is_success() {
        let _ = assoc.release().await;
        return Err(format!("the peer refused the commitment request: {status}"));
    }
    let report = match listener {
        None => {
            let report = assoc
                .wait_commitment_report()
                .await
                .map_err(|e| format!("no commitment report on the association: {e}"))?;
            let _ = assoc.release().await;
            report
        }
        Some(server) => {
            let _ = assoc.release().await;
            let report = rx.recv_timeout(Duration::from_secs(args.wait));
            // The report reaches us before its N-EVENT-REPORT-RSP is written: let that
            // association answer and release rather than vanish under the peer.
            server.shutdown(Duration::from_secs(5));
            report.map_err(|_| {
                format!(
                    "no commitment report arrived on port {} within {} s",
                    args.listen.unwrap_or_default(),
                    args.wait
                )
            })?
        }
    };
    Ok(show(&request, &report, &by_uid, args.json))
}

/// Prints each instance's fate and the summary; success only when all were committed.
fn show(
    request: &CommitmentRequest,
    report: &CommitmentReport,
    files: &HashMap<String, PathBuf>,
    json: bool,
) -> ExitCode {
    let committed: HashMap<&str, ()> = report
        .committed
        .iter()
        .map(|r| (r.instance_uid.as_str(), ()))
        .collect();
    let failed: HashMap<&str, u16> = report
        .failed
        .iter()
        .map(|(r, reason)| (r.instance_uid.as_str(), *reason))
        .collect();
    let (mut ok, mut bad, mut unreported) = (0, 0, 0);
    for r in &request.references {
        let uid = r.instance_uid.as_str();
        let file = files
            .get(uid)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let (result, reason) = if committed.contains_key(uid) {
            ok += 1;
            ("committed", None)
        } else if let Some(reason) = failed.get(uid) {
            bad += 1;
            ("failed", Some(*reason))
        } else {
            unreported += 1;
            ("unreported", None)
        };
        if json {
            let reason = reason.map(|r| format!("0x{r:04X}"));
            println!(
                "{}",
                json!({"file": file, "sop_instance_uid": uid, "result": result, "failure_reason": reason})
            );
        } else {
            match reason {
                Some(r) => println!(
                    "{result} {file} ({uid}): failure reason 0x{r:04X} ({})",
                    why(r)
                ),
                None => println!("{result} {file} ({uid})"),
            }
        }
    }
    if json {
        println!(
            "{}",
            json!({"summary": {"transaction_uid": request.transaction_uid, "committed": ok,
                "failed": bad, "unreported": unreported}})
        );
    } else {
        println!("commit: {ok} committed, {bad} failed, {unreported} unreported");
    }
    if bad + unreported == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// PS3.4 Annex J Failure Reason values.
fn why(reason: u16) -> &'static str {
    match reason {
        0x0110 => "processing failure",
        0x0112 => "no such object instance",
        0x0213 => "resource limitation",
        0x0122 => "referenced SOP class not supported",
        0x0119 => "class / instance conflict",
        0x0131 => "duplicate transaction UID",
        _ => "see PS3.4 Annex J",
    }
}

/// Takes the report of our transaction from the association the peer opens.
struct Receiver {
    transaction_uid: String,
    reports: Mutex<mpsc::Sender<CommitmentReport>>,
}

impl Handler for Receiver {
    fn event_report(
        &self,
        _peer: &Peer,
        request: &NEventReportRq,
        info: Option<&DataSet>,
    ) -> Status {
        match info.and_then(CommitmentReport::from_data_set) {
            Some(r) if r.transaction_uid == self.transaction_uid => {
                let sender = self.reports.lock().unwrap_or_else(|e| e.into_inner());
                let _ = sender.send(r);
                Status::SUCCESS
            }
            // Someone else's transaction, or no report at all: not ours to accept.
            Some(_) => Status::CLASS_INSTANCE_CONFLICT,
            None if request.event_type_id == 1 || request.event_type_id == 2 => {
                Status::PROCESSING_FAILURE
            }
            None => Status::NO_SUCH_EVENT_TYPE,
        }
    }
}

/// A new UID under the `2.25` root (PS3.5 B.2): a 128-bit random number, from the operating
/// system's generator, else from the clock and process.
fn new_uid() -> String {
    let mut bytes = [0u8; 16];
    let random = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_ok();
    let n = if random {
        u128::from_be_bytes(bytes)
    } else {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        nanos ^ (u128::from(std::process::id()) << 96)
    };
    format!("2.25.{n}")
}
