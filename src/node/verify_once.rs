//! One verification of an object version for the whole node, however many
//! requests want it at once (issue 17): a `Range: bytes=0-0` GET must not
//! make the server hash a large object again for every request.
//!
//! - **Who hashes**: the request that holds an exclusive `flock` on the
//!   `.data` file. Every request opens the file itself, so the lock also
//!   separates threads of one process. The others wait for the lock (or for
//!   the verdict to appear), then find the verdict and hash nothing.
//! - **The verdicts** are shared by every Apache process of the node in
//!   `<root>/run/verified-v1`: a fixed table of `SLOTS` slots of 64 bytes
//!   (1 MiB, sparse), one slot per inode (by hash; a collision only costs a
//!   check). A slot names the file's version (device, inode, size, mtime,
//!   ctime), when it was checked (wall clock, ms), whether it matched, and a
//!   checksum, so a torn or stale slot is a miss, never a wrong answer. A
//!   match counts for `verified::TTL`, like the per-process memory, and only
//!   while the ctime is the same (any write or rename moves it on). A
//!   mismatch ignores the ctime, because quarantine is a rename: a waiter
//!   must still learn that the bytes it holds open were bad.
//! - **Degrades** to per-process memory when the table cannot be opened or
//!   written (full disk, permissions); the lock still makes concurrent
//!   checkers take turns. A lock not had within `LOCK_WAIT` is given up on
//!   and the waiter hashes for itself.

use crate::node::verified::{self, Key, TTL};
use crate::store::objects::content_md5;
use crate::store::perms;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Slots in the shared table.
const SLOTS: u64 = 16_384;
const SLOT: usize = 64;
/// How long a request waits for another's check before hashing itself.
const LOCK_WAIT: Duration = Duration::from_secs(60);
/// Longest pause between two looks while waiting.
const MAX_PAUSE: Duration = Duration::from_millis(20);

const GOOD: u8 = 1;
const BAD: u8 = 2;

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The bytes match their ETag (now, or within `TTL` here or elsewhere).
    Good,
    /// Hashed now: they do not; `actual` is their MD5.
    Mismatch { actual: String },
    /// Another request hashed them a moment ago and found them bad (and
    /// quarantines them): answer as if they were gone.
    KnownBad,
}

/// A check's result, and how long hashing took when this request did it.
#[derive(Debug)]
pub struct Outcome {
    pub checked: Checked,
    pub hashed: Option<Duration>,
}

impl Outcome {
    fn known(checked: Checked) -> Outcome {
        Outcome {
            checked,
            hashed: None,
        }
    }
}

/// The node's shared verdicts for one storage root. Opened on first use
/// (in a worker, never in the parent that builds the vhost).
pub struct Verdicts {
    path: PathBuf,
    file: OnceLock<Option<File>>,
}

impl Verdicts {
    pub fn new(root: &Path) -> Verdicts {
        Verdicts {
            path: root.join("run").join("verified-v1"),
            file: OnceLock::new(),
        }
    }

    fn table(&self) -> Option<&File> {
        self.file
            .get_or_init(|| open_table(&self.path).ok())
            .as_ref()
    }

    /// What the node knows about `file`'s bytes, without waiting.
    pub fn known(&self, file: &File) -> Option<Checked> {
        if verified::recently(file) {
            return Some(Checked::Good);
        }
        let key = verified::key(file)?;
        let table = self.table()?;
        let mut buf = [0u8; SLOT];
        table.read_exact_at(&mut buf, slot_offset(&key)).ok()?;
        let (verdict, age) = decode(&buf, &key, now_ms())?;
        if verdict == GOOD {
            verified::remember_aged(file, age);
            Some(Checked::Good)
        } else {
            Some(Checked::KnownBad)
        }
    }

    fn record(&self, file: &File, verdict: u8) {
        let (Some(key), Some(table)) = (verified::key(file), self.table()) else {
            return;
        };
        // Best effort: a slot that cannot be written is a later miss.
        let _ = table.write_all_at(&encode(&key, verdict, now_ms()), slot_offset(&key));
    }
}

fn open_table(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        perms::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(perms::FILE_MODE)
        .open(path)?;
    let len = SLOTS * SLOT as u64;
    if file.metadata()?.len() < len {
        file.set_len(len)?;
    }
    Ok(file)
}

