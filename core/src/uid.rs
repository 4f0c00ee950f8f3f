//! Well-known DICOM UIDs, transfer syntax properties and SOP class lookups.
//!
//! UIDs are plain `&str` constants without padding. Values read off the wire may carry a
//! trailing `0x00` (data elements, PS3.5 §9.1) or, from sloppy peers, spaces; [`trim`] removes
//! both so that the exact string comparison the standard intends works.
//!
//! ```
//! use dimse_core::uid;
//!
//! let ts = uid::transfer_syntax("1.2.840.10008.1.2.1\0").unwrap();
//! assert!(ts.explicit_vr && !ts.big_endian && !ts.encapsulated);
//! assert!(uid::is_storage_sop_class(uid::CT_IMAGE_STORAGE));
//! assert_eq!(uid::sop_class_name(uid::VERIFICATION), Some("Verification"));
//! ```

/// Implementation Class UID of this library (A-ASSOCIATE item 0x52, file meta (0002,0012)).
///
/// Derived once from a random 128-bit number under the `2.25` UUID root (PS3.5 Annex B), so it
/// needs no registered organisation root and cannot collide with anyone else's.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.135687895803747503005502137706764405259";

/// Implementation Version Name of this library (A-ASSOCIATE item 0x55, file meta (0002,0013)).
pub const IMPLEMENTATION_VERSION_NAME: &str = "DIMSE_0.1";

/// Strips the padding a UID may carry on the wire: trailing `0x00` and spaces.
///
/// ```
/// assert_eq!(dimse_core::uid::trim("1.2.840.10008.1.1\0"), "1.2.840.10008.1.1");
/// ```
pub fn trim(uid: &str) -> &str {
    uid.trim_end_matches(['\0', ' '])
}

// ---------------------------------------------------------------------------------------------
// Core UIDs (application context, service classes that are not storage)
// ---------------------------------------------------------------------------------------------

/// DICOM Application Context Name, the only application context (A-ASSOCIATE item 0x10).
pub const APPLICATION_CONTEXT_NAME: &str = "1.2.840.10008.3.1.1.1";
/// Verification SOP Class (C-ECHO).
pub const VERIFICATION: &str = "1.2.840.10008.1.1";
/// Storage Commitment Push Model SOP Class.
pub const STORAGE_COMMITMENT_PUSH_MODEL: &str = "1.2.840.10008.1.20.1";
/// Storage Commitment Push Model SOP Instance (the well-known instance N-ACTION addresses).
pub const STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE: &str = "1.2.840.10008.1.20.1.1";
/// Modality Performed Procedure Step SOP Class.
pub const MODALITY_PERFORMED_PROCEDURE_STEP: &str = "1.2.840.10008.3.1.2.3.3";
/// Storage Service Class UID, used in SOP Class Common Extended Negotiation (item 0x57).
pub const STORAGE_SERVICE_CLASS: &str = "1.2.840.10008.4.2";
/// Media Storage Directory Storage (DICOMDIR); media only, never sent with C-STORE.
pub const MEDIA_STORAGE_DIRECTORY_STORAGE: &str = "1.2.840.10008.1.3.10";

/// Patient Root Query/Retrieve Information Model – FIND.
pub const PATIENT_ROOT_QR_FIND: &str = "1.2.840.10008.5.1.4.1.2.1.1";
/// Patient Root Query/Retrieve Information Model – MOVE.
pub const PATIENT_ROOT_QR_MOVE: &str = "1.2.840.10008.5.1.4.1.2.1.2";
/// Patient Root Query/Retrieve Information Model – GET.
pub const PATIENT_ROOT_QR_GET: &str = "1.2.840.10008.5.1.4.1.2.1.3";
/// Study Root Query/Retrieve Information Model – FIND.
pub const STUDY_ROOT_QR_FIND: &str = "1.2.840.10008.5.1.4.1.2.2.1";
/// Study Root Query/Retrieve Information Model – MOVE.
pub const STUDY_ROOT_QR_MOVE: &str = "1.2.840.10008.5.1.4.1.2.2.2";
/// Study Root Query/Retrieve Information Model – GET.
pub const STUDY_ROOT_QR_GET: &str = "1.2.840.10008.5.1.4.1.2.2.3";
/// Patient/Study Only Query/Retrieve Information Model – FIND (retired).
pub const PATIENT_STUDY_ONLY_QR_FIND: &str = "1.2.840.10008.5.1.4.1.2.3.1";
/// Patient/Study Only Query/Retrieve Information Model – MOVE (retired).
pub const PATIENT_STUDY_ONLY_QR_MOVE: &str = "1.2.840.10008.5.1.4.1.2.3.2";
/// Patient/Study Only Query/Retrieve Information Model – GET (retired).
pub const PATIENT_STUDY_ONLY_QR_GET: &str = "1.2.840.10008.5.1.4.1.2.3.3";
/// Composite Instance Root Retrieve – MOVE.
pub const COMPOSITE_INSTANCE_ROOT_RETRIEVE_MOVE: &str = "1.2.840.10008.5.1.4.1.2.4.2";
/// Composite Instance Root Retrieve – GET.
pub const COMPOSITE_INSTANCE_ROOT_RETRIEVE_GET: &str = "1.2.840.10008.5.1.4.1.2.4.3";
/// Composite Instance Retrieve Without Bulk Data – GET.
pub const COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET: &str = "1.2.840.10008.5.1.4.1.2.5.3";
/// Modality Worklist Information Model – FIND.
pub const MODALITY_WORKLIST_FIND: &str = "1.2.840.10008.5.1.4.31";

// ---------------------------------------------------------------------------------------------
// Common storage SOP classes
// ---------------------------------------------------------------------------------------------

