use bytes::Bytes;

/// PDU type codes (PS3.8 Table 9-11 and following).
pub mod pdu_type {
    /// A-ASSOCIATE-RQ
    pub const ASSOCIATE_RQ: u8 = 0x01;
    /// A-ASSOCIATE-AC
    pub const ASSOCIATE_AC: u8 = 0x02;
    /// A-ASSOCIATE-RJ
    pub const ASSOCIATE_RJ: u8 = 0x03;
    /// P-DATA-TF
    pub const P_DATA_TF: u8 = 0x04;
    /// A-RELEASE-RQ
    pub const RELEASE_RQ: u8 = 0x05;
    /// A-RELEASE-RP
    pub const RELEASE_RP: u8 = 0x06;
    /// A-ABORT
    pub const ABORT: u8 = 0x07;
}

/// Item type codes of the variable part of A-ASSOCIATE-RQ/AC and of user information.
pub mod item_type {
    /// Application context item.
    pub const APPLICATION_CONTEXT: u8 = 0x10;
    /// Presentation context item of an A-ASSOCIATE-RQ.
    pub const PRESENTATION_CONTEXT_RQ: u8 = 0x20;
    /// Presentation context item of an A-ASSOCIATE-AC.
    pub const PRESENTATION_CONTEXT_AC: u8 = 0x21;
    /// Abstract syntax sub-item.
    pub const ABSTRACT_SYNTAX: u8 = 0x30;
    /// Transfer syntax sub-item.
    pub const TRANSFER_SYNTAX: u8 = 0x40;
    /// User information item.
    pub const USER_INFORMATION: u8 = 0x50;
    /// Maximum length sub-item.
    pub const MAX_LENGTH: u8 = 0x51;
    /// Implementation class UID sub-item.
    pub const IMPLEMENTATION_CLASS_UID: u8 = 0x52;
    /// Asynchronous operations window sub-item.
    pub const ASYNC_OPS_WINDOW: u8 = 0x53;
    /// SCP/SCU role selection sub-item.
    pub const ROLE_SELECTION: u8 = 0x54;
    /// Implementation version name sub-item.
    pub const IMPLEMENTATION_VERSION_NAME: u8 = 0x55;
    /// SOP class extended negotiation sub-item.
    pub const SOP_CLASS_EXTENDED: u8 = 0x56;
    /// SOP class common extended negotiation sub-item.
    pub const SOP_CLASS_COMMON_EXTENDED: u8 = 0x57;
    /// User identity sub-item (RQ).
    pub const USER_IDENTITY_RQ: u8 = 0x58;
    /// User identity sub-item (AC).
    pub const USER_IDENTITY_AC: u8 = 0x59;
}

/// One protocol data unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    /// A-ASSOCIATE-RQ (type 0x01).
    AssociateRq(AssociateRq),
    /// A-ASSOCIATE-AC (type 0x02).
    AssociateAc(AssociateAc),
    /// A-ASSOCIATE-RJ (type 0x03).
    AssociateRj(AssociateRj),
    /// P-DATA-TF (type 0x04).
    PData(PData),
    /// A-RELEASE-RQ (type 0x05).
    ReleaseRq,
    /// A-RELEASE-RP (type 0x06).
    ReleaseRp,
    /// A-ABORT (type 0x07).
    Abort(Abort),
}

impl Pdu {
    /// The PDU type byte this value encodes to.
    pub fn pdu_type(&self) -> u8 {
        match self {
            Pdu::AssociateRq(_) => pdu_type::ASSOCIATE_RQ,
            Pdu::AssociateAc(_) => pdu_type::ASSOCIATE_AC,
            Pdu::AssociateRj(_) => pdu_type::ASSOCIATE_RJ,
            Pdu::PData(_) => pdu_type::P_DATA_TF,
            Pdu::ReleaseRq => pdu_type::RELEASE_RQ,
            Pdu::ReleaseRp => pdu_type::RELEASE_RP,
            Pdu::Abort(_) => pdu_type::ABORT,
        }
    }

    /// A short name for logs, such as `A-ASSOCIATE-RQ`.
    pub fn name(&self) -> &'static str {
        pdu_name(self.pdu_type())
    }
}

