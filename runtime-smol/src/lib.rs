//! DICOM networking on smol and async-std: the shared [`dimse_driver`] over async-io
//! sockets and timers.
//!
//! async-io is the reactor of both runtimes, so one adapter serves them: await these
//! futures from `smol::block_on`, a smol executor, or `async_std::task` alike. The types have
//! the names and shapes of `dimse-std`'s, async where those block.
//!
//! ```
//! # smol::block_on(async {
//! # let pacs = dimse_driver::example::Pacs;
//! # let server = dimse_smol::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").await?.spawn()?;
//! use dimse_smol::{Entity, Scu};
//!
//! let scu = Scu::new("MY_SCU");
//! let pacs = Entity::new("PACS", "pacs.example", 104);
//! # let pacs = Entity::local("PACS", server.local_addr().port());
//! assert!(scu.echo(&pacs).await?.is_success());
//! # server.stop().await;
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod net;
mod scp;

pub use dimse_driver::adapter::*;
pub use dimse_driver::ServerHandle;
pub use net::{Smol, SmolStream};
pub use scp::{Scp, Server};

/// A service class user on async-io.
pub type Scu = dimse_driver::Scu<Smol>;
/// An established association, requestor side, on async-io.
pub type ScuAssociation = dimse_driver::ScuAssociation<Smol>;
/// The matches of a C-FIND as they arrive, on async-io.
pub type FindResults<'a> = dimse_driver::FindResults<'a, Smol>;
/// Patient → study → series → image over C-FIND, on async-io.
pub type QueryBuilder<'a> = dimse_driver::QueryBuilder<'a, Smol>;
