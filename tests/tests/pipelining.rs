//! A peer that pipelines a 256 MiB C-STORE behind a slow C-FIND: the SCP holds at most its
//! read-ahead bound (32 MiB) of the pipelined data set while the C-FIND runs, lets TCP flow
//! control hold the rest back, then serves the C-STORE whole. Memory is this process's peak
//! resident size, so this file holds one test.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use dimse_conformance::{Observed, RawPeer};
use dimse_core::assoc::{AcceptorPolicy, Proposal, ProposedContext, SupportedSyntax};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{
    CFindRq, CFindRsp, CStoreRq, CStoreRsp, CommandSet, DimseMessage, Priority, Status,
};
use dimse_core::pdu::{self, PData, Pdu, Pdv};
use dimse_core::uid::{self, TransferSyntax};
use dimse_std::{FindRequest, Handler, Matches, Peer, Scp, StoreRequest, StoreSink};

const MATCHES: usize = 2000;
const PIPELINED: u64 = 256 << 20;
const CHUNK: usize = 64 * 1024;

struct Slow {
    stored: Arc<AtomicU64>,
}

struct Count(Arc<AtomicU64>);

impl StoreSink for Count {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.0.fetch_add(data.len() as u64, Ordering::SeqCst);
        Ok(())
    }
    fn finish(self: Box<Self>) -> Status {
        Status::SUCCESS
    }
    fn discard(self: Box<Self>) {}
}

impl Handler for Slow {
    fn find(&self, _: &Peer, _: &FindRequest) -> Result<Matches, Status> {
        Ok(Box::new((0..MATCHES).map(|i| {
            // A slow index: the pipelined data set arrives meanwhile.
            std::thread::sleep(Duration::from_millis(2));
            let mut ds = DataSet::new();
            ds.set_str(dimse_core::dataset::Tag(0x0008, 0x0052), "STUDY")
                .unwrap();
            ds.set_uid(
                dimse_core::dataset::Tag(0x0020, 0x000D),
                &format!("1.2.3.{i}"),
            )
            .unwrap();
            Ok(ds)
        })))
    }

    fn store(&self, _: &Peer, _: &StoreRequest) -> Result<Box<dyn StoreSink>, Status> {
        Ok(Box::new(Count(self.stored.clone())))
    }
}

fn pdu_bytes(context_id: u8, control: u8, data: bytes::Bytes) -> Vec<u8> {
    let mut out = BytesMut::new();
    pdu::encode(
        &Pdu::PData(PData {
            pdvs: vec![Pdv {
                context_id,
                control,
                data,
            }],
        }),
        &mut out,
    );
    out.to_vec()
}

fn command(context_id: u8, command: &CommandSet) -> Vec<u8> {
    pdu_bytes(context_id, Pdv::COMMAND | Pdv::LAST, command.to_bytes())
}

#[test]
fn pipelined_data_set_behind_a_slow_find_is_held_back_not_buffered() {
    let stored = Arc::new(AtomicU64::new(0));
    let mut policy = AcceptorPolicy::new("SLOW");
    policy.async_window = (16, 16);
    policy.supported.push(SupportedSyntax::uid(
        uid::STUDY_ROOT_QR_FIND,
        &[uid::EXPLICIT_VR_LE],
    ));
    policy.supported.push(SupportedSyntax::uid(
        uid::CT_IMAGE_STORAGE,
        &[uid::EXPLICIT_VR_LE],
    ));
    let server = Scp::new(
        policy,
        Slow {
            stored: stored.clone(),
        },
    )
    .bind("127.0.0.1:0")
    .unwrap()
    .spawn()
    .unwrap();
    let before = dimse_tests::peak_rss_kib_of("self");

    let stream = TcpStream::connect(server.local_addr()).unwrap();
    let mut peer = RawPeer::from_stream(stream.try_clone().unwrap());
    let mut proposal = Proposal::new("PIPELINER", "SLOW");
    proposal.async_window = Some((16, 16));
    proposal.contexts = vec![
        ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &[uid::EXPLICIT_VR_LE]),
        ProposedContext::new(uid::CT_IMAGE_STORAGE, &[uid::EXPLICIT_VR_LE]),
    ];
    peer.send_pdu(&Pdu::AssociateRq(proposal.to_request()))
        .unwrap();
    let wait = Duration::from_secs(30);
    assert!(matches!(
        peer.expect_pdu(wait).unwrap(),
        Observed::Pdu(Pdu::AssociateAc(_))
    ));

    // The C-FIND, then at once a C-STORE of 256 MiB, from another thread: it blocks whenever
    // the SCP stops reading.
    let mut identifier = BytesMut::new();
    DataSet::new()
        .with("QueryRetrieveLevel", "STUDY")
        .unwrap()
        .with_empty("StudyInstanceUID")
        .unwrap()
        .encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut identifier);
    let mut writer = stream;
    let sender = std::thread::spawn(move || {
        let find = CFindRq::new(1, uid::STUDY_ROOT_QR_FIND, Priority::Medium);
        writer.write_all(&command(1, &find.to_command())).unwrap();
        writer
            .write_all(&pdu_bytes(1, Pdv::LAST, identifier.freeze()))
            .unwrap();
        let store = CStoreRq::new(2, uid::CT_IMAGE_STORAGE, "1.2.3.99", Priority::Medium);
        writer.write_all(&command(3, &store.to_command())).unwrap();
        let chunk = bytes::Bytes::from(vec![0u8; CHUNK]);
        let n = PIPELINED as usize / CHUNK;
        for i in 0..n {
            let control = if i + 1 == n { Pdv::LAST } else { 0 };
            writer
                .write_all(&pdu_bytes(3, control, chunk.clone()))
                .unwrap();
        }
    });

    let (mut pending, mut find_done, mut store_done) = (0, false, false);
    let mut command_bytes = BytesMut::new();
    while !(find_done && store_done) {
        let Observed::Pdu(Pdu::PData(d)) = peer.expect_pdu(wait).unwrap() else {
            panic!("the association ended early");
        };
        for pdv in d.pdvs {
            if !pdv.is_command() {
                continue; // a match's identifier
            }
            command_bytes.extend_from_slice(&pdv.data);
            if !pdv.is_last() {
                continue;
            }
            let cmd = CommandSet::decode(&command_bytes).unwrap();
            command_bytes.clear();
            if let Ok(rsp) = CFindRsp::from_command(&cmd) {
                if rsp.status.is_pending() {
                    pending += 1;
                } else {
                    assert!(rsp.status.is_success(), "{rsp:?}");
                    find_done = true;
                }
            } else {
                let rsp = CStoreRsp::from_command(&cmd).unwrap();
                assert!(rsp.status.is_success(), "{rsp:?}");
                store_done = true;
            }
        }
    }
    sender.join().unwrap();
    assert_eq!(pending, MATCHES);
    assert_eq!(stored.load(Ordering::SeqCst), PIPELINED);
    let grew = dimse_tests::peak_rss_kib_of("self").saturating_sub(before);
    eprintln!(
        "peak resident memory grew by {:.1} MiB while 256 MiB were pipelined",
        grew as f64 / 1024.0
    );
    assert!(grew < 96 * 1024, "grew by {grew} KiB");
    server.stop();
}
