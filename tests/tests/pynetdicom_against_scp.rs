//! pynetdicom's `findscu`, `movescu` and `getscu` apps against SCPs built with the dimse-std
//! framework in this test: C-FIND over an in-memory catalogue, C-MOVE and C-GET of corpus
//! files named by StudyInstanceUID.
//!
//! Options used (pynetdicom 3.0.4 `python3 -m pynetdicom <app> --help`): `-S` study root,
//! `-aet`/`-aec` calling/called AE titles, `-k Keyword=value` query keys (a backslash makes a
//! multi-valued key), findscu `-w` writes each pending response's identifier to
//! `rsp000001.dcm`, `rsp000002.dcm`, … in the working directory, movescu `-aem` the move
//! destination, getscu `-od` the output directory (files named `<modality>.<SOP instance>`,
//! re-encoded by pydicom, hence element comparisons). All three exit 0 whatever the final
//! status, so the tests check the responses, the files and the logged statuses.
//!
//! pynetdicom's findscu has no option to send a C-CANCEL (its `--help` lists none, and
//! `apps/findscu/findscu.py` never calls `send_c_cancel`), so cancellation is not covered
//! here; find_scp.rs covers it with DCMTK findscu `--cancel` and dimse's own SCU.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use dimse_core::assoc::{AbstractSyntaxMatch, AcceptorPolicy, SupportedSyntax};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::Status;
use dimse_core::part10::FileMeta;
use dimse_core::{uid, Entity};
use dimse_std::{
    DirectoryStore, FindRequest, Handler, Instances, Matches, Peer as ScpPeer, RetrieveRequest,
    Scp, ServerHandle, StoreFile,
};
use dimse_tests::qr::read_file_keys;
use dimse_tests::*;

const SCP_AET: &str = "DIMSESCP";
const DEST_AET: &str = "PYNDEST";
const APP_TIMEOUT: Duration = Duration::from_secs(60);

const QR_LEVEL: Tag = Tag(0x0008, 0x0052);
const PATIENT_ID: Tag = Tag(0x0010, 0x0020);
const PATIENT_NAME: Tag = Tag(0x0010, 0x0010);
const STUDY_UID: Tag = Tag(0x0020, 0x000D);

// ---------------------------------------------------------------------------
// C-FIND
// ---------------------------------------------------------------------------

/// `studies` studies; patient `P{i % 3}` (named `Doe^P{i % 3}`) owns study `1.2.3.{i}`.
/// Matches on Patient ID (universal when empty or `*`).
struct Catalogue {
    studies: usize,
}

impl Handler for Catalogue {
    fn find(&self, _peer: &ScpPeer, request: &FindRequest) -> Result<Matches, Status> {
        let wanted = request
            .identifier
            .get_str(PATIENT_ID)
            .and_then(Result::ok)
            .filter(|v| !v.is_empty() && v != "*");
        let iter = (0..self.studies)
            .filter(move |i| wanted.as_ref().is_none_or(|p| *p == format!("P{}", i % 3)))
            .map(|i| {
                let mut ds = DataSet::new();
                ds.set_str(QR_LEVEL, "STUDY").unwrap();
                ds.set_str(PATIENT_NAME, &format!("Doe^P{}", i % 3))
                    .unwrap();
                ds.set_str(PATIENT_ID, &format!("P{}", i % 3)).unwrap();
                ds.set_uid(STUDY_UID, &format!("1.2.3.{i}")).unwrap();
                Ok(ds)
            });
        Ok(Box::new(iter))
    }
}

fn start_find(studies: usize) -> ServerHandle {
    let mut policy = AcceptorPolicy::new(SCP_AET);
    policy.supported.push(SupportedSyntax::uid(
        uid::STUDY_ROOT_QR_FIND,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    ));
    Scp::new(policy, Catalogue { studies })
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap()
}

/// One response identifier findscu `-w` wrote: (Patient ID, Patient's Name, Study UID).
type Response = (String, String, String);

