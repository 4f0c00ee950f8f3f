//! The service class provider: negotiate, dispatch requests to a handler, carry out C-FIND, C-MOVE
//! and C-GET for it. Accepting connections is the adapters' part ([`Scp::serve`] takes one).

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{self, AcceptorPolicy, Event, Negotiated};
use dimse_core::commitment::{self, CommitmentReport, CommitmentRequest};
use dimse_core::dataset::DataSet;
use dimse_core::dataset::Tag;
use dimse_core::dimse::{
    tags, CEchoRsp, CFindRq, CFindRsp, CGetRq, CGetRsp, CMoveRq, CMoveRsp, CStoreRq, CStoreRsp,
    CommandSet, DimseMessage, Message, NActionRq, NActionRsp, NCreateRsp, NDeleteRsp,
    NEventReportRq, NEventReportRsp, NGetRsp, NSetRsp, Status, SubOperations, DATA_SET_ABSENT,
    DATA_SET_PRESENT,
};
use dimse_core::pdu::{AssociateRj, RejectReason, Rejection};
use dimse_core::uid;

use crate::async_handler::{AsyncHandler, BoxFuture};
use crate::closing::Closing;
use crate::conn::Conn;
use crate::faults::{FaultState, Faults, Verdict};
use crate::runtime::{Runtime, Transport};
use crate::tls::{ClientTls, Link, ServerTls};
use crate::wire::WireLog;
use dimse_core::Entity;

/// Who is on the other end of an association, for handlers.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The peer's (calling) AE title.
    pub calling_ae: String,
    /// Our (called) AE title as the peer addressed us.
    pub called_ae: String,
    /// The peer's socket address.
    pub address: Option<SocketAddr>,
}

/// A C-STORE being received.
#[derive(Debug, Clone)]
pub struct StoreRequest {
    /// The request command.
    pub request: CStoreRq,
    /// Transfer syntax of the data set (the presentation context's).
    pub transfer_syntax: String,
}

/// Receives one data set as it arrives, fragment by fragment.
pub trait StoreSink: Send {
    /// Another fragment. An error makes the response a failure (out of resources); the
    /// remaining fragments are discarded.
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
    /// [`StoreSink::write`] with the fragment as shared bytes (a slice of the read buffer): a
    /// sink that needs the data after the call, to parse it say, can keep it without a copy.
    /// The default writes it.
    fn write_bytes(&mut self, data: Bytes) -> io::Result<()> {
        self.write(&data)
    }
    /// The data set is complete: make it durable and say how it went. Success must mean the
    /// instance is stored.
    fn finish(self: Box<Self>) -> Status;
    /// The data set will not complete (the association ended): discard what was written.
    fn discard(self: Box<Self>);
}

/// What an SCP does with requests. Methods have defaults, so a handler implements only the
/// services it offers.
pub trait Handler: Send + Sync + 'static {
    /// A C-ECHO arrived.
    fn echo(&self, _peer: &Peer) -> Status {
        Status::SUCCESS
    }

    /// A C-STORE arrived: return a sink for its data set, or the status to refuse it with.
    fn store(&self, _peer: &Peer, _request: &StoreRequest) -> Result<Box<dyn StoreSink>, Status> {
        Err(Status::SOP_CLASS_NOT_SUPPORTED)
    }

    /// A C-FIND arrived: return the matches (each sent as a pending response as it is
    /// produced; an `Err` item ends the operation with that status), or the status to refuse
    /// it with. A C-CANCEL from the peer stops the iteration between two matches.
    fn find(&self, _peer: &Peer, _request: &FindRequest) -> Result<Matches, Status> {
        Err(Status::SOP_CLASS_NOT_SUPPORTED)
    }

    /// A C-MOVE or C-GET arrived: name the instances (Part 10 files) to send, or the status
    /// to refuse it with. The framework resolves a C-MOVE destination from
    /// [`Scp::destinations`], performs the C-STORE sub-operations and reports progress.
    fn retrieve(&self, _peer: &Peer, _request: &RetrieveRequest) -> Result<Instances, Status> {
        Err(Status::SOP_CLASS_NOT_SUPPORTED)
    }

    /// A Storage Commitment request arrived: say which instances are committed. The
    /// framework answers the N-ACTION, then sends the report as an N-EVENT-REPORT as
    /// [`Scp::commitment_reports`] says: on the same association, or on a new one to the
    /// requestor's AE (from [`Scp::destinations`]) once the request's association has ended.
    fn commit(
        &self,
        _peer: &Peer,
        _request: &CommitmentRequest,
    ) -> Result<CommitmentReport, Status> {
        Err(Status::SOP_CLASS_NOT_SUPPORTED)
    }

    /// An N-GET, N-SET, N-CREATE, N-DELETE or N-ACTION (other than a Storage Commitment
    /// request) arrived, with its data set if it had one. The framework sends the response
    /// of the matching type.
    fn n_service(&self, _peer: &Peer, _request: &NRequest) -> NResponse {
        NResponse::status(Status::SOP_CLASS_NOT_SUPPORTED)
    }

    /// An N-EVENT-REPORT arrived (for example a Storage Commitment report the peer sends on
    /// an association of its own); `info` is its Event Information.
    fn event_report(
        &self,
        _peer: &Peer,
        _request: &NEventReportRq,
        _info: Option<&DataSet>,
    ) -> Status {
        Status::SOP_CLASS_NOT_SUPPORTED
    }
}

/// The instances a [`Handler::retrieve`] names for a C-MOVE or C-GET.
pub type Instances = Vec<crate::StoreFile>;

/// A C-MOVE or C-GET being answered.
#[derive(Debug, Clone)]
pub struct RetrieveRequest {
    /// The information model's MOVE or GET SOP class.
    pub sop_class_uid: String,
    /// The identifier: the unique keys of the instances wanted.
    pub identifier: DataSet,
    /// The C-MOVE destination AE title (`None` for C-GET).
    pub destination: Option<String>,
}

/// An N-service request for [`Handler::n_service`].
#[derive(Debug, Clone)]
pub struct NRequest {
    /// The request (`Message::NGetRq`, `NSetRq`, `NCreateRq`, `NDeleteRq` or `NActionRq`).
    pub message: Message,
    /// Its data set (modification list, attribute list, action information), if any.
    pub data: Option<DataSet>,
}

/// What a [`Handler::n_service`] answers.
#[derive(Debug, Clone)]
pub struct NResponse {
    /// The response status.
    pub status: Status,
    /// The response data set (N-GET attribute list, N-CREATE attribute list, action reply).
    pub data: Option<DataSet>,
    /// For N-CREATE: the instance UID the SCP assigned.
    pub affected_sop_instance_uid: Option<String>,
}

impl NResponse {
    /// A response with only a status.
    pub fn status(status: Status) -> Self {
        NResponse {
            status,
            data: None,
            affected_sop_instance_uid: None,
        }
    }
}

