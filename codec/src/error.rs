//! [`CodecError`]: what went wrong, and where.

use std::fmt;

use dimse_core::dataset::{DataSetError, Tag};

use crate::Codec;

/// Why [`decompress`](crate::decompress) failed: which element, which frame (counted from
/// 0), which codec.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// The transfer syntax is not one this crate decodes ([`fidelity`](crate::fidelity) says
    /// `None` for it).
    UnsupportedTransferSyntax {
        /// The UID given.
        uid: String,
    },
    /// The data set's element structure is broken (truncated, bad VR, …).
    DataSet(DataSetError),
    /// An image attribute the decoding needs is absent.
    MissingAttribute {
        /// The element's tag (group, element).
        tag: Tag,
        /// Its keyword.
        name: &'static str,
    },
    /// An image attribute has a value this crate cannot use.
    InvalidAttribute {
        /// The element's tag (group, element).
        tag: Tag,
        /// Its keyword.
        name: &'static str,
        /// What was found, as text.
        value: String,
        /// What was expected.
        expected: &'static str,
    },

    /// Pixel Data is native (defined length), not encapsulated fragments.
    NotEncapsulated,
    /// The fragments cannot be grouped into Number of Frames frames.
    Frames {
        /// Number of Frames (0028,0008).
        frames: u32,
        /// Fragments after the Basic Offset Table.
        fragments: usize,
        /// Why the grouping failed.
        detail: String,
    },
    /// The codec rejected a frame's stream as corrupt.
    Decode {
        /// The codec.
        codec: Codec,
        /// The frame, counted from 0.
        frame: u32,
        /// The codec's message.
        detail: String,
    },
    /// The stream or image uses a feature this crate does not decode.
    Unsupported {
        /// The codec.
        codec: Codec,
        /// The frame, counted from 0, when a frame's stream showed the feature.
        frame: Option<u32>,
        /// The feature.
        feature: String,
    },
    /// A frame's stream describes another image than the data set's attributes do.
    Mismatch {
        /// The codec.
        codec: Codec,
        /// The frame, counted from 0.
        frame: u32,
        /// Which property differs, e.g. `"columns"`.
        what: &'static str,
        /// The value from the attributes.
        expected: u64,
        /// The value from the stream.
        found: u64,
    },
    /// A decoded frame does not have Rows × Columns × Samples per Pixel × bytes per sample
    /// bytes.
    FrameSize {
        /// The codec.
        codec: Codec,
        /// The frame, counted from 0.
        frame: u32,
        /// The size the attributes call for.
        expected: usize,
        /// The size decoded.
        actual: usize,
    },
    /// The native Pixel Data would not fit a defined 32-bit length.
    TooLarge {
        /// The native Pixel Data length the attributes call for.
        bytes: u64,
    },
    /// The codec panicked on a frame (a bug in it, caught so that a hostile stream cannot
    /// take the caller down).
    DecoderPanicked {
        /// The codec.
        codec: Codec,
        /// The frame, counted from 0.
        frame: u32,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::UnsupportedTransferSyntax { uid } => {
                write!(
                    f,
                    "transfer syntax {uid} is not one this crate decompresses"
                )
            }
            CodecError::DataSet(e) => write!(f, "data set: {e}"),
            CodecError::MissingAttribute { tag, name } => {
                write!(f, "{name} {} is missing", tag)
            }
            CodecError::InvalidAttribute {
                tag,
                name,
                value,
                expected,
            } => write!(f, "{name} {} is {value:?}, expected {expected}", tag),
            CodecError::NotEncapsulated => {
                f.write_str("Pixel Data (7FE0,0010) is native, not encapsulated")
            }
            CodecError::Frames {
                frames,
                fragments,
                detail,
            } => write!(
                f,
                "cannot group {fragments} fragment(s) into {frames} frame(s): {detail}"
            ),
            CodecError::Decode {
                codec,
                frame,
                detail,
            } => write!(f, "{codec} frame {frame}: {detail}"),
            CodecError::Unsupported {
                codec,
                frame,
                feature,
            } => match frame {
                Some(frame) => write!(f, "{codec} frame {frame}: {feature} not supported"),
                None => write!(f, "{codec}: {feature} not supported"),
            },
            CodecError::Mismatch {
                codec,
                frame,
                what,
                expected,
                found,
            } => write!(
                f,
                "{codec} frame {frame}: the stream has {what} {found}, the attributes say \
                 {expected}"
            ),
            CodecError::FrameSize {
                codec,
                frame,
                expected,
                actual,
            } => write!(
                f,
                "{codec} frame {frame}: decoded {actual} bytes, the attributes call for \
                 {expected}"
            ),
            CodecError::TooLarge { bytes } => write!(
                f,
                "native Pixel Data of {bytes} bytes does not fit a 32-bit element length"
            ),
            CodecError::DecoderPanicked { codec, frame } => {
                write!(f, "{codec} frame {frame}: the decoder panicked")
            }
        }
    }
}

impl std::error::Error for CodecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CodecError::DataSet(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DataSetError> for CodecError {
    fn from(e: DataSetError) -> Self {
        CodecError::DataSet(e)
    }
}
