//! dimse-std's SCU against dimse-std's SCP, in one process over loopback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use dimse_core::assoc::ProposedContext;
use dimse_core::part10::FileMeta;
use dimse_core::pdu::RejectReason;
use dimse_core::{uid, Entity};
use dimse_std::{DirectoryStore, Error, Scp, Scu, ServerHandle};
use dimse_tests::temp_dir;

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";

fn start(dir: &std::path::Path) -> ServerHandle {
    let store = DirectoryStore::new(dir).unwrap();
    Scp::new(DirectoryStore::policy("LOOPBACK"), store)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap()
}

fn entity(server: &ServerHandle, aet: &str) -> Entity {
    Entity::local(aet, server.local_addr().port())
}

/// A small explicit VR LE data set holding SOP Class/Instance UIDs and `len` bytes of OB.
fn data_set(instance: &str, len: usize) -> Vec<u8> {
    let mut d = Vec::new();
    let mut element = |g: u16, e: u16, vr: &[u8; 2], value: &[u8]| {
        d.extend_from_slice(&g.to_le_bytes());
        d.extend_from_slice(&e.to_le_bytes());
        d.extend_from_slice(vr);
        if vr == b"OB" {
            d.extend_from_slice(&[0, 0]);
            d.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            d.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        d.extend_from_slice(value);
    };
    let pad = |s: &str| {
        let mut v = s.as_bytes().to_vec();
        if v.len() % 2 == 1 {
            v.push(0);
        }
        v
    };
    element(0x0008, 0x0016, b"UI", &pad(CT));
    element(0x0008, 0x0018, b"UI", &pad(instance));
    let blob: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    element(0x0009, 0x1010, b"OB", &blob);
    d
}

#[test]
fn echo_store_release_lands_a_part10_file() {
    let tmp = temp_dir("std_loopback_store");
    let server = start(tmp.path());
    let scu = Scu::new("SCU");
    assert!(scu.echo(&entity(&server, "LOOPBACK")).unwrap().is_success());

    // Big enough to cross many PDUs and several 1 MiB send chunks.
    let data = data_set("1.2.3.4.5", 3 * 1024 * 1024 + 10);
    let ctx = ProposedContext::new(CT, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = scu
        .associate(&entity(&server, "LOOPBACK"), vec![ctx])
        .unwrap();
    let rsp = assoc
        .store(CT, "1.2.3.4.5", uid::EXPLICIT_VR_LE, &data[..])
        .unwrap();
    assert!(rsp.status.is_success(), "{}", rsp.status);
    assoc.release().unwrap();

    let stored = std::fs::read(tmp.path().join("1.2.3.4.5.dcm")).unwrap();
    let (meta, offset) = FileMeta::parse_file(&stored).unwrap();
    assert_eq!(meta.media_storage_sop_class_uid, CT);
    assert_eq!(meta.media_storage_sop_instance_uid, "1.2.3.4.5");
    assert_eq!(meta.transfer_syntax_uid, uid::EXPLICIT_VR_LE);
    assert_eq!(meta.sending_ae_title.as_deref(), Some("SCU"));
    assert_eq!(&stored[offset..], &data[..]);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    server.stop();
}

#[test]
fn wrong_called_ae_is_rejected_with_1_1_7() {
    let tmp = temp_dir("std_loopback_reject");
    let server = start(tmp.path());
    match Scu::new("SCU").echo(&entity(&server, "SOMEONE_ELSE")) {
        Err(Error::Rejected(rj)) => {
            assert!(rj.is_permanent());
            assert_eq!(rj.reason(), RejectReason::CalledAeNotRecognized);
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    server.stop();
}

#[test]
fn unaccepted_context_is_a_clear_error_not_a_send() {
    let tmp = temp_dir("std_loopback_nocontext");
    let server = start(tmp.path());
    let ctx = ProposedContext::new(CT, &["1.2.3.999"]);
    let mut assoc = Scu::new("SCU")
        .associate(&entity(&server, "LOOPBACK"), vec![ctx])
        .unwrap();
    let err = assoc.store(CT, "1.2.3", "1.2.3.999", &[][..]).unwrap_err();
    assert!(matches!(err, Error::NoContext { .. }), "{err}");
    assoc.release().unwrap();
    server.stop();
}

#[test]
fn garbage_and_silent_peers_do_not_stop_the_server() {
    let tmp = temp_dir("std_loopback_garbage");
    let server = start(tmp.path());
    let addr = server.local_addr();

    // An unknown PDU type before the association request: Evt19 in Sta2, AA-1, an A-ABORT.
    let mut garbage = TcpStream::connect(addr).unwrap();
    garbage.write_all(&[0x55, 0, 0, 0, 0, 2, 1, 2]).unwrap();
    garbage
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // PS3.8 keeps the connection open in Sta13 until the peer closes or ARTIM fires: read the
    // PDU only.
    let mut reply = [0u8; 10];
    garbage.read_exact(&mut reply).unwrap();
    assert_eq!(reply[0], 0x07, "expected an A-ABORT, got {reply:?}");

    // A peer that connects and says nothing holds only its own thread.
    let _silent = TcpStream::connect(addr).unwrap();
    let status = Scu::new("SCU").echo(&entity(&server, "LOOPBACK")).unwrap();
    assert!(status.is_success());
    server.stop();
}
