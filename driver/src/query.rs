//! A C-FIND query builder in the spirit of Evil DICOM's: walk patient → study → series →
//! image as typed records, filter by modality in one call, or build any identifier with
//! [`Query`].
//!
//! Every SERIES and IMAGE query carries a single value for the unique key of every level above
//! it (StudyInstanceUID, and SeriesInstanceUID at IMAGE level) and no other key of those
//! levels: the hierarchical baseline of PS3.4 C.4.1.2.2.1. Evil DICOM's builder left them out
//! and real archives answered "unable to find" (its #88).

use dimse_core::assoc::ProposedContext;
use dimse_core::dataset::{dictionary, DataSet, Tag, ValueError, Vr};
use dimse_core::matching::Matcher;
use dimse_core::query::{QueryLevel, QueryModel};
use dimse_core::{uid, Entity};

use crate::{Error, Runtime, Scu, ScuAssociation};

const QUERY_RETRIEVE_LEVEL: Tag = Tag(0x0008, 0x0052);
const SPECIFIC_CHARACTER_SET: Tag = Tag::SPECIFIC_CHARACTER_SET;
const PATIENT_ID: Tag = Tag(0x0010, 0x0020);
const PATIENT_NAME: Tag = Tag(0x0010, 0x0010);
const PATIENT_BIRTH_DATE: Tag = Tag(0x0010, 0x0030);
const STUDY_INSTANCE_UID: Tag = Tag(0x0020, 0x000D);
const STUDY_DATE: Tag = Tag(0x0008, 0x0020);
const STUDY_DESCRIPTION: Tag = Tag(0x0008, 0x1030);
const ACCESSION_NUMBER: Tag = Tag(0x0008, 0x0050);
const MODALITIES_IN_STUDY: Tag = Tag(0x0008, 0x0061);
const SERIES_INSTANCE_UID: Tag = Tag(0x0020, 0x000E);
const MODALITY: Tag = Tag(0x0008, 0x0060);
const SERIES_NUMBER: Tag = Tag(0x0020, 0x0011);
const SERIES_DESCRIPTION: Tag = Tag(0x0008, 0x103E);
const SOP_INSTANCE_UID: Tag = Tag(0x0008, 0x0018);
const SOP_CLASS_UID: Tag = Tag(0x0008, 0x0016);
const INSTANCE_NUMBER: Tag = Tag(0x0020, 0x0013);

/// A patient found at PATIENT level (Patient Root).
///
/// ```
/// use dimse_std::PatientRecord;
///
/// let p = PatientRecord {
///     patient_id: "P1".into(),
///     patient_name: Some("DOE^JOHN".into()),
///     birth_date: None,
/// };
/// assert_eq!(p.patient_id, "P1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRecord {
    /// Patient ID (0010,0020); empty when the archive holds none.
    pub patient_id: String,
    /// Patient's Name (0010,0010), as sent (`FAMILY^GIVEN`).
    pub patient_name: Option<String>,
    /// Patient's Birth Date (0010,0030), `YYYYMMDD` as sent.
    pub birth_date: Option<String>,
}

/// A study found at STUDY level (Study Root).
///
/// ```
/// use dimse_std::StudyRecord;
///
/// let s = StudyRecord {
///     patient_id: "P1".into(),
///     patient_name: None,
///     study_instance_uid: "1.2.3".into(),
///     study_date: Some("20200101".into()),
///     study_description: None,
///     accession_number: None,
///     modalities_in_study: vec!["CT".into(), "RTPLAN".into()],
/// };
/// assert!(s.modalities_in_study.iter().any(|m| m == "RTPLAN"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyRecord {
    /// Patient ID (0010,0020): the peer's, else the ID asked for (when it was no pattern).
    pub patient_id: String,
    /// Patient's Name (0010,0010).
    pub patient_name: Option<String>,
    /// Study Instance UID (0020,000D).
    pub study_instance_uid: String,
    /// Study Date (0008,0020), `YYYYMMDD` as sent.
    pub study_date: Option<String>,
    /// Study Description (0008,1030).
    pub study_description: Option<String>,
    /// Accession Number (0008,0050).
    pub accession_number: Option<String>,
    /// Modalities in Study (0008,0061); empty when the peer does not return it (optional key).
    pub modalities_in_study: Vec<String>,
}

/// A series found at SERIES level (Study Root), with the keys of its study.
///
/// ```
/// use dimse_std::SeriesRecord;
///
/// let s = SeriesRecord {
///     study_instance_uid: "1.2.3".into(),
///     patient_id: "P1".into(),
///     series_instance_uid: "1.2.3.4".into(),
///     modality: Some("RTPLAN".into()),
///     series_number: Some(2),
///     series_description: None,
/// };
/// assert_eq!(s.modality.as_deref(), Some("RTPLAN"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRecord {
    /// Study Instance UID (0020,000D): echoed by the peer, else the parent study's.
    pub study_instance_uid: String,
    /// Patient ID of the parent study (never asked at SERIES level: the baseline forbids
    /// non-unique keys of the levels above).
    pub patient_id: String,
    /// Series Instance UID (0020,000E).
    pub series_instance_uid: String,
    /// Modality (0008,0060).
    pub modality: Option<String>,
    /// Series Number (0020,0011).
    pub series_number: Option<i32>,
    /// Series Description (0008,103E).
    pub series_description: Option<String>,
}

