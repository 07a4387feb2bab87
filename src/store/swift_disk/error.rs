//! What can go wrong with an object in Swift's on-disk format, as the
//! `DiskFile*` exceptions of Swift's `obj/diskfile.py` tell it apart: the
//! object server turns each into its own status (404, 409, 507, 503...).

use super::metadata::Metadata;
use crate::store::timestamp::OffsetTimestamp;
use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum DiskError {
    /// A filesystem operation failed (not one of the cases below).
    Io {
        context: String,
        path: PathBuf,
        source: io::Error,
    },
    /// No room for the file or its metadata (ENOSPC, EDQUOT, or E2BIG from
    /// an extended attribute too large for the filesystem: ext4 without
    /// `ea_inode` holds about 4 KiB of them per inode). Swift's
    /// `DiskFileNoSpace`: 507.
    NoSpace { path: PathBuf, source: io::Error },
    /// The filesystem has no user extended attributes. Swift's
    /// `DiskFileXattrNotSupported`: 507.
    XattrNotSupported { path: PathBuf },
    /// A file seen in the listing was gone when read (a concurrent cleanup).
    /// Swift's `DiskFileStateChanged`: 503 for a POST, not-found otherwise.
    StateChanged { path: PathBuf },
    /// Nothing is stored under the name. Swift's `DiskFileNotExist`.
    NotFound,
    /// The newest file is a tombstone. Swift's `DiskFileDeleted`: 404 with
    /// `X-Backend-Timestamp`.
    Deleted {
        timestamp: OffsetTimestamp,
        metadata: Metadata,
    },
    /// Its `X-Delete-At` has passed. Swift's `DiskFileExpired`.
    Expired { metadata: Metadata },
    /// The stored name is another one (an MD5 collision, or a file put
    /// there by hand). Swift's `DiskFileCollision`.
    Collision { stored: String, wanted: String },
    /// The hash directory was found damaged and moved to
    /// `<device>/quarantined/objects[-N]/`. Swift's `DiskFileQuarantined`.
    Quarantined { to: PathBuf, reason: String },
    /// Metadata that cannot be read (checksum mismatch, not a pickle, not a
    /// dict, a bad `Content-Length`...): what Swift quarantines. Returned by
    /// the functions that only read; `DiskFile::open` quarantines instead.
    BadMetadata { path: PathBuf, detail: String },
    /// The partition's lock was not granted in time. Swift's `LockTimeout`.
    LockTimeout { path: PathBuf },
    /// Metadata handed to a writer lacks a valid `X-Timestamp` (or
    /// `Content-Type-Timestamp`): a caller's error, nothing was written.
    InvalidTimestamp { key: &'static str, value: String },
}

impl DiskError {
    pub fn io(context: impl Into<String>, path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        match source.raw_os_error() {
            Some(libc::ENOSPC | libc::EDQUOT) => DiskError::NoSpace { path, source },
            _ => DiskError::Io {
                context: context.into(),
                path,
                source,
            },
        }
    }

    /// True for the errors Swift answers 507 for.
    pub fn is_insufficient_storage(&self) -> bool {
        matches!(
            self,
            DiskError::NoSpace { .. } | DiskError::XattrNotSupported { .. }
        )
    }
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskError::Io {
                context,
                path,
                source,
            } => write!(f, "{context} {}: {source}", path.display()),
            DiskError::NoSpace { path, source } => {
                write!(f, "no space for {}: {source}", path.display())
            }
            DiskError::XattrNotSupported { path } => write!(
                f,
                "the filesystem of {} does not support extended attributes",
                path.display()
            ),
            DiskError::StateChanged { path } => {
                write!(f, "{} vanished while being read", path.display())
            }
            DiskError::NotFound => f.write_str("no such object"),
            DiskError::Deleted { timestamp, .. } => {
                write!(f, "deleted at {}", timestamp.internal())
            }
            DiskError::Expired { .. } => f.write_str("expired"),
            DiskError::Collision { stored, wanted } => {
                write!(f, "stored name {stored:?} is not {wanted:?}")
            }
            DiskError::Quarantined { to, reason } => {
                write!(f, "quarantined to {}: {reason}", to.display())
            }
            DiskError::BadMetadata { path, detail } => {
                write!(f, "bad metadata on {}: {detail}", path.display())
            }
            DiskError::LockTimeout { path } => {
                write!(f, "timed out waiting for the lock {}", path.display())
            }
            DiskError::InvalidTimestamp { key, value } => {
                write!(f, "metadata {key} {value:?} is not a timestamp")
            }
        }
    }
}

impl std::error::Error for DiskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DiskError::Io { source, .. } | DiskError::NoSpace { source, .. } => Some(source),
            _ => None,
        }
    }
}
