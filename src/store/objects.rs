//! Objects on disk in Swift's own object format (`store::swift_disk`, the
//! only format since issue 20): the storage root is a Swift device, each
//! object a hash directory of timestamped files, newest wins.
//!
//! ```text
//! <root>/objects/<partition>/<suffix>/<hash>/<ts>.data   the bytes only
//! <root>/objects/<partition>/<suffix>/<hash>/<ts>.meta   a POST's metadata
//! <root>/objects/<partition>/<suffix>/<hash>/<ts>.ts     a DELETE
//! <root>/objects/<partition>/hashes.invalid, .lock       for Swift's replicator
//! <root>/tmp/                                            files being written
//! <root>/quarantined/objects/<hash>/                     damaged versions
//! <root>/object-part-power                               the root's part power
//! ```
//! Metadata is Swift's pickled dict in the `user.swift.metadata*` extended
//! attributes of each file, so a reader needs one open and one fstat (the
//! size is the `.data`'s length, checked against `Content-Length`) before
//! handing the bytes to the host's sendfile. Swift's own tools
//! (`swift-object-info`, its auditor, replicator and object server) read
//! what this store writes, and the other way round.
//!
//! This module keeps the store's API (names in, `ObjectMeta` out); the
//! format's rules (which files are current, merging a `.meta`, cleanup,
//! `hashes.invalid`, quarantine of bad metadata) are `swift_disk`'s.

use super::hash_path::HashPath;
use super::part_power::DEFAULT_PART_POWER;
use super::swift_disk::layout::{self, ObjectLocation};
use super::swift_disk::metadata::{self as disk_meta, header_from_native, native_from_header};
use super::swift_disk::{file_set, DiskError, DiskFile, Metadata, Settings};
use super::timestamp::OffsetTimestamp;
use super::{StoreError, Timestamp};
use md5::{Digest, Md5};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const COPY_BUF: usize = 64 * 1024;
/// Read size when hashing a stored object (fewer syscalls than COPY_BUF).
const VERIFY_BUF: usize = 256 * 1024;
/// How often an open is retried when a concurrent write changed the files.
const OPEN_TRIES: usize = 5;

/// Metadata keys the store sets itself (not part of `ObjectMeta::meta`).
const OWN_KEYS: [&str; 6] = [
    "name",
    "x-timestamp",
    "content-length",
    "etag",
    "content-type",
    "content-type-timestamp",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// When the data was written.
    pub timestamp: Timestamp,
    /// When the metadata was last replaced (== timestamp without a POST).
    pub meta_timestamp: Timestamp,
    pub content_type: String,
    pub etag: String,
    pub size: u64,
    /// `x-object-meta-*` and the other headers Swift keeps, lowercase names,
    /// values as the client sent them (not necessarily UTF-8, as in Swift).
    /// Sorted by name.
    pub meta: Vec<(String, Vec<u8>)>,
}

pub struct OpenObject {
    /// The `.data` file: the object's bytes and nothing else.
    pub file: File,
    pub meta: ObjectMeta,
    /// The name stored with the data, `/account/container/object`.
    pub name: Option<String>,
    /// The `.data` file, for quarantine when its bytes prove bad.
    pub path: PathBuf,
}

/// What a PUT stores besides the bytes.
pub struct NewObject {
    pub timestamp: Timestamp,
    pub content_type: String,
    pub meta: Vec<(String, Vec<u8>)>,
    /// The MD5 (lower-case hex) the bytes must hash to, else the upload is
    /// refused.
    pub expected_etag: Option<String>,
    pub max_size: u64,
}

#[derive(Debug)]
pub enum PutError {
    Store(StoreError),
    /// The body could not be read from the client.
    BodyRead(io::Error),
    EtagMismatch {
        computed: String,
    },
    TooLarge,
    /// A newer version (or tombstone) is already stored.
    Conflict,
}

impl From<StoreError> for PutError {
    fn from(e: StoreError) -> Self {
        PutError::Store(e)
    }
}

impl From<DiskError> for PutError {
    fn from(e: DiskError) -> Self {
        PutError::Store(e.into())
    }
}

pub struct ObjectStore {
    /// The device directory: the storage root.
    device: PathBuf,
    /// How names become hashes (Swift's `hash_path`, salted by the vhost).
    hash_path: HashPath,
    /// The root's part power (`part_power`).
    part_power: u8,
    /// The storage policy whose `objects[-N]` this store reads and writes.
    policy: u32,
    settings: Settings,
}

/// What an object's newest files say, for crash recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// No files at all.
    Absent,
    Live(ObjectMeta),
    /// The newest file is a tombstone of this timestamp.
    Deleted(Timestamp),
}

