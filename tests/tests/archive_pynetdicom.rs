//! `dimse serve` as a small PACS, driven by pynetdicom 3.0.4's apps (`python3 -m pynetdicom
//! findscu|movescu|getscu`) after DCMTK storescu filled it with [`qr_corpus`] (see
//! archive_serve.rs for the DCMTK side).
//!
//! Options (pynetdicom 3.0.4 `--help`): `-S` study root, `-aet`/`-aec`, `-k Keyword=value`
//! (`Keyword=` for a return key); findscu `-w` writes each pending response's identifier to
//! `rsp000001.dcm`, … in its working directory; movescu `-aem` the destination; getscu `-od`
//! the output directory. All three exit 0 whatever the final status, so the tests check the
//! logged statuses (`Find SCP Result: 0x0000`, `Move SCP Result: 0x0000 (Success)`,
//! `Sub-Operations Remaining: 0, Completed: N, Failed: 0, Warning: 0`) and the files.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use dimse_tests::qr::*;
use dimse_tests::*;

const DEST_AET: &str = "DEST";
const APP_TIMEOUT: Duration = Duration::from_secs(60);

/// `let pacs = pacs!(filled_serve_pacs(&[]));` — skips the test when a peer is missing.
macro_rules! pacs {
    ($start:expr) => {
        match $start {
            Some(pacs) => pacs,
            None => return,
        }
    };
}

/// Runs pynetdicom findscu `-w` (study root, STUDY level) with `keys` in a fresh directory;
/// returns the (Study Instance UID, Number of Study Related Instances) of each response file
/// and the app's output.
fn findscu_studies(
    findscu: &PeerPath,
    dcmdump: &PeerPath,
    pacs: &ServePacs,
    keys: &[&str],
) -> (Vec<(String, String)>, String) {
    let dir = temp_dir("serve_pyn_findscu");
    let mut cmd = findscu.command();
    cmd.args(["-v", "-S", "-w", "-aet", "PYNFIND", "-aec", pacs.aet])
        .args(["-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID="])
        .args(["-k", "NumberOfStudyRelatedInstances="]);
    for k in keys {
        cmd.args(["-k", k]);
    }
    cmd.args([LOCALHOST, &pacs.port.to_string()])
        .current_dir(dir.path());
    let out = run(cmd, APP_TIMEOUT);
    let text = out.all();
    assert!(
        out.status.success() && text.contains("0x0000"),
        "pynetdicom findscu {keys:?} failed or did not end with 0x0000 ({}):\n{text}\n--- dimse serve (tail) ---\n{}",
        out.status,
        pacs.output_tail(4000)
    );
    let files: Vec<PathBuf> = files_under(dir.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rsp") && n.ends_with(".dcm"))
        })
        .collect();
    let responses = files
        .iter()
        .map(|p| {
            let (found, dump) = dump_top_level(dcmdump, p, &["0020,000d", "0020,1208"]);
            let study = found
                .get("0020,000d")
                .cloned()
                .unwrap_or_else(|| panic!("{}: no StudyInstanceUID:\n{dump}", p.display()));
            (study, found.get("0020,1208").cloned().unwrap_or_default())
        })
        .collect();
    (responses, text)
}

/// pynetdicom findscu at STUDY level: every study exactly once with its instance count; a
/// lower-case Patient's Name wildcard selects exactly the matching studies.
#[test]
fn pynetdicom_findscu_study_level_returns_every_study() {
    let findscu = require_peer!(Peer::Pynetdicom("findscu"));
    let dcmdump = require_peer!(Peer::Dcmtk("dcmdump"));
    let pacs = pacs!(filled_serve_pacs(&[]));
    let a = &pacs.archive;

    let (got, text) = findscu_studies(&findscu, &dcmdump, &pacs, &[]);
    let studies: Vec<String> = got.iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(
        studies.iter().cloned().collect::<BTreeSet<_>>(),
        a.studies(),
        "{text}"
    );
    assert_eq!(studies.len(), a.studies().len(), "a study twice:\n{text}");
    for (study, count) in &got {
        let want = a.count_where(|f| &f.study_uid == study);
        assert_eq!(
            count,
            &want.to_string(),
            "NumberOfStudyRelatedInstances of {study}"
        );
    }

    let pattern = "compressedsamples^*";
    let want = a.studies_where(|f| {
        f.patient_name
            .as_deref()
            .is_some_and(|n| wildcard_match(pattern, &n.to_lowercase()))
    });
    assert!(!want.is_empty() && want.len() < a.studies().len());
    let (got, text) = findscu_studies(
        &findscu,
        &dcmdump,
        &pacs,
        &[&format!("PatientName={pattern}")],
    );
    let got: Vec<String> = got.into_iter().map(|(s, _)| s).collect();
    assert_eq!(got.len(), want.len(), "{pattern}:\n{text}");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want, "{pattern}");
}

