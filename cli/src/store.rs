//! `dimse store`: files from the field, each proposed in its own transfer syntax.
//!
//! Files are read leniently ([`StoreFile::open_with`]); one that cannot be delimited or names
//! no SOP Class or Instance is reported and the rest still goes. Each file is proposed in its
//! own syntax, plus Explicit and Implicit VR Little Endian for its SOP class when it can be
//! converted (uncompressed) or decompressed (under `--decompress`); it goes untouched when the
//! peer takes its own syntax. More (SOP class, syntax) pairs than one association's 128
//! contexts hold go over several associations. Every file gets one line saying what became of
//! it, and a summary closes the run; the exit status is 0 only when every file was sent.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dimse_core::Entity;
use dimse_driver::{
    store_contexts, Conversion, Decompress, Error, Runtime, StoreFile, StoreOutcome, Values,
    ASYNC_WINDOW,
};

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
    /// Which compressed files to decompress for a peer that accepts none of their own
    /// transfer syntax: never, lossless (only lossless compression), lossy (also lossy
    /// compression; the data set keeps Lossy Image Compression "01").
    #[arg(long, value_name = "POLICY", default_value = "lossless", value_parser = parse_policy)]
    decompress: Decompress,
    /// Refuse files with values that break their VR's character rules, instead of sending
    /// them unchanged with a warning.
    #[arg(long)]
    strict: bool,
}

fn parse_policy(s: &str) -> Result<Decompress, String> {
    s.parse()
}

/// What became of the files, for the summary.
#[derive(Default)]
struct Tally {
    sent: usize,
    decompressed: usize,
    converted: usize,
    refused: usize,
    unreadable: usize,
    not_sent: usize,
}

impl Tally {
    fn failed(&self) -> usize {
        self.refused + self.unreadable + self.not_sent
    }
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    on_runtime!(args.scu.runtime, run_on(&args))
}

async fn run_on<R: Runtime>(args: &Args) -> Result<ExitCode, String> {
    let a = &args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let mut scu = a.scu::<R>()?;
    scu.decompress = args.decompress;
    let values = if args.strict {
        Values::Strict
    } else {
        Values::Lenient
    };

    let mut paths = Vec::new();
    for p in &args.paths {
        collect(p, &mut paths).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let mut progress = Progress::new(paths.len());
    let mut tally = Tally::default();
    let mut files = Vec::new();
    for path in paths {
        match StoreFile::open_with(&path, values) {
            Ok(f) => {
                for note in &f.notes {
                    progress.outln(&format!("warning: {}: {note}", f.path.display()));
                }
                files.push(f);
            }
            Err(e) => {
                tally.unreadable += 1;
                progress.outln(&format!("unreadable {e}"));
                progress.step(false);
            }
        }
    }

    let mut start = 0;
    while start < files.len() {
        let (n, contexts) = store_contexts(&files[start..], args.decompress);
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
                        tally.not_sent += 1;
                        progress.outln(&format!("not sent {}: {e}", f.path.display()));
                        progress.step(false);
                    }
                    break;
                }
            };
            let mut reported = vec![false; pending.len()];
            let result = assoc
                .store_files(pending, |i, outcome| {
                    reported[i] = true;
                    report(
                        &mut progress,
                        &mut tally,
                        args.decompress,
                        &pending[i],
                        outcome,
                    );
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
    println!(
        "store: {} sent, {} failed ({} decompressed, {} converted; {} refused by the peer, {} \
         unreadable, {} not sent)",
        tally.sent,
        tally.failed(),
        tally.decompressed,
        tally.converted,
        tally.refused,
        tally.unreadable,
        tally.not_sent
    );
    Ok(if tally.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Show one file's outcome and count it.
fn report(
    progress: &mut Progress,
    tally: &mut Tally,
    policy: Decompress,
    file: &StoreFile,
    outcome: Result<StoreOutcome, Error>,
) {
    let path = file.path.display();
    let stored = match outcome {
        Ok(outcome) => {
            let rsp = outcome.response;
            if rsp.status.is_failure() {
                let comment = rsp
                    .error_comment
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                progress.outln(&format!("refused {path}: {}{comment}", rsp.status));
                tally.refused += 1;
                false
            } else {
                let how = match outcome.conversion {
                    None => String::new(),
                    Some(Conversion::Decompressed { from, .. }) => {
                        tally.decompressed += 1;
                        format!(" (decompressed from {})", from.name)
                    }
                    Some(c) => {
                        tally.converted += 1;
                        format!(" (converted from {} to {})", c.from().name, c.to().name)
                    }
                };
                let warning = if rsp.status.is_warning() {
                    format!(", with warning {}", rsp.status)
                } else {
                    String::new()
                };
                progress.outln(&format!("sent {path}{how}{warning}"));
                tally.sent += 1;
                true
            }
        }
        Err(Error::File(e)) => {
            // The file error names the path itself.
            progress.outln(&format!("not sent {e}"));
            tally.not_sent += 1;
            false
        }
        Err(e) => {
            let ts = dimse_core::uid::transfer_syntax(&file.transfer_syntax_uid);
            let hint = match (&e, ts) {
                (Error::NoContext { .. }, Some(ts)) if !policy.allows(ts) => {
                    if Decompress::Lossless.allows(ts) {
                        "; --decompress lossless (the default) would send it decompressed"
                    } else if Decompress::Lossy.allows(ts) {
                        "; its compression is lossy: --decompress lossy would send it decompressed"
                    } else {
                        ""
                    }
                }
                _ => "",
            };
            progress.outln(&format!("not sent {path}: {e}{hint}"));
            tally.not_sent += 1;
            false
        }
    };
    progress.step(stored);
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
