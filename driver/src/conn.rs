//! The one driver loop: moves bytes between a [`Transport`] and a core [`Association`], and
//! turns the core's deadlines into read deadlines.

use std::io::{self, Read};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{Association, Event};

use crate::runtime::Transport;
use crate::wire::{WireLog, WireTap};
use crate::Error;

/// Most bytes read per `read` call: large reads amortise syscalls on big data sets.
const READ_CHUNK: usize = 256 * 1024;
/// Least bytes read per call, and the buffer an idle association keeps: a thousand idle
/// associations should cost a thousand small buffers, not a thousand large ones.
const MIN_READ_CHUNK: usize = 16 * 1024;
/// Bytes of pipelined requests the core may hold while an operation runs before
/// [`Conn::poll_now`] stops reading: past this the peer waits on TCP flow control instead of
/// filling our memory.
const MAX_QUEUED: usize = 32 * 1024 * 1024;
/// What a peer may make the core hold while we must keep reading (waiting for our own
/// request's response); past it the association is aborted.
const MAX_QUEUED_HARD: usize = 4 * MAX_QUEUED;
/// A PDV this small is copied into [`Conn::flush`]'s gathered write; a larger one goes from
/// its own buffer.
const GATHER_BODY: usize = 4 * 1024;
/// Gathered bytes written at the latest once they reach this.
const GATHER_MAX: usize = 64 * 1024;
/// How long queued transmits may wait for the events already received (see [`Conn::next`]):
/// long enough for a batch of small requests, short against any peer's DIMSE timeout.
const HOLD: std::time::Duration = std::time::Duration::from_millis(2);

pub(crate) struct Conn<T> {
    pub(crate) assoc: Association,
    stream: T,
    rbuf: BytesMut,
    /// [`Conn::flush`]'s gathered small PDUs, kept between flushes while small.
    wbuf: Vec<u8>,
    /// Since when queued transmits have waited for events already received to be handled
    /// (see [`Conn::next`]).
    held_since: Option<Instant>,
    /// [`HOLD`]; a test sets its own.
    hold: std::time::Duration,
    /// A flush is under way: if its future is dropped now (the server closing), a PDU may be
    /// half-written, and an A-ABORT after it would be read as part of it.
    writing: bool,
    /// Bytes asked of the next read: doubles while reads fill it, back to the minimum (and the
    /// buffer released) when the peer goes quiet.
    chunk: usize,
    /// The last read was small. Two in a row is a lull; one alone is the command before a
    /// data set, and shrinking for it would cost the data set a fresh buffer.
    small_read: bool,
    eof: bool,
    /// Why the last read failed (a reset, a TLS alert): reported instead of the bare end of
    /// the connection the core saw.
    failed: Option<io::Error>,
    /// `--trace`: every PDU both ways, decoded.
    tap: Option<Box<WireTap>>,
}

impl<T: Transport> Conn<T> {
    pub(crate) fn new(stream: T, assoc: Association) -> Self {
        Conn {
            assoc,
            stream,
            rbuf: BytesMut::new(),
            wbuf: Vec::new(),
            held_since: None,
            hold: HOLD,
            writing: false,
            chunk: MIN_READ_CHUNK,
            small_read: false,
            eof: false,
            failed: None,
            tap: None,
        }
    }

    /// Trace this connection's PDUs to `log`, if given; `requestor` says which side we are.
    pub(crate) fn traced(mut self, log: Option<&WireLog>, requestor: bool) -> Self {
        self.tap = log.map(|log| Box::new(log.tap(requestor, self.stream.peer_addr())));
        self
    }

