//! tokio driver for the dimse DICOM networking core — **not written yet**.
//!
//! This crate is a placeholder so the workspace has its final shape. It will hold the tokio
//! adapter (SCU and SCP with the same names and shapes as `dimse-std`, async where that one
//! blocks); until then it exports nothing. Use `dimse-std` today.
#![forbid(unsafe_code)]
