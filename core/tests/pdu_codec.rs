//! PDU codec tests: round trips over generated PDUs, incremental decoding, robustness against
//! arbitrary input, limits, and known-answer byte strings laid out by hand from PS3.8 §9.3.

use bytes::{Bytes, BytesMut};
use dimse_core::pdu::{
    self, abort_reason, decode, encode, encode_pdata_header, encode_pdv_header, encoded_len,
    peek_header, Abort, AbortSource, AeField, AssociateAc, AssociateRj, AssociateRq, DecodeError,
    Item, Limits, PData, PcResult, Pdu, Pdv, PresentationContextAc, PresentationContextRq,
    UserItem,
};
use proptest::collection::vec;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Strategies

/// UIDs, arbitrary Unicode, and padded ASCII (NUL and spaces must survive untouched).
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9.]{0,64}", "\\PC{0,64}", "[ -~]{0,15}[ \\x00]{0,2}",]
}

fn blob() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..64).prop_map(Bytes::from)
}

fn ae() -> impl Strategy<Value = AeField> {
    prop::array::uniform16(any::<u8>()).prop_map(AeField)
}

fn pc_rq() -> impl Strategy<Value = PresentationContextRq> {
    (any::<u8>(), text(), vec(text(), 0..5)).prop_map(|(id, abstract_syntax, transfer_syntaxes)| {
        PresentationContextRq {
            id,
            abstract_syntax,
            transfer_syntaxes,
        }
    })
}

fn pc_ac() -> impl Strategy<Value = PresentationContextAc> {
    (any::<u8>(), any::<u8>(), text()).prop_map(|(id, result, transfer_syntax)| {
        PresentationContextAc {
            id,
            result: PcResult::from_code(result),
            transfer_syntax,
        }
    })
}

fn user_item() -> impl Strategy<Value = UserItem> {
    let unknown_type = any::<u8>().prop_filter("decodes as a known sub-item", |t| {
        !(0x51..=0x59).contains(t)
    });
    prop_oneof![
        any::<u32>().prop_map(UserItem::MaxLength),
        text().prop_map(UserItem::ImplementationClassUid),
        (any::<u16>(), any::<u16>())
            .prop_map(|(invoked, performed)| UserItem::AsyncOpsWindow { invoked, performed }),
        (text(), any::<u8>(), any::<u8>()).prop_map(|(sop_class, scu, scp)| {
            UserItem::RoleSelection {
                sop_class,
                scu,
                scp,
            }
        }),
        text().prop_map(UserItem::ImplementationVersionName),
        (text(), blob())
            .prop_map(|(sop_class, info)| UserItem::SopClassExtended { sop_class, info }),
        (any::<u8>(), text(), text(), vec(text(), 0..4)).prop_map(
            |(version, sop_class, service_class, related)| UserItem::SopClassCommonExtended {
                version,
                sop_class,
                service_class,
                related,
            }
        ),
        (any::<u8>(), any::<u8>(), blob(), blob()).prop_map(
            |(kind, positive_response_requested, primary, secondary)| UserItem::UserIdentityRq {
                kind,
                positive_response_requested,
                primary,
                secondary,
            }
        ),
        blob().prop_map(|response| UserItem::UserIdentityAc { response }),
        (unknown_type, blob()).prop_map(|(item_type, data)| UserItem::Unknown { item_type, data }),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    let unknown_type = any::<u8>().prop_filter("decodes as a known item", |t| {
        !matches!(t, 0x10 | 0x20 | 0x21 | 0x50)
    });
    prop_oneof![
        text().prop_map(Item::ApplicationContext),
        pc_rq().prop_map(Item::PresentationContextRq),
        pc_ac().prop_map(Item::PresentationContextAc),
        vec(user_item(), 0..8).prop_map(Item::UserInformation),
        (unknown_type, blob()).prop_map(|(item_type, data)| Item::Unknown { item_type, data }),
    ]
}

/// Items in any mix and order: the codec must not care which belong to RQ or AC.
fn items() -> impl Strategy<Value = Vec<Item>> {
    vec(item(), 0..10)
}

fn pdv() -> impl Strategy<Value = Pdv> {
    (any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..256)).prop_map(|(context_id, control, data)| {
        Pdv {
            context_id,
            control,
            data: Bytes::from(data),
        }
    })
}

