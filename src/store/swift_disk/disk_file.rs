//! One object on one device, as Swift's `DiskFile`: open it (the current
//! files chosen by Swift's rules, the `.data`'s metadata merged with a
//! POST's `.meta`, checked as Swift checks it, and quarantined when
//! damaged), write its bytes, POST metadata (`.meta`), delete it (`.ts`).

use super::error::DiskError;
use super::file_name::{DATA, META, TOMBSTONE};
use super::file_set::{self, Cleaned, FileSet};
use super::layout::ObjectLocation;
use super::metadata::{self, Metadata};
use super::quarantine;
use super::writer::Writer;
use super::Settings;
use crate::store::timestamp::OffsetTimestamp;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Metadata a `.meta` cannot change: the `.data`'s values win (Swift's
/// `RESERVED_DATAFILE_META` and `DATAFILE_SYSTEM_META`), with every
/// `X-Object-Sysmeta-*`.
const DATAFILE_KEYS: [&str; 4] = ["content-length", "deleted", "etag", "x-static-large-object"];
const SYSMETA_PREFIX: &str = "x-object-sysmeta-";

#[derive(Debug, Clone)]
pub struct DiskFile {
    loc: ObjectLocation,
    name: String,
    settings: Settings,
}

/// An opened object: its open `.data` and its merged metadata.
#[derive(Debug)]
pub struct OpenedObject {
    file: File,
    data_path: PathBuf,
    files: FileSet,
    metadata: Metadata,
    datafile_metadata: Metadata,
    metafile_metadata: Option<Metadata>,
    content_length: u64,
}

impl DiskFile {
    /// `/account/container/object` at `loc` (which the caller computed
    /// from the same name: `ObjectLocation::for_name`).
    pub fn new(
        loc: ObjectLocation,
        account: &str,
        container: &str,
        object: &str,
        settings: Settings,
    ) -> Self {
        DiskFile {
            loc,
            name: format!("/{account}/{container}/{object}"),
            settings,
        }
    }

    pub fn location(&self) -> &ObjectLocation {
        &self.loc
    }

