//! The data set codec: round trips in every uncompressed transfer syntax, the corpus of real
//! files, character sets, hostile input and the dictionary.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use dimse_core::dataset::{self, dictionary, DataSet, Date, Element, Tag, Value, ValueError, Vr};
use dimse_core::part10::{self, FileMeta};
use dimse_core::uid::{self, TransferSyntax};
use proptest::prelude::*;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/dicom");

fn syntaxes() -> [&'static TransferSyntax; 4] {
    [
        uid::transfer_syntax(uid::IMPLICIT_VR_LITTLE_ENDIAN).unwrap(),
        uid::transfer_syntax(uid::EXPLICIT_VR_LITTLE_ENDIAN).unwrap(),
        uid::transfer_syntax(uid::EXPLICIT_VR_BIG_ENDIAN).unwrap(),
        uid::transfer_syntax(uid::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN).unwrap(),
    ]
}

fn encode(ds: &DataSet, ts: &TransferSyntax) -> Bytes {
    let mut out = BytesMut::new();
    ds.encode(ts, &mut out);
    out.freeze()
}

// ---------------------------------------------------------------------------------------------
// Dictionary and tags
// ---------------------------------------------------------------------------------------------

#[test]
fn dictionary_lookups() {
    let e = dictionary::by_keyword("PatientID").unwrap();
    assert_eq!((e.tag, e.vr), (Tag(0x0010, 0x0020), Vr::LO));
    assert_eq!(
        dictionary::by_tag(Tag(0x0010, 0x0020)).unwrap().keyword,
        "PatientID"
    );
    let e = dictionary::by_keyword("StudyInstanceUID").unwrap();
    assert_eq!((e.tag, e.vr), (Tag(0x0020, 0x000D), Vr::UI));
    assert_eq!(
        dictionary::by_tag(Tag(0x0020, 0x000D)).unwrap().keyword,
        "StudyInstanceUID"
    );
    // Retired keywords without DCMTK's prefix, flagged.
    let e = dictionary::by_keyword("RecognitionCode").unwrap();
    assert!(e.retired());
    // Repeating groups, odd groups excluded.
    assert_eq!(
        dictionary::by_tag(Tag(0x60FE, 0x0010)).unwrap().keyword,
        "OverlayRows"
    );
    assert!(dictionary::by_tag(Tag(0x6001, 0x0010)).is_none());
    assert_eq!(dictionary::vr_of(Tag(0x0008, 0x0000)), Vr::UL);
    assert_eq!(dictionary::vr_of(Tag(0x0029, 0x1010)), Vr::UN);
    assert!(dictionary::entries().len() > 4000);
    assert!(dictionary::by_keyword("patientid").is_none());
}

#[test]
fn tag_parse_and_display() {
    assert_eq!(Tag::parse("PatientID"), Ok(Tag(0x0010, 0x0020)));
    assert_eq!(Tag::parse("0010,0020"), Ok(Tag(0x0010, 0x0020)));
    assert_eq!(Tag::parse("(7fe0,0010)"), Ok(Tag::PIXEL_DATA));
    assert_eq!(Tag::parse("0020000D"), Ok(Tag(0x0020, 0x000D)));
    assert_eq!("StudyDate".parse::<Tag>(), Ok(Tag(0x0008, 0x0020)));
    assert_eq!(Tag(0x0020, 0x000D).to_string(), "(0020,000D)");
    assert_eq!(
        Tag::parse("Nope"),
        Err(ValueError::UnknownTag("Nope".into()))
    );
    assert!(Tag::parse("0010,00G0").is_err());
    assert!(Tag::parse("ü0010020").is_err());
}

// ---------------------------------------------------------------------------------------------
// Building identifiers, accessors, character sets
// ---------------------------------------------------------------------------------------------

#[test]
fn c_find_identifier_bytes() {
    let id = DataSet::new()
        .with("QueryRetrieveLevel", "STUDY")
        .unwrap()
        .with("PatientID", "123")
        .unwrap()
        .with_empty("StudyInstanceUID")
        .unwrap()
        .with_empty("ReferencedSeriesSequence")
        .unwrap();
    let bytes = encode(&id, &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN);
    let expected: &[u8] = b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY \
        \x08\x00\x15\x11\x00\x00\x00\x00\
        \x10\x00\x20\x00\x04\x00\x00\x00123 \
        \x20\x00\x0D\x00\x00\x00\x00\x00";
    assert_eq!(&bytes[..], expected);
    let back = DataSet::decode(bytes, &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN).unwrap();
    assert_eq!(back, id);
    assert_eq!(back.get_str(Tag(0x0010, 0x0020)), Some(Ok("123".into())));
    assert_eq!(back.get_str(Tag(0x0010, 0x0010)), None);
    assert!(dataset::validate(expected, &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN).is_ok());
}

