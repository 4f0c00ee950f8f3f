//! The conformance suite every dimse runtime passes — **not written yet**.
//!
//! It will hold a scripted raw-PDU peer built on `dimse_core::pdu` and the scenarios each
//! runtime's tests run against its SCU and SCP. Today the protocol scenarios live in
//! `core/tests/association_pair.rs` (in memory) and the interop tests in `tests/`.
#![forbid(unsafe_code)]