/// A composite instance found at IMAGE level (Study Root), with the keys of its parents.
///
/// ```
/// use dimse_std::ImageRecord;
///
/// let i = ImageRecord {
///     study_instance_uid: "1.2.3".into(),
///     series_instance_uid: "1.2.3.4".into(),
///     patient_id: "P1".into(),
///     sop_instance_uid: "1.2.3.4.5".into(),
///     sop_class_uid: Some("1.2.840.10008.5.1.4.1.1.481.5".into()),
///     instance_number: Some(1),
/// };
/// assert_eq!(i.instance_number, Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    /// Study Instance UID (0020,000D): echoed by the peer, else the parent series'.
    pub study_instance_uid: String,
    /// Series Instance UID (0020,000E): echoed by the peer, else the parent series'.
    pub series_instance_uid: String,
    /// Patient ID of the parent series.
    pub patient_id: String,
    /// SOP Instance UID (0008,0018).
    pub sop_instance_uid: String,
    /// SOP Class UID (0008,0016); optional at IMAGE level, so some archives leave it out.
    pub sop_class_uid: Option<String>,
    /// Instance Number (0020,0013).
    pub instance_number: Option<i32>,
}

/// A C-FIND identifier under construction: a model, a level and keys.
///
/// Keys are named by keyword (`"PatientName"`) or `gggg,eeee`. A key with a value is a
/// matching key; an empty value asks the peer to return the attribute. The identifier always
/// carries QueryRetrieveLevel (except for the Modality Worklist, which has no levels), and
/// Specific Character Set ISO_IR 192 once a value needs more than ASCII.
///
/// ```
/// use dimse_core::dataset::Tag;
/// use dimse_core::query::{QueryLevel, QueryModel};
/// use dimse_std::Query;
///
/// # fn main() -> Result<(), dimse_core::dataset::ValueError> {
/// let q = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
///     .key("PatientName", "DOE*")?
///     .return_key("StudyDate")?
///     .range("StudyDate", Some("20200101"), None)?
///     .uid_list("StudyInstanceUID", &["1.2.3", "1.2.4"])?;
/// let id = q.identifier();
/// assert_eq!(id.get_str(Tag(0x0008, 0x0052)), Some(Ok("STUDY".into())));
/// assert_eq!(id.get_str(Tag(0x0008, 0x0020)), Some(Ok("20200101-".into())));
/// assert_eq!(id.get_str(Tag(0x0020, 0x000D)), Some(Ok("1.2.3\\1.2.4".into())));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    model: QueryModel,
    level: QueryLevel,
    identifier: DataSet,
}

impl Query {
    /// An identifier in `model` at `level` with no keys yet. For
    /// [`QueryModel::Worklist`] the level is ignored: worklist identifiers carry none.
    ///
    /// ```
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let q = Query::new(QueryModel::PatientRoot, QueryLevel::Patient);
    /// assert_eq!(q.identifier().len(), 1); // QueryRetrieveLevel only
    /// ```
    pub fn new(model: QueryModel, level: QueryLevel) -> Query {
        let mut identifier = DataSet::new();
        if model != QueryModel::Worklist {
            identifier
                .set_str(QUERY_RETRIEVE_LEVEL, level.as_str())
                .expect("QueryRetrieveLevel is CS and the level names are ASCII");
        }
        Query {
            model,
            level,
            identifier,
        }
    }

    /// Adds a matching key: single value, wildcard (`*`, `?`), a UID list already joined with
    /// `\`, or a range already written `a-b`. An empty value is a return key. Text beyond
    /// ASCII switches the identifier to ISO_IR 192 (UTF-8).
    ///
    /// ```
    /// use dimse_core::dataset::Tag;
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let q = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
    ///     .key("PatientName", "MÜLLER*")
    ///     .unwrap();
    /// assert_eq!(q.identifier().get_str(Tag(0x0008, 0x0005)), Some(Ok("ISO_IR 192".into())));
    /// assert!(Query::new(QueryModel::StudyRoot, QueryLevel::Study).key("NoSuchKey", "x").is_err());
    /// ```
    pub fn key(mut self, key: &str, value: &str) -> Result<Query, ValueError> {
        let tag = Tag::parse(key)?;
        self.set(tag, value)?;
        Ok(self)
    }

    /// Adds a return key (zero-length value: universal matching, the peer fills it in).
    ///
    /// ```
    /// use dimse_core::dataset::Tag;
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let q = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
    ///     .return_key("StudyDescription")
    ///     .unwrap();
    /// assert_eq!(q.identifier().get_str(Tag(0x0008, 0x1030)), Some(Ok(String::new())));
    /// ```
    pub fn return_key(mut self, key: &str) -> Result<Query, ValueError> {
        self.identifier.set_empty(Tag::parse(key)?);
        Ok(self)
    }

