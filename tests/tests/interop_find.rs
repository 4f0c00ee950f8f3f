//! `dimse find` (C-FIND SCU) against DCMTK `dcmqrscp` and pynetdicom
//! `qrscp`, each loaded with the valid corpus files that have distinct SOP
//! instance UIDs ([`qr_corpus`]).
//!
//! Expected results are computed from the files themselves (DCMTK `dcmdump`
//! of Patient ID, Patient's Name, Study/Series/SOP Instance UID; see
//! [`Archive`]), never hard-coded. Results are compared as sets of UIDs.
//!
//! Peers (see `dimse_tests::qr` for the verified options):
//! * `dcmqrscp -v -dhl -c CFG PORT`, loaded with `dcmqridx` (one match per
//!   entity at each level);
//! * `python3 -m pynetdicom qrscp -v -c INI`, loaded with
//!   `python3 -m pynetdicom storescu -cx`; it answers with one match per
//!   stored *instance* at every level, so its tests compare distinct UIDs and
//!   check the raw count against the instance count;
//! * DCMTK `findscu -S|-P -aet A -aec B -k KEY... HOST PORT` for the
//!   `harness_*` tests, which prove the loaded archives without `dimse`.
//!
//! `dimse find` interface: `dimse find [--aet] [--aec] [--model
//! patient|study|worklist] [--level PATIENT|STUDY|SERIES|IMAGE] [-k
//! KEY[=VALUE]]... [--json] HOST PORT`.

use std::collections::BTreeSet;
use std::time::Duration;

use dimse_tests::qr::*;
use dimse_tests::*;

const SCU_AET: &str = "DIMSE-FIND";

/// Bound for one `dimse find` against a small archive.
const FIND_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn dcmqrscp() -> Option<QrPeer> {
    let server = find_or_skip(Peer::Dcmtk("dcmqrscp"))?;
    let index = find_or_skip(Peer::Dcmtk("dcmqridx"))?;
    find_or_skip(Peer::Dcmtk("dcmdump"))?;
    Some(start_dcmqrscp(&server, &index, &qr_corpus()))
}

fn pynetdicom_qrscp() -> Option<QrPeer> {
    let server = require_pynetdicom_qrscp()?;
    let storescu = find_or_skip(Peer::Pynetdicom("storescu"))?;
    find_or_skip(Peer::Dcmtk("dcmdump"))?;
    Some(start_pynetdicom_qrscp(&server, &storescu, &qr_corpus()))
}

/// [`require_peer`] as an `Option` for helpers (`?` instead of `return`).
fn find_or_skip(peer: Peer) -> Option<PeerPath> {
    require_peer(peer)
}

/// `let peer = qr_peer!(dcmqrscp());` — skips the test when a peer is
/// missing (or fails it under `DIMSE_REQUIRE_PEERS=1`).
macro_rules! qr_peer {
    ($start:expr) => {
        match $start {
            Some(peer) => peer,
            None => return,
        }
    };
}

/// The argument list of `dimse find` against `peer`.
fn find_args(peer: &QrPeer, model: &str, level: &str, keys: &[&str], json: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "find", "--aet", SCU_AET, "--aec", peer.aet, "--model", model, "--level", level,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for k in keys {
        args.push("-k".into());
        args.push(k.to_string());
    }
    if json {
        args.push("--json".into());
    }
    args.push(LOCALHOST.into());
    args.push(peer.port.to_string());
    args
}

/// Runs `dimse find --json`, asserts exit 0, and returns the parsed matches.
#[track_caller]
fn find_json(peer: &mut QrPeer, model: &str, level: &str, keys: &[&str]) -> Vec<FindMatch> {
    let args = find_args(peer, model, level, keys, true);
    let out = run(dimse(&args), FIND_TIMEOUT);
    if !out.status.success() {
        panic!(
            "dimse {} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- {} ---\n{}",
            args.join(" "),
            out.status,
            out.stdout,
            out.stderr,
            peer.aet,
            peer.server.output()
        );
    }
    peer.server.assert_running();
    parse_find_json(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "dimse {}: stdout is not one DICOM JSON array ({e}):\n{}",
            args.join(" "),
            out.stdout
        )
    })
}