impl ObjectStore {
    /// Touches nothing on disk; names hashed without a salt.
    pub fn new(root: &Path) -> ObjectStore {
        ObjectStore::with_hash_path(root, HashPath::unsalted())
    }

    /// Touches nothing on disk; policy 0, the default part power.
    pub fn with_hash_path(root: &Path, hash_path: HashPath) -> ObjectStore {
        ObjectStore {
            device: root.to_path_buf(),
            hash_path,
            part_power: DEFAULT_PART_POWER,
            policy: 0,
            settings: Settings::default(),
        }
    }

    /// The same store for storage policy `index` (`objects-N`, as Swift).
    pub fn for_policy(&self, index: u32) -> ObjectStore {
        ObjectStore {
            device: self.device.clone(),
            hash_path: self.hash_path.clone(),
            part_power: self.part_power,
            policy: index,
            settings: self.settings.clone(),
        }
    }

    pub fn part_power(&self) -> u8 {
        self.part_power
    }

    /// Where the object's files are.
    pub fn location(&self, account: &str, container: &str, object: &str) -> ObjectLocation {
        let hash = self.hash_path.object(account, container, object);
        ObjectLocation {
            device: self.device.clone(),
            policy: self.policy,
            // A HashPath always makes 32 hex digits; the part power is at
            // most 32 (`part_power`).
            partition: layout::partition(&hash, self.part_power).unwrap_or(0),
            hash,
        }
    }

    fn disk_file(&self, account: &str, container: &str, object: &str) -> DiskFile {
        DiskFile::new(
            self.location(account, container, object),
            account,
            container,
            object,
            self.settings.clone(),
        )
    }

    /// The object's directory (its hash directory).
    pub fn object_dir(&self, account: &str, container: &str, object: &str) -> PathBuf {
        self.location(account, container, object).hash_dir()
    }

    /// Opens the current version (an expired one too: the sweep owns
    /// expiry). Damaged metadata is quarantined by the format's rules
    /// (the whole hash directory, as Swift) and reported as `Corrupt`
    /// with the quarantined `.data`'s path, so the caller drops the
    /// listing row.
    pub fn open(
        &self,
        account: &str,
        container: &str,
        object: &str,
    ) -> Result<Option<OpenObject>, StoreError> {
        open_disk_file(&self.disk_file(account, container, object))
    }

