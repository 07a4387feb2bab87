//! The one error type of the storage layer: what failed, and on which path.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum StoreError {
    /// A filesystem operation failed.
    Io {
        context: String,
        path: PathBuf,
        source: io::Error,
    },
    /// A database operation failed.
    Db {
        context: String,
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// Something on disk is not in the format we wrote.
    Corrupt { path: PathBuf, detail: String },
}

impl StoreError {
    pub fn io(context: impl Into<String>, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            context: context.into(),
            path: path.into(),
            source,
        }
    }

    pub fn db(
        context: impl Into<String>,
        path: impl Into<PathBuf>,
        source: rusqlite::Error,
    ) -> Self {
        StoreError::Db {
            context: context.into(),
            path: path.into(),
            source,
        }
    }

    pub fn corrupt(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        StoreError::Corrupt {
            path: path.into(),
            detail: detail.into(),
        }
    }
}

impl StoreError {
    /// The same error for another caller (group commit: one failure, many
    /// waiting requests). The source is rebuilt from its code and message.
    pub fn duplicate(&self) -> StoreError {
        match self {
            StoreError::Io {
                context,
                path,
                source,
            } => StoreError::io(
                context.clone(),
                path.clone(),
                io::Error::new(source.kind(), source.to_string()),
            ),
            StoreError::Db {
                context,
                path,
                source,
            } => {
                let copy = match source {
                    rusqlite::Error::SqliteFailure(code, msg) => {
                        rusqlite::Error::SqliteFailure(*code, msg.clone())
                    }
                    other => rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                        Some(other.to_string()),
                    ),
                };
                StoreError::db(context.clone(), path.clone(), copy)
            }
            StoreError::Corrupt { path, detail } => {
                StoreError::corrupt(path.clone(), detail.clone())
            }
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io {
                context,
                path,
                source,
            } => {
                write!(f, "{context} {}: {source}", path.display())
            }
            StoreError::Db {
                context,
                path,
                source,
            } => {
                write!(f, "{context} {}: {source}", path.display())
            }
            StoreError::Corrupt { path, detail } => {
                write!(f, "corrupt data in {}: {detail}", path.display())
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Db { source, .. } => Some(source),
            StoreError::Corrupt { .. } => None,
        }
    }
}
