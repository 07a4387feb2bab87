//! Moving a damaged object aside as Swift's `quarantine_dir_renamer` does:
//! the whole hash directory goes to `<device>/quarantined/objects[-N]/
//! <hash>` (`<hash>-<32 random hex>` when that is taken), after its suffix
//! is invalidated, so the replicator brings a good copy back from another
//! node.

use super::error::DiskError;
use super::invalidations;
use super::layout::ObjectLocation;
use crate::store::perms;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Quarantines `loc`'s hash directory; returns where it went.
pub fn quarantine(loc: &ObjectLocation, lock_timeout: Duration) -> Result<PathBuf, DiskError> {
    invalidations::invalidate(
        &loc.partition_dir(),
        super::layout::suffix(&loc.hash),
        lock_timeout,
    )?;
    let from = loc.hash_dir();
    let to = loc.quarantine_dir();
    if let Some(parent) = to.parent() {
        perms::create_dir_all(parent).map_err(|e| DiskError::io("making", parent, e))?;
    }
    match fs::rename(&from, &to) {
        Ok(()) => Ok(to),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENOTEMPTY)) => {
            let mut random = [0u8; 16];
            getrandom::fill(&mut random)
                .map_err(|e| DiskError::io("drawing a name for", &to, io::Error::other(e)))?;
            let mut name = to.as_os_str().to_owned();
            name.push(format!("-{}", crate::core::hex::hex(&random)));
            let to = PathBuf::from(name);
            fs::rename(&from, &to).map_err(|e| DiskError::io("quarantining", &from, e))?;
            Ok(to)
        }
        Err(e) => Err(DiskError::io("quarantining", &from, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_dir_moves_to_quarantined_and_its_suffix_is_invalidated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let loc = ObjectLocation {
            device: dir.path().join("sda"),
            policy: 1,
            partition: 7,
            hash: "a157cb6603418d26488daa9a702477a0".into(),
        };
        for round in 0..2 {
            fs::create_dir_all(loc.hash_dir()).expect("mkdir");
            fs::write(loc.hash_dir().join("1.data"), b"x").expect("write");
            let to = quarantine(&loc, Duration::from_secs(1)).expect("quarantined");
            assert!(!loc.hash_dir().exists());
            assert!(to.join("1.data").exists());
            let base = dir
                .path()
                .join("sda/quarantined/objects-1/a157cb6603418d26488daa9a702477a0");
            if round == 0 {
                assert_eq!(to, base);
            } else {
                let name = to.to_string_lossy().into_owned();
                assert!(name.starts_with(&format!("{}-", base.display())), "{name}");
            }
        }
        let invalid = fs::read_to_string(loc.partition_dir().join("hashes.invalid")).expect("read");
        assert_eq!(invalid, "7a0\n7a0\n");
    }
}
