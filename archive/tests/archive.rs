//! The archive behind an in-process dimse-std SCP, driven by the dimse-std SCU: stores, the
//! index's answers at every level, duplicates, access control, failed writes and start-up
//! reconciliation.
//!
//! Every scenario that does not depend on the backend runs twice: on SQLite (`sqlite::*`, one
//! test each) and on PostgreSQL (`postgres_index`, one throwaway cluster for all of them, a
//! database each, run in turn). Start-up differs by design: SQLite reconciles files and rows,
//! PostgreSQL (shared by several nodes) does not rescan; each has its own test.

#[path = "../../tests/src/pg.rs"]
mod pg;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::BytesMut;
use dimse_archive::{Archive, Config, Counts, Duplicates, IndexLocation, Service};
use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::Status;
use dimse_core::query::QueryModel;
use dimse_core::uid::{self, TransferSyntax};
use dimse_core::Entity;
use dimse_std::{Scp, Scu, ServerHandle};
use pg::PgCluster;

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const AET: &str = "ARCHIVE";

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("dimse-archive-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

/// The index one run of a scenario uses.
struct Backend {
    index: IndexLocation,
    /// `sqlite` or `postgres`, in directory names (both kinds run at once).
    label: &'static str,
}

impl Backend {
    fn dir(&self, name: &str) -> Dir {
        Dir::new(&format!("{name}-{}", self.label))
    }

    fn config(&self) -> Config {
        let mut config = Config::new(AET);
        config.index = self.index.clone();
        config
    }
}

/// `scenarios!(a, b, ...)`: a test per scenario on SQLite, and one test running them all on
/// a throwaway PostgreSQL cluster (skipped, loudly, without PostgreSQL).
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&super::Backend {
                        index: super::IndexLocation::Sqlite,
                        label: "sqlite",
                    });
                }
            )*
        }

        #[test]
        fn postgres_index() {
            let Some(cluster) = PgCluster::start("archive") else {
                return;
            };
            $(
                eprintln!("postgres_index: {}", stringify!($name));
                $name(&Backend {
                    index: IndexLocation::Postgres(cluster.create_database(stringify!($name))),
                    label: "postgres",
                });
            )*
        }
    };
}

scenarios!(
    stores_by_study_and_series_and_answers_every_level,
    duplicates_follow_the_policy,
    services_are_limited_per_calling_ae,
    a_failed_write_answers_out_of_resources_and_leaves_nothing,
    patients_without_an_id_are_not_merged,
    attributes_past_the_first_64_kib_are_found,
    two_archives_share_one_index,
);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn serve(archive: &Archive) -> ServerHandle {
    Scp::new(archive.policy(), archive.clone())
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap()
}

/// Stops the server and waits until its associations, which hold clones of the archive,
/// have ended, so that dropping `archive` closes it (its background commits done) before
/// the test opens the root again.
fn close(server: ServerHandle, archive: Archive) {
    server.shutdown(Duration::from_secs(30));
    drop(archive);
}

/// (patient ID, name, study UID, date, series UID, modality, SOP instance UID)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const ROWS: &[Row] = &[
    (
        "P1", "DOE^JOHN", "1.1", "20190505", "1.1.1", "CT", "1.1.1.1",
    ),
    (
        "P1", "DOE^JOHN", "1.1", "20190505", "1.1.1", "CT", "1.1.1.2",
    ),
    (
        "P1", "DOE^JOHN", "1.1", "20190505", "1.1.2", "MR", "1.1.2.1",
    ),
    (
        "P1", "DOE^JOHN", "1.2", "20210312", "1.2.1", "CT", "1.2.1.1",
    ),
    (
        "P2", "ROE^JANE", "2.1", "20200101", "2.1.1", "US", "2.1.1.1",
    ),
];

fn instance(r: &Row) -> Vec<u8> {
    let (pid, name, study, date, series, modality, sop) = *r;
    let ds = DataSet::new()
        .with("SpecificCharacterSet", "ISO_IR 100")
        .and_then(|d| d.with("SOPClassUID", CT))
        .and_then(|d| d.with("SOPInstanceUID", sop))
        .and_then(|d| d.with("StudyDate", date))
        .and_then(|d| d.with("Modality", modality))
        .and_then(|d| d.with("PatientName", name))
        .and_then(|d| d.with("PatientID", pid))
        .and_then(|d| d.with("StudyInstanceUID", study))
        .and_then(|d| d.with("SeriesInstanceUID", series))
        .and_then(|d| d.with("InstanceNumber", "1"))
        .unwrap();
    let mut out = BytesMut::new();
    ds.encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
    out.to_vec()
}

