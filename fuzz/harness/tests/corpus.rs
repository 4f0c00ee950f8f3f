//! Every input kept in `fuzz/corpus/<target>/` (what fuzzing found interesting, and the
//! crashes it found, fixed) runs through its target: a regression test on stable.

use std::path::Path;

#[test]
fn corpus_replays_without_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    for (name, target) in dimse_fuzz::TARGETS {
        let dir = root.join(name);
        let mut inputs = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            target(&std::fs::read(&path).unwrap());
            inputs += 1;
        }
        assert!(
            inputs > 0,
            "{}: the corpus of {name} is empty",
            dir.display()
        );
        eprintln!("{name}: {inputs} inputs replayed");
    }
}

/// The association seeds carry a whole exchange, so fuzzing starts from an established
/// association rather than having to discover one.
#[test]
fn association_seed_reaches_an_established_association() {
    use dimse_core::assoc::{AcceptorPolicy, Association, Config, Event, SupportedSyntax};
    use dimse_core::uid;
    use std::time::Instant;

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/association");
    let seed = std::fs::read(root.join("seed-echo-chunked")).unwrap();
    let now = Instant::now();
    let mut policy = AcceptorPolicy::new("FUZZ_SCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    let mut acceptor = Association::acceptor(Config::default(), now);
    let mut events = Vec::new();
    let mut buf = bytes::BytesMut::new();
    for piece in seed[1..].chunks(64) {
        buf.extend_from_slice(piece);
        acceptor.handle_input(now, &mut buf);
        while let Some(event) = acceptor.poll_event() {
            if let Event::Requested(_) = event {
                acceptor.respond_with_policy(now, &policy).unwrap();
            }
            events.push(event);
        }
    }
    assert!(
        events.iter().any(|e| matches!(e, Event::Message { .. })),
        "{events:?}"
    );
    assert!(events.contains(&Event::ReleaseRequested), "{events:?}");
}

/// The pixel_data seeds (frames compressed by DCMTK: RLE, lossless and baseline JPEG, JPEG-LS
/// lossless and near-lossless, grey and colour) decode, so fuzzing starts from inputs that
/// reach every decoder's inner loop rather than its first check.
#[test]
fn pixel_data_seeds_decode() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/pixel_data");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("seed-")
        {
            continue;
        }
        let (ds, ts) = dimse_fuzz::pixel_dataset(&std::fs::read(&path).unwrap()).unwrap();
        if let Err(e) = dimse_codec::decompress(&ds, ts) {
            panic!("{}: {e}", path.display());
        }
        seeds += 1;
    }
    assert!(seeds >= 9, "{seeds} seeds");
}
