//! Converting data sets between the uncompressed transfer syntaxes: generated data sets, the
//! corpus, and DCMTK `dcmconv` as the reference for Explicit VR Big Endian.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bytes::{Bytes, BytesMut};
use dimse_core::dataset::{
    can_transcode, dictionary, transcode, DataSet, Element, Tag, TranscodeError, Value, Vr,
};
use dimse_core::part10::FileMeta;
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
// Generated data sets
// ---------------------------------------------------------------------------------------------

fn padded(mut v: Vec<u8>, pad: u8) -> Bytes {
    if v.len() % 2 == 1 {
        v.push(pad);
    }
    Bytes::from(v)
}

fn le<T, const N: usize>(values: &[T], to_le: fn(&T) -> [u8; N]) -> Bytes {
    Bytes::from(values.iter().flat_map(to_le).collect::<Vec<u8>>())
}

fn tag(keyword: &str) -> Tag {
    Tag::parse(keyword).unwrap()
}

/// Elements whose VR the dictionary gives (so Implicit VR reads them back the same), covering
/// text and every byte-swap width: US, UL, FL, FD, AT, OF.
fn leaf() -> impl Strategy<Value = Element> {
    const TEXT_TAGS: &[&str] = &[
        "PatientName",
        "PatientID",
        "StudyInstanceUID",
        "AccessionNumber",
        "ImageComments",
    ];
    prop_oneof![
        (prop::sample::select(TEXT_TAGS), "[ -\\[\\]-~]{0,20}").prop_map(|(k, s)| {
            let t = tag(k);
            let vr = dictionary::vr_of(t);
            let pad = if vr == Vr::UI { 0 } else { b' ' };
            Element::new(t, vr, Value::Bytes(padded(s.into_bytes(), pad)))
        }),
        prop::collection::vec(any::<u16>(), 1..4).prop_map(|v| Element::new(
            tag("Rows"),
            Vr::US,
            Value::Bytes(le(&v, |x| x.to_le_bytes()))
        )),
        prop::collection::vec(any::<u32>(), 1..4).prop_map(|v| Element::new(
            tag("SimpleFrameList"),
            Vr::UL,
            Value::Bytes(le(&v, |x| x.to_le_bytes()))
        )),
        any::<f64>().prop_map(|f| Element::new(
            tag("RealWorldValueSlope"),
            Vr::FD,
            Value::Bytes(le(&[f], |x| x.to_le_bytes()))
        )),
        any::<f32>().prop_map(|f| Element::new(
            tag("RecommendedDisplayFrameRateInFloat"),
            Vr::FL,
            Value::Bytes(le(&[f], |x| x.to_le_bytes()))
        )),
        prop::collection::vec(any::<u16>(), 2..5).prop_map(|v| Element::new(
            tag("FrameIncrementPointer"),
            Vr::AT,
            Value::Bytes(le(&v[..v.len() / 2 * 2], |x| x.to_le_bytes()))
        )),
        prop::collection::vec(any::<f32>(), 0..6).prop_map(|v| Element::new(
            tag("PointCoordinatesData"),
            Vr::OF,
            Value::Bytes(le(&v, |x| x.to_le_bytes()))
        )),
        // A private element: UN in Implicit VR, so generated as UN everywhere.
        prop::collection::vec(any::<u8>(), 0..10).prop_map(|v| Element::new(
            Tag(0x0009, 0x1001),
            Vr::UN,
            Value::Bytes(padded(v, 0))
        )),
    ]
}

fn data_set(elements: Vec<Element>) -> DataSet {
    let mut ds = DataSet::new();
    for e in elements {
        ds.insert(e);
    }
    ds
}

/// Nested sequences of leaves, plus native Pixel Data whose VR agrees with Bits Allocated
/// (OB for 8 bits, OW for 16) and a Smallest Image Pixel Value whose VR agrees with Pixel
/// Representation: the choices a conversion from Implicit VR has to make.
fn arb_data_set() -> impl Strategy<Value = DataSet> {
    let leaves = prop::collection::vec(leaf(), 0..6).prop_map(data_set);
    let nested = leaves.prop_recursive(3, 32, 3, |inner| {
        (
            prop::collection::vec(leaf(), 0..4),
            prop::collection::vec((inner, any::<bool>()), 0..3),
            any::<bool>(),
        )
            .prop_map(|(leaves, items, seq_undefined)| {
                let items = items
                    .into_iter()
                    .map(|(mut item, undefined)| {
                        item.set_item_undefined_length(undefined);
                        item
                    })
                    .collect();
                let mut e = Element::new(
                    tag("ReferencedSeriesSequence"),
                    Vr::SQ,
                    Value::Sequence(items),
                );
                e.undefined_length = seq_undefined;
                let mut ds = data_set(leaves);
                ds.insert(e);
                ds
            })
    });
    (
        nested,
        prop::option::of((
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(any::<u16>(), 0..8),
        )),
    )
        .prop_map(|(mut ds, pixels)| {
            if let Some((eight_bit, signed, words)) = pixels {
                let us = |v: u16| Value::Bytes(le(&[v], |x| x.to_le_bytes()));
                let bits = if eight_bit { 8 } else { 16 };
                ds.insert(Element::new(tag("BitsAllocated"), Vr::US, us(bits)));
                ds.insert(Element::new(
                    tag("PixelRepresentation"),
                    Vr::US,
                    us(u16::from(signed)),
                ));
                let vr = if signed { Vr::SS } else { Vr::US };
                ds.insert(Element::new(tag("SmallestImagePixelValue"), vr, us(7)));
                let vr = if eight_bit { Vr::OB } else { Vr::OW };
                let data = Value::Bytes(le(&words, |x| x.to_le_bytes()));
                ds.insert(Element::new(Tag::PIXEL_DATA, vr, data));
            }
            ds
        })
}

