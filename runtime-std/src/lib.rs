//! Blocking DICOM networking over `std::net`: the shared [`dimse_driver`] run on the calling
//! thread.
//!
//! - [`Scu`] associates with a peer and sends requests ([`ScuAssociation`]);
//!   [`QueryBuilder`] walks patient → study → series → image over C-FIND.
//! - [`Scp`] listens, negotiates with many peers at once (a thread per association) and
//!   dispatches requests to a [`Handler`]; [`DirectoryStore`] is a handler that writes Part 10
//!   files.
//!
//! Every protocol decision is the core's and every service decision the driver's, down to the
//! blocking calls ([`dimse_driver::blocking`]: the driver's futures polled to completion on the
//! calling thread, which a blocking socket never leaves pending for long). This crate supplies
//! blocking sockets ([`net`]) and threads.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod net;
mod scp;

pub use dimse_driver::adapter::*;
pub use dimse_driver::blocking::block_on;
pub use net::{Blocking, BlockingStream};
pub use scp::{Listener, Scp, Server, ServerHandle};

/// A service class user over blocking sockets: our AE title and timeouts (the public fields
/// of [`dimse_driver::Scu`], reached through `Deref`); each call returns when it is done.
pub type Scu = dimse_driver::blocking::Scu<Blocking>;
/// An established association, requestor side, over blocking sockets.
pub type ScuAssociation = dimse_driver::blocking::ScuAssociation<Blocking>;
/// The matches of a C-FIND as they arrive, over blocking sockets.
pub type FindResults<'a> = dimse_driver::blocking::FindResults<'a, Blocking>;
/// Patient → study → series → image over C-FIND, over blocking sockets.
pub type QueryBuilder<'a> = dimse_driver::blocking::QueryBuilder<'a, Blocking>;
