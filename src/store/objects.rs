//! Object files on disk, in Swift's shape: one directory per object, named by
//! the hash of its full name, holding timestamped files. The newest of
//! `<ts>.data` (content + metadata trailer) and `<ts>.ts` (tombstone) decides
//! whether the object exists; a `<ts>.meta` newer than the data replaces its
//! user metadata (POST).
//!
//! ```text
//! <root>/objects/<hash[29..32]>/<hash>/1700000000.12345.data
//! <root>/tmp/                      (O_TMPFILE files: never visible, never leaked)
//! ```
//! A `.data` file is the object's bytes followed by a JSON metadata block, its
//! length (u32 LE) and the magic `STOWAGE1`, so a reader needs one open, one
//! fstat and one pread before handing the byte range to the host's sendfile.

use super::hash_path::HashPath;
use super::lazy_dirs::LazyDirs;
use super::{StoreError, Timestamp};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"STOWAGE1";
const TRAILER_LEN: u64 = 12;
/// One pread at the end of the file usually covers the whole metadata block.
const TAIL_READ: u64 = 8192;
const COPY_BUF: usize = 64 * 1024;
/// Read size when hashing a stored object (fewer syscalls than COPY_BUF).
const VERIFY_BUF: usize = 256 * 1024;

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
    pub meta: Vec<(String, Vec<u8>)>,
}

pub struct OpenObject {
    pub file: File,
    pub meta: ObjectMeta,
    /// The name stored with the data, `/account/container/object` (None in
    /// files written before names were stored).
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

pub struct ObjectStore {
    objects: PathBuf,
    /// How names become directory names.
    hash_path: HashPath,
    tmp: PathBuf,
    /// `objects/` and `tmp/`, made by the first write in a worker.
    dirs: LazyDirs,
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

/// The files of an object's current version.
struct Current {
    /// Newest `.data` (None when absent or deleted).
    data: Option<(Timestamp, PathBuf)>,
    /// Newest `.meta` newer than that data.
    meta: Option<PathBuf>,
    /// Timestamp of the newest `.data` or `.ts`.
    latest: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Data,
    Tombstone,
    Meta,
}

impl ObjectStore {
    /// Touches nothing on disk (see `dirs`); names hashed without a salt.
    pub fn new(root: &Path) -> ObjectStore {
        ObjectStore::with_hash_path(root, HashPath::unsalted())
    }

    /// Touches nothing on disk (see `dirs`).
    pub fn with_hash_path(root: &Path, hash_path: HashPath) -> ObjectStore {
        ObjectStore {
            objects: root.join("objects"),
            hash_path,
            tmp: root.join("tmp"),
            dirs: LazyDirs::new(vec![root.join("objects"), root.join("tmp")]),
        }
    }

    fn object_dir(&self, account: &str, container: &str, object: &str) -> PathBuf {
        object_dir_in(
            &self.objects,
            &self.hash_path.object(account, container, object),
        )
    }

