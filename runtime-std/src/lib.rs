//! Blocking DICOM networking over `std::net`: the shared [`dimse_driver`] run on the calling
//! thread.
//!
//! - [`Scu`] associates with a peer and sends requests ([`ScuAssociation`]);
//!   [`QueryBuilder`] walks patient → study → series → image over C-FIND.
//! - [`Scp`] listens, negotiates with many peers at once (a thread per association) and
//!   dispatches requests to a [`Handler`]; [`DirectoryStore`] is a handler that writes Part 10
//!   files.
//!
//! Every protocol decision is the core's and every service decision the driver's. This crate
//! supplies blocking sockets ([`net`]), polls the driver's futures to completion on the
//! calling thread ([`block_on`]: a blocking socket never leaves them pending for long), and
//! starts threads.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod block;
pub mod net;
mod scp;
mod scu;

pub use block::block_on;
/// What every handler returns and every response carries.
pub use dimse_core::dimse::Status;
pub use dimse_driver::{
    store_contexts, store_contexts_with, AsyncHandler, BoxFuture, CommitmentReports,
    ContextOptions, Conversion, Decompress, DirectoryStore, Entity, Error, Faults, FindRequest,
    Handler, ImageRecord, Instances, Matches, NRequest, NResponse, PatientRecord, Peer, Query,
    RetrieveOutcome, RetrieveRequest, SendOptions, SeriesRecord, StoreFile, StoreFileError,
    StoreOutcome, StoreRequest, StoreSink, StudyRecord, Syntaxes, Values, WireLog, ASYNC_WINDOW,
    FALLBACKS,
};
pub use net::{Blocking, BlockingStream};
pub use scp::{Scp, Server, ServerHandle};
pub use scu::{FindResults, QueryBuilder, Scu, ScuAssociation};