/// Runs pynetdicom findscu `-w` (study root, STUDY level) for Patient ID `patient` in a fresh
/// directory and returns the identifiers it wrote, in response order, and its output.
fn findscu(findscu: &PeerPath, server: &ServerHandle, patient: &str) -> (Vec<Response>, String) {
    let dir = temp_dir("pyn_findscu");
    let out = run(
        findscu
            .command()
            .args(["-v", "-S", "-w", "-aet", "PYNFIND", "-aec", SCP_AET])
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k"])
            .arg(format!("PatientID={patient}"))
            .args(["-k", "PatientName=", "-k", "StudyInstanceUID="])
            .args(["127.0.0.1", &server.local_addr().port().to_string()])
            .current_dir(dir.path()),
        APP_TIMEOUT,
    );
    out.assert_success("pynetdicom findscu → dimse SCP");
    let text = out.all();
    let mut files: Vec<_> = files_under(dir.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rsp") && n.ends_with(".dcm"))
        })
        .collect();
    files.sort();
    let responses = files
        .iter()
        .map(|p| {
            let ds = read_part10(p);
            let text = |tag: Tag| -> String {
                ds.get_str(tag)
                    .unwrap_or_else(|| panic!("{}: no {tag:?}", p.display()))
                    .unwrap()
            };
            assert_eq!(text(QR_LEVEL), "STUDY", "{}", p.display());
            (text(PATIENT_ID), text(PATIENT_NAME), text(STUDY_UID))
        })
        .collect();
    (responses, text)
}

