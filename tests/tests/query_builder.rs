//! `QueryBuilder` and `Query` against an in-process SCP over a small archive (2 patients,
//! 3 studies, 5 series, 9 instances, one RTPLAN series) that matches the keys it receives the
//! way PS3.4 C.2.2.2 asks, refuses identifiers that break the hierarchical baseline, and
//! records every identifier with the association it came on. Then one walk of DCMTK
//! `dcmqrscp` loaded with the corpus (skipped when DCMTK is missing).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::Status;
use dimse_core::query::{QueryLevel, QueryModel};
use dimse_core::{uid, Entity};
use dimse_std::{
    Error, FindRequest, Handler, ImageRecord, Matches, Peer as ScpPeer, Query, QueryBuilder, Scp,
    Scu, ServerHandle,
};

const QR_LEVEL: Tag = Tag(0x0008, 0x0052);
const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const MR: &str = "1.2.840.10008.5.1.4.1.1.4";
const RT_STRUCT: &str = "1.2.840.10008.5.1.4.1.1.481.3";
const RT_PLAN: &str = "1.2.840.10008.5.1.4.1.1.481.5";

/// Identifier 0xA900 "does not match SOP class": what the archive answers to an identifier
/// that breaks the hierarchical baseline.
const REFUSED: Status = Status::DOES_NOT_MATCH_SOP_CLASS;

/// One stored instance: every attribute of every level, by keyword.
type Row = BTreeMap<&'static str, String>;

/// (patient ID, name, birth date, studies); study: (number, date, description, accession,
/// series); series: (number, modality, description, SOP class, instances).
#[allow(clippy::type_complexity)]
const ARCHIVE: &[(
    &str,
    &str,
    &str,
    &[(u32, &str, &str, &str, &[(u32, &str, &str, &str, u32)])],
)] = &[
    (
        "P1",
        "DOE^JOHN",
        "19700101",
        &[
            (
                1,
                "20190505",
                "CT HEAD",
                "A1",
                &[(1, "CT", "HEAD AXIAL", CT, 3)],
            ),
            (
                2,
                "20210312",
                "RT PLANNING",
                "A2",
                &[
                    (1, "CT", "PLANNING CT", CT, 2),
                    (2, "RTPLAN", "PLAN", RT_PLAN, 1),
                    (3, "RTSTRUCT", "CONTOURS", RT_STRUCT, 1),
                ],
            ),
        ],
    ),
    (
        "P2",
        "ROE^JANE",
        "19800202",
        &[(
            3,
            "20200615",
            "MR KNEE",
            "A3",
            &[(1, "MR", "KNEE SAG", MR, 2)],
        )],
    ),
];

fn study_uid(study: u32) -> String {
    format!("1.2.3.{study}")
}

/// The archive as one row per instance; UIDs `1.2.3.{study}[.{series}[.{instance}]]`.
fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for (pid, name, birth, studies) in ARCHIVE {
        for (study, date, desc, acc, series) in *studies {
            let modalities: BTreeSet<&str> = series.iter().map(|s| s.1).collect();
            for (number, modality, sdesc, class, count) in *series {
                for instance in 1..=*count {
                    let study_uid = study_uid(*study);
                    let series_uid = format!("{study_uid}.{number}");
                    rows.push(Row::from([
                        ("PatientID", pid.to_string()),
                        ("PatientName", name.to_string()),
                        ("PatientBirthDate", birth.to_string()),
                        ("StudyInstanceUID", study_uid),
                        ("StudyDate", date.to_string()),
                        ("StudyDescription", desc.to_string()),
                        ("AccessionNumber", acc.to_string()),
                        (
                            "ModalitiesInStudy",
                            modalities.iter().copied().collect::<Vec<_>>().join("\\"),
                        ),
                        ("SOPInstanceUID", format!("{series_uid}.{instance}")),
                        ("SeriesInstanceUID", series_uid),
                        ("Modality", modality.to_string()),
                        ("SeriesNumber", number.to_string()),
                        ("SeriesDescription", sdesc.to_string()),
                        ("SOPClassUID", class.to_string()),
                        ("InstanceNumber", instance.to_string()),
                    ]));
                }
            }
        }
    }
    rows
}

fn level_of(keyword: &str) -> Option<QueryLevel> {
    Some(match keyword {
        "PatientID" | "PatientName" | "PatientBirthDate" => QueryLevel::Patient,
        "StudyInstanceUID" | "StudyDate" | "StudyDescription" | "AccessionNumber"
        | "ModalitiesInStudy" => QueryLevel::Study,
        "SeriesInstanceUID" | "Modality" | "SeriesNumber" | "SeriesDescription" => {
            QueryLevel::Series
        }
        "SOPInstanceUID" | "SOPClassUID" | "InstanceNumber" => QueryLevel::Image,
        _ => return None,
    })
}

