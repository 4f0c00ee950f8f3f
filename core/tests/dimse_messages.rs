//! DIMSE command sets and typed messages: known answers, round trips, errors, statuses.

use bytes::BytesMut;
use dimse_core::dataset::Tag;
use dimse_core::dimse::{
    command_field, command_name, tags, CCancelRq, CEchoRq, CEchoRsp, CFindRq, CFindRsp, CGetRq,
    CGetRsp, CMoveRq, CMoveRsp, CStoreRq, CStoreRsp, CommandError, CommandSet, DimseMessage,
    Message, MessageIdAllocator, NActionRq, NActionRsp, NCreateRq, NCreateRsp, NDeleteRq,
    NDeleteRsp, NEventReportRq, NEventReportRsp, NGetRq, NGetRsp, NSetRq, NSetRsp, Priority,
    Status, StatusClass, SubOperations,
};
use dimse_core::uid;
use proptest::prelude::*;

/// C-ECHO-RQ, MessageID 1, Verification SOP class, written by hand from PS3.7 §9.3.5.1 and
/// Annex E: Implicit VR LE, ascending tags, UI padded with one NUL.
const C_ECHO_RQ_BYTES: &[u8] = &[
    // (0000,0000) UL, length 4, value 56 = 26 + 10 + 10 + 10
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, //
    // (0000,0002) UI, length 18, "1.2.840.10008.1.1" + NUL
    0x00, 0x00, 0x02, 0x00, 0x12, 0x00, 0x00, 0x00, b'1', b'.', b'2', b'.', b'8', b'4', b'0', b'.',
    b'1', b'0', b'0', b'0', b'8', b'.', b'1', b'.', b'1', 0x00, //
    // (0000,0100) US, length 2, 0x0030 C-ECHO-RQ
    0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x30, 0x00, //
    // (0000,0110) US, length 2, MessageID 1
    0x00, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, //
    // (0000,0800) US, length 2, 0x0101 no data set
    0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
];

/// C-FIND-RQ, MessageID 7, Study Root Query/Retrieve Information Model - FIND, priority
/// MEDIUM, written by hand from PS3.7 §9.3.2.1 and Annex E: Identifier follows.
const C_FIND_RQ_BYTES: &[u8] = &[
    // (0000,0000) UL, length 4, value 76 = 36 + 10 + 10 + 10 + 10
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x4C, 0x00, 0x00, 0x00, //
    // (0000,0002) UI, length 28, "1.2.840.10008.5.1.4.1.2.2.1" (27) + NUL
    0x00, 0x00, 0x02, 0x00, 0x1C, 0x00, 0x00, 0x00, b'1', b'.', b'2', b'.', b'8', b'4', b'0', b'.',
    b'1', b'0', b'0', b'0', b'8', b'.', b'5', b'.', b'1', b'.', b'4', b'.', b'1', b'.', b'2', b'.',
    b'2', b'.', b'1', 0x00, //
    // (0000,0100) US, length 2, 0x0020 C-FIND-RQ
    0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x20, 0x00, //
    // (0000,0110) US, length 2, MessageID 7
    0x00, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x07, 0x00, //
    // (0000,0700) US, length 2, 0x0000 MEDIUM
    0x00, 0x00, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, //
    // (0000,0800) US, length 2, 0x0001 data set follows
    0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00,
];

/// C-CANCEL-RQ for MessageID 7, written by hand from PS3.7 §9.3.2.3 and Annex E: no
/// AffectedSOPClassUID, no MessageID, no data set.
const C_CANCEL_RQ_BYTES: &[u8] = &[
    // (0000,0000) UL, length 4, value 30 = 10 + 10 + 10
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x1E, 0x00, 0x00, 0x00, //
    // (0000,0100) US, length 2, 0x0FFF C-CANCEL-RQ
    0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0xFF, 0x0F, //
    // (0000,0120) US, length 2, MessageIDBeingRespondedTo 7
    0x00, 0x00, 0x20, 0x01, 0x02, 0x00, 0x00, 0x00, 0x07, 0x00, //
    // (0000,0800) US, length 2, 0x0101 no data set
    0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
];

fn encode(cmd: &CommandSet) -> Vec<u8> {
    let mut out = BytesMut::new();
    cmd.encode(&mut out);
    assert_eq!(out.len(), cmd.encoded_len());
    out.to_vec()
}

/// Checks the wire form: CommandGroupLength first and correct, then ascending group-0000 tags,
/// even lengths, ending exactly at the end.
fn assert_well_formed(bytes: &[u8]) {
    assert!(bytes.len() >= 12);
    assert_eq!(&bytes[..8], &[0, 0, 0, 0, 4, 0, 0, 0]);
    let group_length = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    assert_eq!(group_length, bytes.len() - 12);
    let mut pos = 12;
    let mut last = 0u32;
    while pos < bytes.len() {
        let group = u16::from_le_bytes([bytes[pos], bytes[pos + 1]]);
        let element = u16::from_le_bytes([bytes[pos + 2], bytes[pos + 3]]);
        let len = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        assert_eq!(group, 0);
        assert!(u32::from(element) > last, "tags ascending");
        assert_eq!(len & 1, 0, "even length");
        last = u32::from(element);
        pos += 8 + len;
    }
    assert_eq!(pos, bytes.len());
}

fn round_trip(message: Message) {
    let cmd = message.to_command();
    let bytes = encode(&cmd);
    assert_well_formed(&bytes);
    let decoded = CommandSet::decode(&bytes).unwrap();
    assert_eq!(decoded, cmd);
    let back = Message::from_command(decoded).unwrap();
    assert_eq!(back, message);
    assert_eq!(back.has_data_set(), message.has_data_set());
    assert_eq!(
        back.command_field(),
        cmd.get_u16(tags::COMMAND_FIELD).unwrap()
    );
}

#[test]
fn c_echo_rq_known_answer() {
    let rq = CEchoRq::new(1);
    let cmd = rq.to_command();
    assert_eq!(encode(&cmd), C_ECHO_RQ_BYTES);
    assert_eq!(cmd.encoded_len(), C_ECHO_RQ_BYTES.len());
    assert_eq!(&cmd.to_bytes()[..], C_ECHO_RQ_BYTES);

    let message = Message::from_command(CommandSet::decode(C_ECHO_RQ_BYTES).unwrap()).unwrap();
    assert_eq!(message, Message::CEchoRq(rq));
    assert_eq!(message.name(), "C-ECHO-RQ");
    assert_eq!(message.message_id(), Some(1));
    assert_eq!(message.responded_to(), None);
    assert_eq!(message.status(), None);
    assert_eq!(message.affected_sop_class_uid(), Some(uid::VERIFICATION));
    assert!(!message.has_data_set());
    assert!(!message.is_response());
}

#[test]
fn fixed_examples_round_trip() {
    let store = CStoreRq {
        message_id: 7,
        priority: Priority::High,
        affected_sop_class_uid: uid::CT_IMAGE_STORAGE.into(),
        affected_sop_instance_uid: "1.2.3.4.5".into(),
        move_originator_ae_title: Some("QR SCU".into()),
        move_originator_message_id: Some(99),
    };
    let mut rsp = CStoreRsp::for_request(&store, Status::COERCION_OF_DATA_ELEMENTS);
    rsp.offending_element = vec![Tag(0x0010, 0x0010), Tag(0x0008, 0x0018)];
    rsp.error_comment = Some("coerced".into());
    let echo = CEchoRq::new(65535);
    let echo_rsp = CEchoRsp::for_request(&echo, Status::SUCCESS);
    for m in [
        Message::from(store.clone()),
        Message::from(rsp),
        Message::from(echo),
        Message::from(echo_rsp),
        Message::from(CStoreRsp {
            affected_sop_class_uid: None,
            affected_sop_instance_uid: None,
            ..CStoreRsp::for_request(&store, Status::OUT_OF_RESOURCES)
        }),
    ] {
        round_trip(m);
    }
    let cmd = store.to_command();
    assert_eq!(cmd.get_u16(tags::COMMAND_DATA_SET_TYPE), Some(0x0001));
    assert_eq!(cmd.get_u16(tags::PRIORITY), Some(0x0001));
    assert_eq!(
        cmd.get(tags::MOVE_ORIGINATOR_AE_TITLE),
        Some(&b"QR SCU"[..])
    );
    assert_eq!(
        cmd.get(tags::AFFECTED_SOP_INSTANCE_UID),
        Some(&b"1.2.3.4.5\0"[..])
    );
}

