//! Per-process memory of object files whose bytes were hashed a moment ago,
//! so that a hot object is not hashed again on every GET (hashing, not
//! sending, bounds large-object GET throughput). An entry holds only while
//! the file's inode is unchanged — same device, inode, size, mtime and ctime
//! to the nanosecond, so any write through the filesystem invalidates it —
//! and for `TTL` at most, after which the next GET hashes again. What it
//! gives up: damage beneath the filesystem (the medium) inside that window,
//! which the next check after it, or `stowage-audit`, still finds.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(10);
/// Entries per process; beyond it, stale ones go first, then all.
const MAX_ENTRIES: usize = 4096;

/// What identifies one version of a file's bytes (`verify_once` shares it
/// between processes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: (i64, i64),
    pub ctime_ns: (i64, i64),
}

pub(crate) fn key(file: &File) -> Option<Key> {
    let m = file.metadata().ok()?;
    Some(Key {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime_ns: (m.mtime(), m.mtime_nsec()),
        ctime_ns: (m.ctime(), m.ctime_nsec()),
    })
}

/// Keyed by inode, so one table serves every storage root of the process.
fn table() -> &'static Mutex<HashMap<Key, Instant>> {
    static TABLE: OnceLock<Mutex<HashMap<Key, Instant>>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether `file` was hashed (and matched) within `TTL`, unchanged since.
pub fn recently(file: &File) -> bool {
    let Some(k) = key(file) else { return false };
    let table = table().lock();
    table.get(&k).is_some_and(|at| at.elapsed() < TTL)
}

/// Records that `file`'s bytes just matched their ETag.
pub fn remember(file: &File) {
    remember_aged(file, Duration::ZERO);
}

/// Records that `file`'s bytes matched their ETag `age` ago (in another
/// process: `verify_once`), so the memory ends when that check's would.
pub fn remember_aged(file: &File, age: Duration) {
    let Some(k) = key(file) else { return };
    let Some(at) = Instant::now().checked_sub(age) else {
        return;
    };
    let mut table = table().lock();
    if table.len() >= MAX_ENTRIES {
        table.retain(|_, seen| seen.elapsed() < TTL);
        if table.len() >= MAX_ENTRIES {
            table.clear();
        }
    }
    table.insert(k, at);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn any_write_forgets_the_file() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"abc").unwrap();
        assert!(!recently(&f));
        remember(&f);
        assert!(recently(&f));
        // Same size, one byte changed: mtime/ctime move on (or the write
        // lands in the same clock tick, which this test then waits out).
        let before = key(&f).unwrap();
        loop {
            std::os::unix::fs::FileExt::write_at(&f, b"x", 1).unwrap();
            if key(&f).unwrap() != before {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!recently(&f));
    }
}
