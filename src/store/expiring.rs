//! The index of objects that expire (`X-Delete-At`): one small marker file
//! per (object, delete-at) under `<root>/expiring/`, named so that names
//! sort by due time and no object name reaches the filesystem:
//!
//! ```text
//! <root>/expiring/<delete_at, 10 digits>-<md5 of /a/c/o>   JSON ["a","c","o"]
//! <root>/expiring/.sweep                                   lock of the sweeper
//! ```
//! A marker is written before the object it describes, so a crash leaves at
//! worst a marker for nothing (removed by the next sweep), never an expiring
//! object nobody will reclaim.

use super::objects::name_hash;
use super::turns::Turns;
use super::StoreError;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One due entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub delete_at: u64,
    pub account: String,
    pub container: String,
    pub object: String,
    path: PathBuf,
}

pub struct ExpiringIndex {
    dir: PathBuf,
    /// Made by the first marker a worker writes (see `ObjectStore::new`).
    dir_ready: OnceLock<()>,
    /// When this process may next try a sweep.
    next_sweep: Turns,
}

/// Holds the sweep lock while alive; the kernel releases it if the holder
/// dies, so a crashed sweeper never blocks the others.
pub struct SweepLock {
    _file: File,
}

impl ExpiringIndex {
    pub fn new(root: &Path) -> ExpiringIndex {
        ExpiringIndex {
            dir: root.join("expiring"),
            dir_ready: OnceLock::new(),
            next_sweep: Turns::default(),
        }
    }

    /// True for the one caller per `interval` (in this process) whose turn
    /// it is; the first call is always a turn.
    pub fn claim_turn(&self, now: u64, interval: u64) -> bool {
        self.next_sweep.claim(now, interval)
    }

    fn ensure_dir(&self) -> Result<(), StoreError> {
        if self.dir_ready.get().is_none() {
            super::perms::create_dir_all(&self.dir)
                .map_err(|e| StoreError::io("creating", &self.dir, e))?;
            let _ = self.dir_ready.set(());
        }
        Ok(())
    }

    fn marker_path(&self, delete_at: u64, account: &str, container: &str, object: &str) -> PathBuf {
        let hash = name_hash(&[account, container, object]);
        self.dir.join(format!("{delete_at:010}-{hash}"))
    }

    /// Records that the object expires at `delete_at` (epoch seconds).
    pub fn add(
        &self,
        delete_at: u64,
        account: &str,
        container: &str,
        object: &str,
    ) -> Result<(), StoreError> {
        self.ensure_dir()?;
        let path = self.marker_path(delete_at, account, container, object);
        let body = serde_json::to_vec(&[account, container, object])
            .map_err(|e| StoreError::corrupt(&path, format!("encoding marker: {e}")))?;
        super::small_file::write_whole(&path, &body)
            .map_err(|e| StoreError::io("writing", &path, e))
    }

    /// Tries to become the one sweeper of this root; None when another
    /// thread or process is sweeping right now.
    pub fn try_lock(&self) -> Result<Option<SweepLock>, StoreError> {
        self.ensure_dir()?;
        let path = self.dir.join(".sweep");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(super::perms::FILE_MODE)
            .open(&path)
            .map_err(|e| StoreError::io("opening", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SweepLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(StoreError::io("locking", &path, e)),
        }
    }

    /// Up to `max` entries due at or before `now`, oldest first. Markers
    /// that cannot be read are removed (they were never complete).
    pub fn due(&self, now: u64, max: usize) -> Result<Vec<Due>, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io("listing", &self.dir, e)),
        };
        let mut names: Vec<(u64, String)> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("listing", &self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(at) = name.split('-').next().and_then(|s| s.parse::<u64>().ok()) else {
                continue;
            };
            if at <= now {
                names.push((at, name.to_string()));
            }
        }
        names.sort();
        let mut out = Vec::new();
        for (delete_at, name) in names.into_iter().take(max) {
            let path = self.dir.join(&name);
            let parsed = fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<[String; 3]>(&b).ok());
            match parsed {
                Some([account, container, object]) => out.push(Due {
                    delete_at,
                    account,
                    container,
                    object,
                    path,
                }),
                None => {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        Ok(out)
    }

    /// Forgets an entry once its object is reclaimed (or gone).
    pub fn remove(&self, due: &Due) {
        let _ = fs::remove_file(&due.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_come_back_due_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let idx = ExpiringIndex::new(dir.path());
        assert!(idx.due(100, 10).unwrap().is_empty(), "no directory yet");
        idx.add(50, "a", "c", "late\nname").unwrap();
        idx.add(20, "a", "c", "early").unwrap();
        idx.add(500, "a", "c", "future").unwrap();
        fs::write(dir.path().join("expiring/0000000001-garbage"), b"{").unwrap();
        let due = idx.due(100, 10).unwrap();
        let names: Vec<_> = due.iter().map(|d| d.object.as_str()).collect();
        assert_eq!(names, vec!["early", "late\nname"]);
        assert_eq!(due[0].delete_at, 20);
        assert_eq!(idx.due(100, 1).unwrap().len(), 1);
        idx.remove(&due[0]);
        assert_eq!(idx.due(100, 10).unwrap().len(), 1);
        assert!(!dir.path().join("expiring/0000000001-garbage").exists());
    }

    #[test]
    fn one_sweeper_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let idx = ExpiringIndex::new(dir.path());
        let held = idx.try_lock().unwrap();
        assert!(held.is_some());
        assert!(idx.try_lock().unwrap().is_none());
        drop(held);
        assert!(idx.try_lock().unwrap().is_some());
        assert!(idx.claim_turn(100, 2));
        assert!(!idx.claim_turn(101, 2));
        assert!(idx.claim_turn(102, 2));
    }
}
