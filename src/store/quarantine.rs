//! Quarantine: where object files that failed verification go, so they are
//! never served again but stay on disk for the operator (Swift's layout):
//!
//! ```text
//! <root>/quarantined/objects/<hash>/<ts>.data   the bad file, moved by rename
//!                                               (its xattrs, Swift's metadata, go along)
//! <root>/quarantined/objects/<hash>/<ts>.meta   its POSTed metadata, if any
//! <root>/quarantined/objects/<hash>/<ts>.json   why: names, expected/actual MD5
//! ```
//! Moving is a rename on the same filesystem, so a reader that already has
//! the file open keeps its descriptor, and no copy is made. When the same
//! version was quarantined before, the next free `<hash>-<n>` is used.

use super::{StoreError, Timestamp};
use serde_json::json;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What was found wrong with one `.data` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// "MD5 mismatch", or what was wrong with the metadata.
    pub reason: String,
    /// The ETag the metadata promised ("" when it is unreadable).
    pub expected: String,
    /// The MD5 of the bytes on disk ("" when not computed).
    pub actual: String,
    /// `(account, container, object)` when known (the audit may only know
    /// the hash of an object whose container lost its row).
    pub name: Option<(String, String, String)>,
}

pub struct Quarantine {
    dir: PathBuf,
}

impl Quarantine {
    pub fn new(root: &Path) -> Quarantine {
        Quarantine {
            dir: root.join("quarantined").join("objects"),
        }
    }

    /// Moves the `.data` file `data` out of its object directory, with the
    /// older leftovers of that directory and the `.meta` files that belong
    /// to it (newer files belong to a newer PUT and stay), and records why.
    /// Returns where `data` went, or None when it was already gone (another
    /// reader quarantined it, or a newer PUT cleaned it up).
    pub fn object(&self, data: &Path, evidence: &Evidence) -> Result<Option<PathBuf>, StoreError> {
        let (Some(obj_dir), Some(ts)) = (data.parent(), file_ts(data)) else {
            return Err(StoreError::corrupt(data, "not an object data file"));
        };
        let hash = obj_dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| StoreError::corrupt(data, "object directory has no name"))?;
        if obj_dir.starts_with(&self.dir) {
            // Already moved here by the disk format's own quarantine
            // (`swift_disk`, on metadata it cannot read): only the record
            // is missing.
            if !data.exists() {
                return Ok(None);
            }
            write_record(obj_dir, ts, data, evidence)?;
            sync_dir(obj_dir)?;
            return Ok(Some(data.to_path_buf()));
        }
        let moving = belonging_files(obj_dir, ts)?;
        if !moving.iter().any(|p| p == data) {
            return Ok(None);
        }
        let target = self.free_dir(hash, data)?;
        let mut moved = None;
        for path in &moving {
            let Some(name) = path.file_name() else {
                continue;
            };
            let dest = target.join(name);
            match fs::rename(path, &dest) {
                Ok(()) => {
                    if path == data {
                        moved = Some(dest);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("quarantining", path, e)),
            }
        }
        let Some(moved) = moved else {
            return Ok(None);
        };
        write_record(&target, ts, data, evidence)?;
        sync_dir(&target)?;
        sync_dir(obj_dir)?;
        invalidate_suffix(obj_dir)?;
        Ok(Some(moved))
    }

    /// `<hash>`, or `<hash>-<n>` when that already holds this version.
    fn free_dir(&self, hash: &str, data: &Path) -> Result<PathBuf, StoreError> {
        let name = data.file_name().unwrap_or_default();
        for n in 0u32.. {
            let dir = match n {
                0 => self.dir.join(hash),
                n => self.dir.join(format!("{hash}-{n}")),
            };
            if !dir.join(name).exists() {
                let created = !dir.exists();
                super::perms::create_dir_all(&dir)
                    .map_err(|e| StoreError::io("creating", &dir, e))?;
                if created {
                    sync_dir(&self.dir)?;
                }
                return Ok(dir);
            }
        }
        Err(StoreError::corrupt(
            &self.dir,
            "no free quarantine directory",
        ))
    }
}

/// Tells Swift's replicator that the hash directory changed (its suffix
/// in the partition's `hashes.invalid`), so a good replica comes back.
fn invalidate_suffix(obj_dir: &Path) -> Result<(), StoreError> {
    let (Some(suffix_dir), Some(hash)) = (obj_dir.parent(), obj_dir.file_name()) else {
        return Ok(());
    };
    let Some(partition_dir) = suffix_dir.parent() else {
        return Ok(());
    };
    let suffix = super::swift_disk::layout::suffix(hash.to_str().unwrap_or(""));
    super::swift_disk::invalidations::invalidate(
        partition_dir,
        suffix,
        super::swift_disk::lock::DEFAULT_TIMEOUT,
    )
    .map_err(StoreError::from)
}

