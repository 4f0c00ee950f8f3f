//! `dimse serve` as a small PACS, driven by DCMTK: `storescu` fills a fresh archive with
//! [`qr_corpus`] (14 instances, 11 studies), then `findscu`, `movescu` and `getscu` query and
//! retrieve it, and dimse's own `QueryBuilder` walks it. Expected answers come from the corpus
//! files themselves ([`Archive`]), never from the server.
//!
//! Interface under test: `dimse serve --aet ARCHIVE --port P --dir D [--peer AET@HOST:PORT]...`
//! prints `listening on` when ready; instances land at `D/<Study>/<Series>/<SOP>.dcm`; C-FIND in
//! Patient Root (PATIENT, STUDY, SERIES, IMAGE) and Study Root (STUDY, SERIES, IMAGE) with PS3.4
//! C.2.2.2 matching and computed keys; C-MOVE to `--peer` destinations (others: 0xA801); C-GET.
//!
//! DCMTK 3.6.7 options used (`--help`): `findscu -v -P|-S -aet A -aec B -k KEY[=VALUE]... HOST
//! PORT` (responses parsed from its `-v` log, see [`parse_findscu_log`]); `movescu -v|-d -S -aec
//! B -aem DEST -k ...` (`-d` dumps each C-MOVE-RSP, `DIMSE Status : 0xa801: ...`); `getscu -v -S
//! [+xy|+xr|...] -od DIR -k ...` (`+x?` prefers one compressed syntax for the storage contexts it
//! proposes, one context per SOP class, besides the uncompressed ones); `storescp` as the move
//! destination (see `start_dcmtk_storescp`).
//!
//! Several assertions share one filled archive inside a test; each collects its failures
//! ([`Checks`]) and reports them all, with the server's log, at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::Path;
use std::time::Duration;

use dimse_core::Entity;
use dimse_std::{QueryBuilder, Scu};
use dimse_tests::qr::*;
use dimse_tests::*;

const DEST_AET: &str = "DEST";
const RETRIEVE_TIMEOUT: Duration = Duration::from_secs(60);

/// `let pacs = pacs!(filled_serve_pacs(&[]));` — skips the test when a peer is missing.
macro_rules! pacs {
    ($start:expr) => {
        match $start {
            Some(pacs) => pacs,
            None => return,
        }
    };
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Failures collected over several assertions against one archive.
struct Checks {
    failures: Vec<String>,
}

impl Checks {
    fn new() -> Checks {
        Checks {
            failures: Vec::new(),
        }
    }

    fn fail(&mut self, message: String) {
        self.failures.push(message);
    }

    fn eq<T: Debug + PartialEq>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.fail(format!("{what}:\n  got:  {got:?}\n  want: {want:?}"));
        }
    }

    fn result<T>(&mut self, r: Result<T, String>) -> Option<T> {
        r.map_err(|e| self.fail(e)).ok()
    }

    /// DCMTK findscu against `pacs`; a failed run is recorded and yields `None`.
    fn find(
        &mut self,
        findscu: &PeerPath,
        pacs: &ServePacs,
        model: &str,
        keys: &[&str],
    ) -> Option<Vec<BTreeMap<String, String>>> {
        let r = findscu_at(findscu, pacs.aet, pacs.port, model, keys);
        self.result(r)
    }

    /// Panics listing every failure, with the end of the server's log.
    #[track_caller]
    fn finish(self, pacs: &ServePacs) {
        assert!(
            self.failures.is_empty(),
            "{} check(s) failed:\n\n{}\n\n--- dimse serve (tail) ---\n{}",
            self.failures.len(),
            self.failures.join("\n\n"),
            pacs.output_tail(6000)
        );
    }
}

/// Value of `tag` (`gggg,eeee`, lower case) in each match, `""` when absent.
fn column(matches: &[BTreeMap<String, String>], tag: &str) -> Vec<String> {
    matches
        .iter()
        .map(|m| m.get(tag).cloned().unwrap_or_default())
        .collect()
}

/// Distinct values of `tag`; records a failure if one occurs twice (the archive answers once
/// per entity).
fn unique(
    checks: &mut Checks,
    what: &str,
    matches: &[BTreeMap<String, String>],
    tag: &str,
) -> BTreeSet<String> {
    let all = column(matches, tag);
    let set: BTreeSet<String> = all.iter().cloned().collect();
    if set.len() != all.len() {
        checks.fail(format!("{what}: duplicate ({tag}) values: {all:#?}"));
    }
    set
}