#[test]
fn typed_accessors() {
    let mut ds = DataSet::new();
    let t = |k| Tag::parse(k).unwrap();
    ds.set_uid(t("SOPInstanceUID"), "1.2.3").unwrap();
    ds.set_u16(t("Rows"), 512).unwrap();
    ds.set_i32(t("NumberOfFrames"), 7).unwrap(); // IS
    ds.set_f64(t("SliceThickness"), 2.5).unwrap(); // DS
    ds.set_u32(t("SimpleFrameList"), 70000).unwrap(); // UL
    ds.set_date(
        t("StudyDate"),
        Date {
            year: 2024,
            month: 2,
            day: 29,
        },
    )
    .unwrap();
    ds.set_strs(t("ImageType"), &["ORIGINAL", "PRIMARY"])
        .unwrap();
    assert_eq!(ds.get_uid(t("SOPInstanceUID")), Some(Ok("1.2.3".into())));
    // UI padding is NUL.
    match &ds.get(t("SOPInstanceUID")).unwrap().value {
        Value::Bytes(b) => assert_eq!(&b[..], b"1.2.3\0"),
        v => panic!("{v:?}"),
    }
    assert_eq!(ds.get_u16(t("Rows")), Some(Ok(512)));
    assert_eq!(ds.get_i32(t("NumberOfFrames")), Some(Ok(7)));
    assert_eq!(ds.get_f64(t("SliceThickness")), Some(Ok(2.5)));
    assert_eq!(ds.get_u32(t("SimpleFrameList")), Some(Ok(70000)));
    assert!(ds.get_u16(t("SimpleFrameList")).unwrap().is_err());
    assert_eq!(
        ds.get_date(t("StudyDate")),
        Some(Ok(Date {
            year: 2024,
            month: 2,
            day: 29
        }))
    );
    assert_eq!(
        ds.get_strs(t("ImageType")),
        Some(Ok(vec!["ORIGINAL".into(), "PRIMARY".into()]))
    );
    assert!(matches!(
        ds.set_str(t("Rows"), "5"),
        Err(ValueError::WrongVr { vr: Vr::US, .. })
    ));
    assert!(ds.set_uid(t("PatientID"), "1.2").is_err());
    assert!(ds.set_uid(t("SOPClassUID"), "1.2.x").is_err());
    assert!(matches!(
        ds.get_u16(t("ImageType")),
        Some(Err(ValueError::WrongVr { .. }))
    ));
    // Survives every syntax, big endian included (numbers stay little endian in memory).
    for ts in syntaxes() {
        let back = DataSet::decode(encode(&ds, ts), ts).unwrap();
        assert_eq!(back.get_u16(t("Rows")), Some(Ok(512)), "{}", ts.name);
        assert_eq!(
            back.get_u32(t("SimpleFrameList")),
            Some(Ok(70000)),
            "{}",
            ts.name
        );
        assert_eq!(back, ds, "{}", ts.name);
    }
}