#[test]
fn at_and_padding_encoding() {
    let mut cmd = CommandSet::new();
    cmd.set_tags(tags::OFFENDING_ELEMENT, &[Tag(0x0010, 0x0020)]);
    assert_eq!(
        cmd.get(tags::OFFENDING_ELEMENT),
        Some(&[0x10, 0x00, 0x20, 0x00][..])
    );
    cmd.set_str(tags::MOVE_DESTINATION, "ABC");
    assert_eq!(cmd.get(tags::MOVE_DESTINATION), Some(&b"ABC "[..]));
    assert_eq!(cmd.get_str(tags::MOVE_DESTINATION), Some("ABC"));
    cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, "1.2\0");
    assert_eq!(cmd.get(tags::AFFECTED_SOP_CLASS_UID), Some(&b"1.2\0"[..]));
    cmd.set_u16s(tags::ATTRIBUTE_IDENTIFIER_LIST, &[1, 2]);
    assert_eq!(
        cmd.get_u16s(tags::ATTRIBUTE_IDENTIFIER_LIST),
        Some(vec![1, 2])
    );
    assert_eq!(cmd.remove(tags::MOVE_DESTINATION), Some(b"ABC ".to_vec()));
    assert!(!cmd.contains(tags::MOVE_DESTINATION));
}

#[test]
fn decode_is_lenient_where_the_standard_allows() {
    // Out of order, a retired element (0000,4000), a wrong group length value: all accepted.
    let mut bytes = Vec::new();
    let mut push = |element: u16, value: &[u8]| {
        bytes.extend_from_slice(&[0, 0]);
        bytes.extend_from_slice(&element.to_le_bytes());
        bytes.extend_from_slice(&(value.len() as u32).to_le_bytes());
        bytes.extend_from_slice(value);
    };
    push(0x0110, &[5, 0]);
    push(0x0000, &[0xFF, 0, 0, 0]);
    push(0x4000, b"retired ");
    push(0x0100, &[0x30, 0]);
    push(0x0800, &[0x01, 0x01]);
    push(0x0002, b"1.2.840.10008.1.1\0");
    let cmd = CommandSet::decode(&bytes).unwrap();
    assert_eq!(cmd.get(Tag(0x0000, 0x4000)), Some(&b"retired "[..]));
    let elements_in_order: Vec<u16> = cmd.iter().map(|(t, _)| t.1).collect();
    assert_eq!(elements_in_order, [0x0002, 0x0100, 0x0110, 0x0800, 0x4000]);
    let message = Message::from_command(cmd.clone()).unwrap();
    assert_eq!(message, Message::CEchoRq(CEchoRq::new(5)));
    // Re-encoding keeps the retired element and fixes the group length.
    let again = encode(&cmd);
    assert_well_formed(&again);
    assert_eq!(CommandSet::decode(&again).unwrap(), cmd);
    // Any CommandDataSetType other than 0x0101 means "data set present".
    let mut store = CStoreRq::new(1, uid::MR_IMAGE_STORAGE, "1.2.3", Priority::Low).to_command();
    store.set_u16(tags::COMMAND_DATA_SET_TYPE, 0x0102);
    assert!(Message::from_command(store).unwrap().has_data_set());
}

