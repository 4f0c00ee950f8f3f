//! `dimse store`: many files over one association, each proposed in its own transfer syntax.
//!
//! A file in an uncompressed transfer syntax is also proposed, after its own, in Explicit and
//! Implicit VR Little Endian; when the peer accepts only one of those, the data set is
//! converted in memory ([`dataset::transcode`]) and sent in the accepted syntax. Compressed
//! files go only in their own syntax.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dimse_core::Entity;
use dimse_driver::{store_contexts, Error, Runtime, StoreFile, StoreOutcome, ASYNC_WINDOW};

use crate::progress::Progress;
use crate::{check_ae, on_runtime, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Files and directories (searched recursively) to send.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// C-STOREs to keep in flight (the asynchronous operations window proposed; the peer may
    /// grant fewer). 1 sends one at a time.
    #[arg(long, env = "DIMSE_WINDOW", default_value_t = ASYNC_WINDOW)]
    window: u16,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    on_runtime!(args.scu.runtime, run_on(&args))
}

async fn run_on<R: Runtime>(args: &Args) -> Result<ExitCode, String> {
    let a = &args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let scu = a.scu::<R>()?;

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
        let (n, contexts) = store_contexts(&files[start..]);
        let mut pending = &files[start..start + n];
        start += n;
        // An association that dies mid-batch costs the files in flight, not the rest.
        while !pending.is_empty() {
            let mut proposal = scu.proposal(&peer, contexts.clone());
            if args.window != 1 {
                proposal.async_window = Some((args.window, 1));
            }
            let mut assoc = match scu.associate_with(&peer, &proposal).await {
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
            let mut reported = vec![false; pending.len()];
            let result = assoc
                .store_files(pending, |i, outcome| {
                    reported[i] = true;
                    let file = &pending[i];
                    if report(&mut progress, file, outcome) {
                        sent += 1;
                    } else {
                        failed += 1;
                    }
                })
                .await;
            match result {
                Ok(()) => {
                    if let Err(e) = assoc.release().await {
                        progress.println(&format!("warning: release failed: {e}"));
                    }
                    break;
                }
                Err(e) => {
                    progress.println(&format!("error: association failed: {e}"));
                    assoc.abort().await;
                    // What was never sent goes again on a new association.
                    let first = reported.iter().position(|r| !r).unwrap_or(reported.len());
                    if reported[first..].iter().any(|r| *r) || first == reported.len() {
                        break;
                    }
                    pending = &pending[first..];
                }
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

/// Show one file's outcome; whether it was stored.
fn report(progress: &mut Progress, file: &StoreFile, outcome: Result<StoreOutcome, Error>) -> bool {
    let stored = match outcome {
        Ok(outcome) => {
            if let Some((from, to)) = outcome.converted {
                progress.println(&format!(
                    "converted {} from {} to {}",
                    file.path.display(),
                    from.name,
                    to.name
                ));
            }
            let rsp = outcome.response;
            if rsp.status.is_failure() {
                let comment = rsp
                    .error_comment
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                progress.println(&format!(
                    "error: {}: peer refused the instance: {}{comment}",
                    file.path.display(),
                    rsp.status
                ));
                false
            } else {
                if rsp.status.is_warning() {
                    progress.println(&format!("warning: {}: {}", file.path.display(), rsp.status));
                }
                true
            }
        }
        Err(e) => {
            progress.println(&format!("error: {}: {e}", file.path.display()));
            false
        }
    };
    progress.step(stored);
    stored
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
