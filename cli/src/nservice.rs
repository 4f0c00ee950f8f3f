//! `dimse nget | nset | naction | ncreate | ndelete | nevents`: the DIMSE-N services from the
//! command line (PS3.7 §10), e.g. Modality Performed Procedure Step (N-CREATE then N-SET).
//!
//! The data set sent is built from `-k KEY=VALUE` keys and/or a DICOM JSON file (PS3.18
//! F.2); the response prints as one line with its status, then the data set it carried as
//! DICOM JSON. `nevents` listens for N-EVENT-REPORTs and prints each as a JSON record.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use dimse_core::assoc::{AcceptorPolicy, ProposedContext, SupportedSyntax};
use dimse_core::dataset::{to_json, DataSet, Tag};
use dimse_core::dimse::{command_field, NEventReportRq, Status};
use dimse_core::{uid, Entity};
use dimse_driver::{Handler, Peer, Runtime};
use serde_json::json;

use crate::{check_ae, on_runtime, ScuArgs};

/// Which N-service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Get,
    Set,
    Action,
    Create,
    Delete,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// The SOP class (Requested/Affected SOP Class UID), e.g. 1.2.840.10008.3.1.2.3.3 for
    /// Modality Performed Procedure Step.
    #[arg(long = "class", value_name = "UID")]
    sop_class: String,
    /// The SOP instance; for ncreate optional (the peer then assigns one and the response
    /// names it).
    #[arg(long = "instance", value_name = "UID")]
    sop_instance: Option<String>,
    /// A data set element: `Keyword=value` or `gggg,eeee=value` (repeatable); added to what
    /// --data gives. For nget: the attributes to get (values ignored; none = all).
    #[arg(short = 'k', long = "key", value_name = "KEY=VALUE")]
    keys: Vec<String>,
    /// A DICOM JSON file (PS3.18 F.2: one object, or an array holding one) with the data set
    /// to send: modifications (nset), action information (naction), attributes (ncreate).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Action Type ID (naction).
    #[arg(long, value_name = "N")]
    action_type: Option<u16>,
    /// Print only the JSON record of the response.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct EventsArgs {
    /// Our AE title; associations must call it.
    #[arg(long, default_value = "DIMSE")]
    aet: String,
    /// TCP port to listen on.
    #[arg(long)]
    port: u16,
    /// SOP classes whose N-EVENT-REPORTs to accept (repeatable) [default: Storage
    /// Commitment Push Model, Modality Performed Procedure Step].
    #[arg(long = "class", value_name = "UID")]
    classes: Vec<String>,
    /// Stop after this many reports [default: run until killed].
    #[arg(long, value_name = "N")]
    count: Option<usize>,
    /// Stop after this many seconds without a report.
    #[arg(long, value_name = "SECS")]
    idle: Option<u64>,
}

pub fn run(service: Service, args: Args) -> Result<ExitCode, String> {
    on_runtime!(args.scu.runtime, run_on(service, &args))
}

