//! The DICOM JSON Model writer (PS3.18 Annex F): known answers written by hand from the
//! standard's examples, one family of VRs at a time, string escaping, and every decodable
//! file of the shared corpus checked to give JSON that Python's `json` module accepts.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use bytes::Bytes;
use dimse_core::dataset::{array_to_json, to_json, DataSet, Element, Tag, Value, ValueError, Vr};
use dimse_core::part10::FileMeta;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/dicom");

/// Inserts a raw element (bytes as stored: text as encoded, binary numbers little endian).
fn raw(ds: &mut DataSet, tag: (u16, u16), vr: Vr, bytes: &[u8]) {
    ds.insert(Element::new(
        Tag(tag.0, tag.1),
        vr,
        Value::Bytes(Bytes::copy_from_slice(bytes)),
    ));
}

/// A data set of one raw element.
fn one(tag: (u16, u16), vr: Vr, bytes: &[u8]) -> DataSet {
    let mut ds = DataSet::new();
    raw(&mut ds, tag, vr, bytes);
    ds
}

fn json_of(tag: (u16, u16), vr: Vr, bytes: &[u8]) -> String {
    to_json(&one(tag, vr, bytes)).unwrap()
}

fn le<const N: usize, T>(values: &[T], f: impl Fn(&T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(f).collect()
}

// ---------------------------------------------------------------------------------------------
// Known answers
// ---------------------------------------------------------------------------------------------

/// The study of PS3.18 F.4 ("DICOM JSON Model Example"), attribute for attribute, in the
/// standard's own order (ascending tags) and compact form.
#[test]
fn ps3_18_f4_example() {
    let mut ds = DataSet::new()
        .with("SpecificCharacterSet", "ISO_IR 192")
        .unwrap()
        .with("StudyDate", "20130409")
        .unwrap()
        .with("StudyTime", "131600.0000")
        .unwrap()
        .with("AccessionNumber", "11235813")
        .unwrap()
        .with("InstanceAvailability", "ONLINE")
        .unwrap()
        .with("ModalitiesInStudy", "CT\\PET")
        .unwrap()
        .with("ReferringPhysicianName", "^Bob^^Dr.")
        .unwrap()
        .with(
            "RetrieveURL",
            "http://wado.nema.org/studies/1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873",
        )
        .unwrap()
        .with("PatientName", "Wang^XiaoDong=王^小東=")
        .unwrap()
        .with("PatientID", "12345")
        .unwrap()
        .with("IssuerOfPatientID", "Hospital A")
        .unwrap()
        .with("PatientBirthDate", "19670701")
        .unwrap()
        .with("PatientSex", "M")
        .unwrap()
        .with(
            "StudyInstanceUID",
            "1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873",
        )
        .unwrap()
        .with("NumberOfStudyRelatedSeries", "4")
        .unwrap()
        .with("NumberOfStudyRelatedInstances", "942")
        .unwrap();
    raw(&mut ds, (0x0009, 0x0010), Vr::LO, b"Vendor A");
    raw(
        &mut ds,
        (0x0009, 0x1002),
        Vr::UN,
        &[207, 76, 125, 115, 203, 251],
    );
    let other = |id: &str, issuer: &str| {
        DataSet::new()
            .with("PatientID", id)
            .unwrap()
            .with("IssuerOfPatientID", issuer)
            .unwrap()
    };
    ds.set_sequence(
        Tag(0x0010, 0x1002),
        vec![other("54321", "Hospital B"), other("24680", "Hospital C")],
    )
    .unwrap();

    let expected = concat!(
        r#"{"00080005":{"vr":"CS","Value":["ISO_IR 192"]},"#,
        r#""00080020":{"vr":"DA","Value":["20130409"]},"#,
        r#""00080030":{"vr":"TM","Value":["131600.0000"]},"#,
        r#""00080050":{"vr":"SH","Value":["11235813"]},"#,
        r#""00080056":{"vr":"CS","Value":["ONLINE"]},"#,
        r#""00080061":{"vr":"CS","Value":["CT","PET"]},"#,
        r#""00080090":{"vr":"PN","Value":[{"Alphabetic":"^Bob^^Dr."}]},"#,
        r#""00081190":{"vr":"UR","Value":["http://wado.nema.org/studies/1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873"]},"#,
        r#""00090010":{"vr":"LO","Value":["Vendor A"]},"#,
        r#""00091002":{"vr":"UN","InlineBinary":"z0x9c8v7"},"#,
        r#""00100010":{"vr":"PN","Value":[{"Alphabetic":"Wang^XiaoDong","Ideographic":"王^小東"}]},"#,
        r#""00100020":{"vr":"LO","Value":["12345"]},"#,
        r#""00100021":{"vr":"LO","Value":["Hospital A"]},"#,
        r#""00100030":{"vr":"DA","Value":["19670701"]},"#,
        r#""00100040":{"vr":"CS","Value":["M"]},"#,
        r#""00101002":{"vr":"SQ","Value":["#,
        r#"{"00100020":{"vr":"LO","Value":["54321"]},"00100021":{"vr":"LO","Value":["Hospital B"]}},"#,
        r#"{"00100020":{"vr":"LO","Value":["24680"]},"00100021":{"vr":"LO","Value":["Hospital C"]}}]},"#,
        r#""0020000D":{"vr":"UI","Value":["1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873"]},"#,
        r#""00201206":{"vr":"IS","Value":[4]},"#,
        r#""00201208":{"vr":"IS","Value":[942]}}"#,
    );
    assert_eq!(to_json(&ds).unwrap(), expected);
}

#[test]
fn person_names() {
    // The three component groups of PS3.5 §6.2.1.2's Japanese example (F.2.2).
    let ds = DataSet::new()
        .with("SpecificCharacterSet", "ISO_IR 192")
        .unwrap()
        .with("PatientName", "Yamada^Tarou=山田^太郎=やまだ^たろう")
        .unwrap();
    assert_eq!(
        to_json(&ds).unwrap(),
        concat!(
            r#"{"00080005":{"vr":"CS","Value":["ISO_IR 192"]},"00100010":{"vr":"PN","Value":["#,
            r#"{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎","Phonetic":"やまだ^たろう"}]}}"#
        )
    );
    // Only the groups present; several names; an empty name among them is null.
    assert_eq!(
        json_of((0x0010, 0x0010), Vr::PN, b"=Ideo\\Doe^J\\\\==Phon"),
        concat!(
            r#"{"00100010":{"vr":"PN","Value":[{"Ideographic":"Ideo"},"#,
            r#"{"Alphabetic":"Doe^J"},null,{"Phonetic":"Phon"}]}}"#
        )
    );
}

#[test]
fn dates_times_and_strings() {
    let mut ds = DataSet::new();
    raw(&mut ds, (0x0008, 0x0020), Vr::DA, b"20240229");
    raw(&mut ds, (0x0008, 0x0030), Vr::TM, b"070907.0705 ");
    raw(&mut ds, (0x0008, 0x002A), Vr::DT, b"20240229070907+0100 ");
    raw(
        &mut ds,
        (0x0008, 0x0016),
        Vr::UI,
        b"1.2.840.10008.5.1.4.1.1.2\0",
    );
    raw(&mut ds, (0x0010, 0x1010), Vr::AS, b"042Y");
    raw(&mut ds, (0x0008, 0x0060), Vr::CS, b"CT\\ MR \\\\PT");
    raw(&mut ds, (0x0008, 0x0054), Vr::AE, b"STORE_SCP ");
    assert_eq!(
        to_json(&ds).unwrap(),
        concat!(
            r#"{"00080016":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.2"]},"#,
            r#""00080020":{"vr":"DA","Value":["20240229"]},"#,
            r#""0008002A":{"vr":"DT","Value":["20240229070907+0100"]},"#,
            r#""00080030":{"vr":"TM","Value":["070907.0705"]},"#,
            r#""00080054":{"vr":"AE","Value":["STORE_SCP"]},"#,
            r#""00080060":{"vr":"CS","Value":["CT","MR",null,"PT"]},"#,
            r#""00101010":{"vr":"AS","Value":["042Y"]}}"#
        )
    );
}

#[test]
fn single_valued_text_keeps_backslashes() {
    for vr in [Vr::LT, Vr::ST, Vr::UT] {
        assert_eq!(
            json_of((0x0010, 0x4000), vr, b"  a\\b  "),
            format!(r#"{{"00104000":{{"vr":"{vr}","Value":["  a\\b"]}}}}"#)
        );
    }
    assert_eq!(
        json_of((0x0008, 0x1190), Vr::UR, b"http://x/a\\b "),
        r#"{"00081190":{"vr":"UR","Value":["http://x/a\\b"]}}"#
    );
    // UC is multi-valued.
    assert_eq!(
        json_of((0x0018, 0x9003), Vr::UC, b"a\\b"),
        r#"{"00189003":{"vr":"UC","Value":["a","b"]}}"#
    );
}

#[test]
fn integer_and_decimal_strings_are_numbers() {
    assert_eq!(
        json_of((0x0020, 0x0013), Vr::IS, b"+5\\007\\-3 \\\\ 12"),
        r#"{"00200013":{"vr":"IS","Value":[5,7,-3,null,12]}}"#
    );
    // Valid JSON numbers verbatim (no precision lost); other DS rewritten from the value.
    assert_eq!(
        json_of(
            (0x0028, 0x0030),
            Vr::DS,
            b"0.3125\\-0\\1e3\\1.2345678901234567890\\+2.50\\.5\\5.\\007\\-1E-08 "
        ),
        concat!(
            r#"{"00280030":{"vr":"DS","Value":[0.3125,-0,1e3,1.2345678901234567890,"#,
            r#"2.5,0.5,5,7,-1E-08]}}"#
        )
    );
    // Values that are not numbers stay strings (badVR.dcm's Number of Frames is "1A").
    assert_eq!(
        json_of((0x0028, 0x0008), Vr::IS, b"1A"),
        r#"{"00280008":{"vr":"IS","Value":["1A"]}}"#
    );
    assert_eq!(
        json_of((0x0028, 0x1050), Vr::DS, b"NaN\\inf\\1e999\\40"),
        r#"{"00281050":{"vr":"DS","Value":["NaN","inf","1e999",40]}}"#
    );
}

#[test]
fn binary_numbers() {
    let cases: Vec<(Vr, Vec<u8>, &str)> = vec![
        (
            Vr::US,
            le(&[512u16, 0, 65535], |v| v.to_le_bytes()),
            "512,0,65535",
        ),
        (
            Vr::SS,
            le(&[-1i16, i16::MIN], |v| v.to_le_bytes()),
            "-1,-32768",
        ),
        (Vr::UL, le(&[u32::MAX], |v| v.to_le_bytes()), "4294967295"),
        (
            Vr::SL,
            le(&[i32::MIN, 7], |v| v.to_le_bytes()),
            "-2147483648,7",
        ),
        (
            Vr::FL,
            le(&[0.5f32, -0.1, 1e-7, 3.4e38, 0.0], |v| v.to_le_bytes()),
            "0.5,-0.1,1e-7,3.4e38,0",
        ),
        (
            Vr::FD,
            le(&[std::f64::consts::PI, -2.5e-300, 1e21, 1e20], |v| {
                v.to_le_bytes()
            }),
            "3.141592653589793,-2.5e-300,1e21,100000000000000000000",
        ),
        (
            Vr::FD,
            le(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY], |v| {
                v.to_le_bytes()
            }),
            r#""NaN","Infinity","-Infinity""#,
        ),
        (
            Vr::FL,
            le(&[f32::NAN, f32::NEG_INFINITY], |v| v.to_le_bytes()),
            r#""NaN","-Infinity""#,
        ),
        // 64-bit values beyond ±2^53 are strings (F.2.3.1).
        (
            Vr::UV,
            le(&[0u64, 1 << 53, (1 << 53) + 1, u64::MAX], |v| {
                v.to_le_bytes()
            }),
            r#"0,9007199254740992,"9007199254740993","18446744073709551615""#,
        ),
        (
            Vr::SV,
            le(&[-(1i64 << 53), -(1i64 << 53) - 1, i64::MIN, 42], |v| {
                v.to_le_bytes()
            }),
            r#"-9007199254740992,"-9007199254740993","-9223372036854775808",42"#,
        ),
    ];
    for (vr, bytes, values) in cases {
        assert_eq!(
            json_of((0x0028, 0x0010), vr, &bytes),
            format!(r#"{{"00280010":{{"vr":"{vr}","Value":[{values}]}}}}"#),
            "{vr}"
        );
    }
    // Typed setters give the same.
    let mut ds = DataSet::new();
    ds.set_u16(Tag(0x0028, 0x0010), 512).unwrap();
    assert_eq!(
        to_json(&ds).unwrap(),
        r#"{"00280010":{"vr":"US","Value":[512]}}"#
    );
}

#[test]
fn attribute_tags_are_hex_strings() {
    let bytes = [
        0x10, 0x00, 0x20, 0x00, 0xE0, 0x7F, 0x10, 0x00, 0x09, 0x00, 0xAB, 0x10,
    ];
    assert_eq!(
        json_of((0x0020, 0x5000), Vr::AT, &bytes),
        r#"{"00205000":{"vr":"AT","Value":["00100020","7FE00010","000910AB"]}}"#
    );
}

#[test]
fn empty_values_have_no_value_key() {
    let mut ds = DataSet::new()
        .with_empty("PatientName")
        .unwrap()
        .with_empty("PatientID")
        .unwrap();
    raw(&mut ds, (0x0008, 0x0020), Vr::DA, b"");
    raw(&mut ds, (0x0008, 0x0060), Vr::CS, b"  ");
    raw(&mut ds, (0x0020, 0x0013), Vr::IS, b"");
    raw(&mut ds, (0x0028, 0x0010), Vr::US, b"");
    raw(&mut ds, (0x0028, 0x1052), Vr::DS, b" ");
    raw(&mut ds, (0x0020, 0x5000), Vr::AT, b"");
    raw(&mut ds, (0x7FE0, 0x0010), Vr::OB, b"");
    raw(&mut ds, (0x0008, 0x1140), Vr::SQ, b"");
    ds.set_sequence(Tag(0x0008, 0x1110), Vec::new()).unwrap();
    assert_eq!(
        to_json(&ds).unwrap(),
        concat!(
            r#"{"00080020":{"vr":"DA"},"00080060":{"vr":"CS"},"00081110":{"vr":"SQ"},"#,
            r#""00081140":{"vr":"SQ"},"00100010":{"vr":"PN"},"00100020":{"vr":"LO"},"#,
            r#""00200013":{"vr":"IS"},"00205000":{"vr":"AT"},"00280010":{"vr":"US"},"#,
            r#""00281052":{"vr":"DS"},"7FE00010":{"vr":"OB"}}"#
        )
    );
}

#[test]
fn sequences_nest_and_empty_items_are_empty_objects() {
    let inner = DataSet::new().with("CodeValue", "T-A0100").unwrap();
    let mut item = DataSet::new().with("CodeMeaning", "Brain").unwrap();
    item.set_sequence(Tag(0x0008, 0x0220), vec![inner]).unwrap();
    let mut ds = DataSet::new();
    ds.set_sequence(Tag(0x0008, 0x2218), vec![item, DataSet::new()])
        .unwrap();
    assert_eq!(
        to_json(&ds).unwrap(),
        concat!(
            r#"{"00082218":{"vr":"SQ","Value":[{"00080104":{"vr":"LO","Value":["Brain"]},"#,
            r#""00080220":{"vr":"SQ","Value":[{"00080100":{"vr":"SH","Value":["T-A0100"]}}]}},"#,
            r#"{}]}}"#
        )
    );
    // A UN holding a sequence (undefined length) is written as the sequence it is.
    let mut ds = DataSet::new();
    let mut un = Element::new(
        Tag(0x0009, 0x1010),
        Vr::UN,
        Value::Sequence(vec![one((0x0009, 0x1011), Vr::UN, b"ab")]),
    );
    un.undefined_length = true;
    ds.insert(un);
    assert_eq!(
        to_json(&ds).unwrap(),
        r#"{"00091010":{"vr":"SQ","Value":[{"00091011":{"vr":"UN","InlineBinary":"YWI="}}]}}"#
    );
}

#[test]
fn inline_binary_is_base64() {
    // RFC 4648 §10 test vectors, through OB.
    let vectors = [
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (raw, b64) in vectors {
        assert_eq!(
            json_of((0x0009, 0x1002), Vr::OB, raw.as_bytes()),
            format!(r#"{{"00091002":{{"vr":"OB","InlineBinary":"{b64}"}}}}"#)
        );
    }
    // Every binary VR, bytes little endian as stored; the whole alphabet appears.
    let all: Vec<u8> = (0..=255u8).collect();
    let expected_all = concat!(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB",
        "QkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKD",
        "hIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TF",
        "xsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==",
    );
    for vr in [Vr::OB, Vr::OD, Vr::OF, Vr::OL, Vr::OV, Vr::OW, Vr::UN] {
        assert_eq!(
            json_of((0x7FE0, 0x0010), vr, &all),
            format!(r#"{{"7FE00010":{{"vr":"{vr}","InlineBinary":"{expected_all}"}}}}"#)
        );
    }
    // Encapsulated Pixel Data: item-framed fragments (empty offset table first), delimiter.
    let mut ds = DataSet::new();
    let mut px = Element::new(
        Tag(0x7FE0, 0x0010),
        Vr::OB,
        Value::Fragments(vec![Bytes::new(), Bytes::from_static(b"\xFF\xD8")]),
    );
    px.undefined_length = true;
    ds.insert(px);
    // FE FF 00 E0 00 00 00 00 | FE FF 00 E0 02 00 00 00 FF D8 | FE FF DD E0 00 00 00 00
    assert_eq!(
        to_json(&ds).unwrap(),
        r#"{"7FE00010":{"vr":"OB","InlineBinary":"/v8A4AAAAAD+/wDgAgAAAP/Y/v/d4AAAAAA="}}"#
    );
}

#[test]
fn strings_are_escaped() {
    let text = "say \"hi\"\\ tab\there\nnew\u{1}\u{1F}\u{7F}/é😀";
    let expected = r#"say \"hi\"\\ tab\u0009here\u000Anew\u0001\u001F\u007F/é😀"#;
    let ds = DataSet::new()
        .with("SpecificCharacterSet", "ISO_IR 192")
        .unwrap()
        .with("PatientComments", text)
        .unwrap();
    let json = to_json(&ds).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"00080005":{{"vr":"CS","Value":["ISO_IR 192"]}},"00104000":{{"vr":"LT","Value":["{expected}"]}}}}"#
        )
    );
    // A JSON reader gives back the text exactly.
    let script = "import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin)['00104000']['Value'][0]))";
    if let Some(out) = python(script, &json) {
        let ascii =
            "\"say \\\"hi\\\"\\\\ tab\\there\\nnew\\u0001\\u001f\\u007f/\\u00e9\\ud83d\\ude00\"";
        assert_eq!(out, ascii);
    }
    // PN and escapes inside the objects.
    assert_eq!(
        json_of((0x0010, 0x0010), Vr::PN, b"O\"Neil^A\tB"),
        r#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"O\"Neil^A\u0009B"}]}}"#
    );
}

#[test]
fn text_is_decoded_with_the_character_set() {
    // Latin-1 bytes under ISO_IR 100, also in an item that inherits it.
    let mut ds = DataSet::new()
        .with("SpecificCharacterSet", "ISO_IR 100")
        .unwrap();
    raw(&mut ds, (0x0010, 0x0010), Vr::PN, b"Buc^J\xe9r\xf4me");
    let mut item = DataSet::new();
    raw(&mut item, (0x0008, 0x0104), Vr::LO, b"C\xf4te");
    ds.set_sequence(Tag(0x0008, 0x2218), vec![item]).unwrap();
    assert_eq!(
        to_json(&ds).unwrap(),
        concat!(
            r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"#,
            r#""00082218":{"vr":"SQ","Value":[{"00080104":{"vr":"LO","Value":["Côte"]}}]},"#,
            r#""00100010":{"vr":"PN","Value":[{"Alphabetic":"Buc^Jérôme"}]}}"#
        )
    );
}

#[test]
fn errors() {
    // A character set the codec cannot decode.
    let mut ds = DataSet::new();
    raw(&mut ds, (0x0008, 0x0005), Vr::CS, b"ISO_IR 13");
    raw(&mut ds, (0x0010, 0x0010), Vr::PN, b"\xd4\xcf\xc0\xde");
    assert_eq!(
        to_json(&ds),
        Err(ValueError::UnsupportedCharset("ISO_IR 13".into()))
    );
    // Invalid UTF-8 under ISO_IR 192.
    let mut ds = DataSet::new();
    raw(&mut ds, (0x0008, 0x0005), Vr::CS, b"ISO_IR 192");
    raw(&mut ds, (0x0010, 0x0010), Vr::PN, b"\xff\xfe");
    assert!(matches!(to_json(&ds), Err(ValueError::InvalidText { .. })));
    // Binary numbers whose length is not a whole number of values.
    assert_eq!(
        to_json(&one((0x0028, 0x0010), Vr::US, b"\x01")),
        Err(ValueError::TooShort {
            tag: Tag(0x0028, 0x0010),
            length: 1
        })
    );
    assert!(matches!(
        to_json(&one((0x0028, 0x0010), Vr::FD, &[0; 12])),
        Err(ValueError::Malformed { .. })
    ));
    // An SQ holding bytes.
    assert_eq!(
        to_json(&one((0x0008, 0x1140), Vr::SQ, b"xx")),
        Err(ValueError::WrongValueKind {
            tag: Tag(0x0008, 0x1140)
        })
    );
    // Errors inside items reach the top.
    let mut ds = DataSet::new();
    ds.set_sequence(
        Tag(0x0008, 0x1140),
        vec![one((0x0028, 0x0010), Vr::UL, b"\x01\x02")],
    )
    .unwrap();
    assert!(to_json(&ds).is_err());
    assert!(array_to_json(&[DataSet::new(), ds]).is_err());
}

#[test]
fn arrays() {
    assert_eq!(array_to_json(&[]).unwrap(), "[]");
    let a = DataSet::new().with("PatientID", "1").unwrap();
    let b = DataSet::new().with("PatientID", "2").unwrap();
    assert_eq!(
        array_to_json(&[a, DataSet::new(), b]).unwrap(),
        concat!(
            r#"[{"00100020":{"vr":"LO","Value":["1"]}},{},"#,
            r#"{"00100020":{"vr":"LO","Value":["2"]}}]"#
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Python's json module as an independent parser
// ---------------------------------------------------------------------------------------------

/// Runs `script` under python3 with `input` on stdin; its stdout, or `None` (with a loud
/// SKIP) when python3 is not installed. A failing script fails the test.
fn python(script: &str, input: &str) -> Option<String> {
    let child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "\n\n*** SKIP: python3 not available ({e}); JSON not checked by a parser ***\n"
            );
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 rejected the JSON: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        &input[..input.len().min(2000)]
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn corpus_gives_valid_json() {
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        eprintln!(
            "\n\n*** SKIP: DICOM corpus not found at {CORPUS}; corpus JSON test did not run ***\n"
        );
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".dcm"))
        .collect();
    names.sort();
    let mut checked = Vec::new();
    let mut skipped = Vec::new();
    let mut python_missing = false;
    for name in &names {
        let buf = std::fs::read(dir.join(name)).unwrap();
        let meta = FileMeta::parse_file(&buf);
        let Ok((meta, start)) = meta else {
            skipped.push(format!("{name}: no usable file meta"));
            continue;
        };
        let Some(ts) = meta.transfer_syntax() else {
            skipped.push(format!("{name}: unknown transfer syntax"));
            continue;
        };
        let ds = match DataSet::decode(Bytes::copy_from_slice(&buf[start..]), ts) {
            Ok(ds) => ds,
            Err(e) => {
                skipped.push(format!("{name}: does not decode ({e})"));
                continue;
            }
        };
        let json = to_json(&ds).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(json.starts_with('{') && json.ends_with('}'), "{name}");
        if python_missing {
            continue;
        }
        let script = "import json,sys; d=json.load(sys.stdin); assert isinstance(d, dict); \
                      print(len(d))";
        match python(script, &json) {
            Some(count) => {
                assert_eq!(count.trim(), ds.len().to_string(), "{name}: top-level keys");
                checked.push(name.as_str());
            }
            None => python_missing = true,
        }
    }
    eprintln!(
        "JSON accepted by python3: {} files {checked:?}",
        checked.len()
    );
    eprintln!("not decoded, skipped: {skipped:?}");
    assert!(
        python_missing || checked.len() >= 20,
        "too few files checked: {checked:?}"
    );
}