fn wildcard(pattern: &[char], value: &[char]) -> bool {
    match pattern.split_first() {
        None => value.is_empty(),
        Some(('*', rest)) => (0..=value.len()).any(|i| wildcard(rest, &value[i..])),
        Some(('?', rest)) => !value.is_empty() && wildcard(rest, &value[1..]),
        Some((c, rest)) => value.first() == Some(c) && wildcard(rest, &value[1..]),
    }
}

/// Single value, wildcard, list of UID and date range matching (PS3.4 C.2.2.2) of a non-empty
/// key `wanted` against one stored value.
fn matches_value(keyword: &str, wanted: &str, stored: &str) -> bool {
    if keyword.ends_with("UID") && wanted.contains('\\') {
        return wanted.split('\\').any(|u| u == stored);
    }
    if keyword.ends_with("Date") {
        if let Some((from, to)) = wanted.split_once('-') {
            return (from.is_empty() || stored >= from) && (to.is_empty() || stored <= to);
        }
    }
    if wanted.contains(['*', '?']) {
        let p: Vec<char> = wanted.chars().collect();
        let v: Vec<char> = stored.chars().collect();
        return wildcard(&p, &v);
    }
    wanted == stored
}

/// One C-FIND as the archive received it.
#[derive(Debug, Clone)]
struct Received {
    association: Option<SocketAddr>,
    model: QueryModel,
    identifier: DataSet,
}

impl Received {
    fn level(&self) -> QueryLevel {
        self.identifier
            .get_str(QR_LEVEL)
            .unwrap()
            .unwrap()
            .parse()
            .unwrap()
    }

    fn value(&self, keyword: &str) -> Option<String> {
        let tag = Tag::parse(keyword).unwrap();
        self.identifier.get_str(tag).map(Result::unwrap)
    }
}