/// Computed Radiography Image Storage.
pub const CR_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.1";
/// Digital X-Ray Image Storage – For Presentation.
pub const DX_IMAGE_STORAGE_FOR_PRESENTATION: &str = "1.2.840.10008.5.1.4.1.1.1.1";
/// Digital Mammography X-Ray Image Storage – For Presentation.
pub const MG_IMAGE_STORAGE_FOR_PRESENTATION: &str = "1.2.840.10008.5.1.4.1.1.1.2";
/// CT Image Storage.
pub const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
/// Enhanced CT Image Storage.
pub const ENHANCED_CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2.1";
/// MR Image Storage.
pub const MR_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.4";
/// Enhanced MR Image Storage.
pub const ENHANCED_MR_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.4.1";
/// Ultrasound Image Storage.
pub const US_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.6.1";
/// Ultrasound Multi-frame Image Storage.
pub const US_MULTIFRAME_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.3.1";
/// Secondary Capture Image Storage.
pub const SECONDARY_CAPTURE_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.7";
/// X-Ray Angiographic Image Storage.
pub const XA_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.12.1";
/// Nuclear Medicine Image Storage.
pub const NM_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.20";
/// Segmentation Storage.
pub const SEGMENTATION_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.66.4";
/// Basic Text SR Storage.
pub const BASIC_TEXT_SR_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.88.11";
/// Enhanced SR Storage.
pub const ENHANCED_SR_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.88.22";
/// Comprehensive SR Storage.
pub const COMPREHENSIVE_SR_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.88.33";
/// Key Object Selection Document Storage.
pub const KEY_OBJECT_SELECTION_DOCUMENT_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.88.59";
/// Encapsulated PDF Storage.
pub const ENCAPSULATED_PDF_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.104.1";
/// Positron Emission Tomography Image Storage.
pub const PET_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.128";
/// RT Image Storage.
pub const RT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.1";
/// RT Dose Storage.
pub const RT_DOSE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.2";
/// RT Structure Set Storage.
pub const RT_STRUCTURE_SET_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.3";
/// RT Plan Storage.
pub const RT_PLAN_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.5";

// ---------------------------------------------------------------------------------------------
// Transfer syntaxes
// ---------------------------------------------------------------------------------------------

/// Implicit VR Little Endian, the default transfer syntax (and the one of every command set).
pub const IMPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
pub const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";
/// Short alias of [`IMPLICIT_VR_LITTLE_ENDIAN`].
pub const IMPLICIT_VR_LE: &str = IMPLICIT_VR_LITTLE_ENDIAN;
/// Short alias of [`EXPLICIT_VR_LITTLE_ENDIAN`].
pub const EXPLICIT_VR_LE: &str = EXPLICIT_VR_LITTLE_ENDIAN;
/// Encapsulated Uncompressed Explicit VR Little Endian.
pub const ENCAPSULATED_UNCOMPRESSED_EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1.98";
/// Deflated Explicit VR Little Endian (the whole data set is raw-deflated).
pub const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1.99";
/// Explicit VR Big Endian (retired).
pub const EXPLICIT_VR_BIG_ENDIAN: &str = "1.2.840.10008.1.2.2";
/// JPEG Baseline (Process 1), 8-bit lossy.
pub const JPEG_BASELINE_8BIT: &str = "1.2.840.10008.1.2.4.50";
/// JPEG Extended (Process 2 & 4), 12-bit lossy.
pub const JPEG_EXTENDED_12BIT: &str = "1.2.840.10008.1.2.4.51";
/// JPEG Lossless, Non-Hierarchical (Process 14).
pub const JPEG_LOSSLESS_P14: &str = "1.2.840.10008.1.2.4.57";
/// JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, SV1).
pub const JPEG_LOSSLESS_SV1: &str = "1.2.840.10008.1.2.4.70";
/// JPEG-LS Lossless.
pub const JPEG_LS_LOSSLESS: &str = "1.2.840.10008.1.2.4.80";
/// JPEG-LS Lossy (Near-Lossless).
pub const JPEG_LS_NEAR_LOSSLESS: &str = "1.2.840.10008.1.2.4.81";
/// JPEG 2000 (Lossless Only).
pub const JPEG_2000_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
/// JPEG 2000 (lossless or lossy).
pub const JPEG_2000: &str = "1.2.840.10008.1.2.4.91";
/// JPEG 2000 Part 2 Multi-component (Lossless Only).
pub const JPEG_2000_MC_LOSSLESS: &str = "1.2.840.10008.1.2.4.92";
/// JPEG 2000 Part 2 Multi-component (lossless or lossy).
pub const JPEG_2000_MC: &str = "1.2.840.10008.1.2.4.93";
/// JPIP Referenced (pixel data replaced by a URL; not encapsulated).
pub const JPIP_REFERENCED: &str = "1.2.840.10008.1.2.4.94";
/// JPIP Referenced Deflate (deflated, pixel data replaced by a URL).
pub const JPIP_REFERENCED_DEFLATE: &str = "1.2.840.10008.1.2.4.95";
/// MPEG2 Main Profile @ Main Level.
pub const MPEG2_MPML: &str = "1.2.840.10008.1.2.4.100";
/// Fragmentable MPEG2 Main Profile @ Main Level.
pub const MPEG2_MPML_FRAGMENTABLE: &str = "1.2.840.10008.1.2.4.100.1";
/// MPEG2 Main Profile @ High Level.
pub const MPEG2_MPHL: &str = "1.2.840.10008.1.2.4.101";
/// Fragmentable MPEG2 Main Profile @ High Level.
pub const MPEG2_MPHL_FRAGMENTABLE: &str = "1.2.840.10008.1.2.4.101.1";
/// MPEG-4 AVC/H.264 High Profile / Level 4.1.
pub const MPEG4_HP41: &str = "1.2.840.10008.1.2.4.102";
/// Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1.
pub const MPEG4_HP41_FRAGMENTABLE: &str = "1.2.840.10008.1.2.4.102.1";
/// MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1.
pub const MPEG4_HP41_BD: &str = "1.2.840.10008.1.2.4.103";
/// Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1.
pub const MPEG4_HP41_BD_FRAGMENTABLE: &str = "1.2.840.10008.1.2.4.103.1";
/// MPEG-4 AVC/H.264 High Profile / Level 4.2 for 2D video.
pub const MPEG4_HP42_2D: &str = "1.2.840.10008.1.2.4.104";
/// Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 for 2D video.
pub const MPEG4_HP42_2D_FRAGMENTABLE: &str = "1.2.840.10008.1.2.4.104.1";
/// MPEG-4 AVC/H.264 High Profile / Level 4.2 for 3D video.
pub const MPEG4_HP42_3D: &str = "1.2.840.10008.1.2.4.105";
/// Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 for 3D video.
pub const MPEG4_HP42_3D_FRAGMENTABLE: &str = "1.2.840.10008.1.2.4.105.1";
/// MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2.
pub const MPEG4_HP42_STEREO: &str = "1.2.840.10008.1.2.4.106";
/// Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2.
pub const MPEG4_HP42_STEREO_FRAGMENTABLE: &str = "1.2.840.10008.1.2.4.106.1";
/// HEVC/H.265 Main Profile / Level 5.1.
pub const HEVC_MP51: &str = "1.2.840.10008.1.2.4.107";
/// HEVC/H.265 Main 10 Profile / Level 5.1.
pub const HEVC_M10P51: &str = "1.2.840.10008.1.2.4.108";
/// JPEG XL Lossless.
pub const JPEG_XL_LOSSLESS: &str = "1.2.840.10008.1.2.4.110";
/// JPEG XL JPEG Recompression.
pub const JPEG_XL_JPEG_RECOMPRESSION: &str = "1.2.840.10008.1.2.4.111";
/// JPEG XL.
pub const JPEG_XL: &str = "1.2.840.10008.1.2.4.112";
/// High-Throughput JPEG 2000 (Lossless Only).
pub const HTJ2K_LOSSLESS: &str = "1.2.840.10008.1.2.4.201";
/// High-Throughput JPEG 2000 with RPCL Options (Lossless Only).
pub const HTJ2K_LOSSLESS_RPCL: &str = "1.2.840.10008.1.2.4.202";
/// High-Throughput JPEG 2000 (lossless or lossy).
pub const HTJ2K: &str = "1.2.840.10008.1.2.4.203";
/// JPIP HTJ2K Referenced (pixel data replaced by a URL; not encapsulated).
pub const JPIP_HTJ2K_REFERENCED: &str = "1.2.840.10008.1.2.4.204";
/// JPIP HTJ2K Referenced Deflate (deflated, pixel data replaced by a URL).
pub const JPIP_HTJ2K_REFERENCED_DEFLATE: &str = "1.2.840.10008.1.2.4.205";
/// RLE Lossless.
pub const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
/// Deflated Image Frame Compression.
pub const DEFLATED_IMAGE_FRAME_COMPRESSION: &str = "1.2.840.10008.1.2.8.1";

