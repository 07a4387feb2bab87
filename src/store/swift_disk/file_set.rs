//! Which of a hash directory's files say what the object is, and which are
//! obsolete: Swift's `get_ondisk_files` for replication policies, and
//! `cleanup_ondisk_files`, which removes the obsolete ones, a tombstone
//! older than the reclaim age, and the emptied directory.
//!
//! The rules: the newest `.ts` makes everything at its time or older
//! obsolete, and older tombstones; the newest `.data` makes older `.data`
//! obsolete and every other file at its time or older; the newest `.meta`
//! is kept, and one more whose content-type time is newer than its own
//! (when their times differ); a `.meta` without a `.data` may be reclaimed
//! once older than the reclaim age.

use super::error::DiskError;
use super::file_name::{self, FileInfo, DATA, META, TOMBSTONE};
use crate::store::timestamp::OffsetTimestamp;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

/// Swift's `DEFAULT_RECLAIM_AGE`: one week.
pub const DEFAULT_RECLAIM_AGE_SECS: u64 = 7 * 24 * 3600;

/// What a hash directory's file names say.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileSet {
    /// The object's bytes and first metadata, when it exists.
    pub data: Option<FileInfo>,
    /// Metadata of a POST newer than the data (only with `data`).
    pub meta: Option<FileInfo>,
    /// A `.meta` holding a Content-Type newer than the data's and the
    /// newest `meta`'s (only with `data`; may be `meta` itself).
    pub ctype: Option<FileInfo>,
    /// The tombstone, when the object was deleted (only without `data`).
    pub tombstone: Option<FileInfo>,
    /// Files no longer needed.
    pub obsolete: Vec<FileInfo>,
    /// Files that may go once older than the reclaim age.
    pub possible_reclaim: Vec<FileInfo>,
    /// Names that are not an object file's (rsync temp files, strays).
    pub unexpected: Vec<String>,
}

/// Sorts `names` as Swift's `get_ondisk_files` does (names sorted in
/// reverse first, as `cleanup_ondisk_files` lists them).
pub fn classify<S: AsRef<str>>(names: &[S]) -> FileSet {
    let mut names: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    let mut set = FileSet::default();
    let mut exts: BTreeMap<String, Vec<FileInfo>> = BTreeMap::new();
    for name in names {
        match file_name::parse(name) {
            Some(info) => exts.entry(info.ext.clone()).or_default().push(info),
            None => set.unexpected.push(name.to_string()),
        }
    }
    for list in exts.values_mut() {
        // Newest first; stable, as Python's sorted().
        list.sort_by_key(|i| std::cmp::Reverse(i.timestamp));
    }

    if let Some(newest_ts) = exts
        .get(TOMBSTONE)
        .and_then(|l| l.first())
        .map(|i| i.timestamp)
    {
        for (ext, list) in exts.iter_mut() {
            if ext != TOMBSTONE {
                set.obsolete
                    .extend(split_off_older(list, |t| t > newest_ts));
            }
        }
        if let Some(list) = exts.get_mut(TOMBSTONE) {
            set.obsolete.extend(list.split_off(1));
        }
    }

    if let Some(metas) = exts.get_mut(META).filter(|l| !l.is_empty()) {
        let mut retain = 1;
        if metas.len() > 1 {
            // Of the older ones, the one with the newest content-type time...
            metas[1..].sort_by_key(|m| std::cmp::Reverse(ctype_key(m)));
            // ...is kept if its content-type is newer than the newest's.
            if ctype_key(&metas[1]) > ctype_key(&metas[0]) {
                if metas[1].timestamp == metas[0].timestamp {
                    metas.swap(0, 1);
                } else {
                    retain = 2;
                }
            }
        }
        set.obsolete.extend(metas.split_off(retain));
    }

    // The replication policy's rule for .data files.
    if let Some(newest_data) = exts.get(DATA).and_then(|l| l.first()).map(|i| i.timestamp) {
        for (ext, list) in exts.iter_mut() {
            let older = if ext == DATA {
                split_off_older(list, |t| t >= newest_data)
            } else {
                split_off_older(list, |t| t > newest_data)
            };
            set.obsolete.extend(older);
        }
        set.data = exts.get(DATA).and_then(|l| l.first()).cloned();
    } else if let Some(metas) = exts.get(META) {
        set.possible_reclaim.extend(metas.iter().cloned());
    }

    if let Some(data) = &set.data {
        if let Some(metas) = exts.get(META).filter(|l| !l.is_empty()) {
            set.meta = metas.first().cloned();
            let last = metas.last().cloned();
            set.ctype = last.filter(|c| c.ctype_timestamp.is_some_and(|t| t > data.timestamp));
        }
    } else if let Some(ts) = exts.get(TOMBSTONE).and_then(|l| l.first()) {
        set.tombstone = Some(ts.clone());
    }
    set
}

