//! The one error type of the storage layer: what failed, and on which path.

use super::swift_disk::DiskError;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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
    /// Account or container metadata would grow past Swift's limits once
    /// merged with what is stored (`catalog::meta`); nothing was changed.
    /// The message is Swift's 400 body.
    MetadataLimit { message: String },
    /// An object's file holds another name than the one asked for (a hash
    /// collision, or a file put there by hand): the name asked for is not
    /// there, as Swift's DiskFileCollision.
    NameCollision {
        path: PathBuf,
        stored: String,
        wanted: String,
    },
    /// The configured hash-path salt is not the one the storage root was
    /// written with (`hash_path::bind_root`): nothing stored would be found.
    WrongSalt { path: PathBuf, detail: String },
    /// The storage root's object layout is not the one this server
    /// stores (`part_power::bind_root`): Stowage's old format, or another
    /// part power than the one recorded. Nothing is served from it.
    WrongLayout { path: PathBuf, detail: String },
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
    /// True when the filesystem (or the user's quota) has no room for what
    /// was being written: ENOSPC / EDQUOT from any file operation, and
    /// SQLite's SQLITE_FULL (its write or WAL growth hit ENOSPC) or a WAL
    /// index that could not grow. Callers answer 507, not 500.
    pub fn is_out_of_space(&self) -> bool {
        match self {
            StoreError::Io { source, .. } => is_out_of_space_io(source),
            StoreError::Db { source, .. } => match source {
                rusqlite::Error::SqliteFailure(e, _) => {
                    e.code == rusqlite::ErrorCode::DiskFull
                        || e.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE
                }
                _ => false,
            },
            StoreError::Corrupt { .. }
            | StoreError::MetadataLimit { .. }
            | StoreError::NameCollision { .. }
            | StoreError::WrongSalt { .. }
            | StoreError::WrongLayout { .. } => false,
        }
    }

    /// The DB file whose contents SQLite found damaged (not a database, or
    /// a malformed page), as opposed to a busy lock or a full disk.
    pub fn damaged_db(&self) -> Option<&Path> {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        match self {
            StoreError::Db { path, source, .. } => matches!(
                source.sqlite_error_code(),
                Some(DatabaseCorrupt | NotADatabase)
            )
            .then_some(path.as_path()),
            _ => None,
        }
    }

    /// The same error for another caller (group commit: one failure, many
    /// waiting requests). The source is rebuilt from its code and message.
    pub fn duplicate(&self) -> StoreError {
        match self {
            StoreError::Io {
                context,
                path,
                source,
            } => {
                // Keep the OS error code: it decides the status (507).
                let copy = match source.raw_os_error() {
                    Some(code) => io::Error::from_raw_os_error(code),
                    None => io::Error::new(source.kind(), source.to_string()),
                };
                StoreError::io(context.clone(), path.clone(), copy)
            }
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
            StoreError::MetadataLimit { message } => StoreError::MetadataLimit {
                message: message.clone(),
            },
            StoreError::NameCollision {
                path,
                stored,
                wanted,
            } => StoreError::NameCollision {
                path: path.clone(),
                stored: stored.clone(),
                wanted: wanted.clone(),
            },
            StoreError::WrongSalt { path, detail } => StoreError::WrongSalt {
                path: path.clone(),
                detail: detail.clone(),
            },
            StoreError::WrongLayout { path, detail } => StoreError::WrongLayout {
                path: path.clone(),
                detail: detail.clone(),
            },
        }
    }
}

impl From<DiskError> for StoreError {
    /// The object store's view of a disk-format error: no room stays a
    /// no-room I/O error (507), a name collision stays one, damage is
    /// `Corrupt`.
    fn from(e: DiskError) -> Self {
        match e {
            DiskError::Io {
                context,
                path,
                source,
            } => StoreError::Io {
                context,
                path,
                source,
            },
            DiskError::NoSpace { path, source } => {
                // E2BIG: metadata too large for the filesystem's xattrs.
                let source = match source.raw_os_error() {
                    Some(libc::E2BIG) => io::Error::from_raw_os_error(libc::ENOSPC),
                    _ => source,
                };
                StoreError::io(
                    "no room for an object file or its metadata in",
                    path,
                    source,
                )
            }
            DiskError::XattrNotSupported { path } => StoreError::io(
                "storing metadata in extended attributes (not supported) on",
                path,
                io::Error::from_raw_os_error(libc::ENOTSUP),
            ),
            DiskError::StateChanged { path } => StoreError::io(
                "reading (a concurrent write changed the object)",
                path,
                io::Error::from(io::ErrorKind::NotFound),
            ),
            DiskError::Collision { stored, wanted } => StoreError::NameCollision {
                path: PathBuf::new(),
                stored,
                wanted,
            },
            DiskError::Quarantined { to, reason } => StoreError::corrupt(to, reason),
            DiskError::BadMetadata { path, detail } => StoreError::corrupt(path, detail),
            DiskError::LockTimeout { path } => {
                StoreError::io("locking", path, io::Error::from(io::ErrorKind::TimedOut))
            }
            other => StoreError::corrupt(PathBuf::new(), other.to_string()),
        }
    }
}