#[test]
fn decode_errors_say_where() {
    let mut bad = C_ECHO_RQ_BYTES.to_vec();
    bad[12 + 4] = 0x13; // (0000,0002) length 19: odd and one past the UID
    let e = CommandSet::decode(&bad).unwrap_err();
    assert!(
        matches!(
            e,
            CommandError::OddLength {
                tag: Tag(0x0000, 0x0002),
                offset: 12,
                length: 19
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("(0000,0002) AffectedSOPClassUID at offset 12"),
        "{e}"
    );

    let e = CommandSet::decode(&C_ECHO_RQ_BYTES[..C_ECHO_RQ_BYTES.len() - 1]).unwrap_err();
    assert!(
        matches!(
            e,
            CommandError::LengthPastEnd {
                tag: Tag(0x0000, 0x0800),
                offset: 58,
                ..
            }
        ),
        "{e}"
    );

    let mut data_element = C_ECHO_RQ_BYTES.to_vec();
    data_element.extend_from_slice(&[0x08, 0x00, 0x16, 0x00, 0, 0, 0, 0]);
    let e = CommandSet::decode(&data_element).unwrap_err();
    assert_eq!(
        e,
        CommandError::NotCommandGroup {
            tag: Tag(0x0008, 0x0016),
            offset: 68
        }
    );

    let mut undefined = C_ECHO_RQ_BYTES.to_vec();
    undefined.extend_from_slice(&[0, 0, 0x02, 0x09, 0xFF, 0xFF, 0xFF, 0xFF]);
    assert!(matches!(
        CommandSet::decode(&undefined),
        Err(CommandError::LengthPastEnd {
            tag: Tag(0x0000, 0x0902),
            offset: 68,
            ..
        })
    ));

    let mut short_group_length = C_ECHO_RQ_BYTES.to_vec();
    short_group_length[4] = 2;
    short_group_length.drain(10..12);
    assert!(matches!(
        CommandSet::decode(&short_group_length),
        Err(CommandError::InvalidGroupLength {
            offset: 0,
            length: 2
        })
    ));
}

/// For each (command, type name, required tags, optional tags): the command decodes; without
/// a required tag it fails with an error naming message and element; without an optional one
/// it still decodes; without CommandField it cannot be typed at all.
fn check_required_elements(cases: Vec<(CommandSet, &'static str, Vec<Tag>, Vec<Tag>)>) {
    for (cmd, command, required, optional) in cases {
        assert!(Message::from_command(cmd.clone()).is_ok(), "{command}");
        for tag in required {
            let mut c = cmd.clone();
            c.remove(tag);
            let e = Message::from_command(c).unwrap_err();
            let name = tags::name(tag).unwrap();
            assert_eq!(
                e,
                CommandError::MissingElement { command, tag, name },
                "{command}"
            );
            let text = e.to_string();
            assert!(text.contains(command) && text.contains(name), "{text}");
        }
        for tag in optional {
            let mut c = cmd.clone();
            c.remove(tag);
            assert!(Message::from_command(c).is_ok(), "{command} without {tag}");
        }
        let mut c = cmd.clone();
        c.remove(tags::COMMAND_FIELD);
        assert_eq!(
            Message::from_command(c).unwrap_err(),
            CommandError::MissingElement {
                command: "command",
                tag: tags::COMMAND_FIELD,
                name: "CommandField"
            }
        );
    }
}

/// Every required element of C-ECHO and C-STORE: removing it gives an error naming it.
#[test]
fn missing_required_elements_are_named() {
    let store = CStoreRq::new(3, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Medium);
    let cases: Vec<(CommandSet, &'static str, Vec<Tag>, Vec<Tag>)> = vec![
        (
            CEchoRq::new(1).to_command(),
            "C-ECHO-RQ",
            vec![
                tags::MESSAGE_ID,
                tags::AFFECTED_SOP_CLASS_UID,
                tags::COMMAND_DATA_SET_TYPE,
            ],
            vec![],
        ),
        (
            CEchoRsp {
                error_comment: Some("x".into()),
                ..CEchoRsp::for_request(&CEchoRq::new(1), Status::SUCCESS)
            }
            .to_command(),
            "C-ECHO-RSP",
            vec![
                tags::MESSAGE_ID_BEING_RESPONDED_TO,
                tags::STATUS,
                tags::COMMAND_DATA_SET_TYPE,
            ],
            vec![tags::AFFECTED_SOP_CLASS_UID, tags::ERROR_COMMENT],
        ),
        (
            CStoreRq {
                move_originator_ae_title: Some("MOVESCU".into()),
                move_originator_message_id: Some(4),
                ..store.clone()
            }
            .to_command(),
            "C-STORE-RQ",
            vec![
                tags::MESSAGE_ID,
                tags::PRIORITY,
                tags::AFFECTED_SOP_CLASS_UID,
                tags::AFFECTED_SOP_INSTANCE_UID,
                tags::COMMAND_DATA_SET_TYPE,
            ],
            vec![
                tags::MOVE_ORIGINATOR_AE_TITLE,
                tags::MOVE_ORIGINATOR_MESSAGE_ID,
            ],
        ),
        (
            CStoreRsp {
                offending_element: vec![Tag(0x0010, 0x0010)],
                error_comment: Some("bad".into()),
                ..CStoreRsp::for_request(&store, Status::DOES_NOT_MATCH_SOP_CLASS)
            }
            .to_command(),
            "C-STORE-RSP",
            vec![
                tags::MESSAGE_ID_BEING_RESPONDED_TO,
                tags::STATUS,
                tags::COMMAND_DATA_SET_TYPE,
            ],
            vec![
                tags::AFFECTED_SOP_CLASS_UID,
                tags::AFFECTED_SOP_INSTANCE_UID,
                tags::OFFENDING_ELEMENT,
                tags::ERROR_COMMENT,
            ],
        ),
    ];
    check_required_elements(cases);
}

#[test]
fn c_find_rq_known_answer() {
    let rq = CFindRq::new(7, uid::STUDY_ROOT_QR_FIND, Priority::Medium);
    let cmd = rq.to_command();
    assert_eq!(encode(&cmd), C_FIND_RQ_BYTES);
    assert_eq!(cmd.encoded_len(), C_FIND_RQ_BYTES.len());

    let message = Message::from_command(CommandSet::decode(C_FIND_RQ_BYTES).unwrap()).unwrap();
    assert_eq!(message, Message::CFindRq(rq.clone()));
    assert_eq!(message.name(), "C-FIND-RQ");
    assert_eq!(message.message_id(), Some(7));
    assert_eq!(message.responded_to(), None);
    assert_eq!(message.status(), None);
    assert_eq!(
        message.affected_sop_class_uid(),
        Some(uid::STUDY_ROOT_QR_FIND)
    );
    assert!(message.has_data_set());
    assert!(!message.is_response());

    // DCMTK's ACR-NEMA-compatible 0x0102 also announces the Identifier.
    let mut bytes = C_FIND_RQ_BYTES.to_vec();
    let n = bytes.len();
    bytes[n - 2..].copy_from_slice(&[0x02, 0x01]);
    let message = Message::from_command(CommandSet::decode(&bytes).unwrap()).unwrap();
    assert_eq!(message, Message::CFindRq(rq));
}

#[test]
fn c_cancel_rq_known_answer() {
    let rq = CCancelRq::new(7);
    let cmd = rq.to_command();
    assert_eq!(encode(&cmd), C_CANCEL_RQ_BYTES);
    assert_eq!(cmd.encoded_len(), C_CANCEL_RQ_BYTES.len());

    let message = Message::from_command(CommandSet::decode(C_CANCEL_RQ_BYTES).unwrap()).unwrap();
    assert_eq!(message, Message::CCancelRq(rq));
    assert_eq!(message.name(), "C-CANCEL-RQ");
    assert_eq!(message.message_id(), None);
    assert_eq!(message.responded_to(), Some(7));
    assert_eq!(message.status(), None);
    assert_eq!(message.affected_sop_class_uid(), None);
    assert!(!message.has_data_set());
    assert!(!message.is_response());
}

fn find_rq() -> CFindRq {
    CFindRq::new(11, uid::PATIENT_ROOT_QR_FIND, Priority::Low)
}

fn get_rq() -> CGetRq {
    CGetRq::new(12, uid::STUDY_ROOT_QR_GET, Priority::High)
}

fn move_rq() -> CMoveRq {
    CMoveRq::new(13, uid::STUDY_ROOT_QR_MOVE, "STORESCP", Priority::Medium)
}

fn event_rq() -> NEventReportRq {
    NEventReportRq::new(
        14,
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
        2,
        true,
    )
}

fn n_get_rq() -> NGetRq {
    NGetRq {
        attribute_identifier_list: vec![Tag(0x2110, 0x0010), Tag(0x2110, 0x0020)],
        ..NGetRq::new(15, "1.2.840.10008.5.1.1.16", "1.2.840.10008.5.1.1.17")
    }
}

fn n_set_rq() -> NSetRq {
    NSetRq::new(16, uid::MODALITY_PERFORMED_PROCEDURE_STEP, "1.2.3.16")
}

fn action_rq() -> NActionRq {
    NActionRq::new(
        17,
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
        1,
        true,
    )
}

fn create_rq() -> NCreateRq {
    NCreateRq::new(
        18,
        uid::MODALITY_PERFORMED_PROCEDURE_STEP,
        Some("1.2.3.18"),
        true,
    )
}

fn delete_rq() -> NDeleteRq {
    NDeleteRq::new(19, "1.2.840.10008.5.1.1.14", "1.2.3.19")
}

/// One example of each new message type with every optional element filled in.
fn full_examples() -> Vec<Message> {
    let comment = Some("detail".to_string());
    vec![
        find_rq().into(),
        CFindRsp {
            offending_element: vec![Tag(0x0010, 0x0010)],
            error_comment: comment.clone(),
            ..CFindRsp::for_request(&find_rq(), Status::PENDING)
        }
        .into(),
        get_rq().into(),
        CGetRsp {
            sub_operations: SubOperations::pending(5, 1, 2, 3),
            offending_element: vec![Tag(0x0008, 0x0052)],
            error_comment: comment.clone(),
            has_data_set: true,
            ..CGetRsp::for_request(&get_rq(), Status::PENDING)
        }
        .into(),
        move_rq().into(),
        CMoveRsp {
            sub_operations: SubOperations::pending(5, 1, 2, 3),
            offending_element: vec![Tag(0x0008, 0x0052)],
            error_comment: comment.clone(),
            has_data_set: true,
            ..CMoveRsp::for_request(&move_rq(), Status::PENDING)
        }
        .into(),
        CCancelRq::new(11).into(),
        event_rq().into(),
        NEventReportRsp {
            error_id: Some(0xA710),
            error_comment: comment.clone(),
            has_data_set: true,
            ..NEventReportRsp::for_request(&event_rq(), Status::PROCESSING_FAILURE)
        }
        .into(),
        n_get_rq().into(),
        NGetRsp {
            attribute_identifier_list: vec![Tag(0x2110, 0x0020)],
            error_id: Some(1),
            error_comment: comment.clone(),
            has_data_set: true,
            ..NGetRsp::for_request(&n_get_rq(), Status::ATTRIBUTE_LIST_ERROR)
        }
        .into(),
        n_set_rq().into(),
        NSetRsp {
            attribute_identifier_list: vec![Tag(0x0040, 0x0252)],
            error_id: Some(2),
            error_comment: comment.clone(),
            has_data_set: true,
            ..NSetRsp::for_request(&n_set_rq(), Status::ATTRIBUTE_LIST_ERROR)
        }
        .into(),
        action_rq().into(),
        NActionRsp {
            error_id: Some(3),
            error_comment: comment.clone(),
            has_data_set: true,
            ..NActionRsp::for_request(&action_rq(), Status::SUCCESS)
        }
        .into(),
        create_rq().into(),
        NCreateRsp {
            error_id: Some(4),
            error_comment: comment.clone(),
            has_data_set: true,
            ..NCreateRsp::for_request(&create_rq(), Status::SUCCESS)
        }
        .into(),
        delete_rq().into(),
        NDeleteRsp {
            error_id: Some(5),
            error_comment: comment,
            ..NDeleteRsp::for_request(&delete_rq(), Status::NO_SUCH_SOP_INSTANCE)
        }
        .into(),
    ]
}

#[test]
fn new_message_examples_round_trip_and_are_typed() {
    let examples = full_examples();
    let mut fields: Vec<u16> = examples.iter().map(Message::command_field).collect();
    fields.sort();
    fields.dedup();
    // The 19 new types, plus the 4 C-ECHO / C-STORE ones: every standard command is typed.
    assert_eq!(fields.len(), 19);
    for f in command_field::ALL {
        let known = fields.contains(&f)
            || [
                command_field::C_ECHO_RQ,
                command_field::C_ECHO_RSP,
                command_field::C_STORE_RQ,
                command_field::C_STORE_RSP,
            ]
            .contains(&f);
        assert!(known, "{}", command_name(f));
    }
    for m in examples {
        assert!(!matches!(m, Message::Other(_)));
        assert_eq!(m.name(), command_name(m.command_field()));
        round_trip(m);
    }
}

#[test]
fn accessors_follow_the_message_kind() {
    for m in full_examples() {
        let name = m.name();
        let cmd = m.to_command();
        assert_eq!(m.is_response(), name.ends_with("-RSP"), "{name}");
        if m.is_response() {
            assert_eq!(m.message_id(), None, "{name}");
            assert!(m.responded_to().is_some(), "{name}");
            assert_eq!(m.status().map(|s| s.0), cmd.get_u16(tags::STATUS), "{name}");
        } else if name == "C-CANCEL-RQ" {
            assert_eq!(m.message_id(), None);
            assert_eq!(m.responded_to(), Some(11));
            assert_eq!(m.status(), None);
        } else {
            assert_eq!(m.message_id(), cmd.get_u16(tags::MESSAGE_ID), "{name}");
            assert!(m.message_id().is_some(), "{name}");
            assert_eq!(m.responded_to(), None, "{name}");
            assert_eq!(m.status(), None, "{name}");
        }
        // The accessor reports AffectedSOPClassUID only: the Requested one of N-GET, N-SET,
        // N-ACTION and N-DELETE requests is a different element.
        assert_eq!(
            m.affected_sop_class_uid(),
            cmd.get_str(tags::AFFECTED_SOP_CLASS_UID),
            "{name}"
        );
    }
    assert_eq!(Message::from(n_get_rq()).affected_sop_class_uid(), None);
    assert_eq!(
        Message::from(move_rq()).affected_sop_class_uid(),
        Some(uid::STUDY_ROOT_QR_MOVE)
    );
}

#[test]
fn responses_echo_their_requests() {
    let rsp = CFindRsp::for_request(&find_rq(), Status::PENDING_WARNING);
    assert_eq!(rsp.message_id_being_responded_to, 11);
    assert_eq!(
        rsp.affected_sop_class_uid.as_deref(),
        Some(uid::PATIENT_ROOT_QR_FIND)
    );
    let rsp = CGetRsp::for_request(&get_rq(), Status::SUCCESS);
    assert_eq!(
        (rsp.message_id_being_responded_to, rsp.sub_operations),
        (12, SubOperations::default())
    );
    let rsp = CMoveRsp::for_request(&move_rq(), Status::MOVE_DESTINATION_UNKNOWN);
    assert_eq!(rsp.message_id_being_responded_to, 13);
    assert_eq!(rsp.status, Status::MOVE_DESTINATION_UNKNOWN);
    assert_eq!(move_rq().move_destination, "STORESCP");

    let rsp = NEventReportRsp::for_request(&event_rq(), Status::SUCCESS);
    assert_eq!(rsp.message_id_being_responded_to, 14);
    assert_eq!(rsp.event_type_id, Some(2));
    assert_eq!(
        rsp.affected_sop_instance_uid.as_deref(),
        Some(uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE)
    );
    // N-GET/SET/ACTION/DELETE responses name the requested instance in the Affected elements.
    let rsp = NGetRsp::for_request(&n_get_rq(), Status::SUCCESS);
    assert_eq!(
        (
            rsp.affected_sop_class_uid.as_deref(),
            rsp.affected_sop_instance_uid.as_deref()
        ),
        (
            Some("1.2.840.10008.5.1.1.16"),
            Some("1.2.840.10008.5.1.1.17")
        )
    );
    let rsp = NSetRsp::for_request(&n_set_rq(), Status::SUCCESS);
    assert_eq!(rsp.affected_sop_instance_uid.as_deref(), Some("1.2.3.16"));
    let rsp = NActionRsp::for_request(&action_rq(), Status::SUCCESS);
    assert_eq!(
        (rsp.message_id_being_responded_to, rsp.action_type_id),
        (17, Some(1))
    );
    let rsp = NDeleteRsp::for_request(&delete_rq(), Status::SUCCESS);
    assert_eq!(rsp.affected_sop_instance_uid.as_deref(), Some("1.2.3.19"));
    // N-CREATE: the instance UID is echoed when the SCU chose it, left for the SCP otherwise.
    let rsp = NCreateRsp::for_request(&create_rq(), Status::SUCCESS);
    assert_eq!(rsp.affected_sop_instance_uid.as_deref(), Some("1.2.3.18"));
    let rq = NCreateRq::new(1, uid::MODALITY_PERFORMED_PROCEDURE_STEP, None, true);
    assert!(!rq.to_command().contains(tags::AFFECTED_SOP_INSTANCE_UID));
    assert_eq!(
        NCreateRsp::for_request(&rq, Status::SUCCESS).affected_sop_instance_uid,
        None
    );
    // Constructors drop UID padding like CStoreRq::new does.
    assert_eq!(
        CFindRq::new(1, "1.2.3\0", Priority::Medium).affected_sop_class_uid,
        "1.2.3"
    );
}

/// Every required element of every new request type: removing it gives an error naming it.
#[test]
fn new_requests_name_missing_required_elements() {
    use tags::*;
    let cases: Vec<(CommandSet, &'static str, Vec<Tag>, Vec<Tag>)> = vec![
        (
            find_rq().to_command(),
            "C-FIND-RQ",
            vec![
                MESSAGE_ID,
                AFFECTED_SOP_CLASS_UID,
                PRIORITY,
                COMMAND_DATA_SET_TYPE,
            ],
            vec![],
        ),
        (
            get_rq().to_command(),
            "C-GET-RQ",
            vec![
                MESSAGE_ID,
                AFFECTED_SOP_CLASS_UID,
                PRIORITY,
                COMMAND_DATA_SET_TYPE,
            ],
            vec![],
        ),
        (
            move_rq().to_command(),
            "C-MOVE-RQ",
            vec![
                MESSAGE_ID,
                AFFECTED_SOP_CLASS_UID,
                PRIORITY,
                MOVE_DESTINATION,
                COMMAND_DATA_SET_TYPE,
            ],
            vec![],
        ),
        (
            CCancelRq::new(3).to_command(),
            "C-CANCEL-RQ",
            vec![MESSAGE_ID_BEING_RESPONDED_TO, COMMAND_DATA_SET_TYPE],
            vec![],
        ),
        (
            event_rq().to_command(),
            "N-EVENT-REPORT-RQ",
            vec![
                MESSAGE_ID,
                AFFECTED_SOP_CLASS_UID,
                AFFECTED_SOP_INSTANCE_UID,
                EVENT_TYPE_ID,
                COMMAND_DATA_SET_TYPE,
            ],
            vec![],
        ),
        (
            n_get_rq().to_command(),
            "N-GET-RQ",
            vec![
                MESSAGE_ID,
                REQUESTED_SOP_CLASS_UID,
                REQUESTED_SOP_INSTANCE_UID,
                COMMAND_DATA_SET_TYPE,
            ],
            vec![ATTRIBUTE_IDENTIFIER_LIST],
        ),
        (
            n_set_rq().to_command(),
            "N-SET-RQ",
            vec![
                MESSAGE_ID,
                REQUESTED_SOP_CLASS_UID,
                REQUESTED_SOP_INSTANCE_UID,
                COMMAND_DATA_SET_TYPE,
            ],
            vec![],
        ),
        (
            action_rq().to_command(),
            "N-ACTION-RQ",
            vec![
                MESSAGE_ID,
                REQUESTED_SOP_CLASS_UID,
                REQUESTED_SOP_INSTANCE_UID,
                ACTION_TYPE_ID,
                COMMAND_DATA_SET_TYPE,
            ],
            vec![],
        ),
        (
            create_rq().to_command(),
            "N-CREATE-RQ",
            vec![MESSAGE_ID, AFFECTED_SOP_CLASS_UID, COMMAND_DATA_SET_TYPE],
            vec![AFFECTED_SOP_INSTANCE_UID],
        ),
        (
            delete_rq().to_command(),
            "N-DELETE-RQ",
            vec![
                MESSAGE_ID,
                REQUESTED_SOP_CLASS_UID,
                REQUESTED_SOP_INSTANCE_UID,
                COMMAND_DATA_SET_TYPE,
            ],
            vec![],
        ),
    ];
    check_required_elements(cases);
}

/// Responses need only MessageIDBeingRespondedTo, Status and CommandDataSetType; everything
/// else they carry is optional or conditional (DCMTK is equally lenient).
#[test]
fn new_responses_require_only_the_common_elements() {
    use tags::*;
    let common = vec![MESSAGE_ID_BEING_RESPONDED_TO, STATUS, COMMAND_DATA_SET_TYPE];
    let cases = full_examples()
        .into_iter()
        .filter(Message::is_response)
        .map(|m| {
            let cmd = m.to_command();
            let optional = cmd
                .iter()
                .map(|(t, _)| t)
                .filter(|t| !common.contains(t) && *t != COMMAND_FIELD)
                .collect::<Vec<Tag>>();
            assert!(!optional.is_empty(), "{}", m.name());
            (cmd, m.name(), common.clone(), optional)
        })
        .collect::<Vec<_>>();
    assert_eq!(cases.len(), 9);
    check_required_elements(cases);
}

#[test]
fn move_destination_and_counters_on_the_wire() {
    let cmd = move_rq().to_command();
    assert_eq!(cmd.get(tags::MOVE_DESTINATION), Some(&b"STORESCP"[..]));
    // AE values: leading and trailing spaces are insignificant.
    let mut padded = cmd.clone();
    padded.set(tags::MOVE_DESTINATION, b"  STORE ".to_vec());
    let Message::CMoveRq(rq) = Message::from_command(padded).unwrap() else {
        panic!("not a C-MOVE-RQ");
    };
    assert_eq!(rq.move_destination, "STORE");

    let mut rsp = CMoveRsp::for_request(&move_rq(), Status::PENDING);
    rsp.sub_operations = SubOperations::pending(0x1234, 0, 0xFFFF, 1);
    let cmd = rsp.to_command();
    assert_eq!(
        cmd.get(tags::NUMBER_OF_REMAINING_SUBOPERATIONS),
        Some(&[0x34, 0x12][..])
    );
    assert_eq!(
        cmd.get(tags::NUMBER_OF_COMPLETED_SUBOPERATIONS),
        Some(&[0, 0][..])
    );
    assert_eq!(
        cmd.get(tags::NUMBER_OF_FAILED_SUBOPERATIONS),
        Some(&[0xFF, 0xFF][..])
    );
    assert_eq!(
        cmd.get(tags::NUMBER_OF_WARNING_SUBOPERATIONS),
        Some(&[1, 0][..])
    );
    // Zero and absent stay different; a final response omits Remaining.
    rsp.sub_operations = SubOperations::finished(3, 0, 0);
    let cmd = rsp.to_command();
    assert!(!cmd.contains(tags::NUMBER_OF_REMAINING_SUBOPERATIONS));
    let back = CMoveRsp::from_command(&cmd).unwrap();
    assert_eq!(back.sub_operations.remaining, None);
    assert_eq!(back.sub_operations.failed, Some(0));
    assert!(!back.sub_operations.is_empty());
    let none = CGetRsp::for_request(&get_rq(), Status::SUCCESS).to_command();
    for element in 0x1020..=0x1023 {
        assert!(!none.contains(Tag(0x0000, element)));
    }
    // A counter that is not a US is an error naming it.
    let mut bad = cmd.clone();
    bad.set(tags::NUMBER_OF_COMPLETED_SUBOPERATIONS, vec![3, 0, 0, 0]);
    let e = Message::from_command(bad).unwrap_err();
    assert!(
        matches!(
            e,
            CommandError::InvalidValue {
                command: "C-MOVE-RSP",
                tag: tags::NUMBER_OF_COMPLETED_SUBOPERATIONS,
                ..
            }
        ),
        "{e}"
    );
}

/// Decodes `m`'s command with CommandDataSetType replaced by `value`.
fn with_data_set_type(m: &Message, value: u16) -> Result<Message, CommandError> {
    let mut cmd = m.to_command();
    cmd.set_u16(tags::COMMAND_DATA_SET_TYPE, value);
    Message::from_command(cmd)
}

#[test]
fn has_data_set_follows_the_table() {
    // Fixed by the message type: requests whose data set is M, and messages without one.
    let always: Vec<Message> = vec![
        find_rq().into(),
        get_rq().into(),
        move_rq().into(),
        n_set_rq().into(),
    ];
    let never: Vec<Message> = vec![
        CCancelRq::new(1).into(),
        n_get_rq().into(),
        delete_rq().into(),
        NDeleteRsp::for_request(&delete_rq(), Status::SUCCESS).into(),
    ];
    for (messages, expected) in [(always, true), (never, false)] {
        for m in messages {
            let name = m.name();
            assert_eq!(m.has_data_set(), expected, "{name}");
            let written = m.to_command().get_u16(tags::COMMAND_DATA_SET_TYPE);
            assert_eq!(
                written,
                Some(if expected { 0x0001 } else { 0x0101 }),
                "{name}"
            );
            for value in [0x0101, 0x0001, 0x0102, 0xFEFE] {
                let announced = value != 0x0101;
                let result = with_data_set_type(&m, value);
                if announced == expected {
                    assert_eq!(result.unwrap(), m, "{name} {value:04X}");
                } else {
                    assert_eq!(
                        result.unwrap_err(),
                        CommandError::DataSetTypeMismatch {
                            command: name,
                            data_set_type: value
                        }
                    );
                }
            }
        }
    }

    // U/C data sets: whatever the peer announced is kept, since it decides the framing, and
    // sent back out unchanged.
    for m in full_examples() {
        let name = m.name();
        let recorded = matches!(
            name,
            "C-FIND-RSP"
                | "C-GET-RSP"
                | "C-MOVE-RSP"
                | "N-EVENT-REPORT-RQ"
                | "N-EVENT-REPORT-RSP"
                | "N-GET-RSP"
                | "N-SET-RSP"
                | "N-ACTION-RQ"
                | "N-ACTION-RSP"
                | "N-CREATE-RQ"
                | "N-CREATE-RSP"
        );
        if !recorded {
            continue;
        }
        for value in [0x0101, 0x0001, 0x0102, 0xFEFE] {
            let back = with_data_set_type(&m, value).unwrap();
            assert_eq!(back.has_data_set(), value != 0x0101, "{name} {value:04X}");
            let sent = back.to_command().get_u16(tags::COMMAND_DATA_SET_TYPE);
            assert_eq!(sent, Some(if value == 0x0101 { 0x0101 } else { 0x0001 }));
        }
    }

    // Constructors' defaults: a C-FIND-RSP carries an Identifier exactly when pending; other
    // responses start without a data set, optional request data sets are chosen explicitly.
    for (status, identifier) in [
        (Status::PENDING, true),
        (Status::PENDING_WARNING, true),
        (Status::SUCCESS, false),
        (Status::CANCEL, false),
        (Status::OUT_OF_RESOURCES, false),
        (Status(0xC001), false),
    ] {
        let rsp = CFindRsp::for_request(&find_rq(), status);
        assert_eq!(rsp.has_data_set(), identifier, "{status}");
        let back = CFindRsp::from_command(&rsp.to_command()).unwrap();
        assert_eq!(back.has_data_set, identifier);
    }
    for status in [Status::PENDING, Status::SUCCESS, Status::CANCEL] {
        assert!(!CGetRsp::for_request(&get_rq(), status).has_data_set());
        assert!(!CMoveRsp::for_request(&move_rq(), status).has_data_set());
    }
    assert!(!NEventReportRsp::for_request(&event_rq(), Status::SUCCESS).has_data_set());
    assert!(!NGetRsp::for_request(&n_get_rq(), Status::SUCCESS).has_data_set());
    assert!(!NSetRsp::for_request(&n_set_rq(), Status::SUCCESS).has_data_set());
    assert!(!NActionRsp::for_request(&action_rq(), Status::SUCCESS).has_data_set());
    assert!(!NCreateRsp::for_request(&create_rq(), Status::SUCCESS).has_data_set());
    for data in [false, true] {
        let event = NEventReportRq::new(1, "1.2", "1.2.3", 1, data);
        let action = NActionRq::new(1, "1.2", "1.2.3", 1, data);
        let create = NCreateRq::new(1, "1.2", None, data);
        assert_eq!(
            [
                event.has_data_set(),
                action.has_data_set(),
                create.has_data_set()
            ],
            [data; 3]
        );
    }
}

#[test]
fn malformed_values_and_data_set_mismatch_are_errors() {
    let mut cmd = CStoreRq::new(1, uid::CT_IMAGE_STORAGE, "1.2", Priority::Low).to_command();
    cmd.set_u16(tags::PRIORITY, 7);
    let e = Message::from_command(cmd).unwrap_err();
    assert!(
        matches!(
            e,
            CommandError::InvalidValue {
                tag: tags::PRIORITY,
                ..
            }
        ),
        "{e}"
    );

    let mut cmd = CEchoRq::new(1).to_command();
    cmd.set(tags::MESSAGE_ID, vec![1, 0, 0, 0]);
    let e = Message::from_command(cmd).unwrap_err();
    assert!(
        matches!(
            e,
            CommandError::InvalidValue {
                tag: tags::MESSAGE_ID,
                ..
            }
        ),
        "{e}"
    );

    let mut cmd = CEchoRq::new(1).to_command();
    cmd.set_u16(tags::COMMAND_DATA_SET_TYPE, 0x0001);
    let e = Message::from_command(cmd).unwrap_err();
    assert_eq!(
        e,
        CommandError::DataSetTypeMismatch {
            command: "C-ECHO-RQ",
            data_set_type: 1
        }
    );

    let mut cmd = CStoreRq::new(1, uid::CT_IMAGE_STORAGE, "1.2", Priority::Low).to_command();
    cmd.set_u16(tags::COMMAND_DATA_SET_TYPE, 0x0101);
    assert!(matches!(
        Message::from_command(cmd),
        Err(CommandError::DataSetTypeMismatch {
            command: "C-STORE-RQ",
            ..
        })
    ));

    let e = CEchoRsp::from_command(&CEchoRq::new(1).to_command()).unwrap_err();
    assert_eq!(
        e,
        CommandError::WrongCommandField {
            expected: 0x8030,
            found: 0x0030
        }
    );
}

#[test]
fn unknown_command_types_are_kept() {
    // 0x8FFF would be a "C-CANCEL-RSP", which does not exist: no typed struct, so it is kept.
    let mut cmd = CommandSet::new();
    cmd.set_u16(tags::COMMAND_FIELD, 0x8FFF);
    cmd.set_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO, 9);
    cmd.set_u16(tags::STATUS, 0xFF01);
    cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, uid::STUDY_ROOT_QR_FIND);
    cmd.set_u16(tags::COMMAND_DATA_SET_TYPE, 0x0001);
    let message = Message::from_command(cmd.clone()).unwrap();
    assert_eq!(message, Message::Other(cmd.clone()));
    assert_eq!(message.name(), "unknown");
    assert!(message.is_response());
    assert_eq!(message.command_field(), 0x8FFF);
    assert_eq!(message.responded_to(), Some(9));
    assert_eq!(message.message_id(), None);
    assert_eq!(message.status(), Some(Status::PENDING_WARNING));
    assert_eq!(
        message.affected_sop_class_uid(),
        Some(uid::STUDY_ROOT_QR_FIND)
    );
    assert!(message.has_data_set());
    assert_eq!(message.to_command(), cmd);

    // A request type from outside the standard's list keeps its MessageID, so an SCP can still
    // answer 0x0211; even a command that would be malformed as any known type is kept.
    let mut cmd = CommandSet::new();
    cmd.set_u16(tags::COMMAND_FIELD, 0x0040);
    cmd.set_u16(tags::MESSAGE_ID, 3);
    let message = Message::from_command(cmd.clone()).unwrap();
    assert_eq!(message, Message::Other(cmd));
    assert_eq!(message.message_id(), Some(3));
    assert!(!message.has_data_set());
    assert!(!message.is_response());

    // The same content with C-FIND-RSP's field is typed now.
    let mut cmd = CommandSet::new();
    cmd.set_u16(tags::COMMAND_FIELD, command_field::C_FIND_RSP);
    cmd.set_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO, 9);
    cmd.set_u16(tags::STATUS, 0xFF01);
    cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, uid::STUDY_ROOT_QR_FIND);
    cmd.set_u16(tags::COMMAND_DATA_SET_TYPE, 0x0001);
    let Message::CFindRsp(rsp) = Message::from_command(cmd).unwrap() else {
        panic!("C-FIND-RSP not typed");
    };
    assert_eq!(rsp.status, Status::PENDING_WARNING);
    assert!(rsp.has_data_set);
}