    /// `open` by the object's hash directory, whatever name it holds (the
    /// audit walks directories).
    pub fn open_dir(dir: &Path) -> Result<Option<OpenObject>, StoreError> {
        let Some(loc) = location_of_dir(dir) else {
            return Err(StoreError::corrupt(dir, "not an object hash directory"));
        };
        let files = match file_set::list(dir) {
            Ok(names) => file_set::classify(&names),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("listing", dir, e)),
        };
        let Some(data) = files.data else {
            return Ok(None);
        };
        let data_path = dir.join(&data.name);
        let name = match disk_meta::read_path(&data_path) {
            Ok(md) => md.get("name").cloned(),
            Err(DiskError::StateChanged { .. }) => return Ok(None),
            Err(DiskError::BadMetadata { detail, .. }) => {
                return Err(StoreError::corrupt(data_path, detail))
            }
            Err(e) => return Err(e.into()),
        };
        let Some((a, c, o)) = name.as_deref().and_then(split_name) else {
            return Err(StoreError::corrupt(data_path, "missing name metadata"));
        };
        open_disk_file(&DiskFile::new(loc, a, c, o, Settings::default()))
    }

    /// The object's current state as its files record it (an expired
    /// object is still `Live`: the sweep owns expiry).
    pub fn state(
        &self,
        account: &str,
        container: &str,
        object: &str,
    ) -> Result<FileState, StoreError> {
        let df = self.disk_file(account, container, object);
        for _ in 0..OPEN_TRIES {
            match df.open(super::swift_disk::now_secs(), true) {
                Ok(opened) => return Ok(FileState::Live(object_meta(&opened)?)),
                Err(DiskError::NotFound) => return Ok(FileState::Absent),
                Err(DiskError::Deleted { timestamp, .. }) => {
                    return Ok(FileState::Deleted(timestamp.time))
                }
                // Another name's files: none of this name's.
                Err(DiskError::Collision { .. }) => return Ok(FileState::Absent),
                Err(DiskError::StateChanged { .. }) => continue,
                Err(DiskError::Quarantined { .. }) => return Ok(FileState::Absent),
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::corrupt(
            df.location().hash_dir(),
            "object kept changing while being read",
        ))
    }

    /// Streams `body` into a new version: temp file in `tmp/`, MD5 on the
    /// way, metadata in its xattrs, fsync, `hashes.invalid`, rename into
    /// the hash directory, fsync. Older versions stay until the caller has
    /// recorded the new one (`retire_older`) or taken it back (`discard`),
    /// so a write refused after this point leaves the previous version as
    /// it was.
    /// With `known_len` (Content-Length) the free space is checked first, so
    /// a body that cannot fit is refused (ENOSPC) before any of it is read;
    /// nothing is reserved ahead of the bytes (`os::ensure_room`).
    pub fn put(
        &self,
        account: &str,
        container: &str,
        object: &str,
        body: &mut dyn Read,
        new: &NewObject,
        known_len: Option<u64>,
    ) -> Result<ObjectMeta, PutError> {
        let df = self.disk_file(account, container, object);
        let hash_dir = df.location().hash_dir();
        let files = match file_set::list(&hash_dir) {
            Ok(names) => file_set::classify(&names),
            Err(e) if e.kind() == io::ErrorKind::NotFound => file_set::FileSet::default(),
            Err(e) => return Err(StoreError::io("listing", &hash_dir, e).into()),
        };
        let latest = files.data.as_ref().or(files.tombstone.as_ref());
        if latest.is_some_and(|f| f.timestamp >= OffsetTimestamp::new(new.timestamp, 0)) {
            return Err(PutError::Conflict);
        }
        if let Some(data) = &files.data {
            // Never replace another name's object (Swift's object server
            // refuses with DiskFileCollision); a file that cannot be read
            // is simply replaced.
            if let Ok(md) = disk_meta::read_path(&hash_dir.join(&data.name)) {
                match md.get("name") {
                    Some(stored) if stored != df.name() => {
                        return Err(StoreError::NameCollision {
                            path: hash_dir.join(&data.name),
                            stored: stored.clone(),
                            wanted: df.name().to_string(),
                        }
                        .into())
                    }
                    _ => {}
                }
            }
        }
        let mut writer = df.create()?;
        if let Some(len) = known_len {
            crate::core::os::ensure_room(writer.file(), len).map_err(|e| {
                StoreError::io(
                    "checking free space for a temp file in",
                    df.location().tmp_dir(),
                    e,
                )
            })?;
        }
        let mut buf = vec![0u8; COPY_BUF];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(PutError::BodyRead(e)),
            };
            if writer.bytes_written() + n as u64 > new.max_size {
                return Err(PutError::TooLarge);
            }
            writer.write(&buf[..n])?;
        }
        let etag = writer.etag();
        if let Some(expected) = &new.expected_etag {
            if *expected != etag {
                return Err(PutError::EtagMismatch { computed: etag });
            }
        }
        let meta = ObjectMeta {
            timestamp: new.timestamp,
            meta_timestamp: new.timestamp,
            content_type: new.content_type.clone(),
            etag,
            size: writer.bytes_written(),
            meta: sorted(new.meta.clone()),
        };
        let mut md = Metadata::new();
        md.insert("X-Timestamp".into(), new.timestamp.normal());
        md.insert("Content-Length".into(), meta.size.to_string());
        md.insert("ETag".into(), meta.etag.clone());
        md.insert("Content-Type".into(), meta.content_type.clone());
        insert_headers(&mut md, &meta.meta);
        writer.put_keeping_older(md)?;
        Ok(meta)
    }

    /// Removes the temp files of writers that died (a killed process) from
    /// the policy's `tmp` directory; returns how many.
    pub fn sweep_abandoned_temp_files(&self) -> Result<usize, StoreError> {
        let tmp = self
            .device
            .join(layout::policy_dir(layout::TMP_BASE, self.policy));
        super::swift_disk::writer::sweep_abandoned(&tmp)
            .map_err(|e| StoreError::io("sweeping abandoned temp files in", &tmp, e))
    }

    /// Removes the versions older than a stored `put` (Swift's cleanup of
    /// the hash directory).
    pub fn retire_older(&self, account: &str, container: &str, object: &str, _ts: Timestamp) {
        let _ = self.disk_file(account, container, object).cleanup();
    }

    /// Takes back the version a `put` at `ts` stored (its record could not
    /// be written): the previous version, if any, is current again.
    pub fn discard(&self, account: &str, container: &str, object: &str, ts: Timestamp) {
        let df = self.disk_file(account, container, object);
        let dir = df.location().hash_dir();
        let _ = df.discard(&dir.join(format!("{}.data", ts.normal())));
        remove_empty_dirs(&dir);
    }

    /// Replaces the user metadata (and optionally the content type) of the
    /// current version with a `.meta` file. Returns the updated metadata, or
    /// None when the object does not exist.
    pub fn post(
        &self,
        account: &str,
        container: &str,
        object: &str,
        ts: Timestamp,
        content_type: Option<&str>,
        meta: &[(String, Vec<u8>)],
    ) -> Result<Option<ObjectMeta>, PutError> {
        let Some(current) = self.open(account, container, object)? else {
            return Ok(None);
        };
        if current.meta.meta_timestamp >= ts {
            return Err(PutError::Conflict);
        }
        let mut md = Metadata::new();
        md.insert("X-Timestamp".into(), ts.normal());
        if let Some(ct) = content_type {
            md.insert("Content-Type".into(), ct.to_string());
            md.insert("Content-Type-Timestamp".into(), ts.normal());
        }
        // What the data file's writer set for the system (sysmeta, the SLO
        // flag) stays with the data, as Swift's `.meta` files keep it.
        let user: Vec<(String, Vec<u8>)> = meta
            .iter()
            .filter(|(n, _)| !is_datafile_system_meta(n))
            .cloned()
            .collect();
        insert_headers(&mut md, &user);
        self.disk_file(account, container, object)
            .write_metadata(md)?;
        let mut updated = current.meta;
        updated.meta_timestamp = ts;
        if let Some(ct) = content_type {
            updated.content_type = ct.to_string();
        }
        let mut kept: Vec<(String, Vec<u8>)> = std::mem::take(&mut updated.meta)
            .into_iter()
            .filter(|(n, _)| is_datafile_system_meta(n))
            .collect();
        kept.extend(user);
        updated.meta = sorted(kept);
        Ok(Some(updated))
    }

    /// Writes a tombstone. Returns the metadata of the version it deleted,
    /// or None when there was nothing to delete (no tombstone is written).
    pub fn delete(
        &self,
        account: &str,
        container: &str,
        object: &str,
        ts: Timestamp,
    ) -> Result<Option<ObjectMeta>, PutError> {
        let Some(current) = self.open(account, container, object)? else {
            return Ok(None);
        };
        if current.meta.timestamp >= ts {
            return Err(PutError::Conflict);
        }
        self.disk_file(account, container, object)
            .delete(OffsetTimestamp::new(ts, 0))?;
        Ok(Some(current.meta))
    }
}

