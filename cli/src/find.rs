//! `dimse find`: C-FIND with DCMTK-style `-k` keys; a table or DICOM JSON out.

use std::process::ExitCode;

use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::{array_to_json, DataSet, Tag};
use dimse_core::query::{QueryLevel, QueryModel};
use dimse_core::{uid, Entity};
use dimse_driver::{Error, Runtime};

use crate::{check_ae, on_runtime, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Information model: patient, study or worklist.
    #[arg(long, default_value = "study")]
    model: QueryModel,
    /// Query/retrieve level: PATIENT, STUDY, SERIES or IMAGE (not used for worklist).
    #[arg(long, default_value = "STUDY")]
    level: QueryLevel,
    /// A key: `Keyword=value`, `gggg,eeee=value`, or without a value a return key. Repeatable.
    #[arg(short = 'k', long = "key", value_name = "KEY[=VALUE]")]
    keys: Vec<String>,
    /// Print the matches as one JSON array in the DICOM JSON model (PS3.18 Annex F).
    #[arg(long)]
    json: bool,
}

/// Parse `-k` arguments into an identifier; also returns the tags in the order given.
pub fn identifier(keys: &[String]) -> Result<(DataSet, Vec<Tag>), String> {
    let mut ds = DataSet::new();
    let mut order = Vec::new();
    if keys.iter().any(|k| !k.is_ascii()) {
        ds.set_str(Tag(0x0008, 0x0005), "ISO_IR 192")
            .map_err(|e| e.to_string())?;
    }
    for key in keys {
        let (name, value) = match key.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (key.as_str(), None),
        };
        let tag = Tag::parse(name.trim()).map_err(|e| format!("-k {key}: {e}"))?;
        match value {
            Some(v) if !v.is_empty() => ds.set_str(tag, v).map_err(|e| format!("-k {key}: {e}"))?,
            _ => ds.set_empty(tag),
        }
        if !order.contains(&tag) {
            order.push(tag);
        }
    }
    Ok((ds, order))
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    on_runtime!(args.scu.runtime, run_on(&args))
}

async fn run_on<R: Runtime>(args: &Args) -> Result<ExitCode, String> {
    let a = &args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    if args.model != QueryModel::Worklist && !args.model.has_level(args.level) {
        return Err(format!(
            "level {} does not exist in the {:?} model",
            args.level, args.model
        ));
    }
    let (mut ds, order) = identifier(&args.keys)?;
    if args.model != QueryModel::Worklist {
        ds.set_str(Tag(0x0008, 0x0052), args.level.as_str())
            .map_err(|e| e.to_string())?;
    }
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let ctx = ProposedContext::new(
        args.model.find_sop_class(),
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    );
    let mut assoc = a
        .scu::<R>()?
        .associate(&peer, vec![ctx])
        .await
        .map_err(|e| format!("cannot associate with {peer}: {e}"))?;
    let mut matches = Vec::new();
    let status = {
        let mut results = assoc
            .find(args.model, &ds)
            .await
            .map_err(|e| e.to_string())?;
        while let Some(m) = results.next().await {
            match m {
                Ok(found) => {
                    if !args.json {
                        println!("{}", row(&found, &order));
                    }
                    matches.push(found);
                }
                Err(Error::Status(_)) => break,
                Err(e) => return Err(format!("C-FIND failed: {e}")),
            }
        }
        results.status()
    };
    let _ = assoc.release().await;
    if args.json {
        println!(
            "{}",
            array_to_json(&matches).map_err(|e| format!("cannot write JSON: {e}"))?
        );
    }
    let status = status.ok_or("C-FIND ended without a final status")?;
    let meaning = status.display_for(dimse_core::dimse::command_field::C_FIND_RSP);
    eprintln!("find: {} matches, final status {meaning}", matches.len());
    if status.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(format!("C-FIND answered {meaning}"))
    }
}

/// The requested keys of a match, tab-separated, in the order asked.
fn row(ds: &DataSet, order: &[Tag]) -> String {
    order
        .iter()
        .map(|t| match ds.get_sequence(*t) {
            // A table has no room for nested data sets: say how many (--json shows them).
            Some(Ok(items)) => format!("[{} item(s)]", items.len()),
            _ => match ds.get_str(*t) {
                Some(Ok(v)) => v,
                Some(Err(_)) => "<unreadable>".to_string(),
                None => String::new(),
            },
        })
        .collect::<Vec<_>>()
        .join("\t")
}
