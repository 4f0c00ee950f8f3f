//! DIMSE command sets and typed messages: known answers, round trips, errors, statuses.

use bytes::BytesMut;
use dimse_core::dimse::{
    command_field, command_name, tags, CEchoRq, CEchoRsp, CStoreRq, CStoreRsp, CommandError,
    CommandSet, DimseMessage, Message, MessageIdAllocator, Priority, Status, StatusClass,
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
    let mut rsp = CStoreRsp::for_request(&store, Status(0xB000));
    rsp.offending_element = vec![0x0010_0010, 0x0008_0018];
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
    cmd.set_tags(tags::OFFENDING_ELEMENT, &[0x0010_0020]);
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
    assert_eq!(cmd.get(0x0000_4000), Some(&b"retired "[..]));
    let tags_in_order: Vec<u32> = cmd.iter().map(|(t, _)| t).collect();
    assert_eq!(tags_in_order, [0x0002, 0x0100, 0x0110, 0x0800, 0x4000]);
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
                tag: 0x0000_0002,
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
                tag: 0x0000_0800,
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
            tag: 0x0008_0016,
            offset: 68
        }
    );

    let mut undefined = C_ECHO_RQ_BYTES.to_vec();
    undefined.extend_from_slice(&[0, 0, 0x02, 0x09, 0xFF, 0xFF, 0xFF, 0xFF]);
    assert!(matches!(
        CommandSet::decode(&undefined),
        Err(CommandError::LengthPastEnd {
            tag: 0x0000_0902,
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

/// Every required element of every typed message: removing it gives an error naming it.
#[test]
fn missing_required_elements_are_named() {
    let store = CStoreRq::new(3, uid::CT_IMAGE_STORAGE, "1.2.3", Priority::Medium);
    let cases: Vec<(CommandSet, &str, Vec<u32>, Vec<u32>)> = vec![
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
                offending_element: vec![0x0010_0010],
                error_comment: Some("bad".into()),
                ..CStoreRsp::for_request(&store, Status(0xA900))
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
            assert!(
                Message::from_command(c).is_ok(),
                "{command} without {tag:08X}"
            );
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
    let mut cmd = CommandSet::new();
    cmd.set_u16(tags::COMMAND_FIELD, command_field::C_FIND_RSP);
    cmd.set_u16(tags::MESSAGE_ID_BEING_RESPONDED_TO, 9);
    cmd.set_u16(tags::STATUS, 0xFF01);
    cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, uid::STUDY_ROOT_QR_FIND);
    cmd.set_u16(tags::COMMAND_DATA_SET_TYPE, 0x0001);
    let message = Message::from_command(cmd.clone()).unwrap();
    assert_eq!(message, Message::Other(cmd.clone()));
    assert_eq!(message.name(), "C-FIND-RSP");
    assert!(message.is_response());
    assert_eq!(message.responded_to(), Some(9));
    assert_eq!(message.message_id(), None);
    assert_eq!(message.status(), Some(Status::PENDING_WARNING));
    assert_eq!(
        message.affected_sop_class_uid(),
        Some(uid::STUDY_ROOT_QR_FIND)
    );
    assert!(message.has_data_set());
    assert_eq!(message.to_command(), cmd);
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
        proptest::collection::vec(any::<u32>(), 0..4),
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
    prop_oneof![
        echo_rq.prop_map(Message::from),
        echo_rsp.prop_map(Message::from),
        store_rq.prop_map(Message::from),
        store_rsp.prop_map(Message::from),
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
            any::<u16>(),
        ],
        prop_oneof![
            Just(vec![0x30, 0x00]),
            Just(vec![0x01, 0x00]),
            Just(vec![0x01, 0x80]),
            Just(vec![0x01, 0x01]),
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
