//! Writing one object file as Swift's `DiskFileWriter` does (its mkstemp
//! path): the bytes go to a temp file in `<device>/tmp[-N]`, then `put`
//! writes the metadata into its extended attributes, fsyncs it, appends the
//! suffix to `hashes.invalid`, renames it into the hash directory (making
//! the missing directories and fsyncing the hash directory and each one
//! made, as Swift's `renamer`), and cleans up the files it made obsolete.
//! Nothing is reserved ahead (no `fallocate`). A writer dropped before
//! `put` removes its temp file.

use super::error::DiskError;
use super::file_name::{self, META};
use super::file_set;
use super::invalidations;
use super::layout::{suffix, ObjectLocation};
use super::metadata::{self, Metadata};
use super::Settings;
use crate::store::perms;
use crate::store::timestamp::OffsetTimestamp;
use md5::{Digest, Md5};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Writer {
    file: File,
    tmp_path: PathBuf,
    loc: ObjectLocation,
    name: String,
    ext: &'static str,
    settings: Settings,
    written: u64,
    md5: Md5,
    done: bool,
}

impl Writer {
    /// A temp file for a `.data`, `.meta` or `.ts` of `name` at `loc`.
    pub(super) fn open(
        loc: &ObjectLocation,
        name: &str,
        ext: &'static str,
        settings: &Settings,
    ) -> Result<Writer, DiskError> {
        let tmp_dir = loc.tmp_dir();
        perms::create_dir_all(&tmp_dir).map_err(|e| DiskError::io("making", &tmp_dir, e))?;
        let (file, tmp_path) = locked_temp_file(&tmp_dir)?;
        Ok(Writer {
            file,
            tmp_path,
            loc: loc.clone(),
            name: name.to_string(),
            ext,
            settings: settings.clone(),
            written: 0,
            md5: Md5::new(),
            done: false,
        })
    }

    /// Appends object bytes.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), DiskError> {
        self.file
            .write_all(chunk)
            .map_err(|e| DiskError::io("writing", &self.tmp_path, e))?;
        self.md5.update(chunk);
        self.written += chunk.len() as u64;
        Ok(())
    }

    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// The MD5 hex of the bytes written so far (what Swift stores as ETag).
    pub fn etag(&self) -> String {
        crate::core::hex::hex(&self.md5.clone().finalize())
    }

    /// The temp file (e.g. to splice into).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Commits: the file becomes `<hash dir>/<X-Timestamp><ext>` with
    /// `metadata` (plus `name`), and the files it made obsolete are
    /// removed. Returns its path.
    pub fn put(self, metadata: Metadata) -> Result<PathBuf, DiskError> {
        self.commit(metadata, true)
    }

    /// `put` that leaves the obsolete files (Swift's `_put(cleanup=False)`):
    /// the older version stays until `DiskFile::cleanup`, so a write taken
    /// back (`DiskFile::discard`) leaves the object as it was.
    pub fn put_keeping_older(self, metadata: Metadata) -> Result<PathBuf, DiskError> {
        self.commit(metadata, false)
    }

    fn commit(mut self, mut metadata: Metadata, cleanup: bool) -> Result<PathBuf, DiskError> {
        let timestamp =
            timestamp_of(&metadata, "X-Timestamp")?.ok_or(DiskError::InvalidTimestamp {
                key: "X-Timestamp",
                value: String::new(),
            })?;
        let ctype_timestamp = if self.ext == META {
            timestamp_of(&metadata, "Content-Type-Timestamp")?
        } else {
            None
        };
        let file_name = file_name::on_disk_name(timestamp, self.ext, ctype_timestamp);
        metadata.insert("name".into(), self.name.clone());
        metadata::write(&self.file, &self.tmp_path, &metadata)?;
        self.file
            .sync_all()
            .map_err(|e| DiskError::io("syncing", &self.tmp_path, e))?;
        invalidations::invalidate(
            &self.loc.partition_dir(),
            suffix(&self.loc.hash),
            self.settings.lock_timeout,
        )?;
        let hash_dir = self.loc.hash_dir();
        let target = hash_dir.join(&file_name);
        rename_into(&self.tmp_path, &target)?;
        self.done = true;
        if !cleanup {
            return Ok(target);
        }
        // As Swift, a failed cleanup leaves obsolete files for the next one
        // (or the replicator); the write itself has succeeded.
        let _ = file_set::cleanup(&hash_dir, self.settings.reclaim_age_secs, super::now_secs());
        Ok(target)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

/// A metadata timestamp; None when absent or empty.
fn timestamp_of(
    metadata: &Metadata,
    key: &'static str,
) -> Result<Option<OffsetTimestamp>, DiskError> {
    match metadata.get(key).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(value) => {
            OffsetTimestamp::parse(value)
                .map(Some)
                .ok_or_else(|| DiskError::InvalidTimestamp {
                    key,
                    value: value.to_string(),
                })
        }
    }
}

