//! Swift's object on-disk format, exactly (issue 20): objects stored so
//! that Swift's own daemons (replicator, auditor, updater, expirer) and
//! tools (`swift-object-info`) work on the same devices, and Stowage reads
//! what Swift's object server wrote.
//!
//! - `layout`: `<device>/objects[-N]/<partition>/<suffix>/<hash>/`, the
//!   partition as the ring computes it, `tmp[-N]`, `async_pending[-N]`,
//!   `quarantined/`.
//! - `file_name`: `<timestamp>.data|.meta|.ts` names, the `.meta`
//!   content-type form, offsets (`OffsetTimestamp`).
//! - `metadata`: Swift's pickled dict in `user.swift.metadata*` xattrs with
//!   its checksum.
//! - `file_set`: which files are current, which obsolete; cleanup.
//! - `lock`, `invalidations`: the partition's `.lock` and `hashes.invalid`.
//! - `writer`, `disk_file`: writing (temp file, fsync, rename) and opening
//!   (merge, checks, quarantine), `quarantine`: moving damage aside.
//!
//! The object store (`store::objects`) keeps every object in this format
//! (docs/swift-disk-format.md, "The switch").

pub mod async_pending;
pub mod disk_file;
pub mod error;
pub mod file_name;
pub mod file_set;
pub mod invalidations;
pub mod layout;
pub mod lock;
pub mod metadata;
pub mod quarantine;
pub mod writer;

#[cfg(test)]
mod tests;

pub use disk_file::{DiskFile, OpenedObject};
pub use error::DiskError;
pub use layout::ObjectLocation;
pub use metadata::Metadata;
pub use writer::Writer;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The object server's settings that this format depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Tombstones (and `.meta` files without data) older than this are
    /// removed by cleanup (Swift's `reclaim_age`, one week by default).
    pub reclaim_age_secs: u64,
    /// How long to wait for a partition's lock.
    pub lock_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            reclaim_age_secs: file_set::DEFAULT_RECLAIM_AGE_SECS,
            lock_timeout: lock::DEFAULT_TIMEOUT,
        }
    }
}

/// Seconds since the epoch, as Python's `time.time()`.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