/// The matches a [`Handler::find`] produces.
pub type Matches = Box<dyn Iterator<Item = Result<DataSet, Status>> + Send>;

/// A C-FIND being answered.
#[derive(Debug, Clone)]
pub struct FindRequest {
    /// The information model's SOP class (Patient Root, Study Root, Modality Worklist, …).
    pub sop_class_uid: String,
    /// The identifier: matching keys with values, return keys empty.
    pub identifier: DataSet,
}

/// An SCP: negotiation policy, handler, limits.
///
/// ```no_run
/// use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
/// use dimse_core::uid;
/// use dimse_std::{Handler, Scp};
///
/// struct EchoOnly;
/// impl Handler for EchoOnly {}
///
/// let mut policy = AcceptorPolicy::new("ECHO_SCP");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// let server = Scp::new(policy, EchoOnly).bind("127.0.0.1:11112").unwrap();
/// server.run();
/// ```
pub struct Scp {
    /// Negotiation policy.
    pub policy: AcceptorPolicy,
    /// Association tunables.
    pub config: assoc::Config,
    /// Most associations served at once; more are rejected (transient, local limit exceeded).
    /// Connections that have not sent an A-ASSOCIATE-RQ yet do not count.
    pub max_associations: usize,
    /// Most connections held at once, associated or not (each costs a task and a buffer
    /// until ARTIM closes it); more are closed on arrival.
    pub max_connections: usize,
    /// Largest identifier (C-FIND, C-MOVE, C-GET keys; N-service data sets) gathered; a
    /// longer one is answered with 0xA700 (out of resources).
    pub max_identifier: usize,
    /// Known AEs by title: where C-MOVE sub-operations may go. An unknown destination is
    /// answered with 0xA801.
    pub destinations: HashMap<String, Entity>,
    /// Known AEs that are not C-MOVE destinations but that Storage Commitment reports on a
    /// new association may go to, by AE title (those in [`Scp::destinations`] need no entry).
    pub report_destinations: HashMap<String, Entity>,
    /// TLS on every connection served; `None` is plain TCP. The handshake must finish within
    /// the ARTIM timeout.
    pub tls: Option<ServerTls>,
    /// TLS for the associations C-MOVE opens to destinations that have no entry in
    /// [`Scp::tls_destinations`]; `None` is plain TCP.
    pub destination_tls: Option<ClientTls>,
    /// TLS for the associations to particular destinations, by AE title (see
    /// [`Scp::with_tls_destination`]); the others follow [`Scp::destination_tls`].
    pub tls_destinations: HashMap<String, ClientTls>,
    /// Which stored instances C-MOVE and C-GET sub-operations decompress for a destination
    /// that accepted none of their own syntax (instead of failing the sub-operation).
    pub decompress: crate::Decompress,
    /// Where Storage Commitment reports go (PS3.4 J.3.3 leaves it to the SCP).
    pub commitment_reports: CommitmentReports,
    /// Misbehaviour on purpose, for testing SCUs; none by default.
    pub faults: Faults,
    /// Trace every PDU of the associations served (and of those C-MOVE and Storage
    /// Commitment open); `None` traces nothing.
    pub wire_log: Option<WireLog>,
    handler: Arc<dyn AsyncHandler>,
    active: Arc<AtomicUsize>,
    associations: Arc<AtomicUsize>,
    closing: Arc<Closing>,
}

impl Scp {
    /// An SCP answering with `handler` (a [`Handler`], or an [`AsyncHandler`]) under
    /// `policy`.
    pub fn new(policy: AcceptorPolicy, handler: impl AsyncHandler) -> Self {
        Scp {
            policy,
            config: assoc::Config {
                dimse_timeout: Some(std::time::Duration::from_secs(60)),
                idle_timeout: Some(Scp::IDLE_TIMEOUT),
                ..assoc::Config::default()
            },
            max_associations: 64,
            max_connections: 1024,
            max_identifier: 1024 * 1024,
            destinations: HashMap::new(),
            report_destinations: HashMap::new(),
            tls: None,
            destination_tls: None,
            tls_destinations: HashMap::new(),
            decompress: crate::Decompress::default(),
            commitment_reports: CommitmentReports::default(),
            faults: Faults::default(),
            wire_log: None,
            handler: Arc::new(handler),
            active: Arc::new(AtomicUsize::new(0)),
            associations: Arc::new(AtomicUsize::new(0)),
            closing: Arc::new(Closing::default()),
        }
    }

    /// Add a C-MOVE destination.
    pub fn with_destination(mut self, entity: Entity) -> Self {
        self.destinations
            .insert(entity.ae_title.trim().to_string(), entity);
        self
    }

    /// Add a C-MOVE destination reached over TLS with `tls`.
    pub fn with_tls_destination(mut self, entity: Entity, tls: ClientTls) -> Self {
        self.tls_destinations
            .insert(entity.ae_title.trim().to_string(), tls);
        self.with_destination(entity)
    }

    /// The TLS settings for any association we open to the destination `ae_title` (C-MOVE
    /// sub-operations, reports sent on a new association): its own, else
    /// [`Scp::destination_tls`]; `None` is plain TCP.
    pub fn destination_tls_for(&self, ae_title: &str) -> Option<ClientTls> {
        self.tls_destinations
            .get(ae_title.trim())
            .or(self.destination_tls.as_ref())
            .cloned()
    }
}

/// Where an SCP sends its Storage Commitment reports (N-EVENT-REPORT).
///
/// ```
/// use dimse_driver::CommitmentReports;
///
/// assert_eq!(CommitmentReports::default(), CommitmentReports::SameAssociation);
/// assert_eq!("new".parse(), Ok(CommitmentReports::NewAssociation));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CommitmentReports {
    /// Right after the N-ACTION response, on the request's association (the requestor
    /// waits for it there).
    #[default]
    SameAssociation,
    /// After the request's association has ended, on an association the SCP opens to the
    /// requestor's AE title as found in [`Scp::destinations`], proposing the SCP role for
    /// Storage Commitment (PS3.4 J.3.3); TLS as [`Scp::destination_tls_for`] says.
    NewAssociation,
}

impl std::str::FromStr for CommitmentReports {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "same" => Ok(CommitmentReports::SameAssociation),
            "new" => Ok(CommitmentReports::NewAssociation),
            other => Err(format!(
                "commitment reports go on the \"same\" or a \"new\" association, not \"{other}\""
            )),
        }
    }
}

/// The message whose data set is arriving, and where the data set goes.
struct Incoming {
    context_id: u8,
    answer: Answer,
    receiving: Receiving,
}

/// How to answer once the data set is complete.
enum Answer {
    Store(CStoreRq),
    Find(CFindRq),
    Move(CMoveRq),
    Get(CGetRq),
    Action(NActionRq),
    EventReport(NEventReportRq),
    NService(Message),
    /// A request we do not serve: a bare response with this command field and message ID.
    Refuse {
        command_field: u16,
        message_id: u16,
    },
}