/// The data set from `--data` and `-k`.
fn data_set(args: &Args) -> Result<Option<DataSet>, String> {
    let mut ds = match &args.data {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            crate::json_in::data_set_from_json(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => DataSet::new(),
    };
    let (keys, _) = crate::find::identifier(&args.keys)?;
    for element in keys.elements() {
        ds.insert(element.clone());
    }
    Ok((args.data.is_some() || !args.keys.is_empty()).then_some(ds))
}

async fn run_on<R: Runtime>(service: Service, args: &Args) -> Result<ExitCode, String> {
    let a = &args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let class = args.sop_class.as_str();
    let instance = args.sop_instance.as_deref();
    let needs_instance =
        || instance.ok_or_else(|| "--instance is required for this service".to_string());
    let data = data_set(args)?;
    let context = ProposedContext::new(class, &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE]);
    let mut assoc = a
        .scu::<R>()?
        .associate(&peer, vec![context])
        .await
        .map_err(|e| format!("cannot associate with {peer}: {e}"))?;
    let failed = |e| format!("request failed: {e}");
    // (command field, status, affected instance, error comment, reply data set)
    let (field, status, affected, comment, reply) = match service {
        Service::Get => {
            let attributes: Vec<Tag> = args
                .keys
                .iter()
                .map(|k| {
                    let name = k.split_once('=').map_or(k.as_str(), |(n, _)| n);
                    Tag::parse(name.trim()).map_err(|e| format!("-k {k}: {e}"))
                })
                .collect::<Result<_, _>>()?;
            let (rsp, ds) = assoc
                .n_get(class, needs_instance()?, &attributes)
                .await
                .map_err(failed)?;
            let instance = rsp.affected_sop_instance_uid.clone();
            (
                command_field::N_GET_RSP,
                rsp.status,
                instance,
                rsp.error_comment,
                ds,
            )
        }
        Service::Set => {
            let ds = data.ok_or("nset needs the modifications: -k or --data")?;
            let (rsp, reply) = assoc
                .n_set(class, needs_instance()?, &ds)
                .await
                .map_err(failed)?;
            let instance = rsp.affected_sop_instance_uid.clone();
            (
                command_field::N_SET_RSP,
                rsp.status,
                instance,
                rsp.error_comment,
                reply,
            )
        }
        Service::Action => {
            let action = args.action_type.ok_or("naction needs --action-type")?;
            let (rsp, reply) = assoc
                .n_action(class, needs_instance()?, action, data.as_ref())
                .await
                .map_err(failed)?;
            let instance = rsp.affected_sop_instance_uid.clone();
            (
                command_field::N_ACTION_RSP,
                rsp.status,
                instance,
                rsp.error_comment,
                reply,
            )
        }
        Service::Create => {
            let (rsp, reply) = assoc
                .n_create(class, instance, data.as_ref())
                .await
                .map_err(failed)?;
            let instance = rsp.affected_sop_instance_uid.clone();
            (
                command_field::N_CREATE_RSP,
                rsp.status,
                instance,
                rsp.error_comment,
                reply,
            )
        }
        Service::Delete => {
            let rsp = assoc
                .n_delete(class, needs_instance()?)
                .await
                .map_err(failed)?;
            let instance = rsp.affected_sop_instance_uid.clone();
            (
                command_field::N_DELETE_RSP,
                rsp.status,
                instance,
                rsp.error_comment,
                None,
            )
        }
    };
    let _ = assoc.release().await;
    let reply_json = match &reply {
        Some(ds) => Some(to_json(ds).map_err(|e| format!("cannot show the reply: {e}"))?),
        None => None,
    };
    let record = json!({
        "status": format!("0x{:04X}", status.0),
        "meaning": status.display_for(field).to_string(),
        "sop_instance_uid": affected.or(instance.map(str::to_string)),
        "error_comment": comment,
        "data_set": reply_json
            .as_deref()
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()),
    });
    if args.json {
        println!("{record}");
    } else {
        println!(
            "{}: status {}{}",
            name(service),
            status.display_for(field),
            record["sop_instance_uid"]
                .as_str()
                .map(|u| format!("; SOP Instance UID {u}"))
                .unwrap_or_default()
        );
        if let Some(j) = reply_json {
            println!("{j}");
        }
    }
    Ok(if status.is_failure() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn name(service: Service) -> &'static str {
    match service {
        Service::Get => "nget",
        Service::Set => "nset",
        Service::Action => "naction",
        Service::Create => "ncreate",
        Service::Delete => "ndelete",
    }
}

/// `dimse nevents`: accept N-EVENT-REPORTs and print each as a JSON record.
pub fn run_events(args: EventsArgs) -> Result<ExitCode, String> {
    check_ae("--aet", &args.aet)?;
    let classes = if args.classes.is_empty() {
        vec![
            uid::STORAGE_COMMITMENT_PUSH_MODEL.to_string(),
            uid::MODALITY_PERFORMED_PROCEDURE_STEP.to_string(),
        ]
    } else {
        args.classes.clone()
    };
    let mut policy = AcceptorPolicy::new(&args.aet);
    for class in &classes {
        policy.supported.push(SupportedSyntax::uid(
            class,
            &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
        ));
    }
    let (tx, rx) = mpsc::channel();
    let mut scp = dimse_std::Scp::new(policy, Events(Mutex::new(tx)));
    scp.wire_log = crate::wire_log();
    let server = scp
        .bind(("0.0.0.0", args.port))
        .and_then(|s| s.spawn())
        .map_err(|e| format!("cannot listen on port {}: {e}", args.port))?;
    eprintln!(
        "nevents: listening on port {} as {}",
        server.local_addr().port(),
        args.aet
    );
    let mut seen = 0;
    loop {
        if args.count.is_some_and(|n| seen >= n) {
            break;
        }
        let record = match args.idle {
            Some(secs) => match rx.recv_timeout(Duration::from_secs(secs)) {
                Ok(r) => r,
                Err(_) => break,
            },
            None => match rx.recv() {
                Ok(r) => r,
                Err(_) => break,
            },
        };
        println!("{record}");
        seen += 1;
    }
    // The last report's response is still being sent, and the SCU will release: give the
    // associations in progress time to end rather than exiting under them.
    server.shutdown(Duration::from_secs(5));
    eprintln!("nevents: {seen} reports");
    Ok(ExitCode::SUCCESS)
}

struct Events(Mutex<mpsc::Sender<serde_json::Value>>);

impl Handler for Events {
    fn event_report(
        &self,
        peer: &Peer,
        request: &NEventReportRq,
        info: Option<&DataSet>,
    ) -> Status {
        let info = info
            .and_then(|ds| to_json(ds).ok())
            .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok());
        let record = json!({
            "calling_ae": peer.calling_ae,
            "sop_class_uid": request.affected_sop_class_uid,
            "sop_instance_uid": request.affected_sop_instance_uid,
            "event_type_id": request.event_type_id,
            "event_information": info,
        });
        let sender = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = sender.send(record);
        Status::SUCCESS
    }
}
