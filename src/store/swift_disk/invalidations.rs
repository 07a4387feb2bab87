//! Telling Swift's replicator what changed: after every write into a
//! suffix directory, the suffix is appended (a line, `abc\n`) to the
//! partition's `hashes.invalid` under the partition's lock (Swift's
//! `invalidate_hash`); the replicator folds these lines into its
//! `hashes.pkl` (also under that lock) and rehashes those suffixes only.
//! Swift appends before the new file is renamed into place; so does
//! `DiskFile`, so the replicator never misses a change.

use super::error::DiskError;
use super::layout::HASH_INVALIDATIONS_FILE;
use super::lock;
use crate::store::perms;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// Appends `suffix` to `<partition_dir>/hashes.invalid` under the
/// partition's lock.
pub fn invalidate(partition_dir: &Path, suffix: &str, timeout: Duration) -> Result<(), DiskError> {
    let _lock = lock::lock_dir(partition_dir, None, timeout)?;
    let path = partition_dir.join(HASH_INVALIDATIONS_FILE);
    let mut file = match OpenOptions::new()
        .append(true)
        .create(true)
        .mode(perms::FILE_MODE)
        .open(&path)
    {
        Ok(f) => f,
        // The partition was removed under us (a handoff replicated away):
        // nothing is left to invalidate, as Swift sees it.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(DiskError::io("opening", &path, e)),
    };
    file.write_all(format!("{suffix}\n").as_bytes())
        .map_err(|e| DiskError::io("appending to", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_appended_one_a_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let part = dir.path().join("objects/7");
        invalidate(&part, "7a0", lock::DEFAULT_TIMEOUT).expect("ok");
        invalidate(&part, "fff", lock::DEFAULT_TIMEOUT).expect("ok");
        let text = std::fs::read_to_string(part.join("hashes.invalid")).expect("read");
        assert_eq!(text, "7a0\nfff\n");
        assert!(part.join(".lock").exists());
        let _held = lock::lock_dir(&part, None, lock::DEFAULT_TIMEOUT).expect("free");
        let e = invalidate(&part, "abc", Duration::from_millis(30)).expect_err("locked");
        assert!(matches!(e, DiskError::LockTimeout { .. }), "{e}");
    }
}