    /// Adds a range matching key on a DA, TM or DT attribute: `from-to`, `from-` (from on)
    /// or `-to` (up to), bounds inclusive. Two `None`s make a return key. Another VR is
    /// [`ValueError::WrongVr`].
    ///
    /// ```
    /// use dimse_core::dataset::Tag;
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let q = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
    ///     .range("StudyDate", None, Some("20191231"))
    ///     .unwrap();
    /// assert_eq!(q.identifier().get_str(Tag(0x0008, 0x0020)), Some(Ok("-20191231".into())));
    /// assert!(Query::new(QueryModel::StudyRoot, QueryLevel::Study)
    ///     .range("PatientName", Some("A"), None)
    ///     .is_err());
    /// ```
    pub fn range(
        mut self,
        key: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Query, ValueError> {
        let tag = Tag::parse(key)?;
        let vr = dictionary::vr_of(tag);
        if !matches!(vr, Vr::DA | Vr::TM | Vr::DT) {
            return Err(ValueError::WrongVr { tag, vr });
        }
        let value = match (from, to) {
            (None, None) => String::new(),
            (from, to) => format!("{}-{}", from.unwrap_or(""), to.unwrap_or("")),
        };
        self.set(tag, &value)?;
        Ok(self)
    }

    /// Adds a list-of-UID matching key (VR UI): any of `uids` matches. Each UID is checked
    /// (digits and dots, at most 64 characters); an empty list is [`ValueError::Malformed`],
    /// since sending it would be universal matching, the opposite of a list of none.
    ///
    /// ```
    /// use dimse_core::dataset::Tag;
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let q = Query::new(QueryModel::StudyRoot, QueryLevel::Series)
    ///     .uid_list("SeriesInstanceUID", &["1.2.3.1", "1.2.3.2"])
    ///     .unwrap();
    /// assert_eq!(
    ///     q.identifier().get_str(Tag(0x0020, 0x000E)),
    ///     Some(Ok("1.2.3.1\\1.2.3.2".into()))
    /// );
    /// let none: &[&str] = &[];
    /// assert!(Query::new(QueryModel::StudyRoot, QueryLevel::Study)
    ///     .uid_list("StudyInstanceUID", none)
    ///     .is_err());
    /// ```
    pub fn uid_list<S: AsRef<str>>(mut self, key: &str, uids: &[S]) -> Result<Query, ValueError> {
        let tag = Tag::parse(key)?;
        let vr = dictionary::vr_of(tag);
        if vr != Vr::UI {
            return Err(ValueError::WrongVr { tag, vr });
        }
        let uids: Vec<&str> = uids.iter().map(AsRef::as_ref).collect();
        let valid = |u: &str| {
            !u.is_empty() && u.len() <= 64 && u.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        };
        if let Some(bad) = uids.iter().find(|u| !valid(u)) {
            return Err(ValueError::Malformed {
                tag,
                text: bad.to_string(),
            });
        }
        if uids.is_empty() {
            return Err(ValueError::Malformed {
                tag,
                text: String::new(),
            });
        }
        self.identifier.set_strs(tag, &uids)?;
        Ok(self)
    }

    /// The information model the query is sent in.
    ///
    /// ```
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let q = Query::new(QueryModel::StudyRoot, QueryLevel::Image);
    /// assert_eq!(q.model(), QueryModel::StudyRoot);
    /// ```
    pub fn model(&self) -> QueryModel {
        self.model
    }

    /// The query/retrieve level.
    ///
    /// ```
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let q = Query::new(QueryModel::StudyRoot, QueryLevel::Image);
    /// assert_eq!(q.level(), QueryLevel::Image);
    /// ```
    pub fn level(&self) -> QueryLevel {
        self.level
    }

    /// The identifier as it will be sent.
    ///
    /// ```
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let q = Query::new(QueryModel::StudyRoot, QueryLevel::Study).return_key("PatientID").unwrap();
    /// assert_eq!(q.identifier().len(), 2);
    /// ```
    pub fn identifier(&self) -> &DataSet {
        &self.identifier
    }

    /// The identifier, for [`ScuAssociation::find`] on an association of your own.
    ///
    /// ```
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    ///
    /// let id = Query::new(QueryModel::StudyRoot, QueryLevel::Study).into_identifier();
    /// assert_eq!(id.len(), 1);
    /// ```
    pub fn into_identifier(self) -> DataSet {
        self.identifier
    }

    fn set(&mut self, tag: Tag, value: &str) -> Result<(), ValueError> {
        if value.is_empty() {
            self.identifier.set_empty(tag);
            return Ok(());
        }
        // The default repertoire cannot carry the value: declare UTF-8 first. Text already set
        // was ASCII, which reads the same in UTF-8, so nothing needs re-encoding.
        if !value.is_ascii()
            && dictionary::vr_of(tag).uses_charset()
            && self.identifier.get(SPECIFIC_CHARACTER_SET).is_none()
        {
            self.identifier
                .set_str(SPECIFIC_CHARACTER_SET, "ISO_IR 192")?;
        }
        self.identifier.set_str(tag, value)
    }
}

/// Walks an archive with C-FIND: patients, their studies, series and instances, as records.
///
/// Each call opens **one association** (Study Root and Patient Root FIND, see
/// [`QueryBuilder::presentation_contexts`]), sends all the queries of that call on it (one per
/// parent record in [`QueryBuilder::series`] and [`QueryBuilder::images`]) and releases it.
/// Nothing is held between calls, so a builder is cheap, `Copy` and never finds a stale
/// association that the peer timed out; a call never pays more than one association setup,
/// however many parents it walks.
///
/// A final failure status (or an unexpected Cancel) is [`Error::Status`]; a warning status
/// still returns the matches. A failing call releases the association when it is still sound
/// and aborts it otherwise.
///
/// ```
/// use dimse_core::Entity;
/// use dimse_std::{QueryBuilder, Scu};
/// # // An in-process PACS: patient 12345 (a CT series of two images, an RTPLAN), 67890 (MR).
/// # let pacs = dimse_driver::example::Pacs;
/// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").unwrap().spawn().unwrap();
///
/// let scu = Scu::new("MY_SCU");
/// let pacs = Entity::new("PACS", "pacs.example", 104);
/// # let pacs = Entity::local("PACS", server.local_addr().port());
/// let q = QueryBuilder::new(&scu, &pacs);
/// let studies = q.studies("12345")?;
/// let series = q.series(&studies)?;
/// let images = q.images(&series)?;
/// println!("{} instances", images.len());
/// # let uids = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
/// # assert_eq!(studies.len(), 1);
/// # assert_eq!(series.iter().map(|s| s.series_instance_uid.clone()).collect::<Vec<_>>(),
/// #     uids(vec!["1.2.3.1", "1.2.3.2"]));
/// # assert_eq!(images.iter().map(|i| i.sop_instance_uid.clone()).collect::<Vec<_>>(),
/// #     uids(vec!["1.2.3.1.1", "1.2.3.1.2", "1.2.3.2.1"]));
/// # assert!(images.iter().all(|i| i.patient_id == "12345" && i.study_instance_uid == "1.2.3"));
/// # server.stop();
/// # Ok::<(), dimse_std::Error>(())
/// ```
#[derive(Debug)]
pub struct QueryBuilder<'a, R> {
    scu: &'a Scu<R>,
    peer: &'a Entity,
}

