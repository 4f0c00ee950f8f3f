//! `dimse conform`: protocol conformance scenarios against an SCP.

use std::process::ExitCode;
use std::time::Duration;

use dimse_conformance::{report, run_all, run_hostile, Hostile, Target};

use crate::{check_ae, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Longest wait, in seconds, for each expected answer or close.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Run the hostile-peer scenarios instead (garbage, stalls, endless data sets, many
    /// connections); the SCP's timers below tell a prompt close from none.
    #[arg(long)]
    hostile: bool,
    /// The SCP's ARTIM timeout in seconds (hostile scenarios).
    #[arg(long, default_value_t = 30)]
    artim: u64,
    /// The SCP's idle timeout in seconds (hostile scenarios).
    #[arg(long, default_value_t = 300)]
    idle: u64,
    /// The SCP's ACSE timeout in seconds (hostile scenarios).
    #[arg(long, default_value_t = 30)]
    acse: u64,
    /// The SCP's largest accepted data set in bytes (hostile scenarios).
    #[arg(long, default_value_t = 4 << 30)]
    max_data_set: u64,
    /// Connections opened at once (hostile scenarios).
    #[arg(long, default_value_t = 1000)]
    connections: usize,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let a = args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let mut target = Target::new(&a.host, a.port, &a.aet, &a.aec);
    target.timeout = Duration::from_secs(args.timeout.max(1));
    let outcomes = if args.hostile {
        run_hostile(&Hostile {
            target,
            artim: Duration::from_secs(args.artim),
            idle: Duration::from_secs(args.idle),
            acse: Duration::from_secs(args.acse),
            max_data_set: args.max_data_set,
            connections: args.connections,
        })
    } else {
        run_all(&target)
    };
    print!("{}", report(&outcomes));
    Ok(if outcomes.iter().all(|o| o.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
