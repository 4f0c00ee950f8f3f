use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why the archive could not be opened.
#[derive(Debug)]
pub enum ArchiveError {
    /// A file or directory of the archive could not be created or read.
    Io(PathBuf, io::Error),
    /// The SQLite index could not be opened, created or repaired.
    Index(PathBuf, rusqlite::Error),
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            ArchiveError::Index(p, e) => write!(f, "index {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for ArchiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ArchiveError::Io(_, e) => Some(e),
            ArchiveError::Index(_, e) => Some(e),
        }
    }
}
