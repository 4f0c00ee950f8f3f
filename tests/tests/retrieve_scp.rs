//! C-MOVE and C-GET through the dimse-std SCP framework: a handler naming corpus files by
//! StudyInstanceUID, retrieved by DCMTK movescu/getscu and by dimse's own SCU. The framework
//! resolves destinations from its AE table, runs the sub-operations and reports the counts.

use std::path::Path;
use std::time::Duration;

use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
use dimse_core::dataset::{self, Tag};
use dimse_core::dimse::Status;
use dimse_core::{uid, Entity};
use dimse_std::{
    Handler, Instances, Peer as ScpPeer, RetrieveRequest, Scp, ServerHandle, StoreFile,
};
use dimse_tests::*;

const SCP_AET: &str = "RETRSCP";
const DEST_AET: &str = "DEST";

/// The uncompressed corpus files with distinct SOP instance UIDs, as send-ready files.
fn catalogue() -> Vec<(String, StoreFile)> {
    let rows: Vec<ManifestRow> = batches_with_unique_instances(&valid_corpus_files())
        .into_iter()
        .next()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.is_encapsulated())
        .collect();
    rows.iter()
        .filter_map(|r| {
            let file = StoreFile::open(&r.path()).ok()?;
            let bytes = std::fs::read(&file.path).ok()?;
            let ts = uid::transfer_syntax(&file.transfer_syntax_uid)?;
            let data = &bytes[file.data_offset as usize..];
            let study =
                dataset::find_top_level_string(data, ts, dataset::Tag(0x0020, 0x000D)).ok()??;
            Some((study, file))
        })
        .collect()
}

struct Archive(Vec<(String, StoreFile)>);

impl Handler for Archive {
    fn retrieve(&self, _peer: &ScpPeer, request: &RetrieveRequest) -> Result<Instances, Status> {
        let study = request
            .identifier
            .get_uid(Tag(0x0020, 0x000D))
            .and_then(Result::ok)
            .ok_or(Status::DOES_NOT_MATCH_SOP_CLASS)?;
        Ok(self
            .0
            .iter()
            .filter(|(s, _)| *s == study)
            .map(|(_, f)| f.clone())
            .collect())
    }
}

fn start(dest_port: u16) -> (ServerHandle, Vec<(String, StoreFile)>) {
    let files = catalogue();
    assert!(!files.is_empty(), "no corpus files to serve");
    let mut policy = AcceptorPolicy::new(SCP_AET);
    for sop in [uid::STUDY_ROOT_QR_MOVE, uid::STUDY_ROOT_QR_GET] {
        policy.supported.push(SupportedSyntax::uid(
            sop,
            &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
        ));
    }
    // C-GET sub-operations go back to the requestor as SCP: accept that role for storage.
    let mut storage = DirectoryStoreLikePolicy::storage();
    storage.accept_scu_role = true;
    policy.supported.push(storage);
    let server = Scp::new(policy, Archive(files.clone()))
        .with_destination(Entity::local(DEST_AET, dest_port))
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    (server, files)
}

/// The storage rule `dimse serve` uses: every storage class, in the sender's syntax.
struct DirectoryStoreLikePolicy;

impl DirectoryStoreLikePolicy {
    fn storage() -> SupportedSyntax {
        dimse_std::DirectoryStore::policy("X")
            .supported
            .into_iter()
            .find(|s| s.abstract_syntax == dimse_core::assoc::AbstractSyntaxMatch::AnyStorage)
            .expect("the storage policy covers storage classes")
    }
}

/// The study with the most files.
fn biggest(files: &[(String, StoreFile)]) -> (String, Vec<StoreFile>) {
    let study = files
        .iter()
        .map(|(s, _)| s.clone())
        .max_by_key(|s| files.iter().filter(|(t, _)| t == s).count())
        .unwrap();
    let chosen = files
        .iter()
        .filter(|(s, _)| *s == study)
        .map(|(_, f)| f.clone())
        .collect();
    (study, chosen)
}

