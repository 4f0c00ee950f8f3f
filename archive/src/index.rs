//! The SQLite index: one table per level, each row holding its level's attributes as a small
//! Explicit VR Little Endian data set beside the columns queries select on.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use dimse_core::dataset::DataSet;
use dimse_core::query::QueryLevel;
use dimse_core::uid::TransferSyntax;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension};

use crate::levels::{Computed, Records};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS patient (
    id INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL,
    issuer TEXT NOT NULL,
    -- Patients without a Patient ID are told apart by name and birth date, not merged.
    anonymous_key TEXT NOT NULL,
    attrs BLOB NOT NULL,
    UNIQUE (patient_id, issuer, anonymous_key)
);
CREATE TABLE IF NOT EXISTS study (
    study_uid TEXT PRIMARY KEY,
    patient INTEGER NOT NULL REFERENCES patient(id),
    attrs BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS study_patient ON study(patient);
CREATE TABLE IF NOT EXISTS series (
    series_uid TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL REFERENCES study(study_uid),
    modality TEXT NOT NULL,
    attrs BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS series_study ON series(study_uid);
CREATE TABLE IF NOT EXISTS instance (
    sop_uid TEXT PRIMARY KEY,
    series_uid TEXT NOT NULL REFERENCES series(series_uid),
    sop_class TEXT NOT NULL,
    transfer_syntax TEXT NOT NULL,
    path TEXT NOT NULL,
    attrs BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS instance_series ON instance(series_uid);
";

/// Everything the index learns about one stored instance.
pub(crate) struct Entry {
    pub sop_uid: String,
    pub sop_class: String,
    pub transfer_syntax: String,
    pub patient_id: String,
    pub issuer: String,
    /// Empty when the Patient ID is set; otherwise name and birth date.
    pub anonymous_key: String,
    pub study_uid: String,
    pub series_uid: String,
    pub modality: String,
    /// The file, relative to the archive's root.
    pub path: String,
    pub records: Records,
}

/// A row that may match a query: the records of its level and the levels above.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub patient: i64,
    pub study_uid: String,
    pub series_uid: String,
    pub path: String,
    pub records: Vec<Vec<u8>>,
}

/// Restrictions on the unique keys, applied in SQL before attribute matching.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub patient_ids: Option<Vec<String>>,
    pub study_uids: Option<Vec<String>>,
    pub series_uids: Option<Vec<String>>,
    pub sop_uids: Option<Vec<String>>,
}

pub(crate) fn encode(ds: &DataSet) -> Vec<u8> {
    let mut out = BytesMut::new();
    ds.encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
    out.to_vec()
}

pub(crate) fn decode(blob: &[u8]) -> DataSet {
    // Records are written by us; one that does not decode is treated as empty rather than
    // failing every query that touches it.
    DataSet::decode(
        Bytes::copy_from_slice(blob),
        &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN,
    )
    .unwrap_or_default()
}

/// Opens (creating if needed) the index at `path`. `durable` makes each commit survive power
/// loss (`synchronous=FULL`); without it a commit survives the process being killed (WAL with
/// `synchronous=NORMAL`).
pub(crate) fn open(path: &Path, durable: bool) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// A read-only connection for one query: WAL lets it run beside the writer.
pub(crate) fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

/// Adds or replaces the instances of `entries` in one transaction. Returns, per entry, the
/// file a replaced row pointed to when it differs from the new one (to be deleted).
pub(crate) fn insert(
    conn: &mut Connection,
    entries: &[&Entry],
) -> rusqlite::Result<Vec<Option<String>>> {
    let tx = conn.transaction()?;
    let mut replaced = Vec::with_capacity(entries.len());
    let mut moved = false;
    for e in entries {
        tx.prepare_cached(
            "INSERT INTO patient (patient_id, issuer, anonymous_key, attrs) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (patient_id, issuer, anonymous_key) DO UPDATE SET attrs = excluded.attrs
             WHERE attrs IS NOT excluded.attrs",
        )?
        .execute(params![
            e.patient_id,
            e.issuer,
            e.anonymous_key,
            encode(&e.records.patient)
        ])?;
        let patient: i64 = tx.prepare_cached(
            "SELECT id FROM patient WHERE patient_id = ?1 AND issuer = ?2 AND anonymous_key = ?3",
        )?
        .query_row(params![e.patient_id, e.issuer, e.anonymous_key], |r| r.get(0))?;
        tx.prepare_cached(
            "INSERT INTO study (study_uid, patient, attrs) VALUES (?1, ?2, ?3)
             ON CONFLICT (study_uid) DO UPDATE SET patient = excluded.patient,
                                                   attrs = excluded.attrs
             WHERE patient IS NOT excluded.patient OR attrs IS NOT excluded.attrs",
        )?
        .execute(params![e.study_uid, patient, encode(&e.records.study)])?;
        tx.prepare_cached(
            "INSERT INTO series (series_uid, study_uid, modality, attrs) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (series_uid) DO UPDATE SET study_uid = excluded.study_uid,
                 modality = excluded.modality, attrs = excluded.attrs
             WHERE study_uid IS NOT excluded.study_uid OR modality IS NOT excluded.modality
                OR attrs IS NOT excluded.attrs",
        )?
        .execute(params![
            e.series_uid,
            e.study_uid,
            e.modality,
            encode(&e.records.series)
        ])?;
        let old: Option<(String, String)> = tx
            .prepare_cached("SELECT path, series_uid FROM instance WHERE sop_uid = ?1")?
            .query_row(params![e.sop_uid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        tx.prepare_cached(
            "INSERT INTO instance (sop_uid, series_uid, sop_class, transfer_syntax, path, attrs)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (sop_uid) DO UPDATE SET series_uid = excluded.series_uid,
                 sop_class = excluded.sop_class, transfer_syntax = excluded.transfer_syntax,
                 path = excluded.path, attrs = excluded.attrs",
        )?
        .execute(params![
            e.sop_uid,
            e.series_uid,
            e.sop_class,
            e.transfer_syntax,
            e.path,
            encode(&e.records.instance)
        ])?;
        moved |= old.as_ref().is_some_and(|(_, s)| *s != e.series_uid);
        replaced.push(old.map(|(p, _)| p).filter(|p| *p != e.path));
    }
    if moved {
        prune(&tx)?;
    }
    tx.commit()?;
    Ok(replaced)
}

/// Drops series, studies and patients left without instances.
fn prune(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DELETE FROM series WHERE series_uid NOT IN (SELECT series_uid FROM instance);
         DELETE FROM study WHERE study_uid NOT IN (SELECT study_uid FROM series);
         DELETE FROM patient WHERE id NOT IN (SELECT patient FROM study);",
    )
}

/// Every instance's SOP Instance UID and file, for the start-up check.
pub(crate) fn all_paths(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT sop_uid, path FROM instance")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Removes instances whose files are gone.
pub(crate) fn remove(conn: &mut Connection, sop_uids: &[String]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for uid in sop_uids {
        tx.execute("DELETE FROM instance WHERE sop_uid = ?1", params![uid])?;
    }
    prune(&tx)?;
    tx.commit()
}

/// Rows of `level` that satisfy `filter`, with their records and those of the levels above.
pub(crate) fn candidates(
    conn: &Connection,
    level: QueryLevel,
    filter: &Filter,
) -> rusqlite::Result<Vec<Candidate>> {
    let depth = match level {
        QueryLevel::Patient => 1,
        QueryLevel::Study => 2,
        QueryLevel::Series => 3,
        QueryLevel::Image => 4,
    };
    let mut sql = String::from("SELECT p.id, p.attrs");
    sql += if depth >= 2 {
        ", s.study_uid, s.attrs"
    } else {
        ", '', NULL"
    };
    sql += if depth >= 3 {
        ", se.series_uid, se.attrs"
    } else {
        ", '', NULL"
    };
    sql += if depth >= 4 {
        ", i.path, i.attrs"
    } else {
        ", '', NULL"
    };
    sql += " FROM patient p";
    if depth >= 2 {
        sql += " JOIN study s ON s.patient = p.id";
    }
    if depth >= 3 {
        sql += " JOIN series se ON se.study_uid = s.study_uid";
    }
    if depth >= 4 {
        sql += " JOIN instance i ON i.series_uid = se.series_uid";
    }
    let mut clauses = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    for (column, list, min_depth) in [
        ("p.patient_id", &filter.patient_ids, 1),
        ("s.study_uid", &filter.study_uids, 2),
        ("se.series_uid", &filter.series_uids, 3),
        ("i.sop_uid", &filter.sop_uids, 4),
    ] {
        if let Some(list) = list.as_ref().filter(|_| depth >= min_depth) {
            let marks = vec!["?"; list.len()].join(", ");
            clauses.push(format!("{column} IN ({marks})"));
            values.extend(list.iter().map(String::as_str));
        }
    }
    if !clauses.is_empty() {
        sql += " WHERE ";
        sql += &clauses.join(" AND ");
    }
    sql += " ORDER BY p.id";
    for (d, col) in [(2, "s.study_uid"), (3, "se.series_uid"), (4, "i.sop_uid")] {
        if depth >= d {
            sql += ", ";
            sql += col;
        }
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |r| {
        let mut records = Vec::with_capacity(depth);
        for i in 0..depth {
            records.push(r.get::<_, Vec<u8>>(1 + 2 * i)?);
        }
        Ok(Candidate {
            patient: r.get(0)?,
            study_uid: r.get(2)?,
            series_uid: r.get(4)?,
            path: r.get(6)?,
            records,
        })
    })?;
    rows.collect()
}

/// The value of a computed attribute for a candidate, as the strings of its values.
pub(crate) fn computed(
    conn: &Connection,
    what: Computed,
    c: &Candidate,
) -> rusqlite::Result<Vec<String>> {
    let count = |sql: &str, key: &dyn rusqlite::ToSql| -> rusqlite::Result<Vec<String>> {
        let n: i64 = conn.query_row(sql, [key], |r| r.get(0))?;
        Ok(vec![n.to_string()])
    };
    let list = |sql: &str, key: &str| -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([key], |r| r.get::<_, String>(0))?;
        rows.collect()
    };
    match what {
        Computed::PatientStudies => {
            count("SELECT COUNT(*) FROM study WHERE patient = ?1", &c.patient)
        }
        Computed::PatientSeries => count(
            "SELECT COUNT(*) FROM series se JOIN study s ON se.study_uid = s.study_uid
             WHERE s.patient = ?1",
            &c.patient,
        ),
        Computed::PatientInstances => count(
            "SELECT COUNT(*) FROM instance i JOIN series se ON i.series_uid = se.series_uid
             JOIN study s ON se.study_uid = s.study_uid WHERE s.patient = ?1",
            &c.patient,
        ),
        Computed::StudySeries => count(
            "SELECT COUNT(*) FROM series WHERE study_uid = ?1",
            &c.study_uid,
        ),
        Computed::StudyInstances => count(
            "SELECT COUNT(*) FROM instance i JOIN series se ON i.series_uid = se.series_uid
             WHERE se.study_uid = ?1",
            &c.study_uid,
        ),
        Computed::SeriesInstances => count(
            "SELECT COUNT(*) FROM instance WHERE series_uid = ?1",
            &c.series_uid,
        ),
        Computed::ModalitiesInStudy => list(
            "SELECT DISTINCT modality FROM series WHERE study_uid = ?1 AND modality <> ''
             ORDER BY modality",
            &c.study_uid,
        ),
        Computed::SopClassesInStudy => list(
            "SELECT DISTINCT i.sop_class FROM instance i
             JOIN series se ON i.series_uid = se.series_uid
             WHERE se.study_uid = ?1 ORDER BY i.sop_class",
            &c.study_uid,
        ),
    }
}