impl<R> Clone for QueryBuilder<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for QueryBuilder<'_, R> {}

impl<'a, R: Runtime> QueryBuilder<'a, R> {
    /// A builder querying `peer` as `scu` (its AE title and timeouts).
    ///
    /// ```
    /// use dimse_core::Entity;
    /// use dimse_std::{QueryBuilder, Scu};
    ///
    /// let scu = Scu::new("MY_SCU");
    /// let pacs = Entity::new("PACS", "pacs.example", 104);
    /// let _q = QueryBuilder::new(&scu, &pacs); // connects only when asked something
    /// ```
    pub fn new(scu: &'a Scu<R>, peer: &'a Entity) -> QueryBuilder<'a, R> {
        QueryBuilder { scu, peer }
    }

    /// The presentation contexts every call proposes: Study Root and Patient Root C-FIND,
    /// each in Explicit then Implicit VR Little Endian.
    ///
    /// ```
    /// use dimse_core::uid;
    /// use dimse_std::QueryBuilder;
    ///
    /// let contexts = QueryBuilder::presentation_contexts();
    /// assert_eq!(contexts[0].abstract_syntax, uid::STUDY_ROOT_QR_FIND);
    /// assert_eq!(contexts[1].abstract_syntax, uid::PATIENT_ROOT_QR_FIND);
    /// ```
    pub fn presentation_contexts() -> Vec<ProposedContext> {
        let syntaxes = [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];
        vec![
            ProposedContext::new(uid::STUDY_ROOT_QR_FIND, &syntaxes),
            ProposedContext::new(uid::PATIENT_ROOT_QR_FIND, &syntaxes),
        ]
    }

    /// Patients whose ID matches `patient_id_or_pattern` (a single value, a wildcard pattern,
    /// or `*` for all), Patient Root at PATIENT level. A peer that accepts only Study Root
    /// makes this [`Error::NoContext`]: that model has no PATIENT level.
    ///
    /// ```
    /// # use dimse_core::Entity;
    /// # use dimse_std::{QueryBuilder, Scu};
    /// # // An in-process PACS: patient 12345 (a CT series of two images, an RTPLAN), 67890 (MR).
    /// # let pacs = dimse_driver::example::Pacs;
    /// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").unwrap().spawn().unwrap();
    /// # let (scu, pacs) = (Scu::new("SCU"), Entity::new("PACS", "pacs.example", 104));
    /// # let pacs = Entity::local("PACS", server.local_addr().port());
    /// # let mut found = Vec::new();
    /// let q = QueryBuilder::new(&scu, &pacs);
    /// for p in q.patients("12*")? {
    ///     println!("{} {:?}", p.patient_id, p.patient_name);
    /// #   found.push(p);
    /// }
    /// # assert_eq!(found.len(), 1, "67890 does not match 12*");
    /// # assert_eq!(found[0].patient_id, "12345");
    /// # assert_eq!(found[0].patient_name.as_deref(), Some("DOE^JOHN"));
    /// # assert_eq!(q.patients("*")?.len(), 2);
    /// # server.stop();
    /// # Ok::<(), dimse_std::Error>(())
    /// ```
    pub async fn patients(&self, patient_id_or_pattern: &str) -> Result<Vec<PatientRecord>, Error> {
        let mut assoc = self.open(Self::presentation_contexts()).await?;
        let result = patients_on(&mut assoc, patient_id_or_pattern).await;
        self.close(assoc, result).await
    }

    /// The studies of patient `patient_id`, Study Root at STUDY level. A pattern (`*`, `?`)
    /// is sent as given; so is an empty ID, which matches every study (universal matching).
    ///
    /// ```
    /// # use dimse_core::Entity;
    /// # use dimse_std::{QueryBuilder, Scu};
    /// # // An in-process PACS: patient 12345 (a CT series of two images, an RTPLAN), 67890 (MR).
    /// # let pacs = dimse_driver::example::Pacs;
    /// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").unwrap().spawn().unwrap();
    /// # let (scu, pacs) = (Scu::new("SCU"), Entity::new("PACS", "pacs.example", 104));
    /// # let pacs = Entity::local("PACS", server.local_addr().port());
    /// let studies = QueryBuilder::new(&scu, &pacs).studies("12345")?;
    /// for s in &studies {
    ///     println!("{} {:?} {:?}", s.study_instance_uid, s.study_date, s.modalities_in_study);
    /// }
    /// # assert_eq!(studies.len(), 1);
    /// # assert_eq!(studies[0].study_instance_uid, "1.2.3");
    /// # assert_eq!(studies[0].patient_id, "12345");
    /// # assert_eq!(studies[0].study_date.as_deref(), Some("20210312"));
    /// # assert_eq!(studies[0].modalities_in_study, ["CT", "RTPLAN"]);
    /// # assert_eq!(QueryBuilder::new(&scu, &pacs).studies("")?.len(), 2, "universal matching");
    /// # server.stop();
    /// # Ok::<(), dimse_std::Error>(())
    /// ```
    pub async fn studies(&self, patient_id: &str) -> Result<Vec<StudyRecord>, Error> {
        let mut assoc = self.open(Self::presentation_contexts()).await?;
        let result = studies_on(&mut assoc, patient_id).await;
        self.close(assoc, result).await
    }

    /// The series of `studies`: one SERIES query per study, each carrying its
    /// StudyInstanceUID, all on one association.
    ///
    /// ```
    /// # use dimse_core::Entity;
    /// # use dimse_std::{QueryBuilder, Scu};
    /// # // An in-process PACS: patient 12345 (a CT series of two images, an RTPLAN), 67890 (MR).
    /// # let pacs = dimse_driver::example::Pacs;
    /// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").unwrap().spawn().unwrap();
    /// # let (scu, pacs) = (Scu::new("SCU"), Entity::new("PACS", "pacs.example", 104));
    /// # let pacs = Entity::local("PACS", server.local_addr().port());
    /// let q = QueryBuilder::new(&scu, &pacs);
    /// let series = q.series(&q.studies("12345")?)?;
    /// # let found: Vec<_> = series
    /// #     .iter()
    /// #     .map(|s| (s.series_instance_uid.as_str(), s.modality.as_deref()))
    /// #     .collect();
    /// # assert_eq!(found, [("1.2.3.1", Some("CT")), ("1.2.3.2", Some("RTPLAN"))]);
    /// # assert!(series.iter().all(|s| s.study_instance_uid == "1.2.3"));
    /// # assert!(series.iter().all(|s| s.patient_id == "12345"));
    /// # server.stop();
    /// # Ok::<(), dimse_std::Error>(())
    /// ```
    pub async fn series(&self, studies: &[StudyRecord]) -> Result<Vec<SeriesRecord>, Error> {
        let mut assoc = self.open(Self::presentation_contexts()).await?;
        let result = series_on(&mut assoc, studies, None).await;
        self.close(assoc, result).await
    }

    /// The instances of `series`: one IMAGE query per series, each carrying its
    /// StudyInstanceUID and SeriesInstanceUID, all on one association.
    ///
    /// ```
    /// # use dimse_core::Entity;
    /// # use dimse_std::{QueryBuilder, Scu};
    /// # // An in-process PACS: patient 12345 (a CT series of two images, an RTPLAN), 67890 (MR).
    /// # let pacs = dimse_driver::example::Pacs;
    /// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").unwrap().spawn().unwrap();
    /// # let (scu, pacs) = (Scu::new("SCU"), Entity::new("PACS", "pacs.example", 104));
    /// # let pacs = Entity::local("PACS", server.local_addr().port());
    /// let q = QueryBuilder::new(&scu, &pacs);
    /// let images = q.images(&q.series(&q.studies("12345")?)?)?;
    /// # let found: Vec<_> = images
    /// #     .iter()
    /// #     .map(|i| (i.series_instance_uid.as_str(), i.sop_instance_uid.as_str()))
    /// #     .collect();
    /// # assert_eq!(
    /// #     found,
    /// #     [("1.2.3.1", "1.2.3.1.1"), ("1.2.3.1", "1.2.3.1.2"), ("1.2.3.2", "1.2.3.2.1")]
    /// # );
    /// # server.stop();
    /// # Ok::<(), dimse_std::Error>(())
    /// ```
    pub async fn images(&self, series: &[SeriesRecord]) -> Result<Vec<ImageRecord>, Error> {
        let mut assoc = self.open(Self::presentation_contexts()).await?;
        let result = images_on(&mut assoc, series).await;
        self.close(assoc, result).await
    }

    /// Every instance of patient `patient_id` in a series of `modality` (e.g. all RTPLANs):
    /// studies, then series with Modality = `modality` per study, then their instances, on
    /// one association. `modality` may be a pattern (`RT*`). The series are also checked
    /// here against the returned Modality, since DCMTK's archive treats Modality as an
    /// optional key it need not match.
    ///
    /// ```
    /// # use dimse_core::Entity;
    /// # use dimse_std::{QueryBuilder, Scu};
    /// # // An in-process PACS: patient 12345 (a CT series of two images, an RTPLAN), 67890 (MR).
    /// # let pacs = dimse_driver::example::Pacs;
    /// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").unwrap().spawn().unwrap();
    /// # let (scu, pacs) = (Scu::new("SCU"), Entity::new("PACS", "pacs.example", 104));
    /// # let pacs = Entity::local("PACS", server.local_addr().port());
    /// let plans = QueryBuilder::new(&scu, &pacs).instances_by_modality("12345", "RTPLAN")?;
    /// for p in &plans {
    ///     println!("{} in series {}", p.sop_instance_uid, p.series_instance_uid);
    /// }
    /// # assert_eq!(plans.len(), 1);
    /// # assert_eq!(plans[0].sop_instance_uid, "1.2.3.2.1");
    /// # assert_eq!(plans[0].series_instance_uid, "1.2.3.2");
    /// # let q = QueryBuilder::new(&scu, &pacs);
    /// # assert_eq!(q.instances_by_modality("12345", "CT")?.len(), 2);
    /// # assert_eq!(q.instances_by_modality("12345", "RT*")?.len(), 1);
    /// # assert!(q.instances_by_modality("67890", "RTPLAN")?.is_empty());
    /// # server.stop();
    /// # Ok::<(), dimse_std::Error>(())
    /// ```
    pub async fn instances_by_modality(
        &self,
        patient_id: &str,
        modality: &str,
    ) -> Result<Vec<ImageRecord>, Error> {
        let mut assoc = self.open(Self::presentation_contexts()).await?;
        let result = async {
            let studies = studies_on(&mut assoc, patient_id).await?;
            let series = series_on(&mut assoc, &studies, Some(modality)).await?;
            images_on(&mut assoc, &series).await
        }
        .await;
        self.close(assoc, result).await
    }

    /// Sends `query` and returns the matches as the peer sent them.
    ///
    /// ```
    /// # use dimse_core::Entity;
    /// # use dimse_std::{QueryBuilder, Scu};
    /// use dimse_core::query::{QueryLevel, QueryModel};
    /// use dimse_std::Query;
    /// # // An in-process PACS: patient 12345 (a CT series of two images, an RTPLAN), 67890 (MR).
    /// # let pacs = dimse_driver::example::Pacs;
    /// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").unwrap().spawn().unwrap();
    ///
    /// # let (scu, pacs) = (Scu::new("SCU"), Entity::new("PACS", "pacs.example", 104));
    /// # let pacs = Entity::local("PACS", server.local_addr().port());
    /// let query = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
    ///     .key("PatientName", "DOE*")?
    ///     .range("StudyDate", Some("20200101"), None)?
    ///     .return_key("StudyInstanceUID")?;
    /// let matches = QueryBuilder::new(&scu, &pacs).run(&query)?;
    /// # // ROE^JANE's study does not match the name, and is from 2019 besides.
    /// # assert_eq!(matches.len(), 1);
    /// # assert_eq!(matches[0].get_str(dimse_core::dataset::Tag(0x0020, 0x000D)).unwrap()?, "1.2.3");
    /// # assert_eq!(matches[0].get_str(dimse_core::dataset::Tag(0x0010, 0x0010)).unwrap()?, "DOE^JOHN");
    /// # server.stop();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn run(&self, query: &Query) -> Result<Vec<DataSet>, Error> {
        if query.model != QueryModel::Worklist && !query.model.has_level(query.level) {
            return Err(invalid_input(format!(
                "the {:?} model has no {} level",
                query.model, query.level
            )));
        }
        // Worklist is not among the proposed contexts: ask for it alone.
        let contexts = if query.model == QueryModel::Worklist {
            vec![ProposedContext::new(
                uid::MODALITY_WORKLIST_FIND,
                &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
            )]
        } else {
            Self::presentation_contexts()
        };
        let mut assoc = self.open(contexts).await?;
        let result = find_all(&mut assoc, query.model, &query.identifier).await;
        self.close(assoc, result).await
    }

    async fn open(&self, contexts: Vec<ProposedContext>) -> Result<ScuAssociation<R>, Error> {
        self.scu.associate(self.peer, contexts).await
    }

    /// End the association the way the outcome of the work done on it allows.
    async fn close<T>(
        &self,
        assoc: ScuAssociation<R>,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        match result {
            Ok(value) => {
                // Every query already ended with its final status: the results are complete
                // whether or not the peer acknowledges the release.
                if let Err(e) = assoc.release().await {
                    tracing::warn!(peer = %self.peer, error = %e, "release after C-FIND failed");
                }
                Ok(value)
            }
            // The exchange itself is intact (a refused query, a missing context, a key we
            // could not encode before sending it): leave politely.
            Err(e @ (Error::Status(_) | Error::NoContext { .. })) => {
                let _ = assoc.release().await;
                Err(e)
            }
            Err(e @ Error::InvalidIdentifier(_)) => {
                let _ = assoc.release().await;
                Err(e)
            }
            Err(e) => {
                assoc.abort().await;
                Err(e)
            }
        }
    }
}