/// How a transfer syntax encodes a data set, as far as parsing the element structure goes.
///
/// ```
/// let ts = dimse_core::uid::transfer_syntax(dimse_core::uid::RLE_LOSSLESS).unwrap();
/// assert_eq!(ts.name, "RLE Lossless");
/// assert!(ts.explicit_vr && ts.encapsulated && !ts.deflated);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferSyntax {
    /// The transfer syntax UID, without padding.
    pub uid: &'static str,
    /// Its name as in PS3.6 (retired ones say so).
    pub name: &'static str,
    /// Explicit VR (false only for Implicit VR Little Endian).
    pub explicit_vr: bool,
    /// Big endian byte order (only the retired Explicit VR Big Endian).
    pub big_endian: bool,
    /// The whole data set is raw-deflated (RFC 1951) after the file meta / in the P-DATA.
    pub deflated: bool,
    /// Pixel Data is encapsulated: undefined length, a sequence of fragments.
    pub encapsulated: bool,
}

impl TransferSyntax {
    /// The default transfer syntax, Implicit VR Little Endian (also the one of command sets).
    pub const IMPLICIT_VR_LITTLE_ENDIAN: TransferSyntax = ts(
        IMPLICIT_VR_LITTLE_ENDIAN,
        "Implicit VR Little Endian",
        Kind::Implicit,
    );
    /// Explicit VR Little Endian.
    pub const EXPLICIT_VR_LITTLE_ENDIAN: TransferSyntax = ts(
        EXPLICIT_VR_LITTLE_ENDIAN,
        "Explicit VR Little Endian",
        Kind::Native,
    );
}

#[derive(Clone, Copy)]
enum Kind {
    Implicit,
    Native,
    BigEndian,
    Deflated,
    Encapsulated,
}

const fn ts(uid: &'static str, name: &'static str, kind: Kind) -> TransferSyntax {
    TransferSyntax {
        uid,
        name,
        explicit_vr: !matches!(kind, Kind::Implicit),
        big_endian: matches!(kind, Kind::BigEndian),
        deflated: matches!(kind, Kind::Deflated),
        encapsulated: matches!(kind, Kind::Encapsulated),
    }
}

use Kind::{BigEndian, Deflated, Encapsulated, Native};

