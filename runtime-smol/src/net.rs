//! async-io sockets as the driver's [`Transport`] and [`Runtime`].

use std::io::{self, IoSlice, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use dimse_driver::{read_result, Runtime, Transport};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{future, Async, Timer};

/// The async-io runtime (smol, async-std).
#[derive(Debug, Clone, Copy, Default)]
pub struct Smol;

impl Runtime for Smol {
    type Stream = SmolStream;

    async fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<SmolStream> {
        let timed_out = async {
            Timer::after(timeout).await;
            Err(io::ErrorKind::TimedOut.into())
        };
        let stream = future::or(Async::<TcpStream>::connect(addr), timed_out).await?;
        Ok(SmolStream::new(stream))
    }
}

/// A non-blocking `TcpStream` registered with the async-io reactor.
#[derive(Debug)]
pub struct SmolStream(Async<TcpStream>);

impl SmolStream {
    /// Wrap an accepted or connected stream.
    pub fn new(stream: Async<TcpStream>) -> Self {
        // A PDU goes out in one vectored write; without NODELAY a small C-STORE waits for the
        // peer's delayed ACK.
        let _ = stream.get_ref().set_nodelay(true);
        SmolStream(stream)
    }
}

impl Transport for SmolStream {
    async fn read(
        &mut self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> io::Result<Option<usize>> {
        let read = async { self.0.read(buf).await.map(Some) };
        match deadline {
            None => read.await,
            Some(d) => {
                let passed = async {
                    Timer::at(d).await;
                    Ok(None)
                };
                future::or(read, passed).await
            }
        }
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // The socket is non-blocking (async-io made it so): a plain read does not wait.
        read_result(self.0.get_ref().read(buf))
    }

    async fn write(&mut self, head: &[u8], body: &[u8]) -> io::Result<usize> {
        self.0
            .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
            .await
    }

    async fn shutdown(&mut self) {
        let _ = self.0.get_ref().shutdown(Shutdown::Both);
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.0.get_ref().peer_addr().ok()
    }
}
