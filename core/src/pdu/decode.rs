//! Incremental PDU decoder (PS3.8 §9.3).
//!
//! [`decode`] looks at the 6-byte header first, so a bad type or an oversized length is reported
//! before any body byte arrives and before anything is allocated for it. A complete PDU is split
//! off the input and frozen; PDV fragments, unknown items and identity fields are handed out as
//! slices of that one buffer, never copied.
//!
//! The body parser is built from nom combinators over `&[u8]`. Its error type records *where*
//! parsing stopped as a sub-slice of the PDU, which becomes a byte offset in [`DecodeError`].

use super::types::{
    abort_reason, item_type, pdu_name, pdu_type, Abort, AbortSource, AeField, AssociateAc,
    AssociateRj, AssociateRq, Item, PData, PcResult, Pdu, Pdv, PresentationContextAc,
    PresentationContextRq, UserItem,
};
use bytes::{Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::combinator::map_opt;
use nom::error::{ErrorKind, ParseError};
use nom::multi::length_data;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::sequence::tuple;
use nom::IResult;

/// Size of the common PDU header: type, reserved, u32 length.
const HEADER_LEN: usize = 6;
/// Body length of A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT.
const FIXED_BODY_LEN: u32 = 4;

// Messages for the two situations where the bytes cannot even be delimited as a parameter;
// `abort_reason` reports those as "unrecognized PDU parameter" rather than "invalid value".
const TRAILING_ITEM: &str = "trailing bytes do not form an item header";
const TRAILING_PDV: &str = "trailing bytes do not form a PDV item header";

/// Limits applied while decoding, checked against the header's length field before the body
/// is buffered, so a peer cannot make the receiver hold an arbitrarily large PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest P-DATA-TF PDU-length field accepted; 0 = unlimited.
    ///
    /// Normally the maximum length this side announced in its user information (PS3.8 D.1),
    /// possibly with some slack for peers that overshoot.
    pub max_pdata_length: u32,
    /// Largest PDU-length field accepted for every PDU type other than P-DATA-TF; 0 = unlimited.
    ///
    /// Associate PDUs carry no negotiated limit, so this guards against a peer announcing a
    /// huge A-ASSOCIATE-RQ. The default (1 MiB) is far above any realistic association PDU.
    pub max_associate_length: u32,
}

impl Default for Limits {
    /// No P-DATA-TF limit (until one is negotiated) and 1 MiB for every other PDU.
    fn default() -> Self {
        Limits {
            max_pdata_length: 0,
            max_associate_length: 1 << 20,
        }
    }
}

impl Limits {
    /// The largest length field accepted for `pdu_type` (0 = unlimited).
    fn max_for(&self, pdu_type: u8) -> u32 {
        if pdu_type == pdu_type::P_DATA_TF {
            self.max_pdata_length
        } else {
            self.max_associate_length
        }
    }
}