/// Every transfer syntax [`transfer_syntax`] knows.
///
/// Left out on purpose: the SMPTE ST 2110 syntaxes (1.2.840.10008.1.2.7.x, real-time video
/// metadata only, never a stored data set) and the retired RFC 2557 / XML encodings, which are
/// not element encodings at all. The JPIP Referenced syntaxes replace Pixel Data by a URL, so
/// they are *not* encapsulated, and their Deflate variants are deflated.
pub static TRANSFER_SYNTAXES: &[TransferSyntax] = &[
    TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN,
    TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN,
    ts(
        ENCAPSULATED_UNCOMPRESSED_EXPLICIT_VR_LITTLE_ENDIAN,
        "Encapsulated Uncompressed Explicit VR Little Endian",
        Encapsulated,
    ),
    ts(
        DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
        "Deflated Explicit VR Little Endian",
        Deflated,
    ),
    ts(
        EXPLICIT_VR_BIG_ENDIAN,
        "Explicit VR Big Endian (Retired)",
        BigEndian,
    ),
    ts(
        JPEG_BASELINE_8BIT,
        "JPEG Baseline (Process 1)",
        Encapsulated,
    ),
    ts(
        JPEG_EXTENDED_12BIT,
        "JPEG Extended (Process 2 & 4)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.52",
        "JPEG Extended (Process 3 & 5) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.53",
        "JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.54",
        "JPEG Spectral Selection, Non-Hierarchical (Process 7 & 9) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.55",
        "JPEG Full Progression, Non-Hierarchical (Process 10 & 12) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.56",
        "JPEG Full Progression, Non-Hierarchical (Process 11 & 13) (Retired)",
        Encapsulated,
    ),
    ts(
        JPEG_LOSSLESS_P14,
        "JPEG Lossless, Non-Hierarchical (Process 14)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.58",
        "JPEG Lossless, Non-Hierarchical (Process 15) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.59",
        "JPEG Extended, Hierarchical (Process 16 & 18) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.60",
        "JPEG Extended, Hierarchical (Process 17 & 19) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.61",
        "JPEG Spectral Selection, Hierarchical (Process 20 & 22) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.62",
        "JPEG Spectral Selection, Hierarchical (Process 21 & 23) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.63",
        "JPEG Full Progression, Hierarchical (Process 24 & 26) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.64",
        "JPEG Full Progression, Hierarchical (Process 25 & 27) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.65",
        "JPEG Lossless, Hierarchical (Process 28) (Retired)",
        Encapsulated,
    ),
    ts(
        "1.2.840.10008.1.2.4.66",
        "JPEG Lossless, Hierarchical (Process 29) (Retired)",
        Encapsulated,
    ),
    ts(
        JPEG_LOSSLESS_SV1,
        "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
        Encapsulated,
    ),
    ts(
        JPEG_LS_LOSSLESS,
        "JPEG-LS Lossless Image Compression",
        Encapsulated,
    ),
    ts(
        JPEG_LS_NEAR_LOSSLESS,
        "JPEG-LS Lossy (Near-Lossless) Image Compression",
        Encapsulated,
    ),
    ts(
        JPEG_2000_LOSSLESS,
        "JPEG 2000 Image Compression (Lossless Only)",
        Encapsulated,
    ),
    ts(JPEG_2000, "JPEG 2000 Image Compression", Encapsulated),
    ts(
        JPEG_2000_MC_LOSSLESS,
        "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)",
        Encapsulated,
    ),
    ts(
        JPEG_2000_MC,
        "JPEG 2000 Part 2 Multi-component Image Compression",
        Encapsulated,
    ),
    ts(JPIP_REFERENCED, "JPIP Referenced", Native),
    ts(JPIP_REFERENCED_DEFLATE, "JPIP Referenced Deflate", Deflated),
    ts(MPEG2_MPML, "MPEG2 Main Profile / Main Level", Encapsulated),
    ts(
        MPEG2_MPML_FRAGMENTABLE,
        "Fragmentable MPEG2 Main Profile / Main Level",
        Encapsulated,
    ),
    ts(MPEG2_MPHL, "MPEG2 Main Profile / High Level", Encapsulated),
    ts(
        MPEG2_MPHL_FRAGMENTABLE,
        "Fragmentable MPEG2 Main Profile / High Level",
        Encapsulated,
    ),
    ts(
        MPEG4_HP41,
        "MPEG-4 AVC/H.264 High Profile / Level 4.1",
        Encapsulated,
    ),
    ts(
        MPEG4_HP41_FRAGMENTABLE,
        "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1",
        Encapsulated,
    ),
    ts(
        MPEG4_HP41_BD,
        "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
        Encapsulated,
    ),
    ts(
        MPEG4_HP41_BD_FRAGMENTABLE,
        "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
        Encapsulated,
    ),
    ts(
        MPEG4_HP42_2D,
        "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video",
        Encapsulated,
    ),
    ts(
        MPEG4_HP42_2D_FRAGMENTABLE,
        "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video",
        Encapsulated,
    ),
    ts(
        MPEG4_HP42_3D,
        "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video",
        Encapsulated,
    ),
    ts(
        MPEG4_HP42_3D_FRAGMENTABLE,
        "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video",
        Encapsulated,
    ),
    ts(
        MPEG4_HP42_STEREO,
        "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2",
        Encapsulated,
    ),
    ts(
        MPEG4_HP42_STEREO_FRAGMENTABLE,
        "Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2",
        Encapsulated,
    ),
    ts(
        HEVC_MP51,
        "HEVC/H.265 Main Profile / Level 5.1",
        Encapsulated,
    ),
    ts(
        HEVC_M10P51,
        "HEVC/H.265 Main 10 Profile / Level 5.1",
        Encapsulated,
    ),
    ts(JPEG_XL_LOSSLESS, "JPEG XL Lossless", Encapsulated),
    ts(
        JPEG_XL_JPEG_RECOMPRESSION,
        "JPEG XL JPEG Recompression",
        Encapsulated,
    ),
    ts(JPEG_XL, "JPEG XL", Encapsulated),
    ts(
        HTJ2K_LOSSLESS,
        "High-Throughput JPEG 2000 Image Compression (Lossless Only)",
        Encapsulated,
    ),
    ts(
        HTJ2K_LOSSLESS_RPCL,
        "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)",
        Encapsulated,
    ),
    ts(
        HTJ2K,
        "High-Throughput JPEG 2000 Image Compression",
        Encapsulated,
    ),
    ts(JPIP_HTJ2K_REFERENCED, "JPIP HTJ2K Referenced", Native),
    ts(
        JPIP_HTJ2K_REFERENCED_DEFLATE,
        "JPIP HTJ2K Referenced Deflate",
        Deflated,
    ),
    ts(RLE_LOSSLESS, "RLE Lossless", Encapsulated),
    ts(
        DEFLATED_IMAGE_FRAME_COMPRESSION,
        "Deflated Image Frame Compression",
        Encapsulated,
    ),
];