/// What `ds` reads back as from `ts`: Implicit VR only knows the dictionary's VRs, so the two
/// ambiguous elements carry its defaults (OW, US).
fn as_read_in(ds: &DataSet, ts: &TransferSyntax) -> DataSet {
    let mut out = ds.clone();
    if !ts.explicit_vr {
        for (t, vr) in [
            (Tag::PIXEL_DATA, Vr::OW),
            (tag("SmallestImagePixelValue"), Vr::US),
        ] {
            if let Some(mut e) = out.remove(t) {
                e.vr = vr;
                out.insert(e);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every pair of syntaxes: the converted data set reads back element for element as the
    /// original does, and converting back restores the original encoding's data set.
    #[test]
    fn every_pair_round_trips(ds in arb_data_set()) {
        for from in syntaxes() {
            let source = encode(&ds, from);
            let original = DataSet::decode(source.clone(), from).unwrap();
            prop_assert_eq!(&original, &as_read_in(&ds, from));
            for to in syntaxes() {
                prop_assert!(can_transcode(from, to));
                let converted = transcode(source.clone(), from, to).unwrap();
                let read = DataSet::decode(converted.clone(), to).unwrap();
                prop_assert_eq!(&read, &as_read_in(&ds, to), "{} -> {}", from.name, to.name);
                let back = transcode(converted, to, from).unwrap();
                let read = DataSet::decode(back, from).unwrap();
                prop_assert_eq!(&read, &original, "{} -> {} -> back", from.name, to.name);
            }
        }
    }
}

#[test]
fn compressed_syntaxes_do_not_convert() {
    let explicit = &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
    for compressed in [uid::JPEG_BASELINE_8BIT, uid::RLE_LOSSLESS, uid::JPEG_2000] {
        let c = uid::transfer_syntax(compressed).unwrap();
        assert!(can_transcode(c, c));
        assert!(!can_transcode(c, explicit));
        assert!(!can_transcode(explicit, c));
        // Same syntax: nothing to do, the bytes come back untouched.
        let data = Bytes::from_static(b"anything");
        assert_eq!(transcode(data.clone(), c, c).unwrap(), data);
        assert!(matches!(
            transcode(data, c, explicit),
            Err(TranscodeError::Unsupported { .. })
        ));
    }
}

#[test]
fn big_endian_words_are_swapped() {
    // (7FE0,0010) OW 0x0102 0x0304, (0028,0009) AT (0018,1063) in Explicit VR Big Endian.
    let big = uid::transfer_syntax(uid::EXPLICIT_VR_BIG_ENDIAN).unwrap();
    let mut ds = DataSet::new();
    ds.insert(Element::new(
        Tag(0x0028, 0x0009),
        Vr::AT,
        Value::Bytes(Bytes::from_static(&[0x18, 0x00, 0x63, 0x10])),
    ));
    ds.insert(Element::new(
        Tag::PIXEL_DATA,
        Vr::OW,
        Value::Bytes(Bytes::from_static(&[0x02, 0x01, 0x04, 0x03])),
    ));
    let be = encode(&ds, big);
    assert_eq!(
        &be[..],
        b"\x00\x28\x00\x09AT\x00\x04\x00\x18\x10\x63\
          \x7f\xe0\x00\x10OW\x00\x00\x00\x00\x00\x04\x01\x02\x03\x04"
    );
    let le = transcode(be, big, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN).unwrap();
    assert_eq!(
        &le[..],
        b"\x28\x00\x09\x00AT\x04\x00\x18\x00\x63\x10\
          \xe0\x7f\x10\x00OW\x00\x00\x04\x00\x00\x00\x02\x01\x04\x03"
    );
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

/// Uncompressed corpus files that are valid instances, with their data set and syntax.
fn corpus_files() -> Option<Vec<(String, &'static TransferSyntax, Bytes)>> {
    let dir = Path::new(CORPUS);
    if !dir.join("MANIFEST.tsv").is_file() {
        eprintln!(
            "\n\n*** SKIP: DICOM corpus not found at {CORPUS}; corpus tests did not run ***\n"
        );
        return None;
    }
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, note) = (cols[0], cols.get(5).copied().unwrap_or(""));
        let Some(ts) = uid::transfer_syntax(cols[2]) else {
            continue;
        };
        // Broken on purpose, or not instances (no SOP class): not what a sender converts.
        if !syntaxes().contains(&ts) || note.contains("truncated") || note.contains("no SOP") {
            continue;
        }
        let buf = std::fs::read(dir.join(name)).unwrap();
        let (_, start) = FileMeta::parse_file(&buf).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name.to_owned(), ts, Bytes::copy_from_slice(&buf[start..])));
    }
    assert!(
        out.len() >= 10,
        "too few uncompressed corpus files: {}",
        out.len()
    );
    Some(out)
}