/// Checks the first `size` bytes of `file` against `etag`, hashing them
/// only if nobody on the node did within `TTL`, and only once however many
/// requests ask at the same time.
pub fn check(verdicts: &Verdicts, file: &File, size: u64, etag: &str) -> io::Result<Outcome> {
    if let Some(known) = verdicts.known(file) {
        return Ok(Outcome::known(known));
    }
    let _lock = match wait_for_turn(verdicts, file) {
        Turn::Known(known) => return Ok(Outcome::known(known)),
        Turn::Mine(lock) => lock,
    };
    // Whoever held the lock before us may have checked it.
    if let Some(known) = verdicts.known(file) {
        return Ok(Outcome::known(known));
    }
    let started = Instant::now();
    let actual = content_md5(file, size)?;
    let checked = if actual == etag {
        verified::remember(file);
        verdicts.record(file, GOOD);
        Checked::Good
    } else {
        verdicts.record(file, BAD);
        Checked::Mismatch { actual }
    };
    Ok(Outcome {
        checked,
        hashed: Some(started.elapsed()),
    })
}

enum Turn<'f> {
    Known(Checked),
    /// Ours to check (the lock, or None if it could not be had in time).
    Mine(Option<Unlock<'f>>),
}

/// Releases the lock when the check is over, whatever happened.
struct Unlock<'f>(&'f File);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn wait_for_turn<'f>(verdicts: &Verdicts, file: &'f File) -> Turn<'f> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Turn::Mine(Some(Unlock(file))),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(_)) => return Turn::Mine(None),
        }
        if started.elapsed() >= LOCK_WAIT {
            return Turn::Mine(None);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(MAX_PAUSE);
        if let Some(known) = verdicts.known(file) {
            return Turn::Known(known);
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn slot_offset(key: &Key) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.dev.to_le_bytes().iter().chain(&key.ino.to_le_bytes()) {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % SLOTS) * SLOT as u64
}

fn checksum(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    h
}

fn encode(key: &Key, verdict: u8, at_ms: u64) -> [u8; SLOT] {
    let mut s = [0u8; SLOT];
    s[0..8].copy_from_slice(&key.dev.to_le_bytes());
    s[8..16].copy_from_slice(&key.ino.to_le_bytes());
    s[16..24].copy_from_slice(&key.size.to_le_bytes());
    s[24..32].copy_from_slice(&key.mtime_ns.0.to_le_bytes());
    s[32..40].copy_from_slice(&key.mtime_ns.1.to_le_bytes());
    s[40..48].copy_from_slice(&key.ctime_ns.0.to_le_bytes());
    s[48..52].copy_from_slice(&(key.ctime_ns.1 as u32).to_le_bytes());
    s[52..59].copy_from_slice(&at_ms.to_le_bytes()[..7]);
    s[59] = verdict;
    let sum = checksum(&s[..60]);
    s[60..64].copy_from_slice(&sum.to_le_bytes());
    s
}

/// The verdict a slot holds for `key` and its age, if it is intact, for
/// this version of the file, and younger than `TTL`.
fn decode(s: &[u8; SLOT], key: &Key, now_ms: u64) -> Option<(u8, Duration)> {
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let sum = u32::from_le_bytes([s[60], s[61], s[62], s[63]]);
    if sum != checksum(&s[..60]) {
        return None;
    }
    let same_bytes = u64_at(0) == key.dev
        && u64_at(8) == key.ino
        && u64_at(16) == key.size
        && u64_at(24) as i64 == key.mtime_ns.0
        && u64_at(32) as i64 == key.mtime_ns.1;
    let same_inode_state = u64_at(40) as i64 == key.ctime_ns.0
        && u32::from_le_bytes([s[48], s[49], s[50], s[51]]) == key.ctime_ns.1 as u32;
    let mut at = [0u8; 8];
    at[..7].copy_from_slice(&s[52..59]);
    let at_ms = u64::from_le_bytes(at);
    let verdict = s[59];
    let age = Duration::from_millis(now_ms.checked_sub(at_ms)?);
    let current = match verdict {
        GOOD => same_bytes && same_inode_state,
        BAD => same_bytes,
        _ => false,
    };
    (current && age < TTL).then_some((verdict, age))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn md5_hex(data: &[u8]) -> String {
        use md5::{Digest, Md5};
        crate::core::hex::hex(&Md5::digest(data))
    }

    fn file_with(data: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.data");
        File::create(&path).unwrap().write_all(data).unwrap();
        (dir, path)
    }

    #[test]
    fn slots_round_trip_and_reject_other_versions() {
        let key = Key {
            dev: 7,
            ino: 42,
            size: 1 << 30,
            mtime_ns: (1_700_000_000, 5),
            ctime_ns: (1_700_000_001, 6),
        };
        let s = encode(&key, GOOD, 1_000_000);
        assert_eq!(
            decode(&s, &key, 1_000_500),
            Some((GOOD, Duration::from_millis(500)))
        );
        assert_eq!(decode(&s, &key, 1_000_000 + 10_000), None, "expired");
        assert_eq!(decode(&s, &key, 999_999), None, "from the future");
        let renamed = Key {
            ctime_ns: (1_700_000_002, 0),
            ..key
        };
        assert_eq!(decode(&s, &renamed, 1_000_001), None);
        let bad = encode(&key, BAD, 1_000_000);
        assert_eq!(
            decode(&bad, &renamed, 1_000_001).map(|v| v.0),
            Some(BAD),
            "a bad verdict survives the quarantine's rename"
        );
        let written = Key {
            mtime_ns: (1_700_000_003, 0),
            ..key
        };
        assert_eq!(decode(&bad, &written, 1_000_001), None);
        let mut torn = s;
        torn[20] ^= 1;
        assert_eq!(decode(&torn, &key, 1_000_001), None);
        assert_eq!(decode(&[0u8; SLOT], &key, 1_000_001), None);
    }

    #[test]
    fn concurrent_checks_of_one_file_hash_it_once() {
        let root = tempfile::tempdir().unwrap();
        let data = vec![7u8; 3 << 20];
        let (_dir, path) = file_with(&data);
        let etag = md5_hex(&data);
        let verdicts = Arc::new(Verdicts::new(root.path()));
        let hashed = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (verdicts, hashed, path, etag) = (
                    Arc::clone(&verdicts),
                    Arc::clone(&hashed),
                    path.clone(),
                    etag.clone(),
                );
                std::thread::spawn(move || {
                    // Each request opens the file itself, as GETs do.
                    let file = File::open(&path).unwrap();
                    let out = check(&verdicts, &file, 3 << 20, &etag).unwrap();
                    if out.hashed.is_some() {
                        hashed.fetch_add(1, Ordering::SeqCst);
                    }
                    out.checked
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), Checked::Good);
        }
        assert_eq!(hashed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn another_process_finds_the_verdict_in_the_table() {
        let root = tempfile::tempdir().unwrap();
        let (_dir, path) = file_with(b"shared bytes");
        let etag = md5_hex(b"shared bytes");
        let first = Verdicts::new(root.path());
        let file = File::open(&path).unwrap();
        assert!(check(&first, &file, 12, &etag).unwrap().hashed.is_some());
        // A second table handle reads the same file, as another process
        // would; forget this process's own memory first.
        let key = verified::key(&file).unwrap();
        let second = Verdicts::new(root.path());
        let mut buf = [0u8; SLOT];
        second
            .table()
            .unwrap()
            .read_exact_at(&mut buf, slot_offset(&key))
            .unwrap();
        assert_eq!(decode(&buf, &key, now_ms()).map(|v| v.0), Some(GOOD));
    }

    #[test]
    fn a_mismatch_is_reported_to_the_waiters_without_hashing_again() {
        let root = tempfile::tempdir().unwrap();
        let (_dir, path) = file_with(b"rotten bytes");
        let verdicts = Verdicts::new(root.path());
        let file = File::open(&path).unwrap();
        let wrong = md5_hex(b"fresh bytes");
        let first = check(&verdicts, &file, 12, &wrong).unwrap();
        assert_eq!(
            first.checked,
            Checked::Mismatch {
                actual: md5_hex(b"rotten bytes")
            }
        );
        // Quarantine renames the file (its ctime moves on).
        let moved = path.with_extension("moved");
        std::fs::rename(&path, &moved).unwrap();
        let again = File::open(&moved).unwrap();
        let second = check(&verdicts, &again, 12, &wrong).unwrap();
        assert_eq!(second.checked, Checked::KnownBad);
        assert!(second.hashed.is_none());
    }
}
