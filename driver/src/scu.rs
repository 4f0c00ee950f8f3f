//! The service class user: associate with a peer, send requests, match responses.

use std::collections::VecDeque;
use std::io::Read;
use std::marker::PhantomData;
use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{self, Event, Negotiated, Proposal, ProposedContext};
use dimse_core::commitment::{self, CommitmentReport, CommitmentRequest};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::{
    CCancelRq, CEchoRq, CEchoRsp, CFindRq, CGetRq, CGetRsp, CMoveRq, CStoreRq, CStoreRsp,
    DimseMessage, Message, MessageIdAllocator, NActionRq, NActionRsp, NCreateRq, NCreateRsp,
    NDeleteRq, NDeleteRsp, NEventReportRq, NEventReportRsp, NGetRq, NGetRsp, NSetRq, NSetRsp,
    Priority, Status, SubOperations,
};
use dimse_core::query::QueryModel;
use dimse_core::{uid, Entity};

use crate::conn::Conn;
use crate::file::{Decompress, StoreFile};
use crate::runtime::Runtime;
use crate::tls::{ClientTls, Link};
use crate::wire::WireLog;
use crate::Error;

/// Storage classes whose instances are most often compressed, in the order C-GET proposes
/// compressed syntaxes for them when the 128-context limit cannot fit every class.
const COMPRESSED_FIRST: [&str; 11] = [
    "1.2.840.10008.5.1.4.1.1.2",    // CT
    "1.2.840.10008.5.1.4.1.1.4",    // MR
    "1.2.840.10008.5.1.4.1.1.7",    // Secondary Capture
    "1.2.840.10008.5.1.4.1.1.6.1",  // Ultrasound
    "1.2.840.10008.5.1.4.1.1.3.1",  // Ultrasound Multi-frame
    "1.2.840.10008.5.1.4.1.1.1",    // CR
    "1.2.840.10008.5.1.4.1.1.1.1",  // DX for presentation
    "1.2.840.10008.5.1.4.1.1.1.2",  // Mammography for presentation
    "1.2.840.10008.5.1.4.1.1.12.1", // XA
    "1.2.840.10008.5.1.4.1.1.20",   // NM
    "1.2.840.10008.5.1.4.1.1.128",  // PET
];

/// Most C-STOREs [`ScuAssociation::store_files`] keeps in flight, whatever window the peer
/// grants: enough to hide the round trip, few enough to bound the responses owed.
const MAX_IN_FLIGHT: usize = 64;

/// A data set to send: its first piece already read, the rest still in `rest`.
struct Source<R> {
    first: Bytes,
    rest: R,
    /// Bytes expected after `first` (a hint for buffer sizes).
    left: u64,
}

/// A file ready to go out: [`ScuAssociation::prepare_file`].
struct Prepared {
    ts: String,
    conversion: Conversion,
    source: Source<Box<dyn Read + Send>>,
}

/// The conversion made to send a file, if any.
type Conversion = Option<crate::file::Conversion>;

/// Largest data set accepted in a reply (a C-FIND identifier, an N-service reply).
const MAX_REPLY_DATA_SET: usize = 16 * 1024 * 1024;

/// A service class user on runtime `R`: our AE title and timeouts. Each adapter names it
/// for its runtime (`dimse_tokio::Scu`, `dimse_smol::Scu`; `dimse_std::Scu` wraps it in
/// blocking calls).
///
/// ```
/// use dimse_core::Entity;
/// use dimse_driver::Scu;
/// use dimse_std::{block_on, Blocking};
/// # let pacs = dimse_driver::example::Pacs;
/// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0")?.spawn()?;
///
/// let scu = Scu::<Blocking>::new("MY_SCU");
/// let pacs = Entity::new("PACS", "pacs.example", 104);
/// # let pacs = Entity::local("PACS", server.local_addr().port());
/// let status = block_on(scu.echo(&pacs))?;
/// assert!(status.is_success());
/// # server.stop();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Scu<R> {
    /// Our AE title.
    pub ae_title: String,
    /// How long to wait for the TCP connection.
    pub connect_timeout: Duration,
    /// Association tunables: ARTIM, ACSE timeout, limits, and the DIMSE timeout
    /// (`config.dimse_timeout`: how long to wait for each response, 60 s unless changed; a
    /// pending response restarts the wait; `config.dimse_total_timeout` bounds a whole
    /// request). The one place for each of them.
    pub config: assoc::Config,
    /// Largest P-DATA-TF we accept from the peer: what every proposal announces, and so
    /// what the association enforces.
    pub max_pdu: u32,
    /// TLS for every association this SCU opens; `None` is plain TCP.
    pub tls: Option<ClientTls>,
    /// User identity proposed with every association (PS3.7 D.3.3.7).
    pub user_identity: Option<assoc::UserIdentity>,
    /// Which compressed files to decompress for a peer that accepted none of their own
    /// syntax (propose the fallbacks with [`crate::store_contexts`] and the same policy).
    pub decompress: Decompress,
    /// Trace every PDU of the associations this SCU opens; `None` traces nothing.
    pub wire_log: Option<WireLog>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Clone for Scu<R> {
    fn clone(&self) -> Self {
        Scu {
            ae_title: self.ae_title.clone(),
            connect_timeout: self.connect_timeout,
            config: self.config.clone(),
            max_pdu: self.max_pdu,
            tls: self.tls.clone(),
            user_identity: self.user_identity.clone(),
            decompress: self.decompress,
            wire_log: self.wire_log.clone(),
            runtime: PhantomData,
        }
    }
}

