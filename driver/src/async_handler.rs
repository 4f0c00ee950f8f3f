//! Handlers as async functions: what an SCP asks of its application, awaited.

use std::future::Future;
use std::pin::Pin;

use dimse_core::commitment::{CommitmentReport, CommitmentRequest};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{NEventReportRq, Status};

use crate::handler::{
    FindRequest, Handler, Instances, Matches, NRequest, NResponse, Peer, RetrieveRequest,
    StoreRequest, StoreSink,
};

/// A future a handler returns: boxed, so [`AsyncHandler`] can be a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an SCP does with requests, as async functions: for a handler that awaits something
/// (a database, another service) before it answers. Every [`Handler`] is one already, so an
/// SCP takes either. The methods mean what [`Handler`]'s do and have the same defaults; the
/// store sink and the match iterator stay synchronous (they run once per fragment or match).
///
/// ```
/// use dimse_driver::{AsyncHandler, BoxFuture, Peer};
/// use dimse_core::dimse::Status;
///
/// struct Checked;
/// impl AsyncHandler for Checked {
///     fn echo<'a>(&'a self, peer: &'a Peer) -> BoxFuture<'a, Status> {
///         Box::pin(async move {
///             // e.g. look the caller up somewhere before answering
///             if peer.calling_ae == "KNOWN" { Status::SUCCESS } else { Status::NOT_AUTHORIZED }
///         })
///     }
/// }
/// ```
pub trait AsyncHandler: Send + Sync + 'static {
    /// A C-ECHO arrived.
    fn echo<'a>(&'a self, _peer: &'a Peer) -> BoxFuture<'a, Status> {
        Box::pin(async { Status::SUCCESS })
    }

    /// A C-STORE arrived: a sink for its data set, or the status to refuse it with.
    fn store<'a>(
        &'a self,
        _peer: &'a Peer,
        _request: &'a StoreRequest,
    ) -> BoxFuture<'a, Result<Box<dyn StoreSink>, Status>> {
        Box::pin(async { Err(Status::SOP_CLASS_NOT_SUPPORTED) })
    }

    /// A C-FIND arrived: the matches, or the status to refuse it with.
    fn find<'a>(
        &'a self,
        _peer: &'a Peer,
        _request: &'a FindRequest,
    ) -> BoxFuture<'a, Result<Matches, Status>> {
        Box::pin(async { Err(Status::SOP_CLASS_NOT_SUPPORTED) })
    }

    /// A C-MOVE or C-GET arrived: the instances to send, or the status to refuse it with.
    fn retrieve<'a>(
        &'a self,
        _peer: &'a Peer,
        _request: &'a RetrieveRequest,
    ) -> BoxFuture<'a, Result<Instances, Status>> {
        Box::pin(async { Err(Status::SOP_CLASS_NOT_SUPPORTED) })
    }

    /// A Storage Commitment request arrived: which instances are committed.
    fn commit<'a>(
        &'a self,
        _peer: &'a Peer,
        _request: &'a CommitmentRequest,
    ) -> BoxFuture<'a, Result<CommitmentReport, Status>> {
        Box::pin(async { Err(Status::SOP_CLASS_NOT_SUPPORTED) })
    }

    /// An N-GET, N-SET, N-CREATE, N-DELETE or N-ACTION arrived.
    fn n_service<'a>(
        &'a self,
        _peer: &'a Peer,
        _request: &'a NRequest,
    ) -> BoxFuture<'a, NResponse> {
        Box::pin(async { NResponse::status(Status::SOP_CLASS_NOT_SUPPORTED) })
    }

    /// An N-EVENT-REPORT arrived, with its Event Information.
    fn event_report<'a>(
        &'a self,
        _peer: &'a Peer,
        _request: &'a NEventReportRq,
        _info: Option<&'a DataSet>,
    ) -> BoxFuture<'a, Status> {
        Box::pin(async { Status::SOP_CLASS_NOT_SUPPORTED })
    }
}

/// A synchronous handler answers at once. The call happens when the future is first polled,
/// so a panic in it is caught where the driver awaits it.
impl<H: Handler + ?Sized> AsyncHandler for H {
    fn echo<'a>(&'a self, peer: &'a Peer) -> BoxFuture<'a, Status> {
        Box::pin(async move { Handler::echo(self, peer) })
    }

    fn store<'a>(
        &'a self,
        peer: &'a Peer,
        request: &'a StoreRequest,
    ) -> BoxFuture<'a, Result<Box<dyn StoreSink>, Status>> {
        Box::pin(async move { Handler::store(self, peer, request) })
    }

    fn find<'a>(
        &'a self,
        peer: &'a Peer,
        request: &'a FindRequest,
    ) -> BoxFuture<'a, Result<Matches, Status>> {
        Box::pin(async move { Handler::find(self, peer, request) })
    }

    fn retrieve<'a>(
        &'a self,
        peer: &'a Peer,
        request: &'a RetrieveRequest,
    ) -> BoxFuture<'a, Result<Instances, Status>> {
        Box::pin(async move { Handler::retrieve(self, peer, request) })
    }

    fn commit<'a>(
        &'a self,
        peer: &'a Peer,
        request: &'a CommitmentRequest,
    ) -> BoxFuture<'a, Result<CommitmentReport, Status>> {
        Box::pin(async move { Handler::commit(self, peer, request) })
    }

    fn n_service<'a>(&'a self, peer: &'a Peer, request: &'a NRequest) -> BoxFuture<'a, NResponse> {
        Box::pin(async move { Handler::n_service(self, peer, request) })
    }

    fn event_report<'a>(
        &'a self,
        peer: &'a Peer,
        request: &'a NEventReportRq,
        info: Option<&'a DataSet>,
    ) -> BoxFuture<'a, Status> {
        Box::pin(async move { Handler::event_report(self, peer, request, info) })
    }
}