/// Where the fragments of the arriving data set go.
enum Receiving {
    /// Streamed to the handler's sink (C-STORE).
    Sink(Box<dyn StoreSink>),
    /// Gathered: an identifier, small and bounded.
    Gather(BytesMut),
    /// Dropped: the answer is already this status.
    Refused(Status),
}

/// A response carrying only a status, for requests we cannot serve.
fn refusal(command_field: u16, message_id: u16, status: Status) -> CommandSet {
    let mut rsp = CommandSet::new();
    rsp.set_u16(tags::COMMAND_FIELD, command_field | 0x8000);
    rsp.set_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO, message_id);
    rsp.set_u16(tags::COMMAND_DATA_SET_TYPE, DATA_SET_ABSENT);
    rsp.set_u16(tags::STATUS, status.0);
    rsp
}

impl Scp {
    /// Serve one accepted connection until its association ends. Past
    /// [`Scp::max_associations`] being served at once, the association is rejected (transient,
    /// local limit exceeded); past [`Scp::max_connections`] the connection is closed at once.
    /// Never fails: whatever goes wrong ends this association only.
    pub async fn serve<R: Runtime>(&self, mut stream: R::Stream) {
        let connection = Active::enter(&self.active);
        if connection.count > self.max_connections {
            tracing::warn!(address = ?stream.peer_addr(), "too many connections: closing");
            stream.shutdown().await;
            return;
        }
        let link = match &self.tls {
            None => Link::Plain(stream),
            Some(tls) => {
                let address = stream.peer_addr();
                let deadline = Instant::now() + self.config.artim_timeout;
                match tls.accept(stream, deadline).await {
                    Ok(stream) => Link::Tls(Box::new(stream)),
                    Err(error) => {
                        tracing::info!(?address, %error, "TLS handshake failed");
                        return;
                    }
                }
            }
        };
        serve_association::<R>(self, link).await;
    }

    /// How many connections are being served now (associated or not).
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// How long an association may stay idle (nothing in flight, no PDU) before the SCP
    /// releases it, by default: idle peers would otherwise hold association slots forever.
    pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

    /// How long a shutdown waits, after [`Scp::close`], for the associations to send their
    /// A-ABORT and end before the adapter drops what is left.
    pub const ABORT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

    /// End every association being served: each sends A-ABORT as soon as it next waits for
    /// its peer (at once if it is waiting), discarding a data set in progress; later ones are
    /// aborted on arrival. Adapters call this when a graceful shutdown's grace period is over.
    pub fn close(&self) {
        self.closing.raise();
    }
}

/// One association being served; counted while it lives (also when its task is dropped).
struct Active<'a> {
    counter: &'a AtomicUsize,
    count: usize,
}

impl<'a> Active<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        let count = counter.fetch_add(1, Ordering::SeqCst) + 1;
        Active { counter, count }
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_association<R: Runtime>(scp: &Scp, stream: Link<R::Stream>) {
    let address = stream.peer_addr();
    let mut conn = Conn::new(
        stream,
        assoc::Association::acceptor(scp.config.clone(), Instant::now()),
    )
    .traced(scp.wire_log.as_ref(), false);
    let mut peer = Peer {
        calling_ae: String::new(),
        called_ae: String::new(),
        address,
    };
    let mut negotiated: Option<Negotiated> = None;
    let mut incoming: Option<Incoming> = None;
    let later = std::sync::Mutex::new(Vec::new());
    // Counted from the A-ASSOCIATE-RQ on, so silent connections take no association's place.
    let mut _slot: Option<Active> = None;
    let mut faults = FaultState::default();
    loop {
        let next = scp.closing.unless_raised(conn.next_event(None)).await;
        let event = match next {
            Some(Ok(Some(e))) => e,
            Some(Ok(None)) => unreachable!("no application deadline was given"),
            Some(Err(e)) => {
                tracing::debug!(?address, error = %e, "association ended");
                break;
            }
            None => {
                tracing::info!(calling = %peer.calling_ae, "server closing: aborting");
                conn.abort().await;
                break;
            }
        };
        let now = Instant::now();
        let result = match event {
            Event::Requested(rq) => {
                peer.calling_ae = rq.calling_ae.trimmed();
                peer.called_ae = rq.called_ae.trimmed();
                let slot = _slot.insert(Active::enter(&scp.associations));
                if let Some(rj) = scp.faults.refuse {
                    tracing::warn!(calling = %peer.calling_ae, reason = %rj.reason(), "refusing the association (refuse fault)");
                    conn.assoc.reject(now, rj)
                } else if slot.count > scp.max_associations {
                    tracing::warn!(calling = %peer.calling_ae, "too many associations: rejecting");
                    conn.assoc
                        .reject(
                            now,
                            AssociateRj::new(
                                Rejection::Transient,
                                RejectReason::LocalLimitExceeded,
                            ),
                        )
                        .map(|_| ())
                } else {
                    conn.assoc
                        .respond_with_policy(now, &scp.policy)
                        .map(|rejected| {
                            if let Some(reason) = rejected {
                                tracing::info!(calling = %peer.calling_ae, %reason, "association rejected");
                            }
                        })
                }
            }
            Event::Established(n) => {
                tracing::info!(calling = %peer.calling_ae, ?address, "association established");
                negotiated = Some(*n);
                Ok(())
            }
            Event::Command {
                context_id,
                command,
            } => {
                if faults.on_command(&command)
                    && faults.complete(&scp.faults, &mut conn).await == Verdict::Abort
                {
                    conn.abort().await;
                    break;
                }
                handle_command(
                    scp,
                    &mut conn,
                    &peer,
                    negotiated.as_ref(),
                    context_id,
                    command,
                    &mut incoming,
                )
                .await
            }
            Event::Data { data, last, .. } => {
                if faults.on_data(last)
                    && faults.complete(&scp.faults, &mut conn).await == Verdict::Abort
                {
                    conn.abort().await;
                    break;
                }
                let ctx = Dispatch {
                    scp,
                    peer: &peer,
                    negotiated: negotiated.as_ref(),
                    later: &later,
                };
                handle_data::<R>(&ctx, &mut conn, &mut incoming, data, last).await
            }
            Event::ReleaseRequested => conn.assoc.respond_release(now),
            Event::Aborted(cause) => {
                tracing::info!(calling = %peer.calling_ae, %cause, "association aborted");
                Ok(())
            }
            Event::Released | Event::Rejected(_) => Ok(()),
            // Events a newer core may add concern an acceptor only if it asks for them.
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "association misuse; aborting");
            conn.abort().await;
            break;
        }
        if conn.assoc.is_closed() {
            break;
        }
    }
    if let Some(Incoming {
        receiving: Receiving::Sink(sink),
        ..
    }) = incoming.take()
    {
        sink.discard();
    }
    conn.finish().await;
    drop(_slot);
    let reports = later.into_inner().unwrap_or_else(|e| e.into_inner());
    for report in reports {
        send_report_later::<R>(scp, &peer.calling_ae, &report).await;
    }
}

