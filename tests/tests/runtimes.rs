//! The same scenarios on every runtime: dimse-std, dimse-tokio, dimse-smol, and dimse-smol
//! driven from async-std's executor. Each scenario is written once, generic over the driver's
//! [`Runtime`], and run by each runtime's own executor ([`Flavor`]):
//!
//! - the conformance suite's SCP-facing scenarios against the runtime's SCP;
//! - the runtime's SCU against DCMTK: C-ECHO and C-STORE to `storescp`, the QueryBuilder walk,
//!   C-MOVE and C-GET against `dcmqrscp`;
//! - the runtime's SCP (the archive as handler) for DCMTK's `echoscu`, `storescu`, `findscu`,
//!   `movescu` and `getscu`;
//! - 64 concurrent `storescu` processes against `dimse serve --runtime R`, with a peer that
//!   connects and says nothing holding a connection open all along.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use dimse_archive::{Archive as ArchiveHandler, Config};
use dimse_conformance::{
    expected_failures, report, run_all, run_scu_all, Target, SCENARIOS, SCU_SCENARIOS,
};
use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::Status;
use dimse_core::query::QueryModel;
use dimse_core::{uid, Entity};
use dimse_driver::{
    store_contexts, AsyncHandler, BoxFuture, ClientTls, DirectoryStore, Handler, QueryBuilder,
    Runtime, Scu, ServerTls, StoreFile,
};
use dimse_tests::qr::*;
use dimse_tests::*;

const SCP_AET: &str = "RT-SCP";
const DEST_AET: &str = "RT-DEST";
const RETRIEVE_TIMEOUT: Duration = Duration::from_secs(60);

/// A runtime as a test sees it: how to run a future, and how to serve an SCP in the
/// background on 127.0.0.1.
trait Flavor {
    /// Its name in `conformance/expected-failures.txt`.
    const NAME: &'static str;
    type R: Runtime;
    fn block_on<F: Future>(future: F) -> F::Output;
    /// Serve `scp` on a free port until the returned guard is dropped.
    fn serve(scp: dimse_driver::Scp) -> Serving;
    /// Serve `scp` on a free port; the closure shuts it down.
    fn serve_handle(scp: dimse_driver::Scp) -> (SocketAddr, Shutdown);
}

/// A background SCP: its address, and whatever keeps it running.
struct Serving {
    addr: SocketAddr,
    _keep: Box<dyn std::any::Any>,
}

/// Shut a served SCP down gracefully (`ServerHandle::shutdown`) within a grace period.
type Shutdown = Box<dyn FnOnce(Duration) + Send>;

struct Std;
impl Flavor for Std {
    const NAME: &'static str = "std";
    type R = dimse_std::Blocking;
    fn block_on<F: Future>(future: F) -> F::Output {
        dimse_std::block_on(future)
    }
    fn serve(scp: dimse_driver::Scp) -> Serving {
        let server = dimse_std::Scp::from(scp).bind("127.0.0.1:0").unwrap();
        let handle = server.spawn().unwrap();
        Serving {
            addr: handle.local_addr(),
            _keep: Box::new(StopOnDrop(Some(handle))),
        }
    }
    fn serve_handle(scp: dimse_driver::Scp) -> (SocketAddr, Shutdown) {
        let handle = dimse_std::Scp::from(scp)
            .bind("127.0.0.1:0")
            .unwrap()
            .spawn()
            .unwrap();
        (
            handle.local_addr(),
            Box::new(move |grace| handle.shutdown(grace)),
        )
    }
}

struct StopOnDrop(Option<dimse_std::ServerHandle>);
impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.stop();
        }
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

struct Tokio;
impl Flavor for Tokio {
    const NAME: &'static str = "tokio";
    type R = dimse_tokio::Tokio;
    fn block_on<F: Future>(future: F) -> F::Output {
        tokio_runtime().block_on(future)
    }
    fn serve(scp: dimse_driver::Scp) -> Serving {
        // The runtime lives in the guard: dropping it ends the server and its tasks.
        let rt = tokio_runtime();
        let server = rt
            .block_on(dimse_tokio::Scp::from(scp).bind("127.0.0.1:0"))
            .unwrap();
        let addr = server.local_addr();
        rt.spawn(server.run());
        Serving {
            addr,
            _keep: Box::new(rt),
        }
    }
    fn serve_handle(scp: dimse_driver::Scp) -> (SocketAddr, Shutdown) {
        let rt = tokio_runtime();
        let handle = rt.block_on(async {
            let server = dimse_tokio::Scp::from(scp)
                .bind("127.0.0.1:0")
                .await
                .unwrap();
            server.spawn().unwrap()
        });
        let addr = handle.local_addr();
        (
            addr,
            Box::new(move |grace| rt.block_on(handle.shutdown(grace))),
        )
    }
}