/// A `.meta`'s content-type time for sorting (none sorts first).
fn ctype_key(info: &FileInfo) -> Option<OffsetTimestamp> {
    info.ctype_timestamp
}

/// Keeps the leading items for which `keep(timestamp)` holds (the list is
/// newest first) and returns the rest, as Swift's `_split_list`.
fn split_off_older(
    list: &mut Vec<FileInfo>,
    keep: impl Fn(OffsetTimestamp) -> bool,
) -> Vec<FileInfo> {
    let at = list
        .iter()
        .position(|i| !keep(i.timestamp))
        .unwrap_or(list.len());
    list.split_off(at)
}

/// What `cleanup` left.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The current files (the tombstone is dropped when it was reclaimed).
    pub set: FileSet,
    /// The names still in the directory, sorted in reverse.
    pub remaining: Vec<String>,
}

/// Swift's `cleanup_ondisk_files`: removes the obsolete files, a tombstone
/// and stray `.meta` files older than `reclaim_age_secs` at `now_secs`,
/// and the directory once empty. A missing directory is an empty one.
pub fn cleanup(
    hash_dir: &Path,
    reclaim_age_secs: u64,
    now_secs: f64,
) -> Result<Cleaned, DiskError> {
    let mut names = match list(hash_dir) {
        Ok(names) => names,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Cleaned::default()),
        Err(e) => return Err(DiskError::io("listing", hash_dir, e)),
    };
    names.sort_unstable_by(|a, b| b.cmp(a));
    let mut set = classify(&names);
    let reclaimable = |t: OffsetTimestamp| now_secs - seconds(t) > reclaim_age_secs as f64;
    let mut remove = std::mem::take(&mut set.obsolete);
    if set
        .tombstone
        .as_ref()
        .is_some_and(|ts| reclaimable(ts.timestamp))
    {
        remove.extend(set.tombstone.take());
    }
    remove.extend(
        set.possible_reclaim
            .iter()
            .filter(|i| reclaimable(i.timestamp))
            .cloned(),
    );
    for info in &remove {
        match fs::remove_file(hash_dir.join(&info.name)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(DiskError::io("removing", hash_dir.join(&info.name), e)),
        }
        names.retain(|n| *n != info.name);
    }
    set.obsolete = remove;
    if names.is_empty() {
        // Another writer may have just put a file in: then it stays.
        let _ = fs::remove_dir(hash_dir);
    }
    Ok(Cleaned {
        set,
        remaining: names,
    })
}

/// A timestamp as Python's `float(Timestamp)`.
pub fn seconds(t: OffsetTimestamp) -> f64 {
    t.time.units() as f64 / 100_000.0
}

