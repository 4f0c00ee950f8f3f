//! The runtime-independent half of dimse's networking: everything an SCU or SCP does
//! beyond the protocol core, written once and run by every adapter.
//!
//! [`dimse_core`] decides what the protocol says; this crate decides what to do with it:
//! which request to send, which response belongs to it, how a C-FIND is cancelled, how an SCP
//! dispatches requests to a [`Handler`] and carries out C-MOVE and C-GET sub-operations. It is
//! async code over two small traits, [`Transport`] and [`Runtime`]; the adapters implement
//! them with blocking sockets (`dimse-std`, which polls these futures to completion on the
//! calling thread), tokio (`dimse-tokio`) or async-io (`dimse-smol`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod async_handler;
mod closing;
mod conn;
mod error;
mod file;
mod query;
mod runtime;
mod scp;
mod scu;
mod store;

pub use async_handler::{AsyncHandler, BoxFuture};
pub use dimse_core::Entity;
pub use error::Error;
pub use file::{store_contexts, StoreFile, StoreFileError, FALLBACKS};
pub use query::{ImageRecord, PatientRecord, Query, QueryBuilder, SeriesRecord, StudyRecord};
pub use runtime::{advance, Runtime, Transport};
pub use scp::{
    FindRequest, Handler, Instances, Matches, NRequest, NResponse, Peer, RetrieveRequest, Scp,
    StoreRequest, StoreSink,
};
pub use scu::{FindResults, RetrieveOutcome, Scu, ScuAssociation, StoreOutcome};
pub use store::DirectoryStore;
