//! Hostile input: truncated and mutated corpus files and random bytes must give a value or a
//! [`CodecError`], never a panic, and no codec may panic on them (a caught codec panic,
//! [`CodecError::DecoderPanicked`], fails these tests too: it is a bug somewhere). Needs no
//! external tool; deterministic (fixed seeds).

use std::path::{Path, PathBuf};

use dimse_codec::{decompress, CodecError};
use dimse_core::dataset::Tag;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/dicom")
}

/// (file, transfer syntax, data set after the file meta) of every compressed corpus file.
fn compressed_corpus() -> Vec<(String, String, Vec<u8>)> {
    let manifest = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("corpus");
    manifest
        .lines()
        .skip(1)
        .filter_map(|row| {
            let cols: Vec<&str> = row.split('\t').collect();
            let (file, ts) = (cols[0], cols[2]);
            dimse_codec::fidelity(ts)?;
            let bytes = std::fs::read(corpus_dir().join(file)).ok()?;
            Some((file.to_string(), ts.to_string(), dataset_of(&bytes)))
        })
        .collect()
}

/// The data set after the preamble and group 0002 (explicit VR little endian).
fn dataset_of(file: &[u8]) -> Vec<u8> {
    let mut pos = 132;
    while file.get(pos..pos + 2) == Some(&[0x02, 0x00]) {
        let vr = &file[pos + 4..pos + 6];
        pos += if matches!(vr, b"OB" | b"OW" | b"UN" | b"SQ" | b"UT") {
            12 + u32::from_le_bytes(file[pos + 8..pos + 12].try_into().unwrap()) as usize
        } else {
            8 + usize::from(u16::from_le_bytes([file[pos + 6], file[pos + 7]]))
        };
    }
    file[pos..].to_vec()
}

/// Decompresses, failing on a caught codec panic; a panic elsewhere fails the test anyway.
fn survives(data: &[u8], ts: &str, what: &str) {
    if let Err(e @ CodecError::DecoderPanicked { .. }) = decompress(data, ts) {
        panic!("{what}: {e}");
    }
}

/// Where the Pixel Data element starts (its header) and ends, to aim at the codestreams.
fn pixel_data_span(data: &[u8]) -> (usize, usize) {
    let ts = dimse_core::uid::TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
    dimse_core::dataset::top_level_elements(data, &ts)
        .expect("corpus file walks")
        .iter()
        .find(|s| s.tag == Tag(0x7FE0, 0x0010))
        .map_or((0, data.len()), |s| (s.header_offset, s.end))
}

#[test]
fn corpus_files_decode() {
    let corpus = compressed_corpus();
    assert!(corpus.len() >= 7, "expected the corpus's compressed files");
    for (file, ts, data) in &corpus {
        // Every one decodes; UN_sequence.dcm, which has no image, to itself.
        let result = decompress(data, ts);
        assert!(result.is_ok(), "{file}: {result:?}");
    }
}

#[test]
fn truncated_corpus_files_are_errors() {
    for (file, ts, data) in compressed_corpus() {
        if file == "UN_sequence.dcm" {
            continue;
        }
        let (start, end) = pixel_data_span(&data);
        // Every cut inside the pixel data's first and last 300 bytes, 200 cuts between, and
        // cuts through the elements before it.
        let step = ((end - start) / 200).max(1);
        let cuts = (start..end.min(start + 300))
            .chain((start..end).step_by(step))
            .chain(end.saturating_sub(300)..end)
            .chain((0..start).step_by(7));
        for cut in cuts {
            let what = format!("{file} cut at {cut}");
            survives(&data[..cut], &ts, &what);
            // A cut inside Pixel Data always breaks it; one before it may fall between
            // elements and leave a data set without an image, which passes as it is.
            match decompress(&data[..cut], &ts) {
                Err(_) => {}
                Ok(out) => {
                    assert!(cut <= start, "{what} decoded");
                    assert_eq!((out.frames, &out.data[..]), (0, &data[..cut]), "{what}");
                }
            }
        }
    }
}

#[test]
fn random_bytes_are_errors() {
    let syntaxes = [
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.5",
    ];
    let config = Config {
        cases: 512,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x00D1_C0DE),
        ..Config::default()
    };
    proptest!(config, |(bytes in proptest::collection::vec(any::<u8>(), 0..512), which in 0..5usize)| {
        survives(&bytes, syntaxes[which], "random bytes");
    });
}

#[test]
fn mutated_codestreams_never_panic() {
    let corpus: Vec<_> = compressed_corpus()
        .into_iter()
        .filter(|(file, _, _)| file != "UN_sequence.dcm")
        .collect();
    let config = Config {
        cases: 768,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x05EE_D0FC_0DEC),
        ..Config::default()
    };
    let strategy = (
        0..corpus.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        prop::option::of(any::<prop::sample::Index>()),
    );
    proptest!(config, |((which, edits, cut) in strategy)| {
        let (file, ts, original) = &corpus[which];
        let mut data = original.clone();
        // Mutate the encapsulated pixel data (headers, offset table, codestreams).
        let (header, end) = pixel_data_span(&data);
        let start = header + 12;
        let span = end - start;
        for (at, byte) in &edits {
            data[start + at.index(span)] = *byte;
        }
        if let Some(cut) = cut {
            data.truncate(start + cut.index(span));
        }
        survives(&data, ts, &format!("{file} mutated {edits:?} cut {cut:?}"));
    });
}

