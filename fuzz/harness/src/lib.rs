//! What each fuzz target does with its input. Every function must return for every byte
//! string: a panic here is a bug in `dimse-core` (or, for `pixel_data`, in `dimse-codec`).
//!
//! The cargo-fuzz targets in `fuzz/fuzz_targets/` call these on nightly; `tests/corpus.rs`
//! replays the corpus kept in `fuzz/corpus/` through them on stable, in CI.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use bytes::BytesMut;
use dimse_core::assoc::{
    AcceptorPolicy, Association, Config, Proposal, ProposedContext, SupportedSyntax,
};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::CommandSet;
use dimse_core::part10::FileMeta;
use dimse_core::pdu::{self, Limits};
use dimse_core::uid::{self, TransferSyntax};

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
pub const TARGETS: [(&str, Target); 7] = [
    ("pdu_decode", pdu_decode),
    ("association", association),
    ("command_set", command_set),
    ("data_set", data_set),
    ("part10", part10),
    ("wire_trace", wire_trace),
    ("pixel_data", pixel_data),
];

/// Trace the input as `--trace` and `dimse decode` do. The first byte says how: bits 0-5 the
/// chunk size less one, bit 6 alternate directions chunk by chunk, bit 7 show data sets.
pub fn wire_trace(data: &[u8]) {
    use dimse_core::pdu::trace::{Direction, WireTrace};
    let Some((&how, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(how & 0x3f) + 1;
    let mut trace = WireTrace::new(how & 0x80 != 0);
    for (i, piece) in rest.chunks(chunk).enumerate() {
        let direction = if how & 0x40 != 0 && i % 2 == 1 {
            Direction::FromAcceptor
        } else {
            Direction::FromRequestor
        };
        let _ = trace.feed(direction, piece);
    }
    let _ = trace.finish();
}

/// Decode PDUs until the input runs out or is refused; what decodes re-encodes to bytes that
/// decode to the same PDU.
pub fn pdu_decode(data: &[u8]) {
    let limits = Limits {
        max_pdata_length: 1 << 20,
        ..Limits::default()
    };
    let mut buf = BytesMut::from(data);
    while let Ok(Some(decoded)) = pdu::decode(&mut buf, &limits) {
        let mut again = BytesMut::new();
        pdu::encode(&decoded, &mut again);
        let round = pdu::decode(&mut again, &Limits::default());
        assert_eq!(round, Ok(Some(decoded)), "PDU re-encoding changed it");
        assert!(again.is_empty(), "re-encoded PDU left bytes behind");
    }
}

/// An acceptor and a requestor each fed the input as a peer's byte stream, in chunks whose
/// sizes the input's first byte picks, with time passing between chunks: the state machine
/// must answer every PDU sequence with events, transmits or an abort, never a panic.
pub fn association(data: &[u8]) {
    let Some((&shape, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(shape % 64) + 1;
    let start = Instant::now();
    let mut policy = AcceptorPolicy::new("FUZZ_SCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    policy.supported.push(SupportedSyntax::uid(
        uid::CT_IMAGE_STORAGE,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    ));

    let mut acceptor = Association::acceptor(Config::default(), start);
    let mut proposal = Proposal::new("FUZZ_SCU", "FUZZ_SCP");
    proposal.contexts.push(ProposedContext::new(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    let mut requestor = Association::requestor(&proposal, Config::default(), start);
    let _ = requestor.handle_connected(start);

    // Each side keeps what it has not consumed, as a driver's read buffer does: a PDU may
    // span many chunks.
    let mut buffers = [BytesMut::new(), BytesMut::new()];
    for (i, piece) in data.chunks(chunk).enumerate() {
        let now = start + Duration::from_secs(i as u64 * u64::from(shape >> 6));
        for (assoc, buf) in [&mut acceptor, &mut requestor]
            .into_iter()
            .zip(&mut buffers)
        {
            buf.extend_from_slice(piece);
            assoc.handle_input(now, buf);
            drain(assoc, now, &policy);
            if let Some(deadline) = assoc.poll_timeout() {
                assoc.handle_timeout(deadline);
                drain(assoc, deadline, &policy);
            }
        }
    }
    for assoc in [&mut acceptor, &mut requestor] {
        assoc.handle_eof(start);
        drain(assoc, start, &policy);
    }
}

fn drain(assoc: &mut Association, now: Instant, policy: &AcceptorPolicy) {
    use dimse_core::assoc::Event;
    while let Some(event) = assoc.poll_event() {
        if let Event::Requested(_) = event {
            let _ = assoc.respond_with_policy(now, policy);
        }
    }
    while assoc.poll_transmit().is_some() {}
}

/// Decode a command set; one that decodes re-encodes to the same command set.
pub fn command_set(data: &[u8]) {
    if let Ok(command) = CommandSet::decode(data) {
        let mut again = BytesMut::new();
        command.encode(&mut again);
        assert_eq!(
            CommandSet::decode(&again).as_ref(),
            Ok(&command),
            "command set re-encoding changed it"
        );
    }
}

/// Decode and validate a data set in each uncompressed transfer syntax; one that decodes
/// also encodes.
pub fn data_set(data: &[u8]) {
    let syntaxes: [TransferSyntax; 2] = [
        TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN,
        TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN,
    ];
    for ts in &syntaxes {
        let _ = dimse_core::dataset::validate(data, ts);
        if let Ok(ds) = DataSet::decode_slice(data, ts) {
            let mut out = BytesMut::new();
            ds.encode(ts, &mut out);
        }
    }
}

/// Read a Part 10 file's preamble and meta group, whole or as a prefix.
pub fn part10(data: &[u8]) {
    let _ = FileMeta::parse(data);
    let _ = FileMeta::parse_file(data);
    let _ = dimse_core::part10::meta_elements(data);
}

/// The encapsulated transfer syntaxes whose decoders dimse-codec holds in Rust (JPEG 2000 is
/// OpenJPEG's C, fuzzed upstream): RLE, lossless JPEG (the crate's fast path, else
/// libjpeg-turbo-rs), baseline JPEG, JPEG-LS (the crate's own decoder).
const PIXEL_SYNTAXES: [&str; 6] = [
    uid::RLE_LOSSLESS,
    uid::JPEG_LOSSLESS_SV1,
    uid::JPEG_LOSSLESS_P14,
    uid::JPEG_BASELINE_8BIT,
    uid::JPEG_LS_LOSSLESS,
    uid::JPEG_LS_NEAR_LOSSLESS,
];

/// Decompress one frame. The first byte picks the transfer syntax (low three bits, modulo
/// six) and the image: bit 3 colour (3 samples, else 1), bit 4 16-bit samples (else 8), bit 5
/// signed, bit 6 YBR_FULL_422 for colour (else RGB), bit 7 12 bits stored of 16; the next
/// two bytes are rows and columns (1 to 64 each); the rest is the frame, in a data set as a
/// peer would send it (empty offset table, one fragment).
pub fn pixel_data(data: &[u8]) {
    if let Some((ds, ts)) = pixel_dataset(data) {
        let _ = dimse_codec::decompress(&ds, ts);
    }
}

/// The data set and transfer syntax [`pixel_data`] decompresses (`None` for fewer than three
/// bytes).
pub fn pixel_dataset(data: &[u8]) -> Option<(Vec<u8>, &'static str)> {
    let [shape, rows, columns, frame @ ..] = data else {
        return None;
    };
    let ts = PIXEL_SYNTAXES[usize::from(shape & 7) % PIXEL_SYNTAXES.len()];
    let samples: u16 = if shape & 8 != 0 { 3 } else { 1 };
    let bits: u16 = if shape & 16 != 0 { 16 } else { 8 };
    let signed = u16::from(shape & 32 != 0);
    let (rows, columns) = (u16::from(rows % 64) + 1, u16::from(columns % 64) + 1);
    let photometric: &[u8] = match (samples, shape & 64 != 0) {
        (3, true) => b"YBR_FULL_422",
        (3, false) => b"RGB ",
        _ => b"MONOCHROME2 ",
    };
    let stored: u16 = if bits == 16 && shape & 128 != 0 {
        12
    } else {
        bits
    };
    let mut ds = Vec::with_capacity(frame.len() + 128);
    let mut element = |element: u16, vr: &[u8; 2], value: &[u8]| {
        ds.extend_from_slice(&0x0028u16.to_le_bytes());
        ds.extend_from_slice(&element.to_le_bytes());
        ds.extend_from_slice(vr);
        ds.extend_from_slice(&(value.len() as u16).to_le_bytes());
        ds.extend_from_slice(value);
    };
    element(0x0002, b"US", &samples.to_le_bytes());
    element(0x0004, b"CS", photometric);
    element(0x0010, b"US", &rows.to_le_bytes());
    element(0x0011, b"US", &columns.to_le_bytes());
    element(0x0100, b"US", &bits.to_le_bytes());
    element(0x0101, b"US", &stored.to_le_bytes());
    element(0x0102, b"US", &(stored - 1).to_le_bytes());
    element(0x0103, b"US", &signed.to_le_bytes());
    // (7FE0,0010) OB of undefined length: an empty offset table, the frame, the delimiter.
    ds.extend_from_slice(&[
        0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    ds.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
    ds.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
    let even = frame.len() + frame.len() % 2;
    ds.extend_from_slice(&(even as u32).to_le_bytes());
    ds.extend_from_slice(frame);
    ds.resize(ds.len() + even - frame.len(), 0);
    ds.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    Some((ds, ts))
}