/// Opens `df`'s current version (see `ObjectStore::open`).
fn open_disk_file(df: &DiskFile) -> Result<Option<OpenObject>, StoreError> {
    for _ in 0..OPEN_TRIES {
        match df.open(super::swift_disk::now_secs(), true) {
            Ok(opened) => {
                let meta = object_meta(&opened)?;
                let path = opened.data_path().to_path_buf();
                let name = opened.metadata().get("name").cloned();
                return Ok(Some(OpenObject {
                    file: opened.into_file(),
                    meta,
                    name,
                    path,
                }));
            }
            Err(DiskError::NotFound | DiskError::Deleted { .. }) => return Ok(None),
            Err(DiskError::StateChanged { .. }) => continue,
            Err(DiskError::Collision { stored, wanted }) => {
                return Err(StoreError::NameCollision {
                    path: df.location().hash_dir(),
                    stored,
                    wanted,
                })
            }
            Err(DiskError::Quarantined { to, reason }) => {
                // The caller records why and drops the listing row.
                return match quarantined_data(&to) {
                    Some(data) => Err(StoreError::corrupt(data, reason)),
                    None => Ok(None),
                };
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::corrupt(
        df.location().hash_dir(),
        "object kept changing while being opened",
    ))
}

/// The newest `.data` of a quarantined hash directory.
fn quarantined_data(dir: &Path) -> Option<PathBuf> {
    let names = file_set::list(dir).ok()?;
    let mut data: Vec<&String> = names.iter().filter(|n| n.ends_with(".data")).collect();
    data.sort();
    data.last().map(|n| dir.join(n))
}

/// The location of a hash directory `<device>/objects[-N]/<part>/<suffix>/<hash>`.
fn location_of_dir(dir: &Path) -> Option<ObjectLocation> {
    let hash = dir.file_name()?.to_str()?.to_string();
    let partition_dir = dir.parent()?.parent()?;
    let partition = partition_dir.file_name()?.to_str()?.parse().ok()?;
    let data_dir = partition_dir.parent()?;
    let policy = layout::parse_policy_dir(layout::DATADIR_BASE, data_dir.file_name()?.to_str()?)?;
    Some(ObjectLocation {
        device: data_dir.parent()?.to_path_buf(),
        policy,
        partition,
        hash,
    })
}

/// The store's view of an opened object's merged metadata.
fn object_meta(opened: &super::swift_disk::OpenedObject) -> Result<ObjectMeta, StoreError> {
    let md = opened.metadata();
    let bad = |what: &str| StoreError::corrupt(opened.data_path(), format!("bad {what}"));
    let timestamp = opened
        .data_timestamp()
        .ok_or_else(|| bad("X-Timestamp"))?
        .time;
    let meta_timestamp = opened.timestamp().map(|t| t.time).unwrap_or(timestamp);
    let meta = md
        .iter()
        .filter_map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            if OWN_KEYS.contains(&lower.as_str()) {
                return None;
            }
            let value = header_from_native(v).unwrap_or_else(|| v.as_bytes().to_vec());
            Some((lower, value))
        })
        .collect();
    Ok(ObjectMeta {
        timestamp,
        meta_timestamp,
        content_type: md
            .get("Content-Type")
            .cloned()
            .unwrap_or_else(|| "application/octet-stream".into()),
        etag: md.get("ETag").cloned().ok_or_else(|| bad("ETag"))?,
        size: opened.content_length(),
        meta: sorted(meta),
    })
}