/// C-FIND `identifier` in `model` and gather every match; a final status other than success
/// or warning is [`Error::Status`].
async fn find_all<R: Runtime>(
    assoc: &mut ScuAssociation<R>,
    model: QueryModel,
    identifier: &DataSet,
) -> Result<Vec<DataSet>, Error> {
    let mut results = assoc.find(model, identifier).await?;
    let mut matches = Vec::new();
    while let Some(m) = results.next().await {
        matches.push(m?);
    }
    match results.status() {
        Some(s) if s.is_success() || s.is_warning() => Ok(matches),
        // Failure is already an `Err` above; what is left is a Cancel we never asked for,
        // after which the matches are incomplete.
        Some(s) => Err(Error::Status(s)),
        None => Err(Error::Closed),
    }
}

async fn patients_on<R: Runtime>(
    assoc: &mut ScuAssociation<R>,
    pattern: &str,
) -> Result<Vec<PatientRecord>, Error> {
    let query = Query::new(QueryModel::PatientRoot, QueryLevel::Patient)
        .key("PatientID", pattern)
        .and_then(|q| q.return_key("PatientName"))
        .and_then(|q| q.return_key("PatientBirthDate"))
        .map_err(invalid_key)?;
    let matches = find_all(assoc, QueryModel::PatientRoot, query.identifier()).await?;
    Ok(matches
        .iter()
        .map(|m| PatientRecord {
            // A patient without an ID is still a patient: keep it, with an empty ID.
            patient_id: text(m, PATIENT_ID).unwrap_or_default(),
            patient_name: text(m, PATIENT_NAME),
            birth_date: text(m, PATIENT_BIRTH_DATE),
        })
        .collect())
}