struct Archive {
    rows: Vec<Row>,
    /// Whether matches carry the unique keys of the levels above (PatientID at STUDY,
    /// StudyInstanceUID at SERIES, …); peers need not, and the builder must cope.
    echo_parents: bool,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Archive {
    fn answer(&self, model: QueryModel, id: &DataSet) -> Result<Vec<DataSet>, Status> {
        let level: QueryLevel = id
            .get_str(QR_LEVEL)
            .and_then(Result::ok)
            .and_then(|l| l.parse().ok())
            .ok_or(REFUSED)?;
        if !model.has_level(level) {
            return Err(REFUSED);
        }
        // Hierarchical baseline: a single value for the unique key of every level above.
        let top = match model {
            QueryModel::PatientRoot => QueryLevel::Patient,
            _ => QueryLevel::Study,
        };
        for above in [QueryLevel::Patient, QueryLevel::Study, QueryLevel::Series] {
            if above < top || above >= level {
                continue;
            }
            let tag = Tag::parse(above.unique_key()).unwrap();
            let single = id
                .get_str(tag)
                .and_then(Result::ok)
                .is_some_and(|v| !v.is_empty() && !v.contains(['\\', '*', '?']));
            if !single {
                return Err(REFUSED);
            }
        }
        let keys: Vec<(Tag, &'static str, String)> = id
            .elements()
            .iter()
            .filter(|e| e.tag != QR_LEVEL && e.tag != Tag::SPECIFIC_CHARACTER_SET)
            .filter_map(|e| {
                let keyword = e.tag.keyword()?;
                let value = id.get_str(e.tag)?.ok()?;
                Some((e.tag, keyword, value))
            })
            .collect();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for row in &self.rows {
            if !seen.insert(row[level.unique_key()].clone()) {
                continue;
            }
            let matched = keys.iter().all(|(_, kw, wanted)| {
                // Keys below the level and keys we do not know are not matched (baseline).
                if wanted.is_empty() || level_of(kw).is_none_or(|l| l > level) {
                    return true;
                }
                let stored = row.get(kw).map_or("", String::as_str);
                stored.split('\\').any(|one| matches_value(kw, wanted, one))
            });
            if !matched {
                continue;
            }
            let mut ds = DataSet::new();
            ds.set_str(QR_LEVEL, level.as_str()).unwrap();
            for (tag, kw, _) in &keys {
                match level_of(kw) {
                    Some(l) if l <= level => {
                        let parent_unique = l < level && l.unique_key() == *kw;
                        if parent_unique && !self.echo_parents {
                            continue;
                        }
                        ds.set_str(*tag, &row[kw]).unwrap();
                    }
                    Some(_) => {}
                    None => ds.set_empty(*tag),
                }
            }
            out.push(ds);
        }
        Ok(out)
    }
}

impl Handler for Archive {
    fn find(&self, peer: &ScpPeer, request: &FindRequest) -> Result<Matches, Status> {
        let model = match request.sop_class_uid.as_str() {
            uid::PATIENT_ROOT_QR_FIND => QueryModel::PatientRoot,
            uid::STUDY_ROOT_QR_FIND => QueryModel::StudyRoot,
            _ => return Err(Status::SOP_CLASS_NOT_SUPPORTED),
        };
        self.received.lock().unwrap().push(Received {
            association: peer.address,
            model,
            identifier: request.identifier.clone(),
        });
        let matches = self.answer(model, &request.identifier)?;
        Ok(Box::new(matches.into_iter().map(Ok)))
    }
}

struct Fixture {
    server: ServerHandle,
    scu: Scu,
    peer: Entity,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Fixture {
    fn start(echo_parents: bool) -> Fixture {
        let mut policy = AcceptorPolicy::new("QRSCP");
        for model in [uid::STUDY_ROOT_QR_FIND, uid::PATIENT_ROOT_QR_FIND] {
            policy.supported.push(SupportedSyntax::uid(
                model,
                &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
            ));
        }
        let received = Arc::new(Mutex::new(Vec::new()));
        let archive = Archive {
            rows: rows(),
            echo_parents,
            received: received.clone(),
        };
        let server = Scp::new(policy, archive)
            .bind("127.0.0.1:0")
            .unwrap()
            .spawn()
            .unwrap();
        let peer = Entity::local("QRSCP", server.local_addr().port());
        Fixture {
            server,
            scu: Scu::new("QUERY_SCU"),
            peer,
            received,
        }
    }

    fn builder(&self) -> QueryBuilder<'_> {
        QueryBuilder::new(&self.scu, &self.peer)
    }

    /// The identifiers received since the last call.
    fn take_received(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

/// (patient, study, series, SOP instance) of every instance in the archive.
fn expected_instances(keep: impl Fn(&Row) -> bool) -> BTreeSet<(String, String, String, String)> {
    rows()
        .into_iter()
        .filter(|r| keep(r))
        .map(|r| {
            (
                r["PatientID"].clone(),
                r["StudyInstanceUID"].clone(),
                r["SeriesInstanceUID"].clone(),
                r["SOPInstanceUID"].clone(),
            )
        })
        .collect()
}

fn instance_keys(images: &[ImageRecord]) -> BTreeSet<(String, String, String, String)> {
    images
        .iter()
        .map(|i| {
            (
                i.patient_id.clone(),
                i.study_instance_uid.clone(),
                i.series_instance_uid.clone(),
                i.sop_instance_uid.clone(),
            )
        })
        .collect()
}

/// Every SERIES and IMAGE identifier carried a single value for the unique key of each level
/// above (Study Root) and no other key of those levels; returns how many there were per level.
#[track_caller]
fn assert_hierarchical(received: &[Received]) -> BTreeMap<QueryLevel, usize> {
    let mut per_level = BTreeMap::new();
    for r in received {
        let level = r.level();
        *per_level.entry(level).or_insert(0) += 1;
        if level < QueryLevel::Series {
            continue;
        }
        assert_eq!(r.model, QueryModel::StudyRoot, "{r:?}");
        let mut above = vec!["StudyInstanceUID"];
        if level == QueryLevel::Image {
            above.push("SeriesInstanceUID");
        }
        for kw in &above {
            let v = r
                .value(kw)
                .unwrap_or_else(|| panic!("{level} without {kw}: {r:?}"));
            assert!(
                !v.is_empty() && !v.contains(['\\', '*', '?']),
                "{level} with {kw} = {v:?}"
            );
        }
        for e in r.identifier.elements() {
            let kw = e.tag.keyword().unwrap_or("?");
            if let Some(l) = level_of(kw) {
                assert!(
                    l >= level || above.contains(&kw),
                    "{level} identifier carries {kw} of a level above: {r:?}"
                );
            }
        }
    }
    per_level
}

#[track_caller]
fn assert_one_association(received: &[Received]) {
    let associations: BTreeSet<_> = received.iter().map(|r| r.association).collect();
    assert_eq!(associations.len(), 1, "{received:#?}");
}

#[test]
fn walk_from_patients_to_images_returns_every_instance_with_its_parents() {
    for echo_parents in [true, false] {
        let fx = Fixture::start(echo_parents);
        let q = fx.builder();

        let patients = q.patients("*").unwrap();
        let mut got: Vec<_> = patients
            .iter()
            .map(|p| {
                (
                    p.patient_id.as_str(),
                    p.patient_name.as_deref(),
                    p.birth_date.as_deref(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("P1", Some("DOE^JOHN"), Some("19700101")),
                ("P2", Some("ROE^JANE"), Some("19800202"))
            ]
        );
        let sent = fx.take_received();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].model, QueryModel::PatientRoot);
        assert_eq!(sent[0].level(), QueryLevel::Patient);
        assert_eq!(sent[0].value("PatientID").as_deref(), Some("*"));

        let mut images = Vec::new();
        let mut series_count = 0;
        let mut study_count = 0;
        for p in &patients {
            let studies = q.studies(&p.patient_id).unwrap();
            study_count += studies.len();
            for s in &studies {
                assert_eq!(s.patient_id, p.patient_id);
                assert_eq!(s.patient_name, p.patient_name);
                assert!(s.study_date.is_some() && s.accession_number.is_some());
            }
            let series = q.series(&studies).unwrap();
            series_count += series.len();
            for se in &series {
                assert_eq!(se.patient_id, p.patient_id);
                assert!(se.series_instance_uid.starts_with(&se.study_instance_uid));
                assert!(se.modality.is_some() && se.series_number.is_some());
            }
            let found = q.images(&series).unwrap();
            for i in &found {
                assert!(i.sop_instance_uid.starts_with(&i.series_instance_uid));
                assert!(i.sop_class_uid.is_some() && i.instance_number.is_some());
            }
            images.extend(found);
        }
        assert_eq!((study_count, series_count, images.len()), (3, 5, 9));
        assert_eq!(instance_keys(&images), expected_instances(|_| true));
        let plan = images
            .iter()
            .find(|i| i.sop_class_uid.as_deref() == Some(RT_PLAN))
            .unwrap();
        assert_eq!(plan.sop_instance_uid, "1.2.3.2.2.1");

        let sent = fx.take_received();
        let per_level = assert_hierarchical(&sent);
        // One SERIES query per study, one IMAGE query per series.
        assert_eq!(
            per_level,
            BTreeMap::from([
                (QueryLevel::Study, 2),
                (QueryLevel::Series, 3),
                (QueryLevel::Image, 5)
            ])
        );
        // Each call used one association for all its queries (P1's series: 2 studies).
        let p1_series: Vec<_> = sent
            .iter()
            .filter(|r| r.level() == QueryLevel::Series)
            .take(2)
            .cloned()
            .collect();
        assert_one_association(&p1_series);
        fx.server.stop();
    }
}

#[test]
fn modality_filter_returns_exactly_the_rtplan_instances() {
    let fx = Fixture::start(false);
    let q = fx.builder();

    let plans = q.instances_by_modality("P1", "RTPLAN").unwrap();
    assert_eq!(
        instance_keys(&plans),
        expected_instances(|r| r["Modality"] == "RTPLAN")
    );
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].sop_class_uid.as_deref(), Some(RT_PLAN));
    let sent = fx.take_received();
    assert_one_association(&sent);
    let per_level = assert_hierarchical(&sent);
    assert_eq!(
        per_level,
        BTreeMap::from([
            (QueryLevel::Study, 1),
            (QueryLevel::Series, 2),
            (QueryLevel::Image, 1)
        ])
    );
    for r in sent.iter().filter(|r| r.level() == QueryLevel::Series) {
        assert_eq!(r.value("Modality").as_deref(), Some("RTPLAN"));
    }

    assert!(q.instances_by_modality("P2", "RTPLAN").unwrap().is_empty());

    let rt = q.instances_by_modality("P1", "RT*").unwrap();
    assert_eq!(
        instance_keys(&rt),
        expected_instances(|r| r["Modality"].starts_with("RT"))
    );
    assert_eq!(rt.len(), 2);
    fx.server.stop();
}

#[test]
fn general_builder_encodes_ranges_and_uid_lists() {
    let fx = Fixture::start(true);
    let q = fx.builder();
    let (s1, s2, s3) = (study_uid(1), study_uid(2), study_uid(3));

    let query = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
        .key("PatientName", "DOE*")
        .unwrap()
        .return_key("StudyDate")
        .unwrap()
        .range("StudyDate", Some("20200101"), None)
        .unwrap()
        .uid_list("StudyInstanceUID", &[&s2, &s3])
        .unwrap();
    let id = query.identifier();
    assert_eq!(id.get_str(QR_LEVEL), Some(Ok("STUDY".into())));
    let list = format!("{s2}\\{s3}");
    assert_eq!(
        id.get_str(Tag(0x0008, 0x0020)),
        Some(Ok("20200101-".into()))
    );
    assert_eq!(id.get_str(Tag(0x0020, 0x000D)), Some(Ok(list.clone())));

    let matches = q.run(&query).unwrap();
    let uids: Vec<String> = matches
        .iter()
        .map(|m| m.get_uid(Tag(0x0020, 0x000D)).unwrap().unwrap())
        .collect();
    // DOE* is P1 (studies 1, 2); from 2020 on leaves 2; the list allows 2 and 3.
    assert_eq!(uids, std::slice::from_ref(&s2));
    let sent = fx.take_received();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].value("StudyDate").as_deref(), Some("20200101-"));
    assert_eq!(sent[0].value("StudyInstanceUID"), Some(list));
    assert_eq!(sent[0].value("PatientName").as_deref(), Some("DOE*"));

