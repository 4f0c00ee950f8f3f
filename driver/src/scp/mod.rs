//! The service class provider: negotiate, dispatch requests to a handler, carry out C-FIND, C-MOVE
//! and C-GET for it. Accepting connections is the adapters' part ([`Scp::serve`] takes one).
//!
//! Each module uses only those listed after it: `serve` runs one association and hands each
//! request to `dispatch`, which starts the services of `find`, `retrieve`, `commitment` and
//! `nservice`; they share `operation` (a request's surroundings, replies, C-CANCEL, panic
//! guards), and everything reads `settings` (the [`Scp`] itself).

mod commitment;
mod dispatch;
mod find;
mod nservice;
mod operation;
mod retrieve;
mod serve;
mod settings;

pub use settings::{CommitmentReports, Scp};
