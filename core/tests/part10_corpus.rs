//! File meta parsing and data set validation against the real files in shared/data/dicom.
//!
//! MANIFEST.tsv lists, per file, the transfer syntax and the SOP class/instance UIDs *of the
//! data set* ("-" = absent); those are compared with what `part10` and `dataset` read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bytes::BytesMut;
use dimse_core::dataset::{self, DataSetErrorKind, Tag};
use dimse_core::part10::{self, FileMeta, Part10Error};
use dimse_core::uid::{self, TransferSyntax};
use proptest::prelude::*;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/dicom");

/// Files whose data set is structurally broken on purpose: `validate` must fail on them.
const BROKEN_DATA_SETS: &[&str] = &["MR_truncated.dcm", "rtplan_truncated.dcm"];

/// badVR.dcm is *structurally* sound: every VR code is a standard one. Its defect is a value
/// invalid for its VR, Number of Frames (0028,0008) IS "1A", which a structural walk does not
/// (and, for a receiver that must accept real-world data, should not) reject.
const VALUE_DEFECT: (&str, usize, &[u8]) = ("badVR.dcm", 0x3E8, b"\x28\x00\x08\x00IS\x02\x001A");

/// Files whose meta (0002,0003) differs from the data set's SOP Instance UID (0008,0018),
/// which is what MANIFEST.tsv records (the meta says 1.2.999…, the data set something else).
const META_INSTANCE_MISMATCH: &[&str] = &[
    "badVR.dcm",
    "rtdose.dcm",
    "rtplan.dcm",
    "rtplan_truncated.dcm",
];

/// no_meta.dcm is one stray 0x20 byte followed by CT_small.dcm's data set (explicit VR LE).
/// The tool that wrote MANIFEST.tsv stumbled over that byte and recorded no SOP class; read
/// from offset 1 the data set is CT_small's.
const STRAY_BYTE_FILE: (&str, &str) = ("no_meta.dcm", "CT_small.dcm");

struct Entry {
    transfer_syntax: Option<String>,
    sop_class: Option<String>,
    sop_instance: Option<String>,
    note: String,
}

fn dash(s: &str) -> Option<String> {
    (s != "-" && !s.is_empty()).then(|| s.to_string())
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(CORPUS);
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir.to_path_buf())
    } else {
        eprintln!(
            "\n\n*** SKIP: DICOM corpus not found at {CORPUS}; corpus tests did not run ***\n"
        );
        None
    }
}

fn manifest(dir: &Path) -> BTreeMap<String, Entry> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(
        header,
        [
            "file",
            "bytes",
            "transfer_syntax_uid",
            "sop_class_uid",
            "sop_instance_uid",
            "note"
        ]
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let entry = Entry {
                transfer_syntax: dash(c[2]),
                sop_class: dash(c[3]),
                sop_instance: dash(c[4]),
                note: c.get(5).unwrap_or(&"").to_string(),
            };
            (c[0].to_string(), entry)
        })
        .collect()
}

/// All corpus files, read once (also the seeds of the mutation property tests).
fn files() -> &'static Vec<(String, Vec<u8>)> {
    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let Some(dir) = corpus_dir() else {
            return Vec::new();
        };
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".dcm"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap()))
            .collect()
    })
}

/// What the test expects `FileMeta::parse_file` to say about a file.
enum MetaExpectation {
    Ok,
    NotPart10,
    Missing(Tag),
}

fn meta_expectation(name: &str) -> MetaExpectation {
    match name {
        // Raw data sets: no preamble, no DICM.
        "no_meta.dcm" | "rtstruct.dcm" => MetaExpectation::NotPart10,
        "meta_missing_tsyntax.dcm" => MetaExpectation::Missing(Tag(0x0002, 0x0010)),
        // Has meta and a transfer syntax but no (0002,0002)/(0002,0003) at all (Type 1).
        "empty_charset_LEI.dcm" => MetaExpectation::Missing(Tag(0x0002, 0x0002)),
        _ => MetaExpectation::Ok,
    }
}

