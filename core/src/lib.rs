//! Sans-IO DICOM networking: the upper layer (PS3.8), ACSE and DIMSE (PS3.7).
//!
//! This crate owns no sockets, threads or clocks. Bytes enter through
//! [`Association::handle_input`](assoc::Association::handle_input) and leave through
//! [`Association::poll_transmit`](assoc::Association::poll_transmit); time enters as a value.
//! Runtime crates (`dimse-std`, `dimse-tokio`, `dimse-smol`) move the bytes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ae;
pub mod assoc;
pub mod commitment;
pub mod dataset;
pub mod dimse;
mod entity;
pub mod matching;
pub mod part10;
pub mod pdu;
pub mod query;
pub mod uid;

pub use entity::Entity;