/// Looks up a transfer syntax by UID (trailing NUL/space padding ignored).
///
/// Returns `None` for UIDs this library cannot parse data sets of (private syntaxes included).
pub fn transfer_syntax(uid: &str) -> Option<&'static TransferSyntax> {
    let uid = trim(uid);
    TRANSFER_SYNTAXES.iter().find(|ts| ts.uid == uid)
}

/// Whether `uid` has the form PS3.5 §9.1 gives UIDs: at most 64 characters, digits and dots,
/// starting with a digit. Such a string is also safe as a file name.
///
/// ```
/// use dimse_core::uid::is_valid_uid;
///
/// assert!(is_valid_uid("1.2.840.10008.1.1"));
/// assert!(!is_valid_uid("../etc/passwd"));
/// assert!(!is_valid_uid(""));
/// ```
pub fn is_valid_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 64
        && uid.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !uid.starts_with('.')
}

/// Prefix shared by (almost) all composite storage SOP classes, PS3.4 Annex B.5.
const STORAGE_PREFIX: &str = "1.2.840.10008.5.1.4.1.1.";

/// Standard storage SOP classes outside [`STORAGE_PREFIX`]: the Non-Patient Object Storage
/// classes (PS3.4 Annex GG), the RT delivery instruction classes, and retired print-era ones.
/// DICOMDIR (1.2.840.10008.1.3.10) is deliberately absent: it is a media-only class.
const OTHER_STORAGE_CLASSES: &[&str] = &[
    "1.2.840.10008.5.1.1.27",    // Stored Print Storage (retired)
    "1.2.840.10008.5.1.1.29",    // Hardcopy Grayscale Image Storage (retired)
    "1.2.840.10008.5.1.1.30",    // Hardcopy Color Image Storage (retired)
    "1.2.840.10008.5.1.4.34.1",  // RT Beams Delivery Instruction Storage – Trial (retired)
    "1.2.840.10008.5.1.4.34.7",  // RT Beams Delivery Instruction Storage
    "1.2.840.10008.5.1.4.34.10", // RT Brachy Application Setup Delivery Instruction Storage
    "1.2.840.10008.5.1.4.38.1",  // Hanging Protocol Storage
    "1.2.840.10008.5.1.4.39.1",  // Color Palette Storage
    "1.2.840.10008.5.1.4.43.1",  // Generic Implant Template Storage
    "1.2.840.10008.5.1.4.44.1",  // Implant Assembly Template Storage
    "1.2.840.10008.5.1.4.45.1",  // Implant Template Group Storage
];

/// Whether `uid` is a standard storage SOP class (one a Storage SCP receives with C-STORE).
///
/// The rule: every UID strictly below `1.2.840.10008.5.1.4.1.1` (the composite storage
/// namespace, which PS3.6 uses for nothing else, retired classes included), plus the short list
/// of storage classes that live elsewhere (non-patient objects such as Hanging Protocol and
/// Color Palette, RT delivery instructions, retired hardcopy/stored print). Private storage
/// classes cannot be recognised from the UID; an SCP that wants them must list them itself.
///
/// ```
/// use dimse_core::uid::is_storage_sop_class;
/// assert!(is_storage_sop_class("1.2.840.10008.5.1.4.1.1.481.5\0"));
/// assert!(is_storage_sop_class("1.2.840.10008.5.1.4.38.1"));
/// assert!(!is_storage_sop_class("1.2.840.10008.1.1"));
/// assert!(!is_storage_sop_class("1.2.840.10008.5.1.4.1.2.2.1"));
/// ```
pub fn is_storage_sop_class(uid: &str) -> bool {
    let uid = trim(uid);
    match uid.strip_prefix(STORAGE_PREFIX) {
        // Require a well-formed tail so that "…1.1." or "…1.1.x" does not count.
        Some(rest) => {
            !rest.is_empty()
                && rest
                    .split('.')
                    .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
        }
        None => OTHER_STORAGE_CLASSES.contains(&uid),
    }
}