/// One line per element, recursively: tag, VR, value bytes (binary numbers little endian, as
/// the codec holds them). Group lengths are left out: they depend on the encoding.
///
/// With `implicit_seen`, the conversion went through Implicit VR, which cannot carry the VR of
/// an element the dictionary does not know: DCMTK and we then read it as UN (private
/// sequences of defined length become UN bytes, which hold their items in Implicit VR Little
/// Endian). Such elements print as `UN` with their bytes as they now are, which is what they
/// must become: the test checks that UN elements still hold the same Implicit VR Little Endian
/// encoding.
///
/// With `mask`, elements the standard gives two VRs (US or SS, OB or OW) print their VR as
/// `xx`: one side of the comparison was read from Implicit VR, which only has the dictionary's
/// default, while the other has the VR the data set calls for. Whatever `mask`, after a trip
/// through Implicit VR OB and OW print as `ox`: 8-bit Pixel Data may be written either way in
/// explicit VR, and comes back as OB (DCMTK's choice) when the source said OW.
fn dump(ds: &DataSet, implicit_seen: bool, mask: bool, depth: usize, out: &mut Vec<String>) {
    for e in ds.elements() {
        if e.tag.1 == 0 {
            continue;
        }
        let indent = "  ".repeat(depth);
        let unknown = implicit_seen && dictionary::vr_of(e.tag) == Vr::UN;
        match &e.value {
            Value::Sequence(items) if !unknown || e.undefined_length => {
                let vr = if unknown { Vr::SQ } else { e.vr };
                out.push(format!("{indent}{} {vr:?} #{}", e.tag, items.len()));
                for item in items {
                    out.push(format!("{indent}  item"));
                    dump(item, implicit_seen, mask, depth + 2, out);
                }
            }
            Value::Sequence(items) => {
                // A defined-length private sequence as read from explicit VR: its bytes as
                // UN, i.e. its items in Implicit VR Little Endian.
                let mut as_un = BytesMut::new();
                let mut holder = DataSet::new();
                let mut seq = Element::new(e.tag, Vr::SQ, Value::Sequence(items.clone()));
                seq.undefined_length = false;
                holder.insert(seq);
                holder.encode(&TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN, &mut as_un);
                out.push(format!("{indent}{} UN {:02x?}", e.tag, &as_un[8..]));
            }
            Value::Bytes(b) => {
                let ambiguous = dictionary::by_tag(e.tag).is_some_and(|d| d.ambiguous_vr());
                let vr = match e.vr {
                    _ if unknown => "UN".to_owned(),
                    _ if mask && ambiguous => "xx".to_owned(),
                    Vr::OB | Vr::OW if implicit_seen && ambiguous => "ox".to_owned(),
                    vr => format!("{vr:?}"),
                };
                out.push(format!("{indent}{} {vr} {:02x?}", e.tag, &b[..]));
            }
            Value::Fragments(f) => out.push(format!("{indent}{} {:?} {f:02x?}", e.tag, e.vr)),
        }
    }
}

fn dump_of(ds: &DataSet, implicit_seen: bool, mask: bool) -> Vec<String> {
    let mut out = Vec::new();
    dump(ds, implicit_seen, mask, 0, &mut out);
    out
}