/// The first value of `tag` in every match (`""` when absent or empty).
fn values(matches: &[FindMatch], tag: &str) -> Vec<String> {
    matches.iter().map(|m| m.first(tag).to_owned()).collect()
}

/// Distinct first values of `tag`.
fn distinct(matches: &[FindMatch], tag: &str) -> BTreeSet<String> {
    values(matches, tag).into_iter().collect()
}

/// Asserts every match carries the requested `tags` (a C-FIND response
/// returns each requested key, empty if the entity has no value).
#[track_caller]
fn assert_keys_returned(matches: &[FindMatch], tags: &[&str]) {
    for (n, m) in matches.iter().enumerate() {
        for tag in tags {
            assert!(m.has(tag), "match {n} lacks requested key {tag}: {m:?}");
        }
    }
}

/// Asserts each match's UID in `tag` occurs once: DCMTK returns one match
/// per entity.
#[track_caller]
fn assert_no_duplicates(matches: &[FindMatch], tag: &str) {
    let all = values(matches, tag);
    let set: BTreeSet<_> = all.iter().collect();
    assert_eq!(set.len(), all.len(), "duplicate {tag} values: {all:#?}");
}

/// A PatientName wildcard selecting a strict, non-empty subset of the
/// archive: `FAMILY^*` for the family name shared by the most distinct
/// Patient IDs (ties: first in file order), with the files it selects.
fn family_wildcard(archive: &Archive) -> (String, Vec<FileKeys>) {
    let family = archive.most_shared_family(false);
    let pattern = format!("{family}^*");
    let selected: Vec<FileKeys> = archive
        .files
        .iter()
        .filter(|f| {
            f.patient_name
                .as_deref()
                .is_some_and(|n| wildcard_match(&pattern, n))
        })
        .cloned()
        .collect();
    assert!(
        !selected.is_empty() && selected.len() < archive.files.len(),
        "{pattern} selects {} of {} files: not a useful wildcard test",
        selected.len(),
        archive.files.len()
    );
    (pattern, selected)
}

/// Two studies for a UID-list query: the first and the last in UID order,
/// which must be distinct.
fn two_studies(archive: &Archive) -> (String, String) {
    let studies = archive.studies();
    assert!(studies.len() >= 3, "too few studies: {studies:?}");
    let first = studies.first().unwrap().clone();
    let last = studies.last().unwrap().clone();
    (first, last)
}

// ---------------------------------------------------------------------------
// Harness self-checks: DCMTK findscu against the loaded archives
// ---------------------------------------------------------------------------

/// The dcmqrscp helper works: DCMTK findscu sees every study once, and every
/// instance of every series.
#[test]
fn harness_findscu_sees_dcmqrscp_archive() {
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let peer = qr_peer!(dcmqrscp());
    assert_eq!(peer.archive.files.len(), qr_corpus().len());
    let studies = findscu_matches(
        &findscu,
        &peer,
        "-S",
        &["QueryRetrieveLevel=STUDY", "StudyInstanceUID"],
    );
    let got: Vec<String> = studies
        .iter()
        .map(|m| m.get("0020,000d").cloned().unwrap_or_default())
        .collect();
    let set: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(set, peer.archive.studies());
    assert_eq!(got.len(), set.len(), "{got:#?}");
    for (study, series) in peer.archive.series_pairs() {
        let images = findscu_matches(
            &findscu,
            &peer,
            "-S",
            &[
                "QueryRetrieveLevel=IMAGE",
                &format!("StudyInstanceUID={study}"),
                &format!("SeriesInstanceUID={series}"),
                "SOPInstanceUID",
            ],
        );
        let got: BTreeSet<String> = images
            .iter()
            .map(|m| m.get("0008,0018").cloned().unwrap_or_default())
            .collect();
        assert_eq!(got, peer.archive.instances_of(&study, &series));
    }
    // The expectations of the wildcard and UID-list tests hold for DCMTK's
    // own SCU too.
    let (pattern, selected) = family_wildcard(&peer.archive);
    let wild = findscu_matches(
        &findscu,
        &peer,
        "-S",
        &[
            "QueryRetrieveLevel=STUDY",
            &format!("PatientName={pattern}"),
            "StudyInstanceUID",
        ],
    );
    let got: BTreeSet<String> = wild
        .iter()
        .map(|m| m.get("0020,000d").cloned().unwrap_or_default())
        .collect();
    let expected: BTreeSet<String> = selected.iter().map(|f| f.study_uid.clone()).collect();
    assert_eq!(got, expected, "{pattern}");
    let (a, b) = two_studies(&peer.archive);
    let listed = findscu_matches(
        &findscu,
        &peer,
        "-S",
        &[
            "QueryRetrieveLevel=STUDY",
            &format!("StudyInstanceUID={a}\\{b}"),
        ],
    );
    let got: BTreeSet<String> = listed
        .iter()
        .map(|m| m.get("0020,000d").cloned().unwrap_or_default())
        .collect();
    assert_eq!(got, BTreeSet::from([a, b]));
}

