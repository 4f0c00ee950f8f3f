//! Blocking DICOM networking over `std::net`, driving the sans-IO [`dimse_core`].
//!
//! - [`Scu`] associates with a peer and sends C-ECHO and C-STORE ([`ScuAssociation`]).
//! - [`Scp`] listens, negotiates with many peers at once (a thread per association) and
//!   dispatches requests to a [`Handler`]; [`DirectoryStore`] is a handler that writes Part 10
//!   files.
//!
//! Every protocol decision is the core's; this crate only moves bytes, sets read timeouts to
//! the core's deadlines and starts threads.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conn;
mod error;
mod file;
mod query;
mod scp;
mod scu;
mod store;

pub use dimse_core::Entity;
pub use error::Error;
pub use file::{store_contexts, StoreFile, StoreFileError, FALLBACKS};
pub use query::{ImageRecord, PatientRecord, Query, QueryBuilder, SeriesRecord, StudyRecord};
pub use scp::{
    FindRequest, Handler, Instances, Matches, NRequest, NResponse, Peer, RetrieveRequest, Scp,
    Server, ServerHandle, StoreRequest, StoreSink,
};
pub use scu::{FindResults, RetrieveOutcome, Scu, ScuAssociation, StoreOutcome};
pub use store::DirectoryStore;