    /// The name stored in the metadata: `/account/container/object`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens the object as Swift's `DiskFile.open` does, at `now_secs`
    /// (for `X-Delete-At`; `open_expired` reads an expired one anyway).
    /// Damaged files are quarantined (`Quarantined`); a tombstone is
    /// `Deleted`; nothing is `NotFound`.
    pub fn open(&self, now_secs: f64, open_expired: bool) -> Result<OpenedObject, DiskError> {
        let hash_dir = self.loc.hash_dir();
        let names = match file_set::list(&hash_dir) {
            Ok(names) => names,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                return Err(self.quarantine("expected a directory, found a file"))
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENODATA | libc::EUCLEAN)) => {
                return Err(self.quarantine(&format!("failed to list the directory: {e}")))
            }
            Err(e) => return Err(DiskError::io("listing", &hash_dir, e)),
        };
        let files = file_set::classify(&names);
        let Some(data) = files.data.clone() else {
            return Err(self.not_found(&files, &hash_dir));
        };
        let data_path = hash_dir.join(&data.name);
        let file = File::open(&data_path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => DiskError::StateChanged {
                path: data_path.clone(),
            },
            _ => DiskError::io("opening", &data_path, e),
        })?;
        let datafile_metadata = self.checked(metadata::read(&file, &data_path))?;
        let mut metafile_metadata = None;
        let mut metadata = datafile_metadata.clone();
        if let Some(meta) = &files.meta {
            let mut meta_md = self.checked(metadata::read_path(&hash_dir.join(&meta.name)))?;
            let data_ts = timestamp_value(&datafile_metadata, "X-Timestamp");
            if let Some(ctype) = files.ctype.as_ref().filter(|c| c.name != meta.name) {
                let ctype_md = self.checked(metadata::read_path(&hash_dir.join(&ctype.name)))?;
                merge_content_type(&mut meta_md, &ctype_md, data_ts);
            }
            metadata = meta_md.clone();
            for (k, v) in &datafile_metadata {
                let lower = k.to_ascii_lowercase();
                if DATAFILE_KEYS.contains(&lower.as_str())
                    || (lower.starts_with(SYSMETA_PREFIX) && lower.len() > SYSMETA_PREFIX.len())
                {
                    metadata.insert(k.clone(), v.clone());
                }
            }
            meta_md.remove("name");
            if let Some(ctype) = datafile_metadata.get("Content-Type") {
                let meta_ctype_ts = meta_md
                    .get("Content-Type-Timestamp")
                    .and_then(|t| OffsetTimestamp::parse(t));
                if meta_ctype_ts.is_none_or(|t| data_ts.is_some_and(|d| d > t)) {
                    metadata.insert("Content-Type".into(), ctype.clone());
                    metadata.remove("Content-Type-Timestamp");
                }
            }
            metafile_metadata = Some(meta_md);
        }
        let content_length = self.verify(&file, &metadata, now_secs, open_expired)?;
        Ok(OpenedObject {
            file,
            data_path,
            files,
            metadata,
            datafile_metadata,
            metafile_metadata,
            content_length,
        })
    }

    /// Swift's `_construct_exception_from_ts_file`.
    fn not_found(&self, files: &FileSet, hash_dir: &Path) -> DiskError {
        let Some(ts) = &files.tombstone else {
            return DiskError::NotFound;
        };
        match self.checked(metadata::read_path(&hash_dir.join(&ts.name))) {
            Ok(metadata) => DiskError::Deleted {
                timestamp: timestamp_value(&metadata, "X-Timestamp").unwrap_or(ts.timestamp),
                metadata,
            },
            // A damaged tombstone is quarantined, and the object is not there.
            Err(_) => DiskError::NotFound,
        }
    }

    /// Swift's `_verify_data_file`: the name, the expiry, the length.
    fn verify(
        &self,
        file: &File,
        metadata: &Metadata,
        now_secs: f64,
        open_expired: bool,
    ) -> Result<u64, DiskError> {
        let Some(stored) = metadata.get("name") else {
            return Err(self.quarantine("missing name metadata"));
        };
        if *stored != self.name {
            return Err(DiskError::Collision {
                stored: stored.clone(),
                wanted: self.name.clone(),
            });
        }
        if let Some(delete_at) = metadata.get("X-Delete-At") {
            let Some(delete_at) = python_int(delete_at) else {
                return Err(self.quarantine(&format!("bad metadata x-delete-at value {delete_at}")));
            };
            if (delete_at as f64) <= now_secs && !open_expired {
                return Err(DiskError::Expired {
                    metadata: metadata.clone(),
                });
            }
        }
        let Some(length) = metadata.get("Content-Length") else {
            return Err(self.quarantine("missing content-length in metadata"));
        };
        let Some(length) = python_int(length) else {
            return Err(self.quarantine(&format!("bad metadata content-length value {length}")));
        };
        let size = match file.metadata() {
            Ok(m) => m.len(),
            Err(e) => return Err(self.quarantine(&format!("not stat-able: {e}"))),
        };
        if i128::from(size) != length {
            return Err(self.quarantine(&format!(
                "metadata content-length {length} does not match actual object size {size}"
            )));
        }
        Ok(size)
    }

    /// Bad metadata is quarantined, as Swift's `_read_and_validate_metadata`.
    fn checked(&self, read: Result<Metadata, DiskError>) -> Result<Metadata, DiskError> {
        match read {
            Err(DiskError::BadMetadata { path, detail }) => {
                Err(self.quarantine(&format!("{}: {detail}", path.display())))
            }
            other => other,
        }
    }

    /// Moves the hash directory to quarantine; the error to return.
    pub fn quarantine(&self, reason: &str) -> DiskError {
        match quarantine::quarantine(&self.loc, self.settings.lock_timeout) {
            Ok(to) => DiskError::Quarantined {
                to,
                reason: reason.to_string(),
            },
            Err(e) => e,
        }
    }

    /// A writer for the object's bytes; its `put` takes Swift's PUT
    /// metadata (`X-Timestamp`, `Content-Length`, `ETag`, `Content-Type`,
    /// `X-Object-Meta-*`, ...).
    pub fn create(&self) -> Result<Writer, DiskError> {
        Writer::open(&self.loc, &self.name, DATA, &self.settings)
    }

    /// A POST: a `.meta` holding `metadata` (its `X-Timestamp`, and a
    /// `Content-Type` with its `Content-Type-Timestamp` when the POST set
    /// one), as Swift's `write_metadata`.
    pub fn write_metadata(&self, metadata: Metadata) -> Result<PathBuf, DiskError> {
        Writer::open(&self.loc, &self.name, META, &self.settings)?.put(metadata)
    }

    /// A DELETE: a tombstone at `timestamp`, as Swift's `delete`.
    pub fn delete(&self, timestamp: OffsetTimestamp) -> Result<PathBuf, DiskError> {
        let metadata = Metadata::from([("X-Timestamp".to_string(), timestamp.internal())]);
        Writer::open(&self.loc, &self.name, TOMBSTONE, &self.settings)?.put(metadata)
    }

    /// Takes back a file `Writer::put_keeping_older` committed (the
    /// suffix is invalidated again, as for any change).
    pub fn discard(&self, committed: &Path) -> Result<(), DiskError> {
        if committed.parent() != Some(self.loc.hash_dir().as_path()) {
            return Err(DiskError::io(
                "discarding",
                committed,
                io::Error::from(io::ErrorKind::InvalidInput),
            ));
        }
        super::invalidations::invalidate(
            &self.loc.partition_dir(),
            super::layout::suffix(&self.loc.hash),
            self.settings.lock_timeout,
        )?;
        match std::fs::remove_file(committed) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DiskError::io("discarding", committed, e)),
        }
    }

    /// Swift's `cleanup_ondisk_files` of the hash directory, now.
    pub fn cleanup(&self) -> Result<Cleaned, DiskError> {
        file_set::cleanup(
            &self.loc.hash_dir(),
            self.settings.reclaim_age_secs,
            super::now_secs(),
        )
    }
}