/// The pynetdicom qrscp helper works: DCMTK findscu at STUDY level gets one
/// match per indexed instance, covering every study.
#[test]
fn harness_findscu_sees_pynetdicom_qrscp_archive() {
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let peer = qr_peer!(pynetdicom_qrscp());
    let studies = findscu_matches(
        &findscu,
        &peer,
        "-S",
        &["QueryRetrieveLevel=STUDY", "StudyInstanceUID"],
    );
    let got: Vec<String> = studies
        .iter()
        .map(|m| m.get("0020,000d").cloned().unwrap_or_default())
        .collect();
    assert_eq!(got.len(), peer.archive.files.len(), "{got:#?}");
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        peer.archive.studies()
    );
}

// ---------------------------------------------------------------------------
// dimse find → DCMTK dcmqrscp
// ---------------------------------------------------------------------------

/// Patient root, PATIENT level: every Patient ID (absent read as empty).
#[test]
fn dcmqrscp_patient_model_patient_level() {
    let mut peer = qr_peer!(dcmqrscp());
    let matches = find_json(
        &mut peer,
        "patient",
        "PATIENT",
        &["PatientID", "PatientName"],
    );
    assert_keys_returned(&matches, &[PATIENT_ID, PATIENT_NAME]);
    assert!(matches
        .iter()
        .all(|m| m.first(QR_LEVEL) == "PATIENT" || !m.has(QR_LEVEL)));
    // dcmqrscp may return several patients with an empty ID (it tells them
    // apart by other attributes): compare the set.
    assert_eq!(distinct(&matches, PATIENT_ID), peer.archive.patient_ids());
    let nonempty: Vec<String> = values(&matches, PATIENT_ID)
        .into_iter()
        .filter(|v| !v.is_empty())
        .collect();
    assert_eq!(
        nonempty.len(),
        peer.archive.nonempty_patient_ids().len(),
        "{nonempty:#?}"
    );
}

/// Patient root, STUDY level under each (non-empty) Patient ID.
#[test]
fn dcmqrscp_patient_model_study_level() {
    let mut peer = qr_peer!(dcmqrscp());
    for pid in peer.archive.nonempty_patient_ids() {
        let matches = find_json(
            &mut peer,
            "patient",
            "STUDY",
            &[&format!("PatientID={pid}"), "StudyInstanceUID"],
        );
        assert_keys_returned(&matches, &[STUDY_UID]);
        assert_no_duplicates(&matches, STUDY_UID);
        let expected = peer
            .archive
            .studies_where(|f| f.patient_id_or_empty() == pid);
        assert_eq!(distinct(&matches, STUDY_UID), expected, "PatientID={pid}");
    }
}

/// Study root, STUDY level: every study once.
#[test]
fn dcmqrscp_study_level() {
    let mut peer = qr_peer!(dcmqrscp());
    let matches = find_json(
        &mut peer,
        "study",
        "STUDY",
        &["StudyInstanceUID", "PatientID"],
    );
    assert_keys_returned(&matches, &[STUDY_UID, PATIENT_ID]);
    assert_no_duplicates(&matches, STUDY_UID);
    assert_eq!(distinct(&matches, STUDY_UID), peer.archive.studies());
    // Each study's Patient ID is the one in its files.
    for m in &matches {
        let pids: BTreeSet<String> = peer
            .archive
            .files
            .iter()
            .filter(|f| f.study_uid == m.first(STUDY_UID))
            .map(|f| f.patient_id_or_empty().to_owned())
            .collect();
        assert!(
            pids.contains(m.first(PATIENT_ID)),
            "study {} returned with PatientID {:?}, files have {pids:?}",
            m.first(STUDY_UID),
            m.first(PATIENT_ID)
        );
    }
}

