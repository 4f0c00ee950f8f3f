//! How an archive is configured: its AE title, who may do what, what a duplicate does.

use std::collections::{BTreeSet, HashSet};

use crate::index::IndexLocation;

/// What to do with an instance whose SOP Instance UID is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Duplicates {
    /// Store the new one in place of the old (the default: a modality resending a corrected
    /// instance expects the correction to win).
    #[default]
    Replace,
    /// Keep the old one, answer success, discard the new data.
    Keep,
    /// Keep the old one and refuse the new with 0x0111 (duplicate SOP instance).
    Reject,
}

impl std::str::FromStr for Duplicates {
    type Err = String;

    /// `replace`, `keep` or `reject`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "replace" => Ok(Duplicates::Replace),
            "keep" => Ok(Duplicates::Keep),
            "reject" => Ok(Duplicates::Reject),
            _ => Err(format!(
                "unknown duplicates policy {s:?} (expected replace, keep or reject)"
            )),
        }
    }
}

/// A service a calling AE may be allowed to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// C-ECHO.
    Echo,
    /// C-STORE.
    Store,
    /// C-FIND.
    Find,
    /// C-MOVE.
    Move,
    /// C-GET.
    Get,
    /// Storage Commitment (N-ACTION; the report follows).
    Commit,
}

impl std::str::FromStr for Service {
    type Err = String;

    /// `echo`, `store`, `find`, `move`, `get` or `commit`, in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "echo" => Ok(Service::Echo),
            "store" => Ok(Service::Store),
            "find" => Ok(Service::Find),
            "move" => Ok(Service::Move),
            "get" => Ok(Service::Get),
            "commit" => Ok(Service::Commit),
            _ => Err(format!(
                "unknown service {s:?} (expected echo, store, find, move, get or commit)"
            )),
        }
    }
}

/// Who may use which service: `None` lets every caller use everything, otherwise a caller
/// may use what its entry lists (callers without an entry nothing).
///
/// ```
/// use dimse_archive::{Access, Service};
///
/// let mut access = Access::default();
/// assert!(access.allows("ANYONE", Service::Store));
/// access.allow("CT1", &[Service::Store, Service::Echo]);
/// assert!(access.allows("CT1", Service::Store));
/// assert!(!access.allows("CT1", Service::Find));
/// assert!(!access.allows("ANYONE", Service::Echo));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Access {
    rules: Option<HashSet<(String, Service)>>,
}

impl Access {
    /// Lets `calling_ae` use `services` (and turns on checking).
    pub fn allow(&mut self, calling_ae: &str, services: &[Service]) {
        let rules = self.rules.get_or_insert_with(HashSet::new);
        for s in services {
            rules.insert((calling_ae.trim().to_string(), *s));
        }
    }

    /// Whether `calling_ae` may use `service`.
    pub fn allows(&self, calling_ae: &str, service: Service) -> bool {
        self.rules
            .as_ref()
            .is_none_or(|r| r.contains(&(calling_ae.trim().to_string(), service)))
    }

    /// The calling AE titles with any permission (`None`: everyone).
    pub fn callers(&self) -> Option<BTreeSet<String>> {
        self.rules
            .as_ref()
            .map(|r| r.iter().map(|(ae, _)| ae.clone()).collect())
    }
}

/// How an [`Archive`](crate::Archive) behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our AE title, returned as Retrieve AE Title in C-FIND responses.
    pub ae_title: String,
    /// Make each instance durable against power loss before answering: fsync the file, its
    /// directories and the index (batched across concurrent stores).
    pub durable: bool,
    /// What a second instance with a stored SOP Instance UID does.
    pub duplicates: Duplicates,
    /// Per-service access control by calling AE title.
    pub access: Access,
    /// Where the index lives: SQLite beside the files (the default), or a PostgreSQL
    /// database that several archives over the same root may share.
    pub index: IndexLocation,
}

impl Config {
    /// Defaults: not durable beyond a process crash, duplicates replace, everyone allowed,
    /// SQLite index.
    pub fn new(ae_title: &str) -> Config {
        Config {
            ae_title: ae_title.to_string(),
            durable: false,
            duplicates: Duplicates::Replace,
            access: Access::default(),
            index: IndexLocation::Sqlite,
        }
    }
}