/// Why a PDU could not be decoded, and where.
///
/// Offsets count from the first byte of the PDU (its type byte), matching the 0-based offsets
/// of the reference tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The PDU type byte is not one of 0x01–0x07. Nothing was consumed.
    UnrecognizedPdu {
        /// The type byte received.
        pdu_type: u8,
    },
    /// The length field exceeds the configured [`Limits`]. Nothing was consumed.
    TooLong {
        /// The PDU type byte.
        pdu_type: u8,
        /// The length field received.
        length: u32,
        /// The limit in force.
        max: u32,
    },
    /// A fixed-length PDU (A-ASSOCIATE-RJ, A-RELEASE-RQ/RP, A-ABORT) whose length field is not
    /// 4. Nothing was consumed.
    InvalidLength {
        /// The PDU type byte.
        pdu_type: u8,
        /// The length field received.
        length: u32,
    },
    /// A PDU-level field or PDV item is malformed. The PDU was consumed.
    Malformed {
        /// The PDU type byte.
        pdu_type: u8,
        /// Offset of the offending field from the PDU start.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// An item or sub-item of an associate PDU is malformed. The PDU was consumed.
    InvalidItem {
        /// The PDU type byte.
        pdu_type: u8,
        /// The type byte of the innermost item at fault.
        item_type: u8,
        /// Offset of the offending item or field from the PDU start.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
}

impl DecodeError {
    /// Whether the PDU header was at fault (unknown type, length over the limits, a fixed
    /// length that is not 4): nothing was consumed and the stream cannot be framed further.
    pub fn is_header_error(&self) -> bool {
        matches!(
            self,
            DecodeError::UnrecognizedPdu { .. }
                | DecodeError::TooLong { .. }
                | DecodeError::InvalidLength { .. }
        )
    }

    /// The PDU type byte of the PDU that failed.
    pub fn pdu_type(&self) -> u8 {
        match *self {
            DecodeError::UnrecognizedPdu { pdu_type }
            | DecodeError::TooLong { pdu_type, .. }
            | DecodeError::InvalidLength { pdu_type, .. }
            | DecodeError::Malformed { pdu_type, .. }
            | DecodeError::InvalidItem { pdu_type, .. } => pdu_type,
        }
    }

    /// The provider A-ABORT reason (PS3.8 Table 9-26) to send for this error.
    pub fn abort_reason(&self) -> u8 {
        match self {
            DecodeError::UnrecognizedPdu { .. } => abort_reason::UNRECOGNIZED_PDU,
            DecodeError::Malformed { what, .. } | DecodeError::InvalidItem { what, .. }
                if *what == TRAILING_ITEM || *what == TRAILING_PDV =>
            {
                abort_reason::UNRECOGNIZED_PDU_PARAMETER
            }
            _ => abort_reason::INVALID_PDU_PARAMETER_VALUE,
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            DecodeError::UnrecognizedPdu { pdu_type } => {
                write!(f, "unrecognized PDU type 0x{pdu_type:02X}")?;
                // 0x14–0x17 open TLS records: the commonest cause is one side using TLS.
                if (0x14..=0x17).contains(&pdu_type) {
                    write!(f, " (a TLS record: does the peer expect TLS?)")?;
                }
                Ok(())
            }
            DecodeError::TooLong {
                pdu_type,
                length,
                max,
            } => write!(
                f,
                "{} PDU length {length} exceeds the limit of {max} bytes",
                pdu_name(pdu_type)
            ),
            DecodeError::InvalidLength { pdu_type, length } => write!(
                f,
                "{} PDU length is {length}, but this PDU always has length {FIXED_BODY_LEN}",
                pdu_name(pdu_type)
            ),
            DecodeError::Malformed {
                pdu_type,
                offset,
                what,
            } => write!(
                f,
                "malformed {} PDU at byte {offset}: {what}",
                pdu_name(pdu_type)
            ),
            DecodeError::InvalidItem {
                pdu_type,
                item_type,
                offset,
                what,
            } => write!(
                f,
                "invalid {} item (0x{item_type:02X}) in {} PDU at byte {offset}: {what}",
                item_name(item_type),
                pdu_name(pdu_type)
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A readable name for an item type byte, for error messages.
fn item_name(item: u8) -> &'static str {
    match item {
        item_type::APPLICATION_CONTEXT => "application context",
        item_type::PRESENTATION_CONTEXT_RQ => "presentation context (RQ)",
        item_type::PRESENTATION_CONTEXT_AC => "presentation context (AC)",
        item_type::ABSTRACT_SYNTAX => "abstract syntax",
        item_type::TRANSFER_SYNTAX => "transfer syntax",
        item_type::USER_INFORMATION => "user information",
        item_type::MAX_LENGTH => "maximum length",
        item_type::IMPLEMENTATION_CLASS_UID => "implementation class UID",
        item_type::ASYNC_OPS_WINDOW => "asynchronous operations window",
        item_type::ROLE_SELECTION => "SCP/SCU role selection",
        item_type::IMPLEMENTATION_VERSION_NAME => "implementation version name",
        item_type::SOP_CLASS_EXTENDED => "SOP class extended negotiation",
        item_type::SOP_CLASS_COMMON_EXTENDED => "SOP class common extended negotiation",
        item_type::USER_IDENTITY_RQ => "user identity (RQ)",
        item_type::USER_IDENTITY_AC => "user identity (AC)",
        _ => "unknown",
    }
}

/// The PDU type byte and PDU length field, once the 6 header bytes are available.
pub fn peek_header(buf: &[u8]) -> Option<(u8, u32)> {
    match *buf.get(..HEADER_LEN)? {
        [ty, _, a, b, c, d] => Some((ty, u32::from_be_bytes([a, b, c, d]))),
        _ => None,
    }
}

/// Decodes one PDU from the front of `buf`, if a complete one is there.
///
/// - `Ok(None)`: more bytes are needed; nothing was consumed.
/// - `Ok(Some(pdu))`: exactly that PDU's bytes were consumed.
/// - `Err(_)` from the header (unknown type, length over `limits`, wrong fixed length): reported
///   as soon as the 6 header bytes are there; nothing was consumed.
/// - `Err(_)` from the body: the PDU's bytes (as delimited by its length field) were consumed,
///   so a lenient caller could skip it; normally the association is aborted with
///   [`DecodeError::abort_reason`].
pub fn decode(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Pdu>, DecodeError> {
    let Some((ty, length)) = peek_header(buf) else {
        return Ok(None);
    };
    let total = check_header(ty, length, limits)?;
    if buf.len() < total {
        return Ok(None);
    }
    let pdu = buf.split_to(total).freeze();
    parse_pdu(&pdu, ty).map(Some)
}

/// Validates a header and returns the whole PDU size, before any body byte is needed.
fn check_header(ty: u8, length: u32, limits: &Limits) -> Result<usize, DecodeError> {
    let fixed = matches!(
        ty,
        pdu_type::ASSOCIATE_RJ | pdu_type::RELEASE_RQ | pdu_type::RELEASE_RP | pdu_type::ABORT
    );
    let variable = matches!(
        ty,
        pdu_type::ASSOCIATE_RQ | pdu_type::ASSOCIATE_AC | pdu_type::P_DATA_TF
    );
    if !fixed && !variable {
        return Err(DecodeError::UnrecognizedPdu { pdu_type: ty });
    }
    if fixed && length != FIXED_BODY_LEN {
        return Err(DecodeError::InvalidLength {
            pdu_type: ty,
            length,
        });
    }
    let max = limits.max_for(ty);
    if max != 0 && length > max {
        return Err(DecodeError::TooLong {
            pdu_type: ty,
            length,
            max,
        });
    }
    // Only a 32-bit target can fail here: a PDU that cannot be addressed is simply too long.
    usize::try_from(length)
        .ok()
        .and_then(|len| len.checked_add(HEADER_LEN))
        .ok_or(DecodeError::TooLong {
            pdu_type: ty,
            length,
            max: u32::try_from(usize::MAX - HEADER_LEN).unwrap_or(u32::MAX),
        })
}

/// Parses a complete, frozen PDU (header included) whose type was already checked.
fn parse_pdu(pdu: &Bytes, ty: u8) -> Result<Pdu, DecodeError> {
    let parser = Parser { pdu, pdu_type: ty };
    let body = pdu.get(HEADER_LEN..).unwrap_or_default();
    parser.body(body).map_err(|e| parser.error(e))
}

/// Where and why parsing stopped. `at` is a sub-slice of the PDU, so its position gives the
/// offset; `item_type` is filled in by the innermost item being parsed.
#[derive(Debug)]
struct Fail<'a> {
    at: &'a [u8],
    item_type: Option<u8>,
    what: &'static str,
}

impl<'a> ParseError<&'a [u8]> for Fail<'a> {
    fn from_error_kind(input: &'a [u8], _kind: ErrorKind) -> Self {
        Fail {
            at: input,
            item_type: None,
            what: "field runs past the end of its PDU or item",
        }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a [u8], T, Fail<'a>>;
type ValueRes<'a, T> = Result<T, nom::Err<Fail<'a>>>;

/// A fatal parse error at `at`.
fn failure<'a>(at: &'a [u8], what: &'static str) -> nom::Err<Fail<'a>> {
    nom::Err::Failure(Fail {
        at,
        item_type: None,
        what,
    })
}

/// Runs a nom primitive and turns any of its errors (short input, including the `Incomplete`
/// that `length_data` reports) into a fatal error naming the field.
fn field<'a, O>(
    what: &'static str,
    mut parser: impl FnMut(&'a [u8]) -> Res<'a, O>,
) -> impl FnMut(&'a [u8]) -> Res<'a, O> {
    move |input| match parser(input) {
        Err(nom::Err::Failure(f)) => Err(nom::Err::Failure(f)),
        Ok(done) => Ok(done),
        Err(_) => Err(failure(input, what)),
    }
}

/// Attributes an error to item `ty` unless a more deeply nested item already claimed it.
fn tag<'a>(ty: u8) -> impl Fn(nom::Err<Fail<'a>>) -> nom::Err<Fail<'a>> {
    move |err| {
        err.map(|mut f| {
            f.item_type.get_or_insert(ty);
            f
        })
    }
}

/// Applies `parser` repeatedly until the input is used up.
fn until_end<'a, O>(
    mut parser: impl FnMut(&'a [u8]) -> Res<'a, O>,
) -> impl FnMut(&'a [u8]) -> Res<'a, Vec<O>> {
    move |mut input| {
        let mut out = Vec::new();
        while !input.is_empty() {
            let (rest, value) = parser(input)?;
            input = rest;
            out.push(value);
        }
        Ok((input, out))
    }
}

/// Runs `parser` over a whole item value: bytes left over mean the item length disagrees with
/// its content.
fn exact<'a, O>(
    value: &'a [u8],
    mut parser: impl FnMut(&'a [u8]) -> Res<'a, O>,
) -> ValueRes<'a, O> {
    let (rest, out) = parser(value)?;
    if rest.is_empty() {
        Ok(out)
    } else {
        Err(failure(rest, "item length is larger than its content"))
    }
}

/// A UID or name, which must be UTF-8 and is kept exactly as sent (padding included) so that
/// re-encoding gives the same bytes.
fn text(s: &[u8]) -> ValueRes<'_, String> {
    match std::str::from_utf8(s) {
        Ok(t) => Ok(t.to_owned()),
        Err(e) => Err(failure(
            s.get(e.valid_up_to()..).unwrap_or(s),
            "text is not valid UTF-8",
        )),
    }
}

/// A u16-length-prefixed byte field inside a sub-item.
fn u16_data<'a>(what: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, &'a [u8]> {
    field(what, length_data(be_u16))
}

/// A u16-length-prefixed UID inside a sub-item.
fn u16_text<'a>(what: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, String> {
    let mut data = u16_data(what);
    move |input| {
        let (rest, raw) = data(input)?;
        Ok((rest, text(raw)?))
    }
}

/// The 16-byte AE title field, kept raw.
fn ae_field(input: &[u8]) -> Res<'_, AeField> {
    map_opt(take(16usize), |s: &[u8]| {
        <[u8; 16]>::try_from(s).ok().map(AeField)
    })(input)
}

/// One item or sub-item as delimited by its 4-byte header.
struct RawItem<'a> {
    ty: u8,
    /// Byte 1 of the header: reserved, except the version of sub-item 0x57.
    flag: u8,
    value: &'a [u8],
}