/// Where the data set starts and which transfer syntax it uses, as far as the file says.
fn data_set_of(
    name: &str,
    bytes: &[u8],
    entry: &Entry,
) -> Option<(usize, &'static TransferSyntax)> {
    match FileMeta::parse_file(bytes) {
        Ok((meta, offset)) => Some((offset, meta.transfer_syntax().expect("known syntax"))),
        Err(Part10Error::MissingElement { .. }) => {
            // The meta group is readable even though FileMeta rejects it.
            let (_, offset) = part10::meta_elements(bytes).unwrap().unwrap();
            let ts = uid::transfer_syntax(entry.transfer_syntax.as_deref()?)?;
            Some((offset, ts))
        }
        Err(Part10Error::NotPart10 { .. }) => {
            // Raw data sets, encoding determined by inspection of the files.
            let ts = match name {
                "no_meta.dcm" => return Some((1, &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN)),
                "rtstruct.dcm" => &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN,
                _ => return None,
            };
            Some((0, ts))
        }
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn corpus_meta_matches_manifest() {
    let Some(dir) = corpus_dir() else { return };
    let manifest = manifest(&dir);
    let files = files();
    assert_eq!(
        files.len(),
        manifest.len(),
        "every .dcm file is in MANIFEST.tsv and vice versa"
    );
    for (name, bytes) in files {
        let entry = &manifest[name];
        let result = FileMeta::parse_file(bytes);
        // The streaming parser agrees with the whole-file one on every file.
        match (&result, FileMeta::parse(bytes)) {
            (Ok(a), Ok(Some(b))) => assert_eq!(a, &b, "{name}"),
            (Err(a), Err(b)) => assert_eq!(a, &b, "{name}"),
            (a, b) => panic!("{name}: parse_file {a:?} vs parse {b:?}"),
        }
        match (meta_expectation(name), result) {
            (MetaExpectation::Ok, Ok((meta, offset))) => {
                assert_eq!(
                    Some(&meta.transfer_syntax_uid),
                    entry.transfer_syntax.as_ref(),
                    "{name}"
                );
                assert!(
                    meta.transfer_syntax().is_some(),
                    "{name}: unknown transfer syntax"
                );
                assert!(
                    offset > part10::META_START && offset < bytes.len(),
                    "{name}"
                );
                // The manifest records the data set's UIDs; where it has them, the meta agrees.
                if let Some(class) = &entry.sop_class {
                    assert_eq!(&meta.media_storage_sop_class_uid, class, "{name}");
                    assert!(uid::is_storage_sop_class(class), "{name}: {class}");
                }
                if let Some(instance) = &entry.sop_instance {
                    let same = &meta.media_storage_sop_instance_uid == instance;
                    assert_eq!(
                        same,
                        !META_INSTANCE_MISMATCH.contains(&name.as_str()),
                        "{name}"
                    );
                }
            }
            (MetaExpectation::NotPart10, Err(e @ Part10Error::NotPart10 { .. })) => {
                assert!(entry.transfer_syntax.is_none(), "{name}");
                assert!(
                    e.to_string().contains("no DICM prefix at offset 128"),
                    "{name}: {e}"
                );
            }
            (
                MetaExpectation::Missing(tag),
                Err(e @ Part10Error::MissingElement { tag: t, .. }),
            ) => {
                assert_eq!(t, tag, "{name}: {e}");
                assert!(
                    e.to_string()
                        .contains(&format!("({:04X},{:04X})", tag.0, tag.1)),
                    "{e}"
                );
            }
            (_, r) => panic!(
                "{name}: unexpected meta result {r:?} (note: {})",
                entry.note
            ),
        }
    }
}

#[test]
fn corpus_data_sets_validate_and_carry_manifest_uids() {
    let Some(dir) = corpus_dir() else { return };
    let manifest = manifest(&dir);
    for (name, bytes) in files() {
        let entry = &manifest[name];
        let Some((offset, ts)) = data_set_of(name, bytes, entry) else {
            // Only meta_missing_tsyntax.dcm: no transfer syntax anywhere, nothing to walk.
            assert_eq!(name, "meta_missing_tsyntax.dcm");
            continue;
        };
        let data = &bytes[offset..];
        let result = dataset::validate(data, ts);
        if BROKEN_DATA_SETS.contains(&name.as_str()) {
            let e = result.expect_err(name);
            assert!(e.offset <= data.len(), "{name}: {e}");
            assert!(
                e.to_string().contains(&format!("offset {}", e.offset)),
                "{e}"
            );
            assert!(
                matches!(
                    e.kind,
                    DataSetErrorKind::ValuePastEnd { .. }
                        | DataSetErrorKind::TruncatedHeader { .. }
                        | DataSetErrorKind::MissingDelimiter { .. }
                ),
                "{name}: {e}"
            );
            println!(
                "{name}: rejected as expected: {e} (file offset {})",
                offset + e.offset
            );
            continue;
        }
        result.unwrap_or_else(|e| panic!("{name}: {e}"));
        if name == VALUE_DEFECT.0 {
            let at = VALUE_DEFECT.1;
            assert_eq!(&bytes[at..at + VALUE_DEFECT.2.len()], VALUE_DEFECT.2);
        }

        if ts.deflated {
            let e = dataset::find_top_level_string(data, ts, Tag(0x0008, 0x0016)).unwrap_err();
            assert_eq!(e.kind, DataSetErrorKind::Deflated);
            continue;
        }
        let expected = if name == STRAY_BYTE_FILE.0 {
            // From offset 0 the stray byte makes the very first header invalid.
            let e = dataset::validate(bytes, ts).unwrap_err();
            assert_eq!(
                (e.offset, e.kind),
                (0, DataSetErrorKind::InvalidVr(*b"\0C"))
            );
            let original = &files()
                .iter()
                .find(|(n, _)| n == STRAY_BYTE_FILE.1)
                .unwrap()
                .1;
            let original_offset = FileMeta::parse_file(original).unwrap().1;
            assert_eq!(data, &original[original_offset..]);
            &manifest[STRAY_BYTE_FILE.1]
        } else {
            entry
        };
        let class = dataset::find_top_level_string(data, ts, Tag(0x0008, 0x0016));
        let instance = dataset::find_top_level_string(data, ts, Tag(0x0008, 0x0018));
        assert_eq!(class.unwrap(), expected.sop_class, "{name}: SOP Class UID");
        assert_eq!(
            instance.unwrap(),
            expected.sop_instance,
            "{name}: SOP Instance UID"
        );
    }
}

#[test]
fn broken_files_still_yield_their_uids_before_the_damage() {
    let Some(dir) = corpus_dir() else { return };
    let manifest = manifest(&dir);
    for (name, bytes) in files() {
        if !BROKEN_DATA_SETS.contains(&name.as_str()) {
            continue;
        }
        let (meta, offset) = FileMeta::parse_file(bytes).unwrap();
        let ts = meta.transfer_syntax().unwrap();
        let data = &bytes[offset..];
        let class = dataset::find_top_level_string(data, ts, Tag(0x0008, 0x0016)).unwrap();
        let instance = dataset::find_top_level_string(data, ts, Tag(0x0008, 0x0018)).unwrap();
        assert_eq!(class, manifest[name].sop_class, "{name}");
        assert_eq!(instance, manifest[name].sop_instance, "{name}");
    }
}

#[test]
fn streaming_parse_needs_exactly_the_meta() {
    let Some(_) = corpus_dir() else { return };
    for (name, bytes) in files() {
        let Ok((meta, offset)) = FileMeta::parse_file(bytes) else {
            continue;
        };
        // Every file here starts with (0002,0000), so the end is known without lookahead.
        for cut in 0..offset {
            assert_eq!(
                FileMeta::parse(&bytes[..cut]),
                Ok(None),
                "{name} cut at {cut}"
            );
            assert!(
                matches!(
                    FileMeta::parse_file(&bytes[..cut]),
                    Err(Part10Error::Truncated { .. })
                ),
                "{name} cut at {cut}"
            );
        }
        assert_eq!(
            FileMeta::parse(&bytes[..offset]),
            Ok(Some((meta, offset))),
            "{name}"
        );
    }
}

#[test]
fn meta_reencodes_to_a_parseable_file() {
    let Some(_) = corpus_dir() else { return };
    for (name, bytes) in files() {
        let Ok((meta, offset)) = FileMeta::parse_file(bytes) else {
            continue;
        };
        let mut out = BytesMut::new();
        meta.encode(&mut out);
        assert_eq!(out.len(), meta.encoded_len());
        out.extend_from_slice(&bytes[offset..]);
        let (again, again_offset) = FileMeta::parse_file(&out).unwrap();
        assert_eq!(again, meta, "{name}");
        assert_eq!(&out[again_offset..], &bytes[offset..], "{name}");
    }
}

fn uid_strategy() -> impl Strategy<Value = String> {
    "[1-9][0-9]{0,5}(\\.(0|[1-9][0-9]{0,8})){0,6}"
}

fn text_strategy(max_inner: usize) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        proptest::string::string_regex(&format!(
            "([A-Z0-9_]([A-Z0-9_ ]{{0,{max_inner}}}[A-Z0-9_])?)?"
        ))
        .unwrap(),
    )
}