#[test]
fn command_fields_and_names() {
    assert_eq!(command_field::ALL.len(), 23);
    let mut names: Vec<&str> = command_field::ALL
        .iter()
        .map(|f| command_name(*f))
        .collect();
    assert!(names.iter().all(|n| *n != "unknown"));
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 23);
    for f in command_field::ALL {
        if f != command_field::C_CANCEL_RQ && f & 0x8000 == 0 {
            assert!(
                command_field::ALL.contains(&(f | 0x8000)),
                "response of {f:04X}"
            );
        }
    }
    assert_eq!(command_name(0x0FFF), "C-CANCEL-RQ");
    assert_eq!(command_name(0x8FFF), "unknown");
}

#[test]
fn message_ids_wrap_and_skip_zero() {
    let mut ids = MessageIdAllocator::new();
    assert_eq!((ids.next(), ids.next()), (1, 2));
    let mut ids = MessageIdAllocator::starting_at(65534);
    assert_eq!([ids.next(), ids.next(), ids.next()], [65534, 65535, 1]);
    assert_eq!(MessageIdAllocator::starting_at(0).next(), 1);
    let mut ids = MessageIdAllocator::default();
    for _ in 0..200_000 {
        assert_ne!(ids.next(), 0);
    }
}

#[test]
fn priority_wire_values() {
    for (p, wire) in [
        (Priority::Low, 2),
        (Priority::Medium, 0),
        (Priority::High, 1),
    ] {
        assert_eq!(p.to_wire(), wire);
        assert_eq!(Priority::from_wire(wire), Some(p));
    }
    assert_eq!(Priority::from_wire(3), None);
}

