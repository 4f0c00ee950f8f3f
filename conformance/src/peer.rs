//! A blocking raw-PDU peer over `std::net::TcpStream`, in plain TCP or TLS.
//!
//! The peer sends whatever it is given — encoded PDUs or arbitrary bytes — and reads back one
//! observation at a time with a bounded wait. Received bytes go through
//! [`dimse_core::pdu::decode`]; nothing here panics on what the other side sends.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dimse_core::pdu::{self, abort_reason, AbortSource, DecodeError, Limits, Pdu};
use dimse_driver::{ClientTls, TlsStream, Transport};
use dimse_std::{block_on, BlockingStream};

use crate::trace::Trace;

/// Largest PDU the peer buffers before calling the other side's output undecodable. Far above
/// anything a conformance scenario provokes, small enough that a broken length field cannot
/// make the tester allocate without bound.
const MAX_RECEIVED_PDU: u32 = 16 << 20;

/// What the peer saw when it waited for the other side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// A complete, decodable PDU.
    Pdu(Pdu),
    /// The other side closed the connection in an orderly way (end of stream). `pending` is
    /// the number of bytes of an incomplete PDU received before the close.
    Closed {
        /// Bytes received that did not form a complete PDU.
        pending: usize,
    },
    /// The connection was reset or aborted by the other side's TCP stack.
    Reset,
    /// Bytes arrived that the codec rejects.
    Invalid(DecodeError),
    /// Nothing (complete) arrived within the wait.
    Timeout,
}

impl Observed {
    /// Whether the connection is gone (closed or reset).
    pub fn is_closed(&self) -> bool {
        matches!(self, Observed::Closed { .. } | Observed::Reset)
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Pdu(p) => f.write_str(&describe_pdu(p)),
            Observed::Closed { pending: 0 } => f.write_str("connection closed"),
            Observed::Closed { pending } => {
                write!(
                    f,
                    "connection closed ({pending} bytes of an incomplete PDU)"
                )
            }
            Observed::Reset => f.write_str("connection reset"),
            Observed::Invalid(e) => write!(f, "undecodable bytes ({e})"),
            Observed::Timeout => f.write_str("nothing (timeout)"),
        }
    }
}

/// A one-line description of a PDU, with the fields conformance scenarios look at.
pub fn describe_pdu(p: &Pdu) -> String {
    match p {
        Pdu::AssociateRq(rq) => format!(
            "A-ASSOCIATE-RQ ({} presentation contexts)",
            rq.presentation_contexts().count()
        ),
        Pdu::AssociateAc(ac) => {
            let contexts: Vec<String> = ac
                .presentation_contexts()
                .map(|pc| format!("{}:{}", pc.id, pc.result.code()))
                .collect();
            format!("A-ASSOCIATE-AC (context:result {})", contexts.join(", "))
        }
        Pdu::AssociateRj(rj) => format!(
            "A-ASSOCIATE-RJ result {} source {} reason {} ({})",
            rj.result,
            rj.source,
            rj.reason,
            rj.reason()
        ),
        Pdu::PData(d) => format!("P-DATA-TF ({} PDVs)", d.pdvs.len()),
        Pdu::ReleaseRq => "A-RELEASE-RQ".to_string(),
        Pdu::ReleaseRp => "A-RELEASE-RP".to_string(),
        Pdu::Abort(a) => match a.source {
            AbortSource::ServiceProvider => format!(
                "A-ABORT source 2 reason {} ({})",
                a.reason,
                abort_reason::describe(a.reason)
            ),
            source => format!("A-ABORT source {} reason {}", source.code(), a.reason),
        },
    }
}

/// The connection's bytes: as they are, or through TLS.
enum Wire {
    Plain(TcpStream),
    /// The stream, and its socket (to close it from `&self`).
    Tls(Box<TlsStream<BlockingStream>>, TcpStream),
}

impl Wire {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Wire::Plain(s) => {
                s.write_all(bytes)?;
                s.flush()
            }
            Wire::Tls(s, _) => {
                let mut sent = 0;
                while sent < bytes.len() {
                    match block_on(s.write(&bytes[sent..], &[]))? {
                        0 => return Err(io::ErrorKind::WriteZero.into()),
                        n => sent += n,
                    }
                }
                Ok(())
            }
        }
    }

    /// Some bytes, `Ok(None)` when `wait` passed first, `Ok(Some(0))` at the end of stream.
    fn read(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<Option<usize>> {
        match self {
            Wire::Plain(s) => {
                s.set_read_timeout(Some(wait))?;
                dimse_driver::read_result(s.read(buf))
            }
            Wire::Tls(s, _) => block_on(s.read(buf, Some(Instant::now() + wait))),
        }
    }

    fn socket(&self) -> &TcpStream {
        match self {
            Wire::Plain(s) | Wire::Tls(_, s) => s,
        }
    }
}

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wire::Plain(_) => "Wire::Plain",
            Wire::Tls(..) => "Wire::Tls",
        })
    }
}