    /// The newest version's file of each kind, by timestamp.
    fn scan(dir: &Path) -> Result<Vec<(Timestamp, Kind, PathBuf)>, StoreError> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io("listing", dir, e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("listing", dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some((ts, ext)) = name.rsplit_once('.') else {
                continue;
            };
            let kind = match ext {
                "data" => Kind::Data,
                "ts" => Kind::Tombstone,
                "meta" => Kind::Meta,
                _ => continue,
            };
            if let Some(ts) = Timestamp::parse(ts) {
                found.push((ts, kind, entry.path()));
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        Ok(found)
    }

    /// Which files make up the current version of an object.
    fn current(dir: &Path) -> Result<Current, StoreError> {
        let files = Self::scan(dir)?;
        let newest = files.iter().find(|f| f.1 != Kind::Meta);
        let latest_any = newest.map(|f| f.0);
        let data = match newest {
            Some((ts, Kind::Data, path)) => Some((*ts, path.clone())),
            _ => None,
        };
        let meta = data.as_ref().and_then(|(dts, _)| {
            files
                .iter()
                .find(|f| f.1 == Kind::Meta && f.0 > *dts)
                .map(|f| f.2.clone())
        });
        Ok(Current {
            data,
            meta,
            latest: latest_any,
        })
    }

    /// Opens the current version. A concurrent PUT may remove the file we
    /// picked between listing and opening: then we look again.
    pub fn open(
        &self,
        account: &str,
        container: &str,
        object: &str,
    ) -> Result<Option<OpenObject>, StoreError> {
        let wanted = full_name(account, container, object);
        let dir = self.object_dir(account, container, object);
        match Self::open_dir(&dir)? {
            Some(obj) => match &obj.name {
                // Another name's object shares the directory (a hash
                // collision, or a file put there by hand): this name's
                // object is not there, as Swift's DiskFileCollision.
                Some(stored) if *stored != wanted => Err(StoreError::NameCollision {
                    path: obj.path,
                    stored: stored.clone(),
                    wanted,
                }),
                _ => Ok(Some(obj)),
            },
            None => Ok(None),
        }
    }

    /// `open` by the object's directory, whatever name it holds (the audit
    /// walks directories).
    pub fn open_dir(dir: &Path) -> Result<Option<OpenObject>, StoreError> {
        for _ in 0..5 {
            let Current {
                data,
                meta: meta_path,
                ..
            } = Self::current(dir)?;
            let Some((_, path)) = data else {
                return Ok(None);
            };
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io("opening", &path, e)),
            };
            let (mut meta, name) = read_trailer(&file, &path)?;
            if let Some(mp) = meta_path {
                match fs::read(&mp) {
                    Ok(bytes) => apply_meta_file(&mut meta, &bytes, &mp)?,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(StoreError::io("reading", &mp, e)),
                }
            }
            return Ok(Some(OpenObject {
                file,
                meta,
                name,
                path,
            }));
        }
        Err(StoreError::corrupt(
            dir,
            "object kept changing while being opened",
        ))
    }

    /// The object's current state as its files record it (an expired
    /// object is still `Live`: the sweep owns expiry).
    pub fn state(
        &self,
        account: &str,
        container: &str,
        object: &str,
    ) -> Result<FileState, StoreError> {
        let dir = self.object_dir(account, container, object);
        for _ in 0..5 {
            match self.open(account, container, object) {
                Ok(Some(obj)) => return Ok(FileState::Live(obj.meta)),
                Ok(None) => {}
                // Another name's files: none of this name's.
                Err(StoreError::NameCollision { .. }) => return Ok(FileState::Absent),
                Err(e) => return Err(e),
            }
            match Self::current(&dir)? {
                Current {
                    data: None,
                    latest: None,
                    ..
                } => return Ok(FileState::Absent),
                Current {
                    data: None,
                    latest: Some(ts),
                    ..
                } => return Ok(FileState::Deleted(ts)),
                // A new version landed between the two looks.
                Current { data: Some(_), .. } => continue,
            }
        }
        Err(StoreError::corrupt(
            dir,
            "object kept changing while being read",
        ))
    }