/// Swift's `_merge_content_type_metadata`: a second `.meta` whose
/// Content-Type is newer than the first's and than the data's supplies it.
fn merge_content_type(meta: &mut Metadata, ctype_md: &Metadata, data_ts: Option<OffsetTimestamp>) {
    let Some(ctype) = ctype_md.get("Content-Type") else {
        return;
    };
    let theirs = ctype_md
        .get("Content-Type-Timestamp")
        .map(String::as_str)
        .unwrap_or("");
    let ours = meta
        .get("Content-Type-Timestamp")
        .map(String::as_str)
        .unwrap_or("");
    // Swift compares these as strings, then as a timestamp with the data's.
    let newer_than_data = match (OffsetTimestamp::parse(theirs), data_ts) {
        (Some(t), Some(d)) => t > d,
        _ => false,
    };
    if theirs > ours && newer_than_data {
        meta.insert("Content-Type".into(), ctype.clone());
        meta.insert("Content-Type-Timestamp".into(), theirs.to_string());
    }
}

fn timestamp_value(metadata: &Metadata, key: &str) -> Option<OffsetTimestamp> {
    metadata.get(key).and_then(|v| OffsetTimestamp::parse(v))
}

/// Python's `int(text)` for decimal text: surrounding whitespace, a sign,
/// `_` between digits.
fn python_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let n: i128 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

impl OpenedObject {
    /// The open `.data` (read it with `read_at`, or sendfile from it).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The open `.data`, keeping nothing else (to hand to a reader).
    pub fn into_file(self) -> File {
        self.file
    }

    pub fn data_path(&self) -> &Path {
        &self.data_path
    }

    /// The current files of the hash directory.
    pub fn files(&self) -> &FileSet {
        &self.files
    }

    /// The merged metadata (the `.data`'s, with a POST's `.meta` over it).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The metadata the PUT wrote.
    pub fn datafile_metadata(&self) -> &Metadata {
        &self.datafile_metadata
    }

    /// The metadata the newest POST wrote (without `name`), if any.
    pub fn metafile_metadata(&self) -> Option<&Metadata> {
        self.metafile_metadata.as_ref()
    }

    pub fn content_length(&self) -> u64 {
        self.content_length
    }

    /// `X-Timestamp` of the merged metadata (the newest POST's, or the PUT's).
    pub fn timestamp(&self) -> Option<OffsetTimestamp> {
        timestamp_value(&self.metadata, "X-Timestamp")
    }

    /// The PUT's `X-Timestamp`.
    pub fn data_timestamp(&self) -> Option<OffsetTimestamp> {
        timestamp_value(&self.datafile_metadata, "X-Timestamp")
    }

    /// When the current Content-Type was set (Swift's
    /// `content_type_timestamp`).
    pub fn content_type_timestamp(&self) -> Option<OffsetTimestamp> {
        match self.metadata.get("Content-Type-Timestamp") {
            Some(t) => OffsetTimestamp::parse(t),
            None => self.data_timestamp(),
        }
    }
}
