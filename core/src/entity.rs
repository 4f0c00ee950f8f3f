//! Application entities: who is at the other end (or this end) of an association.

use std::fmt;

/// An application entity: AE title, host and port.
///
/// ```
/// use dimse_core::Entity;
///
/// let pacs = Entity::new("PACS", "10.0.0.5", 104);
/// let me = Entity::local("DIMSE", 11112);
/// assert_eq!(pacs.to_string(), "PACS@10.0.0.5:104");
/// assert_eq!(me.host, "127.0.0.1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entity {
    /// AE title (1–16 characters; see [`crate::ae::validate_ae_title`]).
    pub ae_title: String,
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Entity {
    /// An entity at `host:port`.
    pub fn new(ae_title: &str, host: &str, port: u16) -> Self {
        Entity {
            ae_title: ae_title.to_string(),
            host: host.to_string(),
            port,
        }
    }

    /// An entity on this machine (loopback).
    pub fn local(ae_title: &str, port: u16) -> Self {
        Self::new(ae_title, "127.0.0.1", port)
    }

    /// `host:port`, for connecting.
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.ae_title, self.address())
    }
}
