//! The one driver loop: moves bytes between a `TcpStream` and a core [`Association`], and turns
//! the core's deadlines into socket read timeouts.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{Association, Event};

use crate::Error;

/// Bytes read per `read` call: large reads amortise syscalls on big data sets.
const READ_CHUNK: usize = 256 * 1024;

pub(crate) struct Conn {
    pub(crate) assoc: Association,
    stream: TcpStream,
    rbuf: BytesMut,
    eof: bool,
}

impl Conn {
    pub(crate) fn new(stream: TcpStream, assoc: Association) -> Self {
        // A PDU goes out in one vectored write; without NODELAY a small C-STORE waits for the
        // peer's delayed ACK (~40 ms on Linux).
        let _ = stream.set_nodelay(true);
        Conn {
            assoc,
            stream,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            eof: false,
        }
    }

    /// Write every queued transmit.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        while let Some(t) = self.assoc.poll_transmit() {
            let mut bufs = [IoSlice::new(&t.head), IoSlice::new(&t.body)];
            let mut slices: &mut [IoSlice<'_>] = &mut bufs;
            while !slices.is_empty() {
                match self.stream.write_vectored(slices) {
                    Ok(0) => {
                        return Err(Error::Io {
                            context: "writing to peer",
                            source: io::ErrorKind::WriteZero.into(),
                        })
                    }
                    Ok(n) => IoSlice::advance_slices(&mut slices, n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // The peer is gone: tell the core so its state ends in Sta1.
                        self.assoc.handle_eof(Instant::now());
                        return Err(Error::Io {
                            context: "writing to peer",
                            source: e,
                        });
                    }
                }
            }
        }
        if self.assoc.is_closed() {
            let _ = self.stream.shutdown(Shutdown::Both);
        }
        Ok(())
    }

    /// The next event, reading and handling timers as needed. `deadline` bounds the wait for
    /// an application-level answer (the DIMSE timeout); `Ok(None)` means it passed.
    pub(crate) fn next_event(&mut self, deadline: Option<Instant>) -> Result<Option<Event>, Error> {
        loop {
            self.flush()?;
            if let Some(event) = self.assoc.poll_event() {
                self.flush()?;
                return Ok(Some(event));
            }
            if self.assoc.is_closed() || self.eof {
                return Err(Error::Closed);
            }
            let now = Instant::now();
            let wake = match (self.assoc.poll_timeout(), deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(wake) = wake {
                if wake <= now {
                    if deadline.is_some_and(|d| d <= now) {
                        return Ok(None);
                    }
                    self.assoc.handle_timeout(now);
                    continue;
                }
            }
            let timeout = wake.map(|w| (w - now).max(Duration::from_millis(1)));
            self.read_some(timeout)?;
        }
    }

    /// Whatever has arrived by now, without waiting: the events it produced.
    pub(crate) fn poll_now(&mut self) -> Result<Vec<Event>, Error> {
        self.flush()?;
        if !self.eof && !self.assoc.is_closed() {
            let _ = self.stream.set_nonblocking(true);
            let result = self.read_some(None);
            let _ = self.stream.set_nonblocking(false);
            result?;
        }
        self.flush()?;
        Ok(std::iter::from_fn(|| self.assoc.poll_event()).collect())
    }

    fn read_some(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        let _ = self.stream.set_read_timeout(timeout);
        let start = self.rbuf.len();
        self.rbuf.resize(start + READ_CHUNK, 0);
        let result = self.stream.read(&mut self.rbuf[start..]);
        let now = Instant::now();
        match result {
            Ok(0) => {
                self.rbuf.truncate(start);
                self.eof = true;
                self.assoc.handle_eof(now);
            }
            Ok(n) => {
                self.rbuf.truncate(start + n);
                self.assoc.handle_input(now, &mut self.rbuf);
            }
            Err(e) => {
                self.rbuf.truncate(start);
                match e.kind() {
                    io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::Interrupted => self.assoc.handle_timeout(now),
                    _ => {
                        self.eof = true;
                        self.assoc.handle_eof(now);
                    }
                }
            }
        }
        Ok(())
    }

    /// Abort (if still possible), send the A-ABORT and close.
    pub(crate) fn abort(&mut self) {
        let _ = self.assoc.abort(Instant::now());
        let _ = self.flush();
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Wait (bounded by the core's ARTIM) for the peer to close after we released, rejected or
    /// aborted, so the last PDU is not lost to a reset.
    pub(crate) fn finish(&mut self) {
        let _ = self.flush();
        while !self.assoc.is_closed() && !self.eof {
            match self.next_event(None) {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Send the data set read from `data` as the data of the command just sent, in even
    /// pieces, writing each before reading the next (memory stays at one piece).
    pub(crate) fn stream_data(&mut self, ctx: u8, mut data: impl Read) -> Result<(), Error> {
        let mut current = read_chunk(&mut data)?;
        loop {
            let next = read_chunk(&mut data)?;
            let last = next.is_empty();
            if last && current.len() % 2 == 1 {
                // Some files hold an odd-length data set; PS3.5 requires even lengths and
                // peers such as DCMTK abort on an odd fragment. A trailing pad byte is what
                // the data set should have had.
                let mut padded = BytesMut::from(&current[..]);
                padded.extend_from_slice(&[0]);
                current = padded.freeze();
            }
            self.assoc.send_data(Instant::now(), ctx, current, last)?;
            self.flush()?;
            if last {
                return Ok(());
            }
            current = next;
        }
    }
}

/// Data-set bytes read from the source per `send_data` call: even, so every fragment but the
/// last has even length as PS3.8 Annex E asks.
const SEND_CHUNK: usize = 1024 * 1024;

fn read_chunk(data: &mut impl Read) -> Result<Bytes, Error> {
    let mut buf = vec![0u8; SEND_CHUNK];
    let mut filled = 0;
    while filled < buf.len() {
        match data.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Error::Io {
                    context: "reading the data set",
                    source,
                })
            }
        }
    }
    buf.truncate(filled);
    Ok(Bytes::from(buf))
}