impl<R> std::fmt::Debug for Scu<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scu")
            .field("ae_title", &self.ae_title)
            .field("connect_timeout", &self.connect_timeout)
            .field("dimse_timeout", &self.config.dimse_timeout)
            .field("max_pdu", &self.max_pdu)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Scu<R> {
    /// An SCU with AE title `ae_title` and default timeouts.
    pub fn new(ae_title: &str) -> Self {
        Scu {
            ae_title: ae_title.to_string(),
            connect_timeout: Duration::from_secs(10),
            config: assoc::Config {
                dimse_timeout: Some(Duration::from_secs(60)),
                ..assoc::Config::default()
            },
            max_pdu: assoc::DEFAULT_MAX_PDU,
            tls: None,
            user_identity: None,
            decompress: Decompress::default(),
            wire_log: None,
            runtime: PhantomData,
        }
    }

    /// A proposal from us to `peer` with `contexts`.
    pub fn proposal(&self, peer: &Entity, contexts: Vec<ProposedContext>) -> Proposal {
        let mut p = Proposal::new(&self.ae_title, &peer.ae_title);
        p.contexts = contexts;
        p.max_pdu = self.max_pdu;
        p.user_identity = self.user_identity.clone();
        p
    }

    /// Associate with `peer`, proposing `contexts`.
    pub async fn associate(
        &self,
        peer: &Entity,
        contexts: Vec<ProposedContext>,
    ) -> Result<ScuAssociation<R>, Error> {
        self.associate_with(peer, &self.proposal(peer, contexts))
            .await
    }

    /// Associate with `peer` using a complete proposal (user identity, async window, …).
    pub async fn associate_with(
        &self,
        peer: &Entity,
        proposal: &Proposal,
    ) -> Result<ScuAssociation<R>, Error> {
        let assoc = assoc::Association::requestor(proposal, self.config.clone(), Instant::now());
        let stream = self.connect(peer).await?;
        let mut conn = Conn::new(stream, assoc).traced(self.wire_log.as_ref(), true);
        conn.assoc.handle_connected(Instant::now())?;
        loop {
            match conn.next_event(None).await? {
                Some(Event::Established(negotiated)) => {
                    tracing::debug!(peer = %peer, "association established");
                    return Ok(ScuAssociation {
                        conn,
                        negotiated: *negotiated,
                        ids: MessageIdAllocator::new(),
                        abandoned: None,
                        decompress: self.decompress,
                    });
                }
                Some(Event::Rejected(rj)) => {
                    conn.finish().await;
                    return Err(Error::Rejected(rj));
                }
                Some(Event::Aborted(cause)) => {
                    conn.finish().await;
                    return Err(Error::Aborted(cause));
                }
                Some(_) => {}
                None => unreachable!("no application deadline was given"),
            }
        }
    }

    /// Contexts for a C-GET in `model`: the GET SOP class, plus each storage class to receive
    /// (by default the common ones) with SCP role selection. Every class gets one context
    /// offering the uncompressed syntaxes; `compressed` syntaxes each get a context of their
    /// own (an acceptor picks one syntax per context, and a peer that cannot decompress must
    /// find its instance's own syntax accepted), for as many classes as the 128-context limit
    /// leaves room for, in the order given.
    pub fn get_contexts(
        model: QueryModel,
        storage_classes: Option<&[&str]>,
        compressed: &[&str],
    ) -> Vec<ProposedContext> {
        const MAX_CONTEXTS: usize = 128;
        let mut contexts = Vec::new();
        if let Some(get) = model.get_sop_class() {
            contexts.push(ProposedContext::new(
                get,
                &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
            ));
        }
        let classes: Vec<&str> = match storage_classes {
            Some(list) => list.to_vec(),
            None => uid::common_storage_sop_classes().collect(),
        };
        let classes = &classes[..classes.len().min(MAX_CONTEXTS - contexts.len())];
        let as_scp = |abstract_syntax: &str, syntaxes: &[&str]| {
            let mut ctx = ProposedContext::new(abstract_syntax, syntaxes);
            ctx.roles = Some((false, true));
            ctx
        };
        let uncompressed = [
            uid::EXPLICIT_VR_LE,
            uid::IMPLICIT_VR_LE,
            uid::EXPLICIT_VR_BIG_ENDIAN,
            uid::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
        ];
        for class in classes {
            contexts.push(as_scp(class, &uncompressed));
        }
        // Compressed contexts go first to the classes most often held compressed.
        let mut by_priority: Vec<&str> = classes.to_vec();
        by_priority.sort_by_key(|c| {
            COMPRESSED_FIRST
                .iter()
                .position(|p| p == c)
                .unwrap_or(COMPRESSED_FIRST.len())
        });
        'fill: for class in by_priority {
            for ts in compressed {
                if contexts.len() == MAX_CONTEXTS {
                    break 'fill;
                }
                contexts.push(as_scp(class, &[ts]));
            }
        }
        contexts
    }

    /// Associate, send one C-ECHO, release. Returns the C-ECHO status.
    pub async fn echo(&self, peer: &Entity) -> Result<Status, Error> {
        let ctx = ProposedContext::new(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]);
        let mut assoc = self.associate(peer, vec![ctx]).await?;
        let status = assoc.echo().await?;
        assoc.release().await?;
        Ok(status)
    }
}

impl<R: Runtime> Scu<R> {
    /// A connection to `peer`, TLS included, within the connect timeout.
    async fn connect(&self, peer: &Entity) -> Result<Link<R::Stream>, Error> {
        let deadline = Instant::now() + self.connect_timeout;
        let stream = connect::<R>(peer, self.connect_timeout).await?;
        match &self.tls {
            None => Ok(Link::Plain(stream)),
            Some(tls) => match tls.connect(&peer.host, stream, deadline).await {
                Ok(stream) => Ok(Link::Tls(Box::new(stream))),
                Err(source) => Err(Error::Io {
                    context: "TLS handshake with peer",
                    source,
                }),
            },
        }
    }
}

/// The error for an association that ended while we waited for `expected`: a DIMSE timeout
/// (the core aborted) is reported as such.
fn aborted(cause: assoc::AbortCause, expected: &'static str) -> Error {
    match cause {
        assoc::AbortCause::DimseTimeout { .. } => Error::Timeout {
            waiting_for: expected,
        },
        cause => Error::Aborted(cause),
    }
}