async fn studies_on<R: Runtime>(
    assoc: &mut ScuAssociation<R>,
    patient_id: &str,
) -> Result<Vec<StudyRecord>, Error> {
    let query = Query::new(QueryModel::StudyRoot, QueryLevel::Study)
        .key("PatientID", patient_id)
        .and_then(|q| q.return_key("PatientName"))
        .and_then(|q| q.return_key("StudyInstanceUID"))
        .and_then(|q| q.return_key("StudyDate"))
        .and_then(|q| q.return_key("StudyDescription"))
        .and_then(|q| q.return_key("AccessionNumber"))
        .and_then(|q| q.return_key("ModalitiesInStudy"))
        .map_err(invalid_key)?;
    // Only a single value names the patient of every match; a pattern names none.
    let asked_id = (!patient_id.contains(['*', '?'])).then_some(patient_id);
    let matches = find_all(assoc, QueryModel::StudyRoot, query.identifier()).await?;
    matches
        .iter()
        .map(|m| {
            Ok(StudyRecord {
                patient_id: text(m, PATIENT_ID)
                    .or_else(|| asked_id.map(str::to_string))
                    .unwrap_or_default(),
                patient_name: text(m, PATIENT_NAME),
                study_instance_uid: unique_key(m, STUDY_INSTANCE_UID, None)?,
                study_date: text(m, STUDY_DATE),
                study_description: text(m, STUDY_DESCRIPTION),
                accession_number: text(m, ACCESSION_NUMBER),
                modalities_in_study: m
                    .get_strs(MODALITIES_IN_STUDY)
                    .and_then(Result::ok)
                    .unwrap_or_default(),
            })
        })
        .collect()
}