fn store_as(server: &ServerHandle, calling: &str, rows: &[Row]) -> Vec<Status> {
    let scu = Scu::new(calling);
    let peer = Entity::local(AET, server.local_addr().port());
    let mut assoc = scu
        .associate(
            &peer,
            vec![ProposedContext::new(CT, &[uid::EXPLICIT_VR_LE])],
        )
        .unwrap();
    let statuses = rows
        .iter()
        .map(|r| {
            assoc
                .store(CT, r.6, uid::EXPLICIT_VR_LE, &instance(r)[..])
                .unwrap()
                .status
        })
        .collect();
    assoc.release().unwrap();
    statuses
}

fn find(server: &ServerHandle, model: QueryModel, keys: &[(&str, &str)]) -> Vec<DataSet> {
    let scu = Scu::new("SCU");
    let peer = Entity::local(AET, server.local_addr().port());
    let ctx = ProposedContext::new(model.find_sop_class(), &[uid::EXPLICIT_VR_LE]);
    let mut assoc = scu.associate(&peer, vec![ctx]).unwrap();
    let mut identifier = DataSet::new();
    for (k, v) in keys {
        identifier = identifier.with(k, v).unwrap();
    }
    let matches = assoc
        .find(model, &identifier)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assoc.release().unwrap();
    matches
}