/// Storage Commitment reports on a new association: we request it, proposing only the SCP
/// role, and send one N-EVENT-REPORT per report.
async fn send_report_later<R: Runtime>(scp: &Scp, requestor: &str, report: &CommitmentReport) {
    let transaction = &report.transaction_uid;
    let requestor = requestor.trim();
    let known = scp.destinations.get(requestor);
    let Some(entity) = known.or_else(|| scp.report_destinations.get(requestor)) else {
        tracing::warn!(%requestor, %transaction, "no address for the requestor's AE title: the Storage Commitment report cannot be sent");
        return;
    };
    let Ok(info) = report.to_data_set() else {
        tracing::warn!(%transaction, "the Storage Commitment report cannot be encoded");
        return;
    };
    let mut context = dimse_core::assoc::ProposedContext::new(
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    );
    context.roles = Some((false, true));
    let mut scu = crate::Scu::<R>::new(&scp.policy.ae_title);
    scu.wire_log = scp.wire_log.clone();
    scu.tls = scp.destination_tls_for(&entity.ae_title);
    let mut assoc = match scu.associate(entity, vec![context]).await {
        Ok(a) => a,
        Err(error) => {
            tracing::warn!(%error, destination = %entity, %transaction, "cannot reach the requestor for the Storage Commitment report");
            return;
        }
    };
    let sent = assoc
        .n_event_report(
            uid::STORAGE_COMMITMENT_PUSH_MODEL,
            uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
            report.event_type(),
            Some(&info),
        )
        .await;
    match sent {
        Ok((rsp, _)) => {
            tracing::info!(destination = %entity, %transaction, status = %rsp.status, "Storage Commitment report sent on a new association");
            let _ = assoc.release().await;
        }
        Err(error) => {
            tracing::warn!(%error, destination = %entity, %transaction, "the Storage Commitment report was not answered");
            assoc.abort().await;
        }
    }
}

async fn handle_command<T: Transport>(
    scp: &Scp,
    conn: &mut Conn<T>,
    peer: &Peer,
    negotiated: Option<&Negotiated>,
    context_id: u8,
    command: CommandSet,
    incoming: &mut Option<Incoming>,
) -> Result<(), assoc::UsageError> {
    let now = Instant::now();
    let message = match Message::from_command(command) {
        Ok(m) => m,
        Err(e) => {
            // A command we cannot read leaves us unable to answer it: PS3.7 gives no response
            // for that case, so the association goes.
            tracing::warn!(error = %e, "invalid command; aborting");
            conn.abort().await;
            return Ok(());
        }
    };
    match message {
        Message::CEchoRq(rq) => {
            let status = guarded_async(Status::PROCESSING_FAILURE, || scp.handler.echo(peer)).await;
            let rsp = CEchoRsp::for_request(&rq, status);
            conn.assoc.send_command(now, context_id, &rsp.to_command())
        }
        Message::CStoreRq(rq) => {
            let transfer_syntax = negotiated
                .and_then(|n| n.context(context_id))
                .map(|c| c.transfer_syntax.clone())
                .unwrap_or_default();
            let request = StoreRequest {
                request: rq.clone(),
                transfer_syntax,
            };
            let receiving = match guarded_async(Err(Status::PROCESSING_FAILURE), || {
                scp.handler.store(peer, &request)
            })
            .await
            {
                Ok(sink) => Receiving::Sink(sink),
                Err(status) => Receiving::Refused(status),
            };
            *incoming = Some(Incoming {
                context_id,
                answer: Answer::Store(rq),
                receiving,
            });
            Ok(())
        }
        Message::CFindRq(rq) => {
            *incoming = Some(Incoming {
                context_id,
                answer: Answer::Find(rq),
                receiving: Receiving::Gather(BytesMut::new()),
            });
            Ok(())
        }
        Message::CMoveRq(rq) => {
            *incoming = Some(Incoming {
                context_id,
                answer: Answer::Move(rq),
                receiving: Receiving::Gather(BytesMut::new()),
            });
            Ok(())
        }
        Message::CGetRq(rq) => {
            *incoming = Some(Incoming {
                context_id,
                answer: Answer::Get(rq),
                receiving: Receiving::Gather(BytesMut::new()),
            });
            Ok(())
        }
        Message::NActionRq(rq) if rq.has_data_set => {
            *incoming = Some(Incoming {
                context_id,
                answer: Answer::Action(rq),
                receiving: Receiving::Gather(BytesMut::new()),
            });
            Ok(())
        }
        Message::NGetRq(_) | Message::NDeleteRq(_) => {
            let request = NRequest {
                message,
                data: None,
            };
            let response = guarded_async(NResponse::status(Status::PROCESSING_FAILURE), || {
                scp.handler.n_service(peer, &request)
            })
            .await;
            send_n_response(conn, negotiated, context_id, &request.message, response)
        }
        Message::NSetRq(_) | Message::NCreateRq(_) | Message::NActionRq(_) => {
            if !message.has_data_set() {
                let request = NRequest {
                    message,
                    data: None,
                };
                let response = guarded_async(NResponse::status(Status::PROCESSING_FAILURE), || {
                    scp.handler.n_service(peer, &request)
                })
                .await;
                return send_n_response(conn, negotiated, context_id, &request.message, response);
            }
            *incoming = Some(Incoming {
                context_id,
                answer: Answer::NService(message),
                receiving: Receiving::Gather(BytesMut::new()),
            });
            Ok(())
        }
        Message::NEventReportRq(rq) => {
            if !rq.has_data_set {
                let status = guarded_async(Status::PROCESSING_FAILURE, || {
                    scp.handler.event_report(peer, &rq, None)
                })
                .await;
                let rsp = NEventReportRsp::for_request(&rq, status);
                return conn.assoc.send_command(now, context_id, &rsp.to_command());
            }
            *incoming = Some(Incoming {
                context_id,
                answer: Answer::EventReport(rq),
                receiving: Receiving::Gather(BytesMut::new()),
            });
            Ok(())
        }
        Message::CCancelRq(_) => {
            // Nothing is running (a find reads its cancels while it runs): the request it
            // names is already answered, so PS3.7 asks for nothing more.
            Ok(())
        }
        other => {
            tracing::warn!(message = other.name(), "unsupported request");
            if let Some(id) = other.message_id() {
                // 0x0211 unrecognized operation: a response keeps the peer from waiting.
                let status = Status::UNRECOGNIZED_OPERATION;
                if !other.has_data_set() {
                    let rsp = refusal(other.command_field(), id, status);
                    return conn.assoc.send_command(now, context_id, &rsp);
                }
                *incoming = Some(Incoming {
                    context_id,
                    answer: Answer::Refuse {
                        command_field: other.command_field(),
                        message_id: id,
                    },
                    receiving: Receiving::Refused(status),
                });
            }
            Ok(())
        }
    }
}