async fn series_on<R: Runtime>(
    assoc: &mut ScuAssociation<R>,
    studies: &[StudyRecord],
    modality: Option<&str>,
) -> Result<Vec<SeriesRecord>, Error> {
    let mut out = Vec::new();
    for study in studies {
        let query = Query::new(QueryModel::StudyRoot, QueryLevel::Series)
            .key("StudyInstanceUID", &study.study_instance_uid)
            .and_then(|q| q.return_key("SeriesInstanceUID"))
            .and_then(|q| q.key("Modality", modality.unwrap_or("")))
            .and_then(|q| q.return_key("SeriesNumber"))
            .and_then(|q| q.return_key("SeriesDescription"))
            .map_err(invalid_key)?;
        for m in find_all(assoc, QueryModel::StudyRoot, query.identifier()).await? {
            let record = SeriesRecord {
                study_instance_uid: unique_key(
                    &m,
                    STUDY_INSTANCE_UID,
                    Some(&study.study_instance_uid),
                )?,
                patient_id: study.patient_id.clone(),
                series_instance_uid: unique_key(&m, SERIES_INSTANCE_UID, None)?,
                modality: text(&m, MODALITY),
                series_number: number(&m, SERIES_NUMBER),
                series_description: text(&m, SERIES_DESCRIPTION),
            };
            let wanted = match (modality, &record.modality) {
                (Some(pattern), Some(got)) => {
                    Matcher::new(Vr::CS, pattern).matches(std::slice::from_ref(got))
                }
                // Nothing to check against: trust the peer's matching.
                _ => true,
            };
            if wanted {
                out.push(record);
            }
        }
    }
    Ok(out)
}