/// A scripted peer on one TCP connection.
#[derive(Debug)]
pub struct RawPeer {
    wire: Wire,
    /// Where what passes is logged, and this connection's number there.
    trace: Option<(Trace, usize)>,
    buf: BytesMut,
    limits: Limits,
    /// Set once the read side has seen end of stream, a reset or undecodable bytes.
    finished: Option<Observed>,
}

impl RawPeer {
    /// Connects to `host:port`, trying each resolved address for at most `timeout`.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<RawPeer> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "host resolved to no address");
        for addr in (host, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => return Ok(RawPeer::from_stream(stream)),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Connects to `host:port` as [`RawPeer::connect`] does, then runs a TLS handshake with
    /// `tls` (the server's certificate checked against `host`), all within `timeout`.
    pub fn connect_tls(
        host: &str,
        port: u16,
        timeout: Duration,
        tls: &ClientTls,
    ) -> io::Result<RawPeer> {
        let deadline = Instant::now() + timeout;
        let mut peer = RawPeer::connect(host, port, timeout)?;
        let Wire::Plain(socket) = peer.wire else {
            unreachable!("connect makes a plain wire")
        };
        let handle = socket.try_clone()?;
        let stream = block_on(tls.connect(host, BlockingStream::new(socket), deadline))?;
        peer.wire = Wire::Tls(Box::new(stream), handle);
        Ok(peer)
    }

    /// Wraps an already connected stream.
    pub fn from_stream(stream: TcpStream) -> RawPeer {
        // Small PDUs must leave at once; a failure here only costs latency.
        let _ = stream.set_nodelay(true);
        RawPeer {
            wire: Wire::Plain(stream),
            trace: None,
            buf: BytesMut::new(),
            limits: Limits {
                max_pdata_length: MAX_RECEIVED_PDU,
                max_associate_length: MAX_RECEIVED_PDU,
            },
            finished: None,
        }
    }

    /// Logs what passes on this connection to `trace` from now on.
    pub fn traced(mut self, trace: &Trace) -> RawPeer {
        self.trace = Some((trace.clone(), trace.connection()));
        self
    }

    fn record(&self, sent: bool, what: impl fmt::Display) {
        if let Some((trace, id)) = &self.trace {
            trace.record(*id, sent, what);
        }
    }

    /// Sends `bytes` as they are.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.record(true, format_args!("{} bytes as given", bytes.len()));
        self.write(bytes)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.wire
            .socket()
            .set_write_timeout(Some(Duration::from_secs(10)))?;
        self.wire.write_all(bytes)
    }

    /// Encodes `pdu` with the core's codec and sends it.
    pub fn send_pdu(&mut self, pdu: &Pdu) -> io::Result<()> {
        let mut buf = BytesMut::with_capacity(pdu::encoded_len(pdu));
        pdu::encode(pdu, &mut buf);
        self.record(true, describe_pdu(pdu));
        self.write(&buf)
    }

    /// Waits at most `timeout` for the next observation: a PDU, a close or reset, undecodable
    /// bytes, or a timeout. After a close, reset or decoding error every later call returns
    /// the same observation at once.
    ///
    /// I/O errors other than a timeout, a close or a reset are returned as errors.
    pub fn expect_pdu(&mut self, timeout: Duration) -> io::Result<Observed> {
        let already_finished = self.finished.is_some();
        let seen = self.observe(timeout)?;
        match &seen {
            _ if already_finished => {}
            Observed::Timeout => self.record(
                false,
                format_args!("nothing within {} ms", timeout.as_millis()),
            ),
            other => self.record(false, other),
        }
        Ok(seen)
    }

    fn observe(&mut self, timeout: Duration) -> io::Result<Observed> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(done) = &self.finished {
                return Ok(done.clone());
            }
            match pdu::decode(&mut self.buf, &self.limits) {
                Ok(Some(p)) => return Ok(Observed::Pdu(p)),
                Ok(None) => {}
                Err(e) => {
                    let seen = Observed::Invalid(e);
                    self.finished = Some(seen.clone());
                    return Ok(seen);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Observed::Timeout);
            }
            // A zero read timeout is an error for std, hence the floor.
            let wait = (deadline - now).max(Duration::from_millis(1));
            let mut chunk = [0u8; 16 * 1024];
            match self.wire.read(&mut chunk, wait) {
                Ok(Some(0)) => {
                    self.finished = Some(Observed::Closed {
                        pending: self.buf.len(),
                    });
                }
                Ok(Some(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(None) => {}
                Err(e) => match e.kind() {
                    io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe => self.finished = Some(Observed::Reset),
                    _ => return Err(e),
                },
            }
        }
    }

    /// Closes both directions of the connection (errors ignored: the other side may be gone).
    pub fn shutdown(&self) {
        let _ = self.wire.socket().shutdown(std::net::Shutdown::Both);
    }
}