/// Headers into metadata as Swift's object server stores them: the name
/// title-cased (swob's `HeaderKeyDict`), the value a WSGI string.
fn insert_headers(md: &mut Metadata, headers: &[(String, Vec<u8>)]) {
    for (name, value) in headers {
        md.insert(title_case(name), native_from_header(value));
    }
}

/// Python's `str.title()` for a header name: each letter after a
/// non-letter upper case, the others lower case.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut after_letter = false;
    for c in name.chars() {
        if c.is_alphabetic() {
            if after_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            after_letter = true;
        } else {
            out.push(c);
            after_letter = false;
        }
    }
    out
}

fn sorted(mut meta: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    meta.sort();
    meta
}

/// `/account/container/object` as its three names.
pub fn split_name(full: &str) -> Option<(&str, &str, &str)> {
    let mut parts = full.strip_prefix('/')?.splitn(3, '/');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

/// Removes an object's hash directory and its suffix directory if they are
/// empty (best effort: a directory another write is using is not empty).
fn remove_empty_dirs(dir: &Path) {
    if fs::remove_dir(dir).is_ok() {
        if let Some(parent) = dir.parent() {
            let _ = fs::remove_dir(parent);
        }
    }
}

/// Hex MD5 of the first `size` bytes of `file` (an object's content), read
/// with `pread` so the file's offset stays untouched. A file that ends early
/// is an error.
pub fn content_md5(file: &File, size: u64) -> io::Result<String> {
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; VERIFY_BUF.min(size.max(1) as usize)];
    let mut offset = 0u64;
    while offset < size {
        let want = buf
            .len()
            .min(usize::try_from(size - offset).unwrap_or(usize::MAX));
        file.read_exact_at(&mut buf[..want], offset)?;
        md5.update(&buf[..want]);
        offset += want as u64;
    }
    Ok(crate::core::hex::hex(&md5.finalize()))
}

/// Hex MD5 of "/a/c/o": the unsalted hash. With a salt, names are hashed
/// by `hash_path::HashPath` (Swift's `hash_path`).
pub fn name_hash(parts: &[&str]) -> String {
    let mut md5 = Md5::new();
    for p in parts {
        md5.update(b"/");
        md5.update(p.as_bytes());
    }
    crate::core::hex::hex(&md5.finalize())
}

/// Metadata that belongs to an object's data file and outlives a POST
/// (Swift's object sysmeta and its `DATAFILE_SYSTEM_META`).
pub fn is_datafile_system_meta(name: &str) -> bool {
    name.starts_with("x-object-sysmeta-") || name == "x-static-large-object"
}

/// The sysmeta by which a middleware gives the container listing another
/// ETag than the data's (Swift's `X-Object-Sysmeta-Container-Update-
/// Override-Etag`; SLO lists `<manifest md5>; slo_etag=<its ETag>`).
pub const LISTING_ETAG_OVERRIDE: &str = "x-object-sysmeta-container-update-override-etag";

