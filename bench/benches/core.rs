//! Micro-benchmarks of the sans-IO core: PDU codec, P-DATA fragmentation and reassembly,
//! command set codec, data set decoding. `cargo bench -p dimse-bench`.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dimse_bench::{carry, pair, STORE_CTX};
use dimse_core::assoc::{Event, Proposal, ProposedContext};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{CStoreRq, CommandSet, DimseMessage, Priority};
use dimse_core::pdu::{self, Limits, PData, Pdu, Pdv};
use dimse_core::uid::{self, TransferSyntax};

fn pdu_codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("pdu");
    let pdata = Pdu::PData(PData {
        pdvs: vec![Pdv {
            context_id: 1,
            control: 0,
            data: Bytes::from(vec![0x5A; 16 * 1024]),
        }],
    });
    let mut encoded = BytesMut::new();
    pdu::encode(&pdata, &mut encoded);
    g.throughput(Throughput::Bytes(encoded.len() as u64));
    g.bench_function("decode P-DATA-TF 16 KiB", |b| {
        b.iter_batched(
            || encoded.clone(),
            |mut buf| pdu::decode(&mut buf, &Limits::default()).unwrap().unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("encode P-DATA-TF 16 KiB", |b| {
        let mut out = BytesMut::with_capacity(encoded.len());
        b.iter(|| {
            out.clear();
            pdu::encode(&pdata, &mut out);
        })
    });
    let mut proposal = Proposal::new("SCU", "SCP");
    for class in uid::common_storage_sop_classes().take(60) {
        proposal.contexts.push(ProposedContext::new(
            class,
            &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
        ));
    }
    let rq = Pdu::AssociateRq(proposal.to_request());
    let mut rq_bytes = BytesMut::new();
    pdu::encode(&rq, &mut rq_bytes);
    g.throughput(Throughput::Bytes(rq_bytes.len() as u64));
    g.bench_function("decode A-ASSOCIATE-RQ 60 contexts", |b| {
        b.iter_batched(
            || rq_bytes.clone(),
            |mut buf| pdu::decode(&mut buf, &Limits::default()).unwrap().unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// One C-STORE of `size` bytes through an established pair: the requestor fragments, the
/// acceptor decodes every PDU and hands out the data PDVs.
fn transfer(c: &mut Criterion) {
    const SIZE: usize = 4 * 1024 * 1024;
    let data = Bytes::from(vec![0xA5; SIZE]);
    let command = CStoreRq::new(1, uid::CT_IMAGE_STORAGE, "1.2.3.4", Priority::Medium).to_command();
    let mut g = c.benchmark_group("pdata");
    g.throughput(Throughput::Bytes(SIZE as u64));
    for max_pdu in [16 * 1024, 1024 * 1024] {
        g.bench_function(
            format!("C-STORE 4 MiB, max PDU {} KiB", max_pdu / 1024),
            |b| {
                let (mut rq, mut ac, now) = pair(max_pdu);
                b.iter(|| {
                    rq.send_command(now, STORE_CTX, &command).unwrap();
                    for (i, chunk) in data.chunks(1024 * 1024).enumerate() {
                        let last = (i + 1) * 1024 * 1024 >= SIZE;
                        rq.send_data(now, STORE_CTX, data.slice_ref(chunk), last)
                            .unwrap();
                        carry(&mut rq, &mut ac, now);
                    }
                    let mut received = 0;
                    while let Some(e) = ac.poll_event() {
                        if let Event::Data { data, .. } = e {
                            received += data.len();
                        }
                    }
                    assert_eq!(received, SIZE);
                })
            },
        );
    }
    g.finish();
}

fn command_set(c: &mut Criterion) {
    let rq = CStoreRq::new(
        7,
        uid::CT_IMAGE_STORAGE,
        "1.2.826.0.1.3680043.9.1234.1.2.3.4.5",
        Priority::Medium,
    );
    let bytes = rq.to_command().to_bytes();
    let mut g = c.benchmark_group("command");
    g.bench_function("encode C-STORE-RQ", |b| {
        b.iter(|| rq.to_command().to_bytes())
    });
    g.bench_function("decode C-STORE-RQ", |b| {
        b.iter(|| CStoreRq::from_command(&CommandSet::decode(&bytes).unwrap()).unwrap())
    });
    g.finish();
}

fn data_set(c: &mut Criterion) {
    let mut ds = DataSet::new();
    for (kw, v) in [
        ("PatientName", "DOE^JOHN"),
        ("PatientID", "123456"),
        ("PatientBirthDate", "19700101"),
        ("StudyInstanceUID", "1.2.826.0.1.3680043.9.1234.1"),
        ("SeriesInstanceUID", "1.2.826.0.1.3680043.9.1234.1.1"),
        ("SOPInstanceUID", "1.2.826.0.1.3680043.9.1234.1.1.1"),
        ("SOPClassUID", uid::CT_IMAGE_STORAGE),
        ("StudyDate", "20240101"),
        ("Modality", "CT"),
        ("StudyDescription", "CT HEAD WITHOUT CONTRAST"),
        ("SeriesDescription", "AXIAL 5MM"),
        ("InstanceNumber", "42"),
    ] {
        ds = ds.with(kw, v).unwrap();
    }
    let ts = TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
    let mut encoded = BytesMut::new();
    ds.encode(&ts, &mut encoded);
    let encoded = encoded.freeze();
    let mut g = c.benchmark_group("dataset");
    g.throughput(Throughput::Bytes(encoded.len() as u64));
    g.bench_function("decode 12-attribute identifier", |b| {
        b.iter(|| DataSet::decode(encoded.clone(), &ts).unwrap())
    });
    g.bench_function("encode 12-attribute identifier", |b| {
        let mut out = BytesMut::new();
        b.iter(|| {
            out.clear();
            ds.encode(&ts, &mut out);
        })
    });
    g.finish();
}

criterion_group!(benches, pdu_codec, transfer, command_set, data_set);
criterion_main!(benches);
