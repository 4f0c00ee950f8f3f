//! C-FIND over the index, and the instance lists C-MOVE and C-GET send.

use crate::error::IndexError;
use crate::index::{self, Candidate, Filter, Reader};
use crate::levels::{self, Computed};
use crate::state::Inner;
use dimse_core::dataset::{DataSet, Tag, Value};
use dimse_core::dimse::Status;
use dimse_core::matching::{Condition, Matcher};
use dimse_core::query::{QueryLevel, QueryModel};
use dimse_core::uid;
use dimse_std::{Instances, Matches, StoreFile};

/// Identifier does not match SOP class: the status for an identifier we cannot read.
const BAD_IDENTIFIER: Status = Status::DOES_NOT_MATCH_SOP_CLASS;
/// Unable to process.
const UNABLE: Status = Status::UNABLE_TO_PROCESS;

fn model_of(sop_class: &str) -> Option<QueryModel> {
    match sop_class.trim_end_matches('\0') {
        uid::PATIENT_ROOT_QR_FIND | uid::PATIENT_ROOT_QR_MOVE | uid::PATIENT_ROOT_QR_GET => {
            Some(QueryModel::PatientRoot)
        }
        uid::STUDY_ROOT_QR_FIND | uid::STUDY_ROOT_QR_MOVE | uid::STUDY_ROOT_QR_GET => {
            Some(QueryModel::StudyRoot)
        }
        _ => None,
    }
}

fn level_of(model: QueryModel, identifier: &DataSet) -> Result<QueryLevel, Status> {
    let level = identifier
        .get_str(levels::QUERY_LEVEL)
        .and_then(Result::ok)
        .and_then(|s| s.trim().parse::<QueryLevel>().ok())
        .ok_or(BAD_IDENTIFIER)?;
    if model.has_level(level) {
        Ok(level)
    } else {
        Err(BAD_IDENTIFIER)
    }
}

/// The level an attribute belongs to by our tables (instance for anything unlisted).
fn level_of_tag(tag: Tag) -> QueryLevel {
    if let Some(c) = Computed::of(tag) {
        return c.level();
    }
    [QueryLevel::Patient, QueryLevel::Study, QueryLevel::Series]
        .into_iter()
        .find(|l| levels::level_tags(*l).contains(&tag))
        .unwrap_or(QueryLevel::Image)
}

/// One key of the identifier.
struct Key {
    tag: Tag,
    /// `None`: returned only (a sequence, a binary VR, or a key of a level below the query).
    matcher: Option<Matcher>,
    computed: Option<Computed>,
}

fn keys(identifier: &DataSet, level: QueryLevel) -> Vec<Key> {
    let skip = [
        levels::QUERY_LEVEL,
        levels::CHARSET,
        levels::RETRIEVE_AE_TITLE,
    ];
    identifier
        .elements()
        .iter()
        .filter(|e| !skip.contains(&e.tag) && e.tag.0 != 0x0002 && e.tag.1 != 0x0000)
        .map(|e| {
            let in_scope = level_of_tag(e.tag) <= level;
            let text = match &e.value {
                Value::Bytes(_) if e.vr.is_text() => identifier.get_str(e.tag).and_then(Result::ok),
                _ => None,
            };
            Key {
                tag: e.tag,
                matcher: text
                    .filter(|_| in_scope)
                    .map(|t| Matcher::new(e.vr, &t))
                    .filter(|m| *m.condition() != Condition::Universal),
                computed: Computed::of(e.tag).filter(|_| in_scope),
            }
        })
        .collect()
}

/// The unique keys given as single values or UID lists, to narrow the SQL query.
fn filter(keys: &[Key]) -> Filter {
    let values = |tag: Tag| -> Option<Vec<String>> {
        let key = keys.iter().find(|k| k.tag == tag)?;
        match key.matcher.as_ref()?.condition() {
            Condition::Single(v) => Some(vec![v.clone()]),
            Condition::UidList(list) => Some(list.clone()),
            _ => None,
        }
    };
    Filter {
        patient_ids: values(levels::PATIENT_ID),
        study_uids: values(levels::STUDY_UID),
        series_uids: values(levels::SERIES_UID),
        sop_uids: values(levels::SOP_INSTANCE_UID),
    }
}

fn reader(archive: &Inner) -> Result<Box<dyn Reader>, Status> {
    // Instances already answered with success must be visible to the query.
    archive.committer.flushed().reader().map_err(|e| {
        tracing::warn!(error = %e, "cannot open the index");
        UNABLE
    })
}