prop_compose! {
    fn file_meta()(
        class in uid_strategy(),
        instance in uid_strategy(),
        ts in uid_strategy(),
        implementation in uid_strategy(),
        version in text_strategy(14),
        source in text_strategy(14),
        sending in text_strategy(14),
        receiving in text_strategy(14),
    ) -> FileMeta {
        FileMeta {
            media_storage_sop_class_uid: class,
            media_storage_sop_instance_uid: instance,
            transfer_syntax_uid: ts,
            implementation_class_uid: implementation,
            implementation_version_name: version,
            source_ae_title: source,
            sending_ae_title: sending,
            receiving_ae_title: receiving,
        }
    }
}

const SYNTAXES: [&str; 5] = [
    uid::IMPLICIT_VR_LITTLE_ENDIAN,
    uid::EXPLICIT_VR_LITTLE_ENDIAN,
    uid::EXPLICIT_VR_BIG_ENDIAN,
    uid::JPEG_BASELINE_8BIT,
    uid::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
];

proptest! {
    // No regression files: the failing input is printed, and the tree stays clean.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn file_meta_round_trips(meta in file_meta(), tail in proptest::collection::vec(any::<u8>(), 0..16)) {
        let mut out = BytesMut::new();
        meta.encode(&mut out);
        prop_assert_eq!(out.len(), meta.encoded_len());
        prop_assert_eq!(&out[128..132], b"DICM");
        let end = out.len();
        out.extend_from_slice(&tail);
        let (parsed, offset) = FileMeta::parse(&out).unwrap().unwrap();
        prop_assert_eq!(parsed, meta);
        prop_assert_eq!(offset, end);
        // Any shorter prefix asks for more bytes rather than guessing.
        let cut = end * 7 / 11;
        prop_assert_eq!(FileMeta::parse(&out[..cut]), Ok(None));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), which in 0usize..5) {
        let ts = uid::transfer_syntax(SYNTAXES[which]).unwrap();
        let _ = dataset::validate(&data, ts);
        let _ = dataset::find_top_level_string(&data, ts, Tag(0x0008, 0x0018));
        let _ = FileMeta::parse(&data);
        let _ = FileMeta::parse_file(&data);
        let mut file = vec![0u8; 128];
        file.extend_from_slice(b"DICM");
        file.extend_from_slice(&data);
        let _ = FileMeta::parse(&file);
        let _ = FileMeta::parse_file(&file);
        let _ = part10::meta_elements(&file);
    }

    #[test]
    fn truncated_and_mutated_real_files_never_panic(
        pick in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let files = files();
        if files.is_empty() {
            return Ok(());
        }
        let (_, original) = &files[pick.index(files.len())];
        let mut bytes = original.clone();
        for (at, value) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        let len = cut.index(bytes.len() + 1);
        let bytes = &bytes[..len];
        let _ = FileMeta::parse(bytes);
        let meta = FileMeta::parse_file(bytes);
        for ts in SYNTAXES {
            let ts = uid::transfer_syntax(ts).unwrap();
            let start = meta.as_ref().map(|(_, o)| *o).unwrap_or(0).min(bytes.len());
            let _ = dataset::validate(&bytes[start..], ts);
            let _ = dataset::find_top_level_string(&bytes[start..], ts, Tag(0x0008, 0x0016));
        }
    }
}