#[test]
fn charsets() {
    let name = Tag(0x0010, 0x0010);
    // Latin-1
    let mut ds = DataSet::new()
        .with("SpecificCharacterSet", "ISO_IR 100")
        .unwrap();
    ds.set_str(name, "Müller^Jürgen").unwrap();
    match &ds.get(name).unwrap().value {
        Value::Bytes(b) => assert_eq!(&b[..], b"M\xfcller^J\xfcrgen "),
        v => panic!("{v:?}"),
    }
    assert_eq!(ds.get_str(name), Some(Ok("Müller^Jürgen".into())));
    assert!(matches!(
        ds.set_str(name, "山田"),
        Err(ValueError::NotRepresentable {
            charset: "ISO_IR 100",
            ..
        })
    ));
    // UTF-8, inherited by sequence items.
    let mut ds = DataSet::new()
        .with("SpecificCharacterSet", "ISO_IR 192")
        .unwrap();
    ds.set_str(name, "山田^太郎").unwrap();
    let item = DataSet::new();
    ds.set_sequence(Tag::parse("OtherPatientIDsSequence").unwrap(), vec![item])
        .unwrap();
    let ts = &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
    let mut back = DataSet::decode(encode(&ds, ts), ts).unwrap();
    assert_eq!(back.get_str(name), Some(Ok("山田^太郎".into())));
    // An item decoded inside reads UTF-8 too.
    let mut item = DataSet::new();
    item.insert(Element::new(
        name,
        Vr::PN,
        Value::Bytes(Bytes::from("山田^太郎".as_bytes().to_vec())),
    ));
    back.insert(Element::new(
        Tag(0x0010, 0x1002),
        Vr::SQ,
        Value::Sequence(vec![item]),
    ));
    let back = DataSet::decode(encode(&back, ts), ts).unwrap();
    let items = back.get_sequence(Tag(0x0010, 0x1002)).unwrap().unwrap();
    assert_eq!(items[0].get_str(name), Some(Ok("山田^太郎".into())));
    // Invalid UTF-8 is an error naming the charset.
    let mut bad = DataSet::new()
        .with("SpecificCharacterSet", "ISO_IR 192")
        .unwrap();
    bad.insert(Element::new(
        name,
        Vr::PN,
        Value::Bytes(Bytes::from_static(b"\xff\xfe")),
    ));
    assert_eq!(
        bad.get_str(name),
        Some(Err(ValueError::InvalidText {
            tag: name,
            charset: "ISO_IR 192"
        }))
    );
    // Unknown charsets are named.
    let mut jp = DataSet::new()
        .with("SpecificCharacterSet", "ISO 2022 IR 87")
        .unwrap();
    jp.insert(Element::new(
        name,
        Vr::PN,
        Value::Bytes(Bytes::from_static(b"AB")),
    ));
    assert_eq!(
        jp.get_str(name),
        Some(Err(ValueError::UnsupportedCharset("ISO 2022 IR 87".into())))
    );
    // Default repertoire: writing is ASCII only; CS/UI ignore the charset.
    let mut plain = DataSet::new();
    assert!(plain.set_str(name, "Müller").is_err());
    plain.set_str(name, "Muller").unwrap();
    assert_eq!(
        jp.get_str(Tag(0x0008, 0x0005)),
        Some(Ok("ISO 2022 IR 87".into()))
    );
}

// ---------------------------------------------------------------------------------------------
// Round trips of generated data sets
// ---------------------------------------------------------------------------------------------

/// Text tags of the dictionary with their VRs, so Implicit VR decodes them identically.
const TEXT_TAGS: &[&str] = &[
    "PatientName",
    "PatientID",
    "StudyDescription",
    "Modality",
    "AccessionNumber",
    "StudyInstanceUID",
    "StudyDate",
    "ImageComments",
];
const SEQ_TAGS: &[&str] = &[
    "ReferencedStudySequence",
    "ReferencedSeriesSequence",
    "OtherPatientIDsSequence",
];

fn padded(mut v: Vec<u8>, pad: u8) -> Bytes {
    if v.len() % 2 == 1 {
        v.push(pad);
    }
    Bytes::from(v)
}

fn leaf() -> impl Strategy<Value = Element> {
    prop_oneof![
        (prop::sample::select(TEXT_TAGS), "[ -\\[\\]-~]{0,20}").prop_map(|(k, s)| {
            let tag = Tag::parse(k).unwrap();
            let vr = dictionary::vr_of(tag);
            let pad = if vr == Vr::UI { 0 } else { b' ' };
            Element::new(tag, vr, Value::Bytes(padded(s.into_bytes(), pad)))
        }),
        prop::collection::vec(any::<u16>(), 1..4).prop_map(|v| {
            let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            Element::new(Tag(0x0028, 0x0010), Vr::US, Value::Bytes(Bytes::from(b)))
        }),
        any::<f64>().prop_map(|f| Element::new(
            Tag::parse("RealWorldValueSlope").unwrap(),
            Vr::FD,
            Value::Bytes(Bytes::from(f.to_le_bytes().to_vec()))
        )),
        any::<u32>().prop_map(|v| Element::new(
            Tag::parse("SimpleFrameList").unwrap(),
            Vr::UL,
            Value::Bytes(Bytes::from(v.to_le_bytes().to_vec()))
        )),
        // A private element: UN in Implicit VR, so written as UN everywhere.
        prop::collection::vec(any::<u8>(), 0..10).prop_map(|v| Element::new(
            Tag(0x0009, 0x1001),
            Vr::UN,
            Value::Bytes(padded(v, 0))
        )),
    ]
}

