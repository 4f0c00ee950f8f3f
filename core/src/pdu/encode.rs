//! PDU encoder (PS3.8 §9.3).
//!
//! The encoder writes exactly what the value holds: any item in any PDU, in the order given,
//! with no validation, so a tester can produce PDUs the standard forbids. Lengths are computed
//! first, then the bytes are written straight into the output, with one reservation per PDU.
//!
//! Length fields are written from the actual sizes. A value too large for its field (more
//! than 65535 bytes in a u16 item length, or 4 GiB in a u32 PDU/PDV length) gets the low bits
//! of its size in the field (truncation) while all of its bytes are still written: the caller
//! asked for a PDU that cannot be encoded correctly, and getting a broken one is more useful to a
//! tester than a panic.

use super::types::{item_type, pdu_type, AeField, Item, Pdu, Pdv, UserItem};
use bytes::{BufMut, BytesMut};

/// Size of the common PDU header: type, reserved, u32 length.
const HEADER_LEN: usize = 6;
/// Size of an item or sub-item header: type, reserved, u16 length.
const ITEM_HEADER_LEN: usize = 4;
/// Size of a PDV item header: u32 length, context ID, control byte.
const PDV_HEADER_LEN: usize = 6;
/// Fixed part of A-ASSOCIATE-RQ/AC after the PDU header: version, reserved, two AE titles,
/// 32 reserved bytes.
const ASSOCIATE_FIXED_LEN: usize = 2 + 2 + 16 + 16 + 32;
/// Body length of A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT.
const FIXED_BODY_LEN: usize = 4;

/// Appends the encoding of `pdu` to `buf`.
pub fn encode(pdu: &Pdu, buf: &mut BytesMut) {
    let body = body_len(pdu);
    buf.reserve(HEADER_LEN + body);
    put_pdu_header(buf, pdu.pdu_type(), body);
    match pdu {
        Pdu::AssociateRq(rq) => put_associate(
            buf,
            rq.protocol_version,
            &rq.called_ae,
            &rq.calling_ae,
            &rq.items,
        ),
        Pdu::AssociateAc(ac) => put_associate(
            buf,
            ac.protocol_version,
            &ac.called_ae,
            &ac.calling_ae,
            &ac.items,
        ),
        Pdu::AssociateRj(rj) => buf.put_slice(&[0, rj.result, rj.source, rj.reason]),
        Pdu::PData(pdata) => pdata.pdvs.iter().for_each(|pdv| put_pdv(buf, pdv)),
        Pdu::ReleaseRq | Pdu::ReleaseRp => buf.put_u32(0),
        Pdu::Abort(abort) => buf.put_slice(&[0, 0, abort.source.code(), abort.reason]),
    }
}

/// The exact number of bytes [`encode`] appends for `pdu`, header included.
pub fn encoded_len(pdu: &Pdu) -> usize {
    HEADER_LEN + body_len(pdu)
}

/// Appends the 6-byte P-DATA-TF header announcing `pdu_length` bytes of PDV items.
///
/// With [`encode_pdv_header`] this lets a sender write headers into a small buffer and pass
/// the fragment `Bytes` to a vectored write, without copying them.
pub fn encode_pdata_header(pdu_length: u32, buf: &mut BytesMut) {
    buf.reserve(HEADER_LEN);
    buf.put_u8(pdu_type::P_DATA_TF);
    buf.put_u8(0);
    buf.put_u32(pdu_length);
}

/// Appends the 6-byte header of a PDV item carrying `data_len` bytes of fragment: item length
/// (`data_len + 2`, wrapping for lengths the field cannot hold), context ID, control byte.
pub fn encode_pdv_header(context_id: u8, control: u8, data_len: u32, buf: &mut BytesMut) {
    buf.reserve(PDV_HEADER_LEN);
    buf.put_u32(data_len.wrapping_add(2));
    buf.put_u8(context_id);
    buf.put_u8(control);
}