/// Synthetic RLE frames: a header of random segment counts and offsets over random
/// segments, in an otherwise valid data set.
#[test]
fn random_rle_frames_never_panic() {
    let config = Config {
        cases: 1024,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x0E1E),
        ..Config::default()
    };
    let strategy = (
        0u32..20,
        proptest::collection::vec(0u32..200, 15),
        proptest::collection::vec(any::<u8>(), 0..150),
        prop::sample::select(vec![(1u16, 8u16), (1, 16), (3, 8), (1, 32)]),
    );
    proptest!(config, |((segments, offsets, body, (samples, bits)) in strategy)| {
        let mut frame = segments.to_le_bytes().to_vec();
        for o in &offsets {
            frame.extend_from_slice(&o.to_le_bytes());
        }
        frame.extend_from_slice(&body);
        if frame.len() % 2 != 0 {
            frame.push(0);
        }
        let data = rle_dataset(samples, bits, &frame);
        survives(&data, "1.2.840.10008.1.2.5", "random RLE frame");
    });
}

fn rle_dataset(samples: u16, bits: u16, frame: &[u8]) -> Vec<u8> {
    encapsulated_dataset(samples, 3, 5, bits, frame)
}

/// Interleaved JPEG-LS codestreams of a 13 x 7 RGB image (tests/data/README.md):
/// (stream, bits allocated, transfer syntax).
const INTERLEAVED_JPEGLS: [(&[u8], u16, &str); 5] = [
    (
        include_bytes!("data/rgb8_ilv1.jls"),
        8,
        "1.2.840.10008.1.2.4.80",
    ),
    (
        include_bytes!("data/rgb8_ilv2.jls"),
        8,
        "1.2.840.10008.1.2.4.80",
    ),
    (
        include_bytes!("data/rgb8_near_ilv2.jls"),
        8,
        "1.2.840.10008.1.2.4.81",
    ),
    (
        include_bytes!("data/rgb16_ilv1.jls"),
        16,
        "1.2.840.10008.1.2.4.80",
    ),
    (
        include_bytes!("data/rgb16_near_ilv1.jls"),
        16,
        "1.2.840.10008.1.2.4.81",
    ),
];

/// Line- and sample-interleaved JPEG-LS (the crate's own decoder): the entropy-coded data
/// mutated, cut short or replaced by random bytes, and a few edits anywhere (headers too).
#[test]
fn mutated_interleaved_jpegls_never_panics() {
    for (stream, bits, ts) in INTERLEAVED_JPEGLS {
        let data = encapsulated_dataset(3, 7, 13, bits, stream);
        assert!(decompress(&data, ts).is_ok(), "{ts} {bits} bits unmutated");
    }
    let config = Config {
        cases: 4096,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x0001_5C0D),
        ..Config::default()
    };
    let edits = || proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12);
    let strategy = (
        0..INTERLEAVED_JPEGLS.len(),
        edits(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        prop::option::of(any::<prop::sample::Index>()),
        prop::option::weighted(0.2, proptest::collection::vec(any::<u8>(), 0..400)),
    );
    proptest!(config, |((which, data_edits, anywhere, cut, random) in strategy)| {
        let (original, bits, ts) = INTERLEAVED_JPEGLS[which];
        // The headers up to the end of SOS, the scan's data, the rest (EOI).
        let sos = original.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let header = usize::from(u16::from_be_bytes([original[sos + 2], original[sos + 3]]));
        let start = sos + 2 + header;
        let end = (start..original.len())
            .find(|&i| original[i] == 0xFF && original.get(i + 1).is_some_and(|&b| b >= 0x80))
            .unwrap();
        let mut scan = random.unwrap_or_else(|| original[start..end].to_vec());
        if !scan.is_empty() {
            let len = scan.len();
            for (at, byte) in &data_edits {
                scan[at.index(len)] = *byte;
            }
            if let Some(cut) = cut {
                scan.truncate(cut.index(len));
            }
        }
        let mut stream = [&original[..start], &scan, &original[end..]].concat();
        let len = stream.len();
        for (at, byte) in &anywhere {
            stream[at.index(len)] = *byte;
        }
        if stream.len() % 2 != 0 {
            stream.push(0);
        }
        let data = encapsulated_dataset(3, 7, 13, bits, &stream);
        survives(&data, ts, &format!("JPEG-LS {which}: {data_edits:?} {anywhere:?} cut {cut:?}"));
    });
}

/// A data set of Samples per Pixel, Rows, Columns and Bits Allocated, and `frame` as its
/// one encapsulated frame (empty Basic Offset Table).
fn encapsulated_dataset(samples: u16, rows: u16, columns: u16, bits: u16, frame: &[u8]) -> Vec<u8> {
    fn us(out: &mut Vec<u8>, element: u16, value: u16) {
        out.extend_from_slice(&[0x28, 0x00]);
        out.extend_from_slice(&element.to_le_bytes());
        out.extend_from_slice(b"US\x02\x00");
        out.extend_from_slice(&value.to_le_bytes());
    }
    let mut d = Vec::new();
    us(&mut d, 0x0002, samples);
    us(&mut d, 0x0010, rows);
    us(&mut d, 0x0011, columns);
    us(&mut d, 0x0100, bits);
    d.extend_from_slice(&[
        0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    d.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
    d.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
    d.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    d.extend_from_slice(frame);
    d.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    d
}