pub(crate) fn find(
    archive: &Inner,
    sop_class: &str,
    identifier: &DataSet,
) -> Result<Matches, Status> {
    let model = model_of(sop_class).ok_or(Status::SOP_CLASS_NOT_SUPPORTED)?;
    let level = level_of(model, identifier)?;
    let keys = keys(identifier, level);
    let mut reader = reader(archive)?;
    let candidates = reader.candidates(level, &filter(&keys)).map_err(|e| {
        tracing::warn!(error = %e, "index query failed");
        UNABLE
    })?;
    let mut query = Query {
        reader,
        keys,
        level,
        ae_title: archive.config.ae_title.clone(),
        patient: None,
    };
    let mut candidates = candidates.into_iter();
    Ok(Box::new(std::iter::from_fn(move || {
        for c in candidates.by_ref() {
            match query.answer(&c) {
                Ok(Some(response)) => return Some(Ok(response)),
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "index query failed");
                    return Some(Err(UNABLE));
                }
            }
        }
        None
    })))
}

struct Query {
    reader: Box<dyn Reader>,
    keys: Vec<Key>,
    level: QueryLevel,
    ae_title: String,
    /// The last candidate's patient and whether its record satisfies the patient-level
    /// keys. Candidates come ordered by patient, so a patient's studies share one check, and
    /// a wildcard on the name rejects them without decoding their own records.
    patient: Option<(i64, bool)>,
}

impl Query {
    /// Whether the patient record (the first of `c`'s: each record carries its character
    /// set, and a patient-level attribute is in no other) satisfies every patient-level key.
    fn patient_matches(&mut self, c: &Candidate) -> bool {
        match self.patient {
            Some((id, ok)) if id == c.patient => ok,
            _ => {
                let mut keys = self.keys.iter().filter_map(|k| match &k.matcher {
                    Some(m)
                        if k.computed.is_none() && level_of_tag(k.tag) == QueryLevel::Patient =>
                    {
                        Some((k.tag, m))
                    }
                    _ => None,
                });
                // Without patient-level keys there is nothing to decode.
                let ok = match (keys.next(), c.records.first()) {
                    (Some(first), Some(blob)) => {
                        let record = index::decode(blob);
                        std::iter::once(first).chain(keys).all(|(tag, m)| {
                            let values = record.get_strs(tag).and_then(Result::ok);
                            m.matches(&values.unwrap_or_default())
                        })
                    }
                    _ => true,
                };
                self.patient = Some((c.patient, ok));
                ok
            }
        }
    }

    /// The response identifier if `c` matches every key.
    fn answer(&mut self, c: &Candidate) -> Result<Option<DataSet>, IndexError> {
        if !self.patient_matches(c) {
            return Ok(None);
        }
        let mut record = DataSet::new();
        for blob in &c.records {
            for e in index::decode(blob).elements() {
                record.insert(e.clone());
            }
        }
        let mut response = DataSet::new();
        if let Some(cs) = record.get(levels::CHARSET) {
            response.insert(cs.clone());
        }
        for key in &self.keys {
            let values = match key.computed {
                Some(what) => self.reader.computed(what, c)?,
                None => record
                    .get_strs(key.tag)
                    .and_then(Result::ok)
                    .unwrap_or_default(),
            };
            if let Some(m) = &key.matcher {
                if !m.matches(&values) {
                    return Ok(None);
                }
            }
            match (key.computed, record.get(key.tag)) {
                (Some(_), _) => {
                    let joined = values.join("\\");
                    if response.set_str(key.tag, &joined).is_err() {
                        response.set_empty(key.tag);
                    }
                }
                (None, Some(e)) if level_of_tag(key.tag) <= self.level => {
                    response.insert(e.clone());
                }
                _ => response.set_empty(key.tag),
            }
        }
        let _ = response.set_str(levels::QUERY_LEVEL, self.level.as_str());
        let _ = response.set_str(levels::RETRIEVE_AE_TITLE, &self.ae_title);
        Ok(Some(response))
    }
}

/// The files a C-MOVE or C-GET identifier names: the unique keys of its level (one value or
/// a UID list) and single values for the levels above.
pub(crate) fn locate(
    archive: &Inner,
    sop_class: &str,
    identifier: &DataSet,
) -> Result<Instances, Status> {
    let model = model_of(sop_class).ok_or(Status::SOP_CLASS_NOT_SUPPORTED)?;
    let level = level_of(model, identifier)?;
    let keys = keys(identifier, level);
    let filter = filter(&keys);
    let given = match level {
        QueryLevel::Patient => filter.patient_ids.is_some(),
        QueryLevel::Study => filter.study_uids.is_some(),
        QueryLevel::Series => filter.series_uids.is_some(),
        QueryLevel::Image => filter.sop_uids.is_some(),
    };
    if !given {
        tracing::warn!(%level, "retrieve without the level's unique key");
        return Err(BAD_IDENTIFIER);
    }
    let rows = reader(archive)?
        .candidates(QueryLevel::Image, &filter)
        .map_err(|e| {
            tracing::warn!(error = %e, "index query failed");
            UNABLE
        })?;
    let mut files = Vec::with_capacity(rows.len());
    for row in rows {
        let path = archive.root.join(&row.path);
        match StoreFile::open(&path) {
            Ok(f) => files.push(f),
            // Counted by nobody: the file vanished or rotted under the index.
            Err(e) => tracing::warn!(error = %e, "cannot send an indexed file"),
        }
    }
    Ok(files)
}
