//! The index of objects that expire (`X-Delete-At`): one small marker file
//! per write that sets an expiry, in hour buckets named by due time, and a
//! second name (a hard link) for the same file in a directory of the
//! object's own, beside (never inside) its hash directory: Swift's tools
//! must never find a foreign file among an object's files:
//!
//! ```text
//! <root>/expiring/<hour:010>/<delete_at:010>-<hash>-<ts>    JSON ["a","c","o"]
//! <root>/expiring-links/<hash[29..32]>/<hash>/<ts>-<delete_at:010>.expiry   same file
//! <root>/expiring/.sweep                                    lock of the sweeper
//! ```
//! `hour` is `delete_at` rounded down to a multiple of 3600 and `ts` the
//! timestamp of the write (the version's metadata timestamp), so no object
//! name reaches the filesystem and every write's marker is its own.
//!
//! A marker is written before the object it describes, so a crash leaves at
//! worst a marker for nothing, never an expiring object nobody will reclaim.
//! The link in the object's directory lets whoever writes the object next
//! find every marker of its older versions and drop them (`settle`), so an
//! object has markers only for its current version and writes in flight,
//! however often its `X-Delete-At` changes; a failed write takes its own
//! back (`withdraw`). The sweep lists only the buckets that are due.
//!
//! Markers of the earlier flat layout (`<root>/expiring/<delete_at>-<hash>`,
//! no link) are still swept when due.

use super::hash_path::HashPath;
use super::objects::{FileState, ObjectStore};
use super::turns::Turns;
use super::{StoreError, Timestamp};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Width of a bucket directory, in seconds of due time.
pub const BUCKET_SECS: u64 = 3600;
const LINK_SUFFIX: &str = ".expiry";
/// `<root>/<LINKS_DIR>`: the markers' second names, by object hash.
pub const LINKS_DIR: &str = "expiring-links";

/// The directory of the object whose hash is `hash` (32 hex digits;
/// anything shorter gets a directory of its own, never a panic) under
/// `links`.
pub fn object_dir_in(links: &Path, hash: &str) -> PathBuf {
    links.join(hash.get(29..).unwrap_or(hash)).join(hash)
}

/// One due entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub delete_at: u64,
    pub account: String,
    pub container: String,
    pub object: String,
    path: PathBuf,
    /// Its name in the object's directory (None for a flat-layout marker).
    link: Option<PathBuf>,
}

/// The marker one write made (`add`), to take back if the write fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    delete_at: u64,
    ts: Timestamp,
    path: PathBuf,
    link: PathBuf,
}

pub struct ExpiringIndex {
    dir: PathBuf,
    /// `<root>/expiring-links`: where the markers' second names are.
    links: PathBuf,
    /// Markers are named by the object's hash, salted as its directory.
    hash_path: HashPath,
    /// When this process may next try a sweep.
    next_sweep: Turns,
}

/// Holds the sweep lock while alive; the kernel releases it if the holder
/// dies, so a crashed sweeper never blocks the others.
pub struct SweepLock {
    _file: File,
}

/// `<delete_at>-<hash>-<ts>`, the name of a marker in its bucket.
fn parse_marker_name(name: &str) -> Option<(u64, &str, Timestamp)> {
    let mut parts = name.splitn(3, '-');
    let at = parse_at(parts.next()?)?;
    let hash = parts.next().filter(|h| is_hash(h))?;
    let ts = Timestamp::parse(parts.next()?)?;
    Some((at, hash, ts))
}

/// `<ts>-<delete_at>.expiry`, the name of a marker in an object directory.
fn parse_link_name(name: &str) -> Option<(Timestamp, u64)> {
    let (ts, at) = name.strip_suffix(LINK_SUFFIX)?.split_once('-')?;
    Some((Timestamp::parse(ts)?, parse_at(at)?))
}

