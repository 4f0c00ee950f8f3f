//! The PostgreSQL index: one database shared by any number of archives (`dimse serve`
//! processes, on one host or several) over one storage root.
//!
//! - **Visibility.** Every commit happens before the C-STORE response ([`Index::shared`]): an
//!   instance acknowledged by one node is in the database, so a query through any other node
//!   sees it. The archive's group commit still batches the stores one node receives at once.
//! - **Races.** Rows are upserted, so the same instance stored through two nodes at once ends
//!   as one row. A batch takes its row locks level by level (patients, studies, series,
//!   instances) in key order, so two nodes' batches do not deadlock; a transaction that loses
//!   a race anyway (deadlock, serialization failure, a parent pruned under it) is retried.
//! - **Schema.** Versioned migrations in `dimse_schema`, applied in one transaction under an
//!   advisory lock so that nodes starting together migrate once.
//! - **Text order.** Every text column is `COLLATE "C"`: UIDs, modalities and SOP classes
//!   sort byte-wise as in SQLite, whatever the database's locale.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use dimse_core::query::QueryLevel;
use postgres::error::SqlState;
use postgres::{Statement, Transaction};

use super::pool::{Pool, Session};
use super::{
    candidates_sql, computed_sql, depth, encode, filter_values, redact, Candidate, Dialect, Entry,
    Filter, Index, Key, Reader,
};
use crate::error::IndexError;
use crate::index::Counts;
use crate::levels::Computed;

/// Connections one archive keeps open at most: queries beyond it wait for one. Two nodes
/// stay far below PostgreSQL's default `max_connections` (100).
const CONNECTIONS: usize = 8;

/// The key of the advisory lock migrations hold ("dimse" in ASCII).
const MIGRATION_LOCK: i64 = 0x64_69_6d_73_65;

/// How often a transaction that lost a race to another node is tried again.
const RETRIES: u32 = 8;

/// The schema, one migration per version: `MIGRATIONS[i]` takes the database from version
/// `i` to `i + 1` (recorded in `dimse_schema`). Never edit one that has shipped; add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the four levels, as in SQLite; identities for patients, UIDs as keys elsewhere.
    r#"
CREATE TABLE patient (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id TEXT COLLATE "C" NOT NULL,
    issuer TEXT COLLATE "C" NOT NULL,
    -- Patients without a Patient ID are told apart by name and birth date, not merged.
    anonymous_key TEXT COLLATE "C" NOT NULL,
    attrs BYTEA NOT NULL,
    UNIQUE (patient_id, issuer, anonymous_key)
);
CREATE TABLE study (
    study_uid TEXT COLLATE "C" PRIMARY KEY,
    patient BIGINT NOT NULL REFERENCES patient(id),
    attrs BYTEA NOT NULL
);
CREATE INDEX study_patient ON study(patient);
CREATE TABLE series (
    series_uid TEXT COLLATE "C" PRIMARY KEY,
    study_uid TEXT COLLATE "C" NOT NULL REFERENCES study(study_uid),
    modality TEXT COLLATE "C" NOT NULL,
    attrs BYTEA NOT NULL
);
CREATE INDEX series_study ON series(study_uid);
CREATE TABLE instance (
    sop_uid TEXT COLLATE "C" PRIMARY KEY,
    series_uid TEXT COLLATE "C" NOT NULL REFERENCES series(series_uid),
    sop_class TEXT COLLATE "C" NOT NULL,
    transfer_syntax TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    attrs BYTEA NOT NULL
);
CREATE INDEX instance_series ON instance(series_uid);
"#,
];

/// The PostgreSQL index of one archive (one node of several, possibly).
pub(crate) struct Postgres {
    pool: Arc<Pool>,
    server: String,
}

fn err<'a>(
    server: &'a str,
    doing: &'static str,
) -> impl FnOnce(postgres::Error) -> IndexError + 'a {
    move |source| IndexError::Postgres {
        server: server.to_string(),
        doing,
        source,
    }
}

impl Postgres {
    /// Connects to the database at `url` and brings its schema up to date.
    pub(crate) fn connect(url: &str) -> Result<Postgres, IndexError> {
        let server = redact(url);
        let config: postgres::Config = url.parse().map_err(err(&server, "reading the URL"))?;
        let pool = Arc::new(Pool::new(config, CONNECTIONS, server.clone()));
        let found = pool
            .run(migrate)?
            .map_err(err(&server, "migrating the schema"))?;
        if found > MIGRATIONS.len() as i64 {
            return Err(IndexError::SchemaTooNew {
                database: server,
                found,
                known: MIGRATIONS.len() as i64,
            });
        }
        Ok(Postgres { pool, server })
    }

