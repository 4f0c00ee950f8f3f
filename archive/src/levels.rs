//! Which attributes belong to which level of the Query/Retrieve hierarchy (PS3.4 C.6), and
//! how one instance's data set splits into the records the index keeps.

use dimse_core::dataset::{DataSet, Element, Tag, Value};
use dimse_core::query::QueryLevel;

pub(crate) const PATIENT_NAME: Tag = Tag(0x0010, 0x0010);
pub(crate) const PATIENT_ID: Tag = Tag(0x0010, 0x0020);
pub(crate) const PATIENT_BIRTH_DATE: Tag = Tag(0x0010, 0x0030);
pub(crate) const ISSUER_OF_PATIENT_ID: Tag = Tag(0x0010, 0x0021);
pub(crate) const STUDY_UID: Tag = Tag(0x0020, 0x000D);
pub(crate) const SERIES_UID: Tag = Tag(0x0020, 0x000E);
pub(crate) const SOP_INSTANCE_UID: Tag = Tag(0x0008, 0x0018);
pub(crate) const MODALITY: Tag = Tag(0x0008, 0x0060);
pub(crate) const QUERY_LEVEL: Tag = Tag(0x0008, 0x0052);
pub(crate) const RETRIEVE_AE_TITLE: Tag = Tag(0x0008, 0x0054);
pub(crate) const CHARSET: Tag = Tag::SPECIFIC_CHARACTER_SET;

/// Patient level (Table C.6-1 and the patient module).
const PATIENT: &[Tag] = &[
    PATIENT_NAME,
    PATIENT_ID,
    ISSUER_OF_PATIENT_ID,
    PATIENT_BIRTH_DATE,
    Tag(0x0010, 0x0032), // PatientBirthTime
    Tag(0x0010, 0x0040), // PatientSex
    Tag(0x0010, 0x1000), // OtherPatientIDs
    Tag(0x0010, 0x1001), // OtherPatientNames
    Tag(0x0010, 0x2160), // EthnicGroup
    Tag(0x0010, 0x4000), // PatientComments
];

/// Study level (Tables C.6-2, C.6-5 and the general study and patient study modules).
const STUDY: &[Tag] = &[
    Tag(0x0008, 0x0020), // StudyDate
    Tag(0x0008, 0x0030), // StudyTime
    Tag(0x0008, 0x0050), // AccessionNumber
    Tag(0x0008, 0x0090), // ReferringPhysicianName
    Tag(0x0008, 0x1030), // StudyDescription
    Tag(0x0008, 0x1060), // NameOfPhysiciansReadingStudy
    Tag(0x0010, 0x1010), // PatientAge
    Tag(0x0010, 0x1020), // PatientSize
    Tag(0x0010, 0x1030), // PatientWeight
    Tag(0x0020, 0x0010), // StudyID
    STUDY_UID,
];

/// Series level (the general series module).
const SERIES: &[Tag] = &[
    MODALITY,
    Tag(0x0008, 0x0021), // SeriesDate
    Tag(0x0008, 0x0031), // SeriesTime
    Tag(0x0008, 0x103E), // SeriesDescription
    Tag(0x0018, 0x0015), // BodyPartExamined
    Tag(0x0018, 0x1030), // ProtocolName
    Tag(0x0020, 0x0011), // SeriesNumber
    Tag(0x0020, 0x0060), // Laterality
    SERIES_UID,
    Tag(0x0040, 0x0244), // PerformedProcedureStepStartDate
    Tag(0x0040, 0x0245), // PerformedProcedureStepStartTime
];

/// Values longer than this stay out of the instance record: they are bulk data, not keys.
const MAX_KEPT_VALUE: usize = 1024;

/// The attributes a level's record keeps.
pub(crate) fn level_tags(level: QueryLevel) -> &'static [Tag] {
    match level {
        QueryLevel::Patient => PATIENT,
        QueryLevel::Study => STUDY,
        QueryLevel::Series => SERIES,
        QueryLevel::Image => &[],
    }
}