fn body_len(pdu: &Pdu) -> usize {
    match pdu {
        Pdu::AssociateRq(rq) => associate_len(&rq.items),
        Pdu::AssociateAc(ac) => associate_len(&ac.items),
        Pdu::PData(pdata) => pdata
            .pdvs
            .iter()
            .map(|pdv| PDV_HEADER_LEN + pdv.data.len())
            .sum(),
        Pdu::AssociateRj(_) | Pdu::ReleaseRq | Pdu::ReleaseRp | Pdu::Abort(_) => FIXED_BODY_LEN,
    }
}

fn associate_len(items: &[Item]) -> usize {
    ASSOCIATE_FIXED_LEN
        + items
            .iter()
            .map(|i| ITEM_HEADER_LEN + item_len(i))
            .sum::<usize>()
}

/// Length of an item's value (after its 4-byte header).
fn item_len(item: &Item) -> usize {
    match item {
        Item::ApplicationContext(name) => name.len(),
        Item::PresentationContextRq(pc) => {
            4 + ITEM_HEADER_LEN
                + pc.abstract_syntax.len()
                + pc.transfer_syntaxes
                    .iter()
                    .map(|ts| ITEM_HEADER_LEN + ts.len())
                    .sum::<usize>()
        }
        Item::PresentationContextAc(pc) => 4 + ITEM_HEADER_LEN + pc.transfer_syntax.len(),
        Item::UserInformation(subs) => subs
            .iter()
            .map(|s| ITEM_HEADER_LEN + user_item_len(s))
            .sum(),
        Item::Unknown { data, .. } => data.len(),
    }
}

/// Length of a user information sub-item's value (after its 4-byte header).
fn user_item_len(item: &UserItem) -> usize {
    match item {
        UserItem::MaxLength(_) | UserItem::AsyncOpsWindow { .. } => 4,
        UserItem::ImplementationClassUid(uid) => uid.len(),
        UserItem::ImplementationVersionName(name) => name.len(),
        UserItem::RoleSelection { sop_class, .. } => 2 + sop_class.len() + 2,
        UserItem::SopClassExtended { sop_class, info } => 2 + sop_class.len() + info.len(),
        UserItem::SopClassCommonExtended {
            sop_class,
            service_class,
            related,
            ..
        } => 2 + sop_class.len() + 2 + service_class.len() + 2 + related_len(related),
        UserItem::UserIdentityRq {
            primary, secondary, ..
        } => 2 + 2 + primary.len() + 2 + secondary.len(),
        UserItem::UserIdentityAc { response } => 2 + response.len(),
        UserItem::Unknown { data, .. } => data.len(),
    }
}

/// Length of the related general SOP class list of sub-item 0x57.
fn related_len(related: &[String]) -> usize {
    related.iter().map(|uid| 2 + uid.len()).sum()
}

/// Writes a u16 length field; oversized values are truncated (see the module documentation).
fn put_len16(buf: &mut BytesMut, len: usize) {
    buf.put_u16(len as u16);
}

/// Writes bytes preceded by their u16 length.
fn put_data16(buf: &mut BytesMut, data: &[u8]) {
    put_len16(buf, data.len());
    buf.put_slice(data);
}

fn put_pdu_header(buf: &mut BytesMut, ty: u8, body_len: usize) {
    buf.put_u8(ty);
    buf.put_u8(0);
    buf.put_u32(body_len as u32);
}

fn put_item_header(buf: &mut BytesMut, ty: u8, flag: u8, value_len: usize) {
    buf.put_u8(ty);
    buf.put_u8(flag);
    put_len16(buf, value_len);
}

/// An item whose whole value is one byte string (UIDs, names, unknown items).
fn put_simple_item(buf: &mut BytesMut, ty: u8, value: &[u8]) {
    put_item_header(buf, ty, 0, value.len());
    buf.put_slice(value);
}

fn put_associate(
    buf: &mut BytesMut,
    version: u16,
    called: &AeField,
    calling: &AeField,
    items: &[Item],
) {
    buf.put_u16(version);
    buf.put_u16(0);
    buf.put_slice(&called.0);
    buf.put_slice(&calling.0);
    buf.put_bytes(0, 32);
    items.iter().for_each(|item| put_item(buf, item));
}