/// What answering a request needs besides the connection.
struct Dispatch<'a> {
    scp: &'a Scp,
    peer: &'a Peer,
    negotiated: Option<&'a Negotiated>,
    /// Commitment reports to send on a new association once this one has ended.
    later: &'a std::sync::Mutex<Vec<CommitmentReport>>,
}

async fn handle_data<R: Runtime>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<Link<R::Stream>>,
    incoming: &mut Option<Incoming>,
    data: Bytes,
    last: bool,
) -> Result<(), assoc::UsageError> {
    let Some(current) = incoming.as_mut() else {
        return Ok(());
    };
    match &mut current.receiving {
        Receiving::Sink(sink) => {
            if let Err(e) = sink.write_bytes(data) {
                tracing::warn!(error = %e, "storing data set failed");
                let failed = Receiving::Refused(Status::OUT_OF_RESOURCES);
                if let Receiving::Sink(sink) = std::mem::replace(&mut current.receiving, failed) {
                    sink.discard();
                }
            }
        }
        Receiving::Gather(buf) => {
            if buf.len() + data.len() > ctx.scp.max_identifier {
                current.receiving = Receiving::Refused(Status::OUT_OF_RESOURCES);
            } else {
                buf.extend_from_slice(&data);
            }
        }
        Receiving::Refused(_) => {}
    }
    if !last {
        return Ok(());
    }
    let done = incoming.take().expect("checked above");
    let rsp = match (done.answer, done.receiving) {
        (Answer::Find(rq), Receiving::Gather(identifier)) => {
            return run_find(ctx, conn, done.context_id, &rq, identifier.freeze()).await;
        }
        (Answer::Find(rq), Receiving::Refused(status)) => find_final(&rq, status).to_command(),
        (Answer::Move(rq), Receiving::Gather(identifier)) => {
            let kind = Retrieve::Move(rq);
            return run_retrieve::<R>(ctx, conn, done.context_id, &kind, identifier.freeze()).await;
        }
        (Answer::Get(rq), Receiving::Gather(identifier)) => {
            let kind = Retrieve::Get(rq);
            return run_retrieve::<R>(ctx, conn, done.context_id, &kind, identifier.freeze()).await;
        }
        (Answer::Action(rq), Receiving::Gather(info)) => {
            return run_commitment(ctx, conn, done.context_id, &rq, info.freeze()).await;
        }
        (Answer::EventReport(rq), Receiving::Gather(info)) => {
            let ts = ctx
                .negotiated
                .and_then(|n| n.context(done.context_id))
                .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
            let ds = ts.and_then(|ts| DataSet::decode(info.freeze(), ts).ok());
            let status = guarded_async(Status::PROCESSING_FAILURE, || {
                ctx.scp.handler.event_report(ctx.peer, &rq, ds.as_ref())
            })
            .await;
            NEventReportRsp::for_request(&rq, status).to_command()
        }
        (Answer::Action(rq), _) => {
            NActionRsp::for_request(&rq, Status::OUT_OF_RESOURCES).to_command()
        }
        (Answer::NService(message), Receiving::Gather(data)) => {
            let ts = ctx
                .negotiated
                .and_then(|n| n.context(done.context_id))
                .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
            let response = match ts.map(|ts| DataSet::decode(data.freeze(), ts)) {
                Some(Ok(ds)) => {
                    let request = NRequest {
                        message,
                        data: Some(ds),
                    };
                    let response =
                        guarded_async(NResponse::status(Status::PROCESSING_FAILURE), || {
                            ctx.scp.handler.n_service(ctx.peer, &request)
                        })
                        .await;
                    return send_n_response(
                        conn,
                        ctx.negotiated,
                        done.context_id,
                        &request.message,
                        response,
                    );
                }
                // 0x0106 invalid attribute value: the data set does not decode.
                _ => NResponse::status(Status::INVALID_ATTRIBUTE_VALUE),
            };
            return send_n_response(conn, ctx.negotiated, done.context_id, &message, response);
        }
        (Answer::NService(message), _) => {
            return send_n_response(
                conn,
                ctx.negotiated,
                done.context_id,
                &message,
                NResponse::status(Status::OUT_OF_RESOURCES),
            );
        }
        (Answer::EventReport(rq), _) => {
            NEventReportRsp::for_request(&rq, Status::OUT_OF_RESOURCES).to_command()
        }
        (Answer::Move(rq), _) => {
            let kind = Retrieve::Move(rq);
            kind.response(Status::OUT_OF_RESOURCES, SubOperations::default())
        }
        (Answer::Get(rq), _) => {
            let kind = Retrieve::Get(rq);
            kind.response(Status::OUT_OF_RESOURCES, SubOperations::default())
        }
        (Answer::Store(rq), receiving) => {
            let status = match receiving {
                Receiving::Sink(sink) => sink.finish(),
                Receiving::Refused(status) => status,
                Receiving::Gather(_) => Status::UNABLE_TO_PROCESS,
            };
            CStoreRsp::for_request(&rq, status).to_command()
        }
        (
            Answer::Refuse {
                command_field,
                message_id,
            },
            _,
        ) => refusal(command_field, message_id, Status::UNRECOGNIZED_OPERATION),
        (Answer::Find(rq), Receiving::Sink(sink)) => {
            sink.discard();
            find_final(&rq, Status::UNABLE_TO_PROCESS).to_command()
        }
    };
    conn.assoc
        .send_command(Instant::now(), done.context_id, &rsp)
}

fn find_final(rq: &CFindRq, status: Status) -> CFindRsp {
    let mut rsp = CFindRsp::for_request(rq, status);
    rsp.has_data_set = false;
    rsp
}

