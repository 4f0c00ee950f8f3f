//! `dimse move` and `dimse get`: C-MOVE to a known AE, or C-GET into a directory.

use std::path::PathBuf;
use std::process::ExitCode;

use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::Tag;
use dimse_core::dimse::{command_field, SubOperations};
use dimse_core::query::{QueryLevel, QueryModel};
use dimse_core::{uid, Entity};
use dimse_driver::{DirectoryStore, RetrieveOutcome, Runtime, Scu};

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

/// A progress callback that redraws one line on a terminal.
fn reporter(progress: &mut Option<Progress>) -> impl FnMut(&SubOperations) -> bool + Send + '_ {
    move |ops| {
        let done = ops.completed.unwrap_or(0) as usize
            + ops.failed.unwrap_or(0) as usize
            + ops.warning.unwrap_or(0) as usize;
        let total = done + ops.remaining.unwrap_or(0) as usize;
        let bar = progress.get_or_insert_with(|| Progress::new(total));
        bar.set(done, ops.failed.unwrap_or(0) as usize);
        true
    }
}

fn finish(what: &str, field: u16, outcome: RetrieveOutcome) -> Result<ExitCode, String> {
    let ops = outcome.sub_operations;
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
        .move_to(a.model, &ds, &args.dest, reporter(&mut bar))
        .await
        .map_err(|e| format!("C-MOVE failed: {e}"))?;
    if let Some(b) = &bar {
        b.finish();
    }
    let _ = assoc.release().await;
    finish("move", command_field::C_MOVE_RSP, outcome)
}

pub fn run_get(args: GetArgs) -> Result<ExitCode, String> {
    on_runtime!(args.common.scu.runtime, get_on(&args))
}

async fn get_on<R: Runtime>(args: &GetArgs) -> Result<ExitCode, String> {
    let a = &args.common;
    let (peer, ds) = prepare(a)?;
    let store = DirectoryStore::new(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
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
        .get(a.model, &ds, &store, reporter(&mut bar))
        .await
        .map_err(|e| format!("C-GET failed: {e}"))?;
    if let Some(b) = &bar {
        b.finish();
    }
    let _ = assoc.release().await;
    finish("get", command_field::C_GET_RSP, outcome)
}
