//! The service class user: associate with a peer, send requests, match responses.

use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{self, Event, Negotiated, Proposal, ProposedContext};
use dimse_core::dimse::{
    CEchoRq, CEchoRsp, CStoreRq, CStoreRsp, DimseMessage, Message, MessageIdAllocator, Priority,
    Status,
};
use dimse_core::{uid, Entity};

use crate::conn::Conn;
use crate::file::StoreFile;
use crate::Error;

/// Data-set bytes read from the source per `send_data` call: even, so every fragment but the
/// last has even length as PS3.8 Annex E asks.
const SEND_CHUNK: usize = 1024 * 1024;

/// A service class user: our AE title and timeouts.
///
/// ```no_run
/// use dimse_core::Entity;
/// use dimse_std::Scu;
///
/// let scu = Scu::new("MY_SCU");
/// let status = scu.echo(&Entity::new("PACS", "pacs.example", 104)).unwrap();
/// assert!(status.is_success());
/// ```
#[derive(Debug, Clone)]
pub struct Scu {
    /// Our AE title.
    pub ae_title: String,
    /// How long to wait for the TCP connection.
    pub connect_timeout: Duration,
    /// How long to wait for each DIMSE response.
    pub dimse_timeout: Duration,
    /// Association tunables (ARTIM, ACSE timeout, limits).
    pub config: assoc::Config,
    /// Largest P-DATA-TF we accept from the peer.
    pub max_pdu: u32,
}

impl Scu {
    /// An SCU with AE title `ae_title` and default timeouts.
    pub fn new(ae_title: &str) -> Self {
        Scu {
            ae_title: ae_title.to_string(),
            connect_timeout: Duration::from_secs(10),
            dimse_timeout: Duration::from_secs(60),
            config: assoc::Config::default(),
            max_pdu: assoc::DEFAULT_MAX_PDU,
        }
    }

    /// A proposal from us to `peer` with `contexts`.
    pub fn proposal(&self, peer: &Entity, contexts: Vec<ProposedContext>) -> Proposal {
        let mut p = Proposal::new(&self.ae_title, &peer.ae_title);
        p.contexts = contexts;
        p.max_pdu = self.max_pdu;
        p
    }

    /// Associate with `peer`, proposing `contexts`.
    pub fn associate(
        &self,
        peer: &Entity,
        contexts: Vec<ProposedContext>,
    ) -> Result<ScuAssociation, Error> {
        self.associate_with(peer, &self.proposal(peer, contexts))
    }

    /// Associate with `peer` using a complete proposal (user identity, async window, …).
    pub fn associate_with(
        &self,
        peer: &Entity,
        proposal: &Proposal,
    ) -> Result<ScuAssociation, Error> {
        let assoc = assoc::Association::requestor(proposal, self.config.clone(), Instant::now());
        let stream = connect(peer, self.connect_timeout)?;
        let mut conn = Conn::new(stream, assoc);
        conn.assoc.handle_connected(Instant::now())?;
        loop {
            match conn.next_event(None)? {
                Some(Event::Established(negotiated)) => {
                    tracing::debug!(peer = %peer, "association established");
                    return Ok(ScuAssociation {
                        conn,
                        negotiated: *negotiated,
                        ids: MessageIdAllocator::new(),
                        dimse_timeout: self.dimse_timeout,
                    });
                }
                Some(Event::Rejected(rj)) => {
                    conn.finish();
                    return Err(Error::Rejected(rj));
                }
                Some(Event::Aborted(cause)) => {
                    conn.finish();
                    return Err(Error::Aborted(cause));
                }
                Some(_) => {}
                None => unreachable!("no application deadline was given"),
            }
        }
    }

    /// Associate, send one C-ECHO, release. Returns the C-ECHO status.
    pub fn echo(&self, peer: &Entity) -> Result<Status, Error> {
        let ctx = ProposedContext::new(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]);
        let mut assoc = self.associate(peer, vec![ctx])?;
        let status = assoc.echo()?;
        assoc.release()?;
        Ok(status)
    }
}

fn connect(peer: &Entity, timeout: Duration) -> Result<TcpStream, Error> {
    let addrs = peer
        .address()
        .to_socket_addrs()
        .map_err(|source| Error::Io {
            context: "resolving peer address",
            source,
        })?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(Error::Io {
        context: "connecting to peer",
        source: last.unwrap_or_else(|| std::io::ErrorKind::AddrNotAvailable.into()),
    })
}

/// An established association, requestor side.
pub struct ScuAssociation {
    conn: Conn,
    negotiated: Negotiated,
    ids: MessageIdAllocator,
    dimse_timeout: Duration,
}

impl std::fmt::Debug for ScuAssociation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScuAssociation")
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

