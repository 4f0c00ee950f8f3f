//! The SQLite index (`<root>/index.sqlite`, WAL): the default, for one process.
//!
//! One writer connection (behind a mutex: the archive commits in batches from one thread at a
//! time anyway), and a read-only connection per query, which WAL lets run beside the writer.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use dimse_core::query::QueryLevel;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension};

use super::{
    candidates_sql, computed_sql, depth, encode, filter_values, Candidate, Dialect, Entry, Filter,
    Index, Key, Reader,
};
use crate::error::IndexError;
use crate::index::Counts;
use crate::levels::Computed;

/// The schema, one migration per version: `MIGRATIONS[i]` takes the file from version `i` to
/// `i + 1` (`PRAGMA user_version`). Never edit one that has shipped; add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the four levels. `IF NOT EXISTS`, because files made before versioning hold these
    // tables at user_version 0.
    "
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
",
];

/// The writer connection's page cache, KiB.
const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// The SQLite index of one archive.
pub(crate) struct Sqlite {
    path: PathBuf,
    writer: Mutex<Connection>,
}

impl Sqlite {
    /// Opens (creating and migrating if needed) the index at `path`. `durable` makes each
    /// commit survive power loss (`synchronous=FULL`); without it a commit survives the
    /// process being killed (WAL with `synchronous=NORMAL`).
    pub(crate) fn open(path: PathBuf, durable: bool) -> Result<Sqlite, IndexError> {
        let err = |doing| {
            let path = path.clone();
            move |source| IndexError::Sqlite {
                path,
                doing,
                source,
            }
        };
        let mut conn = Connection::open(&path).map_err(err("opening"))?;
        conn.busy_timeout(Duration::from_secs(30))
            .and_then(|_| conn.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|_| {
                conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })
            })
            // The writer's page cache. With SQLite's default 2 MiB, inserts into the UID
            // indexes of a large archive miss it (`loopback --cases 7` on tmpfs: 12,600 to
            // 14,100 instances/s up to 50,000 instances, 7,700 to 9,400 from 120,000 to
            // 220,000; with 64 MiB, 10,000 to 15,500 there in two runs). It grows only as
            // the index does.
            .and_then(|_| conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB))
            .map_err(err("opening"))?;
        let found = migrate(&mut conn).map_err(err("migrating the schema"))?;
        if found > MIGRATIONS.len() as i64 {
            return Err(IndexError::SchemaTooNew {
                database: path.display().to_string(),
                found,
                known: MIGRATIONS.len() as i64,
            });
        }
        Ok(Sqlite {
            path,
            writer: Mutex::new(conn),
        })
    }

    fn err(&self, doing: &'static str) -> impl FnOnce(rusqlite::Error) -> IndexError + '_ {
        move |source| IndexError::Sqlite {
            path: self.path.clone(),
            doing,
            source,
        }
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // SQLite rolls back a transaction a panic left unfinished; the connection is sound.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Applies the migrations the file lacks, in one transaction. Returns the version found, so
/// that a file from a newer build is refused rather than written.
fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.commit()?;
    Ok(found)
}

impl Index for Sqlite {
    fn shared(&self) -> bool {
        false
    }

    fn insert(&self, entries: Vec<Entry>) -> Result<Vec<Option<String>>, IndexError> {
        insert(&mut self.writer(), &entries).map_err(self.err("indexing"))
    }

    fn reader(&self) -> Result<Box<dyn Reader>, IndexError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|c| c.busy_timeout(Duration::from_secs(30)).map(|_| c))
        .map_err(self.err("opening a reader"))?;
        Ok(Box::new(SqliteReader {
            conn,
            path: self.path.clone(),
        }))
    }

    fn instance(&self, sop_uid: &str) -> Result<Option<(String, String)>, IndexError> {
        self.writer()
            .prepare_cached("SELECT sop_class, path FROM instance WHERE sop_uid = ?1")
            .and_then(|mut q| {
                q.query_row([sop_uid], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(self.err("looking up an instance"))
    }

    fn counts(&self) -> Result<Counts, IndexError> {
        let conn = self.writer();
        let n = |table: &str| -> rusqlite::Result<u64> {
            conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        };
        let counts = || -> rusqlite::Result<Counts> {
            Ok(Counts {
                patients: n("patient")?,
                studies: n("study")?,
                series: n("series")?,
                instances: n("instance")?,
            })
        };
        counts().map_err(self.err("counting"))
    }

    fn all_paths(&self) -> Result<Vec<(String, String)>, IndexError> {
        let conn = self.writer();
        let rows = || -> rusqlite::Result<Vec<(String, String)>> {
            let mut stmt = conn.prepare("SELECT sop_uid, path FROM instance")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        rows().map_err(self.err("listing files"))
    }

    fn remove(&self, sop_uids: &[String]) -> Result<(), IndexError> {
        let mut conn = self.writer();
        let mut remove = || -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            for uid in sop_uids {
                tx.execute("DELETE FROM instance WHERE sop_uid = ?1", params![uid])?;
            }
            prune(&tx)?;
            tx.commit()
        };
        remove().map_err(self.err("removing instances"))
    }
}

/// See [`Index::insert`].
fn insert(conn: &mut Connection, entries: &[Entry]) -> rusqlite::Result<Vec<Option<String>>> {
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

/// A read-only connection for one query.
struct SqliteReader {
    conn: Connection,
    path: PathBuf,
}

impl SqliteReader {
    fn err(&self, doing: &'static str) -> impl FnOnce(rusqlite::Error) -> IndexError + '_ {
        move |source| IndexError::Sqlite {
            path: self.path.clone(),
            doing,
            source,
        }
    }
}

impl Reader for SqliteReader {
    fn candidates(
        &mut self,
        level: QueryLevel,
        filter: &Filter,
    ) -> Result<Vec<Candidate>, IndexError> {
        candidates(&self.conn, level, filter).map_err(self.err("querying"))
    }

    fn computed(&mut self, what: Computed, c: &Candidate) -> Result<Vec<String>, IndexError> {
        computed(&self.conn, what, c).map_err(self.err("computing an attribute"))
    }
}

fn candidates(
    conn: &Connection,
    level: QueryLevel,
    filter: &Filter,
) -> rusqlite::Result<Vec<Candidate>> {
    let depth = depth(level);
    let sql = candidates_sql(depth, filter, Dialect::Sqlite);
    let values: Vec<&str> = filter_values(depth, filter)
        .flatten()
        .map(String::as_str)
        .collect();
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

fn computed(conn: &Connection, what: Computed, c: &Candidate) -> rusqlite::Result<Vec<String>> {
    let (sql, key) = computed_sql(what);
    let mut stmt = conn.prepare_cached(sql)?;
    let key: &dyn rusqlite::ToSql = match key {
        Key::Patient => &c.patient,
        Key::Study => &c.study_uid,
        Key::Series => &c.series_uid,
    };
    if what.is_count() {
        let n: i64 = stmt.query_row([key], |r| r.get(0))?;
        Ok(vec![n.to_string()])
    } else {
        let rows = stmt.query_map([key], |r| r.get::<_, String>(0))?;
        rows.collect()
    }
}