    /// Runs `job` on a connection and names the server and `doing` in its error.
    fn run<R: Send + 'static>(
        &self,
        doing: &'static str,
        job: impl FnOnce(&mut Session) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Result<R, IndexError> {
        self.pool
            .run(move |s| {
                let r = job(s);
                if r.is_err() {
                    // A statement cache entry may name a statement the server no longer
                    // has (a failed prepare, a reset connection): start afresh.
                    s.reset();
                }
                r
            })?
            .map_err(err(&self.server, doing))
    }
}

/// Applies the migrations the database lacks. Returns the version found.
fn migrate(s: &mut Session) -> Result<i64, postgres::Error> {
    let mut tx = s.client()?.transaction()?;
    // Nodes starting together: one migrates, the others wait here and find nothing to do.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS dimse_schema (
             version INTEGER PRIMARY KEY,
             applied TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let found: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM dimse_schema", &[])?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO dimse_schema (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(i64::from(found))
}

impl Index for Postgres {
    fn shared(&self) -> bool {
        true
    }

    fn insert(&self, entries: Vec<Entry>) -> Result<Vec<Option<String>>, IndexError> {
        self.run("indexing", move |s| insert(s, &entries))
    }

    fn reader(&self) -> Result<Box<dyn Reader>, IndexError> {
        Ok(Box::new(PgReader {
            index: Postgres {
                pool: Arc::clone(&self.pool),
                server: self.server.clone(),
            },
        }))
    }

    fn instance(&self, sop_uid: &str) -> Result<Option<(String, String)>, IndexError> {
        let sop_uid = sop_uid.to_string();
        self.run("looking up an instance", move |s| {
            let st = s.prepare("SELECT sop_class, path FROM instance WHERE sop_uid = $1")?;
            Ok(s.client()?
                .query_opt(&st, &[&sop_uid])?
                .map(|row| (row.get(0), row.get(1))))
        })
    }

    fn counts(&self) -> Result<Counts, IndexError> {
        self.run("counting", |s| {
            let row = s.client()?.query_one(
                "SELECT (SELECT COUNT(*) FROM patient), (SELECT COUNT(*) FROM study),
                        (SELECT COUNT(*) FROM series), (SELECT COUNT(*) FROM instance)",
                &[],
            )?;
            let n = |i| row.get::<_, i64>(i) as u64;
            Ok(Counts {
                patients: n(0),
                studies: n(1),
                series: n(2),
                instances: n(3),
            })
        })
    }