struct Smol;
impl Flavor for Smol {
    const NAME: &'static str = "smol";
    type R = dimse_smol::Smol;
    fn block_on<F: Future>(future: F) -> F::Output {
        smol::block_on(future)
    }
    fn serve(scp: dimse_driver::Scp) -> Serving {
        let server = smol::block_on(dimse_smol::Scp::from(scp).bind("127.0.0.1:0")).unwrap();
        let addr = server.local_addr();
        // Dropping the task cancels the accept loop.
        Serving {
            addr,
            _keep: Box::new(smol::spawn(server.run())),
        }
    }
    fn serve_handle(scp: dimse_driver::Scp) -> (SocketAddr, Shutdown) {
        let server = smol::block_on(dimse_smol::Scp::from(scp).bind("127.0.0.1:0")).unwrap();
        let handle = server.spawn().unwrap();
        let addr = handle.local_addr();
        (
            addr,
            Box::new(move |grace| smol::block_on(handle.shutdown(grace))),
        )
    }
}

/// dimse-smol with every future awaited from async-std's executor: the accept loop is an
/// async-std task, the SCU runs inside `async_std::task::block_on`.
struct AsyncStd;
impl Flavor for AsyncStd {
    const NAME: &'static str = "async-std";
    type R = dimse_smol::Smol;
    fn block_on<F: Future>(future: F) -> F::Output {
        async_std::task::block_on(future)
    }
    fn serve(scp: dimse_driver::Scp) -> Serving {
        let server =
            async_std::task::block_on(dimse_smol::Scp::from(scp).bind("127.0.0.1:0")).unwrap();
        let addr = server.local_addr();
        let task = async_std::task::spawn(server.run());
        Serving {
            addr,
            _keep: Box::new(CancelOnDrop(Some(task))),
        }
    }
    fn serve_handle(scp: dimse_driver::Scp) -> (SocketAddr, Shutdown) {
        let server =
            async_std::task::block_on(dimse_smol::Scp::from(scp).bind("127.0.0.1:0")).unwrap();
        let handle = server.spawn().unwrap();
        let addr = handle.local_addr();
        (
            addr,
            Box::new(move |grace| async_std::task::block_on(handle.shutdown(grace))),
        )
    }
}

struct CancelOnDrop(Option<async_std::task::JoinHandle<()>>);
impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            async_std::task::block_on(t.cancel());
        }
    }
}

/// One `#[test]` per flavor for each generic scenario.
macro_rules! on_every_runtime {
    ($($scenario:ident),* $(,)?) => {
        $(mod $scenario {
            #[test]
            fn std() {
                super::$scenario::<super::Std>();
            }
            #[test]
            fn tokio() {
                super::$scenario::<super::Tokio>();
            }
            #[test]
            fn smol() {
                super::$scenario::<super::Smol>();
            }
            #[test]
            fn async_std() {
                super::$scenario::<super::AsyncStd>();
            }
        })*
    };
}

on_every_runtime!(
    artim,
    async_handler,
    graceful_shutdown,
    conformance,
    scu_conformance,
    scu_against_dcmtk,
    scp_for_dcmtk,
    tls
);

// ---------------------------------------------------------------------------
// Conformance
// ---------------------------------------------------------------------------

struct EchoOnly;
impl Handler for EchoOnly {}

/// Every SCP-facing scenario passes but those `expected-failures.txt` lists (none today).
fn conformance<F: Flavor>() {
    let mut policy = AcceptorPolicy::new("CONFORM-SCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE, uid::EXPLICIT_VR_LE],
    ));
    let serving = F::serve(dimse_driver::Scp::new(policy, EchoOnly));
    let target = Target::new("127.0.0.1", serving.addr.port(), "CONFORM", "CONFORM-SCP");
    let outcomes = run_all(&target);
    let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    let want: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
    assert_eq!(names, want);
    assert_failures_expected::<F>(&outcomes);
}

/// The scenarios that failed are exactly those `conformance/expected-failures.txt` lists for
/// this runtime.
fn assert_failures_expected<F: Flavor>(outcomes: &[dimse_conformance::Outcome]) {
    let text = report(outcomes);
    println!("{text}");
    let failed: BTreeSet<&str> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| o.name.as_str())
        .collect();
    let expected = expected_failures(F::NAME);
    let listed: BTreeSet<&str> = expected.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        failed,
        listed,
        "{}: failures differ from expected-failures.txt\n{text}",
        F::NAME
    );
}

/// Every SCU-facing scenario passes with the runtime's SCU, bar the listed expected failures.
fn scu_conformance<F: Flavor>() {
    let outcomes = F::block_on(run_scu_all::<F::R>());
    let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, SCU_SCENARIOS);
    assert_failures_expected::<F>(&outcomes);
}

// ---------------------------------------------------------------------------
// ARTIM
// ---------------------------------------------------------------------------