impl ObjectMeta {
    /// The ETag the object's listing row shows.
    pub fn listed_etag(&self) -> &str {
        self.meta
            .iter()
            .find(|(n, _)| n == LISTING_ETAG_OVERRIDE)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .unwrap_or(&self.etag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_obj(ts: u64) -> NewObject {
        NewObject {
            timestamp: crate::store::timestamp::recent(ts),
            content_type: "text/plain".into(),
            meta: vec![("x-object-meta-a".into(), "1".into())],
            expected_etag: None,
            max_size: 1 << 30,
        }
    }

    fn read_all(o: &OpenObject) -> Vec<u8> {
        let mut b = vec![0; o.meta.size as usize];
        o.file.read_exact_at(&mut b, 0).unwrap();
        b
    }

    #[test]
    fn put_open_post_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        assert!(s.open("a", "c", "o").unwrap().is_none());
        let m = s
            .put("a", "c", "o", &mut &b"hello"[..], &new_obj(100), None)
            .unwrap();
        assert_eq!(m.etag, "5d41402abc4b2a76b9719d911017c592");
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(read_all(&o), b"hello");
        assert_eq!(
            o.meta.meta,
            vec![("x-object-meta-a".to_string(), b"1".to_vec())]
        );

        // An older PUT is refused; a newer one replaces.
        assert!(matches!(
            s.put("a", "c", "o", &mut &b"x"[..], &new_obj(50), None),
            Err(PutError::Conflict)
        ));
        s.put("a", "c", "o", &mut &b"bigger body"[..], &new_obj(200), None)
            .unwrap();
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(read_all(&o), b"bigger body");

        let meta = vec![("x-object-meta-b".to_string(), b"2".to_vec())];
        let posted = s
            .post(
                "a",
                "c",
                "o",
                crate::store::timestamp::recent(300),
                None,
                &meta,
            )
            .unwrap()
            .unwrap();
        assert_eq!(posted.meta, meta);
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(o.meta.meta, meta);
        assert_eq!(o.meta.timestamp, crate::store::timestamp::recent(200));
        assert_eq!(read_all(&o), b"bigger body");

        assert!(s
            .delete("a", "c", "o", crate::store::timestamp::recent(400))
            .unwrap()
            .is_some());
        assert!(s.open("a", "c", "o").unwrap().is_none());
        assert!(s
            .delete("a", "c", "o", crate::store::timestamp::recent(500))
            .unwrap()
            .is_none());
        // Only the tombstone is left in the object's directory.
        let odir = s.object_dir("a", "c", "o");
        assert_eq!(fs::read_dir(odir).unwrap().count(), 1);
    }

    #[test]
    fn post_keeps_the_data_files_system_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let mut n = new_obj(100);
        let m = |k: &str, v: &str| (k.to_string(), v.as_bytes().to_vec());
        n.meta = vec![
            m("x-object-meta-a", "1"),
            m("x-static-large-object", "True"),
            m("x-object-sysmeta-slo-size", "7"),
            m(LISTING_ETAG_OVERRIDE, "abc; slo_etag=def"),
        ];
        let stored = s.put("a", "c", "o", &mut &b"[]"[..], &n, None).unwrap();
        assert_eq!(stored.listed_etag(), "abc; slo_etag=def");
        let user = vec![
            m("x-object-meta-b", "2"),
            m("x-object-sysmeta-slo-size", "9"),
        ];
        let posted = s
            .post(
                "a",
                "c",
                "o",
                crate::store::timestamp::recent(300),
                None,
                &user,
            )
            .unwrap()
            .unwrap();
        let want = vec![
            m("x-object-meta-b", "2"),
            m(LISTING_ETAG_OVERRIDE, "abc; slo_etag=def"),
            m("x-object-sysmeta-slo-size", "7"),
            m("x-static-large-object", "True"),
        ];
        assert_eq!(posted.meta, want);
        assert_eq!(s.open("a", "c", "o").unwrap().unwrap().meta.meta, want);
    }

