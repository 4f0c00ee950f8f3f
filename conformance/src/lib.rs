//! The dimse conformance suite: a scripted raw-PDU peer and protocol scenarios run with it.
//!
//! [`peer::RawPeer`] is a blocking TCP peer built on the core's PDU codec
//! ([`dimse_core::pdu`]). It sends any bytes, valid or not, and reports what comes back —
//! a decoded PDU, a connection close or reset, undecodable bytes, or nothing within a bounded
//! wait — and when.
//!
//! [`scenarios`] holds the SCP-facing scenarios: each connects to a [`Target`], plays one
//! exchange and returns an [`Outcome`] naming what PS3.8 expects and what came back.
//! [`run_all`] runs them in order and [`report`] formats the result, one line per scenario and
//! a final `conform: N passed, M failed` line.
//!
//! [`scu`] holds the SCU-facing scenarios: a scripted raw SCP on a thread, and the shared
//! driver's SCU on any runtime calling it ([`run_scu_all`]), so each runtime's tests run the
//! same list.
//!
//! This crate is a test tool: unlike the core, it does its own I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod peer;
pub mod scenarios;
pub mod scu;

pub use peer::{Observed, RawPeer};
pub use scenarios::{report, run_all, Outcome, Scenario, Target, SCENARIOS};
pub use scu::{run_scu_all, SCU_SCENARIOS};