    /// Streams `body` into a new version: temp file, MD5 on the way, fsync,
    /// link into place, fsync the directory. Older versions stay until the
    /// caller has recorded the new one (`retire_older`) or taken it back
    /// (`discard`), so a write refused after this point leaves the previous
    /// version as it was.
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
        let dir = self.object_dir(account, container, object);
        let current = Self::current(&dir)?;
        if let Some(latest) = current.latest {
            if latest >= new.timestamp {
                return Err(PutError::Conflict);
            }
        }
        let name = full_name(account, container, object);
        if let Some((_, path)) = &current.data {
            // Never replace another name's object (Swift's object server
            // refuses with DiskFileCollision); a file that cannot be read
            // is simply replaced.
            if let Ok(Some(stored)) = stored_name(path) {
                if stored != name {
                    return Err(StoreError::NameCollision {
                        path: path.clone(),
                        stored,
                        wanted: name,
                    }
                    .into());
                }
            }
        }
        let mut file = self.temp_file()?;
        if let Some(len) = known_len {
            crate::core::os::ensure_room(&file, len).map_err(|e| {
                StoreError::io("checking free space for a temp file in", &self.tmp, e)
            })?;
        }
        let mut md5 = Md5::new();
        let mut size: u64 = 0;
        let mut buf = vec![0u8; COPY_BUF];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(PutError::BodyRead(e)),
            };
            size += n as u64;
            if size > new.max_size {
                return Err(PutError::TooLarge);
            }
            md5.update(&buf[..n]);
            file.write_all(&buf[..n])
                .map_err(|e| StoreError::io("writing temp file in", &self.tmp, e))?;
        }
        let etag = crate::core::hex::hex(&md5.finalize());
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
            size,
            meta: new.meta.clone(),
        };
        let block = serde_json::to_vec(&trailer_json(&meta, &name))
            .map_err(|e| StoreError::corrupt(&dir, format!("encoding metadata: {e}")))?;
        let len = u32::try_from(block.len())
            .map_err(|_| StoreError::corrupt(&dir, "metadata too large"))?;
        let mut tail = block;
        tail.extend_from_slice(&len.to_le_bytes());
        tail.extend_from_slice(MAGIC);
        file.write_all(&tail)
            .map_err(|e| StoreError::io("writing temp file in", &self.tmp, e))?;
        file.sync_all()
            .map_err(|e| StoreError::io("syncing temp file in", &self.tmp, e))?;
        let dest = dir.join(format!("{}.data", new.timestamp.normal()));
        self.publish(&file, &dir, &dest)?;
        Ok(meta)
    }

    /// Removes the versions older than a stored `put` at `ts`.
    pub fn retire_older(&self, account: &str, container: &str, object: &str, ts: Timestamp) {
        let dir = self.object_dir(account, container, object);
        cleanup_older(&dir, ts, &[Kind::Data, Kind::Tombstone, Kind::Meta]);
    }

    /// Takes back the version a `put` at `ts` stored (its record could not
    /// be written): the previous version, if any, is current again.
    pub fn discard(&self, account: &str, container: &str, object: &str, ts: Timestamp) {
        let dir = self.object_dir(account, container, object);
        let _ = fs::remove_file(dir.join(format!("{}.data", ts.normal())));
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
        let dir = self.object_dir(account, container, object);
        // A POST without a type keeps the current one, an earlier POST's
        // included (Swift keeps the newest content-type timestamp's).
        let ct = content_type.unwrap_or(&current.meta.content_type);
        let doc = json!({ "ts": ts.normal(), "meta": meta_json(meta), "content_type": ct });
        let bytes = serde_json::to_vec(&doc)
            .map_err(|e| StoreError::corrupt(&dir, format!("encoding metadata: {e}")))?;
        let mut file = self.temp_file()?;
        file.write_all(&bytes)
            .map_err(|e| StoreError::io("writing temp file in", &self.tmp, e))?;
        file.sync_all()
            .map_err(|e| StoreError::io("syncing temp file in", &self.tmp, e))?;
        self.publish(&file, &dir, &dir.join(format!("{}.meta", ts.normal())))?;
        cleanup_older(&dir, ts, &[Kind::Meta]);
        let mut updated = current.meta;
        apply_meta_file(&mut updated, &bytes, &dir)?;
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
        let dir = self.object_dir(account, container, object);
        let file = self.temp_file()?;
        self.publish(&file, &dir, &dir.join(format!("{}.ts", ts.normal())))?;
        cleanup_older(&dir, ts, &[Kind::Data, Kind::Tombstone, Kind::Meta]);
        Ok(Some(current.meta))
    }

    /// An unnamed file on the storage filesystem: if we crash before
    /// `publish`, the kernel frees it and nothing is left behind.
    fn temp_file(&self) -> Result<File, StoreError> {
        self.dirs.ensure()?;
        OpenOptions::new()
            .read(true)
            .write(true)
            .mode(super::perms::FILE_MODE)
            .custom_flags(libc::O_TMPFILE)
            .open(&self.tmp)
            .map_err(|e| StoreError::io("creating an O_TMPFILE file in", &self.tmp, e))
    }

    /// Links the finished temp file at `dest` and makes the name durable.
    /// A file of the same timestamp already there means a concurrent write
    /// got the same timestamp: that is a Conflict, as in Swift. When the
    /// link fails (say, ENOSPC) directories made for it are removed again,
    /// so a refused write leaves nothing behind.
    fn publish(&self, file: &File, dir: &Path, dest: &Path) -> Result<(), PutError> {
        let created = !dir.exists();
        let linked = Self::make_dir_and_link(file, dir, dest);
        if linked.is_err() && created {
            remove_empty_dirs(dir);
        }
        linked?;
        sync_dir(dir)?;
        if created {
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
        }
        Ok(())
    }

    /// The directory may vanish between making it and linking when a
    /// concurrent failed write removes it as empty: then make it again.
    fn make_dir_and_link(file: &File, dir: &Path, dest: &Path) -> Result<(), PutError> {
        for _ in 0..3 {
            super::perms::create_dir_all(dir).map_err(|e| StoreError::io("creating", dir, e))?;
            match crate::core::os::link_anonymous(file, dest) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(PutError::Conflict)
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io("linking", dest, e).into()),
            }
        }
        Err(StoreError::corrupt(dir, "object directory kept vanishing while linking").into())
    }
}

