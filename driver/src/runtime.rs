//! What an adapter supplies: a byte stream with deadlines, and a way to open one.
//!
//! These two traits are the whole contract between the shared driver and a runtime. Each
//! method is a single I/O primitive, so an adapter is a few dozen lines per runtime.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A connected byte stream (TCP, or TLS over TCP) as the runtime offers it.
///
/// A blocking implementation is valid: its futures complete on their first poll.
pub trait Transport: Send + 'static {
    /// Read some bytes into `buf`, waiting no later than `deadline`. `Ok(None)` means the
    /// deadline came first; `Ok(Some(0))` is the end of the stream.
    fn read(
        &mut self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> impl Future<Output = io::Result<Option<usize>>> + Send;

    /// Bytes that have already arrived, without waiting: `Ok(None)` when there are none.
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>>;

    /// One vectored write of `head` then `body` (a PDU, or what is left of it): how many
    /// bytes the stream took. The driver calls again for the rest.
    fn write(&mut self, head: &[u8], body: &[u8])
        -> impl Future<Output = io::Result<usize>> + Send;

    /// Close the connection (at least our sending side); errors are of no interest then.
    fn shutdown(&mut self) -> impl Future<Output = ()> + Send;

    /// The peer's address, for logs and handlers.
    fn peer_addr(&self) -> Option<SocketAddr>;
}

/// How a runtime opens connections: what the SCU and the C-MOVE orchestration need.
pub trait Runtime: Send + Sync + 'static {
    /// The stream it connects.
    type Stream: Transport;

    /// Connect to `addr`, giving up after `timeout`.
    fn connect(
        addr: SocketAddr,
        timeout: Duration,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// A socket read's result in [`Transport`] terms: the bytes read, or `None` where the read
/// would have had to wait (`WouldBlock`; `TimedOut`, which a socket timeout reports;
/// `Interrupted`).
///
/// ```
/// use std::io;
/// assert_eq!(dimse_driver::read_result(Ok(3)).unwrap(), Some(3));
/// assert_eq!(dimse_driver::read_result(Err(io::ErrorKind::WouldBlock.into())).unwrap(), None);
/// assert!(dimse_driver::read_result(Err(io::ErrorKind::ConnectionReset.into())).is_err());
/// ```
pub fn read_result(result: io::Result<usize>) -> io::Result<Option<usize>> {
    match result {
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