fn values(matches: &[DataSet], keyword: &str) -> BTreeSet<String> {
    let tag = Tag::parse(keyword).unwrap();
    matches
        .iter()
        .map(|m| m.get_str(tag).unwrap().unwrap())
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn stores_by_study_and_series_and_answers_every_level(backend: &Backend) {
    let dir = backend.dir("levels");
    let archive = Archive::open(&dir.0, backend.config()).unwrap();
    let server = serve(&archive);
    assert!(store_as(&server, "SCU", ROWS)
        .into_iter()
        .all(Status::is_success));
    assert!(dir.0.join("1.1/1.1.2/1.1.2.1.dcm").is_file());
    assert_eq!(
        archive.counts().unwrap(),
        Counts {
            patients: 2,
            studies: 3,
            series: 4,
            instances: 5
        }
    );

    let patients = find(
        &server,
        QueryModel::PatientRoot,
        &[
            ("QueryRetrieveLevel", "PATIENT"),
            ("PatientID", ""),
            ("NumberOfPatientRelatedStudies", ""),
        ],
    );
    assert_eq!(values(&patients, "PatientID"), set(&["P1", "P2"]));
    let p1 = patients
        .into_iter()
        .find(|m| m.get_str(Tag(0x0010, 0x0020)) == Some(Ok("P1".into())))
        .unwrap();
    assert_eq!(p1.get_str(Tag(0x0020, 0x1200)), Some(Ok("2".into())));

    // PN is case-insensitive; a date range; computed attributes.
    let studies = find(
        &server,
        QueryModel::StudyRoot,
        &[
            ("QueryRetrieveLevel", "STUDY"),
            ("PatientName", "doe*"),
            ("StudyDate", "20200101-"),
            ("StudyInstanceUID", ""),
            ("NumberOfStudyRelatedInstances", ""),
            ("ModalitiesInStudy", ""),
        ],
    );
    assert_eq!(values(&studies, "StudyInstanceUID"), set(&["1.2"]));
    assert_eq!(
        values(&studies, "NumberOfStudyRelatedInstances"),
        set(&["1"])
    );
    let by_modality = find(
        &server,
        QueryModel::StudyRoot,
        &[
            ("QueryRetrieveLevel", "STUDY"),
            ("ModalitiesInStudy", "MR"),
            ("StudyInstanceUID", ""),
        ],
    );
    assert_eq!(values(&by_modality, "StudyInstanceUID"), set(&["1.1"]));
    // Patient-level keys are checked once per patient: the study of the patient after the
    // rejected one is found, and every image of a matching patient is.
    let roe = find(
        &server,
        QueryModel::StudyRoot,
        &[
            ("QueryRetrieveLevel", "STUDY"),
            ("PatientName", "r?e^j*"),
            ("StudyInstanceUID", ""),
        ],
    );
    assert_eq!(values(&roe, "StudyInstanceUID"), set(&["2.1"]));
    let johns = find(
        &server,
        QueryModel::StudyRoot,
        &[
            ("QueryRetrieveLevel", "IMAGE"),
            ("PatientName", "DOE^JOHN"),
            ("StudyInstanceUID", "1.1"),
            ("SeriesInstanceUID", "1.1.1\\1.1.2"),
            ("SOPInstanceUID", ""),
        ],
    );
    assert_eq!(
        values(&johns, "SOPInstanceUID"),
        set(&["1.1.1.1", "1.1.1.2", "1.1.2.1"])
    );
    let nobody = find(
        &server,
        QueryModel::StudyRoot,
        &[
            ("QueryRetrieveLevel", "SERIES"),
            ("PatientName", "DOE^JANE"),
            ("StudyInstanceUID", "1.1"),
            ("SeriesInstanceUID", ""),
        ],
    );
    assert!(nobody.is_empty(), "{nobody:?}");

    // UID list at series level; patient root with the unique keys above.
    let series = find(
        &server,
        QueryModel::PatientRoot,
        &[
            ("QueryRetrieveLevel", "SERIES"),
            ("PatientID", "P1"),
            ("StudyInstanceUID", "1.1\\1.2"),
            ("SeriesInstanceUID", ""),
            ("Modality", "CT"),
            ("NumberOfSeriesRelatedInstances", ""),
        ],
    );
    assert_eq!(
        values(&series, "SeriesInstanceUID"),
        set(&["1.1.1", "1.2.1"])
    );
    let images = find(
        &server,
        QueryModel::StudyRoot,
        &[
            ("QueryRetrieveLevel", "IMAGE"),
            ("StudyInstanceUID", "1.1"),
            ("SeriesInstanceUID", "1.1.1"),
            ("SOPInstanceUID", ""),
            ("InstanceNumber", ""),
        ],
    );
    assert_eq!(
        values(&images, "SOPInstanceUID"),
        set(&["1.1.1.1", "1.1.1.2"])
    );
    // PATIENT is no level of the Study Root model.
    let scu = Scu::new("SCU");
    let peer = Entity::local(AET, server.local_addr().port());
    let ctx = ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = scu.associate(&peer, vec![ctx]).unwrap();
    let bad = DataSet::new()
        .with("QueryRetrieveLevel", "PATIENT")
        .unwrap();
    let mut results = assoc.find(QueryModel::StudyRoot, &bad).unwrap();
    for _ in results.by_ref() {}
    assert_eq!(results.status(), Some(Status::DOES_NOT_MATCH_SOP_CLASS));
    drop(results);
    assoc.release().unwrap();
    server.stop();
}

fn duplicates_follow_the_policy(backend: &Backend) {
    let dir = backend.dir("duplicates");
    let mut config = backend.config();
    config.duplicates = Duplicates::Reject;
    let archive = Archive::open(&dir.0, config).unwrap();
    let server = serve(&archive);
    assert_eq!(store_as(&server, "SCU", &ROWS[..1]), [Status::SUCCESS]);
    assert_eq!(
        store_as(&server, "SCU", &ROWS[..1]),
        [Status::DUPLICATE_SOP_INSTANCE]
    );
    close(server, archive);

    // Replace (the default): the same UID moved to another series leaves one file and no
    // empty series behind.
    let archive = Archive::open(&dir.0, backend.config()).unwrap();
    let server = serve(&archive);
    let moved = (
        "P1", "DOE^JOHN", "1.1", "20190505", "1.1.9", "CT", "1.1.1.1",
    );
    assert_eq!(store_as(&server, "SCU", &[moved]), [Status::SUCCESS]);
    // Reading the index waits for the background commit, which also removes the old file.
    assert_eq!(archive.counts().unwrap().series, 1);
    assert!(!dir.0.join("1.1/1.1.1/1.1.1.1.dcm").exists());
    assert!(dir.0.join("1.1/1.1.9/1.1.1.1.dcm").is_file());
    server.stop();
}

fn services_are_limited_per_calling_ae(backend: &Backend) {
    let dir = backend.dir("access");
    let mut config = backend.config();
    config.access.allow("MODALITY", &[Service::Store]);
    config.access.allow("VIEWER", &[Service::Find]);
    let archive = Archive::open(&dir.0, config).unwrap();
    let server = serve(&archive);
    assert_eq!(store_as(&server, "MODALITY", &ROWS[..1]), [Status::SUCCESS]);
    assert_eq!(
        store_as(&server, "VIEWER", &ROWS[1..2]),
        [Status::NOT_AUTHORIZED]
    );
    // Callers with no entry are not even associated (1/1/3).
    let scu = Scu::new("STRANGER");
    let peer = Entity::local(AET, server.local_addr().port());
    assert!(scu
        .associate(
            &peer,
            vec![ProposedContext::new(CT, &[uid::EXPLICIT_VR_LE])]
        )
        .is_err());
    assert_eq!(archive.counts().unwrap().instances, 1);
    server.stop();
}

fn a_failed_write_answers_out_of_resources_and_leaves_nothing(backend: &Backend) {
    let dir = backend.dir("failure");
    let archive = Archive::open(&dir.0, backend.config()).unwrap();
    let server = serve(&archive);
    // A file where the study directory must go makes the write fail after the data arrived.
    std::fs::write(dir.0.join("2.1"), b"in the way").unwrap();
    assert_eq!(
        store_as(&server, "SCU", &ROWS[4..5]),
        [Status::OUT_OF_RESOURCES]
    );
    assert_eq!(archive.counts().unwrap().instances, 0);
    temporaries_hold_no_data(&dir.0);
    server.stop();
}

/// Only empty files (made ready for the next stores, or a node's lock) may be left under
/// `.tmp/`, at any depth (a node of a shared index writes in a directory of its own).
fn temporaries_hold_no_data(root: &Path) {
    let mut stack = vec![root.join(".tmp")];
    while let Some(d) = stack.pop() {
        for f in std::fs::read_dir(d).unwrap().flatten() {
            if f.file_type().unwrap().is_dir() {
                stack.push(f.path());
            } else {
                assert_eq!(f.metadata().unwrap().len(), 0, "{:?} holds data", f.path());
            }
        }
    }
}

fn files(root: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if e.path().extension().is_some_and(|x| x == "dcm") {
                n += 1;
            }
        }
    }
    n
}