async fn connect<R: Runtime>(peer: &Entity, timeout: Duration) -> Result<R::Stream, Error> {
    let addrs = peer
        .address()
        .to_socket_addrs()
        .map_err(|source| Error::Io {
            context: "resolving peer address",
            source,
        })?;
    let mut last = None;
    for addr in addrs {
        match R::connect(addr, timeout).await {
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
pub struct ScuAssociation<R: Runtime> {
    conn: Conn<Link<R::Stream>>,
    negotiated: Negotiated,
    ids: MessageIdAllocator,
    /// A C-FIND whose results were dropped before its final response: cancelled and drained
    /// before the next request, so the association stays usable.
    abandoned: Option<FindState>,
    decompress: Decompress,
}

impl<R: Runtime> std::fmt::Debug for ScuAssociation<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScuAssociation")
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> ScuAssociation<R> {
    /// What was negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Finish a C-FIND whose results were dropped early (cancel, read to its end), so the
    /// next request starts on a quiet association.
    async fn settle(&mut self) -> Result<(), Error> {
        if let Some(state) = self.abandoned.take() {
            let mut results = FindResults { assoc: self, state };
            results.drain().await;
            let failed = results.state.failed;
            drop(results);
            if failed {
                return Err(Error::Closed);
            }
        }
        Ok(())
    }

    /// Send a C-ECHO and return its status.
    pub async fn echo(&mut self) -> Result<Status, Error> {
        self.settle().await?;
        let ctx = self
            .negotiated
            .find_context(uid::VERIFICATION, |_| true)
            .map(|c| c.id)
            .ok_or_else(|| Error::NoContext {
                sop_class: uid::VERIFICATION.to_string(),
                transfer_syntax: None,
            })?;
        let rq = CEchoRq::new(self.ids.next());
        self.conn.assoc.send_message(Instant::now(), ctx, &rq)?;
        let rsp: CEchoRsp = self.response("C-ECHO-RSP").await?;
        Ok(rsp.status)
    }

    /// Send a C-STORE of the data set read from `data`, encoded in `transfer_syntax`, and
    /// return the response. The data set streams: memory stays at a few PDUs whatever its size.
    pub async fn store(
        &mut self,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        transfer_syntax: &str,
        data: impl Read + Send,
    ) -> Result<CStoreRsp, Error> {
        self.send_store(sop_class_uid, sop_instance_uid, transfer_syntax, data, None)
            .await
    }

    /// Send a Part 10 file as a C-STORE sub-operation of a C-MOVE, naming the AE title that
    /// issued the C-MOVE and its message ID (PS3.7 9.1.1: Move Originator). Converts like
    /// [`Self::store_file_converting`].
    pub async fn store_for_move(
        &mut self,
        file: &StoreFile,
        originator_ae: &str,
        originator_message_id: u16,
    ) -> Result<StoreOutcome, Error> {
        self.send_file(file, Some((originator_ae, originator_message_id)))
            .await
    }

    /// Send a Part 10 file in its own transfer syntax when the peer accepted that, else
    /// converted to an accepted uncompressed syntax ([`crate::file::FALLBACKS`], proposed by
    /// [`crate::store_contexts`]); a compressed file whose syntax was not accepted fails with
    /// [`Error::NoContext`].
    pub async fn store_file_converting(&mut self, file: &StoreFile) -> Result<StoreOutcome, Error> {
        self.send_file(file, None).await
    }

    async fn send_file(
        &mut self,
        file: &StoreFile,
        originator: Option<(&str, u16)>,
    ) -> Result<StoreOutcome, Error> {
        let (_, converted) = self.begin_file(file, originator).await?;
        let response = self.response("C-STORE-RSP").await?;
        Ok(StoreOutcome {
            response,
            conversion: converted,
        })
    }

    /// Send `file`'s C-STORE-RQ and data set, converted when the peer needs that; returns the
    /// request's message ID and the conversion made. The response is the caller's to await.
    async fn begin_file(
        &mut self,
        file: &StoreFile,
        originator: Option<(&str, u16)>,
    ) -> Result<(u16, Conversion), Error> {
        let prepared = self.prepare_file(file)?;
        self.begin_prepared(file, prepared, originator).await
    }

    /// Everything about sending `file` that needs no network: the syntax to send it in, and
    /// its first piece read (converted if need be). [`Self::store_files`] does this while the
    /// peer works on the requests in flight.
    fn prepare_file(&self, file: &StoreFile) -> Result<Prepared, Error> {
        let negotiated = &self.negotiated;
        let accepted = |ts: &str| {
            negotiated
                .find_context(&file.sop_class_uid, |t| t == ts)
                .is_some()
        };
        let Some((ts, conversion)) = crate::file::plan(file, accepted, self.decompress) else {
            return Err(Error::NoContext {
                sop_class: file.sop_class_uid.clone(),
                transfer_syntax: Some(file.transfer_syntax_uid.clone()),
            });
        };
        let source: Source<Box<dyn Read + Send>> = match conversion {
            None => {
                let file_err = |e| Error::File(crate::StoreFileError::Io(file.path.clone(), e));
                let mut reader = file.data_reader().map_err(Error::File)?;
                let (first, left) = crate::conn::first_chunk(
                    &mut reader,
                    Some(file.data_len),
                    self.conn.send_chunk(),
                )
                .map_err(|e| match e {
                    Error::Io { source, .. } => file_err(source),
                    other => other,
                })?;
                Source {
                    first,
                    rest: Box::new(reader),
                    left,
                }
            }
            // Sent whole as its first piece.
            Some(conversion) => Source {
                first: file.converted(conversion).map_err(Error::File)?,
                rest: Box::new(std::io::empty()),
                left: 0,
            },
        };
        let ts = ts.uid.to_string();
        Ok(Prepared {
            ts,
            conversion,
            source,
        })
    }

    async fn begin_prepared(
        &mut self,
        file: &StoreFile,
        prepared: Prepared,
        originator: Option<(&str, u16)>,
    ) -> Result<(u16, Conversion), Error> {
        let message_id = self
            .begin_store_from(
                &file.sop_class_uid,
                &file.sop_instance_uid,
                &prepared.ts,
                prepared.source,
                originator,
            )
            .await?;
        Ok((message_id, prepared.conversion))
    }

    async fn send_store(
        &mut self,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        transfer_syntax: &str,
        data: impl Read + Send,
        originator: Option<(&str, u16)>,
    ) -> Result<CStoreRsp, Error> {
        self.begin_store(
            sop_class_uid,
            sop_instance_uid,
            transfer_syntax,
            data,
            None,
            originator,
        )
        .await?;
        self.response("C-STORE-RSP").await
    }

    /// Send a C-STORE-RQ and its data set (`size` bytes, when known); returns the request's
    /// message ID.
    async fn begin_store(
        &mut self,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        transfer_syntax: &str,
        mut data: impl Read + Send,
        size: Option<u64>,
        originator: Option<(&str, u16)>,
    ) -> Result<u16, Error> {
        let (first, left) = crate::conn::first_chunk(&mut data, size, self.conn.send_chunk())?;
        let source = Source {
            first,
            rest: data,
            left,
        };
        self.begin_store_from(
            sop_class_uid,
            sop_instance_uid,
            transfer_syntax,
            source,
            originator,
        )
        .await
    }

    /// [`Self::begin_store`] with the first piece of the data set already read.
    async fn begin_store_from(
        &mut self,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        transfer_syntax: &str,
        source: Source<impl Read + Send>,
        originator: Option<(&str, u16)>,
    ) -> Result<u16, Error> {
        self.settle().await?;
        let ctx = self
            .negotiated
            .find_context(sop_class_uid, |ts| ts == transfer_syntax)
            .map(|c| c.id)
            .ok_or_else(|| Error::NoContext {
                sop_class: sop_class_uid.to_string(),
                transfer_syntax: Some(transfer_syntax.to_string()),
            })?;
        let mut rq = CStoreRq::new(
            self.ids.next(),
            sop_class_uid,
            sop_instance_uid,
            Priority::Medium,
        );
        if let Some((ae, id)) = originator {
            rq.move_originator_ae_title = Some(ae.to_string());
            rq.move_originator_message_id = Some(id);
        }
        self.conn.assoc.send_message(Instant::now(), ctx, &rq)?;
        let sent = self
            .conn
            .stream_chunks(ctx, source.first, source.rest, source.left)
            .await;
        if let Err(e) = sent {
            // The peer is owed the rest of a data set we cannot produce: only an abort ends that.
            self.conn.abort().await;
            return Err(e);
        }
        Ok(rq.message_id)
    }

    /// Send Part 10 files as C-STOREs (converting like [`Self::store_file_converting`]),
    /// keeping as many in flight as the peer's asynchronous operations window allows (up to
    /// 64; one at a time when it granted none).
    ///
    /// `done` sees each file once (by its index in `files`), as its response arrives: the
    /// outcome, or why it failed. A
    /// file that cannot be sent (no context for it, unreadable) fails alone. When the
    /// association fails, the files in flight get [`Error::Unanswered`] and the call returns
    /// the error; files `done` never saw were not sent.
    pub async fn store_files(
        &mut self,
        files: &[StoreFile],
        mut done: impl FnMut(usize, Result<StoreOutcome, Error>) + Send,
    ) -> Result<(), Error> {
        let window = match self.negotiated.async_window.0 {
            0 => MAX_IN_FLIGHT,
            n => usize::from(n).min(MAX_IN_FLIGHT),
        };
        let mut in_flight: VecDeque<(usize, u16, Conversion)> = VecDeque::new();
        let result = async {
            for (i, file) in files.iter().enumerate() {
                let mut prepared = None;
                while in_flight.len() >= window {
                    // Read the next file while the peer works on the ones in flight.
                    if prepared.is_none() {
                        prepared = Some(self.prepare_file(file));
                    }
                    self.complete_store(&mut in_flight, &mut done).await?;
                }
                let sent = match prepared.unwrap_or_else(|| self.prepare_file(file)) {
                    Ok(prepared) => self.begin_prepared(file, prepared, None).await,
                    Err(e) => Err(e),
                };
                match sent {
                    Ok((id, conversion)) => in_flight.push_back((i, id, conversion)),
                    Err(e @ (Error::NoContext { .. } | Error::File(_))) => done(i, Err(e)),
                    Err(e) => {
                        // The association failed while this file was going out.
                        done(i, Err(Error::Unanswered));
                        return Err(e);
                    }
                }
            }
            while !in_flight.is_empty() {
                self.complete_store(&mut in_flight, &mut done).await?;
            }
            Ok(())
        }
        .await;
        for (i, _, _) in in_flight {
            done(i, Err(Error::Unanswered));
        }
        result
    }

    /// Await the next C-STORE-RSP and report it for the request in flight it answers.
    async fn complete_store(
        &mut self,
        in_flight: &mut VecDeque<(usize, u16, Conversion)>,
        done: &mut (impl FnMut(usize, Result<StoreOutcome, Error>) + Send),
    ) -> Result<(), Error> {
        let (message, _) = self.receive("C-STORE-RSP").await?;
        let Message::CStoreRsp(response) = message else {
            return Err(Error::UnexpectedMessage {
                expected: "C-STORE-RSP",
                got: message.name().to_string(),
            });
        };
        let answered = response.message_id_being_responded_to;
        let Some(at) = in_flight.iter().position(|(_, id, _)| *id == answered) else {
            return Err(Error::UnexpectedMessage {
                expected: "a C-STORE-RSP to a request in flight",
                got: format!("a response to message {answered}"),
            });
        };
        let (i, _, converted) = in_flight.remove(at).expect("found");
        done(
            i,
            Ok(StoreOutcome {
                response,
                conversion: converted,
            }),
        );
        Ok(())
    }

    /// Send a Part 10 file prepared with [`StoreFile::open`].
    pub async fn store_file(&mut self, file: &StoreFile) -> Result<CStoreRsp, Error> {
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
        .await
    }

    /// The response to our request in flight: the core has matched it to the request by
    /// Message ID, presentation context and type, so only a request of the peer's (an
    /// N-EVENT-REPORT, say) can come instead.
    async fn response<T: TryFrom<Message, Error = Message>>(
        &mut self,
        expected: &'static str,
    ) -> Result<T, Error> {
        let (message, _) = self.receive(expected).await?;
        T::try_from(message).map_err(|other| Error::UnexpectedMessage {
            expected,
            got: other.name().to_string(),
        })
    }

    /// The next message from the peer with its data set, if it has one, within the DIMSE
    /// timeout. Identifiers and replies are small: they are gathered whole, up to a bound.
    async fn receive(&mut self, expected: &'static str) -> Result<(Message, Option<Bytes>), Error> {
        let mut message: Option<Message> = None;
        let mut data = BytesMut::new();
        loop {
            match self.conn.next_event(None).await? {
                None => unreachable!("the core runs the DIMSE timer"),
                Some(Event::Message { message: m, .. }) => {
                    if !m.has_data_set() {
                        return Ok((m, None));
                    }
                    message = Some(m);
                }
                Some(Event::Data {
                    data: piece, last, ..
                }) => {
                    if data.len() + piece.len() > MAX_REPLY_DATA_SET {
                        self.conn.abort().await;
                        return Err(Error::UnexpectedMessage {
                            expected,
                            got: format!("a data set over {MAX_REPLY_DATA_SET} bytes"),
                        });
                    }
                    data.extend_from_slice(&piece);
                    if last {
                        let m = message
                            .take()
                            .expect("the core sends data only after a command");
                        return Ok((m, Some(data.freeze())));
                    }
                }
                Some(Event::Aborted(cause)) => {
                    self.conn.finish().await;
                    return Err(aborted(cause, expected));
                }
                Some(Event::ReleaseRequested) => {
                    let _ = self.conn.assoc.respond_release(Instant::now());
                    self.conn.finish().await;
                    return Err(Error::Closed);
                }
                Some(other) => {
                    return Err(Error::UnexpectedMessage {
                        expected,
                        got: format!("{other:?}"),
                    })
                }
            }
        }
    }

    /// Send a C-FIND with `identifier` in `model`; the matches arrive through the returned
    /// iterator as the peer sends them. Dropping it before the end sends a C-CANCEL and
    /// drains the remaining responses, so the association stays usable.
    pub async fn find(
        &mut self,
        model: QueryModel,
        identifier: &DataSet,
    ) -> Result<FindResults<'_, R>, Error> {
        self.settle().await?;
        let sop_class = model.find_sop_class();
        let (ctx, ts) = self
            .negotiated
            .find_context(sop_class, |ts| uid::transfer_syntax(ts).is_some())
            .and_then(|c| Some((c.id, uid::transfer_syntax(&c.transfer_syntax)?)))
            .ok_or_else(|| Error::NoContext {
                sop_class: sop_class.to_string(),
                transfer_syntax: None,
            })?;
        let mut encoded = BytesMut::new();
        identifier.encode(ts, &mut encoded);
        let rq = CFindRq::new(self.ids.next(), sop_class, Priority::Medium);
        let now = Instant::now();
        self.conn.assoc.send_message(now, ctx, &rq)?;
        self.conn
            .assoc
            .send_data(now, ctx, encoded.freeze(), true)?;
        self.conn.flush().await?;
        Ok(FindResults {
            assoc: self,
            state: FindState {
                context_id: ctx,
                transfer_syntax: ts,
                message_id: rq.message_id,
                status: None,
                cancelled: false,
                failed: false,
            },
        })
    }

    /// Send a C-MOVE asking the peer to send the instances `identifier` selects to the AE
    /// `destination` (which the peer must know). `progress` sees every pending response's
    /// counters; returning `false` from it sends a C-CANCEL.
    pub async fn move_to(
        &mut self,
        model: QueryModel,
        identifier: &DataSet,
        destination: &str,
        mut progress: impl FnMut(&SubOperations) -> bool + Send,
    ) -> Result<RetrieveOutcome, Error> {
        self.settle().await?;
        let sop_class = model.move_sop_class().ok_or_else(|| Error::NoContext {
            sop_class: model.find_sop_class().to_string(),
            transfer_syntax: None,
        })?;
        let (ctx, ts) = self.request_context(sop_class)?;
        let rq = CMoveRq::new(self.ids.next(), sop_class, destination, Priority::Medium);
        self.send_with_identifier(ctx, ts, &rq, identifier).await?;
        let mut cancelled = false;
        loop {
            let (message, data) = self.receive("C-MOVE-RSP").await?;
            let Message::CMoveRsp(rsp) = message else {
                return Err(Error::UnexpectedMessage {
                    expected: "C-MOVE-RSP",
                    got: message.name().to_string(),
                });
            };
            if rsp.status.is_pending() {
                if !progress(&rsp.sub_operations) && !cancelled {
                    cancelled = true;
                    self.send_cancel(ctx, rq.message_id).await?;
                }
                continue;
            }
            return Ok(outcome(rsp.status, rsp.sub_operations, data, ts));
        }
    }

    /// Send a C-GET: the peer sends the instances `identifier` selects back over this
    /// association as C-STORE sub-operations, which `handler` receives (a
    /// [`crate::DirectoryStore`] writes them to a directory). The association must have been
    /// proposed with SCP role selection for the storage classes expected (see
    /// [`Scu::get_contexts`]). `progress` sees every pending response's counters; returning
    /// `false` sends a C-CANCEL.
    pub async fn get(
        &mut self,
        model: QueryModel,
        identifier: &DataSet,
        handler: &(impl crate::AsyncHandler + ?Sized),
        mut progress: impl FnMut(&SubOperations) -> bool + Send,
    ) -> Result<RetrieveOutcome, Error> {
        self.settle().await?;
        let sop_class = model.get_sop_class().ok_or_else(|| Error::NoContext {
            sop_class: model.find_sop_class().to_string(),
            transfer_syntax: None,
        })?;
        let (ctx, ts) = self.request_context(sop_class)?;
        let rq = CGetRq::new(self.ids.next(), sop_class, Priority::Medium);
        self.send_with_identifier(ctx, ts, &rq, identifier).await?;
        let peer = crate::Peer {
            calling_ae: self.negotiated.calling_ae.clone(),
            called_ae: self.negotiated.called_ae.clone(),
            address: None,
        };
        let mut cancelled = false;
        let mut storing: Option<SubStore> = None;
        let mut reply = BytesMut::new();
        let mut reply_to: Option<CGetRsp> = None;
        loop {
            let event = match self.conn.next_event(None).await? {
                Some(e) => e,
                None => unreachable!("the core runs the DIMSE timer"),
            };
            match event {
                Event::Message {
                    context_id,
                    message,
                } => match message {
                    Message::CStoreRq(store) => {
                        let transfer_syntax = self
                            .negotiated
                            .context(context_id)
                            .map(|c| c.transfer_syntax.clone())
                            .unwrap_or_default();
                        let request = crate::StoreRequest {
                            request: store.clone(),
                            transfer_syntax,
                        };
                        let sink = handler.store(&peer, &request).await;
                        storing = Some((context_id, store, sink));
                    }
                    Message::CGetRsp(rsp) if rsp.status.is_pending() => {
                        if !progress(&rsp.sub_operations) && !cancelled {
                            cancelled = true;
                            self.send_cancel(ctx, rq.message_id).await?;
                        }
                    }
                    Message::CGetRsp(rsp) if rsp.has_data_set => reply_to = Some(rsp),
                    Message::CGetRsp(rsp) => {
                        return Ok(outcome(rsp.status, rsp.sub_operations, None, ts))
                    }
                    other => {
                        return Err(Error::UnexpectedMessage {
                            expected: "C-GET-RSP or C-STORE-RQ",
                            got: other.name().to_string(),
                        })
                    }
                },
                Event::Data { data, last, .. } => {
                    if let Some(rsp) = reply_to.take() {
                        reply.extend_from_slice(&data);
                        if last {
                            let data = Some(reply.split().freeze());
                            return Ok(outcome(rsp.status, rsp.sub_operations, data, ts));
                        }
                        reply_to = Some(rsp);
                        continue;
                    }
                    let Some((_, _, sink)) = storing.as_mut() else {
                        continue;
                    };
                    if let Ok(s) = sink {
                        if s.write(&data).is_err() {
                            if let Ok(s) = std::mem::replace(sink, Err(Status::OUT_OF_RESOURCES)) {
                                s.discard();
                            }
                        }
                    }
                    if last {
                        let (context_id, store, sink) = storing.take().expect("checked");
                        let status = match sink {
                            Ok(s) => s.finish(),
                            Err(status) => status,
                        };
                        let rsp = CStoreRsp::for_request(&store, status);
                        self.conn
                            .assoc
                            .send_message(Instant::now(), context_id, &rsp)?;
                        self.conn.flush().await?;
                    }
                }
                Event::Aborted(cause) => {
                    if let Some((_, _, Ok(s))) = storing.take() {
                        s.discard();
                    }
                    self.conn.finish().await;
                    return Err(aborted(cause, "C-GET-RSP"));
                }
                other => {
                    return Err(Error::UnexpectedMessage {
                        expected: "C-GET-RSP or C-STORE-RQ",
                        got: format!("{other:?}"),
                    })
                }
            }
        }
    }

    fn request_context(
        &self,
        sop_class: &str,
    ) -> Result<(u8, &'static dimse_core::uid::TransferSyntax), Error> {
        self.negotiated
            .find_context(sop_class, |ts| uid::transfer_syntax(ts).is_some())
            .and_then(|c| Some((c.id, uid::transfer_syntax(&c.transfer_syntax)?)))
            .ok_or_else(|| Error::NoContext {
                sop_class: sop_class.to_string(),
                transfer_syntax: None,
            })
    }

    async fn send_with_identifier(
        &mut self,
        ctx: u8,
        ts: &dimse_core::uid::TransferSyntax,
        request: &impl DimseMessage,
        identifier: &DataSet,
    ) -> Result<(), Error> {
        let mut encoded = BytesMut::new();
        identifier.encode(ts, &mut encoded);
        let now = Instant::now();
        self.conn.assoc.send_message(now, ctx, request)?;
        self.conn
            .assoc
            .send_data(now, ctx, encoded.freeze(), true)?;
        self.conn.flush().await
    }

    async fn send_cancel(&mut self, ctx: u8, message_id: u16) -> Result<(), Error> {
        let cancel = CCancelRq::new(message_id);
        self.conn.assoc.send_message(Instant::now(), ctx, &cancel)?;
        self.conn.flush().await
    }

    /// Ask the peer to commit `request`'s instances (Storage Commitment Push Model N-ACTION).
    /// Returns the N-ACTION response status; the outcome comes later as an N-EVENT-REPORT,
    /// on this association ([`Self::wait_commitment_report`]) or on one the peer opens (a
    /// [`crate::Handler::event_report`] of our own SCP).
    pub async fn request_commitment(
        &mut self,
        request: &CommitmentRequest,
    ) -> Result<Status, Error> {
        self.settle().await?;
        let class = uid::STORAGE_COMMITMENT_PUSH_MODEL;
        let (ctx, ts) = self.request_context(class)?;
        let info = request
            .to_data_set()
            .map_err(|e| Error::InvalidIdentifier(e.to_string()))?;
        let rq = NActionRq::new(
            self.ids.next(),
            class,
            uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
            commitment::ACTION_REQUEST,
            true,
        );
        self.send_with_identifier(ctx, ts, &rq, &info).await?;
        let (message, _) = self.receive("N-ACTION-RSP").await?;
        match message {
            Message::NActionRsp(rsp) => Ok(rsp.status),
            other => Err(Error::UnexpectedMessage {
                expected: "N-ACTION-RSP",
                got: other.name().to_string(),
            }),
        }
    }

    /// Wait (up to the DIMSE timeout) for the Storage Commitment N-EVENT-REPORT on this
    /// association, answer it, and return the report.
    pub async fn wait_commitment_report(&mut self) -> Result<CommitmentReport, Error> {
        self.settle().await?;
        let (message, data) = self.receive("N-EVENT-REPORT-RQ").await?;
        let Message::NEventReportRq(rq) = message else {
            return Err(Error::UnexpectedMessage {
                expected: "N-EVENT-REPORT-RQ",
                got: message.name().to_string(),
            });
        };
        let ctx = self
            .negotiated
            .find_context(&rq.affected_sop_class_uid, |_| true)
            .map(|c| (c.id, uid::transfer_syntax(&c.transfer_syntax)));
        let report = match (ctx, data) {
            (Some((_, Some(ts))), Some(bytes)) => DataSet::decode(bytes, ts)
                .ok()
                .and_then(|ds| CommitmentReport::from_data_set(&ds)),
            _ => None,
        };
        let status = if report.is_some() {
            Status::SUCCESS
        } else {
            Status::PROCESSING_FAILURE
        };
        if let Some((id, _)) = ctx {
            let rsp = NEventReportRsp::for_request(&rq, status);
            self.conn.assoc.send_message(Instant::now(), id, &rsp)?;
            self.conn.flush().await?;
        }
        report.ok_or_else(|| Error::UnexpectedMessage {
            expected: "a Storage Commitment report",
            got: "an N-EVENT-REPORT without one".to_string(),
        })
    }

    /// N-GET: the attributes `attributes` (empty = all) of a
    /// managed SOP instance.
    pub async fn n_get(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
        attributes: &[Tag],
    ) -> Result<(NGetRsp, Option<DataSet>), Error> {
        let mut rq = NGetRq::new(self.ids.next(), sop_class, sop_instance);
        rq.attribute_identifier_list = attributes.to_vec();
        self.n_request(sop_class, &rq, None, "N-GET-RSP").await
    }

    /// N-SET: apply `modifications` to a managed SOP instance.
    pub async fn n_set(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
        modifications: &DataSet,
    ) -> Result<(NSetRsp, Option<DataSet>), Error> {
        let rq = NSetRq::new(self.ids.next(), sop_class, sop_instance);
        self.n_request(sop_class, &rq, Some(modifications), "N-SET-RSP")
            .await
    }

    /// N-ACTION: ask a managed SOP instance to perform `action_type`.
    pub async fn n_action(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
        action_type: u16,
        info: Option<&DataSet>,
    ) -> Result<(NActionRsp, Option<DataSet>), Error> {
        let rq = NActionRq::new(
            self.ids.next(),
            sop_class,
            sop_instance,
            action_type,
            info.is_some(),
        );
        self.n_request(sop_class, &rq, info, "N-ACTION-RSP").await
    }

    /// N-CREATE: create a managed SOP instance (the SCP assigns the UID when `sop_instance`
    /// is `None`; the response's Affected SOP Instance UID names it).
    pub async fn n_create(
        &mut self,
        sop_class: &str,
        sop_instance: Option<&str>,
        attributes: Option<&DataSet>,
    ) -> Result<(NCreateRsp, Option<DataSet>), Error> {
        let rq = NCreateRq::new(
            self.ids.next(),
            sop_class,
            sop_instance,
            attributes.is_some(),
        );
        self.n_request(sop_class, &rq, attributes, "N-CREATE-RSP")
            .await
    }

    /// N-DELETE: delete a managed SOP instance.
    pub async fn n_delete(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
    ) -> Result<NDeleteRsp, Error> {
        let rq = NDeleteRq::new(self.ids.next(), sop_class, sop_instance);
        self.n_request(sop_class, &rq, None, "N-DELETE-RSP")
            .await
            .map(|(rsp, _)| rsp)
    }

    /// N-EVENT-REPORT: report `event_type` of a managed SOP instance to the peer.
    pub async fn n_event_report(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
        event_type: u16,
        info: Option<&DataSet>,
    ) -> Result<(NEventReportRsp, Option<DataSet>), Error> {
        let rq = NEventReportRq::new(
            self.ids.next(),
            sop_class,
            sop_instance,
            event_type,
            info.is_some(),
        );
        self.n_request(sop_class, &rq, info, "N-EVENT-REPORT-RSP")
            .await
    }

    /// Send an N-service request and read its typed response and data set.
    async fn n_request<M: TryFrom<Message, Error = Message>>(
        &mut self,
        sop_class: &str,
        request: &impl DimseMessage,
        data: Option<&DataSet>,
        expected: &'static str,
    ) -> Result<(M, Option<DataSet>), Error> {
        self.settle().await?;
        let (ctx, ts) = self.request_context(sop_class)?;
        match data {
            Some(ds) => self.send_with_identifier(ctx, ts, request, ds).await?,
            None => {
                self.conn.assoc.send_message(Instant::now(), ctx, request)?;
                self.conn.flush().await?;
            }
        }
        let (message, bytes) = self.receive(expected).await?;
        let rsp = M::try_from(message).map_err(|other| Error::UnexpectedMessage {
            expected,
            got: other.name().to_string(),
        })?;
        let data = match bytes {
            Some(b) => Some(
                DataSet::decode(b, ts).map_err(|e| Error::UnexpectedMessage {
                    expected,
                    got: format!("an undecodable data set ({e})"),
                })?,
            ),
            None => None,
        };
        Ok((rsp, data))
    }

    /// Release the association and wait for the peer's reply; if the peer has asked to
    /// release already, answer it instead.
    pub async fn release(mut self) -> Result<(), Error> {
        self.settle().await?;
        if self.conn.assoc.state() == assoc::fsm::State::Sta8 {
            // The peer asked first (PS3.8 AR-2, e.g. right after its last response): our
            // release is the answer (AR-4), and the peer, as initiator, closes.
            self.conn.assoc.respond_release(Instant::now())?;
            self.conn.finish().await;
            return Ok(());
        }
        self.conn.assoc.release(Instant::now())?;
        loop {
            match self.conn.next_event(None).await {
                Ok(Some(Event::Released)) => {
                    self.conn.finish().await;
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
    pub async fn abort(mut self) {
        self.conn.abort().await;
    }
}

/// How a file was sent: the peer's response, and the conversion made on the way, if any.
#[derive(Debug, Clone)]
pub struct StoreOutcome {
    /// The C-STORE response.
    pub response: CStoreRsp,
    /// What was done to the data set so the peer could take it; `None` when it went as
    /// it is in the file.
    pub conversion: Option<crate::file::Conversion>,
}

/// How a C-MOVE or C-GET ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveOutcome {
    /// The final status (success, warning 0xB000, cancel 0xFE00 or a failure).
    pub status: Status,
    /// The final sub-operation counters, as the peer reported them.
    pub sub_operations: SubOperations,
    /// Failed SOP Instance UID List (0008,0058) of the final response, if any.
    pub failed_sop_instances: Vec<String>,
}

/// The matches of a C-FIND as they arrive (pending responses), then the final status.
///
/// A final failure status is yielded once as `Err(Error::Status(..))`. Dropping the results
/// before the end is allowed: the association sends a C-CANCEL and reads up to the final
/// response before its next request (or call [`FindResults::close`] to do it now).
pub struct FindResults<'a, R: Runtime> {
    assoc: &'a mut ScuAssociation<R>,
    state: FindState,
}

/// Where a C-FIND stands; kept by the association when its results are dropped early.
#[derive(Debug, Clone)]
struct FindState {
    context_id: u8,
    transfer_syntax: &'static dimse_core::uid::TransferSyntax,
    message_id: u16,
    status: Option<Status>,
    cancelled: bool,
    failed: bool,
}

impl FindState {
    fn is_over(&self) -> bool {
        self.status.is_some() || self.failed
    }
}

impl<R: Runtime> FindResults<'_, R> {
    /// The final status, once the last response arrived.
    pub fn status(&self) -> Option<Status> {
        self.state.status
    }

    /// Ask the peer to stop (C-CANCEL); the results then end with its final response
    /// (0xFE00 Cancel, or success if it had already finished).
    pub async fn cancel(&mut self) -> Result<(), Error> {
        if self.state.cancelled || self.state.status.is_some() {
            return Ok(());
        }
        self.state.cancelled = true;
        let cancel = CCancelRq::new(self.state.message_id);
        self.assoc
            .conn
            .assoc
            .send_message(Instant::now(), self.state.context_id, &cancel)?;
        self.assoc.conn.flush().await
    }

    /// The next match, `None` after the final response.
    pub async fn next(&mut self) -> Option<Result<DataSet, Error>> {
        loop {
            if self.state.failed {
                return None;
            }
            if let Some(status) = self.state.status {
                if status.is_failure() && !std::mem::replace(&mut self.state.failed, true) {
                    return Some(Err(Error::Status(status)));
                }
                return None;
            }
            match self.next_match().await {
                Ok(Some(ds)) => return Some(Ok(ds)),
                Ok(None) => {}
                Err(e) => {
                    self.state.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// Every remaining match.
    pub async fn collect(mut self) -> Result<Vec<DataSet>, Error> {
        let mut all = Vec::new();
        while let Some(m) = self.next().await {
            all.push(m?);
        }
        Ok(all)
    }

    /// Stop early: cancel and read up to the final response, leaving the association ready.
    pub async fn close(mut self) {
        self.drain().await;
    }

    async fn drain(&mut self) {
        if self.state.is_over() {
            return;
        }
        if self.cancel().await.is_err() {
            self.state.failed = true;
            return;
        }
        while self.state.status.is_none() {
            if self.next_match().await.is_err() {
                self.state.failed = true;
                break;
            }
        }
    }

    async fn next_match(&mut self) -> Result<Option<DataSet>, Error> {
        loop {
            let (message, data) = self.assoc.receive("C-FIND-RSP").await?;
            let Message::CFindRsp(rsp) = message else {
                return Err(Error::UnexpectedMessage {
                    expected: "C-FIND-RSP",
                    got: message.name().to_string(),
                });
            };
            if !rsp.status.is_pending() {
                self.state.status = Some(rsp.status);
                return Ok(None);
            }
            // A pending response without an identifier carries nothing to report.
            if let Some(bytes) = data {
                let ds = DataSet::decode(bytes, self.state.transfer_syntax).map_err(|e| {
                    Error::UnexpectedMessage {
                        expected: "a C-FIND identifier",
                        got: format!("an undecodable data set ({e})"),
                    }
                })?;
                return Ok(Some(ds));
            }
        }
    }
}

impl<R: Runtime> Drop for FindResults<'_, R> {
    fn drop(&mut self) {
        if !self.state.is_over() {
            self.assoc.abandoned = Some(self.state.clone());
        }
    }
}

/// A C-STORE sub-operation of a C-GET being received: its context, request and sink (or the
/// status it is refused with).
type SubStore = (u8, CStoreRq, Result<Box<dyn crate::StoreSink>, Status>);

fn outcome(
    status: Status,
    sub_operations: SubOperations,
    data: Option<Bytes>,
    ts: &dimse_core::uid::TransferSyntax,
) -> RetrieveOutcome {
    let failed_sop_instances = data
        .and_then(|d| DataSet::decode(d, ts).ok())
        .and_then(|ds| {
            ds.get_strs(FAILED_SOP_INSTANCE_UID_LIST)
                .and_then(Result::ok)
        })
        .unwrap_or_default();
    RetrieveOutcome {
        status,
        sub_operations,
        failed_sop_instances,
    }
}

/// Failed SOP Instance UID List (0008,0058), in C-MOVE/C-GET final responses.
const FAILED_SOP_INSTANCE_UID_LIST: dimse_core::dataset::Tag =
    dimse_core::dataset::Tag(0x0008, 0x0058);