    // The other range forms, and a list as a Vec<String>.
    let allowed: Vec<String> = [s1.clone(), s3.clone()].into();
    let before_2020 = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
        .range("StudyDate", None, Some("20191231"))
        .unwrap()
        .uid_list("StudyInstanceUID", &allowed)
        .unwrap();
    let matches = q.run(&before_2020).unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(
        matches[0].get_uid(Tag(0x0020, 0x000D)),
        Some(Ok(s1.clone()))
    );
    let bounded = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
        .range("StudyDate", Some("20200101"), Some("20201231"))
        .unwrap()
        .return_key("StudyInstanceUID")
        .unwrap();
    let matches = q.run(&bounded).unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].get_uid(Tag(0x0020, 0x000D)), Some(Ok(s3)));
    let sent = fx.take_received();
    assert_eq!(sent[0].value("StudyDate").as_deref(), Some("-20191231"));
    assert_eq!(
        sent[1].value("StudyDate").as_deref(),
        Some("20200101-20201231")
    );
    fx.server.stop();
}

#[test]
fn failure_status_becomes_error_status_and_the_builder_goes_on() {
    let fx = Fixture::start(true);
    let q = fx.builder();
    // A SERIES query without the study's UID breaks the baseline: the archive refuses it.
    let orphan = Query::new(QueryModel::StudyRoot, QueryLevel::Series)
        .key("Modality", "CT")
        .unwrap();
    match q.run(&orphan) {
        Err(Error::Status(s)) => assert_eq!(s, REFUSED),
        other => panic!("expected Error::Status, got {other:?}"),
    }
    // Study Root has no PATIENT level: refused before anything is sent.
    let wrong = Query::new(QueryModel::StudyRoot, QueryLevel::Patient);
    assert!(matches!(q.run(&wrong), Err(Error::InvalidIdentifier(_))));
    assert_eq!(fx.take_received().len(), 1);
    // Nothing is left broken: the next call works.
    assert_eq!(q.studies("P2").unwrap().len(), 1);
    fx.server.stop();
}

