//! smol (and async-std) driver for the dimse DICOM networking core — **not written yet**.
//!
//! This crate is a placeholder so the workspace has its final shape. It will hold the adapter
//! written against the futures-io traits and async-io, which serves smol and async-std alike;
//! until then it exports nothing. Use `dimse-std` today.
#![forbid(unsafe_code)]