/// The names in a directory (lossy for names that are not UTF-8: those
/// are never an object file's, so they end up unexpected).
pub fn list(dir: &Path) -> io::Result<Vec<String>> {
    fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(infos: &[FileInfo]) -> Vec<&str> {
        let mut v: Vec<&str> = infos.iter().map(|i| i.name.as_str()).collect();
        v.sort_unstable();
        v
    }

    fn name(info: &Option<FileInfo>) -> Option<&str> {
        info.as_ref().map(|i| i.name.as_str())
    }

    #[test]
    fn newest_data_wins_and_older_files_are_obsolete() {
        let set = classify(&[
            "0000000001.00000.data",
            "0000000002.00000.data",
            "0000000002.00000.meta",
            "0000000003.00000.meta",
            "0000000001.50000.ts",
            ".0000000004.00000.data.Xy095a",
        ]);
        assert_eq!(name(&set.data), Some("0000000002.00000.data"));
        assert_eq!(name(&set.meta), Some("0000000003.00000.meta"));
        assert_eq!(set.ctype, None);
        assert_eq!(set.tombstone, None);
        assert_eq!(
            names(&set.obsolete),
            [
                "0000000001.00000.data",
                "0000000001.50000.ts",
                "0000000002.00000.meta"
            ]
        );
        assert_eq!(set.unexpected, [".0000000004.00000.data.Xy095a"]);
    }

    #[test]
    fn a_newer_tombstone_wins() {
        let set = classify(&[
            "0000000001.00000.data",
            "0000000002.00000.ts",
            "0000000003.00000.ts",
            "0000000003.00000.meta",
            "0000000004.00000.meta",
        ]);
        assert_eq!(set.data, None);
        assert_eq!(name(&set.tombstone), Some("0000000003.00000.ts"));
        assert_eq!(set.meta, None, "a .meta counts only with a .data");
        assert_eq!(
            names(&set.obsolete),
            [
                "0000000001.00000.data",
                "0000000002.00000.ts",
                "0000000003.00000.meta"
            ]
        );
        assert_eq!(names(&set.possible_reclaim), ["0000000004.00000.meta"]);
    }

    #[test]
    fn a_meta_with_a_newer_content_type_is_kept() {
        // .meta at 3 with content-type time 3 (+0), .meta at 4 without one:
        // both stay, the older one for its content-type.
        let set = classify(&[
            "0000000001.00000.data",
            "0000000003.00000+0.meta",
            "0000000004.00000.meta",
        ]);
        assert_eq!(name(&set.meta), Some("0000000004.00000.meta"));
        assert_eq!(name(&set.ctype), Some("0000000003.00000+0.meta"));
        assert!(set.obsolete.is_empty());
        // Same time: only the one with the newest content-type.
        let set = classify(&[
            "0000000001.00000.data",
            "0000000003.00000-1.meta",
            "0000000003.00000+0.meta",
        ]);
        assert_eq!(name(&set.meta), Some("0000000003.00000+0.meta"));
        assert_eq!(name(&set.ctype), Some("0000000003.00000+0.meta"));
        assert_eq!(names(&set.obsolete), ["0000000003.00000-1.meta"]);
        // A content-type older than the data is not reported.
        let set = classify(&["0000000005.00000.data", "0000000006.00000-30d40.meta"]);
        assert_eq!(name(&set.meta), Some("0000000006.00000-30d40.meta"));
        assert_eq!(set.ctype, None);
    }

    #[test]
    fn cleanup_removes_obsolete_files_and_reclaims_old_tombstones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hash_dir = dir.path().join("h");
        fs::create_dir(&hash_dir).expect("mkdir");
        for n in [
            "0000000100.00000.data",
            "0000000200.00000.ts",
            "0000000300.00000.meta",
            "junk",
        ] {
            fs::write(hash_dir.join(n), b"").expect("write");
        }
        let week = DEFAULT_RECLAIM_AGE_SECS;
        let cleaned = cleanup(&hash_dir, week, 1000.0).expect("cleanup");
        assert_eq!(name(&cleaned.set.tombstone), Some("0000000200.00000.ts"));
        assert_eq!(
            cleaned.remaining,
            ["junk", "0000000300.00000.meta", "0000000200.00000.ts"]
        );
        assert_eq!(list(&hash_dir).expect("list").len(), 3);
        // A week later the tombstone and the stray .meta go; the stray file stays.
        let cleaned = cleanup(&hash_dir, week, 300.0 + week as f64 + 1.0).expect("cleanup");
        assert_eq!(cleaned.set.tombstone, None);
        assert_eq!(cleaned.remaining, ["junk"]);
        fs::remove_file(hash_dir.join("junk")).expect("rm");
        fs::write(hash_dir.join("0000000400.00000.ts"), b"").expect("write");
        let cleaned = cleanup(&hash_dir, week, 400.0 + week as f64 + 1.0).expect("cleanup");
        assert!(cleaned.remaining.is_empty());
        assert!(!hash_dir.exists(), "the emptied directory is removed");
        assert_eq!(
            cleanup(&hash_dir, week, 0.0).expect("missing is empty"),
            Cleaned::default()
        );
    }
}