/// The standard name of a PDU type byte (`"unknown"` for others).
pub fn pdu_name(pdu_type: u8) -> &'static str {
    match pdu_type {
        pdu_type::ASSOCIATE_RQ => "A-ASSOCIATE-RQ",
        pdu_type::ASSOCIATE_AC => "A-ASSOCIATE-AC",
        pdu_type::ASSOCIATE_RJ => "A-ASSOCIATE-RJ",
        pdu_type::P_DATA_TF => "P-DATA-TF",
        pdu_type::RELEASE_RQ => "A-RELEASE-RQ",
        pdu_type::RELEASE_RP => "A-RELEASE-RP",
        pdu_type::ABORT => "A-ABORT",
        _ => "unknown",
    }
}

/// The 16-byte AE title field of an associate PDU, kept byte for byte.
///
/// PS3.8 pads AE titles with spaces and says leading and trailing spaces are not significant;
/// [`AeField::trimmed`] gives the comparable value. The raw bytes are kept so a tester can send
/// (and see) titles the standard forbids.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AeField(pub [u8; 16]);

impl AeField {
    /// A field holding `title`, padded with spaces (longer titles are cut at 16 bytes).
    pub fn new(title: &str) -> Self {
        let mut raw = [b' '; 16];
        let bytes = title.as_bytes();
        let n = bytes.len().min(16);
        raw[..n].copy_from_slice(&bytes[..n]);
        AeField(raw)
    }

    /// The title without its non-significant leading and trailing spaces (and NUL padding
    /// some peers send), lossily decoded.
    pub fn trimmed(&self) -> String {
        String::from_utf8_lossy(&self.0)
            .trim_matches(|c: char| c == ' ' || c == '\0')
            .to_string()
    }
}

impl std::fmt::Debug for AeField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// A-ASSOCIATE-RQ. The variable part is a list of items in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociateRq {
    /// Protocol version; bit 0 set means version 1 (send `0x0001`).
    pub protocol_version: u16,
    /// Called AE title.
    pub called_ae: AeField,
    /// Calling AE title.
    pub calling_ae: AeField,
    /// Variable items: one application context, one or more presentation contexts (RQ) and one
    /// user information item, when the PDU is valid.
    pub items: Vec<Item>,
}

/// A-ASSOCIATE-AC. Same layout as the request; the AE fields echo the request's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociateAc {
    /// Protocol version; bit 0 set means version 1.
    pub protocol_version: u16,
    /// Called AE title as received in the request (reserved, not tested on receipt).
    pub called_ae: AeField,
    /// Calling AE title as received in the request (reserved, not tested on receipt).
    pub calling_ae: AeField,
    /// Variable items: one application context, presentation contexts (AC), one user information.
    pub items: Vec<Item>,
}

macro_rules! item_accessors {
    ($t:ty) => {
        impl $t {
            /// The first application context name, if any.
            pub fn application_context(&self) -> Option<&str> {
                self.items.iter().find_map(|i| match i {
                    Item::ApplicationContext(name) => Some(name.as_str()),
                    _ => None,
                })
            }

            /// The sub-items of the first user information item (empty when there is none).
            pub fn user_info(&self) -> &[UserItem] {
                self.items
                    .iter()
                    .find_map(|i| match i {
                        Item::UserInformation(sub) => Some(sub.as_slice()),
                        _ => None,
                    })
                    .unwrap_or(&[])
            }

            /// The maximum length sub-item's value: the largest P-DATA-TF the sender will receive
            /// (0 = no limit). `None` when absent.
            pub fn max_length(&self) -> Option<u32> {
                self.user_info().iter().find_map(|u| match u {
                    UserItem::MaxLength(n) => Some(*n),
                    _ => None,
                })
            }
        }
    };
}
item_accessors!(AssociateRq);
item_accessors!(AssociateAc);

impl AssociateRq {
    /// The presentation context items of the request, in wire order.
    pub fn presentation_contexts(&self) -> impl Iterator<Item = &PresentationContextRq> {
        self.items.iter().filter_map(|i| match i {
            Item::PresentationContextRq(pc) => Some(pc),
            _ => None,
        })
    }
}

impl AssociateAc {
    /// The presentation context items of the acceptance, in wire order.
    pub fn presentation_contexts(&self) -> impl Iterator<Item = &PresentationContextAc> {
        self.items.iter().filter_map(|i| match i {
            Item::PresentationContextAc(pc) => Some(pc),
            _ => None,
        })
    }
}

