//! What a handler sees and supplies: the [`Handler`] contract and the requests it is given.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use dimse_core::commitment::{CommitmentReport, CommitmentRequest};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{CStoreRq, Message, NEventReportRq, Status};

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
    /// [`Scp::destinations`](crate::Scp::destinations), performs the C-STORE sub-operations and reports progress.
    fn retrieve(&self, _peer: &Peer, _request: &RetrieveRequest) -> Result<Instances, Status> {
        Err(Status::SOP_CLASS_NOT_SUPPORTED)
    }

    /// A Storage Commitment request arrived: say which instances are committed. The
    /// framework answers the N-ACTION, then sends the report as an N-EVENT-REPORT as
    /// [`Scp::commitment_reports`](crate::Scp::commitment_reports) says: on the same association, or on a new one to the
    /// requestor's AE (from [`Scp::destinations`](crate::Scp::destinations)) once the request's association has ended.
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