/// PN wildcard matching as the archive promises it: `*`/`?`, case-insensitive.
fn pn_matches(pattern: &str, name: &str) -> bool {
    wildcard_match(&pattern.to_lowercase(), &name.to_lowercase())
}

/// A stored DA value as `YYYYMMDD` (the retired `YYYY.MM.DD` form of ExplVR_BigEnd.dcm
/// included); `None` when empty or malformed.
fn date(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(|c| *c != '.').collect();
    (digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Whether the study date of `f` lies in `from-to` (either end may be open).
fn in_range(f: &FileKeys, from: &str, to: &str) -> bool {
    f.study_date.as_deref().and_then(date).is_some_and(|d| {
        (from.is_empty() || d.as_str() >= from) && (to.is_empty() || d.as_str() <= to)
    })
}

/// Splits a multi-valued string into a set.
fn values_of(v: &str) -> BTreeSet<String> {
    v.split('\\')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Each study of `archive` with its instances (as [`FileKeys`]).
fn studies_with_files(archive: &Archive) -> Vec<(String, Vec<FileKeys>)> {
    archive
        .studies()
        .into_iter()
        .map(|s| {
            let files = archive
                .files
                .iter()
                .filter(|f| f.study_uid == s)
                .cloned()
                .collect();
            (s, files)
        })
        .collect()
}

/// Every instance of `files` arrived under `dir` exactly once, holding the same elements as
/// its corpus file.
fn check_arrivals(
    checks: &mut Checks,
    pacs: &ServePacs,
    files: &[FileKeys],
    dir: &Path,
    what: &str,
) {
    for f in files {
        let r = one_arrival(dir, &f.sop_instance)
            .and_then(|p| check_same_instance(pacs.row_of(f), f, &p))
            .map_err(|e| format!("{what}: {} ({}): {e}", f.file, f.sop_instance));
        checks.result(r);
    }
}

// ---------------------------------------------------------------------------
// 1. Storage
// ---------------------------------------------------------------------------

/// DCMTK storescu fills a fresh archive with the corpus (each file alone, compressed ones in
/// their own syntax): every instance is at `<dir>/<Study>/<Series>/<SOP>.dcm`, element-identical
/// to its source, and nothing else is stored.
#[test]
fn dcmtk_storescu_fills_the_archive_by_study_series_and_instance() {
    let pacs = pacs!(filled_serve_pacs(&[]));
    let mut checks = Checks::new();
    for f in &pacs.archive.files {
        let path = pacs.stored_path(f);
        if !path.is_file() {
            checks.fail(format!("{}: not stored at {}", f.file, path.display()));
            continue;
        }
        let r = check_same_instance(pacs.row_of(f), f, &path);
        checks.result(r);
    }
    let stored: Vec<_> = files_under(&pacs.dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .filter(|p| !p.starts_with(pacs.dir.join(".tmp")))
        .collect();
    checks.eq("number of stored .dcm files", stored.len(), pacs.rows.len());
    if !pacs.dir.join("index.sqlite").is_file() {
        checks.fail(format!(
            "no index at {}",
            pacs.dir.join("index.sqlite").display()
        ));
    }
    checks.finish(&pacs);
}

// ---------------------------------------------------------------------------
// 2. C-FIND
// ---------------------------------------------------------------------------

/// DCMTK findscu at every level of both models returns exactly the entities the corpus holds,
/// once each, with the computed keys (Number of Patient Related Studies, Number of Study
/// Related Series/Instances, Modalities in Study, Number of Series Related Instances) counted
/// from the corpus.
///
/// Patient Root below PATIENT needs a Patient ID (the unique key of the level above); corpus
/// files without one are covered by the Study Root queries.
#[test]
fn dcmtk_findscu_every_level_of_both_models() {
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let pacs = pacs!(filled_serve_pacs(&[]));
    let a = &pacs.archive;
    let mut c = Checks::new();

    // Patient Root, PATIENT.
    if let Some(m) = c.find(
        &findscu,
        &pacs,
        "-P",
        &[
            "QueryRetrieveLevel=PATIENT",
            "PatientID",
            "PatientName",
            "NumberOfPatientRelatedStudies",
        ],
    ) {
        let ids = column(&m, "0010,0020");
        c.eq(
            "PATIENT: distinct Patient IDs",
            ids.iter().cloned().collect::<BTreeSet<_>>(),
            a.patient_ids(),
        );
        let nonempty: Vec<&String> = ids.iter().filter(|i| !i.is_empty()).collect();
        c.eq(
            "PATIENT: matches with a Patient ID",
            nonempty.len(),
            a.nonempty_patient_ids().len(),
        );
        for p in &m {
            let pid = p.get("0010,0020").cloned().unwrap_or_default();
            if pid.is_empty() {
                continue;
            }
            let want = a.studies_where(|f| f.patient_id_or_empty() == pid).len();
            c.eq(
                &format!("PATIENT {pid}: NumberOfPatientRelatedStudies"),
                p.get("0020,1200").cloned().unwrap_or_default(),
                want.to_string(),
            );
        }
    }

    // Patient Root, STUDY / SERIES / IMAGE under each Patient ID.
    for pid in a.nonempty_patient_ids() {
        let pid_key = format!("PatientID={pid}");
        let Some(m) = c.find(
            &findscu,
            &pacs,
            "-P",
            &["QueryRetrieveLevel=STUDY", &pid_key, "StudyInstanceUID"],
        ) else {
            continue;
        };
        let what = format!("Patient Root STUDY {pid}");
        let got = unique(&mut c, &what, &m, "0020,000d");
        c.eq(
            &what,
            got,
            a.studies_where(|f| f.patient_id_or_empty() == pid),
        );
        for study in a.studies_where(|f| f.patient_id_or_empty() == pid) {
            let study_key = format!("StudyInstanceUID={study}");
            let Some(m) = c.find(
                &findscu,
                &pacs,
                "-P",
                &[
                    "QueryRetrieveLevel=SERIES",
                    &pid_key,
                    &study_key,
                    "SeriesInstanceUID",
                ],
            ) else {
                continue;
            };
            let what = format!("Patient Root SERIES {pid}/{study}");
            let got = unique(&mut c, &what, &m, "0020,000e");
            c.eq(&what, got, a.series_of(&study));
            for series in a.series_of(&study) {
                let series_key = format!("SeriesInstanceUID={series}");
                let Some(m) = c.find(
                    &findscu,
                    &pacs,
                    "-P",
                    &[
                        "QueryRetrieveLevel=IMAGE",
                        &pid_key,
                        &study_key,
                        &series_key,
                        "SOPInstanceUID",
                    ],
                ) else {
                    continue;
                };
                let what = format!("Patient Root IMAGE {pid}/{study}/{series}");
                let got = unique(&mut c, &what, &m, "0008,0018");
                c.eq(&what, got, a.instances_of(&study, &series));
            }
        }
    }

    // Study Root, STUDY: every study once, with its computed keys.
    if let Some(m) = c.find(
        &findscu,
        &pacs,
        "-S",
        &[
            "QueryRetrieveLevel=STUDY",
            "StudyInstanceUID",
            "PatientID",
            "NumberOfStudyRelatedInstances",
            "NumberOfStudyRelatedSeries",
            "ModalitiesInStudy",
        ],
    ) {
        let got = unique(&mut c, "Study Root STUDY", &m, "0020,000d");
        c.eq("Study Root STUDY: every study", got, a.studies());
        for s in &m {
            let study = s.get("0020,000d").cloned().unwrap_or_default();
            let files: Vec<&FileKeys> = a.files.iter().filter(|f| f.study_uid == study).collect();
            let get = |tag: &str| s.get(tag).cloned().unwrap_or_default();
            c.eq(
                &format!("STUDY {study}: NumberOfStudyRelatedInstances"),
                get("0020,1208"),
                files.len().to_string(),
            );
            c.eq(
                &format!("STUDY {study}: NumberOfStudyRelatedSeries"),
                get("0020,1206"),
                a.series_of(&study).len().to_string(),
            );
            let modalities: BTreeSet<String> =
                files.iter().filter_map(|f| f.modality.clone()).collect();
            c.eq(
                &format!("STUDY {study}: ModalitiesInStudy"),
                values_of(&get("0008,0061")),
                modalities,
            );
            let pids: BTreeSet<&str> = files.iter().map(|f| f.patient_id_or_empty()).collect();
            if !pids.contains(get("0010,0020").as_str()) {
                c.fail(format!(
                    "STUDY {study}: PatientID {:?}, its files have {pids:?}",
                    get("0010,0020")
                ));
            }
        }
    }

    // Study Root, SERIES of each study (with Modality and its instance count), IMAGE of each
    // series.
    for study in a.studies() {
        let study_key = format!("StudyInstanceUID={study}");
        if let Some(m) = c.find(
            &findscu,
            &pacs,
            "-S",
            &[
                "QueryRetrieveLevel=SERIES",
                &study_key,
                "SeriesInstanceUID",
                "Modality",
                "NumberOfSeriesRelatedInstances",
            ],
        ) {
            let what = format!("Study Root SERIES {study}");
            let got = unique(&mut c, &what, &m, "0020,000e");
            c.eq(&what, got, a.series_of(&study));
            for s in &m {
                let series = s.get("0020,000e").cloned().unwrap_or_default();
                let files: Vec<&FileKeys> =
                    a.files.iter().filter(|f| f.series_uid == series).collect();
                c.eq(
                    &format!("SERIES {series}: NumberOfSeriesRelatedInstances"),
                    s.get("0020,1209").cloned().unwrap_or_default(),
                    files.len().to_string(),
                );
                let modality = files
                    .first()
                    .and_then(|f| f.modality.clone())
                    .unwrap_or_default();
                c.eq(
                    &format!("SERIES {series}: Modality"),
                    s.get("0008,0060").cloned().unwrap_or_default(),
                    modality,
                );
            }
        }
        for series in a.series_of(&study) {
            let Some(m) = c.find(
                &findscu,
                &pacs,
                "-S",
                &[
                    "QueryRetrieveLevel=IMAGE",
                    &study_key,
                    &format!("SeriesInstanceUID={series}"),
                    "SOPInstanceUID",
                ],
            ) else {
                continue;
            };
            let what = format!("Study Root IMAGE {study}/{series}");
            let got = unique(&mut c, &what, &m, "0008,0018");
            c.eq(&what, got, a.instances_of(&study, &series));
        }
    }
    c.finish(&pacs);
}

/// Matching (PS3.4 C.2.2.2) through DCMTK findscu, Study Root STUDY level unless noted:
/// Patient's Name wildcards (`*`, `?`, case-insensitive for PN), a Patient ID wildcard, single
/// and range Study Dates (closed, open end, open start), a list of Study Instance UIDs (with
/// one unknown UID), and a list of SOP Instance UIDs at IMAGE level. Each must select exactly
/// what the corpus says, and each selection is checked to be a strict, non-empty subset.
#[test]
fn dcmtk_findscu_wildcards_date_ranges_and_uid_lists() {
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let pacs = pacs!(filled_serve_pacs(&[]));
    let a = &pacs.archive;
    let mut c = Checks::new();
    let all = a.studies();

    let study_query = |c: &mut Checks, what: &str, key: String, want: BTreeSet<String>| {
        assert!(
            !want.is_empty() && want.len() < all.len(),
            "{what} ({key}) selects {} of {} studies: not a useful test",
            want.len(),
            all.len()
        );
        // The return key only when it is not the matching key (a second -k would override).
        let mut keys = vec!["QueryRetrieveLevel=STUDY", key.as_str()];
        if !key.starts_with("StudyInstanceUID=") {
            keys.push("StudyInstanceUID");
        }
        if let Some(m) = c.find(&findscu, &pacs, "-S", &keys) {
            let what = format!("{what} ({key})");
            let got = unique(c, &what, &m, "0020,000d");
            c.eq(&what, got, want);
        }
    };

    // Patient's Name wildcards; PN matching ignores case.
    let family = a.most_shared_family(true);
    let mut masked_family = family.to_lowercase();
    masked_family.replace_range(0..1, "?");
    for pattern in [
        format!("{family}^*"),
        format!("{}^*", family.to_lowercase()),
        format!("{}*", family.to_uppercase()),
        format!("{masked_family}^?R1"),
    ] {
        let want = a.studies_where(|f| {
            f.patient_name
                .as_deref()
                .is_some_and(|n| pn_matches(&pattern, n))
        });
        study_query(
            &mut c,
            "PatientName wildcard",
            format!("PatientName={pattern}"),
            want,
        );
    }
    // A wildcard on a non-PN key (LO, case-sensitive).
    let pid = a
        .nonempty_patient_ids()
        .into_iter()
        .find(|p| p.len() > 2)
        .expect("a Patient ID of three or more characters");
    let pattern = format!("?{}*", &pid[1..pid.len() - 1]);
    let want = a.studies_where(|f| wildcard_match(&pattern, f.patient_id_or_empty()));
    study_query(
        &mut c,
        "PatientID wildcard",
        format!("PatientID={pattern}"),
        want,
    );

    // Study Date: single value, closed range, open end, open start.
    let dates: BTreeSet<String> = a
        .files
        .iter()
        .filter_map(|f| f.study_date.as_deref().and_then(date))
        .collect();
    let busiest = dates
        .iter()
        .max_by_key(|d| {
            a.studies_where(|f| f.study_date.as_deref().and_then(date).as_ref() == Some(*d))
                .len()
        })
        .expect("some study has a date")
        .clone();
    let want =
        a.studies_where(|f| f.study_date.as_deref().and_then(date).as_ref() == Some(&busiest));
    study_query(
        &mut c,
        "StudyDate single value",
        format!("StudyDate={busiest}"),
        want,
    );
    for (from, to) in [("20030101", "20031231"), ("20040101", ""), ("", "20030731")] {
        let want = a.studies_where(|f| in_range(f, from, to));
        study_query(
            &mut c,
            "StudyDate range",
            format!("StudyDate={from}-{to}"),
            want,
        );
    }

    // List of Study Instance UIDs, one of them unknown.
    let (first, last) = (all.first().unwrap().clone(), all.last().unwrap().clone());
    study_query(
        &mut c,
        "StudyInstanceUID list",
        format!("StudyInstanceUID={first}\\1.2.3.4.5.6.7.8.9.999\\{last}"),
        BTreeSet::from([first.clone(), last.clone()]),
    );

    // List of SOP Instance UIDs within the series with the most instances.
    let (study, series) = a
        .series_pairs()
        .into_iter()
        .max_by_key(|(st, se)| a.instances_of(st, se).len())
        .unwrap();
    let instances: Vec<String> = a.instances_of(&study, &series).into_iter().collect();
    assert!(
        instances.len() >= 3,
        "no series with three instances: {instances:?}"
    );
    let chosen = [instances[0].clone(), instances[instances.len() - 1].clone()];
    if let Some(m) = c.find(
        &findscu,
        &pacs,
        "-S",
        &[
            "QueryRetrieveLevel=IMAGE",
            &format!("StudyInstanceUID={study}"),
            &format!("SeriesInstanceUID={series}"),
            &format!("SOPInstanceUID={}", chosen.join("\\")),
        ],
    ) {
        let got = unique(&mut c, "SOPInstanceUID list", &m, "0008,0018");
        c.eq(
            "SOPInstanceUID list at IMAGE level",
            got,
            chosen.into_iter().collect(),
        );
    }
    c.finish(&pacs);
}

/// Study Root STUDY level returns each study with the Patient's Name of its own files. The
/// corpus has four studies of different patients without a Patient ID (ExplVR_BigEnd, image_dfl,
/// reportsi, test-SR): they must not share one name, and a name query must find its own study.
#[test]
fn dcmtk_findscu_study_level_patient_name_is_the_study_own() {
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let pacs = pacs!(filled_serve_pacs(&[]));
    let a = &pacs.archive;
    let mut c = Checks::new();
    if let Some(m) = c.find(
        &findscu,
        &pacs,
        "-S",
        &[
            "QueryRetrieveLevel=STUDY",
            "StudyInstanceUID",
            "PatientName",
            "PatientID",
        ],
    ) {
        for s in &m {
            let study = s.get("0020,000d").cloned().unwrap_or_default();
            let names: BTreeSet<String> = a
                .files
                .iter()
                .filter(|f| f.study_uid == study)
                .map(|f| f.patient_name.clone().unwrap_or_default())
                .collect();
            let got = s.get("0010,0010").cloned().unwrap_or_default();
            if !names.contains(&got) {
                c.fail(format!(
                    "STUDY {study} (PatientID {:?}): PatientName {got:?}, its files have {names:?}",
                    s.get("0010,0020").cloned().unwrap_or_default()
                ));
            }
        }
    }
    for f in a
        .files
        .iter()
        .filter(|f| f.patient_id_or_empty().is_empty())
    {
        let Some(name) = f
            .patient_name
            .as_deref()
            .filter(|n| !n.trim_matches('^').is_empty() && !n.contains(['*', '?', '\\']))
        else {
            continue;
        };
        let want = a.studies_where(|g| {
            g.patient_name
                .as_deref()
                .is_some_and(|n| pn_matches(name, n))
        });
        if let Some(m) = c.find(
            &findscu,
            &pacs,
            "-S",
            &[
                "QueryRetrieveLevel=STUDY",
                &format!("PatientName={name}"),
                "StudyInstanceUID",
            ],
        ) {
            let what = format!("PatientName={name} ({}, no Patient ID)", f.file);
            let got = unique(&mut c, &what, &m, "0020,000d");
            c.eq(&what, got, want);
        }
    }
    c.finish(&pacs);
}

// ---------------------------------------------------------------------------
// 3. C-MOVE
// ---------------------------------------------------------------------------

/// DCMTK movescu, one study-level C-MOVE per study, to a DCMTK storescp given to the archive
/// with `--peer DEST@127.0.0.1:PORT`: each ends with Success and every instance arrives once,
/// element-identical (compressed ones in their own syntax); nothing else arrives.
#[test]
fn dcmtk_movescu_to_a_configured_peer_delivers_every_study() {
    let movescu = require_peer!(Peer::Dcmtk("movescu"));
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dest_port = free_port();
    let dest_dir = temp_dir("serve_move_dest");
    let mut dest = start_dcmtk_storescp(&storescp, dest_port, DEST_AET, dest_dir.path());
    let mut pacs = pacs!(filled_serve_pacs(&[(DEST_AET, dest_port)]));
    let mut c = Checks::new();
    for (study, files) in studies_with_files(&pacs.archive) {
        let out = run(
            movescu
                .command()
                .args([
                    "-v", "-S", "-aet", "MOVESCU", "-aec", pacs.aet, "-aem", DEST_AET,
                ])
                .args([
                    "-k",
                    "QueryRetrieveLevel=STUDY",
                    "-k",
                    &format!("StudyInstanceUID={study}"),
                ])
                .args([LOCALHOST, &pacs.port.to_string()]),
            RETRIEVE_TIMEOUT,
        );
        if !out.status.success() || !out.all().contains("Received Final Move Response (Success)") {
            c.fail(format!(
                "movescu {study} ({} instances) failed ({}):\n{}",
                files.len(),
                out.status,
                out.all().trim()
            ));
            continue;
        }
        check_arrivals(
            &mut c,
            &pacs,
            &files,
            dest_dir.path(),
            &format!("move {study}"),
        );
    }
    c.eq(
        "files received by storescp",
        files_under(dest_dir.path()).len(),
        pacs.archive.files.len(),
    );
    pacs.server.assert_running();
    dest.assert_running();
    if !c.failures.is_empty() {
        c.fail(format!(
            "--- storescp (tail) ---\n{}",
            tail(&dest.output(), 4000)
        ));
    }
    c.finish(&pacs);
}

/// A C-MOVE to an AE the archive does not know (only DEST is configured) is refused with
/// 0xA801 (Move destination unknown), per DCMTK movescu's dump of the C-MOVE-RSP.
#[test]
fn dcmtk_movescu_to_an_unknown_destination_gets_a801() {
    let movescu = require_peer!(Peer::Dcmtk("movescu"));
    let mut pacs = pacs!(filled_serve_pacs(&[(DEST_AET, free_port())]));
    let study = pacs.archive.studies().into_iter().next().unwrap();
    let out = run(
        movescu
            .command()
            .args([
                "-d", "-S", "-aet", "MOVESCU", "-aec", pacs.aet, "-aem", "NOBODY",
            ])
            .args([
                "-k",
                "QueryRetrieveLevel=STUDY",
                "-k",
                &format!("StudyInstanceUID={study}"),
            ])
            .args([LOCALHOST, &pacs.port.to_string()]),
        RETRIEVE_TIMEOUT,
    );
    let text = out.all();
    let last = text
        .lines()
        .rfind(|l| l.contains("DIMSE Status"))
        .map(|l| l.trim().to_ascii_lowercase())
        .unwrap_or_default();
    assert!(
        last.contains("0xa801"),
        "movescu to an unknown AE: last DIMSE status {last:?}, want 0xa801 ({}):\n{}\n--- dimse serve (tail) ---\n{}",
        out.status,
        out.all(),
        pacs.output_tail(4000)
    );
    assert!(
        !out.status.success(),
        "movescu exited 0 on a refused move:\n{}",
        out.all()
    );
    pacs.server.assert_running();
}

// ---------------------------------------------------------------------------
// 4. C-GET
// ---------------------------------------------------------------------------

/// The DCMTK getscu option preferring `ts` for incoming C-STOREs: storescu's `-x?` letter with
/// `+` (getscu 3.6.7 `--help`: `+xb`, `+xd`, `+xy`, `+xx`, `+xs`, `+xt`, `+xu`, `+xv`, `+xw`,
/// `+xr`); `None` for the uncompressed little-endian syntaxes (the default proposes them all).
fn getscu_ts_option(ts: &str) -> Option<String> {
    dcmtk_storescu_ts_option(ts).map(|o| o.replacen('-', "+", 1))
}

/// (completed, failed) from getscu's "Final status report" lines.
fn getscu_counts(text: &str) -> Option<(usize, usize)> {
    let field = |name: &str| -> Option<usize> {
        text.lines()
            .rev()
            .find(|l| l.contains(name))
            .and_then(|l| l.rsplit(':').next())
            .and_then(|n| n.trim().parse().ok())
    };
    Some((
        field("Number of Completed Suboperations")?,
        field("Number of Failed Suboperations")?,
    ))
}

/// DCMTK getscu retrieves every study into a directory, all instances intact.
///
/// getscu proposes each storage SOP class in one presentation context, so an SCP can send a
/// class in one transfer syntax per association. A study whose instances all call for the same
/// getscu option (none, `+xd`, `+xb`, or one compressed syntax) is fetched with one
/// study-level C-GET; the two corpus studies mixing syntaxes within a class (SC: explicit LE,
/// JPEG baseline, RLE; NM: JPEG extended, JPEG 2000) are fetched instance by instance at IMAGE
/// level, each with its own option.
#[test]
fn dcmtk_getscu_retrieves_every_study_intact() {
    let getscu = require_peer!(Peer::Dcmtk("getscu"));
    let mut pacs = pacs!(filled_serve_pacs(&[]));
    let out_dir = temp_dir("serve_getscu");
    let mut c = Checks::new();
    let mut study_level = 0;
    for (study, files) in studies_with_files(&pacs.archive) {
        let options: BTreeSet<Option<String>> = files
            .iter()
            .map(|f| getscu_ts_option(&pacs.row_of(f).ts))
            .collect();
        let requests: Vec<(Option<String>, Vec<String>, Vec<FileKeys>)> = if options.len() == 1 {
            study_level += 1;
            let keys = vec![
                "QueryRetrieveLevel=STUDY".to_owned(),
                format!("StudyInstanceUID={study}"),
            ];
            vec![(options.into_iter().next().unwrap(), keys, files.clone())]
        } else {
            files
                .iter()
                .map(|f| {
                    let keys = vec![
                        "QueryRetrieveLevel=IMAGE".to_owned(),
                        format!("StudyInstanceUID={study}"),
                        format!("SeriesInstanceUID={}", f.series_uid),
                        format!("SOPInstanceUID={}", f.sop_instance),
                    ];
                    (getscu_ts_option(&pacs.row_of(f).ts), keys, vec![f.clone()])
                })
                .collect()
        };
        for (option, keys, wanted) in requests {
            let mut cmd = getscu.command();
            cmd.args(["-v", "-S", "-aet", "GETSCU", "-aec", pacs.aet]);
            cmd.args(option.iter());
            cmd.arg("-od").arg(out_dir.path());
            for k in &keys {
                cmd.args(["-k", k]);
            }
            cmd.args([LOCALHOST, &pacs.port.to_string()]);
            let out = run(cmd, RETRIEVE_TIMEOUT);
            let text = out.all();
            let what = format!("getscu {option:?} {keys:?}");
            if !out.status.success() || getscu_counts(&text) != Some((wanted.len(), 0)) {
                c.fail(format!(
                    "{what}: want {} completed, 0 failed; got {:?} ({}):\n{}",
                    wanted.len(),
                    getscu_counts(&text),
                    out.status,
                    text.lines()
                        .filter(|l| !l.starts_with("D: "))
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
            check_arrivals(&mut c, &pacs, &wanted, out_dir.path(), &what);
        }
    }
    assert!(study_level >= 5, "only {study_level} study-level gets");
    c.eq(
        "files received by getscu",
        files_under(out_dir.path()).len(),
        pacs.archive.files.len(),
    );
    pacs.server.assert_running();
    c.finish(&pacs);
}

// ---------------------------------------------------------------------------
// 6. Restart
// ---------------------------------------------------------------------------

/// Killed and started again on the same `--dir`, the archive still answers an IMAGE-level
/// query of every series with every instance, and a STUDY-level query with every study.
#[test]
fn restart_on_the_same_dir_keeps_every_instance_queryable() {
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let mut pacs = pacs!(filled_serve_pacs(&[]));
    pacs.restart();
    let a = pacs.archive.clone();
    let mut c = Checks::new();
    let mut found = BTreeSet::new();
    for (study, series) in a.series_pairs() {
        if let Some(m) = c.find(
            &findscu,
            &pacs,
            "-S",
            &[
                "QueryRetrieveLevel=IMAGE",
                &format!("StudyInstanceUID={study}"),
                &format!("SeriesInstanceUID={series}"),
                "SOPInstanceUID",
            ],
        ) {
            let what = format!("after restart, IMAGE {study}/{series}");
            let got = unique(&mut c, &what, &m, "0008,0018");
            found.extend(got.iter().cloned());
            c.eq(&what, got, a.instances_of(&study, &series));
        }
    }
    c.eq(
        "after restart, every instance",
        found,
        a.files.iter().map(|f| f.sop_instance.clone()).collect(),
    );
    if let Some(m) = c.find(
        &findscu,
        &pacs,
        "-S",
        &["QueryRetrieveLevel=STUDY", "StudyInstanceUID"],
    ) {
        let got = unique(&mut c, "after restart, STUDY", &m, "0020,000d");
        c.eq("after restart, every study", got, a.studies());
    }
    pacs.server.assert_running();
    c.finish(&pacs);
}

// ---------------------------------------------------------------------------
// 7. QueryBuilder
// ---------------------------------------------------------------------------

/// dimse's QueryBuilder walks the archive patient → study → series → image and finds every
/// instance exactly once, under the right study and series.
#[test]
fn query_builder_walks_the_archive_to_every_instance() {
    let pacs = pacs!(filled_serve_pacs(&[]));
    let a = &pacs.archive;
    let scu = Scu::new("QUERY_SCU");
    let peer = Entity::local(pacs.aet, pacs.port);
    let q = QueryBuilder::new(&scu, &peer);
    let server_log = || pacs.output_tail(6000);

    let patients = q
        .patients("*")
        .unwrap_or_else(|e| panic!("patients(*): {e}\n{}", server_log()));
    let ids: BTreeSet<String> = patients.iter().map(|p| p.patient_id.clone()).collect();
    assert_eq!(ids, a.patient_ids(), "patients(*)");

    let studies = q
        .studies("*")
        .unwrap_or_else(|e| panic!("studies(*): {e}\n{}", server_log()));
    let got: BTreeSet<String> = studies
        .iter()
        .map(|s| s.study_instance_uid.clone())
        .collect();
    assert_eq!(got, a.studies(), "studies(*)");
    assert_eq!(
        studies.len(),
        a.studies().len(),
        "studies(*) repeats a study: {studies:#?}"
    );

    let series = q
        .series(&studies)
        .unwrap_or_else(|e| panic!("series: {e}\n{}", server_log()));
    let got: BTreeSet<(String, String)> = series
        .iter()
        .map(|s| (s.study_instance_uid.clone(), s.series_instance_uid.clone()))
        .collect();
    assert_eq!(got, a.series_pairs(), "series");
    assert_eq!(
        series.len(),
        a.series_pairs().len(),
        "a series twice: {series:#?}"
    );

    let images = q
        .images(&series)
        .unwrap_or_else(|e| panic!("images: {e}\n{}", server_log()));
    assert_eq!(images.len(), a.files.len(), "{images:#?}");
    assert_eq!(image_triples(&images), a.instance_triples());
    for i in &images {
        let f = a
            .files
            .iter()
            .find(|f| f.sop_instance == i.sop_instance_uid)
            .unwrap();
        assert_eq!(
            i.sop_class_uid.as_deref(),
            Some(pacs.row_of(f).sop_class.as_str()),
            "{}",
            f.file
        );
        assert_eq!(i.patient_id, f.patient_id_or_empty(), "{}", f.file);
    }
}

/// The last `max` characters of `text`.
fn tail(text: &str, max: usize) -> String {
    let skip = text.chars().count().saturating_sub(max);
    text.chars().skip(skip).collect()
}
