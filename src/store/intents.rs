//! Write intents: the crash journal of the writes that change two things
//! one after the other (an object's file, then its container row; a
//! container DB, then its account row). A process killed between the two
//! would leave them disagreeing: a listed row without a file, a file
//! nobody lists, an account row one change behind.
//!
//! ```text
//! <root>/intents/<16 random hex>   JSON ["a","c","o"] or ["a","c"]
//! ```
//! Before its first step a writer links in a marker naming what it touches
//! (built as an `O_TMPFILE` in `<root>/tmp/` and locked with `flock` before
//! it gets a name, so it is never seen empty or unlocked), and removes it
//! once both steps are done. A marker whose lock can be taken therefore
//! belongs to a writer that died (the kernel drops a dead process's locks)
//! or that kept it on purpose after a failed step: recovery
//! (`crate::node::recovery`) makes the catalog agree with the files for the names
//! inside, then removes it.
//!
//! Markers are not fsynced: they cover process crashes (SIGKILL, a
//! segfaulting child). Against power loss they rely on the filesystem
//! journalling the marker's link before the object directory's later fsync
//! (ext4 and XFS do: one ordered journal).

use super::lazy_dirs::LazyDirs;
use super::turns::Turns;
use super::StoreError;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub struct IntentLog {
    dir: PathBuf,
    tmp: PathBuf,
    /// `intents/` and `tmp/`, made by the first intent a worker writes.
    dirs: LazyDirs,
    /// When this process may next look for orphans; its first look is at
    /// once, so every process recovers before its first request.
    next_scan: Turns,
    /// Set by the process's first look (`first_scan`).
    scanned: AtomicBool,
}

/// A live intent: its marker stays locked while this value lives. Dropping
/// it without `settle` keeps the marker for recovery (the safe default on
/// an error or a panic between the two steps).
#[must_use = "settle the intent once both steps are done"]
pub struct Intent {
    /// None: untracked (no marker could be written, see `begin_or_untracked`).
    marker: Option<(File, PathBuf)>,
}

impl Intent {
    fn tracked(file: File, path: PathBuf) -> Intent {
        Intent {
            marker: Some((file, path)),
        }
    }

    /// Both steps are done (or neither happened): the marker goes.
    pub fn settle(self) {
        if let Some((file, path)) = self.marker {
            let _ = fs::remove_file(&path);
            drop(file);
        }
    }
}

/// A marker whose writer is gone, locked by us while recovery runs.
pub struct Orphan {
    /// `[account, container]` or `[account, container, object]`.
    pub names: Vec<String>,
    intent: Intent,
}

impl Orphan {
    /// The catalog agrees with the files again.
    pub fn settle(self) {
        self.intent.settle();
    }
}

impl IntentLog {
    /// Touches nothing on disk.
    pub fn new(root: &Path) -> IntentLog {
        IntentLog {
            dir: root.join("intents"),
            tmp: root.join("tmp"),
            dirs: LazyDirs::new(vec![root.join("intents"), root.join("tmp")]),
            next_scan: Turns::default(),
            scanned: AtomicBool::new(false),
        }
    }

    /// As `begin`, but on a full disk the write goes ahead untracked: a
    /// DELETE must still be able to free space. Without its marker, a crash
    /// between its two steps is repaired by the next DELETE of the name,
    /// which drops a row whose object is gone.
    pub fn begin_or_untracked(&self, names: &[&str]) -> Result<Intent, StoreError> {
        match self.begin(names) {
            Err(e) if e.is_out_of_space() => Ok(Intent { marker: None }),
            other => other,
        }
    }

