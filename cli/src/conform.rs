//! `dimse conform`: protocol conformance scenarios against an SCP.

use std::process::ExitCode;
use std::time::Duration;

use std::io::Write;

use dimse_conformance::{summary, Hostile, Outcome, Target, HOSTILE_SCENARIOS, SCENARIOS};

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
    // Each line as its scenario ends: hostile ones can take their peer's timeouts each.
    let print = |o: Outcome| {
        println!("{o}");
        let _ = std::io::stdout().flush();
        o
    };
    let outcomes: Vec<Outcome> = if args.hostile {
        let h = Hostile {
            target,
            artim: Duration::from_secs(args.artim),
            idle: Duration::from_secs(args.idle),
            acse: Duration::from_secs(args.acse),
            max_data_set: args.max_data_set,
            connections: args.connections,
        };
        HOSTILE_SCENARIOS
            .iter()
            .map(|s| print((s.run)(&h)))
            .collect()
    } else {
        SCENARIOS.iter().map(|s| print((s.run)(&target))).collect()
    };
    print!("{}", summary(&outcomes));
    Ok(if outcomes.iter().all(|o| o.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