/// Study root, STUDY level without `--json`: one tab-separated line per
/// match with the requested keys in `-k` order, and the summary on stderr.
#[test]
fn dcmqrscp_study_level_text_output() {
    let mut peer = qr_peer!(dcmqrscp());
    let args = find_args(
        &peer,
        "study",
        "STUDY",
        &["StudyInstanceUID", "PatientID"],
        false,
    );
    let out = run(dimse(&args), FIND_TIMEOUT);
    out.assert_success("dimse find (text)");
    peer.server.assert_running();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let studies = peer.archive.studies();
    assert_eq!(lines.len(), studies.len(), "{}", out.stdout);
    let mut seen = BTreeSet::new();
    for line in &lines {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 2, "{line:?}");
        assert!(studies.contains(cols[0]), "{line:?}");
        let pid_ok = peer
            .archive
            .files
            .iter()
            .any(|f| f.study_uid == cols[0] && f.patient_id_or_empty() == cols[1]);
        assert!(pid_ok, "{line:?}");
        seen.insert(cols[0].to_owned());
    }
    assert_eq!(seen, studies);
    let summary = format!("find: {} matches, final status 0x0000", studies.len());
    assert!(
        out.stderr.lines().any(|l| l.starts_with(&summary)),
        "no {summary:?} line on stderr:\n{}",
        out.stderr
    );
}

/// Study root, SERIES level within each study.
#[test]
fn dcmqrscp_series_level() {
    let mut peer = qr_peer!(dcmqrscp());
    for study in peer.archive.studies() {
        let matches = find_json(
            &mut peer,
            "study",
            "SERIES",
            &[&format!("StudyInstanceUID={study}"), "SeriesInstanceUID"],
        );
        assert_keys_returned(&matches, &[SERIES_UID]);
        assert_no_duplicates(&matches, SERIES_UID);
        assert_eq!(
            distinct(&matches, SERIES_UID),
            peer.archive.series_of(&study),
            "series of study {study}"
        );
    }
}

/// Study root, IMAGE level within each series.
#[test]
fn dcmqrscp_image_level() {
    let mut peer = qr_peer!(dcmqrscp());
    for (study, series) in peer.archive.series_pairs() {
        let matches = find_json(
            &mut peer,
            "study",
            "IMAGE",
            &[
                &format!("StudyInstanceUID={study}"),
                &format!("SeriesInstanceUID={series}"),
                "SOPInstanceUID",
            ],
        );
        assert_keys_returned(&matches, &[SOP_INSTANCE_UID]);
        assert_no_duplicates(&matches, SOP_INSTANCE_UID);
        assert_eq!(
            distinct(&matches, SOP_INSTANCE_UID),
            peer.archive.instances_of(&study, &series),
            "instances of series {series}"
        );
    }
}

/// Wildcard matching on Patient's Name selects exactly the matching studies.
#[test]
fn dcmqrscp_wildcard_patient_name() {
    let mut peer = qr_peer!(dcmqrscp());
    let (pattern, selected) = family_wildcard(&peer.archive);
    let matches = find_json(
        &mut peer,
        "study",
        "STUDY",
        &[&format!("PatientName={pattern}"), "StudyInstanceUID"],
    );
    assert_no_duplicates(&matches, STUDY_UID);
    let expected: BTreeSet<String> = selected.iter().map(|f| f.study_uid.clone()).collect();
    assert_eq!(distinct(&matches, STUDY_UID), expected, "{pattern}");
    for name in values(&matches, PATIENT_NAME) {
        assert!(wildcard_match(&pattern, &name), "{name:?} !~ {pattern}");
    }
}

/// List-of-UID matching: `StudyInstanceUID=uid1\uid2` returns those two.
#[test]
fn dcmqrscp_uid_list() {
    let mut peer = qr_peer!(dcmqrscp());
    let (a, b) = two_studies(&peer.archive);
    let matches = find_json(
        &mut peer,
        "study",
        "STUDY",
        &[&format!("StudyInstanceUID={a}\\{b}"), "PatientID"],
    );
    assert_no_duplicates(&matches, STUDY_UID);
    assert_eq!(distinct(&matches, STUDY_UID), BTreeSet::from([a, b]));
}