/// The storage SOP classes of the standard (PS3.4 Annex B.5; current, not retired) with their
/// PS3.6 names, in UID order: what `dimse probe` offers a peer, and names for
/// [`sop_class_name`].
pub static STORAGE_SOP_CLASSES: &[(&str, &str)] = &[
    (
        "1.2.840.10008.5.1.4.1.1.1",
        "Computed Radiography Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.1.1",
        "Digital X-Ray Image Storage - For Presentation",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.1.1.1",
        "Digital X-Ray Image Storage - For Processing",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.1.2",
        "Digital Mammography X-Ray Image Storage - For Presentation",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.1.2.1",
        "Digital Mammography X-Ray Image Storage - For Processing",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.1.3",
        "Digital Intra-Oral X-Ray Image Storage - For Presentation",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.1.3.1",
        "Digital Intra-Oral X-Ray Image Storage - For Processing",
    ),
    ("1.2.840.10008.5.1.4.1.1.2", "CT Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.2.2",
        "Legacy Converted Enhanced CT Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.3.1",
        "Ultrasound Multi-frame Image Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.4", "MR Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.4.1", "Enhanced MR Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.4.2", "MR Spectroscopy Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.4.3",
        "Enhanced MR Color Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.4.4",
        "Legacy Converted Enhanced MR Image Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.6.2", "Enhanced US Volume Storage"),
    ("1.2.840.10008.5.1.4.1.1.6.3", "Photoacoustic Image Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.7",
        "Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7.1",
        "Multi-frame Single Bit Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7.2",
        "Multi-frame Grayscale Byte Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7.3",
        "Multi-frame Grayscale Word Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7.4",
        "Multi-frame True Color Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.1.1",
        "12-lead ECG Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.1.2",
        "General ECG Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.1.3",
        "Ambulatory ECG Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.1.4",
        "General 32-bit ECG Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.2.1",
        "Hemodynamic Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.3.1",
        "Cardiac Electrophysiology Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.4.1",
        "Basic Voice Audio Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.4.2",
        "General Audio Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.5.1",
        "Arterial Pulse Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.6.1",
        "Respiratory Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.6.2",
        "Multi-channel Respiratory Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.7.1",
        "Routine Scalp Electroencephalogram Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.7.2",
        "Electromyogram Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.7.3",
        "Electrooculogram Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.7.4",
        "Sleep Electroencephalogram Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.8.1",
        "Body Position Waveform Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.100.1",
        "1.2.840.10008.5.1.4.1.1.9.100.1",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.9.100.2",
        "1.2.840.10008.5.1.4.1.1.9.100.2",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.1",
        "Grayscale Softcopy Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.2",
        "Color Softcopy Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.3",
        "Pseudo-Color Softcopy Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.4",
        "Blending Softcopy Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.5",
        "XA/XRF Grayscale Softcopy Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.6",
        "Grayscale Planar MPR Volumetric Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.7",
        "Compositing Planar MPR Volumetric Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.8",
        "Advanced Blending Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.9",
        "Volume Rendering Volumetric Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.10",
        "Segmented Volume Rendering Volumetric Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.11",
        "Multiple Volume Rendering Volumetric Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.11.12",
        "Variable Modality LUT Softcopy Presentation State Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.12.1",
        "X-Ray Angiographic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.12.1.1",
        "Enhanced XA Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.12.2",
        "X-Ray Radiofluoroscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.12.2.1",
        "Enhanced XRF Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.13.1.1",
        "X-Ray 3D Angiographic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.13.1.2",
        "X-Ray 3D Craniofacial Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.13.1.3",
        "Breast Tomosynthesis Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.13.1.4",
        "Breast Projection X-Ray Image Storage - For Presentation",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.13.1.5",
        "Breast Projection X-Ray Image Storage - For Processing",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.14.1",
        "Intravascular Optical Coherence Tomography Image Storage - For Presentation",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.14.2",
        "Intravascular Optical Coherence Tomography Image Storage - For Processing",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.20",
        "Nuclear Medicine Image Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.30", "Parametric Map Storage"),
    ("1.2.840.10008.5.1.4.1.1.66", "Raw Data Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.66.1",
        "Spatial Registration Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.66.2", "Spatial Fiducials Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.66.3",
        "Deformable Spatial Registration Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.66.4", "Segmentation Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.66.5",
        "Surface Segmentation Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.66.6",
        "Tractography Results Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.66.7",
        "1.2.840.10008.5.1.4.1.1.66.7",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.66.8",
        "1.2.840.10008.5.1.4.1.1.66.8",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.67",
        "Real World Value Mapping Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.68.1", "Surface Scan Mesh Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.68.2",
        "Surface Scan Point Cloud Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.1",
        "VL Endoscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.1.1",
        "Video Endoscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.2",
        "VL Microscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.2.1",
        "Video Microscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.3",
        "VL Slide-Coordinates Microscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.4",
        "VL Photographic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.4.1",
        "Video Photographic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.1",
        "Ophthalmic Photography 8 Bit Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.2",
        "Ophthalmic Photography 16 Bit Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.3",
        "Stereometric Relationship Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.4",
        "Ophthalmic Tomography Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.5",
        "Wide Field Ophthalmic Photography Stereographic Projection Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.6",
        "Wide Field Ophthalmic Photography 3D Coordinates Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.7",
        "Ophthalmic Optical Coherence Tomography En Face Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.8",
        "Ophthalmic Optical Coherence Tomography B-scan Volume Analysis Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.6",
        "VL Whole Slide Microscopy Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.7",
        "Dermoscopic Photography Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.8",
        "Confocal Microscopy Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.9",
        "Confocal Microscopy Tiled Pyramidal Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.78.1",
        "Lensometry Measurements Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.78.2",
        "Autorefraction Measurements Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.78.3",
        "Keratometry Measurements Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.78.4",
        "Subjective Refraction Measurements Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.78.5",
        "Visual Acuity Measurements Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.78.6",
        "Spectacle Prescription Report Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.78.7",
        "Ophthalmic Axial Measurements Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.78.8",
        "Intraocular Lens Calculations Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.79.1",
        "Macular Grid Thickness and Volume Report Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.80.1",
        "Ophthalmic Visual Field Static Perimetry Measurements Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.81.1",
        "Ophthalmic Thickness Map Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.82.1",
        "Corneal Topography Map Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage"),
    ("1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage"),
    ("1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.88.34",
        "Comprehensive 3D SR Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.88.35", "Extensible SR Storage"),
    ("1.2.840.10008.5.1.4.1.1.88.40", "Procedure Log Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.88.50",
        "Mammography CAD SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.59",
        "Key Object Selection Document Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.88.65", "Chest CAD SR Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.88.67",
        "X-Ray Radiation Dose SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.68",
        "Radiopharmaceutical Radiation Dose SR Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.88.69", "Colon CAD SR Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.88.70",
        "Implantation Plan SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.71",
        "Acquisition Context SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.72",
        "Simplified Adult Echo SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.73",
        "Patient Radiation Dose SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.74",
        "Planned Imaging Agent Administration SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.75",
        "Performed Imaging Agent Administration SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.76",
        "Enhanced X-Ray Radiation Dose SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.88.77",
        "Waveform Annotation SR Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.90.1",
        "Content Assessment Results Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.91.1",
        "Microscopy Bulk Simple Annotations Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage"),
    ("1.2.840.10008.5.1.4.1.1.104.2", "Encapsulated CDA Storage"),
    ("1.2.840.10008.5.1.4.1.1.104.3", "Encapsulated STL Storage"),
    ("1.2.840.10008.5.1.4.1.1.104.4", "Encapsulated OBJ Storage"),
    ("1.2.840.10008.5.1.4.1.1.104.5", "Encapsulated MTL Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.128",
        "Positron Emission Tomography Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.128.1",
        "Legacy Converted Enhanced PET Image Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.130", "Enhanced PET Image Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.131",
        "Basic Structured Display Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.200.2",
        "CT Performed Procedure Protocol Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.200.8",
        "XA Performed Procedure Protocol Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.481.1", "RT Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.481.2", "RT Dose Storage"),
    ("1.2.840.10008.5.1.4.1.1.481.3", "RT Structure Set Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.481.4",
        "RT Beams Treatment Record Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.481.5", "RT Plan Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.481.6",
        "RT Brachy Treatment Record Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.7",
        "RT Treatment Summary Record Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.481.8", "RT Ion Plan Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.481.9",
        "RT Ion Beams Treatment Record Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.10",
        "RT Physician Intent Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.11",
        "RT Segment Annotation Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.481.12", "RT Radiation Set Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.481.13",
        "C-Arm Photon-Electron Radiation Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.14",
        "Tomotherapeutic Radiation Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.15",
        "Robotic-Arm Radiation Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.16",
        "RT Radiation Record Set Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.17",
        "RT Radiation Salvage Record Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.18",
        "Tomotherapeutic Radiation Record Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.19",
        "C-Arm Photon-Electron Radiation Record Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.20",
        "Robotic Radiation Record Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.21",
        "RT Radiation Set Delivery Instruction Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.22",
        "RT Treatment Preparation Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.23",
        "Enhanced RT Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.24",
        "Enhanced Continuous RT Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.481.25",
        "RT Patient Position Acquisition Instruction Storage",
    ),
    (
        "1.2.840.10008.5.1.4.34.7",
        "RT Beams Delivery Instruction Storage",
    ),
    (
        "1.2.840.10008.5.1.4.34.10",
        "RT Brachy Application Setup Delivery Instruction Storage",
    ),
];

