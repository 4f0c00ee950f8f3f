//! `dimse move` and `dimse get`: C-MOVE to a known AE, or C-GET into a directory.

use std::path::PathBuf;
use std::process::ExitCode;

use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::Tag;
use dimse_core::dimse::Status;
use dimse_core::dimse::{command_field, SubOperations};
use dimse_core::query::{QueryLevel, QueryModel};
use dimse_core::{uid, Entity};
use dimse_driver::{
    DirectoryStore, Handler, Peer, RetrieveOutcome, Runtime, Scu, StoreRequest, StoreSink,
};

use serde_json::json;

use crate::find::identifier;
use crate::progress::Progress;
use crate::{check_ae, on_runtime, ScuArgs};

/// Options shared by move and get.
#[derive(clap::Args)]
pub struct RetrieveArgs {
    #[command(flatten)]
    scu: ScuArgs,
    /// Information model: patient or study.
    #[arg(long, default_value = "study")]
    model: QueryModel,
    /// Query/retrieve level: PATIENT, STUDY, SERIES or IMAGE.
    #[arg(long, default_value = "STUDY")]
    level: QueryLevel,
    /// A key: `Keyword=value` or `gggg,eeee=value` (unique keys of the level and above).
    #[arg(short = 'k', long = "key", value_name = "KEY=VALUE")]
    keys: Vec<String>,
    /// JSON records on standard output: one per response from the peer (sub-operation
    /// counts) and, for get, one per instance received; the last one is the summary.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
pub struct MoveArgs {
    #[command(flatten)]
    common: RetrieveArgs,
    /// The AE title the peer sends the instances to (it must know it).
    #[arg(long)]
    dest: String,
}

#[derive(clap::Args)]
pub struct GetArgs {
    #[command(flatten)]
    common: RetrieveArgs,
    /// Directory the retrieved instances are written to.
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

fn prepare(a: &RetrieveArgs) -> Result<(Entity, dimse_core::dataset::DataSet), String> {
    check_ae("--aet", &a.scu.aet)?;
    check_ae("--aec", &a.scu.aec)?;
    if a.model == QueryModel::Worklist || !a.model.has_level(a.level) {
        return Err(format!(
            "level {} cannot be retrieved in the {:?} model",
            a.level, a.model
        ));
    }
    let (mut ds, _) = identifier(&a.keys)?;
    ds.set_str(Tag(0x0008, 0x0052), a.level.as_str())
        .map_err(|e| e.to_string())?;
    Ok((Entity::new(&a.scu.aec, &a.scu.host, a.scu.port), ds))
}

/// A progress callback: a bar on a terminal, or a JSON record per response.
fn reporter<'a>(
    progress: &'a mut Option<Progress>,
    a: &'a RetrieveArgs,
) -> impl FnMut(&SubOperations) -> bool + Send + 'a {
    move |ops| {
        let done = ops.completed.unwrap_or(0) as usize
            + ops.failed.unwrap_or(0) as usize
            + ops.warning.unwrap_or(0) as usize;
        let total = done + ops.remaining.unwrap_or(0) as usize;
        if a.json {
            println!("{}", json!({"pending": counts(ops)}));
        }
        let bar = progress.get_or_insert_with(|| Progress::new(total, a.quiet || a.json));
        bar.set(done as u64, ops.failed.unwrap_or(0) as usize);
        true
    }
}

fn counts(ops: &SubOperations) -> serde_json::Value {
    json!({
        "completed": ops.completed, "failed": ops.failed, "warning": ops.warning,
        "remaining": ops.remaining,
    })
}

fn finish(
    what: &str,
    field: u16,
    outcome: RetrieveOutcome,
    json: bool,
) -> Result<ExitCode, String> {
    let ops = outcome.sub_operations;
    if json {
        println!(
            "{}",
            json!({"summary": {
                "status": format!("0x{:04X}", outcome.status.0),
                "meaning": outcome.status.display_for(field).to_string(),
                "sub_operations": counts(&ops),
                "failed_instances": outcome.failed_sop_instances,
            }})
        );
    } else {
        eprintln!(
            "{what}: {} completed, {} failed, {} warning; final status {}",
            ops.completed.unwrap_or(0),
            ops.failed.unwrap_or(0),
            ops.warning.unwrap_or(0),
            outcome.status.display_for(field)
        );
        for uid in &outcome.failed_sop_instances {
            eprintln!("{what}: failed instance {uid}");
        }
    }
    if outcome.status.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(format!(
            "{what} ended with {}",
            outcome.status.display_for(field)
        ))
    }
}

