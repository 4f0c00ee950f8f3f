//! A small DICOM archive: the Storage and Query/Retrieve SCP behind `dimse serve`.
//!
//! - **Files.** Each instance is a Part 10 file at `<root>/<Study UID>/<Series UID>/<SOP
//!   Instance UID>.dcm`; every path component is a UID checked to hold only digits and dots,
//!   never peer text. A C-STORE is written under `<root>/.tmp/` and renamed into place
//!   before it is answered with success.
//! - **Index.** SQLite (`<root>/index.sqlite`, WAL) with patient, study, series and instance
//!   tables. By default a thread indexes stored instances behind the answers, many per
//!   transaction, and every query first waits for the instances answered before it. With
//!   [`Config::durable`] the answer waits for the index instead: concurrent stores share one
//!   transaction and one round of directory fsyncs. On open the archive reconciles files
//!   and rows: leftovers of interrupted stores are deleted, rows whose file is gone are dropped,
//!   files without a row (an instance answered just before a crash) are indexed.
//! - **Shared index.** With [`Config::index`] set to a PostgreSQL URL ([`IndexLocation`]),
//!   any number of archives (processes, hosts) share one database and one root: each store is
//!   committed before it is answered, so every archive finds what any acknowledged; the same
//!   instance stored through two at once ends as one row and one file; opening does not scan
//!   the store.
//! - **Query.** C-FIND in the Patient Root and Study Root models at every level, matching per
//!   PS3.4 C.2.2.2 ([`matching`]), computed attributes (Number of Study Related Instances,
//!   Modalities in Study, …) from the index.
//! - **Retrieve.** C-MOVE and C-GET name the files of the matching instances.
//!
//! ```
//! use dimse_archive::{Archive, Config};
//! use dimse_std::Scp;
//!
//! let root = std::env::temp_dir().join(format!("dimse-archive-{}", std::process::id()));
//! let archive = Archive::open(&root, Config::new("DIMSE")).unwrap();
//! # let counts = archive.clone();
//! let server = Scp::new(archive.policy(), archive).bind("127.0.0.1:0").unwrap();
//! let server = server.spawn().unwrap(); // or `server.run()`, to serve on this thread
//! # // A modality stores a CT image of patient 12345; a viewer walks down to it with C-FIND.
//! # use dimse_core::{assoc::ProposedContext, dataset::DataSet, uid};
//! # use dimse_std::{Entity, QueryBuilder, Scu};
//! # let (study, series, image) = ("1.2.826.0.1.3680043.2.1", "1.2.826.0.1.3680043.2.1.1",
//! #     "1.2.826.0.1.3680043.2.1.1.1");
//! # let data_set = DataSet::new()
//! #     .with("SOPClassUID", uid::CT_IMAGE_STORAGE)?
//! #     .with("SOPInstanceUID", image)?
//! #     .with("PatientID", "12345")?
//! #     .with("PatientName", "DOE^JOHN")?
//! #     .with("StudyInstanceUID", study)?
//! #     .with("StudyDate", "20210312")?
//! #     .with("SeriesInstanceUID", series)?
//! #     .with("Modality", "CT")?;
//! # let mut data = bytes::BytesMut::new();
//! # data_set.encode(&uid::TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut data);
//! # let me = Entity::local("DIMSE", server.local_addr().port());
//! # let contexts = vec![ProposedContext::new(uid::CT_IMAGE_STORAGE, &[uid::EXPLICIT_VR_LE])];
//! # let mut assoc = Scu::new("CT_SCANNER").associate(&me, contexts)?;
//! # let rsp = assoc.store(uid::CT_IMAGE_STORAGE, image, uid::EXPLICIT_VR_LE, &data[..])?;
//! # assert!(rsp.status.is_success());
//! # assoc.release()?;
//! # assert!(root.join(study).join(series).join(format!("{image}.dcm")).is_file());
//! # let viewer = Scu::new("VIEWER");
//! # let q = QueryBuilder::new(&viewer, &me);
//! # let studies = q.studies("12345")?;
//! # assert_eq!(studies.len(), 1);
//! # assert_eq!(studies[0].study_instance_uid, study);
//! # assert_eq!(studies[0].study_date.as_deref(), Some("20210312"));
//! # assert_eq!(studies[0].modalities_in_study, ["CT"]);
//! # let images = q.images(&q.series(&studies)?)?;
//! # assert_eq!(images.len(), 1);
//! # assert_eq!(images[0].series_instance_uid, series);
//! # assert_eq!(images[0].sop_instance_uid, image);
//! # assert!(q.studies("67890")?.is_empty());
//! # let held = counts.counts()?;
//! # assert_eq!((held.patients, held.studies, held.series, held.instances), (1, 1, 1, 1));
//! # drop(counts);
//! server.shutdown(std::time::Duration::from_secs(5));
//! # std::fs::remove_dir_all(&root)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! One node of several, on a shared root and a PostgreSQL database:
//!
//! ```
//! use dimse_archive::{Archive, Config};
//!
//! let mut config = Config::new("DIMSE");
//! config.index = "postgres://dimse@db.example:5432/pacs".parse().unwrap();
//! # use dimse_archive::IndexLocation;
//! # let url = "postgres://dimse@db.example:5432/pacs";
//! # assert_eq!(config.index, IndexLocation::Postgres(url.into()));
//! # assert_eq!(config.ae_title, "DIMSE");
//! # // Opening needs that PostgreSQL server: compiled here, not run.
//! # let _open = move || {
//! let archive = Archive::open("/srv/dicom", config).unwrap();
//! # archive
//! # };
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod archive;
mod commit;
mod commitment;
mod config;
mod error;
mod find;
mod gather;
mod index;
mod levels;
mod spare;
mod state;
mod store;
mod temp;

pub use archive::Archive;
pub use config::{Access, Config, Duplicates, Service};
pub use dimse_core::matching;
pub use error::{ArchiveError, IndexError};
pub use index::{Counts, IndexLocation};