    /// Write every queued transmit. Small PDUs queued together (a command and the header of
    /// its data, the responses to a batch of requests) are gathered into one write, ahead of
    /// the next large body: each write is a system call and a TCP segment for both ends.
    /// The trace shows a PDU when it is taken for writing, so after a write error it may show
    /// PDUs that never left.
    pub(crate) async fn flush(&mut self) -> Result<(), Error> {
        self.held_since = None;
        self.writing = true;
        let mut gathered = std::mem::take(&mut self.wbuf);
        let mut result = Ok(());
        while let Some(t) = self.assoc.poll_transmit() {
            if let Some(tap) = &mut self.tap {
                tap.sent(&t.head);
                tap.sent(&t.body);
            }
            gathered.extend_from_slice(&t.head);
            if t.body.len() <= GATHER_BODY {
                gathered.extend_from_slice(&t.body);
                if gathered.len() < GATHER_MAX {
                    continue;
                }
                result = self.write_all(&gathered, &[]).await;
            } else {
                result = self.write_all(&gathered, &t.body).await;
            }
            gathered.clear();
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() && !gathered.is_empty() {
            result = self.write_all(&gathered, &[]).await;
        }
        gathered.clear();
        self.writing = false;
        // An idle association keeps a small buffer, not the largest burst it ever sent.
        if gathered.capacity() <= MIN_READ_CHUNK {
            self.wbuf = gathered;
        }
        if let Err(e) = result {
            // The peer is gone: tell the core so its state ends in Sta1.
            self.assoc.handle_eof(Instant::now());
            return Err(Error::Io {
                context: "writing to peer",
                source: e,
            });
        }
        if self.assoc.is_closed() {
            self.stream.shutdown().await;
        }
        Ok(())
    }

    /// Write all of `head` then `body`, as many vectored writes as the stream needs.
    async fn write_all(&mut self, mut head: &[u8], mut body: &[u8]) -> io::Result<()> {
        while !head.is_empty() || !body.is_empty() {
            match self.stream.write(head, body).await {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    let from_head = n.min(head.len());
                    head = &head[from_head..];
                    body = &body[n - from_head..];
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The next event, reading and handling timers as needed. `deadline` bounds the wait for
    /// an application-level answer (the DIMSE timeout); `Ok(None)` means it passed.
    pub(crate) async fn next_event(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<Event>, Error> {
        self.next(deadline, Association::poll_event).await
    }

    /// Like [`Self::next_event`], for an operation in progress that waits for its own answer:
    /// only what concerns operations under way (responses to our requests, cancels, the end);
    /// requests the peer pipelined stay queued in the core for [`Self::next_event`].
    pub(crate) async fn next_operation_event(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<Event>, Error> {
        self.next(deadline, Association::poll_operation_event).await
    }

    /// Wait until `deadline` while still reading, so timers run and an A-ABORT is seen; the
    /// requests that arrive meanwhile stay queued for [`Self::next_event`].
    pub(crate) async fn pause_until(&mut self, deadline: Instant) -> Result<(), Error> {
        while self.next_operation_event(Some(deadline)).await?.is_some() {}
        Ok(())
    }

    async fn next(
        &mut self,
        deadline: Option<Instant>,
        poll: fn(&mut Association) -> Option<Event>,
    ) -> Result<Option<Event>, Error> {
        loop {
            // What is queued to send may wait while DIMSE events already received are handled
            // (for at most HOLD, and at the latest until the next read): the responses to a
            // batch of pipelined requests then leave in one write instead of one each. The
            // end of the association never waits.
            if let Some(event) = poll(&mut self.assoc) {
                let now = Instant::now();
                let dimse = matches!(
                    event,
                    Event::Message { .. } | Event::Data { .. } | Event::Cancel { .. }
                );
                let held = self.assoc.queued_transmits() > 0
                    && dimse
                    && now < *self.held_since.get_or_insert(now) + self.hold;
                if !held {
                    self.flush().await?;
                }
                return Ok(Some(event));
            }
            self.flush().await?;
            if self.assoc.is_closed() || self.eof {
                return Err(Error::Closed);
            }
            let (_, queued) = self.assoc.queued_events();
            // Once aborted, the queue stays until the end: checking again would only spin.
            if queued > MAX_QUEUED_HARD && self.assoc.is_established() {
                tracing::warn!(bytes = queued, "peer pipelined too much: aborting");
                let _ = self.assoc.abort(Instant::now());
                continue;
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
            self.read_some(wake).await;
            if let Some(source) = self.failed.take() {
                // What the core made of it is only "the transport closed".
                while self.assoc.poll_event().is_some() {}
                return Err(Error::Io {
                    context: "reading from peer",
                    source,
                });
            }
        }
    }

    /// Whatever has arrived by now, without waiting, for an operation in progress: the events
    /// that concern it (see [`Self::next_operation_event`]).
    pub(crate) async fn poll_now(&mut self) -> Result<Vec<Event>, Error> {
        self.flush().await?;
        if !self.eof && !self.assoc.is_closed() && self.assoc.queued_events().1 <= MAX_QUEUED {
            let start = self.rbuf.len();
            self.rbuf.resize(start + self.chunk, 0);
            let result = self.stream.try_read(&mut self.rbuf[start..]);
            self.absorb(start, result);
        }
        self.flush().await?;
        Ok(std::iter::from_fn(|| self.assoc.poll_operation_event()).collect())
    }

    async fn read_some(&mut self, deadline: Option<Instant>) {
        let start = self.rbuf.len();
        self.rbuf.resize(start + self.chunk, 0);
        let result = self.stream.read(&mut self.rbuf[start..], deadline).await;
        self.absorb(start, result);
    }

    /// Hand what a read produced to the core: bytes, the end of the stream, or a timeout
    /// (`Ok(None)`: the core checks its timers).
    fn absorb(&mut self, start: usize, result: io::Result<Option<usize>>) {
        let now = Instant::now();
        match result {
            Ok(None) => {
                self.rbuf.truncate(start);
                self.assoc.handle_timeout(now);
            }
            Ok(Some(0)) => {
                self.rbuf.truncate(start);
                self.eof = true;
                self.assoc.handle_eof(now);
            }
            Ok(Some(n)) => {
                self.rbuf.truncate(start + n);
                if let Some(tap) = &mut self.tap {
                    tap.received(&self.rbuf[start..]);
                }
                self.assoc.handle_input(now, &mut self.rbuf);
                let small = n < MIN_READ_CHUNK;
                if n == self.chunk {
                    self.chunk = (self.chunk * 2).min(READ_CHUNK);
                } else if small && self.small_read {
                    self.chunk = MIN_READ_CHUNK;
                    if self.rbuf.is_empty() && self.rbuf.capacity() > 2 * MIN_READ_CHUNK {
                        // A lull: give the large buffer back (data set slices still in use
                        // keep their part alive on their own).
                        self.rbuf = BytesMut::new();
                    }
                }
                self.small_read = small;
            }
            // A read error is the connection's end (a timeout is `Ok(None)` by the Transport
            // contract).
            Err(e) => {
                self.rbuf.truncate(start);
                self.eof = true;
                self.assoc.handle_eof(now);
                self.failed = Some(e);
            }
        }
    }

    /// Abort (if still possible), send the A-ABORT and close.
    pub(crate) async fn abort(&mut self) {
        // After a half-written PDU the peer would take the A-ABORT for the rest of it: only
        // closing the connection says the association is over.
        if !self.writing {
            let _ = self.assoc.abort(Instant::now());
            let _ = self.flush().await;
        }
        self.stream.shutdown().await;
    }

    /// Wait (bounded by the core's ARTIM) for the peer to close after we released, rejected or
    /// aborted, so the last PDU is not lost to a reset.
    pub(crate) async fn finish(&mut self) {
        let _ = self.flush().await;
        while !self.assoc.is_closed() && !self.eof {
            match self.next_event(None).await {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        self.stream.shutdown().await;
    }

    /// Send the data set read from `data` as the data of the command just sent, in even
    /// pieces, writing each before reading the next (memory stays at one piece).
    pub(crate) async fn stream_data(
        &mut self,
        ctx: u8,
        mut data: impl Read,
        size: Option<u64>,
    ) -> Result<(), Error> {
        let (first, left) = first_chunk(&mut data, size, self.send_chunk())?;
        self.stream_chunks(ctx, first, data, left).await
    }

    /// Send `first` (from [`first_chunk`]) and the rest of `data` as one data set.
    pub(crate) async fn stream_chunks(
        &mut self,
        ctx: u8,
        first: Bytes,
        mut data: impl Read,
        mut left: u64,
    ) -> Result<(), Error> {
        let (mut current, chunk) = (first, self.send_chunk());
        loop {
            let next = read_chunk(&mut data, &mut left, chunk)?;
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
            self.flush().await?;
            if last {
                return Ok(());
            }
            current = next;
        }
    }

    /// How much of a data set to read per `send_data` call: about [`SEND_CHUNK`], in whole
    /// PDUs of this peer, so that no PDU but a data set's last is short (a 1 MiB piece cut
    /// into 16 KiB PDUs would end in a 384-byte one, an extra read for the peer every MiB).
    pub(crate) fn send_chunk(&self) -> usize {
        send_chunk(self.assoc.max_fragment())
    }
}

fn send_chunk(max_fragment: usize) -> usize {
    match SEND_CHUNK.checked_div(max_fragment) {
        Some(pdus) if pdus > 0 => pdus * max_fragment,
        _ => SEND_CHUNK,
    }
}

/// The first piece of a data set of `size` bytes (when known) and what is left of it, for
/// [`Conn::stream_chunks`]. Buffers are sized to what is left, so a 64 KiB instance costs
/// 64 KiB, not a zeroed 1 MiB chunk and a second one to find the end.
pub(crate) fn first_chunk(
    data: &mut impl Read,
    size: Option<u64>,
    chunk: usize,
) -> Result<(Bytes, u64), Error> {
    let mut left = size.unwrap_or(chunk as u64);
    let first = read_chunk(data, &mut left, chunk)?;
    Ok((first, left))
}

/// Data-set bytes read from the source per `send_data` call, at most (see
/// [`Conn::send_chunk`]): even, so every fragment but the last has even length as PS3.8
/// Annex E asks.
const SEND_CHUNK: usize = 1024 * 1024;

/// Up to `chunk` (even) bytes of `data`, in a buffer of the size `left` expects (`left` is a
/// hint: a source longer than it still gets read whole, in more chunks).
fn read_chunk(data: &mut impl Read, left: &mut u64, chunk: usize) -> Result<Bytes, Error> {
    let expect = (*left).min(chunk as u64) as usize;
    let mut buf = Vec::with_capacity(expect);
    data.take(chunk as u64)
        .read_to_end(&mut buf)
        .map_err(|source| Error::Io {
            context: "reading the data set",
            source,
        })?;
    *left = if buf.len() < chunk {
        // read_to_end stopped short of the chunk: the source has ended.
        0
    } else {
        // More than the hint said: expect full chunks from here on.
        left.checked_sub(buf.len() as u64).unwrap_or(chunk as u64)
    };
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    use dimse_core::assoc::{AcceptorPolicy, Config, Proposal, ProposedContext, SupportedSyntax};
    use dimse_core::dimse::{CEchoRq, CEchoRsp, Message, Status};
    use dimse_core::uid;

    use crate::blocking::block_on;

    /// A stream whose reads are given in advance (then the end) and whose writes are kept.
    struct Scripted {
        reads: VecDeque<Vec<u8>>,
        writes: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl Transport for Scripted {
        async fn read(&mut self, buf: &mut [u8], _: Option<Instant>) -> io::Result<Option<usize>> {
            let Some(mut next) = self.reads.pop_front() else {
                return Ok(Some(0));
            };
            let n = next.len().min(buf.len());
            buf[..n].copy_from_slice(&next[..n]);
            if n < next.len() {
                self.reads.push_front(next.split_off(n));
            }
            Ok(Some(n))
        }

        fn try_read(&mut self, _: &mut [u8]) -> io::Result<Option<usize>> {
            Ok(None)
        }

        async fn write(&mut self, head: &[u8], body: &[u8]) -> io::Result<usize> {
            self.writes.lock().unwrap().push([head, body].concat());
            Ok(head.len() + body.len())
        }

        async fn shutdown(&mut self) {}

        fn peer_addr(&self) -> Option<SocketAddr> {
            None
        }
    }

    fn transmits(assoc: &mut Association) -> Vec<u8> {
        std::iter::from_fn(|| assoc.poll_transmit())
            .flat_map(|t| [t.head, t.body])
            .flatten()
            .collect()
    }

    /// An established pair: our acceptor and the requestor that talks to it, with a window
    /// of 8 C-ECHOs.
    fn established(now: Instant) -> (Association, Association) {
        let mut proposal = Proposal::new("SCU", "SCP");
        proposal.contexts.push(ProposedContext::new(
            uid::VERIFICATION,
            &[uid::IMPLICIT_VR_LE],
        ));
        proposal.async_window = Some((8, 1));
        let mut policy = AcceptorPolicy::new("SCP");
        policy.supported.push(SupportedSyntax::uid(
            uid::VERIFICATION,
            &[uid::IMPLICIT_VR_LE],
        ));
        policy.async_window = (8, 1);
        let mut rq = Association::requestor(&proposal, Config::default(), now);
        let mut ac = Association::acceptor(Config::default(), now);
        rq.handle_connected(now).unwrap();
        ac.handle_input(now, &mut BytesMut::from(&transmits(&mut rq)[..]));
        while ac.poll_event().is_some() {}
        assert_eq!(ac.respond_with_policy(now, &policy), Ok(None));
        while ac.poll_event().is_some() {}
        rq.handle_input(now, &mut BytesMut::from(&transmits(&mut ac)[..]));
        while rq.poll_event().is_some() {}
        (ac, rq)
    }

    /// Four C-ECHO-RQs arrive in one read and are answered as they come, with queued
    /// transmits held for `hold`: the writes made, and the Message IDs they answered.
    fn answer_four(hold: std::time::Duration) -> (usize, Vec<u16>) {
        let now = Instant::now();
        let (ac, mut rq) = established(now);
        for id in 1..=4 {
            rq.send_message(now, 1, &CEchoRq::new(id)).unwrap();
        }
        let writes = Arc::new(Mutex::new(Vec::new()));
        let stream = Scripted {
            reads: VecDeque::from([transmits(&mut rq)]),
            writes: Arc::clone(&writes),
        };
        let mut conn = Conn::new(stream, ac);
        conn.hold = hold;
        block_on(async {
            for id in 1..=4 {
                match conn.next_event(None).await.unwrap() {
                    Some(Event::Message {
                        message: Message::CEchoRq(echo),
                        ..
                    }) => {
                        assert_eq!(echo.message_id, id);
                        let rsp = CEchoRsp::for_request(&echo, Status::SUCCESS);
                        conn.assoc.send_message(Instant::now(), 1, &rsp).unwrap();
                    }
                    other => panic!("{other:?}"),
                }
            }
            // Nothing more to handle: what is held goes before the next read, which ends it.
            let end = conn.next_event(None).await;
            assert!(matches!(end, Ok(Some(Event::Aborted(_)))), "{end:?}");
        });
        let writes = writes.lock().unwrap();
        rq.handle_input(now, &mut BytesMut::from(&writes.concat()[..]));
        let answered = std::iter::from_fn(|| rq.poll_event())
            .filter_map(|e| match e {
                Event::Message {
                    message: Message::CEchoRsp(rsp),
                    ..
                } => Some(rsp.message_id_being_responded_to),
                _ => None,
            })
            .collect();
        (writes.len(), answered)
    }

    #[test]
    fn pipelined_requests_read_together_are_answered_in_one_write() {
        // A hold no test run outlasts: the four answers go together before the next read.
        let (writes, answered) = answer_four(std::time::Duration::from_secs(3600));
        assert_eq!(writes, 1, "one write for the four answers");
        assert_eq!(answered, [1, 2, 3, 4]);
    }

    #[test]
    fn held_answers_go_once_the_hold_has_passed() {
        // No hold: each answer leaves before the next request is handed out.
        let (writes, answered) = answer_four(std::time::Duration::ZERO);
        assert_eq!(writes, 4);
        assert_eq!(answered, [1, 2, 3, 4]);
    }

    #[test]
    fn the_release_request_is_not_held() {
        let now = Instant::now();
        let (ac, mut rq) = established(now);
        // A C-ECHO-RQ and the peer's A-RELEASE-RQ, in one read.
        rq.send_message(now, 1, &CEchoRq::new(1)).unwrap();
        rq.release(now).unwrap();
        let writes = Arc::new(Mutex::new(Vec::new()));
        let stream = Scripted {
            reads: VecDeque::from([transmits(&mut rq)]),
            writes: Arc::clone(&writes),
        };
        let mut conn = Conn::new(stream, ac);
        conn.hold = std::time::Duration::from_secs(3600);
        block_on(async {
            let Some(Event::Message {
                message: Message::CEchoRq(echo),
                ..
            }) = conn.next_event(None).await.unwrap()
            else {
                panic!("not the C-ECHO-RQ");
            };
            // The core has read the A-RELEASE-RQ too (Sta8), where PS3.8 still lets the
            // answer out (AR-7).
            let rsp = CEchoRsp::for_request(&echo, Status::SUCCESS);
            conn.assoc.send_message(Instant::now(), 1, &rsp).unwrap();
            let event = conn.next_event(None).await.unwrap();
            assert!(matches!(event, Some(Event::ReleaseRequested)), "{event:?}");
            assert_eq!(
                writes.lock().unwrap().len(),
                1,
                "the answer left before the event"
            );
        });
    }

    #[test]
    fn send_chunks_are_whole_pdus_of_the_peer() {
        // storescp's 16 KiB PDUs: 64 full fragments, not 64 and a 384-byte one.
        assert_eq!(send_chunk(16_378), 64 * 16_378);
        // A peer whose PDUs are larger than a chunk: one PDU per chunk.
        assert_eq!(send_chunk(4 << 20), SEND_CHUNK);
        assert_eq!(send_chunk(0), SEND_CHUNK);
        for fragment in (2..70_000).step_by(2) {
            let chunk = send_chunk(fragment);
            assert!(chunk <= SEND_CHUNK && chunk % 2 == 0 && chunk % fragment.min(chunk) == 0);
        }
    }
}