/// Splits one item off the front of `input`; its length must stay within `input`, which is the
/// rest of the enclosing PDU or item.
fn raw_item(input: &[u8]) -> Res<'_, RawItem<'_>> {
    let (rest, (ty, flag, length)) = field(TRAILING_ITEM, tuple((be_u8, be_u8, be_u16)))(input)
        .map_err(tag(input.first().copied().unwrap_or(0)))?;
    let (rest, value) = field(
        "item length runs past the end of the enclosing PDU or item",
        take(length),
    )(rest)
    .map_err(|e| tag(ty)(e.map(|f| Fail { at: input, ..f })))?;
    Ok((rest, RawItem { ty, flag, value }))
}

/// Parser state: the frozen PDU every slice points into.
struct Parser<'p> {
    pdu: &'p Bytes,
    pdu_type: u8,
}

impl Parser<'_> {
    /// Position of a sub-slice of the PDU, from the PDU start.
    fn offset(&self, s: &[u8]) -> usize {
        (s.as_ptr() as usize).saturating_sub(self.pdu.as_ptr() as usize)
    }

    /// A zero-copy handle on a sub-slice of the PDU.
    fn share(&self, s: &[u8]) -> Bytes {
        let start = self.offset(s);
        match start.checked_add(s.len()) {
            Some(end) if end <= self.pdu.len() && !s.is_empty() => self.pdu.slice(start..end),
            // Unreachable for slices of the PDU; copying keeps this path panic-free anyway.
            _ => Bytes::copy_from_slice(s),
        }
    }

    fn error(&self, err: nom::Err<Fail<'_>>) -> DecodeError {
        let fail = match err {
            nom::Err::Error(f) | nom::Err::Failure(f) => f,
            nom::Err::Incomplete(_) => Fail {
                at: &self.pdu[..],
                item_type: None,
                what: "unexpected end of PDU",
            },
        };
        let offset = self.offset(fail.at);
        match fail.item_type {
            Some(item_type) => DecodeError::InvalidItem {
                pdu_type: self.pdu_type,
                item_type,
                offset,
                what: fail.what,
            },
            None => DecodeError::Malformed {
                pdu_type: self.pdu_type,
                offset,
                what: fail.what,
            },
        }
    }

    fn body<'a>(&self, body: &'a [u8]) -> ValueRes<'a, Pdu> {
        Ok(match self.pdu_type {
            pdu_type::ASSOCIATE_RQ => {
                let (protocol_version, called_ae, calling_ae, items) = self.associate(body)?;
                Pdu::AssociateRq(AssociateRq {
                    protocol_version,
                    called_ae,
                    calling_ae,
                    items,
                })
            }
            pdu_type::ASSOCIATE_AC => {
                let (protocol_version, called_ae, calling_ae, items) = self.associate(body)?;
                Pdu::AssociateAc(AssociateAc {
                    protocol_version,
                    called_ae,
                    calling_ae,
                    items,
                })
            }
            pdu_type::P_DATA_TF => Pdu::PData(PData {
                pdvs: exact(body, until_end(|i| self.pdv(i)))?,
            }),
            pdu_type::RELEASE_RQ => Pdu::ReleaseRq,
            pdu_type::RELEASE_RP => Pdu::ReleaseRp,
            pdu_type::ASSOCIATE_RJ => {
                let (_, result, source, reason) = fixed_body(body)?;
                Pdu::AssociateRj(AssociateRj {
                    result,
                    source,
                    reason,
                })
            }
            pdu_type::ABORT => {
                let (_, _, source, reason) = fixed_body(body)?;
                Pdu::Abort(Abort {
                    source: AbortSource::from_code(source),
                    reason,
                })
            }
            _ => return Err(failure(body, "unrecognized PDU type")),
        })
    }

    /// The shared layout of A-ASSOCIATE-RQ and -AC. Any item may appear in either: checking
    /// which items belong where is the association layer's job.
    fn associate<'a>(&self, body: &'a [u8]) -> ValueRes<'a, (u16, AeField, AeField, Vec<Item>)> {
        let (items, (version, _, called, calling, _)) = field(
            "fixed fields are truncated",
            tuple((be_u16, take(2usize), ae_field, ae_field, take(32usize))),
        )(body)?;
        let items = exact(items, until_end(|i| self.item(i)))?;
        Ok((version, called, calling, items))
    }

    fn item<'a>(&self, input: &'a [u8]) -> Res<'a, Item> {
        let (rest, raw) = raw_item(input)?;
        let item = self.item_value(&raw).map_err(tag(raw.ty))?;
        Ok((rest, item))
    }

    fn item_value<'a>(&self, raw: &RawItem<'a>) -> ValueRes<'a, Item> {
        Ok(match raw.ty {
            item_type::APPLICATION_CONTEXT => Item::ApplicationContext(text(raw.value)?),
            item_type::PRESENTATION_CONTEXT_RQ => {
                Item::PresentationContextRq(presentation_context_rq(raw.value)?)
            }
            item_type::PRESENTATION_CONTEXT_AC => {
                Item::PresentationContextAc(presentation_context_ac(raw.value)?)
            }
            item_type::USER_INFORMATION => {
                Item::UserInformation(exact(raw.value, until_end(|i| self.user_item(i)))?)
            }
            item_type => Item::Unknown {
                item_type,
                data: self.share(raw.value),
            },
        })
    }

    fn user_item<'a>(&self, input: &'a [u8]) -> Res<'a, UserItem> {
        let (rest, raw) = raw_item(input)?;
        let item = self.user_item_value(&raw).map_err(tag(raw.ty))?;
        Ok((rest, item))
    }

    fn user_item_value<'a>(&self, raw: &RawItem<'a>) -> ValueRes<'a, UserItem> {
        let value = raw.value;
        Ok(match raw.ty {
            item_type::MAX_LENGTH => UserItem::MaxLength(length_4(value, be_u32)?),
            item_type::IMPLEMENTATION_CLASS_UID => UserItem::ImplementationClassUid(text(value)?),
            item_type::ASYNC_OPS_WINDOW => {
                let (invoked, performed) = length_4(value, tuple((be_u16, be_u16)))?;
                UserItem::AsyncOpsWindow { invoked, performed }
            }
            item_type::ROLE_SELECTION => {
                let (sop_class, scu, scp) = exact(
                    value,
                    tuple((
                        u16_text("SOP class UID runs past the end of the sub-item"),
                        field("SCU/SCP role bytes are missing", be_u8),
                        field("SCP role byte is missing", be_u8),
                    )),
                )?;
                UserItem::RoleSelection {
                    sop_class,
                    scu,
                    scp,
                }
            }
            item_type::IMPLEMENTATION_VERSION_NAME => {
                UserItem::ImplementationVersionName(text(value)?)
            }
            item_type::SOP_CLASS_EXTENDED => {
                let (info, sop_class) =
                    u16_text("SOP class UID runs past the end of the sub-item")(value)?;
                UserItem::SopClassExtended {
                    sop_class,
                    info: self.share(info),
                }
            }
            item_type::SOP_CLASS_COMMON_EXTENDED => common_extended(raw.flag, value)?,
            item_type::USER_IDENTITY_RQ => {
                let (kind, positive_response_requested, primary, secondary) = exact(
                    value,
                    tuple((
                        field("identity type is missing", be_u8),
                        field("positive-response-requested byte is missing", be_u8),
                        u16_data("primary field runs past the end of the sub-item"),
                        u16_data("secondary field runs past the end of the sub-item"),
                    )),
                )?;
                UserItem::UserIdentityRq {
                    kind,
                    positive_response_requested,
                    primary: self.share(primary),
                    secondary: self.share(secondary),
                }
            }
            item_type::USER_IDENTITY_AC => {
                let response = exact(
                    value,
                    u16_data("server response runs past the end of the sub-item"),
                )?;
                UserItem::UserIdentityAc {
                    response: self.share(response),
                }
            }
            item_type => UserItem::Unknown {
                item_type,
                data: self.share(value),
            },
        })
    }

    fn pdv<'a>(&self, input: &'a [u8]) -> Res<'a, Pdv> {
        let (rest, length) = field(TRAILING_PDV, be_u32)(input)?;
        if length < 2 {
            return Err(failure(input, "PDV item length is below 2"));
        }
        let (rest, value) = field("PDV item runs past the end of the PDU", take(length))(rest)
            .map_err(|e| e.map(|f| Fail { at: input, ..f }))?;
        let (data, (context_id, control)) = tuple((be_u8, be_u8))(value)?;
        Ok((
            rest,
            Pdv {
                context_id,
                control,
                data: self.share(data),
            },
        ))
    }
}

