//! Seeing the wire: every PDU of every association, both ways, decoded by the core's
//! [`WireTrace`] as it passes (`dimse --trace`).

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dimse_core::pdu::trace::{Direction, WireTrace};

/// Where the trace of associations goes, and whether data sets are shown element by element.
///
/// Each block handed to the sink holds the PDUs one read or write completed (or a connection's
/// start or end): their lines, each starting with `#N ` (N numbers the connections of the
/// process), joined by newlines.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use dimse_driver::WireLog;
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let keep = seen.clone();
/// let log = WireLog::new(false, move |block: &str| keep.lock().unwrap().push(block.to_string()));
/// # let _ = log;
/// // scu.wire_log = Some(log); every PDU of its associations now lands in `seen`.
/// ```
#[derive(Clone)]
pub struct WireLog {
    show_data: bool,
    sink: Arc<dyn Fn(&str) + Send + Sync>,
}

impl WireLog {
    /// A log handing each PDU's lines to `sink`; `show_data` decodes data sets (patient
    /// data included) instead of giving their size only.
    pub fn new(show_data: bool, sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        WireLog {
            show_data,
            sink: Arc::new(sink),
        }
    }

    /// A log printing to standard error.
    pub fn stderr(show_data: bool) -> Self {
        WireLog::new(show_data, |block| eprintln!("{block}"))
    }

    /// The tap for one new connection; `requestor` says which side we are.
    pub(crate) fn tap(&self, requestor: bool, peer: Option<SocketAddr>) -> WireTap {
        static CONNECTIONS: AtomicU64 = AtomicU64::new(1);
        let id = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        let (ours, role) = if requestor {
            (Direction::FromRequestor, "to")
        } else {
            (Direction::FromAcceptor, "from")
        };
        let peer = peer.map_or_else(|| "?".to_string(), |p| p.to_string());
        (self.sink)(&format!("#{id} connection {role} {peer}"));
        WireTap {
            trace: WireTrace::new(self.show_data),
            sink: self.sink.clone(),
            ours,
            id,
        }
    }
}

impl fmt::Debug for WireLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireLog")
            .field("show_data", &self.show_data)
            .finish_non_exhaustive()
    }
}

/// One connection's tracer and where its lines go.
pub(crate) struct WireTap {
    trace: WireTrace,
    sink: Arc<dyn Fn(&str) + Send + Sync>,
    ours: Direction,
    id: u64,
}

impl WireTap {
    pub(crate) fn sent(&mut self, bytes: &[u8]) {
        let lines = self.trace.feed(self.ours, bytes);
        self.emit(lines);
    }

    pub(crate) fn received(&mut self, bytes: &[u8]) {
        let theirs = match self.ours {
            Direction::FromRequestor => Direction::FromAcceptor,
            Direction::FromAcceptor => Direction::FromRequestor,
        };
        let lines = self.trace.feed(theirs, bytes);
        self.emit(lines);
    }

    fn emit(&self, lines: Vec<String>) {
        if lines.is_empty() {
            return;
        }
        let id = self.id;
        let block: Vec<String> = lines.iter().map(|l| format!("#{id} {l}")).collect();
        (self.sink)(&block.join("\n"));
    }
}

impl Drop for WireTap {
    fn drop(&mut self) {
        let lines = self.trace.finish();
        self.emit(lines);
    }
}
