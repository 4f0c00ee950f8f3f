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
pub mod blocking;
mod closing;
mod conn;
mod error;
#[doc(hidden)]
pub mod example;
mod faults;
mod file;
mod handler;
mod query;
mod runtime;
mod scp;
mod scu;
mod send;
mod server;
mod store;
mod tls;
mod wire;

pub use async_handler::{AsyncHandler, BoxFuture};
pub use dimse_core::Entity;
pub use error::Error;
pub use faults::Faults;
pub use file::{
    store_contexts, store_contexts_with, ContextOptions, Conversion, Decompress, StoreFile,
    StoreFileError, Syntaxes, Values, FALLBACKS, MAX_CONTEXTS,
};
pub use handler::{
    FindRequest, Handler, Instances, Matches, NRequest, NResponse, Peer, RetrieveRequest,
    StoreRequest, StoreSink,
};
pub use query::{ImageRecord, PatientRecord, Query, QueryBuilder, SeriesRecord, StudyRecord};
pub use runtime::{read_result, Runtime, Transport};
pub use scp::{CommitmentReports, Scp};
pub use scu::{FindResults, RetrieveOutcome, Scu, ScuAssociation, StoreOutcome};
pub use send::SendOptions;
pub use server::{Host, Server, ServerHandle, Stopper};
pub use store::DirectoryStore;
pub use tls::{
    CertificateProblem, ClientTls, Fingerprint, Identity, Link, ServerTls, TlsError, TlsFailure,
    TlsStream, Trust,
};
pub use wire::WireLog;

/// How many requests the SCP lets a requestor keep in flight (asynchronous operations
/// window, PS3.7 D.3.3.3) in the policies this crate and the archive build, and what the
/// `dimse` SCU proposes. The SCP serves them in order. On loopback a few would do; across
/// a link with 40 ms round trips (the loopback benchmark's relay case), `dimse store` sent
/// 300 small instances into `dimse serve` in 0.33 s with 64 in flight and 0.87 s with 16. The
/// memory it costs is bounded apart: a driver stops reading while 32 MiB of events wait.
pub const ASYNC_WINDOW: u16 = 64;

#[doc(hidden)]
pub use dimse_core as __core;

/// What every handler returns and every response carries.
pub use dimse_core::dimse::Status;

/// The names every adapter crate re-exports (`pub use dimse_driver::adapter::*;`), so a
/// handler, a policy and every SCU call are written against the adapter crate alone. For the
/// adapter crates; not a stable interface.
#[doc(hidden)]
pub mod adapter {
    pub use crate::{
        store_contexts, store_contexts_with, AsyncHandler, BoxFuture, CommitmentReports,
        ContextOptions, Conversion, Decompress, DirectoryStore, Entity, Error, Faults, FindRequest,
        Handler, ImageRecord, Instances, Matches, NRequest, NResponse, PatientRecord, Peer, Query,
        RetrieveOutcome, RetrieveRequest, SendOptions, SeriesRecord, Status, StoreFile,
        StoreFileError, StoreOutcome, StoreRequest, StoreSink, StudyRecord, Syntaxes, Values,
        WireLog, ASYNC_WINDOW, FALLBACKS,
    };
    pub use crate::{
        CertificateProblem, ClientTls, Fingerprint, Identity, ServerTls, TlsError, TlsFailure,
        Trust,
    };
    pub use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
    pub use dimse_core::dataset::{DataSet, Tag};
    // The core's modules, for what goes beyond the names above (messages, UIDs, PDUs).
    pub use dimse_core::{assoc, commitment, dataset, dimse, pdu, uid};
}

/// Declares an adapter's `Scp`: the driver's [`Scp`] under the adapter's name (fields through
/// `Deref`), `From<dimse_driver::Scp>`, `new`, `with_destination` and `with_tls_destination`;
/// the adapter adds `bind`.
/// Takes the doc comment of the type. For the adapter crates; not a stable interface.
#[doc(hidden)]
#[macro_export]
macro_rules! adapter_scp {
    ($(#[$doc:meta])*) => {
        $(#[$doc])*
        pub struct Scp($crate::Scp);

        impl ::std::ops::Deref for Scp {
            type Target = $crate::Scp;
            fn deref(&self) -> &$crate::Scp {
                &self.0
            }
        }

        impl ::std::ops::DerefMut for Scp {
            fn deref_mut(&mut self) -> &mut $crate::Scp {
                &mut self.0
            }
        }

        /// Serve an SCP configured without a runtime in mind (one value serves on any adapter).
        impl ::std::convert::From<$crate::Scp> for Scp {
            fn from(scp: $crate::Scp) -> Self {
                Scp(scp)
            }
        }

        impl Scp {
            /// An SCP answering with `handler` (a [`Handler`]($crate::Handler) or an
            /// [`AsyncHandler`]($crate::AsyncHandler)) under `policy`.
            pub fn new(
                policy: $crate::__core::assoc::AcceptorPolicy,
                handler: impl $crate::AsyncHandler,
            ) -> Self {
                Scp($crate::Scp::new(policy, handler))
            }

            /// Add a C-MOVE destination.
            pub fn with_destination(self, entity: $crate::Entity) -> Self {
                Scp(self.0.with_destination(entity))
            }

            /// Add a C-MOVE destination reached over TLS.
            pub fn with_tls_destination(
                self,
                entity: $crate::Entity,
                tls: $crate::ClientTls,
            ) -> Self {
                Scp(self.0.with_tls_destination(entity, tls))
            }
        }
    };
}