/// SQLite only: the archive is the index's one writer, so at start-up it repairs the index
/// from the files (PostgreSQL's start does not rescan: `postgres_start_does_not_rescan`).
#[test]
fn opening_reconciles_files_and_index() {
    let dir = Dir::new("reconcile");
    let archive = Archive::open(&dir.0, Config::new(AET)).unwrap();
    let server = serve(&archive);
    assert!(store_as(&server, "SCU", ROWS)
        .into_iter()
        .all(Status::is_success));
    close(server, archive);

    // A file lost behind the index's back, a file copied in without a row, and the
    // leftover of a store that was killed half-way.
    std::fs::remove_file(dir.0.join("2.1/2.1.1/2.1.1.1.dcm")).unwrap();
    let copied = dir.0.join("1.2/1.2.1/1.2.1.1.dcm");
    let mut bytes = std::fs::read(&copied).unwrap();
    let (old, new) = (b"1.2.1.1\0", b"1.2.1.7\0");
    // The SOP Instance UID appears in the file meta and in the data set: change both.
    let mut i = 0;
    while let Some(at) = bytes[i..].windows(old.len()).position(|w| w == old) {
        bytes[i + at..i + at + new.len()].copy_from_slice(new);
        i += at + new.len();
    }
    std::fs::write(dir.0.join("1.2/1.2.1/1.2.1.7.dcm"), bytes).unwrap();
    std::fs::write(dir.0.join(".tmp/1.9.part"), b"half").unwrap();

    let archive = Archive::open(&dir.0, Config::new(AET)).unwrap();
    assert_eq!(
        archive.counts().unwrap(),
        Counts {
            patients: 1,
            studies: 2,
            series: 3,
            instances: 5
        }
    );
    assert_eq!(files(&dir.0), 5);
    // Only empty files made ready for the next stores may be left there.
    for f in std::fs::read_dir(dir.0.join(".tmp")).unwrap().flatten() {
        assert_eq!(f.metadata().unwrap().len(), 0, "{:?} holds data", f.path());
    }
    let server = serve(&archive);
    let images = find(
        &server,
        QueryModel::StudyRoot,
        &[
            ("QueryRetrieveLevel", "IMAGE"),
            ("StudyInstanceUID", "1.2"),
            ("SeriesInstanceUID", "1.2.1"),
            ("SOPInstanceUID", ""),
        ],
    );
    assert_eq!(
        values(&images, "SOPInstanceUID"),
        set(&["1.2.1.1", "1.2.1.7"])
    );
    server.stop();
}