/// `temp_file`, holding an exclusive `flock` on it for as long as the
/// writer has it open: a temp file nobody holds is a dead writer's, which
/// `sweep_abandoned` removes. A sweep that removed the file between its
/// creation and the lock is noticed (the name no longer is this inode) and
/// another file is made.
fn locked_temp_file(dir: &Path) -> Result<(File, PathBuf), DiskError> {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..4 {
        let (file, path) = temp_file(dir)?;
        file.lock()
            .map_err(|e| DiskError::io("locking a temp file", &path, e))?;
        let ours = file
            .metadata()
            .map_err(|e| DiskError::io("checking a temp file", &path, e))?;
        match fs::symlink_metadata(&path) {
            Ok(named) if named.ino() == ours.ino() && named.dev() == ours.dev() => {
                return Ok((file, path))
            }
            _ => continue,
        }
    }
    Err(DiskError::io(
        "creating a temp file in",
        dir,
        io::Error::other("temp files kept being swept away"),
    ))
}

/// Removes the temp files in `tmp_dir` that no writer holds (their
/// writers died: a killed process), as Swift's replicator removes stale
/// temp files. Returns how many it removed. A live writer's file is
/// locked and left alone.
pub fn sweep_abandoned(tmp_dir: &Path) -> io::Result<usize> {
    let entries = match fs::read_dir(tmp_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let path = entry?.path();
        let is_temp = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("tmp"));
        if !is_temp {
            continue;
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        match file.try_lock() {
            Ok(()) => {
                if fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
    }
    Ok(removed)
}

/// A new file `tmpXXXXXXXX` in `dir`, as mkstemp makes them (owner-only).
pub(super) fn temp_file(dir: &Path) -> Result<(File, PathBuf), DiskError> {
    for _ in 0..16 {
        let mut random = [0u8; 6];
        getrandom::fill(&mut random)
            .map_err(|e| DiskError::io("drawing a temp name in", dir, io::Error::other(e)))?;
        let path = dir.join(format!("tmp{}", crate::core::hex::hex(&random)));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(perms::FILE_MODE)
            .open(&path)
        {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(DiskError::io("creating a temp file in", dir, e)),
        }
    }
    Err(DiskError::io(
        "creating a temp file in",
        dir,
        io::Error::from(io::ErrorKind::AlreadyExists),
    ))
}

/// Swift's `renamer`: makes the target's missing directories, renames,
/// then fsyncs the target's directory and each directory made above it.
pub(super) fn rename_into(from: &Path, to: &Path) -> Result<(), DiskError> {
    let dir = to.parent().unwrap_or(Path::new("/"));
    let made = make_dirs_counted(dir)?;
    if let Err(e) = fs::rename(from, to) {
        // A cleanup may have removed the emptied hash directory between
        // the making and the renaming: once more, as Swift.
        if e.kind() != io::ErrorKind::NotFound {
            return Err(DiskError::io("renaming into", to, e));
        }
        make_dirs_counted(dir)?;
        fs::rename(from, to).map_err(|e| DiskError::io("renaming into", to, e))?;
    }
    let mut sync = Some(dir);
    for _ in 0..=made {
        let Some(d) = sync else { break };
        File::open(d)
            .and_then(|f| f.sync_all())
            .map_err(|e| DiskError::io("syncing directory", d, e))?;
        sync = d.parent();
    }
    Ok(())
}

/// Makes `dir` and its missing parents; how many it made.
fn make_dirs_counted(dir: &Path) -> Result<usize, DiskError> {
    if dir.is_dir() {
        return Ok(0);
    }
    let made = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => make_dirs_counted(parent)?,
        _ => 0,
    };
    match perms::create_dir(dir) {
        Ok(()) => Ok(made + 1),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(made),
        Err(e) => Err(DiskError::io("making", dir, e)),
    }
}