/// PS3.8 ARTIM on the acceptor: a connection that never sends its A-ASSOCIATE-RQ is closed
/// when the timer expires (Sta2 + Evt18: AA-2), here set to 500 ms, while another peer is
/// served meanwhile.
fn artim<F: Flavor>() {
    let mut policy = AcceptorPolicy::new("ARTIM-SCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    let mut scp = dimse_driver::Scp::new(policy, EchoOnly);
    scp.config.artim_timeout = Duration::from_millis(500);
    let serving = F::serve(scp);
    let started = Instant::now();
    let mut silent =
        dimse_conformance::RawPeer::connect(LOCALHOST, serving.addr.port(), Duration::from_secs(5))
            .unwrap();
    let entity = Entity::new("ARTIM-SCP", LOCALHOST, serving.addr.port());
    let status = F::block_on(Scu::<F::R>::new("OTHER").echo(&entity)).unwrap();
    assert!(status.is_success());
    let seen = silent.expect_pdu(Duration::from_secs(10)).unwrap();
    let after = started.elapsed();
    assert!(seen.is_closed(), "{seen}");
    assert!(
        after >= Duration::from_millis(500) && after < Duration::from_secs(8),
        "closed after {after:?}"
    );
}

// ---------------------------------------------------------------------------
// Async handlers
// ---------------------------------------------------------------------------

/// Pending once, then ready: a stand-in for a handler that awaits something.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

const PRINTER: &str = "1.2.840.10008.5.1.1.16";

struct Awaiting;
impl AsyncHandler for Awaiting {
    fn echo<'a>(&'a self, peer: &'a dimse_driver::Peer) -> BoxFuture<'a, Status> {
        Box::pin(async move {
            yield_once().await;
            if peer.calling_ae == "KNOWN" {
                Status::SUCCESS
            } else {
                Status::NOT_AUTHORIZED
            }
        })
    }

    fn n_service<'a>(
        &'a self,
        _peer: &'a dimse_driver::Peer,
        _request: &'a dimse_driver::NRequest,
    ) -> BoxFuture<'a, dimse_driver::NResponse> {
        Box::pin(async {
            yield_once().await;
            panic!("a handler bug, after an await");
        })
    }
}

/// An `AsyncHandler` whose answers come after an await: C-ECHO answers by caller, and a
/// handler that panics after awaiting is answered with 0x0110 (processing failure) while the
/// association goes on.
fn async_handler<F: Flavor>() {
    let mut policy = AcceptorPolicy::new("ASYNC-SCP");
    policy.require_called_ae = false;
    for class in [uid::VERIFICATION, PRINTER] {
        policy
            .supported
            .push(SupportedSyntax::uid(class, &[uid::IMPLICIT_VR_LE]));
    }
    let serving = F::serve(dimse_driver::Scp::new(policy, Awaiting));
    let scp = Entity::new("ASYNC-SCP", LOCALHOST, serving.addr.port());
    let contexts = || {
        [uid::VERIFICATION, PRINTER]
            .iter()
            .map(|c| dimse_core::assoc::ProposedContext::new(c, &[uid::IMPLICIT_VR_LE]))
            .collect::<Vec<_>>()
    };
    F::block_on(async {
        let known = Scu::<F::R>::new("KNOWN");
        assert_eq!(known.echo(&scp).await.unwrap(), Status::SUCCESS);
        let other = Scu::<F::R>::new("OTHER");
        let mut assoc = other.associate(&scp, contexts()).await.unwrap();
        assert_eq!(assoc.echo().await.unwrap(), Status::NOT_AUTHORIZED);
        let (rsp, _) = assoc.n_get(PRINTER, "1.2.3", &[]).await.unwrap();
        assert_eq!(rsp.status, Status::PROCESSING_FAILURE);
        assert_eq!(assoc.echo().await.unwrap(), Status::NOT_AUTHORIZED);
        assoc.release().await.unwrap();
    });
}

// ---------------------------------------------------------------------------
// Graceful shutdown
// ---------------------------------------------------------------------------

