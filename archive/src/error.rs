use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why the archive could not be opened.
#[derive(Debug)]
pub enum ArchiveError {
    /// A file or directory of the archive could not be created or read.
    Io(PathBuf, io::Error),
    /// The index could not be opened, created, migrated or repaired.
    Index(IndexError),
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            ArchiveError::Index(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ArchiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ArchiveError::Io(_, e) => Some(e),
            ArchiveError::Index(e) => Some(e),
        }
    }
}

impl From<IndexError> for ArchiveError {
    fn from(e: IndexError) -> Self {
        ArchiveError::Index(e)
    }
}

/// A failure of the index, naming the database and what the archive was doing.
#[derive(Debug)]
pub enum IndexError {
    /// An SQLite statement failed.
    Sqlite {
        /// The index file.
        path: PathBuf,
        /// What the archive was doing ("opening", "indexing", "querying", ...).
        doing: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A PostgreSQL connection or statement failed.
    Postgres {
        /// The server, as its URL without the password.
        server: String,
        /// What the archive was doing.
        doing: &'static str,
        /// The client's error (a server error carries its SQLSTATE and message).
        source: postgres::Error,
    },
    /// The database holds a schema newer than this build knows: a newer dimse migrated it.
    SchemaTooNew {
        /// The database (file or URL without the password).
        database: String,
        /// The version the database is at.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The threads that hold the PostgreSQL connections are gone (one panicked).
    Stopped {
        /// The server, as its URL without the password.
        server: String,
    },
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexError::Sqlite {
                path,
                doing,
                source,
            } => write!(f, "index {}: {doing}: {source}", path.display()),
            IndexError::Postgres {
                server,
                doing,
                source,
            } => {
                write!(f, "index {server}: {doing}: {source}")?;
                // A server error's message is in the source's source: say it here, since
                // most callers print only the top level.
                if let Some(db) = source.as_db_error() {
                    write!(f, " ({}: {})", db.code().code(), db.message())?;
                } else if let Some(cause) = std::error::Error::source(source) {
                    let text = cause.to_string();
                    if !source.to_string().contains(&text) {
                        write!(f, ": {text}")?;
                    }
                }
                Ok(())
            }
            IndexError::SchemaTooNew {
                database,
                found,
                known,
            } => write!(
                f,
                "index {database}: schema version {found} is newer than this build knows \
                 ({known}): run the dimse that migrated it"
            ),
            IndexError::Stopped { server } => {
                write!(f, "index {server}: the connection threads have stopped")
            }
        }
    }
}

impl std::error::Error for IndexError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IndexError::Sqlite { source, .. } => Some(source),
            IndexError::Postgres { source, .. } => Some(source),
            IndexError::SchemaTooNew { .. } | IndexError::Stopped { .. } => None,
        }
    }
}