/// DCMTK `dcmqrscp` loaded with the Q/R corpus (harness in `dimse_tests::qr`): walking
/// studies → series → images finds every loaded file exactly once.
#[test]
fn walks_dcmtk_dcmqrscp_to_every_loaded_instance() {
    use dimse_tests::qr::{image_triples, qr_corpus, start_dcmqrscp};
    use dimse_tests::{require_peer, Peer};

    let server = require_peer!(Peer::Dcmtk("dcmqrscp"));
    let index = require_peer!(Peer::Dcmtk("dcmqridx"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let archive = start_dcmqrscp(&server, &index, &qr_corpus());
    let scu = Scu::new("QUERY_SCU");
    let peer = Entity::local(archive.aet, archive.port);
    let q = QueryBuilder::new(&scu, &peer);

    let patients: BTreeSet<String> = q
        .patients("*")
        .unwrap()
        .into_iter()
        .map(|p| p.patient_id)
        .collect();
    assert_eq!(patients, archive.archive.patient_ids());

    let studies = q.studies("*").unwrap();
    let series = q.series(&studies).unwrap();
    let images = q.images(&series).unwrap();
    assert_eq!(images.len(), archive.archive.files.len(), "{images:#?}");
    assert_eq!(image_triples(&images), archive.archive.instance_triples());
}