/// The 4 bytes of A-ASSOCIATE-RJ / A-ABORT (the header check guarantees the length).
fn fixed_body(body: &[u8]) -> ValueRes<'_, (u8, u8, u8, u8)> {
    exact(
        body,
        field("body is truncated", tuple((be_u8, be_u8, be_u8, be_u8))),
    )
}

/// A sub-item whose length the standard fixes at 4.
fn length_4<'a, O>(value: &'a [u8], parser: impl FnMut(&'a [u8]) -> Res<'a, O>) -> ValueRes<'a, O> {
    if value.len() != 4 {
        return Err(failure(value, "sub-item length is not 4"));
    }
    exact(value, parser)
}

/// Presentation context of an A-ASSOCIATE-RQ: exactly one abstract syntax, any number of
/// transfer syntaxes, unknown sub-items skipped (the value type has nowhere to keep them).
fn presentation_context_rq(value: &[u8]) -> ValueRes<'_, PresentationContextRq> {
    let (mut input, (id, _)) = field(
        "context ID field is truncated",
        tuple((be_u8, take(3usize))),
    )(value)?;
    let mut abstract_syntax = None;
    let mut transfer_syntaxes = Vec::new();
    while !input.is_empty() {
        let (rest, sub) = raw_item(input)?;
        match sub.ty {
            item_type::ABSTRACT_SYNTAX => {
                let uid = text(sub.value).map_err(tag(sub.ty))?;
                if abstract_syntax.replace(uid).is_some() {
                    return Err(tag(sub.ty)(failure(
                        input,
                        "more than one abstract syntax sub-item",
                    )));
                }
            }
            item_type::TRANSFER_SYNTAX => {
                transfer_syntaxes.push(text(sub.value).map_err(tag(sub.ty))?);
            }
            _ => {}
        }
        input = rest;
    }
    let abstract_syntax =
        abstract_syntax.ok_or_else(|| failure(value, "no abstract syntax sub-item"))?;
    Ok(PresentationContextRq {
        id,
        abstract_syntax,
        transfer_syntaxes,
    })
}