async fn images_on<R: Runtime>(
    assoc: &mut ScuAssociation<R>,
    series: &[SeriesRecord],
) -> Result<Vec<ImageRecord>, Error> {
    let mut out = Vec::new();
    for s in series {
        let query = Query::new(QueryModel::StudyRoot, QueryLevel::Image)
            .key("StudyInstanceUID", &s.study_instance_uid)
            .and_then(|q| q.key("SeriesInstanceUID", &s.series_instance_uid))
            .and_then(|q| q.return_key("SOPInstanceUID"))
            .and_then(|q| q.return_key("SOPClassUID"))
            .and_then(|q| q.return_key("InstanceNumber"))
            .map_err(invalid_key)?;
        for m in find_all(assoc, QueryModel::StudyRoot, query.identifier()).await? {
            out.push(ImageRecord {
                study_instance_uid: unique_key(
                    &m,
                    STUDY_INSTANCE_UID,
                    Some(&s.study_instance_uid),
                )?,
                series_instance_uid: unique_key(
                    &m,
                    SERIES_INSTANCE_UID,
                    Some(&s.series_instance_uid),
                )?,
                patient_id: s.patient_id.clone(),
                sop_instance_uid: unique_key(&m, SOP_INSTANCE_UID, None)?,
                sop_class_uid: text(&m, SOP_CLASS_UID),
                instance_number: number(&m, INSTANCE_NUMBER),
            });
        }
    }
    Ok(out)
}

/// A text attribute of a match; absent, empty or undecodable is `None`.
fn text(m: &DataSet, tag: Tag) -> Option<String> {
    m.get_str(tag)
        .and_then(Result::ok)
        .filter(|s| !s.is_empty())
}

fn number(m: &DataSet, tag: Tag) -> Option<i32> {
    m.get_i32(tag).and_then(Result::ok)
}

/// A unique key of a match: the peer's value, else `parent`'s (peers need not echo the keys
/// of the levels above). A match without its own unique key cannot be walked further: that
/// is the peer's error, not a record with a hole.
fn unique_key(m: &DataSet, tag: Tag, parent: Option<&str>) -> Result<String, Error> {
    text(m, tag)
        .or_else(|| parent.map(str::to_string))
        .ok_or_else(|| Error::UnexpectedMessage {
            expected: "a C-FIND match with its unique key",
            got: format!("a match without {tag}"),
        })
}

fn invalid_key(e: ValueError) -> Error {
    Error::InvalidIdentifier(e.to_string())
}

fn invalid_input(e: impl std::fmt::Display) -> Error {
    Error::InvalidIdentifier(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_forms() {
        let q = |from, to| {
            Query::new(QueryModel::StudyRoot, QueryLevel::Study)
                .range("StudyDate", from, to)
                .unwrap()
                .identifier()
                .get_str(STUDY_DATE)
                .unwrap()
                .unwrap()
        };
        assert_eq!(q(Some("20200101"), None), "20200101-");
        assert_eq!(q(None, Some("20201231")), "-20201231");
        assert_eq!(q(Some("20200101"), Some("20201231")), "20200101-20201231");
        assert_eq!(q(None, None), "");
    }

    #[test]
    fn uid_list_rejects_bad_uids() {
        let q = || Query::new(QueryModel::StudyRoot, QueryLevel::Study);
        assert!(q().uid_list("StudyInstanceUID", &["1.2", "1.2*"]).is_err());
        assert!(q().uid_list("PatientID", &["1.2"]).is_err());
        let one = q().uid_list("StudyInstanceUID", &["1.2"]).unwrap();
        assert_eq!(
            one.identifier().get_uid(STUDY_INSTANCE_UID),
            Some(Ok("1.2".into()))
        );
    }

    #[test]
    fn worklist_identifiers_have_no_level() {
        let q = Query::new(QueryModel::Worklist, QueryLevel::Patient);
        assert!(q.identifier().is_empty());
    }
}
