//! The index: what the archive knows about its instances, behind one interface ([`Index`])
//! with two implementations.
//!
//! - [`sqlite`]: `<root>/index.sqlite`, one process; the default.
//! - [`postgres`]: a PostgreSQL database any number of `dimse serve` processes share, each
//!   holding its connections on threads of its own ([`pool`]).
//!
//! Both keep one table per level, each row holding its level's attributes as a small Explicit
//! VR Little Endian data set beside the columns queries select on, and both version their
//! schema (a list of migrations applied in order, the version stored in the database).

use std::fmt;
use std::str::FromStr;

use bytes::{Bytes, BytesMut};
use dimse_core::dataset::DataSet;
use dimse_core::query::QueryLevel;
use dimse_core::uid::TransferSyntax;

use crate::error::IndexError;
use crate::levels::{Computed, Records};

mod pool;
pub(crate) mod postgres;
pub(crate) mod sqlite;

/// Where an archive keeps its index.
///
/// ```
/// use dimse_archive::IndexLocation;
///
/// assert_eq!("sqlite".parse::<IndexLocation>(), Ok(IndexLocation::Sqlite));
/// let pg: IndexLocation = "postgres://dimse@db.example:5432/pacs".parse().unwrap();
/// assert!(matches!(pg, IndexLocation::Postgres(_)));
/// assert!("mysql://db/pacs".parse::<IndexLocation>().is_err());
/// // The password never shows in logs or debug output.
/// let secret: IndexLocation = "postgres://dimse:hunter2@db/pacs".parse().unwrap();
/// assert!(!format!("{secret} {secret:?}").contains("hunter2"));
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub enum IndexLocation {
    /// `<root>/index.sqlite`: one process owns the archive.
    #[default]
    Sqlite,
    /// A PostgreSQL connection URL (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, or the
    /// key=value form rust-postgres accepts). Several archives (processes, hosts) may share
    /// the database and the storage root.
    Postgres(String),
}

impl FromStr for IndexLocation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "sqlite" {
            Ok(IndexLocation::Sqlite)
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(IndexLocation::Postgres(s.to_string()))
        } else {
            Err(format!(
                "index {:?}: expected \"sqlite\" or a postgres:// URL",
                redact(s)
            ))
        }
    }
}

impl fmt::Display for IndexLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexLocation::Sqlite => f.write_str("sqlite"),
            IndexLocation::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for IndexLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexLocation::Sqlite => f.write_str("Sqlite"),
            IndexLocation::Postgres(url) => write!(f, "Postgres({:?})", redact(url)),
        }
    }
}

/// `url` with the password of its user info replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

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
#[derive(Debug, Default, Clone)]
pub(crate) struct Filter {
    pub patient_ids: Option<Vec<String>>,
    pub study_uids: Option<Vec<String>>,
    pub series_uids: Option<Vec<String>>,
    pub sop_uids: Option<Vec<String>>,
}

/// How many levels a query at `level` joins: patient (1) down to instance (4).
pub(crate) fn depth(level: QueryLevel) -> usize {
    match level {
        QueryLevel::Patient => 1,
        QueryLevel::Study => 2,
        QueryLevel::Series => 3,
        QueryLevel::Image => 4,
    }
}

/// The SQL flavour a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The SELECT of [`Reader::candidates`] for `depth` levels and the filters given. Its
/// parameters are the values of [`filter_values`], in order: one per UID with SQLite
/// (`IN (?, ?)`), one array per filter with PostgreSQL (`= ANY($n)`, so that one prepared
/// statement serves every list length).
pub(crate) fn candidates_sql(depth: usize, filter: &Filter, dialect: Dialect) -> String {
    // Levels below the query's have no columns; their placeholders keep the row's shape.
    let (none_text, none_blob) = match dialect {
        Dialect::Sqlite => ("''", "NULL"),
        Dialect::Postgres => ("''::text", "NULL::bytea"),
    };
    let mut sql = String::from("SELECT p.id, p.attrs");
    for (d, uid, attrs) in [
        (2, "s.study_uid", "s.attrs"),
        (3, "se.series_uid", "se.attrs"),
        (4, "i.path", "i.attrs"),
    ] {
        if depth >= d {
            sql += &format!(", {uid}, {attrs}");
        } else {
            sql += &format!(", {none_text}, {none_blob}");
        }
    }
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
    for (column, list) in filter_columns(depth, filter) {
        clauses.push(match dialect {
            Dialect::Sqlite => format!("{column} IN ({})", vec!["?"; list.len()].join(", ")),
            Dialect::Postgres => format!("{column} = ANY(${})", clauses.len() + 1),
        });
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
    sql
}

/// The unique-key columns a [`Filter`] restricts at `depth`, with their values.
fn filter_columns(
    depth: usize,
    filter: &Filter,
) -> impl Iterator<Item = (&'static str, &Vec<String>)> {
    [
        ("p.patient_id", filter.patient_ids.as_ref(), 1),
        ("s.study_uid", filter.study_uids.as_ref(), 2),
        ("se.series_uid", filter.series_uids.as_ref(), 3),
        ("i.sop_uid", filter.sop_uids.as_ref(), 4),
    ]
    .into_iter()
    .filter(move |(_, _, min_depth)| depth >= *min_depth)
    .filter_map(|(column, list, _)| Some((column, list?)))
}

/// The value lists of [`candidates_sql`]'s filters, in its order.
pub(crate) fn filter_values(depth: usize, filter: &Filter) -> impl Iterator<Item = &Vec<String>> {
    filter_columns(depth, filter).map(|(_, list)| list)
}

/// Which key of a [`Candidate`] a computed attribute's query takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// `Candidate::patient` (an integer).
    Patient,
    /// `Candidate::study_uid`.
    Study,
    /// `Candidate::series_uid`.
    Series,
}

