//! Query/Retrieve information models and levels (PS3.4 Annex C, K).

use std::fmt;
use std::str::FromStr;

use crate::uid;

/// A query/retrieve information model.
///
/// ```
/// use dimse_core::query::QueryModel;
///
/// let m: QueryModel = "study".parse().unwrap();
/// assert_eq!(m.find_sop_class(), "1.2.840.10008.5.1.4.1.2.2.1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryModel {
    /// Patient Root: PATIENT → STUDY → SERIES → IMAGE.
    PatientRoot,
    /// Study Root: STUDY → SERIES → IMAGE (patient attributes at study level).
    StudyRoot,
    /// Modality Worklist (C-FIND only, no levels).
    Worklist,
}

impl QueryModel {
    /// The C-FIND SOP class of the model.
    pub fn find_sop_class(self) -> &'static str {
        match self {
            QueryModel::PatientRoot => uid::PATIENT_ROOT_QR_FIND,
            QueryModel::StudyRoot => uid::STUDY_ROOT_QR_FIND,
            QueryModel::Worklist => uid::MODALITY_WORKLIST_FIND,
        }
    }

    /// The C-MOVE SOP class, where the model has one.
    pub fn move_sop_class(self) -> Option<&'static str> {
        match self {
            QueryModel::PatientRoot => Some(uid::PATIENT_ROOT_QR_MOVE),
            QueryModel::StudyRoot => Some(uid::STUDY_ROOT_QR_MOVE),
            QueryModel::Worklist => None,
        }
    }

    /// The C-GET SOP class, where the model has one.
    pub fn get_sop_class(self) -> Option<&'static str> {
        match self {
            QueryModel::PatientRoot => Some(uid::PATIENT_ROOT_QR_GET),
            QueryModel::StudyRoot => Some(uid::STUDY_ROOT_QR_GET),
            QueryModel::Worklist => None,
        }
    }

    /// Whether the model has this level.
    pub fn has_level(self, level: QueryLevel) -> bool {
        match self {
            QueryModel::PatientRoot => true,
            QueryModel::StudyRoot => level != QueryLevel::Patient,
            QueryModel::Worklist => false,
        }
    }
}

impl FromStr for QueryModel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "patient" | "patient-root" => Ok(QueryModel::PatientRoot),
            "study" | "study-root" => Ok(QueryModel::StudyRoot),
            "worklist" | "mwl" => Ok(QueryModel::Worklist),
            _ => Err(format!(
                "unknown query model {s:?} (expected patient, study or worklist)"
            )),
        }
    }
}

/// A query/retrieve level, the value of QueryRetrieveLevel (0008,0052).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryLevel {
    /// PATIENT
    Patient,
    /// STUDY
    Study,
    /// SERIES
    Series,
    /// IMAGE (instance)
    Image,
}

impl QueryLevel {
    /// The code string sent in QueryRetrieveLevel.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryLevel::Patient => "PATIENT",
            QueryLevel::Study => "STUDY",
            QueryLevel::Series => "SERIES",
            QueryLevel::Image => "IMAGE",
        }
    }

    /// The keyword of the level's unique key (PatientID for PATIENT, the UIDs below).
    pub fn unique_key(self) -> &'static str {
        match self {
            QueryLevel::Patient => "PatientID",
            QueryLevel::Study => "StudyInstanceUID",
            QueryLevel::Series => "SeriesInstanceUID",
            QueryLevel::Image => "SOPInstanceUID",
        }
    }
}

impl fmt::Display for QueryLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for QueryLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "PATIENT" => Ok(QueryLevel::Patient),
            "STUDY" => Ok(QueryLevel::Study),
            "SERIES" => Ok(QueryLevel::Series),
            "IMAGE" | "INSTANCE" => Ok(QueryLevel::Image),
            _ => Err(format!(
                "unknown level {s:?} (expected PATIENT, STUDY, SERIES or IMAGE)"
            )),
        }
    }
}
