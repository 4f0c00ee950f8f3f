//! `dimse store`: many files over one association, each proposed in its own transfer syntax.
//!
//! A file in an uncompressed transfer syntax is also proposed, after its own, in Explicit and
//! Implicit VR Little Endian; when the peer accepts only one of those, the data set is
//! converted in memory ([`dataset::transcode`]) and sent in the accepted syntax. Compressed
//! files go only in their own syntax.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::{self, can_transcode};
use dimse_core::dimse::CStoreRsp;
use dimse_core::uid::{self, TransferSyntax};
use dimse_core::Entity;
use dimse_std::{Error, Scu, ScuAssociation, StoreFile, StoreFileError};

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
                match send(&mut assoc, file, &progress) {
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
                        if !matches!(
                            e,
                            SendError::Convert(_)
                                | SendError::Assoc(Error::NoContext { .. } | Error::File(_))
                        ) {
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

/// Syntaxes an uncompressed file may be converted to when the peer does not accept its own,
/// in order of preference (proposed in one context per SOP class, see [`next_batch`]).
const FALLBACKS: [&str; 2] = [
    uid::EXPLICIT_VR_LITTLE_ENDIAN,
    uid::IMPLICIT_VR_LITTLE_ENDIAN,
];

/// Whether `ts` is one of the uncompressed syntaxes [`dataset::transcode`] converts between.
fn convertible(ts: &TransferSyntax) -> bool {
    can_transcode(ts, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN)
}

/// Sends `file`: in its own transfer syntax when the peer accepted that, else converted to an
/// accepted uncompressed syntax (announced with a `converted` line), else it fails with
/// [`Error::NoContext`] as [`ScuAssociation::store_file`] does.
fn send(
    assoc: &mut ScuAssociation,
    file: &StoreFile,
    progress: &Progress,
) -> Result<CStoreRsp, SendError> {
    let own_accepted = assoc
        .negotiated()
        .find_context(&file.sop_class_uid, |ts| ts == file.transfer_syntax_uid)
        .is_some();
    let from = uid::transfer_syntax(&file.transfer_syntax_uid);
    let target = match from {
        Some(from) if !own_accepted && convertible(from) => {
            // Preferred order among what the peer accepted for this SOP class.
            let accepted = |want: &str| {
                assoc
                    .negotiated()
                    .find_context(&file.sop_class_uid, |ts| ts == want)
                    .is_some()
            };
            FALLBACKS
                .iter()
                .copied()
                .find(|ts| accepted(ts))
                .and_then(uid::transfer_syntax)
                .map(|to| (from, to))
        }
        _ => None,
    };
    let Some((from, to)) = target else {
        return Ok(assoc.store_file(file)?);
    };
    let mut data = Vec::new();
    file.data_reader()
        .map_err(Error::File)?
        .read_to_end(&mut data)
        .map_err(|e| Error::File(StoreFileError::Io(file.path.clone(), e)))?;
    let converted = dataset::transcode(data.into(), from, to).map_err(|e| {
        SendError::Convert(format!(
            "cannot convert from {} to {}: {e}",
            from.name, to.name
        ))
    })?;
    progress.println(&format!(
        "converted {} from {} to {}",
        file.path.display(),
        from.name,
        to.name
    ));
    Ok(assoc.store(
        &file.sop_class_uid,
        &file.sop_instance_uid,
        to.uid,
        &converted[..],
    )?)
}

/// Why [`send`] failed: the association's error, or a data set that would not convert (which
/// costs that file only).
enum SendError {
    Assoc(Error),
    Convert(String),
}

impl From<Error> for SendError {
    fn from(e: Error) -> Self {
        SendError::Assoc(e)
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Assoc(e) => e.fmt(f),
            SendError::Convert(e) => f.write_str(e),
        }
    }
}

/// How many of `files` fit in one association, and the contexts they need: one per distinct
/// (SOP class, transfer syntax) holding that syntax alone, so each file goes in its own
/// encoding; and, for each SOP class with uncompressed files, one more context offering the
/// [`FALLBACKS`], for peers that accept none of the files' own syntaxes.
///
/// The fallbacks get a context of their own rather than a place after the file's syntax in the
/// same context: an acceptor picks one syntax per context by *its* preference (DCMTK `storescp`
/// prefers Explicit VR Little Endian whatever the order proposed), which would turn files it
/// accepts as they are into needless conversions.
fn next_batch(files: &[StoreFile]) -> (usize, Vec<ProposedContext>) {
    let mut pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut fallbacks: BTreeSet<&str> = BTreeSet::new();
    let mut n = 0;
    for f in files {
        let class = f.sop_class_uid.as_str();
        let pair = (class, f.transfer_syntax_uid.as_str());
        let needs_fallback = uid::transfer_syntax(pair.1).is_some_and(convertible);
        let added = usize::from(!pairs.contains(&pair))
            + usize::from(needs_fallback && !fallbacks.contains(class));
        if pairs.len() + fallbacks.len() + added > MAX_CONTEXTS && n > 0 {
            break;
        }
        pairs.insert(pair);
        if needs_fallback {
            fallbacks.insert(class);
        }
        n += 1;
    }
    let own = pairs
        .into_iter()
        .map(|(class, ts)| ProposedContext::new(class, &[ts]));
    let fallback = fallbacks
        .into_iter()
        .map(|class| ProposedContext::new(class, &FALLBACKS));
    (n, own.chain(fallback).collect())
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