/// `ServerHandle::shutdown(grace)`: an association in progress may finish its work within
/// the grace period (a C-ECHO and a release after shutdown began both succeed); one that
/// idles past it is ended (A-ABORT on the async runtimes, a closed connection on std); the
/// port then refuses connections.
fn graceful_shutdown<F: Flavor>() {
    let mut policy = AcceptorPolicy::new("SHUT-SCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    let (addr, shutdown) = F::serve_handle(dimse_driver::Scp::new(policy, EchoOnly));
    let scp = Entity::new("SHUT-SCP", LOCALHOST, addr.port());
    let contexts = || {
        vec![dimse_core::assoc::ProposedContext::new(
            uid::VERIFICATION,
            &[uid::IMPLICIT_VR_LE],
        )]
    };
    let scu = dimse_std::Scu::new("SHUT-SCU");
    let mut working = scu.associate(&scp, contexts()).unwrap();
    let mut idle =
        dimse_conformance::RawPeer::connect(LOCALHOST, addr.port(), Duration::from_secs(5))
            .unwrap();
    let mut rq = dimse_core::assoc::Proposal::new("IDLE", "SHUT-SCP");
    rq.contexts = contexts();
    idle.send_pdu(&dimse_core::pdu::Pdu::AssociateRq(rq.to_request()))
        .unwrap();
    let ac = idle.expect_pdu(Duration::from_secs(10)).unwrap();
    assert!(
        matches!(
            ac,
            dimse_conformance::Observed::Pdu(dimse_core::pdu::Pdu::AssociateAc(_))
        ),
        "{ac}"
    );

    let grace = Duration::from_secs(2);
    let started = Instant::now();
    let stopping = std::thread::spawn(move || shutdown(grace));
    // Within the grace period the working association still does its work.
    std::thread::sleep(Duration::from_millis(200));
    assert!(working.echo().unwrap().is_success());
    working.release().unwrap();
    // The idle one is ended once the grace period is over.
    let end = idle.expect_pdu(grace + Duration::from_secs(10)).unwrap();
    let waited = started.elapsed();
    match F::NAME {
        "std" => assert!(end.is_closed(), "{end}"),
        _ => assert!(
            matches!(
                end,
                dimse_conformance::Observed::Pdu(dimse_core::pdu::Pdu::Abort(_))
            ),
            "{end}"
        ),
    }
    assert!(
        waited >= grace,
        "ended after {waited:?}, before the grace period"
    );
    stopping.join().unwrap();
    assert!(started.elapsed() < grace + Duration::from_secs(8));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting after shutdown"
    );
}

// ---------------------------------------------------------------------------
// SCU against DCMTK
// ---------------------------------------------------------------------------

/// The runtime's SCU: C-ECHO and C-STORE (one association, every file of the first batch of
/// valid corpus files) to DCMTK storescp, each file arriving element-identical; then against
/// dcmqrscp the QueryBuilder walk finds every instance, a C-MOVE of the biggest uncompressed
/// study delivers it to storescp, and a C-GET brings it into a directory.
fn scu_against_dcmtk<F: Flavor>() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dcmqrscp = require_peer!(Peer::Dcmtk("dcmqrscp"));
    let dcmqridx = require_peer!(Peer::Dcmtk("dcmqridx"));
    require_peer!(Peer::Dcmtk("dcmdump"));

    let dest_port = free_port();
    let dest_dir = temp_dir("runtimes_scu_dest");
    let mut dest = start_dcmtk_storescp(&storescp, dest_port, DEST_AET, dest_dir.path());
    let storescp_entity = Entity::new(DEST_AET, LOCALHOST, dest_port);
    let batch = batches_with_unique_instances(&valid_corpus_files())
        .into_iter()
        .next()
        .unwrap();
    let files: Vec<StoreFile> = batch
        .iter()
        .map(|r| StoreFile::open(&r.path()).unwrap())
        .collect();

    let scu = Scu::<F::R>::new("RT-SCU");
    F::block_on(async {
        let status = scu.echo(&storescp_entity).await.unwrap();
        assert!(status.is_success(), "{status:?}");
        let (_, contexts) = store_contexts(&files, Default::default());
        let mut assoc = scu.associate(&storescp_entity, contexts).await.unwrap();
        for f in &files {
            let outcome = assoc.store_file_converting(f).await.unwrap();
            assert!(
                outcome.response.status.is_success(),
                "{}: {:?}",
                f.path.display(),
                outcome.response.status
            );
        }
        assoc.release().await.unwrap();
    });
    for row in &batch {
        eventually(Duration::from_secs(20), || {
            check_received_elements(row, dest_dir.path())
        });
    }

    let qr = start_dcmqrscp_with(&dcmqrscp, &dcmqridx, &qr_corpus(), &[(DEST_AET, dest_port)]);
    let pacs = Entity::new(qr.aet, LOCALHOST, qr.port);
    let (study, instances) = qr.archive.biggest_uncompressed_study();
    let get_dir = temp_dir("runtimes_scu_get");
    F::block_on(async {
        let q = QueryBuilder::new(&scu, &pacs);
        let studies = q.studies("").await.unwrap();
        let series = q.series(&studies).await.unwrap();
        let images = q.images(&series).await.unwrap();
        let walked: BTreeSet<_> = images
            .iter()
            .map(|i| {
                (
                    i.study_instance_uid.clone(),
                    i.series_instance_uid.clone(),
                    i.sop_instance_uid.clone(),
                )
            })
            .collect();
        assert_eq!(walked, qr.archive.instance_triples());

        let identifier = study_identifier(&study);
        let contexts = vec![dimse_core::assoc::ProposedContext::new(
            uid::STUDY_ROOT_QR_MOVE,
            &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
        )];
        let mut assoc = scu.associate(&pacs, contexts).await.unwrap();
        let moved = assoc
            .move_to(QueryModel::StudyRoot, &identifier, DEST_AET, |_| true)
            .await
            .unwrap();
        assert!(moved.status.is_success(), "C-MOVE: {moved:?}");
        assoc.release().await.unwrap();

        let store = DirectoryStore::new(get_dir.path()).unwrap();
        let contexts = Scu::<F::R>::get_contexts(QueryModel::StudyRoot, None, &[]);
        let mut assoc = scu.associate(&pacs, contexts).await.unwrap();
        let got = assoc
            .get(QueryModel::StudyRoot, &identifier, &store, |_| true)
            .await
            .unwrap();
        assert!(got.status.is_success(), "C-GET: {got:?}");
        assert_eq!(got.sub_operations.completed, Some(instances.len() as u16));
        assoc.release().await.unwrap();
    });
    for uid in &instances {
        eventually(Duration::from_secs(20), || {
            let moved = find_by_sop_instance(dest_dir.path(), uid);
            let got = find_by_sop_instance(get_dir.path(), uid);
            if moved.is_empty() || got.is_empty() {
                Err(format!("{uid}: moved {moved:?}, got {got:?}"))
            } else {
                Ok(())
            }
        });
    }
    dest.assert_running();
}