#[test]
fn corpus_converts_to_every_syntax_and_back() {
    let Some(files) = corpus_files() else {
        return;
    };
    let mut checked = 0;
    for (name, from, data) in &files {
        let original = DataSet::decode(data.clone(), from).unwrap();
        for to in syntaxes() {
            if to == *from {
                continue;
            }
            let implicit_seen = !from.explicit_vr || !to.explicit_vr;

            let converted = transcode(data.clone(), from, to)
                .unwrap_or_else(|e| panic!("{name}: {} -> {}: {e}", from.name, to.name));
            let read = DataSet::decode(converted.clone(), to).unwrap();
            let back = transcode(converted, to, from).unwrap();
            let back = DataSet::decode(back, from).unwrap();
            // Converted: compared with ambiguous VRs masked when one side is Implicit VR.
            // Converted back: exactly, the ambiguous VRs resolved again.
            for (what, ds, mask) in [
                ("converted", &read, implicit_seen),
                ("converted back", &back, false),
            ] {
                let expected = dump_of(&original, implicit_seen, mask);
                let got = dump_of(ds, implicit_seen, mask);
                if let Some(i) =
                    (0..expected.len().max(got.len())).find(|&i| expected.get(i) != got.get(i))
                {
                    panic!(
                        "{name}: {} -> {} ({what}): first difference at line {i}:\n  \
                         expected {:?}\n  got      {:?}",
                        from.name,
                        to.name,
                        expected.get(i),
                        got.get(i)
                    );
                }
            }
            checked += 1;
        }
    }
    eprintln!("{checked} corpus conversions checked");
}

// ---------------------------------------------------------------------------------------------
// DCMTK as the reference
// ---------------------------------------------------------------------------------------------

/// DCMTK's `tool` by the path the package lists (pynetdicom's console scripts can shadow
/// DCMTK's in PATH), else `/usr/bin/<tool>`; `None` with a loud skip line when absent.
fn dcmtk(tool: &str) -> Option<PathBuf> {
    let p = Path::new("/usr/bin").join(tool);
    let ok = Command::new(&p)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_lowercase();
            text.contains("dcmtk") || text.contains("offis")
        });
    if ok {
        return Some(p);
    }
    if std::env::var("DIMSE_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!("DIMSE_REQUIRE_PEERS=1 but DCMTK {tool} not found: apt-get install dcmtk");
    }
    eprintln!(
        "\n\n*** SKIPPED: DCMTK {tool} not found (apt-get install dcmtk); the comparison with \
         dcmconv did not run ***\n"
    );
    None
}

/// `dcmdump` of the data set of `path`, one line per element, without the header, the meta
/// group and the comment lines (value lengths and names kept).
fn dcmdump(dcmdump: &Path, path: &Path) -> Vec<String> {
    let out = Command::new(dcmdump)
        .args(["+L", "-Un"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "dcmdump {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("(0002,"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Big endian corpus files converted to Explicit VR Little Endian by us and by DCMTK
/// `dcmconv +te` dump the same, element by element (values, VRs, lengths, group lengths).
#[test]
fn big_endian_to_little_endian_matches_dcmconv() {
    let Some(files) = corpus_files() else {
        return;
    };
    let (Some(dcmconv), Some(dcmdump_bin)) = (dcmtk("dcmconv"), dcmtk("dcmdump")) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("dimse-transcode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = uid::transfer_syntax(uid::EXPLICIT_VR_BIG_ENDIAN).unwrap();
    let explicit = &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
    let mut compared = Vec::new();
    for (name, from, data) in files.iter().filter(|(_, ts, _)| *ts == big) {
        let source = Path::new(CORPUS).join(name);
        let buf = std::fs::read(&source).unwrap();
        let (meta, _) = FileMeta::parse_file(&buf).unwrap();
        let mut ours = BytesMut::new();
        FileMeta::new(
            &meta.media_storage_sop_class_uid,
            &meta.media_storage_sop_instance_uid,
            uid::EXPLICIT_VR_LITTLE_ENDIAN,
        )
        .encode(&mut ours);
        ours.extend_from_slice(&transcode(data.clone(), from, explicit).unwrap());
        let ours_path = dir.join(format!("ours-{name}"));
        std::fs::write(&ours_path, &ours).unwrap();
        let theirs_path = dir.join(format!("dcmconv-{name}"));
        let status = Command::new(&dcmconv)
            .arg("+te")
            .arg(&source)
            .arg(&theirs_path)
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "dcmconv +te {name}");
        let (a, b) = (
            dcmdump(&dcmdump_bin, &theirs_path),
            dcmdump(&dcmdump_bin, &ours_path),
        );
        assert!(a.len() > 10, "{name}: dcmdump of dcmconv output too short");
        if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
            let clip = |s: Option<&String>| s.map(|s| s.chars().take(300).collect::<String>());
            panic!(
                "{name}: dcmconv +te and transcode differ at element {i}:\n  dcmconv: {:?}\n  \
                 ours:    {:?}",
                clip(a.get(i)),
                clip(b.get(i))
            );
        }
        compared.push(name.clone());
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(compared.len() >= 2, "big endian corpus files: {compared:?}");
    eprintln!("identical to dcmconv +te: {compared:?}");
}
