//! `dimse conform`: protocol conformance scenarios against an SCP.

use std::process::ExitCode;
use std::time::Duration;

use dimse_conformance::{report, run_all, Target};

use crate::{check_ae, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Longest wait, in seconds, for each expected answer or close.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let a = args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let mut target = Target::new(&a.host, a.port, &a.aet, &a.aec);
    target.timeout = Duration::from_secs(args.timeout.max(1));
    let outcomes = run_all(&target);
    print!("{}", report(&outcomes));
    Ok(if outcomes.iter().all(|o| o.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