/// A variable item of A-ASSOCIATE-RQ/AC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// 0x10: application context name.
    ApplicationContext(String),
    /// 0x20: a proposed presentation context.
    PresentationContextRq(PresentationContextRq),
    /// 0x21: the answer to a proposed presentation context.
    PresentationContextAc(PresentationContextAc),
    /// 0x50: user information sub-items, in wire order.
    UserInformation(Vec<UserItem>),
    /// Any other item type, kept as raw bytes (PS3.8 says to skip unknown items).
    Unknown {
        /// The item type byte.
        item_type: u8,
        /// The item value, after the 4-byte item header.
        data: Bytes,
    },
}

/// Presentation context item of an A-ASSOCIATE-RQ (0x20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationContextRq {
    /// Presentation context ID: odd, 1–255.
    pub id: u8,
    /// Abstract syntax (SOP class) UID.
    pub abstract_syntax: String,
    /// Proposed transfer syntax UIDs, in the requestor's order of preference.
    pub transfer_syntaxes: Vec<String>,
}

/// Presentation context item of an A-ASSOCIATE-AC (0x21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationContextAc {
    /// Presentation context ID of the proposal this answers.
    pub id: u8,
    /// Result/reason byte.
    pub result: PcResult,
    /// The accepted transfer syntax; not significant when the context was rejected.
    pub transfer_syntax: String,
}

/// Result of a presentation context negotiation (PS3.8 Table 9-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcResult {
    /// 0: acceptance.
    Acceptance,
    /// 1: user-rejection.
    UserRejection,
    /// 2: no reason (provider rejection).
    NoReason,
    /// 3: abstract syntax not supported (provider rejection).
    AbstractSyntaxNotSupported,
    /// 4: transfer syntaxes not supported (provider rejection).
    TransferSyntaxesNotSupported,
    /// Any other value (not defined by the standard).
    Other(u8),
}

impl PcResult {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            PcResult::Acceptance => 0,
            PcResult::UserRejection => 1,
            PcResult::NoReason => 2,
            PcResult::AbstractSyntaxNotSupported => 3,
            PcResult::TransferSyntaxesNotSupported => 4,
            PcResult::Other(c) => c,
        }
    }

    /// The value for a wire byte.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => PcResult::Acceptance,
            1 => PcResult::UserRejection,
            2 => PcResult::NoReason,
            3 => PcResult::AbstractSyntaxNotSupported,
            4 => PcResult::TransferSyntaxesNotSupported,
            c => PcResult::Other(c),
        }
    }
}

/// A user information sub-item (PS3.7 Annex D.3.3, PS3.8 Annex D).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserItem {
    /// 0x51: largest P-DATA-TF PDU length the sender will receive; 0 = unlimited.
    MaxLength(u32),
    /// 0x52: implementation class UID.
    ImplementationClassUid(String),
    /// 0x53: asynchronous operations window.
    AsyncOpsWindow {
        /// Maximum number of operations invoked (0 = unlimited).
        invoked: u16,
        /// Maximum number of operations performed (0 = unlimited).
        performed: u16,
    },
    /// 0x54: SCP/SCU role selection for one SOP class.
    RoleSelection {
        /// SOP class UID.
        sop_class: String,
        /// SCU role byte (RQ: supported; AC: accepted).
        scu: u8,
        /// SCP role byte (RQ: supported; AC: accepted).
        scp: u8,
    },
    /// 0x55: implementation version name (1–16 characters).
    ImplementationVersionName(String),
    /// 0x56: SOP class extended negotiation.
    SopClassExtended {
        /// SOP class UID.
        sop_class: String,
        /// Service-class application information, opaque here.
        info: Bytes,
    },
    /// 0x57: SOP class common extended negotiation (RQ only).
    SopClassCommonExtended {
        /// Sub-item version (the byte after the item type; 0).
        version: u8,
        /// SOP class UID.
        sop_class: String,
        /// Service class UID.
        service_class: String,
        /// Related general SOP class UIDs.
        related: Vec<String>,
    },
    /// 0x58: user identity negotiation, request.
    UserIdentityRq {
        /// Identity type: 1 username, 2 username and passcode, 3 Kerberos, 4 SAML, 5 JWT.
        kind: u8,
        /// Positive response requested: 1 yes, 0 no.
        positive_response_requested: u8,
        /// Primary field (username, ticket, assertion, token).
        primary: Bytes,
        /// Secondary field (passcode for type 2, otherwise empty).
        secondary: Bytes,
    },
    /// 0x59: user identity negotiation, acceptance.
    UserIdentityAc {
        /// Server response (empty for types 1 and 2).
        response: Bytes,
    },
    /// Any other sub-item, kept as raw bytes (PS3.8 Annex D.2: ignored, never rejected).
    Unknown {
        /// The sub-item type byte.
        item_type: u8,
        /// The sub-item value, after its 4-byte header.
        data: Bytes,
    },
}