fn parse_at(s: &str) -> Option<u64> {
    (s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn is_hash(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The delete-at time a version's metadata carries.
fn meta_delete_at(meta: &[(String, Vec<u8>)]) -> Option<u64> {
    meta.iter()
        .find(|(n, _)| n == "x-delete-at")
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
}

/// Whether the marker of the write at `ts` expiring at `at` is still needed
/// by an object in `state`: it is its current version's, or a write newer
/// than what the object shows may still be in flight.
fn needed(state: &FileState, ts: Timestamp, at: u64) -> bool {
    match state {
        FileState::Live(meta) => {
            ts > meta.meta_timestamp
                || (ts == meta.meta_timestamp && meta_delete_at(&meta.meta) == Some(at))
        }
        FileState::Deleted(del) => ts > *del,
        FileState::Absent => true,
    }
}

impl ExpiringIndex {
    /// Touches nothing on disk.
    pub fn new(root: &Path) -> ExpiringIndex {
        ExpiringIndex::with_hash_path(root, HashPath::unsalted())
    }

    pub fn with_hash_path(root: &Path, hash_path: HashPath) -> ExpiringIndex {
        ExpiringIndex {
            dir: root.join("expiring"),
            links: root.join(LINKS_DIR),
            hash_path,
            next_sweep: Turns::default(),
        }
    }

    /// True for the one caller per `interval` (in this process) whose turn
    /// it is; the first call is always a turn.
    pub fn claim_turn(&self, now: u64, interval: u64) -> bool {
        self.next_sweep.claim(now, interval)
    }

    fn bucket(&self, delete_at: u64) -> PathBuf {
        self.dir
            .join(format!("{:010}", delete_at - delete_at % BUCKET_SECS))
    }

    fn marker_paths(&self, delete_at: u64, hash: &str, ts: Timestamp) -> (PathBuf, PathBuf) {
        let ts = ts.normal();
        let path = self
            .bucket(delete_at)
            .join(format!("{delete_at:010}-{hash}-{ts}"));
        let link =
            object_dir_in(&self.links, hash).join(format!("{ts}-{delete_at:010}{LINK_SUFFIX}"));
        (path, link)
    }

    /// Records that the write at `ts` makes the object expire at
    /// `delete_at` (epoch seconds, at most 10 digits).
    pub fn add(
        &self,
        delete_at: u64,
        ts: Timestamp,
        account: &str,
        container: &str,
        object: &str,
    ) -> Result<Marker, StoreError> {
        let hash = self.hash_path.object(account, container, object);
        let (path, link) = self.marker_paths(delete_at, &hash, ts);
        let body = serde_json::to_vec(&[account, container, object])
            .map_err(|e| StoreError::corrupt(&path, format!("encoding marker: {e}")))?;
        // The bucket may be new, or removed as empty by a sweep meanwhile.
        with_dir(&path, false, || {
            super::small_file::write_whole(&path, &body)
        })
        .map_err(|e| StoreError::io("writing", &path, e))?;
        let linked = with_dir(&link, true, || match fs::hard_link(&path, &link) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        });
        if let Err(e) = linked {
            drop_marker(&path, None);
            return Err(StoreError::io("linking", &link, e));
        }
        Ok(Marker {
            delete_at,
            ts,
            path,
            link,
        })
    }

    /// Takes back the marker of a write that did not become the object's
    /// current version (it failed, or lost to a newer write). A marker of
    /// the same name that belongs to the current version stays.
    pub fn withdraw(&self, objects: &ObjectStore, marker: &Marker, names: [&str; 3]) {
        let [a, c, o] = names;
        if let Ok(FileState::Live(meta)) = objects.state(a, c, o) {
            if meta.meta_timestamp == marker.ts
                && meta_delete_at(&meta.meta) == Some(marker.delete_at)
            {
                return;
            }
        }
        drop_marker(&marker.path, Some(&marker.link));
        if let Some(dir) = marker.link.parent() {
            remove_empty_dirs(dir);
        }
    }

    /// Drops the markers the object no longer needs: those of versions a
    /// newer write replaced or deleted. Returns how many it dropped.
    pub fn settle(
        &self,
        objects: &ObjectStore,
        account: &str,
        container: &str,
        object: &str,
    ) -> Result<usize, StoreError> {
        let hash = self.hash_path.object(account, container, object);
        let dir = object_dir_in(&self.links, &hash);
        let links = links_in(&dir)?;
        if links.is_empty() {
            return Ok(0);
        }
        let state = objects.state(account, container, object)?;
        let mut dropped = 0;
        for (ts, at) in links {
            if !needed(&state, ts, at) {
                let (path, link) = self.marker_paths(at, &hash, ts);
                drop_marker(&path, Some(&link));
                dropped += 1;
            }
        }
        Ok(dropped)
    }

    /// Tries to become the one sweeper of this root; None when another
    /// thread or process is sweeping right now.
    pub fn try_lock(&self) -> Result<Option<SweepLock>, StoreError> {
        super::perms::create_dir_all(&self.dir)
            .map_err(|e| StoreError::io("creating", &self.dir, e))?;
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

    /// Up to `max` entries due at or before `now`, oldest first (by hour:
    /// within an hour that is over, in directory order). Lists the top
    /// directory (one entry per hour that has markers) and the due hours
    /// only, and stops reading an hour that is over once it has `max`.
    /// Markers that cannot be read are removed (they were never complete),
    /// and so are the directories of hours that are over and empty.
    pub fn due(&self, now: u64, max: usize) -> Result<Vec<Due>, StoreError> {
        let mut buckets = Vec::new();
        let mut flat = Vec::new();
        for name in names_in(&self.dir)? {
            if let Some(start) = parse_at(&name) {
                if start <= now {
                    buckets.push(start);
                }
            } else if let Some(at) = name.split('-').next().and_then(|s| s.parse::<u64>().ok()) {
                if at <= now {
                    flat.push((at, name));
                }
            }
        }
        buckets.sort_unstable();
        flat.sort();
        let mut out = Vec::new();
        for (delete_at, name) in flat.into_iter().take(max) {
            let path = self.dir.join(&name);
            if let Some([account, container, object]) = read_names(&path) {
                out.push(Due {
                    delete_at,
                    account,
                    container,
                    object,
                    path,
                    link: None,
                });
            }
        }
        for start in buckets {
            if out.len() >= max {
                break;
            }
            let want = max - out.len();
            let dir = self.dir.join(format!("{start:010}"));
            let over = start.saturating_add(BUCKET_SECS) <= now;
            let mut found = Vec::new();
            let mut seen = 0usize;
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io("listing", &dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| StoreError::io("listing", &dir, e))?;
                seen += 1;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                match parse_marker_name(name) {
                    Some((at, hash, ts)) if at <= now => {
                        found.push((at, name.to_string(), self.marker_paths(at, hash, ts).1))
                    }
                    Some(_) => {}
                    None => {
                        let _ = fs::remove_file(entry.path());
                    }
                }
                if over && found.len() >= want {
                    break;
                }
            }
            if over && seen == 0 {
                let _ = fs::remove_dir(&dir);
            }
            found.sort();
            for (delete_at, name, link) in found.into_iter().take(want) {
                let path = dir.join(&name);
                if let Some([account, container, object]) = read_names(&path) {
                    out.push(Due {
                        delete_at,
                        account,
                        container,
                        object,
                        path,
                        link: Some(link),
                    });
                } else {
                    let _ = fs::remove_file(&link);
                }
            }
        }
        Ok(out)
    }

    /// Forgets an entry once its object is reclaimed (or gone).
    pub fn remove(&self, due: &Due) {
        match &due.link {
            Some(link) => drop_marker(&due.path, Some(link)),
            None => {
                let _ = fs::remove_file(&due.path);
            }
        }
    }
}

/// Removes a marker (in an hour bucket) and its link, and the bucket if it
/// is empty now: a future hour whose markers all went must not stay behind
/// as an empty directory (4 KiB each, and one per hour up to 2286). A
/// concurrent `add` to that hour makes it again (`with_dir`).
fn drop_marker(path: &Path, link: Option<&Path>) {
    let _ = fs::remove_file(path);
    if let Some(link) = link {
        let _ = fs::remove_file(link);
    }
    if let Some(bucket) = path.parent() {
        let _ = fs::remove_dir(bucket);
    }
}

/// Runs `f`, which creates a file in `path`'s directory; if that directory
/// is missing, makes it (owner-only) and runs `f` again. With `durable`, a
/// directory made is fsync'd into its parent: an object directory made here
/// must survive a crash as the object's own write would have made it.
fn with_dir(path: &Path, durable: bool, mut f: impl FnMut() -> io::Result<()>) -> io::Result<()> {
    match f() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        other => return other,
    }
    let Some(dir) = path.parent() else {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    };
    for _ in 0..3 {
        super::perms::create_dir_all(dir)?;
        if durable {
            if let Some(parent) = dir.parent() {
                File::open(parent)?.sync_all()?;
            }
        }
        match f() {
            // Removed again as empty by a concurrent cleanup: once more.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            other => return other,
        }
    }
    Err(io::Error::from(io::ErrorKind::NotFound))
}

/// The names in `dir` (none if it does not exist).
fn names_in(dir: &Path) -> Result<Vec<String>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("listing", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("listing", dir, e))?;
        if let Some(name) = entry.file_name().to_str() {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

/// The markers linked into an object directory.
fn links_in(dir: &Path) -> Result<Vec<(Timestamp, u64)>, StoreError> {
    Ok(names_in(dir)?
        .iter()
        .filter_map(|n| parse_link_name(n))
        .collect())
}

/// The names a marker holds; an unreadable marker is removed (None).
fn read_names(path: &Path) -> Option<[String; 3]> {
    let parsed = fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<[String; 3]>(&b).ok());
    if parsed.is_none() {
        let _ = fs::remove_file(path);
    }
    parsed
}

/// Removes an object directory made only for a marker, and its suffix
/// directory, if they are empty (best effort, as `objects` does).
fn remove_empty_dirs(dir: &Path) {
    if fs::remove_dir(dir).is_ok() {
        if let Some(parent) = dir.parent() {
            let _ = fs::remove_dir(parent);
        }
    }
}

#[cfg(test)]
mod tests;