/// ENOSPC or EDQUOT, whether from the OS or made up by a space check.
pub fn is_out_of_space_io(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
        || matches!(
            e.kind(),
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
        )
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
            StoreError::MetadataLimit { message } => write!(f, "refused: {message}"),
            StoreError::NameCollision {
                path,
                stored,
                wanted,
            } => write!(
                f,
                "name collision: {} holds object {stored:?}, not {wanted:?}",
                path.display()
            ),
            StoreError::WrongSalt { detail, .. } => write!(f, "wrong hash-path salt: {detail}"),
            StoreError::WrongLayout { detail, .. } => {
                write!(f, "wrong object layout: {detail}")
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Db { source, .. } => Some(source),
            StoreError::Corrupt { .. }
            | StoreError::MetadataLimit { .. }
            | StoreError::NameCollision { .. }
            | StoreError::WrongSalt { .. }
            | StoreError::WrongLayout { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_err(code: i32) -> StoreError {
        StoreError::io("writing", "/x", io::Error::from_raw_os_error(code))
    }

    fn db_err(code: i32) -> StoreError {
        let e = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        StoreError::db("commit", "/x.db", e)
    }

    #[test]
    fn out_of_space_is_enospc_edquot_and_sqlite_full() {
        assert!(io_err(libc::ENOSPC).is_out_of_space());
        assert!(io_err(libc::EDQUOT).is_out_of_space());
        assert!(db_err(rusqlite::ffi::SQLITE_FULL).is_out_of_space());
        assert!(db_err(rusqlite::ffi::SQLITE_IOERR_SHMSIZE).is_out_of_space());

        assert!(!io_err(libc::EIO).is_out_of_space());
        assert!(!io_err(libc::EACCES).is_out_of_space());
        assert!(!db_err(rusqlite::ffi::SQLITE_IOERR_WRITE).is_out_of_space());
        assert!(!db_err(rusqlite::ffi::SQLITE_BUSY).is_out_of_space());
        assert!(!StoreError::corrupt("/x", "bad").is_out_of_space());
    }

    #[test]
    fn a_duplicate_stays_out_of_space() {
        // Group commit hands one failure to every waiting request.
        assert!(io_err(libc::ENOSPC).duplicate().is_out_of_space());
        assert!(db_err(rusqlite::ffi::SQLITE_FULL)
            .duplicate()
            .is_out_of_space());
        assert!(!io_err(libc::EIO).duplicate().is_out_of_space());
    }

    use rusqlite::ffi::{Error as FfiError, SQLITE_BUSY, SQLITE_CORRUPT, SQLITE_NOTADB};

    fn db_error(code: i32, msg: &str) -> StoreError {
        let e = rusqlite::Error::SqliteFailure(FfiError::new(code), Some(msg.into()));
        StoreError::db("list container DB", "/r/containers/abc/abc.db", e)
    }

    #[test]
    fn damaged_db_names_the_file_only_for_damage() {
        let notadb = db_error(SQLITE_NOTADB, "file is not a database");
        assert_eq!(
            notadb.damaged_db(),
            Some(Path::new("/r/containers/abc/abc.db"))
        );
        assert_eq!(
            notadb.to_string(),
            "list container DB /r/containers/abc/abc.db: file is not a database"
        );
        assert!(db_error(SQLITE_CORRUPT, "database disk image is malformed")
            .damaged_db()
            .is_some());
        assert_eq!(
            db_error(SQLITE_BUSY, "database is locked").damaged_db(),
            None
        );
        assert_eq!(StoreError::corrupt("/x", "y").damaged_db(), None);
    }
}
