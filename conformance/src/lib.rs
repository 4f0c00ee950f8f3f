//! The dimse conformance suite: a scripted raw-PDU peer and protocol scenarios run with it.
//!
//! [`peer::RawPeer`] is a blocking TCP peer built on the core's PDU codec
//! ([`dimse_core::pdu`]). It sends any bytes, valid or not, and reports what comes back —
//! a decoded PDU, a connection close or reset, undecodable bytes, or nothing within a bounded
//! wait — and when.
//!
//! [`scenarios`] holds the SCP-facing scenarios: each connects to a [`Target`], plays one
//! exchange and returns an [`Outcome`] naming what PS3.8 expects and what came back.
//! [`run_all`] runs them in order and [`report()`] formats the result, one line per scenario and
//! a final `conform: N passed, M failed` line.
//!
//! [`hostile`] holds what a hostile or broken peer does (garbage, stalls, endless data sets,
//! a thousand connections) and checks the SCP answers as PS3.8 says and serves on.
//!
//! [`scu`] holds the SCU-facing scenarios: a scripted raw SCP on a thread, and the shared
//! driver's SCU on any runtime calling it ([`run_scu_all`]), so each runtime's tests run the
//! same list.
//!
//! [`scu_command`] holds scenarios for an SCU that is a program (`dimse conform --scu --
//! COMMAND`): a scripted SCP per scenario, the command run once against it, judged by what it
//! did on the wire and its exit status.
//!
//! This crate is a test tool: unlike the core, it does its own I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod exchange;
pub mod hostile;
pub mod peer;
pub mod probe;
pub mod report;
pub mod scenarios;
pub mod script;
pub mod scu;
pub mod scu_command;
mod trace;

pub use exchange::{report, summary, Outcome, Target};
pub use hostile::{run_hostile, Hostile, HostileScenario, HOSTILE_SCENARIOS, UNFINISHED_INSTANCE};
pub use peer::{Observed, RawPeer};
pub use scenarios::{run_all, Scenario, SCENARIOS};
pub use script::{ScenarioFile, Script, ScriptError};
pub use scu::{run_scu_all, SCU_SCENARIOS};
pub use scu_command::{run_scu_command_all, ScuScenario, ScuUnderTest, SCU_COMMAND_SCENARIOS};
pub use trace::Trace;

/// The scenarios `runtime` (`std`, `tokio`, `smol`, `async-std`) is known to fail, with the
/// reason given for each, from `conformance/expected-failures.txt`.
///
/// ```
/// assert!(dimse_conformance::expected_failures("tokio").is_empty());
/// ```
pub fn expected_failures(runtime: &str) -> Vec<(String, String)> {
    listed_failures(include_str!("../expected-failures.txt"), runtime)
}

/// The `dimse conform --scu` scenarios the third-party SCU `scu` (such as `dcmtk-echoscu`)
/// is known to fail, with the reason given for each, from
/// `conformance/scu-expected-failures.txt`.
///
/// ```
/// let failures = dimse_conformance::expected_scu_failures("dcmtk-echoscu");
/// assert!(failures.iter().any(|(s, _)| s == "scu-failure-status"));
/// ```
pub fn expected_scu_failures(scu: &str) -> Vec<(String, String)> {
    listed_failures(include_str!("../scu-expected-failures.txt"), scu)
}

/// The `(scenario, reason)` pairs of `list` (lines `WHO SCENARIO REASON...`) for `who`.
fn listed_failures(list: &str, who: &str) -> Vec<(String, String)> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.splitn(3, char::is_whitespace);
            let (name, scenario) = (words.next()?, words.next()?);
            (name == who).then(|| {
                (
                    scenario.to_string(),
                    words.next().unwrap_or("").trim().to_string(),
                )
            })
        })
        .collect()
}
