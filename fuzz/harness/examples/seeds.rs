//! Writes the seed inputs of every fuzz target into `fuzz/corpus/<target>/seed-*`: the bytes of
//! one whole C-ECHO association from each side, its command sets, and the heads of the real
//! DICOM files in `../shared/data/dicom` (or a directory given as the first argument).
//!
//! `cargo run -p dimse-fuzz --example seeds [DICOM_DIR]`

use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::BytesMut;
use dimse_core::assoc::{
    AcceptorPolicy, Association, Config, Event, Proposal, ProposedContext, SupportedSyntax,
};
use dimse_core::dimse::{CEchoRq, CEchoRsp, DimseMessage, Status};
use dimse_core::uid;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    };

    let (to_acceptor, to_requestor) = echo_exchange();
    write("pdu_decode", "echo-requestor", &to_acceptor);
    write("pdu_decode", "echo-acceptor", &to_requestor);
    // The association target's first byte picks chunk sizes and clock steps.
    for (shape, name) in [(0u8, "bytewise"), (63, "chunked"), (255, "slow-clock")] {
        let mut input = vec![shape];
        input.extend_from_slice(&to_acceptor);
        write("association", &format!("echo-{name}"), &input);
    }
    // The wire-trace target's first byte: chunk size, alternating sides, data sets shown.
    for (how, name) in [(0x3fu8, "requestor"), (0xff, "alternating-with-data")] {
        let mut input = vec![how];
        input.extend_from_slice(&to_acceptor);
        write("wire_trace", &format!("echo-{name}"), &input);
    }

    let mut cmd = BytesMut::new();
    CEchoRq::new(7).to_command().encode(&mut cmd);
    write("command_set", "echo-rq", &cmd);
    cmd.clear();
    CEchoRsp::for_request(&CEchoRq::new(7), Status::SUCCESS)
        .to_command()
        .encode(&mut cmd);
    write("command_set", "echo-rsp", &cmd);

    let dicom = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/dicom")
        });
    let mut files: Vec<_> = std::fs::read_dir(&dicom)
        .unwrap_or_else(|e| panic!("{}: {e}", dicom.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    files.sort();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        // Heads keep inputs small (the fuzzer mutates faster), and still hold the meta group
        // and the first elements of the data set.
        let head = &bytes[..bytes.len().min(4096)];
        write("part10", &name, head);
        if let Ok((_, offset)) = dimse_core::part10::FileMeta::parse_file(&bytes) {
            write(
                "data_set",
                &name,
                &bytes[offset..bytes.len().min(offset + 4096)],
            );
        }
    }
}

/// One association (associate, C-ECHO, release) between two in-memory peers: the bytes each
/// side sent.
fn echo_exchange() -> (Vec<u8>, Vec<u8>) {
    let now = Instant::now();
    let mut proposal = Proposal::new("FUZZ_SCU", "FUZZ_SCP");
    proposal.contexts.push(ProposedContext::new(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    let mut policy = AcceptorPolicy::new("FUZZ_SCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    let mut rq = Association::requestor(&proposal, Config::default(), now);
    let mut ac = Association::acceptor(Config::default(), now);
    rq.handle_connected(now).unwrap();
    let (mut to_ac, mut to_rq) = (Vec::new(), Vec::new());
    let mut echoed = false;
    let mut released = false;
    for _ in 0..16 {
        let sent =
            carry(&mut rq, &mut ac, now, &mut to_ac) + carry(&mut ac, &mut rq, now, &mut to_rq);
        while let Some(event) = ac.poll_event() {
            match event {
                Event::Requested(_) => {
                    ac.respond_with_policy(now, &policy).unwrap();
                }
                Event::Message { context_id, .. } => ac
                    .send_message(
                        now,
                        context_id,
                        &CEchoRsp::for_request(&CEchoRq::new(1), Status::SUCCESS),
                    )
                    .unwrap(),
                _ => {}
            }
        }
        while let Some(event) = rq.poll_event() {
            match event {
                Event::Established(_) if !echoed => {
                    rq.send_message(now, 1, &CEchoRq::new(1)).unwrap();
                    echoed = true;
                }
                Event::Message { .. } if !released => {
                    rq.release(now).unwrap();
                    released = true;
                }
                _ => {}
            }
        }
        if sent == 0 && released {
            break;
        }
    }
    assert!(released, "the seed exchange did not complete");
    (to_ac, to_rq)
}

fn carry(from: &mut Association, to: &mut Association, now: Instant, log: &mut Vec<u8>) -> usize {
    let mut wire = BytesMut::new();
    while let Some(t) = from.poll_transmit() {
        wire.extend_from_slice(&t.head);
        wire.extend_from_slice(&t.body);
    }
    log.extend_from_slice(&wire);
    let n = wire.len();
    to.handle_input(now, &mut wire);
    n
}