// ---------------------------------------------------------------------------
// dimse find → pynetdicom qrscp
// ---------------------------------------------------------------------------

/// Study root, STUDY level: one match per instance; the distinct study UIDs
/// are every study.
#[test]
fn pynetdicom_qrscp_study_level() {
    let mut peer = qr_peer!(pynetdicom_qrscp());
    let matches = find_json(
        &mut peer,
        "study",
        "STUDY",
        &["StudyInstanceUID", "PatientID"],
    );
    assert_keys_returned(&matches, &[STUDY_UID]);
    assert_eq!(matches.len(), peer.archive.files.len());
    assert_eq!(distinct(&matches, STUDY_UID), peer.archive.studies());
}

/// Study root, IMAGE level within each series.
#[test]
fn pynetdicom_qrscp_image_level() {
    let mut peer = qr_peer!(pynetdicom_qrscp());
    for (study, series) in peer.archive.series_pairs() {
        let matches = find_json(
            &mut peer,
            "study",
            "IMAGE",
            &[
                &format!("StudyInstanceUID={study}"),
                &format!("SeriesInstanceUID={series}"),
                "SOPInstanceUID",
            ],
        );
        assert_keys_returned(&matches, &[SOP_INSTANCE_UID]);
        let expected = peer.archive.instances_of(&study, &series);
        assert_eq!(matches.len(), expected.len(), "series {series}");
        assert_eq!(distinct(&matches, SOP_INSTANCE_UID), expected);
    }
}

/// Wildcard on Patient's Name at STUDY level: one match per matching
/// instance; the distinct study UIDs are exactly the matching studies.
#[test]
fn pynetdicom_qrscp_wildcard_patient_name() {
    let mut peer = qr_peer!(pynetdicom_qrscp());
    let (pattern, selected) = family_wildcard(&peer.archive);
    // pynetdicom matches with SQL LIKE, which ignores ASCII case: the
    // expectation holds only if no other name matches case-insensitively.
    let ci_selected = peer.archive.count_where(|f| {
        f.patient_name
            .as_deref()
            .is_some_and(|n| wildcard_match(&pattern.to_lowercase(), &n.to_lowercase()))
    });
    assert_eq!(ci_selected, selected.len(), "{pattern} is case-ambiguous");
    let matches = find_json(
        &mut peer,
        "study",
        "STUDY",
        &[&format!("PatientName={pattern}"), "StudyInstanceUID"],
    );
    let expected: BTreeSet<String> = selected.iter().map(|f| f.study_uid.clone()).collect();
    assert_eq!(matches.len(), selected.len(), "{pattern}");
    assert_eq!(distinct(&matches, STUDY_UID), expected, "{pattern}");
}

/// List-of-UID matching. pynetdicom 3.0.4's qrscp cannot do it (the list
/// reaches SQLite as one parameter and the SCP answers 0xC320), so `dimse
/// find` must report that failure status and exit non-zero; should a later
/// pynetdicom match lists, the result must be exactly the two studies.
#[test]
fn pynetdicom_qrscp_uid_list() {
    let mut peer = qr_peer!(pynetdicom_qrscp());
    let (a, b) = two_studies(&peer.archive);
    let args = find_args(
        &peer,
        "study",
        "STUDY",
        &[&format!("StudyInstanceUID={a}\\{b}"), "PatientID"],
        true,
    );
    let out = run(dimse(&args), FIND_TIMEOUT);
    peer.server.assert_running();
    if out.status.success() {
        let matches =
            parse_find_json(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", out.stdout));
        let expected_count = peer
            .archive
            .count_where(|f| f.study_uid == a || f.study_uid == b);
        assert_eq!(matches.len(), expected_count);
        assert_eq!(distinct(&matches, STUDY_UID), BTreeSet::from([a, b]));
    } else {
        assert!(
            out.all().to_ascii_uppercase().contains("C320"),
            "dimse find failed without naming the peer's status 0xC320 ({}):\n{}\n--- qrscp ---\n{}",
            out.status,
            out.all(),
            peer.server.output()
        );
        assert!(
            peer.server.output().contains("MultiValue"),
            "failed, but not for pynetdicom's known list-of-UID bug:\n{}",
            peer.server.output()
        );
    }
}