/// The storage classes C-GET proposes when it does not know what it will receive: the
/// usual ones, in order of how often they are met.
const COMMON_STORAGE_CLASSES: &[&str] = &[
    CR_IMAGE_STORAGE,
    DX_IMAGE_STORAGE_FOR_PRESENTATION,
    "1.2.840.10008.5.1.4.1.1.1.1.1",
    MG_IMAGE_STORAGE_FOR_PRESENTATION,
    "1.2.840.10008.5.1.4.1.1.1.2.1",
    "1.2.840.10008.5.1.4.1.1.1.3",
    "1.2.840.10008.5.1.4.1.1.1.3.1",
    CT_IMAGE_STORAGE,
    ENHANCED_CT_IMAGE_STORAGE,
    "1.2.840.10008.5.1.4.1.1.3",
    US_MULTIFRAME_IMAGE_STORAGE,
    MR_IMAGE_STORAGE,
    ENHANCED_MR_IMAGE_STORAGE,
    "1.2.840.10008.5.1.4.1.1.5",
    "1.2.840.10008.5.1.4.1.1.6",
    US_IMAGE_STORAGE,
    SECONDARY_CAPTURE_IMAGE_STORAGE,
    "1.2.840.10008.5.1.4.1.1.7.4",
    "1.2.840.10008.5.1.4.1.1.9.1.1",
    "1.2.840.10008.5.1.4.1.1.9.1.2",
    "1.2.840.10008.5.1.4.1.1.9.1.3",
    "1.2.840.10008.5.1.4.1.1.11.1",
    XA_IMAGE_STORAGE,
    "1.2.840.10008.5.1.4.1.1.12.1.1",
    "1.2.840.10008.5.1.4.1.1.12.2",
    "1.2.840.10008.5.1.4.1.1.13.1.3",
    NM_IMAGE_STORAGE,
    "1.2.840.10008.5.1.4.1.1.66",
    SEGMENTATION_STORAGE,
    BASIC_TEXT_SR_STORAGE,
    ENHANCED_SR_STORAGE,
    COMPREHENSIVE_SR_STORAGE,
    "1.2.840.10008.5.1.4.1.1.88.34",
    KEY_OBJECT_SELECTION_DOCUMENT_STORAGE,
    "1.2.840.10008.5.1.4.1.1.88.67",
    ENCAPSULATED_PDF_STORAGE,
    "1.2.840.10008.5.1.4.1.1.104.2",
    PET_IMAGE_STORAGE,
    "1.2.840.10008.5.1.4.1.1.128.1",
    "1.2.840.10008.5.1.4.1.1.130",
    RT_IMAGE_STORAGE,
    RT_DOSE_STORAGE,
    RT_STRUCTURE_SET_STORAGE,
    "1.2.840.10008.5.1.4.1.1.481.4",
    RT_PLAN_STORAGE,
    "1.2.840.10008.5.1.4.1.1.481.6",
    "1.2.840.10008.5.1.4.1.1.481.8",
    "1.2.840.10008.5.1.4.1.1.481.9",
];

