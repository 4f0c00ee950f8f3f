//! `dimse store`: files from the field, each proposed in its own transfer syntax.
//!
//! Files are read leniently ([`StoreFile::open_with`]); one that cannot be delimited or names
//! no SOP Class or Instance is reported and the rest still goes. Each file is proposed in its
//! own syntax, plus Explicit and Implicit VR Little Endian for its SOP class when it can be
//! converted (uncompressed) or decompressed (under `--decompress`); it goes untouched when the
//! peer takes its own syntax. More (SOP class, syntax) pairs than one association's 128
//! contexts hold go over several associations ([`dimse_driver::Scu::send_files`]). Every file
//! gets one line (or JSON record) saying what became of it, and a summary closes the run; the
//! exit status is 0 only when every file was sent.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dimse_core::{uid, Entity};
use dimse_driver::{
    ContextOptions, Conversion, Decompress, Error, Runtime, SendOptions, StoreFile, StoreFileError,
    StoreOutcome, Syntaxes, Values, ASYNC_WINDOW,
};
use serde_json::json;

use crate::progress::Progress;
use crate::{check_ae, on_runtime, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Files and directories (searched recursively unless --no-recurse) to send.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// C-STOREs to keep in flight (the asynchronous operations window proposed; the peer may
    /// grant fewer). 1 sends one at a time.
    #[arg(long, env = "DIMSE_WINDOW", default_value_t = ASYNC_WINDOW)]
    window: u16,
    /// Associations at once, the files spread across them.
    #[arg(long, value_name = "N", default_value_t = 1)]
    parallel: usize,
    /// Which compressed files to decompress for a peer that accepts none of their own
    /// transfer syntax: never, lossless (only lossless compression), lossy (also lossy
    /// compression; the data set keeps Lossy Image Compression "01").
    #[arg(long, value_name = "POLICY", default_value = "lossless", value_parser = parse_policy)]
    decompress: Decompress,
    /// Transfer syntaxes to propose: `auto` (each file's own, plus Explicit/Implicit VR
    /// Little Endian where it can be converted or decompressed), `own` (each file's own
    /// only), `uncompressed` (Explicit/Implicit VR Little Endian only), or a comma-separated
    /// list of transfer syntax UIDs.
    #[arg(long, value_name = "CHOICE", default_value = "auto", value_parser = parse_syntaxes)]
    propose: Syntaxes,
    /// One presentation context per SOP class holding all its proposed syntaxes, instead of
    /// one per (SOP class, syntax); the peer then chooses the syntax.
    #[arg(long)]
    combine: bool,
    /// Largest P-DATA-TF PDU we accept from the peer, announced in the association request.
    #[arg(long, value_name = "BYTES")]
    max_pdu: Option<u32>,
    /// Only the files directly in the directories given, not in their subdirectories.
    #[arg(long)]
    no_recurse: bool,
    /// Only files whose name matches this pattern (`*` any run, `?` one character), e.g.
    /// `*.dcm`; files named on the command line are always taken.
    #[arg(long, value_name = "GLOB")]
    pattern: Option<String>,
    /// Refuse files with values that break their VR's character rules, instead of sending
    /// them unchanged with a warning.
    #[arg(long)]
    strict: bool,
    /// One JSON record per file on standard output (`{"file", "result", ...}`), then one
    /// with the summary, instead of text lines.
    #[arg(long)]
    json: bool,
    /// No progress bar, and no line for files that were sent (failures, warnings and the
    /// summary remain).
    #[arg(long, short)]
    quiet: bool,
}

fn parse_policy(s: &str) -> Result<Decompress, String> {
    s.parse()
}

