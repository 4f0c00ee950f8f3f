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
//! ```no_run
//! use dimse_archive::{Archive, Config};
//! use dimse_std::Scp;
//!
//! let archive = Archive::open("./dimse-archive", Config::new("DIMSE")).unwrap();
//! let server = Scp::new(archive.policy(), archive).bind("0.0.0.0:11112").unwrap();
//! server.run();
//! ```
//!
//! One node of several, on a shared root and a PostgreSQL database:
//!
//! ```no_run
//! use dimse_archive::{Archive, Config};
//!
//! let mut config = Config::new("DIMSE");
//! config.index = "postgres://dimse@db.example:5432/pacs".parse().unwrap();
//! let archive = Archive::open("/srv/dicom", config).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod archive;
mod commit;
mod commitment;
mod error;
mod find;
mod index;
mod levels;
mod spare;
mod store;
mod temp;

pub use archive::{Access, Archive, Config, Counts, Duplicates, Service};
pub use dimse_core::matching;
pub use error::{ArchiveError, IndexError};
pub use index::IndexLocation;