/// Removes an object directory and its suffix directory if they are empty
/// (best effort: a directory another write is using is not empty).
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

/// The directory of the object whose `name_hash` is `hash` (32 hex digits;
/// anything shorter gets a directory of its own in the `objects` root, never
/// a panic) under `objects`.
pub fn object_dir_in(objects: &Path, hash: &str) -> PathBuf {
    objects.join(hash.get(29..).unwrap_or(hash)).join(hash)
}

/// Hex MD5 of "/a/c/o": spreads objects evenly and keeps every name, however
/// odd, away from the filesystem. The unsalted layout; with a salt, names
/// are hashed by `hash_path::HashPath` (Swift's `hash_path`).
pub fn name_hash(parts: &[&str]) -> String {
    let mut md5 = Md5::new();
    for p in parts {
        md5.update(b"/");
        md5.update(p.as_bytes());
    }
    crate::core::hex::hex(&md5.finalize())
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("syncing directory", dir, e))
}

/// Removes files of the given kinds older than `ts`. Best effort: a reader
/// that raced us retries, and a leftover is ignored by the newest-wins rule.
fn cleanup_older(dir: &Path, ts: Timestamp, kinds: &[Kind]) {
    if let Ok(files) = ObjectStore::scan(dir) {
        for (fts, kind, path) in files {
            if fts < ts && kinds.contains(&kind) {
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// `/account/container/object`, as the trailer stores it (Swift's `name`).
fn full_name(account: &str, container: &str, object: &str) -> String {
    format!("/{account}/{container}/{object}")
}

/// The name a `.data` file stores, if it stores one.
fn stored_name(path: &Path) -> Result<Option<String>, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io("opening", path, e))?;
    Ok(read_trailer(&file, path)?.1)
}

fn trailer_json(m: &ObjectMeta, name: &str) -> Value {
    json!({
        "name": name,
        "ts": m.timestamp.normal(),
        "content_type": m.content_type,
        "etag": m.etag,
        "size": m.size,
        "meta": meta_json(&m.meta),
    })
}

/// Metadata as JSON: `[name, value]` pairs, the value a string when it is
/// UTF-8, else `{"hex": "<its bytes in hex>"}` (JSON strings hold text).
fn meta_json(meta: &[(String, Vec<u8>)]) -> Value {
    meta.iter()
        .map(|(name, value)| match std::str::from_utf8(value) {
            Ok(text) => json!([name, text]),
            Err(_) => json!([name, { "hex": crate::core::hex::hex(value) }]),
        })
        .collect()
}

/// The metadata of a `.data` file and the name it stores (None in files
/// written before names were stored).
fn read_trailer(file: &File, path: &Path) -> Result<(ObjectMeta, Option<String>), StoreError> {
    let io_err = |e| StoreError::io("reading", path, e);
    let file_len = file.metadata().map_err(io_err)?.len();
    if file_len < TRAILER_LEN {
        return Err(StoreError::corrupt(path, "shorter than its trailer"));
    }
    let tail_len = file_len.min(TAIL_READ);
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact_at(&mut tail, file_len - tail_len)
        .map_err(io_err)?;
    let t = tail.len();
    if &tail[t - 8..] != MAGIC {
        return Err(StoreError::corrupt(path, "missing trailer magic"));
    }
    let mut len_bytes = [0u8; 4];
    len_bytes.copy_from_slice(&tail[t - 12..t - 8]);
    let block_len = u64::from(u32::from_le_bytes(len_bytes));
    if block_len + TRAILER_LEN > file_len {
        return Err(StoreError::corrupt(path, "metadata length beyond the file"));
    }
    let block = if block_len + TRAILER_LEN <= tail_len {
        tail[t - 12 - block_len as usize..t - 12].to_vec()
    } else {
        let mut b = vec![0u8; block_len as usize];
        file.read_exact_at(&mut b, file_len - TRAILER_LEN - block_len)
            .map_err(io_err)?;
        b
    };
    let v: Value = serde_json::from_slice(&block)
        .map_err(|e| StoreError::corrupt(path, format!("metadata: {e}")))?;
    let ts = v["ts"]
        .as_str()
        .and_then(Timestamp::parse)
        .ok_or_else(|| StoreError::corrupt(path, "bad ts"))?;
    let size = v["size"]
        .as_u64()
        .ok_or_else(|| StoreError::corrupt(path, "bad size"))?;
    if size + block_len + TRAILER_LEN != file_len {
        return Err(StoreError::corrupt(
            path,
            "size does not match the file length",
        ));
    }
    let meta = ObjectMeta {
        timestamp: ts,
        meta_timestamp: ts,
        content_type: v["content_type"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_string(),
        etag: v["etag"]
            .as_str()
            .ok_or_else(|| StoreError::corrupt(path, "bad etag"))?
            .to_string(),
        size,
        meta: pairs(&v["meta"]),
    };
    let name = match &v["name"] {
        Value::Null => None,
        Value::String(n) => Some(n.clone()),
        _ => return Err(StoreError::corrupt(path, "bad name")),
    };
    Ok((meta, name))
}

fn apply_meta_file(meta: &mut ObjectMeta, bytes: &[u8], path: &Path) -> Result<(), StoreError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| StoreError::corrupt(path, format!("metadata: {e}")))?;
    meta.meta_timestamp = v["ts"]
        .as_str()
        .and_then(Timestamp::parse)
        .ok_or_else(|| StoreError::corrupt(path, "bad ts"))?;
    // What the data file's writer set for the system (sysmeta, the SLO
    // flag) stays with the data, as Swift's `.meta` files keep it: a POST
    // replaces only the user's metadata.
    let mut kept: Vec<(String, Vec<u8>)> = std::mem::take(&mut meta.meta)
        .into_iter()
        .filter(|(n, _)| is_datafile_system_meta(n))
        .collect();
    kept.extend(
        pairs(&v["meta"])
            .into_iter()
            .filter(|(n, _)| !is_datafile_system_meta(n)),
    );
    meta.meta = kept;
    if let Some(ct) = v["content_type"].as_str() {
        meta.content_type = ct.to_string();
    }
    Ok(())
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

/// The pairs `meta_json` wrote (a pair it could not have written is left out).
fn pairs(v: &Value) -> Vec<(String, Vec<u8>)> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|p| {
                    let value = match p.get(1)? {
                        Value::String(text) => text.clone().into_bytes(),
                        other => crate::core::hex::unhex(other.get("hex")?.as_str()?)?,
                    };
                    Some((p.get(0)?.as_str()?.to_string(), value))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_obj(ts: u64) -> NewObject {
        NewObject {
            timestamp: Timestamp::from_units(ts),
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
            .post("a", "c", "o", Timestamp::from_units(300), None, &meta)
            .unwrap()
            .unwrap();
        assert_eq!(posted.meta, meta);
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(o.meta.meta, meta);
        assert_eq!(o.meta.timestamp, Timestamp::from_units(200));
        assert_eq!(read_all(&o), b"bigger body");

        assert!(s
            .delete("a", "c", "o", Timestamp::from_units(400))
            .unwrap()
            .is_some());
        assert!(s.open("a", "c", "o").unwrap().is_none());
        assert!(s
            .delete("a", "c", "o", Timestamp::from_units(500))
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
            .post("a", "c", "o", Timestamp::from_units(300), None, &user)
            .unwrap()
            .unwrap();
        let want = vec![
            m("x-static-large-object", "True"),
            m("x-object-sysmeta-slo-size", "7"),
            m(LISTING_ETAG_OVERRIDE, "abc; slo_etag=def"),
            m("x-object-meta-b", "2"),
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
        assert_eq!(fs::read_dir(dir.path().join("objects")).unwrap().count(), 0);
    }

    #[test]
    fn large_metadata_needs_a_second_read() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let mut n = new_obj(100);
        n.meta = (0..60)
            .map(|i| (format!("x-object-meta-k{i}"), vec![b'v'; 200]))
            .collect();
        s.put("a", "c", "o", &mut &b"0123456789"[..], &n, None)
            .unwrap();
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(o.meta.meta.len(), 60);
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
        // The trailer holds text as text, other bytes as hex.
        let o = s.open("a", "c", "o").unwrap().unwrap();
        let file = String::from_utf8_lossy(&fs::read(&o.path).unwrap()).into_owned();
        assert!(
            file.contains(r#"["x-object-meta-raw",{"hex":"636166e920ff80"}]"#),
            "{file}"
        );
        assert!(file.contains(r#"["x-object-meta-text","café"]"#), "{file}");
        // A POST's .meta file too.
        let posted = vec![("x-object-meta-p".to_string(), vec![0xfe, b'!'])];
        s.post("a", "c", "o", Timestamp::from_units(200), None, &posted)
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
            fs::copy(&f, dst.join(f.file_name().unwrap())).unwrap();
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
            s.post("a", "c", "p", Timestamp::from_units(300), None, &[])
                .map(|_| ())
        ));
        assert!(refused(
            s.delete("a", "c", "p", Timestamp::from_units(400))
                .map(|_| ())
        ));
        assert_eq!(fs::read_dir(&dst).unwrap().count(), held);
        assert_eq!(read_all(&s.open("a", "c", "o").unwrap().unwrap()), b"mine");
        // An ObjectStore that walks directories still opens it.
        assert!(ObjectStore::open_dir(&dst).unwrap().is_some());
    }

    #[test]
    fn a_file_from_before_names_were_stored_opens_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let odir = s.object_dir("a", "c", "old");
        fs::create_dir_all(&odir).unwrap();
        let ts = Timestamp::from_units(100).normal();
        let json = format!(
            r#"{{"ts":"{ts}","content_type":"text/plain","etag":"5d41402abc4b2a76b9719d911017c592","size":5,"meta":[]}}"#
        );
        let mut bytes = b"hello".to_vec();
        bytes.extend_from_slice(json.as_bytes());
        bytes.extend_from_slice(&(json.len() as u32).to_le_bytes());
        bytes.extend_from_slice(MAGIC);
        fs::write(odir.join(format!("{ts}.data")), bytes).unwrap();
        let o = s.open("a", "c", "old").unwrap().unwrap();
        assert_eq!((o.name, o.meta.size), (None, 5));
        // A new version stores its name.
        s.put("a", "c", "old", &mut &b"new"[..], &new_obj(200), None)
            .unwrap();
        let o = s.open("a", "c", "old").unwrap().unwrap();
        assert_eq!(o.name.as_deref(), Some("/a/c/old"));
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
        s.delete("a", "c", "o", Timestamp::from_units(20)).unwrap();
        assert_eq!(
            s.state("a", "c", "o").unwrap(),
            FileState::Deleted(Timestamp::from_units(20))
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
        assert_eq!(fs::read_dir(dir.path().join("objects")).unwrap().count(), 0);
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
        s.discard("a", "c", "o", Timestamp::from_units(200));
        let o = s.open("a", "c", "o").unwrap().unwrap();
        assert_eq!(read_all(&o), b"old");

        s.put("a", "c", "o", &mut &b"newer"[..], &new_obj(300), None)
            .unwrap();
        s.retire_older("a", "c", "o", Timestamp::from_units(300));
        let odir = s.object_dir("a", "c", "o");
        assert_eq!(fs::read_dir(&odir).unwrap().count(), 1);

        // Discarding the only version leaves no directory behind.
        s.put("a", "c", "p", &mut &b"x"[..], &new_obj(100), None)
            .unwrap();
        s.discard("a", "c", "p", Timestamp::from_units(100));
        assert!(!s.object_dir("a", "c", "p").exists());
    }
}