#[test]
fn status_classes_follow_the_table() {
    use StatusClass::*;
    let mut counts = [0usize; 5];
    for code in 0..=0xFFFFu16 {
        let s = Status(code);
        let class = s.class();
        let expected = match code {
            0x0000 => Success,
            0xFF00 | 0xFF01 => Pending,
            0xFE00 => Cancel,
            0x0001 | 0x0107 | 0x0116 => Warning,
            0xB000..=0xBFFF => Warning,
            // Failure ranges of the table, and everything unassigned (never success).
            _ => Failure,
        };
        assert_eq!(class, expected, "0x{code:04X}");
        assert_eq!(s.is_pending(), class == Pending);
        assert_eq!(s.is_success(), code == 0);
        counts[class as usize] += 1;
        for field in [
            0,
            command_field::C_STORE_RSP,
            command_field::C_FIND_RSP,
            0x8021,
            0x8010,
        ] {
            assert!(!s.meaning(field).is_empty());
        }
        let shown = s.to_string();
        assert!(shown.starts_with(&format!("0x{code:04X} (")), "{shown}");
    }
    assert_eq!(counts, [1, 2, 1, 3 + 0x1000, 0x10000 - 7 - 0x1000]);
    assert!(Status(0xFF00).is_pending() && Status(0xFF01).is_pending());
    assert!(!Status(0xFF02).is_pending());
    assert_eq!(
        Status::OUT_OF_RESOURCES.to_string(),
        "0xA700 (Failure: refused: out of resources)"
    );
    assert_eq!(Status(0xA7C3).meaning(0), "refused: out of resources");
    assert_eq!(Status::MOVE_DESTINATION_UNKNOWN, Status(0xA801));
    assert_eq!(Status::SUB_OPERATIONS_WARNING, Status(0xB000));
    assert_eq!(
        Status(0xB000)
            .display_for(command_field::C_STORE_RSP)
            .to_string(),
        "0xB000 (Warning: warning: coercion of data elements)"
    );
    assert_eq!(
        Status(0xC0FF).meaning(command_field::C_FIND_RQ),
        "failed: unable to process"
    );
    assert_eq!(
        Status(0x0122).meaning(command_field::C_ECHO_RSP),
        "refused: SOP class not supported"
    );
}

