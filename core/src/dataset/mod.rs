//! Data sets: a structural walker over encoded bytes, and an in-memory codec.
//!
//! Two ways in, for two needs:
//! - the **walker** ([`validate`], [`validate_strict`], [`find_top_level_string`]) checks the
//!   structure of encoded bytes and reads a top-level value without building anything, so whole
//!   C-STORE data sets stream through as bytes and nothing forces a parse;
//! - the **codec** ([`DataSet`]) decodes a data set into elements and encodes it again, for the
//!   small data sets networking builds and reads (C-FIND identifiers and responses), with typed
//!   accessors and tags by keyword through the standard's [`dictionary`].
//!
//! # The walker
//!
//! [`validate`] walks element headers, sequences, items and encapsulated Pixel Data fragments
//! without decoding values, so a receiver can reject a broken C-STORE data set (or file) before
//! storing or forwarding it; [`find_top_level_string`] reads one top-level value such as SOP
//! Class UID (0008,0016).
//!
//! What is checked:
//! - every header and value fits in its container (the data set, a defined-length item or
//!   sequence), so truncated data is an error, and the data ends on an element boundary;
//! - explicit VRs are standard VRs (PS3.5 §6.2);
//! - undefined length appears only on SQ, on UN (whose content is then Implicit VR Little Endian
//!   items, PS3.5 §6.2.2), on OB/OW/UN Pixel Data (7FE0,0010) holding fragments, and, in
//!   Implicit VR, on any element, which can then only be a sequence;
//! - items, item delimiters and sequence delimiters appear only where they belong, fragments
//!   have defined lengths, and undefined-length containers are terminated;
//! - nesting is at most [`MAX_DEPTH`] sequences deep, so hostile input cannot exhaust the stack.
//!
//! What is not checked (lenient like common toolkits): tag order, odd value lengths, value
//! contents, and the lengths of delimiters (ignored, as DCMTK does). In Implicit VR a
//! defined-length sequence cannot be told from a plain value without a dictionary, so its
//! content is only checked to fit. The walker does not inflate deflated data sets:
//! [`validate`] accepts them unchecked, [`find_top_level_string`] reports
//! [`DataSetErrorKind::Deflated`] (decode them with [`DataSet::decode`]).
//!
//! ```
//! use dimse_core::{dataset, uid::TransferSyntax};
//!
//! // (0008,0016) UI "1.2" + NUL, explicit VR little endian
//! let data = [0x08, 0x00, 0x16, 0x00, b'U', b'I', 4, 0, b'1', b'.', b'2', 0];
//! let ts = TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
//! assert!(dataset::validate(&data, &ts).is_ok());
//! assert_eq!(
//!     dataset::find_top_level_string(&data, &ts, dataset::Tag(0x0008, 0x0016)).unwrap().as_deref(),
//!     Some("1.2")
//! );
//! let err = dataset::validate(&data[..10], &ts).unwrap_err();
//! assert_eq!(err.offset, 0);
//! ```

mod codec;
pub mod dictionary;
pub(crate) mod header;
pub mod json;
mod tag;
pub mod transcode;
mod value;
mod walk;

pub use codec::MAX_INFLATED_LEN;
pub(crate) use header::{Enc, UNDEFINED_LENGTH};
pub use json::{array_to_json, to_json};
pub use tag::{Tag, Vr};
pub use transcode::{can_transcode, transcode, TranscodeError};
pub use value::{DataSet, Date, Element, Value, ValueError};
pub use walk::{element_extent, element_header, top_level_elements, ElementSpan};
pub use walk::{
    find_top_level_string, validate, validate_noting_values, validate_strict, DataSetError,
    DataSetErrorKind, MAX_DEPTH,
};