/// pynetdicom movescu, one study-level C-MOVE per study, to a second `dimse serve` given to
/// the archive with `--peer`: each ends with Success and every sub-operation completed, and the
/// destination holds every instance at its study/series/instance path, element-identical.
#[test]
fn pynetdicom_movescu_delivers_every_study_to_a_dimse_serve_peer() {
    let movescu = require_peer!(Peer::Pynetdicom("movescu"));
    let dest_port = free_port();
    let dest_tmp = temp_dir("serve_pyn_move_dest");
    let mut dest = start_dimse_serve(dest_port, DEST_AET, dest_tmp.path());
    let mut pacs = pacs!(filled_serve_pacs(&[(DEST_AET, dest_port)]));
    let mut failures = Vec::new();
    for study in pacs.archive.studies() {
        let files: Vec<FileKeys> = pacs
            .archive
            .files
            .iter()
            .filter(|f| f.study_uid == study)
            .cloned()
            .collect();
        let out = run(
            movescu
                .command()
                .args(["-v", "-S", "-aet", "PYNMOVE", "-aec", pacs.aet])
                .args(["-aem", DEST_AET, "-k", "QueryRetrieveLevel=STUDY", "-k"])
                .arg(format!("StudyInstanceUID={study}"))
                .args([LOCALHOST, &pacs.port.to_string()]),
            APP_TIMEOUT,
        );
        let text = out.all();
        let counts = format!(
            "Sub-Operations Remaining: 0, Completed: {}, Failed: 0, Warning: 0",
            files.len()
        );
        if !out.status.success()
            || !text.contains("Move SCP Result: 0x0000 (Success)")
            || !text.contains(&counts)
        {
            failures.push(format!(
                "movescu {study}: want Success and {counts:?} ({}):\n{}",
                out.status,
                text.trim()
            ));
            continue;
        }
        for f in &files {
            let path = archive_path(dest_tmp.path(), f);
            if let Err(e) = check_same_instance(pacs.row_of(f), f, &path) {
                failures.push(format!(
                    "move {study}: {} not at {}: {e}",
                    f.file,
                    path.display()
                ));
            }
        }
    }
    pacs.server.assert_running();
    dest.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n--- dimse serve (tail) ---\n{}",
        failures.join("\n\n"),
        pacs.output_tail(6000)
    );
}

/// pynetdicom getscu, one study-level C-GET per study stored only in uncompressed syntaxes:
/// Success, every sub-operation completed, every instance arrives once, element-identical.
///
/// Studies with compressed instances are left out: pynetdicom's getscu proposes the storage
/// classes with uncompressed syntaxes only, and the archive does not decompress.
#[test]
fn pynetdicom_getscu_retrieves_every_uncompressed_study() {
    let getscu = require_peer!(Peer::Pynetdicom("getscu"));
    let mut pacs = pacs!(filled_serve_pacs(&[]));
    let out_dir = temp_dir("serve_pyn_getscu");
    let mut failures = Vec::new();
    let mut fetched = 0;
    for study in pacs.archive.studies() {
        let files: Vec<FileKeys> = pacs
            .archive
            .files
            .iter()
            .filter(|f| f.study_uid == study)
            .cloned()
            .collect();
        if files.iter().any(|f| pacs.row_of(f).is_encapsulated()) {
            continue;
        }
        fetched += files.len();
        let out = run(
            getscu
                .command()
                .args(["-v", "-S", "-aet", "PYNGET", "-aec", pacs.aet, "-od"])
                .arg(out_dir.path())
                .args(["-k", "QueryRetrieveLevel=STUDY", "-k"])
                .arg(format!("StudyInstanceUID={study}"))
                .args([LOCALHOST, &pacs.port.to_string()]),
            APP_TIMEOUT,
        );
        let text = out.all();
        let counts = format!(
            "Sub-Operations Remaining: 0, Completed: {}, Failed: 0, Warning: 0",
            files.len()
        );
        if !out.status.success()
            || !text.contains("Get SCP Result: 0x0000 (Success)")
            || !text.contains(&counts)
        {
            failures.push(format!(
                "getscu {study}: want Success and {counts:?} ({}):\n{}",
                out.status,
                text.trim()
            ));
        }
        for f in &files {
            let r = one_arrival(out_dir.path(), &f.sop_instance)
                .and_then(|p| check_same_instance(pacs.row_of(f), f, &p));
            if let Err(e) = r {
                failures.push(format!("get {study}: {}: {e}", f.file));
            }
        }
    }
    assert!(fetched >= 5, "only {fetched} uncompressed instances");
    if failures.is_empty() {
        assert_eq!(files_under(out_dir.path()).len(), fetched, "extra files");
    }
    pacs.server.assert_running();
    assert!(
        failures.is_empty(),
        "{}\n--- dimse serve (tail) ---\n{}",
        failures.join("\n\n"),
        pacs.output_tail(6000)
    );
}