impl ScuAssociation {
    /// What was negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Send a C-ECHO and return its status.
    pub fn echo(&mut self) -> Result<Status, Error> {
        let ctx = self
            .negotiated
            .find_context(uid::VERIFICATION, |_| true)
            .map(|c| c.id)
            .ok_or_else(|| Error::NoContext {
                sop_class: uid::VERIFICATION.to_string(),
                transfer_syntax: None,
            })?;
        let rq = CEchoRq::new(self.ids.next());
        self.conn
            .assoc
            .send_command(Instant::now(), ctx, &rq.to_command())?;
        let rsp: CEchoRsp = self.response(rq.message_id, "C-ECHO-RSP")?;
        Ok(rsp.status)
    }

    /// Send a C-STORE of the data set read from `data`, encoded in `transfer_syntax`, and
    /// return the response. The data set streams: memory stays at a few PDUs whatever its size.
    pub fn store(
        &mut self,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        transfer_syntax: &str,
        data: impl Read,
    ) -> Result<CStoreRsp, Error> {
        let ctx = self
            .negotiated
            .find_context(sop_class_uid, |ts| ts == transfer_syntax)
            .map(|c| c.id)
            .ok_or_else(|| Error::NoContext {
                sop_class: sop_class_uid.to_string(),
                transfer_syntax: Some(transfer_syntax.to_string()),
            })?;
        let rq = CStoreRq::new(
            self.ids.next(),
            sop_class_uid,
            sop_instance_uid,
            Priority::Medium,
        );
        self.conn
            .assoc
            .send_command(Instant::now(), ctx, &rq.to_command())?;
        if let Err(e) = self.stream_data(ctx, data) {
            // The peer is owed the rest of a data set we cannot produce: only an abort ends that.
            self.conn.abort();
            return Err(e);
        }
        self.response(rq.message_id, "C-STORE-RSP")
    }

    /// Send a Part 10 file prepared with [`StoreFile::open`].
    pub fn store_file(&mut self, file: &StoreFile) -> Result<CStoreRsp, Error> {
        // Check the context before touching the file, so a missing one costs nothing.
        if self
            .negotiated
            .find_context(&file.sop_class_uid, |ts| ts == file.transfer_syntax_uid)
            .is_none()
        {
            return Err(Error::NoContext {
                sop_class: file.sop_class_uid.clone(),
                transfer_syntax: Some(file.transfer_syntax_uid.clone()),
            });
        }
        let reader = file.data_reader().map_err(Error::File)?;
        self.store(
            &file.sop_class_uid,
            &file.sop_instance_uid,
            &file.transfer_syntax_uid,
            reader,
        )
    }

    fn stream_data(&mut self, ctx: u8, mut data: impl Read) -> Result<(), Error> {
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
            self.conn
                .assoc
                .send_data(Instant::now(), ctx, current, last)?;
            self.conn.flush()?;
            if last {
                return Ok(());
            }
            current = next;
        }
    }

    fn response<T: DimseMessage>(
        &mut self,
        message_id: u16,
        expected: &'static str,
    ) -> Result<T, Error> {
        let deadline = Instant::now() + self.dimse_timeout;
        match self.conn.next_event(Some(deadline))? {
            None => {
                self.conn.abort();
                Err(Error::Timeout {
                    waiting_for: expected,
                })
            }
            Some(Event::Command { command, .. }) => {
                let message = Message::from_command(command)?;
                if message.responded_to() == Some(message_id)
                    && message.command_field() == T::COMMAND_FIELD
                {
                    return Ok(T::from_command(&message.to_command())?);
                }
                Err(Error::UnexpectedMessage {
                    expected,
                    got: message.name().to_string(),
                })
            }
            Some(Event::Aborted(cause)) => {
                self.conn.finish();
                Err(Error::Aborted(cause))
            }
            Some(Event::ReleaseRequested) => {
                let _ = self.conn.assoc.respond_release(Instant::now());
                self.conn.finish();
                Err(Error::Closed)
            }
            Some(other) => Err(Error::UnexpectedMessage {
                expected,
                got: format!("{other:?}"),
            }),
        }
    }

    /// Release the association and wait for the peer's reply.
    pub fn release(mut self) -> Result<(), Error> {
        self.conn.assoc.release(Instant::now())?;
        loop {
            match self.conn.next_event(None) {
                Ok(Some(Event::Released)) => {
                    self.conn.finish();
                    return Ok(());
                }
                Ok(Some(Event::ReleaseRequested)) => {
                    // Release collision (PS3.8 AR-8): the requestor answers first.
                    self.conn.assoc.respond_release(Instant::now())?;
                }
                Ok(Some(Event::Aborted(cause))) => return Err(Error::Aborted(cause)),
                Ok(Some(_)) => {}
                Ok(None) => unreachable!("no application deadline was given"),
                Err(e) => return Err(e),
            }
        }
    }

    /// Abort the association.
    pub fn abort(mut self) {
        self.conn.abort();
    }
}

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