/// Run a C-FIND: ask the handler for matches and send each as a pending response, reading
/// between them whether the peer sent C-CANCEL.
async fn run_find<T: Transport>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<T>,
    context_id: u8,
    rq: &CFindRq,
    identifier: Bytes,
) -> Result<(), assoc::UsageError> {
    let ts = ctx
        .negotiated
        .and_then(|n| n.context(context_id))
        .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
    let send_final = |conn: &mut Conn<T>, status: Status| {
        conn.assoc.send_command(
            Instant::now(),
            context_id,
            &find_final(rq, status).to_command(),
        )
    };
    let Some(ts) = ts else {
        return send_final(conn, Status::UNABLE_TO_PROCESS);
    };
    let identifier = match DataSet::decode(identifier, ts) {
        Ok(ds) => ds,
        Err(e) => {
            tracing::warn!(error = %e, "undecodable C-FIND identifier");
            // 0xA900: identifier does not match SOP class.
            return send_final(conn, Status::DOES_NOT_MATCH_SOP_CLASS);
        }
    };
    let request = FindRequest {
        sop_class_uid: rq.affected_sop_class_uid.clone(),
        identifier,
    };
    let matches = match guarded_async(Err(Status::UNABLE_TO_PROCESS), || {
        ctx.scp.handler.find(ctx.peer, &request)
    })
    .await
    {
        Ok(m) => m,
        Err(status) => return send_final(conn, status),
    };
    let mut matches = matches;
    // A handler's iterator that panics ends the find with a failure, like a handler error.
    while let Some(found) = guarded(Some(Err(Status::UNABLE_TO_PROCESS)), || matches.next()) {
        match conn.poll_now().await {
            Ok(events) => {
                for event in events {
                    if matches!(event, Event::Aborted(_)) {
                        return Ok(());
                    }
                    if cancel_or_defer(conn, event) == Some(rq.message_id) {
                        return send_final(conn, Status::CANCEL);
                    }
                }
            }
            Err(_) => return Ok(()),
        }
        match found {
            Ok(ds) => {
                let mut rsp = CFindRsp::for_request(rq, Status::PENDING);
                rsp.has_data_set = true;
                let mut encoded = BytesMut::new();
                ds.encode(ts, &mut encoded);
                let now = Instant::now();
                conn.assoc
                    .send_command(now, context_id, &rsp.to_command())?;
                conn.assoc
                    .send_data(now, context_id, encoded.freeze(), true)?;
                if conn.flush().await.is_err() {
                    return Ok(());
                }
            }
            Err(status) => return send_final(conn, status),
        }
    }
    send_final(conn, Status::SUCCESS)
}

/// A C-MOVE or C-GET in progress: what differs between the two.
enum Retrieve {
    Move(CMoveRq),
    Get(CGetRq),
}

impl Retrieve {
    fn message_id(&self) -> u16 {
        match self {
            Retrieve::Move(rq) => rq.message_id,
            Retrieve::Get(rq) => rq.message_id,
        }
    }

    /// A response command without a data set.
    fn response(&self, status: Status, ops: SubOperations) -> CommandSet {
        match self {
            Retrieve::Move(rq) => {
                let mut rsp = CMoveRsp::for_request(rq, status);
                rsp.sub_operations = ops;
                rsp.has_data_set = false;
                rsp.to_command()
            }
            Retrieve::Get(rq) => {
                let mut rsp = CGetRsp::for_request(rq, status);
                rsp.sub_operations = ops;
                rsp.has_data_set = false;
                rsp.to_command()
            }
        }
    }

    /// The final response, with the Failed SOP Instance UID List when there is one.
    fn final_response(
        &self,
        status: Status,
        ops: SubOperations,
        failed: &[String],
    ) -> (CommandSet, Option<DataSet>) {
        let mut command = self.response(status, ops);
        if failed.is_empty() || status.is_success() {
            return (command, None);
        }
        let mut ds = DataSet::new();
        let list: Vec<&str> = failed.iter().map(String::as_str).collect();
        if ds.set_strs(Tag(0x0008, 0x0058), &list).is_err() {
            return (command, None);
        }
        command.set_u16(tags::COMMAND_DATA_SET_TYPE, DATA_SET_PRESENT);
        (command, Some(ds))
    }
}

/// Sub-operation bookkeeping (PS3.4 C.4.2.3): counters and the final status they imply.
#[derive(Default)]
struct Tally {
    completed: u16,
    failed: u16,
    warning: u16,
    failed_uids: Vec<String>,
}

impl Tally {
    fn record(&mut self, uid: &str, status: Option<Status>) {
        match status {
            Some(s) if s.is_success() => self.completed += 1,
            Some(s) if s.is_warning() => self.warning += 1,
            _ => {
                self.failed += 1;
                self.failed_uids.push(uid.to_string());
            }
        }
    }

    fn pending(&self, remaining: usize) -> SubOperations {
        SubOperations::pending(
            remaining.min(u16::MAX as usize) as u16,
            self.completed,
            self.failed,
            self.warning,
        )
    }

    fn finished(&self) -> SubOperations {
        SubOperations::finished(self.completed, self.failed, self.warning)
    }

    /// Success when all went well; 0xA702 when every sub-operation failed; 0xB000 otherwise.
    fn final_status(&self) -> Status {
        if self.failed == 0 && self.warning == 0 {
            Status::SUCCESS
        } else if self.completed == 0 && self.warning == 0 {
            Status::OUT_OF_RESOURCES_SUB_OPERATIONS
        } else {
            Status::SUB_OPERATIONS_WARNING
        }
    }
}

async fn send_reply<T: Transport>(
    conn: &mut Conn<T>,
    context_id: u8,
    (command, data): (CommandSet, Option<DataSet>),
    ts: &uid::TransferSyntax,
) -> Result<(), assoc::UsageError> {
    let now = Instant::now();
    conn.assoc.send_command(now, context_id, &command)?;
    if let Some(ds) = data {
        let mut encoded = BytesMut::new();
        ds.encode(ts, &mut encoded);
        conn.assoc
            .send_data(now, context_id, encoded.freeze(), true)?;
    }
    let _ = conn.flush().await;
    Ok(())
}

/// Whether the peer cancelled `message_id` since we last looked; `None` if it is gone.
async fn cancelled<T: Transport>(conn: &mut Conn<T>, message_id: u16) -> Option<bool> {
    let events = conn.poll_now().await.ok()?;
    let mut cancel = false;
    for event in events {
        if matches!(event, Event::Aborted(_)) {
            return None;
        }
        cancel |= cancel_or_defer(conn, event) == Some(message_id);
    }
    Some(cancel)
}

/// A C-CANCEL-RQ arriving while an operation runs: the message ID it cancels. Anything else
/// belongs to a later request (the peer may invoke several at once under an asynchronous
/// operations window): it waits in the connection's queue for the dispatch loop.
fn cancel_or_defer<T: Transport>(conn: &mut Conn<T>, event: Event) -> Option<u16> {
    if let Event::Command { command, .. } = &event {
        if let Ok(Message::CCancelRq(c)) = Message::from_command(command.clone()) {
            return Some(c.message_id_being_responded_to);
        }
    }
    conn.defer(event);
    None
}