/// The timestamp in a `<ts>.<ext>` file name.
fn file_ts(path: &Path) -> Option<Timestamp> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(Timestamp::parse)
}

/// The `.data` files not newer than `ts` and the `.meta` files older than
/// the next newer `.data` or `.ts` (those are the bad version's metadata).
fn belonging_files(dir: &Path, ts: Timestamp) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("listing", dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| StoreError::io("listing", dir, e))?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if let Some(fts) = file_ts(&path) {
            files.push((fts, ext.to_string(), path));
        }
    }
    let next_version = files
        .iter()
        .filter(|(fts, ext, _)| *fts > ts && (ext == "data" || ext == "ts"))
        .map(|(fts, _, _)| *fts)
        .min();
    Ok(files
        .into_iter()
        .filter(|(fts, ext, _)| match ext.as_str() {
            "data" => *fts <= ts,
            "meta" => next_version.is_none_or(|next| *fts < next),
            _ => false,
        })
        .map(|(_, _, p)| p)
        .collect())
}

fn write_record(dir: &Path, ts: Timestamp, from: &Path, ev: &Evidence) -> Result<(), StoreError> {
    let (account, container, object) = match &ev.name {
        Some((a, c, o)) => (Some(a), Some(c), Some(o)),
        None => (None, None, None),
    };
    let record = json!({
        "quarantined_at": Timestamp::now().iso8601(),
        "from": from.display().to_string(),
        "reason": ev.reason,
        "expected_md5": ev.expected,
        "actual_md5": ev.actual,
        "account": account,
        "container": container,
        "object": object,
    });
    let path = dir.join(format!("{}.json", ts.normal()));
    let mut file =
        super::perms::create_file(&path).map_err(|e| StoreError::io("creating", &path, e))?;
    file.write_all(record.to_string().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io("writing", &path, e))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("syncing directory", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, name).unwrap();
        p
    }

    fn evidence() -> Evidence {
        Evidence {
            reason: "MD5 mismatch".into(),
            expected: "aa".into(),
            actual: "bb".into(),
            name: Some(("a".into(), "c".into(), "o".into())),
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn moves_the_version_and_its_meta_but_not_newer_files() {
        let root = tempfile::tempdir().unwrap();
        let obj = root.path().join("objects/abc/0123abc");
        fs::create_dir_all(&obj).unwrap();
        touch(&obj, "0000000100.00000.data");
        let bad = touch(&obj, "0000000200.00000.data");
        touch(&obj, "0000000250.00000.meta");
        touch(&obj, "0000000300.00000.data");
        touch(&obj, "0000000350.00000.meta");
        let q = Quarantine::new(root.path());
        let moved = q.object(&bad, &evidence()).unwrap().unwrap();
        let qdir = root.path().join("quarantined/objects/0123abc");
        assert_eq!(moved, qdir.join("0000000200.00000.data"));
        assert_eq!(
            names(&qdir),
            [
                "0000000100.00000.data",
                "0000000200.00000.data",
                "0000000200.00000.json",
                "0000000250.00000.meta"
            ]
        );
        assert_eq!(
            names(&obj),
            ["0000000300.00000.data", "0000000350.00000.meta"]
        );
        let record: serde_json::Value =
            serde_json::from_slice(&fs::read(qdir.join("0000000200.00000.json")).unwrap()).unwrap();
        assert_eq!(record["expected_md5"], "aa");
        assert_eq!(record["actual_md5"], "bb");
        assert_eq!(record["object"], "o");
        assert_eq!(record["from"], bad.display().to_string());
    }

    #[test]
    fn a_file_already_gone_is_not_an_error() {
        let root = tempfile::tempdir().unwrap();
        let obj = root.path().join("objects/abc/0123abc");
        fs::create_dir_all(&obj).unwrap();
        let bad = obj.join("0000000200.00000.data");
        let q = Quarantine::new(root.path());
        assert_eq!(q.object(&bad, &evidence()).unwrap(), None);
        assert!(!root.path().join("quarantined/objects/0123abc").exists());
    }

    #[test]
    fn the_same_version_twice_gets_a_second_directory() {
        let root = tempfile::tempdir().unwrap();
        let obj = root.path().join("objects/abc/0123abc");
        fs::create_dir_all(&obj).unwrap();
        let q = Quarantine::new(root.path());
        let bad = touch(&obj, "0000000200.00000.data");
        q.object(&bad, &evidence()).unwrap().unwrap();
        touch(&obj, "0000000200.00000.data");
        let again = q.object(&bad, &evidence()).unwrap().unwrap();
        assert_eq!(
            again,
            root.path()
                .join("quarantined/objects/0123abc-1/0000000200.00000.data")
        );
        assert!(names(&obj).is_empty());
    }
}