fn any_pdu() -> impl Strategy<Value = Pdu> {
    prop_oneof![
        (any::<u16>(), ae(), ae(), items()).prop_map(
            |(protocol_version, called_ae, calling_ae, items)| Pdu::AssociateRq(AssociateRq {
                protocol_version,
                called_ae,
                calling_ae,
                items,
            })
        ),
        (any::<u16>(), ae(), ae(), items()).prop_map(
            |(protocol_version, called_ae, calling_ae, items)| Pdu::AssociateAc(AssociateAc {
                protocol_version,
                called_ae,
                calling_ae,
                items,
            })
        ),
        (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(result, source, reason)| {
            Pdu::AssociateRj(AssociateRj {
                result,
                source,
                reason,
            })
        }),
        vec(pdv(), 0..8).prop_map(|pdvs| Pdu::PData(PData { pdvs })),
        Just(Pdu::ReleaseRq),
        Just(Pdu::ReleaseRp),
        (any::<u8>(), any::<u8>()).prop_map(|(source, reason)| {
            Pdu::Abort(Abort::new(AbortSource::from_code(source), reason))
        }),
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn encoded(pdu: &Pdu) -> BytesMut {
    let mut buf = BytesMut::new();
    encode(pdu, &mut buf);
    buf
}

fn decode_default(bytes: &[u8]) -> Result<Option<Pdu>, DecodeError> {
    decode(&mut BytesMut::from(bytes), &Limits::default())
}

/// Decodes until the input runs dry or stops making progress; any outcome but a panic is fine,
/// as long as the results are self-consistent.
fn drain(buf: &mut BytesMut, limits: &Limits) {
    loop {
        let before = buf.len();
        match decode(buf, limits) {
            Ok(Some(_)) => assert!(buf.len() < before),
            Ok(None) => {
                assert_eq!(buf.len(), before);
                break;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                assert!(matches!(e.abort_reason(), 1 | 4 | 6));
                if buf.len() == before {
                    break;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    /// The tracer frames PDUs as the decoder does, whatever the slicing: one head line (an
    /// arrow) per PDU, and never a panic, even for PDUs a peer should not send.
    #[test]
    fn the_wire_trace_shows_each_pdu_once(
        pdus in vec(any_pdu(), 1..6),
        cut in 1usize..300,
        show_data in any::<bool>(),
    ) {
        use dimse_core::pdu::trace::{Direction, WireTrace};
        let mut bytes = BytesMut::new();
        for pdu in &pdus {
            encode(pdu, &mut bytes);
        }
        let mut trace = WireTrace::new(show_data);
        let mut lines = Vec::new();
        for piece in bytes.chunks(cut) {
            lines.extend(trace.feed(Direction::FromAcceptor, piece));
        }
        lines.extend(trace.finish());
        let heads: Vec<&String> = lines.iter().filter(|l| l.starts_with('←')).collect();
        prop_assert_eq!(heads.len(), pdus.len(), "{:#?}", lines);
        for (head, pdu) in heads.iter().zip(&pdus) {
            prop_assert!(head.contains(pdu.name()), "{} for {}", head, pdu.name());
        }
    }

    #[test]
    fn round_trip_consumes_exactly_the_encoding(
        pdu in any_pdu(),
        trailer in vec(any::<u8>(), 0..8),
    ) {
        let mut buf = encoded(&pdu);
        prop_assert_eq!(buf.len(), encoded_len(&pdu));
        buf.extend_from_slice(&trailer);
        let decoded = decode(&mut buf, &Limits::default()).unwrap();
        prop_assert_eq!(decoded.as_ref(), Some(&pdu));
        prop_assert_eq!(&buf[..], &trailer[..]);
    }

    #[test]
    fn re_encoding_a_decoded_pdu_gives_the_same_bytes(pdu in any_pdu()) {
        let bytes = encoded(&pdu).freeze();
        let decoded = decode_default(&bytes).unwrap().unwrap();
        prop_assert_eq!(&encoded(&decoded)[..], &bytes[..]);
    }

    #[test]
    fn every_strict_prefix_needs_more(pdu in any_pdu()) {
        let bytes = encoded(&pdu);
        let mut buf = BytesMut::new();
        for (i, &b) in bytes.iter().enumerate() {
            buf.extend_from_slice(&[b]);
            let last = i + 1 == bytes.len();
            let result = decode(&mut buf, &Limits::default()).unwrap();
            if last {
                prop_assert_eq!(result, Some(pdu.clone()));
                prop_assert!(buf.is_empty());
            } else {
                prop_assert_eq!(result, None);
                prop_assert_eq!(buf.len(), i + 1);
            }
        }
    }

    #[test]
    fn back_to_back_pdus_decode_in_turn(a in any_pdu(), b in any_pdu()) {
        let mut buf = encoded(&a);
        encode(&b, &mut buf);
        let limits = Limits::default();
        prop_assert_eq!(decode(&mut buf, &limits).unwrap(), Some(a));
        prop_assert_eq!(decode(&mut buf, &limits).unwrap(), Some(b));
        prop_assert_eq!(decode(&mut buf, &limits).unwrap(), None);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn header_helpers_match_the_encoder(pdvs in vec(pdv(), 0..8)) {
        let pdu = Pdu::PData(PData { pdvs: pdvs.clone() });
        let mut buf = BytesMut::new();
        encode_pdata_header((encoded_len(&pdu) - 6) as u32, &mut buf);
        for pdv in &pdvs {
            encode_pdv_header(pdv.context_id, pdv.control, pdv.data.len() as u32, &mut buf);
            buf.extend_from_slice(&pdv.data);
        }
        prop_assert_eq!(&buf[..], &encoded(&pdu)[..]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        drain(&mut BytesMut::from(&bytes[..]), &Limits::default());
    }

    #[test]
    fn arbitrary_bodies_behind_valid_headers_never_panic(
        ty in 1u8..=7,
        body in vec(any::<u8>(), 0..512),
    ) {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[ty, 0]);
        buf.extend_from_slice(&(body.len() as u32).to_be_bytes());
        buf.extend_from_slice(&body);
        drain(&mut buf, &Limits::default());
    }

    #[test]
    fn damaged_encodings_never_panic(
        pdu in any_pdu(),
        flips in vec((any::<usize>(), any::<u8>()), 0..4),
        lengths in vec((any::<usize>(), any::<u32>(), any::<bool>()), 0..3),
        cut in any::<usize>(),
        limits in (any::<u32>(), any::<u32>()),
    ) {
        let mut bytes = encoded(&pdu).to_vec();
        let n = bytes.len();
        for (at, value) in flips {
            bytes[at % n] = value;
        }
        for (at, value, wide) in lengths {
            let field = value.to_be_bytes();
            let field: &[u8] = if wide { &field } else { &field[2..] };
            let at = at % n;
            let end = (at + field.len()).min(n);
            bytes[at..end].copy_from_slice(&field[..end - at]);
        }
        let limits = Limits { max_pdata_length: limits.0, max_associate_length: limits.1 };
        drain(&mut BytesMut::from(&bytes[..]), &limits);
        drain(&mut BytesMut::from(&bytes[..cut % (n + 1)]), &limits);
    }
}

// ---------------------------------------------------------------------------------------------
// Header checks and limits

#[test]
fn peek_header_needs_six_bytes() {
    assert_eq!(peek_header(&[0x04, 0, 0, 0, 1]), None);
    assert_eq!(
        peek_header(&[0x04, 0, 0x12, 0x34, 0x56, 0x78, 0xAA]),
        Some((0x04, 0x1234_5678))
    );
}

#[test]
fn fewer_than_six_bytes_is_not_an_error() {
    assert_eq!(decode_default(&[0x99, 0, 0, 0, 0]), Ok(None));
}

#[test]
fn unknown_pdu_type_errors_without_consuming() {
    let mut buf = BytesMut::from(&[0x08, 0, 0, 0, 0, 4][..]);
    let err = decode(&mut buf, &Limits::default()).unwrap_err();
    assert_eq!(err, DecodeError::UnrecognizedPdu { pdu_type: 0x08 });
    assert_eq!(err.abort_reason(), abort_reason::UNRECOGNIZED_PDU);
    assert_eq!(err.pdu_type(), 0x08);
    assert_eq!(buf.len(), 6);
}

#[test]
fn pdata_over_the_limit_errors_on_the_header_alone() {
    let limits = Limits {
        max_pdata_length: 16384,
        ..Limits::default()
    };
    for length in [16385u32, 0xFFFF_FFFF] {
        let mut buf = BytesMut::new();
        encode_pdata_header(length, &mut buf);
        let capacity = buf.capacity();
        let err = decode(&mut buf, &limits).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLong {
                pdu_type: 0x04,
                length,
                max: 16384
            }
        );
        assert_eq!(
            err.abort_reason(),
            abort_reason::INVALID_PDU_PARAMETER_VALUE
        );
        assert_eq!((buf.len(), buf.capacity()), (6, capacity));
    }
}

#[test]
fn pdata_at_the_limit_waits_for_its_body() {
    let limits = Limits {
        max_pdata_length: 16384,
        ..Limits::default()
    };
    let mut buf = BytesMut::new();
    encode_pdata_header(16384, &mut buf);
    assert_eq!(decode(&mut buf, &limits), Ok(None));
}

#[test]
fn unlimited_huge_length_waits_without_allocating() {
    let mut buf = BytesMut::from(&[0x04, 0, 0xFF, 0xFF, 0xFF, 0xFF][..]);
    let capacity = buf.capacity();
    assert_eq!(decode(&mut buf, &Limits::default()), Ok(None));
    assert_eq!((buf.len(), buf.capacity()), (6, capacity));
}

#[test]
fn associate_over_the_limit_errors_on_the_header_alone() {
    let err = decode_default(&[0x01, 0, 0x00, 0x10, 0x00, 0x01]).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TooLong {
            pdu_type: 0x01,
            length: (1 << 20) + 1,
            max: 1 << 20
        }
    );
    assert!(err.to_string().contains("A-ASSOCIATE-RQ"), "{err}");
}

#[test]
fn fixed_length_pdus_must_have_length_four() {
    for ty in [0x03, 0x05, 0x06, 0x07] {
        for length in [0u8, 3, 5] {
            let err = decode_default(&[ty, 0, 0, 0, 0, length]).unwrap_err();
            assert_eq!(
                err,
                DecodeError::InvalidLength {
                    pdu_type: ty,
                    length: u32::from(length)
                }
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Known answers (byte layouts from PS3.8 §9.3, written out by hand)

const APP_CONTEXT: &[u8] = b"1.2.840.10008.3.1.1.1"; // 21 bytes
const VERIFICATION: &[u8] = b"1.2.840.10008.1.1"; // 17 bytes
const IMPLICIT_LE: &[u8] = b"1.2.840.10008.1.2"; // 17 bytes
const EXPLICIT_LE: &[u8] = b"1.2.840.10008.1.2.1"; // 19 bytes
const IMPL_CLASS: &[u8] = b"1.2.826.0.1.3680043.9.1"; // 23 bytes

fn known_associate_rq_bytes() -> Vec<u8> {
    [
        // PDU header: type 0x01, rsv, length 0xCD = 68 fixed + 25 + 73 + 39
        &[0x01, 0x00, 0x00, 0x00, 0x00, 0xCD][..],
        // protocol version 1, rsv
        &[0x00, 0x01, 0x00, 0x00],
        b"STORESCP        ", // called AE
        b"ECHOSCU         ", // calling AE
        &[0; 32],
        // application context item: 0x10, rsv, length 21
        &[0x10, 0x00, 0x00, 0x15],
        APP_CONTEXT,
        // presentation context item: 0x20, rsv, length 69; id 1, 3 rsv
        &[0x20, 0x00, 0x00, 0x45, 0x01, 0x00, 0x00, 0x00],
        &[0x30, 0x00, 0x00, 0x11],
        VERIFICATION,
        &[0x40, 0x00, 0x00, 0x11],
        IMPLICIT_LE,
        &[0x40, 0x00, 0x00, 0x13],
        EXPLICIT_LE,
        // user information item: 0x50, rsv, length 35
        &[0x50, 0x00, 0x00, 0x23],
        // maximum length 16384
        &[0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x40, 0x00],
        // implementation class UID, length 23
        &[0x52, 0x00, 0x00, 0x17],
        IMPL_CLASS,
    ]
    .concat()
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn known_associate_rq_decodes_and_re_encodes() {
    let bytes = known_associate_rq_bytes();
    assert_eq!(bytes.len(), 6 + 0xCD);
    let expected = Pdu::AssociateRq(AssociateRq {
        protocol_version: 1,
        called_ae: AeField::new("STORESCP"),
        calling_ae: AeField::new("ECHOSCU"),
        items: vec![
            Item::ApplicationContext(text_of(APP_CONTEXT)),
            Item::PresentationContextRq(PresentationContextRq {
                id: 1,
                abstract_syntax: text_of(VERIFICATION),
                transfer_syntaxes: vec![text_of(IMPLICIT_LE), text_of(EXPLICIT_LE)],
            }),
            Item::UserInformation(vec![
                UserItem::MaxLength(16384),
                UserItem::ImplementationClassUid(text_of(IMPL_CLASS)),
            ]),
        ],
    });
    let decoded = decode_default(&bytes).unwrap().unwrap();
    assert_eq!(decoded, expected);
    let Pdu::AssociateRq(rq) = &decoded else {
        unreachable!()
    };
    assert_eq!(rq.max_length(), Some(16384));
    assert_eq!(rq.called_ae.trimmed(), "STORESCP");
    assert_eq!(&encoded(&expected)[..], &bytes[..]);
}

#[test]
fn known_associate_ac_with_rejected_context_lacking_transfer_syntax() {
    let bytes = [
        &[0x02, 0x00, 0x00, 0x00, 0x00, 0x70][..], // length 68 + 25 + 8 + 11
        &[0x00, 0x01, 0x00, 0x00],
        b"STORESCP        ",
        b"ECHOSCU         ",
        &[0; 32],
        &[0x10, 0x00, 0x00, 0x15],
        APP_CONTEXT,
        // context 3, result 3 (abstract syntax not supported), no transfer syntax sub-item
        &[0x21, 0x00, 0x00, 0x04, 0x03, 0x00, 0x03, 0x00],
        // user information with an unknown sub-item 0x7F of 3 bytes
        &[
            0x50, 0x00, 0x00, 0x07, 0x7F, 0x00, 0x00, 0x03, 0xAA, 0xBB, 0xCC,
        ],
    ]
    .concat();
    let decoded = decode_default(&bytes).unwrap().unwrap();
    let Pdu::AssociateAc(ac) = decoded else {
        panic!("not an AC: {decoded:?}")
    };
    assert_eq!(
        ac.presentation_contexts().collect::<Vec<_>>(),
        vec![&PresentationContextAc {
            id: 3,
            result: PcResult::AbstractSyntaxNotSupported,
            transfer_syntax: String::new(),
        }]
    );
    assert_eq!(
        ac.user_info(),
        &[UserItem::Unknown {
            item_type: 0x7F,
            data: Bytes::from_static(&[0xAA, 0xBB, 0xCC]),
        }]
    );
}

#[test]
fn known_associate_rj() {
    let bytes = [0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x01, 0x07];
    let pdu = Pdu::AssociateRj(AssociateRj::new(
        pdu::Rejection::Permanent,
        pdu::RejectReason::CalledAeNotRecognized,
    ));
    assert_eq!(&encoded(&pdu)[..], &bytes[..]);
    assert_eq!(decode_default(&bytes), Ok(Some(pdu)));
}

#[test]
fn known_abort() {
    let bytes = [0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x06];
    let pdu = Pdu::Abort(Abort::new(
        AbortSource::ServiceProvider,
        abort_reason::INVALID_PDU_PARAMETER_VALUE,
    ));
    assert_eq!(&encoded(&pdu)[..], &bytes[..]);
    assert_eq!(decode_default(&bytes), Ok(Some(pdu)));
}

#[test]
fn known_release_pdus() {
    let rq = [0x05, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00];
    let rp = [0x06, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00];
    assert_eq!(&encoded(&Pdu::ReleaseRq)[..], &rq[..]);
    assert_eq!(&encoded(&Pdu::ReleaseRp)[..], &rp[..]);
    assert_eq!(decode_default(&rq), Ok(Some(Pdu::ReleaseRq)));
    assert_eq!(decode_default(&rp), Ok(Some(Pdu::ReleaseRp)));
}

#[test]
fn reserved_bytes_are_not_tested() {
    let rq = [0x05, 0xFF, 0x00, 0x00, 0x00, 0x04, 0xFF, 0xFF, 0xFF, 0xFF];
    assert_eq!(decode_default(&rq), Ok(Some(Pdu::ReleaseRq)));
}

const TWO_PDVS: [u8; 24] = [
    0x04, 0x00, 0x00, 0x00, 0x00, 0x12, // P-DATA-TF, length 18
    0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0xDE, 0xAD, 0xBE, 0xEF, // last command fragment
    0x00, 0x00, 0x00, 0x04, 0x01, 0x02, 0x12, 0x34, // last data fragment
];

#[test]
fn known_pdata_with_two_pdvs() {
    let pdu = Pdu::PData(PData {
        pdvs: vec![
            Pdv {
                context_id: 1,
                control: Pdv::COMMAND | Pdv::LAST,
                data: Bytes::from_static(&[0xDE, 0xAD, 0xBE, 0xEF]),
            },
            Pdv {
                context_id: 1,
                control: Pdv::LAST,
                data: Bytes::from_static(&[0x12, 0x34]),
            },
        ],
    });
    assert_eq!(&encoded(&pdu)[..], &TWO_PDVS[..]);
    assert_eq!(decode_default(&TWO_PDVS), Ok(Some(pdu)));
}

#[test]
fn pdv_data_is_not_copied() {
    let mut buf = BytesMut::from(&TWO_PDVS[..]);
    let base = buf.as_ptr() as usize;
    let Some(Pdu::PData(pdata)) = decode(&mut buf, &Limits::default()).unwrap() else {
        panic!("not a P-DATA-TF")
    };
    assert_eq!(pdata.pdvs[0].data.as_ptr() as usize, base + 12);
    assert_eq!(pdata.pdvs[1].data.as_ptr() as usize, base + 22);
}

#[test]
fn pdata_without_pdvs_decodes_empty() {
    let bytes = [0x04, 0x00, 0x00, 0x00, 0x00, 0x00];
    assert_eq!(
        decode_default(&bytes),
        Ok(Some(Pdu::PData(PData::default())))
    );
}

// ---------------------------------------------------------------------------------------------
// Unknown items and exactness

#[test]
fn unknown_items_and_sub_items_survive_a_round_trip() {
    let pdu = Pdu::AssociateRq(AssociateRq {
        protocol_version: 1,
        called_ae: AeField::new("A"),
        calling_ae: AeField::new("B"),
        items: vec![
            Item::Unknown {
                item_type: 0x99,
                data: Bytes::from_static(b"opaque"),
            },
            Item::UserInformation(vec![
                UserItem::Unknown {
                    item_type: 0x5A,
                    data: Bytes::from_static(b"future"),
                },
                UserItem::Unknown {
                    item_type: 0xF0,
                    data: Bytes::new(),
                },
            ]),
            // An AC-only item in an RQ is decoded as given.
            Item::PresentationContextAc(PresentationContextAc {
                id: 1,
                result: PcResult::Other(9),
                transfer_syntax: "x".into(),
            }),
        ],
    });
    assert_eq!(decode_default(&encoded(&pdu)), Ok(Some(pdu)));
}

#[test]
fn strings_keep_their_padding() {
    let pdu = Pdu::AssociateAc(AssociateAc {
        protocol_version: 1,
        called_ae: AeField(*b"  X\0            "),
        calling_ae: AeField::new("Y"),
        items: vec![
            Item::ApplicationContext("1.2.840.10008.3.1.1.1\0".into()),
            Item::UserInformation(vec![UserItem::ImplementationVersionName(" V1 ".into())]),
        ],
    });
    assert_eq!(decode_default(&encoded(&pdu)), Ok(Some(pdu)));
}

// ---------------------------------------------------------------------------------------------
// Malformed input

/// A-ASSOCIATE-RQ with the given item bytes after the fixed part.
fn rq_with_items(items: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0x01, 0x00];
    bytes.extend_from_slice(&(68 + items.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&[0x00, 0x01, 0x00, 0x00]);
    bytes.extend_from_slice(&[b' '; 32]);
    bytes.extend_from_slice(&[0; 32]);
    bytes.extend_from_slice(items);
    bytes
}

fn invalid_item(bytes: &[u8]) -> (u8, usize, &'static str) {
    match decode_default(bytes) {
        Err(DecodeError::InvalidItem {
            item_type,
            offset,
            what,
            ..
        }) => (item_type, offset, what),
        other => panic!("expected InvalidItem, got {other:?}"),
    }
}

#[test]
fn item_running_past_the_pdu_is_an_error() {
    let bytes = rq_with_items(&[0x10, 0x00, 0x00, 0x05, b'1', b'.', b'2']);
    let (item_type, offset, _) = invalid_item(&bytes);
    assert_eq!((item_type, offset), (0x10, 74));
}

#[test]
fn sub_item_running_past_its_item_is_an_error() {
    // The user information item holds 8 bytes, but its sub-item claims 5 of value after 4.
    let bytes = rq_with_items(&[
        0x50, 0x00, 0x00, 0x08, 0x52, 0x00, 0x00, 0x05, b'1', b'.', b'2', b'.', 0x10, 0x00, 0x00,
        0x00,
    ]);
    let (item_type, offset, _) = invalid_item(&bytes);
    assert_eq!((item_type, offset), (0x52, 78));
}

#[test]
fn trailing_partial_item_header_is_an_unrecognized_parameter() {
    let bytes = rq_with_items(&[0x10, 0x00, 0x00]);
    let err = decode_default(&bytes).unwrap_err();
    assert_eq!(err.abort_reason(), abort_reason::UNRECOGNIZED_PDU_PARAMETER);
    assert!(err.to_string().contains("at byte 74"), "{err}");
}

#[test]
fn presentation_context_without_abstract_syntax_is_an_error() {
    let bytes = rq_with_items(&[
        0x20, 0x00, 0x00, 0x09, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x01, b'1',
    ]);
    let (item_type, _, what) = invalid_item(&bytes);
    assert_eq!(item_type, 0x20);
    assert!(what.contains("abstract syntax"));
}

#[test]
fn unknown_sub_items_of_a_presentation_context_are_skipped() {
    let bytes = rq_with_items(&[
        0x20, 0x00, 0x00, 0x0E, 0x01, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x01, b'1', 0x77, 0x00,
        0x00, 0x01, 0xEE,
    ]);
    let Ok(Some(Pdu::AssociateRq(rq))) = decode_default(&bytes) else {
        panic!("did not decode")
    };
    let pc = rq.presentation_contexts().next().unwrap();
    assert_eq!(
        (pc.abstract_syntax.as_str(), pc.transfer_syntaxes.len()),
        ("1", 0)
    );
}

#[test]
fn invalid_utf8_is_an_error() {
    let bytes = rq_with_items(&[0x10, 0x00, 0x00, 0x02, b'1', 0xFF]);
    let (item_type, offset, what) = invalid_item(&bytes);
    assert_eq!((item_type, offset), (0x10, 79));
    assert!(what.contains("UTF-8"));
}

#[test]
fn fixed_size_sub_items_must_have_their_length() {
    let max_length = rq_with_items(&[0x50, 0x00, 0x00, 0x07, 0x51, 0x00, 0x00, 0x03, 0, 0, 1]);
    assert_eq!(invalid_item(&max_length).0, 0x51);
    let async_window = rq_with_items(&[
        0x50, 0x00, 0x00, 0x09, 0x53, 0x00, 0x00, 0x05, 0, 1, 0, 1, 0,
    ]);
    assert_eq!(invalid_item(&async_window).0, 0x53);
}

#[test]
fn role_selection_length_must_match_its_uid() {
    // UID length 1, so the item length must be 5; 6 leaves a stray byte.
    let bytes = rq_with_items(&[
        0x50, 0x00, 0x00, 0x0A, 0x54, 0x00, 0x00, 0x06, 0x00, 0x01, b'1', 1, 0, 0,
    ]);
    assert_eq!(invalid_item(&bytes).0, 0x54);
}

#[test]
fn common_extended_related_list_must_be_consumed_exactly() {
    // Related list claims 3 bytes: one UID of length 0 (2 bytes) and a stray byte.
    let bytes = rq_with_items(&[
        0x50, 0x00, 0x00, 0x0D, 0x57, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00,
        0x00, 0x01,
    ]);
    assert_eq!(invalid_item(&bytes).0, 0x57);
}

#[test]
fn pdv_shorter_than_its_header_is_an_error() {
    let bytes = [
        0x04, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x01,
    ];
    let err = decode_default(&bytes).unwrap_err();
    assert!(
        matches!(err, DecodeError::Malformed { offset: 6, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.abort_reason(),
        abort_reason::INVALID_PDU_PARAMETER_VALUE
    );
}

#[test]
fn trailing_bytes_after_the_pdvs_are_an_error() {
    let mut bytes = TWO_PDVS.to_vec();
    bytes[5] += 1;
    bytes.push(0x00);
    let mut buf = BytesMut::from(&bytes[..]);
    let err = decode(&mut buf, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, DecodeError::Malformed { offset: 24, .. }),
        "{err:?}"
    );
    assert_eq!(err.abort_reason(), abort_reason::UNRECOGNIZED_PDU_PARAMETER);
    assert!(err.to_string().contains("P-DATA-TF"), "{err}");
    assert!(buf.is_empty(), "a PDU with a bad body is consumed");
}

#[test]
fn pdv_running_past_the_pdu_is_an_error() {
    let bytes = [
        0x04, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x09, 0x01, 0x02,
    ];
    assert!(matches!(
        decode_default(&bytes),
        Err(DecodeError::Malformed { offset: 6, .. })
    ));
}

#[test]
fn truncated_associate_fixed_part_is_an_error() {
    let bytes = [0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01];
    assert!(matches!(
        decode_default(&bytes),
        Err(DecodeError::Malformed { offset: 6, .. })
    ));
}