/// The query computing `what` (one `$1` parameter, valid in both dialects), and its key:
/// a count ([`Computed::is_count`]) or a sorted list of strings.
pub(crate) fn computed_sql(what: Computed) -> (&'static str, Key) {
    match what {
        Computed::PatientStudies => (
            "SELECT COUNT(*) FROM study WHERE patient = $1",
            Key::Patient,
        ),
        Computed::PatientSeries => (
            "SELECT COUNT(*) FROM series se JOIN study s ON se.study_uid = s.study_uid
             WHERE s.patient = $1",
            Key::Patient,
        ),
        Computed::PatientInstances => (
            "SELECT COUNT(*) FROM instance i JOIN series se ON i.series_uid = se.series_uid
             JOIN study s ON se.study_uid = s.study_uid WHERE s.patient = $1",
            Key::Patient,
        ),
        Computed::StudySeries => (
            "SELECT COUNT(*) FROM series WHERE study_uid = $1",
            Key::Study,
        ),
        Computed::StudyInstances => (
            "SELECT COUNT(*) FROM instance i JOIN series se ON i.series_uid = se.series_uid
             WHERE se.study_uid = $1",
            Key::Study,
        ),
        Computed::SeriesInstances => (
            "SELECT COUNT(*) FROM instance WHERE series_uid = $1",
            Key::Series,
        ),
        Computed::ModalitiesInStudy => (
            "SELECT DISTINCT modality FROM series WHERE study_uid = $1 AND modality <> ''
             ORDER BY modality",
            Key::Study,
        ),
        Computed::SopClassesInStudy => (
            "SELECT DISTINCT i.sop_class FROM instance i
             JOIN series se ON i.series_uid = se.series_uid
             WHERE se.study_uid = $1 ORDER BY i.sop_class",
            Key::Study,
        ),
    }
}

/// What one archive needs of its index. Every method is one unit of work against the
/// database; none keeps a transaction open past its return.
pub(crate) trait Index: Send + Sync {
    /// Whether other processes may write this index at the same time. A shared index is
    /// committed before each C-STORE response (another node cannot wait for this one's
    /// queue) and is never repaired from one node's view of the files at start-up.
    fn shared(&self) -> bool;

    /// Adds or replaces the instances of `entries` in one transaction. Returns, per entry,
    /// the file a replaced row pointed to when it differs from the new one (to be deleted).
    fn insert(&self, entries: Vec<Entry>) -> Result<Vec<Option<String>>, IndexError>;

    /// A handle for one query: the candidates, then computed attributes per candidate.
    fn reader(&self) -> Result<Box<dyn Reader>, IndexError>;

    /// Whether an instance with this SOP Instance UID is indexed.
    fn contains(&self, sop_uid: &str) -> Result<bool, IndexError> {
        self.instance(sop_uid).map(|found| found.is_some())
    }

    /// The SOP Class UID and file of the instance with this SOP Instance UID, if indexed.
    fn instance(&self, sop_uid: &str) -> Result<Option<(String, String)>, IndexError>;

    /// How many patients, studies, series and instances the index holds.
    fn counts(&self) -> Result<Counts, IndexError>;

    /// Every instance's SOP Instance UID and file (the start-up check).
    fn all_paths(&self) -> Result<Vec<(String, String)>, IndexError>;

    /// Removes instances (whose files are gone), and the levels above left empty.
    fn remove(&self, sop_uids: &[String]) -> Result<(), IndexError>;
}

/// The reading side of one C-FIND, C-MOVE or C-GET.
pub(crate) trait Reader: Send {
    /// Rows of `level` that satisfy `filter`, with their records and those of the levels
    /// above, ordered by patient then UIDs.
    fn candidates(
        &mut self,
        level: QueryLevel,
        filter: &Filter,
    ) -> Result<Vec<Candidate>, IndexError>;

    /// The value of a computed attribute for a candidate, as the strings of its values.
    fn computed(&mut self, what: Computed, c: &Candidate) -> Result<Vec<String>, IndexError>;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db?x=a@b"), "postgres://h/db?x=a@b");
    }
}

/// How much an archive holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Patients.
    pub patients: u64,
    /// Studies.
    pub studies: u64,
    /// Series.
    pub series: u64,
    /// Instances.
    pub instances: u64,
}