/// The data set of a Part 10 file, decoded with dimse-core.
fn read_part10(path: &Path) -> DataSet {
    let buf = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (meta, offset) =
        FileMeta::parse_file(&buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ts = meta
        .transfer_syntax()
        .unwrap_or_else(|| panic!("{}: unknown transfer syntax", path.display()));
    DataSet::decode_slice(&buf[offset..], ts).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The responses the catalogue owes for Patient ID `patient`.
fn expected(studies: usize, patient: Option<usize>) -> Vec<Response> {
    (0..studies)
        .filter(|i| patient.is_none_or(|p| i % 3 == p))
        .map(|i| {
            (
                format!("P{}", i % 3),
                format!("Doe^P{}", i % 3),
                format!("1.2.3.{i}"),
            )
        })
        .collect()
}

#[test]
fn pynetdicom_findscu_gets_exactly_the_matches() {
    let app = require_peer!(Peer::Pynetdicom("findscu"));
    let server = start_find(30);

    let (got, text) = findscu(&app, &server, "P1");
    assert_eq!(got, expected(30, Some(1)), "findscu output:\n{text}");
    // pynetdicom logs each response's status; the last one must be Success.
    assert_eq!(text.matches("0xFF00").count(), 10, "{text}");
    assert!(text.contains("0x0000"), "no final Success:\n{text}");

    let (got, text) = findscu(&app, &server, "*");
    assert_eq!(got, expected(30, None), "findscu output:\n{text}");

    let (got, text) = findscu(&app, &server, "NOBODY");
    assert_eq!(got, [], "findscu output:\n{text}");
    assert!(text.contains("0x0000"), "no final Success:\n{text}");
    server.stop();
}

// ---------------------------------------------------------------------------
// C-MOVE and C-GET
// ---------------------------------------------------------------------------

/// The uncompressed corpus files with distinct SOP instance UIDs, each with its
/// StudyInstanceUID (read with DCMTK dcmdump: dimse-core does not inflate image_dfl.dcm's
/// deflated data set). Compressed ones are left out: pynetdicom's getscu proposes uncompressed
/// syntaxes only, and the framework does not decompress.
fn corpus(dcmdump: &PeerPath) -> Vec<(String, StoreFile)> {
    let files: Vec<(String, StoreFile)> = batches_with_unique_instances(&valid_corpus_files())
        .into_iter()
        .next()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.is_encapsulated())
        .map(|r| {
            let file = StoreFile::open(&r.path()).unwrap_or_else(|e| panic!("{}: {e}", r.file));
            (read_file_keys(dcmdump, &r.path()).study_uid, file)
        })
        .collect();
    assert!(files.len() >= 8, "too few corpus files: {}", files.len());
    files
}

/// Serves [`corpus`] files whose StudyInstanceUID is one of the identifier's (a single UID or
/// a list); 0xA900 without one.
struct Archive(Vec<(String, StoreFile)>);

impl Handler for Archive {
    fn retrieve(&self, _peer: &ScpPeer, request: &RetrieveRequest) -> Result<Instances, Status> {
        let studies: Vec<String> = request
            .identifier
            .get_strs(STUDY_UID)
            .and_then(Result::ok)
            .filter(|v| !v.is_empty())
            .ok_or(Status::DOES_NOT_MATCH_SOP_CLASS)?;
        Ok(self
            .0
            .iter()
            .filter(|(s, _)| studies.contains(s))
            .map(|(_, f)| f.clone())
            .collect())
    }
}

/// The retrieve SCP: study root MOVE and GET, storage sub-operations in either role (for
/// C-GET the requestor takes the SCP role), C-MOVE destination [`DEST_AET`] on `dest_port`.
fn start_retrieve(dest_port: u16, files: Vec<(String, StoreFile)>) -> ServerHandle {
    let mut policy = AcceptorPolicy::new(SCP_AET);
    for sop in [uid::STUDY_ROOT_QR_MOVE, uid::STUDY_ROOT_QR_GET] {
        policy.supported.push(SupportedSyntax::uid(
            sop,
            &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
        ));
    }
    let mut storage = DirectoryStore::policy("X")
        .supported
        .into_iter()
        .find(|s| s.abstract_syntax == AbstractSyntaxMatch::AnyStorage)
        .expect("the storage policy covers storage classes");
    storage.accept_scu_role = true;
    policy.supported.push(storage);
    Scp::new(policy, Archive(files))
        .with_destination(Entity::local(DEST_AET, dest_port))
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap()
}

/// Every study of `files`, as one multi-valued key (`a\b\…`), and how many studies that is.
fn all_studies_key(files: &[(String, StoreFile)]) -> (String, usize) {
    let studies: BTreeSet<&str> = files.iter().map(|(s, _)| s.as_str()).collect();
    let list: Vec<&str> = studies.iter().copied().collect();
    (format!("StudyInstanceUID={}", list.join("\\")), list.len())
}

/// Every file arrived in `dir` as exactly one file with the same elements.
fn assert_received(files: &[(String, StoreFile)], dir: &Path) {
    for (_, f) in files {
        let got = eventually(Duration::from_secs(20), || {
            match find_by_sop_instance(dir, &f.sop_instance_uid).as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(format!("{} did not arrive", f.path.display())),
                many => Err(format!("{} arrived as {many:?}", f.path.display())),
            }
        });
        assert_same_elements(&f.path, &got);
    }
}