fn data_set(elements: Vec<Element>, undefined: bool) -> DataSet {
    let mut ds = DataSet::new();
    for e in elements {
        ds.insert(e);
    }
    ds.set_item_undefined_length(undefined);
    ds
}

fn arb_data_set() -> impl Strategy<Value = DataSet> {
    let leaves = prop::collection::vec(leaf(), 0..6).prop_map(|v| data_set(v, false));
    let nested = leaves.prop_recursive(4, 48, 4, |inner| {
        (
            prop::collection::vec(leaf(), 0..5),
            prop::sample::select(SEQ_TAGS),
            prop::collection::vec((inner, any::<bool>()), 0..3),
            any::<bool>(),
        )
            .prop_map(|(leaves, seq_tag, items, seq_undefined)| {
                let items = items
                    .into_iter()
                    .map(|(mut item, undefined)| {
                        item.set_item_undefined_length(undefined);
                        item
                    })
                    .collect();
                let mut e =
                    Element::new(Tag::parse(seq_tag).unwrap(), Vr::SQ, Value::Sequence(items));
                e.undefined_length = seq_undefined;
                let mut ds = data_set(leaves, false);
                ds.insert(e);
                ds
            })
    });
    (
        nested,
        prop::option::of(prop::collection::vec(
            prop::collection::vec(any::<u8>(), 0..16).prop_map(|v| padded(v, 0)),
            1..4,
        )),
    )
        .prop_map(|(mut ds, fragments)| {
            if let Some(f) = fragments {
                // OW, the VR Implicit VR gives Pixel Data, so every syntax reads it back equal.
                let mut e = Element::new(Tag::PIXEL_DATA, Vr::OW, Value::Fragments(f));
                e.undefined_length = true;
                ds.insert(e);
            }
            ds
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip_every_syntax(ds in arb_data_set()) {
        for ts in syntaxes() {
            let bytes = encode(&ds, ts);
            let back = DataSet::decode(bytes.clone(), ts);
            prop_assert_eq!(back.as_ref(), Ok(&ds), "{}", ts.name);
            // The encoding is stable, and structurally valid for the walker.
            prop_assert_eq!(encode(back.as_ref().unwrap(), ts), bytes.clone());
            if !ts.deflated {
                prop_assert_eq!(dataset::validate(&bytes, ts), Ok(()));
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        for ts in syntaxes() {
            if let Ok(ds) = DataSet::decode_slice(&data, ts) {
                let _ = encode(&ds, ts);
                for e in ds.elements() {
                    let _ = ds.get_str(e.tag);
                    let _ = ds.get_f64(e.tag);
                    let _ = ds.get_date(e.tag);
                }
            }
        }
    }

    #[test]
    fn mutated_encodings_never_panic(
        ds in arb_data_set(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        for ts in syntaxes() {
            let mut bytes = encode(&ds, ts).to_vec();
            if bytes.is_empty() {
                continue;
            }
            for (i, b) in &flips {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
            let _ = DataSet::decode_slice(&bytes, ts);
            let _ = DataSet::decode_slice(&bytes[..bytes.len() / 2], ts);
        }
    }
}

#[test]
fn hostile_nesting_is_bounded() {
    let mut d = Vec::new();
    for _ in 0..10_000 {
        d.extend_from_slice(&[0x08, 0x00, 0x15, 0x11, 0xFF, 0xFF, 0xFF, 0xFF]);
        d.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    }
    let e = DataSet::decode_slice(&d, &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN).unwrap_err();
    assert_eq!(e.kind, dataset::DataSetErrorKind::TooDeep);
}

#[test]
fn corrupt_deflate_is_an_error() {
    let ts = uid::transfer_syntax(uid::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN).unwrap();
    let e = DataSet::decode_slice(&[0xFF; 16], ts).unwrap_err();
    assert!(
        matches!(e.kind, dataset::DataSetErrorKind::Inflate(_)),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

/// Files whose data set is broken on purpose (truncated, or an invalid VR code).
const BROKEN: &[&str] = &["MR_truncated.dcm", "rtplan_truncated.dcm"];

/// Files that decode but do not re-encode byte for byte, and why (checked below: the reason
/// must still hold, so the list cannot go stale silently).
const NOT_IDENTICAL: &[(&str, &str)] = &[
    (
        "meta_missing_tsyntax.dcm",
        "same data set as nested_priv_SQ.dcm: odd-length (0001,0002) padded on encode",
    ),
    (
        "nested_priv_SQ.dcm",
        "odd-length value: (0001,0002) \"Nested SQ\" (9 bytes) is padded to even on encode",
    ),
];

#[test]
fn corpus_decodes_and_re_encodes() {
    let dir = Path::new(CORPUS);
    if !dir.join("MANIFEST.tsv").is_file() {
        eprintln!(
            "\n\n*** SKIP: DICOM corpus not found at {CORPUS}; corpus tests did not run ***\n"
        );
        return;
    }
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".dcm"))
        .collect();
    names.sort();
    let mut identical = Vec::new();
    let mut differing = Vec::new();
    for name in &names {
        let buf = std::fs::read(dir.join(name)).unwrap();
        let Some((ts, start)) = syntax_and_start(name, &buf) else {
            eprintln!("{name}: no usable file meta and no guess decodes, skipped");
            continue;
        };
        let data = Bytes::copy_from_slice(&buf[start..]);
        let decoded = DataSet::decode(data.clone(), ts);
        if BROKEN.contains(&name.as_str()) {
            assert!(decoded.is_err(), "{name} should not decode");
            continue;
        }
        let ds = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = encode(&ds, ts);
        // Whatever the bytes, a second decode gives the same data set (up to padding).
        let redecoded =
            DataSet::decode(again.clone(), ts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let odd = NOT_IDENTICAL.iter().any(|(n, _)| n == name);
        assert!(
            odd || redecoded == ds,
            "{name}: re-decoded data set differs"
        );
        let same = if ts.deflated {
            // Deflate output depends on the compressor: compare inflated bytes.
            let a = miniz_oxide_inflate(&data);
            let b = miniz_oxide_inflate(&again);
            a == b
        } else {
            again == data
        };
        if same {
            identical.push(name.as_str());
        } else {
            let at = first_difference(&data, &again);
            differing.push((name.as_str(), at));
        }
    }
    eprintln!("byte-identical re-encodings: {identical:?}");
    eprintln!("differing (file, first differing offset): {differing:?}");
    let expected: Vec<&str> = NOT_IDENTICAL.iter().map(|(n, _)| *n).collect();
    let got: Vec<&str> = differing.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        got, expected,
        "files that do not re-encode byte-identically changed"
    );
}

/// The transfer syntax and start of the data set: from the file meta, else (a meta without
/// transfer syntax, or no meta at all) the first of implicit / explicit VR LE that decodes.
fn syntax_and_start(name: &str, buf: &[u8]) -> Option<(&'static TransferSyntax, usize)> {
    if let Ok((meta, start)) = FileMeta::parse_file(buf) {
        return uid::transfer_syntax(&meta.transfer_syntax_uid).map(|ts| (ts, start));
    }
    let start = match part10::meta_elements(buf) {
        Ok(Some((_, end))) => end,
        _ => 0,
    };
    let guesses = [
        uid::IMPLICIT_VR_LITTLE_ENDIAN,
        uid::EXPLICIT_VR_LITTLE_ENDIAN,
    ];
    let ts = guesses
        .iter()
        .map(|u| uid::transfer_syntax(u).unwrap())
        .find(|ts| DataSet::decode_slice(&buf[start..], ts).is_ok())?;
    eprintln!(
        "{name}: no usable file meta; data set at {start} decodes as {}",
        ts.name
    );
    Some((ts, start))
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// Inflates through the codec itself: decode as deflated, encode as explicit VR LE.
fn miniz_oxide_inflate(data: &[u8]) -> Vec<u8> {
    let ts = uid::transfer_syntax(uid::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN).unwrap();
    let ds = DataSet::decode_slice(data, ts).unwrap();
    encode(&ds, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN).to_vec()
}