    #[test]
    fn etag_mismatch_and_size_limit_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let mut n = new_obj(100);
        n.expected_etag = Some("\"00000000000000000000000000000000\"".into());
        assert!(matches!(
            s.put("a", "c", "o", &mut &b"hello"[..], &n, None),
            Err(PutError::EtagMismatch { .. })
        ));
        n.expected_etag = None;
        n.max_size = 3;
        assert!(matches!(
            s.put("a", "c", "o", &mut &b"hello"[..], &n, None),
            Err(PutError::TooLarge)
        ));
        assert!(s.open("a", "c", "o").unwrap().is_none());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(!dir.path().join("objects").exists());
    }

    #[test]
    fn many_metadata_items_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let mut n = new_obj(100);
        // As much as ext4's xattr space (about 3.5 KiB) holds; the
        // limits themselves are tested on XFS by the e2e suite.
        n.meta = (10..30)
            .map(|i| (format!("x-object-meta-k{i}"), vec![b'v'; 40]))
            .collect();
        s.put("a", "c", "o", &mut &b"0123456789"[..], &n, None)
            .unwrap();
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(o.meta.meta.len(), 20);
        assert_eq!(read_all(&o), b"0123456789");
    }

    #[test]
    fn metadata_bytes_that_are_not_utf8_are_kept_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let mut n = new_obj(100);
        let raw = b"caf\xe9 \xff\x80".to_vec();
        n.meta = vec![
            ("x-object-meta-raw".into(), raw.clone()),
            ("x-object-meta-text".into(), "café".into()),
        ];
        s.put("a", "c", "o", &mut &b"x"[..], &n, None).unwrap();
        assert_eq!(s.open("a", "c", "o").unwrap().unwrap().meta.meta, n.meta);
        // Stored as Swift's object server stores header values: each byte
        // one code point (a WSGI string).
        let o = s.open("a", "c", "o").unwrap().unwrap();
        let md = disk_meta::read_path(&o.path).unwrap();
        assert_eq!(md["X-Object-Meta-Raw"], "caf\u{e9} \u{ff}\u{80}");
        assert_eq!(md["X-Object-Meta-Text"], "caf\u{c3}\u{a9}");
        // A POST's .meta file too.
        let posted = vec![("x-object-meta-p".to_string(), vec![0xfe, b'!'])];
        s.post(
            "a",
            "c",
            "o",
            crate::store::timestamp::recent(200),
            None,
            &posted,
        )
        .unwrap();
        assert_eq!(s.open("a", "c", "o").unwrap().unwrap().meta.meta, posted);
    }

    /// Puts `o`'s files into the directory of `p`, as a hash collision (or
    /// an operator's copy) would.
    fn collide(s: &ObjectStore) -> PathBuf {
        let src = s.object_dir("a", "c", "o");
        let dst = s.object_dir("a", "c", "p");
        fs::create_dir_all(&dst).unwrap();
        for f in fs::read_dir(&src).unwrap() {
            let f = f.unwrap().path();
            // A second name of the same inode: the same xattrs.
            fs::hard_link(&f, dst.join(f.file_name().unwrap())).unwrap();
        }
        dst
    }

    #[test]
    fn the_name_stored_with_the_data_is_checked_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        s.put("a", "c", "o", &mut &b"mine"[..], &new_obj(100), None)
            .unwrap();
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(o.name.as_deref(), Some("/a/c/o"));
        let dst = collide(&s);
        let held = fs::read_dir(&dst).unwrap().count();

        let e = s.open("a", "c", "p").err().expect("a collision");
        match &e {
            StoreError::NameCollision { stored, wanted, .. } => {
                assert_eq!((stored.as_str(), wanted.as_str()), ("/a/c/o", "/a/c/p"))
            }
            other => panic!("{other}"),
        }
        assert_eq!(s.state("a", "c", "p").unwrap(), FileState::Absent);
        // Nothing of the other name's is replaced, changed or deleted.
        let refused = |r: Result<_, PutError>| {
            matches!(r, Err(PutError::Store(StoreError::NameCollision { .. })))
        };
        assert!(refused(
            s.put("a", "c", "p", &mut &b"theirs"[..], &new_obj(200), None)
                .map(|_| ())
        ));
        assert!(refused(
            s.post(
                "a",
                "c",
                "p",
                crate::store::timestamp::recent(300),
                None,
                &[]
            )
            .map(|_| ())
        ));
        assert!(refused(
            s.delete("a", "c", "p", crate::store::timestamp::recent(400))
                .map(|_| ())
        ));
        assert_eq!(fs::read_dir(&dst).unwrap().count(), held);
        assert_eq!(read_all(&s.open("a", "c", "o").unwrap().unwrap()), b"mine");
        // An ObjectStore that walks directories still opens it.
        assert!(ObjectStore::open_dir(&dst).unwrap().is_some());
    }

    #[test]
    fn files_are_swifts_format() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let mut n = new_obj(100);
        n.meta = vec![("x-object-meta-color".into(), b"blue".to_vec())];
        s.put("a", "c", "o", &mut &b"hello"[..], &n, Some(5))
            .unwrap();
        let loc = s.location("a", "c", "o");
        let hash = name_hash(&["a", "c", "o"]);
        let part = layout::partition(&hash, DEFAULT_PART_POWER).unwrap();
        let data = dir.path().join(format!(
            "objects/{part}/{}/{hash}/{}.data",
            &hash[29..],
            crate::store::timestamp::recent(100).normal()
        ));
        assert_eq!(loc.hash_dir(), data.parent().unwrap());
        // The .data holds the bytes alone; the metadata is in its xattrs.
        assert_eq!(fs::read(&data).unwrap(), b"hello");
        let md = disk_meta::read_path(&data).unwrap();
        let want: Metadata = [
            ("name", "/a/c/o"),
            ("X-Timestamp", "@TS@"),
            ("Content-Length", "5"),
            ("ETag", "5d41402abc4b2a76b9719d911017c592"),
            ("Content-Type", "text/plain"),
            ("X-Object-Meta-Color", "blue"),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v.replace("@TS@", &crate::store::timestamp::recent(100).normal()),
            )
        })
        .collect();
        assert_eq!(md, want);
        // The partition's hashes.invalid names the suffix, for Swift's
        // replicator.
        let invalid = fs::read_to_string(loc.partition_dir().join("hashes.invalid")).unwrap();
        assert!(invalid.lines().any(|l| l == &hash[29..]), "{invalid}");
        assert_eq!(title_case("x-object-meta-a1b-ÉTÉ"), "X-Object-Meta-A1B-Été");
    }

    #[test]
    fn state_follows_the_newest_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        assert_eq!(s.state("a", "c", "o").unwrap(), FileState::Absent);
        let m = s
            .put("a", "c", "o", &mut &b"hi"[..], &new_obj(10), Some(2))
            .unwrap();
        assert_eq!(s.state("a", "c", "o").unwrap(), FileState::Live(m));
        s.delete("a", "c", "o", crate::store::timestamp::recent(20))
            .unwrap();
        assert_eq!(
            s.state("a", "c", "o").unwrap(),
            FileState::Deleted(crate::store::timestamp::recent(20))
        );
    }

    #[test]
    fn content_md5_sees_a_flipped_byte_and_a_short_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let body: Vec<u8> = (0..600_000u32).map(|i| i as u8).collect();
        let m = s
            .put("a", "c", "o", &mut &body[..], &new_obj(1), None)
            .unwrap();
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(content_md5(&o.file, m.size).unwrap(), m.etag);
        let mut bad = fs::read(&o.path).unwrap();
        bad[300_000] ^= 0x01;
        fs::write(&o.path, &bad).unwrap();
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_ne!(content_md5(&o.file, m.size).unwrap(), m.etag);
        assert!(content_md5(&o.file, o.file.metadata().unwrap().len() + 1).is_err());
    }

    #[test]
    fn empty_object() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let m = s
            .put("a", "c", "o", &mut &b""[..], &new_obj(1), None)
            .unwrap();
        assert_eq!(m.etag, "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(s.open("a", "c", "o").unwrap().unwrap().meta.size, 0);
    }

    /// A body reader that must never be asked for bytes.
    struct Untouched;

    impl Read for Untouched {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            panic!("the body was read although the space check failed");
        }
    }

    #[test]
    fn a_known_length_beyond_the_free_space_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        // 8 TiB: more than the test disk holds, less than ext4's file limit.
        let err = s
            .put("a", "c", "o", &mut Untouched, &new_obj(100), Some(1 << 43))
            .unwrap_err();
        match err {
            PutError::Store(e) => assert!(e.is_out_of_space(), "{e}"),
            other => panic!("expected an out-of-space store error, got {other:?}"),
        }
        assert!(s.open("a", "c", "o").unwrap().is_none());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(!dir.path().join("objects").exists());
    }

    #[test]
    fn a_known_length_does_not_change_the_stored_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        s.put("a", "c", "o", &mut &b"hello"[..], &new_obj(100), Some(5))
            .unwrap();
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(read_all(&o), b"hello");
        assert_eq!(o.meta.size, 5);
    }

    #[test]
    fn discard_brings_back_the_previous_version_and_retire_drops_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        s.put("a", "c", "o", &mut &b"old"[..], &new_obj(100), None)
            .unwrap();
        s.put("a", "c", "o", &mut &b"new"[..], &new_obj(200), None)
            .unwrap();
        s.discard("a", "c", "o", crate::store::timestamp::recent(200));
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(read_all(&o), b"old");

        s.put("a", "c", "o", &mut &b"newer"[..], &new_obj(300), None)
            .unwrap();
        s.retire_older("a", "c", "o", crate::store::timestamp::recent(300));
        let odir = s.object_dir("a", "c", "o");
        assert_eq!(fs::read_dir(&odir).unwrap().count(), 1);

        // Discarding the only version leaves no directory behind.
        s.put("a", "c", "p", &mut &b"x"[..], &new_obj(100), None)
            .unwrap();
        s.discard("a", "c", "p", crate::store::timestamp::recent(100));
        assert!(!s.object_dir("a", "c", "p").exists());
    }

    #[test]
    fn temp_files_of_dead_writers_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        assert_eq!(s.sweep_abandoned_temp_files().unwrap(), 0);
        let mut live = s.disk_file("a", "c", "o").create().unwrap();
        live.write(b"in flight").unwrap();
        // What a killed writer leaves: a temp file nobody holds.
        let dead = dir.path().join("tmp").join("tmp0123456789ab");
        fs::write(&dead, b"half").unwrap();
        assert_eq!(s.sweep_abandoned_temp_files().unwrap(), 1);
        assert!(!dead.exists());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 1);
        let mut md = Metadata::new();
        md.insert(
            "X-Timestamp".into(),
            crate::store::timestamp::recent(1).normal(),
        );
        md.insert("Content-Length".into(), "9".into());
        md.insert("ETag".into(), live.etag());
        md.insert("Content-Type".into(), "text/plain".into());
        live.put(md).unwrap();
        assert_eq!(
            read_all(&s.open("a", "c", "o").unwrap().unwrap()),
            b"in flight"
        );
    }
}
