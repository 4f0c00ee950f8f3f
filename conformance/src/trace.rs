//! What the raw peers of a scenario sent and saw, in order and with times: the evidence a
//! failed scenario is reported with.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Lines kept per scenario: a peer sending one byte at a time must not grow the log without
/// bound.
const MAX_LINES: usize = 200;

/// A log of PDU traffic shared by the connections of a [`crate::Target`]: clones write to
/// the same log, each connection under a number of its own.
///
/// ```
/// use dimse_conformance::Trace;
///
/// let trace = Trace::default();
/// assert!(trace.take().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Trace(Arc<Mutex<Log>>);

#[derive(Debug, Default)]
struct Log {
    start: Option<Instant>,
    connections: usize,
    lines: Vec<String>,
}

impl Trace {
    /// The number the next connection is logged under (1, 2, ...).
    pub(crate) fn connection(&self) -> usize {
        let mut log = self.log();
        log.connections += 1;
        log.connections
    }

    /// Records `what` as sent (`→`) or received (`←`) on connection `id`.
    pub(crate) fn record(&self, id: usize, sent: bool, what: impl fmt::Display) {
        let mut log = self.log();
        let start = *log.start.get_or_insert_with(Instant::now);
        let arrow = if sent { '→' } else { '←' };
        match log.lines.len() {
            n if n < MAX_LINES => {
                let ms = start.elapsed().as_millis();
                log.lines.push(format!("{ms:>6} ms #{id} {arrow} {what}"));
            }
            MAX_LINES => log
                .lines
                .push(format!("(trace cut after {MAX_LINES} lines)")),
            _ => {}
        }
    }

    /// The lines recorded so far; the log starts again empty (times from its next line).
    pub fn take(&self) -> Vec<String> {
        let mut log = self.log();
        log.start = None;
        log.connections = 0;
        std::mem::take(&mut log.lines)
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