#[test]
fn pynetdicom_movescu_to_the_framework_delivers_every_instance() {
    let movescu = require_peer!(Peer::Pynetdicom("movescu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dcmdump = require_peer!(Peer::Dcmtk("dcmdump"));
    let files = corpus(&dcmdump);
    let dest_port = free_port();
    let server = start_retrieve(dest_port, files.clone());
    let tmp = temp_dir("pyn_movescu");
    let mut dest = start_dcmtk_storescp(&storescp, dest_port, DEST_AET, tmp.path());
    let port = server.local_addr().port().to_string();
    let (key, studies) = all_studies_key(&files);
    assert!(studies >= 5, "{key}");

    let out = run(
        movescu
            .command()
            .args(["-v", "-S", "-aet", "PYNMOVE", "-aec", SCP_AET])
            .args(["-aem", DEST_AET])
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k", &key])
            .args(["127.0.0.1", &port]),
        APP_TIMEOUT,
    );
    out.assert_success("pynetdicom movescu → dimse SCP → DCMTK storescp");
    assert_received(&files, tmp.path());
    let text = out.all();
    assert!(
        text.contains("Move SCP Result: 0x0000 (Success)")
            && text.contains(&format!(
                "Sub-Operations Remaining: 0, Completed: {}, Failed: 0, Warning: 0",
                files.len()
            )),
        "no final Success with every sub-operation completed:\n{text}"
    );
    dest.assert_running();

    // A destination the SCP does not know: 0xA801 and nothing sent.
    let out = run(
        movescu
            .command()
            .args(["-v", "-S", "-aet", "PYNMOVE", "-aec", SCP_AET])
            .args(["-aem", "NOBODY"])
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k", &key])
            .args(["127.0.0.1", &port]),
        APP_TIMEOUT,
    );
    assert!(
        out.all().contains("0xA801"),
        "movescu to an unknown AE:\n{}",
        out.all()
    );
    server.stop();
}

/// Runs pynetdicom getscu (study root) for every study of `files` against a framework SCP
/// serving them, into a fresh directory, and checks: final Success with every sub-operation
/// completed, every instance element-identical, nothing else written.
fn getscu_receives(getscu: &PeerPath, files: Vec<(String, StoreFile)>) {
    let server = start_retrieve(free_port(), files.clone());
    let tmp = temp_dir("pyn_getscu");
    let (key, _) = all_studies_key(&files);
    let out = run(
        getscu
            .command()
            .args(["-v", "-S", "-aet", "PYNGET", "-aec", SCP_AET, "-od"])
            .arg(tmp.path())
            .args(["-k", "QueryRetrieveLevel=STUDY", "-k", &key])
            .args(["127.0.0.1", &server.local_addr().port().to_string()]),
        APP_TIMEOUT,
    );
    out.assert_success("pynetdicom getscu ← dimse SCP");
    let text = out.all();
    assert!(
        text.contains("Get SCP Result: 0x0000 (Success)")
            && text.contains(&format!(
                "Sub-Operations Remaining: 0, Completed: {}, Failed: 0, Warning: 0",
                files.len()
            )),
        "no final Success with every sub-operation completed:\n{text}"
    );
    assert_received(&files, tmp.path());
    assert_eq!(files_under(tmp.path()).len(), files.len(), "{text}");
    server.stop();
}

/// The instances stored in implicit VR little endian: pynetdicom's getscu proposes every
/// storage class with implicit VR LE first, which is what the framework's storage rule (the
/// requestor's first known syntax) accepts, so these go back unconverted.
#[test]
fn pynetdicom_getscu_from_the_framework_receives_the_implicit_vr_instances() {
    let getscu = require_peer!(Peer::Pynetdicom("getscu"));
    let dcmdump = require_peer!(Peer::Dcmtk("dcmdump"));
    let files: Vec<_> = corpus(&dcmdump)
        .into_iter()
        .filter(|(_, f)| f.transfer_syntax_uid == uid::IMPLICIT_VR_LE)
        .collect();
    assert!(
        files.len() >= 2,
        "too few implicit VR files: {}",
        files.len()
    );
    getscu_receives(&getscu, files);
}

/// Every uncompressed instance (explicit VR LE, big endian, deflated, implicit VR LE).
///
/// Fails: getscu proposes each storage class once, with [implicit LE, explicit LE, deflated,
/// explicit BE]; the SCP accepts implicit LE (the requestor's first), and its C-GET
/// sub-operation (`store_back` in runtime-std/src/scp.rs) only looks for an accepted context
/// whose transfer syntax equals the file's, with no conversion between uncompressed syntaxes.
/// So no C-STORE is sent for the 8 files not stored in implicit VR LE: getscu sees "Get SCP
/// Result: 0xB000 (Warning)", "Completed: 2, Failed: 8", and a Failed SOP Instance UID List
/// naming the 8 (CT_small, ExplVR_BigEnd, MR_small, SC_rgb_small_odd, image_dfl,
/// liver_1frame, reportsi, test-SR).
#[test]
fn pynetdicom_getscu_from_the_framework_receives_every_instance() {
    let getscu = require_peer!(Peer::Pynetdicom("getscu"));
    let dcmdump = require_peer!(Peer::Dcmtk("dcmdump"));
    getscu_receives(&getscu, corpus(&dcmdump));
}
