//! tokio sockets as the driver's [`Transport`] and [`Runtime`].

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dimse_driver::{read_result, Runtime, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The tokio runtime. Calls must run inside a tokio runtime with I/O and time enabled.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Runtime for Tokio {
    type Stream = TokioStream;

    async fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TokioStream> {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(stream) => stream.map(TokioStream::new),
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        }
    }
}

/// A tokio `TcpStream` with read deadlines.
#[derive(Debug)]
pub struct TokioStream(TcpStream);

impl TokioStream {
    /// Wrap an accepted or connected stream.
    pub fn new(stream: TcpStream) -> Self {
        // A PDU goes out in one vectored write; without NODELAY a small C-STORE waits for the
        // peer's delayed ACK.
        let _ = stream.set_nodelay(true);
        TokioStream(stream)
    }
}

impl Transport for TokioStream {
    async fn read(
        &mut self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> io::Result<Option<usize>> {
        match deadline {
            None => self.0.read(buf).await.map(Some),
            Some(d) => {
                let d = tokio::time::Instant::from_std(d);
                match tokio::time::timeout_at(d, self.0.read(buf)).await {
                    Ok(read) => read.map(Some),
                    Err(_) => Ok(None),
                }
            }
        }
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        read_result(self.0.try_read(buf))
    }

    async fn write(&mut self, head: &[u8], body: &[u8]) -> io::Result<usize> {
        self.0
            .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
            .await
    }

    async fn shutdown(&mut self) {
        let _ = self.0.shutdown().await;
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.0.peer_addr().ok()
    }
}