fn patients_without_an_id_are_not_merged(backend: &Backend) {
    let dir = backend.dir("anonymous");
    let archive = Archive::open(&dir.0, backend.config()).unwrap();
    let server = serve(&archive);
    let rows = [
        ("", "ANON^ONE", "3.1", "20200101", "3.1.1", "CT", "3.1.1.1"),
        ("", "ANON^TWO", "3.2", "20200101", "3.2.1", "CT", "3.2.1.1"),
        ("", "ANON^ONE", "3.3", "20200101", "3.3.1", "CT", "3.3.1.1"),
    ];
    assert!(store_as(&server, "SCU", &rows)
        .into_iter()
        .all(Status::is_success));
    assert_eq!(archive.counts().unwrap().patients, 2);
    let studies = find(
        &server,
        QueryModel::StudyRoot,
        &[
            ("QueryRetrieveLevel", "STUDY"),
            ("PatientName", "ANON^TWO"),
            ("StudyInstanceUID", ""),
        ],
    );
    assert_eq!(values(&studies, "StudyInstanceUID"), set(&["3.2"]));
    server.stop();
}

/// The archive reads the attributes it indexes from the first 64 KiB of a data set, and more
/// only when they run past it. A first 64 KiB that ends exactly between two elements, before
/// the Study and Series Instance UIDs, must be read further, not taken for the whole header.
fn attributes_past_the_first_64_kib_are_found(backend: &Backend) {
    let dir = backend.dir("long-header");
    let archive = Archive::open(&dir.0, backend.config()).unwrap();
    let server = serve(&archive);
    let ts = TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;
    let before = DataSet::new()
        .with("SOPClassUID", CT)
        .and_then(|d| d.with("SOPInstanceUID", "1.9.9.9"))
        .and_then(|d| d.with("PatientID", "LONG"))
        .unwrap();
    let mut out = BytesMut::new();
    before.encode(&ts, &mut out);
    // (0010,4000) LT: an 8-byte header and a value that ends the element at byte 65,536.
    let comments = "x".repeat(64 * 1024 - out.len() - 8);
    let ds = before
        .clone()
        .with("PatientComments", &comments)
        .and_then(|d| d.with("StudyInstanceUID", "1.9"))
        .and_then(|d| d.with("SeriesInstanceUID", "1.9.9"))
        .unwrap();
    let mut data = BytesMut::new();
    ds.encode(&ts, &mut data);
    let mut prefix = BytesMut::new();
    before
        .with("PatientComments", &comments)
        .unwrap()
        .encode(&ts, &mut prefix);
    assert_eq!(
        prefix.len(),
        64 * 1024,
        "the test needs an element boundary there"
    );

    let scu = Scu::new("SCU");
    let peer = Entity::local(AET, server.local_addr().port());
    let ctx = ProposedContext::new(CT, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = scu.associate(&peer, vec![ctx]).unwrap();
    let rsp = assoc
        .store(CT, "1.9.9.9", uid::EXPLICIT_VR_LE, &data[..])
        .unwrap();
    assoc.release().unwrap();
    assert_eq!(rsp.status, Status::SUCCESS);
    assert!(dir.0.join("1.9/1.9.9/1.9.9.9.dcm").is_file());
    assert_eq!(archive.counts().unwrap().instances, 1);
    server.stop();
}

/// Two archives over one root and one PostgreSQL database, as two `dimse serve` nodes: what
/// one acknowledges the other finds at once; the same instances stored through both at the
/// same time end as one row and one file each.
fn two_archives_share_one_index(backend: &Backend) {
    let dir = backend.dir("two-nodes");
    let a = Archive::open(&dir.0, backend.config()).unwrap();
    let b = Archive::open(&dir.0, backend.config()).unwrap_or_else(|e| {
        assert_eq!(backend.label, "sqlite", "{e}");
        panic!("{e}")
    });
    if backend.label == "sqlite" {
        // One process owns an SQLite index; sharing it is not what it is for.
        return;
    }
    let (server_a, server_b) = (serve(&a), serve(&b));
    for row in ROWS {
        assert_eq!(store_as(&server_a, "SCU", &[*row]), [Status::SUCCESS]);
        let found = find(
            &server_b,
            QueryModel::StudyRoot,
            &[
                ("QueryRetrieveLevel", "IMAGE"),
                ("StudyInstanceUID", row.2),
                ("SeriesInstanceUID", row.4),
                ("SOPInstanceUID", row.6),
            ],
        );
        assert_eq!(found.len(), 1, "{} not found through the other node", row.6);
    }
    let same: Vec<Row> = (0..40)
        .map(|i| -> Row {
            let sop: &'static str = Box::leak(format!("4.1.1.{i}").into_boxed_str());
            ("P4", "RACE^ONE", "4.1", "20240101", "4.1.1", "CT", sop)
        })
        .collect();
    let racers: Vec<_> = [&server_a, &server_b]
        .into_iter()
        .map(|server| {
            let port = server.local_addr().port();
            let rows = same.clone();
            std::thread::spawn(move || {
                let scu = Scu::new("RACER");
                let peer = Entity::local(AET, port);
                let ctx = ProposedContext::new(CT, &[uid::EXPLICIT_VR_LE]);
                let mut assoc = scu.associate(&peer, vec![ctx]).unwrap();
                let statuses: Vec<Status> = rows
                    .iter()
                    .map(|r| {
                        assoc
                            .store(CT, r.6, uid::EXPLICIT_VR_LE, &instance(r)[..])
                            .unwrap()
                            .status
                    })
                    .collect();
                assoc.release().unwrap();
                statuses
            })
        })
        .collect();
    for racer in racers {
        assert!(racer.join().unwrap().iter().all(|s| s.is_success()));
    }
    let counts = b.counts().unwrap();
    assert_eq!(counts.instances as usize, ROWS.len() + same.len());
    assert_eq!(files(&dir.0), ROWS.len() + same.len());
    server_a.stop();
    server_b.stop();
}

/// PostgreSQL only: a node starts without scanning the store (a file without a row stays
/// unindexed) and deletes the temporary directories of nodes that are gone, never those of
/// running ones.
#[test]
fn postgres_start_does_not_rescan() {
    let Some(cluster) = PgCluster::start("rescan") else {
        return;
    };
    let backend = Backend {
        index: IndexLocation::Postgres(cluster.create_database("rescan")),
        label: "postgres",
    };
    let dir = backend.dir("no-rescan");
    let running = Archive::open(&dir.0, backend.config()).unwrap();
    let server = serve(&running);
    assert!(store_as(&server, "SCU", ROWS)
        .into_iter()
        .all(Status::is_success));
    server.stop();
    let stray = dir.0.join("9.9/9.9.9/9.9.9.9.dcm");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::copy(dir.0.join("1.2/1.2.1/1.2.1.1.dcm"), &stray).unwrap();
    // A node that died mid-store: its directory, its unlocked lock, half a file.
    let dead = dir.0.join(".tmp/gone.1.0");
    std::fs::create_dir_all(&dead).unwrap();
    std::fs::write(dead.join("lock"), b"").unwrap();
    std::fs::write(dead.join("1.0.part"), b"half").unwrap();
    let mine: Vec<_> = std::fs::read_dir(dir.0.join(".tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| *p != dead)
        .collect();
    assert_eq!(mine.len(), 1, "one directory per running node: {mine:?}");

    let restarted = Archive::open(&dir.0, backend.config()).unwrap();
    assert_eq!(restarted.counts().unwrap().instances, ROWS.len() as u64);
    assert!(!dead.exists(), "a dead node's temporary directory was kept");
    assert!(
        mine[0].is_dir(),
        "a running node's temporary directory was deleted"
    );
    drop(running);
    assert!(!mine[0].exists(), "a node's directory outlived it");
    drop(restarted);
}