/// Names of the SOP classes messages and logs mention most (uids.md §1, §3, §4).
static SOP_CLASS_NAMES: &[(&str, &str)] = &[
    (VERIFICATION, "Verification"),
    (
        STORAGE_COMMITMENT_PUSH_MODEL,
        "Storage Commitment Push Model",
    ),
    (
        "1.2.840.10008.1.20.2",
        "Storage Commitment Pull Model (Retired)",
    ),
    (
        MODALITY_PERFORMED_PROCEDURE_STEP,
        "Modality Performed Procedure Step",
    ),
    (
        "1.2.840.10008.3.1.2.3.4",
        "Modality Performed Procedure Step Retrieve",
    ),
    (
        "1.2.840.10008.3.1.2.3.5",
        "Modality Performed Procedure Step Notification",
    ),
    (
        MEDIA_STORAGE_DIRECTORY_STORAGE,
        "Media Storage Directory Storage",
    ),
    (
        "1.2.840.10008.5.1.4.34.6.1",
        "Unified Procedure Step - Push",
    ),
    (
        "1.2.840.10008.5.1.4.34.6.2",
        "Unified Procedure Step - Watch",
    ),
    (
        "1.2.840.10008.5.1.4.34.6.3",
        "Unified Procedure Step - Pull",
    ),
    (
        "1.2.840.10008.5.1.4.34.6.4",
        "Unified Procedure Step - Event",
    ),
    (
        "1.2.840.10008.5.1.4.34.6.5",
        "Unified Procedure Step - Query",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.3",
        "Ultrasound Multi-frame Image Storage (Retired)",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.5",
        "Nuclear Medicine Image Storage (Retired)",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.6",
        "Ultrasound Image Storage (Retired)",
    ),
    (
        PATIENT_ROOT_QR_FIND,
        "Patient Root Query/Retrieve Information Model - FIND",
    ),
    (
        PATIENT_ROOT_QR_MOVE,
        "Patient Root Query/Retrieve Information Model - MOVE",
    ),
    (
        PATIENT_ROOT_QR_GET,
        "Patient Root Query/Retrieve Information Model - GET",
    ),
    (
        STUDY_ROOT_QR_FIND,
        "Study Root Query/Retrieve Information Model - FIND",
    ),
    (
        STUDY_ROOT_QR_MOVE,
        "Study Root Query/Retrieve Information Model - MOVE",
    ),
    (
        STUDY_ROOT_QR_GET,
        "Study Root Query/Retrieve Information Model - GET",
    ),
    (
        PATIENT_STUDY_ONLY_QR_FIND,
        "Patient/Study Only Query/Retrieve Information Model - FIND (Retired)",
    ),
    (
        PATIENT_STUDY_ONLY_QR_MOVE,
        "Patient/Study Only Query/Retrieve Information Model - MOVE (Retired)",
    ),
    (
        PATIENT_STUDY_ONLY_QR_GET,
        "Patient/Study Only Query/Retrieve Information Model - GET (Retired)",
    ),
    (
        COMPOSITE_INSTANCE_ROOT_RETRIEVE_MOVE,
        "Composite Instance Root Retrieve - MOVE",
    ),
    (
        COMPOSITE_INSTANCE_ROOT_RETRIEVE_GET,
        "Composite Instance Root Retrieve - GET",
    ),
    (
        COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
        "Composite Instance Retrieve Without Bulk Data - GET",
    ),
    (
        MODALITY_WORKLIST_FIND,
        "Modality Worklist Information Model - FIND",
    ),
    (
        "1.2.840.10008.5.1.4.32.1",
        "General Purpose Worklist Information Model - FIND (Retired)",
    ),
];

/// The name of a common SOP class (padding ignored), for messages and logs.
///
/// Covers Verification, Storage Commitment, MPPS, UPS, every current storage class
/// ([`STORAGE_SOP_CLASSES`]) and some retired ones, Q/R and worklist models; `None` for
/// anything else (use [`is_storage_sop_class`] to classify).
pub fn sop_class_name(uid: &str) -> Option<&'static str> {
    let uid = trim(uid);
    SOP_CLASS_NAMES
        .iter()
        .chain(STORAGE_SOP_CLASSES)
        .find(|(u, _)| *u == uid)
        .map(|(_, n)| *n)
}

/// The usual storage SOP classes (all named by [`sop_class_name`]): what a C-GET
/// requestor proposes (with SCP role selection) when it does not know what it will receive.
pub fn common_storage_sop_classes() -> impl Iterator<Item = &'static str> {
    COMMON_STORAGE_CLASSES.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implementation_uid_is_well_formed() {
        assert!(IMPLEMENTATION_CLASS_UID.len() <= 64);
        assert!(IMPLEMENTATION_CLASS_UID
            .split('.')
            .all(|c| !c.is_empty() && (c == "0" || !c.starts_with('0'))));
        assert!(IMPLEMENTATION_VERSION_NAME.len() <= 16);
    }

    #[test]
    fn storage_tables_agree() {
        let mut seen = std::collections::HashSet::new();
        for (uid, name) in STORAGE_SOP_CLASSES {
            assert!(is_storage_sop_class(uid), "{uid} {name}");
            assert!(seen.insert(*uid), "{uid} twice");
            assert!(
                !SOP_CLASS_NAMES.iter().any(|(u, _)| u == uid),
                "{uid} named twice"
            );
        }
        assert_eq!(STORAGE_SOP_CLASSES.len(), 170);
        for uid in COMMON_STORAGE_CLASSES {
            assert!(is_storage_sop_class(uid), "{uid}");
            assert!(sop_class_name(uid).is_some(), "{uid} has no name");
        }
    }

    #[test]
    fn tables_have_no_duplicates() {
        for (i, a) in TRANSFER_SYNTAXES.iter().enumerate() {
            assert!(
                TRANSFER_SYNTAXES[i + 1..].iter().all(|b| b.uid != a.uid),
                "{}",
                a.uid
            );
        }
        for (i, a) in SOP_CLASS_NAMES.iter().enumerate() {
            assert!(
                SOP_CLASS_NAMES[i + 1..].iter().all(|b| b.0 != a.0),
                "{}",
                a.0
            );
        }
    }

    #[test]
    fn storage_rule() {
        assert!(is_storage_sop_class(CT_IMAGE_STORAGE));
        assert!(is_storage_sop_class("1.2.840.10008.5.1.4.1.1.2 "));
        assert!(!is_storage_sop_class("1.2.840.10008.5.1.4.1.1"));
        assert!(!is_storage_sop_class("1.2.840.10008.5.1.4.1.1."));
        assert!(!is_storage_sop_class("1.2.840.10008.5.1.4.1.1.2..1"));
        assert!(!is_storage_sop_class(MEDIA_STORAGE_DIRECTORY_STORAGE));
        assert!(!is_storage_sop_class(STUDY_ROOT_QR_MOVE));
        assert!(!is_storage_sop_class(STORAGE_COMMITMENT_PUSH_MODEL));
    }

    #[test]
    fn transfer_syntax_flags() {
        let be = transfer_syntax(EXPLICIT_VR_BIG_ENDIAN).unwrap();
        assert!(be.big_endian && be.explicit_vr && !be.encapsulated);
        let ivr = transfer_syntax("1.2.840.10008.1.2\0").unwrap();
        assert!(!ivr.explicit_vr);
        assert!(
            transfer_syntax(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)
                .unwrap()
                .deflated
        );
        assert!(transfer_syntax(HTJ2K).unwrap().encapsulated);
        assert!(transfer_syntax("1.2.3").is_none());
    }
}