/// Attributes computed from the index rather than stored (PS3.4 C.6.1.1.x, C.6.2.1.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Computed {
    PatientStudies,
    PatientSeries,
    PatientInstances,
    StudySeries,
    StudyInstances,
    ModalitiesInStudy,
    SopClassesInStudy,
    SeriesInstances,
}

impl Computed {
    pub(crate) fn of(tag: Tag) -> Option<Computed> {
        Some(match tag {
            Tag(0x0020, 0x1200) => Computed::PatientStudies,
            Tag(0x0020, 0x1202) => Computed::PatientSeries,
            Tag(0x0020, 0x1204) => Computed::PatientInstances,
            Tag(0x0020, 0x1206) => Computed::StudySeries,
            Tag(0x0020, 0x1208) => Computed::StudyInstances,
            Tag(0x0008, 0x0061) => Computed::ModalitiesInStudy,
            Tag(0x0008, 0x0062) => Computed::SopClassesInStudy,
            Tag(0x0020, 0x1209) => Computed::SeriesInstances,
            _ => return None,
        })
    }

    /// Whether the attribute is a number of related entities (else a list of values).
    pub(crate) fn is_count(self) -> bool {
        !matches!(
            self,
            Computed::ModalitiesInStudy | Computed::SopClassesInStudy
        )
    }

    /// The level whose entity the attribute counts over; it is available there and below.
    pub(crate) fn level(self) -> QueryLevel {
        match self {
            Computed::PatientStudies | Computed::PatientSeries | Computed::PatientInstances => {
                QueryLevel::Patient
            }
            Computed::SeriesInstances => QueryLevel::Series,
            _ => QueryLevel::Study,
        }
    }
}

/// One instance's data set split into the index's records, each a small data set.
pub(crate) struct Records {
    pub patient: DataSet,
    pub study: DataSet,
    pub series: DataSet,
    pub instance: DataSet,
}

fn pick(ds: &DataSet, tags: &[Tag]) -> DataSet {
    let mut out = DataSet::new();
    // The character set travels with every record so its text decodes on its own.
    for tag in std::iter::once(&CHARSET).chain(tags) {
        if let Some(e) = ds.get(*tag) {
            out.insert(e.clone());
        }
    }
    out
}

fn small(e: &Element) -> bool {
    match &e.value {
        Value::Bytes(b) => b.len() <= MAX_KEPT_VALUE,
        Value::Sequence(_) | Value::Fragments(_) => false,
    }
}

impl Records {
    /// Splits the top-level attributes of an instance (Pixel Data excluded by the caller).
    pub(crate) fn split(ds: &DataSet) -> Records {
        let mut instance = DataSet::new();
        let upper: Vec<Tag> = [PATIENT, STUDY, SERIES].concat();
        for e in ds.elements() {
            let keep = e.tag == CHARSET || (!upper.contains(&e.tag) && e.tag.0 != 0x7FE0);
            if keep && small(e) {
                instance.insert(e.clone());
            }
        }
        Records {
            patient: pick(ds, PATIENT),
            study: pick(ds, STUDY),
            series: pick(ds, SERIES),
            instance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sorts_attributes_by_level() {
        let ds = DataSet::new()
            .with("PatientID", "P1")
            .unwrap()
            .with("StudyInstanceUID", "1.2")
            .unwrap()
            .with("Modality", "CT")
            .unwrap()
            .with("SOPInstanceUID", "1.2.3")
            .unwrap()
            .with("InstanceNumber", "4")
            .unwrap();
        let r = Records::split(&ds);
        assert_eq!(r.patient.get_str(PATIENT_ID), Some(Ok("P1".into())));
        assert_eq!(r.study.get_str(STUDY_UID), Some(Ok("1.2".into())));
        assert_eq!(r.series.get_str(MODALITY), Some(Ok("CT".into())));
        assert!(r.instance.get(PATIENT_ID).is_none());
        assert_eq!(
            r.instance.get_str(Tag(0x0020, 0x0013)),
            Some(Ok("4".into()))
        );
        assert_eq!(
            Computed::of(Tag(0x0020, 0x1208)),
            Some(Computed::StudyInstances)
        );
    }
}
