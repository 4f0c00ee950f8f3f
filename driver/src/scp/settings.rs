//! The SCP and its settings: policy, limits, destinations, TLS, faults.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use dimse_core::assoc::{self, AcceptorPolicy};

use crate::async_handler::AsyncHandler;
use crate::closing::Closing;
use crate::faults::Faults;
use crate::tls::{ClientTls, ServerTls};
use crate::wire::WireLog;
use dimse_core::Entity;

/// An SCP: negotiation policy, handler, limits.
///
/// ```
/// use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
/// use dimse_core::uid;
/// use dimse_std::{Entity, Handler, Scp, Scu};
///
/// struct EchoOnly;
/// impl Handler for EchoOnly {}
///
/// let mut policy = AcceptorPolicy::new("ECHO_SCP");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// let server = Scp::new(policy, EchoOnly).bind("127.0.0.1:0")?.spawn()?;
///
/// let port = server.local_addr().port();
/// assert!(Scu::new("ME").echo(&Entity::local("ECHO_SCP", port))?.is_success());
/// server.shutdown(std::time::Duration::from_secs(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
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
    pub(super) handler: Arc<dyn AsyncHandler>,
    pub(super) active: Arc<AtomicUsize>,
    pub(super) associations: Arc<AtomicUsize>,
    pub(super) closing: Arc<Closing>,
}

impl Scp {
    /// An SCP answering with `handler` (a [`Handler`](crate::Handler), or an [`AsyncHandler`]) under
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