pub fn run_move(args: MoveArgs) -> Result<ExitCode, String> {
    on_runtime!(args.common.scu.runtime, move_on(&args))
}

async fn move_on<R: Runtime>(args: &MoveArgs) -> Result<ExitCode, String> {
    check_ae("--dest", &args.dest)?;
    let a = &args.common;
    let (peer, ds) = prepare(a)?;
    let sop = a.model.move_sop_class().expect("checked in prepare");
    let ctx = ProposedContext::new(sop, &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE]);
    let mut assoc = a
        .scu
        .scu::<R>()?
        .associate(&peer, vec![ctx])
        .await
        .map_err(|e| format!("cannot associate with {peer}: {e}"))?;
    let mut bar = None;
    let outcome = assoc
        .move_to(a.model, &ds, &args.dest, reporter(&mut bar, a))
        .await
        .map_err(|e| format!("C-MOVE failed: {e}"))?;
    if let Some(b) = &bar {
        b.finish();
    }
    let _ = assoc.release().await;
    finish("move", command_field::C_MOVE_RSP, outcome, a.json)
}

pub fn run_get(args: GetArgs) -> Result<ExitCode, String> {
    on_runtime!(args.common.scu.runtime, get_on(&args))
}

async fn get_on<R: Runtime>(args: &GetArgs) -> Result<ExitCode, String> {
    let a = &args.common;
    let (peer, ds) = prepare(a)?;
    let store = DirectoryStore::new(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let store = Received {
        store,
        json: a.json,
    };
    // Compressed instances are stored as they come: propose the usual compressed syntaxes too,
    // each in a context of its own (see Scu::get_contexts).
    let compressed = [
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.5",
    ];
    let contexts = Scu::<R>::get_contexts(a.model, None, &compressed);
    let mut assoc = a
        .scu
        .scu::<R>()?
        .associate(&peer, contexts)
        .await
        .map_err(|e| format!("cannot associate with {peer}: {e}"))?;
    let mut bar = None;
    let outcome = assoc
        .get(a.model, &ds, &store, reporter(&mut bar, a))
        .await
        .map_err(|e| format!("C-GET failed: {e}"))?;
    if let Some(b) = &bar {
        b.finish();
    }
    let _ = assoc.release().await;
    finish("get", command_field::C_GET_RSP, outcome, a.json)
}

/// The C-GET destination: files in a directory, and with `--json` a record per instance.
struct Received {
    store: DirectoryStore,
    json: bool,
}

impl Handler for Received {
    fn store(&self, peer: &Peer, request: &StoreRequest) -> Result<Box<dyn StoreSink>, Status> {
        let record = |status: Status| {
            json!({
                "sop_class_uid": request.request.affected_sop_class_uid,
                "sop_instance_uid": request.request.affected_sop_instance_uid,
                "transfer_syntax": request.transfer_syntax,
                "status": format!("0x{:04X}", status.0),
            })
        };
        match self.store.store(peer, request) {
            Ok(sink) if self.json => Ok(Box::new(Recorded {
                sink,
                record: record(Status::SUCCESS),
            })),
            Ok(sink) => Ok(sink),
            Err(status) => {
                if self.json {
                    println!("{}", record(status));
                }
                Err(status)
            }
        }
    }
}

/// A sink that prints its record, with the final status, when the instance is complete.
struct Recorded {
    sink: Box<dyn StoreSink>,
    record: serde_json::Value,
}

impl StoreSink for Recorded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.sink.write(data)
    }

    fn write_bytes(&mut self, data: bytes::Bytes) -> std::io::Result<()> {
        self.sink.write_bytes(data)
    }

    fn finish(self: Box<Self>) -> Status {
        let status = self.sink.finish();
        let mut record = self.record;
        record["status"] = json!(format!("0x{:04X}", status.0));
        println!("{record}");
        status
    }

    fn discard(self: Box<Self>) {
        self.sink.discard()
    }
}
