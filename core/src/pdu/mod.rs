//! Protocol data units of the DICOM upper layer (PS3.8 §9.3) as plain public values.
//!
//! Every PDU, item and sub-item can be built, encoded and decoded, including combinations the
//! standard forbids: a protocol tester needs to send those too. Validation of what a PDU *means*
//! belongs to [`crate::assoc`], not to the codec.
//!
//! ```
//! use bytes::BytesMut;
//! use dimse_core::pdu::{self, Pdu, Abort, AbortSource};
//!
//! let mut buf = BytesMut::new();
//! pdu::encode(&Pdu::Abort(Abort::new(AbortSource::ServiceUser, 0)), &mut buf);
//! assert_eq!(&buf[..], &[0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
//! let decoded = pdu::decode(&mut buf, &pdu::Limits::default()).unwrap().unwrap();
//! assert!(matches!(decoded, Pdu::Abort(_)));
//! ```

mod decode;
mod encode;
pub mod trace;
mod types;

pub use decode::{decode, peek_header, DecodeError, Limits};
pub use encode::{encode, encode_pdata_header, encode_pdv_header, encoded_len};
pub use types::*;