/// A-ASSOCIATE-RJ (PS3.8 Table 9-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssociateRj {
    /// 1 rejected-permanent, 2 rejected-transient.
    pub result: u8,
    /// 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation).
    pub source: u8,
    /// Reason/diagnostic; its meaning depends on `source`.
    pub reason: u8,
}

/// The reasons an association can be rejected, with their source (PS3.8 Table 9-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Service user, no reason given (1/1).
    UserNoReason,
    /// Service user, application context name not supported (1/2).
    ApplicationContextNotSupported,
    /// Service user, calling AE title not recognized (1/3).
    CallingAeNotRecognized,
    /// Service user, called AE title not recognized (1/7).
    CalledAeNotRecognized,
    /// Service provider (ACSE), no reason given (2/1).
    AcseNoReason,
    /// Service provider (ACSE), protocol version not supported (2/2).
    ProtocolVersionNotSupported,
    /// Service provider (presentation), temporary congestion (3/1).
    TemporaryCongestion,
    /// Service provider (presentation), local limit exceeded (3/2).
    LocalLimitExceeded,
    /// A source/reason pair the standard does not define.
    Other {
        /// Source byte.
        source: u8,
        /// Reason byte.
        reason: u8,
    },
}

impl RejectReason {
    /// The (source, reason) wire bytes.
    pub fn codes(self) -> (u8, u8) {
        match self {
            RejectReason::UserNoReason => (1, 1),
            RejectReason::ApplicationContextNotSupported => (1, 2),
            RejectReason::CallingAeNotRecognized => (1, 3),
            RejectReason::CalledAeNotRecognized => (1, 7),
            RejectReason::AcseNoReason => (2, 1),
            RejectReason::ProtocolVersionNotSupported => (2, 2),
            RejectReason::TemporaryCongestion => (3, 1),
            RejectReason::LocalLimitExceeded => (3, 2),
            RejectReason::Other { source, reason } => (source, reason),
        }
    }

    /// The reason for a (source, reason) pair.
    pub fn from_codes(source: u8, reason: u8) -> Self {
        match (source, reason) {
            (1, 1) => RejectReason::UserNoReason,
            (1, 2) => RejectReason::ApplicationContextNotSupported,
            (1, 3) => RejectReason::CallingAeNotRecognized,
            (1, 7) => RejectReason::CalledAeNotRecognized,
            (2, 1) => RejectReason::AcseNoReason,
            (2, 2) => RejectReason::ProtocolVersionNotSupported,
            (3, 1) => RejectReason::TemporaryCongestion,
            (3, 2) => RejectReason::LocalLimitExceeded,
            (source, reason) => RejectReason::Other { source, reason },
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::UserNoReason => f.write_str("service user: no reason given"),
            RejectReason::ApplicationContextNotSupported => {
                f.write_str("service user: application context name not supported")
            }
            RejectReason::CallingAeNotRecognized => {
                f.write_str("service user: calling AE title not recognized")
            }
            RejectReason::CalledAeNotRecognized => {
                f.write_str("service user: called AE title not recognized")
            }
            RejectReason::AcseNoReason => f.write_str("service provider (ACSE): no reason given"),
            RejectReason::ProtocolVersionNotSupported => {
                f.write_str("service provider (ACSE): protocol version not supported")
            }
            RejectReason::TemporaryCongestion => {
                f.write_str("service provider (presentation): temporary congestion")
            }
            RejectReason::LocalLimitExceeded => {
                f.write_str("service provider (presentation): local limit exceeded")
            }
            RejectReason::Other { source, reason } => {
                write!(f, "source {source}, reason {reason} (not defined by PS3.8)")
            }
        }
    }
}

/// Whether a rejection may pass (PS3.8 Table 9-21, Result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// 1: rejected-permanent.
    Permanent,
    /// 2: rejected-transient: the requestor may try again later.
    Transient,
}