fn assert_received(files: &[StoreFile], dir: &Path) {
    for f in files {
        let got = eventually(Duration::from_secs(20), || {
            find_by_sop_instance(dir, &f.sop_instance_uid)
                .into_iter()
                .next()
                .ok_or_else(|| format!("{} did not arrive", f.path.display()))
        });
        assert_same_elements(&f.path, &got);
    }
}

#[test]
fn dcmtk_movescu_to_the_framework_delivers_to_the_destination() {
    let movescu = require_peer!(Peer::Dcmtk("movescu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dest_port = free_port();
    let (server, files) = start(dest_port);
    let tmp = temp_dir("framework_move");
    let mut dest = start_dcmtk_storescp(&storescp, dest_port, DEST_AET, tmp.path());
    dest.wait_for_port(dest_port, Duration::from_secs(20));
    let (study, chosen) = biggest(&files);
    let port = server.local_addr().port().to_string();
    let out = run(
        movescu
            .command()
            .args(["-v", "-S", "-aec", SCP_AET, "-aem", DEST_AET])
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k"])
            .arg(format!("StudyInstanceUID={study}"))
            .args(["127.0.0.1", &port]),
        Duration::from_secs(60),
    );
    out.assert_success("DCMTK movescu → dimse SCP");
    assert_received(&chosen, tmp.path());

    let out = run(
        movescu
            .command()
            .args(["-v", "-S", "-aec", SCP_AET, "-aem", "NOBODY"])
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k"])
            .arg(format!("StudyInstanceUID={study}"))
            .args(["127.0.0.1", &port]),
        Duration::from_secs(60),
    );
    assert!(
        out.all().contains("MoveDestinationUnknown"),
        "movescu to an unknown AE:\n{}",
        out.all()
    );
    server.stop();
}

#[test]
fn dcmtk_getscu_from_the_framework_receives_the_study() {
    let getscu = require_peer!(Peer::Dcmtk("getscu"));
    let (server, files) = start(free_port());
    let tmp = temp_dir("framework_get");
    let (study, chosen) = biggest(&files);
    let out = run(
        getscu
            .command()
            .args(["-v", "-S", "-aec", SCP_AET, "-od"])
            .arg(tmp.path())
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k"])
            .arg(format!("StudyInstanceUID={study}"))
            .args(["127.0.0.1", &server.local_addr().port().to_string()]),
        Duration::from_secs(60),
    );
    out.assert_success("DCMTK getscu ← dimse SCP");
    assert_received(&chosen, tmp.path());
    server.stop();
}

#[test]
fn dimse_get_and_move_against_the_framework() {
    let dest_port = free_port();
    let (server, files) = start(dest_port);
    let (study, chosen) = biggest(&files);
    let port = server.local_addr().port().to_string();

    let got = temp_dir("framework_dimse_get");
    let out = run(
        dimse(["get", "--aec", SCP_AET, "--out"])
            .arg(got.path())
            .args([
                "-k",
                &format!("StudyInstanceUID={study}"),
                "127.0.0.1",
                &port,
            ]),
        Duration::from_secs(60),
    );
    out.assert_success("dimse get ← dimse SCP");
    assert_received(&chosen, got.path());

    let moved = temp_dir("framework_dimse_move");
    let _dest = start_dimse_serve(dest_port, DEST_AET, moved.path());
    let out = run(
        dimse(["move", "--aec", SCP_AET, "--dest", DEST_AET]).args([
            "-k",
            &format!("StudyInstanceUID={study}"),
            "127.0.0.1",
            &port,
        ]),
        Duration::from_secs(60),
    );
    out.assert_success("dimse move → dimse SCP → dimse serve");
    assert!(
        out.all()
            .contains(&format!("move: {} completed, 0 failed", chosen.len())),
        "{}",
        out.all()
    );
    assert_received(&chosen, moved.path());
    server.stop();
}