fn put_item(buf: &mut BytesMut, item: &Item) {
    match item {
        Item::ApplicationContext(name) => {
            put_simple_item(buf, item_type::APPLICATION_CONTEXT, name.as_bytes())
        }
        Item::PresentationContextRq(pc) => {
            put_item_header(buf, item_type::PRESENTATION_CONTEXT_RQ, 0, item_len(item));
            buf.put_slice(&[pc.id, 0, 0, 0]);
            put_simple_item(
                buf,
                item_type::ABSTRACT_SYNTAX,
                pc.abstract_syntax.as_bytes(),
            );
            for ts in &pc.transfer_syntaxes {
                put_simple_item(buf, item_type::TRANSFER_SYNTAX, ts.as_bytes());
            }
        }
        Item::PresentationContextAc(pc) => {
            put_item_header(buf, item_type::PRESENTATION_CONTEXT_AC, 0, item_len(item));
            buf.put_slice(&[pc.id, 0, pc.result.code(), 0]);
            put_simple_item(
                buf,
                item_type::TRANSFER_SYNTAX,
                pc.transfer_syntax.as_bytes(),
            );
        }
        Item::UserInformation(subs) => {
            put_item_header(buf, item_type::USER_INFORMATION, 0, item_len(item));
            subs.iter().for_each(|sub| put_user_item(buf, sub));
        }
        Item::Unknown { item_type, data } => put_simple_item(buf, *item_type, data),
    }
}

fn put_user_item(buf: &mut BytesMut, item: &UserItem) {
    let len = user_item_len(item);
    match item {
        UserItem::MaxLength(max) => {
            put_item_header(buf, item_type::MAX_LENGTH, 0, len);
            buf.put_u32(*max);
        }
        UserItem::ImplementationClassUid(uid) => {
            put_simple_item(buf, item_type::IMPLEMENTATION_CLASS_UID, uid.as_bytes())
        }
        UserItem::AsyncOpsWindow { invoked, performed } => {
            put_item_header(buf, item_type::ASYNC_OPS_WINDOW, 0, len);
            buf.put_u16(*invoked);
            buf.put_u16(*performed);
        }
        UserItem::RoleSelection {
            sop_class,
            scu,
            scp,
        } => {
            put_item_header(buf, item_type::ROLE_SELECTION, 0, len);
            put_data16(buf, sop_class.as_bytes());
            buf.put_slice(&[*scu, *scp]);
        }
        UserItem::ImplementationVersionName(name) => {
            put_simple_item(buf, item_type::IMPLEMENTATION_VERSION_NAME, name.as_bytes())
        }
        UserItem::SopClassExtended { sop_class, info } => {
            put_item_header(buf, item_type::SOP_CLASS_EXTENDED, 0, len);
            put_data16(buf, sop_class.as_bytes());
            buf.put_slice(info);
        }
        UserItem::SopClassCommonExtended {
            version,
            sop_class,
            service_class,
            related,
        } => {
            put_item_header(buf, item_type::SOP_CLASS_COMMON_EXTENDED, *version, len);
            put_data16(buf, sop_class.as_bytes());
            put_data16(buf, service_class.as_bytes());
            put_len16(buf, related_len(related));
            for uid in related {
                put_data16(buf, uid.as_bytes());
            }
        }
        UserItem::UserIdentityRq {
            kind,
            positive_response_requested,
            primary,
            secondary,
        } => {
            put_item_header(buf, item_type::USER_IDENTITY_RQ, 0, len);
            buf.put_slice(&[*kind, *positive_response_requested]);
            put_data16(buf, primary);
            put_data16(buf, secondary);
        }
        UserItem::UserIdentityAc { response } => {
            put_item_header(buf, item_type::USER_IDENTITY_AC, 0, len);
            put_data16(buf, response);
        }
        UserItem::Unknown { item_type, data } => put_simple_item(buf, *item_type, data),
    }
}

fn put_pdv(buf: &mut BytesMut, pdv: &Pdv) {
    encode_pdv_header(pdv.context_id, pdv.control, pdv.data.len() as u32, buf);
    buf.put_slice(&pdv.data);
}
