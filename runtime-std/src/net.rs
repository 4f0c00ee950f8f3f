//! Blocking sockets as the driver's [`Transport`] and [`Runtime`].

use std::collections::HashMap;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use dimse_driver::{read_result, Runtime, Transport};

/// The blocking runtime: connections are `std::net` sockets, waits are read timeouts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Blocking;

impl Runtime for Blocking {
    type Stream = BlockingStream;

    async fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<BlockingStream> {
        TcpStream::connect_timeout(&addr, timeout).map(BlockingStream::new)
    }
}

/// A `TcpStream` whose reads time out at the driver's deadlines.
#[derive(Debug)]
pub struct BlockingStream(TcpStream, Option<Registration>);

impl BlockingStream {
    /// Wrap an accepted or connected stream.
    pub fn new(stream: TcpStream) -> Self {
        // A PDU goes out in one vectored write; without NODELAY a small C-STORE waits for the
        // peer's delayed ACK (~40 ms on Linux).
        let _ = stream.set_nodelay(true);
        BlockingStream(stream, None)
    }
}

impl BlockingStream {
    /// Entered in `open` until dropped, so that a server's shutdown can close it.
    pub(crate) fn registered(stream: TcpStream, open: &Arc<Open>) -> Self {
        let mut this = BlockingStream::new(stream);
        let id = open.next.fetch_add(1, Ordering::SeqCst);
        if let Ok(handle) = this.0.try_clone() {
            open.streams().insert(id, handle);
            this.1 = Some(Registration {
                id,
                open: open.clone(),
            });
        }
        this
    }
}

/// The connections a server is serving, by a serial number: a handle on each, so a shutdown
/// can close them under the threads blocked reading them.
#[derive(Debug, Default)]
pub(crate) struct Open {
    next: AtomicU64,
    streams: Mutex<HashMap<u64, TcpStream>>,
}

impl Open {
    fn streams(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Close every connection (both directions): a blocked read returns at once.
    pub(crate) fn close_all(&self) {
        for stream in self.streams().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// A stream's entry in [`Open`].
#[derive(Debug)]
struct Registration {
    id: u64,
    open: Arc<Open>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.open.streams().remove(&self.id);
    }
}

impl Transport for BlockingStream {
    async fn read(
        &mut self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> io::Result<Option<usize>> {
        let timeout = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(None),
            },
            None => None,
        };
        self.0.set_read_timeout(timeout)?;
        read_result(self.0.read(buf))
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.0.set_nonblocking(true)?;
        let result = self.0.read(buf);
        self.0.set_nonblocking(false)?;
        read_result(result)
    }

    async fn write(&mut self, head: &[u8], body: &[u8]) -> io::Result<usize> {
        self.0
            .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
    }

    async fn shutdown(&mut self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.0.peer_addr().ok()
    }
}