impl Rejection {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            Rejection::Permanent => 1,
            Rejection::Transient => 2,
        }
    }
}

impl AssociateRj {
    /// A rejection, permanent or transient, for `reason`.
    ///
    /// ```
    /// use dimse_core::pdu::{AssociateRj, RejectReason, Rejection};
    ///
    /// let rj = AssociateRj::new(Rejection::Transient, RejectReason::TemporaryCongestion);
    /// assert_eq!((rj.result, rj.source, rj.reason), (2, 3, 1));
    /// assert!(!rj.is_permanent());
    /// ```
    pub fn new(result: Rejection, reason: RejectReason) -> Self {
        let (source, reason) = reason.codes();
        AssociateRj {
            result: result.code(),
            source,
            reason,
        }
    }

    /// The typed reason.
    pub fn reason(&self) -> RejectReason {
        RejectReason::from_codes(self.source, self.reason)
    }

    /// Whether the rejection is permanent (result 1).
    pub fn is_permanent(&self) -> bool {
        self.result == 1
    }
}

/// Who aborted (PS3.8 Table 9-26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbortSource {
    /// 0: the peer's service user (A-ABORT).
    ServiceUser,
    /// 2: the peer's service provider (A-P-ABORT).
    ServiceProvider,
    /// Any other value (1 is reserved).
    Other(u8),
}

impl AbortSource {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            AbortSource::ServiceUser => 0,
            AbortSource::ServiceProvider => 2,
            AbortSource::Other(c) => c,
        }
    }

    /// The value for a wire byte.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => AbortSource::ServiceUser,
            2 => AbortSource::ServiceProvider,
            c => AbortSource::Other(c),
        }
    }
}

/// Provider abort reasons (PS3.8 Table 9-26), meaningful when the source is the provider.
pub mod abort_reason {
    /// Reason not specified.
    pub const NOT_SPECIFIED: u8 = 0;
    /// Unrecognized PDU.
    pub const UNRECOGNIZED_PDU: u8 = 1;
    /// Unexpected PDU.
    pub const UNEXPECTED_PDU: u8 = 2;
    /// Unrecognized PDU parameter.
    pub const UNRECOGNIZED_PDU_PARAMETER: u8 = 4;
    /// Unexpected PDU parameter.
    pub const UNEXPECTED_PDU_PARAMETER: u8 = 5;
    /// Invalid PDU parameter value.
    pub const INVALID_PDU_PARAMETER_VALUE: u8 = 6;

    /// Human-readable meaning of a provider reason.
    pub fn describe(reason: u8) -> &'static str {
        match reason {
            NOT_SPECIFIED => "reason not specified",
            UNRECOGNIZED_PDU => "unrecognized PDU",
            UNEXPECTED_PDU => "unexpected PDU",
            UNRECOGNIZED_PDU_PARAMETER => "unrecognized PDU parameter",
            UNEXPECTED_PDU_PARAMETER => "unexpected PDU parameter",
            INVALID_PDU_PARAMETER_VALUE => "invalid PDU parameter value",
            _ => "reserved reason",
        }
    }
}

/// A-ABORT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort {
    /// Source of the abort.
    pub source: AbortSource,
    /// Reason/diagnostic (see [`abort_reason`]); sent as 0 by a service user.
    pub reason: u8,
}

impl Abort {
    /// An A-ABORT with the given source and reason.
    pub fn new(source: AbortSource, reason: u8) -> Self {
        Abort { source, reason }
    }
}

/// P-DATA-TF: one or more presentation data values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PData {
    /// The PDV items in wire order.
    pub pdvs: Vec<Pdv>,
}

/// One presentation data value item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdv {
    /// Presentation context ID.
    pub context_id: u8,
    /// Message control header: bit 0 command (1) or data set (0), bit 1 last fragment.
    pub control: u8,
    /// The fragment.
    pub data: Bytes,
}

impl Pdv {
    /// Control bit: this fragment belongs to a command set.
    pub const COMMAND: u8 = 0x01;
    /// Control bit: this is the last fragment of the command set or data set.
    pub const LAST: u8 = 0x02;

    /// Whether the fragment is part of a command set (bit 0).
    pub fn is_command(&self) -> bool {
        self.control & Self::COMMAND != 0
    }

    /// Whether the fragment is the last of its command or data set (bit 1).
    pub fn is_last(&self) -> bool {
        self.control & Self::LAST != 0
    }
}