fn uid_strategy() -> impl Strategy<Value = String> {
    "[1-9][0-9]{0,4}(\\.[0-9]{1,6}){0,8}"
}

fn text_strategy() -> impl Strategy<Value = String> {
    // LO: leading spaces are kept, trailing ones are padding.
    "([ -~]{0,40}[!-~])?"
}

fn ae_strategy() -> impl Strategy<Value = String> {
    "[A-Z0-9_]([A-Z0-9_ ]{0,14}[A-Z0-9_])?"
}

fn priority_strategy() -> impl Strategy<Value = Priority> {
    prop_oneof![
        Just(Priority::Low),
        Just(Priority::Medium),
        Just(Priority::High)
    ]
}

fn message_strategy() -> impl Strategy<Value = Message> {
    let echo_rq =
        (any::<u16>(), uid_strategy()).prop_map(|(message_id, affected_sop_class_uid)| CEchoRq {
            message_id,
            affected_sop_class_uid,
        });
    let echo_rsp = (
        any::<u16>(),
        proptest::option::of(uid_strategy()),
        any::<u16>(),
        proptest::option::of(text_strategy()),
    )
        .prop_map(|(id, class, status, comment)| CEchoRsp {
            message_id_being_responded_to: id,
            affected_sop_class_uid: class,
            status: Status(status),
            error_comment: comment,
        });
    let store_rq = (
        any::<u16>(),
        priority_strategy(),
        uid_strategy(),
        uid_strategy(),
        proptest::option::of(ae_strategy()),
        proptest::option::of(any::<u16>()),
    )
        .prop_map(
            |(message_id, priority, class, instance, ae, move_id)| CStoreRq {
                message_id,
                priority,
                affected_sop_class_uid: class,
                affected_sop_instance_uid: instance,
                move_originator_ae_title: ae,
                move_originator_message_id: move_id,
            },
        );
    let store_rsp = (
        any::<u16>(),
        proptest::option::of(uid_strategy()),
        proptest::option::of(uid_strategy()),
        any::<u16>(),
        tag_list(),
        proptest::option::of(text_strategy()),
    )
        .prop_map(
            |(id, class, instance, status, offending, comment)| CStoreRsp {
                message_id_being_responded_to: id,
                affected_sop_class_uid: class,
                affected_sop_instance_uid: instance,
                status: Status(status),
                offending_element: offending,
                error_comment: comment,
            },
        );
    let mut all = vec![
        echo_rq.prop_map(Message::from).boxed(),
        echo_rsp.prop_map(Message::from).boxed(),
        store_rq.prop_map(Message::from).boxed(),
        store_rsp.prop_map(Message::from).boxed(),
    ];
    all.extend(c_message_strategies());
    all.extend(n_message_strategies());
    proptest::strategy::Union::new(all)
}