/// Run a C-MOVE or C-GET: ask the handler which instances, send them (to the destination
/// over a new association, or back over this one), and report progress after each.
async fn run_retrieve<R: Runtime>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<Link<R::Stream>>,
    context_id: u8,
    kind: &Retrieve,
    identifier: Bytes,
) -> Result<(), assoc::UsageError> {
    let Some(ts) = ctx
        .negotiated
        .and_then(|n| n.context(context_id))
        .and_then(|c| uid::transfer_syntax(&c.transfer_syntax))
    else {
        let reply = kind.final_response(Status::UNABLE_TO_PROCESS, SubOperations::default(), &[]);
        return send_reply(
            conn,
            context_id,
            reply,
            uid::transfer_syntax(uid::IMPLICIT_VR_LE).expect("known"),
        )
        .await;
    };
    let identifier = match DataSet::decode(identifier, ts) {
        Ok(ds) => ds,
        Err(_) => {
            let reply = kind.final_response(
                Status::DOES_NOT_MATCH_SOP_CLASS,
                SubOperations::default(),
                &[],
            );
            return send_reply(conn, context_id, reply, ts).await;
        }
    };
    let (sop_class_uid, destination) = match kind {
        Retrieve::Move(rq) => (
            rq.affected_sop_class_uid.clone(),
            Some(rq.move_destination.trim().to_string()),
        ),
        Retrieve::Get(rq) => (rq.affected_sop_class_uid.clone(), None),
    };
    let target = match &destination {
        Some(aet) => match ctx.scp.destinations.get(aet) {
            Some(entity) => Some(entity.clone()),
            None => {
                tracing::warn!(destination = %aet, "C-MOVE to an unknown AE");
                return send_reply(
                    conn,
                    context_id,
                    kind.final_response(
                        Status::MOVE_DESTINATION_UNKNOWN,
                        SubOperations::default(),
                        &[],
                    ),
                    ts,
                )
                .await;
            }
        },
        None => None,
    };
    let request = RetrieveRequest {
        sop_class_uid,
        identifier,
        destination,
    };
    let instances = match guarded_async(Err(Status::UNABLE_TO_PROCESS), || {
        ctx.scp.handler.retrieve(ctx.peer, &request)
    })
    .await
    {
        Ok(i) => i,
        Err(status) => {
            let reply = kind.final_response(status, SubOperations::default(), &[]);
            return send_reply(conn, context_id, reply, ts).await;
        }
    };
    let mut tally = Tally::default();
    if instances.is_empty() {
        // Nothing to send: no reason to reach the destination (PS3.4 C.4.2.3.1 counts zero).
        let reply = kind.final_response(Status::SUCCESS, tally.finished(), &[]);
        return send_reply(conn, context_id, reply, ts).await;
    }
    // C-MOVE: associations to the destination, each for as many instances as its 128
    // contexts hold (dcmsend's `+ma`), opened as the previous one runs out.
    let mut sub: Option<crate::ScuAssociation<R>> = None;
    let mut sub_end = 0;
    let mut sub_ids = dimse_core::dimse::MessageIdAllocator::new();
    let total = instances.len();
    let mut cancel_seen = false;
    for (i, file) in instances.iter().enumerate() {
        match cancelled(conn, kind.message_id())
            .await
            .map(|c| c || cancel_seen)
        {
            None => return Ok(()),
            Some(true) => {
                let mut ops = tally.finished();
                ops.remaining = Some((total - i).min(u16::MAX as usize) as u16);
                let reply = kind.final_response(Status::CANCEL, ops, &tally.failed_uids);
                if let Some(a) = sub.take() {
                    let _ = a.release().await;
                }
                return send_reply(conn, context_id, reply, ts).await;
            }
            Some(false) => {}
        }
        if let (Some(entity), true) = (&target, i >= sub_end) {
            if let Some(a) = sub.take() {
                let _ = a.release().await;
            }
            let (n, contexts) = crate::store_contexts(&instances[i..], ctx.scp.decompress);
            let mut scu = crate::Scu::<R>::new(&ctx.scp.policy.ae_title);
            scu.wire_log = ctx.scp.wire_log.clone();
            scu.tls = ctx.scp.destination_tls_for(&entity.ae_title);
            scu.decompress = ctx.scp.decompress;
            match scu.associate(entity, contexts).await {
                Ok(a) => {
                    sub = Some(a);
                    sub_end = i + n;
                }
                Err(e) => {
                    tracing::warn!(error = %e, destination = %entity, "cannot reach the C-MOVE destination");
                    for f in &instances[i..] {
                        tally.record(&f.sop_instance_uid, None);
                    }
                    let reply = kind.final_response(
                        tally.final_status(),
                        tally.finished(),
                        &tally.failed_uids,
                    );
                    return send_reply(conn, context_id, reply, ts).await;
                }
            }
        }
        let status = match sub.as_mut() {
            Some(assoc) => {
                let originator = ctx.peer.calling_ae.as_str();
                match assoc
                    .store_for_move(file, originator, kind.message_id())
                    .await
                {
                    Ok(outcome) => Some(outcome.response.status),
                    Err(e) => {
                        tracing::warn!(error = %e, "C-STORE sub-operation failed");
                        None
                    }
                }
            }
            None => {
                store_back(
                    ctx,
                    conn,
                    file,
                    &mut sub_ids,
                    kind.message_id(),
                    &mut cancel_seen,
                )
                .await
            }
        };
        if conn.assoc.is_closed() {
            return Ok(());
        }
        tally.record(&file.sop_instance_uid, status);
        let remaining = total - i - 1;
        if remaining > 0 {
            let reply = (
                kind.response(Status::PENDING, tally.pending(remaining)),
                None,
            );
            send_reply(conn, context_id, reply, ts).await?;
        }
    }
    if let Some(a) = sub.take() {
        let _ = a.release().await;
    }
    let reply = kind.final_response(tally.final_status(), tally.finished(), &tally.failed_uids);
    send_reply(conn, context_id, reply, ts).await
}

/// A C-GET sub-operation: C-STORE `file` back over the requesting association on a context
/// where the requestor accepted the SCP role, and wait for its response.
async fn store_back<T: Transport>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<T>,
    file: &crate::StoreFile,
    ids: &mut dimse_core::dimse::MessageIdAllocator,
    get_message_id: u16,
    cancel_seen: &mut bool,
) -> Option<Status> {
    // The instance's own syntax if the requestor took it; else an uncompressed one we can
    // convert or decompress to (the requestor may accept only one syntax per context).
    let usable = |c: &&dimse_core::assoc::PresentationContext| {
        c.is_accepted() && c.requestor_is_scp && c.abstract_syntax == file.sop_class_uid
    };
    let contexts = &ctx.negotiated?.contexts;
    let accepted = |ts: &str| {
        contexts
            .iter()
            .filter(usable)
            .any(|c| c.transfer_syntax == ts)
    };
    let (to, conversion) = crate::file::plan(file, accepted, ctx.scp.decompress)?;
    let context = contexts
        .iter()
        .filter(usable)
        .find(|c| c.transfer_syntax == to.uid)?;
    let (data, size): (Box<dyn std::io::Read + Send>, u64) = match conversion {
        None => (Box::new(file.data_reader().ok()?), file.data_len),
        Some(conversion) => match file.converted(conversion) {
            Ok(data) => {
                let size = data.len() as u64;
                (Box::new(std::io::Cursor::new(data)), size)
            }
            Err(e) => {
                tracing::warn!(error = %e, "C-GET sub-operation failed");
                return None;
            }
        },
    };
    let rq = CStoreRq::new(
        ids.next(),
        &file.sop_class_uid,
        &file.sop_instance_uid,
        dimse_core::dimse::Priority::Medium,
    );
    conn.assoc
        .send_command(Instant::now(), context.id, &rq.to_command())
        .ok()?;
    if conn
        .stream_data(context.id, data, Some(size))
        .await
        .is_err()
    {
        conn.abort().await;
        return None;
    }
    loop {
        let event = conn.next_fresh_event(None).await.ok()??;
        if let Event::Command { command, .. } = &event {
            if let Ok(Message::CStoreRsp(rsp)) = Message::from_command(command.clone()) {
                if rsp.message_id_being_responded_to == rq.message_id {
                    return Some(rsp.status);
                }
            }
        }
        if matches!(event, Event::Aborted(_)) {
            return None;
        }
        // A cancel during a sub-operation takes effect after it (checked by the caller before
        // the next one); the peer then gets Cancel with the counts so far.
        *cancel_seen |= cancel_or_defer(conn, event) == Some(get_message_id);
    }
}

