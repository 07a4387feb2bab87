//! Swift's directory locks (`lock_path`): an exclusive `flock` on the
//! hidden file `<dir>/.lock` (`.lock-<name>` for a named one, e.g. the
//! replication lock `.lock-replication`), created when missing and never
//! removed, polled every 10 ms (slower after 1% of the timeout) until the
//! timeout. Swift's processes and this module exclude each other through
//! the same files, as `flock` locks are per open file, across processes.

use super::error::DiskError;
use crate::store::perms;
use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Swift's `DEFAULT_LOCK_TIMEOUT`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A held lock; dropping it closes the file, which releases it.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
}

impl DirLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file of `dir` (`.lock`, or `.lock-<name>`).
pub fn lock_file(dir: &Path, name: Option<&str>) -> PathBuf {
    match name {
        Some(name) => dir.join(format!(".lock-{name}")),
        None => dir.join(".lock"),
    }
}

/// Takes `dir`'s lock (making `dir` when missing), waiting up to `timeout`.
pub fn lock_dir(dir: &Path, name: Option<&str>, timeout: Duration) -> Result<DirLock, DiskError> {
    perms::create_dir_all(dir).map_err(|e| DiskError::io("making", dir, e))?;
    let path = lock_file(dir, name);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(perms::FILE_MODE)
        .open(&path)
        .map_err(|e| DiskError::io("opening the lock", &path, e))?;
    let start = Instant::now();
    let slow_after = timeout / 100;
    let slow_sleep = (timeout / 100).max(Duration::from_millis(10));
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(DirLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(DiskError::io("locking", &path, e)),
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(DiskError::LockTimeout { path });
        }
        let nap = if waited > slow_after {
            slow_sleep
        } else {
            Duration::from_millis(10)
        };
        std::thread::sleep(nap.min(timeout - waited));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_excludes_others_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let part = dir.path().join("objects/7");
        let held = lock_dir(&part, None, DEFAULT_TIMEOUT).expect("free");
        assert_eq!(held.path(), part.join(".lock"));
        let e = lock_dir(&part, None, Duration::from_millis(50)).expect_err("held");
        assert!(matches!(e, DiskError::LockTimeout { .. }), "{e}");
        // Another name is another lock.
        let other = lock_dir(&part, Some("replication"), Duration::from_millis(50)).expect("free");
        assert_eq!(other.path(), part.join(".lock-replication"));
        drop(held);
        lock_dir(&part, None, Duration::from_millis(50)).expect("released");
    }
}