fn opt_uid() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(uid_strategy())
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text_strategy())
}

fn opt_u16() -> impl Strategy<Value = Option<u16>> {
    proptest::option::of(any::<u16>())
}

fn tag_list() -> impl Strategy<Value = Vec<Tag>> {
    proptest::collection::vec(any::<u32>().prop_map(Tag::from_u32), 0..4)
}

fn sub_operations_strategy() -> impl Strategy<Value = SubOperations> {
    (opt_u16(), opt_u16(), opt_u16(), opt_u16()).prop_map(
        |(remaining, completed, failed, warning)| SubOperations {
            remaining,
            completed,
            failed,
            warning,
        },
    )
}

/// C-FIND, C-GET, C-MOVE (requests and responses) and C-CANCEL-RQ.
fn c_message_strategies() -> Vec<BoxedStrategy<Message>> {
    let find_rq = (any::<u16>(), priority_strategy(), uid_strategy()).prop_map(
        |(message_id, priority, affected_sop_class_uid)| CFindRq {
            message_id,
            priority,
            affected_sop_class_uid,
        },
    );
    let find_rsp = (
        any::<u16>(),
        opt_uid(),
        any::<u16>(),
        tag_list(),
        opt_text(),
        any::<bool>(),
    )
        .prop_map(|(id, class, status, offending, comment, data)| CFindRsp {
            message_id_being_responded_to: id,
            affected_sop_class_uid: class,
            status: Status(status),
            offending_element: offending,
            error_comment: comment,
            has_data_set: data,
        });
    let get_rq = (any::<u16>(), priority_strategy(), uid_strategy()).prop_map(
        |(message_id, priority, affected_sop_class_uid)| CGetRq {
            message_id,
            priority,
            affected_sop_class_uid,
        },
    );
    let retrieve_rsp = || {
        (
            any::<u16>(),
            opt_uid(),
            any::<u16>(),
            sub_operations_strategy(),
            tag_list(),
            opt_text(),
            any::<bool>(),
        )
    };
    let get_rsp =
        retrieve_rsp().prop_map(
            |(id, class, status, subs, offending, comment, data)| CGetRsp {
                message_id_being_responded_to: id,
                affected_sop_class_uid: class,
                status: Status(status),
                sub_operations: subs,
                offending_element: offending,
                error_comment: comment,
                has_data_set: data,
            },
        );
    let move_rq = (
        any::<u16>(),
        priority_strategy(),
        uid_strategy(),
        ae_strategy(),
    )
        .prop_map(|(message_id, priority, class, destination)| CMoveRq {
            message_id,
            priority,
            affected_sop_class_uid: class,
            move_destination: destination,
        });
    let move_rsp = retrieve_rsp().prop_map(
        |(id, class, status, subs, offending, comment, data)| CMoveRsp {
            message_id_being_responded_to: id,
            affected_sop_class_uid: class,
            status: Status(status),
            sub_operations: subs,
            offending_element: offending,
            error_comment: comment,
            has_data_set: data,
        },
    );
    let cancel = any::<u16>().prop_map(CCancelRq::new);
    vec![
        find_rq.prop_map(Message::from).boxed(),
        find_rsp.prop_map(Message::from).boxed(),
        get_rq.prop_map(Message::from).boxed(),
        get_rsp.prop_map(Message::from).boxed(),
        move_rq.prop_map(Message::from).boxed(),
        move_rsp.prop_map(Message::from).boxed(),
        cancel.prop_map(Message::from).boxed(),
    ]
}

