//! `dimse conform`: protocol conformance scenarios against an SCP.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use dimse_conformance::report::{self, Format};
use dimse_conformance::{
    Hostile, Outcome, ScuUnderTest, Target, HOSTILE_SCENARIOS, SCENARIOS, SCU_COMMAND_SCENARIOS,
};

use crate::{check_ae, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu_args: ScuArgs,
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
    /// Report as text (a line per scenario, the PDU trace under a failure), json (a record
    /// per scenario, then a summary) or junit (JUnit XML for CI systems).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: Format,
    /// Run only the scenarios whose name matches (`*` any run, `?` one character;
    /// repeatable). `--list` shows the names.
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,
    /// List the scenarios (with --hostile, the hostile ones) and exit.
    #[arg(long)]
    list: bool,
    /// Test an SCU instead: run the command after `--` once per scenario against a scripted
    /// SCP on a free loopback port, and judge what it did on the wire and its exit status.
    /// Placeholders in its arguments: {host}, {port}, {aet} (the scripted SCP's AE title),
    /// {timeout} (--scu-timeout). HOST and PORT are not used.
    #[arg(long, conflicts_with = "hostile")]
    scu: bool,
    /// What {timeout} stands for: the seconds the SCU under test should wait for an answer.
    /// The scenarios that never answer expect it to give up within twice that.
    #[arg(long, value_name = "SECS", default_value_t = 2)]
    scu_timeout: u64,
    /// The longest one run of the SCU under test may take before it is killed.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    scu_limit: u64,
    /// Run the scenarios of this TOML file (repeatable) instead of the built-in ones: steps
    /// that send PDUs built from fields or raw bytes, expect PDUs or a close within a time,
    /// or wait (see README, "Scenarios as data"). Scenarios with role = "scp" test an SCU
    /// (with --scu); the others an SCP.
    #[arg(long, value_name = "FILE", conflicts_with = "hostile")]
    scenario_file: Vec<std::path::PathBuf>,
    /// The SCU under test and its arguments (after `--`), with --scu.
    #[arg(last = true, index = 3, value_name = "COMMAND")]
    command: Vec<String>,
}

/// The names `patterns` select among `names` (all without patterns); a pattern matching
/// nothing is an error, since a typo would otherwise pass silently in CI.
fn select<'a>(names: &[&'a str], patterns: &[String]) -> Result<Vec<&'a str>, String> {
    if patterns.is_empty() {
        return Ok(names.to_vec());
    }
    let matches = |p: &String, n: &str| crate::store::glob_match(p.as_bytes(), n.as_bytes());
    if let Some(p) = patterns
        .iter()
        .find(|p| !names.iter().any(|n| matches(p, n)))
    {
        return Err(format!(
            "--scenario {p:?} matches no scenario (dimse conform --list shows them)"
        ));
    }
    Ok(names
        .iter()
        .copied()
        .filter(|n| patterns.iter().any(|p| matches(p, n)))
        .collect())
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let mut scripts = Vec::new();
    for path in &args.scenario_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file = dimse_conformance::ScenarioFile::parse(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        scripts.extend(file.scenarios);
    }
    let names: Vec<&str> = if !scripts.is_empty() {
        scripts.iter().map(|s| s.name.as_str()).collect()
    } else if args.scu {
        SCU_COMMAND_SCENARIOS.iter().map(|s| s.name).collect()
    } else if args.hostile {
        HOSTILE_SCENARIOS.iter().map(|s| s.name).collect()
    } else {
        SCENARIOS.iter().map(|s| s.name).collect()
    };
    let chosen = select(&names, &args.scenarios)?;
    if args.list {
        for name in chosen {
            println!("{name}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let format = args.format;
    let print = |o: Outcome| {
        print!("{}", report::line(format, &o));
        let _ = std::io::stdout().flush();
        o
    };
    if args.scu {
        let mut scu = ScuUnderTest::new(args.command.iter().cloned())
            .ok_or("--scu needs the SCU's command after `--`")?;
        scu.timeout = Duration::from_secs(args.scu_timeout.max(1));
        scu.limit = Duration::from_secs(args.scu_limit.max(1));
        if !scripts.is_empty() {
            let outcomes: Vec<Outcome> = scripts
                .iter()
                .filter(|s| chosen.contains(&s.name.as_str()))
                .map(|s| print(s.run_against(&scu)))
                .collect();
            return Ok(finish(format, "dimse conform --scu", &outcomes));
        }
        let outcomes: Vec<Outcome> = SCU_COMMAND_SCENARIOS
            .iter()
            .filter(|s| chosen.contains(&s.name))
            .map(|s| print(s.run_on(&scu)))
            .collect();
        return Ok(finish(format, "dimse conform --scu", &outcomes));
    }
    let a = args.scu_args;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let mut target = Target::new(&a.host, a.port, &a.aet, &a.aec);
    target.timeout = Duration::from_secs(args.timeout.max(1));
    target.tls = a.client_tls()?;
    // Each line as its scenario ends: hostile ones can take their peer's timeouts each.
    let outcomes: Vec<Outcome> = if !scripts.is_empty() {
        scripts
            .iter()
            .filter(|s| chosen.contains(&s.name.as_str()))
            .map(|s| print(s.run_on(&target)))
            .collect()
    } else if args.hostile {
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
            .filter(|s| chosen.contains(&s.name))
            .map(|s| print(s.run_on(&h)))
            .collect()
    } else {
        SCENARIOS
            .iter()
            .filter(|s| chosen.contains(&s.name))
            .map(|s| print(s.run_on(&target)))
            .collect()
    };
    Ok(finish(format, "dimse conform", &outcomes))
}

/// Prints the end of the report; success when no scenario failed.
fn finish(format: Format, suite: &str, outcomes: &[Outcome]) -> ExitCode {
    print!("{}", report::end(format, suite, outcomes));
    if outcomes.iter().all(|o| o.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