/// Storage Commitment: answer the N-ACTION with the handler's verdict, then send the report
/// as an N-EVENT-REPORT on this association and wait for its response.
async fn run_commitment<T: Transport>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<T>,
    context_id: u8,
    rq: &NActionRq,
    info: Bytes,
) -> Result<(), assoc::UsageError> {
    let now = Instant::now();
    let respond = |conn: &mut Conn<T>, status: Status| {
        let rsp = NActionRsp::for_request(rq, status);
        conn.assoc
            .send_command(Instant::now(), context_id, &rsp.to_command())
    };
    let ts = ctx
        .negotiated
        .and_then(|n| n.context(context_id))
        .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
    let is_commitment = uid::trim(&rq.requested_sop_class_uid)
        == uid::STORAGE_COMMITMENT_PUSH_MODEL
        && rq.action_type_id == commitment::ACTION_REQUEST;
    let (Some(ts), true) = (ts, is_commitment) else {
        // 0x0123 no such action; 0x0122 for a SOP class we do not serve.
        return respond(
            conn,
            if is_commitment {
                Status::PROCESSING_FAILURE
            } else {
                Status::NO_SUCH_ACTION
            },
        );
    };
    let Some(request) = DataSet::decode(info, ts)
        .ok()
        .and_then(|ds| CommitmentRequest::from_data_set(&ds))
    else {
        return respond(conn, Status::INVALID_ARGUMENT_VALUE);
    };
    let report = match guarded_async(Err(Status::PROCESSING_FAILURE), || {
        ctx.scp.handler.commit(ctx.peer, &request)
    })
    .await
    {
        Ok(r) => r,
        Err(status) => return respond(conn, status),
    };
    respond(conn, Status::SUCCESS)?;
    if ctx.scp.commitment_reports == CommitmentReports::NewAssociation {
        ctx.later
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report);
        return Ok(());
    }
    let Ok(event_info) = report.to_data_set() else {
        return Ok(());
    };
    let event = NEventReportRq::new(
        1,
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
        report.event_type(),
        true,
    );
    let mut encoded = BytesMut::new();
    event_info.encode(ts, &mut encoded);
    conn.assoc
        .send_command(now, context_id, &event.to_command())?;
    conn.assoc
        .send_data(now, context_id, encoded.freeze(), true)?;
    let _ = conn.flush().await;
    // The requestor answers the report; wait for that (bounded by the DIMSE timeout).
    while let Ok(Some(event)) = conn.next_fresh_event(None).await {
        if let Event::Command { command, .. } = &event {
            if let Ok(Message::NEventReportRsp(_)) = Message::from_command(command.clone()) {
                break;
            }
        }
        if matches!(event, Event::Aborted(_)) {
            break;
        }
        conn.defer(event);
    }
    Ok(())
}

/// Send the response of the N-service `request`'s type, with `response`'s data set.
fn send_n_response<T: Transport>(
    conn: &mut Conn<T>,
    negotiated: Option<&Negotiated>,
    context_id: u8,
    request: &Message,
    response: NResponse,
) -> Result<(), assoc::UsageError> {
    let has_data = response.data.is_some();
    let command = match request {
        Message::NGetRq(rq) => {
            let mut rsp = NGetRsp::for_request(rq, response.status);
            rsp.has_data_set = has_data;
            rsp.to_command()
        }
        Message::NSetRq(rq) => {
            let mut rsp = NSetRsp::for_request(rq, response.status);
            rsp.has_data_set = has_data;
            rsp.to_command()
        }
        Message::NCreateRq(rq) => {
            let mut rsp = NCreateRsp::for_request(rq, response.status);
            rsp.has_data_set = has_data;
            if let Some(uid) = &response.affected_sop_instance_uid {
                rsp.affected_sop_instance_uid = Some(uid.clone());
            }
            rsp.to_command()
        }
        Message::NActionRq(rq) => {
            let mut rsp = NActionRsp::for_request(rq, response.status);
            rsp.has_data_set = has_data;
            rsp.to_command()
        }
        Message::NDeleteRq(rq) => NDeleteRsp::for_request(rq, response.status).to_command(),
        other => {
            let id = other.message_id().unwrap_or(0);
            refusal(other.command_field(), id, Status::UNRECOGNIZED_OPERATION)
        }
    };
    let has_data = has_data && !matches!(request, Message::NDeleteRq(_));
    let ts = negotiated
        .and_then(|n| n.context(context_id))
        .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
    let now = Instant::now();
    conn.assoc.send_command(now, context_id, &command)?;
    if let (true, Some(ds), Some(ts)) = (has_data, response.data, ts) {
        let mut encoded = BytesMut::new();
        ds.encode(ts, &mut encoded);
        conn.assoc
            .send_data(now, context_id, encoded.freeze(), true)?;
    }
    Ok(())
}

/// Await a handler's future so that a panic in it becomes `on_panic` (a failure status)
/// instead of the end of the association and its task: PS3.7 gives every request an answer.
async fn guarded_async<'a, T>(on_panic: T, start: impl FnOnce() -> BoxFuture<'a, T>) -> T {
    let Ok(mut work) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(start)) else {
        tracing::error!("handler panicked; answering with a failure status");
        return on_panic;
    };
    let polled = poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Some(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    })
    .await;
    polled.unwrap_or_else(|| {
        tracing::error!("handler panicked; answering with a failure status");
        on_panic
    })
}

/// Run handler code so that a panic in it becomes `on_panic` (a failure status) instead of
/// the end of the association and its thread: PS3.7 gives every request an answer.
fn guarded<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            tracing::error!("handler panicked; answering with a failure status");
            on_panic
        }
    }
}