    /// Records that the caller is about to change `names` (2 or 3 parts).
    pub fn begin(&self, names: &[&str]) -> Result<Intent, StoreError> {
        self.dirs.ensure()?;
        let body = serde_json::to_vec(names)
            .map_err(|e| StoreError::corrupt(&self.dir, format!("encoding intent: {e}")))?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .mode(super::perms::FILE_MODE)
            .custom_flags(libc::O_TMPFILE)
            .open(&self.tmp)
            .map_err(|e| StoreError::io("creating an O_TMPFILE file in", &self.tmp, e))?;
        file.write_all(&body)
            .map_err(|e| StoreError::io("writing intent in", &self.tmp, e))?;
        // Locked before it has a name: nobody can mistake it for an orphan.
        file.lock()
            .map_err(|e| StoreError::io("locking intent in", &self.tmp, e))?;
        loop {
            let path = self.dir.join(random_name()?);
            match crate::core::os::link_anonymous(&file, &path) {
                Ok(()) => return Ok(Intent::tracked(file, path)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(StoreError::io("linking", &path, e)),
            }
        }
    }

    /// True for the one caller per `interval` (in this process) whose turn
    /// it is; the first call is always a turn.
    pub fn claim_turn(&self, now: u64, interval: u64) -> bool {
        self.next_scan.claim(now, interval)
    }

    /// True once per process, for its first look for orphans.
    pub fn first_scan(&self) -> bool {
        !self.scanned.swap(true, Ordering::Relaxed)
    }

    /// Up to `max` markers whose writers are gone, each locked by us.
    /// Markers that are not a list of 2 or 3 names are removed (we never
    /// write those). Never creates the directory.
    pub fn orphans(&self, max: usize) -> Result<Vec<Orphan>, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io("listing", &self.dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            if out.len() >= max {
                break;
            }
            let entry = entry.map_err(|e| StoreError::io("listing", &self.dir, e))?;
            if let Some(orphan) = self.adopt(entry.path())? {
                out.push(orphan);
            }
        }
        Ok(out)
    }

    /// Locks the marker at `path` if its writer is gone.
    fn adopt(&self, path: PathBuf) -> Result<Option<Orphan>, StoreError> {
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("opening", &path, e)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Ok(None),
            Err(fs::TryLockError::Error(e)) => return Err(StoreError::io("locking", &path, e)),
        }
        // Settled (unlinked) between our open and our lock: nothing to do.
        let links = file
            .metadata()
            .map_err(|e| StoreError::io("checking", &path, e))?
            .nlink();
        if links == 0 {
            return Ok(None);
        }
        let names = fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Vec<String>>(&b).ok())
            .filter(|n| (2..=3).contains(&n.len()));
        let intent = Intent::tracked(file, path);
        match names {
            Some(names) => Ok(Some(Orphan { names, intent })),
            None => {
                intent.settle();
                Ok(None)
            }
        }
    }
}

fn random_name() -> Result<String, StoreError> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| {
        StoreError::io(
            "drawing random bytes for an intent",
            PathBuf::new(),
            io::Error::other(e.to_string()),
        )
    })?;
    Ok(crate::core::hex::hex(&raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers(root: &Path) -> usize {
        fs::read_dir(root.join("intents")).map_or(0, |d| d.count())
    }

    #[test]
    fn live_intents_are_not_orphans() {
        let dir = tempfile::tempdir().unwrap();
        let log = IntentLog::new(dir.path());
        assert!(log.orphans(10).unwrap().is_empty(), "no directory yet");
        let live = log.begin(&["a", "c", "o"]).unwrap();
        assert_eq!(markers(dir.path()), 1);
        assert!(log.orphans(10).unwrap().is_empty());
        live.settle();
        assert_eq!(markers(dir.path()), 0);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn a_dropped_intent_is_an_orphan_until_settled() {
        let dir = tempfile::tempdir().unwrap();
        let log = IntentLog::new(dir.path());
        drop(log.begin(&["a", "c", "odd\nname"]).unwrap());
        drop(log.begin(&["a", "c"]).unwrap());
        let mut found = log.orphans(10).unwrap();
        found.sort_by(|x, y| x.names.cmp(&y.names));
        assert_eq!(found[0].names, vec!["a", "c"]);
        assert_eq!(found[1].names, vec!["a", "c", "odd\nname"]);
        // Held by us: another recoverer skips them.
        assert!(log.orphans(10).unwrap().is_empty());
        assert_eq!(log.orphans(1).unwrap().len(), 0);
        let first = found.remove(0);
        first.settle();
        drop(found);
        // The unsettled one is an orphan again; the bound holds.
        assert_eq!(log.orphans(10).unwrap().len(), 1);
        drop(log.begin(&["a", "c", "x"]).unwrap());
        assert_eq!(log.orphans(1).unwrap().len(), 1);
        for o in log.orphans(10).unwrap() {
            o.settle();
        }
        assert_eq!(markers(dir.path()), 0);
    }

    #[test]
    fn garbage_markers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let log = IntentLog::new(dir.path());
        log.dirs.ensure().unwrap();
        fs::write(dir.path().join("intents/junk"), b"{").unwrap();
        fs::write(dir.path().join("intents/one"), b"[\"a\"]").unwrap();
        assert!(log.orphans(10).unwrap().is_empty());
        assert_eq!(markers(dir.path()), 0);
    }
}
