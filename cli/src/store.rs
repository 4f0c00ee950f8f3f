//! `dimse store`: many files over one association, each proposed in its own transfer syntax.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dimse_core::assoc::ProposedContext;
use dimse_core::Entity;
use dimse_std::{Error, Scu, StoreFile};

use crate::progress::Progress;
use crate::{check_ae, ScuArgs};

/// PS3.8 allows 128 presentation contexts per association (odd IDs 1–255).
const MAX_CONTEXTS: usize = 128;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Files and directories (searched recursively) to send.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let a = &args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let scu = Scu::new(&a.aet);

    let mut paths = Vec::new();
    for p in &args.paths {
        collect(p, &mut paths).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let mut progress = Progress::new(paths.len());
    let mut failed = 0usize;
    let mut files = Vec::new();
    for path in paths {
        match StoreFile::open(&path) {
            Ok(f) => files.push(f),
            Err(e) => {
                failed += 1;
                progress.println(&format!("error: {e}"));
                progress.step(false);
            }
        }
    }

    let mut sent = 0usize;
    let mut start = 0;
    while start < files.len() {
        let (n, contexts) = next_batch(&files[start..]);
        let mut pending = &files[start..start + n];
        start += n;
        // An association that dies mid-batch costs the file in flight, not the rest.
        while !pending.is_empty() {
            let mut assoc = match scu.associate(&peer, contexts.clone()) {
                Ok(assoc) => assoc,
                Err(e) => {
                    for f in pending {
                        failed += 1;
                        progress.println(&format!("error: {}: {e}", f.path.display()));
                        progress.step(false);
                    }
                    break;
                }
            };
            let mut broken = false;
            while let Some((file, rest)) = pending.split_first() {
                pending = rest;
                match assoc.store_file(file) {
                    Ok(rsp) if !rsp.status.is_failure() => {
                        sent += 1;
                        if rsp.status.is_warning() {
                            progress.println(&format!(
                                "warning: {}: {}",
                                file.path.display(),
                                rsp.status
                            ));
                        }
                        progress.step(true);
                    }
                    Ok(rsp) => {
                        failed += 1;
                        let comment = rsp
                            .error_comment
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default();
                        progress.println(&format!(
                            "error: {}: peer refused the instance: {}{comment}",
                            file.path.display(),
                            rsp.status
                        ));
                        progress.step(false);
                    }
                    Err(e) => {
                        failed += 1;
                        progress.println(&format!("error: {}: {e}", file.path.display()));
                        progress.step(false);
                        if !matches!(e, Error::NoContext { .. } | Error::File(_)) {
                            broken = true;
                            break;
                        }
                    }
                }
            }
            if broken {
                assoc.abort();
            } else if let Err(e) = assoc.release() {
                progress.println(&format!("warning: release failed: {e}"));
            }
        }
    }
    progress.finish();
    println!("store: {sent} sent, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// How many of `files` fit in one association, and the contexts they need: one per distinct
/// (SOP class, transfer syntax), so each file goes in its own encoding.
fn next_batch(files: &[StoreFile]) -> (usize, Vec<ProposedContext>) {
    let mut pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut n = 0;
    for f in files {
        let pair = (f.sop_class_uid.as_str(), f.transfer_syntax_uid.as_str());
        if !pairs.contains(&pair) && pairs.len() == MAX_CONTEXTS {
            break;
        }
        pairs.insert(pair);
        n += 1;
    }
    let contexts = pairs
        .into_iter()
        .map(|(class, ts)| ProposedContext::new(class, &[ts]))
        .collect();
    (n, contexts)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            collect(&e, out)?;
        }
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_path_buf());
    }
    Ok(())
}