    fn all_paths(&self) -> Result<Vec<(String, String)>, IndexError> {
        self.run("listing files", |s| {
            let rows = s
                .client()?
                .query("SELECT sop_uid, path FROM instance", &[])?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn remove(&self, sop_uids: &[String]) -> Result<(), IndexError> {
        let mut sop_uids = sop_uids.to_vec();
        sop_uids.sort();
        self.run("removing instances", move |s| {
            let st = Statements::prepare(s)?;
            retrying(s, |tx| {
                for uid in &sop_uids {
                    if let Some(row) = tx.query_opt(
                        "DELETE FROM instance WHERE sop_uid = $1 RETURNING series_uid",
                        &[uid],
                    )? {
                        prune(tx, &st, row.get(0))?;
                    }
                }
                Ok(())
            })
        })
    }
}

/// The statements of [`insert`] and [`prune`], prepared before their transaction starts.
struct Statements {
    patient: Statement,
    patient_id: Statement,
    study: Statement,
    series: Statement,
    instance_new: Statement,
    instance_old: Statement,
    instance_update: Statement,
    prune_series: Statement,
    prune_study: Statement,
    prune_patient: Statement,
}

impl Statements {
    fn prepare(s: &mut Session) -> Result<Statements, postgres::Error> {
        Ok(Statements {
            // RETURNING yields the id when the row was inserted or changed; an unchanged
            // row is not locked for an update nobody needs, and is read after.
            patient: s.prepare(
                "INSERT INTO patient (patient_id, issuer, anonymous_key, attrs)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (patient_id, issuer, anonymous_key) DO UPDATE
                 SET attrs = excluded.attrs WHERE patient.attrs IS DISTINCT FROM excluded.attrs
                 RETURNING id",
            )?,
            patient_id: s.prepare(
                "SELECT id FROM patient WHERE patient_id = $1 AND issuer = $2
                 AND anonymous_key = $3",
            )?,
            study: s.prepare(
                "INSERT INTO study (study_uid, patient, attrs) VALUES ($1, $2, $3)
                 ON CONFLICT (study_uid) DO UPDATE
                 SET patient = excluded.patient, attrs = excluded.attrs
                 WHERE study.patient IS DISTINCT FROM excluded.patient
                    OR study.attrs IS DISTINCT FROM excluded.attrs",
            )?,
            series: s.prepare(
                "INSERT INTO series (series_uid, study_uid, modality, attrs)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (series_uid) DO UPDATE SET study_uid = excluded.study_uid,
                     modality = excluded.modality, attrs = excluded.attrs
                 WHERE series.study_uid IS DISTINCT FROM excluded.study_uid
                    OR series.modality IS DISTINCT FROM excluded.modality
                    OR series.attrs IS DISTINCT FROM excluded.attrs",
            )?,
            // A new instance is one statement. An existing one is locked and read first, so
            // that the file it pointed to is known exactly even when another node replaces
            // it at the same moment.
            instance_new: s.prepare(
                "INSERT INTO instance
                     (sop_uid, series_uid, sop_class, transfer_syntax, path, attrs)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (sop_uid) DO NOTHING RETURNING 1",
            )?,
            instance_old: s
                .prepare("SELECT path, series_uid FROM instance WHERE sop_uid = $1 FOR UPDATE")?,
            instance_update: s.prepare(
                "UPDATE instance SET series_uid = $2, sop_class = $3, transfer_syntax = $4,
                     path = $5, attrs = $6
                 WHERE sop_uid = $1",
            )?,
            prune_series: s.prepare(
                "DELETE FROM series WHERE series_uid = $1
                 AND NOT EXISTS (SELECT 1 FROM instance WHERE series_uid = $1)
                 RETURNING study_uid",
            )?,
            prune_study: s.prepare(
                "DELETE FROM study WHERE study_uid = $1
                 AND NOT EXISTS (SELECT 1 FROM series WHERE study_uid = $1)
                 RETURNING patient",
            )?,
            prune_patient: s.prepare(
                "DELETE FROM patient WHERE id = $1
                 AND NOT EXISTS (SELECT 1 FROM study WHERE patient = $1)",
            )?,
        })
    }
}

/// Runs `body` in a transaction, again when it lost a race to another transaction.
fn retrying<R>(
    s: &mut Session,
    mut body: impl FnMut(&mut Transaction<'_>) -> Result<R, postgres::Error>,
) -> Result<R, postgres::Error> {
    let mut attempt = 0;
    loop {
        let mut tx = s.client()?.transaction()?;
        let outcome = body(&mut tx).and_then(|r| tx.commit().map(|()| r));
        match outcome {
            Err(e) if attempt < RETRIES && lost_race(&e) => {
                attempt += 1;
                tracing::debug!(attempt, error = %e, "index transaction lost a race; retrying");
                std::thread::sleep(Duration::from_millis(2 << attempt.min(6)));
            }
            outcome => return outcome,
        }
    }
}

/// Errors that mean "another transaction got there first", not "this cannot be done".
fn lost_race(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        // A foreign key violation here is a series, study or patient pruned by another
        // node between our upsert of it and our insert below it.
        *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::FOREIGN_KEY_VIOLATION
            || *c == SqlState::UNIQUE_VIOLATION
    })
}

/// See [`Index::insert`]. Within the batch, the last entry for a key wins, as if the entries
/// had been applied one by one.
fn insert(s: &mut Session, entries: &[Entry]) -> Result<Vec<Option<String>>, postgres::Error> {
    let st = Statements::prepare(s)?;
    // Each level's keys in order: every transaction locks rows in the same order.
    let mut patients = BTreeMap::new();
    let mut studies = BTreeMap::new();
    let mut series = BTreeMap::new();
    let mut instances: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        patients.insert((&e.patient_id, &e.issuer, &e.anonymous_key), e);
        studies.insert(&e.study_uid, e);
        series.insert(&e.series_uid, e);
        instances.entry(&e.sop_uid).or_default().push(i);
    }
    retrying(s, |tx| {
        let mut patient_ids = BTreeMap::new();
        for (&(id, issuer, anonymous), e) in &patients {
            let attrs = encode(&e.records.patient);
            let row = match tx.query_opt(&st.patient, &[id, issuer, anonymous, &attrs])? {
                Some(row) => row,
                None => tx.query_one(&st.patient_id, &[id, issuer, anonymous])?,
            };
            patient_ids.insert((id, issuer, anonymous), row.get::<_, i64>(0));
        }
        for (uid, e) in &studies {
            let patient = patient_ids[&(&e.patient_id, &e.issuer, &e.anonymous_key)];
            tx.execute(&st.study, &[uid, &patient, &encode(&e.records.study)])?;
        }
        for (uid, e) in &series {
            tx.execute(
                &st.series,
                &[uid, &e.study_uid, &e.modality, &encode(&e.records.series)],
            )?;
        }
        let mut replaced = vec![None; entries.len()];
        let mut emptied = BTreeSet::new();
        for (sop_uid, group) in &instances {
            let last = &entries[*group.last().expect("a group has an entry")];
            let attrs = encode(&last.records.instance);
            let values: [&(dyn postgres::types::ToSql + Sync); 6] = [
                sop_uid,
                &last.series_uid,
                &last.sop_class,
                &last.transfer_syntax,
                &last.path,
                &attrs,
            ];
            let old: Option<(String, String)> = loop {
                if tx.query_opt(&st.instance_new, &values)?.is_some() {
                    break None;
                }
                if let Some(row) = tx.query_opt(&st.instance_old, &[sop_uid])? {
                    tx.execute(&st.instance_update, &values)?;
                    break Some((row.get(0), row.get(1)));
                }
                // Removed between the two statements: insert again.
            };
            let mut previous = old.as_ref().map(|(path, _)| path.clone());
            if let Some((_, old_series)) = &old {
                emptied.insert(old_series.clone());
            }
            for &i in group {
                let e = &entries[i];
                replaced[i] = previous.take().filter(|p| *p != e.path);
                previous = Some(e.path.clone());
                emptied.insert(e.series_uid.clone());
            }
            emptied.remove(&last.series_uid);
        }
        for series_uid in &emptied {
            prune(tx, &st, series_uid.clone())?;
        }
        Ok(replaced)
    })
}

/// Drops `series_uid` if it has no instance left, then its study and patient likewise.
fn prune(
    tx: &mut Transaction<'_>,
    st: &Statements,
    series_uid: String,
) -> Result<(), postgres::Error> {
    let Some(study) = tx.query_opt(&st.prune_series, &[&series_uid])? else {
        return Ok(());
    };
    let study_uid: String = study.get(0);
    let Some(patient) = tx.query_opt(&st.prune_study, &[&study_uid])? else {
        return Ok(());
    };
    let patient: i64 = patient.get(0);
    tx.execute(&st.prune_patient, &[&patient])?;
    Ok(())
}

/// Queries of one C-FIND, C-MOVE or C-GET, each on whichever connection is free (each
/// statement sees everything committed before it, as with SQLite's reader).
struct PgReader {
    index: Postgres,
}

impl Reader for PgReader {
    fn candidates(
        &mut self,
        level: QueryLevel,
        filter: &Filter,
    ) -> Result<Vec<Candidate>, IndexError> {
        let depth = depth(level);
        let sql = candidates_sql(depth, filter, Dialect::Postgres);
        let lists: Vec<Vec<String>> = filter_values(depth, filter).cloned().collect();
        self.index.run("querying", move |s| {
            let st = s.prepare(&sql)?;
            let params: Vec<&(dyn postgres::types::ToSql + Sync)> = lists
                .iter()
                .map(|l| l as &(dyn postgres::types::ToSql + Sync))
                .collect();
            let rows = s.client()?.query(&st, &params)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut records = Vec::with_capacity(depth);
                for i in 0..depth {
                    records.push(r.try_get::<_, Vec<u8>>(1 + 2 * i)?);
                }
                out.push(Candidate {
                    patient: r.try_get(0)?,
                    study_uid: r.try_get(2)?,
                    series_uid: r.try_get(4)?,
                    path: r.try_get(6)?,
                    records,
                });
            }
            Ok(out)
        })
    }

    fn computed(&mut self, what: Computed, c: &Candidate) -> Result<Vec<String>, IndexError> {
        let (sql, key) = computed_sql(what);
        let (patient, uid) = match key {
            Key::Patient => (c.patient, String::new()),
            Key::Study => (0, c.study_uid.clone()),
            Key::Series => (0, c.series_uid.clone()),
        };
        self.index.run("computing an attribute", move |s| {
            let st = s.prepare(sql)?;
            let key: &(dyn postgres::types::ToSql + Sync) = match key {
                Key::Patient => &patient,
                Key::Study | Key::Series => &uid,
            };
            let rows = s.client()?.query(&st, &[key])?;
            if what.is_count() {
                let n: i64 = rows.first().map_or(Ok(0), |r| r.try_get(0))?;
                Ok(vec![n.to_string()])
            } else {
                rows.iter().map(|r| r.try_get(0)).collect()
            }
        })
    }
}
