//! A blocking raw-PDU peer over `std::net::TcpStream`.
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

/// A scripted peer on one TCP connection.
#[derive(Debug)]
pub struct RawPeer {
    stream: TcpStream,
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

    /// Wraps an already connected stream.
    pub fn from_stream(stream: TcpStream) -> RawPeer {
        // Small PDUs must leave at once; a failure here only costs latency.
        let _ = stream.set_nodelay(true);
        RawPeer {
            stream,
            buf: BytesMut::new(),
            limits: Limits {
                max_pdata_length: MAX_RECEIVED_PDU,
                max_associate_length: MAX_RECEIVED_PDU,
            },
            finished: None,
        }
    }

    /// Sends `bytes` as they are.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream
            .set_write_timeout(Some(Duration::from_secs(10)))?;
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Encodes `pdu` with the core's codec and sends it.
    pub fn send_pdu(&mut self, pdu: &Pdu) -> io::Result<()> {
        let mut buf = BytesMut::with_capacity(pdu::encoded_len(pdu));
        pdu::encode(pdu, &mut buf);
        self.send_bytes(&buf)
    }

    /// Waits at most `timeout` for the next observation: a PDU, a close or reset, undecodable
    /// bytes, or a timeout. After a close, reset or decoding error every later call returns
    /// the same observation at once.
    ///
    /// I/O errors other than a timeout, a close or a reset are returned as errors.
    pub fn expect_pdu(&mut self, timeout: Duration) -> io::Result<Observed> {
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
            self.stream.set_read_timeout(Some(wait))?;
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.finished = Some(Observed::Closed {
                        pending: self.buf.len(),
                    });
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {}
                    io::ErrorKind::Interrupted => {}
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
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}