/// The twelve N-service messages.
fn n_message_strategies() -> Vec<BoxedStrategy<Message>> {
    let event_rq = (
        any::<u16>(),
        uid_strategy(),
        uid_strategy(),
        any::<u16>(),
        any::<bool>(),
    )
        .prop_map(|(id, class, instance, event, data)| NEventReportRq {
            message_id: id,
            affected_sop_class_uid: class,
            affected_sop_instance_uid: instance,
            event_type_id: event,
            has_data_set: data,
        });
    let event_rsp = (
        any::<u16>(),
        opt_uid(),
        opt_uid(),
        any::<u16>(),
        opt_u16(),
        opt_u16(),
        opt_text(),
        any::<bool>(),
    )
        .prop_map(
            |(id, class, instance, status, event, error_id, comment, data)| NEventReportRsp {
                message_id_being_responded_to: id,
                affected_sop_class_uid: class,
                affected_sop_instance_uid: instance,
                status: Status(status),
                event_type_id: event,
                error_id,
                error_comment: comment,
                has_data_set: data,
            },
        );
    let get_rq = (any::<u16>(), uid_strategy(), uid_strategy(), tag_list()).prop_map(
        |(id, class, instance, list)| NGetRq {
            message_id: id,
            requested_sop_class_uid: class,
            requested_sop_instance_uid: instance,
            attribute_identifier_list: list,
        },
    );
    // N-GET-RSP and N-SET-RSP have the same elements.
    let attribute_rsp = || {
        (
            any::<u16>(),
            opt_uid(),
            opt_uid(),
            any::<u16>(),
            tag_list(),
            opt_u16(),
            opt_text(),
            any::<bool>(),
        )
    };
    let get_rsp = attribute_rsp().prop_map(
        |(id, class, instance, status, list, error_id, comment, data)| NGetRsp {
            message_id_being_responded_to: id,
            affected_sop_class_uid: class,
            affected_sop_instance_uid: instance,
            status: Status(status),
            attribute_identifier_list: list,
            error_id,
            error_comment: comment,
            has_data_set: data,
        },
    );
    let set_rq =
        (any::<u16>(), uid_strategy(), uid_strategy()).prop_map(|(id, class, instance)| NSetRq {
            message_id: id,
            requested_sop_class_uid: class,
            requested_sop_instance_uid: instance,
        });
    let set_rsp = attribute_rsp().prop_map(
        |(id, class, instance, status, list, error_id, comment, data)| NSetRsp {
            message_id_being_responded_to: id,
            affected_sop_class_uid: class,
            affected_sop_instance_uid: instance,
            status: Status(status),
            attribute_identifier_list: list,
            error_id,
            error_comment: comment,
            has_data_set: data,
        },
    );
    let action_rq = (
        any::<u16>(),
        uid_strategy(),
        uid_strategy(),
        any::<u16>(),
        any::<bool>(),
    )
        .prop_map(|(id, class, instance, action, data)| NActionRq {
            message_id: id,
            requested_sop_class_uid: class,
            requested_sop_instance_uid: instance,
            action_type_id: action,
            has_data_set: data,
        });
    let action_rsp = (
        any::<u16>(),
        opt_uid(),
        opt_uid(),
        any::<u16>(),
        opt_u16(),
        opt_u16(),
        opt_text(),
        any::<bool>(),
    )
        .prop_map(
            |(id, class, instance, status, action, error_id, comment, data)| NActionRsp {
                message_id_being_responded_to: id,
                affected_sop_class_uid: class,
                affected_sop_instance_uid: instance,
                status: Status(status),
                action_type_id: action,
                error_id,
                error_comment: comment,
                has_data_set: data,
            },
        );
    let create_rq = (any::<u16>(), uid_strategy(), opt_uid(), any::<bool>()).prop_map(
        |(id, class, instance, data)| NCreateRq {
            message_id: id,
            affected_sop_class_uid: class,
            affected_sop_instance_uid: instance,
            has_data_set: data,
        },
    );
    let create_rsp = (
        any::<u16>(),
        opt_uid(),
        opt_uid(),
        any::<u16>(),
        opt_u16(),
        opt_text(),
        any::<bool>(),
    )
        .prop_map(
            |(id, class, instance, status, error_id, comment, data)| NCreateRsp {
                message_id_being_responded_to: id,
                affected_sop_class_uid: class,
                affected_sop_instance_uid: instance,
                status: Status(status),
                error_id,
                error_comment: comment,
                has_data_set: data,
            },
        );
    let delete_rq =
        (any::<u16>(), uid_strategy(), uid_strategy()).prop_map(|(id, class, instance)| {
            NDeleteRq {
                message_id: id,
                requested_sop_class_uid: class,
                requested_sop_instance_uid: instance,
            }
        });
    let delete_rsp = (
        any::<u16>(),
        opt_uid(),
        opt_uid(),
        any::<u16>(),
        opt_u16(),
        opt_text(),
    )
        .prop_map(
            |(id, class, instance, status, error_id, comment)| NDeleteRsp {
                message_id_being_responded_to: id,
                affected_sop_class_uid: class,
                affected_sop_instance_uid: instance,
                status: Status(status),
                error_id,
                error_comment: comment,
            },
        );
    vec![
        event_rq.prop_map(Message::from).boxed(),
        event_rsp.prop_map(Message::from).boxed(),
        get_rq.prop_map(Message::from).boxed(),
        get_rsp.prop_map(Message::from).boxed(),
        set_rq.prop_map(Message::from).boxed(),
        set_rsp.prop_map(Message::from).boxed(),
        action_rq.prop_map(Message::from).boxed(),
        action_rsp.prop_map(Message::from).boxed(),
        create_rq.prop_map(Message::from).boxed(),
        create_rsp.prop_map(Message::from).boxed(),
        delete_rq.prop_map(Message::from).boxed(),
        delete_rsp.prop_map(Message::from).boxed(),
    ]
}

/// Byte strings made of plausible group-0000 elements, so the typed parsers get exercised too.
fn element_soup() -> impl Strategy<Value = Vec<u8>> {
    let element = (
        prop_oneof![
            Just(0x0000u16),
            Just(0x0002),
            Just(0x0100),
            Just(0x0110),
            Just(0x0120),
            Just(0x0700),
            Just(0x0800),
            Just(0x0900),
            Just(0x0901),
            Just(0x0902),
            Just(0x1000),
            Just(0x1030),
            Just(0x1031),
            Just(0x0003),
            Just(0x0600),
            Just(0x0903),
            Just(0x1001),
            Just(0x1002),
            Just(0x1005),
            Just(0x1008),
            Just(0x1020),
            Just(0x1021),
            Just(0x1022),
            Just(0x1023),
            any::<u16>(),
        ],
        prop_oneof![
            Just(vec![0x30, 0x00]),
            Just(vec![0x01, 0x00]),
            Just(vec![0x01, 0x80]),
            Just(vec![0x01, 0x01]),
            // Command fields of the other typed messages.
            prop::sample::select(command_field::ALL.to_vec())
                .prop_map(|f| f.to_le_bytes().to_vec()),
            proptest::collection::vec(any::<u8>(), 0..24),
        ],
    );
    proptest::collection::vec(element, 0..12).prop_map(|elements| {
        let mut out = Vec::new();
        for (e, value) in elements {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&e.to_le_bytes());
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(&value);
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_message_type_round_trips(message in message_strategy()) {
        round_trip(message);
    }

    // A separate run per service group, so each new type gets a fair share of the cases.
    #[test]
    fn c_messages_round_trip(message in proptest::strategy::Union::new(c_message_strategies())) {
        round_trip(message);
    }

    #[test]
    fn n_messages_round_trip(message in proptest::strategy::Union::new(n_message_strategies())) {
        round_trip(message);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(cmd) = CommandSet::decode(&bytes) {
            let again = encode(&cmd);
            prop_assert_eq!(CommandSet::decode(&again).unwrap(), cmd.clone());
            if let Ok(m) = Message::from_command(cmd) {
                let _ = (m.message_id(), m.status(), m.has_data_set(), m.to_command());
            }
        }
    }

    #[test]
    fn element_soup_never_panics(bytes in element_soup(), cut in any::<prop::sample::Index>()) {
        let bytes = &bytes[..cut.index(bytes.len() + 1)];
        match CommandSet::decode(bytes) {
            Ok(cmd) => {
                if let Ok(m) = Message::from_command(cmd) {
                    let back = Message::from_command(m.to_command());
                    // Typed messages survive re-encoding unchanged.
                    if !matches!(m, Message::Other(_)) {
                        prop_assert_eq!(back.unwrap(), m);
                    }
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