#[test]
fn cutting_into_the_last_element_is_detected() {
    let Some(_) = corpus_dir() else { return };
    for (name, bytes) in files() {
        let Ok((meta, offset)) = FileMeta::parse_file(bytes) else {
            continue;
        };
        let ts = meta.transfer_syntax().unwrap();
        if ts.deflated || BROKEN_DATA_SETS.contains(&name.as_str()) {
            continue;
        }
        // The last element of every file here is longer than 8 bytes, so each of these cuts
        // lands inside it.
        for cut in 1..=8 {
            let data = &bytes[offset..bytes.len() - cut];
            let e = dataset::validate(data, ts).expect_err(name);
            assert!(e.offset <= data.len(), "{name} cut {cut}: {e}");
        }
    }
}

/// The lenient reader finds every corpus file's data set: Part 10 files at the meta's end,
/// `rtstruct.dcm` (no meta) at 0 with its implicit VR guessed, and a file rewritten without
/// preamble (meta at 0, with and without `DICM`) at the same data set.
#[test]
fn lenient_layout_of_corpus_files() {
    let Some(dir) = corpus_dir() else { return };
    for (name, entry) in manifest(&dir) {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let found = part10::read_layout(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name == "rtstruct.dcm" {
            assert_eq!(found.layout, part10::Layout::NoMeta, "{name}");
            assert_eq!(found.data_offset, 0);
            let guessed = part10::guess_transfer_syntax(&bytes).unwrap();
            assert_eq!(guessed.uid, uid::IMPLICIT_VR_LE, "{name}");
            dataset::validate(&bytes, guessed).unwrap();
            continue;
        }
        if found.layout == part10::Layout::NoMeta {
            // no_meta.dcm starts with a stray byte: nothing reads it (DCMTK's +f neither).
            assert_eq!(name, "no_meta.dcm");
            continue;
        }
        assert_eq!(found.layout, part10::Layout::Part10, "{name}");
        assert_eq!(found.transfer_syntax_uid, entry.transfer_syntax, "{name}");
        let start = found.data_offset;
        for cut in [part10::PREAMBLE_LEN, part10::META_START] {
            let found = part10::read_layout(&bytes[cut..]).unwrap();
            assert_eq!(
                found.layout,
                part10::Layout::NoPreamble,
                "{name} from {cut}"
            );
            assert_eq!(found.data_offset, start - cut, "{name} from {cut}");
        }
        // A native little endian data set read as if it had no meta: the guess matches.
        if let Some(ts) = entry.transfer_syntax.as_deref() {
            let data = &bytes[start..];
            if (ts == uid::IMPLICIT_VR_LE || ts == uid::EXPLICIT_VR_LE) && data.len() >= 8 {
                assert_eq!(
                    part10::guess_transfer_syntax(data).map(|t| t.uid),
                    Some(ts),
                    "{name}"
                );
            }
        }
    }
}

/// The explicit big endian corpus files, stripped of their meta, are guessed as such.
#[test]
fn big_endian_data_sets_are_guessed() {
    let Some(dir) = corpus_dir() else { return };
    for name in ["ExplVR_BigEnd.dcm", "MR_small_bigendian.dcm"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let found = part10::read_layout(&bytes).unwrap();
        let data = &bytes[found.data_offset..];
        let guessed = part10::guess_transfer_syntax(data).unwrap();
        assert_eq!(guessed.uid, uid::EXPLICIT_VR_BIG_ENDIAN, "{name}");
        dataset::validate(data, guessed).unwrap();
    }
}

/// Value problems are noted, not fatal: badVR.dcm's (0028,0008) IS with a letter.
#[test]
fn bad_values_are_noted_each() {
    let Some(dir) = corpus_dir() else { return };
    let bytes = std::fs::read(dir.join("badVR.dcm")).unwrap();
    let found = part10::read_layout(&bytes).unwrap();
    let ts = uid::transfer_syntax(found.transfer_syntax_uid.as_deref().unwrap()).unwrap();
    let data = &bytes[found.data_offset..];
    let noted = dataset::validate_noting_values(data, ts).unwrap();
    assert!(
        noted.iter().any(|e| e.tag == Some(Tag(0x0028, 0x0008))),
        "{noted:?}"
    );
    assert!(noted
        .iter()
        .all(|e| matches!(e.kind, DataSetErrorKind::InvalidValue { .. })));
    assert_eq!(
        dataset::validate_strict(data, ts).unwrap_err(),
        noted[0],
        "strict fails on the first noted value"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes give a layout or an error, and a guess or `None`, never a panic; a layout's
    /// data offset is inside the input.
    #[test]
    fn lenient_reading_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(found) = part10::read_layout(&bytes) {
            prop_assert!(found.data_offset <= bytes.len());
        }
        let _ = part10::guess_transfer_syntax(&bytes);
        if let Some(ts) = uid::transfer_syntax(uid::EXPLICIT_VR_LE) {
            let _ = dataset::validate_noting_values(&bytes, ts);
        }
    }

    /// A meta group at offset 0 with `DICM` or without it is read like the Part 10 one.
    #[test]
    fn meta_without_preamble(instance in "[1-9][0-9]{0,20}(\\.[1-9][0-9]{0,5}){1,4}") {
        let meta = FileMeta::new(uid::CT_IMAGE_STORAGE, &instance, uid::EXPLICIT_VR_LE);
        let mut file = BytesMut::new();
        meta.encode(&mut file);
        file.extend_from_slice(&[0x08, 0x00, 0x16, 0x00, b'U', b'I', 2, 0, b'1', 0]);
        for cut in [0, part10::PREAMBLE_LEN, part10::META_START] {
            let found = part10::read_layout(&file[cut..]).unwrap();
            prop_assert_eq!(found.sop_instance_uid.as_deref(), Some(instance.as_str()));
            prop_assert_eq!(found.data_offset, meta.encoded_len() - cut);
        }
    }
}