/// Presentation context of an A-ASSOCIATE-AC. The first transfer syntax sub-item counts; some
/// peers send none when rejecting, which yields an empty string.
fn presentation_context_ac(value: &[u8]) -> ValueRes<'_, PresentationContextAc> {
    let (mut input, (id, _, result, _)) = field(
        "context ID and result fields are truncated",
        tuple((be_u8, be_u8, be_u8, be_u8)),
    )(value)?;
    let mut transfer_syntax = None;
    while !input.is_empty() {
        let (rest, sub) = raw_item(input)?;
        if sub.ty == item_type::TRANSFER_SYNTAX && transfer_syntax.is_none() {
            transfer_syntax = Some(text(sub.value).map_err(tag(sub.ty))?);
        }
        input = rest;
    }
    Ok(PresentationContextAc {
        id,
        result: PcResult::from_code(result),
        transfer_syntax: transfer_syntax.unwrap_or_default(),
    })
}

/// Sub-item 0x57; `version` is header byte 1, which this sub-item uses instead of reserving.
fn common_extended(version: u8, value: &[u8]) -> ValueRes<'_, UserItem> {
    let (sop_class, service_class, related) = exact(
        value,
        tuple((
            u16_text("SOP class UID runs past the end of the sub-item"),
            u16_text("service class UID runs past the end of the sub-item"),
            u16_data("related SOP class list runs past the end of the sub-item"),
        )),
    )?;
    let related = exact(
        related,
        until_end(u16_text(
            "related SOP class UID runs past the end of the related list",
        )),
    )?;
    Ok(UserItem::SopClassCommonExtended {
        version,
        sop_class,
        service_class,
        related,
    })
}