fn study_identifier(study: &str) -> DataSet {
    let mut ds = DataSet::new();
    ds.set_str(Tag(0x0008, 0x0052), "STUDY").unwrap();
    ds.set_str(Tag(0x0020, 0x000D), study).unwrap();
    ds
}

// ---------------------------------------------------------------------------
// SCP for DCMTK
// ---------------------------------------------------------------------------

/// The runtime's SCP with the archive as handler: DCMTK echoscu succeeds; storescu stores
/// every corpus instance of the Q/R set; findscu finds every study; movescu sends a study to a
/// DCMTK storescp; getscu retrieves it.
fn scp_for_dcmtk<F: Flavor>() {
    let echoscu = require_peer!(Peer::Dcmtk("echoscu"));
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let movescu = require_peer!(Peer::Dcmtk("movescu"));
    let getscu = require_peer!(Peer::Dcmtk("getscu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dcmdump = require_peer!(Peer::Dcmtk("dcmdump"));

    let dest_port = free_port();
    let dest_dir = temp_dir("runtimes_scp_dest");
    let mut dest = start_dcmtk_storescp(&storescp, dest_port, DEST_AET, dest_dir.path());
    let archive_dir = temp_dir("runtimes_scp_archive");
    let handler = ArchiveHandler::open(archive_dir.path(), Config::new(SCP_AET)).unwrap();
    let policy = handler.policy();
    let scp = dimse_driver::Scp::new(policy, handler)
        .with_destination(Entity::new(DEST_AET, LOCALHOST, dest_port));
    let serving = F::serve(scp);
    let port = serving.addr.port().to_string();

    let out = run(
        echoscu
            .command()
            .args(["-v", "-aet", "ECHOSCU", "-aec", SCP_AET, LOCALHOST, &port]),
        CLIENT_TIMEOUT,
    );
    out.assert_success("echoscu");

    let rows = qr_corpus();
    for row in &rows {
        let mut cmd = storescu.command();
        cmd.args(dcmtk_storescu_args(
            row,
            "STORESCU",
            SCP_AET,
            serving.addr.port(),
        ));
        let out = run(cmd, CLIENT_TIMEOUT);
        assert!(
            out.status.success() && !out.all().lines().any(|l| l.starts_with("E: ")),
            "storescu {}: {}",
            row.file,
            out.all()
        );
    }
    let keys: Vec<FileKeys> = rows
        .iter()
        .map(|r| read_file_keys(&dcmdump, &r.path()))
        .collect();
    let studies: BTreeSet<String> = keys.iter().map(|k| k.study_uid.clone()).collect();
    let found = findscu_at(
        &findscu,
        SCP_AET,
        serving.addr.port(),
        "-S",
        &["QueryRetrieveLevel=STUDY", "StudyInstanceUID"],
    )
    .unwrap();
    let found: BTreeSet<String> = found
        .iter()
        .filter_map(|m| m.get("0020,000d").cloned())
        .collect();
    assert_eq!(found, studies);

    // The study with the most instances, all of one uncompressed syntax family.
    let study = keys
        .iter()
        .map(|k| k.study_uid.clone())
        .filter(|s| {
            keys.iter()
                .zip(&rows)
                .filter(|(k, _)| &k.study_uid == s)
                .all(|(_, r)| !r.is_encapsulated() && dcmtk_storescu_ts_option(&r.ts).is_none())
        })
        .max_by_key(|s| keys.iter().filter(|k| &k.study_uid == s).count())
        .expect("an uncompressed study");
    let wanted: Vec<&FileKeys> = keys.iter().filter(|k| k.study_uid == study).collect();
    let study_key = format!("StudyInstanceUID={study}");
    let out = run(
        movescu
            .command()
            .args([
                "-v", "-S", "-aet", "MOVESCU", "-aec", SCP_AET, "-aem", DEST_AET,
            ])
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k", &study_key])
            .args([LOCALHOST, &port]),
        RETRIEVE_TIMEOUT,
    );
    assert!(
        out.status.success() && out.all().contains("Received Final Move Response (Success)"),
        "movescu: {}",
        out.all()
    );
    let get_dir = temp_dir("runtimes_scp_get");
    let out = run(
        getscu
            .command()
            .args(["-v", "-S", "-aet", "GETSCU", "-aec", SCP_AET, "-od"])
            .arg(get_dir.path())
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k", &study_key])
            .args([LOCALHOST, &port]),
        RETRIEVE_TIMEOUT,
    );
    assert!(out.status.success(), "getscu: {}", out.all());
    for k in &wanted {
        for dir in [dest_dir.path(), get_dir.path()] {
            eventually(Duration::from_secs(20), || arrived(dir, &k.sop_instance));
        }
    }
    dest.assert_running();
}

fn arrived(dir: &Path, sop_instance: &str) -> Result<(), String> {
    if find_by_sop_instance(dir, sop_instance).is_empty() {
        Err(format!("{sop_instance} not in {}", dir.display()))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// 64 storescu at once against `dimse serve --runtime R`
// ---------------------------------------------------------------------------

#[test]
fn many_storescu_at_once_std() {
    many_storescu_at_once("std");
}

#[test]
fn many_storescu_at_once_tokio() {
    many_storescu_at_once("tokio");
}

#[test]
fn many_storescu_at_once_smol() {
    many_storescu_at_once("smol");
}

/// 64 storescu processes started together, each sending one instance, all succeed and all
/// 64 instances are in the archive, while a peer that connected first and never speaks holds
/// its connection open (it is not allowed to delay them; PS3.8's ARTIM closes it eventually).
fn many_storescu_at_once(runtime: &str) {
    const CLIENTS: usize = 64;
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let dir = temp_dir(&format!("runtimes_many_{runtime}"));
    let port = free_port();
    let mut server = start_dimse_serve_with(
        port,
        SCP_AET,
        dir.path(),
        &["--runtime", runtime, "--max-associations", "100"],
    );
    let silent = std::net::TcpStream::connect((LOCALHOST, port)).unwrap();

    // One source file, sent under 64 SOP Instance UIDs (storescu can't rename: give each
    // client its own copy with a new UID).
    let source = valid_corpus_files()
        .into_iter()
        .find(|r| !r.is_encapsulated() && dcmtk_storescu_ts_option(&r.ts).is_none())
        .unwrap();
    let copies = temp_dir(&format!("runtimes_many_src_{runtime}"));
    let mut paths = Vec::new();
    for i in 0..CLIENTS {
        let path = copies.path().join(format!("{i}.dcm"));
        let uid = format!("1.2.826.0.1.3680043.10.1234.{i}");
        write_with_sop_instance(&source.path(), &path, &uid);
        paths.push((path, uid));
    }
    let started = Instant::now();
    let children: Vec<_> = paths
        .iter()
        .map(|(path, _)| {
            ChildGuard::new(
                storescu
                    .command()
                    .args([
                        "-aet",
                        "MANY",
                        "-aec",
                        SCP_AET,
                        LOCALHOST,
                        &port.to_string(),
                    ])
                    .arg(path)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    let mut failures = Vec::new();
    for (i, mut child) in children.into_iter().enumerate() {
        let status = loop {
            if let Some(status) = child.try_wait() {
                break status;
            }
            assert!(
                started.elapsed() < CLIENT_TIMEOUT * 2,
                "storescu {i} still running after {:?}",
                started.elapsed()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if !status.success() {
            failures.push(format!("storescu {i}: {status}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}\n{}", server.output());
    for (_, uid) in &paths {
        eventually(Duration::from_secs(20), || arrived(dir.path(), uid));
    }
    server.assert_running();
    drop(silent);
}

// ---------------------------------------------------------------------------
// A 1 GiB data set through `dimse serve --runtime R`, in bounded memory
// ---------------------------------------------------------------------------

#[test]
fn one_gib_instance_in_bounded_memory_std() {
    one_gib_instance("std");
}

#[test]
fn one_gib_instance_in_bounded_memory_tokio() {
    one_gib_instance("tokio");
}

#[test]
fn one_gib_instance_in_bounded_memory_smol() {
    one_gib_instance("smol");
}

/// A C-STORE of a 1 GiB data set (generated as it is sent: a few keys, then 1 GiB of Pixel
/// Data) is acknowledged and on disk whole, and the server's peak resident memory stays
/// under 32 MiB: the data set streams from socket to file.
fn one_gib_instance(runtime: &str) {
    const PIXELS: u32 = 1 << 30;
    const CLASS: &str = "1.2.840.10008.5.1.4.1.1.7";
    let dir = temp_dir(&format!("runtimes_1gib_{runtime}"));
    let port = free_port();
    let mut server = start_dimse_serve_with(port, SCP_AET, dir.path(), &["--runtime", runtime]);
    let (study, series, sop) = (
        "1.2.826.0.1.3680043.10.1234.1",
        "1.2.826.0.1.3680043.10.1234.2",
        "1.2.826.0.1.3680043.10.1234.3",
    );
    let mut keys = DataSet::new();
    keys.set_str(Tag(0x0008, 0x0016), CLASS).unwrap();
    keys.set_str(Tag(0x0008, 0x0018), sop).unwrap();
    keys.set_str(Tag(0x0010, 0x0020), "BIG").unwrap();
    keys.set_str(Tag(0x0020, 0x000D), study).unwrap();
    keys.set_str(Tag(0x0020, 0x000E), series).unwrap();
    let ts = uid::transfer_syntax(uid::EXPLICIT_VR_LE).unwrap();
    let mut head = bytes::BytesMut::new();
    keys.encode(ts, &mut head);
    // (7FE0,0010) OB, explicit VR little endian: tag, "OB", two reserved bytes, 32-bit length.
    head.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
    head.extend_from_slice(&PIXELS.to_le_bytes());
    let head_len = head.len() as u64;
    let data = std::io::Read::chain(
        std::io::Cursor::new(head.freeze()),
        std::io::Read::take(std::io::repeat(0x5A), u64::from(PIXELS)),
    );

    let scu = dimse_std::Scu::new("BIG-SCU");
    let ctx = dimse_core::assoc::ProposedContext::new(CLASS, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = scu
        .associate(&Entity::new(SCP_AET, LOCALHOST, port), vec![ctx])
        .unwrap();
    let rsp = assoc.store(CLASS, sop, uid::EXPLICIT_VR_LE, data).unwrap();
    assert!(rsp.status.is_success(), "{rsp:?}\n{}", server.output());
    assoc.release().unwrap();

    let peak_kib = server.peak_rss_kib();
    println!("dimse serve --runtime {runtime}: peak RSS {peak_kib} KiB after a 1 GiB instance");
    let stored = dir
        .path()
        .join(study)
        .join(series)
        .join(format!("{sop}.dcm"));
    let size = std::fs::metadata(&stored).unwrap().len();
    assert!(
        size > head_len + u64::from(PIXELS),
        "{} holds {size} bytes",
        stored.display()
    );
    std::fs::remove_file(&stored).unwrap();
    assert!(peak_kib < 32 * 1024, "peak RSS {peak_kib} KiB");
    server.assert_running();
}

/// Copy the Part 10 file `from` to `to` with SOP Instance UID `uid` (data set and file meta).
fn write_with_sop_instance(from: &Path, to: &Path, sop_instance: &str) {
    use std::io::Read;
    let file = StoreFile::open(from).unwrap();
    let mut data = Vec::new();
    file.data_reader().unwrap().read_to_end(&mut data).unwrap();
    let ts = uid::transfer_syntax(&file.transfer_syntax_uid).unwrap();
    let mut ds = DataSet::decode(data.into(), ts).unwrap();
    ds.set_str(Tag(0x0008, 0x0018), sop_instance).unwrap();
    let mut out = bytes::BytesMut::new();
    dimse_core::part10::FileMeta::new(&file.sop_class_uid, sop_instance, &file.transfer_syntax_uid)
        .encode(&mut out);
    ds.encode(ts, &mut out);
    std::fs::write(to, out).unwrap();
}

// ---------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------

/// Pixel Data bytes of the instance `tls` sends over TLS.
const TLS_PIXELS: u32 = 64 << 20;

/// DICOM TLS both ways on this runtime. Its SCP, requiring client certificates, serves DCMTK's
/// `echoscu` and `storescu` with `+tls` and its own SCU, and refuses a client without a
/// certificate, one whose CA it does not trust and one speaking plain DICOM, serving on after
/// each, and takes a 64 MiB instance from it. Its SCU stores into DCMTK's `storescp +tls`.
fn tls<F: Flavor>() {
    let echoscu = require_peer!(Peer::Dcmtk("echoscu"));
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("runtimes_tls");
    let certs = TlsFiles::generate(&tmp.subdir("certs"));
    let received = tmp.subdir("received");
    let row = valid_corpus_files()
        .into_iter()
        .find(|r| !r.is_encapsulated())
        .unwrap();

    let mut scp = dimse_driver::Scp::new(
        DirectoryStore::policy(SCP_AET),
        DirectoryStore::new(&received).unwrap(),
    );
    scp.tls = Some(
        ServerTls::from_pem_files(&certs.server_cert, &certs.server_key, Some(&certs.ca)).unwrap(),
    );
    let serving = F::serve(scp);
    let port = serving.addr.port();

    let mut cmd = echoscu.command();
    cmd.args(certs.dcmtk_args(&certs.client_key, &certs.client_cert))
        .args([
            "-aet",
            "ECHOSCU",
            "-aec",
            SCP_AET,
            LOCALHOST,
            &port.to_string(),
        ]);
    run(cmd, CLIENT_TIMEOUT).assert_success("echoscu +tls");
    let mut cmd = storescu.command();
    cmd.args(certs.dcmtk_args(&certs.client_key, &certs.client_cert))
        .args(dcmtk_storescu_args(&row, "STORESCU", SCP_AET, port));
    run(cmd, CLIENT_TIMEOUT).assert_success("storescu +tls");
    eventually(FILE_TIMEOUT, || check_received_elements(&row, &received));

    let scp_entity = Entity::new(SCP_AET, "localhost", port);
    let client = |identity: Option<(&Path, &Path)>| {
        let mut scu = Scu::<F::R>::new("RT-SCU");
        scu.tls = Some(ClientTls::from_pem_files(Some(&certs.ca), identity).unwrap());
        scu
    };
    let trusted = client(Some((&certs.client_cert, &certs.client_key)));
    let refused: [(&str, Scu<F::R>); 3] = [
        ("no client certificate", client(None)),
        (
            "a client certificate from an untrusted CA",
            client(Some((&certs.stranger_cert, &certs.stranger_key))),
        ),
        ("plain DICOM", Scu::<F::R>::new("RT-SCU")),
    ];
    F::block_on(async {
        for (what, scu) in &refused {
            let result = scu.echo(&scp_entity).await;
            assert!(result.is_err(), "{what}: the SCP answered {result:?}");
            eprintln!("{what}: {}", result.unwrap_err());
        }
        let status = trusted.echo(&scp_entity).await.unwrap();
        assert!(status.is_success(), "{status:?}");

        // A data set far larger than TLS records and rustls's buffers.
        let (class, sop) = (
            "1.2.840.10008.5.1.4.1.1.7",
            "1.2.826.0.1.3680043.10.1234.77",
        );
        let ctx = dimse_core::assoc::ProposedContext::new(class, &[uid::EXPLICIT_VR_LE]);
        let mut assoc = trusted.associate(&scp_entity, vec![ctx]).await.unwrap();
        let mut keys = DataSet::new();
        keys.set_str(Tag(0x0008, 0x0016), class).unwrap();
        keys.set_str(Tag(0x0008, 0x0018), sop).unwrap();
        let mut head = bytes::BytesMut::new();
        keys.encode(
            uid::transfer_syntax(uid::EXPLICIT_VR_LE).unwrap(),
            &mut head,
        );
        head.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
        head.extend_from_slice(&TLS_PIXELS.to_le_bytes());
        let data = std::io::Read::chain(
            std::io::Cursor::new(head.freeze()),
            std::io::Read::take(std::io::repeat(0x5A), u64::from(TLS_PIXELS)),
        );
        let rsp = assoc
            .store(class, sop, uid::EXPLICIT_VR_LE, data)
            .await
            .unwrap();
        assert!(rsp.status.is_success(), "{rsp:?}");
        assoc.release().await.unwrap();
    });
    let big = find_by_sop_instance(&received, "1.2.826.0.1.3680043.10.1234.77");
    let [big] = big.as_slice() else {
        panic!("the 64 MiB instance: {big:?}")
    };
    assert!(std::fs::metadata(big).unwrap().len() > u64::from(TLS_PIXELS));

    let dest_port = free_port();
    let dest_dir = tmp.subdir("dest");
    let mut cmd = storescp.command();
    cmd.args(["-v", "+xa", "+B", "+uf", "-pm"])
        .args(certs.dcmtk_args(&certs.server_key, &certs.server_cert))
        .args(["-aet", DEST_AET, "-od"])
        .arg(&dest_dir)
        .arg(dest_port.to_string());
    let mut dest = Server::spawn("DCMTK storescp +tls", &mut cmd);
    dest.wait_for_port(dest_port, READY_TIMEOUT);
    let dest_entity = Entity::new(DEST_AET, "localhost", dest_port);
    let file = StoreFile::open(&row.path()).unwrap();
    F::block_on(async {
        let (_, contexts) = store_contexts(std::slice::from_ref(&file), Default::default());
        let mut assoc = trusted.associate(&dest_entity, contexts).await.unwrap();
        let outcome = assoc.store_file_converting(&file).await.unwrap();
        assert!(outcome.response.status.is_success(), "{outcome:?}");
        assoc.release().await.unwrap();
    });
    eventually(FILE_TIMEOUT, || check_received_elements(&row, &dest_dir));
    dest.assert_running();
}
