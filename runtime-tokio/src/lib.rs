//! DICOM networking on tokio: the shared [`dimse_driver`] over tokio sockets and tasks.
//!
//! The types have the names and shapes of `dimse-std`'s, async where those block: an
//! [`Scu`] and its [`ScuAssociation`], the [`QueryBuilder`], and an [`Scp`] that serves each
//! association as a task of its own. Handlers are the driver's [`Handler`].
//!
//! ```
//! # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # runtime.block_on(async {
//! # let pacs = dimse_driver::example::Pacs;
//! # let server = dimse_tokio::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").await?.spawn()?;
//! use dimse_tokio::{Entity, QueryBuilder, Scu};
//!
//! let scu = Scu::new("MY_SCU");
//! let pacs = Entity::new("PACS", "pacs.example", 104);
//! # let pacs = Entity::local("PACS", server.local_addr().port());
//! assert!(scu.echo(&pacs).await?.is_success());
//! let q = QueryBuilder::new(&scu, &pacs);
//! let images = q.images(&q.series(&q.studies("12345").await?).await?).await?;
//! # assert_eq!(images.len(), 3);
//! # server.stop().await;
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod net;
mod scp;

pub use dimse_driver::adapter::*;
pub use dimse_driver::ServerHandle;
pub use net::{Tokio, TokioStream};
pub use scp::{Scp, Server};

/// A service class user on tokio.
pub type Scu = dimse_driver::Scu<Tokio>;
/// An established association, requestor side, on tokio.
pub type ScuAssociation = dimse_driver::ScuAssociation<Tokio>;
/// The matches of a C-FIND as they arrive, on tokio.
pub type FindResults<'a> = dimse_driver::FindResults<'a, Tokio>;
/// Patient → study → series → image over C-FIND, on tokio.
pub type QueryBuilder<'a> = dimse_driver::QueryBuilder<'a, Tokio>;