fn parse_syntaxes(s: &str) -> Result<Syntaxes, String> {
    match s {
        "auto" => Ok(Syntaxes::OwnWithFallbacks),
        "own" => Ok(Syntaxes::Own),
        "uncompressed" => Ok(Syntaxes::Uncompressed),
        list => list
            .split(',')
            .map(|u| {
                uid::transfer_syntax(u.trim())
                    .ok_or_else(|| format!("{u:?}: not a transfer syntax UID dimse knows"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Syntaxes::List),
    }
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

/// Where the per-file results go: text lines or JSON records.
struct Report<'a> {
    progress: Progress,
    tally: Tally,
    args: &'a Args,
}

impl Report<'_> {
    fn warning(&self, file: &Path, note: &str) {
        if self.args.json {
            // Scripts read standard output; warnings stay readable beside them.
            self.progress
                .println(&format!("warning: {}: {note}", file.display()));
        } else {
            self.progress
                .outln(&format!("warning: {}: {note}", file.display()));
        }
    }

    fn unreadable(&mut self, path: &Path, e: &dimse_driver::StoreFileError) {
        self.tally.unreadable += 1;
        if self.args.json {
            self.record(json!({"file": path, "result": "unreadable", "reason": e.to_string()}));
        } else {
            self.progress.outln(&format!("unreadable {e}"));
        }
        self.progress.step(false, 0);
    }

    fn record(&self, value: serde_json::Value) {
        self.progress.outln(&value.to_string());
    }

    /// One file's outcome, shown and counted.
    fn file(&mut self, file: &StoreFile, outcome: Result<StoreOutcome, Error>) {
        let path = file.path.display();
        let base = || {
            json!({
                "file": file.path,
                "sop_class_uid": file.sop_class_uid,
                "sop_instance_uid": file.sop_instance_uid,
                "transfer_syntax": file.transfer_syntax_uid,
            })
        };
        let sent = match outcome {
            Ok(outcome) => {
                let rsp = outcome.response;
                let status = format!("0x{:04X}", rsp.status.0);
                if rsp.status.is_failure() {
                    self.tally.refused += 1;
                    let comment = rsp.error_comment.unwrap_or_default();
                    if self.args.json {
                        let mut r = base();
                        r["result"] = json!("refused");
                        r["status"] = json!(status);
                        r["reason"] = json!(rsp.status.to_string());
                        r["error_comment"] = json!(comment);
                        self.record(r);
                    } else {
                        let comment = if comment.is_empty() {
                            String::new()
                        } else {
                            format!(" ({comment})")
                        };
                        self.progress
                            .outln(&format!("refused {path}: {}{comment}", rsp.status));
                    }
                    false
                } else {
                    self.tally.sent += 1;
                    let (how, conversion) = match outcome.conversion {
                        None => (String::new(), None),
                        Some(Conversion::Decompressed { from, to }) => {
                            self.tally.decompressed += 1;
                            (
                                format!(" (decompressed from {})", from.name),
                                Some(("decompressed", to)),
                            )
                        }
                        Some(c) => {
                            self.tally.converted += 1;
                            (
                                format!(" (converted from {} to {})", c.from().name, c.to().name),
                                Some(("converted", c.to())),
                            )
                        }
                    };
                    if self.args.json {
                        let mut r = base();
                        r["result"] = json!("sent");
                        r["status"] = json!(status);
                        if let Some((kind, to)) = conversion {
                            r["conversion"] = json!(kind);
                            r["sent_transfer_syntax"] = json!(to.uid);
                        }
                        self.record(r);
                    } else if rsp.status.is_warning() {
                        self.progress
                            .outln(&format!("sent {path}{how}, with warning {}", rsp.status));
                    } else if !self.args.quiet {
                        self.progress.outln(&format!("sent {path}{how}"));
                    }
                    true
                }
            }
            Err(e) => {
                self.tally.not_sent += 1;
                let reason = match &e {
                    // The file error names the path itself.
                    Error::File(inner) => inner.to_string(),
                    _ => format!("{path}: {e}{}", self.hint(&e, file)),
                };
                if self.args.json {
                    let mut r = base();
                    r["result"] = json!("not sent");
                    r["reason"] = json!(e.to_string());
                    self.record(r);
                } else {
                    self.progress.outln(&format!("not sent {reason}"));
                }
                false
            }
        };
        self.progress.step(sent, file.data_len);
        let done = self.tally.sent + self.tally.failed() - self.tally.unreadable;
        self.progress
            .set_message(&format!("{done} files, {} failed", self.tally.failed()));
    }

    /// What would have sent a file that went nowhere for want of a context.
    fn hint(&self, e: &Error, file: &StoreFile) -> &'static str {
        let policy = self.args.decompress;
        match (e, uid::transfer_syntax(&file.transfer_syntax_uid)) {
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
        }
    }

    fn summary(&self) {
        let t = &self.tally;
        if self.args.json {
            self.record(json!({
                "summary": {
                    "sent": t.sent, "failed": t.failed(), "decompressed": t.decompressed,
                    "converted": t.converted, "refused": t.refused, "unreadable": t.unreadable,
                    "not_sent": t.not_sent,
                }
            }));
        } else {
            println!(
                "store: {} sent, {} failed ({} decompressed, {} converted; {} refused by the \
                 peer, {} unreadable, {} not sent)",
                t.sent,
                t.failed(),
                t.decompressed,
                t.converted,
                t.refused,
                t.unreadable,
                t.not_sent
            );
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    on_runtime!(args.scu.runtime, run_on(&args))
}

async fn run_on<R: Runtime>(args: &Args) -> Result<ExitCode, String> {
    let a = &args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    if args.parallel == 0 {
        return Err("--parallel must be at least 1".into());
    }
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let mut scu = a.scu::<R>()?;
    scu.decompress = args.decompress;
    if let Some(max) = args.max_pdu {
        scu.max_pdu = max;
    }
    let values = if args.strict {
        Values::Strict
    } else {
        Values::Lenient
    };

    let mut paths = Vec::new();
    let pattern = args.pattern.as_deref();
    for p in &args.paths {
        collect(p, !args.no_recurse, pattern, &mut paths)
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for (path, opened) in paths.iter().zip(open_all(&paths, values)) {
        match opened {
            Ok(f) => files.push(f),
            Err(e) => unreadable.push((path.clone(), e)),
        }
    }
    let bytes = files.iter().map(|f| f.data_len).sum();
    let mut report = Report {
        progress: Progress::for_bytes(files.len(), bytes, args.quiet || args.json),
        tally: Tally::default(),
        args,
    };
    for (path, e) in &unreadable {
        report.unreadable(path, e);
    }
    for f in &files {
        for note in &f.notes {
            report.warning(&f.path, note);
        }
    }
    let options = SendOptions {
        window: args.window,
        parallel: args.parallel,
        contexts: ContextOptions {
            syntaxes: args.propose.clone(),
            combined: args.combine,
            decompress: args.decompress,
        },
    };
    let report = std::sync::Mutex::new(report);
    scu.send_files(&peer, &files, &options, |i, outcome| {
        let mut report = report.lock().unwrap_or_else(|e| e.into_inner());
        report.file(&files[i], outcome);
    })
    .await;
    let report = report.into_inner().unwrap_or_else(|e| e.into_inner());
    report.progress.finish();
    report.summary();
    Ok(if report.tally.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// [`StoreFile::open_with`] for every path, in order, on as many threads as there are cores
/// (at most [`OPENERS`]). Every file is read and checked before the association, because its
/// SOP class decides the contexts proposed; the peer is idle meanwhile, so this wait is part
/// of every transfer (a tenth of 2,000 instances of 64 KiB on one thread).
fn open_all(paths: &[PathBuf], values: Values) -> Vec<Result<StoreFile, StoreFileError>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(OPENERS);
    // Few files are not worth a thread.
    if threads < 2 || paths.len() < 64 {
        return paths
            .iter()
            .map(|p| StoreFile::open_with(p, values))
            .collect();
    }
    let per_thread = paths.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|p| StoreFile::open_with(p, values))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Threads [`open_all`] uses at most: beyond a few, the disk, not the CPU, sets the pace.
const OPENERS: usize = 8;

/// The files under `path`, sorted; `recurse` into subdirectories; only names matching
/// `pattern` among those found in directories.
pub(crate) fn collect(
    path: &Path,
    recurse: bool,
    pattern: Option<&str>,
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    if path.is_dir() {
        walk(path, recurse, pattern, out)
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_path_buf());
        Ok(())
    }
}

fn walk(
    dir: &Path,
    recurse: bool,
    pattern: Option<&str>,
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    // The directory entry's own type costs no system call; only a symbolic link is
    // followed to see what it names (a stat per file was a tenth of the time before the
    // association on 2,000 small files).
    let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)?
        .map(|e| {
            let e = e?;
            let kind = e.file_type()?;
            let path = e.path();
            let is_dir = kind.is_dir() || (kind.is_symlink() && path.is_dir());
            Ok((path, is_dir))
        })
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for (e, is_dir) in entries {
        if is_dir {
            if recurse {
                walk(&e, recurse, pattern, out)?;
            }
        } else if pattern.is_none_or(|p| {
            e.file_name()
                .is_some_and(|n| glob_match(p.as_bytes(), n.as_encoded_bytes()))
        }) {
            out.push(e);
        }
    }
    Ok(())
}

/// `*` matches any run of bytes, `?` one byte, anything else itself.
pub(crate) fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], name) || (!name.is_empty() && glob_match(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => glob_match(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => glob_match(&pattern[1..], &name[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(b"*.dcm", b"a.dcm"));
        assert!(glob_match(b"*.dcm", b".dcm"));
        assert!(!glob_match(b"*.dcm", b"a.dcm.bak"));
        assert!(glob_match(b"IM?_*", b"IM1_0001"));
        assert!(!glob_match(b"IM?_*", b"IM12_0001"));
        assert!(glob_match(b"*", b""));
    }

    #[test]
    fn proposal_choices_parse() {
        assert_eq!(parse_syntaxes("own"), Ok(Syntaxes::Own));
        assert_eq!(parse_syntaxes("uncompressed"), Ok(Syntaxes::Uncompressed));
        let list = parse_syntaxes("1.2.840.10008.1.2.4.70, 1.2.840.10008.1.2.1").unwrap();
        let Syntaxes::List(list) = list else {
            panic!("a list")
        };
        assert_eq!(list[1].uid, uid::EXPLICIT_VR_LE);
        assert!(parse_syntaxes("1.2.3").is_err());
    }
}
